//! API contracts are checked before anything runs: every error names the field. Scenarios without
//! schemas serialize exactly as before. Random rollouts and faults never panic.
#![cfg(not(target_arch = "wasm32"))] // proptest is a native-only dev-dependency

use msgsim::{Command, Scenario, ScenarioError, SimTime, Simulation};
use proptest::prelude::*;
use serde_json::{json, Value};

fn user(version: &str, extra: &[Value]) -> Value {
    let mut fields = vec![json!({"name": "name", "type": {"kind": "string"}})];
    fields.extend(extra.iter().cloned());
    json!({"name": "User", "version": version, "fields": fields})
}

fn optional_age() -> Value {
    json!({"name": "age", "type": {"kind": "optional", "inner": {"kind": "int"}}})
}

fn base() -> Value {
    json!({
        "name": "v",
        "nodes": [{"name": "p", "kind": "service"}, {"name": "b", "kind": "broker"},
                  {"name": "crm", "kind": "service"}, {"name": "audit", "kind": "service"},
                  {"name": "reg", "kind": "schema_registry"}],
        "links": [{"a": "p", "b": "b"}, {"a": "b", "b": "crm"}, {"a": "b", "b": "audit"},
                  {"a": "crm", "b": "reg"}, {"a": "audit", "b": "reg"}],
        "channels": [{"name": "users", "kind": "topic", "broker": "b",
            "consumers": ["crm", "audit"],
            "schemas": [user("1.0.0", &[]), user("1.1.0", &[optional_age()])],
            "readers": {"crm": {"version": "1.0.0"}, "audit": {"version": "1.1.0", "mode": "strict"}}}],
        "workloads": [{"from": "p", "every_ms": 100, "count": 3, "messages": [
            {"channel": "users", "kind": "event", "type": "User", "schema_version": "1.0.0",
             "payload": {"name": "Ada {n}", "age": 3}}]}]
    })
}

fn ch(v: &mut Value) -> &mut Value {
    &mut v["channels"][0]
}

fn tpl(v: &mut Value) -> &mut Value {
    &mut v["workloads"][0]["messages"][0]
}

