//! The project's fuzzer (issue "Hostile input and exact replay"): structure-aware generators of
//! mutated built-in scenarios, random commands at random places, timeline sessions (run, seek
//! back and forward, step, step back, apply in the past), share links and run files (valid,
//! mutated, truncated, garbled) and command JSON. It asserts
//!
//! - no panic (each case runs under `catch_unwind`; a failure names `FUZZ_SEED` and the case),
//! - no call runs past its budget (`Timeline::run_until`, `Replay::advance`),
//! - replay equality: the timeline's state equals an independent straight run (plain
//!   `Simulation::step`/`run_until`/`apply`, no replay code) of its log to its place, after
//!   every step back too; the share link, the run file and a chunked `Replay` land on it as well
//!   (trace hash, event count, clock),
//! - bounded memory: the timeline keeps at most `MAX_CHECKPOINTS` checkpoints, and at most
//!   `MAX_CHECKPOINT_BYTES` of estimated checkpoint memory.
//!
//! CI runs a fixed seed and case count (`cargo test -p msgsim --release --test fuzz`);
//! `scripts/fuzz.sh` runs it longer (`FUZZ_CASES`, `FUZZ_SECONDS`, `FUZZ_SEED`; `FUZZ_CASE`
//! reruns one case). Numbers in mutated scenarios stay in sane ranges (the spec range checks are
//! another branch's work; see the report of this branch).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use msgsim::replay::{Progress, Replay, Target};
use msgsim::share::{ScenarioRef, SharedRun, MAX_REPLAY_EVENTS};
use msgsim::timeline::{Timeline, MAX_CHECKPOINTS, MAX_CHECKPOINT_BYTES};
use msgsim::trace::TraceConfig;
use msgsim::{Command, RecordedCommand, Scenario, SimTime, Simulation};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Default seed and case count of the CI run.
const DEFAULT_SEED: u64 = 0x6d73_6773_696d_0012;
const DEFAULT_CASES: u64 = 3_000;
/// Most events a session's timeline may hold before it stops adding work (keeps a case cheap):
/// one session in five may go to the long bound, the others stop at the short one.
const SESSION_EVENTS: u64 = 20_000;
const SHORT_SESSION_EVENTS: u64 = 2_000;

struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.next_u64() % n
        }
    }
    /// Any size, small ones as likely as huge ones.
    fn wide(&mut self) -> u64 {
        let shift = self.below(64);
        self.below(u64::MAX >> shift)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

#[derive(Default, Debug)]
struct Stats {
    cases: u64,
    inputs: u64,
    sessions: u64,
    scenarios_refused: u64,
    ops: u64,
    events: u64,
    links: u64,
    links_opened: u64,
    files: u64,
    commands: u64,
    equal_checks: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        v.strip_prefix("0x")
            .map(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| v.parse().ok())
    })
}

// ----- the straight run: plain step / run_until / apply, no replay code -----

/// Runs `sim` (a fresh simulation with `log[..*i]` already applied the same way) on to `target`
/// applying the rest of `log` the way a user would have by hand. `None` when the log does not
/// fit (it always does for a log the timeline made).
fn straight_on(
    sim: &mut Simulation,
    i: &mut usize,
    log: &[RecordedCommand],
    target: Target,
) -> Option<()> {
    fn place(sim: &mut Simulation, at: SimTime, events: u64) -> Option<()> {
        while sim.events_processed() < events {
            sim.step()?;
        }
        if sim.now() > at {
            return None;
        }
        if sim.now() < at && !sim.run_until(at, 0).reached {
            return None;
        }
        Some(())
    }
    match target {
        Target::Place { at, events } => {
            while let Some(rc) = log.get(*i).filter(|rc| rc.at <= at && rc.events <= events) {
                place(sim, rc.at, rc.events)?;
                sim.apply(rc.command.clone()).ok();
                *i += 1;
            }
            place(sim, at, events)?;
        }
        Target::Events(n) => {
            while let Some(rc) = log.get(*i).filter(|rc| rc.events < n) {
                place(sim, rc.at, rc.events)?;
                sim.apply(rc.command.clone()).ok();
                *i += 1;
            }
            while sim.events_processed() < n {
                sim.step()?;
            }
            while let Some(rc) = log
                .get(*i)
                .filter(|rc| rc.events == n && rc.at <= sim.now())
            {
                sim.apply(rc.command.clone()).ok();
                *i += 1;
            }
        }
        Target::Time(t) => {
            while let Some(rc) = log.get(*i).filter(|rc| rc.at <= t) {
                place(sim, rc.at, rc.events)?;
                sim.apply(rc.command.clone()).ok();
                *i += 1;
            }
            sim.run_until(t, u64::MAX);
        }
    }
    (sim.command_log().len() == *i).then_some(())
}

