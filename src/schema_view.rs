//! Plain data about the API contracts of a run, for drawing and inspecting: the
//! [`SchemaSnapshot`] in [`crate::Snapshot::schemas`], the [`WireSummary`] of a message on the
//! wire ([`crate::snapshot::TransitView::wire`]) and the [`MessageInspection`] of one message
//! ([`crate::Simulation::inspect_message`]).
//!
//! Sizes are in bytes, times are virtual ([`SimTime`], µs). Semantics sources: Avro 1.11
//! specification ("Binary Encoding", "Schema Resolution"), Semantic Versioning 2.0.0, Confluent
//! Schema Registry (subjects, ids, BACKWARD/FORWARD/FULL), the robustness principle (tolerant
//! reader).

use crate::contract::Encoding;
use crate::message::{Headers, MessageId, MessageKind};
use crate::schema::{ChangeClass, MessageSchema, ReaderMode};
use crate::time::SimTime;
use serde::Serialize;

/// Bounds of what the schema part of a run keeps (counts go on beyond them).
pub mod bounds {
    /// Recent decodes kept per consuming service ([`super::ServiceDecodes::decodes`]).
    pub const MAX_RECENT_DECODES: usize = 64;
    /// Dead letters with reasons kept ([`super::SchemaSnapshot::dead_letters`]).
    pub const MAX_DEAD_LETTERS: usize = 1_000;
    /// Producer rejections kept ([`super::SchemaSnapshot::producer_rejections`]).
    pub const MAX_PRODUCER_REJECTIONS: usize = 256;
    /// Recent messages with schemas kept for [`crate::Simulation::inspect_message`] (messages
    /// still on the wire or in a queue are always inspectable).
    pub const MAX_RECENT_MESSAGES: usize = 512;
}

/// The schema of a message on the wire, in one line of data (for drawing and labels).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WireSummary {
    /// Writer schema, `Name@version` (e.g. `UserRegistered@1.1.0`).
    pub schema: String,
    /// Writer version (e.g. `1.1.0`).
    pub version: String,
    /// Registry id of the writer schema (the header value).
    pub schema_id: u32,
    /// The channel's encoding.
    pub encoding: Encoding,
    /// Bytes on the wire (in `encoding`).
    pub bytes: u32,
    /// Size of the JSON encoding, bytes.
    pub json_bytes: u32,
    /// Size of the Avro encoding, bytes.
    pub avro_bytes: u32,
}

/// Everything about the API contracts of a run at one virtual time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchemaSnapshot {
    /// Channels with schemas, in scenario order.
    pub channels: Vec<ContractView>,
    /// What each producer writes now, per (service, channel), in scenario order of first template.
    pub producers: Vec<ProducerView>,
    /// Each consumer of each channel with schemas: who reads what and how it went, per writer
    /// version ("which consumers broke on a rollout").
    pub consumers: Vec<ConsumerView>,
    /// The compatibility check, computed before any message flows: one entry per channel,
    /// declared writer version and consumer.
    pub compatibility: Vec<CompatibilityView>,
    /// Schema registry nodes.
    pub registries: Vec<RegistryView>,
    /// Recent decodes per consuming service.
    pub decodes: Vec<ServiceDecodes>,
    /// Messages dead-lettered because of their schema, oldest first (at most
    /// [`bounds::MAX_DEAD_LETTERS`]; `metrics.dead_lettered` counts all).
    pub dead_letters: Vec<DeadLetterView>,
    /// Messages producers refused to send, oldest first (at most
    /// [`bounds::MAX_PRODUCER_REJECTIONS`]; `metrics.produce_rejected` counts all).
    pub producer_rejections: Vec<ProducerRejectionView>,
    /// Counters.
    pub metrics: SchemaMetrics,
}

