//! Commands: what a user (or a fault schedule) does to a running simulation. Applied at the current
//! virtual time; each is recorded with that time, so a run is reproduced by its seed and its
//! command log.

use crate::network::{Direction, LinkFaults};
use crate::outbox::CrashPoint;
use crate::resilience::circuit_breaker::CircuitBreakerState;
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
}

fn one() -> u32 {
    1
}

impl Command {
    /// Range checks of the command's own fields, before the scenario is consulted: link faults
    /// ([`LinkFaults::validate`]), endpoint behaviour ([`ServerBehaviour::validate`]), `instance`
    /// `0..=15` ([`crate::scenario::limits::MAX_INSTANCES`] − 1), `endpoint` `0..=63`,
    /// `reject_next_publish`'s `count` `1..=1000`. `at` prefixes the field paths of errors
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
            | Command::Hold { .. }
            | Command::Release { .. }
            | Command::StopRelay { .. }
            | Command::SetSchemaVersion { .. } => Ok(()),
        }
    }

    /// Short verb, for traces and logs.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::SetLink { .. } => "set_link",
            Command::Partition { .. } => "partition",
            Command::PartitionOneway { .. } => "partition_oneway",
            Command::Repair { .. } => "repair",
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
        }
    }
}
