//! API contracts in the engine: producers encode with their writer schema, consumers decode with
//! their reader schema (tolerant or strict), look writer schemas up in a `schema_registry` node
//! by the id in the headers (cached per instance), nack what they cannot decode yet and reject
//! what they cannot read (dead-lettered with the reason); rollouts (`set_schema_version`);
//! the schema part of the snapshot; message inspection; AsyncAPI/OpenAPI export.
//!
//! Nothing here draws randomness. A scenario without schemas never reaches this code (its
//! `Simulation::schemas` is `None`), so its runs are unchanged.

use super::*;
use crate::contract::{self, Compiled, Encoded, Encoding, Reader};
use crate::schema::{
    can_read, classify_change, compatibility, hex, hex_dump, read_json, schema_changes,
    ChangeClass, MessageSchema, ReaderMode, SchemaId,
};
#[cfg(feature = "export")]
use crate::schema::{RestEndpoint, SchemaError};
use crate::schema_view::{
    self as view, CompatibilityView, ConsumerView, ContractView, DeadLetterView, DecodeOutcome,
    DecodeView, MessageInspection, ProducerRejectionView, ProducerView, RegistryEntryView,
    RegistryView, SchemaMetrics, SchemaSnapshot, ServiceDecodes, VersionView, WireSummary,
    WriterCounts,
};
use serde_json::Value;

/// What never changes during a run.
#[derive(Debug)]
struct Static {
    compiled: Compiled,
    channel_of: BTreeMap<String, u32>,
    versions: Vec<Vec<VersionView>>,
    compatibility: Vec<CompatibilityView>,
}

#[derive(Clone, Copy, Debug)]
struct Awaiting {
    seq: u64,
    id: SchemaId,
}

/// A consumer instance's schema client: its cache of writer schemas (by id) and the lookup it
/// waits for.
#[derive(Clone, Debug, Default)]
struct Client {
    cache: BTreeSet<SchemaId>,
    awaiting: Option<Awaiting>,
    /// The next decode follows a lookup reply (not a cache hit).
    resumed: bool,
}

