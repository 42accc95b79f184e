//! Share a run as a link: scenario (built-in name or full definition), seed and the user's commands
//! with their exact places, serialized as JSON, compressed with DEFLATE (`miniz_oxide`) and encoded
//! as URL-safe base64 without padding, behind a version prefix: `v1.<base64url>`.
//!
//! Decoding never trusts its input: the text length, the inflated size and the JSON are all
//! bounded and checked, and every error says what was wrong.

use crate::error::ScenarioError;
use crate::replay::{Replay, ReplayError, Target};
use crate::scenario::Scenario;
use crate::sim::bounds::MAX_COMMAND_LOG;
use crate::sim::{RecordedCommand, Simulation};
use crate::time::SimTime;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest encoded run accepted in a link, in characters (many servers and browsers handle
/// URLs of 8 KB; the rest of the URL needs room too). Longer: download the scenario file instead.
pub const MAX_LINK_CHARS: usize = 6_000;
/// Largest inflated JSON accepted, in bytes (the decompression bound).
pub const MAX_INFLATED_BYTES: usize = 1 << 20;
/// Prefix of the current format.
pub const PREFIX: &str = "v1.";
/// Latest place a link or run file may name (its `at`, each command's `at`): 24 h of virtual
/// time, µs (as the widget's `seek`). [`SharedRun::encode`] refuses what a receiver would refuse.
pub const MAX_RUN_AT: SimTime = SimTime(86_400_000_000);
/// Most engine events a shared run may need to open (its declared cost, [`SharedRun::cost`]; and
/// the work bound of [`SharedRun::replay`], which stops a run without a declared count there).
///
/// Chosen so a link opens in well under a second in a browser: the heaviest built-in scenarios
/// (`partitioned-orders`, `parallel-workers`, `consumer-offsets`) replay at about 0.3 M events/s
/// natively on this project's 2-core machine under a full build load (`cargo run --release
/// --example replay_cost`; the light ones at about 1 M/s), wasm is 2-3× slower: 100 000 events
/// take at most about 0.3 s natively, 0.6-0.9 s in wasm on a loaded machine, well under that on
/// an idle one. Every place in a link (its `events`, each command's `events`) is within it.
pub const MAX_REPLAY_EVENTS: u64 = 100_000;

/// Which scenario a shared run uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScenarioRef {
    /// A built-in scenario by name (see [`crate::scenarios`]).
    Builtin(String),
    /// A full scenario definition (an uploaded or edited one).
    Inline(Box<Scenario>),
}

/// Everything that reproduces a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedRun {
    /// The scenario.
    pub scenario: ScenarioRef,
    /// The seed.
    pub seed: u64,
    /// The user's commands with their places in the run (see [`RecordedCommand`]).
    #[serde(default)]
    pub commands: Vec<RecordedCommand>,
    /// Virtual time the sharer was looking at, µs (the receiver runs to it). Default 0.
    #[serde(default)]
    pub at: SimTime,
    /// Events handled at `at`, when the sharer stood between events of the same virtual time (a
    /// step, or a frame cut short by the per-frame event budget); absent otherwise (then every
    /// event up to and including `at` has been handled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// Why a link could not be made or read.
