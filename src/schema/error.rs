//! The error type shared by every fallible function of the schema module.

use super::evolution::ChangeClass;
use super::registry::SchemaId;

/// Everything that can go wrong in the schema module.
///
/// Paths (`path` fields) name a payload location: a top-level field is `name`, an array
/// element is `tags[2]`, nested arrays give `matrix[1][0]`; the empty string means the
/// payload as a whole. Offsets are byte offsets (0-based) into the input byte slice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The schema definition itself is unusable (bad name, duplicate field, default that does
    /// not match its type, nested optional, too deep, ...). `schema` is the schema's name.
    #[error("invalid schema {schema}: {reason}")]
    InvalidSchema {
        /// Name of the offending schema as written by its author.
        schema: String,
        /// Human-readable explanation.
        reason: String,
    },

    /// A JSON payload does not conform to its schema (see [`super::MessageSchema::validate`]).
    #[error("invalid payload for {schema} at `{path}`: {reason}")]
    InvalidPayload {
        /// Name of the schema the payload was checked against.
        schema: String,
        /// Field path of the problem (empty = whole payload).
        path: String,
        /// Same text as [`super::Rejection::reason`], e.g. `unknown field age`.
        reason: String,
    },

    /// Avro bytes are not a well-formed datum of the writer schema: truncated input, trailing
    /// bytes, negative length, out-of-range union/enum index, invalid UTF-8, ...
    #[error("malformed Avro datum for {schema} at byte {offset} (`{path}`): {reason}")]
    MalformedAvro {
        /// Name of the writer schema used to read the bytes.
        schema: String,
        /// Byte offset at which the problem was detected.
        offset: usize,
        /// Field path being read when the problem was detected.
        path: String,
        /// Human-readable explanation.
        reason: String,
    },

    /// The writer schema cannot be resolved against the reader schema for this datum, as the
    /// Avro 1.11 specification, section "Schema Resolution", defines.
    #[error("cannot resolve writer {writer} against reader {reader} at `{path}`: {reason}")]
    Resolution {
        /// The writer schema as `name version`.
        writer: String,
        /// Reader schema as `name version`.
        reader: String,
        /// Field path of the first problem (empty = record level).
        path: String,
        /// Human-readable explanation.
        reason: String,
    },

    /// The underlying `apache-avro` library reported an error (message text preserved).
    #[error("Avro library error: {0}")]
    Avro(String),

    /// This build of msgsim has no Avro support (built without the `avro` feature, e.g. the
    /// lean embed widget): a channel that declares schemas needs it, because every message
    /// records its Avro size (and `encoding: avro` puts Avro bytes on the wire).
    #[error("this build has no Avro support (feature `avro`); open the scenario in the full playground, or build msgsim with the `avro` feature")]
    AvroUnavailable,

    /// A decoded Avro double is NaN or infinite and cannot be represented in JSON.
    #[error("field `{path}`: non-finite double cannot be represented in JSON")]
    NonFiniteDouble {
        /// Field path of the value.
        path: String,
    },

    /// The registry has no schema with this id.
    #[error("unknown schema id {0}")]
    UnknownSchemaId(SchemaId),

    /// `(subject, version)` is already registered with a different schema.
    #[error("subject {subject} already has version {version} with a different schema")]
    VersionConflict {
        /// Registry subject.
        subject: String,
        /// Conflicting version.
        version: String,
    },

    /// A new version must have greater semver precedence than the subject's latest version.
    #[error("subject {subject}: version {version} is not greater than latest {latest}")]
    VersionNotIncreasing {
        /// Registry subject.
        subject: String,
        /// Version being registered.
        version: String,
        /// Latest registered version of the subject.
        latest: String,
    },

    /// The change from the latest version needs a larger semver bump than the one made.
    #[error(
        "subject {subject}: {latest} -> {version} is a {actual:?} bump but the change is {required:?}: {reasons:?}"
    )]
    VersionBumpTooSmall {
        /// Registry subject.
        subject: String,
        /// Latest registered version.
        latest: String,
        /// Version being registered.
        version: String,
        /// Class of change found by [`super::classify_change`].
        required: ChangeClass,
        /// Class of the version bump actually made.
        actual: ChangeClass,
        /// Descriptions of the changes that require the bump.
        reasons: Vec<String>,
    },

    /// The subject's compatibility level rejects the new schema.
    #[error("subject {subject}: {level} compatibility violated: {reasons:?}")]
    Incompatible {
        /// Registry subject.
        subject: String,
        /// The level that was checked, e.g. `BACKWARD`.
        level: String,
        /// Why (see [`super::Compatibility`]).
        reasons: Vec<String>,
    },

    /// An export input is inconsistent (unknown message or channel name, duplicate id, bad
    /// path, bad status code, ...).
    #[error("invalid API description: {0}")]
    InvalidApi(String),
}
