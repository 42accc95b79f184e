//! Consumer groups: membership, generations, rebalances, assignment and committed offsets, with
//! the states and error codes of Kafka's classic group coordinator (`GroupCoordinator`,
//! `GroupMetadata`), as a pure state machine.
//!
//! # Membership and rebalances
//!
//! A group has members (ids chosen by the host, ordered by id), a **generation** id and a state:
//!
//! ```text
//!            join / leave / member_failed                complete_join            complete_sync
//! Empty|Stable ───────────────────────────► PreparingRebalance ─────────► CompletingRebalance ─────────► Stable
//!                                              ▲   (generation + 1,                │
//!                                              │    assignment computed)           │
//!                                              └── join / leave / member_failed ───┘
//! ```
//!
//! * [`GroupCoordinator::join`], [`GroupCoordinator::leave`] and
//!   [`GroupCoordinator::member_failed`] change the membership and start a rebalance
//!   (`PreparingRebalance`). Session-timeout detection is the host's job: it calls `member_failed`
//!   when it decides a member is dead.
//! * [`GroupCoordinator::complete_join`] ends the join phase (in Kafka: when every member has
//!   rejoined or the rebalance timeout expired; here: when the host says so). It increments the
//!   generation — **every rebalance gets a new generation** — computes the assignment with the
//!   group's [`AssignmentStrategy`] and returns a [`Rebalance`] listing, per member, the
//!   partitions revoked and assigned, for the UI to animate. With no member left the group becomes
//!   `Empty`.
//! * [`GroupCoordinator::complete_sync`] ends the sync phase: the members now have their
//!   assignment (`Stable`). [`GroupCoordinator::rebalance`] does both steps at once.
//!
//! The Range and RoundRobin assignors only support Kafka's **eager** rebalance protocol: each
//! member gives up all its partitions when the rebalance starts and gets its new set at the end.
//! [`MemberRebalance`] therefore carries `owned_before` and `owned_after`, and also the net
//! movement (`revoked`, `assigned`) that the UI animates.
//!
//! # Committed offsets
//!
//! A commit ([`CommitRequest`]) carries the member id and the generation the member knows. The
//! coordinator checks, in Kafka's order: the member must be in the group (`UNKNOWN_MEMBER_ID`);
//! the generation must be the current one (`ILLEGAL_GENERATION`: the member missed a
//! rebalance); the group must not be between the end of the join phase and the end of the sync
//! phase (`REBALANCE_IN_PROGRESS`; commits are accepted while `PreparingRebalance`, so that members
//! can commit as they give up their partitions); every partition must belong to a subscribed
//! topic. Then, **msgsim's rule: a committed offset only moves forward.** A commit at or below the
//! partition's committed offset is accepted but changes nothing (`advanced: false`). Kafka itself
//! stores whatever offset is committed, which lets a late retry of an old commit rewind the group
//! and make the next owner reprocess records; msgsim forbids that so that "the committed offset
//! never decreases" holds under any interleaving. As in Kafka, a commit is not checked against
//! the member's assignment.
//!
//! A committed offset is the offset of the *next* record to consume (everything below it is
//! done). **Lag** per partition is `log-end offset − committed offset` ([`GroupCoordinator::lag`]).

use super::assignor::{assign, AssignmentStrategy};
use super::topic::PartitionedTopic;
use super::{LogError, TopicPartition, MAX_GROUP_MEMBERS, MAX_GROUP_TOPICS, MAX_PARTITIONS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Kafka's consumer group states (the classic protocol; `Dead` is not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GroupState {
    /// No members (initially, and after the last member left and the rebalance completed).
    Empty,
    /// Membership changed; waiting for the join phase to complete. Commits from the current
    /// generation are accepted.
    PreparingRebalance,
    /// Join phase done (new generation, assignment computed); waiting for the sync phase.
    /// Commits are answered `REBALANCE_IN_PROGRESS`.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
}

