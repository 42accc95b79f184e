//! Scenarios are data: a JSON document that names the nodes, links, channels, workloads, policies
//! and a fault schedule of one run. See `README.md` ("Scenario format") for an annotated example.
//!
//! Every field has a default where one makes sense, unknown fields are rejected (so a typo is an
//! error, not a silently ignored setting), and [`Scenario::validate`] checks references and limits
//! before a simulation is built from it.

use crate::command::Command;
use crate::error::ScenarioError;
use crate::message::MessageKind;
use crate::network::LinkFaults;
use crate::ranges;
use crate::sync::{
    ApiSpec, CallWorkloadSpec, DependencySpec, RegistrarSpec, RegistrationSpec, RouterSpec,
};
use serde::{Deserialize, Serialize};

mod partitioned;
pub mod script;
pub use partitioned::{
    Assignment, ConsumerGroupSpec, Delivery, OffsetResetSpec, ProducerSpec, MAX_SETTING_MS,
    MAX_TOPIC_PARTITIONS,
};

/// Limits on a scenario's size, so that a scenario file cannot make the engine or the page grow
/// without bound.
pub mod limits {
    /// Maximum number of nodes (services and brokers).
    pub const MAX_NODES: usize = 64;
    /// Maximum instances of one service.
    pub const MAX_INSTANCES: u32 = 16;
    /// Maximum number of links.
    pub const MAX_LINKS: usize = 256;
    /// Maximum number of channels (topics and queues).
    pub const MAX_CHANNELS: usize = 64;
    /// Maximum number of workload generators.
    pub const MAX_WORKLOADS: usize = 64;
    /// Maximum scheduled faults.
    pub const MAX_FAULTS: usize = 1_024;
    /// Maximum messages one workload generator may send (its `count`).
    pub const MAX_WORKLOAD_COUNT: u64 = 10_000_000;
    /// Maximum bytes of a scenario JSON document.
    pub const MAX_SCENARIO_BYTES: usize = 1 << 20;
    /// Maximum `policies.prefetch`.
    pub const MAX_PREFETCH: u64 = 10_000;
    /// Maximum `policies.max_delivery_attempts` and `policies.publish_max_attempts`.
    pub const MAX_ATTEMPTS: u64 = 1_000_000;
    /// Maximum `policies.max_queue_length` and `policies.max_inbox` (messages).
    pub const MAX_BUFFER: u64 = 1_000_000;
    /// Largest absolute canvas coordinate of `nodes[].pos`.
    pub const MAX_POS: f64 = 1_000_000.0;
}

/// A complete scenario: what exists and what happens. Serde JSON, `deny_unknown_fields`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short machine name, used in URLs (`?scenario=order-events`). Lowercase, digits and `-`.
    pub name: String,
    /// One-line human title.
    #[serde(default)]
    pub title: String,
    /// What the scenario shows and what to try; shown beside the canvas.
    #[serde(default)]
    pub description: String,
    /// Gallery section of the reference this scenario belongs to (e.g. "Asynchronous messaging").
    #[serde(default)]
    pub section: String,
    /// Default seed when none is given (URL or API). Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Services and brokers.
    pub nodes: Vec<NodeSpec>,
    /// Network links between nodes. Messages only travel over declared links.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Topics and queues hosted by brokers.
    #[serde(default)]
    pub channels: Vec<ChannelSpec>,
    /// Who sends what, how often.
    #[serde(default)]
    pub workloads: Vec<WorkloadSpec>,
    /// Delivery and publishing policies.
    #[serde(default)]
    pub policies: Policies,
    /// Faults applied at given virtual times.
    #[serde(default)]
    pub faults: Vec<ScheduledFault>,
    /// Service databases, message relays, replicas and handlers (transactional messaging).
    /// Default: none.
    #[serde(
        default,
        skip_serializing_if = "crate::outbox::TransactionalSpec::is_empty"
    )]
    pub transactional: crate::outbox::TransactionalSpec,
    /// Synchronous dependencies (client service -> service): Resilience4j policies, fallback,
    /// discovery, HTTP timeout. See [`crate::sync`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencySpec>,
    /// Call workloads: business operations that call services synchronously (REST).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallWorkloadSpec>,
    /// REST APIs of services (one per service: endpoints, workers, queue, resources), as their
    /// RPI server adapters expose them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<ApiSpec>,
    /// How services' instances get into a service registry (one per service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registrations: Vec<RegistrationSpec>,
    /// Settings of `router` nodes (one per router node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<RouterSpec>,
    /// Settings of `registrar` nodes (optional; defaults as [`RegistrarSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registrars: Vec<RegistrarSpec>,
    /// Periodic background work (registry heartbeats, registrar probes) is not scheduled after
    /// this virtual time, so a run with discovery ends. ms, default 60 000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_ms: Option<u64>,
    /// The guarantees this scenario claims, checked live from its trace (the Invariants panel;
    /// see [`crate::invariants`]). At most [`crate::invariants::MAX_CLAIMS`], no claim twice.
    /// Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<crate::invariants::ClaimSpec>,
    /// "What to try": experiments a reader applies with one click, each with what to look for
    /// and a machine-checkable expectation (see [`crate::experiment`]). At most
    /// [`crate::experiment::MAX_EXPERIMENTS`]. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<crate::experiment::Experiment>,
}

