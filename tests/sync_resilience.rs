//! Issue 5's cases as end-to-end engine runs: client resilience policies on a real proxy, over
//! the network, against a real server adapter, in virtual time. Exact values from real runs.
//!
//! Topology: `app` -> `up` over a 1 ms link; `up` answers `GET /x` after its service time.

use msgsim::{Command, Scenario, SimTime, Simulation, TraceConfig, TraceKind};
use serde_json::{json, Value};

/// `app` calls `up`; `up` has one endpoint with `behaviour`; `calls` are the call workloads
/// (each `{"start_ms", "count", "every_ms"?, "app_retry"?}`).
fn scenario(policies: Value, behaviour: Value, calls: Vec<Value>) -> Scenario {
    let mut endpoint = json!({"name": "getX", "method": "GET", "path": "/x", "body": {"ok": true}});
    for (k, v) in behaviour.as_object().unwrap() {
        endpoint[k] = v.clone();
    }
    let calls: Vec<Value> = calls
        .into_iter()
        .map(|c| {
            let mut w = json!({"from": "app", "to": "up", "every_ms": 1000, "count": 1,
                               "steps": [{"name": "getX", "method": "GET", "path": "/x"}]});
            for (k, v) in c.as_object().unwrap() {
                w[k] = v.clone();
            }
            w
        })
        .collect();
    let text = json!({
        "name": "t",
        "nodes": [{"name": "app", "kind": "service"}, {"name": "up", "kind": "service"}],
        "links": [{"a": "app", "b": "up", "latency_ms": 1}],
        "apis": [{"service": "up", "workers": 4, "endpoints": [endpoint]}],
        "dependencies": [{"from": "app", "to": "up", "policies": policies}],
        "calls": calls
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

fn sim(s: Scenario) -> Simulation {
    let trace = TraceConfig {
        enabled: true,
        capacity: 1_000_000,
    };
    Simulation::with_trace(s, 1, trace).unwrap()
}

fn lines(sim: &Simulation, pred: impl Fn(&TraceKind) -> bool) -> Vec<String> {
    sim.trace()
        .events()
        .filter(|e| pred(&e.what))
        .map(|e| e.to_string())
        .collect()
}

fn done_lines(sim: &Simulation) -> Vec<String> {
    lines(sim, |k| matches!(k, TraceKind::CallDone { .. }))
}

// ----- case 5: nested retries multiply -----

#[test]
fn case5_app_retry_of_4_around_client_retry_of_3_sends_12_requests() {
    let s = scenario(
        json!({"retry": {"maxAttempts": 3, "waitDuration": "10ms"}}),
        json!({"error_percent": 100}),
        vec![json!({"app_retry": {"maxAttempts": 4, "waitDuration": "100ms"}})],
    );
    let mut sim = sim(s);
    sim.run_to_idle(1_000_000);
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!(m.upstream_requests, 12);
    assert_eq!(m.max_upstream_per_call, 12);
    assert_eq!((m.calls, m.finished, m.failures), (1, 1, 1));
    assert_eq!((m.attempts, m.retries, m.app_retries), (12, 8, 3));
    assert_eq!(m.server_errors, 12);
    assert_eq!(sim.server_metrics("up").unwrap().injected_errors, 12);
    // Each attempt takes 7 ms (1 + 5 + 1); an invocation 7+10+7+10+7 = 41 ms; four of them
    // with 100 ms between: 464 ms.
    assert_eq!(
        done_lines(&sim),
        [
            "t=464.000ms app#0 proxy -> logic c1 up 500 Internal Server Error \
          (HttpServerErrorException) after 12 attempts, 12 requests, 464.000ms (caller unblocked)"
        ]
    );
    let retries = lines(&sim, |k| matches!(k, TraceKind::CallRetry { .. }));
    assert_eq!(retries.len(), 11);
    assert_eq!(
        retries[0],
        "t=7.000ms app#0 proxy retry c1 attempt=2 in 10.000ms"
    );
    assert_eq!(
        retries[2],
        "t=41.000ms app#0 logic retry c1 app_attempt=2 in 100.000ms"
    );
    let attempts = lines(&sim, |k| matches!(k, TraceKind::CallAttempt { .. }));
    assert_eq!(
        attempts[4],
        "t=158.000ms app#0 -> up GET /x attempt=2 app_attempt=2 c1 r5 to up#0"
    );
}

#[test]
fn case5_one_layer_of_4_attempts_sends_4_requests() {
    for (policies, app_retry) in [
        (
            json!({}),
            json!({"maxAttempts": 4, "waitDuration": "100ms"}),
        ),
        (
            json!({"retry": {"maxAttempts": 4, "waitDuration": "10ms"}}),
            Value::Null,
        ),
    ] {
        let mut call = json!({});
        if !app_retry.is_null() {
            call["app_retry"] = app_retry;
        }
        let mut sim = sim(scenario(
            policies,
            json!({"error_percent": 100}),
            vec![call],
        ));
        sim.run_to_idle(1_000_000);
        let m = sim.client_metrics("app", "up").unwrap();
        assert_eq!(m.upstream_requests, 4);
        assert_eq!(m.attempts, 4);
        assert_eq!(m.retries + m.app_retries, 3);
    }
}

#[test]
fn client_errors_are_not_retried_server_errors_and_timeouts_are() {
    // 409: not retriable, one request.
    let mut s409 = sim(scenario(
        json!({"retry": {"maxAttempts": 4, "waitDuration": "10ms"}}),
        json!({"error_percent": 100, "error_status": 409}),
        vec![json!({})],
    ));
    s409.run_to_idle(1_000_000);
    let m = s409.client_metrics("app", "up").unwrap();
    assert_eq!((m.upstream_requests, m.retries, m.client_errors), (1, 0, 1));
    // A 50 ms time limiter against a 200 ms service: four timeouts, four requests.
    let mut slow = sim(scenario(
        json!({"retry": {"maxAttempts": 4, "waitDuration": "10ms"},
               "timeLimiter": {"timeoutDuration": "50ms"}}),
        json!({"latency_ms": 200}),
        vec![json!({})],
    ));
    slow.run_to_idle(1_000_000);
    let m = slow.client_metrics("app", "up").unwrap();
    assert_eq!((m.upstream_requests, m.timeouts, m.retries), (4, 4, 3));
    // The late answers arrive after their attempts timed out and are discarded.
    assert_eq!(m.late_responses, 4);
    assert_eq!(
        done_lines(&slow),
        [
            "t=230.000ms app#0 proxy -> logic c1 up failed TimeoutException after 4 attempts, \
          4 requests, 230.000ms (caller unblocked)"
        ]
    );
}

#[test]
fn fallback_answers_the_business_logic() {
    let mut s = sim(scenario(
        json!({}),
        json!({"error_percent": 100}),
        vec![json!({})],
    ));
    s.run_to_idle(1_000);
    assert_eq!(s.client_metrics("app", "up").unwrap().failures, 1);
    let mut with = scenario(json!({}), json!({"error_percent": 100}), vec![json!({})]);
    with.dependencies[0].fallback = Some(msgsim::sync::FallbackSpec {
        status: 200,
        body: json!({"source": "fallback"}),
    });
    let mut s = sim(with);
    s.run_to_idle(1_000);
    let m = s.client_metrics("app", "up").unwrap();
    assert_eq!((m.failures, m.fallbacks, m.successes), (0, 1, 0));
    assert_eq!(
        lines(&s, |k| matches!(k, TraceKind::CallFallback { .. })),
        ["t=7.000ms app#0 proxy c1 fallback 200 OK (after HttpServerErrorException)"]
    );
}

// ----- case 4: bulkhead of 1 with a 100 ms wait, in virtual time -----

#[test]
fn case4_bulkhead_waiter_gives_up_and_a_later_caller_enters_at_once() {
    // A at 0 holds the slot until its response arrives at 1000 ms (1 + 998 + 1); B at 0 waits
    // and gives up at 100 ms; C at 2000 ms enters at once.
    let s = scenario(
        json!({"bulkhead": {"maxConcurrentCalls": 1, "maxWaitDuration": "100ms"}}),
        json!({"latency_ms": 998}),
        vec![
            json!({"start_ms": 0}),
            json!({"start_ms": 0}),
            json!({"start_ms": 2000}),
        ],
    );
    let mut sim = sim(s);
    let bulkhead = |sim: &Simulation| {
        let b = sim.snapshot().proxies[0].bulkhead.unwrap();
        (b.available_concurrent_calls, b.waiting_calls)
    };
    sim.run_until(SimTime::from_ms(50), u64::MAX);
    assert_eq!(bulkhead(&sim), (0, 1));
    sim.run_until(SimTime::from_ms(999), u64::MAX);
    assert_eq!(bulkhead(&sim), (0, 0));
    sim.run_until(SimTime::from_ms(1000), u64::MAX);
    assert_eq!(bulkhead(&sim), (1, 0));
    sim.run_to_idle(1_000_000);
    assert_eq!(bulkhead(&sim), (1, 0));
    assert_eq!(
        lines(&sim, |k| matches!(
            k,
            TraceKind::CallWait { .. }
                | TraceKind::CallAttempt { .. }
                | TraceKind::CallResult { .. }
        )),
        [
            "t=0.000ms app#0 -> up GET /x attempt=1 c1 r1 to up#0",
            "t=0.000ms app#0 proxy c2 attempt=1 waits in bulkhead until 100.000ms",
            "t=100.000ms app#0 proxy c2 attempt=1 to up: BulkheadFullException after 100.000ms",
            "t=1000.000ms app#0 proxy <- up r1 c1 attempt=1: 200 OK after 1000.000ms",
            "t=2000.000ms app#0 -> up GET /x attempt=1 c3 r2 to up#0",
            "t=3000.000ms app#0 proxy <- up r2 c3 attempt=1: 200 OK after 1000.000ms",
        ]
    );
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!((m.successes, m.failures, m.rejected_by_bulkhead), (2, 1, 1));
}

#[test]
fn a_waiter_that_gets_a_slot_in_time_goes_on() {
    // Service 50 ms: A frees the slot at 52 ms, before B's 100 ms deadline.
    let s = scenario(
        json!({"bulkhead": {"maxConcurrentCalls": 1, "maxWaitDuration": "100ms"}}),
        json!({"latency_ms": 50}),
        vec![json!({"start_ms": 0}), json!({"start_ms": 0})],
    );
    let mut sim = sim(s);
    sim.run_to_idle(1_000_000);
    assert_eq!(
        lines(&sim, |k| matches!(k, TraceKind::CallAttempt { .. })),
        [
            "t=0.000ms app#0 -> up GET /x attempt=1 c1 r1 to up#0",
            "t=52.000ms app#0 -> up GET /x attempt=1 c2 r2 to up#0",
        ]
    );
    assert_eq!(sim.client_metrics("app", "up").unwrap().successes, 2);
}

// ----- cases 1-3: the circuit breaker on a real proxy -----

fn breaker_lines(sim: &Simulation) -> Vec<String> {
    lines(sim, |k| matches!(k, TraceKind::BreakerTransition { .. }))
}

fn set_errors(sim: &mut Simulation, percent: f64) {
    sim.apply(Command::SetEndpoint {
        node: "up".into(),
        endpoint: None,
        behaviour: msgsim::sync::ServerBehaviour {
            error_percent: percent,
            ..Default::default()
        },
    })
    .unwrap();
}

#[test]
fn case1_count_window_of_20_opens_at_call_20() {
    // Calls every 100 ms, each answered 7 ms later; the first 10 fail, the next 10 succeed.
    let s = scenario(
        json!({"circuitBreaker": {"slidingWindowSize": 20, "minimumNumberOfCalls": 20,
                                  "failureRateThreshold": 50}}),
        json!({}),
        vec![json!({"every_ms": 100, "count": 25})],
    );
    let mut sim = sim(s);
    set_errors(&mut sim, 100.0);
    sim.run_until(SimTime::from_ms(950), u64::MAX);
    set_errors(&mut sim, 0.0);
    // Call 19 ended at 1807 ms: still CLOSED.
    sim.run_until(SimTime::from_ms(1850), u64::MAX);
    let snap = sim.snapshot();
    let b = snap.proxies[0].breaker.as_ref().unwrap();
    assert_eq!(b.state.name(), "CLOSED");
    assert_eq!(b.metrics.number_of_buffered_calls, 19);
    assert_eq!(b.metrics.failure_rate, -1.0);
    sim.run_to_idle(1_000_000);
    assert_eq!(
        breaker_lines(&sim),
        ["t=1907.000ms app#0 breaker up CLOSED -> OPEN (failure rate 50.0%, slow calls 0.0%)"]
    );
    // Calls 21..25 are rejected without a request.
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!((m.upstream_requests, m.rejected_by_breaker), (20, 5));
}

fn half_open_run(outcomes: &[bool]) -> Vec<String> {
    // Breaker forced OPEN then HALF_OPEN at 0 with 4 permitted calls; one call per 100 ms.
    let s = scenario(
        json!({"circuitBreaker": {"permittedNumberOfCallsInHalfOpenState": 4,
                                  "failureRateThreshold": 50, "slidingWindowSize": 10,
                                  "minimumNumberOfCalls": 10}}),
        json!({}),
        vec![json!({"every_ms": 100, "count": 4, "start_ms": 10})],
    );
    let mut sim = sim(s);
    for state in ["OPEN", "HALF_OPEN"] {
        let state: msgsim::resilience::circuit_breaker::CircuitBreakerState =
            serde_json::from_value(json!(state)).unwrap();
        sim.apply(Command::SetBreaker {
            node: "app".into(),
            instance: 0,
            service: "up".into(),
            state,
        })
        .unwrap();
    }
    for (k, ok) in outcomes.iter().enumerate() {
        sim.run_until(SimTime::from_ms(100 * k as u64), u64::MAX);
        set_errors(&mut sim, if *ok { 0.0 } else { 100.0 });
    }
    sim.run_to_idle(1_000_000);
    breaker_lines(&sim)
}

#[test]
fn case2_half_open_decides_on_its_4_permitted_calls() {
    assert_eq!(
        half_open_run(&[true, true, false, false]),
        [
            "t=0.000ms app#0 breaker up CLOSED -> OPEN (failure rate n/a, slow calls n/a)",
            "t=0.000ms app#0 breaker up OPEN -> HALF_OPEN (failure rate n/a, slow calls n/a)",
            "t=317.000ms app#0 breaker up HALF_OPEN -> OPEN (failure rate 50.0%, slow calls 0.0%)",
        ]
    );
    assert_eq!(
        half_open_run(&[true, true, true, false])[2],
        "t=317.000ms app#0 breaker up HALF_OPEN -> CLOSED (failure rate 25.0%, slow calls 0.0%)"
    );
}

fn opened_then_quiet(automatic: bool) -> Simulation {
    // Two failing calls open the breaker (window 2) at 7 ms; wait 1 s in OPEN.
    let s = scenario(
        json!({"circuitBreaker": {"slidingWindowSize": 2, "minimumNumberOfCalls": 2,
                                  "waitDurationInOpenState": "1s",
                                  "permittedNumberOfCallsInHalfOpenState": 2,
                                  "automaticTransitionFromOpenToHalfOpenEnabled": automatic}}),
        json!({"error_percent": 100}),
        vec![
            json!({"start_ms": 0, "count": 2, "every_ms": 1}),
            json!({"start_ms": 5000}),
        ],
    );
    sim(s)
}

#[test]
fn case3_lazy_open_stays_open_until_a_call_comes() {
    let mut sim = opened_then_quiet(false);
    sim.run_until(SimTime::from_ms(4_999), u64::MAX);
    let state = |sim: &Simulation| sim.snapshot().proxies[0].breaker.as_ref().unwrap().state;
    assert_eq!(state(&sim).name(), "OPEN");
    sim.run_to_idle(1_000_000);
    let b = breaker_lines(&sim);
    assert_eq!(
        b,
        [
            "t=8.000ms app#0 breaker up CLOSED -> OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=5000.000ms app#0 breaker up OPEN -> HALF_OPEN (failure rate 100.0%, slow calls 0.0%)",
        ]
    );
    // The first call after the wait took a half-open permit and went upstream.
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!((m.upstream_requests, m.rejected_by_breaker), (3, 0));
    let snap = sim.snapshot();
    let metrics = snap.proxies[0].breaker.as_ref().unwrap().metrics;
    assert_eq!(metrics.half_open_permits_remaining, 1);
    assert_eq!(metrics.number_of_buffered_calls, 1);
}

#[test]
fn case3_automatic_transition_happens_at_opened_at_plus_wait() {
    let mut sim = opened_then_quiet(true);
    sim.run_to_idle(1_000_000);
    assert_eq!(
        breaker_lines(&sim)[1],
        "t=1008.000ms app#0 breaker up OPEN -> HALF_OPEN (failure rate 100.0%, slow calls 0.0%)"
    );
}

#[test]
fn forced_open_and_disabled_by_command() {
    let s = scenario(
        json!({"circuitBreaker": {}}),
        json!({}),
        vec![json!({"every_ms": 100, "count": 4})],
    );
    let mut sim = sim(s);
    let set = |sim: &mut Simulation, st: &str| {
        sim.apply(Command::SetBreaker {
            node: "app".into(),
            instance: 0,
            service: "up".into(),
            state: serde_json::from_value(json!(st)).unwrap(),
        })
    };
    // CLOSED -> HALF_OPEN is not an edge of the state machine.
    assert_eq!(
        set(&mut sim, "HALF_OPEN").unwrap_err().to_string(),
        "illegal CircuitBreaker state transition from CLOSED to HALF_OPEN"
    );
    set(&mut sim, "FORCED_OPEN").unwrap();
    sim.run_until(SimTime::from_ms(150), u64::MAX);
    set(&mut sim, "DISABLED").unwrap();
    sim.run_to_idle(1_000_000);
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!((m.rejected_by_breaker, m.successes), (2, 2));
}

#[test]
fn rate_limiter_delays_then_rejects() {
    // 2 permits per 1 s cycle, a call waits at most 600 ms; a call every 250 ms. Calls 3 and 4
    // reserve the next cycle's permits and wait for it; call 5, at 1000 ms, would have to wait
    // until 2000 ms: rejected (AtomicRateLimiter pays reservations back first).
    let s = scenario(
        json!({"rateLimiter": {"limitForPeriod": 2, "limitRefreshPeriod": "1s",
                               "timeoutDuration": "600ms"}}),
        json!({}),
        vec![json!({"every_ms": 250, "count": 8})],
    );
    let mut sim = sim(s);
    sim.run_to_idle(1_000_000);
    let m = sim.client_metrics("app", "up").unwrap();
    assert_eq!(
        (m.successes, m.rejected_by_limiter, m.upstream_requests),
        (6, 2, 6)
    );
    assert_eq!(
        lines(&sim, |k| matches!(k, TraceKind::CallWait { .. }))[..2],
        [
            "t=500.000ms app#0 proxy c3 attempt=1 waits in rate limiter until 1000.000ms",
            "t=750.000ms app#0 proxy c4 attempt=1 waits in rate limiter until 1000.000ms",
        ]
    );
    assert_eq!(
        lines(&sim, |k| matches!(
            k,
            TraceKind::CallResult { error: Some(_), .. }
        )),
        [
            "t=1000.000ms app#0 proxy c5 attempt=1 to up: RequestNotPermitted after 0.000ms",
            "t=1250.000ms app#0 proxy c6 attempt=1 to up: RequestNotPermitted after 0.000ms",
        ]
    );
}

#[test]
fn breaker_commands_in_the_fault_schedule_meet_the_state_of_their_time() {
    // Scheduled: HALF_OPEN at 10 ms (illegal from CLOSED then: nothing changes), OPEN at 20 ms,
    // HALF_OPEN at 30 ms (legal then). The build accepts all three.
    let mut s = scenario(
        json!({"circuitBreaker": {"permittedNumberOfCallsInHalfOpenState": 2}}),
        json!({}),
        vec![json!({"start_ms": 100, "count": 2, "every_ms": 100})],
    );
    for (at, state) in [(10, "HALF_OPEN"), (20, "OPEN"), (30, "HALF_OPEN")] {
        s.faults.push(
            serde_json::from_value(json!({"at_ms": at, "command": {"op": "set_breaker",
                "node": "app", "service": "up", "state": state}}))
            .unwrap(),
        );
    }
    let mut sim = sim(s);
    sim.run_to_idle(1_000_000);
    assert_eq!(
        breaker_lines(&sim),
        [
            "t=20.000ms app#0 breaker up CLOSED -> OPEN (failure rate n/a, slow calls n/a)",
            "t=30.000ms app#0 breaker up OPEN -> HALF_OPEN (failure rate n/a, slow calls n/a)",
            "t=207.000ms app#0 breaker up HALF_OPEN -> CLOSED (failure rate 0.0%, slow calls 0.0%)",
        ]
    );
}

#[test]
fn a_timed_out_request_frees_its_bulkhead_slot_only_when_cancelled() {
    // Bulkhead of 1 (no waiting), time limiter 50 ms, service 200 ms. A at 0 times out at
    // 50 ms; B comes at 100 ms. Cancelled (Resilience4j's default cancelRunningFuture), A's
    // slot came back at 50 ms and B enters; not cancelled, A's request holds the slot until its
    // answer at 202 ms and B is rejected.
    for (cancel, b_line) in [
        (
            true,
            "t=100.000ms app#0 -> up GET /x attempt=1 c2 r2 to up#0",
        ),
        (
            false,
            "t=100.000ms app#0 proxy c2 attempt=1 to up: BulkheadFullException after 0.000ms",
        ),
    ] {
        let s = scenario(
            json!({"bulkhead": {"maxConcurrentCalls": 1},
                   "timeLimiter": {"timeoutDuration": "50ms", "cancelRunningFuture": cancel}}),
            json!({"latency_ms": 200}),
            vec![json!({"start_ms": 0}), json!({"start_ms": 100})],
        );
        let mut sim = sim(s);
        sim.run_to_idle(1_000_000);
        let l = lines(&sim, |k| {
            matches!(
                k,
                TraceKind::CallAttempt { call: 2, .. } | TraceKind::CallResult { call: 2, .. }
            )
        });
        assert_eq!(l[0], b_line, "cancel={cancel}");
        let b = sim.snapshot().proxies[0].bulkhead.unwrap();
        assert_eq!(b.available_concurrent_calls, 1);
    }
}