impl GroupState {
    /// The state's name as Kafka prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

/// Why a member left the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DepartureReason {
    /// It sent `LeaveGroup` (a clean shutdown).
    Left,
    /// The host declared it dead (session timeout, crash).
    Failed,
}

/// What a membership call did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MembershipChange {
    /// The member concerned.
    pub member_id: String,
    /// `true` when the call moved the group into `PreparingRebalance` (it was not there).
    pub rebalance_started: bool,
    /// The current generation (the rebalance will make the next one).
    pub generation: u32,
    /// The members after the call, ordered by id: under the eager protocol each of them gives up
    /// its partitions and rejoins.
    pub members: Vec<String>,
}

/// One member's part in a rebalance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberRebalance {
    /// The member.
    pub member_id: String,
    /// `true` when it joined since the last completed rebalance.
    pub joined: bool,
    /// What it owned before (the last `Stable` generation's assignment; empty for a new member).
    pub owned_before: Vec<TopicPartition>,
    /// What it owns in the new generation.
    pub owned_after: Vec<TopicPartition>,
    /// `owned_before − owned_after`: taken away from it.
    pub revoked: Vec<TopicPartition>,
    /// `owned_after − owned_before`: newly given to it.
    pub assigned: Vec<TopicPartition>,
}

/// A member that left or failed since the last completed rebalance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DepartedMember {
    /// The member.
    pub member_id: String,
    /// Left or failed.
    pub reason: DepartureReason,
    /// What it owned when it departed (all revoked).
    pub revoked: Vec<TopicPartition>,
}

/// A partition that changes owner in a rebalance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionMove {
    /// The partition.
    pub tp: TopicPartition,
    /// Previous owner (including a departed member), if any.
    pub from: Option<String>,
    /// New owner, if any.
    pub to: Option<String>,
}

/// The result of a completed join phase: the new generation and who gets what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rebalance {
    /// The group.
    pub group_id: String,
    /// The new generation.
    pub generation: u32,
    /// The strategy used.
    pub strategy: AssignmentStrategy,
    /// Every current member, ordered by id.
    pub members: Vec<MemberRebalance>,
    /// Members gone since the last completed rebalance.
    pub departed: Vec<DepartedMember>,
    /// Partitions whose owner changes, ordered by partition.
    pub moves: Vec<PartitionMove>,
}

/// An offset commit (Kafka's `OffsetCommit` request), built by [`super::Consumer`] or the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRequest {
    /// Id chosen by the sender, echoed in the response.
    pub commit_id: u64,
    /// The committing member.
    pub member_id: String,
    /// The generation the member knows.
    pub generation: u32,
    /// `(partition, next offset to consume)` pairs.
    pub offsets: Vec<(TopicPartition, u64)>,
}

/// The result of one partition's commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResult {
    /// The partition.
    pub tp: TopicPartition,
    /// The offset asked for.
    pub requested: u64,
    /// The partition's committed offset after the commit.
    pub committed: u64,
    /// `false` when the request was at or below the committed offset (nothing changed).
    pub advanced: bool,
}

/// The answer to an accepted [`CommitRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResponse {
    /// The request's id.
    pub commit_id: u64,
    /// The generation it was accepted in.
    pub generation: u32,
    /// One result per requested offset, in request order.
    pub results: Vec<CommitResult>,
}

/// A partition's committed offset and who committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    /// The next offset to consume.
    pub offset: u64,
    /// The member that committed it.
    pub member_id: String,
    /// In which generation.
    pub generation: u32,
    /// When, µs.
    pub committed_at_us: u64,
}

/// Lag of one partition for the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    /// The partition.
    pub tp: TopicPartition,
    /// Its log-start offset.
    pub log_start_offset: u64,
    /// Its log-end offset.
    pub log_end_offset: u64,
    /// The group's committed offset, if any.
    pub committed: Option<u64>,
    /// `log_end_offset − committed` (0 if the commit is beyond the end). Without a committed
    /// offset, every retained record counts: `log_end_offset − log_start_offset` (Kafka's
    /// `kafka-consumer-groups` tool shows `-` there).
    pub lag: u64,
    /// The member that owns it in the current generation, if any.
    pub owner: Option<String>,
}

