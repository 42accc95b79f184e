//! Scenario tests across the module (the cases the issue requires, with exact results) and
//! property tests over random interleavings of host calls.

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const MS: u64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Producer ordering and duplicates: one partition, two requests in flight, m1 then m2.
// ---------------------------------------------------------------------------------------------

fn producer(idempotent: bool) -> Producer {
    Producer::new(
        1,
        ProducerConfig {
            enable_idempotence: idempotent,
            ..ProducerConfig::default()
        },
    )
    .unwrap()
}

fn one_partition() -> PartitionedTopic {
    PartitionedTopic::new(&TopicConfig::new("orders", 1)).unwrap()
}

/// Sends every request the producer has and answers it reliably, until nothing is pending.
fn drain(p: &mut Producer, t: &mut PartitionedTopic, mut now: u64) -> Vec<ProducerEvent> {
    let mut events = Vec::new();
    for _ in 0..100 {
        if p.pending_batches() == 0 {
            break;
        }
        now += 100 * MS; // retry.backoff.ms
        for r in p.poll_requests(now) {
            let res = t.append_request(now, &r);
            events.extend(p.on_response(now, r.request_id, res).unwrap());
        }
    }
    assert_eq!(p.pending_batches(), 0);
    events
}

/// m1 and m2 are two requests in flight; m1's first attempt is lost on the way (the producer
/// times it out), m2 reaches the broker first, then m1 is retried.
fn first_attempt_of_m1_fails(idempotent: bool) -> (Vec<u64>, Vec<ProducerEvent>) {
    let (m1, m2) = (1, 2);
    let mut p = producer(idempotent);
    let mut t = one_partition();
    let tp = TopicPartition::new("orders", 0);
    p.send(0, tp.clone(), vec![BatchRecord::new(None, m1)])
        .unwrap();
    p.send(0, tp, vec![BatchRecord::new(None, m2)]).unwrap();
    let reqs = p.poll_requests(0);
    assert_eq!(reqs.len(), 2, "two requests in flight");
    let mut events = Vec::new();
    // reqs[0] (m1) is lost. reqs[1] (m2) arrives.
    let res = t.append_request(MS, &reqs[1]);
    events.extend(p.on_response(2 * MS, reqs[1].request_id, res).unwrap());
    // request.timeout.ms later the producer gives up on m1's first attempt (retriable).
    events.extend(
        p.on_response(
            30_000 * MS,
            reqs[0].request_id,
            Err(LogError::RequestTimedOut),
        )
        .unwrap(),
    );
    events.extend(drain(&mut p, &mut t, 30_000 * MS));
    (t.partition(0).unwrap().message_ids(), events)
}

/// m1 is written but its ack is lost; m2 is written and acked; the producer times m1 out and
/// retries it.
fn ack_of_m1_lost(idempotent: bool) -> (Vec<u64>, Vec<ProducerEvent>) {
    let (m1, m2) = (1, 2);
    let mut p = producer(idempotent);
    let mut t = one_partition();
    let tp = TopicPartition::new("orders", 0);
    p.send(0, tp.clone(), vec![BatchRecord::new(None, m1)])
        .unwrap();
    p.send(0, tp, vec![BatchRecord::new(None, m2)]).unwrap();
    let reqs = p.poll_requests(0);
    assert_eq!(reqs.len(), 2, "two requests in flight");
    let mut events = Vec::new();
    let lost = t.append_request(MS, &reqs[0]).unwrap();
    assert_eq!(lost.base_offset(), 0);
    let res = t.append_request(MS, &reqs[1]);
    events.extend(p.on_response(2 * MS, reqs[1].request_id, res).unwrap());
    events.extend(
        p.on_response(
            30_000 * MS,
            reqs[0].request_id,
            Err(LogError::RequestTimedOut),
        )
        .unwrap(),
    );
    events.extend(drain(&mut p, &mut t, 30_000 * MS));
    (t.partition(0).unwrap().message_ids(), events)
}

fn acked(events: &[ProducerEvent]) -> Vec<(Vec<u64>, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            ProducerEvent::Acked {
                message_ids,
                base_offset,
                duplicate,
                ..
            } => Some((message_ids.clone(), *base_offset, *duplicate)),
            _ => None,
        })
        .collect()
}

#[test]
fn retried_first_batch_is_reordered_without_idempotence() {
    let (log, events) = first_attempt_of_m1_fails(false);
    assert_eq!(log, vec![2, 1], "[m2, m1]");
    assert_eq!(
        acked(&events),
        vec![(vec![2], 0, false), (vec![1], 1, false)]
    );
}

#[test]
fn retried_first_batch_keeps_its_place_with_idempotence() {
    let (log, events) = first_attempt_of_m1_fails(true);
    assert_eq!(log, vec![1, 2], "[m1, m2]");
    // m2's first attempt is refused as out of order (the broker expects sequence 0) and
    // retried after m1.
    assert!(events.iter().any(|e| matches!(
        e,
        ProducerEvent::Retrying {
            batch_id: 2,
            attempt: 2,
            error: LogError::OutOfOrderSequence {
                expected: 0,
                got: 1,
                ..
            },
            ..
        }
    )));
    assert_eq!(
        acked(&events),
        vec![(vec![1], 0, false), (vec![2], 1, false)]
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, ProducerEvent::EpochBumped { .. })));
}

