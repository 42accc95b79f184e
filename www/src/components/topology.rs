//! The SVG canvas: links (clickable, with fault badges), nodes (services with their instances,
//! the broker with its queues), messages in flight and dropped messages falling off.

use super::cls;
use crate::format::{fault_badge, format_secs};
use crate::geometry::{
    lane, lerp, link_segment, right_normal, Layout, NodeBox, Point, LANE_OFFSET, NAME_CHAR_W,
    VIEW_H, VIEW_W,
};
use crate::rpc_marks::CallMark;
use crate::state::{Falling, Selection};
use msgsim::outbox::view::{RelayState, WindowState};
use msgsim::outbox::{MarkMode, RelayMode};
use msgsim::resilience::circuit_breaker::CircuitBreakerState as BreakerState;
use msgsim::scenario::{DuplicateHandling, NodeKind};
use msgsim::snapshot::{BrokerView, InstanceStatus, LinkView, NodeView, TransitView};
use msgsim::sync::ProxyView;
use msgsim::Snapshot;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`Topology`].
#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    /// What to draw.
    pub snapshot: Rc<Snapshot>,
    /// Where.
    pub layout: Rc<Layout>,
    /// Dropped messages falling.
    pub falling: Rc<Vec<Falling>>,
    /// Highlighted link or node.
    pub selection: Option<Selection>,
    /// A link or node was clicked.
    pub on_select: Callback<Selection>,
    /// An instance dot was clicked: (node index, instance).
    pub on_instance: Callback<(usize, u32)>,
    /// Recent outcomes of synchronous calls (retries, timeouts, rejections, fallbacks,
    /// failures), newest first ([`crate::rpc_marks::recent`]).
    #[prop_or_default]
    pub marks: Rc<Vec<CallMark>>,
}

fn f1(v: f64) -> String {
    crate::format::fixed(v, 1)
}

/// An SVG `<text>` (one out-of-line helper rather than many inlined copies: smaller wasm).
#[inline(never)]
fn text(class: &'static str, x: f64, y: f64, content: Html) -> Html {
    html! { <text class={class} x={f1(x)} y={f1(y)}>{ content }</text> }
}

/// The node's name for a canvas drawn too small for its lines (`.far`: phones, small
/// widgets): centred near the top of its box, a long hyphenated name (`payments-a`) on two lines
/// so it stays inside the box, and `sub` (class, text: a breaker's state, duplicate effects)
/// under it, the one state worth seeing at that size. Hidden otherwise (CSS).
fn far_name(name: &str, b: &NodeBox, sub: Option<(&'static str, String)>) -> Html {
    let cx = b.center.x;
    let top = b.top() + 20.0;
    let sub = sub.map(|(class, t)| {
        html! { <text class={cls("node-sub-far", &[(true, class)])} x={f1(cx)} y={f1(b.bottom() - 20.0)}>{ t }</text> }
    });
    let name = match name.split_once('-').filter(|_| name.chars().count() > 8) {
        Some((head, tail)) => html! {
            <text class="node-name-far" x={f1(cx)} y={f1(top)}>
                <tspan x={f1(cx)}>{ format!("{head}-") }</tspan>
                <tspan x={f1(cx)} dy="1.05em">{ tail }</tspan>
            </text>
        },
        None => html! { <text class="node-name-far" x={f1(cx)} y={f1(top)}>{ name }</text> },
    };
    html! { <>{ name }{ for sub }</> }
}

thread_local! {
    /// CSS px per canvas unit of the canvas being drawn (at most 1; see
    /// [`crate::subsystems::story::zoom::TextScale`]), set by [`topology`] before it draws the
    /// boxes, read by [`fitted`].
    static TEXT_SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(1.0) };
}

/// A line of a box (`class`, at `x`, `y`) that must fit `room` px: when its estimated width
/// (`em` px per character) is larger, the browser squeezes it to `room` (`textLength`). On a
/// canvas drawn small the stylesheet grows the line's font to 11 CSS px (font ≈ `em` / 0.55
/// units at its own size), and the estimate grows with it.
#[inline(never)]
fn fitted(
    class: String,
    x: f64,
    y: f64,
    content: String,
    room: f64,
    em: f64,
    testid: Option<String>,
) -> Html {
    let zs = TEXT_SCALE.with(|t| t.get());
    let growth = (11.0 / (zs * em / 0.55)).max(1.0);
    let too_wide = content.chars().count() as f64 * em * growth > room;
    html! {
        <text class={class} x={f1(x)} y={f1(y)} data-testid={testid}
              textLength={too_wide.then(|| f1(room))} lengthAdjust={too_wide.then_some("spacingAndGlyphs")}>{ content }</text>
    }
}

fn translate(p: Point) -> String {
    format!("translate({} {})", f1(p.x), f1(p.y))
}

/// The shape of a message kind, centred on (0, 0): about 8 px in radius in the 1000 × 600 box.
pub fn kind_shape(kind: &str, class: &'static str) -> Html {
    let class = cls("shape", &[(true, class)]);
    let d = match kind {
        "event" => return html! { <circle class={class} r="8" /> },
        "command" => "M-7.5 -7.5 H7.5 V7.5 H-7.5 Z",
        "ack" => "M0 -7 L7 0 L0 7 L-7 0 Z",
        "nack" => "M-6 -6 L6 6 M6 -6 L-6 6",
        "reply" => "M-8.5 7 L0 -8.5 L8.5 7 Z",
        "document" => "M-6.5 -8.5 H3 L7 -4.5 V8.5 H-6.5 Z",
        // HTTP: a request is a tag pointing the way it goes (drawn along x), a response a
        // rounded box coloured by its status class, a reset (connection refused) a cross.
        "request" => "M-8 -6 H3 L8.5 0 L3 6 H-8 Z",
        "response" => "M-7 -6.5 H7 Q8.5 -6.5 8.5 -5 V5 Q8.5 6.5 7 6.5 H-7 Q-8.5 6.5 -8.5 5 V-5 Q-8.5 -6.5 -7 -6.5 Z",
        "reset" => "M-6 -6 L6 6 M6 -6 L-6 6",
        _ => return html! { <circle class={class} r="6" /> },
    };
    html! { <path class={class} d={d} /> }
}

/// For a message with a schema on its way to a consumer that cannot read its writer version:
/// `Some("✗ 2.0.0")`; for a nack carrying one: `Some("rejected")`.
pub fn schema_tag(snap: &Snapshot, t: &TransitView) -> Option<String> {
    let sc = snap.schemas.as_ref()?;
    let w = t.wire.as_ref()?;
    let (consumer, word) = if t.kind == "nack" {
        (&t.from, "✗ rejected ")
    } else {
        (&t.to, "✗ ")
    };
    let breaks = sc
        .compatibility
        .iter()
        .any(|k| k.consumer == *consumer && k.writer_version == w.version && !k.reads);
    breaks.then(|| format!("{word}{}", w.version))
}

/// The colour class of an HTTP status: `http-2xx`, `http-3xx`, `http-4xx`, `http-5xx`.
pub fn http_status_class(status: u16) -> &'static str {
    match status {
        500.. => "http-5xx",
        400..=499 => "http-4xx",
        300..=399 => "http-3xx",
        _ => "http-2xx",
    }
}

fn falling(f: &Falling) -> Html {
    html! {
        <g key={format!("fall-{}", f.transit)} data-testid="falling" class="falling"
           data-reason={f.reason.as_str()} transform={translate(f.at)}>
            <g class="fall-anim">
                { kind_shape(f.kind, "body") }
                <text class="cross" y="5">{ "✕" }</text>
            </g>
        </g>
    }
}

