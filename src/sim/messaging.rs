//! State of the asynchronous-messaging features (brokerless channels, requests and replies,
//! handler failures and nacks, idempotent and deduplicating receivers' tables, broker capacity,
//! durability, duplicate detection and dead-letter reasons), kept beside the core state so that
//! the core structures stay as they were. Also: what a crash loses, and the snapshot views.

use super::*;
use crate::scenario::MessageTemplate;

/// What the asynchronous-messaging features keep, per node, queue and channel.
#[derive(Clone, Debug)]
pub(super) struct Messaging {
    pub(super) nodes: Vec<NodeState>,
    pub(super) queues: Vec<QueueState>,
    pub(super) channels: Vec<ChannelState>,
    /// Reply type by request type (from the workload templates).
    pub(super) reply_types: BTreeMap<String, String>,
    /// True while a broker handles a packet taken from its backlog, so that `receive` does not
    /// put it in the backlog again.
    pub(super) in_service: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct NodeState {
    /// Visible rows of the processed-messages (dedup) or state (idempotent) table.
    pub(super) table: VecDeque<ProcessedRow>,
    /// Keys an idempotent receiver has set (its state table).
    pub(super) keys: BTreeSet<Arc<str>>,
    /// Pending requests by request id.
    pub(super) requests: BTreeMap<MessageId, PendingRequest>,
    /// How finished requests ended (bounded; the smallest, oldest, ids are forgotten first).
    pub(super) finished: BTreeMap<MessageId, RequestOutcome>,
    /// Visible finished requests.
    pub(super) outcomes: VecDeque<RequestOutcomeView>,
    /// A broker's backlog: packets received, waiting for its worker.
    pub(super) backlog: VecDeque<Transit>,
    pub(super) busy_until: SimTime,
    pub(super) backlog_max: u32,
    pub(super) handled: u64,
    pub(super) backlog_lost: u64,
}

#[derive(Clone, Debug)]
pub(super) struct PendingRequest {
    pub(super) instance: u32,
    pub(super) type_name: String,
    pub(super) sent_at: SimTime,
    pub(super) until: SimTime,
    pub(super) collect: bool,
    pub(super) expected: u32,
    /// Responding services (node ids) in order of arrival.
    pub(super) responders: Vec<u32>,
}

#[derive(Clone, Debug)]
pub(super) struct QueueState {
    pub(super) channel: u32,
    pub(super) dlq: VecDeque<DeadLetterView>,
    pub(super) nacked: u64,
    pub(super) lost: u64,
}

#[derive(Clone, Debug)]
pub(super) struct ChannelState {
    /// Handler failures of this channel's consumers.
    pub(super) rng: SimRng,
    /// For a direct channel: the receiving service.
    pub(super) direct_to: Option<u32>,
    /// Round robin over the receiver's instances (direct channels).
    pub(super) next_instance: u32,
    /// Broker-side duplicate detection: first time each id was seen, and the ids in that order.
    pub(super) seen: BTreeMap<MessageId, SimTime>,
    pub(super) seen_order: VecDeque<(SimTime, MessageId)>,
    pub(super) duplicates_dropped: u64,
    /// Replies a request on this channel can get.
    pub(super) responders: u32,
}

impl Messaging {
    pub(super) fn new(scenario: &Scenario, seed: u64) -> Messaging {
        let node = |name: &str| scenario.node_index(name).unwrap_or(0) as u32;
        let mut queues = Vec::new();
        let channels = scenario
            .channels
            .iter()
            .enumerate()
            .map(|(c, spec)| {
                let direct = spec.kind == ChannelKind::Direct;
                if !direct {
                    for _ in &spec.consumers {
                        queues.push(QueueState {
                            channel: c as u32,
                            dlq: VecDeque::new(),
                            nacked: 0,
                            lost: 0,
                        });
                    }
                }
                ChannelState {
                    rng: SimRng::new(seed, stream::HANDLER_BASE + c as u64),
                    direct_to: if direct {
                        spec.consumers.first().map(|n| node(n))
                    } else {
                        None
                    },
                    next_instance: 0,
                    seen: BTreeMap::new(),
                    seen_order: VecDeque::new(),
                    duplicates_dropped: 0,
                    responders: match spec.kind {
                        ChannelKind::Topic => spec.consumers.len() as u32,
                        _ => spec.consumers.len().min(1) as u32,
                    },
                }
            })
            .collect();
        let mut reply_types = BTreeMap::new();
        for t in scenario
            .workloads
            .iter()
            .flat_map(|w| w.messages.iter())
            .filter(|t: &&MessageTemplate| t.reply_to.is_some())
        {
            if let Some(r) = &t.reply_type {
                reply_types
                    .entry(t.type_name.clone())
                    .or_insert_with(|| r.clone());
            }
        }
        Messaging {
            nodes: vec![NodeState::default(); scenario.nodes.len()],
            queues,
            channels,
            reply_types,
            in_service: false,
        }
    }
}

impl Simulation {
    /// What a crash loses beyond the core state: a service instance's brokerless messages and
    /// pending requests; a broker's backlog and its non-durable queues. Called before the crash
    /// changes anything; does nothing for an instance that is already down.
    pub(super) fn before_crash(&mut self, ep: Ep) {
        if !self.inst(ep).up {
            return;
        }
        match self.nodes[ep.node as usize].kind {
            NodeKind::Service => {
                let inst = self.inst(ep);
                let in_memory = inst
                    .inbox
                    .iter()
                    .chain(inst.busy.iter())
                    .filter(|d| d.queue == direct::DIRECT_QUEUE)
                    .count();
                let deferred = inst
                    .deferred
                    .iter()
                    .filter(|d| {
                        matches!(
                            d,
                            Deferred::Receive(Transit {
                                packet: Packet::Direct { .. },
                                ..
                            })
                        )
                    })
                    .count();
                let direct = (in_memory + deferred) as u32;
                let abandoned: Vec<MessageId> = self.messaging.nodes[ep.node as usize]
                    .requests
                    .iter()
                    .filter(|(_, r)| r.instance == ep.instance)
                    .map(|(&id, _)| id)
                    .collect();
                for &id in &abandoned {
                    self.finish_request(ep.node, id, RequestOutcome::Abandoned);
                }
                self.metrics.direct_lost += direct as u64;
                self.metrics.requests_abandoned += abandoned.len() as u64;
                if (direct > 0 || !abandoned.is_empty()) && self.trace.enabled() {
                    let what = TraceKind::InstanceLost {
                        at: self.endpoint(ep),
                        direct,
                        requests: abandoned.len() as u32,
                    };
                    self.trace.push(self.now, what);
                }
            }
            // Relays, registries, routers and registrars keep their own state (relay.rs, rpc.rs).
            NodeKind::Relay
            | NodeKind::Registry
            | NodeKind::Router
            | NodeKind::Registrar
            | NodeKind::SchemaRegistry => {}
            NodeKind::Broker => {
                let now = self.now;
                let ns = &mut self.messaging.nodes[ep.node as usize];
                let packets = ns.backlog.len() as u32;
                ns.backlog.clear();
                ns.busy_until = ns.busy_until.min(now);
                ns.backlog_lost += packets as u64;
                self.metrics.backlog_lost += packets as u64;
                if packets > 0 && self.trace.enabled() {
                    let broker = Arc::clone(&self.nodes[ep.node as usize].name);
                    self.trace
                        .push(now, TraceKind::BacklogLost { broker, packets });
                }
                for q in self.queues_on_broker(ep.node) {
                    let c = self.messaging.queues[q as usize].channel as usize;
                    if self.live.channels[c].durable {
                        continue;
                    }
                    let queue = &mut self.queues[q as usize];
                    let messages = (queue.ready.len() + queue.unacked.len()) as u32;
                    queue.ready.clear();
                    queue.unacked.clear();
                    queue.unacked_per_instance.iter_mut().for_each(|n| *n = 0);
                    let name = Arc::clone(&queue.name);
                    self.messaging.queues[q as usize].lost += messages as u64;
                    self.metrics.broker_lost += messages as u64;
                    // A transient channel's duplicate-detection memory goes with it.
                    let ch = &mut self.messaging.channels[c];
                    ch.seen.clear();
                    ch.seen_order.clear();
                    if messages > 0 && self.trace.enabled() {
                        self.trace.push(
                            now,
                            TraceKind::QueueLost {
                                queue: name,
                                messages,
                            },
                        );
                    }
                }
            }
        }
    }

