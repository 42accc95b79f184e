//! Settings changed while a run goes on: the commands `configure_breaker`, `set_retry`,
//! `set_time_limiter`, `set_bulkhead`, `set_rate_limiter`, `scale`, `set_broker_policies`,
//! `set_channel`, `set_workload`, `set_relay` and `set_consumer_group`. The scenario stays as it
//! was written (share links and run files carry it and replay these commands at their places);
//! the values in force live here. The commands' own fields are range-checked by
//! [`Command::validate_fields`] (also when a share link, run file or scenario is loaded); the
//! checks against the scenario (names, which workload, how many instances) are here.

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

fn invalid(e: crate::error::ScenarioError) -> CommandError {
    CommandError::Invalid(e.to_string())
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

    /// Checks a live-settings command against the scenario: the names it gives, the workload
    /// index, `scale`'s instances within the declared count. Its fields were checked by
    /// [`Command::validate_fields`].
    pub(super) fn live_check(&self, cmd: &Command) -> Result<(), CommandError> {
        match cmd {
            Command::ConfigureBreaker { node, service, .. } => {
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
                Ok(())
            }
            Command::SetRetry { node, service, .. }
            | Command::SetTimeLimiter { node, service, .. }
            | Command::SetBulkhead { node, service, .. }
            | Command::SetRateLimiter { node, service, .. } => {
                self.dep_of(node, service).map(|_| ())
            }
            Command::Scale { node, instances } => {
                let n = self
                    .node_id(node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                if self.nodes[n as usize].kind != NodeKind::Service {
                    return Err(CommandError::NotApplicable(format!(
                        "`{node}` is not a service"
                    )));
                }
                let declared = self.nodes[n as usize].instances.len() as u64;
                crate::ranges::int("instances", (*instances).into(), 0, declared, "").map_err(|e| {
                    CommandError::Invalid(format!(
                        "{e} (the scenario declares {declared} instances of `{node}`)"
                    ))
                })
            }
            Command::SetChannel { channel, .. } => {
                let c = self.channel_of(channel)?;
                if !matches!(
                    self.scenario.channels[c].kind,
                    ChannelKind::Topic | ChannelKind::Queue
                ) {
                    return Err(CommandError::Invalid(format!(
                        "`{channel}` is not a topic or a queue on a broker"
                    )));
                }
                Ok(())
            }
            Command::SetWorkload { workload, .. } => {
                let n = self.scenario.workloads.len() as u64;
                if n == 0 {
                    return Err(CommandError::Invalid(
                        "the scenario has no workloads".into(),
                    ));
                }
                crate::ranges::int("workload", (*workload).into(), 0, n - 1, "").map_err(invalid)
            }
            Command::SetRelay { node, .. } => {
                let n = self
                    .node_id(node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                if self.nodes[n as usize].kind != NodeKind::Relay {
                    return Err(CommandError::NotApplicable(format!(
                        "`{node}` is not a relay"
                    )));
                }
                Ok(())
            }
            Command::SetConsumerGroup {
                channel, consumer, ..
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
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Applies a checked live-settings command.
    pub(super) fn live_execute(&mut self, cmd: Command) -> Result<(), CommandError> {
        cmd.validate_fields("").map_err(invalid)?;
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
            Command::SetBulkhead {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(&node, &service)?;
                self.sync.deps[dep as usize].policies.bulkhead = config;
                for inst in 0..self.sync.proxies[dep as usize].len() as u32 {
                    self.change_bulkhead(dep, inst);
                }
            }
            Command::SetRateLimiter {
                node,
                service,
                config,
            } => {
                let dep = self.dep_of(&node, &service)?;
                self.sync.deps[dep as usize].policies.rate_limiter = config;
                let p = self.sync.deps[dep as usize].policies.clone();
                for proxy in &mut self.sync.proxies[dep as usize] {
                    proxy.set_rate_limiter(&p, now);
                }
            }
            Command::Scale { node, instances } => {
                let n = self
                    .node_id(&node)
                    .ok_or_else(|| CommandError::UnknownNode(node.clone()))?;
                let declared = self.nodes[n as usize].instances.len() as u32;
                for i in 0..declared {
                    let ep = super::Ep {
                        node: n,
                        instance: i,
                    };
                    if i < instances {
                        self.restart(ep);
                    } else {
                        self.crash(ep);
                    }
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
