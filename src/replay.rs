//! One replay path: a run's logged commands placed at their logged places, in bounded, resumable
//! chunks of work.
//!
//! A run is reproduced by a fresh [`Simulation`] (same scenario, same seed) and the command log of
//! the original run ([`RecordedCommand`]: each command with its *place* — the virtual time `at`,
//! µs, and the number of events handled before it, `events`). Every way of getting somewhere in a
//! run goes through [`drive`]: the playground's [`crate::timeline::Timeline`] (run, seek, step,
//! step back, opening a link), [`crate::share::SharedRun::replay`], the JS API's `fromShareLink`
//! and [`Simulation::run_with_log`]. It
//!
//! - honours its event budget (it handles at most `budget` events per call and says where it is),
//! - never trusts a count it did not produce: a command is applied only when the run has handled
//!   exactly `events` events, no event earlier than `at` is still scheduled, and none handled was
//!   later than `at`; a run that goes idle before a logged place, or passes it, is a
//!   [`ReplayError`] naming the command (index, op, `at` µs, `events`),
//! - equals a straight run event for event (same trace hash, same event count, same clock).
//!
//! [`Replay`] wraps it for one-shot and chunked use: `Replay::new(sim, log, target, limit)` then
//! `advance(budget)` until [`Progress::Done`] (the web page calls it once per animation frame, with
//! a progress bar and a cancel), or `Replay::run()` to finish at once (bounded by `limit`).

use crate::sim::{RecordedCommand, Simulation};
use crate::time::SimTime;
use thiserror::Error;

/// Where a replay goes: a place in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Virtual time `t`: every event scheduled at or before `t` handled, every command logged at
    /// or before `t` applied, the clock at `t` (as [`Simulation::run_until`]). A shared run
    /// without an event count.
    Time(SimTime),
    /// Exactly `events` handled events with the clock at `at` (µs): a place between two events
    /// of one instant, or after the last event at or before `at`. Commands logged at or before
    /// this place (`at` ≤ this `at` and `events` ≤ this `events`) are applied. Every event before
    /// `at` must be among the first `events`, and none of them later than `at`, else
    /// [`ReplayError::PlaceMismatch`]. A shared run with an event count.
    Place {
        /// Virtual time, µs.
        at: SimTime,
        /// Handled events.
        events: u64,
    },
    /// Exactly `n` handled events, the clock at the time of the `n`-th event (zero for `n` = 0),
    /// and the commands logged right after it at that same time. Step and step back go here.
    Events(u64),
}

impl Target {
    /// The target for a shared place: `events` given → [`Target::Place`], else [`Target::Time`].
    pub fn from_place(at: SimTime, events: Option<u64>) -> Target {
        match events {
            Some(events) => Target::Place { at, events },
            None => Target::Time(at),
        }
    }

    /// The handled-event count at the target, when the target fixes it.
    pub fn events(&self) -> Option<u64> {
        match *self {
            Target::Time(_) => None,
            Target::Place { events, .. } | Target::Events(events) => Some(events),
        }
    }

    /// Whether the logged command `rc` lies at or before the target (so the replay applies it).
    /// For [`Target::Events`], `now` is the clock after the `n`-th event.
    fn admits(&self, rc: &RecordedCommand, events_done: u64, now: SimTime) -> bool {
        match *self {
            Target::Time(t) => rc.at <= t,
            Target::Place { at, events } => rc.at <= at && rc.events <= events,
            Target::Events(n) => {
                rc.events < n || (rc.events == n && (events_done < n || rc.at <= now))
            }
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Time(t) => write!(f, "{} µs", t.as_us()),
            Target::Place { at, events } => write!(f, "{} µs after {events} events", at.as_us()),
            Target::Events(n) => write!(f, "{n} events"),
        }
    }
}

/// Where a chunked replay stands after [`Replay::advance`] / [`drive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The target is reached.
    Done,
    /// The budget of this call is spent; call again to go on.
    Running {
        /// Events handled since the start of the run (the simulation's count).
        events_done: u64,
        /// Events the target needs in all, when it says ([`Target::Place`], [`Target::Events`]);
        /// `None` for [`Target::Time`] (show an indeterminate progress bar).
        events_total: Option<u64>,
    },
}

