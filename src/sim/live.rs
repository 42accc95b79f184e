//! Settings changed while a run goes on: the commands `configure_breaker`, `set_retry`,
//! `set_time_limiter`, `set_broker_policies`, `set_channel`, `set_workload`, `set_relay` and
//! `set_consumer_group`. The scenario stays as it was written (share links and run files carry
//! it and replay these commands at their places); the values in force live here.

use super::Simulation;
use crate::command::Command;
use crate::error::CommandError;
use crate::scenario::{ChannelKind, NodeKind, Scenario};

/// Broker settings of one topic or queue in force now.
#[derive(Clone, Debug)]
pub(super) struct ChannelLive {
    pub(super) durable: bool,
    pub(super) dedup_window_ms: u64,
    pub(super) failure_percent: f64,
}

/// The values in force now of the settings that commands may change.
#[derive(Clone, Debug)]
pub(super) struct Live {
    pub(super) prefetch: u32,
    pub(super) ack_timeout_ms: u64,
    pub(super) max_delivery_attempts: u32,
    pub(super) channels: Vec<ChannelLive>,
    pub(super) workload_every_ms: Vec<u64>,
}

impl Live {
    pub(super) fn new(s: &Scenario) -> Live {
        Live {
            prefetch: s.policies.prefetch,
            ack_timeout_ms: s.policies.ack_timeout_ms,
            max_delivery_attempts: s.policies.max_delivery_attempts,
            channels: s
                .channels
                .iter()
                .map(|c| ChannelLive {
                    durable: c.durable,
                    dedup_window_ms: c.dedup_window_ms,
                    failure_percent: c.failure_percent,
                })
                .collect(),
            workload_every_ms: s.workloads.iter().map(|w| w.every_ms).collect(),
        }
    }
}

/// Largest `prefetch`.
pub const MAX_PREFETCH: u64 = 10_000;
/// Largest `max_delivery_attempts`.
pub const MAX_DELIVERY_LIMIT: u64 = 1_000;
/// Largest `dedup_window_ms`.
pub const MAX_DEDUP_WINDOW_MS: u64 = 600_000;
/// Largest interval or timeout a command sets, ms (1 h).
pub const MAX_MS: u64 = 3_600_000;

fn range(field: &str, v: u64, lo: u64, hi: u64) -> Result<(), CommandError> {
    if v < lo || v > hi {
        return Err(CommandError::Invalid(format!(
            "{field}: {v} is out of range {lo}..={hi}"
        )));
    }
    Ok(())
}

impl Simulation {
    fn dep_of(&self, node: &str, service: &str) -> Result<u32, CommandError> {
        let from = self
            .node_id(node)
            .ok_or_else(|| CommandError::UnknownNode(node.to_string()))?;
        let to = self
            .node_id(service)
            .ok_or_else(|| CommandError::UnknownNode(service.to_string()))?;
        self.sync
            .dep_index
            .get(&(from, to))
            .copied()
            .ok_or_else(|| CommandError::Invalid(format!("`{node}` does not call `{service}`")))
    }