fn default_seed() -> u64 {
    1
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An application service with one or more instances.
    Service,
    /// A message broker hosting topics and queues.
    Broker,
    /// A message relay (Eventuate Tram CDC, Debezium): publishes the OUTBOX of one service to the
    /// broker. Configured in `transactional.relays`; one instance.
    Relay,
    /// A service registry: a database of instances' network locations (host, port, metadata)
    /// with leases that expire after a TTL unless renewed (Eureka, Consul). One instance.
    Registry,
    /// A platform router in front of a service's instances, as a Kubernetes Service
    /// (platform-level discovery). One instance; configured by `router`.
    Router,
    /// A third-party registrar: health-checks instances and registers them in a registry
    /// (Kubernetes, Registrator). One instance; configured by `registrar`.
    Registrar,
    /// A schema registry (Confluent Schema Registry style): holds the message schemas of the
    /// channels that name it, with ids; consumers look a writer schema up by the id in a message's
    /// headers (one network round trip per new id, then cached). Exactly one instance. See
    /// [`crate::contract`].
    SchemaRegistry,
}

/// How a receiving service handles a message it has already processed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateHandling {
    /// Every delivery applies its effect: a duplicate doubles it.
    #[default]
    Naive,
    /// Deduplication by message id: a processed-messages table (shared by all instances of the
    /// service, written in the same local transaction as the effect) discards repeats.
    Dedup,
    /// Idempotent operation (e.g. set-status): the handler sets the state of the message's key
    /// (its message id when it has none); applying it twice has the same effect as once, so the
    /// effect count is the number of distinct keys set.
    Idempotent,
}

/// A node of the topology.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique node name (`order`, `broker`).
    pub name: String,
    /// Service or broker.
    pub kind: NodeKind,
    /// Number of instances (services only). Default 1, at most [`limits::MAX_INSTANCES`].
    #[serde(default = "one")]
    pub instances: u32,
    /// Time one instance needs to handle one delivered message, in ms. Default 10 ms.
    #[serde(default = "default_processing_ms")]
    pub processing_ms: u64,
    /// Duplicate handling of this receiver. Default `naive`.
    #[serde(default)]
    pub duplicates: DuplicateHandling,
    /// Human label of the effect a processed message has (e.g. "tickets cooked").
    #[serde(default)]
    pub effect: String,
    /// Position on the canvas, in a 1000 × 600 coordinate box. Default: laid out automatically.
    #[serde(default)]
    pub pos: Option<[f64; 2]>,
}

fn one() -> u32 {
    1
}
fn default_processing_ms() -> u64 {
    10
}

/// A bidirectional network link between two nodes. Each direction has its own faults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// One end (node name).
    pub a: String,
    /// The other end (node name).
    pub b: String,
    /// Initial faults of both directions (latency, jitter, loss...). Default: 1 ms latency, no
    /// faults.
    #[serde(flatten)]
    pub faults: LinkFaults,
}

