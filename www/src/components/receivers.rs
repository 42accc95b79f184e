//! Receivers and requesters: how each receiving service handles duplicates (with its
//! processed-messages or state table), and each requester's pending requests and outcomes.

use super::{cls, grid, head, panel, pill, row};
use crate::format::{format_secs, plural};
use crate::geometry::Layout;
use msgsim::scenario::{DuplicateHandling, NodeKind};
use msgsim::snapshot::{NodeView, ProcessedRow, RequestOutcome, RequestOutcomeView};
use msgsim::Snapshot;
use yew::prelude::*;

/// A requester that consumes only the replies to its requests: no business effect to compare.
pub fn only_replies(n: &NodeView) -> bool {
    n.metrics.requests > 0 && n.metrics.effects == 0 && n.metrics.effects_expected == 0
}

/// What a duplicate-handling mode does, in a few words.
pub fn handling_words(d: DuplicateHandling) -> (&'static str, &'static str) {
    match d {
        DuplicateHandling::Naive => ("naive", "applies every message it handles, repeats included"),
        DuplicateHandling::Idempotent => (
            "idempotent",
            "sets the state of the message's key: a repeat sets it again and changes nothing",
        ),
        DuplicateHandling::Dedup => (
            "dedup",
            "records each message id in a processed-messages table in the same transaction as the effect, and discards ids it has seen",
        ),
    }
}

/// The repeats cell of a table row: `2 duplicates discarded (last 3.250 s on #1)`.
pub fn repeats_words(r: &ProcessedRow, d: DuplicateHandling) -> String {
    if r.repeats == 0 {
        return "—".into();
    }
    let what = if d == DuplicateHandling::Idempotent {
        plural(u64::from(r.repeats), "repeat") + " changed nothing"
    } else {
        plural(u64::from(r.repeats), "duplicate") + " discarded"
    };
    match r.last_repeat {
        Some((t, k)) => format!("{what} (last {} on #{k})", format_secs(t)),
        None => what,
    }
}

/// The receivers panel: one block per receiving service (nothing when there is none).
pub fn receivers_panel(snapshot: &Snapshot, layout: &Layout) -> Html {
    let receivers: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            n.kind == NodeKind::Service
                && layout.consumer.get(*i) == Some(&true)
                && !only_replies(n)
        })
        .map(|(_, n)| n)
        .collect();
    if receivers.is_empty() {
        return html! {};
    }
    panel(
        "receivers",
        "receivers",
        "Receivers",
        "duplicate handling",
        html! {
            <>
                { for receivers.into_iter().map(|n| {
                    let (word, what) = handling_words(n.duplicates);
                    let m = &n.metrics;
                    let off = m.effects != m.effects_expected;
                    let table = if n.duplicates == DuplicateHandling::Idempotent { "State table (one row per key)" } else { "Processed-messages table" };
                    html! {
                        <div key={n.name.clone()} class="receiver" data-testid={format!("receiver-{}", n.name)}>
                            { head(n.name.clone(), html! { <>
                                { pill("kind", word.to_string(), what) }
                                { pill(if off { "bad" } else { "ok" }, format!("effects {} / expected {}", m.effects, m.effects_expected),
                                       "Effects applied against the effects an exactly-once run would have applied") }
                            </> }) }
                            if n.duplicates != DuplicateHandling::Naive {
                                <details class="table-box" open={true} data-testid={format!("processed-{}", n.name)}>
                                    <summary>{ format!("{table}: the newest {} rows{}", n.processed_table.len(),
                                        if m.duplicates_discarded > 0 { format!(", {} discarded", plural(m.duplicates_discarded, "duplicate")) } else { String::new() }) }</summary>
                                    { grid("", None, &["msg", "key", "by", "at", "repeats"], html! { for n.processed_table.iter().rev().map(|r| html! {
                                        <tr key={r.msg.0.to_string()} data-testid="processed-row"
                                            data-repeats={r.repeats.to_string()} class={cls("", &[(r.repeats > 0, "repeated")])}>
                                            { super::tds(vec![r.msg.to_string(), r.key.clone().unwrap_or_default(), format!("#{}", r.instance),
                                                format_secs(r.at), repeats_words(r, n.duplicates)]) }
                                        </tr>
                                    }) }) }
                                </details>
                            }
                        </div>
                    }
                }) }
            </>
        },
    )
}

/// `1 reply`, `7 replies`.
pub fn replies(n: u64) -> String {
    if n == 1 {
        "1 reply".into()
    } else {
        format!("{n} replies")
    }
}

/// How a request ended, in words: `completed in 84 ms`, `decided with 2 of 3 replies (a, c)`.
pub fn outcome_words(o: &RequestOutcomeView) -> String {
    let took = crate::format::format_us(o.finished_at.as_us().saturating_sub(o.sent_at.as_us()));
    match o.outcome {
        RequestOutcome::Completed => format!("completed in {took}"),
        RequestOutcome::TimedOut => format!("timed out after {took}"),
        RequestOutcome::Decided => format!(
            "decided with {} of {} replies{}",
            o.replies,
            o.expected,
            if o.responders.is_empty() {
                String::new()
            } else {
                format!(" ({})", o.responders.join(", "))
            }
        ),
        RequestOutcome::Abandoned => "abandoned: its instance crashed".into(),
    }
}

/// The requests panel: per requesting service, its pending requests, its recent outcomes, and
/// the replies it discarded (nothing when no service sends requests).
pub fn requests_panel(snapshot: &Snapshot) -> Html {
    let requesters: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .filter(|n| n.metrics.requests > 0 || !n.requests.is_empty())
        .collect();
    if requesters.is_empty() {
        return html! {};
    }
    panel(
        "requests",
        "requests",
        "Requests",
        "replies correlated by message id",
        html! {
            <>
                { for requesters.into_iter().map(|n| {
                    let m = &n.metrics;
                    let mut says = format!("{}: {} sent, {} completed, {} timed out, {} decided.", n.name, m.requests, m.requests_completed, m.requests_timed_out, m.decisions);
                    if m.late_replies > 0 {
                        says.push_str(&format!(" {} came after the request had timed out or its window had closed: discarded as late, never handed to another request.", replies(m.late_replies)));
                    }
                    if m.duplicate_replies > 0 {
                        says.push_str(&format!(" {} answered a request already answered: discarded as duplicates.", replies(m.duplicate_replies)));
                    }
                    let now = snapshot.time;
                    html! {
                        <div key={n.name.clone()} class="requester" data-testid={format!("requests-{}", n.name)}>
                            <p class="says">{ says }</p>
                            { grid("", None, &["request", "sent", "state"], html! { <>
                                { for n.requests.iter().map(|r| row(format!("p{}", r.msg.0), Some("request-pending"), "pending".into(),
                                    format!("{} from #{}", r.type_name, r.instance), vec![r.msg.to_string(), format_secs(r.sent_at),
                                    format!("{} {}/{} replies, {} left", if r.collect { "collecting" } else { "waiting" }, r.replies, r.expected,
                                        crate::format::format_us(r.until.as_us().saturating_sub(now.as_us())))])) }
                                { for n.request_outcomes.iter().rev().map(|o| {
                                    let bad = matches!(o.outcome, RequestOutcome::TimedOut | RequestOutcome::Abandoned) || o.replies < o.expected;
                                    row(format!("o{}", o.msg.0), Some("request-outcome"), cls("", &[(bad, "warn")]), o.type_name.clone(),
                                        vec![o.msg.to_string(), format_secs(o.sent_at), outcome_words(o)])
                                }) }
                            </> }) }
                        </div>
                    }
                }) }
            </>
        },
    )
}
