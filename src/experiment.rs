//! Experiments: a scenario's "what to try", as data. Each experiment is a title, the commands a
//! reader applies with one click (at the current virtual time), what to look for in plain words,
//! and an expectation a machine can check against a [`Snapshot`]: the page shows it as expected vs
//! actual (✓ once met, with the number), and `tests/experiments.rs` asserts it for every built-in.
//!
//! JSON (the scenario's optional `experiments` field):
//!
//! ```json
//! { "title": "Crash the relay between publish and mark",
//!   "at_ms": 2000,
//!   "commands": [ { "op": "arm_crash", "node": "order-relay", "point": "after_publish" } ],
//!   "look_for": "the rows it published are published again; Accounting charges twice",
//!   "expect": { "invariant": { "claim": "effect_applied_once", "services": ["accounting"] },
//!               "holds": false },
//!   "within_ms": 3000 }
//! ```
//!
//! Expectations (`expect`, exactly one of):
//! - a counter rising: `{"counter": "dead_lettered", "rises_by": 5}` (run-wide
//!   [`crate::Metrics`]), scoped with `"node"` ([`crate::snapshot::NodeMetrics`] of a service),
//!   `"client"` + `"service"` ([`crate::sync::ClientMetrics`] of a client's proxies for one
//!   service, summed over its instances), `"server"` ([`crate::sync::ServerMetrics`]), `"queue"`
//!   (a queue or `topic/subscriber` subscription: `ready`, `unacked`, `dead_letters`,
//!   `enqueued`, `acked`, `redelivered`, `nacked`, `lost`), `"channel"`
//!   (`duplicates_dropped`) or `"topic"` (a partitioned topic: `appended`,
//!   `duplicates_discarded`, `rejected`, and `lag` / `rebalance_count` of its groups, or of the
//!   one of `"group"`, a consuming service), `"relay"` (a relay's counters: `publishes`,
//!   `republished`, `saves`, …), `"strategy"` (a producing service's event accounting: `lost`,
//!   `phantom`, `duplicates`, …) or `"replica"` (`lag_now_us`, `stale_reads`, …); a service's
//!   counters include `repeats` (`processed − distinct`) and `extra_effects`
//!   (`effects − effects_expected`); `rises_by` counts from the value when the experiment was applied,
//!   `at_least` is an absolute value;
//! - a claimed invariant turning ✗ (`"holds": false`: first violated after the experiment was
//!   applied) or staying ✓ (`"holds": true`): `{"invariant": {"claim": …, "services": […]},
//!   "holds": false}`; the claim must be one of the scenario's `invariants`;
//! - a circuit breaker reaching a state (now, or by a transition since the experiment was
//!   applied): `{"breaker": {"node": "checkout-b", "instance": 0, "service": "payments-b"},
//!   "state": "OPEN"}`.

use crate::command::Command;
use crate::error::ScenarioError;
use crate::invariants::{ClaimSpec, InvariantState};
use crate::resilience::circuit_breaker::CircuitBreakerState;
use crate::scenario::Scenario;
use crate::snapshot::Snapshot;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// At most this many experiments per scenario.
pub const MAX_EXPERIMENTS: usize = 12;
/// At most this many commands per experiment.
pub const MAX_EXPERIMENT_COMMANDS: usize = 16;
/// Longest title, characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Longest `look_for` text, characters.
pub const MAX_LOOK_FOR_CHARS: usize = 600;
/// At most this many follow-up commands per experiment.
pub const MAX_FOLLOW_UPS: usize = 8;
/// Largest follow-up delay, ms.
pub const MAX_FOLLOW_UP_MS: u64 = 60_000;
/// Largest `within_ms` (and `at_ms`): 10 minutes of virtual time.
pub const MAX_EXPERIMENT_MS: u64 = 600_000;

