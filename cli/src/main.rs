//! `msgsim`: run scenarios, sweep seeds with random fault schedules, shrink failures, export
//! contracts. Exit codes: 0 every claim holds, 1 a claim broke, 2 bad input (with a message
//! saying what was wrong).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use msgsim::SimTime;
use msgsim_cli::swarm::{self, Profile};
use msgsim_cli::{
    link, parse_duration, parse_seeds, parse_shard, shard_seeds, shrink, Input, SeedResult,
    Summary, SweepConfig, DEFAULT_MAX_EVENTS, DEFAULT_PLAYGROUND,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(name = "msgsim", version, about = "Deterministic simulation of microservice messaging: run, sweep, shrink, export.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one scenario (built-in name, scenario file or run file) and print its metrics and
    /// claims.
    Run {
        /// Built-in name (`order-events`), a scenario file, or a run file.
        scenario: String,
        /// Seed (default: the run file's, else the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// A run file whose recorded commands to apply (its scenario is ignored).
        #[arg(long)]
        commands: Option<String>,
        /// Also inject the fault schedule this seed draws under this profile (as `sweep`). With a
        /// run file, its commands are then placed by their time rather than their exact place.
        #[arg(long, value_enum)]
        faults: Option<Profile>,
        /// Virtual time to run to: `30s`, `500ms`, `2m` (default: the scenario's horizon, else 40s).
        #[arg(long)]
        until: Option<String>,
        /// Event budget.
        #[arg(long, default_value_t = DEFAULT_MAX_EVENTS)]
        max_events: u64,
        /// Print the trace kept in the ring (the last events) as JSON Lines or text.
        #[arg(long, value_enum)]
        trace: Option<TraceFormat>,
        /// Print a Mermaid sequence diagram of the trace kept.
        #[arg(long)]
        mermaid: bool,
        /// Playground address for the printed link.
        #[arg(long, default_value = DEFAULT_PLAYGROUND)]
        playground: String,
    },
    /// Run many seeds, each with its own fault schedule drawn from the seed, and check every
    /// claim of the scenario.
    Sweep {
        /// Built-in name, scenario file or run file (its scenario).
        scenario: String,
        /// Seeds: `0..10000` (end exclusive), `0..=99`, or one seed.
        #[arg(long, default_value = "0..1000")]
        seeds: String,
        /// Fault kinds to draw from.
        #[arg(long, value_enum, default_value_t = Profile::Swarm)]
        faults: Profile,
        /// This machine's share of the seeds: `K/N` runs every N-th seed from the K-th (0-based).
        #[arg(long)]
        shard: Option<String>,
        /// Virtual time of each run (default: the scenario's horizon, else 40s).
        #[arg(long)]
        until: Option<String>,
        /// Event budget of each run.
        #[arg(long, default_value_t = DEFAULT_MAX_EVENTS)]
        max_events: u64,
        /// Threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// JSON Lines on stdout (one record per seed, then nothing else) even on a terminal.
        /// Default when stdout is not a terminal.
        #[arg(long)]
        jsonl: bool,
        /// Write each failing seed's run file into this directory.
        #[arg(long)]
        out: Option<String>,
        /// Playground address for printed links.
        #[arg(long, default_value = DEFAULT_PLAYGROUND)]
        playground: String,
    },
    /// Merge JSON Lines results of sweep shards into one, in seed order, and print the summary.
    Merge {
        /// Result files (`-` reads stdin).
        files: Vec<String>,
        /// Print the merged JSON Lines instead of the summary.
        #[arg(long)]
        jsonl: bool,
    },
    /// Shrink a failing run file: fewest commands and shortest workloads that still break the
    /// same claim.
    Shrink {
        /// A run file (from `sweep --out`, or the playground's ⤓ Run file).
        run_file: String,
        /// The claim to keep broken (default: the first the run breaks).
        #[arg(long)]
        claim: Option<String>,
        /// Virtual time of each test run (default: the scenario's horizon, else 40s).
        #[arg(long)]
        until: Option<String>,
        /// Write the shrunk run file here.
        #[arg(long)]
        out: Option<String>,
        /// Playground address for the printed link.
        #[arg(long, default_value = DEFAULT_PLAYGROUND)]
        playground: String,
    },
    /// Print a scenario's contract: AsyncAPI 3.0 (channels with schemas) or a Mermaid sequence
    /// diagram of its first seconds.
    Export {
        /// Built-in name or scenario file.
        scenario: String,
        /// What to print.
        #[arg(value_enum)]
        format: ExportFormat,
    },
    /// List the built-in scenarios.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum TraceFormat {
    Jsonl,
    Text,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Asyncapi,
    Mermaid,
}

/// Bad input: exit code 2.
struct BadInput(anyhow::Error);

fn bad<T>(r: Result<T>) -> Result<T, BadInput> {
    r.map_err(BadInput)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(BadInput(e)) => {
            eprintln!("msgsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn until_of(input: &Input, until: &Option<String>) -> Result<SimTime, BadInput> {
    match until {
        Some(u) => bad(parse_duration(u)),
        None => Ok(input.horizon()),
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, BadInput> {
    match cli.command {
        Cmd::List => {
            for name in msgsim::scenarios::names() {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run {
            scenario,
            seed,
            commands,
            faults,
            until,
            max_events,
            trace,
            mermaid,
            playground,
        } => {
            let input = bad(Input::load(&scenario))?;
            let until = until_of(&input, &until)?;
            let mut planned: Vec<swarm::Planned> = Vec::new();
            let from_run = match &commands {
                Some(path) => bad(Input::load(path))?.run,
                None => input.run.clone(),
            };
            if let Some(r) = &from_run {
                planned.extend(r.commands.iter().map(|c| swarm::Planned {
                    at: c.at,
                    command: c.command.clone(),
                }));
            }
            let seed = seed
                .or(from_run.as_ref().map(|r| r.seed))
                .unwrap_or(input.scenario.seed);
            if let Some(profile) = faults {
                planned.extend(swarm::schedule(&input.scenario, seed, profile, until).commands);
                planned.sort_by_key(|p| p.at);
            }
            // A run file's commands alone replay at their exact places (the playground's
            // run); with injected faults too, every command is placed by its time.
            let out = match (&from_run, faults) {
                (Some(r), None) => bad(msgsim_cli::run_recorded(
                    &input.scenario,
                    seed,
                    &r.commands,
                    until,
                    max_events,
                ))?,
                _ => bad(msgsim_cli::run(
                    &input.scenario,
                    seed,
                    &planned,
                    until,
                    max_events,
                ))?,
            };
            let sim = &out.sim;
            if let Some(fmt) = trace {
                match fmt {
                    TraceFormat::Jsonl => {
                        print!("{}", msgsim::export::trace_jsonl(sim.trace().events()))
                    }
                    TraceFormat::Text => {
                        for e in sim.trace().events() {
                            println!("{e}");
                        }
                    }
                }
            }
            if mermaid {
                println!(
                    "{}",
                    msgsim::export::mermaid_sequence(
                        &input.scenario,
                        sim.trace().events(),
                        msgsim::export::MERMAID_MAX_ARROWS
                    )
                );
            }
            let m = sim.metrics();
            println!(
                "{} seed {seed}: {} events to {}{}",
                input.scenario.name,
                sim.events_processed(),
                sim.now(),
                if out.reached {
                    ""
                } else {
                    " (event budget reached first)"
                }
            );
            println!("trace hash {:#018x}", sim.trace_hash());
            let json = serde_json::to_value(m).unwrap_or_default();
            if let Some(obj) = json.as_object() {
                let nonzero: Vec<String> = obj
                    .iter()
                    .filter(|(_, v)| v.as_u64().is_some_and(|n| n > 0))
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                println!("metrics: {}", nonzero.join(", "));
            }
            for r in &out.refused {
                println!("refused: {r}");
            }
            let broken = msgsim_cli::violations(sim.invariants());
            for s in sim.invariants() {
                let v = broken.iter().find(|v| v.claim == s.claim.label());
                match v {
                    None => println!("✓ {} ({} checked)", s.claim.label(), s.checked),
                    Some(v) => println!(
                        "✗ {} at {}: {} ({} violating events)",
                        v.claim,
                        SimTime(v.time_us),
                        v.reason,
                        v.count
                    ),
                }
            }
            if let Some(first) = broken.iter().map(|v| v.time_us).min() {
                let shared = msgsim_cli::shared_run(&input, seed, sim, SimTime(first));
                match link(&playground, &shared) {
                    Ok(l) => println!("open at the first violation: {l}"),
                    Err(why) => println!("{why}"),
                }
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Sweep {
            scenario,
            seeds,
            faults,
            shard,
            until,
            max_events,
            jobs,
            jsonl,
            out,
            playground,
        } => {
            let input = bad(Input::load(&scenario))?;
            let range = bad(parse_seeds(&seeds))?;
            let (k, n) = match &shard {
                Some(s) => bad(parse_shard(s))?,
                None => (0, 1),
            };
            if (range.end - range.start) > 100_000_000 {
                return Err(BadInput(anyhow::anyhow!(
                    "seed range `{seeds}` has more than 100 000 000 seeds; split it with --shard"
                )));
            }
            let list: Vec<u64> = shard_seeds(range, k, n).collect();
            let cfg = SweepConfig {
                profile: faults,
                until: until_of(&input, &until)?,
                max_events,
            };
            if let Some(j) = jobs {
                bad(rayon::ThreadPoolBuilder::new()
                    .num_threads(j.max(1))
                    .build_global()
                    .context("thread pool"))?;
            }
            let jsonl = jsonl || !std::io::stdout().is_terminal();
            let bar = if std::io::stderr().is_terminal() {
                let b = indicatif::ProgressBar::new(list.len() as u64);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:30} {pos}/{len} seeds · {per_sec} · ETA {eta} · {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            } else {
                indicatif::ProgressBar::hidden()
            };
            let failures = AtomicU64::new(0);
            let started = Instant::now();
            let results = bad(msgsim_cli::sweep(&input, &list, &cfg, &|r: &SeedResult| {
                if r.failed() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                bar.set_message(format!("{} failing", failures.load(Ordering::Relaxed)));
                bar.inc(1);
            }))?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            let mut summary = Summary::default();
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            for r in &results {
                summary.add(r);
                if jsonl {
                    let _ = writeln!(w, "{}", serde_json::to_string(r).unwrap_or_default());
                }
                if r.failed() {
                    if let Some(dir) = &out {
                        bad(write_run_file(dir, &input, r))?;
                    }
                }
            }
            let report = if jsonl {
                &mut std::io::stderr() as &mut dyn Write
            } else {
                &mut w
            };
            print_summary(report, &input, &summary, &results, &cfg, &playground, secs);
            Ok(if summary.failed_seeds > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Merge { files, jsonl } => {
            let mut all: Vec<SeedResult> = Vec::new();
            for f in &files {
                let text = if f == "-" {
                    let mut s = String::new();
                    bad(std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .context("stdin"))?;
                    s
                } else {
                    bad(std::fs::read_to_string(f).with_context(|| format!("reading `{f}`")))?
                };
                for (i, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    let r: SeedResult = bad(serde_json::from_str(line)
                        .with_context(|| format!("`{f}` line {}: not a sweep result", i + 1)))?;
                    all.push(r);
                }
            }
            all.sort_by_key(|r| r.seed);
            if let Some(w) = all.windows(2).find(|w| w[0].seed == w[1].seed) {
                return Err(BadInput(anyhow::anyhow!(
                    "seed {} appears twice: the shards overlap",
                    w[0].seed
                )));
            }
            let mut summary = Summary::default();
            for r in &all {
                summary.add(r);
                if jsonl {
                    println!("{}", serde_json::to_string(r).unwrap_or_default());
                }
            }
            if !jsonl {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary).unwrap_or_default()
                );
            }
            Ok(if summary.failed_seeds > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Shrink {
            run_file,
            claim,
            until,
            out,
            playground,
        } => {
            let input = bad(Input::load(&run_file))?;
            let until = until_of(&input, &until)?;
            let s = bad(shrink::shrink(
                &input,
                claim.as_deref(),
                until,
                DEFAULT_MAX_EVENTS,
            ))?;
            println!(
                "`{}` still breaks with {} of {} commands ({} test runs):",
                s.claim,
                s.commands.len(),
                s.commands_before,
                s.tests
            );
            for p in &s.commands {
                println!("  {} @ {}", p.command.describe(), p.at);
            }
            for (i, before, after) in &s.workloads {
                println!("  workloads[{i}].count {before} → {after}");
            }
            if let Some(path) = &out {
                bad(std::fs::write(path, run_file_json(&s.run))
                    .with_context(|| format!("writing `{path}`")))?;
                println!("run file: {path}");
            }
            match link(&playground, &s.run) {
                Ok(l) => println!("open at the violation: {l}"),
                Err(why) => println!("{why}"),
            }
            Ok(ExitCode::from(1))
        }
        Cmd::Export { scenario, format } => {
            let input = bad(Input::load(&scenario))?;
            match format {
                ExportFormat::Asyncapi => match bad(input
                    .scenario
                    .asyncapi_document()
                    .map_err(|e| anyhow::anyhow!("{e}")))?
                {
                    Some(doc) => {
                        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default())
                    }
                    None => {
                        return Err(BadInput(anyhow::anyhow!(
                            "`{}` declares no channel schemas: no AsyncAPI document",
                            input.scenario.name
                        )))
                    }
                },
                ExportFormat::Mermaid => {
                    let out = bad(msgsim_cli::run(
                        &input.scenario,
                        input.scenario.seed,
                        &[],
                        SimTime::from_ms(5_000),
                        DEFAULT_MAX_EVENTS,
                    ))?;
                    println!(
                        "{}",
                        msgsim::export::mermaid_sequence(
                            &input.scenario,
                            out.sim.trace().events(),
                            msgsim::export::MERMAID_MAX_ARROWS
                        )
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_file_json(run: &msgsim::share::SharedRun) -> String {
    serde_json::to_string_pretty(run).unwrap_or_default() + "\n"
}

fn write_run_file(dir: &str, input: &Input, r: &SeedResult) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{dir}`"))?;
    let path = std::path::Path::new(dir).join(format!(
        "{}-seed{}.msgsim.json",
        input.scenario.name, r.seed
    ));
    if let Some(run) = &r.run {
        std::fs::write(&path, serde_json::to_string_pretty(run)? + "\n")
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(())
}

fn print_summary(
    w: &mut dyn Write,
    input: &Input,
    s: &Summary,
    results: &[SeedResult],
    cfg: &SweepConfig,
    playground: &str,
    secs: f64,
) {
    let _ = writeln!(
        w,
        "{}: {} seeds, {} failing, {} events in {:.1} s ({:.0} seeds/s, {:.2} M events/s)",
        input.scenario.name,
        s.seeds,
        s.failed_seeds,
        s.events,
        secs,
        s.seeds as f64 / secs,
        s.events as f64 / secs / 1e6
    );
    for (claim, kinds) in &s.by_claim {
        for (kind, n) in kinds {
            let _ = writeln!(w, "  ✗ {claim}: {n} seeds — {kind}");
        }
    }
    for (claim, n) in &s.expected {
        let _ = writeln!(
            w,
            "  ({claim} also breaks without injected faults in {n} seeds: the scenario shows it)"
        );
    }
    if s.unfinished > 0 {
        let _ = writeln!(
            w,
            "  {} seeds hit the event budget before the horizon",
            s.unfinished
        );
    }
    for r in results.iter().filter(|r| r.failed()).take(5) {
        let v = &r.violations[0];
        let _ = writeln!(
            w,
            "seed {}: {} at {} — {}",
            r.seed,
            v.claim,
            SimTime(v.time_us),
            v.reason
        );
        let _ = writeln!(
            w,
            "  reproduce: msgsim run {} --seed {} --faults {} --until {}ms",
            arg_of(input),
            r.seed,
            serde_json::to_value(cfg.profile)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            cfg.until.0 / 1_000
        );
        if let Some(run) = r
            .run
            .as_ref()
            .and_then(|v| serde_json::from_value::<msgsim::share::SharedRun>(v.clone()).ok())
        {
            match link(playground, &run) {
                Ok(l) => {
                    let _ = writeln!(w, "  open: {l}");
                }
                Err(why) => {
                    let _ = writeln!(w, "  {why}; use --out DIR for its run file");
                }
            }
        }
    }
}

fn arg_of(input: &Input) -> String {
    match &input.scenario_ref {
        msgsim::share::ScenarioRef::Builtin(name) => name.clone(),
        msgsim::share::ScenarioRef::Inline(_) => "<scenario file>".into(),
    }
}
