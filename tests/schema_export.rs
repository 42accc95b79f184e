//! Export of a scenario's (and a running simulation's) API as AsyncAPI 3.0 and OpenAPI 3.1,
//! validated against the published specification schemas (vendored in `src/schema/fixtures`,
//! offline, native only).
#![cfg(all(not(target_arch = "wasm32"), feature = "export"))]

use msgsim::schema::{HttpMethod, MessageSchema, RestEndpoint, SchemaError};
use msgsim::{Scenario, SimTime, Simulation};
use serde_json::{json, Value};

const ASYNCAPI: &str = include_str!("../src/schema/fixtures/asyncapi-3.0.0.schema.json");
const OPENAPI: &str = include_str!("../src/schema/fixtures/openapi-3.1.schema.json");

fn errors(schema_text: &str, doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn scenario(name: &str) -> Scenario {
    Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn every_schema_scenario_exports_valid_asyncapi() {
    for name in ["schema-rollout", "encoding-comparison", "schema-registry"] {
        let doc = scenario(name).asyncapi_document().unwrap().unwrap();
        assert_eq!(errors(ASYNCAPI, &doc), Vec::<String>::new(), "{name}");
        assert_eq!(doc["asyncapi"], "3.0.0");
    }
    // The validator is effective on these documents too.
    let mut bad = scenario("schema-rollout")
        .asyncapi_document()
        .unwrap()
        .unwrap();
    bad["operations"]["signup.send.user-events"]["action"] = json!("publish");
    assert!(!errors(ASYNCAPI, &bad).is_empty());
    // Without schemas there is nothing to export.
    assert_eq!(scenario("order-events").asyncapi_document().unwrap(), None);
}

#[test]
fn asyncapi_of_the_rollout() {
    let doc = scenario("schema-rollout")
        .asyncapi_document()
        .unwrap()
        .unwrap();
    assert_eq!(doc["info"]["version"], "2.0.0");
    assert_eq!(keys(&doc["channels"]), ["user-events"]);
    let channel = &doc["channels"]["user-events"];
    assert_eq!(channel["address"], "user-events");
    assert_eq!(
        channel["description"],
        "Topic \"user-events\" on broker `broker`, json encoding, registry subject \
         `user-events-value`; declared versions 1.0.0, 1.1.0, 2.0.0; audit reads 1.0.0 (strict), \
         crm reads 1.0.0 (tolerant), mailer reads 1.1.0 (tolerant)."
    );
    assert_eq!(
        keys(&doc["operations"]),
        [
            "audit.receive.user-events",
            "crm.receive.user-events",
            "mailer.receive.user-events",
            "signup.send.user-events"
        ]
    );
    // The scenario's document describes the latest declared version...
    let message = &doc["components"]["messages"]["UserRegistered"];
    assert_eq!(message["x-schema-version"], "2.0.0");
    assert_eq!(
        message["payload"]["required"],
        json!(["userId", "fullName"])
    );
    // ...a running simulation's, the version its producer writes now.
    let mut sim = Simulation::new(scenario("schema-rollout"), 7).unwrap();
    let version = |sim: &Simulation| {
        let doc = sim.asyncapi_document().unwrap().unwrap();
        assert_eq!(errors(ASYNCAPI, &doc), Vec::<String>::new());
        doc["components"]["messages"]["UserRegistered"]["x-schema-version"].clone()
    };
    assert_eq!(version(&sim), "1.0.0");
    sim.run_until(SimTime::from_ms(4_000), u64::MAX);
    assert_eq!(version(&sim), "1.1.0");
    sim.run_until(SimTime::from_ms(8_000), u64::MAX);
    assert_eq!(version(&sim), "2.0.0");
}

#[test]
fn one_message_on_two_channels_is_one_component() {
    let doc = scenario("encoding-comparison")
        .asyncapi_document()
        .unwrap()
        .unwrap();
    assert_eq!(keys(&doc["channels"]), ["orders-avro", "orders-json"]);
    assert_eq!(keys(&doc["components"]["messages"]), ["OrderPlaced"]);
    // Two channels carrying different definitions under one name cannot be one document.
    let mut s = scenario("encoding-comparison");
    s.channels[1].schemas[0].description = "changed".into();
    assert_eq!(
        s.asyncapi_document(),
        Err(SchemaError::InvalidApi(
            "message schema OrderPlaced is given more than once (one version per document)".into()
        ))
    );
}

#[test]
fn openapi_only_where_there_are_endpoints() {
    let s = scenario("schema-rollout");
    assert_eq!(s.openapi_document(&[], &[]).unwrap(), None);
    let user: MessageSchema = s.channels[0].schemas[0].clone();
    let endpoint = RestEndpoint {
        method: HttpMethod::Post,
        path: "/users/{userId}".into(),
        request: Some("UserRegistered".into()),
        responses: vec![(201, "UserRegistered".into())],
    };
    let doc = s
        .openapi_document(std::slice::from_ref(&endpoint), std::slice::from_ref(&user))
        .unwrap()
        .unwrap();
    assert_eq!(errors(OPENAPI, &doc), Vec::<String>::new());
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["paths"]["/users/{userId}"]["post"]["operationId"],
        "post_users__userId_"
    );
    let sim = Simulation::new(s, 7).unwrap();
    assert_eq!(
        sim.openapi_document(&[endpoint], &[user]).unwrap(),
        Some(doc)
    );
}
