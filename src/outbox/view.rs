//! Snapshot types of transactional messaging: plain data for the UI and for tests
//! ([`crate::Snapshot::transactional`]). Lists of rows and records are bounded: each keeps the
//! most recent few (the constants below) and says how many there are in all.

use crate::message::MessageId;
use crate::outbox::spec::{CrashPoint, MarkMode, RelayMode, Strategy};
use crate::time::SimTime;
use serde::Serialize;

/// Rows of a business table shown (the newest by id).
pub const VIEW_ROWS: usize = 16;
/// OUTBOX rows shown (the oldest unpublished first, then the newest published).
pub const VIEW_OUTBOX_ROWS: usize = 32;
/// Commit log records shown (the newest).
pub const VIEW_LOG_RECORDS: usize = 32;
/// Transactions in flight shown (the oldest).
pub const VIEW_TRANSACTIONS: usize = 16;
/// Records appended to a channel shown (the newest).
pub const VIEW_APPENDS: usize = 64;
/// Effects applied by a consumer shown (the newest).
pub const VIEW_APPLIED: usize = 32;
/// Replica rows shown (by key).
pub const VIEW_REPLICA_ROWS: usize = 16;
/// Client requests shown (the newest).
pub const VIEW_REQUESTS: usize = 32;
/// Status changes kept per request (the client's timeline); later changes are counted only.
pub const TIMELINE_POINTS: usize = 16;

/// Everything transactional at one virtual time. Empty lists when the scenario has none of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TransactionalView {
    /// One per service with a `database`, in node order.
    pub databases: Vec<DatabaseView>,
    /// One per relay node, in node order.
    pub relays: Vec<RelayView>,
    /// Event accounting per (service, strategy) that produced events, in node order then
    /// strategy order: the dual-write vs outbox comparison.
    pub strategies: Vec<StrategyView>,
    /// The broker's append log of every channel, in channel order.
    pub channel_logs: Vec<ChannelLogView>,
    /// Per consumer of outbox or dual-write events: the order in which effects were applied.
    pub consumers: Vec<ConsumerOrderView>,
    /// One per service with a `replica`.
    pub replicas: Vec<ReplicaView>,
    /// Client requests (respond before processing), the newest [`VIEW_REQUESTS`].
    pub requests: Vec<RequestView>,
    /// Failpoints armed and not yet fired (`arm_crash`).
    pub armed: Vec<ArmedCrash>,
}

/// Counters of one database since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DbMetrics {
    /// Transactions begun.
    pub begun: u64,
    /// Transactions committed.
    pub committed: u64,
    /// Transactions rolled back, for any reason.
    pub rolled_back: u64,
    /// … of which aborted at commit (`abort_percent`).
    pub aborted: u64,
    /// … of which rolled back by a crash of their instance.
    pub crashed: u64,
    /// … of which rolled back because a table was full.
    pub table_full: u64,
    /// … of which rolled back because the commit log was full of unsaved records.
    pub log_full: u64,
    /// Transactions refused at begin (`max_transactions` in flight).
    pub refused: u64,
    /// OUTBOX rows committed.
    pub outbox_rows: u64,
    /// Published OUTBOX rows purged to make room.
    pub purged: u64,
}

/// A row of a business table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowView {
    /// Row id, assigned at insert (gaps are rolled-back inserts).
    pub id: u64,
    /// Aggregate id.
    pub key: String,
    /// Status column.
    pub status: String,
    /// LSN of the commit that last wrote it.
    pub version: u64,
    /// When that commit happened.
    pub updated_at: SimTime,
}

/// A business table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableView {
    /// Table name.
    pub name: String,
    /// Committed rows.
    pub rows: u32,
    /// The newest [`VIEW_ROWS`] rows by id.
    pub recent: Vec<RowView>,
}

