//! The asynchronous-messaging gallery: every built-in scenario is valid, documented, grouped by a
//! reference section and deterministic (also when advanced in animation frames); the new settings
//! are validated with errors that name the field.

use msgsim::{Scenario, SimTime, Simulation};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const NEW: [&str; 10] = [
    "one-way-notification",
    "request-async-reply",
    "publish-async-responses",
    "brokerless-vs-broker",
    "competing-consumers",
    "dead-letter-queue",
    "broker-durability",
    "broker-bottleneck",
    "broker-dedup-window",
    "duplicate-handling",
];

/// Section titles of `ipc-patterns.md` the gallery groups by.
const SECTIONS: [&str; 4] = [
    "Asynchronous messaging",
    "Message Broker",
    "Competing receivers and message ordering",
    "Handling duplicate messages",
];

fn scenario(name: &str) -> Scenario {
    Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap()
}

#[test]
fn every_new_scenario_is_registered_documented_and_in_a_reference_section() {
    let names: Vec<&str> = msgsim::scenarios::names().collect();
    for name in NEW {
        assert!(names.contains(&name), "{name} not registered");
        let s = scenario(name);
        assert_eq!(s.name, name);
        assert!(
            SECTIONS.contains(&s.section.as_str()),
            "{name}: {}",
            s.section
        );
        assert!(!s.title.is_empty(), "{name}: no title");
        // What to try is its experiments (one click each), no longer a sentence.
        assert!(
            s.description.contains("Watch") && s.experiments.len() >= 2,
            "{name}: the description says what to watch, and experiments what to try"
        );
    }
    let sections: BTreeSet<String> = NEW.iter().map(|n| scenario(n).section).collect();
    assert_eq!(sections.len(), 4, "every section has a scenario");
}