/// The straight run of a session, kept between checks: a check at a later place of the same
/// history goes on from where the last one stopped (a straight run resumed is a straight run:
/// the simulation only ever moves forward); anything else (an earlier place, a log that branched
/// before it) starts again from the fresh simulation.
struct Oracle {
    fresh: Simulation,
    sim: Simulation,
    applied: usize,
}

impl Oracle {
    fn new(fresh: &Simulation) -> Oracle {
        Oracle {
            fresh: fresh.clone(),
            sim: fresh.clone(),
            applied: 0,
        }
    }

    /// Whether the kept run can go on to `target` under `log` (else it starts over).
    fn resumable(&self, log: &[RecordedCommand], target: Target) -> bool {
        let (now, n) = (self.sim.now(), self.sim.events_processed());
        let ahead = match target {
            Target::Place { at, events } => at >= now && events >= n,
            Target::Events(e) => e > n,
            Target::Time(t) => t >= now,
        };
        ahead
            && log.len() >= self.applied
            && self.sim.command_log() == &log[..self.applied]
            && log
                .get(self.applied)
                .is_none_or(|rc| rc.at >= now && rc.events >= n)
    }

    fn at(&mut self, log: &[RecordedCommand], target: Target) -> Option<&Simulation> {
        if !self.resumable(log, target) {
            self.sim = self.fresh.clone();
            self.applied = 0;
        }
        let ok = straight_on(&mut self.sim, &mut self.applied, log, target);
        if ok.is_none() {
            // Left somewhere odd: start over next time.
            self.applied = usize::MAX;
            self.sim = self.fresh.clone();
            return None;
        }
        Some(&self.sim)
    }
}

fn state(s: &Simulation) -> (SimTime, u64, u64, usize) {
    (
        s.now(),
        s.events_processed(),
        s.trace_hash(),
        s.command_log().len(),
    )
}

// ----- generators -----

