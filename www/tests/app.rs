//! Browser tests of the playground: mount the app into a test element, drive it through its
//! controls (buttons, inputs, clicks on the canvas), let Yew render, and check the DOM against a
//! direct engine run with the same seed, commands and virtual times.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::network::{Direction, LinkFaults};
use msgsim::{Command, SimTime, Simulation};
use msgsim_web::format::{resolve_start, UrlParams};
use msgsim_web::geometry::Layout;
use msgsim_web::state::{AppInit, MAX_EVENTS_PER_FRAME};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, EventInit, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const SCENARIO: &str = "order-events";
const SEED: u64 = 42;

mod common;
use common::{document, mount_init as mount};

fn default_init() -> AppInit {
    AppInit::builtin(SCENARIO, SEED)
}

fn engine() -> Simulation {
    Simulation::from_json(msgsim::scenarios::get(SCENARIO).unwrap(), SEED).unwrap()
}

#[wasm_bindgen_test]
async fn topology_renders_every_node_link_and_instance() {
    let app = mount(default_init()).await;
    let svg = app.get("topology");
    assert_eq!(svg.tag_name().to_lowercase(), "svg");
    assert_eq!(
        svg.get_attribute("viewBox").as_deref(),
        Some("0.0 0.0 1000.0 600.0")
    );
    for id in [
        "link-order-broker",
        "link-broker-kitchen",
        "link-broker-accounting",
        "link-broker-notification",
        "node-order",
        "node-broker",
        "node-kitchen",
        "node-accounting",
        "node-notification",
        "queue-order-events/accounting",
        "queue-kitchen-tickets",
    ] {
        assert!(app.find(id).is_some(), "{id} missing");
    }
    // order 1 + broker 1 + kitchen 2 + accounting 1 + notification 1.
    let instances = app
        .root
        .query_selector_all("svg [data-testid^=\"instance-\"]")
        .unwrap();
    assert_eq!(instances.length(), 6);
    assert_eq!(app.text("clock"), "t = 0.000 s");
    assert_eq!(app.metric("sent"), 0);
    assert!(app.find("error").is_none());
    assert!(app.messages().is_empty());
    assert_eq!(app.text("speed-label"), "0.5×");
}

#[wasm_bindgen_test]
async fn advancing_draws_what_a_direct_engine_run_has_in_flight() {
    let app = mount(default_init()).await;
    app.click("advance").await;
    app.click("advance").await;

    let mut sim = engine();
    sim.run_until(SimTime::from_ms(1_000), MAX_EVENTS_PER_FRAME);
    sim.run_until(SimTime::from_ms(2_000), MAX_EVENTS_PER_FRAME);
    let m = *sim.metrics();
    assert_eq!(app.text("clock"), "t = 2.000 s");
    assert_eq!(app.metric("sent"), m.sent);
    assert_eq!(app.metric("delivered"), m.delivered);
    assert_eq!(app.metric("published"), m.published);
    assert_eq!(app.metric("processed"), m.processed);
    assert_eq!(app.metric("effects"), m.effects);
    assert_eq!(app.metric("acked"), m.acked);

    // Every packet on the wire is drawn, with its attributes and its position on its lane.
    let snap = sim.snapshot();
    let layout = Layout::new(sim.scenario());
    let drawn = app.messages();
    assert!(!snap.in_flight.is_empty(), "the workload ticks at 2 s");
    assert_eq!(drawn.len(), snap.in_flight.len());
    for (m, t) in drawn.iter().zip(&snap.in_flight) {
        assert!(m.drawn, "a sparse run draws every message: {m:?}");
        assert_eq!(m.id, t.msg.to_string());
        assert_eq!(m.kind, t.kind);
        assert!(["command", "event", "document", "reply", "ack"].contains(&t.kind));
        assert_eq!(m.attempt, t.attempt.to_string());
        assert_eq!(m.duplicate, t.duplicate.to_string());
        let at = layout
            .position(&t.from, &t.to, t.progress(snap.time))
            .unwrap();
        let (x, y) = (m.x, m.y);
        assert!(
            (x - at.x).abs() < 0.06 && (y - at.y).abs() < 0.06,
            "{x},{y} vs {at:?}"
        );
    }

    // The event log ends with the engine's last trace event.
    let log = app.get("event-log");
    let last = log.last_element_child().unwrap().text_content().unwrap();
    assert_eq!(last, sim.trace().events().last().unwrap().to_string());
}

