//! HTTP statuses give distinguishable exception kinds to the resilience policies (issue 14):
//! Spring `RestTemplate`'s nested exceptions (`HttpClientErrorException.Conflict` for a 409),
//! matched by name or by their parent class, as Resilience4j matches `retryExceptions`,
//! `ignoreExceptions` and `recordExceptions` with `instanceof`. Exact values from real runs.

use msgsim::sync::error_kinds::for_status;
use msgsim::{Scenario, Simulation};
use serde_json::{json, Value};

/// `app` calls `up` 10 times, 1 s apart; `up` answers every call with `status`.
fn run(status: u16, policies: Value) -> msgsim::sync::ClientMetrics {
    let text = json!({
        "name": "t",
        "nodes": [{"name": "app", "kind": "service"}, {"name": "up", "kind": "service"}],
        "links": [{"a": "app", "b": "up", "latency_ms": 1}],
        "apis": [{"service": "up", "workers": 4, "endpoints": [
            {"name": "putX", "method": "PUT", "path": "/x", "body": {"ok": true},
             "error_percent": 100, "error_status": status}
        ]}],
        "dependencies": [{"from": "app", "to": "up", "policies": policies}],
        "calls": [{"from": "app", "to": "up", "every_ms": 1000, "count": 10,
                   "steps": [{"name": "putX", "method": "PUT", "path": "/x"}]}]
    })
    .to_string();
    let mut sim = Simulation::new(Scenario::from_json(&text).unwrap(), 1).unwrap();
    sim.run_to_idle(1_000_000);
    sim.client_metrics("app", "up").unwrap()
}

fn retry(list_key: &str, kinds: &[&str]) -> Value {
    json!({"retry": {"maxAttempts": 3, "waitDuration": "10ms", list_key: kinds}})
}

#[test]
fn the_mapping_follows_springs_nested_exceptions() {
    let got: Vec<(u16, Option<&str>)> =
        [200, 302, 400, 404, 409, 418, 422, 429, 500, 503, 504, 599]
            .into_iter()
            .map(|s| (s, for_status(s)))
            .collect();
    assert_eq!(
        got,
        [
            (200, None),
            (302, None),
            (400, Some("HttpClientErrorException.BadRequest")),
            (404, Some("HttpClientErrorException.NotFound")),
            (409, Some("HttpClientErrorException.Conflict")),
            (418, Some("HttpClientErrorException")),
            (422, Some("HttpClientErrorException.UnprocessableEntity")),
            (429, Some("HttpClientErrorException.TooManyRequests")),
            (500, Some("HttpServerErrorException.InternalServerError")),
            (503, Some("HttpServerErrorException.ServiceUnavailable")),
            (504, Some("HttpServerErrorException.GatewayTimeout")),
            (599, Some("HttpServerErrorException")),
        ]
    );
}

#[test]
fn retry_exceptions_tell_a_conflict_from_a_validation_error() {
    let only_conflict = retry("retryExceptions", &["HttpClientErrorException.Conflict"]);
    // 409: retried, 3 attempts per call.
    let m = run(409, only_conflict.clone());
    assert_eq!(
        (m.calls, m.attempts, m.retries, m.client_errors),
        (10, 30, 20, 30)
    );
    // 422: not retried.
    let m = run(422, only_conflict);
    assert_eq!(
        (m.calls, m.attempts, m.retries, m.client_errors),
        (10, 10, 0, 10)
    );
    // The parent class lists every 4xx.
    let m = run(422, retry("retryExceptions", &["HttpClientErrorException"]));
    assert_eq!((m.attempts, m.retries), (30, 20));
    // By default (no retryExceptions) 4xx are not retriable; 5xx are.
    let m = run(
        404,
        json!({"retry": {"maxAttempts": 3, "waitDuration": "10ms"}}),
    );
    assert_eq!((m.attempts, m.retries), (10, 0));
    let m = run(
        503,
        json!({"retry": {"maxAttempts": 3, "waitDuration": "10ms"}}),
    );
    assert_eq!((m.attempts, m.retries, m.server_errors), (30, 20, 30));
}

#[test]
fn ignore_exceptions_take_one_status_out_of_the_retry() {
    let p = json!({"retry": {"maxAttempts": 3, "waitDuration": "10ms",
        "retryExceptions": ["HttpServerErrorException"],
        "ignoreExceptions": ["HttpServerErrorException.NotImplemented"]}});
    let m = run(501, p.clone());
    assert_eq!((m.attempts, m.retries), (10, 0));
    let m = run(502, p);
    assert_eq!((m.attempts, m.retries), (30, 20));
}

#[test]
fn a_breaker_ignoring_not_found_stays_closed_on_404s_and_opens_on_409s() {
    let p = json!({"circuitBreaker": {"slidingWindowSize": 4, "minimumNumberOfCalls": 4,
        "failureRateThreshold": 50, "waitDurationInOpenState": "60s",
        "recordExceptions": ["HttpClientErrorException"],
        "ignoreExceptions": ["HttpClientErrorException.NotFound"]}});
    let m = run(404, p.clone());
    assert_eq!((m.attempts, m.rejected_by_breaker), (10, 0));
    let m = run(409, p);
    assert_eq!((m.attempts, m.rejected_by_breaker), (10, 6));
}
