//! Scenario specs of synchronous communication (serde JSON, `deny_unknown_fields`) and their
//! validation. Scenario-level fields use msgsim's snake_case; resilience policies inside a
//! dependency use Resilience4j's camelCase property names (see [`crate::resilience`]).

use super::http::{match_path, Method};
use crate::error::ScenarioError;
use crate::network::MAX_LATENCY_MS;
use crate::resilience::{Policies, RetryConfig};
use crate::scenario::{limits, NodeKind, Scenario};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Limits on the synchronous parts of a scenario.
pub mod limits_sync {
    /// Endpoints of one service's API.
    pub const MAX_ENDPOINTS: usize = 64;
    /// Collections of one service.
    pub const MAX_COLLECTIONS: usize = 16;
    /// Seed items of one collection.
    pub const MAX_SEED_ITEMS: usize = 1_000;
    /// Downstream calls one endpoint makes per request.
    pub const MAX_DOWNSTREAM: usize = 8;
    /// Steps of one call workload's business operation.
    pub const MAX_STEPS: usize = 16;
    /// Dependencies of a scenario.
    pub const MAX_DEPENDENCIES: usize = 256;
    /// Call workloads of a scenario.
    pub const MAX_CALL_WORKLOADS: usize = 64;
    /// Worker threads of one service instance.
    pub const MAX_WORKERS: u32 = 1_024;
    /// Waiting requests of one service instance.
    pub const MAX_QUEUE: u32 = 100_000;
    /// Characters of a path or path template.
    pub const MAX_PATH: usize = 256;
    /// A registrar's `failure_threshold` (failed probes before deregistration).
    pub const MAX_FAILURE_THRESHOLD: u64 = 1_000;
    /// Characters of a name (operation, relation, link relation), as [`crate::ranges::MAX_NAME`].
    pub const MAX_NAME: usize = crate::ranges::MAX_NAME;
}
use limits_sync::*;

/// The REST API of a service, as its RPI server adapter exposes it (`apis[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// The service (a `service` node) this API belongs to.
    pub service: String,
    /// Requests one instance handles at once (its worker threads, as Tomcat's `maxThreads`).
    /// A request holds its worker for its whole service time, downstream calls included.
    /// Default 8, 1..=1024.
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// Requests waiting for a worker per instance (as Tomcat's `acceptCount`, default 100);
    /// one beyond it is answered `503 Service Unavailable` at once. Default 100, at most 100 000.
    #[serde(default = "default_max_queue")]
    pub max_queue: u32,
    /// REST maturity level of this API, 0–3 (Richardson). At 3 every representation carries
    /// HATEOAS `_links`; below it is a label for the UI. Default 2.
    #[serde(default = "default_level")]
    pub level: u8,
    /// The resources the service logic keeps (its database).
    #[serde(default)]
    pub collections: Vec<CollectionSpec>,
    /// Endpoints, matched in order: the first whose method, path template and `body_match` fit.
    #[serde(default)]
    pub endpoints: Vec<EndpointSpec>,
}

fn default_workers() -> u32 {
    8
}
fn default_max_queue() -> u32 {
    100
}
fn default_level() -> u8 {
    2
}

/// A collection of resources (`orders`): representations live at `/{name}/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSpec {
    /// Name, also the first path segment of its resources' URLs.
    pub name: String,
    /// Resources present at the start (JSON objects). An item's `id` (a number) is kept; items
    /// without one are numbered from 1.
    #[serde(default)]
    pub items: Vec<Value>,
    /// Level 3: links added to a representation's `_links` (besides `self`), each only when
    /// its `when` fields equal the resource's.
    #[serde(default)]
    pub links: Vec<LinkTemplate>,
    /// Related resources that `?expand=<name>` embeds into a representation (and that level 3
    /// links to).
    #[serde(default)]
    pub relations: Vec<RelationSpec>,
}

/// A HATEOAS link of a representation: `{"rel": "cancel", "href": "/orders/{id}/cancel",
/// "when": {"state": "APPROVED"}}`. `{field}` in `href` takes the resource's field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkTemplate {
    /// Link relation (`cancel`).
    pub rel: String,
    /// Target URL template.
    pub href: String,
    /// The link is present only when every field here equals the resource's. Default: always.
    #[serde(default)]
    pub when: Map<String, Value>,
}

/// A related resource: `{"name": "consumer", "collection": "consumers", "field":
/// "consumerId"}` — the resource's `consumerId` is the id of a `consumers` resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationSpec {
    /// Name used in `?expand=` and as the embedded field and link relation.
    pub name: String,
    /// The related collection (of the same service).
    pub collection: String,
    /// Field of the resource holding the related id.
    pub field: String,
}

