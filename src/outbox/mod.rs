//! Transactional messaging: service databases, the transactional outbox, message relays, dual
//! writes, data replication and respond-before-processing.
//!
//! Vocabulary follows Eventuate Tram and Debezium:
//!
//! All of it is configured in the scenario's `transactional` section ([`spec::TransactionalSpec`])
//! and by workloads with an `operation`.
//!
//! - A service may own a **database** ([`spec::DatabaseSpec`]): tables of rows keyed by an
//!   aggregate id, local transactions that take time (several in flight at once), commit
//!   atomically and survive a crash of the service, and a **commit log** (binlog / WAL) in which
//!   every committed row change has a position (log sequence number, LSN, from 1).
//! - The **outbox**: a business change and the OUTBOX row carrying its event commit in one local
//!   transaction ([`spec::Strategy::Outbox`]); the row's aggregate id is the message key
//!   (Eventuate Tram `message` table, Debezium outbox event router `aggregateid`).
//! - A **message relay** is a node of its own ([`crate::scenario::NodeKind::Relay`],
//!   [`spec::RelaySpec`]) that publishes outbox rows to the broker, either as a **polling
//!   publisher** (Eventuate CDC polling: `SELECT … WHERE published = 0 ORDER BY id LIMIT B`, then
//!   `UPDATE … SET published = 1` or `DELETE`) or by **transaction log tailing** (Debezium: read
//!   the commit log from a saved offset, publish, commit the offset every K records and on a
//!   graceful stop).
//! - The contrast, **dual writes** without an outbox: commit-then-publish (a crash in between
//!   loses the event) and publish-then-commit (a crash or a rollback in between leaves a phantom
//!   event). [`view::StrategyView`] counts lost, phantom and duplicate events per strategy.
//! - **Data replication** ([`spec::ReplicaSpec`]): a read-only replica of another service's data,
//!   kept up to date from its events, with replication lag in virtual µs, serving queries while the
//!   source is down.
//! - **Respond before processing** ([`spec::RequestSpec`]): the service validates with local data
//!   only, commits its change and its outbox row, answers 202 Accepted with a pending status; the
//!   client polls until the final status ([`view::RequestView`] is the client's timeline).
//!
//! [`spec`] holds the scenario types (JSON), [`view`] the snapshot types (what the UI draws).

pub mod spec;
pub mod view;

pub use spec::{
    CrashPoint, DatabaseSpec, EventSpec, HandlerSpec, MarkMode, OperationSpec, QuerySpec,
    RelayMode, RelaySpec, ReplicaSpec, RequestSpec, Strategy, TransactionalSpec, WriteSpec,
};
pub use view::TransactionalView;
