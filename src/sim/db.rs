//! Service databases (Eventuate Tram / Debezium semantics): tables of rows keyed by aggregate id,
//! local transactions that take time and commit atomically, the OUTBOX table, the commit log
//! (binlog / WAL) with positions; and the bookkeeping shared by the transactional features (the
//! event ledger that tells lost, phantom and duplicate events apart, channel append logs,
//! failpoints).
//!
//! A database belongs to its service node, not to an instance: a crash of an instance rolls back
//! the transactions that instance had in flight and nothing else (durability). Rows become visible
//! when their transaction commits; a rolled-back transaction leaves no row, no log record and no
//! OUTBOX row (row ids it took stay unused, as an auto-increment does).

use super::relay::Relay;
use super::replica::Replica;
use super::*;
use crate::outbox::spec::{CrashPoint, DatabaseSpec, MarkMode, RelayMode, Strategy};
use crate::outbox::view::*;

/// Bounds of the transactional bookkeeping (the scenario bounds tables and logs itself).
pub(super) mod txbounds {
    /// Events tracked by the ledger (lost / phantom / duplicate accounting); the oldest is
    /// forgotten beyond it.
    pub const MAX_LEDGER: usize = 100_000;
    /// Failpoints armed per instance.
    pub const MAX_FAILPOINTS: usize = 16;
    /// Client requests remembered per client node (the oldest finished ones are forgotten; a
    /// new request beyond it with all of them active is skipped).
    pub const MAX_CLIENT_REQUESTS: usize = 256;
    /// Keys a consumer remembers for its reordering count.
    pub const MAX_KEYS_TRACKED: usize = 10_000;
    /// Source commits a replica tracks for its lag (beyond: not tracked).
    pub const MAX_REPLICA_PENDING: usize = 10_000;
    /// Publish attempt counters a relay keeps for records not yet done.
    pub const MAX_RELAY_ATTEMPTS: usize = 100_000;
}

/// A committed row of a business table.
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub key: Arc<str>,
    pub status: Arc<str>,
    pub version: u64,
    pub updated_at: SimTime,
}

/// A business table: rows by id, an index by key, the id counter.
#[derive(Clone, Debug, Default)]
pub(super) struct Table {
    pub rows: BTreeMap<u64, Row>,
    pub by_key: BTreeMap<Arc<str>, u64>,
    pub next_id: u64,
}

/// A committed OUTBOX row.
#[derive(Clone, Debug)]
pub(super) struct OutboxRow {
    pub msg: Arc<Message>,
    pub channel: u32,
    pub lsn: u64,
    pub committed_at: SimTime,
    pub published: bool,
}

/// One commit log record.
#[derive(Clone, Debug)]
pub(super) struct LogRecord {
    pub lsn: u64,
    pub tx: u64,
    pub table: Arc<str>,
    pub op: LogOp,
    pub row: u64,
    pub key: Arc<str>,
    /// An OUTBOX insert: its message and channel.
    pub outbox: Option<(Arc<Message>, u32)>,
}

/// The business row a transaction writes (upsert by key).
#[derive(Clone, Debug)]
pub(super) struct RowWrite {
    pub table: Arc<str>,
    pub key: Arc<str>,
    pub status: Arc<str>,
    /// Row id taken at insert (the existing row's id for an update).
    pub row: u64,
}

/// Who waits for a transaction: a client's request (answered 202 after the commit).
#[derive(Clone, Debug)]
pub(super) struct Respond {
    pub client: Ep,
    pub req: u64,
    pub attempt: u32,
    pub request: MessageId,
}

/// A transaction in flight.
#[derive(Clone, Debug)]
pub(super) struct Tx {
    pub owner: Ep,
    pub began_at: SimTime,
    pub ends_at: SimTime,
    pub purpose: TxPurpose,
    pub write: Option<RowWrite>,
    /// OUTBOX row id taken at insert, its message and channel.
    pub outbox: Option<(u64, Arc<Message>, u32)>,
    /// A dual write's publish: strategy, message, channel.
    pub dual: Option<(Strategy, Arc<Message>, u32)>,
    pub respond: Option<Respond>,
    /// A relay's mark/delete: the relay node and the rows.
    pub mark: Option<(u32, Vec<u64>, MarkMode)>,
}