/// Run-wide counters an expectation may name (fields of [`crate::Metrics`]).
const RUN_COUNTERS: &[&str] = &[
    "sent",
    "delivered",
    "dropped",
    "duplicated",
    "redelivered",
    "retried",
    "acked",
    "processed",
    "effects",
    "duplicates_discarded",
    "published",
    "publish_failed",
    "dead_lettered",
    "requests",
    "replies",
    "requests_completed",
    "requests_timed_out",
    "requests_abandoned",
    "decisions",
    "late_replies",
    "duplicate_replies",
    "direct_sent",
    "direct_lost",
    "handler_failures",
    "nacked",
    "broker_duplicates",
    "broker_lost",
    "backlog_lost",
    "calls",
    "calls_ok",
    "calls_failed",
    "fallbacks",
    "http_requests",
];
/// Per-service counters ([`crate::snapshot::NodeMetrics`]).
const NODE_COUNTERS: &[&str] = &[
    "processed",
    "effects",
    "distinct",
    "duplicates_discarded",
    "published",
    "confirmed",
    "retried",
    "publish_failed",
    "skipped",
    "effects_expected",
    "handler_failures",
    "requests",
    "requests_completed",
    "requests_timed_out",
    "decisions",
    "late_replies",
    "duplicate_replies",
    "replies_sent",
    "repeats",
    "extra_effects",
];
/// Message relay counters ([`crate::outbox::view::RelayMetrics`]).
const RELAY_COUNTERS: &[&str] = &[
    "reads",
    "records_read",
    "publishes",
    "republished",
    "confirmed",
    "rejected",
    "timeouts",
    "rewinds",
    "marked",
    "deleted",
    "saves",
    "skipped",
    "crashes",
];
/// Event accounting of a producing service's strategies (outbox, dual writes), summed
/// ([`crate::outbox::view::StrategyView`]).
const STRATEGY_COUNTERS: &[&str] = &[
    "operations",
    "committed",
    "rolled_back",
    "published",
    "pending",
    "lost",
    "phantom",
    "duplicates",
];
/// Replica counters ([`crate::outbox::view::ReplicaView`]).
const REPLICA_COUNTERS: &[&str] = &[
    "rows",
    "applied",
    "stale_ignored",
    "last_lag_us",
    "max_lag_us",
    "lag_now_us",
    "behind",
    "queries",
    "hits",
    "served_while_source_down",
    "stale_reads",
];
/// Client proxy counters ([`crate::sync::ClientMetrics`]).
const CLIENT_COUNTERS: &[&str] = &[
    "calls",
    "successes",
    "failures",
    "fallbacks",
    "attempts",
    "retries",
    "app_retries",
    "timeouts",
    "rejected_by_breaker",
    "rejected_by_bulkhead",
    "rejected_by_limiter",
    "upstream_requests",
    "server_errors",
    "client_errors",
    "connection_refused",
    "no_instance",
    "late_responses",
    "finished",
    "shed",
];
/// RPI server adapter counters ([`crate::sync::ServerMetrics`]).
const SERVER_COUNTERS: &[&str] = &[
    "requests",
    "served",
    "ok",
    "client_errors",
    "server_errors",
    "injected_errors",
    "slow",
    "queued",
    "rejected_overload",
    "refused",
];
/// Queue and subscription counters ([`crate::snapshot::QueueView`]).
const QUEUE_COUNTERS: &[&str] = &[
    "ready",
    "unacked",
    "dead_letters",
    "enqueued",
    "acked",
    "redelivered",
    "nacked",
    "lost",
];
/// Channel counters ([`crate::snapshot::ChannelView`]).
const CHANNEL_COUNTERS: &[&str] = &["duplicates_dropped"];
/// Partitioned-topic counters ([`crate::snapshot::PartitionedTopicView`]); `lag` and
/// `rebalance_count` are summed over its consumer groups (or the one of `group`).
const TOPIC_COUNTERS: &[&str] = &[
    "appended",
    "duplicates_discarded",
    "rejected",
    "lag",
    "rebalance_count",
];

/// One experiment of a scenario (see the module docs for the JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Button text, imperative: "Crash the relay between publish and mark". 1 to
    /// [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// The commands applied, in order, at the current virtual time when the button is clicked
    /// (validated against the scenario like the fault schedule). 1 to
    /// [`MAX_EXPERIMENT_COMMANDS`].
    pub commands: Vec<Command>,
    /// Follow-up commands, each applied `after_ms` after the click (a restart after a crash, a
    /// resume after a pause, a repair after a partition). At most [`MAX_FOLLOW_UPS`].
    /// Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<FollowUp>,
    /// What to watch, in plain words. At most [`MAX_LOOK_FOR_CHARS`] characters.
    pub look_for: String,
    /// The effect it promises, checked against the snapshot.
    pub expect: Expect,
    /// Where the experiment teaches best, ms of virtual time: the test applies it there and the
    /// page suggests it ("best applied at about t = …"). Default 0.
    #[serde(default)]
    pub at_ms: u64,
    /// How long after applying the effect shows, ms: the test runs that long and asserts the
    /// expectation is met by then. Default 5 000, at most [`MAX_EXPERIMENT_MS`].
    #[serde(default = "default_within_ms")]
    pub within_ms: u64,
}

