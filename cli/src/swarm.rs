//! Fault schedules drawn from a seed, as swarm testing does (TigerBeetle's VOPR; Groce et al.,
//! "Swarm Testing", ISSTA 2012): each run first draws WHICH fault kinds are on, then draws the
//! faults themselves from those kinds only. Runs therefore differ in kind as well as in timing,
//! which finds more than one schedule that mixes everything a little.
//!
//! Every draw comes from [`SimRng`] seeded with the run's seed and the stream
//! [`SWARM_STREAM`], so a seed names its fault schedule on any machine. The names follow
//! Toxiproxy and turmoil: loss, duplication, latency/jitter, partition (two-way, healed by
//! `repair`, or one-way, healed by `repair_oneway`), hold/release, crash/restart, pause/resume; plus the engine's broker restart,
//! relay failpoints and endpoint slowdowns.

use msgsim::command::Command;
use msgsim::network::LinkFaults;
use msgsim::outbox::CrashPoint;
use msgsim::rng::SimRng;
use msgsim::scenario::NodeKind;
use msgsim::{Scenario, SimTime};
use serde::Serialize;

/// The random stream of fault schedules (distinct from the engine's own streams).
pub const SWARM_STREAM: u64 = 0x053A_F417;

/// Most faults one schedule holds (each fault is one command that injects it and usually one
/// that heals it).
pub const MAX_FAULTS: u64 = 6;

/// Which fault kinds a sweep may draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// No injected faults: only the scenario's own `faults` schedule.
    None,
    /// Link faults only: loss, duplication, latency/jitter, partitions, hold.
    Network,
    /// Node faults only: crash/restart, pause/resume, broker restart, relay failpoints,
    /// endpoint slowdowns.
    Nodes,
    /// Everything, with the kinds of each run drawn from its seed (swarm testing). Default.
    Swarm,
}

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A link drops 20–100 % of its messages (Toxiproxy `timeout`/`limit_data`-like loss).
    Loss,
    /// A link duplicates 10–60 % of its messages.
    Duplication,
    /// A link adds 100–1 500 ms of latency and up to 200 ms jitter (Toxiproxy `latency`).
    Latency,
    /// A link is cut both ways (turmoil `partition`), then repaired.
    Partition,
    /// A link is cut one way (turmoil `partition_oneway`), then repaired that way
    /// (`repair_oneway`).
    PartitionOneway,
    /// A link holds its messages (turmoil `hold`), then releases them.
    Hold,
    /// A service instance crashes, then restarts.
    Crash,
    /// A service instance pauses (a long GC), then resumes.
    Pause,
    /// A broker crashes, then restarts.
    BrokerRestart,
    /// A relay or a service with a database crashes at a failpoint (before or after a commit,
    /// after a publish), then restarts.
    Failpoint,
    /// An endpoint gets slow (10× its latency, 30 % slow calls at 30×), then recovers.
    Slowdown,
}

impl Kind {
    const ALL: [Kind; 11] = [
        Kind::Loss,
        Kind::Duplication,
        Kind::Latency,
        Kind::Partition,
        Kind::PartitionOneway,
        Kind::Hold,
        Kind::Crash,
        Kind::Pause,
        Kind::BrokerRestart,
        Kind::Failpoint,
        Kind::Slowdown,
    ];

    fn is_network(self) -> bool {
        matches!(
            self,
            Kind::Loss
                | Kind::Duplication
                | Kind::Latency
                | Kind::Partition
                | Kind::PartitionOneway
                | Kind::Hold
        )
    }
}

/// One command of a schedule and when it applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Planned {
    /// Virtual time, µs.
    pub at: SimTime,
    /// The command.
    pub command: Command,
}

/// A seed's fault schedule: the kinds that were on and the commands, in time order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    /// Kinds drawn for this run.
    pub kinds: Vec<Kind>,
    /// Commands sorted by time (stable: a fault's injection comes before its heal).
    pub commands: Vec<Planned>,
}

/// Draws the fault schedule of `seed` for `scenario` under `profile`, with faults injected
/// between 1 s and 60 % of `horizon` and healed 0.2–5 s later (a crash at a failpoint heals by
/// a restart 1–5 s later). Kinds the scenario cannot host (no links, no broker, no relay or
/// database, no API) are never drawn. Empty for [`Profile::None`].
pub fn schedule(scenario: &Scenario, seed: u64, profile: Profile, horizon: SimTime) -> Schedule {
    let mut rng = SimRng::new(seed, SWARM_STREAM);
    let possible: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| match profile {
            Profile::None => false,
            Profile::Network => k.is_network(),
            Profile::Nodes => !k.is_network(),
            Profile::Swarm => true,
        })
        .filter(|k| hostable(scenario, *k))
        .collect();
    if possible.is_empty() {
        return Schedule {
            kinds: vec![],
            commands: vec![],
        };
    }
    // Swarm: each kind is on with probability 1/2; at least one.
    let mut kinds: Vec<Kind> = possible
        .iter()
        .copied()
        .filter(|_| profile != Profile::Swarm || rng.below(2) == 0)
        .collect();
    if kinds.is_empty() {
        kinds.push(possible[rng.below(possible.len() as u64) as usize]);
    }
    let horizon_ms = (horizon.0 / 1_000).max(2_000);
    let latest = (horizon_ms * 6 / 10).max(1_001);
    let n = 1 + rng.below(MAX_FAULTS);
    let mut commands = Vec::new();
    for _ in 0..n {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let at_ms = 1_000 + rng.below(latest - 1_000);
        let heal_ms = at_ms + 200 + rng.below(4_800);
        let (on, off) = draw(scenario, kind, &mut rng);
        commands.push(Planned {
            at: SimTime::from_ms(at_ms),
            command: on,
        });
        if let Some(off) = off {
            commands.push(Planned {
                at: SimTime::from_ms(heal_ms),
                command: off,
            });
        }
    }
    commands.sort_by_key(|p| p.at);
    Schedule { kinds, commands }
}