impl Tx {
    fn event(&self) -> Option<MessageId> {
        self.outbox
            .as_ref()
            .map(|(_, m, _)| m.id)
            .or_else(|| self.dual.as_ref().map(|(_, m, _)| m.id))
    }
}

/// What a successful commit did.
#[derive(Clone, Debug)]
pub(super) struct Committed {
    pub last_lsn: u64,
    /// LSN of the event's record (OUTBOX insert, or the business row for a dual write).
    pub event_lsn: u64,
}

/// A service's database.
#[derive(Clone, Debug)]
pub(super) struct Db {
    pub spec: DatabaseSpec,
    pub rng: SimRng,
    pub tables: BTreeMap<Arc<str>, Table>,
    pub outbox: BTreeMap<u64, OutboxRow>,
    pub outbox_next_id: u64,
    pub outbox_unpublished: u32,
    pub log: VecDeque<LogRecord>,
    pub next_lsn: u64,
    pub last_outbox_lsn: u64,
    /// Saved position of a log-tailing relay (replication slot): records after it are kept.
    pub slot: Option<u64>,
    pub txs: BTreeMap<u64, Tx>,
    pub metrics: DbMetrics,
}

const OUTBOX: &str = "outbox";

impl Db {
    fn new(spec: DatabaseSpec, rng: SimRng) -> Db {
        Db {
            spec,
            rng,
            tables: BTreeMap::new(),
            outbox: BTreeMap::new(),
            outbox_next_id: 0,
            outbox_unpublished: 0,
            log: VecDeque::new(),
            next_lsn: 1,
            last_outbox_lsn: 0,
            slot: None,
            txs: BTreeMap::new(),
            metrics: DbMetrics::default(),
        }
    }

    fn trimmable(&self, lsn: u64) -> bool {
        self.slot.is_none_or(|s| lsn <= s)
    }

