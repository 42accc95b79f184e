//! Browser tests of the views below the canvas (synchronous calls, discovery, schemas,
//! partitioned topics): mount the app, advance, compare with a direct engine run.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown --test views
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::{SimTime, Simulation};
use msgsim_web::state::MAX_EVENTS_PER_FRAME;
use wasm_bindgen_test::*;
use web_sys::{MouseEvent, MouseEventInit};

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{flush, mount_seeded as mount, Mounted};

#[wasm_bindgen_test]
async fn breaker_badge_shows_the_engine_state_after_the_trip() {
    const SEED: u64 = 11;
    let app = mount("circuit-breaker", SEED).await;
    let badge = "breaker-checkout-b-payments-b";
    assert_eq!(
        app.get(badge).get_attribute("data-state").unwrap(),
        "CLOSED"
    );

    let mut sim =
        Simulation::from_json(msgsim::scenarios::get("circuit-breaker").unwrap(), SEED).unwrap();
    // The breaker trips at 6.63 s: advance past it, one second at a time as the button does.
    for s in 1..=7u64 {
        app.click("advance").await;
        sim.run_until(SimTime::from_ms(s * 1_000), MAX_EVENTS_PER_FRAME);
    }
    let snap = sim.snapshot();
    let b = snap
        .proxies
        .iter()
        .find(|p| p.client == "checkout-b" && p.service == "payments-b")
        .and_then(|p| p.breaker.as_ref())
        .expect("checkout-b has a breaker");
    assert!(!b.transitions.is_empty(), "the breaker has tripped by 7 s");
    assert_eq!(
        app.get(badge).get_attribute("data-state").unwrap(),
        b.state.name()
    );
    assert_ne!(b.state.name(), "CLOSED");
    // The timeline has one piece per state interval.
    let rects = app
        .get("sync-view")
        .query_selector_all(".timeline rect")
        .unwrap()
        .length();
    assert!(rects as usize > b.transitions.len().min(1));
}

#[wasm_bindgen_test]
async fn schema_panel_and_inspector_match_the_engine() {
    use wasm_bindgen::JsCast;
    const SEED: u64 = 7;
    let app = mount("schema-rollout", SEED).await;
    for _ in 0..3 {
        app.click("advance").await;
    }
    let mut sim =
        Simulation::from_json(msgsim::scenarios::get("schema-rollout").unwrap(), SEED).unwrap();
    for s in 1..=3u64 {
        sim.run_until(SimTime::from_ms(s * 1_000), MAX_EVENTS_PER_FRAME);
    }
    let snap = sim.snapshot();
    let schemas = snap.schemas.as_ref().expect("schema-rollout has schemas");
    let rows = app
        .get("compat-table")
        .query_selector_all("tbody tr")
        .unwrap()
        .length() as usize;
    assert_eq!(rows, schemas.compatibility.len());

    // Typing a message id shows the engine's inspection of it.
    let id = msgsim::MessageId(1);
    let want = sim.inspect_message(id).expect("m1 is inspectable");
    let input: web_sys::HtmlInputElement = app.get("inspect-id").dyn_into().unwrap();
    input.set_value("m1");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    input.dispatch_event(&ev).unwrap();
    flush().await;
    let text = app.get("inspection").text_content().unwrap();
    assert!(text.contains(&want.avro_hex), "{text}");
    assert!(text.contains(&want.json_text), "{text}");
}

