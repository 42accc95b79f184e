//! Same seed + same commands at the same virtual times = same trace.

mod common;

use msgsim::{Command, SimTime, Simulation};

fn order_events(seed: u64) -> Simulation {
    Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), seed).unwrap()
}

#[test]
fn canonical_run_matches_the_golden_hash() {
    let sim = common::canonical_run();
    assert_eq!(sim.trace().len_total(), common::GOLDEN_EVENTS);
    assert_eq!(sim.trace_hash(), common::GOLDEN_HASH);
}

#[test]
fn same_seed_twice_gives_the_same_trace() {
    let a = common::canonical_run();
    let b = common::canonical_run();
    assert_eq!(a.trace_hash(), b.trace_hash());
    let la: Vec<String> = a.trace().events().map(|e| e.to_string()).collect();
    let lb: Vec<String> = b.trace().events().map(|e| e.to_string()).collect();
    assert_eq!(la, lb);
}

#[test]
fn another_seed_gives_another_trace() {
    let mut a = order_events(42);
    let mut b = order_events(43);
    for sim in [&mut a, &mut b] {
        sim.apply(Command::SetLink {
            a: "order".into(),
            b: "broker".into(),
            direction: msgsim::Direction::Both,
            faults: msgsim::LinkFaults {
                latency_ms: 40,
                jitter_ms: 10,
                loss_percent: 10.0,
                ..Default::default()
            },
        })
        .unwrap();
        sim.run_to_idle(u64::MAX);
    }
    assert_ne!(a.trace_hash(), b.trace_hash());
}

#[test]
fn frame_size_does_not_change_the_run() {
    // The UI advances in animation frames of any size; the trace must not depend on them.
    let mut whole = order_events(7);
    whole.run_until(SimTime::from_ms(10_000), u64::MAX);
    let mut frames = order_events(7);
    let mut t = 0;
    while t < 10_000_000 {
        t += 16_667; // one 60 fps frame at 1x
        frames.run_until(SimTime(t.min(10_000_000)), 3); // and a tiny per-frame event budget
    }
    while !frames.run_until(SimTime::from_ms(10_000), 3).reached {}
    assert_eq!(whole.trace_hash(), frames.trace_hash());
    assert_eq!(whole.snapshot(), frames.snapshot());
}

#[test]
fn a_cloned_simulation_continues_identically() {
    let mut a = order_events(9);
    a.run_until(SimTime::from_ms(3_000), u64::MAX);
    let mut b = a.clone();
    a.run_to_idle(u64::MAX);
    b.run_to_idle(u64::MAX);
    assert_eq!(a.trace_hash(), b.trace_hash());
}

#[test]
fn replaying_the_command_log_reproduces_the_run() {
    let original = common::canonical_run();
    let mut replay = order_events(42);
    for rc in original.command_log() {
        replay.run_until(rc.at, u64::MAX);
        replay.apply(rc.command.clone()).unwrap();
    }
    replay.run_to_idle(u64::MAX);
    assert_eq!(replay.trace_hash(), common::GOLDEN_HASH);
}
