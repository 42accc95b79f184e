//! Sharing a run, in plain Rust (tested natively): the `?run=v1.…` link parameter and its
//! fallbacks, the run file (download and upload), and the `<iframe>` snippet.
//!
//! One format serves the link and the file: [`msgsim::share::SharedRun`] — scenario (a built-in
//! name or the full definition), seed, the user's commands with their exact places, and the time
//! being looked at. The link carries it compressed (`v1.<base64url(deflate(json))>`, at most
//! [`MAX_LINK_CHARS`] characters); the file carries it as readable JSON with the scenario inline.
//! A plain scenario file (as in `scenarios/`) is accepted too.

use crate::format::{self, shorten, StartChoice};
use crate::state::Playground;
use msgsim::error::CommandError;
use msgsim::scenario::limits::MAX_SCENARIO_BYTES;
use msgsim::share::{ScenarioRef, ShareError, SharedRun};
use msgsim::sim::bounds::MAX_COMMAND_LOG;
use msgsim::{Scenario, SimTime, Simulation};

/// Most engine events replayed to open a link or a file (the run stops short beyond it, and says
/// so): the engine's bound, [`msgsim::share::MAX_REPLAY_EVENTS`], well under a second.
pub const LOAD_MAX_EVENTS: u64 = msgsim::share::MAX_REPLAY_EVENTS;

/// Width and height of the `<iframe>` in the embed snippet, px.
pub const EMBED_SIZE: (u32, u32) = (640, 400);

/// The run the playground shows now, as a [`SharedRun`]: the scenario (by name when it is a
/// built-in one, else in full), the seed, the commands applied so far with their places, the
/// current virtual time, and the handled-event count when the run stands between two events of
/// the same virtual time (after a step).
pub fn current_run(p: &Playground) -> SharedRun {
    let scenario = match p.builtin_name() {
        Some(name) => ScenarioRef::Builtin(name.to_string()),
        None => ScenarioRef::Inline(Box::new((*p.scenario).clone())),
    };
    let (at, events) = p.with_sim(|s| {
        let between = s.next_event_time() == Some(s.now());
        (s.now(), between.then(|| s.events_processed()))
    });
    SharedRun {
        scenario,
        seed: p.seed,
        commands: (*p.commands).clone(),
        at,
        events,
    }
}

/// Whether a run is a built-in scenario at its start (no event handled) with no commands: then
/// the short, readable `?scenario=&seed=` form says everything.
fn fresh_builtin(run: &SharedRun) -> Option<&str> {
    match &run.scenario {
        ScenarioRef::Builtin(name)
            if run.commands.is_empty()
                && run.at == SimTime::ZERO
                && run.events.unwrap_or(0) == 0 =>
        {
            Some(name)
        }
        _ => None,
    }
}

