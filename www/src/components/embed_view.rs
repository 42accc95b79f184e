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
    let title = state.scenario_title();
    // The link carries the run (`?run=`); it is made when the link is about to be used (pointer
    // down, focus, click), not on every frame.
    let fallback = format!(
        "{}{}",
        share::PLAYGROUND_DIR,
        crate::format::playground_query(state.builtin_name(), state.seed)
    );
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
                let href = format!(
                    "{}{}",
                    share::PLAYGROUND_DIR,
                    share::playground_href(&share::current_run(&state))
                );
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
    let messaging = !state.scenario.channels.is_empty() || !state.scenario.workloads.is_empty();
    html! {
        <div class="app embed" data-testid="embed">
            { url_errors }
            { transport }
            <div class="embed-canvas">
                { topology }
                // One legend over the canvas: a scenario with synchronous calls only has the
                // canvas's own call legend, and no messaging legend on top of it.
                if messaging {
                    <div class="embed-legend" data-testid="embed-legend"><super::info::Legend {messaging} /></div>
                }
            </div>
            <p class="caption" data-testid="caption">
                <label class="legend-toggle" title="Show or hide the legend over the canvas">
                    <input type="checkbox" data-testid="legend-toggle" />{ "Legend" }
                </label>
                <span class="caption-title" title={title.clone()}>{ format!("{title} · seed {}", state.seed) }</span>
                <a href={fallback} target="_blank" rel="noopener" data-testid="open-playground"
                   onpointerdown={on_pointer} onfocus={on_focus} onclick={on_click}
                   title="open in the playground"><span class="long">{ "open in the playground " }</span>{ "↗" }</a>
            </p>
        </div>
    }
}

/// The long work in progress (a seek or a shared run's replay spread over animation frames):
/// what it does, how far it got, and a button that stops it. Nothing when there is none, or the
/// note the last one ended with when it stopped short.
pub fn work_bar(state: &Playground, dispatch: Callback<crate::state::Action>) -> Html {
    use crate::state::{Action, WorkKind};
    let Some(w) = &state.work else {
        return match &state.work_note {
            Some(note) => html! {
                <div class="banner work-note" data-testid="work-note" role="status">{ note.clone() }</div>
            },
            None => html! {},
        };
    };
    let what = match w.kind {
        WorkKind::Seek => "Seeking",
        WorkKind::Load { .. } => "Opening the shared run",
    };
    let pct = (w.progress() * 100.0).floor();
    let text = format!(
        "{what} to {}: at {} · {} engine events ({pct:.0} %)",
        crate::format::format_secs(w.target),
        crate::format::format_secs(w.now),
        w.events
    );
    let cancel = Callback::from(move |_: MouseEvent| dispatch.emit(Action::CancelWork));
    html! {
        <div class="banner work" data-testid="work" role="status" aria-live="polite">
            <progress max="1" value={format!("{:.3}", w.progress())} data-testid="work-progress"></progress>
            <span data-testid="work-text">{ text }</span>
            <button type="button" data-testid="cancel-work" onclick={cancel}>{ "Cancel" }</button>
        </div>
    }
}

/// Requests a frame callback once (the closure frees itself after it ran).
fn on_next_frame(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    let Some(w) = web_sys::window() else {
        return;
    };
    let cb = wasm_bindgen::closure::Closure::once_into_js(f);
    let _ = w.request_animation_frame(cb.unchecked_ref());
}

/// The host's requests wait in a [`embed::HostQueue`]; a frame callback (armed when the first
/// one arrives) applies one frame's worth ([`embed::HostQueue::take_frame`]) and re-arms while
/// some wait.
#[derive(Clone)]
struct Bridge {
    queue: std::rc::Rc<std::cell::RefCell<embed::HostQueue>>,
    armed: std::rc::Rc<std::cell::Cell<bool>>,
    alive: std::rc::Rc<std::cell::Cell<bool>>,
    dispatch: yew::functional::UseReducerDispatcher<Playground>,
}

impl Bridge {
    fn arm(&self) {
        if self.armed.replace(true) {
            return;
        }
        let me = self.clone();
        on_next_frame(move || me.frame());
    }

    fn frame(&self) {
        self.armed.set(false);
        if !self.alive.get() {
            return;
        }
        let batch = self.queue.borrow_mut().take_frame();
        for r in batch.requests {
            // One task: Yew renders once for all of them (one `state` event at most).
            self.dispatch.dispatch(r.action(crate::web::real_now()));
        }
        for (origin, e) in &batch.errors {
            crate::embed_web::post_to(&embed::error_event(e), origin);
        }
        if let Some(e) = &batch.summary {
            crate::embed_web::post(&embed::error_event(e));
        }
        if !self.queue.borrow().is_empty() {
            self.arm();
        }
    }
}

