//! Hostile input (issue 12, items found by fuzzing): every numeric field is range-checked at
//! validation with the field's path, the value and the allowed range; names keep to a documented
//! character set; floats survive links and run files bit for bit; what validates can be shared.
//! Each case asserts the exact error text.

use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, RecordedCommand, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

fn err(doc: Value) -> String {
    match Scenario::from_json(&doc.to_string()) {
        Ok(_) => panic!("accepted: {doc}"),
        Err(e) => e.to_string(),
    }
}

fn base() -> Value {
    json!({"name": "x", "nodes": [{"name": "a", "kind": "service"}]})
}

fn with(path: &[&str], v: Value) -> Value {
    let mut doc = base();
    let mut at = &mut doc;
    for (i, p) in path.iter().enumerate() {
        if i + 1 == path.len() {
            at[*p] = v.clone();
        } else {
            at = &mut at[*p];
        }
    }
    doc
}

/// The input the fuzzer found: `every_ms` × 1000 overflowed (`src/sim/service.rs`, `rng.rs`).
#[test]
fn huge_every_ms_is_refused_not_multiplied() {
    let text = r#"{"name":"x","nodes":[{"name":"a","kind":"service"}],"workloads":[{"from":"a","count":2,"messages":[],"every_ms":18446744073709552}]}"#;
    assert_eq!(
        Scenario::from_json(text).unwrap_err().to_string(),
        "workloads[0].every_ms: 18446744073709552 is out of range 1..=86400000 (ms)"
    );
    // The largest accepted interval runs (no overflow with overflow checks on, as in tests).
    let ok = text.replace("18446744073709552", "86400000");
    let mut sim = Simulation::new(Scenario::from_json(&ok).unwrap(), 1).unwrap();
    sim.run_until(SimTime::from_ms(1), u64::MAX);
    sim.run_until(SimTime::from_ms(200_000_000), u64::MAX);
    assert_eq!(sim.metrics().published, 0, "no messages, two ticks");
}

/// The engine's own arithmetic saturates whatever a caller builds without validation.
#[test]
fn time_arithmetic_saturates_by_construction() {
    assert_eq!(msgsim::time::ms_to_us(u64::MAX), u64::MAX);
    let mut rng = msgsim::rng::SimRng::new(1, 1);
    assert_eq!(rng.jittered_ms(5, 0), 5_000);
    // No overflow panic (tests run with overflow checks): saturates, then subtracts the jitter.
    rng.jittered_ms(u64::MAX, u64::MAX);
    rng.jittered_ms(18_446_744_073_709_552, 18_446_744_073_709_552);
    assert_eq!(msgsim::SimTime::MAX.plus_ms(u64::MAX), msgsim::SimTime::MAX);
}

#[test]
fn sibling_duration_fields_are_refused_with_path_value_and_range() {
    let wl = |extra: Value| {
        let mut w = json!({"from": "a", "count": 2, "messages": [], "every_ms": 10});
        for (k, v) in extra.as_object().unwrap() {
            w[k] = v.clone();
        }
        with(&["workloads"], json!([w]))
    };
    let cases = [
        (
            wl(json!({"jitter_ms": 18_446_744_073_709_552u64})),
            "workloads[0].jitter_ms: 18446744073709552 is out of range 0..=86400000 (ms)",
        ),
        (
            wl(json!({"start_ms": 86_400_001})),
            "workloads[0].start_ms: 86400001 is out of range 0..=86400000 (ms)",
        ),
        (
            wl(json!({"every_ms": 0})),
            "workloads[0].every_ms: 0 is out of range 1..=86400000 (ms)",
        ),
        (
            wl(json!({"count": 10_000_001})),
            "workloads[0].count: 10000001 is out of range 0..=10000000",
        ),
        (
            with(
                &["nodes"],
                json!([{"name": "a", "kind": "service", "processing_ms": u64::MAX}]),
            ),
            "nodes[0].processing_ms: 18446744073709551615 is out of range 0..=86400000 (ms)",
        ),
        (
            with(&["policies"], json!({"ack_timeout_ms": 86_400_001})),
            "policies.ack_timeout_ms: 86400001 is out of range 1..=86400000 (ms)",
        ),
        (
            with(&["policies"], json!({"publish_timeout_ms": 0})),
            "policies.publish_timeout_ms: 0 is out of range 1..=86400000 (ms)",
        ),
        (
            with(&["policies"], json!({"prefetch": 4_000_000_000u64})),
            "policies.prefetch: 4000000000 is out of range 1..=10000",
        ),
        (
            with(&["policies"], json!({"max_inbox": 4_000_000_000u64})),
            "policies.max_inbox: 4000000000 is out of range 0..=1000000 (messages)",
        ),
        (
            with(&["policies"], json!({"schema_lookup_timeout_ms": 0})),
            "policies.schema_lookup_timeout_ms: 0 is out of range 1..=3600000 (ms)",
        ),
        (
            with(&["horizon_ms"], json!(u64::MAX)),
            "horizon_ms: 18446744073709551615 is out of range 0..=86400000 (ms)",
        ),
        (
            with(
                &["faults"],
                json!([{"at_ms": u64::MAX, "command": {"op": "crash", "node": "a"}}]),
            ),
            "faults[0].at_ms: 18446744073709551615 is out of range 0..=86400000 (ms)",
        ),
        (
            with(
                &["faults"],
                json!([{"at_ms": 1, "command": {"op": "crash", "node": "a", "instance": 99}}]),
            ),
            "faults[0].command.instance: 99 is out of range 0..=15",
        ),
        (
            with(
                &["nodes"],
                json!([{"name": "a", "kind": "service", "pos": [1e300, 0]}]),
            ),
            "nodes[0].pos[0]: 1e300 is out of range -1000000..=1000000",
        ),
    ];
    for (doc, want) in cases {
        assert_eq!(err(doc), want);
    }
}

