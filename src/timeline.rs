//! Time travel: seek to any earlier virtual time, step back one event, bookmarks.
//!
//! A [`Timeline`] owns the running simulation, the log of user commands and periodic checkpoints
//! (clones of the simulation). Seeking back restores the latest checkpoint at or before the target
//! and replays from it ([`Simulation::run_with_log`]), so a seek costs at most one checkpoint
//! interval of events, however long the run. Checkpoints are bounded: when there are too many,
//! every other one is dropped and the interval doubles.

use crate::command::Command;
use crate::error::CommandError;
use crate::sim::{RecordedCommand, RunOutcome, Simulation};
use crate::time::SimTime;
use std::collections::BTreeMap;

/// Default virtual time between checkpoints: 5 s.
pub const DEFAULT_CHECKPOINT_INTERVAL: SimTime = SimTime::from_ms(5_000);
/// Checkpoints kept at most (then thinned). Default 64.
pub const MAX_CHECKPOINTS: usize = 64;
/// Bookmarks kept at most.
pub const MAX_BOOKMARKS: usize = 100;

/// A simulation with a rewindable history.
#[derive(Clone, Debug)]
pub struct Timeline {
    current: Simulation,
    log: Vec<RecordedCommand>,
    checkpoints: Vec<Simulation>,
    interval: SimTime,
    bookmarks: BTreeMap<String, SimTime>,
}

impl Timeline {
    /// Starts a timeline at `sim`'s current state (normally time zero, no commands), with a
    /// checkpoint every `interval` of virtual time (minimum 1 ms).
    pub fn new(sim: Simulation, interval: SimTime) -> Timeline {
        Timeline {
            log: sim.command_log().to_vec(),
            checkpoints: vec![sim.clone()],
            current: sim,
            interval: interval.max(SimTime::from_ms(1)),
            bookmarks: BTreeMap::new(),
        }
    }

    /// The simulation at the current position.
    pub fn current(&self) -> &Simulation {
        &self.current
    }

    /// The whole command log, including commands after the current position (they are applied
    /// again when the timeline runs forward past them).
    pub fn log(&self) -> &[RecordedCommand] {
        &self.log
    }

    /// Times of the checkpoints kept, oldest first.
    pub fn checkpoint_times(&self) -> Vec<SimTime> {
        self.checkpoints.iter().map(|c| c.now()).collect()
    }

    /// The furthest virtual time reached so far (the end of the recorded history).
    pub fn horizon(&self) -> SimTime {
        self.checkpoints
            .last()
            .map(|c| c.now())
            .unwrap_or(SimTime::ZERO)
            .max(self.current.now())
    }

    /// Runs forward to `until` (at most `max_events` events), re-applying logged commands on the
    /// way and taking checkpoints at each interval boundary.
    pub fn run_until(&mut self, until: SimTime, max_events: u64) -> RunOutcome {
        let mut events = 0;
        loop {
            let last = self
                .checkpoints
                .last()
                .map(|c| c.now())
                .unwrap_or(SimTime::ZERO);
            let boundary = SimTime(last.0.saturating_add(self.interval.0));
            let target = until.min(boundary);
            let o = self
                .current
                .run_with_log(&self.log, target, max_events.saturating_sub(events));
            events += o.events;
            if !o.reached {
                return RunOutcome {
                    events,
                    reached: false,
                };
            }
            if target == boundary && self.current.now() > last {
                self.checkpoint();
            }
            if target == until {
                return RunOutcome {
                    events,
                    reached: true,
                };
            }
        }
    }

