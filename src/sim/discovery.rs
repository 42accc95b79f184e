//! Service discovery: a service registry with leases (register, renew, expire after a TTL,
//! deregister, lookup), self-registration (heartbeats) and third-party registration (a registrar
//! that probes instances), client-side discovery caches with round-robin or random load
//! balancing, and a router in front of a service's instances (as a Kubernetes Service).
//!
//! A crashed instance stays registered until its lease expires (or, with a registrar, until it
//! failed `failure_threshold` probes): until then lookups still return it, and calls routed to it
//! are refused by its host.

use super::rpc::{Pick, SyncEvent, SyncPacket};
use super::*;
use crate::message::MessageKind;
use crate::sync::bounds as sb;
use crate::sync::{
    CacheView, HttpResponse, InstanceInfo, LoadBalancer, RegistrationMode, RegistryEntryView,
    RegistryView, RouterView,
};
use serde_json::Value;

/// Whose discovery cache a lookup fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CacheOwner {
    /// A client proxy (dependency, client instance).
    Proxy { dep: u32, instance: u32 },
    /// A router node.
    Router { node: u32 },
}

/// A discovery cache: the last registry answer, the lookup in flight, and who waits for it.
#[derive(Clone, Debug, Default)]
pub(super) struct Cache {
    pub(super) instances: Vec<InstanceInfo>,
    pub(super) fetched_at: Option<SimTime>,
    pub(super) lookup: Option<u64>,
    /// Call ids (proxy) or request ids (router).
    pub(super) waiters: VecDeque<u64>,
    pub(super) rr: u32,
}

impl Cache {
    pub(super) fn view(&self, ttl_us: u64) -> CacheView {
        CacheView {
            instances: self.instances.clone(),
            fetched_at: self.fetched_at,
            expires_at: self.fetched_at.map(|t| t.plus_us(ttl_us)),
            refreshing: self.lookup.is_some(),
            waiting: self.waiters.len() as u32,
        }
    }

    fn fresh(&self, now: SimTime, ttl_us: u64) -> bool {
        self.fetched_at.is_some_and(|t| now < t.plus_us(ttl_us))
    }

    /// Picks an instance of the cached list (non-empty).
    fn pick(&mut self, lb: LoadBalancer, rng: &mut SimRng) -> u32 {
        let n = self.instances.len() as u64;
        let k = match lb {
            LoadBalancer::RoundRobin => {
                let k = self.rr as u64 % n;
                self.rr = self.rr.wrapping_add(1);
                k
            }
            LoadBalancer::Random => rng.below(n),
        };
        self.instances[k as usize].instance
    }
}

/// A registry entry (a lease).
#[derive(Clone, Debug)]
pub(super) struct RegEntry {
    info: InstanceInfo,
    registered_at: SimTime,
    renewed_at: SimTime,
    expires_at: SimTime,
    by: Ep,
}

/// A service registry's table, by (service node, instance).
#[derive(Clone, Debug, Default)]
pub(super) struct Registry {
    entries: BTreeMap<(u32, u32), RegEntry>,
}

/// A router's state.
#[derive(Clone, Debug)]
pub(super) struct Router {
    service: u32,
    registry: Option<u32>,
    lb: LoadBalancer,
    ttl_us: u64,
    timeout_us: u64,
    rng: SimRng,
    pub(super) cache: Cache,
    /// Forwarded requests: request id -> the client to relay the answer to.
    pub(super) pending: BTreeMap<u64, Ep>,
    /// Requests waiting for a lookup: request id -> (client, the request packet).
    parked: BTreeMap<u64, (Ep, SyncPacket)>,
    routed: u64,
}

/// One probed instance of a registrar.
#[derive(Clone, Debug)]
struct Target {
    service: u32,
    instance: u32,
    registry: u32,
    outstanding: Option<u64>,
    failures: u32,
    deregistered: bool,
}

/// A registrar's probe state.
#[derive(Clone, Debug, Default)]
pub(super) struct Registrar {
    period_us: u64,
    threshold: u32,
    targets: Vec<Target>,
}