/// The URL parameters that reopen `run`, as `(name, value)` pairs to set (`None`: remove the
/// parameter): `scenario` + `seed` for a fresh built-in run, else `run`. Errors when the run does
/// not fit in a link ([`ShareError::TooLong`]).
pub fn link_params(run: &SharedRun) -> Result<[(&'static str, Option<String>); 3], ShareError> {
    if let Some(name) = fresh_builtin(run) {
        return Ok([
            ("run", None),
            ("scenario", Some(name.to_string())),
            ("seed", Some(run.seed.to_string())),
        ]);
    }
    let encoded = run.encode()?;
    Ok([("run", Some(encoded)), ("scenario", None), ("seed", None)])
}

/// The query (`?…`) that reopens `run` in the playground, or in the widget with `embed`.
pub fn link_query(run: &SharedRun, embed: bool) -> Result<String, ShareError> {
    let mut parts: Vec<String> = link_params(run)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", format::url_encode(&v))))
        .collect();
    if embed {
        parts.push("embed=1".into());
    }
    Ok(format!("?{}", parts.join("&")))
}

/// The sentence shown when a run does not fit in a link.
pub fn too_long_text(err: &ShareError) -> String {
    match err {
        ShareError::TooLong { len, max } => format!(
            "This run is too big for a link ({len} characters once compressed, at most {max}): \
             download the run file and share that instead."
        ),
        other => format!("No link for this run: {other}."),
    }
}

/// The link to the full playground from the widget: the same run, or (when it does not fit in a
/// link) the built-in scenario and seed only.
pub fn playground_href(run: &SharedRun) -> String {
    match link_query(run, false) {
        Ok(q) => q,
        Err(_) => format::playground_query(
            match &run.scenario {
                ScenarioRef::Builtin(n) => Some(n.as_str()),
                ScenarioRef::Inline(_) => None,
            },
            run.seed,
        ),
    }
}

/// Reads the `?run=` parameter. A damaged one, or one naming a scenario that does not exist or
/// does not build, gives an error sentence for the URL banner that says what was wrong and that
/// `fallback` (the scenario and seed chosen from the rest of the URL) is shown instead.
pub fn read_run_param(raw: &str, fallback: &StartChoice) -> Result<SharedRun, String> {
    let checked = SharedRun::decode(raw.trim()).and_then(|run| {
        run.check_cost(LOAD_MAX_EVENTS)?;
        let scenario = run.resolve_scenario()?;
        Simulation::new(scenario, run.seed)?;
        Ok(run)
    });
    checked.map_err(|e| {
        let why = e.to_string();
        format!(
            "The shared run in the URL (?run=) could not be opened: {}. Showing `{}` with seed {} instead.",
            why.trim_end_matches('.'),
            fallback.scenario,
            fallback.seed
        )
    })
}

/// The run file of `run`: pretty JSON of a [`SharedRun`] whose scenario is inline, so the file
/// stands alone (and can be edited).
pub fn run_file_text(run: &SharedRun, scenario: &Scenario) -> String {
    let inline = SharedRun {
        scenario: ScenarioRef::Inline(Box::new(scenario.clone())),
        ..run.clone()
    };
    // Compact (the serializer `SharedRun::encode` uses), then indented: one copy of the
    // scenario's serializers in the wasm instead of two.
    indent_json(&serde_json::to_string(&inline).unwrap_or_default())
}

/// Indents compact JSON (as `serde_json::to_string` writes it: no whitespace outside strings)
/// by two spaces per level, keeping the order of keys; `{}` and `[]` stay on one line.
pub fn indent_json(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', depth * 2));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

/// File name for the run file: `order-events-seed42.msgsim.json`.
pub fn run_file_name(scenario: &Scenario, seed: u64) -> String {
    let name: String = scenario
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    let name = if name.is_empty() { "scenario" } else { &name };
    format!("{name}-seed{seed}.msgsim.json")
}

/// Parses an uploaded file: a run file (a JSON object with a `scenario` field, see
/// [`run_file_text`]) or a plain scenario. The error says what and where (line, column, field).
/// Checks everything a load needs (the scenario builds with the seed), so a load that passes
/// here cannot fail.
pub fn load_file_text(text: &str) -> Result<SharedRun, String> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(format!(
            "the file has {} bytes; a scenario may have at most {MAX_SCENARIO_BYTES}",
            text.len()
        ));
    }
    let is_run_file = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(ref m)) => m.contains_key("scenario"),
        Ok(_) => false,
        // Not JSON at all (cut short, a stray comma): say so, not what a scenario lacks.
        Err(e) if e.is_syntax() || e.is_eof() => {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            return Err(format!(
                "JSON, line {} column {}: {}",
                e.line(),
                e.column(),
                full.strip_suffix(&suffix).unwrap_or(&full)
            ));
        }
        Err(_) => false,
    };
    if !is_run_file {
        let scenario = format::load_scenario_text(text).map_err(|e| e.to_string())?;
        return Ok(SharedRun {
            seed: scenario.seed,
            scenario: ScenarioRef::Inline(Box::new(scenario)),
            commands: Vec::new(),
            at: SimTime::ZERO,
            events: None,
        });
    }
    let run: SharedRun = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        format!(
            "run file JSON, line {} column {}: {}",
            e.line(),
            e.column(),
            full.strip_suffix(&suffix).unwrap_or(&full)
        )
    })?;
    if run.commands.len() > MAX_COMMAND_LOG {
        return Err(format!(
            "run file: too many commands: {} (maximum {MAX_COMMAND_LOG})",
            run.commands.len()
        ));
    }
    if let Some(i) = run
        .commands
        .windows(2)
        .position(|w| (w[1].events, w[1].at) < (w[0].events, w[0].at))
    {
        return Err(format!(
            "run file: commands[{}] comes before commands[{i}] in the run (at, events); commands must be in the order they were applied",
            i + 1
        ));
    }
    let scenario = match &run.scenario {
        ScenarioRef::Builtin(name) => msgsim::scenarios::get(name)
            .ok_or_else(|| {
                format!(
                    "run file: scenario.builtin: unknown built-in scenario `{}`",
                    shorten(name, 60)
                )
            })
            .and_then(|j| Scenario::from_json(j).map_err(|e| e.to_string()))?,
        ScenarioRef::Inline(s) => {
            s.validate()
                .map_err(|e| format!("run file: scenario.inline.{e}"))?;
            (**s).clone()
        }
    };
    if run.at > MAX_RUN_AT {
        return Err(format!(
            "run file: at: {} µs is beyond {} µs (24 h of virtual time)",
            run.at.as_us(),
            MAX_RUN_AT.as_us()
        ));
    }
    // The engine's range checks (`events`, each command's place) and the cost bound, before
    // anything changes.
    run.check()
        .and_then(|_| run.check_cost(LOAD_MAX_EVENTS))
        .map_err(|e| format!("run file: {e}"))?;
    let mut sim = Simulation::new(scenario, run.seed)
        .map_err(|e| format!("run file: scenario.inline.{e}"))?;
    // Commands that name nothing in the scenario (a node, an instance, a link) or carry invalid
    // faults can never apply: refuse the file rather than show them as applied. Whether a
    // command fits the state at its time is the replay's business.
    for (i, c) in run.commands.iter().enumerate() {
        if let Err(
            e @ (CommandError::UnknownNode(_)
            | CommandError::UnknownInstance { .. }
            | CommandError::UnknownLink(..)
            | CommandError::InvalidFaults(_)),
        ) = sim.apply(c.command.clone())
        {
            return Err(format!("run file: commands[{i}].command: {e}"));
        }
    }
    Ok(run)
}