fn services(scenario: &Scenario) -> impl Iterator<Item = &msgsim::scenario::NodeSpec> {
    scenario
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Service)
}

fn hostable(scenario: &Scenario, kind: Kind) -> bool {
    match kind {
        k if k.is_network() => !scenario.links.is_empty(),
        Kind::Crash | Kind::Pause => services(scenario).next().is_some(),
        Kind::BrokerRestart => scenario.nodes.iter().any(|n| n.kind == NodeKind::Broker),
        Kind::Failpoint => failpoint_nodes(scenario).next().is_some(),
        Kind::Slowdown => !scenario.apis.is_empty(),
        _ => false,
    }
}

/// Relays and services with a database: where a failpoint can fire.
fn failpoint_nodes(scenario: &Scenario) -> impl Iterator<Item = &str> {
    let t = &scenario.transactional;
    t.relays
        .iter()
        .map(|r| r.node.as_str())
        .chain(t.databases.iter().map(|d| d.service.as_str()))
}

fn pick<'a, T>(rng: &mut SimRng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

fn draw(scenario: &Scenario, kind: Kind, rng: &mut SimRng) -> (Command, Option<Command>) {
    if kind.is_network() {
        let l = pick(rng, &scenario.links);
        let (a, b) = if rng.below(2) == 0 {
            (l.a.clone(), l.b.clone())
        } else {
            (l.b.clone(), l.a.clone())
        };
        let set = |faults: LinkFaults| Command::SetLink {
            a: a.clone(),
            b: b.clone(),
            direction: Default::default(),
            faults,
        };
        let base = l.faults.clone();
        return match kind {
            Kind::Loss => (
                set(LinkFaults {
                    loss_percent: (20 + rng.below(81)) as f64,
                    ..base.clone()
                }),
                Some(set(base)),
            ),
            Kind::Duplication => (
                set(LinkFaults {
                    duplicate_percent: (10 + rng.below(51)) as f64,
                    ..base.clone()
                }),
                Some(set(base)),
            ),
            Kind::Latency => (
                set(LinkFaults {
                    latency_ms: 100 + rng.below(1_401),
                    jitter_ms: rng.below(201),
                    ..base.clone()
                }),
                Some(set(base)),
            ),
            Kind::Partition => (
                Command::Partition {
                    a: a.clone(),
                    b: b.clone(),
                },
                Some(Command::Repair { a, b }),
            ),
            Kind::PartitionOneway => (
                Command::PartitionOneway {
                    a: a.clone(),
                    b: b.clone(),
                },
                Some(Command::RepairOneway { a, b }),
            ),
            _ => (
                Command::Hold {
                    a: a.clone(),
                    b: b.clone(),
                },
                Some(Command::Release { a, b }),
            ),
        };
    }
    match kind {
        Kind::Crash | Kind::Pause | Kind::BrokerRestart => {
            let nodes: Vec<&msgsim::scenario::NodeSpec> = if kind == Kind::BrokerRestart {
                scenario
                    .nodes
                    .iter()
                    .filter(|n| n.kind == NodeKind::Broker)
                    .collect()
            } else {
                services(scenario).collect()
            };
            let n = pick(rng, &nodes);
            let instance = rng.below(u64::from(n.instances)) as u32;
            let node = n.name.clone();
            if kind == Kind::Pause {
                (
                    Command::Pause {
                        node: node.clone(),
                        instance,
                    },
                    Some(Command::Resume { node, instance }),
                )
            } else {
                (
                    Command::Crash {
                        node: node.clone(),
                        instance,
                    },
                    Some(Command::Restart { node, instance }),
                )
            }
        }
        Kind::Failpoint => {
            let nodes: Vec<&str> = failpoint_nodes(scenario).collect();
            let node = *pick(rng, &nodes);
            let point = *pick(
                rng,
                &[
                    CrashPoint::BeforeCommit,
                    CrashPoint::AfterCommit,
                    CrashPoint::AfterPublish,
                ],
            );
            (
                Command::ArmCrash {
                    node: node.into(),
                    instance: 0,
                    point,
                },
                Some(Command::Restart {
                    node: node.into(),
                    instance: 0,
                }),
            )
        }
        _ => {
            let api = pick(rng, &scenario.apis);
            let index = rng.below(api.endpoints.len().max(1) as u64) as usize;
            let normal = api
                .endpoints
                .get(index)
                .map(|e| e.behaviour.clone())
                .unwrap_or_default();
            let slow = msgsim::sync::ServerBehaviour {
                latency_ms: normal.latency_ms.saturating_mul(10).clamp(50, 60_000),
                slow_percent: 30.0,
                slow_latency_ms: normal.latency_ms.saturating_mul(30).clamp(500, 60_000),
                ..normal.clone()
            };
            let endpoint = (!api.endpoints.is_empty()).then_some(index as u32);
            (
                Command::SetEndpoint {
                    node: api.service.clone(),
                    endpoint,
                    behaviour: slow,
                },
                Some(Command::SetEndpoint {
                    node: api.service.clone(),
                    endpoint,
                    behaviour: normal,
                }),
            )
        }
    }
}
