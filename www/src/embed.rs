//! The widget's `postMessage` protocol with its host page, in plain Rust (tested natively; the
//! browser side is [`crate::embed_web`]). Documented for hosts in `docs/embed.md`.
//!
//! Messages are JSON objects `{"msgsim": 1, "type": …}`. In (host → widget): `load`, `play`,
//! `pause`, `step`, `reset`, `seek`, `command`. Out (widget → host): `ready`, `state`, `metrics`,
//! `error`. The widget talks only to the origins the host lists in `?origins=` (and its own).

use crate::state::{Action, Playground, RunOrigin};
use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, Scenario, SimTime, Simulation};
use serde_json::{json, Map, Value};

/// Protocol version: the `msgsim` field of every message.
pub const PROTOCOL_VERSION: u64 = 1;
/// Longest message accepted, in bytes of JSON (a `load` with a full scenario needs the most).
pub const MAX_MESSAGE_BYTES: usize = msgsim::scenario::limits::MAX_SCENARIO_BYTES + 64 * 1024;
/// Origins a host may list in `?origins=`.
pub const MAX_ORIGINS: usize = 8;
/// Longest origin accepted, in characters.
pub const MAX_ORIGIN_CHARS: usize = 200;
/// Least real time between two `metrics` events while the clock runs, ms (at most 4 a second).
pub const METRICS_INTERVAL_MS: f64 = 250.0;
/// Latest virtual time a `seek` may ask for, ms (24 h).
pub const MAX_SEEK_MS: u64 = 86_400_000;
/// Longest `id` echoed back, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Largest integer a JSON number carries exactly in JavaScript (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// What a host asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Open a run: a built-in scenario (with a seed), a shared run (`v1.…`) or a full scenario.
    Load(Box<SharedRun>),
    /// Start the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// Handle one engine event.
    Step,
    /// Start again (same scenario and seed, no commands).
    Reset,
    /// Go to a virtual time, µs.
    Seek(u64),
    /// Apply an engine command (a fault) now.
    Command(Command),
}

impl Request {
    /// The reducer action that does it (`real_ms`: the time of the frame clock).
    pub fn action(self, real_ms: f64) -> Action {
        match self {
            Request::Load(run) => Action::LoadRun {
                run,
                origin: RunOrigin::Host,
            },
            Request::Play => Action::Play,
            Request::Pause => Action::Pause,
            Request::Step => Action::Step { real_ms },
            Request::Reset => Action::Reset,
            Request::Seek(to_us) => Action::Seek { to_us },
            Request::Command(c) => Action::Apply(c),
        }
    }
}

/// A message the widget could not take: what was wrong, the request's `type` and `id` when
/// they could be read.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolError {
    /// The request's `type`, if it had a readable one.
    pub request: Option<String>,
    /// The request's `id`, echoed.
    pub id: Option<Value>,
    /// What was wrong.
    pub message: String,
}

fn seed_of(v: Option<&Value>, field: &str) -> Result<Option<u64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) if s <= MAX_SAFE_INTEGER => Ok(Some(s)),
            _ => Err(format!(
                "`{field}` must be a whole number 0..{MAX_SAFE_INTEGER} (larger seeds as a string of digits)"
            )),
        },
        Some(Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| {
            format!(
                "`{field}`: `{}` {}",
                crate::format::shorten(s, 40),
                crate::format::SEED_RANGE_TEXT
            )
        }),
        Some(_) => Err(format!(
            "`{field}` must be a number or a string of digits"
        )),
    }
}

