//! A deterministic in-memory schema registry (Confluent Schema Registry style).

use std::collections::BTreeMap;
use std::fmt;

use semver::Version;
use serde::{Deserialize, Serialize};
#[cfg(feature = "avro")]
use serde_json::Value;

#[cfg(feature = "avro")]
use super::avro::decode_avro;
use super::error::SchemaError;
use super::evolution::{bump_class, can_read, schema_changes, ChangeClass};
use super::types::MessageSchema;

/// Registry-assigned schema id: the value that travels in a message's headers so that a
/// consumer can find the writer schema. Ids start at 1 and increase by one per new
/// registration, in registration order (deterministic). Serialized as a bare integer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct SchemaId(pub u32);

impl fmt::Display for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Compatibility a subject enforces when a new version is registered, checked against the
/// subject's latest version, as Confluent Schema Registry defines the (non-transitive) levels
/// (see [`super::Compatibility`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum CompatibilityLevel {
    /// No check.
    None,
    /// New schema can read data written with the latest one (Confluent's default).
    #[default]
    Backward,
    /// Latest schema can read data written with the new one.
    Forward,
    /// Both.
    Full,
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompatibilityLevel::None => "NONE",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::Full => "FULL",
        })
    }
}

/// One registry entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredSchema {
    /// Assigned id.
    pub id: SchemaId,
    /// Subject (e.g. a channel name such as `users.created-value`).
    pub subject: String,
    /// The schema; its `version` is the entry's version.
    pub schema: MessageSchema,
}

/// Schema registry: assigns a [`SchemaId`] to each `(subject, version)` and looks schemas up
/// by id or by `(subject, version)`. Backed by `BTreeMap`s, so iteration orders are
/// deterministic (ids ascending; subjects lexicographic; versions by SemVer order).
///
/// Registration rules (see [`SchemaRegistry::register`]): the schema must pass
/// [`MessageSchema::check`]; re-registering an identical schema is idempotent; a new version
/// must have greater SemVer precedence than the subject's latest; it must satisfy the
/// registry's [`CompatibilityLevel`] against the latest (default
/// [`CompatibilityLevel::Backward`]); and, when semver enforcement is on (default), the
/// version bump must be at least the [`super::classify_change`] class of the change, except
/// when the latest version is `0.y.z` or a pre-release (SemVer 2.0.0 items 4 and 9 make no
/// stability promise there).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRegistry {
    level: CompatibilityLevel,
    enforce_semver: bool,
    next_id: u32,
    by_id: BTreeMap<SchemaId, RegisteredSchema>,
    by_subject: BTreeMap<String, BTreeMap<Version, SchemaId>>,
}

impl Default for SchemaRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaRegistry {
    /// Empty registry, [`CompatibilityLevel::Backward`], semver enforcement on.
    pub fn new() -> Self {
        SchemaRegistry {
            level: CompatibilityLevel::Backward,
            enforce_semver: true,
            next_id: 1,
            by_id: BTreeMap::new(),
            by_subject: BTreeMap::new(),
        }
    }

    /// Builder-style: set the compatibility level checked on registration.
    pub fn with_compatibility(mut self, level: CompatibilityLevel) -> Self {
        self.level = level;
        self
    }

    /// Builder-style: turn the semver bump check on or off.
    pub fn with_semver_enforcement(mut self, on: bool) -> Self {
        self.enforce_semver = on;
        self
    }

    /// The compatibility level checked on registration.
    pub fn compatibility_level(&self) -> CompatibilityLevel {
        self.level
    }

