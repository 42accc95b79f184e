//! Snapshots: plain data describing the state at one virtual time, for drawing and for tests.

use crate::message::{MessageId, MessageKind};
use crate::network::{DropReason, LinkFaults};
use crate::scenario::{ChannelKind, DuplicateHandling, NackAction, NodeKind};
use crate::sync::{CallView, HttpView, ProxyView, RegistryView, RouterView, ServerMetrics};
use crate::time::SimTime;
use crate::trace::PacketKind;
use serde::Serialize;

mod partitioned;
pub use partitioned::*;

/// Run-wide counters. All are totals since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Packets put on the network by nodes (publishes, confirms, deliveries, acks), network
    /// duplicates excluded.
    pub sent: u64,
    /// Packets that reached a running node.
    pub delivered: u64,
    /// Packets lost: random loss, partition, crashed receiver or a full buffer.
    pub dropped: u64,
    /// Extra copies created by the network (`duplicate_percent`).
    pub duplicated: u64,
    /// Deliveries the broker made again (ack timeout, connection reset, broker restart).
    pub redelivered: u64,
    /// Publishes a producer retried.
    pub retried: u64,
    /// Acks the broker received for outstanding deliveries.
    pub acked: u64,
    /// Deliveries handled by a service (handler runs).
    pub processed: u64,
    /// Business effects applied (a naive receiver applies one per handler run).
    pub effects: u64,
    /// Repeats discarded by a deduplicating receiver.
    pub duplicates_discarded: u64,
    /// Messages created by workloads.
    pub published: u64,
    /// Publishes abandoned after `publish_max_attempts`.
    pub publish_failed: u64,
    /// Messages moved to a dead-letter queue.
    pub dead_lettered: u64,
    /// Requests sent (messages with a `reply_to` header).
    pub requests: u64,
    /// Replies sent by responders (one per handler run of a request).
    pub replies: u64,
    /// Requests completed by a reply in time (request/async response).
    pub requests_completed: u64,
    /// Requests whose timeout fired first (request/async response).
    pub requests_timed_out: u64,
    /// Pending requests lost with a crashed requester instance.
    pub requests_abandoned: u64,
    /// Collection windows closed with a decision (publish/async responses).
    pub decisions: u64,
    /// Replies discarded because their request had timed out or closed (never handed to another
    /// request).
    pub late_replies: u64,
    /// Replies discarded because their request was already answered (by that responder).
    pub duplicate_replies: u64,
    /// Brokerless (direct) messages sent.
    pub direct_sent: u64,
    /// Brokerless messages lost: dropped on the link (loss, partition, receiver down, full
    /// inbox), lost with a crashed receiver's memory, or failed in the handler.
    pub direct_lost: u64,
    /// Handler runs that failed (no effect applied; the delivery was nacked, or lost if
    /// brokerless).
    pub handler_failures: u64,
    /// Nacks the broker received for outstanding deliveries.
    pub nacked: u64,
    /// Publishes confirmed but not enqueued by broker-side duplicate detection.
    pub broker_duplicates: u64,
    /// Messages lost from non-durable queues when their broker crashed.
    pub broker_lost: u64,
    /// Packets lost from a broker's backlog (crash, or the backlog bound).
    pub backlog_lost: u64,
    /// Synchronous logical calls started (all client proxies).
    pub calls: u64,
    /// Logical calls that ended with a real 1xx–3xx response.
    pub calls_ok: u64,
    /// Logical calls that ended failed.
    pub calls_failed: u64,
    /// Logical calls answered by a fallback.
    pub fallbacks: u64,
    /// HTTP requests sent by client proxies (upstream requests; a router's forwards excluded).
    pub http_requests: u64,
}

/// Per-service counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeMetrics {
    /// Deliveries handled (handler runs).
    pub processed: u64,
    /// Effects applied.
    pub effects: u64,
    /// Distinct message ids handled. `processed - distinct` is the number of repeats seen.
    pub distinct: u64,
    /// Repeats discarded by deduplication.
    pub duplicates_discarded: u64,
    /// Messages this service created (workload sends).
    pub published: u64,
    /// Publishes confirmed by the broker.
    pub confirmed: u64,
    /// Publish retries.
    pub retried: u64,
    /// Publishes abandoned.
    pub publish_failed: u64,
    /// Workload ticks with no running instance.
    pub skipped: u64,
    /// Effects an exactly-once run would have applied for what this service handled: one per
    /// distinct message id (`idempotent`: one per distinct key). Compare with `effects`.
    pub effects_expected: u64,
    /// Handler runs that failed (no effect).
    pub handler_failures: u64,
    /// Requests this service sent.
    pub requests: u64,
    /// Its requests completed in time.
    pub requests_completed: u64,
    /// Its requests that timed out.
    pub requests_timed_out: u64,
    /// Collection windows it closed with a decision.
    pub decisions: u64,
    /// Late replies it discarded.
    pub late_replies: u64,
    /// Duplicate replies it discarded.
    pub duplicate_replies: u64,
    /// Replies it sent as a responder.
    pub replies_sent: u64,
}

