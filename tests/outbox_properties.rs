//! Property test of the transactional outbox (issue 4): whatever the interleaving of concurrent
//! transactions (two service instances, jittered transaction times, aborts) and whatever the
//! schedule of crashes, restarts, pauses and graceful stops of the service, the relay and the
//! broker, failpoints and broker rejections, with either relay kind:
//!
//! - every committed OUTBOX row is eventually published at least once;
//! - no row of a rolled-back transaction is ever published;
//! - a deduplicating consumer applies each committed event exactly once.
//!
//! Checked against the trace (commits and broker appends), independently of the engine's own
//! accounting, which must agree. A failing case prints the seed and the schedule (proptest
//! shrinks it).

#![cfg(not(target_arch = "wasm32"))]

use msgsim::outbox::CrashPoint;
use msgsim::{Command, Scenario, SimTime, Simulation, TraceConfig, TraceKind};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Clone, Debug)]
struct Setup {
    log_tailing: bool,
    max_in_flight: u32,
    batch: u32,
    save_every: u32,
    mark_ms: u64,
    delete: bool,
    jitter_ms: u64,
    abort_percent: f64,
    count: u64,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        any::<bool>(),
        1u32..5,
        1u32..6,
        1u32..5,
        0u64..25,
        any::<bool>(),
        0u64..40,
        0.0..30.0f64,
        5u64..30,
    )
        .prop_map(
            |(
                log_tailing,
                max_in_flight,
                batch,
                save_every,
                mark_ms,
                delete,
                jitter_ms,
                abort_percent,
                count,
            )| Setup {
                log_tailing,
                max_in_flight,
                batch,
                save_every,
                mark_ms,
                delete,
                jitter_ms,
                abort_percent,
                count,
            },
        )
}

