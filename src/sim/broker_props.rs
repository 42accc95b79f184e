//! Broker properties beyond at-least-once queues: capacity (a service time per received packet
//! and a FIFO backlog), broker-side duplicate detection by message id within a window, nacks
//! (AMQP `basic.nack` with or without requeue) and dead-letter reasons.

use super::*;

impl Simulation {
    /// Capacity: a packet reaching a broker with a service time waits in its backlog for the
    /// broker's single worker; `None` when it was queued (or lost to the backlog bound), `Some`
    /// when it is to be handled now.
    pub(super) fn broker_intake(&mut self, t: Transit) -> Option<Transit> {
        let service_us = self.scenario.policies.broker_service_time_us;
        if service_us == 0
            || self.messaging.in_service
            || self.nodes[t.to.node as usize].kind != NodeKind::Broker
        {
            return Some(t);
        }
        let node = t.to.node;
        let now = self.now;
        let ns = &mut self.messaging.nodes[node as usize];
        if ns.backlog.len() >= bounds::MAX_BROKER_BACKLOG {
            ns.backlog_lost += 1;
            self.metrics.backlog_lost += 1;
            return None;
        }
        let done = ns.busy_until.max(now).plus_us(service_us);
        ns.busy_until = done;
        ns.backlog.push_back(t);
        ns.backlog_max = ns.backlog_max.max(ns.backlog.len() as u32);
        let incarnation = self.nodes[node as usize].instances[0].incarnation;
        self.schedule(done, Event::BrokerWork { node, incarnation });
        None
    }

    /// The broker's worker finished the packet at the head of its backlog: handle it.
    pub(super) fn broker_work(&mut self, node: u32) {
        let Some(t) = self.messaging.nodes[node as usize].backlog.pop_front() else {
            return;
        };
        self.messaging.nodes[node as usize].handled += 1;
        self.messaging.in_service = true;
        self.receive(t);
        self.messaging.in_service = false;
    }

    /// Broker-side duplicate detection: true when `msg`'s id was first seen on `channel` less
    /// than `dedup_window_ms` ago (the publish is then confirmed but not enqueued). Remembers
    /// new ids; forgets ids older than the window, and the oldest beyond
    /// [`bounds::MAX_DEDUP_IDS`].
    pub(super) fn broker_duplicate(&mut self, channel: u32, msg: &Message) -> bool {
        let window_ms = self.live.channels[channel as usize].dedup_window_ms;
        if window_ms == 0 {
            return false;
        }
        let now = self.now;
        let ch = &mut self.messaging.channels[channel as usize];
        while let Some(&(first, id)) = ch.seen_order.front() {
            if first.plus_ms(window_ms) > now {
                break;
            }
            ch.seen_order.pop_front();
            ch.seen.remove(&id);
        }
        if let Some(&first_seen) = ch.seen.get(&msg.id) {
            ch.duplicates_dropped += 1;
            self.metrics.broker_duplicates += 1;
            if self.trace.enabled() {
                let what = TraceKind::BrokerDuplicate {
                    channel: Arc::from(self.scenario.channels[channel as usize].name.as_str()),
                    msg: msg.id,
                    first_seen,
                };
                self.trace.push(now, what);
            }
            return true;
        }
        if ch.seen.len() >= bounds::MAX_DEDUP_IDS {
            if let Some((_, id)) = ch.seen_order.pop_front() {
                ch.seen.remove(&id);
            }
        }
        ch.seen.insert(msg.id, now);
        ch.seen_order.push_back((now, msg.id));
        false
    }

    /// The broker received a nack: requeue the delivery (it counts as a delivery attempt) or
    /// dead-letter it (reason `rejected`). A nack for a delivery no longer outstanding is
    /// ignored.
    pub(super) fn receive_nack(&mut self, q: u32, tag: u64, msg: Arc<Message>, requeue: bool) {
        let queue = &mut self.queues[q as usize];
        let unacked = queue.unacked.remove(&tag);
        if let Some(u) = &unacked {
            queue.unacked_per_instance[u.instance as usize] -= 1;
            self.messaging.queues[q as usize].nacked += 1;
            self.metrics.nacked += 1;
        }
        if self.trace.enabled() {
            let what = TraceKind::Nacked {
                queue: Arc::clone(&self.queues[q as usize].name),
                msg: msg.id,
                requeue,
                outstanding: unacked.is_some(),
            };
            self.trace.push(self.now, what);
        }
        let Some(u) = unacked else {
            return;
        };
        if requeue {
            self.requeue(q, u.msg, u.attempt, RedeliveryReason::Nacked);
        } else {
            self.dead_letter(q, u.msg, u.attempt, DeadLetterReason::Rejected);
        }
        self.dispatch(q);
    }

    /// Moves a message to queue `q`'s dead-letter queue (as the core does after the last
    /// delivery attempt) and records why.
    pub(super) fn dead_letter(
        &mut self,
        q: u32,
        msg: Arc<Message>,
        attempt: u32,
        reason: DeadLetterReason,
    ) {
        let queue = &mut self.queues[q as usize];
        queue.dead_letter_total += 1;
        if queue.dead_letters.len() >= bounds::MAX_DEAD_LETTERS_KEPT {
            queue.dead_letters.pop_front();
        }
        queue.dead_letters.push_back((Arc::clone(&msg), attempt));
        self.metrics.dead_lettered += 1;
        if self.trace.enabled() {
            let what = TraceKind::DeadLetter {
                queue: Arc::clone(&queue.name),
                msg: msg.id,
                attempts: attempt,
            };
            self.trace.push(self.now, what);
        }
        self.record_dead_letter(q, &msg, attempt, reason);
    }

    /// Keeps the visible dead-letter row (bounded) of a message just dead-lettered.
    pub(super) fn record_dead_letter(
        &mut self,
        q: u32,
        msg: &Message,
        attempt: u32,
        reason: DeadLetterReason,
    ) {
        let dlq = &mut self.messaging.queues[q as usize].dlq;
        if dlq.len() >= MAX_DEAD_LETTER_ROWS {
            dlq.pop_front();
        }
        dlq.push_back(DeadLetterView {
            msg: msg.id,
            kind: msg.kind,
            type_name: msg.type_name.to_string(),
            key: msg.headers.key.as_deref().map(str::to_string),
            deliveries: attempt,
            reason,
            at: self.now,
        });
    }
}