/// A channel on a broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// Unique channel name.
    pub name: String,
    /// Topic (publish/subscribe) or queue (point-to-point).
    pub kind: ChannelKind,
    /// The broker node hosting it. Required for a topic or a queue; absent for a `direct`
    /// (brokerless) channel.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub broker: String,
    /// Consuming services. A topic gives each subscriber its own subscription (a copy of every
    /// message); a queue has its consumers compete (each message goes to one instance); a
    /// partitioned topic gives each consumer a consumer group whose instances share the
    /// partitions.
    #[serde(default)]
    pub consumers: Vec<String>,
    /// Durable (the default): the broker keeps the channel's buffered messages across a broker
    /// crash (AMQP durable queue with persistent messages). Non-durable (transient): a broker
    /// crash loses every message buffered in its queues, ready or unacked.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub durable: bool,
    /// Broker-side duplicate detection, ms: a publish whose message id the broker has seen on this
    /// channel within this window is confirmed but not enqueued (NATS JetStream
    /// `duplicate_window`, SQS FIFO deduplication interval, Azure Service Bus duplicate
    /// detection history). The window runs from the first time an id is seen. Default 0: off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dedup_window_ms: u64,
    /// Probability that a consumer's handler fails on a delivery of this channel, percent 0–100.
    /// A failed handler applies no effect and rejects the delivery (AMQP `basic.nack`), see
    /// `on_failure`. Default 0.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub failure_percent: f64,
    /// What a consumer asks the broker to do with a delivery its handler failed on: `requeue`
    /// (nack with requeue: redelivered, counting towards `max_delivery_attempts`) or
    /// `dead_letter` (nack without requeue: straight to the dead-letter queue, reason
    /// `rejected`). Default `requeue`.
    #[serde(default, skip_serializing_if = "NackAction::is_requeue")]
    pub on_failure: NackAction,
    /// API first: the message schemas this channel carries, every version of one message (one
    /// registry subject `<channel>-value` per channel), oldest first. Empty (the default): the
    /// channel carries free JSON as before. See [`crate::contract`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<crate::schema::MessageSchema>,
    /// Wire encoding of a channel with schemas: `json` (default) or `avro`.
    #[serde(default, skip_serializing_if = "crate::contract::Encoding::is_json")]
    pub encoding: crate::contract::Encoding,
    /// The `schema_registry` node that holds this channel's schemas. With Avro, consumers look the
    /// writer schema up there by id (a network round trip per new id). None: consumers know every
    /// declared version locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Per consuming service: the schema version it reads and its reader mode (required for each
    /// consumer of a channel with schemas).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub readers: std::collections::BTreeMap<String, crate::contract::ReaderSpec>,
    /// Partitioned topics only: number of partitions, 1 to [`MAX_TOPIC_PARTITIONS`]. A keyed
    /// message goes to partition `murmur2(key) % partitions` (Kafka's default partitioner).
    /// Default 1.
    #[serde(
        default = "partitioned::default_partitions",
        skip_serializing_if = "partitioned::is_default_partitions"
    )]
    pub partitions: u32,
    /// Partitioned topics only: records kept per partition (older ones are deleted and the
    /// log-start offset moves; msgsim's stand-in for `retention.ms`). Default 10 000.
    #[serde(
        default = "partitioned::default_retention_records",
        skip_serializing_if = "partitioned::is_default_retention"
    )]
    pub retention_records: u64,
    /// Partitioned topics only: settings of the consumer group of some `consumers` (the others
    /// get the defaults of [`ConsumerGroupSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumer_groups: Vec<ConsumerGroupSpec>,
    /// Partitioned topics only: settings of some producing services (the others get the
    /// defaults of [`ProducerSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub producers: Vec<ProducerSpec>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_zero(v: &u64) -> bool {
    *v == 0
}
fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// What a consumer whose handler failed asks the broker to do with the delivery (AMQP
/// `basic.nack` / JMS recover, RabbitMQ dead-lettering with reason `rejected`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NackAction {
    /// Nack with requeue: the broker puts the message back at the head of the queue and
    /// redelivers it (attempt + 1); after `max_delivery_attempts` it is dead-lettered.
    #[default]
    Requeue,
    /// Nack without requeue: the broker moves the message to the dead-letter queue at once.
    DeadLetter,
}

impl NackAction {
    fn is_requeue(&self) -> bool {
        *self == NackAction::Requeue
    }
}

