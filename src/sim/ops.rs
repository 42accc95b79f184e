//! Business operations on a service database: a workload's change, a handler's change for a
//! message or a request; the three strategies that get its event to the broker (outbox,
//! commit-then-publish, publish-then-commit); respond-before-processing requests and the client
//! that polls for their final status.

use super::db::{txbounds, ClientReq, EvState, EventRecord, Respond, RowWrite, Tx};
use super::*;
use crate::message::MessageKind;
use crate::outbox::spec::{expand, expand_value, CrashPoint, OperationSpec, Strategy, WriteSpec};
use crate::outbox::view::RequestView;
use crate::outbox::view::*;

/// How a business change is started.
pub(super) struct Origin<'a> {
    /// Tick number for `{n}` (0 for handlers).
    pub n: u64,
    /// Key of the message or request handled, for `{key}`.
    pub key: &'a str,
    /// A request waiting for the 202.
    pub respond: Option<Respond>,
    /// Handler of a broker message: commits at once (its time was the processing time).
    pub immediate: bool,
}

impl Simulation {
    /// A workload tick of a workload with an `operation`, on instance `ep`.
    pub(super) fn run_operation(&mut self, ep: Ep, workload: u32, n: u64) {
        let scenario = Arc::clone(&self.scenario);
        let Some(op) = &scenario.workloads[workload as usize].operation else {
            return;
        };
        match op {
            OperationSpec::Write(w) => {
                let origin = Origin {
                    n,
                    key: "",
                    respond: None,
                    immediate: false,
                };
                self.begin_write(ep, w, origin, TxPurpose::Write);
            }
            OperationSpec::Query(q) => {
                let key = expand(&q.key, n, "", "");
                self.replica_query(ep, &key);
            }
            OperationSpec::Request(_) => self.client_new(ep, workload, n),
        }
    }