/// A node and its instances.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// Name.
    pub name: String,
    /// Service or broker.
    pub kind: NodeKind,
    /// Canvas position from the scenario, if given (1000 × 600 box).
    pub pos: Option<[f64; 2]>,
    /// Label of its effect.
    pub effect: String,
    /// Duplicate handling.
    pub duplicates: DuplicateHandling,
    /// Instances.
    pub instances: Vec<InstanceView>,
    /// Counters.
    pub metrics: NodeMetrics,
    /// The processed-messages table of a `dedup` service (one row per message id) or the state
    /// table of an `idempotent` one (one row per key), most recent last; at most
    /// [`MAX_TABLE_ROWS`] rows are shown (the engine keeps more). Empty for `naive`.
    pub processed_table: Vec<ProcessedRow>,
    /// Its pending requests, oldest first (at most [`MAX_REQUEST_ROWS`]).
    pub requests: Vec<RequestView>,
    /// Its last finished requests, most recent last (at most [`MAX_REQUEST_ROWS`]).
    pub request_outcomes: Vec<RequestOutcomeView>,
    /// For a broker: its capacity and backlog.
    pub broker: Option<BrokerView>,
    /// REST maturity level of its API (0–3), if it has one.
    pub api_level: Option<u8>,
    /// RPI server adapter counters, if it has an API.
    pub server: Option<ServerMetrics>,
}

/// Instance status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Running.
    Up,
    /// Frozen (SIGSTOP).
    Paused,
    /// Crashed; memory lost.
    Crashed,
}

/// One instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceView {
    /// Index from 0.
    pub index: u32,
    /// Status.
    pub status: InstanceStatus,
    /// Deliveries waiting in its inbox (the one in progress excluded).
    pub inbox: u32,
    /// Whether it is handling a delivery now.
    pub busy: bool,
    /// Publishes awaiting a broker confirm.
    pub pending_publishes: u32,
    /// RPI server adapter: requests being handled (workers busy).
    pub workers_busy: u32,
    /// RPI server adapter: requests waiting for a worker.
    pub request_queue: u32,
    /// Logical calls this instance's business logic is blocked on.
    pub blocked_calls: u32,
}

/// Counters of one link direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkMetrics {
    /// Packets sent.
    pub sent: u64,
    /// Packets that arrived at a running node.
    pub delivered: u64,
    /// Packets lost.
    pub dropped: u64,
    /// Network duplicates created.
    pub duplicated: u64,
}

/// A link with both directions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkView {
    /// Index in the scenario's `links`.
    pub index: usize,
    /// One end.
    pub a: String,
    /// Other end.
    pub b: String,
    /// Faults from `a` to `b`.
    pub a_to_b: LinkFaults,
    /// Faults from `b` to `a`.
    pub b_to_a: LinkFaults,
    /// Counters from `a` to `b`.
    pub a_to_b_metrics: LinkMetrics,
    /// Counters from `b` to `a`.
    pub b_to_a_metrics: LinkMetrics,
}

/// A queue or a topic subscription.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueView {
    /// `channel` for a queue, `topic/subscriber` for a subscription.
    pub name: String,
    /// The consuming service.
    pub consumer: String,
    /// Messages waiting to be delivered.
    pub ready: u32,
    /// Delivered, not yet acked.
    pub unacked: u32,
    /// In the dead-letter queue.
    pub dead_letters: u32,
    /// Total enqueued.
    pub enqueued: u64,
    /// Total acked.
    pub acked: u64,
    /// Total redeliveries.
    pub redelivered: u64,
    /// The dead-letter queue's last messages with the reason each was dead-lettered, oldest
    /// first (at most [`MAX_DEAD_LETTER_ROWS`]; `dead_letters` counts them all).
    pub dead_letter_queue: Vec<DeadLetterView>,
    /// Total nacks received for outstanding deliveries.
    pub nacked: u64,
    /// Messages this queue lost because it is non-durable and its broker crashed.
    pub lost: u64,
}

