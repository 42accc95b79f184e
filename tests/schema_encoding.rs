//! Encodings: the `encoding-comparison` scenario's exact bytes in JSON and Avro, the size bound,
//! and producers refusing invalid payloads. Exact values from real runs.

use msgsim::contract::Encoding;
use msgsim::schema_view::{DecodeOutcome, WireSummary};
use msgsim::{MessageId, Scenario, ScenarioError, SimTime, Simulation};
use serde_json::json;

fn comparison() -> Simulation {
    Simulation::from_json(msgsim::scenarios::get("encoding-comparison").unwrap(), 3).unwrap()
}

const ORDER_1_JSON: &str = r#"{"orderId":"order-1","customerId":"customer-42","status":"PLACED","total":25.5,"currency":"EUR","quantity":2,"items":["pad thai","spring rolls"],"express":false,"coupon":null}"#;

/// Avro 1.11 binary encoding, field by field: orderId (length 7 zig-zag = 0e, "order-1"),
/// customerId (11 = 16, "customer-42"), status (enum index 0), total (25.5 as a little-endian
/// IEEE double), currency (index 0), quantity (2 zig-zag = 04), items (block of 2 = 04, "pad
/// thai" 8 = 10, "spring rolls" 12 = 18, end 00), express (false 00), coupon (union branch 0 =
/// null).
const ORDER_1_AVRO: &str = "0e 6f 72 64 65 72 2d 31 16 63 75 73 74 6f 6d 65 72 2d 34 32 00 \
                            00 00 00 00 00 80 39 40 00 04 04 10 70 61 64 20 74 68 61 69 18 \
                            73 70 72 69 6e 67 20 72 6f 6c 6c 73 00 00 00";

#[test]
fn the_same_message_in_json_and_in_avro() {
    let mut sim = comparison();
    sim.run_until(SimTime::from_ms(1), u64::MAX);
    // Both publishes of tick 1 are on the wire with their sizes in both encodings.
    let wires: Vec<WireSummary> = sim
        .snapshot()
        .in_flight
        .iter()
        .filter_map(|t| t.wire.clone())
        .collect();
    let summary = |id, encoding, bytes| WireSummary {
        schema: "OrderPlaced@1.0.0".into(),
        version: "1.0.0".into(),
        schema_id: id,
        encoding,
        bytes,
        json_bytes: 175,
        avro_bytes: 57,
    };
    assert_eq!(
        wires,
        [
            summary(1, Encoding::Json, 175),
            summary(2, Encoding::Avro, 57)
        ]
    );
    let encode: Vec<String> = sim
        .trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains("encode"))
        .collect();
    assert_eq!(
        encode,
        [
            "t=0.000ms order#0 encode m1 OrderPlaced@1.0.0 id=1 json (json 175 B, avro 57 B)",
            "t=0.000ms order#0 encode m2 OrderPlaced@1.0.0 id=2 avro (json 175 B, avro 57 B)",
        ]
    );
    let json_msg = sim.inspect_message(MessageId(1)).unwrap();
    assert_eq!(json_msg.channel, "orders-json");
    assert_eq!(json_msg.json_text, ORDER_1_JSON);
    assert_eq!(json_msg.avro_hex, ORDER_1_AVRO);
    assert_eq!(json_msg.wire_bytes, 175);
    assert!(json_msg.wire_dump.starts_with(
        "00000000  7b 22 6f 72 64 65 72 49 64 22 3a 22 6f 72 64 65  |{\"orderId\":\"orde|"
    ));
    let avro_msg = sim.inspect_message(MessageId(2)).unwrap();
    assert_eq!(avro_msg.channel, "orders-avro");
    assert_eq!(avro_msg.avro_hex, ORDER_1_AVRO);
    assert_eq!(avro_msg.wire_bytes, 57);
    assert_eq!(
        avro_msg.wire_dump.lines().next().unwrap(),
        "00000000  0e 6f 72 64 65 72 2d 31 16 63 75 73 74 6f 6d 65  |.order-1.custome|"
    );

    sim.run_to_idle(u64::MAX);
    let s = sim.schema_snapshot().unwrap();
    let totals: Vec<_> = s
        .channels
        .iter()
        .map(|c| {
            (
                c.channel.as_str(),
                c.messages,
                c.wire_bytes,
                c.json_bytes,
                c.avro_bytes,
            )
        })
        .collect();
    // 40 orders; "order-10" to "order-40" are one byte longer than "order-1" to "order-9".
    assert_eq!(
        totals,
        [
            ("orders-json", 40, 7_031, 7_031, 2_311),
            ("orders-avro", 40, 2_311, 7_031, 2_311)
        ]
    );
    // Both consumers decoded the same values from the two encodings.
    let value = |node: &str, msg: u64| {
        let d = s.decodes.iter().find(|d| d.node == node).unwrap();
        let d = d.decodes.iter().find(|d| d.msg == MessageId(msg)).unwrap();
        match &d.outcome {
            DecodeOutcome::Accepted { value } => value.clone(),
            other => panic!("{other:?}"),
        }
    };
    let expected: serde_json::Value = serde_json::from_str(ORDER_1_JSON).unwrap();
    assert_eq!(value("reporting", 79), value("billing", 80));
    assert_eq!(value("reporting", 1), expected);
    assert_eq!((s.metrics.encoded, s.metrics.accepted), (80, 80));
}