fn link(
    i: usize,
    view: &LinkView,
    a: &NodeBox,
    b: &NodeBox,
    selected: bool,
    direct: Option<&String>,
    on_select: &Callback<Selection>,
) -> Html {
    let (p, q) = link_segment(a, b);
    let ab = lane(a, b, LANE_OFFSET);
    let ba = lane(b, a, LANE_OFFSET);
    let onclick = {
        let on_select = on_select.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_select.emit(Selection::Link(i))
        })
    };
    let faulty = view.a_to_b != view.b_to_a || fault_badge(&view.a_to_b).is_some();
    let cut = view.a_to_b.partitioned || view.b_to_a.partitioned;
    let held = view.a_to_b.held || view.b_to_a.held;
    let testid = format!("link-{}-{}", view.a, view.b);
    let direct_label = direct.map(|ch| {
        let label = format!("direct: {ch} (no broker)");
        // Far enough from the line that neither end of the (horizontal) label touches it.
        let m = lerp(p, q, 0.5);
        let n = right_normal(a.center, b.center);
        let d = 14.0 + 3.4 * label.chars().count() as f64 * n.x.abs();
        text(
            "direct-label",
            m.x - n.x * d,
            m.y - n.y * d + 4.0,
            html! { label },
        )
    });
    let label = format!("Link {} ↔ {} (click to select)", view.a, view.b);
    html! {
        <g key={testid.clone()} data-testid={testid}
           class={cls("link", &[(selected, "selected"), (faulty, "faulty"), (cut, "cut"), (held, "held"), (direct.is_some(), "direct")])}
           {onclick} role="button" aria-label={label.clone()}>
            <title>{ label }</title>
            <line class="link-hit" x1={f1(p.x)} y1={f1(p.y)} x2={f1(q.x)} y2={f1(q.y)} />
            <line class="link-line" x1={f1(p.x)} y1={f1(p.y)} x2={f1(q.x)} y2={f1(q.y)} />
            <path class="lane" d={ab.path()} />
            <path class="lane" d={ba.path()} />
            { direct_label }
        </g>
    }
}

/// Where a link's fault badges go and what they say: one badge beside the link when both
/// directions agree, else one per direction, on the outer side of its own lane.
pub fn badge_spots(view: &LinkView, a: &NodeBox, b: &NodeBox) -> Vec<(Point, String)> {
    let out = |p: Point, n: Point, k: f64| Point::new(p.x + n.x * k, p.y + n.y * k);
    let n_ab = right_normal(a.center, b.center);
    let n_ba = right_normal(b.center, a.center);
    match (fault_badge(&view.a_to_b), fault_badge(&view.b_to_a)) {
        (Some(x), Some(y)) if x == y => {
            let (p, q) = link_segment(a, b);
            vec![(out(lerp(p, q, 0.5), n_ba, 22.0), x)]
        }
        (x, y) => {
            let mut v = Vec::new();
            if let Some(x) = x {
                let mid = lane(a, b, LANE_OFFSET).at(0.5);
                v.push((out(mid, n_ab, 14.0), format!("→ {x}")));
            }
            if let Some(y) = y {
                let mid = lane(b, a, LANE_OFFSET).at(0.5);
                v.push((out(mid, n_ba, 14.0), format!("← {y}")));
            }
            v
        }
    }
}

fn badges(
    i: usize,
    view: &LinkView,
    a: &NodeBox,
    b: &NodeBox,
    on_select: &Callback<Selection>,
) -> Html {
    let spots = badge_spots(view, a, b);
    if spots.is_empty() {
        return html! {};
    }
    let onclick = {
        let on_select = on_select.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_select.emit(Selection::Link(i))
        })
    };
    html! {
        <g key={format!("badges-{i}")} class="badges" {onclick}>
            { for spots.into_iter().enumerate().map(|(k, (at, text))| {
                let w = 12.0 + 6.2 * text.chars().count() as f64;
                html! {
                    <g key={k.to_string()} class="fault-badge" data-testid="fault-badge" transform={translate(at)}>
                        <rect x={f1(-w / 2.0)} y="-10" width={f1(w)} height="20" rx="10" />
                        <text y="4">{ text }</text>
                    </g>
                }
            }) }
        </g>
    }
}

fn status_class(s: InstanceStatus) -> &'static str {
    match s {
        InstanceStatus::Up => "up",
        InstanceStatus::Paused => "paused",
        InstanceStatus::Crashed => "crashed",
    }
}

fn status_word(s: InstanceStatus) -> &'static str {
    match s {
        InstanceStatus::Up => "up",
        InstanceStatus::Paused => "paused",
        InstanceStatus::Crashed => "crashed",
    }
}

/// The instance dots of a node (clickable), from `x` along the row at `y`.
fn instances(i: usize, n: &NodeView, x: f64, y: f64, props: &TopologyProps) -> Html {
    html! { for n.instances.iter().map(|inst| {
        let cx = x + inst.index as f64 * crate::geometry::INSTANCE_PITCH;
        let k = inst.index;
        let cb = props.on_instance.clone();
        let onclick = Callback::from(move |e: MouseEvent| { e.stop_propagation(); cb.emit((i, k)); });
        let tip = format!("{}#{}: {}{}, inbox {}, pending publishes {}", n.name, k, status_word(inst.status),
            if inst.busy { ", busy" } else { "" }, inst.inbox, inst.pending_publishes);
        html! {
            <g key={k.to_string()} data-testid={format!("instance-{}-{}", n.name, k)}
               data-status={status_word(inst.status)}
               class={cls("instance", &[(true, status_class(inst.status)), (inst.busy, "busy")])} {onclick}>
                <title>{ tip }</title>
                <circle class="ring" cx={f1(cx)} cy={f1(y)} r="10" />
                <circle class="dot" cx={f1(cx)} cy={f1(y)} r="7" />
                if inst.status == InstanceStatus::Crashed {
                    { text("dot-mark", cx, y + 3.0, html! { "✕" }) }
                } else if inst.status == InstanceStatus::Paused {
                    { text("dot-mark", cx, y + 3.0, html! { "❚❚" }) }
                }
                if inst.inbox > 0 {
                    { text("inbox", cx, y + 17.5, html! { inst.inbox }) }
                }
            </g>
        }
    }) }
}

/// What a synchronous service's box says: `(sub, counters, second line)`. A server: requests
/// served, in flight against its concurrency limit (workers × instances), queued; a client:
/// calls, ok, failed, then timeouts, rejections and fallbacks. A service that is both (a
/// server whose endpoints call downstream) shows its server line and then its calls.
pub fn rpc_lines(
    n: &NodeView,
    proxies: &[&ProxyView],
    workers: Option<u32>,
    client: bool,
    blocked: usize,
) -> (String, String, String) {
    let mut c = msgsim::sync::ClientMetrics::default();
    for p in proxies {
        let m = &p.metrics;
        c.calls += m.calls;
        c.successes += m.successes;
        c.failures += m.failures;
        c.timeouts += m.timeouts;
        c.rejected_by_breaker += m.rejected_by_breaker;
        c.rejected_by_bulkhead += m.rejected_by_bulkhead;
        c.rejected_by_limiter += m.rejected_by_limiter;
        c.fallbacks += m.fallbacks;
        c.retries += m.retries + m.app_retries;
    }
    let has_fallback = c.fallbacks > 0 || proxies.iter().any(|p| p.fallback);
    let calls = if has_fallback {
        format!(
            "calls {} · ok {} · fallback {} · failed {}",
            c.calls, c.successes, c.fallbacks, c.failures
        )
    } else {
        format!(
            "calls {} · ok {} · failed {}",
            c.calls, c.successes, c.failures
        )
    };
    let rejected = c.rejected_by_breaker + c.rejected_by_bulkhead + c.rejected_by_limiter;
    let mut outcomes = format!("timeouts {} · rejected {rejected}", c.timeouts);
    if c.retries > 0 {
        outcomes.push_str(&format!(" · ↻{}", c.retries));
    }
    // Synchronous: each call in progress is a caller of this service blocked until it ends.
    if client {
        outcomes.push_str(&format!(" · blocked {blocked}"));
    }
    let breaker = proxies
        .iter()
        .filter_map(|p| p.breaker.as_ref())
        .map(|b| b.state)
        .max_by_key(|s| breaker_rank(*s));
    let sub = match (breaker, n.api_level) {
        (Some(st), _) => format!("breaker {}", st.name()),
        (None, Some(l)) if n.server.is_some() => format!("REST L{l}"),
        _ if client => "client".to_string(),
        _ => "server".to_string(),
    };
    match &n.server {
        Some(sm) => {
            let busy: u32 = n.instances.iter().map(|i| i.workers_busy).sum();
            let queued: u32 = n.instances.iter().map(|i| i.request_queue).sum();
            let limit = workers.unwrap_or(0) * n.instances.len() as u32;
            let first = format!(
                "served {} · in flight {busy}/{limit} · queue {queued}",
                sm.served
            );
            let second = if client && blocked > 0 {
                format!("{calls} · blocked {blocked}")
            } else if client {
                calls
            } else {
                let mut s = format!(
                    "2xx {} · 4xx {} · 5xx {}",
                    sm.ok, sm.client_errors, sm.server_errors
                );
                if sm.rejected_overload > 0 {
                    s.push_str(&format!(" · 503 full {}", sm.rejected_overload));
                }
                if sm.refused > 0 {
                    s.push_str(&format!(" · refused {}", sm.refused));
                }
                s
            };
            (sub, first, second)
        }
        None => (sub, calls, outcomes),
    }
}

