//! Bulkhead with the semantics of Resilience4j's (fair) `SemaphoreBulkhead`, in virtual time.
//!
//! At most `maxConcurrentCalls` calls are inside at once. A call that finds no free slot waits up
//! to `maxWaitDuration` in a FIFO queue (Resilience4j uses a fair `Semaphore`); with
//! `maxWaitDuration` 0 (the default) it is rejected at once (`BulkheadFullException`).
//!
//! Driving it from the event loop:
//!
//! * [`Bulkhead::try_enter`] → [`Admission::Entered`] (run the call), [`Admission::Waiting`] (the
//!   host schedules a timeout at `deadline_us`), or [`Admission::Rejected`].
//! * When an entered call finishes, [`Bulkhead::on_exit`]: its slot goes to the oldest waiter
//!   whose deadline has not passed (returned, so the host starts that call now), or becomes free.
//! * At a waiter's deadline, [`Bulkhead::on_wait_timeout`] removes it (the host fails it with
//!   [`BULKHEAD_FULL_ERROR_KIND`]); it returns false when the call was already granted a slot.
//!
//! A waiter times out *at* its deadline: a slot freed at exactly `deadline_us` is not handed to
//! it, so the outcome does not depend on the order of same-instant events.
//! [`Bulkhead::next_deadline`] gives the earliest pending deadline.

use super::{ConfigError, Micros};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Error kind a host should use for an attempt rejected by a full bulkhead (Resilience4j's
/// `BulkheadFullException`).
pub const BULKHEAD_FULL_ERROR_KIND: &str = "BulkheadFullException";

/// Identifies a call to the bulkhead; chosen by the host, unique among its calls.
pub type CallId = u64;

/// Bulkhead configuration; follows Resilience4j `BulkheadConfig` (semaphore bulkhead).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BulkheadConfig {
    /// Maximum number of calls inside at once. Default 25. 0 rejects (or queues until timeout)
    /// every call, as in Resilience4j.
    pub max_concurrent_calls: u32,
    /// Longest a call waits for a slot. Default 0 (no waiting).
    pub max_wait_duration: Micros,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            max_concurrent_calls: 25,
            max_wait_duration: Micros::ZERO,
        }
    }
}

impl BulkheadConfig {
    /// Every value of the fields is valid (`u32` / [`Micros`] rule out negatives); kept for
    /// uniformity with the other policies.
    ///
    /// # Errors
    /// None at present.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// The answer of [`Bulkhead::try_enter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Admission {
    /// The call holds a slot now; call [`Bulkhead::on_exit`] when it ends.
    Entered,
    /// The call is queued until a slot frees up or `deadline_us` (virtual µs) arrives.
    Waiting {
        /// When the wait ends in failure: `now + maxWaitDuration`.
        deadline_us: u64,
    },
    /// No slot and no waiting allowed: `BulkheadFullException`.
    Rejected,
}

/// A semaphore bulkhead in virtual time. See the module docs.
#[derive(Clone, Debug)]
pub struct Bulkhead {
    config: BulkheadConfig,
    in_use: u32,
    waiters: VecDeque<(CallId, u64)>,
}

