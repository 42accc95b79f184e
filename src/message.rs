//! Messages: what services exchange (Enterprise Integration Patterns vocabulary).

use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// Channel the receiver should answer on.
    pub reply_to: Option<String>,
    /// Partitioning/ordering key (e.g. `order-17`).
    pub key: Option<String>,
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
    /// Type name, e.g. `OrderCreated`.
    pub type_name: String,
    /// Channel it was sent to.
    pub channel: String,
    /// Headers.
    pub headers: Headers,
    /// Payload.
    pub payload: serde_json::Value,
    /// On a channel with schemas: the bytes on the wire and the schema they were written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<std::sync::Arc<crate::contract::Encoded>>,
}