/// The path of every value of a JSON document (containers and leaves), and its strings.
fn paths(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>, strings: &mut Vec<String>) {
    out.push(path.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(Value::String(k.clone()));
                paths(x, path, out, strings);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(json!(i));
                paths(x, path, out, strings);
                path.pop();
            }
        }
        Value::String(s) => strings.push(s.clone()),
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for p in path {
        cur = match p {
            Value::String(k) => cur.get_mut(k.as_str())?,
            Value::Number(n) => cur.get_mut(n.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Keys whose numbers the engine multiplies unchecked today (the spec range checks are another
/// branch's work): kept small here.
const TOUCHY: &[&str] = &["every_ms", "jitter_ms"];

/// One structure-aware mutation of a JSON document: a number changed (in a sane range), a string
/// replaced by another one of the document (a cross reference), a bool flipped, a key removed,
/// an array element dropped or duplicated.
fn mutate_json(rng: &mut Rng, doc: &mut Value) {
    let mut all = Vec::new();
    let mut strings = Vec::new();
    paths(doc, &mut Vec::new(), &mut all, &mut strings);
    let path = rng.pick(&all).clone();
    let key = path.last().and_then(|p| p.as_str()).unwrap_or("");
    let touchy = TOUCHY.contains(&key);
    let Some(slot) = at_path(doc, &path) else {
        return;
    };
    let value = slot.clone();
    match value {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            let choices = [
                0.0,
                1.0,
                x + 1.0,
                (x * 2.0).min(1e6),
                (x / 2.0).floor(),
                rng.below(1_000) as f64,
                if touchy { 1.0 } else { 100_000.0 },
                if n.is_f64() { 99.999 } else { 3.0 },
            ];
            let y = *rng.pick(&choices);
            let y = if touchy { y.clamp(1.0, 10_000.0) } else { y };
            *slot = if n.is_f64() {
                json!(y)
            } else {
                json!(y as u64)
            };
        }
        Value::String(_) => {
            *slot = if rng.chance(80) && !strings.is_empty() {
                json!(rng.pick(&strings))
            } else {
                json!(["", "x", "a b", "é", "kitchen"][rng.below(5) as usize])
            };
        }
        Value::Bool(b) => *slot = json!(!b),
        Value::Array(ref a) if !a.is_empty() => {
            let mut a = a.clone();
            let i = rng.below(a.len() as u64) as usize;
            if rng.chance(50) {
                a.remove(i);
            } else if a.len() < 16 {
                a.push(a[i].clone());
            }
            *slot = Value::Array(a);
        }
        Value::Object(ref m) if !m.is_empty() => {
            let mut m = m.clone();
            let k = m.keys().nth(rng.below(m.len() as u64) as usize).cloned();
            if let Some(k) = k {
                m.remove(&k);
            }
            *slot = Value::Object(m);
        }
        _ => *slot = Value::Null,
    }
}

fn names(s: &Scenario) -> (Vec<String>, Vec<(String, String)>, Vec<String>) {
    let nodes = s.nodes.iter().map(|n| n.name.clone()).collect();
    let links = s.links.iter().map(|l| (l.a.clone(), l.b.clone())).collect();
    let channels = s.channels.iter().map(|c| c.name.clone()).collect();
    (nodes, links, channels)
}

/// A random command for `s`: mostly ones that name its nodes, links and channels, some that
/// name nothing.
fn random_command(rng: &mut Rng, s: &Scenario) -> Command {
    let (nodes, links, channels) = names(s);
    let node = if nodes.is_empty() || rng.chance(5) {
        "nope".to_string()
    } else {
        rng.pick(&nodes).clone()
    };
    let (a, b) = if links.is_empty() || rng.chance(5) {
        (node.clone(), "nope".to_string())
    } else {
        rng.pick(&links).clone()
    };
    let channel = if channels.is_empty() || rng.chance(5) {
        "nope".to_string()
    } else {
        rng.pick(&channels).clone()
    };
    let instance = rng.below(3);
    let v = match rng.below(15) {
        0 => json!({"op":"set_link","a":a,"b":b,"faults":{
            "latency_ms": rng.below(200), "jitter_ms": rng.below(50),
            "loss_percent": (rng.below(10_000) as f64) / 100.0,
            "duplicate_percent": (rng.below(3_000) as f64) / 100.0,
            "partitioned": rng.chance(10), "held": rng.chance(10)}}),
        1 => json!({"op":"partition","a":a,"b":b}),
        2 => json!({"op":"partition_oneway","a":a,"b":b}),
        3 => json!({"op":"repair","a":a,"b":b}),
        4 => json!({"op":"hold","a":a,"b":b}),
        5 => json!({"op":"release","a":a,"b":b}),
        6 => json!({"op":"crash","node":node,"instance":instance}),
        7 => json!({"op":"restart","node":node,"instance":instance}),
        8 => json!({"op":"pause","node":node,"instance":instance}),
        9 => json!({"op":"resume","node":node,"instance":instance}),
        10 => json!({"op":"stop_relay","node":node}),
        11 => json!({"op":"reject_next_publish","channel":channel,"count":1 + rng.below(3)}),
        12 => json!({"op":"arm_crash","node":node,"instance":instance,
            "point": (["before_commit","after_commit","after_publish"][rng.below(3) as usize])}),
        13 => json!({"op":"set_breaker","node":node,"instance":instance,"service":b,
            "state": (["CLOSED","OPEN","HALF_OPEN","DISABLED"][rng.below(4) as usize])}),
        _ => json!({"op":"set_schema_version","node":node,"channel":channel,
            "version": (["1.0.0","2.0.0","1.1.0"][rng.below(3) as usize])}),
    };
    serde_json::from_value(v).unwrap_or(Command::Crash {
        node,
        instance: instance as u32,
    })
}

/// A built-in scenario, parsed once: its name, JSON document and scenario.
struct Builtin {
    name: &'static str,
    doc: Value,
    scenario: Scenario,
}

fn builtins() -> &'static [Builtin] {
    static ALL: std::sync::OnceLock<Vec<Builtin>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        msgsim::scenarios::names()
            .map(|name| {
                let text = msgsim::scenarios::get(name).expect("listed");
                Builtin {
                    name,
                    doc: serde_json::from_str(text).expect("a built-in is JSON"),
                    scenario: Scenario::from_json(text).expect("a built-in is valid"),
                }
            })
            .collect()
    })
}

