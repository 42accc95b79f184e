//! Property tests of synchronous communication under random fault schedules and seeds:
//! - a circuit breaker only moves along the legal edges of Resilience4j's state machine, one
//!   transition after the other (each starts where the previous ended), in a full simulation;
//! - a bulkhead's free slots equal its limit once every call has finished (no slot leaks,
//!   whatever ends a call: answer, refusal, time limiter, HTTP timeout, crash, pause);
//! - nothing is left outstanding and the network conserves packets.
//!
//! A failing case prints the seed and the schedule that reproduce it (proptest shrinks it).

#![cfg(not(target_arch = "wasm32"))]

use msgsim::resilience::circuit_breaker::{legal_edge, CircuitBreakerState};
use msgsim::sync::ServerBehaviour;
use msgsim::{
    Command, Direction, LinkFaults, Scenario, SimTime, Simulation, TraceConfig, TraceKind,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// (scenario, client of the policies, its server, the links, the server's instances). World 3
/// is client-side discovery with a bulkhead, a time limiter and a retry added (lookups that
/// time out, calls waiting for a lookup); world 4 is world 0 with `cancelRunningFuture` off
/// (a timed-out request keeps its bulkhead slot until it ends).
type World = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    u32,
);
const WORLDS: [World; 5] = [
    (
        "resilience-composed",
        "checkout",
        "payments",
        &[("checkout", "payments")],
        2,
    ),
    (
        "bulkhead",
        "reporting",
        "orders",
        &[("reporting", "orders"), ("dashboard", "orders")],
        1,
    ),
    (
        "circuit-breaker",
        "checkout-b",
        "payments-b",
        &[("checkout-b", "payments-b"), ("shop-b", "checkout-b")],
        1,
    ),
    (
        "discovery-client-side",
        "checkout",
        "orders",
        &[("checkout", "orders"), ("checkout", "registry")],
        3,
    ),
    (
        "resilience-composed",
        "checkout",
        "payments",
        &[("checkout", "payments")],
        2,
    ),
];

#[derive(Clone, Debug)]
enum Op {
    Endpoint {
        error: f64,
        latency: u64,
        slow: f64,
    },
    Link {
        link: usize,
        loss: f64,
        dup: f64,
        latency: u64,
    },
    Partition {
        link: usize,
    },
    Hold {
        link: usize,
    },
    Release {
        link: usize,
    },
    Crash {
        instance: u32,
    },
    Restart {
        instance: u32,
    },
    Pause {
        instance: u32,
    },
    Resume {
        instance: u32,
    },
    PauseClient,
    ResumeClient,
    Breaker {
        state: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0.0..100.0f64, 0u64..1500, 0.0..50.0f64).prop_map(|(error, latency, slow)| Op::Endpoint {
            error,
            latency,
            slow
        }),
        (0usize..2, 0.0..40.0f64, 0.0..30.0f64, 0u64..200).prop_map(
            |(link, loss, dup, latency)| Op::Link {
                link,
                loss,
                dup,
                latency
            }
        ),
        (0usize..2).prop_map(|link| Op::Partition { link }),
        (0usize..2).prop_map(|link| Op::Hold { link }),
        (0usize..2).prop_map(|link| Op::Release { link }),
        (0u32..2).prop_map(|instance| Op::Crash { instance }),
        (0u32..2).prop_map(|instance| Op::Restart { instance }),
        (0u32..2).prop_map(|instance| Op::Pause { instance }),
        (0u32..2).prop_map(|instance| Op::Resume { instance }),
        Just(Op::PauseClient),
        Just(Op::ResumeClient),
        (0usize..6).prop_map(|state| Op::Breaker { state }),
    ]
}

