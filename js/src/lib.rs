//! # msgsim-js — the msgsim engine for JavaScript
//!
//! wasm-bindgen bindings of [`msgsim`]: create a simulation from a built-in scenario or a
//! scenario document, apply commands at virtual times, step or run until a time, and read
//! snapshots, metrics and the trace as plain JS objects. The generated `msgsim_js.d.ts` types
//! every argument and result (the interfaces are in `src/types.d.ts`).
//!
//! ```js
//! import { Simulation, scenarios } from "./pkg/msgsim_js.js"; // wasm-bindgen --target nodejs
//!
//! const sim = new Simulation("order-events", 42);        // seed: number or BigInt
//! sim.runUntil(2_000_000);                                // virtual µs
//! sim.apply({ op: "crash", node: "kitchen", instance: 0 });
//! sim.runToIdle();
//! console.log(sim.metrics().delivered, sim.traceHashHex());
//! for (const e of sim.trace({ from: 0, limit: 3 }).events) console.log(e.line);
//! ```
//!
//! Conventions:
//! - Times are virtual microseconds (µs) since the start of the run, as JS `number`s. Arguments
//!   that are times or seeds take a non-negative safe integer `number`, a `BigInt` or a decimal
//!   string.
//! - Results are plain objects (serde-wasm-bindgen): integers as `number`s, except one beyond
//!   `Number.MAX_SAFE_INTEGER`, which is a `BigInt` (a held packet's `arrive_at`, a huge seed).
//!   `seed()` and `traceHash()` are always `BigInt` (u64).
//! - Every error (bad JSON, unknown scenario, refused command, bad argument) is a thrown JS
//!   `Error` whose message is the engine's; no input reaches a panic.
//! - Work is bounded: `runUntil`, `runFor` and `runToIdle` handle at most `maxEvents` events per
//!   call (default [`DEFAULT_MAX_EVENTS`]); `trace` returns at most [`MAX_TRACE_PAGE`] events.
//!
//! The crate also builds natively (rlib) so the workspace checks it, but its exported functions
//! call into JS and work only on `wasm32-unknown-unknown`.

#![warn(missing_docs)]

pub mod convert;

use convert::{u64_from_f64, u64_from_str, JsSafe};
use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, Scenario, SimTime, Simulation as Engine};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("types.d.ts");

/// Events one `runUntil` / `runFor` / `runToIdle` call handles at most unless `maxEvents` says
/// otherwise (a few seconds of work in wasm; a scenario with Kafka-style consumers never goes
/// idle, so an unbounded run would never return).
pub const DEFAULT_MAX_EVENTS: u64 = 10_000_000;
/// Trace events one `trace()` call returns by default.
pub const DEFAULT_TRACE_PAGE: u64 = 1_000;
/// Trace events one `trace()` call returns at most (the engine keeps the last 10 000).
pub const MAX_TRACE_PAGE: u64 = 10_000;
/// Longest command JSON accepted by `apply`, in bytes.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

fn err(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

/// Serializes any engine value as a plain JS object (see [`JsSafe`] for numbers).
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_value(value).map_err(err)?;
    JsSafe(&json)
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(err)
}

/// `JSON.stringify` of a JS value, or an error naming `what`.
fn stringify(what: &str, v: &JsValue) -> Result<String, JsError> {
    match js_sys::JSON::stringify(v) {
        Ok(s) => s.as_string().ok_or_else(|| {
            err(format!(
                "{what} is not JSON (JSON.stringify gave undefined)"
            ))
        }),
        Err(e) => Err(err(format!(
            "{what} is not JSON-serializable: {}",
            js_sys::Error::from(e).message()
        ))),
    }
}

/// A `u64` argument (`what` names it): a safe-integer number, a BigInt or a decimal string;
/// `None` for `undefined` / `null`.
fn opt_u64(what: &str, v: &JsValue) -> Result<Option<u64>, JsError> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else if v.is_bigint() {
        u64::try_from(v.clone())
            .map(Some)
            .map_err(|_| err(format!("{what} must be a BigInt in 0..2^64-1")))
    } else if let Some(f) = v.as_f64() {
        u64_from_f64(what, f).map(Some).map_err(err)
    } else if let Some(s) = v.as_string() {
        u64_from_str(what, &s).map(Some).map_err(err)
    } else {
        Err(err(format!(
            "{what} must be a number, a BigInt or a decimal string"
        )))
    }
}

