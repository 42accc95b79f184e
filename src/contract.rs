//! API contracts of a scenario (API-first design): the message schemas each channel declares up
//! front, the channel's wire encoding, the version each producer writes, the version and reader
//! mode of each consumer, and `schema_registry` nodes. Validation of all that, the encoding of a
//! producer's message, and the export of a scenario as AsyncAPI 3.0 / OpenAPI 3.1 documents.
//!
//! Scenario JSON (every field optional; a channel without `schemas` carries free JSON as before):
//!
//! ```json
//! { "nodes": [ { "name": "registry", "kind": "schema_registry" }, ... ],
//!   "channels": [ {
//!       "name": "users", "kind": "topic", "broker": "broker", "consumers": ["crm", "audit"],
//!       "encoding": "avro",
//!       "registry": "registry",
//!       "schemas": [ { "name": "UserRegistered", "version": "1.0.0", "fields": [...] },
//!                    { "name": "UserRegistered", "version": "1.1.0", "fields": [...] } ],
//!       "readers": { "crm":   { "version": "1.0.0", "mode": "tolerant" },
//!                    "audit": { "version": "1.0.0", "mode": "strict" } } } ],
//!   "workloads": [ { "from": "signup", "every_ms": 250, "count": 40, "messages": [
//!       { "channel": "users", "kind": "event", "type": "UserRegistered",
//!         "schema_version": "1.0.0", "payload": { "id": "u-{n}", "name": "User {n}" } } ] } ],
//!   "policies": { "schema_lookup_timeout_ms": 200 },
//!   "faults": [ { "at_ms": 4000, "command": { "op": "set_schema_version", "node": "signup",
//!                 "channel": "users", "version": "1.1.0" } } ] }
//! ```
//!
//! Rules (checked by [`crate::Scenario::validate`], errors name the field):
//!
//! * `schemas`: every version of **one** message (same `name`), oldest first, at most
//!   [`limits::MAX_SCHEMA_VERSIONS`]. They are registered in a [`SchemaRegistry`] under the subject
//!   `<channel>-value` (Confluent's TopicNameStrategy) with compatibility `NONE` (a major version
//!   may break consumers: that is what it means) and semver enforcement: each version's bump must
//!   be at least the class of its change ([`crate::schema::classify_change`]: adding an optional
//!   field is minor, removing a field or adding a required one is major, a description is a
//!   patch). Ids are assigned 1, 2, 3... in channel order, then version order.
//! * `encoding`: `json` ([`crate::schema::encode_json`]) or `avro` (raw Avro datum,
//!   [`crate::schema::AvroCodec`]). Every message also records its size in the other encoding.
//! * `registry`: a node of kind `schema_registry`. On an Avro channel each consumer instance looks
//!   the writer schema up there by the id in the message headers, the first time it meets that id
//!   (a network round trip; then cached in the instance, lost when it crashes); a lookup not
//!   answered within `policies.schema_lookup_timeout_ms` makes the consumer nack the delivery
//!   for redelivery. JSON is self-describing: a JSON consumer needs no lookup. Without a
//!   `registry`, consumers know every declared version locally (generated code).
//! * `readers`: one entry per consumer: `version` (declared) and `mode` (`tolerant`, the default,
//!   or `strict`; [`ReaderMode`]). Both modes fill missing optional fields with their defaults;
//!   a tolerant reader ignores unknown fields, a strict reader rejects the message
//!   (`unknown field age`). With Avro, the writer schema is resolved against the reader schema as
//!   the Avro 1.11 specification defines; a strict reader also rejects writer fields it does not
//!   know. A rejected message is nacked without requeue: the broker dead-letters it with the
//!   reason.
//! * Templates on a channel with schemas name `schema_version` (declared) and `type` = the schema
//!   name. The payload is the producer's domain object: its keys must be fields of some declared
//!   version; the producer writes only the fields of its current writer version
//!   ([`project`]). The payload of the first tick (`{n}` = 1) must be valid for the initial
//!   version and encode within [`limits::MAX_ENCODED_BYTES`]; a later tick that is not (an
//!   enum symbol made by `{n}`, the size bound) is refused at send and counted. One writer version
//!   per (producer, channel).

