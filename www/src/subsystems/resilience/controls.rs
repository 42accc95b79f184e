//! Live Resilience4j settings of a client's proxy for one dependency: the circuit breaker's
//! config (`configure_breaker`) and state (`set_breaker`, the `transitionTo…State` calls), the
//! retry (`set_retry`, with exponential backoff and randomized wait), the bulkhead
//! (`set_bulkhead`), the rate limiter (`set_rate_limiter`) and the time limiter
//! (`set_time_limiter`), with Resilience4j's names.

use crate::state::Action;
use crate::subsystems::form::{Field, Kind, SettingsForm, Target};
use msgsim::{Scenario, Snapshot};
use serde_json::json;
use std::rc::Rc;

/// The states `set_breaker` moves to, Resilience4j's spelling (`""`: none chosen yet).
const STATES: &[&str] = &[
    "",
    "CLOSED",
    "OPEN",
    "HALF_OPEN",
    "FORCED_OPEN",
    "DISABLED",
    "METRICS_ONLY",
];
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
    // Breaker state by hand: one choice per client instance of a dependency with a breaker.
    let instances = |node: &str| {
        s.nodes
            .iter()
            .find(|n| n.name == node)
            .map_or(1, |n| n.instances.max(1))
    };
    let breaker_instances = Target {
        label: "breaker",
        choices: deps
            .iter()
            .filter(|d| d.2)
            .flat_map(|(from, to, _)| {
                (0..instances(from)).map(move |i| {
                    (
                        format!("{from}#{i} -> {to}"),
                        vec![
                            ("node", json!(from)),
                            ("instance", json!(i)),
                            ("service", json!(to)),
                        ],
                    )
                })
            })
            .collect(),
    };
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
                <SettingsForm title="Circuit breaker state (by hand)" op="set_breaker" target={Some(breaker_instances)}
                    fields={vec![Field { key: "state", label: "transition to", kind: Kind::Choice(STATES), nested: None }]}
                    dispatch={p.dispatch.clone()} />
            }
            <SettingsForm title="Retry (empty: remove)" op="set_retry" target={Some(target(false))}
                fields={vec![
                    cfg("maxAttempts", "maxAttempts", Kind::Integer),
                    cfg("waitDuration", "waitDuration ms", Kind::DurationMs),
                    cfg("enableExponentialBackoff", "exponential backoff", Kind::Bool),
                    cfg("exponentialBackoffMultiplier", "backoff multiplier", Kind::Number),
                    cfg("enableRandomizedWait", "randomized wait (jitter)", Kind::Bool),
                    cfg("randomizedWaitFactor", "randomizedWaitFactor", Kind::Number),
                ]}
                dispatch={p.dispatch.clone()} />
            <SettingsForm title="Bulkhead (empty: remove)" op="set_bulkhead" target={Some(target(false))}
                fields={vec![
                    cfg("maxConcurrentCalls", "maxConcurrentCalls", Kind::Integer),
                    cfg("maxWaitDuration", "maxWaitDuration ms", Kind::DurationMs),
                ]}
                dispatch={p.dispatch.clone()} />
            <SettingsForm title="Rate limiter (empty: remove)" op="set_rate_limiter" target={Some(target(false))}
                fields={vec![
                    cfg("limitForPeriod", "limitForPeriod", Kind::Integer),
                    cfg("limitRefreshPeriod", "limitRefreshPeriod ms", Kind::DurationMs),
                    cfg("timeoutDuration", "timeoutDuration ms", Kind::DurationMs),
                ]}
                dispatch={p.dispatch.clone()} />
            <SettingsForm title="Time limiter (empty: remove)" op="set_time_limiter" target={Some(target(false))}
                fields={vec![cfg("timeoutDuration", "timeoutDuration ms", Kind::DurationMs)]}
                dispatch={p.dispatch.clone()} />
        </>
    }
}
