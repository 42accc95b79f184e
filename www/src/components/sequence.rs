//! The sequence diagram panel: the layout of [`crate::sequence`] drawn as SVG, synchronized with
//! the canvas (the same virtual time, the now-line at it; the selected node's lifeline and the
//! selected link's arrows highlighted; a click on an arrow selects its message, as a click on a
//! message of the canvas picks it for the inspector), with downloads: Mermaid, SVG, trace JSONL.

use super::cls;
use crate::sequence::{self, End, SeqLayout, DEFAULT_WINDOW, WINDOWS_MS};
use crate::state::{Action, Selection, SimRef};
use msgsim::scenario::Scenario;
use msgsim::{SimTime, Snapshot};
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Properties of [`SequenceView`]. Equal when the tick, the selection and the run are: the
/// panel re-renders at the pace of the other throttled panels while playing.
#[derive(Properties)]
pub struct SequenceProps {
    /// Re-render when this changes (`throttle::tick`).
    pub tick: u64,
    /// The running simulation (its trace).
    pub sim: SimRef,
    /// The state at the current time (packets in flight).
    pub snapshot: Rc<Snapshot>,
    /// The scenario (lifelines, names of the downloads).
    pub scenario: Rc<Scenario>,
    /// What is selected on the canvas.
    pub selection: Option<Selection>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for SequenceProps {
    fn eq(&self, o: &Self) -> bool {
        self.tick == o.tick
            && self.selection == o.selection
            && self.sim == o.sim
            && Rc::ptr_eq(&self.scenario, &o.scenario)
    }
}

/// Lays out the window ending at the snapshot's time.
pub fn layout_of(sim: &SimRef, snapshot: &Snapshot, window: SimTime) -> SeqLayout {
    sim.with(|s| {
        sequence::layout(
            s.scenario(),
            s.trace().events(),
            &snapshot.in_flight,
            snapshot.time,
            window,
        )
    })
}

fn f1(v: f64) -> String {
    sequence::f1(v)
}

/// The sequence diagram panel.
#[function_component(SequenceView)]
pub fn sequence_view(p: &SequenceProps) -> Html {
    let window_ms = use_state(|| DEFAULT_WINDOW.as_us() / 1_000);
    let open = use_state(|| true);
    let window = SimTime::from_ms(*window_ms);
    let on_window = {
        let w = window_ms.clone();
        Callback::from(move |e: Event| {
            let sel: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(ms) = sel.value().parse::<u64>() {
                if WINDOWS_MS.contains(&ms) {
                    w.set(ms);
                }
            }
        })
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let name = p.scenario.name.clone();
    let download = |what: &'static str| {
        let sim = p.sim.clone();
        let snap = Rc::clone(&p.snapshot);
        let name = name.clone();
        Callback::from(move |_: MouseEvent| {
            let (file, mime, text) = match what {
                "mermaid" => {
                    let l = layout_of(&sim, &snap, window);
                    let text = sim
                        .with(|s| sequence::mermaid_window(s.scenario(), s.trace().events(), &l));
                    (format!("{name}-sequence.mmd"), "text/plain", text)
                }
                "svg" => {
                    let l = layout_of(&sim, &snap, window);
                    let title = format!("{name} · seed {}", snap.seed);
                    (
                        format!("{name}-sequence.svg"),
                        "image/svg+xml",
                        sequence::to_svg(&l, &title),
                    )
                }
                _ => {
                    let text = sim.with(|s| crate::exports::trace_jsonl(s.trace().events()));
                    (format!("{name}-trace.jsonl"), "application/x-ndjson", text)
                }
            };
            crate::web::download(&file, mime, &text);
        })
    };
    let head = html! {
        <div class="seq-head">
            <h2>{ "Sequence diagram" }<span class="sub">{ "one lifeline per node; every packet from its send to its arrival (✕ dropped), newest at the red now-line" }</span></h2>
            <div class="seq-tools">
                <label class="field">
                    <span class="label">{ "Window" }</span>
                    <select data-testid="seq-window" onchange={on_window} aria-label="Window of virtual time">
                        { for WINDOWS_MS.iter().map(|ms| html! {
                            <option value={ms.to_string()} selected={*ms == *window_ms}>{ crate::format::format_secs(SimTime::from_ms(*ms)) }</option>
                        }) }
                    </select>
                </label>
                <button class="btn small" data-testid="export-mermaid" title="Download the window as a Mermaid sequenceDiagram" onclick={download("mermaid")}>{ "⤓ Mermaid" }</button>
                <button class="btn small" data-testid="export-svg" title="Download the diagram as a standalone SVG" onclick={download("svg")}>{ "⤓ SVG" }</button>
                <button class="btn small" data-testid="export-jsonl" title="Download the trace kept in memory (up to 10 000 events) as JSON Lines" onclick={download("jsonl")}>{ "⤓ Trace JSONL" }</button>
                <button class="btn small" data-testid="seq-toggle" aria-expanded={open.to_string()} onclick={toggle}>{ if *open { "Hide" } else { "Show" } }</button>
            </div>
        </div>
    };
    let inspector = html! {
        <crate::subsystems::message::MessageInspector tick={p.tick} sim={p.sim.clone()} snapshot={Rc::clone(&p.snapshot)}
            selection={p.selection} dispatch={p.dispatch.clone()} />
    };
    if !*open {
        return html! { <>{ inspector }<section class="panel seq-view closed" data-testid="sequence" aria-label="Sequence diagram">{ head }</section></> };
    }
    let l = layout_of(&p.sim, &p.snapshot, window);
    let (sel_node, sel_link, sel_msg) = match p.selection {
        Some(Selection::Node(i)) => (Some(i), None, None),
        Some(Selection::Link(i)) => (
            None,
            p.scenario.links.get(i).map(|k| (k.a.clone(), k.b.clone())),
            None,
        ),
        Some(Selection::Message(m)) => (None, None, Some(m)),
        None => (None, None, None),
    };
    let on_link = |a: usize, b: usize| {
        sel_link.as_ref().is_some_and(|(x, y)| {
            let (na, nb) = (&l.lifelines[a].name, &l.lifelines[b].name);
            (na == x && nb == y) || (na == y && nb == x)
        })
    };
    let arrows = l.arrows.iter().map(|a| {
        let msg = a.msg;
        let onclick = {
            let d = p.dispatch.clone();
            Callback::from(move |_: MouseEvent| d.emit(Action::Select(Selection::Message(msg))))
        };
        let class = cls(
            "seq-arrow",
            &[
                (true, a.class()),
                (a.duplicate, "dup"),
                (a.end == End::InFlight, "flying"),
                (matches!(a.end, End::Dropped(_)), "dropped"),
                (a.tag.is_some() && !a.duplicate, "again"),
                (sel_msg == Some(msg) && msg.0 != 0, "selected"),
                (on_link(a.from.0, a.to.0), "on-link"),
            ],
        );
        let head = (a.end == End::Arrived).then_some("url(#seq-head)");
        html! {
            <g key={a.transit.to_string()} class={class} data-testid="seq-arrow" data-msg-id={(msg.0 != 0).then(|| msg.to_string())}
               data-end={match a.end { End::Arrived => "arrived", End::Dropped(_) => "dropped", End::InFlight => "in-flight" }} {onclick}>
                <title>{ &a.title }</title>
                <line class="hit" x1={f1(a.x1)} y1={f1(a.y1)} x2={f1(a.x2)} y2={f1(a.y2)} />
                <line class="shaft" x1={f1(a.x1)} y1={f1(a.y1)} x2={f1(a.x2)} y2={f1(a.y2)} marker-end={head} />
                if let End::Dropped(_) = a.end {
                    <text class="x" x={f1(a.x2)} y={f1(a.y2 + 4.5)}>{ "✕" }</text>
                }
                if let Some(tag) = &a.tag {
                    <text class="tag" x={f1((a.x1 + a.x2) / 2.0 + 3.0)} y={f1((a.y1 + a.y2) / 2.0 - 2.0)}>{ tag }</text>
                }
            </g>
        }
    });
    let lifelines = l.lifelines.iter().enumerate().map(|(i, ll)| {
        let onclick = {
            let d = p.dispatch.clone();
            Callback::from(move |_: MouseEvent| d.emit(Action::Select(Selection::Node(i))))
        };
        html! {
            <g key={ll.name.clone()} class={cls("lifeline", &[(sel_node == Some(i), "selected")])} {onclick}>
                <line x1={f1(ll.x)} x2={f1(ll.x)} y1={f1(sequence::HEAD_H - 8.0)} y2={f1(sequence::HEAD_H + sequence::BODY_H)} />
                <rect x={f1(ll.x - 55.0)} y="4" width="110" height="24" rx="4" />
                <text x={f1(ll.x)} y="20">{ crate::format::shorten(&ll.name, 16) }</text>
            </g>
        }
    });
    let note = format!(
        "{} to {} · {} arrived or dropped{} · {} in flight",
        crate::format::format_secs(l.from),
        crate::format::format_secs(l.to),
        l.completed(),
        if l.omitted > 0 {
            format!(
                " (the newest {}; {} older not drawn)",
                sequence::MAX_ARROWS,
                l.omitted
            )
        } else {
            String::new()
        },
        l.arrows.len() - l.completed(),
    );
    html! {
        <>
        { inspector }
        <section class="panel seq-view" data-testid="sequence" aria-label="Sequence diagram">
            { head }
            <p class="muted seq-note" data-testid="seq-note">{ note }</p>
            <div class="seq-scroll">
                <svg class="seq" width={f1(l.width)} height={f1(l.height)} viewBox={format!("0 0 {} {}", f1(l.width), f1(l.height))}
                     role="img" aria-label="Sequence diagram of the recent messages">
                    <defs>
                        <marker id="seq-head" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" fill="context-stroke" />
                        </marker>
                    </defs>
                    { for l.ticks.iter().map(|t| html! {
                        <g class="seq-tick">
                            <line x1="40" x2={f1(l.width)} y1={f1(t.y)} y2={f1(t.y)} />
                            <text x="4" y={f1(t.y + 3.0)}>{ &t.label }</text>
                        </g>
                    }) }
                    { for lifelines }
                    { for arrows }
                    { for l.marks.iter().map(|m| html! {
                        <text class={cls("seq-mark", &[(true, m.kind.class())])}
                              x={f1(if m.kind == sequence::MarkKind::Command { 46.0 } else { m.x + 6.0 })} y={f1(m.y + 4.0)}>
                            <title>{ &m.title }</title>{ m.kind.glyph() }
                        </text>
                    }) }
                    <g class="seq-now" data-testid="seq-now">
                        <line x1="40" x2={f1(l.width)} y1={f1(l.now_y)} y2={f1(l.now_y)} />
                        <text x={f1(l.width - 4.0)} y={f1(l.now_y - 3.0)}>{ format!("now {}", crate::format::format_secs(l.now)) }</text>
                    </g>
                </svg>
            </div>
        </section>
        </>
    }
}
