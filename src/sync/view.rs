//! Snapshot views of synchronous communication: plain data for drawing and for tests.

use super::http::{HttpRequest, Method};
use crate::resilience::circuit_breaker::{CircuitBreakerMetrics, CircuitBreakerState, Transition};
use crate::resilience::DecoratorLayer;
use crate::snapshot::InstanceStatus;
use crate::time::SimTime;
use serde::Serialize;
use serde_json::Value;

/// Counters of one client proxy (one client instance's dependency on one service). All are
/// totals since the start of the run (they survive a crash of the client).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientMetrics {
    /// Logical calls the business logic started (one per step; an application retry does not
    /// start a new one).
    pub calls: u64,
    /// Logical calls that ended with a real 1xx–3xx response.
    pub successes: u64,
    /// Logical calls that ended failed (no fallback).
    pub failures: u64,
    /// Logical calls answered by the fallback.
    pub fallbacks: u64,
    /// Attempts through the policies (each client retry and application retry makes one more).
    pub attempts: u64,
    /// Client (proxy) retries scheduled.
    pub retries: u64,
    /// Application-level retries scheduled.
    pub app_retries: u64,
    /// Attempts that timed out: the time limiter's deadline or the HTTP read timeout.
    pub timeouts: u64,
    /// Attempts the circuit breaker rejected (`CallNotPermittedException`).
    pub rejected_by_breaker: u64,
    /// Attempts the bulkhead rejected or that gave up waiting for it (`BulkheadFullException`).
    pub rejected_by_bulkhead: u64,
    /// Attempts the rate limiter rejected (`RequestNotPermitted`).
    pub rejected_by_limiter: u64,
    /// HTTP requests put on the network ("upstream requests").
    pub upstream_requests: u64,
    /// Attempts answered with a 5xx status.
    pub server_errors: u64,
    /// Attempts answered with a 4xx status.
    pub client_errors: u64,
    /// Attempts whose connection was refused (the target instance was down).
    pub connection_refused: u64,
    /// Attempts that found no instance to call (or no free connection in the client's pool).
    pub no_instance: u64,
    /// Responses that arrived for an attempt that was already over (after a timeout) or twice
    /// (a network duplicate), and were discarded.
    pub late_responses: u64,
    /// Most upstream requests one logical call made.
    pub max_upstream_per_call: u64,
    /// Logical calls that ended (successes + failures + fallbacks).
    pub finished: u64,
    /// Workload ticks dropped because the client instance was down, paused, or had
    /// [`super::bounds::MAX_CALLS_PER_INSTANCE`] operations in progress.
    pub shed: u64,
}

impl ClientMetrics {
    /// Upstream requests per finished logical call (0 when none finished).
    pub fn upstream_per_call(&self) -> f64 {
        if self.finished == 0 {
            0.0
        } else {
            self.upstream_requests as f64 / self.finished as f64
        }
    }
}

/// Counters of a service's RPI server adapter (all its instances).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerMetrics {
    /// Requests that reached a running instance.
    pub requests: u64,
    /// Requests handed to the service logic.
    pub served: u64,
    /// Responses with a 1xx–3xx status.
    pub ok: u64,
    /// Responses with a 4xx status.
    pub client_errors: u64,
    /// Responses with a 5xx status (injected, overload, or a failed downstream call).
    pub server_errors: u64,
    /// Errors injected by `error_percent`.
    pub injected_errors: u64,
    /// Slow requests (by `slow_percent`).
    pub slow: u64,
    /// Requests that had to wait for a worker.
    pub queued: u64,
    /// Requests answered 503 because the queue was full.
    pub rejected_overload: u64,
    /// Requests refused because the instance was down (answered with a TCP reset).
    pub refused: u64,
    /// Sum of queueing delays, µs (divide by `served` for the mean).
    pub queue_wait_us: u64,
    /// Longest queue of one instance seen.
    pub max_queue_depth: u32,
}

/// A circuit breaker's state for drawing: the ring colour, the rates, and the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerView {
    /// `CLOSED`, `OPEN`, `HALF_OPEN`, `DISABLED`, `FORCED_OPEN`, `METRICS_ONLY`.
    pub state: CircuitBreakerState,
    /// Window metrics now (failure and slow-call rates in %, -1 below the minimum of calls).
    pub metrics: CircuitBreakerMetrics,
    /// The last transitions, oldest first (at most 256), each with the rates that drove it:
    /// the timeline of the state over virtual time (`at_us`).
    pub transitions: Vec<Transition>,
    /// Transitions ever made, including those no longer in `transitions`.
    pub transitions_total: u64,
}

/// A bulkhead's occupancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BulkheadView {
    /// `maxConcurrentCalls`.
    pub max_concurrent_calls: u32,
    /// Free slots.
    pub available_concurrent_calls: u32,
    /// Calls waiting for a slot.
    pub waiting_calls: u32,
}

/// A rate limiter's permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimiterView {
    /// `limitForPeriod`.
    pub limit_for_period: u32,
    /// `limitRefreshPeriod`, µs.
    pub limit_refresh_period_us: u64,
    /// Permissions available now (negative while reservations wait).
    pub available_permissions: i64,
}

