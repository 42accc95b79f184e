//! The built-in transactional scenarios: exact outcomes under their own seeds, determinism,
//! and the errors that scenario JSON and commands can produce.

use msgsim::outbox::view::{RequestView, StrategyView};
use msgsim::outbox::{CrashPoint, Strategy};
use msgsim::{Command, CommandError, Scenario, SimTime, Simulation};

const TRANSACTIONAL: [&str; 6] = [
    "outbox-polling",
    "outbox-log-tailing",
    "dual-write",
    "outbox-ordering",
    "data-replication",
    "respond-before-processing",
];

fn run(name: &str) -> Simulation {
    let json = msgsim::scenarios::get(name).unwrap();
    let seed = Scenario::from_json(json).unwrap().seed;
    let mut sim = Simulation::from_json(json, seed).unwrap();
    let events = sim.run_to_idle(10_000_000);
    assert!(events < 10_000_000, "{name} did not settle");
    sim
}

/// (committed, rolled_back, published, pending, lost, phantom, duplicates)
type Counters = (u64, u64, u64, u64, u64, u64, u64);

fn counters(s: &StrategyView) -> Counters {
    (
        s.committed,
        s.rolled_back,
        s.published,
        s.pending,
        s.lost,
        s.phantom,
        s.duplicates,
    )
}

#[test]
fn every_builtin_is_registered_with_a_section_and_a_description() {
    for name in TRANSACTIONAL {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        assert_eq!(s.name, name);
        assert!(
            s.section == "Transactional messaging"
                || s.section == "Improving synchronous communication",
            "{name}: {}",
            s.section
        );
        assert!(
            s.experiments.len() >= 2,
            "{name}: what to try, as experiments"
        );
        // Round trip through JSON keeps it the same scenario.
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }
    assert!(msgsim::scenarios::names().count() >= 7);
}

#[test]
fn outbox_polling_publishes_every_committed_order_once_or_more() {
    let sim = run("outbox-polling");
    let t = sim.snapshot().transactional;
    assert_eq!(t.strategies.len(), 1);
    assert_eq!(counters(&t.strategies[0]), (51, 4, 51, 0, 0, 0, 1));
    assert_eq!(t.strategies[0].operations, 55);
    let db = &t.databases[0];
    assert_eq!((db.outbox.rows, db.outbox.unpublished), (51, 0));
    assert_eq!((db.metrics.aborted, db.metrics.crashed), (3, 1));
    let relay = &t.relays[0];
    assert_eq!(
        (
            relay.metrics.republished,
            relay.metrics.crashes,
            relay.metrics.marked
        ),
        (1, 1, 51)
    );
    // Kitchen deduplicates, Accounting is naive: the republished order is charged twice.
    let k = sim.node_metrics("kitchen").unwrap();
    let a = sim.node_metrics("accounting").unwrap();
    assert_eq!((k.distinct, k.effects), (51, 51));
    assert_eq!((a.distinct, a.effects), (51, 52));
}

#[test]
fn outbox_log_tailing_republishes_after_a_crash_not_after_a_graceful_stop() {
    let sim = run("outbox-log-tailing");
    let t = sim.snapshot().transactional;
    assert_eq!(counters(&t.strategies[0]), (70, 0, 70, 0, 0, 0, 2));
    let r = &t.relays[0];
    assert_eq!(
        (
            r.metrics.publishes,
            r.metrics.republished,
            r.metrics.crashes
        ),
        (72, 2, 1)
    );
    // 70 commits of 2 log records; the last save was 2 records before the end.
    assert_eq!((r.saved_position, r.position), (138, 140));
    let stops: Vec<String> = sim
        .trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains("stop gracefully") || l.contains("failpoint"))
        .collect();
    assert_eq!(stops.len(), 2, "{stops:?}");
    assert_eq!(sim.node_metrics("kitchen").unwrap().effects, 70);
}

#[test]
fn dual_write_counts_lost_and_phantom_events_side_by_side() {
    let sim = run("dual-write");
    let t = sim.snapshot().transactional;
    let by: Vec<(&str, Strategy, Counters)> = t
        .strategies
        .iter()
        .map(|s| (s.service.as_str(), s.strategy, counters(s)))
        .collect();
    assert_eq!(
        by,
        [
            ("order-outbox", Strategy::Outbox, (39, 2, 39, 0, 0, 0, 0)),
            (
                "order-commit-first",
                Strategy::CommitThenPublish,
                (36, 5, 33, 0, 3, 0, 0)
            ),
            (
                "order-publish-first",
                Strategy::PublishThenCommit,
                (37, 4, 35, 0, 2, 4, 0)
            ),
        ]
    );
    // Every strategy ran the same 41 operations (4 ticks fell in the crash windows).
    assert!(t.strategies.iter().all(|s| s.operations == 41));
    // Shipping received the outbox's 39 events, 33 of commit-first's, and publish-first's 35
    // real ones plus 4 phantoms.
    assert_eq!(
        sim.node_metrics("shipping").unwrap().distinct,
        39 + 33 + 35 + 4
    );
}

