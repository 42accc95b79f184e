//! Committed offsets of a consumer group in full simulation runs.
//!
//! Issue 3, case 1 ("committed offsets only move forward"), as an engine run: offsets 0–9 are
//! processed; the commit of 10 is sent while a rebalance is in progress and lost (a one-way
//! partition billing -> broker for 1 ms), so it times out and is queued for retry; 10–19 are
//! processed and 20 is committed; the rebalance revokes the partition from billing#1 and gives it
//! to billing#0; the queued commit of 10 is retried (stamped with the new generation): accepted
//! but the committed offset stays 20; the next owner starts at 20, and no record is processed
//! twice. (The variant where the commit fails with `REBALANCE_IN_PROGRESS` rather than a timeout
//! is `log::tests::queued_stale_commit_never_moves_the_committed_offset_back`.)

use msgsim::{Scenario, SimTime, Simulation, TraceKind};
use serde_json::json;

fn case1() -> Simulation {
    let text = json!({
        "name": "case1",
        "nodes": [
            {"name": "shop", "kind": "service"},
            {"name": "broker", "kind": "broker"},
            {"name": "billing", "kind": "service", "instances": 2, "processing_ms": 100}
        ],
        "links": [
            {"a": "shop", "b": "broker", "latency_ms": 5},
            {"a": "broker", "b": "billing", "latency_ms": 5}
        ],
        "channels": [{
            "name": "orders", "kind": "partitioned_topic", "broker": "broker", "partitions": 1,
            "consumers": ["billing"],
            "consumer_groups": [{
                "consumer": "billing", "workers_per_partition": 10, "max_poll_records": 10,
                "poll_interval_ms": 100, "heartbeat_interval_ms": 100,
                "session_timeout_ms": 1000, "rebalance_timeout_ms": 1000,
                "request_timeout_ms": 1000
            }]
        }],
        "workloads": [
            {"from": "shop", "every_ms": 1, "count": 20, "messages": [
                {"channel": "orders", "kind": "event", "type": "OrderPlaced", "key": "o-{n}"}]},
            {"from": "shop", "start_ms": 2000, "every_ms": 1, "count": 10, "messages": [
                {"channel": "orders", "kind": "event", "type": "OrderPlaced", "key": "o-{n}"}]}
        ],
        "faults": [
            // billing#0 is down at first, so billing#1 alone owns orders-0 (generation 1) ...
            {"at_ms": 0, "command": {"op": "crash", "node": "billing", "instance": 0}},
            // ... until billing#0 joins: a rebalance starts at 255 ms.
            {"at_ms": 250, "command": {"op": "restart", "node": "billing", "instance": 0}},
            // The commit of 10, sent at 300 ms, is lost.
            {"at_ms": 300, "command": {"op": "partition_oneway", "a": "billing", "b": "broker"}},
            {"at_ms": 301, "command": {"op": "repair", "a": "billing", "b": "broker"}}
        ]
    })
    .to_string();
    Simulation::new(Scenario::from_json(&text).unwrap(), 1).unwrap()
}

