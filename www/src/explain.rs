//! The "explain" box: turns notable trace events into plain sentences, and the event log's line
//! classes. Pure: fed with [`TraceEvent`]s, tested natively against real runs.
//!
//! A loss followed by its consequence (a broker redelivery, a producer retry) becomes one sentence:
//! "m17 was lost on broker → accounting; the broker redelivered it after the 500 ms ack timeout
//! (attempt 2)."

use msgsim::network::DropReason;
use msgsim::outbox::view::RelayFailure;
use msgsim::outbox::CrashPoint;
use msgsim::scenario::{DuplicateHandling, Scenario};
use msgsim::trace::{Endpoint, FailureOutcome, PacketKind, RedeliveryReason, ReplyDiscard};
use msgsim::{MessageId, SimTime, TraceEvent, TraceKind};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Sentences kept (newest first).
pub const MAX_SENTENCES: usize = 8;
/// Lost packets remembered, waiting for their consequence.
const MAX_NOTES: usize = 4_096;
/// `(service, message)` pairs remembered to recognise repeats.
const MAX_SEEN: usize = 50_000;

/// The colour class of a trace line or a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Ordinary traffic.
    Normal,
    /// A loss, a give-up, a dead letter: red.
    Loss,
    /// A redelivery or a retry: orange.
    Retry,
    /// A network duplicate or a repeat handled: purple.
    Duplicate,
    /// A command: blue.
    Command,
}

impl Tone {
    /// CSS class suffix.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Normal => "normal",
            Tone::Loss => "loss",
            Tone::Retry => "retry",
            Tone::Duplicate => "dup",
            Tone::Command => "command",
        }
    }
}

/// The tone of a trace line in the event log: drops red, redeliveries and retries orange,
/// duplicates purple, commands blue.
pub fn tone_of(kind: &TraceKind) -> Tone {
    match kind {
        TraceKind::Drop { .. }
        | TraceKind::Overflow { .. }
        | TraceKind::GiveUp { .. }
        | TraceKind::DeadLetter { .. }
        | TraceKind::RequestTimedOut { .. }
        | TraceKind::QueueLost { .. }
        | TraceKind::BacklogLost { .. }
        | TraceKind::InstanceLost { .. }
        | TraceKind::FailpointCrash { .. }
        | TraceKind::TxRollback { .. } => Tone::Loss,
        TraceKind::Redeliver { .. }
        | TraceKind::Retry { .. }
        | TraceKind::HandlerFailed { .. }
        | TraceKind::PublishRejected { .. }
        | TraceKind::RelayRewind { .. } => Tone::Retry,
        TraceKind::ReplyDiscarded { .. }
        | TraceKind::BrokerDuplicate { .. }
        | TraceKind::IdempotentSet { changed: false, .. } => Tone::Duplicate,
        TraceKind::Send {
            duplicate: true, ..
        } => Tone::Duplicate,
        TraceKind::Process { applied: false, .. } => Tone::Duplicate,
        TraceKind::Send { attempt, .. } | TraceKind::Process { attempt, .. } if *attempt > 1 => {
            Tone::Retry
        }
        TraceKind::Command { .. } => Tone::Command,
        _ => Tone::Normal,
    }
}

/// One sentence of the explain box.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    /// Trace position of the event that (last) produced it; a stable key.
    pub seq: u64,
    /// Virtual time.
    pub time: SimTime,
    /// The sentence.
    pub text: String,
    /// Colour.
    pub tone: Tone,
    /// How many times in a row the same sentence came (`×3`).
    pub repeats: u32,
    /// The message it is about, if one (the explain box offers to inspect it).
    pub msg: Option<MessageId>,
    /// A running tally's key: a newer sentence with the same key replaces this one.
    key: Option<String>,
}

#[derive(Clone, Debug)]
struct LostNote {
    packet: PacketKind,
    /// `order#0's publish of m17`, `m17`...
    what: String,
    /// `order → broker`.
    link: String,
    /// Sequence of the sentence that reported the loss (to replace it).
    seq: u64,
}

