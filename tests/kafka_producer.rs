//! Issue 3, case 3, as full simulation runs: a producer with retries and two requests in flight
//! sends m1 then m2 to a one-partition topic.
//!
//! * m1's first attempt is lost (a one-way partition while it is sent): without idempotence the
//!   log is `[m2, m1]`; with idempotence the broker refuses m2 (`OUT_OF_ORDER_SEQUENCE_NUMBER`)
//!   until m1 is written: `[m1, m2]`.
//! * m1 is written but its ack is lost: without idempotence the retry is written again,
//!   `[m1, m2, m1]`; with idempotence the broker recognises it: `[m1, m2]`.
//!
//! Topology: producer `p` -> broker `b`, 10 ms each way; m1 at 1 ms, m2 at 2 ms; the producer's
//! request timeout is 500 ms and its retry backoff 100 ms.

use msgsim::{Scenario, Simulation};
use serde_json::json;

fn run(idempotent: bool, faults: serde_json::Value) -> Simulation {
    let text = json!({
        "name": "case3",
        "nodes": [{"name": "p", "kind": "service"}, {"name": "b", "kind": "broker"}],
        "links": [{"a": "p", "b": "b", "latency_ms": 10}],
        "channels": [{
            "name": "t", "kind": "partitioned_topic", "broker": "b", "partitions": 1,
            "producers": [{
                "producer": "p", "enable_idempotence": idempotent,
                "max_in_flight_requests_per_connection": 2, "retries": 3,
                "retry_backoff_ms": 100, "request_timeout_ms": 500
            }]
        }],
        "workloads": [{"from": "p", "start_ms": 1, "every_ms": 1, "count": 2, "messages": [
            {"channel": "t", "kind": "event", "type": "OrderUpdated", "key": "order-1"}
        ]}],
        "faults": faults
    })
    .to_string();
    let mut sim = Simulation::new(Scenario::from_json(&text).unwrap(), 1).unwrap();
    // No consumers: the run ends.
    assert!(sim.run_to_idle(10_000) < 10_000);
    sim
}

fn log(sim: &Simulation) -> Vec<u64> {
    let snap = sim.snapshot();
    snap.partitioned_topics[0].partitions[0]
        .records
        .iter()
        .map(|r| r.msg.0)
        .collect()
}

fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

/// m1's first attempt is dropped: the link p -> b is partitioned while it is sent (at 1 ms).
fn m1_lost() -> serde_json::Value {
    json!([
        {"at_ms": 0, "command": {"op": "partition_oneway", "a": "p", "b": "b"}},
        {"at_ms": 1, "command": {"op": "repair", "a": "p", "b": "b"}}
    ])
}

/// m1's ack is dropped: the link b -> p is partitioned while it is sent (at 11 ms).
fn m1_ack_lost() -> serde_json::Value {
    json!([
        {"at_ms": 11, "command": {"op": "partition_oneway", "a": "b", "b": "p"}},
        {"at_ms": 12, "command": {"op": "repair", "a": "p", "b": "b"}}
    ])
}

#[test]
fn first_attempt_lost_without_idempotence_reorders_the_key() {
    let sim = run(false, m1_lost());
    assert_eq!(log(&sim), vec![2, 1], "[m2, m1]");
    assert_eq!(
        lines(&sim),
        [
            "t=0.000ms command partition_oneway p -> b",
            "t=1.000ms p#0 produce m1 to t-0 key=order-1 attempt=1",
            "t=1.000ms p#0 -> b produce m1 attempt=1 #1",
            "t=1.000ms command repair p <-> b",
            "t=2.000ms p#0 produce m2 to t-0 key=order-1 attempt=1",
            "t=2.000ms p#0 -> b produce m2 attempt=1 #2",
            "t=6.000ms p#0 -> b produce m1 dropped (partition) #1",
            "t=12.000ms p#0 -> b produce m2 arrived #2",
            "t=12.000ms b t-0 append m2 offset=0 key=order-1",
            "t=12.000ms b -> p#0 produce_response m2 attempt=1 #3",
            "t=22.000ms b -> p#0 produce_response m2 arrived #3",
            "t=22.000ms p#0 acked m2 t-0 offset=0",
            "t=501.000ms p#0 retry m1 to t-0 attempt=2 after: request timed out (TimeoutException)",
            "t=601.000ms p#0 produce m1 to t-0 key=order-1 attempt=2",
            "t=601.000ms p#0 -> b produce m1 attempt=2 #4",
            "t=611.000ms p#0 -> b produce m1 arrived #4",
            "t=611.000ms b t-0 append m1 offset=1 key=order-1",
            "t=611.000ms b -> p#0 produce_response m1 attempt=2 #5",
            "t=621.000ms b -> p#0 produce_response m1 arrived #5",
            "t=621.000ms p#0 acked m1 t-0 offset=1",
        ]
    );
}

