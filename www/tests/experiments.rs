//! Browser test of "What to try" (`components::experiments`): mounted on its own with a real
//! scenario and snapshot, a click on an experiment dispatches its commands as `Action::Apply`
//! and shows what to look for and expected vs actual.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown \
//!   --test experiments
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::{Scenario, SimTime, Simulation};
use msgsim_web::components::experiments::{Experiments, ExperimentsProps};
use msgsim_web::Action;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_click_applies_the_commands_and_shows_expected_vs_actual() {
    let scenario = Scenario::from_json(msgsim::scenarios::get("outbox-polling").unwrap()).unwrap();
    let mut sim = Simulation::new(scenario.clone(), scenario.seed).unwrap();
    sim.run_until(SimTime::from_ms(5_000), u64::MAX);
    let seen: Rc<RefCell<Vec<Action>>> = Rc::default();
    let dispatch = {
        let seen = Rc::clone(&seen);
        Callback::from(move |a: Action| seen.borrow_mut().push(a))
    };
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<Experiments>::with_root_and_props(
        root.clone(),
        ExperimentsProps {
            scenario: Rc::new(scenario.clone()),
            snapshot: Rc::new(sim.snapshot()),
            dispatch,
        },
    )
    .render();
    yew::platform::time::sleep(Duration::from_millis(30)).await;
    let buttons = root.query_selector_all("button.exp-apply").unwrap();
    assert_eq!(buttons.length() as usize, scenario.experiments.len());
    let first: web_sys::HtmlElement = buttons.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(
        first.text_content().unwrap(),
        "▶ Crash the relay between publish and mark"
    );
    assert!(root
        .text_content()
        .unwrap()
        .contains("Look for: The relay publishes its batch"));
    first.click();
    yew::platform::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(
        *seen.borrow(),
        scenario.experiments[0]
            .commands
            .iter()
            .cloned()
            .map(Action::Apply)
            .collect::<Vec<_>>()
    );
    let result = root.query_selector(".exp-result").unwrap().expect("shown");
    assert_eq!(
        result.text_content().unwrap(),
        "Expected: republished of relay order-relay rises by ≥ 1Actual: +0 (1 → 1)… not yet"
    );
    handle.destroy();
    root.remove();
}
