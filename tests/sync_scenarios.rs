//! The built-in synchronous-communication scenarios, run end to end with their own seeds: exact
//! values from real runs (what each scenario is meant to show), determinism, and independence
//! from how time is sliced.

use msgsim::{SimTime, Simulation, TraceConfig, TraceKind};

const SYNC: [&str; 8] = [
    "rpi-rest",
    "rest-maturity",
    "timeouts-retries",
    "bulkhead",
    "circuit-breaker",
    "resilience-composed",
    "discovery-client-side",
    "discovery-server-side",
];

fn build(name: &str) -> Simulation {
    let scenario = msgsim::Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
    let seed = scenario.seed;
    let trace = TraceConfig {
        enabled: true,
        capacity: 1_000_000,
    };
    Simulation::with_trace(scenario, seed, trace).unwrap()
}

fn run(name: &str) -> Simulation {
    let mut sim = build(name);
    let n = sim.run_to_idle(10_000_000);
    assert!(n < 10_000_000, "{name} did not settle");
    sim
}

fn lines(sim: &Simulation, pred: impl Fn(&TraceKind) -> bool) -> Vec<String> {
    sim.trace()
        .events()
        .filter(|e| pred(&e.what))
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn every_sync_scenario_has_its_section_and_runs_to_its_golden_trace() {
    let golden: [(&str, &str, u64, u64); 8] = [
        (
            "rpi-rest",
            "Synchronous Communication",
            236,
            0x38e0_d598_b5b5_49e3,
        ),
        ("rest-maturity", "REST", 755, 0x7eae_7e1f_8a7e_6234),
        (
            "timeouts-retries",
            "Fault Tolerance in REST",
            2_413,
            0x9c61_96ad_ed97_53db,
        ),
        (
            "bulkhead",
            "Fault Tolerance in REST",
            2_009,
            0xcdaa_0640_e945_bb75,
        ),
        (
            "circuit-breaker",
            "Fault Tolerance in REST",
            9_191,
            0x4f8e_7d7f_aab1_2459,
        ),
        (
            "resilience-composed",
            "Fault Tolerance in REST",
            2_363,
            0xdb32_c789_4634_6b71,
        ),
        (
            "discovery-client-side",
            "Service Discovery",
            1_640,
            0xf99f_6624_a709_391e,
        ),
        (
            "discovery-server-side",
            "Service Discovery",
            2_679,
            0xe4cc_27ef_72d5_30a5,
        ),
    ];
    for (name, section, events, hash) in golden {
        let sim = run(name);
        assert_eq!(sim.scenario().section, section, "{name}");
        assert!(sim.scenario().experiments.len() >= 2, "{name}");
        assert_eq!(
            (sim.trace().len_total(), sim.trace_hash()),
            (events, hash),
            "{name}: {:#x}",
            sim.trace_hash()
        );
        // Nothing is left behind: no call, no request, every bulkhead slot back.
        let snap = sim.snapshot();
        assert!(snap.calls.is_empty(), "{name}");
        assert!(snap.in_flight.is_empty(), "{name}");
        for p in &snap.proxies {
            assert_eq!(p.outstanding_calls, 0, "{name}");
            if let Some(b) = p.bulkhead {
                assert_eq!(
                    b.available_concurrent_calls, b.max_concurrent_calls,
                    "{name}"
                );
            }
        }
        let m = snap.metrics;
        assert_eq!(m.delivered + m.dropped, m.sent + m.duplicated, "{name}");
        assert_eq!(m.calls, m.calls_ok + m.calls_failed + m.fallbacks, "{name}");
    }
}

#[test]
fn frame_slicing_and_cloning_do_not_change_a_run() {
    for name in SYNC {
        let whole = run(name);
        let end = whole.now();
        let mut frames = build(name);
        let mut t = 0;
        while t < end.0 {
            t += 16_667;
            frames.run_until(SimTime(t.min(end.0)), 3);
        }
        while !frames.run_until(end, 3).reached {}
        assert_eq!(whole.trace_hash(), frames.trace_hash(), "{name}");
        assert_eq!(whole.snapshot(), frames.snapshot(), "{name}");
        let mut a = build(name);
        a.run_until(SimTime::from_ms(5_500), u64::MAX);
        let mut b = a.clone();
        a.run_to_idle(10_000_000);
        b.run_to_idle(10_000_000);
        assert_eq!(a.trace_hash(), whole.trace_hash(), "{name}");
        assert_eq!(b.trace_hash(), whole.trace_hash(), "{name}");
    }
}

#[test]
fn rpi_rest_traces_every_step_of_a_call() {
    let sim = run("rpi-rest");
    let first: Vec<String> = sim
        .trace()
        .events()
        .take(10)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        first,
        [
            "t=0.000ms checkout#0 logic -> proxy orders.createOrder c1: POST /orders (caller blocked)",
            "t=0.000ms checkout#0 -> orders POST /orders attempt=1 c1 r1 to orders#0",
            "t=0.000ms checkout#0 -> orders#0 http_request m1 attempt=1 #1",
            "t=15.463ms checkout#0 -> orders#0 http_request m1 arrived #1",
            "t=15.463ms orders#0 adapter r1 POST /orders -> logic createOrder (queued 0.000ms)",
            "t=49.412ms orders#0 logic -> adapter r1 201 Created after 33.949ms",
            "t=49.412ms orders#0 -> checkout#0 http_response m2 attempt=1 #2",
            "t=71.079ms orders#0 -> checkout#0 http_response m2 arrived #2",
            "t=71.079ms checkout#0 proxy <- orders r1 c1 attempt=1: 201 Created after 71.079ms",
            "t=71.079ms checkout#0 proxy -> logic c1 orders 201 Created after 1 attempt, 1 request, \
             71.079ms (caller unblocked)",
        ]
    );
    // orders#1 is down from 6 s to 9 s: its host refuses the three getOrder calls routed to it.
    assert_eq!(
        lines(&sim, |k| matches!(
            k,
            TraceKind::CallDone { error: Some(_), .. }
        )),
        [
            "t=6100.012ms checkout#0 proxy -> logic c14 orders failed ConnectException after 1 \
             attempt, 1 request, 33.277ms (caller unblocked)",
            "t=7103.494ms checkout#0 proxy -> logic c16 orders failed ConnectException after 1 \
             attempt, 1 request, 38.144ms (caller unblocked)",
            "t=8102.078ms checkout#0 proxy -> logic c18 orders failed ConnectException after 1 \
             attempt, 1 request, 30.367ms (caller unblocked)",
        ]
    );
    let m = sim.client_metrics("checkout", "orders").unwrap();
    assert_eq!((m.calls, m.successes, m.connection_refused), (24, 21, 3));
    assert_eq!(sim.server_metrics("orders").unwrap().refused, 3);
}

