//! Duplicate handling on the receiver (naive, idempotent, deduplicating), with exact values.

use msgsim::snapshot::{ProcessedRow, MAX_TABLE_ROWS};
use msgsim::{Scenario, SimTime, Simulation};
use serde_json::json;

fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

/// `p` -> broker `b` -> `c` (two instances, 5 ms handler). The p -> b link duplicates every
/// publish with no jitter, so the broker enqueues two copies of each message id at the same
/// time and hands them to the two instances (prefetch 1): they arrive, are handled and commit
/// in the same tick.
fn twin_copies(handling: &str, count: u64, key: &str) -> Scenario {
    let text = json!({
        "name": "twins",
        "nodes": [
            {"name": "p", "kind": "service"},
            {"name": "b", "kind": "broker"},
            {"name": "c", "kind": "service", "instances": 2, "processing_ms": 5,
             "duplicates": handling}
        ],
        "links": [
            {"a": "p", "b": "b", "latency_ms": 10, "duplicate_percent": 100},
            {"a": "b", "b": "c", "latency_ms": 10}
        ],
        "channels": [{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"]}],
        "workloads": [{"from": "p", "every_ms": 100, "count": count, "messages": [
            {"channel": "q", "kind": "command", "type": "MarkPaid", "key": key}
        ]}]
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

#[test]
fn two_copies_at_two_dedup_instances_in_the_same_tick_commit_one_effect() {
    let mut s = Simulation::new(twin_copies("dedup", 1, "order-1"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    let at_20_25: Vec<&str> = l
        .iter()
        .map(|x| x.as_str())
        .filter(|x| x.starts_with("t=20.000ms b -> c") || x.starts_with("t=25.000ms c#"))
        .collect();
    assert_eq!(
        at_20_25,
        [
            "t=20.000ms b -> c#0 deliver m1 arrived #5",
            "t=20.000ms b -> c#1 deliver m1 arrived #8",
            "t=25.000ms c#0 process m1 attempt=1 effect applied",
            "t=25.000ms c#0 -> b ack m1 attempt=1 #9",
            "t=25.000ms c#1 process m1 attempt=1 duplicate discarded",
            "t=25.000ms c#1 -> b ack m1 attempt=1 #10",
        ]
    );
    let c = s.node_metrics("c").unwrap();
    // The handler ran twice; exactly one effect committed.
    assert_eq!(
        (
            c.processed,
            c.distinct,
            c.effects,
            c.effects_expected,
            c.duplicates_discarded
        ),
        (2, 1, 1, 1, 1)
    );
    let table = &s.snapshot().nodes[2].processed_table;
    assert_eq!(
        table,
        &[ProcessedRow {
            msg: msgsim::MessageId(1),
            key: Some("order-1".into()),
            instance: 0,
            at: SimTime::from_ms(25),
            repeats: 1,
            last_repeat: Some((SimTime::from_ms(25), 1)),
        }]
    );
}

#[test]
fn the_same_copies_double_a_naive_effect_and_not_an_idempotent_one() {
    // (handling, effects, effects_expected, table rows)
    for (handling, effects, expected, rows) in [
        ("naive", 2, 1, 0),
        ("idempotent", 1, 1, 1),
        ("dedup", 1, 1, 1),
    ] {
        let mut s = Simulation::new(twin_copies(handling, 1, "order-1"), 1).unwrap();
        s.run_to_idle(u64::MAX);
        let c = s.node_metrics("c").unwrap();
        assert_eq!(
            (c.processed, c.effects, c.effects_expected),
            (2, effects, expected),
            "{handling}"
        );
        assert_eq!(
            s.snapshot().nodes[2].processed_table.len(),
            rows,
            "{handling}"
        );
    }
    let mut s = Simulation::new(twin_copies("idempotent", 1, "order-1"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    assert!(l.contains(&"t=25.000ms c#0 set order-1 by m1 effect applied".to_string()));
    assert!(l.contains(&"t=25.000ms c#1 set order-1 by m1 unchanged (idempotent)".to_string()));
    let row = &s.snapshot().nodes[2].processed_table[0];
    assert_eq!(
        (row.repeats, row.last_repeat),
        (1, Some((SimTime::from_ms(25), 1)))
    );
}

#[test]
fn an_idempotent_receiver_counts_one_effect_per_key() {
    // Three messages (six copies) that all set the state of one key: one effect.
    let mut s = Simulation::new(twin_copies("idempotent", 3, "order-1"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    let c = s.node_metrics("c").unwrap();
    assert_eq!(
        (c.processed, c.distinct, c.effects, c.effects_expected),
        (6, 3, 1, 1)
    );
    assert_eq!(s.snapshot().nodes[2].processed_table[0].repeats, 5);
}

#[test]
fn the_processed_messages_table_shown_is_bounded() {
    let mut s = Simulation::new(twin_copies("dedup", 100, "order-{n}"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    let c = s.node_metrics("c").unwrap();
    assert_eq!(
        (c.processed, c.effects, c.duplicates_discarded),
        (200, 100, 100)
    );
    let table = &s.snapshot().nodes[2].processed_table;
    assert_eq!(table.len(), MAX_TABLE_ROWS);
    assert_eq!((table[0].msg.0, table[63].msg.0), (37, 100));
    assert!(table.iter().all(|r| r.repeats == 1));
}

#[test]
fn the_duplicate_handling_scenario() {
    let json = msgsim::scenarios::get("duplicate-handling").unwrap();
    let mut s = Simulation::from_json(json, 29).unwrap();
    s.run_to_idle(10_000_000);
    let row = |n: &str| {
        let m = s.node_metrics(n).unwrap();
        (
            m.processed,
            m.effects,
            m.effects_expected,
            m.duplicates_discarded,
        )
    };
    assert_eq!(row("ledger"), (56, 56, 48, 0));
    assert_eq!(row("order-status"), (54, 48, 48, 0));
    assert_eq!(row("billing"), (66, 48, 48, 18));
    let snap = s.snapshot();
    // (rows, rows marked as repeated, total repeats): the repeats are exactly the discarded
    // duplicates (billing) or the re-applications that changed nothing (order-status).
    let marks = |i: usize| {
        let t = &snap.nodes[i].processed_table;
        (
            t.len(),
            t.iter().filter(|r| r.repeats > 0).count(),
            t.iter().map(|r| r.repeats).sum::<u32>(),
        )
    };
    assert_eq!(marks(3), (48, 6, 6));
    assert_eq!(marks(4), (48, 9, 18));
    assert!(snap.nodes[2].processed_table.is_empty(), "naive: no table");
}