#[test]
fn a_late_retry_of_an_old_commit_never_moves_the_committed_offset_back() {
    let mut sim = case1();
    sim.run_until(SimTime::from_ms(3_000), u64::MAX);
    let edge = |o: &u64| [0, 9, 10, 19, 20, 29].contains(o);
    let lines: Vec<String> = sim
        .trace()
        .events()
        .filter(|e| match &e.what {
            TraceKind::Consume { offset, .. } => edge(offset),
            TraceKind::Drop { .. }
            | TraceKind::Command { .. }
            | TraceKind::OffsetCommit { .. }
            | TraceKind::CommitFailed { .. }
            | TraceKind::Join { .. }
            | TraceKind::Revoke { .. }
            | TraceKind::Rebalance { .. }
            | TraceKind::Assign { .. } => true,
            _ => false,
        })
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "t=0.000ms command crash billing#0",
            "t=5.000ms broker group billing join billing#1 (rebalance started)",
            "t=105.000ms broker group billing rebalance generation=1 orders: billing#1=[0]",
            "t=120.000ms billing#1 group billing assign generation=1 orders [0@-]",
            "t=205.000ms broker group billing commit orders-0 offset=0 by billing#1 generation=1 accepted",
            "t=230.000ms billing#1 process orders-0@0 m1 effect applied",
            "t=230.000ms billing#1 process orders-0@9 m10 effect applied",
            "t=250.000ms command restart billing#0",
            "t=255.000ms broker group billing join billing#0 (rebalance started)",
            "t=300.000ms command partition_oneway billing -> broker",
            "t=301.000ms command repair billing <-> broker",
            "t=302.500ms billing#1 -> broker heartbeat dropped (partition) #55",
            "t=302.500ms billing#1 -> broker offset_commit dropped (partition) #56",
            "t=330.000ms billing#1 process orders-0@10 m11 effect applied",
            "t=330.000ms billing#1 process orders-0@19 m20 effect applied",
            "t=405.000ms broker group billing commit orders-0 offset=20 by billing#1 generation=1 accepted",
            "t=410.000ms billing#1 group billing revoke orders [0]",
            "t=415.000ms broker group billing join billing#1",
            "t=415.000ms broker group billing rebalance generation=2 orders: billing#0=[0] billing#1=[]",
            "t=430.000ms billing#0 group billing assign generation=2 orders [0@20]",
            "t=430.000ms billing#1 group billing assign generation=2 orders []",
            "t=1300.000ms billing#1 group billing commit failed, queued for retry: request timed out (TimeoutException)",
            "t=1305.000ms broker group billing commit orders-0 offset=10 by billing#1 generation=2 no-advance (committed 20)",
            "t=2110.000ms billing#0 process orders-0@20 m21 effect applied",
            "t=2130.000ms billing#0 process orders-0@29 m30 effect applied",
            "t=2155.000ms broker group billing commit orders-0 offset=30 by billing#0 generation=2 accepted",
        ]
    );
    // Every record once: 0-19 by billing#1, 20-29 by billing#0.
    let mut by: Vec<(String, u64)> = sim
        .trace()
        .events()
        .filter_map(|e| match &e.what {
            TraceKind::Consume { at, offset, .. } => Some((at.to_string(), *offset)),
            _ => None,
        })
        .collect();
    by.sort_by_key(|(_, o)| *o);
    assert_eq!(
        by.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
        (0..30).collect::<Vec<_>>()
    );
    assert!(by[..20].iter().all(|(w, _)| w == "billing#1"));
    assert!(by[20..].iter().all(|(w, _)| w == "billing#0"));
    let billing = sim.node_metrics("billing").unwrap();
    assert_eq!((billing.processed, billing.distinct), (30, 30));
    let snap = sim.snapshot();
    let p = &snap.partitioned_topics[0].groups[0].partitions[0];
    assert_eq!((p.committed, p.lag), (Some(30), 0));
}

/// `consumer-offsets`: the same crash at 5 s under both guarantees.
#[test]
fn a_crash_duplicates_under_at_least_once_and_loses_under_at_most_once() {
    let json = msgsim::scenarios::get("consumer-offsets").expect("built-in");
    let mut sim = Simulation::from_json(json, 11).unwrap();
    sim.run_until(SimTime::from_ms(22_000), u64::MAX);
    // (partition, offset) -> times processed, per service.
    let mut count: std::collections::BTreeMap<(String, String, u64), u32> = Default::default();
    for e in sim.trace().events() {
        if let TraceKind::Consume { at, tp, offset, .. } = &e.what {
            *count
                .entry((at.node.to_string(), tp.to_string(), *offset))
                .or_default() += 1;
        }
    }
    let twice = |svc: &str| -> Vec<(String, u64)> {
        count
            .iter()
            .filter(|((s, _, _), &n)| s == svc && n > 1)
            .map(|((_, tp, o), _)| (tp.clone(), *o))
            .collect()
    };
    let never = |svc: &str| -> Vec<(String, u64)> {
        let snap = sim.snapshot();
        snap.partitioned_topics[0]
            .partitions
            .iter()
            .flat_map(|p| {
                let tp = format!("payments-{}", p.partition);
                (0..p.log_end_offset).map(move |o| (tp.clone(), o))
            })
            .filter(|(tp, o)| !count.contains_key(&(svc.to_string(), tp.clone(), *o)))
            .collect()
    };
    let takeover: Vec<String> = sim
        .trace()
        .events()
        .filter(|e| matches!(&e.what, TraceKind::Assign { generation: 2, .. }))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        takeover,
        [
            "t=7150.096ms ledger#1 group ledger assign generation=2 payments [0@36 1@67]",
            "t=7662.490ms notifier#1 group notifier assign generation=2 payments [0@51 1@74]",
        ]
    );
    let ledger = sim.node_metrics("ledger").unwrap();
    let notifier = sim.node_metrics("notifier").unwrap();
    // At-least-once: nothing lost, 9 records processed twice: offsets 36-44 of partition 0, which
    // ledger#0 had processed after its last commit (36).
    assert_eq!((ledger.processed, ledger.distinct), (309, 300));
    assert_eq!(never("ledger"), vec![]);
    assert_eq!(
        twice("ledger"),
        (36..=44)
            .map(|o| ("payments-0".to_string(), o))
            .collect::<Vec<_>>()
    );
    // At-most-once: nothing twice, 7 records never processed: offsets 44-50 of partition 0, which
    // notifier#0 had committed and not finished.
    assert_eq!((notifier.processed, notifier.distinct), (293, 293));
    assert_eq!(twice("notifier"), vec![]);
    assert_eq!(
        never("notifier"),
        (44..=50)
            .map(|o| ("payments-0".to_string(), o))
            .collect::<Vec<_>>()
    );
}
