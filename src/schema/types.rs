//! Schema definition types, their JSON (serde) form, and the definition check.

use std::collections::BTreeSet;

use semver::Version;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::error::SchemaError;

/// Maximum nesting depth of a [`FieldType`] (an `int` has depth 1, `array<int>` depth 2).
///
/// Deeper types are rejected by [`MessageSchema::check`] so that no recursive function of this
/// module can exhaust the stack on a hostile schema.
pub const MAX_TYPE_DEPTH: usize = 32;

/// A message schema: the contract of one kind of message on a channel or endpoint.
///
/// JSON form (unknown keys are rejected):
///
/// ```json
/// {
///   "name": "UserCreated",
///   "version": "1.2.0",
///   "description": "Emitted once per new user",
///   "fields": [
///     { "name": "name", "type": { "kind": "string" }, "description": "display name" },
///     { "name": "age",  "type": { "kind": "optional", "inner": { "kind": "int" } },
///       "default": null }
///   ]
/// }
/// ```
///
/// * `name`: an Avro full name: dot-separated components, each matching
///   `[A-Za-z_][A-Za-z0-9_]*` (e.g. `UserCreated` or `com.shop.UserCreated`). It becomes the
///   Avro record name and the AsyncAPI/OpenAPI component key.
/// * `version`: a semantic version (SemVer 2.0.0 string, parsed by the `semver` crate).
/// * `fields`: ordered list; the order is the Avro binary field order and the JSON output order
///   of [`super::encode_json`].
/// * `description`: free text, optional in JSON (defaults to `""`), exported as Avro `doc` and
///   JSON Schema `description`.
///
/// Call [`MessageSchema::check`] (every encoding/validation function does it for you) to find
/// definition errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSchema {
    /// Avro full name of the message (see type docs for the allowed characters).
    pub name: String,
    /// Semantic version of this schema.
    pub version: Version,
    /// Ordered fields of the message.
    pub fields: Vec<Field>,
    /// Free-text documentation; `""` when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// One field of a [`MessageSchema`].
///
/// JSON form: `{"name": "...", "type": <FieldType>, "default": <json>, "description": "..."}`;
/// `default` and `description` may be omitted; unknown keys are rejected.
///
/// * `name` matches `[A-Za-z_][A-Za-z0-9_]*` and is unique within its schema.
/// * `default`: value used when a reader finds the field missing (JSON payload without the
///   field, or Avro data written by a schema without the field). It must itself be a valid value
///   of `ty`. An explicit `"default": null` is kept as `Some(Value::Null)` (distinct from an
///   absent default). An [`FieldType::Optional`] field without a default behaves as if its
///   default were `null`.
/// * A field is *required* when it is not optional and has no default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field type; `"type"` in JSON.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Default value, see the type docs.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<Value>,
    /// Free-text documentation; `""` when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// Deserializes a present key (even `null`) as `Some(value)`.
fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The type of a [`Field`].
///
/// JSON form is an object tagged by `kind` (unknown keys rejected):
/// `{"kind":"string"}`, `{"kind":"int"}`, `{"kind":"double"}`, `{"kind":"boolean"}`,
/// `{"kind":"enum","symbols":["A","B"]}` (optionally with `"default":"A"`, the Avro enum
/// default), `{"kind":"optional","inner":<FieldType>}`,
/// `{"kind":"array","items":<FieldType>}`.
///
/// | variant | JSON payload value | Avro type | JSON Schema |
/// |---|---|---|---|
/// | `String` | string | `string` | `{"type":"string"}` |
/// | `Int` | integer in i64 range | `long` (zig-zag varint, 1–10 bytes) | `integer`, format `int64` |
/// | `Double` | any number | `double` (8 bytes) | `number`, format `double` |
/// | `Boolean` | `true` / `false` | `boolean` (1 byte) | `boolean` |
/// | `Enum` | one of `symbols` | `enum` named `<field>_enum` | string with `enum` |
/// | `Optional(T)` | `null` or a `T` value | union `["null", T]` (`[T, "null"]` when the field's default is not null) | `anyOf [T, null]` |
/// | `Array(T)` | array of `T` values | `array` of `T` | `array` with `items` |
///
/// `Optional(Optional(_))` is rejected (Avro unions may not directly contain unions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FieldTypeRepr", into = "FieldTypeRepr")]
pub enum FieldType {
    /// UTF-8 text.
    String,
    /// Signed 64-bit integer (Avro `long`).
    Int,
    /// IEEE 754 double; NaN and infinities cannot occur in JSON payloads.
    Double,
    /// `true` or `false`.
    Boolean,
    /// One symbol out of a fixed list; symbols match `[A-Za-z_][A-Za-z0-9_]*`, are unique, and
    /// the list is not empty.
    Enum {
        /// Allowed symbols, in declaration order (the order defines the Avro enum index).
        symbols: Vec<String>,
        /// The Avro enum `default` (one of `symbols`): what a reader with this enum reads when
        /// the writer's symbol is not among its symbols (Avro 1.11, "Schema Resolution": "if
        /// the writer's symbol is not present in the reader's enum and the reader has a
        /// default value, then that value is used, otherwise an error is signalled"). Absent:
        /// no default.
        default: Option<String>,
    },
    /// `null` or a value of the inner type.
    Optional(Box<FieldType>),
    /// A list of values of the inner type.
    Array(Box<FieldType>),
}

/// Serde representation of [`FieldType`] (struct variants so that it can be internally tagged).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum FieldTypeRepr {
    // Empty struct variants (not unit variants) so that `deny_unknown_fields` applies to them.
    String {},
    Int {},
    Double {},
    Boolean {},
    Enum {
        symbols: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    Optional {
        inner: Box<FieldType>,
    },
    Array {
        items: Box<FieldType>,
    },
}

impl From<FieldTypeRepr> for FieldType {
    fn from(r: FieldTypeRepr) -> Self {
        match r {
            FieldTypeRepr::String {} => FieldType::String,
            FieldTypeRepr::Int {} => FieldType::Int,
            FieldTypeRepr::Double {} => FieldType::Double,
            FieldTypeRepr::Boolean {} => FieldType::Boolean,
            FieldTypeRepr::Enum { symbols, default } => FieldType::Enum { symbols, default },
            FieldTypeRepr::Optional { inner } => FieldType::Optional(inner),
            FieldTypeRepr::Array { items } => FieldType::Array(items),
        }
    }
}

impl From<FieldType> for FieldTypeRepr {
    fn from(t: FieldType) -> Self {
        match t {
            FieldType::String => FieldTypeRepr::String {},
            FieldType::Int => FieldTypeRepr::Int {},
            FieldType::Double => FieldTypeRepr::Double {},
            FieldType::Boolean => FieldTypeRepr::Boolean {},
            FieldType::Enum { symbols, default } => FieldTypeRepr::Enum { symbols, default },
            FieldType::Optional(inner) => FieldTypeRepr::Optional { inner },
            FieldType::Array(items) => FieldTypeRepr::Array { items },
        }
    }
}

impl FieldType {
    /// Short human-readable name used in error messages and change descriptions, e.g. `int`,
    /// `optional<string>`, `array<enum{A,B}>`.
    pub fn display_name(&self) -> String {
        match self {
            FieldType::String => "string".to_owned(),
            FieldType::Int => "int".to_owned(),
            FieldType::Double => "double".to_owned(),
            FieldType::Boolean => "boolean".to_owned(),
            FieldType::Enum { symbols, default } => match default {
                Some(d) => format!("enum{{{}}}(default {d})", symbols.join(",")),
                None => format!("enum{{{}}}", symbols.join(",")),
            },
            FieldType::Optional(inner) => format!("optional<{}>", inner.display_name()),
            FieldType::Array(items) => format!("array<{}>", items.display_name()),
        }
    }

    /// Nesting depth (1 for a scalar).
    pub fn depth(&self) -> usize {
        // Iterative so that even an unchecked, absurdly deep type cannot overflow the stack.
        let mut depth = 1;
        let mut t = self;
        while let FieldType::Optional(inner) | FieldType::Array(inner) = t {
            depth += 1;
            t = inner;
        }
        depth
    }
}