fn load_request(m: &Map<String, Value>) -> Result<SharedRun, String> {
    let given = ["scenario", "run", "definition"]
        .into_iter()
        .filter(|k| m.contains_key(*k))
        .collect::<Vec<_>>();
    if given.len() != 1 {
        return Err(format!(
            "`load` needs exactly one of `scenario` (a built-in name), `run` (a `v1.…` link) or `definition` (a scenario object); got {}",
            if given.is_empty() { "none".to_string() } else { given.join(", ") }
        ));
    }
    let seed = seed_of(m.get("seed"), "seed")?;
    let run = match given[0] {
        "scenario" => {
            let Some(name) = m.get("scenario").and_then(Value::as_str) else {
                return Err("`scenario` must be a string (a built-in scenario name)".into());
            };
            let json = msgsim::scenarios::get(name).ok_or_else(|| {
                format!(
                    "unknown built-in scenario `{}`",
                    crate::format::shorten(name, 60)
                )
            })?;
            let default_seed = Scenario::from_json(json).map(|s| s.seed).unwrap_or(1);
            SharedRun {
                scenario: ScenarioRef::Builtin(name.to_string()),
                seed: seed.unwrap_or(default_seed),
                commands: Vec::new(),
                at: SimTime::ZERO,
                events: None,
            }
        }
        "run" => {
            if seed.is_some() {
                return Err("`seed` goes inside the `run` link, not next to it".into());
            }
            let Some(text) = m.get("run").and_then(Value::as_str) else {
                return Err("`run` must be a string (`v1.…`)".into());
            };
            SharedRun::decode(text.trim()).map_err(|e| format!("`run`: {e}"))?
        }
        _ => {
            let def = m.get("definition").cloned().unwrap_or(Value::Null);
            let text = def.to_string();
            let scenario = Scenario::from_json(&text).map_err(|e| match e {
                // Positions in a re-serialized object mean nothing to the host: keep the message.
                msgsim::ScenarioError::Parse { message, .. } => {
                    format!("`definition`: {message}")
                }
                other => format!("`definition`: {other}"),
            })?;
            SharedRun {
                seed: seed.unwrap_or(scenario.seed),
                scenario: ScenarioRef::Inline(Box::new(scenario)),
                commands: Vec::new(),
                at: SimTime::ZERO,
                events: None,
            }
        }
    };
    let scenario = run.resolve_scenario().map_err(|e| e.to_string())?;
    Simulation::new(scenario, run.seed).map_err(|e| e.to_string())?;
    Ok(run)
}

/// Parses a message from the host. `Ok(None)`: not for the widget (no `msgsim` field, or one of
/// the widget's own event types), ignored without a reply.
pub fn parse_request(text: &str) -> Result<Option<Request>, ProtocolError> {
    let err = |request: Option<String>, id: Option<Value>, message: String| ProtocolError {
        request,
        id,
        message,
    };
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(err(
            None,
            None,
            format!(
                "the message has {} bytes of JSON; at most {MAX_MESSAGE_BYTES}",
                text.len()
            ),
        ));
    }
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let Some(version) = m.get("msgsim") else {
        return Ok(None);
    };
    let id = match m.get("id") {
        Some(v @ Value::String(s)) if s.chars().count() <= MAX_ID_CHARS => Some(v.clone()),
        Some(v @ Value::Number(_)) => Some(v.clone()),
        _ => None,
    };
    let kind = m.get("type").and_then(Value::as_str).map(str::to_string);
    if version.as_u64() != Some(PROTOCOL_VERSION) {
        return Err(err(
            kind,
            id,
            format!("unsupported protocol version {version}; this widget speaks `msgsim: {PROTOCOL_VERSION}`"),
        ));
    }
    let Some(kind) = kind else {
        return Err(err(None, id, "missing `type` (a string)".into()));
    };
    let known: &[&str] = match kind.as_str() {
        "ready" | "state" | "metrics" | "error" => return Ok(None),
        "load" => &["scenario", "run", "definition", "seed"],
        "seek" => &["to_ms", "to_us"],
        "command" => &["command"],
        "play" | "pause" | "step" | "reset" => &[],
        other => {
            return Err(err(
                Some(other.chars().take(40).collect()),
                id,
                format!(
                    "unknown type `{}`; expected load, play, pause, step, reset, seek or command",
                    crate::format::shorten(other, 40)
                ),
            ))
        }
    };
    if let Some(extra) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "msgsim" | "type" | "id") && !known.contains(&k.as_str()))
    {
        return Err(err(
            Some(kind.clone()),
            id,
            format!(
                "unknown field `{}` for `{kind}`",
                crate::format::shorten(extra, 40)
            ),
        ));
    }
    let result = match kind.as_str() {
        "load" => load_request(&m).map(|r| Request::Load(Box::new(r))),
        "play" => Ok(Request::Play),
        "pause" => Ok(Request::Pause),
        "step" => Ok(Request::Step),
        "reset" => Ok(Request::Reset),
        "seek" => seek_request(&m),
        _ => match m.get("command") {
            None => Err("`command` needs a `command` object, e.g. {\"op\": \"crash\", \"node\": \"kitchen\"}".into()),
            Some(c) => serde_json::from_str::<Command>(&c.to_string())
                .map(Request::Command)
                .map_err(|e| format!("`command`: {e}")),
        },
    };
    result
        .map(Some)
        .map_err(|message| err(Some(kind), id, message))
}