use crate::error::ScenarioError;
use crate::scenario::{NodeKind, Scenario};
#[cfg(feature = "export")]
use crate::schema::{
    asyncapi_document, openapi_document, Action, ApiInfo, ChannelSpec as ApiChannel, OperationSpec,
    RestEndpoint, SchemaError,
};
use crate::schema::{
    encode_json, AvroCodec, CompatibilityLevel, MessageSchema, ReaderMode, SchemaId, SchemaRegistry,
};
use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
#[cfg(feature = "export")]
use std::collections::BTreeSet;
use std::sync::Arc;

/// Limits of the API contracts of a scenario.
pub mod limits {
    /// Schema versions one channel may declare.
    pub const MAX_SCHEMA_VERSIONS: usize = 32;
    /// Largest encoded message, bytes (in the channel's encoding). A larger one is refused by
    /// its producer (a scenario error when it is the first tick's payload, a counted rejection
    /// otherwise).
    pub const MAX_ENCODED_BYTES: usize = 64 * 1024;
}

/// Default of `policies.schema_lookup_timeout_ms`, ms.
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u64 = 200;

/// Serde helper: whether a lookup timeout is the default (so it is not serialized).
pub fn is_default_lookup_timeout(ms: &u64) -> bool {
    *ms == DEFAULT_LOOKUP_TIMEOUT_MS
}

/// Wire encoding of a channel with schemas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Compact UTF-8 JSON, every declared field in schema order ([`crate::schema::encode_json`]).
    #[default]
    Json,
    /// A raw binary Avro datum (no container, no framing; [`crate::schema::AvroCodec`]).
    Avro,
}

impl Encoding {
    /// `json` or `avro`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Avro => "avro",
        }
    }

    /// Serde helper: whether this is the default, [`Encoding::Json`].
    pub fn is_json(&self) -> bool {
        *self == Encoding::Json
    }
}

fn tolerant() -> ReaderMode {
    ReaderMode::Tolerant
}

/// What one consuming service reads on a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderSpec {
    /// The schema version the consumer's code was built against (declared by the channel).
    pub version: Version,
    /// `tolerant` (default) or `strict`.
    #[serde(default = "tolerant")]
    pub mode: ReaderMode,
}

/// A message as its producer encoded it: the writer schema and the bytes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoded {
    /// Writer schema name (the message name).
    pub schema: String,
    /// Writer schema version.
    pub version: Version,
    /// Registry id of the writer schema (also in the headers).
    pub schema_id: SchemaId,
    /// The channel's encoding, which `bytes` are in.
    pub encoding: Encoding,
    /// The bytes on the wire, at most [`limits::MAX_ENCODED_BYTES`].
    pub bytes: Vec<u8>,
    /// Size of the JSON encoding, bytes.
    pub json_bytes: u32,
    /// Size of the Avro encoding, bytes.
    pub avro_bytes: u32,
}

/// Registry subject of a channel's schemas: `<channel>-value` (Confluent TopicNameStrategy).
pub fn subject(channel: &str) -> String {
    format!("{channel}-value")
}

/// What a producer at writer version `schema` writes of its domain object `payload`: the object
/// restricted to the fields `schema` declares (a JSON object; anything else is returned as is,
/// and encoding then refuses it).
pub fn project(schema: &MessageSchema, payload: &Value) -> Value {
    match payload {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| schema.field(k).is_some())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `{n}` substitution in strings, as the engine does for templates.
fn substitute(v: &Value, n: u64) -> Value {
    match v {
        Value::String(s) if s.contains("{n}") => Value::String(s.replace("{n}", &n.to_string())),
        Value::Array(a) => a.iter().map(|x| substitute(x, n)).collect(),
        Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), substitute(x, n)))
            .collect(),
        other => other.clone(),
    }
}

/// One declared version of a channel's message, compiled.
#[derive(Clone, Debug)]
pub(crate) struct VersionEntry {
    pub schema: MessageSchema,
    pub id: SchemaId,
    pub codec: AvroCodec,
    /// `Name@version`.
    pub label: Arc<str>,
    /// The version alone.
    pub version: Arc<str>,
}

