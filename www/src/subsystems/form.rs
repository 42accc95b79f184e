//! A compact settings form: pick a target, type some numbers, apply one engine command.
//!
//! [`build_command`] is pure (tested natively): it turns the form's text into the command's
//! JSON, leaving out empty fields, and lets the engine's serde and validation say what is
//! wrong. [`SettingsForm`] renders it and dispatches `Action::Apply`.

use crate::state::Action;
use msgsim::Command;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use yew::prelude::*;

/// How a field's text becomes JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A non-negative integer.
    Integer,
    /// A number (percent).
    Number,
    /// `true` / `false` (a select).
    Bool,
    /// Milliseconds, sent as a Resilience4j duration string (`"500ms"`).
    DurationMs,
    /// One of the listed strings (a select; the first, usually `""`, leaves the field out).
    Choice(&'static [&'static str]),
}

/// One input of a form.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// JSON key (Resilience4j / AMQP / Kafka name).
    pub key: &'static str,
    /// Label shown.
    pub label: &'static str,
    /// Parsing.
    pub kind: Kind,
    /// Put it inside this object (`config` for Resilience4j configs), else at the top level.
    pub nested: Option<&'static str>,
}

/// A target selector: the JSON key and the choices (`(label, JSON values of the keys)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What it selects ("link", "dependency").
    pub label: &'static str,
    /// Each choice: its label and the top-level fields it sets.
    pub choices: Vec<(String, Vec<(&'static str, Value)>)>,
}

/// The command `op` with the chosen target's fields and every non-empty field of `raw`
/// (by key). Errors name the field and the text.
pub fn build_command(
    op: &str,
    target: &[(&'static str, Value)],
    fields: &[Field],
    raw: &BTreeMap<&'static str, String>,
) -> Result<Command, String> {
    let mut top = Map::new();
    top.insert("op".into(), Value::String(op.into()));
    for (k, v) in target {
        top.insert((*k).into(), v.clone());
    }
    let mut nested: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for f in fields {
        let text = raw.get(f.key).map(|s| s.trim()).unwrap_or("");
        if text.is_empty() {
            continue;
        }
        let bad = || format!("{}: `{text}` is not a valid {}", f.key, kind_name(f.kind));
        let value = match f.kind {
            Kind::Integer => Value::from(text.parse::<u64>().map_err(|_| bad())?),
            Kind::Number => {
                let x = text.parse::<f64>().map_err(|_| bad())?;
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(bad)?
            }
            Kind::Bool => Value::Bool(text.parse::<bool>().map_err(|_| bad())?),
            Kind::DurationMs => {
                Value::String(format!("{}ms", text.parse::<u64>().map_err(|_| bad())?))
            }
            Kind::Choice(options) => {
                if !options.contains(&text) {
                    return Err(bad());
                }
                Value::String(text.to_string())
            }
        };
        match f.nested {
            Some(obj) => {
                nested.entry(obj).or_default().insert(f.key.into(), value);
            }
            None => {
                top.insert(f.key.into(), value);
            }
        }
    }
    for (obj, m) in nested {
        top.insert(obj.into(), Value::Object(m));
    }
    serde_json::from_value(Value::Object(top)).map_err(|e| e.to_string())
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Integer => "whole number",
        Kind::Number => "number",
        Kind::Bool => "true/false",
        Kind::DurationMs => "number of ms",
        Kind::Choice(_) => "choice",
    }
}

/// Properties of [`SettingsForm`].
#[derive(Properties, PartialEq)]
pub struct SettingsFormProps {
    /// Heading ("Broker delivery").
    pub title: &'static str,
    /// The command's `op`.
    pub op: &'static str,
    /// Target choices (none: the command has no target).
    #[prop_or_default]
    pub target: Option<Target>,
    /// Inputs.
    pub fields: Vec<Field>,
    /// Placeholder text per field key (the value in force, when known).
    #[prop_or_default]
    pub hints: BTreeMap<&'static str, String>,
    /// The playground's dispatch.
    pub dispatch: Callback<Action>,
}

/// One compact form; empty fields are left unchanged (or use the config's defaults).
#[function_component(SettingsForm)]
pub fn settings_form(p: &SettingsFormProps) -> Html {
    let raw = use_state(BTreeMap::<&'static str, String>::new);
    let chosen = use_state(|| 0usize);
    let error = use_state(|| None::<String>);
    let inputs: Html = p
        .fields
        .iter()
        .map(|f| {
            let key = f.key;
            let oninput = {
                let raw = raw.clone();
                Callback::from(move |e: InputEvent| {
                    let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                    let mut m = (*raw).clone();
                    m.insert(key, el.value());
                    raw.set(m);
                })
            };
            let hint = p.hints.get(key).cloned().unwrap_or_default();
            let options: Option<&[&str]> = match f.kind {
                Kind::Bool => Some(&["", "true", "false"]),
                Kind::Choice(o) => Some(o),
                _ => None,
            };
            if let Some(options) = options {
                let onchange = {
                    let raw = raw.clone();
                    Callback::from(move |e: Event| {
                        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                        let mut m = (*raw).clone();
                        m.insert(key, el.value());
                        raw.set(m);
                    })
                };
                let current = raw.get(key).cloned().unwrap_or_default();
                return html! {
                    <label class="live-field">
                        <span>{ f.label }</span>
                        <select {onchange}>
                            { for options.iter().map(|o| html! {
                                <option value={*o} selected={current == *o}>
                                    { if o.is_empty() { format!("({})", if hint.is_empty() { "unchanged" } else { hint.as_str() }) } else { (*o).to_string() } }
                                </option>
                            }) }
                        </select>
                    </label>
                };
            }
            html! {
                <label class="live-field">
                    <span>{ f.label }</span>
                    <input type="text" inputmode="decimal" size="7" placeholder={hint}
                        value={raw.get(key).cloned().unwrap_or_default()} {oninput} />
                </label>
            }
        })
        .collect();
    let select = match &p.target {
        None => Html::default(),
        Some(t) => {
            let onchange = {
                let chosen = chosen.clone();
                Callback::from(move |e: Event| {
                    let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                    chosen.set(el.value().parse().unwrap_or(0));
                })
            };
            html! {
                <label class="live-field">
                    <span>{ t.label }</span>
                    <select {onchange}>
                        { for t.choices.iter().enumerate().map(|(i, (label, _))| html! {
                            <option value={i.to_string()} selected={i == *chosen}>{ label.clone() }</option>
                        }) }
                    </select>
                </label>
            }
        }
    };
    let onclick = {
        let raw = raw.clone();
        let error = error.clone();
        let chosen = *chosen;
        let target = p
            .target
            .as_ref()
            .and_then(|t| t.choices.get(chosen).map(|c| c.1.clone()))
            .unwrap_or_default();
        let fields = p.fields.clone();
        let op = p.op;
        let dispatch = p.dispatch.clone();
        Callback::from(
            move |_: MouseEvent| match build_command(op, &target, &fields, &raw) {
                Ok(c) => {
                    error.set(None);
                    dispatch.emit(Action::Apply(c));
                }
                Err(e) => error.set(Some(e)),
            },
        )
    };
    html! {
        <fieldset class="live-form">
            <legend>{ p.title }</legend>
            { select }
            { inputs }
            <button class="live-apply" {onclick}>{ format!("Apply {}", p.op) }</button>
            if let Some(e) = &*error { <p class="live-error" role="alert">{ e.clone() }</p> }
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(key: &'static str, kind: Kind, nested: Option<&'static str>) -> Field {
        Field {
            key,
            label: key,
            kind,
            nested,
        }
    }

    #[test]
    fn fields_become_the_command_and_empty_ones_are_left_out() {
        let fields = [
            f("prefetch", Kind::Integer, None),
            f("ack_timeout_ms", Kind::Integer, None),
        ];
        let raw = BTreeMap::from([
            ("prefetch", " 5 ".to_string()),
            ("ack_timeout_ms", String::new()),
        ]);
        let c = build_command("set_broker_policies", &[], &fields, &raw).unwrap();
        assert_eq!(c.describe(), "set_broker_policies prefetch=5");
        let fields = [
            f("failureRateThreshold", Kind::Number, Some("config")),
            f("waitDurationInOpenState", Kind::DurationMs, Some("config")),
        ];
        let raw = BTreeMap::from([
            ("failureRateThreshold", "25".to_string()),
            ("waitDurationInOpenState", "1500".to_string()),
        ]);
        let target = [
            ("node", json!("checkout-b")),
            ("service", json!("payments-b")),
        ];
        let c = build_command("configure_breaker", &target, &fields, &raw).unwrap();
        assert!(
            c.describe().starts_with(
                "configure_breaker checkout-b -> payments-b failureRateThreshold=25% "
            ),
            "{}",
            c.describe()
        );
        assert!(c.describe().contains("waitDurationInOpenState=1500000us"));
    }

    #[test]
    fn bad_text_names_the_field() {
        let fields = [f("prefetch", Kind::Integer, None)];
        let raw = BTreeMap::from([("prefetch", "-1".to_string())]);
        assert_eq!(
            build_command("set_broker_policies", &[], &fields, &raw).unwrap_err(),
            "prefetch: `-1` is not a valid whole number"
        );
        let fields = [f("durable", Kind::Bool, None)];
        let raw = BTreeMap::from([("durable", "yes".to_string())]);
        assert_eq!(
            build_command("set_channel", &[("channel", json!("c"))], &fields, &raw).unwrap_err(),
            "durable: `yes` is not a valid true/false"
        );
    }
}
