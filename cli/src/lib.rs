//! The `msgsim` command line as a library: load a scenario or a run file, run one seed, sweep
//! many seeds with fault schedules drawn from each seed ([`swarm`]), shard and merge sweeps,
//! shrink a failing run ([`shrink`]).
//!
//! Everything here is deterministic: the same scenario, seed range, profile and horizon give the
//! same results, in seed order, on any machine, however many threads or shards run them.

pub mod shrink;
pub mod swarm;

use anyhow::{bail, Context, Result};
use msgsim::command::Command;
use msgsim::invariants::{InvariantState, InvariantStatus};
use msgsim::share::{ScenarioRef, SharedRun, MAX_REPLAY_EVENTS};
use msgsim::{Scenario, SimTime, Simulation};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Default virtual time a run covers: the scenario's `horizon_ms`, else 40 s.
pub const DEFAULT_HORIZON: SimTime = SimTime::from_ms(40_000);

/// Most engine events one run may handle (a run that needs more stops there and says so).
pub const DEFAULT_MAX_EVENTS: u64 = 5_000_000;

/// Largest scenario or run file read, bytes (as the playground's Load JSON).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Default playground address printed in links (`bash scripts/serve.sh` serves it there).
pub const DEFAULT_PLAYGROUND: &str = "http://127.0.0.1:8080/";

/// What a command line names: a built-in scenario, a scenario file or a run file.
#[derive(Clone, Debug)]
pub struct Input {
    /// The scenario as a shared run refers to it (a built-in by name, a file inline).
    pub scenario_ref: ScenarioRef,
    /// The scenario itself, validated.
    pub scenario: Scenario,
    /// A run file's seed, commands and place; `None` for a scenario.
    pub run: Option<SharedRun>,
}

impl Input {
    /// Reads `arg`: a built-in name (`order-events`), else a path to a scenario file (as in
    /// `scenarios/`) or a run file (a top-level `scenario` field, as the playground's
    /// **⤓ Run file** writes). Errors say what was wrong and where.
    pub fn load(arg: &str) -> Result<Input> {
        if let Some(json) = msgsim::scenarios::get(arg) {
            let scenario =
                Scenario::from_json(json).with_context(|| format!("built-in scenario `{arg}`"))?;
            return Ok(Input {
                scenario_ref: ScenarioRef::Builtin(arg.into()),
                scenario,
                run: None,
            });
        }
        let path = Path::new(arg);
        let meta = std::fs::metadata(path).with_context(|| {
            format!(
                "`{arg}` is neither a built-in scenario ({}) nor a readable file",
                msgsim::scenarios::names().collect::<Vec<_>>().join(", ")
            )
        })?;
        if meta.len() > MAX_FILE_BYTES {
            bail!(
                "`{arg}` has {} bytes; a scenario or run file may have at most {MAX_FILE_BYTES}",
                meta.len()
            );
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("reading `{arg}`"))?;
        Input::parse(&text).with_context(|| format!("`{arg}`"))
    }

    /// Parses a scenario file or a run file.
    pub fn parse(text: &str) -> Result<Input> {
        let value: serde_json::Value = serde_json::from_str(text).context("JSON")?;
        if value.get("scenario").is_some() {
            let run: SharedRun = serde_json::from_value(value).context("run file")?;
            run.check().context("run file")?;
            let scenario = run.resolve_scenario().context("run file")?;
            Ok(Input {
                scenario_ref: run.scenario.clone(),
                scenario,
                run: Some(run),
            })
        } else {
            let scenario = Scenario::from_json(text).context("scenario file")?;
            Ok(Input {
                scenario_ref: ScenarioRef::Inline(Box::new(scenario.clone())),
                scenario,
                run: None,
            })
        }
    }

    /// The horizon a run of this input covers when none is given: the scenario's
    /// `horizon_ms`, else [`DEFAULT_HORIZON`].
    pub fn horizon(&self) -> SimTime {
        self.scenario
            .horizon_ms
            .map(SimTime::from_ms)
            .unwrap_or(DEFAULT_HORIZON)
    }
}