/// Turns trace events into sentences. Feed it every event, in order.
#[derive(Clone, Debug)]
pub struct Explainer {
    ack_timeout_ms: u64,
    publish_timeout_ms: u64,
    max_deliveries: u32,
    /// Service name → (duplicate handling, effect label).
    services: BTreeMap<String, (DuplicateHandling, String)>,
    notes: BTreeMap<MessageId, LostNote>,
    seen: BTreeSet<(String, MessageId)>,
    seen_order: VecDeque<(String, MessageId)>,
    sentences: VecDeque<Sentence>,
    sync: crate::subsystems::sync::SyncExplainer,
    discovery: crate::subsystems::discovery::DiscoveryExplainer,
    schema: crate::subsystems::schema::SchemaExplainer,
    kafka: crate::subsystems::kafka::KafkaExplainer,
    outbox: crate::subsystems::outbox::OutboxExplainer,
}

fn node_of(e: &Endpoint) -> &str {
    &e.node
}

fn what_of(packet: PacketKind, from: &Endpoint, to: &Endpoint, msg: MessageId) -> String {
    match packet {
        PacketKind::Publish => format!("{from}'s publish of {msg}"),
        PacketKind::PublishAck => format!("the confirm of {msg} from {from} to {to}"),
        PacketKind::Deliver => format!("{msg}"),
        PacketKind::Ack => format!("{from}'s ack of {msg}"),
        PacketKind::Nack => format!("{from}'s nack of {msg}"),
        PacketKind::PublishNack => format!("the rejection of {msg} from {from} to {to}"),
        PacketKind::Request => format!("{from}'s request {msg}"),
        PacketKind::Response => format!("the response to {msg} from {from}"),
        PacketKind::HttpRequest => format!("{from}'s HTTP request {msg}"),
        PacketKind::HttpResponse => format!("the HTTP response {msg} from {from}"),
        PacketKind::Reset => format!("the connection reset from {from}"),
        PacketKind::Register
        | PacketKind::Deregister
        | PacketKind::Lookup
        | PacketKind::LookupReply => format!("{from}'s registry message {msg}"),
        PacketKind::HealthCheck | PacketKind::HealthOk => {
            format!("the health probe {msg} from {from}")
        }
        PacketKind::SchemaLookup | PacketKind::SchemaReply => {
            format!("{from}'s schema lookup for {msg}")
        }
        PacketKind::Produce | PacketKind::ProduceResponse => format!("{from}'s produce of {msg}"),
        PacketKind::Fetch
        | PacketKind::FetchResponse
        | PacketKind::OffsetCommit
        | PacketKind::OffsetCommitResponse
        | PacketKind::JoinGroup
        | PacketKind::JoinGroupResponse
        | PacketKind::SyncGroup
        | PacketKind::SyncGroupResponse
        | PacketKind::Heartbeat
        | PacketKind::HeartbeatResponse => format!("{from}'s {} to {to}", packet.as_str()),
        PacketKind::Direct => format!("{from}'s direct message {msg}"),
    }
}

/// Packets of synchronous calls, discovery and schema lookups (not broker traffic).
fn is_sync_packet(p: PacketKind) -> bool {
    matches!(
        p,
        PacketKind::HttpRequest
            | PacketKind::HttpResponse
            | PacketKind::Reset
            | PacketKind::Register
            | PacketKind::Deregister
            | PacketKind::Lookup
            | PacketKind::LookupReply
            | PacketKind::HealthCheck
            | PacketKind::HealthOk
    )
}

/// Capitalises a sentence start, but never a message id (`m17`) or a node name.
fn upper_first(s: &str) -> String {
    if s.starts_with("the ") {
        crate::format::capitalize(s)
    } else {
        s.to_string()
    }
}