/// A row of the OUTBOX table (Eventuate `message`, Debezium outbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxRowView {
    /// Row id, assigned at insert.
    pub id: u64,
    /// Message id (what consumers deduplicate on).
    pub msg: MessageId,
    /// Aggregate id = message key.
    pub aggregate_id: String,
    /// Event type.
    pub event_type: String,
    /// Destination channel.
    pub destination: String,
    /// LSN of its insert in the commit log.
    pub lsn: u64,
    /// Commit time.
    pub committed_at: SimTime,
    /// Marked published by a polling publisher.
    pub published: bool,
}

/// The OUTBOX table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxView {
    /// Committed rows in the table.
    pub rows: u32,
    /// Of which not marked published.
    pub unpublished: u32,
    /// Up to [`VIEW_OUTBOX_ROWS`] rows: the oldest unpublished first, then the newest published;
    /// sorted by id.
    pub recent: Vec<OutboxRowView>,
}

/// The kind of change a commit log record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogOp {
    /// A row was inserted.
    Insert,
    /// A row was updated.
    Update,
    /// A row was deleted.
    Delete,
}

/// One commit log record (one row change of a committed transaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogRecordView {
    /// Position (log sequence number), from 1.
    pub lsn: u64,
    /// Transaction id.
    pub tx: u64,
    /// Table (`outbox` for the OUTBOX).
    pub table: String,
    /// Insert, update or delete.
    pub op: LogOp,
    /// Row id.
    pub row: u64,
    /// Row key (aggregate id).
    pub key: String,
    /// For an OUTBOX insert, the message it carries.
    pub msg: Option<MessageId>,
}

/// The commit log (binlog / WAL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommitLogView {
    /// LSN of the oldest record kept (0 when empty).
    pub first_lsn: u64,
    /// LSN of the newest record (0 when none yet).
    pub last_lsn: u64,
    /// Records kept.
    pub records: u32,
    /// The newest [`VIEW_LOG_RECORDS`] records.
    pub recent: Vec<LogRecordView>,
    /// Saved position of the log-tailing relay (its replication slot), if there is one.
    pub slot_lsn: Option<u64>,
}

/// Why a transaction exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxPurpose {
    /// A workload's business change.
    Write,
    /// A handler's change (for a message or a request).
    Handler,
    /// A polling publisher marking or deleting published rows.
    Mark,
}

/// A transaction in flight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxView {
    /// Transaction id (from 1, per run).
    pub id: u64,
    /// Owner: the service instance or the relay that runs it.
    pub owner: String,
    /// Owner instance.
    pub instance: u32,
    /// Begin time.
    pub began_at: SimTime,
    /// When it will try to commit.
    pub ends_at: SimTime,
    /// Rows written (business rows, OUTBOX row, marked rows).
    pub writes: u32,
    /// Id of the OUTBOX row it inserts, if any (not visible until the commit).
    pub outbox_row: Option<u64>,
    /// Why.
    pub purpose: TxPurpose,
}

/// A service's database.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatabaseView {
    /// Owning service.
    pub service: String,
    /// Business tables, by name.
    pub tables: Vec<TableView>,
    /// The OUTBOX table.
    pub outbox: OutboxView,
    /// The commit log.
    pub log: CommitLogView,
    /// Transactions in flight (the oldest [`VIEW_TRANSACTIONS`]).
    pub transactions: Vec<TxView>,
    /// Transactions in flight in all.
    pub in_flight: u32,
    /// Counters.
    pub metrics: DbMetrics,
}

/// A relay's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayState {
    /// Running: reading, publishing or idle.
    Running,
    /// Frozen (SIGSTOP).
    Paused,
    /// Stopped gracefully (`stop_relay`); `restart` starts it.
    Stopped,
    /// Crashed; `restart` starts it from its saved state.
    Crashed,
}

/// Where a record read by a relay stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Read, not yet published (waiting for room under `max_in_flight`).
    Unsent,
    /// Published, confirm awaited.
    InFlight,
    /// Confirmed by the broker.
    Confirmed,
}

/// A record of the relay's current batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WindowRecordView {
    /// OUTBOX row id.
    pub row: u64,
    /// LSN of the row's insert.
    pub lsn: u64,
    /// Message id.
    pub msg: MessageId,
    /// Message key (aggregate id).
    pub key: String,
    /// Publish attempts of this record by this relay so far.
    pub attempt: u32,
    /// Where it stands.
    pub state: WindowState,
}

