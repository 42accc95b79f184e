//! Re-rendering the inspection panels (tables of up to 64 rows, chips of append logs) on every
//! animation frame costs more than it shows: [`Throttled`] renders its view only when its `tick`
//! changes, which the app advances every few frames while playing and on every action otherwise.

use crate::geometry::Layout;
use msgsim::Snapshot;
use std::rc::Rc;
use yew::prelude::*;

/// Frames per re-render of throttled views while the clock runs (20 per second at 60 fps).
pub const FRAMES_PER_TICK: u64 = 3;

/// The tick of throttled views: the action counter, divided by [`FRAMES_PER_TICK`] while
/// playing (a step, a click or a command while paused re-renders at once).
pub fn tick(version: u64, playing: bool) -> u64 {
    if playing {
        version / FRAMES_PER_TICK
    } else {
        version
    }
}

/// Properties of [`Throttled`]: equal when the tick and the view are (the snapshot is not
/// compared: that is the point).
#[derive(Properties)]
pub struct ThrottledProps {
    /// Re-render when this changes.
    pub tick: u64,
    /// The state to draw.
    pub snapshot: Rc<Snapshot>,
    /// The canvas layout (which nodes are receivers).
    pub layout: Rc<Layout>,
    /// What to draw.
    pub view: fn(&Snapshot, &Layout) -> Html,
}

impl PartialEq for ThrottledProps {
    fn eq(&self, other: &Self) -> bool {
        self.tick == other.tick && std::ptr::fn_addr_eq(self.view, other.view)
    }
}

/// Renders `view` at most once per tick.
#[function_component(Throttled)]
pub fn throttled(p: &ThrottledProps) -> Html {
    (p.view)(&p.snapshot, &p.layout)
}

/// Frames per re-render of the "inside" tab pane while it is not shown and the clock runs (once
/// a second at 60 fps: its counters stay readable from outside the tab).
pub const HIDDEN_FRAMES_PER_TICK: u64 = 60;

/// The tick of a tab pane: every action while shown or paused; while hidden and playing, every
/// `every` frames, or never when `every` is 0 (the sequence diagram and the event log: at 1,000
/// messages in flight they were most of the page's DOM work, issue 13, and nobody sees them).
pub fn pane_tick(version: u64, playing: bool, shown: bool, every: u64) -> u64 {
    match (playing && !shown, every) {
        (false, _) => version,
        (true, 0) => u64::MAX,
        (true, n) => version / n,
    }
}

/// Properties of [`PaneGate`]: equal (no re-render) while the pane is hidden and its tick has
/// not moved; a shown pane re-renders with its parent.
#[derive(Properties)]
pub struct PaneGateProps {
    /// The pane is on screen.
    pub shown: bool,
    /// [`pane_tick`].
    pub tick: u64,
    /// The pane's content.
    pub children: Html,
}

impl PartialEq for PaneGateProps {
    fn eq(&self, other: &Self) -> bool {
        !self.shown && !other.shown && self.tick == other.tick
    }
}

/// Renders its children when shown, else at most once per [`pane_tick`].
#[function_component(PaneGate)]
pub fn pane_gate(p: &PaneGateProps) -> Html {
    p.children.clone()
}
