//! Browser side of the widget's `postMessage` protocol ([`crate::embed`] has the rules): which
//! origins may talk to the widget, the `message` listener, and posting events to the host.
//!
//! The widget listens only when it is framed (its `window.parent` is another window), accepts a
//! message only from its parent window and an allowed origin, and posts each event to its parent
//! once per allowed origin (the browser delivers it only if the parent has that origin).

use crate::embed::{self, ProtocolError, Request};
use std::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static ALLOWED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn own_origin() -> Option<String> {
    web_sys::window().and_then(|w| w.location().origin().ok())
}

/// Sets the host origins the widget talks to: `listed` (from `?origins=`, already checked by
/// [`embed::parse_origins`]) and the widget's own origin.
pub fn configure(listed: Vec<String>) {
    let mut all: Vec<String> = own_origin().into_iter().collect();
    for o in listed {
        if !all.contains(&o) {
            all.push(o);
        }
    }
    ALLOWED.with(|a| *a.borrow_mut() = all);
}

fn allowed() -> Vec<String> {
    let list = ALLOWED.with(|a| a.borrow().clone());
    if list.is_empty() {
        own_origin().into_iter().collect()
    } else {
        list
    }
}

/// The parent window when the page is framed (`None` at top level).
fn parent() -> Option<web_sys::Window> {
    let w = web_sys::window()?;
    let p = w.parent().ok().flatten()?;
    (!js_sys::Object::is(&w, &p)).then_some(p)
}

/// Posts `json` (one of [`embed`]'s events) to the parent window, once per allowed origin.
/// Nothing happens at top level.
pub fn post(json: &str) {
    let Some(p) = parent() else {
        return;
    };
    let Ok(value) = js_sys::JSON::parse(json) else {
        return;
    };
    for origin in allowed() {
        let _ = p.post_message(&value, &origin);
    }
}

/// The `message` listener; dropping it removes it.
pub struct HostListener {
    closure: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for HostListener {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                "message",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// The frame height the widget would like now ([`embed::preferred_height`]), measured from the
/// widget's layout: the canvas area's width, and the height of everything else (transport,
/// caption, padding). `None` outside the widget or before it is laid out.
pub fn preferred_height() -> Option<u32> {
    let doc = web_sys::window()?.document()?;
    let app = doc.query_selector(".app.embed").ok().flatten()?;
    let canvas = doc.query_selector(".embed-canvas").ok().flatten()?;
    let a = app.get_bounding_client_rect();
    let c = canvas.get_bounding_client_rect();
    if c.width() <= 0.0 {
        return None;
    }
    embed::preferred_height(c.width(), (a.height() - c.height()).max(0.0))
}

/// Posts `json` to the parent window for `origin` only (a reply to a message from there).
pub fn post_to(json: &str, origin: &str) {
    let Some(p) = parent() else {
        return;
    };
    if let Ok(v) = js_sys::JSON::parse(json) {
        let _ = p.post_message(&v, origin);
    }
}

/// Listens for the host's requests (only when framed): each valid request goes to `on_message`
/// as `Ok`, an invalid one as `Err` with the origin that sent it (for the `error` reply). Does
/// no more than parse: the caller applies them once per animation frame. Messages from other
/// windows or origins are ignored.
pub fn listen(
    on_message: impl Fn(Result<Request, (String, ProtocolError)>) + 'static,
) -> Option<HostListener> {
    let parent = parent()?;
    let closure =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let from_parent = ev.source().is_some_and(|s| js_sys::Object::is(&s, &parent));
            let origin = ev.origin();
            if !from_parent || !embed::origin_allowed(&allowed(), &origin) {
                return;
            }
            let data = ev.data();
            let text = match data.as_string() {
                Some(s) => s,
                None => match js_sys::JSON::stringify(&data) {
                    Ok(s) => String::from(s),
                    Err(_) => return,
                },
            };
            match embed::parse_request(&text) {
                Ok(Some(req)) => on_message(Ok(req)),
                Ok(None) => {}
                Err(e) => on_message(Err((origin, e))),
            }
        });
    let w = web_sys::window()?;
    w.add_event_listener_with_callback("message", closure.as_ref().unchecked_ref())
        .ok()?;
    Some(HostListener { closure })
}