/// Counters of a relay since the start (all incarnations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RelayMetrics {
    /// Reads that found records (polls or log reads).
    pub reads: u64,
    /// Records read.
    pub records_read: u64,
    /// Publishes sent (first attempts and republishes).
    pub publishes: u64,
    /// Republishes (go-back-N or retry after a failure, or after a restart).
    pub republished: u64,
    /// Publisher confirms accepted.
    pub confirmed: u64,
    /// Publishes rejected by the broker (nack).
    pub rejected: u64,
    /// Publishes not confirmed in `publish_timeout_ms`.
    pub timeouts: u64,
    /// Go-back-N rewinds after a failure.
    pub rewinds: u64,
    /// Rows marked published (polling, `mark`).
    pub marked: u64,
    /// Rows deleted (polling, `delete`).
    pub deleted: u64,
    /// Position saves (log tailing).
    pub saves: u64,
    /// Log records skipped because the log no longer had them.
    pub skipped: u64,
    /// Crashes (commands and failpoints).
    pub crashes: u64,
}

/// A message relay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelayView {
    /// Relay node.
    pub node: String,
    /// Service whose OUTBOX it publishes.
    pub service: String,
    /// Polling publisher or log tailing.
    pub mode: RelayMode,
    /// Polling: mark or delete.
    pub after_publish: MarkMode,
    /// Unconfirmed publishes allowed (1 = strict).
    pub max_in_flight: u32,
    /// State.
    pub state: RelayState,
    /// Log tailing: the saved position (durable offset), LSN.
    pub saved_position: u64,
    /// Log tailing: the position in memory (last confirmed record), LSN.
    pub position: u64,
    /// Log tailing: the last LSN read.
    pub read_upto: u64,
    /// The current batch, in read order.
    pub window: Vec<WindowRecordView>,
    /// Polling: a mark/delete transaction is running.
    pub marking: bool,
    /// Counters.
    pub metrics: RelayMetrics,
}

/// Event accounting of one (service, strategy): how many business changes got their event to the
/// broker. An event is appended when the broker adds it to its channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrategyView {
    /// Producing service.
    pub service: String,
    /// Strategy.
    pub strategy: Strategy,
    /// Business changes begun that carry an event.
    pub operations: u64,
    /// Of which committed.
    pub committed: u64,
    /// Of which rolled back.
    pub rolled_back: u64,
    /// Committed with the event appended at least once.
    pub published: u64,
    /// Committed, not yet appended, and something will still publish it (an OUTBOX row, a pending
    /// publish retry, a copy on the wire).
    pub pending: u64,
    /// Committed, never appended, and nothing will publish it any more.
    pub lost: u64,
    /// Appended although its transaction rolled back.
    pub phantom: u64,
    /// Extra appends of the same event (an event appended 3 times counts 2).
    pub duplicates: u64,
}

/// A record the broker appended to a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppendView {
    /// When.
    pub at: SimTime,
    /// Message id.
    pub msg: MessageId,
    /// Message key.
    pub key: Option<String>,
    /// OUTBOX row id of the event, if it came from an OUTBOX.
    pub row: Option<u64>,
    /// Publishing node (service or relay).
    pub producer: String,
    /// Publish attempt that made it.
    pub attempt: u32,
}

/// The broker's append log of one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelLogView {
    /// Channel.
    pub channel: String,
    /// Records appended in all (the broker "holds" these; consumers' queues get copies).
    pub appended: u64,
    /// Publishes rejected (`reject_next_publish`).
    pub rejected: u64,
    /// Rejections still armed.
    pub rejections_armed: u32,
    /// The newest [`VIEW_APPENDS`] appends.
    pub recent: Vec<AppendView>,
}

/// An effect applied by a consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedView {
    /// When.
    pub at: SimTime,
    /// Message id.
    pub msg: MessageId,
    /// Key (aggregate id).
    pub key: String,
    /// OUTBOX row id, if it came from an OUTBOX.
    pub row: Option<u64>,
}