/// What the service logic does for an endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Answers `status` with the `body` template (`{param}` from the path, `{downstream}` the
    /// last downstream response's body).
    #[default]
    Static,
    /// Creates a resource in `collection` from the request body (minus `body_match` fields)
    /// plus `set`, with the next id; answers its representation, status default 201.
    Create,
    /// Answers the representation of resource `id` of `collection` (404 if absent), with
    /// `?expand=` relations embedded.
    Read,
    /// If resource `id` has every `require` field, applies `set` and answers its representation;
    /// else 409 Conflict (404 if absent). For actions that do not map onto a verb
    /// (`POST /orders/{id}/cancel`).
    Update,
}

/// Server-side behaviour of an endpoint (`latency_ms`, slow calls, error rate): the service
/// time one request holds a worker for, and how often it fails. All default to "5 ms, healthy".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerBehaviour {
    /// Service time of a normal request, ms. Default 5.
    pub latency_ms: u64,
    /// Uniform ± variation of the service time, ms. Default 0.
    pub jitter_ms: u64,
    /// Percentage (0–100) of requests that are slow instead. Default 0.
    pub slow_percent: f64,
    /// Service time of a slow request, ms. Default 0.
    pub slow_latency_ms: u64,
    /// Percentage (0–100) of requests answered with `error_status` (after their service time).
    /// Default 0.
    pub error_percent: f64,
    /// Status of an injected error. Default 500.
    pub error_status: u16,
}

impl Default for ServerBehaviour {
    fn default() -> Self {
        ServerBehaviour {
            latency_ms: 5,
            jitter_ms: 0,
            slow_percent: 0.0,
            slow_latency_ms: 0,
            error_percent: 0.0,
            error_status: 500,
        }
    }
}

impl ServerBehaviour {
    /// Checks ranges; `at` is the field path used in errors.
    pub fn validate(&self, at: &str) -> Result<(), ScenarioError> {
        pct(at, "slow_percent", self.slow_percent)?;
        pct(at, "error_percent", self.error_percent)?;
        for (name, v) in [
            ("latency_ms", self.latency_ms),
            ("jitter_ms", self.jitter_ms),
            ("slow_latency_ms", self.slow_latency_ms),
        ] {
            crate::ranges::ms_max(format!("{at}.{name}"), v, 0, MAX_LATENCY_MS)?;
        }
        status(&format!("{at}.error_status"), self.error_status)
    }
}

/// One endpoint of a service's API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Operation name shown in traces (`getOrder`). Default: method and path.
    #[serde(default)]
    pub name: String,
    /// HTTP method.
    pub method: Method,
    /// Path template: `/orders/{id}/cancel`; `{x}` matches one segment.
    pub path: String,
    /// The request body must contain these fields with these values (level 0/1 APIs select the
    /// operation by a body field, e.g. `{"operation": "getOrder"}`). Default: any body.
    #[serde(default)]
    pub body_match: Map<String, Value>,
    /// What the service logic does. Default `static`.
    #[serde(default)]
    pub action: Action,
    /// The collection `create`/`read`/`update` work on.
    #[serde(default)]
    pub collection: Option<String>,
    /// Take the resource id from this request-body field instead of the `{id}` path parameter
    /// (level 0/1).
    #[serde(default)]
    pub id_field: Option<String>,
    /// Fields `create` and `update` set.
    #[serde(default)]
    pub set: Map<String, Value>,
    /// Fields `update` requires (else 409 Conflict).
    #[serde(default)]
    pub require: Map<String, Value>,
    /// Success status. Default 201 for `create`, else 200.
    #[serde(default)]
    pub status: Option<u16>,
    /// Response body template of a `static` endpoint.
    #[serde(default)]
    pub body: Value,
    /// Answer errors (404, 409) as `200 OK` with `{"error": ...}` in the body, as level 0 APIs
    /// often do. Default false.
    #[serde(default)]
    pub errors_in_body: bool,
    /// Calls the service logic makes to other services (through this service's own proxy and
    /// policies) before its service time, one after the other, holding its worker. If one fails
    /// (no fallback), the endpoint answers 500 at once.
    #[serde(default)]
    pub downstream: Vec<DownstreamSpec>,
    /// Service time and error rate.
    #[serde(flatten)]
    pub behaviour: ServerBehaviour,
}

/// A call an endpoint's logic makes to another service: `{"to": "payments", "method": "POST",
/// "path": "/payments", "body": {"order": "{id}"}}` (`{param}` from the incoming path).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownstreamSpec {
    /// Operation name for traces. Default: method and path.
    #[serde(default)]
    pub name: String,
    /// The called service.
    pub to: String,
    /// Method.
    pub method: Method,
    /// Path template.
    pub path: String,
    /// Body template.
    #[serde(default)]
    pub body: Value,
}