fn event_budget(v: Option<f64>) -> Result<u64, JsError> {
    match v {
        None => Ok(DEFAULT_MAX_EVENTS),
        Some(f) => u64_from_f64("maxEvents", f).map_err(err),
    }
}

/// What `runUntil`, `runFor` and `runToIdle` return.
#[derive(Serialize)]
struct RunResult {
    events: u64,
    reached: bool,
    now: SimTime,
}

/// `trace()` options.
#[derive(Deserialize, Default)]
struct TraceOptions {
    from: Option<u64>,
    limit: Option<u64>,
}

/// A built-in scenario, listed by [`scenarios`].
#[derive(Serialize)]
struct ScenarioInfo<'a> {
    name: &'a str,
    title: String,
    section: String,
    description: String,
    seed: u64,
}

/// Lists the built-in scenarios in gallery order: `ScenarioInfo[]` (`name`, `title`,
/// `section`, `description`, default `seed`).
#[wasm_bindgen(unchecked_return_type = "ScenarioInfo[]")]
pub fn scenarios() -> Result<JsValue, JsError> {
    let list: Vec<ScenarioInfo> = msgsim::scenarios::BUILTIN
        .iter()
        .filter_map(|(name, json)| {
            let s = Scenario::from_json(json).ok()?;
            Some(ScenarioInfo {
                name,
                title: s.title,
                section: s.section,
                description: s.description,
                seed: s.seed,
            })
        })
        .collect();
    to_js(&list)
}

/// The JSON text of the built-in scenario `name` (to edit and pass back to `new Simulation`).
/// Throws for an unknown name.
#[wasm_bindgen(js_name = scenarioJson)]
pub fn scenario_json(name: &str) -> Result<String, JsError> {
    msgsim::scenarios::get(name)
        .map(str::to_string)
        .ok_or_else(|| err(unknown_scenario(name)))
}

fn unknown_scenario(name: &str) -> String {
    let names: Vec<&str> = msgsim::scenarios::names().collect();
    format!(
        "unknown scenario `{name}`; built-in scenarios: {} (or pass a scenario JSON string or object)",
        names.join(", ")
    )
}

/// A running simulation of one scenario under one seed (JS class `Simulation`).
///
/// Deterministic: the same scenario, seed and commands at the same virtual times give the same
/// trace and `traceHash()` as the native engine.
#[wasm_bindgen(js_name = Simulation)]
pub struct JsSimulation {
    sim: Engine,
    scenario: ScenarioRef,
}