/// How a box's call counters add up (its tooltip): a client's failures split into timeouts,
/// rejections and error answers; a server's `served` counts every answer it sent, also those
/// that came after the caller had given up.
fn rpc_why(n: &NodeView, proxies: &[&ProxyView]) -> String {
    let mut out = String::new();
    if !proxies.is_empty() {
        let sum = |f: fn(&msgsim::sync::ClientMetrics) -> u64| -> u64 {
            proxies.iter().map(|p| f(&p.metrics)).sum()
        };
        let (calls, ok, failed, fallbacks) = (
            sum(|m| m.calls),
            sum(|m| m.successes),
            sum(|m| m.failures),
            sum(|m| m.fallbacks),
        );
        let timeouts = sum(|m| m.timeouts);
        let rejected =
            sum(|m| m.rejected_by_breaker + m.rejected_by_bulkhead + m.rejected_by_limiter);
        out.push_str(&format!(
            ". Its calls: {calls} made, {ok} ok, {fallbacks} answered by a fallback, {failed} failed; of the failures and fallbacks, {timeouts} timed out (no answer within the time limit: the callee may still answer later, and count it as served) and {rejected} were rejected before being sent; the rest got an error answer or were refused"
        ));
    }
    if let Some(sv) = &n.server {
        out.push_str(&format!(
            ". As a server it answered {} requests (served), counted when it answers, including answers its caller no longer waited for",
            sv.served
        ));
    }
    out
}

/// Worse states rank higher (the box names its worst breaker).
fn breaker_rank(s: BreakerState) -> u8 {
    match s {
        BreakerState::Closed => 0,
        BreakerState::Disabled | BreakerState::MetricsOnly => 1,
        BreakerState::HalfOpen => 2,
        BreakerState::ForcedOpen => 3,
        BreakerState::Open => 4,
    }
}

/// Colour rings around a client instance's dot, one per circuit breaker of its proxies
/// (CLOSED green, OPEN red, HALF_OPEN amber, FORCED_OPEN red dashed, DISABLED/METRICS_ONLY
/// grey dashed), each with an accessible label.
fn breaker_rings(n: &NodeView, proxies: &[&ProxyView], x: f64, y: f64) -> Html {
    html! { for n.instances.iter().map(|inst| {
        let cx = x + inst.index as f64 * crate::geometry::INSTANCE_PITCH;
        let mine = proxies.iter().filter(|p| p.instance == inst.index).filter_map(|p| Some((p, p.breaker.as_ref()?)));
        html! { for mine.take(2).enumerate().map(|(j, (p, b))| {
            let label = format!("circuit breaker of {}#{} → {}: {}", p.client, p.instance, p.service, b.state.name());
            let forced = matches!(b.state, BreakerState::ForcedOpen);
            html! {
                <g key={format!("br-{}-{}", inst.index, p.service)} role="img" aria-label={label.clone()}
                   class={cls("breaker-ring", &[(true, super::sync_view::state_class(b.state)), (forced, "forced")])}
                   data-testid={format!("breaker-ring-{}-{}-{}", p.client, p.instance, p.service)}
                   data-state={b.state.name()}>
                    <title>{ label }</title>
                    <circle cx={f1(cx)} cy={f1(y)} r={f1(11.5 + 3.5 * j as f64)} />
                </g>
            }
        }) }
    }) }
}

/// A service with an API or RPI proxies: what it is (server, client, breaker state) instead of
/// producer counters.
fn rpc_service(
    i: usize,
    n: &NodeView,
    b: &NodeBox,
    selected: bool,
    props: &TopologyProps,
    proxies: &[&ProxyView],
    client: bool,
) -> Html {
    let (x0, y0, w, h) = (b.left(), b.top(), b.width(), b.height());
    let onclick = {
        let cb = props.on_select.clone();
        Callback::from(move |_| cb.emit(Selection::Node(i)))
    };
    let workers = props.layout.api_workers.get(i).copied().flatten();
    let blocked = props
        .snapshot
        .calls
        .iter()
        .filter(|c| c.client == n.name)
        .count();
    let (sub, first, second) = rpc_lines(n, proxies, workers, client, blocked);
    // Beside clients with a breaker, say which ones have none (circuit-breaker's chain A).
    let sub = if sub == "client" && props.snapshot.proxies.iter().any(|p| p.breaker.is_some()) {
        "no breaker".to_string()
    } else {
        sub
    };
    let worst = proxies
        .iter()
        .filter_map(|p| p.breaker.as_ref())
        .map(|b| b.state)
        .max_by_key(|s| breaker_rank(*s));
    let sub_class = cls(
        "node-sub end",
        &[(
            worst.is_some(),
            worst.map(super::sync_view::state_class).unwrap_or_default(),
        )],
    );
    let role = match (n.server.is_some(), client) {
        (true, true) => "REST server and client",
        (true, false) => "REST server",
        _ => "RPI client",
    };
    let failing = second.contains("failed") && !second.contains("failed 0");
    html! {
        <g key={n.name.clone()} data-testid={format!("node-{}", n.name)} data-role={role}
           class={cls("node service rpc", &[(selected, "selected")])} {onclick}>
            <title>{ format!("{} ({role}), {} instance(s){}", n.name, n.instances.len(), rpc_why(n, proxies)) }</title>
            <rect class="node-box" x={f1(x0)} y={f1(y0)} width={f1(w)} height={f1(h)} rx="12" />
            { text("node-name", x0 + 12.0, y0 + 22.0, html! { &n.name }) }
            { far_name(&n.name, b, worst.map(|st| (super::sync_view::state_class(st), st.name().to_string()))) }
            { breaker_rings(n, proxies, x0 + 20.0, y0 + 44.0) }
            { instances(i, n, x0 + 20.0, y0 + 44.0, props) }
            { fitted(sub_class, x0 + w - 12.0, y0 + 48.0, sub, (w - 56.0 - crate::geometry::INSTANCE_PITCH * n.instances.len() as f64).max(40.0), 6.3, Some(format!("rpc-sub-{}", n.name))) }
            { fitted("node-counters".into(), x0 + 12.0, y0 + 72.0, first, w - 22.0, 6.3, Some(format!("rpc-counters-{}", n.name))) }
            { fitted(cls("node-effect rpc-line", &[(failing, "failing")]), x0 + 12.0, y0 + 88.0, second, w - 22.0, 6.9, Some(format!("effect-{}", n.name))) }
        </g>
    }
}