    /// Commits `tx` atomically at `now`, or says why it cannot (nothing changes then).
    pub(super) fn commit(
        &mut self,
        id: u64,
        tx: &Tx,
        now: SimTime,
    ) -> Result<Committed, RollbackReason> {
        let max_rows = self.spec.max_rows as usize;
        // Room in the business table.
        let mut records = 0usize;
        if let Some(w) = &tx.write {
            records += 1;
            let t = self.tables.get(&w.table);
            let exists = t.is_some_and(|t| t.by_key.contains_key(&w.key));
            if !exists && t.map_or(0, |t| t.rows.len()) >= max_rows {
                return Err(RollbackReason::TableFull);
            }
        }
        // Room in the OUTBOX: purge the oldest published rows (or rows a log-tailing relay has
        // saved its position past) when full.
        if tx.outbox.is_some() {
            records += 1;
            while self.outbox.len() >= max_rows {
                let slot = self.slot;
                let victim = self
                    .outbox
                    .iter()
                    .find(|(_, r)| r.published || slot.is_some_and(|s| r.lsn <= s))
                    .map(|(&id, _)| id);
                match victim {
                    Some(v) => {
                        if let Some(r) = self.outbox.remove(&v) {
                            if !r.published {
                                self.outbox_unpublished -= 1;
                            }
                        }
                        self.metrics.purged += 1;
                    }
                    None => return Err(RollbackReason::TableFull),
                }
            }
        }
        if let Some((_, rows, _)) = &tx.mark {
            records += rows.len();
        }
        // Room in the commit log.
        let max_log = self.spec.max_log_records as usize;
        while self.log.len() + records > max_log {
            match self.log.front() {
                Some(r) if self.trimmable(r.lsn) => {
                    self.log.pop_front();
                }
                Some(_) => return Err(RollbackReason::LogFull),
                None => break,
            }
        }
        // Apply.
        let mut event_lsn = 0;
        if let Some(w) = &tx.write {
            let lsn = self.next_lsn;
            self.next_lsn += 1;
            let table = self.tables.entry(Arc::clone(&w.table)).or_default();
            let (row, op) = match table.by_key.get(&w.key) {
                Some(&existing) => (existing, LogOp::Update),
                None => {
                    table.by_key.insert(Arc::clone(&w.key), w.row);
                    (w.row, LogOp::Insert)
                }
            };
            table.rows.insert(
                row,
                Row {
                    key: Arc::clone(&w.key),
                    status: Arc::clone(&w.status),
                    version: lsn,
                    updated_at: now,
                },
            );
            self.log.push_back(LogRecord {
                lsn,
                tx: id,
                table: Arc::clone(&w.table),
                op,
                row,
                key: Arc::clone(&w.key),
                outbox: None,
            });
            event_lsn = lsn;
        }
        if let Some((row, msg, channel)) = &tx.outbox {
            let lsn = self.next_lsn;
            self.next_lsn += 1;
            self.outbox.insert(
                *row,
                OutboxRow {
                    msg: Arc::clone(msg),
                    channel: *channel,
                    lsn,
                    committed_at: now,
                    published: false,
                },
            );
            self.outbox_unpublished += 1;
            self.last_outbox_lsn = lsn;
            self.metrics.outbox_rows += 1;
            self.log.push_back(LogRecord {
                lsn,
                tx: id,
                table: Arc::from(OUTBOX),
                op: LogOp::Insert,
                row: *row,
                key: Arc::from(msg.headers.key.as_deref().unwrap_or("")),
                outbox: Some((Arc::clone(msg), *channel)),
            });
            event_lsn = lsn;
        }
        if let Some((_, rows, mode)) = &tx.mark {
            for &r in rows {
                let key: Arc<str> = match self.outbox.get(&r) {
                    Some(row) => Arc::from(row.msg.headers.key.as_deref().unwrap_or("")),
                    None => continue,
                };
                let op = match mode {
                    MarkMode::Mark => {
                        if let Some(row) = self.outbox.get_mut(&r) {
                            if !row.published {
                                row.published = true;
                                self.outbox_unpublished -= 1;
                            }
                        }
                        LogOp::Update
                    }
                    MarkMode::Delete => {
                        if let Some(row) = self.outbox.remove(&r) {
                            if !row.published {
                                self.outbox_unpublished -= 1;
                            }
                        }
                        LogOp::Delete
                    }
                };
                let lsn = self.next_lsn;
                self.next_lsn += 1;
                self.log.push_back(LogRecord {
                    lsn,
                    tx: id,
                    table: Arc::from(OUTBOX),
                    op,
                    row: r,
                    key,
                    outbox: None,
                });
            }
            // Marks never wait on the slot (they do not matter to a log tailer): trim to the bound.
            while self.log.len() > max_log {
                self.log.pop_front();
            }
        }
        self.metrics.committed += 1;
        Ok(Committed {
            last_lsn: self.next_lsn - 1,
            event_lsn,
        })
    }
}

/// Where a tracked event's transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EvState {
    InFlight,
    Committed,
    RolledBack,
}

/// An event of a business change, tracked from its transaction's begin.
#[derive(Clone, Debug)]
pub(super) struct EventRecord {
    pub producer: u32,
    pub strategy: Strategy,
    pub key: Arc<str>,
    pub row: Option<u64>,
    pub state: EvState,
    pub lsn: u64,
    pub committed_at: SimTime,
    pub appended: u32,
}

/// Per (service, strategy) counters.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StratCounters {
    pub operations: u64,
    pub committed: u64,
    pub rolled_back: u64,
    pub published: u64,
    pub phantom: u64,
    pub duplicates: u64,
    /// Unpublished events forgotten by the ledger (counted as lost or pending when forgotten).
    pub forgotten_lost: u64,
}

