//! Commands: what a user (or a fault schedule) does to a running simulation. Applied at the current
//! virtual time; each is recorded with that time, so a run is reproduced by its seed and its
//! command log.

use crate::network::{Direction, LinkFaults};
use crate::outbox::CrashPoint;
use crate::resilience::bulkhead::BulkheadConfig;
use crate::resilience::circuit_breaker::{CircuitBreakerConfig, CircuitBreakerState};
use crate::resilience::rate_limiter::RateLimiterConfig;
use crate::resilience::retry::RetryConfig;
use crate::resilience::time_limiter::TimeLimiterConfig;
use crate::sync::ServerBehaviour;
use serde::{Deserialize, Serialize};

/// A change applied at the current virtual time. JSON form: `{"op": "partition", "a": "order",
/// "b": "broker"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Replaces the faults of a link (one direction or both).
    SetLink {
        /// One end.
        a: String,
        /// Other end.
        b: String,
        /// Which direction, relative to `a`/`b`. Default both.
        #[serde(default)]
        direction: Direction,
        /// The new faults.
        faults: LinkFaults,
    },
    /// Drops every message between `a` and `b` from now on, both ways (turmoil `partition`).
    Partition {
        /// One end.
        a: String,
        /// Other end.
        b: String,
    },
    /// Drops messages from `a` to `b` only (turmoil `partition_oneway`).
    PartitionOneway {
        /// Sender side.
        a: String,
        /// Receiver side.
        b: String,
    },
    /// Heals a partition both ways (turmoil `repair`).
    Repair {
        /// One end.
        a: String,
        /// Other end.
        b: String,
    },
    /// Heals a partition from `a` to `b` only (turmoil `repair_oneway`): messages from `a` to
    /// `b` flow again; `b` to `a` stays as it was (partitioned or not). Other faults of the
    /// link (latency, loss, hold) are unchanged. JSON: `{"op": "repair_oneway", "a": "broker",
    /// "b": "billing"}`. Errors: an unknown node or no link between them (as `repair`).
    RepairOneway {
        /// Sender side.
        a: String,
        /// Receiver side.
        b: String,
    },
    /// Publishes one chosen one-way message now from instance `instance` of service `node`, as a
    /// workload would (publisher confirms and retries on a broker channel, straight to the
    /// consumer on a direct one, a Kafka producer on a partitioned topic). JSON: `{"op":
    /// "publish", "node": "p", "id": 1000, "message": {"channel": "q", "kind": "command",
    /// "type": "Do", "key": "k-x", "payload": {"total": 5}}}`. The message is sent as written
    /// (see [`crate::scenario::script`]: one-way, key ≤ 256 characters, payload ≤ 64 KiB of
    /// JSON). An instance that is down or paused sends nothing (`skipped`, as a workload tick).
    /// Errors: unknown node, instance or channel, no link to the channel's broker, a field out of
    /// range, an `id` already assigned or reserved.
    Publish {
        /// The sending service.
        node: String,
        /// Instance index. Default 0.
        #[serde(default)]
        instance: u32,
        /// The message id, 1–2^53−1, not yet assigned by the engine nor reserved; default: the
        /// engine's next number (deterministic).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// The message (boxed: it is the largest command).
        message: Box<crate::scenario::MessageTemplate>,
    },
    /// Holds messages on the link both ways until released (turmoil `hold`).
    Hold {
        /// One end.
        a: String,
        /// Other end.
        b: String,
    },
    /// Releases held messages; each then takes a fresh latency draw (turmoil `release`).
    Release {
        /// One end.
        a: String,
        /// Other end.
        b: String,
    },
    /// Crashes a node instance: in-memory state (inbox, work in progress, pending publishes) is
    /// lost; its broker connections reset. For a broker, durable queues survive.
    Crash {
        /// Node name.
        node: String,
        /// Instance index (0-based). Default 0.
        #[serde(default)]
        instance: u32,
    },
    /// Restarts a crashed instance with empty memory.
    Restart {
        /// Node name.
        node: String,
        /// Instance index. Default 0.
        #[serde(default)]
        instance: u32,
    },
    /// Freezes an instance (SIGSTOP): it keeps its connections and buffers arriving messages, but
    /// does nothing until resumed.
    Pause {
        /// Node name.
        node: String,
        /// Instance index. Default 0.
        #[serde(default)]
        instance: u32,
    },
    /// Unfreezes a paused instance; what it missed happens now.
    Resume {
        /// Node name.
        node: String,
        /// Instance index. Default 0.
        #[serde(default)]
        instance: u32,
    },
    /// Stops a message relay gracefully (Kafka Connect task stop): a log-tailing relay saves the
    /// position of what the broker confirmed, a polling publisher marks (or deletes) the confirmed
    /// rows of its batch; unconfirmed publishes are abandoned. `restart` starts it again.
    StopRelay {
        /// Relay node name.
        node: String,
    },
    /// The broker hosting `channel` rejects the next `count` publishes to it (AMQP `basic.nack`
    /// publisher confirm): nothing is appended, the producer learns it at once and retries.
    RejectNextPublish {
        /// Channel name.
        channel: String,
        /// Publishes to reject. Default 1, at most 1 000 armed per channel.
        #[serde(default = "one")]
        count: u32,
    },
    /// Arms a one-shot failpoint: the instance crashes the next time it reaches `point` (a
    /// deterministic place between two steps, e.g. between a relay's publish and its mark).
    ArmCrash {
        /// Node name (a service with a database, or a relay).
        node: String,
        /// Instance index. Default 0.
        #[serde(default)]
        instance: u32,
        /// Where.
        point: CrashPoint,
    },
    /// Replaces the server behaviour (service time, slow calls, error rate) of one endpoint of a
    /// service's API, or of all of them: a slow or failing downstream to break against.
    SetEndpoint {
        /// Service name.
        node: String,
        /// Endpoint index in `api.endpoints`; default all endpoints.
        #[serde(default)]
        endpoint: Option<u32>,
        /// The new behaviour.
        behaviour: ServerBehaviour,
    },
    /// Moves a client proxy's circuit breaker to a state by hand, as Resilience4j's
    /// `transitionToClosedState`, `…OpenState`, `…HalfOpenState`, `…ForcedOpenState`,
    /// `…DisabledState`, `…MetricsOnlyState` (refused when the edge is illegal, e.g.
    /// `CLOSED -> HALF_OPEN`; in a fault schedule, an edge that is illegal at its time changes
    /// nothing).
    SetBreaker {
        /// Client service.
        node: String,
        /// Client instance. Default 0.
        #[serde(default)]
        instance: u32,
        /// Called service (the dependency).
        service: String,
        /// Target state, Resilience4j's spelling (`FORCED_OPEN`).
        state: CircuitBreakerState,
    },
    /// A rollout: producer `node` writes schema `version` on `channel` from now on (every
    /// instance; messages already sent keep theirs). The version must be declared by the channel
    /// and the producer's payload valid for it. Consumers keep the version they read.
    SetSchemaVersion {
        /// The producing service.
        node: String,
        /// A channel with schemas that the service produces to.
        channel: String,
        /// A version declared in the channel's `schemas`.
        version: semver::Version,
    },
    /// Replaces the Resilience4j circuit breaker config of a client's proxies for one called
    /// service, on every client instance, as `CircuitBreakerRegistry.replace` with a new
    /// config: the breaker starts again `CLOSED` with an empty sliding window
    /// (`failureRateThreshold`, `slowCallRateThreshold`, `slowCallDurationThreshold`,
    /// `slidingWindowType`, `slidingWindowSize`, `minimumNumberOfCalls`,
    /// `waitDurationInOpenState`, `permittedNumberOfCallsInHalfOpenState`, … with
    /// Resilience4j's names and defaults). Instances restarted later keep it. Refused when the
    /// dependency has no breaker or the config is out of range.
    ConfigureBreaker {
        /// Client service.
        node: String,
        /// Called service (the dependency).
        service: String,
        /// The new config (Resilience4j JSON names, durations as `"2s"` or integer µs).
        config: CircuitBreakerConfig,
    },
    /// Sets (or, with no `config`, removes) the Resilience4j Retry of a client's proxies for one
    /// called service, on every client instance: `maxAttempts`, `waitDuration`,
    /// `intervalFunction` (exponential backoff, randomized jitter), `retryExceptions`. Calls
    /// already started keep the retry they began with; new calls use this one.
    SetRetry {
        /// Client service.
        node: String,
        /// Called service.
        service: String,
        /// The new retry config; absent or `null`: no retry.
        #[serde(default)]
        config: Option<RetryConfig>,
    },
    /// Sets (or, with no `config`, removes) the Resilience4j TimeLimiter of a client's proxies
    /// for one called service (`timeoutDuration`, `cancelRunningFuture`): attempts started
    /// from now on get the new deadline.
    SetTimeLimiter {
        /// Client service.
        node: String,
        /// Called service.
        service: String,
        /// The new config; absent or `null`: no time limiter.
        #[serde(default)]
        config: Option<TimeLimiterConfig>,
    },
    /// Sets (or, with no `config`, removes) the Resilience4j Bulkhead of a client's proxies for
    /// one called service, on every client instance, as `Bulkhead.changeConfig`:
    /// `maxConcurrentCalls` (0–10 000) and `maxWaitDuration` (0–24 h; durations as `"100ms"` or
    /// integer µs). Calls inside keep their slots; a larger limit lets waiting calls in at once,
    /// a smaller one admits no one until enough calls have left; waiters keep the deadline they
    /// started with (as Resilience4j). Removing it lets every waiter go on now.
    SetBulkhead {
        /// Client service.
        node: String,
        /// Called service.
        service: String,
        /// The new config; absent or `null`: no bulkhead.
        #[serde(default)]
        config: Option<BulkheadConfig>,
    },
    /// Sets (or, with no `config`, removes) the Resilience4j RateLimiter of a client's proxies
    /// for one called service, on every client instance: `limitForPeriod` (1–1 000 000),
    /// `limitRefreshPeriod` (1 µs–1 h) and `timeoutDuration` (0–1 h). As
    /// `RateLimiterRegistry.replace`: a new limiter whose first cycle starts now, full;
    /// attempts already waiting for a permission go on at the time they reserved.
    SetRateLimiter {
        /// Client service.
        node: String,
        /// Called service.
        service: String,
        /// The new config; absent or `null`: no rate limiter.
        #[serde(default)]
        config: Option<RateLimiterConfig>,
    },
    /// Scales a service to `instances` running instances (`kubectl scale --replicas`), within
    /// the instances its scenario declares (`nodes[i].instances`, the capacity; 0 stops them
    /// all). Scaling in stops instances `instances..` as `crash` does (in-memory work is lost, a
    /// broker redelivers what they had not acknowledged, a Kafka consumer group rebalances, a
    /// registry forgets them when their heartbeats stop); scaling out starts instances
    /// `..instances` that are down, with empty memory, as `restart` does.
    Scale {
        /// Service name (`service` is accepted too).
        #[serde(alias = "service")]
        node: String,
        /// Instances to keep running, 0 to the declared count (at most 16).
        instances: u32,
    },
    /// Changes the brokers' delivery settings from now on (every queue and subscription):
    /// `prefetch` (AMQP `basic.qos` prefetch-count, 1–10 000), `ack_timeout_ms` (RabbitMQ
    /// consumer timeout / SQS visibility timeout, 1 ms–1 h; deliveries already out keep their
    /// timer) and `max_delivery_attempts` (the delivery limit, RabbitMQ `x-delivery-limit`,
    /// 1–1 000). Absent fields are unchanged.
    SetBrokerPolicies {
        /// Maximum unacked deliveries per consumer instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefetch: Option<u32>,
        /// Ack timeout, ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ack_timeout_ms: Option<u64>,
        /// Deliveries of one message before it is dead-lettered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_delivery_attempts: Option<u32>,
    },
    /// Changes a topic's or queue's broker properties from now on: `durable` (as if redeclared:
    /// what it buffers from now on survives a broker crash, or not), `dedup_window_ms`
    /// (broker-side duplicate detection, 0–600 000 ms; 0 turns it off) and `failure_percent`
    /// (its consumers' handler failures, 0–100 %). Absent fields are unchanged.
    SetChannel {
        /// A topic or queue (not a direct or partitioned channel).
        channel: String,
        /// Durable or transient.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        durable: Option<bool>,
        /// Duplicate detection window, ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dedup_window_ms: Option<u64>,
        /// Handler failure probability, percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_percent: Option<f64>,
    },
    /// Changes a producer's rate: workload `workload` (index in the scenario's `workloads`)
    /// sends every `every_ms` (1 ms–1 h) from its next tick on; its `count` is unchanged.
    SetWorkload {
        /// Index in `workloads`.
        workload: u32,
        /// New interval, ms.
        every_ms: u64,
    },
    /// Changes a message relay's settings from now on (Eventuate CDC / Debezium):
    /// `max_in_flight` (1 = strict order, 1–1 000), `batch_size` (1–1 000), `poll_every_ms`
    /// (1 ms–1 h) and `save_every` (log tailing: save the position every n records,
    /// 1–1 000 000). Absent fields are unchanged.
    SetRelay {
        /// Relay node.
        node: String,
        /// Publishes awaiting a confirm at once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_in_flight: Option<u32>,
        /// Rows or records read per poll.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_size: Option<u32>,
        /// Poll period, ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll_every_ms: Option<u64>,
        /// Records between two saves of the log position.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        save_every: Option<u32>,
    },
    /// Changes how many records of one partition a consumer group's instances process at once
    /// (`workers_per_partition`, 1–1 024; Confluent Parallel Consumer's concurrency) from their
    /// next poll on. Records in progress finish.
    SetConsumerGroup {
        /// A partitioned topic.
        channel: String,
        /// The consuming service (its group).
        consumer: String,
        /// Workers per partition.
        workers_per_partition: u32,
    },
}

