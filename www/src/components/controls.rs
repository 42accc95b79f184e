//! Transport (play, pause, step, advance, reset, speed, clock) and run setup (scenario, seed,
//! upload).

use super::cls;
use super::input::SyncedInput;
use crate::format::{self, format_clock, format_speed};
use crate::state::{Action, GalleryEntry, Source, ADVANCE_MS};
use msgsim::SimTime;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Properties of [`Transport`].
#[derive(Properties, PartialEq)]
pub struct TransportProps {
    /// Clock runs.
    pub playing: bool,
    /// Speed factor.
    pub speed: f64,
    /// Virtual time.
    pub time: SimTime,
    /// Nothing is scheduled any more.
    pub idle: bool,
    /// The last frame hit the per-frame event cap.
    pub capped: bool,
    /// The last step found nothing to do.
    pub idle_note: bool,
    /// Compact (embed) mode: no advance button, no speed slider.
    #[prop_or(false)]
    pub compact: bool,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// The transport bar.
#[function_component(Transport)]
pub fn transport(p: &TransportProps) -> Html {
    let send = |a: Action| {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(a.clone()))
    };
    let on_step = {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::Step {
                real_ms: crate::web::real_now(),
            })
        })
    };
    let on_advance = {
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::Advance {
                virtual_ms: ADVANCE_MS,
                real_ms: crate::web::real_now(),
            })
        })
    };
    let on_speed = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(pos) = input.value().parse::<u32>() {
                d.emit(Action::SetSpeed(format::speed_from_slider(pos)));
            }
        })
    };
    let status = if p.idle {
        Some("run finished: nothing scheduled")
    } else if p.idle_note {
        Some("nothing to step")
    } else if p.capped {
        Some("busy: engine capped at 20 000 events per frame")
    } else {
        None
    };
    html! {
        <div class="transport" role="toolbar" aria-label="Simulation controls">
            <button data-testid="play" class={cls("btn", &[(!p.playing, "primary"), (p.playing, "active")])}
                    aria-pressed={p.playing.to_string()} title="Run the virtual clock"
                    onclick={send(Action::Play)}>{ "▶ Play" }</button>
            <button data-testid="pause" class={cls("btn", &[(!p.playing, "active")])}
                    aria-pressed={(!p.playing).to_string()} title="Stop the virtual clock"
                    onclick={send(Action::Pause)}>{ "❚❚ Pause" }</button>
            <button data-testid="step" class="btn" title="Handle exactly one engine event"
                    onclick={on_step}>{ "⇥ Step" }</button>
            if !p.compact {
                <button data-testid="advance" class="btn" title="Run one second of virtual time at once"
                        onclick={on_advance}>{ "» +1 s" }</button>
            }
            <button data-testid="reset" class="btn" title="Start again: same scenario and seed, no commands"
                    onclick={send(Action::Reset)}>{ "↺ Reset" }</button>
            if !p.compact {
                <label class="speed" title="Virtual time per real time (logarithmic)">
                    <span class="label">{ "Speed" }</span>
                    <input data-testid="speed" type="range" aria-label="Speed: virtual time per real time" min="0" max={format::SLIDER_STEPS.to_string()} step="1"
                           value={format::slider_from_speed(p.speed).to_string()}
                           aria-valuetext={format_speed(p.speed)}
                           oninput={on_speed} />
                    <output data-testid="speed-label">{ format_speed(p.speed) }</output>
                </label>
            }
            <span class="clock" data-testid="clock" aria-live="off">{ format_clock(p.time) }</span>
            if let Some(s) = status {
                <span class="status-note" data-testid="run-status">{ s }</span>
            }
        </div>
    }
}

/// Properties of [`RunSetup`].
#[derive(Properties, PartialEq)]
pub struct RunSetupProps {
    /// Built-in scenarios by section ([`crate::state::builtin_gallery`]).
    pub builtins: std::rc::Rc<Vec<(String, Vec<GalleryEntry>)>>,
    /// Where the current scenario comes from.
    pub source: Source,
    /// An uploaded scenario `(file, title)`, if any.
    pub uploaded: Option<(String, String)>,
    /// Seed.
    pub seed: u64,
    /// The seed input's error.
    pub seed_error: Option<String>,
    /// The upload's error.
    pub upload_error: Option<String>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// Scenario picker, seed input, upload.
#[function_component(RunSetup)]
pub fn run_setup(p: &RunSetupProps) -> Html {
    let on_scenario = {
        let d = p.dispatch.clone();
        Callback::from(move |e: Event| {
            let sel: HtmlSelectElement = e.target_unchecked_into();
            let v = sel.value();
            if v == "upload:" {
                d.emit(Action::LoadUploaded);
            } else {
                d.emit(Action::LoadBuiltin(v));
            }
        })
    };
    let on_seed = {
        let d = p.dispatch.clone();
        Callback::from(move |(text, _): (String, HtmlInputElement)| {
            d.emit(Action::SetSeedText(text))
        })
    };
    let on_upload = {
        let d = p.dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            crate::web::read_upload(&input, d.clone());
        })
    };
    let current = match &p.source {
        Source::Builtin(n) => n.to_string(),
        Source::Uploaded(_) => "upload:".to_string(),
    };
    // Once the reader has used the picker, `selected` attributes no longer move it: set its
    // value whenever the scenario changes (gallery, Back/Forward, restore, a loaded run).
    let select = use_node_ref();
    {
        let select = select.clone();
        use_effect_with(current.clone(), move |c| {
            if let Some(s) = select.cast::<HtmlSelectElement>() {
                if s.value() != *c {
                    s.set_value(c);
                }
            }
        });
    }
    html! {
        <div class="run-setup">
            <label class="field">
                <span class="label">{ "Scenario" }</span>
                <select data-testid="scenario" ref={select} onchange={on_scenario} aria-label="Scenario">
                    { for p.builtins.iter().map(|(section, entries)| html! {
                        <optgroup key={section.clone()} label={section.clone()}>
                            { for entries.iter().map(|e| html! {
                                <option key={e.name} value={e.name} selected={current == e.name}>{ &e.title }</option>
                            }) }
                        </optgroup>
                    }) }
                    if let Some((file, title)) = &p.uploaded {
                        <option key="upload:" value="upload:" selected={current == "upload:"}>
                            { format!("{title} (uploaded: {})", format::shorten(file, 30)) }
                        </option>
                    }
                </select>
            </label>
            <label class="field seed">
                <span class="label">{ "Seed" }</span>
                <SyncedInput testid="seed" inputmode="numeric" value={p.seed.to_string()} onchange={on_seed}
                             invalid={p.seed_error.is_some()}
                             title="Every random draw derives from this whole number (0..18446744073709551615)" />
            </label>
            <label class="field upload" title="Load a scenario JSON file">
                <span class="label">{ "Load JSON" }</span>
                <input data-testid="upload" type="file" accept=".json,application/json" onchange={on_upload} />
            </label>
            if let Some(e) = &p.seed_error {
                <p class="inline-error" data-testid="seed-error" role="alert">{ e }</p>
            }
            if let Some(e) = &p.upload_error {
                <p class="inline-error" data-testid="upload-error" role="alert">{ e }</p>
            }
        </div>
    }
}
