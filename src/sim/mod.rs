//! The simulation: a sans-IO discrete-event engine.
//!
//! Use it in this order: build with [`Simulation::new`]; feed commands with [`Simulation::apply`]
//! (they take effect at the current virtual time); advance with [`Simulation::step`] or
//! [`Simulation::run_until`]; read [`Simulation::snapshot`], [`Simulation::metrics`] and
//! [`Simulation::trace`]. Nothing happens between calls: no clock, no threads, no entropy.

use crate::command::Command;
use crate::error::{CommandError, ScenarioError};
use crate::message::{Headers, Message, MessageId, MessageKind};
use crate::network::{Direction, DropReason, LinkFaults};
use crate::rng::{stream, SimRng};
use crate::scenario::{ChannelKind, DuplicateHandling, NodeKind, Scenario};
use crate::snapshot::*;
use crate::time::SimTime;
use crate::trace::{
    Endpoint, PacketKind, RedeliveryReason, ReplyDiscard, Trace, TraceConfig, TraceKind,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

mod broker;
mod db;
mod discovery;
mod network;
mod ops;
mod partitioned;
mod processed;
mod publish;
mod queue;
mod relay;
mod replica;
mod rest;
mod rpc;
mod schemas;
mod service;

mod broker_props;
mod direct;
mod live;
mod matching;
pub use matching::MatchOutcome;
mod messaging;
mod receiver;
mod reply;
use messaging::{Messaging, PendingRequest};

/// Bounds on what grows while a run goes on.
pub mod bounds {
    /// Packets on the wire at once; a send beyond it is dropped as overflow.
    pub const MAX_IN_FLIGHT: usize = 100_000;
    /// Scheduled events at once (timers included); beyond it new sends are dropped.
    pub const MAX_PENDING_EVENTS: usize = 1_000_000;
    /// Dead letters kept per queue (the count goes on).
    pub const MAX_DEAD_LETTERS_KEPT: usize = 1_000;
    /// Message ids a service remembers (its processed-messages table, Eventuate's idempotent
    /// consumer table); beyond it the oldest (smallest) id is forgotten, and a duplicate of it
    /// that arrives later is processed again. Default 1 000 000.
    pub const MAX_PROCESSED_IDS: usize = 1_000_000;
    /// Commands recorded in the command log.
    pub const MAX_COMMAND_LOG: usize = 10_000;
    /// Events a paused instance buffers.
    pub const MAX_DEFERRED: usize = 100_000;
    /// Pending requests per requesting service; beyond it the oldest is abandoned.
    pub const MAX_PENDING_REQUESTS: usize = 10_000;
    /// Finished requests a requester remembers (to tell a late reply from a duplicate one).
    pub const MAX_FINISHED_REQUESTS: usize = 10_000;
    /// Packets waiting in one broker's backlog (`broker_service_time_us`); beyond it they are
    /// lost and counted in `backlog_lost`.
    pub const MAX_BROKER_BACKLOG: usize = 100_000;
    /// Message ids a channel's broker-side duplicate detection remembers (oldest forgotten).
    pub const MAX_DEDUP_IDS: usize = 100_000;
    /// Keys an idempotent receiver's state table holds (one forgotten beyond it).
    pub const MAX_IDEMPOTENT_KEYS: usize = 1_000_000;
}

/// A command applied at a virtual time (the command log replays a run).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecordedCommand {
    /// When it was applied.
    pub at: SimTime,
    /// Events handled before it was applied: places it exactly between events that share a time.
    pub events: u64,
    /// What.
    pub command: Command,
}

/// Result of [`Simulation::run_until`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Events handled by this call.
    pub events: u64,
    /// Whether the target time was reached (false when `max_events` stopped it first).
    pub reached: bool,
}

#[derive(Clone, Debug)]
enum Event {
    WorkloadTick {
        workload: u32,
        n: u64,
    },
    /// A workload's `script` entry is due (`publish.rs`).
    Scripted {
        workload: u32,
        entry: u32,
    },
    TransitEnd {
        transit: u64,
        /// Where the transit is stored ([`queue::Transits`]).
        slot: u32,
    },
    ProcessDone {
        node: u32,
        instance: u32,
        incarnation: u32,
    },
    AckTimeout {
        queue: u32,
        tag: u64,
        incarnation: u32,
    },
    PublishTimeout {
        node: u32,
        instance: u32,
        incarnation: u32,
        msg: MessageId,
        attempt: u32,
    },
    Fault {
        index: u32,
    },
    /// A request's timeout, or the end of its collection window.
    RequestTimeout {
        node: u32,
        instance: u32,
        incarnation: u32,
        msg: MessageId,
    },
    /// A broker's worker finished the packet at the head of its backlog.
    BrokerWork {
        node: u32,
        incarnation: u32,
    },
    /// A local transaction of `node`'s database reaches its commit.
    TxDone {
        node: u32,
        tx: u64,
    },
    /// A relay reads (polls the OUTBOX or the commit log).
    RelayTick {
        node: u32,
        incarnation: u32,
    },
    /// A relay's publish was not confirmed in time.
    RelayTimeout {
        node: u32,
        incarnation: u32,
        msg: MessageId,
        attempt: u32,
    },
    /// A client's poll is due (`poll`) or its request timed out.
    ClientTimer {
        node: u32,
        instance: u32,
        incarnation: u32,
        req: u64,
        attempt: u32,
        poll: bool,
    },
    Sync(rpc::SyncEvent),
    SchemaLookupTimeout {
        node: u32,
        instance: u32,
        incarnation: u32,
        seq: u64,
    },
    /// Timers of partitioned topics (producers, consumers, group coordinators).
    Kafka(partitioned::KEvent),
}

