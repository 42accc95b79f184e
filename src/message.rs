//! Messages: what services exchange (Enterprise Integration Patterns vocabulary).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Identifier of a message. Every copy of a message (a retry, a redelivery, a network duplicate)
/// keeps the same id; that is what deduplication keys on.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// The intent of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Asks the receiver to do something (`CreateTicket`).
    Command,
    /// Says something happened (`OrderCreated`).
    Event,
    /// Carries data only.
    Document,
    /// Answers a command or request.
    Reply,
}

impl MessageKind {
    /// Lowercase name, as in JSON and in `data-kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Command => "command",
            MessageKind::Event => "event",
            MessageKind::Document => "document",
            MessageKind::Reply => "reply",
        }
    }
}

/// Standard headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headers {
    /// Same as [`Message::id`], as a header.
    pub message_id: MessageId,
    /// Id of the message this one answers or belongs to.
    pub correlation_id: Option<MessageId>,
    /// Channel the receiver should answer on. Shared with the workload's template (cloning a
    /// message never copies it); serialized as a plain JSON string.
    pub reply_to: Option<Arc<str>>,
    /// Partitioning/ordering key (e.g. `order-17`): shared with the template when it has no
    /// `{n}`, else built once per message; serialized as a plain JSON string.
    pub key: Option<Arc<str>>,
    /// Registry id of the writer schema (channels with schemas): how a consumer finds the schema
    /// the bytes were written with (Confluent wire format carries it in the same role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<crate::schema::SchemaId>,
}

/// A message: id, kind, type, headers and a JSON payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Unique id (copies share it).
    pub id: MessageId,
    /// Command, event, document or reply.
    pub kind: MessageKind,
    /// Type name, e.g. `OrderCreated`. Shared with the workload's template; a JSON string.
    pub type_name: Arc<str>,
    /// Channel it was sent to. Shared with the workload's template; a JSON string.
    pub channel: Arc<str>,
    /// Headers.
    pub headers: Headers,
    /// Payload (any JSON; see [`Payload`]: a workload's template is shared, not copied).
    pub payload: Payload,
    /// On a channel with schemas: the bytes on the wire and the schema they were written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<std::sync::Arc<crate::contract::Encoded>>,
}

/// A message payload: any JSON value, shared rather than copied.
///
/// A workload's message template is parsed once; every message it produces holds the same
/// `Arc<Value>` plus its sequence number `n`, and the template's `{n}` placeholders (in strings,
/// at any depth) are substituted only when the payload is read ([`Payload::value`]), shown
/// (`Display`, `{:#}` pretty-printed as `serde_json::Value`'s) or serialized. Serialization is
/// exactly the substituted `serde_json::Value`'s JSON, so the JSON shape of a [`Message`] is the
/// same as with a plain value; deserializing gives a plain (untemplated) payload.
#[derive(Clone, Default)]
pub struct Payload {
    value: Arc<serde_json::Value>,
    /// `Some(n)`: `value` is a template whose `{n}` become `n`.
    n: Option<u64>,
}

impl Payload {
    /// A payload that is exactly `value`.
    pub fn new(value: serde_json::Value) -> Payload {
        Payload {
            value: Arc::new(value),
            n: None,
        }
    }

    /// The payload of message number `n` of a workload template (`{n}` in its strings replaced
    /// by `n`). Shares `template`; nothing is copied until the payload is read.
    pub fn templated(template: &Arc<serde_json::Value>, n: u64) -> Payload {
        Payload::templated_known(template, has_placeholder(template), n)
    }

    /// [`Payload::templated`] when whether the template has a `{n}` is known already
    /// (`placeholder`; a workload finds it out once).
    pub(crate) fn templated_known(
        template: &Arc<serde_json::Value>,
        placeholder: bool,
        n: u64,
    ) -> Payload {
        Payload {
            value: Arc::clone(template),
            n: placeholder.then_some(n),
        }
    }

    /// The JSON value (borrowed when there is nothing to substitute).
    pub fn value(&self) -> Cow<'_, serde_json::Value> {
        match self.n {
            None => Cow::Borrowed(&self.value),
            Some(n) => Cow::Owned(substitute_value(&self.value, n)),
        }
    }

    /// The JSON value, owned.
    pub fn into_value(self) -> serde_json::Value {
        match self.n {
            None => Arc::try_unwrap(self.value).unwrap_or_else(|v| (*v).clone()),
            Some(n) => substitute_value(&self.value, n),
        }
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Payload {
        Payload::new(value)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        (Arc::ptr_eq(&self.value, &other.value) && self.n == other.n)
            || *self.value() == *other.value()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value(), f)
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.value(), f)
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.n {
            None => self.value.serialize(s),
            Some(n) => Substituted(&self.value, n).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Payload, D::Error> {
        serde_json::Value::deserialize(d).map(Payload::new)
    }
}

