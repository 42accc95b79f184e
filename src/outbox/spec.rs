//! Scenario types of transactional messaging (JSON, `deny_unknown_fields`) and their validation.
//!
//! Times are in ms, probabilities in percent. Templates (`key`, payload strings) understand
//! `{n}` (the workload tick, from 1), `{n%K}` (cycles `1..=K`: `((n − 1) mod K) + 1`), `{key}`
//! (the key of the message or request being handled) and `{status}` (the status being written).

use crate::error::ScenarioError;
use crate::message::MessageKind;
use crate::scenario::{NodeKind, Scenario};
use serde::{Deserialize, Serialize};

/// Limits of the transactional part of a scenario.
pub mod limits {
    /// Maximum rows per table (and in the OUTBOX table).
    pub const MAX_ROWS: u32 = 1_000_000;
    /// Maximum records kept in a commit log.
    pub const MAX_LOG_RECORDS: u32 = 1_000_000;
    /// Maximum transactions in flight in one database.
    pub const MAX_TRANSACTIONS: u32 = 10_000;
    /// Maximum rows a relay reads per poll (`batch_size`).
    pub const MAX_BATCH: u32 = 1_000;
    /// Maximum unconfirmed publishes of a relay (`max_in_flight`).
    pub const MAX_IN_FLIGHT: u32 = 1_000;
    /// Maximum handlers per service.
    pub const MAX_HANDLERS: usize = 32;
    /// Maximum length of a table name, a template or a status.
    pub const MAX_NAME: usize = 64;
    /// Maximum final statuses of a request.
    pub const MAX_FINAL: usize = 8;
    /// Maximum polls of one request.
    pub const MAX_POLLS: u32 = 10_000;
    /// Maximum pending rejections armed on one channel (`reject_next_publish`'s `count`).
    pub const MAX_REJECTIONS: u32 = 1_000;
}

/// The transactional part of a scenario (`"transactional"` in JSON): who owns a database, the
/// relays, the replicas and the handlers. Every list defaults to empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransactionalSpec {
    /// Service databases, one per service at most.
    pub databases: Vec<DatabaseSpec>,
    /// Message relays, one per node of kind `relay`, one per OUTBOX.
    pub relays: Vec<RelaySpec>,
    /// Read-only replicas kept by services.
    pub replicas: Vec<ReplicaSpec>,
    /// What services do with messages and requests they handle.
    pub handlers: Vec<HandlerSpec>,
}

impl TransactionalSpec {
    /// True when the scenario has nothing transactional (the section is then left out of JSON).
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
            && self.relays.is_empty()
            && self.replicas.is_empty()
            && self.handlers.is_empty()
    }
}

/// A service's own database; it is durable: a crash of a service instance rolls back that
/// instance's transactions in flight and nothing else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSpec {
    /// The owning service.
    pub service: String,
    /// Duration of a local transaction started by a workload or a request, from its first write to
    /// its commit, ms. Default 20. (A transaction run by a message handler commits when the
    /// handler's `processing_ms` ends.)
    pub tx_ms: u64,
    /// Uniform ± variation of `tx_ms`, ms, drawn per transaction from the database's own stream.
    /// Default 0. Larger than the workload interval, it makes transactions commit out of order.
    pub tx_jitter_ms: u64,
    /// Probability that a transaction of a workload or a request aborts at commit (deadlock,
    /// constraint), percent 0–100. Default 0. A rolled-back transaction leaves nothing: no row,
    /// no log record, no outbox row.
    pub abort_percent: f64,
    /// Rows per table, OUTBOX included. A commit that would exceed it rolls back (`table_full`),
    /// after purging published OUTBOX rows. Default 10 000.
    pub max_rows: u32,
    /// Records kept in the commit log. Records a log-tailing relay has not saved its position past
    /// are kept (as a replication slot); a commit that finds the log full of them rolls back
    /// (`log_full`). Default 10 000.
    pub max_log_records: u32,
    /// Transactions in flight at once; a transaction beyond it is refused. Default 100.
    pub max_transactions: u32,
}