/// Why a replay cannot reach its target. Texts name the command (its index in the log, its op,
/// its place) or the place, and what the run did instead.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ReplayError {
    /// Commands out of order: `commands[index]` is placed before `commands[index - 1]`.
    #[error("commands[{index}] ({op} at {at_us} µs after {events} events) is placed before commands[{}] ({} µs after {} events); commands must be in the order they were applied", index - 1, prev_at_us, prev_events)]
    Unordered {
        /// Index in the log.
        index: usize,
        /// Op of the command (`crash`, `partition`, …).
        op: String,
        /// Its `at`, µs.
        at_us: u64,
        /// Its `events`.
        events: u64,
        /// The previous command's `at`, µs.
        prev_at_us: u64,
        /// The previous command's `events`.
        prev_events: u64,
    },
    /// The run went idle (nothing scheduled) before the command's place.
    #[error("commands[{index}] ({op} at {at_us} µs after {events} events) is never reached: the run goes idle after {idle_after} events")]
    IdleBeforeCommand {
        /// Index in the log.
        index: usize,
        /// Op of the command.
        op: String,
        /// Its `at`, µs.
        at_us: u64,
        /// Its `events`.
        events: u64,
        /// Events handled when the run went idle.
        idle_after: u64,
    },
    /// The run's events do not fit the command's place: an event earlier than `at` is still
    /// scheduled after `events` events, or the `events`-th event came later than `at`.
    #[error(
        "commands[{index}] ({op} at {at_us} µs after {events} events) does not fit the run: {why}"
    )]
    CommandMismatch {
        /// Index in the log.
        index: usize,
        /// Op of the command.
        op: String,
        /// Its `at`, µs.
        at_us: u64,
        /// Its `events`.
        events: u64,
        /// What the run did there.
        why: String,
    },
    /// The engine refused the command at its place (it names nothing in this scenario, …).
    #[error("commands[{index}] ({op} at {at_us} µs after {events} events) was refused: {reason}")]
    Refused {
        /// Index in the log.
        index: usize,
        /// Op of the command.
        op: String,
        /// Its `at`, µs.
        at_us: u64,
        /// Its `events`.
        events: u64,
        /// The engine's error.
        reason: String,
    },
    /// The run went idle before the target's event count.
    #[error("the place {at_us} µs after {events} events is never reached: the run goes idle after {idle_after} events")]
    IdleBeforePlace {
        /// The target's time, µs (for [`Target::Events`]: the time the run went idle).
        at_us: u64,
        /// The target's event count.
        events: u64,
        /// Events handled when the run went idle.
        idle_after: u64,
    },
    /// The run's events do not fit the target place.
    #[error("the place {at_us} µs after {events} events does not fit the run: {why}")]
    PlaceMismatch {
        /// The target's time, µs.
        at_us: u64,
        /// The target's event count.
        events: u64,
        /// What the run did there.
        why: String,
    },
    /// The simulation is already past the target (a replay only runs forward).
    #[error("the run is already past {target} (at {now_us} µs after {events_done} events); replay from an earlier state")]
    Behind {
        /// The target, as text.
        target: String,
        /// Clock, µs.
        now_us: u64,
        /// Events handled.
        events_done: u64,
    },
    /// The target needs more events than the replay's limit.
    #[error("reaching {target} takes more than {limit} engine events (the replay stopped at {now_us} µs after {events_done} events)")]
    OverLimit {
        /// The target, as text.
        target: String,
        /// The limit, events.
        limit: u64,
        /// Clock, µs, where it stopped.
        now_us: u64,
        /// Events handled where it stopped.
        events_done: u64,
    },
}

fn op_of(rc: &RecordedCommand) -> String {
    rc.command.verb().to_string()
}

/// Checks that the places of `log` never go back (in `at` and in `events`): the order a run
/// applies commands in. [`Replay::new`] and the share-link checks call it before anything runs.
pub fn check_order(log: &[RecordedCommand]) -> Result<(), ReplayError> {
    for (index, w) in log.windows(2).enumerate() {
        if w[1].at < w[0].at || w[1].events < w[0].events {
            return Err(ReplayError::Unordered {
                index: index + 1,
                op: op_of(&w[1]),
                at_us: w[1].at.as_us(),
                events: w[1].events,
                prev_at_us: w[0].at.as_us(),
                prev_events: w[0].events,
            });
        }
    }
    Ok(())
}

/// How a call of [`drive`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The target is reached.
    Done,
    /// `budget` events were handled first.
    Budget,
    /// The run stands at the `pause` time (every event and command up to it done, the clock at
    /// it) and the target lies beyond it.
    Paused,
}

