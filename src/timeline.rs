//! Time travel: seek to any earlier virtual time, step back one event, bookmarks.
//!
//! A [`Timeline`] owns the running simulation, the log of user commands and periodic checkpoints
//! (clones of the simulation). Every move — run, seek, step, step back, opening a shared run —
//! restores the latest checkpoint at or before the target (or keeps the current state when it is
//! later) and replays from there with the one replay path, [`crate::replay::drive`], so a seek
//! costs at most the events between two checkpoints, however long the run, and lands on exactly
//! the state a straight run has there. Checkpoints are only taken at interval boundaries (every
//! event and command up to the boundary done, the clock at it).
//!
//! A checkpoint is cheap: the simulation's big tables are persistent (the trace ring's full
//! chunks, the processed-message tables and the claim checker's tables, stored as 64-id bitmaps,
//! are shared between clones), so a checkpoint holds only what changed since the one before it:
//! the trace events pushed since (up to a whole ring) and the state the run turned over since
//! (messages consumed from queues and logs, ids forgotten by the tables; up to one whole state).
//! Checkpoints are bounded in count ([`MAX_CHECKPOINTS`]) and in estimated memory
//! ([`MAX_CHECKPOINT_BYTES`], see [`Timeline::checkpoint_bytes`], an upper bound of what they
//! really hold, tested on a long run); past either bound they are thinned: the
//! [`RECENT_CHECKPOINTS`] newest are kept (dense recent history for stepping back and
//! scrubbing), and among the older ones the one whose removal leaves the smallest gap (in
//! events) goes, so the rest stay evenly spread over the run and a seek anywhere replays about
//! `events / checkpoints` events at most. A long seek back also leaves a checkpoint at the
//! boundary just before where it landed (kept while it is the latest such), so scrubbing
//! around that place and stepping back from it are short replays.

use crate::command::Command;
use crate::error::CommandError;
use crate::replay::{self, Progress, ReplayError, Stop, Target};
use crate::sim::{RecordedCommand, RunOutcome, Simulation};
use crate::time::SimTime;
use std::collections::BTreeMap;

/// Default virtual time between checkpoints: 5 s.
pub const DEFAULT_CHECKPOINT_INTERVAL: SimTime = SimTime::from_ms(5_000);
/// Checkpoints kept at most (then thinned): 256. What a checkpoint holds outside the memory
/// estimate's per-event terms (the containers a clone copies whole, about 60 kB on the built-in
/// scenarios) is estimated as [`CHECKPOINT_SHELL_BYTES`] each, so long runs are bounded by the
/// bytes first and short ones by this count.
pub const MAX_CHECKPOINTS: usize = 256;
/// The newest checkpoints that thinning never drops: 16 (one interval apart each).
pub const RECENT_CHECKPOINTS: usize = 16;
/// Estimated memory all checkpoints may hold beyond the current state, in bytes: 96 MB (see
/// [`Timeline::checkpoint_bytes`]); past it they are thinned.
pub const MAX_CHECKPOINT_BYTES: u64 = 96_000_000;
/// Estimate of the state bytes a run adds per handled event that a checkpoint keeps alive once
/// the current state has moved on, beyond the trace ring (messages the checkpoint still holds in
/// broker queues that the current state consumed since, records its logs retired,
/// processed-message ids and claim-table entries the current state forgot): 50 bytes. Measured
/// (`examples/timeline_memory.rs held`: the bytes freed by dropping a state kept 20 000 –
/// 100 000 events earlier, less the trace ring) at 41 bytes per event on `order-events`
/// (mostly the ~470-byte messages its broker queues turn over) and 14 on
/// `partitioned-orders`.
pub const STATE_BYTES_PER_EVENT: u64 = 50;
/// Cap of the per-gap state estimate, in bytes: 16 MB. However far apart two checkpoints are,
/// the older one holds at most one whole state of its own beyond what they share: measured at
/// most 10.9 MB on `order-events` (a state at 10 M events, 2 M events later) and 2.6 MB on
/// `partitioned-orders`, since the processed-message ids and the claim checker's tables are
/// 64-id bitmaps (`IdBitmap`; over 40 MB with one B-tree slot per id) and partition logs are
/// persistent vectors.
pub const STATE_BYTES_CAP: u64 = 16_000_000;
/// Estimate of what a checkpoint copies outright (the containers a clone of the simulation
/// copies whole rather than shares), in bytes: 100 kB. Measured (`timeline_memory … parts`,
/// the whole simulation's clone) at 60 kB on `order-events` and 50 kB on
/// `partitioned-orders`.
pub const CHECKPOINT_SHELL_BYTES: u64 = 100_000;
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
    dropped: Option<ReplayError>,
    last_replayed: u64,
    /// Checkpoints kept at most (default [`MAX_CHECKPOINTS`]).
    max_checkpoints: usize,
    /// Estimated checkpoint bytes kept at most (default [`MAX_CHECKPOINT_BYTES`]).
    max_checkpoint_bytes: u64,
    /// The landing checkpoint of the latest long seek back, `(events, time)`: thinning keeps
    /// it while it is not the only candidate (see [`Timeline::seek_to`]).
    landing: Option<(u64, SimTime)>,
}

