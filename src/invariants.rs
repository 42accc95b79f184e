//! Invariants a scenario claims, checked live from its trace (issue #7, the "Invariants panel").
//!
//! A scenario lists the guarantees it claims in its `invariants` field ([`ClaimSpec`]): a
//! standard [`Invariant`] name, optionally limited to some services. The simulation feeds every
//! trace event, as it is recorded, to an [`InvariantChecker`], which keeps each claim's status:
//! [`InvariantState::Holding`], or [`InvariantState::Violated`] with the first violating event's
//! sequence number, virtual time and a one-line reason; plus how many things it checked and how
//! many violating events it saw. Checking only reads the events: the run, its trace and its hash
//! are the same with or without claims. With the trace disabled ([`crate::TraceConfig`]) nothing
//! is recorded, so nothing is checked.
//!
//! # The invariants, exactly
//!
//! Every definition is a statement about trace events, so a violation is one event
//! ([`crate::TraceKind`]) that the panel can link to.
//!
//! * [`Invariant::NoMessageLost`] — no message that a service sent is discarded before a
//!   consumer could process it. Violations: a publish given up after its last attempt
//!   (`give_up`) that the broker never enqueued; a partitioned-topic record given up by its
//!   producer (`produce_failed`) and never appended; a brokerless message dropped on its link
//!   (`drop` of a `direct` packet) or lost in a crashed instance (`instance_lost` with direct
//!   messages); messages lost with a non-durable queue (`queue_lost`); records an at-most-once
//!   consumer fetched and never processed (`records_dropped`); and a dual write's committed
//!   change whose message was not yet published when its service crashed (`failpoint_crash`
//!   after a `tx_commit` that carries a message but no OUTBOX row). A dead-lettered message is
//!   not lost (it is kept in the dead-letter queue). Counted ("messages followed"): first publish
//!   attempts and first produce attempts at the sender, committed changes that carry a message
//!   at the committing service, enqueues at the queue's consumers, brokerless sends at both
//!   ends, and records first processed (or dropped) at the consuming service. A record's
//!   processing is checked when its partition is assigned: the new owner starts at a committed
//!   offset, and every record below it must have been processed by its service (or dropped,
//!   which was already a violation). Under which faults it holds: an at-least-once publisher
//!   (publisher confirms, retries) keeps it under any fault the broker recovers from within the
//!   producer's retry budget (`publish_max_attempts` × `publish_timeout_ms`; a Kafka producer's
//!   `delivery.timeout.ms`); a broker crashed, paused, cut off or overloaded for longer makes the
//!   producer give up, which is reported (the message is lost; for Kafka the record expires
//!   with a TimeoutException and is never appended). Brokerless sends, non-durable queues, at-most-once consumers and
//!   dual writes break it under the faults named above; scenarios claim it there to show that.
//! * [`Invariant::EffectAppliedOnce`] — each consuming service applies the effect of a message
//!   at most once. An effect is a `process` that applied it (`applied`; for an `idempotent`
//!   receiver, an `idempotent_set` that changed its key's state instead) or a `consume` that
//!   applied it. Violation: the second effect of one message at one service. Counted: effects.
//!   Under which faults it holds: `dedup` and `idempotent` receivers keep it under any
//!   redelivery; a `naive` receiver applies every delivery, so a lost or late ack, a paused or
//!   crashed consumer or a duplicated message breaks it (scenarios claim it there to show that).
//! * [`Invariant::PerKeyOrder`] — each consuming service processes the messages of one key (on
//!   one channel, or one partitioned topic) in the order they were produced: the order of their
//!   commits for messages from a database transaction (`tx_commit`'s LSN), else the order in
//!   which they were created (message ids increase). Only the first processing of a message
//!   counts (a redelivery after its successors is a duplicate, not a reordering). Violation: a
//!   message first processed after a later message of its key. Counted: keyed messages first
//!   processed.
//! * [`Invariant::BreakerProtectsCaller`] — a failing dependency does not cascade: no logical
//!   call (`call_done`) from a claimed service S to a service C that itself calls other services
//!   ends in an error without a fallback, **unless the failure is one no breaker in C can
//!   prevent**. A circuit breaker (Resilience4j) with a fallback sits in C around C's calls to
//!   its dependencies: it turns their failures and slowness into fast fallback answers, so C
//!   keeps answering S. It cannot help when C itself is gone or unreachable, so a call is
//!   excused (counted in neither `checked` nor the violations) when, at any time between its
//!   start and its end, one of these faults was in force: an instance of S or of C crashed or
//!   paused (`crash`/`pause` until `restart`/`resume`), an endpoint of C's own API changed from
//!   the scenario's behaviour (`set_endpoint` on C), or the S–C link faulted in either direction
//!   (`partition`, `partition_oneway`, `hold`, or `set_link` to anything but the scenario's
//!   link settings), until it healed and C had time to work off a full queue ([`settle_us`]: in
//!   `circuit-breaker`, 6 rounds of the 800 ms time limit, 4.8 s) — a held link or a resumed
//!   instance delivers its backlog at once, C's own queue overflows (503) while its breaker is
//!   still counting failures, and no breaker sheds load arriving at C (a bulkhead or rate
//!   limiter in front of C would).
//!   Faults of C's dependencies, of the links behind C and of C's
//!   breaker itself (`set_breaker` DISABLED) are what the claim is about: a call failing under
//!   them is a violation. Counted: logical calls to such services that no excusing fault
//!   overlapped.
//!
//! # Scope and bounds
//!
//! A claim with `services` only looks at events of those services: the sender for losses (the
//! subscriber for a lost subscription), the consumer for effects and order, the caller for
//! cascades. Every table is bounded to [`MAX_TRACKED`] entries: tables keyed by message forget
//! the oldest message first; the per-key order and per-partition tables forget their first key
//! in sort order. What a table forgot is no longer checked, which can only hide a violation,
//! never invent one, with two exceptions that need more than [`MAX_TRACKED`] newer entries in
//! between: a give-up of a message whose enqueue was forgotten, and a partition whose processed
//! offsets were forgotten before its next assignment.

