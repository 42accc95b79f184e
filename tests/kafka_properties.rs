//! Property test of partitioned topics: under random schedules of loss, duplication, jitter,
//! partitions, holds, crashes, restarts and pauses (many seeds), an at-least-once consumer group
//! loses no record — once the faults heal, every offset below each partition's log-end offset is
//! processed at least once and committed — an at-most-once group processes no offset twice, and
//! committed offsets never decrease.
//!
//! A failing case prints the seed and the schedule that reproduce it (proptest shrinks it).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::faults::{heal, op, Targets};
use msgsim::trace::CommitVerdict;
use msgsim::{Command, Scenario, SimTime, Simulation, TraceConfig, TraceKind};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The fault targets of this test's scenario.
static TARGETS: Targets = Targets {
    links: &[("shop", "broker"), ("broker", "billing")],
    instances: &[
        ("shop", 0),
        ("broker", 0),
        ("billing", 0),
        ("billing", 1),
        ("billing", 2),
    ],
    latency_ms: 20,
    max_percent: 50.0,
    max_jitter_ms: 60,
};

fn scenario(idempotent: bool, workers: u32, delivery: &str) -> Scenario {
    let text = json!({
        "name": "kafka-property",
        "nodes": [
            {"name": "shop", "kind": "service"},
            {"name": "broker", "kind": "broker"},
            {"name": "billing", "kind": "service", "instances": 3, "processing_ms": 20}
        ],
        "links": [
            {"a": "shop", "b": "broker", "latency_ms": 20},
            {"a": "broker", "b": "billing", "latency_ms": 20}
        ],
        "channels": [{
            "name": "orders", "kind": "partitioned_topic", "broker": "broker", "partitions": 3,
            "consumers": ["billing"],
            "consumer_groups": [{
                "consumer": "billing", "delivery": delivery,
                "workers_per_partition": workers, "max_poll_records": 10,
                "processing_jitter_ms": 15, "session_timeout_ms": 1500,
                "heartbeat_interval_ms": 300, "rebalance_timeout_ms": 1500,
                "request_timeout_ms": 600, "fetch_max_wait_ms": 300
            }],
            "producers": [{
                "producer": "shop", "enable_idempotence": idempotent,
                "max_in_flight_requests_per_connection": 5, "retries": 1000000,
                "retry_backoff_ms": 50, "request_timeout_ms": 300
            }]
        }],
        "workloads": [{"from": "shop", "every_ms": 100, "count": 40, "messages": [
            {"channel": "orders", "kind": "event", "type": "OrderPlaced", "key": "order-{n}"}
        ]}]
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

/// Runs a schedule, heals, and checks the properties. Returns the number of records appended.
fn check(
    seed: u64,
    idempotent: bool,
    workers: u32,
    at_most_once: bool,
    schedule: Vec<(u64, Command)>,
) -> Result<u64, TestCaseError> {
    let delivery = if at_most_once {
        "at_most_once"
    } else {
        "at_least_once"
    };
    let trace = TraceConfig {
        enabled: true,
        capacity: 2_000_000,
    };
    let mut sim =
        Simulation::with_trace(scenario(idempotent, workers, delivery), seed, trace).unwrap();
    let mut schedule = schedule;
    schedule.sort_by_key(|(t, _)| *t);
    let mut committed_seen: BTreeMap<u32, u64> = BTreeMap::new();
    let mut sample = |sim: &Simulation| -> Result<(), TestCaseError> {
        for p in &sim.snapshot().partitioned_topics[0].groups[0].partitions {
            if let Some(c) = p.committed {
                let before = committed_seen.insert(p.partition, c).unwrap_or(0);
                prop_assert!(
                    c >= before,
                    "seed {seed}: orders-{} went back from {before} to {c}",
                    p.partition
                );
            }
        }
        Ok(())
    };
    for (t, cmd) in schedule {
        sim.run_until(SimTime::from_ms(t), u64::MAX);
        sample(&sim)?;
        sim.apply(cmd).unwrap();
    }
    sim.run_until(SimTime::from_ms(8_000), u64::MAX);
    heal(&mut sim, &TARGETS);
    for k in 1..=16 {
        sim.run_until(SimTime::from_ms(8_000 + 2_000 * k), u64::MAX);
        sample(&sim)?;
    }

    // Committed offsets as the coordinator accepted them, in order: strictly increasing per
    // partition (a lower or equal commit is "no-advance" and changes nothing).
    let mut accepted: BTreeMap<String, u64> = BTreeMap::new();
    let mut processed: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut twice: Vec<(String, u64)> = Vec::new();
    for e in sim.trace().events() {
        match &e.what {
            TraceKind::OffsetCommit {
                tp,
                offset,
                verdict,
                ..
            } => {
                let current = accepted.get(&**tp).copied();
                match verdict {
                    CommitVerdict::Accepted => {
                        prop_assert!(current.is_none_or(|c| *offset > c), "seed {seed}: {e}");
                        accepted.insert(tp.to_string(), *offset);
                    }
                    CommitVerdict::NoAdvance { committed } => {
                        prop_assert_eq!(Some(*committed), current, "seed {}: {}", seed, e);
                        prop_assert!(*offset <= *committed, "seed {seed}: {e}");
                    }
                    CommitVerdict::Rejected { .. } => {}
                }
            }
            TraceKind::Consume { tp, offset, .. } => {
                let key = (tp.to_string(), *offset);
                if !processed.insert(key.clone()) {
                    twice.push(key);
                }
            }
            _ => {}
        }
    }
    let snap = sim.snapshot();
    let topic = &snap.partitioned_topics[0];
    let group = &topic.groups[0];
    let mut appended = 0;
    if at_most_once {
        prop_assert!(twice.is_empty(), "seed {seed}: processed twice {twice:?}");
    }
    for p in &topic.partitions {
        let tp = format!("orders-{}", p.partition);
        appended += p.log_end_offset;
        prop_assert_eq!(p.log_start_offset, 0);
        let g = &group.partitions[p.partition as usize];
        prop_assert_eq!(
            (g.committed.unwrap_or(0), g.lag),
            (p.log_end_offset, 0),
            "seed {}: {} not fully committed",
            seed,
            &tp
        );
        if at_most_once {
            continue;
        }
        let missing: Vec<u64> = (0..p.log_end_offset)
            .filter(|o| !processed.contains(&(tp.clone(), *o)))
            .collect();
        prop_assert!(
            missing.is_empty(),
            "seed {seed}: {tp} never processed {missing:?}"
        );
    }
    prop_assert_eq!(group.state, "Stable", "seed {}", seed);
    prop_assert_eq!(group.members.len(), 3, "seed {}", seed);
    let billing = sim.node_metrics("billing").unwrap();
    // Every distinct message appended was processed (duplicates of the log count once).
    prop_assert!(billing.distinct <= appended);
    Ok(appended)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn at_least_once_group_loses_nothing_and_commits_only_forward(
        seed in any::<u64>(),
        idempotent in any::<bool>(),
        workers in 1u32..4,
        schedule in prop::collection::vec((0u64..8_000, op(&TARGETS)), 0..12),
    ) {
        check(seed, idempotent, workers, false, schedule)?;
    }

    #[test]
    fn at_most_once_group_never_processes_an_offset_twice(
        seed in any::<u64>(),
        idempotent in any::<bool>(),
        workers in 1u32..4,
        schedule in prop::collection::vec((0u64..8_000, op(&TARGETS)), 0..12),
    ) {
        check(seed, idempotent, workers, true, schedule)?;
    }
}

#[test]
fn a_healthy_run_appends_and_processes_every_record_once() {
    let appended = check(1, true, 2, false, Vec::new()).unwrap();
    assert_eq!(appended, 40);
}
