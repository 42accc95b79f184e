//! Scenario JSON and commands of synchronous communication: errors name the field, and no
//! input makes the engine panic (property over randomly mutated built-in scenarios).

use msgsim::{Command, Scenario, Simulation};
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "name": "v",
        "nodes": [
            {"name": "a", "kind": "service"},
            {"name": "b", "kind": "service", "instances": 2},
            {"name": "reg", "kind": "registry"},
            {"name": "rt", "kind": "router"}
        ],
        "links": [{"a": "a", "b": "b"}, {"a": "a", "b": "reg"}, {"a": "b", "b": "reg"},
                  {"a": "a", "b": "rt"}, {"a": "rt", "b": "b"}],
        "apis": [{"service": "b", "endpoints": [{"method": "GET", "path": "/x/{id}"}]}],
        "routers": [{"node": "rt", "service": "b"}],
        "dependencies": [{"from": "a", "to": "b"}],
        "calls": [{"from": "a", "to": "b", "every_ms": 10, "count": 3,
                   "steps": [{"method": "GET", "path": "/x/{n}"}]}]
    })
}

fn err(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = base();
    edit(&mut v);
    Scenario::from_json(&v.to_string()).unwrap_err().to_string()
}

#[test]
fn the_base_is_valid_and_runs() {
    let mut sim = Simulation::from_json(&base().to_string(), 1).unwrap();
    sim.run_to_idle(100_000);
    assert_eq!(sim.client_metrics("a", "b").unwrap().successes, 3);
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        err(|v| v["dependencies"][0]["policies"] = json!({"retry": {"maxAttempts": 0}})),
        "dependencies[0].policies.retry.maxAttempts: invalid value 0: must be at least 1"
    );
    assert_eq!(
        err(|v| v["dependencies"][0]["policies"] =
            json!({"circuitBreaker": {"failureRateThreshold": 0}})),
        "dependencies[0].policies.circuitBreaker.failureRateThreshold: invalid value 0: must be \
         > 0 and <= 100 (percent)"
    );
    assert!(
        err(|v| v["dependencies"][0]["policies"] = json!({"retry": {"maxAttempt": 2}}))
            .contains("unknown field `maxAttempt`")
    );
    assert!(err(|v| v["dependencies"][0]["policies"] =
        json!({"timeLimiter": {"timeoutDuration": "5 parsecs"}}))
    .contains("invalid duration \"5 parsecs\""));
    assert_eq!(
        err(|v| v["dependencies"][0]["discovery"] = json!({"mode": "client", "registry": "nope"})),
        "dependencies[0].discovery.registry: unknown name `nope`"
    );
    assert_eq!(
        err(|v| v["dependencies"][0]["discovery"] = json!({"mode": "router", "router": "reg"})),
        "dependencies[0].discovery.router: `reg` is not a router"
    );
    assert_eq!(
        err(|v| v["dependencies"][0]["http_timeout_ms"] = json!(0)),
        "dependencies[0].http_timeout_ms: 0 is out of range 1..=3600000 (ms)"
    );
    assert_eq!(
        err(|v| v["calls"][0]["to"] = json!("reg")),
        "calls[0].to: `reg` is not a service with an api"
    );
    assert_eq!(
        err(|v| v["calls"][0]["steps"][0]["path"] = json!("x")),
        "calls[0].steps[0].path: `x` must start with `/` and be at most 256 characters"
    );
    assert_eq!(
        err(|v| v["calls"][0]["every_ms"] = json!(0)),
        "calls[0].every_ms: 0 is out of range 1..=3600000 (ms)"
    );
    assert_eq!(
        err(|v| v["apis"][0]["endpoints"][0]["error_percent"] = json!(150)),
        "apis[0].endpoints[0].error_percent: 150 is out of range 0..=100 (%)"
    );
    assert_eq!(
        err(|v| v["apis"][0]["workers"] = json!(0)),
        "apis[0].workers: 0 is out of range 1..=1024"
    );
    assert_eq!(
        err(|v| v["apis"][0]["endpoints"][0]["action"] = json!("read")),
        "apis[0].endpoints[0].collection: `create`, `read` and `update` need a collection"
    );
    assert_eq!(
        err(|v| v["routers"] = json!([])),
        "nodes[3]: router `rt` needs an entry in `routers`"
    );
    assert_eq!(
        err(|v| v["nodes"][2]["instances"] = json!(2)),
        "nodes[2].instances: a registry, router or registrar has exactly one instance"
    );
    assert_eq!(
        err(|v| v["registrations"] =
            json!([{"service": "b", "registry": "reg", "mode": "third_party"}])),
        "registrations[0].registrar: `third_party` registration needs a registrar"
    );
    assert_eq!(
        err(|v| {
            v["apis"] = json!([
                {"service": "a", "endpoints": [{"method": "GET", "path": "/a",
                    "downstream": [{"to": "b", "method": "GET", "path": "/x/1"}]}]},
                {"service": "b", "endpoints": [{"method": "GET", "path": "/x/{id}",
                    "downstream": [{"to": "a", "method": "GET", "path": "/a"}]}]}
            ])
        }),
        "apis: downstream calls form a cycle through `b` and `a`"
    );
}

