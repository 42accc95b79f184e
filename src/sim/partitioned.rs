//! Partitioned topics in the simulation: the `log` module's state machines wired to packets.
//!
//! Every Kafka request and response is a packet on the scenario's links, so every network fault
//! applies to it:
//!
//! * producer <-> broker: `produce` / `produce_response` ([`Producer`] on the service instance,
//!   [`PartitionedTopic::append_request`] on the broker). A request unanswered within the
//!   producer's `request_timeout_ms` fails with `TimeoutException` (retriable).
//! * consumer <-> broker: `fetch` / `fetch_response` (the broker answers with a
//!   [`PartitionSlice`] per partition, or holds the fetch up to `fetch_max_wait_ms` while there is
//!   nothing new: long polling); the consumer polls its fetch buffer ([`FetchedSlice`]) locally.
//! * consumer <-> group coordinator (on the broker): `join_group`, `sync_group`, `heartbeat`,
//!   `offset_commit` and their responses ([`GroupCoordinator`] on the broker, [`Consumer`] on the
//!   instance).
//!
//! Host duties the `log` module leaves to its host, and how msgsim does them:
//!
//! * **Session timeout**: the coordinator removes a member not heard from (heartbeat, join, sync)
//!   for `session_timeout_ms` and starts a rebalance; a member awaiting its join response is kept
//!   alive (Kafka's `shouldKeepAlive`). Members heartbeat every `heartbeat_interval_ms` once
//!   joined, whether or not the previous heartbeat was answered.
//! * **Poll loop**: every `poll_interval_ms` an instance commits ([`Consumer::commit`]: what it
//!   processed under at-least-once; under at-most-once only positions moved past records a
//!   failed commit dropped), resends queued commits, and fetches if no fetch is outstanding; it
//!   also fetches at once whenever its buffer lacks the next record and a fetch came back.
//! * **Join phase**: a rebalance's join phase completes when every member has rejoined, or after
//!   `rebalance_timeout_ms` (members that did not rejoin are removed). A group that was empty
//!   first waits `initial_rebalance_delay_ms` (Kafka's `group.initial.rebalance.delay.ms`) so that
//!   instances starting together join one generation.
//! * **Sync phase**: the first `SyncGroup` of the generation completes it (the coordinator
//!   computes the assignment itself, as Kafka's leader would).
//! * **Eager revocation**: a member learns of a rebalance from a heartbeat answered
//!   `REBALANCE_IN_PROGRESS` (or `ILLEGAL_GENERATION`); it stops handing out records, lets the
//!   records in progress finish, calls [`Consumer::revoke_all`], waits for that commit's answer
//!   (Kafka's `commitSync` in `onPartitionsRevoked`), then rejoins.
//! * **Lost membership**: a heartbeat answered `UNKNOWN_MEMBER_ID` (the member was removed, e.g.
//!   after a partition or a pause) drops the assignment without a commit (Kafka's
//!   `onPartitionsLost`) and rejoins under a new member id (`kitchen#0.1`).
//! * **Lost requests**: every request has a timeout; a lost commit is reported to the consumer as
//!   [`LogError::RequestTimedOut`] (and queued for retry under at-least-once).
//!
//! A crashed instance loses its producer and consumer state; restarted, it rejoins under a new
//! member id and produces under a new producer id. A crashed broker keeps its logs, its groups'
//! members and generations and its committed offsets (Kafka keeps them in `__consumer_offsets`);
//! it loses the fetches it was holding.

use super::*;
use crate::log::{
    AppendOutcome, CommitOutcome, CommitRequest, CommitResponse, Consumer, ConsumerConfig,
    DepartureReason, FetchedRecord, FetchedSlice, GroupCoordinator, GroupState, LogError,
    PartitionSlice, PartitionedTopic, ProduceRequest, Producer, ProducerEvent, TopicConfig,
    TopicPartition,
};
use crate::message::MessageKind;
use crate::scenario::{ConsumerGroupSpec, Delivery, ProducerSpec};
use crate::trace::CommitVerdict;

/// A `SyncGroup` answer's assignment: partitions with their committed offsets.
type Assignment = Vec<(TopicPartition, Option<u64>)>;

/// A Kafka request or response on the wire.
#[derive(Clone, Debug)]
pub(super) enum KPacket {
    Produce {
        topic: u32,
        request: ProduceRequest,
    },
    ProduceResponse {
        topic: u32,
        producer_id: u64,
        request_id: u64,
        attempt: u32,
        result: Result<AppendOutcome, LogError>,
    },
    JoinGroup {
        group: u32,
        member: Arc<str>,
        req: u64,
    },
    JoinGroupResponse {
        group: u32,
        req: u64,
        result: Result<u32, LogError>,
    },
    SyncGroup {
        group: u32,
        member: Arc<str>,
        generation: u32,
        req: u64,
    },
    SyncGroupResponse {
        group: u32,
        req: u64,
        result: Result<(u32, Assignment), LogError>,
    },
    Heartbeat {
        group: u32,
        member: Arc<str>,
        generation: Option<u32>,
        req: u64,
    },
    HeartbeatResponse {
        group: u32,
        req: u64,
        result: Result<(), LogError>,
    },
    Fetch {
        group: u32,
        req: u64,
        wanted: Vec<(u32, Option<u64>)>,
        max_records: u32,
    },
    FetchResponse {
        group: u32,
        req: u64,
        slice: FetchedSlice,
    },
    OffsetCommit {
        group: u32,
        request: CommitRequest,
    },
    OffsetCommitResponse {
        group: u32,
        member: Arc<str>,
        commit_id: u64,
        result: Result<CommitResponse, LogError>,
    },
}

impl KPacket {
    /// The Kafka API name it travels as (`JoinGroup`, `OffsetCommitResponse`, ...).
    fn label(&self) -> &'static str {
        match self {
            KPacket::Produce { .. } => "Produce",
            KPacket::ProduceResponse { .. } => "ProduceResponse",
            KPacket::JoinGroup { .. } => "JoinGroup",
            KPacket::JoinGroupResponse { .. } => "JoinGroupResponse",
            KPacket::SyncGroup { .. } => "SyncGroup",
            KPacket::SyncGroupResponse { .. } => "SyncGroupResponse",
            KPacket::Heartbeat { .. } => "Heartbeat",
            KPacket::HeartbeatResponse { .. } => "HeartbeatResponse",
            KPacket::Fetch { .. } => "Fetch",
            KPacket::FetchResponse { .. } => "FetchResponse",
            KPacket::OffsetCommit { .. } => "OffsetCommit",
            KPacket::OffsetCommitResponse { .. } => "OffsetCommitResponse",
        }
    }

    pub(super) fn kind(&self) -> PacketKind {
        match self {
            KPacket::Produce { .. } => PacketKind::Produce,
            KPacket::ProduceResponse { .. } => PacketKind::ProduceResponse,
            KPacket::JoinGroup { .. } => PacketKind::JoinGroup,
            KPacket::JoinGroupResponse { .. } => PacketKind::JoinGroupResponse,
            KPacket::SyncGroup { .. } => PacketKind::SyncGroup,
            KPacket::SyncGroupResponse { .. } => PacketKind::SyncGroupResponse,
            KPacket::Heartbeat { .. } => PacketKind::Heartbeat,
            KPacket::HeartbeatResponse { .. } => PacketKind::HeartbeatResponse,
            KPacket::Fetch { .. } => PacketKind::Fetch,
            KPacket::FetchResponse { .. } => PacketKind::FetchResponse,
            KPacket::OffsetCommit { .. } => PacketKind::OffsetCommit,
            KPacket::OffsetCommitResponse { .. } => PacketKind::OffsetCommitResponse,
        }
    }

    pub(super) fn attempt(&self) -> u32 {
        match self {
            KPacket::Produce { request, .. } => request.attempt,
            KPacket::ProduceResponse { attempt, .. } => *attempt,
            _ => 1,
        }
    }

    /// `TransitView::kind` of this packet.
    pub(super) fn view_kind(&self, msg: &Message) -> &'static str {
        match self {
            KPacket::Produce { .. } => msg.kind.as_str(),
            KPacket::ProduceResponse { .. } | KPacket::OffsetCommitResponse { .. } => "ack",
            KPacket::FetchResponse { slice, .. }
                if slice.partitions.values().any(|s| !s.records.is_empty()) =>
            {
                "records"
            }
            _ => "control",
        }
    }
}

/// Which request a timeout is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReqKind {
    Join,
    Sync,
    Heartbeat,
    Fetch,
    Commit(u64),
}

/// Timers of producers, consumers and the group coordinator.
#[derive(Clone, Debug)]
pub(super) enum KEvent {
    ProducerWake {
        ep: Ep,
        incarnation: u32,
        topic: u32,
    },
    ProduceTimeout {
        ep: Ep,
        incarnation: u32,
        topic: u32,
        producer_id: u64,
        request_id: u64,
    },
    ConsumerStart {
        ep: Ep,
        incarnation: u32,
        group: u32,
    },
    PollTick {
        ep: Ep,
        incarnation: u32,
        group: u32,
    },
    HeartbeatTick {
        ep: Ep,
        incarnation: u32,
        group: u32,
    },
    RequestTimeout {
        ep: Ep,
        incarnation: u32,
        group: u32,
        req: u64,
        kind: ReqKind,
    },
    RecordDone {
        ep: Ep,
        incarnation: u32,
        group: u32,
        partition: u32,
        offset: u64,
    },
    SessionCheck {
        group: u32,
        serial: u64,
        incarnation: u32,
    },
    RebalanceTimeout {
        group: u32,
        round: u64,
        incarnation: u32,
    },
    JoinCheck {
        group: u32,
        round: u64,
        incarnation: u32,
    },
    FetchWait {
        topic: u32,
        id: u64,
        incarnation: u32,
    },
}

