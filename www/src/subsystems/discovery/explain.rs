//! "What just happened" for service discovery: what a registry lists (self-registration or a
//! registrar's third-party registration), leases expiring, a registrar's failed health checks and
//! deregistrations, and clients' or routers' cached copies changing. Which instance a stale entry
//! sent a request to is said by [`crate::subsystems::sync`] (the refused call).

use crate::explain::Tone;
use crate::subsystems::{and_list, at, dur, Said};
use msgsim::scenario::Scenario;
use msgsim::sync::RegistrationMode;
use msgsim::{SimTime, TraceEvent, TraceKind};
use std::collections::{BTreeMap, BTreeSet};

/// Services × registries (or caches) remembered.
const MAX_TRACKED: usize = 1_024;

/// The discovery explainer. Feed it every event, in order.
#[derive(Clone, Debug, Default)]
pub struct DiscoveryExplainer {
    /// Service → (mode, lease TTL ms, heartbeat ms).
    registrations: BTreeMap<String, (RegistrationMode, u64, u64)>,
    /// Registrar → (probe period ms, failure threshold).
    registrars: BTreeMap<String, (u64, u32)>,
    /// Router → cache TTL ms.
    routers: BTreeMap<String, u64>,
    /// Client service → (called service → cache TTL ms) for client-side discovery.
    client_ttl: BTreeMap<(String, String), u64>,
    /// (registry, service) → instances listed.
    listed: BTreeMap<(String, String), BTreeSet<u32>>,
    /// (cache owner, service) → instances of its last answer.
    cached: BTreeMap<(String, String), Vec<u32>>,
    /// The scenario's horizon, µs (`horizon_ms`, default 60 s, as the engine's): heartbeats,
    /// health checks and renewals stop there, so leases expire after it while every instance
    /// is still up.
    horizon_us: u64,
}

fn list(instances: &[u32]) -> String {
    if instances.is_empty() {
        return "no instance".to_string();
    }
    and_list(
        &instances
            .iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>(),
    )
}

impl DiscoveryExplainer {
    /// An explainer for runs of `scenario` (registrations, registrars, routers, caches).
    pub fn new(scenario: &Scenario) -> DiscoveryExplainer {
        DiscoveryExplainer {
            registrations: scenario
                .registrations
                .iter()
                .map(|r| (r.service.clone(), (r.mode, r.ttl_ms, r.heartbeat_ms)))
                .collect(),
            registrars: scenario
                .registrars
                .iter()
                .map(|r| (r.node.clone(), (r.period_ms, r.failure_threshold)))
                .collect(),
            routers: scenario
                .routers
                .iter()
                .map(|r| (r.node.clone(), r.cache_ttl_ms))
                .collect(),
            client_ttl: scenario
                .dependencies
                .iter()
                .filter_map(|d| match &d.discovery {
                    msgsim::sync::DiscoverySpec::Client { cache_ttl_ms, .. } => {
                        Some(((d.from.clone(), d.to.clone()), *cache_ttl_ms))
                    }
                    _ => None,
                })
                .collect(),
            horizon_us: scenario.horizon_ms.unwrap_or(60_000).saturating_mul(1_000),
            ..DiscoveryExplainer::default()
        }
    }

    fn listed_mut(&mut self, registry: &str, service: &str) -> &mut BTreeSet<u32> {
        let k = (registry.to_string(), service.to_string());
        if !self.listed.contains_key(&k) && self.listed.len() >= MAX_TRACKED {
            self.listed.pop_first();
        }
        self.listed.entry(k).or_default()
    }

