//! Exports of a run: the trace as JSON Lines and as a Mermaid `sequenceDiagram`.
//!
//! Both are pure functions of the trace (and the scenario, for the participants), so they can be
//! produced natively, in tests or in the browser.

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
    let broker_of = |queue: &str| {
        scenario
            .channels
            .iter()
            .find(|c| queue.split('/').next() == Some(c.name.as_str()))
            .map(|c| who(&c.broker))
            .unwrap_or_else(|| "unknown".into())
    };
    let mut out = String::from("sequenceDiagram\n");
    for (i, n) in scenario.nodes.iter().enumerate() {
        let _ = writeln!(out, "    participant n{i} as {}", n.name);
    }
    // Which sends were duplicates, and their attempt, by transit id.
    let mut sends: BTreeMap<u64, (u32, bool)> = BTreeMap::new();
    let mut arrows = 0usize;
    let mut omitted = 0usize;
    for e in events {
        let t = e.time;
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
                        "{}->>{}: {}{}{}{} @{t}",
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
                        "{}-x{}: {}{} dropped ({}){} @{t}",
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
                    "Note over {}: {queue} redeliver {msg} attempt {attempt} ({})",
                    broker_of(queue),
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
                    "Note over {}: {queue} dead-letter {msg} after {attempts} deliveries",
                    broker_of(queue)
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
                    "Note over {}: {queue} dead-letter {msg} rejected ({})",
                    broker_of(queue),
                    reason.replace(';', ",")
                ),
            ),
            TraceKind::Command { command } => {
                let first = who(&scenario.nodes[0].name);
                let last = who(&scenario.nodes[scenario.nodes.len() - 1].name);
                arrow(
                    &mut out,
                    format!(
                        "Note over {first},{last}: @{t} {}",
                        command.replace(';', ",")
                    ),
                );
            }
            _ => {}
        }
    }
    if omitted > 0 {
        let first = who(&scenario.nodes[0].name);
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