impl Explainer {
    /// An explainer for runs of `scenario` (it reads timeouts and receivers' duplicate handling).
    pub fn new(scenario: &Scenario) -> Explainer {
        Explainer {
            ack_timeout_ms: scenario.policies.ack_timeout_ms,
            max_deliveries: scenario.policies.max_delivery_attempts,
            publish_timeout_ms: scenario.policies.publish_timeout_ms,
            services: scenario
                .nodes
                .iter()
                .map(|n| (n.name.clone(), (n.duplicates, n.effect.clone())))
                .collect(),
            notes: BTreeMap::new(),
            seen: BTreeSet::new(),
            seen_order: VecDeque::new(),
            sentences: VecDeque::new(),
            sync: crate::subsystems::sync::SyncExplainer::new(scenario),
            discovery: crate::subsystems::discovery::DiscoveryExplainer::new(scenario),
            schema: crate::subsystems::schema::SchemaExplainer::default(),
            kafka: crate::subsystems::kafka::KafkaExplainer::default(),
            outbox: crate::subsystems::outbox::OutboxExplainer::new(scenario),
        }
    }

    /// The sentences, newest first.
    pub fn sentences(&self) -> impl Iterator<Item = &Sentence> {
        self.sentences.iter()
    }

    fn say(&mut self, ev: &TraceEvent, tone: Tone, msg: Option<MessageId>, text: String) -> u64 {
        if let Some(first) = self.sentences.front_mut() {
            if first.text == text {
                first.repeats += 1;
                first.time = ev.time;
                first.seq = ev.seq;
                return ev.seq;
            }
        }
        self.sentences.push_front(Sentence {
            seq: ev.seq,
            time: ev.time,
            text,
            tone,
            repeats: 1,
            msg,
            key: None,
        });
        self.sentences.truncate(MAX_SENTENCES);
        ev.seq
    }

    /// Says what a subsystem explainer produced: a keyed sentence (a running tally) replaces the
    /// previous one with its key and moves to the top.
    fn say_said(&mut self, ev: &TraceEvent, s: crate::subsystems::Said) {
        let Some(key) = s.key else {
            self.say(ev, s.tone, s.msg, s.text);
            return;
        };
        if let Some(pos) = self
            .sentences
            .iter()
            .position(|x| x.key.as_deref() == Some(key.as_str()))
        {
            self.sentences.remove(pos);
        }
        self.sentences.push_front(Sentence {
            seq: ev.seq,
            time: ev.time,
            text: s.text,
            tone: s.tone,
            repeats: 1,
            msg: s.msg,
            key: Some(key),
        });
        self.sentences.truncate(MAX_SENTENCES);
    }

    /// Replaces the loss sentence `seq` (if it is still shown) by the combined one, or adds it.
    fn follow_up(&mut self, ev: &TraceEvent, note_seq: Option<u64>, msg: MessageId, text: String) {
        if let Some(seq) = note_seq {
            if let Some(pos) = self
                .sentences
                .iter()
                .position(|s| s.seq == seq && s.msg == Some(msg))
            {
                self.sentences.remove(pos);
            }
        }
        self.say(ev, Tone::Retry, Some(msg), text);
    }

    fn remember(&mut self, msg: MessageId, note: LostNote) {
        if self.notes.len() >= MAX_NOTES {
            self.notes.pop_first();
        }
        self.notes.insert(msg, note);
    }

    /// Feeds one event; notable ones become sentences. The broker's events are explained here;
    /// synchronous calls, discovery, schemas, partitioned topics and transactional messaging by
    /// their explainers in [`crate::subsystems`].
    #[inline(never)]
    pub fn feed(&mut self, ev: &TraceEvent) {
        self.feed_broker(ev);
        let mut said = self.sync.feed(ev);
        said.extend(self.discovery.feed(ev));
        said.extend(self.schema.feed(ev));
        said.extend(self.kafka.feed(ev));
        said.extend(self.outbox.feed(ev));
        for s in said {
            self.say_said(ev, s);
        }
    }