impl Default for DatabaseSpec {
    fn default() -> Self {
        DatabaseSpec {
            service: String::new(),
            tx_ms: 20,
            tx_jitter_ms: 0,
            abort_percent: 0.0,
            max_rows: 10_000,
            max_log_records: 10_000,
            max_transactions: 100,
        }
    }
}

/// How a service gets the event of a business change to the broker.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Transactional outbox: the change and an OUTBOX row commit in one local transaction; a
    /// message relay publishes the row later (Eventuate Tram, Debezium outbox event router).
    #[default]
    Outbox,
    /// Dual write: commit the change, then publish (with publisher confirms and retries). A crash
    /// between the two, or a publish that is never confirmed, loses the event.
    CommitThenPublish,
    /// Dual write: publish, then commit (right after the publish, in the same instant). A crash in
    /// between or an abort leaves a phantom event: published, but the change never happened.
    PublishThenCommit,
}

impl Strategy {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Outbox => "outbox",
            Strategy::CommitThenPublish => "commit_then_publish",
            Strategy::PublishThenCommit => "publish_then_commit",
        }
    }
}

/// The domain event of a business change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Destination channel (Eventuate `destination`).
    pub channel: String,
    /// Message kind. Default `event`.
    #[serde(default = "default_event_kind")]
    pub kind: MessageKind,
    /// Event type, e.g. `OrderCreated` (Debezium `type`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Payload; templates in strings are expanded.
    #[serde(default)]
    pub payload: serde_json::Value,
}

fn default_event_kind() -> MessageKind {
    MessageKind::Event
}

/// A business change: one row of `table` (upserted by `key`, the aggregate id) and optionally the
/// event that says so, sent with `strategy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteSpec {
    /// Business table, e.g. `orders`. Not `outbox`.
    pub table: String,
    /// Aggregate id (template), the row's key and the event's message key.
    pub key: String,
    /// Status written in the row (template). Default `created`.
    #[serde(default = "default_status")]
    pub status: String,
    /// The domain event, if any.
    #[serde(default)]
    pub event: Option<EventSpec>,
    /// How the event reaches the broker. Default `outbox`.
    #[serde(default)]
    pub strategy: Strategy,
    /// Probability that the business outcome is a rejection (decided when the change is made, from
    /// the service's own stream), percent. Default 0.
    #[serde(default)]
    pub reject_percent: f64,
    /// Status written when rejected. Default `rejected`.
    #[serde(default = "default_reject_status")]
    pub reject_status: String,
    /// Event type sent when rejected (same channel). Default: the event's `type`.
    #[serde(default)]
    pub reject_type: Option<String>,
    /// Duration of this write's transaction, ms (0–1 h), instead of its database's `tx_ms`: one
    /// operation made slow (or fast) while the others keep the database's. The database's
    /// `tx_jitter_ms` still applies. Used where `tx_ms` is: a workload's `write` and a handler
    /// answering a request; a handler of a broker message commits when its processing ends, so
    /// there it is refused. Default: the database's `tx_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_ms: Option<u64>,
}

fn default_status() -> String {
    "created".into()
}
fn default_reject_status() -> String {
    "rejected".into()
}

/// What a service does with a message of one type (from the broker) or a request (over a link).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerSpec {
    /// The handling service (it needs a database).
    pub service: String,
    /// Message type handled, e.g. `OrderCreated` or the request type `CreateOrder`.
    pub on: String,
    /// The local transaction it runs. `{key}` is the message's key. For a broker message it
    /// commits with the processed-messages row when processing ends (so it neither aborts nor
    /// stops at a failpoint: a crash before that is an ordinary consumer crash, and the delivery
    /// comes again); for a request it takes the database's `tx_ms` and the service answers
    /// `202 Accepted` after the commit (a `GET` reads the row whose key is the request's key).
    pub write: WriteSpec,
    /// Requests only: probability that validation with local data fails and the service answers
    /// `400 Bad Request` at once, without a transaction, percent. Default 0.
    #[serde(default)]
    pub invalid_percent: f64,
}

/// A read-only replica of another service's table, kept up to date from that service's events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
    /// The service keeping the replica.
    pub service: String,
    /// The service whose data is replicated (the producer of the events).
    pub source: String,
    /// The replicated table of the source, e.g. `customers` (used to tell stale reads).
    pub table: String,
    /// Rows kept; a new key beyond it is not stored (counted). Default 10 000.
    #[serde(default = "default_replica_rows")]
    pub max_rows: u32,
}

