//! The broker: receiving packets, queues and subscriptions, dispatch under prefetch, acks,
//! redelivery and dead letters.

use super::*;

impl Simulation {
    pub(super) fn receive(&mut self, t: Transit) {
        let Some(t) = self.broker_intake(t) else {
            return; // waits in the broker's backlog (broker_props.rs)
        };
        match t.packet {
            Packet::Publish {
                channel,
                msg,
                attempt,
            } => {
                if self.reject_publish(channel, &msg, t.to, t.from, attempt) {
                    return;
                }
                if self.broker_duplicate(channel, &msg) {
                    self.send(t.to, t.from, Packet::PublishAck { msg, attempt });
                    return;
                }
                self.channel_appended(channel, &msg, t.from, attempt);
                let max = self.scenario.policies.max_queue_length as usize;
                let queues = Arc::clone(&self.channel_queues[channel as usize]);
                for &q in queues.iter() {
                    let queue = &mut self.queues[q as usize];
                    if queue.ready.len() >= max {
                        self.metrics.dropped += 1;
                        if self.trace.enabled() {
                            let what = TraceKind::Overflow {
                                queue: Arc::clone(&queue.name),
                                msg: msg.id,
                            };
                            self.trace.push(self.now, what);
                        }
                        continue;
                    }
                    queue.ready.push_back((Arc::clone(&msg), 1));
                    queue.enqueued += 1;
                    if self.trace.enabled() {
                        let what = TraceKind::Enqueue {
                            queue: Arc::clone(&queue.name),
                            msg: msg.id,
                            depth: queue.ready.len() as u32,
                        };
                        self.trace.push(self.now, what);
                    }
                }
                self.send(t.to, t.from, Packet::PublishAck { msg, attempt });
                for &q in queues.iter() {
                    self.dispatch(q);
                }
            }
            Packet::PublishAck { msg, attempt } => {
                if self.nodes[t.to.node as usize].kind == NodeKind::Relay {
                    self.relay_confirmed(t.to.node, msg.id, attempt);
                    return;
                }
                if self.inst_mut(t.to).pending.remove(&msg.id).is_some() {
                    self.nodes[t.to.node as usize].metrics.confirmed += 1;
                }
            }
            Packet::Deliver(d) => {
                let max = self.scenario.policies.max_inbox as usize;
                let inst = self.inst_mut(t.to);
                if inst.inbox.len() >= max {
                    self.metrics.dropped += 1;
                    return;
                }
                inst.inbox.push_back(d);
                self.try_start(t.to);
            }
            Packet::Ack { queue, tag, msg } => {
                let q = &mut self.queues[queue as usize];
                let outstanding = match q.unacked.remove(&tag) {
                    Some(u) => {
                        q.unacked_per_instance[u.instance as usize] -= 1;
                        q.acked += 1;
                        true
                    }
                    None => false,
                };
                if outstanding {
                    self.metrics.acked += 1;
                }
                if self.trace.enabled() {
                    let what = TraceKind::Acked {
                        queue: Arc::clone(&self.queues[queue as usize].name),
                        msg: msg.id,
                        outstanding,
                    };
                    self.trace.push(self.now, what);
                }
                if outstanding {
                    self.dispatch(queue);
                }
            }
            Packet::Nack {
                queue,
                tag,
                msg,
                requeue,
            } => self.receive_nack(queue, tag, msg, requeue),
            Packet::Direct { channel, msg } => self.receive_direct(t.to, channel, msg),
            Packet::PublishNack { msg, attempt } => self.publish_nacked(t.to, msg, attempt),
            Packet::Request {
                msg,
                req,
                attempt,
                create,
                resource,
            } => self.handle_request(t.to, t.from, msg, req, attempt, create, resource),
            Packet::Response {
                req,
                attempt,
                code,
                status,
                ..
            } => self.handle_response(t.to, req, attempt, code, status),
            Packet::Sync(p) => self.sync_receive(t.from, t.to, p),
            Packet::SchemaNack {
                queue,
                tag,
                requeue,
                reason,
                ..
            } => self.schema_broker_nack(queue, tag, requeue, reason),
            Packet::SchemaLookup {
                msg,
                id,
                seq,
                incarnation,
            } => self.schema_lookup_request(t.to, t.from, msg, id, seq, incarnation),
            Packet::SchemaReply {
                id,
                seq,
                incarnation,
                found,
                ..
            } => self.schema_lookup_reply(t.to, id, seq, incarnation, found),
            Packet::Kafka { msg, body } => self.kafka_receive(t.from, t.to, msg, &body),
        }
    }

