//! The `schema-registry` scenario: the writer schema id travels in the headers, each consumer
//! instance looks it up in the registry node once (a round trip) and caches it; a registry that is
//! down makes consumers nack and the broker redeliver. Exact values from real runs, seed 11.

use msgsim::schema_view::{DeadLetterView, DecodeOutcome, RegistryEntryView, SchemaMetrics};
use msgsim::{Command, MessageId, SimTime, Simulation};

fn registry() -> Simulation {
    Simulation::from_json(msgsim::scenarios::get("schema-registry").unwrap(), 11).unwrap()
}

fn lines(sim: &Simulation, pattern: &str) -> Vec<String> {
    sim.trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains(pattern))
        .collect()
}

#[test]
fn one_round_trip_per_instance_and_id() {
    let mut sim = registry();
    sim.run_until(SimTime::from_ms(1_000), u64::MAX);
    // billing#0, shipping#0 (for m1) and billing#1 (for m2, its first message) look id 1 up once;
    // every later message decodes from the cache.
    assert_eq!(
        lines(&sim, "schema_"),
        [
            "t=75.365ms shipping#0 -> registry schema_lookup m1 attempt=1 #5",
            "t=78.807ms billing#0 -> registry schema_lookup m1 attempt=1 #6",
            "t=96.636ms billing#0 -> registry schema_lookup m1 arrived #6",
            "t=96.636ms registry -> billing#0 schema_reply m1 attempt=1 #7",
            "t=97.412ms shipping#0 -> registry schema_lookup m1 arrived #5",
            "t=97.412ms registry -> shipping#0 schema_reply m1 attempt=1 #8",
            "t=119.562ms registry -> shipping#0 schema_reply m1 arrived #8",
            "t=121.356ms registry -> billing#0 schema_reply m1 arrived #7",
            "t=276.267ms billing#1 -> registry schema_lookup m2 attempt=1 #16",
            "t=300.441ms billing#1 -> registry schema_lookup m2 arrived #16",
            "t=300.441ms registry -> billing#1 schema_reply m2 attempt=1 #17",
            "t=317.927ms registry -> billing#1 schema_reply m2 arrived #17",
        ]
    );
    let m = sim.schema_metrics().unwrap();
    assert_eq!(
        (m.lookups, m.lookup_replies, m.cache_hits, m.accepted),
        (3, 3, 7, 10)
    );
    let s = sim.schema_snapshot().unwrap();
    assert_eq!(s.registries[0].lookups_served, 3);
    assert_eq!(
        s.registries[0].schemas,
        [
            RegistryEntryView {
                id: 1,
                subject: "orders-value".into(),
                version: "1.0.0".into()
            },
            RegistryEntryView {
                id: 2,
                subject: "orders-value".into(),
                version: "1.1.0".into()
            },
            // The patch release rolled out at 8 s gets its own id.
            RegistryEntryView {
                id: 3,
                subject: "orders-value".into(),
                version: "1.1.1".into()
            }
        ]
    );
    // A lookup on the wire is drawn as `lookup` with the message's schema.
    let mut probe = registry();
    probe.run_until(SimTime::from_ms(80), u64::MAX);
    let snap = probe.snapshot();
    let lookup = snap.in_flight.iter().find(|t| t.kind == "lookup").unwrap();
    assert_eq!(
        (lookup.from.as_str(), lookup.to.as_str()),
        ("shipping", "registry")
    );
    assert_eq!(lookup.wire.as_ref().unwrap().schema_id, 1);
}

