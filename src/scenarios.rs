//! Built-in scenarios, shipped as JSON files in `scenarios/` and embedded at compile time.

/// `(name, JSON)` of every built-in scenario, in gallery order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "order-events",
        include_str!("../scenarios/order-events.json"),
    ),
    (
        "one-way-notification",
        include_str!("../scenarios/one-way-notification.json"),
    ),
    (
        "request-async-reply",
        include_str!("../scenarios/request-async-reply.json"),
    ),
    (
        "publish-async-responses",
        include_str!("../scenarios/publish-async-responses.json"),
    ),
    (
        "brokerless-vs-broker",
        include_str!("../scenarios/brokerless-vs-broker.json"),
    ),
    (
        "competing-consumers",
        include_str!("../scenarios/competing-consumers.json"),
    ),
    (
        "partitioned-orders",
        include_str!("../scenarios/partitioned-orders.json"),
    ),
    (
        "idempotent-producer",
        include_str!("../scenarios/idempotent-producer.json"),
    ),
    (
        "parallel-workers",
        include_str!("../scenarios/parallel-workers.json"),
    ),
    (
        "dead-letter-queue",
        include_str!("../scenarios/dead-letter-queue.json"),
    ),
    (
        "broker-durability",
        include_str!("../scenarios/broker-durability.json"),
    ),
    (
        "broker-bottleneck",
        include_str!("../scenarios/broker-bottleneck.json"),
    ),
    (
        "broker-dedup-window",
        include_str!("../scenarios/broker-dedup-window.json"),
    ),
    (
        "consumer-offsets",
        include_str!("../scenarios/consumer-offsets.json"),
    ),
    (
        "duplicate-handling",
        include_str!("../scenarios/duplicate-handling.json"),
    ),
    (
        "outbox-polling",
        include_str!("../scenarios/outbox-polling.json"),
    ),
    (
        "outbox-log-tailing",
        include_str!("../scenarios/outbox-log-tailing.json"),
    ),
    ("dual-write", include_str!("../scenarios/dual-write.json")),
    (
        "outbox-ordering",
        include_str!("../scenarios/outbox-ordering.json"),
    ),
    (
        "data-replication",
        include_str!("../scenarios/data-replication.json"),
    ),
    (
        "respond-before-processing",
        include_str!("../scenarios/respond-before-processing.json"),
    ),
    ("rpi-rest", include_str!("../scenarios/rpi-rest.json")),
    (
        "rest-maturity",
        include_str!("../scenarios/rest-maturity.json"),
    ),
    (
        "circuit-breaker",
        include_str!("../scenarios/circuit-breaker.json"),
    ),
    (
        "timeouts-retries",
        include_str!("../scenarios/timeouts-retries.json"),
    ),
    ("bulkhead", include_str!("../scenarios/bulkhead.json")),
    (
        "resilience-composed",
        include_str!("../scenarios/resilience-composed.json"),
    ),
    (
        "discovery-client-side",
        include_str!("../scenarios/discovery-client-side.json"),
    ),
    (
        "discovery-server-side",
        include_str!("../scenarios/discovery-server-side.json"),
    ),
    (
        "schema-rollout",
        include_str!("../scenarios/schema-rollout.json"),
    ),
    (
        "encoding-comparison",
        include_str!("../scenarios/encoding-comparison.json"),
    ),
    (
        "schema-registry",
        include_str!("../scenarios/schema-registry.json"),
    ),
];

/// The JSON of the built-in scenario `name`, if there is one.
pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, j)| *j)
}

/// Names of the built-in scenarios, in gallery order.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// One edit of a scenario's JSON document, addressed by a JSON Pointer (RFC 6901).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patch {
    /// Replace (or add, in an object) the value at the pointer with this JSON text.
    Set(&'static str, &'static str),
    /// Remove the member (or array element; later ones move down) at the pointer (a missing
    /// one is an error).
    Remove(&'static str),
    /// Append this JSON text to the array at the pointer.
    Push(&'static str, &'static str),
}

/// One side of a [`Comparison`]: a label and the edits that make it from the base scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// Short label (`outbox`, `dual write`).
    pub label: &'static str,
    /// Edits of the base scenario, applied in order (none: the scenario as it is).
    pub patches: &'static [Patch],
}

