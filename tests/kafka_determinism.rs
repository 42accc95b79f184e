//! Partitioned topics keep the engine's determinism guarantees: same seed and commands, same
//! trace; animation frame sizes do not matter; a clone continues identically; a command log
//! replays the run.

use msgsim::{Command, SimTime, Simulation};

const SCENARIOS: [&str; 4] = [
    "partitioned-orders",
    "idempotent-producer",
    "consumer-offsets",
    "parallel-workers",
];

fn sim(name: &str, seed: u64) -> Simulation {
    Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed).unwrap()
}

#[test]
fn frame_size_does_not_change_the_run() {
    for name in SCENARIOS {
        let mut whole = sim(name, 3);
        whole.run_until(SimTime::from_ms(9_000), u64::MAX);
        let mut frames = sim(name, 3);
        let mut t = 0;
        while t < 9_000_000 {
            t += 16_667;
            frames.run_until(SimTime(t.min(9_000_000)), 5);
        }
        while !frames.run_until(SimTime::from_ms(9_000), 5).reached {}
        assert_eq!(whole.trace_hash(), frames.trace_hash(), "{name}");
        assert_eq!(whole.snapshot(), frames.snapshot(), "{name}");
    }
}

#[test]
fn commands_replay_and_clones_continue_identically() {
    for name in SCENARIOS {
        let mut a = sim(name, 8);
        let node = if name == "idempotent-producer" {
            "checkout-plain"
        } else {
            "broker"
        };
        a.run_until(SimTime::from_ms(2_500), u64::MAX);
        a.apply(Command::Crash {
            node: node.into(),
            instance: 0,
        })
        .unwrap();
        a.run_until(SimTime::from_ms(4_000), u64::MAX);
        a.apply(Command::Restart {
            node: node.into(),
            instance: 0,
        })
        .unwrap();
        let mut b = a.clone();
        a.run_until(SimTime::from_ms(15_000), u64::MAX);
        b.run_until(SimTime::from_ms(15_000), u64::MAX);
        assert_eq!(a.trace_hash(), b.trace_hash(), "{name}: clone");
        let mut replay = sim(name, 8);
        replay.run_with_log(a.command_log(), SimTime::from_ms(15_000), u64::MAX);
        assert_eq!(a.trace_hash(), replay.trace_hash(), "{name}: replay");
        assert_ne!(a.trace_hash(), sim(name, 8).trace_hash());
    }
}

#[test]
fn a_broker_crash_keeps_logs_and_offsets_and_the_group_recovers() {
    let mut s = sim("partitioned-orders", 7);
    s.run_until(SimTime::from_ms(3_000), u64::MAX);
    let before = s.snapshot().partitioned_topics[0].clone();
    s.apply(Command::Crash {
        node: "broker".into(),
        instance: 0,
    })
    .unwrap();
    s.run_until(SimTime::from_ms(4_000), u64::MAX);
    s.apply(Command::Restart {
        node: "broker".into(),
        instance: 0,
    })
    .unwrap();
    let after = s.snapshot().partitioned_topics[0].clone();
    for (b, a) in before.partitions.iter().zip(&after.partitions) {
        assert!(a.log_end_offset >= b.log_end_offset);
    }
    for (b, a) in before.groups[0]
        .partitions
        .iter()
        .zip(&after.groups[0].partitions)
    {
        assert!(a.committed >= b.committed);
    }
    s.run_until(SimTime::from_ms(30_000), u64::MAX);
    let end = s.snapshot();
    let t = &end.partitioned_topics[0];
    let appended: u64 = t.partitions.iter().map(|p| p.log_end_offset).sum();
    assert!(t.groups[0].partitions.iter().all(|p| p.lag == 0));
    let billing = s.node_metrics("billing").unwrap();
    assert_eq!(billing.distinct, appended);
    let order = s.node_metrics("order").unwrap();
    assert_eq!(
        (
            appended,
            order.confirmed,
            order.retried,
            order.publish_failed
        ),
        (200, 200, 15, 0),
        "the producer retried through the outage: all 200 orders written once (idempotence)"
    );
}