/// A client's dependency on a service: its resilience policies, fallback and discovery
/// (`dependencies[]`). A call to a service without a declared dependency uses the defaults:
/// direct, no policies, no fallback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencySpec {
    /// The calling service.
    pub from: String,
    /// The called service.
    pub to: String,
    /// Resilience4j policies with their property names (`circuitBreaker`, `retry`,
    /// `bulkhead`, `rateLimiter`, `timeLimiter`), stacked as
    /// `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call)))))`. A `retry` without
    /// `retryExceptions` retries only [`super::error_kinds::RETRIABLE`]. One instance of each
    /// policy per client instance (per JVM). Default: none.
    #[serde(default)]
    pub policies: Policies,
    /// Answer the business logic with this response when a call fails after its retries
    /// (Resilience4j's `fallbackMethod`). Default: none, the failure propagates.
    #[serde(default)]
    pub fallback: Option<FallbackSpec>,
    /// How the client finds an instance. Default `{"mode": "direct"}`.
    #[serde(default)]
    pub discovery: DiscoverySpec,
    /// The HTTP client's read timeout, ms: a request without an answer after it fails with
    /// `SocketTimeoutException` (OkHttp's default `readTimeout`, 10 s). Always on, so no request
    /// waits forever. Default 10 000, 1..=3 600 000.
    #[serde(default = "default_http_timeout_ms")]
    pub http_timeout_ms: u64,
}

fn default_http_timeout_ms() -> u64 {
    10_000
}

/// A fallback response: `{"status": 200, "body": {"source": "cache"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackSpec {
    /// Status. Default 200.
    #[serde(default = "default_ok")]
    pub status: u16,
    /// Body.
    #[serde(default)]
    pub body: Value,
}

fn default_ok() -> u16 {
    200
}

/// How a client finds the instance to call (reference: "Service Discovery").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscoverySpec {
    /// The client knows every instance's location (static configuration) and takes them round
    /// robin, whatever their health.
    #[default]
    Direct,
    /// Application-level discovery: the client asks the registry, caches the answer for
    /// `cache_ttl_ms`, and load-balances over the cached instances (Spring Cloud LoadBalancer
    /// with a Eureka client). Before the first answer, and while a lookup is in flight, calls
    /// wait for it.
    Client {
        /// The registry node.
        registry: String,
        /// Round robin (default) or random.
        #[serde(default)]
        load_balancer: LoadBalancer,
        /// How long a lookup's answer is used, ms (Spring Cloud LoadBalancer caches 35 s; the
        /// playground default is 2 000). At least 1.
        #[serde(default = "default_cache_ttl_ms")]
        cache_ttl_ms: u64,
    },
    /// Platform-level discovery: the client calls a router node (as a Kubernetes Service's
    /// virtual IP) that picks an instance.
    Router {
        /// The router node.
        router: String,
    },
}

fn default_cache_ttl_ms() -> u64 {
    2_000
}

/// Load balancing over instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancer {
    /// Each instance in turn.
    #[default]
    RoundRobin,
    /// Uniformly at random, from a seeded stream of the balancer's own.
    Random,
}

/// A call workload: client business logic that runs an operation (one or more steps, each a
/// blocking call through the proxy) every `every_ms` (`calls[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallWorkloadSpec {
    /// The calling service (its instances take the ticks round robin).
    pub from: String,
    /// The called service.
    pub to: String,
    /// First tick, ms after start. Default 0.
    #[serde(default)]
    pub start_ms: u64,
    /// Interval between ticks, ms. 1..=3 600 000.
    pub every_ms: u64,
    /// Random ± variation of the interval, ms, at most 3 600 000. Default 0.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Number of ticks; at most 10 000 000.
    pub count: u64,
    /// The operation's steps, run one after the other; a step that fails ends the operation.
    pub steps: Vec<StepSpec>,
    /// An application-level retry around each step's whole proxy call (fallback and client
    /// retry included), with Resilience4j retry names. Nested retries multiply upstream
    /// requests. Default none.
    #[serde(default)]
    pub app_retry: Option<RetryConfig>,
}

/// One step of a call workload's operation. `{n}` is the tick number; `{field}` takes a
/// top-level field of the previous step's response body (`{id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Operation name for traces (`createOrder`). Default: method and path.
    #[serde(default)]
    pub name: String,
    /// Method.
    pub method: Method,
    /// Path template. Required unless `follow` is given; with `follow` it may be a query
    /// (`?expand=consumer`) appended to the link.
    #[serde(default)]
    pub path: String,
    /// Body template.
    #[serde(default)]
    pub body: Value,
    /// HATEOAS: take the path from the previous response's `_links.<follow>.href`; if the link
    /// is absent the action is not available and the step is skipped (and the operation ends).
    #[serde(default)]
    pub follow: Option<String>,
}

