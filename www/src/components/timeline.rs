//! Time travel under the canvas: a scrubber over `[0, horizon]` of virtual time with ticks for
//! checkpoints, markers for the user's commands and bookmarks; step back / step buttons;
//! bookmarks to add, jump to and remove.
//!
//! Dragging coalesces: `input` events only record the position, and at most one
//! [`Action::Seek`] per animation frame is sent (the latest position); releasing the thumb sends
//! the final one at once. A seek restores the nearest checkpoint, so each costs at most one
//! checkpoint interval of replay (see [`crate::state::SeekInfo`], shown under the bar).

use super::cls;
use crate::format::format_secs;
use crate::state::{Action, SeekInfo, TimelineMarks};
use gloo::render::{request_animation_frame, AnimationFrame};
use msgsim::SimTime;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`Scrubber`].
#[derive(Properties, PartialEq)]
pub struct ScrubberProps {
    /// The current virtual time, µs.
    pub time: SimTime,
    /// The furthest virtual time reached (the bar's end), µs.
    pub horizon: SimTime,
    /// Checkpoints, command markers, bookmarks.
    pub marks: Rc<TimelineMarks>,
    /// The cost of the last seek.
    pub last_seek: Option<SeekInfo>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// Percent of the bar for time `t`.
fn pct(t: SimTime, end: SimTime) -> String {
    let f = if end.0 == 0 {
        0.0
    } else {
        (t.0 as f64 / end.0 as f64).clamp(0.0, 1.0)
    };
    format!("left: {:.3}%", f * 100.0)
}

/// A seek's cost, in words.
pub fn seek_note(s: &SeekInfo) -> String {
    let events = match s.events {
        Some(n) => format!("{n} events replayed"),
        None => "replayed".to_string(),
    };
    format!(
        "last seek: {:.1} ms, {events} from the checkpoint at {}",
        s.real_ms,
        format_secs(s.from)
    )
}

/// The time-travel bar.
#[function_component(Scrubber)]
pub fn scrubber(p: &ScrubberProps) -> Html {
    // The position being dragged (ms) and the frame that will seek to it.
    let pending = use_mut_ref(|| None::<u64>);
    let frame = use_mut_ref(|| None::<AnimationFrame>);
    let dragging = use_state(|| None::<u64>);
    let end = p.horizon.max(p.time);
    let end_ms = end.as_us() / 1_000;

    let on_input = {
        let pending = pending.clone();
        let frame = frame.clone();
        let dragging = dragging.clone();
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Ok(ms) = input.value().parse::<u64>() else {
                return;
            };
            *pending.borrow_mut() = Some(ms);
            dragging.set(Some(ms));
            if frame.borrow().is_none() {
                let pending = pending.clone();
                let slot = frame.clone();
                let d = d.clone();
                let f = request_animation_frame(move |_| {
                    // Take the handle first: the seek may re-render and schedule another frame.
                    drop(slot.borrow_mut().take());
                    if let Some(ms) = pending.borrow_mut().take() {
                        d.emit(Action::Seek {
                            to_us: ms.saturating_mul(1_000),
                        });
                    }
                });
                *frame.borrow_mut() = Some(f);
            }
        })
    };
    let on_change = {
        let pending = pending.clone();
        let frame = frame.clone();
        let dragging = dragging.clone();
        let d = p.dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            drop(frame.borrow_mut().take());
            pending.borrow_mut().take();
            dragging.set(None);
            if let Ok(ms) = input.value().parse::<u64>() {
                d.emit(Action::Seek {
                    to_us: ms.saturating_mul(1_000),
                });
            }
        })
    };
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
    let shown_ms = (*dragging).unwrap_or(p.time.as_us() / 1_000).min(end_ms);
    let m = &p.marks;
    html! {
        <div class="scrubber" data-testid="scrubber" aria-label="Time travel">
            <div class="tl-row">
                <button class="btn small" data-testid="tl-step-back" title="Go back exactly one engine event (restores a checkpoint and replays)"
                        onclick={send(Action::StepBack)}>{ "⇤ Step back" }</button>
                <button class="btn small" data-testid="tl-step" title="Handle exactly one engine event"
                        onclick={on_step}>{ "Step ⇥" }</button>
                <div class="tl-bar">
                    <input type="range" data-testid="tl-range" min="0" max={end_ms.to_string()} step="1"
                           value={shown_ms.to_string()} aria-label="Virtual time (ms)"
                           aria-valuetext={format_secs(SimTime::from_ms(shown_ms))}
                           oninput={on_input} onchange={on_change} />
                    <div class="tl-marks" aria-hidden="true">
                        { for m.checkpoints.iter().map(|c| html! {
                            <span class="tl-cp" style={pct(*c, end)} title={format!("checkpoint {}", format_secs(*c))} />
                        }) }
                        { for m.commands.iter().map(|c| html! {
                            <span class={cls("tl-cmd", &[(c.at > p.time, "future")])} style={pct(c.at, end)}
                                  title={format!("{}: {}", format_secs(c.at), c.text)} data-testid="tl-command" />
                        }) }
                        { for m.bookmarks.iter().map(|b| html! {
                            <span class="tl-bm" style={pct(b.at, end)} title={format!("{} {}", b.name, format_secs(b.at))} />
                        }) }
                    </div>
                </div>
                <span class="tl-time" data-testid="tl-time">
                    { format!("{} / {}", format_secs(SimTime::from_ms(shown_ms)), format_secs(end)) }
                </span>
                <button class="btn small" data-testid="tl-bookmark" title="Bookmark this virtual time"
                        onclick={send(Action::AddBookmark)}>{ "★ Bookmark" }</button>
            </div>
            <div class="tl-row tl-sub">
                if !m.bookmarks.is_empty() {
                    <span class="tl-bookmarks" data-testid="tl-bookmarks">
                        { for m.bookmarks.iter().map(|b| html! {
                            <span class="chip tl-chip" key={b.name.clone()}>
                                <button class="link-btn" data-testid="tl-jump" title="Seek here"
                                        onclick={send(Action::JumpBookmark(b.name.clone()))}>
                                    { format!("★ {} · {}", b.name, format_secs(b.at)) }
                                </button>
                                <button class="link-btn x" title="Remove this bookmark" aria-label={format!("remove {}", b.name)}
                                        onclick={send(Action::RemoveBookmark(b.name.clone()))}>{ "×" }</button>
                            </span>
                        }) }
                    </span>
                }
                <span class="muted tl-note" data-testid="tl-note">
                    { format!("{} · every {} · ", crate::format::plural(m.checkpoints.len() as u64, "checkpoint"), format_secs(m.interval_hint)) }
                    { p.last_seek.as_ref().map(seek_note).unwrap_or_else(|| "drag to any earlier time: the run is replayed from the nearest checkpoint".into()) }
                </span>
            </div>
        </div>
    }
}