/// An instance as a registry knows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceInfo {
    /// Instance index of the service.
    pub instance: u32,
    /// Host (`10.0.<node>.<instance+1>`).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Registered metadata.
    pub metadata: Value,
}

/// A discovery cache (a client proxy's or a router's view of a service's instances).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheView {
    /// The instances of the last answer, by instance index.
    pub instances: Vec<InstanceInfo>,
    /// When that answer arrived; `None` before the first.
    pub fetched_at: Option<SimTime>,
    /// When it goes stale.
    pub expires_at: Option<SimTime>,
    /// A lookup is in flight.
    pub refreshing: bool,
    /// Calls (requests, at a router) waiting for it.
    pub waiting: u32,
}

/// One client proxy: a client instance's view of its dependency on a service.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProxyView {
    /// Client service.
    pub client: String,
    /// Client instance.
    pub instance: u32,
    /// Called service.
    pub service: String,
    /// `direct`, `client` (application-level discovery) or `router` (platform-level).
    pub discovery: &'static str,
    /// The router, for `router` discovery.
    pub router: Option<String>,
    /// The configured layers, outermost first (a sub-sequence of Resilience4j's aspect order).
    pub layers: Vec<DecoratorLayer>,
    /// Circuit breaker, if configured.
    pub breaker: Option<BreakerView>,
    /// Bulkhead, if configured.
    pub bulkhead: Option<BulkheadView>,
    /// Rate limiter, if configured.
    pub rate_limiter: Option<RateLimiterView>,
    /// Time limiter's `timeoutDuration`, µs, if configured.
    pub time_limit_us: Option<u64>,
    /// Retry's `maxAttempts`, if configured.
    pub retry_max_attempts: Option<u32>,
    /// Whether a fallback is configured.
    pub fallback: bool,
    /// Logical calls in progress through this proxy (blocked callers).
    pub outstanding_calls: u32,
    /// Discovery cache, for `client` discovery.
    pub cache: Option<CacheView>,
    /// Counters.
    pub metrics: ClientMetrics,
}

/// Which retry layer retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryLayer {
    /// The proxy's Resilience4j retry (the dependency's `policies.retry`).
    Client,
    /// The business logic's retry around the whole proxy call (`calls[].app_retry`).
    Application,
}

impl RetryLayer {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryLayer::Client => "client",
            RetryLayer::Application => "application",
        }
    }
}

/// A logical call in progress (a blocked caller), for drawing retries and backoff.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallView {
    /// Call id (`c<id>` in traces).
    pub id: u64,
    /// Client service.
    pub client: String,
    /// Client instance.
    pub instance: u32,
    /// Called service.
    pub service: String,
    /// Operation name.
    pub operation: String,
    /// The request.
    pub request: HttpRequest,
    /// Attempt of the current proxy invocation, from 1 (0 before the first).
    pub attempt: u32,
    /// Application-level attempt, from 1 (0 without an application retry).
    pub app_attempt: u32,
    /// Upstream requests so far.
    pub upstream_requests: u32,
    /// When the business logic invoked the proxy.
    pub started_at: SimTime,
    /// `rate_limiter`, `bulkhead`, `discovery` (waiting in that layer), `in_flight` (request on
    /// its way or being served), `backoff` (client retry wait), `app_backoff` (application
    /// retry wait).
    pub stage: &'static str,
    /// When the current wait ends (backoff, limiter, bulkhead deadline, time-limiter deadline).
    pub until: Option<SimTime>,
}

/// One registry entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistryEntryView {
    /// Service.
    pub service: String,
    /// Registered instance, host, port, metadata.
    pub info: InstanceInfo,
    /// First registration.
    pub registered_at: SimTime,
    /// Last renewal (heartbeat or registrar).
    pub renewed_at: SimTime,
    /// The lease ends here unless renewed.
    pub expires_at: SimTime,
    /// Who registered it: the instance itself (`orders#1`) or a registrar.
    pub registered_by: String,
    /// The instance's real status now (ground truth, not known to the registry): an entry of a
    /// crashed instance is stale.
    pub actual: InstanceStatus,
}

/// A registry's table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistryView {
    /// Registry node.
    pub node: String,
    /// Entries by service, then instance.
    pub entries: Vec<RegistryEntryView>,
}

/// A router (platform-level discovery).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouterView {
    /// Router node.
    pub node: String,
    /// The service behind it.
    pub service: String,
    /// Its endpoint list (from the registry, or every instance without one).
    pub endpoints: CacheView,
    /// Requests forwarded and not answered yet.
    pub pending: u32,
    /// Requests forwarded so far.
    pub routed: u64,
}

/// HTTP content of a packet on the wire, for drawing the request line or status and the body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpView {
    /// Upstream request id (`r<id>`).
    pub request_id: u64,
    /// Logical call id (`c<id>`).
    pub call: u64,
    /// Method of the request (also on its response).
    pub method: Method,
    /// Path of the request (also on its response).
    pub path: String,
    /// Status, on a response; `None` on a request or a reset.
    pub status: Option<u16>,
    /// Body of this packet (request or response).
    pub body: Value,
}