/// Recent call outcomes of a node and the calls it is backing off, as chips above its box (or
/// below it when the box is at the top of the canvas).
fn call_marks(n: &NodeView, b: &NodeBox, props: &TopologyProps) -> Html {
    let snap = &props.snapshot;
    let mut chips: Vec<(String, &'static str, String, String)> = snap
        .calls
        .iter()
        .filter(|c| c.client == n.name && matches!(c.stage, "backoff" | "app_backoff"))
        .filter_map(|c| {
            let until = c.until?;
            let left = until.0.saturating_sub(snap.time.0);
            let next = if c.stage == "app_backoff" {
                c.app_attempt + 1
            } else {
                c.attempt + 1
            };
            let text = format!(
                "⋯ c{} attempt {next} in {}",
                c.id,
                crate::format::format_us(left)
            );
            Some((
                format!("wait-{}", c.id),
                "mark-backoff",
                text.clone(),
                format!(
                    "{}#{} c{} waits (backoff) until {}: {text}",
                    c.client,
                    c.instance,
                    c.id,
                    format_secs(until)
                ),
            ))
        })
        .take(2)
        .collect();
    for m in props.marks.iter().filter(|m| m.node == n.name) {
        chips.push((
            format!("m-{}", m.seq),
            m.kind.class(),
            format!("{} {}", m.kind.icon(), m.kind.text()),
            m.label(),
        ));
    }
    if chips.is_empty() {
        return html! {};
    }
    let below = b.top() < 70.0;
    html! {
        <g key={format!("marks-{}", n.name)} class="call-marks" data-testid={format!("call-marks-{}", n.name)}>
            { for chips.into_iter().take(4).enumerate().map(|(k, (key, class, text, label))| {
                let w = 14.0 + 6.4 * text.chars().count() as f64;
                // Above the box, clear of the RPI proxy / server adapter badges on its top border.
                let y = if below { b.bottom() + 14.0 + 19.0 * k as f64 } else { b.top() - 31.0 - 19.0 * k as f64 };
                let x = b.left() + 4.0 + w / 2.0;
                html! {
                    <g key={key} class={cls("call-mark", &[(true, class)])} data-testid="call-mark" role="img"
                       aria-label={label.clone()} transform={translate(Point::new(x, y))}>
                        <title>{ label }</title>
                        <rect x={f1(-w / 2.0)} y="-8.5" width={f1(w)} height="17" rx="8.5" />
                        <text y="4">{ text }</text>
                    </g>
                }
            }) }
        </g>
    }
}

/// A producer's current writer version(s) on channels with schemas: `writes 1.1.0`.
pub fn writes(snap: &Snapshot, node: &str) -> Option<String> {
    let sc = snap.schemas.as_ref()?;
    let v: Vec<&str> = sc
        .producers
        .iter()
        .filter(|p| p.node == node)
        .map(|p| p.version.as_str())
        .collect();
    (!v.is_empty()).then(|| format!("writes {}", v.join(", ")))
}

/// One channel a consumer reads with a schema, as drawn on its box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractMark {
    /// It reads every version the producers write now.
    pub ok: bool,
    /// On the box: `1.0.0 strict ✗ 1.1.0`.
    pub short: String,
    /// In words: `reader 1.0.0 strict ✗ breaks on 1.1.0 · 8 rejected`.
    pub text: String,
    /// Hover text and accessible label.
    pub label: String,
    /// Deliveries it rejected so far.
    pub rejected: u64,
}

/// What a consumer of a channel with schemas understands now: per channel it reads, its reader
/// version and mode, the producers' current version, and whether it reads that version
/// (`✓ reads 1.1.0` / `✗ breaks on 2.0.0`), with its rejections so far. From the
/// compatibility table, which is known before anything flows.
pub fn contract_marks(snap: &Snapshot, node: &str) -> Vec<ContractMark> {
    let Some(sc) = &snap.schemas else {
        return Vec::new();
    };
    sc.consumers
        .iter()
        .filter(|c| c.consumer == node)
        .map(|c| {
            let writers: Vec<&str> = sc
                .producers
                .iter()
                .filter(|p| p.channel == c.channel)
                .map(|p| p.version.as_str())
                .collect();
            let reads = |v: &str| {
                sc.compatibility
                    .iter()
                    .find(|k| k.channel == c.channel && k.consumer == c.consumer && k.writer_version == v)
                    .is_none_or(|k| k.reads)
            };
            let broken: Vec<&str> = writers.iter().copied().filter(|v| !reads(v)).collect();
            let mode = format!("{:?}", c.mode).to_lowercase();
            let ok = broken.is_empty();
            let text = if ok {
                format!("reader {} {mode} ✓ reads {}", c.reader_version, writers.join(", "))
            } else {
                format!("reader {} {mode} ✗ breaks on {}", c.reader_version, broken.join(", "))
            };
            let label = format!(
                "{} reads {} with schema {} ({mode}); the producer writes {} now: {}; so far {} accepted, {} rejected{}",
                c.consumer,
                c.channel,
                c.reader_version,
                writers.join(", "),
                if ok { "understood" } else { "not understood, rejected and dead-lettered" },
                c.accepted,
                c.rejected,
                c.last_reason.as_deref().map(|r| format!(" (last: {r})")).unwrap_or_default()
            );
            let short = if ok {
                format!("{} {mode} ✓ {}", c.reader_version, writers.join(", "))
            } else {
                format!("{} {mode} ✗ {}", c.reader_version, broken.join(", "))
            };
            let text = if c.rejected > 0 { format!("{text} · {} rejected", c.rejected) } else { text };
            ContractMark { ok, short, text, label, rejected: c.rejected }
        })
        .collect()
}

/// The consumer's reader version and whether it reads what is written now, in the top right
/// corner of its box (the first channel it reads with a schema).
fn contract_badge(n: &NodeView, b: &NodeBox, snap: &Snapshot) -> Html {
    let Some(m) = contract_marks(snap, &n.name).into_iter().next() else {
        return html! {};
    };
    let room = (b.width() - 30.0 - NAME_CHAR_W * n.name.chars().count() as f64).max(60.0);
    let w = (12.0 + 6.4 * m.short.chars().count() as f64).min(room);
    let (xr, y) = (b.left() + b.width() - 8.0, b.top() + 17.0);
    html! {
        <g class={cls("contract-mark", &[(m.ok, "reads"), (!m.ok, "breaks")])} role="img" aria-label={m.label.clone()}
           data-testid={format!("contract-{}", n.name)} data-reads={m.ok.to_string()}>
            <title>{ m.label.clone() }</title>
            <rect x={f1(xr - w)} y={f1(y - 9.5)} width={f1(w)} height="17" rx="4" />
            { fitted("contract-text".into(), xr - w + 6.0, y + 3.0, m.short, w - 12.0, 6.4, None) }
        </g>
    }
}

/// Whether a message relay reads the database of node `i`.
fn layout_has_relay(props: &TopologyProps, i: usize) -> bool {
    props.layout.relays.iter().any(|&(_, s, _)| s == i)
}