fn seek_request(m: &Map<String, Value>) -> Result<Request, String> {
    let (field, scale, max) = match (m.get("to_ms"), m.get("to_us")) {
        (Some(_), Some(_)) => return Err("give `to_ms` or `to_us`, not both".into()),
        (Some(_), None) => ("to_ms", 1_000.0, MAX_SEEK_MS as f64),
        (None, Some(_)) => ("to_us", 1.0, MAX_SEEK_MS as f64 * 1_000.0),
        (None, None) => return Err("`seek` needs `to_ms` (virtual milliseconds)".into()),
    };
    match m.get(field).and_then(Value::as_f64) {
        Some(v) if v.is_finite() && (0.0..=max).contains(&v) => {
            Ok(Request::Seek((v * scale).round() as u64))
        }
        _ => Err(format!(
            "`{field}` must be a number from 0 to {}",
            max as u64
        )),
    }
}

/// Parses `?origins=` (comma-separated): each must be `http(s)://host[:port]` with nothing after
/// it. Returns the origins (lowercased, without duplicates, at most [`MAX_ORIGINS`]) and one
/// sentence per entry that was ignored, saying why.
pub fn parse_origins(raw: &str) -> (Vec<String>, Vec<String>) {
    let mut ok: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let shown = crate::format::shorten(item, 60);
        match check_origin(item) {
            Err(why) => errors.push(format!(
                "Origin `{shown}` in the URL (?origins=) {why}; it is ignored."
            )),
            Ok(_) if ok.len() >= MAX_ORIGINS => errors.push(format!(
                "Origin `{shown}` in the URL (?origins=) is one too many (at most {MAX_ORIGINS}); it is ignored."
            )),
            Ok(o) => {
                if !ok.contains(&o) {
                    ok.push(o);
                }
            }
        }
    }
    (ok, errors)
}

