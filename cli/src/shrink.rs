//! Shrinking a failing run: the smallest set of commands, and the shortest workloads, that still
//! break the same claim. Commands are reduced with delta debugging (Zeller and Hildebrandt,
//! "Simplifying and Isolating Failure-Inducing Input", 2002: `ddmin`), then each workload's
//! `count` by bisection. Each test is one deterministic run, so the result is exact and the same
//! on every machine.
//!
//! Commands are re-placed by their virtual time when some are removed (their recorded event
//! counts belong to the original run), so a shrunk run is a new run with its own command log.

use crate::swarm::Planned;
use crate::{run, shared_run, violations, Input};
use anyhow::{bail, Result};
use msgsim::share::{ScenarioRef, SharedRun};
use msgsim::{Scenario, SimTime};

/// Most runs one shrink may make.
pub const MAX_TESTS: u32 = 2_000;

/// What a shrink found.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The claim kept broken.
    pub claim: String,
    /// Commands before and after.
    pub commands_before: usize,
    /// The remaining commands, in time order.
    pub commands: Vec<Planned>,
    /// `(workload index, count before, count after)` for each shortened workload.
    pub workloads: Vec<(usize, u64, u64)>,
    /// The shrunk run, placed at the first violation of the claim.
    pub run: SharedRun,
    /// Runs made.
    pub tests: u32,
}

/// Shrinks the run file `input` (a scenario with a `run`) that breaks `claim` (its label; the
/// first claim the run breaks when `None`) by `until`.
pub fn shrink(
    input: &Input,
    claim: Option<&str>,
    until: SimTime,
    max_events: u64,
) -> Result<Shrunk> {
    let Some(shared) = &input.run else {
        bail!("shrink takes a run file (the scenario, the seed and the commands to shrink)");
    };
    let seed = shared.seed;
    let commands: Vec<Planned> = shared
        .commands
        .iter()
        .map(|c| Planned {
            at: c.at,
            command: c.command.clone(),
        })
        .collect();
    let first = run(&input.scenario, seed, &commands, until, max_events)?;
    let broken = violations(first.sim.invariants());
    let claim = match claim {
        Some(c) => {
            if !broken.iter().any(|v| v.claim == c) {
                bail!(
                    "the run does not break `{c}` by {until}; it breaks: {}",
                    if broken.is_empty() {
                        "nothing".to_string()
                    } else {
                        broken
                            .iter()
                            .map(|v| v.claim.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
            c.to_string()
        }
        None => match broken.first() {
            Some(v) => v.claim.clone(),
            None => bail!("the run breaks no claim by {until}: nothing to shrink"),
        },
    };
    let mut tests = 1u32;
    let mut breaks = |scenario: &Scenario, cmds: &[Planned]| -> bool {
        if tests >= MAX_TESTS {
            return false;
        }
        tests += 1;
        run(scenario, seed, cmds, until, max_events)
            .map(|o| {
                violations(o.sim.invariants())
                    .iter()
                    .any(|v| v.claim == claim)
            })
            .unwrap_or(false)
    };
    let scenario = input.scenario.clone();
    let kept = ddmin(commands.clone(), |c| breaks(&scenario, c));

    // Workloads: bisect each count down while the claim still breaks.
    let mut scenario = scenario;
    let mut workloads = Vec::new();
    for i in 0..scenario.workloads.len() {
        let before = scenario.workloads[i].count;
        let (mut lo, mut hi) = (1u64, before);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let mut s = scenario.clone();
            s.workloads[i].count = mid;
            if breaks(&s, &kept) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if hi < before {
            scenario.workloads[i].count = hi;
            workloads.push((i, before, hi));
        }
    }
    let last = run(&scenario, seed, &kept, until, max_events)?;
    let at = violations(last.sim.invariants())
        .into_iter()
        .find(|v| v.claim == claim)
        .map(|v| SimTime(v.time_us))
        .unwrap_or(until);
    let shrunk_input = Input {
        scenario_ref: if workloads.is_empty() {
            input.scenario_ref.clone()
        } else {
            ScenarioRef::Inline(Box::new(scenario.clone()))
        },
        scenario,
        run: None,
    };
    let run = shared_run(&shrunk_input, seed, &last.sim, at);
    Ok(Shrunk {
        claim,
        commands_before: commands.len(),
        commands: kept,
        workloads,
        run,
        tests,
    })
}

/// Delta debugging (`ddmin`): a 1-minimal subsequence of `items` for which `fails` holds,
/// given that it holds for `items`. Tries the empty sequence first.
pub fn ddmin<T: Clone>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    if items.is_empty() || fails(&[]) {
        return vec![];
    }
    let mut items = items;
    let mut n = 2usize;
    while items.len() >= 2 {
        let len = items.len();
        let chunk = len.div_ceil(n);
        let parts: Vec<std::ops::Range<usize>> = (0..len)
            .step_by(chunk)
            .map(|s| s..(s + chunk).min(len))
            .collect();
        let mut reduced = false;
        for r in &parts {
            let subset = items[r.clone()].to_vec();
            if fails(&subset) {
                items = subset;
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && parts.len() > 2 {
            for r in &parts {
                let complement: Vec<T> = items[..r.start]
                    .iter()
                    .chain(&items[r.end..])
                    .cloned()
                    .collect();
                if fails(&complement) {
                    items = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= len {
                break;
            }
            n = (n * 2).min(len);
        }
    }
    if items.len() == 1 && fails(&[]) {
        return vec![];
    }
    items
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn ddmin_finds_the_two_items_that_together_fail() {
        let items: Vec<u32> = (0..20).collect();
        let mut tests = 0;
        let out = ddmin(items, |s| {
            tests += 1;
            s.contains(&3) && s.contains(&17)
        });
        assert_eq!(out, vec![3, 17]);
        assert_eq!(tests, 50);
    }

    #[test]
    fn ddmin_of_a_failure_without_any_item_is_empty() {
        assert_eq!(ddmin(vec![1, 2, 3], |_| true), Vec::<i32>::new());
    }
}