#[test]
fn lost_ack_duplicates_without_idempotence() {
    let (log, events) = ack_of_m1_lost(false);
    assert_eq!(log, vec![1, 2, 1], "[m1, m2, m1]");
    assert_eq!(
        acked(&events),
        vec![(vec![2], 1, false), (vec![1], 2, false)]
    );
}

#[test]
fn lost_ack_is_deduplicated_with_idempotence() {
    let (log, events) = ack_of_m1_lost(true);
    assert_eq!(log, vec![1, 2], "[m1, m2]");
    // The retry is recognised and acknowledged with the original offset 0.
    assert_eq!(
        acked(&events),
        vec![(vec![2], 1, false), (vec![1], 0, true)]
    );
}

/// B1..B5 are in flight; B1's ack is lost while B2..B5 are acked. An idempotent producer must
/// not send B6 before B1 is resolved, or B1 could fall out of the five batches the broker
/// remembers and its retry would be written twice.
#[test]
fn idempotent_window_keeps_retries_within_the_brokers_memory() {
    let mut p = producer(true);
    let mut t = one_partition();
    let tp = TopicPartition::new("orders", 0);
    for m in 1..=9 {
        p.send(0, tp.clone(), vec![BatchRecord::new(None, m)])
            .unwrap();
    }
    let reqs = p.poll_requests(0);
    assert_eq!(reqs.len(), 5);
    for r in &reqs {
        let res = t.append_request(MS, r);
        if r.batch_id != 1 {
            p.on_response(2 * MS, r.request_id, res).unwrap();
        }
    }
    assert!(p.poll_requests(3 * MS).is_empty(), "B6 waits for B1");
    p.on_response(
        30_000 * MS,
        reqs[0].request_id,
        Err(LogError::RequestTimedOut),
    )
    .unwrap();
    let events = drain(&mut p, &mut t, 30_000 * MS);
    assert_eq!(
        t.partition(0).unwrap().message_ids(),
        (1..=9).collect::<Vec<_>>()
    );
    assert!(events.iter().any(|e| matches!(
        e,
        ProducerEvent::Acked {
            batch_id: 1,
            duplicate: true,
            ..
        }
    )));
}

/// The broker forgets the producer (its producer-state table overflowed): the next batch, sent
/// as the partition's oldest unacknowledged one, is out of order. The producer bumps its epoch,
/// renumbers from 0, and the batch is written once.
#[test]
fn producer_recovers_by_epoch_bump_when_the_broker_forgets_it() {
    let mut p = producer(true);
    let mut t = one_partition();
    let tp = TopicPartition::new("orders", 0);
    p.send(0, tp.clone(), vec![BatchRecord::new(None, 1)])
        .unwrap();
    drain(&mut p, &mut t, 0);
    for other in 0..topic::MAX_PRODUCERS_PER_PARTITION as u64 {
        let batch = RecordBatch {
            producer_epoch: 0,
            base_sequence: Some(0),
            records: vec![BatchRecord::new(None, 1_000 + other)],
        };
        t.append(200 * MS + other, 100 + other, 0, &batch).unwrap();
    }
    assert!(
        t.partition(0).unwrap().producer_state(1).is_none(),
        "forgotten"
    );
    p.send(10 * MS, tp, vec![BatchRecord::new(None, 2)])
        .unwrap();
    let events = drain(&mut p, &mut t, 10 * MS);
    assert!(matches!(
        events[0],
        ProducerEvent::Retrying {
            error: LogError::OutOfOrderSequence {
                expected: 0,
                got: 1,
                ..
            },
            ..
        }
    ));
    assert_eq!(events[1], ProducerEvent::EpochBumped { epoch: 1 });
    assert!(matches!(
        events[2],
        ProducerEvent::Acked {
            batch_id: 2,
            duplicate: false,
            ..
        }
    ));
    let log = t.partition(0).unwrap();
    let last = log.records().last().unwrap();
    assert_eq!((last.message_id, last.sequence), (2, Some(0)));
    assert_eq!(log.producer_state(1).unwrap().epoch, 1);
}

