//! Built-in scenarios, shipped as JSON files in `www/scenarios/` and embedded at compile time.

/// `(name, JSON)` of every built-in scenario, in gallery order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "order-events",
        include_str!("../www/scenarios/order-events.json"),
    ),
    ("rpi-rest", include_str!("../www/scenarios/rpi-rest.json")),
    (
        "rest-maturity",
        include_str!("../www/scenarios/rest-maturity.json"),
    ),
    (
        "circuit-breaker",
        include_str!("../www/scenarios/circuit-breaker.json"),
    ),
    (
        "timeouts-retries",
        include_str!("../www/scenarios/timeouts-retries.json"),
    ),
    ("bulkhead", include_str!("../www/scenarios/bulkhead.json")),
    (
        "resilience-composed",
        include_str!("../www/scenarios/resilience-composed.json"),
    ),
    (
        "discovery-client-side",
        include_str!("../www/scenarios/discovery-client-side.json"),
    ),
    (
        "discovery-server-side",
        include_str!("../www/scenarios/discovery-server-side.json"),
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