fn set_range(app: &Mounted, testid: &str, value: &str, event: &str) {
    use wasm_bindgen::JsCast;
    let input: web_sys::HtmlInputElement = app.get(testid).dyn_into().unwrap();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict(event, &init).unwrap();
    input.dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
async fn the_scrubber_seeks_back_and_steps_back_as_a_direct_timeline_does() {
    use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
    let app = mount("order-events", 42).await;
    for _ in 0..6 {
        app.click("advance").await;
    }
    assert_eq!(
        app.get("tl-time").text_content().unwrap(),
        "6.000 s / 6.000 s"
    );
    // Two checkpoints (0 s and 5 s) under the bar.
    assert_eq!(
        app.get("scrubber")
            .query_selector_all(".tl-cp")
            .unwrap()
            .length(),
        2
    );
    // Dragging sends at most one seek per animation frame; releasing sends the last position.
    set_range(&app, "tl-range", "4000", "input");
    set_range(&app, "tl-range", "2500", "input");
    set_range(&app, "tl-range", "2500", "change");
    flush().await;
    assert_eq!(app.get("clock").text_content().unwrap(), "t = 2.500 s");
    assert_eq!(
        app.get("tl-time").text_content().unwrap(),
        "2.500 s / 6.000 s"
    );

    let mut tl = Timeline::new(
        Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap(),
        DEFAULT_CHECKPOINT_INTERVAL,
    );
    tl.run_until(SimTime::from_ms(2_500), MAX_EVENTS_PER_FRAME);
    app.click("tl-step-back").await;
    assert!(tl.step_back());
    assert_eq!(
        app.get("clock").text_content().unwrap(),
        msgsim_web::format::format_clock(tl.current().now())
    );

    // A bookmark, a jump back to it from elsewhere, its removal.
    app.click("tl-bookmark").await;
    set_range(&app, "tl-range", "5000", "change");
    flush().await;
    assert_eq!(app.get("clock").text_content().unwrap(), "t = 5.000 s");
    app.click("tl-jump").await;
    assert_eq!(
        app.get("clock").text_content().unwrap(),
        msgsim_web::format::format_clock(tl.current().now())
    );
}

#[wasm_bindgen_test]
async fn the_sequence_diagram_draws_the_window_of_a_direct_run() {
    let app = mount("order-events", 42).await;
    for _ in 0..3 {
        app.click("advance").await;
    }
    let arrows = app
        .get("sequence")
        .query_selector_all("[data-testid=\"seq-arrow\"]")
        .unwrap()
        .length();
    let ended = app
        .get("sequence")
        .query_selector_all("[data-testid=\"seq-arrow\"]:not([data-end=\"in-flight\"])")
        .unwrap()
        .length();
    // As the native layout test pins for order-events at 3 s (window 1–3 s).
    assert_eq!((ended, arrows), (95, 99));
    let mut sim =
        Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap();
    for s in 1..=3u64 {
        sim.run_until(SimTime::from_ms(s * 1_000), MAX_EVENTS_PER_FRAME);
    }
    let snap = sim.snapshot();
    let l = msgsim_web::sequence::layout(
        sim.scenario(),
        sim.trace().events(),
        &snap.in_flight,
        sim.now(),
        msgsim_web::sequence::DEFAULT_WINDOW,
    );
    assert_eq!(arrows as usize, l.arrows.len());
    // Clicking an arrow selects its message: every arrow of that message is highlighted.
    let first = app
        .get("sequence")
        .query_selector("[data-testid=\"seq-arrow\"][data-msg-id]")
        .unwrap()
        .unwrap();
    let id = first.get_attribute("data-msg-id").unwrap();
    let init = MouseEventInit::new();
    init.set_bubbles(true);
    let ev = MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    first.dispatch_event(&ev).unwrap();
    flush().await;
    let selected = app
        .get("sequence")
        .query_selector_all(".seq-arrow.selected")
        .unwrap()
        .length();
    let same = l.arrows.iter().filter(|a| a.msg.to_string() == id).count();
    assert_eq!(selected as usize, same);
    assert!(same >= 1);
    // The message, close up: its id in the head, its life from the trace, each line a button
    // that seeks there.
    let head = app.text("inspector-head");
    assert!(head.starts_with(&id), "{head}");
    let expected = msgsim_web::subsystems::message::life_of(
        sim.trace().events(),
        msgsim::MessageId(id.trim_start_matches('m').parse().unwrap()),
    )
    .0;
    let lines = app.all("life-line");
    assert_eq!(lines.len(), expected.len());
    assert!(!expected.is_empty());
    let first_line = lines[0].text_content().unwrap();
    assert!(
        first_line.ends_with(&expected[0].text),
        "{first_line} / {}",
        expected[0].text
    );
}

#[wasm_bindgen_test]
async fn a_click_on_a_message_of_the_canvas_selects_it_in_a_rest_scenario() {
    let app = mount("circuit-breaker", 11).await;
    app.click("advance").await;
    let msg = app
        .messages()
        .into_iter()
        .find(|m| m.drawn)
        .expect("HTTP messages on the canvas after a second");
    let id = msg.id.clone();
    app.click_message(&msg).await;
    assert!(app.text("inspector-head").starts_with(&id));
    // An HTTP request still on the wire shows its request line.
    assert!(app.find("inspector-http").is_some() || app.find("inspector-gone").is_some());
    assert!(!app.all("life-line").is_empty());
}