#[derive(Clone, Debug)]
struct Parked {
    id: u64,
    group: u32,
    ep: Ep,
    req: u64,
    wanted: Vec<(u32, Option<u64>)>,
    max_records: u32,
}

#[derive(Clone, Debug)]
struct TopicRt {
    broker: u32,
    name: Arc<str>,
    log: PartitionedTopic,
    tp_names: Vec<Arc<str>>,
    groups: Vec<u32>,
    parked: Vec<Parked>,
    appended: u64,
    duplicates_discarded: u64,
    rejected: u64,
}

#[derive(Clone, Debug)]
struct MemberRt {
    id: Arc<str>,
    serial: u64,
    ep: Ep,
    last_seen: SimTime,
    rejoined: bool,
    join_req: Option<u64>,
}

#[derive(Clone, Debug)]
struct GroupRt {
    topic: u32,
    consumer: u32,
    id: Arc<str>,
    spec: ConsumerGroupSpec,
    config: ConsumerConfig,
    coord: GroupCoordinator,
    members: BTreeMap<Arc<str>, MemberRt>,
    round: u64,
    hold_until: SimTime,
    rebalances: VecDeque<RebalanceView>,
    rebalance_count: u64,
}

/// The coordinator's checks of a `SyncGroup` or `Heartbeat`, each `Some(error)` when it fails.
impl GroupRt {
    /// `UNKNOWN_MEMBER_ID` when `member` is not in the group.
    fn unknown_member(&self, member: &str) -> Option<LogError> {
        (!self.coord.has_member(member)).then(|| LogError::UnknownMember {
            group: self.id.to_string(),
            member: member.to_string(),
        })
    }

    /// `ILLEGAL_GENERATION` when `got` is not the current generation.
    fn illegal_generation(&self, got: Option<u32>) -> Option<LogError> {
        let current = self.coord.generation();
        (got != Some(current)).then(|| LogError::IllegalGeneration {
            group: self.id.to_string(),
            current,
            got: got.unwrap_or(0),
        })
    }

    /// `REBALANCE_IN_PROGRESS` while the join phase is open.
    fn rebalancing(&self) -> Option<LogError> {
        (self.coord.state() == GroupState::PreparingRebalance).then(|| {
            LogError::RebalanceInProgress {
                group: self.id.to_string(),
            }
        })
    }
}

#[derive(Clone, Debug)]
struct ProducerRt {
    producer: Producer,
    request_timeout_us: u64,
    msgs: BTreeMap<u64, Arc<Message>>,
    batches: BTreeMap<u64, (MessageId, u32)>,
    wake_at: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Joining,
    Syncing,
    Stable,
    Rejoining,
    Revoking,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Joining => "joining",
            Phase::Syncing => "syncing",
            Phase::Stable => "stable",
            Phase::Rejoining => "rejoining",
            Phase::Revoking => "revoking",
        }
    }
}

#[derive(Clone, Debug)]
struct ConsumerRt {
    member: Arc<str>,
    consumer: Consumer,
    phase: Phase,
    buffer: FetchedSlice,
    join_req: Option<u64>,
    sync_req: Option<u64>,
    heartbeat_req: Option<u64>,
    /// The generation the outstanding heartbeat was sent with, and whether it was sent while
    /// stable.
    heartbeat_generation: Option<u32>,
    fetch_req: Option<u64>,
    fetch_again: bool,
    revoke_commit: Option<u64>,
    in_progress: BTreeMap<(u32, u64), MessageId>,
}

/// Everything about partitioned topics: per topic its log, per group its coordinator, per
/// instance its producers and consumers.
#[derive(Clone, Debug, Default)]
pub(super) struct KafkaState {
    topics: Vec<TopicRt>,
    topic_of_channel: BTreeMap<u32, u32>,
    groups: Vec<GroupRt>,
    producers: BTreeMap<(u32, u32, u32), ProducerRt>,
    consumers: BTreeMap<(u32, u32, u32), ConsumerRt>,
    member_serials: BTreeMap<(u32, u32, u32), u32>,
    rngs: BTreeMap<(u32, u32, u32), SimRng>,
    next_producer_id: u64,
    next_member_serial: u64,
    next_parked: u64,
    next_req: u64,
}

/// Initial rebalance delay of a group that was empty (Kafka's broker setting
/// `group.initial.rebalance.delay.ms`, 3 000 there), in µs.
const INITIAL_REBALANCE_DELAY_US: u64 = 100_000;

fn control_msg(label: String) -> Arc<Message> {
    Arc::new(Message {
        encoded: None,
        id: MessageId(0),
        kind: MessageKind::Document,
        type_name: label.into(),
        channel: "".into(),
        headers: Headers::default(),
        payload: serde_json::Value::Null.into(),
    })
}

fn key3(ep: Ep, x: u32) -> (u32, u32, u32) {
    (ep.node, ep.instance, x)
}

impl KafkaState {
    /// Topics, groups and random streams of a validated scenario.
    pub(super) fn new(scenario: &Scenario, seed: u64) -> KafkaState {
        let mut k = KafkaState {
            next_producer_id: 1,
            ..KafkaState::default()
        };
        let idx = |name: &str| scenario.node_index(name).unwrap_or(0) as u32;
        for (c, spec) in scenario.channels.iter().enumerate() {
            if spec.kind != ChannelKind::PartitionedTopic {
                continue;
            }
            let config = TopicConfig {
                name: spec.name.clone(),
                partitions: spec.partitions,
                retention_records: spec.retention_records,
            };
            // Validated by `Scenario::validate`.
            let Ok(log) = PartitionedTopic::new(&config) else {
                continue;
            };
            let t = k.topics.len() as u32;
            k.topic_of_channel.insert(c as u32, t);
            let mut groups = Vec::new();
            for (ci, consumer) in spec.consumers.iter().enumerate() {
                let gs = spec
                    .consumer_groups
                    .iter()
                    .find(|g| &g.consumer == consumer)
                    .cloned()
                    .unwrap_or_else(|| ConsumerGroupSpec::for_consumer(consumer));
                let Ok(coord) = GroupCoordinator::new(
                    gs.group_id(),
                    gs.assignment.strategy(),
                    &[(spec.name.as_str(), spec.partitions)],
                ) else {
                    continue;
                };
                let node = idx(consumer);
                let g = k.groups.len() as u32;
                for i in 0..scenario.nodes[node as usize].instances {
                    let stream = stream::KAFKA_PROCESSING_BASE
                        + (64 * c as u64 + ci as u64) * 16
                        + u64::from(i);
                    k.rngs.insert((node, i, g), SimRng::new(seed, stream));
                }
                k.groups.push(GroupRt {
                    topic: t,
                    consumer: node,
                    id: Arc::from(gs.group_id()),
                    config: gs.consumer_config(),
                    spec: gs,
                    coord,
                    members: BTreeMap::new(),
                    round: 0,
                    hold_until: SimTime::ZERO,
                    rebalances: VecDeque::new(),
                    rebalance_count: 0,
                });
                groups.push(g);
            }
            k.topics.push(TopicRt {
                broker: idx(&spec.broker),
                name: Arc::from(spec.name.as_str()),
                tp_names: (0..spec.partitions)
                    .map(|p| Arc::from(format!("{}-{p}", spec.name).as_str()))
                    .collect(),
                log,
                groups,
                parked: Vec::new(),
                appended: 0,
                duplicates_discarded: 0,
                rejected: 0,
            });
        }
        k
    }

    /// Whether channel `c` is a partitioned topic.
    pub(super) fn is_partitioned(&self, c: u32) -> bool {
        self.topic_of_channel.contains_key(&c)
    }
}

impl Simulation {
    // ----- setup and lifecycle -----

    /// Schedules every consumer instance's first join (at time zero).
    /// `set_consumer_group`: the group of `consumer` on channel `channel` processes
    /// `workers` records per partition at once from the next poll on (its running consumers and
    /// the members that join later; their poll loop picks it up). Checked by the caller.
    pub(super) fn kafka_set_workers(&mut self, channel: u32, consumer: u32, workers: u32) {
        let Some(&topic) = self.kafka.topic_of_channel.get(&channel) else {
            return;
        };
        let mut changed = Vec::new();
        for (g, gr) in self.kafka.groups.iter_mut().enumerate() {
            if gr.topic == topic && gr.consumer == consumer {
                gr.config.workers_per_partition = workers;
                gr.spec.workers_per_partition = workers;
                changed.push(g as u32);
            }
        }
        for (&(_, _, g), c) in self.kafka.consumers.iter_mut() {
            if changed.contains(&g) {
                // In range: checked by the caller.
                let _ = c.consumer.set_workers_per_partition(workers);
            }
        }
    }

    pub(super) fn kafka_start(&mut self) {
        for g in 0..self.kafka.groups.len() as u32 {
            let node = self.kafka.groups[g as usize].consumer;
            for i in 0..self.nodes[node as usize].instances.len() as u32 {
                let ep = Ep { node, instance: i };
                let incarnation = self.inst(ep).incarnation;
                self.schedule(
                    self.now,
                    Event::Kafka(KEvent::ConsumerStart {
                        ep,
                        incarnation,
                        group: g,
                    }),
                );
            }
        }
    }

    /// A crashed instance loses its producers and consumers; a crashed broker the fetches it
    /// was holding.
    pub(super) fn kafka_crash(&mut self, ep: Ep) {
        self.kafka
            .producers
            .retain(|k, _| (k.0, k.1) != (ep.node, ep.instance));
        self.kafka
            .consumers
            .retain(|k, _| (k.0, k.1) != (ep.node, ep.instance));
        for t in &mut self.kafka.topics {
            if t.broker == ep.node {
                t.parked.clear();
            }
        }
    }