/// Latest place a run file or link may ask for: 24 h of virtual time (as the widget's `seek`);
/// the engine's [`msgsim::share::MAX_RUN_AT`].
pub const MAX_RUN_AT: SimTime = msgsim::share::MAX_RUN_AT;

/// Escapes text for an HTML attribute value in double quotes.
pub fn html_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Where the lean embed widget lives, relative to the playground's folder (`dist/widget/`,
/// built from `widget.html`). The playground's own `?embed=1` keeps working for old embeds.
pub const WIDGET_PATH: &str = "widget/";

/// The playground's folder relative to this page: the page itself in the full build, `../`
/// from the lean widget (built without the `full` feature, served at [`WIDGET_PATH`]). Prefixes
/// the widget's "open in the playground" link.
pub const PLAYGROUND_DIR: &str = if cfg!(feature = "full") { "" } else { "../" };

/// The `<iframe>` snippet that embeds `query` (from [`link_query`] with `embed`) in the lean
/// widget ([`WIDGET_PATH`]) beside the page at `page_url` (origin and path, e.g.
/// `https://example.org/msgsim/`), titled after the scenario.
pub fn embed_snippet(page_url: &str, query: &str, title: &str) -> String {
    let (w, h) = EMBED_SIZE;
    format!(
        "<iframe src=\"{}\" width=\"{w}\" height=\"{h}\" loading=\"lazy\" title=\"{}\" style=\"border:0;max-width:100%\"></iframe>",
        html_attr(&format!("{page_url}{WIDGET_PATH}{query}")),
        html_attr(&format!("msgsim: {}", shorten(title, 80)))
    )
}

