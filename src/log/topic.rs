//! Partitioned topics: append-only logs with bounded retention and, on the broker side, Kafka's
//! idempotent-producer sequence checks.
//!
//! # The log
//!
//! A [`PartitionedTopic`] has `partitions` independent [`PartitionLog`]s. A partition assigns
//! consecutive **offsets** from 0: the **log-end offset** (LEO) is the offset the next record will
//! get. Retention is a record count (`retention_records` per partition, msgsim's stand-in for
//! Kafka's `retention.ms` / `retention.bytes`): after an append leaves more than that many
//! records, the oldest are deleted and the **log-start offset** moves forward to the oldest kept
//! record. Offsets are never reused; a fetch below the log-start offset is
//! [`LogError::OffsetOutOfRange`], after which a consumer applies `auto.offset.reset`.
//!
//! # Appending (the broker side of a produce request)
//!
//! [`PartitionedTopic::append`] takes the producer id, the partition and a [`RecordBatch`]:
//!
//! * **Without idempotence** (`base_sequence: None`) every batch that arrives is appended, so a
//!   retried batch whose first attempt was written is written again, and a retry can land after a
//!   later batch.
//! * **With idempotence** (`base_sequence: Some(s)`) the partition keeps, per producer id, the
//!   producer epoch, the last sequence appended and the metadata of the last
//!   [`PRODUCER_BATCHES_RETAINED`] (5) batches, as Kafka's `ProducerStateManager` does:
//!   1. a batch with the same epoch whose first and last sequence equal a retained batch's is a
//!      **duplicate**: acknowledged with the original offsets ([`AppendOutcome::Duplicate`]),
//!      nothing appended;
//!   2. a batch from an older epoch is rejected ([`LogError::InvalidProducerEpoch`]);
//!   3. a batch from a newer epoch must start at sequence 0 (the producer reset its sequences);
//!   4. otherwise its base sequence must be the last sequence + 1 (wrapping from `i32::MAX` to 0
//!      as Kafka's does), else [`LogError::OutOfOrderSequence`] and nothing is appended.
//!
//!   A producer the partition holds no state for must start at sequence 0. (Current Kafka brokers
//!   accept any first sequence from a producer they hold no state for, so that a producer whose
//!   records were all deleted by retention can go on; msgsim keeps producer state — up to
//!   [`MAX_PRODUCERS_PER_PARTITION`] producers per partition, the least recently active forgotten
//!   first — so it can hold the first batch to the same rule as every later one. A forgotten
//!   producer recovers through an epoch bump, see [`super::producer`].)

