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
