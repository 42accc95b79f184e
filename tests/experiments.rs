//! Every experiment of every built-in scenario does what it says.
//!
//! For each experiment: the scenario runs with its default seed to the experiment's `at_ms`
//! (the documented place), the experiment's commands are applied there, its follow-ups at
//! `at_ms + after_ms`, and the run goes on for `within_ms`, checking the expectation every
//! 50 ms of virtual time. Asserted, from real runs:
//! - the expectation is met, first at the pinned virtual time (ms, to the 50 ms step), and the
//!   expected-vs-actual text at the end of `within_ms` is the pinned one (it carries the exact
//!   counter values, the violation time or the breaker state);
//! - a control run of the same scenario, same seed, same place, without the experiment's
//!   commands: for an expectation that something happens (a counter rising, an invariant
//!   turning ✗, a breaker state), the control meets it later or not at all, so the effect is
//!   the experiment's and not the scenario's own; for a bound (an invariant staying ✓, a
//!   counter rising by at most n), the control breaks it, except for the few listed in
//!   `GUARANTEES` (a guarantee the scenario keeps under the experiment's fault).
//!
//! Re-pin with `MSGSIM_PRINT_PINS=1 cargo test -p msgsim --test experiments -- --nocapture`
//! after checking the printed numbers are right.

use msgsim::experiment::{Expect, Experiment};
use msgsim::{Scenario, SimTime, Simulation};

/// Checking period, ms of virtual time.
const STEP_MS: u64 = 50;

#[derive(Debug, PartialEq)]
struct Outcome {
    /// First check (virtual ms) at which the expectation was met.
    met_at_ms: Option<u64>,
    /// Met at the end of `within_ms`.
    met_at_end: bool,
    /// Expected vs actual at the end.
    expected: String,
    actual: String,
}

fn run(s: &Scenario, e: &Experiment, apply: bool) -> Outcome {
    let mut sim = Simulation::new(s.clone(), s.seed).expect("built-in builds");
    sim.run_until(SimTime::from_ms(e.at_ms), u64::MAX);
    let base = e.baseline(&sim.snapshot());
    if apply {
        for c in &e.commands {
            sim.apply(c.clone())
                .unwrap_or_else(|err| panic!("{}: `{}`: {err}", s.name, e.title));
        }
    }
    let mut follow: Vec<_> = if apply { e.then.clone() } else { Vec::new() };
    follow.sort_by_key(|f| f.after_ms);
    let end = e.at_ms + e.within_ms;
    let mut t = e.at_ms;
    let mut met_at_ms = None;
    let mut last = e.expect.evaluate(&sim.snapshot(), &base);
    if last.met {
        met_at_ms = Some(t);
    }
    while t < end {
        let next = (t + STEP_MS).min(end);
        while let Some(f) = follow.first().filter(|f| e.at_ms + f.after_ms <= next) {
            sim.run_until(SimTime::from_ms(e.at_ms + f.after_ms), u64::MAX);
            sim.apply(f.command.clone())
                .unwrap_or_else(|err| panic!("{}: `{}` follow-up: {err}", s.name, e.title));
            follow.remove(0);
        }
        sim.run_until(SimTime::from_ms(next), u64::MAX);
        t = next;
        last = e.expect.evaluate(&sim.snapshot(), &base);
        if last.met && met_at_ms.is_none() {
            met_at_ms = Some(t);
        }
    }
    Outcome {
        met_at_ms,
        met_at_end: last.met,
        expected: last.expected,
        actual: last.actual,
    }
}

/// Whether the expectation says something happens (rather than a bound that holds).
fn positive(e: &Expect) -> bool {
    match e {
        Expect::Counter(c) => c.rises_at_most.is_none(),
        Expect::Invariant(i) => !i.holds,
        Expect::Breaker(_) => true,
    }
}

