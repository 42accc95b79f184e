//! The story column's own parts: what the scenario shows (condensed, with "more"), the call to
//! play, the "Restore previous run" bar and the tab bar. The column also holds "What to try"
//! ([`crate::components::experiments::Experiments`]), "What just happened"
//! ([`crate::components::log::Explain`]) and the guarantees
//! ([`crate::components::invariants::InvariantsPanel`]); [`crate::components::app`] puts them
//! together.

use super::{condense, PreviousRun, Tab};
use crate::components::cls;
use crate::state::Action;
use msgsim::Scenario;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`StorySummary`].
#[derive(Properties, PartialEq)]
pub struct StorySummaryProps {
    /// The scenario.
    pub scenario: Rc<Scenario>,
    /// The clock runs.
    pub playing: bool,
    /// The run is at its start (virtual time 0, nothing handled).
    pub at_start: bool,
    /// The run is over: nothing is scheduled any more.
    #[prop_or_default]
    pub finished: bool,
    /// Sends actions (the call to play).
    pub dispatch: Callback<Action>,
}

/// What the scenario shows: its section (the pattern), its title, the first two or three
/// sentences of its description with a "more" toggle for the rest; and what to do now.
#[function_component(StorySummary)]
pub fn story_summary(p: &StorySummaryProps) -> Html {
    let open = use_state(|| false);
    {
        // Another scenario starts folded.
        let open = open.clone();
        use_effect_with(p.scenario.name.clone(), move |_| open.set(false));
    }
    let s = &p.scenario;
    let title = if s.title.is_empty() {
        s.name.clone()
    } else {
        s.title.clone()
    };
    let (summary, more) = condense(&s.description);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let play = p.dispatch.reform(|_: MouseEvent| Action::Play);
    let call = if p.finished && !p.at_start {
        html! {
            <p class="call finished" data-testid="story-call">
                { "The run is over: nothing more is scheduled, so the clock stopped. Drag the timeline back to any moment, or try an experiment below: its ↺ button goes back to the time it is tested at." }
            </p>
        }
    } else if p.playing {
        html! {
            <p class="call playing" data-testid="story-call">
                { "Playing. Pause any time, step one event, or drag the timeline back; try an experiment below." }
            </p>
        }
    } else if p.at_start {
        html! {
            <div class="call start" data-testid="story-call">
                <button class="btn primary big" data-testid="story-play" onclick={play}>{ "▶ Play" }</button>
                <span>{ "Press Play and watch the messages move; then try an experiment below." }</span>
            </div>
        }
    } else {
        html! {
            <p class="call paused" data-testid="story-call">
                { "Paused. Play to go on, Step for one event at a time." }
            </p>
        }
    };
    html! {
        <section class="panel story-about" data-testid="story-about" aria-label="What this scenario shows">
            if !s.section.is_empty() {
                <p class="section-name" data-testid="story-section">{ &s.section }</p>
            }
            <h2 data-testid="story-title">{ title }</h2>
            if s.description.is_empty() {
                <p class="hint">{ "This scenario has no description." }</p>
            } else if *open {
                <p class="summary" data-testid="story-summary">{ &s.description }</p>
            } else {
                <p class="summary" data-testid="story-summary">{ summary }</p>
            }
            if more {
                <button class="link-btn more" data-testid="story-more" aria-expanded={open.to_string()} onclick={toggle}>
                    { if *open { "less" } else { "more: what to watch, what to try" } }
                </button>
            }
            { call }
        </section>
    }
}

/// The "Restore previous run" bar (nothing when no run is kept).
pub fn restore_bar(previous: Option<&Rc<PreviousRun>>, dispatch: &Callback<Action>) -> Html {
    let Some(prev) = previous else {
        return html! {};
    };
    let restore = dispatch.reform(|_: MouseEvent| Action::RestorePrevious);
    let forget = dispatch.reform(|_: MouseEvent| Action::ForgetPrevious);
    html! {
        <div class="restore-bar" data-testid="restore-bar" role="status">
            <button class="btn" data-testid="restore-previous" onclick={restore}
                    title="Reopen the run you left, exactly: its scenario, seed, commands at their places and time">
                { "↶ Restore previous run" }
            </button>
            <span class="restore-what" data-testid="restore-what">{ prev.label() }</span>
            <button class="link-btn x" data-testid="restore-forget" onclick={forget} title="Forget it" aria-label="Forget the previous run">{ "✕" }</button>
        </div>
    }
}

/// The tab bar under the canvas.
pub fn tab_bar(current: Tab, on_tab: &Callback<Tab>) -> Html {
    html! {
        <nav class="tabs" role="tablist" aria-label="Panels">
            { for Tab::ALL.iter().map(|&t| {
                let onclick = on_tab.reform(move |_: MouseEvent| t);
                html! {
                    <button key={t.key()} role="tab" data-tab={t.key()} data-testid={format!("tab-{}", t.key())}
                            class={cls("tab", &[(t == current, "on")])}
                            aria-selected={(t == current).to_string()} {onclick}>{ t.label() }</button>
                }
            }) }
        </nav>
    }
}
