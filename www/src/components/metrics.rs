//! Run-wide counters and per-service effects, with the duplicate arithmetic said in words.

use super::cls;
use crate::format::{capitalize, plural};
use msgsim::scenario::{DuplicateHandling, NodeKind};
use msgsim::snapshot::NodeView;
use msgsim::Snapshot;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`MetricsPanel`].
#[derive(Properties, PartialEq)]
pub struct MetricsProps {
    /// Counters come from here.
    pub snapshot: Rc<Snapshot>,
    /// Which nodes are receivers.
    pub layout: Rc<crate::geometry::Layout>,
}

/// The sentence for one service: effects compared with distinct messages.
pub fn effect_sentence(n: &NodeView) -> Option<String> {
    let m = &n.metrics;
    let name = capitalize(&n.name);
    let effect = if n.effect.is_empty() {
        "effects applied".to_string()
    } else {
        n.effect.clone()
    };
    if m.processed == 0 {
        return (m.published > 0).then(|| {
            let mut s = format!(
                "{name}: {effect} {}, {} confirmed by the broker",
                m.published, m.confirmed
            );
            if m.retried > 0 {
                s.push_str(&format!(", {} after retries", plural(m.retried, "retry")));
            }
            if m.publish_failed > 0 {
                s.push_str(&format!(", {} given up", m.publish_failed));
            }
            s.push('.');
            s
        });
    }
    let extra = m.effects.saturating_sub(m.distinct);
    Some(match n.duplicates {
        DuplicateHandling::Naive if extra > 0 => format!(
            "{name}: {effect} {} for {} distinct messages — {} applied twice (naive receiver).",
            m.effects,
            m.distinct,
            plural(extra, "duplicate")
        ),
        DuplicateHandling::Naive => format!(
            "{name}: {effect} {} for {} distinct messages — no duplicate so far.",
            m.effects, m.distinct
        ),
        DuplicateHandling::Idempotent => format!(
            "{name}: {effect} {} for {} distinct messages; repeats of an idempotent operation change nothing.",
            m.effects, m.distinct
        ),
        DuplicateHandling::Dedup => format!(
            "{name}: {effect} {} for {} distinct messages; deduplication discarded {}.",
            m.effects,
            m.distinct,
            plural(m.duplicates_discarded, "repeat")
        ),
    })
}

/// Run-wide names shown, in order: `(name, label, help)`.
pub const METRICS: &[(&str, &str, &str)] = &[
    ("published", "published", "Messages created by workloads"),
    (
        "sent",
        "sent",
        "Packets put on the network (publishes, confirms, deliveries, acks)",
    ),
    (
        "delivered",
        "delivered",
        "Packets that reached a running node",
    ),
    (
        "dropped",
        "dropped",
        "Packets lost: loss, partition, crashed receiver, full buffer",
    ),
    (
        "duplicated",
        "duplicated",
        "Extra copies made by the network",
    ),
    (
        "redelivered",
        "redelivered",
        "Deliveries the broker made again",
    ),
    ("retried", "retried", "Publishes a producer retried"),
    ("acked", "acked", "Acks the broker received"),
    ("processed", "processed", "Handler runs in services"),
    ("effects", "effects", "Business effects applied"),
    (
        "duplicates_discarded",
        "dedup discarded",
        "Repeats discarded by deduplicating receivers",
    ),
    (
        "publish_failed",
        "publish failed",
        "Publishes abandoned after the last attempt",
    ),
    (
        "dead_lettered",
        "dead-lettered",
        "Messages moved to a dead-letter queue",
    ),
];

/// The value of the run-wide counter `name`.
pub fn metric_value(m: &msgsim::Metrics, name: &str) -> u64 {
    match name {
        "published" => m.published,
        "sent" => m.sent,
        "delivered" => m.delivered,
        "dropped" => m.dropped,
        "duplicated" => m.duplicated,
        "redelivered" => m.redelivered,
        "retried" => m.retried,
        "acked" => m.acked,
        "processed" => m.processed,
        "effects" => m.effects,
        "duplicates_discarded" => m.duplicates_discarded,
        "publish_failed" => m.publish_failed,
        "dead_lettered" => m.dead_lettered,
        _ => 0,
    }
}

/// The metrics panel.
#[function_component(MetricsPanel)]
pub fn metrics_panel(p: &MetricsProps) -> Html {
    let m = &p.snapshot.metrics;
    let services: Vec<&NodeView> = p
        .snapshot
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Service)
        .collect();
    // Receivers only in the table: a pure producer has nothing to compare.
    let receivers = p
        .snapshot
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            n.kind == NodeKind::Service && p.layout.consumer.get(*i).copied().unwrap_or(true)
        })
        .map(|(_, n)| n);
    html! {
        <section class="panel metrics" aria-label="Metrics">
            <h2>{ "Metrics" }</h2>
            <dl class="counters">
                { for METRICS.iter().map(|(name, label, help)| {
                    let v = metric_value(m, name);
                    let alarming = matches!(*name, "dropped" | "dead_lettered" | "publish_failed") && v > 0;
                    html! {
                        <div key={*name} class={cls("counter", &[(alarming, "alarm")])} title={*help}>
                            <dt>{ *label }</dt>
                            <dd><span data-testid={format!("metric-{name}")}>{ v }</span></dd>
                        </div>
                    }
                }) }
            </dl>
            <table class="services">
                <thead>
                    <tr><th>{ "service" }</th><th>{ "processed" }</th><th>{ "distinct" }</th><th>{ "effects" }</th></tr>
                </thead>
                <tbody>
                    { for receivers.map(|n| {
                        let doubled = n.duplicates == DuplicateHandling::Naive && n.metrics.effects > n.metrics.distinct;
                        html! {
                            <tr key={n.name.clone()}>
                                <th scope="row">{ &n.name }</th>
                                <td data-testid={format!("svc-{}-processed", n.name)}>{ n.metrics.processed }</td>
                                <td data-testid={format!("svc-{}-distinct", n.name)}>{ n.metrics.distinct }</td>
                                <td data-testid={format!("svc-{}-effects", n.name)} class={cls("", &[(doubled, "doubled")])}>{ n.metrics.effects }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            <ul class="sentences" data-testid="effect-sentences">
                { for services.iter().filter_map(|n| effect_sentence(n).map(|s| {
                    let doubled = n.duplicates == DuplicateHandling::Naive && n.metrics.effects > n.metrics.distinct;
                    html! { <li key={n.name.clone()} class={cls("", &[(doubled, "doubled")])}>{ s }</li> }
                })) }
            </ul>
        </section>
    }
}
