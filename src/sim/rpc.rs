//! Remote procedure invocation over REST, the client side: business logic -> proxy interface ->
//! RPI proxy with its Resilience4j policies -> network, and the reply back; retries (client and
//! application), fallback, per-proxy metrics, circuit-breaker transitions and timers.
//!
//! One logical call ([`Call`]) goes through, per attempt, the layers of
//! [`crate::resilience::DECORATOR_ORDER`]: Retry (a [`RetryState`] per proxy invocation),
//! CircuitBreaker (`try_acquire_permission` → `on_result` with the attempt's outcome and
//! duration as seen from that layer), RateLimiter (`acquire`: wait or reject), TimeLimiter (a
//! deadline event; `cancelRunningFuture` frees the request's bulkhead slot at once, otherwise the
//! slot stays taken until the request ends), Bulkhead (`try_enter` → slot, wait or reject; the
//! slot is returned when the upstream request ends, however it ends). Then discovery picks the
//! target and the HTTP request goes on the wire; an HTTP read timeout (`http_timeout_ms`) bounds
//! every request.

use super::*;
use crate::message::MessageKind;
use crate::resilience::bulkhead::Admission;
use crate::resilience::circuit_breaker::{CircuitBreakerState, Permit, Transition};
use crate::resilience::rate_limiter::Acquisition;
use crate::resilience::retry::RetryDecision;
use crate::resilience::{
    Bulkhead, CircuitBreaker, DecoratorLayer, Outcome, Policies, RateLimiter, Retry, RetryConfig,
    RetryState, TimeLimiter,
};
use crate::sync::bounds as sb;
use crate::sync::error_kinds as ek;
use crate::sync::http::{substitute, substitute_str};
use crate::sync::{
    ClientMetrics, DiscoverySpec, HttpRequest, HttpResponse, InstanceInfo, LoadBalancer, RetryLayer,
};
use serde_json::Value;

pub(super) use super::discovery::{Cache, CacheOwner, Registrar, Registry, Router};
pub(super) use super::rest::Server;

/// Events of synchronous communication (one variant of the engine's event enum).
#[derive(Clone, Debug)]
pub(super) enum SyncEvent {
    /// A call workload's tick `n`.
    CallTick { wl: u32, n: u64 },
    /// A rate-limiter wait is over: the attempt goes on.
    LimiterGo { call: u64, key: u32 },
    /// A bulkhead waiter's deadline.
    BulkheadTimeout { call: u64, key: u32 },
    /// A bulkhead slot was handed to a waiting attempt: it goes on.
    SlotGranted { call: u64, key: u32 },
    /// The time limiter's deadline. `yielded`: already re-queued once at the same instant so
    /// that a response arriving at exactly the deadline is handled first.
    TimeLimit { call: u64, key: u32, yielded: bool },
    /// A client retry's backoff is over.
    RetryGo { call: u64, key: u32 },
    /// An application retry's backoff is over.
    AppRetryGo { call: u64, app_attempt: u32 },
    /// The HTTP read timeout of an upstream request.
    HttpTimeout { req: u64 },
    /// A server worker finished a request's service time.
    ServeDone {
        node: u32,
        instance: u32,
        incarnation: u32,
        sid: u64,
    },
    /// A circuit breaker's timer (automatic OPEN -> HALF_OPEN, max wait in HALF_OPEN).
    BreakerTimer {
        dep: u32,
        instance: u32,
        incarnation: u32,
        at: u64,
    },
    /// A registry lookup went unanswered.
    LookupTimeout { owner: CacheOwner, lookup: u64 },
    /// Self-registration: renew the lease.
    Heartbeat {
        node: u32,
        instance: u32,
        incarnation: u32,
    },
    /// A registrar's probe round.
    Probe { node: u32, incarnation: u32 },
    /// A registry lease may have expired.
    Expire {
        registry: u32,
        service: u32,
        instance: u32,
        at: SimTime,
    },
    /// A router forgets a forwarded request.
    RouterTimeout {
        router: u32,
        req: u64,
        incarnation: u32,
    },
}

/// Packets of synchronous communication (one variant of the engine's packet enum). Every
/// packet carries a [`Message`] so that the network, the trace and the snapshot handle it as
/// any other.
#[derive(Clone, Debug)]
pub(super) enum SyncPacket {
    Request {
        msg: Arc<Message>,
        req: u64,
        call: u64,
        dep: u32,
        attempt: u32,
        http: Arc<HttpRequest>,
    },
    Response {
        msg: Arc<Message>,
        req: u64,
        call: u64,
        dep: u32,
        attempt: u32,
        request: Arc<HttpRequest>,
        http: Arc<HttpResponse>,
    },
    Reset {
        msg: Arc<Message>,
        req: u64,
        call: u64,
        dep: u32,
        attempt: u32,
        request: Arc<HttpRequest>,
    },
    Register {
        msg: Arc<Message>,
        service: u32,
        instance: u32,
        ttl_us: u64,
        info: Arc<InstanceInfo>,
    },
    Deregister {
        msg: Arc<Message>,
        service: u32,
        instance: u32,
    },
    Lookup {
        msg: Arc<Message>,
        owner: CacheOwner,
        lookup: u64,
        service: u32,
    },
    LookupReply {
        msg: Arc<Message>,
        owner: CacheOwner,
        lookup: u64,
        instances: Arc<Vec<InstanceInfo>>,
    },
    HealthCheck {
        msg: Arc<Message>,
        probe: u64,
    },
    HealthOk {
        msg: Arc<Message>,
        probe: u64,
    },
}

impl SyncPacket {
    pub(super) fn kind(&self) -> PacketKind {
        match self {
            SyncPacket::Request { .. } => PacketKind::HttpRequest,
            SyncPacket::Response { .. } => PacketKind::HttpResponse,
            SyncPacket::Reset { .. } => PacketKind::Reset,
            SyncPacket::Register { .. } => PacketKind::Register,
            SyncPacket::Deregister { .. } => PacketKind::Deregister,
            SyncPacket::Lookup { .. } => PacketKind::Lookup,
            SyncPacket::LookupReply { .. } => PacketKind::LookupReply,
            SyncPacket::HealthCheck { .. } => PacketKind::HealthCheck,
            SyncPacket::HealthOk { .. } => PacketKind::HealthOk,
        }
    }

    pub(super) fn msg(&self) -> &Arc<Message> {
        match self {
            SyncPacket::Request { msg, .. }
            | SyncPacket::Response { msg, .. }
            | SyncPacket::Reset { msg, .. }
            | SyncPacket::Register { msg, .. }
            | SyncPacket::Deregister { msg, .. }
            | SyncPacket::Lookup { msg, .. }
            | SyncPacket::LookupReply { msg, .. }
            | SyncPacket::HealthCheck { msg, .. }
            | SyncPacket::HealthOk { msg, .. } => msg,
        }
    }

    pub(super) fn attempt(&self) -> u32 {
        match self {
            SyncPacket::Request { attempt, .. }
            | SyncPacket::Response { attempt, .. }
            | SyncPacket::Reset { attempt, .. } => *attempt,
            _ => 1,
        }
    }

    /// The `kind` string of a [`TransitView`].
    pub(super) fn kind_str(&self) -> &'static str {
        match self {
            SyncPacket::Request { .. } => "request",
            SyncPacket::Response { .. } => "response",
            SyncPacket::Reset { .. } => "reset",
            SyncPacket::Register { .. }
            | SyncPacket::Deregister { .. }
            | SyncPacket::Lookup { .. }
            | SyncPacket::LookupReply { .. } => "registry",
            SyncPacket::HealthCheck { .. } | SyncPacket::HealthOk { .. } => "health",
        }
    }

    pub(super) fn http_view(&self) -> Option<crate::sync::HttpView> {
        match self {
            SyncPacket::Request {
                req, call, http, ..
            } => Some(crate::sync::HttpView {
                request_id: *req,
                call: *call,
                method: http.method,
                path: http.path.clone(),
                status: None,
                body: http.body.clone(),
            }),
            SyncPacket::Response {
                req,
                call,
                request,
                http,
                ..
            } => Some(crate::sync::HttpView {
                request_id: *req,
                call: *call,
                method: request.method,
                path: request.path.clone(),
                status: Some(http.status),
                body: http.body.clone(),
            }),
            SyncPacket::Reset {
                req, call, request, ..
            } => Some(crate::sync::HttpView {
                request_id: *req,
                call: *call,
                method: request.method,
                path: request.path.clone(),
                status: None,
                body: Value::Null,
            }),
            _ => None,
        }
    }
}

/// How a dependency finds its target.
#[derive(Clone, Copy, Debug)]
pub(super) enum Disc {
    Direct,
    Client {
        registry: u32,
        lb: LoadBalancer,
        ttl_us: u64,
    },
    Router {
        router: u32,
    },
}

