//! Broker properties (durability, duplicate detection window, capacity, nack and dead letters)
//! and brokerless messaging, with exact values.

use msgsim::snapshot::DeadLetterReason;
use msgsim::{Command, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

fn has(sim: &Simulation, line: &str) -> bool {
    lines(sim).iter().any(|l| l == line)
}

fn cmd(op: &str, node: &str) -> Command {
    serde_json::from_value(json!({"op": op, "node": node})).unwrap()
}

/// `p` -> broker `b` -> `c`; 10 ms links, 5 ms processing; `channels` and `policies` given.
fn pbc(channels: Value, messages: Value, count: u64, policies: Value) -> Scenario {
    let text = json!({
        "name": "pbc",
        "nodes": [
            {"name": "p", "kind": "service"},
            {"name": "b", "kind": "broker"},
            {"name": "c", "kind": "service", "processing_ms": 5},
            {"name": "d", "kind": "service", "processing_ms": 5}
        ],
        "links": [
            {"a": "p", "b": "b", "latency_ms": 10},
            {"a": "b", "b": "c", "latency_ms": 10},
            {"a": "b", "b": "d", "latency_ms": 10},
            {"a": "p", "b": "d", "latency_ms": 10}
        ],
        "channels": channels,
        "workloads": [{"from": "p", "every_ms": 100, "count": count, "messages": messages}],
        "policies": policies
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

#[test]
fn a_broker_crash_empties_a_non_durable_queue_and_keeps_a_durable_one() {
    let sc = pbc(
        json!([
            {"name": "kept", "kind": "queue", "broker": "b", "consumers": ["c"]},
            {"name": "transient", "kind": "queue", "broker": "b", "consumers": ["d"],
             "durable": false}
        ]),
        json!([
            {"channel": "kept", "kind": "event", "type": "E"},
            {"channel": "transient", "kind": "event", "type": "E"}
        ]),
        5,
        json!({}),
    );
    let mut s = Simulation::new(sc, 1).unwrap();
    // Both consumers frozen: each queue buffers its 5 messages (one delivered, unacked).
    s.apply(cmd("pause", "c")).unwrap();
    s.apply(cmd("pause", "d")).unwrap();
    s.run_until(SimTime::from_ms(450), u64::MAX);
    let depth = |s: &Simulation| {
        s.snapshot()
            .channels
            .iter()
            .map(|c| (c.queues[0].ready, c.queues[0].unacked, c.queues[0].lost))
            .collect::<Vec<_>>()
    };
    assert_eq!(depth(&s), [(4, 1, 0), (4, 1, 0)]);
    s.apply(cmd("crash", "b")).unwrap();
    assert_eq!(depth(&s), [(4, 1, 0), (0, 0, 5)]);
    assert!(has(
        &s,
        "t=450.000ms transient lost 5 messages (non-durable, broker crashed)"
    ));
    s.apply(cmd("restart", "b")).unwrap();
    s.apply(cmd("resume", "c")).unwrap();
    s.apply(cmd("resume", "d")).unwrap();
    s.run_to_idle(u64::MAX);
    let (c, d) = (s.node_metrics("c").unwrap(), s.node_metrics("d").unwrap());
    // The durable queue delivers all 5; the unacked one went out again after the restart and the
    // frozen copy was handled too. The transient consumer only had its one frozen delivery.
    assert_eq!((c.distinct, c.processed), (5, 6));
    assert_eq!((d.distinct, d.processed), (1, 1));
    let m = *s.metrics();
    assert_eq!((m.broker_lost, m.redelivered), (5, 1));
    let snap = s.snapshot();
    assert_eq!(
        (snap.channels[0].durable, snap.channels[1].durable),
        (true, false)
    );
}

#[test]
fn the_duplicate_detection_window_drops_repeats_it_remembers_and_forgets_old_ids() {
    // Confirms never arrive: p publishes m1 at 0, 50, 100 and 150 ms (publish timeout 50 ms,
    // 4 attempts); the broker sees it at 10, 60, 110 and 160 ms with a 100 ms window.
    let sc = pbc(
        json!([{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"],
                "dedup_window_ms": 100}]),
        json!([{"channel": "q", "kind": "command", "type": "Pay"}]),
        1,
        json!({"publish_timeout_ms": 50, "publish_max_attempts": 4, "ack_timeout_ms": 1000}),
    );
    let mut s = Simulation::new(sc, 1).unwrap();
    s.apply(Command::PartitionOneway {
        a: "b".into(),
        b: "p".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    for line in [
        "t=10.000ms q enqueue m1 depth=1",
        "t=60.000ms q duplicate m1 confirmed, not enqueued (first seen at 10.000ms)",
        "t=110.000ms q enqueue m1 depth=1",
        "t=160.000ms q duplicate m1 confirmed, not enqueued (first seen at 110.000ms)",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let snap = s.snapshot();
    assert_eq!(
        (
            snap.channels[0].duplicates_dropped,
            snap.channels[0].queues[0].enqueued
        ),
        (2, 2)
    );
    assert_eq!(s.metrics().broker_duplicates, 2);
    assert_eq!(s.node_metrics("c").unwrap().effects, 2);
}

fn three_at_once(service_us: u64) -> Scenario {
    pbc(
        json!([{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"]}]),
        json!([
            {"channel": "q", "kind": "command", "type": "A"},
            {"channel": "q", "kind": "command", "type": "B"},
            {"channel": "q", "kind": "command", "type": "C"}
        ]),
        1,
        json!({"broker_service_time_us": service_us, "publish_timeout_ms": 100}),
    )
}

#[test]
fn a_broker_service_time_makes_packets_wait_in_a_fifo_backlog() {
    let mut s = Simulation::new(three_at_once(2_000), 1).unwrap();
    s.run_until(SimTime::from_ms(11), u64::MAX);
    // All three arrived at 10 ms; the first is in service until 12 ms, the others wait.
    let b = s.snapshot().nodes[1].broker.unwrap();
    assert_eq!((b.backlog, b.busy_until), (3, SimTime::from_ms(16)));
    s.run_to_idle(u64::MAX);
    for line in [
        "t=10.000ms p#0 -> b publish m3 arrived #3",
        "t=12.000ms q enqueue m1 depth=1",
        "t=14.000ms q enqueue m2 depth=1",
        "t=16.000ms q enqueue m3 depth=2",
        // m1's ack arrives at 37 ms and waits behind nothing: handled at 39 ms.
        "t=39.000ms q ack m1",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let b = s.snapshot().nodes[1].broker.unwrap();
    assert_eq!((b.service_time_us, b.backlog_max, b.handled), (2_000, 3, 6));
    // Without a service time, the three are enqueued on arrival.
    let mut s = Simulation::new(three_at_once(0), 1).unwrap();
    s.run_to_idle(u64::MAX);
    assert!(has(&s, "t=10.000ms q enqueue m3 depth=2"));
}

#[test]
fn a_broker_crash_loses_its_backlog_and_producers_retry() {
    let mut s = Simulation::new(three_at_once(2_000), 1).unwrap();
    s.run_until(SimTime::from_ms(13), u64::MAX);
    s.apply(cmd("crash", "b")).unwrap();
    assert!(has(
        &s,
        "t=13.000ms b crashed with 2 packets in its backlog: lost"
    ));
    s.apply(cmd("restart", "b")).unwrap();
    s.run_to_idle(u64::MAX);
    let m = *s.metrics();
    assert_eq!((m.backlog_lost, m.retried), (2, 2));
    assert_eq!(s.node_metrics("c").unwrap().distinct, 3);
}

fn failing(on_failure: &str) -> Scenario {
    pbc(
        json!([{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"],
                "failure_percent": 100, "on_failure": on_failure}]),
        json!([{"channel": "q", "kind": "command", "type": "Pay", "key": "order-1"}]),
        1,
        json!({"max_delivery_attempts": 3}),
    )
}

#[test]
fn a_nack_with_requeue_redelivers_until_the_delivery_limit() {
    let mut s = Simulation::new(failing("requeue"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    for line in [
        "t=25.000ms c#0 handler failed m1 attempt=1 (nack, requeue)",
        "t=35.000ms q nack m1 (requeue)",
        "t=35.000ms q redeliver m1 attempt=2 (nacked)",
        "t=85.000ms q nack m1 (requeue)",
        "t=85.000ms q dead-letter m1 after 3 deliveries",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let m = *s.metrics();
    assert_eq!(
        (
            m.handler_failures,
            m.nacked,
            m.redelivered,
            m.dead_lettered,
            m.effects
        ),
        (3, 3, 2, 1, 0)
    );
    let q = &s.snapshot().channels[0].queues[0];
    assert_eq!((q.dead_letters, q.nacked, q.acked), (1, 3, 0));
    let dl = &q.dead_letter_queue[0];
    assert_eq!(
        (
            dl.msg.0,
            dl.type_name.as_str(),
            dl.key.as_deref(),
            dl.deliveries,
            dl.reason,
            dl.at
        ),
        (
            1,
            "Pay",
            Some("order-1"),
            3,
            DeadLetterReason::DeliveryLimit,
            SimTime::from_ms(85)
        )
    );
}

#[test]
fn a_nack_without_requeue_dead_letters_at_once_as_rejected() {
    let mut s = Simulation::new(failing("dead_letter"), 1).unwrap();
    s.run_to_idle(u64::MAX);
    assert!(has(
        &s,
        "t=25.000ms c#0 handler failed m1 attempt=1 (nack, dead-letter)"
    ));
    assert!(has(&s, "t=35.000ms q dead-letter m1 after 1 deliveries"));
    let q = &s.snapshot().channels[0].queues[0];
    assert_eq!(q.dead_letter_queue.len(), 1);
    assert_eq!(
        (
            q.dead_letter_queue[0].reason,
            q.dead_letter_queue[0].deliveries
        ),
        (DeadLetterReason::Rejected, 1)
    );
    assert_eq!(s.metrics().redelivered, 0);
}

#[test]
fn an_ack_timeout_dead_letter_is_recorded_with_its_reason() {
    let mut s = Simulation::new(failing("requeue"), 1).unwrap();
    s.apply(Command::PartitionOneway {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let q = &s.snapshot().channels[0].queues[0];
    assert_eq!(
        (
            q.dead_letter_queue[0].reason,
            q.dead_letter_queue[0].deliveries,
            q.dead_letter_queue[0].at
        ),
        (DeadLetterReason::DeliveryLimit, 3, SimTime::from_ms(1_510))
    );
}

fn direct(count: u64) -> Scenario {
    pbc(
        json!([{"name": "straight", "kind": "direct", "consumers": ["d"]}]),
        json!([{"channel": "straight", "kind": "command", "type": "Cook"}]),
        count,
        json!({}),
    )
}

#[test]
fn a_brokerless_message_to_a_crashed_receiver_is_lost() {
    let mut s = Simulation::new(direct(5), 1).unwrap();
    s.run_until(SimTime::from_ms(150), u64::MAX);
    s.apply(cmd("crash", "d")).unwrap();
    s.run_until(SimTime::from_ms(350), u64::MAX);
    s.apply(cmd("restart", "d")).unwrap();
    s.run_to_idle(u64::MAX);
    for line in [
        "t=0.000ms p#0 -> d#0 direct m1 attempt=1 #1",
        "t=15.000ms d#0 process m1 attempt=1 effect applied",
        "t=210.000ms p#0 -> d#0 direct m3 dropped (node_down) #3",
        "t=310.000ms p#0 -> d#0 direct m4 dropped (node_down) #4",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let m = *s.metrics();
    // No confirms, no acks, no retries: 5 packets, 2 lost for good.
    assert_eq!(
        (
            m.sent,
            m.direct_sent,
            m.direct_lost,
            m.retried,
            m.acked,
            m.effects
        ),
        (5, 5, 2, 0, 0, 3)
    );
    let snap = s.snapshot();
    assert_eq!(snap.channels[0].direct_to.as_deref(), Some("d"));
    assert!(snap.channels[0].queues.is_empty());
}

#[test]
fn a_crash_loses_the_brokerless_messages_in_memory() {
    let mut s = Simulation::new(direct(1), 1).unwrap();
    s.run_until(SimTime::from_ms(12), u64::MAX);
    s.apply(cmd("crash", "d")).unwrap();
    assert!(has(
        &s,
        "t=12.000ms d#0 crashed: 1 direct messages lost, 0 pending requests abandoned"
    ));
    assert_eq!(s.metrics().direct_lost, 1);
}

fn builtin(name: &str) -> Simulation {
    let json = msgsim::scenarios::get(name).unwrap();
    let seed = Scenario::from_json(json).unwrap().seed;
    let mut s = Simulation::from_json(json, seed).unwrap();
    s.run_to_idle(10_000_000);
    s
}

fn effects(s: &Simulation, node: &str) -> (u64, u64) {
    let m = s.node_metrics(node).unwrap();
    (m.effects, m.effects_expected)
}

#[test]
fn the_brokerless_vs_broker_scenario() {
    let s = builtin("brokerless-vs-broker");
    assert_eq!(effects(&s, "brokered-kitchen"), (50, 50));
    assert_eq!(effects(&s, "direct-kitchen"), (40, 40));
    let m = *s.metrics();
    assert_eq!((m.direct_sent, m.direct_lost, m.redelivered), (50, 10, 0));
}

#[test]
fn the_dead_letter_queue_scenario() {
    let s = builtin("dead-letter-queue");
    let snap = s.snapshot();
    let reasons = |c: usize| {
        snap.channels[c].queues[0]
            .dead_letter_queue
            .iter()
            .map(|d| (d.msg.0, d.deliveries, d.reason))
            .collect::<Vec<_>>()
    };
    use DeadLetterReason::*;
    assert_eq!(reasons(0), [(15, 3, DeliveryLimit)]);
    assert_eq!(
        reasons(1),
        [
            (16, 1, Rejected),
            (22, 1, Rejected),
            (28, 1, Rejected),
            (38, 1, Rejected),
            (40, 1, Rejected),
            (58, 1, Rejected),
            (64, 1, Rejected),
            (72, 1, Rejected)
        ]
    );
    assert_eq!(effects(&s, "payment"), (39, 39));
    assert_eq!(effects(&s, "billing"), (32, 32));
    let m = *s.metrics();
    assert_eq!((m.handler_failures, m.nacked, m.redelivered), (31, 31, 22));
}

#[test]
fn the_broker_durability_scenario() {
    let s = builtin("broker-durability");
    let snap = s.snapshot();
    let lost: Vec<u64> = snap.channels.iter().map(|c| c.queues[0].lost).collect();
    assert_eq!(lost, [0, 14]);
    assert_eq!(effects(&s, "audit"), (61, 60));
    assert_eq!(effects(&s, "analytics"), (47, 47));
    assert_eq!(s.metrics().publish_failed, 0);
}

#[test]
fn the_broker_bottleneck_scenario() {
    let s = builtin("broker-bottleneck");
    let b = s.snapshot().nodes[2].broker.unwrap();
    assert_eq!(
        (b.service_time_us, b.backlog_max, b.backlog_lost),
        (3_500, 407, 17)
    );
    let m = *s.metrics();
    assert_eq!((m.retried, m.publish_failed), (2172, 0));
    assert_eq!(effects(&s, "shipping"), (2495, 1100));
}

#[test]
fn the_broker_dedup_window_scenario() {
    let s = builtin("broker-dedup-window");
    assert_eq!(effects(&s, "ledger-dedup"), (54, 48));
    assert_eq!(effects(&s, "ledger"), (86, 48));
    let snap = s.snapshot();
    assert_eq!(
        (
            snap.channels[0].dedup_window_ms,
            snap.channels[0].duplicates_dropped
        ),
        (1_000, 33)
    );
    assert_eq!(snap.channels[1].duplicates_dropped, 0);
}
