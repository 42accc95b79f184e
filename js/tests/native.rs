//! The run of `js/examples/node.mjs`, natively through the engine's Rust API: the same scenario,
//! seed and commands at the same virtual times give the values the Node example pins (and
//! `tests/web.rs` checks the JS API gives them in headless Chromium too).
#![cfg(not(target_arch = "wasm32"))]

use msgsim::{Command, Direction, LinkFaults, SimTime, Simulation};

/// `order-events`, seed 42: crash kitchen#0 at 2 s, 20 % loss and 10 % duplication on
/// broker <-> accounting at 3 s, restart kitchen#0 at 5 s, run until idle.
fn node_example_run() -> Simulation {
    let json = msgsim::scenarios::get("order-events").unwrap();
    let mut sim = Simulation::from_json(json, 42).unwrap();
    sim.run_until(SimTime::from_ms(2_000), 10_000_000);
    sim.apply(Command::Crash {
        node: "kitchen".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(3_000), 10_000_000);
    sim.apply(Command::SetLink {
        a: "broker".into(),
        b: "accounting".into(),
        direction: Direction::Both,
        faults: LinkFaults {
            latency_ms: 100,
            jitter_ms: 25,
            loss_percent: 20.0,
            duplicate_percent: 10.0,
            ..LinkFaults::default()
        },
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(5_000), 10_000_000);
    sim.apply(Command::Restart {
        node: "kitchen".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_to_idle(10_000_000);
    sim
}

#[test]
fn the_node_examples_values_are_the_native_engines() {
    let sim = node_example_run();
    assert_eq!(sim.now(), SimTime(33_450_511));
    assert_eq!(sim.trace().len_total(), 2_278);
    assert_eq!(sim.trace_hash(), 0xadd0_51cc_03f0_9e52);
    let m = sim.metrics();
    assert_eq!(
        (m.published, m.sent, m.delivered, m.dropped, m.duplicated),
        (120, 749, 741, 17, 9)
    );
    assert_eq!((m.redelivered, m.retried, m.acked), (18, 0, 240));
    let a = sim.node_metrics("accounting").unwrap();
    assert_eq!(
        (a.processed, a.effects, a.distinct, a.effects_expected),
        (70, 70, 60, 60)
    );
    let k = sim.node_metrics("kitchen").unwrap();
    assert_eq!((k.processed, k.effects, k.distinct), (121, 121, 120));
    assert_eq!(
        sim.trace().events().next().unwrap().to_string(),
        "t=0.000ms order#0 -> broker publish m1 attempt=1 #1"
    );
}

/// `outbox-polling`, seed 7, to 20 s: its claims as the JS API's `invariants()` returns them
/// (`tests/web.rs` checks the JS API gives the same objects in headless Chromium).
#[test]
fn the_outbox_claims_at_20_s() {
    let json = msgsim::scenarios::get("outbox-polling").unwrap();
    let mut sim = Simulation::from_json(json, 7).unwrap();
    sim.run_until(SimTime::from_ms(20_000), 10_000_000);
    // The relay's built-in crash republishes m14: the naive accounting applies it twice.
    assert_eq!(
        serde_json::to_string(sim.invariants()).unwrap(),
        OUTBOX_CLAIMS_AT_20_S
    );
}

/// What `invariants()` gives for `outbox-polling`, seed 7, at 20 s, as JSON.
pub const OUTBOX_CLAIMS_AT_20_S: &str = concat!(
    r#"[{"claim":{"claim":"no_message_lost"},"state":{"state":"holding"},"checked":206,"violations":0},"#,
    r#"{"claim":{"claim":"effect_applied_once","services":["kitchen"]},"state":{"state":"holding"},"checked":51,"violations":0},"#,
    r#"{"claim":{"claim":"effect_applied_once","services":["accounting"]},"state":{"state":"violated","seq":362,"time":2673946,"#,
    r#""reason":"accounting#0 applied the effect of m14 again: accounting has it twice","#,
    r#""line":"t=2673.946ms accounting#0 process m14 attempt=1 effect applied"},"checked":52,"violations":1}]"#
);