/// Channel kinds (Enterprise Integration Patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Publish/subscribe: every subscription gets every message.
    Topic,
    /// Point-to-point: each message is consumed by one consumer.
    Queue,
    /// Brokerless: the sender sends straight to an instance of the one consumer service over
    /// their link (round robin over its instances). No broker, no buffer, no ack, no retry: a
    /// message to a crashed or unreachable receiver is lost.
    Direct,
    /// A Kafka-style partitioned log: keyed messages are appended to partitions, each consuming
    /// service is a consumer group whose instances share the partitions, and consumers track
    /// committed offsets (see `ChannelSpec::partitions` and the module `crate::log`).
    PartitionedTopic,
}

/// A workload generator: a service that sends messages periodically.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The sending service.
    pub from: String,
    /// First send, ms after start. Default 0.
    #[serde(default)]
    pub start_ms: u64,
    /// Interval between sends, ms, 1 ms–24 h. Default 1 000 (only used when `count` > 0).
    #[serde(default = "default_every_ms")]
    pub every_ms: u64,
    /// Random ± variation of the interval, ms. Default 0.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Number of sends; at most [`limits::MAX_WORKLOAD_COUNT`]. Default 0 (a workload with
    /// only a `script`).
    #[serde(default)]
    pub count: u64,
    /// Messages sent at each tick (one per entry). `{n}` in `key` or string payload values is
    /// replaced by the tick number, starting at 1. Default none.
    #[serde(default)]
    pub messages: Vec<MessageTemplate>,
    /// Chosen one-way messages at chosen virtual times, sent by the workload's service (round
    /// robin over its running instances, as ticks; skipped and counted when none runs): see
    /// [`script::ScriptedMessage`]. At most [`script::MAX_SCRIPT`] entries. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<script::ScriptedMessage>,
    /// Instead of `messages` (then `[]`): a business change in a local transaction, a replica
    /// query or a client request, per tick. Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<crate::outbox::OperationSpec>,
}

fn default_every_ms() -> u64 {
    1_000
}

/// One message a workload sends per tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    /// Channel to send to.
    pub channel: String,
    /// Command, event, document or reply.
    pub kind: MessageKind,
    /// Message type name, e.g. `OrderCreated`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Message key (e.g. `order-{n}`), carried in the headers. Default none.
    #[serde(default)]
    pub key: Option<String>,
    /// Payload (any JSON); `{n}` in strings is substituted.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Makes the message a request: the name of the reply channel (a queue or a direct channel
    /// consumed by the sender) carried in the `reply_to` header. Every responder answers on it
    /// with a reply whose `correlation_id` is this message's id. Default none (one-way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Request/async response: the requester's timeout per request, ms. The first reply in time
    /// completes the request; a reply after the timeout is discarded and counted as late, never
    /// handed to another request. Exactly one of `reply_timeout_ms` and `collect_ms` goes with
    /// `reply_to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_timeout_ms: Option<u64>,
    /// Publish/async responses: the requester collects replies for this window, ms, then decides
    /// with the replies it has (recorded with their number); later replies are late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_ms: Option<u64>,
    /// Type name of the replies (e.g. `ConsumerVerified`). Default: this type + `Reply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_type: Option<String>,
    /// On a channel with schemas: the schema version this producer writes (e.g. `"1.1.0"`); the
    /// payload is projected onto that version's fields, validated and encoded. Required there,
    /// refused elsewhere. Changed at run time by `set_schema_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<semver::Version>,
}