use crate::message::MessageId;
use crate::scenario::{DuplicateHandling, NodeKind, Scenario};
use crate::time::SimTime;
use crate::trace::{Endpoint, PacketKind, TraceEvent, TraceKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Most claims in one scenario.
pub const MAX_CLAIMS: usize = 16;
/// Most services named by one claim.
pub const MAX_CLAIM_SERVICES: usize = 64;
/// Entries each table of the checker keeps (message ids, effects, keys); oldest forgotten.
pub const MAX_TRACKED: usize = 100_000;
/// Least time after a fault heals that [`Invariant::BreakerProtectsCaller`] still excuses calls,
/// µs (1 s); see [`settle_us`] for the service-specific bound.
pub const FAULT_SETTLE_US: u64 = 1_000_000;

/// How long after a fault on service `c` (or its caller's link to it) heals
/// [`Invariant::BreakerProtectsCaller`] still excuses calls to `c`, µs: a held link or a resumed
/// instance delivers its backlog at once, and `c` needs up to this long to work off a full
/// queue — `ceil((max_queue + workers) / workers)` rounds of its slowest dependency's time limit
/// (the `timeLimiter`'s `timeoutDuration`, else `http_timeout_ms`), the time a breaker that is
/// still counting failures (`minimumNumberOfCalls`, `slidingWindowSize`) lets each call take.
/// At least [`FAULT_SETTLE_US`].
pub fn settle_us(scenario: &Scenario, c: &str) -> u64 {
    let Some(api) = scenario.api_of(c) else {
        return FAULT_SETTLE_US;
    };
    let workers = u64::from(api.workers.max(1));
    let rounds = (u64::from(api.max_queue) + workers).div_ceil(workers);
    let limit = scenario
        .dependencies
        .iter()
        .filter(|d| d.from == c)
        .map(|d| {
            d.policies
                .time_limiter
                .as_ref()
                .map_or(crate::time::ms_to_us(d.http_timeout_ms), |t| {
                    t.timeout_duration.0
                })
        })
        .max()
        .unwrap_or(0);
    rounds.saturating_mul(limit).max(FAULT_SETTLE_US)
}

/// A standard invariant name (snake_case in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// No message lost (see the module docs for the exact definition).
    NoMessageLost,
    /// Each effect applied once per consuming service.
    EffectAppliedOnce,
    /// Per-key order kept by each consuming service.
    PerKeyOrder,
    /// A failing dependency does not make the callers of its caller fail.
    BreakerProtectsCaller,
}

impl Invariant {
    /// The JSON name, e.g. `no_message_lost`.
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::NoMessageLost => "no_message_lost",
            Invariant::EffectAppliedOnce => "effect_applied_once",
            Invariant::PerKeyOrder => "per_key_order",
            Invariant::BreakerProtectsCaller => "breaker_protects_caller",
        }
    }

    /// A short human title, e.g. "No message lost".
    pub fn title(self) -> &'static str {
        match self {
            Invariant::NoMessageLost => "No message lost",
            Invariant::EffectAppliedOnce => "Each effect applied once",
            Invariant::PerKeyOrder => "Per-key order kept",
            Invariant::BreakerProtectsCaller => "Breaker protects the caller",
        }
    }

    /// What [`InvariantStatus::checked`] counts for this invariant.
    pub fn checked_unit(self) -> &'static str {
        match self {
            Invariant::NoMessageLost => "messages followed",
            Invariant::EffectAppliedOnce => "effects applied",
            Invariant::PerKeyOrder => "keyed messages processed",
            Invariant::BreakerProtectsCaller => "calls to services with dependencies",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One claim of a scenario's `invariants` list: `{ "claim": "no_message_lost" }` or
/// `{ "claim": "effect_applied_once", "services": ["accounting"] }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    /// The invariant claimed.
    pub claim: Invariant,
    /// Services it is limited to (names of service nodes, at most [`MAX_CLAIM_SERVICES`]);
    /// empty (the default): every service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

impl ClaimSpec {
    /// `no_message_lost` or `effect_applied_once @ accounting, kitchen`.
    pub fn label(&self) -> String {
        if self.services.is_empty() {
            self.claim.to_string()
        } else {
            format!("{} @ {}", self.claim, self.services.join(", "))
        }
    }
}

/// Where a claim stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InvariantState {
    /// No violating event so far.
    Holding,
    /// The first violating event.
    Violated {
        /// Its trace sequence number ([`TraceEvent::seq`]).
        seq: u64,
        /// Its virtual time.
        time: SimTime,
        /// One line: what broke the claim.
        reason: String,
        /// The event's trace line (its `Display`), kept here because the trace's ring buffer
        /// may evict the event.
        line: String,
    },
}