/// How a service's instances get into a registry (`registrations[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSpec {
    /// The service (a `service` node) whose instances register.
    pub service: String,
    /// The registry node.
    pub registry: String,
    /// `self` (default): each instance registers itself and renews every `heartbeat_ms`
    /// (Eureka client). `third_party`: a registrar node health-checks the instances and
    /// registers them (Kubernetes, Registrator).
    #[serde(default)]
    pub mode: RegistrationMode,
    /// The registrar node, for `third_party`.
    #[serde(default)]
    pub registrar: Option<String>,
    /// Renewal interval of self-registration, ms (Eureka `leaseRenewalIntervalInSeconds`,
    /// 30 s; playground default 1 000). At least 1.
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// Lease: an entry not renewed for this long expires, ms (Eureka
    /// `leaseExpirationDurationInSeconds`, 90 s; playground default 3 000). At least 1.
    #[serde(default = "default_ttl_ms")]
    pub ttl_ms: u64,
    /// Port registered with the host (`10.0.<node>.<instance+1>`). Default 8080.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Metadata registered with each instance (any JSON; `{instance}` is replaced by the
    /// instance index).
    #[serde(default)]
    pub metadata: Value,
}

fn default_heartbeat_ms() -> u64 {
    1_000
}
fn default_ttl_ms() -> u64 {
    3_000
}
fn default_port() -> u16 {
    8080
}

/// Who registers a service's instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// Self-registration: the instance registers and heartbeats.
    #[default]
    #[serde(rename = "self")]
    SelfRegistration,
    /// Third-party registration: a registrar does it after health checks.
    ThirdParty,
}

/// Settings of a registrar node (`registrars[]`): every `period_ms` it probes the instances of the
/// services that name it; a healthy instance is registered (its lease renewed), one that failed
/// `failure_threshold` probes in a row is deregistered (Kubernetes probe `periodSeconds` 10,
/// `failureThreshold` 3; playground default 1 000 ms). A probe not answered by the next one
/// counts as failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarSpec {
    /// The registrar node.
    pub node: String,
    /// Probe period, ms. Default 1 000, at least 1.
    #[serde(default = "default_period_ms")]
    pub period_ms: u64,
    /// Failed probes in a row before deregistration. Default 3, at least 1.
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
}

fn default_period_ms() -> u64 {
    1_000
}
fn default_failure_threshold() -> u32 {
    3
}

impl RegistrarSpec {
    /// The defaults for registrar node `node`.
    pub fn defaults(node: &str) -> RegistrarSpec {
        RegistrarSpec {
            node: node.to_string(),
            period_ms: default_period_ms(),
            failure_threshold: default_failure_threshold(),
        }
    }
}

/// Settings of a router node (`routers[]`), as a Kubernetes Service in front of a service's
/// instances: clients call the router, which forwards each request to an instance and relays
/// the answer (a refused connection is relayed as refused).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// The router node.
    pub node: String,
    /// The service behind it.
    pub service: String,
    /// Registry its endpoint list comes from (looked up, cached `cache_ttl_ms`). Default none:
    /// every instance, healthy or not.
    #[serde(default)]
    pub registry: Option<String>,
    /// Random (default, as kube-proxy in iptables mode) or round robin.
    #[serde(default = "default_random")]
    pub load_balancer: LoadBalancer,
    /// How long a lookup's answer is used, ms. Default 1 000, at least 1.
    #[serde(default = "default_router_ttl_ms")]
    pub cache_ttl_ms: u64,
    /// A forwarded request without an answer after this long is forgotten, ms. Default 30 000,
    /// at least 1.
    #[serde(default = "default_router_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_random() -> LoadBalancer {
    LoadBalancer::Random
}
fn default_router_ttl_ms() -> u64 {
    1_000
}
fn default_router_timeout_ms() -> u64 {
    30_000
}

impl Scenario {
    /// The API of service `name`, if it has one.
    pub fn api_of(&self, name: &str) -> Option<&ApiSpec> {
        self.apis.iter().find(|a| a.service == name)
    }

    /// The registration of service `name`, if it has one.
    pub fn registration_of(&self, name: &str) -> Option<&RegistrationSpec> {
        self.registrations.iter().find(|r| r.service == name)
    }

    /// The settings of router node `name`.
    pub fn router_of(&self, name: &str) -> Option<&RouterSpec> {
        self.routers.iter().find(|r| r.node == name)
    }

    /// The settings of registrar node `name` (its entry in `registrars`, or the defaults).
    pub fn registrar_of(&self, name: &str) -> RegistrarSpec {
        self.registrars
            .iter()
            .find(|r| r.node == name)
            .cloned()
            .unwrap_or_else(|| RegistrarSpec::defaults(name))
    }
}

// ----- validation -----

fn invalid(field: String, message: String) -> ScenarioError {
    ScenarioError::Invalid { field, message }
}

fn pct(at: &str, name: &str, v: f64) -> Result<(), ScenarioError> {
    crate::ranges::percent(format!("{at}.{name}"), v)
}

