//! The message relay: a node of its own that publishes one service's OUTBOX to the broker.
//!
//! - Polling publisher (Eventuate CDC polling): every `poll_every_ms`, read up to `batch_size`
//!   unpublished rows in id order; publish them; when the broker confirmed all of them, mark them
//!   published (or delete them) in a local transaction of `mark_ms`.
//! - Transaction log tailing (Debezium with the outbox event router): read up to `batch_size`
//!   OUTBOX inserts from the commit log after the position; publish them; advance the position
//!   over each confirmed record, in order; save it every `save_every` records and on a graceful
//!   stop. The saved position is durable (Debezium's offset store) and is the database's
//!   replication slot: the log keeps what comes after it.
//!
//! At most `max_in_flight` publishes wait for their confirm. A failure (a nack, or no confirm in
//! `publish_timeout_ms`) sends the relay back to the failed record: it and everything read after
//! it are published again (go-back-N). With `max_in_flight = 1` (strict) that is the failed record
//! alone, so the order per key is kept; pipelined, records already appended after it are appended
//! again after it: `2, 3, 1, 2, 3`. Either way every committed row reaches the broker at least
//! once, and a crash between publish and mark/save publishes some rows again (duplicates for the
//! consumers to discard).
//!
//! An idle relay reads nothing: a commit with an OUTBOX row (or a restart) schedules its next read
//! on the next multiple of `poll_every_ms` since it started, where periodic polling would have
//! found the row. So a run with nothing left to publish goes idle.

use super::db::txbounds;
use super::*;
use crate::outbox::spec::{CrashPoint, MarkMode, RelayMode, RelaySpec};
use crate::outbox::view::*;

/// A record of the current batch.
#[derive(Clone, Debug)]
pub(super) struct WinRec {
    pub row: u64,
    pub lsn: u64,
    pub msg: Arc<Message>,
    pub channel: u32,
    pub attempt: u32,
    pub state: WindowState,
}

/// A relay's state. `saved_position` and `attempts` survive a crash; the rest is memory.
#[derive(Clone, Debug)]
pub(super) struct Relay {
    pub service: u32,
    pub spec: RelaySpec,
    pub stopped: bool,
    pub started_at: SimTime,
    pub tick_scheduled: bool,
    pub saved_position: u64,
    pub position: u64,
    pub read_upto: u64,
    pub window: VecDeque<WinRec>,
    pub next_send: usize,
    pub in_flight: u32,
    pub since_save: u32,
    pub marking: Option<u64>,
    /// Publishes of each record not yet done (marked, or saved past), across restarts: the
    /// attempt number on the wire.
    pub attempts: BTreeMap<MessageId, (u32, u64)>,
    pub metrics: RelayMetrics,
}

impl Relay {
    pub(super) fn new(service: u32, spec: RelaySpec) -> Relay {
        Relay {
            service,
            spec,
            stopped: false,
            started_at: SimTime::ZERO,
            tick_scheduled: false,
            saved_position: 0,
            position: 0,
            read_upto: 0,
            window: VecDeque::new(),
            next_send: 0,
            in_flight: 0,
            since_save: 0,
            marking: None,
            attempts: BTreeMap::new(),
            metrics: RelayMetrics::default(),
        }
    }

    /// Memory lost: back to the saved position, nothing read.
    fn reset(&mut self) {
        self.tick_scheduled = false;
        self.position = self.saved_position;
        self.read_upto = self.saved_position;
        self.window.clear();
        self.next_send = 0;
        self.in_flight = 0;
        self.since_save = 0;
        self.marking = None;
    }
}

impl Simulation {
    fn relay_ep(node: u32) -> Ep {
        Ep { node, instance: 0 }
    }