/// The replay step every path uses: moves `sim` forward toward `target`, applying the commands of
/// `log` that `sim` has not applied yet (from index `sim.command_log().len()` on) at exactly their
/// places, handling at most `budget` events. With `pause`, stops at that virtual time when the
/// target lies beyond it ([`Stop::Paused`]; the [`crate::timeline::Timeline`] takes a checkpoint
/// there). Resumable: call again with the same `log` and `target` to go on.
///
/// Returns how it stopped and the events it handled. Errors are [`ReplayError`]s; after an error
/// `sim` stands where the replay stopped (still a valid state of the run, just not the target).
pub fn drive(
    sim: &mut Simulation,
    log: &[RecordedCommand],
    target: Target,
    budget: u64,
    pause: Option<SimTime>,
) -> Result<(Stop, u64), ReplayError> {
    let mut handled = 0u64;
    if let Some(n) = target.events() {
        if sim.events_processed() > n {
            return Err(ReplayError::Behind {
                target: target.to_string(),
                now_us: sim.now().as_us(),
                events_done: sim.events_processed(),
            });
        }
    }
    if let Target::Time(t) | Target::Place { at: t, .. } = target {
        if sim.now() > t {
            return Err(ReplayError::Behind {
                target: target.to_string(),
                now_us: sim.now().as_us(),
                events_done: sim.events_processed(),
            });
        }
    }
    loop {
        let done = sim.events_processed();
        let next = sim.next_event_time();
        // 1. The next logged command, when it is due here.
        let index = sim.command_log().len();
        if let Some(rc) = log.get(index) {
            if rc.events == done && target.admits(rc, done, sim.now()) {
                let mismatch = |why: String| ReplayError::CommandMismatch {
                    index,
                    op: op_of(rc),
                    at_us: rc.at.as_us(),
                    events: rc.events,
                    why,
                };
                if sim.now() > rc.at {
                    return Err(mismatch(format!(
                        "its {}-th event came at {} µs, later than the command",
                        done,
                        sim.now().as_us()
                    )));
                }
                if let Some(t) = next.filter(|&t| t < rc.at) {
                    return Err(mismatch(format!(
                        "event {} comes at {} µs, before the command; it needs more events before it",
                        done + 1,
                        t.as_us()
                    )));
                }
                sim.set_clock(rc.at);
                if let Err(e) = sim.apply(rc.command.clone()) {
                    // Recorded anyway (it failed while executing): the original run failed the
                    // same way at the same place. Refused at its check: a foreign command.
                    if sim.command_log().len() == index {
                        return Err(ReplayError::Refused {
                            index,
                            op: op_of(rc),
                            at_us: rc.at.as_us(),
                            events: rc.events,
                            reason: e.to_string(),
                        });
                    }
                }
                continue;
            }
            if rc.events < done && target.admits(rc, done, sim.now()) {
                return Err(ReplayError::CommandMismatch {
                    index,
                    op: op_of(rc),
                    at_us: rc.at.as_us(),
                    events: rc.events,
                    why: format!("the run had already handled {done} events"),
                });
            }
        }
        // A logged command at or before the target still waiting for more events.
        let waiting = log
            .get(index)
            .filter(|rc| rc.events > done && target.admits(rc, done, sim.now()));
        // 2. The target reached?
        match target {
            Target::Time(t) => {
                if next.is_none_or(|e| e > t) {
                    if let Some(rc) = waiting {
                        return Err(waiting_error(index, rc, done, next));
                    }
                    sim.set_clock(t);
                    return Ok((Stop::Done, handled));
                }
            }
            Target::Place { at, events } => {
                if done == events {
                    if let Some(t) = next.filter(|&t| t < at) {
                        return Err(ReplayError::PlaceMismatch {
                            at_us: at.as_us(),
                            events,
                            why: format!(
                                "event {} comes at {} µs, before the place",
                                done + 1,
                                t.as_us()
                            ),
                        });
                    }
                    sim.set_clock(at);
                    return Ok((Stop::Done, handled));
                }
                if let Some(t) = next.filter(|&t| t > at) {
                    return Err(ReplayError::PlaceMismatch {
                        at_us: at.as_us(),
                        events,
                        why: format!(
                            "event {} comes at {} µs, later than the place",
                            done + 1,
                            t.as_us()
                        ),
                    });
                }
            }
            Target::Events(n) => {
                if done == n {
                    return Ok((Stop::Done, handled));
                }
            }
        }
        // 3. One more event.
        let Some(t) = next else {
            if let Some(rc) = waiting {
                return Err(waiting_error(index, rc, done, None));
            }
            return Err(ReplayError::IdleBeforePlace {
                at_us: match target {
                    Target::Place { at, .. } => at.as_us(),
                    _ => sim.now().as_us(),
                },
                events: target.events().unwrap_or(done),
                idle_after: done,
            });
        };
        if let Some(rc) = waiting.filter(|rc| t > rc.at) {
            // Its `events`-th event would come after its time.
            return Err(waiting_error(index, rc, done, next));
        }
        if handled >= budget {
            // (Before the pause: a replay out of budget stands where its last event left it,
            // whether or not a timeline would have checkpointed further on.)
            return Ok((Stop::Budget, handled));
        }
        if let Some(p) = pause.filter(|&p| t > p && p >= sim.now()) {
            // Nothing left at or before `p`: the target (which is beyond) passes through here.
            if let Some(rc) = waiting.filter(|rc| rc.at <= p) {
                return Err(waiting_error(index, rc, done, next));
            }
            sim.set_clock(p);
            return Ok((Stop::Paused, handled));
        }
        sim.step();
        handled += 1;
    }
}