/// A channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelView {
    /// Name.
    pub name: String,
    /// Topic or queue.
    pub kind: ChannelKind,
    /// Hosting broker.
    pub broker: String,
    /// One queue for a point-to-point channel, one subscription per consumer for a topic.
    /// Empty for a direct (brokerless) channel.
    pub queues: Vec<QueueView>,
    /// Durable (survives a broker crash) or not.
    pub durable: bool,
    /// Broker-side duplicate detection window, ms (0: off).
    pub dedup_window_ms: u64,
    /// Publishes confirmed but not enqueued as duplicates.
    pub duplicates_dropped: u64,
    /// Message ids the duplicate detection remembers now.
    pub dedup_ids: u32,
    /// Handler failure probability of its consumers, percent.
    pub failure_percent: f64,
    /// What consumers do with a delivery their handler failed on.
    pub on_failure: NackAction,
    /// For a direct channel: the receiving service.
    pub direct_to: Option<String>,
}

/// A packet on the wire, with what is needed to draw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransitView {
    /// Transit id (unique per copy on the wire).
    pub id: u64,
    /// Message id.
    pub msg: MessageId,
    /// Packet kind.
    pub packet: PacketKind,
    /// `command`, `event`, `document`, `reply` for publishes, deliveries and brokerless (direct)
    /// sends; `ack` for acks and publisher confirms; `nack` for nacks; `request`, `response`,
    /// `reset` for HTTP; `registry` for register, deregister and lookup packets; `health` for
    /// probes; `lookup` for schema lookups and their replies.
    /// `command`, `event`, `document`, `reply` for publishes and deliveries (and produce
    /// requests); `ack` for acks, publisher confirms, produce and commit responses; `records` for
    /// a fetch response; `control` for the rest of the consumer-group protocol (join, sync,
    /// heartbeat, fetch request, offset commit).
    pub kind: &'static str,
    /// Message type (`OrderCreated`); for acks the acked message's type.
    pub label: String,
    /// Message key, if any.
    pub key: Option<String>,
    /// Sending node and instance.
    pub from: String,
    /// Sender instance.
    pub from_instance: u32,
    /// Receiving node.
    pub to: String,
    /// Receiver instance.
    pub to_instance: u32,
    /// Virtual send time.
    pub sent_at: SimTime,
    /// Virtual arrival time (or the time it is dropped, half way). [`SimTime::MAX`] while held.
    pub arrive_at: SimTime,
    /// Publish or delivery attempt, from 1.
    pub attempt: u32,
    /// A network duplicate.
    pub duplicate: bool,
    /// `Some` when this copy will be dropped when it reaches `arrive_at`.
    pub dropping: Option<DropReason>,
    /// Held on the link.
    pub held: bool,
    /// HTTP request line or status and body, for HTTP packets.
    pub http: Option<HttpView>,
    /// On a channel with schemas: the writer schema, encoding and sizes of the message (for
    /// publishes, deliveries, acks and nacks of it; lookups carry the id they ask for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire: Option<crate::schema_view::WireSummary>,
}

impl TransitView {
    /// Fraction of the way travelled at time `t`, in `[0, 1]`. A held packet sits at 0.15; a
    /// packet that will be dropped travels to 0.5 (`arrive_at` is its drop time).
    pub fn progress(&self, t: SimTime) -> f64 {
        if self.held {
            return 0.15;
        }
        let end = if self.dropping.is_some() { 0.5 } else { 1.0 };
        let span = self.arrive_at.0.saturating_sub(self.sent_at.0);
        if span == 0 {
            return end;
        }
        let f = t.0.saturating_sub(self.sent_at.0) as f64 / span as f64;
        f.clamp(0.0, 1.0) * end
    }
}

/// Everything at one virtual time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// Virtual time.
    pub time: SimTime,
    /// The run's seed.
    pub seed: u64,
    /// Scenario name.
    pub scenario: String,
    /// Nodes.
    pub nodes: Vec<NodeView>,
    /// Links.
    pub links: Vec<LinkView>,
    /// Channels.
    pub channels: Vec<ChannelView>,
    /// Packets on the wire, by transit id.
    pub in_flight: Vec<TransitView>,
    /// Run-wide counters.
    pub metrics: Metrics,
    /// Events handled so far.
    pub events_processed: u64,
    /// True when nothing more is scheduled: the run is over unless a command changes that.
    /// (Never true while a partitioned topic has consumers: they poll and heartbeat forever.)
    pub idle: bool,
    /// Databases, OUTBOX tables, commit logs, relays, dual-write vs outbox accounting, channel
    /// append logs, replicas and client request timelines ([`crate::outbox`]).
    pub transactional: crate::outbox::TransactionalView,
    /// Client proxies (one per client instance and called service): policies, breaker state
    /// and transition timeline, discovery cache, counters.
    pub proxies: Vec<ProxyView>,
    /// Logical calls in progress (blocked callers), oldest first, at most 500.
    pub calls: Vec<CallView>,
    /// Service registries and their entries.
    pub registries: Vec<RegistryView>,
    /// Routers (platform-level discovery).
    pub routers: Vec<RouterView>,
    /// API contracts of the run (channels with schemas only; `None` when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schemas: Option<crate::schema_view::SchemaSnapshot>,
    /// Partitioned topics (channels of kind `partitioned_topic`), in channel order.
    pub partitioned_topics: Vec<PartitionedTopicView>,
    /// The scenario's claimed invariants and where each stands ([`crate::invariants`]), in the
    /// scenario's order; empty (and not serialized) without claims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<crate::invariants::InvariantStatus>,
}