    fn feed_broker(&mut self, ev: &TraceEvent) {
        match &ev.what {
            // A synchronous packet (HTTP, registry, health probe) reaching a crashed instance
            // is said by its consequence: the refused call, the failed health check.
            TraceKind::Drop {
                packet,
                reason: DropReason::NodeDown,
                ..
            } if is_sync_packet(*packet) => {}
            TraceKind::Drop {
                from,
                to,
                packet,
                msg,
                reason,
                ..
            } => {
                let what = what_of(*packet, from, to, *msg);
                let link = format!("{} → {}", node_of(from), node_of(to));
                let text = match reason {
                    DropReason::Loss => format!("{} was lost on {link}.", upper_first(&what)),
                    DropReason::Partition => format!(
                        "{} was dropped on {link}: the link is partitioned.",
                        upper_first(&what)
                    ),
                    DropReason::NodeDown => format!(
                        "{} reached {to}, which is crashed, and was dropped.",
                        upper_first(&what)
                    ),
                    DropReason::Overflow => format!(
                        "{} was dropped on {link}: a buffer was full.",
                        upper_first(&what)
                    ),
                };
                let seq = self.say(ev, Tone::Loss, Some(*msg), text);
                self.remember(
                    *msg,
                    LostNote {
                        packet: *packet,
                        what,
                        link,
                        seq,
                    },
                );
            }
            TraceKind::Redeliver {
                queue,
                msg,
                attempt,
                reason,
            } => {
                let note = self
                    .notes
                    .remove(msg)
                    .filter(|n| matches!(n.packet, PacketKind::Deliver | PacketKind::Ack));
                let consumer = queue.rsplit('/').next().unwrap_or(queue).to_string();
                let text = match (reason, &note) {
                    (RedeliveryReason::AckTimeout, Some(n)) if n.packet == PacketKind::Deliver => {
                        format!(
                            "{} was lost on {}; the broker redelivered it after the {} ms ack timeout (attempt {attempt}).",
                            upper_first(&n.what), n.link, self.ack_timeout_ms
                        )
                    }
                    (RedeliveryReason::AckTimeout, Some(n)) => format!(
                        "{} was lost on {}; the broker redelivered {msg} after the {} ms ack timeout (attempt {attempt}){}",
                        upper_first(&n.what),
                        n.link,
                        self.ack_timeout_ms,
                        self.repeat_consequence(queue)
                    ),
                    (RedeliveryReason::AckTimeout, None) => format!(
                        "{msg} was not acked within {} ms on {queue} (the consumer is slow, paused, or its ack is still on the way); the broker redelivered it (attempt {attempt}){}",
                        self.ack_timeout_ms,
                        self.repeat_consequence(queue)
                    ),
                    (RedeliveryReason::ConnectionReset, _) => format!(
                        "The {consumer} instance holding {msg} crashed before acking it; the broker redelivers it on {queue} (attempt {attempt})."
                    ),
                    (RedeliveryReason::BrokerRestart, _) => format!(
                        "The broker restarted with {msg} unacked on {queue}; it is delivered again (attempt {attempt})."
                    ),
                    (RedeliveryReason::Nacked, _) => format!(
                        "The {consumer} handler failed on {msg} and nacked it; the broker requeued it on {queue} (attempt {attempt})."
                    ),
                };
                self.follow_up(ev, note.map(|n| n.seq), *msg, text);
            }
            TraceKind::Retry { at, msg, attempt } => {
                let note = self
                    .notes
                    .remove(msg)
                    .filter(|n| matches!(n.packet, PacketKind::Publish | PacketKind::PublishAck));
                let t = self.publish_timeout_ms;
                let text = match &note {
                    Some(n) if n.packet == PacketKind::Publish => format!(
                        "{} was lost on {}; {at} retried after the {t} ms publish timeout (attempt {attempt}).",
                        upper_first(&n.what), n.link
                    ),
                    Some(n) => format!(
                        "{} was lost on {}; {at} retried the publish after the {t} ms publish timeout (attempt {attempt}), so the broker gets {msg} twice.",
                        upper_first(&n.what), n.link
                    ),
                    None => format!(
                        "{at} got no confirm for {msg} within {t} ms and retried the publish (attempt {attempt})."
                    ),
                };
                self.follow_up(ev, note.map(|n| n.seq), *msg, text);
            }
            TraceKind::GiveUp { at, msg, attempts } => {
                self.say(
                    ev,
                    Tone::Loss,
                    Some(*msg),
                    format!("{at} gave up publishing {msg} after {attempts} attempts: the message is lost."),
                );
            }
            TraceKind::DeadLetter {
                queue,
                msg,
                attempts,
            } => {
                self.say(
                    ev,
                    Tone::Loss,
                    Some(*msg),
                    if *attempts >= self.max_deliveries {
                        format!("{msg} reached the delivery limit on {queue} ({attempts} deliveries, none acked): moved to its dead-letter queue (delivery_limit).")
                    } else {
                        format!("{queue}'s consumer rejected {msg} (nack without requeue) after {}: moved to the dead-letter queue at once (rejected).",
                            if *attempts == 1 { "1 delivery".to_string() } else { format!("{attempts} deliveries") })
                    },
                );
            }
            TraceKind::Overflow { queue, msg } => {
                self.say(
                    ev,
                    Tone::Loss,
                    Some(*msg),
                    format!("{queue} is full: {msg} was dropped."),
                );
            }
            TraceKind::Send {
                from,
                to,
                msg,
                duplicate: true,
                ..
            } => {
                self.say(
                    ev,
                    Tone::Duplicate,
                    Some(*msg),
                    format!(
                        "The network duplicated {msg} on {} → {}: a second copy is on its way.",
                        node_of(from),
                        node_of(to)
                    ),
                );
            }
            TraceKind::Process {
                at,
                msg,
                attempt,
                applied,
            } => {
                let key = (at.node.to_string(), *msg);
                let repeat = self.seen.contains(&key);
                if !repeat {
                    if self.seen_order.len() >= MAX_SEEN {
                        if let Some(old) = self.seen_order.pop_front() {
                            self.seen.remove(&old);
                        }
                    }
                    self.seen.insert(key.clone());
                    self.seen_order.push_back(key);
                }
                if !applied {
                    self.say(
                        ev,
                        Tone::Duplicate,
                        Some(*msg),
                        format!("{at} discarded a repeat of {msg}: deduplication by message id kept the effect single."),
                    );
                } else if repeat
                    && !matches!(
                        self.services.get(&*at.node),
                        Some((DuplicateHandling::Idempotent, _))
                    )
                {
                    let effect = self
                        .services
                        .get(&*at.node)
                        .map(|(_, e)| e.clone())
                        .filter(|e| !e.is_empty())
                        .unwrap_or_else(|| "its effect".to_string());
                    let attempt = if *attempt > 1 {
                        format!(" (delivery attempt {attempt})")
                    } else {
                        String::new()
                    };
                    self.say(
                        ev,
                        Tone::Duplicate,
                        Some(*msg),
                        format!("{at} handled {msg} a second time{attempt}: the naive receiver applied it again, so “{effect}” counts {msg} twice."),
                    );
                }
            }
            TraceKind::IdempotentSet {
                at,
                msg,
                key,
                changed: false,
            } => {
                self.say(ev, Tone::Duplicate, Some(*msg), format!("{at} handled {msg}, but key {key} already had this state: the idempotent operation changed nothing."));
            }
            TraceKind::ReplyDiscarded {
                at,
                msg,
                correlation,
                reason,
            } => {
                let why = match reason {
                    ReplyDiscard::Late => "its request had already timed out or closed: a late reply is discarded, never handed to another request",
                    ReplyDiscard::Duplicate => "its request was already answered: a duplicate reply is discarded",
                };
                self.say(
                    ev,
                    Tone::Duplicate,
                    Some(*msg),
                    format!("{at} discarded reply {msg} to {correlation}: {why}."),
                );
            }
            TraceKind::RequestTimedOut { at, msg } => {
                self.say(ev, Tone::Loss, Some(*msg), format!("{at}'s request {msg} timed out with no reply; a reply arriving later will be discarded as late."));
            }
            TraceKind::Decided {
                at,
                msg,
                replies,
                expected,
            } if replies < expected => {
                self.say(ev, Tone::Retry, Some(*msg), format!("{at} decided {msg} with {replies} of {expected} replies when its window closed; later replies are late."));
            }
            TraceKind::HandlerFailed {
                at,
                msg,
                outcome: FailureOutcome::Lost,
                ..
            } => {
                self.say(ev, Tone::Loss, Some(*msg), format!("{at}'s handler failed on brokerless {msg}: no broker keeps it, so it is lost."));
            }
            TraceKind::BrokerDuplicate {
                channel,
                msg,
                first_seen,
            } => {
                self.say(ev, Tone::Duplicate, Some(*msg), format!("The broker's duplicate detection on {channel} recognised {msg} (first seen at {}): confirmed, not enqueued again.", crate::format::format_secs(*first_seen)));
            }
            TraceKind::QueueLost { queue, messages } => {
                self.say(ev, Tone::Loss, None, format!("The broker crash lost {messages} buffered message(s) of the non-durable {queue}."));
            }
            TraceKind::BacklogLost { broker, packets } => {
                self.say(ev, Tone::Loss, None, format!("{broker} crashed with {packets} packet(s) waiting in its backlog: they are lost."));
            }
            TraceKind::InstanceLost {
                at,
                direct,
                requests,
            } => {
                self.say(ev, Tone::Loss, None, format!("{at} crashed: {direct} brokerless message(s) in its memory lost, {requests} pending request(s) abandoned."));
            }
            TraceKind::PublishRejected { channel, msg } => {
                self.say(ev, Tone::Retry, Some(*msg), format!("The broker rejected the publish of {msg} to {channel} (nack): nothing appended; the producer publishes it again."));
            }
            TraceKind::FailpointCrash { at, point } => {
                let next = match point {
                    CrashPoint::BeforeCommit => "its transaction rolls back and leaves nothing",
                    CrashPoint::AfterCommit => "the change is committed, but what comes next (a publish, an answer) never happens",
                    CrashPoint::AfterPublish => "published, not yet marked or saved: after a restart it publishes those records again",
                };
                self.say(
                    ev,
                    Tone::Loss,
                    None,
                    format!(
                        "{at} crashed at its armed failpoint {}: {next}.",
                        point.as_str()
                    ),
                );
            }
            TraceKind::RelayRewind {
                at,
                msg,
                reason,
                republish,
            } => {
                self.say(ev, Tone::Retry, Some(*msg), format!("{at}: the publish of {msg} {}; it goes back and publishes {republish} record(s) again from there, in order.", if *reason == RelayFailure::Rejected { "was rejected by the broker" } else { "got no confirm in time" }));
            }
            TraceKind::Skipped { node } => {
                self.say(
                    ev,
                    Tone::Loss,
                    None,
                    format!("{node} has no running instance: its workload tick was skipped."),
                );
            }
            TraceKind::Command { command } => {
                self.say(
                    ev,
                    Tone::Command,
                    None,
                    format!(
                        "Applied at {}: {command}.",
                        crate::format::format_secs(ev.time)
                    ),
                );
            }
            _ => {}
        }
    }