impl Field {
    /// A field with no default and no description.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Field {
            name: name.into(),
            ty,
            default: None,
            description: String::new(),
        }
    }

    /// Builder-style: set the default value.
    pub fn with_default(mut self, default: Value) -> Self {
        self.default = Some(default);
        self
    }

    /// Builder-style: set the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// True when the field's type is [`FieldType::Optional`].
    pub fn is_optional(&self) -> bool {
        matches!(self.ty, FieldType::Optional(_))
    }

    /// True when a payload must contain the field: not optional and no default.
    pub fn is_required(&self) -> bool {
        !self.is_optional() && self.default.is_none()
    }

    /// The value a reader substitutes when the field is missing: the explicit default, else
    /// `null` for an optional field, else `None` (the field is required).
    pub fn effective_default(&self) -> Option<Value> {
        match &self.default {
            Some(v) => Some(v.clone()),
            None if self.is_optional() => Some(Value::Null),
            None => None,
        }
    }

    /// True when the Avro union for this (optional) field puts `null` first, i.e. when the
    /// effective default is `null` (Avro 1.11: a union field's default must match the union's
    /// first branch).
    #[cfg(feature = "avro")]
    pub(super) fn null_first(&self) -> bool {
        matches!(self.default, None | Some(Value::Null))
    }
}

impl MessageSchema {
    /// A schema with the given name and version, no fields and no description.
    pub fn new(name: impl Into<String>, version: Version) -> Self {
        MessageSchema {
            name: name.into(),
            version,
            fields: Vec::new(),
            description: String::new(),
        }
    }

    /// Builder-style: append a field.
    pub fn with_field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// Builder-style: set the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The field with this name, if any.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// `"<name> <version>"`, used in error messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    /// The unqualified name (last dot-separated component of `name`), as Avro compares record
    /// names during schema resolution.
    pub fn simple_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// Parses the JSON form (see the type docs). Errors: [`SchemaError::InvalidSchema`] with
    /// the serde message (schema name `?`) when the JSON does not have the documented shape,
    /// or the [`MessageSchema::check`] error when it parses but is not a valid definition.
    pub fn from_json(value: &Value) -> Result<Self, SchemaError> {
        let schema: MessageSchema =
            serde_json::from_value(value.clone()).map_err(|e| SchemaError::InvalidSchema {
                schema: "?".to_owned(),
                reason: e.to_string(),
            })?;
        schema.check()?;
        Ok(schema)
    }

    /// Checks that the definition is usable; returns the first problem found as
    /// [`SchemaError::InvalidSchema`].
    ///
    /// Rules: valid Avro full name whose last component is not an Avro primitive type name
    /// (`null`, `boolean`, `int`, `long`, `float`, `double`, `bytes`, `string`); valid, unique
    /// field names; every type at most
    /// [`MAX_TYPE_DEPTH`] deep, no `optional<optional<_>>`, enum symbols valid, unique and
    /// non-empty; every default is a valid value of its field's type; the derived Avro enum
    /// type names (`<field>_enum`) do not collide with the record's own name.
    pub fn check(&self) -> Result<(), SchemaError> {
        let err = |reason: String| SchemaError::InvalidSchema {
            schema: self.name.clone(),
            reason,
        };
        if self.name.is_empty() || !self.name.split('.').all(is_avro_name) {
            return Err(err(format!(
                "message name {:?} is not an Avro full name (dot-separated [A-Za-z_][A-Za-z0-9_]*)",
                self.name
            )));
        }
        if AVRO_PRIMITIVES.contains(&self.simple_name()) {
            return Err(err(format!(
                "message name {:?} ends in an Avro primitive type name",
                self.name
            )));
        }
        let mut seen = BTreeSet::new();
        for field in &self.fields {
            if !is_avro_name(&field.name) {
                return Err(err(format!(
                    "field name {:?} is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)",
                    field.name
                )));
            }
            if !seen.insert(field.name.as_str()) {
                return Err(err(format!("duplicate field {}", field.name)));
            }
            check_type(&field.ty, 1, false)
                .map_err(|reason| err(format!("field {}: {reason}", field.name)))?;
            if contains_enum(&field.ty) && enum_type_name(&field.name) == self.simple_name() {
                return Err(err(format!(
                    "field {}: derived Avro enum name {} collides with the message name",
                    field.name,
                    enum_type_name(&field.name)
                )));
            }
            if let Some(default) = &field.default {
                check_value(&field.ty, default, &field.name).map_err(|(path, reason)| {
                    err(format!("default of field {path} is invalid: {reason}"))
                })?;
            }
        }
        Ok(())
    }
}