#[test]
fn rpi_rest_caller_is_blocked_while_its_call_is_outstanding() {
    let mut sim = build("rpi-rest");
    sim.run_until(SimTime::from_ms(30), u64::MAX);
    let snap = sim.snapshot();
    assert_eq!(snap.nodes[0].instances[0].blocked_calls, 1);
    assert_eq!(snap.calls.len(), 1);
    assert_eq!(
        (snap.calls[0].stage, snap.calls[0].until),
        ("in_flight", Some(SimTime::from_ms(500)))
    );
    // The server holds one worker for it.
    assert_eq!(snap.nodes[1].instances[0].workers_busy, 1);
    sim.run_until(SimTime::from_ms(72), u64::MAX);
    let snap = sim.snapshot();
    // createOrder returned; getOrder is now outstanding.
    assert_eq!(snap.calls[0].operation, "getOrder");
    assert_eq!(snap.calls[0].request.to_string(), "GET /orders/1");
}

/// The HTTP packets on the wire at `t_ms`, as `from -> to: <line or status> <body>`.
fn wire(sim: &mut Simulation, t_ms: u64) -> Vec<String> {
    sim.run_until(SimTime::from_ms(t_ms), u64::MAX);
    sim.snapshot()
        .in_flight
        .iter()
        .filter_map(|tr| {
            let h = tr.http.as_ref()?;
            let what = match h.status {
                Some(s) => s.to_string(),
                None => format!("{} {}", h.method, h.path),
            };
            Some(format!("{} -> {}: {what} {}", tr.from, tr.to, h.body))
        })
        .collect()
}

