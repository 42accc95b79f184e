//! Chosen messages at chosen virtual times: a workload's `script` and the `publish` command
//! ([`crate::Command::Publish`]) send one-way messages whose id, key and payload the test author
//! picks, instead of the `{n}`-numbered messages of a periodic workload.
//!
//! JSON of a script entry: `{"at_ms": 35, "id": 1000, "message": {"channel": "q", "kind":
//! "command", "type": "Do", "key": "k-x", "payload": {"total": 5}}}` (`message` is a
//! [`MessageTemplate`], sent as written: no `{n}` substitution).
//!
//! Message ids: the engine numbers messages 1, 2, 3… in the order it creates them. A chosen
//! `id` must be unique: every id a scenario's scripts and fault schedule choose is reserved when
//! the simulation is built, so the engine's numbering skips it; a `publish` applied live may
//! choose an id the engine has not reached yet and that no one reserved (it is then reserved
//! too). Without `id` the engine assigns the next number, deterministically.

use super::{ChannelKind, MessageTemplate, NodeKind, Scenario};
use crate::command::Command;
use crate::error::ScenarioError;
use crate::ranges;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most entries of one workload's `script`.
pub const MAX_SCRIPT: usize = 1_000;
/// Largest chosen message id: 2^53 − 1, the largest integer JavaScript represents exactly (the
/// JS API and the playground read ids as numbers).
pub const MAX_MESSAGE_ID: u64 = (1 << 53) - 1;
/// Longest `key` of a scripted or published message, in characters.
pub const MAX_KEY_CHARS: usize = 256;
/// Largest `payload` of a scripted or published message, as compact JSON, bytes (64 KiB, as an
/// encoded message on a channel with schemas).
pub const MAX_PAYLOAD_BYTES: usize = 65_536;
/// Deepest `payload` of a published message (levels of arrays and objects), so that the command
/// still fits a share link's JSON nesting bound ([`ranges::MAX_JSON_DEPTH`]).
pub const MAX_PAYLOAD_DEPTH: usize = 32;

/// One chosen message of a workload's `script`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedMessage {
    /// When it is published, ms after start (0–24 h; `start_ms` does not apply). Entries at the
    /// same time are published in script order.
    pub at_ms: u64,
    /// The message id (`m{id}` in the trace), 1–2^53−1, unique in the scenario; default: the
    /// engine's next number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The message, sent as written (one-way: no `reply_to`, `reply_timeout_ms`, `collect_ms`,
    /// `reply_type`; no `schema_version`, the producer writes its current version).
    pub message: MessageTemplate,
}

/// The checks of a scripted or published message that need no scenario: `type` a name, `key` at
/// most [`MAX_KEY_CHARS`], `payload` at most [`MAX_PAYLOAD_BYTES`] and [`MAX_PAYLOAD_DEPTH`]
/// deep, `id` within `1..=`[`MAX_MESSAGE_ID`], and none of the request or schema fields. `at`
/// prefixes the field paths (`workloads[0].script[2]`, `commands[1].command`).
pub fn check_fields(at: &str, id: Option<u64>, m: &MessageTemplate) -> Result<(), ScenarioError> {
    let f = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    if let Some(id) = id {
        ranges::int(f("id"), id, 1, MAX_MESSAGE_ID, "")?;
    }
    ranges::name(f("message.type"), &m.type_name, ranges::MAX_NAME)?;
    ranges::name(f("message.channel"), &m.channel, ranges::MAX_NAME)?;
    if let Some(k) = &m.key {
        let n = k.chars().count();
        ranges::int(
            f("message.key"),
            n as u64,
            0,
            MAX_KEY_CHARS as u64,
            "characters",
        )?;
    }
    for (name, set) in [
        ("reply_to", m.reply_to.is_some()),
        ("reply_timeout_ms", m.reply_timeout_ms.is_some()),
        ("collect_ms", m.collect_ms.is_some()),
        ("reply_type", m.reply_type.is_some()),
        ("schema_version", m.schema_version.is_some()),
    ] {
        if set {
            return Err(ScenarioError::Invalid {
                field: f(&format!("message.{name}")),
                message: "a scripted or published message is one-way and written with its \
                          producer's current schema version; declare requests and versions in \
                          a workload's `messages`"
                    .into(),
            });
        }
    }
    ranges::json_depth(&m.payload, MAX_PAYLOAD_DEPTH).map_err(|e| match e {
        ScenarioError::Invalid { field, message } => ScenarioError::Invalid {
            field: format!("{}.{field}", f("message.payload")),
            message,
        },
        other => other,
    })?;
    let bytes = serde_json::to_string(&m.payload).map_or(usize::MAX, |s| s.len());
    ranges::int(
        f("message.payload"),
        bytes as u64,
        0,
        MAX_PAYLOAD_BYTES as u64,
        "bytes of JSON",
    )
}

