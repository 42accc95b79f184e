//! Compare: two variants of a scenario ([`msgsim::scenarios::COMPARISONS`]) run side by side
//! with the same seed and the same faults — the scenario's own schedule plus the user's
//! commands, each applied to both at its virtual time — and their metrics diffed.
//!
//! Pure and natively tested; the view is [`crate::components::compare_view`].

use crate::geometry::Layout;
use msgsim::scenarios::Comparison;
use msgsim::{RecordedCommand, SimTime, Simulation, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Engine events each side may take at most (beyond: the run stops early and says so).
pub const COMPARE_MAX_EVENTS: u64 = 20_000_000;
/// User commands applied at most.
pub const COMPARE_MAX_COMMANDS: usize = 1_000;

/// One run of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The variant's label.
    pub label: String,
    /// State at the horizon.
    pub snapshot: Rc<Snapshot>,
    /// Canvas layout of the variant.
    pub layout: Rc<Layout>,
    /// User commands that could not be applied to this variant, one sentence each.
    pub refused: Vec<String>,
    /// The event budget stopped the run before the horizon.
    pub cut_short: bool,
    /// The run's trace hash (equal hashes: identical runs).
    pub trace_hash: u64,
}

/// One metric of both runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    /// What it belongs to: `run`, `service kitchen`, `calls shop-b → checkout-b`...
    pub group: String,
    /// Counter name, as the engine names it (`effects`, `rejected_by_breaker`...).
    pub metric: String,
    /// Value in A (0 when A has no such counter).
    pub a: u64,
    /// Value in B.
    pub b: u64,
}

impl DiffRow {
    /// `group · metric`, as [`Comparison::focus`] names rows.
    pub fn key(&self) -> String {
        format!("{} · {}", self.group, self.metric)
    }

    /// B − A.
    pub fn delta(&self) -> i128 {
        i128::from(self.b) - i128::from(self.a)
    }
}

/// Both runs and the diff.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareResult {
    /// Variant A.
    pub a: Side,
    /// Variant B.
    pub b: Side,
    /// Every counter that is non-zero in A or B, grouped, in a stable order.
    pub rows: Vec<DiffRow>,
    /// The virtual time both runs reached.
    pub at: SimTime,
}

impl CompareResult {
    /// The rows where A and B differ: what the pattern changes.
    pub fn changed(&self) -> impl Iterator<Item = &DiffRow> {
        self.rows.iter().filter(|r| r.a != r.b)
    }
}

/// The integer fields of a serializable counters struct, in declaration order.
fn counters<T: Serialize>(t: &T) -> Vec<(String, u64)> {
    match serde_json::to_value(t) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_u64()?)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The counters of a snapshot by group: run-wide metrics, each service's metrics, each
/// client's calls (summed over its instances) per called service, each server, each event
/// producer's accounting (outbox / dual write), each schema consumer, and the schema totals.
pub fn metric_rows(s: &Snapshot) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    let mut push = |group: String, rows: Vec<(String, u64)>| {
        for (k, v) in rows {
            out.push((group.clone(), k, v));
        }
    };
    push("run".into(), counters(&s.metrics));
    for n in &s.nodes {
        push(format!("service {}", n.name), counters(&n.metrics));
    }
    let mut clients: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for p in &s.proxies {
        let key = (p.client.clone(), p.service.clone());
        if !order.contains(&key) {
            order.push(key.clone());
        }
        let e = clients.entry(key).or_default();
        for (k, v) in counters(&p.metrics) {
            if k == "max_upstream_per_call" {
                let m = e.entry(k).or_default();
                *m = (*m).max(v);
            } else {
                *e.entry(k).or_default() += v;
            }
        }
    }
    for key in order {
        let rows = clients.remove(&key).unwrap_or_default();
        push(
            format!("calls {} → {}", key.0, key.1),
            rows.into_iter().collect(),
        );
    }
    for n in &s.nodes {
        if let Some(sv) = &n.server {
            push(format!("server {}", n.name), counters(sv));
        }
    }
    for st in &s.transactional.strategies {
        let rows = counters(st);
        push(format!("events of {}", st.service), rows);
    }
    if let Some(sc) = &s.schemas {
        for c in &sc.consumers {
            push(
                format!("reader {} on {}", c.consumer, c.channel),
                vec![
                    ("accepted".into(), c.accepted),
                    ("rejected".into(), c.rejected),
                    ("retried".into(), c.retried),
                ],
            );
        }
        push("schemas".into(), counters(&sc.metrics));
    }
    out
}

