//! The schema version a producer writes, live (`set_schema_version`): a rollout of one of the
//! versions a channel declares, as a team deploying a new producer build would do.

use crate::state::Action;
use crate::subsystems::form::{SettingsForm, Target};
use msgsim::Scenario;
use serde_json::{json, Value};
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`SchemaControls`].
#[derive(Properties, PartialEq)]
pub struct SchemaControlsProps {
    /// The scenario (its channels' schemas and its producers).
    pub scenario: Rc<Scenario>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// One choice per (producer, channel with schemas, declared version): `order → orders writes
/// 1.1.0`. Producers are the workloads' senders; versions in declaration order, once each.
pub fn version_choices(s: &Scenario) -> Vec<(String, Vec<(&'static str, Value)>)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for w in &s.workloads {
        for m in &w.messages {
            let p = (w.from.clone(), m.channel.clone());
            if !pairs.contains(&p) {
                pairs.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for (node, channel) in pairs {
        let Some(c) = s.channels.iter().find(|c| c.name == channel) else {
            continue;
        };
        let mut versions: Vec<String> = Vec::new();
        for sch in &c.schemas {
            let v = sch.version.to_string();
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        for v in versions {
            out.push((
                format!("{node} → {channel} writes {v}"),
                vec![
                    ("node", json!(node)),
                    ("channel", json!(channel)),
                    ("version", json!(v)),
                ],
            ));
        }
    }
    out
}

/// The form; nothing when no channel declares schemas.
#[function_component(SchemaControls)]
pub fn schema_controls(p: &SchemaControlsProps) -> Html {
    let choices = version_choices(&p.scenario);
    if choices.is_empty() {
        return Html::default();
    }
    html! {
        <SettingsForm title="Schema version a producer writes (rollout)" op="set_schema_version"
            target={Some(Target { label: "rollout", choices })}
            fields={vec![]}
            dispatch={p.dispatch.clone()} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsystems::form::build_command;
    use std::collections::BTreeMap;

    /// schema-rollout: every rollout the form offers builds a command the engine accepts.
    #[test]
    fn every_offered_rollout_applies() {
        let s = Scenario::from_json(msgsim::scenarios::get("schema-rollout").unwrap()).unwrap();
        let choices = version_choices(&s);
        let labels: Vec<&str> = choices.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            labels,
            [
                "signup → user-events writes 1.0.0",
                "signup → user-events writes 1.1.0",
                "signup → user-events writes 2.0.0"
            ]
        );
        let mut sim = msgsim::Simulation::new(s.clone(), s.seed).unwrap();
        for (label, target) in &choices {
            let c = build_command("set_schema_version", target, &[], &BTreeMap::new()).unwrap();
            sim.apply(c).unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        assert_eq!(sim.command_log().len(), 3);
    }
}
