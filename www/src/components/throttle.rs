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