fn one() -> u32 {
    1
}

/// Bounds of the live-settings commands' fields (each error names the field, the value and the
/// range, [`crate::ranges`]).
pub mod limits {
    /// Largest `prefetch` (AMQP `basic.qos` prefetch-count).
    pub const MAX_PREFETCH: u64 = 10_000;
    /// Largest `max_delivery_attempts` (the delivery limit).
    pub const MAX_DELIVERY_LIMIT: u64 = 1_000;
    /// Largest `dedup_window_ms`.
    pub const MAX_DEDUP_WINDOW_MS: u64 = 600_000;
    /// Largest `save_every` of a log-tailing relay.
    pub const MAX_SAVE_EVERY: u64 = 1_000_000;
    /// Largest bulkhead `maxConcurrentCalls`.
    pub const MAX_CONCURRENT_CALLS: u64 = 10_000;
    /// Largest rate limiter `limitForPeriod`.
    pub const MAX_LIMIT_FOR_PERIOD: u64 = 1_000_000;
}

/// A Resilience4j config error as a field error: `config.failureRateThreshold: invalid value
/// 150: must be > 0 and <= 100 (percent)`.
fn config_error(field: String, e: crate::resilience::ConfigError) -> crate::error::ScenarioError {
    let crate::resilience::ConfigError::Invalid {
        field: f,
        value,
        expected,
        ..
    } = e;
    crate::error::ScenarioError::Invalid {
        field: format!("{field}.{f}"),
        message: format!("invalid value {value}: {expected}"),
    }
}