    /// A restarted instance rejoins its groups (under new member ids); a restarted broker
    /// re-arms its groups' session and rebalance timers.
    pub(super) fn kafka_restart(&mut self, ep: Ep) {
        let incarnation = self.inst(ep).incarnation;
        for g in 0..self.kafka.groups.len() as u32 {
            if self.kafka.groups[g as usize].consumer == ep.node {
                self.schedule(
                    self.now,
                    Event::Kafka(KEvent::ConsumerStart {
                        ep,
                        incarnation,
                        group: g,
                    }),
                );
            }
            let gr = &self.kafka.groups[g as usize];
            let broker = self.kafka.topics[gr.topic as usize].broker;
            if broker != ep.node {
                continue;
            }
            let now = self.now;
            let session = gr.spec.session_timeout_ms;
            let rebalance = gr.spec.rebalance_timeout_ms;
            let round = gr.round;
            let preparing = gr.coord.state() == GroupState::PreparingRebalance;
            let hold = gr.hold_until;
            let serials: Vec<u64> = gr.members.values().map(|m| m.serial).collect();
            for m in self.kafka.groups[g as usize].members.values_mut() {
                m.last_seen = now;
            }
            for serial in serials {
                self.schedule(
                    now.plus_ms(session),
                    Event::Kafka(KEvent::SessionCheck {
                        group: g,
                        serial,
                        incarnation,
                    }),
                );
            }
            if preparing {
                self.schedule(
                    now.plus_ms(rebalance),
                    Event::Kafka(KEvent::RebalanceTimeout {
                        group: g,
                        round,
                        incarnation,
                    }),
                );
                self.schedule(
                    hold.max(now),
                    Event::Kafka(KEvent::JoinCheck {
                        group: g,
                        round,
                        incarnation,
                    }),
                );
            }
        }
    }

    fn broker_of_group(&self, g: u32) -> Ep {
        let t = self.kafka.groups[g as usize].topic;
        Ep {
            node: self.kafka.topics[t as usize].broker,
            instance: 0,
        }
    }

    fn kafka_send(&mut self, from: Ep, to: Ep, msg: Arc<Message>, body: KPacket) {
        self.send(
            from,
            to,
            Packet::Kafka {
                msg,
                body: Arc::new(body),
            },
        );
    }

    fn kpush(&mut self, what: TraceKind) {
        self.trace.push(self.now, what);
    }

    // ----- events -----

    /// `true` when the event may run now at `ep` (running, same incarnation); a paused instance
    /// keeps it for its resume ([`Simulation::gate`]).
    fn kafka_ready(&mut self, ep: Ep, incarnation: u32, e: &KEvent) -> bool {
        self.gate(ep, Some(incarnation), || Event::Kafka(e.clone()))
    }

    pub(super) fn kafka_event(&mut self, e: KEvent) {
        let (ep, incarnation) = match &e {
            KEvent::ProducerWake {
                ep, incarnation, ..
            }
            | KEvent::ProduceTimeout {
                ep, incarnation, ..
            }
            | KEvent::ConsumerStart {
                ep, incarnation, ..
            }
            | KEvent::PollTick {
                ep, incarnation, ..
            }
            | KEvent::HeartbeatTick {
                ep, incarnation, ..
            }
            | KEvent::RequestTimeout {
                ep, incarnation, ..
            }
            | KEvent::RecordDone {
                ep, incarnation, ..
            } => (*ep, *incarnation),
            KEvent::SessionCheck {
                group, incarnation, ..
            }
            | KEvent::RebalanceTimeout {
                group, incarnation, ..
            }
            | KEvent::JoinCheck {
                group, incarnation, ..
            } => (self.broker_of_group(*group), *incarnation),
            KEvent::FetchWait {
                topic, incarnation, ..
            } => (
                Ep {
                    node: self.kafka.topics[*topic as usize].broker,
                    instance: 0,
                },
                *incarnation,
            ),
        };
        if !self.kafka_ready(ep, incarnation, &e) {
            return;
        }
        match e {
            KEvent::ProducerWake { topic, .. } => {
                if let Some(p) = self.kafka.producers.get_mut(&key3(ep, topic)) {
                    if p.wake_at == Some(self.now.as_us()) {
                        p.wake_at = None;
                    }
                }
                self.kafka_pump(ep, topic);
            }
            KEvent::ProduceTimeout {
                topic,
                producer_id,
                request_id,
                ..
            } => {
                self.kafka_produce_answer(
                    ep,
                    topic,
                    producer_id,
                    request_id,
                    Err(LogError::RequestTimedOut),
                    None,
                );
            }
            KEvent::ConsumerStart { group, .. } => self.consumer_start(ep, group),
            KEvent::PollTick { group, .. } => self.poll_tick(ep, group),
            KEvent::HeartbeatTick { group, .. } => self.heartbeat_tick(ep, group),
            KEvent::RequestTimeout {
                group, req, kind, ..
            } => self.kafka_request_timeout(ep, group, req, kind),
            KEvent::RecordDone {
                group,
                partition,
                offset,
                ..
            } => self.record_done(ep, group, partition, offset),
            KEvent::SessionCheck { group, serial, .. } => self.session_check(group, serial),
            KEvent::RebalanceTimeout { group, round, .. } => self.rebalance_timeout(group, round),
            KEvent::JoinCheck { group, round, .. } => {
                if self.kafka.groups[group as usize].round == round {
                    self.maybe_complete_join(group);
                }
            }
            KEvent::FetchWait { topic, id, .. } => {
                let parked = &mut self.kafka.topics[topic as usize].parked;
                if let Some(i) = parked.iter().position(|p| p.id == id) {
                    let p = parked.remove(i);
                    self.answer_fetch(topic, ep, p);
                }
            }
        }
    }

    // ----- receiving -----

    pub(super) fn kafka_receive(&mut self, from: Ep, to: Ep, msg: Arc<Message>, body: &KPacket) {
        match body {
            KPacket::Produce { topic, request } => {
                self.broker_produce(from, to, msg, *topic, request)
            }
            KPacket::ProduceResponse {
                topic,
                producer_id,
                request_id,
                result,
                ..
            } => self.kafka_produce_answer(
                to,
                *topic,
                *producer_id,
                *request_id,
                result.clone(),
                Some(msg.id),
            ),
            KPacket::JoinGroup { group, member, req } => {
                self.broker_join(from, *group, member, *req)
            }
            KPacket::JoinGroupResponse { group, req, result } => {
                self.on_join_response(to, *group, *req, result.clone())
            }
            KPacket::SyncGroup {
                group,
                member,
                generation,
                req,
            } => self.broker_sync(from, *group, member, *generation, *req),
            KPacket::SyncGroupResponse { group, req, result } => {
                self.on_sync_response(to, *group, *req, result.clone())
            }
            KPacket::Heartbeat {
                group,
                member,
                generation,
                req,
            } => self.broker_heartbeat(from, *group, member, *generation, *req),
            KPacket::HeartbeatResponse { group, req, result } => {
                self.on_heartbeat_response(to, *group, *req, result.clone())
            }
            KPacket::Fetch {
                group,
                req,
                wanted,
                max_records,
            } => {
                let topic = self.kafka.groups[*group as usize].topic;
                let p = Parked {
                    id: 0,
                    group: *group,
                    ep: from,
                    req: *req,
                    wanted: wanted.clone(),
                    max_records: *max_records,
                };
                self.broker_fetch(topic, to, p);
            }
            KPacket::FetchResponse { group, req, slice } => {
                self.on_fetch_response(to, *group, *req, slice)
            }
            KPacket::OffsetCommit { group, request } => {
                self.broker_commit(from, to, *group, request)
            }
            KPacket::OffsetCommitResponse {
                group,
                member,
                commit_id,
                result,
            } => self.on_commit_response(to, *group, member, *commit_id, result.clone()),
        }
    }

    // ----- producer -----

    /// A workload message to a partitioned topic: the instance's producer (created on first
    /// use, with a new producer id) puts it in its accumulator and sends what it may.
    pub(super) fn kafka_publish(&mut self, ep: Ep, channel: u32, msg: Arc<Message>) {
        let Some(&t) = self.kafka.topic_of_channel.get(&channel) else {
            return;
        };
        let key = key3(ep, t);
        if !self.kafka.producers.contains_key(&key) {
            let name = &self.nodes[ep.node as usize].name;
            let spec = self.scenario.channels[channel as usize]
                .producers
                .iter()
                .find(|p| *p.producer == **name)
                .cloned()
                .unwrap_or_else(|| ProducerSpec::for_producer(name));
            let pid = self.kafka.next_producer_id;
            // Validated by `Scenario::validate`.
            let Ok(producer) = Producer::new(pid, spec.producer_config()) else {
                return;
            };
            self.kafka.next_producer_id += 1;
            self.kafka.producers.insert(
                key,
                ProducerRt {
                    producer,
                    request_timeout_us: crate::time::ms_to_us(spec.request_timeout_ms),
                    msgs: BTreeMap::new(),
                    batches: BTreeMap::new(),
                    wake_at: None,
                },
            );
        }
        let topic = &self.kafka.topics[t as usize];
        let (name, partitions) = (Arc::clone(&topic.name), topic.log.partition_count());
        let now_us = self.now.as_us();
        let Some(pr) = self.kafka.producers.get_mut(&key) else {
            return;
        };
        match pr.producer.send_record(
            now_us,
            &name,
            partitions,
            msg.headers.key.as_deref(),
            msg.id.0,
        ) {
            Ok((tp, batch)) => {
                pr.batches.insert(batch, (msg.id, tp.partition));
                pr.msgs.insert(msg.id.0, msg);
            }
            Err(e) => {
                self.metrics.publish_failed += 1;
                self.nodes[ep.node as usize].metrics.publish_failed += 1;
                if self.trace.enabled() {
                    let what = TraceKind::ProduceFailed {
                        at: self.endpoint(ep),
                        tp: name,
                        msg: msg.id,
                        error: e.to_string(),
                    };
                    self.kpush(what);
                }
                return;
            }
        }
        self.kafka_pump(ep, t);
    }