    fn channel_of(&self, name: &str) -> Result<usize, CommandError> {
        self.scenario
            .channels
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| CommandError::Invalid(format!("unknown channel `{name}`")))
    }

    /// Checks a live-settings command against the scenario (names, ranges).
    pub(super) fn live_check(&self, cmd: &Command) -> Result<(), CommandError> {
        match cmd {
            Command::ConfigureBreaker {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(node, service)?;
                if self.sync.deps[dep as usize]
                    .policies
                    .circuit_breaker
                    .is_none()
                {
                    return Err(CommandError::Invalid(format!(
                        "`{node}` -> `{service}` has no circuit breaker"
                    )));
                }
                config
                    .validate()
                    .map_err(|e| CommandError::Invalid(format!("config: {e}")))
            }
            Command::SetRetry {
                node,
                service,
                config,
            } => {
                self.dep_of(node, service)?;
                match config {
                    Some(c) => c
                        .validate()
                        .map_err(|e| CommandError::Invalid(format!("config: {e}"))),
                    None => Ok(()),
                }
            }
            Command::SetTimeLimiter {
                node,
                service,
                config,
            } => {
                self.dep_of(node, service)?;
                match config {
                    Some(c) => c
                        .validate()
                        .map_err(|e| CommandError::Invalid(format!("config: {e}"))),
                    None => Ok(()),
                }
            }
            Command::SetBrokerPolicies {
                prefetch,
                ack_timeout_ms,
                max_delivery_attempts,
            } => {
                if let Some(v) = prefetch {
                    range("prefetch", (*v).into(), 1, MAX_PREFETCH)?;
                }
                if let Some(v) = ack_timeout_ms {
                    range("ack_timeout_ms", *v, 1, MAX_MS)?;
                }
                if let Some(v) = max_delivery_attempts {
                    range("max_delivery_attempts", (*v).into(), 1, MAX_DELIVERY_LIMIT)?;
                }
                Ok(())
            }
            Command::SetChannel {
                channel,
                dedup_window_ms,
                failure_percent,
                ..
            } => {
                let c = self.channel_of(channel)?;
                if !matches!(
                    self.scenario.channels[c].kind,
                    ChannelKind::Topic | ChannelKind::Queue
                ) {
                    return Err(CommandError::Invalid(format!(
                        "`{channel}` is not a topic or a queue on a broker"
                    )));
                }
                if let Some(v) = dedup_window_ms {
                    range("dedup_window_ms", *v, 0, MAX_DEDUP_WINDOW_MS)?;
                }
                if let Some(p) = failure_percent {
                    if !(0.0..=100.0).contains(p) {
                        return Err(CommandError::Invalid(format!(
                            "failure_percent: {p} is out of range 0..=100"
                        )));
                    }
                }
                Ok(())
            }
            Command::SetWorkload { workload, every_ms } => {
                let n = self.scenario.workloads.len() as u64;
                if n == 0 {
                    return Err(CommandError::Invalid(
                        "the scenario has no workloads".into(),
                    ));
                }
                range("workload", (*workload).into(), 0, n - 1)?;
                range("every_ms", *every_ms, 1, MAX_MS)
            }
            Command::SetRelay {
                node,
                max_in_flight,
                batch_size,
                poll_every_ms,
                save_every,
            } => {
                let n = self
                    .node_id(node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                if self.nodes[n as usize].kind != NodeKind::Relay {
                    return Err(CommandError::NotApplicable(format!(
                        "`{node}` is not a relay"
                    )));
                }
                use crate::outbox::spec::limits;
                if let Some(v) = max_in_flight {
                    range(
                        "max_in_flight",
                        (*v).into(),
                        1,
                        limits::MAX_IN_FLIGHT.into(),
                    )?;
                }
                if let Some(v) = batch_size {
                    range("batch_size", (*v).into(), 1, limits::MAX_BATCH.into())?;
                }
                if let Some(v) = poll_every_ms {
                    range("poll_every_ms", *v, 1, MAX_MS)?;
                }
                if let Some(v) = save_every {
                    range("save_every", (*v).into(), 1, 1_000_000)?;
                }
                Ok(())
            }
            Command::SetConsumerGroup {
                channel,
                consumer,
                workers_per_partition,
            } => {
                let c = self.channel_of(channel)?;
                let spec = &self.scenario.channels[c];
                if spec.kind != ChannelKind::PartitionedTopic {
                    return Err(CommandError::Invalid(format!(
                        "`{channel}` is not a partitioned topic"
                    )));
                }
                if !spec.consumers.contains(consumer) {
                    return Err(CommandError::Invalid(format!(
                        "`{consumer}` does not consume `{channel}`"
                    )));
                }
                range(
                    "workers_per_partition",
                    (*workers_per_partition).into(),
                    1,
                    crate::log::consumer::MAX_WORKERS_PER_PARTITION.into(),
                )
            }
            _ => Ok(()),
        }
    }

    /// Applies a checked live-settings command.
    pub(super) fn live_execute(&mut self, cmd: Command) -> Result<(), CommandError> {
        self.live_check(&cmd)?;
        let now = self.now.as_us();
        match cmd {
            Command::ConfigureBreaker {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(&node, &service)?;
                self.sync.deps[dep as usize].policies.circuit_breaker = Some(config.clone());
                for inst in 0..self.sync.proxies[dep as usize].len() {
                    if let Some(cb) = self.sync.proxies[dep as usize][inst].cb.as_mut() {
                        cb.reconfigure(config.clone(), now)
                            .map_err(|e| CommandError::Invalid(format!("config: {e}")))?;
                    }
                    self.breaker_sync(dep, inst as u32);
                }
            }
            Command::SetRetry {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(&node, &service)?;
                self.sync.deps[dep as usize].policies.retry = config;
                let p = self.sync.deps[dep as usize].policies.clone();
                for proxy in &mut self.sync.proxies[dep as usize] {
                    proxy.set_retry(&p);
                }
            }
            Command::SetTimeLimiter {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(&node, &service)?;
                self.sync.deps[dep as usize].policies.time_limiter = config;
                let p = self.sync.deps[dep as usize].policies.clone();
                for proxy in &mut self.sync.proxies[dep as usize] {
                    proxy.set_time_limiter(&p);
                }
            }
            Command::SetBrokerPolicies {
                prefetch,
                ack_timeout_ms,
                max_delivery_attempts,
            } => {
                if let Some(v) = prefetch {
                    self.live.prefetch = v;
                }
                if let Some(v) = ack_timeout_ms {
                    self.live.ack_timeout_ms = v;
                }
                if let Some(v) = max_delivery_attempts {
                    self.live.max_delivery_attempts = v;
                }
                // A larger prefetch lets the brokers deliver more at once, now.
                for q in 0..self.queues.len() as u32 {
                    self.dispatch(q);
                }
            }
            Command::SetChannel {
                channel,
                durable,
                dedup_window_ms,
                failure_percent,
            } => {
                let c = self.channel_of(&channel)?;
                let live = &mut self.live.channels[c];
                if let Some(v) = durable {
                    live.durable = v;
                }
                if let Some(v) = dedup_window_ms {
                    live.dedup_window_ms = v;
                }
                if let Some(v) = failure_percent {
                    live.failure_percent = v;
                }
            }
            Command::SetWorkload { workload, every_ms } => {
                self.live.workload_every_ms[workload as usize] = every_ms;
            }
            Command::SetRelay {
                node,
                max_in_flight,
                batch_size,
                poll_every_ms,
                save_every,
            } => {
                let n = self
                    .node_id(&node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                if let Some(r) = self.txm.relays[n as usize].as_mut() {
                    if let Some(v) = max_in_flight {
                        r.spec.max_in_flight = v;
                    }
                    if let Some(v) = batch_size {
                        r.spec.batch_size = v;
                    }
                    if let Some(v) = poll_every_ms {
                        r.spec.poll_every_ms = v;
                    }
                    if let Some(v) = save_every {
                        r.spec.save_every = v;
                    }
                }
            }
            Command::SetConsumerGroup {
                channel,
                consumer,
                workers_per_partition,
            } => {
                let c = self.channel_of(&channel)? as u32;
                let node = self
                    .node_id(&consumer)
                    .ok_or_else(|| CommandError::UnknownNode(consumer.clone()))?;
                self.kafka_set_workers(c, node, workers_per_partition);
            }
            _ => {}
        }
        Ok(())
    }
}