fn service(i: usize, n: &NodeView, b: &NodeBox, selected: bool, props: &TopologyProps) -> Html {
    let client = props.layout.rpc_client.get(i).copied().unwrap_or(false);
    if client || n.server.is_some() {
        let proxies: Vec<&ProxyView> = props
            .snapshot
            .proxies
            .iter()
            .filter(|p| p.client == n.name)
            .collect();
        return rpc_service(i, n, b, selected, props, &proxies, client);
    }
    let (x0, y0, w, h) = (b.left(), b.top(), b.width(), b.height());
    let onclick = {
        let cb = props.on_select.clone();
        Callback::from(move |_| cb.emit(Selection::Node(i)))
    };
    let m = &n.metrics;
    let tx = &props.snapshot.transactional;
    let consumer = props.layout.consumer.get(i).copied().unwrap_or(true);
    let requester = crate::components::receivers::only_replies(n);
    let producer = !consumer || requester || (m.processed == 0 && m.published > 0);
    let db = tx.databases.iter().find(|d| d.service == n.name);
    let client: Vec<_> = tx.requests.iter().filter(|r| r.client == n.name).collect();
    let per_tick = props.layout.per_tick.get(i).cloned().flatten();
    // What the effect line counts: a producer its orders (workload ticks: messages / messages
    // per tick), a database producer its committed business rows, a receiver its effects.
    let mut why: Option<String> = None;
    let effect_count = match (producer, db, &per_tick) {
        (true, Some(_), _) => {
            crate::components::metrics::producer_count(n, db, None, layout_has_relay(props, i))
        }
        (true, None, Some((k, channels))) => {
            why = Some(format!(
                "Each order publishes {k} messages ({}), so published counts {} messages for {} orders.",
                channels.join(", "),
                m.published,
                m.published / k
            ));
            m.published / k
        }
        (true, None, None) => m.published,
        (false, _, _) => m.effects,
    };
    let label = if n.effect.is_empty() {
        "effects"
    } else {
        n.effect.as_str()
    };
    let mut effect = match &per_tick {
        Some((k, _)) if producer && db.is_none() => {
            format!("{label} {effect_count} · ×{k} messages")
        }
        _ => format!("{label} {effect_count}"),
    };
    let doubled = !producer && m.effects > m.effects_expected;
    let counters = if let (Some(last), true) = (client.last(), producer) {
        effect = format!("last: {} {}", last.key, last.status);
        format!(
            "requests {} · finished {}",
            client.len(),
            client.iter().filter(|r| r.done).count()
        )
    } else if let (Some(d), true) = (db, producer) {
        why = Some(format!(
            "{label} {effect_count} counts its committed business changes ({}), as the Inside tab does. Commits count every committed transaction ({}), rollbacks the ones undone: {} attempts were rolled back and saved nothing.",
            if d.metrics.outbox_rows > 0 || layout_has_relay(props, i) {
                "one OUTBOX row each, inserts and updates alike"
            } else {
                "one committed transaction each"
            },
            if d.metrics.outbox_rows > 0 || layout_has_relay(props, i) {
                "the order inserts with their OUTBOX rows, and the relay's updates marking rows published"
            } else {
                "one per saved order"
            },
            d.metrics.rolled_back
        ));
        format!(
            "commits {} · rollbacks {}",
            d.metrics.committed, d.metrics.rolled_back
        )
    } else if producer {
        format!(
            "published {} · confirmed {}{}",
            m.published,
            m.confirmed,
            if m.retried > 0 {
                format!(" · ↻{}", m.retried)
            } else {
                String::new()
            }
        )
    } else {
        let rejected: u64 = contract_marks(&props.snapshot, &n.name)
            .iter()
            .map(|c| c.rejected)
            .sum();
        let mut line = format!("processed {} · effects {}", m.processed, m.effects);
        if rejected > 0 {
            line.push_str(&format!(" · rejected {rejected}"));
        }
        if doubled {
            let extra = m.effects - m.effects_expected;
            line.push_str(&format!(" · {extra} duplicate"));
            why = Some(format!(
                "{} distinct messages handled ({} handler runs); {} effects applied where exactly-once would give {}: {extra} duplicate effect(s), applied twice by a naive receiver.",
                m.distinct, m.processed, m.effects, m.effects_expected
            ));
        } else if m.processed > m.distinct {
            why = Some(format!(
                "processed counts handler runs: {} distinct messages, {} repeats ({}).",
                m.distinct,
                m.processed - m.distinct,
                match n.duplicates {
                    DuplicateHandling::Dedup => "discarded by deduplication",
                    DuplicateHandling::Idempotent => "idempotent: no second effect",
                    DuplicateHandling::Naive => "redeliveries",
                }
            ));
        }
        line
    };
    let handling = match (consumer, n.duplicates) {
        _ if requester => "requester",
        (false, _) if !client.is_empty() => "client",
        (false, _) => "producer",
        (true, DuplicateHandling::Naive) => "naive",
        (true, DuplicateHandling::Dedup) => "dedup",
        (true, DuplicateHandling::Idempotent) => "idempotent",
    };
    html! {
        <g key={n.name.clone()} data-testid={format!("node-{}", n.name)}
           class={cls("node service", &[(selected, "selected")])} {onclick}>
            <title>{ format!("{} ({}), {} instance(s){}", n.name, if consumer { format!("{handling} receiver") } else { handling.to_string() }, n.instances.len(),
                why.as_ref().map(|w| format!(". {w}")).unwrap_or_default()) }</title>
            <rect class="node-box" x={f1(x0)} y={f1(y0)} width={f1(w)} height={f1(h)} rx="12" />
            { text("node-name", x0 + 12.0, y0 + 22.0, html! { &n.name }) }
            { far_name(&n.name, b, doubled.then(|| ("doubled", format!("{} duplicate", m.effects - m.effects_expected)))) }
            { contract_badge(n, b, &props.snapshot) }
            { instances(i, n, x0 + 20.0, y0 + 44.0, props) }
            { text("node-sub end", x0 + w - 12.0, y0 + 48.0, html! { writes(&props.snapshot, &n.name).unwrap_or_else(|| handling.to_string()) }) }
            { fitted(cls("node-counters", &[(doubled, "doubled")]), x0 + 12.0, y0 + 72.0, counters, w - 22.0, 6.3, None) }
            { fitted(cls("node-effect", &[(doubled, "doubled")]), x0 + 12.0, y0 + 88.0, effect, w - 22.0, 7.9, Some(format!("effect-{}", n.name))) }
        </g>
    }
}

