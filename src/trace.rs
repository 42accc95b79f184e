//! The trace: one event per thing that happens, each with a one-line `Display`.
//!
//! The trace is a bounded ring buffer of structured events (default 10 000 events; older ones are
//! evicted) plus a running hash over a stable binary encoding of *every* event, evicted or not (see
//! [`hash`]). Text lines are formatted only when shown or exported (`Display`). Two runs with the
//! same seed and the same commands have the same hash; that is the determinism check, natively and
//! in wasm.

use crate::message::MessageId;
use crate::network::DropReason;
use crate::outbox::view::{RelayFailure, RollbackReason};
use crate::outbox::CrashPoint;
use crate::resilience::circuit_breaker::CircuitBreakerState;
use crate::resilience::DecoratorLayer;
use crate::sync::http::reason_phrase;
use crate::sync::{HttpRequest, RetryLayer};
use crate::time::SimTime;
use serde::Serialize;
use std::fmt;

pub mod hash;
mod partitioned;
pub mod ring;
use std::sync::Arc;

/// A node instance: `kitchen#1`. A broker is always instance 0 and prints without `#0`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Node name.
    pub node: Arc<str>,
    /// Instance index.
    pub instance: u32,
    /// Whether the node is single-instance infrastructure — a broker, registry, router or
    /// registrar (prints without the instance suffix).
    #[serde(skip)]
    pub broker: bool,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broker {
            write!(f, "{}", self.node)
        } else {
            write!(f, "{}#{}", self.node, self.instance)
        }
    }
}

/// What travels on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PacketKind {
    /// Producer -> broker: a message to append to a channel.
    Publish,
    /// Broker -> producer: publisher confirm.
    PublishAck,
    /// Broker -> consumer: a delivery.
    Deliver,
    /// Consumer -> broker: delivery acknowledged.
    Ack,
    /// Client (or router) -> service instance (or router): an HTTP request.
    HttpRequest,
    /// Service instance (or router) -> client (or router): an HTTP response.
    HttpResponse,
    /// The host of a crashed instance refuses the connection (TCP reset).
    Reset,
    /// Instance or registrar -> registry: register or renew a lease (heartbeat).
    Register,
    /// Registrar -> registry: remove an instance.
    Deregister,
    /// Client or router -> registry: which instances does a service have?
    Lookup,
    /// Registry -> client or router: the registered instances.
    LookupReply,
    /// Registrar -> instance: a health probe.
    HealthCheck,
    /// Instance -> registrar: healthy.
    HealthOk,
    /// Broker -> producer: publish rejected (negative publisher confirm, AMQP `basic.nack`).
    PublishNack,
    /// Client -> service: a request (`POST` or `GET`).
    Request,
    /// Service -> client: the answer to a request.
    Response,
    /// Consumer -> broker: delivery rejected (AMQP `basic.nack`), with or without requeue; on a
    /// channel with schemas also a message the consumer's reader rejected (with its reason).
    Nack,
    /// Sender -> receiver, brokerless: a message sent straight to a service instance.
    Direct,
    /// Consumer -> schema registry: "which schema has id N?".
    SchemaLookup,
    /// Schema registry -> consumer: the schema for a lookup.
    SchemaReply,
    /// Producer -> broker: a batch to append to a partition (Kafka `Produce` request).
    Produce,
    /// Broker -> producer: the append's result (offsets, or an error such as
    /// `OUT_OF_ORDER_SEQUENCE_NUMBER`).
    ProduceResponse,
    /// Consumer -> broker: records wanted from partitions (Kafka `Fetch`).
    Fetch,
    /// Broker -> consumer: records of the requested partitions (possibly none).
    FetchResponse,
    /// Consumer -> group coordinator: committed offsets (Kafka `OffsetCommit`).
    OffsetCommit,
    /// Group coordinator -> consumer: the commit's result.
    OffsetCommitResponse,
    /// Consumer -> group coordinator: join the group (Kafka `JoinGroup`).
    JoinGroup,
    /// Group coordinator -> consumer: the new generation.
    JoinGroupResponse,
    /// Consumer -> group coordinator: ask for the assignment (Kafka `SyncGroup`).
    SyncGroup,
    /// Group coordinator -> consumer: the assigned partitions with their committed offsets.
    SyncGroupResponse,
    /// Consumer -> group coordinator: still alive (Kafka `Heartbeat`).
    Heartbeat,
    /// Group coordinator -> consumer: OK, or rebalance in progress / unknown member.
    HeartbeatResponse,
}

impl PacketKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PacketKind::Publish => "publish",
            PacketKind::PublishAck => "publish_ack",
            PacketKind::Deliver => "deliver",
            PacketKind::Ack => "ack",
            PacketKind::HttpRequest => "http_request",
            PacketKind::HttpResponse => "http_response",
            PacketKind::Reset => "reset",
            PacketKind::Register => "register",
            PacketKind::Deregister => "deregister",
            PacketKind::Lookup => "lookup",
            PacketKind::LookupReply => "lookup_reply",
            PacketKind::HealthCheck => "health_check",
            PacketKind::HealthOk => "health_ok",
            PacketKind::PublishNack => "publish_nack",
            PacketKind::Request => "request",
            PacketKind::Response => "response",
            PacketKind::Nack => "nack",
            PacketKind::Direct => "direct",
            PacketKind::SchemaLookup => "schema_lookup",
            PacketKind::SchemaReply => "schema_reply",
            PacketKind::Produce => "produce",
            PacketKind::ProduceResponse => "produce_response",
            PacketKind::Fetch => "fetch",
            PacketKind::FetchResponse => "fetch_response",
            PacketKind::OffsetCommit => "offset_commit",
            PacketKind::OffsetCommitResponse => "offset_commit_response",
            PacketKind::JoinGroup => "join_group",
            PacketKind::JoinGroupResponse => "join_group_response",
            PacketKind::SyncGroup => "sync_group",
            PacketKind::SyncGroupResponse => "sync_group_response",
            PacketKind::Heartbeat => "heartbeat",
            PacketKind::HeartbeatResponse => "heartbeat_response",
        }
    }
}

/// Why the broker delivers a message again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedeliveryReason {
    /// No ack arrived within `ack_timeout_ms`.
    AckTimeout,
    /// The consumer's connection closed (its instance crashed) with the delivery unacked.
    ConnectionReset,
    /// The broker restarted with the delivery unacked.
    BrokerRestart,
    /// The consumer rejected the delivery with requeue (AMQP `basic.nack`, `requeue=true`): its
    /// handler failed, or it could not decode the message yet (writer schema lookup failed).
    Nacked,
}