/// A client -> service dependency, resolved.
#[derive(Clone, Debug)]
pub(super) struct Dep {
    pub(super) from: u32,
    pub(super) to: u32,
    pub(super) policies: Policies,
    pub(super) fallback: Option<Arc<HttpResponse>>,
    pub(super) discovery: Disc,
    pub(super) http_timeout_us: u64,
}

/// One client instance's proxy for one dependency: its policy instances (one per JVM, as
/// Resilience4j registries are per application), discovery cache and counters.
#[derive(Clone, Debug)]
pub(super) struct Proxy {
    pub(super) cb: Option<CircuitBreaker>,
    pub(super) bh: Option<Bulkhead>,
    pub(super) rl: Option<RateLimiter>,
    pub(super) tl: Option<TimeLimiter>,
    pub(super) retry: Option<Retry>,
    pub(super) retry_rng: SimRng,
    pub(super) lb_rng: SimRng,
    pub(super) rr: u32,
    pub(super) cache: Cache,
    pub(super) metrics: ClientMetrics,
    pub(super) outstanding: u32,
    timer_at: Option<u64>,
    seen_transitions: u64,
}

/// Where a logical call came from, and where its result goes.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    /// Step `step` of tick `n` of call workload `wl`, with the variables of the operation.
    Workload {
        wl: u32,
        n: u64,
        step: u32,
        vars: BTreeMap<String, Value>,
    },
    /// Downstream call `index` of server request `sid` on instance (`node`, `instance`).
    Handler {
        node: u32,
        instance: u32,
        sid: u64,
        index: u32,
    },
}

/// What an attempt or call is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    Start,
    Limiter(SimTime),
    Bulkhead(SimTime),
    Granted,
    Discovery,
    InFlight,
    Backoff(SimTime),
    AppBackoff(SimTime),
}

/// A logical call: one blocking invocation of the proxy interface by business logic.
#[derive(Clone, Debug)]
pub(super) struct Call {
    pub(super) client: Ep,
    pub(super) dep: u32,
    pub(super) operation: Arc<str>,
    pub(super) request: Arc<HttpRequest>,
    pub(super) origin: Origin,
    pub(super) started_at: SimTime,
    app_retry: Option<RetryState>,
    pub(super) app_attempt: u32,
    retry: Option<RetryState>,
    pub(super) attempt: u32,
    /// Attempts in all layers so far: identifies the current attempt in events.
    pub(super) key: u32,
    pub(super) upstream: u32,
    pub(super) stage: Stage,
    permit: Option<Permit>,
    attempt_start: SimTime,
    tl_deadline: Option<SimTime>,
    /// The attempt holds a bulkhead slot not yet handed to an upstream request.
    pub(super) holds_slot: bool,
    pub(super) req: Option<u64>,
}

/// An upstream HTTP request in flight.
#[derive(Clone, Debug)]
pub(super) struct Req {
    pub(super) call: u64,
    pub(super) key: u32,
    pub(super) client: Ep,
    pub(super) dep: u32,
    pub(super) holds_slot: bool,
}

/// Runtime state of a call workload.
#[derive(Clone, Debug)]
pub(super) struct CallWl {
    pub(super) from: u32,
    pub(super) dep: u32,
    pub(super) rng: SimRng,
    pub(super) app_rng: SimRng,
    pub(super) app_retry: Option<Retry>,
    pub(super) next_instance: u32,
}

/// Everything synchronous communication keeps; empty for scenarios without it.
#[derive(Clone, Debug, Default)]
pub(super) struct SyncState {
    pub(super) deps: Vec<Dep>,
    pub(super) dep_index: BTreeMap<(u32, u32), u32>,
    pub(super) proxies: Vec<Vec<Proxy>>,
    pub(super) calls: BTreeMap<u64, Call>,
    pub(super) reqs: BTreeMap<u64, Req>,
    pub(super) next_call: u64,
    pub(super) next_req: u64,
    pub(super) next_misc: u64,
    pub(super) workloads: Vec<CallWl>,
    pub(super) servers: Vec<Server>,
    pub(super) blocked: Vec<Vec<u32>>,
    pub(super) registries: BTreeMap<u32, Registry>,
    pub(super) routers: BTreeMap<u32, Router>,
    pub(super) registrars: BTreeMap<u32, Registrar>,
    pub(super) horizon: SimTime,
    /// While the simulation is being built (its fault schedule checked): commands are checked
    /// against the scenario only, not against the state at time zero.
    pub(super) building: bool,
}

/// Why an attempt failed.
#[derive(Clone, Debug)]
pub(super) enum Fail {
    Breaker,
    Limiter,
    Bulkhead,
    Timeout,
    SocketTimeout,
    Refused,
    NoInstance,
    PoolExhausted,
    Status(Arc<HttpResponse>),
}

impl Fail {
    fn kind(&self) -> &'static str {
        match self {
            Fail::Breaker => ek::CALL_NOT_PERMITTED,
            Fail::Limiter => ek::REQUEST_NOT_PERMITTED,
            Fail::Bulkhead => ek::BULKHEAD_FULL,
            Fail::Timeout => ek::TIMEOUT,
            Fail::SocketTimeout => ek::SOCKET_TIMEOUT,
            Fail::Refused => ek::CONNECT,
            Fail::NoInstance => ek::NO_INSTANCES,
            Fail::PoolExhausted => ek::POOL_EXHAUSTED,
            Fail::Status(r) if r.status >= 500 => ek::HTTP_SERVER_ERROR,
            Fail::Status(_) => ek::HTTP_CLIENT_ERROR,
        }
    }

    /// The kind the resilience policies see: as [`Fail::kind`], but a status gives Spring's
    /// nested exception of that status (`HttpClientErrorException.NotFound`,
    /// [`ek::for_status`]), which a listed parent still matches. Traces keep the parent name.
    fn policy_kind(&self) -> &'static str {
        match self {
            Fail::Status(r) => ek::for_status(r.status).unwrap_or_else(|| self.kind()),
            f => f.kind(),
        }
    }
}

/// msgsim's retriable-only rule: a retry config without `retryExceptions` retries
/// [`ek::RETRIABLE`] only.
fn effective_retry(c: &RetryConfig) -> RetryConfig {
    let mut c = c.clone();
    if c.retry_exceptions.is_empty() {
        c.retry_exceptions = ek::RETRIABLE.iter().map(|k| k.to_string()).collect();
    }
    c
}

impl Proxy {
    fn new(p: &Policies, seed: u64, dep: u32, instance: u32, now_us: u64) -> Proxy {
        let k = 64 * dep as u64 + instance as u64;
        let mut proxy = Proxy {
            cb: None,
            bh: None,
            rl: None,
            tl: None,
            retry: None,
            retry_rng: SimRng::new(seed, stream::PROXY_RETRY_BASE + k),
            lb_rng: SimRng::new(seed, stream::PROXY_LB_BASE + k),
            rr: 0,
            cache: Cache::default(),
            metrics: ClientMetrics::default(),
            outstanding: 0,
            timer_at: None,
            seen_transitions: 0,
        };
        proxy.fresh(p, now_us);
        proxy
    }

    /// The retry of `p` from now on (calls already started keep theirs).
    pub(super) fn set_retry(&mut self, p: &Policies) {
        self.retry = p
            .retry
            .as_ref()
            .and_then(|c| Retry::new(effective_retry(c)).ok());
    }

    /// The rate limiter of `p` from now on: a new limiter whose first cycle starts at `now_us`
    /// (attempts already waiting keep the time they reserved).
    pub(super) fn set_rate_limiter(&mut self, p: &Policies, now_us: u64) {
        self.rl = p
            .rate_limiter
            .clone()
            .and_then(|c| RateLimiter::new(c, now_us).ok());
    }

    /// The time limiter of `p` from now on (attempts already started keep their deadline).
    pub(super) fn set_time_limiter(&mut self, p: &Policies) {
        self.tl = p
            .time_limiter
            .clone()
            .and_then(|c| TimeLimiter::new(c).ok());
    }

    /// New policy instances (a fresh JVM): validated configs, so construction cannot fail.
    fn fresh(&mut self, p: &Policies, now_us: u64) {
        self.cb = p
            .circuit_breaker
            .clone()
            .and_then(|c| CircuitBreaker::new(c).ok());
        self.bh = p.bulkhead.clone().and_then(|c| Bulkhead::new(c).ok());
        self.rl = p
            .rate_limiter
            .clone()
            .and_then(|c| RateLimiter::new(c, now_us).ok());
        self.tl = p
            .time_limiter
            .clone()
            .and_then(|c| TimeLimiter::new(c).ok());
        self.retry = p
            .retry
            .as_ref()
            .and_then(|c| Retry::new(effective_retry(c)).ok());
        self.cache = Cache::default();
        self.rr = 0;
        self.outstanding = 0;
        self.timer_at = None;
        self.seen_transitions = 0;
    }
}

impl Simulation {
    // ----- set-up -----