#[test]
fn a_registry_outage_blocks_new_ids_until_it_is_back() {
    let mut sim = registry();
    sim.run_to_idle(u64::MAX);
    let s = sim.schema_snapshot().unwrap();
    assert_eq!(
        s.metrics,
        SchemaMetrics {
            encoded: 50,
            produce_rejected: 0,
            accepted: 97,
            rejected: 0,
            // The 1.1.1 patch release at 8 s costs one more round trip per consumer instance
            // (billing#0, billing#1, shipping#0): 3 lookups and replies more, 3 cache hits less.
            lookups: 35,
            lookup_replies: 9,
            lookup_timeouts: 26,
            cache_hits: 88,
            nacks: 26,
        }
    );
    // 50 messages to 2 subscriptions: 97 decoded, 3 dead-lettered after 8 deliveries each.
    let reason =
        "schema id 2: registry `registry` did not answer within 200 ms (after 8 deliveries)";
    assert_eq!(
        s.dead_letters,
        [
            DeadLetterView {
                at: SimTime(6_228_015),
                queue: "orders/shipping".into(),
                consumer: "shipping".into(),
                msg: MessageId(21),
                writer: "OrderPlaced@1.1.0".into(),
                attempts: 8,
                reason: reason.into(),
            },
            DeadLetterView {
                at: SimTime(6_267_491),
                queue: "orders/billing".into(),
                consumer: "billing".into(),
                msg: MessageId(21),
                writer: "OrderPlaced@1.1.0".into(),
                attempts: 8,
                reason: reason.into(),
            },
            DeadLetterView {
                at: SimTime(6_441_676),
                queue: "orders/billing".into(),
                consumer: "billing".into(),
                msg: MessageId(22),
                writer: "OrderPlaced@1.1.0".into(),
                attempts: 8,
                reason: reason.into(),
            },
        ]
    );
    assert_eq!(sim.metrics().dead_lettered, 3);
    let per: Vec<_> = s
        .consumers
        .iter()
        .map(|c| (c.consumer.as_str(), c.accepted, c.rejected, c.retried))
        .collect();
    assert_eq!(per, [("billing", 48, 0, 17), ("shipping", 49, 0, 9)]);
    // 9 round trips in all: id 1 for three instances, id 2 for three after the restart, id 3
    // (the 1.1.1 patch release) for three.
    assert_eq!(s.registries[0].lookups_served, 9);
    // The first failed decode, as the consumer recorded it.
    let retry = s
        .decodes
        .iter()
        .flat_map(|d| d.decodes.iter())
        .find(|d| matches!(d.outcome, DecodeOutcome::Retry { .. }))
        .unwrap();
    assert_eq!(
        serde_json::to_string(retry).unwrap(),
        r#"{"at":4276910,"msg":21,"instance":0,"channel":"orders","writer":"OrderPlaced@1.1.0","schema_id":2,"reader_version":"1.0.0","mode":"tolerant","encoding":"avro","attempt":1,"outcome":"retry","reason":"schema id 2: registry `registry` did not answer within 200 ms"}"#
    );
    // Shipping's first try of m21, from delivery to redelivery.
    let m21: Vec<String> = lines(&sim, " m21")
        .into_iter()
        .filter(|l| l.contains("shipping") && (l.contains(" m21 ") || l.ends_with(" m21")))
        .take(10)
        .collect();
    assert_eq!(
        m21,
        [
            "t=4028.663ms orders/shipping enqueue m21 depth=1",
            "t=4028.663ms broker -> shipping#0 deliver m21 attempt=1 #130",
            "t=4057.210ms broker -> shipping#0 deliver m21 arrived #130",
            "t=4072.210ms shipping#0 -> registry schema_lookup m21 attempt=1 #131",
            "t=4093.449ms shipping#0 -> registry schema_lookup m21 dropped (node_down) #131",
            "t=4272.210ms shipping#0 schema id 2 lookup timed out, nack m21",
            "t=4272.210ms shipping#0 -> broker nack m21 attempt=1 #136",
            "t=4300.242ms shipping#0 -> broker nack m21 arrived #136",
            "t=4300.242ms orders/shipping redeliver m21 attempt=2 (nacked)",
            "t=4300.242ms broker -> shipping#0 deliver m21 attempt=2 #139",
        ]
    );
}

#[test]
fn a_crashed_consumer_forgets_its_cache() {
    let mut sim = registry();
    sim.run_until(SimTime::from_ms(2_000), u64::MAX);
    assert_eq!(sim.schema_metrics().unwrap().lookups, 3);
    sim.apply(Command::Crash {
        node: "billing".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(2_100), u64::MAX);
    sim.apply(Command::Restart {
        node: "billing".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(2_900), u64::MAX);
    let m = sim.schema_metrics().unwrap();
    assert_eq!((m.lookups, m.lookup_replies), (4, 4));
    assert_eq!(
        lines(&sim, "schema_lookup m12"),
        [
            "t=2266.350ms billing#0 -> registry schema_lookup m12 attempt=1 #77",
            "t=2290.484ms billing#0 -> registry schema_lookup m12 arrived #77",
        ]
    );
}

#[test]
fn replies_after_the_timeout_are_ignored() {
    // A paused registry answers late: the consumers have nacked and asked again by then.
    let mut sim = registry();
    sim.run_until(SimTime::from_ms(50), u64::MAX);
    sim.apply(Command::Pause {
        node: "registry".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(500), u64::MAX);
    sim.apply(Command::Resume {
        node: "registry".into(),
        instance: 0,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(1_500), u64::MAX);
    let m = sim.schema_metrics().unwrap();
    assert_eq!(
        (m.lookups, m.lookup_replies, m.lookup_timeouts, m.nacks),
        (6, 3, 3, 3)
    );
    assert_eq!(
        sim.schema_snapshot().unwrap().registries[0].lookups_served,
        6
    );
    assert_eq!(
        lines(&sim, "timed out"),
        [
            "t=275.365ms shipping#0 schema id 1 lookup timed out, nack m1",
            "t=278.807ms billing#0 schema id 1 lookup timed out, nack m1",
            "t=476.267ms billing#1 schema id 1 lookup timed out, nack m2",
        ]
    );
}