#[test]
fn outbox_ordering_pipelined_relay_reorders_strict_relay_does_not() {
    let sim = run("outbox-ordering");
    let t = sim.snapshot().transactional;
    let c: Vec<(&str, u64, u64)> = t
        .consumers
        .iter()
        .map(|c| (c.node.as_str(), c.applied, c.reordered))
        .collect();
    assert_eq!(c, [("ledger-p", 100, 3), ("ledger-s", 100, 0)]);
    assert_eq!(
        (t.strategies[0].duplicates, t.strategies[1].duplicates),
        (9, 0)
    );
    let rejected: Vec<u64> = t.channel_logs.iter().map(|l| l.rejected).collect();
    assert_eq!(rejected, [3, 3]);
}

#[test]
fn data_replication_serves_queries_while_the_source_is_down() {
    let sim = run("data-replication");
    let t = sim.snapshot().transactional;
    let r = &t.replicas[0];
    assert_eq!(
        (r.rows, r.applied, r.stale_ignored, r.behind, r.lag_now_us),
        (5, 34, 0, 0, 0)
    );
    assert_eq!(
        (r.queries, r.hits, r.served_while_source_down, r.stale_reads),
        (100, 93, 15, 11)
    );
    assert_eq!((r.max_lag_us, r.mean_lag_us), (1_037_003, 164_242));
    // While the relay is down (6 s to 7 s) the replica falls behind.
    let json = msgsim::scenarios::get("data-replication").unwrap();
    let mut sim = Simulation::from_json(json, 21).unwrap();
    sim.run_until(SimTime::from_ms(6_900), u64::MAX);
    let r = sim.snapshot().transactional.replicas[0].clone();
    // The oldest unapplied commit is from just after the relay crashed.
    assert_eq!((r.behind, r.lag_now_us), (4, 880_000));
}

#[test]
fn respond_before_processing_client_timeline() {
    let sim = run("respond-before-processing");
    let t = sim.snapshot().transactional;
    assert_eq!(t.requests.len(), 20);
    let count = |s: &str| t.requests.iter().filter(|r| r.status == s).count();
    assert_eq!(
        (count("approved"), count("rejected"), count("invalid")),
        (15, 4, 1)
    );
    assert!(t.requests.iter().all(|r| r.done));
    let view = |r: &RequestView| {
        r.timeline
            .iter()
            .map(|p| format!("{} {}", p.at, p.status))
            .collect::<Vec<_>>()
    };
    let get = |key: &str| t.requests.iter().find(|r| r.key == key).unwrap();
    // Validation with local data only: order-1 is refused at once (400).
    assert_eq!(view(get("order-1")), ["0.000ms sent", "37.327ms invalid"]);
    // 202 Accepted with a pending status, then a poll sees the final status.
    assert_eq!(
        view(get("order-2")),
        ["600.000ms sent", "654.592ms pending", "1208.351ms approved"]
    );
    assert_eq!(get("order-2").sent, 3);
    // Sent while Accounting was down (4 s to 6 s): accepted at once, pending for 2.2 s.
    assert_eq!(
        view(get("order-8")),
        [
            "4200.000ms sent",
            "4241.899ms pending",
            "6489.643ms approved"
        ]
    );
    assert_eq!(get("order-8").sent, 9);
    // order-15 was sent while Order was down (8 s to 9 s): timeout, then the retried POST.
    assert_eq!(
        view(get("order-15")),
        [
            "8400.000ms sent",
            "9200.000ms timeout",
            "9493.145ms pending",
            "9779.842ms approved"
        ]
    );
}

