//! The producer side: an accumulator of batches per partition, in-flight requests, retries and
//! the idempotent producer's sequence numbers, with the semantics of Kafka's Java producer
//! (`KafkaProducer`, `RecordAccumulator`, `Sender`, `TransactionManager`).
//!
//! # Driving it
//!
//! 1. [`Producer::send`] (or [`Producer::send_record`], which also picks the partition) puts a
//!    batch in the accumulator. With idempotence the batch gets its base sequence now: the
//!    partition's next sequence, which then advances by the batch's record count.
//! 2. [`Producer::poll_requests`] returns the [`ProduceRequest`]s to put on the wire now. The host
//!    carries each to the broker, calls [`super::PartitionedTopic::append_request`] there and
//!    carries the result back — or loses the request or the response.
//! 3. [`Producer::on_response`] takes the result (or [`LogError::RequestTimedOut`] /
//!    [`LogError::NetworkException`] for a lost request or response) and returns
//!    [`ProducerEvent`]s: acked, retrying at `ready_at_us`, failed, epoch bumped. The host polls
//!    again after a response and at [`Producer::next_ready_at_us`].
//!
//! # Ordering, retries and idempotence
//!
//! At most `max.in.flight.requests.per.connection` requests are in flight at once (msgsim models
//! one connection per producer: one broker). A retriable failure puts the batch back, to be sent
//! again after `retry.backoff.ms`, while `retries` allows.
//!
//! * **Without idempotence** a retried batch is sent as soon as its backoff ends, whatever else is
//!   in flight, and every arriving batch is appended: with two requests in flight, a failed first
//!   batch retried after the second was written lands *after* it (`[m2, m1]`), and a batch whose
//!   first attempt was written but whose ack was lost is written twice (`[m1, m2, m1]`).
//! * **With idempotence** (Kafka 3.0+'s default) every batch carries `(producer id, epoch, base
//!   sequence)` and the broker appends a partition's batches only in sequence order, answering a
//!   gap with `OUT_OF_ORDER_SEQUENCE_NUMBER` and a retry of a recently written batch with its
//!   original offsets (see [`super::topic`]). The producer keeps its side of the bargain as Kafka's
//!   does: a batch that got `OUT_OF_ORDER_SEQUENCE_NUMBER` while an earlier batch of its partition
//!   was unresolved is simply retried; retried batches go out one at a time, in sequence order,
//!   and only when nothing else of their partition is in flight (Kafka's "effectively reduces our
//!   in flight request count to 1"); and a batch is sent only if it comes fewer than
//!   `max.in.flight.requests.per.connection` (≤ 5) batches after its partition's oldest
//!   unacknowledged batch, so that a retried batch is always among the last five batches the
//!   broker remembers (Kafka gets this from in-order responses on one TCP connection; msgsim's
//!   host may reorder or lose responses independently). Result: `[m1, m2]` in both cases above.
//!
//! When an idempotent batch fails for good (retries exhausted, or a non-retriable error), or a
//! partition's first unacknowledged batch gets `OUT_OF_ORDER_SEQUENCE_NUMBER` (the broker's view
//! of its sequence is lost, e.g. its producer state was evicted), the producer **bumps its epoch**
//! once nothing is in flight and renumbers every pending batch of every partition from sequence 0
//! (what Kafka 2.5+ does for the idempotent producer, KIP-360). A batch that failed for good may
//! nevertheless have been written; across a bump the broker cannot recognise a retry, so
//! duplicates are possible only then.
//!
//! `acks=0` sends and forgets: the batch is done when [`Producer::poll_requests`] returns its
//! request, no response is expected and nothing is retried. `acks=1` and `acks=all` behave the
//! same here, because msgsim models one broker per partition and no replicas.

use super::partitioner::Partitioner;
use super::topic::{increment_sequence, AppendOutcome, BatchRecord, RecordBatch};
use super::{LogError, ProducerId, TopicPartition, MAX_BATCH_RECORDS, MAX_PENDING_BATCHES};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Upper bound of `max.in.flight.requests.per.connection`, so that no config value can exhaust
/// memory (Kafka has none; with idempotence the limit is 5).
pub const MAX_IN_FLIGHT_LIMIT: u32 = 1_000;

