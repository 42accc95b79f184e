//! The event log (the tail of the trace, newest at the bottom, coloured by kind) and the explain
//! box (notable events as sentences, newest first).

use super::cls;
use crate::explain::Sentence;
use crate::format::format_secs;
use crate::state::{LogLine, LOG_LINES};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use web_sys::Element;
use yew::prelude::*;

/// Properties of [`EventLog`].
#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    /// Lines.
    pub lines: Rc<VecDeque<LogLine>>,
    /// Total trace events so far.
    pub total: u64,
}

/// The event log. It follows new lines while scrolled to the bottom; scrolling up stops that.
#[function_component(EventLog)]
pub fn event_log(p: &EventLogProps) -> Html {
    let node = use_node_ref();
    let follow = use_mut_ref(|| Cell::new(true));
    {
        let node = node.clone();
        let follow = follow.clone();
        let last = p.lines.back().map(|l| l.seq);
        use_effect_with(last, move |_| {
            if follow.borrow().get() {
                if let Some(el) = node.cast::<Element>() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    }
    let onscroll = {
        let node = node.clone();
        let follow = follow.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = node.cast::<Element>() {
                let near_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 24;
                follow.borrow().set(near_bottom);
            }
        })
    };
    html! {
        <section class="panel log" aria-label="Event log">
            <h2>{ "Event log" }<span class="sub">{ format!("last {} of {} events", p.lines.len().min(LOG_LINES), p.total) }</span></h2>
            <div class="log-lines" data-testid="event-log" ref={node} {onscroll} tabindex="0">
                if p.lines.is_empty() {
                    <p class="hint">{ "Press Play or Step: every engine event appears here." }</p>
                }
                { for p.lines.iter().map(|l| html! {
                    <div key={l.seq.to_string()} class={cls("line", &[(true, l.tone.class())])}>{ &l.text }</div>
                }) }
            </div>
        </section>
    }
}

/// Properties of [`Explain`].
#[derive(Properties, PartialEq)]
pub struct ExplainProps {
    /// The run's story, newest first (at most [`crate::explain::MAX_SENTENCES`] lines).
    pub sentences: Rc<Vec<Sentence>>,
    /// Lines dropped past the bound since the run started.
    #[prop_or_default]
    pub older: u64,
    /// Seeks the run to a virtual time (µs): a line's time is a button that goes there.
    #[prop_or_default]
    pub on_seek: Option<Callback<u64>>,
}

/// The explain box: the run's story, newest first by virtual time, scrollable; per-message
/// sentences of one kind fold into one running tally line.
#[function_component(Explain)]
pub fn explain(p: &ExplainProps) -> Html {
    let count = p.sentences.len();
    html! {
        <section class="panel explain" aria-label="What just happened" aria-live="polite">
            <h2>{ "What just happened" }
                if count > 0 {
                    <span class="sub" data-testid="explain-count">{ format!("{} · newest first", crate::format::plural(count as u64, "line")) }</span>
                }
            </h2>
            if p.sentences.is_empty() {
                <p class="hint" data-testid="explain-empty">
                    { "Nothing notable yet. Losses, retries, timeouts, breaker changes, rebalances and rejected messages are explained here as they happen, with their numbers; add a fault to see its consequences." }
                </p>
            } else {
                <ul data-testid="explain" tabindex="0">
                    { for p.sentences.iter().map(|s| {
                        let time = format_secs(s.time);
                        let at = s.time.as_us();
                        html! {
                        <li key={s.seq.to_string()} class={cls("sentence", &[(true, s.tone.class()), (s.folded > 1, "tally")])}
                            data-folded={s.folded.to_string()}>
                            if let Some(seek) = &p.on_seek {
                                <button class="time link-btn" data-testid="explain-seek"
                                        title={format!("Go back to {time} (the run is replayed to there)")}
                                        onclick={seek.reform(move |_: MouseEvent| at)}>{ time.clone() }</button>
                            } else {
                                <span class="time">{ time.clone() }</span>
                            }
                            <span class="text">{ &s.text }</span>
                            if s.repeats > 1 {
                                <span class="repeats" title="the same sentence, several times in a row">{ format!(" ({} times)", s.repeats) }</span>
                            }
                        </li>
                    }}) }
                    if p.older > 0 {
                        <li class="older hint" data-testid="explain-older">{ format!("{} folded (dropped from this list)", crate::format::plural(p.older, "older line")) }</li>
                    }
                </ul>
            }
        </section>
    }
}
