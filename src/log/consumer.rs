//! The consumer side: positions, fetching up to `max.poll.records`, parallel workers per
//! partition with an out-of-order completion tracker, and commits under a delivery guarantee.
//!
//! # Positions and offsets
//!
//! For each assigned partition the consumer keeps an [`OffsetTracker`]: the **position** (next
//! offset to fetch), the offsets being processed, the completed ones, and the **committable
//! offset** — the end of the contiguous prefix of completed offsets. Records may complete out of
//! order (several workers per partition); the committable offset never skips a record that is
//! not done: completing 0, 2 and 3 makes it 1, completing 1 then makes it 4. This is the offset
//! tracking of Confluent's Parallel Consumer (and of any Kafka consumer that processes records
//! concurrently), since a Kafka offset commit can only say "everything below N is done".
//!
//! A newly assigned partition starts at its committed offset. Without one, or when it is out of
//! range (deleted by retention), `auto.offset.reset` decides: `latest` (Kafka's default: only
//! records produced from now on) or `earliest` (the oldest retained record). When retention
//! deletes records before the consumer reached them, the position jumps forward the same way
//! and the deleted offsets count as done (they can no longer be processed).
//!
//! # Polling and workers
//!
//! [`Consumer::poll`] hands out at most `max.poll.records` records in total and, per partition, at
//! most as many as it has free workers (`workers_per_partition`, default 1): a record occupies a
//! worker until [`Consumer::complete`]. With one worker a partition's records are processed one
//! at a time in offset order, as by Kafka's single-threaded poll loop; with more they overlap and
//! complete out of order. Partitions are served round robin across polls.
//!
//! # Delivery guarantee (per subscription)
//!
//! * **At-least-once** (commit after processing, the default): [`Consumer::commit`] commits each
//!   partition's committable offset. A crash loses nothing but may redeliver: records processed
//!   and not yet committed are processed again by the next owner.
//! * **At-most-once** (commit before processing): [`Consumer::poll`] returns the records *held*,
//!   together with a commit of the new positions; only when that commit succeeds does
//!   [`Consumer::on_commit_response`] release them for processing. A failed commit drops them
//!   (they are never processed by this consumer; the next [`Consumer::commit`] records the
//!   position past them), and a crash after the commit loses the records in progress: nothing is
//!   processed twice, records may be lost. While rebalancing
//!   ([`Consumer::is_rebalancing`]) an at-most-once consumer fetches nothing.
//!
//! # Failed commits
//!
//! A commit that fails with a retriable error (`REBALANCE_IN_PROGRESS`, a timeout) is **queued**
//! and resent by [`Consumer::retry_commits`], stamped with the consumer's generation at that
//! time (as Kafka's `commitSync` does when it retries). Queued commits are resent even for
//! partitions revoked meanwhile; the coordinator's forward-only rule makes such a late, lower
//! commit harmless (see [`super::group`]). `ILLEGAL_GENERATION` and `UNKNOWN_MEMBER_ID` are final
//! (Kafka's `CommitFailedException`): the next owner reprocesses from the last committed offset.
//! (Kafka's own `commitAsync` never retries, precisely because a retried old commit could land
//! after a newer one.)
//!
//! # Rebalances
//!
//! The host tells the consumer what the coordinator decided: [`Consumer::on_joined`] with the
//! generation from the join response, [`Consumer::on_assignment`] with the new assignment after
//! the sync. Under Kafka's eager protocol the host first calls [`Consumer::on_revoked`] (Kafka's
//! `onPartitionsRevoked`), which returns a last commit of what was processed; partitions kept
//! across a rebalance without being revoked keep their position and workers. "Kept" means held in
//! the assignment of the previous generation: a consumer that missed a generation's assignment
//! has lost its partitions (Kafka's `onPartitionsLost`) and starts each of them from the
//! committed offset (see [`Consumer::on_assignment`]).

use super::group::{CommitRequest, CommitResponse, CommitResult};
use super::topic::{PartitionedTopic, Record};
use super::{LogError, TopicPartition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Upper bound of `max.poll.records`.
pub const MAX_POLL_RECORDS_LIMIT: u32 = 100_000;
/// Upper bound of `workers_per_partition`.
pub const MAX_WORKERS_PER_PARTITION: u32 = 1_024;
/// Failed commits kept for retry; beyond it the oldest is dropped.
pub const MAX_QUEUED_COMMITS: usize = 1_024;
/// Commits sent and not yet answered; beyond it no new commit (or at-most-once poll) is made.
pub const MAX_COMMITS_IN_FLIGHT: usize = 10_000;

/// When a consumer commits relative to processing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryGuarantee {
    /// Commit before processing: no record processed twice, records may be lost.
    AtMostOnce,
    /// Commit after processing: no record lost, records may be processed twice.
    #[default]
    AtLeastOnce,
}

/// Kafka's `auto.offset.reset`: where to start without a valid committed offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AutoOffsetReset {
    /// The log-start offset (oldest retained record).
    Earliest,
    /// The log-end offset (only new records). Kafka's default.
    #[default]
    Latest,
}

/// Consumer configuration (`maxPollRecords`, `delivery`, `workersPerPartition`,
/// `autoOffsetReset` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumerConfig {
    /// `max.poll.records`: records one poll hands out, 1 to [`MAX_POLL_RECORDS_LIMIT`].
    /// Default 500 (Kafka's).
    pub max_poll_records: u32,
    /// Commit before or after processing. Default at-least-once.
    pub delivery: DeliveryGuarantee,
    /// Records of one partition processed at once, 1 to [`MAX_WORKERS_PER_PARTITION`].
    /// Default 1 (in order).
    pub workers_per_partition: u32,
    /// `auto.offset.reset`. Default `latest` (Kafka's).
    pub auto_offset_reset: AutoOffsetReset,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            max_poll_records: 500,
            delivery: DeliveryGuarantee::AtLeastOnce,
            workers_per_partition: 1,
            auto_offset_reset: AutoOffsetReset::Latest,
        }
    }
}

