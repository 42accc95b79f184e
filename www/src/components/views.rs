//! The panel below the canvas for the newer parts of the engine: synchronous calls and
//! discovery, schemas (with a message inspector), partitioned topics. Each part renders only
//! when the snapshot has data for it.

use super::kafka_view::topic_html;
use super::schema_view::{inspection_html, parse_msg_id, schema_html};
use super::sync_view::SyncPanel;
use msgsim::schema_view::MessageInspection;
use msgsim::{MessageId, Snapshot};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
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
    let picked = use_state(|| None::<MessageId>);
    let has_schemas = props.snapshot.schemas.is_some();
    {
        // A delegated listener in the capture phase (the canvas's own handlers stop propagation): a click on anything with `data-msg-id` (a message on the canvas,
        // a record of a partition) picks that message for the inspector.
        let picked = picked.clone();
        use_effect_with(has_schemas, move |on| {
            let doc = if *on {
                web_sys::window().and_then(|w| w.document())
            } else {
                None
            };
            let cb = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
                let id = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|el| el.closest("[data-msg-id]").ok().flatten())
                    .and_then(|el| el.get_attribute("data-msg-id"))
                    .and_then(|s| parse_msg_id(&s));
                if id.is_some() {
                    picked.set(id);
                }
            });
            if let Some(d) = &doc {
                let _ = d.add_event_listener_with_callback_and_bool(
                    "click",
                    cb.as_ref().unchecked_ref(),
                    true,
                );
            }
            move || {
                if let Some(d) = &doc {
                    let _ = d.remove_event_listener_with_callback_and_bool(
                        "click",
                        cb.as_ref().unchecked_ref(),
                        true,
                    );
                }
                drop(cb);
            }
        });
    }
    let s = &props.snapshot;
    let schemas = s.schemas.as_ref().map(|sc| {
        let onchange = {
            let picked = picked.clone();
            Callback::from(move |e: Event| {
                let input: HtmlInputElement = e.target_unchecked_into();
                picked.set(parse_msg_id(&input.value()));
            })
        };
        let inspection = picked.map(|id| match props.inspect.emit(id) {
            Some(m) => inspection_html(&m),
            None => html! { <p class="muted" data-testid="inspection">{ format!("{id}: no schema data kept for this message") }</p> },
        });
        html! {
            <section class="panel views schema-view" aria-label="Schemas" data-testid="schema-view">
                <h2>{ "Schemas" }<span class="sub">{ format!("{} encoded · {} accepted · {} rejected · {} registry lookups", sc.metrics.encoded, sc.metrics.accepted, sc.metrics.rejected, sc.metrics.lookups) }</span></h2>
                { schema_html(sc) }
                <h3>{ "Message inspector " }<span class="sub">{ "click a message on the canvas, or type its id" }</span></h3>
                <input class="msg-id" data-testid="inspect-id" placeholder="m12" size="8"
                       value={picked.map(|m| m.to_string()).unwrap_or_default()} onchange={onchange} />
                { inspection.unwrap_or_default() }
            </section>
        }
    });
    let topics = (!s.partitioned_topics.is_empty()).then(|| {
        html! {
            <section class="panel views kafka-view" aria-label="Partitioned topics" data-testid="kafka-view">
                <h2>{ "Partitioned topics" }<span class="sub">{ "each lane: the last records of a partition; outlined: a group's committed offset (next to read)" }</span></h2>
                { for s.partitioned_topics.iter().map(topic_html) }
            </section>
        }
    });
    html! {
        <div class="views-stack">
            <SyncPanel snapshot={Rc::clone(s)} />
            { schemas.unwrap_or_default() }
            { topics.unwrap_or_default() }
        </div>
    }
}