/// What an infrastructure box says, `(kind, counters, second line)`, from its own counters:
/// a service registry its entries (stale ones: listed but not up) and leases; a router what it
/// forwarded and the instances it knows; a registrar the instances it registered; a schema
/// registry its schemas and the lookups it answered. Never a producer's counters.
pub fn infra_lines(n: &NodeView, snap: &Snapshot) -> (String, String, String) {
    match n.kind {
        NodeKind::Registry => {
            let entries: Vec<_> = snap
                .registries
                .iter()
                .filter(|r| r.node == n.name)
                .flat_map(|r| r.entries.iter())
                .collect();
            let stale = entries
                .iter()
                .filter(|e| e.actual != InstanceStatus::Up)
                .count();
            let mut services: Vec<&str> = entries.iter().map(|e| e.service.as_str()).collect();
            services.dedup();
            let listed = if services.is_empty() {
                "no entries".to_string()
            } else {
                services
                    .iter()
                    .map(|s| {
                        let ids: Vec<String> = entries
                            .iter()
                            .filter(|e| e.service == *s)
                            .map(|e| format!("#{}", e.info.instance))
                            .collect();
                        format!("{s} {}", ids.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            };
            (
                "service registry".into(),
                format!("entries {} · stale {stale}", entries.len()),
                listed,
            )
        }
        NodeKind::Router => {
            let r = snap.routers.iter().find(|r| r.node == n.name);
            match r {
                Some(r) => {
                    let ids: Vec<String> = r
                        .endpoints
                        .instances
                        .iter()
                        .map(|i| format!("#{}", i.instance))
                        .collect();
                    (
                        "router".into(),
                        format!("routed {} · pending {}", r.routed, r.pending),
                        format!(
                            "→ {} {}",
                            r.service,
                            if ids.is_empty() {
                                "(no endpoints)".to_string()
                            } else {
                                ids.join(" ")
                            }
                        ),
                    )
                }
                None => ("router".into(), "routed 0".into(), String::new()),
            }
        }
        NodeKind::Registrar => {
            let by_me: Vec<_> = snap
                .registries
                .iter()
                .flat_map(|r| r.entries.iter())
                .filter(|e| e.registered_by == n.name)
                .collect();
            let down = by_me
                .iter()
                .filter(|e| e.actual != InstanceStatus::Up)
                .count();
            (
                "registrar".into(),
                format!("registered {} · not up {down}", by_me.len()),
                "health-checks and (de)registers".into(),
            )
        }
        NodeKind::SchemaRegistry => {
            let r = snap
                .schemas
                .as_ref()
                .and_then(|s| s.registries.iter().find(|r| r.node == n.name));
            match r {
                Some(r) => {
                    let latest = r
                        .schemas
                        .last()
                        .map(|e| format!("latest id {}: {} {}", e.id, e.subject, e.version))
                        .unwrap_or_else(|| "no schema yet".into());
                    (
                        "schema registry".into(),
                        format!("schemas {} · lookups {}", r.schemas.len(), r.lookups_served),
                        latest,
                    )
                }
                None => ("schema registry".into(), "schemas 0".into(), String::new()),
            }
        }
        _ => (String::new(), String::new(), String::new()),
    }
}

/// A registry, router, registrar or schema registry: its kind and its own counters.
fn infra(i: usize, n: &NodeView, b: &NodeBox, selected: bool, props: &TopologyProps) -> Html {
    let (x0, y0, w, h) = (b.left(), b.top(), b.width(), b.height());
    let onclick = {
        let cb = props.on_select.clone();
        Callback::from(move |_| cb.emit(Selection::Node(i)))
    };
    let (kind, first, second) = infra_lines(n, &props.snapshot);
    let stale = first.contains("stale") && !first.contains("stale 0");
    html! {
        <g key={n.name.clone()} data-testid={format!("node-{}", n.name)} data-role={kind.clone()}
           class={cls("node service infra", &[(selected, "selected")])} {onclick}>
            <title>{ format!("{} ({kind}): {first}; {second}", n.name) }</title>
            <rect class="node-box" x={f1(x0)} y={f1(y0)} width={f1(w)} height={f1(h)} rx="12" />
            { text("node-name", x0 + 12.0, y0 + 22.0, html! { &n.name }) }
            { far_name(&n.name, b, None) }
            { instances(i, n, x0 + 20.0, y0 + 44.0, props) }
            { fitted("node-sub end".into(), x0 + w - 12.0, y0 + 48.0, kind, (w - 60.0).max(40.0), 6.3, Some(format!("infra-kind-{}", n.name))) }
            { fitted(cls("node-counters", &[(stale, "failing")]), x0 + 12.0, y0 + 72.0, first, w - 22.0, 6.3, Some(format!("infra-counters-{}", n.name))) }
            { fitted("node-effect".into(), x0 + 12.0, y0 + 88.0, second, w - 22.0, 6.9, Some(format!("effect-{}", n.name))) }
        </g>
    }
}

fn relay_state(s: RelayState) -> &'static str {
    match s {
        RelayState::Running => "running",
        RelayState::Paused => "paused",
        RelayState::Stopped => "stopped",
        RelayState::Crashed => "crashed",
    }
}

/// A message relay: its state, its window of records (row ids coloured by unsent / in flight /
/// confirmed) and its counters.
fn relay(i: usize, n: &NodeView, b: &NodeBox, selected: bool, props: &TopologyProps) -> Html {
    let (x0, y0, w, h) = (b.left(), b.top(), b.width(), b.height());
    let onclick = {
        let cb = props.on_select.clone();
        Callback::from(move |_| cb.emit(Selection::Node(i)))
    };
    let Some(r) = props
        .snapshot
        .transactional
        .relays
        .iter()
        .find(|r| r.node == n.name)
    else {
        return service(i, n, b, selected, props);
    };
    let state = relay_state(r.state);
    let rm = &r.metrics;
    let fits = ((w - 52.0) / 22.0).max(1.0) as usize;
    let more = r.window.len().saturating_sub(fits);
    let last = match r.mode {
        RelayMode::LogTailing => format!("read {} · saved {}", r.read_upto, r.saved_position),
        RelayMode::Polling if r.after_publish == MarkMode::Delete => {
            format!("rows deleted {}", rm.deleted)
        }
        RelayMode::Polling => format!("rows marked {}", rm.marked),
    };
    html! {
        <g key={n.name.clone()} data-testid={format!("node-{}", n.name)} data-state={state}
           class={cls("node relay", &[(selected, "selected"), (true, state)])} {onclick}>
            <title>{ format!("{}: message relay ({}) of {}'s OUTBOX, {}; window of {} record(s)", n.name,
                if r.mode == RelayMode::Polling { "polling publisher" } else { "transaction log tailing" },
                r.service, state, r.window.len()) }</title>
            <rect class="node-box" x={f1(x0)} y={f1(y0)} width={f1(w)} height={f1(h)} rx="4" />
            { text("node-name", x0 + 12.0, y0 + 22.0, html! { &n.name }) }
            { far_name(&n.name, b, None) }
            { text("node-sub end relay-state", x0 + w - 12.0, y0 + 21.0, html! { state }) }
            { instances(i, n, x0 + 20.0, y0 + 44.0, props) }
            { for r.window.iter().skip(more).enumerate().map(|(k, rec)| {
                let x = x0 + 40.0 + 22.0 * k as f64;
                let st = match rec.state { WindowState::Unsent => "unsent", WindowState::InFlight => "in-flight", WindowState::Confirmed => "confirmed" };
                html! {
                    <g key={rec.lsn.to_string()} class={cls("win", &[(true, st)])}>
                        <title>{ format!("row {} ({}, {}), LSN {}: {st}, attempt {}", rec.row, rec.msg, rec.key, rec.lsn, rec.attempt) }</title>
                        <rect x={f1(x)} y={f1(y0 + 35.0)} width="20" height="18" rx="4" />
                        { text("win-id", x + 10.0, y0 + 48.0, html! { rec.row }) }
                    </g>
                }
            }) }
            if more > 0 {
                { text("node-sub end", x0 + w - 6.0, y0 + 62.0, html! { format!("+{more} earlier") }) }
            }
            { fitted("node-counters".into(), x0 + 12.0, y0 + 72.0, format!("confirmed {} of {} sent{}", rm.confirmed, rm.publishes,
                if rm.republished > 0 { format!(" · ↻{}", rm.republished) } else { String::new() }), w - 22.0, 6.3, None) }
            { fitted("node-effect".into(), x0 + 12.0, y0 + 88.0, last, w - 22.0, 7.9, None) }
        </g>
    }
}

/// The backlog row of a broker with a service time: a bar (full at the largest backlog so far)
/// and the numbers.
fn backlog_row(bv: &BrokerView, x0: f64, y: f64, w: f64) -> Html {
    let frac = f64::from(bv.backlog) / f64::from(bv.backlog_max.max(1));
    let bw = 90.0;
    html! {
        <g class="backlog-row" data-testid="broker-backlog" data-backlog={bv.backlog.to_string()}>
            <title>{ format!("Packets waiting for the broker's single worker ({} each); max so far {}", crate::format::format_us(bv.service_time_us), bv.backlog_max) }</title>
            <rect class="track" x={f1(x0 + 14.0)} y={f1(y - 9.0)} width={f1(bw)} height="9" rx="3" />
            <rect class="fill" x={f1(x0 + 14.0)} y={f1(y - 9.0)} width={f1(bw * frac)} height="9" rx="3" />
            { text("queue-name", x0 + 22.0 + bw, y, html! { format!("backlog {}", bv.backlog) }) }
            { text("node-sub end", x0 + w - 12.0, y, html! { format!("{} / packet", crate::format::format_us(bv.service_time_us)) }) }
        </g>
    }
}

fn broker(
    i: usize,
    n: &NodeView,
    b: &NodeBox,
    selected: bool,
    snapshot: &Snapshot,
    props: &TopologyProps,
) -> Html {
    let (x0, y0, w, h) = (b.left(), b.top(), b.width(), b.height());
    let c = 14.0;
    let shape = format!(
        "M{} {} H{} L{} {} V{} L{} {} H{} L{} {} V{} Z",
        f1(x0 + c),
        f1(y0),
        f1(x0 + w - c),
        f1(x0 + w),
        f1(y0 + c),
        f1(y0 + h - c),
        f1(x0 + w - c),
        f1(y0 + h),
        f1(x0 + c),
        f1(x0),
        f1(y0 + h - c),
        f1(y0 + c),
    );
    let onclick = {
        let cb = props.on_select.clone();
        Callback::from(move |_| cb.emit(Selection::Node(i)))
    };
    let status = n
        .instances
        .first()
        .map(|s| s.status)
        .unwrap_or(InstanceStatus::Up);
    let queues: Vec<_> = snapshot
        .channels
        .iter()
        .filter(|ch| ch.broker == n.name)
        .flat_map(|ch| ch.queues.iter().map(move |q| (ch.kind, q)))
        .collect();
    // Columns 48 units apart and names of at most 20 characters: the table still fits when its
    // text grows to 12.5-13 units on a canvas drawn at 0.7-0.9 CSS px per unit (main.css).
    let col = |k: f64| x0 + w - 12.0 - k * 48.0;
    let on_instance = {
        let cb = props.on_instance.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            cb.emit((i, 0))
        })
    };
    html! {
        <g key={n.name.clone()} data-testid={format!("node-{}", n.name)}
           class={cls("node broker", &[(selected, "selected")])} {onclick}>
            <title>{ format!("{}: message broker ({})", n.name, status_word(status)) }</title>
            <path class="node-box" d={shape} />
            <g data-testid={format!("instance-{}-0", n.name)} data-status={status_word(status)}
               class={cls("instance", &[(true, status_class(status))])} onclick={on_instance}>
                <circle class="dot" cx={f1(x0 + 22.0)} cy={f1(y0 + 19.0)} r="7" />
                if status == InstanceStatus::Crashed {
                    { text("dot-mark", x0 + 22.0, y0 + 22.0, html! { "✕" }) }
                } else if status == InstanceStatus::Paused {
                    { text("dot-mark", x0 + 22.0, y0 + 22.0, html! { "❚❚" }) }
                }
            </g>
            { text("node-name", x0 + 36.0, y0 + 24.0, html! { &n.name }) }
            { far_name(&n.name, b, None) }
            { text("node-sub end", x0 + w - 12.0, y0 + 23.0, html! { "broker" }) }
            if queues.is_empty() {
                // Only partitioned topics here: their partitions are drawn under the box.
                { text("queue-head", x0 + 14.0, y0 + 44.0, html! { "partitioned log ↓" }) }
            } else {
                { text("queue-head", x0 + 14.0, y0 + 44.0, html! { "queue" }) }
                { text("queue-head num", col(2.0), y0 + 44.0, html! { "ready" }) }
                { text("queue-head num", col(1.0), y0 + 44.0, html! { "unack" }) }
                { text("queue-head num", col(0.0), y0 + 44.0, html! { "DLQ" }) }
            }
            if let Some(bv) = n.broker.filter(|bv| bv.service_time_us > 0) {
                { backlog_row(&bv, x0, y0 + 44.0 + crate::geometry::QUEUE_ROW_H * (queues.len() as f64 + 1.0), w) }
            }
            { for queues.iter().enumerate().map(|(k, (kind, q))| {
                let y = y0 + 44.0 + crate::geometry::QUEUE_ROW_H * (k as f64 + 1.0);
                let icon = match kind { msgsim::scenario::ChannelKind::Topic => "◎ ", msgsim::scenario::ChannelKind::Queue => "▭ ", msgsim::scenario::ChannelKind::Direct => "→ ", msgsim::scenario::ChannelKind::PartitionedTopic => "☰ " };
                html! {
                    <g key={format!("{k}-{}", q.name)} class="queue-row" data-testid={format!("queue-{}", q.name)}>
                        <title>{ format!("{}: consumer {}, enqueued {}, acked {}, redelivered {}", q.name, q.consumer, q.enqueued, q.acked, q.redelivered) }</title>
                        { text("queue-name", x0 + 14.0, y, html! { format!("{icon}{}", crate::format::short_queue(&q.name, 20)) }) }
                        { text("num", col(2.0), y, html! { q.ready }) }
                        { text("num", col(1.0), y, html! { q.unacked }) }
                        { text(if q.dead_letters > 0 { "num dlq" } else { "num" }, col(0.0), y, html! { q.dead_letters }) }
                    </g>
                }
            }) }
        </g>
    }
}

