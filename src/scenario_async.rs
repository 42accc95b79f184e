//! Validation of the asynchronous-messaging settings of a scenario: brokerless (`direct`)
//! channels, requests with a reply channel, handler failures, durability, broker-side duplicate
//! detection and the broker's service time. Called by [`Scenario::validate`]; every error names
//! the field.

use crate::error::ScenarioError;
use crate::scenario::{ChannelKind, NackAction, NodeKind, Scenario};

/// Upper bound of `reply_timeout_ms`, `collect_ms` and `dedup_window_ms`: one hour.
pub const MAX_WINDOW_MS: u64 = crate::ranges::MAX_LATENCY_MS;
/// Upper bound of `policies.broker_service_time_us`: one second.
pub const MAX_BROKER_SERVICE_TIME_US: u64 = 1_000_000;

impl Scenario {
    /// Checks the asynchronous-messaging settings (see the module doc).
    pub(crate) fn validate_messaging(&self) -> Result<(), ScenarioError> {
        use ScenarioError::*;
        let invalid = |field: String, message: String| Err(Invalid { field, message });
        let linked = |x: &str, y: &str| {
            self.links
                .iter()
                .any(|l| (l.a == x && l.b == y) || (l.a == y && l.b == x))
        };
        let st = self.policies.broker_service_time_us;
        crate::ranges::int(
            "policies.broker_service_time_us",
            st,
            0,
            MAX_BROKER_SERVICE_TIME_US,
            "µs",
        )?;
        for (i, c) in self.channels.iter().enumerate() {
            let f = |name: &str| format!("channels[{i}].{name}");
            crate::ranges::percent(f("failure_percent"), c.failure_percent)?;
            crate::ranges::ms_max(f("dedup_window_ms"), c.dedup_window_ms, 0, MAX_WINDOW_MS)?;
            if c.kind != ChannelKind::Direct {
                continue;
            }
            if !c.broker.is_empty() {
                return invalid(
                    f("broker"),
                    "a direct channel is brokerless: remove `broker`".into(),
                );
            }
            if c.consumers.len() != 1 {
                return invalid(
                    f("consumers"),
                    format!(
                        "a direct channel has exactly one consumer service (got {})",
                        c.consumers.len()
                    ),
                );
            }
            let Some(n) = self.node_index(&c.consumers[0]) else {
                return Err(UnknownName {
                    field: f("consumers[0]"),
                    name: c.consumers[0].clone(),
                });
            };
            if self.nodes[n].kind != NodeKind::Service {
                return invalid(
                    f("consumers[0]"),
                    format!("`{}` is not a service", c.consumers[0]),
                );
            }
            if !c.durable {
                return invalid(
                    f("durable"),
                    "a direct channel buffers nothing: durability does not apply".into(),
                );
            }
            if c.dedup_window_ms != 0 {
                return invalid(
                    f("dedup_window_ms"),
                    "duplicate detection is a broker feature; a direct channel has no broker"
                        .into(),
                );
            }
            if c.on_failure == NackAction::DeadLetter {
                return invalid(
                    f("on_failure"),
                    "a direct channel has no broker and so no dead-letter queue".into(),
                );
            }
        }
        for (i, w) in self.workloads.iter().enumerate() {
            for (j, m) in w.messages.iter().enumerate() {
                let f = |name: &str| format!("workloads[{i}].messages[{j}].{name}");
                // The channel exists: checked by `validate` before this.
                let Some(c) = self.channels.iter().find(|c| c.name == m.channel) else {
                    continue;
                };
                if c.kind == ChannelKind::Direct && !linked(&w.from, &c.consumers[0]) {
                    return invalid(
                        f("channel"),
                        format!("no link between `{}` and `{}`", w.from, c.consumers[0]),
                    );
                }
                let Some(reply_to) = &m.reply_to else {
                    for (name, set) in [
                        ("reply_timeout_ms", m.reply_timeout_ms.is_some()),
                        ("collect_ms", m.collect_ms.is_some()),
                        ("reply_type", m.reply_type.is_some()),
                    ] {
                        if set {
                            return invalid(
                                f(name),
                                "only a request (a message with `reply_to`) has this".into(),
                            );
                        }
                    }
                    continue;
                };
                let Some(r) = self.channels.iter().find(|c| &c.name == reply_to) else {
                    return Err(UnknownName {
                        field: f("reply_to"),
                        name: reply_to.clone(),
                    });
                };
                if r.kind == ChannelKind::Topic {
                    return invalid(
                        f("reply_to"),
                        "a reply channel is a queue or a direct channel, not a topic".into(),
                    );
                }
                if r.name == c.name {
                    return invalid(
                        f("reply_to"),
                        "the reply channel must differ from the request channel".into(),
                    );
                }
                if r.consumers != [w.from.clone()] {
                    return invalid(
                        f("reply_to"),
                        format!(
                            "the reply channel `{}` must be consumed by `{}` alone",
                            r.name, w.from
                        ),
                    );
                }
                let window = match (m.reply_timeout_ms, m.collect_ms) {
                    (Some(_), Some(_)) => {
                        return invalid(
                            f("collect_ms"),
                            "give reply_timeout_ms or collect_ms, not both".into(),
                        )
                    }
                    (None, None) => {
                        return invalid(
                            f("reply_timeout_ms"),
                            "a request needs reply_timeout_ms (request/async response) or \
                             collect_ms (publish/async responses)"
                                .into(),
                        )
                    }
                    (Some(t), None) => ("reply_timeout_ms", t),
                    (None, Some(t)) => ("collect_ms", t),
                };
                crate::ranges::ms_max(f(window.0), window.1, 1, MAX_WINDOW_MS)?;
                // Every responder must reach the reply channel.
                let target = match r.kind {
                    ChannelKind::Direct => &w.from,
                    _ => &r.broker,
                };
                for responder in &c.consumers {
                    if responder != target && !linked(responder, target) {
                        return invalid(
                            f("reply_to"),
                            format!(
                                "responder `{responder}` has no link to `{target}` to reply on `{}`",
                                r.name
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}