/// An at-most-once consumer that has joined a new generation but not yet received its
/// assignment must not fetch: it still holds a partition that may now be another member's, and
/// its commit would carry the new generation. Here c1 loses t-0 to c0; c0 has its assignment,
/// c1 does not yet. If c1 polled, both would process offset 0.
#[test]
fn at_most_once_consumer_does_not_fetch_between_join_and_sync() {
    let mut t = one_partition();
    let batch = RecordBatch {
        producer_epoch: 0,
        base_sequence: None,
        records: (0..3).map(|m| BatchRecord::new(None, m)).collect(),
    };
    t.append(0, 1, 0, &batch).unwrap();
    let cfg = ConsumerConfig {
        delivery: DeliveryGuarantee::AtMostOnce,
        auto_offset_reset: AutoOffsetReset::Earliest,
        ..ConsumerConfig::default()
    };
    let mut g = GroupCoordinator::new("g", AssignmentStrategy::Range, &[("orders", 1)]).unwrap();
    let mut c1 = Consumer::new("c1", cfg.clone()).unwrap();
    g.join(0, "c1").unwrap();
    g.rebalance(0).unwrap();
    c1.on_assignment(1, g.assignment_with_offsets("c1"));
    let mut c0 = Consumer::new("c0", cfg).unwrap();
    g.join(1, "c0").unwrap();
    g.complete_join(2).unwrap();
    c1.on_joined(2);
    c0.on_joined(2);
    g.complete_sync(3).unwrap();
    c0.on_assignment(2, g.assignment_with_offsets("c0"));
    assert!(c1.is_rebalancing());
    let p1 = c1.poll(4, &t).unwrap();
    assert!(
        p1.commit.is_none() && p1.held == 0,
        "c1 waits for its assignment"
    );
    let p0 = c0.poll(4, &t).unwrap();
    let req = p0.commit.unwrap();
    assert_eq!(req.offsets, vec![(TopicPartition::new("orders", 0), 1)]);
    let res = g.commit(5, &req);
    assert!(matches!(
        c0.on_commit_response(5, req.commit_id, res).unwrap(),
        CommitOutcome::Committed { ref released, .. } if released[0].record.offset == 0
    ));
    assert!(c1.on_assignment(2, g.assignment_with_offsets("c1")).len() == 1);
    assert!(!c1.is_rebalancing());
    assert!(
        c1.poll(6, &t).unwrap().commit.is_none(),
        "c1 has nothing now"
    );
}

// ---------------------------------------------------------------------------------------------
// Committed offsets only move forward across a rebalance.
// ---------------------------------------------------------------------------------------------

