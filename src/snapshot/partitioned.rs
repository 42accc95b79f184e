//! Snapshot views of partitioned topics: partitions as lanes of offsets, consumer groups with
//! generation, members, ownership, committed offsets and lag, recent rebalances, producers and
//! consumer instances. Plain data for drawing and tests.

use crate::message::MessageId;
use crate::time::SimTime;
use serde::Serialize;

/// Records of a partition shown in [`PartitionView::records`] (the newest).
pub const RECORDS_SHOWN: usize = 32;
/// Rebalances kept per group in [`ConsumerGroupView::rebalances`] (the newest).
pub const REBALANCES_KEPT: usize = 16;

/// A partitioned topic (`kind: "partitioned_topic"`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionedTopicView {
    /// Topic (channel) name.
    pub name: String,
    /// Hosting broker.
    pub broker: String,
    /// Partitions, partition 0 first.
    pub partitions: Vec<PartitionView>,
    /// One consumer group per consuming service, in the channel's `consumers` order.
    pub groups: Vec<ConsumerGroupView>,
    /// Producer instances that have sent to it, by (service, instance).
    pub producers: Vec<ProducerView>,
    /// Records appended (all partitions, since the start).
    pub appended: u64,
    /// Retried batches the broker recognised and discarded (idempotence).
    pub duplicates_discarded: u64,
    /// Produce requests refused (out-of-order sequence, old epoch).
    pub rejected: u64,
}

/// One partition: a lane of offsets `[log_start_offset, log_end_offset)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionView {
    /// Partition number.
    pub partition: u32,
    /// Offset of the oldest retained record (Kafka's log-start offset).
    pub log_start_offset: u64,
    /// Offset the next record will get (Kafka's log-end offset).
    pub log_end_offset: u64,
    /// The newest retained records (at most [`RECORDS_SHOWN`]), oldest first.
    pub records: Vec<RecordView>,
}

/// One record of a partition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordView {
    /// Its offset.
    pub offset: u64,
    /// Its key.
    pub key: Option<String>,
    /// Its message (a retried or duplicated send carries the same id: a record twice in a lane
    /// is a duplicate).
    pub msg: MessageId,
    /// The producer that appended it.
    pub producer_id: u64,
    /// Its sequence number (idempotent producer), `None` without idempotence.
    pub sequence: Option<u32>,
    /// Virtual time of the append (Kafka's `LogAppendTime`).
    pub append_time: SimTime,
}

/// A consumer group of a partitioned topic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerGroupView {
    /// `group.id`.
    pub group: String,
    /// The consuming service.
    pub consumer: String,
    /// Kafka's group state: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`.
    pub state: &'static str,
    /// Generation (0 before the first rebalance; every rebalance makes a new one).
    pub generation: u32,
    /// `at_least_once` or `at_most_once`.
    pub delivery: &'static str,
    /// `range` or `round_robin`.
    pub assignment: &'static str,
    /// Members as the coordinator knows them, ordered by member id.
    pub members: Vec<GroupMemberView>,
    /// Per partition: owner, committed offset, lag.
    pub partitions: Vec<GroupPartitionView>,
    /// The consumer instances of the service (crashed ones absent).
    pub instances: Vec<ConsumerInstanceView>,
    /// The newest rebalances (at most [`REBALANCES_KEPT`]), oldest first.
    pub rebalances: Vec<RebalanceView>,
    /// Rebalances completed since the start.
    pub rebalance_count: u64,
}

/// A member of a group at the coordinator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupMemberView {
    /// Member id (`kitchen#0`; a restarted or re-admitted instance gets `kitchen#0.1`, ...).
    pub member_id: String,
    /// The service instance behind it.
    pub instance: u32,
    /// Partitions it owns in the current generation (empty while a rebalance is in progress).
    pub partitions: Vec<u32>,
    /// Last time the coordinator heard from it (heartbeat, join, sync).
    pub last_seen: SimTime,
    /// When its session expires unless it is heard from again.
    pub session_expires: SimTime,
}

/// One partition as a group sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupPartitionView {
    /// Partition number.
    pub partition: u32,
    /// Owning member in the current generation, if any.
    pub owner: Option<String>,
    /// The owning member's instance.
    pub owner_instance: Option<u32>,
    /// Committed offset (next record to consume), if any commit was made.
    pub committed: Option<u64>,
    /// Log-end offset − committed offset (without a commit: − log-start offset).
    pub lag: u64,
}

/// A consumer instance's client-side state for one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerInstanceView {
    /// Instance index.
    pub instance: u32,
    /// Its current member id, if it has one.
    pub member_id: Option<String>,
    /// `joining`, `syncing`, `stable`, `rejoining` (finishing its records before it rejoins)
    /// or `revoking` (committing before it rejoins).
    pub phase: &'static str,
    /// The generation it knows.
    pub generation: Option<u32>,
    /// Its partitions with the position (next offset to hand out, once known), the
    /// committable offset and the offsets being processed.
    pub partitions: Vec<ConsumerPartitionView>,
    /// Commits queued for retry.
    pub queued_commits: u32,
}

/// A partition held by a consumer instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerPartitionView {
    /// Partition number.
    pub partition: u32,
    /// Next offset to hand out to a worker.
    pub position: Option<u64>,
    /// Everything below it is processed (what a commit may carry).
    pub committable: Option<u64>,
    /// Offsets being processed (one per busy worker), ascending.
    pub in_progress: Vec<u64>,
}

/// A completed rebalance (join phase), for animation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RebalanceView {
    /// When.
    pub at: SimTime,
    /// The new generation.
    pub generation: u32,
    /// Every member after it, ordered by id.
    pub members: Vec<MemberMoveView>,
    /// Members gone since the previous rebalance, with what they owned.
    pub departed: Vec<DepartedView>,
    /// Partitions that changed owner.
    pub moves: Vec<PartitionMoveView>,
}

/// One member's part in a rebalance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberMoveView {
    /// Member id.
    pub member_id: String,
    /// Joined since the previous rebalance.
    pub joined: bool,
    /// Partitions before.
    pub owned_before: Vec<u32>,
    /// Partitions after.
    pub owned_after: Vec<u32>,
    /// Taken from it.
    pub revoked: Vec<u32>,
    /// Given to it.
    pub assigned: Vec<u32>,
}

/// A member that left the group before a rebalance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DepartedView {
    /// Member id.
    pub member_id: String,
    /// `failed` (session timeout, did not rejoin) or `left`.
    pub reason: &'static str,
    /// What it owned.
    pub revoked: Vec<u32>,
}

/// A partition changing owner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionMoveView {
    /// Partition number.
    pub partition: u32,
    /// Previous owner.
    pub from: Option<String>,
    /// New owner.
    pub to: Option<String>,
}

/// A producer instance of a partitioned topic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProducerView {
    /// Service.
    pub node: String,
    /// Instance.
    pub instance: u32,
    /// Kafka producer id (a restarted instance gets a new one).
    pub producer_id: u64,
    /// Producer epoch.
    pub epoch: u32,
    /// `enable.idempotence`.
    pub idempotent: bool,
    /// Requests in flight.
    pub in_flight: u32,
    /// Records not yet acknowledged (queued or in flight), with partition, message, attempts.
    pub pending: Vec<PendingRecordView>,
}

/// A record a producer has not had acknowledged yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingRecordView {
    /// Partition.
    pub partition: u32,
    /// Message.
    pub msg: MessageId,
    /// Sequence number with idempotence.
    pub sequence: Option<u32>,
    /// Sends so far.
    pub attempts: u32,
    /// In flight now (else queued, possibly waiting for its backoff).
    pub in_flight: bool,
}
