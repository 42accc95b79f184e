//! The compare view: pick a pair of variants ([`msgsim::scenarios::COMPARISONS`]), see both
//! runs side by side (two small canvases at the horizon) and the counters that differ
//! (metric, A, B, Δ). Opened with the "Compare" button or `?compare=<pair>`.

use super::cls;
use super::topology::Topology;
use crate::compare::{run, CompareResult, DiffRow, Side};
use msgsim::scenarios::{comparison, COMPARISONS};
use msgsim::RecordedCommand;
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// `?compare=<pair>` of the page URL, if it names a comparison; `Err` with a sentence if it
/// names none.
pub fn url_pair() -> Option<Result<&'static str, String>> {
    let search = web_sys::window()?.location().search().ok()?;
    let sp = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let name = sp.get("compare")?;
    Some(comparison(&name).map(|c| c.name).ok_or_else(|| {
        format!(
            "There is no comparison `{name}`; showing `{}`.",
            COMPARISONS[0].name
        )
    }))
}

/// Sets (or, with `None`, removes) `?compare=` in the address bar without a reload.
pub fn set_url_pair(pair: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    match pair {
        Some(p) => url.search_params().set("compare", p),
        None => url.search_params().delete("compare"),
    }
    if let Ok(h) = window.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}

/// Properties of [`CompareView`].
#[derive(Properties, PartialEq)]
pub struct CompareProps {
    /// The comparison shown first.
    pub pair: &'static str,
    /// The built-in scenario of the playground, if it is one.
    pub current: Option<&'static str>,
    /// The playground's seed (used when the playground runs the pair's scenario).
    pub seed: u64,
    /// The playground's commands (applied to both when it runs the pair's scenario).
    pub commands: Rc<Vec<RecordedCommand>>,
    /// A problem to show (a bad `?compare=`).
    #[prop_or_default]
    pub note: Option<String>,
    /// Another pair was picked.
    #[prop_or_default]
    pub on_pick: Callback<&'static str>,
    /// The close button.
    pub on_close: Callback<()>,
}

fn side_html(side: &Side, which: &str) -> Html {
    let noop_sel = Callback::from(|_| ());
    let noop_inst = Callback::from(|_| ());
    html! {
        <div class="compare-side" data-testid={format!("compare-side-{which}")}>
            <h3><span class="ab">{ which }</span>{ &side.label }</h3>
            <Topology snapshot={Rc::clone(&side.snapshot)} layout={Rc::clone(&side.layout)}
                      falling={Rc::new(Vec::new())} selection={None} on_select={noop_sel} on_instance={noop_inst} />
            <p class="muted small">{ format!("trace hash {:016x}{}", side.trace_hash, if side.cut_short { " · stopped early: event budget" } else { "" }) }</p>
        </div>
    }
}

fn row_html(k: usize, r: &DiffRow, focus: bool) -> Html {
    let d = r.delta();
    let changed = d != 0;
    html! {
        <tr key={k} class={cls("", &[(changed, "changed"), (focus, "focus")])} data-testid={if changed { "diff-changed" } else { "diff-same" }}
            title={if focus { "what this pattern changes" } else { "" }}>
            <td class="grp">{ if focus { "★ " } else { "" } }{ &r.group }</td>
            <td>{ r.metric.replace('_', " ") }</td>
            <td class="num">{ r.a }</td>
            <td class="num">{ r.b }</td>
            <td class={cls("num delta", &[(d > 0, "up"), (d < 0, "down")])}>{ if d > 0 { format!("+{d}") } else if d < 0 { d.to_string() } else { "=".into() } }</td>
        </tr>
    }
}

fn result_html(r: &CompareResult, focus: &[&str], all: bool, on_toggle: Callback<()>) -> Html {
    let changed = r.changed().count();
    let same = r.rows.len() - changed;
    let refused: Vec<(&str, &String)> =
        r.a.refused
            .iter()
            .map(|s| ("A", s))
            .chain(r.b.refused.iter().map(|s| ("B", s)))
            .collect();
    html! {
        <>
        if !refused.is_empty() {
            <ul class="refused" data-testid="compare-refused">
                { for refused.iter().map(|(w, s)| html! { <li><b>{ format!("{w}: ") }</b>{ *s }</li> }) }
            </ul>
        }
        <div class="compare-sides">
            { side_html(&r.a, "A") }
            { side_html(&r.b, "B") }
        </div>
        <h3>{ format!("What differs at {}: {changed} counter(s)", crate::format::format_secs(r.at)) }
            <span class="sub">{ format!(" ({same} equal in both)") }</span></h3>
        <div class="table-scroll tall">
            <table class="grid diff" data-testid="compare-diff">
                <thead><tr><th>{ "of" }</th><th>{ "metric" }</th><th>{ "A" }</th><th>{ "B" }</th><th>{ "Δ (B − A)" }</th></tr></thead>
                <tbody>{ for r.rows.iter().enumerate().filter(|(_, d)| all || d.a != d.b).map(|(k, d)| row_html(k, d, focus.contains(&d.key().as_str()))) }</tbody>
            </table>
        </div>
        <label class="check"><input type="checkbox" data-testid="compare-all" checked={all}
            onchange={move |_| on_toggle.emit(())} />{ format!(" show the {same} equal counters too") }</label>
        </>
    }
}