impl RedeliveryReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RedeliveryReason::AckTimeout => "ack_timeout",
            RedeliveryReason::ConnectionReset => "connection_reset",
            RedeliveryReason::BrokerRestart => "broker_restart",
            RedeliveryReason::Nacked => "nacked",
        }
    }
}

/// One trace event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Position in the run, from 0, counting evicted events.
    pub seq: u64,
    /// Virtual time.
    pub time: SimTime,
    /// What happened.
    #[serde(flatten)]
    pub what: TraceKind,
}

/// The kinds of trace events. Serialized with a `"event"` tag in snake_case.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceKind {
    /// A packet left `from` towards `to` (`transit` identifies this copy on the wire).
    Send {
        /// Transit id.
        transit: u64,
        /// Sender.
        from: Endpoint,
        /// Receiver.
        to: Endpoint,
        /// What it is.
        packet: PacketKind,
        /// The message concerned.
        msg: MessageId,
        /// Publish or delivery attempt, from 1.
        attempt: u32,
        /// A network duplicate (second copy) rather than a send.
        duplicate: bool,
    },
    /// A packet arrived.
    Arrive {
        /// Transit id.
        transit: u64,
        /// Sender.
        from: Endpoint,
        /// Receiver.
        to: Endpoint,
        /// What it is.
        packet: PacketKind,
        /// The message concerned.
        msg: MessageId,
    },
    /// A packet was lost.
    Drop {
        /// Transit id.
        transit: u64,
        /// Sender.
        from: Endpoint,
        /// Receiver.
        to: Endpoint,
        /// What it is.
        packet: PacketKind,
        /// The message concerned.
        msg: MessageId,
        /// Why.
        reason: DropReason,
    },
    /// A held packet was released and is on its way.
    Release {
        /// Transit id.
        transit: u64,
    },
    /// The broker appended a message to a queue or subscription.
    Enqueue {
        /// Queue name (`channel` or `topic/subscriber`).
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// Depth after the append.
        depth: u32,
    },
    /// The broker dropped a publish because the queue was full.
    Overflow {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
    },
    /// The broker put an unacked delivery back for redelivery.
    Redeliver {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// The attempt number the next delivery will carry.
        attempt: u32,
        /// Why.
        reason: RedeliveryReason,
    },
    /// The broker moved a message to the queue's dead-letter queue.
    DeadLetter {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// Deliveries it had.
        attempts: u32,
    },
    /// The broker received an ack.
    Acked {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// False when the delivery was no longer outstanding (a late ack).
        outstanding: bool,
    },
    /// A service instance handled a delivery.
    Process {
        /// The instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// Delivery attempt.
        attempt: u32,
        /// False when the deduplication table discarded it.
        applied: bool,
    },
    /// A producer retried a publish that was not confirmed in time.
    Retry {
        /// Producer instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// The new attempt number.
        attempt: u32,
    },
    /// A producer gave up a publish after its last attempt.
    GiveUp {
        /// Producer instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// Attempts made.
        attempts: u32,
    },
    /// A workload tick found no running instance to send from.
    Skipped {
        /// The service.
        node: Arc<str>,
    },
    /// A command was applied.
    Command {
        /// One-line description.
        command: String,
    },
    /// A requester sent a request (a message with a `reply_to` header) and started its timer.
    RequestSent {
        /// Requester instance.
        at: Endpoint,
        /// The request's message id (the replies' `correlation_id`).
        msg: MessageId,
        /// The reply channel.
        reply_to: Arc<str>,
        /// When the timeout fires (request/async response) or the collection window closes
        /// (publish/async responses).
        until: SimTime,
        /// Publish/async responses: collect replies until `until`, then decide.
        collect: bool,
    },
    /// A responder sent a reply to a request.
    ReplySent {
        /// Responder instance.
        at: Endpoint,
        /// The reply's message id.
        msg: MessageId,
        /// The request it answers.
        correlation: MessageId,
        /// The reply channel.
        channel: Arc<str>,
    },
    /// A reply in time completed its request (request/async response).
    RequestCompleted {
        /// Requester instance that handled the reply.
        at: Endpoint,
        /// The reply.
        msg: MessageId,
        /// The request.
        correlation: MessageId,
        /// Time from the request to its completion.
        elapsed: SimTime,
    },
    /// A request's timeout fired with no reply; a later reply will be discarded as late.
    RequestTimedOut {
        /// Requester instance.
        at: Endpoint,
        /// The request.
        msg: MessageId,
    },
    /// A reply in the collection window was kept (publish/async responses).
    ReplyCollected {
        /// Requester instance that handled the reply.
        at: Endpoint,
        /// The reply.
        msg: MessageId,
        /// The request.
        correlation: MessageId,
        /// The responding service.
        responder: Arc<str>,
        /// Replies collected so far for this request.
        replies: u32,
    },
    /// A collection window closed: the requester decided with the replies it had.
    Decided {
        /// Requester instance.
        at: Endpoint,
        /// The request.
        msg: MessageId,
        /// Replies it decided with.
        replies: u32,
        /// Replies it could have had (subscriptions or consumers of the request channel).
        expected: u32,
    },
    /// A requester discarded a reply: its request had timed out or closed (late), or it had
    /// already been answered by this responder (duplicate). Never handed to another request.
    ReplyDiscarded {
        /// Requester instance that handled the reply.
        at: Endpoint,
        /// The reply.
        msg: MessageId,
        /// The request it answers.
        correlation: MessageId,
        /// Why.
        reason: ReplyDiscard,
    },
    /// A consumer's handler failed on a delivery; no effect was applied.
    HandlerFailed {
        /// Consumer instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// Delivery attempt.
        attempt: u32,
        /// What happens to the message.
        outcome: FailureOutcome,
    },
    /// The broker received a nack.
    Nacked {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// Requeue (true) or dead-letter (false).
        requeue: bool,
        /// False when the delivery was no longer outstanding (a late nack, ignored).
        outstanding: bool,
    },
    /// Broker-side duplicate detection: a publish whose id was seen within the channel's
    /// `dedup_window_ms` was confirmed but not enqueued.
    BrokerDuplicate {
        /// Channel name.
        channel: Arc<str>,
        /// Message.
        msg: MessageId,
        /// When the broker first saw this id.
        first_seen: SimTime,
    },
    /// A broker crash lost the buffered messages of a non-durable queue or subscription.
    QueueLost {
        /// Queue name.
        queue: Arc<str>,
        /// Messages lost (ready and unacked).
        messages: u32,
    },
    /// A broker crash lost the packets waiting in its backlog (not yet handled).
    BacklogLost {
        /// The broker.
        broker: Arc<str>,
        /// Packets lost.
        packets: u32,
    },
    /// A crash lost what only the instance's memory held: brokerless messages not yet handled
    /// and pending requests (abandoned).
    InstanceLost {
        /// The crashed instance.
        at: Endpoint,
        /// Brokerless (direct) messages in its inbox or handler, lost.
        direct: u32,
        /// Pending requests abandoned.
        requests: u32,
    },
    /// An idempotent receiver set the state of a key (see `DuplicateHandling::Idempotent`).
    IdempotentSet {
        /// Receiver instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// The key whose state was set.
        key: Arc<str>,
        /// False when the key already had this state: no new effect.
        changed: bool,
    },
    /// A local transaction began (its rows are written, not yet visible).
    TxBegin {
        /// The instance running it (service or relay).
        at: Endpoint,
        /// Transaction id.
        tx: u64,
        /// Business table written (`outbox` for a relay's mark).
        table: Arc<str>,
        /// Key of the row written.
        key: Arc<str>,
        /// Id of the OUTBOX row inserted, if any.
        outbox_row: Option<u64>,
    },
    /// A local transaction committed: its rows are visible and in the commit log.
    TxCommit {
        /// The instance.
        at: Endpoint,
        /// Transaction id.
        tx: u64,
        /// LSN of its last commit log record.
        lsn: u64,
        /// Id of the OUTBOX row it inserted, if any.
        outbox_row: Option<u64>,
        /// The message of that row (or of a dual write), if any.
        msg: Option<MessageId>,
    },
    /// A local transaction rolled back: it leaves nothing.
    TxRollback {
        /// The instance.
        at: Endpoint,
        /// Transaction id.
        tx: u64,
        /// Why.
        reason: RollbackReason,
    },
    /// A relay read records: OUTBOX rows (polling) or commit log records (log tailing).
    RelayRead {
        /// The relay.
        at: Endpoint,
        /// Records read.
        records: u32,
        /// Log tailing: the position it read after. `None` for a poll.
        after_lsn: Option<u64>,
    },
    /// A polling publisher marked (or deleted) the rows of its batch.
    RelayMark {
        /// The relay.
        at: Endpoint,
        /// Rows.
        rows: u32,
        /// Deleted rather than marked.
        deleted: bool,
    },
    /// A log-tailing relay saved its position (offset commit).
    RelaySave {
        /// The relay.
        at: Endpoint,
        /// Saved LSN.
        position: u64,
    },
    /// A relay's publish failed; it goes back to that record and publishes from there again.
    RelayRewind {
        /// The relay.
        at: Endpoint,
        /// The failed record's message.
        msg: MessageId,
        /// Why it failed.
        reason: RelayFailure,
        /// Records to publish again from there (the failed one included).
        republish: u32,
    },
    /// A relay stopped gracefully.
    RelayStop {
        /// The relay.
        at: Endpoint,
        /// Its saved position (log tailing; 0 for polling).
        position: u64,
    },
    /// The broker rejected a publish (`reject_next_publish`).
    PublishRejected {
        /// Channel.
        channel: Arc<str>,
        /// Message.
        msg: MessageId,
    },
    /// An armed failpoint crashed an instance.
    FailpointCrash {
        /// The instance.
        at: Endpoint,
        /// Where.
        point: CrashPoint,
    },
    /// A replica handled an event of its source.
    ReplicaApply {
        /// The service keeping the replica.
        at: Endpoint,
        /// Row key.
        key: Arc<str>,
        /// Source commit LSN of the event (0 if not committed).
        version: u64,
        /// Applied time − source commit time, µs (0 if not committed).
        lag_us: u64,
        /// False when the row already had a newer version (ignored).
        applied: bool,
    },
    /// A query served from a replica.
    ReplicaQuery {
        /// The service.
        at: Endpoint,
        /// Key looked up.
        key: Arc<str>,
        /// Found.
        hit: bool,
        /// No instance of the source service was up.
        source_down: bool,
    },
    /// A client's view of a request's status changed.
    ClientStatus {
        /// The client instance.
        at: Endpoint,
        /// Request key.
        key: Arc<str>,
        /// New status.
        status: Arc<str>,
    },
    /// RPI: the client's business logic invoked the proxy interface; the caller blocks until
    /// the matching `CallDone`.
    CallInvoke {
        /// Client instance.
        at: Endpoint,
        /// Logical call id (`c<id>`).
        call: u64,
        /// Called service.
        service: Arc<str>,
        /// Operation name (`getOrder`).
        operation: Arc<str>,
        /// The request.
        request: Arc<HttpRequest>,
    },
    /// RPI proxy: an attempt passed its policies; its HTTP request goes on the network.
    CallAttempt {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Called service.
        service: Arc<str>,
        /// The request.
        request: Arc<HttpRequest>,
        /// Attempt of this proxy invocation (client retry), from 1.
        attempt: u32,
        /// Application-level attempt, from 1; 0 without an application retry.
        app_attempt: u32,
        /// Upstream request id (`r<id>`).
        req: u64,
        /// Where it goes: the chosen instance, or the router.
        target: Endpoint,
    },
    /// RPI proxy: an attempt waits in a policy layer (rate limiter or bulkhead) until `until`
    /// at the latest.
    CallWait {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Attempt.
        attempt: u32,
        /// The layer it waits in.
        layer: DecoratorLayer,
        /// When the wait ends (the limiter's slot time, or the bulkhead's give-up deadline).
        until: SimTime,
    },
    /// RPI proxy: an attempt ended, answered (`status`) or failed (`error` kind).
    CallResult {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Called service.
        service: Arc<str>,
        /// Attempt.
        attempt: u32,
        /// Upstream request, if one was sent.
        req: Option<u64>,
        /// Response status, if a response came.
        status: Option<u16>,
        /// Error kind, if it failed (a 4xx/5xx status included).
        error: Option<Arc<str>>,
        /// Time since the attempt started, µs.
        elapsed_us: u64,
    },
    /// A retry layer will try again after `wait_us`.
    CallRetry {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Client (proxy) or application retry.
        layer: RetryLayer,
        /// The attempt number the next attempt of that layer will have.
        attempt: u32,
        /// Backoff, µs.
        wait_us: u64,
    },
    /// The proxy answered with its fallback after the call failed with `error`.
    CallFallback {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Fallback status.
        status: u16,
        /// The failure it replaces.
        error: Arc<str>,
    },
    /// The logical call is over: the proxy returns to the business logic, the caller unblocks.
    CallDone {
        /// Client instance.
        at: Endpoint,
        /// Logical call.
        call: u64,
        /// Called service.
        service: Arc<str>,
        /// Status returned to the business logic, if any.
        status: Option<u16>,
        /// Error kind, if the call failed.
        error: Option<Arc<str>>,
        /// The status is the fallback's.
        fallback: bool,
        /// Attempts made (all layers).
        attempts: u32,
        /// Upstream requests sent.
        requests: u32,
        /// Time the caller was blocked, µs.
        elapsed_us: u64,
    },
    /// HATEOAS: a step that follows a link was skipped because the last representation had no
    /// such link (the action is not available); the operation ends.
    CallSkipped {
        /// Client instance.
        at: Endpoint,
        /// Called service.
        service: Arc<str>,
        /// Link relation.
        rel: Arc<str>,
    },
    /// RPI server adapter: a request waits for a worker.
    ServerQueued {
        /// Server instance.
        at: Endpoint,
        /// Upstream request.
        req: u64,
        /// The request.
        request: Arc<HttpRequest>,
        /// Queue length after it.
        depth: u32,
    },
    /// RPI server adapter: a request refused at once because the queue was full.
    ServerRejected {
        /// Server instance.
        at: Endpoint,
        /// Upstream request.
        req: u64,
        /// Status sent (503).
        status: u16,
    },
    /// RPI server adapter: a request handed to the service logic.
    ServerStart {
        /// Server instance.
        at: Endpoint,
        /// Upstream request.
        req: u64,
        /// The request.
        request: Arc<HttpRequest>,
        /// The endpoint's operation, or `-` when no endpoint matches.
        operation: Arc<str>,
        /// Queueing delay, µs.
        waited_us: u64,
    },
    /// The service logic returned; the adapter sends the response.
    ServerReply {
        /// Server instance.
        at: Endpoint,
        /// Upstream request.
        req: u64,
        /// Status.
        status: u16,
        /// Time since the logic started, µs.
        elapsed_us: u64,
    },
    /// A response (or reset) for an attempt that is over, or a second copy, was discarded.
    LateResponse {
        /// Client instance.
        at: Endpoint,
        /// Upstream request.
        req: u64,
        /// Its status; `None` for a reset.
        status: Option<u16>,
    },
    /// A client proxy's circuit breaker changed state (Resilience4j's state transition event),
    /// with the rates of the window it left.
    BreakerTransition {
        /// Client instance.
        at: Endpoint,
        /// Called service.
        service: Arc<str>,
        /// State left.
        from: CircuitBreakerState,
        /// State entered.
        to: CircuitBreakerState,
        /// Failure rate %, -1 below the minimum number of calls.
        failure_rate: f32,
        /// Slow-call rate %, -1 below the minimum number of calls.
        slow_call_rate: f32,
    },
    /// A registry added an instance.
    Registered {
        /// Registry.
        registry: Endpoint,
        /// Service.
        service: Arc<str>,
        /// Instance.
        instance: u32,
        /// `host:port`.
        addr: Arc<str>,
        /// Who registered it (the instance, or a registrar).
        by: Endpoint,
        /// End of the lease.
        expires_at: SimTime,
    },
    /// A lease expired without renewal: the registry removed the instance.
    Expired {
        /// Registry.
        registry: Endpoint,
        /// Service.
        service: Arc<str>,
        /// Instance.
        instance: u32,
        /// Its last renewal.
        renewed_at: SimTime,
    },
    /// The registry removed an instance on request.
    Deregistered {
        /// Registry.
        registry: Endpoint,
        /// Service.
        service: Arc<str>,
        /// Instance.
        instance: u32,
        /// Who asked.
        by: Endpoint,
    },
    /// A client proxy or a router received a registry answer.
    CacheRefreshed {
        /// Client instance or router.
        at: Endpoint,
        /// Service.
        service: Arc<str>,
        /// Registered instances.
        instances: Vec<u32>,
    },
    /// A router forwarded a request to an instance.
    Routed {
        /// Router.
        router: Endpoint,
        /// Upstream request.
        req: u64,
        /// Chosen instance.
        to: Endpoint,
    },
    /// A registrar's probe of an instance went unanswered.
    ProbeFailed {
        /// Registrar.
        registrar: Endpoint,
        /// Probed instance.
        target: Endpoint,
        /// Failures in a row.
        consecutive: u32,
    },
    /// A producer encoded a message with its writer schema (channels with schemas).
    Encode {
        /// Producer instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// Writer schema, `Name@version`.
        schema: Arc<str>,
        /// Registry id of the writer schema (in the message headers).
        schema_id: u32,
        /// The channel's encoding: `json` or `avro`.
        encoding: &'static str,
        /// Size of the JSON encoding, bytes.
        json_bytes: u32,
        /// Size of the Avro encoding, bytes.
        avro_bytes: u32,
    },
    /// A producer refused to send a message whose payload is not valid for its writer schema
    /// (or whose encoding exceeds the size bound).
    ProduceRejected {
        /// Producer instance.
        at: Endpoint,
        /// Message (never sent).
        msg: MessageId,
        /// Why.
        reason: String,
    },
    /// A consumer decoded a delivery with its reader schema.
    Decode {
        /// Consumer instance.
        at: Endpoint,
        /// Message.
        msg: MessageId,
        /// Writer schema, `Name@version`.
        writer: Arc<str>,
        /// Reader version.
        reader: Arc<str>,
        /// Reader mode: `tolerant` or `strict`.
        mode: &'static str,
        /// `None`: accepted; `Some(reason)`: rejected (the message goes to the dead-letter queue).
        rejected: Option<String>,
    },
    /// A consumer's schema lookup got no answer in time; it nacks the delivery for redelivery.
    LookupTimeout {
        /// Consumer instance.
        at: Endpoint,
        /// The delivery it could not decode.
        msg: MessageId,
        /// The schema id it looked up.
        schema_id: u32,
    },
    /// The broker moved a message its consumer rejected to the dead-letter queue.
    Rejected {
        /// Queue name.
        queue: Arc<str>,
        /// Message.
        msg: MessageId,
        /// The consumer's reason, e.g. `unknown field age`.
        reason: String,
    },
    /// A producer sent a produce request for a record of a partitioned topic (Kafka `Produce`).
    Produce {
        /// Producer instance.
        at: Endpoint,
        /// Destination partition, `topic-partition` (`orders-2`).
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// Record key.
        key: Option<String>,
        /// Sequence number with idempotence (Kafka's `baseSequence`); `None` without.
        sequence: Option<u32>,
        /// 1 for the first send, 2 for the first retry, ...
        attempt: u32,
    },
    /// The broker appended a record to a partition.
    Append {
        /// The broker.
        broker: Endpoint,
        /// Partition (`orders-2`).
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// The offset it got.
        offset: u64,
        /// Record key.
        key: Option<String>,
    },
    /// The broker recognised a retried idempotent batch already in the log and appended nothing
    /// (answering with the original offset).
    DuplicateAppend {
        /// The broker.
        broker: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// Offset of the original append.
        offset: u64,
    },
    /// The broker refused a produce request (`OUT_OF_ORDER_SEQUENCE_NUMBER`,
    /// `INVALID_PRODUCER_EPOCH`, ...); nothing was appended.
    AppendRejected {
        /// The broker.
        broker: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// The error, with Kafka's code in parentheses.
        error: String,
    },
    /// A producer's record was acknowledged.
    ProduceAcked {
        /// Producer instance.
        at: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// Its offset.
        offset: u64,
        /// The broker had it already (idempotence).
        duplicate: bool,
    },
    /// A producer will resend a record after `retry.backoff.ms`.
    ProduceRetry {
        /// Producer instance.
        at: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// The attempt number of the coming resend.
        attempt: u32,
        /// Why (timeout, out-of-order sequence, ...).
        error: String,
    },
    /// A producer gave a record up (retries exhausted or a final error).
    ProduceFailed {
        /// Producer instance.
        at: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's message.
        msg: MessageId,
        /// The last error.
        error: String,
    },
    /// An idempotent producer bumped its epoch and renumbered its pending batches (KIP-360).
    ProducerEpochBump {
        /// Producer instance.
        at: Endpoint,
        /// Its producer id.
        producer_id: u64,
        /// The new epoch.
        epoch: u32,
    },
    /// A produce response arrived after its request had timed out; the producer ignores it.
    LateProduceResponse {
        /// Producer instance.
        at: Endpoint,
        /// The record's message.
        msg: MessageId,
    },
    /// A consumer received records of one partition in a fetch response.
    Fetch {
        /// Consumer instance.
        at: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Partition.
        tp: Arc<str>,
        /// First offset received.
        first: u64,
        /// Last offset received.
        last: u64,
    },
    /// A consumer processed a record of a partitioned topic.
    Consume {
        /// Consumer instance.
        at: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// The record's offset.
        offset: u64,
        /// The record's message.
        msg: MessageId,
        /// False when the deduplication table discarded it.
        applied: bool,
        /// False when the partition was revoked (or lost) while the record was processed: this
        /// consumer no longer tracks it, so under at-least-once its completion is not committed
        /// and the partition's next owner processes it again.
        owned: bool,
    },
    /// At-most-once: records fetched and not processed, because their commit failed (they were
    /// skipped) or the consumer lost them.
    RecordsDropped {
        /// Consumer instance.
        at: Endpoint,
        /// Partition.
        tp: Arc<str>,
        /// Their offsets.
        offsets: Vec<u64>,
        /// Why.
        reason: String,
    },
    /// The group coordinator handled one partition of an offset commit.
    OffsetCommit {
        /// The broker.
        broker: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Committing member.
        member: Arc<str>,
        /// The generation the commit carried.
        generation: u32,
        /// Partition.
        tp: Arc<str>,
        /// Offset asked for (the next record to consume).
        offset: u64,
        /// What happened.
        verdict: CommitVerdict,
    },
    /// A consumer queued a failed commit for retry (retriable error) or gave it up.
    CommitFailed {
        /// Consumer instance.
        at: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// The error.
        error: String,
        /// Queued for retry (true) or given up (false).
        queued: bool,
    },
    /// A member joined (or rejoined) its group at the coordinator.
    Join {
        /// The broker.
        broker: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Member id.
        member: Arc<str>,
        /// True when this join started a rebalance.
        rebalance_started: bool,
    },
    /// The coordinator removed a member (session timeout, or it did not rejoin in time).
    MemberRemoved {
        /// The broker.
        broker: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Member id.
        member: Arc<str>,
        /// Why.
        reason: String,
    },
    /// The coordinator completed a rebalance's join phase: a new generation and assignment.
    Rebalance {
        /// The broker.
        broker: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// The new generation.
        generation: u32,
        /// Each member with its partitions, ordered by member id.
        assignment: Vec<(Arc<str>, Vec<u32>)>,
    },
    /// A consumer gave up its partitions (eager rebalance, or membership lost).
    Revoke {
        /// Consumer instance.
        at: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// Partitions given up.
        partitions: Vec<u32>,
    },
    /// A consumer received its assignment (sync response).
    Assign {
        /// Consumer instance.
        at: Endpoint,
        /// Consumer group.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// The generation.
        generation: u32,
        /// Partitions with the committed offset it starts from (`None`: no commit yet).
        partitions: Vec<(u32, Option<u64>)>,
    },
}