#[derive(Clone, Debug, Default)]
struct Counts {
    by_writer: BTreeMap<usize, (u64, u64)>,
    retried: u64,
    last_reason: Option<String>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Traffic {
    messages: u64,
    wire: u64,
    json: u64,
    avro: u64,
}

/// The schema state of a run (present only when some channel declares schemas).
#[derive(Clone, Debug)]
pub(super) struct SchemaState {
    st: Arc<Static>,
    /// Writer version per (producer node, channel).
    writers: BTreeMap<(u32, u32), usize>,
    clients: Vec<Vec<Client>>,
    next_seq: u64,
    /// Per (channel, consumer node).
    counts: BTreeMap<(u32, u32), Counts>,
    decodes: Vec<VecDeque<DecodeView>>,
    dead_letters: VecDeque<DeadLetterView>,
    producer_rejections: VecDeque<ProducerRejectionView>,
    recent: BTreeMap<MessageId, Arc<Message>>,
    traffic: Vec<Traffic>,
    served: Vec<u64>,
    metrics: SchemaMetrics,
}

fn mode_str(m: ReaderMode) -> &'static str {
    match m {
        ReaderMode::Tolerant => "tolerant",
        ReaderMode::Strict => "strict",
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, x: T, max: usize) {
    if q.len() >= max {
        q.pop_front();
    }
    q.push_back(x);
}

/// Whether a consumer reading `reader` in `mode` can read every message written with `writer`,
/// and why not.
fn reads(writer: &MessageSchema, reader: &MessageSchema, mode: ReaderMode) -> Vec<String> {
    let mut reasons = can_read(writer, reader).err().unwrap_or_default();
    if mode == ReaderMode::Strict {
        for f in &writer.fields {
            if reader.field(&f.name).is_none() {
                reasons.push(format!("unknown field {} (strict reader)", f.name));
            }
        }
    }
    reasons
}

/// Decodes bytes as a consumer with `reader` would. Errors are the reasons it refuses them.
fn decode(
    contract: &contract::ChannelContract,
    writer: Option<usize>,
    reader: &Reader,
    enc: &Encoded,
) -> Result<Value, String> {
    let rs = &contract.versions[reader.version].schema;
    match enc.encoding {
        Encoding::Json => {
            let v: Value =
                serde_json::from_slice(&enc.bytes).map_err(|e| format!("malformed JSON: {e}"))?;
            read_json(rs, reader.mode, &v).map_err(|r| r.reason)
        }
        Encoding::Avro => {
            let Some(w) = writer.and_then(|w| contract.versions.get(w)) else {
                return Err(format!("unknown schema id {}", enc.schema_id));
            };
            let v = w.codec.decode(rs, &enc.bytes).map_err(|e| e.to_string())?;
            if reader.mode == ReaderMode::Strict {
                if let Some(f) = w.schema.fields.iter().find(|f| rs.field(&f.name).is_none()) {
                    return Err(format!("unknown field {}", f.name));
                }
            }
            Ok(v)
        }
    }
}

impl SchemaState {
    /// The schema state of a validated scenario, or `None` when no channel declares schemas.
    pub(super) fn build(scenario: &Scenario) -> Result<Option<Box<SchemaState>>, ScenarioError> {
        let compiled = contract::compile(scenario)?;
        if !compiled.any() {
            return Ok(None);
        }
        let mut channel_of = BTreeMap::new();
        let mut versions = Vec::new();
        let mut compat = Vec::new();
        for (i, c) in scenario.channels.iter().enumerate() {
            channel_of.insert(c.name.clone(), i as u32);
            let Some(contract) = &compiled.channels[i] else {
                versions.push(Vec::new());
                continue;
            };
            versions.push(
                contract
                    .versions
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        let prev = j.checked_sub(1).map(|p| &contract.versions[p].schema);
                        VersionView {
                            version: v.version.to_string(),
                            id: v.id.0,
                            change: prev.map(|p| classify_change(p, &v.schema)),
                            changes: prev
                                .map(|p| {
                                    schema_changes(p, &v.schema)
                                        .into_iter()
                                        .map(|c| c.description)
                                        .collect()
                                })
                                .unwrap_or_default(),
                            schema: v.schema.clone(),
                        }
                    })
                    .collect(),
            );
            for w in &contract.versions {
                for r in &contract.readers {
                    let rs = &contract.versions[r.version].schema;
                    let ws = &w.schema;
                    let (older, newer) =
                        if ws.version.cmp_precedence(&rs.version) == Ordering::Greater {
                            (rs, ws)
                        } else {
                            (ws, rs)
                        };
                    let cmp = compatibility(older, newer);
                    let reasons = reads(ws, rs, r.mode);
                    compat.push(CompatibilityView {
                        channel: c.name.clone(),
                        writer_version: w.version.to_string(),
                        consumer: scenario.nodes[r.node].name.clone(),
                        reader_version: rs.version.to_string(),
                        mode: r.mode,
                        change: if older == newer {
                            ChangeClass::Patch
                        } else {
                            classify_change(older, newer)
                        },
                        backward: cmp.backward,
                        forward: cmp.forward,
                        full: cmp.full,
                        reads: reasons.is_empty(),
                        reasons,
                    });
                }
            }
        }
        let writers = compiled
            .writers
            .iter()
            .map(|(&(n, c), &v)| ((n as u32, c as u32), v))
            .collect();
        let clients = scenario
            .nodes
            .iter()
            .map(|n| vec![Client::default(); n.instances as usize])
            .collect();
        Ok(Some(Box::new(SchemaState {
            st: Arc::new(Static {
                compiled,
                channel_of,
                versions,
                compatibility: compat,
            }),
            writers,
            clients,
            next_seq: 1,
            counts: BTreeMap::new(),
            decodes: vec![VecDeque::new(); scenario.nodes.len()],
            dead_letters: VecDeque::new(),
            producer_rejections: VecDeque::new(),
            recent: BTreeMap::new(),
            traffic: vec![Traffic::default(); scenario.channels.len()],
            served: vec![0; scenario.nodes.len()],
            metrics: SchemaMetrics::default(),
        })))
    }
}

/// What a consumer does with a delivery after decoding it.
enum Verdict {
    Accept(Value),
    Reject(String),
}

impl Simulation {
    // ----- producers -----

