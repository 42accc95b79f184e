//! The `schema-rollout` scenario: the producer moves 1.0.0 -> 1.1.0 (minor, at 4 s) -> 2.0.0
//! (major, at 8 s) while CRM (tolerant, 1.0.0), Audit (strict, 1.0.0) and Mailer (tolerant,
//! 1.1.0) stay behind. Exact values from real runs with the scenario's seed 7.

use msgsim::schema::ChangeClass;
use msgsim::schema_view::DeadLetterView;
use msgsim::{Command, CommandError, MessageId, SimTime, Simulation};
use semver::Version;

fn rollout() -> Simulation {
    Simulation::from_json(msgsim::scenarios::get("schema-rollout").unwrap(), 7).unwrap()
}

/// `consumer: version=accepted/rejected, ...` per consumer.
fn counts(sim: &Simulation) -> Vec<String> {
    sim.schema_snapshot()
        .unwrap()
        .consumers
        .iter()
        .map(|c| {
            let per: Vec<String> = c
                .by_writer
                .iter()
                .map(|w| format!("{}={}/{}", w.version, w.accepted, w.rejected))
                .collect();
            format!("{}: {}", c.consumer, per.join(", "))
        })
        .collect()
}

fn set_version(node: &str, channel: &str, v: Version) -> Command {
    Command::SetSchemaVersion {
        node: node.into(),
        channel: channel.into(),
        version: v,
    }
}