#[test]
fn link_and_sub_spec_fields_use_the_same_words() {
    let two = json!({"name": "x", "nodes": [{"name": "a", "kind": "service"},
                                          {"name": "b", "kind": "broker"}],
                     "links": [{"a": "a", "b": "b", "latency_ms": 3_600_001}]});
    assert_eq!(
        err(two),
        "links[0].latency_ms: 3600001 is out of range 0..=3600000 (ms)"
    );
    let calls = json!({"name": "x",
        "nodes": [{"name": "c", "kind": "service"}, {"name": "s", "kind": "service"}],
        "links": [{"a": "c", "b": "s"}],
        "apis": [{"service": "s", "endpoints": [{"method": "GET", "path": "/x"}]}],
        "calls": [{"from": "c", "to": "s", "every_ms": 10, "count": 1, "start_ms": u64::MAX,
                   "steps": [{"method": "GET", "path": "/x"}]}]});
    assert_eq!(
        err(calls),
        "calls[0].start_ms: 18446744073709551615 is out of range 0..=86400000 (ms)"
    );
}

#[test]
fn commands_are_range_checked_before_anything_changes() {
    let sc = Scenario::from_json(
        r#"{"name":"x","nodes":[{"name":"a","kind":"service"},{"name":"b","kind":"broker"}],
            "links":[{"a":"a","b":"b"}]}"#,
    )
    .unwrap();
    let mut sim = Simulation::new(sc, 1).unwrap();
    let bad: Command = serde_json::from_value(json!({"op": "set_link", "a": "a", "b": "b",
        "faults": {"loss_percent": 100.5}}))
    .unwrap();
    assert_eq!(
        sim.apply(bad).unwrap_err().to_string(),
        "invalid faults: faults.loss_percent: 100.5 is out of range 0..=100 (%)"
    );
    let nan = Command::SetLink {
        a: "a".into(),
        b: "b".into(),
        direction: Default::default(),
        faults: msgsim::LinkFaults {
            duplicate_percent: f64::NAN,
            ..Default::default()
        },
    };
    assert_eq!(
        sim.apply(nan).unwrap_err().to_string(),
        "invalid faults: faults.duplicate_percent: NaN is out of range 0..=100 (%)"
    );
    let crash: Command =
        serde_json::from_value(json!({"op": "crash", "node": "a", "instance": u32::MAX})).unwrap();
    assert_eq!(
        sim.apply(crash).unwrap_err().to_string(),
        "instance: 4294967295 is out of range 0..=15"
    );
    assert!(sim.command_log().is_empty());
}