#[test]
fn rest_maturity_levels_side_by_side() {
    let mut sim = build("rest-maturity");
    assert_eq!(
        wire(&mut sim, 15),
        [
            r#"client-l0 -> orders-l0: POST /api {"consumerId":7,"lineItems":[{"menuItem":"margherita","quantity":1}],"operation":"createOrder"}"#,
            r#"client-l1 -> orders-l1: POST /orders {"action":"create","consumerId":7,"lineItems":[{"menuItem":"margherita","quantity":1}]}"#,
            r#"client-l2 -> orders-l2: POST /orders {"consumerId":7,"lineItems":[{"menuItem":"margherita","quantity":1}]}"#,
            r#"client-l3 -> orders-l3: POST /orders {"consumerId":7,"lineItems":[{"menuItem":"margherita","quantity":1}]}"#,
        ]
    );
    let created = wire(&mut sim, 50);
    assert_eq!(
        created[2],
        r#"orders-l2 -> client-l2: 201 {"consumerId":7,"id":1,"lineItems":[{"menuItem":"margherita","quantity":1}],"state":"APPROVED"}"#
    );
    assert_eq!(
        created[3],
        r#"orders-l3 -> client-l3: 201 {"_links":{"cancel":{"href":"/orders/1/cancel"},"consumer":{"href":"/consumers/7"},"self":{"href":"/orders/1"}},"consumerId":7,"id":1,"lineItems":[{"menuItem":"margherita","quantity":1}],"state":"APPROVED"}"#
    );
    assert_eq!(
        wire(&mut sim, 80),
        [
            r#"client-l0 -> orders-l0: POST /api {"operation":"getOrder","orderId":1}"#,
            r#"client-l1 -> orders-l1: POST /orders/1 {"action":"get"}"#,
            "client-l2 -> orders-l2: GET /orders/1?expand=consumer null",
            "client-l3 -> orders-l3: GET /orders/1?expand=consumer null",
        ]
    );
    // ?expand=consumer: the related resource in the same response.
    assert_eq!(
        wire(&mut sim, 115)[2],
        r#"orders-l2 -> client-l2: 200 {"consumer":{"email":"ada@example.com","id":7,"name":"Ada Lovelace"},"consumerId":7,"id":1,"lineItems":[{"menuItem":"margherita","quantity":1}],"state":"APPROVED"}"#
    );
    // After the cancel action, level 3's representation no longer offers `cancel`.
    assert_eq!(
        wire(&mut sim, 180)[3],
        r#"orders-l3 -> client-l3: 200 {"_links":{"consumer":{"href":"/consumers/7"},"self":{"href":"/orders/1"}},"consumerId":7,"id":1,"lineItems":[{"menuItem":"margherita","quantity":1}],"state":"CANCELLED"}"#
    );
    // The second cancel: 200 with an error body at levels 0 and 1, 409 at level 2, never sent
    // at level 3.
    let conflict =
        r#"{"error":"Conflict","message":"order 1: state is \"CANCELLED\", needs \"APPROVED\""}"#;
    assert_eq!(
        wire(&mut sim, 245),
        [
            format!("orders-l0 -> client-l0: 200 {conflict}"),
            format!("orders-l1 -> client-l1: 200 {conflict}"),
            format!("orders-l2 -> client-l2: 409 {conflict}"),
        ]
    );
    sim.run_to_idle(1_000_000);
    assert_eq!(
        lines(&sim, |k| matches!(k, TraceKind::CallSkipped { .. }))[0],
        "t=195.000ms client-l3#0 logic: no `cancel` link in the last orders-l3 representation, \
         step skipped"
    );
    let calls = |c: &str, s: &str| {
        let m = sim.client_metrics(c, s).unwrap();
        (m.calls, m.successes, m.client_errors)
    };
    assert_eq!(calls("client-l0", "orders-l0"), (20, 20, 0));
    assert_eq!(calls("client-l1", "orders-l1"), (20, 20, 0));
    assert_eq!(calls("client-l2", "orders-l2"), (20, 15, 5));
    assert_eq!(calls("client-l3", "orders-l3"), (15, 15, 0));
    let snap = sim.snapshot();
    let levels: Vec<Option<u8>> = snap.nodes[4..].iter().map(|n| n.api_level).collect();
    assert_eq!(levels, [Some(0), Some(1), Some(2), Some(3)]);
}

