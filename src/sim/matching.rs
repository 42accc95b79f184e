//! Run until something happens: stop at the first trace event, or the first state, a test is
//! waiting for, instead of guessing a virtual time (as turmoil's `run_until`-style helpers and
//! property tests need).

use super::Simulation;
use crate::time::SimTime;
use crate::trace::TraceEvent;

/// Where [`Simulation::run_until_match`] or [`Simulation::run_until_state`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOutcome {
    /// The predicate held. `seq` is the matching trace event's sequence number
    /// ([`TraceEvent::seq`]; for a state predicate, the trace length when it held), `time` its
    /// virtual time, `events` the engine events this call handled (the matching one included).
    Matched {
        /// Trace sequence number of the match.
        seq: u64,
        /// Virtual time of the match.
        time: SimTime,
        /// Engine events handled by this call.
        events: u64,
    },
    /// Nothing is scheduled any more (the run is idle) and the predicate never held.
    Idle {
        /// Engine events handled by this call.
        events: u64,
    },
    /// `max_events` were handled and the predicate never held; call again to go on.
    Budget {
        /// Engine events handled by this call (`max_events`).
        events: u64,
    },
}

impl MatchOutcome {
    /// Whether the predicate held.
    pub fn matched(&self) -> bool {
        matches!(self, MatchOutcome::Matched { .. })
    }
}

impl Simulation {
    /// Handles events one by one until one of them records a trace event for which `pred` is
    /// true (checked in trace order, including events recorded by the handled event's follow-ups
    /// at the same instant), the run goes idle, or `max_events` events were handled. Time stays at
    /// the matching event's (the rest of that instant is not handled), so a command applied next
    /// lands right after it and is recorded at that exact place.
    ///
    /// Needs the trace on (the default; with `capacity` 0 nothing is recorded and this runs to
    /// idle or the budget).
    ///
    /// ```
    /// use msgsim::{Simulation, TraceKind};
    /// let json = msgsim::scenarios::get("order-events").unwrap();
    /// let mut sim = Simulation::from_json(json, 42).unwrap();
    /// let out = sim.run_until_match(|e| matches!(e.what, TraceKind::Arrive { .. }), 100_000);
    /// assert!(out.matched());
    /// ```
    pub fn run_until_match(
        &mut self,
        mut pred: impl FnMut(&TraceEvent) -> bool,
        max_events: u64,
    ) -> MatchOutcome {
        let mut events = 0;
        loop {
            if events >= max_events {
                return MatchOutcome::Budget { events };
            }
            let before = self.trace().len_total();
            if self.step().is_none() {
                return MatchOutcome::Idle { events };
            }
            events += 1;
            if let Some(e) = self.trace().since(before).find(|e| pred(e)) {
                return MatchOutcome::Matched {
                    seq: e.seq,
                    time: e.time,
                    events,
                };
            }
        }
    }

    /// Handles events one by one until `pred` holds of the simulation (checked before the first
    /// event and after each one), the run goes idle, or `max_events` events were handled. E.g.
    /// wait until a breaker is open, or a consumer's lag is back to 0. The predicate sees the
    /// whole simulation (`metrics()`, `node_metrics()`, `snapshot()`, `invariants()`); keep it
    /// cheap (a `snapshot()` per event costs far more than the event).
    pub fn run_until_state(
        &mut self,
        mut pred: impl FnMut(&Simulation) -> bool,
        max_events: u64,
    ) -> MatchOutcome {
        let mut events = 0;
        loop {
            if pred(self) {
                return MatchOutcome::Matched {
                    seq: self.trace().len_total(),
                    time: self.now(),
                    events,
                };
            }
            if events >= max_events {
                return MatchOutcome::Budget { events };
            }
            if self.step().is_none() {
                return MatchOutcome::Idle { events };
            }
            events += 1;
        }
    }
}