impl Simulation {
    /// Builds registries, routers and registrars (no events).
    pub(super) fn discovery_build(&mut self) {
        let scenario = Arc::clone(&self.scenario);
        let idx = |name: &str| scenario.node_index(name).unwrap_or(0) as u32;
        for (i, n) in scenario.nodes.iter().enumerate() {
            let node = i as u32;
            match n.kind {
                NodeKind::Registry => {
                    self.sync.registries.insert(node, Registry::default());
                }
                NodeKind::Router => {
                    if let Some(r) = scenario.router_of(&n.name) {
                        self.sync.routers.insert(
                            node,
                            Router {
                                service: idx(&r.service),
                                registry: r.registry.as_deref().map(idx),
                                lb: r.load_balancer,
                                ttl_us: crate::time::ms_to_us(r.cache_ttl_ms),
                                timeout_us: crate::time::ms_to_us(r.timeout_ms),
                                rng: SimRng::new(self.seed, stream::ROUTER_BASE + node as u64),
                                cache: Cache::default(),
                                pending: BTreeMap::new(),
                                parked: BTreeMap::new(),
                                routed: 0,
                            },
                        );
                    }
                }
                NodeKind::Registrar => {
                    let spec = scenario.registrar_of(&n.name);
                    let targets = scenario
                        .nodes
                        .iter()
                        .enumerate()
                        .filter_map(|(s, sn)| {
                            let r = scenario.registration_of(&sn.name)?;
                            (r.mode == RegistrationMode::ThirdParty
                                && r.registrar.as_deref() == Some(&n.name))
                            .then(|| {
                                (0..sn.instances).map(move |k| Target {
                                    service: s as u32,
                                    instance: k,
                                    registry: idx(&r.registry),
                                    outstanding: None,
                                    failures: 0,
                                    deregistered: false,
                                })
                            })
                        })
                        .flatten()
                        .collect();
                    self.sync.registrars.insert(
                        node,
                        Registrar {
                            period_us: crate::time::ms_to_us(spec.period_ms),
                            threshold: spec.failure_threshold,
                            targets,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// Schedules the first probes and heartbeats, at time zero.
    pub(super) fn discovery_init(&mut self) {
        let scenario = Arc::clone(&self.scenario);
        for (i, n) in scenario.nodes.iter().enumerate() {
            let node = i as u32;
            if n.kind == NodeKind::Registrar {
                self.schedule(
                    SimTime::ZERO,
                    Event::Sync(SyncEvent::Probe {
                        node,
                        incarnation: 0,
                    }),
                );
            }
            if let Some(r) = scenario.registration_of(&n.name) {
                if r.mode == RegistrationMode::SelfRegistration {
                    for k in 0..n.instances {
                        self.schedule(
                            SimTime::ZERO,
                            Event::Sync(SyncEvent::Heartbeat {
                                node,
                                instance: k,
                                incarnation: 0,
                            }),
                        );
                    }
                }
            }
        }
    }

    fn instance_info(&self, service: u32, instance: u32) -> InstanceInfo {
        let spec = self
            .scenario
            .registration_of(&self.scenario.nodes[service as usize].name);
        let vars: BTreeMap<String, Value> =
            [("instance".to_string(), Value::from(instance))].into();
        InstanceInfo {
            instance,
            host: format!("10.0.{service}.{}", instance + 1),
            port: spec.map_or(8080, |r| r.port),
            metadata: spec
                .map(|r| crate::sync::http::substitute(&r.metadata, &vars))
                .unwrap_or(Value::Null),
        }
    }

    fn send_register(&mut self, from: Ep, registry: u32, service: u32, instance: u32) {
        let ttl_us = self
            .scenario
            .registration_of(&self.scenario.nodes[service as usize].name)
            .map_or(3_000_000, |r| crate::time::ms_to_us(r.ttl_ms));
        let info = Arc::new(self.instance_info(service, instance));
        let name = format!("register {}#{instance}", self.nodes[service as usize].name);
        let msg = self.sync_msg(MessageKind::Document, name, "registry", Value::Null);
        self.send(
            from,
            Ep {
                node: registry,
                instance: 0,
            },
            Packet::Sync(SyncPacket::Register {
                msg,
                service,
                instance,
                ttl_us,
                info,
            }),
        );
    }

    /// Self-registration: register (or renew) now; the next heartbeat until the horizon.
    pub(super) fn heartbeat(&mut self, ep: Ep) {
        let Some(r) = self
            .scenario
            .registration_of(&self.scenario.nodes[ep.node as usize].name)
            .cloned()
        else {
            return;
        };
        let registry = self.node_id(&r.registry).unwrap_or(0);
        self.send_register(ep, registry, ep.node, ep.instance);
        let next = self.now.plus_ms(r.heartbeat_ms);
        if next <= self.sync.horizon {
            let incarnation = self.inst(ep).incarnation;
            self.schedule(
                next,
                Event::Sync(SyncEvent::Heartbeat {
                    node: ep.node,
                    instance: ep.instance,
                    incarnation,
                }),
            );
        }
    }

    pub(super) fn registry_register(
        &mut self,
        registry: u32,
        from: Ep,
        service: u32,
        instance: u32,
        ttl_us: u64,
        info: Arc<InstanceInfo>,
    ) {
        let now = self.now;
        let Some(reg) = self.sync.registries.get_mut(&registry) else {
            return;
        };
        let expires_at = now.plus_us(ttl_us);
        let key = (service, instance);
        let new = match reg.entries.get_mut(&key) {
            Some(e) => {
                e.renewed_at = now;
                e.expires_at = expires_at;
                e.info = (*info).clone();
                e.by = from;
                false
            }
            None => {
                if reg.entries.len() >= sb::MAX_REGISTRY_ENTRIES {
                    return;
                }
                reg.entries.insert(
                    key,
                    RegEntry {
                        info: (*info).clone(),
                        registered_at: now,
                        renewed_at: now,
                        expires_at,
                        by: from,
                    },
                );
                true
            }
        };
        if new && self.trace.enabled() {
            let what = TraceKind::Registered {
                registry: self.endpoint(Ep {
                    node: registry,
                    instance: 0,
                }),
                service: self.node_name(service),
                instance,
                addr: Arc::from(format!("{}:{}", info.host, info.port).as_str()),
                by: self.endpoint(from),
                expires_at,
            };
            self.trace.push(now, what);
        }
        self.schedule(
            expires_at,
            Event::Sync(SyncEvent::Expire {
                registry,
                service,
                instance,
                at: expires_at,
            }),
        );
    }

    pub(super) fn expire(&mut self, registry: u32, service: u32, instance: u32, at: SimTime) {
        let Some(reg) = self.sync.registries.get_mut(&registry) else {
            return;
        };
        let due = reg
            .entries
            .get(&(service, instance))
            .is_some_and(|e| e.expires_at == at);
        if !due {
            return;
        }
        let Some(e) = reg.entries.remove(&(service, instance)) else {
            return;
        };
        if self.trace.enabled() {
            let what = TraceKind::Expired {
                registry: self.endpoint(Ep {
                    node: registry,
                    instance: 0,
                }),
                service: self.node_name(service),
                instance,
                renewed_at: e.renewed_at,
            };
            self.trace.push(self.now, what);
        }
    }

    pub(super) fn registry_deregister(
        &mut self,
        registry: u32,
        from: Ep,
        service: u32,
        instance: u32,
    ) {
        let removed = self
            .sync
            .registries
            .get_mut(&registry)
            .and_then(|r| r.entries.remove(&(service, instance)))
            .is_some();
        if removed && self.trace.enabled() {
            let what = TraceKind::Deregistered {
                registry: self.endpoint(Ep {
                    node: registry,
                    instance: 0,
                }),
                service: self.node_name(service),
                instance,
                by: self.endpoint(from),
            };
            self.trace.push(self.now, what);
        }
    }

    pub(super) fn registry_lookup(
        &mut self,
        registry: u32,
        from: Ep,
        owner: CacheOwner,
        lookup: u64,
        service: u32,
    ) {
        let now = self.now;
        let instances: Vec<InstanceInfo> = self
            .sync
            .registries
            .get(&registry)
            .map(|r| {
                r.entries
                    .range((service, 0)..=(service, u32::MAX))
                    .filter(|(_, e)| e.expires_at > now)
                    .map(|(_, e)| e.info.clone())
                    .collect()
            })
            .unwrap_or_default();
        let name = format!(
            "{} instances of {}",
            instances.len(),
            self.nodes[service as usize].name
        );
        let msg = self.sync_msg(MessageKind::Reply, name, "registry", Value::Null);
        let at = Ep {
            node: registry,
            instance: 0,
        };
        self.send(
            at,
            from,
            Packet::Sync(SyncPacket::LookupReply {
                msg,
                owner,
                lookup,
                instances: Arc::new(instances),
            }),
        );
    }

    pub(super) fn cache_owner_ep(&self, owner: CacheOwner) -> Ep {
        match owner {
            CacheOwner::Proxy { dep, instance } => Ep {
                node: self.sync.deps[dep as usize].from,
                instance,
            },
            CacheOwner::Router { node } => Ep { node, instance: 0 },
        }
    }

    fn cache_mut(&mut self, owner: CacheOwner) -> Option<&mut Cache> {
        match owner {
            CacheOwner::Proxy { dep, instance } => self
                .sync
                .proxies
                .get_mut(dep as usize)
                .and_then(|p| p.get_mut(instance as usize))
                .map(|p| &mut p.cache),
            CacheOwner::Router { node } => self.sync.routers.get_mut(&node).map(|r| &mut r.cache),
        }
    }

    /// Starts a lookup for `owner` unless one is in flight.
    fn start_lookup(&mut self, owner: CacheOwner, registry: u32, service: u32) {
        let id = self.sync.next_misc;
        let Some(cache) = self.cache_mut(owner) else {
            return;
        };
        if cache.lookup.is_some() {
            return;
        }
        cache.lookup = Some(id);
        self.sync.next_misc += 1;
        let from = self.cache_owner_ep(owner);
        let name = format!("lookup {}", self.nodes[service as usize].name);
        let msg = self.sync_msg(MessageKind::Command, name, "registry", Value::Null);
        self.send(
            from,
            Ep {
                node: registry,
                instance: 0,
            },
            Packet::Sync(SyncPacket::Lookup {
                msg,
                owner,
                lookup: id,
                service,
            }),
        );
        self.schedule(
            self.now.plus_ms(sb::LOOKUP_TIMEOUT_MS),
            Event::Sync(SyncEvent::LookupTimeout { owner, lookup: id }),
        );
    }

    /// Client-side discovery for call `call` of proxy (`dep`, `inst`): an instance from a fresh
    /// cache, or wait for a lookup, or none.
    pub(super) fn proxy_pick(&mut self, dep: u32, inst: u32, call: u64) -> Pick {
        let now = self.now;
        let d = &self.sync.deps[dep as usize];
        let rpc::Disc::Client {
            registry,
            lb,
            ttl_us,
        } = d.discovery
        else {
            return Pick::None;
        };
        let service = d.to;
        let p = &mut self.sync.proxies[dep as usize][inst as usize];
        if p.cache.fresh(now, ttl_us) {
            if p.cache.instances.is_empty() {
                return Pick::None;
            }
            return Pick::Ready(p.cache.pick(lb, &mut p.lb_rng));
        }
        if p.cache.waiters.len() >= sb::MAX_LOOKUP_WAITERS {
            return Pick::None;
        }
        p.cache.waiters.push_back(call);
        self.start_lookup(
            CacheOwner::Proxy {
                dep,
                instance: inst,
            },
            registry,
            service,
        );
        Pick::Wait
    }

    pub(super) fn lookup_reply(
        &mut self,
        owner: CacheOwner,
        lookup: u64,
        instances: Arc<Vec<InstanceInfo>>,
    ) {
        let now = self.now;
        let Some(cache) = self.cache_mut(owner) else {
            return;
        };
        if cache.lookup != Some(lookup) {
            return;
        }
        cache.lookup = None;
        cache.instances = (*instances).clone();
        cache.fetched_at = Some(now);
        let service = match owner {
            CacheOwner::Proxy { dep, .. } => self.sync.deps[dep as usize].to,
            CacheOwner::Router { node } => self.sync.routers[&node].service,
        };
        if self.trace.enabled() {
            let what = TraceKind::CacheRefreshed {
                at: self.endpoint(self.cache_owner_ep(owner)),
                service: self.node_name(service),
                instances: instances.iter().map(|i| i.instance).collect(),
            };
            self.trace.push(now, what);
        }
        self.drain_waiters(owner);
    }

    pub(super) fn lookup_timeout(&mut self, owner: CacheOwner, lookup: u64) {
        let Some(cache) = self.cache_mut(owner) else {
            return;
        };
        if cache.lookup != Some(lookup) {
            return;
        }
        cache.lookup = None;
        // No answer: the waiters use the stale list if there is one (as a Eureka client keeps its
        // last copy), else fail.
        self.drain_waiters(owner);
    }

    /// Lets the waiters of a cache go on: each picks from the list (fresh, or stale after a
    /// lookup timeout); with an empty list they fail.
    fn drain_waiters(&mut self, owner: CacheOwner) {
        let Some(cache) = self.cache_mut(owner) else {
            return;
        };
        let waiters = std::mem::take(&mut cache.waiters);
        for w in waiters {
            match owner {
                CacheOwner::Proxy { dep, instance } => {
                    let waiting = self
                        .sync
                        .calls
                        .get(&w)
                        .is_some_and(|c| c.stage == rpc::Stage::Discovery);
                    if !waiting {
                        continue;
                    }
                    let p = &mut self.sync.proxies[dep as usize][instance as usize];
                    let lb = match self.sync.deps[dep as usize].discovery {
                        rpc::Disc::Client { lb, .. } => lb,
                        _ => LoadBalancer::RoundRobin,
                    };
                    if p.cache.instances.is_empty() {
                        self.discovery_failed(w);
                    } else {
                        let i = p.cache.pick(lb, &mut p.lb_rng);
                        let to = self.sync.deps[dep as usize].to;
                        self.rpc_send(
                            w,
                            Ep {
                                node: to,
                                instance: i,
                            },
                        );
                    }
                }
                CacheOwner::Router { node } => {
                    let Some(r) = self.sync.routers.get_mut(&node) else {
                        return;
                    };
                    let Some((client, packet)) = r.parked.remove(&w) else {
                        continue;
                    };
                    if r.cache.instances.is_empty() {
                        self.router_unavailable(node, client, packet);
                    } else {
                        let i = r.cache.pick(r.lb, &mut r.rng);
                        self.router_forward(node, client, packet, i);
                    }
                }
            }
        }
    }

    // ----- router -----

    pub(super) fn router_request(&mut self, node: u32, client: Ep, packet: SyncPacket) {
        let now = self.now;
        let Some(r) = self.sync.routers.get_mut(&node) else {
            return;
        };
        if r.pending.len() + r.parked.len() >= sb::MAX_ROUTER_PENDING {
            self.router_unavailable(node, client, packet);
            return;
        }
        let SyncPacket::Request { req, .. } = &packet else {
            return;
        };
        let req = *req;
        match r.registry {
            None => {
                let count = self.nodes[r.service as usize].instances.len() as u64;
                let i = match r.lb {
                    LoadBalancer::RoundRobin => {
                        let k = r.cache.rr as u64 % count;
                        r.cache.rr = r.cache.rr.wrapping_add(1);
                        k
                    }
                    LoadBalancer::Random => r.rng.below(count),
                } as u32;
                self.router_forward(node, client, packet, i);
            }
            Some(registry) => {
                if r.cache.fresh(now, r.ttl_us) {
                    if r.cache.instances.is_empty() {
                        self.router_unavailable(node, client, packet);
                    } else {
                        let i = r.cache.pick(r.lb, &mut r.rng);
                        self.router_forward(node, client, packet, i);
                    }
                } else if r.cache.waiters.len() >= sb::MAX_LOOKUP_WAITERS {
                    self.router_unavailable(node, client, packet);
                } else {
                    r.cache.waiters.push_back(req);
                    r.parked.insert(req, (client, packet));
                    let service = r.service;
                    self.start_lookup(CacheOwner::Router { node }, registry, service);
                }
            }
        }
    }

    fn router_forward(&mut self, node: u32, client: Ep, packet: SyncPacket, instance: u32) {
        let incarnation = self.inst(Ep { node, instance: 0 }).incarnation;
        let Some(r) = self.sync.routers.get_mut(&node) else {
            return;
        };
        let SyncPacket::Request { req, .. } = &packet else {
            return;
        };
        let req = *req;
        r.pending.insert(req, client);
        r.routed += 1;
        let to = Ep {
            node: r.service,
            instance,
        };
        let timeout = r.timeout_us;
        let at = Ep { node, instance: 0 };
        if self.trace.enabled() {
            let what = TraceKind::Routed {
                router: self.endpoint(at),
                req,
                to: self.endpoint(to),
            };
            self.trace.push(self.now, what);
        }
        self.send(at, to, Packet::Sync(packet));
        self.schedule(
            self.now.plus_us(timeout),
            Event::Sync(SyncEvent::RouterTimeout {
                router: node,
                req,
                incarnation,
            }),
        );
    }

    fn router_unavailable(&mut self, node: u32, client: Ep, packet: SyncPacket) {
        if let SyncPacket::Request {
            req,
            call,
            dep,
            attempt,
            http,
            ..
        } = packet
        {
            let service = self
                .sync
                .routers
                .get(&node)
                .map(|r| self.nodes[r.service as usize].name.to_string())
                .unwrap_or_default();
            let resp = HttpResponse::error(503, format!("no endpoints available for {service}"));
            let at = Ep { node, instance: 0 };
            self.reply_to(at, client, req, call, dep, attempt, http, resp);
        }
    }

    /// An instance's answer (or a reset) reached the router: relay it to the client.
    pub(super) fn router_relay(&mut self, node: u32, packet: SyncPacket) {
        let req = match &packet {
            SyncPacket::Response { req, .. } | SyncPacket::Reset { req, .. } => *req,
            _ => return,
        };
        let Some(client) = self
            .sync
            .routers
            .get_mut(&node)
            .and_then(|r| r.pending.remove(&req))
        else {
            return;
        };
        self.send(Ep { node, instance: 0 }, client, Packet::Sync(packet));
    }

    // ----- registrar -----

    pub(super) fn probe_round(&mut self, node: u32) {
        let Some(reg) = self.sync.registrars.get_mut(&node) else {
            return;
        };
        let (period, threshold) = (reg.period_us, reg.threshold);
        let at = Ep { node, instance: 0 };
        let mut failed = Vec::new();
        let mut deregister = Vec::new();
        let mut probes = Vec::new();
        for t in &mut reg.targets {
            if t.outstanding.is_some() {
                t.failures += 1;
                failed.push((t.service, t.instance, t.failures));
                if t.failures >= threshold && !t.deregistered {
                    t.deregistered = true;
                    deregister.push((t.registry, t.service, t.instance));
                }
            }
            let id = self.sync.next_misc;
            self.sync.next_misc += 1;
            t.outstanding = Some(id);
            probes.push((t.service, t.instance, id));
        }
        for (service, instance, consecutive) in failed {
            if self.trace.enabled() {
                let what = TraceKind::ProbeFailed {
                    registrar: self.endpoint(at),
                    target: self.endpoint(Ep {
                        node: service,
                        instance,
                    }),
                    consecutive,
                };
                self.trace.push(self.now, what);
            }
        }
        for (registry, service, instance) in deregister {
            let name = format!(
                "deregister {}#{instance}",
                self.nodes[service as usize].name
            );
            let msg = self.sync_msg(MessageKind::Command, name, "registry", Value::Null);
            self.send(
                at,
                Ep {
                    node: registry,
                    instance: 0,
                },
                Packet::Sync(SyncPacket::Deregister {
                    msg,
                    service,
                    instance,
                }),
            );
        }
        for (service, instance, probe) in probes {
            let msg = self.sync_msg(
                MessageKind::Command,
                "GET /health".into(),
                "health",
                Value::Null,
            );
            self.send(
                at,
                Ep {
                    node: service,
                    instance,
                },
                Packet::Sync(SyncPacket::HealthCheck { msg, probe }),
            );
        }
        let next = self.now.plus_us(period);
        if next <= self.sync.horizon {
            let incarnation = self.inst(at).incarnation;
            self.schedule(next, Event::Sync(SyncEvent::Probe { node, incarnation }));
        }
    }

    pub(super) fn probe_ok(&mut self, node: u32, from: Ep, probe: u64) {
        let Some(reg) = self.sync.registrars.get_mut(&node) else {
            return;
        };
        let Some(t) = reg.targets.iter_mut().find(|t| {
            t.service == from.node && t.instance == from.instance && t.outstanding == Some(probe)
        }) else {
            return;
        };
        t.outstanding = None;
        t.failures = 0;
        t.deregistered = false;
        let registry = t.registry;
        self.send_register(Ep { node, instance: 0 }, registry, from.node, from.instance);
    }

    // ----- crash, restart -----

    pub(super) fn discovery_crash(&mut self, ep: Ep) {
        if let Some(r) = self.sync.registries.get_mut(&ep.node) {
            r.entries.clear();
        }
        if let Some(r) = self.sync.routers.get_mut(&ep.node) {
            r.pending.clear();
            r.parked.clear();
            r.cache = Cache::default();
        }
        if let Some(r) = self.sync.registrars.get_mut(&ep.node) {
            for t in &mut r.targets {
                t.outstanding = None;
                t.failures = 0;
                t.deregistered = false;
            }
        }
    }

    pub(super) fn discovery_restart(&mut self, ep: Ep) {
        let incarnation = self.inst(ep).incarnation;
        if self.sync.registrars.contains_key(&ep.node) {
            self.schedule(
                self.now,
                Event::Sync(SyncEvent::Probe {
                    node: ep.node,
                    incarnation,
                }),
            );
        }
        let self_reg = self
            .scenario
            .registration_of(&self.scenario.nodes[ep.node as usize].name)
            .is_some_and(|r| r.mode == RegistrationMode::SelfRegistration);
        if self_reg {
            self.schedule(
                self.now,
                Event::Sync(SyncEvent::Heartbeat {
                    node: ep.node,
                    instance: ep.instance,
                    incarnation,
                }),
            );
        }
    }

    // ----- views -----

    pub(super) fn sync_registry_views(&self) -> Vec<RegistryView> {
        self.sync
            .registries
            .iter()
            .map(|(&node, r)| RegistryView {
                node: self.node_name(node).to_string(),
                entries: r
                    .entries
                    .iter()
                    .map(|(&(s, i), e)| RegistryEntryView {
                        service: self.node_name(s).to_string(),
                        info: e.info.clone(),
                        registered_at: e.registered_at,
                        renewed_at: e.renewed_at,
                        expires_at: e.expires_at,
                        registered_by: self.endpoint(e.by).to_string(),
                        actual: self.nodes[s as usize].instances[i as usize].status(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub(super) fn sync_router_views(&self) -> Vec<RouterView> {
        self.sync
            .routers
            .iter()
            .map(|(&node, r)| {
                let endpoints = if r.registry.is_some() {
                    r.cache.view(r.ttl_us)
                } else {
                    CacheView {
                        instances: (0..self.nodes[r.service as usize].instances.len() as u32)
                            .map(|i| self.instance_info(r.service, i))
                            .collect(),
                        fetched_at: None,
                        expires_at: None,
                        refreshing: false,
                        waiting: 0,
                    }
                };
                RouterView {
                    node: self.node_name(node).to_string(),
                    service: self.node_name(r.service).to_string(),
                    endpoints,
                    pending: r.pending.len() as u32,
                    routed: r.routed,
                }
            })
            .collect()
    }
}