    /// Sends the producer's sendable requests and arms its backoff timer.
    fn kafka_pump(&mut self, ep: Ep, t: u32) {
        let now_us = self.now.as_us();
        let broker = Ep {
            node: self.kafka.topics[t as usize].broker,
            instance: 0,
        };
        let incarnation = self.inst(ep).incarnation;
        let Some(pr) = self.kafka.producers.get_mut(&key3(ep, t)) else {
            return;
        };
        let requests = pr.producer.poll_requests(now_us);
        let timeout = pr.request_timeout_us;
        let producer_id = pr.producer.id();
        let wake = pr
            .producer
            .next_ready_at_us(now_us)
            .filter(|&at| pr.wake_at.is_none_or(|w| at < w || w <= now_us));
        if let Some(at) = wake {
            pr.wake_at = Some(at);
        }
        let msgs: Vec<Arc<Message>> = requests
            .iter()
            .map(|r| {
                r.batch
                    .records
                    .first()
                    .and_then(|rec| pr.msgs.get(&rec.message_id).cloned())
                    .unwrap_or_else(|| control_msg("Produce".into()))
            })
            .collect();
        if let Some(at) = wake {
            self.schedule(
                SimTime(at),
                Event::Kafka(KEvent::ProducerWake {
                    ep,
                    incarnation,
                    topic: t,
                }),
            );
        }
        for (request, msg) in requests.into_iter().zip(msgs) {
            if self.trace.enabled() {
                let what = TraceKind::Produce {
                    at: self.endpoint(ep),
                    tp: self.tp_name(t, request.tp.partition),
                    msg: msg.id,
                    key: msg.headers.key.as_deref().map(str::to_string),
                    sequence: request.batch.base_sequence,
                    attempt: request.attempt,
                };
                self.kpush(what);
            }
            let request_id = request.request_id;
            self.kafka_send(ep, broker, msg, KPacket::Produce { topic: t, request });
            self.schedule(
                self.now.plus_us(timeout),
                Event::Kafka(KEvent::ProduceTimeout {
                    ep,
                    incarnation,
                    topic: t,
                    producer_id,
                    request_id,
                }),
            );
        }
    }

    fn tp_name(&self, t: u32, partition: u32) -> Arc<str> {
        let names = &self.kafka.topics[t as usize].tp_names;
        match names.get(partition as usize) {
            Some(n) => Arc::clone(n),
            None => {
                Arc::from(format!("{}-{partition}", self.kafka.topics[t as usize].name).as_str())
            }
        }
    }

    /// The broker's answer to a produce request (`arrived`: the record's message), or its
    /// timeout (`arrived == None`).
    fn kafka_produce_answer(
        &mut self,
        ep: Ep,
        t: u32,
        producer_id: u64,
        request_id: u64,
        result: Result<AppendOutcome, LogError>,
        arrived: Option<MessageId>,
    ) {
        let now_us = self.now.as_us();
        let Some(pr) = self.kafka.producers.get_mut(&key3(ep, t)) else {
            return;
        };
        if pr.producer.id() != producer_id {
            return;
        }
        let events = match pr.producer.on_response(now_us, request_id, result) {
            Ok(events) => events,
            Err(_) => {
                // Already answered (timed out before): a late response.
                if let (Some(msg), true) = (arrived, self.trace.enabled()) {
                    let what = TraceKind::LateProduceResponse {
                        at: self.endpoint(ep),
                        msg,
                    };
                    self.kpush(what);
                }
                return;
            }
        };
        for ev in events {
            self.producer_event(ep, t, ev);
        }
        self.kafka_pump(ep, t);
    }

    fn producer_event(&mut self, ep: Ep, t: u32, ev: ProducerEvent) {
        let key = key3(ep, t);
        let node = ep.node as usize;
        match ev {
            ProducerEvent::Acked {
                batch_id,
                tp,
                base_offset,
                duplicate,
                message_ids,
            } => {
                if let Some(pr) = self.kafka.producers.get_mut(&key) {
                    pr.batches.remove(&batch_id);
                    for id in &message_ids {
                        pr.msgs.remove(id);
                    }
                }
                self.nodes[node].metrics.confirmed += message_ids.len() as u64;
                if self.trace.enabled() {
                    for (i, id) in message_ids.iter().enumerate() {
                        let what = TraceKind::ProduceAcked {
                            at: self.endpoint(ep),
                            tp: self.tp_name(t, tp.partition),
                            msg: MessageId(*id),
                            offset: base_offset + i as u64,
                            duplicate,
                        };
                        self.kpush(what);
                    }
                }
            }
            ProducerEvent::Retrying {
                batch_id,
                tp,
                attempt,
                error,
                ..
            } => {
                self.metrics.retried += 1;
                self.nodes[node].metrics.retried += 1;
                if self.trace.enabled() {
                    let msg = self
                        .kafka
                        .producers
                        .get(&key)
                        .and_then(|p| p.batches.get(&batch_id))
                        .map_or(MessageId(0), |b| b.0);
                    let what = TraceKind::ProduceRetry {
                        at: self.endpoint(ep),
                        tp: self.tp_name(t, tp.partition),
                        msg,
                        attempt,
                        error: error.to_string(),
                    };
                    self.kpush(what);
                }
            }
            ProducerEvent::Failed {
                batch_id,
                tp,
                message_ids,
                error,
            } => {
                if let Some(pr) = self.kafka.producers.get_mut(&key) {
                    pr.batches.remove(&batch_id);
                    for id in &message_ids {
                        pr.msgs.remove(id);
                    }
                }
                self.metrics.publish_failed += message_ids.len() as u64;
                self.nodes[node].metrics.publish_failed += message_ids.len() as u64;
                if self.trace.enabled() {
                    for id in &message_ids {
                        let what = TraceKind::ProduceFailed {
                            at: self.endpoint(ep),
                            tp: self.tp_name(t, tp.partition),
                            msg: MessageId(*id),
                            error: error.to_string(),
                        };
                        self.kpush(what);
                    }
                }
            }
            ProducerEvent::EpochBumped { epoch } => {
                if self.trace.enabled() {
                    let producer_id = self
                        .kafka
                        .producers
                        .get(&key)
                        .map_or(0, |p| p.producer.id());
                    let what = TraceKind::ProducerEpochBump {
                        at: self.endpoint(ep),
                        producer_id,
                        epoch,
                    };
                    self.kpush(what);
                }
            }
        }
    }

    // ----- broker: log -----

    fn broker_produce(
        &mut self,
        from: Ep,
        broker: Ep,
        msg: Arc<Message>,
        t: u32,
        request: &ProduceRequest,
    ) {
        let now_us = self.now.as_us();
        let p = request.tp.partition;
        let topic = &mut self.kafka.topics[t as usize];
        let result = topic.log.append_request(now_us, request);
        match &result {
            Ok(AppendOutcome::Appended {
                base_offset,
                last_offset,
            }) => {
                let n = last_offset - base_offset + 1;
                topic.appended += n;
                if self.trace.enabled() {
                    for (i, r) in request.batch.records.iter().enumerate() {
                        let what = TraceKind::Append {
                            broker: self.endpoint(broker),
                            tp: self.tp_name(t, p),
                            msg: MessageId(r.message_id),
                            offset: base_offset + i as u64,
                            key: r.key.clone(),
                        };
                        self.kpush(what);
                    }
                }
                self.wake_parked(t, p, broker);
            }
            Ok(AppendOutcome::Duplicate { base_offset, .. }) => {
                topic.duplicates_discarded += 1;
                if self.trace.enabled() {
                    let what = TraceKind::DuplicateAppend {
                        broker: self.endpoint(broker),
                        tp: self.tp_name(t, p),
                        msg: msg.id,
                        offset: *base_offset,
                    };
                    self.kpush(what);
                }
            }
            Err(e) => {
                topic.rejected += 1;
                if self.trace.enabled() {
                    let what = TraceKind::AppendRejected {
                        broker: self.endpoint(broker),
                        tp: self.tp_name(t, p),
                        msg: msg.id,
                        error: e.to_string(),
                    };
                    self.kpush(what);
                }
            }
        }
        self.kafka_send(
            broker,
            from,
            msg,
            KPacket::ProduceResponse {
                topic: t,
                producer_id: request.producer_id,
                request_id: request.request_id,
                attempt: request.attempt,
                result,
            },
        );
    }

    fn read_slice(&self, t: u32, wanted: &[(u32, Option<u64>)], max_records: u32) -> FetchedSlice {
        let topic = &self.kafka.topics[t as usize];
        let mut out = FetchedSlice::new(&topic.name);
        let mut budget = max_records as usize;
        for &(p, from) in wanted {
            if let Ok(s) = PartitionSlice::read(&topic.log, p, from, budget) {
                budget -= s.records.len().min(budget);
                out.partitions.insert(p, s);
            }
        }
        out
    }

    fn broker_fetch(&mut self, t: u32, broker: Ep, mut p: Parked) {
        let slice = self.read_slice(t, &p.wanted, p.max_records);
        let wait = self.kafka.groups[p.group as usize].spec.fetch_max_wait_ms;
        let empty = slice.partitions.values().all(|s| s.records.is_empty());
        if empty && wait > 0 {
            let incarnation = self.inst(broker).incarnation;
            let id = self.kafka.next_parked;
            self.kafka.next_parked += 1;
            p.id = id;
            let parked = &mut self.kafka.topics[t as usize].parked;
            parked.retain(|q| !(q.ep == p.ep && q.group == p.group));
            parked.push(p);
            self.schedule(
                self.now.plus_ms(wait),
                Event::Kafka(KEvent::FetchWait {
                    topic: t,
                    id,
                    incarnation,
                }),
            );
            return;
        }
        self.send_fetch_response(t, broker, &p, slice);
    }

