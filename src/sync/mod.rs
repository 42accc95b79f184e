//! Synchronous communication: remote procedure invocation (RPI) over REST, client resilience
//! policies, server behaviour and service discovery — the data side (scenario specs, HTTP types,
//! snapshot views). The engine side lives in `sim/rpc.rs`, `sim/rest.rs` and `sim/discovery.rs`.
//!
//! # One call, step by step
//!
//! As the reference ("Synchronous Communication") draws remote procedure invocation:
//!
//! ```text
//! client business logic -> proxy interface -> RPI proxy (policies) -> network
//!     -> RPI server adapter -> service logic, and the reply back the same way
//! ```
//!
//! 1. A call workload (or a server handler that calls downstream) invokes the **proxy
//!    interface**: trace `CallInvoke`; the caller blocks until `CallDone`.
//! 2. The **RPI proxy** runs each attempt through the dependency's policies in Resilience4j's
//!    aspect order `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call)))))`
//!    ([`crate::resilience::DECORATOR_ORDER`]), resolves an instance (discovery), and sends an
//!    HTTP request: trace `CallAttempt`, then the network's `Send`/`Arrive`.
//! 3. The **RPI server adapter** of the chosen instance queues the request for a worker
//!    (`ServerQueued`), hands it to the **service logic** (`ServerStart`), which may call further
//!    services itself, and replies (`ServerReply`).
//! 4. The proxy classifies the answer (`CallResult`), retries (`CallRetry`), falls back
//!    (`CallFallback`), and returns to the business logic (`CallDone`).
//!
//! Outcomes are classified into *error kinds* (Resilience4j matches exception classes; msgsim
//! matches these strings, see [`error_kinds`]). A response with status 5xx is a
//! `HttpServerErrorException`, 4xx a `HttpClientErrorException` (Spring's `RestTemplate` names).

pub mod http;
pub mod spec;
pub mod view;

pub use http::{HttpRequest, HttpResponse, Method};
pub use spec::{
    Action, ApiSpec, CallWorkloadSpec, CollectionSpec, DependencySpec, DiscoverySpec,
    DownstreamSpec, EndpointSpec, FallbackSpec, LinkTemplate, LoadBalancer, RegistrarSpec,
    RegistrationMode, RegistrationSpec, RelationSpec, RouterSpec, ServerBehaviour, StepSpec,
};
pub use view::{
    BreakerView, BulkheadView, CacheView, CallView, ClientMetrics, HttpView, InstanceInfo,
    ProxyView, RateLimiterView, RegistryEntryView, RegistryView, RetryLayer, RouterView,
    ServerMetrics,
};

