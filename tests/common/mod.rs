//! Shared by the native and the wasm determinism tests: one canonical run and its golden values.
#![allow(dead_code)]

use msgsim::{Command, Direction, LinkFaults, SimTime, Simulation};

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
pub const GOLDEN_HASH: u64 = 0xc7d9_8242_d575_31b3;
/// Golden number of trace events of [`canonical_run`].
pub const GOLDEN_EVENTS: u64 = 2_411;
