//! The brief's factors for selecting a message broker, each pointing to the built-in scenario
//! that shows it (issue 11: "the broker-selection factors as a table pointing to the scenario
//! that shows each").

use crate::state::Action;
use yew::prelude::*;

/// `(factor, what to look for, built-in scenarios that show it)`, in the brief's order.
pub const FACTORS: &[(&str, &str, &[&str])] = &[
    (
        "Supported programming languages",
        "Not simulated: every service here is the same engine. The JS API and the Rust API script any scenario.",
        &[],
    ),
    (
        "Supported messaging standards",
        "AMQP's ack, nack, prefetch and dead-letter queue; Kafka's partitions, offsets and consumer groups.",
        &["dead-letter-queue", "partitioned-orders"],
    ),
    (
        "Message ordering",
        "Order per key holds within a partition and breaks with competing consumers or parallel workers.",
        &["partitioned-orders", "outbox-ordering", "idempotent-producer"],
    ),
    (
        "Delivery guarantees",
        "At-least-once delivery duplicates effects; a deduplication window or an idempotent consumer removes them.",
        &["order-events", "duplicate-handling", "broker-dedup-window"],
    ),
    (
        "Persistence",
        "A log keeps records after they are read: a consumer group resumes from its committed offsets.",
        &["consumer-offsets"],
    ),
    (
        "Durability",
        "A durable queue survives a broker restart; a transient one loses what it held.",
        &["broker-durability"],
    ),
    (
        "Scalability",
        "One broker is a bottleneck under a burst; more consumers drain a backlog faster.",
        &["broker-bottleneck", "competing-consumers", "parallel-workers"],
    ),
    (
        "Latency",
        "Every message takes an extra hop and the broker's service time per packet, which a backlog multiplies.",
        &["brokerless-vs-broker", "broker-bottleneck"],
    ),
    (
        "Competing consumers",
        "Instances of one service share a queue, or a group shares a topic's partitions.",
        &["competing-consumers", "partitioned-orders"],
    ),
];

/// The factors as a table; each scenario name loads that built-in (`dispatch`), the one shown
/// (`current`) is marked. Open when `open`.
pub fn selection_table(dispatch: &Callback<Action>, current: Option<&str>, open: bool) -> Html {
    html! {
        <details class="broker-factors" data-testid="broker-factors" {open}>
            <summary>{ "Choosing a message broker: the factors, and the scenario that shows each" }</summary>
            <table class="glance-table factors-table">
                <thead><tr><th>{ "factor" }</th><th>{ "what to look for" }</th><th>{ "scenarios" }</th></tr></thead>
                <tbody>
                    { for FACTORS.iter().map(|(factor, what, names)| html! {
                        <tr key={*factor}>
                            <th scope="row">{ *factor }</th>
                            <td class="what">{ *what }</td>
                            <td>
                                if names.is_empty() {
                                    <span class="hint">{ "—" }</span>
                                }
                                { for names.iter().map(|name| {
                                    let (d, n) = (dispatch.clone(), name.to_string());
                                    let onclick = Callback::from(move |ev: MouseEvent| {
                                        ev.prevent_default();
                                        d.emit(Action::LoadBuiltin(n.clone()));
                                    });
                                    let here = current == Some(*name);
                                    html! {
                                        <a href={format!("?scenario={name}")} class={if here { "factor-link current" } else { "factor-link" }}
                                           aria-current={here.then_some("true")} {onclick}>{ *name }</a>
                                    }
                                }) }
                            </td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::FACTORS;

    #[test]
    fn every_factor_of_the_brief_is_listed_and_points_to_built_ins() {
        assert_eq!(FACTORS.len(), 9);
        for (_, _, names) in FACTORS {
            for n in *names {
                assert!(msgsim::scenarios::get(n).is_some(), "unknown built-in {n}");
            }
        }
        let shown: usize = FACTORS.iter().map(|f| f.2.len()).sum();
        assert_eq!(shown, 17);
    }
}
