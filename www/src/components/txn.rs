//! Transactional messaging, drawn from `Snapshot::transactional`: each service database (its
//! OUTBOX rows with their published flag, or its commit log with the relay's positions), its
//! relay and the relay's window, the dual-write comparison, the broker's append log per channel
//! and each consumer's apply order, replicas and their lag, and clients' status timelines.

use super::{cls, grid, head, panel, pill, row, tds};
use crate::format::{format_secs, format_us, plural};
use msgsim::outbox::view::{
    ChannelLogView, ConsumerOrderView, DatabaseView, LogOp, RelayState, RelayView, TxPurpose,
    WindowState,
};
use msgsim::outbox::{MarkMode, RelayMode, Strategy};
use msgsim::Snapshot;
use yew::prelude::*;

/// A chip: a short text with a hover title and a tone class.
#[inline(never)]
fn chip(key: String, class: &str, text: String, title: String) -> Html {
    html! { <span key={key} class={cls("chip", &[(true, class)])} title={title}>{ text }</span> }
}

/// The word of a commit log change.
pub fn op_word(op: LogOp) -> &'static str {
    match op {
        LogOp::Insert => "insert",
        LogOp::Update => "update",
        LogOp::Delete => "delete",
    }
}

/// The state word of a relay.
pub fn relay_state_word(s: RelayState) -> &'static str {
    match s {
        RelayState::Running => "running",
        RelayState::Paused => "paused",
        RelayState::Stopped => "stopped",
        RelayState::Crashed => "crashed",
    }
}

/// What a relay does, in words: `polling publisher, marks rows, strict (1 in flight)`.
pub fn relay_words(r: &RelayView) -> String {
    let mode = match (r.mode, r.after_publish) {
        (RelayMode::LogTailing, _) => "log tailing",
        (RelayMode::Polling, MarkMode::Mark) => "polling publisher, marks rows published",
        (RelayMode::Polling, MarkMode::Delete) => "polling publisher, deletes published rows",
    };
    if r.max_in_flight <= 1 {
        format!("{mode}, strict (1 in flight)")
    } else {
        format!("{mode}, pipelined ({} in flight)", r.max_in_flight)
    }
}

/// A strategy's name in the dual-write table.
pub fn strategy_words(s: Strategy) -> &'static str {
    match s {
        Strategy::Outbox => "outbox",
        Strategy::CommitThenPublish => "commit, then publish",
        Strategy::PublishThenCommit => "publish, then commit",
    }
}

/// Where a commit log record stands for a log-tailing relay: `saved`, `confirmed`, `read` or
/// `unread` (the class), and the markers of the positions that sit on it.
pub fn log_mark(lsn: u64, r: &RelayView) -> (&'static str, String) {
    let class = if lsn <= r.saved_position {
        "saved"
    } else if lsn <= r.position {
        "confirmed"
    } else if lsn <= r.read_upto {
        "read"
    } else {
        "unread"
    };
    let mut marks = Vec::new();
    if lsn == r.saved_position {
        marks.push("◂ saved position");
    }
    if lsn == r.position && r.position != r.saved_position {
        marks.push("◂ confirmed up to");
    }
    if lsn == r.read_upto && r.read_upto != r.position {
        marks.push("◂ read up to");
    }
    (class, marks.join(" "))
}

fn relay_block(r: &RelayView) -> Html {
    let m = &r.metrics;
    let state = relay_state_word(r.state);
    let mut counts = format!(
        "published {} ({} again) · confirmed {}",
        m.publishes, m.republished, m.confirmed
    );
    for (n, w) in [
        (m.rejected, "rejected"),
        (m.timeouts, "timed out"),
        (m.rewinds, "rewinds"),
        (m.marked, "marked"),
        (m.deleted, "deleted"),
        (m.saves, "position saves"),
        (m.crashes, "crashes"),
    ] {
        if n > 0 {
            counts.push_str(&format!(" · {w} {n}"));
        }
    }
    html! {
        <div class="relay-block" data-testid={format!("relay-{}", r.node)} data-state={state}>
            { head(r.node.clone(), html! { <>
                { pill(match r.state { RelayState::Running => "ok", RelayState::Crashed => "bad", _ => "warn" }, state.to_string(), "") }
                { pill("kind", relay_words(r), "") }
            </> }) }
            if r.mode == RelayMode::LogTailing {
                <p class="says">{ format!("Saved position {} (durable) · confirmed up to {} · read up to {}. A crash restarts after {}: whatever it had published beyond that is published again.",
                    r.saved_position, r.position, r.read_upto, r.saved_position) }</p>
            }
            <p class="chips" aria-label="window">
                <span class="label">{ "window " }</span>
                if r.window.is_empty() {
                    <span class="hint">{ if r.marking { "marking the batch…" } else { "empty" } }</span>
                }
                { for r.window.iter().map(|w| {
                    let (class, word) = match w.state {
                        WindowState::Unsent => ("unsent", "read, not yet published"),
                        WindowState::InFlight => ("in-flight", "published, confirm awaited"),
                        WindowState::Confirmed => ("confirmed", "confirmed by the broker"),
                    };
                    chip(w.lsn.to_string(), class, format!("row {}", w.row),
                         format!("{} key {} · LSN {} · attempt {}: {word}", w.msg, w.key, w.lsn, w.attempt))
                }) }
            </p>
            <p class="hint">{ counts }</p>
        </div>
    }
}