/// The event ledger: the fate of every event of a business change.
#[derive(Clone, Debug, Default)]
pub(super) struct Ledger {
    pub records: BTreeMap<MessageId, EventRecord>,
    pub counters: BTreeMap<(u32, Strategy), StratCounters>,
    /// Committed events not appended yet.
    pub unpublished: BTreeSet<MessageId>,
}

impl Ledger {
    pub(super) fn begin(&mut self, id: MessageId, rec: EventRecord) {
        self.counters
            .entry((rec.producer, rec.strategy))
            .or_default()
            .operations += 1;
        self.records.insert(id, rec);
        if self.records.len() > txbounds::MAX_LEDGER {
            if let Some((old, rec)) = self.records.pop_first() {
                if self.unpublished.remove(&old) {
                    self.counters
                        .entry((rec.producer, rec.strategy))
                        .or_default()
                        .forgotten_lost += 1;
                }
            }
        }
    }

    pub(super) fn commit(&mut self, id: MessageId, lsn: u64, now: SimTime) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        rec.state = EvState::Committed;
        rec.lsn = lsn;
        rec.committed_at = now;
        let c = self
            .counters
            .entry((rec.producer, rec.strategy))
            .or_default();
        c.committed += 1;
        if rec.appended > 0 {
            c.published += 1;
        } else {
            self.unpublished.insert(id);
        }
    }

    pub(super) fn rollback(&mut self, id: MessageId) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        rec.state = EvState::RolledBack;
        let c = self
            .counters
            .entry((rec.producer, rec.strategy))
            .or_default();
        c.rolled_back += 1;
        if rec.appended > 0 {
            c.phantom += 1;
        }
    }

    pub(super) fn appended(&mut self, id: MessageId) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        rec.appended += 1;
        let c = self
            .counters
            .entry((rec.producer, rec.strategy))
            .or_default();
        if rec.appended > 1 {
            c.duplicates += 1;
            return;
        }
        match rec.state {
            EvState::Committed => {
                c.published += 1;
                self.unpublished.remove(&id);
            }
            EvState::RolledBack => c.phantom += 1,
            EvState::InFlight => {}
        }
    }
}

/// The broker's append log of one channel.
#[derive(Clone, Debug, Default)]
pub(super) struct ChannelLog {
    pub appended: u64,
    pub rejected: u64,
    pub reject_armed: u32,
    /// (time, message, producer node, attempt), the newest [`VIEW_APPENDS`].
    pub recent: VecDeque<(SimTime, Arc<Message>, u32, u32)>,
}

/// The order in which a consumer applied tracked events.
#[derive(Clone, Debug, Default)]
pub(super) struct ConsumerOrder {
    pub applied: u64,
    pub reordered: u64,
    /// Highest commit LSN applied per (producer, key).
    pub last: BTreeMap<(u32, Arc<str>), u64>,
    pub recent: VecDeque<AppliedView>,
}

/// One client request (respond before processing), as the client knows it.
#[derive(Clone, Debug)]
pub(super) struct ClientReq {
    pub instance: u32,
    pub workload: u32,
    pub key: Arc<str>,
    pub status: Arc<str>,
    pub timeline: Vec<(SimTime, Arc<str>)>,
    pub dropped: u32,
    pub sent: u32,
    pub accepted: bool,
    pub done: bool,
    pub awaiting: Option<u32>,
    pub request: MessageId,
}

/// A client node's requests.
#[derive(Clone, Debug, Default)]
pub(super) struct Client {
    pub reqs: BTreeMap<u64, ClientReq>,
    pub skipped: u64,
    pub next_server: u32,
}

/// All transactional state of a run (one field of [`Simulation`]).
#[derive(Clone, Debug, Default)]
pub(super) struct TxSim {
    pub dbs: Vec<Option<Db>>,
    pub relays: Vec<Option<Relay>>,
    pub relay_of: Vec<Option<u32>>,
    pub replicas: Vec<Option<Replica>>,
    pub replicas_of: Vec<Vec<u32>>,
    pub clients: Vec<Option<Client>>,
    pub business: Vec<Option<SimRng>>,
    pub ledger: Ledger,
    pub channel_logs: Vec<ChannelLog>,
    pub consumers: BTreeMap<u32, ConsumerOrder>,
    pub failpoints: BTreeMap<(u32, u32), Vec<CrashPoint>>,
    pub next_tx: u64,
    pub next_req: u64,
    /// Indices into `transactional.handlers`, per node.
    pub handlers_of: Vec<Vec<u32>>,
}

