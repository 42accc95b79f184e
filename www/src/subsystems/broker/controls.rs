//! Live broker settings: delivery (`set_broker_policies`: prefetch, ack timeout, delivery
//! limit), one channel's properties (`set_channel`: durability, dedup window, handler failures)
//! and a producer's rate (`set_workload`).

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::scenario::ChannelKind;
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`BrokerControls`].
#[derive(Properties, PartialEq)]
pub struct BrokerControlsProps {
    /// The scenario (its channels and workloads).
    pub scenario: Rc<Scenario>,
    /// Now (the values in force, as placeholders).
    pub snapshot: Rc<Snapshot>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// The broker forms; nothing when the scenario has no topic or queue and no workload.
#[function_component(BrokerControls)]
pub fn broker_controls(p: &BrokerControlsProps) -> Html {
    let s = &p.scenario;
    let brokered: Vec<_> = s
        .channels
        .iter()
        .filter(|c| matches!(c.kind, ChannelKind::Topic | ChannelKind::Queue))
        .collect();
    let mut out = Vec::new();
    if !brokered.is_empty() {
        let f = |key, label| Field {
            key,
            label,
            kind: Kind::Integer,
            nested: None,
        };
        let hints = BTreeMap::from([
            ("prefetch", s.policies.prefetch.to_string()),
            ("ack_timeout_ms", s.policies.ack_timeout_ms.to_string()),
            (
                "max_delivery_attempts",
                s.policies.max_delivery_attempts.to_string(),
            ),
        ]);
        out.push(html! {
            <SettingsForm title="Broker delivery (AMQP)" op="set_broker_policies"
                fields={vec![f("prefetch", "prefetch"), f("ack_timeout_ms", "ack timeout ms"),
                             f("max_delivery_attempts", "delivery limit")]}
                {hints} dispatch={p.dispatch.clone()} />
        });
        let target = Target {
            label: "channel",
            choices: brokered
                .iter()
                .map(|c| (c.name.clone(), vec![("channel", json!(c.name))]))
                .collect(),
        };
        out.push(html! {
            <SettingsForm title="Channel properties" op="set_channel" target={Some(target)}
                fields={vec![
                    Field { key: "durable", label: "durable", kind: Kind::Bool, nested: None },
                    Field { key: "dedup_window_ms", label: "dedup window ms", kind: Kind::Integer, nested: None },
                    Field { key: "failure_percent", label: "handler failure %", kind: Kind::Number, nested: None },
                ]}
                dispatch={p.dispatch.clone()} />
        });
    }
    if !s.workloads.is_empty() {
        let target = Target {
            label: "producer",
            choices: s
                .workloads
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    (
                        format!("{} (every {} ms)", w.from, w.every_ms),
                        vec![("workload", json!(i))],
                    )
                })
                .collect(),
        };
        out.push(html! {
            <SettingsForm title="Producer rate" op="set_workload" target={Some(target)}
                fields={vec![Field { key: "every_ms", label: "every ms", kind: Kind::Integer, nested: None }]}
                dispatch={p.dispatch.clone()} />
        });
    }
    let _ = &p.snapshot;
    html! { for out }
}
