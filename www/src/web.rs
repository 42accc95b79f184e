//! Browser glue: the page URL, the real-time clock, reading an uploaded file, the panic banner,
//! and mounting the app. Everything else in the crate is plain Rust.

use crate::components::app::{App, AppProps};
use crate::format::{self, UrlParams};
use crate::state::Action;
use msgsim::scenario::limits::MAX_SCENARIO_BYTES;
use wasm_bindgen::JsValue;
use web_sys::{HtmlInputElement, UrlSearchParams};
use yew::Callback;

/// Real time in ms on the `performance.now()` clock (the clock of animation-frame timestamps).
pub fn real_now() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.now())
            .unwrap_or(0.0)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// `?scenario=`, `?seed=` and `?embed=` of the page URL, percent-decoded.
pub fn read_url() -> UrlParams {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    match UrlSearchParams::new_with_str(&search) {
        Ok(sp) => UrlParams {
            // `?compare=<pair>` alone opens the pair's scenario behind the view, so `&seed=` and
            // the faults the user applies there are the comparison's too.
            scenario: sp.get("scenario").or_else(|| {
                let pair = msgsim::scenarios::comparison(&sp.get("compare")?)?;
                sp.get("run").is_none().then(|| pair.scenario.to_string())
            }),
            seed: sp.get("seed"),
            // The lean widget build (no `full` feature, widget.html) is always the widget.
            embed: cfg!(not(feature = "full")) || format::embed_flag(sp.get("embed").as_deref()),
        },
        Err(_) => UrlParams::default(),
    }
}

/// Writes the scenario and the seed into the address bar (`history.replaceState`, no reload, no
/// new history entry). An uploaded scenario (`None`) removes `?scenario=`.
pub fn replace_url(scenario: Option<&str>, seed: u64, embed: bool) {
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
    match scenario {
        Some(name) => sp.set("scenario", name),
        None => sp.delete("scenario"),
    }
    sp.set("seed", &seed.to_string());
    if embed {
        sp.set("embed", "1");
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}

/// Reads the file picked in `input` and sends its text (or why it could not be read) as
/// [`Action::Upload`]. Files over the scenario size limit are refused without reading them.
pub fn read_upload(input: &HtmlInputElement, dispatch: Callback<Action>) {
    let Some(file) = input.files().and_then(|list| list.get(0)) else {
        return;
    };
    // Let the same file be picked again after a fix.
    input.set_value("");
    let name = file.name();
    let size = file.size();
    if size > MAX_SCENARIO_BYTES as f64 {
        dispatch.emit(Action::Upload {
            file: name,
            text: Err(format!(
                "the file has {} bytes; a scenario may have at most {MAX_SCENARIO_BYTES}",
                size as u64
            )),
        });
        return;
    }
    yew::platform::spawn_local(async move {
        let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(v) => v
                .as_string()
                .ok_or_else(|| "the file is not text".to_string()),
            Err(_) => Err("the browser could not read the file".to_string()),
        };
        dispatch.emit(Action::Upload { file: name, text });
    });
}

/// Offers `text` as a file download named `file_name` with MIME type `mime` (e.g.
/// `"application/json"`), through a Blob object URL and a temporary `<a download>`. Returns
/// false when the page has no document (nothing happens then).
pub fn download(file_name: &str, mime: &str, text: &str) -> bool {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let blob = gloo::file::Blob::new_with_options(text, Some(mime));
    let url = gloo::file::ObjectUrl::from(blob);
    let Ok(a) = doc.create_element("a") else {
        return false;
    };
    let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() else {
        return false;
    };
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    // Revoke the object URL (drop it) a little later: revoking at once can cancel the download.
    yew::platform::spawn_local(async move {
        yew::platform::time::sleep(std::time::Duration::from_secs(10)).await;
        drop(url);
    });
    true
}

/// Id of the panic banner element.
pub const PANIC_BANNER_ID: &str = "msgsim-panic";

/// Shows `message` in a banner at the top of the page (`data-testid="panic"`), creating it if
/// needed. Used by the panic hook; works without Yew.
pub fn show_panic_banner(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let el = match doc.get_element_by_id(PANIC_BANNER_ID) {
        Some(el) => el,
        None => {
            let Ok(el) = doc.create_element("div") else {
                return;
            };
            el.set_id(PANIC_BANNER_ID);
            el.set_class_name("banner panic");
            let _ = el.set_attribute("data-testid", "panic");
            let _ = el.set_attribute("role", "alert");
            if let Some(body) = doc.body() {
                let _ = body.prepend_with_node_1(&el);
            }
            el
        }
    };
    el.set_text_content(Some(&format!(
        "The playground stopped because of a bug: {message}. Reload the page to start again; the browser console has the details."
    )));
}

/// Installs the panic hook: the console (`console_error_panic_hook`) and the page banner.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_panic_banner(&info.to_string());
    }));
}

/// Starts the playground: panic hook, URL, mount into `#app` (or `<body>`).
pub fn start() {
    install_panic_hook();
    let init = crate::embed_web::start_init(&read_url());
    if cfg!(not(feature = "full")) {
        // The lean widget cannot play an Avro scenario: the full page's widget plays it.
        if let Some(full) = crate::embed_web::full_widget_fallback(&init) {
            let moved = web_sys::window().map(|w| w.location().replace(&full).is_ok());
            if moved == Some(true) {
                return;
            }
        }
    }
    let props = AppProps {
        init,
        sync_url: true,
        autoplay: true,
    };
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => {
            yew::Renderer::<App>::with_root_and_props(root, props).render();
        }
        None => {
            yew::Renderer::<App>::with_props(props).render();
        }
    }
}
