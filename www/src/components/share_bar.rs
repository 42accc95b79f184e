//! Sharing from the full playground: "copy link", "copy embed code" and "download run file"
//! buttons with a selectable text field (the fallback when the clipboard is refused), and the
//! address bar that follows the run ([`use_address_bar`]).

use crate::share::{self, current_run};
use crate::state::Playground;
use yew::prelude::*;

/// Least real time between two address-bar updates while the clock runs, ms.
pub const ADDRESS_INTERVAL_MS: f64 = 1_000.0;

/// The playground state as a property, equal while its action counter is.
#[derive(Clone)]
pub struct Current(pub Playground);

impl PartialEq for Current {
    fn eq(&self, other: &Current) -> bool {
        self.0.version == other.0.version
    }
}

/// Properties of [`ShareBar`].
#[derive(Properties, PartialEq)]
pub struct ShareBarProps {
    /// The state to share.
    pub current: Current,
}

/// What the last share button did.
#[derive(Clone, PartialEq)]
struct Shared {
    /// `link`, `embed` or `file`.
    what: &'static str,
    /// The link or the snippet (empty for a file).
    text: String,
    /// What happened, one sentence.
    note: String,
    /// It did not work as asked (the clipboard refused, the run does not fit in a link).
    problem: bool,
}

fn copy(shared: UseStateHandle<Option<Shared>>, what: &'static str, text: String) {
    shared.set(Some(Shared {
        what,
        text: text.clone(),
        note: "Copying…".into(),
        problem: false,
    }));
    yew::platform::spawn_local(async move {
        let ok = crate::embed_web::copy_text(&text).await;
        let (note, problem) = if ok {
            ("Copied to the clipboard.", false)
        } else {
            (
                "The browser refused the clipboard: select the text below and copy it.",
                true,
            )
        };
        shared.set(Some(Shared {
            what,
            text,
            note: note.into(),
            problem,
        }));
    });
}

