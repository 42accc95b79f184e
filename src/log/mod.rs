//! Kafka-style partitioned logs in virtual time: topics, producers, consumer groups, consumers,
//! and a broker-side duplicate-detection window, with the semantics (and the vocabulary) of
//! Apache Kafka 3.x.
//!
//! Every type here is a plain state machine driven by the host (the msgsim event loop). None of
//! them reads a clock, draws randomness, sleeps or schedules anything: the host passes the
//! current virtual time (`now_us`, `u64` microseconds) where time matters, and each call returns
//! what happened — appended offsets, producer events, a rebalance plan, records to process, a
//! commit to send — for the host to put on its queue and show in the UI. Only ordered collections
//! are used (`Vec`, `VecDeque`, `BTreeMap`, `BTreeSet`), so every output is deterministic. No
//! call panics on any config value or any order of host calls: misuse is a [`LogError`].
//!
//! # Modules
//!
//! | module | what | Kafka counterpart |
//! | --- | --- | --- |
//! | [`topic`] | [`PartitionedTopic`]: partitions, offsets, log-start / log-end offset, record-count retention; broker-side idempotence (sequence checks, duplicate batches) | `Log`, `ProducerStateManager` |
//! | [`partitioner`] | [`murmur2`], keyed and round-robin partitioning | `Utils.murmur2`, `DefaultPartitioner` |
//! | [`producer`] | [`Producer`]: accumulator, in-flight requests, retries, acks, sequence numbers, epoch bumps | `KafkaProducer`, `Sender` |
//! | [`assignor`] | range and round-robin assignment | `RangeAssignor`, `RoundRobinAssignor` |
//! | [`group`] | [`GroupCoordinator`]: members, generations, rebalances, committed offsets (forward only), lag | `GroupCoordinator` (classic protocol) |
//! | [`consumer`] | [`Consumer`]: positions, `max.poll.records`, workers per partition, [`OffsetTracker`], at-most-once / at-least-once | `KafkaConsumer`, Parallel Consumer's offset map |
//! | [`dedup`] | [`DedupWindow`]: "was this message id seen in the last `window_us`?" | NATS JetStream `duplicate_window`, SQS FIFO deduplication interval, Azure Service Bus duplicate detection |
//!
//! # A round trip
//!
//! 1. A [`Producer`] `send`s (or `send_record`s) batches; `poll_requests(now)` yields
//!    [`ProduceRequest`]s; the host delivers each to [`PartitionedTopic::append_request`] and the
//!    result back to `Producer::on_response`, or loses it and reports
//!    [`LogError::RequestTimedOut`].
//! 2. A [`GroupCoordinator`] learns of members (`join`, `leave`, `member_failed`), and the host
//!    completes each rebalance (`complete_join`, `complete_sync`, or `rebalance`), passing the
//!    generation and assignment to each [`Consumer`] (`on_joined`, `on_assignment`).
//! 3. Each [`Consumer`] `poll`s the topic, the host processes the records and calls `complete`,
//!    and commits go to [`GroupCoordinator::commit`] and back to `Consumer::on_commit_response`.
//!    When records travel over a network, the host sends [`Consumer::fetch_positions`] to the
//!    broker, which answers with [`PartitionSlice::read`]s; the consumer polls the
//!    [`FetchedSlice`] it received (its fetch buffer) instead of the topic.
//! 4. [`GroupCoordinator::lag`] gives `log-end offset − committed offset` per partition.
//!
//! # Units and limits
//!
//! Times are virtual µs (`u64`). Everything that grows is bounded: [`MAX_PARTITIONS`] partitions
//! per topic, retention ≤ [`topic::MAX_RETENTION_RECORDS`] records per partition,
//! [`MAX_BATCH_RECORDS`] records per batch, [`MAX_PENDING_BATCHES`] batches per producer,
//! [`MAX_GROUP_MEMBERS`] members and [`MAX_GROUP_TOPICS`] topics per group,
//! [`topic::MAX_PRODUCERS_PER_PARTITION`] producers' idempotence state per partition, and the
//! consumer's and dedup window's limits in their modules.

pub mod assignor;
pub mod consumer;
pub mod dedup;
pub mod error;
pub mod group;
pub mod partitioner;
pub mod producer;
pub mod topic;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use assignor::{assign, AssignmentStrategy};
pub use consumer::{
    AutoOffsetReset, CommitOutcome, Consumer, ConsumerConfig, DeliveryGuarantee, FetchSource,
    FetchedRecord, FetchedSlice, OffsetReset, OffsetTracker, PartitionSlice, Poll, ResetReason,
};
pub use dedup::{DedupConfig, DedupVerdict, DedupWindow};
pub use error::LogError;
pub use group::{
    CommitRequest, CommitResponse, CommitResult, CommittedOffset, DepartedMember, DepartureReason,
    GroupCoordinator, GroupState, MemberRebalance, MembershipChange, PartitionLag, PartitionMove,
    Rebalance,
};
pub use partitioner::{murmur2, partition_for_key, to_positive, Partitioner};
pub use producer::{Acks, ProduceRequest, Producer, ProducerConfig, ProducerEvent};
pub use topic::{
    AppendOutcome, BatchRecord, PartitionLog, PartitionedTopic, Record, RecordBatch, TopicConfig,
};

/// A producer id (Kafka's `producerId`, an `int64` there), chosen by the host, unique among
/// producers.
pub type ProducerId = u64;

/// Most partitions a topic may have.
pub const MAX_PARTITIONS: u32 = 1_024;

/// Most records in one batch.
pub const MAX_BATCH_RECORDS: usize = 10_000;

/// Most batches a producer holds unacknowledged (Kafka's `buffer.memory`, counted in batches).
pub const MAX_PENDING_BATCHES: usize = 100_000;

/// Most members in one group (Kafka's `group.max.size`, unbounded by default there).
pub const MAX_GROUP_MEMBERS: usize = 1_024;

/// Most topics one group consumes.
pub const MAX_GROUP_TOPICS: usize = 64;

/// A partition of a topic (Kafka's `TopicPartition`). Ordered by topic name, then partition,
/// which is the order Kafka's assignors sort partitions in. Displays as `orders-2`, as Kafka
/// prints it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number, from 0.
    pub partition: u32,
}

impl TopicPartition {
    /// Partition `partition` of `topic`.
    pub fn new(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition {
            topic: topic.to_string(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}
