//! Binary Avro encoding (through `apache-avro`), writer/reader schema resolution, sizes and
//! hex helpers.
//!
//! Semantics source: the Avro 1.11 specification, sections "Binary Encoding" and
//! "Schema Resolution". Encoded data is a raw datum: no container file header, no sync marker,
//! no single-object header, no Confluent magic byte or id prefix (the schema id travels in the
//! message headers, see [`super::SchemaRegistry`]).

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as AvroValue;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema as AvroSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::error::SchemaError;
use super::evolution::matches;
use super::types::{enum_type_name, Field, FieldType, MessageSchema};

/// Sizes of one message in both wire encodings, in bytes.
///
/// `json` is the length of [`super::encode_json`]'s output (compact UTF-8, every declared field
/// present); `avro` is the length of [`encode_avro`]'s output (raw datum, no framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EncodedSizes {
    /// JSON size in bytes.
    pub json: usize,
    /// Avro binary size in bytes.
    pub avro: usize,
}

/// The Avro schema (as its JSON form) that a [`MessageSchema`] maps to.
///
/// Shape: `{"type":"record","name":<simple name>,"namespace":<namespace, if the name has
/// dots>,"doc":<description, if any>,"fields":[{"name","type","default"?,"doc"?}...]}`.
/// Types map as documented on [`FieldType`]: `int` -> `long`, `double` -> `double`,
/// `enum` -> enum named `<field>_enum`, `optional<T>` -> union `["null", T]` with default
/// `null` (or `[T, "null"]` with the field's non-null default, because Avro 1.11 requires a
/// union field's default to match the union's first branch), `array<T>` -> array.
///
/// Errors: [`SchemaError::InvalidSchema`] when [`MessageSchema::check`] fails.
pub fn avro_schema_json(schema: &MessageSchema) -> Result<Value, SchemaError> {
    schema.check()?;
    let (namespace, simple) = match schema.name.rsplit_once('.') {
        Some((ns, simple)) => (Some(ns), simple),
        None => (None, schema.name.as_str()),
    };
    let mut record = Map::new();
    record.insert("type".into(), "record".into());
    record.insert("name".into(), simple.into());
    if let Some(ns) = namespace {
        record.insert("namespace".into(), ns.into());
    }
    if !schema.description.is_empty() {
        record.insert("doc".into(), schema.description.clone().into());
    }
    let fields = schema
        .fields
        .iter()
        .map(avro_field_json)
        .collect::<Vec<_>>();
    record.insert("fields".into(), Value::Array(fields));
    Ok(Value::Object(record))
}

fn avro_field_json(field: &Field) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), field.name.clone().into());
    f.insert(
        "type".into(),
        avro_type_json(&field.ty, &field.name, field.null_first()),
    );
    if let Some(default) = field.effective_default() {
        f.insert("default".into(), default);
    }
    if !field.description.is_empty() {
        f.insert("doc".into(), field.description.clone().into());
    }
    Value::Object(f)
}

fn avro_type_json(ty: &FieldType, field: &str, null_first: bool) -> Value {
    match ty {
        FieldType::String => "string".into(),
        FieldType::Int => "long".into(),
        FieldType::Double => "double".into(),
        FieldType::Boolean => "boolean".into(),
        FieldType::Enum { symbols, default } => {
            let mut e = serde_json::json!({
                "type": "enum",
                "name": enum_type_name(field),
                "symbols": symbols,
            });
            if let Some(d) = default {
                e["default"] = d.clone().into();
            }
            e
        }
        FieldType::Optional(inner) => {
            let inner = avro_type_json(inner, field, true);
            if null_first {
                Value::Array(vec!["null".into(), inner])
            } else {
                Value::Array(vec![inner, "null".into()])
            }
        }
        FieldType::Array(items) => serde_json::json!({
            "type": "array",
            "items": avro_type_json(items, field, true),
        }),
    }
}