fn status(field: &str, s: u16) -> Result<(), ScenarioError> {
    crate::ranges::int(field, s.into(), 100, 599, "HTTP status")
}

fn ms_range(field: String, v: u64) -> Result<(), ScenarioError> {
    crate::ranges::ms_max(field, v, 1, MAX_LATENCY_MS)
}

fn path_ok(field: String, p: &str) -> Result<(), ScenarioError> {
    if !p.starts_with('/') || p.len() > MAX_PATH {
        return Err(invalid(
            field,
            format!(
                "`{}` must start with `/` and be at most {MAX_PATH} characters",
                p.escape_debug()
            ),
        ));
    }
    if let Some((i, c)) = p.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        return Err(invalid(
            field,
            format!(
                "character {} of `{}` is `{}` (U+{:04X}); a path uses visible ASCII                  characters (no spaces or control characters)",
                i + 1,
                p.escape_debug(),
                c.escape_debug(),
                c as u32
            ),
        ));
    }
    Ok(())
}

/// A name that may be left empty (then derived, e.g. from method and path): empty or
/// [`crate::ranges::name`].
fn optional_name(field: String, name: &str) -> Result<(), ScenarioError> {
    if name.is_empty() {
        Ok(())
    } else {
        crate::ranges::name(field, name, crate::ranges::MAX_NAME)
    }
}

fn too(what: &'static str, got: usize, max: usize) -> Result<(), ScenarioError> {
    if got > max {
        Err(ScenarioError::TooLarge {
            what,
            got: got as u64,
            max: max as u64,
        })
    } else {
        Ok(())
    }
}

fn policies_ok(field: &str, p: &Policies) -> Result<(), ScenarioError> {
    p.validate().map_err(|e| {
        let crate::resilience::ConfigError::Invalid {
            policy,
            field: f,
            value,
            expected,
        } = e;
        invalid(
            format!("{field}.{policy}.{f}"),
            format!("invalid value {value}: {expected}"),
        )
    })
}

