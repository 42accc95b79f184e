//! Issue 6, cases 1 and 2, as engine runs: what a consumer's reader makes of a message, and where
//! a rejected message goes. (The schema functions themselves are unit-tested in `src/schema`.)
//!
//! Topology: producer `p` -> broker `b` -> consumers, 10 ms links without jitter, 10 ms handling,
//! one message: published at 0, enqueued at 10 ms, delivered at 20 ms, decoded at 30 ms, its ack
//! or nack at the broker at 40 ms.

#![cfg(feature = "avro")]

use msgsim::schema::{decode_avro, MessageSchema, SchemaError, SchemaId};
use msgsim::schema_view::{DeadLetterView, DecodeOutcome};
use msgsim::{MessageId, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

fn v1() -> Value {
    json!({"name": "User", "version": "1.0.0", "fields": [
        {"name": "name", "type": {"kind": "string"}}]})
}
fn v2() -> Value {
    json!({"name": "User", "version": "1.1.0", "fields": [
        {"name": "name", "type": {"kind": "string"}},
        {"name": "age", "type": {"kind": "optional", "inner": {"kind": "int"}}, "default": null}]})
}
fn v3() -> Value {
    json!({"name": "User", "version": "2.0.0", "fields": [
        {"name": "name", "type": {"kind": "string"}},
        {"name": "age", "type": {"kind": "optional", "inner": {"kind": "int"}}, "default": null},
        {"name": "email", "type": {"kind": "string"}}]})
}

/// One message written with `writer` carrying `payload`; each reader is (service, version, mode).
fn run(encoding: &str, writer: &str, payload: Value, readers: &[(&str, &str, &str)]) -> Simulation {
    let mut nodes = vec![
        json!({"name": "p", "kind": "service"}),
        json!({"name": "b", "kind": "broker"}),
    ];
    let mut links = vec![json!({"a": "p", "b": "b", "latency_ms": 10})];
    let mut reader_map = serde_json::Map::new();
    for (name, version, mode) in readers {
        nodes.push(json!({"name": name, "kind": "service"}));
        links.push(json!({"a": "b", "b": name, "latency_ms": 10}));
        reader_map.insert((*name).into(), json!({"version": version, "mode": mode}));
    }
    let consumers: Vec<&str> = readers.iter().map(|r| r.0).collect();
    let text = json!({
        "name": "users",
        "nodes": nodes,
        "links": links,
        "channels": [{"name": "users", "kind": "topic", "broker": "b", "consumers": consumers,
                      "encoding": encoding, "schemas": [v1(), v2(), v3()], "readers": reader_map}],
        "workloads": [{"from": "p", "every_ms": 100, "count": 1, "messages": [
            {"channel": "users", "kind": "event", "type": "User", "schema_version": writer,
             "payload": payload}]}]
    })
    .to_string();
    let mut sim = Simulation::new(Scenario::from_json(&text).unwrap(), 1).unwrap();
    sim.run_to_idle(100_000);
    sim
}

fn decoded(sim: &Simulation, node: &str) -> DecodeOutcome {
    let s = sim.schema_snapshot().unwrap();
    let d = s.decodes.iter().find(|d| d.node == node).unwrap();
    assert_eq!(d.decodes.len(), 1);
    d.decodes[0].outcome.clone()
}

fn lines(sim: &Simulation, who: &str) -> Vec<String> {
    sim.trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains(who))
        .collect()
}

