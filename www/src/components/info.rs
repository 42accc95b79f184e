//! The scenario description and the legend of shapes, colours and badges.

use super::cls;
use crate::state::{Action, GalleryEntry};
use msgsim::scenario::Scenario;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`ScenarioInfo`].
#[derive(Properties, PartialEq)]
pub struct ScenarioInfoProps {
    /// The scenario.
    pub scenario: Rc<Scenario>,
    /// The seed.
    pub seed: u64,
    /// The built-in scenarios by section, for the gallery list.
    pub builtins: Rc<Vec<(String, Vec<GalleryEntry>)>>,
    /// The built-in scenario shown, if it is one.
    pub current: Option<&'static str>,
    /// Sends actions (a click in the gallery loads that scenario).
    pub dispatch: Callback<Action>,
}

/// Title, section and description of the scenario, and the gallery of built-in scenarios.
#[function_component(ScenarioInfo)]
pub fn scenario_info(p: &ScenarioInfoProps) -> Html {
    let s = &p.scenario;
    let title = if s.title.is_empty() {
        s.name.clone()
    } else {
        s.title.clone()
    };
    let pol = &s.policies;
    html! {
        <section class="panel about" data-testid="scenario-info" aria-label="Scenario">
            if !s.section.is_empty() {
                <p class="section-name">{ &s.section }</p>
            }
            <h2 data-testid="scenario-title">{ title }</h2>
            if s.description.is_empty() {
                <p class="hint">{ "This scenario has no description." }</p>
            } else {
                <p class="description" data-testid="scenario-description">{ &s.description }</p>
            }
            <p class="facts">
                { format!("name `{}` · seed {} · ack timeout {} ms · publish timeout {} ms · prefetch {} · max deliveries {}",
                    s.name, p.seed, pol.ack_timeout_ms, pol.publish_timeout_ms, pol.prefetch, pol.max_delivery_attempts) }
            </p>
            { crate::subsystems::broker::selection::selection_table(
                &p.dispatch,
                p.current,
                s.nodes.iter().any(|n| n.kind == msgsim::scenario::NodeKind::Broker),
            ) }
            <details class="gallery" open={true}>
                <summary>{ format!("Gallery: {} built-in scenarios", p.builtins.iter().map(|(_, v)| v.len()).sum::<usize>()) }</summary>
                <div class="gallery-sections" data-testid="gallery">
                    { for p.builtins.iter().map(|(section, entries)| html! {
                        <div key={section.clone()} class="gallery-section">
                            <h3>{ section }</h3>
                            <ul>
                                { for entries.iter().map(|e| {
                                    let (d, name) = (p.dispatch.clone(), e.name);
                                    let onclick = Callback::from(move |ev: MouseEvent| {
                                        ev.prevent_default();
                                        d.emit(Action::LoadBuiltin(name.to_string()));
                                    });
                                    let here = p.current == Some(e.name);
                                    html! {
                                        <li key={e.name}>
                                            <a href={format!("?scenario={}", e.name)} class={cls("", &[(here, "current")])}
                                               aria-current={here.then_some("true")} data-testid={format!("gallery-{}", e.name)}
                                               title={e.name} {onclick}>{ &e.title }</a>
                                        </li>
                                    }
                                }) }
                            </ul>
                        </div>
                    }) }
                </div>
            </details>
        </section>
    }
}

/// The legend's markup for messaging (broker channels, brokerless sends): static, so it costs
/// bytes of text rather than code. The shapes are the ones [`super::topology::kind_shape`]
/// draws, with the same classes (and so the same colours). The message types carry the brief's
/// terms: a command asks, an event tells, a document carries data.
const LEGEND_MESSAGING: &str = concat!(
    r#"<li><span class="message kind-event"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><circle class="shape body" r="8"/></svg></span>event: something happened</li>"#,
    r#"<li><span class="message kind-command"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><path class="shape body" d="M-7.5 -7.5 H7.5 V7.5 H-7.5 Z"/></svg></span>command: do something</li>"#,
    r#"<li><span class="message kind-document"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><path class="shape body" d="M-6.5 -8.5 H3 L7 -4.5 V8.5 H-6.5 Z"/></svg></span>document: data only</li>"#,
    r#"<li><span class="message kind-reply"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><path class="shape body" d="M-8.5 7 L0 -8.5 L8.5 7 Z"/></svg></span>reply</li>"#,
    r#"<li><span class="message kind-ack"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><path class="shape body" d="M0 -7 L7 0 L0 7 L-7 0 Z"/></svg></span>ack / confirm</li>"#,
    r#"<li><span class="message kind-nack"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><path class="shape body" d="M-6 -6 L6 6 M6 -6 L-6 6"/></svg></span>nack / reject</li>"#,
    r#"<li><span class="message kind-event"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><circle class="shape body" r="8"/><g class="attempt-badge" transform="translate(5 -5)"><circle r="6"/><text y="3">2</text></g></svg></span>attempt 2+ (redelivery, retry)</li>"#,
    r#"<li data-testid="legend-channels"><span class="chan-legend">◎</span>topic (publish-subscribe: every subscriber gets a copy) <span class="chan-legend">▭</span>queue (point-to-point: one consumer gets each) <span class="chan-legend">☰</span>partitioned topic <span class="chan-legend">→</span>brokerless</li>"#,
);

/// The legend's markup for what every scenario can show.
const LEGEND_COMMON: &str = concat!(
    r#"<li><span class="message kind-event dup"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><circle class="ghost" r="12"/><circle class="shape body" r="8"/></svg></span>network duplicate</li>"#,
    r#"<li><span class="message kind-event held"><svg class="swatch" viewBox="-13 -13 26 26" width="22" height="22" aria-hidden="true"><circle class="shape body" r="8"/></svg></span>held on the link</li>"#,
    r#"<li><span class="falling-legend">✕</span>dropped (falls off its link)</li>"#,
    r#"<li><span class="dot-legend up"></span>up <span class="dot-legend paused"></span>paused <span class="dot-legend crashed"></span>crashed</li>"#,
    r#"<li><span class="badge-legend">loss 20%</span>link fault</li>"#,
    r#"<li data-testid="legend-doubled"><span class="doubled-legend">effects 18 · 2 duplicate</span>purple counters: a naive receiver applied an effect more than once</li>"#,
    r#"<li>click a message: its close-up</li>"#,
);

/// Properties of [`Legend`].
#[derive(Properties, PartialEq)]
pub struct LegendProps {
    /// The scenario sends messages (broker channels or brokerless sends): show their shapes and
    /// the channel icons. Off for scenarios with synchronous calls only, whose own legend the
    /// canvas draws. Default true.
    #[prop_or(true)]
    pub messaging: bool,
}

/// The legend.
#[function_component(Legend)]
pub fn legend(p: &LegendProps) -> Html {
    let markup = if p.messaging {
        AttrValue::from(format!("<ul>{LEGEND_MESSAGING}{LEGEND_COMMON}</ul>"))
    } else {
        AttrValue::from(format!("<ul>{LEGEND_COMMON}</ul>"))
    };
    html! {
        <section class="legend" aria-label="Legend" data-testid="legend">
            { Html::from_html_unchecked(markup) }
        </section>
    }
}