/// A meaningful pair of variants of one built-in scenario, run side by side with the same seed
/// and the same faults (the scenario's schedule plus the user's commands) so that the metrics
/// that differ are the pattern's doing. Variants keep every node, link and channel name of the
/// base, so a command that names them applies to both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Identifier (`?compare=<name>`).
    pub name: &'static str,
    /// Title.
    pub title: &'static str,
    /// The built-in scenario both variants come from.
    pub scenario: &'static str,
    /// What the pair shows and where to look.
    pub why: &'static str,
    /// Variant A.
    pub a: Variant,
    /// Variant B.
    pub b: Variant,
    /// Edits applied to both variants before their own (extra faults that show the
    /// difference; both runs get exactly the same ones).
    pub shared: &'static [Patch],
    /// Virtual time both runs go to, ms.
    pub horizon_ms: u64,
    /// The counters that show the pattern's effect, as `group · metric` of the compare
    /// view's diff (`events of order · lost`): listed first and highlighted.
    pub focus: &'static [&'static str],
}

/// The comparisons of the built-in scenarios, in the order the compare view lists them.
pub const COMPARISONS: &[Comparison] = &[
    Comparison {
        name: "outbox-vs-dual-write",
        title: "Transactional outbox vs dual write",
        scenario: "outbox-polling",
        why: "The same orders and the same crashes (the scenario's, plus Order crashing right after a commit at 3 s and the broker down from 6 s to 7.5 s): with the outbox every committed order is published, later if need be (the relay crash only republishes, so the naive Accounting charges some twice); committing and then publishing from Order loses the event of the commit the crash interrupted and those whose publishes gave up while the broker was down.",
        a: Variant {
            label: "outbox",
            patches: &[],
        },
        b: Variant {
            label: "dual write (commit, then publish)",
            patches: &[
                Patch::Set(
                    "/workloads/0/operation/write/strategy",
                    r#""commit_then_publish""#,
                ),
                Patch::Push(
                    "/links",
                    r#"{ "a": "order", "b": "broker", "latency_ms": 20, "jitter_ms": 5 }"#,
                ),
                // Dual write has no outbox relay: remove it with its link and its two
                // scheduled faults (the relay crash and restart), so the canvas does not draw
                // a relay polling an OUTBOX that stays empty.
                Patch::Remove("/faults/1"),
                Patch::Remove("/faults/0"),
                Patch::Remove("/transactional/relays/0"),
                Patch::Remove("/links/0"),
                Patch::Remove("/nodes/1"),
            ],
        },
        shared: &[
            Patch::Push(
                "/faults",
                r#"{ "at_ms": 3000, "command": { "op": "arm_crash", "node": "order", "point": "after_commit" } }"#,
            ),
            Patch::Push(
                "/faults",
                r#"{ "at_ms": 3500, "command": { "op": "restart", "node": "order" } }"#,
            ),
            Patch::Push(
                "/faults",
                r#"{ "at_ms": 6000, "command": { "op": "crash", "node": "broker" } }"#,
            ),
            Patch::Push(
                "/faults",
                r#"{ "at_ms": 7500, "command": { "op": "restart", "node": "broker" } }"#,
            ),
        ],
        horizon_ms: 15_000,
        focus: &[
            "events of order · lost",
            "events of order · duplicates",
            "events of order · published",
            "service accounting · effects",
        ],
    },
    Comparison {
        name: "breaker-on-off",
        title: "Circuit breaker on vs off",
        scenario: "circuit-breaker",
        why: "Payments turns slow at 5 s. With the breaker (and its fallback) on checkout-b -> payments-b, checkout-b answers at once and shop-b keeps succeeding; without it, checkout-b's workers wait on payments-b, its queue fills, and shop-b's calls time out and fail: the cascade. Chain a (never protected) is the same in both runs.",
        a: Variant {
            label: "breaker on",
            patches: &[],
        },
        b: Variant {
            label: "breaker off",
            patches: &[
                Patch::Remove("/dependencies/3/policies/circuitBreaker"),
                Patch::Remove("/dependencies/3/fallback"),
            ],
        },
        shared: &[],
        horizon_ms: 30_000,
        focus: &[
            "calls shop-b → checkout-b · successes",
            "calls shop-b → checkout-b · failures",
            "calls checkout-b → payments-b · rejected_by_breaker",
            "calls checkout-b → payments-b · fallbacks",
            "server checkout-b · max_queue_depth",
        ],
    },
    Comparison {
        name: "tolerant-vs-strict",
        title: "Tolerant vs strict readers",
        scenario: "schema-rollout",
        why: "The producer moves 1.0.0 -> 1.1.0 (minor, adds an optional field) at 4 s -> 2.0.0 (major) at 8 s. Tolerant readers ignore the unknown field and keep reading the minor version; strict readers reject it (unknown field age) and dead-letter it. The major version breaks both.",
        a: Variant {
            label: "every reader tolerant",
            patches: &[Patch::Set(
                "/channels/0/readers/audit/mode",
                r#""tolerant""#,
            )],
        },
        b: Variant {
            label: "every reader strict",
            patches: &[
                Patch::Set("/channels/0/readers/crm/mode", r#""strict""#),
                Patch::Set("/channels/0/readers/mailer/mode", r#""strict""#),
            ],
        },
        shared: &[],
        horizon_ms: 15_000,
        focus: &[
            "reader crm on user-events · rejected",
            "reader audit on user-events · rejected",
            "schemas · rejected",
            "run · dead_lettered",
        ],
    },
    Comparison {
        name: "naive-vs-dedup",
        title: "Naive vs deduplicating receivers",
        scenario: "duplicate-handling",
        why: "The same network duplicates, lost acks and redeliveries reach the three subscribers. Naive receivers apply every copy, so effects exceed the distinct messages; with a processed-messages table the repeats are discarded and effects equal what was expected.",
        a: Variant {
            label: "naive receivers",
            patches: &[
                Patch::Set("/nodes/3/duplicates", r#""naive""#),
                Patch::Set("/nodes/4/duplicates", r#""naive""#),
            ],
        },
        b: Variant {
            label: "deduplicating receivers",
            patches: &[
                Patch::Set("/nodes/2/duplicates", r#""dedup""#),
                Patch::Set("/nodes/3/duplicates", r#""dedup""#),
            ],
        },
        shared: &[],
        horizon_ms: 20_000,
        focus: &[
            "service ledger · effects",
            "service order-status · effects",
            "service billing · effects",
            "run · duplicates_discarded",
        ],
    },
];

/// The comparison `name`, if there is one.
pub fn comparison(name: &str) -> Option<&'static Comparison> {
    COMPARISONS.iter().find(|c| c.name == name)
}

fn apply_patch(doc: &mut serde_json::Value, p: &Patch) -> Result<(), String> {
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("bad JSON {text}: {e}"))
    };
    let split = |ptr: &'static str| {
        ptr.rsplit_once('/')
            .ok_or_else(|| format!("bad pointer {ptr}"))
    };
    match *p {
        Patch::Set(ptr, text) => {
            let value = parse(text)?;
            let (parent, key) = split(ptr)?;
            match doc.pointer_mut(parent) {
                Some(serde_json::Value::Object(m)) => {
                    m.insert(key.to_string(), value);
                }
                Some(serde_json::Value::Array(a)) => {
                    let slot = key
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| a.get_mut(i))
                        .ok_or_else(|| format!("no element {ptr}"))?;
                    *slot = value;
                }
                _ => return Err(format!("nothing at {parent}")),
            }
        }
        Patch::Remove(ptr) => {
            let (parent, key) = split(ptr)?;
            let removed = match doc.pointer_mut(parent) {
                Some(serde_json::Value::Object(m)) => m.remove(key),
                // An array element: the later ones move down by one.
                Some(serde_json::Value::Array(a)) => key
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i < a.len())
                    .map(|i| a.remove(i)),
                _ => None,
            };
            if removed.is_none() {
                return Err(format!("nothing to remove at {ptr}"));
            }
        }
        Patch::Push(ptr, text) => {
            let value = parse(text)?;
            match doc.pointer_mut(ptr) {
                Some(serde_json::Value::Array(a)) => a.push(value),
                _ => return Err(format!("no array at {ptr}")),
            }
        }
    }
    Ok(())
}