/// Rows of a processed-messages (or idempotent state) table shown in a [`NodeView`].
pub const MAX_TABLE_ROWS: usize = 64;
/// Pending requests and request outcomes shown per node.
pub const MAX_REQUEST_ROWS: usize = 32;
/// Dead letters shown per queue (with their reasons).
pub const MAX_DEAD_LETTER_ROWS: usize = 64;

/// Why a message went to the dead-letter queue (RabbitMQ's `x-death` reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    /// It was delivered `max_delivery_attempts` times without an ack (`delivery_limit`).
    DeliveryLimit,
    /// A consumer nacked it without requeue (`rejected`).
    Rejected,
}

/// A message in a dead-letter queue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadLetterView {
    /// Message id.
    pub msg: MessageId,
    /// Command, event, document or reply.
    pub kind: MessageKind,
    /// Message type.
    pub type_name: String,
    /// Message key.
    pub key: Option<String>,
    /// Deliveries it had.
    pub deliveries: u32,
    /// Why it was dead-lettered.
    pub reason: DeadLetterReason,
    /// When.
    pub at: SimTime,
}

/// One row of a receiver's table: for `dedup`, a message id in the processed-messages table
/// (written in the same local transaction as the effect); for `idempotent`, a key and the message
/// that first set its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessedRow {
    /// The message whose handler committed the effect.
    pub msg: MessageId,
    /// Its key (for `idempotent`, the row's key; the message id when it has none).
    pub key: Option<String>,
    /// Instance whose transaction committed.
    pub instance: u32,
    /// Commit time.
    pub at: SimTime,
    /// Later handler runs of the same id (`dedup`: duplicates discarded) or key (`idempotent`:
    /// re-applied with no change).
    pub repeats: u32,
    /// The last repeat: time and instance.
    pub last_repeat: Option<(SimTime, u32)>,
}

/// A pending request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestView {
    /// Request message id (the replies' correlation id).
    pub msg: MessageId,
    /// Type.
    pub type_name: String,
    /// Sending instance.
    pub instance: u32,
    /// Sent at.
    pub sent_at: SimTime,
    /// Timeout or end of the collection window.
    pub until: SimTime,
    /// Publish/async responses (collects until `until`) rather than request/async response.
    pub collect: bool,
    /// Replies collected so far.
    pub replies: u32,
    /// Replies possible.
    pub expected: u32,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestOutcome {
    /// A reply came in time.
    Completed,
    /// The timeout fired first.
    TimedOut,
    /// The collection window closed; decided with the replies collected.
    Decided,
    /// The requesting instance crashed.
    Abandoned,
}

/// A finished request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestOutcomeView {
    /// Request message id.
    pub msg: MessageId,
    /// Type.
    pub type_name: String,
    /// Sent at.
    pub sent_at: SimTime,
    /// Finished at.
    pub finished_at: SimTime,
    /// How.
    pub outcome: RequestOutcome,
    /// Replies it was decided with (1 for a completed request/async response).
    pub replies: u32,
    /// Replies possible.
    pub expected: u32,
    /// Services whose replies counted, in order of arrival.
    pub responders: Vec<String>,
}

/// A broker's capacity (see `policies.broker_service_time_us`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BrokerView {
    /// Service time per received packet, µs (0: none).
    pub service_time_us: u64,
    /// Packets waiting to be handled now.
    pub backlog: u32,
    /// Largest backlog so far.
    pub backlog_max: u32,
    /// Packets handled through the backlog.
    pub handled: u64,
    /// Until when its worker is busy.
    pub busy_until: SimTime,
    /// Packets lost from the backlog (crash or bound).
    pub backlog_lost: u64,
}