use super::producer::ProduceRequest;
use super::{LogError, ProducerId, TopicPartition, MAX_BATCH_RECORDS, MAX_PARTITIONS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// The largest sequence number; the next one after it is 0 (Kafka's sequences are non-negative
/// Java `int`s and wrap at `Integer.MAX_VALUE`).
pub const MAX_SEQUENCE: u32 = i32::MAX as u32;

/// How many recent batches per producer a partition remembers for duplicate detection (Kafka's
/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`). This is why an idempotent producer allows at
/// most 5 requests in flight.
pub const PRODUCER_BATCHES_RETAINED: usize = 5;

/// How many producers' idempotence state one partition keeps; beyond it the least recently
/// active producer is forgotten (Kafka expires producer state after `producer.id.expiration.ms`).
pub const MAX_PRODUCERS_PER_PARTITION: usize = 1_024;

/// Upper bound of `retention_records`, so that no config value can exhaust memory.
pub const MAX_RETENTION_RECORDS: u64 = 1_000_000;

/// `seq + by` in Kafka's sequence space (`DefaultRecordBatch.incrementSequence`): wraps from
/// [`MAX_SEQUENCE`] to 0. Arguments above [`MAX_SEQUENCE`] are taken modulo 2^31.
pub fn increment_sequence(seq: u32, by: u32) -> u32 {
    let seq = seq & MAX_SEQUENCE;
    let by = by & MAX_SEQUENCE;
    if seq > MAX_SEQUENCE - by {
        by - (MAX_SEQUENCE - seq) - 1
    } else {
        seq + by
    }
}

/// One record in a partition's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its offset in the partition (0-based, consecutive, never reused).
    pub offset: u64,
    /// The record key (Kafka's record key), if any; it chose the partition.
    pub key: Option<String>,
    /// The application message id (msgsim's `MessageId`); a retried or duplicated send carries
    /// the same id, which is how the UI shows duplicates.
    pub message_id: u64,
    /// The producer that appended it.
    pub producer_id: ProducerId,
    /// Its sequence number when written by an idempotent producer (base sequence + index in the
    /// batch); `None` without idempotence (Kafka writes `-1`, `NO_SEQUENCE`).
    pub sequence: Option<u32>,
    /// Virtual time of the append, µs (Kafka's `LogAppendTime`).
    pub append_time_us: u64,
}

/// One record as a producer sends it: the key and the message id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Record key, if any.
    pub key: Option<String>,
    /// Application message id.
    pub message_id: u64,
}

impl BatchRecord {
    /// A record with `key` and `message_id`.
    pub fn new(key: Option<&str>, message_id: u64) -> BatchRecord {
        BatchRecord {
            key: key.map(str::to_string),
            message_id,
        }
    }
}

/// A batch of records for one partition, as carried by a produce request (Kafka's
/// `RecordBatch` header fields that matter here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBatch {
    /// The producer epoch (Kafka's `producerEpoch`); 0 until the producer bumps it.
    pub producer_epoch: u32,
    /// The sequence of the first record with idempotence, `None` without (Kafka's
    /// `baseSequence`, `-1` there). Record `i` has sequence `base + i` (wrapping).
    pub base_sequence: Option<u32>,
    /// The records, in order. Between 1 and [`MAX_BATCH_RECORDS`].
    pub records: Vec<BatchRecord>,
}

impl RecordBatch {
    /// The sequence of the last record, with idempotence.
    pub fn last_sequence(&self) -> Option<u32> {
        let n = u32::try_from(self.records.len()).unwrap_or(u32::MAX).max(1);
        self.base_sequence.map(|s| increment_sequence(s, n - 1))
    }

    /// The records' message ids, in order.
    pub fn message_ids(&self) -> Vec<u64> {
        self.records.iter().map(|r| r.message_id).collect()
    }
}

/// What an accepted append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppendOutcome {
    /// The records were appended at `base_offset..=last_offset`.
    Appended {
        /// Offset of the first record.
        base_offset: u64,
        /// Offset of the last record.
        last_offset: u64,
    },
    /// An idempotent retry of a batch already in the log: nothing was appended; the offsets are
    /// those of the original append (Kafka answers a duplicate with the original offsets).
    Duplicate {
        /// Offset of the original first record.
        base_offset: u64,
        /// Offset of the original last record.
        last_offset: u64,
    },
}

impl AppendOutcome {
    /// Offset of the (original) first record.
    pub fn base_offset(&self) -> u64 {
        match *self {
            AppendOutcome::Appended { base_offset, .. }
            | AppendOutcome::Duplicate { base_offset, .. } => base_offset,
        }
    }

    /// `true` for [`AppendOutcome::Duplicate`].
    pub fn is_duplicate(&self) -> bool {
        matches!(self, AppendOutcome::Duplicate { .. })
    }
}

/// Topic configuration, as scenario JSON writes it (`{"name": "orders", "partitions": 3,
/// "retentionRecords": 10000}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicConfig {
    /// Topic name; Kafka's rules: 1 to 249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
    /// No default (empty is invalid).
    pub name: String,
    /// Number of partitions, 1 to [`MAX_PARTITIONS`]. Default 1 (Kafka's `num.partitions`).
    pub partitions: u32,
    /// Records kept per partition, 1 to [`MAX_RETENTION_RECORDS`]; older ones are deleted and
    /// the log-start offset moves. Default 10 000.
    pub retention_records: u64,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            name: String::new(),
            partitions: 1,
            retention_records: 10_000,
        }
    }
}