impl Command {
    /// Range checks of the command's own fields, before the scenario is consulted: link faults
    /// ([`LinkFaults::validate`]), endpoint behaviour ([`ServerBehaviour::validate`]), `instance`
    /// `0..=15` ([`crate::scenario::limits::MAX_INSTANCES`] − 1), `endpoint` `0..=63`,
    /// `reject_next_publish`'s `count` `1..=1000`, `publish`'s message
    /// ([`crate::scenario::script::check_fields`]: `id` `1..=2^53−1`, `key` ≤ 256 characters,
    /// `payload` ≤ 64 KiB, one-way), and every field of the live-settings commands
    /// (Resilience4j configs with their own names, `config.maxAttempts`; broker, channel,
    /// workload, relay and consumer-group values within [`limits`] and [`crate::ranges`]; `scale`'s
    /// `instances` `0..=16`). `at` prefixes the field paths of errors
    /// (`faults[2].command` in a scenario's fault schedule; empty for a command applied live).
    /// Names are checked against the scenario by [`crate::Simulation::apply`].
    pub fn validate_fields(&self, at: &str) -> Result<(), crate::error::ScenarioError> {
        use crate::ranges;
        let f = |name: &str| {
            if at.is_empty() {
                name.to_string()
            } else {
                format!("{at}.{name}")
            }
        };
        let max_instance = u64::from(crate::scenario::limits::MAX_INSTANCES - 1);
        match self {
            Command::SetLink { faults, .. } => faults.validate(&f("faults")),
            Command::Crash { instance, .. }
            | Command::Restart { instance, .. }
            | Command::Pause { instance, .. }
            | Command::Resume { instance, .. }
            | Command::ArmCrash { instance, .. }
            | Command::SetBreaker { instance, .. } => {
                ranges::int(f("instance"), (*instance).into(), 0, max_instance, "")
            }
            Command::Publish {
                instance,
                id,
                message,
                ..
            } => {
                ranges::int(f("instance"), (*instance).into(), 0, max_instance, "")?;
                crate::scenario::script::check_fields(at, *id, message)
            }
            Command::RejectNextPublish { count, .. } => ranges::int(
                f("count"),
                (*count).into(),
                1,
                crate::outbox::spec::limits::MAX_REJECTIONS.into(),
                "",
            ),
            Command::SetEndpoint {
                endpoint,
                behaviour,
                ..
            } => {
                if let Some(e) = endpoint {
                    let max = crate::sync::spec::limits_sync::MAX_ENDPOINTS as u64 - 1;
                    ranges::int(f("endpoint"), (*e).into(), 0, max, "")?;
                }
                behaviour.validate(&f("behaviour"))
            }
            Command::Partition { .. }
            | Command::PartitionOneway { .. }
            | Command::Repair { .. }
            | Command::RepairOneway { .. }
            | Command::Hold { .. }
            | Command::Release { .. }
            | Command::StopRelay { .. }
            | Command::SetSchemaVersion { .. } => Ok(()),
            // Live settings: the fields here; names and scenario-bound ranges (which workload,
            // relay, channel, dependency, how many instances) in `Simulation::live_check`.
            Command::ConfigureBreaker { config, .. } => {
                config.validate().map_err(|e| config_error(f("config"), e))
            }
            Command::SetRetry { config, .. } => match config {
                Some(c) => c.validate().map_err(|e| config_error(f("config"), e)),
                None => Ok(()),
            },
            Command::SetTimeLimiter { config, .. } => match config {
                Some(c) => c.validate().map_err(|e| config_error(f("config"), e)),
                None => Ok(()),
            },
            Command::SetBulkhead { config, .. } => match config {
                Some(c) => {
                    ranges::int(
                        f("config.maxConcurrentCalls"),
                        c.max_concurrent_calls.into(),
                        0,
                        limits::MAX_CONCURRENT_CALLS,
                        "",
                    )?;
                    ranges::int(
                        f("config.maxWaitDuration"),
                        c.max_wait_duration.0,
                        0,
                        ranges::MAX_DURATION_MS * 1_000,
                        "µs",
                    )?;
                    c.validate().map_err(|e| config_error(f("config"), e))
                }
                None => Ok(()),
            },
            Command::SetRateLimiter { config, .. } => match config {
                Some(c) => {
                    ranges::int(
                        f("config.limitForPeriod"),
                        c.limit_for_period.into(),
                        1,
                        limits::MAX_LIMIT_FOR_PERIOD,
                        "",
                    )?;
                    ranges::int(
                        f("config.limitRefreshPeriod"),
                        c.limit_refresh_period.0,
                        1,
                        ranges::MAX_LATENCY_MS * 1_000,
                        "µs",
                    )?;
                    ranges::int(
                        f("config.timeoutDuration"),
                        c.timeout_duration.0,
                        0,
                        ranges::MAX_LATENCY_MS * 1_000,
                        "µs",
                    )?;
                    c.validate().map_err(|e| config_error(f("config"), e))
                }
                None => Ok(()),
            },
            Command::Scale { instances, .. } => ranges::int(
                f("instances"),
                (*instances).into(),
                0,
                crate::scenario::limits::MAX_INSTANCES.into(),
                "",
            ),
            Command::SetBrokerPolicies {
                prefetch,
                ack_timeout_ms,
                max_delivery_attempts,
            } => {
                if let Some(v) = prefetch {
                    ranges::int(f("prefetch"), (*v).into(), 1, limits::MAX_PREFETCH, "")?;
                }
                if let Some(v) = ack_timeout_ms {
                    ranges::ms_max(f("ack_timeout_ms"), *v, 1, ranges::MAX_LATENCY_MS)?;
                }
                if let Some(v) = max_delivery_attempts {
                    ranges::int(
                        f("max_delivery_attempts"),
                        (*v).into(),
                        1,
                        limits::MAX_DELIVERY_LIMIT,
                        "",
                    )?;
                }
                Ok(())
            }
            Command::SetChannel {
                dedup_window_ms,
                failure_percent,
                ..
            } => {
                if let Some(v) = dedup_window_ms {
                    ranges::ms_max(f("dedup_window_ms"), *v, 0, limits::MAX_DEDUP_WINDOW_MS)?;
                }
                if let Some(p) = failure_percent {
                    ranges::percent(f("failure_percent"), *p)?;
                }
                Ok(())
            }
            Command::SetWorkload { every_ms, .. } => {
                ranges::ms_max(f("every_ms"), *every_ms, 1, ranges::MAX_LATENCY_MS)
            }
            Command::SetRelay {
                max_in_flight,
                batch_size,
                poll_every_ms,
                save_every,
                ..
            } => {
                use crate::outbox::spec::limits as relay;
                if let Some(v) = max_in_flight {
                    ranges::int(
                        f("max_in_flight"),
                        (*v).into(),
                        1,
                        relay::MAX_IN_FLIGHT.into(),
                        "",
                    )?;
                }
                if let Some(v) = batch_size {
                    ranges::int(f("batch_size"), (*v).into(), 1, relay::MAX_BATCH.into(), "")?;
                }
                if let Some(v) = poll_every_ms {
                    ranges::ms_max(f("poll_every_ms"), *v, 1, ranges::MAX_LATENCY_MS)?;
                }
                if let Some(v) = save_every {
                    ranges::int(f("save_every"), (*v).into(), 1, limits::MAX_SAVE_EVERY, "")?;
                }
                Ok(())
            }
            Command::SetConsumerGroup {
                workers_per_partition,
                ..
            } => ranges::int(
                f("workers_per_partition"),
                (*workers_per_partition).into(),
                1,
                crate::log::consumer::MAX_WORKERS_PER_PARTITION.into(),
                "",
            ),
        }
    }