/// A claim and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvariantStatus {
    /// The claim.
    pub claim: ClaimSpec,
    /// Holding, or the first violation.
    pub state: InvariantState,
    /// Things checked so far (see [`Invariant::checked_unit`]).
    pub checked: u64,
    /// Violating events so far (the first is in `state`).
    pub violations: u64,
}

impl InvariantStatus {
    /// `true` while no violation was seen.
    pub fn holds(&self) -> bool {
        self.state == InvariantState::Holding
    }
}

/// A set of `(message, tag)` entries that forgets its smallest entries beyond [`MAX_TRACKED`]
/// (message ids grow with time, so the smallest is the oldest): 64-id bitmaps in a persistent
/// B-tree ([`crate::id_bitmap::IdBitmap`]). The checker is cloned with the trace by every
/// timeline checkpoint, and a clone shares every node (a later insert copies only its path),
/// instead of copying up to 100 000 entries; an entry costs a few bits of a shared word.
type Bounded<S> = crate::id_bitmap::IdBitmap<S, MAX_TRACKED>;

/// A record's producing service, topic and key.
type RecordOrigin = (Arc<str>, Arc<str>, Option<Arc<str>>);
/// (service, channel or partition, key).
type OrderSlot = (Arc<str>, Arc<str>, Arc<str>);
/// Offsets below `.0` are all processed; `.1` holds the processed ones above it.
type Consumed = (u64, BTreeSet<u64>);

/// Checks a scenario's claims against its trace events, one at a time (see the module docs).
#[derive(Clone, Debug)]
pub struct InvariantChecker {
    statuses: Vec<InvariantStatus>,
    scopes: Vec<BTreeSet<Arc<str>>>,
    /// Services whose receivers are `idempotent`.
    idempotent: BTreeSet<Arc<str>>,
    /// Services that call other services.
    callers: BTreeSet<Arc<str>>,
    /// Consumer services of each queue channel.
    queue_consumers: BTreeMap<String, Vec<Arc<str>>>,
    /// Messages the broker enqueued (or confirmed as duplicates), or appended to a partition.
    enqueued: Bounded<()>,
    /// Messages published (any attempt) by anyone.
    published: Bounded<()>,
    /// Dual writes: (message, service, instance) committed and not published yet.
    unpublished: Bounded<(Arc<str>, u32)>,
    /// Effects applied: (message, service).
    effects: Bounded<Arc<str>>,
    /// First processings (message, service), and first appends (message, `log`).
    processed: Bounded<Arc<str>>,
    /// Commit LSN of messages from a database transaction.
    lsn: imbl::OrdMap<MessageId, u64>,
    /// Records of partitioned topics: message -> (producing service, topic, key).
    records: imbl::OrdMap<MessageId, RecordOrigin>,
    /// Per (service, channel, key): the highest rank first processed, and its message.
    order: BTreeMap<OrderSlot, (u64, MessageId)>,
    /// Per (consuming service, partition): offsets below the first are all processed; the set
    /// holds the processed ones above it.
    consumed: BTreeMap<(Arc<str>, Arc<str>), Consumed>,
    /// `breaker_protects_caller`: the faults no breaker can prevent, as commands left them.
    faults: FaultBook,
    /// Publish packets of each message still on the wire (sent or duplicated, not yet arrived
    /// or dropped): a producer that gives up while a copy is in flight has not lost the message
    /// yet, since the broker may still receive it.
    publishing: BTreeMap<MessageId, u32>,
    /// Messages whose producer gave up while copies were in flight: (producer, attempts). The
    /// message is lost if the last copy is dropped before the broker enqueued it.
    gave_up: BTreeMap<MessageId, (Endpoint, u32)>,
}

/// What a fault hits, for [`Invariant::BreakerProtectsCaller`]'s excuses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FaultKey {
    /// A node: one of its instances crashed or paused, or its API's behaviour changed.
    Node(Arc<str>),
    /// A link, its two node names in sort order.
    Link(Arc<str>, Arc<str>),
}

/// The state of one [`FaultKey`].
#[derive(Clone, Debug, Default)]
struct FaultState {
    crashed: BTreeSet<u32>,
    paused: BTreeSet<u32>,
    /// Node: current behaviour of each endpoint differs from the scenario's.
    endpoints_changed: BTreeSet<u32>,
    /// Link: current faults of the two directions (sorted-name order), when not the scenario's.
    dirs: [Option<crate::network::LinkFaults>; 2],
    /// The end of the last fault, if one ended.
    healed: Option<SimTime>,
}

impl FaultState {
    fn faulted(&self) -> bool {
        !self.crashed.is_empty()
            || !self.paused.is_empty()
            || !self.endpoints_changed.is_empty()
            || self.dirs.iter().any(Option::is_some)
    }
}

/// Faults applied by commands (the fault schedule and the user's), bounded by the scenario's
/// nodes and links.
#[derive(Clone, Debug, Default)]
struct FaultBook {
    /// Nothing to track unless `breaker_protects_caller` is claimed.
    enabled: bool,
    /// Links' faults as the scenario declares them: (sorted a, sorted b) -> faults.
    initial_links: BTreeMap<(Arc<str>, Arc<str>), crate::network::LinkFaults>,
    /// Endpoints' behaviour as the scenario declares it, per service.
    initial_endpoints: BTreeMap<Arc<str>, Vec<crate::sync::ServerBehaviour>>,
    /// [`settle_us`] of each service with an API.
    settle: BTreeMap<Arc<str>, u64>,
    states: BTreeMap<FaultKey, FaultState>,
}