/// What the group coordinator did with one partition of an offset commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitVerdict {
    /// The committed offset moved to the requested one.
    Accepted,
    /// At or below the committed offset: accepted, nothing changed (offsets only move forward).
    NoAdvance {
        /// The committed offset, unchanged.
        committed: u64,
    },
    /// Refused (`ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`, `REBALANCE_IN_PROGRESS`, ...).
    Rejected {
        /// The error, with Kafka's code.
        error: String,
    },
}

fn layer_name(l: DecoratorLayer) -> &'static str {
    match l {
        DecoratorLayer::Retry => "retry",
        DecoratorLayer::CircuitBreaker => "circuit breaker",
        DecoratorLayer::RateLimiter => "rate limiter",
        DecoratorLayer::TimeLimiter => "time limiter",
        DecoratorLayer::Bulkhead => "bulkhead",
    }
}

struct Rate(f32);
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0.0 {
            f.write_str("n/a")
        } else {
            write!(f, "{:.1}%", self.0)
        }
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Why a requester discarded a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyDiscard {
    /// Its request had timed out, its window had closed, or the requester no longer knows it.
    Late,
    /// Its request was already answered (by this responder, for a collecting request).
    Duplicate,
}

impl ReplyDiscard {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyDiscard::Late => "late",
            ReplyDiscard::Duplicate => "duplicate",
        }
    }
}