/// Offsets 0–9 are processed; the commit of 10 fails during a rebalance and is queued; 10–19
/// are processed and 20 is committed; the partition is revoked and the queued commit of 10 is
/// retried: the committed offset stays 20 and the next owner starts at 20, no duplicates.
#[test]
fn queued_stale_commit_never_moves_the_committed_offset_back() {
    let mut t = one_partition();
    let batch = RecordBatch {
        producer_epoch: 0,
        base_sequence: None,
        records: (0..30).map(|m| BatchRecord::new(None, m)).collect(),
    };
    t.append(0, 1, 0, &batch).unwrap();
    let tp = TopicPartition::new("orders", 0);
    let cfg = ConsumerConfig {
        max_poll_records: 10,
        workers_per_partition: 10,
        auto_offset_reset: AutoOffsetReset::Earliest,
        delivery: DeliveryGuarantee::AtLeastOnce,
    };
    let mut g =
        GroupCoordinator::new("billing", AssignmentStrategy::Range, &[("orders", 1)]).unwrap();
    let mut processed: Vec<(&str, u64)> = Vec::new();

    // Generation 1: member-b alone owns orders-0.
    let mut b = Consumer::new("member-b", cfg.clone()).unwrap();
    g.join(0, "member-b").unwrap();
    assert_eq!(g.rebalance(1).unwrap().generation, 1);
    b.on_assignment(1, g.assignment_with_offsets("member-b"));
    let poll = b.poll(2, &t).unwrap();
    for r in &poll.records {
        b.complete(&r.tp, r.record.offset).unwrap();
        processed.push(("member-b", r.record.offset));
    }
    assert_eq!(b.committable(&tp), Some(10));

    // member-c joins: generation 2's join phase completes; member-b learns generation 2.
    let mut c = Consumer::new("member-c", cfg.clone()).unwrap();
    g.join(3, "member-c").unwrap();
    assert_eq!(g.complete_join(4).unwrap().generation, 2);
    b.on_joined(2);
    c.on_joined(2);
    // The commit of 10 arrives before the sync phase ends: REBALANCE_IN_PROGRESS, queued.
    let commit10 = b.commit(5).unwrap();
    assert_eq!(
        (commit10.generation, commit10.offsets.clone()),
        (2, vec![(tp.clone(), 10)])
    );
    let res = g.commit(5, &commit10);
    assert_eq!(
        res,
        Err(LogError::RebalanceInProgress {
            group: "billing".into()
        })
    );
    let out = b.on_commit_response(6, commit10.commit_id, res).unwrap();
    assert!(matches!(out, CommitOutcome::QueuedForRetry { .. }));
    assert_eq!(b.queued_commits(), 1);
    assert_eq!(g.committed(&tp), None);

    // Sync: member-b keeps orders-0 (Range: sorted [member-b, member-c]).
    assert_eq!(g.complete_sync(7).unwrap(), 2);
    assert!(b
        .on_assignment(2, g.assignment_with_offsets("member-b"))
        .is_empty());
    c.on_assignment(2, g.assignment_with_offsets("member-c"));
    assert!(c.assigned().is_empty());
    let poll = b.poll(8, &t).unwrap();
    assert_eq!(poll.records.first().map(|r| r.record.offset), Some(10));
    for r in &poll.records {
        b.complete(&r.tp, r.record.offset).unwrap();
        processed.push(("member-b", r.record.offset));
    }
    let commit20 = b.commit(9).unwrap();
    assert_eq!(commit20.offsets, vec![(tp.clone(), 20)]);
    let res = g.commit(9, &commit20);
    assert!(matches!(
        b.on_commit_response(10, commit20.commit_id, res).unwrap(),
        CommitOutcome::Committed { .. }
    ));
    assert_eq!(g.committed(&tp), Some(20));

    // member-a joins and takes orders-0 from member-b (generation 3).
    let mut a = Consumer::new("member-a", cfg).unwrap();
    g.join(11, "member-a").unwrap();
    assert!(b.revoke_all().is_none(), "nothing new to commit on revoke");
    let r = g.rebalance(12).unwrap();
    assert_eq!(r.generation, 3);
    assert_eq!(
        r.moves,
        vec![PartitionMove {
            tp: tp.clone(),
            from: Some("member-b".into()),
            to: Some("member-a".into())
        }]
    );
    let mb = r
        .members
        .iter()
        .find(|m| m.member_id == "member-b")
        .unwrap();
    assert_eq!(mb.revoked, vec![tp.clone()]);
    b.on_assignment(3, g.assignment_with_offsets("member-b"));
    a.on_assignment(3, g.assignment_with_offsets("member-a"));
    assert_eq!(
        g.assignment_with_offsets("member-a"),
        vec![(tp.clone(), Some(20))]
    );

    // The queued commit of 10 is retried (stamped with member-b's generation 3): accepted,
    // but the committed offset stays 20.
    let retries = b.retry_commits(13);
    assert_eq!(retries.len(), 1);
    assert_eq!(
        (retries[0].generation, retries[0].offsets.clone()),
        (3, vec![(tp.clone(), 10)])
    );
    let res = g.commit(13, &retries[0]).unwrap();
    assert_eq!(
        res.results,
        vec![CommitResult {
            tp: tp.clone(),
            requested: 10,
            committed: 20,
            advanced: false
        }]
    );
    assert_eq!(g.committed(&tp), Some(20));
    // Sent with its original generation 2 instead, it is refused outright.
    let stale = CommitRequest {
        generation: 2,
        ..retries[0].clone()
    };
    assert!(matches!(
        g.commit(13, &stale),
        Err(LogError::IllegalGeneration {
            current: 3,
            got: 2,
            ..
        })
    ));
    assert_eq!(g.committed(&tp), Some(20));

    // The next owner starts at 20: 20..29, and no offset is processed twice.
    let poll = a.poll(14, &t).unwrap();
    assert_eq!(
        poll.records
            .iter()
            .map(|r| r.record.offset)
            .collect::<Vec<_>>(),
        (20..30).collect::<Vec<_>>()
    );
    for r in &poll.records {
        a.complete(&r.tp, r.record.offset).unwrap();
        processed.push(("member-a", r.record.offset));
    }
    let offsets: Vec<u64> = processed.iter().map(|&(_, o)| o).collect();
    assert_eq!(offsets, (0..30).collect::<Vec<_>>());
    assert_eq!(processed[19], ("member-b", 19));
    assert_eq!(processed[20], ("member-a", 20));
    let commit30 = a.commit(15).unwrap();
    g.commit(15, &commit30).unwrap();
    let lag = g.lag(&t).unwrap();
    assert_eq!((lag[0].committed, lag[0].lag), (Some(30), 0));
}

// ---------------------------------------------------------------------------------------------
// Property: random interleavings of produce / poll / complete / commit / join / leave / crash.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Produce(u8, u8),
    Join(u8),
    Leave(u8),
    Crash(u8),
    CompleteJoin,
    CompleteSync,
    /// Completes whatever rebalance phase is pending and delivers every sync response.
    Settle,
    /// One member's `SyncGroup` response arrives.
    DeliverSync(u16),
    Poll(u8),
    PollAll,
    /// Some member's application finishes one of its records.
    Complete(u16),
    Commit(u8),
    CommitAll,
    Deliver(u16),
    Lose(u16),
    Retry(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u8>(), 1u8..4).prop_map(|(p, n)| Op::Produce(p, n)),
        2 => (0u8..5).prop_map(Op::Join),
        1 => (0u8..5).prop_map(Op::Leave),
        1 => (0u8..5).prop_map(Op::Crash),
        1 => Just(Op::CompleteJoin),
        1 => Just(Op::CompleteSync),
        2 => Just(Op::Settle),
        2 => any::<u16>().prop_map(Op::DeliverSync),
        2 => (0u8..5).prop_map(Op::Poll),
        3 => Just(Op::PollAll),
        10 => any::<u16>().prop_map(Op::Complete),
        2 => (0u8..5).prop_map(Op::Commit),
        3 => Just(Op::CommitAll),
        6 => any::<u16>().prop_map(Op::Deliver),
        1 => any::<u16>().prop_map(Op::Lose),
        1 => (0u8..5).prop_map(Op::Retry),
    ]
}