/// Error kinds of failed attempts, as the host reports them to the resilience policies
/// (msgsim's analogue of Java exception classes; matched exactly by `recordExceptions`,
/// `ignoreExceptions`, `retryExceptions`).
pub mod error_kinds {
    /// The kind a response status gives the resilience policies: Spring's nested exception
    /// class for the status (`RestTemplate`'s default error handler throws
    /// `HttpClientErrorException.NotFound` for a 404), so `ignoreExceptions` /
    /// `retryExceptions` / `recordExceptions` can tell a validation error from a conflict. A
    /// listed parent (`HttpClientErrorException`) matches each of its subclasses. Statuses
    /// without a subclass of their own give the parent. `None` below 400.
    ///
    /// | status | kind |
    /// |---|---|
    /// | 400 | `HttpClientErrorException.BadRequest` |
    /// | 401 | `HttpClientErrorException.Unauthorized` |
    /// | 403 | `HttpClientErrorException.Forbidden` |
    /// | 404 | `HttpClientErrorException.NotFound` |
    /// | 405 | `HttpClientErrorException.MethodNotAllowed` |
    /// | 406 | `HttpClientErrorException.NotAcceptable` |
    /// | 409 | `HttpClientErrorException.Conflict` |
    /// | 410 | `HttpClientErrorException.Gone` |
    /// | 415 | `HttpClientErrorException.UnsupportedMediaType` |
    /// | 422 | `HttpClientErrorException.UnprocessableEntity` |
    /// | 429 | `HttpClientErrorException.TooManyRequests` |
    /// | other 4xx | `HttpClientErrorException` |
    /// | 500 | `HttpServerErrorException.InternalServerError` |
    /// | 501 | `HttpServerErrorException.NotImplemented` |
    /// | 502 | `HttpServerErrorException.BadGateway` |
    /// | 503 | `HttpServerErrorException.ServiceUnavailable` |
    /// | 504 | `HttpServerErrorException.GatewayTimeout` |
    /// | other 5xx and above | `HttpServerErrorException` |
    pub fn for_status(status: u16) -> Option<&'static str> {
        let client = |s| match s {
            400 => "HttpClientErrorException.BadRequest",
            401 => "HttpClientErrorException.Unauthorized",
            403 => "HttpClientErrorException.Forbidden",
            404 => "HttpClientErrorException.NotFound",
            405 => "HttpClientErrorException.MethodNotAllowed",
            406 => "HttpClientErrorException.NotAcceptable",
            409 => "HttpClientErrorException.Conflict",
            410 => "HttpClientErrorException.Gone",
            415 => "HttpClientErrorException.UnsupportedMediaType",
            422 => "HttpClientErrorException.UnprocessableEntity",
            429 => "HttpClientErrorException.TooManyRequests",
            _ => HTTP_CLIENT_ERROR,
        };
        let server = |s| match s {
            500 => "HttpServerErrorException.InternalServerError",
            501 => "HttpServerErrorException.NotImplemented",
            502 => "HttpServerErrorException.BadGateway",
            503 => "HttpServerErrorException.ServiceUnavailable",
            504 => "HttpServerErrorException.GatewayTimeout",
            _ => HTTP_SERVER_ERROR,
        };
        match status {
            400..=499 => Some(client(status)),
            500.. => Some(server(status)),
            _ => None,
        }
    }

    /// A response with a 5xx status (Spring `HttpServerErrorException`).
    pub const HTTP_SERVER_ERROR: &str = "HttpServerErrorException";
    /// A response with a 4xx status (Spring `HttpClientErrorException`).
    pub const HTTP_CLIENT_ERROR: &str = "HttpClientErrorException";
    /// The target refused the connection: its process is down, its host answered with a TCP
    /// reset (`java.net.ConnectException: Connection refused`).
    pub const CONNECT: &str = "ConnectException";
    /// No response within the HTTP client's read timeout (`http_timeout_ms`;
    /// `java.net.SocketTimeoutException`).
    pub const SOCKET_TIMEOUT: &str = "SocketTimeoutException";
    /// The client's HTTP connection pool is exhausted ([`super::bounds::MAX_REQUESTS`]
    /// outstanding; Apache HttpClient's `ConnectionPoolTimeoutException`).
    pub const POOL_EXHAUSTED: &str = "ConnectionPoolTimeoutException";
    /// Client-side discovery found no instance to call (Spring Cloud LoadBalancer's "No
    /// instances available").
    pub const NO_INSTANCES: &str = "NoInstancesAvailableException";
    /// The time limiter's deadline passed (Resilience4j `TimeoutException`).
    pub const TIMEOUT: &str = crate::resilience::time_limiter::TIMEOUT_ERROR_KIND;
    /// The circuit breaker rejected the attempt (Resilience4j `CallNotPermittedException`).
    pub const CALL_NOT_PERMITTED: &str =
        crate::resilience::circuit_breaker::CALL_NOT_PERMITTED_ERROR_KIND;
    /// The bulkhead was full (Resilience4j `BulkheadFullException`).
    pub const BULKHEAD_FULL: &str = crate::resilience::bulkhead::BULKHEAD_FULL_ERROR_KIND;
    /// The rate limiter had no permission in time (Resilience4j `RequestNotPermitted`).
    pub const REQUEST_NOT_PERMITTED: &str =
        crate::resilience::rate_limiter::REQUEST_NOT_PERMITTED_ERROR_KIND;

    /// The kinds msgsim retries when a retry config names no `retryExceptions`: server errors
    /// (5xx), timeouts (time limiter and socket) and connection errors. Everything else — 4xx,
    /// the client's own rejections (breaker, bulkhead, limiter), no instance — fails at once.
    /// This is msgsim's "retry only on retriable outcomes" rule, written as the
    /// `retryExceptions` list a Resilience4j user would configure; a retry config that names
    /// `retryExceptions` itself is used as given.
    pub const RETRIABLE: [&str; 4] = [HTTP_SERVER_ERROR, TIMEOUT, SOCKET_TIMEOUT, CONNECT];
}

/// Limits on what synchronous communication keeps while a run goes on.
pub mod bounds {
    /// Logical calls in progress in the whole run; a call beyond it is shed (counted).
    pub const MAX_CALLS: usize = 100_000;
    /// Business operations in progress per client instance (blocked callers); a workload tick
    /// beyond it is shed (counted in [`super::ClientMetrics::shed`]).
    pub const MAX_CALLS_PER_INSTANCE: u32 = 1_000;
    /// Entries of one service registry; a registration beyond it is refused.
    pub const MAX_REGISTRY_ENTRIES: usize = 1_024;
    /// Upstream HTTP requests outstanding in the whole run (a timed-out request whose time
    /// limiter does not cancel it stays outstanding until it ends). An attempt beyond it fails
    /// at once with `ConnectionPoolTimeoutException`, as an exhausted HTTP connection pool.
    pub const MAX_REQUESTS: usize = 200_000;
    /// Calls (or, at a router, requests) waiting for one discovery lookup.
    pub const MAX_LOOKUP_WAITERS: usize = 1_000;
    /// Requests a router forwards at once; beyond it, it answers 503.
    pub const MAX_ROUTER_PENDING: usize = 10_000;
    /// Resources one collection of a service holds; a create beyond it answers 507.
    pub const MAX_COLLECTION_ITEMS: usize = 10_000;
    /// A discovery lookup without an answer after this long (ms) is given up: a stale cache is
    /// used if there is one, else the waiting calls fail with `NoInstancesAvailableException`.
    pub const LOOKUP_TIMEOUT_MS: u64 = 1_000;
}