/// One violated claim of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The claim's label (`no_message_lost`, `effect_applied_once @ accounting`).
    pub claim: String,
    /// Virtual time of the first violating event, µs.
    pub time_us: u64,
    /// What broke the claim.
    pub reason: String,
    /// Violating events in the run.
    pub count: u64,
}

/// The claims a finished run violated.
pub fn violations(statuses: &[InvariantStatus]) -> Vec<Violation> {
    statuses
        .iter()
        .filter_map(|s| match &s.state {
            InvariantState::Holding => None,
            InvariantState::Violated { time, reason, .. } => Some(Violation {
                claim: s.claim.label(),
                time_us: time.0,
                reason: reason.clone(),
                count: s.violations,
            }),
        })
        .collect()
}

/// A finished run: where it stopped and what it violated.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The simulation at its end.
    pub sim: Simulation,
    /// Whether the horizon was reached within the event budget.
    pub reached: bool,
    /// Commands that the engine refused (e.g. a restart of an instance that is up), with why.
    pub refused: Vec<String>,
}

/// Runs `scenario` with `seed` to `until`, applying `commands` (sorted by time) at their
/// times: every event at or before a command's time is handled first, then the command, so the
/// command log records its exact place and the run replays from a link. At most `max_events`.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    commands: &[swarm::Planned],
    until: SimTime,
    max_events: u64,
) -> Result<Outcome> {
    let mut sim = Simulation::new(scenario.clone(), seed).context("scenario")?;
    let mut refused = Vec::new();
    let mut left = max_events;
    for p in commands.iter().filter(|p| p.at <= until) {
        let out = sim.run_until(p.at, left);
        left -= out.events;
        if !out.reached {
            return Ok(Outcome {
                sim,
                reached: false,
                refused,
            });
        }
        if let Err(e) = sim.apply(p.command.clone()) {
            refused.push(format!("{} at {}: {e}", p.command.describe(), p.at));
        }
    }
    let out = sim.run_until(until, left);
    Ok(Outcome {
        sim,
        reached: out.reached,
        refused,
    })
}

/// Runs `scenario` with `seed` to `until`, applying a run file's recorded commands at their
/// exact places (time and events handled before each), through the engine's one replay path
/// ([`msgsim::replay::Replay`]) — the same run as the playground's link or run file. At most
/// `max_events`. Errors: a command whose place the run does not have (the run went idle first,
/// or its events do not fit), named as the replay names it.
pub fn run_recorded(
    scenario: &Scenario,
    seed: u64,
    log: &[msgsim::RecordedCommand],
    until: SimTime,
    max_events: u64,
) -> Result<Outcome> {
    let sim = Simulation::new(scenario.clone(), seed).context("scenario")?;
    let mut replay = msgsim::replay::Replay::new(
        sim,
        log.to_vec(),
        msgsim::replay::Target::Time(until),
        max_events,
    )
    .context("run file commands")?;
    let reached = match replay.advance(u64::MAX) {
        Ok(_) => true,
        Err(msgsim::replay::ReplayError::OverLimit { .. }) => false,
        Err(e) => return Err(anyhow::Error::new(e).context("run file commands")),
    };
    Ok(Outcome {
        sim: replay.into_simulation(),
        reached,
        refused: vec![],
    })
}

/// One seed of a sweep, as a JSON Lines record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Engine events handled.
    pub events: u64,
    /// Whether the run reached its horizon within the event budget.
    pub reached: bool,
    /// The fault kinds drawn for this seed (swarm testing).
    pub kinds: Vec<String>,
    /// The injected commands, described (`partition orders ⇄ broker @ 3.2 s`).
    pub faults: Vec<String>,
    /// Claims violated under the injected faults that hold without them: failures.
    pub violations: Vec<Violation>,
    /// Claims also violated without the injected faults (the scenario shows them break by
    /// itself, e.g. the anti-pattern side of a side-by-side scenario): reported, not failures.
    pub expected: Vec<String>,
    /// The failing run as a shared run (`SharedRun` JSON), placed at the first violation; only
    /// when there are violations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<serde_json::Value>,
}

impl SeedResult {
    /// Whether this seed found a failure.
    pub fn failed(&self) -> bool {
        !self.violations.is_empty()
    }
}

