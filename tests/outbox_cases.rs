//! The cases of issue 4 (transactional messaging), with exact numbers.
//!
//! Topology: `order` (a service with a database) -> `relay` -> `broker` -> `kitchen`
//! (deduplicating consumer); 10 ms links, 5 ms transactions, 5 ms processing. `order` commits one
//! order per 10 ms; each commit writes an `orders` row and an OUTBOX row (two commit log
//! records), so event `e{k}` is OUTBOX row k at log position 2k.

use msgsim::outbox::view::{StrategyView, TransactionalView};
use msgsim::outbox::{CrashPoint, Strategy};
use msgsim::{Command, Scenario, Simulation};
use serde_json::{json, Value};

fn scenario(strategy: &str, relay: Value, count: u64, key: &str) -> Simulation {
    let direct = strategy != "outbox";
    let mut links = vec![
        json!({"a": "relay", "b": "broker", "latency_ms": 10}),
        json!({"a": "broker", "b": "kitchen", "latency_ms": 10}),
    ];
    if direct {
        links.push(json!({"a": "order", "b": "broker", "latency_ms": 10}));
    }
    let mut relay = relay;
    relay["node"] = json!("relay");
    relay["service"] = json!("order");
    let text = json!({
        "name": "outbox-case",
        "nodes": [
            {"name": "order", "kind": "service"},
            {"name": "relay", "kind": "relay"},
            {"name": "broker", "kind": "broker"},
            {"name": "kitchen", "kind": "service", "duplicates": "dedup", "processing_ms": 5}
        ],
        "links": links,
        "channels": [{"name": "order-events", "kind": "topic", "broker": "broker",
                      "consumers": ["kitchen"]}],
        "workloads": [{"from": "order", "every_ms": 10, "count": count, "messages": [],
            "operation": {"write": {"table": "orders", "key": key, "strategy": strategy,
                "event": {"channel": "order-events", "type": "OrderCreated"}}}}],
        "transactional": {
            "databases": [{"service": "order", "tx_ms": 5}],
            "relays": [relay]
        }
    })
    .to_string();
    Simulation::new(Scenario::from_json(&text).unwrap(), 1).unwrap()
}

fn log_tailing() -> Simulation {
    scenario(
        "outbox",
        json!({"mode": "log_tailing", "poll_every_ms": 100, "batch_size": 10, "save_every": 3}),
        5,
        "order-{n}",
    )
}

fn tx(sim: &Simulation) -> TransactionalView {
    sim.snapshot().transactional
}

/// OUTBOX row ids of the records the broker appended to `order-events`, in order.
fn broker_log(sim: &Simulation) -> Vec<u64> {
    tx(sim).channel_logs[0]
        .recent
        .iter()
        .map(|a| a.row.unwrap())
        .collect()
}

/// OUTBOX row ids of the effects kitchen applied, in order.
fn applied(sim: &Simulation) -> Vec<u64> {
    tx(sim).consumers[0]
        .recent
        .iter()
        .map(|a| a.row.unwrap())
        .collect()
}

fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

fn strategy(sim: &Simulation) -> StrategyView {
    tx(sim).strategies[0].clone()
}

fn arm(sim: &mut Simulation, node: &str, point: CrashPoint) {
    sim.apply(Command::ArmCrash {
        node: node.into(),
        instance: 0,
        point,
    })
    .unwrap();
}

fn restart(sim: &mut Simulation, node: &str) {
    sim.apply(Command::Restart {
        node: node.into(),
        instance: 0,
    })
    .unwrap();
}

// ----- case 1: log tailing, crash after publishing e4 and e5 vs graceful stop -----

#[test]
fn log_tailing_crash_after_e5_republishes_e4_and_e5() {
    let mut sim = log_tailing();
    arm(&mut sim, "relay", CrashPoint::AfterPublish);
    sim.run_to_idle(u64::MAX);
    // e1..e3 published and the position saved (lsn 6 = e3's OUTBOX insert); e4, e5 published;
    // then the failpoint crashes the relay before the next save.
    let l = lines(&sim);
    assert!(l.contains(&"t=100.000ms relay read 5 records from the log after lsn=0".into()));
    assert!(l.contains(&"t=160.000ms relay save position lsn=6".into()));
    assert!(l.contains(&"t=200.000ms relay crash at failpoint after_publish".into()));
    let relay = &tx(&sim).relays[0];
    assert_eq!((relay.saved_position, relay.metrics.saves), (6, 1));
    assert_eq!(broker_log(&sim), [1, 2, 3, 4, 5]);

    // Idle at 710 ms (the broker's last, no-op, ack timer); restarted then, the relay reads from
    // its saved position at once.
    assert_eq!(sim.now(), msgsim::SimTime::from_ms(710));
    restart(&mut sim, "relay");
    sim.run_to_idle(u64::MAX);
    assert!(
        lines(&sim).contains(&"t=710.000ms relay read 2 records from the log after lsn=6".into())
    );
    // The broker holds 7 records: e4 and e5 twice.
    assert_eq!(tx(&sim).channel_logs[0].appended, 7);
    assert_eq!(broker_log(&sim), [1, 2, 3, 4, 5, 4, 5]);
    // The deduplicating consumer applies 5 effects and discards the 2 repeats.
    let k = sim.node_metrics("kitchen").unwrap();
    assert_eq!(
        (k.processed, k.distinct, k.effects, k.duplicates_discarded),
        (7, 5, 5, 2)
    );
    assert_eq!(applied(&sim), [1, 2, 3, 4, 5]);
    let s = strategy(&sim);
    assert_eq!(
        (s.committed, s.published, s.lost, s.phantom, s.duplicates),
        (5, 5, 0, 0, 2)
    );
    let r = &tx(&sim).relays[0];
    assert_eq!(
        (
            r.metrics.publishes,
            r.metrics.republished,
            r.metrics.crashes
        ),
        (7, 2, 1)
    );
}