/// Case 2: a JSON message {name, age: 3} read by a tolerant v1 consumer gives {name}; a strict v1
/// consumer rejects it to the dead-letter queue with the reason "unknown field age".
#[test]
fn json_tolerant_reader_drops_age_strict_reader_dead_letters_it() {
    let sim = run(
        "json",
        "1.1.0",
        json!({"name": "Ada", "age": 3}),
        &[
            ("tolerant", "1.0.0", "tolerant"),
            ("strict", "1.0.0", "strict"),
        ],
    );
    assert_eq!(
        decoded(&sim, "tolerant"),
        DecodeOutcome::Accepted {
            value: json!({"name": "Ada"})
        }
    );
    assert_eq!(
        decoded(&sim, "strict"),
        DecodeOutcome::Rejected {
            reason: "unknown field age".into()
        }
    );
    let s = sim.schema_snapshot().unwrap();
    assert_eq!(
        s.dead_letters,
        vec![DeadLetterView {
            at: SimTime(40_000),
            queue: "users/strict".into(),
            consumer: "strict".into(),
            msg: MessageId(1),
            writer: "User@1.1.0".into(),
            attempts: 1,
            reason: "unknown field age".into(),
        }]
    );
    assert_eq!(
        lines(&sim, "strict"),
        [
            "t=10.000ms users/strict enqueue m1 depth=1",
            "t=10.000ms b -> strict#0 deliver m1 attempt=1 #4",
            "t=20.000ms b -> strict#0 deliver m1 arrived #4",
            "t=30.000ms strict#0 decode m1 User@1.1.0 as 1.0.0 strict: rejected (unknown field age)",
            "t=30.000ms strict#0 -> b nack m1 attempt=1 #6",
            "t=40.000ms strict#0 -> b nack m1 arrived #6",
            "t=40.000ms users/strict dead-letter m1 rejected: unknown field age",
        ]
    );
    // The broker's queue view and counters agree; the strict consumer applied no effect.
    let snap = sim.snapshot();
    let q = &snap.channels[0].queues;
    assert_eq!(
        q.iter()
            .map(|q| (q.name.as_str(), q.acked, q.dead_letters))
            .collect::<Vec<_>>(),
        [("users/tolerant", 1, 0), ("users/strict", 0, 1)]
    );
    assert_eq!(sim.metrics().dead_lettered, 1);
    assert_eq!(sim.node_metrics("strict").unwrap().effects, 0);
    assert_eq!(sim.node_metrics("tolerant").unwrap().effects, 1);
    // The wire carried every field of 1.1.0, in schema order.
    let m = sim.inspect_message(MessageId(1)).unwrap();
    assert_eq!(m.json_text, r#"{"name":"Ada","age":3}"#);
    assert_eq!(m.headers.schema_id, Some(SchemaId(2)));
}

/// Case 1: v1 bytes read with writer v1 and reader v2 give {name, age: null}; the same bytes
/// decoded with only the v2 schema fail (why the id travels in the headers); a reader v3 with a
/// required field fails to resolve v1 data with a clear error.
#[test]
fn avro_v1_bytes_resolve_into_v2_and_fail_for_v3() {
    let sim = run(
        "avro",
        "1.0.0",
        json!({"name": "Ada"}),
        &[
            ("v2reader", "1.1.0", "tolerant"),
            ("v3reader", "2.0.0", "tolerant"),
        ],
    );
    assert_eq!(
        decoded(&sim, "v2reader"),
        DecodeOutcome::Accepted {
            value: json!({"name": "Ada", "age": null})
        }
    );
    let v3_error = "cannot resolve writer User 1.0.0 against reader User 2.0.0 at `email`: \
                    reader field email has no default and the writer schema has no such field";
    assert_eq!(
        decoded(&sim, "v3reader"),
        DecodeOutcome::Rejected {
            reason: v3_error.into()
        }
    );
    let s = sim.schema_snapshot().unwrap();
    assert_eq!(s.dead_letters.len(), 1);
    assert_eq!(s.dead_letters[0].queue, "users/v3reader");
    assert_eq!(s.dead_letters[0].reason, v3_error);
    // The compatibility check said so before anything flowed.
    let pair = s
        .compatibility
        .iter()
        .find(|c| c.writer_version == "1.0.0" && c.consumer == "v3reader")
        .unwrap();
    assert!(!pair.reads);
    assert_eq!(
        pair.reasons,
        ["field email: reader field has no default and the writer has no such field"]
    );
    // On the wire: the Avro datum of v1 (length 3 as zig-zag 06, then "Ada"), and id 1 in the
    // headers. Without the writer schema the same bytes cannot be read as v2.
    let m = sim.inspect_message(MessageId(1)).unwrap();
    assert_eq!(m.avro_hex, "06 41 64 61");
    assert_eq!(m.headers.schema_id, Some(SchemaId(1)));
    assert_eq!((m.wire_bytes, m.json_bytes, m.avro_bytes), (4, 14, 4));
    let bytes = [0x06, 0x41, 0x64, 0x61];
    let v2: MessageSchema = MessageSchema::from_json(&v2()).unwrap();
    assert!(matches!(
        decode_avro(&v2, &v2, &bytes),
        Err(SchemaError::MalformedAvro { .. })
    ));
}

/// With Avro, a strict reader also refuses writer fields it does not know (Avro resolution alone
/// would skip them); a tolerant one resolves them away.
#[test]
fn avro_strict_reader_rejects_unknown_writer_fields() {
    let sim = run(
        "avro",
        "1.1.0",
        json!({"name": "Ada", "age": 3}),
        &[
            ("tolerant", "1.0.0", "tolerant"),
            ("strict", "1.0.0", "strict"),
        ],
    );
    assert_eq!(
        decoded(&sim, "tolerant"),
        DecodeOutcome::Accepted {
            value: json!({"name": "Ada"})
        }
    );
    assert_eq!(
        decoded(&sim, "strict"),
        DecodeOutcome::Rejected {
            reason: "unknown field age".into()
        }
    );
    let m = sim.inspect_message(MessageId(1)).unwrap();
    // name "Ada", then the union branch 1 (int) and 3 as a zig-zag varint (06).
    assert_eq!(m.avro_hex, "06 41 64 61 02 06");
}
