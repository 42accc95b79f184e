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
    /// Consumer -> broker: delivery refused (AMQP `basic.nack`): requeued for redelivery, or
    /// dead-lettered with a reason (a message the consumer's reader rejected).
    Nack,
    /// Consumer -> schema registry: "which schema has id N?".
    SchemaLookup,
    /// Schema registry -> consumer: the schema for a lookup.
    SchemaReply,
}

impl PacketKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PacketKind::Publish => "publish",
            PacketKind::PublishAck => "publish_ack",
            PacketKind::Deliver => "deliver",
            PacketKind::Ack => "ack",
            PacketKind::Nack => "nack",
            PacketKind::SchemaLookup => "schema_lookup",
            PacketKind::SchemaReply => "schema_reply",
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
    /// The consumer nacked the delivery for redelivery (it could not decode it yet: the writer
    /// schema lookup failed).
    Nack,
}

impl RedeliveryReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RedeliveryReason::AckTimeout => "ack_timeout",
            RedeliveryReason::ConnectionReset => "connection_reset",
            RedeliveryReason::BrokerRestart => "broker_restart",
            RedeliveryReason::Nack => "nack",
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
                "{from} -> {to} {} {msg} attempt={attempt} #{transit}{}",
                packet.as_str(),
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
                "{from} -> {to} {} {msg} arrived #{transit}",
                packet.as_str()
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
                "{from} -> {to} {} {msg} dropped ({}) #{transit}",
                packet.as_str(),
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