fn default_replica_rows() -> u32 {
    10_000
}

/// How a relay reads the OUTBOX.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayMode {
    /// Polling publisher (Eventuate CDC polling): every `poll_every_ms`, read up to `batch_size`
    /// unpublished OUTBOX rows in id order, publish them, then mark them published or delete them.
    #[default]
    Polling,
    /// Transaction log tailing (Debezium): read up to `batch_size` OUTBOX inserts from the commit
    /// log after the position, publish them, save the position every `save_every` records and on
    /// a graceful stop. A crash restarts from the saved position.
    LogTailing,
}

/// What a polling publisher does to rows once the broker confirmed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkMode {
    /// `UPDATE outbox SET published = 1` (Eventuate). Published rows are purged when the table is
    /// full.
    #[default]
    Mark,
    /// `DELETE FROM outbox`.
    Delete,
}

/// A message relay, for a node of kind `relay` (its box on the canvas, its links). It has one
/// instance; `crash`, `restart`, `pause`, `resume` apply to it, and `stop_relay` stops it
/// gracefully.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySpec {
    /// The relay node (kind `relay`).
    pub node: String,
    /// The service whose OUTBOX it publishes (it needs a `database`). One relay per service.
    pub service: String,
    /// Polling publisher or transaction log tailing. Default `polling`.
    #[serde(default)]
    pub mode: RelayMode,
    /// Interval between polls of the OUTBOX or reads of the log, ms. Default 100. An idle relay
    /// reads nothing; its next read is on the next multiple of the interval after a commit.
    #[serde(default = "default_poll_ms")]
    pub poll_every_ms: u64,
    /// Rows or log records read per poll (`maxEventsPerPolling`, `max.batch.size`). Default 10.
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Unconfirmed publishes at once. 1 (default) is a strict relay: one publish at a time, a
    /// failure is retried before anything after it. More is a pipelined relay: on a failure it
    /// goes back to the first unconfirmed record and publishes everything from there again
    /// (go-back-N), so a key can be reordered in the broker.
    #[serde(default = "one")]
    pub max_in_flight: u32,
    /// Polling: mark or delete published rows. Default `mark`.
    #[serde(default)]
    pub after_publish: MarkMode,
    /// Polling: duration of the mark/delete transaction, ms. Default 5. A crash during it rolls
    /// it back, and the rows are published again.
    #[serde(default = "default_mark_ms")]
    pub mark_ms: u64,
    /// Log tailing: save the position every this many published records (Debezium offset
    /// commit). Default 10.
    #[serde(default = "default_save_every")]
    pub save_every: u32,
}

fn one() -> u32 {
    1
}
fn default_poll_ms() -> u64 {
    100
}
fn default_batch() -> u32 {
    10
}
fn default_mark_ms() -> u64 {
    5
}
fn default_save_every() -> u32 {
    10
}

/// A query of a service's replica, per workload tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Key looked up (template), e.g. `customer-{n%5}`.
    pub key: String,
}

/// A client request with respond-before-processing: `POST` (a command of type `type` with key
/// `key`) to service `to`, then `GET {resource}/{key}` every `poll_every_ms` until the status is
/// one of `final`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// The service (linked to the client) that has a handler for `type`.
    pub to: String,
    /// Request (command) type, e.g. `CreateOrder`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Key (template) of the resource, e.g. `order-{n}`.
    pub key: String,
    /// Table read by the `GET`, e.g. `orders`.
    pub resource: String,
    /// Final statuses: the client stops polling when it sees one.
    #[serde(rename = "final")]
    pub final_statuses: Vec<String>,
    /// Interval between polls, ms. Default 200.
    #[serde(default = "default_poll_client_ms")]
    pub poll_every_ms: u64,
    /// A request not answered within this time is given up (`timeout` in the timeline) and sent
    /// again (a `POST` is idempotent by key). ms, default 1 000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Requests sent at most (the `POST` included) before the client gives up. Default 50.
    #[serde(default = "default_max_polls")]
    pub max_polls: u32,
}

