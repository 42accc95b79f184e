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

/// Requests that may wait for the next animation frame at most; more are refused (and counted
/// in one `error` event).
pub const MAX_PENDING_REQUESTS: usize = 64;
/// Requests handled in one animation frame at most (they share one render and one `state`).
pub const MAX_REQUESTS_PER_FRAME: usize = 16;
/// `error` replies to refused messages sent per animation frame at most; the others are counted
/// in one summary `error`.
pub const MAX_ERRORS_PER_FRAME: usize = 4;

impl Request {
    /// Whether it may start long work (a run replaced or rebuilt, a seek): one per frame.
    pub fn is_heavy(&self) -> bool {
        matches!(self, Request::Load(_) | Request::Reset | Request::Seek(_))
    }
}

/// The host's requests waiting for the next animation frame, and the replies to refused
/// messages: whatever a host sends, the widget does a bounded amount of work per frame.
///
/// Coalescing: a `seek` right after a waiting `seek` replaces it, and a `play` or `pause` right
/// after a waiting `play` or `pause` replaces it (the later one alone decides); everything else
/// keeps its order. At most [`MAX_PENDING_REQUESTS`] wait (more are refused, counted in one
/// `error`), a frame takes at most [`MAX_REQUESTS_PER_FRAME`] and at most one that may start long
/// work ([`Request::is_heavy`]).
#[derive(Debug, Default)]
pub struct HostQueue {
    pending: std::collections::VecDeque<Request>,
    errors: std::collections::VecDeque<(String, ProtocolError)>,
    refused: u64,
    unanswered: u64,
}

/// What one animation frame does for the host.
#[derive(Debug, Default, PartialEq)]
pub struct FrameBatch {
    /// Requests to apply now, in order.
    pub requests: Vec<Request>,
    /// `error` replies: (origin of the message, what was wrong).
    pub errors: Vec<(String, ProtocolError)>,
    /// One `error` event for every allowed origin, counting what was refused or not answered
    /// since the last frame.
    pub summary: Option<ProtocolError>,
}

impl HostQueue {
    /// Queues a request (coalesced with the last waiting one, or refused when full).
    pub fn push(&mut self, r: Request) {
        let replaces = matches!(
            (self.pending.back(), &r),
            (Some(Request::Seek(_)), Request::Seek(_))
                | (
                    Some(Request::Play | Request::Pause),
                    Request::Play | Request::Pause
                )
        );
        if replaces {
            self.pending.pop_back();
        }
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            self.refused += 1;
        } else {
            self.pending.push_back(r);
        }
    }

    /// Queues the `error` reply to a refused message from `origin`.
    pub fn push_error(&mut self, origin: String, e: ProtocolError) {
        if self.errors.len() >= MAX_ERRORS_PER_FRAME {
            self.unanswered += 1;
        } else {
            self.errors.push_back((origin, e));
        }
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
            && self.errors.is_empty()
            && self.refused == 0
            && self.unanswered == 0
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// What this frame does: the next requests (see [`HostQueue`]), the replies, the summary.
    pub fn take_frame(&mut self) -> FrameBatch {
        let mut requests = Vec::new();
        while requests.len() < MAX_REQUESTS_PER_FRAME {
            let Some(r) = self.pending.pop_front() else {
                break;
            };
            let heavy = r.is_heavy();
            requests.push(r);
            if heavy {
                break;
            }
        }
        let mut parts = Vec::new();
        if self.refused > 0 {
            parts.push(format!(
                "{} requests were refused: at most {MAX_PENDING_REQUESTS} may wait, and the widget handles at most {MAX_REQUESTS_PER_FRAME} per animation frame",
                self.refused
            ));
        }
        if self.unanswered > 0 {
            parts.push(format!(
                "{} more refused messages were not answered (at most {MAX_ERRORS_PER_FRAME} `error` replies per animation frame)",
                self.unanswered
            ));
        }
        self.refused = 0;
        self.unanswered = 0;
        FrameBatch {
            requests,
            errors: self.errors.drain(..).collect(),
            summary: (!parts.is_empty()).then(|| ProtocolError {
                request: None,
                id: None,
                message: parts.join("; "),
            }),
        }
    }
}

