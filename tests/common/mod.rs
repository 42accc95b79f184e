//! Shared by the integration tests: one canonical run and its golden values (the native and the
//! wasm determinism tests), and the small producer -> broker -> consumer topology of the delivery
//! tests.
#![allow(dead_code)]

use msgsim::{Command, Direction, LinkFaults, Scenario, SimTime, Simulation};

/// Producer `p` -> broker `b` -> consumer `c` (`consumers` instances, deduplicating or naive) over
/// the queue `q`: 10 ms links, 5 ms processing, a message every 20 ms (`messages` of them, type
/// `Do`, key `k-{n}`), 100 ms ack timeout, 50 ms publish timeout, at most 4 delivery attempts.
pub fn pbc(messages: u64, consumers: u32, dedup: bool) -> Scenario {
    let text = serde_json::json!({
        "name": "pbc",
        "nodes": [
            {"name": "p", "kind": "service"},
            {"name": "b", "kind": "broker"},
            {"name": "c", "kind": "service", "instances": consumers, "processing_ms": 5,
             "duplicates": if dedup { "dedup" } else { "naive" }}
        ],
        "links": [
            {"a": "p", "b": "b", "latency_ms": 10},
            {"a": "b", "b": "c", "latency_ms": 10}
        ],
        "channels": [{"name": "q", "kind": "queue", "broker": "b", "consumers": ["c"]}],
        "workloads": [{"from": "p", "every_ms": 20, "count": messages, "messages": [
            {"channel": "q", "kind": "command", "type": "Do", "key": "k-{n}"}
        ]}],
        "policies": {"ack_timeout_ms": 100, "publish_timeout_ms": 50, "max_delivery_attempts": 4}
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

/// The trace as text lines, oldest first.
pub fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

/// The canonical run: `order-events`, seed 42, with loss, duplication, a partition, a crash and a
/// pause applied at fixed virtual times, run until nothing is scheduled.
pub fn canonical_run() -> Simulation {
    let json = msgsim::scenarios::get("order-events").expect("built-in");
    let mut sim = Simulation::from_json(json, 42).expect("valid");
    let lossy = LinkFaults {
        latency_ms: 40,
        jitter_ms: 25,
        loss_percent: 20.0,
        duplicate_percent: 15.0,
        ..LinkFaults::default()
    };
    let steps: Vec<(u64, Command)> = vec![
        (
            2_000,
            Command::SetLink {
                a: "broker".into(),
                b: "accounting".into(),
                direction: Direction::Both,
                faults: lossy,
            },
        ),
        (
            5_000,
            Command::Partition {
                a: "order".into(),
                b: "broker".into(),
            },
        ),
        (
            6_000,
            Command::Repair {
                a: "order".into(),
                b: "broker".into(),
            },
        ),
        (
            8_000,
            Command::Crash {
                node: "kitchen".into(),
                instance: 0,
            },
        ),
        (
            9_000,
            Command::Pause {
                node: "notification".into(),
                instance: 0,
            },
        ),
        (
            11_000,
            Command::Resume {
                node: "notification".into(),
                instance: 0,
            },
        ),
        (
            12_000,
            Command::Restart {
                node: "kitchen".into(),
                instance: 0,
            },
        ),
    ];
    for (at, cmd) in steps {
        sim.run_until(SimTime::from_ms(at), u64::MAX);
        sim.apply(cmd).expect("valid command");
    }
    sim.run_to_idle(10_000_000);
    sim
}

/// Golden trace hash of [`canonical_run`]. Native and wasm32 must both produce it.
pub const GOLDEN_HASH: u64 = 0x46ec_923a_d98c_e99c;
/// Golden number of trace events of [`canonical_run`].
pub const GOLDEN_EVENTS: u64 = 2_411;

/// Random fault schedules for the property tests (`tests/properties.rs`,
/// `tests/kafka_properties.rs`): one strategy over a scenario's links and instances, and the
/// healing that ends every schedule. Native only (proptest pulls OS entropy).
#[cfg(not(target_arch = "wasm32"))]
pub mod faults {
    use msgsim::{Command, Direction, LinkFaults, Simulation};
    use proptest::prelude::*;

    /// A scenario's fault targets and the ranges of the link faults drawn.
    pub struct Targets {
        /// Links a fault may hit, `(a, b)`.
        pub links: &'static [(&'static str, &'static str)],
        /// Instances a crash, restart, pause or resume may hit, `(node, instance)`.
        pub instances: &'static [(&'static str, u32)],
        /// Latency of every link, ms (set by `set_link` and by [`heal`]).
        pub latency_ms: u64,
        /// Loss and duplication percentages are drawn from `0.0..max_percent`.
        pub max_percent: f64,
        /// Jitter is drawn from `0..max_jitter_ms`.
        pub max_jitter_ms: u64,
    }

    /// One fault command: `set_link` (loss, duplication, jitter, one or both directions),
    /// `partition`, `partition_oneway`, `repair`, `hold`, `release` on a link; `crash`,
    /// `restart`, `pause`, `resume` on an instance.
    pub fn op(t: &'static Targets) -> impl Strategy<Value = Command> {
        let link = (0..t.links.len()).prop_map(move |i| t.links[i]);
        let inst = (0..t.instances.len()).prop_map(move |i| t.instances[i]);
        let latency_ms = t.latency_ms;
        prop_oneof![
            (
                link.clone(),
                0.0..t.max_percent,
                0.0..t.max_percent,
                0u64..t.max_jitter_ms,
                0..3u8
            )
                .prop_map(move |((a, b), loss, dup, jitter, d)| Command::SetLink {
                    a: a.into(),
                    b: b.into(),
                    direction: [Direction::Both, Direction::AToB, Direction::BToA][d as usize],
                    faults: LinkFaults {
                        latency_ms,
                        jitter_ms: jitter,
                        loss_percent: loss,
                        duplicate_percent: dup,
                        ..LinkFaults::default()
                    },
                }),
            link.clone().prop_map(|(a, b)| Command::Partition {
                a: a.into(),
                b: b.into()
            }),
            link.clone().prop_map(|(a, b)| Command::PartitionOneway {
                a: a.into(),
                b: b.into()
            }),
            link.clone().prop_map(|(a, b)| Command::Repair {
                a: a.into(),
                b: b.into()
            }),
            link.clone().prop_map(|(a, b)| Command::Hold {
                a: a.into(),
                b: b.into()
            }),
            link.prop_map(|(a, b)| Command::Release {
                a: a.into(),
                b: b.into()
            }),
            inst.clone().prop_map(|(n, i)| Command::Crash {
                node: n.into(),
                instance: i
            }),
            inst.clone().prop_map(|(n, i)| Command::Restart {
                node: n.into(),
                instance: i
            }),
            inst.clone().prop_map(|(n, i)| Command::Pause {
                node: n.into(),
                instance: i
            }),
            inst.prop_map(|(n, i)| Command::Resume {
                node: n.into(),
                instance: i
            }),
        ]
    }

    /// Ends a schedule: every link back to `latency_ms` without faults, every instance
    /// restarted and resumed.
    pub fn heal(sim: &mut Simulation, t: &Targets) {
        for (a, b) in t.links {
            sim.apply(Command::SetLink {
                a: (*a).into(),
                b: (*b).into(),
                direction: Direction::Both,
                faults: LinkFaults {
                    latency_ms: t.latency_ms,
                    ..LinkFaults::default()
                },
            })
            .unwrap();
        }
        for (n, i) in t.instances {
            for cmd in [
                Command::Restart {
                    node: (*n).into(),
                    instance: *i,
                },
                Command::Resume {
                    node: (*n).into(),
                    instance: *i,
                },
            ] {
                sim.apply(cmd).unwrap();
            }
        }
    }
}
