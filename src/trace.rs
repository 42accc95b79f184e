//! The trace: one event per thing that happens, each with a one-line `Display`.
//!
//! The trace is a bounded ring buffer (default 10 000 events; older ones are evicted) plus a
//! running FNV-1a hash over the `Display` line of *every* event, evicted or not. Two runs with the
//! same seed and the same commands have the same hash; that is the determinism check, natively and
//! in wasm.

use crate::message::MessageId;
use crate::network::DropReason;
use crate::time::SimTime;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::hash::Hasher;
use std::sync::Arc;

mod partitioned;

/// A node instance: `kitchen#1`. A broker is always instance 0 and prints without `#0`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Node name.
    pub node: Arc<str>,
    /// Instance index.
    pub instance: u32,
    /// Whether the node is a broker (prints without the instance suffix).
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
}

impl RedeliveryReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RedeliveryReason::AckTimeout => "ack_timeout",
            RedeliveryReason::ConnectionReset => "connection_reset",
            RedeliveryReason::BrokerRestart => "broker_restart",
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
            TraceKind::Command { command } => write!(f, "command {command}"),
            other => partitioned::fmt(other, f),
        }
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

/// Bounded trace buffer with a running hash.
#[derive(Clone, Debug)]
pub struct Trace {
    config: TraceConfig,
    events: VecDeque<TraceEvent>,
    next_seq: u64,
    /// FNV-1a state (the hasher is only its `u64`).
    hash: u64,
    line: String,
}

impl Trace {
    /// An empty trace.
    pub fn new(config: TraceConfig) -> Trace {
        Trace {
            config,
            events: VecDeque::with_capacity(config.capacity.min(1024)),
            next_seq: 0,
            hash: fnv::FnvHasher::default().finish(),
            line: String::new(),
        }
    }

    /// Whether events are recorded.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    pub(crate) fn push(&mut self, time: SimTime, what: TraceKind) {
        let event = TraceEvent {
            seq: self.next_seq,
            time,
            what,
        };
        self.next_seq += 1;
        self.line.clear();
        let _ = writeln!(self.line, "{event}");
        let mut h = fnv::FnvHasher::with_key(self.hash);
        h.write(self.line.as_bytes());
        self.hash = h.finish();
        if self.config.capacity == 0 {
            return;
        }
        if self.events.len() == self.config.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The FNV-1a 64 hash of every event line so far (`Display` + `\n`).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Events recorded so far, evicted ones included.
    pub fn len_total(&self) -> u64 {
        self.next_seq
    }

    /// The events still in memory, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }

    /// Events with `seq >= from`, oldest first (those still in memory).
    pub fn since(&self, from: u64) -> impl Iterator<Item = &TraceEvent> {
        let first = self.events.front().map(|e| e.seq).unwrap_or(self.next_seq);
        let skip = from.saturating_sub(first) as usize;
        self.events.iter().skip(skip)
    }
}