impl TopicConfig {
    /// A config with `name`, `partitions` and the default retention.
    pub fn new(name: impl Into<String>, partitions: u32) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            partitions,
            ..TopicConfig::default()
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] naming the first bad field (`name`, `partitions`,
    /// `retentionRecords`).
    pub fn validate(&self) -> Result<(), LogError> {
        let n = &self.name;
        if n.is_empty() || n.len() > 249 {
            return Err(LogError::invalid(
                "name",
                format!("{n:?}"),
                "must be 1 to 249 characters",
            ));
        }
        if n == "." || n == ".." {
            return Err(LogError::invalid(
                "name",
                format!("{n:?}"),
                "must not be `.` or `..`",
            ));
        }
        if !n
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(LogError::invalid(
                "name",
                format!("{n:?}"),
                "must use only ASCII letters, digits, `.`, `_` and `-`",
            ));
        }
        if self.partitions == 0 || self.partitions > MAX_PARTITIONS {
            return Err(LogError::invalid(
                "partitions",
                self.partitions,
                "must be between 1 and 1024",
            ));
        }
        if self.retention_records == 0 || self.retention_records > MAX_RETENTION_RECORDS {
            return Err(LogError::invalid(
                "retentionRecords",
                self.retention_records,
                "must be between 1 and 1000000",
            ));
        }
        Ok(())
    }
}

/// What a partition remembers of one idempotent batch (Kafka's `BatchMetadata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
struct BatchMetadata {
    first_seq: u32,
    last_seq: u32,
    base_offset: u64,
    last_offset: u64,
}

/// Per-producer idempotence state of one partition (Kafka's `ProducerStateEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct ProducerStateEntry {
    epoch: u32,
    last_sequence: u32,
    batches: VecDeque<BatchMetadata>,
    last_append_us: u64,
}

/// The idempotence state a partition holds for one producer, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerSequenceView {
    /// The producer epoch last seen.
    pub epoch: u32,
    /// The last sequence appended.
    pub last_sequence: u32,
    /// How many recent batches are remembered for duplicate detection (at most 5).
    pub batches_retained: usize,
}

/// Serializes the retained records as a sequence, as a `VecDeque` does.
fn serialize_records<S: serde::Serializer>(
    records: &imbl::Vector<Record>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(records.iter())
}

/// One partition's log. Read it through the accessors; append through
/// [`PartitionedTopic::append`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionLog {
    partition: u32,
    /// The retained records, oldest first: a persistent vector ([`imbl::Vector`], chunks of 64
    /// shared through reference counts), so cloning the log — every timeline checkpoint clones
    /// the simulation — shares them and a later append copies only the open chunk, instead of
    /// copying up to `retention_records` records (and their keys) each.
    #[serde(serialize_with = "serialize_records")]
    records: imbl::Vector<Record>,
    log_start_offset: u64,
    log_end_offset: u64,
    retention_records: u64,
    producers: BTreeMap<ProducerId, ProducerStateEntry>,
}

impl PartitionLog {
    fn new(partition: u32, retention_records: u64) -> PartitionLog {
        PartitionLog {
            partition,
            records: imbl::Vector::new(),
            log_start_offset: 0,
            log_end_offset: 0,
            retention_records,
            producers: BTreeMap::new(),
        }
    }

