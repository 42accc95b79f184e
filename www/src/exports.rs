//! The API documents a scenario can be exported as: AsyncAPI 3.0 (channels with schemas) and
//! OpenAPI 3.1 (one document per service with a REST API), as the engine's exporters write
//! them. Pure; the download itself is `web::download`.

use msgsim::scenario::Scenario;
use msgsim::schema::{HttpMethod, MessageSchema, RestEndpoint};
use msgsim::sync::http::Method;
use msgsim::sync::spec::{Action, EndpointSpec};
use serde_json::Value;

/// Name of the placeholder body schema: scenarios declare no schemas for REST bodies.
const BODY: &str = "Body";

/// The AsyncAPI 3.0 document of a scenario's channels with schemas (their latest declared
/// versions), pretty JSON; `Ok(None)` when no channel declares schemas.
pub fn asyncapi_json(s: &Scenario) -> Result<Option<String>, String> {
    s.asyncapi_document()
        .map(|d| d.map(|v| format!("{v:#}")))
        .map_err(|e| e.to_string())
}

/// The trace events as JSON Lines ([`msgsim::export::trace_jsonl`]).
pub fn trace_jsonl<'a>(events: impl IntoIterator<Item = &'a msgsim::TraceEvent>) -> String {
    msgsim::export::trace_jsonl(events)
}

/// A Mermaid `sequenceDiagram` of `events` ([`msgsim::export::mermaid_sequence`]).
pub fn mermaid_sequence<'a>(
    scenario: &Scenario,
    events: impl IntoIterator<Item = &'a msgsim::TraceEvent>,
    max_arrows: usize,
) -> String {
    msgsim::export::mermaid_sequence(scenario, events, max_arrows)
}

/// The services with a REST API, in scenario order.
pub fn api_services(s: &Scenario) -> Vec<&str> {
    s.apis
        .iter()
        .filter(|a| !a.endpoints.is_empty())
        .map(|a| a.service.as_str())
        .collect()
}

/// The statuses an endpoint may answer: its success status, then 404 for a missing resource
/// and 409 for a refused update (or, for an API that puts errors in the body, 200 only).
fn statuses(e: &EndpointSpec) -> Vec<u16> {
    let ok = e
        .status
        .unwrap_or(if e.action == Action::Create { 201 } else { 200 });
    let mut v = vec![ok];
    if !e.errors_in_body {
        if matches!(e.action, Action::Read | Action::Update) {
            v.push(404);
        }
        if e.action == Action::Update && !e.require.is_empty() {
            v.push(409);
        }
    }
    if !e.downstream.is_empty() {
        v.push(500);
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// The OpenAPI 3.1 document of `service`'s REST API, pretty JSON; `Ok(None)` when it has no
/// API. Endpoints that share a method and path (a level 0/1 API selects the operation by a body
/// field) become one operation whose summary names them all; bodies are open JSON objects
/// (the scenario declares no body schemas, and the document says so).
pub fn openapi_json(s: &Scenario, service: &str) -> Result<Option<String>, String> {
    let Some(api) = s
        .apis
        .iter()
        .find(|a| a.service == service && !a.endpoints.is_empty())
    else {
        return Ok(None);
    };
    // (method, path) -> endpoint names, in order.
    let mut ops: Vec<(RestEndpoint, Vec<String>)> = Vec::new();
    for e in &api.endpoints {
        let m = match e.method {
            Method::Get => HttpMethod::Get,
            Method::Post => HttpMethod::Post,
            Method::Put => HttpMethod::Put,
            Method::Patch => HttpMethod::Patch,
            Method::Delete => HttpMethod::Delete,
        };
        let name = if e.name.is_empty() {
            format!("{} {}", e.method, e.path)
        } else {
            e.name.clone()
        };
        let select = if e.body_match.is_empty() {
            String::new()
        } else {
            format!(" (body {})", Value::Object(e.body_match.clone()))
        };
        if let Some((r, names)) = ops
            .iter_mut()
            .find(|(r, _)| r.method == m && r.path == e.path)
        {
            names.push(format!("{name}{select}"));
            for st in statuses(e) {
                if !r.responses.iter().any(|(x, _)| *x == st) {
                    r.responses.push((st, BODY.into()));
                }
            }
            continue;
        }
        let takes_body = matches!(e.method, Method::Post | Method::Put | Method::Patch);
        ops.push((
            RestEndpoint {
                method: m,
                path: e.path.clone(),
                request: takes_body.then(|| BODY.to_string()),
                responses: statuses(e)
                    .into_iter()
                    .map(|st| (st, BODY.to_string()))
                    .collect(),
            },
            vec![format!("{name}{select}")],
        ));
    }
    for (r, _) in &mut ops {
        r.responses.sort_by_key(|(st, _)| *st);
    }
    let endpoints: Vec<RestEndpoint> = ops.iter().map(|(r, _)| r.clone()).collect();
    let body = MessageSchema {
        name: BODY.into(),
        version: "1.0.0".parse().map_err(|_| "bad version".to_string())?,
        fields: Vec::new(),
        description: String::new(),
    };
    let doc = s
        .openapi_document(&endpoints, &[body])
        .map_err(|e| e.to_string())?;
    let Some(mut doc) = doc else { return Ok(None) };
    // The service's own title, the open body schema, and which endpoints share an operation.
    let title = format!(
        "{} — {service} (REST maturity level {})",
        if s.title.is_empty() {
            &s.name
        } else {
            &s.title
        },
        api.level
    );
    doc["info"]["title"] = Value::String(title);
    doc["components"]["schemas"][BODY] = serde_json::json!({
        "type": "object",
        "title": BODY,
        "description": "A JSON object. The scenario declares no schema for REST bodies."
    });
    for (r, names) in &ops {
        let method = r.method.as_lower();
        if let Some(op) = doc["paths"][r.path.as_str()].get_mut(method) {
            op["summary"] = Value::String(names.join(" | "));
        }
    }
    Ok(Some(format!("{doc:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap()
    }

    #[test]
    fn rest_scenarios_have_openapi_and_schema_scenarios_asyncapi() {
        let rest = scenario("rest-maturity");
        assert_eq!(
            api_services(&rest),
            ["orders-l0", "orders-l1", "orders-l2", "orders-l3"]
        );
        assert_eq!(asyncapi_json(&rest).unwrap(), None);
        let l0: Value =
            serde_json::from_str(&openapi_json(&rest, "orders-l0").unwrap().unwrap()).unwrap();
        assert_eq!(l0["openapi"], "3.1.0");
        assert_eq!(
            l0["paths"]["/api"]["post"]["summary"],
            r#"createOrder (body {"operation":"createOrder"}) | getOrder (body {"operation":"getOrder"}) | cancelOrder (body {"operation":"cancelOrder"})"#
        );
        let l2: Value =
            serde_json::from_str(&openapi_json(&rest, "orders-l2").unwrap().unwrap()).unwrap();
        let paths: Vec<&String> = l2["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            [
                "/consumers/{id}",
                "/orders",
                "/orders/{id}",
                "/orders/{id}/cancel"
            ]
        );
        let codes: Vec<&String> = l2["paths"]["/orders/{id}/cancel"]["post"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(codes, ["200", "404", "409"]);
        assert_eq!(openapi_json(&rest, "client-l0").unwrap(), None);

        let rollout = scenario("schema-rollout");
        assert!(api_services(&rollout).is_empty());
        let a: Value = serde_json::from_str(&asyncapi_json(&rollout).unwrap().unwrap()).unwrap();
        assert_eq!(a["asyncapi"], "3.0.0");
    }
}
