//! The JS API in headless Chromium: the class `Simulation` as JavaScript sees it (arguments as
//! `JsValue`s, results as plain objects, errors as thrown `Error`s), checked against the
//! engine's own run in the same page and against the values `js/examples/node.mjs` pins.
//! `cargo test -p msgsim-js --target wasm32-unknown-unknown --test web` (see scripts/test.sh).
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use msgsim::{Command, Direction, LinkFaults, SimTime};
use msgsim_js::{scenario_json, scenarios, JsSimulation};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("an object")
}

fn num(v: &JsValue, key: &str) -> f64 {
    get(v, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number"))
}

/// The message of a thrown `Error`.
fn message(e: wasm_bindgen::JsError) -> String {
    let v = JsValue::from(e);
    assert!(v.is_instance_of::<js_sys::Error>(), "a JS Error");
    String::from(v.unchecked_into::<js_sys::Error>().message())
}

fn cmd(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON")
}

/// The Node example's run, through the JS API.
fn node_example_run() -> JsSimulation {
    let mut sim = JsSimulation::new("order-events".into(), JsValue::from(42)).unwrap();
    sim.run_until(JsValue::from(2_000_000), None).unwrap();
    sim.apply(cmd(r#"{"op": "crash", "node": "kitchen", "instance": 0}"#))
        .unwrap();
    sim.run_until(JsValue::from(3_000_000), None).unwrap();
    sim.apply(cmd(
        r#"{"op": "set_link", "a": "broker", "b": "accounting", "faults":
            {"latency_ms": 100, "jitter_ms": 25, "loss_percent": 20, "duplicate_percent": 10}}"#,
    ))
    .unwrap();
    sim.run_for(JsValue::from(2_000_000), None).unwrap();
    // JSON text is accepted too.
    sim.apply(r#"{"op": "restart", "node": "kitchen", "instance": 0}"#.into())
        .unwrap();
    let out = sim.run_to_idle(None).unwrap();
    assert_eq!(get(&out, "reached"), JsValue::TRUE);
    sim
}

/// The same run through the engine's Rust API.
fn engine_run() -> msgsim::Simulation {
    let json = msgsim::scenarios::get("order-events").unwrap();
    let mut sim = msgsim::Simulation::from_json(json, 42).unwrap();
    sim.run_until(SimTime::from_ms(2_000), u64::MAX);
    sim.apply(Command::Crash {
        node: "kitchen".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(3_000), u64::MAX);
    sim.apply(Command::SetLink {
        a: "broker".into(),
        b: "accounting".into(),
        direction: Direction::Both,
        faults: LinkFaults {
            latency_ms: 100,
            jitter_ms: 25,
            loss_percent: 20.0,
            duplicate_percent: 10.0,
            ..LinkFaults::default()
        },
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(5_000), u64::MAX);
    sim.apply(Command::Restart {
        node: "kitchen".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_to_idle(u64::MAX);
    sim
}

#[wasm_bindgen_test]
fn the_js_api_gives_the_engines_run_and_the_node_examples_values() {
    let sim = node_example_run();
    let engine = engine_run();
    assert_eq!(sim.trace_hash(), engine.trace_hash());
    assert_eq!(sim.trace_hash(), 0xadd0_51cc_03f0_9e52);
    assert_eq!(sim.trace_hash_hex(), "0xadd051cc03f09e52");
    assert_eq!(sim.trace_length(), 2_278.0);
    assert_eq!(sim.now(), 33_450_511.0);
    let m = sim.metrics().unwrap();
    let e = engine.metrics();
    for (key, want) in [
        ("published", 120),
        ("sent", 749),
        ("delivered", 741),
        ("dropped", 17),
        ("duplicated", 9),
        ("redelivered", 18),
        ("acked", 240),
    ] {
        assert_eq!(num(&m, key), want as f64, "{key}");
    }
    assert_eq!(num(&m, "sent"), e.sent as f64);
    assert_eq!(num(&m, "effects"), e.effects as f64);
    let accounting = sim.node_metrics("accounting").unwrap();
    assert_eq!(num(&accounting, "effects"), 70.0);
    assert_eq!(num(&accounting, "distinct"), 60.0);
    assert!(sim.node_metrics("nope").unwrap().is_undefined());
    // The JSONL export and the Mermaid diagram are the engine's.
    assert_eq!(
        sim.trace_jsonl(),
        msgsim::export::trace_jsonl(engine.trace().events())
    );
    assert!(sim.mermaid(Some(10)).starts_with("sequenceDiagram\n"));
    let log = sim.command_log().unwrap();
    assert_eq!(js_sys::Array::from(&log).length(), 3);
}

/// `invariants()`: the scenario's claims as plain objects, the engine's in the same page and
/// the values `tests/native.rs` pins (`outbox-polling`, seed 7, 20 s: the relay's crash makes the
/// naive accounting apply m14 twice).
#[wasm_bindgen_test]
fn invariants_are_the_engines_claims_as_plain_objects() {
    let mut sim = JsSimulation::new("outbox-polling".into(), JsValue::from(7)).unwrap();
    sim.run_until(JsValue::from(20_000_000), None).unwrap();
    let got = sim.invariants().unwrap();
    let text = String::from(js_sys::JSON::stringify(&got).unwrap());
    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut engine =
        msgsim::Simulation::from_json(msgsim::scenarios::get("outbox-polling").unwrap(), 7)
            .unwrap();
    engine.run_until(SimTime::from_ms(20_000), u64::MAX);
    assert_eq!(got, serde_json::to_value(engine.invariants()).unwrap());
    assert_eq!(got[2]["state"]["state"], "violated");
    assert_eq!(got[2]["state"]["seq"], 362);
    assert_eq!(got[2]["state"]["time"], 2_673_946);
    assert_eq!(got[2]["claim"]["services"][0], "accounting");
    assert_eq!(got[0]["state"]["state"], "holding");
    assert_eq!(got[0]["checked"], 206);
}

#[wasm_bindgen_test]
fn trace_pages_are_bounded_plain_objects_with_their_line() {
    let sim = node_example_run();
    let opts = cmd(r#"{"from": 2, "limit": 2}"#);
    let page = sim.trace(opts).unwrap();
    assert_eq!(num(&page, "next"), 4.0);
    assert_eq!(num(&page, "total"), 2_278.0);
    assert_eq!(num(&page, "first_kept"), 0.0);
    let events = js_sys::Array::from(&get(&page, "events"));
    assert_eq!(events.length(), 2);
    let first = events.get(0);
    assert_eq!(num(&first, "seq"), 2.0);
    assert_eq!(get(&first, "event").as_string().unwrap(), "arrive");
    assert_eq!(
        get(&first, "line").as_string().unwrap(),
        "t=99.590ms order#0 -> broker publish m1 arrived #1"
    );
    assert_eq!(
        get(&get(&first, "to"), "node").as_string().unwrap(),
        "broker"
    );
    // Defaults: from 0, 1 000 events; a limit above 10 000 is capped.
    let all = sim.trace(JsValue::UNDEFINED).unwrap();
    assert_eq!(js_sys::Array::from(&get(&all, "events")).length(), 1_000);
    let capped = sim.trace(cmd(r#"{"limit": 1000000}"#)).unwrap();
    assert_eq!(js_sys::Array::from(&get(&capped, "events")).length(), 2_278);
    assert_eq!(
        message(sim.trace(cmd(r#"{"form": 1}"#)).unwrap_err()),
        "trace options: unknown field `form` (expected `from` and `limit`)"
    );
}

#[wasm_bindgen_test]
fn a_held_packet_never_arrives_and_its_time_is_a_bigint() {
    let mut sim = JsSimulation::new("order-events".into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(sim.seed(), 42, "the scenario's own seed by default");
    sim.run_until(JsValue::from(500_000), None).unwrap();
    sim.apply(cmd(r#"{"op": "hold", "a": "order", "b": "broker"}"#))
        .unwrap();
    sim.run_for(JsValue::from(300_000), None).unwrap();
    let snap = sim.snapshot().unwrap();
    let held: Vec<JsValue> = js_sys::Array::from(&get(&snap, "in_flight"))
        .iter()
        .filter(|t| get(t, "held") == JsValue::TRUE)
        .collect();
    // The engine's own snapshot of the same run holds the same packets.
    let mut engine =
        msgsim::Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap();
    engine.run_until(SimTime::from_ms(500), u64::MAX);
    engine
        .apply(Command::Hold {
            a: "order".into(),
            b: "broker".into(),
        })
        .unwrap();
    engine.run_until(SimTime::from_ms(800), u64::MAX);
    let engine_held: Vec<_> = engine
        .snapshot()
        .in_flight
        .into_iter()
        .filter(|t| t.held)
        .collect();
    assert_eq!(held.len(), 4);
    assert_eq!(engine_held.len(), 4);
    for (js, rust) in held.iter().zip(&engine_held) {
        let arrive = get(js, "arrive_at");
        assert!(arrive.is_bigint(), "u64::MAX does not fit a JS number");
        assert_eq!(u64::try_from(arrive).unwrap(), u64::MAX);
        assert_eq!(num(js, "sent_at"), rust.sent_at.as_us() as f64);
        assert_eq!(num(js, "id"), rust.id as f64);
    }
    assert_eq!(num(&snap, "time"), 800_000.0);
}

#[wasm_bindgen_test]
fn seeds_as_numbers_bigints_and_strings_agree() {
    let big = JsValue::from(u64::MAX);
    let a = JsSimulation::new("order-events".into(), big).unwrap();
    let b = JsSimulation::new("order-events".into(), "18446744073709551615".into()).unwrap();
    assert_eq!(a.seed(), u64::MAX);
    assert_eq!(b.seed(), u64::MAX);
    let c = JsSimulation::new("order-events".into(), JsValue::from(7)).unwrap();
    let d = JsSimulation::new("order-events".into(), JsValue::from(7u64)).unwrap();
    assert_eq!(c.seed(), d.seed());
    for bad in [
        JsValue::from(-1),
        JsValue::from(1.5),
        JsValue::from(2f64.powi(53)),
    ] {
        let e = JsSimulation::new("order-events".into(), bad).err().unwrap();
        assert!(message(e).starts_with("seed must be a non-negative integer"));
    }
}

#[wasm_bindgen_test]
fn bad_input_throws_errors_with_the_engines_message() {
    let unknown = JsSimulation::new("nope".into(), JsValue::UNDEFINED)
        .err()
        .unwrap();
    assert!(
        message(unknown).starts_with("unknown scenario `nope`; built-in scenarios: order-events, ")
    );
    let bad_json = JsSimulation::new("{\"name\": ".into(), JsValue::UNDEFINED)
        .err()
        .unwrap();
    assert_eq!(
        message(bad_json),
        "scenario JSON, line 1 column 9: EOF while parsing a value"
    );
    let doc = cmd(
        r#"{"name": "x", "nodes": [{"name": "a", "kind": "service"}],
                    "links": [{"a": "a", "b": "zz"}]}"#,
    );
    let invalid = JsSimulation::new(doc, JsValue::UNDEFINED).err().unwrap();
    assert_eq!(message(invalid), "links[0].b: unknown name `zz`");
    let mut sim = JsSimulation::new("order-events".into(), JsValue::from(1)).unwrap();
    assert_eq!(
        message(
            sim.apply(cmd(r#"{"op": "crash", "node": "nope"}"#))
                .unwrap_err()
        ),
        "unknown node `nope`"
    );
    assert!(message(sim.apply(cmd(r#"{"op": "explode"}"#)).unwrap_err())
        .starts_with("invalid command: unknown variant `explode`"));
    assert_eq!(
        message(sim.apply(JsValue::from(3)).unwrap_err()),
        "command must be a Command object or its JSON string"
    );
    assert_eq!(
        message(sim.run_until(JsValue::from(-5), None).unwrap_err()),
        "runUntil's time (µs) must be a non-negative integer no larger than \
         Number.MAX_SAFE_INTEGER (2^53 - 1), or a BigInt in 0..2^64-1; got -5"
    );
    assert!(
        message(JsSimulation::from_share_link("v2.abc", None).err().unwrap())
            .starts_with("not a msgsim link")
    );
    // A link is untrusted: its replay is bounded (Kafka-style consumers poll forever).
    let far = msgsim::share::SharedRun {
        scenario: msgsim::share::ScenarioRef::Builtin("partitioned-orders".into()),
        seed: 1,
        commands: Vec::new(),
        // The furthest place a link may name (24 h): beyond, `encode` refuses it.
        at: msgsim::share::MAX_RUN_AT,
        events: None,
    }
    .encode()
    .unwrap();
    let bounded = JsSimulation::from_share_link(&far, Some(1_000.0))
        .err()
        .unwrap();
    assert_eq!(
        message(bounded),
        "the run does not replay: reaching 86400000000 µs takes more than 1000 engine events \
         (the replay stopped at 7738620 µs after 1000 events)"
    );
    assert!(message(scenario_json("nope").unwrap_err()).starts_with("unknown scenario `nope`"));
    assert_eq!(js_sys::Array::from(&sim.command_log().unwrap()).length(), 0);
}

#[wasm_bindgen_test]
fn share_links_replay_and_scenarios_are_listed() {
    let sim = node_example_run();
    let link = sim.share_link().unwrap();
    let mut replay = JsSimulation::from_share_link(&link, None).unwrap();
    replay.run_to_idle(None).unwrap();
    assert_eq!(replay.trace_hash(), sim.trace_hash());
    let list = js_sys::Array::from(&scenarios().unwrap());
    assert_eq!(list.length() as usize, msgsim::scenarios::BUILTIN.len());
    assert_eq!(
        get(&list.get(0), "name").as_string().unwrap(),
        "order-events"
    );
    // An edited built-in, passed as an object.
    let doc = js_sys::JSON::parse(&scenario_json("order-events").unwrap()).unwrap();
    let workload = js_sys::Array::from(&get(&doc, "workloads")).get(0);
    Reflect::set(&workload, &"count".into(), &JsValue::from(5)).unwrap();
    let mut small = JsSimulation::new(doc, JsValue::from(42)).unwrap();
    small.run_to_idle(None).unwrap();
    assert_eq!(num(&small.metrics().unwrap(), "published"), 10.0);
    assert_eq!(small.scenario_name(), "order-events");
}