/// Whether the state `s` lies on the way to `target` (a replay from it can get there).
fn fits(s: &Simulation, target: Target) -> bool {
    match target {
        Target::Time(t) => s.now() <= t,
        Target::Place { at, events } => s.now() <= at && s.events_processed() <= events,
        Target::Events(n) => {
            s.events_processed() < n
                || (n == 0 && s.events_processed() == 0 && s.now() == SimTime::ZERO)
        }
    }
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
            dropped: None,
            last_replayed: 0,
            max_checkpoints: MAX_CHECKPOINTS,
            max_checkpoint_bytes: MAX_CHECKPOINT_BYTES,
            landing: None,
        }
    }

    /// Sets the checkpoint bounds: at most `max_count` checkpoints (at least 2: the first and
    /// the newest) and at most `max_bytes` of estimated checkpoint memory
    /// ([`Timeline::checkpoint_bytes`]). Defaults: [`MAX_CHECKPOINTS`], [`MAX_CHECKPOINT_BYTES`];
    /// larger values are clamped to them. Thins at once.
    pub fn set_checkpoint_limits(&mut self, max_count: usize, max_bytes: u64) {
        self.max_checkpoints = max_count.clamp(2, MAX_CHECKPOINTS);
        self.max_checkpoint_bytes = max_bytes.min(MAX_CHECKPOINT_BYTES);
        self.thin();
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

    /// Why the log was cut short, if it was: a logged command ahead of the current position (from
    /// a shared run or a run file) that did not fit the run when the timeline reached its place;
    /// it and every command after it were dropped.
    pub fn dropped(&self) -> Option<&ReplayError> {
        self.dropped.as_ref()
    }

    /// Restores the latest checkpoint on the way to `target` when it is later than the current
    /// position (or the current position is past the target). Returns whether it restored one.
    fn restore_for(&mut self, target: Target) -> bool {
        let key = |s: &Simulation| (s.events_processed(), s.now());
        let here = fits(&self.current, target).then(|| key(&self.current));
        let best = self
            .checkpoints
            .iter()
            .rev()
            .filter(|c| fits(c, target))
            .max_by_key(|c| key(c));
        match best {
            Some(cp) if here.is_none_or(|h| key(cp) > h) => {
                self.current = cp.clone();
                true
            }
            _ => false,
        }
    }

    /// The one way the timeline moves: toward `target` from the best starting state (the
    /// current one, or the latest checkpoint on the way), handling at most `budget` events in this
    /// call, taking checkpoints at interval boundaries. Resumable: call again with the same
    /// `target` to go on ([`Progress::Running`] says how far it is). Errors are the replay's
    /// ([`ReplayError`]: a logged command or the target place does not fit the run); the timeline
    /// then stands where the replay stopped.
    ///
    /// Use it to open a shared run in chunks (`Timeline::with_log`, then `advance` once per
    /// animation frame until [`Progress::Done`]).
    pub fn advance(&mut self, target: Target, budget: u64) -> Result<Progress, ReplayError> {
        self.advance_counting(target, budget, None).map(|(p, _)| p)
    }

    /// [`Timeline::advance`], also returning the events it handled. With `land_before`, when
    /// the run stands more than one checkpoint interval behind the newest checkpoint (a seek
    /// back that restored a far checkpoint), it also stops at the last interval boundary
    /// before `land_before` and leaves a checkpoint there (see [`Timeline::seek_to`]).
    fn advance_counting(
        &mut self,
        target: Target,
        budget: u64,
        land_before: Option<SimTime>,
    ) -> Result<(Progress, u64), ReplayError> {
        self.restore_for(target);
        let mut handled = 0u64;
        loop {
            let last = self
                .checkpoints
                .last()
                .map(|c| c.now())
                .unwrap_or(SimTime::ZERO);
            let boundary = SimTime(last.0.saturating_add(self.interval.0));
            // The boundary (on the checkpoints' grid, `last - k·interval`) just before
            // `land_before`, when it lies ahead of the run.
            let landing = land_before
                .filter(|&h| h <= last && h > SimTime::ZERO)
                .map(|h| {
                    let back = (last.0 - h.0) / self.interval.0 + 1;
                    SimTime(last.0.saturating_sub(back.saturating_mul(self.interval.0)))
                })
                .filter(|&b| b > self.current.now());
            let pause = match target {
                Target::Time(t) | Target::Place { at: t, .. } => landing
                    .filter(|&b| b < t)
                    .or((boundary < t).then_some(boundary)),
                Target::Events(_) => landing.or(Some(boundary)),
            };
            let (stop, n) = replay::drive(
                &mut self.current,
                &self.log,
                target,
                budget.saturating_sub(handled),
                pause,
            )?;
            handled += n;
            match stop {
                Stop::Paused => {
                    if landing.is_some_and(|b| Some(b) == pause) {
                        self.land();
                    } else if self.current.now() > last {
                        self.checkpoint();
                    }
                }
                Stop::Done => {
                    if target == Target::Time(boundary) && self.current.now() > last {
                        self.checkpoint();
                    }
                    return Ok((Progress::Done, handled));
                }
                Stop::Budget => {
                    let p = Progress::Running {
                        events_done: self.current.events_processed(),
                        events_total: target.events(),
                    };
                    return Ok((p, handled));
                }
            }
        }
    }

    /// Inserts a checkpoint of the current state (at an interval boundary behind the newest
    /// checkpoint) in its place, as the protected landing checkpoint, and thins.
    fn land(&mut self) {
        let key = |s: &Simulation| (s.events_processed(), s.now());
        let k = key(&self.current);
        let at = self.checkpoints.partition_point(|c| key(c) < k);
        if self.checkpoints.get(at).is_some_and(|c| key(c) == k) {
            return;
        }
        self.checkpoints.insert(at, self.current.clone());
        self.landing = Some(k);
        self.thin();
    }

    /// As [`Timeline::advance`], dropping a logged command ahead that does not fit the run (and
    /// the rest of the log after it; see [`Timeline::dropped`]) instead of stopping there.
    fn go(
        &mut self,
        target: Target,
        budget: u64,
        land_before: Option<SimTime>,
    ) -> Result<(Progress, u64), ReplayError> {
        loop {
            match self.advance_counting(target, budget, land_before) {
                Err(
                    e @ (ReplayError::IdleBeforeCommand { index, .. }
                    | ReplayError::CommandMismatch { index, .. }
                    | ReplayError::Refused { index, .. }),
                ) if index < self.log.len() => {
                    self.log.truncate(index);
                    self.checkpoints.retain(|c| c.command_log().len() <= index);
                    self.dropped = Some(e);
                }
                other => return other,
            }
        }
    }

    /// Runs forward to `until` (at most `max_events` events), re-applying logged commands on the
    /// way and taking checkpoints at each interval boundary. `reached` is false when
    /// `max_events` stopped it first.
    pub fn run_until(&mut self, until: SimTime, max_events: u64) -> RunOutcome {
        let target = Target::Time(until.max(self.current.now()));
        match self.go(target, max_events, None) {
            Ok((p, events)) => RunOutcome {
                events,
                reached: p == Progress::Done,
            },
            Err(_) => RunOutcome {
                events: 0,
                reached: false,
            },
        }
    }

    fn checkpoint(&mut self) {
        self.checkpoints.push(self.current.clone());
        self.thin();
    }

    /// Estimated bytes checkpoint `later` holds that checkpoint `earlier` (the one kept before
    /// it) does not share: the trace events pushed between them (plus the open ring chunk,
    /// at most the ring's cap; [`TraceEvent`](crate::trace::TraceEvent) size each),
    /// [`STATE_BYTES_PER_EVENT`] per event handled between them, at most [`STATE_BYTES_CAP`],
    /// and [`CHECKPOINT_SHELL_BYTES`].
    fn gap_bytes(earlier: &Simulation, later: &Simulation) -> u64 {
        let trace = later.trace();
        let pushed = trace
            .len_total()
            .saturating_sub(earlier.trace().len_total())
            .saturating_add(crate::trace::ring::CHUNK as u64)
            .min(trace.capacity() as u64);
        let events = later
            .events_processed()
            .saturating_sub(earlier.events_processed());
        pushed
            .saturating_mul(std::mem::size_of::<crate::trace::TraceEvent>() as u64)
            .saturating_add(
                events
                    .saturating_mul(STATE_BYTES_PER_EVENT)
                    .min(STATE_BYTES_CAP),
            )
            .saturating_add(CHECKPOINT_SHELL_BYTES)
    }

    /// Estimated memory the checkpoints hold beyond the first one, in bytes: the sum of
    /// `Timeline::gap_bytes`-style estimates between consecutive checkpoints (trace events
    /// pushed between them, 128 bytes each, plus [`STATE_BYTES_PER_EVENT`] (50) bytes per
    /// handled event, at most [`STATE_BYTES_CAP`] (16 MB) a gap, plus
    /// [`CHECKPOINT_SHELL_BYTES`] (100 kB)). Kept at most [`MAX_CHECKPOINT_BYTES`] (unless only
    /// the first and last are left: then at most one gap, 16.1 MB + the trace ring). An upper
    /// bound of what they really hold on the built-in scenarios `order-events` (tested over a
    /// real run, `tests/checkpoint_memory.rs`) and `partitioned-orders` (measured).
    pub fn checkpoint_bytes(&self) -> u64 {
        self.checkpoints
            .windows(2)
            .map(|w| Self::gap_bytes(&w[0], &w[1]))
            .sum()
    }

    /// Drops checkpoints until at most [`MAX_CHECKPOINTS`] remain and their estimated memory is
    /// at most [`MAX_CHECKPOINT_BYTES`] (or the lower bounds of
    /// [`Timeline::set_checkpoint_limits`]). Never drops the first or the newest
    /// [`RECENT_CHECKPOINTS`] while older ones remain; among the others it drops the one
    /// whose neighbours are closest (in handled events; ties: the oldest), so the older
    /// checkpoints stay evenly spread over the run. Over the byte bound too: a gap's estimate is
    /// linear in its events up to the trace ring's and the state's caps, so for a given total
    /// even gaps keep the most checkpoints and the shortest mean replay of a random seek (a
    /// rule dropping the least replay per freed byte merges the largest gaps first, since
    /// merging two gaps past the ring's size frees a whole ring, and leaves a few huge gaps).
    /// Dropping one never raises the estimate (each gap's estimate is subadditive), so the
    /// loop ends within the bounds.
    fn thin(&mut self) {
        let mut bytes: Option<u64> = None;
        loop {
            let n = self.checkpoints.len();
            if n <= 2 {
                return;
            }
            let over_count = n > self.max_checkpoints;
            let total = *bytes.get_or_insert_with(|| self.checkpoint_bytes());
            if !over_count && total <= self.max_checkpoint_bytes {
                return;
            }
            // Interior candidates: not the first, not the recent tail (unless nothing else).
            let last_candidate = if n > RECENT_CHECKPOINTS + 1 {
                n - RECENT_CHECKPOINTS
            } else {
                n - 1
            };
            let cps = &self.checkpoints;
            let ev = |i: usize| cps[i].events_processed();
            let landing = self.landing;
            let drop = (1..last_candidate)
                .filter(|&i| landing != Some((ev(i), cps[i].now())))
                .min_by_key(|&i| (ev(i + 1).saturating_sub(ev(i - 1)), i))
                .unwrap_or(1);
            let before = Self::gap_bytes(&cps[drop - 1], &cps[drop])
                + Self::gap_bytes(&cps[drop], &cps[drop + 1]);
            let after = Self::gap_bytes(&cps[drop - 1], &cps[drop + 1]);
            self.checkpoints.remove(drop);
            bytes = Some(total.saturating_sub(before).saturating_add(after));
        }
    }

    /// Handles one event (applying the logged commands placed before it, and those placed right
    /// after it at its time). Returns its time; `None` when nothing is scheduled.
    pub fn step(&mut self) -> Option<SimTime> {
        let n = self.current.events_processed();
        self.current.next_event_time()?;
        let _ = self.go(Target::Events(n + 1), 1, None);
        (self.current.events_processed() == n + 1).then(|| self.current.now())
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
        self.checkpoints.retain(|c| {
            c.now() <= now && c.events_processed() <= events && c.command_log().len() <= here
        });
        self.dropped = None;
        Ok(())
    }

    /// Moves to virtual time `t`: backward by restoring the latest checkpoint at or before `t`
    /// and replaying from it; forward the same when such a checkpoint lies ahead of the current
    /// position (after a seek back: it is on the same history), else by running. Returns the
    /// events replayed (from the state it started from).
    pub fn seek(&mut self, t: SimTime) -> u64 {
        let _ = self.seek_to(Target::Time(t), u64::MAX);
        self.last_replayed
    }

    /// Goes back exactly one event: to the state right after the event before the last one
    /// handled, at its time, with the commands logged there ([`Target::Events`]) — the state a
    /// straight run has after one event fewer. Returns false at the start.
    pub fn step_back(&mut self) -> bool {
        let n = self.current.events_processed();
        if n == 0 {
            return false;
        }
        matches!(
            self.seek_to(Target::Events(n - 1), u64::MAX),
            Ok(Progress::Done)
        )
    }

    /// Moves to `target` (backward or forward, restoring the best checkpoint) with at most
    /// `budget` events of work in this call; resumable like [`Timeline::advance`]. Logged
    /// commands ahead that do not fit the run are dropped (see [`Timeline::dropped`]).
    ///
    /// A seek that replays from a checkpoint more than one interval behind its target (or, for
    /// an event count — a step back —, behind the current time) leaves a checkpoint at the last
    /// interval boundary before it (the same state a forward run checkpoints there), so that
    /// scrubbing around the place and stepping back from it replay from there. Thinning keeps
    /// the latest such landing checkpoint (while other candidates remain); it counts against
    /// both bounds like any other.
    pub fn seek_to(&mut self, target: Target, budget: u64) -> Result<Progress, ReplayError> {
        let before = self.current.events_processed();
        // Where the seek lands (at most): the target's time, or for an event count (a step
        // back) the current time.
        let land_before = match target {
            Target::Time(t) | Target::Place { at: t, .. } => t,
            Target::Events(_) => self.current.now(),
        };
        let land_before = Some(land_before);
        let restored = self.restore_for(target);
        let from = if restored {
            self.current.events_processed()
        } else {
            before
        };
        let out = self.go(target, budget, land_before);
        self.last_replayed = self.current.events_processed().saturating_sub(from);
        out.map(|(p, _)| p)
    }

    /// Starts a timeline at `sim` (normally freshly built, at time zero) with a recorded command
    /// `log` to re-apply as the run passes their places (a shared run, a run file): like
    /// [`Timeline::new`], with the future already written. Nothing runs yet: go to the shared
    /// place with [`Timeline::advance`] (in chunks) or [`Timeline::run_to_place`]. Errors when
    /// the log's places go back ([`ReplayError::Unordered`]).
    pub fn with_log(
        sim: Simulation,
        log: Vec<RecordedCommand>,
        interval: SimTime,
    ) -> Result<Timeline, ReplayError> {
        replay::check_order(&log)?;
        let mut t = Timeline::new(sim, interval);
        let applied = t.log.len();
        t.log.extend(log.into_iter().skip(applied));
        Ok(t)
    }

    /// Runs forward to a place of the run (see [`Target::from_place`]): virtual time `at`, and
    /// with `events` exactly that many handled events; commands placed there are applied. At most
    /// `max_events` events in all (counted from the start of the run): a run that needs more is
    /// [`ReplayError::OverLimit`]. Every error names the command or the place that does not fit.
    pub fn run_to_place(
        &mut self,
        at: SimTime,
        events: Option<u64>,
        max_events: u64,
    ) -> Result<(), ReplayError> {
        let target = Target::from_place(at, events);
        let left = max_events.saturating_sub(self.current.events_processed());
        match self.advance(target, left)? {
            Progress::Done => Ok(()),
            Progress::Running { events_done, .. } => Err(ReplayError::OverLimit {
                target: target.to_string(),
                limit: max_events,
                now_us: self.current.now().as_us(),
                events_done,
            }),
        }
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
    use std::sync::Arc;

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
        )
        .unwrap();
        tl.run_to_place(at, Some(events), u64::MAX).unwrap();
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
        tl.run_to_place(at, Some(events), u64::MAX).unwrap();
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
        // 829 interval boundaries with events before the run goes idle at 16.58 s; 256 kept.
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(20));
        tl.run_until(SimTime::from_ms(20_000), u64::MAX);
        let times = tl.checkpoint_times();
        assert_eq!(tl.current().next_event_time(), None);
        assert_eq!(times.len(), MAX_CHECKPOINTS);
        assert_eq!(times[0], SimTime::ZERO);
        assert_eq!(*times.last().unwrap(), SimTime::from_ms(16_580));
        // The newest 16 are one interval apart; the older ones evenly spread in events.
        assert_eq!(
            times[MAX_CHECKPOINTS - RECENT_CHECKPOINTS],
            SimTime::from_ms(16_280)
        );
        let ev: Vec<u64> = tl
            .checkpoints
            .iter()
            .map(|c| c.events_processed())
            .collect();
        let gaps: Vec<u64> = ev.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!((gaps.iter().min(), gaps.iter().max()), (Some(&0), Some(&8)));
        // 255 gaps of 100 kB (what a clone copies whole) and the trace and state between.
        assert_eq!(tl.checkpoint_bytes(), 27_934_390);
        // A seek replays at most one gap.
        assert_eq!(tl.seek(SimTime::from_ms(8_010)), 3);
    }

    #[test]
    fn a_long_seek_back_leaves_a_checkpoint_where_it_landed() {
        // Eight checkpoints over the run (16.58 s): far apart in the middle.
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(100));
        tl.set_checkpoint_limits(8, MAX_CHECKPOINT_BYTES);
        tl.run_until(SimTime::from_ms(20_000), u64::MAX);
        assert_eq!(
            tl.checkpoint_times(),
            [0, 1_800, 3_900, 5_900, 9_200, 11_200, 14_500, 16_500]
                .map(SimTime::from_ms)
                .to_vec()
        );
        // The first seek replays from a far checkpoint and stops once at the boundary before
        // 5.05 s to leave one there (kept through thinning while it is the latest such).
        assert_eq!(tl.seek(SimTime::from_ms(5_050)), 104);
        // Thinning then dropped the checkpoint it replayed from (3.9 s: now the smallest gap).
        assert_eq!(
            tl.checkpoint_times(),
            [0, 1_800, 5_000, 5_900, 9_200, 11_200, 14_500, 16_500]
                .map(SimTime::from_ms)
                .to_vec()
        );
        // Scrubbing nearby, and stepping back, replay from it.
        assert_eq!(tl.seek(SimTime::from_ms(5_020)), 2);
        let mut straight = order_events();
        straight.run_until(SimTime::from_ms(5_020), u64::MAX);
        assert_eq!(tl.current().trace_hash(), straight.trace_hash());
        let n = tl.current().events_processed();
        assert!(tl.step_back());
        assert_eq!(tl.last_replayed, 1);
        let mut straight = order_events();
        while straight.events_processed() < n - 1 {
            straight.step();
        }
        assert_eq!(tl.current().trace_hash(), straight.trace_hash());
        assert!(tl.checkpoint_times().len() <= 8);
    }

    #[test]
    fn checkpoints_share_the_trace_ring_and_stay_within_both_bounds() {
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(100));
        tl.run_until(SimTime::from_ms(4_000), u64::MAX);
        let n = tl.checkpoints.len();
        let (a, b) = (tl.checkpoints[n - 2].trace(), tl.checkpoints[n - 1].trace());
        // Consecutive checkpoints share every full chunk of the older one's ring; only its
        // open chunk was copied (and the newer one's later events are its own).
        let shared = a
            .ring()
            .chunks()
            .filter(|c| b.ring().chunks().any(|d| Arc::ptr_eq(c, d)))
            .count();
        assert_eq!((a.ring().chunks().count(), shared), (9, 8));
        assert_eq!(b.ring().items_not_shared_with(a.ring()), 44);

        // Lower bounds, enforced on a longer run: 32 checkpoints, then 2 MB of estimate.
        let mut tl = Timeline::new(order_events(), SimTime::from_ms(100));
        tl.set_checkpoint_limits(32, 8_000_000);
        tl.run_until(SimTime::from_ms(20_000), u64::MAX);
        assert_eq!(
            (tl.checkpoints.len(), tl.checkpoint_bytes()),
            (32, 3_699_382)
        );
        tl.set_checkpoint_limits(32, 2_000_000);
        assert_eq!(
            (tl.checkpoints.len(), tl.checkpoint_bytes()),
            (16, 1_968_310)
        );
        // The old history went (evenly, smallest gaps first; each drop frees one open ring
        // chunk's 8 kB here); once at most RECENT_CHECKPOINTS + 1 are left, the recent ones
        // are candidates too.
        assert_eq!(tl.checkpoint_times()[1], SimTime::from_ms(15_000));
        // The timeline still lands where a straight run does.
        let mut straight = order_events();
        straight.run_until(SimTime::from_ms(3_050), u64::MAX);
        assert_eq!(tl.seek(SimTime::from_ms(3_050)), 250);
        assert_eq!(tl.current().trace_hash(), straight.trace_hash());
    }
}