#[test]
fn commands_are_checked_before_they_change_anything() {
    let mut sim = Simulation::from_json(&base().to_string(), 1).unwrap();
    let behaviour = msgsim::sync::ServerBehaviour {
        error_percent: 101.0,
        ..Default::default()
    };
    let e = sim
        .apply(Command::SetEndpoint {
            node: "b".into(),
            endpoint: None,
            behaviour,
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "behaviour.error_percent: 101 is out of range 0..=100 (%)"
    );
    let e = sim
        .apply(Command::SetEndpoint {
            node: "a".into(),
            endpoint: Some(0),
            behaviour: Default::default(),
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "`a` has no api");
    let e = sim
        .apply(Command::SetEndpoint {
            node: "b".into(),
            endpoint: Some(3),
            behaviour: Default::default(),
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "`b` has no endpoint 3 (it has 1)");
    let e = sim
        .apply(Command::SetBreaker {
            node: "a".into(),
            instance: 0,
            service: "b".into(),
            state: msgsim::resilience::circuit_breaker::CircuitBreakerState::Open,
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "`a` -> `b` has no circuit breaker");
    assert!(sim.command_log().is_empty());
    // Commands of the new kinds round-trip through JSON as the fault schedule writes them.
    let c: Command = serde_json::from_value(json!({"op": "set_endpoint", "node": "b",
        "behaviour": {"latency_ms": 3000}}))
    .unwrap();
    assert_eq!(
        c.describe(),
        "set_endpoint b[*] latency=3000ms jitter=0ms slow=0%x0ms error=0%x500"
    );
    let c: Command = serde_json::from_value(json!({"op": "set_breaker", "node": "a",
        "service": "b", "state": "FORCED_OPEN"}))
    .unwrap();
    assert_eq!(c.describe(), "set_breaker a#0 -> b FORCED_OPEN");
}

#[cfg(not(target_arch = "wasm32"))]
mod no_panic {
    use super::*;
    use msgsim::SimTime;
    use proptest::prelude::*;

    const POOL: [fn() -> Value; 14] = [
        || json!(0),
        || json!(1),
        || json!(-1),
        || json!(2.5),
        || json!(1e300),
        || json!(u64::MAX),
        || json!(100),
        || json!(""),
        || json!("x"),
        || json!("{id}"),
        || json!("/"),
        || json!(null),
        || json!([]),
        || json!({}),
    ];

    fn leaves(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    path.push(json!(k));
                    leaves(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(json!(i));
                    leaves(x, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }

    fn set(v: &mut Value, path: &[Value], new: Value) {
        let mut cur = v;
        for p in path {
            cur = match p {
                Value::String(k) => &mut cur[k.as_str()],
                Value::Number(i) => &mut cur[i.as_u64().unwrap() as usize],
                _ => return,
            };
        }
        *cur = new;
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn mutated_scenarios_never_panic(
            scenario in 0usize..8,
            edits in prop::collection::vec((any::<u64>(), 0usize..POOL.len()), 1..5),
            seed in any::<u64>(),
        ) {
            let names = [
                "rpi-rest", "rest-maturity", "timeouts-retries", "bulkhead",
                "circuit-breaker", "resilience-composed", "discovery-client-side",
                "discovery-server-side",
            ];
            let mut v: Value =
                serde_json::from_str(msgsim::scenarios::get(names[scenario]).unwrap()).unwrap();
            let mut all = Vec::new();
            leaves(&v, &mut Vec::new(), &mut all);
            for (k, p) in &edits {
                let path = all[(*k % all.len() as u64) as usize].clone();
                set(&mut v, &path, POOL[*p]());
            }
            if let Ok(s) = Scenario::from_json(&v.to_string()) {
                if let Ok(mut sim) = Simulation::new(s, seed) {
                    sim.run_until(SimTime::from_ms(30_000), 300_000);
                    let _ = sim.snapshot();
                }
            }
        }
    }
}