    fn answer_fetch(&mut self, t: u32, broker: Ep, p: Parked) {
        let slice = self.read_slice(t, &p.wanted, p.max_records);
        self.send_fetch_response(t, broker, &p, slice);
    }

    fn send_fetch_response(&mut self, t: u32, broker: Ep, p: &Parked, slice: FetchedSlice) {
        let mut label = String::from("Fetch");
        for (part, s) in &slice.partitions {
            if let (Some(a), Some(b)) = (s.records.first(), s.records.last()) {
                label.push_str(&format!(
                    " {}@{}..={}",
                    self.tp_name(t, *part),
                    a.offset,
                    b.offset
                ));
            }
        }
        self.kafka_send(
            broker,
            p.ep,
            control_msg(label),
            KPacket::FetchResponse {
                group: p.group,
                req: p.req,
                slice,
            },
        );
    }

    /// Answers the held fetches of topic `t` that wait for partition `p`.
    fn wake_parked(&mut self, t: u32, p: u32, broker: Ep) {
        let parked = std::mem::take(&mut self.kafka.topics[t as usize].parked);
        let (wake, keep): (Vec<Parked>, Vec<Parked>) = parked
            .into_iter()
            .partition(|q| q.wanted.iter().any(|&(x, _)| x == p));
        self.kafka.topics[t as usize].parked = keep;
        for q in wake {
            self.answer_fetch(t, broker, q);
        }
    }

    // ----- broker: group coordinator -----

    /// Sends the coordinator's answer `packet` (`JoinGroupResponse`, `SyncGroupResponse`,
    /// `HeartbeatResponse`, `OffsetCommitResponse`) from `broker` to the member at `to`.
    fn coordinator_reply(&mut self, broker: Ep, to: Ep, packet: KPacket) {
        let label = packet.label();
        self.kafka_send(broker, to, control_msg(label.into()), packet);
    }

    fn touch(&mut self, g: u32, member: &str) {
        let now = self.now;
        if let Some(m) = self.kafka.groups[g as usize].members.get_mut(member) {
            m.last_seen = now;
        }
    }

    fn broker_join(&mut self, from: Ep, g: u32, member: &Arc<str>, req: u64) {
        let broker = self.broker_of_group(g);
        let incarnation = self.inst(broker).incarnation;
        let now = self.now;
        let gr = &mut self.kafka.groups[g as usize];
        if let Some(m) = gr.members.get_mut(member) {
            m.last_seen = now;
            m.ep = from;
            match gr.coord.state() {
                GroupState::PreparingRebalance => {
                    m.rejoined = true;
                    m.join_req = Some(req);
                    if self.trace.enabled() {
                        let what = TraceKind::Join {
                            broker: self.endpoint(broker),
                            group: Arc::clone(&self.kafka.groups[g as usize].id),
                            member: Arc::clone(member),
                            rebalance_started: false,
                        };
                        self.kpush(what);
                    }
                }
                _ => {
                    // Stable or completing: answer with the current generation.
                    let generation = gr.coord.generation();
                    self.coordinator_reply(
                        broker,
                        from,
                        KPacket::JoinGroupResponse {
                            group: g,
                            req,
                            result: Ok(generation),
                        },
                    );
                    return;
                }
            }
        } else {
            let was_empty = gr.members.is_empty();
            let change = match gr.coord.join(now.as_us(), member) {
                Ok(c) => c,
                Err(e) => {
                    self.coordinator_reply(
                        broker,
                        from,
                        KPacket::JoinGroupResponse {
                            group: g,
                            req,
                            result: Err(e),
                        },
                    );
                    return;
                }
            };
            let serial = self.kafka.next_member_serial;
            self.kafka.next_member_serial += 1;
            let gr = &mut self.kafka.groups[g as usize];
            gr.members.insert(
                Arc::clone(member),
                MemberRt {
                    id: Arc::clone(member),
                    serial,
                    ep: from,
                    last_seen: now,
                    rejoined: true,
                    join_req: Some(req),
                },
            );
            let session = gr.spec.session_timeout_ms;
            if self.trace.enabled() {
                let what = TraceKind::Join {
                    broker: self.endpoint(broker),
                    group: Arc::clone(&self.kafka.groups[g as usize].id),
                    member: Arc::clone(member),
                    rebalance_started: change.rebalance_started,
                };
                self.kpush(what);
            }
            self.schedule(
                now.plus_ms(session),
                Event::Kafka(KEvent::SessionCheck {
                    group: g,
                    serial,
                    incarnation,
                }),
            );
            if change.rebalance_started {
                self.rebalance_started(g, was_empty);
            }
        }
        self.maybe_complete_join(g);
    }

    /// A new round of rebalancing: every member must rejoin within the rebalance timeout.
    fn rebalance_started(&mut self, g: u32, was_empty: bool) {
        let broker = self.broker_of_group(g);
        let incarnation = self.inst(broker).incarnation;
        let now = self.now;
        let gr = &mut self.kafka.groups[g as usize];
        gr.round += 1;
        let round = gr.round;
        for m in gr.members.values_mut() {
            if m.join_req.is_none() {
                m.rejoined = false;
            }
        }
        let timeout = gr.spec.rebalance_timeout_ms;
        if was_empty {
            gr.hold_until = now.plus_us(INITIAL_REBALANCE_DELAY_US);
            let at = gr.hold_until;
            self.schedule(
                at,
                Event::Kafka(KEvent::JoinCheck {
                    group: g,
                    round,
                    incarnation,
                }),
            );
        }
        self.schedule(
            now.plus_ms(timeout),
            Event::Kafka(KEvent::RebalanceTimeout {
                group: g,
                round,
                incarnation,
            }),
        );
    }

    fn maybe_complete_join(&mut self, g: u32) {
        let now = self.now;
        let broker = self.broker_of_group(g);
        let gr = &mut self.kafka.groups[g as usize];
        if gr.coord.state() != GroupState::PreparingRebalance
            || now < gr.hold_until
            || gr.members.values().any(|m| !m.rejoined)
        {
            return;
        }
        let Ok(r) = gr.coord.complete_join(now.as_us()) else {
            return;
        };
        gr.rebalance_count += 1;
        let nums = |v: &[TopicPartition]| v.iter().map(|tp| tp.partition).collect::<Vec<u32>>();
        let view = RebalanceView {
            at: now,
            generation: r.generation,
            members: r
                .members
                .iter()
                .map(|m| MemberMoveView {
                    member_id: m.member_id.clone(),
                    joined: m.joined,
                    owned_before: nums(&m.owned_before),
                    owned_after: nums(&m.owned_after),
                    revoked: nums(&m.revoked),
                    assigned: nums(&m.assigned),
                })
                .collect(),
            departed: r
                .departed
                .iter()
                .map(|d| DepartedView {
                    member_id: d.member_id.clone(),
                    reason: match d.reason {
                        DepartureReason::Left => "left",
                        DepartureReason::Failed => "failed",
                    },
                    revoked: nums(&d.revoked),
                })
                .collect(),
            moves: r
                .moves
                .iter()
                .map(|m| PartitionMoveView {
                    partition: m.tp.partition,
                    from: m.from.clone(),
                    to: m.to.clone(),
                })
                .collect(),
        };
        if gr.rebalances.len() >= REBALANCES_KEPT {
            gr.rebalances.pop_front();
        }
        gr.rebalances.push_back(view);
        let answers: Vec<(Ep, u64)> = gr
            .members
            .values_mut()
            .filter_map(|m| m.join_req.take().map(|req| (m.ep, req)))
            .collect();
        if self.trace.enabled() {
            let gr = &self.kafka.groups[g as usize];
            let what = TraceKind::Rebalance {
                broker: self.endpoint(broker),
                group: Arc::clone(&gr.id),
                topic: Arc::clone(&self.kafka.topics[gr.topic as usize].name),
                generation: r.generation,
                assignment: r
                    .members
                    .iter()
                    .map(|m| (Arc::from(m.member_id.as_str()), nums(&m.owned_after)))
                    .collect(),
            };
            self.kpush(what);
        }
        for (ep, req) in answers {
            self.coordinator_reply(
                broker,
                ep,
                KPacket::JoinGroupResponse {
                    group: g,
                    req,
                    result: Ok(r.generation),
                },
            );
        }
    }

    fn remove_member(&mut self, g: u32, member: &Arc<str>, reason: String) {
        let broker = self.broker_of_group(g);
        let now_us = self.now.as_us();
        let gr = &mut self.kafka.groups[g as usize];
        gr.members.remove(member);
        let Ok(change) = gr.coord.member_failed(now_us, member) else {
            return;
        };
        if self.trace.enabled() {
            let what = TraceKind::MemberRemoved {
                broker: self.endpoint(broker),
                group: Arc::clone(&self.kafka.groups[g as usize].id),
                member: Arc::clone(member),
                reason,
            };
            self.kpush(what);
        }
        if change.rebalance_started {
            self.rebalance_started(g, false);
        }
    }

    fn session_check(&mut self, g: u32, serial: u64) {
        let gr = &self.kafka.groups[g as usize];
        let Some(m) = gr.members.values().find(|m| m.serial == serial) else {
            return;
        };
        let session = gr.spec.session_timeout_ms;
        // A member awaiting its join response is kept alive (Kafka's `shouldKeepAlive`).
        let deadline = if m.join_req.is_some() {
            self.now.plus_ms(session)
        } else {
            m.last_seen.plus_ms(session)
        };
        let incarnation = self.inst(self.broker_of_group(g)).incarnation;
        if self.now < deadline {
            self.schedule(
                deadline,
                Event::Kafka(KEvent::SessionCheck {
                    group: g,
                    serial,
                    incarnation,
                }),
            );
            return;
        }
        let id = Arc::clone(&m.id);
        self.remove_member(
            g,
            &id,
            format!("session timeout (not heard from for {session}ms)"),
        );
        self.maybe_complete_join(g);
    }

