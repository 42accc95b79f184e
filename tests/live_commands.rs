//! The live-settings commands (`configure_breaker`, `set_retry`, `set_time_limiter`,
//! `set_bulkhead`, `set_rate_limiter`, `scale`, `set_broker_policies`, `set_channel`,
//! `set_workload`, `set_relay`, `set_consumer_group`):
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
        "failure_percent: 120 is out of range 0..=100 (%)"
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
        "every_ms: 0 is out of range 1..=3600000 (ms)"
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
    assert_eq!(
        err(
            &mut c,
            r#"{"op":"configure_breaker","node":"checkout-b","service":"payments-b","config":{"failureRateThreshold":150}}"#,
        ),
        "config.failureRateThreshold: invalid value 150: must be > 0 and <= 100 (percent)"
    );
    assert_eq!(
        err(
            &mut c,
            r#"{"op":"set_retry","node":"shop-a","service":"payments-a","config":{"maxAttempts":2}}"#
        ),
        "`shop-a` does not call `payments-a`"
    );
    assert_eq!(
        err(
            &mut c,
            r#"{"op":"set_retry","node":"shop-a","service":"checkout-a","config":{"maxAttempts":0}}"#,
        ),
        "config.maxAttempts: invalid value 0: must be at least 1"
    );
    let mut b = sim("bulkhead");
    assert_eq!(
        err(
            &mut b,
            r#"{"op":"set_bulkhead","node":"reporting","service":"orders","config":{"maxConcurrentCalls":20000}}"#
        ),
        "config.maxConcurrentCalls: 20000 is out of range 0..=10000"
    );
    assert_eq!(
        err(
            &mut b,
            r#"{"op":"set_bulkhead","node":"reporting","service":"orders","config":{"maxWaitDuration":"25h"}}"#
        ),
        "config.maxWaitDuration: 90000000000 is out of range 0..=86400000000 (µs)"
    );
    assert_eq!(
        err(
            &mut b,
            r#"{"op":"set_rate_limiter","node":"dashboard","service":"orders","config":{"limitForPeriod":0}}"#
        ),
        "config.limitForPeriod: 0 is out of range 1..=1000000"
    );
    assert_eq!(
        err(
            &mut b,
            r#"{"op":"set_rate_limiter","node":"dashboard","service":"orders","config":{"limitRefreshPeriod":"2h"}}"#
        ),
        "config.limitRefreshPeriod: 7200000000 is out of range 1..=3600000000 (µs)"
    );
    assert_eq!(
        err(
            &mut b,
            r#"{"op":"set_rate_limiter","node":"orders","service":"dashboard","config":{}}"#
        ),
        "`orders` does not call `dashboard`"
    );
    let mut k = sim("competing-consumers");
    assert_eq!(
        err(&mut k, r#"{"op":"scale","node":"kitchen","instances":4}"#),
        "instances: 4 is out of range 0..=3 (the scenario declares 3 instances of `kitchen`)"
    );
    assert_eq!(
        err(
            &mut k,
            r#"{"op":"scale","service":"kitchen","instances":17}"#
        ),
        "instances: 17 is out of range 0..=16"
    );
    assert_eq!(
        err(&mut k, r#"{"op":"scale","node":"broker","instances":1}"#),
        "`broker` is not a service"
    );
}

/// A share link or run file whose command carries a bad value is refused when it is loaded,
/// naming the command's place in the run and the field.
#[test]
fn bad_values_in_a_shared_run_are_refused_at_load() {
    let shared = SharedRun {
        scenario: ScenarioRef::Builtin("dead-letter-queue".into()),
        seed: 1,
        commands: vec![msgsim::RecordedCommand {
            at: SimTime::from_ms(10),
            events: 0,
            command: cmd(r#"{"op":"set_broker_policies","prefetch":0}"#),
        }],
        at: SimTime::from_ms(20),
        events: None,
    };
    assert_eq!(
        shared.check().unwrap_err().to_string(),
        "a command of the run is invalid: commands[0].command.prefetch: 0 is out of range \
         1..=10000"
    );
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

#[test]
fn bulkhead_and_rate_limiter_settings_round_trip_and_apply() {
    // bulkhead: reporting's proxy admits 3 calls (wait 200 ms), dashboard's limiter 5 per 1 s.
    // From 2 s on: 12 concurrent calls and 50 permits per second.
    let plain = {
        let mut p = sim("bulkhead");
        p.run_until(SimTime::from_ms(8_000), u64::MAX);
        p.snapshot()
    };
    let s = round_trip(
        "bulkhead",
        2_000,
        &[
            r#"{"op":"set_bulkhead","node":"reporting","service":"orders","config":{"maxConcurrentCalls":12,"maxWaitDuration":"200ms"}}"#,
            r#"{"op":"set_rate_limiter","node":"dashboard","service":"orders","config":{"limitForPeriod":50,"limitRefreshPeriod":"1s","timeoutDuration":"300ms"}}"#,
        ],
        8_000,
    );
    let snap = s.snapshot();
    let get = |snap: &msgsim::Snapshot, c: &str| {
        let p = snap.proxies.iter().find(|p| p.client == c).unwrap();
        (
            p.metrics.rejected_by_bulkhead,
            p.metrics.rejected_by_limiter,
            p.bulkhead.as_ref().map(|b| b.max_concurrent_calls),
            p.rate_limiter.as_ref().map(|r| r.limit_for_period),
        )
    };
    let at_2s = {
        let mut p = sim("bulkhead");
        p.run_until(SimTime::from_ms(2_000), u64::MAX);
        p.snapshot()
    };
    // Without the change: 99 bulkhead rejections and 37 RequestNotPermitted by 8 s. With it:
    // none after 2 s (22 and 7 happened before).
    assert_eq!(get(&plain, "reporting"), (99, 0, Some(3), None));
    assert_eq!(get(&at_2s, "reporting"), (22, 0, Some(3), None));
    assert_eq!(get(&snap, "reporting"), (22, 0, Some(12), None));
    assert_eq!(get(&plain, "dashboard"), (0, 37, None, Some(5)));
    assert_eq!(get(&at_2s, "dashboard"), (0, 7, None, Some(5)));
    assert_eq!(get(&snap, "dashboard"), (0, 7, None, Some(50)));
    assert_eq!(
        s.command_log()[0].command.describe(),
        "set_bulkhead reporting -> orders maxConcurrentCalls=12 maxWaitDuration=200ms"
    );
    assert_eq!(
        s.command_log()[1].command.describe(),
        "set_rate_limiter dashboard -> orders limitForPeriod=50 limitRefreshPeriod=1s \
         timeoutDuration=300ms"
    );
    // Removing both: the proxies have neither from now on.
    let mut s = s;
    s.apply(cmd(
        r#"{"op":"set_bulkhead","node":"reporting","service":"orders"}"#,
    ))
    .unwrap();
    s.apply(cmd(
        r#"{"op":"set_rate_limiter","node":"dashboard","service":"orders","config":null}"#,
    ))
    .unwrap();
    let snap = s.snapshot();
    assert_eq!(get(&snap, "reporting").2, None);
    assert_eq!(get(&snap, "dashboard").3, None);
}

#[test]
fn scale_in_and_out_stops_and_starts_instances() {
    // competing-consumers: kitchen has 3 instances. Scale to 1 at 1 s, back to 3 at 4 s.
    let mut s = sim("competing-consumers");
    s.run_until(SimTime::from_ms(1_000), u64::MAX);
    s.apply(cmd(r#"{"op":"scale","node":"kitchen","instances":1}"#))
        .unwrap();
    let up = |s: &Simulation| {
        s.snapshot()
            .nodes
            .iter()
            .find(|n| n.name == "kitchen")
            .unwrap()
            .instances
            .iter()
            .filter(|i| i.status == msgsim::snapshot::InstanceStatus::Up)
            .count()
    };
    assert_eq!(up(&s), 1);
    s.run_until(SimTime::from_ms(4_000), u64::MAX);
    s.apply(cmd(r#"{"op":"scale","service":"kitchen","instances":3}"#))
        .unwrap();
    assert_eq!(up(&s), 3);
    assert_eq!(
        s.command_log()[1].command.describe(),
        "scale kitchen instances=3"
    );
    let s = round_trip(
        "competing-consumers",
        1_000,
        &[r#"{"op":"scale","node":"kitchen","instances":1}"#],
        4_000,
    );
    assert_eq!(up(&s), 1);
}