fn error(f: impl FnOnce(&mut Value)) -> String {
    let mut v = base();
    f(&mut v);
    match Scenario::from_json(&v.to_string()) {
        Ok(s) => match Simulation::new(s, 1) {
            Ok(_) => "valid".into(),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_scenario_is_valid() {
    assert_eq!(error(|_| {}), "valid");
}

#[test]
fn contract_errors_name_the_field() {
    let cases: Vec<(String, &str)> = vec![
        (
            error(|v| {
                ch(v)["readers"].as_object_mut().unwrap().remove("audit");
            }),
            "channels[0].readers: consumer `audit` declares no reader (API first: each consumer names the version it reads)",
        ),
        (
            error(|v| ch(v)["readers"]["crm"]["version"] = json!("9.9.9")),
            "channels[0].readers.crm.version: version 9.9.9 is not declared by the channel",
        ),
        (
            error(|v| ch(v)["readers"]["ghost"] = json!({"version": "1.0.0"})),
            "channels[0].readers.ghost: `ghost` is not a consumer of this channel",
        ),
        (
            error(|v| {
                tpl(v).as_object_mut().unwrap().remove("schema_version");
            }),
            "workloads[0].messages[0].schema_version: channel `users` declares schemas: name the version this producer writes",
        ),
        (
            error(|v| tpl(v)["schema_version"] = json!("1.2.0")),
            "workloads[0].messages[0].schema_version: version 1.2.0 is not declared by channel `users`",
        ),
        (
            error(|v| tpl(v)["type"] = json!("Person")),
            "workloads[0].messages[0].type: channel `users` carries `User`, not `Person`",
        ),
        (
            error(|v| tpl(v)["payload"]["nickname"] = json!("ada")),
            "workloads[0].messages[0].payload: field `nickname` is declared by no version of `User`",
        ),
        (
            error(|v| tpl(v)["payload"] = json!({"age": 3})),
            "workloads[0].messages[0].payload: not a valid `User@1.0.0` message: invalid payload for User at `name`: missing field name",
        ),
        (
            error(|v| tpl(v)["payload"]["name"] = json!(7)),
            "workloads[0].messages[0].payload: not a valid `User@1.0.0` message: invalid payload for User at `name`: invalid field name: expected string, got integer",
        ),
        (
            error(|v| {
                ch(v)["schemas"][1] = user(
                    "1.0.1",
                    &[json!({"name": "email", "type": {"kind": "string"}})],
                )
            }),
            "channels[0].schemas[1]: subject users-value: 1.0.0 -> 1.0.1 is a Patch bump but the change is Major: [\"required field email added\"]",
        ),
        (
            error(|v| ch(v)["schemas"][1]["version"] = json!("0.9.0")),
            "channels[0].schemas[1]: subject users-value: version 0.9.0 is not greater than latest 1.0.0",
        ),
        (
            error(|v| ch(v)["schemas"][1]["name"] = json!("Person")),
            "channels[0].schemas[1].name: a channel carries versions of one message: expected `User`, found `Person`",
        ),
        (
            error(|v| ch(v)["schemas"][0]["fields"][0]["name"] = json!("bad name")),
            "channels[0].schemas[0]: invalid schema User: field name \"bad name\" is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            error(|v| ch(v)["registry"] = json!("b")),
            "channels[0].registry: `b` is not a schema_registry",
        ),
        (
            error(|v| ch(v)["registry"] = json!("nobody")),
            "channels[0].registry: unknown name `nobody`",
        ),
        (
            error(|v| {
                ch(v)["registry"] = json!("reg");
                ch(v)["encoding"] = json!("avro");
                v["links"].as_array_mut().unwrap().pop();
            }),
            "channels[0].consumers[1]: no link between `audit` and schema registry `reg` (an Avro consumer looks writer schemas up there)",
        ),
        (
            error(|v| {
                v["channels"].as_array_mut().unwrap().push(json!(
                    {"name": "plain", "kind": "queue", "broker": "b", "encoding": "avro"}))
            }),
            "channels[1].encoding: the channel declares no schemas",
        ),
        (
            error(|v| {
                v["channels"].as_array_mut().unwrap().push(json!(
                    {"name": "plain", "kind": "queue", "broker": "b"}));
                v["workloads"][0]["messages"].as_array_mut().unwrap().push(json!(
                    {"channel": "plain", "kind": "command", "type": "Do",
                     "schema_version": "1.0.0"}))
            }),
            "workloads[0].messages[1].schema_version: channel `plain` declares no schemas",
        ),
        (
            error(|v| {
                v["workloads"][0]["messages"].as_array_mut().unwrap().push(json!(
                    {"channel": "users", "kind": "event", "type": "User",
                     "schema_version": "1.1.0", "payload": {"name": "x"}}))
            }),
            "workloads[0].messages[1].schema_version: `p` already writes version 1.0.0 to `users`: one writer version per producer and channel",
        ),
        (
            error(|v| v["nodes"][4]["instances"] = json!(2)),
            "nodes[4].instances: a schema registry has exactly one instance",
        ),
        (
            error(|v| v["policies"] = json!({"schema_lookup_timeout_ms": 0})),
            "policies.schema_lookup_timeout_ms: 0 is out of range 1..=3600000 (ms)",
        ),
        (
            error(|v| {
                ch(v)["schemas"].as_array_mut().unwrap().push(user(
                    "2.0.0",
                    &[
                        optional_age(),
                        json!({"name": "email", "type": {"kind": "string"}}),
                    ],
                ));
                v["faults"] = json!([{"at_ms": 10, "command": {"op": "set_schema_version",
                    "node": "p", "channel": "users", "version": "2.0.0"}}]);
            }),
            "faults[0].command: schema: the payload of `p` is not a valid `User@2.0.0` message: invalid payload for User at `email`: missing field email",
        ),
        (
            error(|v| ch(v)["readers"]["crm"]["mode"] = json!("lenient")),
            "scenario JSON, line 1 column 163: unknown variant `lenient`, expected `tolerant` or `strict`",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    let mut too_many = base();
    too_many["channels"][0]["schemas"] = Value::Array(
        (0..33)
            .map(|i| user(&format!("1.{i}.0"), &[]))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        Scenario::from_json(&too_many.to_string()).unwrap_err(),
        ScenarioError::TooLarge {
            what: "schema versions of one channel",
            got: 33,
            max: 32
        }
    );
}

#[test]
fn scenarios_without_schemas_serialize_as_before() {
    let json = msgsim::scenarios::get("order-events").unwrap();
    let text = Scenario::from_json(json).unwrap().to_json();
    for key in [
        "schemas",
        "encoding",
        "registry",
        "readers",
        "schema_version",
        "schema_lookup_timeout_ms",
    ] {
        assert!(!text.contains(key), "{key}");
    }
    // And schema scenarios round-trip.
    for name in ["schema-rollout", "encoding-comparison", "schema-registry"] {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s, "{name}");
    }
}

fn command(op: u8, arg: u8) -> Command {
    let nodes = ["order", "broker", "registry", "billing", "shipping"];
    let node = nodes[arg as usize % nodes.len()].to_string();
    let instance = u32::from(arg / 8 % 2);
    match op % 7 {
        0 => Command::Crash { node, instance },
        1 => Command::Restart { node, instance },
        2 => Command::Pause { node, instance },
        3 => Command::Resume { node, instance },
        4 => Command::Partition {
            a: if arg.is_multiple_of(2) {
                "billing"
            } else {
                "shipping"
            }
            .into(),
            b: "registry".into(),
        },
        5 => Command::Repair {
            a: if arg.is_multiple_of(2) {
                "billing"
            } else {
                "shipping"
            }
            .into(),
            b: "registry".into(),
        },
        _ => Command::SetSchemaVersion {
            node: "order".into(),
            channel: "orders".into(),
            version: semver::Version::new(1, u64::from(arg % 3), 0),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random crashes, pauses, partitions and rollouts (valid or not) on the registry scenario:
    /// no panic; with everything restored the run ends, packets are conserved, every nack is a
    /// lookup timeout or a rejection, and snapshots and inspection work on whatever is left.
    #[test]
    fn random_faults_and_rollouts_never_panic(
        steps in proptest::collection::vec((0u64..11_000, any::<u8>(), any::<u8>()), 0..24)
    ) {
        let json = msgsim::scenarios::get("schema-registry").unwrap();
        let mut sim = Simulation::from_json(json, 11).unwrap();
        let mut steps = steps;
        steps.sort_by_key(|s| s.0);
        for (at, op, arg) in steps {
            sim.run_until(SimTime::from_ms(at), u64::MAX);
            let _ = sim.apply(command(op, arg));
        }
        for node in ["order", "broker", "registry", "billing", "shipping"] {
            for instance in 0..2 {
                let _ = sim.apply(Command::Resume { node: node.into(), instance });
                let _ = sim.apply(Command::Restart { node: node.into(), instance });
            }
        }
        for b in ["billing", "shipping"] {
            sim.apply(Command::Repair { a: b.into(), b: "registry".into() }).unwrap();
        }
        let events = sim.run_to_idle(5_000_000);
        prop_assert!(events < 5_000_000);
        let m = *sim.metrics();
        prop_assert_eq!(m.delivered + m.dropped, m.sent + m.duplicated);
        let s = sim.schema_snapshot().unwrap();
        prop_assert!(s.metrics.lookup_replies <= s.metrics.lookups);
        prop_assert_eq!(s.metrics.nacks, s.metrics.lookup_timeouts + s.metrics.rejected);
        let _ = sim.snapshot();
        for id in 1..60 {
            let _ = sim.inspect_message(msgsim::MessageId(id));
        }
    }
}
