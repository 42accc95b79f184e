//! Exports of a run: the trace as JSON Lines and as a Mermaid `sequenceDiagram`.
//!
//! Both are pure functions of the trace (and the scenario, for the participants), so they can be
//! produced natively, in tests or in the browser.
//!
//! Names come from scenarios anyone can write, so each exporter escapes by its format's own
//! rules, also names that validation would refuse (these functions are public API): JSON Lines
//! through `serde_json` (keys and values), Mermaid through [`mermaid_text`].

use crate::scenario::Scenario;
use crate::trace::{TraceEvent, TraceKind};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The trace as JSON Lines: one JSON object per event and line, oldest first.
///
/// Fields of every line: `seq` (u64, position in the run), `time` (µs), `event` (snake_case kind:
/// `send`, `arrive`, `drop`, `release`, `enqueue`, `overflow`, `redeliver`, `dead_letter`, `acked`,
/// `process`, `retry`, `give_up`, `skipped`, `command`, and for synchronous calls `call_invoke`,
/// `call_attempt`, `call_wait`, `call_result`, `call_retry`, `call_fallback`, `call_done`,
/// `call_skipped`, `server_queued`, `server_rejected`, `server_start`, `server_reply`,
/// `late_response`, `breaker_transition`, `registered`, `expired`, `deregistered`,
/// `cache_refreshed`, `routed`, `probe_failed`, and on channels with schemas `encode`,
/// `cache_refreshed`, `routed`, `probe_failed`, on channels with schemas `encode`,
/// `produce_rejected`, `decode`, `lookup_timeout`, `rejected`, and for partitioned topics
/// `produce`, `append`, `duplicate_append`, `append_rejected`, `produce_acked`, `produce_retry`,
/// `produce_failed`, `producer_epoch_bump`, `late_produce_response`, `fetch`, `consume`,
/// `records_dropped`, `offset_commit`, `commit_failed`, `join`, `member_removed`, `rebalance`,
/// `revoke`, `assign`), then the kind's own fields as in
/// [`TraceKind`] (endpoints are `{"node": "...", "instance": n}`, message ids are integers).
pub fn trace_jsonl<'a>(events: impl IntoIterator<Item = &'a TraceEvent>) -> String {
    let mut out = String::new();
    for e in events {
        // Serializing plain data with string keys cannot fail.
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// ` m17`, or nothing for message id 0 (packets of the consumer-group protocol carry none).
fn msg_suffix(msg: crate::message::MessageId) -> String {
    if msg.0 == 0 {
        String::new()
    } else {
        format!(" {msg}")
    }
}

/// `s` as Mermaid text that cannot leave its place (a participant's alias, a message or a note).
///
/// Mermaid's entity codes replace what its grammar or its HTML labels give a meaning: `#`
/// (`#35;`) and `;` (`#59;`) end a text, a `%` next to another `%` (`#37;`) makes a `%%`
/// comment or a `%%{init}%%` directive, `"` is `#quot;`, `&` is `#amp;`, and `<` is `#lt;` where
/// HTML would read it as markup (before a letter, `/`, `!` or `?`; `a <-> b` stays readable).
/// No line break survives: tab, CR, LF, NEL and the Unicode line and paragraph separators become
/// a space, other control characters U+FFFD, so a name can never start a statement of its own
/// (`link`, `click`, `participant`, `Note`...). Sources: Mermaid's sequence diagram grammar
/// (`sequenceDiagram.jison`: a text ends at `#`, `;` or a line break), its directive syntax, and
/// its "Entity codes to escape characters"; HTML's tag-open state.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut prev = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '%' if prev == Some('%') || next == Some('%') => out.push_str("#37;"),
            '"' => out.push_str("#quot;"),
            '&' => out.push_str("#amp;"),
            '<' if next
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("#lt;")
            }
            '\t' | '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
        prev = Some(c);
    }
    out
}

/// Maximum arrows in one Mermaid diagram ([`mermaid_sequence`] notes the rest as omitted).
pub const MERMAID_MAX_ARROWS: usize = 500;