#[test]
fn transactional_runs_are_deterministic_and_independent_of_frame_size() {
    for name in TRANSACTIONAL {
        let json = msgsim::scenarios::get(name).unwrap();
        let a = run(name);
        let b = run(name);
        assert_eq!(a.trace_hash(), b.trace_hash(), "{name}");
        assert_eq!(a.snapshot(), b.snapshot(), "{name}");
        let seed = a.seed();
        let mut frames = Simulation::from_json(json, seed).unwrap();
        let end = a.now();
        let mut t = 0;
        while t < end.0 {
            t += 16_667;
            frames.run_until(SimTime(t.min(end.0)), 3);
        }
        while !frames.run_until(end, 3).reached {}
        frames.run_to_idle(10_000_000);
        assert_eq!(frames.trace_hash(), a.trace_hash(), "{name}");
        assert_eq!(frames.snapshot(), a.snapshot(), "{name}");
        // A clone taken half way continues identically (time travel checkpoints).
        let mut half = Simulation::from_json(json, seed).unwrap();
        half.run_until(SimTime(end.0 / 2), u64::MAX);
        let mut copy = half.clone();
        half.run_to_idle(10_000_000);
        copy.run_to_idle(10_000_000);
        assert_eq!(half.trace_hash(), copy.trace_hash(), "{name}");
        // The snapshot serializes (the UI reads it as JSON).
        assert!(serde_json::to_string(&a.snapshot()).is_ok());
    }
}

#[test]
fn commands_replay_from_the_log() {
    let json = msgsim::scenarios::get("outbox-polling").unwrap();
    let mut a = Simulation::from_json(json, 7).unwrap();
    a.run_until(SimTime::from_ms(1_000), u64::MAX);
    a.apply(Command::StopRelay {
        node: "order-relay".into(),
    })
    .unwrap();
    a.run_until(SimTime::from_ms(1_500), u64::MAX);
    a.apply(Command::RejectNextPublish {
        channel: "order-events".into(),
        count: 2,
    })
    .unwrap();
    a.apply(Command::Restart {
        node: "order-relay".into(),
        instance: 0,
    })
    .unwrap();
    a.apply(Command::ArmCrash {
        node: "order".into(),
        instance: 0,
        point: CrashPoint::AfterCommit,
    })
    .unwrap();
    a.run_to_idle(10_000_000);
    let mut b = Simulation::from_json(json, 7).unwrap();
    let log = a.command_log().to_vec();
    b.run_with_log(&log, SimTime::MAX, u64::MAX);
    b.run_to_idle(10_000_000);
    assert_eq!(a.trace_hash(), b.trace_hash());
    let t = a.snapshot().transactional;
    assert_eq!(t.channel_logs[0].rejected, 2);
    assert!(t.armed.is_empty(), "the failpoint fired");
    assert_eq!(t.strategies[0].lost, 0);
}

