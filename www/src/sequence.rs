//! The sequence diagram, as pure layout: one lifeline per node, one arrow per packet from its
//! virtual send time to its arrival (or drop) time, over a window of recent virtual time. The
//! component (`components::sequence`) and the standalone SVG export ([`to_svg`]) both draw a
//! [`SeqLayout`], so what is downloaded is what is shown.
//!
//! Coordinates are SVG user units (px): time runs down, `y(t)` is linear in virtual time over
//! the window `[from, to]` (µs).

use msgsim::network::DropReason;
use msgsim::scenario::Scenario;
use msgsim::snapshot::TransitView;
use msgsim::trace::{PacketKind, TraceEvent, TraceKind};
use msgsim::{MessageId, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

/// Arrows of arrived or dropped packets drawn at most (the newest ones).
pub const MAX_ARROWS: usize = 200;
/// Arrows of packets still in flight drawn at most (the newest sends).
pub const MAX_IN_FLIGHT: usize = 100;
/// Lifeline marks (retries, redeliveries, dead letters, discarded duplicates, commands) drawn
/// at most (the newest ones).
pub const MAX_MARKS: usize = 100;
/// Lines of a windowed Mermaid export at most (arrows and notes; the rest noted as omitted).
pub const MERMAID_MAX_LINES: usize = 2_000;
/// Default window of virtual time shown: 2 s.
pub const DEFAULT_WINDOW: SimTime = SimTime::from_ms(2_000);
/// The windows offered in the view, ms.
pub const WINDOWS_MS: [u64; 5] = [500, 1_000, 2_000, 5_000, 10_000];
/// Horizontal distance between lifelines, px.
pub const LANE_GAP: f64 = 130.0;
/// Space left of the first lifeline (time axis labels) and right of the last, px.
pub const MARGIN_X: f64 = 90.0;
/// Height of the lifeline heads, px.
pub const HEAD_H: f64 = 36.0;
/// Height of the window's time span, px.
pub const BODY_H: f64 = 420.0;
/// Space below the window, px.
pub const FOOT_H: f64 = 14.0;

/// How an arrow ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// It arrived (arrow head at the receiver).
    Arrived,
    /// It was dropped (a ✕ where it fell: half way for loss and partitions, at the receiver's
    /// door for a crashed receiver, at the sender for an overflow).
    Dropped(DropReason),
    /// Still on the wire at the window's end (the arrow stops at the now-line, where the
    /// canvas shows the message).
    InFlight,
}

/// One packet on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// Transit id (unique per copy on the wire).
    pub transit: u64,
    /// Message id (0 for packets that carry none).
    pub msg: MessageId,
    /// What it is.
    pub packet: PacketKind,
    /// Sender lifeline (index into [`SeqLayout::lifelines`]) and instance.
    pub from: (usize, u32),
    /// Receiver lifeline and instance.
    pub to: (usize, u32),
    /// Virtual send time, µs (`None` when the send is older than the trace kept in memory).
    pub sent: Option<SimTime>,
    /// Virtual arrival or drop time, µs (the window's end while in flight).
    pub ended: SimTime,
    /// Publish or delivery attempt, from 1.
    pub attempt: u32,
    /// A network duplicate.
    pub duplicate: bool,
    /// How it ends.
    pub end: End,
    /// Start point (px).
    pub x1: f64,
    /// Start point (px).
    pub y1: f64,
    /// End point (px).
    pub x2: f64,
    /// End point (px).
    pub y2: f64,
    /// A short tag drawn by the arrow (`dup`, `retry 2`, `redelivery 3`), if any.
    pub tag: Option<String>,
    /// The hover text: what, which message, when, how it ended.
    pub title: String,
}

impl Arrow {
    /// `msg`, `ack`, `http` or `control`: the arrow's colour class.
    pub fn class(&self) -> &'static str {
        packet_class(self.packet)
    }
}

/// A note on a lifeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A producer retried a publish.
    Retry,
    /// The broker put a delivery back for redelivery.
    Redeliver,
    /// The broker dead-lettered a message.
    DeadLetter,
    /// A receiver discarded a duplicate it had processed.
    DuplicateDiscarded,
    /// A user or scenario command (drawn across every lifeline).
    Command,
}

