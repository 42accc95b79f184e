//! Data replication: a service keeps a read-only replica of another service's table, updated
//! from that service's events (CQRS view / "replica kept up to date by subscribing to events").
//!
//! The replica is durable (it lives in the consumer's database). A row is upserted by key with
//! the source's commit LSN as its version; an event older than the row (a late duplicate, a
//! reordered key) is ignored, so applying is idempotent. Lag is the applied time minus the
//! source's commit time, in virtual µs; "lag now" is the age of the oldest source commit not yet
//! applied. Queries are served from the replica alone, so they go on while the source is down.

use super::db::{txbounds, EvState};
use super::*;
use crate::outbox::spec::ReplicaSpec;
use crate::outbox::view::*;

/// A replica row.
#[derive(Clone, Debug)]
pub(super) struct ReplicaRow {
    pub version: u64,
    pub event_type: Arc<str>,
    pub source_committed_at: SimTime,
    pub applied_at: SimTime,
}

/// A replica of `source`'s table.
#[derive(Clone, Debug)]
pub(super) struct Replica {
    pub source: u32,
    pub table: Arc<str>,
    pub max_rows: u32,
    pub rows: BTreeMap<Arc<str>, ReplicaRow>,
    pub applied: u64,
    pub stale_ignored: u64,
    pub overflow: u64,
    pub last_lag_us: u64,
    pub max_lag_us: u64,
    pub lag_sum_us: u64,
    pub lag_count: u64,
    /// Source commits not applied yet: by message, and by (commit time, message) for the oldest.
    pub pending: BTreeMap<MessageId, SimTime>,
    pub pending_by_time: BTreeSet<(SimTime, MessageId)>,
    pub queries: u64,
    pub hits: u64,
    pub served_while_source_down: u64,
    pub stale_reads: u64,
}

impl Replica {
    pub(super) fn new(source: u32, spec: &ReplicaSpec) -> Replica {
        Replica {
            source,
            table: Arc::from(spec.table.as_str()),
            max_rows: spec.max_rows,
            rows: BTreeMap::new(),
            applied: 0,
            stale_ignored: 0,
            overflow: 0,
            last_lag_us: 0,
            max_lag_us: 0,
            lag_sum_us: 0,
            lag_count: 0,
            pending: BTreeMap::new(),
            pending_by_time: BTreeSet::new(),
            queries: 0,
            hits: 0,
            served_while_source_down: 0,
            stale_reads: 0,
        }
    }
}

impl Simulation {
    /// A source committed the change of event `msg`: every replica of it is now behind by one.
    pub(super) fn replica_source_committed(&mut self, source: u32, msg: MessageId) {
        let now = self.now;
        for &r in &self.txm.replicas_of[source as usize] {
            if let Some(rep) = self.txm.replicas[r as usize].as_mut() {
                if rep.pending.len() < txbounds::MAX_REPLICA_PENDING {
                    rep.pending.insert(msg, now);
                    rep.pending_by_time.insert((now, msg));
                }
            }
        }
    }

