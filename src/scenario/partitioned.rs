//! Scenario settings of partitioned topics (`kind: "partitioned_topic"`): the topic, its consumer
//! groups and its producers, with Kafka's names and msgsim's defaults (stated per field; where a
//! default differs from Kafka's, the field says so and why).

use super::{ChannelSpec, NodeKind, Scenario};
use crate::error::ScenarioError;
use crate::log::{
    AssignmentStrategy, AutoOffsetReset, ConsumerConfig, DeliveryGuarantee, ProducerConfig,
    TopicConfig,
};
use serde::{Deserialize, Serialize};

/// Most partitions of one partitioned topic in a scenario (the engine's log allows 1 024; the
/// playground draws one lane per partition).
pub const MAX_TOPIC_PARTITIONS: u32 = 64;

/// Kafka's `partition.assignment.strategy`, in scenario JSON: `range` or `round_robin`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// `RangeAssignor` (Kafka's default): members in member-id order each get a contiguous
    /// range of partitions.
    #[default]
    Range,
    /// `RoundRobinAssignor`: partitions dealt to the members in member-id order.
    RoundRobin,
}

impl Assignment {
    /// The log module's strategy.
    pub fn strategy(self) -> AssignmentStrategy {
        match self {
            Assignment::Range => AssignmentStrategy::Range,
            Assignment::RoundRobin => AssignmentStrategy::RoundRobin,
        }
    }
}

/// When a consumer group commits relative to processing, in scenario JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Commit after processing: nothing is lost, a crash makes the next owner process again
    /// what was processed and not yet committed.
    #[default]
    AtLeastOnce,
    /// Commit before processing: nothing is processed twice, a crash loses what was committed
    /// and not yet processed.
    AtMostOnce,
}

/// Kafka's `auto.offset.reset`, in scenario JSON: `earliest` or `latest`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetResetSpec {
    /// Start at the oldest retained record. msgsim's default (Kafka's is `latest`): a group
    /// that starts after the first records were produced still sees them, so a scenario loses
    /// nothing before its consumers have joined.
    #[default]
    Earliest,
    /// Start at the log-end offset: only records produced from then on.
    Latest,
}

