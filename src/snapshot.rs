//! Snapshots: plain data describing the state at one virtual time, for drawing and for tests.

use crate::message::MessageId;
use crate::network::{DropReason, LinkFaults};
use crate::scenario::{ChannelKind, DuplicateHandling, NodeKind};
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
    pub queues: Vec<QueueView>,
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
    /// Partitioned topics (channels of kind `partitioned_topic`), in channel order.
    pub partitioned_topics: Vec<PartitionedTopicView>,
}