/// A built-in scenario, sometimes mutated; `None` when the mutated one is refused. The mutated
/// document goes through the scenario parser as text, like a file or a link.
fn random_scenario(rng: &mut Rng, stats: &mut Stats) -> Option<(Option<String>, Scenario)> {
    let b = rng.pick(builtins());
    if rng.chance(65) {
        return Some((Some(b.name.to_string()), b.scenario.clone()));
    }
    let mut doc = b.doc.clone();
    for _ in 0..1 + rng.below(3) {
        mutate_json(rng, &mut doc);
    }
    stats.inputs += 1;
    match Scenario::from_json(&doc.to_string()) {
        Ok(s) => Some((None, s)),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            stats.scenarios_refused += 1;
            None
        }
    }
}

// ----- cases -----

/// Checks the timeline's state against the straight run of its log to its place.
fn check_place(tl: &Timeline, oracle: &mut Oracle, stats: &mut Stats, what: &str) {
    let cur = tl.current();
    let target = Target::Place {
        at: cur.now(),
        events: cur.events_processed(),
    };
    let s = oracle
        .at(tl.log(), target)
        .unwrap_or_else(|| panic!("{what}: the straight run does not reach {target}"));
    assert_eq!(state(s), state(cur), "{what}: timeline != straight run");
    stats.equal_checks += 1;
}