fn default_poll_client_ms() -> u64 {
    200
}
fn default_timeout_ms() -> u64 {
    1_000
}
fn default_max_polls() -> u32 {
    50
}

/// What a workload does per tick instead of publishing `messages` (which must then be empty).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OperationSpec {
    /// A business change in a local transaction of the service's database.
    Write(WriteSpec),
    /// A read of the service's replica.
    Query(QuerySpec),
    /// A client request answered before processing.
    Request(RequestSpec),
}

/// Where a failpoint crashes an instance (`arm_crash`). One-shot: armed, it fires the next time
/// the instance gets there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashPoint {
    /// Service: right before a transaction of a workload or a request commits (after a
    /// publish-then-commit publish): the transaction rolls back. Relay: right before its
    /// mark/delete transaction commits.
    BeforeCommit,
    /// Service: right after a transaction of a workload or a request commits, before anything
    /// else (a commit-then-publish publish, a 202 answer). Relay: right after its mark/delete
    /// transaction commits.
    AfterCommit,
    /// Service: right after it sends a dual-write publish. Relay: right after the broker
    /// confirmed the last publish of a batch, before the rows are marked (polling) or the position
    /// saved (log tailing).
    AfterPublish,
}

impl CrashPoint {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::BeforeCommit => "before_commit",
            CrashPoint::AfterCommit => "after_commit",
            CrashPoint::AfterPublish => "after_publish",
        }
    }
}

/// Expands a template: `{n}`, `{n%K}`, `{key}`, `{status}`; anything else is kept as is.
pub(crate) fn expand(template: &str, n: u64, key: &str, status: &str) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len() + 8);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        let inner = &after[1..end];
        match inner {
            "n" => out.push_str(&n.to_string()),
            "key" => out.push_str(key),
            "status" => out.push_str(status),
            _ => match inner.strip_prefix("n%").and_then(|k| k.parse::<u64>().ok()) {
                Some(k) if k > 0 => out.push_str(&(n.saturating_sub(1) % k + 1).to_string()),
                _ => out.push_str(&after[..=end]),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Expands templates in every string of a JSON value.
pub(crate) fn expand_value(
    v: &serde_json::Value,
    n: u64,
    key: &str,
    status: &str,
) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => serde_json::Value::String(expand(s, n, key, status)),
        serde_json::Value::Array(a) => a.iter().map(|x| expand_value(x, n, key, status)).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), expand_value(x, n, key, status)))
            .collect(),
        other => other.clone(),
    }
}

fn invalid(field: String, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field,
        message: message.into(),
    }
}

fn check_name(field: String, s: &str) -> Result<(), ScenarioError> {
    crate::ranges::name(field, s, limits::MAX_NAME)
}

