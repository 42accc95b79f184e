//! Browser tests of the page layout that teaches (issue 11): the story column, the tabs, the
//! call to play, "Restore previous run", and the zoom buttons on the canvas. Mounted without
//! autoplay and without the address bar (tests stay deterministic).

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{mount_seeded, seed_of};

#[wasm_bindgen_test]
async fn the_story_column_says_what_the_scenario_shows_and_what_to_do() {
    let app = mount_seeded("order-events", 42).await;
    assert_eq!(app.text("story-section"), "Asynchronous messaging");
    assert_eq!(
        app.text("story-title"),
        "Order events: publish/subscribe and competing consumers"
    );
    let short = app.text("story-summary");
    assert!(
        short.starts_with("Order publishes an OrderCreated event"),
        "{short}"
    );
    assert!(short.ends_with("compete (one-to-one)."), "{short}");
    // "more" shows the whole description, with what to watch (what to try is the experiments).
    app.click("story-more").await;
    let full = app.text("story-summary");
    assert!(
        full.len() > short.len() && full.contains("compare Accounting's 'orders charged'"),
        "{full}"
    );
    // Not playing (no autoplay in tests): the call to play is there, and works.
    assert_eq!(
        app.get("play").get_attribute("aria-pressed").as_deref(),
        Some("false")
    );
    app.click("story-play").await;
    assert_eq!(
        app.get("play").get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    assert!(app.text("story-call").starts_with("Playing."));
    app.click("pause").await;
    // The column holds "What to try", "What just happened" and the guarantees.
    assert!(app.find("story-try").is_some());
    assert!(app.find("explain-empty").is_some());
    assert!(app.find("invariants").is_some());
}

#[wasm_bindgen_test]
async fn tabs_switch_the_pane_under_the_canvas_and_a_picked_link_opens_its_controls() {
    let app = mount_seeded("order-events", 42).await;
    let layout = app.all_in("main.layout").remove(0);
    assert_eq!(layout.get_attribute("data-tab").as_deref(), Some("story"));
    app.click("tab-log").await;
    assert_eq!(layout.get_attribute("data-tab").as_deref(), Some("log"));
    assert_eq!(
        app.get("tab-log").get_attribute("aria-selected").as_deref(),
        Some("true")
    );
    // Every panel is still on the page (in its pane).
    for id in [
        "fault-panel",
        "event-log",
        "scenario-info",
        "legend",
        "invariants",
    ] {
        assert!(app.find(id).is_some(), "{id}");
    }
    app.click("link-order-broker").await;
    assert_eq!(
        layout.get_attribute("data-tab").as_deref(),
        Some("controls")
    );
}

#[wasm_bindgen_test]
async fn reset_with_commands_keeps_the_run_restorable_in_one_click() {
    let app = mount_seeded("order-events", 42).await;
    app.advance(1).await;
    app.click("link-order-broker").await;
    app.type_into("fault-loss", "100").await;
    app.advance(1).await;
    let before = app.get("share-bar");
    let hash = before.get_attribute("data-trace-hash").unwrap();
    let time = before.get_attribute("data-time-us").unwrap();
    assert!(app.find("restore-bar").is_none());
    app.click("reset").await;
    assert_eq!(
        app.get("share-bar")
            .get_attribute("data-time-us")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        app.text("restore-what"),
        format!(
            "Order events: publish/subscribe and competing consumers · seed {} · 1 command · at 2.000 s",
            seed_of("order-events")
        )
    );
    app.click("restore-previous").await;
    let after = app.get("share-bar");
    assert_eq!(after.get_attribute("data-trace-hash"), Some(hash));
    assert_eq!(after.get_attribute("data-time-us"), Some(time));
    assert!(app.find("restore-bar").is_none());
    assert_eq!(
        app.get("command-log")
            .query_selector_all("li")
            .unwrap()
            .length(),
        1
    );
}

#[wasm_bindgen_test]
async fn zoom_buttons_change_the_view_box_and_fit_restores_it() {
    let app = mount_seeded("circuit-breaker", seed_of("circuit-breaker")).await;
    let svg = || app.get("topology");
    assert_eq!(
        svg().get_attribute("viewBox").as_deref(),
        Some("0.0 0.0 1000.0 600.0")
    );
    app.click("zoom-in").await;
    assert_eq!(
        svg().get_attribute("viewBox").as_deref(),
        Some("166.7 100.0 666.7 400.0")
    );
    let host = svg().closest(".zoom-host").unwrap().unwrap();
    assert!(host.class_name().split(' ').any(|c| c == "zoomed"));
    let style = host.get_attribute("style").unwrap_or_default();
    let zs: f64 = style.trim_start_matches("--zs:").trim().parse().unwrap();
    assert!(zs > 0.0, "{zs}");
    app.click("zoom-fit").await;
    assert_eq!(
        svg().get_attribute("viewBox").as_deref(),
        Some("0.0 0.0 1000.0 600.0")
    );
    assert!(app.find("zoom-fit").is_none());
}
