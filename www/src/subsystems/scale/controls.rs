//! Scale a service out and in, live (`scale`, as `kubectl scale --replicas`): 0 to the instances
//! its scenario declares. Scaling in stops instances as a crash does (a broker redelivers their
//! unacknowledged messages, a Kafka consumer group rebalances, a registry forgets them when their
//! heartbeats stop); scaling out starts them again, with empty memory.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::scenario::NodeKind;
use msgsim::snapshot::InstanceStatus;
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`ScaleControls`].
#[derive(Properties, PartialEq)]
pub struct ScaleControlsProps {
    /// The scenario (its services and their declared instances).
    pub scenario: Rc<Scenario>,
    /// Now (how many run).
    pub snapshot: Rc<Snapshot>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// The form; nothing when no service has more than one declared instance.
#[function_component(ScaleControls)]
pub fn scale_controls(p: &ScaleControlsProps) -> Html {
    let running = |name: &str| {
        p.snapshot
            .nodes
            .iter()
            .find(|n| n.name == name)
            .map_or(0, |n| {
                n.instances
                    .iter()
                    .filter(|i| i.status == InstanceStatus::Up)
                    .count()
            })
    };
    let choices: Vec<_> = p
        .scenario
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Service && n.instances > 1)
        .map(|n| {
            (
                format!(
                    "{} ({} of {} running)",
                    n.name,
                    running(&n.name),
                    n.instances
                ),
                vec![("node", json!(n.name))],
            )
        })
        .collect();
    if choices.is_empty() {
        return Html::default();
    }
    html! {
        <SettingsForm title="Scale a service (instances)" op="scale"
            target={Some(Target { label: "service", choices })}
            fields={vec![Field { key: "instances", label: "instances", kind: Kind::Integer, nested: None }]}
            hints={BTreeMap::from([("instances", "0 to declared".to_string())])}
            dispatch={p.dispatch.clone()} />
    }
}