impl Comparison {
    /// Variant `v` as a validated scenario: the base scenario's JSON with its patches applied;
    /// its title names the variant. Without the base's `experiments` (the page's "What to try"
    /// of the scenario, which may name what a variant removes, e.g. the breaker).
    pub fn build(&self, v: &Variant) -> Result<crate::Scenario, String> {
        let json = get(self.scenario).ok_or_else(|| format!("no scenario {}", self.scenario))?;
        let mut doc: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if let Some(o) = doc.as_object_mut() {
            o.remove("experiments");
        }
        for p in self.shared.iter().chain(v.patches) {
            apply_patch(&mut doc, p)?;
        }
        let mut s = crate::Scenario::from_json(&doc.to_string())
            .map_err(|e| format!("variant {}: {e}", v.label))?;
        s.title = format!("{} — {}", s.title, v.label);
        Ok(s)
    }

    /// Both variants, A then B.
    pub fn variants(&self) -> Result<(crate::Scenario, crate::Scenario), String> {
        Ok((self.build(&self.a)?, self.build(&self.b)?))
    }
}

#[cfg(test)]
mod comparison_tests {
    use super::*;

    #[test]
    fn every_comparison_builds_two_different_valid_variants_of_a_builtin() {
        for c in COMPARISONS {
            let (a, b) = match c.variants() {
                Ok(v) => v,
                // Without Avro the schema comparison is refused (the next test pins why).
                Err(e) if cfg!(not(feature = "avro")) && c.scenario == "schema-rollout" => {
                    assert!(e.contains("feature `avro`"), "{}: {e}", c.name);
                    continue;
                }
                Err(e) => panic!("{}: {e}", c.name),
            };
            assert_eq!(a.name, c.scenario);
            assert_ne!(a, b, "{}", c.name);
            let names = |s: &crate::Scenario| -> Vec<String> {
                s.nodes.iter().map(|n| n.name.clone()).collect()
            };
            // The same nodes and faults, except nodes a variant's pattern does not have (dual
            // write has no outbox relay) and the faults that name them.
            let removed: Vec<String> = names(&a)
                .into_iter()
                .filter(|n| !names(&b).contains(n))
                .collect();
            assert!(
                names(&b).iter().all(|n| names(&a).contains(n)),
                "{}: B adds no node",
                c.name
            );
            let kept: Vec<_> = a
                .faults
                .iter()
                .filter(|f| {
                    let d = format!("{f:?}");
                    !removed.iter().any(|r| d.contains(&format!("\"{r}\"")))
                })
                .cloned()
                .collect();
            assert_eq!(kept, b.faults, "{}: the same faults", c.name);
            assert_eq!(
                removed.len(),
                usize::from(c.name == "outbox-vs-dual-write"),
                "{}",
                c.name
            );
        }
    }

