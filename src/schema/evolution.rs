//! Schema evolution: semantic-versioning classification of a change, and Confluent-style
//! BACKWARD / FORWARD / FULL compatibility computed with the Avro 1.11 resolution rules.

use semver::Version;
use serde::{Deserialize, Serialize};

use super::types::{FieldType, MessageSchema};

/// The semantic-versioning class of a schema change (SemVer 2.0.0): which version component
/// the new schema must bump.
///
/// Ordered `Patch < Minor < Major`, so the class of a set of changes is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeClass {
    /// No contract change: only documentation (descriptions) or field/symbol order changed,
    /// or nothing changed at all.
    Patch,
    /// Backward-compatible addition: optional (or defaulted) field added, enum symbol added,
    /// default added or changed.
    Minor,
    /// Breaking change: field removed, required field added, field type changed, enum symbol
    /// removed, default removed, message name changed.
    Major,
}

/// One difference between two versions of a schema, with its [`ChangeClass`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChange {
    /// Class of this change.
    pub class: ChangeClass,
    /// Field path concerned (`""` for the message itself; array items are `field[]`).
    pub path: String,
    /// Human-readable description, e.g. `optional field age added`.
    pub description: String,
}

/// Confluent Schema Registry compatibility of a new schema version with the previous one.
///
/// * `backward` (BACKWARD): consumers using the **new** schema can read data written with the
///   **old** one (new reader, old writer);
/// * `forward` (FORWARD): consumers using the **old** schema can read data written with the
///   **new** one (old reader, new writer);
/// * `full` (FULL): both.
///
/// "Can read" means: Avro 1.11 schema resolution (specification section "Schema Resolution")
/// succeeds for every datum the writer schema can produce (see [`can_read`]). The reason lists
/// explain each failing direction (empty when that direction holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compatibility {
    /// New reader can read old data.
    pub backward: bool,
    /// Old reader can read new data.
    pub forward: bool,
    /// `backward && forward`.
    pub full: bool,
    /// Why `backward` is false.
    pub backward_reasons: Vec<String>,
    /// Why `forward` is false.
    pub forward_reasons: Vec<String>,
}

/// All differences from `old` to `new`, each classified (see [`ChangeClass`] for the rules).
///
/// Details: fields are matched by name; a type change is `Major` except for enum symbol
/// changes (added = `Minor`, removed = `Major`, reordered = `Patch`) and changes inside
/// `optional<...>`/`array<...>` which are classified recursively; a default added or changed
/// is `Minor`, removed is `Major` (for optional fields a missing default counts as `null`);
/// field order changes are `Patch` (Avro resolves fields by name and JSON objects are
/// unordered). The version numbers themselves are not compared. Returns an empty list when
/// the schemas are equal except for the version.
pub fn schema_changes(old: &MessageSchema, new: &MessageSchema) -> Vec<SchemaChange> {
    let mut out = Vec::new();
    let mut push = |class, path: &str, description: String| {
        out.push(SchemaChange {
            class,
            path: path.to_owned(),
            description,
        });
    };
    if old.name != new.name {
        push(
            ChangeClass::Major,
            "",
            format!("message name changed from {} to {}", old.name, new.name),
        );
    }
    if old.description != new.description {
        push(
            ChangeClass::Patch,
            "",
            "message description changed".to_owned(),
        );
    }
    for of in &old.fields {
        if new.field(&of.name).is_none() {
            push(
                ChangeClass::Major,
                &of.name,
                format!("field {} removed", of.name),
            );
        }
    }
    for nf in &new.fields {
        let Some(of) = old.field(&nf.name) else {
            if nf.is_required() {
                push(
                    ChangeClass::Major,
                    &nf.name,
                    format!("required field {} added", nf.name),
                );
            } else {
                push(
                    ChangeClass::Minor,
                    &nf.name,
                    format!("optional field {} added", nf.name),
                );
            }
            continue;
        };
        let mut type_changes = Vec::new();
        classify_type_change(&of.ty, &nf.ty, &nf.name, &mut type_changes);
        let type_major = type_changes.iter().any(|c| c.class == ChangeClass::Major);
        for c in type_changes {
            push(c.class, &c.path, c.description);
        }
        if !type_major {
            match (of.effective_default(), nf.effective_default()) {
                (None, Some(d)) => push(
                    ChangeClass::Minor,
                    &nf.name,
                    format!("default {d} added to field {}", nf.name),
                ),
                (Some(d), None) => push(
                    ChangeClass::Major,
                    &nf.name,
                    format!("default {d} removed from field {}", nf.name),
                ),
                (Some(a), Some(b)) if a != b => push(
                    ChangeClass::Minor,
                    &nf.name,
                    format!("default of field {} changed from {a} to {b}", nf.name),
                ),
                _ => {}
            }
        }
        if of.description != nf.description {
            push(
                ChangeClass::Patch,
                &nf.name,
                format!("description of field {} changed", nf.name),
            );
        }
    }
    let common_old: Vec<&str> = old
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| new.field(n).is_some())
        .collect();
    let common_new: Vec<&str> = new
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| old.field(n).is_some())
        .collect();
    if common_old != common_new {
        push(ChangeClass::Patch, "", "fields reordered".to_owned());
    }
    out
}

