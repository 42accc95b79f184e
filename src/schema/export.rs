//! Export of declared schemas as AsyncAPI 3.0 (message channels) and OpenAPI 3.1 (REST)
//! documents, with message payloads as JSON Schema.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::SchemaError;
use super::types::{FieldType, MessageSchema};

/// Document-level information for the exported documents (`info` object of both formats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInfo {
    /// Title of the API (required by both formats).
    pub title: String,
    /// Version of the API document (free text in both formats, e.g. `1.0.0`).
    pub version: String,
    /// Free text; omitted from the output when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A message channel for [`asyncapi_document`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// Channel id: key in `channels`, matching `^[A-Za-z0-9._-]+$`.
    pub id: String,
    /// Channel address (topic/queue name); `{param}` expressions become channel parameters.
    pub address: String,
    /// Names of the [`MessageSchema`]s that may travel on the channel.
    pub messages: Vec<String>,
    /// Free text; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// AsyncAPI 3.0 operation action, from the point of view of the described application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The application sends (produces) messages to the channel.
    Send,
    /// The application receives (consumes) messages from the channel.
    Receive,
}

/// An operation for [`asyncapi_document`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    /// Operation id: key in `operations`, matching `^[A-Za-z0-9._-]+$`.
    pub id: String,
    /// Send or receive.
    pub action: Action,
    /// Id of a [`ChannelSpec`].
    pub channel: String,
    /// Subset of the channel's message names; empty = all of the channel's messages.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Free text; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// HTTP method of a [`RestEndpoint`] (the eight OpenAPI 3.1 path-item operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
}

impl HttpMethod {
    /// Lowercase name, as used for OpenAPI path-item keys.
    pub fn as_lower(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Put => "put",
            HttpMethod::Post => "post",
            HttpMethod::Delete => "delete",
            HttpMethod::Options => "options",
            HttpMethod::Head => "head",
            HttpMethod::Patch => "patch",
            HttpMethod::Trace => "trace",
        }
    }
}

/// A REST endpoint for [`openapi_document`].
///
/// JSON form: `{"method":"POST","path":"/users/{id}","request":"CreateUser",
/// "responses":[[201,"UserCreated"],[409,"Error"]]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestEndpoint {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template starting with `/`; `{name}` segments become required string path
    /// parameters.
    pub path: String,
    /// Name of the request body schema (`application/json`), if the endpoint takes a body.
    #[serde(default)]
    pub request: Option<String>,
    /// `(HTTP status 100..=599, response body schema name)` pairs; at least one.
    pub responses: Vec<(u16, String)>,
}

/// The JSON Schema of a message payload, usable both as an AsyncAPI 3.0 Schema Object (a
/// superset of JSON Schema Draft 07) and as an OpenAPI 3.1 Schema Object (JSON Schema
/// 2020-12): `{"type":"object","title":<name>,"description"?,"properties":{...},
/// "required"?:[...],"additionalProperties":false}`. Field types map as documented on
/// [`FieldType`]; field `description` and `default` are copied; `required` lists the required
/// fields (omitted when none); `additionalProperties` is `false`, matching
/// [`MessageSchema::validate`].
///
/// Errors: [`SchemaError::InvalidSchema`] when [`MessageSchema::check`] fails.
pub fn json_schema(schema: &MessageSchema) -> Result<Value, SchemaError> {
    schema.check()?;
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in &schema.fields {
        let mut p = match type_schema(&f.ty) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if !f.description.is_empty() {
            p.insert("description".into(), f.description.clone().into());
        }
        if let Some(d) = f.effective_default() {
            p.insert("default".into(), d);
        }
        if f.is_required() {
            required.push(Value::String(f.name.clone()));
        }
        props.insert(f.name.clone(), Value::Object(p));
    }
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    out.insert("title".into(), schema.name.clone().into());
    if !schema.description.is_empty() {
        out.insert("description".into(), schema.description.clone().into());
    }
    out.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    out.insert("additionalProperties".into(), false.into());
    Ok(Value::Object(out))
}