/// Whether a `metrics` event may go now: the counters changed since the last one sent and at
/// least [`METRICS_INTERVAL_MS`] passed (`last_ms`: when the last one went, ms; `now_ms`: now).
/// When they changed but it is too early, the caller sends the latest counters once the
/// interval has passed (so the last value always arrives).
pub fn metrics_due(changed: bool, last_ms: f64, now_ms: f64) -> bool {
    changed && now_ms - last_ms >= METRICS_INTERVAL_MS
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
        "ready" | "state" | "metrics" | "error" | "size" => return Ok(None),
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

/// Parses `?origins=` (comma-separated): each must be an origin `http(s)://host[:port]` with
/// nothing after it, written as the browser serialises it (see [`normalise_origin`]). Returns
/// the origins (without duplicates, at most [`MAX_ORIGINS`]) and one sentence per entry that was
/// ignored, saying why.
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

/// The origin of `s` as the browser serialises it (`MessageEvent.origin`, `location.origin`,
/// the `targetOrigin` of `postMessage`): parsed by the URL standard (the `url` crate implements
/// WHATWG URL), so `HTTP://127.0.0.1.:018603/` and `http://0x7f.0.0.1:18603` both give
/// `http://127.0.0.1:18603`, `http://[0:0::1]` gives `http://[::1]`. `None` when `s` is not an
/// absolute http or https URL or has no host; a path, query or fragment is ignored here.
pub fn normalise_origin(s: &str) -> Option<String> {
    let url = url::Url::parse(s.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// Whether a message from `origin` (as the browser reports it) may talk to the widget: the
/// origin, normalised by the URL standard ([`normalise_origin`]), equals one of `allowed`
/// (already normalised by [`parse_origins`] or taken from `location.origin`). An opaque
/// origin (`null`: sandboxed frames, `file:`, `data:`) never matches.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    match normalise_origin(origin) {
        Some(o) => allowed.contains(&o),
        None => false,
    }
}

/// One `?origins=` entry: its normalised origin, or why it is refused. An entry the URL standard
/// reads as another origin than written (an IPv4 address in hex, octal, decimal or with a final
/// dot, a port with a leading zero or the scheme's default port, an IPv6 address not in its
/// shortest form) is refused with the form to write: the widget never trusts a string it would
/// not itself have written. Only ASCII case and one final `/` may differ.
fn check_origin(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_ORIGIN_CHARS {
        return Err(format!("is longer than {MAX_ORIGIN_CHARS} characters"));
    }
    if s == "*" || s == "null" {
        return Err("is not allowed: name each host page's origin".into());
    }
    let Some((scheme, _)) = s.split_once("://") else {
        return Err("is not an origin (expected http://host or https://host[:port])".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "has scheme `{}`; only http and https pages can host the widget",
            crate::format::shorten(&scheme, 20)
        ));
    }
    let url = url::Url::parse(s).map_err(|e| match e {
        url::ParseError::InvalidPort => "has an invalid port (1 to 65535)".to_string(),
        url::ParseError::IdnaError => {
            "has a host name that is not ASCII: write it in Punycode (`xn--…`)".to_string()
        }
        other => format!("is not a valid origin: {other}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("has a user name: an origin is only scheme://host[:port]".into());
    }
    let after = format!(
        "{}{}{}",
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default(),
        url.fragment().map(|f| format!("#{f}")).unwrap_or_default()
    );
    if after != "/" {
        return Err(format!(
            "has `{}` after the host: an origin is only scheme://host[:port]",
            crate::format::shorten(&after, 40)
        ));
    }
    if url.port() == Some(0) {
        return Err("has an invalid port `0`".into());
    }
    let origin = url.origin().ascii_serialization();
    let written = s.strip_suffix('/').unwrap_or(s).to_ascii_lowercase();
    if origin != written {
        return Err(format!(
            "is read by the browser as `{origin}`: write that form (the widget compares origins exactly as the browser serialises them)"
        ));
    }
    Ok(origin)
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

/// The smallest and largest frame height the widget asks for, in CSS px.
pub const SIZE_RANGE_PX: (f64, f64) = (160.0, 1600.0);

/// The frame height (CSS px) at which the widget shows its whole canvas at the frame's width:
/// `chrome_px` (transport, caption and padding) plus the canvas at the topology's aspect ratio
/// ([`crate::geometry::VIEW_W`] × [`crate::geometry::VIEW_H`]), rounded and clamped to
/// [`SIZE_RANGE_PX`]. `None` for a width or chrome that is not a finite, non-negative number.
pub fn preferred_height(width_px: f64, chrome_px: f64) -> Option<u32> {
    if !(width_px.is_finite() && chrome_px.is_finite() && width_px >= 0.0 && chrome_px >= 0.0) {
        return None;
    }
    let h = chrome_px + width_px * crate::geometry::VIEW_H / crate::geometry::VIEW_W;
    Some(h.round().clamp(SIZE_RANGE_PX.0, SIZE_RANGE_PX.1) as u32)
}

/// `size`: the frame height the widget would like, in CSS px ([`preferred_height`]); sent after
/// `ready` and again whenever the frame's width changes it. A host (or the `<msgsim-embed>`
/// element, `js/embed/`) sets the iframe's height to it.
pub fn size_event(height_px: u32) -> String {
    message("size", json!({ "height": height_px }))
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

/// Whether `error` (a scenario's or a shared run's validation error, as text) is the engine's
/// refusal of a build without Avro ([`msgsim::schema::SchemaError::AvroUnavailable`]): the lean
/// widget then hands the run to the full page's widget.
pub fn needs_avro(error: &str) -> bool {
    error.contains(&msgsim::schema::SchemaError::AvroUnavailable.to_string())
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
                "Origin `https://a.org/path` in the URL (?origins=) has `/path` after the host: an origin is only scheme://host[:port]; it is ignored.",
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

    /// Each spelling the browser reads as another origin than written is refused with the form
    /// to write (the browser would post to `http://127.0.0.1:18603` while the raw string never
    /// equals a `MessageEvent.origin`); IPv6 loopback without a port is an origin.
    #[test]
    fn origins_are_compared_as_the_browser_serialises_them() {
        let refused = |s: &str| {
            let (ok, errors) = parse_origins(s);
            assert!(ok.is_empty(), "{s}: {ok:?}");
            errors.join(" ")
        };
        for spelled in [
            "http://127.0.0.1.:18603",
            "http://0x7f.0.0.1:18603",
            "http://2130706433:18603",
            "http://127.0.0.1:018603",
            "http://0177.0.0.1:18603",
            "http://127.1:18603",
        ] {
            assert_eq!(
                refused(spelled),
                format!("Origin `{spelled}` in the URL (?origins=) is read by the browser as `http://127.0.0.1:18603`: write that form (the widget compares origins exactly as the browser serialises them); it is ignored.")
            );
            // What the browser reports for such a host page is the normalised origin.
            assert_eq!(
                normalise_origin(spelled).as_deref(),
                Some("http://127.0.0.1:18603")
            );
        }
        assert_eq!(parse_origins("http://[::1]").0, ["http://[::1]"]);
        assert_eq!(
            parse_origins("HTTP://[::1]:18617/").0,
            ["http://[::1]:18617"]
        );
        assert_eq!(
            refused("http://[0:0:0:0:0:0:0:1]:18617"),
            "Origin `http://[0:0:0:0:0:0:0:1]:18617` in the URL (?origins=) is read by the browser as `http://[::1]:18617`: write that form (the widget compares origins exactly as the browser serialises them); it is ignored."
        );
        assert_eq!(
            refused("https://docs.example.com:443"),
            "Origin `https://docs.example.com:443` in the URL (?origins=) is read by the browser as `https://docs.example.com`: write that form (the widget compares origins exactly as the browser serialises them); it is ignored."
        );
        assert_eq!(
            refused("http://a.org:65536"),
            "Origin `http://a.org:65536` in the URL (?origins=) has an invalid port (1 to 65535); it is ignored."
        );
        assert_eq!(
            refused("http://user@a.org"),
            "Origin `http://user@a.org` in the URL (?origins=) has a user name: an origin is only scheme://host[:port]; it is ignored."
        );
        assert_eq!(
            refused("https://a.org?x=1"),
            "Origin `https://a.org?x=1` in the URL (?origins=) has `/?x=1` after the host: an origin is only scheme://host[:port]; it is ignored."
        );
        assert_eq!(
            refused("https://bücher.example"),
            "Origin `https://bücher.example` in the URL (?origins=) has a host name that is not ASCII: write it in Punycode (`xn--…`); it is ignored."
        );
        assert_eq!(
            refused("http://"),
            "Origin `http://` in the URL (?origins=) is not a valid origin: empty host; it is ignored."
        );
        // Both ways: an incoming origin is normalised before the exact comparison.
        let allowed = vec![
            "http://127.0.0.1:18603".to_string(),
            "http://[::1]".to_string(),
        ];
        assert!(origin_allowed(&allowed, "http://127.0.0.1:18603"));
        assert!(origin_allowed(&allowed, "http://[::1]"));
        assert!(origin_allowed(&allowed, "http://[::1]:80"));
        assert!(!origin_allowed(&allowed, "http://127.0.0.1:18604"));
        assert!(!origin_allowed(&allowed, "https://127.0.0.1:18603"));
        assert!(!origin_allowed(&allowed, "null"));
        assert!(!origin_allowed(&allowed, ""));
    }

    #[test]
    fn host_requests_are_coalesced_and_bounded_per_frame() {
        let mut q = HostQueue::default();
        for _ in 0..10_000 {
            q.push(Request::Play);
            q.push(Request::Pause);
        }
        // A flood of play/pause is one request.
        assert_eq!(q.len(), 1);
        assert_eq!(
            q.take_frame(),
            FrameBatch {
                requests: vec![Request::Pause],
                ..FrameBatch::default()
            }
        );
        assert!(q.is_empty());
        for k in 0..5_000u64 {
            q.push(Request::Seek(k));
        }
        assert_eq!(q.take_frame().requests, vec![Request::Seek(4_999)]);
        for _ in 0..10_000 {
            q.push(Request::Step);
        }
        assert_eq!(q.len(), MAX_PENDING_REQUESTS);
        let b = q.take_frame();
        assert_eq!(b.requests.len(), MAX_REQUESTS_PER_FRAME);
        assert_eq!(
            b.summary.unwrap().message,
            "9936 requests were refused: at most 64 may wait, and the widget handles at most 16 per animation frame"
        );
        let mut frames = 0;
        while !q.is_empty() {
            assert!(q.take_frame().summary.is_none());
            frames += 1;
        }
        assert_eq!(frames, 3);
        // At most one request that may start long work per frame; order kept.
        q.push(Request::Play);
        q.push(Request::Seek(5));
        q.push(Request::Step);
        q.push(Request::Reset);
        q.push(Request::Step);
        assert_eq!(
            q.take_frame().requests,
            vec![Request::Play, Request::Seek(5)]
        );
        assert_eq!(q.take_frame().requests, vec![Request::Step, Request::Reset]);
        assert_eq!(q.take_frame().requests, vec![Request::Step]);
        // Error replies: a few per frame, the rest counted.
        for k in 0..100 {
            q.push_error(
                "http://127.0.0.1:18617".into(),
                ProtocolError {
                    request: Some("fly".into()),
                    id: Some(json!(k)),
                    message: "unknown type".into(),
                },
            );
        }
        let b = q.take_frame();
        assert_eq!(b.errors.len(), MAX_ERRORS_PER_FRAME);
        assert_eq!(b.errors[3].1.id, Some(json!(3)));
        assert_eq!(
            b.summary.unwrap().message,
            "96 more refused messages were not answered (at most 4 `error` replies per animation frame)"
        );
        assert!(q.is_empty());
    }

    #[test]
    fn metrics_go_at_most_every_250_ms() {
        assert!(metrics_due(true, f64::NEG_INFINITY, 0.0));
        assert!(!metrics_due(true, 1_000.0, 1_249.9));
        assert!(metrics_due(true, 1_000.0, 1_250.0));
        assert!(!metrics_due(false, 0.0, 10_000.0));
    }

    #[test]
    fn size_is_the_canvas_at_its_aspect_plus_the_chrome() {
        // 640 px wide, 70 px of transport and caption: 70 + 640 × 600 / 1000 = 454.
        assert_eq!(preferred_height(640.0, 70.0), Some(454));
        assert_eq!(preferred_height(320.0, 64.5), Some(257));
        // Clamped: a tiny or a huge frame.
        assert_eq!(preferred_height(10.0, 0.0), Some(160));
        assert_eq!(preferred_height(9000.0, 100.0), Some(1600));
        assert_eq!(preferred_height(f64::NAN, 70.0), None);
        assert_eq!(preferred_height(640.0, -1.0), None);
        assert_eq!(
            j(&size_event(454)),
            j(r#"{"msgsim":1,"type":"size","height":454}"#)
        );
        // A host echoing the widget's own event is not a request.
        assert_eq!(
            parse_request(r#"{"msgsim":1,"type":"size","height":3}"#),
            Ok(None)
        );
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

    #[test]
    fn the_lean_widget_hands_over_exactly_the_avro_refusal() {
        let full = format!(
            "channels[0].schemas[0]: {}",
            msgsim::schema::SchemaError::AvroUnavailable
        );
        assert!(needs_avro(&full));
        assert!(!needs_avro(
            "channels[0].schemas[0]: invalid schema User: duplicate field id"
        ));
        // The full build plays every schema built-in (no refusal to hand over).
        for name in ["schema-rollout", "encoding-comparison", "schema-registry"] {
            let json = msgsim::scenarios::get(name).unwrap();
            assert!(msgsim::Simulation::from_json(json, 7).is_ok(), "{name}");
        }
    }
}
