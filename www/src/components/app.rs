//! The root component: owns the reducer, runs the animation loop, keeps the URL in step, and
//! lays the page out (or only the canvas and the transport in embed mode).
//!
//! The page (issue 11): the transport and the canvas with, beside it, the story column (what the
//! scenario shows, what to try, what just happened, the guarantees ✓/✗); under them, tabs for
//! the deeper panels (faults and commands, inside the system, sequence diagram, event log,
//! scenario and gallery). Below 1100 px the story column becomes the first tab
//! ([`crate::subsystems::story`]).

use super::broker::broker_panel;
use super::controls::{RunSetup, Transport};
use super::experiments::Experiments;
use super::fault_panel::FaultPanel;
use super::info::{Legend, ScenarioInfo};
use super::invariants::InvariantsPanel;
use super::log::{EventLog, Explain};
use super::metrics::MetricsPanel;
use super::receivers::{receivers_panel, requests_panel};
use super::throttle::{pane_tick, tick, PaneGate, Throttled};
use super::topology::Topology;
use super::txn::transactional_panels;
use crate::geometry::Layout;
use crate::state::{builtin_gallery, Action, AppInit, Playground, Selection, Source};
use crate::subsystems::story::column::{restore_bar, tab_bar, StorySummary};
use crate::subsystems::story::zoom::CanvasZoom;
use crate::subsystems::story::Tab;
use gloo::render::{request_animation_frame, AnimationFrame};
use msgsim::Snapshot;
use std::rc::Rc;
use yew::prelude::*;

/// After the next frame, scrolls the page just enough that the tab bar and the first 400 px of
/// the open tab (under the canvas) are on screen, when they are below the fold.
fn reveal_drawer() {
    use wasm_bindgen::JsCast;
    let Some(w) = web_sys::window() else {
        return;
    };
    let f = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(w) = web_sys::window() else {
            return;
        };
        let Some(el) = w
            .document()
            .and_then(|d| d.query_selector("nav.tabs").ok().flatten())
        else {
            return;
        };
        let top = el.get_bounding_client_rect().top();
        let h = w
            .inner_height()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        if h > 0.0 && top > h - 200.0 {
            w.scroll_by_with_x_and_y(0.0, top - h + 460.0);
        }
    });
    let _ = w.request_animation_frame(f.unchecked_ref());
}

fn side_panels(s: &Snapshot, l: &Layout) -> Html {
    html! { <>{ receivers_panel(s, l) }{ requests_panel(s) }</> }
}

fn inspect_panels(s: &Snapshot, _: &Layout) -> Html {
    html! { <>{ transactional_panels(s) }{ broker_panel(s) }</> }
}

/// Properties of [`App`].
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// Scenario, seed, embed mode and URL problems to start with.
    pub init: AppInit,
    /// Keep `?scenario=&seed=` in the address bar in step, one history entry per run the
    /// reader leaves, Back and Forward reopen them (off in tests).
    #[prop_or(false)]
    pub sync_url: bool,
    /// Start playing at once, unless the reader prefers reduced motion, the page opens a shared
    /// run (`?run=`, which opens paused at its place) or it is the widget (which moves only when
    /// its host asks). Set only by the real page ([`crate::web::start`]); off in tests.
    #[prop_or(false)]
    pub autoplay: bool,
}

/// Whether the reader asked for less motion (`prefers-reduced-motion: reduce`).
fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}