fn database(d: &DatabaseView, relay: Option<&RelayView>) -> Html {
    let m = &d.metrics;
    let why = format!(
        "aborted {}, crashed {}, table full {}, log full {}; refused at begin {}",
        m.aborted, m.crashed, m.table_full, m.log_full, m.refused
    );
    let tables = d
        .tables
        .iter()
        .map(|t| format!("{} {} rows", t.name, t.rows))
        .collect::<Vec<_>>()
        .join(" · ");
    let tailing = relay.filter(|r| r.mode == RelayMode::LogTailing);
    html! {
        <div class="db" data-testid={format!("db-{}", d.service)}>
            { head(format!("{} database", d.service), html! { <>
                { pill("ok", format!("committed {}", m.committed), "") }
                { pill(if m.rolled_back > 0 { "bad" } else { "" }, format!("rolled back {}", m.rolled_back), &why) }
                { pill("", format!("in flight {}", d.in_flight), "Transactions begun, not yet committed (their rows are invisible)") }
            </> }) }
            <p class="hint">{ format!("Tables: {tables}{}", match (m.outbox_rows > 0, tailing.is_some()) {
                (false, _) => String::new(),
                (true, true) => format!(" · OUTBOX {} rows (never marked: the relay follows the commit log)", d.outbox.rows),
                (true, false) => format!(" · OUTBOX {} rows ({} unpublished)", d.outbox.rows, d.outbox.unpublished),
            }) }</p>
            if !d.transactions.is_empty() {
                <p class="chips"><span class="label">{ "in flight " }</span>
                    { for d.transactions.iter().map(|t| chip(t.id.to_string(), "tx", format!("tx{}", t.id),
                        format!("{}#{} {}: {} row(s){}; began {}, commits at {}", t.owner, t.instance,
                            match t.purpose { TxPurpose::Write => "write", TxPurpose::Handler => "handler", TxPurpose::Mark => "mark published" }, t.writes,
                            t.outbox_row.map(|r| format!(" + OUTBOX row {r}")).unwrap_or_default(), format_secs(t.began_at), format_secs(t.ends_at)))) }
                </p>
            }
            if let Some(r) = relay {
                { relay_block(r) }
            }
            if let Some(r) = tailing {
                <details class="table-box" open={true} data-testid={format!("commit-log-{}", d.service)}>
                    <summary>{ format!("Commit log: LSN {}–{} ({} records, the newest {} shown)", d.log.first_lsn, d.log.last_lsn, d.log.records, d.log.recent.len()) }</summary>
                    { grid("log", None, &["LSN", "tx", "change", "key", "msg", "relay"], html! { for d.log.recent.iter().rev().map(|rec| {
                        let (class, mark) = log_mark(rec.lsn, r);
                        row(rec.lsn.to_string(), Some("log-record"), class.into(), String::new(), vec![rec.lsn.to_string(), rec.tx.to_string(),
                            format!("{} {} #{}", op_word(rec.op), rec.table, rec.row), rec.key.clone(), rec.msg.map(|m| m.to_string()).unwrap_or_default(), mark])
                    }) }) }
                </details>
            } else if m.outbox_rows > 0 && d.outbox.recent.is_empty() {
                <p class="hint" data-testid={format!("outbox-{}", d.service)}>{ "OUTBOX: empty — every row has been published and deleted." }</p>
            } else if m.outbox_rows > 0 {
                <details class="table-box" open={true} data-testid={format!("outbox-{}", d.service)}>
                    <summary>{ format!("OUTBOX: {} rows, {} unpublished (the oldest unpublished, then the newest published)", d.outbox.rows, d.outbox.unpublished) }</summary>
                    { grid("", None, &["id", "msg", "aggregate", "type", "LSN", "committed", "published"], html! { for d.outbox.recent.iter().map(|o| html! {
                        <tr key={o.id.to_string()} data-testid="outbox-row" data-id={o.id.to_string()} title={format!("to channel {}", o.destination)}
                            data-published={o.published.to_string()} class={cls("", &[(!o.published, "unpublished")])}>
                            { tds(vec![o.id.to_string(), o.msg.to_string(), o.aggregate_id.clone(), o.event_type.clone(),
                                o.lsn.to_string(), format_secs(o.committed_at), if o.published { "✓ yes".into() } else { "no".into() }]) }
                        </tr>
                    }) }) }
                </details>
            }
        </div>
    }
}

