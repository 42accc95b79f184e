//! The example for test authors (docs/testing.md): build a scenario in code, inject faults at
//! virtual times, run, assert on metrics, the trace and invariants.
//!
//! Runs natively (`cargo test -p msgsim --test example_testing`) and, unchanged, in headless
//! Chromium (`cargo test -p msgsim --target wasm32-unknown-unknown --test example_testing`, see
//! scripts/test.sh): the same exact values in both prove the browser run equals the native one.

use msgsim::invariants::InvariantState;
use msgsim::{
    Command, Direction, DropReason, LinkFaults, Scenario, SimTime, Simulation, TraceKind,
};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Shop publishes 20 `OrderPlaced` events to the `orders` topic; Billing (two instances,
/// deduplicating receiver) and Audit (naive receiver) each have a subscription. The scenario's
/// own fault schedule partitions broker <-> billing from 300 ms to 600 ms.
fn scenario() -> Scenario {
    let doc = json!({
        "name": "shop-billing",
        "seed": 7,
        "nodes": [
            {"name": "shop", "kind": "service"},
            {"name": "broker", "kind": "broker"},
            {"name": "billing", "kind": "service", "instances": 2, "processing_ms": 15,
             "duplicates": "dedup", "effect": "orders charged"},
            {"name": "audit", "kind": "service", "processing_ms": 5, "effect": "lines written"}
        ],
        "links": [
            {"a": "shop", "b": "broker", "latency_ms": 10, "jitter_ms": 3},
            {"a": "broker", "b": "billing", "latency_ms": 10, "jitter_ms": 3},
            {"a": "broker", "b": "audit", "latency_ms": 10, "jitter_ms": 3}
        ],
        "channels": [
            {"name": "orders", "kind": "topic", "broker": "broker",
             "consumers": ["billing", "audit"]}
        ],
        "workloads": [
            {"from": "shop", "every_ms": 50, "count": 20, "messages": [
                {"channel": "orders", "kind": "event", "type": "OrderPlaced",
                 "key": "order-{n}", "payload": {"orderId": "order-{n}", "total": 25}}
            ]}
        ],
        "policies": {"ack_timeout_ms": 200, "publish_timeout_ms": 100,
                     "publish_max_attempts": 10, "max_delivery_attempts": 20},
        // The guarantees this system claims; the engine checks them live from the trace
        // (`Simulation::invariants`). Audit's naive receiver cannot keep the second one.
        "invariants": [
            {"claim": "no_message_lost"},
            {"claim": "effect_applied_once", "services": ["billing"]},
            {"claim": "effect_applied_once", "services": ["audit"]}
        ],
        "faults": [
            {"at_ms": 300, "command": {"op": "partition", "a": "broker", "b": "billing"}},
            {"at_ms": 600, "command": {"op": "repair", "a": "broker", "b": "billing"}}
        ]
    });
    // Scenario::from_json validates: a typo'd field or an unknown node is an error that names it.
    Scenario::from_json(&doc.to_string()).expect("valid scenario")
}

/// Runs the scenario with seed 7 and injects three faults at exact virtual times from the test:
/// 30 % duplication broker -> audit at 400 ms, a crash of billing#1 at 700 ms and its restart at
/// 900 ms; then runs until nothing is scheduled.
fn run() -> Simulation {
    let mut sim = Simulation::new(scenario(), 7).expect("consistent scenario");
    let schedule: Vec<(u64, Command)> = vec![
        (
            400,
            Command::SetLink {
                a: "broker".into(),
                b: "audit".into(),
                direction: Direction::AToB,
                faults: LinkFaults {
                    latency_ms: 10,
                    jitter_ms: 3,
                    duplicate_percent: 30.0,
                    ..LinkFaults::default()
                },
            },
        ),
        (
            700,
            Command::Crash {
                node: "billing".into(),
                instance: 1,
            },
        ),
        (
            900,
            Command::Restart {
                node: "billing".into(),
                instance: 1,
            },
        ),
    ];
    for (at_ms, command) in schedule {
        // Handle every event up to the time, then apply: the command lands at exactly `at_ms`.
        sim.run_until(SimTime::from_ms(at_ms), u64::MAX);
        sim.apply(command).expect("the engine accepts the command");
    }
    let handled = sim.run_to_idle(1_000_000);
    assert!(handled < 1_000_000, "the run goes idle");
    sim
}

/// The invariants this run must keep: the scenario's claims as the engine checked them live
/// (`Simulation::invariants`), and the same facts from the metrics.
fn check_invariants(sim: &Simulation) {
    let claims: Vec<(String, bool, u64)> = sim
        .invariants()
        .iter()
        .map(|s| (s.claim.label(), s.holds(), s.checked))
        .collect();
    assert_eq!(
        claims,
        [
            ("no_message_lost".to_string(), true, 60),
            ("effect_applied_once @ billing".to_string(), true, 20),
            ("effect_applied_once @ audit".to_string(), false, 25),
        ]
    );
    // A violated claim names its first violating event.
    assert_eq!(
        sim.invariants()[2].state,
        InvariantState::Violated {
            seq: 234,
            time: SimTime(728_379),
            reason: "audit#0 applied the effect of m15 again: audit has it twice".into(),
            line: "t=728.379ms audit#0 process m15 attempt=1 effect applied".into(),
        }
    );
    let m = sim.metrics();
    // Conservation: once nothing is in flight, every packet sent (and every network duplicate)
    // was either delivered or dropped.
    assert_eq!(m.delivered + m.dropped, m.sent + m.duplicated);
    // No message lost: every published event reached both subscribers at least once.
    for service in ["billing", "audit"] {
        let n = sim.node_metrics(service).expect("node exists");
        assert_eq!(n.distinct, m.published, "{service} saw every event");
    }
    // Exactly-once effects where the receiver deduplicates.
    let billing = sim.node_metrics("billing").expect("node exists");
    assert_eq!(billing.effects, billing.effects_expected);
    assert_eq!(m.dead_lettered, 0);
    assert_eq!(m.publish_failed, 0);
    assert!(sim.snapshot().idle);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn faults_at_virtual_times_keep_the_invariants() {
    let sim = run();
    check_invariants(&sim);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn metrics_are_exact() {
    let sim = run();
    let m = sim.metrics();
    assert_eq!(
        (m.published, m.sent, m.delivered, m.dropped, m.duplicated),
        (20, 129, 130, 4, 5)
    );
    // 4 redeliveries: m7 and m8 were delivered into the partition twice each (ack timeouts).
    assert_eq!((m.redelivered, m.retried, m.acked), (4, 0, 40));
    let billing = sim.node_metrics("billing").unwrap();
    assert_eq!(
        (
            billing.processed,
            billing.effects,
            billing.duplicates_discarded
        ),
        (20, 20, 0)
    );
    let audit = sim.node_metrics("audit").unwrap();
    // Audit is naive: the 5 network duplicates it handled were applied again.
    assert_eq!(
        (audit.processed, audit.effects, audit.distinct),
        (25, 25, 20)
    );
    assert_eq!(sim.now(), SimTime(1_221_837));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_trace_tells_what_happened() {
    let sim = run();
    let trace = sim.trace();
    // One-line Display of each event: readable, and exact.
    let first: Vec<String> = trace.events().take(2).map(|e| e.to_string()).collect();
    assert_eq!(
        first,
        [
            "t=0.000ms shop#0 -> broker publish m1 attempt=1 #1",
            "t=7.278ms shop#0 -> broker publish m1 arrived #1",
        ]
    );
    // Facts by kind: what the partition dropped, and the commands with their times.
    let partition_drops = trace
        .events()
        .filter(|e| {
            matches!(
                e.what,
                TraceKind::Drop {
                    reason: DropReason::Partition,
                    ..
                }
            )
        })
        .count();
    assert_eq!(partition_drops, 4);
    let commands: Vec<String> = trace
        .events()
        .filter(|e| matches!(e.what, TraceKind::Command { .. }))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        commands,
        [
            "t=300.000ms command partition broker <-> billing",
            "t=400.000ms command set_link broker -> audit latency=10ms jitter=3ms loss=0% duplicate=30%",
            "t=600.000ms command repair broker <-> billing",
            "t=700.000ms command crash billing#1",
            "t=900.000ms command restart billing#1",
        ]
    );
    // The whole run in one number: the same natively and in the browser.
    assert_eq!(trace.len_total(), 407);
    assert_eq!(sim.trace_hash(), 0x39b8_1bca_8dca_dd26);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_refused_command_changes_nothing() {
    let mut sim = Simulation::new(scenario(), 7).unwrap();
    let err = sim
        .apply(Command::Crash {
            node: "billing".into(),
            instance: 2,
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `billing` has no instance 2 (it has 2)"
    );
    assert!(sim.command_log().is_empty());
}