/// The parsed `apache-avro` schema for a [`MessageSchema`] (see [`avro_schema_json`]).
///
/// Errors: [`SchemaError::InvalidSchema`] from [`MessageSchema::check`], or
/// [`SchemaError::Avro`] if `apache-avro` refuses the generated schema (not expected).
pub fn to_avro_schema(schema: &MessageSchema) -> Result<AvroSchema, SchemaError> {
    let json = avro_schema_json(schema)?;
    AvroSchema::parse(&json).map_err(avro_err)
}

fn avro_err(e: apache_avro::Error) -> SchemaError {
    SchemaError::Avro(e.to_string())
}

/// Encodes a payload as a raw Avro binary datum of `schema` (no container file, no header).
///
/// The payload is validated and normalized first (see [`MessageSchema::validate`]; missing
/// optional/defaulted fields are encoded with their defaults). Encoding is done by
/// `apache-avro`'s `GenericDatumWriter`. Builds the Avro schema on every call; use
/// [`AvroCodec`] to reuse it.
///
/// Errors: those of [`MessageSchema::validate`], or [`SchemaError::Avro`] from the library.
pub fn encode_avro(schema: &MessageSchema, payload: &Value) -> Result<Vec<u8>, SchemaError> {
    encode_with(schema, &to_avro_schema(schema)?, payload)
}

/// A [`MessageSchema`] together with its parsed `apache-avro` schema, so that repeated
/// encoding/decoding does not rebuild it (building it is most of the cost of
/// [`encode_avro`]/[`decode_avro`]). Results are identical to those functions.
#[derive(Debug, Clone)]
pub struct AvroCodec {
    schema: MessageSchema,
    avro: AvroSchema,
}

impl AvroCodec {
    /// Checks `schema` and builds its Avro schema.
    ///
    /// Errors: [`SchemaError::InvalidSchema`], or [`SchemaError::Avro`] (not expected).
    pub fn new(schema: MessageSchema) -> Result<Self, SchemaError> {
        let avro = to_avro_schema(&schema)?;
        Ok(AvroCodec { schema, avro })
    }

    /// The message schema.
    pub fn schema(&self) -> &MessageSchema {
        &self.schema
    }

    /// Same as [`encode_avro`] with this schema.
    pub fn encode(&self, payload: &Value) -> Result<Vec<u8>, SchemaError> {
        encode_with(&self.schema, &self.avro, payload)
    }

    /// Same as [`decode_avro`] with this schema as the writer schema.
    pub fn decode(&self, reader: &MessageSchema, bytes: &[u8]) -> Result<Value, SchemaError> {
        reader.check()?;
        decode_with(&self.schema, &self.avro, reader, bytes)
    }
}

fn encode_with(
    schema: &MessageSchema,
    avro_schema: &AvroSchema,
    payload: &Value,
) -> Result<Vec<u8>, SchemaError> {
    let normalized = schema.normalize(payload)?;
    let mut fields = Vec::with_capacity(schema.fields.len());
    for field in &schema.fields {
        let v = normalized.get(&field.name).unwrap_or(&Value::Null);
        let av = to_avro_value(&field.ty, v, field.null_first(), &field.name).map_err(|r| {
            SchemaError::InvalidPayload {
                schema: schema.name.clone(),
                path: field.name.clone(),
                reason: r,
            }
        })?;
        fields.push((field.name.clone(), av));
    }
    let writer = GenericDatumWriter::builder(avro_schema)
        .build()
        .map_err(avro_err)?;
    writer
        .write_value_to_vec(AvroValue::Record(fields))
        .map_err(avro_err)
}