/// Chips of a channel's append log: the OUTBOX row (or the message) of each append, in the
/// order the broker appended them; republished ones marked.
fn append_log(c: &ChannelLogView) -> Html {
    html! {
        <div class="appends" data-testid={format!("appends-{}", c.channel)}>
            { head(c.channel.clone(), html! { <>
                { pill("", format!("{} appended", c.appended), "Records the broker appended to this channel") }
                if c.rejected > 0 || c.rejections_armed > 0 {
                    { pill("warn", format!("{} rejected{}", c.rejected, if c.rejections_armed > 0 { format!(", {} armed", c.rejections_armed) } else { String::new() }),
                        "Publishes the broker nacked (reject_next_publish)") }
                }
            </> }) }
            <p class="chips">
                { for c.recent.iter().enumerate().map(|(k, a)| chip(k.to_string(), if a.attempt > 1 { "again" } else { "" },
                    a.row.map(|r| format!("#{r}")).unwrap_or_else(|| a.msg.to_string()),
                    format!("{} key {} from {}, attempt {} at {}", a.msg, a.key.as_deref().unwrap_or("-"), a.producer, a.attempt, format_secs(a.at)))) }
            </p>
        </div>
    }
}

/// Which of a consumer's recent effects came after a later OUTBOX row of the same key (by row
/// id): the reordering made visible. Effects without a row are never marked.
pub fn reordered_marks(c: &ConsumerOrderView) -> Vec<bool> {
    // Few keys and at most VIEW_APPLIED effects: a list is enough (and smaller than a map).
    let mut latest: Vec<(&str, u64)> = Vec::new();
    c.recent
        .iter()
        .map(|a| {
            let Some(row) = a.row else { return false };
            match latest.iter_mut().find(|(k, _)| *k == a.key) {
                Some((_, top)) => {
                    let late = row < *top;
                    *top = (*top).max(row);
                    late
                }
                None => {
                    latest.push((&a.key, row));
                    false
                }
            }
        })
        .collect()
}

fn apply_order(c: &ConsumerOrderView) -> Html {
    let marks = reordered_marks(c);
    html! {
        <div class="appends" data-testid={format!("apply-order-{}", c.node)}>
            { head(format!("{} applied", c.node), html! { <>
                { pill("", format!("{} effects", c.applied), "") }
                { pill(if c.reordered > 0 { "bad" } else { "ok" }, format!("{} out of order", c.reordered),
                    "Effects applied after a later event of the same key (by commit order)") }
            </> }) }
            <p class="chips">
                { for c.recent.iter().zip(marks).enumerate().map(|(k, (a, late))| chip(k.to_string(), if late { "late" } else { "" },
                    a.row.map(|r| format!("#{r}")).unwrap_or_else(|| a.msg.to_string()),
                    format!("{} key {}{} at {}{}", a.msg, a.key, a.row.map(|r| format!(" (OUTBOX row {r})")).unwrap_or_default(), format_secs(a.at),
                        if late { ": applied after a later row of this key" } else { "" }))) }
            </p>
        </div>
    }
}