/// How a sweep runs each seed.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// Fault kinds to draw from.
    pub profile: swarm::Profile,
    /// Virtual time each run covers.
    pub until: SimTime,
    /// Event budget of each run.
    pub max_events: u64,
}

/// Runs one seed of a sweep: draws its schedule, runs it, and when a claim breaks, runs the
/// same seed without the injected faults to tell failures from what the scenario shows by
/// itself, and builds the shared run that reproduces the first failure.
pub fn sweep_seed(input: &Input, seed: u64, cfg: &SweepConfig) -> Result<SeedResult> {
    let schedule = swarm::schedule(&input.scenario, seed, cfg.profile, cfg.until);
    let out = run(
        &input.scenario,
        seed,
        &schedule.commands,
        cfg.until,
        cfg.max_events,
    )?;
    let mut found = violations(out.sim.invariants());
    let mut expected = Vec::new();
    if !found.is_empty() {
        let base = run(&input.scenario, seed, &[], cfg.until, cfg.max_events)?;
        let base_claims: Vec<String> = violations(base.sim.invariants())
            .into_iter()
            .map(|v| v.claim)
            .collect();
        found.retain(|v| {
            let shown = base_claims.contains(&v.claim);
            if shown {
                expected.push(v.claim.clone());
            }
            !shown
        });
    }
    let run_json = match found.iter().map(|v| v.time_us).min() {
        Some(first) => Some(serde_json::to_value(shared_run(
            input,
            seed,
            &out.sim,
            SimTime(first),
        ))?),
        None => None,
    };
    Ok(SeedResult {
        seed,
        events: out.sim.events_processed(),
        reached: out.reached,
        kinds: schedule
            .kinds
            .iter()
            .map(|k| serde_json::to_value(k).map(|v| v.as_str().unwrap_or("").to_string()))
            .collect::<Result<_, _>>()?,
        faults: schedule
            .commands
            .iter()
            .map(|p| format!("{} @ {}", p.command.describe(), p.at))
            .collect(),
        violations: found,
        expected,
        run: run_json,
    })
}

/// The shared run of `sim`'s seed and recorded commands, placed at `at` (the commands recorded
/// after `at` are left out: the link opens where the claim broke).
pub fn shared_run(input: &Input, seed: u64, sim: &Simulation, at: SimTime) -> SharedRun {
    SharedRun {
        scenario: input.scenario_ref.clone(),
        seed,
        commands: sim
            .command_log()
            .iter()
            .filter(|c| c.at <= at)
            .cloned()
            .collect(),
        at,
        events: None,
    }
}

/// A playground link that opens `run`, or why there is none (too long for a link, or more
/// engine events than a link may replay: then use the run file).
pub fn link(playground: &str, run: &SharedRun) -> Result<String, String> {
    let cost = run.cost();
    if cost.events > MAX_REPLAY_EVENTS {
        return Err(format!(
            "no link: opening it needs at least {} engine events, a link may replay {MAX_REPLAY_EVENTS}",
            cost.events
        ));
    }
    match run.encode() {
        Ok(code) => {
            let sep = if playground.contains('?') { '&' } else { '?' };
            Ok(format!("{playground}{sep}run={code}"))
        }
        Err(e) => Err(format!("no link: {e}")),
    }
}

/// The seeds of `range` that shard `index` of `count` runs: every `count`-th seed starting at
/// the `index`-th (0-based, as a Kubernetes Indexed Job's completion index). The shards of one
/// range are disjoint and their union is the range.
pub fn shard_seeds(
    range: std::ops::Range<u64>,
    index: u64,
    count: u64,
) -> impl Iterator<Item = u64> {
    range.skip(index as usize).step_by(count.max(1) as usize)
}

/// Parses `0..10000` (end exclusive), `0..=9999`, or a single seed `42`.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>> {
    let num = |s: &str| -> Result<u64> {
        s.trim()
            .replace('_', "")
            .parse::<u64>()
            .with_context(|| format!("`{s}` is not a seed (an integer 0..=18446744073709551615)"))
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        let end = num(b)?;
        num(a)?..end.checked_add(1).context("seed range end too large")?
    } else if let Some((a, b)) = text.split_once("..") {
        num(a)?..num(b)?
    } else {
        let s = num(text)?;
        s..s.checked_add(1)
            .context("seed 18446744073709551615 cannot be swept (END is exclusive)")?
    };
    if range.is_empty() {
        bail!("seed range `{text}` is empty (write START..END, END exclusive, e.g. 0..10000)");
    }
    Ok(range)
}