/// The coordinator of one consumer group (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupCoordinator {
    group_id: String,
    strategy: AssignmentStrategy,
    topics: BTreeMap<String, u32>,
    state: GroupState,
    generation: u32,
    members: BTreeSet<String>,
    /// Assignment of the last `Stable` generation, minus departed members.
    owned: BTreeMap<String, Vec<TopicPartition>>,
    /// Assignment computed by the last `complete_join` (delivered at `complete_sync`).
    pending: BTreeMap<String, Vec<TopicPartition>>,
    joined_since: BTreeSet<String>,
    departed_since: Vec<DepartedMember>,
    committed: BTreeMap<TopicPartition, CommittedOffset>,
}

impl GroupCoordinator {
    /// An `Empty` group at generation 0 consuming `topics` (name, partition count) with
    /// `strategy`.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] for an empty group id, more than [`MAX_GROUP_TOPICS`]
    /// topics, a repeated topic, or a partition count outside 1..=[`MAX_PARTITIONS`].
    pub fn new(
        group_id: &str,
        strategy: AssignmentStrategy,
        topics: &[(&str, u32)],
    ) -> Result<GroupCoordinator, LogError> {
        if group_id.is_empty() {
            return Err(LogError::invalid("group.id", "\"\"", "must not be empty"));
        }
        if topics.len() > MAX_GROUP_TOPICS {
            return Err(LogError::invalid(
                "topics",
                topics.len(),
                "at most 64 topics per group",
            ));
        }
        let mut map = BTreeMap::new();
        for &(name, partitions) in topics {
            if partitions == 0 || partitions > MAX_PARTITIONS {
                return Err(LogError::invalid(
                    "partitions",
                    partitions,
                    "must be between 1 and 1024",
                ));
            }
            if map.insert(name.to_string(), partitions).is_some() {
                return Err(LogError::invalid(
                    "topics",
                    format!("{name:?}"),
                    "each topic at most once",
                ));
            }
        }
        Ok(GroupCoordinator {
            group_id: group_id.to_string(),
            strategy,
            topics: map,
            state: GroupState::Empty,
            generation: 0,
            members: BTreeSet::new(),
            owned: BTreeMap::new(),
            pending: BTreeMap::new(),
            joined_since: BTreeSet::new(),
            departed_since: Vec::new(),
            committed: BTreeMap::new(),
        })
    }

    /// The group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The assignment strategy.
    pub fn strategy(&self) -> AssignmentStrategy {
        self.strategy
    }

    /// The state.
    pub fn state(&self) -> GroupState {
        self.state
    }

    /// The current generation (0 before the first rebalance).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The members, ordered by id.
    pub fn members(&self) -> Vec<String> {
        self.members.iter().cloned().collect()
    }

    /// `true` when `member_id` is in the group.
    pub fn has_member(&self, member_id: &str) -> bool {
        self.members.contains(member_id)
    }