impl MarkKind {
    /// Class name.
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::Retry => "retry",
            MarkKind::Redeliver => "redeliver",
            MarkKind::DeadLetter => "dead-letter",
            MarkKind::DuplicateDiscarded => "dup-discarded",
            MarkKind::Command => "command",
        }
    }

    /// The glyph drawn.
    pub fn glyph(self) -> &'static str {
        match self {
            MarkKind::Retry => "↻",
            MarkKind::Redeliver => "↺",
            MarkKind::DeadLetter => "☠",
            MarkKind::DuplicateDiscarded => "≡",
            MarkKind::Command => "⚡",
        }
    }
}

/// A mark on a lifeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// What.
    pub kind: MarkKind,
    /// Message concerned (0 for commands).
    pub msg: MessageId,
    /// Lifeline (for a command: 0, drawn across all).
    pub lane: usize,
    /// Position (px).
    pub x: f64,
    /// Position (px).
    pub y: f64,
    /// Hover text.
    pub title: String,
}

/// A lifeline: one per node of the scenario, in scenario order.
#[derive(Clone, Debug, PartialEq)]
pub struct Lifeline {
    /// Node name.
    pub name: String,
    /// Its x (px).
    pub x: f64,
}

/// A labelled tick of the time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// y (px).
    pub y: f64,
    /// `3.250 s`.
    pub label: String,
}

/// A laid-out sequence diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqLayout {
    /// Lifelines, one per node.
    pub lifelines: Vec<Lifeline>,
    /// Arrived and dropped packets (at most [`MAX_ARROWS`]), oldest first, then in-flight ones
    /// (at most [`MAX_IN_FLIGHT`]).
    pub arrows: Vec<Arrow>,
    /// Lifeline marks, at most [`MAX_MARKS`].
    pub marks: Vec<Mark>,
    /// Window start, µs.
    pub from: SimTime,
    /// Window end, µs (`from` + the window; the now-line is at or above it).
    pub to: SimTime,
    /// The current time (the now-line), µs.
    pub now: SimTime,
    /// y of the now-line (px).
    pub now_y: f64,
    /// Width (px).
    pub width: f64,
    /// Height (px).
    pub height: f64,
    /// Time axis ticks.
    pub ticks: Vec<Tick>,
    /// Arrived or dropped packets of the window not drawn because of [`MAX_ARROWS`].
    pub omitted: usize,
    /// Trace position of the first arrival or drop drawn (where a windowed export starts).
    pub first_seq: Option<u64>,
}

impl SeqLayout {
    /// Arrows of arrived or dropped packets (not in flight).
    pub fn completed(&self) -> usize {
        self.arrows
            .iter()
            .filter(|a| a.end != End::InFlight)
            .count()
    }

    /// y of virtual time `t` (px); times before the window are above its top.
    pub fn y(&self, t: SimTime) -> f64 {
        y_of(self.from, self.to, t)
    }
}

fn y_of(from: SimTime, to: SimTime, t: SimTime) -> f64 {
    let span = to.0.saturating_sub(from.0).max(1) as f64;
    HEAD_H + (t.0 as f64 - from.0 as f64) / span * BODY_H
}

/// `msg`, `ack`, `http` or `control` for a packet kind.
pub fn packet_class(p: PacketKind) -> &'static str {
    use PacketKind as P;
    match p {
        P::Publish | P::Deliver | P::Direct | P::Produce => "msg",
        P::PublishAck
        | P::Ack
        | P::PublishNack
        | P::Nack
        | P::ProduceResponse
        | P::OffsetCommitResponse => "ack",
        P::HttpRequest | P::HttpResponse | P::Reset | P::Request | P::Response => "http",
        _ => "control",
    }
}

