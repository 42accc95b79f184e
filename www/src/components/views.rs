//! The panel below the canvas for the newer parts of the engine: synchronous calls and
//! discovery, schemas, partitioned topics. Each part renders only when the snapshot has data.

use super::sync_view::SyncPanel;
use msgsim::schema_view::MessageInspection;
use msgsim::{MessageId, Snapshot};
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`Views`].
#[derive(Properties, PartialEq)]
pub struct ViewsProps {
    /// What to draw.
    pub snapshot: Rc<Snapshot>,
    /// `Simulation::inspect_message` of the running simulation.
    pub inspect: Callback<MessageId, Option<MessageInspection>>,
}

/// Every view that has data in the snapshot.
#[function_component(Views)]
pub fn views(props: &ViewsProps) -> Html {
    let _ = &props.inspect;
    html! {
        <div class="views-stack">
            <SyncPanel snapshot={Rc::clone(&props.snapshot)} />
        </div>
    }
}
