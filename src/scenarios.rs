//! Built-in scenarios, shipped as JSON files in `www/scenarios/` and embedded at compile time.

/// `(name, JSON)` of every built-in scenario, in gallery order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "order-events",
        include_str!("../www/scenarios/order-events.json"),
    ),
    (
        "partitioned-orders",
        include_str!("../www/scenarios/partitioned-orders.json"),
    ),
    (
        "idempotent-producer",
        include_str!("../www/scenarios/idempotent-producer.json"),
    ),
    (
        "consumer-offsets",
        include_str!("../www/scenarios/consumer-offsets.json"),
    ),
    (
        "parallel-workers",
        include_str!("../www/scenarios/parallel-workers.json"),
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
