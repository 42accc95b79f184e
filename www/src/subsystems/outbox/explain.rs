//! "What just happened" for transactional messaging: transactions rolled back (and why nothing
//! is published then), a relay's republish after a crash (the at-least-once of the outbox), a
//! relay stopping, replicas answering while their source is down or ignoring older versions.

use crate::explain::Tone;
use crate::subsystems::{count, Said};
use msgsim::outbox::spec::Strategy;
use msgsim::outbox::view::RollbackReason;
use msgsim::outbox::{MarkMode, RelayMode};
use msgsim::scenario::Scenario;
use msgsim::{TraceEvent, TraceKind};
use std::collections::{BTreeMap, BTreeSet};

/// The transactional-messaging explainer. Feed it every event, in order.
#[derive(Clone, Debug, Default)]
pub struct OutboxExplainer {
    /// Relay node → (service, mode, after publish).
    relays: BTreeMap<String, (String, RelayMode, MarkMode)>,
    /// Replica service → source service.
    replicas: BTreeMap<String, String>,
    /// Relays that crashed and have not read since.
    crashed: BTreeSet<String>,
    tally: BTreeMap<String, u64>,
    /// Services that write with a dual write instead of an outbox, and how.
    dual: BTreeMap<String, Strategy>,
}

impl OutboxExplainer {
    /// An explainer for runs of `scenario` (its relays and replicas).
    pub fn new(scenario: &Scenario) -> OutboxExplainer {
        OutboxExplainer {
            relays: scenario
                .transactional
                .relays
                .iter()
                .map(|r| (r.node.clone(), (r.service.clone(), r.mode, r.after_publish)))
                .collect(),
            replicas: scenario
                .transactional
                .replicas
                .iter()
                .map(|r| (r.service.clone(), r.source.clone()))
                .collect(),
            dual: scenario
                .workloads
                .iter()
                .filter_map(|w| {
                    let Some(msgsim::outbox::OperationSpec::Write(op)) = w.operation.as_ref()
                    else {
                        return None;
                    };
                    (op.strategy != Strategy::Outbox).then(|| (w.from.clone(), op.strategy))
                })
                .collect(),
            ..OutboxExplainer::default()
        }
    }

    /// What a crash at an armed failpoint means for a service that writes with a dual write
    /// (`None` for relays and outbox services: the general sentence fits them).
    pub fn failpoint_sentence(
        &self,
        node: &str,
        point: msgsim::outbox::CrashPoint,
    ) -> Option<String> {
        use msgsim::outbox::CrashPoint;
        let strategy = self.dual.get(node)?;
        Some(match (strategy, point) {
            (_, CrashPoint::BeforeCommit) => {
                "its transaction rolls back and leaves nothing".to_string()
            }
            (Strategy::PublishThenCommit, CrashPoint::AfterPublish) => {
                "its event is published but the commit never happens: a phantom event (no outbox, no relay to retry from)".to_string()
            }
            (Strategy::CommitThenPublish, CrashPoint::AfterCommit) => {
                "the change is committed but the event is never published: a lost event (no outbox, no relay to publish it later)".to_string()
            }
            (_, CrashPoint::AfterCommit) => {
                "the change is committed; what comes next never happens".to_string()
            }
            (_, CrashPoint::AfterPublish) => {
                "its event is published; what comes next never happens".to_string()
            }
        })
    }

    fn bump(&mut self, key: &str) -> u64 {
        let n = self.tally.get(key).copied().unwrap_or(0) + 1;
        if !self.tally.contains_key(key) && self.tally.len() >= 1_024 {
            self.tally.pop_first();
        }
        self.tally.insert(key.to_string(), n);
        n
    }