#[test]
fn circuit_breaker_trips_at_an_exact_time_and_stops_the_cascade() {
    let sim = run("circuit-breaker");
    assert_eq!(
        lines(&sim, |k| matches!(k, TraceKind::BreakerTransition { .. })),
        [
            "t=6630.000ms checkout-b#0 breaker payments-b CLOSED -> OPEN (failure rate 50.0%, slow calls 0.0%)",
            "t=8710.000ms checkout-b#0 breaker payments-b OPEN -> HALF_OPEN (failure rate 80.0%, slow calls 0.0%)",
            "t=9610.000ms checkout-b#0 breaker payments-b HALF_OPEN -> OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=11710.000ms checkout-b#0 breaker payments-b OPEN -> HALF_OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=12610.000ms checkout-b#0 breaker payments-b HALF_OPEN -> OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=14710.000ms checkout-b#0 breaker payments-b OPEN -> HALF_OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=15610.000ms checkout-b#0 breaker payments-b HALF_OPEN -> OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=17710.000ms checkout-b#0 breaker payments-b OPEN -> HALF_OPEN (failure rate 100.0%, slow calls 0.0%)",
            "t=17858.158ms checkout-b#0 breaker payments-b HALF_OPEN -> CLOSED (failure rate 0.0%, slow calls 0.0%)",
        ]
    );
    // Variant A, no breaker: the slow payments service takes checkout-a's workers, its queue
    // fills up, and shop-a fails although checkout-a is up: the cascade.
    let shop_a = sim.client_metrics("shop-a", "checkout-a").unwrap();
    assert_eq!(
        (
            shop_a.successes,
            shop_a.failures,
            shop_a.timeouts,
            shop_a.server_errors
        ),
        (153, 97, 52, 45)
    );
    let checkout_a = sim.server_metrics("checkout-a").unwrap();
    assert_eq!(
        (checkout_a.rejected_overload, checkout_a.max_queue_depth),
        (33, 20)
    );
    // Variant B: the breaker answers with the fallback and shop-b never fails.
    let shop_b = sim.client_metrics("shop-b", "checkout-b").unwrap();
    assert_eq!((shop_b.successes, shop_b.failures), (250, 0));
    let cb = sim.client_metrics("checkout-b", "payments-b").unwrap();
    assert_eq!(
        (
            cb.successes,
            cb.fallbacks,
            cb.rejected_by_breaker,
            cb.timeouts,
            cb.upstream_requests
        ),
        (123, 127, 113, 14, 137)
    );
    let snap = sim.snapshot();
    let breaker = snap
        .proxies
        .iter()
        .find_map(|p| p.breaker.as_ref())
        .unwrap();
    assert_eq!(breaker.transitions.len(), 9);
    assert_eq!(breaker.transitions[0].at_us, 6_630_000);
    assert_eq!(breaker.transitions[0].failure_rate, 50.0);
}

#[test]
fn timeouts_and_retries_compared() {
    let sim = run("timeouts-retries");
    let cart = sim.client_metrics("cart", "inventory").unwrap();
    let checkout = sim.client_metrics("checkout", "inventory").unwrap();
    assert_eq!(
        (
            cart.successes,
            cart.failures,
            cart.timeouts,
            cart.server_errors
        ),
        (78, 22, 8, 14)
    );
    assert_eq!(
        (
            checkout.successes,
            checkout.failures,
            checkout.retries,
            checkout.upstream_requests
        ),
        (98, 2, 43, 143)
    );
    assert_eq!(checkout.max_upstream_per_call, 4);
    assert_eq!(checkout.upstream_per_call(), 1.43);
    // Backoffs: 100 ms, 200 ms, 400 ms (capped at 1 s) randomized by ±50 %.
    for l in lines(&sim, |k| matches!(k, TraceKind::CallRetry { .. })) {
        let wait: f64 = l
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches("ms")
            .parse()
            .unwrap();
        let attempt: u32 = l.split("attempt=").nth(1).unwrap()[..1].parse().unwrap();
        let base = 100.0 * f64::from(1u32 << (attempt - 2));
        assert!(wait >= base * 0.5 && wait < base * 1.5, "{l}");
    }
}