fn session(rng: &mut Rng, stats: &mut Stats) {
    let Some((builtin, scenario)) = random_scenario(rng, stats) else {
        return;
    };
    let seed = rng.below(1_000);
    // The trace ring's size changes no state compared here (the hash covers every event), but
    // every checkpoint and restore copies the ring: mostly a small ring (evicting all the
    // time), sometimes the default one.
    let capacity = *rng.pick(&[16, 16, 16, 16, 256, 256, 10_000]);
    let trace = TraceConfig {
        enabled: true,
        capacity,
    };
    let Ok(fresh) = Simulation::with_trace(scenario.clone(), seed, trace) else {
        stats.scenarios_refused += 1;
        return;
    };
    stats.sessions += 1;
    let interval = SimTime::from_ms(*rng.pick(&[1, 10, 100, 500, 2_000, 5_000]));
    let mut tl = Timeline::new(fresh.clone(), interval);
    let mut oracle = Oracle::new(&fresh);
    let cap = if rng.chance(20) {
        SESSION_EVENTS
    } else {
        SHORT_SESSION_EVENTS
    };
    let ops = 3 + rng.below(30);
    for _ in 0..ops {
        stats.ops += 1;
        stats.inputs += 1;
        let full = tl.current().events_processed() >= cap;
        match rng.below(10) {
            0..=2 if !full => {
                let dt = rng.below(3_000_000);
                let budget = *rng.pick(&[1, 7, 100, 5_000, u64::MAX]);
                let until = tl.current().now().plus_us(dt);
                let out = tl.run_until(until, budget);
                assert!(out.events <= budget, "run_until past its budget");
                stats.events += out.events;
            }
            3 if !full => {
                for _ in 0..1 + rng.below(5) {
                    tl.step();
                }
            }
            4 => {
                let before = tl.current().events_processed();
                let times = 1 + rng.below(4);
                // Each state stepped back to is checked, the earliest first: the straight run
                // then goes on from one check to the next instead of starting over each time.
                let mut landed = Vec::new();
                for _ in 0..times {
                    if tl.step_back() {
                        let n = tl.current().events_processed();
                        landed.push((n, tl.log().to_vec(), state(tl.current())));
                    }
                }
                for (n, log, st) in landed.into_iter().rev() {
                    let s = oracle
                        .at(&log, Target::Events(n))
                        .expect("step back: straight run");
                    assert_eq!(state(s), st, "step back to {n} events != straight");
                    stats.equal_checks += 1;
                }
                assert!(tl.current().events_processed() + times >= before);
            }
            5 => {
                let t = SimTime(rng.below(tl.current().now().as_us() + 1));
                tl.seek(t);
                assert_eq!(tl.current().now(), t, "seek back lands on its time");
            }
            6 if !full => {
                let span = tl
                    .horizon()
                    .as_us()
                    .saturating_sub(tl.current().now().as_us());
                let t = tl.current().now().plus_us(rng.below(span + 1_000_000));
                tl.seek(t);
            }
            7 | 8 => {
                let cmd = random_command(rng, &scenario);
                let _ = tl.apply(cmd);
                stats.commands += 1;
            }
            _ => {
                // Apply in the past: seek back, then apply (history branches).
                let t = SimTime(rng.below(tl.current().now().as_us() + 1));
                tl.seek(t);
                let _ = tl.apply(random_command(rng, &scenario));
                stats.commands += 1;
            }
        }
        assert!(tl.checkpoint_times().len() <= MAX_CHECKPOINTS);
        assert!(tl.checkpoint_bytes() <= MAX_CHECKPOINT_BYTES || tl.checkpoint_times().len() <= 2);
        if rng.chance(25) {
            check_place(&tl, &mut oracle, stats, "after an op");
        }
    }
    check_place(&tl, &mut oracle, stats, "at the end");
    share_round_trips(rng, stats, &tl, builtin, &scenario, seed);
}