/// What happens to a message whose handler failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureOutcome {
    /// Nack with requeue: the broker redelivers it.
    Requeue,
    /// Nack without requeue: the broker dead-letters it.
    DeadLetter,
    /// Brokerless: nobody to nack to, the message is lost.
    Lost,
}

impl FailureOutcome {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureOutcome::Requeue => "nack, requeue",
            FailureOutcome::DeadLetter => "nack, dead-letter",
            FailureOutcome::Lost => "brokerless, lost",
        }
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} ", self.time)?;
        match &self.what {
            TraceKind::Send {
                transit,
                from,
                to,
                packet,
                msg,
                attempt,
                duplicate,
            } => write!(
                f,
                "{from} -> {to} {}{} attempt={attempt} #{transit}{}",
                packet.as_str(),
                MsgSuffix(*msg),
                if *duplicate { " duplicate" } else { "" }
            ),
            TraceKind::Arrive {
                transit,
                from,
                to,
                packet,
                msg,
            } => write!(
                f,
                "{from} -> {to} {}{} arrived #{transit}",
                packet.as_str(),
                MsgSuffix(*msg)
            ),
            TraceKind::Drop {
                transit,
                from,
                to,
                packet,
                msg,
                reason,
            } => write!(
                f,
                "{from} -> {to} {}{} dropped ({}) #{transit}",
                packet.as_str(),
                MsgSuffix(*msg),
                reason.as_str()
            ),
            TraceKind::Release { transit } => write!(f, "release #{transit}"),
            TraceKind::Enqueue { queue, msg, depth } => {
                write!(f, "{queue} enqueue {msg} depth={depth}")
            }
            TraceKind::Overflow { queue, msg } => write!(f, "{queue} full, {msg} dropped"),
            TraceKind::Redeliver {
                queue,
                msg,
                attempt,
                reason,
            } => write!(
                f,
                "{queue} redeliver {msg} attempt={attempt} ({})",
                reason.as_str()
            ),
            TraceKind::DeadLetter {
                queue,
                msg,
                attempts,
            } => write!(f, "{queue} dead-letter {msg} after {attempts} deliveries"),
            TraceKind::Acked {
                queue,
                msg,
                outstanding,
            } => write!(
                f,
                "{queue} ack {msg}{}",
                if *outstanding { "" } else { " (late, ignored)" }
            ),
            TraceKind::Process {
                at,
                msg,
                attempt,
                applied,
            } => write!(
                f,
                "{at} process {msg} attempt={attempt} {}",
                if *applied {
                    "effect applied"
                } else {
                    "duplicate discarded"
                }
            ),
            TraceKind::Retry { at, msg, attempt } => {
                write!(f, "{at} retry publish {msg} attempt={attempt}")
            }
            TraceKind::GiveUp { at, msg, attempts } => {
                write!(f, "{at} give up publish {msg} after {attempts} attempts")
            }
            TraceKind::Skipped { node } => {
                write!(f, "{node} workload skipped: no running instance")
            }
            TraceKind::TxBegin {
                at,
                tx,
                table,
                key,
                outbox_row,
            } => {
                write!(f, "{at} begin tx{tx} {table} {key}")?;
                match outbox_row {
                    Some(r) => write!(f, " + outbox row {r}"),
                    None => Ok(()),
                }
            }
            TraceKind::TxCommit {
                at,
                tx,
                lsn,
                outbox_row,
                msg,
            } => {
                write!(f, "{at} commit tx{tx} lsn={lsn}")?;
                if let Some(r) = outbox_row {
                    write!(f, " outbox row {r}")?;
                }
                match msg {
                    Some(m) => write!(f, " {m}"),
                    None => Ok(()),
                }
            }
            TraceKind::TxRollback { at, tx, reason } => {
                write!(f, "{at} rollback tx{tx} ({})", reason.as_str())
            }
            TraceKind::RelayRead {
                at,
                records,
                after_lsn,
            } => match after_lsn {
                Some(p) => write!(f, "{at} read {records} records from the log after lsn={p}"),
                None => write!(f, "{at} poll outbox: {records} rows"),
            },
            TraceKind::RelayMark { at, rows, deleted } => write!(
                f,
                "{at} {} {rows} rows",
                if *deleted { "delete" } else { "mark published" }
            ),
            TraceKind::RelaySave { at, position } => {
                write!(f, "{at} save position lsn={position}")
            }
            TraceKind::RelayRewind {
                at,
                msg,
                reason,
                republish,
            } => write!(
                f,
                "{at} {msg} {}: go back, publish {republish} again",
                reason.as_str()
            ),
            TraceKind::RelayStop { at, position } => {
                write!(f, "{at} stop gracefully, position lsn={position}")
            }
            TraceKind::PublishRejected { channel, msg } => {
                write!(f, "{channel} reject publish {msg}")
            }
            TraceKind::FailpointCrash { at, point } => {
                write!(f, "{at} crash at failpoint {}", point.as_str())
            }
            TraceKind::ReplicaApply {
                at,
                key,
                version,
                lag_us,
                applied,
            } => write!(
                f,
                "{at} replica {key} v{version} lag={}{}",
                SimTime(*lag_us),
                if *applied { "" } else { " stale, ignored" }
            ),
            TraceKind::ReplicaQuery {
                at,
                key,
                hit,
                source_down,
            } => write!(
                f,
                "{at} query replica {key}: {}{}",
                if *hit { "hit" } else { "miss" },
                if *source_down { " (source down)" } else { "" }
            ),
            TraceKind::ClientStatus { at, key, status } => {
                write!(f, "{at} {key} status {status}")
            }
            TraceKind::CallInvoke {
                at,
                call,
                service,
                operation,
                request,
            } => write!(
                f,
                "{at} logic -> proxy {service}.{operation} c{call}: {request} (caller blocked)"
            ),
            TraceKind::CallAttempt {
                at,
                call,
                service,
                request,
                attempt,
                app_attempt,
                req,
                target,
            } => {
                write!(f, "{at} -> {service} {request} attempt={attempt}")?;
                if *app_attempt > 0 {
                    write!(f, " app_attempt={app_attempt}")?;
                }
                write!(f, " c{call} r{req} to {target}")
            }
            TraceKind::CallWait {
                at,
                call,
                attempt,
                layer,
                until,
            } => write!(
                f,
                "{at} proxy c{call} attempt={attempt} waits in {} until {until}",
                layer_name(*layer)
            ),
            TraceKind::CallResult {
                at,
                call,
                service,
                attempt,
                req,
                status,
                error,
                elapsed_us,
            } => {
                let el = SimTime(*elapsed_us);
                match (req, status, error) {
                    (Some(r), Some(st), _) => write!(
                        f,
                        "{at} proxy <- {service} r{r} c{call} attempt={attempt}: {st} {} after {el}",
                        reason_phrase(*st)
                    ),
                    (Some(r), None, e) => write!(
                        f,
                        "{at} proxy <- {service} r{r} c{call} attempt={attempt}: failed {} after {el}",
                        e.as_deref().unwrap_or("?")
                    ),
                    (None, _, e) => write!(
                        f,
                        "{at} proxy c{call} attempt={attempt} to {service}: {} after {el}",
                        e.as_deref().unwrap_or("?")
                    ),
                }
            }
            TraceKind::CallRetry {
                at,
                call,
                layer,
                attempt,
                wait_us,
            } => match layer {
                RetryLayer::Client => write!(
                    f,
                    "{at} proxy retry c{call} attempt={attempt} in {}",
                    SimTime(*wait_us)
                ),
                RetryLayer::Application => write!(
                    f,
                    "{at} logic retry c{call} app_attempt={attempt} in {}",
                    SimTime(*wait_us)
                ),
            },
            TraceKind::CallFallback {
                at,
                call,
                status,
                error,
            } => write!(
                f,
                "{at} proxy c{call} fallback {status} {} (after {error})",
                reason_phrase(*status)
            ),
            TraceKind::CallDone {
                at,
                call,
                service,
                status,
                error,
                fallback,
                attempts,
                requests,
                elapsed_us,
            } => {
                write!(f, "{at} proxy -> logic c{call} {service} ")?;
                match (status, error, fallback) {
                    (Some(st), _, true) => write!(f, "fallback {st} {}", reason_phrase(*st))?,
                    (Some(st), Some(e), false) => write!(f, "{st} {} ({e})", reason_phrase(*st))?,
                    (Some(st), None, false) => write!(f, "{st} {}", reason_phrase(*st))?,
                    (None, e, _) => write!(f, "failed {}", e.as_deref().unwrap_or("?"))?,
                }
                write!(
                    f,
                    " after {}, {}, {} (caller unblocked)",
                    plural(*attempts, "attempt", "attempts"),
                    plural(*requests, "request", "requests"),
                    SimTime(*elapsed_us)
                )
            }
            TraceKind::CallSkipped { at, service, rel } => write!(
                f,
                "{at} logic: no `{rel}` link in the last {service} representation, step skipped"
            ),
            TraceKind::ServerQueued {
                at,
                req,
                request,
                depth,
            } => write!(f, "{at} adapter queued r{req} {request} depth={depth}"),
            TraceKind::ServerRejected { at, req, status } => write!(
                f,
                "{at} adapter rejects r{req}: queue full ({status} {})",
                reason_phrase(*status)
            ),
            TraceKind::ServerStart {
                at,
                req,
                request,
                operation,
                waited_us,
            } => write!(
                f,
                "{at} adapter r{req} {request} -> logic {operation} (queued {})",
                SimTime(*waited_us)
            ),
            TraceKind::ServerReply {
                at,
                req,
                status,
                elapsed_us,
            } => write!(
                f,
                "{at} logic -> adapter r{req} {status} {} after {}",
                reason_phrase(*status),
                SimTime(*elapsed_us)
            ),
            TraceKind::LateResponse { at, req, status } => match status {
                Some(st) => write!(
                    f,
                    "{at} proxy discards late r{req} {st} {}",
                    reason_phrase(*st)
                ),
                None => write!(f, "{at} proxy discards late r{req} reset"),
            },
            TraceKind::BreakerTransition {
                at,
                service,
                from,
                to,
                failure_rate,
                slow_call_rate,
            } => write!(
                f,
                "{at} breaker {service} {from} -> {to} (failure rate {}, slow calls {})",
                Rate(*failure_rate),
                Rate(*slow_call_rate)
            ),
            TraceKind::Registered {
                registry,
                service,
                instance,
                addr,
                by,
                expires_at,
            } => write!(
                f,
                "{registry} registered {service}#{instance} at {addr} by {by}, lease until {expires_at}"
            ),
            TraceKind::Expired {
                registry,
                service,
                instance,
                renewed_at,
            } => write!(
                f,
                "{registry} lease of {service}#{instance} expired (last renewed {renewed_at})"
            ),
            TraceKind::Deregistered {
                registry,
                service,
                instance,
                by,
            } => write!(f, "{registry} deregistered {service}#{instance} by {by}"),
            TraceKind::CacheRefreshed {
                at,
                service,
                instances,
            } => {
                write!(f, "{at} discovery {service} = [")?;
                for (k, i) in instances.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "#{i}")?;
                }
                f.write_str("]")
            }
            TraceKind::Routed { router, req, to } => write!(f, "{router} routes r{req} to {to}"),
            TraceKind::ProbeFailed {
                registrar,
                target,
                consecutive,
            } => write!(
                f,
                "{registrar} probe of {target} failed ({consecutive} in a row)"
            ),
            TraceKind::Encode {
                at,
                msg,
                schema,
                schema_id,
                encoding,
                json_bytes,
                avro_bytes,
            } => write!(
                f,
                "{at} encode {msg} {schema} id={schema_id} {encoding} (json {json_bytes} B, avro {avro_bytes} B)"
            ),
            TraceKind::ProduceRejected { at, msg, reason } => {
                write!(f, "{at} refuses to send {msg}: {reason}")
            }
            TraceKind::Decode {
                at,
                msg,
                writer,
                reader,
                mode,
                rejected,
            } => match rejected {
                None => write!(f, "{at} decode {msg} {writer} as {reader} {mode}: accepted"),
                Some(r) => write!(
                    f,
                    "{at} decode {msg} {writer} as {reader} {mode}: rejected ({r})"
                ),
            },
            TraceKind::LookupTimeout { at, msg, schema_id } => write!(
                f,
                "{at} schema id {schema_id} lookup timed out, nack {msg}"
            ),
            TraceKind::Rejected { queue, msg, reason } => {
                write!(f, "{queue} dead-letter {msg} rejected: {reason}")
            }
            TraceKind::Command { command } => write!(f, "command {command}"),
            TraceKind::RequestSent {
                at,
                msg,
                reply_to,
                until,
                collect,
            } => write!(
                f,
                "{at} request {msg} reply_to={reply_to} {}={until}",
                if *collect {
                    "collect_until"
                } else {
                    "timeout_at"
                }
            ),
            TraceKind::ReplySent {
                at,
                msg,
                correlation,
                channel,
            } => write!(f, "{at} reply {msg} to {correlation} on {channel}"),
            TraceKind::RequestCompleted {
                at,
                msg,
                correlation,
                elapsed,
            } => write!(
                f,
                "{at} reply {msg} completes request {correlation} after {elapsed}"
            ),
            TraceKind::RequestTimedOut { at, msg } => write!(f, "{at} request {msg} timed out"),
            TraceKind::ReplyCollected {
                at,
                msg,
                correlation,
                responder,
                replies,
            } => write!(
                f,
                "{at} reply {msg} to {correlation} from {responder} collected ({replies} so far)"
            ),
            TraceKind::Decided {
                at,
                msg,
                replies,
                expected,
            } => write!(
                f,
                "{at} decided request {msg} with {replies} of {expected} replies"
            ),
            TraceKind::ReplyDiscarded {
                at,
                msg,
                correlation,
                reason,
            } => write!(
                f,
                "{at} reply {msg} to {correlation} discarded ({})",
                reason.as_str()
            ),
            TraceKind::HandlerFailed {
                at,
                msg,
                attempt,
                outcome,
            } => write!(
                f,
                "{at} handler failed {msg} attempt={attempt} ({})",
                outcome.as_str()
            ),
            TraceKind::Nacked {
                queue,
                msg,
                requeue,
                outstanding,
            } => write!(
                f,
                "{queue} nack {msg} ({}){}",
                if *requeue { "requeue" } else { "dead-letter" },
                if *outstanding { "" } else { ", late, ignored" }
            ),
            TraceKind::BrokerDuplicate {
                channel,
                msg,
                first_seen,
            } => write!(
                f,
                "{channel} duplicate {msg} confirmed, not enqueued (first seen at {first_seen})"
            ),
            TraceKind::QueueLost { queue, messages } => write!(
                f,
                "{queue} lost {messages} messages (non-durable, broker crashed)"
            ),
            TraceKind::BacklogLost { broker, packets } => {
                write!(
                    f,
                    "{broker} crashed with {packets} packets in its backlog: lost"
                )
            }
            TraceKind::InstanceLost {
                at,
                direct,
                requests,
            } => write!(
                f,
                "{at} crashed: {direct} direct messages lost, {requests} pending requests abandoned"
            ),
            TraceKind::IdempotentSet {
                at,
                msg,
                key,
                changed,
            } => write!(
                f,
                "{at} set {key} by {msg} {}",
                if *changed {
                    "effect applied"
                } else {
                    "unchanged (idempotent)"
                }
            ),
            other => partitioned::fmt(other, f),
        }
    }
}

