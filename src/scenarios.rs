//! Built-in scenarios, shipped as JSON files in `www/scenarios/` and embedded at compile time.

/// `(name, JSON)` of every built-in scenario, in gallery order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "order-events",
        include_str!("../www/scenarios/order-events.json"),
    ),
    (
        "one-way-notification",
        include_str!("../www/scenarios/one-way-notification.json"),
    ),
    (
        "request-async-reply",
        include_str!("../www/scenarios/request-async-reply.json"),
    ),
    (
        "publish-async-responses",
        include_str!("../www/scenarios/publish-async-responses.json"),
    ),
    (
        "brokerless-vs-broker",
        include_str!("../www/scenarios/brokerless-vs-broker.json"),
    ),
    (
        "competing-consumers",
        include_str!("../www/scenarios/competing-consumers.json"),
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
        "parallel-workers",
        include_str!("../www/scenarios/parallel-workers.json"),
    ),
    (
        "dead-letter-queue",
        include_str!("../www/scenarios/dead-letter-queue.json"),
    ),
    (
        "broker-durability",
        include_str!("../www/scenarios/broker-durability.json"),
    ),
    (
        "broker-bottleneck",
        include_str!("../www/scenarios/broker-bottleneck.json"),
    ),
    (
        "broker-dedup-window",
        include_str!("../www/scenarios/broker-dedup-window.json"),
    ),
    (
        "consumer-offsets",
        include_str!("../www/scenarios/consumer-offsets.json"),
    ),
    (
        "duplicate-handling",
        include_str!("../www/scenarios/duplicate-handling.json"),
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
    (
        "schema-rollout",
        include_str!("../www/scenarios/schema-rollout.json"),
    ),
    (
        "encoding-comparison",
        include_str!("../www/scenarios/encoding-comparison.json"),
    ),
    (
        "schema-registry",
        include_str!("../www/scenarios/schema-registry.json"),
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