#[derive(Clone, Debug)]
struct Delivery {
    queue: u32,
    tag: u64,
    msg: Arc<Message>,
    attempt: u32,
}

#[derive(Clone, Debug)]
enum Packet {
    Publish {
        channel: u32,
        msg: Arc<Message>,
        attempt: u32,
    },
    PublishAck {
        msg: Arc<Message>,
        attempt: u32,
    },
    Deliver(Delivery),
    Ack {
        queue: u32,
        tag: u64,
        msg: Arc<Message>,
    },
    Nack {
        queue: u32,
        tag: u64,
        msg: Arc<Message>,
        requeue: bool,
    },
    Direct {
        channel: u32,
        msg: Arc<Message>,
    },
    /// Negative publisher confirm.
    PublishNack {
        msg: Arc<Message>,
        attempt: u32,
    },
    /// Client -> service request (respond before processing).
    Request {
        msg: Arc<Message>,
        req: u64,
        attempt: u32,
        create: bool,
        resource: Arc<str>,
    },
    /// Service -> client answer.
    Response {
        msg: Arc<Message>,
        req: u64,
        attempt: u32,
        code: u16,
        status: Arc<str>,
    },
    Sync(rpc::SyncPacket),
    /// Consumer -> broker: a delivery its reader schema rejected or could not decode yet.
    SchemaNack {
        queue: u32,
        tag: u64,
        msg: Arc<Message>,
        requeue: bool,
        reason: Arc<str>,
    },
    SchemaLookup {
        msg: Arc<Message>,
        id: crate::schema::SchemaId,
        seq: u64,
        incarnation: u32,
    },
    SchemaReply {
        msg: Arc<Message>,
        id: crate::schema::SchemaId,
        seq: u64,
        incarnation: u32,
        found: bool,
    },
    /// A partitioned-topic request or response; `msg` is the record's message for produce
    /// requests and responses, else a label (message id 0).
    Kafka {
        msg: Arc<Message>,
        body: Arc<partitioned::KPacket>,
    },
}

