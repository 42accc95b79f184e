// Hand-written types of the plain objects msgsim-js returns and accepts. Appended to the
// generated msgsim_js.d.ts (typescript_custom_section in src/lib.rs).
//
// Numbers: every time is virtual microseconds (µs) since the start of the run; counters are
// integers. An integer above Number.MAX_SAFE_INTEGER (2^53 - 1) comes as a `bigint` instead of a
// `number`: in practice only `TransitView.arrive_at` of a held packet (u64::MAX = "never") and a
// `seed` chosen that large. Such fields are typed `number | bigint`.

/** Any JSON value (the shape of the parts typed loosely below). */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * A seed: a non-negative safe integer `number` (≤ 2^53 - 1), a `bigint` in 0..2^64-1, or the
 * same as a decimal string (`"18446744073709551615"`, as in a `?seed=` URL parameter).
 */
export type Seed = number | bigint | string;

/** A built-in scenario, as listed by `scenarios()`. */
export interface ScenarioInfo {
  /** Machine name, e.g. `"order-events"` (pass it to `new Simulation(name)`). */
  name: string;
  /** One-line title. */
  title: string;
  /** Gallery section, e.g. `"Asynchronous messaging"`. */
  section: string;
  /** What it shows and what to try. */
  description: string;
  /** The scenario's default seed (used when the constructor gets none). */
  seed: number | bigint;
}

/**
 * A scenario document: the engine's `msgsim::Scenario` JSON (see README "Scenario format").
 * Times in the document are in ms, probabilities in percent; unknown fields are errors.
 */
export interface ScenarioDocument {
  name: string;
  title?: string;
  description?: string;
  section?: string;
  seed?: number;
  nodes: JsonObject[];
  links?: JsonObject[];
  channels?: JsonObject[];
  workloads?: JsonObject[];
  policies?: JsonObject;
  faults?: { at_ms: number; command: Command }[];
  /** The other sections (`transactional`, `apis`, `dependencies`, `calls`, …), as in the README. */
  [section: string]: unknown;
}

/** Faults of one link direction. Defaults: latency 1 ms, everything else off. */
export interface LinkFaults {
  /** One-way delay, ms. Default 1. */
  latency_ms?: number;
  /** Uniform ± variation of the delay, ms. Default 0. */
  jitter_ms?: number;
  /** Loss probability per message, percent 0–100. Default 0. */
  loss_percent?: number;
  /** Duplication probability per message, percent 0–100. Default 0. */
  duplicate_percent?: number;
  /** Every message sent is dropped. Default false. */
  partitioned?: boolean;
  /** Messages wait on the link until released. Default false. */
  held?: boolean;
}

/** Server behaviour of an endpoint (`set_endpoint`). Every field defaults to "healthy". */
export interface ServerBehaviour {
  latency_ms?: number;
  jitter_ms?: number;
  slow_percent?: number;
  slow_latency_ms?: number;
  error_percent?: number;
  error_status?: number;
}

/** Circuit breaker states, Resilience4j's spelling. */
export type CircuitBreakerState =
  | "CLOSED" | "OPEN" | "HALF_OPEN" | "FORCED_OPEN" | "DISABLED" | "METRICS_ONLY";

/**
 * A command (`msgsim::Command` as JSON), applied at the current virtual time by `apply`.
 * `instance` defaults to 0, `direction` to `"both"`, `count` to 1, `endpoint` to all endpoints.
 */
export type Command =
  | { op: "set_link"; a: string; b: string; direction?: "both" | "a_to_b" | "b_to_a"; faults: LinkFaults }
  | { op: "partition" | "partition_oneway" | "repair" | "repair_oneway" | "hold" | "release"; a: string; b: string }
  | { op: "crash" | "restart" | "pause" | "resume"; node: string; instance?: number }
  | { op: "publish"; node: string; instance?: number; id?: number; message: { channel: string; kind: "command" | "event" | "document" | "reply"; type: string; key?: string | null; payload?: unknown } }
  | { op: "stop_relay"; node: string }
  | { op: "reject_next_publish"; channel: string; count?: number }
  | { op: "arm_crash"; node: string; instance?: number; point: "before_commit" | "after_commit" | "after_publish" }
  | { op: "set_endpoint"; node: string; endpoint?: number | null; behaviour: ServerBehaviour }
  | { op: "set_breaker"; node: string; instance?: number; service: string; state: CircuitBreakerState }
  | { op: "set_schema_version"; node: string; channel: string; version: string }
  /** Live Resilience4j settings; `config` uses Resilience4j's JSON names (durations `"2s"` or µs). */
  | { op: "configure_breaker"; node: string; service: string; config: Record<string, unknown> }
  | { op: "set_retry" | "set_time_limiter" | "set_bulkhead" | "set_rate_limiter"; node: string; service: string; config?: Record<string, unknown> | null }
  /** Scale a service to `instances` running instances (0 to the count its scenario declares). */
  | { op: "scale"; node: string; instances: number }
  /** Live broker settings; absent fields are unchanged. */
  | { op: "set_broker_policies"; prefetch?: number; ack_timeout_ms?: number; max_delivery_attempts?: number }
  | { op: "set_channel"; channel: string; durable?: boolean; dedup_window_ms?: number; failure_percent?: number }
  | { op: "set_workload"; workload: number; every_ms: number }
  | { op: "set_relay"; node: string; max_in_flight?: number; batch_size?: number; poll_every_ms?: number; save_every?: number }
  | { op: "set_consumer_group"; channel: string; consumer: string; workers_per_partition: number };

