//! Live Resilience4j settings of a client's proxy for one dependency: the circuit breaker's
//! config (`configure_breaker`), the retry (`set_retry`) and the time limiter
//! (`set_time_limiter`), with Resilience4j's names.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`ResilienceControls`].
#[derive(Properties, PartialEq)]
pub struct ResilienceControlsProps {
    /// The scenario (its dependencies).
    pub scenario: Rc<Scenario>,
    /// Now.
    pub snapshot: Rc<Snapshot>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

fn cfg(key: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        key,
        label,
        kind,
        nested: Some("config"),
    }
}

/// The forms; nothing when the scenario has no synchronous dependency.
#[function_component(ResilienceControls)]
pub fn resilience_controls(p: &ResilienceControlsProps) -> Html {
    let s = &p.scenario;
    // Declared dependencies plus the implicit ones of call workloads.
    let mut deps: Vec<(String, String, bool)> = s
        .dependencies
        .iter()
        .map(|d| {
            (
                d.from.clone(),
                d.to.clone(),
                d.policies.circuit_breaker.is_some(),
            )
        })
        .collect();
    for c in &s.calls {
        if !deps.iter().any(|d| d.0 == c.from && d.1 == c.to) {
            deps.push((c.from.clone(), c.to.clone(), false));
        }
    }
    if deps.is_empty() {
        return Html::default();
    }
    let target = |only_breakers: bool| Target {
        label: "dependency",
        choices: deps
            .iter()
            .filter(|d| !only_breakers || d.2)
            .map(|(from, to, _)| {
                (
                    format!("{from} -> {to}"),
                    vec![("node", json!(from)), ("service", json!(to))],
                )
            })
            .collect(),
    };
    let breakers = target(true);
    let _ = &p.snapshot;
    html! {
        <>
            if !breakers.choices.is_empty() {
                <SettingsForm title="Circuit breaker config" op="configure_breaker" target={Some(breakers)}
                    fields={vec![
                        cfg("failureRateThreshold", "failureRateThreshold %", Kind::Number),
                        cfg("slidingWindowSize", "slidingWindowSize", Kind::Integer),
                        cfg("minimumNumberOfCalls", "minimumNumberOfCalls", Kind::Integer),
                        cfg("waitDurationInOpenState", "waitDurationInOpenState ms", Kind::DurationMs),
                        cfg("permittedNumberOfCallsInHalfOpenState", "permittedNumberOfCallsInHalfOpenState", Kind::Integer),
                    ]}
                    dispatch={p.dispatch.clone()} />
            }
            <SettingsForm title="Retry (empty: remove)" op="set_retry" target={Some(target(false))}
                fields={vec![
                    cfg("maxAttempts", "maxAttempts", Kind::Integer),
                    cfg("waitDuration", "waitDuration ms", Kind::DurationMs),
                ]}
                dispatch={p.dispatch.clone()} />
            <SettingsForm title="Time limiter (empty: remove)" op="set_time_limiter" target={Some(target(false))}
                fields={vec![cfg("timeoutDuration", "timeoutDuration ms", Kind::DurationMs)]}
                dispatch={p.dispatch.clone()} />
        </>
    }
}