#[test]
fn bulkhead_bounds_outstanding_requests() {
    let mut sim = build("bulkhead");
    let mut most = 0;
    while !sim.snapshot().idle {
        sim.run_until(sim.now().plus_ms(5), u64::MAX);
        let snap = sim.snapshot();
        let b = snap.proxies[0].bulkhead.unwrap();
        most = most.max(b.max_concurrent_calls - b.available_concurrent_calls);
        // Reporting's requests on the wire never exceed its bulkhead.
        let on_wire = snap
            .in_flight
            .iter()
            .filter(|t| t.kind == "request" && t.from == "reporting")
            .count();
        assert!(on_wire <= 3, "{on_wire}");
    }
    assert_eq!(most, 3);
    let r = sim.client_metrics("reporting", "orders").unwrap();
    assert_eq!(
        (r.successes, r.rejected_by_bulkhead, r.upstream_requests),
        (73, 127, 73)
    );
    let d = sim.client_metrics("dashboard", "orders").unwrap();
    assert_eq!((d.successes, d.rejected_by_limiter), (53, 47));
}

#[test]
fn resilience_composed_in_resilience4j_order() {
    let sim = run("resilience-composed");
    let snap = sim.snapshot();
    let layers: Vec<String> = snap.proxies[0]
        .layers
        .iter()
        .map(|l| serde_json::to_string(l).unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            r#""retry""#,
            r#""circuitBreaker""#,
            r#""rateLimiter""#,
            r#""timeLimiter""#,
            r#""bulkhead""#
        ]
    );
    let m = sim.client_metrics("checkout", "payments").unwrap();
    assert_eq!(
        (
            m.successes,
            m.fallbacks,
            m.retries,
            m.rejected_by_breaker,
            m.upstream_requests
        ),
        (163, 137, 19, 137, 182)
    );
    // A breaker rejection is not retriable: no retry follows a CallNotPermittedException.
    let trace: Vec<String> = sim.trace().events().map(|e| e.to_string()).collect();
    for (i, l) in trace.iter().enumerate() {
        if l.contains("CallNotPermittedException after") {
            let call = l
                .split(" proxy ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            let next = trace[i + 1..]
                .iter()
                .find(|x| x.contains(&format!(" {call} ")))
                .unwrap();
            assert!(next.contains("fallback"), "{next}");
        }
    }
    assert_eq!(
        snap.proxies[0].breaker.as_ref().unwrap().transitions_total,
        7
    );
}

#[test]
fn client_side_discovery_calls_fail_to_a_crashed_instance_until_its_lease_expires() {
    let sim = run("discovery-client-side");
    let refused: Vec<String> = lines(
        &sim,
        |k| matches!(k, TraceKind::CallResult { error: Some(e), .. } if &**e == "ConnectException"),
    );
    let times: Vec<&str> = refused
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    // Every third call goes to orders#1 (round robin) from its crash at 5 s until checkout's
    // first lookup after the lease expired at 7005 ms (8610 ms).
    assert_eq!(
        times,
        [
            "t=5120.000ms",
            "t=5420.000ms",
            "t=5720.000ms",
            "t=6020.000ms",
            "t=6320.000ms",
            "t=6620.000ms",
            "t=6920.000ms",
            "t=7220.000ms",
            "t=7520.000ms",
            "t=7820.000ms",
            "t=8120.000ms",
            "t=8420.000ms",
        ]
    );
    assert_eq!(
        lines(&sim, |k| matches!(
            k,
            TraceKind::Expired { instance: 1, .. } | TraceKind::Registered { instance: 1, .. }
        ))[..3],
        [
            "t=5.000ms registry registered orders#1 at 10.0.2.2:8080 by orders#1, lease until 3005.000ms",
            "t=7005.000ms registry lease of orders#1 expired (last renewed 4005.000ms)",
            "t=11005.000ms registry registered orders#1 at 10.0.2.2:8080 by orders#1, lease until 14005.000ms",
        ]
    );
    let refreshed = lines(&sim, |k| matches!(k, TraceKind::CacheRefreshed { .. }));
    assert_eq!(
        refreshed[3],
        "t=6510.000ms checkout#0 discovery orders = [#0, #1, #2]"
    );
    assert_eq!(
        refreshed[4],
        "t=8610.000ms checkout#0 discovery orders = [#0, #2]"
    );
    let m = sim.client_metrics("checkout", "orders").unwrap();
    assert_eq!((m.successes, m.connection_refused), (138, 12));
}