/// The host of the group property test: the coordinator, the consumers, the commits on the
/// wire and what the application processed.
struct GroupHost {
    topic: PartitionedTopic,
    group: GroupCoordinator,
    cfg: ConsumerConfig,
    eager: bool,
    consumers: BTreeMap<String, Consumer>,
    /// Consumer incarnation per member id (a crashed member may come back with the same id).
    incarnation: BTreeMap<String, u64>,
    /// Records handed to each member's application and not finished.
    working: BTreeMap<String, Vec<(TopicPartition, u64)>>,
    /// Commits on the wire: (sender incarnation, request).
    wire: Vec<(u64, CommitRequest)>,
    /// Sync responses on the wire: (incarnation, member, generation, assignment).
    syncs: Vec<(u64, String, u32, Vec<TopicPartition>)>,
    /// How many times each (partition, offset) was processed.
    processed: BTreeMap<(TopicPartition, u64), u32>,
    next_message: u64,
}

impl GroupHost {
    /// A host with `partitions` partitions of topic `t` and group `g`, no member yet.
    fn new(
        partitions: u32,
        round_robin: bool,
        at_least_once: bool,
        eager: bool,
        workers: u32,
        max_poll: u32,
    ) -> GroupHost {
        let strategy = if round_robin {
            AssignmentStrategy::RoundRobin
        } else {
            AssignmentStrategy::Range
        };
        GroupHost {
            topic: PartitionedTopic::new(&TopicConfig {
                name: "t".into(),
                partitions,
                retention_records: 100_000,
            })
            .unwrap(),
            group: GroupCoordinator::new("g", strategy, &[("t", partitions)]).unwrap(),
            cfg: ConsumerConfig {
                max_poll_records: max_poll,
                delivery: if at_least_once {
                    DeliveryGuarantee::AtLeastOnce
                } else {
                    DeliveryGuarantee::AtMostOnce
                },
                workers_per_partition: workers,
                auto_offset_reset: AutoOffsetReset::Earliest,
            },
            eager,
            consumers: BTreeMap::new(),
            incarnation: BTreeMap::new(),
            working: BTreeMap::new(),
            wire: Vec::new(),
            syncs: Vec::new(),
            processed: BTreeMap::new(),
            next_message: 0,
        }
    }

    fn member(i: u8) -> String {
        format!("c{i}")
    }

    fn send_commit(&mut self, member: &str, req: Option<CommitRequest>) {
        if let Some(r) = req {
            self.wire.push((self.incarnation[member], r));
        }
    }

    /// Under the eager protocol every member gives up its partitions when a rebalance starts.
    fn on_rebalance_started(&mut self, change: &MembershipChange) {
        if !(self.eager && change.rebalance_started) {
            return;
        }
        for m in change.members.clone() {
            let req = self.consumers.get_mut(&m).and_then(Consumer::revoke_all);
            self.send_commit(&m, req);
        }
    }

    fn answer(
        &mut self,
        now: u64,
        inc: u64,
        req: &CommitRequest,
        res: Result<CommitResponse, LogError>,
    ) {
        if self.incarnation.get(&req.member_id) != Some(&inc) {
            return;
        }
        let Some(c) = self.consumers.get_mut(&req.member_id) else {
            return;
        };
        if let Ok(CommitOutcome::Committed { released, .. }) =
            c.on_commit_response(now, req.commit_id, res)
        {
            let w = self.working.entry(req.member_id.clone()).or_default();
            w.extend(released.into_iter().map(|r| (r.tp, r.record.offset)));
        }
    }

    fn complete_join(&mut self, now: u64) {
        if self.group.state() == GroupState::PreparingRebalance {
            let r = self.group.complete_join(now).unwrap();
            for m in &r.members {
                if let Some(c) = self.consumers.get_mut(&m.member_id) {
                    c.on_joined(r.generation);
                }
            }
        }
    }

    /// Ends the sync phase; each member's `SyncGroup` response travels on its own
    /// ([`Op::DeliverSync`]), so a member may learn of its new assignment late.
    fn complete_sync(&mut self, now: u64) {
        if self.group.state() == GroupState::CompletingRebalance {
            let generation = self.group.complete_sync(now).unwrap();
            for m in self.group.members() {
                let a = self.group.assignment(&m);
                self.syncs.push((self.incarnation[&m], m, generation, a));
            }
        }
    }

    /// A `SyncGroup` response arrives; the consumer then fetches its committed offsets.
    fn deliver_sync(&mut self, k: usize) {
        if self.syncs.is_empty() {
            return;
        }
        let (inc, m, generation, a) = self.syncs.remove(k % self.syncs.len());
        if self.incarnation.get(&m) != Some(&inc) {
            return;
        }
        let with_offsets = a
            .into_iter()
            .map(|tp| {
                let c = self.group.committed(&tp);
                (tp, c)
            })
            .collect();
        if let Some(c) = self.consumers.get_mut(&m) {
            c.on_assignment(generation, with_offsets);
        }
    }