#[test]
fn the_scenarios_use_documents_commands_events_and_replies() {
    let mut kinds = BTreeSet::new();
    for name in NEW {
        let mut s = Simulation::new(scenario(name), 1).unwrap();
        while s.step().is_some() {
            for t in s.snapshot().in_flight {
                kinds.insert(t.kind);
            }
            if s.now() > SimTime::from_ms(3_000) {
                break;
            }
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ack", "command", "document", "event", "nack", "reply"]
    );
}

/// Golden trace hashes of the new scenarios, each run to idle with its own seed.
const GOLDEN: [(&str, u64, u64); 10] = [
    ("one-way-notification", 882, 0xdae7_6cb2_d05f_3a47),
    ("request-async-reply", 729, 0x4972_5f0a_0dc9_a947),
    ("publish-async-responses", 1_262, 0x8a70_d2c1_0941_3cc8),
    ("brokerless-vs-broker", 694, 0xa9bd_c3d9_d849_b20b),
    ("competing-consumers", 1_870, 0x9abd_84ea_0dde_2070),
    ("dead-letter-queue", 1_043, 0x1251_802c_c147_810e),
    ("broker-durability", 1_490, 0x4b10_bea1_375c_2d46),
    ("broker-bottleneck", 57_584, 0xabdc_1ac6_a711_d516),
    ("broker-dedup-window", 1_790, 0x109e_85f1_ea4f_45c6),
    ("duplicate-handling", 1_516, 0x4379_49bc_4401_1a08),
];

#[test]
fn every_new_scenario_is_deterministic_however_time_is_sliced() {
    for (name, events, hash) in GOLDEN {
        let sc = scenario(name);
        let seed = sc.seed;
        let mut whole = Simulation::new(sc.clone(), seed).unwrap();
        whole.run_to_idle(10_000_000);
        assert_eq!(
            (whole.trace().len_total(), whole.trace_hash()),
            (events, hash),
            "{name}"
        );
        // 60 fps frames with a tiny event budget give the same run.
        let mut frames = Simulation::new(sc, seed).unwrap();
        let mut t = 0;
        while frames.next_event_time().is_some() {
            t += 16_667;
            frames.run_until(SimTime(t), 5);
        }
        assert_eq!(frames.trace_hash(), whole.trace_hash(), "{name}");
        assert_eq!(
            frames.snapshot().metrics,
            whole.snapshot().metrics,
            "{name}"
        );
    }
}

/// A small valid scenario with a request, a direct channel and every new setting, to mutate.
fn base() -> Value {
    json!({
        "name": "v",
        "nodes": [
            {"name": "a", "kind": "service"},
            {"name": "b", "kind": "broker"},
            {"name": "c", "kind": "service"},
            {"name": "d", "kind": "service"}
        ],
        "links": [{"a": "a", "b": "b"}, {"a": "b", "b": "c"}, {"a": "a", "b": "d"}],
        "channels": [
            {"name": "req", "kind": "queue", "broker": "b", "consumers": ["c"],
             "failure_percent": 5, "on_failure": "dead_letter", "dedup_window_ms": 1000,
             "durable": false},
            {"name": "rep", "kind": "queue", "broker": "b", "consumers": ["a"]},
            {"name": "dir", "kind": "direct", "consumers": ["d"]}
        ],
        "workloads": [{"from": "a", "every_ms": 10, "count": 3, "messages": [
            {"channel": "req", "kind": "command", "type": "Q", "reply_to": "rep",
             "reply_timeout_ms": 100},
            {"channel": "dir", "kind": "document", "type": "D"}
        ]}],
        "policies": {"broker_service_time_us": 100}
    })
}

/// A change to the base scenario's JSON.
type Mutation = Box<dyn FnOnce(&mut Value)>;

fn error(mutate: impl FnOnce(&mut Value)) -> String {
    let mut v = base();
    mutate(&mut v);
    Scenario::from_json(&v.to_string()).unwrap_err().to_string()
}

#[test]
fn the_new_settings_are_validated_and_errors_name_the_field() {
    let mut sim = Simulation::from_json(&base().to_string(), 1).unwrap();
    sim.run_to_idle(100_000);
    assert_eq!(sim.metrics().requests, 3);
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|v| v["channels"][2]["broker"] = json!("b")),
            "channels[2].broker: a direct channel is brokerless: remove `broker`",
        ),
        (
            Box::new(|v| v["channels"][2]["consumers"] = json!(["d", "c"])),
            "channels[2].consumers: a direct channel has exactly one consumer service (got 2)",
        ),
        (
            Box::new(|v| v["channels"][2]["consumers"] = json!(["b"])),
            "channels[2].consumers[0]: `b` is not a service",
        ),
        (
            Box::new(|v| v["channels"][2]["durable"] = json!(false)),
            "channels[2].durable: a direct channel buffers nothing: durability does not apply",
        ),
        (
            Box::new(|v| v["channels"][2]["dedup_window_ms"] = json!(5)),
            "channels[2].dedup_window_ms: duplicate detection is a broker feature; a direct \
             channel has no broker",
        ),
        (
            Box::new(|v| v["channels"][2]["on_failure"] = json!("dead_letter")),
            "channels[2].on_failure: a direct channel has no broker and so no dead-letter queue",
        ),
        (
            Box::new(|v| v["channels"][0]["failure_percent"] = json!(150)),
            "channels[0].failure_percent: 150 is out of range 0..=100 (%)",
        ),
        (
            Box::new(|v| v["channels"][0]["dedup_window_ms"] = json!(3_600_001)),
            "channels[0].dedup_window_ms: 3600001 is out of range 0..=3600000 (ms)",
        ),
        (
            Box::new(|v| {
                v["channels"][1].as_object_mut().unwrap().remove("broker");
            }),
            "channels[1].broker: a topic or a queue needs a broker",
        ),
        (
            Box::new(|v| v["channels"][0]["on_failure"] = json!("retry")),
            "scenario JSON, line 1 column 152: unknown variant `retry`, expected `requeue` or \
             `dead_letter`",
        ),
        (
            Box::new(|v| v["workloads"][0]["messages"][0]["reply_to"] = json!("nope")),
            "workloads[0].messages[0].reply_to: unknown name `nope`",
        ),
        (
            Box::new(|v| v["workloads"][0]["messages"][0]["reply_to"] = json!("req")),
            "workloads[0].messages[0].reply_to: the reply channel must differ from the request \
             channel",
        ),
        (
            Box::new(|v| v["channels"][1]["consumers"] = json!(["c"])),
            "workloads[0].messages[0].reply_to: the reply channel `rep` must be consumed by `a` \
             alone",
        ),
        (
            Box::new(|v| v["channels"][1]["consumers"] = json!(["a", "c"])),
            "channels[1].consumers: a point-to-point queue is consumed by one service, whose \
             instances compete; use a topic to give several services a copy each",
        ),
        (
            Box::new(|v| {
                v["workloads"][0]["messages"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("reply_timeout_ms");
            }),
            "workloads[0].messages[0].reply_timeout_ms: a request needs reply_timeout_ms \
             (request/async response) or collect_ms (publish/async responses)",
        ),
        (
            Box::new(|v| v["workloads"][0]["messages"][0]["collect_ms"] = json!(10)),
            "workloads[0].messages[0].collect_ms: give reply_timeout_ms or collect_ms, not both",
        ),
        (
            Box::new(|v| v["workloads"][0]["messages"][0]["reply_timeout_ms"] = json!(0)),
            "workloads[0].messages[0].reply_timeout_ms: 0 is out of range 1..=3600000 (ms)",
        ),
        (
            Box::new(|v| v["workloads"][0]["messages"][1]["collect_ms"] = json!(10)),
            "workloads[0].messages[1].collect_ms: only a request (a message with `reply_to`) has \
             this",
        ),
        (
            Box::new(|v| {
                v["channels"][0]["consumers"] = json!(["c", "d"]);
                v["links"][2] = json!({"a": "b", "b": "d"});
            }),
            "channels[0].consumers: a point-to-point queue is consumed by one service, whose \
             instances compete; use a topic to give several services a copy each",
        ),
        (
            Box::new(|v| {
                v["channels"][1] = json!({"name": "rep", "kind": "direct", "consumers": ["a"]});
            }),
            "workloads[0].messages[0].reply_to: responder `c` has no link to `a` to reply on \
             `rep`",
        ),
        (
            Box::new(|v| v["policies"]["broker_service_time_us"] = json!(1_000_001)),
            "policies.broker_service_time_us: 1000001 is out of range 0..=1000000 (µs)",
        ),
    ];
    for (mutate, expected) in cases {
        assert_eq!(error(mutate), expected);
    }
}

#[test]
fn defaults_serialize_as_before() {
    // New settings left at their defaults do not appear in a scenario's JSON, so scenarios and
    // share links written before them are unchanged.
    let s = scenario("order-events");
    let text = s.to_json();
    for field in [
        "durable",
        "dedup_window_ms",
        "failure_percent",
        "on_failure",
        "reply_to",
        "collect_ms",
        "broker_service_time_us",
    ] {
        assert!(!text.contains(field), "{field}");
    }
    let back = Scenario::from_json(&text).unwrap();
    assert_eq!(back, s);
    let rt = scenario("request-async-reply");
    assert_eq!(Scenario::from_json(&rt.to_json()).unwrap(), rt);
}
