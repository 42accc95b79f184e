//! The one error type of the `log` module.
//!
//! Every fallible call returns [`LogError`]; none of them panics, whatever the config values or
//! the order of host calls. A variant that mirrors a Kafka protocol error names it in its message
//! (`OUT_OF_ORDER_SEQUENCE_NUMBER`, `ILLEGAL_GENERATION`, ...), so the UI can show the term a
//! Kafka user knows. A rejected call leaves the state machine unchanged.

use super::TopicPartition;
use serde::Serialize;
use thiserror::Error;

/// What went wrong in a `log` call.
///
/// Some variants are *protocol answers* that a broker or coordinator sends back and a client
/// reacts to (see [`LogError::is_retriable`]); the others reject a host call that makes no sense
/// (an unknown partition, a request id that is not in flight, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Error)]
pub enum LogError {
    /// A configuration value is out of range. `field` uses Kafka's property name where there is
    /// one (`max.in.flight.requests.per.connection`).
    #[error("invalid config {field} = {value}: {expected}")]
    InvalidConfig {
        /// The field, by its Kafka property name where it has one.
        field: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What the value must be.
        expected: &'static str,
    },
    /// The topic does not exist here (Kafka's `UNKNOWN_TOPIC_OR_PARTITION`).
    #[error("unknown topic `{topic}` (UNKNOWN_TOPIC_OR_PARTITION)")]
    UnknownTopic {
        /// The topic name as given.
        topic: String,
    },
    /// The topic has no such partition (Kafka's `UNKNOWN_TOPIC_OR_PARTITION`).
    #[error("topic `{topic}` has no partition {partition} (it has {partitions}) (UNKNOWN_TOPIC_OR_PARTITION)")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: u32,
        /// How many partitions the topic has.
        partitions: u32,
    },
    /// A fetch asked for an offset outside `[log-start offset, log-end offset]` (Kafka's
    /// `OFFSET_OUT_OF_RANGE`); the consumer then applies `auto.offset.reset`.
    #[error("offset {offset} of {tp} is out of range [{log_start_offset}, {log_end_offset}] (OFFSET_OUT_OF_RANGE)")]
    OffsetOutOfRange {
        /// The partition.
        tp: TopicPartition,
        /// The offset asked for.
        offset: u64,
        /// The partition's log-start offset.
        log_start_offset: u64,
        /// The partition's log-end offset.
        log_end_offset: u64,
    },
    /// A batch with no records.
    #[error("a batch must hold at least one record")]
    EmptyBatch,
    /// A batch with more records than [`super::MAX_BATCH_RECORDS`] (Kafka's
    /// `RECORD_LIST_TOO_LARGE`, there in bytes).
    #[error("a batch of {records} records exceeds the limit of {max} (RECORD_LIST_TOO_LARGE)")]
    BatchTooLarge {
        /// Records in the batch.
        records: usize,
        /// The limit.
        max: usize,
    },
    /// An idempotent batch whose base sequence is not the one the partition expects from this
    /// producer (Kafka's `OUT_OF_ORDER_SEQUENCE_NUMBER`). Nothing was appended; the producer
    /// retries its batches in sequence order.
    #[error("producer {producer_id} on {tp}: expected sequence {expected}, got {got} (OUT_OF_ORDER_SEQUENCE_NUMBER)")]
    OutOfOrderSequence {
        /// The producer id.
        producer_id: u64,
        /// The partition.
        tp: TopicPartition,
        /// The base sequence the partition expects next.
        expected: u32,
        /// The batch's base sequence.
        got: u32,
    },
    /// A batch from an older producer epoch than the partition has seen (Kafka's
    /// `INVALID_PRODUCER_EPOCH`): a stale request from before an epoch bump. Not retriable.
    #[error("producer {producer_id} on {tp}: epoch {got} is older than the current epoch {current} (INVALID_PRODUCER_EPOCH)")]
    InvalidProducerEpoch {
        /// The producer id.
        producer_id: u64,
        /// The partition.
        tp: TopicPartition,
        /// The partition's current epoch for this producer.
        current: u32,
        /// The batch's epoch.
        got: u32,
    },
    /// The host reports that a request (or its response) was lost: Kafka's client-side
    /// `TimeoutException` after `request.timeout.ms`. Retriable.
    #[error("request timed out (TimeoutException)")]
    RequestTimedOut,
    /// The host reports a broken connection (Kafka's `NetworkException`). Retriable.
    #[error("network error (NETWORK_EXCEPTION)")]
    NetworkException,
    /// A producer accumulator that already holds [`super::MAX_PENDING_BATCHES`] batches (Kafka
    /// blocks `send` for `max.block.ms` when `buffer.memory` is full, then throws).
    #[error("producer {producer_id}: {max} batches already pending (buffer exhausted)")]
    BufferExhausted {
        /// The producer id.
        producer_id: u64,
        /// The limit.
        max: usize,
    },
    /// A response for a request id that the producer does not have in flight (already answered,
    /// never sent, or sent with `acks=0`).
    #[error("producer {producer_id} has no request {request_id} in flight")]
    UnknownRequest {
        /// The producer id.
        producer_id: u64,
        /// The request id.
        request_id: u64,
    },
    /// A member id that is not in the group (Kafka's `UNKNOWN_MEMBER_ID`). Not retriable for a
    /// commit: the member must rejoin.
    #[error("group `{group}` has no member `{member}` (UNKNOWN_MEMBER_ID)")]
    UnknownMember {
        /// The group id.
        group: String,
        /// The member id.
        member: String,
    },
    /// An empty member id.
    #[error("a member id must not be empty")]
    EmptyMemberId,
    /// The group already has [`super::MAX_GROUP_MEMBERS`] members (Kafka's
    /// `GROUP_MAX_SIZE_REACHED`).
    #[error("group `{group}` already has {max} members (GROUP_MAX_SIZE_REACHED)")]
    GroupMaxSizeReached {
        /// The group id.
        group: String,
        /// The limit.
        max: usize,
    },
    /// A commit carrying a generation that is not the group's current one (Kafka's
    /// `ILLEGAL_GENERATION`): the member missed a rebalance. Not retriable (Kafka's
    /// `CommitFailedException`).
    #[error("group `{group}`: generation {got} is not the current generation {current} (ILLEGAL_GENERATION)")]
    IllegalGeneration {
        /// The group id.
        group: String,
        /// The group's current generation.
        current: u32,
        /// The generation the request carried.
        got: u32,
    },
    /// A commit that arrives while the group is between the end of its join phase and the end of
    /// its sync phase (Kafka's `REBALANCE_IN_PROGRESS`). Retriable once the rebalance completes.
    #[error("group `{group}`: rebalance in progress (REBALANCE_IN_PROGRESS)")]
    RebalanceInProgress {
        /// The group id.
        group: String,
    },
    /// A rebalance step called in a group state where it does not apply.
    #[error("group `{group}` is {state}: cannot {action}")]
    InvalidGroupState {
        /// The group id.
        group: String,
        /// The group's state, as Kafka names it.
        state: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// A consumer call about a partition the consumer is not assigned (revoked, or never given).
    #[error("consumer `{member}` is not assigned {tp}")]
    NotAssigned {
        /// The member id.
        member: String,
        /// The partition.
        tp: TopicPartition,
    },
    /// `complete` for an offset that is not being processed by this consumer.
    #[error("offset {offset} of {tp} is not in progress")]
    NotInProgress {
        /// The partition.
        tp: TopicPartition,
        /// The offset.
        offset: u64,
    },
    /// An offset handed to an offset tracker out of order: the tracker hands out offsets in
    /// sequence and expected `expected`.
    #[error("offset {got} handed out of order: expected {expected}")]
    NonContiguousOffset {
        /// The next offset the tracker expected.
        expected: u64,
        /// The offset given.
        got: u64,
    },
    /// A commit response for a commit id the consumer does not have in flight.
    #[error("consumer `{member}` has no commit {commit_id} in flight")]
    UnknownCommit {
        /// The member id.
        member: String,
        /// The commit id.
        commit_id: u64,
    },
}

impl LogError {
    /// `true` for the errors a Kafka client retries: [`LogError::RequestTimedOut`],
    /// [`LogError::NetworkException`], [`LogError::OutOfOrderSequence`] (an idempotent producer
    /// resends its batches in sequence order) and [`LogError::RebalanceInProgress`] (a commit is
    /// retried after the rebalance). Everything else is final for the request.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            LogError::RequestTimedOut
                | LogError::NetworkException
                | LogError::OutOfOrderSequence { .. }
                | LogError::RebalanceInProgress { .. }
        )
    }

    pub(crate) fn invalid(
        field: &'static str,
        value: impl std::fmt::Display,
        expected: &'static str,
    ) -> LogError {
        LogError::InvalidConfig {
            field,
            value: value.to_string(),
            expected,
        }
    }
}
