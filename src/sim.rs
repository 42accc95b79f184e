//! The simulation: a sans-IO discrete-event engine.
//!
//! Use it in this order: build with [`Simulation::new`]; feed commands with [`Simulation::apply`]
//! (they take effect at the current virtual time); advance with [`Simulation::step`] or
//! [`Simulation::run_until`]; read [`Simulation::snapshot`], [`Simulation::metrics`] and
//! [`Simulation::trace`]. Nothing happens between calls: no clock, no threads, no entropy.

use crate::command::Command;
use crate::error::{CommandError, ScenarioError};
use crate::message::{Headers, Message, MessageId};
use crate::network::{Direction, DropReason, LinkFaults};
use crate::rng::{stream, SimRng};
use crate::scenario::{ChannelKind, DuplicateHandling, NodeKind, Scenario};
use crate::snapshot::*;
use crate::time::SimTime;
use crate::trace::{Endpoint, PacketKind, RedeliveryReason, Trace, TraceConfig, TraceKind};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::sync::Arc;

/// Bounds on what grows while a run goes on.
pub mod bounds {
    /// Packets on the wire at once; a send beyond it is dropped as overflow.
    pub const MAX_IN_FLIGHT: usize = 100_000;
    /// Scheduled events at once (timers included); beyond it new sends are dropped.
    pub const MAX_PENDING_EVENTS: usize = 1_000_000;
    /// Dead letters kept per queue (the count goes on).
    pub const MAX_DEAD_LETTERS_KEPT: usize = 1_000;
    /// Message ids a service remembers (its processed-messages table); the oldest is forgotten
    /// beyond it.
    pub const MAX_PROCESSED_IDS: usize = 1_000_000;
    /// Commands recorded in the command log.
    pub const MAX_COMMAND_LOG: usize = 10_000;
    /// Events a paused instance buffers.
    pub const MAX_DEFERRED: usize = 100_000;
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
    TransitEnd {
        transit: u64,
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
}

impl Packet {
    fn kind(&self) -> PacketKind {
        match self {
            Packet::Publish { .. } => PacketKind::Publish,
            Packet::PublishAck { .. } => PacketKind::PublishAck,
            Packet::Deliver(_) => PacketKind::Deliver,
            Packet::Ack { .. } => PacketKind::Ack,
        }
    }
    fn msg(&self) -> &Arc<Message> {
        match self {
            Packet::Publish { msg, .. }
            | Packet::PublishAck { msg, .. }
            | Packet::Ack { msg, .. } => msg,
            Packet::Deliver(d) => &d.msg,
        }
    }
    fn attempt(&self) -> u32 {
        match self {
            Packet::Publish { attempt, .. } | Packet::PublishAck { attempt, .. } => *attempt,
            Packet::Deliver(d) => d.attempt,
            Packet::Ack { .. } => 1,
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
    /// The processed-messages table (ids in order of first processing), shared by all instances.
    processed_ids: BTreeSet<MessageId>,
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
    held: Vec<u64>,
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
    queue: BinaryHeap<ScheduledBox>,
    nodes: Vec<Node>,
    links: Vec<Link>,
    link_of: BTreeMap<(u32, u32), (u32, u8)>,
    channel_queues: Vec<Vec<u32>>,
    channel_broker: Vec<u32>,
    queues: Vec<Queue>,
    workloads: Vec<Workload>,
    in_flight: BTreeMap<u64, Transit>,
    next_transit: u64,
    next_msg: u64,
    metrics: Metrics,
    trace: Trace,
    commands: Vec<RecordedCommand>,
    events_processed: u64,
}

/// A scheduled event, ordered by (time, sequence number): ties at one time run in the order they
/// were scheduled.
#[derive(Clone, Debug)]
struct ScheduledBox(SchedKey, Event);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SchedKey(SimTime, u64);
impl PartialEq for ScheduledBox {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for ScheduledBox {}
impl PartialOrd for ScheduledBox {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ScheduledBox {
    // Reversed: `BinaryHeap` is a max-heap and the earliest (time, seq) must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

fn substitute(text: &str, n: u64) -> String {
    text.replace("{n}", &n.to_string())
}

fn substitute_value(v: &serde_json::Value, n: u64) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if s.contains("{n}") => {
            serde_json::Value::String(substitute(s, n))
        }
        serde_json::Value::Array(a) => a.iter().map(|x| substitute_value(x, n)).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), substitute_value(x, n)))
            .collect(),
        other => other.clone(),
    }
}

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
                processing_us: n.processing_ms.saturating_mul(1000),
                duplicates: n.duplicates,
                instances: (0..n.instances).map(|_| Instance::new()).collect(),
                processed_ids: BTreeSet::new(),
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
            let broker = idx(&c.broker);
            let mut ids = Vec::new();
            for consumer in &c.consumers {
                let name = match c.kind {
                    ChannelKind::Queue => c.name.clone(),
                    ChannelKind::Topic => format!("{}/{}", c.name, consumer),
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
            })
            .collect();
        let mut sim = Simulation {
            scenario: Arc::new(scenario),
            seed,
            now: SimTime::ZERO,
            next_seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            links,
            link_of,
            channel_queues,
            channel_broker,
            queues,
            workloads,
            in_flight: BTreeMap::new(),
            next_transit: 1,
            next_msg: 1,
            metrics: Metrics::default(),
            trace: Trace::new(trace),
            commands: Vec::new(),
            events_processed: 0,
        };
        // Check the fault schedule against the topology before anything runs.
        for (i, f) in sim.scenario.faults.iter().enumerate() {
            sim.check_command(&f.command)
                .map_err(|e| ScenarioError::Invalid {
                    field: format!("faults[{i}].command"),
                    message: e.to_string(),
                })?;
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
        self.queue.peek().map(|s| s.0 .0)
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
            .map(|(n, spec)| NodeView {
                name: n.name.to_string(),
                kind: n.kind,
                pos: spec.pos,
                effect: spec.effect.clone(),
                duplicates: n.duplicates,
                instances: n
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(i, inst)| InstanceView {
                        index: i as u32,
                        status: inst.status(),
                        inbox: inst.inbox.len() as u32,
                        busy: inst.busy.is_some(),
                        pending_publishes: inst.pending.len() as u32,
                    })
                    .collect(),
                metrics: n.metrics,
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
                        }
                    })
                    .collect(),
            })
            .collect();
        let in_flight = self
            .in_flight
            .iter()
            .map(|(&id, t)| {
                let msg = t.packet.msg();
                let kind = match t.packet {
                    Packet::Publish { .. } | Packet::Deliver(_) => msg.kind.as_str(),
                    Packet::PublishAck { .. } | Packet::Ack { .. } => "ack",
                };
                TransitView {
                    id,
                    msg: msg.id,
                    packet: t.packet.kind(),
                    kind,
                    label: msg.type_name.clone(),
                    key: msg.headers.key.clone(),
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
                }
            })
            .collect();
        Snapshot {
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
        }
    }

    // ----- advancing -----

    /// Handles the next scheduled event, moving time to it. Returns its time, or `None` when
    /// nothing is scheduled (time does not move).
    pub fn step(&mut self) -> Option<SimTime> {
        let ScheduledBox(SchedKey(time, _), event) = self.queue.pop()?;
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
    /// A command that fails is skipped (it cannot fail when `log` came from this scenario).
    pub fn run_with_log(
        &mut self,
        log: &[RecordedCommand],
        until: SimTime,
        max_events: u64,
    ) -> RunOutcome {
        let mut events = 0;
        while let Some(rc) = log.get(self.commands.len()).filter(|rc| rc.at <= until) {
            while self.events_processed < rc.events {
                if events >= max_events || self.step().is_none() {
                    return RunOutcome {
                        events,
                        reached: false,
                    };
                }
                events += 1;
            }
            self.now = self.now.max(rc.at);
            if self.apply(rc.command.clone()).is_err() {
                // Keep positions aligned with the log even if a foreign command is refused.
                self.commands.push(rc.clone());
            }
        }
        let rest = self.run_until(until, max_events.saturating_sub(events));
        RunOutcome {
            events: events + rest.events,
            reached: rest.reached,
        }
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
            | Command::Hold { a, b }
            | Command::Release { a, b } => self.link_ref(a, b).map(|_| ()),
            Command::Crash { node, instance }
            | Command::Restart { node, instance }
            | Command::Pause { node, instance }
            | Command::Resume { node, instance } => self.instance_ref(node, *instance).map(|_| ()),
        }
    }

    /// Applies a command at the current virtual time and records it in the command log. On error
    /// nothing changes. Commands that change nothing (restarting a running instance) are accepted
    /// and recorded.
    pub fn apply(&mut self, cmd: Command) -> Result<(), CommandError> {
        self.check_command(&cmd)?;
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
            broker: n.kind == NodeKind::Broker,
        }
    }

    fn schedule(&mut self, time: SimTime, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(ScheduledBox(SchedKey(time, seq), event));
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::WorkloadTick { workload, n } => self.workload_tick(workload, n),
            Event::TransitEnd { transit } => self.transit_end(transit),
            Event::ProcessDone {
                node,
                instance,
                incarnation,
            } => {
                let ep = Ep { node, instance };
                let inst = self.inst(ep);
                if inst.incarnation != incarnation || !inst.up {
                    return;
                }
                if inst.paused {
                    self.defer(ep, Deferred::Event(event));
                    return;
                }
                self.process_done(ep);
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
                let inst = self.inst(broker);
                if inst.incarnation != incarnation || !inst.up {
                    return;
                }
                if inst.paused {
                    self.defer(broker, Deferred::Event(event));
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
                let inst = self.inst(ep);
                if inst.incarnation != incarnation || !inst.up {
                    return;
                }
                if inst.paused {
                    self.defer(ep, Deferred::Event(event));
                    return;
                }
                self.publish_timeout(ep, msg, attempt);
            }
            Event::Fault { index } => {
                let cmd = self.scenario.faults[index as usize].command.clone();
                // Checked at build time; a failure here would be a bug, and changes nothing.
                let _ = self.execute(cmd);
            }
        }
    }

    fn defer(&mut self, ep: Ep, d: Deferred) {
        let inst = self.inst_mut(ep);
        if inst.deferred.len() < bounds::MAX_DEFERRED {
            inst.deferred.push(d);
        }
    }

    fn workload_tick(&mut self, w: u32, n: u64) {
        let scenario = Arc::clone(&self.scenario);
        let spec = &scenario.workloads[w as usize];
        let node = self.workloads[w as usize].node;
        let count = self.nodes[node as usize].instances.len() as u32;
        // Round robin over running instances.
        let start = self.workloads[w as usize].next_instance;
        let chosen = (0..count).map(|k| (start + k) % count).find(|&i| {
            let inst = &self.nodes[node as usize].instances[i as usize];
            inst.up && !inst.paused
        });
        match chosen {
            None => {
                self.nodes[node as usize].metrics.skipped += 1;
                if self.trace.enabled() {
                    let node = Arc::clone(&self.nodes[node as usize].name);
                    self.trace.push(self.now, TraceKind::Skipped { node });
                }
            }
            Some(i) => {
                self.workloads[w as usize].next_instance = (i + 1) % count;
                let ep = Ep { node, instance: i };
                for t in &spec.messages {
                    let id = MessageId(self.next_msg);
                    self.next_msg += 1;
                    let channel = scenario
                        .channels
                        .iter()
                        .position(|c| c.name == t.channel)
                        .unwrap_or(0) as u32;
                    let msg = Arc::new(Message {
                        id,
                        kind: t.kind,
                        type_name: t.type_name.clone(),
                        channel: t.channel.clone(),
                        headers: Headers {
                            message_id: id,
                            correlation_id: None,
                            reply_to: None,
                            key: t.key.as_deref().map(|k| substitute(k, n)),
                        },
                        payload: substitute_value(&t.payload, n),
                    });
                    self.metrics.published += 1;
                    self.nodes[node as usize].metrics.published += 1;
                    self.publish(ep, channel, msg, 1);
                }
            }
        }
        if n < spec.count {
            let wl = &mut self.workloads[w as usize];
            let delay = wl
                .rng
                .jittered(spec.every_ms * 1000, spec.jitter_ms * 1000)
                .max(1);
            self.schedule(
                self.now.plus_us(delay),
                Event::WorkloadTick {
                    workload: w,
                    n: n + 1,
                },
            );
        }
    }

    fn publish(&mut self, ep: Ep, channel: u32, msg: Arc<Message>, attempt: u32) {
        let broker = Ep {
            node: self.channel_broker[channel as usize],
            instance: 0,
        };
        let incarnation = self.inst(ep).incarnation;
        let id = msg.id;
        self.inst_mut(ep).pending.insert(
            id,
            PendingPublish {
                channel,
                msg: Arc::clone(&msg),
                attempt,
            },
        );
        self.send(
            ep,
            broker,
            Packet::Publish {
                channel,
                msg,
                attempt,
            },
        );
        let timeout = self.scenario.policies.publish_timeout_ms;
        self.schedule(
            self.now.plus_ms(timeout),
            Event::PublishTimeout {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                msg: id,
                attempt,
            },
        );
    }

    fn publish_timeout(&mut self, ep: Ep, id: MessageId, attempt: u32) {
        let Some(p) = self.inst(ep).pending.get(&id) else {
            return;
        };
        if p.attempt != attempt {
            return;
        }
        let p = p.clone();
        let max = self.scenario.policies.publish_max_attempts;
        if attempt >= max {
            self.inst_mut(ep).pending.remove(&id);
            self.metrics.publish_failed += 1;
            self.nodes[ep.node as usize].metrics.publish_failed += 1;
            if self.trace.enabled() {
                let at = self.endpoint(ep);
                self.trace.push(
                    self.now,
                    TraceKind::GiveUp {
                        at,
                        msg: id,
                        attempts: attempt,
                    },
                );
            }
            return;
        }
        self.metrics.retried += 1;
        self.nodes[ep.node as usize].metrics.retried += 1;
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::Retry {
                    at,
                    msg: id,
                    attempt: attempt + 1,
                },
            );
        }
        self.publish(ep, p.channel, p.msg, attempt + 1);
    }

    /// Puts a packet on the wire from `from` to `to`, drawing its fate from the link direction.
    fn send(&mut self, from: Ep, to: Ep, packet: Packet) {
        let Some(&(link, dir)) = self.link_of.get(&(from.node, to.node)) else {
            return; // validated: every sender/receiver pair is linked
        };
        self.metrics.sent += 1;
        let now = self.now;
        let d = &mut self.links[link as usize].dirs[dir as usize];
        d.metrics.sent += 1;
        let f = &d.faults;
        let overloaded = self.in_flight.len() >= bounds::MAX_IN_FLIGHT
            || self.queue.len() >= bounds::MAX_PENDING_EVENTS;
        let fate = if overloaded {
            Some(DropReason::Overflow)
        } else if f.partitioned {
            Some(DropReason::Partition)
        } else if d.rng.chance_percent(f.loss_percent) {
            Some(DropReason::Loss)
        } else {
            None
        };
        let latency = d.rng.jittered(f.latency_ms * 1000, f.jitter_ms * 1000);
        let copy = fate.is_none() && d.rng.chance_percent(f.duplicate_percent);
        let copy_latency = if copy {
            d.rng.jittered(f.latency_ms * 1000, f.jitter_ms * 1000)
        } else {
            0
        };
        let held = fate.is_none() && f.held;
        let arrive_at = match fate {
            Some(_) => now.plus_us(latency / 2),
            None => now.plus_us(latency),
        };
        let first = Transit {
            from,
            to,
            link,
            dir,
            packet,
            sent_at: now,
            arrive_at,
            duplicate: false,
            fate,
            held,
        };
        let second = copy.then(|| Transit {
            arrive_at: now.plus_us(copy_latency),
            duplicate: true,
            ..first.clone()
        });
        self.launch(first);
        if let Some(t) = second {
            self.metrics.duplicated += 1;
            self.links[link as usize].dirs[dir as usize]
                .metrics
                .duplicated += 1;
            self.launch(t);
        }
    }

    fn launch(&mut self, t: Transit) {
        let id = self.next_transit;
        self.next_transit += 1;
        if self.trace.enabled() {
            let what = TraceKind::Send {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
                attempt: t.packet.attempt(),
                duplicate: t.duplicate,
            };
            self.trace.push(self.now, what);
        }
        if t.fate == Some(DropReason::Overflow) {
            // Never enters the wire.
            self.drop_transit(id, &t, DropReason::Overflow);
            return;
        }
        if t.held {
            self.links[t.link as usize].dirs[t.dir as usize]
                .held
                .push(id);
        } else {
            self.schedule(t.arrive_at, Event::TransitEnd { transit: id });
        }
        self.in_flight.insert(id, t);
    }

    fn release_dir(&mut self, link: u32, dir: u8) {
        let held = std::mem::take(&mut self.links[link as usize].dirs[dir as usize].held);
        for id in held {
            let d = &mut self.links[link as usize].dirs[dir as usize];
            let latency = d
                .rng
                .jittered(d.faults.latency_ms * 1000, d.faults.jitter_ms * 1000);
            let now = self.now;
            if let Some(t) = self.in_flight.get_mut(&id) {
                t.held = false;
                t.sent_at = now;
                t.arrive_at = now.plus_us(latency);
                let at = t.arrive_at;
                self.schedule(at, Event::TransitEnd { transit: id });
                if self.trace.enabled() {
                    self.trace.push(now, TraceKind::Release { transit: id });
                }
            }
        }
    }

    fn drop_transit(&mut self, id: u64, t: &Transit, reason: DropReason) {
        self.metrics.dropped += 1;
        self.links[t.link as usize].dirs[t.dir as usize]
            .metrics
            .dropped += 1;
        if self.trace.enabled() {
            let what = TraceKind::Drop {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
                reason,
            };
            self.trace.push(self.now, what);
        }
    }

    fn transit_end(&mut self, id: u64) {
        let Some(t) = self.in_flight.remove(&id) else {
            return;
        };
        if let Some(reason) = t.fate {
            self.drop_transit(id, &t, reason);
            return;
        }
        let inst = self.inst(t.to);
        if !inst.up {
            self.drop_transit(id, &t, DropReason::NodeDown);
            return;
        }
        self.metrics.delivered += 1;
        self.links[t.link as usize].dirs[t.dir as usize]
            .metrics
            .delivered += 1;
        if self.trace.enabled() {
            let what = TraceKind::Arrive {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
            };
            self.trace.push(self.now, what);
        }
        if self.inst(t.to).paused {
            let to = t.to;
            self.defer(to, Deferred::Receive(t));
            return;
        }
        self.receive(t);
    }

    fn receive(&mut self, t: Transit) {
        match t.packet {
            Packet::Publish {
                channel,
                msg,
                attempt,
            } => {
                let max = self.scenario.policies.max_queue_length as usize;
                let queues = self.channel_queues[channel as usize].clone();
                for &q in &queues {
                    let queue = &mut self.queues[q as usize];
                    if queue.ready.len() >= max {
                        self.metrics.dropped += 1;
                        if self.trace.enabled() {
                            let what = TraceKind::Overflow {
                                queue: Arc::clone(&queue.name),
                                msg: msg.id,
                            };
                            self.trace.push(self.now, what);
                        }
                        continue;
                    }
                    queue.ready.push_back((Arc::clone(&msg), 1));
                    queue.enqueued += 1;
                    if self.trace.enabled() {
                        let what = TraceKind::Enqueue {
                            queue: Arc::clone(&queue.name),
                            msg: msg.id,
                            depth: queue.ready.len() as u32,
                        };
                        self.trace.push(self.now, what);
                    }
                }
                self.send(t.to, t.from, Packet::PublishAck { msg, attempt });
                for q in queues {
                    self.dispatch(q);
                }
            }
            Packet::PublishAck { msg, .. } => {
                if self.inst_mut(t.to).pending.remove(&msg.id).is_some() {
                    self.nodes[t.to.node as usize].metrics.confirmed += 1;
                }
            }
            Packet::Deliver(d) => {
                let max = self.scenario.policies.max_inbox as usize;
                let inst = self.inst_mut(t.to);
                if inst.inbox.len() >= max {
                    self.metrics.dropped += 1;
                    return;
                }
                inst.inbox.push_back(d);
                self.try_start(t.to);
            }
            Packet::Ack { queue, tag, msg } => {
                let q = &mut self.queues[queue as usize];
                let outstanding = match q.unacked.remove(&tag) {
                    Some(u) => {
                        q.unacked_per_instance[u.instance as usize] -= 1;
                        q.acked += 1;
                        true
                    }
                    None => false,
                };
                if outstanding {
                    self.metrics.acked += 1;
                }
                if self.trace.enabled() {
                    let what = TraceKind::Acked {
                        queue: Arc::clone(&self.queues[queue as usize].name),
                        msg: msg.id,
                        outstanding,
                    };
                    self.trace.push(self.now, what);
                }
                if outstanding {
                    self.dispatch(queue);
                }
            }
        }
    }

    fn try_start(&mut self, ep: Ep) {
        let processing = self.nodes[ep.node as usize].processing_us;
        let inst = self.inst_mut(ep);
        if !inst.up || inst.paused || inst.busy.is_some() {
            return;
        }
        let Some(d) = inst.inbox.pop_front() else {
            return;
        };
        inst.busy = Some(d);
        let incarnation = inst.incarnation;
        self.schedule(
            self.now.plus_us(processing),
            Event::ProcessDone {
                node: ep.node,
                instance: ep.instance,
                incarnation,
            },
        );
    }

    fn process_done(&mut self, ep: Ep) {
        let Some(d) = self.inst_mut(ep).busy.take() else {
            return;
        };
        let node = &mut self.nodes[ep.node as usize];
        node.metrics.processed += 1;
        self.metrics.processed += 1;
        let seen = node.processed_ids.contains(&d.msg.id);
        if !seen {
            node.metrics.distinct += 1;
            node.processed_ids.insert(d.msg.id);
            if node.processed_ids.len() > bounds::MAX_PROCESSED_IDS {
                node.processed_ids.pop_first();
            }
        }
        let applied = !(seen && node.duplicates == DuplicateHandling::Dedup);
        if applied {
            node.metrics.effects += 1;
            self.metrics.effects += 1;
        } else {
            node.metrics.duplicates_discarded += 1;
            self.metrics.duplicates_discarded += 1;
        }
        if self.trace.enabled() {
            let what = TraceKind::Process {
                at: self.endpoint(ep),
                msg: d.msg.id,
                attempt: d.attempt,
                applied,
            };
            self.trace.push(self.now, what);
        }
        let broker = Ep {
            node: self.queues[d.queue as usize].broker,
            instance: 0,
        };
        self.send(
            ep,
            broker,
            Packet::Ack {
                queue: d.queue,
                tag: d.tag,
                msg: d.msg,
            },
        );
        self.try_start(ep);
    }

    fn requeue(&mut self, q: u32, msg: Arc<Message>, attempt: u32, reason: RedeliveryReason) {
        let max = self.scenario.policies.max_delivery_attempts;
        let queue = &mut self.queues[q as usize];
        if attempt >= max {
            queue.dead_letter_total += 1;
            if queue.dead_letters.len() >= bounds::MAX_DEAD_LETTERS_KEPT {
                queue.dead_letters.pop_front();
            }
            queue.dead_letters.push_back((Arc::clone(&msg), attempt));
            self.metrics.dead_lettered += 1;
            if self.trace.enabled() {
                let what = TraceKind::DeadLetter {
                    queue: Arc::clone(&queue.name),
                    msg: msg.id,
                    attempts: attempt,
                };
                self.trace.push(self.now, what);
            }
            return;
        }
        queue.redelivered += 1;
        self.metrics.redelivered += 1;
        if self.trace.enabled() {
            let what = TraceKind::Redeliver {
                queue: Arc::clone(&queue.name),
                msg: msg.id,
                attempt: attempt + 1,
                reason,
            };
            self.trace.push(self.now, what);
        }
        queue.ready.push_front((msg, attempt + 1));
    }

    /// Hands ready messages of queue `q` to consumer instances with room under their prefetch,
    /// round robin. The broker knows only which consumers are connected (instance not crashed).
    fn dispatch(&mut self, q: u32) {
        let broker = Ep {
            node: self.queues[q as usize].broker,
            instance: 0,
        };
        let b = self.inst(broker);
        if !b.up || b.paused {
            return;
        }
        let incarnation = b.incarnation;
        let prefetch = self.scenario.policies.prefetch;
        let ack_timeout = self.scenario.policies.ack_timeout_ms;
        loop {
            let queue = &self.queues[q as usize];
            if queue.ready.is_empty() {
                return;
            }
            let consumer = queue.consumer;
            let count = queue.unacked_per_instance.len() as u32;
            let start = queue.round_robin;
            let pick = (0..count).map(|k| (start + k) % count).find(|&i| {
                self.nodes[consumer as usize].instances[i as usize].up
                    && queue.unacked_per_instance[i as usize] < prefetch
            });
            let Some(i) = pick else {
                return;
            };
            let queue = &mut self.queues[q as usize];
            let Some((msg, attempt)) = queue.ready.pop_front() else {
                return;
            };
            queue.round_robin = (i + 1) % count;
            let tag = queue.next_tag;
            queue.next_tag += 1;
            queue.unacked.insert(
                tag,
                Unacked {
                    msg: Arc::clone(&msg),
                    attempt,
                    instance: i,
                },
            );
            queue.unacked_per_instance[i as usize] += 1;
            self.send(
                broker,
                Ep {
                    node: consumer,
                    instance: i,
                },
                Packet::Deliver(Delivery {
                    queue: q,
                    tag,
                    msg,
                    attempt,
                }),
            );
            self.schedule(
                self.now.plus_ms(ack_timeout),
                Event::AckTimeout {
                    queue: q,
                    tag,
                    incarnation,
                },
            );
        }
    }

    fn queues_consumed_by(&self, node: u32) -> Vec<u32> {
        (0..self.queues.len() as u32)
            .filter(|&q| self.queues[q as usize].consumer == node)
            .collect()
    }

    fn queues_on_broker(&self, node: u32) -> Vec<u32> {
        (0..self.queues.len() as u32)
            .filter(|&q| self.queues[q as usize].broker == node)
            .collect()
    }

    /// Requeues every unacked delivery of `q` (to `instance` only, if given).
    fn requeue_unacked(&mut self, q: u32, instance: Option<u32>, reason: RedeliveryReason) {
        let tags: Vec<u64> = self.queues[q as usize]
            .unacked
            .iter()
            .filter(|(_, u)| instance.is_none_or(|i| u.instance == i))
            .map(|(&t, _)| t)
            .collect();
        // Requeue newest first so that push_front keeps the original order at the head.
        for tag in tags.into_iter().rev() {
            if let Some(u) = self.queues[q as usize].unacked.remove(&tag) {
                self.queues[q as usize].unacked_per_instance[u.instance as usize] -= 1;
                self.requeue(q, u.msg, u.attempt, reason);
            }
        }
    }

    fn crash(&mut self, ep: Ep) {
        let inst = self.inst_mut(ep);
        if !inst.up {
            return;
        }
        inst.up = false;
        inst.paused = false;
        inst.incarnation += 1;
        inst.inbox.clear();
        inst.busy = None;
        inst.deferred.clear();
        inst.pending.clear();
        if self.nodes[ep.node as usize].kind == NodeKind::Service {
            // The consumer's connections close: a running broker requeues what it had delivered.
            for q in self.queues_consumed_by(ep.node) {
                let b = self.inst(Ep {
                    node: self.queues[q as usize].broker,
                    instance: 0,
                });
                if b.up && !b.paused {
                    self.requeue_unacked(q, Some(ep.instance), RedeliveryReason::ConnectionReset);
                    self.dispatch(q);
                }
            }
        }
    }

    fn restart(&mut self, ep: Ep) {
        let inst = self.inst_mut(ep);
        if inst.up {
            return;
        }
        inst.up = true;
        match self.nodes[ep.node as usize].kind {
            NodeKind::Service => {
                for q in self.queues_consumed_by(ep.node) {
                    self.dispatch(q);
                }
            }
            NodeKind::Broker => {
                // Durable queues survive; unacked deliveries of the old incarnation go back.
                for q in self.queues_on_broker(ep.node) {
                    self.requeue_unacked(q, None, RedeliveryReason::BrokerRestart);
                    self.dispatch(q);
                }
            }
        }
    }

    fn resume(&mut self, ep: Ep) {
        let inst = self.inst_mut(ep);
        if !inst.up || !inst.paused {
            return;
        }
        inst.paused = false;
        let deferred = std::mem::take(&mut inst.deferred);
        for d in deferred {
            match d {
                Deferred::Receive(t) => self.receive(t),
                Deferred::Event(e) => self.schedule(self.now, e),
            }
        }
        match self.nodes[ep.node as usize].kind {
            NodeKind::Service => self.try_start(ep),
            NodeKind::Broker => {
                for q in self.queues_on_broker(ep.node) {
                    self.dispatch(q);
                }
            }
        }
    }
}