fn classify_type_change(old: &FieldType, new: &FieldType, path: &str, out: &mut Vec<SchemaChange>) {
    if old == new {
        return;
    }
    let mut push = |class, description: String| {
        out.push(SchemaChange {
            class,
            path: path.to_owned(),
            description,
        });
    };
    match (old, new) {
        (
            FieldType::Enum {
                symbols: a,
                default: da,
            },
            FieldType::Enum {
                symbols: b,
                default: db,
            },
        ) => {
            if da != db {
                push(
                    ChangeClass::Minor,
                    format!(
                        "enum default of {path} {}",
                        match db {
                            Some(d) => format!("set to {d}"),
                            None => "removed".to_owned(),
                        }
                    ),
                );
            }
            let removed: Vec<&str> = a
                .iter()
                .filter(|s| !b.contains(s))
                .map(String::as_str)
                .collect();
            let added: Vec<&str> = b
                .iter()
                .filter(|s| !a.contains(s))
                .map(String::as_str)
                .collect();
            if !removed.is_empty() {
                push(
                    ChangeClass::Major,
                    format!("enum symbols removed from {path}: {}", removed.join(", ")),
                );
            }
            if !added.is_empty() {
                push(
                    ChangeClass::Minor,
                    format!("enum symbols added to {path}: {}", added.join(", ")),
                );
            }
            if removed.is_empty() && added.is_empty() {
                push(
                    ChangeClass::Patch,
                    format!("enum symbols of {path} reordered"),
                );
            }
        }
        (FieldType::Optional(a), FieldType::Optional(b)) => classify_type_change(a, b, path, out),
        (FieldType::Array(a), FieldType::Array(b)) => {
            classify_type_change(a, b, &format!("{path}[]"), out);
        }
        _ => push(
            ChangeClass::Major,
            format!(
                "type of {path} changed from {} to {}",
                old.display_name(),
                new.display_name()
            ),
        ),
    }
}

/// The semver class of the change from `old` to `new`: the maximum class of
/// [`schema_changes`], or [`ChangeClass::Patch`] when nothing but the version differs.
///
/// Examples (tested): adding an optional field (or one with a default) is `Minor`; removing a
/// field or adding a required one is `Major`; changing only descriptions is `Patch`.
pub fn classify_change(old: &MessageSchema, new: &MessageSchema) -> ChangeClass {
    schema_changes(old, new)
        .iter()
        .map(|c| c.class)
        .max()
        .unwrap_or(ChangeClass::Patch)
}

/// The class of the version bump from `old` to `new`, comparing `major.minor.patch` only:
/// `Major` if the major numbers differ, else `Minor` if the minor numbers differ, else
/// `Patch` (which includes pre-release changes such as `1.0.0-rc.1` -> `1.0.0`).
/// Returns `None` when `new` does not have greater SemVer precedence than `old` (build
/// metadata is ignored, as SemVer 2.0.0 item 10 requires).
pub fn bump_class(old: &Version, new: &Version) -> Option<ChangeClass> {
    if new.cmp_precedence(old) != std::cmp::Ordering::Greater {
        return None;
    }
    Some(if new.major != old.major {
        ChangeClass::Major
    } else if new.minor != old.minor {
        ChangeClass::Minor
    } else {
        ChangeClass::Patch
    })
}

/// The smallest version after `v` for a change of the given class (SemVer 2.0.0 items 6–8):
/// `Major` -> `(M+1).0.0`, `Minor` -> `M.(m+1).0`, `Patch` -> `M.m.(p+1)`; pre-release and
/// build metadata are cleared. Saturates at `u64::MAX` instead of overflowing.
pub fn next_version(v: &Version, class: ChangeClass) -> Version {
    match class {
        ChangeClass::Major => Version::new(v.major.saturating_add(1), 0, 0),
        ChangeClass::Minor => Version::new(v.major, v.minor.saturating_add(1), 0),
        ChangeClass::Patch => Version::new(v.major, v.minor, v.patch.saturating_add(1)),
    }
}

