//! A service's endpoint behaviour, live (`set_endpoint`): service time, jitter, slow calls and
//! injected errors of one endpoint or all of them, as a fault-injection proxy (Toxiproxy's
//! `latency` toxic, a chaos filter returning 5xx) would make them.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::Scenario;
use serde_json::{json, Value};
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`EndpointControls`].
#[derive(Properties, PartialEq)]
pub struct EndpointControlsProps {
    /// The scenario (its services' APIs).
    pub scenario: Rc<Scenario>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

fn b(key: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        key,
        label,
        kind,
        nested: Some("behaviour"),
    }
}

/// The choices: every endpoint of every API (`service METHOD path`), and each service's "all
/// endpoints".
pub fn endpoint_choices(s: &Scenario) -> Vec<(String, Vec<(&'static str, Value)>)> {
    let mut out = Vec::new();
    for api in &s.apis {
        out.push((
            format!("{} (all endpoints)", api.service),
            vec![("node", json!(api.service))],
        ));
        for (i, e) in api.endpoints.iter().enumerate() {
            // Level 0/1 APIs put several operations on one method and path: the operation's
            // name tells them apart (`orders-l0 getOrder (POST /api)`).
            let route = format!("{} {}", e.method, e.path);
            let label = if e.name.is_empty() || e.name == route {
                format!("{} {route}", api.service)
            } else {
                format!("{} {} ({route})", api.service, e.name)
            };
            out.push((
                label,
                vec![("node", json!(api.service)), ("endpoint", json!(i))],
            ));
        }
    }
    out
}

/// The form; nothing when no service has an API.
#[function_component(EndpointControls)]
pub fn endpoint_controls(p: &EndpointControlsProps) -> Html {
    let choices = endpoint_choices(&p.scenario);
    if choices.is_empty() {
        return Html::default();
    }
    html! {
        <SettingsForm title="Endpoint behaviour (empty: 5 ms, 0 %, status 500)" op="set_endpoint"
            target={Some(Target { label: "endpoint", choices })}
            fields={vec![
                b("latency_ms", "latency ms", Kind::Integer),
                b("jitter_ms", "jitter ms", Kind::Integer),
                b("error_percent", "error %", Kind::Number),
                b("error_status", "error status", Kind::Integer),
                b("slow_percent", "slow %", Kind::Number),
                b("slow_latency_ms", "slow latency ms", Kind::Integer),
            ]}
            dispatch={p.dispatch.clone()} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsystems::form::build_command;
    use std::collections::BTreeMap;

    /// rpi-rest: one choice per endpoint plus "all"; a slow, failing behaviour applies.
    #[test]
    fn endpoint_choices_build_set_endpoint() {
        let s = Scenario::from_json(msgsim::scenarios::get("rpi-rest").unwrap()).unwrap();
        let choices = endpoint_choices(&s);
        assert_eq!(choices[0].0, "orders (all endpoints)");
        // rest-maturity: one label per operation, none twice.
        let rm = Scenario::from_json(msgsim::scenarios::get("rest-maturity").unwrap()).unwrap();
        let labels: Vec<String> = endpoint_choices(&rm).into_iter().map(|c| c.0).collect();
        assert_eq!(labels[1], "orders-l0 createOrder (POST /api)");
        assert_eq!(labels[3], "orders-l0 cancelOrder (POST /api)");
        let distinct: std::collections::BTreeSet<&String> = labels.iter().collect();
        assert_eq!(distinct.len(), labels.len());
        let fields = [
            b("latency_ms", "latency ms", Kind::Integer),
            b("error_percent", "error %", Kind::Number),
        ];
        let raw = BTreeMap::from([
            ("latency_ms", "300".to_string()),
            ("error_percent", "25".to_string()),
        ]);
        let c = build_command("set_endpoint", &choices[1].1, &fields, &raw).unwrap();
        assert_eq!(
            c.describe(),
            "set_endpoint orders[0] latency=300ms jitter=0ms slow=0%x0ms error=25%x500"
        );
        let mut sim = msgsim::Simulation::new(s.clone(), s.seed).unwrap();
        sim.apply(c).unwrap();
    }
}