/// Kafka's `acks`: how many acknowledgements the producer waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: fire and forget; no response, no retry.
    #[serde(rename = "0")]
    None,
    /// `acks=1`: the partition leader's write (same as `all` here: no replicas).
    #[serde(rename = "1")]
    Leader,
    /// `acks=all` (or `-1`): all in-sync replicas. Kafka 3.0+'s default.
    #[default]
    #[serde(rename = "all")]
    All,
}

/// Producer configuration; field names and defaults follow Kafka's producer configs
/// (`max.in.flight.requests.per.connection` is `maxInFlightRequestsPerConnection` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ProducerConfig {
    /// `max.in.flight.requests.per.connection`: requests sent and not yet answered, 1 to
    /// [`MAX_IN_FLIGHT_LIMIT`]; at most 5 with idempotence. Default 5.
    pub max_in_flight_requests_per_connection: u32,
    /// `enable.idempotence`: sequence numbers and broker-side deduplication. Default `true`
    /// (Kafka 3.0+). Requires `acks=all`, `retries` ≥ 1 and at most 5 requests in flight. Recent
    /// Kafka versions silently turn idempotence off when it was only defaulted and those
    /// settings conflict; msgsim rejects the combination instead, so that a scenario says what
    /// it means (set `enableIdempotence: false` explicitly).
    pub enable_idempotence: bool,
    /// `retries`: how many times a batch is resent after a retriable failure. Default
    /// 2147483647 (`Integer.MAX_VALUE`, Kafka 2.1+; Kafka bounds it in time with
    /// `delivery.timeout.ms`, which msgsim leaves to the host).
    pub retries: u32,
    /// `acks`. Default `all`.
    pub acks: Acks,
    /// `retry.backoff.ms`, in µs: wait before resending a failed batch. Default 100 000 (100 ms).
    pub retry_backoff_us: u64,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_in_flight_requests_per_connection: 5,
            enable_idempotence: true,
            retries: i32::MAX as u32,
            acks: Acks::All,
            retry_backoff_us: 100_000,
        }
    }
}

impl ProducerConfig {
    /// Checks the ranges and Kafka's idempotence constraints.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] naming the Kafka property.
    pub fn validate(&self) -> Result<(), LogError> {
        let mif = self.max_in_flight_requests_per_connection;
        if mif == 0 || mif > MAX_IN_FLIGHT_LIMIT {
            return Err(LogError::invalid(
                "max.in.flight.requests.per.connection",
                mif,
                "must be between 1 and 1000",
            ));
        }
        if self.enable_idempotence {
            if mif > 5 {
                return Err(LogError::invalid(
                    "max.in.flight.requests.per.connection",
                    mif,
                    "must be at most 5 with enable.idempotence",
                ));
            }
            if self.acks != Acks::All {
                return Err(LogError::invalid(
                    "acks",
                    format!("{:?}", self.acks),
                    "must be all with enable.idempotence",
                ));
            }
            if self.retries == 0 {
                return Err(LogError::invalid(
                    "retries",
                    0,
                    "must be at least 1 with enable.idempotence",
                ));
            }
        }
        Ok(())
    }
}

/// A produce request on the wire: one batch for one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRequest {
    /// Unique per producer (increasing); a retry is a new request.
    pub request_id: u64,
    /// The producer's accumulator batch id (the same for every attempt of the batch).
    pub batch_id: u64,
    /// The sending producer.
    pub producer_id: ProducerId,
    /// The destination partition.
    pub tp: TopicPartition,
    /// The batch (epoch, base sequence, records).
    pub batch: RecordBatch,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// The producer's `acks`; with [`Acks::None`] no response is expected.
    pub acks: Acks,
}

/// What [`Producer::on_response`] did with a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ProducerEvent {
    /// The broker acknowledged the batch.
    Acked {
        /// Accumulator batch id.
        batch_id: u64,
        /// Its partition.
        tp: TopicPartition,
        /// Offset of its first record.
        base_offset: u64,
        /// `true` when the broker recognised a retry and appended nothing.
        duplicate: bool,
        /// Its records' message ids.
        message_ids: Vec<u64>,
    },
    /// The batch will be resent at `ready_at_us` or later.
    Retrying {
        /// Accumulator batch id.
        batch_id: u64,
        /// Its partition.
        tp: TopicPartition,
        /// The attempt number of the coming resend (2 = first retry).
        attempt: u32,
        /// Earliest resend time, µs (`now + retry.backoff.ms`).
        ready_at_us: u64,
        /// The failure.
        error: LogError,
    },
    /// The batch is given up (retries exhausted or a non-retriable error). It may still have
    /// been written.
    Failed {
        /// Accumulator batch id.
        batch_id: u64,
        /// Its partition.
        tp: TopicPartition,
        /// Its records' message ids.
        message_ids: Vec<u64>,
        /// The last failure.
        error: LogError,
    },
    /// The idempotent producer bumped its epoch and renumbered its pending batches from 0.
    EpochBumped {
        /// The new epoch.
        epoch: u32,
    },
}

