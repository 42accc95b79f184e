//! "What just happened" for Kafka-style partitioned topics: rebalances (which member got which
//! partitions), revoked and assigned partitions with the offset a consumer starts from, producer
//! retries and the idempotent producer's duplicate detection, refused commits, records processed
//! twice after a rebalance, records dropped under at-most-once.

use crate::explain::Tone;
use crate::subsystems::{and_list, count, Said};
use msgsim::trace::CommitVerdict;
use msgsim::{MessageId, TraceEvent, TraceKind};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Tallies and (service, message) pairs remembered.
const MAX_TRACKED: usize = 50_000;

fn parts(p: &[u32]) -> String {
    if p.is_empty() {
        "no partition".to_string()
    } else {
        and_list(&p.iter().map(|x| x.to_string()).collect::<Vec<_>>())
    }
}

/// The partitioned-topic explainer. Feed it every event, in order.
#[derive(Clone, Debug, Default)]
pub struct KafkaExplainer {
    tally: BTreeMap<String, u64>,
    /// (service, message) consumed with an effect.
    consumed: BTreeSet<(String, MessageId)>,
    consumed_order: VecDeque<(String, MessageId)>,
    /// Workers per partition in force, by group id (and by `channel/consumer`, as
    /// `set_consumer_group` names it): above 1, a partition's records complete out of order.
    workers: BTreeMap<String, u32>,
    /// `channel/consumer` → group id.
    group_of: BTreeMap<String, String>,
    /// (group, workers) whose ordering consequence was said: said once, at the first
    /// rebalance, not on every one (it is a side note to what a rebalance does).
    order_said: BTreeSet<(String, u32)>,
}

impl KafkaExplainer {
    /// An explainer that knows the scenario's consumer groups (their workers per partition).
    pub fn new(scenario: &msgsim::Scenario) -> KafkaExplainer {
        let mut k = KafkaExplainer::default();
        for c in &scenario.channels {
            for g in &c.consumer_groups {
                let id = g.group.clone().unwrap_or_else(|| g.consumer.clone());
                k.group_of
                    .insert(format!("{}/{}", c.name, g.consumer), id.clone());
                k.workers.insert(id, g.workers_per_partition);
            }
        }
        k
    }