/// The session's run as a share link, a run file and a chunked replay: all land on its state.
fn share_round_trips(
    rng: &mut Rng,
    stats: &mut Stats,
    tl: &Timeline,
    builtin: Option<String>,
    scenario: &Scenario,
    seed: u64,
) {
    let cur = tl.current();
    let scenario_ref = match builtin {
        Some(n) if rng.chance(80) => ScenarioRef::Builtin(n),
        _ => ScenarioRef::Inline(Box::new(scenario.clone())),
    };
    let between = cur.next_event_time() == Some(cur.now());
    let run = SharedRun {
        scenario: scenario_ref,
        seed,
        commands: tl.log().to_vec(),
        at: cur.now(),
        // As the JS API (always the count) or the page (only between events of one time).
        events: (rng.chance(50) || between).then(|| cur.events_processed()),
    };
    let want = state(cur);
    stats.links += 1;
    stats.inputs += 1;
    match run.encode() {
        Ok(link) => {
            let back = SharedRun::decode(&link).expect("a link made decodes");
            let sim = back.replay().expect("a link made replays");
            assert_eq!(state(&sim), want, "share link != timeline");
            stats.equal_checks += 1;
            garble_link(rng, stats, &link);
        }
        Err(e) => {
            // Only too long or too costly: never a place it could not reach.
            let text = e.to_string();
            assert!(
                text.contains("too big") || text.contains("more than") || text.contains("beyond"),
                "{text}"
            );
        }
    }
    // The run file: readable JSON with the scenario inline.
    let file = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(scenario.clone())),
        ..run.clone()
    };
    let text = serde_json::to_string(&file).unwrap();
    stats.files += 1;
    stats.inputs += 1;
    let back: SharedRun = serde_json::from_str(&text).expect("a run file made parses");
    if back.check().is_ok() && back.check_cost(MAX_REPLAY_EVENTS).is_ok() {
        // In chunks of random size, as the page does per animation frame.
        let mut r = back.start_replay(MAX_REPLAY_EVENTS).expect("starts");
        loop {
            let budget = 1 + rng.below(2_000);
            let before = r.simulation().events_processed();
            match r.advance(budget) {
                Ok(Progress::Done) => break,
                Ok(Progress::Running { events_done, .. }) => {
                    assert!(events_done - before <= budget, "advance past its budget");
                }
                Err(e) => {
                    // Only the limit (a run without a declared count that needs more events).
                    assert!(run.events.is_none(), "{e}");
                    return;
                }
            }
        }
        assert_eq!(state(r.simulation()), want, "chunked replay != timeline");
        stats.equal_checks += 1;
    }
    mutate_run_file(rng, stats, &text);
}

