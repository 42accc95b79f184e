//! Request/async response and publish/async responses over a reply channel, with exact values.
//!
//! Topology of the hand-written cases: `client` -> `broker` -> responders, 200 ms links (10 ms
//! for the publish/async responses case), requests on a queue or topic, replies on the `replies`
//! queue consumed by `client`.

use msgsim::snapshot::RequestOutcome;
use msgsim::{Command, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

fn lines(sim: &Simulation) -> Vec<String> {
    sim.trace().events().map(|e| e.to_string()).collect()
}

fn has(sim: &Simulation, line: &str) -> bool {
    lines(sim).iter().any(|l| l == line)
}

/// R1 at t=0 and R2 at t=40 s, each with a 30 s timeout; the server's link is held from t=0
/// until `release_ms`.
fn request_reply(release_ms: u64) -> Scenario {
    let text = json!({
        "name": "rr",
        "nodes": [
            {"name": "client", "kind": "service", "processing_ms": 0},
            {"name": "broker", "kind": "broker"},
            {"name": "server", "kind": "service", "processing_ms": 200}
        ],
        "links": [
            {"a": "client", "b": "broker", "latency_ms": 200},
            {"a": "broker", "b": "server", "latency_ms": 200}
        ],
        "channels": [
            {"name": "requests", "kind": "queue", "broker": "broker", "consumers": ["server"]},
            {"name": "replies", "kind": "queue", "broker": "broker", "consumers": ["client"]}
        ],
        "workloads": [{"from": "client", "every_ms": 40000, "count": 2, "messages": [
            {"channel": "requests", "kind": "command", "type": "VerifyConsumer",
             "reply_to": "replies", "reply_timeout_ms": 30000, "reply_type": "ConsumerVerified"}
        ]}],
        "policies": {"ack_timeout_ms": 60000, "publish_timeout_ms": 1000},
        "faults": [
            {"at_ms": 0, "command": {"op": "hold", "a": "broker", "b": "server"}},
            {"at_ms": release_ms, "command": {"op": "release", "a": "broker", "b": "server"}}
        ]
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

#[test]
fn a_reply_after_the_timeout_is_discarded_and_the_next_request_gets_its_own() {
    // Round trip without the hold: 4 hops of 200 ms + 200 ms of server processing = 1 s.
    let mut s = Simulation::new(request_reply(34_200), 1).unwrap();
    s.run_to_idle(u64::MAX);
    let l = lines(&s);
    let expected = [
        "t=0.000ms client#0 request m1 reply_to=replies timeout_at=30000.000ms",
        "t=30000.000ms client#0 request m1 timed out",
        "t=34600.000ms server#0 reply m2 to m1 on replies",
        "t=35000.000ms broker -> client#0 deliver m2 arrived #7",
        "t=35000.000ms client#0 reply m2 to m1 discarded (late)",
        "t=40000.000ms client#0 request m3 reply_to=replies timeout_at=70000.000ms",
        "t=40600.000ms server#0 reply m4 to m3 on replies",
        "t=41000.000ms client#0 reply m4 completes request m3 after 1000.000ms",
    ];
    let found: Vec<&String> = l
        .iter()
        .filter(|x| expected.contains(&x.as_str()))
        .collect();
    assert_eq!(found, expected.iter().collect::<Vec<_>>());
    let m = *s.metrics();
    assert_eq!(
        (
            m.requests,
            m.replies,
            m.requests_completed,
            m.requests_timed_out,
            m.late_replies,
            m.duplicate_replies
        ),
        (2, 2, 1, 1, 1, 0)
    );
    let client = s.node_metrics("client").unwrap();
    assert_eq!(
        (
            client.requests,
            client.requests_completed,
            client.requests_timed_out,
            client.late_replies
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(s.node_metrics("server").unwrap().replies_sent, 2);
    let snap = s.snapshot();
    let view = &snap.nodes[0];
    assert!(view.requests.is_empty());
    let outcomes: Vec<_> = view
        .request_outcomes
        .iter()
        .map(|o| {
            (
                o.msg.0,
                o.outcome,
                o.sent_at,
                o.finished_at,
                o.responders.clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (
                1,
                RequestOutcome::TimedOut,
                SimTime::ZERO,
                SimTime::from_ms(30_000),
                vec![]
            ),
            (
                3,
                RequestOutcome::Completed,
                SimTime::from_ms(40_000),
                SimTime::from_ms(41_000),
                vec!["server".to_string()]
            ),
        ]
    );
    // The reply carries the correlation id, the reply type and who answered.
    assert!(l.contains(&"t=40800.000ms broker -> client#0 deliver m4 attempt=1 #15".to_string()));
}

#[test]
fn a_late_reply_arriving_while_a_newer_request_waits_is_not_handed_to_it() {
    // Released at 40.2 s: R1's reply reaches the client at 41.0 s while R2 (sent at 40 s) is
    // pending; it is discarded as late, and R2 completes with its own reply at 41.6 s (R2's
    // delivery waited for R1's ack: prefetch 1).
    let mut s = Simulation::new(request_reply(40_200), 1).unwrap();
    s.run_to_idle(u64::MAX);
    assert!(has(
        &s,
        "t=41000.000ms client#0 reply m3 to m1 discarded (late)"
    ));
    assert!(has(
        &s,
        "t=41600.000ms client#0 reply m4 completes request m2 after 1600.000ms"
    ));
    let m = *s.metrics();
    assert_eq!(
        (m.requests_completed, m.requests_timed_out, m.late_replies),
        (1, 1, 1)
    );
}

#[test]
fn a_duplicated_reply_is_discarded_as_a_duplicate() {
    let mut sc = request_reply(34_200);
    sc.faults.clear();
    let mut s = Simulation::new(sc, 1).unwrap();
    s.apply(Command::SetLink {
        a: "broker".into(),
        b: "client".into(),
        direction: msgsim::Direction::AToB,
        faults: msgsim::LinkFaults {
            latency_ms: 200,
            duplicate_percent: 100.0,
            ..Default::default()
        },
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    let m = *s.metrics();
    assert_eq!(
        (m.requests_completed, m.duplicate_replies, m.late_replies),
        (2, 2, 0)
    );
    assert!(has(
        &s,
        "t=1000.000ms client#0 reply m2 to m1 discarded (duplicate)"
    ));
}

#[test]
fn a_crashed_requester_abandons_its_pending_requests() {
    let mut s = Simulation::new(request_reply(34_200), 1).unwrap();
    s.run_until(SimTime::from_ms(10_000), u64::MAX);
    s.apply(Command::Crash {
        node: "client".into(),
        instance: 0,
    })
    .unwrap();
    s.apply(Command::Restart {
        node: "client".into(),
        instance: 0,
    })
    .unwrap();
    s.run_to_idle(u64::MAX);
    assert!(has(
        &s,
        "t=10000.000ms client#0 crashed: 0 direct messages lost, 1 pending requests abandoned"
    ));
    let m = *s.metrics();
    // R1 abandoned (its timer died with the instance), its reply late; R2 completes.
    assert_eq!(
        (
            m.requests_abandoned,
            m.requests_timed_out,
            m.late_replies,
            m.requests_completed
        ),
        (1, 0, 1, 1)
    );
}

/// `client` publishes a quote request to a topic with three subscribers that answer in 50 ms,
/// 140 ms and 2 040 ms; it collects for 1 s.
fn collect(window_ms: u64) -> Scenario {
    let mut nodes = vec![
        json!({"name": "client", "kind": "service", "processing_ms": 0}),
        json!({"name": "broker", "kind": "broker"}),
    ];
    let mut links = vec![json!({"a": "client", "b": "broker", "latency_ms": 10})];
    for (name, ms) in [("fast", 10), ("average", 100), ("slow", 2000)] {
        nodes.push(json!({"name": name, "kind": "service", "processing_ms": ms}));
        links.push(json!({"a": "broker", "b": name, "latency_ms": 10}));
    }
    let text = json!({
        "name": "collect",
        "nodes": nodes,
        "links": links,
        "channels": [
            {"name": "quote-requests", "kind": "topic", "broker": "broker",
             "consumers": ["fast", "average", "slow"]},
            {"name": "replies", "kind": "queue", "broker": "broker", "consumers": ["client"]}
        ],
        "workloads": [{"from": "client", "every_ms": 5000, "count": 1, "messages": [
            {"channel": "quote-requests", "kind": "event", "type": "QuoteRequested",
             "reply_to": "replies", "collect_ms": window_ms}
        ]}],
        "policies": {"ack_timeout_ms": 10000, "publish_timeout_ms": 1000}
    })
    .to_string();
    Scenario::from_json(&text).unwrap()
}

#[test]
fn publish_async_responses_decides_with_the_replies_in_its_window() {
    let mut s = Simulation::new(collect(1_000), 1).unwrap();
    s.run_until(SimTime::from_ms(500), u64::MAX);
    let pending = s.snapshot().nodes[0].requests.clone();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].replies, pending[0].expected, pending[0].collect),
        (2, 3, true)
    );
    s.run_to_idle(u64::MAX);
    for line in [
        "t=0.000ms client#0 request m1 reply_to=replies collect_until=1000.000ms",
        "t=50.000ms client#0 reply m2 to m1 from fast collected (1 so far)",
        "t=140.000ms client#0 reply m3 to m1 from average collected (2 so far)",
        "t=1000.000ms client#0 decided request m1 with 2 of 3 replies",
        "t=2040.000ms client#0 reply m4 to m1 discarded (late)",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let m = *s.metrics();
    assert_eq!((m.decisions, m.late_replies, m.replies), (1, 1, 3));
    let o = &s.snapshot().nodes[0].request_outcomes[0];
    assert_eq!(
        (o.outcome, o.replies, o.expected, o.responders.clone()),
        (
            RequestOutcome::Decided,
            2,
            3,
            vec!["fast".to_string(), "average".to_string()]
        )
    );
    // A window long enough for everyone: 3 of 3, nothing late.
    let mut s = Simulation::new(collect(3_000), 1).unwrap();
    s.run_to_idle(u64::MAX);
    assert!(has(
        &s,
        "t=3000.000ms client#0 decided request m1 with 3 of 3 replies"
    ));
    assert_eq!(s.metrics().late_replies, 0);
}

#[test]
fn a_brokerless_request_and_reply_travel_straight_and_are_lost_with_a_crashed_responder() {
    // client <-> server directly (100 ms), both ways over direct channels; R1 at 0, R2 at 1 s,
    // R3 at 2 s; the server is down from 900 ms to 1 500 ms.
    let text = json!({
        "name": "direct-rr",
        "nodes": [
            {"name": "client", "kind": "service", "processing_ms": 0},
            {"name": "server", "kind": "service", "processing_ms": 50}
        ],
        "links": [{"a": "client", "b": "server", "latency_ms": 100}],
        "channels": [
            {"name": "requests", "kind": "direct", "consumers": ["server"]},
            {"name": "replies", "kind": "direct", "consumers": ["client"]}
        ],
        "workloads": [{"from": "client", "every_ms": 1000, "count": 3, "messages": [
            {"channel": "requests", "kind": "command", "type": "Ping",
             "reply_to": "replies", "reply_timeout_ms": 500}
        ]}],
        "faults": [
            {"at_ms": 900, "command": {"op": "crash", "node": "server"}},
            {"at_ms": 1500, "command": {"op": "restart", "node": "server"}}
        ]
    })
    .to_string();
    let mut s = Simulation::from_json(&text, 1).unwrap();
    s.run_to_idle(u64::MAX);
    for line in [
        "t=0.000ms client#0 -> server#0 direct m1 attempt=1 #1",
        "t=150.000ms server#0 -> client#0 direct m2 attempt=1 #2",
        "t=250.000ms client#0 reply m2 completes request m1 after 250.000ms",
        "t=1100.000ms client#0 -> server#0 direct m3 dropped (node_down) #3",
        "t=1500.000ms client#0 request m3 timed out",
        "t=2250.000ms client#0 reply m5 completes request m4 after 250.000ms",
    ] {
        assert!(has(&s, line), "missing: {line}");
    }
    let m = *s.metrics();
    assert_eq!(
        (
            m.sent,
            m.direct_sent,
            m.direct_lost,
            m.requests_completed,
            m.requests_timed_out,
            m.acked
        ),
        (5, 5, 1, 2, 1, 0)
    );
}

fn builtin(name: &str) -> Simulation {
    let json = msgsim::scenarios::get(name).unwrap();
    let seed = Scenario::from_json(json).unwrap().seed;
    let mut s = Simulation::from_json(json, seed).unwrap();
    s.run_to_idle(10_000_000);
    s
}

#[test]
fn the_request_async_reply_scenario() {
    let s = builtin("request-async-reply");
    let order = s.node_metrics("order").unwrap();
    assert_eq!(
        (
            order.requests,
            order.requests_completed,
            order.requests_timed_out,
            order.late_replies,
            order.duplicate_replies
        ),
        (30, 23, 7, 7, 0)
    );
    let consumer = s.node_metrics("consumer").unwrap();
    assert_eq!((consumer.effects, consumer.replies_sent), (30, 30));
    // Every discarded reply answers a request that had timed out.
    let snap = s.snapshot();
    let timed_out: Vec<u64> = snap.nodes[0]
        .request_outcomes
        .iter()
        .filter(|o| o.outcome == RequestOutcome::TimedOut)
        .map(|o| o.msg.0)
        .collect();
    assert_eq!(timed_out, [17, 18, 19, 20, 21, 22, 23]);
}

#[test]
fn the_publish_async_responses_scenario() {
    let s = builtin("publish-async-responses");
    let m = *s.metrics();
    assert_eq!(
        (m.requests, m.decisions, m.replies, m.late_replies),
        (20, 20, 60, 8)
    );
    let snap = s.snapshot();
    let mut by_count = [0u32; 4];
    for o in &snap.nodes[0].request_outcomes {
        by_count[o.replies as usize] += 1;
    }
    assert_eq!(by_count, [0, 0, 8, 12], "decisions with 0, 1, 2, 3 replies");
    let reply: Value = serde_json::to_value(&snap.nodes[0].request_outcomes[0]).unwrap();
    assert_eq!(reply["outcome"], "decided");
}