/// The consumer group of one consuming service on a partitioned topic (Kafka's consumer
/// configs). Each instance of the service is a member. Times in ms of virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerGroupSpec {
    /// The consuming service (one of the channel's `consumers`). Required.
    pub consumer: String,
    /// Kafka's `group.id`. Default: the consumer's name. Unique among the scenario's
    /// partitioned-topic groups.
    pub group: Option<String>,
    /// `partition.assignment.strategy`. Default `range`.
    pub assignment: Assignment,
    /// Commit after (`at_least_once`, default) or before (`at_most_once`) processing.
    pub delivery: Delivery,
    /// Records of one partition processed at once by one instance (Confluent Parallel
    /// Consumer's concurrency per partition), 1–1 024. Default 1 (in offset order).
    pub workers_per_partition: u32,
    /// `max.poll.records`, 1–100 000: records one fetch response carries at most. Default 500.
    pub max_poll_records: u32,
    /// Period of an instance's poll loop, ms ≥ 1: each tick commits what was processed
    /// (at-least-once) and fetches if no fetch is outstanding. Default 100.
    pub poll_interval_ms: u64,
    /// `session.timeout.ms`: a member not heard from (heartbeat, join, sync) for this long is
    /// removed and its partitions reassigned. Default 3 000 (Kafka: 45 000).
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms`, below `session_timeout_ms`. Default 1 000 (Kafka: 3 000).
    pub heartbeat_interval_ms: u64,
    /// How long the coordinator waits for every member to rejoin once a rebalance started
    /// (Kafka: `max.poll.interval.ms` as the rebalance timeout); members that did not rejoin
    /// are removed. Default 3 000.
    pub rebalance_timeout_ms: u64,
    /// `request.timeout.ms` of join, sync, heartbeat, fetch and commit requests: an
    /// unanswered one counts as failed (`TimeoutException`). Default 1 000 (Kafka: 30 000).
    pub request_timeout_ms: u64,
    /// `fetch.max.wait.ms`: the broker holds a fetch that finds no record for up to this long,
    /// answering as soon as one is appended (long polling); below `request_timeout_ms`; 0
    /// answers at once (the next fetch then waits for the next poll tick). Default 500
    /// (Kafka's).
    pub fetch_max_wait_ms: u64,
    /// `auto.offset.reset`. Default `earliest` (Kafka: `latest`; see [`OffsetResetSpec`]).
    pub auto_offset_reset: OffsetResetSpec,
    /// Random ± variation of the service's `processing_ms` per record, ms, so that records
    /// processed by parallel workers complete out of order. Default 0 (draws nothing).
    pub processing_jitter_ms: u64,
}

impl Default for ConsumerGroupSpec {
    fn default() -> Self {
        ConsumerGroupSpec {
            consumer: String::new(),
            group: None,
            assignment: Assignment::Range,
            delivery: Delivery::AtLeastOnce,
            workers_per_partition: 1,
            max_poll_records: 500,
            poll_interval_ms: 100,
            session_timeout_ms: 3_000,
            heartbeat_interval_ms: 1_000,
            rebalance_timeout_ms: 3_000,
            request_timeout_ms: 1_000,
            fetch_max_wait_ms: 500,
            auto_offset_reset: OffsetResetSpec::Earliest,
            processing_jitter_ms: 0,
        }
    }
}

impl ConsumerGroupSpec {
    /// Defaults for `consumer`.
    pub fn for_consumer(consumer: &str) -> ConsumerGroupSpec {
        ConsumerGroupSpec {
            consumer: consumer.to_string(),
            ..ConsumerGroupSpec::default()
        }
    }

    /// The group id: `group`, else the consumer's name.
    pub fn group_id(&self) -> &str {
        self.group.as_deref().unwrap_or(&self.consumer)
    }

    /// The log module's consumer config.
    pub fn consumer_config(&self) -> ConsumerConfig {
        ConsumerConfig {
            max_poll_records: self.max_poll_records,
            delivery: match self.delivery {
                Delivery::AtLeastOnce => DeliveryGuarantee::AtLeastOnce,
                Delivery::AtMostOnce => DeliveryGuarantee::AtMostOnce,
            },
            workers_per_partition: self.workers_per_partition,
            auto_offset_reset: match self.auto_offset_reset {
                OffsetResetSpec::Earliest => AutoOffsetReset::Earliest,
                OffsetResetSpec::Latest => AutoOffsetReset::Latest,
            },
        }
    }
}

/// A producing service's settings on a partitioned topic (Kafka's producer configs). Times in
/// ms of virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProducerSpec {
    /// The producing service (one that a workload sends to this channel from). Required.
    pub producer: String,
    /// `enable.idempotence`: sequence numbers per partition, the broker discards retried
    /// duplicates and refuses out-of-order batches. Default true (Kafka 3.0+).
    pub enable_idempotence: bool,
    /// `max.in.flight.requests.per.connection`, 1–1 000 (at most 5 with idempotence).
    /// Default 5.
    pub max_in_flight_requests_per_connection: u32,
    /// `retries`: resends of a batch after a retriable failure (≥ 1 with idempotence). Default
    /// 10 (Kafka: 2 147 483 647, bounded by `delivery.timeout.ms`).
    pub retries: u32,
    /// `retry.backoff.ms`: wait before a resend. Default 100 (Kafka's).
    pub retry_backoff_ms: u64,
    /// `request.timeout.ms`: a produce request unanswered this long failed (retriable).
    /// Default 500 (Kafka: 30 000).
    pub request_timeout_ms: u64,
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            producer: String::new(),
            enable_idempotence: true,
            max_in_flight_requests_per_connection: 5,
            retries: 10,
            retry_backoff_ms: 100,
            request_timeout_ms: 500,
        }
    }
}

impl ProducerSpec {
    /// Defaults for `producer`.
    pub fn for_producer(producer: &str) -> ProducerSpec {
        ProducerSpec {
            producer: producer.to_string(),
            ..ProducerSpec::default()
        }
    }

    /// The log module's producer config (`acks=all`).
    pub fn producer_config(&self) -> ProducerConfig {
        ProducerConfig {
            max_in_flight_requests_per_connection: self.max_in_flight_requests_per_connection,
            enable_idempotence: self.enable_idempotence,
            retries: self.retries,
            acks: crate::log::Acks::All,
            retry_backoff_us: crate::time::ms_to_us(self.retry_backoff_ms),
        }
    }
}

/// Upper bound of every `*_ms` setting of a partitioned topic: one hour.
pub const MAX_SETTING_MS: u64 = crate::ranges::MAX_LATENCY_MS;

pub(super) fn default_partitions() -> u32 {
    1
}
pub(super) fn default_retention_records() -> u64 {
    10_000
}
pub(super) fn is_default_partitions(p: &u32) -> bool {
    *p == default_partitions()
}
pub(super) fn is_default_retention(r: &u64) -> bool {
    *r == default_retention_records()
}

fn invalid(field: String, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks the partitioned-topic fields of channel `i`: only a `partitioned_topic` may set them,
/// and there they must be in range and refer to the right services.
pub(super) fn validate_channel(
    s: &Scenario,
    i: usize,
    c: &ChannelSpec,
) -> Result<(), ScenarioError> {
    use super::ChannelKind;
    let at = |f: &str| format!("channels[{i}].{f}");
    if c.kind != ChannelKind::PartitionedTopic {
        if !is_default_partitions(&c.partitions)
            || !is_default_retention(&c.retention_records)
            || !c.consumer_groups.is_empty()
            || !c.producers.is_empty()
        {
            return Err(invalid(
                format!("channels[{i}]"),
                "partitions, retention_records, consumer_groups and producers apply only to kind `partitioned_topic`",
            ));
        }
        return Ok(());
    }
    let topic = TopicConfig {
        name: c.name.clone(),
        partitions: c.partitions,
        retention_records: c.retention_records,
    };
    if let Err(e) = topic.validate() {
        let field = match &e {
            crate::log::LogError::InvalidConfig { field: "name", .. } => at("name"),
            crate::log::LogError::InvalidConfig {
                field: "partitions",
                ..
            } => at("partitions"),
            _ => at("retention_records"),
        };
        return Err(invalid(field, e.to_string()));
    }
    crate::ranges::int(
        at("partitions"),
        c.partitions.into(),
        1,
        MAX_TOPIC_PARTITIONS.into(),
        "",
    )?;
    for (j, g) in c.consumer_groups.iter().enumerate() {
        let f = |name: &str| format!("channels[{i}].consumer_groups[{j}].{name}");
        if !c.consumers.contains(&g.consumer) {
            return Err(invalid(
                f("consumer"),
                format!("`{}` is not one of this channel's consumers", g.consumer),
            ));
        }
        if c.consumer_groups[..j]
            .iter()
            .any(|h| h.consumer == g.consumer)
        {
            return Err(invalid(
                f("consumer"),
                format!("a second group for `{}`", g.consumer),
            ));
        }
        if let Some(group) = &g.group {
            crate::ranges::name(f("group"), group, crate::ranges::MAX_NAME)?;
        }
        if let Err(e) = g.consumer_config().validate() {
            let name = match &e {
                crate::log::LogError::InvalidConfig {
                    field: "max.poll.records",
                    ..
                } => "max_poll_records",
                _ => "workers_per_partition",
            };
            return Err(invalid(f(name), e.to_string()));
        }
        for (name, v) in [
            ("poll_interval_ms", g.poll_interval_ms),
            ("session_timeout_ms", g.session_timeout_ms),
            ("heartbeat_interval_ms", g.heartbeat_interval_ms),
            ("rebalance_timeout_ms", g.rebalance_timeout_ms),
            ("request_timeout_ms", g.request_timeout_ms),
        ] {
            crate::ranges::ms_max(f(name), v, 1, MAX_SETTING_MS)?;
        }
        for (name, v) in [
            ("fetch_max_wait_ms", g.fetch_max_wait_ms),
            ("processing_jitter_ms", g.processing_jitter_ms),
        ] {
            crate::ranges::ms_max(f(name), v, 0, MAX_SETTING_MS)?;
        }
        if g.fetch_max_wait_ms >= g.request_timeout_ms {
            return Err(invalid(
                f("fetch_max_wait_ms"),
                format!(
                    "{} must be below request_timeout_ms ({}), or every held fetch times out",
                    g.fetch_max_wait_ms, g.request_timeout_ms
                ),
            ));
        }
        if g.heartbeat_interval_ms >= g.session_timeout_ms {
            return Err(invalid(
                f("heartbeat_interval_ms"),
                format!(
                    "{} must be below session_timeout_ms ({})",
                    g.heartbeat_interval_ms, g.session_timeout_ms
                ),
            ));
        }
    }
    // Group ids are unique across every partitioned topic of the scenario.
    let ids = |k: usize, ch: &ChannelSpec| -> Vec<(usize, String)> {
        ch.consumers
            .iter()
            .map(|cons| {
                let id = ch
                    .consumer_groups
                    .iter()
                    .find(|g| &g.consumer == cons)
                    .map(|g| g.group_id().to_string())
                    .unwrap_or_else(|| cons.clone());
                (k, id)
            })
            .collect()
    };
    let mine = ids(i, c);
    for (n, (_, id)) in mine.iter().enumerate() {
        let dup_here = mine[..n].iter().any(|(_, o)| o == id);
        let dup_before = s.channels[..i]
            .iter()
            .enumerate()
            .filter(|(_, ch)| ch.kind == ChannelKind::PartitionedTopic)
            .flat_map(|(k, ch)| ids(k, ch))
            .find(|(_, o)| o == id);
        if dup_here || dup_before.is_some() {
            return Err(invalid(
                at("consumer_groups"),
                format!(
                    "group id `{id}` is used twice; give each consumer of a partitioned topic its own `group`"
                ),
            ));
        }
    }
    for (j, p) in c.producers.iter().enumerate() {
        let f = |name: &str| format!("channels[{i}].producers[{j}].{name}");
        match s.node_index(&p.producer) {
            None => {
                return Err(ScenarioError::UnknownName {
                    field: f("producer"),
                    name: p.producer.clone(),
                })
            }
            Some(n) if s.nodes[n].kind != NodeKind::Service => {
                return Err(invalid(
                    f("producer"),
                    format!("`{}` is not a service", p.producer),
                ))
            }
            Some(_) => {}
        }
        if c.producers[..j].iter().any(|q| q.producer == p.producer) {
            return Err(invalid(
                f("producer"),
                format!("a second entry for `{}`", p.producer),
            ));
        }
        if let Err(e) = p.producer_config().validate() {
            let name = match &e {
                crate::log::LogError::InvalidConfig {
                    field: "retries", ..
                } => "retries",
                crate::log::LogError::InvalidConfig { field: "acks", .. } => "enable_idempotence",
                _ => "max_in_flight_requests_per_connection",
            };
            return Err(invalid(f(name), e.to_string()));
        }
        for (name, v) in [
            ("retry_backoff_ms", p.retry_backoff_ms),
            ("request_timeout_ms", p.request_timeout_ms),
        ] {
            let lo = u64::from(name == "request_timeout_ms");
            crate::ranges::ms_max(f(name), v, lo, MAX_SETTING_MS)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Scenario;
    use serde_json::json;

    fn with(channel: serde_json::Value) -> String {
        json!({
            "name": "v",
            "nodes": [
                {"name": "p", "kind": "service"},
                {"name": "b", "kind": "broker"},
                {"name": "c", "kind": "service", "instances": 2},
                {"name": "d", "kind": "service"}
            ],
            "links": [{"a": "p", "b": "b"}, {"a": "b", "b": "c"}, {"a": "b", "b": "d"}],
            "channels": [channel]
        })
        .to_string()
    }

    fn err(channel: serde_json::Value) -> String {
        Scenario::from_json(&with(channel)).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_partitioned_topic() {
        let s = Scenario::from_json(&with(json!({
            "name": "orders", "kind": "partitioned_topic", "broker": "b", "partitions": 3,
            "retention_records": 100, "consumers": ["c", "d"],
            "consumer_groups": [{"consumer": "c", "group": "billing", "assignment": "round_robin",
                                 "delivery": "at_most_once", "workers_per_partition": 4}],
            "producers": [{"producer": "p", "enable_idempotence": false,
                           "max_in_flight_requests_per_connection": 50}]
        })))
        .unwrap();
        let c = &s.channels[0];
        assert_eq!((c.partitions, c.retention_records), (3, 100));
        assert_eq!(c.consumer_groups[0].group_id(), "billing");
        assert_eq!(c.consumer_groups[0].session_timeout_ms, 3_000);
        // Serialized back, defaults stay out and the document round-trips.
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn errors_name_the_field() {
        let t = |extra: serde_json::Value| {
            let mut c = json!({"name": "orders", "kind": "partitioned_topic", "broker": "b",
                               "consumers": ["c"]});
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            err(c)
        };
        assert_eq!(
            t(json!({"partitions": 0})),
            "channels[0].partitions: invalid config partitions = 0: must be between 1 and 1024"
        );
        assert_eq!(
            t(json!({"partitions": 65})),
            "channels[0].partitions: 65 is out of range 1..=64"
        );
        assert_eq!(
            t(json!({"retention_records": 0})),
            "channels[0].retention_records: invalid config retentionRecords = 0: must be between 1 and 1000000"
        );
        assert_eq!(
            t(json!({"name": "a/b"})),
            "channels[0].name: character 2 of `a/b` is `/` (U+002F); a name uses ASCII letters, digits, `-`, `_`, `.`, starting with a letter or digit"
        );
        assert_eq!(
            t(json!({"consumer_groups": [{"consumer": "d"}]})),
            "channels[0].consumer_groups[0].consumer: `d` is not one of this channel's consumers"
        );
        assert_eq!(
            t(json!({"consumer_groups": [{"consumer": "c", "heartbeat_interval_ms": 3000}]})),
            "channels[0].consumer_groups[0].heartbeat_interval_ms: 3000 must be below session_timeout_ms (3000)"
        );
        assert_eq!(
            t(json!({"consumer_groups": [{"consumer": "c", "fetch_max_wait_ms": 1000}]})),
            "channels[0].consumer_groups[0].fetch_max_wait_ms: 1000 must be below request_timeout_ms (1000), or every held fetch times out"
        );
        assert_eq!(
            t(json!({"consumer_groups": [{"consumer": "c", "workers_per_partition": 0}]})),
            "channels[0].consumer_groups[0].workers_per_partition: invalid config workersPerPartition = 0: must be between 1 and 1024"
        );
        assert_eq!(
            t(json!({"consumer_groups": [{"consumer": "c", "poll_interval_ms": 0}]})),
            "channels[0].consumer_groups[0].poll_interval_ms: 0 is out of range 1..=3600000 (ms)"
        );
        assert_eq!(
            t(json!({"producers": [{"producer": "p", "max_in_flight_requests_per_connection": 6}]})),
            "channels[0].producers[0].max_in_flight_requests_per_connection: invalid config max.in.flight.requests.per.connection = 6: must be at most 5 with enable.idempotence"
        );
        assert_eq!(
            t(json!({"producers": [{"producer": "zz"}]})),
            "channels[0].producers[0].producer: unknown name `zz`"
        );
        assert_eq!(
            t(json!({"producers": [{"producer": "b"}]})),
            "channels[0].producers[0].producer: `b` is not a service"
        );
        assert!(
            t(json!({"consumer_groups": [{"consumer": "c", "assignment": "sticky"}]}))
                .contains("unknown variant `sticky`")
        );
        // Only a partitioned topic takes these fields.
        assert_eq!(
            err(json!({"name": "q", "kind": "queue", "broker": "b", "partitions": 3})),
            "channels[0]: partitions, retention_records, consumer_groups and producers apply only to kind `partitioned_topic`"
        );
    }

    #[test]
    fn group_ids_are_unique_across_partitioned_topics() {
        let text = json!({
            "name": "v",
            "nodes": [{"name": "b", "kind": "broker"}, {"name": "c", "kind": "service"}],
            "links": [{"a": "b", "b": "c"}],
            "channels": [
                {"name": "t1", "kind": "partitioned_topic", "broker": "b", "consumers": ["c"]},
                {"name": "t2", "kind": "partitioned_topic", "broker": "b", "consumers": ["c"]}
            ]
        })
        .to_string();
        assert_eq!(
            Scenario::from_json(&text).unwrap_err().to_string(),
            "channels[1].consumer_groups: group id `c` is used twice; give each consumer of a partitioned topic its own `group`"
        );
        let mut fixed: serde_json::Value = serde_json::from_str(&text).unwrap();
        fixed["channels"][1]["consumer_groups"] = json!([{"consumer": "c", "group": "c-t2"}]);
        assert!(Scenario::from_json(&fixed.to_string()).is_ok());
    }
}