    fn checkpoint(&mut self) {
        self.checkpoints.push(self.current.clone());
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Keep the first (time zero) and every other one after it; double the interval.
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.interval = SimTime(self.interval.0.saturating_mul(2));
        }
    }

    /// Handles one event (re-applying logged commands placed before it). Returns its time.
    pub fn step(&mut self) -> Option<SimTime> {
        let before = self.current.events_processed();
        let t = self.current.next_event_time()?;
        let o = self.run_until(t, 1);
        if o.events == 0 && self.current.events_processed() == before {
            // Only commands were applied; handle the event now.
            self.current.step()
        } else {
            Some(self.current.now())
        }
    }

    /// Applies a command at the current position. If the timeline had been rewound, the future
    /// (later commands and checkpoints) is discarded first: history branches here.
    pub fn apply(&mut self, cmd: Command) -> Result<(), CommandError> {
        let here = self.current.command_log().len();
        self.current.apply(cmd)?;
        self.log.truncate(here);
        self.log.push(self.current.command_log()[here].clone());
        let now = self.current.now();
        let events = self.current.events_processed();
        self.checkpoints
            .retain(|c| c.now() <= now && c.events_processed() <= events);
        Ok(())
    }

    /// Moves to virtual time `t`: backward by restoring the latest checkpoint at or before `t`
    /// and replaying from it; forward the same when such a checkpoint lies ahead of the current
    /// position (after a seek back: it is on the same history), else by running. Returns the
    /// events replayed.
    pub fn seek(&mut self, t: SimTime) -> u64 {
        if t >= self.current.now() {
            let now = self.current.now();
            let ahead = self
                .checkpoints
                .iter()
                .rev()
                .find(|c| c.now() <= t && c.now() > now)
                .cloned();
            if let Some(cp) = ahead {
                self.current = cp;
            }
            return self.run_until(t, u64::MAX).events;
        }
        let cp = self
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.now() <= t)
            .or(self.checkpoints.first())
            .cloned();
        if let Some(cp) = cp {
            self.current = cp;
        }
        self.current.run_with_log(&self.log, t, u64::MAX).events
    }

    /// Goes back exactly one event: to the state right after the event before the last one
    /// handled. Returns false at the start.
    pub fn step_back(&mut self) -> bool {
        let target = self.current.events_processed();
        if target == 0 {
            return false;
        }
        let target = target - 1;
        let cp = self
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.events_processed() <= target)
            .or(self.checkpoints.first())
            .cloned();
        if let Some(cp) = cp {
            self.current = cp;
        }
        while self.current.events_processed() < target {
            let Some(t) = self.current.next_event_time() else {
                break;
            };
            // One event at a time, applying the logged commands placed before it.
            let log = self.log.clone();
            self.current.run_with_log(&log, t, 1);
        }
        // Commands placed right after this event belong to this position too.
        let now = self.current.now();
        let log = self.log.clone();
        self.current.run_with_log(&log, now, 0);
        true
    }

    /// Starts a timeline at `sim` (normally freshly built, at time zero) with a recorded command
    /// `log` to re-apply as the run passes their places (a shared run, a run file): like
    /// [`Timeline::new`], with the future already written.
    pub fn with_log(sim: Simulation, log: Vec<RecordedCommand>, interval: SimTime) -> Timeline {
        let mut t = Timeline::new(sim, interval);
        let applied = t.log.len();
        t.log.extend(log.into_iter().skip(applied));
        t
    }

    /// Runs forward to a place of the run: virtual time `at`, and with `events` exactly that many
    /// handled events (a place between two events of one virtual time, after a step); commands
    /// placed there are applied. At most `max_events` events; returns whether the place was
    /// reached.
    pub fn run_to_place(&mut self, at: SimTime, events: Option<u64>, max_events: u64) -> bool {
        let Some(n) = events else {
            return self.run_until(at, max_events).reached;
        };
        let before = SimTime(at.0.saturating_sub(1));
        if !self.run_until(before, max_events).reached {
            return false;
        }
        while self.current.events_processed() < n {
            if self.step().is_none() {
                break;
            }
        }
        // Commands placed right after the last event belong to this place too.
        let now = self.current.now();
        self.current.run_with_log(&self.log, now, 0);
        true
    }

    /// Names the current time; at most [`MAX_BOOKMARKS`] (the oldest name is dropped).
    pub fn bookmark(&mut self, name: &str) {
        if self.bookmarks.len() >= MAX_BOOKMARKS && !self.bookmarks.contains_key(name) {
            if let Some(first) = self.bookmarks.keys().next().cloned() {
                self.bookmarks.remove(&first);
            }
        }
        self.bookmarks.insert(name.to_string(), self.current.now());
    }

    /// Bookmarks by name.
    pub fn bookmarks(&self) -> &BTreeMap<String, SimTime> {
        &self.bookmarks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_events() -> Simulation {
        Simulation::from_json(crate::scenarios::get("order-events").unwrap(), 42).unwrap()
    }

    fn crash(n: u32) -> Command {
        Command::Crash {
            node: "kitchen".into(),
            instance: n,
        }
    }

    #[test]
    fn a_timeline_with_a_written_log_reaches_a_place_and_can_seek_before_it() {
        // The sharer: crash at 1 s, then stepped into the middle of an instant at ~2 s.
        let mut original = order_events();
        original.run_until(SimTime::from_ms(1_000), u64::MAX);
        original.apply(crash(0)).unwrap();
        original.run_until(SimTime::from_ms(2_000), u64::MAX);
        while original.step().is_some() && !original.events_processed().is_multiple_of(7) {}
        let (at, events) = (original.now(), original.events_processed());
        let mut at_500ms = order_events();
        at_500ms.run_until(SimTime::from_ms(500), u64::MAX);

        let mut tl = Timeline::with_log(
            order_events(),
            original.command_log().to_vec(),
            SimTime::from_ms(1_000),
        );
        assert!(tl.run_to_place(at, Some(events), u64::MAX));
        assert_eq!(
            (tl.current().now(), tl.current().events_processed()),
            (at, events)
        );
        assert_eq!(tl.current().trace_hash(), original.trace_hash());
        assert_eq!(tl.log().len(), 1);
        // Earlier than the place: the checkpoint at zero is there.
        tl.seek(SimTime::from_ms(500));
        assert_eq!(tl.current().trace_hash(), at_500ms.trace_hash());
        // And back: the crash applies again on the way.
        tl.run_to_place(at, Some(events), u64::MAX);
        assert_eq!(tl.current().trace_hash(), original.trace_hash());
    }

    #[test]
    fn seeking_back_and_forth_reproduces_the_straight_run() {
        let mut straight = order_events();
        straight.run_until(SimTime::from_ms(3_000), u64::MAX);
        straight.apply(crash(0)).unwrap();
        straight.run_to_idle(u64::MAX);
        let mut at_7s = order_events();
        at_7s.run_with_log(straight.command_log(), SimTime::from_ms(7_000), u64::MAX);

        let mut tl = Timeline::new(order_events(), SimTime::from_ms(2_000));
        tl.run_until(SimTime::from_ms(3_000), u64::MAX);
        tl.apply(crash(0)).unwrap();
        tl.run_until(SimTime::from_ms(12_000), u64::MAX);
        assert_eq!(
            tl.checkpoint_times(),
            [0, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000]
                .map(SimTime::from_ms)
                .to_vec()
        );
        let replayed = tl.seek(SimTime::from_ms(7_000));
        // From the 6 s checkpoint: one second of events, not seven.
        assert_eq!(replayed, 85);
        assert_eq!(tl.current().snapshot(), at_7s.snapshot());
        assert_eq!(tl.current().trace_hash(), at_7s.trace_hash());
        // Forward from 1 s to 7 s restores the 6 s checkpoint too.
        tl.seek(SimTime::from_ms(1_000));
        assert_eq!(tl.seek(SimTime::from_ms(7_000)), 85);
        assert_eq!(tl.current().snapshot(), at_7s.snapshot());
        assert_eq!(tl.current().trace_hash(), at_7s.trace_hash());
        // Forward again past the logged crash and to the end: same as the straight run.
        tl.seek(SimTime::from_ms(1_000));
        tl.run_until(SimTime::MAX, u64::MAX);
        assert_eq!(tl.current().trace_hash(), straight.trace_hash());
    }

    #[test]
    fn step_back_undoes_exactly_one_event() {
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(1_000));
        tl.run_until(SimTime::from_ms(2_500), u64::MAX);
        let before = tl.current().clone();
        tl.step().unwrap();
        assert_eq!(
            tl.current().events_processed(),
            before.events_processed() + 1
        );
        assert!(tl.step_back());
        assert_eq!(tl.current().events_processed(), before.events_processed());
        assert_eq!(tl.current().trace_hash(), before.trace_hash());
    }

    #[test]
    fn applying_in_the_past_branches_history() {
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(1_000));
        tl.run_until(SimTime::from_ms(2_000), u64::MAX);
        tl.apply(crash(0)).unwrap();
        tl.run_until(SimTime::from_ms(6_000), u64::MAX);
        tl.seek(SimTime::from_ms(1_000));
        tl.apply(crash(1)).unwrap();
        assert_eq!(tl.log().len(), 1);
        assert_eq!(tl.log()[0].command, crash(1));
        assert_eq!(
            tl.checkpoint_times(),
            vec![SimTime::ZERO, SimTime::from_ms(1_000)]
        );
    }

    #[test]
    fn checkpoints_are_thinned_beyond_the_bound() {
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(100));
        tl.run_until(SimTime::from_ms(20_000), u64::MAX);
        let times = tl.checkpoint_times();
        assert!(times.len() <= MAX_CHECKPOINTS);
        assert_eq!(times.len(), 51);
        assert_eq!(times[1], SimTime::from_ms(400));
    }
}