#[test]
fn first_attempt_lost_with_idempotence_keeps_the_order() {
    let sim = run(true, m1_lost());
    assert_eq!(log(&sim), vec![1, 2], "[m1, m2]");
    assert_eq!(
        lines(&sim),
        [
            "t=0.000ms command partition_oneway p -> b",
            "t=1.000ms p#0 produce m1 to t-0 key=order-1 seq=0 attempt=1",
            "t=1.000ms p#0 -> b produce m1 attempt=1 #1",
            "t=1.000ms command repair p <-> b",
            "t=2.000ms p#0 produce m2 to t-0 key=order-1 seq=1 attempt=1",
            "t=2.000ms p#0 -> b produce m2 attempt=1 #2",
            "t=6.000ms p#0 -> b produce m1 dropped (partition) #1",
            "t=12.000ms p#0 -> b produce m2 arrived #2",
            "t=12.000ms b t-0 reject m2: producer 1 on t-0: expected sequence 0, got 1 (OUT_OF_ORDER_SEQUENCE_NUMBER)",
            "t=12.000ms b -> p#0 produce_response m2 attempt=1 #3",
            "t=22.000ms b -> p#0 produce_response m2 arrived #3",
            "t=22.000ms p#0 retry m2 to t-0 attempt=2 after: producer 1 on t-0: expected sequence 0, got 1 (OUT_OF_ORDER_SEQUENCE_NUMBER)",
            "t=501.000ms p#0 retry m1 to t-0 attempt=2 after: request timed out (TimeoutException)",
            "t=601.000ms p#0 produce m1 to t-0 key=order-1 seq=0 attempt=2",
            "t=601.000ms p#0 -> b produce m1 attempt=2 #4",
            "t=611.000ms p#0 -> b produce m1 arrived #4",
            "t=611.000ms b t-0 append m1 offset=0 key=order-1",
            "t=611.000ms b -> p#0 produce_response m1 attempt=2 #5",
            "t=621.000ms b -> p#0 produce_response m1 arrived #5",
            "t=621.000ms p#0 acked m1 t-0 offset=0",
            "t=621.000ms p#0 produce m2 to t-0 key=order-1 seq=1 attempt=2",
            "t=621.000ms p#0 -> b produce m2 attempt=2 #6",
            "t=631.000ms p#0 -> b produce m2 arrived #6",
            "t=631.000ms b t-0 append m2 offset=1 key=order-1",
            "t=631.000ms b -> p#0 produce_response m2 attempt=2 #7",
            "t=641.000ms b -> p#0 produce_response m2 arrived #7",
            "t=641.000ms p#0 acked m2 t-0 offset=1",
        ]
    );
    let snap = sim.snapshot();
    let t = &snap.partitioned_topics[0];
    assert_eq!((t.appended, t.duplicates_discarded, t.rejected), (2, 0, 1));
    assert_eq!(
        t.partitions[0]
            .records
            .iter()
            .map(|r| r.sequence)
            .collect::<Vec<_>>(),
        vec![Some(0), Some(1)]
    );
}