#[test]
fn client_side_discovery_registry_table_shows_the_stale_entry() {
    let mut sim = build("discovery-client-side");
    sim.run_until(SimTime::from_ms(6_000), u64::MAX);
    let snap = sim.snapshot();
    let entries = &snap.registries[0].entries;
    assert_eq!(entries.len(), 3);
    let e1 = &entries[1];
    assert_eq!(
        (e1.info.instance, e1.expires_at, e1.actual),
        (
            1,
            SimTime::from_ms(7_005),
            msgsim::snapshot::InstanceStatus::Crashed
        )
    );
    assert_eq!(
        e1.info.metadata,
        serde_json::json!({"zone": "zone-1", "version": "1.4.2"})
    );
    let cache = snap.proxies[0].cache.as_ref().unwrap();
    assert_eq!(cache.instances.len(), 3);
    assert_eq!(cache.expires_at, Some(SimTime::from_ms(6_410)));
}

#[test]
fn server_side_discovery_router_forwards_to_a_crashed_instance_until_it_is_deregistered() {
    let sim = run("discovery-server-side");
    assert_eq!(
        lines(&sim, |k| matches!(
            k,
            TraceKind::ProbeFailed { .. } | TraceKind::Deregistered { .. }
        ))[..3],
        [
            "t=6000.000ms registrar probe of orders#2 failed (1 in a row)",
            "t=7000.000ms registrar probe of orders#2 failed (2 in a row)",
            "t=7005.000ms registry deregistered orders#2 by registrar",
        ]
    );
    let refreshed = lines(&sim, |k| matches!(k, TraceKind::CacheRefreshed { .. }));
    assert!(refreshed.contains(&"t=7912.000ms orders-svc discovery orders = [#0, #1]".to_string()));
    let refused: Vec<String> = lines(
        &sim,
        |k| matches!(k, TraceKind::CallResult { error: Some(e), .. } if &**e == "ConnectException"),
    );
    assert_eq!(refused.len(), 5);
    assert_eq!(
        refused.first().unwrap(),
        "t=5014.000ms checkout#0 proxy <- orders r49 c49 attempt=1: failed ConnectException after 14.000ms"
    );
    assert_eq!(
        refused.last().unwrap(),
        "t=6714.000ms checkout#0 proxy <- orders r66 c66 attempt=1: failed ConnectException after 14.000ms"
    );
    // Each of them went through the router to orders#2.
    let routed = lines(&sim, |k| matches!(k, TraceKind::Routed { .. }));
    assert!(routed.contains(&"t=6702.000ms orders-svc routes r66 to orders#2".to_string()));
    assert_eq!(routed.len(), 150);
    let m = sim.client_metrics("checkout", "orders").unwrap();
    assert_eq!((m.successes, m.connection_refused), (145, 5));
    assert_eq!(sim.snapshot().routers[0].routed, 150);
}

#[test]
fn client_side_random_balancing_draws_from_its_own_seeded_stream() {
    let picks = |seed: u64| {
        let mut s =
            msgsim::Scenario::from_json(msgsim::scenarios::get("discovery-client-side").unwrap())
                .unwrap();
        s.faults.clear();
        if let msgsim::sync::DiscoverySpec::Client { load_balancer, .. } =
            &mut s.dependencies[0].discovery
        {
            *load_balancer = msgsim::sync::LoadBalancer::Random;
        }
        let mut sim = Simulation::new(s, seed).unwrap();
        sim.run_to_idle(1_000_000);
        let mut per_instance = [0u32; 3];
        for e in sim.trace().events() {
            if let TraceKind::CallAttempt { target, .. } = &e.what {
                per_instance[target.instance as usize] += 1;
            }
        }
        per_instance
    };
    assert_eq!(picks(21), picks(21));
    assert_eq!(picks(21), [41, 62, 47]);
    assert_eq!(picks(22), [44, 53, 53]);
}
