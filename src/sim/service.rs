//! Services: workload ticks, publishing with publisher confirms, handling deliveries, and the
//! lifecycle of instances (crash, restart, resume).

use super::*;

impl Simulation {
    pub(super) fn workload_tick(&mut self, w: u32, n: u64) {
        let scenario = Arc::clone(&self.scenario);
        let spec = &scenario.workloads[w as usize];
        // Round robin over running instances (publish.rs).
        if let Some(ep) = self.workload_instance(w) {
            let channels = Arc::clone(&self.workloads[w as usize].channels);
            let templates = Arc::clone(&self.workloads[w as usize].templates);
            // The messages of one tick with the same key template share one key string.
            let mut last_key: Option<(&str, Arc<str>)> = None;
            for ((t, &channel), r) in spec
                .messages
                .iter()
                .zip(channels.iter())
                .zip(templates.iter())
            {
                let id = self.next_message_id();
                // Strings and payload shared with the template; only a key with `{n}` is built.
                let msg = Arc::new(Message {
                    id,
                    kind: t.kind,
                    type_name: Arc::clone(&r.type_name),
                    channel: Arc::clone(&r.channel),
                    headers: Headers {
                        message_id: id,
                        correlation_id: None,
                        reply_to: r.reply_to.clone(),
                        key: r.key.as_ref().map(|(k, templated)| {
                            if !*templated {
                                return Arc::clone(k);
                            }
                            match &last_key {
                                Some((text, built)) if *text == &**k => Arc::clone(built),
                                _ => {
                                    let built = crate::message::substitute_arc(k, n);
                                    last_key = Some((k, Arc::clone(&built)));
                                    built
                                }
                            }
                        }),
                        schema_id: None,
                    },
                    payload: crate::message::Payload::templated_known(
                        &r.payload,
                        r.payload_templated,
                        n,
                    ),
                    encoded: None,
                });
                let Some(msg) = self.schema_outgoing(ep, channel, msg) else {
                    continue;
                };
                self.metrics.published += 1;
                self.nodes[ep.node as usize].metrics.published += 1;
                self.register_request(ep, channel, t, &msg);
                self.publish(ep, channel, msg, 1);
            }
            if spec.operation.is_some() {
                self.run_operation(ep, w, n);
            }
        }
        if n < spec.count {
            let every_ms = self.live.workload_every_ms[w as usize];
            let wl = &mut self.workloads[w as usize];
            let delay = wl.rng.jittered_ms(every_ms, spec.jitter_ms).max(1);
            self.schedule(
                self.now.plus_us(delay),
                Event::WorkloadTick {
                    workload: w,
                    n: n + 1,
                },
            );
        }
    }

    pub(super) fn publish(&mut self, ep: Ep, channel: u32, msg: Arc<Message>, attempt: u32) {
        if self.is_direct(channel) {
            self.send_direct(ep, channel, msg); // brokerless: no confirm, no retry (direct.rs)
            return;
        }
        if self.kafka.is_partitioned(channel) {
            self.kafka_publish(ep, channel, msg);
            return;
        }
        let broker = Ep {
            node: self.channel_broker[channel as usize],
            instance: 0,
        };
        let incarnation = self.inst(ep).incarnation;
        let id = msg.id;
        self.inst_mut(ep).pending.insert(
            id,
            PendingPublish {
                channel,
                msg: Arc::clone(&msg),
                attempt,
            },
        );
        self.send(
            ep,
            broker,
            Packet::Publish {
                channel,
                msg,
                attempt,
            },
        );
        let timeout = self.scenario.policies.publish_timeout_ms;
        self.schedule(
            self.now.plus_ms(timeout),
            Event::PublishTimeout {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                msg: id,
                attempt,
            },
        );
    }