    /// What this event adds to the explanation, if anything.
    pub fn feed(&mut self, ev: &TraceEvent) -> Vec<Said> {
        let mut out = Vec::new();
        match &ev.what {
            TraceKind::Registered {
                registry,
                service,
                instance,
                addr,
                by,
                expires_at,
            } => {
                let reg = registry.node.to_string();
                let now: Vec<u32> = {
                    let l = self.listed_mut(&reg, service);
                    l.insert(*instance);
                    l.iter().copied().collect()
                };
                let (mode, ttl, hb) = self.registrations.get(&**service).copied().unwrap_or((
                    RegistrationMode::SelfRegistration,
                    0,
                    0,
                ));
                let how = match mode {
                    RegistrationMode::SelfRegistration => format!(
                        "{by} registered itself (self-registration) as {addr}; it renews its lease every {} (heartbeat), else the entry expires {} after the last renewal",
                        dur(hb * 1_000),
                        dur(ttl * 1_000)
                    ),
                    RegistrationMode::ThirdParty => format!(
                        "{} health-checked {service}#{instance} and registered it as {addr} (third-party registration: the instance knows nothing of the registry)",
                        if by.node.contains("registrar") { by.to_string() } else { format!("the registrar {by}") }
                    ),
                };
                out.push(Said::keyed(
                    Tone::Normal,
                    format!("listed/{reg}/{service}"),
                    None,
                    format!(
                        "{reg} lists {service} {} now: {how}; lease until {}.",
                        list(&now),
                        at(*expires_at)
                    ),
                ));
            }
            TraceKind::Expired {
                registry,
                service,
                instance,
                renewed_at,
            } => {
                let reg = registry.node.to_string();
                let now: Vec<u32> = {
                    let l = self.listed_mut(&reg, service);
                    l.remove(instance);
                    l.iter().copied().collect()
                };
                let ttl = self.registrations.get(&**service).map(|r| r.1).unwrap_or(0);
                if ev.time.as_us() > self.horizon_us {
                    // Past the horizon nothing renews any more: the run is winding down, and
                    // saying "down or cut off" would be false.
                    out.push(Said::new(
                        Tone::Normal,
                        None,
                        format!(
                            "{reg} removed {service}#{instance}: its lease expired, {} after its last renewal at {}. Nothing is wrong with it: the scenario's horizon ({}) has passed, so heartbeats, health checks and renewals stopped and the run winds down. {reg} lists {} now.",
                            dur(ttl * 1_000),
                            at(*renewed_at),
                            at(SimTime(self.horizon_us)),
                            list(&now)
                        ),
                    ));
                    return out;
                }
                out.push(Said::new(
                    Tone::Loss,
                    None,
                    format!(
                        "{reg} removed {service}#{instance}: its lease expired, {} after its last renewal at {} (nobody renewed it: it is down or cut off). {reg} lists {} now; clients keep calling the old entry until their cached copy is refreshed.",
                        dur(ttl * 1_000),
                        at(*renewed_at),
                        list(&now)
                    ),
                ));
            }
            TraceKind::Deregistered {
                registry,
                service,
                instance,
                by,
            } => {
                let reg = registry.node.to_string();
                let now: Vec<u32> = {
                    let l = self.listed_mut(&reg, service);
                    l.remove(instance);
                    l.iter().copied().collect()
                };
                let why = match self.registrars.get(&*by.node) {
                    Some((period, threshold)) => format!(
                        "{by} deregistered it after {threshold} failed health checks in a row (one every {})",
                        dur(period * 1_000)
                    ),
                    None => format!("{by} deregistered it"),
                };
                out.push(Said::new(
                    Tone::Loss,
                    None,
                    format!(
                        "{reg} no longer lists {service}#{instance}: {why}. {reg} lists {} now.",
                        list(&now)
                    ),
                ));
            }
            TraceKind::ProbeFailed {
                registrar,
                target,
                consecutive,
            } => {
                let threshold = self
                    .registrars
                    .get(&*registrar.node)
                    .map(|r| r.1)
                    .unwrap_or(0);
                let next = if *consecutive < threshold {
                    format!("; at {threshold} in a row it deregisters the instance")
                } else {
                    String::new()
                };
                out.push(Said::keyed(
                    Tone::Retry,
                    format!("probe/{registrar}/{target}"),
                    None,
                    format!(
                        "{registrar}'s health check of {target} went unanswered ({consecutive} in a row{next})."
                    ),
                ));
            }
            TraceKind::CacheRefreshed {
                at: owner,
                service,
                instances,
            } => {
                let k = (owner.to_string(), service.to_string());
                let before = self.cached.get(&k).cloned();
                if before.as_ref() != Some(instances) {
                    if !self.cached.contains_key(&k) && self.cached.len() >= MAX_TRACKED {
                        self.cached.pop_first();
                    }
                    self.cached.insert(k, instances.clone());
                    let ttl = self
                        .routers
                        .get(&*owner.node)
                        .or_else(|| {
                            self.client_ttl
                                .get(&(owner.node.to_string(), service.to_string()))
                        })
                        .map(|t| format!(" (it asks again after {})", dur(t * 1_000)))
                        .unwrap_or_default();
                    let text = match before {
                        None => format!(
                            "{owner} looked {service} up in the registry: it will send requests to {}{ttl}.",
                            list(instances)
                        ),
                        Some(b) => format!(
                            "{owner}'s copy of the {service} entries changed from {} to {}{ttl}.",
                            list(&b),
                            list(instances)
                        ),
                    };
                    out.push(Said::new(Tone::Normal, None, text));
                }
            }
            _ => {}
        }
        out
    }
}
