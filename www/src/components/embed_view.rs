//! The widget (`?embed=1`): canvas, transport, a caption with a legend toggle (the legend shows
//! over the canvas, so the canvas keeps its room in small frames) and a link that opens the same
//! run in the full playground, and the bridge to a host page ([`use_host_bridge`], protocol in
//! [`crate::embed`]).

use crate::embed;
use crate::share;
use crate::state::Playground;
use yew::prelude::*;

/// The widget's layout: it fills its frame (the canvas takes the room the controls leave).
pub fn embed_layout(state: &Playground, url_errors: Html, transport: Html, topology: Html) -> Html {
    let title = if state.scenario.title.is_empty() {
        state.scenario.name.clone()
    } else {
        state.scenario.title.clone()
    };
    // The link carries the run (`?run=`); it is made when the link is about to be used (pointer
    // down, focus, click), not on every frame.
    let fallback = crate::format::playground_query(state.builtin_name(), state.seed);
    let refresh = {
        let state = state.clone();
        move |target: Option<web_sys::EventTarget>| {
            use wasm_bindgen::JsCast;
            // (Yew delegates events: `current_target` is the app's root, so find the link.)
            let link = target
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| {
                    e.closest("a[data-testid=\"open-playground\"]")
                        .ok()
                        .flatten()
                });
            if let Some(a) = link {
                let href = share::playground_href(&share::current_run(&state));
                let _ = a.set_attribute("href", &href);
            }
        }
    };
    let on_pointer = {
        let r = refresh.clone();
        Callback::from(move |e: PointerEvent| r(e.target()))
    };
    let on_focus = {
        let r = refresh.clone();
        Callback::from(move |e: FocusEvent| r(e.target()))
    };
    let on_click = Callback::from(move |e: MouseEvent| refresh(e.target()));
    html! {
        <div class="app embed" data-testid="embed">
            { url_errors }
            { transport }
            <div class="embed-canvas">
                { topology }
                <div class="embed-legend" data-testid="embed-legend"><super::info::Legend /></div>
            </div>
            <p class="caption" data-testid="caption">
                <label class="legend-toggle" title="Show or hide the legend over the canvas">
                    <input type="checkbox" data-testid="legend-toggle" />{ "Legend" }
                </label>
                <span class="caption-title" title={title.clone()}>{ format!("{title} · seed {}", state.seed) }</span>
                <a href={fallback} target="_blank" rel="noopener" data-testid="open-playground"
                   onpointerdown={on_pointer} onfocus={on_focus} onclick={on_click}>{ "open in the playground ↗" }</a>
            </p>
        </div>
    }
}

/// In embed mode, talks to the host page: listens for its requests (from the allowed origins
/// only), posts `ready` once, `state` when the clock starts or stops or the run changes,
/// `metrics` at most every [`embed::METRICS_INTERVAL_MS`] while it runs, and `error` when a
/// request fails in the engine. Does nothing outside embed mode or at top level.
#[hook]
pub fn use_host_bridge(state: &UseReducerHandle<Playground>) {
    let enabled = state.embed;
    {
        let d = state.dispatcher();
        let s = state.clone();
        use_effect_with(enabled, move |on| {
            let listener = on.then(|| {
                crate::embed_web::listen(move |req| d.dispatch(req.action(crate::web::real_now())))
            });
            if *on {
                crate::embed_web::post(&embed::ready_event(&s));
            }
            move || drop(listener)
        });
    }
    let last_metrics = use_mut_ref(|| {
        (
            f64::NEG_INFINITY,
            None::<(msgsim::SimTime, msgsim::Metrics)>,
        )
    });
    {
        let s = (**state).clone();
        let last = last_metrics.clone();
        use_effect_with(embed::state_key(state), move |_| {
            if enabled {
                crate::embed_web::post(&embed::state_event(&s));
                crate::embed_web::post(&embed::metrics_event(&s));
                *last.borrow_mut() = (
                    crate::web::real_now(),
                    Some((s.snapshot.time, s.snapshot.metrics)),
                );
            }
        });
    }
    {
        let s = (**state).clone();
        use_effect_with(state.version, move |_| {
            if !enabled {
                return;
            }
            let now = crate::web::real_now();
            let current = Some((s.snapshot.time, s.snapshot.metrics));
            let mut last = last_metrics.borrow_mut();
            if last.1 != current && now - last.0 >= embed::METRICS_INTERVAL_MS {
                crate::embed_web::post(&embed::metrics_event(&s));
                *last = (now, current);
            }
        });
    }
    {
        let errors = (state.fault_error.clone(), state.upload_error.clone());
        use_effect_with(errors, move |(fault, upload)| {
            if enabled {
                for message in [fault, upload].into_iter().flatten() {
                    crate::embed_web::post(&embed::error_event(&embed::ProtocolError {
                        request: None,
                        id: None,
                        message: message.clone(),
                    }));
                }
            }
        });
    }
}