/// A command applied some time after an experiment's click.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// Delay after the click, ms: 1 to [`MAX_FOLLOW_UP_MS`].
    pub after_ms: u64,
    /// The command.
    pub command: Command,
}

fn default_within_ms() -> u64 {
    5_000
}

/// A machine-checkable expectation (exactly one of the three shapes; see the module docs). Read
/// by the key it has: `counter`, `invariant` or `breaker`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Expect {
    /// A counter rises by at least `rises_by` from its value when applied, or reaches
    /// `at_least`.
    Counter(Box<CounterExpect>),
    /// A claimed invariant turns ✗ after the experiment was applied (`holds: false`) or stays
    /// ✓ (`holds: true`).
    Invariant(InvariantExpect),
    /// A client's circuit breaker reaches a state.
    Breaker(BreakerExpect),
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let has = |k: &str| v.get(k).is_some();
        let r = if has("counter") {
            serde_json::from_value(v).map(|c| Expect::Counter(Box::new(c)))
        } else if has("invariant") {
            serde_json::from_value(v).map(Expect::Invariant)
        } else if has("breaker") {
            serde_json::from_value(v).map(Expect::Breaker)
        } else {
            return Err(D::Error::custom(
                "an expectation has one of the keys `counter`, `invariant`, `breaker`",
            ));
        };
        r.map_err(|e| D::Error::custom(format!("expect: {e}")))
    }
}

/// `{"counter": "<name>", <scope>?, "rises_by" | "at_least": n}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterExpect {
    /// The counter's name, as in the snapshot's JSON (`dead_lettered`, `effects`, `timeouts`).
    pub counter: String,
    /// A service node: its [`crate::snapshot::NodeMetrics`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A client service (with `service`): its proxies' [`crate::sync::ClientMetrics`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The called service, with `client`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// A service with an API: its [`crate::sync::ServerMetrics`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// A queue (its channel name) or a subscription (`topic/subscriber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// A channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A message relay node: its [`crate::outbox::view::RelayMetrics`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
    /// A producing service: its event accounting ([`crate::outbox::view::StrategyView`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// A service keeping a replica: its [`crate::outbox::view::ReplicaView`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    /// A partitioned topic (Kafka-style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// With `topic`: the consuming service whose group's `lag` / `rebalance_count` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Rise at least this much above the value when the experiment was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rises_by: Option<u64>,
    /// Reach at least this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
    /// Rise at most this much above the value when applied (a bound that holds while it is
    /// not exceeded: "the strict relay republishes nothing").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rises_at_most: Option<u64>,
}

/// `{"invariant": {"claim": …, "services": […]}, "holds": bool}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvariantExpect {
    /// One of the scenario's claims, exactly as listed there.
    pub invariant: ClaimSpec,
    /// `false`: it turns ✗ after the experiment is applied; `true`: it stays ✓.
    pub holds: bool,
}

/// `{"breaker": {"node", "instance", "service"}, "state": "OPEN"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerExpect {
    /// Which breaker.
    pub breaker: BreakerRef,
    /// The state it reaches (Resilience4j's spelling).
    pub state: CircuitBreakerState,
}

/// A client instance's breaker for one called service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerRef {
    /// Client service.
    pub node: String,
    /// Client instance. Default 0.
    #[serde(default)]
    pub instance: u32,
    /// Called service.
    pub service: String,
}

/// What was true when an experiment was applied: its time and the counter's value then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Baseline {
    /// Virtual time of the click.
    pub at: SimTime,
    /// The counter's value then (counter expectations only).
    pub value: Option<u64>,
}

/// Expected vs actual at one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The expectation is met.
    pub met: bool,
    /// What is expected, in words: "dead_lettered of payments rises by ≥ 3".
    pub expected: String,
    /// What is true now, with the number: "+5 (2 → 7)", "✗ at t=3.412 s", "OPEN", "1.012 s" (a
    /// `…_us` counter).
    pub actual: String,
    /// The number behind `actual`: the counter's value now, or the violation time (µs).
    pub value: Option<u64>,
}

impl Experiment {
    /// What to record when the experiment is applied at `snapshot`.
    pub fn baseline(&self, snapshot: &Snapshot) -> Baseline {
        Baseline {
            at: snapshot.time,
            value: match &self.expect {
                Expect::Counter(c) => c.measure(snapshot),
                _ => None,
            },
        }
    }
}

