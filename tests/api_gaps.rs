//! Exact tests of issue #14's API additions: `repair_oneway`, the scripted workload and the
//! `publish` command, per-operation transaction durations, and Avro enum symbol defaults.

use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, CommandError, Scenario, SimTime, Simulation, TraceKind};
use serde_json::json;

mod common;
use common::lines;

/// The delivery tests' topology (tests/common): one naive consumer.
fn pbc(messages: u64) -> Scenario {
    common::pbc(messages, 1, false)
}

/// Packets from `from` to `to` (node names) that arrived and that were dropped by a partition.
fn flow(sim: &Simulation, from: &str, to: &str) -> (usize, usize) {
    let (mut arrived, mut dropped) = (0, 0);
    for e in sim.trace().events() {
        let line = e.to_string();
        let dir = |f: &str| f == from || f.starts_with(&format!("{from}#"));
        let words: Vec<&str> = line.split_whitespace().collect();
        // `t=… from -> to kind msg …`
        let (Some(f), Some(t)) = (words.get(1), words.get(3)) else {
            continue;
        };
        if !dir(f) || !(*t == to || t.starts_with(&format!("{to}#"))) {
            continue;
        }
        match &e.what {
            TraceKind::Arrive { .. } => arrived += 1,
            TraceKind::Drop { .. } => dropped += 1,
            _ => {}
        }
    }
    (arrived, dropped)
}