fn command(world: usize, op: &Op) -> Command {
    let (_, client, server, links, instances) = WORLDS[world];
    let link = |i: usize| links[i % links.len()];
    match op {
        Op::Endpoint {
            error,
            latency,
            slow,
        } => Command::SetEndpoint {
            node: server.into(),
            endpoint: None,
            behaviour: ServerBehaviour {
                latency_ms: *latency,
                jitter_ms: 10,
                error_percent: *error,
                slow_percent: *slow,
                slow_latency_ms: 2_000,
                ..ServerBehaviour::default()
            },
        },
        Op::Link {
            link: l,
            loss,
            dup,
            latency,
        } => Command::SetLink {
            a: link(*l).0.into(),
            b: link(*l).1.into(),
            direction: Direction::Both,
            faults: LinkFaults {
                latency_ms: *latency,
                jitter_ms: latency / 2,
                loss_percent: *loss,
                duplicate_percent: *dup,
                ..LinkFaults::default()
            },
        },
        Op::Partition { link: l } => Command::Partition {
            a: link(*l).0.into(),
            b: link(*l).1.into(),
        },
        Op::Hold { link: l } => Command::Hold {
            a: link(*l).0.into(),
            b: link(*l).1.into(),
        },
        Op::Release { link: l } => Command::Release {
            a: link(*l).0.into(),
            b: link(*l).1.into(),
        },
        Op::Crash { instance } => Command::Crash {
            node: server.into(),
            instance: instance % instances,
        },
        Op::Restart { instance } => Command::Restart {
            node: server.into(),
            instance: instance % instances,
        },
        Op::Pause { instance } => Command::Pause {
            node: server.into(),
            instance: instance % instances,
        },
        Op::Resume { instance } => Command::Resume {
            node: server.into(),
            instance: instance % instances,
        },
        Op::PauseClient => Command::Pause {
            node: client.into(),
            instance: 0,
        },
        Op::ResumeClient => Command::Resume {
            node: client.into(),
            instance: 0,
        },
        Op::Breaker { state } => Command::SetBreaker {
            node: client.into(),
            instance: 0,
            service: server.into(),
            state: CircuitBreakerState::ALL[*state],
        },
    }
}

fn heal(sim: &mut Simulation, world: usize) {
    let (_, client, server, links, instances) = WORLDS[world];
    for (a, b) in links {
        for cmd in [
            Command::SetLink {
                a: (*a).into(),
                b: (*b).into(),
                direction: Direction::Both,
                faults: LinkFaults {
                    latency_ms: 10,
                    ..LinkFaults::default()
                },
            },
            Command::Release {
                a: (*a).into(),
                b: (*b).into(),
            },
        ] {
            sim.apply(cmd).unwrap();
        }
    }
    for i in 0..instances {
        for cmd in [
            Command::Restart {
                node: server.into(),
                instance: i,
            },
            Command::Resume {
                node: server.into(),
                instance: i,
            },
        ] {
            sim.apply(cmd).unwrap();
        }
    }
    sim.apply(Command::Resume {
        node: client.into(),
        instance: 0,
    })
    .unwrap();
}