impl ConsumerConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<(), LogError> {
        if self.max_poll_records == 0 || self.max_poll_records > MAX_POLL_RECORDS_LIMIT {
            return Err(LogError::invalid(
                "max.poll.records",
                self.max_poll_records,
                "must be between 1 and 100000",
            ));
        }
        if self.workers_per_partition == 0 || self.workers_per_partition > MAX_WORKERS_PER_PARTITION
        {
            return Err(LogError::invalid(
                "workersPerPartition",
                self.workers_per_partition,
                "must be between 1 and 1024",
            ));
        }
        Ok(())
    }
}

/// Tracks one partition's records from hand-out to completion and computes the committable
/// offset: the end of the contiguous prefix of completed offsets.
///
/// Invariant: every offset in `[committable, next_offset)` is either in progress or completed,
/// and `committable` itself (when below `next_offset`) is in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OffsetTracker {
    base: u64,
    next: u64,
    in_progress: BTreeSet<u64>,
    /// Completed offsets above `base`, as disjoint `[start, end)` intervals keyed by start.
    done: BTreeMap<u64, u64>,
}

impl OffsetTracker {
    /// A tracker whose first offset (position and committable offset) is `start`.
    pub fn new(start: u64) -> OffsetTracker {
        OffsetTracker {
            base: start,
            next: start,
            in_progress: BTreeSet::new(),
            done: BTreeMap::new(),
        }
    }

    /// The offset a commit may carry: every record below it is done.
    pub fn committable(&self) -> u64 {
        self.base
    }

    /// The position: the next offset to hand out.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Records handed out and not completed.
    pub fn in_progress_count(&self) -> usize {
        self.in_progress.len()
    }

    /// The offsets in progress, ascending.
    pub fn in_progress(&self) -> Vec<u64> {
        self.in_progress.iter().copied().collect()
    }

    /// Hands out `offset`, which must be the position; the position advances.
    ///
    /// # Errors
    /// [`LogError::NonContiguousOffset`] when `offset` is not the position.
    pub fn begin(&mut self, offset: u64) -> Result<(), LogError> {
        if offset != self.next {
            return Err(LogError::NonContiguousOffset {
                expected: self.next,
                got: offset,
            });
        }
        self.in_progress.insert(offset);
        self.next = offset.saturating_add(1);
        Ok(())
    }

    /// Marks `offset` done; returns the committable offset after it, or `None` (and changes
    /// nothing) when `offset` is not in progress.
    pub fn complete(&mut self, offset: u64) -> Option<u64> {
        if !self.in_progress.remove(&offset) {
            return None;
        }
        self.insert_done(offset, offset.saturating_add(1));
        self.advance();
        Some(self.base)
    }

    /// Moves the position forward to `offset`, counting the skipped offsets as done (records
    /// deleted by retention, or passed over by `auto.offset.reset`). No effect when `offset` is
    /// not beyond the position.
    pub fn skip_to(&mut self, offset: u64) {
        if offset <= self.next {
            return;
        }
        let from = self.next;
        self.next = offset;
        self.insert_done(from, offset);
        self.advance();
    }

    fn insert_done(&mut self, start: u64, end: u64) {
        let mut s = start;
        let mut e = end;
        if let Some((&ps, &pe)) = self.done.range(..=start).next_back() {
            if pe == start {
                s = ps;
                self.done.remove(&ps);
            }
        }
        if let Some(ne) = self.done.remove(&end) {
            e = ne;
        }
        self.done.insert(s, e);
    }

    fn advance(&mut self) {
        while self.base < self.next && !self.in_progress.contains(&self.base) {
            match self.done.remove(&self.base) {
                Some(end) => self.base = end,
                None => break,
            }
        }
    }
}

/// What a consumer polls: the broker's topic itself, or a copy of part of it that travelled in a
/// fetch response ([`FetchedSlice`]). Kafka's consumer polls its local fetch buffer, filled by
/// fetch responses; this trait is that buffer's interface.
pub trait FetchSource {
    /// The topic's name.
    fn topic_name(&self) -> &str;
    /// `(log-start offset, log-end offset)` of `partition`, or `Ok(None)` when this source holds
    /// nothing about it (the consumer then skips the partition in this poll).
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`] when the topic has no such partition.
    fn bounds(&self, partition: u32) -> Result<Option<(u64, u64)>, LogError>;
    /// Up to `max_records` consecutive records of `partition` from `offset` on; empty when the
    /// source does not hold `offset`.
    ///
    /// # Errors
    /// As the source defines ([`PartitionedTopic`]: out of range).
    fn read_from(
        &self,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, LogError>;
}

impl FetchSource for PartitionedTopic {
    fn topic_name(&self) -> &str {
        self.name()
    }
    fn bounds(&self, partition: u32) -> Result<Option<(u64, u64)>, LogError> {
        let log = self.partition(partition)?;
        Ok(Some((log.log_start_offset(), log.log_end_offset())))
    }
    fn read_from(
        &self,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, LogError> {
        self.read(partition, offset, max_records)
    }
}

/// The part of one partition a fetch response carried: the partition's bounds when the broker
/// answered and consecutive records from some offset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartitionSlice {
    /// Log-start offset when read.
    pub log_start_offset: u64,
    /// Log-end offset when read.
    pub log_end_offset: u64,
    /// Consecutive records, oldest first (may be empty).
    pub records: Vec<Record>,
}

impl PartitionSlice {
    /// Reads `partition` of `topic` from `from` (clamped into the retained log: an offset
    /// outside `[log-start, log-end]`, or none, starts at the log-start offset), at most
    /// `max_records` records: what the broker puts in a fetch response (Kafka's `Fetch`).
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`].
    pub fn read(
        topic: &PartitionedTopic,
        partition: u32,
        from: Option<u64>,
        max_records: usize,
    ) -> Result<PartitionSlice, LogError> {
        let log = topic.partition(partition)?;
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        let at = from.filter(|o| (start..=end).contains(o)).unwrap_or(start);
        Ok(PartitionSlice {
            log_start_offset: start,
            log_end_offset: end,
            records: topic.read(partition, at, max_records)?,
        })
    }
}