    fn poll(&mut self, now: u64, m: &str) {
        let Some(c) = self.consumers.get_mut(m) else {
            return;
        };
        let poll = c.poll(now, &self.topic).unwrap();
        let w = self.working.entry(m.to_string()).or_default();
        w.extend(poll.records.into_iter().map(|r| (r.tp, r.record.offset)));
        self.send_commit(m, poll.commit);
    }

    fn apply(&mut self, now: u64, op: &Op) {
        match *op {
            Op::Produce(p, n) => {
                let partition = u32::from(p) % self.topic.partition_count();
                let records = (0..n)
                    .map(|_| {
                        self.next_message += 1;
                        BatchRecord::new(None, self.next_message)
                    })
                    .collect();
                let batch = RecordBatch {
                    producer_epoch: 0,
                    base_sequence: None,
                    records,
                };
                self.topic.append(now, 1, partition, &batch).unwrap();
            }
            Op::Join(i) => {
                let m = Self::member(i);
                if self.consumers.contains_key(&m) {
                    return;
                }
                self.consumers
                    .insert(m.clone(), Consumer::new(&m, self.cfg.clone()).unwrap());
                *self.incarnation.entry(m.clone()).or_default() += 1;
                self.working.remove(&m);
                let change = self.group.join(now, &m).unwrap();
                self.on_rebalance_started(&change);
            }
            Op::Leave(i) | Op::Crash(i) => {
                let m = Self::member(i);
                let Some(mut c) = self.consumers.remove(&m) else {
                    return;
                };
                let change = if matches!(op, Op::Leave(_)) {
                    // A clean shutdown commits what was processed, then leaves.
                    let req = c.revoke_all();
                    self.send_commit(&m, req);
                    self.group.leave(now, &m).unwrap()
                } else {
                    self.group.member_failed(now, &m).unwrap()
                };
                self.working.remove(&m);
                self.on_rebalance_started(&change);
            }
            Op::CompleteJoin => self.complete_join(now),
            Op::CompleteSync => self.complete_sync(now),
            Op::Settle => {
                self.complete_join(now);
                self.complete_sync(now);
                while !self.syncs.is_empty() {
                    self.deliver_sync(0);
                }
            }
            Op::DeliverSync(k) => self.deliver_sync(usize::from(k)),
            Op::Poll(i) => self.poll(now, &Self::member(i)),
            Op::PollAll => {
                for m in self.consumers.keys().cloned().collect::<Vec<_>>() {
                    self.poll(now, &m);
                }
            }
            Op::Complete(k) => {
                let busy: Vec<String> = self
                    .working
                    .iter()
                    .filter(|(_, w)| !w.is_empty())
                    .map(|(m, _)| m.clone())
                    .collect();
                if busy.is_empty() {
                    return;
                }
                let m = &busy[usize::from(k) % busy.len()];
                let Some(w) = self.working.get_mut(m) else {
                    return;
                };
                let (tp, off) = w.remove(usize::from(k / 7) % w.len());
                if let Some(c) = self.consumers.get_mut(m) {
                    if c.complete(&tp, off).is_ok() {
                        *self.processed.entry((tp, off)).or_default() += 1;
                    }
                }
            }
            Op::Commit(i) => {
                let m = Self::member(i);
                let req = self.consumers.get_mut(&m).and_then(|c| c.commit(now));
                self.send_commit(&m, req);
            }
            Op::CommitAll => {
                for m in self.consumers.keys().cloned().collect::<Vec<_>>() {
                    let req = self.consumers.get_mut(&m).and_then(|c| c.commit(now));
                    self.send_commit(&m, req);
                }
            }
            Op::Deliver(k) | Op::Lose(k) => {
                if self.wire.is_empty() {
                    return;
                }
                let (inc, req) = self.wire.remove(usize::from(k) % self.wire.len());
                let res = if matches!(op, Op::Deliver(_)) {
                    self.group.commit(now, &req)
                } else {
                    Err(LogError::RequestTimedOut)
                };
                self.answer(now, inc, &req, res);
            }
            Op::Retry(i) => {
                let m = Self::member(i);
                let reqs = self
                    .consumers
                    .get_mut(&m)
                    .map(|c| c.retry_commits(now))
                    .unwrap_or_default();
                for r in reqs {
                    self.send_commit(&m, Some(r));
                }
            }
        }
    }
}