fn run(world: usize, seed: u64, schedule: &[(u64, Op)]) -> Simulation {
    let mut scenario =
        Scenario::from_json(msgsim::scenarios::get(WORLDS[world].0).unwrap()).unwrap();
    let policies = &mut scenario.dependencies[0].policies;
    if world == 3 {
        let p: msgsim::resilience::Policies = serde_json::from_value(serde_json::json!({
            "bulkhead": {"maxConcurrentCalls": 2, "maxWaitDuration": "50ms"},
            "timeLimiter": {"timeoutDuration": "300ms"},
            "retry": {"maxAttempts": 2, "waitDuration": "20ms"},
            "circuitBreaker": {"slidingWindowSize": 5, "minimumNumberOfCalls": 5,
                               "waitDurationInOpenState": "1s"}
        }))
        .unwrap();
        *policies = p;
    }
    if world == 4 {
        if let Some(tl) = policies.time_limiter.as_mut() {
            tl.cancel_running_future = false;
        }
    }
    let trace = TraceConfig {
        enabled: true,
        capacity: 1_000_000,
    };
    let mut sim = Simulation::with_trace(scenario, seed, trace).unwrap();
    let mut schedule = schedule.to_vec();
    schedule.sort_by_key(|(t, _)| *t);
    for (t, op) in &schedule {
        sim.run_until(SimTime::from_ms(*t), u64::MAX);
        // A breaker command along an illegal edge is refused; that is part of the property.
        let _ = sim.apply(command(world, op));
    }
    sim.run_until(SimTime::from_ms(20_000), u64::MAX);
    heal(&mut sim, world);
    sim
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn breakers_move_only_along_legal_edges(
        world in prop_oneof![Just(0usize), Just(2usize), Just(3usize)],
        seed in any::<u64>(),
        schedule in prop::collection::vec((0u64..20_000, op()), 0..16),
    ) {
        let mut sim = run(world, seed, &schedule);
        let events = sim.run_to_idle(5_000_000);
        prop_assert!(events < 5_000_000, "seed {seed}: did not settle");
        let mut state: BTreeMap<String, CircuitBreakerState> = BTreeMap::new();
        let mut last_t = 0;
        for e in sim.trace().events() {
            if let TraceKind::BreakerTransition { at, service, from, to, .. } = &e.what {
                let key = format!("{at} -> {service}");
                let before = state.get(&key).copied().unwrap_or(CircuitBreakerState::Closed);
                prop_assert!(legal_edge(*from, *to), "seed {seed}: {e}");
                prop_assert_ne!(from, to, "seed {}: {}", seed, e);
                prop_assert_eq!(*from, before, "seed {}: {} does not start where the last ended", seed, e);
                prop_assert!(e.time.0 >= last_t);
                last_t = e.time.0;
                state.insert(key, *to);
            }
        }
        // The snapshot's state and timeline agree with the trace.
        for p in sim.snapshot().proxies {
            if let Some(b) = p.breaker {
                let key = format!("{}#{} -> {}", p.client, p.instance, p.service);
                let traced = state.get(&key).copied().unwrap_or(CircuitBreakerState::Closed);
                prop_assert_eq!(b.state, traced, "seed {}", seed);
                for w in b.transitions.windows(2) {
                    prop_assert_eq!(w[0].to, w[1].from);
                    prop_assert!(w[0].at_us <= w[1].at_us);
                }
            }
        }
    }

    #[test]
    fn bulkhead_slots_all_come_back(
        world in prop_oneof![Just(0usize), Just(1usize), Just(3usize), Just(4usize)],
        seed in any::<u64>(),
        schedule in prop::collection::vec((0u64..20_000, op()), 0..16),
    ) {
        let mut sim = run(world, seed, &schedule);
        let events = sim.run_to_idle(5_000_000);
        prop_assert!(events < 5_000_000, "seed {seed}: did not settle");
        let snap = sim.snapshot();
        prop_assert!(snap.calls.is_empty(), "seed {seed}: calls left");
        prop_assert!(snap.in_flight.is_empty());
        for p in &snap.proxies {
            prop_assert_eq!(p.outstanding_calls, 0);
            if let Some(b) = p.bulkhead {
                prop_assert_eq!(b.available_concurrent_calls, b.max_concurrent_calls, "seed {}", seed);
                prop_assert_eq!(b.waiting_calls, 0, "seed {}", seed);
            }
            let m = p.metrics;
            prop_assert_eq!(m.calls, m.finished, "seed {}", seed);
            prop_assert_eq!(m.finished, m.successes + m.failures + m.fallbacks);
        }
        for n in &snap.nodes {
            for i in &n.instances {
                prop_assert_eq!((i.workers_busy, i.request_queue, i.blocked_calls), (0, 0, 0));
            }
        }
        let m = snap.metrics;
        prop_assert_eq!(m.delivered + m.dropped, m.sent + m.duplicated);
    }
}