/// The `<msgsim-embed>` snippet (the custom element of `js/embed/msgsim-embed.js`, served at
/// `msgsim-embed.js` beside the playground) for `run` on the page at `page_url`: the script tag
/// and the element, whose fallback content (shown without JavaScript) is a plain link to the
/// same run in the playground. Errors as [`link_params`] (a run too big for a link).
pub fn element_snippet(page_url: &str, run: &SharedRun, title: &str) -> Result<String, ShareError> {
    let params = link_params(run)?;
    let attrs: String = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!(" {k}=\"{}\"", html_attr(v))))
        .collect();
    let href = format!("{page_url}{}", link_query(run, false)?);
    Ok(format!(
        "<script src=\"{}\" defer></script>\n<msgsim-embed{attrs}><a href=\"{}\">{}</a></msgsim-embed>",
        html_attr(&format!("{page_url}msgsim-embed.js")),
        html_attr(&href),
        html_attr(&format!(
            "Open “{}” in the msgsim playground",
            shorten(title, 80)
        ))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Action, AppInit, NodeOp};
    use msgsim::Command;

    fn fresh() -> Playground {
        Playground::new(&AppInit::builtin("order-events", 42))
    }

    /// order-events seed 42: 1.2 s, crash kitchen#1, 0.8 s, partition order-broker, 0.5 s.
    fn with_faults() -> Playground {
        let mut p = fresh();
        p.act(Action::Advance {
            virtual_ms: 1_200,
            real_ms: 0.0,
        });
        p.act(Action::SelectNode(2));
        p.act(Action::SelectInstance(1));
        p.act(Action::Node(NodeOp::Crash));
        p.act(Action::Advance {
            virtual_ms: 800,
            real_ms: 0.0,
        });
        p.act(Action::Apply(Command::Partition {
            a: "order".into(),
            b: "broker".into(),
        }));
        p.act(Action::Advance {
            virtual_ms: 500,
            real_ms: 0.0,
        });
        p
    }

    #[test]
    fn a_fresh_builtin_run_keeps_the_short_query() {
        let run = current_run(&fresh());
        assert_eq!(
            link_query(&run, false).unwrap(),
            "?scenario=order-events&seed=42"
        );
        assert_eq!(
            link_query(&run, true).unwrap(),
            "?scenario=order-events&seed=42&embed=1"
        );
    }

    #[test]
    fn a_link_reopens_the_run_exactly() {
        let p = with_faults();
        let run = current_run(&p);
        assert_eq!(run.commands.len(), 2);
        assert_eq!((run.at, run.events), (SimTime::from_ms(2_500), None));
        let q = link_query(&run, false).unwrap();
        assert!(q.starts_with("?run=v1."), "{q}");
        assert_eq!(q.len(), 204);
        let raw = q.strip_prefix("?run=").unwrap();
        let back = read_run_param(raw, &format::resolve_start(&Default::default())).unwrap();
        let mut opened = fresh();
        opened.act(Action::LoadRun {
            run: Box::new(back),
            origin: crate::state::RunOrigin::Url,
        });
        assert_eq!(opened.snapshot.time, SimTime::from_ms(2_500));
        assert_eq!(
            opened.with_sim(|s| (s.trace_hash(), s.events_processed())),
            p.with_sim(|s| (s.trace_hash(), s.events_processed()))
        );
        assert_eq!(opened.commands, p.commands);
        assert_eq!(opened.url_errors.len(), 0);
    }

    #[test]
    fn a_step_between_events_of_one_time_is_kept() {
        let mut p = fresh();
        // Step until the next event shares the current time.
        for _ in 0..500 {
            p.act(Action::Step { real_ms: 0.0 });
            if p.with_sim(|s| s.next_event_time() == Some(s.now())) {
                break;
            }
        }
        let run = current_run(&p);
        assert_eq!(run.events, Some(p.snapshot.events_processed));
        assert_eq!(run.events, Some(33));
        let mut opened = fresh();
        opened.act(Action::LoadRun {
            run: Box::new(run),
            origin: crate::state::RunOrigin::Url,
        });
        assert_eq!(opened.snapshot.events_processed, 33);
        assert_eq!(
            opened.with_sim(|s| s.trace_hash()),
            p.with_sim(|s| s.trace_hash())
        );
    }

    #[test]
    fn garbage_in_the_run_parameter_is_explained() {
        let fallback = format::resolve_start(&Default::default());
        assert_eq!(
            read_run_param("garbage", &fallback).unwrap_err(),
            "The shared run in the URL (?run=) could not be opened: not a msgsim link: expected it to start with `v1.`, found `garbage`. Showing `order-events` with seed 42 instead."
        );
        assert_eq!(
            read_run_param("v1.garbage", &fallback).unwrap_err(),
            "The shared run in the URL (?run=) could not be opened: the link is damaged (base64): Invalid last symbol 101, offset 6. Showing `order-events` with seed 42 instead."
        );
        assert_eq!(
            read_run_param("v1.AAAA", &fallback).unwrap_err(),
            "The shared run in the URL (?run=) could not be opened: the link is damaged or too large once decompressed (limit 1048576 bytes). Showing `order-events` with seed 42 instead."
        );
        let unknown = SharedRun {
            scenario: ScenarioRef::Builtin("nope".into()),
            seed: 1,
            commands: vec![],
            at: SimTime::ZERO,
            events: None,
        };
        assert_eq!(
            read_run_param(&unknown.encode().unwrap(), &fallback).unwrap_err(),
            "The shared run in the URL (?run=) could not be opened: the link names an unknown scenario `nope`. Showing `order-events` with seed 42 instead."
        );
    }

    #[test]
    fn an_uploaded_scenario_goes_inline_and_a_huge_one_says_download() {
        let mut p = fresh();
        let text = msgsim::scenarios::get("order-events")
            .unwrap()
            .replace("\"seed\": 42", "\"seed\": 5");
        p.act(Action::Upload {
            file: "mine.json".into(),
            text: Ok(text),
        });
        let run = current_run(&p);
        assert!(matches!(run.scenario, ScenarioRef::Inline(_)));
        let q = link_query(&run, false).unwrap();
        // 1 370 before order-events had its three experiments.
        assert_eq!(q.len(), 2_020);
        let mut big = (*p.scenario).clone();
        big.description = (0..20_000u32).map(|i| format!("{i:x}")).collect();
        let huge = SharedRun {
            scenario: ScenarioRef::Inline(Box::new(big)),
            ..run.clone()
        };
        let err = link_query(&huge, false).unwrap_err();
        assert_eq!(
            too_long_text(&err),
            "This run is too big for a link (56607 characters once compressed, at most 6000): download the run file and share that instead."
        );
        // The widget's link to the playground then keeps only the seed.
        assert_eq!(playground_href(&huge), "?seed=5");
    }

    #[test]
    fn the_run_file_round_trips_with_its_commands() {
        let p = with_faults();
        let run = current_run(&p);
        let text = run_file_text(&run, &p.scenario);
        assert!(
            text.starts_with("{\n  \"scenario\": {\n    \"inline\": {"),
            "{}",
            &text[..60]
        );
        assert_eq!(
            run_file_name(&p.scenario, 42),
            "order-events-seed42.msgsim.json"
        );
        let back = load_file_text(&text).unwrap();
        assert_eq!(back.commands, run.commands);
        assert_eq!((back.seed, back.at), (42, SimTime::from_ms(2_500)));
        let mut opened = fresh();
        opened.act(Action::Upload {
            file: "run.json".into(),
            text: Ok(text),
        });
        assert_eq!(opened.upload_error, None);
        assert_eq!(
            opened.with_sim(|s| s.trace_hash()),
            p.with_sim(|s| s.trace_hash())
        );
        assert_eq!(
            opened.source,
            crate::state::Source::Uploaded("run.json".into())
        );
    }

    #[test]
    fn malformed_files_name_line_column_and_field_and_change_nothing() {
        let cases = [
            (
                "{\"scenario\": {\"builtin\": \"order-events\"}, \"seed\": \"x\"}",
                "run file JSON, line 1 column 53: invalid type: string \"x\", expected u64",
            ),
            (
                "{\"scenario\": {\"builtin\": \"order-events\"},\n \"seed\": 1, \"comands\": []}",
                "run file JSON, line 2 column 21: unknown field `comands`, expected one of `scenario`, `seed`, `commands`, `at`, `events`",
            ),
            (
                "{\"scenario\": {\"builtin\": \"nope\"}, \"seed\": 1}",
                "run file: scenario.builtin: unknown built-in scenario `nope`",
            ),
            (
                "{\"scenario\": {\"inline\": {\"name\": \"x\", \"nodes\": [{\"name\": \"a\", \"kind\": \"service\"}], \"links\": [{\"a\": \"a\", \"b\": \"zz\"}]}}, \"seed\": 1}",
                "run file: scenario.inline.links[0].b: unknown name `zz`",
            ),
            (
                "{\"scenario\": {\"builtin\": \"order-events\"}, \"seed\": 1, \"commands\": [{\"at\": 5, \"events\": 2, \"command\": {\"op\": \"crash\", \"node\": 5}}]}",
                "run file JSON, line 1 column 127: invalid type: integer `5`, expected a string",
            ),
            (
                "{ \"name\": \"x\",\n  \"nodes\": 3 }",
                "scenario JSON, line 2 column 12: invalid type: integer `3`, expected a sequence",
            ),
            ("{ \"name\": ", "JSON, line 1 column 10: EOF while parsing a value"),
            (
                "{\"scenario\":\n {\"builtin\": ",
                "JSON, line 2 column 13: EOF while parsing a value",
            ),
            (
                "{\"scenario\": {\"builtin\": \"order-events\"}, \"seed\": 1, \"commands\": [{\"at\": 1000, \"events\": 0, \"command\": {\"op\": \"crash\", \"node\": \"nope\", \"instance\": 0}}]}",
                "run file: commands[0].command: unknown node `nope`",
            ),
            (
                "{\"scenario\": {\"builtin\": \"order-events\"}, \"seed\": 1, \"at\": 18446744073709551615}",
                "run file: at: 18446744073709551615 µs is beyond 86400000000 µs (24 h of virtual time)",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(load_file_text(text).unwrap_err(), want, "{text}");
        }
        let mut p = with_faults();
        let before = p.with_sim(|s| s.trace_hash());
        p.act(Action::Upload {
            file: "bad.json".into(),
            text: Ok(cases[1].0.into()),
        });
        assert_eq!(
            p.upload_error.as_deref(),
            Some("`bad.json` was not loaded (nothing changed): run file JSON, line 2 column 21: unknown field `comands`, expected one of `scenario`, `seed`, `commands`, `at`, `events`")
        );
        assert_eq!(p.with_sim(|s| s.trace_hash()), before);
        assert_eq!(p.commands.len(), 2);
    }

    /// Link lengths (`?run=…`) of a few built-ins after three faults, and carried in full.
    #[test]
    fn link_lengths_of_built_ins_with_faults() {
        let cases: [(&str, [Command; 3]); 3] = [
            (
                "circuit-breaker",
                [
                    Command::Crash {
                        node: "payments-a".into(),
                        instance: 0,
                    },
                    Command::Partition {
                        a: "shop-b".into(),
                        b: "checkout-b".into(),
                    },
                    Command::Restart {
                        node: "payments-a".into(),
                        instance: 0,
                    },
                ],
            ),
            (
                "partitioned-orders",
                [
                    Command::Crash {
                        node: "billing".into(),
                        instance: 2,
                    },
                    Command::Hold {
                        a: "order".into(),
                        b: "broker".into(),
                    },
                    Command::Release {
                        a: "order".into(),
                        b: "broker".into(),
                    },
                ],
            ),
            (
                "schema-rollout",
                [
                    Command::Pause {
                        node: "crm".into(),
                        instance: 0,
                    },
                    Command::PartitionOneway {
                        a: "broker".into(),
                        b: "audit".into(),
                    },
                    Command::Resume {
                        node: "crm".into(),
                        instance: 0,
                    },
                ],
            ),
        ];
        let mut lengths = Vec::new();
        for (name, commands) in cases {
            let json = msgsim::scenarios::get(name).unwrap();
            let seed = Scenario::from_json(json).unwrap().seed;
            let mut p = Playground::new(&AppInit::builtin(name, seed));
            for c in commands {
                p.act(Action::Advance {
                    virtual_ms: 1_000,
                    real_ms: 0.0,
                });
                p.act(Action::Apply(c));
                assert_eq!(p.fault_error, None, "{name}");
            }
            p.act(Action::Advance {
                virtual_ms: 1_000,
                real_ms: 0.0,
            });
            let run = current_run(&p);
            assert_eq!(run.commands.len(), 3);
            let inline = SharedRun {
                scenario: ScenarioRef::Inline(Box::new((*p.scenario).clone())),
                ..run.clone()
            };
            lengths.push((
                name,
                link_query(&run, false).unwrap().len(),
                link_query(&inline, false).map_or(0, |q| q.len()),
            ));
        }
        assert_eq!(
            lengths,
            [
                // Inline: 2 556, 1 868 and 1 938 before the built-ins had experiments (and the title said `v1→v2`);
                // partitioned-orders 2 070 before its scale experiment.
                ("circuit-breaker", 240, 3_070),
                ("partitioned-orders", 227, 2_236),
                ("schema-rollout", 231, 2_094),
            ]
        );
        // Every built-in scenario fits in a link even carried in full; the longest:
        let longest = msgsim::scenarios::BUILTIN
            .iter()
            .map(|(name, json)| {
                let run = SharedRun {
                    scenario: ScenarioRef::Inline(Box::new(Scenario::from_json(json).unwrap())),
                    seed: 1,
                    commands: Vec::new(),
                    at: SimTime::ZERO,
                    events: None,
                };
                (run.encode().map_or(usize::MAX, |l| l.len()), *name)
            })
            .max()
            .unwrap();
        // 2 461 before the built-ins had experiments.
        assert_eq!(longest, (2_979, "circuit-breaker"));
    }

    #[test]
    fn indenting_keeps_key_order_and_strings() {
        assert_eq!(
            indent_json(r#"{"b":[1,{"x":"a,{b}:\"c"}],"a":{},"c":[]}"#),
            "{\n  \"b\": [\n    1,\n    {\n      \"x\": \"a,{b}:\\\"c\"\n    }\n  ],\n  \"a\": {},\n  \"c\": []\n}"
        );
    }

    #[test]
    fn the_element_snippet_names_the_run_and_falls_back_to_a_link() {
        let mut p = fresh();
        let run = current_run(&p);
        assert_eq!(
            element_snippet("https://example.org/msgsim/", &run, "Order <events>").unwrap(),
            "<script src=\"https://example.org/msgsim/msgsim-embed.js\" defer></script>\n\
             <msgsim-embed scenario=\"order-events\" seed=\"42\"><a href=\"https://example.org/msgsim/?scenario=order-events&amp;seed=42\">\
             Open “Order &lt;events&gt;” in the msgsim playground</a></msgsim-embed>"
        );
        // With a command the run travels whole (`run="v1.…"`), in the link too.
        p.act(Action::Apply(Command::Partition {
            a: "order".into(),
            b: "broker".into(),
        }));
        let snippet =
            element_snippet("https://example.org/msgsim/", &current_run(&p), "t").unwrap();
        assert!(
            snippet.contains("<msgsim-embed run=\"v1.") && snippet.contains("msgsim/?run=v1."),
            "{snippet}"
        );
    }

    #[test]
    fn the_embed_snippet_escapes_its_attributes() {
        assert_eq!(
            embed_snippet(
                "https://example.org/msgsim/",
                "?scenario=order-events&seed=42&embed=1",
                "Order \"events\" <demo>"
            ),
            "<iframe src=\"https://example.org/msgsim/widget/?scenario=order-events&amp;seed=42&amp;embed=1\" width=\"640\" height=\"400\" loading=\"lazy\" title=\"msgsim: Order &quot;events&quot; &lt;demo&gt;\" style=\"border:0;max-width:100%\"></iframe>"
        );
    }
}