/// A reader of a channel, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Reader {
    pub node: usize,
    pub version: usize,
    pub mode: ReaderMode,
}

/// A channel's contract, compiled.
#[derive(Clone, Debug)]
pub(crate) struct ChannelContract {
    pub encoding: Encoding,
    pub registry: Option<usize>,
    pub subject: String,
    pub versions: Vec<VersionEntry>,
    pub readers: Vec<Reader>,
}

impl ChannelContract {
    pub fn version_index(&self, v: &Version) -> Option<usize> {
        self.versions.iter().position(|e| e.schema.version == *v)
    }
    pub fn reader(&self, node: usize) -> Option<&Reader> {
        self.readers.iter().find(|r| r.node == node)
    }
}

/// The contracts of a scenario, compiled (schemas registered, codecs built).
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub registry: SchemaRegistry,
    /// Per scenario channel (same index).
    pub channels: Vec<Option<ChannelContract>>,
    /// Initial writer version per (producer node, channel).
    pub writers: BTreeMap<(usize, usize), usize>,
}

impl Compiled {
    pub fn any(&self) -> bool {
        self.channels.iter().any(Option::is_some)
    }
}

fn invalid(field: String, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field,
        message: message.into(),
    }
}

/// Encodes a producer's message: projection onto `v`, validation, both encodings, size bound.
/// Returns the payload as written (normalized: declared fields, defaults filled) and the encoded
/// message, or the reason it is refused.
pub(crate) fn encode_message(
    v: &VersionEntry,
    encoding: Encoding,
    domain: &Value,
) -> Result<(Value, Encoded), String> {
    let projected = project(&v.schema, domain);
    let json = encode_json(&v.schema, &projected).map_err(|e| e.to_string())?;
    let avro = v.codec.encode(&projected).map_err(|e| e.to_string())?;
    let (json_bytes, avro_bytes) = (json.len(), avro.len());
    let payload = serde_json::from_slice(&json).unwrap_or(projected);
    let bytes = match encoding {
        Encoding::Json => json,
        Encoding::Avro => avro,
    };
    if bytes.len() > limits::MAX_ENCODED_BYTES {
        return Err(format!(
            "encoded size {} bytes ({}) exceeds the {}-byte bound",
            bytes.len(),
            encoding.as_str(),
            limits::MAX_ENCODED_BYTES
        ));
    }
    Ok((
        payload,
        Encoded {
            schema: v.schema.name.clone(),
            version: v.schema.version.clone(),
            schema_id: v.id,
            encoding,
            bytes,
            json_bytes: json_bytes as u32,
            avro_bytes: avro_bytes as u32,
        },
    ))
}

/// Checks a producer's template payload against a writer version (first tick, `{n}` = 1).
pub(crate) fn check_template(
    v: &VersionEntry,
    encoding: Encoding,
    payload: &Value,
) -> Result<(), String> {
    encode_message(v, encoding, &substitute(payload, 1)).map(|_| ())
}

/// Validates the contracts of a scenario whose topology is already valid.
pub(crate) fn validate(s: &Scenario) -> Result<(), ScenarioError> {
    compile(s).map(|_| ())
}

