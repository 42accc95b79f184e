//! Partition assignment strategies: Kafka's `RangeAssignor` and `RoundRobinAssignor`.
//!
//! Both are deterministic functions of the member ids and the subscribed topics' partition
//! counts. Members are ordered by member id (byte order of the UTF-8 id, which is Java's
//! `String.compareTo` order for ASCII ids); every member of a msgsim group subscribes to all of the
//! group's topics. Neither strategy looks at the previous assignment: a rebalance may move any
//! partition (Kafka's `StickyAssignor` / `CooperativeStickyAssignor` minimise movement; msgsim
//! does not model them).

use super::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kafka's `partition.assignment.strategy`, one of the two classic assignors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AssignmentStrategy {
    /// `RangeAssignor` (Kafka's default, first in the default list since 3.0): for each topic on
    /// its own, the members in order each get a contiguous range of partitions, the first
    /// `partitions % members` one extra.
    #[default]
    Range,
    /// `RoundRobinAssignor`: all partitions of all topics, sorted by (topic, partition), dealt
    /// to the members in order, one at a time.
    RoundRobin,
}

/// The assignment of `topics` (name → partition count) to `members` under `strategy`: one entry
/// per member (possibly empty), each list sorted by (topic, partition). Every partition goes to
/// exactly one member when there is at least one member. `members` may come in any order and
/// with repeats; it is sorted and deduplicated first.
pub fn assign(
    strategy: AssignmentStrategy,
    members: &[String],
    topics: &BTreeMap<String, u32>,
) -> BTreeMap<String, Vec<TopicPartition>> {
    let mut sorted: Vec<&String> = members.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out: BTreeMap<String, Vec<TopicPartition>> =
        sorted.iter().map(|m| ((*m).clone(), Vec::new())).collect();
    let n = sorted.len();
    if n == 0 {
        return out;
    }
    match strategy {
        AssignmentStrategy::Range => {
            for (topic, &partitions) in topics {
                let per_member = partitions as usize / n;
                let with_extra = partitions as usize % n;
                for (i, m) in sorted.iter().enumerate() {
                    let start = per_member * i + i.min(with_extra);
                    let len = per_member + usize::from(i < with_extra);
                    if let Some(list) = out.get_mut(*m) {
                        list.extend(
                            (start..start + len).map(|p| TopicPartition::new(topic, p as u32)),
                        );
                    }
                }
            }
        }
        AssignmentStrategy::RoundRobin => {
            let all = topics
                .iter()
                .flat_map(|(t, &count)| (0..count).map(move |p| TopicPartition::new(t, p)));
            for (k, tp) in all.enumerate() {
                if let Some(list) = out.get_mut(sorted[k % n]) {
                    list.push(tp);
                }
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(t: &[(&str, u32)]) -> BTreeMap<String, u32> {
        t.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    fn show(a: &BTreeMap<String, Vec<TopicPartition>>) -> Vec<String> {
        a.iter()
            .map(|(m, l)| {
                let ps: Vec<String> = l.iter().map(|tp| tp.to_string()).collect();
                format!("{m}: {}", ps.join(" "))
            })
            .collect()
    }

    /// The example of Kafka's `RangeAssignor` javadoc: C0 and C1 subscribe to t0 and t1, each
    /// with 3 partitions: C0 gets [t0p0, t0p1, t1p0, t1p1], C1 gets [t0p2, t1p2].
    #[test]
    fn range_matches_kafka_javadoc() {
        let a = assign(
            AssignmentStrategy::Range,
            &["C1".into(), "C0".into()],
            &topics(&[("t0", 3), ("t1", 3)]),
        );
        assert_eq!(show(&a), vec!["C0: t0-0 t0-1 t1-0 t1-1", "C1: t0-2 t1-2"]);
    }

    /// The example of Kafka's `RoundRobinAssignor` javadoc for the same subscription: C0 gets
    /// [t0p0, t0p2, t1p1], C1 gets [t0p1, t1p0, t1p2].
    #[test]
    fn round_robin_matches_kafka_javadoc() {
        let a = assign(
            AssignmentStrategy::RoundRobin,
            &["C0".into(), "C1".into()],
            &topics(&[("t0", 3), ("t1", 3)]),
        );
        assert_eq!(show(&a), vec!["C0: t0-0 t0-2 t1-1", "C1: t0-1 t1-0 t1-2"]);
    }

    #[test]
    fn range_with_more_members_than_partitions_and_uneven_split() {
        let a = assign(
            AssignmentStrategy::Range,
            &["c".into(), "a".into(), "b".into(), "d".into()],
            &topics(&[("t", 2)]),
        );
        assert_eq!(show(&a), vec!["a: t-0", "b: t-1", "c: ", "d: "]);
        let a = assign(
            AssignmentStrategy::Range,
            &["a".into(), "b".into(), "c".into()],
            &topics(&[("t", 7)]),
        );
        assert_eq!(show(&a), vec!["a: t-0 t-1 t-2", "b: t-3 t-4", "c: t-5 t-6"]);
    }

    #[test]
    fn no_members_or_repeats() {
        assert!(assign(AssignmentStrategy::Range, &[], &topics(&[("t", 3)])).is_empty());
        let a = assign(
            AssignmentStrategy::RoundRobin,
            &["a".into(), "a".into()],
            &topics(&[("t", 2)]),
        );
        assert_eq!(show(&a), vec!["a: t-0 t-1"]);
    }
}
