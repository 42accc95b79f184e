//! [`AvroCodec`] in a build without the `avro` feature: no codec can be built, so a scenario
//! whose channels declare schemas (each message records its Avro size, and `encoding: avro`
//! puts Avro bytes on the wire) validates to [`SchemaError::AvroUnavailable`] instead of
//! running without its Avro half. The full API is [`crate::schema`] with `avro` on (the
//! default).

use serde_json::Value;

use super::error::SchemaError;
use super::types::MessageSchema;

/// A codec that cannot exist in this build (the `avro` feature is off): [`AvroCodec::new`]
/// always returns [`SchemaError::AvroUnavailable`]. Same method names as the real codec, so the
/// engine compiles unchanged in both builds.
#[derive(Debug, Clone)]
pub struct AvroCodec {
    never: std::convert::Infallible,
}

impl AvroCodec {
    /// Always [`SchemaError::AvroUnavailable`] (after the schema's own check, so a broken
    /// schema still reports [`SchemaError::InvalidSchema`] first).
    pub fn new(schema: MessageSchema) -> Result<Self, SchemaError> {
        schema.check()?;
        Err(SchemaError::AvroUnavailable)
    }

    /// The message schema (unreachable: no value of this type exists).
    pub fn schema(&self) -> &MessageSchema {
        match self.never {}
    }

    /// Unreachable: no value of this type exists.
    pub fn encode(&self, _payload: &Value) -> Result<Vec<u8>, SchemaError> {
        match self.never {}
    }

    /// Unreachable: no value of this type exists.
    pub fn decode(&self, _reader: &MessageSchema, _bytes: &[u8]) -> Result<Value, SchemaError> {
        match self.never {}
    }
}