/// The legend of synchronous calls (shown under the canvas when the run has any).
const RPC_LEGEND: &str = concat!(
    r#"<ul class="rpc-legend" data-testid="rpc-legend" aria-label="Legend of synchronous calls">"#,
    r#"<li><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><g class="message kind-request"><path class="shape body" d="M-8 -6 H3 L8.5 0 L3 6 H-8 Z"/></g></svg>request</li>"#,
    r#"<li><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><g class="message kind-response http-2xx"><rect class="shape body" x="-8.5" y="-6.5" width="17" height="13" rx="2"/></g></svg>2xx</li>"#,
    r#"<li><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><g class="message kind-response http-4xx"><rect class="shape body" x="-8.5" y="-6.5" width="17" height="13" rx="2"/></g></svg>4xx</li>"#,
    r#"<li><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><g class="message kind-response http-5xx"><rect class="shape body" x="-8.5" y="-6.5" width="17" height="13" rx="2"/></g></svg>5xx</li>"#,
    r#"<li><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><g class="message kind-reset"><path class="shape body" d="M-6 -6 L6 6 M6 -6 L-6 6"/></g></svg>reset (refused)</li>"#,
    r#"<li><span class="ring-legend st-closed"></span>CLOSED <span class="ring-legend st-half"></span>HALF_OPEN <span class="ring-legend st-open"></span>OPEN <span class="ring-legend st-grey"></span>FORCED_OPEN / DISABLED: breaker ring</li>"#,
    r#"<li><span class="mark-legend mark-retry">↻ retry</span><span class="mark-legend mark-backoff">⋯ backoff</span><span class="mark-legend mark-timeout">◴ timeout</span><span class="mark-legend mark-rejected">⊘ rejected</span><span class="mark-legend mark-fallback">↩ fallback</span><span class="mark-legend mark-failure">✕ failed</span></li>"#,
    r#"</ul>"#,
);

/// The label of a relay's line to its service's database (`polls OUTBOX`, `tails log`), from `p`
/// to `q` (midpoint `m`), on a canvas drawn at `zs` CSS px per unit (its text grows to 11 CSS
/// px): beside a steep line; centred above a flat one; above both boxes when the line is
/// shorter than the label.
fn db_label(
    p: Point,
    q: Point,
    m: Point,
    tailing: bool,
    zs: f64,
    a: &NodeBox,
    b: &NodeBox,
) -> Html {
    let label = if tailing { "tails log" } else { "polls OUTBOX" };
    let width = label.chars().count() as f64 * 0.62 * (11.0 / zs).max(11.0) + 8.0;
    let (dx, dy) = ((q.x - p.x).abs(), (q.y - p.y).abs());
    let len = (dx * dx + dy * dy).sqrt();
    let flat = dx > dy;
    if len < 96.0 || (flat && len < width) {
        // Too short a line for the label: above both boxes.
        let top = a.top().min(b.top());
        text("db-label db-label-mid", m.x, top - 6.0, html! { label })
    } else if dx > dy {
        text(
            "db-label db-label-mid",
            m.x.min(VIEW_W - width / 2.0),
            m.y - 5.0,
            html! { label },
        )
    } else if m.x + width > VIEW_W {
        text(
            "db-label db-label-end",
            m.x - 6.0,
            m.y - 4.0,
            html! { label },
        )
    } else {
        text("db-label", m.x + 6.0, m.y - 4.0, html! { label })
    }
}