/// The rows of A and B side by side: every (group, metric) of A in A's order, then those only
/// B has; rows that are zero in both are left out.
pub fn diff(a: &[(String, String, u64)], b: &[(String, String, u64)]) -> Vec<DiffRow> {
    let find = |rows: &[(String, String, u64)], g: &str, m: &str| {
        rows.iter()
            .find(|(rg, rm, _)| rg == g && rm == m)
            .map_or(0, |r| r.2)
    };
    let mut out: Vec<DiffRow> = Vec::new();
    for (g, m, v) in a {
        out.push(DiffRow {
            group: g.clone(),
            metric: m.clone(),
            a: *v,
            b: find(b, g, m),
        });
    }
    for (g, m, v) in b {
        if !a.iter().any(|(ag, am, _)| ag == g && am == m) {
            out.push(DiffRow {
                group: g.clone(),
                metric: m.clone(),
                a: 0,
                b: *v,
            });
        }
    }
    out.retain(|r| r.a != 0 || r.b != 0);
    out
}

/// A command in one line: its JSON (`{"op":"crash","node":"order","instance":0}`).
pub fn describe(c: &msgsim::Command) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| format!("{c:?}"))
}

fn run_side(
    c: &Comparison,
    v: &msgsim::scenarios::Variant,
    seed: u64,
    commands: &[RecordedCommand],
) -> Result<Side, String> {
    let scenario = c.build(v)?;
    let layout = Layout::new(&scenario);
    let mut sim = Simulation::new(scenario, seed).map_err(|e| e.to_string())?;
    let horizon = SimTime::from_ms(c.horizon_ms);
    let mut refused = Vec::new();
    let mut budget = COMPARE_MAX_EVENTS;
    let mut cut_short = false;
    let mut sorted: Vec<&RecordedCommand> = commands.iter().take(COMPARE_MAX_COMMANDS).collect();
    sorted.sort_by_key(|r| (r.at, r.events));
    for r in sorted {
        if r.at > horizon {
            refused.push(format!(
                "{} at {}: after the comparison's horizon ({}), not applied",
                describe(&r.command),
                crate::format::format_secs(r.at),
                crate::format::format_secs(horizon)
            ));
            continue;
        }
        let out = sim.run_until(r.at, budget);
        budget = budget.saturating_sub(out.events);
        if !out.reached {
            cut_short = true;
            break;
        }
        if let Err(e) = sim.apply(r.command.clone()) {
            refused.push(format!(
                "{} at {}: cannot apply to “{}”: {e}",
                describe(&r.command),
                crate::format::format_secs(r.at),
                v.label
            ));
        }
    }
    if !cut_short {
        cut_short = !sim.run_until(horizon, budget).reached;
    }
    Ok(Side {
        label: v.label.to_string(),
        snapshot: Rc::new(sim.snapshot()),
        layout: Rc::new(layout),
        refused,
        cut_short,
        trace_hash: sim.trace().hash(),
    })
}

