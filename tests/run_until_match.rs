//! `run_until_match` and `run_until_state` (issue 14): stop where something happens. Values are
//! pinned from real runs.

use msgsim::resilience::circuit_breaker::CircuitBreakerState;
use msgsim::{Command, MatchOutcome, SimTime, Simulation, TraceKind};

fn sim(name: &str, seed: u64) -> Simulation {
    Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed).unwrap()
}

#[test]
fn stops_at_the_first_breaker_opening_and_a_command_lands_right_after_it() {
    let mut s = sim("circuit-breaker", 42);
    let out = s.run_until_match(
        |e| {
            matches!(
                e.what,
                TraceKind::BreakerTransition {
                    to: CircuitBreakerState::Open,
                    ..
                }
            )
        },
        1_000_000,
    );
    let MatchOutcome::Matched { seq, time, events } = out else {
        panic!("no breaker opened: {out:?}");
    };
    assert_eq!((seq, time, events), (2334, SimTime(6_630_000), 1208));
    let e = s.trace().events().find(|e| e.seq == seq).unwrap();
    assert!(
        e.to_string().contains("CLOSED -> OPEN"),
        "the matching event: {e}"
    );
    let TraceKind::BreakerTransition { at, service, .. } = e.what.clone() else {
        unreachable!()
    };
    assert_eq!(
        (&*at.node, at.instance, &*service),
        ("checkout-b", 0, "payments-b")
    );
    // The next command is recorded exactly there.
    s.apply(Command::SetBreaker {
        node: at.node.to_string(),
        instance: at.instance,
        service: service.to_string(),
        state: CircuitBreakerState::ForcedOpen,
    })
    .unwrap();
    let rec = s.command_log().last().unwrap();
    assert_eq!((rec.at, rec.events), (time, events));
}

#[test]
fn a_run_that_goes_idle_says_so_and_the_budget_is_honoured() {
    let mut s = sim("order-events", 42);
    let out = s.run_until_match(|_| false, 500);
    assert_eq!(out, MatchOutcome::Budget { events: 500 });
    let out = s.run_until_match(|_| false, u64::MAX);
    // order-events handles 1 380 events in all.
    assert_eq!(out, MatchOutcome::Idle { events: 880 });
}

#[test]
fn stops_when_the_state_holds() {
    let mut s = sim("order-events", 42);
    let out = s.run_until_state(
        |s| {
            s.node_metrics("accounting")
                .is_some_and(|m| m.distinct >= 10)
        },
        1_000_000,
    );
    assert_eq!(
        out,
        MatchOutcome::Matched {
            seq: 362,
            time: SimTime(2_607_270),
            events: 212
        }
    );
    assert_eq!(s.node_metrics("accounting").unwrap().distinct, 10);
    // Already true: no event handled.
    assert_eq!(
        s.run_until_state(|_| true, 10),
        MatchOutcome::Matched {
            seq: out_seq(&out),
            time: s.now(),
            events: 0
        }
    );
}

fn out_seq(o: &MatchOutcome) -> u64 {
    match o {
        MatchOutcome::Matched { seq, .. } => *seq,
        _ => 0,
    }
}
