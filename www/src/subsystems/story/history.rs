//! One browser-history entry per run the reader leaves, so Back returns to it exactly.
//!
//! The address bar already follows the run (`history.replaceState`, see
//! [`crate::components::share_bar::use_address_bar`]). [`use_run_history`] adds the entries:
//! when a new run starts (another scenario or seed, Reset, a loaded or restored run:
//! [`Playground::run_epoch`] changes) the current entry is rewritten to the exact run being left
//! (its `?run=` link: scenario, seed, commands at their places, time) and a new entry is pushed
//! for the new run. On `popstate` (Back, Forward) the entry's run is opened
//! ([`Action::LoadRun`]) without pushing anything.

use crate::share::{self, current_run};
use crate::state::{Action, Playground, RunOrigin};
use msgsim::share::{ScenarioRef, SharedRun};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

/// The URL parameters that reopen the run `p` shows (`run`, or `scenario` + `seed` when it is a
/// fresh built-in run or too big for a link).
fn params_of(p: &Playground) -> Vec<(&'static str, Option<String>)> {
    match share::link_params(&current_run(p)) {
        Ok(params) => params.to_vec(),
        Err(_) => vec![
            ("run", None),
            ("scenario", p.builtin_name().map(str::to_string)),
            ("seed", Some(p.seed.to_string())),
        ],
    }
}

/// The page URL with `params` set (others kept).
fn url_with(params: &[(&str, Option<String>)]) -> Option<String> {
    let href = web_sys::window()?.location().href().ok()?;
    let url = web_sys::Url::new(&href).ok()?;
    let sp = url.search_params();
    for (k, v) in params {
        match v {
            Some(v) => sp.set(k, v),
            None => sp.delete(k),
        }
    }
    Some(url.href())
}

/// The run an address names: its `?run=`, else its `?scenario=` and `?seed=` (at time 0, no
/// commands). `Err` is the URL banner's sentence.
pub fn run_of_location() -> Result<SharedRun, String> {
    let params = crate::web::read_url();
    let choice = crate::format::resolve_start(&params);
    let (run, _) = crate::embed_web::read_share_params();
    match run.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => share::read_run_param(raw, &choice),
        None => Ok(SharedRun {
            scenario: ScenarioRef::Builtin(choice.scenario.to_string()),
            seed: choice.seed,
            commands: Vec::new(),
            at: msgsim::SimTime::ZERO,
            events: None,
        }),
    }
}

/// Keeps one history entry per run (see the module). `enabled` is off in tests and in the
/// widget. Call it before [`crate::components::share_bar::use_address_bar`]: both run after the
/// same render, this one first.
#[hook]
pub fn use_run_history(state: &UseReducerHandle<Playground>, enabled: bool) {
    // The state of the last render: still holds the engine of the run being left.
    let last = use_mut_ref(|| None::<Playground>);
    let from_popstate = use_memo((), |_| Cell::new(false));
    {
        let s = (**state).clone();
        let last = last.clone();
        let flag = Rc::clone(&from_popstate);
        use_effect_with((state.run_epoch, state.version), move |_| {
            let prev = last.borrow_mut().replace(s.clone());
            if !enabled {
                return;
            }
            if flag.replace(false) {
                // The browser already shows the entry of this run.
                return;
            }
            let Some(prev) = prev else {
                return;
            };
            if prev.run_epoch == s.run_epoch {
                return;
            }
            let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else {
                return;
            };
            if let Some(left) = url_with(&params_of(&prev)) {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&left));
            }
            if let Some(new) = url_with(&params_of(&s)) {
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&new));
            }
        });
    }
    {
        let d = state.dispatcher();
        let flag = Rc::clone(&from_popstate);
        use_effect_with(enabled, move |on| {
            let listener = on.then(|| PopListener::new(d, flag));
            move || drop(listener)
        });
    }
}

/// The `popstate` listener; dropping it removes it.
struct PopListener {
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl PopListener {
    fn new(d: UseReducerDispatcher<Playground>, flag: Rc<Cell<bool>>) -> PopListener {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            // (The entries this page writes always open; a damaged one typed by hand is
            // ignored here, as a reload shows its problem in the URL banner.)
            if let Ok(run) = run_of_location() {
                flag.set(true);
                d.dispatch(Action::LoadRun {
                    run: Box::new(run),
                    origin: RunOrigin::Url,
                });
            }
        });
        if let Some(w) = web_sys::window() {
            let _ =
                w.add_event_listener_with_callback("popstate", closure.as_ref().unchecked_ref());
        }
        PopListener { closure }
    }
}

impl Drop for PopListener {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                "popstate",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}