    pub(super) fn requeue(
        &mut self,
        q: u32,
        msg: Arc<Message>,
        attempt: u32,
        reason: RedeliveryReason,
    ) {
        let max = self.live.max_delivery_attempts;
        let queue = &mut self.queues[q as usize];
        if attempt >= max {
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
            self.record_dead_letter(q, &msg, attempt, DeadLetterReason::DeliveryLimit);
            return;
        }
        queue.redelivered += 1;
        self.metrics.redelivered += 1;
        if self.trace.enabled() {
            let what = TraceKind::Redeliver {
                queue: Arc::clone(&queue.name),
                msg: msg.id,
                attempt: attempt + 1,
                reason,
            };
            self.trace.push(self.now, what);
        }
        queue.ready.push_front((msg, attempt + 1));
    }

    /// Hands ready messages of queue `q` to consumer instances with room under their prefetch,
    /// round robin. The broker knows only which consumers are connected (instance not crashed).
    pub(super) fn dispatch(&mut self, q: u32) {
        let broker = Ep {
            node: self.queues[q as usize].broker,
            instance: 0,
        };
        let b = self.inst(broker);
        if !b.up || b.paused {
            return;
        }
        let incarnation = b.incarnation;
        let prefetch = self.live.prefetch;
        let ack_timeout = self.live.ack_timeout_ms;
        loop {
            let queue = &self.queues[q as usize];
            if queue.ready.is_empty() {
                return;
            }
            let consumer = queue.consumer;
            let count = queue.unacked_per_instance.len() as u32;
            let start = queue.round_robin;
            let pick = (0..count).map(|k| (start + k) % count).find(|&i| {
                self.nodes[consumer as usize].instances[i as usize].up
                    && queue.unacked_per_instance[i as usize] < prefetch
            });
            let Some(i) = pick else {
                return;
            };
            let queue = &mut self.queues[q as usize];
            let Some((msg, attempt)) = queue.ready.pop_front() else {
                return;
            };
            queue.round_robin = (i + 1) % count;
            let tag = queue.next_tag;
            queue.next_tag += 1;
            queue.unacked.insert(
                tag,
                Unacked {
                    msg: Arc::clone(&msg),
                    attempt,
                    instance: i,
                },
            );
            queue.unacked_per_instance[i as usize] += 1;
            self.send(
                broker,
                Ep {
                    node: consumer,
                    instance: i,
                },
                Packet::Deliver(Delivery {
                    queue: q,
                    tag,
                    msg,
                    attempt,
                }),
            );
            self.schedule(
                self.now.plus_ms(ack_timeout),
                Event::AckTimeout {
                    queue: q,
                    tag,
                    incarnation,
                },
            );
        }
    }

    pub(super) fn queues_consumed_by(&self, node: u32) -> Vec<u32> {
        (0..self.queues.len() as u32)
            .filter(|&q| self.queues[q as usize].consumer == node)
            .collect()
    }

    pub(super) fn queues_on_broker(&self, node: u32) -> Vec<u32> {
        (0..self.queues.len() as u32)
            .filter(|&q| self.queues[q as usize].broker == node)
            .collect()
    }

    /// Requeues every unacked delivery of `q` (to `instance` only, if given).
    pub(super) fn requeue_unacked(
        &mut self,
        q: u32,
        instance: Option<u32>,
        reason: RedeliveryReason,
    ) {
        let tags: Vec<u64> = self.queues[q as usize]
            .unacked
            .iter()
            .filter(|(_, u)| instance.is_none_or(|i| u.instance == i))
            .map(|(&t, _)| t)
            .collect();
        // Requeue newest first so that push_front keeps the original order at the head.
        for tag in tags.into_iter().rev() {
            if let Some(u) = self.queues[q as usize].unacked.remove(&tag) {
                self.queues[q as usize].unacked_per_instance[u.instance as usize] -= 1;
                self.requeue(q, u.msg, u.attempt, reason);
            }
        }
    }
}