/// The transactional panels (nothing for a scenario without databases).
pub fn transactional_panels(snapshot: &Snapshot) -> Html {
    let t = &snapshot.transactional;
    if t.databases.is_empty() && t.relays.is_empty() {
        return html! {};
    }
    let logs: Vec<_> = t
        .channel_logs
        .iter()
        .filter(|c| c.appended > 0 || c.rejected > 0)
        .collect();
    let dbs = html! {
        <>
            <div class="dbs">
                { for t.databases.iter().map(|d| database(d, t.relays.iter().find(|r| r.service == d.service))) }
            </div>
            { for t.relays.iter().filter(|r| !t.databases.iter().any(|d| d.service == r.service)).map(relay_block) }
            if !t.armed.is_empty() {
                <p class="hint bad">{ format!("Armed failpoints: {}", t.armed.iter().map(|a| format!("{}#{} at {}", a.node, a.instance, a.point.as_str())).collect::<Vec<_>>().join(", ")) }</p>
            }
        </>
    };
    let strategies = html! {
        <>
            { grid("", None, &["service", "strategy", "ops", "committed", "rolled back", "published", "pending", "lost", "phantom", "dup."],
                html! { for t.strategies.iter().map(|s| html! {
                    <tr key={format!("{}-{}", s.service, s.strategy.as_str())} data-testid={format!("strategy-{}-{}", s.service, s.strategy.as_str())}>
                        <th scope="row">{ &s.service }</th>
                        { tds(vec![strategy_words(s.strategy).into(), s.operations.to_string(), s.committed.to_string(), s.rolled_back.to_string(),
                            s.published.to_string(), s.pending.to_string()]) }
                        { for [s.lost, s.phantom, s.duplicates].into_iter().map(|v| html! { <td class={cls("", &[(v > 0, "bad")])}>{ v }</td> }) }
                    </tr>
                }) }) }
            <p class="hint">{ "Lost: committed, never published, and nothing will publish it. Phantom: published although its transaction rolled back. Dup.: extra appends of the same event. Pending: an OUTBOX row, a retry or a copy on the wire still carries it." }</p>
        </>
    };
    let replicas = html! { for t.replicas.iter().map(|r| html! {
        <div key={r.node.clone()} class="replica" data-testid={format!("replica-{}", r.node)}>
            { head(format!("{}: replica of {}.{}", r.node, r.source, r.table), html! { <>
                { pill(if r.behind > 0 { "warn" } else { "ok" }, format!("lag now {}", format_us(r.lag_now_us)), "Time since the oldest source commit not yet applied") }
                { pill("", format!("max {} · mean {}", format_us(r.max_lag_us), format_us(r.mean_lag_us)), "Applied time − source commit time") }
            </> }) }
            <p class="says">{ format!("{} rows, {} events applied ({} stale ignored), {} behind. {} queries, {} hits, {} served while {} was down, {} stale reads.",
                r.rows, r.applied, r.stale_ignored, r.behind, r.queries, r.hits, r.served_while_source_down, r.source, r.stale_reads) }</p>
            { grid("", None, &["key", "version", "event", "applied", "lag"], html! { for r.recent.iter().map(|x| row(x.key.clone(), None, String::new(),
                format!("committed at the source at {}", format_secs(x.source_committed_at)),
                vec![x.key.clone(), x.version.to_string(), x.event_type.clone(), format_secs(x.applied_at),
                    format_us(x.applied_at.as_us().saturating_sub(x.source_committed_at.as_us()))])) }) }
        </div>
    }) };
    let timelines = grid(
        "timeline",
        None,
        &["request", "polls", "status over time"],
        html! { for t.requests.iter().rev().map(|r| html! {
            <tr key={format!("{}-{}", r.client, r.key)} class={cls("", &[(!r.done, "pending")])}>
                <th scope="row" title={format!("{}#{}", r.client, r.instance)}>{ &r.key }</th>
                <td>{ r.sent }</td>
                <td class="chips">
                    { for r.timeline.iter().enumerate().map(|(k, s)| chip(k.to_string(), &s.status, format!("{} {}", s.status, format_secs(s.at)), String::new())) }
                    if r.dropped_points > 0 {
                        <span class="hint">{ format!("+{} more", plural(u64::from(r.dropped_points), "change")) }</span>
                    }
                </td>
            </tr>
        }) },
    );
    html! {
        <>
            { panel("txn wide", "databases", "Databases and relays", "OUTBOX, commit log, relay window", dbs) }
            if !t.strategies.is_empty() {
                { panel("txn wide", "strategies", "Dual write vs outbox", "every business change and its event", strategies) }
            }
            if !logs.is_empty() || !t.consumers.is_empty() {
                { panel("txn", "append-logs", "Order on the way", "broker append log per channel, then each consumer's apply order",
                    html! { <>{ for logs.into_iter().map(append_log) }{ for t.consumers.iter().map(apply_order) }</> }) }
            }
            if !t.replicas.is_empty() {
                { panel("txn", "replicas", "Replicas", "read-only copies kept up to date by events", replicas) }
            }
            if !t.requests.is_empty() {
                { panel("txn", "timelines", "Client requests", "202 Accepted, then polling: the status as the client saw it", timelines) }
            }
        </>
    }
}