    /// What a redelivery on `queue` means for its consumer.
    fn repeat_consequence(&self, queue: &str) -> String {
        let consumer = queue.rsplit('/').next().unwrap_or(queue);
        match self.services.get(consumer) {
            Some((DuplicateHandling::Naive, _)) => format!(
                "; {consumer} may now handle it twice, and as a naive receiver it applies the effect twice."
            ),
            Some((DuplicateHandling::Dedup, _)) => {
                format!("; {consumer} deduplicates by message id, so a repeat is discarded.")
            }
            Some((DuplicateHandling::Idempotent, _)) => format!(
                "; {consumer}'s operation is idempotent, so handling it again changes nothing."
            ),
            None => ".".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::network::{Direction, LinkFaults};
    use msgsim::{Command, Simulation};

    fn scenario() -> Scenario {
        Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap()
    }

    fn run(commands: &[Command], until_ms: u64) -> (Simulation, Explainer) {
        let s = scenario();
        let mut sim = Simulation::new(s.clone(), 42).unwrap();
        for c in commands {
            sim.apply(c.clone()).unwrap();
        }
        sim.run_until(SimTime::from_ms(until_ms), 1_000_000);
        let mut ex = Explainer::new(&s);
        for ev in sim.trace().events() {
            ex.feed(ev);
        }
        (sim, ex)
    }

    #[test]
    fn tones_of_trace_lines() {
        let (sim, _) = run(
            &[Command::SetLink {
                a: "broker".into(),
                b: "accounting".into(),
                direction: Direction::Both,
                faults: LinkFaults {
                    latency_ms: 40,
                    loss_percent: 30.0,
                    duplicate_percent: 30.0,
                    ..LinkFaults::default()
                },
            }],
            5_000,
        );
        let mut tones = BTreeSet::new();
        for ev in sim.trace().events() {
            let t = tone_of(&ev.what);
            tones.insert(t.class());
            if matches!(ev.what, TraceKind::Drop { .. }) {
                assert_eq!(t, Tone::Loss);
            }
            if matches!(ev.what, TraceKind::Redeliver { .. }) {
                assert_eq!(t, Tone::Retry);
            }
        }
        for c in ["loss", "retry", "dup", "command", "normal"] {
            assert!(tones.contains(c), "{c} missing from {tones:?}");
        }
    }

    #[test]
    fn a_lost_delivery_and_its_redelivery_become_one_sentence() {
        let (_, ex) = run(
            &[Command::SetLink {
                a: "broker".into(),
                b: "accounting".into(),
                direction: Direction::AToB,
                faults: LinkFaults {
                    latency_ms: 40,
                    loss_percent: 50.0,
                    ..LinkFaults::default()
                },
            }],
            3_000,
        );
        let texts: Vec<&str> = ex.sentences().map(|s| s.text.as_str()).collect();
        assert!(texts.len() <= MAX_SENTENCES);
        let combined = texts
            .iter()
            .find(|t| t.contains("was lost on broker → accounting; the broker redelivered it after the 1000 ms ack timeout (attempt"))
            .unwrap_or_else(|| panic!("no combined sentence in {texts:#?}"));
        assert!(combined.starts_with('m'), "{combined}");
    }

    #[test]
    fn a_lost_publish_and_its_retry_become_one_sentence() {
        let (_, ex) = run(
            &[Command::SetLink {
                a: "order".into(),
                b: "broker".into(),
                direction: Direction::AToB,
                faults: LinkFaults {
                    latency_ms: 40,
                    loss_percent: 100.0,
                    ..LinkFaults::default()
                },
            }],
            700,
        );
        let texts: Vec<&str> = ex.sentences().map(|s| s.text.as_str()).collect();
        assert!(
            texts.iter().any(|t| t.contains(
                "order#0's publish of m1 was lost on order → broker; order#0 retried after the 600 ms publish timeout (attempt 2)."
            )),
            "{texts:#?}"
        );
    }

    #[test]
    fn duplicates_and_repeats_are_explained() {
        let (_, ex) = run(
            &[Command::SetLink {
                a: "broker".into(),
                b: "accounting".into(),
                direction: Direction::AToB,
                faults: LinkFaults {
                    latency_ms: 40,
                    duplicate_percent: 100.0,
                    ..LinkFaults::default()
                },
            }],
            1_000,
        );
        let texts: Vec<String> = ex.sentences().map(|s| s.text.clone()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("The network duplicated") && t.contains("broker → accounting")),
            "{texts:#?}"
        );
        assert!(
            texts.iter().any(
                |t| t.contains("accounting#0 handled") && t.contains("“orders charged” counts")
            ),
            "{texts:#?}"
        );
    }

    #[test]
    fn commands_and_identical_sentences_coalesce() {
        let s = scenario();
        let mut sim = Simulation::new(s.clone(), 42).unwrap();
        sim.apply(Command::Crash {
            node: "order".into(),
            instance: 0,
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(2_000), 1_000_000);
        let mut ex = Explainer::new(&s);
        for ev in sim.trace().events() {
            ex.feed(ev);
        }
        let v: Vec<&Sentence> = ex.sentences().collect();
        assert_eq!(
            v[0].text,
            "order has no running instance: its workload tick was skipped."
        );
        assert_eq!(v[0].repeats, 9, "ticks at 0, 250, ..., 2000 ms");
        assert_eq!(v[1].text, "Applied at 0.000 s: crash order#0.");
        assert_eq!(v[1].tone, Tone::Command);
    }

    /// Every sentence a built-in scenario's run produces, in order (with its tone).
    fn sentences_of(name: &str, until_ms: u64) -> Vec<(Tone, String)> {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        let mut sim = Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(until_ms), 10_000_000);
        let mut ex = Explainer::new(&s);
        let mut out: Vec<(Tone, String)> = Vec::new();
        for ev in sim.trace().events() {
            ex.feed(ev);
            if let Some(first) = ex.sentences().next() {
                if out.last().map(|(_, t)| t) != Some(&first.text) {
                    out.push((first.tone, first.text.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn late_replies_timeouts_and_failpoints_are_explained() {
        let said = sentences_of("request-async-reply", 12_000);
        let late = said
            .iter()
            .find(|(_, t)| t.contains("discarded reply"))
            .expect("a late reply sentence");
        assert_eq!(late.0, Tone::Duplicate);
        assert!(
            late.1.contains("never handed to another request"),
            "{}",
            late.1
        );
        assert!(said
            .iter()
            .any(|(_, t)| t.contains("timed out with no reply")));

        let said = sentences_of("outbox-polling", 3_000);
        assert!(
            said.iter()
                .any(|(_, t)| t.contains("armed failpoint after_publish")),
            "{said:?}"
        );
        // Dead letters say which limit or decision put them there.
        let said = sentences_of("dead-letter-queue", 10_000);
        assert!(
            said.iter().any(|(_, t)| t.ends_with("(rejected).")),
            "{said:?}"
        );
        assert!(
            said.iter().any(|(_, t)| t.ends_with("(delivery_limit).")),
            "{said:?}"
        );
        // An idempotent receiver's repeat is not called a naive double effect.
        let said = sentences_of("duplicate-handling", 10_000);
        assert!(!said
            .iter()
            .any(|(_, t)| t.starts_with("order-status") && t.contains("naive")));
    }
}

#[cfg(test)]
mod dump {
    /// `DUMP=circuit-breaker:9000 cargo test -p msgsim-web --lib dump -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn dump() {
        let spec = std::env::var("DUMP").unwrap_or_else(|_| "circuit-breaker:9000".into());
        for one in spec.split(',') {
            let (name, ms) = one.split_once(':').unwrap();
            let s = msgsim::Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
            let mut sim = msgsim::Simulation::new(s.clone(), s.seed).unwrap();
            sim.run_until(msgsim::SimTime::from_ms(ms.parse().unwrap()), 10_000_000);
            let mut ex = super::Explainer::new(&s);
            let mut last = String::new();
            for ev in sim.trace().events() {
                ex.feed(ev);
                if let Some(f) = ex.sentences().next() {
                    if f.text != last {
                        println!("{name} {} [{}] {}", ev.time, f.tone.class(), f.text);
                        last = f.text.clone();
                    }
                }
            }
            println!("--- final {name} at {ms} ms:");
            for s in ex.sentences() {
                println!("  {} {}", s.time, s.text);
            }
        }
    }
}