impl CounterExpect {
    fn scope(&self) -> String {
        match (
            &self.node,
            &self.client,
            &self.service,
            &self.server,
            &self.queue,
            &self.channel,
        ) {
            (Some(n), ..) => format!(" of {n}"),
            (_, Some(c), Some(s), ..) => format!(" of {c} -> {s}"),
            (_, _, _, Some(s), ..) => format!(" of server {s}"),
            (_, _, _, _, Some(q), _) => format!(" of queue {q}"),
            (.., Some(c)) => format!(" of channel {c}"),
            _ => match (
                &self.topic,
                &self.group,
                &self.relay,
                &self.strategy,
                &self.replica,
            ) {
                (Some(t), Some(g), ..) => format!(" of {t}/{g}"),
                (Some(t), None, ..) => format!(" of topic {t}"),
                (_, _, Some(r), ..) => format!(" of relay {r}"),
                (.., Some(s), _) => format!(" of {s}'s events"),
                (.., Some(r)) => format!(" of {r}'s replica"),
                _ => String::new(),
            },
        }
    }

    /// The counter's value in `snapshot` (`None` when its owner is not in the snapshot).
    pub fn measure(&self, s: &Snapshot) -> Option<u64> {
        let field = |v: serde_json::Value| v.get(&self.counter).and_then(|x| x.as_u64());
        if let Some(n) = &self.node {
            let m = s.nodes.iter().find(|v| &v.name == n)?.metrics;
            return match self.counter.as_str() {
                "repeats" => Some(m.processed.saturating_sub(m.distinct)),
                "extra_effects" => Some(m.effects.saturating_sub(m.effects_expected)),
                _ => field(serde_json::to_value(m).ok()?),
            };
        }
        let t = &s.transactional;
        if let Some(r) = &self.relay {
            let relay = t.relays.iter().find(|v| &v.node == r)?;
            return field(serde_json::to_value(relay.metrics).ok()?);
        }
        if let Some(svc) = &self.strategy {
            let mut sum = None;
            for v in t.strategies.iter().filter(|v| &v.service == svc) {
                sum = Some(sum.unwrap_or(0) + field(serde_json::to_value(v).ok()?)?);
            }
            return sum;
        }
        if let Some(r) = &self.replica {
            let rep = t.replicas.iter().find(|v| &v.node == r)?;
            return field(serde_json::to_value(rep).ok()?);
        }
        if let (Some(c), Some(svc)) = (&self.client, &self.service) {
            let mut sum = 0;
            let mut any = false;
            for p in s
                .proxies
                .iter()
                .filter(|p| &p.client == c && &p.service == svc)
            {
                sum += field(serde_json::to_value(p.metrics).ok()?)?;
                any = true;
            }
            return any.then_some(sum);
        }
        if let Some(n) = &self.server {
            let node = s.nodes.iter().find(|v| &v.name == n)?;
            return field(serde_json::to_value(node.server?).ok()?);
        }
        if let Some(q) = &self.queue {
            let queue = s
                .channels
                .iter()
                .flat_map(|c| c.queues.iter())
                .find(|v| &v.name == q)?;
            return Some(match self.counter.as_str() {
                "ready" => queue.ready as u64,
                "unacked" => queue.unacked as u64,
                "dead_letters" => queue.dead_letters as u64,
                "enqueued" => queue.enqueued,
                "acked" => queue.acked,
                "redelivered" => queue.redelivered,
                "nacked" => queue.nacked,
                "lost" => queue.lost,
                _ => return None,
            });
        }
        if let Some(c) = &self.channel {
            let ch = s.channels.iter().find(|v| &v.name == c)?;
            return (self.counter == "duplicates_dropped").then_some(ch.duplicates_dropped);
        }
        if let Some(t) = &self.topic {
            let topic = s.partitioned_topics.iter().find(|v| &v.name == t)?;
            let groups = || {
                topic
                    .groups
                    .iter()
                    .filter(|g| self.group.as_ref().is_none_or(|c| &g.consumer == c))
            };
            return Some(match self.counter.as_str() {
                "appended" => topic.appended,
                "duplicates_discarded" => topic.duplicates_discarded,
                "rejected" => topic.rejected,
                "lag" => groups()
                    .flat_map(|g| g.partitions.iter())
                    .map(|p| p.lag)
                    .sum(),
                "rebalance_count" => groups().map(|g| g.rebalance_count).sum(),
                _ => return None,
            });
        }
        field(serde_json::to_value(s.metrics).ok()?)
    }
}