fn type_schema(ty: &FieldType) -> Value {
    match ty {
        FieldType::String => json!({"type": "string"}),
        FieldType::Int => json!({"type": "integer", "format": "int64"}),
        FieldType::Double => json!({"type": "number", "format": "double"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Enum { symbols, .. } => json!({"type": "string", "enum": symbols}),
        FieldType::Optional(inner) => json!({"anyOf": [type_schema(inner), {"type": "null"}]}),
        FieldType::Array(items) => json!({"type": "array", "items": type_schema(items)}),
    }
}

/// Component key rule shared by AsyncAPI 3.0 and OpenAPI 3.1 (`^[a-zA-Z0-9._-]+$`).
fn is_component_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Schemas by name; rejects duplicate names and invalid schemas.
fn index_schemas(schemas: &[MessageSchema]) -> Result<BTreeMap<&str, &MessageSchema>, SchemaError> {
    let mut by_name = BTreeMap::new();
    for s in schemas {
        s.check()?;
        if by_name.insert(s.name.as_str(), s).is_some() {
            return Err(SchemaError::InvalidApi(format!(
                "message schema {} is given more than once (one version per document)",
                s.name
            )));
        }
    }
    Ok(by_name)
}

/// `{name}` expressions of a path or address, in order. Errors on unbalanced braces or empty
/// names.
fn template_params(template: &str) -> Result<Vec<String>, SchemaError> {
    let mut params = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(SchemaError::InvalidApi(format!(
                "unbalanced '}}' in {template:?}"
            )));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(SchemaError::InvalidApi(format!(
                "unbalanced '{{' in {template:?}"
            )));
        };
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(SchemaError::InvalidApi(format!(
                "bad parameter expression in {template:?}"
            )));
        }
        params.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(params)
}