/// In embed mode, talks to the host page: listens for its requests (from the allowed origins
/// only) and applies them once per animation frame (coalesced and bounded,
/// [`embed::HostQueue`]), posts `ready` once, `state` when the clock starts or stops or the run
/// changes (at most once per frame), `metrics` at most every [`embed::METRICS_INTERVAL_MS`]
/// (the latest counters always arrive), and `error` when a request was refused or failed in the
/// engine, or long work stopped short. Does nothing outside embed mode or at top level.
#[hook]
pub fn use_host_bridge(state: &UseReducerHandle<Playground>) {
    let enabled = state.embed;
    {
        let d = state.dispatcher();
        let s = state.clone();
        use_effect_with(enabled, move |on| {
            let bridge = Bridge {
                queue: Default::default(),
                armed: Default::default(),
                alive: std::rc::Rc::new(std::cell::Cell::new(true)),
                dispatch: d,
            };
            let listener = on.then(|| {
                let b = bridge.clone();
                crate::embed_web::listen(move |incoming| {
                    match incoming {
                        Ok(req) => b.queue.borrow_mut().push(req),
                        Err((origin, e)) => b.queue.borrow_mut().push_error(origin, e),
                    }
                    b.arm();
                })
            });
            if *on {
                crate::embed_web::post(&embed::ready_event(&s));
            }
            // `size`: once laid out (next frame), then whenever a resize changes it.
            let last_size = std::rc::Rc::new(std::cell::Cell::new(0u32));
            let post_size = {
                let last = last_size.clone();
                move || {
                    if let Some(h) = crate::embed_web::preferred_height() {
                        if h != last.get() {
                            last.set(h);
                            crate::embed_web::post(&embed::size_event(h));
                        }
                    }
                }
            };
            let first_frame = on.then(|| {
                let p = post_size.clone();
                gloo::render::request_animation_frame(move |_| p())
            });
            let on_resize = on
                .then(web_sys::window)
                .flatten()
                .map(|w| gloo::events::EventListener::new(&w, "resize", move |_| post_size()));
            move || {
                bridge.alive.set(false);
                drop(listener);
                drop(first_frame);
                drop(on_resize);
            }
        });
    }
    {
        let s = (**state).clone();
        use_effect_with(embed::state_key(state), move |_| {
            if enabled {
                crate::embed_web::post(&embed::state_event(&s));
            }
        });
    }
    // `metrics`: (when the last went, its counters, a later send is scheduled, the latest state).
    let metrics = use_mut_ref(|| MetricsGate {
        last_ms: f64::NEG_INFINITY,
        last: None,
        scheduled: false,
        latest: None,
    });
    {
        let s = (**state).clone();
        use_effect_with(state.version, move |_| {
            if !enabled {
                return;
            }
            let current = (s.snapshot.time, s.snapshot.metrics);
            let mut g = metrics.borrow_mut();
            g.latest = Some(s);
            send_metrics_when_due(&metrics, &mut g, current);
        });
    }
    {
        let note = state
            .work_note
            .clone()
            .filter(|n| Some(n) != state.upload_error.as_ref());
        let errors = (state.fault_error.clone(), state.upload_error.clone(), note);
        use_effect_with(errors, move |(fault, upload, note)| {
            if enabled {
                for message in [fault, upload, note].into_iter().flatten() {
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

/// The `metrics` rate limit's memory.
struct MetricsGate {
    last_ms: f64,
    last: Option<(msgsim::SimTime, msgsim::Metrics)>,
    scheduled: bool,
    latest: Option<Playground>,
}

fn send_metrics_when_due(
    gate: &std::rc::Rc<std::cell::RefCell<MetricsGate>>,
    g: &mut MetricsGate,
    current: (msgsim::SimTime, msgsim::Metrics),
) {
    let now = crate::web::real_now();
    let changed = g.last != Some(current);
    if embed::metrics_due(changed, g.last_ms, now) {
        if let Some(s) = &g.latest {
            crate::embed_web::post(&embed::metrics_event(s));
        }
        g.last_ms = now;
        g.last = Some(current);
    } else if changed && !g.scheduled {
        // Too early: send the latest counters once the interval has passed.
        g.scheduled = true;
        let wait = (embed::METRICS_INTERVAL_MS - (now - g.last_ms)).max(0.0);
        let gate = gate.clone();
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(std::time::Duration::from_millis(wait.ceil() as u64 + 1))
                .await;
            let mut g = gate.borrow_mut();
            g.scheduled = false;
            let current = g
                .latest
                .as_ref()
                .map(|s| (s.snapshot.time, s.snapshot.metrics));
            if let Some(current) = current {
                let gate2 = gate.clone();
                send_metrics_when_due(&gate2, &mut g, current);
            }
        });
    }
}
