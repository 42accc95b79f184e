//! Live consumer-group settings (`set_consumer_group`): records processed at once per
//! partition.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::scenario::ChannelKind;
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`KafkaControls`].
#[derive(Properties, PartialEq)]
pub struct KafkaControlsProps {
    /// The scenario (its partitioned topics).
    pub scenario: Rc<Scenario>,
    /// Now.
    pub snapshot: Rc<Snapshot>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// The consumer-group form; nothing without a consumed partitioned topic.
#[function_component(KafkaControls)]
pub fn kafka_controls(p: &KafkaControlsProps) -> Html {
    let choices: Vec<_> = p
        .scenario
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::PartitionedTopic)
        .flat_map(|c| {
            c.consumers.iter().map(move |g| {
                (
                    format!("{}/{g}", c.name),
                    vec![("channel", json!(c.name)), ("consumer", json!(g))],
                )
            })
        })
        .collect();
    if choices.is_empty() {
        return Html::default();
    }
    let _ = &p.snapshot;
    html! {
        <SettingsForm title="Consumer group" op="set_consumer_group"
            target={Some(Target { label: "group", choices })}
            fields={vec![Field { key: "workers_per_partition", label: "workers_per_partition", kind: Kind::Integer, nested: None }]}
            dispatch={p.dispatch.clone()} />
    }
}