    /// Builds the synchronous state from the (validated) scenario: dependencies, proxies,
    /// servers, call workloads. Schedules nothing and draws nothing (see [`Self::sync_init`]).
    pub(super) fn sync_build(&mut self) {
        let scenario = Arc::clone(&self.scenario);
        let idx = |name: &str| scenario.node_index(name).unwrap_or(0) as u32;
        let seed = self.seed;
        let st = &mut self.sync;
        st.horizon = SimTime::from_ms(scenario.horizon_ms.unwrap_or(60_000));
        st.building = true;
        st.next_call = 1;
        st.next_req = 1;
        st.next_misc = 1;
        st.blocked = scenario
            .nodes
            .iter()
            .map(|n| vec![0; n.instances as usize])
            .collect();
        // Declared dependencies, then the implicit (direct, no policy) ones calls need.
        let mut specs: Vec<crate::sync::DependencySpec> = scenario.dependencies.clone();
        let mut implicit = |from: &str, to: &str| {
            if !specs.iter().any(|d| d.from == from && d.to == to) {
                specs.push(crate::sync::DependencySpec {
                    from: from.to_string(),
                    to: to.to_string(),
                    policies: Policies::default(),
                    fallback: None,
                    discovery: DiscoverySpec::Direct,
                    http_timeout_ms: 10_000,
                });
            }
        };
        for w in &scenario.calls {
            implicit(&w.from, &w.to);
        }
        for api in &scenario.apis {
            for e in &api.endpoints {
                for d in &e.downstream {
                    implicit(&api.service, &d.to);
                }
            }
        }
        for (i, d) in specs.iter().enumerate() {
            let (from, to) = (idx(&d.from), idx(&d.to));
            st.dep_index.insert((from, to), i as u32);
            let discovery = match &d.discovery {
                DiscoverySpec::Direct => Disc::Direct,
                DiscoverySpec::Client {
                    registry,
                    load_balancer,
                    cache_ttl_ms,
                } => Disc::Client {
                    registry: idx(registry),
                    lb: *load_balancer,
                    ttl_us: crate::time::ms_to_us(*cache_ttl_ms),
                },
                DiscoverySpec::Router { router } => Disc::Router {
                    router: idx(router),
                },
            };
            st.deps.push(Dep {
                from,
                to,
                policies: d.policies.clone(),
                fallback: d.fallback.as_ref().map(|f| {
                    Arc::new(HttpResponse {
                        status: f.status,
                        body: f.body.clone(),
                    })
                }),
                discovery,
                http_timeout_us: crate::time::ms_to_us(d.http_timeout_ms),
            });
            let instances = scenario.nodes[from as usize].instances;
            st.proxies.push(
                (0..instances)
                    .map(|k| Proxy::new(&d.policies, seed, i as u32, k, 0))
                    .collect(),
            );
        }
        for (w, spec) in scenario.calls.iter().enumerate() {
            let from = idx(&spec.from);
            let dep = st.dep_index[&(from, idx(&spec.to))];
            st.workloads.push(CallWl {
                from,
                dep,
                rng: SimRng::new(seed, stream::CALL_WORKLOAD_BASE + w as u64),
                app_rng: SimRng::new(seed, stream::APP_RETRY_BASE + w as u64),
                app_retry: spec
                    .app_retry
                    .as_ref()
                    .and_then(|c| Retry::new(effective_retry(c)).ok()),
                next_instance: 0,
            });
        }
        st.servers = scenario
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| Server::new(scenario.api_of(&n.name), n.instances, seed, i as u32))
            .collect();
        self.discovery_build();
    }

    /// Schedules the first call ticks, heartbeats and probes (after the engine's own initial
    /// events, so existing scenarios keep their event order).
    pub(super) fn sync_init(&mut self) {
        self.sync.building = false;
        let scenario = Arc::clone(&self.scenario);
        self.discovery_init();
        for (w, spec) in scenario.calls.iter().enumerate() {
            if spec.count > 0 {
                self.schedule(
                    SimTime::from_ms(spec.start_ms),
                    Event::Sync(SyncEvent::CallTick { wl: w as u32, n: 1 }),
                );
            }
        }
    }

    pub(super) fn sync_msg(
        &mut self,
        kind: MessageKind,
        type_name: String,
        channel: &str,
        payload: Value,
    ) -> Arc<Message> {
        let id = self.next_message_id();
        Arc::new(Message {
            encoded: None,
            id,
            kind,
            type_name: type_name.into(),
            channel: channel.into(),
            headers: Headers {
                schema_id: None,
                message_id: id,
                correlation_id: None,
                reply_to: None,
                key: None,
            },
            payload: payload.into(),
        })
    }

    pub(super) fn node_name(&self, node: u32) -> Arc<str> {
        Arc::clone(&self.nodes[node as usize].name)
    }

    // ----- events -----

    /// The instance an event belongs to (it waits while that instance is paused and is void
    /// once it crashed), and the incarnation it was scheduled for, if it carries one.
    fn sync_event_owner(&self, e: &SyncEvent) -> Option<(Ep, Option<u32>)> {
        let call_owner = |c: &u64| self.sync.calls.get(c).map(|c| (c.client, None));
        match e {
            SyncEvent::CallTick { .. } => None,
            SyncEvent::LimiterGo { call, .. }
            | SyncEvent::BulkheadTimeout { call, .. }
            | SyncEvent::SlotGranted { call, .. }
            | SyncEvent::TimeLimit { call, .. }
            | SyncEvent::RetryGo { call, .. }
            | SyncEvent::AppRetryGo { call, .. } => call_owner(call),
            SyncEvent::HttpTimeout { req } => self.sync.reqs.get(req).map(|r| (r.client, None)),
            SyncEvent::ServeDone {
                node,
                instance,
                incarnation,
                ..
            }
            | SyncEvent::Heartbeat {
                node,
                instance,
                incarnation,
            } => Some((
                Ep {
                    node: *node,
                    instance: *instance,
                },
                Some(*incarnation),
            )),
            SyncEvent::BreakerTimer {
                dep,
                instance,
                incarnation,
                ..
            } => Some((
                Ep {
                    node: self.sync.deps[*dep as usize].from,
                    instance: *instance,
                },
                Some(*incarnation),
            )),
            SyncEvent::LookupTimeout { owner, .. } => Some((self.cache_owner_ep(*owner), None)),
            SyncEvent::Probe { node, incarnation } => Some((
                Ep {
                    node: *node,
                    instance: 0,
                },
                Some(*incarnation),
            )),
            SyncEvent::Expire { registry, .. } => Some((
                Ep {
                    node: *registry,
                    instance: 0,
                },
                None,
            )),
            SyncEvent::RouterTimeout {
                router,
                incarnation,
                ..
            } => Some((
                Ep {
                    node: *router,
                    instance: 0,
                },
                Some(*incarnation),
            )),
        }
    }

    pub(super) fn sync_event(&mut self, e: SyncEvent) {
        if let Some((ep, incarnation)) = self.sync_event_owner(&e) {
            if !self.gate(ep, incarnation, || Event::Sync(e.clone())) {
                return;
            }
        }
        match e {
            SyncEvent::CallTick { wl, n } => self.call_tick(wl, n),
            SyncEvent::LimiterGo { call, key } => {
                if self.current(call, key, |s| matches!(s, Stage::Limiter(_))) {
                    self.after_limiter(call);
                }
            }
            SyncEvent::BulkheadTimeout { call, key } => self.bulkhead_timeout(call, key),
            SyncEvent::SlotGranted { call, key } => {
                if self.current(call, key, |s| s == Stage::Granted) {
                    self.rpc_dispatch(call);
                }
            }
            SyncEvent::TimeLimit { call, key, yielded } => {
                if !yielded {
                    // Let everything already due at this instant (a response arriving at exactly
                    // the deadline) happen first: a completion at the deadline counts.
                    self.schedule(
                        self.now,
                        Event::Sync(SyncEvent::TimeLimit {
                            call,
                            key,
                            yielded: true,
                        }),
                    );
                } else {
                    self.time_limit(call, key);
                }
            }
            SyncEvent::RetryGo { call, key } => {
                if self.current(call, key, |s| matches!(s, Stage::Backoff(_))) {
                    self.attempt_begin(call);
                }
            }
            SyncEvent::AppRetryGo { call, app_attempt } => {
                let ok = self.sync.calls.get(&call).is_some_and(|c| {
                    c.app_attempt == app_attempt && matches!(c.stage, Stage::AppBackoff(_))
                });
                if ok {
                    self.proxy_invoke(call);
                }
            }
            SyncEvent::HttpTimeout { req } => self.http_timeout(req),
            SyncEvent::ServeDone {
                node,
                instance,
                sid,
                ..
            } => self.serve_done(Ep { node, instance }, sid),
            SyncEvent::BreakerTimer {
                dep, instance, at, ..
            } => {
                let p = &mut self.sync.proxies[dep as usize][instance as usize];
                if p.timer_at == Some(at) {
                    p.timer_at = None;
                    let now = self.now.as_us();
                    if let Some(cb) = p.cb.as_mut() {
                        cb.on_timer(now);
                    }
                    self.breaker_sync(dep, instance);
                }
            }
            SyncEvent::LookupTimeout { owner, lookup } => self.lookup_timeout(owner, lookup),
            SyncEvent::Heartbeat { node, instance, .. } => {
                self.heartbeat(Ep { node, instance });
            }
            SyncEvent::Probe { node, .. } => self.probe_round(node),
            SyncEvent::Expire {
                registry,
                service,
                instance,
                at,
            } => self.expire(registry, service, instance, at),
            SyncEvent::RouterTimeout { router, req, .. } => {
                if let Some(r) = self.sync.routers.get_mut(&router) {
                    r.pending.remove(&req);
                }
            }
        }
    }

    fn current(&self, call: u64, key: u32, stage: impl Fn(Stage) -> bool) -> bool {
        self.sync
            .calls
            .get(&call)
            .is_some_and(|c| c.key == key && stage(c.stage))
    }

    // ----- receiving -----

    pub(super) fn sync_receive(&mut self, from: Ep, to: Ep, p: SyncPacket) {
        let kind = self.nodes[to.node as usize].kind;
        match p {
            SyncPacket::Request { .. } if kind == NodeKind::Router => {
                self.router_request(to.node, from, p)
            }
            SyncPacket::Request {
                msg: _,
                req,
                call,
                dep,
                attempt,
                http,
            } => self.server_receive(to, from, req, call, dep, attempt, http),
            SyncPacket::Response { .. } | SyncPacket::Reset { .. } if kind == NodeKind::Router => {
                self.router_relay(to.node, p)
            }
            SyncPacket::Response { req, dep, http, .. } => {
                self.client_answer(to, req, dep, Some(http))
            }
            SyncPacket::Reset { req, dep, .. } => self.client_answer(to, req, dep, None),
            SyncPacket::Register {
                service,
                instance,
                ttl_us,
                info,
                ..
            } => self.registry_register(to.node, from, service, instance, ttl_us, info),
            SyncPacket::Deregister {
                service, instance, ..
            } => self.registry_deregister(to.node, from, service, instance),
            SyncPacket::Lookup {
                owner,
                lookup,
                service,
                ..
            } => self.registry_lookup(to.node, from, owner, lookup, service),
            SyncPacket::LookupReply {
                owner,
                lookup,
                instances,
                ..
            } => self.lookup_reply(owner, lookup, instances),
            SyncPacket::HealthCheck { probe, .. } => {
                let msg = self.sync_msg(
                    MessageKind::Reply,
                    "health ok".into(),
                    "health",
                    Value::Null,
                );
                self.send(to, from, Packet::Sync(SyncPacket::HealthOk { msg, probe }));
            }
            SyncPacket::HealthOk { probe, .. } => self.probe_ok(to.node, from, probe),
        }
    }

    /// A packet reached an instance that is down: an HTTP request is refused by its host (TCP
    /// reset back to the sender); the server counts it.
    pub(super) fn sync_on_node_down(&mut self, t: &Transit) {
        if let Packet::Sync(SyncPacket::Request {
            req,
            call,
            dep,
            attempt,
            http,
            ..
        }) = &t.packet
        {
            if let Some(s) = self.sync.servers.get_mut(t.to.node as usize) {
                s.metrics.refused += 1;
            }
            let channel = self.node_name(t.to.node);
            let msg = self.sync_msg(MessageKind::Reply, "RST".into(), &channel, Value::Null);
            let p = SyncPacket::Reset {
                msg,
                req: *req,
                call: *call,
                dep: *dep,
                attempt: *attempt,
                request: Arc::clone(http),
            };
            self.send(t.to, t.from, Packet::Sync(p));
        }
    }

    // ----- call workloads and business operations -----

    fn call_tick(&mut self, w: u32, n: u64) {
        let scenario = Arc::clone(&self.scenario);
        let spec = &scenario.calls[w as usize];
        let wl = &self.sync.workloads[w as usize];
        let (node, dep) = (wl.from, wl.dep);
        let count = self.nodes[node as usize].instances.len() as u32;
        let start = wl.next_instance;
        let chosen = (0..count).map(|k| (start + k) % count).find(|&i| {
            let inst = &self.nodes[node as usize].instances[i as usize];
            inst.up && !inst.paused
        });
        match chosen {
            Some(i)
                if self.sync.blocked[node as usize][i as usize] < sb::MAX_CALLS_PER_INSTANCE
                    && self.sync.calls.len() < sb::MAX_CALLS =>
            {
                self.sync.workloads[w as usize].next_instance = (i + 1) % count;
                let vars: BTreeMap<String, Value> = [("n".to_string(), Value::from(n))].into();
                self.op_step(Ep { node, instance: i }, w, n, 0, vars);
            }
            other => {
                let i = other.unwrap_or(start % count.max(1));
                self.sync.proxies[dep as usize][i as usize].metrics.shed += 1;
                if other.is_none() && self.trace.enabled() {
                    let node = self.node_name(node);
                    self.trace.push(self.now, TraceKind::Skipped { node });
                }
            }
        }
        if n < spec.count {
            let wl = &mut self.sync.workloads[w as usize];
            let delay = wl.rng.jittered_ms(spec.every_ms, spec.jitter_ms).max(1);
            self.schedule(
                self.now.plus_us(delay),
                Event::Sync(SyncEvent::CallTick { wl: w, n: n + 1 }),
            );
        }
    }

    /// Starts step `step` of a business operation.
    fn op_step(&mut self, client: Ep, w: u32, n: u64, step: u32, vars: BTreeMap<String, Value>) {
        let scenario = Arc::clone(&self.scenario);
        let Some(spec) = scenario.calls[w as usize].steps.get(step as usize) else {
            return;
        };
        let dep = self.sync.workloads[w as usize].dep;
        let path = match &spec.follow {
            Some(rel) => {
                let href = vars
                    .get("_links")
                    .and_then(|l| l.get(rel))
                    .and_then(|l| l.get("href"))
                    .and_then(Value::as_str);
                match href {
                    // A query in `path` is appended to the link (`?expand=consumer`).
                    Some(h) => format!("{h}{}", substitute_str(&spec.path, &vars)),
                    None => {
                        if self.trace.enabled() {
                            let what = TraceKind::CallSkipped {
                                at: self.endpoint(client),
                                service: self.node_name(self.sync.deps[dep as usize].to),
                                rel: Arc::from(rel.as_str()),
                            };
                            self.trace.push(self.now, what);
                        }
                        return;
                    }
                }
            }
            None => substitute_str(&spec.path, &vars),
        };
        let request = HttpRequest {
            method: spec.method,
            path,
            body: substitute(&spec.body, &vars),
        };
        let operation: Arc<str> = if spec.name.is_empty() {
            Arc::from(format!("{} {}", spec.method, spec.path).as_str())
        } else {
            Arc::from(spec.name.as_str())
        };
        let origin = Origin::Workload {
            wl: w,
            n,
            step,
            vars,
        };
        self.call_begin(client, dep, operation, request, origin);
    }

    /// A business operation's step ended: the next step starts with the response's fields as
    /// variables, or the operation ends (after a failure, or after the last step).
    fn op_continue(
        &mut self,
        client: Ep,
        w: u32,
        n: u64,
        step: u32,
        mut vars: BTreeMap<String, Value>,
        ok: Option<Arc<HttpResponse>>,
    ) {
        let Some(resp) = ok else {
            return;
        };
        vars.remove("_links");
        if let Value::Object(o) = &resp.body {
            for (k, v) in o {
                vars.insert(k.clone(), v.clone());
            }
        }
        let steps = self.scenario.calls[w as usize].steps.len() as u32;
        if step + 1 < steps {
            self.op_step(client, w, n, step + 1, vars);
        }
    }

    // ----- the proxy -----

    /// The business logic invokes the proxy interface. Returns the call id, or `None` when the
    /// run already has [`sb::MAX_CALLS`] calls in progress (nothing started).
    pub(super) fn call_begin(
        &mut self,
        client: Ep,
        dep: u32,
        operation: Arc<str>,
        request: HttpRequest,
        origin: Origin,
    ) -> Option<u64> {
        if self.sync.calls.len() >= sb::MAX_CALLS {
            self.sync.proxies[dep as usize][client.instance as usize]
                .metrics
                .shed += 1;
            return None;
        }
        let id = self.sync.next_call;
        self.sync.next_call += 1;
        let app_retry = match &origin {
            Origin::Workload { wl, .. } => self.sync.workloads[*wl as usize]
                .app_retry
                .as_ref()
                .map(Retry::start),
            Origin::Handler { .. } => None,
        };
        let request = Arc::new(request);
        self.sync.calls.insert(
            id,
            Call {
                client,
                dep,
                operation: Arc::clone(&operation),
                request: Arc::clone(&request),
                origin,
                started_at: self.now,
                app_retry,
                app_attempt: 0,
                retry: None,
                attempt: 0,
                key: 0,
                upstream: 0,
                stage: Stage::Start,
                permit: None,
                attempt_start: self.now,
                tl_deadline: None,
                holds_slot: false,
                req: None,
            },
        );
        let proxy = &mut self.sync.proxies[dep as usize][client.instance as usize];
        proxy.metrics.calls += 1;
        proxy.outstanding += 1;
        self.sync.blocked[client.node as usize][client.instance as usize] += 1;
        self.metrics.calls += 1;
        if self.trace.enabled() {
            let what = TraceKind::CallInvoke {
                at: self.endpoint(client),
                call: id,
                service: self.node_name(self.sync.deps[dep as usize].to),
                operation,
                request,
            };
            self.trace.push(self.now, what);
        }
        self.proxy_invoke(id);
        Some(id)
    }

    /// One invocation of the proxy (an application attempt): a fresh client retry state.
    fn proxy_invoke(&mut self, id: u64) {
        let Some(call) = self.sync.calls.get(&id) else {
            return;
        };
        let retry = self.sync.proxies[call.dep as usize][call.client.instance as usize]
            .retry
            .as_ref()
            .map(Retry::start);
        let call = self.sync.calls.get_mut(&id).expect("checked above");
        if call.app_retry.is_some() {
            call.app_attempt += 1;
        }
        call.retry = retry;
        call.attempt = 0;
        self.attempt_begin(id);
    }

    /// One attempt: CircuitBreaker, then RateLimiter.
    fn attempt_begin(&mut self, id: u64) {
        let now = self.now;
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        call.attempt += 1;
        call.key += 1;
        call.attempt_start = now;
        call.tl_deadline = None;
        call.req = None;
        call.stage = Stage::Start;
        let (dep, inst, key, attempt) = (call.dep, call.client.instance, call.key, call.attempt);
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        proxy.metrics.attempts += 1;
        if let Some(cb) = proxy.cb.as_mut() {
            match cb.try_acquire_permission(now.as_us()) {
                Ok(p) => {
                    if let Some(c) = self.sync.calls.get_mut(&id) {
                        c.permit = Some(p);
                    }
                    self.breaker_sync(dep, inst);
                }
                Err(_) => {
                    self.breaker_sync(dep, inst);
                    self.attempt_end(id, Err(Fail::Breaker));
                    return;
                }
            }
        }
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        if let Some(rl) = proxy.rl.as_mut() {
            match rl.acquire(now.as_us()) {
                Acquisition::Permitted => {}
                Acquisition::WaitUntil(t) => {
                    let until = SimTime(t);
                    if let Some(c) = self.sync.calls.get_mut(&id) {
                        c.stage = Stage::Limiter(until);
                    }
                    self.trace_wait(id, attempt, DecoratorLayer::RateLimiter, until);
                    self.schedule(until, Event::Sync(SyncEvent::LimiterGo { call: id, key }));
                    return;
                }
                Acquisition::Rejected => {
                    self.attempt_end(id, Err(Fail::Limiter));
                    return;
                }
            }
        }
        self.after_limiter(id);
    }

    fn trace_wait(&mut self, id: u64, attempt: u32, layer: DecoratorLayer, until: SimTime) {
        if self.trace.enabled() {
            let client = self.sync.calls[&id].client;
            let what = TraceKind::CallWait {
                at: self.endpoint(client),
                call: id,
                attempt,
                layer,
                until,
            };
            self.trace.push(self.now, what);
        }
    }

    /// TimeLimiter (the deadline starts now), then Bulkhead.
    fn after_limiter(&mut self, id: u64) {
        let now = self.now;
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        call.stage = Stage::Start;
        let (dep, inst, key, attempt) = (call.dep, call.client.instance, call.key, call.attempt);
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        if let Some(tl) = proxy.tl.as_ref() {
            let deadline = SimTime(tl.deadline_us(now.as_us()));
            call.tl_deadline = Some(deadline);
            self.schedule(
                deadline,
                Event::Sync(SyncEvent::TimeLimit {
                    call: id,
                    key,
                    yielded: false,
                }),
            );
        }
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        if let Some(bh) = proxy.bh.as_mut() {
            match bh.try_enter(now.as_us(), id) {
                Admission::Entered => {
                    if let Some(c) = self.sync.calls.get_mut(&id) {
                        c.holds_slot = true;
                    }
                }
                Admission::Waiting { deadline_us } => {
                    let until = SimTime(deadline_us);
                    if let Some(c) = self.sync.calls.get_mut(&id) {
                        c.stage = Stage::Bulkhead(until);
                    }
                    self.trace_wait(id, attempt, DecoratorLayer::Bulkhead, until);
                    self.schedule(
                        until,
                        Event::Sync(SyncEvent::BulkheadTimeout { call: id, key }),
                    );
                    return;
                }
                Admission::Rejected => {
                    self.attempt_end(id, Err(Fail::Bulkhead));
                    return;
                }
            }
        }
        self.rpc_dispatch(id);
    }

    fn bulkhead_timeout(&mut self, id: u64, key: u32) {
        if !self.current(id, key, |s| matches!(s, Stage::Bulkhead(_))) {
            return;
        }
        let (dep, inst) = {
            let c = &self.sync.calls[&id];
            (c.dep, c.client.instance)
        };
        let now = self.now.as_us();
        let removed = self.sync.proxies[dep as usize][inst as usize]
            .bh
            .as_mut()
            .is_some_and(|bh| bh.on_wait_timeout(now, id));
        if removed {
            self.attempt_end(id, Err(Fail::Bulkhead));
        }
    }

    /// A bulkhead slot comes back; the oldest live waiter gets it and goes on (at this instant,
    /// as its own event).
    pub(super) fn bulkhead_exit(&mut self, dep: u32, inst: u32) {
        let now = self.now.as_us();
        loop {
            let Some(bh) = self.sync.proxies[dep as usize][inst as usize].bh.as_mut() else {
                return;
            };
            let Some(waiter) = bh.on_exit(now) else {
                return;
            };
            match self.sync.calls.get_mut(&waiter) {
                Some(c) if matches!(c.stage, Stage::Bulkhead(_)) => {
                    c.holds_slot = true;
                    c.stage = Stage::Granted;
                    let key = c.key;
                    self.schedule(
                        self.now,
                        Event::Sync(SyncEvent::SlotGranted { call: waiter, key }),
                    );
                    return;
                }
                // A waiter that is gone gives the slot straight back.
                _ => continue,
            }
        }
    }

    /// The bulkhead of `dep`'s policies on client instance `inst` from now on
    /// (`Bulkhead.changeConfig`; added or removed): the waiters it lets in go on at this
    /// instant, each as its own event, as after [`Self::bulkhead_exit`].
    pub(super) fn change_bulkhead(&mut self, dep: u32, inst: u32) {
        let now = self.now.as_us();
        let config = self.sync.deps[dep as usize].policies.bulkhead.clone();
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        let granted = match (config, proxy.bh.as_mut()) {
            (Some(c), Some(bh)) => bh.change_config(c, now).unwrap_or_default(),
            (Some(c), None) => {
                proxy.bh = Bulkhead::new(c).ok();
                Vec::new()
            }
            (None, Some(bh)) => {
                let waiters = bh.drain_waiters();
                proxy.bh = None;
                waiters
            }
            (None, None) => Vec::new(),
        };
        for id in granted {
            if let Some(c) = self.sync.calls.get_mut(&id) {
                if matches!(c.stage, Stage::Bulkhead(_)) {
                    c.holds_slot = true;
                    c.stage = Stage::Granted;
                    let key = c.key;
                    self.schedule(
                        self.now,
                        Event::Sync(SyncEvent::SlotGranted { call: id, key }),
                    );
                }
            }
        }
    }

    /// Discovery picks the target; then the request goes out (or waits for a lookup).
    pub(super) fn rpc_dispatch(&mut self, id: u64) {
        let Some(call) = self.sync.calls.get(&id) else {
            return;
        };
        let (dep, inst) = (call.dep, call.client.instance);
        let d = &self.sync.deps[dep as usize];
        let to = d.to;
        match d.discovery {
            Disc::Direct => {
                let count = self.nodes[to as usize].instances.len() as u32;
                let p = &mut self.sync.proxies[dep as usize][inst as usize];
                let i = p.rr % count.max(1);
                p.rr = p.rr.wrapping_add(1);
                self.rpc_send(
                    id,
                    Ep {
                        node: to,
                        instance: i,
                    },
                );
            }
            Disc::Router { router } => self.rpc_send(
                id,
                Ep {
                    node: router,
                    instance: 0,
                },
            ),
            Disc::Client { .. } => match self.proxy_pick(dep, inst, id) {
                Pick::Ready(i) => self.rpc_send(
                    id,
                    Ep {
                        node: to,
                        instance: i,
                    },
                ),
                Pick::Wait => {
                    if let Some(c) = self.sync.calls.get_mut(&id) {
                        c.stage = Stage::Discovery;
                    }
                }
                Pick::None => self.discovery_failed(id),
            },
        }
    }

    /// No instance to call: the attempt fails (its bulkhead slot comes back).
    pub(super) fn discovery_failed(&mut self, id: u64) {
        let Some(c) = self.sync.calls.get_mut(&id) else {
            return;
        };
        let (dep, inst) = (c.dep, c.client.instance);
        if std::mem::take(&mut c.holds_slot) {
            self.bulkhead_exit(dep, inst);
        }
        self.attempt_end(id, Err(Fail::NoInstance));
    }

    /// The RPI proxy sends the attempt's HTTP request to `target`.
    pub(super) fn rpc_send(&mut self, id: u64, target: Ep) {
        if self.sync.reqs.len() >= sb::MAX_REQUESTS {
            if let Some(c) = self.sync.calls.get_mut(&id) {
                let (dep, inst) = (c.dep, c.client.instance);
                if std::mem::take(&mut c.holds_slot) {
                    self.bulkhead_exit(dep, inst);
                }
                self.attempt_end(id, Err(Fail::PoolExhausted));
            }
            return;
        }
        let req = self.sync.next_req;
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        self.sync.next_req += 1;
        let holds = std::mem::take(&mut call.holds_slot);
        call.req = Some(req);
        call.upstream += 1;
        call.stage = Stage::InFlight;
        let (client, dep, key, attempt, app_attempt) = (
            call.client,
            call.dep,
            call.key,
            call.attempt,
            call.app_attempt,
        );
        let request = Arc::clone(&call.request);
        self.sync.reqs.insert(
            req,
            Req {
                call: id,
                key,
                client,
                dep,
                holds_slot: holds,
            },
        );
        self.sync.proxies[dep as usize][client.instance as usize]
            .metrics
            .upstream_requests += 1;
        self.metrics.http_requests += 1;
        let service = self.node_name(self.sync.deps[dep as usize].to);
        if self.trace.enabled() {
            let what = TraceKind::CallAttempt {
                at: self.endpoint(client),
                call: id,
                service: Arc::clone(&service),
                request: Arc::clone(&request),
                attempt,
                app_attempt,
                req,
                target: self.endpoint(target),
            };
            self.trace.push(self.now, what);
        }
        let msg = self.sync_msg(
            MessageKind::Command,
            request.to_string(),
            &service,
            request.body.clone(),
        );
        let timeout = self.sync.deps[dep as usize].http_timeout_us;
        self.send(
            client,
            target,
            Packet::Sync(SyncPacket::Request {
                msg,
                req,
                call: id,
                dep,
                attempt,
                http: request,
            }),
        );
        self.schedule(
            self.now.plus_us(timeout),
            Event::Sync(SyncEvent::HttpTimeout { req }),
        );
    }

    /// A response (or, with `None`, a reset) reached the client instance `at`.
    fn client_answer(&mut self, at: Ep, req: u64, dep: u32, resp: Option<Arc<HttpResponse>>) {
        let live = self.sync.reqs.get(&req).filter(|r| r.client == at).cloned();
        let Some(r) = live else {
            self.late_response(at, req, dep, resp.as_ref().map(|h| h.status));
            return;
        };
        self.sync.reqs.remove(&req);
        if r.holds_slot {
            self.bulkhead_exit(r.dep, r.client.instance);
        }
        let current =
            self.sync.calls.get(&r.call).is_some_and(|c| {
                c.key == r.key && c.req == Some(req) && c.stage == Stage::InFlight
            });
        if !current {
            self.late_response(at, req, dep, resp.as_ref().map(|h| h.status));
            return;
        }
        let result = match resp {
            None => Err(Fail::Refused),
            Some(h) if h.status >= 400 => Err(Fail::Status(h)),
            Some(h) => Ok(h),
        };
        self.attempt_end(r.call, result);
    }

    fn late_response(&mut self, at: Ep, req: u64, dep: u32, status: Option<u16>) {
        let mine = self
            .sync
            .deps
            .get(dep as usize)
            .is_some_and(|d| d.from == at.node);
        if mine {
            self.sync.proxies[dep as usize][at.instance as usize]
                .metrics
                .late_responses += 1;
        }
        if self.trace.enabled() {
            let what = TraceKind::LateResponse {
                at: self.endpoint(at),
                req,
                status,
            };
            self.trace.push(self.now, what);
        }
    }

    fn http_timeout(&mut self, req: u64) {
        let Some(r) = self.sync.reqs.remove(&req) else {
            return;
        };
        if r.holds_slot {
            self.bulkhead_exit(r.dep, r.client.instance);
        }
        let current =
            self.sync.calls.get(&r.call).is_some_and(|c| {
                c.key == r.key && c.req == Some(req) && c.stage == Stage::InFlight
            });
        if current {
            self.attempt_end(r.call, Err(Fail::SocketTimeout));
        }
    }

    fn time_limit(&mut self, id: u64, key: u32) {
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        if call.key != key {
            return;
        }
        let (dep, inst) = (call.dep, call.client.instance);
        let now = self.now.as_us();
        match call.stage {
            Stage::Bulkhead(_) => {
                if let Some(bh) = self.sync.proxies[dep as usize][inst as usize].bh.as_mut() {
                    bh.on_wait_timeout(now, id);
                }
            }
            Stage::Granted => {
                call.holds_slot = false;
                self.bulkhead_exit(dep, inst);
            }
            Stage::Discovery => {
                let holds = std::mem::take(&mut call.holds_slot);
                self.sync.proxies[dep as usize][inst as usize]
                    .cache
                    .waiters
                    .retain(|&w| w != id);
                if holds {
                    self.bulkhead_exit(dep, inst);
                }
            }
            Stage::InFlight => {
                let req = call.req.take();
                let cancel = self.sync.proxies[dep as usize][inst as usize]
                    .tl
                    .as_ref()
                    .is_some_and(TimeLimiter::cancel_running_future);
                if let (true, Some(req)) = (cancel, req) {
                    // The request is cancelled: its slot comes back now, a late answer is
                    // discarded. Without cancelRunningFuture it keeps its slot until it ends.
                    if let Some(r) = self.sync.reqs.remove(&req) {
                        if r.holds_slot {
                            self.bulkhead_exit(dep, inst);
                        }
                    }
                }
            }
            _ => return,
        }
        self.attempt_end(id, Err(Fail::Timeout));
    }

    /// An attempt ended: the breaker records it, the client retry decides.
    fn attempt_end(&mut self, id: u64, result: Result<Arc<HttpResponse>, Fail>) {
        let now = self.now;
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(f) => Outcome::failure(f.policy_kind()),
        };
        let (dep, inst, attempt) = (call.dep, call.client.instance, call.attempt);
        let req = call.req.take();
        let permit = call.permit.take();
        let elapsed = now.as_us().saturating_sub(call.attempt_start.as_us());
        call.stage = Stage::Start;
        call.tl_deadline = None;
        let client = call.client;
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        let m = &mut proxy.metrics;
        match &result {
            Ok(_) => {}
            Err(Fail::Breaker) => m.rejected_by_breaker += 1,
            Err(Fail::Limiter) => m.rejected_by_limiter += 1,
            Err(Fail::Bulkhead) => m.rejected_by_bulkhead += 1,
            Err(Fail::Timeout) | Err(Fail::SocketTimeout) => m.timeouts += 1,
            Err(Fail::Refused) => m.connection_refused += 1,
            Err(Fail::NoInstance) | Err(Fail::PoolExhausted) => m.no_instance += 1,
            Err(Fail::Status(r)) if r.status >= 500 => m.server_errors += 1,
            Err(Fail::Status(_)) => m.client_errors += 1,
        }
        if let (Some(p), Some(cb)) = (permit, proxy.cb.as_mut()) {
            cb.on_result(p, now.as_us(), elapsed, &outcome);
        }
        if self.trace.enabled() {
            let (status, error) = match &result {
                Ok(r) => (Some(r.status), None),
                Err(f @ Fail::Status(r)) => (Some(r.status), Some(Arc::from(f.kind()))),
                Err(f) => (None, Some(Arc::from(f.kind()))),
            };
            let what = TraceKind::CallResult {
                at: self.endpoint(client),
                call: id,
                service: self.node_name(self.sync.deps[dep as usize].to),
                attempt,
                req,
                status,
                error,
                elapsed_us: elapsed,
            };
            self.trace.push(now, what);
        }
        self.breaker_sync(dep, inst);
        let proxy = &mut self.sync.proxies[dep as usize][inst as usize];
        let Some(call) = self.sync.calls.get_mut(&id) else {
            return;
        };
        if let Some(rs) = call.retry.as_mut() {
            if let RetryDecision::RetryAfter(w) =
                rs.on_attempt_result(&outcome, &mut proxy.retry_rng)
            {
                proxy.metrics.retries += 1;
                let until = now.plus_us(w);
                call.stage = Stage::Backoff(until);
                let key = call.key;
                if self.trace.enabled() {
                    let what = TraceKind::CallRetry {
                        at: self.endpoint(client),
                        call: id,
                        layer: RetryLayer::Client,
                        attempt: attempt + 1,
                        wait_us: w,
                    };
                    self.trace.push(now, what);
                }
                self.schedule(until, Event::Sync(SyncEvent::RetryGo { call: id, key }));
                return;
            }
        }
        self.proxy_end(id, result);
    }

    /// The proxy invocation is over: fallback, then the application retry decides.
    fn proxy_end(&mut self, id: u64, result: Result<Arc<HttpResponse>, Fail>) {
        let now = self.now;
        let Some(call) = self.sync.calls.get(&id) else {
            return;
        };
        let (dep, client) = (call.dep, call.client);
        let policy_kind = result.as_ref().err().map(|f| f.policy_kind());
        let (resp, error, fallback) = match result {
            Ok(r) => (Some(r), None, false),
            Err(f) => {
                let kind: Arc<str> = Arc::from(f.kind());
                match self.sync.deps[dep as usize].fallback.clone() {
                    Some(fb) => {
                        if self.trace.enabled() {
                            let what = TraceKind::CallFallback {
                                at: self.endpoint(client),
                                call: id,
                                status: fb.status,
                                error: Arc::clone(&kind),
                            };
                            self.trace.push(now, what);
                        }
                        (Some(fb), Some(kind), true)
                    }
                    None => match f {
                        Fail::Status(r) => (Some(r), Some(kind), false),
                        _ => (None, Some(kind), false),
                    },
                }
            }
        };
        let app_outcome = match (policy_kind, fallback) {
            (Some(k), false) => Outcome::failure(k),
            _ => Outcome::Success,
        };
        let wl = match self.sync.calls[&id].origin {
            Origin::Workload { wl, .. } => Some(wl),
            Origin::Handler { .. } => None,
        };
        if let Some(wl) = wl {
            let rng = &mut self.sync.workloads[wl as usize].app_rng;
            let call = self.sync.calls.get_mut(&id).expect("checked above");
            if let Some(ar) = call.app_retry.as_mut() {
                if let RetryDecision::RetryAfter(w) = ar.on_attempt_result(&app_outcome, rng) {
                    let until = now.plus_us(w);
                    call.stage = Stage::AppBackoff(until);
                    let app_attempt = call.app_attempt;
                    self.sync.proxies[dep as usize][client.instance as usize]
                        .metrics
                        .app_retries += 1;
                    if self.trace.enabled() {
                        let what = TraceKind::CallRetry {
                            at: self.endpoint(client),
                            call: id,
                            layer: RetryLayer::Application,
                            attempt: app_attempt + 1,
                            wait_us: w,
                        };
                        self.trace.push(now, what);
                    }
                    self.schedule(
                        until,
                        Event::Sync(SyncEvent::AppRetryGo {
                            call: id,
                            app_attempt,
                        }),
                    );
                    return;
                }
            }
        }
        self.call_end(id, resp, error, fallback);
    }

    /// The logical call is over: the business logic unblocks and goes on.
    fn call_end(
        &mut self,
        id: u64,
        resp: Option<Arc<HttpResponse>>,
        error: Option<Arc<str>>,
        fallback: bool,
    ) {
        let Some(call) = self.sync.calls.remove(&id) else {
            return;
        };
        let ok = error.is_none() || fallback;
        let proxy = &mut self.sync.proxies[call.dep as usize][call.client.instance as usize];
        let m = &mut proxy.metrics;
        m.finished += 1;
        m.max_upstream_per_call = m.max_upstream_per_call.max(call.upstream as u64);
        if fallback {
            m.fallbacks += 1;
            self.metrics.fallbacks += 1;
        } else if ok {
            m.successes += 1;
            self.metrics.calls_ok += 1;
        } else {
            m.failures += 1;
            self.metrics.calls_failed += 1;
        }
        proxy.outstanding = proxy.outstanding.saturating_sub(1);
        let b = &mut self.sync.blocked[call.client.node as usize][call.client.instance as usize];
        *b = b.saturating_sub(1);
        if self.trace.enabled() {
            let what = TraceKind::CallDone {
                at: self.endpoint(call.client),
                call: id,
                service: self.node_name(self.sync.deps[call.dep as usize].to),
                status: resp.as_ref().map(|r| r.status),
                error: error.clone(),
                fallback,
                attempts: call.key,
                requests: call.upstream,
                elapsed_us: self.now.as_us().saturating_sub(call.started_at.as_us()),
            };
            self.trace.push(self.now, what);
        }
        match call.origin {
            Origin::Workload { wl, n, step, vars } => {
                self.op_continue(call.client, wl, n, step, vars, resp.filter(|_| ok))
            }
            Origin::Handler {
                node,
                instance,
                sid,
                index,
            } => self.handler_downstream_done(
                Ep { node, instance },
                sid,
                index,
                if ok { Ok(resp) } else { Err(error) },
            ),
        }
    }

    /// Emits the breaker's new transitions to the trace and (re)schedules its timer.
    pub(super) fn breaker_sync(&mut self, dep: u32, inst: u32) {
        let incarnation = self.nodes[self.sync.deps[dep as usize].from as usize].instances
            [inst as usize]
            .incarnation;
        let p = &mut self.sync.proxies[dep as usize][inst as usize];
        let Some(cb) = p.cb.as_ref() else {
            return;
        };
        let total = cb.transitions_total();
        let mut new: Vec<Transition> = Vec::new();
        if total > p.seen_transitions {
            let fresh = ((total - p.seen_transitions) as usize).min(cb.transitions().len());
            new = cb
                .transitions()
                .skip(cb.transitions().len() - fresh)
                .copied()
                .collect();
            p.seen_transitions = total;
        }
        let timer = cb.next_timer();
        let reschedule = match timer {
            Some(t) if p.timer_at != Some(t) => {
                p.timer_at = Some(t);
                Some(t)
            }
            Some(_) => None,
            None => {
                p.timer_at = None;
                None
            }
        };
        if let Some(t) = reschedule {
            self.schedule(
                SimTime(t),
                Event::Sync(SyncEvent::BreakerTimer {
                    dep,
                    instance: inst,
                    incarnation,
                    at: t,
                }),
            );
        }
        if self.trace.enabled() && !new.is_empty() {
            let d = &self.sync.deps[dep as usize];
            let at = self.endpoint(Ep {
                node: d.from,
                instance: inst,
            });
            let service = self.node_name(d.to);
            for tr in new {
                let what = TraceKind::BreakerTransition {
                    at: at.clone(),
                    service: Arc::clone(&service),
                    from: tr.from,
                    to: tr.to,
                    failure_rate: tr.failure_rate,
                    slow_call_rate: tr.slow_call_rate,
                };
                self.trace.push(SimTime(tr.at_us), what);
            }
        }
    }

    // ----- crash, restart -----

    /// An instance crashed: its calls, requests, policy state, caches and server work are gone
    /// (a new JVM starts with fresh policies); infrastructure nodes lose their tables.
    pub(super) fn sync_on_crash(&mut self, ep: Ep) {
        if self.sync.blocked.is_empty() {
            return; // no synchronous parts
        }
        let now = self.now.as_us();
        self.sync.calls.retain(|_, c| c.client != ep);
        self.sync.reqs.retain(|_, r| r.client != ep);
        for (d, dep) in self.sync.deps.iter().enumerate() {
            if dep.from == ep.node {
                self.sync.proxies[d][ep.instance as usize].fresh(&dep.policies, now);
            }
        }
        self.sync.blocked[ep.node as usize][ep.instance as usize] = 0;
        self.server_crash(ep);
        self.discovery_crash(ep);
    }

    /// A crashed instance came back.
    pub(super) fn sync_on_restart(&mut self, ep: Ep) {
        if self.sync.blocked.is_empty() {
            return;
        }
        self.discovery_restart(ep);
    }

    // ----- commands -----

    pub(super) fn sync_check_command(&self, cmd: &Command) -> Result<(), CommandError> {
        match cmd {
            Command::SetEndpoint {
                node,
                endpoint,
                behaviour,
            } => {
                let n = self
                    .node_id(node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                let Some(api) = self.scenario.api_of(&self.scenario.nodes[n as usize].name) else {
                    return Err(CommandError::Invalid(format!("`{node}` has no api")));
                };
                if let Some(e) = endpoint {
                    if *e as usize >= api.endpoints.len() {
                        return Err(CommandError::Invalid(format!(
                            "`{node}` has no endpoint {e} (it has {})",
                            api.endpoints.len()
                        )));
                    }
                }
                behaviour
                    .validate("behaviour")
                    .map_err(|e| CommandError::Invalid(e.to_string()))
            }
            Command::SetBreaker {
                node,
                instance,
                service,
                state,
            } => {
                let ep = self.instance_ref(node, *instance)?;
                let to = self
                    .node_id(service)
                    .ok_or_else(|| CommandError::UnknownNode(service.clone()))?;
                let Some(&dep) = self.sync.dep_index.get(&(ep.node, to)) else {
                    return Err(CommandError::Invalid(format!(
                        "`{node}` does not call `{service}`"
                    )));
                };
                let Some(cb) = &self.sync.proxies[dep as usize][*instance as usize].cb else {
                    return Err(CommandError::Invalid(format!(
                        "`{node}` -> `{service}` has no circuit breaker"
                    )));
                };
                let from = cb.state();
                // A scheduled command meets the breaker in whatever state it is then; an illegal
                // edge at that time changes nothing.
                if !self.sync.building
                    && !crate::resilience::circuit_breaker::legal_edge(from, *state)
                {
                    return Err(CommandError::Invalid(format!(
                        "illegal CircuitBreaker state transition from {from} to {state}"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    pub(super) fn sync_execute(&mut self, cmd: Command) -> Result<(), CommandError> {
        self.sync_check_command(&cmd)?;
        match cmd {
            Command::SetEndpoint {
                node,
                endpoint,
                behaviour,
            } => {
                let n = self
                    .node_id(&node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                let s = &mut self.sync.servers[n as usize];
                for (i, b) in s.behaviours.iter_mut().enumerate() {
                    if endpoint.is_none_or(|e| e as usize == i) {
                        *b = behaviour.clone();
                    }
                }
            }
            Command::SetBreaker {
                node,
                instance,
                service,
                state,
            } => {
                let ep = self.instance_ref(&node, instance)?;
                let to = self
                    .node_id(&service)
                    .ok_or_else(|| CommandError::UnknownNode(service.clone()))?;
                let dep = self.sync.dep_index[&(ep.node, to)];
                let now = self.now.as_us();
                if let Some(cb) = self.sync.proxies[dep as usize][instance as usize]
                    .cb
                    .as_mut()
                {
                    let r = match state {
                        CircuitBreakerState::Open => cb.transition_to_open(now),
                        CircuitBreakerState::HalfOpen => cb.transition_to_half_open(now),
                        CircuitBreakerState::Closed => {
                            cb.transition_to_closed(now);
                            Ok(())
                        }
                        CircuitBreakerState::Disabled => {
                            cb.transition_to_disabled(now);
                            Ok(())
                        }
                        CircuitBreakerState::ForcedOpen => {
                            cb.transition_to_forced_open(now);
                            Ok(())
                        }
                        CircuitBreakerState::MetricsOnly => {
                            cb.transition_to_metrics_only(now);
                            Ok(())
                        }
                    };
                    r.map_err(|e| CommandError::Invalid(e.to_string()))?;
                }
                self.breaker_sync(dep, instance);
            }
            _ => {}
        }
        Ok(())
    }

    // ----- views -----

    /// (workers busy, queued requests, blocked calls) of an instance.
    pub(super) fn sync_instance_counts(&self, node: u32, instance: u32) -> (u32, u32, u32) {
        let blocked = self
            .sync
            .blocked
            .get(node as usize)
            .and_then(|b| b.get(instance as usize))
            .copied()
            .unwrap_or(0);
        let (busy, queued) = self
            .sync
            .servers
            .get(node as usize)
            .and_then(|s| s.insts.get(instance as usize))
            .map(|i| (i.active.len() as u32, i.queue.len() as u32))
            .unwrap_or((0, 0));
        (busy, queued, blocked)
    }

    pub(super) fn sync_proxy_views(&self) -> Vec<crate::sync::ProxyView> {
        use crate::sync::{BreakerView, BulkheadView, RateLimiterView};
        let now = self.now.as_us();
        let mut out = Vec::new();
        for (d, dep) in self.sync.deps.iter().enumerate() {
            for (i, p) in self.sync.proxies[d].iter().enumerate() {
                let (discovery, router) = match dep.discovery {
                    Disc::Direct => ("direct", None),
                    Disc::Client { .. } => ("client", None),
                    Disc::Router { router } => ("router", Some(self.node_name(router).to_string())),
                };
                out.push(crate::sync::ProxyView {
                    client: self.node_name(dep.from).to_string(),
                    instance: i as u32,
                    service: self.node_name(dep.to).to_string(),
                    discovery,
                    router,
                    layers: dep.policies.layers(),
                    breaker: p.cb.as_ref().map(|cb| BreakerView {
                        state: cb.state(),
                        metrics: cb.metrics_at(now),
                        transitions: cb.transitions().copied().collect(),
                        transitions_total: cb.transitions_total(),
                    }),
                    bulkhead: p.bh.as_ref().map(|bh| BulkheadView {
                        max_concurrent_calls: bh.config().max_concurrent_calls,
                        available_concurrent_calls: bh.available_concurrent_calls(),
                        waiting_calls: bh.waiting_calls() as u32,
                    }),
                    rate_limiter: p.rl.as_ref().map(|rl| RateLimiterView {
                        limit_for_period: rl.config().limit_for_period,
                        limit_refresh_period_us: rl.config().limit_refresh_period.as_micros(),
                        available_permissions: rl.available_permissions(now),
                    }),
                    time_limit_us: p
                        .tl
                        .as_ref()
                        .map(|t| t.config().timeout_duration.as_micros()),
                    retry_max_attempts: p.retry.as_ref().map(|r| r.config().max_attempts),
                    fallback: dep.fallback.is_some(),
                    outstanding_calls: p.outstanding,
                    cache: match dep.discovery {
                        Disc::Client { ttl_us, .. } => Some(p.cache.view(ttl_us)),
                        _ => None,
                    },
                    metrics: p.metrics,
                });
            }
        }
        out
    }

    pub(super) fn sync_call_views(&self) -> Vec<crate::sync::CallView> {
        self.sync
            .calls
            .iter()
            .take(500)
            .map(|(&id, c)| {
                let (stage, until) = match c.stage {
                    Stage::Start | Stage::Granted => ("in_flight", None),
                    Stage::Limiter(t) => ("rate_limiter", Some(t)),
                    Stage::Bulkhead(t) => ("bulkhead", Some(t)),
                    Stage::Discovery => ("discovery", c.tl_deadline),
                    Stage::InFlight => ("in_flight", c.tl_deadline),
                    Stage::Backoff(t) => ("backoff", Some(t)),
                    Stage::AppBackoff(t) => ("app_backoff", Some(t)),
                };
                crate::sync::CallView {
                    id,
                    client: self.node_name(c.client.node).to_string(),
                    instance: c.client.instance,
                    service: self
                        .node_name(self.sync.deps[c.dep as usize].to)
                        .to_string(),
                    operation: c.operation.to_string(),
                    request: (*c.request).clone(),
                    attempt: c.attempt,
                    app_attempt: c.app_attempt,
                    upstream_requests: c.upstream,
                    started_at: c.started_at,
                    stage,
                    until,
                }
            })
            .collect()
    }

    /// Counters of the proxies of `client` (all its instances, summed; the maximum for
    /// `max_upstream_per_call`) for calls to `service`, if `client` calls `service`.
    pub fn client_metrics(&self, client: &str, service: &str) -> Option<ClientMetrics> {
        let dep = *self
            .sync
            .dep_index
            .get(&(self.node_id(client)?, self.node_id(service)?))?;
        let mut sum = ClientMetrics::default();
        for p in &self.sync.proxies[dep as usize] {
            let m = &p.metrics;
            sum.calls += m.calls;
            sum.successes += m.successes;
            sum.failures += m.failures;
            sum.fallbacks += m.fallbacks;
            sum.attempts += m.attempts;
            sum.retries += m.retries;
            sum.app_retries += m.app_retries;
            sum.timeouts += m.timeouts;
            sum.rejected_by_breaker += m.rejected_by_breaker;
            sum.rejected_by_bulkhead += m.rejected_by_bulkhead;
            sum.rejected_by_limiter += m.rejected_by_limiter;
            sum.upstream_requests += m.upstream_requests;
            sum.server_errors += m.server_errors;
            sum.client_errors += m.client_errors;
            sum.connection_refused += m.connection_refused;
            sum.no_instance += m.no_instance;
            sum.late_responses += m.late_responses;
            sum.max_upstream_per_call = sum.max_upstream_per_call.max(m.max_upstream_per_call);
            sum.finished += m.finished;
            sum.shed += m.shed;
        }
        Some(sum)
    }

    /// Counters of the RPI server adapter of service `name`, if it has an API.
    pub fn server_metrics(&self, name: &str) -> Option<crate::sync::ServerMetrics> {
        let n = self.node_id(name)?;
        let s = self.sync.servers.get(n as usize)?;
        s.api.as_ref().map(|_| s.metrics)
    }
}

/// A discovery answer.
pub(super) enum Pick {
    Ready(u32),
    Wait,
    None,
}