    fn rebalance_timeout(&mut self, g: u32, round: u64) {
        let gr = &self.kafka.groups[g as usize];
        if gr.round != round || gr.coord.state() != GroupState::PreparingRebalance {
            return;
        }
        let timeout = gr.spec.rebalance_timeout_ms;
        let late: Vec<Arc<str>> = gr
            .members
            .values()
            .filter(|m| !m.rejoined)
            .map(|m| Arc::clone(&m.id))
            .collect();
        for m in late {
            self.remove_member(
                g,
                &m,
                format!("did not rejoin within the rebalance timeout ({timeout}ms)"),
            );
        }
        self.kafka.groups[g as usize].hold_until = SimTime::ZERO;
        self.maybe_complete_join(g);
    }

    fn broker_sync(&mut self, from: Ep, g: u32, member: &Arc<str>, generation: u32, req: u64) {
        let broker = self.broker_of_group(g);
        let now_us = self.now.as_us();
        self.touch(g, member);
        let gr = &mut self.kafka.groups[g as usize];
        let failed = gr
            .unknown_member(member)
            .or_else(|| gr.illegal_generation(Some(generation)))
            .or_else(|| gr.rebalancing());
        let result = match failed {
            Some(e) => Err(e),
            None => {
                if gr.coord.state() == GroupState::CompletingRebalance {
                    let _ = gr.coord.complete_sync(now_us);
                }
                Ok((generation, gr.coord.assignment_with_offsets(member)))
            }
        };
        self.coordinator_reply(
            broker,
            from,
            KPacket::SyncGroupResponse {
                group: g,
                req,
                result,
            },
        );
    }

    fn broker_heartbeat(
        &mut self,
        from: Ep,
        g: u32,
        member: &Arc<str>,
        generation: Option<u32>,
        req: u64,
    ) {
        let broker = self.broker_of_group(g);
        self.touch(g, member);
        let gr = &self.kafka.groups[g as usize];
        let failed = gr
            .unknown_member(member)
            .or_else(|| gr.rebalancing())
            .or_else(|| gr.illegal_generation(generation));
        let result = failed.map_or(Ok(()), Err);
        self.coordinator_reply(
            broker,
            from,
            KPacket::HeartbeatResponse {
                group: g,
                req,
                result,
            },
        );
    }

    fn broker_commit(&mut self, from: Ep, broker: Ep, g: u32, request: &CommitRequest) {
        let now_us = self.now.as_us();
        let gr = &mut self.kafka.groups[g as usize];
        let result = gr.coord.commit(now_us, request);
        if self.trace.enabled() {
            let t = self.kafka.groups[g as usize].topic;
            let group = Arc::clone(&self.kafka.groups[g as usize].id);
            let member: Arc<str> = Arc::from(request.member_id.as_str());
            let lines: Vec<(u32, u64, CommitVerdict)> = match &result {
                Ok(resp) => resp
                    .results
                    .iter()
                    .map(|r| {
                        let v = if r.advanced {
                            CommitVerdict::Accepted
                        } else {
                            CommitVerdict::NoAdvance {
                                committed: r.committed,
                            }
                        };
                        (r.tp.partition, r.requested, v)
                    })
                    .collect(),
                Err(e) => request
                    .offsets
                    .iter()
                    .map(|(tp, o)| {
                        (
                            tp.partition,
                            *o,
                            CommitVerdict::Rejected {
                                error: e.to_string(),
                            },
                        )
                    })
                    .collect(),
            };
            for (p, offset, verdict) in lines {
                let what = TraceKind::OffsetCommit {
                    broker: self.endpoint(broker),
                    group: Arc::clone(&group),
                    member: Arc::clone(&member),
                    generation: request.generation,
                    tp: self.tp_name(t, p),
                    offset,
                    verdict,
                };
                self.kpush(what);
            }
        }
        self.coordinator_reply(
            broker,
            from,
            KPacket::OffsetCommitResponse {
                group: g,
                member: Arc::from(request.member_id.as_str()),
                commit_id: request.commit_id,
                result,
            },
        );
    }

    // ----- consumer -----

    /// A request id, unique in the run (so that a response to an earlier incarnation or member
    /// never matches a newer request).
    fn next_req(&mut self, _ep: Ep, _g: u32) -> u64 {
        self.kafka.next_req += 1;
        self.kafka.next_req
    }

    fn arm_timeout(&mut self, ep: Ep, g: u32, req: u64, kind: ReqKind) {
        let incarnation = self.inst(ep).incarnation;
        let timeout = self.kafka.groups[g as usize].spec.request_timeout_ms;
        self.schedule(
            self.now.plus_ms(timeout),
            Event::Kafka(KEvent::RequestTimeout {
                ep,
                incarnation,
                group: g,
                req,
                kind,
            }),
        );
    }

    fn consumer_start(&mut self, ep: Ep, g: u32) {
        if self.kafka.consumers.contains_key(&key3(ep, g)) {
            return;
        }
        self.new_member(ep, g);
        let incarnation = self.inst(ep).incarnation;
        let spec = &self.kafka.groups[g as usize].spec;
        let (hb, poll) = (spec.heartbeat_interval_ms, spec.poll_interval_ms);
        self.schedule(
            self.now.plus_ms(hb),
            Event::Kafka(KEvent::HeartbeatTick {
                ep,
                incarnation,
                group: g,
            }),
        );
        self.schedule(
            self.now.plus_ms(poll),
            Event::Kafka(KEvent::PollTick {
                ep,
                incarnation,
                group: g,
            }),
        );
        self.send_join(ep, g);
    }

    /// A fresh member id and consumer state (first start, restart, or after
    /// `UNKNOWN_MEMBER_ID`).
    fn new_member(&mut self, ep: Ep, g: u32) {
        let serial = self.kafka.member_serials.entry(key3(ep, g)).or_insert(0);
        let n = *serial;
        *serial += 1;
        let node = &self.nodes[ep.node as usize].name;
        let id = if n == 0 {
            format!("{node}#{}", ep.instance)
        } else {
            format!("{node}#{}.{n}", ep.instance)
        };
        let gr = &self.kafka.groups[g as usize];
        let topic = &self.kafka.topics[gr.topic as usize].name;
        // Member ids are never empty and the config is validated.
        let Ok(consumer) = Consumer::new(&id, gr.config.clone()) else {
            return;
        };
        self.kafka.consumers.insert(
            key3(ep, g),
            ConsumerRt {
                member: Arc::from(id.as_str()),
                consumer,
                phase: Phase::Joining,
                buffer: FetchedSlice::new(topic),
                join_req: None,
                sync_req: None,
                heartbeat_req: None,
                heartbeat_generation: None,
                fetch_req: None,
                fetch_again: false,
                revoke_commit: None,
                in_progress: BTreeMap::new(),
            },
        );
    }

    fn send_join(&mut self, ep: Ep, g: u32) {
        let req = self.next_req(ep, g);
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        c.phase = Phase::Joining;
        c.join_req = Some(req);
        c.sync_req = None;
        let member = Arc::clone(&c.member);
        self.consumer_request(
            ep,
            g,
            KPacket::JoinGroup {
                group: g,
                member,
                req,
            },
            req,
            ReqKind::Join,
        );
    }

    fn send_sync(&mut self, ep: Ep, g: u32, generation: u32) {
        let req = self.next_req(ep, g);
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        c.phase = Phase::Syncing;
        c.sync_req = Some(req);
        let member = Arc::clone(&c.member);
        self.consumer_request(
            ep,
            g,
            KPacket::SyncGroup {
                group: g,
                member,
                generation,
                req,
            },
            req,
            ReqKind::Sync,
        );
    }

    fn send_commit(&mut self, ep: Ep, g: u32, request: CommitRequest) {
        let id = request.commit_id;
        let packet = KPacket::OffsetCommit { group: g, request };
        self.consumer_request(ep, g, packet, id, ReqKind::Commit(id));
    }

    /// Sends a consumer-group request (`JoinGroup`, `SyncGroup`, `Heartbeat`, `Fetch`,
    /// `OffsetCommit`) from `ep` to group `g`'s coordinator and arms its timeout.
    fn consumer_request(&mut self, ep: Ep, g: u32, packet: KPacket, req: u64, kind: ReqKind) {
        let broker = self.broker_of_group(g);
        let label = packet.label();
        self.kafka_send(ep, broker, control_msg(label.into()), packet);
        self.arm_timeout(ep, g, req, kind);
    }