/// Compiles (and so validates) the contracts of a scenario whose topology is already valid.
pub(crate) fn compile(s: &Scenario) -> Result<Compiled, ScenarioError> {
    for (i, n) in s.nodes.iter().enumerate() {
        if n.kind == NodeKind::SchemaRegistry && n.instances != 1 {
            return Err(invalid(
                format!("nodes[{i}].instances"),
                "a schema registry has exactly one instance",
            ));
        }
    }
    if s.policies.schema_lookup_timeout_ms == 0 {
        return Err(invalid(
            "policies.schema_lookup_timeout_ms".into(),
            "must be ≥ 1",
        ));
    }
    let linked = |x: &str, y: &str| {
        s.links
            .iter()
            .any(|l| (l.a == x && l.b == y) || (l.a == y && l.b == x))
    };
    let mut registry = SchemaRegistry::new()
        .with_compatibility(CompatibilityLevel::None)
        .with_semver_enforcement(true);
    let mut channels = Vec::with_capacity(s.channels.len());
    for (i, c) in s.channels.iter().enumerate() {
        let at = |f: &str| format!("channels[{i}].{f}");
        if c.schemas.is_empty() {
            let extra = [
                (!c.encoding.is_json(), "encoding"),
                (c.registry.is_some(), "registry"),
                (!c.readers.is_empty(), "readers"),
            ];
            if let Some((_, f)) = extra.iter().find(|(set, _)| *set) {
                return Err(invalid(at(f), "the channel declares no schemas"));
            }
            channels.push(None);
            continue;
        }
        if c.schemas.len() > limits::MAX_SCHEMA_VERSIONS {
            return Err(ScenarioError::TooLarge {
                what: "schema versions of one channel",
                got: c.schemas.len() as u64,
                max: limits::MAX_SCHEMA_VERSIONS as u64,
            });
        }
        let subject = subject(&c.name);
        let name = &c.schemas[0].name;
        let mut versions = Vec::with_capacity(c.schemas.len());
        for (j, schema) in c.schemas.iter().enumerate() {
            let field = format!("channels[{i}].schemas[{j}]");
            schema
                .check()
                .map_err(|e| invalid(field.clone(), e.to_string()))?;
            if schema.name != *name {
                return Err(invalid(
                    format!("{field}.name"),
                    format!(
                        "a channel carries versions of one message: expected `{name}`, found `{}`",
                        schema.name
                    ),
                ));
            }
            let id = registry
                .register(&subject, schema.clone())
                .map_err(|e| invalid(field.clone(), e.to_string()))?;
            if versions
                .iter()
                .any(|v: &VersionEntry| v.id == id || v.schema.version == schema.version)
            {
                return Err(invalid(
                    field,
                    format!("version {} is declared twice", schema.version),
                ));
            }
            let codec = AvroCodec::new(schema.clone())
                .map_err(|e| invalid(field.clone(), e.to_string()))?;
            versions.push(VersionEntry {
                schema: schema.clone(),
                id,
                codec,
                label: Arc::from(format!("{}@{}", schema.name, schema.version).as_str()),
                version: Arc::from(schema.version.to_string().as_str()),
            });
        }
        let registry_node = match &c.registry {
            None => None,
            Some(r) => {
                let Some(k) = s.node_index(r) else {
                    return Err(ScenarioError::UnknownName {
                        field: at("registry"),
                        name: r.clone(),
                    });
                };
                if s.nodes[k].kind != NodeKind::SchemaRegistry {
                    return Err(invalid(
                        at("registry"),
                        format!("`{r}` is not a schema_registry"),
                    ));
                }
                if c.encoding == Encoding::Avro {
                    for (j, consumer) in c.consumers.iter().enumerate() {
                        if !linked(consumer, r) {
                            return Err(invalid(
                                format!("channels[{i}].consumers[{j}]"),
                                format!(
                                    "no link between `{consumer}` and schema registry `{r}` (an Avro consumer looks writer schemas up there)"
                                ),
                            ));
                        }
                    }
                }
                Some(k)
            }
        };
        for name in c.readers.keys() {
            if !c.consumers.contains(name) {
                return Err(invalid(
                    format!("channels[{i}].readers.{name}"),
                    format!("`{name}` is not a consumer of this channel"),
                ));
            }
        }
        let mut readers = Vec::with_capacity(c.consumers.len());
        for consumer in &c.consumers {
            let Some(spec) = c.readers.get(consumer) else {
                return Err(invalid(
                    at("readers"),
                    format!(
                        "consumer `{consumer}` declares no reader (API first: each consumer names the version it reads)"
                    ),
                ));
            };
            let Some(version) = versions
                .iter()
                .position(|v| v.schema.version == spec.version)
            else {
                return Err(invalid(
                    format!("channels[{i}].readers.{consumer}.version"),
                    format!("version {} is not declared by the channel", spec.version),
                ));
            };
            readers.push(Reader {
                node: s.node_index(consumer).unwrap_or(0),
                version,
                mode: spec.mode,
            });
        }
        channels.push(Some(ChannelContract {
            encoding: c.encoding,
            registry: registry_node,
            subject,
            versions,
            readers,
        }));
    }
    let mut writers = BTreeMap::new();
    for (i, w) in s.workloads.iter().enumerate() {
        let node = s.node_index(&w.from).unwrap_or(0);
        for (j, m) in w.messages.iter().enumerate() {
            let at = |f: &str| format!("workloads[{i}].messages[{j}].{f}");
            let ci = s
                .channels
                .iter()
                .position(|c| c.name == m.channel)
                .unwrap_or(0);
            let Some(Some(contract)) = channels.get(ci) else {
                if m.schema_version.is_some() {
                    return Err(invalid(
                        at("schema_version"),
                        format!("channel `{}` declares no schemas", m.channel),
                    ));
                }
                continue;
            };
            let Some(version) = &m.schema_version else {
                return Err(invalid(
                    at("schema_version"),
                    format!(
                        "channel `{}` declares schemas: name the version this producer writes",
                        m.channel
                    ),
                ));
            };
            let Some(vi) = contract.version_index(version) else {
                return Err(invalid(
                    at("schema_version"),
                    format!(
                        "version {version} is not declared by channel `{}`",
                        m.channel
                    ),
                ));
            };
            let entry = &contract.versions[vi];
            if m.type_name != entry.schema.name {
                return Err(invalid(
                    at("type"),
                    format!(
                        "channel `{}` carries `{}`, not `{}`",
                        m.channel, entry.schema.name, m.type_name
                    ),
                ));
            }
            if let Value::Object(o) = &m.payload {
                if let Some(k) = o.keys().find(|k| {
                    !contract
                        .versions
                        .iter()
                        .any(|v| v.schema.field(k).is_some())
                }) {
                    return Err(invalid(
                        at("payload"),
                        format!(
                            "field `{k}` is declared by no version of `{}`",
                            entry.schema.name
                        ),
                    ));
                }
            }
            check_template(entry, contract.encoding, &m.payload).map_err(|r| {
                invalid(
                    at("payload"),
                    format!("not a valid `{}` message: {r}", entry.label),
                )
            })?;
            match writers.insert((node, ci), vi) {
                Some(prev) if prev != vi => {
                    return Err(invalid(
                        at("schema_version"),
                        format!(
                            "`{}` already writes version {} to `{}`: one writer version per producer and channel",
                            w.from, contract.versions[prev].schema.version, m.channel
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(Compiled {
        registry,
        channels,
        writers,
    })
}

/// Replaces characters not allowed in AsyncAPI/OpenAPI component keys by `_`.
#[cfg(feature = "export")]
fn key(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// AsyncAPI 3.0 document of a scenario with the message version `chosen[c]` for channel `c`
/// (channels with `None` are left out). `Ok(None)` when no channel is chosen.
#[cfg(feature = "export")]
pub(crate) fn asyncapi_for(
    s: &Scenario,
    chosen: &[Option<&MessageSchema>],
) -> Result<Option<Value>, SchemaError> {
    let mut schemas: Vec<MessageSchema> = Vec::new();
    let mut channels = Vec::new();
    let mut operations = Vec::new();
    let mut op_ids = BTreeSet::new();
    for (c, schema) in s.channels.iter().zip(chosen) {
        let Some(schema) = schema else { continue };
        if !schemas.contains(schema) {
            schemas.push((*schema).clone());
        }
        let versions: Vec<String> = c.schemas.iter().map(|v| v.version.to_string()).collect();
        let readers: Vec<String> = c
            .readers
            .iter()
            .map(|(n, r)| {
                let mode = match r.mode {
                    ReaderMode::Tolerant => "tolerant",
                    ReaderMode::Strict => "strict",
                };
                format!("{n} reads {} ({mode})", r.version)
            })
            .collect();
        let id = key(&c.name);
        channels.push(ApiChannel {
            id: id.clone(),
            address: c.name.clone(),
            messages: vec![schema.name.clone()],
            description: format!(
                "{} {:?} on broker `{}`, {} encoding, registry subject `{}`; declared versions {}; {}.",
                match c.kind {
                    crate::scenario::ChannelKind::Topic => "Topic",
                    crate::scenario::ChannelKind::Queue => "Queue",
                    crate::scenario::ChannelKind::Direct => "Direct channel",
                    crate::scenario::ChannelKind::PartitionedTopic => "Partitioned topic",
                },
                c.name,
                c.broker,
                c.encoding.as_str(),
                subject(&c.name),
                versions.join(", "),
                readers.join(", ")
            ),
        });
        for w in &s.workloads {
            if w.messages.iter().any(|m| m.channel == c.name) {
                let op = format!("{}.send.{}", key(&w.from), id);
                if op_ids.insert(op.clone()) {
                    operations.push(OperationSpec {
                        id: op,
                        action: Action::Send,
                        channel: id.clone(),
                        messages: Vec::new(),
                        description: format!("`{}` publishes to `{}`", w.from, c.name),
                    });
                }
            }
        }
        for consumer in &c.consumers {
            let op = format!("{}.receive.{}", key(consumer), id);
            if op_ids.insert(op.clone()) {
                operations.push(OperationSpec {
                    id: op,
                    action: Action::Receive,
                    channel: id.clone(),
                    messages: Vec::new(),
                    description: format!("`{consumer}` consumes `{}`", c.name),
                });
            }
        }
    }
    if channels.is_empty() {
        return Ok(None);
    }
    let version = schemas
        .iter()
        .map(|s| &s.version)
        .max_by(|a, b| a.cmp_precedence(b))
        .map(ToString::to_string)
        .unwrap_or_else(|| "1.0.0".into());
    let info = ApiInfo {
        title: if s.title.is_empty() {
            s.name.clone()
        } else {
            s.title.clone()
        },
        version,
        description: s.description.clone(),
    };
    asyncapi_document(&info, &schemas, &channels, &operations).map(Some)
}

/// The AsyncAPI and OpenAPI exports of a scenario (feature `export`, on by default).
#[cfg(feature = "export")]
impl Scenario {
    /// The scenario's channels and message schemas as an AsyncAPI 3.0.0 document (valid against
    /// the published AsyncAPI 3.0.0 JSON Schema; tested): one channel per channel with schemas
    /// (address = channel name) carrying its **latest declared** version, a `send` operation per
    /// producing service and a `receive` operation per consumer, the message payloads as JSON
    /// Schema. `info.version` is the greatest exported message version. The channel description
    /// names the encoding, subject, declared versions and readers.
    ///
    /// `Ok(None)` when no channel declares schemas. Errors ([`SchemaError::InvalidApi`]): two
    /// channels carry different definitions under one message name.
    pub fn asyncapi_document(&self) -> Result<Option<Value>, SchemaError> {
        let chosen: Vec<Option<&MessageSchema>> =
            self.channels.iter().map(|c| c.schemas.last()).collect();
        asyncapi_for(self, &chosen)
    }

    /// The scenario's REST endpoints as an OpenAPI 3.1.0 document, or `Ok(None)` when it has none
    /// (`endpoints` empty). Scenarios declare no REST endpoints yet: callers pass the endpoint
    /// specs and the [`MessageSchema`]s of their request and response bodies. `info` is the
    /// scenario's title (or name) and version `1.0.0`.
    ///
    /// Errors: those of [`crate::schema::openapi_document`].
    pub fn openapi_document(
        &self,
        endpoints: &[RestEndpoint],
        schemas: &[MessageSchema],
    ) -> Result<Option<Value>, SchemaError> {
        if endpoints.is_empty() {
            return Ok(None);
        }
        let info = ApiInfo {
            title: if self.title.is_empty() {
                self.name.clone()
            } else {
                self.title.clone()
            },
            version: "1.0.0".into(),
            description: self.description.clone(),
        };
        openapi_document(&info, schemas, endpoints).map(Some)
    }
}