/// The error for a command still waiting for events when the run has none left before its time.
fn waiting_error(
    index: usize,
    rc: &RecordedCommand,
    done: u64,
    next: Option<SimTime>,
) -> ReplayError {
    match next {
        None => ReplayError::IdleBeforeCommand {
            index,
            op: op_of(rc),
            at_us: rc.at.as_us(),
            events: rc.events,
            idle_after: done,
        },
        Some(t) => ReplayError::CommandMismatch {
            index,
            op: op_of(rc),
            at_us: rc.at.as_us(),
            events: rc.events,
            why: format!(
                "only {done} events come at or before its time (event {} comes at {} µs)",
                done + 1,
                t.as_us()
            ),
        },
    }
}

/// A replay in progress that owns its simulation: the one-shot and chunked form of [`drive`].
///
/// ```text
/// let mut r = Replay::new(sim, log, Target::Time(at), LIMIT)?;
/// loop { match r.advance(20_000)? { Progress::Done => break, Progress::Running { .. } => {/* next frame */} } }
/// let sim = r.into_simulation();
/// ```
#[derive(Clone, Debug)]
pub struct Replay {
    sim: Simulation,
    log: Vec<RecordedCommand>,
    target: Target,
    limit: u64,
    finished: bool,
}

impl Replay {
    /// Starts replaying `log` on `sim` (normally freshly built: same scenario, same seed, time
    /// zero) toward `target`, handling at most `limit` events in all (counted from `sim`'s start,
    /// [`Simulation::events_processed`]). Errors at once with [`ReplayError::Unordered`] when the
    /// log's places go back, with [`ReplayError::OverLimit`] when the target's event count is
    /// beyond `limit`; nothing runs here.
    pub fn new(
        sim: Simulation,
        log: Vec<RecordedCommand>,
        target: Target,
        limit: u64,
    ) -> Result<Replay, ReplayError> {
        check_order(&log)?;
        if let Some(n) = target.events().filter(|&n| n > limit) {
            let _ = n;
            return Err(ReplayError::OverLimit {
                target: target.to_string(),
                limit,
                now_us: sim.now().as_us(),
                events_done: sim.events_processed(),
            });
        }
        Ok(Replay {
            sim,
            log,
            target,
            limit,
            finished: false,
        })
    }

    /// Handles at most `budget` more events toward the target (and never more than the limit in
    /// all): [`Progress::Done`] when there, [`Progress::Running`] when the budget was spent
    /// first. Call it again to go on (once per animation frame, say). Errors: the
    /// [`ReplayError`] of [`drive`], or [`ReplayError::OverLimit`] when the target lies beyond
    /// the limit. After `Done` or an error, further calls return the same without work.
    pub fn advance(&mut self, budget: u64) -> Result<Progress, ReplayError> {
        if self.finished {
            return Ok(Progress::Done);
        }
        let left = self.limit.saturating_sub(self.sim.events_processed());
        let (stop, _) = drive(
            &mut self.sim,
            &self.log,
            self.target,
            budget.min(left),
            None,
        )?;
        match stop {
            Stop::Done => {
                self.finished = true;
                Ok(Progress::Done)
            }
            _ if budget >= left || self.sim.events_processed() >= self.limit => {
                Err(ReplayError::OverLimit {
                    target: self.target.to_string(),
                    limit: self.limit,
                    now_us: self.sim.now().as_us(),
                    events_done: self.sim.events_processed(),
                })
            }
            _ => Ok(Progress::Running {
                events_done: self.sim.events_processed(),
                events_total: self.target.events(),
            }),
        }
    }

    /// Runs to the target at once (at most the limit of events).
    pub fn run(mut self) -> Result<Simulation, ReplayError> {
        self.advance(u64::MAX)?;
        Ok(self.sim)
    }

    /// The simulation where the replay stands now.
    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    /// The simulation where the replay stands (the target once [`Progress::Done`]).
    pub fn into_simulation(self) -> Simulation {
        self.sim
    }

    /// The whole log being replayed (also the commands beyond the target).
    pub fn log(&self) -> &[RecordedCommand] {
        &self.log
    }

    /// The target.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The limit, events.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}