#[derive(Debug, Error, PartialEq)]
pub enum ShareError {
    /// The encoded run is longer than a link may be.
    #[error("the run is too big for a link ({len} characters, maximum {max}); download the scenario file instead")]
    TooLong {
        /// Encoded length.
        len: usize,
        /// [`MAX_LINK_CHARS`].
        max: usize,
    },
    /// The text does not start with a known version prefix.
    #[error("not a msgsim link: expected it to start with `{PREFIX}`, found `{0}`")]
    Version(String),
    /// The base64 is damaged.
    #[error("the link is damaged (base64): {0}")]
    Base64(String),
    /// The compressed data is damaged or inflates beyond [`MAX_INFLATED_BYTES`].
    #[error(
        "the link is damaged or too large once decompressed (limit {MAX_INFLATED_BYTES} bytes)"
    )]
    Inflate,
    /// The JSON inside is not a shared run.
    #[error("the link's content, line {line} column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The scenario named is not built in.
    #[error("the link names an unknown scenario `{0}`")]
    UnknownScenario(String),
    /// The inline scenario is invalid.
    #[error("the link's scenario is invalid: {0}")]
    Scenario(#[from] ScenarioError),
    /// A command's own field is out of range ([`crate::Command::validate_fields`]), e.g.
    /// `a command of the run is invalid: commands[0].command.prefetch: 0 is out of range
    /// 1..=10000`.
    #[error("a command of the run is invalid: {0}")]
    Command(ScenarioError),
    /// A field is outside its range (a place beyond 24 h, an event count beyond the cost bound,
    /// too many commands).
    #[error("the run's `{field}` is {value}, beyond the maximum {max}{unit}")]
    OutOfRange {
        /// The field path (`at`, `events`, `commands[3].at`, `commands`).
        field: String,
        /// Its value.
        value: u64,
        /// The largest value allowed.
        max: u64,
        /// The unit, with its leading space (` µs`, ` events`, ` commands`).
        unit: &'static str,
    },
    /// The run needs more engine events to open than the receiver does.
    #[error("opening this run takes {events} engine events, more than the {limit} allowed (it would take too long); open the scenario and run it instead")]
    TooCostly {
        /// Events the run declares it needs ([`SharedRun::cost`]).
        events: u64,
        /// The limit.
        limit: u64,
    },
    /// The replay did not reach the shared place (see [`ReplayError`]).
    #[error("the run does not replay: {0}")]
    Replay(#[from] ReplayError),
}

/// What opening a shared run costs, as it declares it (see [`SharedRun::cost`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Engine events needed to reach the place: its `events` when given, else at least the
    /// largest `events` of the commands at or before `at` (a lower bound; the replay's limit then
    /// bounds the rest).
    pub events: u64,
    /// Whether `events` is exact (the run gives its count) or a lower bound.
    pub exact: bool,
    /// Virtual time of the place, µs.
    pub at: SimTime,
}