/// Trace settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceConfig {
    /// Keep and hash events at all. Default true. Benchmarks turn it off to measure the engine
    /// alone; then [`Trace::hash`] stays at its initial value.
    pub enabled: bool,
    /// Events kept in memory (older ones are evicted). Default 10 000.
    pub capacity: usize,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig {
            enabled: true,
            capacity: 10_000,
        }
    }
}

/// Bounded trace buffer with a running hash. The events kept are a [`ring::Ring`]: chunks of
/// [`ring::CHUNK`] events that clones share (a timeline checkpoint copies only the open chunk).
#[derive(Clone, Debug)]
pub struct Trace {
    config: TraceConfig,
    events: ring::Ring<TraceEvent>,
    next_seq: u64,
    /// Running trace hash (see [`hash`]: a stable binary encoding of each event, FxHash-folded).
    hash: u64,
    /// Checks the scenario's claims on every event pushed (see [`crate::invariants`]).
    invariants: Option<Box<crate::invariants::InvariantChecker>>,
}

impl Trace {
    /// An empty trace.
    pub fn new(config: TraceConfig) -> Trace {
        Trace {
            config,
            events: ring::Ring::new(config.capacity),
            next_seq: 0,
            hash: hash::HASH_SEED,
            invariants: None,
        }
    }