/// A consumer's fetch buffer: per partition, what the last fetch response carried for it.
/// A [`FetchSource`] that never errors: a partition it holds nothing about is skipped, and an
/// offset it does not hold reads as empty (the host fetches again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FetchedSlice {
    /// The topic.
    pub topic: String,
    /// Slices by partition.
    pub partitions: BTreeMap<u32, PartitionSlice>,
}

impl FetchedSlice {
    /// An empty buffer for `topic`.
    pub fn new(topic: &str) -> FetchedSlice {
        FetchedSlice {
            topic: topic.to_string(),
            partitions: BTreeMap::new(),
        }
    }

    /// `true` when the slice of `partition` holds the record at `offset`.
    pub fn holds(&self, partition: u32, offset: u64) -> bool {
        self.partitions.get(&partition).is_some_and(|s| {
            s.records
                .first()
                .is_some_and(|r| offset >= r.offset && offset - r.offset < s.records.len() as u64)
        })
    }
}

impl FetchSource for FetchedSlice {
    fn topic_name(&self) -> &str {
        &self.topic
    }
    fn bounds(&self, partition: u32) -> Result<Option<(u64, u64)>, LogError> {
        Ok(self
            .partitions
            .get(&partition)
            .map(|s| (s.log_start_offset, s.log_end_offset)))
    }
    fn read_from(
        &self,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, LogError> {
        let Some(s) = self.partitions.get(&partition) else {
            return Ok(Vec::new());
        };
        let Some(first) = s.records.first().map(|r| r.offset) else {
            return Ok(Vec::new());
        };
        let Some(skip) = offset.checked_sub(first) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        Ok(s.records
            .iter()
            .skip(skip)
            .take(max_records)
            .cloned()
            .collect())
    }
}

/// A record handed to the application, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchedRecord {
    /// Its partition.
    pub tp: TopicPartition,
    /// The generation of the assignment under which it was fetched.
    pub generation: u32,
    /// The record.
    pub record: Record,
}

/// Why a position was set by `auto.offset.reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ResetReason {
    /// No committed offset for the partition.
    NoCommittedOffset,
    /// The committed offset or the position is outside the retained log.
    OutOfRange,
}

/// A position set by `auto.offset.reset` during a poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OffsetReset {
    /// The partition.
    pub tp: TopicPartition,
    /// The committed offset or position that could not be used.
    pub from: Option<u64>,
    /// The new position.
    pub to: u64,
    /// Why.
    pub reason: ResetReason,
}

/// What [`Consumer::poll`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Poll {
    /// Records to process now (at-least-once). Empty under at-most-once, where records wait
    /// for `commit`.
    pub records: Vec<FetchedRecord>,
    /// Under at-most-once, the commit of the new positions; its records are released by
    /// [`Consumer::on_commit_response`].
    pub commit: Option<CommitRequest>,
    /// Records held until `commit` succeeds (at-most-once).
    pub held: usize,
    /// Positions set by `auto.offset.reset`.
    pub resets: Vec<OffsetReset>,
}