/// A virtual time as a result shows it: seconds with ms, `3.210 s`.
fn secs(t: SimTime) -> String {
    let ms = t.as_us() / 1_000;
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

/// A counter's value as a result shows it: a `…_us` counter (a replication lag) as a duration
/// (`1.012 s`, `850 ms`), any other as a number.
fn value_text(counter: &str, v: u64) -> String {
    if !counter.ends_with("_us") {
        return v.to_string();
    }
    let ms = v / 1_000;
    if ms >= 1_000 {
        format!("{}.{:03} s", ms / 1_000, ms % 1_000)
    } else {
        format!("{ms} ms")
    }
}

impl Expect {
    /// Expected vs actual at `snapshot`, for an experiment applied at `baseline`.
    pub fn evaluate(&self, snapshot: &Snapshot, baseline: &Baseline) -> Evaluation {
        match self {
            Expect::Counter(c) => {
                let now = c.measure(snapshot);
                let name = format!("{}{}", c.counter, c.scope());
                if let Some(most) = c.rises_at_most {
                    let from = baseline.value.unwrap_or(0);
                    let rise = now.unwrap_or(0).saturating_sub(from);
                    return Evaluation {
                        met: now.is_some() && rise <= most,
                        expected: format!("{name} rises by ≤ {most}"),
                        actual: match now {
                            Some(v) => format!("+{rise} ({from} → {v})"),
                            None => "not in this run".into(),
                        },
                        value: now,
                    };
                }
                match (c.rises_by, c.at_least) {
                    (Some(by), _) => {
                        let from = baseline.value.unwrap_or(0);
                        let rise = now.unwrap_or(0).saturating_sub(from);
                        Evaluation {
                            met: now.is_some() && rise >= by,
                            expected: format!("{name} rises by ≥ {by}"),
                            actual: match now {
                                Some(v) => format!("+{rise} ({from} → {v})"),
                                None => "not in this run".into(),
                            },
                            value: now,
                        }
                    }
                    (None, at_least) => {
                        let min = at_least.unwrap_or(0);
                        Evaluation {
                            met: now.is_some_and(|v| v >= min),
                            expected: format!("{name} reaches ≥ {}", value_text(&c.counter, min)),
                            actual: now.map_or_else(
                                || "not in this run".into(),
                                |v| value_text(&c.counter, v),
                            ),
                            value: now,
                        }
                    }
                }
            }
            Expect::Invariant(e) => {
                let status = snapshot.invariants.iter().find(|s| s.claim == e.invariant);
                let label = e.invariant.label();
                let violated_at = match status.map(|s| &s.state) {
                    Some(InvariantState::Violated { time, .. }) => Some(*time),
                    _ => None,
                };
                let after = violated_at.filter(|t| *t >= baseline.at);
                let actual = match (status, violated_at) {
                    (None, _) => "not claimed in this run".to_string(),
                    (Some(_), Some(t)) => format!("✗ at t={}", secs(t)),
                    (Some(_), None) => "✓ holding".to_string(),
                };
                Evaluation {
                    met: status.is_some()
                        && if e.holds {
                            violated_at.is_none()
                        } else {
                            after.is_some()
                        },
                    expected: if e.holds {
                        format!("{label} stays ✓")
                    } else {
                        format!("{label} turns ✗")
                    },
                    actual,
                    value: violated_at.map(|t| t.as_us()),
                }
            }
            Expect::Breaker(b) => {
                let r = &b.breaker;
                let view = snapshot
                    .proxies
                    .iter()
                    .find(|p| {
                        p.client == r.node && p.instance == r.instance && p.service == r.service
                    })
                    .and_then(|p| p.breaker.as_ref());
                let reached = view.and_then(|v| {
                    if v.state == b.state {
                        return Some(snapshot.time);
                    }
                    v.transitions
                        .iter()
                        .find(|t| t.to == b.state && t.at_us >= baseline.at.as_us())
                        .map(|t| SimTime(t.at_us))
                });
                Evaluation {
                    met: reached.is_some(),
                    expected: format!(
                        "breaker of {}#{} -> {} reaches {}",
                        r.node, r.instance, r.service, b.state
                    ),
                    actual: match view {
                        None => "no such breaker".into(),
                        Some(v) => match reached {
                            Some(_) if v.state == b.state => v.state.to_string(),
                            Some(t) => format!("{} at t={} (now {})", b.state, secs(t), v.state),
                            None => v.state.to_string(),
                        },
                    },
                    value: reached.map(|t| t.as_us()),
                }
            }
        }
    }
}

/// Checks a scenario's `experiments` list: bounds, texts, times and what each expectation names
/// (its commands are checked against the topology when a simulation is built, as the fault
/// schedule's are).
pub fn validate(s: &Scenario) -> Result<(), ScenarioError> {
    use ScenarioError::*;
    if s.experiments.len() > MAX_EXPERIMENTS {
        return Err(TooLarge {
            what: "experiments",
            got: s.experiments.len() as u64,
            max: MAX_EXPERIMENTS as u64,
        });
    }
    let invalid = |field: String, message: String| Err(Invalid { field, message });
    for (i, e) in s.experiments.iter().enumerate() {
        let f = |x: &str| format!("experiments[{i}].{x}");
        let chars = e.title.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return invalid(
                f("title"),
                format!("{chars} characters is out of range 1..={MAX_TITLE_CHARS}"),
            );
        }
        if s.experiments[..i].iter().any(|o| o.title == e.title) {
            return invalid(f("title"), format!("duplicate title `{}`", e.title));
        }
        let chars = e.look_for.chars().count();
        if chars > MAX_LOOK_FOR_CHARS {
            return invalid(
                f("look_for"),
                format!("{chars} characters is out of range 0..={MAX_LOOK_FOR_CHARS}"),
            );
        }
        if e.commands.is_empty() || e.commands.len() > MAX_EXPERIMENT_COMMANDS {
            return invalid(
                f("commands"),
                format!(
                    "{} commands is out of range 1..={MAX_EXPERIMENT_COMMANDS}",
                    e.commands.len()
                ),
            );
        }
        for (name, v) in [("at_ms", e.at_ms), ("within_ms", e.within_ms)] {
            if v > MAX_EXPERIMENT_MS {
                return invalid(
                    f(name),
                    format!("{v} is out of range 0..={MAX_EXPERIMENT_MS}"),
                );
            }
        }
        if e.then.len() > MAX_FOLLOW_UPS {
            return invalid(
                f("then"),
                format!(
                    "{} follow-ups is out of range 0..={MAX_FOLLOW_UPS}",
                    e.then.len()
                ),
            );
        }
        for (j, u) in e.then.iter().enumerate() {
            if u.after_ms == 0 || u.after_ms > MAX_FOLLOW_UP_MS {
                return invalid(
                    f(&format!("then[{j}].after_ms")),
                    format!("{} is out of range 1..={MAX_FOLLOW_UP_MS}", u.after_ms),
                );
            }
        }
        validate_expect(s, &e.expect, &f("expect"))?;
    }
    Ok(())
}

