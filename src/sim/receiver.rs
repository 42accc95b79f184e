//! Receivers: replies reaching a requester, handler failures (nack), idempotent operations and
//! the visible processed-messages table of a deduplicating receiver.
//!
//! Duplicate handling per service (`nodes[].duplicates`):
//! - `naive`: every handler run applies its effect; a duplicate doubles it.
//! - `idempotent`: the operation sets the state of the message's key (set-status); running it
//!   again leaves the state as it was, so the effect count is the number of distinct keys set.
//! - `dedup`: a processed-messages table, shared by the instances and written in the same local
//!   transaction as the effect, discards a message id it already holds. Transactions commit one
//!   at a time (the event loop is sequential), so when two copies of one id reach two instances
//!   at once both handlers may run, and exactly one effect commits.

use super::*;
use crate::scenario::NackAction;
use crate::trace::FailureOutcome;

impl Simulation {
    /// Runs before the core handler accounting. Returns the delivery when the core path should
    /// handle it (a naive or deduplicating receiver whose handler succeeded); handles replies,
    /// failed handler runs and idempotent receivers itself.
    pub(super) fn before_handler(&mut self, ep: Ep, d: Delivery) -> Option<Delivery> {
        if d.msg.kind == MessageKind::Reply && d.msg.headers.correlation_id.is_some() {
            self.handle_reply(ep, d);
            return None;
        }
        let channel = if d.queue == direct::DIRECT_QUEUE {
            d.tag as usize
        } else {
            self.messaging.queues[d.queue as usize].channel as usize
        };
        let p = self.live.channels[channel].failure_percent;
        if self.messaging.channels[channel].rng.chance_percent(p) {
            self.handler_failed(ep, d, channel);
            return None;
        }
        if self.nodes[ep.node as usize].duplicates == DuplicateHandling::Idempotent {
            self.apply_idempotent(ep, d);
            return None;
        }
        Some(d)
    }

    /// The handler threw: no effect, nothing written; the delivery is nacked (or, brokerless,
    /// lost).
    fn handler_failed(&mut self, ep: Ep, d: Delivery, channel: usize) {
        self.metrics.handler_failures += 1;
        self.nodes[ep.node as usize].metrics.handler_failures += 1;
        let outcome = if d.queue == direct::DIRECT_QUEUE {
            self.metrics.direct_lost += 1;
            FailureOutcome::Lost
        } else {
            match self.scenario.channels[channel].on_failure {
                NackAction::Requeue => FailureOutcome::Requeue,
                NackAction::DeadLetter => FailureOutcome::DeadLetter,
            }
        };
        if self.trace.enabled() {
            let what = TraceKind::HandlerFailed {
                at: self.endpoint(ep),
                msg: d.msg.id,
                attempt: d.attempt,
                outcome,
            };
            self.trace.push(self.now, what);
        }
        if d.queue != direct::DIRECT_QUEUE {
            let broker = Ep {
                node: self.queues[d.queue as usize].broker,
                instance: 0,
            };
            self.send(
                ep,
                broker,
                Packet::Nack {
                    queue: d.queue,
                    tag: d.tag,
                    msg: d.msg,
                    requeue: outcome == FailureOutcome::Requeue,
                },
            );
        }
        self.try_start(ep);
    }

    /// An idempotent receiver: set the state of the message's key; a repeat changes nothing.
    fn apply_idempotent(&mut self, ep: Ep, d: Delivery) {
        let now = self.now;
        let node = &mut self.nodes[ep.node as usize];
        node.metrics.processed += 1;
        self.metrics.processed += 1;
        if node.processed_ids.insert(d.msg.id) {
            node.metrics.distinct += 1;
        }
        let key: Arc<str> = match &d.msg.headers.key {
            Some(k) => Arc::clone(k),
            None => Arc::from(d.msg.id.to_string()),
        };
        let ns = &mut self.messaging.nodes[ep.node as usize];
        let changed = ns.keys.insert(Arc::clone(&key));
        if ns.keys.len() > bounds::MAX_IDEMPOTENT_KEYS {
            ns.keys.pop_first();
        }
        if changed {
            node.metrics.effects += 1;
            node.metrics.effects_expected += 1;
            self.metrics.effects += 1;
            if ns.table.len() >= MAX_TABLE_ROWS {
                ns.table.pop_front();
            }
            ns.table.push_back(ProcessedRow {
                msg: d.msg.id,
                key: Some(key.to_string()),
                instance: ep.instance,
                at: now,
                repeats: 0,
                last_repeat: None,
            });
        } else if let Some(row) = ns
            .table
            .iter_mut()
            .rev()
            .find(|r| r.key.as_deref() == Some(&*key))
        {
            row.repeats += 1;
            row.last_repeat = Some((now, ep.instance));
        }
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            let msg_key = d.msg.headers.key.as_deref();
            self.trace.push_keyed(
                now,
                TraceKind::Process {
                    at: at.clone(),
                    msg: d.msg.id,
                    attempt: d.attempt,
                    applied: true,
                },
                msg_key.map(|k| (&*d.msg.channel, k)),
            );
            self.trace.push(
                now,
                TraceKind::IdempotentSet {
                    at,
                    msg: d.msg.id,
                    key,
                    changed,
                },
            );
        }
        self.finish_delivery(ep, d, true);
    }

    /// After the core handler accounting of a naive or deduplicating receiver: counts the
    /// expected effect and keeps the visible processed-messages table of a `dedup` service.
    pub(super) fn record_processed(&mut self, ep: Ep, d: &Delivery, seen: bool) {
        let now = self.now;
        let node = &mut self.nodes[ep.node as usize];
        if !seen {
            node.metrics.effects_expected += 1;
        }
        if node.duplicates != DuplicateHandling::Dedup {
            return;
        }
        let table = &mut self.messaging.nodes[ep.node as usize].table;
        if !seen {
            if table.len() >= MAX_TABLE_ROWS {
                table.pop_front();
            }
            table.push_back(ProcessedRow {
                msg: d.msg.id,
                key: d.msg.headers.key.as_deref().map(str::to_string),
                instance: ep.instance,
                at: now,
                repeats: 0,
                last_repeat: None,
            });
        } else if let Some(row) = table.iter_mut().rev().find(|r| r.msg == d.msg.id) {
            row.repeats += 1;
            row.last_repeat = Some((now, ep.instance));
        }
    }

    /// Ends a successful handler run outside the core path: reply (if asked and `reply`), ack
    /// the broker (nothing for a brokerless message), take the next delivery.
    pub(super) fn finish_delivery(&mut self, ep: Ep, d: Delivery, reply: bool) {
        if reply {
            self.send_reply(ep, &d.msg);
        }
        if d.queue != direct::DIRECT_QUEUE {
            let broker = Ep {
                node: self.queues[d.queue as usize].broker,
                instance: 0,
            };
            self.send(
                ep,
                broker,
                Packet::Ack {
                    queue: d.queue,
                    tag: d.tag,
                    msg: d.msg,
                },
            );
        }
        self.try_start(ep);
    }
}