/// Experiments whose expectation is a bound the scenario keeps anyway (a guarantee shown under
/// a fault): their control run meets it too. Every other bound (`stays ✓`, `rises by ≤`) is
/// broken by the control run: the experiment is what keeps it.
const GUARANTEES: &[(&str, &str)] = &[
    ("outbox-polling", "Crash the relay for a second"),
    ("dual-write", "Crash order-outbox after its commit"),
    ("rest-maturity", "Slow level 3's link by 500 ms"),
];

/// (scenario, title, first met at ms, actual at the end, control first met at ms).
type Pin = (
    &'static str,
    &'static str,
    Option<u64>,
    &'static str,
    Option<u64>,
);

const PINS: &[Pin] = &[
    (
        "order-events",
        "Lose 20 % of messages between broker and accounting",
        Some(3350),
        "✗ at t=3.328 s",
        None,
    ),
    (
        "order-events",
        "Duplicate 30 % of Order's publishes",
        Some(3850),
        "+30 (0 → 30)",
        None,
    ),
    (
        "order-events",
        "Partition kitchen from the broker for 3 s",
        Some(3350),
        "+11 (0 → 11)",
        None,
    ),
    (
        "one-way-notification",
        "Partition the archive from the broker for 4 s",
        Some(2550),
        "+7 (0 → 7)",
        None,
    ),
    (
        "one-way-notification",
        "Lose 30 % between Order and the broker",
        Some(4800),
        "+2 (0 → 2)",
        None,
    ),
    (
        "request-async-reply",
        "Put 2 s of latency on broker <-> consumer",
        Some(11700),
        "+5 (5 → 10)",
        None,
    ),
    (
        "request-async-reply",
        "Duplicate 30 % of deliveries to Consumer",
        Some(1400),
        "+4 (0 → 4)",
        None,
    ),
    (
        "request-async-reply",
        "Crash Order with requests pending",
        Some(2100),
        "+1 (0 → 1)",
        None,
    ),
    (
        "publish-async-responses",
        "Delay courier B by 500 ms more",
        Some(3950),
        "+7 (0 → 7)",
        None,
    ),
    (
        "publish-async-responses",
        "Partition courier A from the broker",
        Some(4550),
        "+2 (0 → 2)",
        None,
    ),
    (
        "brokerless-vs-broker",
        "Lose 30 % on the direct link",
        Some(2250),
        "+1 (0 → 1)",
        None,
    ),
    (
        "brokerless-vs-broker",
        "Lose 30 % between the broker and brokered-kitchen",
        Some(1850),
        "+4 (0 → 4)",
        None,
    ),
    (
        "brokerless-vs-broker",
        "Crash the broker for 2 s",
        Some(1800),
        "+32 (0 → 32)",
        None,
    ),
    (
        "competing-consumers",
        "Pause kitchen#0 past the 2 s ack timeout",
        Some(3150),
        "+2 (0 → 2)",
        None,
    ),
    (
        "competing-consumers",
        "Crash two kitchen instances",
        Some(1050),
        "+25 (0 → 25)",
        None,
    ),
    (
        "partitioned-orders",
        "Pause billing#0 for 4 s",
        Some(4650),
        "+1 (1 → 2)",
        None,
    ),
    (
        "partitioned-orders",
        "Partition broker <-> billing for 3 s",
        Some(3950),
        "+20 (10 → 30)",
        None,
    ),
    (
        "idempotent-producer",
        "Raise the loss to 40 % on both producers",
        Some(1800),
        "+10 (2 → 12)",
        Some(4000),
    ),
    (
        "idempotent-producer",
        "Add 40 ms of jitter on both producers' links",
        Some(1250),
        "+26 (3 → 29)",
        Some(2150),
    ),
    (
        "parallel-workers",
        "Give thumbnailer one worker per partition",
        Some(2600),
        "+34 (9 → 43)",
        None,
    ),
    (
        "parallel-workers",
        "Pause thumbnailer#1 for 3 s",
        Some(3450),
        "+2 (1 → 3)",
        None,
    ),
    (
        "dead-letter-queue",
        "Partition broker -> payment one way",
        Some(7250),
        "+2 (0 → 2)",
        None,
    ),
    (
        "dead-letter-queue",
        "Lose 30 % of Payment's acks",
        Some(3600),
        "+1 (0 → 1)",
        None,
    ),
    (
        "dead-letter-queue",
        "Make Billing's handler fail 60 % of invoices",
        Some(2600),
        "+11 (0 → 11)",
        None,
    ),
    (
        "dead-letter-queue",
        "Raise the delivery limit to 10",
        Some(1000),
        "+0 (0 → 0)",
        Some(1000),
    ),
    (
        "broker-durability",
        "Make orders-transient durable before the crash",
        Some(1000),
        "✓ holding",
        Some(1000),
    ),
    (
        "broker-durability",
        "Crash and restart the broker now",
        Some(3000),
        "+9 (0 → 9)",
        None,
    ),
    (
        "broker-durability",
        "Pause analytics first, then let the crash come",
        Some(5000),
        "+23 (0 → 23)",
        None,
    ),
    (
        "broker-bottleneck",
        "Pause the broker for a second",
        Some(2650),
        "+112 (0 → 112)",
        None,
    ),
    (
        "broker-bottleneck",
        "Make the click burst twice as fast",
        Some(5500),
        "+1444 (0 → 1444)",
        None,
    ),
    (
        "broker-dedup-window",
        "Duplicate 30 % on order -> broker",
        Some(1050),
        "+1 (0 → 1)",
        None,
    ),
    (
        "broker-dedup-window",
        "Widen the dedup window to 5 s",
        Some(1000),
        "✓ holding",
        Some(1000),
    ),
    (
        "consumer-offsets",
        "Lose 20 % on broker <-> notifier",
        Some(2250),
        "✗ at t=2.235 s",
        None,
    ),
    (
        "consumer-offsets",
        "Pause ledger#0 for 3 s instead of a crash",
        Some(4750),
        "+6 (0 → 6)",
        None,
    ),
    (
        "duplicate-handling",
        "Pause billing#0 past the ack timeout",
        Some(1650),
        "+2 (0 → 2)",
        None,
    ),
    (
        "duplicate-handling",
        "Duplicate 30 % on order <-> broker",
        Some(3750),
        "+9 (0 → 9)",
        None,
    ),
    (
        "outbox-polling",
        "Crash the relay between publish and mark",
        Some(5600),
        "+1 (1 → 2)",
        None,
    ),
    (
        "outbox-polling",
        "Crash the relay for a second",
        Some(5000),
        "✓ holding",
        Some(5000),
    ),
    (
        "outbox-log-tailing",
        "Crash the relay now, restart it 500 ms later",
        Some(8000),
        "+3 (2 → 5)",
        None,
    ),
    (
        "outbox-log-tailing",
        "Save the position after every record",
        Some(8000),
        "+14 (11 → 25)",
        None,
    ),
    (
        "outbox-log-tailing",
        "Crash the broker for a second",
        Some(7800),
        "+4 (0 → 4)",
        None,
    ),
    (
        "dual-write",
        "Crash order-publish-first after its publish",
        Some(8700),
        "+1 (4 → 5)",
        None,
    ),
    (
        "dual-write",
        "Crash order-commit-first after its commit",
        Some(8650),
        "+1 (3 → 4)",
        None,
    ),
    (
        "dual-write",
        "Crash order-outbox after its commit",
        Some(8500),
        "✓ holding",
        Some(8500),
    ),
    (
        "outbox-ordering",
        "Make the pipelined relay strict (max_in_flight 1)",
        Some(500),
        "✓ holding",
        Some(500),
    ),
    (
        "outbox-ordering",
        "Pipeline the strict relay (max_in_flight 5)",
        Some(1200),
        "✗ at t=1.160 s",
        None,
    ),
    (
        "data-replication",
        "Put 200 ms of latency on broker <-> order",
        Some(1300),
        "709 ms",
        None,
    ),
    (
        "data-replication",
        "Crash the broker for 2 s",
        Some(1550),
        "+15 (0 → 15)",
        Some(2550),
    ),
    (
        "respond-before-processing",
        "Crash the order relay for 2 s",
        Some(2000),
        "+1 (0 → 1)",
        None,
    ),
    (
        "respond-before-processing",
        "Put 300 ms of latency on broker <-> accounting",
        Some(2300),
        "+3 (0 → 3)",
        None,
    ),
    ("rpi-rest", "Pause orders#0", Some(2500), "+2 (0 → 2)", None),
    (
        "rpi-rest",
        "Slow OrderService to 800 ms",
        Some(3500),
        "+3 (0 → 3)",
        None,
    ),
    (
        "rpi-rest",
        "Add 300 ms of latency on checkout <-> orders",
        Some(2500),
        "+3 (0 → 3)",
        None,
    ),
    (
        "rest-maturity",
        "Crash orders-l2",
        Some(2100),
        "+1 (0 → 1)",
        None,
    ),
    (
        "rest-maturity",
        "Slow level 3's link by 500 ms",
        Some(1000),
        "+0 (0 → 0)",
        Some(1000),
    ),
    (
        "circuit-breaker",
        "Force checkout-b's breaker open",
        Some(2450),
        "+10 (0 → 10)",
        None,
    ),
    (
        "circuit-breaker",
        "Disable checkout-b's breaker",
        Some(8200),
        "✗ at t=8.200 s",
        None,
    ),
    (
        "circuit-breaker",
        "Make payments-b fail instead of slow",
        Some(2500),
        "OPEN",
        None,
    ),
    (
        "circuit-breaker",
        "Make the breaker trip sooner (window 4, minimum 2 calls)",
        Some(5950),
        "OPEN",
        Some(6650),
    ),
    (
        "timeouts-retries",
        "Make inventory fail 80 % of requests",
        Some(3850),
        "+29 (1 → 30)",
        None,
    ),
    (
        "timeouts-retries",
        "Lose 30 % on checkout <-> inventory",
        Some(4000),
        "+16 (0 → 16)",
        None,
    ),
    (
        "timeouts-retries",
        "Give cart a retry too (maxAttempts 3)",
        Some(4100),
        "+4 (0 → 4)",
        None,
    ),
    (
        "bulkhead",
        "Slow the orders report to 1.5 s",
        Some(3800),
        "+34 (22 → 56)",
        None,
    ),
    (
        "bulkhead",
        "Crash orders#0",
        Some(3750),
        "+10 (0 → 10)",
        None,
    ),
    (
        "resilience-composed",
        "Make payments slow, not failing",
        Some(2900),
        "OPEN at t=2.870 s (now HALF_OPEN)",
        None,
    ),
    (
        "resilience-composed",
        "Crash payments#0",
        Some(2100),
        "+5 (0 → 5)",
        None,
    ),
    (
        "discovery-client-side",
        "Pause orders#2",
        Some(3500),
        "+7 (0 → 7)",
        None,
    ),
    (
        "discovery-client-side",
        "Crash the registry",
        Some(3300),
        "+2 (0 → 2)",
        None,
    ),
    (
        "discovery-client-side",
        "Add a retry to checkout's calls",
        Some(5350),
        "+10 (0 → 10)",
        None,
    ),
    (
        "discovery-server-side",
        "Crash the router for a second",
        Some(2450),
        "+10 (0 → 10)",
        None,
    ),
    (
        "discovery-server-side",
        "Pause orders#0",
        Some(3000),
        "+8 (0 → 8)",
        None,
    ),
    (
        "discovery-server-side",
        "Crash the registrar",
        Some(3550),
        "+13 (0 → 13)",
        None,
    ),
    (
        "schema-rollout",
        "Roll the producer back to 1.1.0",
        Some(10350),
        "+11 (32 → 43)",
        None,
    ),
    (
        "schema-rollout",
        "Roll the producer back to 1.0.0",
        Some(10350),
        "+11 (16 → 27)",
        None,
    ),
    (
        "encoding-comparison",
        "Lose 10 % on broker <-> billing (Avro)",
        Some(4150),
        "+4 (0 → 4)",
        None,
    ),
    (
        "encoding-comparison",
        "Lose 10 % on broker <-> reporting (JSON)",
        Some(1750),
        "+3 (0 → 3)",
        None,
    ),
    (
        "schema-registry",
        "Restart billing#0 while billing cannot reach the registry",
        // 8 700 ms and +7 before the 1.1.1 patch release at 8 s (billing, partitioned, cannot
        // look its id 3 up either, so those deliveries are redelivered too).
        Some(8400),
        "+14 (15 → 29)",
        None,
    ),
    (
        "schema-registry",
        "Restart the registry early (at 4.5 s)",
        Some(4500),
        "+0 (0 → 0)",
        Some(4500),
    ),
    // Live commands added for the page's forms: scale, set_bulkhead, set_rate_limiter.
    (
        "competing-consumers",
        "Scale kitchen in to 1 instance, then out to 3",
        Some(1150),
        "+21 (0 → 21)",
        None,
    ),
    (
        "partitioned-orders",
        "Scale billing in to 1 instance, then out to 3",
        Some(5100),
        "+3 (1 → 4)",
        None,
    ),
    (
        "bulkhead",
        "Tighten reporting's bulkhead to 1 slot, no waiting",
        Some(3450),
        "+40 (22 → 62)",
        None,
    ),
    (
        "bulkhead",
        "Cut dashboard's rate limiter to 1 call per second",
        Some(4300),
        "+26 (7 → 33)",
        None,
    ),
];