impl Packet {
    fn kind(&self) -> PacketKind {
        match self {
            Packet::Publish { .. } => PacketKind::Publish,
            Packet::PublishAck { .. } => PacketKind::PublishAck,
            Packet::Deliver(_) => PacketKind::Deliver,
            Packet::Ack { .. } => PacketKind::Ack,
            Packet::Nack { .. } => PacketKind::Nack,
            Packet::Direct { .. } => PacketKind::Direct,
            Packet::PublishNack { .. } => PacketKind::PublishNack,
            Packet::Request { .. } => PacketKind::Request,
            Packet::Response { .. } => PacketKind::Response,
            Packet::Sync(p) => p.kind(),
            Packet::SchemaNack { .. } => PacketKind::Nack,
            Packet::SchemaLookup { .. } => PacketKind::SchemaLookup,
            Packet::SchemaReply { .. } => PacketKind::SchemaReply,
            Packet::Kafka { body, .. } => body.kind(),
        }
    }
    fn msg(&self) -> &Arc<Message> {
        match self {
            Packet::Publish { msg, .. }
            | Packet::PublishAck { msg, .. }
            | Packet::Ack { msg, .. }
            | Packet::Kafka { msg, .. } => msg,
            Packet::Deliver(d) => &d.msg,
            Packet::Nack { msg, .. } | Packet::Direct { msg, .. } => msg,
            Packet::PublishNack { msg, .. }
            | Packet::Request { msg, .. }
            | Packet::Response { msg, .. } => msg,
            Packet::Sync(p) => p.msg(),
            Packet::SchemaNack { msg, .. }
            | Packet::SchemaLookup { msg, .. }
            | Packet::SchemaReply { msg, .. } => msg,
        }
    }
    fn attempt(&self) -> u32 {
        match self {
            Packet::Publish { attempt, .. } | Packet::PublishAck { attempt, .. } => *attempt,
            Packet::Deliver(d) => d.attempt,
            Packet::Ack { .. } => 1,
            Packet::Nack { .. } | Packet::Direct { .. } => 1,
            Packet::PublishNack { attempt, .. }
            | Packet::Request { attempt, .. }
            | Packet::Response { attempt, .. } => *attempt,
            Packet::Sync(p) => p.attempt(),
            Packet::SchemaNack { .. }
            | Packet::SchemaLookup { .. }
            | Packet::SchemaReply { .. } => 1,
            Packet::Kafka { body, .. } => body.attempt(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ep {
    node: u32,
    instance: u32,
}

#[derive(Clone, Debug)]
struct Transit {
    /// Transit id (the trace's `transit`), assigned at launch.
    id: u64,
    from: Ep,
    to: Ep,
    link: u32,
    dir: u8,
    packet: Packet,
    sent_at: SimTime,
    arrive_at: SimTime,
    duplicate: bool,
    fate: Option<DropReason>,
    held: bool,
}

#[derive(Clone, Debug)]
enum Deferred {
    Receive(Transit),
    Event(Event),
}

#[derive(Clone, Debug)]
struct PendingPublish {
    channel: u32,
    msg: Arc<Message>,
    attempt: u32,
}

#[derive(Clone, Debug)]
struct Instance {
    up: bool,
    paused: bool,
    incarnation: u32,
    inbox: VecDeque<Delivery>,
    busy: Option<Delivery>,
    deferred: Vec<Deferred>,
    pending: BTreeMap<MessageId, PendingPublish>,
}

impl Instance {
    fn new() -> Instance {
        Instance {
            up: true,
            paused: false,
            incarnation: 0,
            inbox: VecDeque::new(),
            busy: None,
            deferred: Vec::new(),
            pending: BTreeMap::new(),
        }
    }
    fn status(&self) -> InstanceStatus {
        if !self.up {
            InstanceStatus::Crashed
        } else if self.paused {
            InstanceStatus::Paused
        } else {
            InstanceStatus::Up
        }
    }
}

#[derive(Clone, Debug)]
struct Node {
    name: Arc<str>,
    kind: NodeKind,
    processing_us: u64,
    duplicates: DuplicateHandling,
    instances: Vec<Instance>,
    /// The processed-messages table, shared by all instances (see `processed`).
    processed_ids: processed::ProcessedIds,
    metrics: NodeMetrics,
}

#[derive(Clone, Debug)]
struct Unacked {
    msg: Arc<Message>,
    attempt: u32,
    instance: u32,
}

#[derive(Clone, Debug)]
struct Queue {
    name: Arc<str>,
    broker: u32,
    consumer: u32,
    ready: VecDeque<(Arc<Message>, u32)>,
    unacked: BTreeMap<u64, Unacked>,
    unacked_per_instance: Vec<u32>,
    next_tag: u64,
    round_robin: u32,
    dead_letters: VecDeque<(Arc<Message>, u32)>,
    dead_letter_total: u32,
    enqueued: u64,
    acked: u64,
    redelivered: u64,
}

#[derive(Clone, Debug)]
struct LinkDir {
    faults: LinkFaults,
    metrics: LinkMetrics,
    rng: SimRng,
    /// Held transits: (transit id, slot in `in_flight`).
    held: Vec<(u64, u32)>,
}

#[derive(Clone, Debug)]
struct Link {
    a: u32,
    b: u32,
    dirs: [LinkDir; 2],
}

#[derive(Clone, Debug)]
struct Workload {
    node: u32,
    rng: SimRng,
    next_instance: u32,
    /// Channel index of each of the workload's message templates (resolved once).
    channels: Arc<[u32]>,
    /// Each template's strings and payload, shared by every message it produces.
    templates: Arc<[Template]>,
}

/// A workload's message template, resolved once: every message shares these.
#[derive(Debug)]
struct Template {
    type_name: Arc<str>,
    channel: Arc<str>,
    reply_to: Option<Arc<str>>,
    /// The key and whether it has a `{n}` (then it is built per message).
    key: Option<(Arc<str>, bool)>,
    payload: Arc<serde_json::Value>,
    /// Whether the payload has a `{n}` to substitute.
    payload_templated: bool,
}

/// A running simulation of one scenario under one seed.
///
/// Determinism: the same scenario, seed and commands applied at the same virtual times give the
/// same trace (and [`Simulation::trace_hash`]), natively and in wasm32.
#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Arc<Scenario>,
    seed: u64,
    now: SimTime,
    next_seq: u64,
    queue: queue::EventQueue,
    nodes: Vec<Node>,
    links: Vec<Link>,
    link_of: BTreeMap<(u32, u32), (u32, u8)>,
    /// Queue indices of each channel (a topic's subscriptions), shared so a publish can hold
    /// them while it mutates the queues without copying.
    channel_queues: Vec<Arc<[u32]>>,
    channel_broker: Vec<u32>,
    queues: Vec<Queue>,
    workloads: Vec<Workload>,
    in_flight: queue::Transits,
    next_transit: u64,
    next_msg: u64,
    metrics: Metrics,
    trace: Trace,
    commands: Vec<RecordedCommand>,
    events_processed: u64,
    messaging: Messaging,
    /// Databases, relays, replicas, clients and the event ledger (`db.rs`).
    txm: db::TxSim,
    sync: rpc::SyncState,
    /// API contracts (channels with schemas); `None` when the scenario declares none.
    schemas: Option<Box<schemas::SchemaState>>,
    kafka: partitioned::KafkaState,
    /// Settings changed by commands while the run goes on (see `live`).
    live: live::Live,
    /// Message ids chosen by scripts and `publish` commands: the engine's numbering skips them
    /// (`publish.rs`). Bounded by the scripts' and the command log's bounds.
    reserved_ids: BTreeSet<u64>,
}

/// `text` with every `{n}` replaced by `n`, in one pass and one allocation.
impl Simulation {
    /// Builds a simulation of a validated scenario with the given seed and the default trace
    /// settings. Errors if the scenario (or its fault schedule) is inconsistent.
    pub fn new(scenario: Scenario, seed: u64) -> Result<Simulation, ScenarioError> {
        Simulation::with_trace(scenario, seed, TraceConfig::default())
    }

    /// Parses, validates and builds in one go.
    pub fn from_json(json: &str, seed: u64) -> Result<Simulation, ScenarioError> {
        Simulation::new(Scenario::from_json(json)?, seed)
    }

    /// As [`Simulation::new`] with explicit trace settings.
    pub fn with_trace(
        scenario: Scenario,
        seed: u64,
        trace: TraceConfig,
    ) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let nodes = scenario
            .nodes
            .iter()
            .map(|n| Node {
                name: Arc::from(n.name.as_str()),
                kind: n.kind,
                processing_us: crate::time::ms_to_us(n.processing_ms),
                duplicates: n.duplicates,
                instances: (0..n.instances).map(|_| Instance::new()).collect(),
                processed_ids: processed::ProcessedIds::default(),
                metrics: NodeMetrics::default(),
            })
            .collect::<Vec<_>>();
        let idx = |name: &str| scenario.node_index(name).unwrap_or(0) as u32;
        let mut link_of = BTreeMap::new();
        let links = scenario
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (a, b) = (idx(&l.a), idx(&l.b));
                link_of.insert((a, b), (i as u32, 0u8));
                link_of.insert((b, a), (i as u32, 1u8));
                let dir = |d: u64| LinkDir {
                    faults: l.faults.clone(),
                    metrics: LinkMetrics::default(),
                    rng: SimRng::new(seed, stream::LINK_BASE + 2 * i as u64 + d),
                    held: Vec::new(),
                };
                Link {
                    a,
                    b,
                    dirs: [dir(0), dir(1)],
                }
            })
            .collect();
        let mut queues = Vec::new();
        let mut channel_queues = Vec::new();
        let mut channel_broker = Vec::new();
        for c in &scenario.channels {
            if c.kind == ChannelKind::Direct {
                channel_queues.push(Vec::new());
                channel_broker.push(u32::MAX);
                continue;
            }
            let broker = idx(&c.broker);
            let mut ids = Vec::new();
            if c.kind == ChannelKind::PartitionedTopic {
                // No queues: see `partitioned`.
                channel_queues.push(ids);
                channel_broker.push(broker);
                continue;
            }
            for consumer in &c.consumers {
                let name = match c.kind {
                    ChannelKind::Queue | ChannelKind::PartitionedTopic => c.name.clone(),
                    ChannelKind::Topic => format!("{}/{}", c.name, consumer),
                    ChannelKind::Direct => continue, // skipped above: no queues
                };
                let consumer = idx(consumer);
                ids.push(queues.len() as u32);
                queues.push(Queue {
                    name: Arc::from(name.as_str()),
                    broker,
                    consumer,
                    ready: VecDeque::new(),
                    unacked: BTreeMap::new(),
                    unacked_per_instance: vec![
                        0;
                        scenario.nodes[consumer as usize].instances as usize
                    ],
                    next_tag: 1,
                    round_robin: 0,
                    dead_letters: VecDeque::new(),
                    dead_letter_total: 0,
                    enqueued: 0,
                    acked: 0,
                    redelivered: 0,
                });
            }
            channel_queues.push(ids);
            channel_broker.push(broker);
        }
        let workloads = scenario
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| Workload {
                node: idx(&w.from),
                rng: SimRng::new(seed, stream::WORKLOAD_BASE + i as u64),
                next_instance: 0,
                channels: w
                    .messages
                    .iter()
                    .map(|t| {
                        scenario
                            .channels
                            .iter()
                            .position(|c| c.name == t.channel)
                            .unwrap_or(0) as u32
                    })
                    .collect(),
                templates: w
                    .messages
                    .iter()
                    .map(|t| Template {
                        type_name: Arc::from(t.type_name.as_str()),
                        channel: Arc::from(t.channel.as_str()),
                        reply_to: t.reply_to.as_deref().map(Arc::from),
                        key: t.key.as_deref().map(|k| (Arc::from(k), k.contains("{n}"))),
                        payload: Arc::new(t.payload.clone()),
                        payload_templated: crate::message::has_placeholder(&t.payload),
                    })
                    .collect(),
            })
            .collect();
        let messaging = Messaging::new(&scenario, seed);
        let schema_state = schemas::SchemaState::build(&scenario)?;
        let kafka = partitioned::KafkaState::new(&scenario, seed);
        let live = live::Live::new(&scenario);
        let mut sim = Simulation {
            scenario: Arc::new(scenario),
            seed,
            now: SimTime::ZERO,
            next_seq: 0,
            queue: queue::EventQueue::default(),
            nodes,
            links,
            link_of,
            channel_queues: channel_queues.into_iter().map(Arc::from).collect(),
            channel_broker,
            queues,
            workloads,
            in_flight: queue::Transits::default(),
            next_transit: 1,
            next_msg: 1,
            metrics: Metrics::default(),
            trace: Trace::new(trace),
            commands: Vec::new(),
            events_processed: 0,
            messaging,
            txm: db::TxSim::default(),
            sync: rpc::SyncState::default(),
            schemas: schema_state,
            kafka,
            live,
            reserved_ids: BTreeSet::new(),
        };
        sim.txm = db::TxSim::build(&sim.scenario, seed);
        sim.sync_build();
        // Check the fault schedule against the topology before anything runs.
        for (i, f) in sim.scenario.faults.iter().enumerate() {
            sim.check_command(&f.command)
                .map_err(|e| ScenarioError::Invalid {
                    field: format!("faults[{i}].command"),
                    message: e.to_string(),
                })?;
        }
        // And every experiment's commands (as if applied at time zero).
        for (i, e) in sim.scenario.experiments.iter().enumerate() {
            for (j, c) in e.commands.iter().enumerate() {
                sim.check_command(c).map_err(|err| ScenarioError::Invalid {
                    field: format!("experiments[{i}].commands[{j}]"),
                    message: err.to_string(),
                })?;
            }
            for (j, u) in e.then.iter().enumerate() {
                sim.check_command(&u.command)
                    .map_err(|err| ScenarioError::Invalid {
                        field: format!("experiments[{i}].then[{j}].command"),
                        message: err.to_string(),
                    })?;
            }
        }
        let scenario = Arc::clone(&sim.scenario);
        for (i, w) in scenario.workloads.iter().enumerate() {
            if w.count > 0 {
                sim.schedule(
                    SimTime::from_ms(w.start_ms),
                    Event::WorkloadTick {
                        workload: i as u32,
                        n: 1,
                    },
                );
            }
        }
        for (i, f) in scenario.faults.iter().enumerate() {
            sim.schedule(SimTime::from_ms(f.at_ms), Event::Fault { index: i as u32 });
        }
        sim.script_init()?;
        if !sim.scenario.invariants.is_empty() {
            let checker = crate::invariants::InvariantChecker::new(&sim.scenario);
            sim.trace.set_invariants(checker);
        }
        sim.sync_init();
        sim.kafka_start();
        Ok(sim)
    }

    // ----- reading -----

    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Run-wide counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The trace (bounded; see [`Trace`]).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The scenario's claimed invariants and where each stands, checked on every trace event
    /// so far (see [`crate::invariants`]); in the scenario's order, empty without claims.
    pub fn invariants(&self) -> &[crate::invariants::InvariantStatus] {
        self.trace.invariants()
    }

    /// Memory profiling aid (examples/timeline_memory.rs): calls `f(part, clone)` for each big
    /// part of the state, where `clone` deep-copies that part and drops the copy, so a counting
    /// allocator around `clone` measures what one checkpoint of that part costs (structure
    /// shared through `Arc` or persistent collections counts only its unshared spine). Not part
    /// of the stable API.
    #[doc(hidden)]
    pub fn profile_parts(&self, f: &mut dyn FnMut(&str, &dyn Fn())) {
        f("queue", &|| drop(self.queue.clone()));
        f("nodes.processed_ids", &|| {
            drop(
                self.nodes
                    .iter()
                    .map(|n| n.processed_ids.clone())
                    .collect::<Vec<_>>(),
            )
        });
        f("nodes (all)", &|| drop(self.nodes.clone()));
        f("links", &|| drop(self.links.clone()));
        f("queues", &|| drop(self.queues.clone()));
        f("in_flight", &|| drop(self.in_flight.clone()));
        f("trace", &|| drop(self.trace.clone()));
        f("commands", &|| drop(self.commands.clone()));
        f("messaging", &|| drop(self.messaging.clone()));
        f("txm", &|| drop(self.txm.clone()));
        f("sync", &|| drop(self.sync.clone()));
        f("schemas", &|| drop(self.schemas.clone()));
        f("kafka", &|| drop(self.kafka.clone()));
        f("live", &|| drop(self.live.clone()));
        f("(whole simulation)", &|| drop(self.clone()));
    }

    /// Hash of every trace event so far; equal for equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Commands applied through [`Simulation::apply`] so far, with their places in the run. The
    /// scenario's own fault schedule is not in it (it is part of the scenario).
    pub fn command_log(&self) -> &[RecordedCommand] {
        &self.commands
    }

    /// Events handled so far.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Time of the next scheduled event, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Counters of the service or broker `name`.
    pub fn node_metrics(&self, name: &str) -> Option<NodeMetrics> {
        self.node_id(name).map(|i| self.nodes[i as usize].metrics)
    }

    /// The state now, as plain data.
    pub fn snapshot(&self) -> Snapshot {
        let name = |i: u32| self.nodes[i as usize].name.to_string();
        let nodes = self
            .nodes
            .iter()
            .zip(self.scenario.nodes.iter())
            .enumerate()
            .map(|(node, (n, spec))| NodeView {
                name: n.name.to_string(),
                kind: n.kind,
                pos: spec.pos,
                effect: spec.effect.clone(),
                duplicates: n.duplicates,
                instances: n
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(i, inst)| {
                        let (workers_busy, request_queue, blocked_calls) =
                            self.sync_instance_counts(node as u32, i as u32);
                        InstanceView {
                            index: i as u32,
                            status: inst.status(),
                            inbox: inst.inbox.len() as u32,
                            busy: inst.busy.is_some(),
                            pending_publishes: inst.pending.len() as u32,
                            workers_busy,
                            request_queue,
                            blocked_calls,
                        }
                    })
                    .collect(),
                metrics: n.metrics,
                processed_table: Vec::new(),
                requests: Vec::new(),
                request_outcomes: Vec::new(),
                broker: None,
                api_level: self.scenario.api_of(&spec.name).map(|a| a.level),
                server: self
                    .scenario
                    .api_of(&spec.name)
                    .and_then(|_| self.sync.servers.get(node))
                    .map(|s| s.metrics),
            })
            .collect();
        let links = self
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkView {
                index: i,
                a: name(l.a),
                b: name(l.b),
                a_to_b: l.dirs[0].faults.clone(),
                b_to_a: l.dirs[1].faults.clone(),
                a_to_b_metrics: l.dirs[0].metrics,
                b_to_a_metrics: l.dirs[1].metrics,
            })
            .collect();
        let channels = self
            .scenario
            .channels
            .iter()
            .enumerate()
            .map(|(c, spec)| ChannelView {
                name: spec.name.clone(),
                kind: spec.kind,
                broker: spec.broker.clone(),
                queues: self.channel_queues[c]
                    .iter()
                    .map(|&q| {
                        let q = &self.queues[q as usize];
                        QueueView {
                            name: q.name.to_string(),
                            consumer: name(q.consumer),
                            ready: q.ready.len() as u32,
                            unacked: q.unacked.len() as u32,
                            dead_letters: q.dead_letter_total,
                            enqueued: q.enqueued,
                            acked: q.acked,
                            redelivered: q.redelivered,
                            dead_letter_queue: Vec::new(),
                            nacked: 0,
                            lost: 0,
                        }
                    })
                    .collect(),
                durable: self.live.channels[c].durable,
                dedup_window_ms: self.live.channels[c].dedup_window_ms,
                duplicates_dropped: 0,
                dedup_ids: 0,
                failure_percent: self.live.channels[c].failure_percent,
                on_failure: spec.on_failure,
                direct_to: None,
            })
            .collect();
        let in_flight = self
            .in_flight
            .by_id()
            .into_iter()
            .map(|t| {
                let id = t.id;
                let msg = t.packet.msg();
                let kind = match t.packet {
                    Packet::Publish { .. } | Packet::Deliver(_) => msg.kind.as_str(),
                    Packet::PublishAck { .. } | Packet::Ack { .. } => "ack",
                    Packet::Direct { .. } => msg.kind.as_str(),
                    Packet::Nack { .. } => "nack",
                    Packet::PublishNack { .. } => "ack",
                    Packet::Request { .. } => msg.kind.as_str(),
                    Packet::Response { .. } => "reply",
                    Packet::Sync(ref p) => p.kind_str(),
                    Packet::SchemaNack { .. } => "nack",
                    Packet::SchemaLookup { .. } | Packet::SchemaReply { .. } => "lookup",
                    Packet::Kafka { ref body, .. } => body.view_kind(msg),
                };
                TransitView {
                    id,
                    msg: msg.id,
                    packet: t.packet.kind(),
                    kind,
                    label: msg.type_name.to_string(),
                    key: msg.headers.key.as_deref().map(str::to_string),
                    from: name(t.from.node),
                    from_instance: t.from.instance,
                    to: name(t.to.node),
                    to_instance: t.to.instance,
                    sent_at: t.sent_at,
                    arrive_at: if t.held { SimTime::MAX } else { t.arrive_at },
                    attempt: t.packet.attempt(),
                    duplicate: t.duplicate,
                    dropping: t.fate,
                    held: t.held,
                    http: match &t.packet {
                        Packet::Sync(p) => p.http_view(),
                        _ => None,
                    },
                    wire: Simulation::wire_summary(msg),
                }
            })
            .collect();
        let mut snapshot = Snapshot {
            time: self.now,
            seed: self.seed,
            scenario: self.scenario.name.clone(),
            nodes,
            links,
            channels,
            in_flight,
            metrics: self.metrics,
            events_processed: self.events_processed,
            idle: self.queue.is_empty(),
            transactional: self.transactional_view(),
            proxies: self.sync_proxy_views(),
            calls: self.sync_call_views(),
            registries: self.sync_registry_views(),
            routers: self.sync_router_views(),
            schemas: self.schema_snapshot(),
            partitioned_topics: self.kafka_views(),
            invariants: self.invariants().to_vec(),
        };
        self.fill_messaging_views(&mut snapshot);
        snapshot
    }

    // ----- advancing -----

    /// Handles the next scheduled event, moving time to it. Returns its time, or `None` when
    /// nothing is scheduled (time does not move).
    pub fn step(&mut self) -> Option<SimTime> {
        let (time, event) = self.queue.pop()?;
        self.now = self.now.max(time);
        self.events_processed += 1;
        self.handle(event);
        Some(self.now)
    }

    /// Handles every event scheduled at or before `until`, but at most `max_events` of them, then
    /// sets the time to `until` if it got there. Use `max_events` to bound the work per animation
    /// frame.
    pub fn run_until(&mut self, until: SimTime, max_events: u64) -> RunOutcome {
        let mut events = 0;
        while let Some(t) = self.next_event_time() {
            if t > until {
                break;
            }
            if events >= max_events {
                return RunOutcome {
                    events,
                    reached: false,
                };
            }
            self.step();
            events += 1;
        }
        self.now = self.now.max(until);
        RunOutcome {
            events,
            reached: true,
        }
    }

    /// As [`Simulation::run_until`], and applies the commands of `log` that this simulation has
    /// not applied yet (those from index `command_log().len()` on) at exactly the place they had:
    /// after the same number of events, at the same virtual time. Replaying a run's command log
    /// from its start (or from a clone taken earlier in the same run) reproduces it exactly.
    ///
    /// A thin form of [`crate::replay::drive`] with [`crate::replay::Target::Time`]: `reached` is
    /// false when `max_events` stopped it first *or* when the log does not fit the run (a
    /// command's place is never reached); use [`crate::replay::Replay`] to learn which.
    pub fn run_with_log(
        &mut self,
        log: &[RecordedCommand],
        until: SimTime,
        max_events: u64,
    ) -> RunOutcome {
        let before = self.events_processed;
        let out = crate::replay::drive(
            self,
            log,
            crate::replay::Target::Time(until),
            max_events,
            None,
        );
        RunOutcome {
            events: self.events_processed - before,
            reached: matches!(out, Ok((crate::replay::Stop::Done, _))),
        }
    }

    /// Moves the clock forward to `t` without handling anything (never back). The replay uses it
    /// to stand at a logged place; it is only called when no event before `t` is scheduled.
    pub(crate) fn set_clock(&mut self, t: SimTime) {
        self.now = self.now.max(t);
    }

    /// Runs until nothing is scheduled or `max_events` were handled. Returns the events handled.
    pub fn run_to_idle(&mut self, max_events: u64) -> u64 {
        let mut n = 0;
        while n < max_events && self.step().is_some() {
            n += 1;
        }
        n
    }

    // ----- commands -----

    fn node_id(&self, name: &str) -> Option<u32> {
        self.nodes
            .iter()
            .position(|n| &*n.name == name)
            .map(|i| i as u32)
    }

    fn instance_ref(&self, node: &str, instance: u32) -> Result<Ep, CommandError> {
        let n = self
            .node_id(node)
            .ok_or_else(|| CommandError::UnknownNode(node.to_string()))?;
        let count = self.nodes[n as usize].instances.len() as u32;
        if instance >= count {
            return Err(CommandError::UnknownInstance {
                node: node.to_string(),
                instance,
                count,
            });
        }
        Ok(Ep { node: n, instance })
    }

    /// (link, direction index of a->b) for two node names.
    fn link_ref(&self, a: &str, b: &str) -> Result<(u32, u8), CommandError> {
        let unknown = || CommandError::UnknownLink(a.to_string(), b.to_string());
        let na = self
            .node_id(a)
            .ok_or_else(|| CommandError::UnknownNode(a.to_string()))?;
        let nb = self
            .node_id(b)
            .ok_or_else(|| CommandError::UnknownNode(b.to_string()))?;
        self.link_of.get(&(na, nb)).copied().ok_or_else(unknown)
    }

    fn check_command(&self, cmd: &Command) -> Result<(), CommandError> {
        cmd.validate_fields("").map_err(|e| match cmd {
            Command::SetLink { .. } => CommandError::InvalidFaults(e.to_string()),
            _ => CommandError::Invalid(e.to_string()),
        })?;
        match cmd {
            Command::SetLink { a, b, faults, .. } => {
                self.link_ref(a, b)?;
                faults
                    .validate("faults")
                    .map_err(|e| CommandError::InvalidFaults(e.to_string()))
            }
            Command::Partition { a, b }
            | Command::PartitionOneway { a, b }
            | Command::Repair { a, b }
            | Command::RepairOneway { a, b }
            | Command::Hold { a, b }
            | Command::Release { a, b } => self.link_ref(a, b).map(|_| ()),
            Command::Publish {
                node,
                instance,
                message,
                ..
            } => self.check_publish(node, *instance, message).map(|_| ()),
            Command::Crash { node, instance }
            | Command::Restart { node, instance }
            | Command::Pause { node, instance }
            | Command::Resume { node, instance } => self.instance_ref(node, *instance).map(|_| ()),
            Command::StopRelay { node } => {
                let n = self
                    .node_id(node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                if self.nodes[n as usize].kind != NodeKind::Relay {
                    return Err(CommandError::NotApplicable(format!(
                        "`{node}` is not a relay"
                    )));
                }
                Ok(())
            }
            Command::RejectNextPublish { channel, count } => {
                self.check_reject(channel, *count).map(|_| ())
            }
            Command::ArmCrash { node, instance, .. } => self.check_arm_crash(node, *instance),
            Command::SetEndpoint { .. } | Command::SetBreaker { .. } => {
                self.sync_check_command(cmd)
            }
            Command::SetSchemaVersion {
                node,
                channel,
                version,
            } => self.check_set_schema_version(node, channel, version),
            Command::ConfigureBreaker { .. }
            | Command::SetRetry { .. }
            | Command::SetTimeLimiter { .. }
            | Command::SetBulkhead { .. }
            | Command::SetRateLimiter { .. }
            | Command::Scale { .. }
            | Command::SetBrokerPolicies { .. }
            | Command::SetChannel { .. }
            | Command::SetWorkload { .. }
            | Command::SetRelay { .. }
            | Command::SetConsumerGroup { .. } => self.live_check(cmd),
        }
    }

    /// Applies a command at the current virtual time and records it in the command log. On error
    /// nothing changes. Commands that change nothing (restarting a running instance) are accepted
    /// and recorded.
    pub fn apply(&mut self, cmd: Command) -> Result<(), CommandError> {
        self.check_command(&cmd)?;
        if let Command::Publish { id: Some(id), .. } = &cmd {
            self.check_chosen_id(*id)?;
        }
        if self.commands.len() >= bounds::MAX_COMMAND_LOG {
            return Err(CommandError::LogFull(bounds::MAX_COMMAND_LOG));
        }
        self.commands.push(RecordedCommand {
            at: self.now,
            events: self.events_processed,
            command: cmd.clone(),
        });
        self.execute(cmd)
    }

    /// Applies a checked command without recording it.
    fn execute(&mut self, cmd: Command) -> Result<(), CommandError> {
        if self.trace.enabled() {
            self.trace.note_command(self.now, &cmd);
            self.trace.push(
                self.now,
                TraceKind::Command {
                    command: cmd.describe(),
                },
            );
        }
        match cmd {
            Command::SetLink {
                a,
                b,
                direction,
                faults,
            } => {
                let (l, d) = self.link_ref(&a, &b)?;
                let dirs: &[u8] = match direction {
                    Direction::Both => &[0, 1],
                    Direction::AToB => &[d],
                    Direction::BToA => &[1 - d],
                };
                for &dir in dirs {
                    let was_held = self.links[l as usize].dirs[dir as usize].faults.held;
                    self.links[l as usize].dirs[dir as usize].faults = faults.clone();
                    if was_held && !faults.held {
                        self.release_dir(l, dir);
                    }
                }
            }
            Command::Partition { a, b } => {
                let (l, _) = self.link_ref(&a, &b)?;
                for dir in &mut self.links[l as usize].dirs {
                    dir.faults.partitioned = true;
                }
            }
            Command::PartitionOneway { a, b } => {
                let (l, d) = self.link_ref(&a, &b)?;
                self.links[l as usize].dirs[d as usize].faults.partitioned = true;
            }
            Command::Repair { a, b } => {
                let (l, _) = self.link_ref(&a, &b)?;
                for dir in &mut self.links[l as usize].dirs {
                    dir.faults.partitioned = false;
                }
            }
            Command::RepairOneway { a, b } => {
                let (l, d) = self.link_ref(&a, &b)?;
                self.links[l as usize].dirs[d as usize].faults.partitioned = false;
            }
            Command::Publish {
                node,
                instance,
                id,
                message,
            } => self.execute_publish(&node, instance, id, &message)?,
            Command::Hold { a, b } => {
                let (l, _) = self.link_ref(&a, &b)?;
                for dir in &mut self.links[l as usize].dirs {
                    dir.faults.held = true;
                }
            }
            Command::Release { a, b } => {
                let (l, _) = self.link_ref(&a, &b)?;
                for dir in 0..2u8 {
                    self.links[l as usize].dirs[dir as usize].faults.held = false;
                    self.release_dir(l, dir);
                }
            }
            Command::Crash { node, instance } => {
                let ep = self.instance_ref(&node, instance)?;
                self.crash(ep);
            }
            Command::Restart { node, instance } => {
                let ep = self.instance_ref(&node, instance)?;
                self.restart(ep);
            }
            Command::Pause { node, instance } => {
                let ep = self.instance_ref(&node, instance)?;
                let inst = self.inst_mut(ep);
                if inst.up {
                    inst.paused = true;
                }
            }
            Command::Resume { node, instance } => {
                let ep = self.instance_ref(&node, instance)?;
                self.resume(ep);
            }
            Command::StopRelay { node } => {
                let n = self.node_id(&node).ok_or(CommandError::UnknownNode(node))?;
                self.stop_relay(n);
            }
            Command::RejectNextPublish { channel, count } => {
                let c = self.check_reject(&channel, count)?;
                self.arm_reject(c, count);
            }
            Command::ArmCrash {
                node,
                instance,
                point,
            } => {
                let ep = self.instance_ref(&node, instance)?;
                self.arm_crash(ep, point);
            }
            cmd @ (Command::SetEndpoint { .. } | Command::SetBreaker { .. }) => {
                self.sync_execute(cmd)?;
            }
            Command::SetSchemaVersion {
                node,
                channel,
                version,
            } => self.set_schema_version(&node, &channel, &version),
            cmd @ (Command::ConfigureBreaker { .. }
            | Command::SetRetry { .. }
            | Command::SetTimeLimiter { .. }
            | Command::SetBulkhead { .. }
            | Command::SetRateLimiter { .. }
            | Command::Scale { .. }
            | Command::SetBrokerPolicies { .. }
            | Command::SetChannel { .. }
            | Command::SetWorkload { .. }
            | Command::SetRelay { .. }
            | Command::SetConsumerGroup { .. }) => self.live_execute(cmd)?,
        }
        Ok(())
    }

    // ----- internals -----

    fn inst_mut(&mut self, ep: Ep) -> &mut Instance {
        &mut self.nodes[ep.node as usize].instances[ep.instance as usize]
    }

    fn inst(&self, ep: Ep) -> &Instance {
        &self.nodes[ep.node as usize].instances[ep.instance as usize]
    }

    fn endpoint(&self, ep: Ep) -> Endpoint {
        let n = &self.nodes[ep.node as usize];
        Endpoint {
            node: Arc::clone(&n.name),
            instance: ep.instance,
            broker: n.kind != NodeKind::Service,
        }
    }

    fn schedule(&mut self, time: SimTime, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(time, seq, event);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::WorkloadTick { workload, n } => self.workload_tick(workload, n),
            Event::Scripted { workload, entry } => self.scripted(workload, entry),
            Event::TransitEnd { transit, slot } => self.transit_end(transit, slot),
            Event::ProcessDone {
                node,
                instance,
                incarnation,
            } => {
                let ep = Ep { node, instance };
                if self.gate(ep, Some(incarnation), || event.clone()) {
                    self.process_done(ep);
                }
            }
            Event::AckTimeout {
                queue,
                tag,
                incarnation,
            } => {
                let broker = Ep {
                    node: self.queues[queue as usize].broker,
                    instance: 0,
                };
                if !self.gate(broker, Some(incarnation), || event.clone()) {
                    return;
                }
                if let Some(u) = self.queues[queue as usize].unacked.remove(&tag) {
                    self.queues[queue as usize].unacked_per_instance[u.instance as usize] -= 1;
                    self.requeue(queue, u.msg, u.attempt, RedeliveryReason::AckTimeout);
                    self.dispatch(queue);
                }
            }
            Event::PublishTimeout {
                node,
                instance,
                incarnation,
                msg,
                attempt,
            } => {
                let ep = Ep { node, instance };
                if self.gate(ep, Some(incarnation), || event.clone()) {
                    self.publish_timeout(ep, msg, attempt);
                }
            }
            Event::Fault { index } => {
                let cmd = self.scenario.faults[index as usize].command.clone();
                // Checked at build time; a failure here would be a bug, and changes nothing.
                let _ = self.execute(cmd);
            }
            Event::RequestTimeout {
                node,
                instance,
                incarnation,
                msg,
            } => {
                let ep = Ep { node, instance };
                if self.gate(ep, Some(incarnation), || event.clone()) {
                    self.request_timeout(ep, msg);
                }
            }
            Event::BrokerWork { node, incarnation } => {
                let ep = Ep { node, instance: 0 };
                if self.gate(ep, Some(incarnation), || event.clone()) {
                    self.broker_work(node);
                }
            }
            Event::TxDone { .. }
            | Event::RelayTick { .. }
            | Event::RelayTimeout { .. }
            | Event::ClientTimer { .. } => self.handle_txm(event),
            Event::Sync(e) => self.sync_event(e),
            Event::SchemaLookupTimeout {
                node,
                instance,
                incarnation,
                seq,
            } => {
                let ep = Ep { node, instance };
                if self.gate(ep, Some(incarnation), || event.clone()) {
                    self.schema_lookup_timeout(ep, seq);
                }
            }
            Event::Kafka(e) => self.kafka_event(e),
        }
    }

    /// Whether an event scheduled for instance `ep` in its incarnation `incarnation` (`None`:
    /// whichever incarnation is running) runs now. `false` when the instance has restarted since
    /// (a stale incarnation) or is down: the event is dropped. `false` also when the instance is
    /// paused: `event()` is deferred and runs when it resumes.
    fn gate(&mut self, ep: Ep, incarnation: Option<u32>, event: impl FnOnce() -> Event) -> bool {
        let inst = self.inst(ep);
        if !inst.up || incarnation.is_some_and(|i| i != inst.incarnation) {
            return false;
        }
        if inst.paused {
            self.defer(ep, Deferred::Event(event()));
            return false;
        }
        true
    }

    fn defer(&mut self, ep: Ep, d: Deferred) {
        let inst = self.inst_mut(ep);
        if inst.deferred.len() < bounds::MAX_DEFERRED {
            inst.deferred.push(d);
        }
    }
}