/** A command applied through `apply`, with its exact place in the run. */
export interface RecordedCommand {
  /** Virtual time it was applied at, µs. */
  at: number;
  /** Events handled before it (places it between events that share a time). */
  events: number;
  command: Command;
}

/** Result of `runUntil` / `runFor`. */
export interface RunResult {
  /** Events handled by this call. */
  events: number;
  /** Whether the target time was reached (false when `maxEvents` stopped it first). */
  reached: boolean;
  /** Virtual time after the call, µs. */
  now: number;
}

/** A standard invariant a scenario can claim (`msgsim::invariants::Invariant`). */
export type InvariantName = "no_message_lost" | "effect_applied_once" | "per_key_order" | "breaker_protects_caller";

/** One of a scenario's `claims`: the invariant and the services it is limited to (all when absent). */
export interface ClaimSpec {
  claim: InvariantName;
  services?: string[];
}

/** Where a claim stands: holding, or its first violation. */
export type InvariantState =
  | { state: "holding" }
  | {
      state: "violated";
      /** Trace sequence number of the first violating event. */
      seq: number;
      /** Its virtual time, µs. */
      time: number;
      /** One line: what broke the claim. */
      reason: string;
      /** The event's trace line. */
      line: string;
    };

/** A claim and where it stands (`Simulation.invariants()`). */
export interface InvariantStatus {
  claim: ClaimSpec;
  state: InvariantState;
  /** Things checked so far (messages followed, effects applied, calls made: per invariant). */
  checked: number;
  /** Violating events so far (the first is in `state`). */
  violations: number;
}

/** Run-wide counters (`msgsim::Metrics`), totals since the start of the run. */
export interface Metrics {
  /** Packets put on the network by nodes, network duplicates excluded. */
  sent: number;
  /** Packets that reached a running node. */
  delivered: number;
  /** Packets lost: loss, partition, crashed receiver, full buffer. */
  dropped: number;
  /** Extra copies made by the network. */
  duplicated: number;
  /** Deliveries the broker made again. */
  redelivered: number;
  /** Publishes a producer retried. */
  retried: number;
  /** Acks the broker received. */
  acked: number;
  /** Handler runs. */
  processed: number;
  /** Business effects applied. */
  effects: number;
  /** Repeats discarded by deduplicating receivers. */
  duplicates_discarded: number;
  /** Messages created by workloads. */
  published: number;
  /** Publishes abandoned after `publish_max_attempts`. */
  publish_failed: number;
  /** Messages moved to a dead-letter queue. */
  dead_lettered: number;
  requests: number;
  replies: number;
  requests_completed: number;
  requests_timed_out: number;
  requests_abandoned: number;
  decisions: number;
  late_replies: number;
  duplicate_replies: number;
  direct_sent: number;
  direct_lost: number;
  handler_failures: number;
  nacked: number;
  broker_duplicates: number;
  broker_lost: number;
  backlog_lost: number;
  /** Synchronous logical calls started. */
  calls: number;
  calls_ok: number;
  calls_failed: number;
  fallbacks: number;
  /** HTTP requests sent by client proxies. */
  http_requests: number;
}

/** Per-node counters (`msgsim::snapshot::NodeMetrics`). */
export interface NodeMetrics {
  /** Handler runs. */
  processed: number;
  /** Effects applied. */
  effects: number;
  /** Distinct message ids handled (`processed - distinct` = repeats seen). */
  distinct: number;
  duplicates_discarded: number;
  /** Messages this service created. */
  published: number;
  /** Publishes confirmed by the broker. */
  confirmed: number;
  retried: number;
  publish_failed: number;
  /** Workload ticks with no running instance. */
  skipped: number;
  /** Effects an exactly-once run would have applied. Compare with `effects`. */
  effects_expected: number;
  handler_failures: number;
  requests: number;
  requests_completed: number;
  requests_timed_out: number;
  decisions: number;
  late_replies: number;
  duplicate_replies: number;
  replies_sent: number;
}

