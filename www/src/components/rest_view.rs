//! Views of synchronous scenarios that do not change with the run: the REST maturity levels
//! side by side (one column per level with the request lines, statuses and bodies of the same
//! business operation) and the API documents to download.

use super::cls;
use super::schema_view::ApiDocs;
use crate::maturity::{columns, Exchange, LevelColumn};
use msgsim::scenario::Scenario;
use std::rc::Rc;
use yew::prelude::*;

/// What a Richardson maturity level adds, in a few words.
pub fn level_words(level: u8) -> &'static str {
    match level {
        0 => "one URI, one verb: the operation is in the body (POX)",
        1 => "resources: one URI per order, still POST only",
        2 => "HTTP verbs and status codes",
        _ => "hypermedia controls (HATEOAS): follow _links",
    }
}

fn exchange_html(e: Option<&Exchange>) -> Html {
    let Some(e) = e else {
        return html! { <td class="exchange none"></td> };
    };
    let status_class = match e.code {
        Some(c) if c >= 500 => "st-5xx",
        Some(c) if c >= 400 => "st-4xx",
        Some(_) => "st-2xx",
        None => "st-none",
    };
    // An error carried in a 200 body (levels 0 and 1).
    let hidden_error = e.code.is_some_and(|c| c < 300)
        && e.response_body
            .as_deref()
            .is_some_and(|b| b.contains("\"error\""));
    html! {
        <td class={cls("exchange", &[(e.skipped.is_some(), "skipped")])} data-testid="exchange">
            <div class="op">{ &e.operation }</div>
            <div class="req-line"><code>{ &e.request_line }</code></div>
            if let Some(b) = &e.request_body {
                <pre class="body req">{ b }</pre>
            }
            if let Some(why) = &e.skipped {
                <p class="skip-why">{ why }</p>
            } else {
                <div class={cls("status", &[(true, status_class), (hidden_error, "hidden-error")])}>
                    { "← " }{ e.status.clone().unwrap_or_else(|| "no answer yet".into()) }
                    if hidden_error { <span class="note">{ " an error, in a 200 body" }</span> }
                </div>
                if let Some(b) = &e.response_body {
                    <pre class="body resp">{ b }</pre>
                }
            }
        </td>
    }
}

/// The columns as a table: one column per level, one row per step of the operation, so the
/// same step lines up across levels.
fn table_html(cols: &[LevelColumn]) -> Html {
    let rows = cols.iter().map(|c| c.exchanges.len()).max().unwrap_or(0);
    html! {
        <div class="level-scroll">
            <table class="level-table">
                <thead><tr>{ for cols.iter().map(|c| html! {
                    <th data-testid={format!("level-{}", c.level)}>
                        <span class="lvl">{ format!("Level {}", c.level) }</span>
                        <span class="sub">{ format!(" {} → {}", c.client, c.service) }</span>
                        <span class="level-words">{ level_words(c.level) }</span>
                    </th>
                }) }</tr></thead>
                <tbody>{ for (0..rows).map(|k| html! {
                    <tr key={k}>{ for cols.iter().map(|c| exchange_html(c.exchanges.get(k))) }</tr>
                }) }</tbody>
            </table>
        </div>
    }
}

/// Properties of [`MaturityPanel`].
#[derive(Properties, PartialEq)]
pub struct MaturityProps {
    /// The scenario (shown only when it has APIs at two or more levels).
    pub scenario: Rc<Scenario>,
    /// The seed of the side-by-side run.
    pub seed: u64,
}