/// Whether `value` is JavaScript `undefined` or `null`.
fn missing(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// Copies `text` with `navigator.clipboard.writeText`. `false` when the browser has no
/// clipboard API or refused (not a secure context, no permission, page not focused).
pub async fn copy_text(text: &str) -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    let nav = w.navigator();
    let Ok(clip) = js_sys::Reflect::get(&nav, &JsValue::from_str("clipboard")) else {
        return false;
    };
    if missing(&clip) {
        return false;
    }
    let Ok(f) = js_sys::Reflect::get(&clip, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Ok(f) = f.dyn_into::<js_sys::Function>() else {
        return false;
    };
    let Ok(promise) = f.call1(&clip, &JsValue::from_str(text)) else {
        return false;
    };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// The page's address without query or fragment: `https://example.org/msgsim/`.
pub fn page_url() -> String {
    let Some(loc) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    )
}

/// The `?run=` and `?origins=` parameters of the page URL.
pub fn read_share_params() -> (Option<String>, Option<String>) {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    match web_sys::UrlSearchParams::new_with_str(&search) {
        Ok(sp) => (sp.get("run"), sp.get("origins")),
        Err(_) => (None, None),
    }
}

/// What the page starts with: the URL's scenario and seed ([`crate::format::resolve_start`]),
/// then a shared run (`?run=`) over them, and the host origins (`?origins=`); every problem is
/// one sentence of the URL banner.
pub fn start_init(params: &crate::format::UrlParams) -> crate::state::AppInit {
    let choice = crate::format::resolve_start(params);
    let (run, origins) = read_share_params();
    let mut errors = Vec::new();
    let run = match run.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(raw) => match crate::share::read_run_param(raw, &choice) {
            Ok(r) => Some(Box::new(r)),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    let (listed, origin_errors) = embed::parse_origins(origins.as_deref().unwrap_or(""));
    errors.extend(origin_errors);
    configure(listed);
    let mut init: crate::state::AppInit = choice.into();
    init.errors.extend(errors);
    init.run = run;
    init
}

/// Sets or removes URL parameters in the address bar (`history.replaceState`: no reload, no new
/// history entry); the other parameters stay.
pub fn replace_params(params: &[(&str, Option<String>)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    let sp = url.search_params();
    for (k, v) in params {
        match v {
            Some(v) => sp.set(k, v),
            None => sp.delete(k),
        }
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}

/// The lean widget (built without the `full` feature) leaves Avro out: a scenario whose
/// channels declare schemas is refused with [`msgsim::schema::SchemaError::AvroUnavailable`].
/// When the run asked for (`?scenario=` or `?run=`) is refused so, this is the full page's
/// widget for the same query (`../?…&embed=1`, the playground beside `widget/`), which the page
/// then opens in its place; `None` when the lean build plays it (or the page has no URL).
pub fn full_widget_fallback(init: &crate::state::AppInit) -> Option<String> {
    let refused = match &init.run {
        Some(run) => run
            .resolve_scenario()
            .map_err(|e| e.to_string())
            .and_then(|s| msgsim::Simulation::new(s, run.seed).map_err(|e| e.to_string()))
            .err(),
        None => msgsim::scenarios::get(init.scenario)
            .and_then(|j| msgsim::Simulation::from_json(j, init.seed).err())
            .map(|e| e.to_string()),
    };
    let needs_avro = refused
        .iter()
        .chain(&init.errors)
        .any(|e| embed::needs_avro(e));
    if !needs_avro {
        return None;
    }
    let href = web_sys::window()?.location().href().ok()?;
    let here = web_sys::Url::new(&href).ok()?;
    let full = web_sys::Url::new_with_base("../", &href).ok()?;
    full.set_search(&here.search());
    full.search_params().set("embed", "1");
    full.set_hash(&here.hash());
    Some(full.href())
}
