//! The browser-test harness shared by the web crate's wasm-bindgen-test files: mount the app into
//! a test element, drive it through its controls as a user would (bubbling clicks, committed
//! inputs, the "+1 s" button), read the DOM by `data-testid`, and run the engine directly for the
//! values to compare with.

#![allow(dead_code)] // each test file uses its own part of the harness

use msgsim::scenario::Scenario;
use msgsim::{SimTime, Simulation, Snapshot};
use msgsim_web::state::{AppInit, ADVANCE_MS, MAX_EVENTS_PER_FRAME};
use msgsim_web::{App, AppProps};
use std::time::Duration;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventInit, HtmlInputElement, MouseEvent, MouseEventInit};
use yew::AppHandle;

/// The app mounted into its own element; destroyed and removed on drop.
pub struct Mounted {
    pub root: Element,
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

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Lets Yew render (30 ms of real time).
pub async fn flush() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

/// Mounts the app with `init` (the address bar is left alone).
pub async fn mount_init(init: AppInit) -> Mounted {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<App>::with_root_and_props(
        root.clone(),
        AppProps {
            init,
            sync_url: false,
            autoplay: false,
        },
    )
    .render();
    flush().await;
    Mounted {
        root,
        handle: Some(handle),
    }
}

/// Mounts a built-in scenario with `seed`.
pub async fn mount_seeded(scenario: &'static str, seed: u64) -> Mounted {
    mount_init(AppInit::builtin(scenario, seed)).await
}

/// Mounts a built-in scenario with its own seed.
pub async fn mount_builtin(name: &'static str) -> Mounted {
    mount_seeded(name, seed_of(name)).await
}

/// The seed a built-in scenario declares.
pub fn seed_of(name: &str) -> u64 {
    Scenario::from_json(msgsim::scenarios::get(name).unwrap())
        .unwrap()
        .seed
}

/// The same built-in scenario and seed, advanced exactly as `seconds` clicks on "+1 s" advance it.
pub fn engine_at(name: &str, seconds: u64) -> Snapshot {
    let mut sim =
        Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed_of(name)).unwrap();
    for k in 1..=seconds {
        sim.run_until(SimTime::from_ms(k * ADVANCE_MS), MAX_EVENTS_PER_FRAME);
    }
    sim.snapshot()
}

/// The text of each cell (`td` and `th`) of a table row.
pub fn cells(row: &Element) -> Vec<String> {
    let list = row.query_selector_all("td, th").unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

impl Mounted {
    pub fn find(&self, testid: &str) -> Option<Element> {
        self.root
            .query_selector(&format!("[data-testid=\"{testid}\"]"))
            .unwrap()
    }

    pub fn get(&self, testid: &str) -> Element {
        self.find(testid)
            .unwrap_or_else(|| panic!("no element with data-testid={testid}"))
    }

    /// Every element matching a CSS selector.
    pub fn all_in(&self, selector: &str) -> Vec<Element> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().dyn_into::<Element>().unwrap())
            .collect()
    }

    /// Every element with this `data-testid`.
    pub fn all(&self, testid: &str) -> Vec<Element> {
        self.all_in(&format!("[data-testid=\"{testid}\"]"))
    }

    pub fn text(&self, testid: &str) -> String {
        self.get(testid).text_content().unwrap_or_default()
    }

    pub fn metric(&self, name: &str) -> u64 {
        let t = self.text(&format!("metric-{name}"));
        t.trim()
            .parse()
            .unwrap_or_else(|_| panic!("metric-{name} is not an integer: {t:?}"))
    }

    /// A real (bubbling) click, as a user's: works for HTML and SVG elements alike.
    pub async fn click(&self, testid: &str) {
        let init = MouseEventInit::new();
        init.set_bubbles(true);
        init.set_cancelable(true);
        let ev = MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
        self.get(testid).dispatch_event(&ev).unwrap();
        flush().await;
    }

    /// Types `value` into an input and commits it (a bubbling `change`, as on Enter or blur).
    pub async fn type_into(&self, testid: &str, value: &str) {
        let input: HtmlInputElement = self.get(testid).dyn_into().unwrap();
        input.set_value(value);
        let init = EventInit::new();
        init.set_bubbles(true);
        let ev = Event::new_with_event_init_dict("change", &init).unwrap();
        input.dispatch_event(&ev).unwrap();
        flush().await;
    }

    pub fn input_value(&self, testid: &str) -> String {
        self.get(testid)
            .dyn_into::<HtmlInputElement>()
            .unwrap()
            .value()
    }

    /// `seconds` clicks on "+1 s".
    pub async fn advance(&self, seconds: u64) {
        for _ in 0..seconds {
            self.click("advance").await;
        }
    }

    /// The message layer's last frame (its `msgsimMessages()` test hook): per message placed,
    /// `(id, kind, attempt, duplicate, x, y, drawn)` with x, y in canvas units.
    pub fn messages(&self) -> Vec<DrawnMessage> {
        let Some(c) = self.find("message-layer") else {
            return Vec::new();
        };
        let f: js_sys::Function = js_sys::Reflect::get(&c, &"msgsimMessages".into())
            .unwrap()
            .dyn_into()
            .expect("the message layer's test hook");
        let rows: js_sys::Array = f.call0(&c).unwrap().dyn_into().unwrap();
        let get = |o: &wasm_bindgen::JsValue, k: &str| js_sys::Reflect::get(o, &k.into()).unwrap();
        rows.iter()
            .map(|o| DrawnMessage {
                id: get(&o, "id").as_string().unwrap(),
                kind: get(&o, "kind").as_string().unwrap(),
                attempt: get(&o, "attempt").as_string().unwrap(),
                duplicate: get(&o, "duplicate").as_string().unwrap(),
                x: get(&o, "x").as_f64().unwrap(),
                y: get(&o, "y").as_f64().unwrap(),
                drawn: get(&o, "drawn").as_bool().unwrap(),
            })
            .collect()
    }

    /// A real click where the message layer drew `m` (on the SVG under it, at the screen point
    /// of its canvas position).
    pub async fn click_message(&self, m: &DrawnMessage) {
        let svg: web_sys::SvgGraphicsElement = self.get("topology").dyn_into().unwrap();
        let ctm = svg.get_screen_ctm().unwrap();
        let x = ctm.a() as f64 * m.x + ctm.c() as f64 * m.y + ctm.e() as f64;
        let y = ctm.b() as f64 * m.x + ctm.d() as f64 * m.y + ctm.f() as f64;
        let init = MouseEventInit::new();
        init.set_bubbles(true);
        init.set_cancelable(true);
        init.set_client_x(x.round() as i32);
        init.set_client_y(y.round() as i32);
        let ev = MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
        svg.dispatch_event(&ev).unwrap();
        flush().await;
    }
}

/// A message as the message layer placed it ([`Mounted::messages`]).
#[derive(Clone, Debug)]
pub struct DrawnMessage {
    pub id: String,
    pub kind: String,
    pub attempt: String,
    pub duplicate: String,
    pub x: f64,
    pub y: f64,
    pub drawn: bool,
}