#[test]
fn repair_oneway_heals_one_direction_only() {
    let mut s = Simulation::new(pbc(3), 5).unwrap();
    // Cut b–c both ways, one direction at a time, then heal b -> c only.
    for (a, b) in [("b", "c"), ("c", "b")] {
        s.apply(Command::PartitionOneway {
            a: a.into(),
            b: b.into(),
        })
        .unwrap();
    }
    s.apply(Command::RepairOneway {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_until(SimTime::from_ms(1_000), u64::MAX);
    // b -> c flows (every delivery arrives); c -> b stays cut (every ack is dropped), so the
    // broker redelivers m1 after each ack timeout until its delivery limit (4) dead-letters it.
    assert_eq!(flow(&s, "b", "c"), (10, 0));
    assert_eq!(flow(&s, "c", "b"), (0, 10));
    let m = *s.metrics();
    let c = s.node_metrics("c").unwrap();
    assert_eq!(
        (m.sent, m.delivered, m.dropped, m.redelivered, m.acked),
        (26, 16, 10, 7, 0)
    );
    assert_eq!((m.dead_lettered, c.processed), (2, 10));
    assert_eq!(
        s.command_log()
            .iter()
            .map(|c| c.command.describe())
            .collect::<Vec<_>>(),
        [
            "partition_oneway b -> c",
            "partition_oneway c -> b",
            "repair_oneway b -> c"
        ]
    );
    // Healing the other direction too lets acks through: the same run with c -> b repaired at
    // 1 s acknowledges what is delivered after it.
    s.apply(Command::RepairOneway {
        a: "c".into(),
        b: "b".into(),
    })
    .unwrap();
    s.run_until(SimTime::from_ms(2_000), u64::MAX);
    // m3's delivery (after m1 and m2 were dead-lettered) is acknowledged.
    assert_eq!(flow(&s, "b", "c"), (11, 0));
    assert_eq!(flow(&s, "c", "b"), (1, 10));
    assert_eq!((s.metrics().acked, s.metrics().dead_lettered), (1, 2));
}

#[test]
fn repair_oneway_names_what_is_wrong() {
    let mut s = Simulation::new(pbc(1), 5).unwrap();
    let err = s
        .apply(Command::RepairOneway {
            a: "zz".into(),
            b: "c".into(),
        })
        .unwrap_err();
    assert_eq!(err, CommandError::UnknownNode("zz".into()));
    assert_eq!(err.to_string(), "unknown node `zz`");
    let err = s
        .apply(Command::RepairOneway {
            a: "p".into(),
            b: "c".into(),
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "no link between `p` and `c`");
    // Refused commands are not recorded.
    assert!(s.command_log().is_empty());
}

#[test]
fn repair_oneway_travels_in_links_and_run_files() {
    let cmd: Command =
        serde_json::from_str(r#"{"op": "repair_oneway", "a": "c", "b": "b"}"#).unwrap();
    assert_eq!(
        cmd,
        Command::RepairOneway {
            a: "c".into(),
            b: "b".into()
        }
    );
    let mut s = Simulation::new(pbc(5), 5).unwrap();
    s.apply(Command::Partition {
        a: "b".into(),
        b: "c".into(),
    })
    .unwrap();
    s.run_until(SimTime::from_ms(60), u64::MAX);
    s.apply(cmd).unwrap();
    s.run_until(SimTime::from_ms(400), u64::MAX);
    let run = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(pbc(5))),
        seed: 5,
        commands: s.command_log().to_vec(),
        at: s.now(),
        events: None,
    };
    // Run file (JSON) and link both give back the same run, and it replays to the same trace.
    let file = serde_json::to_string(&run).unwrap();
    assert!(file.contains(r#"{"op":"repair_oneway","a":"c","b":"b"}"#));
    assert_eq!(serde_json::from_str::<SharedRun>(&file).unwrap(), run);
    let back = SharedRun::decode(&run.encode().unwrap()).unwrap();
    assert_eq!(back, run);
    let replayed = back.replay().unwrap();
    assert_eq!(
        (replayed.now(), replayed.trace_hash()),
        (s.now(), s.trace_hash())
    );
    assert_eq!(
        (s.trace().len_total(), s.trace_hash()),
        (38, 5_294_085_870_124_419_788)
    );
}

/// `pbc` with 3 periodic messages and a script: m2 chosen at 5 ms, and one at 35 ms numbered by
/// the engine.
fn scripted() -> Scenario {
    let mut doc: serde_json::Value = serde_json::from_str(&pbc(3).to_json()).unwrap();
    doc["workloads"][0]["script"] = json!([
        {"at_ms": 5, "id": 2, "message": {"channel": "q", "kind": "command", "type": "Vip",
         "key": "vip-1", "payload": {"total": 99}}},
        {"at_ms": 35, "message": {"channel": "q", "kind": "command", "type": "Vip",
         "key": "vip-2"}}
    ]);
    Scenario::from_json(&doc.to_string()).unwrap()
}

#[test]
fn a_script_publishes_chosen_messages_at_chosen_times() {
    let mut s = Simulation::new(scripted(), 5).unwrap();
    s.run_to_idle(1_000_000);
    let l = lines(&s);
    let has = |line: &str| l.iter().any(|x| x == line);
    // The chosen m2 leaves at 5 ms and is processed at 50 ms (after m1).
    assert!(has("t=5.000ms p#0 -> b publish m2 attempt=1 #2"));
    assert!(has("t=50.000ms c#0 process m2 attempt=1 effect applied"));
    // The engine's numbering skips the chosen 2: the 20 ms tick sends m3, the unnumbered
    // script entry at 35 ms gets m4, the 40 ms tick m5.
    assert!(has("t=20.000ms p#0 -> b publish m3 attempt=1 #6"));
    assert!(has("t=35.000ms p#0 -> b publish m4 attempt=1 #9"));
    assert!(has("t=40.000ms p#0 -> b publish m5 attempt=1 #11"));
    assert!(has("t=100.000ms c#0 process m4 attempt=1 effect applied"));
    let c = s.node_metrics("c").unwrap();
    assert_eq!((s.metrics().published, c.processed, c.distinct), (5, 5, 5));
    assert_eq!(
        (s.trace().len_total(), s.trace_hash()),
        (55, 12_890_458_441_936_000_200)
    );
}

#[test]
fn publish_sends_a_chosen_message_now() {
    let mut s = Simulation::new(pbc(2), 5).unwrap();
    s.run_until(SimTime::from_ms(30), u64::MAX);
    let cmd: Command = serde_json::from_value(json!({
        "op": "publish", "node": "p", "id": 500,
        "message": {"channel": "q", "kind": "event", "type": "Vip", "key": "vip-1",
                    "payload": {"total": 99}}
    }))
    .unwrap();
    s.apply(cmd).unwrap();
    // Without an id, the engine's next number (m3: m1 and m2 are the workload's).
    s.apply(Command::Publish {
        node: "p".into(),
        instance: 0,
        id: None,
        message: Box::new(
            serde_json::from_value(json!({"channel": "q", "kind": "event", "type": "Vip"}))
                .unwrap(),
        ),
    })
    .unwrap();
    s.run_to_idle(1_000_000);
    let l = lines(&s);
    let has = |line: &str| l.iter().any(|x| x == line);
    assert!(has(
        "t=30.000ms command publish p#0 -> q Vip id=m500 key=vip-1"
    ));
    assert!(has("t=30.000ms p#0 -> b publish m500 attempt=1 #7"));
    assert!(has("t=30.000ms command publish p#0 -> q Vip"));
    assert!(has("t=30.000ms p#0 -> b publish m3 attempt=1 #8"));
    assert!(has("t=75.000ms c#0 process m500 attempt=1 effect applied"));
    assert!(has("t=100.000ms c#0 process m3 attempt=1 effect applied"));
    let c = s.node_metrics("c").unwrap();
    assert_eq!((s.metrics().published, c.processed, c.distinct), (4, 4, 4));
    // Both are in the command log (a share link or run file replays them).
    assert_eq!(
        s.command_log()
            .iter()
            .map(|c| c.command.verb())
            .collect::<Vec<_>>(),
        ["publish", "publish"]
    );
    let run = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(pbc(2))),
        seed: 5,
        commands: s.command_log().to_vec(),
        at: s.now(),
        events: None,
    };
    let file = serde_json::to_string(&run).unwrap();
    assert_eq!(serde_json::from_str::<SharedRun>(&file).unwrap(), run);
    let replayed = SharedRun::decode(&run.encode().unwrap())
        .unwrap()
        .replay()
        .unwrap();
    assert_eq!(replayed.trace_hash(), s.trace_hash());
}

#[test]
fn a_fault_schedule_publishes_at_its_time() {
    let mut doc: serde_json::Value = serde_json::from_str(&pbc(3).to_json()).unwrap();
    doc["faults"] = json!([{"at_ms": 12, "command": {"op": "publish", "node": "p", "id": 3,
        "message": {"channel": "q", "kind": "event", "type": "Vip", "key": "vip"}}}]);
    let mut s = Simulation::new(Scenario::from_json(&doc.to_string()).unwrap(), 5).unwrap();
    s.run_to_idle(1_000_000);
    let l = lines(&s);
    let has = |line: &str| l.iter().any(|x| x == line);
    // Reserved at build time: the ticks send m1, m2, m4; the schedule sends m3 at 12 ms.
    assert!(has("t=12.000ms p#0 -> b publish m3 attempt=1 #4"));
    assert!(has("t=40.000ms p#0 -> b publish m4 attempt=1 #10"));
    assert!(has("t=100.000ms c#0 process m4 attempt=1 effect applied"));
    assert_eq!(s.node_metrics("c").unwrap().distinct, 4);
}

#[test]
fn publish_refuses_what_is_wrong() {
    let mut s = Simulation::new(scripted(), 5).unwrap();
    s.run_until(SimTime::from_ms(30), u64::MAX);
    let msg = |v: serde_json::Value| Box::new(serde_json::from_value(v).unwrap());
    let publish = |id: Option<u64>, m: serde_json::Value| Command::Publish {
        node: "p".into(),
        instance: 0,
        id,
        message: msg(m),
    };
    let q = json!({"channel": "q", "kind": "event", "type": "Vip"});
    let cases = [
        (publish(Some(2), q.clone()), "id: message id 2 is already chosen (by the scenario or an earlier publish)"),
        (publish(Some(3), q.clone()), "id: message id 3 is already assigned by the engine (the next free id is 4)"),
        (publish(Some(0), q.clone()), "id: 0 is out of range 1..=9007199254740991"),
        (publish(Some(1 << 53), q.clone()), "id: 9007199254740992 is out of range 1..=9007199254740991"),
        (
            publish(None, json!({"channel": "zz", "kind": "event", "type": "Vip"})),
            "message.channel: unknown name `zz`",
        ),
        (
            publish(
                None,
                json!({"channel": "q", "kind": "event", "type": "Vip", "reply_to": "q"}),
            ),
            "message.reply_to: a scripted or published message is one-way and written with its producer's current schema version; declare requests and versions in a workload's `messages`",
        ),
        (
            publish(
                None,
                json!({"channel": "q", "kind": "event", "type": "Vip", "key": "k".repeat(257)}),
            ),
            "message.key: 257 is out of range 0..=256 (characters)",
        ),
        (
            Command::Publish {
                node: "b".into(),
                instance: 0,
                id: None,
                message: msg(q.clone()),
            },
            "node: `b` is not a service",
        ),
        (
            Command::Publish {
                node: "p".into(),
                instance: 3,
                id: None,
                message: msg(q.clone()),
            },
            "node `p` has no instance 3 (it has 1)",
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(s.apply(cmd).unwrap_err().to_string(), want);
    }
    // Refused commands are not recorded.
    assert!(s.command_log().is_empty());
}

#[test]
fn scripts_are_validated() {
    let base: serde_json::Value = serde_json::from_str(&scripted().to_json()).unwrap();
    let entry =
        json!({"at_ms": 5, "id": 2, "message": {"channel": "q", "kind": "command", "type": "Vip"}});
    let mut cases = Vec::new();
    let mut dup = base.clone();
    dup["faults"] = json!([{"at_ms": 9, "command": {"op": "publish", "node": "p", "id": 2,
        "message": {"channel": "q", "kind": "event", "type": "Vip"}}}]);
    cases.push(dup);
    let mut late = base.clone();
    late["workloads"][0]["script"] = json!([{"at_ms": 86_400_001, "message": entry["message"]}]);
    cases.push(late);
    let mut many = base.clone();
    many["workloads"][0]["script"] = json!(vec![
        json!({"at_ms": 1, "message": entry["message"]});
        1_001
    ]);
    cases.push(many);
    let mut unknown = base.clone();
    unknown["workloads"][0]["script"][1]["message"]["channel"] = json!("zz");
    cases.push(unknown);
    let errors: Vec<String> = cases
        .iter()
        .map(|doc| {
            Scenario::from_json(&doc.to_string())
                .unwrap_err()
                .to_string()
        })
        .collect();
    assert_eq!(
        errors,
        [
            "faults[0].command.id: message id 2 is already chosen by workloads[0].script[0].id",
            "workloads[0].script[0].at_ms: 86400001 is out of range 0..=86400000 (ms)",
            "workloads[0].script: 1001 is out of range 0..=1000 (entries)",
            "workloads[0].script[1].message.channel: unknown name `zz`",
        ]
    );
}

/// `respond-before-processing` with the `CreateOrder` request handler's transaction set to
/// `tx_ms` (the database's is 20 ms).
fn slow_create(tx_ms: Option<u64>) -> Simulation {
    let mut doc: serde_json::Value =
        serde_json::from_str(msgsim::scenarios::get("respond-before-processing").unwrap()).unwrap();
    if let Some(ms) = tx_ms {
        doc["transactional"]["handlers"][0]["write"]["tx_ms"] = json!(ms);
    }
    Simulation::new(Scenario::from_json(&doc.to_string()).unwrap(), 42).unwrap()
}

#[test]
fn one_operation_gets_its_own_transaction_time() {
    let tx_lines = |ms: Option<u64>| {
        let mut s = slow_create(ms);
        s.run_until(SimTime::from_ms(1_100), u64::MAX);
        lines(&s)
            .into_iter()
            .filter(|l| l.contains("order#0 begin") || l.contains("order#0 commit"))
            .collect::<Vec<_>>()
    };
    // The database's 20 ms for every request transaction.
    assert_eq!(
        tx_lines(None)[..2],
        [
            "t=14.918ms order#0 begin tx1 orders order-1 + outbox row 1",
            "t=34.918ms order#0 commit tx1 lsn=2 outbox row 1 m3",
        ]
    );
    // `CreateOrder`'s own 400 ms; the `CreditReserved` handler (a broker message) still commits
    // when its processing ends (tx5, begun and committed at 738.4 ms).
    assert_eq!(
        tx_lines(Some(400)),
        [
            "t=14.918ms order#0 begin tx1 orders order-1 + outbox row 1",
            "t=414.918ms order#0 commit tx1 lsn=2 outbox row 1 m3",
            "t=616.990ms order#0 begin tx3 orders order-2 + outbox row 2",
            "t=738.400ms order#0 begin tx5 orders order-1",
            "t=738.400ms order#0 commit tx5 lsn=4",
            "t=1016.990ms order#0 commit tx3 lsn=6 outbox row 2 m7",
        ]
    );
}

#[test]
fn a_transaction_time_is_range_checked_and_only_where_it_applies() {
    let base: serde_json::Value =
        serde_json::from_str(msgsim::scenarios::get("respond-before-processing").unwrap()).unwrap();
    let error = |handler: usize, ms: u64| {
        let mut doc = base.clone();
        doc["transactional"]["handlers"][handler]["write"]["tx_ms"] = json!(ms);
        Scenario::from_json(&doc.to_string())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(0, 3_600_001),
        "transactional.handlers[0].write.tx_ms: 3600001 is out of range 0..=3600000 (ms)"
    );
    assert_eq!(
        error(1, 50),
        "transactional.handlers[1].write.tx_ms: no request `OrderCreated` is sent to \
         `accounting`: a handler of broker messages commits when its processing ends \
         (`processing_ms`), so only a request's handler has a transaction duration"
    );
}