/// `3.250 s`.
fn secs(t: SimTime) -> String {
    let ms = t.as_us() / 1_000;
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

struct SendInfo {
    at: SimTime,
    attempt: u32,
    duplicate: bool,
}

/// Lays out the diagram of the window of `window` virtual time ending at `now` (µs; `from` =
/// `now - window`, or 0), from the trace `events` (oldest first; those still in memory) and the
/// packets `in_flight` at `now` (the snapshot's). Packets between nodes the scenario does not
/// name are skipped.
pub fn layout<'a>(
    scenario: &Scenario,
    events: impl IntoIterator<Item = &'a TraceEvent>,
    in_flight: &[TransitView],
    now: SimTime,
    window: SimTime,
) -> SeqLayout {
    let window = SimTime(window.0.max(1_000));
    let from = SimTime(now.0.saturating_sub(window.0));
    let to = SimTime(from.0 + window.0);
    let lane: BTreeMap<&str, usize> = scenario
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let lifelines: Vec<Lifeline> = scenario
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Lifeline {
            name: n.name.clone(),
            x: MARGIN_X + i as f64 * LANE_GAP,
        })
        .collect();
    let x_of = |i: usize| MARGIN_X + i as f64 * LANE_GAP;
    // Queue names are `channel` or `topic/subscriber`; marks about a queue go on its broker.
    let broker_lane = |queue: &str| {
        let channel = queue.split('/').next().unwrap_or(queue);
        scenario
            .channels
            .iter()
            .find(|c| c.name == channel)
            .and_then(|c| lane.get(c.broker.as_str()).copied())
    };
    let y = |t: SimTime| y_of(from, to, t);

    let mut sends: BTreeMap<u64, SendInfo> = BTreeMap::new();
    let mut done: VecDeque<(u64, Arrow)> = VecDeque::new();
    let mut omitted = 0usize;
    let mut marks: VecDeque<Mark> = VecDeque::new();
    let push_mark = |marks: &mut VecDeque<Mark>, m: Mark| {
        if marks.len() >= MAX_MARKS {
            marks.pop_front();
        }
        marks.push_back(m);
    };
    for e in events {
        match &e.what {
            TraceKind::Send {
                transit,
                attempt,
                duplicate,
                ..
            } => {
                sends.insert(
                    *transit,
                    SendInfo {
                        at: e.time,
                        attempt: *attempt,
                        duplicate: *duplicate,
                    },
                );
            }
            TraceKind::Arrive {
                transit,
                from: f,
                to: t,
                packet,
                msg,
            }
            | TraceKind::Drop {
                transit,
                from: f,
                to: t,
                packet,
                msg,
                ..
            } => {
                let info = sends.remove(transit);
                if e.time < from {
                    continue;
                }
                let (Some(&a), Some(&b)) = (lane.get(&*f.node), lane.get(&*t.node)) else {
                    continue;
                };
                let end = match &e.what {
                    TraceKind::Drop { reason, .. } => End::Dropped(*reason),
                    _ => End::Arrived,
                };
                let (attempt, duplicate, sent) = match &info {
                    Some(s) => (s.attempt, s.duplicate, Some(s.at)),
                    None => (1, false, None),
                };
                let progress = match end {
                    End::Dropped(DropReason::Loss | DropReason::Partition) => 0.5,
                    End::Dropped(DropReason::Overflow) => 0.0,
                    _ => 1.0,
                };
                let (xa, xb) = (x_of(a), x_of(b));
                let arrow = arrow(
                    (*transit, *msg, *packet),
                    ((a, f.instance), (b, t.instance)),
                    (sent, e.time, attempt, duplicate, end),
                    (xa, xa + (xb - xa) * progress),
                    &y,
                    from,
                );
                if done.len() >= MAX_ARROWS {
                    done.pop_front();
                    omitted += 1;
                }
                done.push_back((e.seq, arrow));
            }
            TraceKind::Retry { at, msg, attempt } if e.time >= from => {
                if let Some(&i) = lane.get(&*at.node) {
                    push_mark(
                        &mut marks,
                        Mark {
                            kind: MarkKind::Retry,
                            msg: *msg,
                            lane: i,
                            x: x_of(i),
                            y: y(e.time),
                            title: format!(
                                "{} {at} retries publish {msg} (attempt {attempt})",
                                secs(e.time)
                            ),
                        },
                    );
                }
            }
            TraceKind::Redeliver {
                queue,
                msg,
                attempt,
                reason,
            } if e.time >= from => {
                if let Some(i) = broker_lane(queue) {
                    push_mark(
                        &mut marks,
                        Mark {
                            kind: MarkKind::Redeliver,
                            msg: *msg,
                            lane: i,
                            x: x_of(i),
                            y: y(e.time),
                            title: format!(
                                "{} {queue} redelivers {msg}, attempt {attempt} ({})",
                                secs(e.time),
                                reason.as_str()
                            ),
                        },
                    );
                }
            }
            TraceKind::DeadLetter {
                queue,
                msg,
                attempts,
            } if e.time >= from => {
                if let Some(i) = broker_lane(queue) {
                    push_mark(
                        &mut marks,
                        Mark {
                            kind: MarkKind::DeadLetter,
                            msg: *msg,
                            lane: i,
                            x: x_of(i),
                            y: y(e.time),
                            title: format!(
                                "{} {queue} dead-letters {msg} after {attempts} deliveries",
                                secs(e.time)
                            ),
                        },
                    );
                }
            }
            TraceKind::Process {
                at,
                msg,
                applied: false,
                ..
            } if e.time >= from => {
                if let Some(&i) = lane.get(&*at.node) {
                    push_mark(
                        &mut marks,
                        Mark {
                            kind: MarkKind::DuplicateDiscarded,
                            msg: *msg,
                            lane: i,
                            x: x_of(i),
                            y: y(e.time),
                            title: format!("{} {at} discards duplicate {msg}", secs(e.time)),
                        },
                    );
                }
            }
            TraceKind::Command { command } if e.time >= from => push_mark(
                &mut marks,
                Mark {
                    kind: MarkKind::Command,
                    msg: MessageId(0),
                    lane: 0,
                    x: x_of(0),
                    y: y(e.time),
                    title: format!("{} command: {command}", secs(e.time)),
                },
            ),
            _ => {}
        }
    }
    let first_seq = done.front().map(|(s, _)| *s);
    let mut arrows: Vec<Arrow> = done.into_iter().map(|(_, a)| a).collect();
    // In flight at `now`: the newest sends, drawn up to where the canvas shows them.
    let mut flying: Vec<&TransitView> = in_flight
        .iter()
        .filter(|t| t.sent_at <= now)
        .filter(|t| lane.contains_key(t.from.as_str()) && lane.contains_key(t.to.as_str()))
        .collect();
    flying.sort_by_key(|t| (t.sent_at, t.id));
    let skip = flying.len().saturating_sub(MAX_IN_FLIGHT);
    for t in flying.into_iter().skip(skip) {
        let (a, b) = (lane[t.from.as_str()], lane[t.to.as_str()]);
        let (xa, xb) = (x_of(a), x_of(b));
        let mut arrow = arrow(
            (t.id, t.msg, t.packet),
            ((a, t.from_instance), (b, t.to_instance)),
            (Some(t.sent_at), now, t.attempt, t.duplicate, End::InFlight),
            (xa, xa + (xb - xa) * t.progress(now)),
            &y,
            from,
        );
        if t.held {
            arrow.title.push_str(" · held on the link");
        }
        arrows.push(arrow);
    }
    let width = 2.0 * MARGIN_X + (lifelines.len().max(1) - 1) as f64 * LANE_GAP;
    SeqLayout {
        lifelines,
        arrows,
        marks: marks.into_iter().collect(),
        from,
        to,
        now,
        now_y: y(now),
        width,
        height: HEAD_H + BODY_H + FOOT_H,
        ticks: ticks(from, to),
        omitted,
        first_seq,
    }
}