/// The property test's minimal counterexample (at-most-once, 4 partitions, round robin, one
/// worker, `max.poll.records` 1). c0 owns t-0 and t-2 in generation 1; c3 joins and generation 2
/// gives t-2 to c3; c2 crashes before c0's generation-2 `SyncGroup` response arrives, so c0 joins
/// generation 3 without ever learning that it lost t-2. c3 commits t-2 to 1 and processes offset
/// 0. Generation 3 gives t-2 back to c0: it must start from the committed offset 1, not from the
/// position it kept from generation 1 (offset 0), or offset 0 is processed twice.
#[test]
fn at_most_once_consumer_that_missed_a_generation_starts_from_the_committed_offset() {
    let ops = [
        Op::Join(0),
        Op::Join(2),
        Op::Produce(90, 1),
        Op::Settle,
        Op::Join(3),
        Op::CompleteJoin,
        Op::CompleteSync,
        Op::Crash(2),
        Op::DeliverSync(3644),
        Op::PollAll,
        Op::Deliver(0),
        Op::Complete(0),
        Op::Settle,
        Op::PollAll,
        Op::Deliver(0),
        Op::Complete(0),
    ];
    for eager in [false, true] {
        let mut host = GroupHost::new(4, true, false, eager, 1, 1);
        for (step, op) in ops.iter().enumerate() {
            host.apply(step as u64 * MS, op);
        }
        let t2 = TopicPartition::new("t", 2);
        assert_eq!(
            host.processed.iter().collect::<Vec<_>>(),
            vec![(&(t2.clone(), 0), &1)],
            "eager={eager}"
        );
        assert_eq!(host.group.generation(), 3);
        assert_eq!(host.group.committed(&t2), Some(1));
        let c0 = &host.consumers["c0"];
        assert_eq!(
            (c0.assignment_generation(), c0.assigned()),
            (Some(3), vec![TopicPartition::new("t", 0), t2.clone()])
        );
        assert_eq!(c0.position(&t2), Some(1), "eager={eager}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Committed offsets never decrease; every partition is owned by at most one member per
    /// generation (in the coordinator and in the consumers' own view); with at-least-once no
    /// record below the committed offset is left unprocessed; with at-most-once no record is
    /// processed twice.
    #[test]
    fn group_invariants_hold_under_any_interleaving(
        partitions in 1u32..5,
        round_robin in any::<bool>(),
        at_least_once in any::<bool>(),
        eager in any::<bool>(),
        workers in 1u32..4,
        max_poll in 1u32..6,
        ops in proptest::collection::vec(op(), 0..400),
    ) {
        let mut host = GroupHost::new(partitions, round_robin, at_least_once, eager, workers, max_poll);
        let mut last_committed: BTreeMap<TopicPartition, u64> = BTreeMap::new();
        let mut last_generation = 0;
        for (step, op) in ops.iter().enumerate() {
            let now = step as u64 * MS;
            host.apply(now, op);

            // Generations only grow.
            prop_assert!(host.group.generation() >= last_generation);
            last_generation = host.group.generation();

            // Committed offsets never decrease.
            for tp in host.group.partitions() {
                let c = host.group.committed(&tp);
                if let Some(prev) = last_committed.get(&tp) {
                    prop_assert!(c.is_some_and(|c| c >= *prev), "{tp} went from {prev} to {c:?}");
                }
                if let Some(c) = c {
                    last_committed.insert(tp.clone(), c);
                }
            }

            // The coordinator gives each partition to at most one member, and to exactly one
            // once a generation is synced with members in it.
            let mut owners: BTreeMap<TopicPartition, String> = BTreeMap::new();
            for m in host.group.members() {
                for tp in host.group.assignment(&m) {
                    prop_assert!(owners.insert(tp.clone(), m.clone()).is_none(), "{tp} owned twice");
                }
            }
            if host.group.state() == GroupState::Stable {
                prop_assert_eq!(owners.len(), partitions as usize);
            }

            // The consumers' own view: per generation, each partition held by at most one.
            let mut held: BTreeMap<(u32, TopicPartition), String> = BTreeMap::new();
            for (m, c) in &host.consumers {
                if let Some(g) = c.assignment_generation() {
                    for tp in c.assigned() {
                        prop_assert!(
                            held.insert((g, tp.clone()), m.clone()).is_none(),
                            "{tp} held twice in generation {g}"
                        );
                    }
                }
            }

            if at_least_once {
                // Nothing below a committed offset was skipped.
                for tp in host.group.partitions() {
                    let c = host.group.committed(&tp).unwrap_or(0);
                    for o in 0..c {
                        prop_assert!(
                            host.processed.contains_key(&(tp.clone(), o)),
                            "{tp} committed {c} but offset {o} was never processed"
                        );
                    }
                }
            } else {
                for ((tp, o), n) in &host.processed {
                    prop_assert!(*n == 1, "{tp} offset {o} processed {n} times under at-most-once");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property: the idempotent producer writes each message exactly once, in order, whatever the
// host loses, duplicates or reorders.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Net {
    Send(u8),
    Poll,
    /// A request reaches the broker; its response goes back on the wire.
    Deliver(u16),
    /// A request reaches the broker twice (network duplicate).
    DeliverTwice(u16),
    /// A request is lost.
    DropRequest(u16),
    /// A response reaches the producer.
    Respond(u16),
    /// A response is lost.
    DropResponse(u16),
    /// The producer times out a request whose request or response was lost.
    Timeout(u16),
    Advance,
}

fn net() -> impl Strategy<Value = Net> {
    prop_oneof![
        3 => any::<u8>().prop_map(Net::Send),
        3 => Just(Net::Poll),
        4 => any::<u16>().prop_map(Net::Deliver),
        1 => any::<u16>().prop_map(Net::DeliverTwice),
        1 => any::<u16>().prop_map(Net::DropRequest),
        4 => any::<u16>().prop_map(Net::Respond),
        1 => any::<u16>().prop_map(Net::DropResponse),
        2 => any::<u16>().prop_map(Net::Timeout),
        2 => Just(Net::Advance),
    ]
}

struct Wire {
    to_broker: Vec<ProduceRequest>,
    to_producer: Vec<(u64, Result<AppendOutcome, LogError>)>,
    lost: Vec<u64>,
}

fn pick<T>(v: &mut Vec<T>, k: u16) -> Option<T> {
    (!v.is_empty()).then(|| v.remove(usize::from(k) % v.len()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// With idempotence each partition's log is exactly the messages sent to it, in send order;
    /// without, every message is written at least once. Either way every message is acked.
    #[test]
    fn idempotent_producer_writes_exactly_once_in_order(
        idempotent in any::<bool>(),
        max_in_flight in 1u32..6,
        partitions in 1u32..3,
        ops in proptest::collection::vec(net(), 0..200),
    ) {
        let mut p = Producer::new(7, ProducerConfig {
            enable_idempotence: idempotent,
            max_in_flight_requests_per_connection: max_in_flight,
            retry_backoff_us: 10 * MS,
            ..ProducerConfig::default()
        }).unwrap();
        let mut t = PartitionedTopic::new(&TopicConfig::new("t", partitions)).unwrap();
        let mut w = Wire { to_broker: Vec::new(), to_producer: Vec::new(), lost: Vec::new() };
        let mut sent: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut events = Vec::new();
        let mut now = 0u64;
        let mut next_id = 0u64;
        for op in &ops {
            now += MS;
            match *op {
                Net::Send(x) => {
                    next_id += 1;
                    let partition = u32::from(x) % partitions;
                    p.send(now, TopicPartition::new("t", partition), vec![BatchRecord::new(None, next_id)]).unwrap();
                    sent.entry(partition).or_default().push(next_id);
                }
                Net::Poll => w.to_broker.extend(p.poll_requests(now)),
                Net::Deliver(k) | Net::DeliverTwice(k) => {
                    if let Some(r) = pick(&mut w.to_broker, k) {
                        let res = t.append_request(now, &r);
                        if matches!(op, Net::DeliverTwice(_)) {
                            // The copy's answer is for a request id already answered or
                            // answered next: whichever comes second is refused as unknown.
                            let copy = t.append_request(now, &r);
                            w.to_producer.push((r.request_id, copy));
                        }
                        w.to_producer.push((r.request_id, res));
                    }
                }
                Net::DropRequest(k) => {
                    if let Some(r) = pick(&mut w.to_broker, k) {
                        w.lost.push(r.request_id);
                    }
                }
                Net::Respond(k) => {
                    if let Some((id, res)) = pick(&mut w.to_producer, k) {
                        if let Ok(ev) = p.on_response(now, id, res) {
                            events.extend(ev);
                        }
                    }
                }
                Net::DropResponse(k) => {
                    if let Some((id, _)) = pick(&mut w.to_producer, k) {
                        w.lost.push(id);
                    }
                }
                Net::Timeout(k) => {
                    if let Some(id) = pick(&mut w.lost, k) {
                        if let Ok(ev) = p.on_response(now, id, Err(LogError::RequestTimedOut)) {
                            events.extend(ev);
                        }
                    }
                }
                Net::Advance => now += 50 * MS,
            }
        }
        // Heal the network: everything on the wire arrives, lost requests time out, then the
        // producer's retries run on a reliable network.
        for r in std::mem::take(&mut w.to_broker) {
            let res = t.append_request(now, &r);
            w.to_producer.push((r.request_id, res));
        }
        for (id, res) in std::mem::take(&mut w.to_producer) {
            if let Ok(ev) = p.on_response(now, id, res) {
                events.extend(ev);
            }
        }
        for id in std::mem::take(&mut w.lost) {
            if let Ok(ev) = p.on_response(now, id, Err(LogError::RequestTimedOut)) {
                events.extend(ev);
            }
        }
        for _ in 0..10_000 {
            if p.pending_batches() == 0 {
                break;
            }
            now += 10 * MS;
            for r in p.poll_requests(now) {
                let res = t.append_request(now, &r);
                events.extend(p.on_response(now, r.request_id, res).unwrap());
            }
        }
        prop_assert_eq!(p.pending_batches(), 0);
        prop_assert_eq!(p.in_flight_requests(), 0);
        let failed = events.iter().any(|e| matches!(e, ProducerEvent::Failed { .. }));
        prop_assert!(!failed, "a batch failed");
        let mut acked = BTreeSet::new();
        for e in &events {
            if let ProducerEvent::Acked { message_ids, .. } = e {
                acked.extend(message_ids.iter().copied());
            }
        }
        for part in 0..partitions {
            let log = t.partition(part).unwrap().message_ids();
            let want = sent.get(&part).cloned().unwrap_or_default();
            if idempotent {
                prop_assert_eq!(&log, &want, "partition {}", part);
            } else {
                let set: BTreeSet<u64> = log.iter().copied().collect();
                prop_assert!(want.iter().all(|m| set.contains(m)));
            }
            prop_assert!(want.iter().all(|m| acked.contains(m)));
        }
    }
}