fn scenario(s: &Setup) -> Scenario {
    let text = json!({
        "name": "outbox-property",
        "nodes": [
            {"name": "order", "kind": "service", "instances": 2},
            {"name": "relay", "kind": "relay"},
            {"name": "broker", "kind": "broker"},
            {"name": "kitchen", "kind": "service", "duplicates": "dedup", "processing_ms": 5}
        ],
        "links": [
            {"a": "relay", "b": "broker", "latency_ms": 10, "jitter_ms": 8},
            {"a": "broker", "b": "kitchen", "latency_ms": 10, "jitter_ms": 8}
        ],
        "channels": [{"name": "order-events", "kind": "topic", "broker": "broker",
                      "consumers": ["kitchen"]}],
        "workloads": [{"from": "order", "every_ms": 15, "jitter_ms": 10, "count": s.count,
            "messages": [],
            "operation": {"write": {"table": "orders", "key": "order-{n%4}", "strategy": "outbox",
                "event": {"channel": "order-events", "type": "OrderChanged"}}}}],
        "policies": {"publish_timeout_ms": 60, "ack_timeout_ms": 200,
                     "max_delivery_attempts": 1000000},
        "transactional": {
            "databases": [{"service": "order", "tx_ms": 30, "tx_jitter_ms": s.jitter_ms,
                           "abort_percent": s.abort_percent}],
            "relays": [{"node": "relay", "service": "order",
                        "mode": if s.log_tailing { "log_tailing" } else { "polling" },
                        "poll_every_ms": 40, "batch_size": s.batch,
                        "max_in_flight": s.max_in_flight, "save_every": s.save_every,
                        "mark_ms": s.mark_ms,
                        "after_publish": if s.delete { "delete" } else { "mark" }}]
        }
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

const POINTS: [CrashPoint; 3] = [
    CrashPoint::BeforeCommit,
    CrashPoint::AfterCommit,
    CrashPoint::AfterPublish,
];
const TARGETS: [(&str, u32); 4] = [("order", 0), ("order", 1), ("relay", 0), ("broker", 0)];

fn op() -> impl Strategy<Value = Command> {
    let target = (0..TARGETS.len()).prop_map(|i| TARGETS[i]);
    let armable = (0..3usize).prop_map(|i| TARGETS[i]);
    prop_oneof![
        3 => target.clone().prop_map(|(n, i)| Command::Crash { node: n.into(), instance: i }),
        3 => target.clone().prop_map(|(n, i)| Command::Restart { node: n.into(), instance: i }),
        1 => target.clone().prop_map(|(n, i)| Command::Pause { node: n.into(), instance: i }),
        1 => target.prop_map(|(n, i)| Command::Resume { node: n.into(), instance: i }),
        2 => Just(Command::StopRelay { node: "relay".into() }),
        3 => (armable, 0..3usize).prop_map(|((n, i), p)| Command::ArmCrash {
            node: n.into(),
            instance: i,
            point: POINTS[p],
        }),
        2 => (1u32..4).prop_map(|count| Command::RejectNextPublish {
            channel: "order-events".into(),
            count,
        }),
    ]
}

fn heal(sim: &mut Simulation) {
    for (n, i) in TARGETS {
        for cmd in [
            Command::Restart {
                node: n.into(),
                instance: i,
            },
            Command::Resume {
                node: n.into(),
                instance: i,
            },
        ] {
            sim.apply(cmd).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn committed_rows_are_published_and_rolled_back_rows_never(
        seed in any::<u64>(),
        s in setup(),
        schedule in prop::collection::vec((0u64..600, op()), 0..14),
    ) {
        let trace = TraceConfig { enabled: true, capacity: 1_000_000 };
        let mut sim = Simulation::with_trace(scenario(&s), seed, trace).unwrap();
        let mut schedule = schedule;
        schedule.sort_by_key(|(t, _)| *t);
        for (t, cmd) in schedule {
            sim.run_until(SimTime::from_ms(t), u64::MAX);
            sim.apply(cmd).unwrap();
        }
        sim.run_until(SimTime::from_ms(600), u64::MAX);
        // Restart everything until everything stays up: failpoints still armed fire (once each)
        // after a heal, and the crashed instance is restarted in the next round.
        let mut rounds = 0;
        loop {
            heal(&mut sim);
            let events = sim.run_to_idle(5_000_000);
            prop_assert!(events < 5_000_000, "seed {seed}: did not settle");
            let snap = sim.snapshot();
            let all_up = snap.nodes.iter().all(|n| {
                n.instances.iter().all(|i| i.status == msgsim::snapshot::InstanceStatus::Up)
            });
            if all_up {
                break;
            }
            rounds += 1;
            prop_assert!(rounds < 100, "seed {seed}: never stays up");
        }

        let mut committed = BTreeSet::new();
        let mut appended = BTreeSet::new();
        let mut processed = BTreeSet::new();
        for e in sim.trace().events() {
            match &e.what {
                TraceKind::TxCommit { msg: Some(m), .. } => {
                    committed.insert(*m);
                }
                TraceKind::Enqueue { msg, .. } => {
                    appended.insert(*msg);
                }
                TraceKind::Process { msg, applied: true, .. } => {
                    processed.insert(*msg);
                }
                _ => {}
            }
        }
        let missing: Vec<_> = committed.difference(&appended).collect();
        prop_assert!(missing.is_empty(), "seed {seed}: committed, never published: {missing:?}");
        let phantom: Vec<_> = appended.difference(&committed).collect();
        prop_assert!(phantom.is_empty(), "seed {seed}: published, never committed: {phantom:?}");
        prop_assert_eq!(&processed, &committed, "seed {}", seed);
        let k = sim.node_metrics("kitchen").unwrap();
        prop_assert_eq!(k.effects, committed.len() as u64, "seed {}", seed);

        // The engine's own accounting agrees.
        let t = sim.snapshot().transactional;
        let st = &t.strategies[0];
        prop_assert_eq!(st.committed, committed.len() as u64, "seed {}", seed);
        prop_assert_eq!((st.published, st.pending, st.lost, st.phantom),
                        (st.committed, 0, 0, 0), "seed {}", seed);
        prop_assert_eq!(st.committed + st.rolled_back, st.operations, "seed {}", seed);
        let db = &t.databases[0];
        prop_assert_eq!(db.in_flight, 0);
        prop_assert_eq!(db.metrics.outbox_rows, committed.len() as u64);
        if !s.log_tailing {
            prop_assert_eq!(db.outbox.unpublished, 0, "seed {}", seed);
        }
        // Rolled-back transactions left no OUTBOX row: the OUTBOX holds only committed messages.
        for row in &db.outbox.recent {
            prop_assert!(committed.contains(&row.msg), "seed {seed}: row {} of a rolled-back tx", row.id);
        }
    }
}