impl FaultBook {
    fn new(scenario: &Scenario, enabled: bool) -> FaultBook {
        let mut book = FaultBook {
            enabled,
            ..FaultBook::default()
        };
        if !enabled {
            return book;
        }
        for l in &scenario.links {
            let (a, b) = sorted(&l.a, &l.b);
            book.initial_links.insert((a, b), l.faults.clone());
        }
        for api in &scenario.apis {
            let behaviours = api.endpoints.iter().map(|e| e.behaviour.clone()).collect();
            book.initial_endpoints
                .insert(Arc::from(api.service.as_str()), behaviours);
            book.settle.insert(
                Arc::from(api.service.as_str()),
                settle_us(scenario, &api.service),
            );
        }
        book
    }

    /// Applies `f` to the state of `key`, recording the end of a fault.
    fn update(&mut self, now: SimTime, key: FaultKey, f: impl FnOnce(&mut FaultState)) {
        let st = self.states.entry(key).or_default();
        let before = st.faulted();
        f(st);
        if before && !st.faulted() {
            st.healed = Some(now);
        }
    }

    /// A link's direction from `a` to `b` (0 when `a` sorts first).
    fn link_key(a: &str, b: &str) -> (FaultKey, usize) {
        let (x, y) = sorted(a, b);
        let dir = usize::from(a > b);
        (FaultKey::Link(x, y), dir)
    }

    /// Changes the faults of directions `dirs` of link `a`–`b` with `f`.
    fn link(
        &mut self,
        now: SimTime,
        a: &str,
        b: &str,
        dirs: &[bool; 2],
        f: impl Fn(&mut crate::network::LinkFaults),
    ) {
        let (key, _) = Self::link_key(a, b);
        let FaultKey::Link(x, y) = &key else { return };
        let Some(initial) = self
            .initial_links
            .get(&(Arc::clone(x), Arc::clone(y)))
            .cloned()
        else {
            return;
        };
        self.update(now, key, |st| {
            for (d, on) in dirs.iter().enumerate() {
                if *on {
                    let mut cur = st.dirs[d].clone().unwrap_or_else(|| initial.clone());
                    f(&mut cur);
                    st.dirs[d] = (cur != initial).then_some(cur);
                }
            }
        });
    }

    /// Records a command's effect on nodes and links.
    fn command(&mut self, now: SimTime, cmd: &crate::command::Command) {
        use crate::command::Command as C;
        use crate::network::Direction;
        if !self.enabled {
            return;
        }
        let node = |n: &String| FaultKey::Node(Arc::from(n.as_str()));
        match cmd {
            C::Crash { node: n, instance } => self.update(now, node(n), |s| {
                s.crashed.insert(*instance);
            }),
            C::Pause { node: n, instance } => self.update(now, node(n), |s| {
                s.paused.insert(*instance);
            }),
            C::Restart { node: n, instance } => self.update(now, node(n), |s| {
                s.crashed.remove(instance);
                s.paused.remove(instance);
            }),
            C::Resume { node: n, instance } => self.update(now, node(n), |s| {
                s.paused.remove(instance);
            }),
            C::SetEndpoint {
                node: n,
                endpoint,
                behaviour,
            } => {
                let Some(initial) = self.initial_endpoints.get(n.as_str()).cloned() else {
                    return;
                };
                self.update(now, node(n), |s| {
                    for (e, b) in initial.iter().enumerate() {
                        if endpoint.is_none_or(|x| x as usize == e) {
                            if b == behaviour {
                                s.endpoints_changed.remove(&(e as u32));
                            } else {
                                s.endpoints_changed.insert(e as u32);
                            }
                        }
                    }
                });
            }
            C::SetLink {
                a,
                b,
                direction,
                faults,
            } => {
                let (_, d) = Self::link_key(a, b);
                let mut dirs = [false; 2];
                match direction {
                    Direction::Both => dirs = [true; 2],
                    Direction::AToB => dirs[d] = true,
                    Direction::BToA => dirs[1 - d] = true,
                }
                self.link(now, a, b, &dirs, |f| *f = faults.clone());
            }
            C::Partition { a, b } => self.link(now, a, b, &[true; 2], |f| f.partitioned = true),
            C::PartitionOneway { a, b } => {
                let (_, d) = Self::link_key(a, b);
                let mut dirs = [false; 2];
                dirs[d] = true;
                self.link(now, a, b, &dirs, |f| f.partitioned = true);
            }
            C::Repair { a, b } => self.link(now, a, b, &[true; 2], |f| f.partitioned = false),
            C::RepairOneway { a, b } => {
                let (_, d) = Self::link_key(a, b);
                let mut dirs = [false; 2];
                dirs[d] = true;
                self.link(now, a, b, &dirs, |f| f.partitioned = false);
            }
            C::Hold { a, b } => self.link(now, a, b, &[true; 2], |f| f.held = true),
            C::Release { a, b } => self.link(now, a, b, &[true; 2], |f| f.held = false),
            _ => {}
        }
    }