#[test]
fn names_keep_to_a_documented_character_set() {
    // The Mermaid injection of issue 16 stops at validation.
    let doc = json!({"name": "x", "nodes": [{"name": "x\n%%{init:{\"theme\":\"dark\"}}%%",
                                            "kind": "service"}]});
    assert_eq!(
        err(doc),
        "nodes[0].name: character 2 of `x\\n%%{init:{\\\"theme\\\":\\\"dark\\\"}}%%` is `\\n` \
         (U+000A); a name uses ASCII letters, digits, `-`, `_`, `.`, starting with a letter or digit"
    );
    let doc = json!({"name": "x", "nodes": [{"name": "a", "kind": "service"},
                                           {"name": "b", "kind": "broker"}],
                     "links": [{"a": "a", "b": "b"}],
                     "channels": [{"name": "orders/eu", "kind": "queue", "broker": "b"}]});
    assert_eq!(
        err(doc),
        "channels[0].name: character 7 of `orders/eu` is `/` (U+002F); a name uses ASCII \
         letters, digits, `-`, `_`, `.`, starting with a letter or digit"
    );
    let doc = json!({"name": "x", "nodes": [{"name": "a\u{1}", "kind": "service"}]});
    assert_eq!(
        err(doc),
        "nodes[0].name: character 2 of `a\\u{1}` is `\\u{1}` (U+0001); a name uses ASCII \
         letters, digits, `-`, `_`, `.`, starting with a letter or digit"
    );
    let long = "n".repeat(33);
    let doc = json!({"name": "x", "nodes": [{"name": long, "kind": "service"}]});
    assert_eq!(
        err(doc),
        format!("nodes[0].name: `{long}` has 33 characters; a name has 1 to 32")
    );
    // Every built-in keeps to it.
    for name in msgsim::scenarios::names() {
        Scenario::from_json(msgsim::scenarios::get(name).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn f64_bits_after_round_trip(run: &SharedRun) -> (SharedRun, SharedRun) {
    let link = SharedRun::decode(&run.encode().unwrap()).unwrap();
    let file = serde_json::to_string_pretty(run).unwrap();
    let file: SharedRun = serde_json::from_str(&file).unwrap();
    (link, file)
}

/// `loss_percent 92.37001069304557` changed in 9 % of random values before `float_roundtrip`.
#[test]
fn floats_survive_links_and_run_files_bit_for_bit() {
    let loss = 92.370_010_693_045_57_f64;
    let mut sc = Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
    sc.links[0].faults.loss_percent = loss;
    let cmd = Command::SetLink {
        a: sc.links[1].a.clone(),
        b: sc.links[1].b.clone(),
        direction: Default::default(),
        faults: msgsim::LinkFaults {
            loss_percent: loss,
            ..Default::default()
        },
    };
    let run = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(sc)),
        seed: 7,
        commands: vec![RecordedCommand {
            at: SimTime::from_ms(500),
            events: 10,
            command: cmd,
        }],
        at: SimTime::from_ms(1_000),
        events: None,
    };
    for back in <[SharedRun; 2]>::from(f64_bits_after_round_trip(&run)) {
        let ScenarioRef::Inline(s) = &back.scenario else {
            panic!("inline")
        };
        assert_eq!(s.links[0].faults.loss_percent.to_bits(), loss.to_bits());
        let Command::SetLink { faults, .. } = &back.commands[0].command else {
            panic!("set_link")
        };
        assert_eq!(faults.loss_percent.to_bits(), loss.to_bits());
        assert_eq!(back, run);
    }
    // Scenario files too.
    let text = serde_json::to_string(&json!({"name": "x",
        "nodes": [{"name": "a", "kind": "service"}, {"name": "b", "kind": "broker"}],
        "links": [{"a": "a", "b": "b", "loss_percent": loss}]}))
    .unwrap();
    let sc = Scenario::from_json(&text).unwrap();
    assert_eq!(sc.links[0].faults.loss_percent.to_bits(), loss.to_bits());
}

fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

fn payload_scenario(depth: usize) -> String {
    json!({"name": "x",
        "nodes": [{"name": "a", "kind": "service"}, {"name": "b", "kind": "broker"}],
        "links": [{"a": "a", "b": "b"}],
        "channels": [{"name": "c", "kind": "queue", "broker": "b"}],
        "workloads": [{"from": "a", "every_ms": 10, "count": 1,
                       "messages": [{"channel": "c", "kind": "event", "type": "T",
                                     "payload": nested(depth)}]}]})
    .to_string()
}

/// A payload nested 121 levels was accepted as a scenario but its own link and run file were
/// refused (serde_json's recursion limit, 128, once wrapped). Now: refused at validation, and
/// the deepest accepted payload can be shared both ways.
#[test]
fn what_validates_can_be_shared() {
    assert_eq!(
        Scenario::from_json(&payload_scenario(121))
            .unwrap_err()
            .to_string(),
        "workloads[0].messages[0].payload.a.a.a…: JSON nests deeper than 48 levels of arrays and \
         objects"
    );
    // Deepest accepted: the document is 48 deep; the payload starts at level 6.
    let sc = Scenario::from_json(&payload_scenario(43)).unwrap();
    assert!(Scenario::from_json(&payload_scenario(44)).is_err());
    let run = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(sc)),
        seed: 1,
        commands: vec![],
        at: SimTime::from_ms(10),
        events: None,
    };
    let (link, file) = f64_bits_after_round_trip(&run);
    assert_eq!(link, run);
    assert_eq!(file, run);
}
