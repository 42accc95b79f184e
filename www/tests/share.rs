//! Browser tests of sharing and embedding: a shared run opened at start matches a direct engine
//! run; the share bar's link and embed code; the widget's caption link carries the run.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown --test share
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Command, SimTime, Simulation};
use msgsim_web::state::AppInit;
use msgsim_web::{App, AppProps};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, MouseEvent, MouseEventInit};
use yew::AppHandle;

wasm_bindgen_test_configure!(run_in_browser);

struct Mounted {
    root: Element,
    handle: Option<AppHandle<App>>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.destroy();
        }
        self.root.remove();
    }
}

async fn flush(ms: u64) {
    yew::platform::time::sleep(Duration::from_millis(ms)).await;
}

async fn mount(init: AppInit) -> Mounted {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<App>::with_root_and_props(
        root.clone(),
        AppProps {
            init,
            sync_url: false,
            autoplay: false,
        },
    )
    .render();
    flush(30).await;
    Mounted {
        root,
        handle: Some(handle),
    }
}

impl Mounted {
    fn get(&self, testid: &str) -> Element {
        self.root
            .query_selector(&format!("[data-testid=\"{testid}\"]"))
            .unwrap()
            .unwrap_or_else(|| panic!("no element with data-testid={testid}"))
    }

    async fn click(&self, testid: &str) {
        self.fire("click", testid).await;
    }

    async fn fire(&self, kind: &str, testid: &str) {
        let init = MouseEventInit::new();
        init.set_bubbles(true);
        let ev = MouseEvent::new_with_mouse_event_init_dict(kind, &init).unwrap();
        self.get(testid).dispatch_event(&ev).unwrap();
        flush(30).await;
    }
}

/// order-events seed 42: crash kitchen#1 at 1.2 s, partition order-broker at 2 s, look at 2.5 s.
fn shared() -> (SharedRun, Simulation) {
    let mut sim =
        Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap();
    sim.run_until(SimTime::from_ms(1_200), u64::MAX);
    sim.apply(Command::Crash {
        node: "kitchen".into(),
        instance: 1,
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(2_000), u64::MAX);
    sim.apply(Command::Partition {
        a: "order".into(),
        b: "broker".into(),
    })
    .unwrap();
    sim.run_until(SimTime::from_ms(2_500), u64::MAX);
    let run = SharedRun {
        scenario: ScenarioRef::Builtin("order-events".into()),
        seed: 42,
        commands: sim.command_log().to_vec(),
        at: sim.now(),
        events: None,
    };
    (run, sim)
}

fn with_run(run: SharedRun, embed: bool) -> AppInit {
    let mut init = AppInit::builtin("order-events", 42);
    init.run = Some(Box::new(run));
    init.embed = embed;
    init
}

#[wasm_bindgen_test]
async fn a_shared_run_opens_where_it_was_shared() {
    let (run, sim) = shared();
    let app = mount(with_run(run, false)).await;
    let bar = app.get("share-bar");
    assert_eq!(
        bar.get_attribute("data-trace-hash").unwrap(),
        format!("{:016x}", sim.trace_hash())
    );
    assert_eq!(bar.get_attribute("data-time-us").unwrap(), "2500000");
    assert_eq!(
        bar.get_attribute("data-events").unwrap(),
        sim.events_processed().to_string()
    );
    assert_eq!(app.get("clock").text_content().unwrap(), "t = 2.500 s");
    assert_eq!(
        app.get("metric-sent").text_content().unwrap(),
        sim.metrics().sent.to_string()
    );
}

#[wasm_bindgen_test]
async fn copy_link_shows_the_link_that_reopens_the_run() {
    let (run, _) = shared();
    let app = mount(with_run(run.clone(), false)).await;
    app.click("copy-link").await;
    flush(200).await;
    let field: HtmlInputElement = app.get("share-text").dyn_into().unwrap();
    let page = msgsim_web::embed_web::page_url();
    let want = format!("{page}?run={}", run.encode().unwrap());
    assert_eq!(field.value(), want);
    let note = app.get("share-note").text_content().unwrap();
    assert!(
        note == "Copied to the clipboard."
            || note == "The browser refused the clipboard: select the text below and copy it.",
        "{note}"
    );
    app.click("copy-embed").await;
    flush(200).await;
    let field: HtmlInputElement = app.get("share-text").dyn_into().unwrap();
    assert_eq!(
        field.value(),
        format!(
            "<iframe src=\"{page}{}?run={}&amp;embed=1\" width=\"640\" height=\"400\" loading=\"lazy\" title=\"msgsim: Order events: publish/subscribe and competing consumers\" style=\"border:0;max-width:100%\"></iframe>",
            msgsim_web::share::WIDGET_PATH,
            run.encode().unwrap()
        )
    );
}

#[wasm_bindgen_test]
async fn the_widget_links_to_the_same_run_in_the_playground() {
    let (run, _) = shared();
    let app = mount(with_run(run.clone(), true)).await;
    let a = app.get("open-playground");
    // Before use, the link names the scenario and seed; on use it carries the whole run.
    assert_eq!(
        a.get_attribute("href").unwrap(),
        "?scenario=order-events&seed=42"
    );
    // (A pointer down, not a click: a click would open the playground in a new window.)
    app.fire("pointerdown", "open-playground").await;
    assert_eq!(
        a.get_attribute("href").unwrap(),
        format!("?run={}", run.encode().unwrap())
    );
    assert_eq!(
        app.get("caption").text_content().unwrap(),
        // The legend toggle, the title and seed, the link.
        "LegendOrder events: publish/subscribe and competing consumers · seed 42open in the playground ↗"
    );
}
