//! Message schemas for msgsim: API-first contracts for channels and endpoints.
//!
//! Every channel or REST endpoint declares the [`MessageSchema`]s it carries before any
//! message flows. This module provides, for those schemas:
//!
//! * a documented JSON (serde) form ([`MessageSchema`], [`Field`], [`FieldType`]) with
//!   `deny_unknown_fields`, and a definition check ([`MessageSchema::check`]);
//! * payload validation ([`MessageSchema::validate`]) and consumer-side reading with the
//!   robustness principle ([`read_json`] with [`ReaderMode::Tolerant`] or
//!   [`ReaderMode::Strict`]);
//! * two real encodings: JSON through `serde_json` ([`encode_json`]) and binary Avro through
//!   `apache-avro` (feature `avro`, on by default: `encode_avro`, `decode_avro`,
//!   `avro_schema_json`; without it [`AvroCodec::new`] returns
//!   [`SchemaError::AvroUnavailable`]), with writer/reader
//!   schema resolution that follows the Avro 1.11 specification, section "Schema Resolution";
//!   sizes in bytes of both encodings (`encoded_sizes`) and hex helpers ([`hex`],
//!   [`hex_dump`]) for a UI inspector;
//! * a schema registry ([`SchemaRegistry`]) that assigns [`SchemaId`]s to
//!   `(subject, version)` pairs; the id is what travels in message headers;
//! * schema evolution: semantic-versioning classification of a change ([`classify_change`],
//!   [`schema_changes`]) and Confluent-style BACKWARD / FORWARD / FULL compatibility
//!   ([`compatibility`]);
//! * export to AsyncAPI 3.0 (`asyncapi_document`) and OpenAPI 3.1 (`openapi_document`), with
//!   the feature `export` (on by default).
//!
//! Determinism: nothing in this module reads a clock, draws entropy or touches the file
//! system or network; every function is a pure function of its arguments (plus the state of
//! a [`SchemaRegistry`] value). No input schema or payload can make it panic: problems are
//! returned as [`SchemaError`] or [`Rejection`] values.

#[cfg(feature = "avro")]
mod avro;
mod error;
mod evolution;
#[cfg(feature = "export")]
mod export;
mod hex;
#[cfg(not(feature = "avro"))]
mod no_avro;
mod payload;
mod registry;
mod types;

#[cfg(feature = "avro")]
pub use avro::{
    avro_schema_json, decode_avro, encode_avro, encoded_sizes, to_avro_schema, AvroCodec,
    EncodedSizes,
};
pub use error::SchemaError;
pub use evolution::{
    bump_class, can_read, classify_change, compatibility, next_version, schema_changes,
    ChangeClass, Compatibility, SchemaChange,
};
#[cfg(feature = "export")]
pub use export::{
    asyncapi_document, json_schema, openapi_document, Action, ApiInfo, ChannelSpec, HttpMethod,
    OperationSpec, RestEndpoint,
};
pub use hex::{hex, hex_dump};
#[cfg(not(feature = "avro"))]
pub use no_avro::AvroCodec;
pub use payload::{encode_json, read_json, ReaderMode, Rejection};
pub use registry::{CompatibilityLevel, RegisteredSchema, SchemaId, SchemaRegistry};
pub use types::{Field, FieldType, MessageSchema, MAX_TYPE_DEPTH};

#[cfg(all(test, feature = "avro", feature = "export"))]
mod tests;