/// The topology canvas.
#[function_component(Topology)]
pub fn topology(props: &TopologyProps) -> Html {
    let zs = use_context::<crate::subsystems::story::zoom::TextScale>().map_or(1.0, |t| t.0);
    TEXT_SCALE.with(|t| t.set(zs));
    let snap = &props.snapshot;
    let layout = &props.layout;
    let now = snap.time;
    let links = layout.links.iter().enumerate().filter_map(|(i, &(a, b))| {
        let view = snap.links.get(i)?;
        let selected = props.selection == Some(Selection::Link(i));
        Some(link(
            i,
            view,
            &layout.boxes[a],
            &layout.boxes[b],
            selected,
            layout.direct.get(i).and_then(|d| d.as_ref()),
            &props.on_select,
        ))
    });
    let badge_layer = layout.links.iter().enumerate().filter_map(|(i, &(a, b))| {
        let view = snap.links.get(i)?;
        Some(badges(
            i,
            view,
            &layout.boxes[a],
            &layout.boxes[b],
            &props.on_select,
        ))
    });
    let nodes = snap.nodes.iter().enumerate().filter_map(|(i, n)| {
        let b = layout.boxes.get(i)?;
        let selected = props.selection == Some(Selection::Node(i));
        Some(match n.kind {
            NodeKind::Service => service(i, n, b, selected, props),
            NodeKind::Registry
            | NodeKind::Router
            | NodeKind::Registrar
            | NodeKind::SchemaRegistry => infra(i, n, b, selected, props),
            NodeKind::Relay => relay(i, n, b, selected, props),
            NodeKind::Broker => broker(i, n, b, selected, snap, props),
        })
    });
    let mark_layer = snap.nodes.iter().enumerate().filter_map(|(i, n)| {
        let b = layout.boxes.get(i)?;
        Some(html! {
            <>
                { call_marks(n, b, props) }
                if n.kind == NodeKind::Broker {
                    { crate::subsystems::kafka::marks::partition_tables(snap, &n.name, b) }
                    { crate::subsystems::schema::marks::wire_sizes(snap, &n.name, b) }
                }
                { crate::subsystems::sync::marks::rpi_figure(snap, &n.name, b, |name| {
                    snap.nodes.iter().position(|x| x.name == name).and_then(|k| layout.boxes.get(k))
                }) }
            </>
        })
    });
    let rpc = !snap.proxies.is_empty() || snap.nodes.iter().any(|n| n.server.is_some());
    let aria = format!(
        "Topology of {} at {}: {} nodes, {} links, {} messages in flight",
        snap.scenario,
        format_secs(now),
        snap.nodes.len(),
        snap.links.len(),
        snap.in_flight.len()
    );
    html! {
        <>
        <div class="canvas-wrap">
            <svg data-testid="topology" class="topology" viewBox={format!("0 0 {VIEW_W} {VIEW_H}")}
                 preserveAspectRatio="xMidYMid meet" role="img" aria-label={aria}
                 data-in-flight={snap.in_flight.len().to_string()}>
                <g class="links">
                    { for layout.relays.iter().map(|&(r, svc, tailing)| {
                        let (p, q) = link_segment(&layout.boxes[r], &layout.boxes[svc]);
                        let m = lerp(p, q, 0.5);
                        html! {
                            <g key={format!("db-{r}")} class="db-link">
                                <title>{ if tailing { "The relay tails the service database's commit log" } else { "The relay polls the service database's OUTBOX table" } }</title>
                                <line x1={f1(p.x)} y1={f1(p.y)} x2={f1(q.x)} y2={f1(q.y)} />
                                { db_label(p, q, m, tailing, zs, &layout.boxes[r], &layout.boxes[svc]) }
                            </g>
                        }
                    }) }
                    { for links }
                </g>
                <g class="nodes">{ for nodes }</g>
                <g class="badge-layer">{ for badge_layer }</g>
                <g class="mark-layer">{ for mark_layer }</g>
                <g class="fallings">{ for props.falling.iter().map(falling) }</g>
            </svg>
            // Messages in flight: one canvas over the SVG (issue 13), see crate::canvas.
            <crate::canvas::MessageLayer snapshot={Rc::clone(snap)} layout={Rc::clone(layout)}
                selection={props.selection} on_select={props.on_select.clone()} />
        </div>
        <p class="scroll-hint">{ "← the canvas scrolls sideways →" }</p>
        if rpc {
            { Html::from_html_unchecked(AttrValue::Static(RPC_LEGEND)) }
        }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::{SimTime, Simulation};

    fn at(name: &str, seed: u64, ms: u64) -> Snapshot {
        let mut sim = Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed).unwrap();
        sim.run_until(SimTime::from_ms(ms), u64::MAX);
        sim.snapshot()
    }

    #[test]
    fn consumers_show_what_they_understand_during_the_rollout() {
        let marks = |snap: &Snapshot| -> Vec<String> {
            ["crm", "audit", "mailer"]
                .iter()
                .flat_map(|n| contract_marks(snap, n))
                .map(|m| m.text)
                .collect()
        };
        assert_eq!(
            marks(&at("schema-rollout", 7, 3_000)),
            [
                "reader 1.0.0 tolerant ✓ reads 1.0.0",
                "reader 1.0.0 strict ✓ reads 1.0.0",
                "reader 1.1.0 tolerant ✓ reads 1.0.0",
            ]
        );
        // The minor rollout (4 s) breaks only the strict reader.
        assert_eq!(
            marks(&at("schema-rollout", 7, 6_000)),
            [
                "reader 1.0.0 tolerant ✓ reads 1.1.0",
                "reader 1.0.0 strict ✗ breaks on 1.1.0 · 8 rejected",
                "reader 1.1.0 tolerant ✓ reads 1.1.0",
            ]
        );
        assert_eq!(
            writes(&at("schema-rollout", 7, 6_000), "signup").as_deref(),
            Some("writes 1.1.0")
        );
        // The major one (8 s) breaks everybody.
        assert_eq!(
            marks(&at("schema-rollout", 7, 12_000)),
            [
                "reader 1.0.0 tolerant ✗ breaks on 2.0.0 · 16 rejected",
                "reader 1.0.0 strict ✗ breaks on 2.0.0 · 32 rejected",
                "reader 1.1.0 tolerant ✗ breaks on 2.0.0 · 16 rejected",
            ]
        );
    }

    #[test]
    fn rpc_boxes_say_what_the_service_is() {
        let snap = at("circuit-breaker", 11, 7_000);
        let s = msgsim::scenario::Scenario::from_json(
            msgsim::scenarios::get("circuit-breaker").unwrap(),
        )
        .unwrap();
        let layout = crate::geometry::Layout::new(&s);
        let lines: Vec<(String, String, String)> = snap
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let proxies: Vec<&ProxyView> =
                    snap.proxies.iter().filter(|p| p.client == n.name).collect();
                let blocked = snap.calls.iter().filter(|c| c.client == n.name).count();
                rpc_lines(
                    n,
                    &proxies,
                    layout.api_workers[i],
                    layout.rpc_client[i],
                    blocked,
                )
            })
            .collect();
        let lines: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (
                    "client",
                    "calls 71 · ok 50 · failed 8",
                    "timeouts 0 · rejected 0 · blocked 13"
                ),
                (
                    "REST L2",
                    "served 62 · in flight 4/4 · queue 8",
                    "calls 62 · ok 50 · failed 8 · blocked 4"
                ),
                (
                    "REST L2",
                    "served 62 · in flight 12/32 · queue 0",
                    "2xx 50 · 4xx 0 · 5xx 0"
                ),
                (
                    "client",
                    "calls 71 · ok 70 · failed 0",
                    "timeouts 0 · rejected 0 · blocked 1"
                ),
                (
                    "breaker OPEN",
                    "served 70 · in flight 0/4 · queue 0",
                    "calls 70 · ok 50 · fallback 20 · failed 0"
                ),
                (
                    "REST L2",
                    "served 58 · in flight 8/32 · queue 0",
                    "2xx 50 · 4xx 0 · 5xx 0"
                ),
            ]
        );
    }
}
