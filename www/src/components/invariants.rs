//! The Invariants panel (issue #7): the guarantees the scenario claims, each ✓ holding or ✗
//! violated at t=… with its one-line reason, and behind a toggle the trace line of the first
//! violating event. The engine checks the claims on every event (`msgsim::invariants`); this
//! panel only renders [`Snapshot::invariants`].

use super::{cls, panel};
use crate::format::{format_secs, plural};
use msgsim::invariants::{Invariant, InvariantState, InvariantStatus};
use msgsim::Snapshot;
use yew::prelude::*;

/// The verdict line of a claim: `holding · 120 messages followed` or
/// `violated at t=2.040 s (event #428) · 3 violating events · 71 messages followed`.
pub fn verdict(s: &InvariantStatus) -> String {
    let checked = format!("{} {}", s.checked, s.claim.claim.checked_unit());
    match &s.state {
        InvariantState::Holding => format!("holding · {checked}"),
        InvariantState::Violated { seq, time, .. } => format!(
            "violated at t={} (event #{seq}) · {} · {checked}",
            format_secs(*time),
            plural(s.violations, "violating event")
        ),
    }
}

fn claim_item(i: usize, s: &InvariantStatus, on_seek: &Callback<u64>) -> Html {
    let holds = s.holds();
    let details = match &s.state {
        InvariantState::Holding => html! {},
        InvariantState::Violated {
            seq,
            reason,
            line,
            time,
        } => {
            let to_us = time.0;
            let go = on_seek.reform(move |_: MouseEvent| to_us);
            html! {
            <>
                <p class="invariant-reason" data-testid={format!("invariant-reason-{i}")}>{ reason }</p>
                <button class="btn small invariant-go" data-testid={format!("invariant-go-{i}")} onclick={go}
                        title="Move the run (timeline, canvas, diagram, log) to the moment of the first violating event">
                    { format!("⇤ go to t={}", format_secs(*time)) }
                </button>
                <details class="invariant-event">
                    <summary data-testid={format!("invariant-show-{i}")}>{ format!("first violating event #{seq}") }</summary>
                    <code class="trace-line" data-testid={format!("invariant-line-{i}")}>{ line }</code>
                </details>
            </>
            }
        }
    };
    html! {
        <li key={i} class={cls("invariant", &[(holds, "holding"), (!holds, "violated")])}
            data-testid={format!("invariant-{i}")}>
            <span class="invariant-mark" aria-label={if holds { "holding" } else { "violated" }}>
                { if holds { "✓" } else { "✗" } }
            </span>
            <strong>{ s.claim.claim.title() }</strong>
            <code class="invariant-name">{ s.claim.label() }</code>
            <span class="invariant-verdict" data-testid={format!("invariant-verdict-{i}")}>{ verdict(s) }</span>
            { details }
        </li>
    }
}

/// Properties of [`InvariantsPanel`].
#[derive(Properties, PartialEq)]
pub struct InvariantsProps {
    /// The state shown.
    pub snapshot: std::rc::Rc<Snapshot>,
    /// Seek the run to a virtual time (µs): the "go to" button of a violated claim.
    pub on_seek: Callback<u64>,
}

/// The panel, with a button per violated claim that moves the run to its first violating event.
#[function_component(InvariantsPanel)]
pub fn invariants_panel_component(p: &InvariantsProps) -> Html {
    invariants_panel(&p.snapshot, &p.on_seek)
}

/// The panel; nothing when the scenario claims no invariant.
pub fn invariants_panel(s: &Snapshot, on_seek: &Callback<u64>) -> Html {
    if s.invariants.is_empty() {
        return html! {};
    }
    let loss_claimed = s
        .invariants
        .iter()
        .any(|st| st.claim.claim == Invariant::NoMessageLost);
    let body = html! {
        <>
            <ul class="invariant-list">
                { for s.invariants.iter().enumerate().map(|(i, st)| claim_item(i, st, on_seek)) }
            </ul>
            if loss_claimed {
                <p class="invariant-hint">{ "A dead-lettered message is kept (in the dead-letter queue), not lost." }</p>
            }
        </>
    };
    panel(
        "invariants",
        "invariants",
        "Invariants",
        "claimed by the scenario, checked on every event",
        body,
    )
}