#[test]
fn log_tailing_plain_crash_command_after_e5_gives_the_same_7_records() {
    let mut sim = log_tailing();
    sim.run_to_idle(u64::MAX);
    assert_eq!(tx(&sim).relays[0].saved_position, 6);
    assert_eq!(tx(&sim).relays[0].position, 10);
    sim.apply(Command::Crash {
        node: "relay".into(),
        instance: 0,
    })
    .unwrap();
    restart(&mut sim, "relay");
    sim.run_to_idle(u64::MAX);
    assert_eq!(broker_log(&sim), [1, 2, 3, 4, 5, 4, 5]);
    assert_eq!(sim.node_metrics("kitchen").unwrap().effects, 5);
}

#[test]
fn log_tailing_graceful_stop_after_e5_publishes_each_once() {
    let mut sim = log_tailing();
    sim.run_to_idle(u64::MAX);
    sim.apply(Command::StopRelay {
        node: "relay".into(),
    })
    .unwrap();
    let relay = &tx(&sim).relays[0];
    assert_eq!(
        (relay.saved_position, format!("{:?}", relay.state)),
        (10, "Stopped".into())
    );
    assert!(lines(&sim)
        .iter()
        .any(|l| l.ends_with(" relay stop gracefully, position lsn=10")));
    restart(&mut sim, "relay");
    sim.run_to_idle(u64::MAX);
    // 5 records: nothing published twice.
    assert_eq!(tx(&sim).channel_logs[0].appended, 5);
    assert_eq!(broker_log(&sim), [1, 2, 3, 4, 5]);
    let k = sim.node_metrics("kitchen").unwrap();
    assert_eq!((k.processed, k.effects), (5, 5));
    assert_eq!(strategy(&sim).duplicates, 0);
}

// ----- case 2: dual write vs outbox -----

fn one_order(strategy: &str) -> Simulation {
    scenario(
        strategy,
        json!({"mode": "polling", "poll_every_ms": 100}),
        1,
        "order-{n}",
    )
}

#[test]
fn commit_then_publish_crash_after_commit_loses_the_event_the_outbox_does_not() {
    let mut dual = one_order("commit_then_publish");
    arm(&mut dual, "order", CrashPoint::AfterCommit);
    dual.run_to_idle(u64::MAX);
    let s = strategy(&dual);
    assert_eq!(s.strategy, Strategy::CommitThenPublish);
    assert_eq!(
        (s.committed, s.published, s.lost, s.phantom, s.pending),
        (1, 0, 1, 0, 0)
    );
    assert_eq!(tx(&dual).channel_logs[0].appended, 0);
    assert_eq!(
        tx(&dual).databases[0].tables[0].rows,
        1,
        "the order exists, its event does not"
    );

    let mut outbox = one_order("outbox");
    arm(&mut outbox, "order", CrashPoint::AfterCommit);
    outbox.run_to_idle(u64::MAX);
    let s = strategy(&outbox);
    assert_eq!(s.strategy, Strategy::Outbox);
    assert_eq!((s.committed, s.published, s.lost, s.phantom), (1, 1, 0, 0));
    assert_eq!(broker_log(&outbox), [1]);
    assert_eq!(outbox.node_metrics("kitchen").unwrap().effects, 1);
}

#[test]
fn publish_then_commit_crash_after_publish_makes_a_phantom_the_outbox_does_not() {
    let mut dual = one_order("publish_then_commit");
    arm(&mut dual, "order", CrashPoint::AfterPublish);
    dual.run_to_idle(u64::MAX);
    let s = strategy(&dual);
    assert_eq!(s.strategy, Strategy::PublishThenCommit);
    assert_eq!(
        (s.committed, s.rolled_back, s.published, s.phantom, s.lost),
        (0, 1, 0, 1, 0)
    );
    assert_eq!(tx(&dual).channel_logs[0].appended, 1);
    assert_eq!(
        dual.node_metrics("kitchen").unwrap().effects,
        1,
        "kitchen cooks an order that does not exist"
    );
    assert_eq!(tx(&dual).databases[0].tables[0].rows, 0);
    assert!(lines(&dual).contains(&"t=5.000ms order#0 rollback tx1 (crash)".into()));

    // The outbox, crashed at the same place of the operation (its work done, before the commit).
    let mut outbox = one_order("outbox");
    arm(&mut outbox, "order", CrashPoint::BeforeCommit);
    outbox.run_to_idle(u64::MAX);
    let s = strategy(&outbox);
    assert_eq!(
        (s.committed, s.rolled_back, s.published, s.phantom, s.lost),
        (0, 1, 0, 0, 0)
    );
    assert_eq!(tx(&outbox).channel_logs[0].appended, 0);
    assert_eq!(tx(&outbox).databases[0].outbox.rows, 0);
    assert_eq!(outbox.node_metrics("kitchen").unwrap().effects, 0);
}