    /// Service `ep` applied an event produced by `producer`: update its replica if it keeps one of
    /// that producer.
    pub(super) fn replica_apply(&mut self, ep: Ep, msg: &Arc<Message>, producer: u32) {
        let Some(rep) = self.txm.replicas[ep.node as usize].as_ref() else {
            return;
        };
        if rep.source != producer {
            return;
        }
        let Some(rec) = self.txm.ledger.records.get(&msg.id) else {
            return;
        };
        let (version, committed_at) = if rec.state == EvState::Committed {
            (rec.lsn, Some(rec.committed_at))
        } else {
            (0, None)
        };
        let key: Arc<str> = Arc::from(msg.headers.key.as_deref().unwrap_or(""));
        let now = self.now;
        let Some(rep) = self.txm.replicas[ep.node as usize].as_mut() else {
            return;
        };
        if let Some(t) = rep.pending.remove(&msg.id) {
            rep.pending_by_time.remove(&(t, msg.id));
        }
        let lag_us = committed_at.map_or(0, |c| now.0.saturating_sub(c.0));
        let newer = match rep.rows.get(&key) {
            Some(row) => version == 0 || version > row.version,
            None => true,
        };
        let fits = rep.rows.contains_key(&key) || rep.rows.len() < rep.max_rows as usize;
        let applied = newer && fits;
        if !newer {
            rep.stale_ignored += 1;
        } else if !fits {
            rep.overflow += 1;
        } else {
            rep.rows.insert(
                Arc::clone(&key),
                ReplicaRow {
                    version,
                    event_type: Arc::clone(&msg.type_name),
                    source_committed_at: committed_at.unwrap_or(now),
                    applied_at: now,
                },
            );
            rep.applied += 1;
            if committed_at.is_some() {
                rep.last_lag_us = lag_us;
                rep.max_lag_us = rep.max_lag_us.max(lag_us);
                rep.lag_sum_us = rep.lag_sum_us.saturating_add(lag_us);
                rep.lag_count += 1;
            }
        }
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::ReplicaApply {
                    at,
                    key,
                    version,
                    lag_us,
                    applied,
                },
            );
        }
    }

    /// A query of `ep`'s replica for `key`: served locally, whether the source is up or not.
    pub(super) fn replica_query(&mut self, ep: Ep, key: &str) {
        let Some(rep) = self.txm.replicas[ep.node as usize].as_ref() else {
            return;
        };
        let source = rep.source;
        let source_down = !self.nodes[source as usize].instances.iter().any(|i| i.up);
        let source_version = self.txm.dbs[source as usize]
            .as_ref()
            .and_then(|db| db.tables.get(&rep.table))
            .and_then(|t| t.by_key.get(key).and_then(|id| t.rows.get(id)))
            .map_or(0, |row| row.version);
        let Some(rep) = self.txm.replicas[ep.node as usize].as_mut() else {
            return;
        };
        rep.queries += 1;
        let hit = match rep.rows.get(key) {
            Some(row) => {
                rep.hits += 1;
                if row.version < source_version {
                    rep.stale_reads += 1;
                }
                true
            }
            None => false,
        };
        if source_down {
            rep.served_while_source_down += 1;
        }
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::ReplicaQuery {
                    at,
                    key: Arc::from(key),
                    hit,
                    source_down,
                },
            );
        }
    }

    /// The replica part of the snapshot.
    pub(super) fn replica_view(&self, node: u32) -> Option<ReplicaView> {
        let rep = self.txm.replicas[node as usize].as_ref()?;
        let lag_now_us = rep
            .pending_by_time
            .first()
            .map_or(0, |(t, _)| self.now.0.saturating_sub(t.0));
        Some(ReplicaView {
            node: self.nodes[node as usize].name.to_string(),
            source: self.nodes[rep.source as usize].name.to_string(),
            table: rep.table.to_string(),
            rows: rep.rows.len() as u32,
            applied: rep.applied,
            stale_ignored: rep.stale_ignored,
            overflow: rep.overflow,
            last_lag_us: rep.last_lag_us,
            max_lag_us: rep.max_lag_us,
            mean_lag_us: rep.lag_sum_us.checked_div(rep.lag_count).unwrap_or(0),
            lag_now_us,
            behind: rep.pending.len() as u32,
            queries: rep.queries,
            hits: rep.hits,
            served_while_source_down: rep.served_while_source_down,
            stale_reads: rep.stale_reads,
            recent: rep
                .rows
                .iter()
                .take(VIEW_REPLICA_ROWS)
                .map(|(k, r)| ReplicaRowView {
                    key: k.to_string(),
                    version: r.version,
                    event_type: r.event_type.to_string(),
                    source_committed_at: r.source_committed_at,
                    applied_at: r.applied_at,
                })
                .collect(),
        })
    }
}