fn validate_expect(s: &Scenario, e: &Expect, field: &str) -> Result<(), ScenarioError> {
    use crate::scenario::NodeKind;
    use ScenarioError::*;
    let invalid = |message: String| {
        Err(Invalid {
            field: field.to_string(),
            message,
        })
    };
    let node_named = |name: &str, what: &str| -> Result<(), ScenarioError> {
        if s.node_index(name).is_none() {
            return Err(UnknownName {
                field: format!("{field}.{what}"),
                name: name.to_string(),
            });
        }
        Ok(())
    };
    match e {
        Expect::Counter(c) => {
            let scopes = [
                c.node.is_some(),
                c.client.is_some() || c.service.is_some(),
                c.server.is_some(),
                c.queue.is_some(),
                c.channel.is_some(),
                c.topic.is_some(),
                c.relay.is_some(),
                c.strategy.is_some(),
                c.replica.is_some(),
            ];
            if scopes.iter().filter(|x| **x).count() > 1 {
                return invalid(
                    "give at most one scope: node, client + service, server, queue, channel, \
                     topic (+ group), relay, strategy or replica"
                        .into(),
                );
            }
            if c.group.is_some() && c.topic.is_none() {
                return invalid("`group` goes with `topic`".into());
            }
            let bounds = [c.rises_by, c.at_least, c.rises_at_most];
            if bounds.iter().filter(|b| b.is_some()).count() != 1 {
                return invalid(
                    "give exactly one of `rises_by`, `at_least` and `rises_at_most`".into(),
                );
            }
            let list: &[&str] = if let Some(n) = &c.node {
                node_named(n, "node")?;
                NODE_COUNTERS
            } else if c.client.is_some() || c.service.is_some() {
                let (Some(cl), Some(sv)) = (&c.client, &c.service) else {
                    return invalid("`client` and `service` go together".into());
                };
                node_named(cl, "client")?;
                node_named(sv, "service")?;
                CLIENT_COUNTERS
            } else if let Some(n) = &c.server {
                node_named(n, "server")?;
                if s.api_of(n).is_none() {
                    return invalid(format!("`{n}` has no api"));
                }
                SERVER_COUNTERS
            } else if let Some(q) = &c.queue {
                let known = s.channels.iter().any(|ch| {
                    !ch.broker.is_empty()
                        && (&ch.name == q
                            || ch
                                .consumers
                                .iter()
                                .any(|k| &format!("{}/{k}", ch.name) == q))
                });
                if !known {
                    return Err(UnknownName {
                        field: format!("{field}.queue"),
                        name: q.clone(),
                    });
                }
                QUEUE_COUNTERS
            } else if let Some(ch) = &c.channel {
                if !s.channels.iter().any(|x| &x.name == ch) {
                    return Err(UnknownName {
                        field: format!("{field}.channel"),
                        name: ch.clone(),
                    });
                }
                CHANNEL_COUNTERS
            } else if let Some(t) = &c.topic {
                let Some(ch) = s.channels.iter().find(|x| &x.name == t) else {
                    return Err(UnknownName {
                        field: format!("{field}.topic"),
                        name: t.clone(),
                    });
                };
                if let Some(g) = &c.group {
                    if !ch.consumers.contains(g) {
                        return invalid(format!("`{g}` does not consume `{t}`"));
                    }
                }
                TOPIC_COUNTERS
            } else if let Some(r) = &c.relay {
                node_named(r, "relay")?;
                RELAY_COUNTERS
            } else if let Some(r) = &c.strategy {
                node_named(r, "strategy")?;
                STRATEGY_COUNTERS
            } else if let Some(r) = &c.replica {
                node_named(r, "replica")?;
                REPLICA_COUNTERS
            } else {
                RUN_COUNTERS
            };
            if !list.contains(&c.counter.as_str()) {
                return invalid(format!(
                    "unknown counter `{}` here; one of: {}",
                    c.counter,
                    list.join(", ")
                ));
            }
        }
        Expect::Invariant(i) => {
            if !s.invariants.contains(&i.invariant) {
                return invalid(format!(
                    "`{}` is not one of the scenario's invariants",
                    i.invariant.label()
                ));
            }
        }
        Expect::Breaker(b) => {
            node_named(&b.breaker.node, "breaker.node")?;
            node_named(&b.breaker.service, "breaker.service")?;
            let n = &s.nodes[s.node_index(&b.breaker.node).unwrap_or(0)];
            if n.kind != NodeKind::Service || b.breaker.instance >= n.instances {
                return invalid(format!(
                    "`{}` has no instance {}",
                    b.breaker.node, b.breaker.instance
                ));
            }
            let has = s.dependencies.iter().any(|d| {
                d.from == b.breaker.node
                    && d.to == b.breaker.service
                    && d.policies.circuit_breaker.is_some()
            });
            if !has {
                return invalid(format!(
                    "`{}` -> `{}` has no circuit breaker",
                    b.breaker.node, b.breaker.service
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `order-events` with `experiments` replaced by `list`.
    fn with(list: serde_json::Value) -> Result<Scenario, ScenarioError> {
        let mut v: serde_json::Value =
            serde_json::from_str(crate::scenarios::get("order-events").unwrap()).unwrap();
        v["experiments"] = list;
        Scenario::from_json(&v.to_string())
    }

    fn one(expect: serde_json::Value) -> serde_json::Value {
        json!([{ "title": "t", "commands": [{ "op": "crash", "node": "kitchen" }],
                 "look_for": "x", "expect": expect }])
    }

    fn err(list: serde_json::Value) -> String {
        with(list).expect_err("refused").to_string()
    }

    #[test]
    fn expectations_name_things_that_exist() {
        assert_eq!(
            err(one(json!({ "counter": "nope", "rises_by": 1 }))),
            "experiments[0].expect: unknown counter `nope` here; one of: sent, delivered, \
             dropped, duplicated, redelivered, retried, acked, processed, effects, \
             duplicates_discarded, published, publish_failed, dead_lettered, requests, replies, \
             requests_completed, requests_timed_out, requests_abandoned, decisions, late_replies, \
             duplicate_replies, direct_sent, direct_lost, handler_failures, nacked, \
             broker_duplicates, broker_lost, backlog_lost, calls, calls_ok, calls_failed, \
             fallbacks, http_requests"
        );
        assert_eq!(
            err(one(
                json!({ "counter": "effects", "node": "ghost", "rises_by": 1 })
            )),
            "experiments[0].expect.node: unknown name `ghost`"
        );
        assert_eq!(
            err(one(
                json!({ "counter": "effects", "node": "kitchen", "queue": "kitchen-tickets",
                            "rises_by": 1 })
            )),
            "experiments[0].expect: give at most one scope: node, client + service, server, \
             queue, channel, topic (+ group), relay, strategy or replica"
        );
        assert_eq!(
            err(one(
                json!({ "counter": "effects", "rises_by": 1, "at_least": 2 })
            )),
            "experiments[0].expect: give exactly one of `rises_by`, `at_least` and \
             `rises_at_most`"
        );
        assert_eq!(
            err(one(
                json!({ "invariant": { "claim": "per_key_order" }, "holds": false })
            )),
            "experiments[0].expect: `per_key_order` is not one of the scenario's invariants"
        );
        assert_eq!(
            err(one(
                json!({ "breaker": { "node": "order", "service": "kitchen" },
                            "state": "OPEN" })
            )),
            "experiments[0].expect: `order` -> `kitchen` has no circuit breaker"
        );
        let e = err(one(json!({ "what": 1 })));
        assert!(
            e.contains("an expectation has one of the keys `counter`, `invariant`, `breaker`"),
            "{e}"
        );
    }

    #[test]
    fn sizes_and_commands_are_bounded_and_checked() {
        let mut list = one(json!({ "counter": "effects", "rises_by": 1 }));
        list[0]["title"] = json!("");
        assert_eq!(
            err(list),
            "experiments[0].title: 0 characters is out of range 1..=100"
        );
        let mut list = one(json!({ "counter": "effects", "rises_by": 1 }));
        list[0]["commands"] = json!([]);
        assert_eq!(
            err(list),
            "experiments[0].commands: 0 commands is out of range 1..=16"
        );
        let mut list = one(json!({ "counter": "effects", "rises_by": 1 }));
        list[0]["then"] =
            json!([{ "after_ms": 0, "command": { "op": "restart", "node": "kitchen" } }]);
        assert_eq!(
            err(list),
            "experiments[0].then[0].after_ms: 0 is out of range 1..=60000"
        );
        let many: Vec<_> = (0..13)
            .map(|i| {
                json!({ "title": format!("t{i}"), "commands": [{ "op": "crash", "node": "kitchen" }],
                        "look_for": "", "expect": { "counter": "effects", "rises_by": 1 } })
            })
            .collect();
        assert_eq!(err(json!(many)), "too many experiments: 13 (maximum 12)");
        // Commands are checked against the topology when a simulation is built.
        let mut list = one(json!({ "counter": "effects", "rises_by": 1 }));
        list[0]["commands"] = json!([{ "op": "crash", "node": "kitchen", "instance": 7 }]);
        let s = with(list).expect("scenario-level checks pass");
        assert_eq!(
            crate::Simulation::new(s, 1).err().unwrap().to_string(),
            "experiments[0].commands[0]: node `kitchen` has no instance 7 (it has 2)"
        );
    }

    #[test]
    fn expected_vs_actual_against_snapshots() {
        let s = crate::Scenario::from_json(crate::scenarios::get("order-events").unwrap()).unwrap();
        let mut sim = crate::Simulation::new(s, 42).unwrap();
        sim.run_until(SimTime::from_ms(2_000), u64::MAX);
        let c: Expect = serde_json::from_value(
            json!({ "counter": "processed", "node": "kitchen", "rises_by": 10 }),
        )
        .unwrap();
        let exp = Experiment {
            title: "t".into(),
            commands: vec![],
            then: vec![],
            look_for: String::new(),
            expect: c.clone(),
            at_ms: 2_000,
            within_ms: 5_000,
        };
        let base = exp.baseline(&sim.snapshot());
        assert_eq!(base.value, Some(14));
        let now = c.evaluate(&sim.snapshot(), &base);
        assert_eq!(
            (now.met, now.expected.as_str(), now.actual.as_str()),
            (false, "processed of kitchen rises by ≥ 10", "+0 (14 → 14)")
        );
        sim.run_until(SimTime::from_ms(4_000), u64::MAX);
        let later = c.evaluate(&sim.snapshot(), &base);
        assert_eq!(
            (later.met, later.actual.as_str(), later.value),
            (true, "+16 (14 → 30)", Some(30))
        );
        let i: Expect = serde_json::from_value(
            json!({ "invariant": { "claim": "no_message_lost" }, "holds": true }),
        )
        .unwrap();
        let e = i.evaluate(&sim.snapshot(), &base);
        assert_eq!(
            (e.met, e.expected.as_str(), e.actual.as_str()),
            (true, "no_message_lost stays ✓", "✓ holding")
        );
    }
}