/// Delivery and publishing policies; defaults are stated per field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policies {
    /// A delivery not acked within this time is redelivered (as an SQS visibility timeout or a
    /// RabbitMQ consumer timeout). ms, default 500.
    pub ack_timeout_ms: u64,
    /// Maximum unacked deliveries per consumer instance (AMQP prefetch). Default 1.
    pub prefetch: u32,
    /// Deliveries of one message before it is moved to the dead-letter queue. Default 10.
    pub max_delivery_attempts: u32,
    /// A publish not confirmed by the broker within this time is retried. ms, default 300.
    pub publish_timeout_ms: u64,
    /// Attempts of one publish, the first included, before the producer gives up. Default 5.
    pub publish_max_attempts: u32,
    /// Maximum messages buffered in one queue or subscription; a publish beyond it is dropped and
    /// counted. Default 10 000.
    pub max_queue_length: u32,
    /// Maximum messages waiting in one service instance's inbox. Default 1 000.
    pub max_inbox: u32,
    /// Broker capacity: time a broker's single worker needs for each packet it receives
    /// (publish, ack, nack), µs. Packets that arrive while it is busy wait in its backlog (FIFO),
    /// so a broker fed faster than `1 / service time` becomes the bottleneck. Default 0: no
    /// service time, packets are handled on arrival.
    #[serde(skip_serializing_if = "is_zero")]
    pub broker_service_time_us: u64,
    /// A consumer's schema lookup (to a `schema_registry` node) not answered within this time
    /// fails: the consumer nacks the delivery for redelivery. ms, default 200.
    #[serde(skip_serializing_if = "crate::contract::is_default_lookup_timeout")]
    pub schema_lookup_timeout_ms: u64,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            ack_timeout_ms: 500,
            prefetch: 1,
            max_delivery_attempts: 10,
            publish_timeout_ms: 300,
            publish_max_attempts: 5,
            max_queue_length: 10_000,
            max_inbox: 1_000,
            broker_service_time_us: 0,
            schema_lookup_timeout_ms: crate::contract::DEFAULT_LOOKUP_TIMEOUT_MS,
        }
    }
}

/// A command applied at a virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// When, ms after start.
    pub at_ms: u64,
    /// What.
    pub command: Command,
}