/// A Mermaid `sequenceDiagram` of the trace: one participant per node (in scenario order), one
/// arrow per packet that arrived (`->>`) or was dropped (`-x`, with the reason), duplicates marked,
/// and notes for publish retries, redeliveries, dead letters, deduplicated repeats and commands.
///
/// At most `max_arrows` arrows (use [`MERMAID_MAX_ARROWS`]); the rest are summarized in a final note.
/// Arrows appear at their arrival (or drop) time, as a sequence diagram orders by receipt.
pub fn mermaid_sequence<'a>(
    scenario: &Scenario,
    events: impl IntoIterator<Item = &'a TraceEvent>,
    max_arrows: usize,
) -> String {
    let alias: BTreeMap<&str, String> = scenario
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), format!("n{i}")))
        .collect();
    let who = |node: &str| alias.get(node).cloned().unwrap_or_else(|| "unknown".into());
    // Queue names are `channel` or `topic/subscriber`; notes about a queue go over its broker.
    // A channel's own name may hold a `/`: the longest channel name the queue is or starts
    // with (followed by `/`) is its channel.
    let broker_of = |queue: &str| {
        scenario
            .channels
            .iter()
            .filter(|c| {
                queue == c.name
                    || (queue.starts_with(c.name.as_str())
                        && queue[c.name.len()..].starts_with('/'))
            })
            .max_by_key(|c| c.name.len())
            .map(|c| who(&c.broker))
            .unwrap_or_else(|| "unknown".into())
    };
    let t = mermaid_text;
    let mut out = String::from("sequenceDiagram\n");
    for (i, n) in scenario.nodes.iter().enumerate() {
        let _ = writeln!(out, "    participant n{i} as {}", t(&n.name));
    }
    let (first, last) = match (scenario.nodes.first(), scenario.nodes.last()) {
        (Some(a), Some(b)) => (who(&a.name), who(&b.name)),
        _ => ("unknown".to_string(), "unknown".to_string()),
    };
    // Which sends were duplicates, and their attempt, by transit id.
    let mut sends: BTreeMap<u64, (u32, bool)> = BTreeMap::new();
    let mut arrows = 0usize;
    let mut omitted = 0usize;
    for e in events {
        let at_time = e.time;
        let mut arrow = |out: &mut String, line: String| {
            if arrows < max_arrows {
                arrows += 1;
                let _ = writeln!(out, "    {line}");
            } else {
                omitted += 1;
            }
        };
        match &e.what {
            TraceKind::Send {
                transit,
                attempt,
                duplicate,
                ..
            } => {
                sends.insert(*transit, (*attempt, *duplicate));
            }
            TraceKind::Arrive {
                transit,
                from,
                to,
                packet,
                msg,
            } => {
                let (attempt, dup) = sends.remove(transit).unwrap_or((1, false));
                arrow(
                    &mut out,
                    format!(
                        "{}->>{}: {}{}{}{} @{at_time}",
                        who(&from.node),
                        who(&to.node),
                        packet.as_str(),
                        msg_suffix(*msg),
                        if attempt > 1 {
                            format!(" attempt {attempt}")
                        } else {
                            String::new()
                        },
                        if dup { " (network duplicate)" } else { "" }
                    ),
                );
            }
            TraceKind::Drop {
                transit,
                from,
                to,
                packet,
                msg,
                reason,
            } => {
                let (_, dup) = sends.remove(transit).unwrap_or((1, false));
                arrow(
                    &mut out,
                    format!(
                        "{}-x{}: {}{} dropped ({}){} @{at_time}",
                        who(&from.node),
                        who(&to.node),
                        packet.as_str(),
                        msg_suffix(*msg),
                        reason.as_str(),
                        if dup { " (network duplicate)" } else { "" }
                    ),
                );
            }
            TraceKind::Retry { at, msg, attempt } => arrow(
                &mut out,
                format!(
                    "Note over {}: retry publish {msg} (attempt {attempt})",
                    who(&at.node)
                ),
            ),
            TraceKind::Redeliver {
                queue,
                msg,
                attempt,
                reason,
            } => arrow(
                &mut out,
                format!(
                    "Note over {}: {} redeliver {msg} attempt {attempt} ({})",
                    broker_of(queue),
                    t(queue),
                    reason.as_str()
                ),
            ),
            TraceKind::DeadLetter {
                queue,
                msg,
                attempts,
            } => arrow(
                &mut out,
                format!(
                    "Note over {}: {} dead-letter {msg} after {attempts} deliveries",
                    broker_of(queue),
                    t(queue)
                ),
            ),
            TraceKind::Process {
                at,
                msg,
                applied: false,
                ..
            } => arrow(
                &mut out,
                format!("Note over {}: duplicate {msg} discarded", who(&at.node)),
            ),
            TraceKind::Rejected { queue, msg, reason } => arrow(
                &mut out,
                format!(
                    "Note over {}: {} dead-letter {msg} rejected ({})",
                    broker_of(queue),
                    t(queue),
                    t(reason)
                ),
            ),
            TraceKind::Command { command } => arrow(
                &mut out,
                format!("Note over {first},{last}: @{at_time} {}", t(command)),
            ),
            _ => {}
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "    Note over {first}: {omitted} more lines omitted (limit {max_arrows})"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, SimTime, Simulation};

    fn tiny() -> Simulation {
        let json = r#"{"name":"t","nodes":[{"name":"p","kind":"service"},{"name":"b","kind":"broker"},
            {"name":"c","kind":"service"}],
            "links":[{"a":"p","b":"b","latency_ms":10},{"a":"b","b":"c","latency_ms":10}],
            "channels":[{"name":"q","kind":"queue","broker":"b","consumers":["c"]}],
            "workloads":[{"from":"p","every_ms":100,"count":1,"messages":[
              {"channel":"q","kind":"command","type":"Do"}]}],
            "policies":{"ack_timeout_ms":100}}"#;
        Simulation::from_json(json, 1).unwrap()
    }

    #[test]
    fn mermaid_of_a_partitioned_delivery() {
        let mut sim = tiny();
        sim.apply(Command::PartitionOneway {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(50), u64::MAX);
        sim.apply(Command::Repair {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_to_idle(1_000);
        let text = mermaid_sequence(sim.scenario(), sim.trace().events(), 100);
        assert_eq!(
            text,
            "sequenceDiagram
    participant n0 as p
    participant n1 as b
    participant n2 as c
    Note over n0,n2: @0.000ms partition_oneway b -> c
    n0->>n1: publish m1 @10.000ms
    n1-xn2: deliver m1 dropped (partition) @15.000ms
    n1->>n0: publish_ack m1 @20.000ms
    Note over n0,n2: @50.000ms repair b <-> c
    Note over n1: q redeliver m1 attempt 2 (ack_timeout)
    n1->>n2: deliver m1 attempt 2 @120.000ms
    n2->>n1: ack m1 @140.000ms
"
        );
        let short = mermaid_sequence(sim.scenario(), sim.trace().events(), 2);
        assert!(
            short.ends_with("    Note over n0: 6 more lines omitted (limit 2)\n"),
            "{short}"
        );
    }

    /// Names no validation should let through, each put where a name goes.
    const HOSTILE: [&str; 3] = [
        "x\n%%{init:{\"theme\":\"dark\"}}%%",
        "a\nlink n0: Docs@https://ev.il/login",
        "</text><script>\u{1}",
    ];

    /// The tiny run's scenario and trace with the nodes renamed to [`HOSTILE`] and the queue to
    /// `orders/eu` (a channel name with `/`), built past validation: exporters are public API.
    fn hostile_run() -> (Scenario, Vec<TraceEvent>) {
        let mut sim = tiny();
        sim.apply(Command::PartitionOneway {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(50), u64::MAX);
        sim.apply(Command::Repair {
            a: "b".into(),
            b: "c".into(),
        })
        .unwrap();
        sim.run_to_idle(1_000);
        fn rename(n: &str) -> &str {
            match n {
                "p" => HOSTILE[0],
                "b" => HOSTILE[1],
                "c" => HOSTILE[2],
                other => other,
            }
        }
        let mut scenario = sim.scenario().clone();
        for n in &mut scenario.nodes {
            n.name = rename(&n.name).to_string();
        }
        for c in &mut scenario.channels {
            c.name = "orders/eu".into();
            c.broker = rename(&c.broker).to_string();
        }
        let ep = |e: &crate::trace::Endpoint| crate::trace::Endpoint {
            node: rename(&e.node).into(),
            ..e.clone()
        };
        let events = sim
            .trace()
            .events()
            .map(|e| {
                let what = match &e.what {
                    TraceKind::Arrive {
                        transit,
                        from,
                        to,
                        packet,
                        msg,
                    } => TraceKind::Arrive {
                        transit: *transit,
                        from: ep(from),
                        to: ep(to),
                        packet: *packet,
                        msg: *msg,
                    },
                    TraceKind::Drop {
                        transit,
                        from,
                        to,
                        packet,
                        msg,
                        reason,
                    } => TraceKind::Drop {
                        transit: *transit,
                        from: ep(from),
                        to: ep(to),
                        packet: *packet,
                        msg: *msg,
                        reason: *reason,
                    },
                    TraceKind::Redeliver {
                        msg,
                        attempt,
                        reason,
                        ..
                    } => TraceKind::Redeliver {
                        queue: "orders/eu".into(),
                        msg: *msg,
                        attempt: *attempt,
                        reason: *reason,
                    },
                    TraceKind::Command { .. } => TraceKind::Command {
                        command: format!("crash {}#0; 5%% <b>", HOSTILE[1]),
                    },
                    other => other.clone(),
                };
                TraceEvent { what, ..e.clone() }
            })
            .collect();
        (scenario, events)
    }

    #[test]
    fn mermaid_escapes_hostile_names() {
        let (scenario, events) = hostile_run();
        let text = mermaid_sequence(&scenario, events.iter(), 100);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "sequenceDiagram",
                "    participant n0 as x #37;#37;{init:{#quot;theme#quot;:#quot;dark#quot;}}#37;#37;",
                "    participant n1 as a link n0: Docs@https://ev.il/login",
                "    participant n2 as #lt;/text>#lt;script>\u{FFFD}",
                "    Note over n0,n2: @0.000ms crash a link n0: Docs@https://ev.il/login#35;0#59; 5#37;#37; #lt;b>",
                "    n0->>n1: publish m1 @10.000ms",
                "    n1-xn2: deliver m1 dropped (partition) @15.000ms",
                "    n1->>n0: publish_ack m1 @20.000ms",
                "    Note over n0,n2: @50.000ms crash a link n0: Docs@https://ev.il/login#35;0#59; 5#37;#37; #lt;b>",
                "    Note over n1: orders/eu redeliver m1 attempt 2 (ack_timeout)",
                "    n1->>n2: deliver m1 attempt 2 @120.000ms",
                "    n2->>n1: ack m1 @140.000ms",
            ]
        );
        // Every line is a statement the exporter wrote: a known keyword or an arrow between
        // aliases, never a line a name started.
        for line in text.lines().skip(1) {
            let l = line.trim_start();
            assert!(
                l.starts_with("participant n")
                    || l.starts_with("Note over n")
                    || (l.starts_with('n') && (l.contains("->>n") || l.contains("-xn"))),
                "{line}"
            );
            assert!(!l.contains("%%"), "{line}");
        }
    }

    #[test]
    fn mermaid_text_rules() {
        assert_eq!(mermaid_text("repair b <-> c"), "repair b <-> c");
        assert_eq!(mermaid_text("loss 5% then 7%"), "loss 5% then 7%");
        assert_eq!(mermaid_text("%%x"), "#37;#37;x");
        assert_eq!(mermaid_text("a&b\"c\""), "a#amp;b#quot;c#quot;");
        assert_eq!(
            mermaid_text("<img src=x> <!-- <?"),
            "#lt;img src=x> #lt;!-- #lt;?"
        );
        assert_eq!(
            mermaid_text("a\r\nb\u{2028}c\u{85}d\te\u{0}f\u{7f}"),
            "a  b c d e\u{FFFD}f\u{FFFD}"
        );
    }

    #[test]
    fn jsonl_escapes_hostile_names() {
        let (_, events) = hostile_run();
        let text = trace_jsonl(events.iter());
        let mut nodes = std::collections::BTreeSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if !matches!(v["event"].as_str(), Some("arrive" | "drop")) {
                continue; // (only these were renamed)
            }
            for side in ["from", "to"] {
                if let Some(n) = v[side]["node"].as_str() {
                    nodes.insert(n.to_string());
                }
            }
        }
        // One line per event (a name's newline is `\n` inside its string), names exact.
        assert_eq!(text.lines().count(), events.len());
        assert_eq!(
            nodes.into_iter().collect::<Vec<_>>(),
            [HOSTILE[2], HOSTILE[1], HOSTILE[0]]
        );
        assert!(text.contains(r#""node":"x\n%%{init:{\"theme\":\"dark\"}}%%""#));
        assert!(text.contains(r#""node":"</text><script>\u0001""#));
    }

    #[test]
    fn jsonl_has_one_object_per_event() {
        let mut sim = tiny();
        sim.run_to_idle(1_000);
        let text = trace_jsonl(sim.trace().events());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, sim.trace().len_total());
        assert_eq!(
            lines[0],
            r#"{"seq":0,"time":0,"event":"send","transit":1,"from":{"node":"p","instance":0},"to":{"node":"b","instance":0},"packet":"publish","msg":1,"attempt":1,"duplicate":false}"#
        );
        for l in lines {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["event"].is_string());
        }
    }
}