impl TxSim {
    /// The state of a validated scenario at time zero.
    pub(super) fn build(s: &Scenario, seed: u64) -> TxSim {
        let n = s.nodes.len();
        let mut tx = TxSim {
            handlers_of: vec![Vec::new(); n],
            dbs: vec![None; n],
            relays: vec![None; n],
            relay_of: vec![None; n],
            replicas: vec![None; n],
            replicas_of: vec![Vec::new(); n],
            clients: vec![None; n],
            business: vec![None; n],
            channel_logs: vec![ChannelLog::default(); s.channels.len()],
            ..TxSim::default()
        };
        let t = &s.transactional;
        for d in &t.databases {
            let Some(i) = s.node_index(&d.service) else {
                continue;
            };
            tx.dbs[i] = Some(Db::new(
                d.clone(),
                SimRng::new(seed, stream::DB_BASE + i as u64),
            ));
            tx.business[i] = Some(SimRng::new(seed, stream::BUSINESS_BASE + i as u64));
        }
        for r in &t.replicas {
            let (Some(i), Some(src)) = (s.node_index(&r.service), s.node_index(&r.source)) else {
                continue;
            };
            tx.replicas[i] = Some(Replica::new(src as u32, r));
            tx.replicas_of[src].push(i as u32);
        }
        for r in &t.relays {
            let (Some(i), Some(svc)) = (s.node_index(&r.node), s.node_index(&r.service)) else {
                continue;
            };
            tx.relay_of[svc] = Some(i as u32);
            tx.relays[i] = Some(Relay::new(svc as u32, r.clone()));
            if r.mode == RelayMode::LogTailing {
                if let Some(db) = tx.dbs[svc].as_mut() {
                    db.slot = Some(0);
                }
            }
        }
        for (j, h) in t.handlers.iter().enumerate() {
            if let Some(i) = s.node_index(&h.service) {
                tx.handlers_of[i].push(j as u32);
            }
        }
        for w in &s.workloads {
            if let Some(crate::outbox::OperationSpec::Request(_)) = &w.operation {
                if let Some(i) = s.node_index(&w.from) {
                    tx.clients[i].get_or_insert_with(Client::default);
                }
            }
        }
        tx
    }
}

impl Simulation {
    /// Rolls back transaction `id` of `node`'s database: it leaves nothing.
    pub(super) fn tx_rollback(&mut self, node: u32, id: u64, reason: RollbackReason) {
        let Some(db) = self.txm.dbs[node as usize].as_mut() else {
            return;
        };
        let Some(tx) = db.txs.remove(&id) else {
            return;
        };
        db.metrics.rolled_back += 1;
        match reason {
            RollbackReason::Crash => db.metrics.crashed += 1,
            RollbackReason::Abort => db.metrics.aborted += 1,
            RollbackReason::TableFull => db.metrics.table_full += 1,
            RollbackReason::LogFull => db.metrics.log_full += 1,
        }
        if let Some(ev) = tx.event() {
            self.txm.ledger.rollback(ev);
        }
        if self.trace.enabled() {
            let at = self.endpoint(tx.owner);
            self.trace
                .push(self.now, TraceKind::TxRollback { at, tx: id, reason });
        }
        if reason != RollbackReason::Crash {
            if let Some(r) = &tx.respond {
                self.respond(tx.owner, r, 500, "error");
            }
        }
        if let Some((relay, _, _)) = tx.mark {
            self.relay_mark_failed(relay);
        }
    }