export type NodeKind = "service" | "broker" | "relay" | "registry" | "router" | "registrar" | "schema_registry";
export type DuplicateHandling = "naive" | "dedup" | "idempotent";
export type ChannelKind = "topic" | "queue" | "direct" | "partitioned_topic";
export type DropReason = "loss" | "partition" | "node_down" | "overflow";
export type MessageKind = "command" | "event" | "document" | "reply";

/** One instance of a node. */
export interface InstanceView {
  index: number;
  status: "up" | "paused" | "crashed";
  /** Deliveries waiting in its inbox. */
  inbox: number;
  busy: boolean;
  pending_publishes: number;
  workers_busy: number;
  request_queue: number;
  blocked_calls: number;
}

/** A node and its instances. */
export interface NodeView {
  name: string;
  kind: NodeKind;
  /** Canvas position (1000 × 600 box), if the scenario gives one. */
  pos: [number, number] | null;
  effect: string;
  duplicates: DuplicateHandling;
  instances: InstanceView[];
  metrics: NodeMetrics;
  /** Processed-messages / idempotent state table, newest last (at most 64 rows). */
  processed_table: JsonObject[];
  /** Pending requests (at most 32). */
  requests: JsonObject[];
  /** Finished requests (at most 32). */
  request_outcomes: JsonObject[];
  /** Broker capacity and backlog (`msgsim::snapshot::BrokerView`), for a broker. */
  broker: JsonObject | null;
  api_level: number | null;
  server: JsonObject | null;
}