/// Where a pending batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BatchState {
    /// Waiting in the accumulator; sendable from `ready_at_us` on.
    Queued {
        /// Earliest send time, µs.
        ready_at_us: u64,
    },
    /// Sent as request `request_id`, not yet answered.
    InFlight {
        /// The request carrying it.
        request_id: u64,
    },
}

/// A pending (unacknowledged) batch, for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingBatchView {
    /// Accumulator batch id.
    pub batch_id: u64,
    /// Its partition.
    pub tp: TopicPartition,
    /// Base sequence with idempotence.
    pub base_sequence: Option<u32>,
    /// Its records' message ids.
    pub message_ids: Vec<u64>,
    /// Times sent so far.
    pub attempts: u32,
    /// Queued or in flight.
    pub state: BatchState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct PendingBatch {
    batch_id: u64,
    /// Position among the partition's batches ever created (0, 1, 2, ...).
    ordinal: u64,
    records: Vec<BatchRecord>,
    base_sequence: Option<u32>,
    attempts: u32,
    state: BatchState,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
struct PartitionQueue {
    next_sequence: u32,
    next_ordinal: u64,
    /// Unacknowledged batches in creation (= sequence) order.
    batches: VecDeque<PendingBatch>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct InFlight {
    tp: TopicPartition,
    batch_id: u64,
    /// Whether every earlier batch of the partition was acknowledged when it was sent; an
    /// out-of-order answer to such a request means the broker lost track of the sequence.
    sent_as_head: bool,
}

/// A Kafka-style producer as a pure state machine (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Producer {
    id: ProducerId,
    config: ProducerConfig,
    epoch: u32,
    partitioner: Partitioner,
    queues: BTreeMap<TopicPartition, PartitionQueue>,
    in_flight: BTreeMap<u64, InFlight>,
    next_request_id: u64,
    next_batch_id: u64,
    pending: usize,
    epoch_bump_pending: bool,
}

impl Producer {
    /// A producer with id `id` (Kafka's producer id, assigned by `InitProducerId`; here the
    /// host picks one, unique among producers) and epoch 0.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] from [`ProducerConfig::validate`].
    pub fn new(id: ProducerId, config: ProducerConfig) -> Result<Producer, LogError> {
        config.validate()?;
        Ok(Producer {
            id,
            config,
            epoch: 0,
            partitioner: Partitioner::new(),
            queues: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            next_request_id: 1,
            next_batch_id: 1,
            pending: 0,
            epoch_bump_pending: false,
        })
    }

    /// The producer id.
    pub fn id(&self) -> ProducerId {
        self.id
    }

    /// The configuration.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// The current producer epoch (0 until a bump).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Requests sent and not yet answered.
    pub fn in_flight_requests(&self) -> usize {
        self.in_flight.len()
    }

    /// Batches not yet acknowledged or given up (queued or in flight).
    pub fn pending_batches(&self) -> usize {
        self.pending
    }

    /// The pending batches, by partition then sequence.
    pub fn pending_batch_views(&self) -> Vec<PendingBatchView> {
        self.queues
            .iter()
            .flat_map(|(tp, q)| {
                q.batches.iter().map(move |b| PendingBatchView {
                    batch_id: b.batch_id,
                    tp: tp.clone(),
                    base_sequence: b.base_sequence,
                    message_ids: b.records.iter().map(|r| r.message_id).collect(),
                    attempts: b.attempts,
                    state: b.state,
                })
            })
            .collect()
    }

    /// Puts a batch of `records` for partition `tp` in the accumulator at `now_us`; returns its
    /// batch id. The partition is not checked here: the broker answers an unknown one with
    /// [`LogError::UnknownPartition`], which fails the batch.
    ///
    /// # Errors
    /// [`LogError::EmptyBatch`], [`LogError::BatchTooLarge`], [`LogError::BufferExhausted`]
    /// (nothing queued).
    pub fn send(
        &mut self,
        now_us: u64,
        tp: TopicPartition,
        records: Vec<BatchRecord>,
    ) -> Result<u64, LogError> {
        if records.is_empty() {
            return Err(LogError::EmptyBatch);
        }
        if records.len() > MAX_BATCH_RECORDS {
            return Err(LogError::BatchTooLarge {
                records: records.len(),
                max: MAX_BATCH_RECORDS,
            });
        }
        if self.pending >= MAX_PENDING_BATCHES {
            return Err(LogError::BufferExhausted {
                producer_id: self.id,
                max: MAX_PENDING_BATCHES,
            });
        }
        let q = self.queues.entry(tp).or_default();
        let base_sequence = if self.config.enable_idempotence {
            let s = q.next_sequence;
            q.next_sequence = increment_sequence(s, records.len() as u32);
            Some(s)
        } else {
            None
        };
        let batch_id = self.next_batch_id;
        self.next_batch_id += 1;
        let ordinal = q.next_ordinal;
        q.next_ordinal += 1;
        q.batches.push_back(PendingBatch {
            batch_id,
            ordinal,
            records,
            base_sequence,
            attempts: 0,
            state: BatchState::Queued {
                ready_at_us: now_us,
            },
        });
        self.pending += 1;
        Ok(batch_id)
    }

    /// Picks the partition of `topic` (which has `partitions` partitions) for a record with `key`
    /// with [`Partitioner`] (murmur2 of the key, round robin without one) and sends it as a
    /// batch of one. Returns the partition and the batch id.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] when `partitions` is 0, else as [`Producer::send`].
    pub fn send_record(
        &mut self,
        now_us: u64,
        topic: &str,
        partitions: u32,
        key: Option<&str>,
        message_id: u64,
    ) -> Result<(TopicPartition, u64), LogError> {
        if self.pending >= MAX_PENDING_BATCHES {
            return Err(LogError::BufferExhausted {
                producer_id: self.id,
                max: MAX_PENDING_BATCHES,
            });
        }
        let p = self.partitioner.partition(topic, key, partitions)?;
        let tp = TopicPartition::new(topic, p);
        let id = self.send(now_us, tp.clone(), vec![BatchRecord::new(key, message_id)])?;
        Ok((tp, id))
    }

    /// Index of the batch of `q` that may be sent now, if any (see the module docs).
    fn sendable_index(&self, q: &PartitionQueue, now_us: u64) -> Option<usize> {
        let ready = |b: &PendingBatch| matches!(b.state, BatchState::Queued { ready_at_us } if ready_at_us <= now_us);
        if !self.config.enable_idempotence {
            return q.batches.iter().position(ready);
        }
        let i = q
            .batches
            .iter()
            .position(|b| matches!(b.state, BatchState::Queued { .. }))?;
        let b = &q.batches[i];
        let head = q.batches.front().map_or(b.ordinal, |h| h.ordinal);
        let window = u64::from(self.config.max_in_flight_requests_per_connection);
        if !ready(b) || b.ordinal - head >= window {
            return None;
        }
        if b.attempts > 0
            && (i != 0
                || q.batches
                    .iter()
                    .any(|x| matches!(x.state, BatchState::InFlight { .. })))
        {
            return None;
        }
        Some(i)
    }

    /// The requests to send at `now_us`, oldest batch first, within the in-flight limit. With
    /// `acks=0` each returned batch is done (no response is expected).
    pub fn poll_requests(&mut self, now_us: u64) -> Vec<ProduceRequest> {
        let mut out = Vec::new();
        loop {
            if self.config.acks != Acks::None
                && self.in_flight.len()
                    >= self.config.max_in_flight_requests_per_connection as usize
            {
                break;
            }
            if self.epoch_bump_pending {
                break;
            }
            let mut best: Option<(u64, &TopicPartition, usize)> = None;
            for (tp, q) in &self.queues {
                if let Some(i) = self.sendable_index(q, now_us) {
                    let bid = q.batches[i].batch_id;
                    if best.is_none_or(|(b, _, _)| bid < b) {
                        best = Some((bid, tp, i));
                    }
                }
            }
            let Some((_, tp, i)) = best else { break };
            let tp = tp.clone();
            let request_id = self.next_request_id;
            self.next_request_id += 1;
            let (epoch, acks, pid) = (self.epoch, self.config.acks, self.id);
            let Some(q) = self.queues.get_mut(&tp) else {
                break;
            };
            let b = &mut q.batches[i];
            b.attempts = b.attempts.saturating_add(1);
            let request = ProduceRequest {
                request_id,
                batch_id: b.batch_id,
                producer_id: pid,
                tp: tp.clone(),
                batch: RecordBatch {
                    producer_epoch: epoch,
                    base_sequence: b.base_sequence,
                    records: b.records.clone(),
                },
                attempt: b.attempts,
                acks,
            };
            if acks == Acks::None {
                q.batches.remove(i);
                self.pending -= 1;
            } else {
                b.state = BatchState::InFlight { request_id };
                self.in_flight.insert(
                    request_id,
                    InFlight {
                        tp,
                        batch_id: request.batch_id,
                        sent_as_head: i == 0,
                    },
                );
            }
            out.push(request);
        }
        out
    }

    /// The earliest time after `now_us` at which a queued batch's backoff ends, for the host's
    /// timer; `None` when no batch is waiting on a backoff.
    pub fn next_ready_at_us(&self, now_us: u64) -> Option<u64> {
        self.queues
            .values()
            .flat_map(|q| q.batches.iter())
            .filter_map(|b| match b.state {
                BatchState::Queued { ready_at_us } if ready_at_us > now_us => Some(ready_at_us),
                _ => None,
            })
            .min()
    }

    /// The answer to request `request_id` at `now_us`: the broker's result, or
    /// [`LogError::RequestTimedOut`] / [`LogError::NetworkException`] when the host lost the
    /// request or its response. See the module docs for what happens to the batch.
    ///
    /// # Errors
    /// [`LogError::UnknownRequest`] when `request_id` is not in flight (already answered, never
    /// sent, or sent with `acks=0`); nothing changes.
    pub fn on_response(
        &mut self,
        now_us: u64,
        request_id: u64,
        result: Result<AppendOutcome, LogError>,
    ) -> Result<Vec<ProducerEvent>, LogError> {
        let unknown = LogError::UnknownRequest {
            producer_id: self.id,
            request_id,
        };
        let Some(req) = self.in_flight.get(&request_id).cloned() else {
            return Err(unknown);
        };
        let Some(q) = self.queues.get_mut(&req.tp) else {
            return Err(unknown);
        };
        let Some(i) = q.batches.iter().position(|b| b.batch_id == req.batch_id) else {
            return Err(unknown);
        };
        self.in_flight.remove(&request_id);
        let idempotent = self.config.enable_idempotence;
        let mut events = Vec::new();
        match result {
            Ok(outcome) => {
                if let Some(b) = q.batches.remove(i) {
                    self.pending -= 1;
                    events.push(ProducerEvent::Acked {
                        batch_id: b.batch_id,
                        tp: req.tp,
                        base_offset: outcome.base_offset(),
                        duplicate: outcome.is_duplicate(),
                        message_ids: b.records.iter().map(|r| r.message_id).collect(),
                    });
                }
            }
            Err(error) => {
                let b = &mut q.batches[i];
                let retriable = matches!(
                    error,
                    LogError::RequestTimedOut
                        | LogError::NetworkException
                        | LogError::OutOfOrderSequence { .. }
                );
                // `attempts` counts sends, so `attempts - 1` retries are used up.
                if retriable && b.attempts <= self.config.retries {
                    if idempotent
                        && req.sent_as_head
                        && matches!(error, LogError::OutOfOrderSequence { .. })
                    {
                        self.epoch_bump_pending = true;
                    }
                    let ready_at_us = now_us.saturating_add(self.config.retry_backoff_us);
                    b.state = BatchState::Queued { ready_at_us };
                    events.push(ProducerEvent::Retrying {
                        batch_id: b.batch_id,
                        tp: req.tp,
                        attempt: b.attempts.saturating_add(1),
                        ready_at_us,
                        error,
                    });
                } else if let Some(b) = q.batches.remove(i) {
                    self.pending -= 1;
                    if idempotent {
                        self.epoch_bump_pending = true;
                    }
                    events.push(ProducerEvent::Failed {
                        batch_id: b.batch_id,
                        tp: req.tp,
                        message_ids: b.records.iter().map(|r| r.message_id).collect(),
                        error,
                    });
                }
            }
        }
        if self.epoch_bump_pending && self.in_flight.is_empty() {
            self.bump_epoch();
            events.push(ProducerEvent::EpochBumped { epoch: self.epoch });
        }
        Ok(events)
    }

    fn bump_epoch(&mut self) {
        self.epoch = self.epoch.saturating_add(1);
        for q in self.queues.values_mut() {
            let mut s = 0;
            for b in q.batches.iter_mut() {
                b.base_sequence = Some(s);
                s = increment_sequence(s, b.records.len() as u32);
            }
            q.next_sequence = s;
        }
        self.epoch_bump_pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{PartitionedTopic, TopicConfig};

    fn tp0() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    fn rec(m: u64) -> Vec<BatchRecord> {
        vec![BatchRecord::new(None, m)]
    }

    #[test]
    fn defaults_are_kafka_3() {
        let c = ProducerConfig::default();
        assert_eq!(c.max_in_flight_requests_per_connection, 5);
        assert!(c.enable_idempotence);
        assert_eq!(c.retries, 2_147_483_647);
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.retry_backoff_us, 100_000);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn config_rejects_what_kafka_rejects() {
        let bad = |f: fn(&mut ProducerConfig)| {
            let mut c = ProducerConfig::default();
            f(&mut c);
            Producer::new(1, c).unwrap_err().to_string()
        };
        assert_eq!(
            bad(|c| c.max_in_flight_requests_per_connection = 6),
            "invalid config max.in.flight.requests.per.connection = 6: must be at most 5 with enable.idempotence"
        );
        assert_eq!(
            bad(|c| c.acks = Acks::Leader),
            "invalid config acks = Leader: must be all with enable.idempotence"
        );
        assert_eq!(
            bad(|c| c.retries = 0),
            "invalid config retries = 0: must be at least 1 with enable.idempotence"
        );
        assert!(bad(|c| {
            c.enable_idempotence = false;
            c.max_in_flight_requests_per_connection = 0;
        })
        .contains("must be between 1 and 1000"));
        let c = ProducerConfig {
            enable_idempotence: false,
            acks: Acks::None,
            retries: 0,
            max_in_flight_requests_per_connection: 50,
            ..ProducerConfig::default()
        };
        assert!(c.validate().is_ok());
    }

    #[test]
    fn in_flight_limit_and_sequences() {
        let mut p = Producer::new(
            9,
            ProducerConfig {
                max_in_flight_requests_per_connection: 2,
                ..ProducerConfig::default()
            },
        )
        .unwrap();
        for m in 1..=3 {
            p.send(0, tp0(), rec(m)).unwrap();
        }
        let reqs = p.poll_requests(0);
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            reqs.iter()
                .map(|r| r.batch.base_sequence)
                .collect::<Vec<_>>(),
            vec![Some(0), Some(1)]
        );
        assert!(p.poll_requests(0).is_empty());
        let ev = p
            .on_response(
                5,
                reqs[0].request_id,
                Ok(AppendOutcome::Appended {
                    base_offset: 0,
                    last_offset: 0,
                }),
            )
            .unwrap();
        assert!(matches!(ev[0], ProducerEvent::Acked { base_offset: 0, .. }));
        let reqs2 = p.poll_requests(5);
        assert_eq!(reqs2.len(), 1);
        assert_eq!(reqs2[0].batch.base_sequence, Some(2));
        // Answering twice, or an unknown id, is an error and changes nothing.
        assert!(p
            .on_response(6, reqs[0].request_id, Err(LogError::RequestTimedOut))
            .is_err());
        assert!(p
            .on_response(6, 999, Err(LogError::RequestTimedOut))
            .is_err());
        assert_eq!(p.in_flight_requests(), 2);
        assert_eq!(p.pending_batches(), 2);
    }

    #[test]
    fn retries_are_bounded_and_failure_bumps_the_epoch() {
        let mut p = Producer::new(
            1,
            ProducerConfig {
                retries: 1,
                retry_backoff_us: 10,
                ..ProducerConfig::default()
            },
        )
        .unwrap();
        p.send(0, tp0(), rec(1)).unwrap();
        p.send(0, tp0(), rec(2)).unwrap();
        let r = p.poll_requests(0);
        assert_eq!(r.len(), 2);
        let ev = p
            .on_response(1, r[0].request_id, Err(LogError::RequestTimedOut))
            .unwrap();
        assert_eq!(
            ev,
            vec![ProducerEvent::Retrying {
                batch_id: 1,
                tp: tp0(),
                attempt: 2,
                ready_at_us: 11,
                error: LogError::RequestTimedOut
            }]
        );
        assert_eq!(p.next_ready_at_us(1), Some(11));
        // The retry waits for its backoff and for batch 2 (in flight) to be answered.
        assert!(p.poll_requests(11).is_empty());
        p.on_response(
            12,
            r[1].request_id,
            Err(LogError::OutOfOrderSequence {
                producer_id: 1,
                tp: tp0(),
                expected: 0,
                got: 1,
            }),
        )
        .unwrap();
        let r = p.poll_requests(22);
        assert_eq!(r.len(), 1, "retries go one at a time");
        assert_eq!((r[0].batch_id, r[0].attempt), (1, 2));
        // The second failure exhausts `retries = 1`: failed, and with nothing in flight the
        // epoch is bumped and batch 2 renumbered to sequence 0.
        let ev = p
            .on_response(30, r[0].request_id, Err(LogError::NetworkException))
            .unwrap();
        assert_eq!(
            ev,
            vec![
                ProducerEvent::Failed {
                    batch_id: 1,
                    tp: tp0(),
                    message_ids: vec![1],
                    error: LogError::NetworkException
                },
                ProducerEvent::EpochBumped { epoch: 1 }
            ]
        );
        let r = p.poll_requests(40);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (
                r[0].batch_id,
                r[0].batch.producer_epoch,
                r[0].batch.base_sequence
            ),
            (2, 1, Some(0))
        );
    }

    #[test]
    fn non_retriable_error_fails_at_once() {
        let mut p = Producer::new(1, ProducerConfig::default()).unwrap();
        let mut t = PartitionedTopic::new(&TopicConfig::new("t", 1)).unwrap();
        p.send(0, TopicPartition::new("t", 3), rec(1)).unwrap();
        let r = p.poll_requests(0);
        let res = t.append_request(1, &r[0]);
        assert!(matches!(res, Err(LogError::UnknownPartition { .. })));
        let ev = p.on_response(2, r[0].request_id, res).unwrap();
        assert!(matches!(ev[0], ProducerEvent::Failed { batch_id: 1, .. }));
        assert_eq!(ev[1], ProducerEvent::EpochBumped { epoch: 1 });
        assert_eq!(p.pending_batches(), 0);
    }

    #[test]
    fn acks_zero_forgets() {
        let mut p = Producer::new(
            1,
            ProducerConfig {
                enable_idempotence: false,
                acks: Acks::None,
                max_in_flight_requests_per_connection: 1,
                ..ProducerConfig::default()
            },
        )
        .unwrap();
        for m in 0..3 {
            p.send(0, tp0(), rec(m)).unwrap();
        }
        let r = p.poll_requests(0);
        assert_eq!(r.len(), 3, "acks=0 is not limited by in-flight requests");
        assert!(r
            .iter()
            .all(|x| x.batch.base_sequence.is_none() && x.acks == Acks::None));
        assert_eq!(p.pending_batches(), 0);
        assert!(p
            .on_response(1, r[0].request_id, Err(LogError::RequestTimedOut))
            .is_err());
    }

    #[test]
    fn send_record_partitions_like_kafka() {
        let mut p = Producer::new(1, ProducerConfig::default()).unwrap();
        let (tp, _) = p.send_record(0, "t", 7, Some("21"), 1).unwrap();
        assert_eq!(tp.partition, 3);
        let parts: Vec<u32> = (0..4)
            .map(|m| p.send_record(0, "t", 3, None, m).unwrap().0.partition)
            .collect();
        assert_eq!(parts, vec![0, 1, 2, 0]);
        assert!(p.send_record(0, "t", 0, None, 9).is_err());
        assert!(p.send(0, tp0(), vec![]).is_err());
        assert_eq!(p.pending_batches(), 5);
        let views = p.pending_batch_views();
        assert_eq!(views.len(), 5);
        assert_eq!(views[0].tp, tp0());
    }
}