impl Bulkhead {
    /// An empty bulkhead.
    ///
    /// # Errors
    /// The config's [`BulkheadConfig::validate`] error.
    pub fn new(config: BulkheadConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Bulkhead {
            config,
            in_use: 0,
            waiters: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BulkheadConfig {
        &self.config
    }

    /// Asks for a slot for `call` at `now_us`. A free slot is taken at once; otherwise the call
    /// waits (if `maxWaitDuration > 0`) or is rejected.
    pub fn try_enter(&mut self, now_us: u64, call: CallId) -> Admission {
        if self.in_use < self.config.max_concurrent_calls {
            self.in_use += 1;
            Admission::Entered
        } else if self.config.max_wait_duration.0 > 0 {
            let deadline_us = now_us.saturating_add(self.config.max_wait_duration.0);
            self.waiters.push_back((call, deadline_us));
            Admission::Waiting { deadline_us }
        } else {
            Admission::Rejected
        }
    }

    /// An entered call finished at `now_us`. Returns the waiter that now holds the freed slot
    /// (the oldest one with `deadline_us > now_us`), or `None` if the slot became free. Waiters
    /// whose deadline has passed are skipped, not removed: the host still delivers their
    /// timeout. Called with no slot in use, it does nothing.
    pub fn on_exit(&mut self, now_us: u64) -> Option<CallId> {
        if self.in_use == 0 {
            return None;
        }
        // After a smaller limit ([`Bulkhead::change_config`]): the slot is not handed on.
        if self.in_use > self.config.max_concurrent_calls {
            self.in_use -= 1;
            return None;
        }
        if let Some(pos) = self.waiters.iter().position(|&(_, d)| d > now_us) {
            return self.waiters.remove(pos).map(|(id, _)| id);
        }
        self.in_use -= 1;
        None
    }

    /// The wait of `call` ended (its deadline arrived, or the caller gave up). Returns true if
    /// it was waiting and is now removed: fail it with [`BULKHEAD_FULL_ERROR_KIND`]. Returns
    /// false if it is not waiting (already granted a slot by [`Bulkhead::on_exit`], or unknown).
    pub fn on_wait_timeout(&mut self, _now_us: u64, call: CallId) -> bool {
        match self.waiters.iter().position(|&(id, _)| id == call) {
            Some(pos) => {
                self.waiters.remove(pos);
                true
            }
            None => false,
        }
    }

    /// The earliest deadline among waiting calls, virtual µs.
    pub fn next_deadline(&self) -> Option<u64> {
        self.waiters.iter().map(|&(_, d)| d).min()
    }

    /// Free slots (Resilience4j `availableConcurrentCalls`); 0 while more calls are inside than
    /// a smaller new limit allows.
    pub fn available_concurrent_calls(&self) -> u32 {
        self.config.max_concurrent_calls.saturating_sub(self.in_use)
    }

    /// A new config at `now_us`, as Resilience4j's `Bulkhead.changeConfig`: calls inside keep
    /// their slots (with a smaller limit, no one enters until enough have left); with a larger
    /// limit the oldest waiters whose deadline is after `now_us` enter now and are returned, in
    /// order (the host starts them). Waiters keep their deadlines.
    ///
    /// # Errors
    /// The config's [`BulkheadConfig::validate`] error; nothing changes then.
    pub fn change_config(
        &mut self,
        config: BulkheadConfig,
        now_us: u64,
    ) -> Result<Vec<CallId>, ConfigError> {
        config.validate()?;
        self.config = config;
        let mut granted = Vec::new();
        while self.in_use < self.config.max_concurrent_calls {
            let Some(pos) = self.waiters.iter().position(|&(_, d)| d > now_us) else {
                break;
            };
            if let Some((id, _)) = self.waiters.remove(pos) {
                self.in_use += 1;
                granted.push(id);
            }
        }
        Ok(granted)
    }

    /// Removes every waiter (expired ones included) and returns them, oldest first: the host
    /// lets them go on when the bulkhead is removed.
    pub fn drain_waiters(&mut self) -> Vec<CallId> {
        self.waiters.drain(..).map(|(id, _)| id).collect()
    }

    /// Calls currently holding a slot.
    pub fn calls_in_use(&self) -> u32 {
        self.in_use
    }

    /// Calls currently waiting, expired ones not yet timed out included.
    pub fn waiting_calls(&self) -> usize {
        self.waiters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000;

    #[test]
    fn defaults() {
        let c = BulkheadConfig::default();
        assert_eq!(
            (c.max_concurrent_calls, c.max_wait_duration),
            (25, Micros(0))
        );
        let mut b = Bulkhead::new(c).unwrap();
        for i in 0..25 {
            assert_eq!(b.try_enter(0, i), Admission::Entered);
        }
        assert_eq!(b.try_enter(0, 25), Admission::Rejected);
        assert_eq!(b.available_concurrent_calls(), 0);
    }

    /// Limit 1 with two waiters; changeConfig to 3 lets both in at once (oldest first); then 1
    /// again: three inside, so the next two exits free nothing and the third frees a slot.
    #[test]
    fn change_config_grants_waiters_and_shrinks_by_exits() {
        let cfg = |n| BulkheadConfig {
            max_concurrent_calls: n,
            max_wait_duration: Micros::from_millis(100),
        };
        let mut b = Bulkhead::new(cfg(1)).unwrap();
        assert_eq!(b.try_enter(0, 1), Admission::Entered);
        assert_eq!(
            b.try_enter(0, 2),
            Admission::Waiting {
                deadline_us: 100 * MS
            }
        );
        assert_eq!(
            b.try_enter(10 * MS, 3),
            Admission::Waiting {
                deadline_us: 110 * MS
            }
        );
        assert_eq!(b.change_config(cfg(3), 20 * MS).unwrap(), vec![2, 3]);
        assert_eq!((b.calls_in_use(), b.waiting_calls()), (3, 0));
        assert_eq!(
            b.change_config(cfg(1), 30 * MS).unwrap(),
            Vec::<CallId>::new()
        );
        assert_eq!(b.available_concurrent_calls(), 0);
        assert_eq!(
            b.try_enter(30 * MS, 4),
            Admission::Waiting {
                deadline_us: 130 * MS
            }
        );
        assert_eq!(b.on_exit(40 * MS), None);
        assert_eq!(b.on_exit(50 * MS), None);
        assert_eq!(b.on_exit(60 * MS), Some(4));
        assert_eq!(b.calls_in_use(), 1);
        assert_eq!(b.drain_waiters(), Vec::<CallId>::new());
    }

    /// Limit 1, maxWait 100 ms: A enters at 0 and exits at 1000 ms; B waits at 0 and gives up at
    /// 100 ms; C arrives at 2000 ms and enters at once.
    #[test]
    fn waiter_times_out_and_later_caller_enters() {
        let mut b = Bulkhead::new(BulkheadConfig {
            max_concurrent_calls: 1,
            max_wait_duration: Micros::from_millis(100),
        })
        .unwrap();
        let (a, bb, c) = (1, 2, 3);
        assert_eq!(b.try_enter(0, a), Admission::Entered);
        assert_eq!(
            b.try_enter(0, bb),
            Admission::Waiting {
                deadline_us: 100 * MS
            }
        );
        assert_eq!(b.next_deadline(), Some(100 * MS));
        assert!(b.on_wait_timeout(100 * MS, bb));
        assert_eq!(b.next_deadline(), None);
        assert!(!b.on_wait_timeout(100 * MS, bb));
        assert_eq!(b.on_exit(1_000 * MS), None);
        assert_eq!(b.available_concurrent_calls(), 1);
        assert_eq!(b.try_enter(2_000 * MS, c), Admission::Entered);
        assert_eq!(b.available_concurrent_calls(), 0);
        assert_eq!(b.on_exit(2_500 * MS), None);
        assert_eq!(b.available_concurrent_calls(), 1);
        assert_eq!(b.waiting_calls(), 0);
    }

    #[test]
    fn slot_goes_to_oldest_live_waiter_fifo() {
        let mut b = Bulkhead::new(BulkheadConfig {
            max_concurrent_calls: 1,
            max_wait_duration: Micros(100),
        })
        .unwrap();
        assert_eq!(b.try_enter(0, 1), Admission::Entered);
        assert_eq!(b.try_enter(0, 2), Admission::Waiting { deadline_us: 100 });
        assert_eq!(b.try_enter(10, 3), Admission::Waiting { deadline_us: 110 });
        assert_eq!(b.try_enter(20, 4), Admission::Waiting { deadline_us: 120 });
        // At exactly 100, waiter 2 has timed out: the slot goes to 3.
        assert_eq!(b.on_exit(100), Some(3));
        assert_eq!(b.calls_in_use(), 1);
        assert!(b.on_wait_timeout(100, 2));
        assert!(!b.on_wait_timeout(110, 3)); // already granted
        assert_eq!(b.on_exit(115), Some(4));
        assert_eq!(b.on_exit(130), None);
        assert_eq!(b.available_concurrent_calls(), 1);
        assert_eq!(b.on_exit(140), None); // nothing in use: no-op
        assert_eq!(b.available_concurrent_calls(), 1);
    }

    #[test]
    fn zero_limit_rejects_everything() {
        let mut b = Bulkhead::new(BulkheadConfig {
            max_concurrent_calls: 0,
            max_wait_duration: Micros(0),
        })
        .unwrap();
        assert_eq!(b.try_enter(0, 1), Admission::Rejected);
        assert_eq!(b.available_concurrent_calls(), 0);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Arrive,
        Exit(usize),
        Advance(u64),
        GiveUp(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Arrive),
            3 => any::<usize>().prop_map(Op::Exit),
            3 => (0u64..300).prop_map(Op::Advance),
            1 => any::<usize>().prop_map(Op::GiveUp),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Free slots == limit once every call has finished or abandoned, and slots are never
        /// over-granted along the way.
        #[test]
        fn no_slot_leaks(
            limit in 0u32..4,
            max_wait in prop_oneof![Just(0u64), 1u64..200],
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut b = Bulkhead::new(BulkheadConfig {
                max_concurrent_calls: limit,
                max_wait_duration: Micros(max_wait),
            }).unwrap();
            let mut now = 0u64;
            let mut next_id = 0u64;
            let mut running: Vec<CallId> = Vec::new();
            let mut waiting: Vec<(CallId, u64)> = Vec::new();

            fn exit(b: &mut Bulkhead, now: u64, running: &mut Vec<CallId>,
                    waiting: &mut Vec<(CallId, u64)>, idx: usize) -> Result<(), TestCaseError> {
                if running.is_empty() {
                    return Ok(());
                }
                running.swap_remove(idx % running.len());
                if let Some(id) = b.on_exit(now) {
                    let pos = waiting.iter().position(|&(w, _)| w == id);
                    prop_assert!(pos.is_some(), "granted a call that was not waiting");
                    let (_, deadline) = waiting.remove(pos.unwrap());
                    prop_assert!(deadline > now);
                    // FIFO: no older live waiter was skipped.
                    prop_assert!(waiting.iter().all(|&(w, d)| w > id || d <= now));
                    running.push(id);
                }
                Ok(())
            }

            for op in ops {
                match op {
                    Op::Arrive => {
                        let id = next_id;
                        next_id += 1;
                        match b.try_enter(now, id) {
                            Admission::Entered => running.push(id),
                            Admission::Waiting { deadline_us } => {
                                prop_assert_eq!(deadline_us, now + max_wait);
                                waiting.push((id, deadline_us));
                            }
                            Admission::Rejected => prop_assert!(max_wait == 0),
                        }
                    }
                    Op::Exit(i) => exit(&mut b, now, &mut running, &mut waiting, i)?,
                    Op::Advance(dt) => {
                        let target = now + dt;
                        while let Some(d) = b.next_deadline().filter(|&d| d <= target) {
                            now = now.max(d);
                            let due: Vec<CallId> = waiting.iter()
                                .filter(|&&(_, dl)| dl == d).map(|&(id, _)| id).collect();
                            for id in due {
                                prop_assert!(b.on_wait_timeout(now, id));
                                waiting.retain(|&(w, _)| w != id);
                            }
                        }
                        now = target;
                    }
                    Op::GiveUp(i) => {
                        if !waiting.is_empty() {
                            let (id, _) = waiting.remove(i % waiting.len());
                            prop_assert!(b.on_wait_timeout(now, id));
                        }
                    }
                }
                prop_assert!(running.len() as u32 <= limit);
                prop_assert_eq!(b.calls_in_use() as usize, running.len());
                prop_assert_eq!(b.available_concurrent_calls() + b.calls_in_use(), limit);
                prop_assert_eq!(b.waiting_calls(), waiting.len());
            }
            // Drain: finish every running call (which may admit waiters), then time out the rest.
            while !running.is_empty() {
                now += 1;
                exit(&mut b, now, &mut running, &mut waiting, 0)?;
            }
            for (id, _) in std::mem::take(&mut waiting) {
                prop_assert!(b.on_wait_timeout(now, id));
            }
            prop_assert_eq!(b.available_concurrent_calls(), limit);
            prop_assert_eq!(b.waiting_calls(), 0);
            prop_assert_eq!(b.next_deadline(), None);
        }
    }
}
