//! At-least-once delivery over the broker, under each kind of fault, with exact counts.
//!
//! The topology: producer `p` -> broker `b` -> consumer `c` (one or two instances) over a queue
//! `q`; 10 ms links, 5 ms processing, 100 ms ack timeout, 50 ms publish timeout.

use msgsim::{Command, Direction, LinkFaults, Scenario, SimTime, Simulation, TraceKind};

mod common;
use common::{lines, pbc as scenario};

fn sim(messages: u64, consumers: u32, dedup: bool) -> Simulation {
    Simulation::new(scenario(messages, consumers, dedup), 5).unwrap()
}

fn faults(loss: f64, dup: f64) -> LinkFaults {
    LinkFaults {
        latency_ms: 10,
        loss_percent: loss,
        duplicate_percent: dup,
        ..LinkFaults::default()
    }
}

fn set(sim: &mut Simulation, a: &str, b: &str, direction: Direction, f: LinkFaults) {
    sim.apply(Command::SetLink {
        a: a.into(),
        b: b.into(),
        direction,
        faults: f,
    })
    .unwrap();
}

#[test]
fn healthy_run_delivers_each_message_once() {
    let mut s = sim(10, 1, false);
    s.run_to_idle(u64::MAX);
    let m = *s.metrics();
    let c = s.node_metrics("c").unwrap();
    // 10 publishes + 10 confirms + 10 deliveries + 10 acks.
    assert_eq!((m.sent, m.delivered, m.dropped), (40, 40, 0));
    assert_eq!(
        (m.published, m.acked, m.redelivered, m.retried),
        (10, 10, 0, 0)
    );
    assert_eq!((c.processed, c.distinct, c.effects), (10, 10, 10));
    // The last event is m10's (no-op) publish timeout.
    assert_eq!(s.now(), SimTime(335_000));
    // The first message's life, line by line.
    assert_eq!(
        lines(&s)[..8],
        [
            "t=0.000ms p#0 -> b publish m1 attempt=1 #1",
            "t=10.000ms p#0 -> b publish m1 arrived #1",
            "t=10.000ms q enqueue m1 depth=1",
            "t=10.000ms b -> p#0 publish_ack m1 attempt=1 #2",
            "t=10.000ms b -> c#0 deliver m1 attempt=1 #3",
            "t=20.000ms p#0 -> b publish m2 attempt=1 #4",
            "t=20.000ms b -> p#0 publish_ack m1 arrived #2",
            "t=20.000ms b -> c#0 deliver m1 arrived #3",
        ]
    );
}