    /// Encodes a message a producer is about to publish on `channel` with its writer schema.
    /// Returns the message to publish, or `None` when the producer refuses it (counted, traced).
    pub(super) fn schema_outgoing(
        &mut self,
        ep: Ep,
        channel: u32,
        msg: Arc<Message>,
    ) -> Option<Arc<Message>> {
        let Some(state) = self.schemas.as_deref() else {
            return Some(msg);
        };
        let st = Arc::clone(&state.st);
        let Some(Some(contract)) = st.compiled.channels.get(channel as usize) else {
            return Some(msg);
        };
        let Some(&vi) = state.writers.get(&(ep.node, channel)) else {
            return Some(msg);
        };
        let entry = &contract.versions[vi];
        let at = self.trace.enabled().then(|| self.endpoint(ep));
        let now = self.now;
        match contract::encode_message(entry, contract.encoding, &msg.payload.value()) {
            Ok((payload, enc)) => {
                let mut m = Arc::unwrap_or_clone(msg);
                m.payload = payload.into();
                m.headers.schema_id = Some(entry.id);
                if let Some(at) = at {
                    self.trace.push(
                        now,
                        TraceKind::Encode {
                            at,
                            msg: m.id,
                            schema: Arc::clone(&entry.label),
                            schema_id: entry.id.0,
                            encoding: enc.encoding.as_str(),
                            json_bytes: enc.json_bytes,
                            avro_bytes: enc.avro_bytes,
                        },
                    );
                }
                let state = self.schemas.as_deref_mut()?;
                let t = &mut state.traffic[channel as usize];
                t.messages += 1;
                t.wire += enc.bytes.len() as u64;
                t.json += u64::from(enc.json_bytes);
                t.avro += u64::from(enc.avro_bytes);
                state.metrics.encoded += 1;
                m.encoded = Some(Arc::new(enc));
                let m = Arc::new(m);
                state.recent.insert(m.id, Arc::clone(&m));
                if state.recent.len() > view::bounds::MAX_RECENT_MESSAGES {
                    state.recent.pop_first();
                }
                Some(m)
            }
            Err(reason) => {
                if let Some(at) = at {
                    self.trace.push(
                        now,
                        TraceKind::ProduceRejected {
                            at,
                            msg: msg.id,
                            reason: reason.clone(),
                        },
                    );
                }
                let node = self.nodes[ep.node as usize].name.to_string();
                let state = self.schemas.as_deref_mut()?;
                state.metrics.produce_rejected += 1;
                push_bounded(
                    &mut state.producer_rejections,
                    ProducerRejectionView {
                        at: now,
                        node,
                        channel: msg.channel.to_string(),
                        msg: msg.id,
                        writer: entry.label.to_string(),
                        reason,
                    },
                    view::bounds::MAX_PRODUCER_REJECTIONS,
                );
                None
            }
        }
    }

    // ----- consumers -----

    /// Decodes a delivery whose handler just finished, before its effect is applied. Returns the
    /// delivery when it is to be processed as usual (no schema, or accepted); `None` when this
    /// took care of it: a lookup is under way (the instance stays busy with it) or the message was
    /// rejected (nacked to the dead-letter queue).
    pub(super) fn schema_incoming(&mut self, ep: Ep, d: Delivery) -> Option<Delivery> {
        let Some(state) = self.schemas.as_deref_mut() else {
            return Some(d);
        };
        let Some(enc) = d.msg.encoded.clone() else {
            return Some(d);
        };
        let Some(&ch) = state.st.channel_of.get(&*d.msg.channel) else {
            return Some(d);
        };
        let st = Arc::clone(&state.st);
        let Some(Some(contract)) = st.compiled.channels.get(ch as usize) else {
            return Some(d);
        };
        let Some(reader) = contract.reader(ep.node as usize) else {
            return Some(d);
        };
        let writer = contract.versions.iter().position(|v| v.id == enc.schema_id);
        if let (Encoding::Avro, Some(registry)) = (enc.encoding, contract.registry) {
            let client = &mut state.clients[ep.node as usize][ep.instance as usize];
            if client.cache.contains(&enc.schema_id) {
                if !std::mem::take(&mut client.resumed) {
                    state.metrics.cache_hits += 1;
                }
            } else {
                let seq = state.next_seq;
                state.next_seq += 1;
                client.awaiting = Some(Awaiting {
                    seq,
                    id: enc.schema_id,
                });
                state.metrics.lookups += 1;
                let msg = Arc::clone(&d.msg);
                let inst = self.inst_mut(ep);
                inst.busy = Some(d);
                let incarnation = inst.incarnation;
                self.send(
                    ep,
                    Ep {
                        node: registry as u32,
                        instance: 0,
                    },
                    Packet::SchemaLookup {
                        msg,
                        id: enc.schema_id,
                        seq,
                        incarnation,
                    },
                );
                let timeout = self.scenario.policies.schema_lookup_timeout_ms;
                self.schedule(
                    self.now.plus_ms(timeout),
                    Event::SchemaLookupTimeout {
                        node: ep.node,
                        instance: ep.instance,
                        incarnation,
                        seq,
                    },
                );
                return None;
            }
        }
        let verdict = match decode(contract, writer, reader, &enc) {
            Ok(v) => Verdict::Accept(v),
            Err(r) => Verdict::Reject(r),
        };
        self.schema_verdict(ep, d, ch, writer, reader, &enc, verdict)
    }