    /// A build without the `avro` feature (the lean widget) refuses exactly the built-ins whose
    /// channels declare schemas, naming the field and the feature; every other one runs.
    #[cfg(not(feature = "avro"))]
    #[test]
    fn without_avro_exactly_the_schema_builtins_are_refused_and_say_why() {
        let mut refused = Vec::new();
        for (name, json) in BUILTIN {
            if let Err(e) = crate::Simulation::from_json(json, 7) {
                refused.push((*name, e.to_string()));
            }
        }
        let why = "this build has no Avro support (feature `avro`); open the scenario in the full playground, or build msgsim with the `avro` feature";
        assert_eq!(
            refused,
            [
                ("schema-rollout", format!("channels[0].schemas[0]: {why}")),
                (
                    "encoding-comparison",
                    format!("channels[0].schemas[0]: {why}")
                ),
                ("schema-registry", format!("channels[0].schemas[0]: {why}")),
            ]
        );
    }

    #[test]
    fn a_bad_patch_is_an_error_not_a_panic() {
        let mut doc = serde_json::json!({ "a": [1] });
        assert!(apply_patch(&mut doc, &Patch::Remove("/b")).is_err());
        // Array elements are removed too; an index past the end is an error.
        let mut arr = serde_json::json!({ "xs": [1, 2, 3] });
        apply_patch(&mut arr, &Patch::Remove("/xs/1")).unwrap();
        assert_eq!(arr, serde_json::json!({ "xs": [1, 3] }));
        assert!(apply_patch(&mut arr, &Patch::Remove("/xs/2")).is_err());
        assert!(apply_patch(&mut doc, &Patch::Set("/a/3", "1")).is_err());
        assert!(apply_patch(&mut doc, &Patch::Push("/a", "{")).is_err());
        assert!(apply_patch(&mut doc, &Patch::Push("/a", "2")).is_ok());
        assert_eq!(doc, serde_json::json!({ "a": [1, 2] }));
    }
}