fn blob_scenario(encoding: &str, blob: &str, count: u64) -> String {
    json!({
        "name": "blob",
        "nodes": [{"name": "p", "kind": "service"}, {"name": "b", "kind": "broker"},
                  {"name": "c", "kind": "service"}],
        "links": [{"a": "p", "b": "b"}, {"a": "b", "b": "c"}],
        "channels": [{"name": "blobs", "kind": "queue", "broker": "b", "consumers": ["c"],
            "encoding": encoding,
            "schemas": [{"name": "Blob", "version": "1.0.0", "fields": [
                {"name": "blob", "type": {"kind": "string"}}]}],
            "readers": {"c": {"version": "1.0.0"}}}],
        "workloads": [{"from": "p", "every_ms": 1, "count": count, "messages": [
            {"channel": "blobs", "kind": "document", "type": "Blob", "schema_version": "1.0.0",
             "payload": {"blob": blob}}]}]
    })
    .to_string()
}

#[test]
fn messages_are_bounded_to_64_kib() {
    // A static payload too large is a scenario error, in the channel's encoding.
    let big = "x".repeat(70_000);
    assert_eq!(
        Scenario::from_json(&blob_scenario("json", &big, 1)).unwrap_err(),
        ScenarioError::Invalid {
            field: "workloads[0].messages[0].payload".into(),
            message: "not a valid `Blob@1.0.0` message: encoded size 70011 bytes (json) exceeds \
                      the 65536-byte bound"
                .into()
        }
    );
    assert_eq!(
        Scenario::from_json(&blob_scenario("avro", &big, 1))
            .unwrap_err()
            .to_string(),
        "workloads[0].messages[0].payload: not a valid `Blob@1.0.0` message: encoded size 70003 \
         bytes (avro) exceeds the 65536-byte bound"
    );
    // One that grows with {n} past the bound is refused at send and counted: 21 846 copies of
    // {n} are 21 846 bytes at n = 1, 43 692 at n = 10 and 65 538 (65 549 encoded) at n = 100.
    let growing = "{n}".repeat(21_846);
    let mut sim = Simulation::from_json(&blob_scenario("json", &growing, 100), 1).unwrap();
    sim.run_to_idle(u64::MAX);
    let s = sim.schema_snapshot().unwrap();
    assert_eq!((s.metrics.encoded, s.metrics.produce_rejected), (99, 1));
    assert_eq!(
        s.producer_rejections[0].reason,
        "encoded size 65549 bytes (json) exceeds the 65536-byte bound"
    );
    assert_eq!(s.producer_rejections[0].msg, MessageId(100));
    assert_eq!(sim.node_metrics("p").unwrap().published, 99);
    assert_eq!(sim.node_metrics("c").unwrap().processed, 99);
}

#[test]
fn producers_refuse_payloads_their_schema_does_not_allow() {
    let text = json!({
        "name": "enums",
        "nodes": [{"name": "p", "kind": "service"}, {"name": "b", "kind": "broker"},
                  {"name": "c", "kind": "service"}],
        "links": [{"a": "p", "b": "b", "latency_ms": 5}, {"a": "b", "b": "c", "latency_ms": 5}],
        "channels": [{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"],
            "schemas": [{"name": "Slot", "version": "1.0.0", "fields": [
                {"name": "slot", "type": {"kind": "enum", "symbols": ["S1", "S2"]}}]}],
            "readers": {"c": {"version": "1.0.0", "mode": "strict"}}}],
        "workloads": [{"from": "p", "every_ms": 10, "count": 4, "messages": [
            {"channel": "q", "kind": "command", "type": "Slot", "schema_version": "1.0.0",
             "payload": {"slot": "S{n}"}}]}]
    })
    .to_string();
    let mut sim = Simulation::from_json(&text, 1).unwrap();
    sim.run_to_idle(u64::MAX);
    let refused: Vec<String> = sim
        .trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains("refuses"))
        .collect();
    assert_eq!(
        refused,
        [
            "t=20.000ms p#0 refuses to send m3: invalid payload for Slot at `slot`: invalid field slot: \"S3\" is not one of the symbols [S1, S2]",
            "t=30.000ms p#0 refuses to send m4: invalid payload for Slot at `slot`: invalid field slot: \"S4\" is not one of the symbols [S1, S2]",
        ]
    );
    let s = sim.schema_snapshot().unwrap();
    assert_eq!((s.metrics.encoded, s.metrics.produce_rejected), (2, 2));
    assert_eq!(sim.metrics().published, 2);
    assert_eq!(sim.node_metrics("c").unwrap().effects, 2);
}