    /// Records a decode and acts on it.
    #[allow(clippy::too_many_arguments)]
    fn schema_verdict(
        &mut self,
        ep: Ep,
        d: Delivery,
        ch: u32,
        writer: Option<usize>,
        reader: &Reader,
        enc: &Encoded,
        verdict: Verdict,
    ) -> Option<Delivery> {
        let Some(state) = self.schemas.as_deref() else {
            return Some(d);
        };
        let st = Arc::clone(&state.st);
        let Some(Some(contract)) = st.compiled.channels.get(ch as usize) else {
            return Some(d);
        };
        let writer_label: Arc<str> = match writer {
            Some(w) => Arc::clone(&contract.versions[w].label),
            None => Arc::from(format!("{}@{}", enc.schema, enc.version).as_str()),
        };
        let reader_version = Arc::clone(&contract.versions[reader.version].version);
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::Decode {
                    at,
                    msg: d.msg.id,
                    writer: Arc::clone(&writer_label),
                    reader: Arc::clone(&reader_version),
                    mode: mode_str(reader.mode),
                    rejected: match &verdict {
                        Verdict::Accept(_) => None,
                        Verdict::Reject(r) => Some(r.clone()),
                    },
                },
            );
        }
        let now = self.now;
        let state = self.schemas.as_deref_mut()?;
        let counts = state.counts.entry((ch, ep.node)).or_default();
        let slot = counts
            .by_writer
            .entry(writer.unwrap_or(usize::MAX))
            .or_default();
        let (outcome, reject) = match verdict {
            Verdict::Accept(value) => {
                slot.0 += 1;
                state.metrics.accepted += 1;
                (DecodeOutcome::Accepted { value }, None)
            }
            Verdict::Reject(reason) => {
                slot.1 += 1;
                counts.last_reason = Some(reason.clone());
                state.metrics.rejected += 1;
                state.metrics.nacks += 1;
                (
                    DecodeOutcome::Rejected {
                        reason: reason.clone(),
                    },
                    Some(reason),
                )
            }
        };
        push_bounded(
            &mut state.decodes[ep.node as usize],
            DecodeView {
                at: now,
                msg: d.msg.id,
                instance: ep.instance,
                channel: d.msg.channel.to_string(),
                writer: writer_label.to_string(),
                schema_id: enc.schema_id.0,
                reader_version: reader_version.to_string(),
                mode: reader.mode,
                encoding: enc.encoding,
                attempt: d.attempt,
                outcome,
            },
            view::bounds::MAX_RECENT_DECODES,
        );
        let Some(reason) = reject else {
            return Some(d);
        };
        self.schema_nack(ep, d, false, reason);
        self.try_start(ep);
        None
    }

    fn schema_nack(&mut self, ep: Ep, d: Delivery, requeue: bool, reason: String) {
        let broker = Ep {
            node: self.queues[d.queue as usize].broker,
            instance: 0,
        };
        self.send(
            ep,
            broker,
            Packet::SchemaNack {
                queue: d.queue,
                tag: d.tag,
                msg: d.msg,
                requeue,
                reason: Arc::from(reason.as_str()),
            },
        );
    }

    /// A schema registry node answers a lookup.
    pub(super) fn schema_lookup_request(
        &mut self,
        registry: Ep,
        from: Ep,
        msg: Arc<Message>,
        id: SchemaId,
        seq: u64,
        incarnation: u32,
    ) {
        let Some(state) = self.schemas.as_deref_mut() else {
            return;
        };
        state.served[registry.node as usize] += 1;
        // The registry node holds the subjects of the channels that name it.
        let found = state.st.compiled.registry.get(id).is_some_and(|e| {
            state
                .st
                .compiled
                .channels
                .iter()
                .flatten()
                .any(|c| c.registry == Some(registry.node as usize) && c.subject == e.subject)
        });
        self.send(
            registry,
            from,
            Packet::SchemaReply {
                msg,
                id,
                seq,
                incarnation,
                found,
            },
        );
    }

    /// A lookup reply reaches a consumer instance: cache the schema and finish the decode.
    pub(super) fn schema_lookup_reply(
        &mut self,
        ep: Ep,
        id: SchemaId,
        seq: u64,
        incarnation: u32,
        found: bool,
    ) {
        if self.inst(ep).incarnation != incarnation {
            return; // a reply to a previous life of the instance
        }
        let Some(state) = self.schemas.as_deref_mut() else {
            return;
        };
        let client = &mut state.clients[ep.node as usize][ep.instance as usize];
        match client.awaiting {
            Some(a) if a.seq == seq => {}
            _ => return, // timed out already
        }
        client.awaiting = None;
        state.metrics.lookup_replies += 1;
        if found {
            client.cache.insert(id);
            client.resumed = true;
            self.process_done(ep);
            return;
        }
        let Some(d) = self.inst_mut(ep).busy.take() else {
            return;
        };
        let Some(enc) = d.msg.encoded.clone() else {
            return;
        };
        let Some(st) = self.schemas.as_deref().map(|s| Arc::clone(&s.st)) else {
            return;
        };
        let Some(&ch) = st.channel_of.get(&*d.msg.channel) else {
            return;
        };
        let Some(Some(contract)) = st.compiled.channels.get(ch as usize) else {
            return;
        };
        let Some(reader) = contract.reader(ep.node as usize) else {
            return;
        };
        let writer = contract.versions.iter().position(|v| v.id == id);
        let reason = format!("schema id {id} is not in the registry");
        self.schema_verdict(ep, d, ch, writer, reader, &enc, Verdict::Reject(reason));
    }

    /// A consumer's lookup got no answer in time: nack the delivery for redelivery.
    pub(super) fn schema_lookup_timeout(&mut self, ep: Ep, seq: u64) {
        let Some(state) = self.schemas.as_deref_mut() else {
            return;
        };
        let client = &mut state.clients[ep.node as usize][ep.instance as usize];
        let id = match client.awaiting {
            Some(a) if a.seq == seq => a.id,
            _ => return,
        };
        client.awaiting = None;
        state.metrics.lookup_timeouts += 1;
        state.metrics.nacks += 1;
        let Some(d) = self.inst_mut(ep).busy.take() else {
            return;
        };
        let Some(st) = self.schemas.as_deref().map(|s| Arc::clone(&s.st)) else {
            return;
        };
        let ch = st.channel_of.get(&*d.msg.channel).copied();
        let contract = ch.and_then(|c| st.compiled.channels.get(c as usize)?.as_ref());
        let registry = contract
            .and_then(|c| c.registry)
            .map(|r| self.nodes[r].name.to_string())
            .unwrap_or_default();
        let timeout = self.scenario.policies.schema_lookup_timeout_ms;
        let reason =
            format!("schema id {id}: registry `{registry}` did not answer within {timeout} ms");
        if self.trace.enabled() {
            let at = self.endpoint(ep);
            self.trace.push(
                self.now,
                TraceKind::LookupTimeout {
                    at,
                    msg: d.msg.id,
                    schema_id: id.0,
                },
            );
        }
        if let (Some(ch), Some(contract), Some(enc)) = (ch, contract, d.msg.encoded.as_deref()) {
            let now = self.now;
            let writer = contract.versions.iter().position(|v| v.id == id);
            let reader = contract.reader(ep.node as usize);
            let Some(state) = self.schemas.as_deref_mut() else {
                return;
            };
            let counts = state.counts.entry((ch, ep.node)).or_default();
            counts.retried += 1;
            push_bounded(
                &mut state.decodes[ep.node as usize],
                DecodeView {
                    at: now,
                    msg: d.msg.id,
                    instance: ep.instance,
                    channel: d.msg.channel.to_string(),
                    writer: writer
                        .map(|w| contract.versions[w].label.to_string())
                        .unwrap_or_else(|| format!("{}@{}", enc.schema, enc.version)),
                    schema_id: id.0,
                    reader_version: reader
                        .map(|r| contract.versions[r.version].version.to_string())
                        .unwrap_or_default(),
                    mode: reader.map(|r| r.mode).unwrap_or(ReaderMode::Tolerant),
                    encoding: enc.encoding,
                    attempt: d.attempt,
                    outcome: DecodeOutcome::Retry {
                        reason: reason.clone(),
                    },
                },
                view::bounds::MAX_RECENT_DECODES,
            );
        }
        self.schema_nack(ep, d, true, reason);
        self.try_start(ep);
    }

    /// A crashed instance loses its schema cache and the lookup it was waiting for.
    pub(super) fn schema_crash(&mut self, ep: Ep) {
        if let Some(state) = self.schemas.as_deref_mut() {
            if let Some(c) = state
                .clients
                .get_mut(ep.node as usize)
                .and_then(|n| n.get_mut(ep.instance as usize))
            {
                *c = Client::default();
            }
        }
    }

    // ----- broker -----

    /// The broker receives a nack: requeue the delivery, or dead-letter it with the reason.
    pub(super) fn schema_broker_nack(
        &mut self,
        queue: u32,
        tag: u64,
        requeue: bool,
        reason: Arc<str>,
    ) {
        let q = &mut self.queues[queue as usize];
        let Some(u) = q.unacked.remove(&tag) else {
            return; // no longer outstanding (ack timeout came first): ignored
        };
        q.unacked_per_instance[u.instance as usize] -= 1;
        let consumer = self.nodes[q.consumer as usize].name.to_string();
        let queue_name = Arc::clone(&q.name);
        let (msg, attempts) = (u.msg, u.attempt);
        let dead = if requeue {
            let before = q.dead_letter_total;
            self.requeue(queue, Arc::clone(&msg), attempts, RedeliveryReason::Nacked);
            (self.queues[queue as usize].dead_letter_total > before)
                .then(|| format!("{reason} (after {attempts} deliveries)"))
        } else {
            q.dead_letter_total += 1;
            if q.dead_letters.len() >= bounds::MAX_DEAD_LETTERS_KEPT {
                q.dead_letters.pop_front();
            }
            q.dead_letters.push_back((Arc::clone(&msg), attempts));
            self.metrics.dead_lettered += 1;
            if self.trace.enabled() {
                self.trace.push(
                    self.now,
                    TraceKind::Rejected {
                        queue: Arc::clone(&queue_name),
                        msg: msg.id,
                        reason: reason.to_string(),
                    },
                );
            }
            Some(reason.to_string())
        };
        if let (Some(reason), Some(state)) = (dead, self.schemas.as_deref_mut()) {
            let writer = msg
                .encoded
                .as_deref()
                .map(|e| format!("{}@{}", e.schema, e.version))
                .unwrap_or_default();
            push_bounded(
                &mut state.dead_letters,
                DeadLetterView {
                    at: self.now,
                    queue: queue_name.to_string(),
                    consumer,
                    msg: msg.id,
                    writer,
                    attempts,
                    reason,
                },
                view::bounds::MAX_DEAD_LETTERS,
            );
        }
        self.dispatch(queue);
    }

    // ----- commands -----

    /// Checks `set_schema_version` without changing anything.
    pub(super) fn check_set_schema_version(
        &self,
        node: &str,
        channel: &str,
        version: &semver::Version,
    ) -> Result<(), CommandError> {
        let n = self
            .node_id(node)
            .ok_or_else(|| CommandError::UnknownNode(node.to_string()))?;
        let err = |m: String| Err(CommandError::Schema(m));
        let Some(state) = self.schemas.as_deref() else {
            return err("the scenario declares no schemas".into());
        };
        let Some(&ch) = state.st.channel_of.get(channel) else {
            return err(format!("unknown channel `{channel}`"));
        };
        let Some(Some(contract)) = state.st.compiled.channels.get(ch as usize) else {
            return err(format!("channel `{channel}` declares no schemas"));
        };
        let Some(vi) = contract.version_index(version) else {
            let declared: Vec<&str> = contract.versions.iter().map(|v| &*v.version).collect();
            return err(format!(
                "version {version} is not declared by channel `{channel}` (declared: {})",
                declared.join(", ")
            ));
        };
        if !state.writers.contains_key(&(n, ch)) {
            return err(format!("`{node}` does not produce to `{channel}`"));
        }
        let entry = &contract.versions[vi];
        for w in self.scenario.workloads.iter().filter(|w| w.from == node) {
            for t in w.messages.iter().filter(|t| t.channel == channel) {
                contract::check_template(entry, contract.encoding, &t.payload).map_err(|r| {
                    CommandError::Schema(format!(
                        "the payload of `{node}` is not a valid `{}` message: {r}",
                        entry.label
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// Whether `node` may send a chosen message on `channel` (`publish.rs`): the channel has no
    /// schemas, or `node` is one of its producers (it writes its current version).
    pub(super) fn schema_writer_or_free(&self, node: u32, channel: u32) -> bool {
        let Some(state) = self.schemas.as_deref() else {
            return true;
        };
        let has_schemas = matches!(
            state.st.compiled.channels.get(channel as usize),
            Some(Some(_))
        );
        !has_schemas || state.writers.contains_key(&(node, channel))
    }

    /// Applies a checked `set_schema_version`.
    pub(super) fn set_schema_version(&mut self, node: &str, channel: &str, v: &semver::Version) {
        let Some(n) = self.node_id(node) else { return };
        let Some(state) = self.schemas.as_deref_mut() else {
            return;
        };
        let Some(&ch) = state.st.channel_of.get(channel) else {
            return;
        };
        let vi = state
            .st
            .compiled
            .channels
            .get(ch as usize)
            .and_then(Option::as_ref)
            .and_then(|c| c.version_index(v));
        if let (Some(vi), Some(slot)) = (vi, state.writers.get_mut(&(n, ch))) {
            *slot = vi;
        }
    }

    // ----- reading -----

    /// A one-line summary of a message's schema and sizes, for [`TransitView::wire`].
    pub(super) fn wire_summary(msg: &Message) -> Option<WireSummary> {
        let e = msg.encoded.as_deref()?;
        Some(WireSummary {
            schema: format!("{}@{}", e.schema, e.version),
            version: e.version.to_string(),
            schema_id: e.schema_id.0,
            encoding: e.encoding,
            bytes: e.bytes.len() as u32,
            json_bytes: e.json_bytes,
            avro_bytes: e.avro_bytes,
        })
    }

    /// The API contracts of the run now: channels and their versions, what each producer writes,
    /// how each consumer fared per writer version, the compatibility check, registries, recent
    /// decodes and dead letters with reasons. `None` when the scenario declares no schemas.
    pub fn schema_snapshot(&self) -> Option<SchemaSnapshot> {
        let state = self.schemas.as_deref()?;
        let st = &state.st;
        let name = |i: usize| self.nodes[i].name.to_string();
        let mut channels = Vec::new();
        let mut consumers = Vec::new();
        for (i, c) in st.compiled.channels.iter().enumerate() {
            let Some(c) = c else { continue };
            let spec = &self.scenario.channels[i];
            let t = state.traffic[i];
            channels.push(ContractView {
                channel: spec.name.clone(),
                encoding: c.encoding,
                subject: c.subject.clone(),
                registry: c.registry.map(name),
                versions: st.versions[i].clone(),
                messages: t.messages,
                wire_bytes: t.wire,
                json_bytes: t.json,
                avro_bytes: t.avro,
            });
            for r in &c.readers {
                let counts = state.counts.get(&(i as u32, r.node as u32));
                let by_writer: Vec<WriterCounts> = counts
                    .map(|k| {
                        k.by_writer
                            .iter()
                            .map(|(&w, &(accepted, rejected))| WriterCounts {
                                version: c
                                    .versions
                                    .get(w)
                                    .map(|v| v.version.to_string())
                                    .unwrap_or_else(|| "?".into()),
                                accepted,
                                rejected,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                consumers.push(ConsumerView {
                    channel: spec.name.clone(),
                    consumer: name(r.node),
                    reader_version: c.versions[r.version].version.to_string(),
                    mode: r.mode,
                    accepted: by_writer.iter().map(|w| w.accepted).sum(),
                    rejected: by_writer.iter().map(|w| w.rejected).sum(),
                    by_writer,
                    retried: counts.map(|k| k.retried).unwrap_or(0),
                    last_reason: counts.and_then(|k| k.last_reason.clone()),
                });
            }
        }
        let producers = state
            .writers
            .iter()
            .filter_map(|(&(n, ch), &vi)| {
                let c = st.compiled.channels.get(ch as usize)?.as_ref()?;
                let v = c.versions.get(vi)?;
                Some(ProducerView {
                    node: name(n as usize),
                    channel: self.scenario.channels[ch as usize].name.clone(),
                    version: v.version.to_string(),
                    schema_id: v.id.0,
                })
            })
            .collect();
        let registries = self
            .scenario
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::SchemaRegistry)
            .map(|(k, n)| RegistryView {
                node: n.name.clone(),
                schemas: st
                    .compiled
                    .registry
                    .entries()
                    .filter(|e| {
                        st.compiled
                            .channels
                            .iter()
                            .flatten()
                            .any(|c| c.registry == Some(k) && c.subject == e.subject)
                    })
                    .map(|e| RegistryEntryView {
                        id: e.id.0,
                        subject: e.subject.clone(),
                        version: e.schema.version.to_string(),
                    })
                    .collect(),
                lookups_served: state.served[k],
            })
            .collect();
        let decodes = state
            .decodes
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_empty())
            .map(|(n, d)| ServiceDecodes {
                node: name(n),
                decodes: d.iter().cloned().collect(),
            })
            .collect();
        Some(SchemaSnapshot {
            channels,
            producers,
            consumers,
            compatibility: st.compatibility.clone(),
            registries,
            decodes,
            dead_letters: state.dead_letters.iter().cloned().collect(),
            producer_rejections: state.producer_rejections.iter().cloned().collect(),
            metrics: state.metrics,
        })
    }

    /// Counters of the schema part of the run (`None` without schemas).
    pub fn schema_metrics(&self) -> Option<SchemaMetrics> {
        self.schemas.as_deref().map(|s| s.metrics)
    }

    /// Finds a message with a schema that is still known: one of the last
    /// [`view::bounds::MAX_RECENT_MESSAGES`] encoded, or one still on the wire, in a queue, an
    /// inbox or a producer's pending publishes.
    fn find_message(&self, id: MessageId) -> Option<Arc<Message>> {
        self.schemas.as_deref()?;
        self.message(id)
    }

    /// The message `id` with its headers and payload, while the run still holds it: recently
    /// encoded (channels with schemas), on the wire, in a queue (ready or unacked), or in an
    /// instance's inbox, handler or pending requests. `None` once it is processed and forgotten
    /// (the message inspector then shows its life from the trace only). Any kind of message:
    /// broker messages, HTTP requests and responses, registry and schema lookups.
    pub fn message(&self, id: MessageId) -> Option<Arc<Message>> {
        if let Some(m) = self.schemas.as_deref().and_then(|s| s.recent.get(&id)) {
            return Some(Arc::clone(m));
        }
        self.held_messages().find(|m| m.id == id).map(Arc::clone)
    }

    /// Every message the run holds now (on the wire, in a queue ready or unacked, in an
    /// instance's inbox, handler or pending requests), in engine order (deterministic; a
    /// message may come more than once, one per copy). For a viewer that keeps the last-seen
    /// copy of each message after it is processed and forgotten; one pass costs O(messages
    /// held).
    pub fn held_messages(&self) -> impl Iterator<Item = &Arc<Message>> + '_ {
        let in_flight = self.in_flight.by_id().into_iter().map(|t| t.packet.msg());
        let queued = self.queues.iter().flat_map(|q| {
            q.ready
                .iter()
                .map(|(m, _)| m)
                .chain(q.unacked.values().map(|u| &u.msg))
        });
        let held = self.nodes.iter().flat_map(|n| {
            n.instances.iter().flat_map(|i| {
                i.inbox
                    .iter()
                    .map(|d| &d.msg)
                    .chain(i.busy.iter().map(|d| &d.msg))
                    .chain(i.pending.values().map(|p| &p.msg))
            })
        });
        let recent = self
            .schemas
            .as_deref()
            .into_iter()
            .flat_map(|s| s.recent.values());
        in_flight.chain(queued).chain(held).chain(recent)
    }

    /// Everything about one message with a schema, for an inspector: headers, payload, writer
    /// schema and id, its bytes in JSON (text and hex) and in Avro (hex), the bytes on the wire
    /// as a hex dump, and how consumers decoded it (from the recent decodes still kept). `None`
    /// for an unknown or forgotten message, or one without a schema.
    pub fn inspect_message(&self, id: MessageId) -> Option<MessageInspection> {
        let m = self.find_message(id)?;
        let e = m.encoded.as_deref()?;
        let state = self.schemas.as_deref()?;
        let &ch = state.st.channel_of.get(&*m.channel)?;
        let contract = state.st.compiled.channels.get(ch as usize)?.as_ref()?;
        let v = contract.versions.iter().find(|v| v.id == e.schema_id)?;
        let json = crate::schema::encode_json(&v.schema, &m.payload.value()).ok()?;
        let avro = v.codec.encode(&m.payload.value()).ok()?;
        let decodes = state
            .decodes
            .iter()
            .enumerate()
            .flat_map(|(n, d)| {
                d.iter()
                    .filter(|x| x.msg == id)
                    .map(move |x| (self.nodes[n].name.to_string(), x.clone()))
            })
            .collect();
        Some(MessageInspection {
            msg: m.id,
            kind: m.kind,
            type_name: m.type_name.to_string(),
            channel: m.channel.to_string(),
            headers: m.headers.clone(),
            payload: m.payload.clone().into_value(),
            schema: v.schema.clone(),
            schema_id: e.schema_id.0,
            encoding: e.encoding,
            wire_bytes: e.bytes.len() as u32,
            json_text: String::from_utf8_lossy(&json).into_owned(),
            json_hex: hex(&json),
            avro_hex: hex(&avro),
            json_bytes: e.json_bytes,
            avro_bytes: e.avro_bytes,
            wire_dump: hex_dump(&e.bytes),
            decodes,
        })
    }

    /// The run's channels and message schemas as an AsyncAPI 3.0.0 document, as deployed now:
    /// each channel with schemas carries the greatest version its producers currently write (the
    /// latest declared one if nobody produces to it). See [`Scenario::asyncapi_document`] for the
    /// shape. `Ok(None)` without schemas.
    #[cfg(feature = "export")]
    pub fn asyncapi_document(&self) -> Result<Option<Value>, SchemaError> {
        let Some(state) = self.schemas.as_deref() else {
            return Ok(None);
        };
        let chosen: Vec<Option<&MessageSchema>> = self
            .scenario
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let contract = state.st.compiled.channels.get(i)?.as_ref()?;
                let current = state
                    .writers
                    .iter()
                    .filter(|((_, ch), _)| *ch as usize == i)
                    .map(|(_, &vi)| vi)
                    .max();
                match current {
                    Some(vi) => contract.versions.get(vi).map(|v| &v.schema),
                    None => c.schemas.last(),
                }
            })
            .collect();
        contract::asyncapi_for(&self.scenario, &chosen)
    }

    /// The run's REST endpoints as an OpenAPI 3.1.0 document (see
    /// [`Scenario::openapi_document`]): `Ok(None)` when `endpoints` is empty.
    #[cfg(feature = "export")]
    pub fn openapi_document(
        &self,
        endpoints: &[RestEndpoint],
        schemas: &[MessageSchema],
    ) -> Result<Option<Value>, SchemaError> {
        self.scenario.openapi_document(endpoints, schemas)
    }
}