/// What [`Consumer::on_commit_response`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum CommitOutcome {
    /// The coordinator accepted the commit.
    Committed {
        /// Per-partition results (`advanced: false` when it was at or below the committed
        /// offset).
        results: Vec<CommitResult>,
        /// At-most-once records now to be processed.
        released: Vec<FetchedRecord>,
    },
    /// A retriable failure: the offsets are queued for [`Consumer::retry_commits`].
    QueuedForRetry {
        /// The failure.
        error: LogError,
    },
    /// A final failure (or any failure under at-most-once).
    Failed {
        /// The failure.
        error: LogError,
        /// At-most-once records dropped unprocessed.
        dropped: Vec<FetchedRecord>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct AssignedPartition {
    committed_at_assignment: Option<u64>,
    tracker: Option<OffsetTracker>,
    /// Highest offset sent in a commit for this partition (or known committed).
    last_sent: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct PendingCommit {
    offsets: Vec<(TopicPartition, u64)>,
    held: Vec<FetchedRecord>,
}

/// One group member's consumer (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Consumer {
    member_id: String,
    config: ConsumerConfig,
    generation: Option<u32>,
    assignment_generation: Option<u32>,
    partitions: BTreeMap<TopicPartition, AssignedPartition>,
    next_commit_id: u64,
    commits_in_flight: BTreeMap<u64, PendingCommit>,
    retry_queue: VecDeque<Vec<(TopicPartition, u64)>>,
    poll_cursor: u64,
}

impl Consumer {
    /// A consumer for member `member_id`, with no generation and no assignment yet.
    ///
    /// # Errors
    /// [`LogError::EmptyMemberId`]; [`LogError::InvalidConfig`] from
    /// [`ConsumerConfig::validate`].
    pub fn new(member_id: &str, config: ConsumerConfig) -> Result<Consumer, LogError> {
        if member_id.is_empty() {
            return Err(LogError::EmptyMemberId);
        }
        config.validate()?;
        Ok(Consumer {
            member_id: member_id.to_string(),
            config,
            generation: None,
            assignment_generation: None,
            partitions: BTreeMap::new(),
            next_commit_id: 1,
            commits_in_flight: BTreeMap::new(),
            retry_queue: VecDeque::new(),
            poll_cursor: 0,
        })
    }

    /// The member id.
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The configuration.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// Changes `workers_per_partition` from the next poll on (records in progress finish).
    ///
    /// # Errors
    /// [`LogError`] from [`ConsumerConfig::validate`] when out of range; nothing changes then.
    pub fn set_workers_per_partition(&mut self, workers: u32) -> Result<(), LogError> {
        let config = ConsumerConfig {
            workers_per_partition: workers,
            ..self.config.clone()
        };
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// The generation the consumer knows (stamped on its commits).
    pub fn generation(&self) -> Option<u32> {
        self.generation
    }

    /// The generation of its current assignment.
    pub fn assignment_generation(&self) -> Option<u32> {
        self.assignment_generation
    }

    /// `true` between the join response of a new generation ([`Consumer::on_joined`]) and its
    /// assignment ([`Consumer::on_assignment`]): the partitions held may already belong to
    /// another member in the new generation. An at-most-once consumer fetches nothing then,
    /// since it would commit them under a generation in which it may not own them (Kafka's
    /// consumer refuses such commits with `RebalanceInProgressException`).
    pub fn is_rebalancing(&self) -> bool {
        match (self.generation, self.assignment_generation) {
            (Some(g), Some(a)) => g > a,
            _ => false,
        }
    }

    /// The assigned partitions, ordered.
    pub fn assigned(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// The position of `tp` (`None` before the first poll resolves it, or when not assigned).
    pub fn position(&self, tp: &TopicPartition) -> Option<u64> {
        self.tracker(tp).map(OffsetTracker::next_offset)
    }

    /// The committable offset of `tp`.
    pub fn committable(&self, tp: &TopicPartition) -> Option<u64> {
        self.tracker(tp).map(OffsetTracker::committable)
    }

    /// The tracker of `tp`, once its position is resolved.
    pub fn tracker(&self, tp: &TopicPartition) -> Option<&OffsetTracker> {
        self.partitions.get(tp).and_then(|a| a.tracker.as_ref())
    }

    /// Commits waiting in the retry queue.
    pub fn queued_commits(&self) -> usize {
        self.retry_queue.len()
    }

    /// Commits sent and not answered.
    pub fn commits_in_flight(&self) -> usize {
        self.commits_in_flight.len()
    }

    /// The join response: the member is in generation `generation`; later commits carry it.
    /// A generation older than the one known is a stale response and is ignored.
    pub fn on_joined(&mut self, generation: u32) {
        if self.generation.is_none_or(|g| generation >= g) {
            self.generation = Some(generation);
        }
    }

    /// The sync response: the assignment of `generation`, each partition with the group's
    /// committed offset. Partitions no longer assigned are dropped (their records in progress
    /// are abandoned; their completions will be refused) and returned; kept partitions keep
    /// their state; new ones start from the committed offset at the next poll. An assignment
    /// for a generation older than the one known is a stale response: ignored (nothing
    /// changes, nothing returned).
    ///
    /// A partition is *kept* only when it was in the assignment of the generation just before
    /// (`generation − 1`). A consumer whose last assignment is older missed one (its `SyncGroup`
    /// response was overtaken by the next rebalance and ignored as stale): in the generations
    /// it missed, what it holds may have been another member's, which processed and committed
    /// past its position. Its partitions are then **lost** (Kafka's `onPartitionsLost`, what
    /// the consumer does when its generation is no longer valid): all of them are dropped
    /// without a commit and returned, and every partition of the new assignment starts from
    /// the committed offset, so an at-most-once consumer never processes a record another
    /// member committed, and an at-least-once one never commits from a stale position. (Kafka's
    /// own client cannot skip a generation: it finishes `SyncGroup` before it rejoins.)
    pub fn on_assignment(
        &mut self,
        generation: u32,
        partitions: Vec<(TopicPartition, Option<u64>)>,
    ) -> Vec<TopicPartition> {
        if self.generation.is_some_and(|g| generation < g) {
            return Vec::new();
        }
        let missed_a_generation = self
            .assignment_generation
            .is_some_and(|a| a.saturating_add(1) < generation);
        self.generation = Some(generation);
        self.assignment_generation = Some(generation);
        let new: BTreeMap<TopicPartition, Option<u64>> = partitions.into_iter().collect();
        let revoked: Vec<TopicPartition> = self
            .partitions
            .keys()
            .filter(|tp| missed_a_generation || !new.contains_key(*tp))
            .cloned()
            .collect();
        for tp in &revoked {
            self.partitions.remove(tp);
        }
        for (tp, committed) in new {
            self.partitions
                .entry(tp)
                .or_insert_with(|| AssignedPartition {
                    committed_at_assignment: committed,
                    tracker: None,
                    last_sent: committed,
                });
        }
        revoked
    }

    /// Kafka's `onPartitionsRevoked`: gives up `partitions` (those assigned; others are
    /// ignored). Under at-least-once, returns a commit of what was processed in them and not yet
    /// committed, if anything (and a generation is known).
    pub fn on_revoked(&mut self, partitions: &[TopicPartition]) -> Option<CommitRequest> {
        let commit = if self.config.delivery == DeliveryGuarantee::AtLeastOnce {
            self.build_commit(|tp| partitions.contains(tp))
        } else {
            None
        };
        for tp in partitions {
            self.partitions.remove(tp);
        }
        commit
    }

    /// [`Consumer::on_revoked`] for every assigned partition (eager rebalance, shutdown).
    pub fn revoke_all(&mut self) -> Option<CommitRequest> {
        let all = self.assigned();
        self.on_revoked(&all)
    }

    fn build_commit(&mut self, include: impl Fn(&TopicPartition) -> bool) -> Option<CommitRequest> {
        let generation = self.generation?;
        if self.commits_in_flight.len() >= MAX_COMMITS_IN_FLIGHT {
            return None;
        }
        let mut offsets = Vec::new();
        for (tp, a) in self.partitions.iter_mut() {
            if !include(tp) {
                continue;
            }
            let Some(t) = &a.tracker else { continue };
            let c = t.committable();
            if a.last_sent.is_none_or(|s| c > s) {
                a.last_sent = Some(c);
                offsets.push((tp.clone(), c));
            }
        }
        if offsets.is_empty() {
            return None;
        }
        Some(self.register_commit(generation, offsets, Vec::new()))
    }

    fn register_commit(
        &mut self,
        generation: u32,
        offsets: Vec<(TopicPartition, u64)>,
        held: Vec<FetchedRecord>,
    ) -> CommitRequest {
        let commit_id = self.next_commit_id;
        self.next_commit_id += 1;
        self.commits_in_flight.insert(
            commit_id,
            PendingCommit {
                offsets: offsets.clone(),
                held,
            },
        );
        CommitRequest {
            commit_id,
            member_id: self.member_id.clone(),
            generation,
            offsets,
        }
    }

    /// A commit of every partition whose committable offset moved since the last commit sent;
    /// `None` when there is nothing new, no generation is known, or [`MAX_COMMITS_IN_FLIGHT`]
    /// commits await answers.
    ///
    /// Under at-least-once that is what was processed. Under at-most-once a poll commits the
    /// records it hands out, so this is `None` except after a failed commit: its records were
    /// dropped unprocessed and the position moved past them without a commit, which this commit
    /// records (as Kafka's auto-commit commits the consumed positions). Without it the group's
    /// committed offset would stay behind the position until new records arrive, showing a lag
    /// of records that this consumer will never process.
    pub fn commit(&mut self, _now_us: u64) -> Option<CommitRequest> {
        self.build_commit(|_| true)
    }

    /// Where each assigned partition should be fetched from, ordered by partition: the
    /// position once a poll has resolved it, else the group's committed offset at assignment
    /// (`None` without one; the broker then starts at the log-start offset and the consumer's
    /// `auto.offset.reset` decides). What a host puts in a fetch request when the records travel
    /// over a network ([`FetchSource`]).
    pub fn fetch_positions(&self) -> Vec<(TopicPartition, Option<u64>)> {
        self.partitions
            .iter()
            .map(|(tp, a)| {
                let from = match &a.tracker {
                    Some(t) => Some(t.next_offset()),
                    None => a.committed_at_assignment,
                };
                (tp.clone(), from)
            })
            .collect()
    }

    /// Fetches from `topic` at `now_us`: up to `max.poll.records` records from the assigned
    /// partitions of `topic`, at most the free workers of each (see the module docs).
    ///
    /// `topic` is the broker's [`PartitionedTopic`] itself, or any other [`FetchSource`] — e.g.
    /// what a fetch response carried over the network ([`FetchedSlice`]). A source that knows
    /// nothing about an assigned partition (`bounds` is `Ok(None)`) leaves it untouched.
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`] when an assigned partition does not exist in `topic`
    /// (nothing changes).
    pub fn poll<S: FetchSource + ?Sized>(
        &mut self,
        _now_us: u64,
        topic: &S,
    ) -> Result<Poll, LogError> {
        let mut out = Poll::default();
        let tps: Vec<TopicPartition> = self
            .partitions
            .keys()
            .filter(|tp| tp.topic == topic.topic_name())
            .cloned()
            .collect();
        for tp in &tps {
            topic.bounds(tp.partition)?;
        }
        if tps.is_empty() {
            return Ok(out);
        }
        let at_most_once = self.config.delivery == DeliveryGuarantee::AtMostOnce;
        if at_most_once
            && (self.commits_in_flight.len() >= MAX_COMMITS_IN_FLIGHT || self.is_rebalancing())
        {
            return Ok(out);
        }
        let Some(generation) = self.assignment_generation.or(self.generation) else {
            return Ok(out);
        };
        let start = (self.poll_cursor % tps.len() as u64) as usize;
        self.poll_cursor = self.poll_cursor.wrapping_add(1);
        let mut budget = self.config.max_poll_records as usize;
        let workers = self.config.workers_per_partition as usize;
        let reset = self.config.auto_offset_reset;
        let mut fetched = Vec::new();
        let mut touched = Vec::new();
        for k in 0..tps.len() {
            if budget == 0 {
                break;
            }
            let tp = &tps[(start + k) % tps.len()];
            let Some((log_start, log_end)) = topic.bounds(tp.partition)? else {
                continue;
            };
            let reset_to = match reset {
                AutoOffsetReset::Earliest => log_start,
                AutoOffsetReset::Latest => log_end,
            };
            let Some(a) = self.partitions.get_mut(tp) else {
                continue;
            };
            let tracker = match &mut a.tracker {
                Some(t) => {
                    if t.next_offset() < log_start {
                        out.resets.push(OffsetReset {
                            tp: tp.clone(),
                            from: Some(t.next_offset()),
                            to: reset_to,
                            reason: ResetReason::OutOfRange,
                        });
                        t.skip_to(reset_to);
                    }
                    t
                }
                None => {
                    let startpos = match a.committed_at_assignment {
                        Some(c) if (log_start..=log_end).contains(&c) => c,
                        other => {
                            out.resets.push(OffsetReset {
                                tp: tp.clone(),
                                from: other,
                                to: reset_to,
                                reason: if other.is_some() {
                                    ResetReason::OutOfRange
                                } else {
                                    ResetReason::NoCommittedOffset
                                },
                            });
                            reset_to
                        }
                    };
                    a.tracker.insert(OffsetTracker::new(startpos))
                }
            };
            let free = workers.saturating_sub(tracker.in_progress_count());
            let n = free.min(budget);
            if n == 0 {
                continue;
            }
            let records = topic.read_from(tp.partition, tracker.next_offset(), n)?;
            if records.is_empty() {
                continue;
            }
            for r in records {
                tracker.begin(r.offset)?;
                budget -= 1;
                fetched.push(FetchedRecord {
                    tp: tp.clone(),
                    generation,
                    record: r,
                });
            }
            touched.push((tp.clone(), tracker.next_offset()));
        }
        if at_most_once {
            if !fetched.is_empty() {
                for (tp, pos) in &touched {
                    if let Some(a) = self.partitions.get_mut(tp) {
                        a.last_sent = Some(*pos);
                    }
                }
                let commit_generation = self.generation.unwrap_or(generation);
                out.held = fetched.len();
                out.commit = Some(self.register_commit(commit_generation, touched, fetched));
            }
        } else {
            out.records = fetched;
        }
        Ok(out)
    }

    /// Record `offset` of `tp` is processed; returns the partition's committable offset.
    ///
    /// # Errors
    /// [`LogError::NotAssigned`] when `tp` is not (or no longer) assigned;
    /// [`LogError::NotInProgress`] when `offset` was not handed out or is already complete.
    pub fn complete(&mut self, tp: &TopicPartition, offset: u64) -> Result<u64, LogError> {
        let not_assigned = || LogError::NotAssigned {
            member: self.member_id.clone(),
            tp: tp.clone(),
        };
        let Some(a) = self.partitions.get_mut(tp) else {
            return Err(not_assigned());
        };
        let Some(t) = a.tracker.as_mut() else {
            return Err(not_assigned());
        };
        t.complete(offset).ok_or_else(|| LogError::NotInProgress {
            tp: tp.clone(),
            offset,
        })
    }

    /// The coordinator's answer to commit `commit_id` (or [`LogError::RequestTimedOut`] when
    /// the host lost it); see the module docs.
    ///
    /// # Errors
    /// [`LogError::UnknownCommit`] when `commit_id` is not in flight; nothing changes.
    pub fn on_commit_response(
        &mut self,
        _now_us: u64,
        commit_id: u64,
        result: Result<CommitResponse, LogError>,
    ) -> Result<CommitOutcome, LogError> {
        let Some(pc) = self.commits_in_flight.remove(&commit_id) else {
            return Err(LogError::UnknownCommit {
                member: self.member_id.clone(),
                commit_id,
            });
        };
        match result {
            Ok(resp) => Ok(CommitOutcome::Committed {
                results: resp.results,
                released: pc.held,
            }),
            Err(error)
                if error.is_retriable()
                    && self.config.delivery == DeliveryGuarantee::AtLeastOnce =>
            {
                if self.retry_queue.len() >= MAX_QUEUED_COMMITS {
                    self.retry_queue.pop_front();
                }
                self.retry_queue.push_back(pc.offsets);
                Ok(CommitOutcome::QueuedForRetry { error })
            }
            Err(error) => {
                for (tp, off) in &pc.offsets {
                    if let Some(a) = self.partitions.get_mut(tp) {
                        if a.last_sent == Some(*off) {
                            a.last_sent = a.committed_at_assignment;
                        }
                    }
                }
                for r in &pc.held {
                    if let Some(t) = self
                        .partitions
                        .get_mut(&r.tp)
                        .and_then(|a| a.tracker.as_mut())
                    {
                        t.complete(r.record.offset);
                    }
                }
                Ok(CommitOutcome::Failed {
                    error,
                    dropped: pc.held,
                })
            }
        }
    }

    /// Resends the queued commits, oldest first, each stamped with the current generation.
    /// Empty when none is queued or no generation is known.
    pub fn retry_commits(&mut self, _now_us: u64) -> Vec<CommitRequest> {
        let Some(generation) = self.generation else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while self.commits_in_flight.len() < MAX_COMMITS_IN_FLIGHT {
            let Some(offsets) = self.retry_queue.pop_front() else {
                break;
            };
            out.push(self.register_commit(generation, offsets, Vec::new()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{BatchRecord, RecordBatch, TopicConfig};

    fn topic_with(n: u64, retention: u64) -> PartitionedTopic {
        let mut t = PartitionedTopic::new(&TopicConfig {
            name: "t".into(),
            partitions: 2,
            retention_records: retention,
        })
        .unwrap();
        for p in 0..2 {
            let batch = RecordBatch {
                producer_epoch: 0,
                base_sequence: None,
                records: (0..n)
                    .map(|m| BatchRecord::new(None, 100 * u64::from(p) + m))
                    .collect(),
            };
            t.append(0, 1, p, &batch).unwrap();
        }
        t
    }

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn offsets(p: &Poll) -> Vec<(u32, u64)> {
        p.records
            .iter()
            .map(|r| (r.tp.partition, r.record.offset))
            .collect()
    }

    #[test]
    fn tracker_commits_the_contiguous_prefix() {
        let mut t = OffsetTracker::new(0);
        for o in 0..4 {
            t.begin(o).unwrap();
        }
        assert_eq!(t.complete(0), Some(1));
        assert_eq!(t.complete(2), Some(1));
        assert_eq!(t.complete(3), Some(1));
        assert_eq!(t.committable(), 1);
        assert_eq!(t.in_progress(), vec![1]);
        assert_eq!(t.complete(1), Some(4));
        assert_eq!((t.committable(), t.next_offset()), (4, 4));
        assert_eq!(t.complete(1), None, "already complete");
        assert_eq!(t.complete(9), None, "never handed out");
        assert_eq!(
            t.begin(7).unwrap_err(),
            LogError::NonContiguousOffset {
                expected: 4,
                got: 7
            }
        );
    }

    #[test]
    fn tracker_skip_counts_deleted_offsets_as_done() {
        let mut t = OffsetTracker::new(10);
        t.begin(10).unwrap();
        t.begin(11).unwrap();
        t.complete(11);
        t.skip_to(50);
        assert_eq!((t.committable(), t.next_offset()), (10, 50));
        assert_eq!(t.complete(10), Some(50));
        t.skip_to(40);
        assert_eq!(t.next_offset(), 50);
        t.skip_to(1_000_000_000);
        assert_eq!(t.committable(), 1_000_000_000);
    }

    #[test]
    fn config_defaults_and_validation() {
        let c = ConsumerConfig::default();
        assert_eq!(
            (
                c.max_poll_records,
                c.delivery,
                c.workers_per_partition,
                c.auto_offset_reset
            ),
            (
                500,
                DeliveryGuarantee::AtLeastOnce,
                1,
                AutoOffsetReset::Latest
            )
        );
        let bad = ConsumerConfig {
            max_poll_records: 0,
            ..ConsumerConfig::default()
        };
        assert_eq!(
            Consumer::new("a", bad).unwrap_err().to_string(),
            "invalid config max.poll.records = 0: must be between 1 and 100000"
        );
        let bad = ConsumerConfig {
            workers_per_partition: 0,
            ..ConsumerConfig::default()
        };
        assert!(Consumer::new("a", bad).is_err());
        assert_eq!(
            Consumer::new("", ConsumerConfig::default()).unwrap_err(),
            LogError::EmptyMemberId
        );
    }

    #[test]
    fn poll_respects_workers_budget_and_round_robin() {
        let t = topic_with(10, 100);
        let mut c = Consumer::new(
            "a",
            ConsumerConfig {
                max_poll_records: 3,
                workers_per_partition: 2,
                auto_offset_reset: AutoOffsetReset::Earliest,
                ..ConsumerConfig::default()
            },
        )
        .unwrap();
        c.on_assignment(1, vec![(tp(0), Some(4)), (tp(1), None)]);
        let p = c.poll(0, &t).unwrap();
        assert_eq!(offsets(&p), vec![(0, 4), (0, 5), (1, 0)]);
        assert_eq!(
            p.resets,
            vec![OffsetReset {
                tp: tp(1),
                from: None,
                to: 0,
                reason: ResetReason::NoCommittedOffset
            }]
        );
        // Partition 0's two workers are busy; partition 1 has one free worker.
        let p = c.poll(1, &t).unwrap();
        assert_eq!(offsets(&p), vec![(1, 1)]);
        assert!(c.poll(2, &t).unwrap().records.is_empty());
        assert_eq!(c.complete(&tp(0), 5).unwrap(), 4);
        assert_eq!(c.complete(&tp(0), 4).unwrap(), 6);
        assert!(matches!(
            c.complete(&tp(0), 4).unwrap_err(),
            LogError::NotInProgress { offset: 4, .. }
        ));
        assert!(matches!(
            c.complete(&tp(5), 0).unwrap_err(),
            LogError::NotAssigned { .. }
        ));
        let commit = c.commit(3).unwrap();
        assert_eq!(commit.offsets, vec![(tp(0), 6), (tp(1), 0)]);
        assert_eq!(commit.generation, 1);
        assert!(c.commit(3).is_none(), "nothing new");
        let p = c.poll(4, &t).unwrap();
        assert_eq!(offsets(&p), vec![(0, 6), (0, 7)]);
    }

    #[test]
    fn latest_reset_and_retention_jump() {
        let mut t = topic_with(10, 5);
        let mut c = Consumer::new("a", ConsumerConfig::default()).unwrap();
        c.on_assignment(1, vec![(tp(0), Some(2))]);
        let p = c.poll(0, &t).unwrap();
        assert!(p.records.is_empty());
        assert_eq!(
            p.resets,
            vec![OffsetReset {
                tp: tp(0),
                from: Some(2),
                to: 10,
                reason: ResetReason::OutOfRange
            }]
        );
        assert_eq!(c.position(&tp(0)), Some(10));
        // Earliest consumer overtaken by retention jumps to the log start.
        let mut e = Consumer::new(
            "e",
            ConsumerConfig {
                auto_offset_reset: AutoOffsetReset::Earliest,
                ..ConsumerConfig::default()
            },
        )
        .unwrap();
        e.on_assignment(1, vec![(tp(0), None)]);
        let p = e.poll(0, &t).unwrap();
        assert_eq!(offsets(&p), vec![(0, 5)]);
        let batch = RecordBatch {
            producer_epoch: 0,
            base_sequence: None,
            records: (0..10).map(|m| BatchRecord::new(None, m)).collect(),
        };
        t.append(1, 1, 0, &batch).unwrap();
        e.complete(&tp(0), 5).unwrap();
        let p = e.poll(2, &t).unwrap();
        assert_eq!(offsets(&p), vec![(0, 15)]);
        assert_eq!(p.resets[0].reason, ResetReason::OutOfRange);
        assert_eq!(e.committable(&tp(0)), Some(15));
    }

    #[test]
    fn at_most_once_holds_records_until_the_commit_succeeds() {
        let t = topic_with(3, 100);
        let mut c = Consumer::new(
            "a",
            ConsumerConfig {
                delivery: DeliveryGuarantee::AtMostOnce,
                workers_per_partition: 2,
                ..ConsumerConfig::default()
            },
        )
        .unwrap();
        c.on_assignment(4, vec![(tp(0), Some(0))]);
        let p = c.poll(0, &t).unwrap();
        assert!(p.records.is_empty());
        assert_eq!(p.held, 2);
        let req = p.commit.unwrap();
        assert_eq!(req.offsets, vec![(tp(0), 2)]);
        assert!(c.commit(0).is_none());
        let resp = CommitResponse {
            commit_id: req.commit_id,
            generation: 4,
            results: vec![],
        };
        match c.on_commit_response(1, req.commit_id, Ok(resp)).unwrap() {
            CommitOutcome::Committed { released, .. } => {
                assert_eq!(
                    released.iter().map(|r| r.record.offset).collect::<Vec<_>>(),
                    vec![0, 1]
                )
            }
            other => panic!("{other:?}"),
        }
        c.complete(&tp(0), 0).unwrap();
        let req = c.poll(2, &t).unwrap().commit.unwrap();
        assert_eq!(req.offsets, vec![(tp(0), 3)]);
        // A failed commit drops the held record and frees its worker.
        let out = c
            .on_commit_response(
                3,
                req.commit_id,
                Err(LogError::RebalanceInProgress { group: "g".into() }),
            )
            .unwrap();
        assert!(matches!(out, CommitOutcome::Failed { ref dropped, .. } if dropped.len() == 1));
        assert_eq!(c.tracker(&tp(0)).unwrap().in_progress(), vec![1]);
        assert!(c
            .on_commit_response(3, req.commit_id, Err(LogError::RequestTimedOut))
            .is_err());
    }

    #[test]
    fn revoke_commits_what_was_processed() {
        let t = topic_with(5, 100);
        let mut c = Consumer::new(
            "a",
            ConsumerConfig {
                auto_offset_reset: AutoOffsetReset::Earliest,
                ..ConsumerConfig::default()
            },
        )
        .unwrap();
        assert!(c.revoke_all().is_none());
        c.on_assignment(2, vec![(tp(0), None), (tp(1), Some(3))]);
        let p = c.poll(0, &t).unwrap();
        for r in &p.records {
            c.complete(&r.tp, r.record.offset).unwrap();
        }
        let req = c.revoke_all().unwrap();
        assert_eq!(req.offsets, vec![(tp(0), 1), (tp(1), 4)]);
        assert!(c.assigned().is_empty());
        assert!(c.complete(&tp(0), 1).is_err());
        // on_assignment returns what it takes away and keeps what stays.
        c.on_assignment(3, vec![(tp(0), Some(1)), (tp(1), Some(4))]);
        c.poll(1, &t).unwrap();
        assert_eq!(c.on_assignment(4, vec![(tp(1), Some(4))]), vec![tp(0)]);
        assert_eq!(c.assignment_generation(), Some(4));
        assert_eq!(c.tracker(&tp(1)).unwrap().in_progress(), vec![4]);
        // Stale join and sync responses are ignored.
        c.on_joined(3);
        assert_eq!(c.generation(), Some(4));
        assert!(c.on_assignment(3, vec![(tp(0), None)]).is_empty());
        assert_eq!(c.assigned(), vec![tp(1)]);
        c.on_joined(5);
        assert!(c.is_rebalancing());
        // A partition the topic does not have.
        c.on_assignment(5, vec![(tp(7), None)]);
        assert!(matches!(
            c.poll(2, &t).unwrap_err(),
            LogError::UnknownPartition { partition: 7, .. }
        ));
    }

    #[test]
    fn polling_a_fetched_slice_is_polling_the_topic_it_came_from() {
        let t = topic_with(6, 100);
        let cfg = ConsumerConfig {
            workers_per_partition: 2,
            auto_offset_reset: AutoOffsetReset::Earliest,
            ..ConsumerConfig::default()
        };
        let mut c = Consumer::new("a", cfg).unwrap();
        c.on_assignment(1, vec![(tp(0), Some(2)), (tp(1), None)]);
        assert_eq!(c.fetch_positions(), vec![(tp(0), Some(2)), (tp(1), None)]);
        // The broker answers partition 0 only, from the committed offset, 3 records.
        let mut buf = FetchedSlice::new("t");
        buf.partitions
            .insert(0, PartitionSlice::read(&t, 0, Some(2), 3).unwrap());
        assert!(buf.holds(0, 4) && !buf.holds(0, 5) && !buf.holds(1, 0));
        let p = c.poll(0, &buf).unwrap();
        assert_eq!(
            offsets(&p),
            vec![(0, 2), (0, 3)],
            "two workers; partition 1 untouched"
        );
        assert_eq!(c.position(&tp(1)), None);
        c.complete(&tp(0), 2).unwrap();
        let p = c.poll(1, &buf).unwrap();
        assert_eq!(offsets(&p), vec![(0, 4)]);
        c.complete(&tp(0), 3).unwrap();
        // Offset 5 is not in the buffer: nothing, and the position stays.
        assert!(c.poll(2, &buf).unwrap().records.is_empty());
        assert_eq!(c.fetch_positions()[0], (tp(0), Some(5)));
        // Out of range or missing `from` starts at the log start.
        let s = PartitionSlice::read(&t, 1, Some(99), 2).unwrap();
        assert_eq!(
            (s.log_start_offset, s.log_end_offset, s.records[0].offset),
            (0, 6, 0)
        );
        assert!(PartitionSlice::read(&t, 9, None, 1).is_err());
        assert_eq!(buf.read_from(0, 1, 5).unwrap(), vec![], "below the slice");
    }

    #[test]
    fn at_most_once_commits_the_position_past_records_dropped_by_a_failed_commit() {
        let t = topic_with(3, 100);
        let mut c = Consumer::new(
            "a",
            ConsumerConfig {
                delivery: DeliveryGuarantee::AtMostOnce,
                ..ConsumerConfig::default()
            },
        )
        .unwrap();
        c.on_assignment(1, vec![(tp(0), Some(2))]);
        let req = c.poll(0, &t).unwrap().commit.unwrap();
        assert_eq!(req.offsets, vec![(tp(0), 3)]);
        assert!(c.commit(1).is_none(), "the poll's commit covers it");
        let out = c
            .on_commit_response(2, req.commit_id, Err(LogError::RequestTimedOut))
            .unwrap();
        assert!(matches!(out, CommitOutcome::Failed { ref dropped, .. } if dropped.len() == 1));
        // Offset 2 was dropped: the position is 3 and nothing is left to fetch, so the group's
        // committed offset (2) would lag forever. The next commit records the position.
        assert_eq!(
            (c.position(&tp(0)), c.committable(&tp(0))),
            (Some(3), Some(3))
        );
        let again = c.commit(3).unwrap();
        assert_eq!((again.generation, again.offsets), (1, vec![(tp(0), 3)]));
        assert!(c.commit(4).is_none());
    }
}
