//! The live-settings commands (`configure_breaker`, `set_retry`, `set_time_limiter`,
//! `set_broker_policies`, `set_channel`, `set_workload`, `set_relay`, `set_consumer_group`):
//! refused with a clear error for bad values, recorded in the command log, carried by share
//! links (a replay gives the same trace hash), and doing what they say.

use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, SimTime, Simulation};

fn sim(name: &str) -> Simulation {
    let json = msgsim::scenarios::get(name).expect("built-in");
    let s = msgsim::Scenario::from_json(json).expect("valid");
    let seed = s.seed;
    Simulation::new(s, seed).expect("builds")
}

fn cmd(json: &str) -> Command {
    serde_json::from_str(json).expect("command JSON")
}

fn err(sim: &mut Simulation, json: &str) -> String {
    let before = sim.command_log().len();
    let e = sim.apply(cmd(json)).expect_err(json).to_string();
    assert_eq!(
        sim.command_log().len(),
        before,
        "a refused command is not recorded"
    );
    e
}

#[test]
fn bad_values_are_refused_with_field_value_and_range() {
    let mut s = sim("dead-letter-queue");
    assert_eq!(
        err(&mut s, r#"{"op":"set_broker_policies","prefetch":0}"#),
        "prefetch: 0 is out of range 1..=10000"
    );
    assert_eq!(
        err(
            &mut s,
            r#"{"op":"set_broker_policies","max_delivery_attempts":5000}"#
        ),
        "max_delivery_attempts: 5000 is out of range 1..=1000"
    );
    assert_eq!(
        err(
            &mut s,
            r#"{"op":"set_channel","channel":"invoices","failure_percent":120}"#
        ),
        "failure_percent: 120 is out of range 0..=100"
    );
    assert_eq!(
        err(
            &mut s,
            r#"{"op":"set_channel","channel":"nope","durable":false}"#
        ),
        "unknown channel `nope`"
    );
    assert_eq!(
        err(
            &mut s,
            r#"{"op":"set_workload","workload":3,"every_ms":10}"#
        ),
        "workload: 3 is out of range 0..=0"
    );
    assert_eq!(
        err(&mut s, r#"{"op":"set_workload","workload":0,"every_ms":0}"#),
        "every_ms: 0 is out of range 1..=3600000"
    );
    assert_eq!(
        err(
            &mut s,
            r#"{"op":"set_relay","node":"payment","save_every":2}"#
        ),
        "`payment` is not a relay"
    );
    let mut o = sim("outbox-ordering");
    assert_eq!(
        err(
            &mut o,
            r#"{"op":"set_relay","node":"relay-strict","max_in_flight":0}"#
        ),
        "max_in_flight: 0 is out of range 1..=1000"
    );
    let mut p = sim("parallel-workers");
    assert_eq!(
        err(
            &mut p,
            r#"{"op":"set_consumer_group","channel":"images","consumer":"thumbnailer","workers_per_partition":0}"#
        ),
        "workers_per_partition: 0 is out of range 1..=1024"
    );
    assert_eq!(
        err(
            &mut p,
            r#"{"op":"set_consumer_group","channel":"images","consumer":"uploads","workers_per_partition":2}"#
        ),
        "`uploads` does not consume `images`"
    );
    let mut c = sim("circuit-breaker");
    assert_eq!(
        err(
            &mut c,
            r#"{"op":"configure_breaker","node":"checkout-a","service":"payments-a","config":{}}"#
        ),
        "`checkout-a` -> `payments-a` has no circuit breaker"
    );
    let e = err(
        &mut c,
        r#"{"op":"configure_breaker","node":"checkout-b","service":"payments-b","config":{"failureRateThreshold":150}}"#,
    );
    assert!(e.starts_with("config: "), "{e}");
    assert!(e.contains("failureRateThreshold"), "{e}");
    assert_eq!(
        err(
            &mut c,
            r#"{"op":"set_retry","node":"shop-a","service":"payments-a","config":{"maxAttempts":2}}"#
        ),
        "`shop-a` does not call `payments-a`"
    );
    let e = err(
        &mut c,
        r#"{"op":"set_retry","node":"shop-a","service":"checkout-a","config":{"maxAttempts":0}}"#,
    );
    assert!(e.contains("maxAttempts"), "{e}");
}

/// Applies `cmds` at `at_ms`, runs to `end_ms`, and checks the run travels through a share
/// link: the replay has the same trace hash and the same command log.
fn round_trip(name: &str, at_ms: u64, cmds: &[&str], end_ms: u64) -> Simulation {
    let mut s = sim(name);
    s.run_until(SimTime::from_ms(at_ms), u64::MAX);
    for c in cmds {
        s.apply(cmd(c)).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    s.run_until(SimTime::from_ms(end_ms), u64::MAX);
    assert_eq!(s.command_log().len(), cmds.len());
    let shared = SharedRun {
        scenario: ScenarioRef::Builtin(name.to_string()),
        seed: s.seed(),
        commands: s.command_log().to_vec(),
        at: s.now(),
        events: None,
    };
    let link = shared.encode().expect("fits a link");
    let back = SharedRun::decode(&link).expect("decodes");
    assert_eq!(back, shared);
    let replay = back.replay().expect("replays");
    assert_eq!(replay.trace_hash(), s.trace_hash(), "{name}: same run");
    assert_eq!(replay.command_log(), s.command_log());
    s
}

#[test]
fn broker_policies_and_channels_round_trip_and_apply() {
    let s = round_trip(
        "dead-letter-queue",
        1_000,
        &[
            r#"{"op":"set_broker_policies","prefetch":3,"ack_timeout_ms":400,"max_delivery_attempts":10}"#,
            r#"{"op":"set_channel","channel":"invoices","failure_percent":60,"durable":false,"dedup_window_ms":500}"#,
        ],
        10_000,
    );
    let snap = s.snapshot();
    let invoices = snap.channels.iter().find(|c| c.name == "invoices").unwrap();
    assert_eq!(
        (
            invoices.failure_percent,
            invoices.durable,
            invoices.dedup_window_ms
        ),
        (60.0, false, 500)
    );
    assert_eq!(
        s.command_log()[0].command.describe(),
        "set_broker_policies prefetch=3 ack_timeout=400ms delivery_limit=10"
    );
    assert_eq!(
        s.command_log()[1].command.describe(),
        "set_channel invoices transient dedup_window=500ms failure=60%"
    );
}

#[test]
fn set_workload_changes_the_producer_rate() {
    // order-events: 60 orders every 250 ms. From 1 s on, every 50 ms: the 60 are sent by
    // about 3.9 s instead of 15 s.
    let s = round_trip(
        "order-events",
        1_000,
        &[r#"{"op":"set_workload","workload":0,"every_ms":50}"#],
        4_000,
    );
    assert_eq!(s.node_metrics("order").unwrap().published, 120);
    let plain = {
        let mut p = sim("order-events");
        p.run_until(SimTime::from_ms(4_000), u64::MAX);
        p.node_metrics("order").unwrap().published
    };
    assert_eq!(plain, 34);
}

#[test]
fn resilience_settings_round_trip_and_apply() {
    let s = round_trip(
        "circuit-breaker",
        2_000,
        &[
            r#"{"op":"configure_breaker","node":"checkout-b","service":"payments-b","config":{"slidingWindowSize":4,"minimumNumberOfCalls":2,"waitDurationInOpenState":"1s"}}"#,
            r#"{"op":"set_retry","node":"shop-a","service":"checkout-a","config":{"maxAttempts":2,"waitDuration":"50ms"}}"#,
            r#"{"op":"set_time_limiter","node":"checkout-a","service":"payments-a","config":{"timeoutDuration":"300ms"}}"#,
        ],
        9_000,
    );
    let snap = s.snapshot();
    let proxy = |c: &str, svc: &str| {
        snap.proxies
            .iter()
            .find(|p| p.client == c && p.service == svc)
            .unwrap()
    };
    assert_eq!(proxy("shop-a", "checkout-a").retry_max_attempts, Some(2));
    assert_eq!(
        proxy("checkout-a", "payments-a").time_limit_us,
        Some(300_000)
    );
    let retries = proxy("shop-a", "checkout-a").metrics.retries;
    assert_eq!(retries, 29);
    // Removing the retry: new calls are not retried.
    let mut s = s;
    s.apply(cmd(
        r#"{"op":"set_retry","node":"shop-a","service":"checkout-a"}"#,
    ))
    .unwrap();
    assert_eq!(
        s.snapshot()
            .proxies
            .iter()
            .find(|p| p.client == "shop-a")
            .unwrap()
            .retry_max_attempts,
        None
    );
}

#[test]
fn relay_and_consumer_group_settings_round_trip_and_apply() {
    let s = round_trip(
        "outbox-ordering",
        500,
        &[r#"{"op":"set_relay","node":"relay-pipelined","max_in_flight":1,"batch_size":5}"#],
        6_000,
    );
    let snap = s.snapshot();
    let relay = snap
        .transactional
        .relays
        .iter()
        .find(|r| r.node == "relay-pipelined")
        .unwrap();
    assert_eq!(relay.max_in_flight, 1);
    assert!(snap.invariants.iter().all(|i| i.holds()));
    let s = round_trip(
        "parallel-workers",
        1_000,
        &[
            r#"{"op":"set_consumer_group","channel":"images","consumer":"thumbnailer","workers_per_partition":1}"#,
        ],
        5_000,
    );
    let lag: u64 = s.snapshot().partitioned_topics[0].groups[0]
        .partitions
        .iter()
        .map(|p| p.lag)
        .sum();
    assert_eq!(lag, 43);
}