    /// Rolls back every transaction `ep` owns, in any database (its instance crashed).
    pub(super) fn rollback_owned_by(&mut self, ep: Ep) {
        for node in 0..self.txm.dbs.len() as u32 {
            let ids: Vec<u64> = match &self.txm.dbs[node as usize] {
                Some(db) => db
                    .txs
                    .iter()
                    .filter(|(_, t)| t.owner == ep)
                    .map(|(&id, _)| id)
                    .collect(),
                None => continue,
            };
            for id in ids {
                self.tx_rollback(node, id, RollbackReason::Crash);
            }
        }
    }

    /// Fires the failpoint `point` of `ep` if it is armed: crashes the instance there. Returns
    /// whether it fired.
    pub(super) fn failpoint(&mut self, ep: Ep, point: CrashPoint) -> bool {
        let Some(armed) = self.txm.failpoints.get_mut(&(ep.node, ep.instance)) else {
            return false;
        };
        let Some(i) = armed.iter().position(|&p| p == point) else {
            return false;
        };
        armed.remove(i);
        if armed.is_empty() {
            self.txm.failpoints.remove(&(ep.node, ep.instance));
        }
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace
                .push(self.now, TraceKind::FailpointCrash { at, point });
        }
        self.crash(ep);
        true
    }

    /// Called by the broker when it appends `msg` to `channel` (once per accepted publish).
    pub(super) fn channel_appended(
        &mut self,
        channel: u32,
        msg: &Arc<Message>,
        from: Ep,
        attempt: u32,
    ) {
        let log = &mut self.txm.channel_logs[channel as usize];
        log.appended += 1;
        if log.recent.len() >= VIEW_APPENDS {
            log.recent.pop_front();
        }
        log.recent
            .push_back((self.now, Arc::clone(msg), from.node, attempt));
        if !self.txm.ledger.records.is_empty() {
            self.txm.ledger.appended(msg.id);
        }
    }

    /// Called by the broker before it accepts a publish: rejects it (nack) if a rejection is
    /// armed on the channel.
    pub(super) fn reject_publish(
        &mut self,
        channel: u32,
        msg: &Arc<Message>,
        broker: Ep,
        producer: Ep,
        attempt: u32,
    ) -> bool {
        let log = &mut self.txm.channel_logs[channel as usize];
        if log.reject_armed == 0 {
            return false;
        }
        log.reject_armed -= 1;
        log.rejected += 1;
        if self.trace.enabled() {
            let what = TraceKind::PublishRejected {
                channel: Arc::from(self.scenario.channels[channel as usize].name.as_str()),
                msg: msg.id,
            };
            self.trace.push(self.now, what);
        }
        self.send(
            broker,
            producer,
            Packet::PublishNack {
                msg: Arc::clone(msg),
                attempt,
            },
        );
        true
    }

    /// A producer got a negative publisher confirm.
    pub(super) fn publish_nacked(&mut self, ep: Ep, msg: Arc<Message>, attempt: u32) {
        if self.nodes[ep.node as usize].kind == NodeKind::Relay {
            self.relay_failed(ep.node, msg.id, attempt, RelayFailure::Rejected);
        } else {
            // As an unconfirmed publish, at once: retry (or give up after the last attempt).
            self.publish_timeout(ep, msg.id, attempt);
        }
    }

    /// What the crash of `ep` does to transactional state (after the instance is down).
    pub(super) fn txm_crashed(&mut self, ep: Ep) {
        self.rollback_owned_by(ep);
        if self.txm.relays[ep.node as usize].is_some() {
            self.relay_crashed(ep.node);
        }
        self.client_crashed(ep);
    }

    /// The transactional part of the snapshot.
    pub(super) fn transactional_view(&self) -> TransactionalView {
        let name = |i: u32| self.nodes[i as usize].name.to_string();
        let chan = |c: u32| self.scenario.channels[c as usize].name.clone();
        let mut databases = Vec::new();
        for (i, db) in self.txm.dbs.iter().enumerate() {
            let Some(db) = db else { continue };
            let tables = db
                .tables
                .iter()
                .map(|(t, table)| TableView {
                    name: t.to_string(),
                    rows: table.rows.len() as u32,
                    recent: table
                        .rows
                        .iter()
                        .rev()
                        .take(VIEW_ROWS)
                        .rev()
                        .map(|(&id, r)| RowView {
                            id,
                            key: r.key.to_string(),
                            status: r.status.to_string(),
                            version: r.version,
                            updated_at: r.updated_at,
                        })
                        .collect(),
                })
                .collect();
            let row_view = |(&id, r): (&u64, &OutboxRow)| OutboxRowView {
                id,
                msg: r.msg.id,
                aggregate_id: r.msg.headers.key.as_deref().unwrap_or_default().to_string(),
                event_type: r.msg.type_name.to_string(),
                destination: chan(r.channel),
                lsn: r.lsn,
                committed_at: r.committed_at,
                published: r.published,
            };
            let mut shown: BTreeSet<u64> = db
                .outbox
                .iter()
                .filter(|(_, r)| !r.published)
                .take(VIEW_OUTBOX_ROWS)
                .map(|(&id, _)| id)
                .collect();
            let room = VIEW_OUTBOX_ROWS - shown.len();
            shown.extend(
                db.outbox
                    .iter()
                    .rev()
                    .filter(|(_, r)| r.published)
                    .take(room)
                    .map(|(&id, _)| id),
            );
            let outbox = OutboxView {
                rows: db.outbox.len() as u32,
                unpublished: db.outbox_unpublished,
                recent: shown
                    .iter()
                    .filter_map(|id| db.outbox.get_key_value(id))
                    .map(row_view)
                    .collect(),
            };
            let log = CommitLogView {
                first_lsn: db.log.front().map_or(0, |r| r.lsn),
                last_lsn: db.next_lsn - 1,
                records: db.log.len() as u32,
                recent: db
                    .log
                    .iter()
                    .rev()
                    .take(VIEW_LOG_RECORDS)
                    .rev()
                    .map(|r| LogRecordView {
                        lsn: r.lsn,
                        tx: r.tx,
                        table: r.table.to_string(),
                        op: r.op,
                        row: r.row,
                        key: r.key.to_string(),
                        msg: r.outbox.as_ref().map(|(m, _)| m.id),
                    })
                    .collect(),
                slot_lsn: db.slot,
            };
            let transactions = db
                .txs
                .iter()
                .take(VIEW_TRANSACTIONS)
                .map(|(&id, t)| TxView {
                    id,
                    owner: name(t.owner.node),
                    instance: t.owner.instance,
                    began_at: t.began_at,
                    ends_at: t.ends_at,
                    writes: t.write.is_some() as u32
                        + t.outbox.is_some() as u32
                        + t.mark.as_ref().map_or(0, |m| m.1.len() as u32),
                    outbox_row: t.outbox.as_ref().map(|o| o.0),
                    purpose: t.purpose,
                })
                .collect();
            databases.push(DatabaseView {
                service: name(i as u32),
                tables,
                outbox,
                log,
                transactions,
                in_flight: db.txs.len() as u32,
                metrics: db.metrics,
            });
        }
        let relays = (0..self.nodes.len() as u32)
            .filter_map(|n| self.relay_view(n))
            .collect();
        // Who still carries an unpublished dual-write event: a pending publish (retries), a copy
        // on the wire, a publish buffered by a paused broker.
        let mut carried: BTreeSet<MessageId> = BTreeSet::new();
        if !self.txm.ledger.unpublished.is_empty() {
            for n in &self.nodes {
                for inst in &n.instances {
                    carried.extend(inst.pending.keys().copied());
                    for d in &inst.deferred {
                        if let Deferred::Receive(t) = d {
                            if let Packet::Publish { msg, .. } = &t.packet {
                                carried.insert(msg.id);
                            }
                        }
                    }
                }
            }
            for t in self.in_flight.values() {
                if let Packet::Publish { msg, .. } = &t.packet {
                    carried.insert(msg.id);
                }
            }
        }
        let mut lost: BTreeMap<(u32, Strategy), (u64, u64)> = BTreeMap::new();
        for id in &self.txm.ledger.unpublished {
            let Some(rec) = self.txm.ledger.records.get(id) else {
                continue;
            };
            let e = lost.entry((rec.producer, rec.strategy)).or_default();
            if rec.strategy == Strategy::Outbox || carried.contains(id) {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        let strategies = self
            .txm
            .ledger
            .counters
            .iter()
            .map(|(&(node, strategy), c)| {
                let (pending, lost) = lost.get(&(node, strategy)).copied().unwrap_or((0, 0));
                StrategyView {
                    service: name(node),
                    strategy,
                    operations: c.operations,
                    committed: c.committed,
                    rolled_back: c.rolled_back,
                    published: c.published,
                    pending,
                    lost: lost + c.forgotten_lost,
                    phantom: c.phantom,
                    duplicates: c.duplicates,
                }
            })
            .collect();
        let channel_logs = self
            .txm
            .channel_logs
            .iter()
            .enumerate()
            .map(|(c, log)| ChannelLogView {
                channel: chan(c as u32),
                appended: log.appended,
                rejected: log.rejected,
                rejections_armed: log.reject_armed,
                recent: log
                    .recent
                    .iter()
                    .map(|(at, msg, producer, attempt)| AppendView {
                        at: *at,
                        msg: msg.id,
                        key: msg.headers.key.as_deref().map(str::to_string),
                        row: self.txm.ledger.records.get(&msg.id).and_then(|r| r.row),
                        producer: name(*producer),
                        attempt: *attempt,
                    })
                    .collect(),
            })
            .collect();
        let consumers = self
            .txm
            .consumers
            .iter()
            .map(|(&n, c)| ConsumerOrderView {
                node: name(n),
                applied: c.applied,
                reordered: c.reordered,
                recent: c.recent.iter().cloned().collect(),
            })
            .collect();
        let replicas = (0..self.nodes.len() as u32)
            .filter_map(|n| self.replica_view(n))
            .collect();
        let armed = self
            .txm
            .failpoints
            .iter()
            .flat_map(|(&(node, instance), points)| {
                points.iter().map(move |&point| ArmedCrash {
                    node: name(node),
                    instance,
                    point,
                })
            })
            .collect();
        TransactionalView {
            databases,
            relays,
            strategies,
            channel_logs,
            consumers,
            replicas,
            requests: self.requests_view(),
            armed,
        }
    }
}

impl Simulation {
    /// Handles the transactional events, after the same checks as the others: a stale incarnation
    /// or a crashed owner drops the event, a paused owner defers it.
    pub(super) fn handle_txm(&mut self, event: Event) {
        let (ep, incarnation) = match &event {
            Event::TxDone { node, tx } => {
                let owner = self.txm.dbs[*node as usize]
                    .as_ref()
                    .and_then(|db| db.txs.get(tx))
                    .map(|t| t.owner);
                match owner {
                    Some(o) => (o, None),
                    None => return,
                }
            }
            Event::RelayTick { node, incarnation }
            | Event::RelayTimeout {
                node, incarnation, ..
            } => (
                Ep {
                    node: *node,
                    instance: 0,
                },
                Some(*incarnation),
            ),
            Event::ClientTimer {
                node,
                instance,
                incarnation,
                ..
            } => (
                Ep {
                    node: *node,
                    instance: *instance,
                },
                Some(*incarnation),
            ),
            _ => return,
        };
        if !self.gate(ep, incarnation, || event.clone()) {
            return;
        }
        match event {
            Event::TxDone { node, tx } => {
                self.tx_finish(node, tx);
            }
            Event::RelayTick { node, .. } => self.relay_tick(node),
            Event::RelayTimeout {
                node, msg, attempt, ..
            } => self.relay_timeout(node, msg, attempt),
            Event::ClientTimer {
                req, attempt, poll, ..
            } => self.client_timer(ep, req, attempt, poll),
            _ => {}
        }
    }
}