/// Checks the synchronous parts of a scenario: node kinds and their specs, APIs, dependencies,
/// discovery, registrations and call workloads (names, references, links, ranges, limits).
/// Called by [`Scenario::validate`].
pub(crate) fn validate(s: &Scenario) -> Result<(), ScenarioError> {
    use ScenarioError::UnknownName;
    too("dependencies", s.dependencies.len(), MAX_DEPENDENCIES)?;
    too("call workloads", s.calls.len(), MAX_CALL_WORKLOADS)?;
    let node = |field: String, name: &str| -> Result<usize, ScenarioError> {
        s.node_index(name).ok_or_else(|| UnknownName {
            field,
            name: name.to_string(),
        })
    };
    let kind_is = |field: String, i: usize, k: NodeKind, what: &str| {
        if s.nodes[i].kind == k {
            Ok(())
        } else {
            Err(invalid(
                field,
                format!("`{}` is not a {what}", s.nodes[i].name),
            ))
        }
    };
    let linked = |x: &str, y: &str| {
        s.links
            .iter()
            .any(|l| (l.a == x && l.b == y) || (l.a == y && l.b == x))
    };
    let need_link = |field: String, x: &str, y: &str| {
        if linked(x, y) {
            Ok(())
        } else {
            Err(invalid(field, format!("no link between `{x}` and `{y}`")))
        }
    };
    for (i, n) in s.nodes.iter().enumerate() {
        let infra = matches!(
            n.kind,
            NodeKind::Registry | NodeKind::Router | NodeKind::Registrar
        );
        if infra && n.instances != 1 {
            return Err(invalid(
                format!("nodes[{i}].instances"),
                "a registry, router or registrar has exactly one instance".into(),
            ));
        }
        if n.kind == NodeKind::Router && s.router_of(&n.name).is_none() {
            return Err(invalid(
                format!("nodes[{i}]"),
                format!("router `{}` needs an entry in `routers`", n.name),
            ));
        }
    }
    too("apis", s.apis.len(), limits::MAX_NODES)?;
    too("registrations", s.registrations.len(), limits::MAX_NODES)?;
    too("routers", s.routers.len(), limits::MAX_NODES)?;
    too("registrars", s.registrars.len(), limits::MAX_NODES)?;
    for (i, api) in s.apis.iter().enumerate() {
        let at = format!("apis[{i}]");
        let n = node(format!("{at}.service"), &api.service)?;
        kind_is(format!("{at}.service"), n, NodeKind::Service, "service")?;
        if s.apis[..i].iter().any(|o| o.service == api.service) {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` already has an api", api.service),
            ));
        }
        validate_api(&at, api)?;
        for (e, ep) in api.endpoints.iter().enumerate() {
            for (d, ds) in ep.downstream.iter().enumerate() {
                let field = format!("{at}.endpoints[{e}].downstream[{d}].to");
                let t = node(field.clone(), &ds.to)?;
                called_ok(s, &field, &api.service, t)?;
            }
        }
    }
    for (i, r) in s.registrations.iter().enumerate() {
        let at = format!("registrations[{i}]");
        let n = node(format!("{at}.service"), &r.service)?;
        kind_is(format!("{at}.service"), n, NodeKind::Service, "service")?;
        if s.registrations[..i].iter().any(|o| o.service == r.service) {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` is already registered", r.service),
            ));
        }
        let reg = node(format!("{at}.registry"), &r.registry)?;
        kind_is(
            format!("{at}.registry"),
            reg,
            NodeKind::Registry,
            "registry",
        )?;
        ms_range(format!("{at}.heartbeat_ms"), r.heartbeat_ms)?;
        ms_range(format!("{at}.ttl_ms"), r.ttl_ms)?;
        match r.mode {
            RegistrationMode::SelfRegistration => {
                if r.registrar.is_some() {
                    return Err(invalid(
                        format!("{at}.registrar"),
                        "only `third_party` registration names a registrar".into(),
                    ));
                }
                need_link(format!("{at}.registry"), &r.service, &r.registry)?;
            }
            RegistrationMode::ThirdParty => {
                let Some(rr) = &r.registrar else {
                    return Err(invalid(
                        format!("{at}.registrar"),
                        "`third_party` registration needs a registrar".into(),
                    ));
                };
                let g = node(format!("{at}.registrar"), rr)?;
                kind_is(
                    format!("{at}.registrar"),
                    g,
                    NodeKind::Registrar,
                    "registrar",
                )?;
                need_link(format!("{at}.registrar"), rr, &r.service)?;
                need_link(format!("{at}.registrar"), rr, &r.registry)?;
            }
        }
    }
    for (i, r) in s.routers.iter().enumerate() {
        let at = format!("routers[{i}]");
        let n = node(format!("{at}.node"), &r.node)?;
        kind_is(format!("{at}.node"), n, NodeKind::Router, "router")?;
        if s.routers[..i].iter().any(|o| o.node == r.node) {
            return Err(invalid(
                format!("{at}.node"),
                format!("router `{}` is configured twice", r.node),
            ));
        }
        let t = node(format!("{at}.service"), &r.service)?;
        kind_is(format!("{at}.service"), t, NodeKind::Service, "service")?;
        if s.api_of(&r.service).is_none() {
            return Err(invalid(
                format!("{at}.service"),
                format!("`{}` has no api", r.service),
            ));
        }
        need_link(format!("{at}.service"), &r.node, &r.service)?;
        if let Some(reg) = &r.registry {
            let g = node(format!("{at}.registry"), reg)?;
            kind_is(format!("{at}.registry"), g, NodeKind::Registry, "registry")?;
            need_link(format!("{at}.registry"), &r.node, reg)?;
        }
        ms_range(format!("{at}.cache_ttl_ms"), r.cache_ttl_ms)?;
        ms_range(format!("{at}.timeout_ms"), r.timeout_ms)?;
    }
    for (i, r) in s.registrars.iter().enumerate() {
        let at = format!("registrars[{i}]");
        let n = node(format!("{at}.node"), &r.node)?;
        kind_is(format!("{at}.node"), n, NodeKind::Registrar, "registrar")?;
        if s.registrars[..i].iter().any(|o| o.node == r.node) {
            return Err(invalid(
                format!("{at}.node"),
                format!("registrar `{}` is configured twice", r.node),
            ));
        }
        ms_range(format!("{at}.period_ms"), r.period_ms)?;
        crate::ranges::int(
            format!("{at}.failure_threshold"),
            r.failure_threshold.into(),
            1,
            MAX_FAILURE_THRESHOLD,
            "",
        )?;
    }
    for (i, d) in s.dependencies.iter().enumerate() {
        let at = format!("dependencies[{i}]");
        let f = node(format!("{at}.from"), &d.from)?;
        kind_is(format!("{at}.from"), f, NodeKind::Service, "service")?;
        let t = node(format!("{at}.to"), &d.to)?;
        if s.dependencies[..i]
            .iter()
            .any(|o| o.from == d.from && o.to == d.to)
        {
            return Err(invalid(
                at,
                format!("duplicate dependency {} -> {}", d.from, d.to),
            ));
        }
        if f == t {
            return Err(invalid(at, "a service does not call itself".into()));
        }
        kind_is(format!("{at}.to"), t, NodeKind::Service, "service")?;
        if s.api_of(&d.to).is_none() {
            return Err(invalid(
                format!("{at}.to"),
                format!("`{}` has no api", d.to),
            ));
        }
        policies_ok(&format!("{at}.policies"), &d.policies)?;
        if let Some(fb) = &d.fallback {
            status(&format!("{at}.fallback.status"), fb.status)?;
        }
        ms_range(format!("{at}.http_timeout_ms"), d.http_timeout_ms)?;
        match &d.discovery {
            DiscoverySpec::Direct => need_link(format!("{at}.to"), &d.from, &d.to)?,
            DiscoverySpec::Client {
                registry,
                cache_ttl_ms,
                ..
            } => {
                let g = node(format!("{at}.discovery.registry"), registry)?;
                kind_is(
                    format!("{at}.discovery.registry"),
                    g,
                    NodeKind::Registry,
                    "registry",
                )?;
                need_link(format!("{at}.discovery.registry"), &d.from, registry)?;
                need_link(format!("{at}.to"), &d.from, &d.to)?;
                ms_range(format!("{at}.discovery.cache_ttl_ms"), *cache_ttl_ms)?;
            }
            DiscoverySpec::Router { router } => {
                let r = node(format!("{at}.discovery.router"), router)?;
                kind_is(
                    format!("{at}.discovery.router"),
                    r,
                    NodeKind::Router,
                    "router",
                )?;
                if s.router_of(router).map(|x| x.service.as_str()) != Some(&d.to) {
                    return Err(invalid(
                        format!("{at}.discovery.router"),
                        format!("router `{router}` does not front `{}`", d.to),
                    ));
                }
                need_link(format!("{at}.discovery.router"), &d.from, router)?;
            }
        }
    }
    for (i, w) in s.calls.iter().enumerate() {
        let at = format!("calls[{i}]");
        let f = node(format!("{at}.from"), &w.from)?;
        kind_is(format!("{at}.from"), f, NodeKind::Service, "service")?;
        let t = node(format!("{at}.to"), &w.to)?;
        called_ok(s, &format!("{at}.to"), &w.from, t)?;
        crate::ranges::ms(format!("{at}.start_ms"), w.start_ms, 0)?;
        ms_range(format!("{at}.every_ms"), w.every_ms)?;
        crate::ranges::ms_max(format!("{at}.jitter_ms"), w.jitter_ms, 0, MAX_LATENCY_MS)?;
        crate::ranges::int(
            format!("{at}.count"),
            w.count,
            0,
            limits::MAX_WORKLOAD_COUNT,
            "",
        )?;
        if w.steps.is_empty() {
            return Err(invalid(
                format!("{at}.steps"),
                "an operation needs at least one step".into(),
            ));
        }
        too("steps of a call workload", w.steps.len(), MAX_STEPS)?;
        for (j, st) in w.steps.iter().enumerate() {
            optional_name(format!("{at}.steps[{j}].name"), &st.name)?;
            if let Some(rel) = &st.follow {
                crate::ranges::name(format!("{at}.steps[{j}].follow"), rel, MAX_NAME)?;
            }
            let field = format!("{at}.steps[{j}].path");
            if st.follow.is_none() {
                path_ok(field, &st.path)?;
            } else if !(st.path.is_empty() || st.path.starts_with('?'))
                || st.path.len() > MAX_PATH
                || !st.path.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(invalid(
                    field,
                    "with `follow`, `path` is empty or a query starting with `?`".into(),
                ));
            }
        }
        if let Some(r) = &w.app_retry {
            r.validate().map_err(|e| {
                let crate::resilience::ConfigError::Invalid {
                    field,
                    value,
                    expected,
                    ..
                } = e;
                invalid(
                    format!("{at}.app_retry.{field}"),
                    format!("invalid value {value}: {expected}"),
                )
            })?;
        }
    }
    no_call_cycles(s)
}