#[test]
fn a_lost_delivery_is_redelivered_after_the_ack_timeout() {
    let mut s = sim(1, 1, false);
    s.apply(Command::PartitionOneway {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_until(SimTime::from_ms(150), u64::MAX);
    s.apply(Command::Repair {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    assert!(l.contains(&"t=15.000ms b -> c#0 deliver m1 dropped (partition) #3".to_string()));
    assert!(l.contains(&"t=110.000ms q redeliver m1 attempt=2 (ack_timeout)".to_string()));
    assert!(l.contains(&"t=210.000ms b -> c#0 deliver m1 attempt=3 #5".to_string()));
    assert!(l.contains(&"t=225.000ms c#0 process m1 attempt=3 effect applied".to_string()));
    let m = *s.metrics();
    assert_eq!(
        (m.redelivered, m.dropped, m.acked, m.processed),
        (2, 2, 1, 1)
    );
}

#[test]
fn a_lost_ack_doubles_a_naive_effect_and_dedup_discards_it() {
    for (dedup, effects, discarded) in [(false, 2, 0), (true, 1, 1)] {
        let mut s = sim(1, 1, dedup);
        // Acks from c to b are lost until 120 ms; the first ack (sent at 25 ms) is lost.
        s.apply(Command::PartitionOneway {
            a: "c".into(),
            b: "b".into(),
        })
        .unwrap();
        s.run_until(SimTime::from_ms(120), u64::MAX);
        s.apply(Command::Repair {
            a: "c".into(),
            b: "b".into(),
        })
        .unwrap();
        s.run_to_idle(u64::MAX);
        let c = s.node_metrics("c").unwrap();
        assert_eq!((c.processed, c.distinct), (2, 1), "dedup={dedup}");
        assert_eq!(
            (c.effects, c.duplicates_discarded),
            (effects, discarded),
            "dedup={dedup}"
        );
        assert_eq!(s.metrics().redelivered, 1);
    }
}

#[test]
fn network_duplicates_double_naive_effects_and_their_acks_arrive_late() {
    let mut s = sim(10, 1, false);
    set(&mut s, "b", "c", Direction::AToB, faults(0.0, 100.0));
    s.run_to_idle(u64::MAX);
    let m = *s.metrics();
    let c = s.node_metrics("c").unwrap();
    assert_eq!(m.duplicated, 10);
    assert_eq!((c.processed, c.distinct, c.effects), (20, 10, 20));
    assert_eq!(m.acked, 10);
    let late = s
        .trace()
        .events()
        .filter(|e| {
            matches!(
                e.what,
                TraceKind::Acked {
                    outstanding: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(late, 10);
}

#[test]
fn a_lost_publish_confirm_makes_the_producer_retry_and_the_queue_holds_a_duplicate() {
    let mut s = sim(1, 1, false);
    s.apply(Command::PartitionOneway {
        a: "b".into(),
        b: "p".into(),
    })
    .unwrap();
    // The confirm sent at 10 ms is lost; the retry at 50 ms is confirmed after the repair.
    s.run_until(SimTime::from_ms(55), u64::MAX);
    s.apply(Command::Repair {
        a: "b".into(),
        b: "p".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    assert!(l.contains(&"t=50.000ms p#0 retry publish m1 attempt=2".to_string()));
    let m = *s.metrics();
    let c = s.node_metrics("c").unwrap();
    assert_eq!((m.retried, m.published), (1, 1));
    assert_eq!((c.processed, c.distinct, c.effects), (2, 1, 2));
}

#[test]
fn random_loss_is_recovered_by_redelivery_and_retries() {
    let mut sc = scenario(50, 2, true);
    sc.policies.max_delivery_attempts = 20;
    sc.policies.publish_max_attempts = 20;
    let mut s = Simulation::new(sc, 5).unwrap();
    set(&mut s, "b", "c", Direction::Both, faults(30.0, 0.0));
    set(&mut s, "p", "b", Direction::Both, faults(30.0, 0.0));
    s.run_to_idle(u64::MAX);
    let m = *s.metrics();
    let c = s.node_metrics("c").unwrap();
    assert_eq!(c.distinct, 50, "every message processed at least once");
    assert_eq!(c.effects, 50, "dedup applies each effect once");
    assert_eq!(
        (
            m.dropped,
            m.redelivered,
            m.retried,
            m.dead_lettered,
            m.publish_failed
        ),
        (132, 78, 54, 0, 0)
    );
}

#[test]
fn held_messages_wait_and_arrive_after_release() {
    let mut s = sim(5, 1, false);
    s.apply(Command::Hold {
        a: "p".into(),
        b: "b".into(),
    })
    .unwrap();
    s.run_until(SimTime::from_ms(45), u64::MAX);
    let snap = s.snapshot();
    assert_eq!(snap.in_flight.iter().filter(|t| t.held).count(), 3);
    assert_eq!(s.metrics().delivered, 0);
    s.apply(Command::Release {
        a: "p".into(),
        b: "b".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let c = s.node_metrics("c").unwrap();
    // m1 was held past its 50 ms publish timeout: the producer retried it, the broker got it twice.
    assert_eq!((c.distinct, c.effects), (5, 6));
    assert_eq!(s.metrics().retried, 1);
}

#[test]
fn a_crashed_consumer_loses_its_work_and_the_broker_redelivers_to_the_other_instance() {
    let mut s = sim(4, 2, false);
    s.run_until(SimTime::from_ms(22), u64::MAX);
    // m1 was delivered to c#0 at 20 ms and is being processed (until 25 ms).
    s.apply(Command::Crash {
        node: "c".into(),
        instance: 0,
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    assert!(l.contains(&"t=22.000ms q redeliver m1 attempt=2 (connection_reset)".to_string()));
    assert!(l.contains(&"t=22.000ms b -> c#1 deliver m1 attempt=2 #5".to_string()));
    let c = s.node_metrics("c").unwrap();
    assert_eq!((c.processed, c.distinct, c.effects), (4, 4, 4));
    let snap = s.snapshot();
    let c_view = snap.nodes.iter().find(|n| n.name == "c").unwrap();
    assert_eq!(
        c_view.instances[0].status,
        msgsim::snapshot::InstanceStatus::Crashed
    );
}

#[test]
fn a_message_that_is_never_acked_goes_to_the_dead_letter_queue() {
    let mut s = sim(1, 1, false);
    s.apply(Command::PartitionOneway {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    assert!(l.contains(&"t=410.000ms q dead-letter m1 after 4 deliveries".to_string()));
    let snap = s.snapshot();
    assert_eq!(snap.channels[0].queues[0].dead_letters, 1);
    assert_eq!(s.metrics().dead_lettered, 1);
    assert_eq!(s.metrics().redelivered, 3);
}

#[test]
fn a_paused_consumer_buffers_and_resumes() {
    let mut s = sim(3, 1, false);
    s.apply(Command::Pause {
        node: "c".into(),
        instance: 0,
    })
    .unwrap();
    s.run_until(SimTime::from_ms(300), u64::MAX);
    assert_eq!(s.node_metrics("c").unwrap().processed, 0);
    s.apply(Command::Resume {
        node: "c".into(),
        instance: 0,
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let c = s.node_metrics("c").unwrap();
    // Frozen past the ack timeout: the broker redelivered m1 at 110 ms and 210 ms into the frozen
    // inbox; on resume c handles m1 three times (attempts 1, 2, 3), and attempt 3's ack (325 ms)
    // comes after its timeout (310 ms), so m1 goes out a fourth time.
    assert_eq!((c.processed, c.distinct), (6, 3));
    assert_eq!(s.metrics().redelivered, 3);
}

#[test]
fn a_broker_crash_keeps_durable_queues_and_redelivers_unacked_on_restart() {
    let mut s = sim(5, 1, false);
    s.run_until(SimTime::from_ms(61), u64::MAX);
    s.apply(Command::Crash {
        node: "b".into(),
        instance: 0,
    })
    .unwrap();
    s.run_until(SimTime::from_ms(200), u64::MAX);
    s.apply(Command::Restart {
        node: "b".into(),
        instance: 0,
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let c = s.node_metrics("c").unwrap();
    let m = *s.metrics();
    // Publishes at 80..180 ms found the broker down and were retried; the delivery unacked at the
    // crash went out again after the restart.
    assert_eq!(c.distinct, 5);
    assert_eq!((m.retried, m.redelivered, m.publish_failed), (6, 1, 0));
    assert!(
        lines(&s).contains(&"t=200.000ms q redeliver m3 attempt=2 (broker_restart)".to_string())
    );
}

#[test]
fn bad_commands_are_errors_and_change_nothing() {
    let mut s = sim(1, 1, false);
    let before = s.trace_hash();
    let e = s
        .apply(Command::Crash {
            node: "nope".into(),
            instance: 0,
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown node `nope`");
    let e = s
        .apply(Command::Crash {
            node: "c".into(),
            instance: 3,
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "node `c` has no instance 3 (it has 1)");
    let e = s
        .apply(Command::Partition {
            a: "p".into(),
            b: "c".into(),
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "no link between `p` and `c`");
    let e = s
        .apply(Command::SetLink {
            a: "p".into(),
            b: "b".into(),
            direction: Direction::Both,
            faults: faults(150.0, 0.0),
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid faults: faults.loss_percent: 150 is out of range 0..=100 (%)"
    );
    assert_eq!(s.trace_hash(), before);
    assert!(s.command_log().is_empty());
}

#[test]
fn scenario_errors_say_where() {
    let e = Scenario::from_json("{\n  \"name\": \"x\",\n  \"nodes\": 3\n}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "scenario JSON, line 3 column 12: invalid type: integer `3`, expected a sequence"
    );
    let e = Scenario::from_json(
        r#"{"name":"x","nodes":[{"name":"a","kind":"service"}],"links":[{"a":"a","b":"zz"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "links[0].b: unknown name `zz`");
    let e =
        Scenario::from_json(r#"{"name":"x","nodes":[{"name":"a","kind":"service","colour":1}]}"#)
            .unwrap_err();
    assert_eq!(
        e.to_string(),
        "scenario JSON, line 1 column 58: unknown field `colour`, expected one of `name`, `kind`, \
         `instances`, `processing_ms`, `duplicates`, `effect`, `pos`"
    );
    let e = Scenario::from_json(
        r#"{"name":"x","nodes":[{"name":"b","kind":"broker"},{"name":"c","kind":"service"},
            {"name":"d","kind":"service"}],"links":[{"a":"b","b":"c"},{"a":"b","b":"d"}],
            "channels":[{"name":"q","kind":"queue","broker":"b","consumers":["c","d"]}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "channels[0].consumers: a point-to-point queue is consumed by one service, whose \
         instances compete; use a topic to give several services a copy each"
    );
    let mut big = scenario(1, 1, false);
    big.workloads[0].count = 10_000_001;
    assert_eq!(
        big.validate().unwrap_err().to_string(),
        "workloads[0].count: 10000001 is out of range 0..=10000000"
    );
}