    /// The first fault no breaker can prevent that overlapped `[start, now]` for a call from
    /// `caller` to `service`, described (`checkout-b crashed or paused`), if any.
    fn excuse(&self, start: SimTime, caller: &str, service: &str) -> Option<String> {
        let (x, y) = sorted(caller, service);
        let keys = [
            (
                FaultKey::Node(Arc::from(caller)),
                format!("{caller} crashed or paused"),
            ),
            (
                FaultKey::Node(Arc::from(service)),
                format!("{service} crashed, paused or its own endpoints changed"),
            ),
            (
                FaultKey::Link(x, y),
                format!("the {caller}–{service} link faulted"),
            ),
        ];
        keys.into_iter().find_map(|(k, what)| {
            let st = self.states.get(&k)?;
            let settle = self.settle.get(service).copied().unwrap_or(FAULT_SETTLE_US);
            let settled = |h: SimTime| h.plus_us(settle) < start;
            (st.faulted() || st.healed.is_some_and(|h| !settled(h))).then_some(what)
        })
    }
}

/// Two names in sort order.
fn sorted(a: &str, b: &str) -> (Arc<str>, Arc<str>) {
    if a <= b {
        (Arc::from(a), Arc::from(b))
    } else {
        (Arc::from(b), Arc::from(a))
    }
}

/// `true` when a claim with `scope` (empty: everything) concerns an event of `services`.
fn in_scope<S: AsRef<str>>(scope: &BTreeSet<Arc<str>>, services: &[S]) -> bool {
    scope.is_empty() || services.iter().any(|s| scope.contains(s.as_ref()))
}

/// The topic of a partition name `orders-2`.
fn topic_of(tp: &str) -> &str {
    tp.rsplit_once('-').map_or(tp, |(t, _)| t)
}

fn insert_bounded<K: Ord, V>(map: &mut BTreeMap<K, V>, k: K, v: V) {
    map.insert(k, v);
    if map.len() > MAX_TRACKED {
        map.pop_first();
    }
}

/// [`insert_bounded`] for a persistent map (shared by the checker's clones, see [`Bounded`]).
fn insert_bounded_shared<K: Ord + Clone, V: Clone>(map: &mut imbl::OrdMap<K, V>, k: K, v: V) {
    map.insert(k, v);
    if map.len() > MAX_TRACKED {
        if let Some(first) = map.get_min().map(|(k, _)| k.clone()) {
            map.remove(&first);
        }
    }
}

impl InvariantChecker {
    /// A checker for the claims of `scenario` (already validated), all holding.
    pub fn new(scenario: &Scenario) -> InvariantChecker {
        let statuses = scenario
            .invariants
            .iter()
            .map(|c| InvariantStatus {
                claim: c.clone(),
                state: InvariantState::Holding,
                checked: 0,
                violations: 0,
            })
            .collect();
        let scopes = scenario
            .invariants
            .iter()
            .map(|c| c.services.iter().map(|s| Arc::from(s.as_str())).collect())
            .collect();
        let idempotent = scenario
            .nodes
            .iter()
            .filter(|n| {
                n.kind == NodeKind::Service && n.duplicates == DuplicateHandling::Idempotent
            })
            .map(|n| Arc::from(n.name.as_str()))
            .collect();
        let mut callers: BTreeSet<Arc<str>> = scenario
            .dependencies
            .iter()
            .map(|d| Arc::from(d.from.as_str()))
            .collect();
        for api in &scenario.apis {
            if api.endpoints.iter().any(|e| !e.downstream.is_empty()) {
                callers.insert(Arc::from(api.service.as_str()));
            }
        }
        let queue_consumers = scenario
            .channels
            .iter()
            .map(|c| {
                let consumers = c.consumers.iter().map(|s| Arc::from(s.as_str())).collect();
                (c.name.clone(), consumers)
            })
            .collect();
        let faults = FaultBook::new(
            scenario,
            scenario
                .invariants
                .iter()
                .any(|c| c.claim == Invariant::BreakerProtectsCaller),
        );
        InvariantChecker {
            faults,
            statuses,
            scopes,
            idempotent,
            callers,
            queue_consumers,
            enqueued: Bounded::default(),
            published: Bounded::default(),
            unpublished: Bounded::default(),
            effects: Bounded::default(),
            processed: Bounded::default(),
            lsn: imbl::OrdMap::new(),
            records: imbl::OrdMap::new(),
            order: BTreeMap::new(),
            consumed: BTreeMap::new(),
            publishing: BTreeMap::new(),
            gave_up: BTreeMap::new(),
        }
    }