    /// Notes a `set_consumer_group` command (its trace line `set_consumer_group
    /// <channel>/<consumer> workers_per_partition=<n>`).
    fn note_command(&mut self, command: &str) {
        let Some(rest) = command.strip_prefix("set_consumer_group ") else {
            return;
        };
        let mut it = rest.split(' ');
        let (Some(target), Some(n)) = (it.next(), it.next()) else {
            return;
        };
        let Some(n) = n
            .strip_prefix("workers_per_partition=")
            .and_then(|v| v.parse::<u32>().ok())
        else {
            return;
        };
        let id = self
            .group_of
            .get(target)
            .cloned()
            .unwrap_or_else(|| target.rsplit('/').next().unwrap_or(target).to_string());
        self.workers.insert(id, n);
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
            TraceKind::Command { command } => self.note_command(command),
            TraceKind::Rebalance {
                group,
                topic,
                generation,
                assignment,
                ..
            } => {
                let who: Vec<String> = assignment
                    .iter()
                    .map(|(m, p)| format!("{m} gets {}", parts(p)))
                    .collect();
                let workers = self.workers.get(&**group).copied().unwrap_or(1);
                let first = self.order_said.insert((group.to_string(), workers));
                let order = if !first {
                    String::new()
                } else if workers > 1 {
                    format!(
                        " Each partition has exactly one consumer in the group, but each consumer runs {workers} workers per partition: records of one partition complete out of order, so order per key is not kept."
                    )
                } else {
                    " Each partition has exactly one consumer in the group, which processes it in offset order, so order per key holds.".to_string()
                };
                // A member id `billing#2.1` is instance billing#2's second member id (the engine
                // gives an instance a new one when it joins again: after a restart, or after the
                // coordinator dropped it): say so once per sentence.
                let rejoined: Vec<String> = assignment
                    .iter()
                    .filter_map(|(m, _)| {
                        let (inst, n) = m.rsplit_once('.')?;
                        let n: u32 = n.parse().ok()?;
                        inst.contains('#').then(|| {
                            format!("{m} is {inst} under its member id number {}", n + 1)
                        })
                    })
                    .collect();
                let ids = if rejoined.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({}: an instance that joins the group again, after a restart or after the coordinator dropped it, gets a new member id)",
                        and_list(&rejoined)
                    )
                };
                out.push(Said::new(
                    Tone::Retry,
                    None,
                    format!(
                        "Group {group} rebalanced {topic} (generation {generation}): {}{ids}.{order}",
                        and_list(&who)
                    ),
                ));
            }
            TraceKind::Revoke {
                at,
                group,
                topic,
                partitions,
            } if !partitions.is_empty() => out.push(Said::new(
                Tone::Retry,
                None,
                format!(
                    "{at} gave up {topic} {} {} (group {group}): it stops fetching {}; what it processed but did not commit will be processed again by the next owner.",
                    if partitions.len() == 1 { "partition" } else { "partitions" },
                    parts(partitions),
                    if partitions.len() == 1 { "it" } else { "them" }
                ),
            )),
            TraceKind::Assign {
                at,
                topic,
                generation,
                partitions,
                ..
            } => {
                let what: Vec<String> = partitions
                    .iter()
                    .map(|(p, o)| match o {
                        Some(o) => format!("{topic}-{p} from committed offset {o}"),
                        None => format!("{topic}-{p} from the start (no commit yet)"),
                    })
                    .collect();
                if !what.is_empty() {
                    out.push(Said::new(
                        Tone::Normal,
                        None,
                        format!(
                            "{at} was assigned {} in generation {generation}.",
                            and_list(&what)
                        ),
                    ));
                }
            }
            TraceKind::MemberRemoved {
                group,
                member,
                reason,
                ..
            } => out.push(Said::new(
                Tone::Loss,
                None,
                format!(
                    "The group coordinator removed {member} from {group} ({reason}); its partitions go to the others at the next rebalance."
                ),
            )),
            TraceKind::ProduceRetry {
                at,
                tp,
                msg,
                attempt,
                error,
            } => {
                let key = format!("produce-retry/{at}");
                let n = self.bump(&key);
                out.push(Said::keyed(
                    Tone::Retry,
                    key,
                    Some(*msg),
                    format!(
                        "{at} resent {} after retry.backoff.ms; the last, {msg} to {tp}, attempt {attempt} after {error}.",
                        count(n, "record")
                    ),
                ));
            }
            TraceKind::DuplicateAppend {
                tp, msg, offset, ..
            } => {
                let key = "dup-append".to_string();
                let n = self.bump(&key);
                out.push(Said::keyed(
                    Tone::Duplicate,
                    key,
                    Some(*msg),
                    format!(
                        "The broker recognised {} already in the log by the idempotent producer's sequence number and appended nothing; the last, {msg}, is at {tp} offset {offset}.",
                        count(n, "retried record")
                    ),
                ));
            }
            TraceKind::AppendRejected { tp, msg, error, .. } => out.push(Said::new(
                Tone::Loss,
                Some(*msg),
                format!("The broker refused {msg} on {tp}: {error}; nothing was appended."),
            )),
            TraceKind::ProduceFailed { at, tp, msg, error } => out.push(Said::new(
                Tone::Loss,
                Some(*msg),
                format!("{at} gave {msg} up on {tp} ({error}): the record is lost."),
            )),
            TraceKind::ProducerEpochBump {
                at,
                producer_id,
                epoch,
            } => out.push(Said::new(
                Tone::Retry,
                None,
                format!(
                    "{at} (producer id {producer_id}) bumped its epoch to {epoch} and renumbered its pending records, so the broker accepts their sequence again (KIP-360)."
                ),
            )),
            TraceKind::Consume {
                at,
                tp,
                offset,
                msg,
                applied,
                owned,
            } => {
                if !owned {
                    out.push(Said::new(
                        Tone::Duplicate,
                        Some(*msg),
                        format!(
                            "{at} finished {msg} ({tp} offset {offset}) after its partition was revoked: its commit will not count, so the new owner processes {msg} again (at-least-once)."
                        ),
                    ));
                } else if *applied {
                    let k = (at.node.to_string(), *msg);
                    if self.consumed.contains(&k) {
                        out.push(Said::new(
                            Tone::Duplicate,
                            Some(*msg),
                            format!(
                                "{at} processed {msg} ({tp} offset {offset}) a second time: the offset after it had not been committed when the partition changed hands, so at-least-once delivered it again."
                            ),
                        ));
                    } else {
                        if self.consumed_order.len() >= MAX_TRACKED {
                            if let Some(old) = self.consumed_order.pop_front() {
                                self.consumed.remove(&old);
                            }
                        }
                        self.consumed.insert(k.clone());
                        self.consumed_order.push_back(k);
                    }
                } else {
                    out.push(Said::new(
                        Tone::Duplicate,
                        Some(*msg),
                        format!(
                            "{at} discarded a repeat of {msg} ({tp} offset {offset}): its processed-messages table had it."
                        ),
                    ));
                }
            }
            TraceKind::RecordsDropped {
                at,
                tp,
                offsets,
                reason,
            } => out.push(Said::new(
                Tone::Loss,
                None,
                format!(
                    "{at} dropped {} of {tp} unprocessed ({reason}): at-most-once commits before processing, so nobody processes them.",
                    count(offsets.len() as u64, "record")
                ),
            )),
            TraceKind::OffsetCommit {
                member,
                tp,
                offset,
                verdict: CommitVerdict::Rejected { error },
                ..
            } => out.push(Said::new(
                Tone::Loss,
                None,
                format!(
                    "The coordinator refused {member}'s commit of {tp} offset {offset}: {error}. The records before it will be processed again by the partition's owner."
                ),
            )),
            TraceKind::CommitFailed {
                at,
                group,
                error,
                queued,
            } => out.push(Said::new(
                Tone::Retry,
                None,
                format!(
                    "{at}'s offset commit for {group} failed ({error}){}.",
                    if *queued {
                        "; it retries the commit"
                    } else {
                        "; it gives it up"
                    }
                ),
            )),
            _ => {}
        }
        out
    }
}