    /// Fills the asynchronous-messaging parts of a snapshot (nodes, queues, channels in the
    /// snapshot's order, which is the engine's).
    pub(super) fn fill_messaging_views(&self, snap: &mut Snapshot) {
        let name = |i: u32| self.nodes[i as usize].name.to_string();
        for (i, view) in snap.nodes.iter_mut().enumerate() {
            let ns = &self.messaging.nodes[i];
            view.processed_table = ns.table.iter().cloned().collect();
            view.requests = ns
                .requests
                .iter()
                .take(MAX_REQUEST_ROWS)
                .map(|(&msg, r)| RequestView {
                    msg,
                    type_name: r.type_name.clone(),
                    instance: r.instance,
                    sent_at: r.sent_at,
                    until: r.until,
                    collect: r.collect,
                    replies: r.responders.len() as u32,
                    expected: r.expected,
                })
                .collect();
            view.request_outcomes = ns.outcomes.iter().cloned().collect();
            if self.nodes[i].kind == NodeKind::Broker {
                view.broker = Some(BrokerView {
                    service_time_us: self.scenario.policies.broker_service_time_us,
                    backlog: ns.backlog.len() as u32,
                    backlog_max: ns.backlog_max,
                    handled: ns.handled,
                    busy_until: ns.busy_until,
                    backlog_lost: ns.backlog_lost,
                });
            }
        }
        for (c, view) in snap.channels.iter_mut().enumerate() {
            let ch = &self.messaging.channels[c];
            view.duplicates_dropped = ch.duplicates_dropped;
            view.dedup_ids = ch.seen.len() as u32;
            view.direct_to = ch.direct_to.map(name);
            for (k, qv) in view.queues.iter_mut().enumerate() {
                let q = self.channel_queues[c][k] as usize;
                let qs = &self.messaging.queues[q];
                qv.dead_letter_queue = qs.dlq.iter().cloned().collect();
                qv.nacked = qs.nacked;
                qv.lost = qs.lost;
            }
        }
    }
}