#[test]
fn every_builtin_has_at_least_two_experiments() {
    for name in msgsim::scenarios::names() {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        assert!(
            s.experiments.len() >= 2,
            "{name} has {} experiments",
            s.experiments.len()
        );
        assert!(
            !s.description.contains("Try:"),
            "{name}: its Try suggestions should be experiments"
        );
    }
}

#[test]
fn every_experiment_does_what_it_promises() {
    let print = std::env::var("MSGSIM_PRINT_PINS").is_ok();
    let mut seen = 0;
    let mut failures = Vec::new();
    for name in msgsim::scenarios::names() {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        for e in &s.experiments {
            seen += 1;
            let with = run(&s, e, true);
            let control = run(&s, e, false);
            if print {
                println!(
                    "    ({:?}, {:?}, {:?}, {:?}, {:?}),",
                    name, e.title, with.met_at_ms, with.actual, control.met_at_ms
                );
                println!(
                    "    // expected: {} | control: {}",
                    with.expected, control.actual
                );
            }
            let pin = PINS.iter().find(|p| p.0 == name && p.1 == e.title);
            let problem = if !with.met_at_end {
                Some(format!(
                    "not met at the end: {} | {}",
                    with.expected, with.actual
                ))
            } else if positive(&e.expect)
                && control.met_at_ms.is_some()
                && control.met_at_ms <= with.met_at_ms
            {
                Some(format!(
                    "met as soon without the experiment: at {:?} ms, {}",
                    control.met_at_ms, control.actual
                ))
            } else if !positive(&e.expect)
                && control.met_at_end != GUARANTEES.contains(&(name, e.title.as_str()))
            {
                Some(format!(
                    "a bound: the control run ends {} ({}), against GUARANTEES",
                    if control.met_at_end { "met" } else { "broken" },
                    control.actual
                ))
            } else {
                match pin {
                    None => Some("not pinned".to_string()),
                    Some(p)
                        if (p.2, p.3, p.4)
                            != (with.met_at_ms, with.actual.as_str(), control.met_at_ms) =>
                    {
                        Some(format!(
                            "pinned {:?} {:?} control {:?}, got {:?} {:?} control {:?}",
                            p.2, p.3, p.4, with.met_at_ms, with.actual, control.met_at_ms
                        ))
                    }
                    Some(_) => None,
                }
            };
            if let Some(p) = problem {
                failures.push(format!("{name}: `{}`: {p}", e.title));
            }
        }
    }
    assert_eq!(PINS.len(), seen, "one pin per experiment");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
