//! The command line, run for real: sweep results, shards, the failing seed's link, shrinking and
//! exit codes. Values are pinned from real runs.

use msgsim::share::SharedRun;
use msgsim::SimTime;
use msgsim_cli::swarm::Profile;
use msgsim_cli::{shard_seeds, shrink, sweep, Input, SeedResult, SweepConfig};
use std::process::Command;

fn cfg() -> SweepConfig {
    SweepConfig {
        profile: Profile::Swarm,
        until: SimTime::from_ms(40_000),
        max_events: 5_000_000,
    }
}

fn json(results: &[SeedResult]) -> Vec<String> {
    results
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

#[test]
fn the_union_of_shards_is_the_unsharded_sweep_result_for_result() {
    let input = Input::load("order-events").unwrap();
    let all: Vec<u64> = (0..40).collect();
    let whole = sweep(&input, &all, &cfg(), &|_| {}).unwrap();
    let mut union = Vec::new();
    for k in 0..3 {
        let seeds: Vec<u64> = shard_seeds(0..40, k, 3).collect();
        union.extend(sweep(&input, &seeds, &cfg(), &|_| {}).unwrap());
    }
    union.sort_by_key(|r| r.seed);
    assert_eq!(json(&union), json(&whole));
    let failing: Vec<u64> = whole
        .iter()
        .filter(|r| r.failed())
        .map(|r| r.seed)
        .collect();
    // order-events' receivers are naive (its lesson: at-least-once delivery duplicates
    // effects), so most fault schedules break `effect_applied_once`.
    assert_eq!(
        failing,
        [
            1, 2, 6, 7, 9, 11, 12, 13, 15, 17, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29, 30, 31, 32,
            33, 34, 35, 36, 37, 38, 39
        ]
    );
}

#[test]
fn shards_are_disjoint_and_cover_the_range() {
    let mut seen: Vec<u64> = (0..4).flat_map(|k| shard_seeds(10..30, k, 4)).collect();
    seen.sort();
    assert_eq!(seen, (10..30).collect::<Vec<_>>());
    assert_eq!(
        shard_seeds(10..30, 1, 4).collect::<Vec<_>>(),
        vec![11, 15, 19, 23, 27]
    );
}

#[test]
fn a_failing_seeds_link_opens_at_its_first_violation() {
    let input = Input::load("order-events").unwrap();
    let r = msgsim_cli::sweep_seed(&input, 2, &cfg()).unwrap();
    assert_eq!(r.kinds, ["loss", "hold", "pause", "broker_restart"]);
    assert_eq!(r.faults.len(), 10);
    assert_eq!(r.events, 1488);
    let v = &r.violations[0];
    assert_eq!(v.claim, "effect_applied_once");
    assert_eq!(v.time_us, 9_114_000);
    assert_eq!(
        v.reason,
        "accounting#0 applied the effect of m37 again: accounting has it twice"
    );
    let run: SharedRun = serde_json::from_value(r.run.clone().unwrap()).unwrap();
    assert_eq!(run.at, SimTime(v.time_us));
    // Only the commands before the violation travel.
    assert_eq!(run.commands.len(), 4);
    // The link's replay stands exactly at the violation: the claim is broken there, at that
    // time, for the same reason.
    // The command line replays a run file on the engine's one replay path: the same run as
    // the link, hash for hash.
    let cli =
        msgsim_cli::run_recorded(&input.scenario, 2, &run.commands, run.at, 5_000_000).unwrap();
    assert_eq!(cli.sim.trace_hash(), run.replay().unwrap().trace_hash());
    assert_eq!(cli.sim.events_processed(), 742);
    let code = run.encode().unwrap();
    let sim = SharedRun::decode(&code).unwrap().replay().unwrap();
    let at = msgsim_cli::violations(sim.invariants());
    assert_eq!(at.len(), 1);
    assert_eq!(at[0].claim, v.claim);
    assert_eq!(at[0].time_us, v.time_us);
    assert_eq!(at[0].reason, v.reason);
}

#[test]
fn shrinking_keeps_the_claim_broken_with_a_handful_of_commands() {
    let input = Input::load("order-events").unwrap();
    let r = msgsim_cli::sweep_seed(&input, 2, &cfg()).unwrap();
    let text = serde_json::to_string(&r.run.unwrap()).unwrap();
    let run_file = Input::parse(&text).unwrap();
    // The run file is placed at the violation: shrink over the whole horizon.
    let s = shrink::shrink(&run_file, None, SimTime::from_ms(40_000), 5_000_000).unwrap();
    let kept: Vec<String> = s
        .commands
        .iter()
        .map(|p| format!("{} @ {}", p.command.describe(), p.at))
        .collect();
    // Of the 4 commands before the violation, the pause and its resume remain: a consumer that
    // stops acking gets its messages redelivered, and a naive receiver applies them again.
    assert_eq!(
        kept,
        [
            "pause accounting#0 @ 4796.000ms",
            "resume accounting#0 @ 8994.000ms"
        ]
    );
    assert_eq!(s.commands_before, 4);
    assert_eq!(s.workloads, [(0, 60, 19)]);
    assert_eq!(s.tests, 22);
    assert_eq!(s.claim, "effect_applied_once");
    // The shrunk run still breaks the claim when replayed from its run file.
    let sim = s.run.replay().unwrap();
    assert_eq!(
        msgsim_cli::violations(sim.invariants())[0].claim,
        "effect_applied_once"
    );
}

fn msgsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_msgsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_say_hold_broken_or_bad_input() {
    let (code, out, _) = msgsim(&["run", "order-events"]);
    assert_eq!(code, 0);
    assert!(out.contains("✓ effect_applied_once (240 checked)"), "{out}");
    let (code, out, _) = msgsim(&["run", "order-events", "--seed", "2", "--faults", "swarm"]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "✗ effect_applied_once at 9114.000ms: accounting#0 applied the effect of m37 again"
        ),
        "{out}"
    );
    assert!(
        out.contains("open at the first violation: http://127.0.0.1:8080/?run=v1."),
        "{out}"
    );
    let (code, _, err) = msgsim(&["run", "no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("msgsim: `no-such-scenario` is neither a built-in scenario (order-events,"),
        "{err}"
    );
    let (code, _, err) = msgsim(&["sweep", "order-events", "--seeds", "5..5"]);
    assert_eq!(code, 2);
    assert!(err.contains("seed range `5..5` is empty"), "{err}");
    let (code, _, err) = msgsim(&["sweep", "order-events", "--shard", "4/4"]);
    assert_eq!(code, 2);
    assert!(err.contains("the index must be below the count"), "{err}");
    let (code, _, err) = msgsim(&["sweep", "order-events", "--seeds", "18446744073709551615"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be swept"), "{err}");
    let (code, _, err) = msgsim(&["run", "order-events", "--until", "25h"]);
    assert_eq!(code, 2);
    assert!(err.contains("over 24 h of virtual time"), "{err}");
    // A sweep on a pipe writes one JSON record per seed; a failing one exits 1.
    let (code, out, err) = msgsim(&["sweep", "order-events", "--seeds", "0..3"]);
    assert_eq!(code, 1);
    let seeds: Vec<u64> = out
        .lines()
        .map(|l| serde_json::from_str::<SeedResult>(l).unwrap().seed)
        .collect();
    assert_eq!(seeds, [0, 1, 2]);
    assert!(
        err.starts_with("order-events: 3 seeds, 2 failing,"),
        "{err}"
    );
}