impl Scenario {
    /// Parses a scenario from JSON and validates it. Errors name the line and column (syntax) or the
    /// field (semantics).
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > limits::MAX_SCENARIO_BYTES {
            return Err(ScenarioError::TooLarge {
                what: "scenario document (bytes)",
                got: text.len() as u64,
                max: limits::MAX_SCENARIO_BYTES as u64,
            });
        }
        let scenario: Scenario = serde_json::from_str(text).map_err(|e| {
            // serde_json appends " at line L column C"; the error carries those separately.
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            ScenarioError::Parse {
                line: e.line(),
                column: e.column(),
                message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
            }
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Serializes to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Index of the node named `name`.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Checks names, references and limits.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        use ScenarioError::*;
        let too = |what: &'static str, got: usize, max: usize| {
            if got > max {
                Err(TooLarge {
                    what,
                    got: got as u64,
                    max: max as u64,
                })
            } else {
                Ok(())
            }
        };
        too("nodes", self.nodes.len(), limits::MAX_NODES)?;
        too("links", self.links.len(), limits::MAX_LINKS)?;
        too("channels", self.channels.len(), limits::MAX_CHANNELS)?;
        too("workloads", self.workloads.len(), limits::MAX_WORKLOADS)?;
        too("faults", self.faults.len(), limits::MAX_FAULTS)?;
        if self.nodes.is_empty() {
            return Err(Invalid {
                field: "nodes".into(),
                message: "a scenario needs at least one node".into(),
            });
        }
        ranges::name("name", &self.name, ranges::MAX_NAME)?;
        for (i, n) in self.nodes.iter().enumerate() {
            ranges::name(format!("nodes[{i}].name"), &n.name, ranges::MAX_NODE_NAME)?;
            if self.nodes[..i].iter().any(|m| m.name == n.name) {
                return Err(Invalid {
                    field: format!("nodes[{i}].name"),
                    message: format!("duplicate node name `{}`", n.name),
                });
            }
            ranges::int(
                format!("nodes[{i}].instances"),
                n.instances.into(),
                1,
                limits::MAX_INSTANCES.into(),
                "",
            )?;
            ranges::ms(format!("nodes[{i}].processing_ms"), n.processing_ms, 0)?;
            if n.kind == NodeKind::Broker && n.instances != 1 {
                return Err(Invalid {
                    field: format!("nodes[{i}].instances"),
                    message: "a broker has exactly one instance".into(),
                });
            }
            if let Some([x, y]) = n.pos {
                ranges::finite(format!("nodes[{i}].pos[0]"), x, limits::MAX_POS)?;
                ranges::finite(format!("nodes[{i}].pos[1]"), y, limits::MAX_POS)?;
            }
        }
        let node = |field: String, name: &str| -> Result<usize, ScenarioError> {
            self.node_index(name).ok_or_else(|| UnknownName {
                field,
                name: name.to_string(),
            })
        };
        for (i, l) in self.links.iter().enumerate() {
            let a = node(format!("links[{i}].a"), &l.a)?;
            let b = node(format!("links[{i}].b"), &l.b)?;
            if a == b {
                return Err(Invalid {
                    field: format!("links[{i}]"),
                    message: "a link joins two different nodes".into(),
                });
            }
            if self.links[..i]
                .iter()
                .any(|m| (m.a == l.a && m.b == l.b) || (m.a == l.b && m.b == l.a))
            {
                return Err(Invalid {
                    field: format!("links[{i}]"),
                    message: format!("duplicate link {} <-> {}", l.a, l.b),
                });
            }
            l.faults.validate(&format!("links[{i}]"))?;
        }
        let linked = |x: &str, y: &str| {
            self.links
                .iter()
                .any(|l| (l.a == x && l.b == y) || (l.a == y && l.b == x))
        };
        for (i, c) in self.channels.iter().enumerate() {
            ranges::name(format!("channels[{i}].name"), &c.name, ranges::MAX_NAME)?;
            if self.channels[..i].iter().any(|m| m.name == c.name) {
                return Err(Invalid {
                    field: format!("channels[{i}].name"),
                    message: format!("duplicate channel name `{}`", c.name),
                });
            }
            if c.kind == ChannelKind::Direct {
                continue; // brokerless: checked by `validate_messaging`
            }
            if c.broker.is_empty() {
                return Err(Invalid {
                    field: format!("channels[{i}].broker"),
                    message: "a topic or a queue needs a broker".into(),
                });
            }
            let b = node(format!("channels[{i}].broker"), &c.broker)?;
            if self.nodes[b].kind != NodeKind::Broker {
                return Err(Invalid {
                    field: format!("channels[{i}].broker"),
                    message: format!("`{}` is not a broker", c.broker),
                });
            }
            if c.kind == ChannelKind::Queue && c.consumers.len() > 1 {
                return Err(Invalid {
                    field: format!("channels[{i}].consumers"),
                    message: "a point-to-point queue is consumed by one service, whose instances \
                              compete; use a topic to give several services a copy each"
                        .into(),
                });
            }
            for (j, s) in c.consumers.iter().enumerate() {
                let field = format!("channels[{i}].consumers[{j}]");
                let n = node(field.clone(), s)?;
                if self.nodes[n].kind != NodeKind::Service {
                    return Err(Invalid {
                        field,
                        message: format!("`{s}` is not a service"),
                    });
                }
                if !linked(s, &c.broker) {
                    return Err(Invalid {
                        field,
                        message: format!("no link between `{s}` and broker `{}`", c.broker),
                    });
                }
            }
            partitioned::validate_channel(self, i, c)?;
        }
        for (i, w) in self.workloads.iter().enumerate() {
            let n = node(format!("workloads[{i}].from"), &w.from)?;
            if self.nodes[n].kind != NodeKind::Service {
                return Err(Invalid {
                    field: format!("workloads[{i}].from"),
                    message: format!("`{}` is not a service", w.from),
                });
            }
            ranges::ms(format!("workloads[{i}].start_ms"), w.start_ms, 0)?;
            ranges::ms(format!("workloads[{i}].every_ms"), w.every_ms, 1)?;
            ranges::ms(format!("workloads[{i}].jitter_ms"), w.jitter_ms, 0)?;
            ranges::int(
                format!("workloads[{i}].count"),
                w.count,
                0,
                limits::MAX_WORKLOAD_COUNT,
                "",
            )?;
            for (j, m) in w.messages.iter().enumerate() {
                let at = format!("workloads[{i}].messages[{j}]");
                ranges::name(format!("{at}.type"), &m.type_name, ranges::MAX_NAME)?;
                if let Some(t) = &m.reply_type {
                    ranges::name(format!("{at}.reply_type"), t, ranges::MAX_NAME)?;
                }
                let field = format!("workloads[{i}].messages[{j}].channel");
                let Some(c) = self.channels.iter().find(|c| c.name == m.channel) else {
                    return Err(UnknownName {
                        field,
                        name: m.channel.clone(),
                    });
                };
                if c.kind == ChannelKind::Direct {
                    continue; // brokerless: checked by `validate_messaging`
                }
                if !linked(&w.from, &c.broker) {
                    return Err(Invalid {
                        field,
                        message: format!("no link between `{}` and broker `{}`", w.from, c.broker),
                    });
                }
            }
        }
        let p = &self.policies;
        ranges::ms("policies.ack_timeout_ms", p.ack_timeout_ms, 1)?;
        ranges::ms("policies.publish_timeout_ms", p.publish_timeout_ms, 1)?;
        ranges::int(
            "policies.prefetch",
            p.prefetch.into(),
            1,
            limits::MAX_PREFETCH,
            "",
        )?;
        for (name, v) in [
            ("max_delivery_attempts", p.max_delivery_attempts),
            ("publish_max_attempts", p.publish_max_attempts),
        ] {
            ranges::int(
                format!("policies.{name}"),
                v.into(),
                1,
                limits::MAX_ATTEMPTS,
                "",
            )?;
        }
        for (name, v) in [
            ("max_queue_length", p.max_queue_length),
            ("max_inbox", p.max_inbox),
        ] {
            ranges::int(
                format!("policies.{name}"),
                v.into(),
                0,
                limits::MAX_BUFFER,
                "messages",
            )?;
        }
        ranges::ms_max(
            "policies.schema_lookup_timeout_ms",
            p.schema_lookup_timeout_ms,
            1,
            ranges::MAX_LATENCY_MS,
        )?;
        if let Some(h) = self.horizon_ms {
            ranges::ms("horizon_ms", h, 0)?;
        }
        for (i, f) in self.faults.iter().enumerate() {
            ranges::ms(format!("faults[{i}].at_ms"), f.at_ms, 0)?;
            f.command.validate_fields(&format!("faults[{i}].command"))?;
        }
        self.validate_messaging()?;
        script::validate(self)?;
        crate::outbox::spec::validate(self)?;
        crate::sync::spec::validate(self)?;
        crate::contract::validate(self)?;
        self.validate_invariants()?;
        crate::experiment::validate(self)?;
        // Last, as it serializes the whole document: nesting within what a link can carry.
        match serde_json::to_value(self) {
            Ok(doc) => ranges::json_depth(&doc, ranges::MAX_JSON_DEPTH),
            Err(e) => Err(Invalid {
                field: "(document)".into(),
                message: format!("cannot be written as JSON: {e}"),
            }),
        }
    }

