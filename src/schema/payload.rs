//! JSON payloads: validation, consumer-side reading (robustness principle), JSON encoding.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::SchemaError;
use super::types::{check_value, json_kind, MessageSchema};

/// How a consumer treats a JSON payload that does not exactly match its schema.
///
/// Both modes fill a missing field that has a default (or is optional: default `null`),
/// reject a missing required field (`missing field <name>`) and reject a value of the wrong
/// type (`invalid field <path>: ...`). They differ only for fields the schema does not
/// declare:
///
/// * [`ReaderMode::Tolerant`] ignores (drops) them: the robustness principle ("be liberal in
///   what you accept"), the Tolerant Reader pattern;
/// * [`ReaderMode::Strict`] rejects the payload with the reason `unknown field <name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReaderMode {
    /// Drop unknown fields, fill missing optional fields with defaults.
    Tolerant,
    /// Reject unknown fields, fill missing optional fields with defaults.
    Strict,
}

/// Why a consumer refused a payload (see [`read_json`]).
///
/// `reason` has one of these exact forms (`<path>` as in [`SchemaError`]):
/// `unknown field <name>`, `missing field <name>`, `invalid field <path>: <details>`,
/// `payload is not a JSON object (got <json type>)`, `invalid schema: <details>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    /// Field path of the problem (empty = whole payload).
    pub path: String,
    /// Human-readable reason, e.g. `unknown field age`.
    pub reason: String,
}

impl Rejection {
    fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejection {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Reads a JSON payload as a consumer holding `schema` would.
///
/// Returns the normalized payload: a JSON object holding exactly the declared fields, with
/// missing optional/defaulted fields filled in (explicit default, else `null`). Declared
/// fields are checked in schema order before unknown fields are looked at; unknown fields are
/// dropped ([`ReaderMode::Tolerant`]) or rejected ([`ReaderMode::Strict`], the first unknown
/// key in the object's iteration order is reported).
///
/// Errors: a [`Rejection`] whose `reason` is documented on that type; an invalid schema is
/// reported as a rejection with reason `invalid schema: ...`.
pub fn read_json(
    schema: &MessageSchema,
    mode: ReaderMode,
    payload: &Value,
) -> Result<Value, Rejection> {
    if let Err(e) = schema.check() {
        return Err(Rejection::new("", format!("invalid schema: {e}")));
    }
    read_checked(schema, mode, payload).map(Value::Object)
}

/// [`read_json`] for an already checked schema; keeps the output as a map.
pub(super) fn read_checked(
    schema: &MessageSchema,
    mode: ReaderMode,
    payload: &Value,
) -> Result<Map<String, Value>, Rejection> {
    let Value::Object(obj) = payload else {
        return Err(Rejection::new(
            "",
            format!("payload is not a JSON object (got {})", json_kind(payload)),
        ));
    };
    let mut out = Map::new();
    for field in &schema.fields {
        match obj.get(&field.name) {
            Some(v) => {
                check_value(&field.ty, v, &field.name).map_err(|(path, details)| {
                    Rejection::new(path.clone(), format!("invalid field {path}: {details}"))
                })?;
                out.insert(field.name.clone(), v.clone());
            }
            None => match field.effective_default() {
                Some(d) => {
                    out.insert(field.name.clone(), d);
                }
                None => {
                    return Err(Rejection::new(
                        field.name.clone(),
                        format!("missing field {}", field.name),
                    ));
                }
            },
        }
    }
    if mode == ReaderMode::Strict {
        if let Some(unknown) = obj.keys().find(|k| schema.field(k).is_none()) {
            return Err(Rejection::new(
                unknown.clone(),
                format!("unknown field {unknown}"),
            ));
        }
    }
    Ok(out)
}

impl MessageSchema {
    /// Checks that `payload` is a valid message of this schema, as a producer must ensure
    /// before sending: exactly [`ReaderMode::Strict`] reading, i.e. a JSON object, every
    /// required field present, every present field of the right type, no undeclared field.
    /// Missing optional/defaulted fields are allowed.
    ///
    /// Errors: [`SchemaError::InvalidSchema`] when the schema itself is invalid,
    /// [`SchemaError::InvalidPayload`] with the field path and the [`Rejection`] reason
    /// otherwise.
    pub fn validate(&self, payload: &Value) -> Result<(), SchemaError> {
        self.normalize(payload).map(|_| ())
    }

    /// Validates like [`MessageSchema::validate`] and returns the normalized object (defaults
    /// filled in, only declared fields).
    pub(super) fn normalize(&self, payload: &Value) -> Result<Map<String, Value>, SchemaError> {
        self.check()?;
        read_checked(self, ReaderMode::Strict, payload).map_err(|r| SchemaError::InvalidPayload {
            schema: self.name.clone(),
            path: r.path,
            reason: r.reason,
        })
    }
}

/// Encodes a payload as compact JSON bytes (UTF-8, no whitespace), the JSON wire format.
///
/// The payload is validated and normalized first (see [`MessageSchema::validate`]); the
/// output holds every declared field, in schema order, with defaults filled in, so that its
/// size is directly comparable with `encode_avro` (feature `avro`). The key order does not depend on
/// `serde_json`'s `preserve_order` feature.
///
/// Errors: those of [`MessageSchema::validate`]; [`SchemaError::InvalidPayload`] if
/// serialization itself fails (not expected for valid payloads).
pub fn encode_json(schema: &MessageSchema, payload: &Value) -> Result<Vec<u8>, SchemaError> {
    let normalized = schema.normalize(payload)?;
    let mut out = Vec::with_capacity(64);
    out.push(b'{');
    for (i, field) in schema.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let value = normalized.get(&field.name).unwrap_or(&Value::Null);
        serde_json::to_writer(&mut out, &field.name)
            .and_then(|()| {
                out.push(b':');
                serde_json::to_writer(&mut out, value)
            })
            .map_err(|e| SchemaError::InvalidPayload {
                schema: schema.name.clone(),
                path: field.name.clone(),
                reason: format!("JSON serialization failed: {e}"),
            })?;
    }
    out.push(b'}');
    Ok(out)
}