    /// Registers `schema` under `subject` and returns its id.
    ///
    /// Errors: [`SchemaError::InvalidSchema`] (invalid schema or empty subject),
    /// [`SchemaError::VersionConflict`] (same version, different schema),
    /// [`SchemaError::VersionNotIncreasing`], [`SchemaError::Incompatible`],
    /// [`SchemaError::VersionBumpTooSmall`], [`SchemaError::InvalidApi`] when the 2^32-1 ids
    /// are exhausted. On error the registry is unchanged.
    pub fn register(
        &mut self,
        subject: &str,
        schema: MessageSchema,
    ) -> Result<SchemaId, SchemaError> {
        schema.check()?;
        if subject.is_empty() {
            return Err(SchemaError::InvalidSchema {
                schema: schema.name.clone(),
                reason: "registry subject is empty".to_owned(),
            });
        }
        if let Some(id) = self.id_of(subject, &schema.version) {
            let same = self.by_id.get(&id).is_some_and(|e| e.schema == schema);
            return if same {
                Ok(id)
            } else {
                Err(SchemaError::VersionConflict {
                    subject: subject.to_owned(),
                    version: schema.version.to_string(),
                })
            };
        }
        if let Some(latest) = self.latest(subject) {
            let latest = &latest.schema;
            let Some(actual) = bump_class(&latest.version, &schema.version) else {
                return Err(SchemaError::VersionNotIncreasing {
                    subject: subject.to_owned(),
                    version: schema.version.to_string(),
                    latest: latest.version.to_string(),
                });
            };
            let mut reasons = Vec::new();
            let (check_backward, check_forward) = match self.level {
                CompatibilityLevel::None => (false, false),
                CompatibilityLevel::Backward => (true, false),
                CompatibilityLevel::Forward => (false, true),
                CompatibilityLevel::Full => (true, true),
            };
            if check_backward {
                if let Err(r) = can_read(latest, &schema) {
                    reasons.extend(r.into_iter().map(|r| format!("backward: {r}")));
                }
            }
            if check_forward {
                if let Err(r) = can_read(&schema, latest) {
                    reasons.extend(r.into_iter().map(|r| format!("forward: {r}")));
                }
            }
            if !reasons.is_empty() {
                return Err(SchemaError::Incompatible {
                    subject: subject.to_owned(),
                    level: self.level.to_string(),
                    reasons,
                });
            }
            let unstable = latest.version.major == 0 || !latest.version.pre.is_empty();
            if self.enforce_semver && !unstable {
                let changes = schema_changes(latest, &schema);
                let required = changes
                    .iter()
                    .map(|c| c.class)
                    .max()
                    .unwrap_or(ChangeClass::Patch);
                if actual < required {
                    return Err(SchemaError::VersionBumpTooSmall {
                        subject: subject.to_owned(),
                        latest: latest.version.to_string(),
                        version: schema.version.to_string(),
                        required,
                        actual,
                        reasons: changes
                            .into_iter()
                            .filter(|c| c.class > actual)
                            .map(|c| c.description)
                            .collect(),
                    });
                }
            }
        }
        let id = SchemaId(self.next_id);
        self.next_id = self
            .next_id
            .checked_add(1)
            .ok_or_else(|| SchemaError::InvalidApi("schema ids exhausted".to_owned()))?;
        self.by_subject
            .entry(subject.to_owned())
            .or_default()
            .insert(schema.version.clone(), id);
        self.by_id.insert(
            id,
            RegisteredSchema {
                id,
                subject: subject.to_owned(),
                schema,
            },
        );
        Ok(id)
    }

    /// The entry with this id.
    pub fn get(&self, id: SchemaId) -> Option<&RegisteredSchema> {
        self.by_id.get(&id)
    }

    /// The schema with this id. Errors: [`SchemaError::UnknownSchemaId`].
    pub fn schema(&self, id: SchemaId) -> Result<&MessageSchema, SchemaError> {
        self.get(id)
            .map(|e| &e.schema)
            .ok_or(SchemaError::UnknownSchemaId(id))
    }

    /// The id of `(subject, version)` (exact version match, build metadata included).
    pub fn id_of(&self, subject: &str, version: &Version) -> Option<SchemaId> {
        self.by_subject.get(subject)?.get(version).copied()
    }

    /// The subject's entry with the greatest version.
    pub fn latest(&self, subject: &str) -> Option<&RegisteredSchema> {
        let (_, id) = self.by_subject.get(subject)?.iter().next_back()?;
        self.by_id.get(id)
    }

    /// The subject's versions, ascending (empty for an unknown subject).
    pub fn versions(&self, subject: &str) -> Vec<&Version> {
        self.by_subject
            .get(subject)
            .map(|m| m.keys().collect())
            .unwrap_or_default()
    }

    /// All subjects, lexicographically.
    pub fn subjects(&self) -> Vec<&str> {
        self.by_subject.keys().map(String::as_str).collect()
    }

    /// All entries by ascending id.
    pub fn entries(&self) -> impl Iterator<Item = &RegisteredSchema> {
        self.by_id.values()
    }

    /// Number of registered schemas.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Decodes an Avro datum whose writer schema id came in the message headers, resolving it
    /// into `reader`'s shape (see [`super::decode_avro`]).
    ///
    /// Errors: [`SchemaError::UnknownSchemaId`], then those of [`super::decode_avro`].
    #[cfg(feature = "avro")]
    pub fn decode_avro(
        &self,
        writer_id: SchemaId,
        reader: &MessageSchema,
        bytes: &[u8],
    ) -> Result<Value, SchemaError> {
        decode_avro(self.schema(writer_id)?, reader, bytes)
    }
}