impl SharedRun {
    /// Encodes as `v1.<base64url(deflate(json))>`. Errors with [`ShareError::TooLong`] beyond
    /// [`MAX_LINK_CHARS`], and with what [`SharedRun::check`] and
    /// [`SharedRun::check_cost`]`(`[`MAX_REPLAY_EVENTS`]`)` say: a link is only made when a receiver
    /// opens it.
    pub fn encode(&self) -> Result<String, ShareError> {
        self.check()?;
        self.check_cost(MAX_REPLAY_EVENTS)?;
        let json = serde_json::to_vec(self).unwrap_or_default();
        let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
        let text = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(packed));
        if text.len() > MAX_LINK_CHARS {
            return Err(ShareError::TooLong {
                len: text.len(),
                max: MAX_LINK_CHARS,
            });
        }
        Ok(text)
    }

    /// Decodes a link parameter made by [`SharedRun::encode`]; checks every step, the fields'
    /// ranges included ([`SharedRun::check`]). The cost is the receiver's to check
    /// ([`SharedRun::check_cost`], done by [`SharedRun::start_replay`]).
    pub fn decode(text: &str) -> Result<SharedRun, ShareError> {
        if text.len() > MAX_LINK_CHARS {
            return Err(ShareError::TooLong {
                len: text.len(),
                max: MAX_LINK_CHARS,
            });
        }
        let Some(body) = text.strip_prefix(PREFIX) else {
            return Err(ShareError::Version(text.chars().take(8).collect()));
        };
        let packed = URL_SAFE_NO_PAD
            .decode(body.trim())
            .map_err(|e| ShareError::Base64(e.to_string()))?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_INFLATED_BYTES)
            .map_err(|_| ShareError::Inflate)?;
        // (`from_str`, like `Scenario::from_json`: one copy of the deserializers in a wasm build.)
        let json = std::str::from_utf8(&json).map_err(|e| ShareError::Json {
            line: 1,
            column: e.valid_up_to() + 1,
            message: "not UTF-8 text".into(),
        })?;
        let run: SharedRun = serde_json::from_str(json).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            ShareError::Json {
                line: e.line(),
                column: e.column(),
                message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
            }
        })?;
        run.check()?;
        Ok(run)
    }

    /// Range checks of the run's own fields (not its scenario's): `at` and every command's `at`
    /// within [`MAX_RUN_AT`]; `events` and every command's `events` within
    /// [`MAX_REPLAY_EVENTS`]; at most [`MAX_COMMAND_LOG`] commands; commands in the order they
    /// were applied (places never go back, [`ReplayError::Unordered`]); every command's own fields
    /// within their ranges ([`ShareError::Command`]).
    pub fn check(&self) -> Result<(), ShareError> {
        let range = |field: String, value: u64, max: u64, unit| {
            if value > max {
                Err(ShareError::OutOfRange {
                    field,
                    value,
                    max,
                    unit,
                })
            } else {
                Ok(())
            }
        };
        range("at".into(), self.at.as_us(), MAX_RUN_AT.as_us(), " µs")?;
        if let Some(n) = self.events {
            range("events".into(), n, MAX_REPLAY_EVENTS, " events")?;
        }
        range(
            "commands".into(),
            self.commands.len() as u64,
            MAX_COMMAND_LOG as u64,
            " commands",
        )?;
        for (i, c) in self.commands.iter().enumerate() {
            range(
                format!("commands[{i}].at"),
                c.at.as_us(),
                MAX_RUN_AT.as_us(),
                " µs",
            )?;
            range(
                format!("commands[{i}].events"),
                c.events,
                MAX_REPLAY_EVENTS,
                " events",
            )?;
            c.command
                .validate_fields(&format!("commands[{i}].command"))
                .map_err(ShareError::Command)?;
        }
        crate::replay::check_order(&self.commands)?;
        Ok(())
    }

    /// What opening this run costs, as it declares it: the events to reach its place (exact with
    /// `events`, else a lower bound from the commands at or before `at`) and its time.
    pub fn cost(&self) -> Cost {
        match self.events {
            Some(n) => Cost {
                events: n,
                exact: true,
                at: self.at,
            },
            None => Cost {
                events: self
                    .commands
                    .iter()
                    .filter(|c| c.at <= self.at)
                    .map(|c| c.events)
                    .max()
                    .unwrap_or(0),
                exact: false,
                at: self.at,
            },
        }
    }

    /// Refuses, before anything runs, a run whose declared cost ([`SharedRun::cost`]) is beyond
    /// `limit` engine events ([`ShareError::TooCostly`]).
    pub fn check_cost(&self, limit: u64) -> Result<(), ShareError> {
        let cost = self.cost();
        if cost.events > limit {
            return Err(ShareError::TooCostly {
                events: cost.events,
                limit,
            });
        }
        Ok(())
    }

    /// The target of the replay: the shared place ([`Target::from_place`]).
    pub fn target(&self) -> Target {
        Target::from_place(self.at, self.events)
    }

    /// The scenario this run uses.
    pub fn resolve_scenario(&self) -> Result<Scenario, ShareError> {
        match &self.scenario {
            ScenarioRef::Builtin(name) => {
                let json = crate::scenarios::get(name)
                    .ok_or_else(|| ShareError::UnknownScenario(name.clone()))?;
                Ok(Scenario::from_json(json)?)
            }
            ScenarioRef::Inline(s) => {
                s.validate()?;
                Ok((**s).clone())
            }
        }
    }

    /// Starts the replay of this run, in chunks ([`Replay::advance`]): checks the fields
    /// ([`SharedRun::check`]) and the declared cost against `limit` ([`SharedRun::check_cost`]),
    /// builds the scenario with the seed; nothing runs yet. The replay handles at most `limit`
    /// events in all; commands after the shared place stay in [`Replay::log`] (not applied).
    pub fn start_replay(&self, limit: u64) -> Result<Replay, ShareError> {
        self.check()?;
        self.check_cost(limit)?;
        let sim = Simulation::new(self.resolve_scenario()?, self.seed)?;
        Ok(Replay::new(
            sim,
            self.commands.clone(),
            self.target(),
            limit,
        )?)
    }

    /// Rebuilds the run at once: the scenario with the seed, the commands at their places, up to
    /// the shared place (`at`, and with [`SharedRun::events`] exactly that many handled events),
    /// at most [`MAX_REPLAY_EVENTS`] events. Errors say what does not fit (a command's place the
    /// run never reaches names the command).
    pub fn replay(&self) -> Result<Simulation, ShareError> {
        Ok(self.start_replay(MAX_REPLAY_EVENTS)?.run()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;

    fn a_run() -> (SharedRun, Simulation) {
        let mut sim =
            Simulation::from_json(crate::scenarios::get("order-events").unwrap(), 7).unwrap();
        sim.run_until(SimTime::from_ms(1_500), u64::MAX);
        sim.apply(Command::Partition {
            a: "order".into(),
            b: "broker".into(),
        })
        .unwrap();
        sim.step();
        sim.apply(Command::Repair {
            a: "order".into(),
            b: "broker".into(),
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(4_000), u64::MAX);
        let run = SharedRun {
            scenario: ScenarioRef::Builtin("order-events".into()),
            seed: 7,
            commands: sim.command_log().to_vec(),
            at: sim.now(),
            events: None,
        };
        (run, sim)
    }

    #[test]
    fn a_link_reproduces_the_run_exactly() {
        let (run, sim) = a_run();
        let link = run.encode().unwrap();
        assert!(link.starts_with("v1."));
        assert_eq!(link.len(), 183);
        let back = SharedRun::decode(&link).unwrap();
        assert_eq!(back, run);
        let replayed = back.replay().unwrap();
        assert_eq!(replayed.now(), sim.now());
        assert_eq!(replayed.trace_hash(), sim.trace_hash());
    }

    #[test]
    fn a_link_between_events_of_one_time_keeps_its_event_count() {
        let mut sim =
            Simulation::from_json(crate::scenarios::get("order-events").unwrap(), 7).unwrap();
        sim.run_until(SimTime::from_ms(999), u64::MAX);
        // Stand just after an event that shares its time with the next one.
        while sim.next_event_time().is_some_and(|t| t != sim.now()) {
            sim.step();
        }
        assert_eq!(sim.next_event_time(), Some(sim.now()));
        sim.apply(Command::Crash {
            node: "kitchen".into(),
            instance: 1,
        })
        .unwrap();
        let run = SharedRun {
            scenario: ScenarioRef::Builtin("order-events".into()),
            seed: 7,
            commands: sim.command_log().to_vec(),
            at: sim.now(),
            events: Some(sim.events_processed()),
        };
        let back = SharedRun::decode(&run.encode().unwrap()).unwrap();
        assert_eq!(back, run);
        let replayed = back.replay().unwrap();
        assert_eq!(
            (sim.now(), sim.events_processed()),
            (SimTime(1_077_318), 69)
        );
        assert_eq!(replayed.events_processed(), sim.events_processed());
        assert_eq!(replayed.trace_hash(), sim.trace_hash());
        assert_eq!(replayed.command_log(), sim.command_log());
        // Without the count, the replay would also handle the rest of that instant.
        let plain = SharedRun {
            events: None,
            ..run.clone()
        };
        assert_eq!(plain.replay().unwrap().events_processed(), 71);
    }

    #[test]
    fn an_inline_scenario_fits_and_an_oversized_one_is_refused() {
        let (mut run, _) = a_run();
        let scenario = Scenario::from_json(crate::scenarios::get("order-events").unwrap()).unwrap();
        run.scenario = ScenarioRef::Inline(Box::new(scenario.clone()));
        let link = run.encode().unwrap();
        // 1 386 before order-events claimed its two invariants (`invariants`, 49 more); 1 435
        // before it had its three experiments (636 more).
        assert_eq!(link.len(), 2_071);
        let mut big = scenario;
        big.description = (0..20_000u32).map(|i| format!("{i:x}")).collect();
        run.scenario = ScenarioRef::Inline(Box::new(big));
        assert!(matches!(run.encode(), Err(ShareError::TooLong { .. })));
    }

    #[test]
    fn damaged_links_are_clear_errors() {
        assert_eq!(
            SharedRun::decode("v2.abc").unwrap_err().to_string(),
            "not a msgsim link: expected it to start with `v1.`, found `v2.abc`"
        );
        assert!(matches!(
            SharedRun::decode("v1.@@@"),
            Err(ShareError::Base64(_))
        ));
        assert_eq!(SharedRun::decode("v1.AAAA"), Err(ShareError::Inflate));
        let not_a_run = format!(
            "v1.{}",
            URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"{\"seed\":1}", 9))
        );
        assert_eq!(
            SharedRun::decode(&not_a_run).unwrap_err().to_string(),
            "the link's content, line 1 column 10: missing field `scenario`"
        );
        let unknown = SharedRun {
            scenario: ScenarioRef::Builtin("nope".into()),
            seed: 1,
            commands: vec![],
            at: SimTime::ZERO,
            events: None,
        };
        assert_eq!(
            unknown.replay().unwrap_err().to_string(),
            "the link names an unknown scenario `nope`"
        );
        // A decompression bomb is stopped at the limit.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MAX_INFLATED_BYTES + 10], 9);
        let text = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bomb));
        assert_eq!(SharedRun::decode(&text), Err(ShareError::Inflate));
    }
}