    /// One publish copy of `msg` arrived or was dropped; `true` when none is left on the wire.
    fn publish_landed(&mut self, msg: MessageId) -> bool {
        match self.publishing.get_mut(&msg) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.publishing.remove(&msg);
                true
            }
            None => true,
        }
    }

    /// The claims and where they stand, in the scenario's order.
    pub fn statuses(&self) -> &[InvariantStatus] {
        &self.statuses
    }

    /// `true` when the scenario claims `invariant` (for any services).
    fn claims(&self, invariant: Invariant) -> bool {
        self.statuses.iter().any(|s| s.claim.claim == invariant)
    }

    /// The consumer services of a queue (`channel`) or subscription (`topic/subscriber`).
    fn consumers_of(&self, queue: &str) -> Vec<Arc<str>> {
        match queue.rsplit_once('/') {
            Some((_, subscriber)) => vec![Arc::from(subscriber)],
            None => self.queue_consumers.get(queue).cloned().unwrap_or_default(),
        }
    }

    /// Counts one checked thing of `invariant` concerning `services`.
    fn count<S: AsRef<str>>(&mut self, invariant: Invariant, services: &[S]) {
        for (s, scope) in self.statuses.iter_mut().zip(&self.scopes) {
            if s.claim.claim == invariant && in_scope(scope, services) {
                s.checked += 1;
            }
        }
    }

    /// [`Self::count`] for the consumers of `queue` ([`Self::consumers_of`]), without copying
    /// them (runs on every enqueue).
    fn count_consumers(&mut self, invariant: Invariant, queue: &str) {
        match queue.rsplit_once('/') {
            Some((_, subscriber)) => self.count(invariant, &[subscriber]),
            None => {
                let consumers = self.queue_consumers.get(queue).map_or(&[][..], |c| &c[..]);
                for (s, scope) in self.statuses.iter_mut().zip(&self.scopes) {
                    if s.claim.claim == invariant && in_scope(scope, consumers) {
                        s.checked += 1;
                    }
                }
            }
        }
    }

    /// Records a violation of `invariant` concerning `services` by `event`.
    fn violate(
        &mut self,
        invariant: Invariant,
        services: &[&str],
        event: &TraceEvent,
        reason: impl Fn() -> String,
    ) {
        for (s, scope) in self.statuses.iter_mut().zip(&self.scopes) {
            if s.claim.claim != invariant || !in_scope(scope, services) {
                continue;
            }
            s.violations += 1;
            if s.state == InvariantState::Holding {
                s.state = InvariantState::Violated {
                    seq: event.seq,
                    time: event.time,
                    reason: reason(),
                    line: event.to_string(),
                };
            }
        }
    }

    /// Feeds one applied command (from the fault schedule or the user), before its `command`
    /// trace event: `breaker_protects_caller` excuses failures under faults no breaker can
    /// prevent (see the module docs).
    pub fn command(&mut self, now: SimTime, cmd: &crate::command::Command) {
        self.faults.command(now, cmd);
    }

    /// Feeds one trace event. `key` is the channel and message key of a `process` event (the
    /// trace line does not show them), `None` otherwise.
    pub fn observe(&mut self, event: &TraceEvent, key: Option<(&str, &str)>) {
        if self.statuses.is_empty() {
            return;
        }
        use Invariant::*;
        match &event.what {
            TraceKind::Send {
                from,
                to,
                packet,
                msg,
                attempt,
                duplicate,
                ..
            } => {
                let first = *attempt == 1 && !*duplicate;
                if *packet == PacketKind::Publish {
                    if self.claims(NoMessageLost) {
                        *self.publishing.entry(*msg).or_insert(0) += 1;
                        if self.publishing.len() > MAX_TRACKED {
                            self.publishing.pop_first();
                        }
                    }
                    self.published.insert(msg.0, ());
                    self.unpublished
                        .remove(msg.0, (Arc::clone(&from.node), from.instance));
                    if first {
                        self.count(NoMessageLost, &[&from.node]);
                    }
                } else if *packet == PacketKind::Direct && first {
                    self.count(NoMessageLost, &[&from.node, &to.node]);
                }
            }
            TraceKind::Produce {
                at,
                tp,
                msg,
                key,
                attempt,
                ..
            } if *attempt == 1 => {
                self.count(NoMessageLost, &[&at.node]);
                let key = key.as_deref().map(Arc::from);
                let record = (Arc::clone(&at.node), Arc::from(topic_of(tp)), key);
                insert_bounded_shared(&mut self.records, *msg, record);
            }
            TraceKind::Enqueue { queue, msg, .. } => {
                self.enqueued.insert(msg.0, ());
                self.gave_up.remove(msg);
                self.count_consumers(NoMessageLost, queue);
            }
            TraceKind::BrokerDuplicate { msg, .. } | TraceKind::DuplicateAppend { msg, .. } => {
                self.enqueued.insert(msg.0, ());
                self.gave_up.remove(msg);
            }
            TraceKind::Append {
                broker, tp, msg, ..
            } => {
                self.enqueued.insert(msg.0, ());
                self.appended(event, broker, tp, *msg);
            }
            TraceKind::Arrive {
                packet: PacketKind::Publish,
                msg,
                ..
            } => {
                self.publish_landed(*msg);
            }
            TraceKind::GiveUp { at, msg, attempts } if !self.enqueued.contains(msg.0, ()) => {
                if self.publishing.contains_key(msg) {
                    // A copy is still on its way: lost only if it never reaches the broker.
                    insert_bounded(&mut self.gave_up, *msg, (at.clone(), *attempts));
                } else {
                    self.violate(NoMessageLost, &[&at.node], event, || {
                        format!("{at} gave up publishing {msg} after {attempts} attempts; the broker never had it")
                    });
                }
            }
            TraceKind::Drop {
                packet: PacketKind::Publish,
                msg,
                to,
                reason,
                ..
            } => {
                let last = self.publish_landed(*msg);
                let lost = last && !self.enqueued.contains(msg.0, ());
                if let Some((at, attempts)) = lost.then(|| self.gave_up.remove(msg)).flatten() {
                    self.violate(NoMessageLost, &[&at.node], event, || {
                        format!(
                            "{at} gave up publishing {msg} after {attempts} attempts and its last copy on the way to {to} was dropped ({}); the broker never had it",
                            reason.as_str()
                        )
                    });
                }
            }
            TraceKind::ProduceFailed { at, tp, msg, error }
                if !self.enqueued.contains(msg.0, ()) =>
            {
                self.violate(NoMessageLost, &[&at.node], event, || {
                    format!("{at} gave up producing {msg} to {tp} ({error}); it was never appended")
                });
            }
            TraceKind::Drop {
                from,
                to,
                packet: PacketKind::Direct,
                msg,
                reason,
                ..
            } => {
                self.violate(NoMessageLost, &[&from.node, &to.node], event, || {
                    format!(
                        "brokerless {msg} from {from} to {to} dropped ({}); nothing resends it",
                        reason.as_str()
                    )
                });
            }
            TraceKind::InstanceLost { at, direct, .. } if *direct > 0 => {
                self.violate(NoMessageLost, &[&at.node], event, || {
                    format!("{at} crashed with {direct} brokerless messages not yet handled")
                });
            }
            TraceKind::QueueLost { queue, messages } if *messages > 0 => {
                let consumers = self.consumers_of(queue);
                let names: Vec<&str> = consumers.iter().map(|c| &**c).collect();
                self.violate(NoMessageLost, &names, event, || {
                    format!("non-durable {queue} lost {messages} messages in a broker crash")
                });
            }
            TraceKind::RecordsDropped {
                at,
                tp,
                offsets,
                reason,
            } if !offsets.is_empty() => {
                self.violate(NoMessageLost, &[&at.node], event, || {
                    format!(
                        "{at} dropped {} fetched records of {tp} unprocessed ({reason})",
                        offsets.len()
                    )
                });
                self.consumed_offsets(&at.node, tp, offsets);
            }
            TraceKind::TxCommit {
                at,
                lsn,
                outbox_row,
                msg: Some(msg),
                ..
            } => {
                if self.claims(PerKeyOrder) {
                    insert_bounded_shared(&mut self.lsn, *msg, *lsn);
                }
                self.count(NoMessageLost, &[&at.node]);
                if outbox_row.is_none()
                    && self.claims(NoMessageLost)
                    && !self.published.contains(msg.0, ())
                {
                    self.unpublished
                        .insert(msg.0, (Arc::clone(&at.node), at.instance));
                }
            }
            TraceKind::FailpointCrash { at, point } => {
                let tag = (Arc::clone(&at.node), at.instance);
                let lost: Vec<MessageId> = self.unpublished.ids_with(&tag).map(MessageId).collect();
                for m in &lost {
                    self.unpublished.remove(m.0, tag.clone());
                }
                if let Some(first) = lost.first() {
                    self.violate(NoMessageLost, &[&at.node], event, || {
                        format!(
                            "{at} crashed ({}) after committing {first} and before publishing it",
                            point.as_str()
                        )
                    });
                }
            }
            TraceKind::Process {
                at, msg, applied, ..
            } => {
                if *applied && !self.idempotent.contains(&at.node) {
                    self.effect(event, at, *msg);
                }
                if let Some((channel, k)) = key {
                    self.first_processing(event, at, *msg, channel, k);
                }
            }
            TraceKind::IdempotentSet {
                at,
                msg,
                changed: true,
                ..
            } => self.effect(event, at, *msg),
            TraceKind::Consume {
                at,
                tp,
                offset,
                msg,
                applied,
                ..
            } => {
                if *applied {
                    self.effect(event, at, *msg);
                }
                self.consumed_offsets(&at.node, tp, &[*offset]);
                if let Some((_, topic, Some(k))) = self.records.get(msg).cloned() {
                    self.first_processing(event, at, *msg, &topic, &k);
                }
            }
            TraceKind::Assign {
                at,
                topic,
                partitions,
                ..
            } => {
                for (p, committed) in partitions {
                    if let Some(c) = committed {
                        self.assigned(event, at, topic, *p, *c);
                    }
                }
            }
            TraceKind::CallDone {
                at,
                call,
                service,
                error,
                fallback,
                elapsed_us,
                ..
            } if self.callers.contains(service) => {
                let start = SimTime(event.time.as_us().saturating_sub(*elapsed_us));
                if self.faults.excuse(start, &at.node, service).is_some() {
                    return;
                }
                self.count(BreakerProtectsCaller, &[&at.node]);
                if let (Some(error), false) = (error, fallback) {
                    self.violate(BreakerProtectsCaller, &[&at.node], event, || {
                        format!(
                            "{at}'s call c{call} to {service} failed ({error}) after {} ms while {service} and the {}–{service} link were healthy: a failure of {service}'s dependencies reached its caller without a fallback",
                            elapsed_us / 1000,
                            at.node
                        )
                    });
                }
            }
            _ => {}
        }
    }

    fn effect(&mut self, event: &TraceEvent, at: &Endpoint, msg: MessageId) {
        if !self.claims(Invariant::EffectAppliedOnce) {
            return;
        }
        self.count(Invariant::EffectAppliedOnce, &[&at.node]);
        if !self.effects.insert(msg.0, Arc::clone(&at.node)) {
            self.violate(Invariant::EffectAppliedOnce, &[&at.node], event, || {
                format!(
                    "{at} applied the effect of {msg} again: {} has it twice",
                    at.node
                )
            });
        }
    }

    /// Checks that `msg` is not first processed at `at` after a later message of its key.
    fn first_processing(
        &mut self,
        event: &TraceEvent,
        at: &Endpoint,
        msg: MessageId,
        channel: &str,
        key: &str,
    ) {
        if !self.claims(Invariant::PerKeyOrder)
            || !self.processed.insert(msg.0, Arc::clone(&at.node))
        {
            return;
        }
        self.count(Invariant::PerKeyOrder, &[&at.node]);
        let rank = self.lsn.get(&msg).copied().unwrap_or(msg.0);
        let slot = (Arc::clone(&at.node), Arc::from(channel), Arc::from(key));
        match self.order.get(&slot).copied() {
            Some((last, later)) if last > rank => {
                self.violate(Invariant::PerKeyOrder, &[&at.node], event, || {
                    format!("{at} processed {msg} (key {key}) after {later}, a later message of that key")
                });
            }
            _ => insert_bounded(&mut self.order, slot, (rank, msg)),
        }
    }

    /// A record's first append to a partition: the log must keep its producer's per-key order.
    fn appended(&mut self, event: &TraceEvent, broker: &Endpoint, tp: &str, msg: MessageId) {
        if !self.claims(Invariant::PerKeyOrder) {
            return;
        }
        let Some((producer, _, Some(key))) = self.records.get(&msg).cloned() else {
            return;
        };
        if !self.processed.insert(msg.0, Arc::from("log")) {
            return;
        }
        self.count(Invariant::PerKeyOrder, &[&producer]);
        let slot = (Arc::clone(&producer), Arc::from(tp), Arc::clone(&key));
        match self.order.get(&slot).copied() {
            Some((last, later)) if last > msg.0 => {
                self.violate(Invariant::PerKeyOrder, &[&producer], event, || {
                    format!("{broker} appended {msg} (key {key}) to {tp} after {later}, a later message of that key from {producer}")
                });
            }
            _ => insert_bounded(&mut self.order, slot, (msg.0, msg)),
        }
    }

    /// `service` processed (or, at most once, dropped) `offsets` of partition `tp`.
    fn consumed_offsets(&mut self, service: &Arc<str>, tp: &str, offsets: &[u64]) {
        if !self.claims(Invariant::NoMessageLost) {
            return;
        }
        let slot = (Arc::clone(service), Arc::from(tp));
        let (low, above) = self.consumed.entry(slot).or_default();
        let mut new = 0;
        for &o in offsets {
            if o >= *low && above.insert(o) {
                new += 1;
            }
        }
        while above.remove(low) {
            *low += 1;
        }
        if above.len() > MAX_TRACKED {
            // Forget the oldest gap: its records count as processed.
            if let Some(first) = above.pop_first() {
                *low = first + 1;
            }
        }
        if self.consumed.len() > MAX_TRACKED {
            self.consumed.pop_first();
        }
        for _ in 0..new {
            self.count(Invariant::NoMessageLost, &[service]);
        }
    }

    /// `at` starts partition `p` of `topic` from committed offset `committed`: every record
    /// below it must have been processed by `at`'s service.
    fn assigned(&mut self, event: &TraceEvent, at: &Endpoint, topic: &str, p: u32, committed: u64) {
        if !self.claims(Invariant::NoMessageLost) {
            return;
        }
        let tp: Arc<str> = Arc::from(format!("{topic}-{p}").as_str());
        let slot = (Arc::clone(&at.node), Arc::clone(&tp));
        let (low, above) = self.consumed.entry(slot).or_default();
        if *low >= committed {
            return;
        }
        let missing: Vec<u64> = (*low..committed).filter(|o| !above.contains(o)).collect();
        *low = committed;
        above.retain(|o| *o >= committed);
        while above.remove(low) {
            *low += 1;
        }
        if let (Some(first), n) = (missing.first().copied(), missing.len()) {
            self.violate(Invariant::NoMessageLost, &[&at.node], event, || {
                format!("{at} starts {tp} at committed offset {committed}, but {n} records below it (from offset {first}) were never processed by {}", at.node)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_forget_their_oldest_entries_beyond_the_bound() {
        let mut b: Bounded<()> = Bounded::default();
        for i in 0..(MAX_TRACKED as u64 + 3) {
            assert!(b.insert(i, ()));
        }
        assert_eq!(b.len(), MAX_TRACKED);
        assert!(!b.contains(2, ()) && b.contains(3, ()));
        assert!(!b.insert(4, ()), "still remembered");
        // A clone shares the tree: both keep their own contents after diverging.
        let before = b.clone();
        assert!(b.insert(MAX_TRACKED as u64 + 3, ()));
        assert!(before.contains(3, ()) && !before.contains(MAX_TRACKED as u64 + 3, ()));
        assert!(!b.contains(3, ()) && b.contains(4, ()));
        let mut m = BTreeMap::new();
        for i in 0..(MAX_TRACKED as u64 + 1) {
            insert_bounded(&mut m, i, ());
        }
        assert_eq!((m.len(), m.keys().next()), (MAX_TRACKED, Some(&1)));
        let mut m = imbl::OrdMap::new();
        for i in 0..(MAX_TRACKED as u64 + 1) {
            insert_bounded_shared(&mut m, i, ());
        }
        assert_eq!((m.len(), m.keys().next()), (MAX_TRACKED, Some(&1)));
    }

    #[test]
    fn names_and_scope() {
        assert_eq!(
            Invariant::BreakerProtectsCaller.as_str(),
            "breaker_protects_caller"
        );
        assert_eq!(topic_of("orders-plain-12"), "orders-plain");
        let scope: BTreeSet<Arc<str>> = [Arc::from("a")].into_iter().collect();
        assert!(in_scope(&scope, &["b", "a"]));
        assert!(!in_scope(&scope, &["b"]));
        assert!(in_scope::<&str>(&BTreeSet::new(), &[]));
        let c = ClaimSpec {
            claim: Invariant::PerKeyOrder,
            services: vec!["x".into(), "y".into()],
        };
        assert_eq!(c.label(), "per_key_order @ x, y");
    }
}
