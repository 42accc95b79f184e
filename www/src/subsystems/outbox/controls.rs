//! Live relay settings (`set_relay`): strict or pipelined (`max_in_flight`), batch size, poll
//! period and how often a log-tailing relay saves its position.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`OutboxControls`].
#[derive(Properties, PartialEq)]
pub struct OutboxControlsProps {
    /// The scenario (its relays).
    pub scenario: Rc<Scenario>,
    /// Now.
    pub snapshot: Rc<Snapshot>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// The relay form; nothing without relays.
#[function_component(OutboxControls)]
pub fn outbox_controls(p: &OutboxControlsProps) -> Html {
    let relays = &p.scenario.transactional.relays;
    if relays.is_empty() {
        return Html::default();
    }
    let target = Target {
        label: "relay",
        choices: relays
            .iter()
            .map(|r| {
                (
                    format!("{} (max_in_flight {})", r.node, r.max_in_flight),
                    vec![("node", json!(r.node))],
                )
            })
            .collect(),
    };
    let f = |key, label| Field {
        key,
        label,
        kind: Kind::Integer,
        nested: None,
    };
    let _ = &p.snapshot;
    html! {
        <SettingsForm title="Message relay" op="set_relay" target={Some(target)}
            fields={vec![f("max_in_flight", "max_in_flight (1 = strict)"), f("batch_size", "batch_size"),
                         f("poll_every_ms", "poll every ms"), f("save_every", "save_every (log tailing)")]}
            dispatch={p.dispatch.clone()} />
    }
}