/// Parses `K/N` (shard K of N, 0 ≤ K < N).
pub fn parse_shard(text: &str) -> Result<(u64, u64)> {
    let (k, n) = text
        .split_once('/')
        .with_context(|| format!("`{text}` is not a shard; write K/N, e.g. 0/4"))?;
    let k: u64 = k
        .trim()
        .parse()
        .with_context(|| format!("shard index `{k}`"))?;
    let n: u64 = n
        .trim()
        .parse()
        .with_context(|| format!("shard count `{n}`"))?;
    if n == 0 || k >= n {
        bail!("shard `{text}`: the index must be below the count (0/4 … 3/4)");
    }
    Ok((k, n))
}

/// Parses a virtual duration: `30s`, `500ms`, `2m`, `1h 5m`, or a bare number of ms. At most
/// 24 h (the latest place a link may name).
pub fn parse_duration(text: &str) -> Result<SimTime> {
    let t = text.trim();
    let ms: u64 = if t.chars().all(|c| c.is_ascii_digit()) {
        t.parse().with_context(|| format!("duration `{t}`"))?
    } else {
        let d = humantime::parse_duration(t)
            .with_context(|| format!("duration `{t}` (write e.g. 30s, 500ms, 2m)"))?;
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    };
    if ms > 86_400_000 {
        bail!("duration `{t}` is over 24 h of virtual time");
    }
    Ok(SimTime::from_ms(ms))
}

/// A sweep's summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds with at least one failure.
    pub failed_seeds: u64,
    /// Failures by claim, then by the first words of the first violation's reason.
    pub by_claim: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Claims violated without the injected faults too, by claim (seeds).
    pub expected: std::collections::BTreeMap<String, u64>,
    /// Seeds that did not reach the horizon within their event budget.
    pub unfinished: u64,
    /// Engine events handled in all.
    pub events: u64,
    /// The lowest failing seed.
    pub first_failing_seed: Option<u64>,
}

impl Summary {
    /// Adds one result.
    pub fn add(&mut self, r: &SeedResult) {
        self.seeds += 1;
        self.events += r.events;
        if !r.reached {
            self.unfinished += 1;
        }
        for c in &r.expected {
            *self.expected.entry(c.clone()).or_default() += 1;
        }
        if r.failed() {
            self.failed_seeds += 1;
            self.first_failing_seed =
                Some(self.first_failing_seed.map_or(r.seed, |s| s.min(r.seed)));
            for v in &r.violations {
                *self
                    .by_claim
                    .entry(v.claim.clone())
                    .or_default()
                    .entry(reason_kind(&v.reason))
                    .or_default() += 1;
            }
        }
    }
}

/// The kind of a violation reason: the reason with every run of digits replaced by `N`, so
/// "accounting#0 applied the effect of m37 again" and "… m40 …" count together.
pub fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut in_digits = false;
    for c in reason.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// Runs the seeds of `seeds` in parallel (rayon) and returns the results in seed order.
/// `progress` is called once per finished seed (from any thread).
pub fn sweep(
    input: &Input,
    seeds: &[u64],
    cfg: &SweepConfig,
    progress: &(dyn Fn(&SeedResult) + Sync),
) -> Result<Vec<SeedResult>> {
    use rayon::prelude::*;
    let mut out: Vec<SeedResult> = seeds
        .par_iter()
        .map(|&seed| {
            let r = sweep_seed(input, seed, cfg)?;
            progress(&r);
            Ok(r)
        })
        .collect::<Result<_>>()?;
    out.sort_by_key(|r| r.seed);
    Ok(out)
}

/// Describes a command list for humans, one per line.
pub fn describe(commands: &[Command]) -> String {
    commands
        .iter()
        .map(|c| c.describe())
        .collect::<Vec<_>>()
        .join("\n")
}