/// Opens a link or run the way every entry point does, in chunks: it never panics, never runs
/// past its budget, and the timeline's path and the share link's path agree.
fn open_hostile(rng: &mut Rng, stats: &mut Stats, run: &SharedRun) {
    stats.links_opened += 1;
    let limit = *rng.pick(&[1_000, 1_000, 1_000, 20_000]);
    let replay = match run.start_replay(limit) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut r = replay.clone();
    let via_replay = loop {
        let budget = 1 + rng.below(5_000);
        let before = r.simulation().events_processed();
        match r.advance(budget) {
            Ok(Progress::Done) => break Ok(state(r.simulation())),
            Ok(Progress::Running { events_done, .. }) => {
                assert!(events_done - before <= budget, "advance past its budget");
                assert!(events_done <= limit);
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    assert!(r.simulation().events_processed() <= limit, "past the limit");
    // The timeline (the page's path) from the same start.
    let fresh = Replay::clone(&replay).into_simulation();
    let via_timeline =
        match Timeline::with_log(fresh, run.commands.clone(), SimTime::from_ms(1_000)) {
            Ok(mut tl) => tl
                .run_to_place(run.at, run.events, limit)
                .map(|_| state(tl.current()))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
    assert_eq!(via_replay, via_timeline, "share link path != timeline path");
    stats.equal_checks += 1;
}

fn garble_link(rng: &mut Rng, stats: &mut Stats, link: &str) {
    for _ in 0..1 + rng.below(4) {
        let mut s: Vec<u8> = link.as_bytes().to_vec();
        match rng.below(5) {
            0 => s.truncate(rng.below(s.len() as u64) as usize),
            1 => {
                let i = rng.below(s.len() as u64) as usize;
                s[i] = *rng.pick(b"AZaz09-_=.+/ \x00");
            }
            2 => {
                let i = rng.below(s.len() as u64) as usize;
                s.insert(i, *rng.pick(b"Aa0-_"));
            }
            3 => s
                .splice(0..3.min(s.len()), b"v2.".iter().copied())
                .for_each(drop),
            _ => {
                let i = rng.below(s.len() as u64) as usize;
                s.remove(i);
            }
        }
        stats.inputs += 1;
        stats.links += 1;
        let text = String::from_utf8_lossy(&s);
        if let Ok(run) = SharedRun::decode(&text) {
            open_hostile(rng, stats, &run);
        }
    }
}

/// Structure-aware mutations of a run file (or the JSON inside a link): its places, its
/// commands, its scenario; plus truncation. Each mutated document is parsed, checked and opened.
fn mutate_run_file(rng: &mut Rng, stats: &mut Stats, text: &str) {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return;
    };
    for _ in 0..1 + rng.below(4) {
        let mut d = doc.clone();
        match rng.below(6) {
            0 => d["at"] = json!(rng.wide()),
            1 => d["events"] = json!(rng.wide()),
            2 => {
                if let Some(cs) = d["commands"].as_array_mut() {
                    if !cs.is_empty() {
                        let i = rng.below(cs.len() as u64) as usize;
                        let key = if rng.chance(50) { "at" } else { "events" };
                        let old = cs[i][key].as_u64().unwrap_or(0);
                        cs[i][key] = json!(match rng.below(4) {
                            0 => old + 1 + rng.below(100),
                            1 => old.saturating_sub(1 + rng.below(100)),
                            2 => rng.below(100_000_000),
                            _ => u64::MAX >> rng.below(64),
                        });
                        if rng.chance(30) {
                            cs.swap(0, i);
                        }
                    }
                }
            }
            3 => {
                if let Some(sc) = d.get_mut("scenario").and_then(|s| s.get_mut("inline")) {
                    mutate_json(rng, sc);
                }
            }
            4 => mutate_json(rng, &mut d),
            _ => {
                let t = d.to_string();
                let mut cut = rng.below(t.len() as u64) as usize;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                stats.inputs += 1;
                let _ = serde_json::from_str::<SharedRun>(&t[..cut]);
                continue;
            }
        }
        stats.inputs += 1;
        stats.files += 1;
        let Ok(run) = serde_json::from_value::<SharedRun>(d.clone()) else {
            continue;
        };
        if rng.chance(50) {
            // The same, through a link (a hostile sharer's, made without `encode`'s checks).
            let link = format!(
                "v1.{}",
                URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(
                    d.to_string().as_bytes(),
                    6
                ))
            );
            stats.links += 1;
            if let Ok(run) = SharedRun::decode(&link) {
                open_hostile(rng, stats, &run);
            }
        } else {
            open_hostile(rng, stats, &run);
        }
    }
}

/// Random command JSON (valid ops with garbage fields, unknown ops, wrong types) applied to a
/// running simulation.
fn command_json(rng: &mut Rng, stats: &mut Stats) {
    let Some((_, scenario)) = random_scenario(rng, stats) else {
        return;
    };
    let Ok(mut sim) = Simulation::new(scenario.clone(), rng.below(100)) else {
        return;
    };
    sim.run_until(SimTime(rng.below(2_000_000)), 5_000);
    for _ in 0..1 + rng.below(8) {
        let mut v = serde_json::to_value(random_command(rng, &scenario)).unwrap();
        if rng.chance(60) {
            mutate_json(rng, &mut v);
        }
        stats.inputs += 1;
        stats.commands += 1;
        if let Ok(cmd) = serde_json::from_value::<Command>(v) {
            let _ = sim.apply(cmd);
            sim.run_until(sim.now().plus_us(rng.below(500_000)), 2_000);
        }
    }
}

/// Many cheap inputs: a valid link garbled byte-wise and a run file cut or mutated, each decoded
/// (and opened with a small limit when it decodes).
fn burst(rng: &mut Rng, stats: &mut Stats) {
    let name = rng.pick(builtins()).name;
    let commands: Vec<RecordedCommand> = (0..rng.below(4))
        .map(|i| RecordedCommand {
            at: SimTime(100_000 * (i + 1)),
            events: 5 * i,
            command: Command::Crash {
                node: "x".into(),
                instance: 0,
            },
        })
        .collect();
    let run = SharedRun {
        scenario: ScenarioRef::Builtin(name.into()),
        seed: rng.below(100),
        commands,
        at: SimTime(rng.below(2_000_000)),
        events: rng.chance(50).then(|| rng.below(200)),
    };
    let link = run.encode().expect("a small run encodes");
    let text = serde_json::to_string(&run).unwrap();
    for _ in 0..200 {
        let mut s: Vec<u8> = if rng.chance(50) {
            link.as_bytes().to_vec()
        } else {
            text.as_bytes().to_vec()
        };
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(s.len() as u64) as usize;
            match rng.below(4) {
                0 => s.truncate(i),
                1 => s[i] = rng.below(256) as u8,
                2 => s.insert(i, *rng.pick(b"Aa0-_{}[]\":,1e9")),
                _ => {
                    s.remove(i);
                }
            }
            if s.is_empty() {
                break;
            }
        }
        stats.inputs += 1;
        let text = String::from_utf8_lossy(&s);
        let decoded = if text.starts_with('{') {
            stats.files += 1;
            serde_json::from_str::<SharedRun>(&text).map_err(|e| e.to_string())
        } else {
            stats.links += 1;
            SharedRun::decode(&text).map_err(|e| e.to_string())
        };
        match decoded {
            Ok(run) if rng.chance(10) => open_hostile(rng, stats, &run),
            Ok(run) => {
                let _ = run.check();
                let _ = run.cost();
            }
            Err(e) => assert!(!e.is_empty()),
        }
    }
}

fn run_case(seed: u64, case: u64, stats: &mut Stats) {
    let mut rng = Rng(ChaCha8Rng::seed_from_u64(
        seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    ));
    stats.cases += 1;
    match rng.below(10) {
        0..=4 => session(&mut rng, stats),
        5 => burst(&mut rng, stats),
        6 | 7 => command_json(&mut rng, stats),
        _ => {
            // A hostile link from scratch: a valid run's JSON, mutated, as a link.
            let Some((builtin, scenario)) = random_scenario(&mut rng, stats) else {
                return;
            };
            let mut sim = match Simulation::new(scenario.clone(), rng.below(100)) {
                Ok(s) => s,
                Err(_) => return,
            };
            sim.run_until(SimTime(rng.below(1_500_000)), 3_000);
            let _ = sim.apply(random_command(&mut rng, &scenario));
            sim.run_until(sim.now().plus_us(rng.below(1_500_000)), 3_000);
            let run = SharedRun {
                scenario: match builtin {
                    Some(n) => ScenarioRef::Builtin(n),
                    None => ScenarioRef::Inline(Box::new(scenario)),
                },
                seed: sim.seed(),
                commands: sim.command_log().to_vec(),
                at: sim.now(),
                events: rng.chance(50).then(|| sim.events_processed()),
            };
            let text = serde_json::to_string(&run).unwrap();
            mutate_run_file(&mut rng, stats, &text);
        }
    }
}

#[test]
fn fuzz_replay_links_and_timelines() {
    let seed = env_u64("FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let cases = env_u64("FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let seconds = env_u64("FUZZ_SECONDS");
    let only = env_u64("FUZZ_CASE");
    let started = std::time::Instant::now();
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    let range = match only {
        Some(c) => c..c + 1,
        None => 0..cases,
    };
    // Quiet panics: each one is collected and reported with its case number.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in range {
        if seconds.is_some_and(|s| started.elapsed().as_secs() >= s) {
            break;
        }
        let result = catch_unwind(AssertUnwindSafe(|| run_case(seed, case, &mut stats)));
        if let Err(p) = result {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let failure = format!("FUZZ_SEED={seed:#x} FUZZ_CASE={case}: {msg}");
            // At once too: a long run stopped early still names what it found.
            eprintln!("FAILURE {failure}");
            failures.push(failure);
        }
        if env_u64("FUZZ_PROGRESS").is_some() && stats.cases % 10_000 == 0 {
            eprintln!("{:?} {:?}", started.elapsed(), stats);
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz: seed {seed:#x}, {:.1} s, {stats:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if only.is_none() && seconds.is_none() {
        assert_eq!(stats.cases, cases);
        assert!(stats.equal_checks > 0 && stats.links_opened > 0);
    }
}