/// A template (`order-{n}`, `PENDING`): 1 to [`limits::MAX_NAME`] characters, no control
/// characters, each `{n%K}` with a whole K ≥ 1.
fn check_template(field: String, s: &str) -> Result<(), ScenarioError> {
    if s.is_empty() || s.chars().count() > limits::MAX_NAME {
        return Err(invalid(
            field,
            format!("must be 1 to {} characters", limits::MAX_NAME),
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(invalid(
            field,
            format!(
                "`{}` contains the control character U+{:04X}",
                s.escape_debug(),
                c as u32
            ),
        ));
    }
    let mut rest = s;
    while let Some(start) = rest.find("{n%") {
        let after = &rest[start + 3..];
        let end = after.find('}').unwrap_or(after.len());
        match after[..end].parse::<u64>() {
            Ok(k) if k > 0 => {}
            _ => {
                return Err(invalid(
                    field,
                    format!("`{{n%{}}}` needs a whole number K ≥ 1", &after[..end]),
                ))
            }
        }
        rest = &after[end.min(after.len())..];
    }
    Ok(())
}

fn check_percent(field: String, v: f64) -> Result<(), ScenarioError> {
    crate::ranges::percent(field, v)
}

/// `lo..=hi`; a field whose name ends in `_ms` is a duration and its error says `(ms)`.
fn check_range(field: String, v: u64, lo: u64, hi: u64) -> Result<(), ScenarioError> {
    let unit = if field.ends_with("_ms") { "ms" } else { "" };
    crate::ranges::int(field, v, lo, hi, unit)
}

/// Checks the transactional part of a scenario (database, relay, replica, handlers, operations).
/// Called by [`Scenario::validate`].
pub(crate) fn validate(s: &Scenario) -> Result<(), ScenarioError> {
    let node = |field: String, name: &str| -> Result<usize, ScenarioError> {
        s.node_index(name)
            .ok_or_else(|| ScenarioError::UnknownName {
                field,
                name: name.to_string(),
            })
    };
    let linked = |x: &str, y: &str| {
        s.links
            .iter()
            .any(|l| (l.a == x && l.b == y) || (l.a == y && l.b == x))
    };
    let channel = |field: String, name: &str| -> Result<usize, ScenarioError> {
        s.channels
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| ScenarioError::UnknownName {
                field,
                name: name.to_string(),
            })
    };
    let max_ms = crate::network::MAX_LATENCY_MS;
    let has_db_of = |name: &str| s.transactional.databases.iter().any(|d| d.service == name);
    // A write of service `from`: table, templates, event channel reachable.
    let check_write = |at: &str, from: &str, w: &WriteSpec| -> Result<(), ScenarioError> {
        check_name(format!("{at}.table"), &w.table)?;
        if w.table == "outbox" {
            return Err(invalid(
                format!("{at}.table"),
                "`outbox` is the OUTBOX table; name the business table",
            ));
        }
        check_template(format!("{at}.key"), &w.key)?;
        check_template(format!("{at}.status"), &w.status)?;
        check_template(format!("{at}.reject_status"), &w.reject_status)?;
        check_percent(format!("{at}.reject_percent"), w.reject_percent)?;
        if let Some(ms) = w.tx_ms {
            check_range(format!("{at}.tx_ms"), ms, 0, max_ms)?;
        }
        if let Some(t) = &w.reject_type {
            check_name(format!("{at}.reject_type"), t)?;
        }
        if !has_db_of(from) {
            return Err(invalid(
                at.to_string(),
                format!("`{from}` writes to a table but has no database"),
            ));
        }
        if let Some(e) = &w.event {
            check_name(format!("{at}.event.type"), &e.type_name)?;
            let c = channel(format!("{at}.event.channel"), &e.channel)?;
            let broker = &s.channels[c].broker;
            match w.strategy {
                Strategy::Outbox => {
                    // The relay of `from` must reach the broker (checked with the relay).
                }
                Strategy::CommitThenPublish | Strategy::PublishThenCommit => {
                    if !linked(from, broker) {
                        return Err(invalid(
                            format!("{at}.event.channel"),
                            format!("no link between `{from}` and broker `{broker}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    };

    let t = &s.transactional;
    let mut has_db = vec![false; s.nodes.len()];
    for (i, d) in t.databases.iter().enumerate() {
        let at = format!("transactional.databases[{i}]");
        let n = node(format!("{at}.service"), &d.service)?;
        if s.nodes[n].kind != NodeKind::Service {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` is not a service", d.service),
            ));
        }
        if has_db[n] {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` already has a database", d.service),
            ));
        }
        has_db[n] = true;
        check_range(format!("{at}.tx_ms"), d.tx_ms, 0, max_ms)?;
        check_range(format!("{at}.tx_jitter_ms"), d.tx_jitter_ms, 0, max_ms)?;
        check_percent(format!("{at}.abort_percent"), d.abort_percent)?;
        check_range(
            format!("{at}.max_rows"),
            d.max_rows.into(),
            1,
            limits::MAX_ROWS.into(),
        )?;
        check_range(
            format!("{at}.max_log_records"),
            d.max_log_records.into(),
            1,
            limits::MAX_LOG_RECORDS.into(),
        )?;
        check_range(
            format!("{at}.max_transactions"),
            d.max_transactions.into(),
            1,
            limits::MAX_TRANSACTIONS.into(),
        )?;
    }
    let has_db = |name: &str| s.node_index(name).is_some_and(|n| has_db[n]);
    let mut relay_for: Vec<Option<usize>> = vec![None; s.nodes.len()];
    let mut relay_spec: Vec<Option<usize>> = vec![None; s.nodes.len()];
    for (i, r) in t.relays.iter().enumerate() {
        let at = format!("transactional.relays[{i}]");
        let rn = node(format!("{at}.node"), &r.node)?;
        if s.nodes[rn].kind != NodeKind::Relay {
            return Err(invalid(
                format!("{at}.node"),
                format!("`{}` is not a node of kind `relay`", r.node),
            ));
        }
        if relay_spec[rn].is_some() {
            return Err(invalid(
                format!("{at}.node"),
                format!("`{}` is configured twice", r.node),
            ));
        }
        relay_spec[rn] = Some(i);
        let svc = node(format!("{at}.service"), &r.service)?;
        if !has_db(&r.service) {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` has no database", r.service),
            ));
        }
        if let Some(other) = relay_for[svc] {
            return Err(invalid(
                format!("{at}.service"),
                format!(
                    "`{}` already has a relay (`{}`); one relay per OUTBOX",
                    r.service, s.nodes[other].name
                ),
            ));
        }
        relay_for[svc] = Some(rn);
        check_range(format!("{at}.poll_every_ms"), r.poll_every_ms, 1, max_ms)?;
        check_range(
            format!("{at}.batch_size"),
            r.batch_size.into(),
            1,
            limits::MAX_BATCH.into(),
        )?;
        check_range(
            format!("{at}.max_in_flight"),
            r.max_in_flight.into(),
            1,
            limits::MAX_IN_FLIGHT.into(),
        )?;
        check_range(format!("{at}.mark_ms"), r.mark_ms, 0, max_ms)?;
        check_range(
            format!("{at}.save_every"),
            r.save_every.into(),
            1,
            1_000_000,
        )?;
    }
    for (i, n) in s.nodes.iter().enumerate() {
        if n.kind != NodeKind::Relay {
            continue;
        }
        if n.instances != 1 {
            return Err(invalid(
                format!("nodes[{i}].instances"),
                "a relay has exactly one instance",
            ));
        }
        if relay_spec[i].is_none() {
            return Err(invalid(
                format!("nodes[{i}]"),
                format!(
                    "relay `{}` needs an entry in `transactional.relays`",
                    n.name
                ),
            ));
        }
    }
    let mut has_replica = vec![false; s.nodes.len()];
    for (i, r) in t.replicas.iter().enumerate() {
        let at = format!("transactional.replicas[{i}]");
        let n = node(format!("{at}.service"), &r.service)?;
        if s.nodes[n].kind != NodeKind::Service {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` is not a service", r.service),
            ));
        }
        if has_replica[n] {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` already keeps a replica", r.service),
            ));
        }
        has_replica[n] = true;
        let src = node(format!("{at}.source"), &r.source)?;
        if s.nodes[src].kind != NodeKind::Service || src == n {
            return Err(invalid(format!("{at}.source"), "must be another service"));
        }
        check_name(format!("{at}.table"), &r.table)?;
        check_range(
            format!("{at}.max_rows"),
            r.max_rows.into(),
            1,
            limits::MAX_ROWS.into(),
        )?;
    }
    if t.handlers.len() > limits::MAX_HANDLERS {
        return Err(ScenarioError::TooLarge {
            what: "handlers",
            got: t.handlers.len() as u64,
            max: limits::MAX_HANDLERS as u64,
        });
    }
    for (j, h) in t.handlers.iter().enumerate() {
        let at = format!("transactional.handlers[{j}]");
        node(format!("{at}.service"), &h.service)?;
        check_name(format!("{at}.on"), &h.on)?;
        check_percent(format!("{at}.invalid_percent"), h.invalid_percent)?;
        check_write(&format!("{at}.write"), &h.service, &h.write)?;
    }
    // A handler's own `tx_ms` times a request's transaction; a broker message's handler commits
    // when its processing ends.
    for (j, h) in t.handlers.iter().enumerate() {
        if h.write.tx_ms.is_none() {
            continue;
        }
        let requested = s.workloads.iter().any(|w| {
            matches!(&w.operation, Some(OperationSpec::Request(r))
                if r.to == h.service && r.type_name == h.on)
        });
        if !requested {
            return Err(invalid(
                format!("transactional.handlers[{j}].write.tx_ms"),
                format!(
                    "no request `{}` is sent to `{}`: a handler of broker messages commits when \
                     its processing ends (`processing_ms`), so only a request's handler has a \
                     transaction duration",
                    h.on, h.service
                ),
            ));
        }
    }
    for (i, w) in s.workloads.iter().enumerate() {
        let Some(op) = &w.operation else { continue };
        let at = format!("workloads[{i}].operation");
        if !w.messages.is_empty() {
            return Err(invalid(
                format!("workloads[{i}].messages"),
                "must be empty when `operation` is set",
            ));
        }
        match op {
            OperationSpec::Write(wr) => check_write(&format!("{at}.write"), &w.from, wr)?,
            OperationSpec::Query(q) => {
                check_template(format!("{at}.query.key"), &q.key)?;
                if !t.replicas.iter().any(|r| r.service == w.from) {
                    return Err(invalid(
                        format!("{at}.query"),
                        format!("`{}` keeps no replica to query", w.from),
                    ));
                }
            }
            OperationSpec::Request(r) => {
                let to = node(format!("{at}.request.to"), &r.to)?;
                if !linked(&w.from, &r.to) {
                    return Err(invalid(
                        format!("{at}.request.to"),
                        format!("no link between `{}` and `{}`", w.from, r.to),
                    ));
                }
                if s.nodes[to].kind != NodeKind::Service
                    || !t
                        .handlers
                        .iter()
                        .any(|h| h.service == r.to && h.on == r.type_name)
                {
                    return Err(invalid(
                        format!("{at}.request.type"),
                        format!("`{}` has no handler `on: {}`", r.to, r.type_name),
                    ));
                }
                check_template(format!("{at}.request.key"), &r.key)?;
                check_name(format!("{at}.request.resource"), &r.resource)?;
                if r.final_statuses.is_empty() || r.final_statuses.len() > limits::MAX_FINAL {
                    return Err(invalid(
                        format!("{at}.request.final"),
                        format!("needs 1 to {} statuses", limits::MAX_FINAL),
                    ));
                }
                check_range(
                    format!("{at}.request.poll_every_ms"),
                    r.poll_every_ms,
                    1,
                    max_ms,
                )?;
                check_range(format!("{at}.request.timeout_ms"), r.timeout_ms, 1, max_ms)?;
                check_range(
                    format!("{at}.request.max_polls"),
                    r.max_polls.into(),
                    1,
                    limits::MAX_POLLS.into(),
                )?;
            }
        }
    }
    // Every outbox event of a service with a relay must be publishable by that relay.
    for (svc, relay) in relay_for.iter().enumerate() {
        let Some(relay) = relay else { continue };
        let rname = &s.nodes[*relay].name;
        let writes = s
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.from == s.nodes[svc].name)
            .filter_map(|(i, w)| match &w.operation {
                Some(OperationSpec::Write(wr)) => {
                    Some((format!("workloads[{i}].operation.write"), wr))
                }
                _ => None,
            })
            .chain(
                t.handlers
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.service == s.nodes[svc].name)
                    .map(|(j, h)| (format!("transactional.handlers[{j}]"), &h.write)),
            );
        for (at, wr) in writes {
            let Some(e) = &wr.event else { continue };
            if wr.strategy != Strategy::Outbox {
                continue;
            }
            if let Some(c) = s.channels.iter().find(|c| c.name == e.channel) {
                if !linked(rname, &c.broker) {
                    return Err(invalid(
                        format!("{at}.event.channel"),
                        format!(
                            "relay `{rname}` has no link to broker `{}` of `{}`",
                            c.broker, e.channel
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand() {
        assert_eq!(expand("order-{n}", 7, "", ""), "order-7");
        assert_eq!(expand("c-{n%5}", 5, "", ""), "c-5");
        assert_eq!(expand("c-{n%5}", 6, "", ""), "c-1");
        assert_eq!(expand("{key}/{status}", 1, "k", "ok"), "k/ok");
        assert_eq!(expand("{x} {n%0} {", 1, "", ""), "{x} {n%0} {");
    }

    #[test]
    fn bad_modulo_is_an_error_naming_the_field() {
        let e = check_template("w.key".into(), "a-{n%0}").unwrap_err();
        assert_eq!(e.to_string(), "w.key: `{n%0}` needs a whole number K ≥ 1");
    }
}