/// `name` as one reference token of a JSON Pointer inside a URI fragment (`#/channels/<token>`):
/// `~` as `~0` and `/` as `~1` (RFC 6901 §3), then every byte that may not stand in a URI
/// fragment percent-encoded (RFC 3986 §3.5, RFC 6901 §6), so a name with `/`, `~`, `#`, `%`,
/// a space or a quote still points at its own key (the keys themselves are written by
/// `serde_json`, which escapes anything).
fn ref_token(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c if c.is_ascii_alphanumeric() || "-._!$&'()*+,;=:@?".contains(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// Builds an AsyncAPI 3.0.0 document.
///
/// Shape: `{"asyncapi":"3.0.0","info":{title,version,description?},
/// "defaultContentType":"application/json","channels":{<id>:{"address",
/// "messages":{<msg>:{"$ref":"#/components/messages/<msg>"}},"parameters"?,"description"?}},
/// "operations":{<id>:{"action":"send"|"receive","channel":{"$ref":"#/channels/<id>"},
/// "messages":[{"$ref":"#/channels/<id>/messages/<msg>"}],"description"?}},
/// "components":{"messages":{<name>:{"name","title","contentType":"application/json",
/// "payload":<json_schema>,"description"?,"x-schema-version":"<semver>"}}}}`.
/// Every schema in `schemas` becomes a component message keyed by its name.
///
/// Errors ([`SchemaError::InvalidApi`] unless noted): invalid schema
/// ([`SchemaError::InvalidSchema`]), duplicate schema names, invalid or duplicate channel or
/// operation ids, unknown message or channel names, an operation message not carried by its
/// channel, unbalanced `{}` in an address.
pub fn asyncapi_document(
    info: &ApiInfo,
    schemas: &[MessageSchema],
    channels: &[ChannelSpec],
    operations: &[OperationSpec],
) -> Result<Value, SchemaError> {
    let by_name = index_schemas(schemas)?;
    let mut messages = Map::new();
    for s in schemas {
        if !is_component_key(&s.name) {
            return Err(SchemaError::InvalidApi(format!(
                "message name {} is not a valid component key",
                s.name
            )));
        }
        let mut m = Map::new();
        m.insert("name".into(), s.name.clone().into());
        m.insert("title".into(), s.name.clone().into());
        if !s.description.is_empty() {
            m.insert("description".into(), s.description.clone().into());
        }
        m.insert("contentType".into(), "application/json".into());
        m.insert("payload".into(), json_schema(s)?);
        m.insert("x-schema-version".into(), s.version.to_string().into());
        messages.insert(s.name.clone(), Value::Object(m));
    }

    let mut channel_map = Map::new();
    let mut channel_msgs: BTreeMap<&str, &[String]> = BTreeMap::new();
    for c in channels {
        if !is_component_key(&c.id) {
            return Err(SchemaError::InvalidApi(format!(
                "channel id {:?} must match ^[A-Za-z0-9._-]+$",
                c.id
            )));
        }
        if channel_msgs.insert(c.id.as_str(), &c.messages).is_some() {
            return Err(SchemaError::InvalidApi(format!(
                "duplicate channel id {}",
                c.id
            )));
        }
        let mut msgs = Map::new();
        for name in &c.messages {
            if !by_name.contains_key(name.as_str()) {
                return Err(SchemaError::InvalidApi(format!(
                    "channel {} carries unknown message {name}",
                    c.id
                )));
            }
            msgs.insert(
                name.clone(),
                json!({"$ref": format!("#/components/messages/{}", ref_token(name))}),
            );
        }
        let mut ch = Map::new();
        ch.insert("address".into(), c.address.clone().into());
        ch.insert("messages".into(), Value::Object(msgs));
        let params = template_params(&c.address)?;
        if !params.is_empty() {
            let mut p = Map::new();
            for name in params {
                if !is_component_key(&name) {
                    return Err(SchemaError::InvalidApi(format!(
                        "channel {} parameter {name:?} must match ^[A-Za-z0-9._-]+$",
                        c.id
                    )));
                }
                p.insert(name, json!({}));
            }
            ch.insert("parameters".into(), Value::Object(p));
        }
        if !c.description.is_empty() {
            ch.insert("description".into(), c.description.clone().into());
        }
        channel_map.insert(c.id.clone(), Value::Object(ch));
    }

    let mut op_map = Map::new();
    let mut op_ids = BTreeSet::new();
    for o in operations {
        if !is_component_key(&o.id) {
            return Err(SchemaError::InvalidApi(format!(
                "operation id {:?} must match ^[A-Za-z0-9._-]+$",
                o.id
            )));
        }
        if !op_ids.insert(o.id.as_str()) {
            return Err(SchemaError::InvalidApi(format!(
                "duplicate operation id {}",
                o.id
            )));
        }
        let Some(carried) = channel_msgs.get(o.channel.as_str()) else {
            return Err(SchemaError::InvalidApi(format!(
                "operation {} uses unknown channel {}",
                o.id, o.channel
            )));
        };
        let names: &[String] = if o.messages.is_empty() {
            carried
        } else {
            &o.messages
        };
        let mut refs = Vec::new();
        for name in names {
            if !carried.contains(name) {
                return Err(SchemaError::InvalidApi(format!(
                    "operation {} uses message {name} that channel {} does not carry",
                    o.id, o.channel
                )));
            }
            refs.push(json!({"$ref": format!("#/channels/{}/messages/{}", ref_token(&o.channel), ref_token(name))}));
        }
        let mut op = Map::new();
        op.insert(
            "action".into(),
            match o.action {
                Action::Send => "send",
                Action::Receive => "receive",
            }
            .into(),
        );
        op.insert(
            "channel".into(),
            json!({"$ref": format!("#/channels/{}", ref_token(&o.channel))}),
        );
        op.insert("messages".into(), Value::Array(refs));
        if !o.description.is_empty() {
            op.insert("description".into(), o.description.clone().into());
        }
        op_map.insert(o.id.clone(), Value::Object(op));
    }

    Ok(json!({
        "asyncapi": "3.0.0",
        "info": info_json(info),
        "defaultContentType": "application/json",
        "channels": channel_map,
        "operations": op_map,
        "components": {"messages": messages},
    }))
}

fn info_json(info: &ApiInfo) -> Value {
    let mut m = Map::new();
    m.insert("title".into(), info.title.clone().into());
    m.insert("version".into(), info.version.clone().into());
    if !info.description.is_empty() {
        m.insert("description".into(), info.description.clone().into());
    }
    Value::Object(m)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Response",
    }
}

/// Builds an OpenAPI 3.1.0 document for REST endpoints.
///
/// Shape: `{"openapi":"3.1.0","info":{...},"paths":{<path>:{<method>:{"operationId":
/// "<method>_<path with non-alphanumerics as _>","parameters"?:[{"name","in":"path",
/// "required":true,"schema":{"type":"string"}}],"requestBody"?:{"required":true,"content":
/// {"application/json":{"schema":{"$ref":"#/components/schemas/<name>"}}}},"responses":
/// {"<status>":{"description":"<reason phrase>","content":{"application/json":{"schema":
/// {"$ref":...}}}}}}}},"components":{"schemas":{<name>:<json_schema>}}}`.
/// Every schema in `schemas` becomes a component schema keyed by its name.
///
/// Errors ([`SchemaError::InvalidApi`] unless noted): invalid schema
/// ([`SchemaError::InvalidSchema`]), duplicate schema names, a path not starting with `/`
/// or with unbalanced `{}`, a duplicate `(method, path)`, no responses, duplicate or
/// out-of-range (not 100..=599) status codes, unknown schema names.
pub fn openapi_document(
    info: &ApiInfo,
    schemas: &[MessageSchema],
    endpoints: &[RestEndpoint],
) -> Result<Value, SchemaError> {
    let by_name = index_schemas(schemas)?;
    let mut components = Map::new();
    for s in schemas {
        if !is_component_key(&s.name) {
            return Err(SchemaError::InvalidApi(format!(
                "schema name {} is not a valid component key",
                s.name
            )));
        }
        components.insert(s.name.clone(), json_schema(s)?);
    }
    let body_ref = |name: &str| -> Result<Value, SchemaError> {
        if !by_name.contains_key(name) {
            return Err(SchemaError::InvalidApi(format!("unknown schema {name}")));
        }
        Ok(
            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", ref_token(name))}}}),
        )
    };

    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut op_ids = BTreeSet::new();
    for e in endpoints {
        if !e.path.starts_with('/') {
            return Err(SchemaError::InvalidApi(format!(
                "path {:?} must start with /",
                e.path
            )));
        }
        let params = template_params(&e.path)?;
        let item = paths.entry(e.path.as_str()).or_default();
        let method = e.method.as_lower();
        if item.contains_key(method) {
            return Err(SchemaError::InvalidApi(format!(
                "duplicate endpoint {} {}",
                e.method.as_lower().to_uppercase(),
                e.path
            )));
        }
        if e.responses.is_empty() {
            return Err(SchemaError::InvalidApi(format!(
                "endpoint {} {} has no responses",
                method.to_uppercase(),
                e.path
            )));
        }
        let mut op = Map::new();
        let op_id: String = format!("{method}{}", e.path)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if !op_ids.insert(op_id.clone()) {
            return Err(SchemaError::InvalidApi(format!(
                "endpoints {} {} and another one map to the same operationId {op_id}",
                method.to_uppercase(),
                e.path
            )));
        }
        op.insert("operationId".into(), op_id.into());
        if !params.is_empty() {
            let ps: Vec<Value> = params
                .iter()
                .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            op.insert("parameters".into(), Value::Array(ps));
        }
        if let Some(req) = &e.request {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": body_ref(req)?}),
            );
        }
        let mut responses = Map::new();
        for (status, name) in &e.responses {
            if !(100..=599).contains(status) {
                return Err(SchemaError::InvalidApi(format!(
                    "status {status} is not in 100..=599"
                )));
            }
            let key = status.to_string();
            if responses.contains_key(&key) {
                return Err(SchemaError::InvalidApi(format!(
                    "endpoint {} {} lists status {status} twice",
                    method.to_uppercase(),
                    e.path
                )));
            }
            responses.insert(
                key,
                json!({"description": reason_phrase(*status), "content": body_ref(name)?}),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        item.insert(method.to_owned(), Value::Object(op));
    }
    let paths: Map<String, Value> = paths
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::Object(v)))
        .collect();
    Ok(json!({
        "openapi": "3.1.0",
        "info": info_json(info),
        "paths": paths,
        "components": {"schemas": components},
    }))
}

#[cfg(test)]
mod ref_token_tests {
    use super::ref_token;

    #[test]
    fn json_pointer_tokens_escape_slash_tilde_and_fragment_characters() {
        assert_eq!(ref_token("shop.OrderPlaced"), "shop.OrderPlaced");
        assert_eq!(ref_token("orders/eu"), "orders~1eu");
        assert_eq!(ref_token("a~b/c"), "a~0b~1c");
        assert_eq!(ref_token("x y\"#%é\n"), "x%20y%22%23%25%C3%A9%0A");
    }
}