#[wasm_bindgen_test]
async fn loss_set_in_the_fault_panel_makes_dropped_grow() {
    let app = mount(default_init()).await;
    app.click("advance").await;
    // Select the link by clicking it on the canvas, then type 100 % loss.
    app.click("link-order-broker").await;
    let class = app
        .get("link-order-broker")
        .get_attribute("class")
        .unwrap_or_default();
    assert!(class.split(' ').any(|c| c == "selected"), "{class}");
    app.type_into("fault-loss", "100").await;
    assert_eq!(app.input_value("fault-loss"), "100");
    assert_eq!(app.all("fault-badge").len(), 1);
    let log = app.get("command-log").text_content().unwrap();
    assert!(log.contains("set_link order <-> broker"), "{log}");
    assert!(log.contains("loss=100%"), "{log}");
    let dropped_before = app.metric("dropped");
    app.click("advance").await;
    let dropped_after = app.metric("dropped");
    assert!(
        dropped_after > dropped_before,
        "{dropped_before} -> {dropped_after}"
    );

    // Exactly what the engine gives for the same command at the same virtual time.
    let mut sim = engine();
    sim.run_until(SimTime::from_ms(1_000), MAX_EVENTS_PER_FRAME);
    sim.apply(Command::SetLink {
        a: "order".into(),
        b: "broker".into(),
        direction: Direction::Both,
        faults: LinkFaults {
            latency_ms: 40,
            jitter_ms: 10,
            loss_percent: 100.0,
            ..LinkFaults::default()
        },
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(2_000), MAX_EVENTS_PER_FRAME);
    assert_eq!(dropped_after, sim.metrics().dropped);
    assert_eq!(app.metric("sent"), sim.metrics().sent);
    // Dropped messages fall off their link for a moment.
    assert!(!app.all("falling").is_empty());
}

#[wasm_bindgen_test]
async fn fault_inputs_are_clamped_or_refused_with_a_reason() {
    let app = mount(default_init()).await;
    app.type_into("fault-duplicate", "150").await;
    let note = app.text("fault-note");
    assert!(note.contains("clamped to 100"), "{note}");
    assert_eq!(app.input_value("fault-duplicate"), "100");
    app.type_into("fault-latency", "").await;
    let err = app.text("fault-error");
    assert!(err.contains("not a number"), "{err}");
    // Node commands go through the same path and change the instance's status.
    app.click("instance-kitchen-1").await;
    app.click("fault-crash").await;
    assert_eq!(
        app.get("instance-kitchen-1")
            .get_attribute("data-status")
            .as_deref(),
        Some("crashed")
    );
    app.click("fault-restart").await;
    assert_eq!(
        app.get("instance-kitchen-1")
            .get_attribute("data-status")
            .as_deref(),
        Some("up")
    );
}

#[wasm_bindgen_test]
async fn a_bad_seed_keeps_the_old_one_and_says_why() {
    let app = mount(default_init()).await;
    app.type_into("seed", "abc").await;
    let err = app.text("seed-error");
    assert!(
        err.contains("`abc`") && err.contains("Keeping seed 42"),
        "{err}"
    );
    assert_eq!(app.input_value("seed"), "abc");
    app.type_into("seed", "7").await;
    assert!(app.find("seed-error").is_none());
    app.click("advance").await;
    let mut sim = Simulation::from_json(msgsim::scenarios::get(SCENARIO).unwrap(), 7).unwrap();
    sim.run_until(SimTime::from_ms(1_000), MAX_EVENTS_PER_FRAME);
    assert_eq!(app.metric("sent"), sim.metrics().sent);
}

#[wasm_bindgen_test]
async fn url_mistakes_show_a_banner_and_the_page_keeps_working() {
    let init: AppInit = resolve_start(&UrlParams {
        scenario: Some("does-not-exist".into()),
        seed: Some("abc".into()),
        embed: false,
    })
    .into();
    let app = mount(init).await;
    let banner = app.text("error");
    assert!(banner.contains("does-not-exist"), "{banner}");
    assert!(banner.contains("Seed `abc`"), "{banner}");
    assert!(banner.contains("using the scenario's seed 42"), "{banner}");
    assert!(app.find("topology").is_some());
    app.click("step").await;
    // One engine event (the first workload tick) and the trace lines it wrote.
    let mut sim = engine();
    sim.step();
    let lines = app.get("event-log").child_element_count();
    assert_eq!(lines as u64, sim.trace().len_total());
    assert_eq!(app.metric("sent"), sim.metrics().sent);
}

#[wasm_bindgen_test]
async fn embed_mode_shows_only_the_canvas_and_the_transport() {
    let mut init = default_init();
    init.embed = true;
    let app = mount(init).await;
    for id in ["topology", "play", "pause", "step", "reset", "caption"] {
        assert!(app.find(id).is_some(), "{id} missing");
    }
    for id in ["fault-panel", "event-log", "metric-sent", "scenario"] {
        assert!(app.find(id).is_none(), "{id} present in embed mode");
    }
    assert_eq!(
        app.get("open-playground").get_attribute("href").as_deref(),
        Some("?scenario=order-events&seed=42")
    );
}

#[wasm_bindgen_test]
async fn play_runs_the_clock_and_pause_stops_it() {
    let app = mount(default_init()).await;
    app.click("play").await;
    assert_eq!(
        app.get("play").get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    let mut moved = false;
    for _ in 0..100 {
        yew::platform::time::sleep(Duration::from_millis(30)).await;
        if app.text("clock") != "t = 0.000 s" {
            moved = true;
            break;
        }
    }
    assert!(moved, "the clock did not move while playing");
    app.click("pause").await;
    let stopped = app.text("clock");
    yew::platform::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(app.text("clock"), stopped);
    app.click("reset").await;
    assert_eq!(app.text("clock"), "t = 0.000 s");
}

#[wasm_bindgen_test]
async fn uploads_are_checked_and_a_bad_file_changes_nothing() {
    let app = mount(default_init()).await;
    let upload = |text: &str, name: &str| {
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let file = web_sys::File::new_with_str_sequence(&parts, name).unwrap();
        let dt = web_sys::DataTransfer::new().unwrap();
        dt.items().add_with_file(&file).unwrap();
        let input: HtmlInputElement = app.get("upload").dyn_into().unwrap();
        input.set_files(dt.files().as_ref());
        let init = EventInit::new();
        init.set_bubbles(true);
        input
            .dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap())
            .unwrap();
    };
    upload(
        "{\n  \"name\": \"broken\",\n  \"nodes\": [ }",
        "broken.json",
    );
    yew::platform::time::sleep(Duration::from_millis(200)).await;
    let err = app.text("upload-error");
    assert!(
        err.contains("broken.json") && err.contains("line 3 column"),
        "{err}"
    );
    assert_eq!(
        app.text("scenario-title"),
        "Order events: publish/subscribe and competing consumers"
    );

    let good = msgsim::scenarios::get(SCENARIO).unwrap().replacen(
        "Order events: publish",
        "Uploaded copy: publish",
        1,
    );
    upload(&good, "mine.json");
    yew::platform::time::sleep(Duration::from_millis(200)).await;
    assert!(app.find("upload-error").is_none());
    assert!(app.text("scenario-title").starts_with("Uploaded copy"));
}

#[wasm_bindgen_test]
fn the_panic_banner_shows_the_message() {
    msgsim_web::web::show_panic_banner("boom at src/x.rs:1:1");
    let el = document()
        .query_selector("[data-testid=\"panic\"]")
        .unwrap()
        .expect("banner");
    assert!(el.text_content().unwrap().contains("boom at src/x.rs:1:1"));
    el.remove();
}