    /// Schedules the relay's next read if it is idle and there is something to read.
    pub(super) fn relay_kick(&mut self, node: u32) {
        let ep = Self::relay_ep(node);
        let inst = self.inst(ep);
        if !inst.up || inst.paused {
            return;
        }
        let incarnation = inst.incarnation;
        let Some(r) = self.txm.relays[node as usize].as_ref() else {
            return;
        };
        if r.stopped || r.tick_scheduled || !r.window.is_empty() || r.marking.is_some() {
            return;
        }
        let Some(db) = self.txm.dbs[r.service as usize].as_ref() else {
            return;
        };
        let work = match r.spec.mode {
            RelayMode::Polling => db.outbox_unpublished > 0,
            RelayMode::LogTailing => db.last_outbox_lsn > r.position,
        };
        if !work {
            return;
        }
        let every = crate::time::ms_to_us(r.spec.poll_every_ms).max(1);
        let since = self.now.0.saturating_sub(r.started_at.0);
        let next = r
            .started_at
            .plus_us(since.div_ceil(every).saturating_mul(every));
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            r.tick_scheduled = true;
        }
        self.schedule(next, Event::RelayTick { node, incarnation });
    }

    /// A read: a poll of the OUTBOX or of the commit log.
    pub(super) fn relay_tick(&mut self, node: u32) {
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        r.tick_scheduled = false;
        if r.stopped || !r.window.is_empty() || r.marking.is_some() {
            return;
        }
        let Some(db) = self.txm.dbs[r.service as usize].as_ref() else {
            return;
        };
        let batch = r.spec.batch_size as usize;
        let mut after = None;
        match r.spec.mode {
            RelayMode::Polling => {
                for (&row, o) in db.outbox.iter().filter(|(_, o)| !o.published).take(batch) {
                    r.window.push_back(WinRec {
                        row,
                        lsn: o.lsn,
                        msg: Arc::clone(&o.msg),
                        channel: o.channel,
                        attempt: 0,
                        state: WindowState::Unsent,
                    });
                }
            }
            RelayMode::LogTailing => {
                after = Some(r.position);
                let first = db.log.front().map_or(db.next_lsn, |x| x.lsn);
                if r.position + 1 < first {
                    // The log no longer has what comes after the position.
                    r.metrics.skipped += first - (r.position + 1);
                    r.position = first - 1;
                }
                let start = (r.position + 1 - first) as usize;
                r.read_upto = r.position;
                for rec in db.log.iter().skip(start) {
                    if r.window.len() >= batch {
                        break;
                    }
                    r.read_upto = rec.lsn;
                    if let Some((msg, channel)) = &rec.outbox {
                        r.window.push_back(WinRec {
                            row: rec.row,
                            lsn: rec.lsn,
                            msg: Arc::clone(msg),
                            channel: *channel,
                            attempt: 0,
                            state: WindowState::Unsent,
                        });
                    }
                }
                if r.window.is_empty() {
                    r.position = r.read_upto;
                }
            }
        }
        let records = r.window.len() as u32;
        if records == 0 {
            return;
        }
        r.metrics.reads += 1;
        r.metrics.records_read += records as u64;
        if self.trace.enabled() {
            let at = self.endpoint(Self::relay_ep(node));
            self.trace.push(
                self.now,
                TraceKind::RelayRead {
                    at,
                    records,
                    after_lsn: after,
                },
            );
        }
        self.relay_pump(node);
    }

    /// Publishes unsent records of the batch while fewer than `max_in_flight` await a confirm.
    fn relay_pump(&mut self, node: u32) {
        let ep = Self::relay_ep(node);
        let incarnation = self.inst(ep).incarnation;
        let timeout = self.scenario.policies.publish_timeout_ms;
        loop {
            let Some(r) = self.txm.relays[node as usize].as_mut() else {
                return;
            };
            if r.in_flight >= r.spec.max_in_flight || r.next_send >= r.window.len() {
                return;
            }
            let i = r.next_send;
            r.next_send += 1;
            let rec = &mut r.window[i];
            let entry = r.attempts.entry(rec.msg.id).or_insert((0, rec.lsn));
            entry.0 += 1;
            rec.attempt = entry.0;
            rec.state = WindowState::InFlight;
            r.in_flight += 1;
            r.metrics.publishes += 1;
            if rec.attempt > 1 {
                r.metrics.republished += 1;
            }
            if r.attempts.len() > txbounds::MAX_RELAY_ATTEMPTS {
                r.attempts.pop_first();
            }
            let (msg, channel, attempt) = (Arc::clone(&rec.msg), rec.channel, rec.attempt);
            let broker = Ep {
                node: self.channel_broker[channel as usize],
                instance: 0,
            };
            let id = msg.id;
            self.send(
                ep,
                broker,
                Packet::Publish {
                    channel,
                    msg,
                    attempt,
                },
            );
            self.schedule(
                self.now.plus_ms(timeout),
                Event::RelayTimeout {
                    node,
                    incarnation,
                    msg: id,
                    attempt,
                },
            );
        }
    }

    /// The broker confirmed a publish of the relay.
    pub(super) fn relay_confirmed(&mut self, node: u32, msg: MessageId, attempt: u32) {
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        let Some(rec) = r
            .window
            .iter_mut()
            .find(|w| w.msg.id == msg && w.state == WindowState::InFlight && w.attempt == attempt)
        else {
            return; // stale: an earlier attempt, or a record no longer in the batch
        };
        rec.state = WindowState::Confirmed;
        r.in_flight -= 1;
        r.metrics.confirmed += 1;
        let complete = r.window.iter().all(|w| w.state == WindowState::Confirmed);
        if complete && self.failpoint(Self::relay_ep(node), CrashPoint::AfterPublish) {
            return;
        }
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        match r.spec.mode {
            RelayMode::LogTailing => {
                // Advance over the confirmed records at the front, in order.
                loop {
                    let Some(r) = self.txm.relays[node as usize].as_mut() else {
                        return;
                    };
                    if !r
                        .window
                        .front()
                        .is_some_and(|w| w.state == WindowState::Confirmed)
                    {
                        break;
                    }
                    let Some(w) = r.window.pop_front() else {
                        break;
                    };
                    r.position = w.lsn;
                    r.next_send = r.next_send.saturating_sub(1);
                    r.since_save += 1;
                    if r.window.is_empty() {
                        r.position = r.position.max(r.read_upto);
                    }
                    if r.since_save >= r.spec.save_every {
                        r.since_save = 0;
                        self.relay_save(node);
                    }
                }
                if complete {
                    self.relay_kick(node);
                } else {
                    self.relay_pump(node);
                }
            }
            RelayMode::Polling => {
                if complete {
                    self.relay_mark(node);
                } else {
                    self.relay_pump(node);
                }
            }
        }
    }

    /// Log tailing: saves the position (durable offset; the log may drop what precedes it).
    fn relay_save(&mut self, node: u32) {
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        r.saved_position = r.position;
        r.metrics.saves += 1;
        let position = r.position;
        r.attempts.retain(|_, (_, lsn)| *lsn > position);
        let service = r.service;
        if let Some(db) = self.txm.dbs[service as usize].as_mut() {
            db.slot = Some(position);
        }
        if self.trace.enabled() {
            let at = self.endpoint(Self::relay_ep(node));
            self.trace
                .push(self.now, TraceKind::RelaySave { at, position });
        }
    }

    /// Polling: the batch is confirmed; mark or delete its rows in a local transaction.
    fn relay_mark(&mut self, node: u32) {
        let Some(r) = self.txm.relays[node as usize].as_ref() else {
            return;
        };
        let rows: Vec<u64> = r.window.iter().map(|w| w.row).collect();
        let (mode, mark_ms, service) = (r.spec.after_publish, r.spec.mark_ms, r.service);
        if mark_ms == 0 {
            self.relay_marked_now(node, &rows, mode);
            return;
        }
        let id = self.txm.next_tx + 1;
        self.txm.next_tx = id;
        let ep = Self::relay_ep(node);
        let Some(db) = self.txm.dbs[service as usize].as_mut() else {
            return;
        };
        db.metrics.begun += 1;
        db.txs.insert(
            id,
            super::db::Tx {
                owner: ep,
                began_at: self.now,
                ends_at: self.now.plus_ms(mark_ms),
                purpose: TxPurpose::Mark,
                write: None,
                outbox: None,
                dual: None,
                respond: None,
                mark: Some((node, rows, mode)),
            },
        );
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            r.marking = Some(id);
        }
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::TxBegin {
                    at,
                    tx: id,
                    table: Arc::from("outbox"),
                    key: Arc::from(match mode {
                        MarkMode::Mark => "SET published = 1",
                        MarkMode::Delete => "DELETE",
                    }),
                    outbox_row: None,
                },
            );
        }
        self.schedule(
            self.now.plus_ms(mark_ms),
            Event::TxDone {
                node: service,
                tx: id,
            },
        );
    }

    /// Marks rows at once (a zero-time mark, or a graceful stop), without a transaction event.
    fn relay_marked_now(&mut self, node: u32, rows: &[u64], mode: MarkMode) {
        let Some(r) = self.txm.relays[node as usize].as_ref() else {
            return;
        };
        let service = r.service;
        let id = self.txm.next_tx + 1;
        self.txm.next_tx = id;
        let tx = super::db::Tx {
            owner: Self::relay_ep(node),
            began_at: self.now,
            ends_at: self.now,
            purpose: TxPurpose::Mark,
            write: None,
            outbox: None,
            dual: None,
            respond: None,
            mark: Some((node, rows.to_vec(), mode)),
        };
        if let Some(db) = self.txm.dbs[service as usize].as_mut() {
            db.metrics.begun += 1;
            let _ = db.commit(id, &tx, self.now);
        }
        self.relay_marked(node, rows, mode);
    }

    /// The mark/delete transaction committed: the batch is done.
    pub(super) fn relay_marked(&mut self, node: u32, rows: &[u64], mode: MarkMode) {
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        match mode {
            MarkMode::Mark => r.metrics.marked += rows.len() as u64,
            MarkMode::Delete => r.metrics.deleted += rows.len() as u64,
        }
        let done: BTreeSet<MessageId> = r
            .window
            .iter()
            .filter(|w| rows.contains(&w.row))
            .map(|w| w.msg.id)
            .collect();
        r.attempts.retain(|id, _| !done.contains(id));
        r.window.clear();
        r.next_send = 0;
        r.in_flight = 0;
        r.marking = None;
        if self.trace.enabled() {
            let at = self.endpoint(Self::relay_ep(node));
            self.trace.push(
                self.now,
                TraceKind::RelayMark {
                    at,
                    rows: rows.len() as u32,
                    deleted: mode == MarkMode::Delete,
                },
            );
        }
        self.relay_kick(node);
    }

    /// The mark transaction rolled back (the relay crashed): the rows stay unpublished.
    pub(super) fn relay_mark_failed(&mut self, node: u32) {
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            r.marking = None;
        }
    }

    /// A publish failed (nack or timeout): go back to that record and publish from there.
    pub(super) fn relay_failed(
        &mut self,
        node: u32,
        msg: MessageId,
        attempt: u32,
        reason: RelayFailure,
    ) {
        let Some(r) = self.txm.relays[node as usize].as_mut() else {
            return;
        };
        let Some(i) = r.window.iter().position(|w| {
            w.msg.id == msg && w.state == WindowState::InFlight && w.attempt == attempt
        }) else {
            return;
        };
        match reason {
            RelayFailure::Rejected => r.metrics.rejected += 1,
            RelayFailure::Timeout => r.metrics.timeouts += 1,
        }
        r.metrics.rewinds += 1;
        let mut republish = 0;
        for w in r.window.iter_mut().skip(i) {
            if w.state == WindowState::InFlight {
                r.in_flight -= 1;
            }
            if w.state != WindowState::Unsent {
                republish += 1;
            }
            w.state = WindowState::Unsent;
        }
        r.next_send = i;
        if self.trace.enabled() {
            let at = self.endpoint(Self::relay_ep(node));
            self.trace.push(
                self.now,
                TraceKind::RelayRewind {
                    at,
                    msg,
                    reason,
                    republish,
                },
            );
        }
        self.relay_pump(node);
    }

    /// A publish timer of the relay fired.
    pub(super) fn relay_timeout(&mut self, node: u32, msg: MessageId, attempt: u32) {
        self.relay_failed(node, msg, attempt, RelayFailure::Timeout);
    }

    /// The relay's instance crashed (it is already down): memory lost.
    pub(super) fn relay_crashed(&mut self, node: u32) {
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            if !r.stopped {
                r.metrics.crashes += 1;
            }
            r.reset();
        }
    }

    /// The relay's instance (re)started.
    pub(super) fn relay_start(&mut self, node: u32) {
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            r.reset();
            r.stopped = false;
            r.started_at = self.now;
        }
        self.relay_kick(node);
    }

    /// `stop_relay`: save what is confirmed, then stop.
    pub(super) fn stop_relay(&mut self, node: u32) {
        let ep = Self::relay_ep(node);
        if !self.inst(ep).up {
            return;
        }
        let Some(r) = self.txm.relays[node as usize].as_ref() else {
            return;
        };
        match r.spec.mode {
            RelayMode::LogTailing => {
                if let Some(r) = self.txm.relays[node as usize].as_mut() {
                    if r.window.is_empty() {
                        r.position = r.position.max(r.read_upto);
                    }
                }
                self.relay_save(node);
            }
            RelayMode::Polling => {
                let marking = r.marking;
                let service = r.service;
                if let Some(tx) = marking {
                    // Let the running mark transaction commit now.
                    self.tx_finish(service, tx);
                } else {
                    let rows: Vec<u64> = r
                        .window
                        .iter()
                        .filter(|w| w.state == WindowState::Confirmed)
                        .map(|w| w.row)
                        .collect();
                    let mode = r.spec.after_publish;
                    if !rows.is_empty() {
                        self.relay_marked_now(node, &rows, mode);
                    }
                }
            }
        }
        let position = self.txm.relays[node as usize]
            .as_ref()
            .map_or(0, |r| r.saved_position);
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace
                .push(self.now, TraceKind::RelayStop { at, position });
        }
        if let Some(r) = self.txm.relays[node as usize].as_mut() {
            r.stopped = true;
        }
        // Down like a crash, but nothing is lost that was confirmed.
        self.crash(ep);
    }

    /// The relay part of the snapshot.
    pub(super) fn relay_view(&self, node: u32) -> Option<RelayView> {
        let r = self.txm.relays[node as usize].as_ref()?;
        let inst = &self.nodes[node as usize].instances[0];
        let state = if r.stopped {
            RelayState::Stopped
        } else if !inst.up {
            RelayState::Crashed
        } else if inst.paused {
            RelayState::Paused
        } else {
            RelayState::Running
        };
        Some(RelayView {
            node: self.nodes[node as usize].name.to_string(),
            service: self.nodes[r.service as usize].name.to_string(),
            mode: r.spec.mode,
            after_publish: r.spec.after_publish,
            max_in_flight: r.spec.max_in_flight,
            state,
            saved_position: r.saved_position,
            position: r.position,
            read_upto: r.read_upto,
            window: r
                .window
                .iter()
                .map(|w| WindowRecordView {
                    row: w.row,
                    lsn: w.lsn,
                    msg: w.msg.id,
                    key: w.msg.headers.key.as_deref().unwrap_or_default().to_string(),
                    attempt: w.attempt,
                    state: w.state,
                })
                .collect(),
            marking: r.marking.is_some(),
            metrics: r.metrics,
        })
    }
}