/// A channel's contract and traffic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContractView {
    /// Channel name.
    pub channel: String,
    /// Wire encoding.
    pub encoding: Encoding,
    /// Registry subject, `<channel>-value`.
    pub subject: String,
    /// The `schema_registry` node holding the schemas, if any.
    pub registry: Option<String>,
    /// Declared versions, oldest first.
    pub versions: Vec<VersionView>,
    /// Messages encoded for this channel.
    pub messages: u64,
    /// Sum of their sizes on the wire (in `encoding`), bytes.
    pub wire_bytes: u64,
    /// Sum of their JSON sizes, bytes.
    pub json_bytes: u64,
    /// Sum of their Avro sizes, bytes.
    pub avro_bytes: u64,
}

/// One declared version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionView {
    /// Semantic version.
    pub version: String,
    /// Registry id.
    pub id: u32,
    /// Class of the change from the previous declared version (`None` for the first one).
    pub change: Option<ChangeClass>,
    /// The changes from the previous version, one description each (e.g. `optional field age
    /// added`).
    pub changes: Vec<String>,
    /// The schema itself.
    pub schema: MessageSchema,
}

/// What a producer writes on a channel now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerView {
    /// Producing service.
    pub node: String,
    /// Channel.
    pub channel: String,
    /// Writer version now.
    pub version: String,
    /// Its registry id.
    pub schema_id: u32,
}

/// Accepted and rejected deliveries of one writer version at one consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WriterCounts {
    /// Writer version.
    pub version: String,
    /// Deliveries decoded and accepted.
    pub accepted: u64,
    /// Deliveries rejected (dead-lettered with a reason).
    pub rejected: u64,
}

/// A consumer of a channel with schemas.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerView {
    /// Channel.
    pub channel: String,
    /// Consuming service.
    pub consumer: String,
    /// The version it reads.
    pub reader_version: String,
    /// Its reader mode.
    pub mode: ReaderMode,
    /// Per writer version that reached it (ascending version): accepted / rejected.
    pub by_writer: Vec<WriterCounts>,
    /// Total accepted.
    pub accepted: u64,
    /// Total rejected.
    pub rejected: u64,
    /// Deliveries nacked for redelivery because the writer schema could not be looked up.
    pub retried: u64,
    /// The reason of its last rejection, if any.
    pub last_reason: Option<String>,
}

/// Compatibility of one declared writer version with one consumer's reader version, computed
/// from the schemas before any message flows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompatibilityView {
    /// Channel.
    pub channel: String,
    /// Writer (producer) version.
    pub writer_version: String,
    /// Consuming service.
    pub consumer: String,
    /// Its reader version.
    pub reader_version: String,
    /// Its reader mode.
    pub mode: ReaderMode,
    /// Class of the change between the two versions (from the older to the newer by semver
    /// precedence; `patch` when equal).
    pub change: ChangeClass,
    /// Confluent BACKWARD of the newer version over the older (newer reader reads older data).
    pub backward: bool,
    /// Confluent FORWARD (older reader reads newer data).
    pub forward: bool,
    /// Both.
    pub full: bool,
    /// Whether this consumer can read every message of this writer version: Avro 1.11
    /// resolution of writer against reader succeeds, and, for a strict reader, the writer has no
    /// field the reader lacks.
    pub reads: bool,
    /// Why not (empty when `reads`).
    pub reasons: Vec<String>,
}

/// A schema registry node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistryView {
    /// Node name.
    pub node: String,
    /// Schemas it holds: (id, subject, version), by id.
    pub schemas: Vec<RegistryEntryView>,
    /// Lookups it answered.
    pub lookups_served: u64,
}

/// One registry entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryEntryView {
    /// Id.
    pub id: u32,
    /// Subject.
    pub subject: String,
    /// Version.
    pub version: String,
}

/// The recent decodes of one consuming service.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceDecodes {
    /// Service.
    pub node: String,
    /// Oldest first, at most [`bounds::MAX_RECENT_DECODES`].
    pub decodes: Vec<DecodeView>,
}

/// How a consumer decoded one delivery.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecodeView {
    /// When.
    pub at: SimTime,
    /// Message.
    pub msg: MessageId,
    /// Consumer instance.
    pub instance: u32,
    /// Channel.
    pub channel: String,
    /// Writer schema, `Name@version`.
    pub writer: String,
    /// Writer schema id.
    pub schema_id: u32,
    /// Reader version.
    pub reader_version: String,
    /// Reader mode.
    pub mode: ReaderMode,
    /// Encoding of the bytes.
    pub encoding: Encoding,
    /// Delivery attempt.
    pub attempt: u32,
    /// The result.
    #[serde(flatten)]
    pub outcome: DecodeOutcome,
}