    /// The partition number.
    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// Offset of the oldest retained record (equal to the log-end offset when none is kept).
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// Offset the next appended record will get (Kafka's log-end offset; one past the last
    /// record).
    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }

    /// Records currently retained.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// `true` when no record is retained.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Records kept at most (older ones are deleted on append).
    pub fn retention_records(&self) -> u64 {
        self.retention_records
    }

    /// The retained records, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &Record> + '_ {
        self.records.iter()
    }

    /// The retained record at `offset`, if any.
    pub fn get(&self, offset: u64) -> Option<&Record> {
        let i = offset.checked_sub(self.log_start_offset)?;
        self.records.get(usize::try_from(i).ok()?)
    }

    /// The message ids of the retained records, oldest first (handy in tests and the UI).
    pub fn message_ids(&self) -> Vec<u64> {
        self.records.iter().map(|r| r.message_id).collect()
    }

    /// The idempotence state held for `producer_id`, if any.
    pub fn producer_state(&self, producer_id: ProducerId) -> Option<ProducerSequenceView> {
        self.producers
            .get(&producer_id)
            .map(|e| ProducerSequenceView {
                epoch: e.epoch,
                last_sequence: e.last_sequence,
                batches_retained: e.batches.len(),
            })
    }

    /// Up to `max_records` records from `offset` on; `None` when `offset` is outside
    /// `[log_start_offset, log_end_offset]`.
    fn read(&self, offset: u64, max_records: usize) -> Option<Vec<Record>> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return None;
        }
        let skip = usize::try_from(offset - self.log_start_offset).ok()?;
        let end = skip.saturating_add(max_records).min(self.records.len());
        Some(
            (skip..end)
                .filter_map(|i| self.records.get(i).cloned())
                .collect(),
        )
    }

    fn push_records(
        &mut self,
        now_us: u64,
        producer_id: ProducerId,
        batch: &RecordBatch,
    ) -> (u64, u64) {
        let base = self.log_end_offset;
        for (i, r) in batch.records.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            self.records.push_back(Record {
                offset: self.log_end_offset,
                key: r.key.clone(),
                message_id: r.message_id,
                producer_id,
                sequence: batch.base_sequence.map(|s| increment_sequence(s, i)),
                append_time_us: now_us,
            });
            self.log_end_offset += 1;
        }
        while self.records.len() as u64 > self.retention_records {
            self.records.pop_front();
            self.log_start_offset += 1;
        }
        (base, self.log_end_offset - 1)
    }

    /// Forgets the least recently active producer when the table is full.
    fn make_room_for_producer(&mut self) {
        if self.producers.len() < MAX_PRODUCERS_PER_PARTITION {
            return;
        }
        let oldest = self
            .producers
            .iter()
            .min_by_key(|(pid, e)| (e.last_append_us, **pid))
            .map(|(pid, _)| *pid);
        if let Some(pid) = oldest {
            self.producers.remove(&pid);
        }
    }

    fn append(
        &mut self,
        topic: &str,
        now_us: u64,
        producer_id: ProducerId,
        batch: &RecordBatch,
    ) -> Result<AppendOutcome, LogError> {
        let tp = || TopicPartition::new(topic, self.partition);
        let Some(first) = batch.base_sequence else {
            let (base_offset, last_offset) = self.push_records(now_us, producer_id, batch);
            return Ok(AppendOutcome::Appended {
                base_offset,
                last_offset,
            });
        };
        let n = batch.records.len() as u32; // <= MAX_BATCH_RECORDS, checked by the caller
        let last = increment_sequence(first, n - 1);
        let expected = match self.producers.get(&producer_id) {
            None => 0,
            Some(e) if batch.producer_epoch < e.epoch => {
                return Err(LogError::InvalidProducerEpoch {
                    producer_id,
                    tp: tp(),
                    current: e.epoch,
                    got: batch.producer_epoch,
                });
            }
            Some(e) if batch.producer_epoch > e.epoch => 0,
            Some(e) => {
                if let Some(m) = e
                    .batches
                    .iter()
                    .find(|m| m.first_seq == first && m.last_seq == last)
                {
                    return Ok(AppendOutcome::Duplicate {
                        base_offset: m.base_offset,
                        last_offset: m.last_offset,
                    });
                }
                increment_sequence(e.last_sequence, 1)
            }
        };
        if first != expected || first > MAX_SEQUENCE {
            return Err(LogError::OutOfOrderSequence {
                producer_id,
                tp: tp(),
                expected,
                got: first,
            });
        }
        let (base_offset, last_offset) = self.push_records(now_us, producer_id, batch);
        if !self.producers.contains_key(&producer_id) {
            self.make_room_for_producer();
        }
        let entry = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerStateEntry {
                epoch: batch.producer_epoch,
                last_sequence: 0,
                batches: VecDeque::new(),
                last_append_us: now_us,
            });
        if entry.epoch != batch.producer_epoch {
            entry.epoch = batch.producer_epoch;
            entry.batches.clear();
        }
        entry.last_sequence = last;
        entry.last_append_us = now_us;
        entry.batches.push_back(BatchMetadata {
            first_seq: first,
            last_seq: last,
            base_offset,
            last_offset,
        });
        while entry.batches.len() > PRODUCER_BATCHES_RETAINED {
            entry.batches.pop_front();
        }
        Ok(AppendOutcome::Appended {
            base_offset,
            last_offset,
        })
    }
}