/// The playground.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let state = use_reducer(|| Playground::new(&props.init));
    let builtins = use_memo((), |_| builtin_gallery());
    let dispatch: Callback<Action> = {
        let d = state.dispatcher();
        Callback::from(move |a| d.dispatch(a))
    };

    // The animation loop: one pending frame at a time, its handle kept here; replacing or
    // dropping the handle cancels the frame. Re-armed after every action while it is wanted.
    let raf = use_mut_ref(|| None::<AnimationFrame>);
    {
        let raf = raf.clone();
        let d = state.dispatcher();
        use_effect_with((state.wants_frames(), state.version), move |(wants, _)| {
            let next = wants.then(|| {
                request_animation_frame(move |ts| d.dispatch(Action::Frame { real_ms: ts }))
            });
            *raf.borrow_mut() = next;
        });
    }
    {
        // Drop a pending frame when the app goes away.
        let raf = raf.clone();
        use_effect_with((), move |_| move || drop(raf.borrow_mut().take()));
    }

    // The URL follows the run (not at start: a URL with mistakes stays visible); in embed mode
    // the widget talks to its host page.
    crate::subsystems::story::history::use_run_history(&state, props.sync_url && !state.embed);
    super::share_bar::use_address_bar(&state, props.sync_url);
    super::embed_view::use_host_bridge(&state);
    {
        let go = props.autoplay && !state.embed && props.init.run.is_none();
        let d = state.dispatcher();
        use_effect_with((), move |_| {
            if go && !prefers_reduced_motion() {
                d.dispatch(Action::Play);
            }
        });
    }
    let tab = use_state(|| Tab::Story);
    // The legend starts folded on phones (it would push the tabs off the first screen).
    let legend_open = use_state(|| {
        !web_sys::window()
            .and_then(|w| w.match_media("(max-width: 760px)").ok().flatten())
            .is_some_and(|m| m.matches())
    });
    let on_legend = {
        let legend_open = legend_open.clone();
        Callback::from(move |e: Event| {
            use wasm_bindgen::JsCast;
            if let Some(d) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            {
                legend_open.set(d.open());
            }
        })
    };
    let on_tab = {
        let tab = tab.clone();
        Callback::from(move |t: Tab| tab.set(t))
    };

    // The compare view: open with the button or `?compare=<pair>` (read only on the real page).
    let compare = {
        let sync = props.sync_url;
        use_state(move || {
            if sync {
                super::compare_view::url_pair()
            } else {
                None
            }
        })
    };
    let on_select = {
        let d = dispatch.clone();
        let tab = tab.clone();
        Callback::from(move |s: Selection| {
            // A link or a node picked on the canvas: its fault form is in the controls tab; a
            // message: its close-up is in the sequence tab. Bring that tab's top into view.
            let want = match s {
                Selection::Link(_) | Selection::Node(_) => Tab::Controls,
                Selection::Message(_) => Tab::Sequence,
            };
            if *tab != want {
                tab.set(want);
            }
            reveal_drawer();
            d.emit(Action::Select(s))
        })
    };
    let on_instance = {
        let d = dispatch.clone();
        Callback::from(move |(node, k): (usize, u32)| {
            d.emit(Action::SelectNode(node));
            d.emit(Action::SelectInstance(k));
        })
    };
    let snap = Rc::clone(&state.snapshot);
    // Recent call outcomes (retries, timeouts, rejections, fallbacks) for the canvas.
    let marks = Rc::new(if state.scenario.calls.is_empty() {
        Vec::new()
    } else {
        state.with_sim(|s| crate::rpc_marks::recent(s.trace().events().rev(), s.now()))
    });
    let topology = html! {
        <CanvasZoom reset_key={AttrValue::from(state.scenario.name.clone())}>
            <Topology snapshot={Rc::clone(&snap)} layout={Rc::clone(&state.layout)}
                      falling={Rc::clone(&state.falling)} selection={state.selection}
                      on_select={on_select} on_instance={on_instance} marks={marks} />
        </CanvasZoom>
    };
    let transport = html! {
        <Transport playing={state.playing} speed={state.speed} time={snap.time} idle={snap.idle}
                   capped={state.capped} idle_note={state.idle_note} compact={state.embed}
                   dispatch={dispatch.clone()} />
    };
    let work = super::embed_view::work_bar(&state, dispatch.clone());
    let url_errors = if state.url_errors.is_empty() {
        work
    } else {
        html! {
            <>
            <div class="banner error" data-testid="error" role="alert">
                <strong>{ "Problem in the URL. " }</strong>
                { for state.url_errors.iter().map(|e| html! { <p>{ e }{ " " }</p> }) }
            </div>
            { work }
            </>
        }
    };

    // The lean widget build (no `full` feature) has only this layout: the rest of the page and
    // the components only it uses are left out of that build.
    if state.embed || cfg!(not(feature = "full")) {
        return super::embed_view::embed_layout(&state, url_errors, transport, topology);
    }

    let uploaded = state.uploaded.as_ref().map(|(file, s)| {
        let t = if s.title.is_empty() {
            s.name.clone()
        } else {
            s.title.clone()
        };
        (file.clone(), t)
    });
    let total = state.with_sim(|s| s.trace().len_total());
    let open_compare = {
        let compare = compare.clone();
        let current = state.builtin_name();
        let sync = props.sync_url;
        Callback::from(move |_: MouseEvent| {
            let pair = msgsim::scenarios::COMPARISONS
                .iter()
                .find(|c| Some(c.scenario) == current)
                .unwrap_or(&msgsim::scenarios::COMPARISONS[0])
                .name;
            if sync {
                super::compare_view::set_url_pair(Some(pair));
            }
            compare.set(Some(Ok(pair)));
        })
    };
    let compare_view = compare.as_ref().map(|choice| {
        let (pair, note) = match choice {
            Ok(p) => (*p, None),
            Err(e) => (msgsim::scenarios::COMPARISONS[0].name, Some(e.clone())),
        };
        let sync = props.sync_url;
        let on_close = {
            let compare = compare.clone();
            Callback::from(move |_| {
                if sync {
                    super::compare_view::set_url_pair(None);
                }
                compare.set(None);
            })
        };
        let on_pick = Callback::from(move |p: &'static str| {
            if sync {
                super::compare_view::set_url_pair(Some(p));
            }
        });
        html! {
            <super::compare_view::CompareView pair={pair} current={state.builtin_name()} seed={state.seed}
                commands={Rc::clone(&state.commands)} note={note} on_pick={on_pick} on_close={on_close} />
        }
    });
    // Hidden tab panes while playing: the inside views re-render once a second, the sequence
    // diagram and the event log not at all until shown or paused (issue 13).
    let gate = |t: Tab, every: u64| {
        let shown = *tab == t;
        (shown, pane_tick(state.version, state.playing, shown, every))
    };
    let (inside_shown, inside_tick) = gate(Tab::Inside, super::throttle::HIDDEN_FRAMES_PER_TICK);
    let (seq_shown, seq_tick) = gate(Tab::Sequence, 0);
    let (log_shown, log_tick) = gate(Tab::Log, 0);
    html! {
        <div class="app">
            <header class="topbar">
                <h1><span class="logo" aria-hidden="true">{ "◎" }</span>{ "msgsim" }<span class="sub">{ " playground" }</span></h1>
                <RunSetup builtins={Rc::clone(&builtins)} source={state.source.clone()} uploaded={uploaded}
                          seed={state.seed} seed_error={state.seed_error.clone()}
                          upload_error={state.upload_error.clone()} dispatch={dispatch.clone()} />
                <super::share_bar::ShareBar current={super::share_bar::Current((*state).clone())} />
                <button class="btn compare-open" data-testid="open-compare" onclick={open_compare}
                        title="Run two variants of a scenario side by side, same seed and faults, and diff their metrics">{ "⇄ Compare" }</button>
            </header>
            { url_errors }
            { compare_view.unwrap_or_default() }
            <main class="layout" data-tab={tab.key()}>
                <section class="stage" aria-label="Canvas">
                    { transport }
                    { restore_bar(state.previous.as_ref(), &dispatch) }
                    { topology }
                    <super::timeline::Scrubber time={snap.time} horizon={state.horizon} marks={Rc::clone(&state.marks)}
                                               last_seek={state.last_seek} dispatch={dispatch.clone()} />
                    <details class="legend-box" open={*legend_open} ontoggle={on_legend}>
                        <summary>{ "Legend" }</summary>
                        <Legend messaging={!state.scenario.channels.is_empty() || !state.scenario.workloads.is_empty()} />
                    </details>
                </section>
                <aside class="story" aria-label="Story">
                    <div class="story-inner">
                        <StorySummary scenario={Rc::clone(&state.scenario)} playing={state.playing} finished={snap.idle}
                                      at_start={snap.time == msgsim::SimTime::ZERO && snap.events_processed == 0}
                                      dispatch={dispatch.clone()} />
                        <Explain sentences={Rc::clone(&state.explanations)} older={state.explanations_older}
                                 on_seek={dispatch.reform(|to_us| Action::Seek { to_us })} />
                        <InvariantsPanel snapshot={Rc::clone(&snap)}
                                         on_seek={dispatch.reform(|to_us| Action::Seek { to_us })} />
                        <super::rest_view::MaturitySummary scenario={Rc::clone(&state.scenario)} seed={state.seed} />
                        <section class="panel try" data-testid="story-try" aria-label="What to try">
                            <h2>{ "What to try" }</h2>
                            <Experiments scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                            <p class="hint">{ "Or pick a link or a node on the canvas: its faults and commands open under the canvas." }</p>
                        </section>
                    </div>
                </aside>
                { tab_bar(*tab, &on_tab) }
                <div class="drawer">
                    <div class="pane pane-controls" role="tabpanel" aria-label={Tab::Controls.label()}>
                        <FaultPanel scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)}
                                    link={state.link} direction={state.direction} node={state.node}
                                    instance={state.instance} note={state.fault_note.clone()}
                                    error={state.fault_error.clone()} commands={Rc::clone(&state.commands)}
                                    dispatch={dispatch.clone()} />
                        <section class="panel live-settings" data-testid="live-settings" aria-label="Live settings">
                            <h2>{ "Live settings" }<span class="sub">{ "policies of this scenario, changed from now on (recorded like any command)" }</span></h2>
                            <crate::subsystems::resilience::controls::ResilienceControls scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                            <crate::subsystems::sync::controls::EndpointControls scenario={Rc::clone(&state.scenario)} dispatch={dispatch.clone()} />
                            <crate::subsystems::broker::controls::BrokerControls scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                            <crate::subsystems::scale::controls::ScaleControls scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                            <crate::subsystems::schema::controls::SchemaControls scenario={Rc::clone(&state.scenario)} dispatch={dispatch.clone()} />
                            <crate::subsystems::outbox::controls::OutboxControls scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                            <crate::subsystems::kafka::controls::KafkaControls scenario={Rc::clone(&state.scenario)} snapshot={Rc::clone(&snap)} dispatch={dispatch.clone()} />
                        </section>
                    </div>
                    <div class="pane pane-inside" role="tabpanel" aria-label={Tab::Inside.label()}>
                        <PaneGate shown={inside_shown} tick={inside_tick}>
                        <div class="inside-grid">
                            <MetricsPanel snapshot={Rc::clone(&snap)} layout={Rc::clone(&state.layout)} />
                            <Throttled tick={tick(state.version, state.playing)} snapshot={Rc::clone(&snap)}
                                       layout={Rc::clone(&state.layout)} view={side_panels as fn(&Snapshot, &Layout) -> Html} />
                        </div>
                        <section class="inspect" aria-label="Inside the system">
                            <Throttled tick={tick(state.version, state.playing)} snapshot={Rc::clone(&snap)}
                                       layout={Rc::clone(&state.layout)} view={inspect_panels as fn(&Snapshot, &Layout) -> Html} />
                        </section>
                        <super::views::Views snapshot={Rc::clone(&snap)} inspect={{ let s = state.clone(); Callback::from(move |id| s.with_sim(|m| m.inspect_message(id))) }} />
                        <super::rest_view::ScenarioViews scenario={Rc::clone(&state.scenario)} seed={state.seed} />
                        </PaneGate>
                    </div>
                    <div class="pane pane-sequence" role="tabpanel" aria-label={Tab::Sequence.label()}>
                        <PaneGate shown={seq_shown} tick={seq_tick}>
                        <super::sequence::SequenceView tick={tick(state.version, state.playing)} sim={state.sim_ref()}
                                                       snapshot={Rc::clone(&snap)} scenario={Rc::clone(&state.scenario)}
                                                       selection={state.selection} dispatch={dispatch.clone()} />
                        </PaneGate>
                    </div>
                    <div class="pane pane-log" role="tabpanel" aria-label={Tab::Log.label()}>
                        <PaneGate shown={log_shown} tick={log_tick}>
                            <EventLog lines={Rc::clone(&state.log)} total={total} />
                        </PaneGate>
                    </div>
                    <div class="pane pane-about" role="tabpanel" aria-label={Tab::About.label()}>
                        <ScenarioInfo scenario={Rc::clone(&state.scenario)} seed={state.seed} builtins={Rc::clone(&builtins)}
                                      current={state.builtin_name()} dispatch={dispatch.clone()} />
                    </div>
                </div>
            </main>
            <footer class="footer">
                { "Deterministic: the same scenario, seed and commands at the same virtual times give the same run. " }
                { match &state.source { Source::Builtin(_) => "", Source::Uploaded(_) => "This scenario was uploaded: links carry it in full while it fits (Copy link); else share the run file." } }
            </footer>
        </div>
    }
}