/// The REST maturity levels side by side.
#[function_component(MaturityPanel)]
pub fn maturity_panel(p: &MaturityProps) -> Html {
    let cols = use_memo((Rc::clone(&p.scenario), p.seed), |(s, seed)| {
        crate::maturity::applies(s).then(|| columns(s, *seed))
    });
    let Some(cols) = &*cols else {
        return html! {};
    };
    html! {
        <section class="panel maturity" data-testid="maturity-view" aria-label="REST maturity levels side by side">
            <h2>{ "REST maturity, side by side" }
                <span class="sub">{ format!("the first business operation of each client, from a run of seed {} without your commands", p.seed) }</span></h2>
            { match cols {
                Ok(cols) => table_html(cols),
                Err(e) => html! { <p class="no">{ format!("The side-by-side run failed: {e}") }</p> },
            } }
        </section>
    }
}

/// The REST maturity levels at a glance, for the story column's first screen: one row per
/// level, one cell per step of the same business operation with the status it got (an error
/// carried in a 200 body is marked ⚠; a step a level-3 client did not send because the link was
/// absent reads "no link"). The full table with bodies is under "Inside the system".
#[function_component(MaturitySummary)]
pub fn maturity_summary(p: &MaturityProps) -> Html {
    let cols = use_memo((Rc::clone(&p.scenario), p.seed), |(s, seed)| {
        crate::maturity::applies(s).then(|| columns(s, *seed))
    });
    let Some(Ok(cols)) = &*cols else {
        return html! {};
    };
    let steps = cols.iter().map(|c| c.exchanges.len()).max().unwrap_or(0);
    let heads: Vec<String> = (0..steps)
        .map(|k| {
            cols.iter()
                .find_map(|c| c.exchanges.get(k).map(|e| e.operation.clone()))
                .unwrap_or_default()
        })
        .collect();
    html! {
        <section class="panel maturity-glance" data-testid="maturity-glance" aria-label="REST maturity at a glance">
            <h2>{ "The same operation at each level" }</h2>
            <table class="glance-table">
                <thead><tr><th></th>{ for heads.iter().map(|h| html! { <th>{ h.clone() }</th> }) }</tr></thead>
                <tbody>{ for cols.iter().map(|c| html! {
                    <tr key={c.level}>
                        <th title={level_words(c.level)}>{ format!("L{}", c.level) }</th>
                        { for (0..steps).map(|k| {
                            let Some(e) = c.exchanges.get(k) else { return html! { <td></td> } };
                            if e.skipped.is_some() {
                                return html! { <td class="st-none" title={e.skipped.clone().unwrap_or_default()}>{ "no link" }</td> };
                            }
                            let hidden = e.code.is_some_and(|x| x < 300)
                                && e.response_body.as_deref().is_some_and(|b| b.contains("\"error\""));
                            let class = match e.code {
                                Some(x) if x >= 400 => "st-4xx",
                                Some(_) if hidden => "st-4xx",
                                Some(_) => "st-2xx",
                                None => "st-none",
                            };
                            let text = match e.code {
                                Some(x) if hidden => format!("{x} ⚠"),
                                Some(x) => x.to_string(),
                                None => "…".into(),
                            };
                            let tip = format!("{} → {}{}", e.request_line, e.status.clone().unwrap_or_default(),
                                if hidden { " (an error, in a 200 body)" } else { "" });
                            html! { <td class={class} title={tip}><code>{ text }</code></td> }
                        }) }
                    </tr>
                }) }</tbody>
            </table>
            <p class="hint">{ "⚠ an error in a 200 body (levels 0–1). Hover a cell for the request; the full exchanges are under Inside the system." }</p>
        </section>
    }
}

/// Properties of [`ScenarioViews`].
#[derive(Properties, PartialEq)]
pub struct ScenarioViewsProps {
    /// The scenario.
    pub scenario: Rc<Scenario>,
    /// The run's seed.
    pub seed: u64,
}

/// The REST maturity view and the API documents (each only when the scenario has one).
#[function_component(ScenarioViews)]
pub fn scenario_views(p: &ScenarioViewsProps) -> Html {
    html! {
        <>
            <MaturityPanel scenario={Rc::clone(&p.scenario)} seed={p.seed} />
            <ApiDocs scenario={Rc::clone(&p.scenario)} />
        </>
    }
}