/// JSON value (already validated against `ty`) to an `apache-avro` value.
fn to_avro_value(
    ty: &FieldType,
    v: &Value,
    null_first: bool,
    path: &str,
) -> Result<AvroValue, String> {
    let bad = || format!("value at {path} does not match {}", ty.display_name());
    Ok(match (ty, v) {
        (FieldType::String, Value::String(s)) => AvroValue::String(s.clone()),
        (FieldType::Int, Value::Number(n)) => AvroValue::Long(n.as_i64().ok_or_else(bad)?),
        (FieldType::Double, Value::Number(n)) => AvroValue::Double(n.as_f64().ok_or_else(bad)?),
        (FieldType::Boolean, Value::Bool(b)) => AvroValue::Boolean(*b),
        (FieldType::Enum { symbols, .. }, Value::String(s)) => {
            let idx = symbols.iter().position(|x| x == s).ok_or_else(bad)?;
            let idx = u32::try_from(idx).map_err(|_| bad())?;
            AvroValue::Enum(idx, s.clone())
        }
        (FieldType::Optional(_), Value::Null) => {
            AvroValue::Union(if null_first { 0 } else { 1 }, Box::new(AvroValue::Null))
        }
        (FieldType::Optional(inner), _) => AvroValue::Union(
            if null_first { 1 } else { 0 },
            Box::new(to_avro_value(inner, v, true, path)?),
        ),
        (FieldType::Array(items), Value::Array(values)) => AvroValue::Array(
            values
                .iter()
                .enumerate()
                .map(|(i, x)| to_avro_value(items, x, true, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(bad()),
    })
}

/// Decodes a raw Avro datum written with `writer` and returns it as JSON shaped by `reader`,
/// performing writer/reader schema resolution as the Avro 1.11 specification, section
/// "Schema Resolution", defines (pass the same schema twice for no resolution):
///
/// * records: the (unqualified) names must match; reader fields are matched to writer fields
///   by name; writer fields unknown to the reader are skipped; a reader field absent from the
///   writer takes the reader's default (optional fields: `null`), and it is an error if it has
///   none;
/// * `long` (our `int`) is promoted to `double`;
/// * enums: a writer symbol present in the reader's symbols is read as itself; one absent from
///   them is read as the reader's enum `default` when it has one, and is an error naming the
///   symbol otherwise. This step is `apache-avro`'s own enum resolution (`Value::resolve`
///   against the reader's enum schema, `default` included);
/// * arrays: items are resolved recursively;
/// * unions (optional): a writer union resolves the branch actually written; a `null` written
///   to a non-optional reader type is an error; a non-union writer type resolves against the
///   first branch of a reader union that it *matches* (same kind, or promotable).
///
/// Steps: the bytes are first scanned against `writer` (so hostile lengths cannot trigger
/// large allocations, and trailing bytes are detected), then decoded by `apache-avro`'s
/// `GenericDatumReader` with the writer schema, then resolved into the reader's shape.
/// Resolution is done here (on the value `apache-avro` decoded) rather than by
/// `apache-avro` 0.22's own resolver because that resolver does not compare record names,
/// which the specification requires, and its errors carry no field path. Tests check that
/// both resolvers accept and reject the same data otherwise.
///
/// Output: a JSON object with exactly the reader's fields; doubles come back as JSON floats
/// (an `int` promoted to `double` reads `3.0`).
///
/// Errors: [`SchemaError::InvalidSchema`] for an invalid schema,
/// [`SchemaError::MalformedAvro`] (with byte offset and field path) when the bytes are not
/// exactly one datum of `writer`, [`SchemaError::Resolution`] when resolution fails,
/// [`SchemaError::NonFiniteDouble`] for NaN/infinite doubles, [`SchemaError::Avro`] from the
/// library.
pub fn decode_avro(
    writer: &MessageSchema,
    reader: &MessageSchema,
    bytes: &[u8],
) -> Result<Value, SchemaError> {
    reader.check()?;
    decode_with(writer, &to_avro_schema(writer)?, reader, bytes)
}

/// [`decode_avro`] with the writer's Avro schema already built (`writer` already checked).
fn decode_with(
    writer: &MessageSchema,
    writer_avro: &AvroSchema,
    reader: &MessageSchema,
    bytes: &[u8],
) -> Result<Value, SchemaError> {
    scan_datum(writer, bytes)?;
    let datum_reader = GenericDatumReader::builder(writer_avro)
        .build()
        .map_err(avro_err)?;
    let mut input = bytes;
    let decoded = datum_reader.read_value(&mut input).map_err(avro_err)?;
    let resolution_error = |path: String, reason: String| SchemaError::Resolution {
        writer: writer.label(),
        reader: reader.label(),
        path,
        reason,
    };
    if writer.simple_name() != reader.simple_name() {
        return Err(resolution_error(
            String::new(),
            format!(
                "record names differ: writer {} vs reader {}",
                writer.simple_name(),
                reader.simple_name()
            ),
        ));
    }
    let AvroValue::Record(mut written) = decoded else {
        return Err(SchemaError::Avro(
            "decoded datum is not a record".to_owned(),
        ));
    };
    let mut out = Map::new();
    for rf in &reader.fields {
        let wf = writer.fields.iter().find(|f| f.name == rf.name);
        let value = match wf {
            Some(wf) => {
                let pos = written.iter().position(|(n, _)| *n == rf.name);
                let Some(pos) = pos else {
                    return Err(SchemaError::Avro(format!(
                        "decoded record lacks writer field {}",
                        rf.name
                    )));
                };
                let (_, v) = written.swap_remove(pos);
                resolve_value(&wf.ty, &rf.ty, v, &rf.name).map_err(|e| match e {
                    ResolveError::Mismatch(path, reason) => resolution_error(path, reason),
                    ResolveError::NonFinite(path) => SchemaError::NonFiniteDouble { path },
                })?
            }
            None => match rf.effective_default() {
                Some(d) => d,
                None => {
                    return Err(resolution_error(
                        rf.name.clone(),
                        format!(
                            "reader field {} has no default and the writer schema has no such field",
                            rf.name
                        ),
                    ));
                }
            },
        };
        out.insert(rf.name.clone(), value);
    }
    Ok(Value::Object(out))
}

enum ResolveError {
    Mismatch(String, String),
    NonFinite(String),
}

/// Resolves one decoded writer value (of writer type `w`) into JSON of reader type `r`.
fn resolve_value(
    w: &FieldType,
    r: &FieldType,
    v: AvroValue,
    path: &str,
) -> Result<Value, ResolveError> {
    let mismatch = |reason: String| ResolveError::Mismatch(path.to_owned(), reason);
    match (w, r) {
        // The writer type is a union: resolve the branch that was written.
        (FieldType::Optional(w_inner), _) => {
            let AvroValue::Union(_, inner) = v else {
                return Err(mismatch("expected a union value".to_owned()));
            };
            match *inner {
                AvroValue::Null => match r {
                    FieldType::Optional(_) => Ok(Value::Null),
                    _ => Err(mismatch(format!(
                        "writer wrote null but reader type {} is not optional",
                        r.display_name()
                    ))),
                },
                other => resolve_value(w_inner, r, other, path),
            }
        }
        // The reader type is a union, the writer type is not: first matching reader branch
        // (null never matches).
        (_, FieldType::Optional(r_inner)) => {
            if matches(w, r_inner) {
                resolve_value(w, r_inner, v, path)
            } else {
                Err(mismatch(format!(
                    "writer type {} matches no branch of reader union {}",
                    w.display_name(),
                    r.display_name()
                )))
            }
        }
        (FieldType::String, FieldType::String) => match v {
            AvroValue::String(s) => Ok(Value::String(s)),
            _ => Err(mismatch("expected a string value".to_owned())),
        },
        (FieldType::Int, FieldType::Int) => match v {
            AvroValue::Long(n) => Ok(Value::Number(n.into())),
            AvroValue::Int(n) => Ok(Value::Number(n.into())),
            _ => Err(mismatch("expected a long value".to_owned())),
        },
        (FieldType::Int | FieldType::Double, FieldType::Double) => {
            let x = match v {
                AvroValue::Long(n) => n as f64,
                AvroValue::Int(n) => f64::from(n),
                AvroValue::Double(x) => x,
                AvroValue::Float(x) => f64::from(x),
                _ => return Err(mismatch("expected a numeric value".to_owned())),
            };
            Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| ResolveError::NonFinite(path.to_owned()))
        }
        (FieldType::Boolean, FieldType::Boolean) => match v {
            AvroValue::Boolean(b) => Ok(Value::Bool(b)),
            _ => Err(mismatch("expected a boolean value".to_owned())),
        },
        (FieldType::Enum { .. }, FieldType::Enum { symbols, default }) => match v {
            AvroValue::Enum(i, s) => {
                // The library resolves against the reader's enum (its `default` included).
                let mut json = serde_json::json!({
                    "type": "enum", "name": "reader_enum", "symbols": symbols,
                });
                if let Some(d) = default {
                    json["default"] = d.clone().into();
                }
                let reader = AvroSchema::parse(&json).map_err(|e| mismatch(e.to_string()))?;
                match AvroValue::Enum(i, s.clone()).resolve(&reader) {
                    Ok(AvroValue::Enum(_, read)) => Ok(Value::String(read)),
                    _ => Err(mismatch(match default {
                        Some(d) => format!(
                            "writer symbol {s} is not among the reader's symbols [{}] and the \
                             reader's default {d} could not be used",
                            symbols.join(", ")
                        ),
                        None => format!(
                            "writer symbol {s} is not among the reader's symbols [{}] and the \
                             reader's enum has no default",
                            symbols.join(", ")
                        ),
                    })),
                }
            }
            _ => Err(mismatch("expected an enum value".to_owned())),
        },
        (FieldType::Array(w_items), FieldType::Array(r_items)) => match v {
            AvroValue::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, x)| resolve_value(w_items, r_items, x, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(mismatch("expected an array value".to_owned())),
        },
        _ => Err(mismatch(format!(
            "writer type {} does not match reader type {}",
            w.display_name(),
            r.display_name()
        ))),
    }
}

/// Sizes of a payload in both encodings (see [`EncodedSizes`]), in bytes.
///
/// Errors: those of [`super::encode_json`] and [`encode_avro`].
pub fn encoded_sizes(schema: &MessageSchema, payload: &Value) -> Result<EncodedSizes, SchemaError> {
    Ok(EncodedSizes {
        json: super::payload::encode_json(schema, payload)?.len(),
        avro: encode_avro(schema, payload)?.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Pre-flight scan of a raw datum: structure, lengths and exact consumption, without allocating.

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    schema: &'a str,
}

impl Scanner<'_> {
    fn err(&self, path: &str, reason: impl Into<String>) -> SchemaError {
        SchemaError::MalformedAvro {
            schema: self.schema.to_owned(),
            offset: self.pos,
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// Zig-zag varint long (at most 10 bytes).
    fn long(&mut self, path: &str, what: &str) -> Result<i64, SchemaError> {
        let start = self.pos;
        let mut acc: u64 = 0;
        for i in 0..10u32 {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.err(path, format!("unexpected end of input (reading {what})")));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                self.pos = start;
                return Err(self.err(path, format!("varint overflows 64 bits (reading {what})")));
            }
            acc |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                let v = (acc >> 1) as i64 ^ -((acc & 1) as i64);
                return Ok(v);
            }
        }
        self.pos = start;
        Err(self.err(
            path,
            format!("varint longer than 10 bytes (reading {what})"),
        ))
    }

    fn take(&mut self, n: usize, path: &str, what: &str) -> Result<&[u8], SchemaError> {
        if self.remaining() < n {
            return Err(self.err(
                path,
                format!(
                    "unexpected end of input (reading {what}: need {n} bytes, {} left)",
                    self.remaining()
                ),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn length(&mut self, path: &str, what: &str) -> Result<usize, SchemaError> {
        let start = self.pos;
        let n = self.long(path, what)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            Ok(n) => {
                let left = self.remaining();
                self.pos = start;
                Err(self.err(
                    path,
                    format!("{what} {n} exceeds the {left} bytes left after it"),
                ))
            }
            Err(_) => {
                self.pos = start;
                Err(self.err(path, format!("negative {what} {n}")))
            }
        }
    }

    fn value(&mut self, ty: &FieldType, null_first: bool, path: &str) -> Result<(), SchemaError> {
        match ty {
            FieldType::String => {
                let len = self.length(path, "string length")?;
                let start = self.pos;
                let s = self.take(len, path, "string bytes")?;
                if std::str::from_utf8(s).is_err() {
                    self.pos = start;
                    return Err(self.err(path, "string is not valid UTF-8"));
                }
                Ok(())
            }
            FieldType::Int => self.long(path, "long").map(|_| ()),
            FieldType::Double => self.take(8, path, "double").map(|_| ()),
            FieldType::Boolean => {
                let b = self.take(1, path, "boolean")?[0];
                if b > 1 {
                    self.pos -= 1;
                    return Err(self.err(path, format!("boolean byte {b} is neither 0 nor 1")));
                }
                Ok(())
            }
            FieldType::Enum { symbols, .. } => {
                let start = self.pos;
                let idx = self.long(path, "enum index")?;
                if usize::try_from(idx).map_or(true, |i| i >= symbols.len()) {
                    self.pos = start;
                    return Err(self.err(
                        path,
                        format!("enum index {idx} out of range 0..{}", symbols.len()),
                    ));
                }
                Ok(())
            }
            FieldType::Optional(inner) => {
                let start = self.pos;
                let idx = self.long(path, "union branch index")?;
                let null_idx = if null_first { 0 } else { 1 };
                match idx {
                    0 | 1 if idx == null_idx => Ok(()),
                    0 | 1 => self.value(inner, true, path),
                    _ => {
                        self.pos = start;
                        Err(self.err(path, format!("union branch index {idx} out of range 0..2")))
                    }
                }
            }
            FieldType::Array(items) => {
                let mut index: usize = 0;
                loop {
                    let start = self.pos;
                    let count = self.long(path, "array block count")?;
                    if count == 0 {
                        return Ok(());
                    }
                    let count = if count < 0 {
                        // Negative count: absolute value, followed by the block size in bytes.
                        self.length(path, "array block byte size")?;
                        count.checked_neg()
                    } else {
                        Some(count)
                    };
                    // Every item of every FieldType takes at least one byte.
                    let count = count
                        .and_then(|c| usize::try_from(c).ok())
                        .filter(|c| *c <= self.remaining());
                    let Some(count) = count else {
                        self.pos = start;
                        return Err(self.err(
                            path,
                            format!(
                                "array block count exceeds the {} bytes left",
                                self.remaining()
                            ),
                        ));
                    };
                    for _ in 0..count {
                        self.value(items, true, &format!("{path}[{index}]"))?;
                        index += 1;
                    }
                }
            }
        }
    }
}

/// Checks that `bytes` is exactly one well-formed datum of `schema`.
fn scan_datum(schema: &MessageSchema, bytes: &[u8]) -> Result<(), SchemaError> {
    let mut s = Scanner {
        bytes,
        pos: 0,
        schema: &schema.name,
    };
    for field in &schema.fields {
        s.value(&field.ty, field.null_first(), &field.name)?;
    }
    if s.pos != bytes.len() {
        return Err(s.err(
            "",
            format!(
                "{} trailing bytes after the datum",
                bytes.len().saturating_sub(s.pos)
            ),
        ));
    }
    Ok(())
}