/// `caller` may call node `t`: a service with an API, not itself, reachable the way its
/// dependency (declared or default direct) says.
fn called_ok(s: &Scenario, field: &str, caller: &str, t: usize) -> Result<(), ScenarioError> {
    let to = &s.nodes[t];
    if to.kind != NodeKind::Service || s.api_of(&to.name).is_none() {
        return Err(invalid(
            field.to_string(),
            format!("`{}` is not a service with an api", to.name),
        ));
    }
    if to.name == caller {
        return Err(invalid(
            field.to_string(),
            "a service does not call itself".into(),
        ));
    }
    let declared = s
        .dependencies
        .iter()
        .any(|d| d.from == caller && d.to == to.name);
    let linked = s
        .links
        .iter()
        .any(|l| (l.a == caller && l.b == to.name) || (l.a == to.name && l.b == caller));
    if !declared && !linked {
        return Err(invalid(
            field.to_string(),
            format!(
                "no link between `{caller}` and `{}` (declare a dependency to call it through \
                 a router)",
                to.name
            ),
        ));
    }
    Ok(())
}

fn validate_api(at: &str, api: &ApiSpec) -> Result<(), ScenarioError> {
    use crate::ranges::int;
    int(
        format!("{at}.workers"),
        api.workers.into(),
        1,
        MAX_WORKERS.into(),
        "",
    )?;
    int(
        format!("{at}.max_queue"),
        api.max_queue.into(),
        0,
        MAX_QUEUE.into(),
        "requests",
    )?;
    int(
        format!("{at}.level"),
        api.level.into(),
        0,
        3,
        "REST maturity level",
    )?;
    too("endpoints of an api", api.endpoints.len(), MAX_ENDPOINTS)?;
    too(
        "collections of an api",
        api.collections.len(),
        MAX_COLLECTIONS,
    )?;
    let coll = |field: String, name: &str| {
        api.collections
            .iter()
            .position(|c| c.name == name)
            .ok_or(ScenarioError::UnknownName {
                field,
                name: name.to_string(),
            })
    };
    for (c, spec) in api.collections.iter().enumerate() {
        let cat = format!("{at}.collections[{c}]");
        crate::ranges::name(format!("{cat}.name"), &spec.name, 32)?;
        if api.collections[..c].iter().any(|o| o.name == spec.name) {
            return Err(invalid(
                format!("{cat}.name"),
                format!("duplicate collection `{}`", spec.name),
            ));
        }
        too(
            "seed items of a collection",
            spec.items.len(),
            MAX_SEED_ITEMS,
        )?;
        for (k, item) in spec.items.iter().enumerate() {
            let ok = match item {
                Value::Object(o) => o.get("id").is_none_or(|v| v.as_u64().is_some()),
                _ => false,
            };
            if !ok {
                return Err(invalid(
                    format!("{cat}.items[{k}]"),
                    "must be an object whose `id`, if any, is a non-negative integer".into(),
                ));
            }
        }
        for (k, l) in spec.links.iter().enumerate() {
            path_ok(format!("{cat}.links[{k}].href"), &l.href)?;
        }
        for (k, l) in spec.links.iter().enumerate() {
            crate::ranges::name(format!("{cat}.links[{k}].rel"), &l.rel, MAX_NAME)?;
        }
        for (k, r) in spec.relations.iter().enumerate() {
            crate::ranges::name(format!("{cat}.relations[{k}].name"), &r.name, MAX_NAME)?;
            coll(format!("{cat}.relations[{k}].collection"), &r.collection)?;
        }
    }
    for (e, ep) in api.endpoints.iter().enumerate() {
        let eat = format!("{at}.endpoints[{e}]");
        optional_name(format!("{eat}.name"), &ep.name)?;
        path_ok(format!("{eat}.path"), &ep.path)?;
        if ep.path.contains('?') {
            return Err(invalid(
                format!("{eat}.path"),
                "a path template has no query".into(),
            ));
        }
        // A template must match itself (balanced `{}` per segment).
        if match_path(&ep.path, &ep.path).is_none() {
            return Err(invalid(format!("{eat}.path"), "bad path template".into()));
        }
        ep.behaviour.validate(&eat)?;
        if let Some(st) = ep.status {
            status(&format!("{eat}.status"), st)?;
        }
        too(
            "downstream calls of an endpoint",
            ep.downstream.len(),
            MAX_DOWNSTREAM,
        )?;
        for (d, ds) in ep.downstream.iter().enumerate() {
            optional_name(format!("{eat}.downstream[{d}].name"), &ds.name)?;
            path_ok(format!("{eat}.downstream[{d}].path"), &ds.path)?;
        }
        match ep.action {
            Action::Static => {}
            Action::Create | Action::Read | Action::Update => {
                let Some(c) = &ep.collection else {
                    return Err(invalid(
                        format!("{eat}.collection"),
                        "`create`, `read` and `update` need a collection".into(),
                    ));
                };
                coll(format!("{eat}.collection"), c)?;
                let has_id = ep.id_field.is_some() || ep.path.contains("{id}");
                if ep.action != Action::Create && !has_id {
                    return Err(invalid(
                        format!("{eat}.path"),
                        "`read` and `update` need an `{id}` path parameter or an `id_field`".into(),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Rejects cycles of synchronous calls (a handler calling back into a service that is waiting
/// for it would only ever time out).
fn no_call_cycles(s: &Scenario) -> Result<(), ScenarioError> {
    let n = s.nodes.len();
    let mut edges = vec![Vec::new(); n];
    for api in &s.apis {
        let Some(i) = s.node_index(&api.service) else {
            continue;
        };
        for ep in &api.endpoints {
            for d in &ep.downstream {
                if let Some(t) = s.node_index(&d.to) {
                    edges[i].push(t);
                }
            }
        }
    }
    // 0 = unvisited, 1 = on stack, 2 = done. Iterative DFS.
    let mut state = vec![0u8; n];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (v, ref mut k)) = stack.last_mut() {
            if let Some(&w) = edges[v].get(*k) {
                *k += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        return Err(invalid(
                            "apis".into(),
                            format!(
                                "downstream calls form a cycle through `{}` and `{}`",
                                s.nodes[v].name, s.nodes[w].name
                            ),
                        ))
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}