#[test]
fn lost_ack_without_idempotence_writes_m1_twice() {
    let sim = run(false, m1_ack_lost());
    assert_eq!(log(&sim), vec![1, 2, 1], "[m1, m2, m1]");
    let l = lines(&sim);
    assert_eq!(
        l[5..],
        [
            "t=11.000ms p#0 -> b produce m1 arrived #1",
            "t=11.000ms b t-0 append m1 offset=0 key=order-1",
            "t=11.000ms b -> p#0 produce_response m1 attempt=1 #3",
            "t=12.000ms command repair p <-> b",
            "t=12.000ms p#0 -> b produce m2 arrived #2",
            "t=12.000ms b t-0 append m2 offset=1 key=order-1",
            "t=12.000ms b -> p#0 produce_response m2 attempt=1 #4",
            "t=16.000ms b -> p#0 produce_response m1 dropped (partition) #3",
            "t=22.000ms b -> p#0 produce_response m2 arrived #4",
            "t=22.000ms p#0 acked m2 t-0 offset=1",
            "t=501.000ms p#0 retry m1 to t-0 attempt=2 after: request timed out (TimeoutException)",
            "t=601.000ms p#0 produce m1 to t-0 key=order-1 attempt=2",
            "t=601.000ms p#0 -> b produce m1 attempt=2 #5",
            "t=611.000ms p#0 -> b produce m1 arrived #5",
            "t=611.000ms b t-0 append m1 offset=2 key=order-1",
            "t=611.000ms b -> p#0 produce_response m1 attempt=2 #6",
            "t=621.000ms b -> p#0 produce_response m1 arrived #6",
            "t=621.000ms p#0 acked m1 t-0 offset=2",
        ]
    );
    assert_eq!(l[4], "t=11.000ms command partition_oneway b -> p");
}

#[test]
fn lost_ack_with_idempotence_is_discarded_as_a_duplicate() {
    let sim = run(true, m1_ack_lost());
    assert_eq!(log(&sim), vec![1, 2], "[m1, m2]");
    let l = lines(&sim);
    assert_eq!(
        l[l.len() - 7..],
        [
            "t=601.000ms p#0 produce m1 to t-0 key=order-1 seq=0 attempt=2",
            "t=601.000ms p#0 -> b produce m1 attempt=2 #5",
            "t=611.000ms p#0 -> b produce m1 arrived #5",
            "t=611.000ms b t-0 duplicate m1 discarded (idempotence), already at offset=0",
            "t=611.000ms b -> p#0 produce_response m1 attempt=2 #6",
            "t=621.000ms b -> p#0 produce_response m1 arrived #6",
            "t=621.000ms p#0 acked m1 t-0 offset=0 (duplicate)",
        ]
    );
    let snap = sim.snapshot();
    let t = &snap.partitioned_topics[0];
    assert_eq!((t.appended, t.duplicates_discarded, t.rejected), (2, 1, 0));
}

/// The `idempotent-producer` scenario: the same stream over equally lossy links.
#[test]
fn lossy_link_reorders_and_duplicates_keys_only_without_idempotence() {
    let json = msgsim::scenarios::get("idempotent-producer").expect("built-in");
    let mut sim = Simulation::from_json(json, 3).unwrap();
    assert!(sim.run_to_idle(1_000_000) < 1_000_000);
    // Per topic: key -> message ids in log order (all partitions).
    let mut logs: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u64>>> =
        Default::default();
    for e in sim.trace().events() {
        if let msgsim::TraceKind::Append { tp, msg, key, .. } = &e.what {
            let topic = tp.rsplit_once('-').map_or("", |(t, _)| t).to_string();
            logs.entry(topic)
                .or_default()
                .entry(key.clone().unwrap_or_default())
                .or_default()
                .push(msg.0);
        }
    }
    let broken = |topic: &str| -> usize {
        logs[topic]
            .values()
            .filter(|ids| {
                let mut sorted = (*ids).clone();
                sorted.sort();
                sorted.dedup();
                **ids != sorted
            })
            .count()
    };
    let snap = sim.snapshot();
    let counts = |i: usize| {
        let t = &snap.partitioned_topics[i];
        (
            t.name.as_str(),
            t.appended,
            t.duplicates_discarded,
            t.rejected,
        )
    };
    // 90 events, 8 of them written twice.
    assert_eq!(counts(0), ("orders-plain", 98, 0, 0));
    // 14 resends recognised and discarded, 20 batches refused as out of order (then resent).
    assert_eq!(counts(1), ("orders-idem", 90, 14, 20));
    assert_eq!((broken("orders-plain"), broken("orders-idem")), (15, 0));
    // cart-2: m7 (ItemAdded) is written twice; cart-3: m15 (OrderShipped) lands
    // before m14 (PaymentTaken). With idempotence both carts are intact.
    assert_eq!(logs["orders-plain"]["cart-2"], vec![7, 8, 9, 7]);
    assert_eq!(logs["orders-plain"]["cart-3"], vec![13, 15, 14]);
    assert_eq!(logs["orders-idem"]["cart-2"], vec![10, 11, 12]);
    assert_eq!(logs["orders-idem"]["cart-3"], vec![16, 17, 18]);
}