    /// Every partition of the subscribed topics, ordered by (topic, partition).
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.topics
            .iter()
            .flat_map(|(t, &n)| (0..n).map(move |p| TopicPartition::new(t, p)))
            .collect()
    }

    /// The partitions of `member_id` in the current generation: what it owns (`Stable`,
    /// `PreparingRebalance`) or is about to get (`CompletingRebalance`). Empty for a non-member.
    pub fn assignment(&self, member_id: &str) -> Vec<TopicPartition> {
        let map = if self.state == GroupState::CompletingRebalance {
            &self.pending
        } else {
            &self.owned
        };
        map.get(member_id).cloned().unwrap_or_default()
    }

    /// [`GroupCoordinator::assignment`] with each partition's committed offset, which is what a
    /// consumer starts from (Kafka's `OffsetFetch` after `SyncGroup`).
    pub fn assignment_with_offsets(&self, member_id: &str) -> Vec<(TopicPartition, Option<u64>)> {
        self.assignment(member_id)
            .into_iter()
            .map(|tp| {
                let c = self.committed(&tp);
                (tp, c)
            })
            .collect()
    }

    /// The member owning `tp` in the last `Stable` generation (departed members excluded).
    pub fn owner(&self, tp: &TopicPartition) -> Option<&str> {
        self.owned
            .iter()
            .find(|(_, l)| l.contains(tp))
            .map(|(m, _)| m.as_str())
    }

    /// The committed offset of `tp`, if any.
    pub fn committed(&self, tp: &TopicPartition) -> Option<u64> {
        self.committed.get(tp).map(|c| c.offset)
    }

    /// Every committed offset with who committed it, ordered by partition.
    pub fn committed_offsets(&self) -> Vec<(TopicPartition, CommittedOffset)> {
        self.committed
            .iter()
            .map(|(tp, c)| (tp.clone(), c.clone()))
            .collect()
    }

    fn members_vec(&self) -> Vec<String> {
        self.members.iter().cloned().collect()
    }

    fn prepare_rebalance(&mut self, member_id: &str) -> MembershipChange {
        let started = self.state != GroupState::PreparingRebalance;
        self.state = GroupState::PreparingRebalance;
        self.pending.clear();
        MembershipChange {
            member_id: member_id.to_string(),
            rebalance_started: started,
            generation: self.generation,
            members: self.members_vec(),
        }
    }

    /// `member_id` joins at `now_us`, which starts a rebalance. A member already in the group
    /// changes nothing (`rebalance_started: false`).
    ///
    /// # Errors
    /// [`LogError::EmptyMemberId`]; [`LogError::GroupMaxSizeReached`] at
    /// [`MAX_GROUP_MEMBERS`] members.
    pub fn join(&mut self, _now_us: u64, member_id: &str) -> Result<MembershipChange, LogError> {
        if member_id.is_empty() {
            return Err(LogError::EmptyMemberId);
        }
        if self.members.contains(member_id) {
            return Ok(MembershipChange {
                member_id: member_id.to_string(),
                rebalance_started: false,
                generation: self.generation,
                members: self.members_vec(),
            });
        }
        if self.members.len() >= MAX_GROUP_MEMBERS {
            return Err(LogError::GroupMaxSizeReached {
                group: self.group_id.clone(),
                max: MAX_GROUP_MEMBERS,
            });
        }
        self.members.insert(member_id.to_string());
        self.joined_since.insert(member_id.to_string());
        Ok(self.prepare_rebalance(member_id))
    }

    fn depart(
        &mut self,
        member_id: &str,
        reason: DepartureReason,
    ) -> Result<MembershipChange, LogError> {
        if !self.members.remove(member_id) {
            return Err(LogError::UnknownMember {
                group: self.group_id.clone(),
                member: member_id.to_string(),
            });
        }
        self.joined_since.remove(member_id);
        if let Some(revoked) = self.owned.remove(member_id) {
            self.departed_since.push(DepartedMember {
                member_id: member_id.to_string(),
                reason,
                revoked,
            });
        }
        Ok(self.prepare_rebalance(member_id))
    }

    /// `member_id` leaves cleanly (Kafka's `LeaveGroup`) at `now_us`, which starts a rebalance.
    ///
    /// # Errors
    /// [`LogError::UnknownMember`].
    pub fn leave(&mut self, _now_us: u64, member_id: &str) -> Result<MembershipChange, LogError> {
        self.depart(member_id, DepartureReason::Left)
    }

    /// The host declares `member_id` dead at `now_us` (its session timed out, it crashed),
    /// which removes it and starts a rebalance.
    ///
    /// # Errors
    /// [`LogError::UnknownMember`].
    pub fn member_failed(
        &mut self,
        _now_us: u64,
        member_id: &str,
    ) -> Result<MembershipChange, LogError> {
        self.depart(member_id, DepartureReason::Failed)
    }

    /// Ends the join phase at `now_us`: generation + 1, new assignment, state
    /// `CompletingRebalance` (or `Empty` when no member is left). Returns the rebalance plan.
    ///
    /// # Errors
    /// [`LogError::InvalidGroupState`] unless the group is `PreparingRebalance`.
    pub fn complete_join(&mut self, _now_us: u64) -> Result<Rebalance, LogError> {
        if self.state != GroupState::PreparingRebalance {
            return Err(self.invalid_state("complete the join phase"));
        }
        self.generation = self.generation.saturating_add(1);
        let ids = self.members_vec();
        let next = assign(self.strategy, &ids, &self.topics);
        let mut before_owner: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
        for (m, l) in &self.owned {
            for tp in l {
                before_owner.insert(tp, m);
            }
        }
        for d in &self.departed_since {
            for tp in &d.revoked {
                before_owner.insert(tp, &d.member_id);
            }
        }
        let mut after_owner: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
        for (m, l) in &next {
            for tp in l {
                after_owner.insert(tp, m);
            }
        }
        let all = self.partitions();
        let moves = all
            .iter()
            .filter_map(|tp| {
                let from = before_owner.get(tp).copied();
                let to = after_owner.get(tp).copied();
                (from != to).then(|| PartitionMove {
                    tp: tp.clone(),
                    from: from.map(str::to_string),
                    to: to.map(str::to_string),
                })
            })
            .collect();
        let members = ids
            .iter()
            .map(|m| {
                let before = self.owned.get(m).cloned().unwrap_or_default();
                let after = next.get(m).cloned().unwrap_or_default();
                MemberRebalance {
                    member_id: m.clone(),
                    joined: self.joined_since.contains(m),
                    revoked: before
                        .iter()
                        .filter(|tp| !after.contains(tp))
                        .cloned()
                        .collect(),
                    assigned: after
                        .iter()
                        .filter(|tp| !before.contains(tp))
                        .cloned()
                        .collect(),
                    owned_before: before,
                    owned_after: after,
                }
            })
            .collect();
        let rebalance = Rebalance {
            group_id: self.group_id.clone(),
            generation: self.generation,
            strategy: self.strategy,
            members,
            departed: std::mem::take(&mut self.departed_since),
            moves,
        };
        self.joined_since.clear();
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.owned.clear();
            self.pending.clear();
        } else {
            self.state = GroupState::CompletingRebalance;
            self.pending = next;
        }
        Ok(rebalance)
    }

    /// Ends the sync phase at `now_us`: every member has its assignment; state `Stable`. Returns
    /// the generation.
    ///
    /// # Errors
    /// [`LogError::InvalidGroupState`] unless the group is `CompletingRebalance`.
    pub fn complete_sync(&mut self, _now_us: u64) -> Result<u32, LogError> {
        if self.state != GroupState::CompletingRebalance {
            return Err(self.invalid_state("complete the sync phase"));
        }
        self.owned = std::mem::take(&mut self.pending);
        self.state = GroupState::Stable;
        Ok(self.generation)
    }

    /// [`GroupCoordinator::complete_join`] then, if members remain,
    /// [`GroupCoordinator::complete_sync`].
    ///
    /// # Errors
    /// As [`GroupCoordinator::complete_join`].
    pub fn rebalance(&mut self, now_us: u64) -> Result<Rebalance, LogError> {
        let r = self.complete_join(now_us)?;
        if self.state == GroupState::CompletingRebalance {
            self.complete_sync(now_us)?;
        }
        Ok(r)
    }

    fn invalid_state(&self, action: &'static str) -> LogError {
        LogError::InvalidGroupState {
            group: self.group_id.clone(),
            state: self.state.as_str(),
            action,
        }
    }

    fn check_partition(&self, tp: &TopicPartition) -> Result<(), LogError> {
        match self.topics.get(&tp.topic) {
            None => Err(LogError::UnknownTopic {
                topic: tp.topic.clone(),
            }),
            Some(&n) if tp.partition >= n => Err(LogError::UnknownPartition {
                topic: tp.topic.clone(),
                partition: tp.partition,
                partitions: n,
            }),
            Some(_) => Ok(()),
        }
    }

    /// Handles an offset commit at `now_us` (see the module docs for the checks and the
    /// forward-only rule). All-or-nothing: a rejected request changes nothing.
    ///
    /// # Errors
    /// [`LogError::UnknownMember`], [`LogError::IllegalGeneration`],
    /// [`LogError::RebalanceInProgress`], [`LogError::UnknownTopic`],
    /// [`LogError::UnknownPartition`].
    pub fn commit(
        &mut self,
        now_us: u64,
        request: &CommitRequest,
    ) -> Result<CommitResponse, LogError> {
        if !self.members.contains(&request.member_id) {
            return Err(LogError::UnknownMember {
                group: self.group_id.clone(),
                member: request.member_id.clone(),
            });
        }
        if request.generation != self.generation {
            return Err(LogError::IllegalGeneration {
                group: self.group_id.clone(),
                current: self.generation,
                got: request.generation,
            });
        }
        if self.state == GroupState::CompletingRebalance {
            return Err(LogError::RebalanceInProgress {
                group: self.group_id.clone(),
            });
        }
        for (tp, _) in &request.offsets {
            self.check_partition(tp)?;
        }
        let mut results = Vec::with_capacity(request.offsets.len());
        for (tp, offset) in &request.offsets {
            let current = self.committed.get(tp).map(|c| c.offset);
            let advanced = current.is_none_or(|c| *offset > c);
            if advanced {
                self.committed.insert(
                    tp.clone(),
                    CommittedOffset {
                        offset: *offset,
                        member_id: request.member_id.clone(),
                        generation: self.generation,
                        committed_at_us: now_us,
                    },
                );
            }
            results.push(CommitResult {
                tp: tp.clone(),
                requested: *offset,
                committed: if advanced {
                    *offset
                } else {
                    current.unwrap_or(*offset)
                },
                advanced,
            });
        }
        Ok(CommitResponse {
            commit_id: request.commit_id,
            generation: self.generation,
            results,
        })
    }

    /// Lag of every partition of `topic` for this group (see [`PartitionLag`]).
    ///
    /// # Errors
    /// [`LogError::UnknownTopic`] when the group does not consume `topic`;
    /// [`LogError::UnknownPartition`] when the topic has fewer partitions than the group was
    /// configured with.
    pub fn lag(&self, topic: &PartitionedTopic) -> Result<Vec<PartitionLag>, LogError> {
        let Some(&n) = self.topics.get(topic.name()) else {
            return Err(LogError::UnknownTopic {
                topic: topic.name().to_string(),
            });
        };
        (0..n)
            .map(|p| {
                let log = topic.partition(p)?;
                let tp = TopicPartition::new(topic.name(), p);
                let committed = self.committed(&tp);
                let leo = log.log_end_offset();
                let lag = leo.saturating_sub(committed.unwrap_or(log.log_start_offset()));
                let owner = self.owner(&tp).map(str::to_string);
                Ok(PartitionLag {
                    tp,
                    log_start_offset: log.log_start_offset(),
                    log_end_offset: leo,
                    committed,
                    lag,
                    owner,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{BatchRecord, RecordBatch, TopicConfig};

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn group(strategy: AssignmentStrategy, partitions: u32) -> GroupCoordinator {
        GroupCoordinator::new("g", strategy, &[("t", partitions)]).unwrap()
    }

    fn commit(member: &str, generation: u32, offsets: &[(u32, u64)]) -> CommitRequest {
        CommitRequest {
            commit_id: 1,
            member_id: member.into(),
            generation,
            offsets: offsets.iter().map(|&(p, o)| (tp(p), o)).collect(),
        }
    }

    #[test]
    fn generations_and_state_machine() {
        let mut g = group(AssignmentStrategy::Range, 4);
        assert_eq!((g.state(), g.generation()), (GroupState::Empty, 0));
        assert!(g.complete_join(0).is_err());
        assert!(g.complete_sync(0).is_err());
        let c = g.join(0, "b").unwrap();
        assert!(c.rebalance_started);
        assert_eq!(g.state(), GroupState::PreparingRebalance);
        let c = g.join(1, "a").unwrap();
        assert!(!c.rebalance_started, "already preparing");
        assert!(!g.join(1, "a").unwrap().rebalance_started, "known member");
        let r = g.complete_join(2).unwrap();
        assert_eq!(r.generation, 1);
        assert_eq!(g.state(), GroupState::CompletingRebalance);
        assert_eq!(g.assignment("a"), vec![tp(0), tp(1)]);
        assert_eq!(r.members[1].assigned, vec![tp(2), tp(3)]);
        assert!(r.members.iter().all(|m| m.joined && m.revoked.is_empty()));
        assert_eq!(g.owner(&tp(0)), None, "not synced yet");
        assert_eq!(g.complete_sync(3).unwrap(), 1);
        assert_eq!(g.owner(&tp(3)), Some("b"));
        // A failure: b's partitions all go to a.
        g.member_failed(4, "b").unwrap();
        assert!(g.member_failed(4, "b").is_err());
        let r = g.rebalance(5).unwrap();
        assert_eq!(r.generation, 2);
        assert_eq!(
            r.departed,
            vec![DepartedMember {
                member_id: "b".into(),
                reason: DepartureReason::Failed,
                revoked: vec![tp(2), tp(3)]
            }]
        );
        assert_eq!(r.members[0].assigned, vec![tp(2), tp(3)]);
        assert_eq!(r.members[0].owned_after, vec![tp(0), tp(1), tp(2), tp(3)]);
        assert_eq!(
            r.moves,
            vec![
                PartitionMove {
                    tp: tp(2),
                    from: Some("b".into()),
                    to: Some("a".into())
                },
                PartitionMove {
                    tp: tp(3),
                    from: Some("b".into()),
                    to: Some("a".into())
                }
            ]
        );
        // The last member leaves: the group goes Empty with a new generation.
        g.leave(6, "a").unwrap();
        let r = g.complete_join(7).unwrap();
        assert_eq!((r.generation, g.state()), (3, GroupState::Empty));
        assert!(r.members.is_empty());
        assert_eq!(r.moves.len(), 4);
        assert!(r.moves.iter().all(|m| m.to.is_none()));
        assert!(g.assignment("a").is_empty());
    }

    #[test]
    fn round_robin_strategy_is_used() {
        let mut g = group(AssignmentStrategy::RoundRobin, 5);
        for m in ["c", "a", "b"] {
            g.join(0, m).unwrap();
        }
        g.rebalance(1).unwrap();
        assert_eq!(g.assignment("a"), vec![tp(0), tp(3)]);
        assert_eq!(g.assignment("b"), vec![tp(1), tp(4)]);
        assert_eq!(g.assignment("c"), vec![tp(2)]);
    }

    #[test]
    fn commit_checks_follow_kafka_and_offsets_only_move_forward() {
        let mut g = group(AssignmentStrategy::Range, 2);
        assert!(matches!(
            g.commit(0, &commit("a", 0, &[(0, 1)])).unwrap_err(),
            LogError::UnknownMember { .. }
        ));
        g.join(0, "a").unwrap();
        g.rebalance(0).unwrap();
        let ok = g.commit(1, &commit("a", 1, &[(0, 10), (1, 3)])).unwrap();
        assert!(ok.results.iter().all(|r| r.advanced));
        // Stale generation.
        let e = g.commit(2, &commit("a", 0, &[(0, 11)])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "group `g`: generation 0 is not the current generation 1 (ILLEGAL_GENERATION)"
        );
        // Backwards: accepted, nothing changes.
        let r = g.commit(3, &commit("a", 1, &[(0, 4)])).unwrap();
        assert_eq!(
            r.results,
            vec![CommitResult {
                tp: tp(0),
                requested: 4,
                committed: 10,
                advanced: false
            }]
        );
        assert_eq!(g.committed(&tp(0)), Some(10));
        // Unknown partition: the whole request is rejected.
        assert!(matches!(
            g.commit(4, &commit("a", 1, &[(0, 20), (2, 1)]))
                .unwrap_err(),
            LogError::UnknownPartition { partition: 2, .. }
        ));
        assert_eq!(g.committed(&tp(0)), Some(10));
        let other = CommitRequest {
            offsets: vec![(TopicPartition::new("u", 0), 1)],
            ..commit("a", 1, &[])
        };
        assert!(matches!(
            g.commit(4, &other).unwrap_err(),
            LogError::UnknownTopic { .. }
        ));
        // PreparingRebalance accepts the current generation; CompletingRebalance does not.
        g.join(5, "b").unwrap();
        assert!(g.commit(6, &commit("a", 1, &[(0, 12)])).is_ok());
        g.complete_join(7).unwrap();
        assert!(matches!(
            g.commit(8, &commit("a", 1, &[(0, 13)])).unwrap_err(),
            LogError::IllegalGeneration {
                current: 2,
                got: 1,
                ..
            }
        ));
        let e = g.commit(8, &commit("a", 2, &[(0, 13)])).unwrap_err();
        assert!(e.is_retriable());
        assert_eq!(
            e.to_string(),
            "group `g`: rebalance in progress (REBALANCE_IN_PROGRESS)"
        );
        g.complete_sync(9).unwrap();
        assert!(g.commit(10, &commit("a", 2, &[(0, 13)])).is_ok());
        let c = &g.committed_offsets()[0].1;
        assert_eq!(
            (
                c.offset,
                c.member_id.as_str(),
                c.generation,
                c.committed_at_us
            ),
            (13, "a", 2, 10)
        );
    }

    #[test]
    fn lag_is_log_end_minus_committed() {
        let mut t = PartitionedTopic::new(&TopicConfig {
            name: "t".into(),
            partitions: 2,
            retention_records: 5,
        })
        .unwrap();
        let batch = RecordBatch {
            producer_epoch: 0,
            base_sequence: None,
            records: (0..8).map(|m| BatchRecord::new(None, m)).collect(),
        };
        t.append(0, 1, 0, &batch).unwrap();
        let mut g = group(AssignmentStrategy::Range, 2);
        g.join(0, "a").unwrap();
        g.rebalance(0).unwrap();
        g.commit(0, &commit("a", 1, &[(0, 6)])).unwrap();
        let lag = g.lag(&t).unwrap();
        assert_eq!(
            lag.iter()
                .map(|l| (l.log_end_offset, l.committed, l.lag))
                .collect::<Vec<_>>(),
            vec![(8, Some(6), 2), (0, None, 0)]
        );
        assert_eq!(lag[0].log_start_offset, 3);
        assert_eq!(lag[0].owner.as_deref(), Some("a"));
        let other = PartitionedTopic::new(&TopicConfig::new("x", 1)).unwrap();
        assert!(g.lag(&other).is_err());
        // A group configured with more partitions than the topic has.
        let g3 = group(AssignmentStrategy::Range, 3);
        assert!(matches!(
            g3.lag(&t).unwrap_err(),
            LogError::UnknownPartition { partition: 2, .. }
        ));
    }

    #[test]
    fn config_and_membership_errors() {
        assert!(GroupCoordinator::new("", AssignmentStrategy::Range, &[("t", 1)]).is_err());
        assert!(GroupCoordinator::new("g", AssignmentStrategy::Range, &[("t", 0)]).is_err());
        assert!(
            GroupCoordinator::new("g", AssignmentStrategy::Range, &[("t", 1), ("t", 2)]).is_err()
        );
        let mut g = group(AssignmentStrategy::Range, 1);
        assert_eq!(g.join(0, "").unwrap_err(), LogError::EmptyMemberId);
        for i in 0..MAX_GROUP_MEMBERS {
            g.join(0, &format!("m{i:04}")).unwrap();
        }
        assert!(matches!(
            g.join(0, "z").unwrap_err(),
            LogError::GroupMaxSizeReached { .. }
        ));
        assert!(g.leave(0, "nobody").is_err());
    }
}