    pub(super) fn publish_timeout(&mut self, ep: Ep, id: MessageId, attempt: u32) {
        let Some(p) = self.inst(ep).pending.get(&id) else {
            return;
        };
        if p.attempt != attempt {
            return;
        }
        let p = p.clone();
        let max = self.scenario.policies.publish_max_attempts;
        if attempt >= max {
            self.inst_mut(ep).pending.remove(&id);
            self.metrics.publish_failed += 1;
            self.nodes[ep.node as usize].metrics.publish_failed += 1;
            if self.trace.enabled() {
                let at = self.endpoint(ep);
                self.trace.push(
                    self.now,
                    TraceKind::GiveUp {
                        at,
                        msg: id,
                        attempts: attempt,
                    },
                );
            }
            return;
        }
        self.metrics.retried += 1;
        self.nodes[ep.node as usize].metrics.retried += 1;
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::Retry {
                    at,
                    msg: id,
                    attempt: attempt + 1,
                },
            );
        }
        self.publish(ep, p.channel, p.msg, attempt + 1);
    }

    /// Puts a packet on the wire from `from` to `to`, drawing its fate from the link direction.
    pub(super) fn try_start(&mut self, ep: Ep) {
        let processing = self.nodes[ep.node as usize].processing_us;
        let inst = self.inst_mut(ep);
        if !inst.up || inst.paused || inst.busy.is_some() {
            return;
        }
        let Some(d) = inst.inbox.pop_front() else {
            return;
        };
        inst.busy = Some(d);
        let incarnation = inst.incarnation;
        self.schedule(
            self.now.plus_us(processing),
            Event::ProcessDone {
                node: ep.node,
                instance: ep.instance,
                incarnation,
            },
        );
    }

    pub(super) fn process_done(&mut self, ep: Ep) {
        let Some(d) = self.inst_mut(ep).busy.take() else {
            return;
        };
        // Decoding with the reader schema first (schemas.rs): a rejected message never reaches
        // the handler.
        let Some(d) = self.schema_incoming(ep, d) else {
            return;
        };
        // Replies, failed handler runs and idempotent receivers (receiver.rs).
        let Some(d) = self.before_handler(ep, d) else {
            return;
        };
        let node = &mut self.nodes[ep.node as usize];
        node.metrics.processed += 1;
        self.metrics.processed += 1;
        let seen = node.processed_ids.contains(&d.msg.id);
        if !seen {
            node.metrics.distinct += 1;
            node.processed_ids.insert(d.msg.id);
        }
        let applied = !(seen && node.duplicates == DuplicateHandling::Dedup);
        if applied {
            node.metrics.effects += 1;
            self.metrics.effects += 1;
        } else {
            node.metrics.duplicates_discarded += 1;
            self.metrics.duplicates_discarded += 1;
        }
        self.record_processed(ep, &d, seen);
        if self.trace.enabled() {
            let what = TraceKind::Process {
                at: self.endpoint(ep),
                msg: d.msg.id,
                attempt: d.attempt,
                applied,
            };
            let key = d.msg.headers.key.as_deref();
            let key = key.map(|k| (&*d.msg.channel, k));
            self.trace.push_keyed(self.now, what, key);
        }
        self.txm_processed(ep, &d.msg, applied);
        self.send_reply(ep, &d.msg);
        if d.queue == direct::DIRECT_QUEUE {
            self.try_start(ep); // brokerless: nothing to ack
            return;
        }
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
        self.try_start(ep);
    }

    pub(super) fn crash(&mut self, ep: Ep) {
        self.before_crash(ep);
        let inst = self.inst_mut(ep);
        if !inst.up {
            return;
        }
        inst.up = false;
        inst.paused = false;
        inst.incarnation += 1;
        inst.inbox.clear();
        inst.busy = None;
        inst.deferred.clear();
        inst.pending.clear();
        self.kafka_crash(ep);
        if self.nodes[ep.node as usize].kind == NodeKind::Service {
            // The consumer's connections close: a running broker requeues what it had delivered.
            for q in self.queues_consumed_by(ep.node) {
                let b = self.inst(Ep {
                    node: self.queues[q as usize].broker,
                    instance: 0,
                });
                if b.up && !b.paused {
                    self.requeue_unacked(q, Some(ep.instance), RedeliveryReason::ConnectionReset);
                    self.dispatch(q);
                }
            }
        }
        self.txm_crashed(ep);
        self.sync_on_crash(ep);
        self.schema_crash(ep);
    }

    pub(super) fn restart(&mut self, ep: Ep) {
        let inst = self.inst_mut(ep);
        if inst.up {
            return;
        }
        inst.up = true;
        self.kafka_restart(ep);
        match self.nodes[ep.node as usize].kind {
            NodeKind::Service => {
                for q in self.queues_consumed_by(ep.node) {
                    self.dispatch(q);
                }
            }
            NodeKind::Broker => {
                // Durable queues survive; unacked deliveries of the old incarnation go back.
                for q in self.queues_on_broker(ep.node) {
                    self.requeue_unacked(q, None, RedeliveryReason::BrokerRestart);
                    self.dispatch(q);
                }
            }
            NodeKind::Relay => self.relay_start(ep.node),
            NodeKind::Registry | NodeKind::Router | NodeKind::Registrar => {}
            NodeKind::SchemaRegistry => {}
        }
        self.sync_on_restart(ep);
    }

    pub(super) fn resume(&mut self, ep: Ep) {
        let inst = self.inst_mut(ep);
        if !inst.up || !inst.paused {
            return;
        }
        inst.paused = false;
        let deferred = std::mem::take(&mut inst.deferred);
        for d in deferred {
            match d {
                Deferred::Receive(t) => self.receive(t),
                Deferred::Event(e) => self.schedule(self.now, e),
            }
        }
        match self.nodes[ep.node as usize].kind {
            NodeKind::Service => self.try_start(ep),
            NodeKind::Broker => {
                for q in self.queues_on_broker(ep.node) {
                    self.dispatch(q);
                }
            }
            NodeKind::Relay => self.relay_kick(ep.node),
            NodeKind::Registry | NodeKind::Router | NodeKind::Registrar => {}
            NodeKind::SchemaRegistry => {}
        }
    }
}
