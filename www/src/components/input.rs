//! An input that the user can type into while the page re-renders at 60 fps.
//!
//! Yew re-applies a `value` attribute on every render whenever the DOM differs, which would wipe
//! what is being typed between two animation frames. [`SyncedInput`] sets the DOM value only when
//! the model's value changes (and on mount), and reports edits through `onchange`.

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`SyncedInput`].
#[derive(Properties, PartialEq)]
pub struct SyncedInputProps {
    /// The model's value; written into the input when it changes.
    pub value: AttrValue,
    /// `data-testid`.
    pub testid: AttrValue,
    /// `type` (`text`, `number`).
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    /// `inputmode`.
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    /// `min`.
    #[prop_or_default]
    pub min: Option<AttrValue>,
    /// `max`.
    #[prop_or_default]
    pub max: Option<AttrValue>,
    /// `step`.
    #[prop_or_default]
    pub step: Option<AttrValue>,
    /// `title`.
    #[prop_or_default]
    pub title: Option<AttrValue>,
    /// Disabled.
    #[prop_or(false)]
    pub disabled: bool,
    /// Marked invalid.
    #[prop_or(false)]
    pub invalid: bool,
    /// The committed text and the element (to show a corrected value).
    pub onchange: Callback<(String, HtmlInputElement)>,
}

/// See the module documentation.
#[function_component(SyncedInput)]
pub fn synced_input(p: &SyncedInputProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(p.value.clone(), move |v| {
            if let Some(input) = node.cast::<HtmlInputElement>() {
                input.set_value(v);
            }
        });
    }
    let onchange = {
        let cb = p.onchange.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            cb.emit((input.value(), input));
        })
    };
    html! {
        <input ref={node} data-testid={p.testid.clone()} type={p.input_type.clone()}
               inputmode={p.inputmode.clone()} min={p.min.clone()} max={p.max.clone()}
               step={p.step.clone()} title={p.title.clone()} disabled={p.disabled}
               aria-invalid={p.invalid.to_string()} spellcheck="false" autocomplete="off"
               {onchange} />
    }
}