#[test]
fn new_commands_are_checked_before_they_change_anything() {
    let json = msgsim::scenarios::get("outbox-polling").unwrap();
    let mut sim = Simulation::from_json(json, 7).unwrap();
    let before = sim.trace_hash();
    let err = |sim: &mut Simulation, c: Command| sim.apply(c).unwrap_err().to_string();
    assert_eq!(
        err(
            &mut sim,
            Command::StopRelay {
                node: "order".into()
            }
        ),
        "`order` is not a relay"
    );
    assert_eq!(
        err(
            &mut sim,
            Command::StopRelay {
                node: "nope".into()
            }
        ),
        "unknown node `nope`"
    );
    assert_eq!(
        err(
            &mut sim,
            Command::RejectNextPublish {
                channel: "nope".into(),
                count: 1
            }
        ),
        "unknown channel `nope`"
    );
    assert_eq!(
        err(
            &mut sim,
            Command::RejectNextPublish {
                channel: "order-events".into(),
                count: 0
            }
        ),
        "count: 0 is out of range 1..=1000"
    );
    assert_eq!(
        err(
            &mut sim,
            Command::ArmCrash {
                node: "kitchen".into(),
                instance: 0,
                point: CrashPoint::AfterCommit
            }
        ),
        "`kitchen` is neither a service with a database nor a relay: no failpoints"
    );
    assert!(matches!(
        sim.apply(Command::ArmCrash {
            node: "order".into(),
            instance: 3,
            point: CrashPoint::AfterCommit
        }),
        Err(CommandError::UnknownInstance { .. })
    ));
    for _ in 0..16 {
        sim.apply(Command::ArmCrash {
            node: "order".into(),
            instance: 0,
            point: CrashPoint::BeforeCommit,
        })
        .unwrap();
    }
    assert_eq!(
        err(
            &mut sim,
            Command::ArmCrash {
                node: "order".into(),
                instance: 0,
                point: CrashPoint::BeforeCommit
            }
        ),
        "order#0 already has 16 failpoints armed"
    );
    assert_eq!(sim.command_log().len(), 16);
    assert_ne!(sim.trace_hash(), before); // the 16 accepted commands are traced
                                          // JSON form of the new commands.
    let c: Command = serde_json::from_str(
        r#"{"op": "arm_crash", "node": "order-relay", "point": "after_publish"}"#,
    )
    .unwrap();
    assert_eq!(c.describe(), "arm_crash order-relay#0 at after_publish");
    let c: Command =
        serde_json::from_str(r#"{"op": "reject_next_publish", "channel": "x"}"#).unwrap();
    assert_eq!(c.describe(), "reject_next_publish x x1");
    let c: Command = serde_json::from_str(r#"{"op": "stop_relay", "node": "r"}"#).unwrap();
    assert_eq!(c.verb(), "stop_relay");
}

fn base() -> serde_json::Value {
    serde_json::json!({
        "name": "t",
        "nodes": [
            {"name": "order", "kind": "service"},
            {"name": "relay", "kind": "relay"},
            {"name": "broker", "kind": "broker"}
        ],
        "links": [{"a": "relay", "b": "broker"}],
        "channels": [{"name": "ev", "kind": "topic", "broker": "broker"}],
        "workloads": [{"from": "order", "every_ms": 10, "count": 1, "messages": [],
            "operation": {"write": {"table": "orders", "key": "o-{n}",
                "event": {"channel": "ev", "type": "E"}}}}],
        "transactional": {
            "databases": [{"service": "order"}],
            "relays": [{"node": "relay", "service": "order"}]
        }
    })
}

fn error(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v = base();
    edit(&mut v);
    Scenario::from_json(&v.to_string()).unwrap_err().to_string()
}

#[test]
fn scenario_errors_name_the_field() {
    assert!(Scenario::from_json(&base().to_string()).is_ok());
    assert_eq!(
        error(|v| v["transactional"]["relays"][0]["service"] = "nope".into()),
        "transactional.relays[0].service: unknown name `nope`"
    );
    assert_eq!(
        error(|v| v["transactional"]["relays"][0]["batch_size"] = 0.into()),
        "transactional.relays[0].batch_size: 0 is out of range 1..=1000"
    );
    assert_eq!(
        error(|v| v["transactional"]["databases"][0]["abort_percent"] = 101.into()),
        "transactional.databases[0].abort_percent: 101 is out of range 0..=100 (%)"
    );
    assert_eq!(
        error(|v| v["transactional"]["databases"] = serde_json::json!([])),
        "transactional.relays[0].service: `order` has no database"
    );
    assert_eq!(
        error(|v| v["transactional"]["relays"] = serde_json::json!([])),
        "nodes[1]: relay `relay` needs an entry in `transactional.relays`"
    );
    assert_eq!(
        error(|v| v["links"] = serde_json::json!([])),
        "workloads[0].operation.write.event.channel: relay `relay` has no link to broker `broker` of `ev`"
    );
    assert_eq!(
        error(|v| v["workloads"][0]["operation"]["write"]["key"] = "o-{n%0}".into()),
        "workloads[0].operation.write.key: `{n%0}` needs a whole number K ≥ 1"
    );
    assert_eq!(
        error(|v| v["workloads"][0]["operation"]["write"]["table"] = "outbox".into()),
        "workloads[0].operation.write.table: `outbox` is the OUTBOX table; name the business table"
    );
    assert_eq!(
        error(
            |v| v["workloads"][0]["operation"]["write"]["strategy"] = "commit_then_publish".into()
        ),
        "workloads[0].operation.write.event.channel: no link between `order` and broker `broker`"
    );
    assert_eq!(
        error(|v| {
            v["links"] =
                serde_json::json!([{"a": "relay", "b": "broker"}, {"a": "order", "b": "broker"}]);
            v["workloads"][0]["messages"] =
                serde_json::json!([{"channel": "ev", "kind": "event", "type": "X"}]);
        }),
        "workloads[0].messages: must be empty when `operation` is set"
    );
    assert_eq!(
        error(|v| v["workloads"][0]["operation"] = serde_json::json!({"query": {"key": "k"}})),
        "workloads[0].operation.query: `order` keeps no replica to query"
    );
    assert_eq!(
        error(|v| v["nodes"][1]["instances"] = 2.into()),
        "nodes[1].instances: a relay has exactly one instance"
    );
    let e = error(|v| v["transactional"]["relays"][0]["colour"] = 1.into());
    assert!(e.contains("unknown field `colour`"), "{e}");
    // Fault commands are checked against the topology when the simulation is built.
    let mut v = base();
    v["faults"] =
        serde_json::json!([{"at_ms": 1, "command": {"op": "stop_relay", "node": "order"}}]);
    let e = Simulation::from_json(&v.to_string(), 1).unwrap_err();
    assert_eq!(e.to_string(), "faults[0].command: `order` is not a relay");
}
