//! Browser tests of the inspection views (broker, receivers, transactional panels, gallery,
//! new fault commands): mount the app on a built-in scenario, advance it with the "+1 s" button,
//! and compare the DOM with a direct engine run of the same scenario, seed and virtual times.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::snapshot::DeadLetterReason;
use msgsim::SimTime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{cells, engine_at as engine, mount_builtin as mount};

/// `m.s` with three decimals and ` s`, as the views print virtual times.
fn secs(t: SimTime) -> String {
    let ms = t.as_us() / 1_000;
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

#[wasm_bindgen_test]
async fn dead_letter_lists_show_what_the_engine_dead_lettered_and_why() {
    const NAME: &str = "dead-letter-queue";
    let app = mount(NAME).await;
    app.advance(10).await;
    let snap = engine(NAME, 10);
    let mut reasons = Vec::new();
    for ch in &snap.channels {
        for q in &ch.queues {
            let rows = app.all_in(&format!(
                "[data-testid=\"dlq-{}\"] [data-testid=\"dlq-row\"]",
                q.name
            ));
            assert_eq!(rows.len(), q.dead_letter_queue.len(), "{}", q.name);
            for (row, d) in rows.iter().zip(&q.dead_letter_queue) {
                let reason = match d.reason {
                    DeadLetterReason::DeliveryLimit => "delivery_limit",
                    DeadLetterReason::Rejected => "rejected",
                };
                reasons.push(reason);
                assert_eq!(
                    cells(row),
                    vec![
                        d.msg.to_string(),
                        format!("{} {}", d.kind.as_str(), d.type_name),
                        d.key.clone().unwrap_or_default(),
                        d.deliveries.to_string(),
                        reason.to_string(),
                        secs(d.at),
                    ]
                );
            }
            // The queue row's counters.
            let row = app.get(&format!("queue-row-{}", q.name));
            let c = cells(&row);
            assert_eq!(c[0], q.name);
            assert_eq!(c[1], q.ready.to_string());
            assert_eq!(c[2], q.unacked.to_string());
            assert_eq!(c[3], q.redelivered.to_string());
            assert_eq!(c[4], q.nacked.to_string());
            assert_eq!(c[5], q.dead_letters.to_string());
        }
    }
    // Both reasons occur in this scenario: requeue until the delivery limit, and reject.
    assert!(reasons.contains(&"delivery_limit"), "{reasons:?}");
    assert!(reasons.contains(&"rejected"), "{reasons:?}");
    assert_eq!(
        app.get("metric-dead_lettered").text_content().unwrap(),
        snap.metrics.dead_lettered.to_string()
    );
}

#[wasm_bindgen_test]
async fn the_processed_messages_table_shows_each_id_once_and_its_discarded_repeats() {
    const NAME: &str = "duplicate-handling";
    let app = mount(NAME).await;
    app.advance(10).await;
    let snap = engine(NAME, 10);
    let billing = snap.nodes.iter().find(|n| n.name == "billing").unwrap();
    let rows = app.all_in("[data-testid=\"processed-billing\"] [data-testid=\"processed-row\"]");
    assert!(!billing.processed_table.is_empty());
    assert_eq!(rows.len(), billing.processed_table.len());
    // Newest first.
    for (row, r) in rows.iter().zip(billing.processed_table.iter().rev()) {
        let repeats = match (r.repeats, r.last_repeat) {
            (0, _) => "—".to_string(),
            (1, Some((t, k))) => format!("1 duplicate discarded (last {} on #{k})", secs(t)),
            (n, Some((t, k))) => format!("{n} duplicates discarded (last {} on #{k})", secs(t)),
            (n, None) => format!("{n} duplicates discarded"),
        };
        assert_eq!(
            cells(row),
            vec![
                r.msg.to_string(),
                r.key.clone().unwrap_or_default(),
                format!("#{}", r.instance),
                secs(r.at),
                repeats,
            ]
        );
        assert_eq!(
            row.get_attribute("data-repeats").as_deref(),
            Some(r.repeats.to_string().as_str())
        );
        let class = row.get_attribute("class").unwrap_or_default();
        assert_eq!(class.contains("repeated"), r.repeats > 0);
    }
    let discarded: u32 = billing.processed_table.iter().map(|r| r.repeats).sum();
    assert!(discarded > 0, "the scenario makes billing discard repeats");
    assert_eq!(
        u64::from(discarded),
        billing.metrics.duplicates_discarded,
        "every discarded repeat is on a row still shown"
    );
    // The receiver's pill: effects against expected.
    let pill = app.get("receiver-billing").text_content().unwrap();
    assert!(
        pill.contains(&format!(
            "effects {} / expected {}",
            billing.metrics.effects, billing.metrics.effects_expected
        )),
        "{pill}"
    );
}

#[wasm_bindgen_test]
async fn outbox_rows_carry_the_published_flag_of_the_engine() {
    const NAME: &str = "outbox-polling";
    let app = mount(NAME).await;
    app.advance(2).await;
    let snap = engine(NAME, 2);
    let db = &snap.transactional.databases[0];
    assert_eq!(db.service, "order");
    let rows = app.all_in("[data-testid=\"outbox-order\"] [data-testid=\"outbox-row\"]");
    assert_eq!(rows.len(), db.outbox.recent.len());
    for (row, o) in rows.iter().zip(&db.outbox.recent) {
        assert_eq!(
            row.get_attribute("data-id").as_deref(),
            Some(o.id.to_string().as_str())
        );
        assert_eq!(
            row.get_attribute("data-published").as_deref(),
            Some(if o.published { "true" } else { "false" })
        );
        let c = cells(row);
        assert_eq!(c[1], o.msg.to_string());
        assert_eq!(c[2], o.aggregate_id);
        assert_eq!(c[4], o.lsn.to_string());
        assert_eq!(c[6], if o.published { "✓ yes" } else { "no" });
    }
    // At 2 s the relay has published and marked the early rows, not the newest one.
    assert!(db.outbox.recent.iter().any(|o| o.published));
    assert!(db.outbox.recent.iter().any(|o| !o.published));
    // The relay on the canvas and in the panel says what state it is in.
    let relay = &snap.transactional.relays[0];
    assert_eq!(
        app.get("node-order-relay")
            .get_attribute("data-state")
            .as_deref(),
        Some("running")
    );
    assert_eq!(relay.state, msgsim::outbox::view::RelayState::Running);
}

#[wasm_bindgen_test]
async fn the_dual_write_table_counts_what_the_engine_counts() {
    const NAME: &str = "dual-write";
    let app = mount(NAME).await;
    app.advance(8).await;
    let snap = engine(NAME, 8);
    assert_eq!(snap.transactional.strategies.len(), 3);
    for s in &snap.transactional.strategies {
        let row = app.get(&format!("strategy-{}-{}", s.service, s.strategy.as_str()));
        let words = match s.strategy {
            msgsim::outbox::Strategy::Outbox => "outbox",
            msgsim::outbox::Strategy::CommitThenPublish => "commit, then publish",
            msgsim::outbox::Strategy::PublishThenCommit => "publish, then commit",
        };
        assert_eq!(
            cells(&row),
            vec![
                s.service.clone(),
                words.to_string(),
                s.operations.to_string(),
                s.committed.to_string(),
                s.rolled_back.to_string(),
                s.published.to_string(),
                s.pending.to_string(),
                s.lost.to_string(),
                s.phantom.to_string(),
                s.duplicates.to_string(),
            ]
        );
    }
    let by = |svc: &str| {
        snap.transactional
            .strategies
            .iter()
            .find(|s| s.service == svc)
            .unwrap()
    };
    // What the scenario is about: the dual writers lose or invent events, the outbox does not.
    assert_eq!(
        (by("order-outbox").lost, by("order-outbox").phantom),
        (0, 0)
    );
    assert!(by("order-commit-first").lost > 0);
    assert!(by("order-publish-first").phantom > 0);
}

#[wasm_bindgen_test]
async fn the_picker_groups_scenarios_by_section_and_the_gallery_loads_one() {
    let app = mount("order-events").await;
    let groups = app.all_in("[data-testid=\"scenario\"] optgroup");
    let labels: Vec<String> = groups
        .iter()
        .map(|g| g.get_attribute("label").unwrap_or_default())
        .collect();
    assert_eq!(
        labels,
        [
            "Asynchronous messaging",
            "Competing receivers and message ordering",
            "Message Broker",
            "Handling duplicate messages",
            "Transactional messaging",
            "Improving synchronous communication",
            "Synchronous Communication",
            "REST",
            "Fault Tolerance in REST",
            "Service Discovery",
            "API-first design",
        ]
    );
    let options: Vec<String> = app
        .all_in("[data-testid=\"scenario\"] optgroup option")
        .iter()
        .map(|o| o.get_attribute("value").unwrap_or_default())
        .collect();
    assert_eq!(options, msgsim::scenarios::names().collect::<Vec<_>>());
    app.click("gallery-dual-write").await;
    assert_eq!(
        app.get("scenario-title").text_content().unwrap(),
        "Dual write vs transactional outbox"
    );
    // Its databases panel replaces order-events' empty one.
    assert_eq!(app.all_in("[data-testid=\"databases\"]").len(), 1);
    assert_eq!(app.all_in("[data-testid=\"db-order-relay\"]").len(), 0);
    assert_eq!(app.all_in("[data-testid=\"db-order-outbox\"]").len(), 1);
}

#[wasm_bindgen_test]
async fn relay_and_channel_faults_from_the_panel() {
    const NAME: &str = "outbox-log-tailing";
    let app = mount(NAME).await;
    app.click("node-order-relay").await;
    app.click("fault-reject").await;
    assert_eq!(
        app.get("rejections-armed").text_content().unwrap(),
        "Rejections armed: order-events ×1"
    );
    app.click("fault-arm-crash").await;
    assert_eq!(
        app.get("armed").text_content().unwrap(),
        "Armed: order-relay#0 at after_publish"
    );
    app.click("fault-stop-relay").await;
    assert_eq!(
        app.get("node-order-relay")
            .get_attribute("data-state")
            .as_deref(),
        Some("stopped")
    );
    let log = app.get("command-log").text_content().unwrap();
    assert!(log.contains("reject_next_publish order-events x1"), "{log}");
    assert!(
        log.contains("arm_crash order-relay#0 at after_publish"),
        "{log}"
    );
    assert!(log.contains("stop_relay order-relay"), "{log}");
}

/// The Invariants panel of `dual-write` after 3 s: the outbox's claim holds, commit-first's is
/// violated by its crash at 2.040 s (event #428, whose trace line the toggle shows), and
/// publish-first's still holds (it gives up a publish only at 7.540 s). Each line matches the
/// engine's statuses at the same virtual time.
#[wasm_bindgen_test]
async fn the_invariants_panel_shows_each_claim_and_the_first_violating_event() {
    const NAME: &str = "dual-write";
    let app = mount(NAME).await;
    app.advance(3).await;
    let snap = engine(NAME, 3);
    assert_eq!(snap.invariants.len(), 3);
    let text = |id: String| app.get(&id).text_content().unwrap_or_default();
    for (i, s) in snap.invariants.iter().enumerate() {
        assert_eq!(
            text(format!("invariant-verdict-{i}")),
            msgsim_web::components::invariants::verdict(s)
        );
    }
    assert!(text("invariant-0".into()).starts_with("✓No message lost"));
    assert!(text("invariant-1".into()).starts_with("✗No message lost"));
    assert!(text("invariant-2".into()).starts_with("✓No message lost"));
    let verdict = text("invariant-verdict-1".into());
    assert!(
        verdict.starts_with("violated at t=2.040 s (event #428) · 1 violating event · "),
        "{verdict}"
    );
    assert_eq!(
        text("invariant-reason-1".into()),
        "order-commit-first#0 crashed (after_commit) after committing m32 and before publishing it"
    );
    assert_eq!(
        text("invariant-show-1".into()),
        "first violating event #428"
    );
    assert_eq!(
        text("invariant-line-1".into()),
        "t=2040.000ms order-commit-first#0 crash at failpoint after_commit"
    );
    // The line is hidden until the toggle opens it.
    let details = app.all_in("[data-testid=\"invariant-1\"] details");
    assert_eq!(details.len(), 1);
    assert!(!details[0].has_attribute("open"));
    app.click("invariant-show-1").await;
    assert!(details[0].has_attribute("open"));
    assert!(app
        .all_in("[data-testid=\"invariant-0\"] details")
        .is_empty());
    // "go to" moves the run back to the violating event: the clock reads 2.040 s and the claim
    // is violated by the event just handled.
    assert_eq!(text("invariant-go-1".into()), "⇤ go to t=2.040 s");
    app.click("invariant-go-1").await;
    assert_eq!(
        text("clock".into()),
        msgsim_web::format::format_clock(SimTime::from_ms(2_040))
    );
    assert!(text("invariant-verdict-1".into())
        .starts_with("violated at t=2.040 s (event #428) · 1 violating event · "));
}
