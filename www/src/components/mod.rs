//! Yew components. They render snapshots and turn clicks into [`crate::state::Action`]s.

use yew::prelude::*;

pub mod app;
pub mod broker;
pub mod compare_view;
pub mod controls;
pub mod embed_view;
pub mod experiments;
pub mod fault_panel;
pub mod info;
pub mod input;
pub mod invariants;
pub mod kafka_view;
pub mod log;
pub mod metrics;
pub mod receivers;
pub mod rest_view;
pub mod schema_view;
pub mod sequence;
pub mod share_bar;
pub mod sync_view;
pub mod throttle;
pub mod timeline;
pub mod topology;
pub mod txn;
pub mod views;

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

/// A panel: `<section class="panel …">` with its heading and a muted subtitle.
#[inline(never)]
pub fn panel(
    class: &str,
    testid: &'static str,
    title: &'static str,
    sub: &'static str,
    body: Html,
) -> Html {
    html! {
        <section class={cls("panel", &[(true, class)])} data-testid={testid} aria-label={title}>
            <h2>{ title }<span class="sub">{ sub }</span></h2>
            { body }
        </section>
    }
}

/// A scrollable grid table with its head.
#[inline(never)]
pub fn grid(class: &str, testid: Option<String>, head: &[&'static str], rows: Html) -> Html {
    html! {
        <div class="table-scroll" data-testid={testid}>
            <table class={cls("grid", &[(true, class)])}>{ thead(head) }<tbody>{ rows }</tbody></table>
        </div>
    }
}

/// A heading line: a bold name followed by pills.
#[inline(never)]
pub fn head(name: String, pills: Html) -> Html {
    html! { <p class="channel-head"><strong>{ name }</strong>{ pills }</p> }
}

/// A table row of text cells, with its key, `data-testid`, class and hover title.
#[inline(never)]
pub fn row(
    key: String,
    testid: Option<&'static str>,
    class: String,
    title: String,
    cells: Vec<String>,
) -> Html {
    html! { <tr key={key} data-testid={testid} class={class} title={title}>{ tds(cells) }</tr> }
}