/** Counters of one link direction. */
export interface LinkMetrics {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

/** A link, both directions. */
export interface LinkView {
  index: number;
  a: string;
  b: string;
  a_to_b: Required<LinkFaults>;
  b_to_a: Required<LinkFaults>;
  a_to_b_metrics: LinkMetrics;
  b_to_a_metrics: LinkMetrics;
}

/** A queue or a topic subscription (`topic/subscriber`). */
export interface QueueView {
  name: string;
  consumer: string;
  ready: number;
  unacked: number;
  dead_letters: number;
  enqueued: number;
  acked: number;
  redelivered: number;
  /** Last dead letters with their reason (at most 64). */
  dead_letter_queue: {
    msg: number;
    kind: MessageKind;
    type_name: string;
    key: string | null;
    deliveries: number;
    reason: "delivery_limit" | "rejected";
    at: number;
  }[];
  nacked: number;
  lost: number;
}

/** A channel. */
export interface ChannelView {
  name: string;
  kind: ChannelKind;
  broker: string;
  queues: QueueView[];
  durable: boolean;
  dedup_window_ms: number;
  duplicates_dropped: number;
  dedup_ids: number;
  failure_percent: number;
  on_failure: "requeue" | "dead_letter";
  direct_to: string | null;
}

/** A packet on the wire. */
export interface TransitView {
  id: number;
  msg: number;
  packet: PacketKind;
  kind: string;
  label: string;
  key: string | null;
  from: string;
  from_instance: number;
  to: string;
  to_instance: number;
  /** Send time, µs. */
  sent_at: number;
  /** Arrival (or drop) time, µs; 2^64 - 1 as a `bigint` while the packet is held. */
  arrive_at: number | bigint;
  attempt: number;
  duplicate: boolean;
  dropping: DropReason | null;
  held: boolean;
  http: JsonObject | null;
  wire?: JsonObject;
}

/**
 * Everything at one virtual time (`msgsim::Snapshot`). The subsystem views (`transactional`,
 * `proxies`, `calls`, `registries`, `routers`, `schemas`, `partitioned_topics`) follow the Rust
 * types of the same names in `msgsim::{outbox, sync, schema_view, snapshot}`.
 */
export interface Snapshot {
  /** Virtual time, µs. */
  time: number;
  seed: number | bigint;
  /** Scenario name. */
  scenario: string;
  nodes: NodeView[];
  links: LinkView[];
  channels: ChannelView[];
  in_flight: TransitView[];
  metrics: Metrics;
  events_processed: number;
  /** Nothing more is scheduled. */
  idle: boolean;
  transactional: JsonObject;
  proxies: JsonObject[];
  calls: JsonObject[];
  registries: JsonObject[];
  routers: JsonObject[];
  schemas?: JsonObject;
  partitioned_topics: JsonObject[];
}

/** What travels on a link. */
export type PacketKind =
  | "publish" | "publish_ack" | "deliver" | "ack" | "http_request" | "http_response" | "reset"
  | "register" | "deregister" | "lookup" | "lookup_reply" | "health_check" | "health_ok"
  | "publish_nack" | "request" | "response" | "nack" | "direct" | "schema_lookup" | "schema_reply"
  | "produce" | "produce_response" | "fetch" | "fetch_response" | "offset_commit"
  | "offset_commit_response" | "join_group" | "join_group_response" | "sync_group"
  | "sync_group_response" | "heartbeat" | "heartbeat_response";

/** Names of trace events (`msgsim::TraceKind`, snake_case). */
export type TraceEventName =
  | "send" | "arrive" | "drop" | "release" | "enqueue" | "overflow" | "redeliver" | "dead_letter"
  | "acked" | "process" | "retry" | "give_up" | "skipped" | "command" | "request_sent"
  | "reply_sent" | "request_completed" | "request_timed_out" | "reply_collected" | "decided"
  | "reply_discarded" | "handler_failed" | "nacked" | "broker_duplicate" | "queue_lost"
  | "backlog_lost" | "instance_lost" | "idempotent_set" | "tx_begin" | "tx_commit" | "tx_rollback"
  | "relay_read" | "relay_mark" | "relay_save" | "relay_rewind" | "relay_stop" | "publish_rejected"
  | "failpoint_crash" | "replica_apply" | "replica_query" | "client_status" | "call_invoke"
  | "call_attempt" | "call_wait" | "call_result" | "call_retry" | "call_fallback" | "call_done"
  | "call_skipped" | "server_queued" | "server_rejected" | "server_start" | "server_reply"
  | "late_response" | "breaker_transition" | "registered" | "expired" | "deregistered"
  | "cache_refreshed" | "routed" | "probe_failed" | "encode" | "produce_rejected" | "decode"
  | "lookup_timeout" | "rejected" | "produce" | "append" | "duplicate_append" | "append_rejected"
  | "produce_acked" | "produce_retry" | "produce_failed" | "producer_epoch_bump"
  | "late_produce_response" | "fetch" | "consume" | "records_dropped" | "offset_commit"
  | "commit_failed" | "join" | "member_removed" | "rebalance" | "revoke" | "assign";

/** A node instance in a trace event. */
export interface Endpoint {
  node: string;
  instance: number;
}

interface TraceEventBase {
  /** Position in the run, from 0 (evicted events count). */
  seq: number;
  /** Virtual time, µs. */
  time: number;
  /** The engine's one-line form, e.g. `t=0.000ms order#0 -> broker publish m1 attempt=1 #1`. */
  line: string;
}

/** A packet left `from` towards `to`. */
export interface TraceSend extends TraceEventBase {
  event: "send";
  transit: number;
  from: Endpoint;
  to: Endpoint;
  packet: PacketKind;
  msg: number;
  attempt: number;
  duplicate: boolean;
}

/** A packet arrived. */
export interface TraceArrive extends TraceEventBase {
  event: "arrive";
  transit: number;
  from: Endpoint;
  to: Endpoint;
  packet: PacketKind;
  msg: number;
}

/** A packet was lost. */
export interface TraceDrop extends TraceEventBase {
  event: "drop";
  transit: number;
  from: Endpoint;
  to: Endpoint;
  packet: PacketKind;
  msg: number;
  reason: DropReason;
}

/** Any other event: its fields are those of the `msgsim::TraceKind` variant of that name. */
export interface TraceOther extends TraceEventBase {
  event: Exclude<TraceEventName, "send" | "arrive" | "drop">;
  [field: string]: JsonValue;
}

/** One trace event (discriminated by `event`). */
export type TraceEvent = TraceSend | TraceArrive | TraceDrop | TraceOther;

/** Which trace events `trace()` returns. */
export interface TraceOptions {
  /** First `seq` wanted. Default 0 (the oldest still in memory). */
  from?: number;
  /** At most this many events. Default 1000, at most 10 000. */
  limit?: number;
}

/** A page of the trace. */
export interface TracePage {
  /** Events with `seq >= from`, oldest first, at most `limit`. */
  events: TraceEvent[];
  /** The `from` of the next page (`seq` after the last returned event). */
  next: number;
  /** Events recorded in the whole run, evicted ones included. */
  total: number;
  /** `seq` of the oldest event still in memory (the buffer keeps the last 10 000). */
  first_kept: number;
}