/// The share buttons. Links and files are made when a button is pressed, never per frame. The
/// root carries `data-trace-hash`, `data-time-us` and `data-events` of the run (what a link
/// must reproduce; the end-to-end test compares them).
#[function_component(ShareBar)]
pub fn share_bar(p: &ShareBarProps) -> Html {
    let shared = use_state(|| None::<Shared>);
    let state = &p.current.0;
    let on_link = {
        let (state, shared) = (state.clone(), shared.clone());
        Callback::from(move |_: MouseEvent| {
            let run = current_run(&state);
            match share::link_query(&run, false) {
                Ok(q) => copy(
                    shared.clone(),
                    "link",
                    format!("{}{q}", crate::embed_web::page_url()),
                ),
                Err(e) => shared.set(Some(Shared {
                    what: "link",
                    text: String::new(),
                    note: share::too_long_text(&e),
                    problem: true,
                })),
            }
        })
    };
    let on_embed = {
        let (state, shared) = (state.clone(), shared.clone());
        Callback::from(move |_: MouseEvent| {
            let run = current_run(&state);
            let title = state.scenario_title();
            match share::link_query(&run, true) {
                Ok(q) => copy(
                    shared.clone(),
                    "embed",
                    share::embed_snippet(&crate::embed_web::page_url(), &q, &title),
                ),
                Err(e) => shared.set(Some(Shared {
                    what: "embed",
                    text: String::new(),
                    note: share::too_long_text(&e),
                    problem: true,
                })),
            }
        })
    };
    let on_element = {
        let (state, shared) = (state.clone(), shared.clone());
        Callback::from(move |_: MouseEvent| {
            let run = current_run(&state);
            let title = state.scenario_title();
            match share::element_snippet(&crate::embed_web::page_url(), &run, &title) {
                Ok(text) => copy(shared.clone(), "element", text),
                Err(e) => shared.set(Some(Shared {
                    what: "element",
                    text: String::new(),
                    note: share::too_long_text(&e),
                    problem: true,
                })),
            }
        })
    };
    let on_file = {
        let (state, shared) = (state.clone(), shared.clone());
        Callback::from(move |_: MouseEvent| {
            let run = current_run(&state);
            let name = share::run_file_name(&state.scenario, state.seed);
            let text = share::run_file_text(&run, &state.scenario);
            let ok = crate::web::download(&name, "application/json", &text);
            shared.set(Some(Shared {
                what: "file",
                text: String::new(),
                note: if ok {
                    format!(
                        "Downloaded `{name}` ({} commands): load it with “Load JSON” to replay this run.",
                        run.commands.len()
                    )
                } else {
                    "The browser could not start the download.".into()
                },
                problem: !ok,
            }))
        })
    };
    let select_all = Callback::from(|e: FocusEvent| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        input.select();
    });
    let (hash, events) = state.with_sim(|s| (s.trace_hash(), s.events_processed()));
    html! {
        <div class="share-bar" data-testid="share-bar" data-trace-hash={format!("{hash:016x}")}
             data-time-us={state.snapshot.time.as_us().to_string()} data-events={events.to_string()}>
            <button data-testid="copy-link" class="btn" title="Copy a link that reopens this run: scenario, seed, your commands at their places, this time"
                    onclick={on_link}>{ "Copy link" }</button>
            <button data-testid="copy-embed" class="btn" title="Copy an <iframe> that embeds this run in another page"
                    onclick={on_embed}>{ "Copy embed code" }</button>
            <button data-testid="copy-embed-element" class="btn" title="Copy a <msgsim-embed> element (one script tag, then one line per scenario: lazy, sizes itself, a plain link without JavaScript) for documentation pages"
                    onclick={on_element}>{ "Copy <msgsim-embed>" }</button>
            <button data-testid="download-run" class="btn" title="Download the scenario with your recorded commands as a JSON run file"
                    onclick={on_file}>{ "⤓ Run file" }</button>
            if let Some(s) = &*shared {
                <div class={if s.problem { "share-out problem" } else { "share-out" }}>
                    <p class="share-note" data-testid="share-note" role="status">{ &s.note }</p>
                    if !s.text.is_empty() {
                        <input class="share-text" data-testid="share-text" data-what={s.what} readonly=true
                               value={s.text.clone()} onfocus={select_all} aria-label="Text to copy" />
                    }
                </div>
            }
        </div>
    }
}

/// Keeps the address bar on the run (`history.replaceState`): `?scenario=&seed=` for a fresh
/// built-in run, `?run=v1.…` once it has commands or has moved; only `?seed=` (and the built-in
/// name) when the run is too big for a link. At most once per [`ADDRESS_INTERVAL_MS`] while the
/// clock runs, at once when it stops or on any other change; never before the first change (a
/// URL with mistakes stays visible).
#[hook]
pub fn use_address_bar(state: &Playground, enabled: bool) {
    let last_ms = use_mut_ref(|| f64::NEG_INFINITY);
    let started = use_mut_ref(|| false);
    let key = (
        state.builtin_name(),
        state.seed,
        state.commands.len(),
        state.playing,
        state.scenario.name.clone(),
        if state.playing {
            state.snapshot.time.as_us() / 1_000_000
        } else {
            state.snapshot.events_processed
        },
        state.snapshot.time,
    );
    let state = state.clone();
    use_effect_with(key, move |_| {
        if !std::mem::replace(&mut *started.borrow_mut(), true) || !enabled {
            return;
        }
        let now = crate::web::real_now();
        if state.playing && now - *last_ms.borrow() < ADDRESS_INTERVAL_MS {
            return;
        }
        *last_ms.borrow_mut() = now;
        let run = current_run(&state);
        match share::link_params(&run) {
            Ok(params) => crate::embed_web::replace_params(&params),
            Err(_) => crate::embed_web::replace_params(&[
                ("run", None),
                ("scenario", state.builtin_name().map(str::to_string)),
                ("seed", Some(state.seed.to_string())),
            ]),
        }
    });
}