/// Serializes a template with `{n}` substituted, without building the value.
struct Substituted<'a>(&'a serde_json::Value, u64);

impl Serialize for Substituted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        let n = self.1;
        match self.0 {
            serde_json::Value::String(t) if t.contains("{n}") => s.serialize_str(&substitute(t, n)),
            serde_json::Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(&Substituted(x, n))?;
                }
                seq.end()
            }
            serde_json::Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, x) in o {
                    map.serialize_entry(k, &Substituted(x, n))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Whether a template value has a `{n}` in any string (object keys are not substituted).
pub(crate) fn has_placeholder(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains("{n}"),
        serde_json::Value::Array(a) => a.iter().any(has_placeholder),
        serde_json::Value::Object(o) => o.values().any(has_placeholder),
        _ => false,
    }
}

/// `text` with every `{n}` replaced by `n` (workload templates).
pub(crate) fn substitute(text: &str, n: u64) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(i) = rest.find("{n}") {
        out.push_str(&rest[..i]);
        let _ = write!(out, "{n}");
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// [`substitute`] straight into a shared string: one allocation (the `Arc`) for results up to
/// 128 bytes, which are built on the stack first.
pub(crate) fn substitute_arc(text: &str, n: u64) -> Arc<str> {
    use std::fmt::Write as _;
    struct Stack {
        buf: [u8; 128],
        len: usize,
    }
    impl fmt::Write for Stack {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut out = Stack {
        buf: [0; 128],
        len: 0,
    };
    let mut rest = text;
    let mut fits = true;
    while let Some(i) = rest.find("{n}") {
        fits &= out.write_str(&rest[..i]).is_ok() && write!(out, "{n}").is_ok();
        rest = &rest[i + 3..];
    }
    fits &= out.write_str(rest).is_ok();
    match std::str::from_utf8(&out.buf[..out.len]) {
        Ok(s) if fits => Arc::from(s),
        _ => Arc::from(substitute(text, n)),
    }
}

/// A template value with every `{n}` in its strings replaced by `n`.
pub(crate) fn substitute_value(v: &serde_json::Value, n: u64) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if s.contains("{n}") => {
            serde_json::Value::String(substitute(s, n))
        }
        serde_json::Value::Array(a) => a.iter().map(|x| substitute_value(x, n)).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), substitute_value(x, n)))
            .collect(),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: Payload, key: &str) -> Message {
        Message {
            id: MessageId(7),
            kind: MessageKind::Event,
            type_name: "OrderCreated".into(),
            channel: "order-events".into(),
            headers: Headers {
                message_id: MessageId(7),
                correlation_id: None,
                reply_to: Some("replies".into()),
                key: Some(key.into()),
                schema_id: None,
            },
            payload,
            encoded: None,
        }
    }

    #[test]
    fn a_templated_payload_reads_serializes_and_prints_as_the_substituted_value() {
        let template = Arc::new(serde_json::json!({
            "orderId": "order-{n}", "lines": [{"sku": "s{n}-{n}"}, 3], "total": 25, "note": "n"
        }));
        let p = Payload::templated(&template, 17);
        let want = serde_json::json!({
            "orderId": "order-17", "lines": [{"sku": "s17-17"}, 3], "total": 25, "note": "n"
        });
        assert_eq!(*p.value(), want);
        assert_eq!(p.clone().into_value(), want);
        assert_eq!(p, Payload::new(want.clone()));
        assert_eq!(format!("{p:#}"), format!("{want:#}"));
        assert_eq!(format!("{p}"), want.to_string());
        assert_eq!(serde_json::to_string(&p).unwrap(), want.to_string());
        // The whole message: the JSON shape of a plain value and plain strings.
        let json = serde_json::to_string(&message(p, "order-17")).unwrap();
        assert_eq!(
            json,
            r#"{"id":7,"kind":"event","type_name":"OrderCreated","channel":"order-events","headers":{"message_id":7,"correlation_id":null,"reply_to":"replies","key":"order-17"},"payload":{"lines":[{"sku":"s17-17"},3],"note":"n","orderId":"order-17","total":25}}"#
        );
        let back: Message = serde_json::from_str(&json).unwrap();
        assert_eq!(back, message(Payload::new(want), "order-17"));
        assert_eq!(&*substitute_arc("order-{n}/{n}", 17), "order-17/17");
        let long = "x".repeat(130) + "{n}";
        assert_eq!(&*substitute_arc(&long, 5), "x".repeat(130) + "5");
        // Without a placeholder the template itself is shared.
        let plain = Arc::new(serde_json::json!({"dish": "pad thai"}));
        let q = Payload::templated(&plain, 3);
        assert!(matches!(q.value(), Cow::Borrowed(_)));
        assert_eq!(Arc::strong_count(&plain), 2);
    }
}