#[wasm_bindgen(js_class = Simulation)]
impl JsSimulation {
    /// `new Simulation(scenario, seed?)`.
    ///
    /// `scenario`: a built-in name (`"order-events"`, see `scenarios()`), a scenario JSON
    /// string, or a scenario object (it is passed through `JSON.stringify`). `seed`: a
    /// non-negative safe-integer `number`, a `BigInt` (for seeds beyond 2^53 - 1) or a decimal
    /// string; default: the scenario's own `seed`.
    ///
    /// Throws an `Error` with the engine's message for an unknown name, bad JSON (with line and
    /// column), an invalid scenario (with the field) or a bad seed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | ScenarioDocument")] scenario: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Seed")] seed: JsValue,
    ) -> Result<JsSimulation, JsError> {
        let (parsed, scenario_ref) = if let Some(text) = scenario.as_string() {
            if let Some(json) = msgsim::scenarios::get(text.trim()) {
                (
                    Scenario::from_json(json).map_err(err)?,
                    ScenarioRef::Builtin(text.trim().to_string()),
                )
            } else if text.trim_start().starts_with('{') {
                let s = Scenario::from_json(&text).map_err(err)?;
                (s.clone(), ScenarioRef::Inline(Box::new(s)))
            } else {
                return Err(err(unknown_scenario(&text)));
            }
        } else if scenario.is_object() {
            let text = stringify("the scenario object", &scenario)?;
            let s = Scenario::from_json(&text).map_err(err)?;
            (s.clone(), ScenarioRef::Inline(Box::new(s)))
        } else {
            return Err(err(
                "scenario must be a built-in scenario name, a scenario JSON string or a scenario object",
            ));
        };
        let seed = opt_u64("seed", &seed)?.unwrap_or(parsed.seed);
        let sim = Engine::new(parsed, seed).map_err(err)?;
        Ok(JsSimulation {
            sim,
            scenario: scenario_ref,
        })
    }

    /// Rebuilds a run from a link made by `shareLink()` (`v1.…`): the scenario,
    /// the seed and every command at its place, run to the place it was shared at (the
    /// engine's one replay path, `msgsim::replay`). Throws for a damaged, foreign or too long
    /// link, for one whose declared cost or replay needs more than `maxEvents` events (default
    /// and at most 100 000, `msgsim::share::MAX_REPLAY_EVENTS`: a link is untrusted input), and
    /// for one whose commands do not fit the run (the error names the command).
    #[wasm_bindgen(js_name = fromShareLink)]
    pub fn from_share_link(
        link: &str,
        #[wasm_bindgen(js_name = maxEvents)] max_events: Option<f64>,
    ) -> Result<JsSimulation, JsError> {
        let limit = match max_events {
            None => msgsim::share::MAX_REPLAY_EVENTS,
            Some(_) => event_budget(max_events)?.min(msgsim::share::MAX_REPLAY_EVENTS),
        };
        let run = SharedRun::decode(link).map_err(err)?;
        let sim = run
            .start_replay(limit)
            .map_err(err)?
            .run()
            .map_err(|e| err(msgsim::share::ShareError::Replay(e)))?;
        Ok(JsSimulation {
            sim,
            scenario: run.scenario,
        })
    }

    /// The scenario's name.
    #[wasm_bindgen(js_name = scenarioName)]
    pub fn scenario_name(&self) -> String {
        self.sim.scenario().name.clone()
    }

    /// The run's seed (a `BigInt`: seeds are u64).
    pub fn seed(&self) -> u64 {
        self.sim.seed()
    }

    /// Current virtual time, µs (exact up to 2^53 µs, about 285 years).
    pub fn now(&self) -> f64 {
        self.sim.now().as_us() as f64
    }

    /// Events handled so far.
    #[wasm_bindgen(js_name = eventsProcessed)]
    pub fn events_processed(&self) -> f64 {
        self.sim.events_processed() as f64
    }

    /// Virtual time of the next scheduled event, µs, or `undefined` when nothing is scheduled.
    #[wasm_bindgen(js_name = nextEventTime)]
    pub fn next_event_time(&self) -> Option<f64> {
        self.sim.next_event_time().map(|t| t.as_us() as f64)
    }

    /// Handles the next scheduled event and moves time to it; returns its time (µs), or
    /// `undefined` when nothing is scheduled (time does not move).
    pub fn step(&mut self) -> Option<f64> {
        self.sim.step().map(|t| t.as_us() as f64)
    }

    /// Handles every event scheduled at or before `us` (virtual µs, absolute), at most
    /// `maxEvents` of them (default 10 000 000), then sets the time to `us` if it got there.
    /// Returns `{events, reached, now}`. A time before `now()` handles nothing.
    #[wasm_bindgen(js_name = runUntil, unchecked_return_type = "RunResult")]
    pub fn run_until(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] us: JsValue,
        #[wasm_bindgen(js_name = maxEvents)] max_events: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let until = opt_u64("runUntil's time (µs)", &us)?
            .ok_or_else(|| err("runUntil needs a time in µs"))?;
        self.run_to(SimTime(until), max_events)
    }

    /// As `runUntil(now() + us)`: runs for `us` virtual µs (saturating).
    #[wasm_bindgen(js_name = runFor, unchecked_return_type = "RunResult")]
    pub fn run_for(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] us: JsValue,
        #[wasm_bindgen(js_name = maxEvents)] max_events: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let d = opt_u64("runFor's duration (µs)", &us)?
            .ok_or_else(|| err("runFor needs a duration in µs"))?;
        self.run_to(self.sim.now().plus_us(d), max_events)
    }

    /// Runs until nothing is scheduled, at most `maxEvents` events (default 10 000 000).
    /// Returns `{events, reached, now}`; `reached` is true when the run went idle (never for
    /// scenarios with Kafka-style consumers, which poll forever: use `runUntil` for those).
    #[wasm_bindgen(js_name = runToIdle, unchecked_return_type = "RunResult")]
    pub fn run_to_idle(
        &mut self,
        #[wasm_bindgen(js_name = maxEvents)] max_events: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let budget = event_budget(max_events)?;
        let events = self.sim.run_to_idle(budget);
        to_js(&RunResult {
            events,
            reached: self.sim.next_event_time().is_none(),
            now: self.sim.now(),
        })
    }

    fn run_to(&mut self, until: SimTime, budget: Option<f64>) -> Result<JsValue, JsError> {
        let out = self.sim.run_until(until, event_budget(budget)?);
        to_js(&RunResult {
            events: out.events,
            reached: out.reached,
            now: self.sim.now(),
        })
    }

    /// Applies a command at the current virtual time and records it in the command log.
    /// `command` is a `Command` object (`{op: "crash", node: "kitchen", instance: 0}`) or its
    /// JSON text. Throws with the engine's message when the JSON is not a command or the engine
    /// refuses it (unknown node, no such link, …); then nothing changed.
    pub fn apply(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Command | string")] command: JsValue,
    ) -> Result<(), JsError> {
        let text = match command.as_string() {
            Some(s) => s,
            None if command.is_object() => stringify("the command", &command)?,
            None => return Err(err("command must be a Command object or its JSON string")),
        };
        if text.len() > MAX_COMMAND_BYTES {
            return Err(err(format!(
                "command too long: {} bytes (maximum {MAX_COMMAND_BYTES})",
                text.len()
            )));
        }
        let cmd: Command =
            serde_json::from_str(&text).map_err(|e| err(format!("invalid command: {e}")))?;
        self.sim.apply(cmd).map_err(err)
    }

    /// The state now, as a plain `Snapshot` object (nodes, links, channels, packets in flight,
    /// metrics and the subsystem views).
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.snapshot())
    }

    /// Run-wide counters (`Metrics`), totals since the start.
    #[wasm_bindgen(unchecked_return_type = "Metrics")]
    pub fn metrics(&self) -> Result<JsValue, JsError> {
        to_js(self.sim.metrics())
    }

    /// The scenario's claimed invariants (its `claims`) and where each stands, checked on every
    /// trace event so far, in the scenario's order (`InvariantStatus[]`, empty without claims):
    /// `{claim: {claim, services?}, state: {state: "holding"} | {state: "violated", seq, time,
    /// reason, line}, checked, violations}` (`time` in µs; `seq` is the first violating trace
    /// event). The same as the Rust API's `Simulation::invariants` and the playground's
    /// Invariants panel.
    #[wasm_bindgen(unchecked_return_type = "InvariantStatus[]")]
    pub fn invariants(&self) -> Result<JsValue, JsError> {
        to_js(self.sim.invariants())
    }

    /// Counters of one node (`NodeMetrics`), or `undefined` for an unknown name.
    #[wasm_bindgen(js_name = nodeMetrics, unchecked_return_type = "NodeMetrics | undefined")]
    pub fn node_metrics(&self, name: &str) -> Result<JsValue, JsError> {
        match self.sim.node_metrics(name) {
            Some(m) => to_js(&m),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// A page of the trace: `{events, next, total, first_kept}`. Options `{from, limit}`:
    /// events with `seq >= from` (default 0) still in memory (the engine keeps the last
    /// 10 000), at most `limit` (default 1 000, at most 10 000). Each event carries the engine's
    /// fields plus `line`, its one-line text. Page on with `{from: page.next}`.
    #[wasm_bindgen(unchecked_return_type = "TracePage")]
    pub fn trace(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TraceOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let opts: TraceOptions = if options.is_undefined() || options.is_null() {
            TraceOptions::default()
        } else {
            // serde-wasm-bindgen reads only the fields it knows: refuse the others here, so a
            // typo (`{form: 5}`) is an error rather than a silent default.
            if let Some(obj) = options.dyn_ref::<js_sys::Object>() {
                for key in js_sys::Object::keys(obj).iter() {
                    let key = key.as_string().unwrap_or_default();
                    if key != "from" && key != "limit" {
                        return Err(err(format!(
                            "trace options: unknown field `{key}` (expected `from` and `limit`)"
                        )));
                    }
                }
            }
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| err(format!("trace options {{from, limit}}: {e}")))?
        };
        let limit = opts.limit.unwrap_or(DEFAULT_TRACE_PAGE).min(MAX_TRACE_PAGE) as usize;
        let trace = self.sim.trace();
        let total = trace.len_total();
        let first_kept = trace.events().next().map(|e| e.seq).unwrap_or(total);
        let from = opts.from.unwrap_or(0);
        let mut next = from.max(first_kept).min(total);
        let mut events = Vec::new();
        for e in trace.since(from).take(limit) {
            let mut v = serde_json::to_value(e).map_err(err)?;
            if let Some(fields) = v.as_object_mut() {
                fields.insert("line".into(), e.to_string().into());
            }
            next = e.seq + 1;
            events.push(v);
        }
        let page = serde_json::json!({
            "events": events, "next": next, "total": total, "first_kept": first_kept,
        });
        to_js(&page)
    }

    /// Events recorded in the whole run, evicted ones included.
    #[wasm_bindgen(js_name = traceLength)]
    pub fn trace_length(&self) -> f64 {
        self.sim.trace().len_total() as f64
    }

    /// FNV-1a 64 hash of every trace line so far (a `BigInt`); equal runs have equal hashes,
    /// natively and in wasm.
    #[wasm_bindgen(js_name = traceHash)]
    pub fn trace_hash(&self) -> u64 {
        self.sim.trace_hash()
    }

    /// The trace hash as `0x` and 16 hex digits (as `cargo run --example run` prints it).
    #[wasm_bindgen(js_name = traceHashHex)]
    pub fn trace_hash_hex(&self) -> String {
        format!("{:#018x}", self.sim.trace_hash())
    }

    /// The trace events in memory as JSON Lines (see `msgsim::export::trace_jsonl`).
    #[wasm_bindgen(js_name = traceJsonl)]
    pub fn trace_jsonl(&self) -> String {
        msgsim::export::trace_jsonl(self.sim.trace().events())
    }

    /// The trace in memory as a Mermaid `sequenceDiagram`, at most `maxArrows` arrows
    /// (default 500, at most 10 000; the rest summarized in a note).
    pub fn mermaid(&self, #[wasm_bindgen(js_name = maxArrows)] max_arrows: Option<u32>) -> String {
        let max = max_arrows
            .map(|m| m.min(10_000) as usize)
            .unwrap_or(msgsim::export::MERMAID_MAX_ARROWS);
        msgsim::export::mermaid_sequence(self.sim.scenario(), self.sim.trace().events(), max)
    }

    /// The commands applied through `apply`, each with its place (`RecordedCommand[]`).
    #[wasm_bindgen(js_name = commandLog, unchecked_return_type = "RecordedCommand[]")]
    pub fn command_log(&self) -> Result<JsValue, JsError> {
        to_js(self.sim.command_log())
    }

    /// A link parameter (`v1.…`) that reproduces this run up to now: scenario (name or full
    /// document), seed and commands. Open it with `Simulation.fromShareLink`. Throws when the
    /// run is too big for a link (over 6 000 characters).
    #[wasm_bindgen(js_name = shareLink)]
    pub fn share_link(&self) -> Result<String, JsError> {
        SharedRun {
            scenario: self.scenario.clone(),
            seed: self.sim.seed(),
            commands: self.sim.command_log().to_vec(),
            at: self.sim.now(),
            // The exact place, also between two events of one virtual time (after `step`).
            events: Some(self.sim.events_processed()),
        }
        .encode()
        .map_err(err)
    }
}
