//! Built-in scenarios, shipped as JSON files in `www/scenarios/` and embedded at compile time.

/// `(name, JSON)` of every built-in scenario, in gallery order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "order-events",
        include_str!("../www/scenarios/order-events.json"),
    ),
    (
        "outbox-polling",
        include_str!("../www/scenarios/outbox-polling.json"),
    ),
    (
        "outbox-log-tailing",
        include_str!("../www/scenarios/outbox-log-tailing.json"),
    ),
    (
        "dual-write",
        include_str!("../www/scenarios/dual-write.json"),
    ),
    (
        "outbox-ordering",
        include_str!("../www/scenarios/outbox-ordering.json"),
    ),
    (
        "data-replication",
        include_str!("../www/scenarios/data-replication.json"),
    ),
    (
        "respond-before-processing",
        include_str!("../www/scenarios/respond-before-processing.json"),
    ),
];

/// The JSON of the built-in scenario `name`, if there is one.
pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, j)| *j)
}

/// Names of the built-in scenarios, in gallery order.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}
