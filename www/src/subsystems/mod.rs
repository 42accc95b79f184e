//! Per-subsystem web code: what "What just happened" says about synchronous calls
//! ([`sync`]), service discovery ([`discovery`]), message schemas ([`schema`]), partitioned
//! topics ([`kafka`]) and transactional messaging ([`outbox`]); the life of one message for the
//! inspector ([`message`]); the story column beside the canvas ([`story`]); the compact forms
//! for the live-settings commands (`controls.rs` per subsystem, built on [`form`]). Each explainer
//! is pure: fed with trace events in order, it returns the sentences they deserve;
//! [`crate::explain::Explainer`] dispatches to them.

pub mod broker;
pub mod discovery;
pub mod form;
pub mod kafka;
pub mod message;
pub mod outbox;
pub mod resilience;
pub mod scale;
pub mod schema;
pub mod story;
pub mod sync;

use crate::explain::Tone;
use msgsim::MessageId;

/// One sentence a subsystem explainer wants said.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    /// Colour.
    pub tone: Tone,
    /// The message it is about, if one.
    pub msg: Option<MessageId>,
    /// The sentence.
    pub text: String,
    /// A running tally: a sentence with the same key replaces the previous one (moved to the
    /// top) instead of adding a line, so 40 timeouts read as one sentence counting them.
    pub key: Option<String>,
}

impl Said {
    /// A one-off sentence.
    pub fn new(tone: Tone, msg: Option<MessageId>, text: String) -> Said {
        Said {
            tone,
            msg,
            text,
            key: None,
        }
    }

    /// A running tally under `key`.
    pub fn keyed(tone: Tone, key: String, msg: Option<MessageId>, text: String) -> Said {
        Said {
            tone,
            msg,
            text,
            key: Some(key),
        }
    }
}

/// `n thing` / `n things`, with `y` → `ies` (`1 retry`, `2 retries`).
pub fn count(n: u64, word: &str) -> String {
    crate::format::plural(n, word)
}

/// `1.2 s`, `800 ms`, `40 µs`.
pub fn dur(us: u64) -> String {
    crate::format::format_us(us)
}

/// `12.345 s`.
pub fn at(t: msgsim::SimTime) -> String {
    crate::format::format_secs(t)
}

/// `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A rate in percent as the breaker reports it: `75.0%`; `n/a` below the minimum of calls.
pub fn pct(r: f32) -> String {
    if r < 0.0 {
        "n/a".to_string()
    } else {
        format!("{r:.1}%")
    }
}