    /// The `invariants` list: bounded, no claim twice, services that exist.
    fn validate_invariants(&self) -> Result<(), ScenarioError> {
        use crate::invariants::{MAX_CLAIMS, MAX_CLAIM_SERVICES};
        use ScenarioError::*;
        if self.invariants.len() > MAX_CLAIMS {
            return Err(TooLarge {
                what: "invariants",
                got: self.invariants.len() as u64,
                max: MAX_CLAIMS as u64,
            });
        }
        for (i, c) in self.invariants.iter().enumerate() {
            if self.invariants[..i].contains(c) {
                return Err(Invalid {
                    field: format!("invariants[{i}]"),
                    message: format!("duplicate claim `{}`", c.label()),
                });
            }
            if c.services.len() > MAX_CLAIM_SERVICES {
                return Err(TooLarge {
                    what: "services of a claim",
                    got: c.services.len() as u64,
                    max: MAX_CLAIM_SERVICES as u64,
                });
            }
            for (j, name) in c.services.iter().enumerate() {
                let field = format!("invariants[{i}].services[{j}]");
                match self.nodes.iter().find(|n| &n.name == name) {
                    None => {
                        return Err(UnknownName {
                            field,
                            name: name.clone(),
                        })
                    }
                    Some(n) if n.kind != NodeKind::Service => {
                        return Err(Invalid {
                            field,
                            message: format!("`{name}` is not a service"),
                        })
                    }
                    Some(_) => {}
                }
                if c.services[..j].contains(name) {
                    return Err(Invalid {
                        field,
                        message: format!("duplicate service `{name}`"),
                    });
                }
            }
        }
        Ok(())
    }
}