/// Result of a decode. JSON: `{"outcome": "accepted", "value": {...}}`,
/// `{"outcome": "rejected", "reason": "..."}`, `{"outcome": "retry", "reason": "..."}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DecodeOutcome {
    /// Decoded with the reader schema: the value the consumer's code sees (reader fields only,
    /// defaults filled).
    Accepted {
        /// The decoded value.
        value: serde_json::Value,
    },
    /// Refused by the reader: nacked without requeue, dead-lettered with this reason.
    Rejected {
        /// E.g. `unknown field age`.
        reason: String,
    },
    /// Not decodable now (the writer schema lookup failed): nacked for redelivery.
    Retry {
        /// E.g. `schema id 2: registry lookup timed out after 200 ms`.
        reason: String,
    },
}

/// A message dead-lettered because of its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadLetterView {
    /// When the broker dead-lettered it.
    pub at: SimTime,
    /// Queue (`channel` or `topic/subscriber`).
    pub queue: String,
    /// The consumer that refused it.
    pub consumer: String,
    /// Message.
    pub msg: MessageId,
    /// Writer schema, `Name@version`.
    pub writer: String,
    /// Deliveries it had.
    pub attempts: u32,
    /// Why, e.g. `unknown field age`.
    pub reason: String,
}

/// A message its producer refused to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerRejectionView {
    /// When.
    pub at: SimTime,
    /// Producer.
    pub node: String,
    /// Channel.
    pub channel: String,
    /// Message id it would have had.
    pub msg: MessageId,
    /// Writer schema, `Name@version`.
    pub writer: String,
    /// Why.
    pub reason: String,
}

/// Run-wide schema counters (totals since the start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SchemaMetrics {
    /// Messages encoded by producers.
    pub encoded: u64,
    /// Messages producers refused (invalid payload or too large).
    pub produce_rejected: u64,
    /// Deliveries decoded and accepted.
    pub accepted: u64,
    /// Deliveries rejected by a reader.
    pub rejected: u64,
    /// Schema lookups sent to registries (round trips started).
    pub lookups: u64,
    /// Lookup replies that arrived in time (the schema was cached).
    pub lookup_replies: u64,
    /// Lookups that timed out.
    pub lookup_timeouts: u64,
    /// Decodes whose writer schema was already in the instance's cache.
    pub cache_hits: u64,
    /// Nacks sent (with or without requeue).
    pub nacks: u64,
}

/// Everything about one message with a schema, for an inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageInspection {
    /// Message id.
    pub msg: MessageId,
    /// Command, event, document or reply.
    pub kind: MessageKind,
    /// Type name.
    pub type_name: String,
    /// Channel.
    pub channel: String,
    /// Headers (`schema_id` included).
    pub headers: Headers,
    /// The payload as written (writer fields, defaults filled).
    pub payload: serde_json::Value,
    /// The writer schema.
    pub schema: MessageSchema,
    /// Writer schema id.
    pub schema_id: u32,
    /// The channel's encoding (what is on the wire).
    pub encoding: Encoding,
    /// Bytes on the wire.
    pub wire_bytes: u32,
    /// The JSON encoding as text.
    pub json_text: String,
    /// The JSON encoding, hex (`7b 22 ...`, [`crate::schema::hex`]).
    pub json_hex: String,
    /// The Avro encoding, hex.
    pub avro_hex: String,
    /// Size of the JSON encoding, bytes.
    pub json_bytes: u32,
    /// Size of the Avro encoding, bytes.
    pub avro_bytes: u32,
    /// Hex dump of the bytes on the wire ([`crate::schema::hex_dump`]).
    pub wire_dump: String,
    /// How consumers decoded it (from the recent decodes still kept), oldest first.
    pub decodes: Vec<(String, DecodeView)>,
}