fn check_origin(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_ORIGIN_CHARS {
        return Err(format!("is longer than {MAX_ORIGIN_CHARS} characters"));
    }
    if s == "*" || s == "null" {
        return Err("is not allowed: name each host page's origin".into());
    }
    let lower = s.to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once("://") else {
        return Err("is not an origin (expected http://host or https://host[:port])".into());
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "has scheme `{scheme}`; only http and https pages can host the widget"
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err("has no host".into());
    }
    if let Some(c) = rest.chars().find(|c| matches!(c, '/' | '?' | '#' | '@')) {
        return Err(format!(
            "has `{c}` after the host: an origin is only scheme://host[:port]"
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = (host.starts_with('[') && host.ends_with(']') && host.len() > 2)
        || (!host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(format!("has an invalid host `{host}`"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(format!("has an invalid port `{p}`"));
        }
    }
    Ok(format!("{scheme}://{rest}"))
}

fn message(kind: &str, fields: Value) -> String {
    let mut m = Map::new();
    m.insert("msgsim".into(), json!(PROTOCOL_VERSION));
    m.insert("type".into(), json!(kind));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m).to_string()
}

/// The fields that say which run this is: scenario name, built-in or not, seed (a string: seeds
/// go up to 2^64 − 1, beyond JavaScript's exact integers).
fn run_fields(p: &Playground) -> Value {
    json!({
        "scenario": p.scenario.name,
        "builtin": p.builtin_name().is_some(),
        "seed": p.seed.to_string(),
    })
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (a, _) => a,
    }
}

/// `ready`: the widget listens. Sent once, after it started.
pub fn ready_event(p: &Playground) -> String {
    message(
        "ready",
        merge(json!({ "protocol": PROTOCOL_VERSION }), run_fields(p)),
    )
}

/// `state`: sent when the clock starts or stops, the run is replaced, reset, seeked or stepped,
/// or a command is applied.
pub fn state_event(p: &Playground) -> String {
    let (hash, events) = p.with_sim(|s| (s.trace_hash(), s.events_processed()));
    message(
        "state",
        merge(
            run_fields(p),
            json!({
                "time_us": p.snapshot.time.as_us(),
                "playing": p.playing,
                "events": events,
                "commands": p.commands.len(),
                "trace_hash": format!("{hash:016x}"),
            }),
        ),
    )
}

/// `metrics`: the run-wide counters (`msgsim::Metrics`) at `time_us`; at most one per
/// [`METRICS_INTERVAL_MS`] while the clock runs.
pub fn metrics_event(p: &Playground) -> String {
    let counters = serde_json::to_value(p.snapshot.metrics).unwrap_or(Value::Null);
    message(
        "metrics",
        json!({ "time_us": p.snapshot.time.as_us(), "metrics": counters }),
    )
}

/// `error`: a message was refused (never applied), or a command or load failed in the engine.
pub fn error_event(e: &ProtocolError) -> String {
    let mut f = json!({ "message": e.message });
    if let Some(r) = &e.request {
        f["request"] = json!(r);
    }
    if let Some(id) = &e.id {
        f["id"] = id.clone();
    }
    message("error", f)
}

/// What decides that a `state` event is due: it changes when the clock starts or stops, the run
/// is replaced or stepped, or a command is applied; not on every frame while the clock runs.
pub fn state_key(p: &Playground) -> (bool, String, u64, usize, Option<u64>) {
    (
        p.playing,
        p.scenario.name.clone(),
        p.seed,
        p.commands.len(),
        (!p.playing).then_some(p.snapshot.events_processed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AppInit;

    fn ok(text: &str) -> Request {
        parse_request(text).unwrap().unwrap()
    }

    fn bad(text: &str) -> Value {
        let e = parse_request(text).unwrap_err();
        j(&error_event(&e))
    }

    /// JSON text as a value (the widget's objects have sorted keys; compare values).
    fn j(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn requests_parse_to_actions() {
        assert_eq!(ok(r#"{"msgsim":1,"type":"play"}"#), Request::Play);
        assert_eq!(ok(r#"{"msgsim":1,"type":"pause","id":7}"#), Request::Pause);
        assert_eq!(
            ok(r#"{"msgsim":1,"type":"seek","to_ms":2500}"#),
            Request::Seek(2_500_000)
        );
        assert_eq!(
            ok(r#"{"msgsim":1,"type":"seek","to_us":1234}"#).action(0.0),
            Action::Seek { to_us: 1_234 }
        );
        assert_eq!(
            ok(
                r#"{"msgsim":1,"type":"command","command":{"op":"crash","node":"kitchen","instance":1}}"#
            ),
            Request::Command(Command::Crash {
                node: "kitchen".into(),
                instance: 1
            })
        );
        let Request::Load(run) = ok(r#"{"msgsim":1,"type":"load","scenario":"circuit-breaker"}"#)
        else {
            panic!("not a load");
        };
        assert_eq!(
            (run.scenario.clone(), run.seed),
            (ScenarioRef::Builtin("circuit-breaker".into()), 11)
        );
        let Request::Load(run) = ok(
            r#"{"msgsim":1,"type":"load","scenario":"order-events","seed":"18446744073709551615"}"#,
        ) else {
            panic!("not a load");
        };
        assert_eq!(run.seed, u64::MAX);
        let link = run.encode().unwrap();
        let Request::Load(back) = ok(&format!(r#"{{"msgsim":1,"type":"load","run":"{link}"}}"#))
        else {
            panic!("not a load");
        };
        assert_eq!(back, run);
        // Not for us: ignored without a reply.
        assert_eq!(parse_request(r#"{"hello":1}"#), Ok(None));
        assert_eq!(parse_request("[1,2]"), Ok(None));
        assert_eq!(parse_request(r#"{"msgsim":1,"type":"state"}"#), Ok(None));
    }

    #[test]
    fn bad_requests_get_exact_errors() {
        assert_eq!(
            bad(r#"{"msgsim":2,"type":"play","id":"a1"}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"unsupported protocol version 2; this widget speaks `msgsim: 1`","request":"play","id":"a1"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"fly"}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"unknown type `fly`; expected load, play, pause, step, reset, seek or command","request":"fly"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1}"#),
            j(r#"{"msgsim":1,"type":"error","message":"missing `type` (a string)"}"#)
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"seek","to_ms":-5,"id":3}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"`to_ms` must be a number from 0 to 86400000","request":"seek","id":3}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"play","speed":2}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"unknown field `speed` for `play`","request":"play"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"command","command":{"op":"crash"}}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"`command`: missing field `node`","request":"command"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"load","scenario":"nope"}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"unknown built-in scenario `nope`","request":"load"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"load","scenario":"order-events","run":"v1.x"}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"`load` needs exactly one of `scenario` (a built-in name), `run` (a `v1.…` link) or `definition` (a scenario object); got scenario, run","request":"load"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"load","run":"garbage"}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"`run`: not a msgsim link: expected it to start with `v1.`, found `garbage`","request":"load"}"#
            )
        );
        assert_eq!(
            bad(
                r#"{"msgsim":1,"type":"load","definition":{"name":"x","nodes":[{"name":"a","kind":"service"}],"links":[{"a":"a","b":"zz"}]}}"#
            ),
            j(
                r#"{"msgsim":1,"type":"error","message":"`definition`: links[0].b: unknown name `zz`","request":"load"}"#
            )
        );
        assert_eq!(
            bad(r#"{"msgsim":1,"type":"load","scenario":"order-events","seed":1e300}"#),
            j(
                r#"{"msgsim":1,"type":"error","message":"`seed` must be a whole number 0..9007199254740991 (larger seeds as a string of digits)","request":"load"}"#
            )
        );
        let huge = format!(
            r#"{{"msgsim":1,"type":"play","pad":"{}"}}"#,
            "x".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(
            bad(&huge),
            j(
                r#"{"msgsim":1,"type":"error","message":"the message has 1114147 bytes of JSON; at most 1114112"}"#
            )
        );
    }

    #[test]
    fn origins_are_checked_one_by_one() {
        let (ok, errors) = parse_origins(
            " https://Docs.Example.com ,http://localhost:8080/, https://docs.example.com,*,ftp://x.org,https://a.org/path,https://a.org:0,null",
        );
        assert_eq!(ok, ["https://docs.example.com", "http://localhost:8080"]);
        assert_eq!(
            errors,
            [
                "Origin `*` in the URL (?origins=) is not allowed: name each host page's origin; it is ignored.",
                "Origin `ftp://x.org` in the URL (?origins=) has scheme `ftp`; only http and https pages can host the widget; it is ignored.",
                "Origin `https://a.org/path` in the URL (?origins=) has `/` after the host: an origin is only scheme://host[:port]; it is ignored.",
                "Origin `https://a.org:0` in the URL (?origins=) has an invalid port `0`; it is ignored.",
                "Origin `null` in the URL (?origins=) is not allowed: name each host page's origin; it is ignored.",
            ]
        );
        let many: Vec<String> = (0..10).map(|i| format!("https://h{i}.org")).collect();
        let (ok, errors) = parse_origins(&many.join(","));
        assert_eq!(ok.len(), MAX_ORIGINS);
        assert_eq!(
            errors,
            [
                "Origin `https://h8.org` in the URL (?origins=) is one too many (at most 8); it is ignored.",
                "Origin `https://h9.org` in the URL (?origins=) is one too many (at most 8); it is ignored.",
            ]
        );
        assert_eq!(parse_origins("http://[::1]:9000").0, ["http://[::1]:9000"]);
    }

    #[test]
    fn events_carry_exact_values() {
        let mut p = Playground::new(&AppInit::builtin("order-events", 42));
        assert_eq!(
            j(&ready_event(&p)),
            j(
                r#"{"msgsim":1,"type":"ready","protocol":1,"scenario":"order-events","builtin":true,"seed":"42"}"#
            )
        );
        p.act(ok(r#"{"msgsim":1,"type":"seek","to_ms":1000}"#).action(0.0));
        p.act(
            ok(r#"{"msgsim":1,"type":"command","command":{"op":"partition","a":"order","b":"broker"}}"#)
                .action(0.0),
        );
        let mut sim =
            Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap();
        sim.run_until(SimTime::from_ms(1_000), u64::MAX);
        sim.apply(Command::Partition {
            a: "order".into(),
            b: "broker".into(),
        })
        .unwrap();
        let hash = format!("{:016x}", sim.trace_hash());
        assert_eq!(
            j(&state_event(&p)),
            j(&format!(
                r#"{{"msgsim":1,"type":"state","scenario":"order-events","builtin":true,"seed":"42","time_us":1000000,"playing":false,"events":{},"commands":1,"trace_hash":"{hash}"}}"#,
                sim.events_processed()
            ))
        );
        assert_eq!(sim.events_processed(), 64);
        let m = j(&metrics_event(&p));
        assert_eq!(m["time_us"], 1_000_000);
        assert_eq!(m["metrics"], serde_json::to_value(sim.metrics()).unwrap());
        assert_eq!(m["metrics"]["sent"], 46);
        assert_eq!(
            state_key(&p),
            (
                false,
                "order-events".into(),
                42,
                1,
                Some(sim.events_processed())
            )
        );
    }
}