/// Builds one arrow from `xa` at its send to `x2` at `ended`. A send older than the window (or
/// unknown) starts where the line crosses the window's top.
fn arrow(
    (transit, msg, packet): (u64, MessageId, PacketKind),
    (from, to): ((usize, u32), (usize, u32)),
    (sent, ended, attempt, duplicate, end): (Option<SimTime>, SimTime, u32, bool, End),
    (xa, x2): (f64, f64),
    y: &dyn Fn(SimTime) -> f64,
    window_from: SimTime,
) -> Arrow {
    let (x1, y1) = match sent {
        Some(s) if s >= window_from => (xa, y(s)),
        Some(s) => {
            // Cut at the top: the fraction of the flight before the window.
            let span = ended.0.saturating_sub(s.0).max(1) as f64;
            let f = (window_from.0 - s.0) as f64 / span;
            (xa + (x2 - xa) * f.clamp(0.0, 1.0), y(window_from))
        }
        None => (xa, y(window_from)),
    };
    let again = |what: &str| format!("{what} {attempt}");
    let tag = match (duplicate, attempt > 1, packet) {
        (true, _, _) => Some("dup".to_string()),
        (false, true, PacketKind::Deliver) => Some(again("redelivery")),
        (false, true, _) => Some(again("retry")),
        _ => None,
    };
    let how = match end {
        End::Arrived => format!("arrived {}", secs(ended)),
        End::Dropped(r) => format!("dropped {} ({})", secs(ended), r.as_str()),
        End::InFlight => "in flight".to_string(),
    };
    let msg_text = if msg.0 == 0 {
        String::new()
    } else {
        format!(" {msg}")
    };
    let title = format!(
        "{}{msg_text} #{transit}: sent {}, {how}{}{}",
        packet.as_str(),
        sent.map(secs).unwrap_or_else(|| "earlier".into()),
        if attempt > 1 {
            format!(" · attempt {attempt}")
        } else {
            String::new()
        },
        if duplicate {
            " · network duplicate"
        } else {
            ""
        },
    );
    Arrow {
        transit,
        msg,
        packet,
        from,
        to,
        sent,
        ended,
        attempt,
        duplicate,
        end,
        x1,
        y1,
        x2,
        y2: y(ended),
        tag,
        title,
    }
}