/// The checks against the scenario: `from` is a service, the channel exists and `from` reaches it
/// (a link to its broker, or to a direct channel's consumer). Errors name `at`'s fields.
pub fn check_route(
    sc: &Scenario,
    at: &str,
    from: &str,
    m: &MessageTemplate,
) -> Result<(), ScenarioError> {
    let f = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    let Some(n) = sc.node_index(from) else {
        return Err(ScenarioError::UnknownName {
            field: f("node"),
            name: from.to_string(),
        });
    };
    if sc.nodes[n].kind != NodeKind::Service {
        return Err(ScenarioError::Invalid {
            field: f("node"),
            message: format!("`{from}` is not a service"),
        });
    }
    let Some(c) = sc.channels.iter().find(|c| c.name == m.channel) else {
        return Err(ScenarioError::UnknownName {
            field: f("message.channel"),
            name: m.channel.clone(),
        });
    };
    let to = match c.kind {
        ChannelKind::Direct => c.consumers.first().map(String::as_str).unwrap_or(""),
        _ => c.broker.as_str(),
    };
    let linked = sc
        .links
        .iter()
        .any(|l| (l.a == from && l.b == to) || (l.a == to && l.b == from));
    if !linked {
        return Err(ScenarioError::Invalid {
            field: f("message.channel"),
            message: format!("no link between `{from}` and `{to}`"),
        });
    }
    Ok(())
}

/// Every id the scenario chooses (its workloads' scripts, its fault schedule's `publish`
/// commands), each with the field that chose it.
pub fn chosen_ids(sc: &Scenario) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for (i, w) in sc.workloads.iter().enumerate() {
        for (j, s) in w.script.iter().enumerate() {
            if let Some(id) = s.id {
                out.push((id, format!("workloads[{i}].script[{j}].id")));
            }
        }
    }
    for (i, fault) in sc.faults.iter().enumerate() {
        if let Command::Publish { id: Some(id), .. } = &fault.command {
            out.push((*id, format!("faults[{i}].command.id")));
        }
    }
    out
}

/// Validates every workload's `script` (at most [`MAX_SCRIPT`] entries, `at_ms` 0–24 h, the
/// message's fields and route) and that every chosen id is unique in the scenario.
pub fn validate(sc: &Scenario) -> Result<(), ScenarioError> {
    for (i, w) in sc.workloads.iter().enumerate() {
        ranges::int(
            format!("workloads[{i}].script"),
            w.script.len() as u64,
            0,
            MAX_SCRIPT as u64,
            "entries",
        )?;
        for (j, s) in w.script.iter().enumerate() {
            let at = format!("workloads[{i}].script[{j}]");
            ranges::ms(format!("{at}.at_ms"), s.at_ms, 0)?;
            check_fields(&at, s.id, &s.message)?;
            check_route(sc, &at, &w.from, &s.message).map_err(|e| match e {
                // The workload's sender is `from`, not `node`.
                ScenarioError::Invalid { field, message } if field.ends_with(".node") => {
                    ScenarioError::Invalid {
                        field: format!("workloads[{i}].from"),
                        message,
                    }
                }
                other => other,
            })?;
        }
    }
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    for (id, field) in chosen_ids(sc) {
        if let Some(first) = seen.get(&id) {
            return Err(ScenarioError::Invalid {
                field,
                message: format!("message id {id} is already chosen by {first}"),
            });
        }
        seen.insert(id, field);
    }
    Ok(())
}