/// Two variants side by side with their diff.
#[function_component(CompareView)]
pub fn compare_view(p: &CompareProps) -> Html {
    let pair = use_state(|| p.pair);
    let all = use_state(|| false);
    {
        let pair = pair.clone();
        use_effect_with(p.pair, move |x| pair.set(x));
    }
    let c = comparison(&pair).unwrap_or(&COMPARISONS[0]);
    let here = p.current == Some(c.scenario);
    let seed = if here {
        p.seed
    } else {
        msgsim::Scenario::from_json(msgsim::scenarios::get(c.scenario).unwrap_or("{}"))
            .map(|s| s.seed)
            .unwrap_or(1)
    };
    let commands = if here {
        Rc::clone(&p.commands)
    } else {
        Rc::new(Vec::new())
    };
    let result = use_memo(
        (c.name, seed, Rc::clone(&commands)),
        |(name, seed, cmds)| {
            comparison(name)
                .ok_or_else(|| format!("no comparison {name}"))
                .and_then(|c| run(c, *seed, cmds))
        },
    );
    let onchange = {
        let pair = pair.clone();
        let pick = p.on_pick.clone();
        Callback::from(move |e: Event| {
            let sel: HtmlSelectElement = e.target_unchecked_into();
            if let Some(c) = comparison(&sel.value()) {
                pair.set(c.name);
                pick.emit(c.name);
            }
        })
    };
    let close = {
        let cb = p.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let toggle = {
        let all = all.clone();
        Callback::from(move |_| all.set(!*all))
    };
    let extra = if c.shared.is_empty() {
        ""
    } else {
        " (with this comparison's extra faults)"
    };
    let faults = if here && commands.is_empty() {
        format!("the scenario's fault schedule{extra}; commands you apply in the playground are added to both")
    } else if here {
        format!(
            "the scenario's fault schedule{}, and your {} command(s) from the playground, each at its virtual time",
            if c.shared.is_empty() { "" } else { " (with this comparison's extra faults)" },
            commands.len()
        )
    } else {
        format!(
            "the scenario's fault schedule{}. To add your own faults, load `{}` in the playground, apply them, then compare",
            if c.shared.is_empty() { "" } else { " (with this comparison's extra faults)" },
            c.scenario
        )
    };
    html! {
        <section class="panel compare-view" data-testid="compare-view" aria-label="Compare two variants">
            <div class="compare-head">
                <h2>{ "Compare" }<span class="sub">{ " two variants of a scenario, same seed, same faults" }</span></h2>
                <select data-testid="compare-pair" aria-label="Comparison" {onchange}>
                    { for COMPARISONS.iter().map(|x| html! { <option value={x.name} selected={x.name == c.name}>{ x.title }</option> }) }
                </select>
                <button class="btn" data-testid="compare-close" onclick={close}>{ "✕ close" }</button>
            </div>
            if let Some(n) = &p.note {
                <p class="banner error" role="alert">{ n }</p>
            }
            <p class="why" data-testid="compare-why">{ c.why }</p>
            <p class="hint">{ "★ rows: the counters where this pattern shows; then every other counter that differs." }</p>
            <p class="facts" data-testid="compare-facts">{ format!("Scenario {} · A: {} · B: {} · seed {seed} · both run to {} · faults: {faults}.",
                c.scenario, c.a.label, c.b.label, crate::format::format_secs(msgsim::SimTime::from_ms(c.horizon_ms))) }</p>
            { match &*result {
                Ok(r) => result_html(r, c.focus, *all, toggle),
                Err(e) => html! { <p class="banner error" role="alert">{ format!("The comparison could not run: {e}") }</p> },
            } }
        </section>
    }
}