/// A topic: a name and its partitions' logs (`partitions[p]` is partition `p`).
///
/// Build it with [`PartitionedTopic::new`]; the broker side appends with
/// [`PartitionedTopic::append`] (or [`PartitionedTopic::append_request`]) and consumers read with
/// [`PartitionedTopic::read`]. See the module docs for retention and idempotence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionedTopic {
    name: String,
    partitions: Vec<PartitionLog>,
}

impl PartitionedTopic {
    /// A topic with empty partitions.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] from [`TopicConfig::validate`].
    pub fn new(config: &TopicConfig) -> Result<PartitionedTopic, LogError> {
        config.validate()?;
        Ok(PartitionedTopic {
            name: config.name.clone(),
            partitions: (0..config.partitions)
                .map(|p| PartitionLog::new(p, config.retention_records))
                .collect(),
        })
    }

    /// The topic name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of partitions (at least 1).
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// All partitions, partition 0 first.
    pub fn partitions(&self) -> &[PartitionLog] {
        &self.partitions
    }

    /// Partition `partition`.
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`].
    pub fn partition(&self, partition: u32) -> Result<&PartitionLog, LogError> {
        self.partitions
            .get(partition as usize)
            .ok_or_else(|| self.unknown_partition(partition))
    }

    fn unknown_partition(&self, partition: u32) -> LogError {
        LogError::UnknownPartition {
            topic: self.name.clone(),
            partition,
            partitions: self.partition_count(),
        }
    }

    /// The broker's handling of one produce request's batch for `partition` at virtual time
    /// `now_us` (see the module docs for the idempotence rules).
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`], [`LogError::EmptyBatch`], [`LogError::BatchTooLarge`]
    /// (host misuse, nothing appended); [`LogError::OutOfOrderSequence`] and
    /// [`LogError::InvalidProducerEpoch`] (protocol answers for the producer, nothing appended).
    pub fn append(
        &mut self,
        now_us: u64,
        producer_id: ProducerId,
        partition: u32,
        batch: &RecordBatch,
    ) -> Result<AppendOutcome, LogError> {
        if batch.records.is_empty() {
            return Err(LogError::EmptyBatch);
        }
        if batch.records.len() > MAX_BATCH_RECORDS {
            return Err(LogError::BatchTooLarge {
                records: batch.records.len(),
                max: MAX_BATCH_RECORDS,
            });
        }
        let unknown = self.unknown_partition(partition);
        let log = self.partitions.get_mut(partition as usize).ok_or(unknown)?;
        log.append(&self.name, now_us, producer_id, batch)
    }

    /// [`PartitionedTopic::append`] for a request built by a [`super::Producer`].
    ///
    /// # Errors
    /// [`LogError::UnknownTopic`] when the request is for another topic, else as
    /// [`PartitionedTopic::append`].
    pub fn append_request(
        &mut self,
        now_us: u64,
        request: &ProduceRequest,
    ) -> Result<AppendOutcome, LogError> {
        if request.tp.topic != self.name {
            return Err(LogError::UnknownTopic {
                topic: request.tp.topic.clone(),
            });
        }
        self.append(
            now_us,
            request.producer_id,
            request.tp.partition,
            &request.batch,
        )
    }

    /// Up to `max_records` records of `partition` from `offset` on (empty at the log-end
    /// offset): a fetch.
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`]; [`LogError::OffsetOutOfRange`] when `offset` is below the
    /// log-start offset (deleted by retention) or above the log-end offset.
    pub fn read(
        &self,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, LogError> {
        let log = self.partition(partition)?;
        log.read(offset, max_records)
            .ok_or_else(|| LogError::OffsetOutOfRange {
                tp: TopicPartition::new(&self.name, partition),
                offset,
                log_start_offset: log.log_start_offset,
                log_end_offset: log.log_end_offset,
            })
    }

    /// Log-end offset of `partition`.
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`].
    pub fn log_end_offset(&self, partition: u32) -> Result<u64, LogError> {
        Ok(self.partition(partition)?.log_end_offset)
    }

    /// Log-start offset of `partition`.
    ///
    /// # Errors
    /// [`LogError::UnknownPartition`].
    pub fn log_start_offset(&self, partition: u32) -> Result<u64, LogError> {
        Ok(self.partition(partition)?.log_start_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(partitions: u32, retention: u64) -> PartitionedTopic {
        PartitionedTopic::new(&TopicConfig {
            name: "orders".into(),
            partitions,
            retention_records: retention,
        })
        .unwrap()
    }

    fn batch(epoch: u32, seq: Option<u32>, ids: &[u64]) -> RecordBatch {
        RecordBatch {
            producer_epoch: epoch,
            base_sequence: seq,
            records: ids.iter().map(|&m| BatchRecord::new(None, m)).collect(),
        }
    }

    #[test]
    fn sequences_wrap_like_kafka() {
        assert_eq!(increment_sequence(0, 1), 1);
        assert_eq!(increment_sequence(MAX_SEQUENCE, 1), 0);
        assert_eq!(increment_sequence(MAX_SEQUENCE - 1, 3), 1);
        assert_eq!(increment_sequence(5, 0), 5);
        let b = batch(0, Some(MAX_SEQUENCE), &[1, 2, 3]);
        assert_eq!(b.last_sequence(), Some(1));
        assert_eq!(batch(0, None, &[1]).last_sequence(), None);
    }

    #[test]
    fn retention_truncates_and_moves_log_start() {
        let mut t = topic(1, 3);
        for m in 0..5u64 {
            let out = t.append(10 * m, 7, 0, &batch(0, None, &[m])).unwrap();
            assert_eq!(out.base_offset(), m);
        }
        let p = t.partition(0).unwrap();
        assert_eq!(
            (p.log_start_offset(), p.log_end_offset(), p.len()),
            (2, 5, 3)
        );
        assert_eq!(p.message_ids(), vec![2, 3, 4]);
        assert_eq!(p.get(1), None);
        assert_eq!(p.get(4).unwrap().append_time_us, 40);
        let e = t.read(0, 1, 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "offset 1 of orders-0 is out of range [2, 5] (OFFSET_OUT_OF_RANGE)"
        );
        let r = t.read(0, 2, 2).unwrap();
        assert_eq!(r.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![2, 3]);
        assert!(t.read(0, 5, 10).unwrap().is_empty());
        assert!(t.read(0, 6, 10).is_err());
        // A batch bigger than the retention keeps only its tail.
        t.append(99, 7, 0, &batch(0, None, &[10, 11, 12, 13]))
            .unwrap();
        let p = t.partition(0).unwrap();
        assert_eq!((p.log_start_offset(), p.log_end_offset()), (6, 9));
        assert_eq!(p.message_ids(), vec![11, 12, 13]);
    }

    #[test]
    fn idempotent_append_checks_sequences() {
        let mut t = topic(2, 100);
        // A producer the partition does not know must start at 0.
        let e = t.append(0, 1, 0, &batch(0, Some(1), &[1])).unwrap_err();
        assert!(matches!(
            e,
            LogError::OutOfOrderSequence {
                expected: 0,
                got: 1,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "producer 1 on orders-0: expected sequence 0, got 1 (OUT_OF_ORDER_SEQUENCE_NUMBER)"
        );
        assert_eq!(
            t.append(0, 1, 0, &batch(0, Some(0), &[1, 2])).unwrap(),
            AppendOutcome::Appended {
                base_offset: 0,
                last_offset: 1
            }
        );
        // Same first and last sequence: a duplicate, answered with the original offsets.
        assert_eq!(
            t.append(1, 1, 0, &batch(0, Some(0), &[1, 2])).unwrap(),
            AppendOutcome::Duplicate {
                base_offset: 0,
                last_offset: 1
            }
        );
        // A gap is out of order.
        assert!(t.append(2, 1, 0, &batch(0, Some(3), &[4])).is_err());
        assert_eq!(
            t.append(3, 1, 0, &batch(0, Some(2), &[3])).unwrap(),
            AppendOutcome::Appended {
                base_offset: 2,
                last_offset: 2
            }
        );
        let p = t.partition(0).unwrap();
        assert_eq!(p.message_ids(), vec![1, 2, 3]);
        assert_eq!(
            p.records().map(|r| r.sequence).collect::<Vec<_>>(),
            vec![Some(0), Some(1), Some(2)]
        );
        // Sequences are per partition: partition 1 starts at 0 for the same producer.
        assert!(t.append(4, 1, 1, &batch(0, Some(0), &[9])).is_ok());
        // A new epoch restarts at 0; the old epoch is then fenced.
        assert!(t.append(5, 1, 0, &batch(1, Some(3), &[5])).is_err());
        assert!(t.append(5, 1, 0, &batch(1, Some(0), &[5])).is_ok());
        assert!(matches!(
            t.append(6, 1, 0, &batch(0, Some(3), &[6])).unwrap_err(),
            LogError::InvalidProducerEpoch {
                current: 1,
                got: 0,
                ..
            }
        ));
        let s = t.partition(0).unwrap().producer_state(1).unwrap();
        assert_eq!((s.epoch, s.last_sequence, s.batches_retained), (1, 0, 1));
    }

    #[test]
    fn only_the_last_five_batches_are_recognised_as_duplicates() {
        let mut t = topic(1, 100);
        for s in 0..6u32 {
            t.append(0, 1, 0, &batch(0, Some(s), &[u64::from(s)]))
                .unwrap();
        }
        // Batch 0 is six batches back: no longer recognised, so it is out of order.
        assert!(matches!(
            t.append(1, 1, 0, &batch(0, Some(0), &[0])).unwrap_err(),
            LogError::OutOfOrderSequence {
                expected: 6,
                got: 0,
                ..
            }
        ));
        assert!(t
            .append(1, 1, 0, &batch(0, Some(1), &[1]))
            .unwrap()
            .is_duplicate());
    }

    #[test]
    fn producer_table_is_bounded() {
        let mut t = topic(1, 10);
        for pid in 0..(MAX_PRODUCERS_PER_PARTITION as u64 + 1) {
            t.append(pid, pid, 0, &batch(0, Some(0), &[pid])).unwrap();
        }
        let p = t.partition(0).unwrap();
        assert_eq!(p.producers.len(), MAX_PRODUCERS_PER_PARTITION);
        assert!(p.producer_state(0).is_none());
        assert!(p.producer_state(1).is_some());
    }

    #[test]
    fn host_misuse_is_an_error() {
        let mut t = topic(2, 10);
        assert!(matches!(
            t.append(0, 1, 2, &batch(0, None, &[1])).unwrap_err(),
            LogError::UnknownPartition {
                partition: 2,
                partitions: 2,
                ..
            }
        ));
        assert_eq!(
            t.append(0, 1, 0, &batch(0, None, &[])).unwrap_err(),
            LogError::EmptyBatch
        );
        let big = batch(0, None, &vec![1; MAX_BATCH_RECORDS + 1]);
        assert!(matches!(
            t.append(0, 1, 0, &big).unwrap_err(),
            LogError::BatchTooLarge { .. }
        ));
        assert!(t.read(5, 0, 1).is_err());
        assert!(t.log_end_offset(9).is_err());
        assert_eq!(t.partition_count(), 2);
    }

    #[test]
    fn topic_config_validates_like_kafka() {
        assert!(TopicConfig::new("orders.v1_x-y", 3).validate().is_ok());
        for bad in ["", ".", "..", "has space", "ü", &"x".repeat(250)] {
            assert!(TopicConfig::new(bad, 1).validate().is_err(), "{bad:?}");
        }
        assert!(TopicConfig::new("t", 0).validate().is_err());
        assert!(TopicConfig::new("t", MAX_PARTITIONS + 1)
            .validate()
            .is_err());
        let mut c = TopicConfig::new("t", 1);
        c.retention_records = 0;
        assert_eq!(
            PartitionedTopic::new(&c).unwrap_err().to_string(),
            "invalid config retentionRecords = 0: must be between 1 and 1000000"
        );
        assert_eq!(TopicConfig::default().partitions, 1);
        assert_eq!(TopicConfig::default().retention_records, 10_000);
    }
}
