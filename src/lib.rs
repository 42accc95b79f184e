//! # msgsim — a deterministic simulator of how microservices talk
//!
//! A discrete-event simulation, in virtual time (µs), of services, network links, a message broker
//! and their faults. Every random draw derives from one `u64` seed; the same seed and the same
//! commands at the same virtual times give the same trace, natively and in wasm32.
//!
//! ```
//! use msgsim::{Command, SimTime, Simulation};
//!
//! let json = msgsim::scenarios::get("order-events").unwrap();
//! let mut sim = Simulation::from_json(json, 42)?;
//! sim.run_until(SimTime::from_ms(2_000), u64::MAX);
//! sim.apply(Command::Crash { node: "kitchen".into(), instance: 0 })?;
//! sim.run_to_idle(10_000_000);
//! let accounting = sim.node_metrics("accounting").unwrap();
//! assert_eq!(accounting.distinct, 60);
//! let first = sim.trace().events().next().unwrap();
//! assert_eq!(first.to_string(), "t=0.000ms order#0 -> broker publish m1 attempt=1 #1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The engine never reads a clock, never draws OS entropy, never touches a browser: see
//! `ARCHITECTURE.md`.
//!
//! Writing tests against the engine (a scenario in code, faults at virtual times, assertions on
//! metrics, the trace and invariants, natively and in headless Chromium): `docs/testing.md`, whose
//! example runs as a doctest, and `tests/example_testing.rs`. From JavaScript: the `msgsim-js`
//! crate (`js/`).

#![warn(missing_docs)]

pub mod command;
pub mod contract;
pub mod error;
pub mod experiment;
#[cfg(feature = "export")]
pub mod export;
mod id_bitmap;
pub mod invariants;
pub mod log;
pub mod message;
pub mod network;
pub mod outbox;
pub mod ranges;
pub mod replay;
pub mod resilience;
pub mod rng;
pub mod scenario;
mod scenario_async;
pub mod scenarios;
pub mod schema;
pub mod schema_view;
pub mod share;
pub mod sim;
pub mod snapshot;
pub mod sync;
pub mod time;
pub mod timeline;
pub mod trace;

/// The test authors' guide, `docs/testing.md`, included so that its example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/testing.md")]
pub struct TestingGuide;

pub use command::Command;
pub use error::{CommandError, ScenarioError};
pub use message::{Headers, Message, MessageId, MessageKind};
pub use network::{Direction, DropReason, LinkFaults};
pub use scenario::Scenario;
pub use sim::{MatchOutcome, RecordedCommand, RunOutcome, Simulation};
pub use snapshot::{Metrics, Snapshot};
pub use time::SimTime;
pub use trace::{Trace, TraceConfig, TraceEvent, TraceKind};
