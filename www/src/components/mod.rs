//! Yew components. They render snapshots and turn clicks into [`crate::state::Action`]s.

use yew::prelude::*;

pub mod app;
pub mod broker;
pub mod controls;
pub mod fault_panel;
pub mod info;
pub mod input;
pub mod log;
pub mod metrics;
pub mod receivers;
pub mod topology;
pub mod txn;

/// A `class` value: `base` plus every flagged class. One out-of-line helper instead of many
/// inlined `classes!` expansions keeps the wasm smaller.
#[inline(never)]
pub fn cls(base: &str, flags: &[(bool, &str)]) -> String {
    let mut s = String::from(base);
    for (on, c) in flags {
        if *on && !c.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(c);
        }
    }
    s
}

/// A table head: one `<th>` per column.
#[inline(never)]
pub fn thead(cols: &[&'static str]) -> Html {
    html! { <thead><tr>{ for cols.iter().map(|c| html! { <th>{ *c }</th> }) }</tr></thead> }
}

/// Plain `<td>` cells.
#[inline(never)]
pub fn tds(cells: Vec<String>) -> Html {
    html! { for cells.into_iter().map(|c| html! { <td>{ c }</td> }) }
}

/// A small labelled pill (`durable`, `dedup 1000 ms`...); `tone` is an extra class.
#[inline(never)]
pub fn pill(tone: &str, text: String, title: &str) -> Html {
    html! { <span class={cls("pill", &[(true, tone)])} title={title.to_string()}>{ text }</span> }
}