#[test]
fn who_breaks_when() {
    let mut sim = rollout();
    sim.run_until(SimTime::from_ms(3_999), u64::MAX);
    assert_eq!(
        counts(&sim),
        ["crm: 1.0.0=16/0", "audit: 1.0.0=16/0", "mailer: 1.0.0=16/0"]
    );
    sim.run_until(SimTime::from_ms(7_999), u64::MAX);
    // The minor rollout breaks only the strict reader.
    assert_eq!(
        counts(&sim),
        [
            "crm: 1.0.0=16/0, 1.1.0=16/0",
            "audit: 1.0.0=16/0, 1.1.0=0/16",
            "mailer: 1.0.0=16/0, 1.1.0=16/0"
        ]
    );
    assert_eq!(sim.metrics().dead_lettered, 16);
    sim.run_to_idle(u64::MAX);
    // The major rollout breaks everybody.
    assert_eq!(
        counts(&sim),
        [
            "crm: 1.0.0=16/0, 1.1.0=16/0, 2.0.0=0/16",
            "audit: 1.0.0=16/0, 1.1.0=0/16, 2.0.0=0/16",
            "mailer: 1.0.0=16/0, 1.1.0=16/0, 2.0.0=0/16"
        ]
    );
    let s = sim.schema_snapshot().unwrap();
    assert_eq!(s.metrics.accepted, 80);
    assert_eq!(s.metrics.rejected, 64);
    assert_eq!(sim.metrics().dead_lettered, 64);
    assert_eq!(s.dead_letters.len(), 64);
    assert_eq!(
        s.dead_letters[0],
        DeadLetterView {
            at: SimTime(4_115_417),
            queue: "user-events/audit".into(),
            consumer: "audit".into(),
            msg: MessageId(17),
            writer: "UserRegistered@1.1.0".into(),
            attempts: 1,
            reason: "unknown field age".into(),
        }
    );
    assert_eq!(
        s.dead_letters[16],
        DeadLetterView {
            at: SimTime(8_096_748),
            queue: "user-events/crm".into(),
            consumer: "crm".into(),
            msg: MessageId(33),
            writer: "UserRegistered@2.0.0".into(),
            attempts: 1,
            reason: "missing field name".into(),
        }
    );
    let last: Vec<_> = s
        .consumers
        .iter()
        .map(|c| c.last_reason.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(last, ["missing field name"; 3]);
    // The first 1.1.0 message at Audit, line by line at the consumer.
    let audit: Vec<String> = sim
        .trace()
        .events()
        .map(|e| e.to_string())
        .filter(|l| l.contains(" m17 ") && l.contains("audit"))
        .collect();
    assert_eq!(
        audit,
        [
            "t=4034.465ms user-events/audit enqueue m17 depth=1",
            "t=4034.465ms broker -> audit#0 deliver m17 attempt=1 #132",
            "t=4065.684ms broker -> audit#0 deliver m17 arrived #132",
            "t=4085.684ms audit#0 decode m17 UserRegistered@1.1.0 as 1.0.0 strict: rejected (unknown field age)",
            "t=4085.684ms audit#0 -> broker nack m17 attempt=1 #135",
            "t=4115.417ms audit#0 -> broker nack m17 arrived #135",
            "t=4115.417ms user-events/audit dead-letter m17 rejected: unknown field age",
        ]
    );
    assert_eq!(sim.trace().len_total(), 1_330);
    assert_eq!(sim.trace_hash(), 0xf823_d6e1_5c3d_5de5);
}

#[test]
fn change_classes_and_the_compatibility_check_before_anything_flows() {
    let sim = rollout();
    let s = sim.schema_snapshot().unwrap();
    let versions: Vec<_> = s.channels[0]
        .versions
        .iter()
        .map(|v| (v.version.as_str(), v.id, v.change, v.changes.clone()))
        .collect();
    assert_eq!(
        versions,
        [
            ("1.0.0", 1, None, vec![]),
            (
                "1.1.0",
                2,
                Some(ChangeClass::Minor),
                vec!["optional field age added".to_string()]
            ),
            (
                "2.0.0",
                3,
                Some(ChangeClass::Major),
                vec![
                    "field name removed".to_string(),
                    "required field fullName added".to_string()
                ]
            ),
        ]
    );
    let table: Vec<String> = s
        .compatibility
        .iter()
        .map(|c| {
            format!(
                "{} -> {} {}: {:?} backward={} forward={} reads={}",
                c.writer_version,
                c.consumer,
                c.reader_version,
                c.change,
                c.backward,
                c.forward,
                c.reads
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            "1.0.0 -> crm 1.0.0: Patch backward=true forward=true reads=true",
            "1.0.0 -> audit 1.0.0: Patch backward=true forward=true reads=true",
            "1.0.0 -> mailer 1.1.0: Minor backward=true forward=true reads=true",
            "1.1.0 -> crm 1.0.0: Minor backward=true forward=true reads=true",
            "1.1.0 -> audit 1.0.0: Minor backward=true forward=true reads=false",
            "1.1.0 -> mailer 1.1.0: Patch backward=true forward=true reads=true",
            "2.0.0 -> crm 1.0.0: Major backward=false forward=false reads=false",
            "2.0.0 -> audit 1.0.0: Major backward=false forward=false reads=false",
            "2.0.0 -> mailer 1.1.0: Major backward=false forward=false reads=false",
        ]
    );
    assert_eq!(
        s.compatibility[4].reasons,
        ["unknown field age (strict reader)"]
    );
    assert_eq!(
        s.compatibility[6].reasons,
        ["field name: reader field has no default and the writer has no such field"]
    );
    // Before the rollouts the producer writes 1.0.0 (id 1).
    assert_eq!(s.producers[0].version, "1.0.0");
    assert_eq!(s.producers[0].schema_id, 1);
}

#[test]
fn a_live_rollback_heals_the_consumers() {
    let mut sim = rollout();
    sim.run_until(SimTime::from_ms(9_000), u64::MAX);
    sim.apply(set_version("signup", "user-events", Version::new(1, 0, 0)))
        .unwrap();
    assert_eq!(sim.schema_snapshot().unwrap().producers[0].version, "1.0.0");
    sim.run_to_idle(u64::MAX);
    // Five 2.0.0 messages (8.00 s to 9.00 s) broke everyone; the eleven after the rollback at
    // 9 s are 1.0.0 again and read by all.
    assert_eq!(
        counts(&sim),
        [
            "crm: 1.0.0=27/0, 1.1.0=16/0, 2.0.0=0/5",
            "audit: 1.0.0=27/0, 1.1.0=0/16, 2.0.0=0/5",
            "mailer: 1.0.0=27/0, 1.1.0=16/0, 2.0.0=0/5"
        ]
    );
    // The command log replays the run exactly.
    let mut replay = rollout();
    replay.run_with_log(sim.command_log(), SimTime::MAX, u64::MAX);
    replay.run_to_idle(u64::MAX);
    assert_eq!(replay.trace_hash(), sim.trace_hash());
}

#[test]
fn rollout_commands_are_checked() {
    let mut sim = rollout();
    let before = sim.trace_hash();
    let err = |sim: &mut Simulation, c| sim.apply(c).unwrap_err().to_string();
    assert_eq!(
        err(
            &mut sim,
            set_version("signup", "user-events", Version::new(3, 0, 0))
        ),
        "schema: version 3.0.0 is not declared by channel `user-events` (declared: 1.0.0, 1.1.0, 2.0.0)"
    );
    assert_eq!(
        err(
            &mut sim,
            set_version("crm", "user-events", Version::new(1, 0, 0))
        ),
        "schema: `crm` does not produce to `user-events`"
    );
    assert_eq!(
        err(
            &mut sim,
            set_version("signup", "nope", Version::new(1, 0, 0))
        ),
        "schema: unknown channel `nope`"
    );
    assert_eq!(
        sim.apply(set_version("ghost", "user-events", Version::new(1, 0, 0))),
        Err(CommandError::UnknownNode("ghost".into()))
    );
    // Nothing changed, nothing was recorded.
    assert_eq!(sim.trace_hash(), before);
    assert!(sim.command_log().is_empty());
    // A scenario without schemas refuses the command.
    let mut legacy =
        Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 1).unwrap();
    assert_eq!(
        err(
            &mut legacy,
            set_version("order", "order-events", Version::new(1, 0, 0))
        ),
        "schema: the scenario declares no schemas"
    );
    // JSON form of the command.
    let c: Command = serde_json::from_str(
        r#"{"op":"set_schema_version","node":"signup","channel":"user-events","version":"2.0.0"}"#,
    )
    .unwrap();
    assert_eq!(c.describe(), "set_schema_version signup user-events 2.0.0");
}

#[test]
fn frame_size_does_not_change_a_schema_run() {
    let json = msgsim::scenarios::get("schema-registry").unwrap();
    let mut whole = Simulation::from_json(json, 11).unwrap();
    whole.run_until(SimTime::from_ms(12_000), u64::MAX);
    let mut frames = Simulation::from_json(json, 11).unwrap();
    let mut t = 0;
    while t < 12_000_000 {
        t += 16_667;
        frames.run_until(SimTime(t.min(12_000_000)), 3);
    }
    while !frames.run_until(SimTime::from_ms(12_000), 3).reached {}
    assert_eq!(whole.trace_hash(), frames.trace_hash());
    assert_eq!(whole.snapshot(), frames.snapshot());
}