    /// Short verb, for traces and logs.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::SetLink { .. } => "set_link",
            Command::Partition { .. } => "partition",
            Command::PartitionOneway { .. } => "partition_oneway",
            Command::Repair { .. } => "repair",
            Command::RepairOneway { .. } => "repair_oneway",
            Command::Publish { .. } => "publish",
            Command::Hold { .. } => "hold",
            Command::Release { .. } => "release",
            Command::Crash { .. } => "crash",
            Command::Restart { .. } => "restart",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::StopRelay { .. } => "stop_relay",
            Command::RejectNextPublish { .. } => "reject_next_publish",
            Command::ArmCrash { .. } => "arm_crash",
            Command::SetEndpoint { .. } => "set_endpoint",
            Command::SetBreaker { .. } => "set_breaker",
            Command::SetSchemaVersion { .. } => "set_schema_version",
            Command::ConfigureBreaker { .. } => "configure_breaker",
            Command::SetRetry { .. } => "set_retry",
            Command::SetTimeLimiter { .. } => "set_time_limiter",
            Command::SetBulkhead { .. } => "set_bulkhead",
            Command::SetRateLimiter { .. } => "set_rate_limiter",
            Command::Scale { .. } => "scale",
            Command::SetBrokerPolicies { .. } => "set_broker_policies",
            Command::SetChannel { .. } => "set_channel",
            Command::SetWorkload { .. } => "set_workload",
            Command::SetRelay { .. } => "set_relay",
            Command::SetConsumerGroup { .. } => "set_consumer_group",
        }
    }

    /// One-line human description: `partition order <-> broker`.
    pub fn describe(&self) -> String {
        match self {
            Command::SetLink {
                a,
                b,
                direction,
                faults: f,
            } => {
                let arrow = match direction {
                    Direction::Both => "<->",
                    Direction::AToB => "->",
                    Direction::BToA => "<-",
                };
                format!(
                    "set_link {a} {arrow} {b} latency={}ms jitter={}ms loss={}% duplicate={}%{}{}",
                    f.latency_ms,
                    f.jitter_ms,
                    f.loss_percent,
                    f.duplicate_percent,
                    if f.partitioned { " partitioned" } else { "" },
                    if f.held { " held" } else { "" }
                )
            }
            Command::Partition { a, b } => format!("partition {a} <-> {b}"),
            Command::PartitionOneway { a, b } => format!("partition_oneway {a} -> {b}"),
            Command::Repair { a, b } => format!("repair {a} <-> {b}"),
            Command::RepairOneway { a, b } => format!("repair_oneway {a} -> {b}"),
            Command::Publish {
                node,
                instance,
                id,
                message: m,
            } => {
                let mut out = format!("publish {node}#{instance} -> {} {}", m.channel, m.type_name);
                if let Some(id) = id {
                    out += &format!(" id=m{id}");
                }
                if let Some(k) = &m.key {
                    out += &format!(" key={k}");
                }
                out
            }
            Command::Hold { a, b } => format!("hold {a} <-> {b}"),
            Command::Release { a, b } => format!("release {a} <-> {b}"),
            Command::Crash { node, instance }
            | Command::Restart { node, instance }
            | Command::Pause { node, instance }
            | Command::Resume { node, instance } => {
                format!("{} {node}#{instance}", self.verb())
            }
            Command::StopRelay { node } => format!("stop_relay {node}"),
            Command::RejectNextPublish { channel, count } => {
                format!("reject_next_publish {channel} x{count}")
            }
            Command::ArmCrash {
                node,
                instance,
                point,
            } => format!("arm_crash {node}#{instance} at {}", point.as_str()),
            Command::SetEndpoint {
                node,
                endpoint,
                behaviour: b,
            } => format!(
                "set_endpoint {node}[{}] latency={}ms jitter={}ms slow={}%x{}ms error={}%x{}",
                endpoint.map_or_else(|| "*".to_string(), |e| e.to_string()),
                b.latency_ms,
                b.jitter_ms,
                b.slow_percent,
                b.slow_latency_ms,
                b.error_percent,
                b.error_status
            ),
            Command::SetBreaker {
                node,
                instance,
                service,
                state,
            } => format!("set_breaker {node}#{instance} -> {service} {state}"),
            Command::SetSchemaVersion {
                node,
                channel,
                version,
            } => format!("set_schema_version {node} {channel} {version}"),
            Command::ConfigureBreaker {
                node,
                service,
                config: c,
            } => format!(
                "configure_breaker {node} -> {service} failureRateThreshold={}% slidingWindowSize={} \
                 minimumNumberOfCalls={} waitDurationInOpenState={}us \
                 permittedNumberOfCallsInHalfOpenState={}",
                c.failure_rate_threshold,
                c.sliding_window_size,
                c.minimum_number_of_calls,
                c.wait_duration_in_open_state.0,
                c.permitted_number_of_calls_in_half_open_state
            ),
            Command::SetRetry {
                node,
                service,
                config,
            } => match config {
                Some(c) => format!(
                    "set_retry {node} -> {service} maxAttempts={} waitDuration={}us",
                    c.max_attempts, c.wait_duration.0
                ),
                None => format!("set_retry {node} -> {service} off"),
            },
            Command::SetTimeLimiter {
                node,
                service,
                config,
            } => match config {
                Some(c) => format!(
                    "set_time_limiter {node} -> {service} timeoutDuration={}us",
                    c.timeout_duration.0
                ),
                None => format!("set_time_limiter {node} -> {service} off"),
            },
            Command::SetBulkhead {
                node,
                service,
                config,
            } => match config {
                Some(c) => format!(
                    "set_bulkhead {node} -> {service} maxConcurrentCalls={} maxWaitDuration={}",
                    c.max_concurrent_calls, c.max_wait_duration
                ),
                None => format!("set_bulkhead {node} -> {service} off"),
            },
            Command::SetRateLimiter {
                node,
                service,
                config,
            } => match config {
                Some(c) => format!(
                    "set_rate_limiter {node} -> {service} limitForPeriod={} \
                     limitRefreshPeriod={} timeoutDuration={}",
                    c.limit_for_period, c.limit_refresh_period, c.timeout_duration
                ),
                None => format!("set_rate_limiter {node} -> {service} off"),
            },
            Command::Scale { node, instances } => format!("scale {node} instances={instances}"),
            Command::SetBrokerPolicies {
                prefetch,
                ack_timeout_ms,
                max_delivery_attempts,
            } => {
                let mut out = String::from("set_broker_policies");
                if let Some(v) = prefetch {
                    out += &format!(" prefetch={v}");
                }
                if let Some(v) = ack_timeout_ms {
                    out += &format!(" ack_timeout={v}ms");
                }
                if let Some(v) = max_delivery_attempts {
                    out += &format!(" delivery_limit={v}");
                }
                out
            }
            Command::SetChannel {
                channel,
                durable,
                dedup_window_ms,
                failure_percent,
            } => {
                let mut out = format!("set_channel {channel}");
                if let Some(v) = durable {
                    out += if *v { " durable" } else { " transient" };
                }
                if let Some(v) = dedup_window_ms {
                    out += &format!(" dedup_window={v}ms");
                }
                if let Some(v) = failure_percent {
                    out += &format!(" failure={v}%");
                }
                out
            }
            Command::SetWorkload { workload, every_ms } => {
                format!("set_workload {workload} every={every_ms}ms")
            }
            Command::SetRelay {
                node,
                max_in_flight,
                batch_size,
                poll_every_ms,
                save_every,
            } => {
                let mut out = format!("set_relay {node}");
                if let Some(v) = max_in_flight {
                    out += &format!(" max_in_flight={v}");
                }
                if let Some(v) = batch_size {
                    out += &format!(" batch_size={v}");
                }
                if let Some(v) = poll_every_ms {
                    out += &format!(" poll_every={v}ms");
                }
                if let Some(v) = save_every {
                    out += &format!(" save_every={v}");
                }
                out
            }
            Command::SetConsumerGroup {
                channel,
                consumer,
                workers_per_partition,
            } => format!(
                "set_consumer_group {channel}/{consumer} workers_per_partition={workers_per_partition}"
            ),
        }
    }
}