/// Whether data written with `writer` can always be read with `reader`: Avro 1.11 schema
/// resolution (specification section "Schema Resolution") succeeds for every datum `writer`
/// can produce. `Err` lists every reason it may fail, e.g.
/// `field email: reader field has no default and the writer has no such field`.
///
/// Rules: record names (unqualified) must be equal; each reader field must exist in the
/// writer or have a default (optional fields default to `null`); for common fields the
/// writer type must resolve to the reader type: same type, `int` promoted to `double`, enum
/// symbols of the writer all present in the reader, arrays item-wise, a writer `optional<T>`
/// only into a reader `optional<U>` (a `null` cannot be read by a non-optional reader), a
/// writer `T` into a reader `optional<U>` when `T` matches `U`. An invalid schema is reported
/// as a reason.
pub fn can_read(writer: &MessageSchema, reader: &MessageSchema) -> Result<(), Vec<String>> {
    let mut reasons = Vec::new();
    for (role, s) in [("writer", writer), ("reader", reader)] {
        if let Err(e) = s.check() {
            reasons.push(format!("{role} schema is invalid: {e}"));
        }
    }
    if !reasons.is_empty() {
        return Err(reasons);
    }
    if writer.simple_name() != reader.simple_name() {
        reasons.push(format!(
            "record names differ: writer {} vs reader {}",
            writer.simple_name(),
            reader.simple_name()
        ));
    }
    for rf in &reader.fields {
        match writer.field(&rf.name) {
            Some(wf) => type_problems(&wf.ty, &rf.ty, &rf.name, &mut reasons),
            None if rf.effective_default().is_none() => reasons.push(format!(
                "field {}: reader field has no default and the writer has no such field",
                rf.name
            )),
            None => {}
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}

fn type_problems(w: &FieldType, r: &FieldType, path: &str, out: &mut Vec<String>) {
    match (w, r) {
        (FieldType::Optional(wi), FieldType::Optional(ri)) => type_problems(wi, ri, path, out),
        (FieldType::Optional(wi), _) => {
            out.push(format!(
                "field {path}: writer type {} may write null but reader type {} is not optional",
                w.display_name(),
                r.display_name()
            ));
            type_problems(wi, r, path, out);
        }
        (_, FieldType::Optional(ri)) => {
            if matches(w, ri) {
                type_problems(w, ri, path, out);
            } else {
                out.push(format!(
                    "field {path}: writer type {} matches no branch of reader union {}",
                    w.display_name(),
                    r.display_name()
                ));
            }
        }
        (
            FieldType::Enum { symbols: ws, .. },
            FieldType::Enum {
                symbols: rs,
                default: rd,
            },
        ) => {
            let missing: Vec<&str> = ws
                .iter()
                .filter(|s| !rs.contains(s))
                .map(String::as_str)
                .collect();
            // A reader's enum default reads every symbol it lacks (Avro 1.11).
            if !missing.is_empty() && rd.is_none() {
                out.push(format!(
                    "field {path}: writer enum symbols missing from the reader: {}",
                    missing.join(", ")
                ));
            }
        }
        (FieldType::Array(wi), FieldType::Array(ri)) => {
            type_problems(wi, ri, &format!("{path}[]"), out);
        }
        _ if matches(w, r) => {}
        _ => out.push(format!(
            "field {path}: writer type {} does not match reader type {}",
            w.display_name(),
            r.display_name()
        )),
    }
}

/// Avro 1.11 "match" between a writer and a reader type (used to pick a reader union branch):
/// both arrays whose items match, both enums (our enum names are derived from the field name,
/// so they are equal), either is a union, same primitive type, or writer promotable to reader
/// (`long` -> `double`).
pub(super) fn matches(w: &FieldType, r: &FieldType) -> bool {
    match (w, r) {
        (FieldType::Optional(_), _) | (_, FieldType::Optional(_)) => true,
        (FieldType::Array(a), FieldType::Array(b)) => matches(a, b),
        (FieldType::Enum { .. }, FieldType::Enum { .. }) => true,
        (FieldType::Int, FieldType::Int | FieldType::Double) => true,
        (FieldType::String, FieldType::String)
        | (FieldType::Double, FieldType::Double)
        | (FieldType::Boolean, FieldType::Boolean) => true,
        _ => false,
    }
}

/// Confluent-style compatibility of `new` with `old` (see [`Compatibility`]):
/// `backward = can_read(writer = old, reader = new)`,
/// `forward = can_read(writer = new, reader = old)`, `full = backward && forward`.
pub fn compatibility(old: &MessageSchema, new: &MessageSchema) -> Compatibility {
    let backward_reasons = can_read(old, new).err().unwrap_or_default();
    let forward_reasons = can_read(new, old).err().unwrap_or_default();
    let backward = backward_reasons.is_empty();
    let forward = forward_reasons.is_empty();
    Compatibility {
        backward,
        forward,
        full: backward && forward,
        backward_reasons,
        forward_reasons,
    }
}