/// Ticks at a round step (1, 2 or 5 × 10^k ms) giving 4 to 10 ticks over the window.
fn ticks(from: SimTime, to: SimTime) -> Vec<Tick> {
    let span_ms = (to.0.saturating_sub(from.0) / 1_000).max(1);
    let mut step = 1u64;
    'outer: for p in [1u64, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
        for m in [1u64, 2, 5] {
            if span_ms / (m * p) <= 8 {
                step = m * p;
                break 'outer;
            }
        }
        step = 10 * p;
    }
    let step_us = step * 1_000;
    let mut t = from.0.div_ceil(step_us) * step_us;
    let mut out = Vec::new();
    while t <= to.0 && out.len() < 20 {
        out.push(Tick {
            y: y_of(from, to, SimTime(t)),
            label: secs(SimTime(t)),
        });
        t += step_us;
    }
    out
}

/// A Mermaid `sequenceDiagram` of what `layout` shows: the trace from its first drawn arrival or
/// drop on, with the sends of the packets it draws (for their attempt and duplicate labels), by
/// [`msgsim::export::mermaid_sequence`]. Its arrows (`->>`, `-x`) are the layout's arrived and
/// dropped packets (unless [`MERMAID_MAX_LINES`] cut it short).
pub fn mermaid_window<'a>(
    scenario: &Scenario,
    events: impl IntoIterator<Item = &'a TraceEvent>,
    layout: &SeqLayout,
) -> String {
    if scenario.nodes.is_empty() {
        return "sequenceDiagram\n".into();
    }
    let Some(first) = layout.first_seq else {
        return crate::exports::mermaid_sequence(scenario, std::iter::empty(), 0);
    };
    let drawn: BTreeSet<u64> = layout.arrows.iter().map(|a| a.transit).collect();
    let picked = events.into_iter().filter(|e| {
        e.seq >= first
            || matches!(&e.what, TraceKind::Send { transit, .. } if drawn.contains(transit))
    });
    crate::exports::mermaid_sequence(scenario, picked, MERMAID_MAX_LINES)
}

/// `s` as XML 1.0 text or a double-quoted attribute value: `&`, `<`, `>` and `"` as entity
/// references, and each character XML 1.0 does not allow (`Char` production: the C0 controls
/// other than tab, LF and CR, and U+FFFE, U+FFFF) replaced by U+FFFD, so the document stays
/// well-formed whatever a name holds (a name of a hostile scenario, past validation).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

/// Stroke colour of an arrow class.
pub fn class_colour(class: &str) -> &'static str {
    match class {
        "msg" => "#2563eb",
        "ack" => "#16a34a",
        "http" => "#9333ea",
        _ => "#64748b",
    }
}