    /// Whether events are recorded.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    pub(crate) fn push(&mut self, time: SimTime, what: TraceKind) {
        self.push_keyed(time, what, None);
    }

    /// [`Trace::push`] with the message's channel and key, which the line does not show, for
    /// the invariant checker's per-key order.
    pub(crate) fn push_keyed(&mut self, time: SimTime, what: TraceKind, key: Option<(&str, &str)>) {
        let event = TraceEvent {
            seq: self.next_seq,
            time,
            what,
        };
        if let Some(c) = self.invariants.as_mut() {
            c.observe(&event, key);
        }
        self.next_seq += 1;
        self.hash = hash::fold_event(self.hash, event.time.0, &event.what);
        self.events.push(event);
    }

    /// Tells the invariant checker (if any) about a command being applied at `time`, before its
    /// `command` event is pushed.
    pub(crate) fn note_command(&mut self, time: SimTime, cmd: &crate::command::Command) {
        if let Some(c) = self.invariants.as_mut() {
            c.command(time, cmd);
        }
    }

    /// Checks `checker`'s claims on every event from now on.
    pub(crate) fn set_invariants(&mut self, checker: crate::invariants::InvariantChecker) {
        self.invariants = Some(Box::new(checker));
    }

    /// The claims checked and where they stand (empty without claims).
    pub fn invariants(&self) -> &[crate::invariants::InvariantStatus] {
        self.invariants.as_deref().map_or(&[], |c| c.statuses())
    }

    /// The hash of every event so far, evicted ones included: each event's stable binary
    /// encoding (virtual time, then its fields in declaration order; see [`hash`]) folded with the
    /// FxHash step. Identical natively and in wasm32. (Before version 2 it was the FNV-1a 64 hash
    /// of every event's text line.)
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Events kept in memory at most (the ring's cap, [`TraceConfig::capacity`]).
    pub fn capacity(&self) -> usize {
        self.config.capacity
    }

    /// Events recorded so far, evicted ones included.
    pub fn len_total(&self) -> u64 {
        self.next_seq
    }

    /// The events still in memory, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter_from(0)
    }

    /// Events with `seq >= from`, oldest first (those still in memory).
    pub fn since(&self, from: u64) -> impl Iterator<Item = &TraceEvent> {
        let first = self.events.front().map(|e| e.seq).unwrap_or(self.next_seq);
        let skip = usize::try_from(from.saturating_sub(first)).unwrap_or(usize::MAX);
        self.events.iter_from(skip)
    }

    /// The ring of events kept (to measure what clones share: [`ring::Ring::chunks`],
    /// [`ring::Ring::items_not_shared_with`]).
    pub fn ring(&self) -> &ring::Ring<TraceEvent> {
        &self.events
    }
}

/// ` m17` for a message, nothing for [`MessageId`] 0, which packets that carry no message (the
/// consumer-group protocol, fetches) use.
struct MsgSuffix(MessageId);

impl fmt::Display for MsgSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 .0 == 0 {
            Ok(())
        } else {
            write!(f, " {}", self.0)
        }
    }
}