/// Runs both variants of `c` from `seed` to its horizon, applying `commands` (the user's, with
/// their virtual times) to both, and diffs their counters.
pub fn run(
    c: &Comparison,
    seed: u64,
    commands: &[RecordedCommand],
) -> Result<CompareResult, String> {
    let a = run_side(c, &c.a, seed, commands)?;
    let b = run_side(c, &c.b, seed, commands)?;
    let mut rows = diff(&metric_rows(&a.snapshot), &metric_rows(&b.snapshot));
    // The comparison's focus rows first, in its order; the rest keep theirs.
    let rank = |r: &DiffRow| {
        let k = r.key();
        c.focus
            .iter()
            .position(|f| *f == k)
            .unwrap_or(c.focus.len())
    };
    rows.sort_by_key(rank);
    let at = a.snapshot.time.min(b.snapshot.time);
    Ok(CompareResult { a, b, rows, at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::scenarios::{comparison, COMPARISONS};

    /// The rows that differ, as `group · metric: A -> B`.
    fn changed(name: &str, seed: u64, commands: &[RecordedCommand]) -> Vec<String> {
        let c = comparison(name).unwrap();
        let r = run(c, seed, commands).unwrap();
        assert!(!r.a.cut_short && !r.b.cut_short);
        r.changed()
            .map(|d| format!("{} · {}: {} -> {}", d.group, d.metric, d.a, d.b))
            .collect()
    }

    #[test]
    fn outbox_vs_dual_write() {
        assert_eq!(
            changed("outbox-vs-dual-write", 7, &[]),
            [
                "events of order · lost: 0 -> 2",
                "events of order · duplicates: 1 -> 0",
                "events of order · published: 48 -> 46",
                "service accounting · effects: 49 -> 46",
                "run · acked: 98 -> 92",
                "run · delivered: 294 -> 276",
                "run · dropped: 5 -> 25",
                "run · duplicates_discarded: 1 -> 0",
                "run · effects: 97 -> 92",
                "run · processed: 98 -> 92",
                "run · publish_failed: 0 -> 1",
                "run · retried: 0 -> 24",
                "run · sent: 299 -> 301",
                "service order · confirmed: 0 -> 46",
                "service order · publish_failed: 0 -> 1",
                "service order · retried: 0 -> 24",
                "service kitchen · distinct: 48 -> 46",
                "service kitchen · duplicates_discarded: 1 -> 0",
                "service kitchen · effects: 48 -> 46",
                "service kitchen · effects_expected: 48 -> 46",
                "service kitchen · processed: 49 -> 46",
                "service accounting · distinct: 48 -> 46",
                "service accounting · effects_expected: 48 -> 46",
                "service accounting · processed: 49 -> 46",
            ]
        );
    }

    #[test]
    fn breaker_on_off() {
        assert_eq!(
            changed("breaker-on-off", 11, &[]),
            [
                "calls shop-b → checkout-b · successes: 250 -> 153",
                "calls shop-b → checkout-b · failures: 0 -> 97",
                "calls checkout-b → payments-b · rejected_by_breaker: 113 -> 0",
                "calls checkout-b → payments-b · fallbacks: 127 -> 0",
                "server checkout-b · max_queue_depth: 9 -> 20",
                "run · calls: 967 -> 934",
                "run · calls_failed: 149 -> 298",
                "run · calls_ok: 691 -> 636",
                "run · delivered: 1708 -> 1868",
                "run · fallbacks: 127 -> 0",
                "run · http_requests: 854 -> 934",
                "run · sent: 1708 -> 1868",
                "calls shop-b → checkout-b · late_responses: 0 -> 52",
                "calls shop-b → checkout-b · server_errors: 0 -> 45",
                "calls shop-b → checkout-b · timeouts: 0 -> 52",
                "calls checkout-b → payments-b · attempts: 250 -> 217",
                "calls checkout-b → payments-b · calls: 250 -> 217",
                "calls checkout-b → payments-b · failures: 0 -> 52",
                "calls checkout-b → payments-b · finished: 250 -> 217",
                "calls checkout-b → payments-b · late_responses: 14 -> 52",
                "calls checkout-b → payments-b · successes: 123 -> 165",
                "calls checkout-b → payments-b · timeouts: 14 -> 52",
                "calls checkout-b → payments-b · upstream_requests: 137 -> 217",
                "server checkout-b · ok: 250 -> 165",
                "server checkout-b · queue_wait_us: 6360000 -> 168250796",
                "server checkout-b · queued: 14 -> 73",
                "server checkout-b · rejected_overload: 0 -> 33",
                "server checkout-b · served: 250 -> 217",
                "server checkout-b · server_errors: 0 -> 85",
                "server payments-b · ok: 137 -> 217",
                "server payments-b · requests: 137 -> 217",
                "server payments-b · served: 137 -> 217",
            ]
        );
    }

    #[test]
    fn tolerant_vs_strict() {
        assert_eq!(
            changed("tolerant-vs-strict", 7, &[]),
            [
                "reader crm on user-events · rejected: 16 -> 32",
                "reader audit on user-events · rejected: 16 -> 32",
                "schemas · rejected: 48 -> 80",
                "run · dead_lettered: 48 -> 80",
                "run · acked: 96 -> 64",
                "run · effects: 96 -> 64",
                "run · processed: 96 -> 64",
                "service crm · distinct: 32 -> 16",
                "service crm · effects: 32 -> 16",
                "service crm · effects_expected: 32 -> 16",
                "service crm · processed: 32 -> 16",
                "service audit · distinct: 32 -> 16",
                "service audit · effects: 32 -> 16",
                "service audit · effects_expected: 32 -> 16",
                "service audit · processed: 32 -> 16",
                "reader crm on user-events · accepted: 32 -> 16",
                "reader audit on user-events · accepted: 32 -> 16",
                "schemas · accepted: 96 -> 64",
                "schemas · nacks: 48 -> 80",
            ]
        );
    }

    #[test]
    fn naive_vs_dedup() {
        assert_eq!(
            changed("naive-vs-dedup", 29, &[]),
            [
                "service ledger · effects: 56 -> 48",
                "service order-status · effects: 54 -> 48",
                "service billing · effects: 66 -> 48",
                "run · duplicates_discarded: 0 -> 32",
                "run · effects: 176 -> 144",
                "service ledger · duplicates_discarded: 0 -> 8",
                "service order-status · duplicates_discarded: 0 -> 6",
                "service billing · duplicates_discarded: 0 -> 18",
            ]
        );
    }

    #[test]
    fn user_commands_apply_to_both_or_say_why_not() {
        let cmd = |at_ms: u64, json: &str| RecordedCommand {
            at: SimTime::from_ms(at_ms),
            events: 0,
            command: serde_json::from_str(json).unwrap(),
        };
        let commands = [
            cmd(
                2_000,
                r#"{"op":"set_breaker","node":"checkout-b","instance":0,"service":"payments-b","state":"FORCED_OPEN"}"#,
            ),
            cmd(3_000, r#"{"op":"crash","node":"payments-a","instance":0}"#),
            cmd(
                40_000,
                r#"{"op":"restart","node":"payments-a","instance":0}"#,
            ),
        ];
        let r = run(comparison("breaker-on-off").unwrap(), 11, &commands).unwrap();
        assert_eq!(
            r.a.refused,
            [
                r#"{"op":"restart","node":"payments-a","instance":0} at 40.000 s: after the comparison's horizon (30.000 s), not applied"#,
            ]
        );
        assert_eq!(
            r.b.refused,
            [
                r#"{"op":"set_breaker","node":"checkout-b","instance":0,"service":"payments-b","state":"FORCED_OPEN"} at 2.000 s: cannot apply to “breaker off”: `checkout-b` -> `payments-b` has no circuit breaker"#,
                r#"{"op":"restart","node":"payments-a","instance":0} at 40.000 s: after the comparison's horizon (30.000 s), not applied"#,
            ]
        );
        // The crash of payments-a applied to both: chain a is the same in both runs.
        let a_rows: Vec<&DiffRow> = r
            .rows
            .iter()
            .filter(|d| d.group == "server payments-a")
            .collect();
        assert!(a_rows.iter().all(|d| d.a == d.b));
        assert_eq!(
            a_rows
                .iter()
                .find(|d| d.metric == "refused")
                .map(|d| (d.a, d.b)),
            Some((220, 220))
        );
    }

    #[test]
    fn every_pair_differs_and_is_deterministic() {
        for c in COMPARISONS {
            let r1 = run(c, 1, &[]).unwrap();
            let r2 = run(c, 1, &[]).unwrap();
            assert_eq!(r1.rows, r2.rows, "{}", c.name);
            assert_ne!(r1.a.trace_hash, r1.b.trace_hash, "{}", c.name);
            assert!(r1.changed().count() > 0, "{}", c.name);
            // Every focus row exists, differs, and comes first.
            for (k, f) in c.focus.iter().enumerate() {
                assert_eq!(r1.rows[k].key(), *f, "{}", c.name);
                assert_ne!(r1.rows[k].a, r1.rows[k].b, "{}: {f}", c.name);
            }
        }
    }
}