/// One decimal, as drawn.
pub fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The diagram as a standalone SVG document (with `xmlns`, inline styles and a white
/// background), titled `title`: opens in a browser alone.
pub fn to_svg(layout: &SeqLayout, title: &str) -> String {
    let l = layout;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="system-ui, sans-serif" font-size="11">"#,
        w = f1(l.width),
        h = f1(l.height + 20.0)
    );
    let _ = write!(
        s,
        r##"<title>{}</title><defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs><rect width="100%" height="100%" fill="#ffffff"/>"##,
        xml_escape(title)
    );
    let _ = write!(
        s,
        r##"<text x="6" y="{}" fill="#334155">{} · {} to {}</text>"##,
        f1(l.height + 12.0),
        xml_escape(title),
        secs(l.from),
        secs(l.to)
    );
    for t in &l.ticks {
        let _ = write!(
            s,
            r##"<line x1="40" x2="{}" y1="{y}" y2="{y}" stroke="#e2e8f0"/><text x="4" y="{}" fill="#64748b" font-size="10">{}</text>"##,
            f1(l.width),
            f1(t.y + 3.0),
            t.label,
            y = f1(t.y)
        );
    }
    for ll in &l.lifelines {
        let _ = write!(
            s,
            r##"<line x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="#94a3b8" stroke-dasharray="4 3"/><rect x="{}" y="4" width="110" height="24" rx="4" fill="#f1f5f9" stroke="#94a3b8"/><text x="{x}" y="20" text-anchor="middle" fill="#0f172a">{}</text>"##,
            f1(HEAD_H - 8.0),
            f1(HEAD_H + BODY_H),
            f1(ll.x - 55.0),
            xml_escape(&ll.name),
            x = f1(ll.x)
        );
    }
    for a in &l.arrows {
        let colour = class_colour(a.class());
        let dash = match (a.duplicate, a.end) {
            (_, End::InFlight) => r#" stroke-dasharray="2 3""#,
            (true, _) => r#" stroke-dasharray="6 3""#,
            _ => "",
        };
        let head = if a.end == End::Arrived {
            r#" marker-end="url(#head)""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<g><title>{}</title><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="1.4"{dash}{head}/>"#,
            xml_escape(&a.title),
            f1(a.x1),
            f1(a.y1),
            f1(a.x2),
            f1(a.y2)
        );
        if let End::Dropped(_) = a.end {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#dc2626" font-size="13" font-weight="bold">✕</text>"##,
                f1(a.x2),
                f1(a.y2 + 4.5)
            );
        }
        if let Some(tag) = &a.tag {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" fill="#b45309" font-size="9">{}</text>"##,
                f1((a.x1 + a.x2) / 2.0 + 3.0),
                f1((a.y1 + a.y2) / 2.0 - 2.0),
                xml_escape(tag)
            );
        }
        s.push_str("</g>");
    }
    for m in &l.marks {
        let x = if m.kind == MarkKind::Command {
            46.0
        } else {
            m.x + 6.0
        };
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" fill="#b45309" font-size="12"><title>{}</title>{}</text>"##,
            f1(x),
            f1(m.y + 4.0),
            xml_escape(&m.title),
            m.kind.glyph()
        );
    }
    let _ = write!(
        s,
        r##"<line x1="40" x2="{}" y1="{y}" y2="{y}" stroke="#ef4444" stroke-width="1.2"/><text x="{}" y="{}" fill="#ef4444" font-size="10" text-anchor="end">now {}</text>"##,
        f1(l.width),
        f1(l.width - 4.0),
        f1(l.now_y - 3.0),
        secs(l.now),
        y = f1(l.now_y)
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::{Command, Simulation};

    fn tiny() -> Simulation {
        let json = r#"{"name":"t","nodes":[{"name":"p","kind":"service"},{"name":"b","kind":"broker"},
            {"name":"c","kind":"service"}],
            "links":[{"a":"p","b":"b","latency_ms":10},{"a":"b","b":"c","latency_ms":10}],
            "channels":[{"name":"q","kind":"queue","broker":"b","consumers":["c"]}],
            "workloads":[{"from":"p","every_ms":100,"count":1,"messages":[
              {"channel":"q","kind":"command","type":"Do"}]}],
            "policies":{"ack_timeout_ms":100}}"#;
        Simulation::from_json(json, 1).unwrap()
    }

    fn lay(sim: &Simulation, window_ms: u64) -> SeqLayout {
        let snap = sim.snapshot();
        layout(
            sim.scenario(),
            sim.trace().events(),
            &snap.in_flight,
            sim.now(),
            SimTime::from_ms(window_ms),
        )
    }

    #[test]
    fn a_partitioned_delivery_is_dropped_then_redelivered() {
        let mut sim = tiny();
        sim.apply(Command::PartitionOneway {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(50), u64::MAX);
        sim.apply(Command::Repair {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(200), u64::MAX);
        let l = lay(&sim, 200);
        assert_eq!(
            (l.from, l.to, l.now),
            (SimTime::ZERO, SimTime::from_ms(200), SimTime::from_ms(200))
        );
        assert_eq!(
            l.lifelines
                .iter()
                .map(|x| (x.name.as_str(), x.x))
                .collect::<Vec<_>>(),
            [("p", 90.0), ("b", 220.0), ("c", 350.0)]
        );
        assert_eq!((l.width, l.height, l.now_y), (440.0, 470.0, 456.0));
        let got: Vec<_> = l
            .arrows
            .iter()
            .map(|a| {
                (
                    a.packet.as_str(),
                    a.end,
                    a.tag.clone(),
                    a.x1,
                    a.y1,
                    a.x2,
                    a.y2,
                )
            })
            .collect();
        // 2.1 px per ms below the 36 px head.
        assert_eq!(
            got,
            vec![
                ("publish", End::Arrived, None, 90.0, 36.0, 220.0, 57.0),
                (
                    "deliver",
                    End::Dropped(DropReason::Partition),
                    None,
                    220.0,
                    57.0,
                    285.0,
                    67.5
                ),
                ("publish_ack", End::Arrived, None, 220.0, 57.0, 90.0, 78.0),
                (
                    "deliver",
                    End::Arrived,
                    Some("redelivery 2".to_string()),
                    220.0,
                    267.0,
                    350.0,
                    288.0
                ),
                // Acked after 10 ms of processing.
                ("ack", End::Arrived, None, 350.0, 309.0, 220.0, 330.0),
            ]
        );
        assert_eq!(l.completed(), 5);
        assert_eq!(l.first_seq, Some(2));
        let marks: Vec<_> = l.marks.iter().map(|m| (m.kind, m.lane, m.y)).collect();
        assert_eq!(
            marks,
            vec![
                (MarkKind::Command, 0, 36.0),
                (MarkKind::Command, 0, 141.0),
                (MarkKind::Redeliver, 1, 267.0),
            ]
        );
        assert_eq!(
            l.ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["0.000 s", "0.050 s", "0.100 s", "0.150 s", "0.200 s"]
        );
        let mermaid = mermaid_window(sim.scenario(), sim.trace().events(), &l);
        assert_eq!(
            mermaid
                .lines()
                .filter(|x| x.contains("->>") || x.contains("-x"))
                .count(),
            5
        );
        let svg = to_svg(&l, "t");
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
        assert_eq!(
            svg.matches("<line x1=\"90.0\" y1=").count()
                + svg.matches("<line x1=\"220.0\" y1=").count()
                + svg.matches("<line x1=\"350.0\" y1=").count(),
            5
        );
        assert_eq!(svg.matches('✕').count(), 1);
    }

    #[test]
    fn in_flight_packets_stop_at_the_now_line_and_old_ones_are_cut_at_the_top() {
        let mut sim = tiny();
        sim.run_until(SimTime::from_ms(5), u64::MAX);
        let l = lay(&sim, 1_000);
        // The publish left at 0 ms and is half way (latency 10 ms) at 5 ms.
        assert_eq!(l.arrows.len(), 1);
        let a = &l.arrows[0];
        assert_eq!((a.end, a.x1, a.x2), (End::InFlight, 90.0, 155.0));
        assert_eq!((a.y1, a.y2), (36.0, l.now_y));
        assert_eq!(l.completed(), 0);
        assert_eq!(l.first_seq, None);
        assert_eq!(mermaid_window(sim.scenario(), sim.trace().events(), &l), "sequenceDiagram\n    participant n0 as p\n    participant n1 as b\n    participant n2 as c\n");

        // A 2 ms window at 15 ms: the deliver (10 → 20 ms) is in flight, the publish ack too.
        sim.run_until(SimTime::from_ms(15), u64::MAX);
        let l = lay(&sim, 2);
        assert_eq!(l.from, SimTime::from_ms(13));
        assert_eq!(l.completed(), 0);
        assert!(l.arrows.iter().all(|a| a.y1 == HEAD_H && a.y2 == l.now_y));
        let in_flight: Vec<_> = l
            .arrows
            .iter()
            .map(|a| (a.packet.as_str(), a.x1, a.x2))
            .collect();
        assert_eq!(
            in_flight,
            vec![("publish_ack", 181.0, 155.0), ("deliver", 259.0, 285.0)]
        );
    }

    /// Every built-in scenario for 3 s of virtual time: a well-formed diagram and a Mermaid text
    /// with one arrow per arrived or dropped packet drawn, every participant declared.
    #[test]
    fn every_builtin_scenario_has_a_diagram_and_a_mermaid_export() {
        let mut counts = BTreeMap::new();
        for (name, json) in msgsim::scenarios::BUILTIN {
            let mut sim = Simulation::from_json(json, 42).unwrap();
            sim.run_until(SimTime::from_ms(3_000), 1_000_000);
            let l = lay(&sim, 2_000);
            assert_eq!(l.lifelines.len(), sim.scenario().nodes.len(), "{name}");
            assert!(l.completed() > 0, "{name}: no arrows");
            assert!(l.completed() <= MAX_ARROWS && l.arrows.len() <= MAX_ARROWS + MAX_IN_FLIGHT);
            assert!(l.marks.len() <= MAX_MARKS);
            for a in &l.arrows {
                for v in [a.x1, a.y1, a.x2, a.y2] {
                    assert!(
                        v.is_finite() && (0.0..=l.width).contains(&a.x1),
                        "{name}: {a:?}"
                    );
                }
                assert!(
                    a.y1 >= HEAD_H - 1e-9 && a.y1 <= a.y2 + 1e-9,
                    "{name}: {a:?}"
                );
                assert!(a.y2 <= l.now_y + 1e-9, "{name}: {a:?}");
            }
            let m = mermaid_window(sim.scenario(), sim.trace().events(), &l);
            assert!(m.starts_with("sequenceDiagram\n"), "{name}");
            assert!(!m.contains("more lines omitted"), "{name}");
            let declared: BTreeSet<String> = m
                .lines()
                .filter_map(|x| x.trim().strip_prefix("participant "))
                .map(|x| x.split(' ').next().unwrap().to_string())
                .collect();
            assert_eq!(declared.len(), l.lifelines.len(), "{name}");
            let arrows: Vec<&str> = m
                .lines()
                .map(str::trim)
                .filter(|x| !x.starts_with("Note") && (x.contains("->>") || x.contains("-x")))
                .collect();
            assert_eq!(arrows.len(), l.completed(), "{name}");
            for a in &arrows {
                let (ends, _) = a.split_once(':').unwrap();
                for p in ends.split(['-', '>', 'x']).filter(|p| !p.is_empty()) {
                    assert!(declared.contains(p), "{name}: {a}");
                }
            }
            let svg = to_svg(&l, name);
            assert!(
                svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"")
                    && svg.ends_with("</svg>\n")
            );
            assert_eq!(svg.matches("<g><title>").count(), l.arrows.len(), "{name}");
            counts.insert(
                *name,
                (l.completed(), l.arrows.len() - l.completed(), l.marks.len()),
            );
        }
        // (arrived or dropped, in flight, marks) in the window 1–3 s.
        assert_eq!(counts["order-events"], (95, 4, 0));
        assert_eq!(counts["dead-letter-queue"], (63, 2, 12));
        assert_eq!(counts["rpi-rest"], (8, 1, 0));
        // Busy ones hit the bound.
        assert_eq!(counts["broker-bottleneck"], (MAX_ARROWS, 6, 0));
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(
            xml_escape(r#"a<b & "c">"#),
            "a&lt;b &amp; &quot;c&quot;&gt;"
        );
        assert_eq!(
            xml_escape("a\u{1}b\u{0}\u{b}\u{1f}\u{fffe}\u{ffff}\t\n\r\u{7f}"),
            "a\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\t\n\r\u{7f}"
        );
    }

    /// The SVG export of a run whose names (title, nodes, hover texts) are hostile parses as XML
    /// (roxmltree, a strict XML 1.0 parser) and its texts read back exactly, U+0001 as U+FFFD.
    #[test]
    fn svg_of_hostile_names_is_well_formed_xml() {
        let mut sim = tiny();
        sim.run_until(SimTime::from_ms(200), u64::MAX);
        let mut l = lay(&sim, 1_000);
        let names = [
            "x\n%%{init:{\"theme\":\"dark\"}}%%",
            "a\nlink n0: Docs@https://ev.il/login",
            "</text><script>alert(1)</script>\u{1}",
        ];
        for (ll, n) in l.lifelines.iter_mut().zip(names) {
            ll.name = n.to_string();
        }
        for a in &mut l.arrows {
            a.title = format!("\" onload=\"alert(1) {}", names[2]);
        }
        let title = "t\u{1}<svg onload=alert(1)>&amp;\u{ffff}";
        let svg = to_svg(&l, title);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        for n in names {
            let want = n.replace('\u{1}', "\u{FFFD}");
            assert!(texts.contains(&want.as_str()), "{want:?} in {texts:?}");
        }
        let titles: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(titles[0], "t\u{FFFD}<svg onload=alert(1)>&amp;\u{FFFD}");
        assert_eq!(
            titles[1],
            "\" onload=\"alert(1) </text><script>alert(1)</script>\u{FFFD}"
        );
        // Nothing but the drawing's own elements, and no event-handler attribute.
        for n in doc.descendants().filter(|n| n.is_element()) {
            assert!(
                ["svg", "title", "defs", "marker", "path", "rect", "text", "line", "g"]
                    .contains(&n.tag_name().name()),
                "{:?}",
                n.tag_name()
            );
            assert!(n.attributes().all(|a| !a.name().starts_with("on")));
        }
    }
}