    fn on_join_response(&mut self, ep: Ep, g: u32, req: u64, result: Result<u32, LogError>) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.join_req != Some(req) {
            return;
        }
        c.join_req = None;
        match result {
            Ok(generation) => {
                c.consumer.on_joined(generation);
                self.send_sync(ep, g, generation);
            }
            Err(LogError::UnknownMember { .. }) => {
                self.new_member(ep, g);
                self.send_join(ep, g);
            }
            // Retried at the next heartbeat tick.
            Err(_) => {}
        }
    }

    fn on_sync_response(
        &mut self,
        ep: Ep,
        g: u32,
        req: u64,
        result: Result<(u32, Assignment), LogError>,
    ) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.sync_req != Some(req) {
            return;
        }
        c.sync_req = None;
        match result {
            Ok((generation, assignment)) => {
                c.consumer.on_assignment(generation, assignment.clone());
                let assigned: BTreeSet<u32> =
                    assignment.iter().map(|(tp, _)| tp.partition).collect();
                c.buffer.partitions.retain(|p, _| assigned.contains(p));
                c.fetch_req = None;
                c.fetch_again = true;
                c.phase = Phase::Stable;
                if self.trace.enabled() {
                    let gr = &self.kafka.groups[g as usize];
                    let what = TraceKind::Assign {
                        at: self.endpoint(ep),
                        group: Arc::clone(&gr.id),
                        topic: Arc::clone(&self.kafka.topics[gr.topic as usize].name),
                        generation,
                        partitions: assignment
                            .iter()
                            .map(|(tp, o)| (tp.partition, *o))
                            .collect(),
                    };
                    self.kpush(what);
                }
                self.try_poll(ep, g);
            }
            Err(LogError::UnknownMember { .. }) => {
                self.new_member(ep, g);
                self.send_join(ep, g);
            }
            Err(_) => self.send_join(ep, g),
        }
    }

    fn heartbeat_tick(&mut self, ep: Ep, g: u32) {
        let incarnation = self.inst(ep).incarnation;
        let hb = self.kafka.groups[g as usize].spec.heartbeat_interval_ms;
        self.schedule(
            self.now.plus_ms(hb),
            Event::Kafka(KEvent::HeartbeatTick {
                ep,
                incarnation,
                group: g,
            }),
        );
        let Some(c) = self.kafka.consumers.get(&key3(ep, g)) else {
            return;
        };
        if c.phase == Phase::Joining {
            // No heartbeats while joining (as Kafka's heartbeat thread): the coordinator keeps
            // a member that awaits its join response alive. A failed join is retried here.
            if c.join_req.is_none() {
                self.send_join(ep, g);
            }
            return;
        }
        // One heartbeat per interval, whether or not the previous one was answered (a lost
        // heartbeat must not silence the member for a whole request timeout).
        let (member, generation) = (Arc::clone(&c.member), c.consumer.generation());
        let req = self.next_req(ep, g);
        if let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) {
            c.heartbeat_req = Some(req);
            c.heartbeat_generation = if c.phase == Phase::Stable {
                generation
            } else {
                None
            };
        }
        self.consumer_request(
            ep,
            g,
            KPacket::Heartbeat {
                group: g,
                member,
                generation,
                req,
            },
            req,
            ReqKind::Heartbeat,
        );
    }

    fn on_heartbeat_response(&mut self, ep: Ep, g: u32, req: u64, result: Result<(), LogError>) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.heartbeat_req != Some(req) {
            return;
        }
        c.heartbeat_req = None;
        match result {
            Ok(()) => {}
            Err(LogError::UnknownMember { .. }) => {
                // Removed from the group: the partitions are lost, not revoked (no commit).
                let lost = c.consumer.assigned();
                let _ = c.consumer.revoke_all();
                // Records still being processed finish; their completions are refused.
                let in_progress = std::mem::take(&mut c.in_progress);
                if !lost.is_empty() && self.trace.enabled() {
                    let gr = &self.kafka.groups[g as usize];
                    let what = TraceKind::Revoke {
                        at: self.endpoint(ep),
                        group: Arc::clone(&gr.id),
                        topic: Arc::clone(&self.kafka.topics[gr.topic as usize].name),
                        partitions: lost.iter().map(|tp| tp.partition).collect(),
                    };
                    self.kpush(what);
                }
                self.new_member(ep, g);
                if let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) {
                    c.in_progress = in_progress;
                }
                self.send_join(ep, g);
            }
            Err(_) => {
                // Only news about the generation it is in: a stale answer to a heartbeat sent
                // before the member rejoined is ignored.
                if c.phase == Phase::Stable && c.heartbeat_generation == c.consumer.generation() {
                    self.start_rejoin(ep, g);
                }
            }
        }
    }

    fn start_rejoin(&mut self, ep: Ep, g: u32) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        c.phase = Phase::Rejoining;
        c.sync_req = None;
        if c.in_progress.is_empty() {
            self.do_revoke(ep, g);
        }
    }

    /// Eager revocation: give up every partition, commit what was processed, then rejoin.
    fn do_revoke(&mut self, ep: Ep, g: u32) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        let assigned = c.consumer.assigned();
        let commit = c.consumer.revoke_all();
        c.buffer.partitions.clear();
        c.fetch_req = None;
        if !assigned.is_empty() && self.trace.enabled() {
            let gr = &self.kafka.groups[g as usize];
            let what = TraceKind::Revoke {
                at: self.endpoint(ep),
                group: Arc::clone(&gr.id),
                topic: Arc::clone(&self.kafka.topics[gr.topic as usize].name),
                partitions: assigned.iter().map(|tp| tp.partition).collect(),
            };
            self.kpush(what);
        }
        match commit {
            Some(request) => {
                if let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) {
                    c.phase = Phase::Revoking;
                    c.revoke_commit = Some(request.commit_id);
                }
                self.send_commit(ep, g, request);
            }
            None => self.send_join(ep, g),
        }
    }

    fn poll_tick(&mut self, ep: Ep, g: u32) {
        let incarnation = self.inst(ep).incarnation;
        let poll = self.kafka.groups[g as usize].spec.poll_interval_ms;
        self.schedule(
            self.now.plus_ms(poll),
            Event::Kafka(KEvent::PollTick {
                ep,
                incarnation,
                group: g,
            }),
        );
        let now_us = self.now.as_us();
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.phase != Phase::Stable {
            return;
        }
        let mut commits: Vec<CommitRequest> = c.consumer.commit(now_us).into_iter().collect();
        commits.extend(c.consumer.retry_commits(now_us));
        c.fetch_again = true;
        for request in commits {
            self.send_commit(ep, g, request);
        }
        self.try_poll(ep, g);
    }

    /// Hands buffered records to free workers, and fetches when the buffer lacks a position.
    fn try_poll(&mut self, ep: Ep, g: u32) {
        let now_us = self.now.as_us();
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.phase != Phase::Stable {
            return;
        }
        let Ok(poll) = c.consumer.poll(now_us, &c.buffer) else {
            return;
        };
        for r in poll.records {
            self.start_record(ep, g, r);
        }
        if let Some(request) = poll.commit {
            self.send_commit(ep, g, request);
        }
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.fetch_req.is_some() || !c.fetch_again {
            return;
        }
        let wanted: Vec<(u32, Option<u64>)> = c
            .consumer
            .fetch_positions()
            .into_iter()
            .filter(|(tp, from)| match from {
                Some(o) => !c.buffer.holds(tp.partition, *o),
                None => !c.buffer.partitions.contains_key(&tp.partition),
            })
            .map(|(tp, from)| (tp.partition, from))
            .collect();
        if wanted.is_empty() {
            return;
        }
        c.fetch_again = false;
        self.kafka.next_req += 1;
        let req = self.kafka.next_req;
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        c.fetch_req = Some(req);
        let max_records = self.kafka.groups[g as usize].spec.max_poll_records;
        self.consumer_request(
            ep,
            g,
            KPacket::Fetch {
                group: g,
                req,
                wanted,
                max_records,
            },
            req,
            ReqKind::Fetch,
        );
    }

    fn on_fetch_response(&mut self, ep: Ep, g: u32, req: u64, slice: &FetchedSlice) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.fetch_req != Some(req) {
            return;
        }
        c.fetch_req = None;
        let assigned: BTreeSet<u32> = c
            .consumer
            .assigned()
            .iter()
            .map(|tp| tp.partition)
            .collect();
        let mut got = Vec::new();
        for (p, s) in &slice.partitions {
            if !assigned.contains(p) {
                continue;
            }
            if let (Some(a), Some(b)) = (s.records.first(), s.records.last()) {
                got.push((*p, a.offset, b.offset));
            }
            c.buffer.partitions.insert(*p, s.clone());
        }
        // Kafka's poll loop fetches again at once; after an empty answer that the broker held
        // for `fetch_max_wait_ms` too, unless it held nothing (then the next poll tick does).
        c.fetch_again = !got.is_empty() || self.kafka.groups[g as usize].spec.fetch_max_wait_ms > 0;
        if self.trace.enabled() {
            let gr = &self.kafka.groups[g as usize];
            let (group, t) = (Arc::clone(&gr.id), gr.topic);
            for (p, first, last) in got {
                let what = TraceKind::Fetch {
                    at: self.endpoint(ep),
                    group: Arc::clone(&group),
                    tp: self.tp_name(t, p),
                    first,
                    last,
                };
                self.kpush(what);
            }
        }
        self.try_poll(ep, g);
    }

    fn start_record(&mut self, ep: Ep, g: u32, r: FetchedRecord) {
        let jitter = self.kafka.groups[g as usize].spec.processing_jitter_ms;
        // `processing_ms` (≤ 24 h) and the jitter are range-checked; `jittered` saturates anyway.
        let base = self.nodes[ep.node as usize].processing_us;
        let delay = match self.kafka.rngs.get_mut(&key3(ep, g)) {
            Some(rng) => rng.jittered(base, crate::time::ms_to_us(jitter)),
            None => base,
        };
        let (p, offset) = (r.tp.partition, r.record.offset);
        if let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) {
            c.in_progress
                .insert((p, offset), MessageId(r.record.message_id));
        }
        let incarnation = self.inst(ep).incarnation;
        self.schedule(
            self.now.plus_us(delay),
            Event::Kafka(KEvent::RecordDone {
                ep,
                incarnation,
                group: g,
                partition: p,
                offset,
            }),
        );
    }

    fn record_done(&mut self, ep: Ep, g: u32, p: u32, offset: u64) {
        let t = self.kafka.groups[g as usize].topic;
        let name = Arc::clone(&self.kafka.topics[t as usize].name);
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        let Some(msg) = c.in_progress.remove(&(p, offset)) else {
            return;
        };
        let owned = c
            .consumer
            .complete(&TopicPartition::new(&name, p), offset)
            .is_ok();
        let rejoin = c.phase == Phase::Rejoining && c.in_progress.is_empty();
        let applied = self.kafka_effect(ep, msg);
        if self.trace.enabled() {
            let what = TraceKind::Consume {
                at: self.endpoint(ep),
                tp: self.tp_name(t, p),
                offset,
                msg,
                applied,
                owned,
            };
            self.kpush(what);
        }
        if rejoin {
            self.do_revoke(ep, g);
        } else {
            self.try_poll(ep, g);
        }
    }

    /// The business effect of a processed record (metrics and the processed-messages table, as
    /// for a queue delivery). Returns whether the effect was applied.
    fn kafka_effect(&mut self, ep: Ep, msg: MessageId) -> bool {
        let node = &mut self.nodes[ep.node as usize];
        node.metrics.processed += 1;
        self.metrics.processed += 1;
        let seen = node.processed_ids.contains(&msg);
        if !seen {
            node.metrics.distinct += 1;
            // One effect expected per distinct message, as for queue deliveries (receiver.rs).
            node.metrics.effects_expected += 1;
            node.processed_ids.insert(msg);
        }
        let applied = !(seen && node.duplicates == DuplicateHandling::Dedup);
        if applied {
            node.metrics.effects += 1;
            self.metrics.effects += 1;
        } else {
            node.metrics.duplicates_discarded += 1;
            self.metrics.duplicates_discarded += 1;
        }
        applied
    }

    fn on_commit_response(
        &mut self,
        ep: Ep,
        g: u32,
        member: &Arc<str>,
        commit_id: u64,
        result: Result<CommitResponse, LogError>,
    ) {
        let now_us = self.now.as_us();
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        if c.member != *member {
            return;
        }
        let revoke_done = c.revoke_commit == Some(commit_id);
        let outcome = c.consumer.on_commit_response(now_us, commit_id, result);
        if revoke_done {
            c.revoke_commit = None;
        }
        match outcome {
            Ok(CommitOutcome::Committed { released, .. }) => {
                for r in released {
                    self.start_record(ep, g, r);
                }
            }
            Ok(CommitOutcome::QueuedForRetry { error }) => {
                self.trace_commit_failed(ep, g, &error, true);
            }
            Ok(CommitOutcome::Failed { error, dropped }) => {
                self.trace_commit_failed(ep, g, &error, false);
                if self.trace.enabled() && !dropped.is_empty() {
                    let t = self.kafka.groups[g as usize].topic;
                    let mut by_p: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
                    for r in &dropped {
                        by_p.entry(r.tp.partition)
                            .or_default()
                            .push(r.record.offset);
                    }
                    for (p, offsets) in by_p {
                        let what = TraceKind::RecordsDropped {
                            at: self.endpoint(ep),
                            tp: self.tp_name(t, p),
                            offsets,
                            reason: "their commit failed (at-most-once)".into(),
                        };
                        self.kpush(what);
                    }
                }
            }
            Err(_) => {}
        }
        if revoke_done {
            self.send_join(ep, g);
        }
    }

    fn trace_commit_failed(&mut self, ep: Ep, g: u32, error: &LogError, queued: bool) {
        if self.trace.enabled() {
            let what = TraceKind::CommitFailed {
                at: self.endpoint(ep),
                group: Arc::clone(&self.kafka.groups[g as usize].id),
                error: error.to_string(),
                queued,
            };
            self.kpush(what);
        }
    }

    fn kafka_request_timeout(&mut self, ep: Ep, g: u32, req: u64, kind: ReqKind) {
        let Some(c) = self.kafka.consumers.get_mut(&key3(ep, g)) else {
            return;
        };
        match kind {
            ReqKind::Join => {
                if c.join_req == Some(req) {
                    self.send_join(ep, g);
                }
            }
            ReqKind::Sync => {
                if c.sync_req == Some(req) {
                    c.sync_req = None;
                    self.send_join(ep, g);
                }
            }
            ReqKind::Heartbeat => {
                if c.heartbeat_req == Some(req) {
                    c.heartbeat_req = None;
                }
            }
            ReqKind::Fetch => {
                if c.fetch_req == Some(req) {
                    c.fetch_req = None;
                    c.fetch_again = true;
                }
            }
            ReqKind::Commit(commit_id) => {
                let member = Arc::clone(&c.member);
                self.on_commit_response(ep, g, &member, commit_id, Err(LogError::RequestTimedOut));
            }
        }
    }

    // ----- snapshot -----

    pub(super) fn kafka_views(&self) -> Vec<PartitionedTopicView> {
        let name = |i: u32| self.nodes[i as usize].name.to_string();
        self.scenario
            .channels
            .iter()
            .enumerate()
            .filter_map(|(c, spec)| {
                let &t = self.kafka.topic_of_channel.get(&(c as u32))?;
                let topic = &self.kafka.topics[t as usize];
                let partitions = topic
                    .log
                    .partitions()
                    .iter()
                    .map(|log| {
                        let skip = log.len().saturating_sub(RECORDS_SHOWN);
                        PartitionView {
                            partition: log.partition(),
                            log_start_offset: log.log_start_offset(),
                            log_end_offset: log.log_end_offset(),
                            records: log
                                .records()
                                .skip(skip)
                                .map(|r| RecordView {
                                    offset: r.offset,
                                    key: r.key.clone(),
                                    msg: MessageId(r.message_id),
                                    producer_id: r.producer_id,
                                    sequence: r.sequence,
                                    append_time: SimTime(r.append_time_us),
                                })
                                .collect(),
                        }
                    })
                    .collect();
                let groups = topic.groups.iter().map(|&g| self.group_view(g)).collect();
                let producers = self
                    .kafka
                    .producers
                    .iter()
                    .filter(|(k, _)| k.2 == t)
                    .map(|(k, p)| {
                        let pending = p
                            .producer
                            .pending_batch_views()
                            .into_iter()
                            .flat_map(|b| {
                                let in_flight = matches!(
                                    b.state,
                                    crate::log::producer::BatchState::InFlight { .. }
                                );
                                let partition = b.tp.partition;
                                let (seq, attempts) = (b.base_sequence, b.attempts);
                                b.message_ids.into_iter().enumerate().map(move |(i, m)| {
                                    PendingRecordView {
                                        partition,
                                        msg: MessageId(m),
                                        sequence: seq.map(|s| {
                                            crate::log::topic::increment_sequence(s, i as u32)
                                        }),
                                        attempts,
                                        in_flight,
                                    }
                                })
                            })
                            .collect();
                        ProducerView {
                            node: name(k.0),
                            instance: k.1,
                            producer_id: p.producer.id(),
                            epoch: p.producer.epoch(),
                            idempotent: p.producer.config().enable_idempotence,
                            in_flight: p.producer.in_flight_requests() as u32,
                            pending,
                        }
                    })
                    .collect();
                Some(PartitionedTopicView {
                    name: spec.name.clone(),
                    broker: spec.broker.clone(),
                    partitions,
                    groups,
                    producers,
                    appended: topic.appended,
                    duplicates_discarded: topic.duplicates_discarded,
                    rejected: topic.rejected,
                })
            })
            .collect()
    }

    fn group_view(&self, g: u32) -> ConsumerGroupView {
        let gr = &self.kafka.groups[g as usize];
        let topic = &self.kafka.topics[gr.topic as usize];
        let session = gr.spec.session_timeout_ms;
        let instance_of = |m: &str| gr.members.get(m).map(|x| x.ep.instance);
        let members = gr
            .members
            .values()
            .map(|m| GroupMemberView {
                member_id: m.id.to_string(),
                instance: m.ep.instance,
                partitions: gr
                    .coord
                    .assignment(&m.id)
                    .iter()
                    .map(|tp| tp.partition)
                    .collect(),
                last_seen: m.last_seen,
                session_expires: m.last_seen.plus_ms(session),
            })
            .collect();
        let partitions = gr
            .coord
            .lag(&topic.log)
            .unwrap_or_default()
            .into_iter()
            .map(|l| GroupPartitionView {
                partition: l.tp.partition,
                owner_instance: l.owner.as_deref().and_then(instance_of),
                owner: l.owner,
                committed: l.committed,
                lag: l.lag,
            })
            .collect();
        let instances = self
            .kafka
            .consumers
            .iter()
            .filter(|(k, _)| k.2 == g)
            .map(|(k, c)| ConsumerInstanceView {
                instance: k.1,
                member_id: Some(c.member.to_string()),
                phase: c.phase.as_str(),
                generation: c.consumer.generation(),
                partitions: c
                    .consumer
                    .assigned()
                    .iter()
                    .map(|tp| {
                        let tr = c.consumer.tracker(tp);
                        ConsumerPartitionView {
                            partition: tp.partition,
                            position: tr.map(|t| t.next_offset()),
                            committable: tr.map(|t| t.committable()),
                            in_progress: tr.map(|t| t.in_progress()).unwrap_or_default(),
                        }
                    })
                    .collect(),
                queued_commits: c.consumer.queued_commits() as u32,
            })
            .collect();
        ConsumerGroupView {
            group: gr.id.to_string(),
            consumer: self.nodes[gr.consumer as usize].name.to_string(),
            state: gr.coord.state().as_str(),
            generation: gr.coord.generation(),
            delivery: match gr.spec.delivery {
                Delivery::AtLeastOnce => "at_least_once",
                Delivery::AtMostOnce => "at_most_once",
            },
            assignment: match gr.spec.assignment {
                crate::scenario::Assignment::Range => "range",
                crate::scenario::Assignment::RoundRobin => "round_robin",
            },
            members,
            partitions,
            instances,
            rebalances: gr.rebalances.iter().cloned().collect(),
            rebalance_count: gr.rebalance_count,
        }
    }
}
