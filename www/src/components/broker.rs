//! The broker panel: every channel with its properties (durable or not, duplicate detection,
//! handler failures, brokerless), each queue or subscription with its depths and counters, the
//! dead-letter queues message by message, and each broker's backlog.

use super::{cls, grid, head, panel, pill, row, tds};
use crate::format::{format_secs, format_us, plural};
use msgsim::scenario::{ChannelKind, NackAction};
use msgsim::snapshot::{BrokerView, ChannelView, DeadLetterReason, QueueView};
use msgsim::Snapshot;
use yew::prelude::*;

/// The words of a dead-letter reason (RabbitMQ's `x-death` reason) and what it means.
pub fn reason_words(r: DeadLetterReason) -> (&'static str, &'static str) {
    match r {
        DeadLetterReason::DeliveryLimit => (
            "delivery_limit",
            "delivered max_delivery_attempts times without an ack",
        ),
        DeadLetterReason::Rejected => ("rejected", "a consumer nacked it without requeue"),
    }
}

/// The sentence under a broker's backlog bar: how long a packet arriving now waits.
pub fn backlog_sentence(name: &str, b: &BrokerView) -> String {
    let mut s = format!(
        "{name}: backlog {} (max {}) at {} per packet",
        plural(u64::from(b.backlog), "packet"),
        b.backlog_max,
        format_us(b.service_time_us)
    );
    if b.backlog > 0 {
        s.push_str(&format!(
            ": a packet arriving now waits about {} before the broker handles it",
            format_us(b.service_time_us.saturating_mul(u64::from(b.backlog)))
        ));
    }
    s.push_str(&format!("; {} handled", b.handled));
    if b.backlog_lost > 0 {
        s.push_str(&format!(", {} lost from the backlog", b.backlog_lost));
    }
    s.push('.');
    s
}

fn badges(ch: &ChannelView) -> Html {
    let kind = match ch.kind {
        ChannelKind::Topic => "topic",
        ChannelKind::Queue => "queue",
        ChannelKind::Direct => "direct",
        ChannelKind::PartitionedTopic => "partitioned topic",
    };
    html! {
        <>
            { pill("kind", kind.to_string(), "") }
            if let Some(to) = &ch.direct_to {
                { pill("warn", format!("brokerless → {to}"), "Sent straight to the receiver's instances: nothing is buffered, acked or retried") }
            } else if ch.durable {
                { pill("ok", "durable".into(), "Its queues survive a broker crash") }
            } else {
                { pill("warn", "non-durable".into(), "A broker crash empties its queues") }
            }
            if ch.dedup_window_ms > 0 {
                { pill("", format!("dedup window {} ms · {} dropped", ch.dedup_window_ms, ch.duplicates_dropped),
                       &format!("Broker-side duplicate detection by message id; {} ids remembered now", ch.dedup_ids)) }
            }
            if ch.failure_percent > 0.0 {
                { pill("warn", format!("handler fails {}% → {}", crate::format::format_field(ch.failure_percent),
                        if ch.on_failure == NackAction::Requeue { "requeue" } else { "dead-letter" }),
                       "A failed handler applies nothing and nacks the delivery") }
            }
        </>
    }
}

/// Which optional columns a channel's queue table shows: nacks (when its handlers can fail)
/// and losses (when it is not durable), besides ready, unacked, redelivered and dead.
fn columns(ch: &ChannelView) -> (bool, bool) {
    (
        ch.failure_percent > 0.0 || ch.queues.iter().any(|q| q.nacked > 0),
        !ch.durable || ch.queues.iter().any(|q| q.lost > 0),
    )
}

fn queue_rows(q: &QueueView, (nack, lost): (bool, bool)) -> Html {
    let mut cells = vec![
        q.ready.to_string(),
        q.unacked.to_string(),
        q.redelivered.to_string(),
    ];
    if nack {
        cells.push(q.nacked.to_string());
    }
    html! {
        <>
            <tr key={q.name.clone()} data-testid={format!("queue-row-{}", q.name)}>
                <th scope="row" title={format!("consumer {}", q.consumer)}>{ &q.name }</th>
                { tds(cells) }
                <td class={cls("", &[(q.dead_letters > 0, "bad")])}>{ q.dead_letters }</td>
                if lost {
                    <td class={cls("", &[(q.lost > 0, "bad")])}>{ q.lost }</td>
                }
            </tr>
            if !q.dead_letter_queue.is_empty() {
                <tr key={format!("{}-dlq", q.name)} class="sub"><td colspan="7">
                    <details class="dlq" open={true} data-testid={format!("dlq-{}", q.name)}>
                        <summary>{ format!("Dead letters of {} ({}{})", q.name, q.dead_letters,
                            if q.dead_letters as usize > q.dead_letter_queue.len() { format!(", last {} shown", q.dead_letter_queue.len()) } else { String::new() }) }</summary>
                        { grid("", None, &["msg", "type", "key", "deliveries", "reason", "at"], html! { for q.dead_letter_queue.iter().map(|d| {
                            let (word, why) = reason_words(d.reason);
                            row(d.msg.0.to_string(), Some("dlq-row"), String::new(), why.into(), vec![d.msg.to_string(),
                                format!("{} {}", d.kind.as_str(), d.type_name), d.key.clone().unwrap_or_default(),
                                d.deliveries.to_string(), word.to_string(), format_secs(d.at)])
                        }) }) }
                    </details>
                </td></tr>
            }
        </>
    }
}

/// The broker panel (nothing when the scenario has no channel).
///
/// A plain function rather than a component: its input changes every frame anyway, and each
/// component type costs kilobytes of wasm.
pub fn broker_panel(s: &Snapshot) -> Html {
    if s.channels.is_empty() {
        return html! {};
    }
    let m = &s.metrics;
    panel(
        "broker-panel",
        "broker-panel",
        "Broker",
        "channels, queues, dead letters",
        html! {
            <>
                { for s.nodes.iter().filter_map(|n| {
                    let b = n.broker.as_ref().filter(|b| b.service_time_us > 0 || b.backlog_max > 0)?;
                    let full = f64::from(b.backlog) / f64::from(b.backlog_max.max(1)) * 100.0;
                    Some(html! {
                        <div key={n.name.clone()} class="backlog" data-testid={format!("backlog-{}", n.name)}>
                            <div class="bar"><span style={format!("width:{}%", crate::format::fixed(full, 1))}></span></div>
                            <p>{ backlog_sentence(&n.name, b) }</p>
                        </div>
                    })
                }) }
                { for s.channels.iter().map(|ch| { let cols = columns(ch); html! {
                    <div key={ch.name.clone()} class="channel" data-testid={format!("channel-{}", ch.name)}>
                        { head(ch.name.clone(), badges(ch)) }
                        if !ch.queues.is_empty() {
                            { grid("queues", None, &[&["queue / subscription", "ready", "unacked", "redeliv."][..], if cols.0 { &["nacked"] } else { &[] }, &["dead"], if cols.1 { &["lost"] } else { &[] }].concat(),
                                html! { for ch.queues.iter().map(|q| queue_rows(q, cols)) }) }
                        }
                    </div>
                } }) }
                if m.direct_sent > 0 {
                    <p class="hint">{ format!("Brokerless: {} sent, {} lost (dropped on the link, at a crashed receiver, in its memory or in a failed handler).", m.direct_sent, m.direct_lost) }</p>
                }
                if m.broker_lost > 0 {
                    <p class="hint bad">{ format!("{} lost from non-durable queues when the broker crashed.", plural(m.broker_lost, "message")) }</p>
                }
            </>
        },
    )
}