    /// What this event adds to the explanation, if anything.
    pub fn feed(&mut self, ev: &TraceEvent) -> Vec<Said> {
        let mut out = Vec::new();
        match &ev.what {
            TraceKind::FailpointCrash { at, .. } if self.relays.contains_key(&*at.node) => {
                self.crashed.insert(at.node.to_string());
            }
            TraceKind::Command { command } => {
                for r in self.relays.keys() {
                    if command.starts_with(&format!("crash {r}#")) {
                        self.crashed.insert(r.clone());
                    }
                }
            }
            TraceKind::RelayRead {
                at,
                records,
                after_lsn,
            } if *records > 0 && self.crashed.remove(&*at.node) => {
                let (service, mode, mark) = self
                    .relays
                    .get(&*at.node)
                    .cloned()
                    .unwrap_or((String::new(), RelayMode::Polling, MarkMode::Mark));
                let from = match (mode, after_lsn) {
                    (RelayMode::LogTailing, Some(l)) => format!(
                        "{service}'s commit log after its last saved position, LSN {l}"
                    ),
                    _ => format!(
                        "{service}'s OUTBOX rows not yet {}",
                        if mark == MarkMode::Delete { "deleted" } else { "marked" }
                    ),
                };
                out.push(Said::new(
                    Tone::Retry,
                    None,
                    format!(
                        "{at} runs again after its crash and read {} from {from}: those it had already published before the crash go to the broker a second time. The outbox guarantees at-least-once, so consumers must deduplicate.",
                        count(u64::from(*records), "record")
                    ),
                ));
            }
            TraceKind::TxRollback { at, tx, reason } => {
                let why = match reason {
                    RollbackReason::Crash => "its instance crashed before the commit",
                    RollbackReason::Abort => "the commit was aborted",
                    RollbackReason::TableFull => "a table was full",
                    RollbackReason::LogFull => {
                        "the commit log is full of records a relay has not read yet"
                    }
                };
                let text = match self.dual.get(&*at.node) {
                    Some(Strategy::PublishThenCommit) => format!(
                        "{at}'s transaction tx{tx} rolled back ({why}) after its event was already published: a phantom event, consumers act on a change that never happened. A dual write (publish, then commit) has no outbox to make both or neither."
                    ),
                    Some(_) => format!(
                        "{at}'s transaction tx{tx} rolled back ({why}): nothing committed and, since it publishes only after the commit, nothing published."
                    ),
                    None => format!(
                        "{at}'s transaction tx{tx} rolled back ({why}): neither its business row nor its OUTBOX row exists, so no event is published for it. Both or neither: that is what the outbox buys."
                    ),
                };
                out.push(Said::new(Tone::Loss, None, text));
            }
            TraceKind::RelayStop { at, position } => out.push(Said::new(
                Tone::Normal,
                None,
                if *position > 0 {
                    format!("{at} stopped gracefully with its position saved at LSN {position}: it resumes from there.")
                } else {
                    format!("{at} stopped gracefully after marking what it published.")
                },
            )),
            TraceKind::ReplicaQuery {
                at,
                key,
                hit,
                source_down: true,
            } => {
                let k = format!("replica-down/{}", at.node);
                let n = self.bump(&k);
                let source = self
                    .replicas
                    .get(&*at.node)
                    .cloned()
                    .unwrap_or_else(|| "its source".into());
                out.push(Said::keyed(
                    if *hit { Tone::Normal } else { Tone::Loss },
                    k,
                    None,
                    format!(
                        "{} answered {} from its replica while {source} is down (the last, key {key}: {}). A replica keeps reads working when the owner is unavailable.",
                        at.node,
                        count(n, "query"),
                        if *hit { "found" } else { "not replicated yet" }
                    ),
                ));
            }
            TraceKind::ReplicaApply {
                at,
                key,
                version,
                applied: false,
                ..
            } => {
                let k = format!("replica-old/{}", at.node);
                let n = self.bump(&k);
                out.push(Said::keyed(
                    Tone::Duplicate,
                    k,
                    None,
                    format!(
                        "{} ignored {} older than what its replica holds (the last, key {key} at version {version}): replicas apply by version, so a late or repeated event cannot undo a newer one.",
                        at.node,
                        count(n, "event")
                    ),
                ));
            }
            _ => {}
        }
        out
    }
}
