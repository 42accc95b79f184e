//! "What just happened" for message schemas: a producer starting to write a new version, a
//! reader accepting an older or newer writer's message (the robustness principle, by name),
//! a strict reader rejecting one (dead-lettered), a producer refusing an invalid payload, a
//! schema lookup that timed out.

use crate::explain::Tone;
use crate::subsystems::{count, Said};
use msgsim::{TraceEvent, TraceKind};
use std::collections::{BTreeMap, BTreeSet};

/// Pairs and tallies remembered.
const MAX_TRACKED: usize = 1_024;

/// `major.minor.patch` of `Name@1.2.3` or `1.2.3` (missing parts are 0).
pub fn version_of(s: &str) -> (u64, u64, u64) {
    let v = s.rsplit('@').next().unwrap_or(s);
    let mut it = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// The semantic-versioning name of the step from `a` to `b`: `major`, `minor`, `patch`, or
/// `same version` (equal versions are never called a patch).
pub fn semver_step(a: (u64, u64, u64), b: (u64, u64, u64)) -> &'static str {
    if a == b {
        "same version"
    } else if a.0 != b.0 {
        "major"
    } else if a.1 != b.1 {
        "minor"
    } else {
        "patch"
    }
}

/// The schema explainer. Feed it every event, in order.
#[derive(Clone, Debug, Default)]
pub struct SchemaExplainer {
    /// (producer service, writer schema) pairs already said.
    writes: BTreeSet<(String, String)>,
    tally: BTreeMap<String, u64>,
}

impl SchemaExplainer {
    fn bump(&mut self, key: &str) -> u64 {
        let n = self.tally.get(key).copied().unwrap_or(0) + 1;
        if !self.tally.contains_key(key) && self.tally.len() >= MAX_TRACKED {
            self.tally.pop_first();
        }
        self.tally.insert(key.to_string(), n);
        n
    }

    /// What this event adds to the explanation, if anything.
    pub fn feed(&mut self, ev: &TraceEvent) -> Vec<Said> {
        let mut out = Vec::new();
        match &ev.what {
            TraceKind::Encode {
                at,
                msg,
                schema,
                schema_id,
                encoding,
                json_bytes,
                avro_bytes,
            } => {
                let k = (at.node.to_string(), schema.to_string());
                if !self.writes.contains(&k) && self.writes.len() < MAX_TRACKED {
                    let before = self
                        .writes
                        .iter()
                        .filter(|(n, s)| {
                            *n == k.0 && s.split('@').next() == schema.split('@').next()
                        })
                        .map(|(_, s)| s.clone())
                        .max_by_key(|s| version_of(s));
                    self.writes.insert(k);
                    let step = before
                        .map(|b| {
                            format!(
                                ", a {} release after {}",
                                semver_step(version_of(&b), version_of(schema)),
                                b.rsplit('@').next().unwrap_or(&b)
                            )
                        })
                        .unwrap_or_default();
                    out.push(Said::new(
                        Tone::Normal,
                        Some(*msg),
                        format!(
                            "{at} writes {schema} now{step} (registry id {schema_id}, in the headers of {msg}); on the wire as {encoding}: {json_bytes} B in JSON, {avro_bytes} B in Avro."
                        ),
                    ));
                }
            }
            TraceKind::ProduceRejected { at, msg, reason } => out.push(Said::new(
                Tone::Loss,
                Some(*msg),
                format!(
                    "{at} refused to send {msg}: {reason}. A producer checks a payload against its writer schema before it sends, so no reader ever sees it."
                ),
            )),
            TraceKind::Decode {
                at,
                msg,
                writer,
                reader,
                mode,
                rejected,
            } => {
                let (w, r) = (version_of(writer), version_of(reader));
                match rejected {
                    Some(reason) => {
                        let key = format!("reject/{}/{writer}", at.node);
                        let n = self.bump(&key);
                        out.push(Said::keyed(
                            Tone::Loss,
                            key,
                            Some(*msg),
                            format!(
                                "{} rejected {} written with {writer} (a {} step from its reader {reader}, {mode}); the last, {msg}: {reason}. Rejected messages go to the dead-letter queue.",
                                at.node,
                                count(n, "message"),
                                semver_step(r, w)
                            ),
                        ));
                    }
                    None if w != r => {
                        let key = format!("accept/{}/{writer}/{reader}", at.node);
                        let n = self.bump(&key);
                        let how = if (w.0, w.1) == (r.0, r.1) {
                            "the versions differ only in the patch number, so nothing a reader sees changed (a patch release: a description or a fix)".to_string()
                        } else if w > r {
                            format!("the newer writer (a {} version ahead) may send fields the reader does not know: the {mode} reader ignores them. That is the robustness principle's second half, be liberal in what you accept (its first half, be conservative in what you send, is the writer adding only optional fields with defaults)", semver_step(r, w))
                        } else {
                            format!("the older writer (a {} version behind) lacks fields the reader has: the reader fills them with its schema's defaults. That is the robustness principle: the receiver supplies defaults for missing attributes, and the writer sends only what its version defines", semver_step(w, r))
                        };
                        out.push(Said::keyed(
                            Tone::Normal,
                            key,
                            Some(*msg),
                            format!(
                                "{} read {} written with {writer} using its reader {reader}; the last, {msg}: {how}.",
                                at.node,
                                count(n, "message"),
                            ),
                        ));
                    }
                    None => {}
                }
            }
            TraceKind::LookupTimeout { at, msg, schema_id } => out.push(Said::new(
                Tone::Retry,
                Some(*msg),
                format!(
                    "{at} could not fetch schema id {schema_id} from the schema registry in time, so it cannot decode {msg}: it nacks it and the broker delivers it again."
                ),
            )),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_steps_are_named_and_equal_versions_are_not_a_patch() {
        assert_eq!(version_of("Order@1.10.2"), (1, 10, 2));
        assert_eq!(semver_step((1, 0, 0), (1, 0, 0)), "same version");
        assert_eq!(semver_step((1, 0, 0), (1, 0, 1)), "patch");
        assert_eq!(semver_step((1, 0, 0), (1, 1, 0)), "minor");
        assert_eq!(semver_step((1, 1, 0), (2, 0, 0)), "major");
    }
}