/// Avro primitive type names, which a named type may not use (Avro 1.11, "Names").
const AVRO_PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// Avro name rule: `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_avro_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Name of the Avro enum type generated for an enum-typed field.
pub(super) fn enum_type_name(field: &str) -> String {
    format!("{field}_enum")
}

fn contains_enum(ty: &FieldType) -> bool {
    let mut t = ty;
    loop {
        match t {
            FieldType::Enum { .. } => return true,
            FieldType::Optional(inner) | FieldType::Array(inner) => t = inner,
            _ => return false,
        }
    }
}

fn check_type(ty: &FieldType, depth: usize, parent_is_optional: bool) -> Result<(), String> {
    if depth > MAX_TYPE_DEPTH {
        return Err(format!("type nesting deeper than {MAX_TYPE_DEPTH}"));
    }
    match ty {
        FieldType::String | FieldType::Int | FieldType::Double | FieldType::Boolean => Ok(()),
        FieldType::Enum { symbols, default } => {
            if let Some(d) = default {
                if !symbols.contains(d) {
                    return Err(format!(
                        "enum default {d} is not one of the symbols [{}]",
                        symbols.join(", ")
                    ));
                }
            }
            if symbols.is_empty() {
                return Err("enum has no symbols".to_owned());
            }
            let mut seen = BTreeSet::new();
            for s in symbols {
                if !is_avro_name(s) {
                    return Err(format!(
                        "enum symbol {s:?} is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)"
                    ));
                }
                if !seen.insert(s.as_str()) {
                    return Err(format!("duplicate enum symbol {s}"));
                }
            }
            Ok(())
        }
        FieldType::Optional(inner) => {
            if parent_is_optional {
                return Err("optional<optional<_>> is not allowed (Avro unions may not directly contain unions)".to_owned());
            }
            check_type(inner, depth + 1, true)
        }
        FieldType::Array(items) => check_type(items, depth + 1, false),
    }
}

/// JSON type name of a value for error messages.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks a JSON value against a type. Returns `(path, reason)` of the first problem.
///
/// Recursion depth is bounded by the type depth (at most [`MAX_TYPE_DEPTH`] for checked
/// schemas), never by the value's depth.
pub(super) fn check_value(ty: &FieldType, v: &Value, path: &str) -> Result<(), (String, String)> {
    let mismatch = || {
        (
            path.to_owned(),
            format!("expected {}, got {}", ty.display_name(), json_kind(v)),
        )
    };
    match (ty, v) {
        (FieldType::String, Value::String(_)) => Ok(()),
        (FieldType::Int, Value::Number(n)) if n.is_i64() => Ok(()),
        (FieldType::Int, Value::Number(n)) if n.is_u64() => Err((
            path.to_owned(),
            format!("integer {n} is out of the int (i64) range"),
        )),
        (FieldType::Double, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        (FieldType::Boolean, Value::Bool(_)) => Ok(()),
        (FieldType::Enum { symbols, .. }, Value::String(s)) => {
            if symbols.iter().any(|x| x == s) {
                Ok(())
            } else {
                Err((
                    path.to_owned(),
                    format!("{s:?} is not one of the symbols [{}]", symbols.join(", ")),
                ))
            }
        }
        (FieldType::Optional(_), Value::Null) => Ok(()),
        (FieldType::Optional(inner), _) => check_value(inner, v, path),
        (FieldType::Array(items), Value::Array(values)) => {
            for (i, item) in values.iter().enumerate() {
                check_value(items, item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Err(mismatch()),
    }
}