// ----- case 3: pipelined vs strict relay, one rejected publish -----

fn ordering(max_in_flight: u32) -> Simulation {
    let mut sim = scenario(
        "outbox",
        json!({"mode": "polling", "poll_every_ms": 100, "batch_size": 3,
               "max_in_flight": max_in_flight}),
        3,
        "account-7",
    );
    sim.apply(Command::RejectNextPublish {
        channel: "order-events".into(),
        count: 1,
    })
    .unwrap();
    sim.run_to_idle(u64::MAX);
    sim
}

#[test]
fn pipelined_relay_reorders_a_key_after_a_rejected_publish() {
    let sim = ordering(3);
    let l = lines(&sim);
    assert!(l.contains(&"t=110.000ms order-events reject publish m1".into()));
    assert!(l.contains(&"t=120.000ms relay m1 rejected: go back, publish 3 again".into()));
    // Rows 2 and 3 were appended before row 1's retry, then again after it.
    assert_eq!(broker_log(&sim), [2, 3, 1, 2, 3]);
    assert_eq!(applied(&sim), [2, 3, 1]);
    let t = tx(&sim);
    assert_eq!(t.consumers[0].reordered, 1);
    assert_eq!(
        (t.channel_logs[0].appended, t.channel_logs[0].rejected),
        (5, 1)
    );
    let k = sim.node_metrics("kitchen").unwrap();
    assert_eq!((k.processed, k.effects, k.duplicates_discarded), (5, 3, 2));
    let r = &t.relays[0];
    assert_eq!(
        (r.metrics.publishes, r.metrics.rejected, r.metrics.rewinds),
        (6, 1, 1)
    );
}

#[test]
fn strict_relay_keeps_the_order_of_a_key() {
    let sim = ordering(1);
    assert!(lines(&sim).contains(&"t=120.000ms relay m1 rejected: go back, publish 1 again".into()));
    assert_eq!(broker_log(&sim), [1, 2, 3]);
    assert_eq!(applied(&sim), [1, 2, 3]);
    let t = tx(&sim);
    assert_eq!(t.consumers[0].reordered, 0);
    let k = sim.node_metrics("kitchen").unwrap();
    assert_eq!((k.processed, k.effects), (3, 3));
    assert_eq!(t.strategies[0].duplicates, 0);
}

// ----- polling publisher: a crash between publish and mark -----

#[test]
fn polling_publisher_crash_between_publish_and_mark_publishes_the_batch_again() {
    let mut sim = scenario(
        "outbox",
        json!({"mode": "polling", "poll_every_ms": 100, "batch_size": 10, "mark_ms": 5}),
        3,
        "order-{n}",
    );
    arm(&mut sim, "relay", CrashPoint::AfterPublish);
    sim.run_to_idle(u64::MAX);
    let t = tx(&sim);
    assert_eq!(broker_log(&sim), [1, 2, 3]);
    assert_eq!(t.databases[0].outbox.unpublished, 3, "not marked");
    restart(&mut sim, "relay");
    sim.run_to_idle(u64::MAX);
    let t = tx(&sim);
    assert_eq!(broker_log(&sim), [1, 2, 3, 1, 2, 3]);
    assert_eq!(
        (
            t.databases[0].outbox.rows,
            t.databases[0].outbox.unpublished
        ),
        (3, 0)
    );
    assert_eq!(t.relays[0].metrics.marked, 3);
    assert_eq!(sim.node_metrics("kitchen").unwrap().effects, 3);
    // Crashing the relay during its mark transaction rolls the mark back.
    let mut sim = scenario(
        "outbox",
        json!({"mode": "polling", "poll_every_ms": 100, "after_publish": "delete", "mark_ms": 5}),
        1,
        "order-{n}",
    );
    arm(&mut sim, "relay", CrashPoint::BeforeCommit);
    sim.run_to_idle(u64::MAX);
    assert!(lines(&sim).contains(&"t=125.000ms relay rollback tx2 (crash)".into()));
    restart(&mut sim, "relay");
    sim.run_to_idle(u64::MAX);
    let t = tx(&sim);
    assert_eq!(broker_log(&sim), [1, 1]);
    assert_eq!(
        (t.databases[0].outbox.rows, t.relays[0].metrics.deleted),
        (0, 1)
    );
}