/// The order in which one consumer applied tracked events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsumerOrderView {
    /// Consumer service.
    pub node: String,
    /// Effects applied from tracked events.
    pub applied: u64,
    /// Effects applied after a later event of the same key (by commit order): reordering.
    pub reordered: u64,
    /// The newest [`VIEW_APPLIED`] effects.
    pub recent: Vec<AppliedView>,
}

/// A replica row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaRowView {
    /// Key.
    pub key: String,
    /// Source commit LSN of the applied event (0 if the event's transaction had not committed).
    pub version: u64,
    /// Event type that wrote it.
    pub event_type: String,
    /// When the source committed it.
    pub source_committed_at: SimTime,
    /// When the replica applied it.
    pub applied_at: SimTime,
}

/// A read-only replica of another service's data (data replication).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaView {
    /// Service keeping the replica.
    pub node: String,
    /// Source service.
    pub source: String,
    /// Replicated table of the source.
    pub table: String,
    /// Rows.
    pub rows: u32,
    /// Events applied.
    pub applied: u64,
    /// Events ignored because the row already had a newer version (late or duplicate).
    pub stale_ignored: u64,
    /// New keys not stored (`max_rows`).
    pub overflow: u64,
    /// Lag of the last applied event: applied time − source commit time, µs.
    pub last_lag_us: u64,
    /// Largest lag seen, µs.
    pub max_lag_us: u64,
    /// Mean lag over applied events, µs.
    pub mean_lag_us: u64,
    /// Lag now: time since the oldest source commit not yet applied, µs (0 when up to date).
    pub lag_now_us: u64,
    /// Source commits not yet applied.
    pub behind: u32,
    /// Queries served (hits and misses).
    pub queries: u64,
    /// Queries that found the key.
    pub hits: u64,
    /// Queries served while no source instance was up.
    pub served_while_source_down: u64,
    /// Hits whose version was older than the source's committed version.
    pub stale_reads: u64,
    /// Up to [`VIEW_REPLICA_ROWS`] rows, by key.
    pub recent: Vec<ReplicaRowView>,
}

/// One point of a client's view of a request's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusPoint {
    /// When the client learnt it.
    pub at: SimTime,
    /// `sent`, `pending` (202), a status read by a poll, `timeout` (no answer in time),
    /// `invalid` (400), `error` (500), `not_found` (404), `gave_up`.
    pub status: String,
}

/// A client's request and its status over time, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestView {
    /// Client service.
    pub client: String,
    /// Client instance.
    pub instance: u32,
    /// Request key (resource id).
    pub key: String,
    /// Last status seen.
    pub status: String,
    /// The client stopped (final status or gave up).
    pub done: bool,
    /// Requests sent (the POST, retries and polls).
    pub sent: u32,
    /// Status changes, oldest first, at most [`TIMELINE_POINTS`].
    pub timeline: Vec<StatusPoint>,
    /// Status changes beyond [`TIMELINE_POINTS`], not kept.
    pub dropped_points: u32,
}

/// A failpoint armed on an instance (for the UI's fault panel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArmedCrash {
    /// Node.
    pub node: String,
    /// Instance.
    pub instance: u32,
    /// Where it will crash.
    pub point: CrashPoint,
}

/// Why a transaction rolled back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackReason {
    /// Its instance crashed before the commit.
    Crash,
    /// Aborted at commit (`abort_percent`).
    Abort,
    /// A table was full.
    TableFull,
    /// The commit log was full of records a relay still needs.
    LogFull,
}

impl RollbackReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackReason::Crash => "crash",
            RollbackReason::Abort => "abort",
            RollbackReason::TableFull => "table_full",
            RollbackReason::LogFull => "log_full",
        }
    }
}

/// Why a relay's publish failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayFailure {
    /// The broker rejected it (nack).
    Rejected,
    /// No confirm within `publish_timeout_ms`.
    Timeout,
}

impl RelayFailure {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayFailure::Rejected => "rejected",
            RelayFailure::Timeout => "timed out",
        }
    }
}
