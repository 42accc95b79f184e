//! Model-based property test: under random schedules of loss, duplication, partitions, holds,
//! crashes and pauses (many seeds), at-least-once delivery loses nothing that the broker accepted,
//! and deduplicating receivers apply each effect exactly once. A second property runs the same
//! schedules with the asynchronous-messaging features on: idempotent receivers, handler failures
//! nacked with requeue, broker-side duplicate detection and a broker service time (backlog).
//!
//! A failing case prints the seed and the schedule that reproduce it (proptest shrinks it).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::faults::{heal, op, Targets};
use msgsim::scenario::DuplicateHandling;
use msgsim::{Command, Scenario, SimTime, Simulation, TraceConfig, TraceKind};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};

/// The fault targets of this test's scenario.
static TARGETS: Targets = Targets {
    links: &[
        ("order", "broker"),
        ("broker", "kitchen"),
        ("broker", "accounting"),
        ("broker", "notification"),
    ],
    instances: &[
        ("order", 0),
        ("broker", 0),
        ("kitchen", 0),
        ("kitchen", 1),
        ("accounting", 0),
    ],
    latency_ms: 40,
    max_percent: 60.0,
    max_jitter_ms: 80,
};

fn scenario() -> Scenario {
    let mut s = Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
    for n in &mut s.nodes {
        n.duplicates = DuplicateHandling::Dedup;
    }
    s.workloads[0].count = 15;
    s.policies.max_delivery_attempts = 1_000_000;
    s.policies.publish_max_attempts = 1_000_000;
    s
}

/// Runs `scenario` under `schedule`, heals everything, runs to idle and checks that every message
/// enqueued for a consumer was processed by it, that queues (and broker backlogs) are empty, that
/// the wire conserves packets, and `effects_ok` for every node.
fn run_and_check(
    scenario: Scenario,
    seed: u64,
    schedule: Vec<(u64, Command)>,
    effects_ok: fn(&msgsim::snapshot::NodeView) -> bool,
) -> Result<(), TestCaseError> {
    let trace = TraceConfig {
        enabled: true,
        capacity: 1_000_000,
    };
    let mut sim = Simulation::with_trace(scenario, seed, trace).unwrap();
    let mut schedule = schedule;
    schedule.sort_by_key(|(t, _)| *t);
    for (t, cmd) in schedule {
        sim.run_until(SimTime::from_ms(t), u64::MAX);
        sim.apply(cmd).unwrap();
    }
    sim.run_until(SimTime::from_ms(8_000), u64::MAX);
    heal(&mut sim, &TARGETS);
    let events = sim.run_to_idle(5_000_000);
    prop_assert!(events < 5_000_000, "seed {seed}: did not settle");

    // Which consumer each queue feeds, and what was enqueued / processed.
    let snap = sim.snapshot();
    let consumer_of: BTreeMap<String, String> = snap
        .channels
        .iter()
        .flat_map(|c| {
            c.queues
                .iter()
                .map(|q| (q.name.clone(), q.consumer.clone()))
        })
        .collect();
    let mut enqueued: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut processed: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for e in sim.trace().events() {
        match &e.what {
            TraceKind::Enqueue { queue, msg, .. } => {
                enqueued
                    .entry(consumer_of[&**queue].clone())
                    .or_default()
                    .insert(msg.0);
            }
            TraceKind::Process { at, msg, .. } => {
                processed
                    .entry(at.node.to_string())
                    .or_default()
                    .insert(msg.0);
            }
            _ => {}
        }
    }
    for (consumer, ids) in &enqueued {
        let done = processed.get(consumer).cloned().unwrap_or_default();
        let missing: Vec<_> = ids.difference(&done).collect();
        prop_assert!(
            missing.is_empty(),
            "seed {seed}: {consumer} never processed {missing:?}"
        );
    }
    for n in &snap.nodes {
        prop_assert!(
            effects_ok(n),
            "seed {}: {} applied an effect twice: {:?}",
            seed,
            &n.name,
            n.metrics
        );
        if let Some(b) = n.broker {
            prop_assert_eq!(b.backlog, 0, "seed {}: {} backlog", seed, &n.name);
        }
    }
    for c in &snap.channels {
        for q in &c.queues {
            prop_assert_eq!(
                (q.ready, q.unacked, q.dead_letters),
                (0, 0, 0),
                "seed {}: {}",
                seed,
                &q.name
            );
        }
    }
    let m = snap.metrics;
    prop_assert!(snap.in_flight.is_empty());
    prop_assert_eq!(m.delivered + m.dropped, m.sent + m.duplicated);
    Ok(())
}

/// `order-events` with the asynchronous-messaging features on: Kitchen deduplicates, Accounting
/// and Notification are idempotent (one key per order), Kitchen's ticket handler fails 20% of the
/// time and nacks with requeue, the broker detects duplicate publishes within 2 s and needs 300 µs
/// per packet.
fn scenario_async() -> Scenario {
    let mut s = scenario();
    for n in &mut s.nodes {
        if n.name == "accounting" || n.name == "notification" {
            n.duplicates = DuplicateHandling::Idempotent;
        }
    }
    for c in &mut s.channels {
        match c.name.as_str() {
            "order-events" => c.dedup_window_ms = 2_000,
            _ => c.failure_percent = 20.0,
        }
    }
    s.policies.broker_service_time_us = 300;
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn at_least_once_and_dedup_hold_under_faults(
        seed in any::<u64>(),
        schedule in prop::collection::vec((0u64..8_000, op(&TARGETS)), 0..12),
    ) {
        run_and_check(scenario(), seed, schedule, |n| n.metrics.effects == n.metrics.distinct)?;
    }

    #[test]
    fn at_least_once_and_each_effect_once_hold_with_the_async_features(
        seed in any::<u64>(),
        schedule in prop::collection::vec((0u64..8_000, op(&TARGETS)), 0..12),
    ) {
        run_and_check(scenario_async(), seed, schedule, |n| {
            let m = n.metrics;
            m.effects == m.effects_expected
                && (n.duplicates != DuplicateHandling::Dedup || m.effects == m.distinct)
        })?;
    }
}
