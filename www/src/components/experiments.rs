//! "What to try": the scenario's experiments as buttons in the story column.
//!
//! Placeholder mounted by the story column; the experiments themselves (data, buttons, expected
//! vs actual) are built in the `experiments` branch.

use crate::state::Action;
use msgsim::{Scenario, Snapshot};
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`Experiments`].
#[derive(Properties, PartialEq)]
pub struct ExperimentsProps {
    /// The scenario whose experiments are listed.
    pub scenario: Rc<Scenario>,
    /// State at the current virtual time (experiments apply their commands at `snapshot.time`).
    pub snapshot: Rc<Snapshot>,
    /// Where the buttons send their actions (`Action::Apply` per command).
    pub dispatch: Callback<Action>,
}

/// The "What to try" list of the story column.
#[function_component(Experiments)]
pub fn experiments(_props: &ExperimentsProps) -> Html {
    html! {}
}