    /// Begins a local transaction writing the business row of `w` (and its OUTBOX row or dual
    /// write). Returns false if the owner crashed on the way (a failpoint).
    pub(super) fn begin_write(
        &mut self,
        ep: Ep,
        w: &WriteSpec,
        origin: Origin<'_>,
        purpose: TxPurpose,
    ) -> bool {
        let node = ep.node as usize;
        let Some(db) = self.txm.dbs[node].as_mut() else {
            return true;
        };
        if db.txs.len() >= db.spec.max_transactions as usize {
            db.metrics.refused += 1;
            if let Some(r) = &origin.respond {
                self.respond(ep, r, 503, "busy");
            }
            return true;
        }
        let rejected = w.reject_percent > 0.0
            && self.txm.business[node]
                .as_mut()
                .is_some_and(|r| r.chance_percent(w.reject_percent));
        let key = expand(&w.key, origin.n, origin.key, "");
        let status = expand(
            if rejected {
                &w.reject_status
            } else {
                &w.status
            },
            origin.n,
            &key,
            "",
        );
        let key: Arc<str> = Arc::from(key.as_str());
        let status: Arc<str> = Arc::from(status.as_str());
        let id = self.txm.next_tx + 1;
        self.txm.next_tx = id;
        let Some(db) = self.txm.dbs[node].as_mut() else {
            return true;
        };
        // The row id is taken at insert; an update keeps the row's id.
        let table = db.tables.entry(Arc::from(w.table.as_str())).or_default();
        let row = match table.by_key.get(&key) {
            Some(&existing) => existing,
            None => {
                table.next_id += 1;
                table.next_id
            }
        };
        let write = RowWrite {
            table: Arc::from(w.table.as_str()),
            key: Arc::clone(&key),
            status: Arc::clone(&status),
            row,
        };
        let mut outbox = None;
        let mut dual = None;
        if let Some(e) = &w.event {
            let channel = self
                .scenario
                .channels
                .iter()
                .position(|c| c.name == e.channel)
                .unwrap_or(0) as u32;
            let msg_id = self.next_message_id();
            let type_name = match (&w.reject_type, rejected) {
                (Some(t), true) => t.clone(),
                _ => e.type_name.clone(),
            };
            let msg = Arc::new(Message {
                encoded: None,
                id: msg_id,
                kind: e.kind,
                type_name: type_name.into(),
                channel: e.channel.as_str().into(),
                headers: Headers {
                    schema_id: None,
                    message_id: msg_id,
                    correlation_id: None,
                    reply_to: None,
                    key: Some(Arc::from(&*key)),
                },
                payload: expand_value(&e.payload, origin.n, &key, &status).into(),
            });
            self.metrics.published += 1;
            self.nodes[node].metrics.published += 1;
            let Some(db) = self.txm.dbs[node].as_mut() else {
                return true;
            };
            let row = match w.strategy {
                Strategy::Outbox => {
                    db.outbox_next_id += 1;
                    outbox = Some((db.outbox_next_id, Arc::clone(&msg), channel));
                    Some(db.outbox_next_id)
                }
                s => {
                    dual = Some((s, Arc::clone(&msg), channel));
                    None
                }
            };
            self.txm.ledger.begin(
                msg_id,
                EventRecord {
                    producer: ep.node,
                    strategy: w.strategy,
                    key: Arc::clone(&key),
                    row,
                    state: EvState::InFlight,
                    lsn: 0,
                    committed_at: SimTime::ZERO,
                    appended: 0,
                },
            );
        }
        let Some(db) = self.txm.dbs[node].as_mut() else {
            return true;
        };
        let duration = if origin.immediate {
            0
        } else {
            let tx_ms = w.tx_ms.unwrap_or(db.spec.tx_ms);
            db.rng.jittered_ms(tx_ms, db.spec.tx_jitter_ms)
        };
        let outbox_row = outbox.as_ref().map(|o| o.0);
        db.metrics.begun += 1;
        db.txs.insert(
            id,
            Tx {
                owner: ep,
                began_at: self.now,
                ends_at: self.now.plus_us(duration),
                purpose,
                write: Some(write),
                outbox,
                dual,
                respond: origin.respond,
                mark: None,
            },
        );
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::TxBegin {
                    at,
                    tx: id,
                    table: Arc::from(w.table.as_str()),
                    key,
                    outbox_row,
                },
            );
        }
        if duration == 0 {
            self.tx_finish(ep.node, id)
        } else {
            self.schedule(
                self.now.plus_us(duration),
                Event::TxDone {
                    node: ep.node,
                    tx: id,
                },
            );
            true
        }
    }

    /// The end of transaction `id` of `node`'s database: publish-then-commit publishes, then the
    /// commit (or an abort); commit-then-publish publishes after it. Returns false if the owner
    /// crashed on the way.
    pub(super) fn tx_finish(&mut self, node: u32, id: u64) -> bool {
        let Some(tx) = self.txm.dbs[node as usize]
            .as_ref()
            .and_then(|db| db.txs.get(&id))
            .cloned()
        else {
            return true;
        };
        let owner = tx.owner;
        // A broker message's handler commits with the processed-messages row, which the consumer
        // has already written: no abort, no failpoint may undo one without the other.
        let with_message = tx.purpose == TxPurpose::Handler && tx.respond.is_none();
        let fail = |sim: &mut Simulation, point| !with_message && sim.failpoint(owner, point);
        if let Some((Strategy::PublishThenCommit, msg, channel)) = &tx.dual {
            self.publish(owner, *channel, Arc::clone(msg), 1);
            if fail(self, CrashPoint::AfterPublish) {
                return false;
            }
        }
        if fail(self, CrashPoint::BeforeCommit) {
            return false;
        }
        let Some(db) = self.txm.dbs[node as usize].as_mut() else {
            return true;
        };
        let may_abort = tx.purpose == TxPurpose::Write || tx.respond.is_some();
        if may_abort && db.rng.chance_percent(db.spec.abort_percent) {
            self.tx_rollback(node, id, RollbackReason::Abort);
            return true;
        }
        let done = match db.commit(id, &tx, self.now) {
            Ok(c) => c,
            Err(reason) => {
                self.tx_rollback(node, id, reason);
                return true;
            }
        };
        db.txs.remove(&id);
        let event = tx
            .outbox
            .as_ref()
            .map(|(_, m, _)| Arc::clone(m))
            .or_else(|| tx.dual.as_ref().map(|(_, m, _)| Arc::clone(m)));
        if let Some(m) = &event {
            self.txm.ledger.commit(m.id, done.event_lsn, self.now);
            self.replica_source_committed(node, m.id);
        }
        if self.trace.enabled() {
            let at = self.endpoint(owner);
            self.trace.push(
                self.now,
                TraceKind::TxCommit {
                    at,
                    tx: id,
                    lsn: done.last_lsn,
                    outbox_row: tx.outbox.as_ref().map(|o| o.0),
                    msg: event.as_ref().map(|m| m.id),
                },
            );
        }
        if tx.outbox.is_some() {
            if let Some(relay) = self.txm.relay_of[node as usize] {
                self.relay_kick(relay);
            }
        }
        if let Some((relay, rows, mode)) = &tx.mark {
            self.relay_marked(*relay, rows, *mode);
        }
        if fail(self, CrashPoint::AfterCommit) {
            return false;
        }
        if let Some((Strategy::CommitThenPublish, msg, channel)) = &tx.dual {
            self.publish(owner, *channel, Arc::clone(msg), 1);
            if fail(self, CrashPoint::AfterPublish) {
                return false;
            }
        }
        if let Some(r) = &tx.respond {
            let status = tx
                .write
                .as_ref()
                .map(|w| Arc::clone(&w.status))
                .unwrap_or_else(|| Arc::from("accepted"));
            self.respond(owner, r, 202, &status);
        }
        true
    }

    /// Hook of [`Simulation::process_done`]: a consumer applied (or discarded) a delivery.
    /// Records the order of tracked events, updates a replica, runs the handlers (their
    /// transactions commit now, with the processed-messages row).
    pub(super) fn txm_processed(&mut self, ep: Ep, msg: &Arc<Message>, applied: bool) {
        if !applied {
            return;
        }
        let tracked = if self.txm.ledger.records.is_empty() {
            None
        } else {
            self.txm.ledger.records.get(&msg.id)
        };
        if let Some(rec) = tracked {
            let (key, row, seq, producer) = (
                Arc::clone(&rec.key),
                rec.row,
                if rec.state == EvState::Committed {
                    rec.lsn
                } else {
                    0
                },
                rec.producer,
            );
            let c = self.txm.consumers.entry(ep.node).or_default();
            c.applied += 1;
            if seq > 0 {
                let k = (producer, Arc::clone(&key));
                let last = c.last.get(&k).copied().unwrap_or(0);
                if seq < last {
                    c.reordered += 1;
                } else if last > 0 || c.last.len() < txbounds::MAX_KEYS_TRACKED {
                    c.last.insert(k, seq);
                }
            }
            if c.recent.len() >= VIEW_APPLIED {
                c.recent.pop_front();
            }
            c.recent.push_back(AppliedView {
                at: self.now,
                msg: msg.id,
                key: key.to_string(),
                row,
            });
            self.replica_apply(ep, msg, producer);
        }
        if self.txm.handlers_of[ep.node as usize].is_empty() {
            return;
        }
        let scenario = Arc::clone(&self.scenario);
        let handlers = self.txm.handlers_of[ep.node as usize].clone();
        for j in handlers {
            let h = &scenario.transactional.handlers[j as usize];
            if *h.on != *msg.type_name {
                continue;
            }
            let origin = Origin {
                n: 0,
                key: msg.headers.key.as_deref().unwrap_or(""),
                respond: None,
                immediate: true,
            };
            self.begin_write(ep, &h.write, origin, TxPurpose::Handler);
        }
    }

    // ----- respond before processing: the service side -----

    /// A request arrived at service instance `ep`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_request(
        &mut self,
        ep: Ep,
        client: Ep,
        msg: Arc<Message>,
        req: u64,
        attempt: u32,
        create: bool,
        resource: Arc<str>,
    ) {
        let key = msg.headers.key.clone().unwrap_or_default();
        let r = Respond {
            client,
            req,
            attempt,
            request: msg.id,
        };
        let table_status = |sim: &Simulation, table: &str| -> Option<Arc<str>> {
            let db = sim.txm.dbs[ep.node as usize].as_ref()?;
            let t = db.tables.get(table)?;
            let id = t.by_key.get(&*key)?;
            t.rows.get(id).map(|row| Arc::clone(&row.status))
        };
        if !create {
            match table_status(self, &resource) {
                Some(status) => self.respond(ep, &r, 200, &status),
                None => self.respond(ep, &r, 404, "not_found"),
            }
            return;
        }
        let scenario = Arc::clone(&self.scenario);
        let Some(h) = self.txm.handlers_of[ep.node as usize]
            .iter()
            .map(|&j| &scenario.transactional.handlers[j as usize])
            .find(|h| *h.on == *msg.type_name)
        else {
            self.respond(ep, &r, 404, "not_found");
            return;
        };
        // Validation with local data only: no call to another service.
        let invalid = h.invalid_percent > 0.0
            && self.txm.business[ep.node as usize]
                .as_mut()
                .is_some_and(|rng| rng.chance_percent(h.invalid_percent));
        if invalid {
            self.respond(ep, &r, 400, "invalid");
            return;
        }
        // Idempotent by key: a repeated POST of a committed resource answers its status.
        let row_key = expand(&h.write.key, 0, &key, "");
        let existing = self.txm.dbs[ep.node as usize]
            .as_ref()
            .and_then(|db| db.tables.get(h.write.table.as_str()))
            .and_then(|t| t.by_key.get(row_key.as_str()).and_then(|id| t.rows.get(id)))
            .map(|row| Arc::clone(&row.status));
        if let Some(status) = existing {
            self.respond(ep, &r, 202, &status);
            return;
        }
        let origin = Origin {
            n: 0,
            key: &key,
            respond: Some(r),
            immediate: false,
        };
        self.begin_write(ep, &h.write, origin, TxPurpose::Handler);
    }

    /// Answers a request.
    pub(super) fn respond(&mut self, ep: Ep, r: &Respond, code: u16, status: &str) {
        if !self.inst(ep).up {
            return;
        }
        let id = self.next_message_id();
        let reason = match code {
            200 => "200 OK",
            202 => "202 Accepted",
            400 => "400 Bad Request",
            404 => "404 Not Found",
            503 => "503 Service Unavailable",
            _ => "500 Internal Server Error",
        };
        let msg = Arc::new(Message {
            encoded: None,
            id,
            kind: MessageKind::Reply,
            type_name: reason.into(),
            channel: "".into(),
            headers: Headers {
                schema_id: None,
                message_id: id,
                correlation_id: Some(r.request),
                reply_to: None,
                key: None,
            },
            payload: serde_json::json!({ "status": status }).into(),
        });
        self.send(
            ep,
            r.client,
            Packet::Response {
                msg,
                req: r.req,
                attempt: r.attempt,
                code,
                status: Arc::from(status),
            },
        );
    }

    // ----- respond before processing: the client side -----

    fn client_status(&mut self, node: u32, req: u64, status: &str) {
        let Some(c) = self.txm.clients[node as usize].as_mut() else {
            return;
        };
        let Some(r) = c.reqs.get_mut(&req) else {
            return;
        };
        if &*r.status == status && !r.timeline.is_empty() {
            return;
        }
        let s: Arc<str> = Arc::from(status);
        r.status = Arc::clone(&s);
        if r.timeline.len() < TIMELINE_POINTS {
            r.timeline.push((self.now, Arc::clone(&s)));
        } else {
            r.dropped += 1;
        }
        let (instance, key) = (r.instance, Arc::clone(&r.key));
        if self.trace.enabled() {
            let at = self.endpoint(Ep { node, instance });
            self.trace
                .push(self.now, TraceKind::ClientStatus { at, key, status: s });
        }
    }

    /// A request workload tick: a new request from client instance `ep`.
    fn client_new(&mut self, ep: Ep, workload: u32, n: u64) {
        let scenario = Arc::clone(&self.scenario);
        let Some(OperationSpec::Request(spec)) = &scenario.workloads[workload as usize].operation
        else {
            return;
        };
        let Some(c) = self.txm.clients[ep.node as usize].as_mut() else {
            return;
        };
        if c.reqs.len() >= txbounds::MAX_CLIENT_REQUESTS {
            match c.reqs.iter().find(|(_, r)| r.done).map(|(&id, _)| id) {
                Some(old) => {
                    c.reqs.remove(&old);
                }
                None => {
                    c.skipped += 1;
                    return;
                }
            }
        }
        let id = self.txm.next_req + 1;
        self.txm.next_req = id;
        let key: Arc<str> = Arc::from(expand(&spec.key, n, "", "").as_str());
        let request = self.next_message_id();
        if let Some(c) = self.txm.clients[ep.node as usize].as_mut() {
            c.reqs.insert(
                id,
                ClientReq {
                    instance: ep.instance,
                    workload,
                    key,
                    status: Arc::from(""),
                    timeline: Vec::new(),
                    dropped: 0,
                    sent: 0,
                    accepted: false,
                    done: false,
                    awaiting: None,
                    request,
                },
            );
        }
        self.client_status(ep.node, id, "sent");
        self.client_send(ep, id);
    }

    /// Sends the next request of `req`: the POST until it is accepted, then a GET.
    fn client_send(&mut self, ep: Ep, req: u64) {
        let scenario = Arc::clone(&self.scenario);
        let Some(c) = self.txm.clients[ep.node as usize].as_mut() else {
            return;
        };
        let Some(r) = c.reqs.get(&req) else {
            return;
        };
        let Some(OperationSpec::Request(spec)) = &scenario.workloads[r.workload as usize].operation
        else {
            return;
        };
        if r.sent >= spec.max_polls {
            self.client_status(ep.node, req, "gave_up");
            if let Some(r) = self.txm.clients[ep.node as usize]
                .as_mut()
                .and_then(|c| c.reqs.get_mut(&req))
            {
                r.done = true;
            }
            return;
        }
        let server = self.node_id(&spec.to).unwrap_or(0);
        let count = self.nodes[server as usize].instances.len() as u32;
        let Some(c) = self.txm.clients[ep.node as usize].as_mut() else {
            return;
        };
        let instance = c.next_server % count.max(1);
        c.next_server = c.next_server.wrapping_add(1);
        let Some(r) = c.reqs.get_mut(&req) else {
            return;
        };
        r.sent += 1;
        let attempt = r.sent;
        r.awaiting = Some(attempt);
        let create = !r.accepted;
        let id = publish::take_id(&mut self.next_msg, &self.reserved_ids);
        let type_name = if create {
            spec.type_name.clone()
        } else {
            format!("GET /{}/{}", spec.resource, r.key)
        };
        let msg = Arc::new(Message {
            encoded: None,
            id,
            kind: if create {
                MessageKind::Command
            } else {
                MessageKind::Document
            },
            type_name: type_name.into(),
            channel: "".into(),
            headers: Headers {
                schema_id: None,
                message_id: id,
                correlation_id: Some(r.request),
                reply_to: None,
                key: Some(Arc::from(&*r.key)),
            },
            payload: serde_json::Value::Null.into(),
        });
        let incarnation = self.inst(ep).incarnation;
        self.send(
            ep,
            Ep {
                node: server,
                instance,
            },
            Packet::Request {
                msg,
                req,
                attempt,
                create,
                resource: Arc::from(spec.resource.as_str()),
            },
        );
        self.schedule(
            self.now.plus_ms(spec.timeout_ms),
            Event::ClientTimer {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                req,
                attempt,
                poll: false,
            },
        );
    }

    /// An answer arrived at client instance `ep`.
    pub(super) fn handle_response(
        &mut self,
        ep: Ep,
        req: u64,
        attempt: u32,
        code: u16,
        status: Arc<str>,
    ) {
        let scenario = Arc::clone(&self.scenario);
        let Some(r) = self.txm.clients[ep.node as usize]
            .as_mut()
            .and_then(|c| c.reqs.get_mut(&req))
        else {
            return;
        };
        if r.done || r.awaiting != Some(attempt) || r.instance != ep.instance {
            return;
        }
        r.awaiting = None;
        if code == 202 {
            r.accepted = true;
        }
        let Some(OperationSpec::Request(spec)) = &scenario.workloads[r.workload as usize].operation
        else {
            return;
        };
        let done = code == 400 || spec.final_statuses.iter().any(|f| **f == *status);
        self.client_status(ep.node, req, &status);
        let Some(r) = self.txm.clients[ep.node as usize]
            .as_mut()
            .and_then(|c| c.reqs.get_mut(&req))
        else {
            return;
        };
        if done {
            r.done = true;
            return;
        }
        let incarnation = self.inst(ep).incarnation;
        self.schedule(
            self.now.plus_ms(spec.poll_every_ms),
            Event::ClientTimer {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                req,
                attempt,
                poll: true,
            },
        );
    }

    /// A client timer: a poll is due, or a request timed out.
    pub(super) fn client_timer(&mut self, ep: Ep, req: u64, attempt: u32, poll: bool) {
        let scenario = Arc::clone(&self.scenario);
        let Some(r) = self.txm.clients[ep.node as usize]
            .as_mut()
            .and_then(|c| c.reqs.get_mut(&req))
        else {
            return;
        };
        if r.done || r.sent != attempt {
            return;
        }
        if poll {
            if r.awaiting.is_none() {
                self.client_send(ep, req);
            }
            return;
        }
        if r.awaiting != Some(attempt) {
            return;
        }
        r.awaiting = None;
        let Some(OperationSpec::Request(spec)) = &scenario.workloads[r.workload as usize].operation
        else {
            return;
        };
        self.client_status(ep.node, req, "timeout");
        let incarnation = self.inst(ep).incarnation;
        self.schedule(
            self.now.plus_ms(spec.poll_every_ms),
            Event::ClientTimer {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                req,
                attempt,
                poll: true,
            },
        );
    }

    /// A client instance crashed: it forgets its requests (their timelines end with `crashed`).
    pub(super) fn client_crashed(&mut self, ep: Ep) {
        let ids: Vec<u64> = match &self.txm.clients[ep.node as usize] {
            Some(c) => c
                .reqs
                .iter()
                .filter(|(_, r)| r.instance == ep.instance && !r.done)
                .map(|(&id, _)| id)
                .collect(),
            None => return,
        };
        for id in ids {
            self.client_status(ep.node, id, "crashed");
            if let Some(r) = self.txm.clients[ep.node as usize]
                .as_mut()
                .and_then(|c| c.reqs.get_mut(&id))
            {
                r.done = true;
                r.awaiting = None;
            }
        }
    }

    /// The newest requests of every client.
    pub(super) fn requests_view(&self) -> Vec<RequestView> {
        let mut all: Vec<(u64, RequestView)> = Vec::new();
        for (n, c) in self.txm.clients.iter().enumerate() {
            let Some(c) = c else { continue };
            for (&id, r) in c.reqs.iter().rev().take(VIEW_REQUESTS) {
                all.push((
                    id,
                    RequestView {
                        client: self.nodes[n].name.to_string(),
                        instance: r.instance,
                        key: r.key.to_string(),
                        status: r.status.to_string(),
                        done: r.done,
                        sent: r.sent,
                        timeline: r
                            .timeline
                            .iter()
                            .map(|(at, s)| StatusPoint {
                                at: *at,
                                status: s.to_string(),
                            })
                            .collect(),
                        dropped_points: r.dropped,
                    },
                ));
            }
        }
        all.sort_by_key(|(id, _)| *id);
        let skip = all.len().saturating_sub(VIEW_REQUESTS);
        all.into_iter().skip(skip).map(|(_, v)| v).collect()
    }

    // ----- commands -----

    /// Checks `arm_crash`.
    pub(super) fn check_arm_crash(&self, node: &str, instance: u32) -> Result<(), CommandError> {
        let ep = self.instance_ref(node, instance)?;
        let n = ep.node as usize;
        let ok = self.txm.dbs[n].is_some() || self.txm.relays[n].is_some();
        if !ok {
            return Err(CommandError::NotApplicable(format!(
                "`{node}` is neither a service with a database nor a relay: no failpoints"
            )));
        }
        if self
            .txm
            .failpoints
            .get(&(ep.node, instance))
            .is_some_and(|v| v.len() >= txbounds::MAX_FAILPOINTS)
        {
            return Err(CommandError::NotApplicable(format!(
                "{node}#{instance} already has {} failpoints armed",
                txbounds::MAX_FAILPOINTS
            )));
        }
        Ok(())
    }

    /// Arms a failpoint (bounded; beyond the bound it is ignored).
    pub(super) fn arm_crash(&mut self, ep: Ep, point: CrashPoint) {
        let v = self
            .txm
            .failpoints
            .entry((ep.node, ep.instance))
            .or_default();
        if v.len() < txbounds::MAX_FAILPOINTS {
            v.push(point);
        }
    }

    /// Checks `reject_next_publish`.
    pub(super) fn check_reject(&self, channel: &str, count: u32) -> Result<u32, CommandError> {
        let c = self
            .scenario
            .channels
            .iter()
            .position(|c| c.name == channel)
            .ok_or_else(|| CommandError::NotApplicable(format!("unknown channel `{channel}`")))?;
        if count == 0 || count > crate::outbox::spec::limits::MAX_REJECTIONS {
            return Err(CommandError::NotApplicable(format!(
                "count {count} is out of range 1..={}",
                crate::outbox::spec::limits::MAX_REJECTIONS
            )));
        }
        Ok(c as u32)
    }

    /// Arms rejections on a channel (bounded).
    pub(super) fn arm_reject(&mut self, channel: u32, count: u32) {
        let log = &mut self.txm.channel_logs[channel as usize];
        log.reject_armed = log
            .reject_armed
            .saturating_add(count)
            .min(crate::outbox::spec::limits::MAX_REJECTIONS);
    }
}
