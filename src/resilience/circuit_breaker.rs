//! Circuit breaker with the exact state machine of Resilience4j's `CircuitBreakerStateMachine`
//! (2.x), in virtual time.
//!
//! # States and edges
//!
//! [`CircuitBreakerState`]: `CLOSED`, `OPEN`, `HALF_OPEN`, `DISABLED`, `FORCED_OPEN`,
//! `METRICS_ONLY`. The legal edges are exactly Resilience4j's `StateTransition` enum, see
//! [`legal_edge`]. Automatic edges:
//!
//! * `CLOSED → OPEN` when, after recording a call, the sliding window holds at least the minimum
//!   number of calls and `failureRate >= failureRateThreshold` or
//!   `slowCallRate >= slowCallRateThreshold`.
//! * `OPEN → HALF_OPEN` after `waitDurationInOpenState`:
//!   * lazily (default): the first [`CircuitBreaker::try_acquire_permission`] at a time strictly
//!     after `openedAt + wait` (Resilience4j: `clock.instant().isAfter(retryAfterWaitDuration)`)
//!     moves to `HALF_OPEN` and takes one of its permits. Without calls the breaker stays `OPEN`
//!     forever;
//!   * with `automaticTransitionFromOpenToHalfOpenEnabled`, [`CircuitBreaker::next_timer`] returns
//!     `openedAt + wait` and [`CircuitBreaker::on_timer`] at that time moves to `HALF_OPEN`
//!     (exactly then, not a µs earlier). A call arriving at or after that time before the host
//!     delivered the timer sees the timer applied first, so same-instant event order does not
//!     matter.
//! * `HALF_OPEN → OPEN` / `HALF_OPEN → CLOSED`: `HALF_OPEN` records into a fresh count-based window
//!   of `permittedNumberOfCallsInHalfOpenState` calls whose minimum number of calls is
//!   `min(minimumNumberOfCalls, permittedNumberOfCallsInHalfOpenState)` (Resilience4j's
//!   `CircuitBreakerMetrics.forHalfOpen`). Once that many calls are recorded it opens if a
//!   threshold is exceeded, else it closes. With the defaults (100 and 10) that is "after all 10
//!   permitted calls completed".
//! * `HALF_OPEN → OPEN` also when `maxWaitDurationInHalfOpenState > 0` and that long has passed
//!   since entering `HALF_OPEN` (a timer, like the automatic transition above).
//!
//! Entering `CLOSED`, `HALF_OPEN`, `METRICS_ONLY`, `DISABLED`, `FORCED_OPEN` starts fresh metrics;
//! entering `OPEN` keeps the metrics of the state it left (so the metrics show why it opened),
//! and results that arrive while `OPEN` are still recorded there (no transition). `DISABLED` and
//! `FORCED_OPEN` record nothing. `METRICS_ONLY` records and never transitions by itself.
//!
//! # Calls
//!
//! A call is [`CircuitBreaker::try_acquire_permission`] → [`Permit`] → exactly one of
//! [`CircuitBreaker::on_result`] or [`CircuitBreaker::release_permission`], each consuming the
//! permit. The result is classified with `recordExceptions` / `ignoreExceptions`
//! ([`CircuitBreakerConfig::classify`]): an ignored error releases the permit and counts as
//! neither success nor failure; an error not in a non-empty `recordExceptions` counts as a
//! success. A call is slow when its duration is strictly greater than
//! `slowCallDurationThreshold`.
//!
//! Rates are `f32` percentages computed as Resilience4j does (`failed * 100.0f / total`), and are
//! `-1.0` while the window holds fewer calls than the minimum.
//!
//! One deliberate difference: a permit remembers the state instance ([`Permit::epoch`]) it was
//! taken in, and only a permit from the current `HALF_OPEN` instance gives a half-open permit
//! back when released. Resilience4j's `releasePermission()` increments the half-open counter
//! unconditionally, so an ignored error of a call started before the breaker opened could let one
//! probe too many through. Results themselves are recorded into the current state whatever the
//! permit's epoch, as in Resilience4j.

use super::{kind_listed, ConfigError, Micros, Outcome, MAX_WINDOW_SIZE};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

const POLICY: &str = "circuitBreaker";

/// Error kind a host should use for an attempt rejected by the breaker (Resilience4j's
/// `CallNotPermittedException`).
pub const CALL_NOT_PERMITTED_ERROR_KIND: &str = "CallNotPermittedException";

/// How many transitions [`CircuitBreaker::transitions`] keeps (the oldest are dropped).
pub const TRANSITION_HISTORY_CAPACITY: usize = 256;

/// Microseconds per sliding-window bucket of a `TIME_BASED` window (one epoch second).
const BUCKET_US: u64 = 1_000_000;

/// A state of the circuit breaker (Resilience4j `CircuitBreaker.State`). Serialized in
/// Resilience4j's spelling, `"HALF_OPEN"` etc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CircuitBreakerState {
    /// Calls pass; outcomes are recorded; trips to `OPEN` on a threshold.
    Closed,
    /// Calls are rejected until the wait duration has passed.
    Open,
    /// A limited number of probe calls pass; their outcomes decide `OPEN` or `CLOSED`.
    HalfOpen,
    /// Calls pass; nothing is recorded; only manual transitions leave it.
    Disabled,
    /// Calls are rejected; only manual transitions leave it.
    ForcedOpen,
    /// Calls pass; outcomes are recorded; never transitions by itself.
    MetricsOnly,
}

impl CircuitBreakerState {
    /// All states, in Resilience4j's `order`.
    pub const ALL: [CircuitBreakerState; 6] = [
        CircuitBreakerState::Closed,
        CircuitBreakerState::Open,
        CircuitBreakerState::HalfOpen,
        CircuitBreakerState::Disabled,
        CircuitBreakerState::ForcedOpen,
        CircuitBreakerState::MetricsOnly,
    ];

    /// Resilience4j's name of the state (`"HALF_OPEN"`).
    pub const fn name(self) -> &'static str {
        match self {
            CircuitBreakerState::Closed => "CLOSED",
            CircuitBreakerState::Open => "OPEN",
            CircuitBreakerState::HalfOpen => "HALF_OPEN",
            CircuitBreakerState::Disabled => "DISABLED",
            CircuitBreakerState::ForcedOpen => "FORCED_OPEN",
            CircuitBreakerState::MetricsOnly => "METRICS_ONLY",
        }
    }
}

impl fmt::Display for CircuitBreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `from → to` is an edge of Resilience4j's state machine (its `StateTransition` enum).
///
/// | from | legal targets |
/// | --- | --- |
/// | `CLOSED` | `CLOSED`, `OPEN`, `DISABLED`, `METRICS_ONLY`, `FORCED_OPEN` |
/// | `OPEN` | `OPEN`, `CLOSED`, `HALF_OPEN`, `DISABLED`, `METRICS_ONLY`, `FORCED_OPEN` |
/// | `HALF_OPEN` | `HALF_OPEN`, `CLOSED`, `OPEN`, `DISABLED`, `METRICS_ONLY`, `FORCED_OPEN` |
/// | `FORCED_OPEN` | `FORCED_OPEN`, `CLOSED`, `OPEN`, `DISABLED`, `METRICS_ONLY`, `HALF_OPEN` |
/// | `DISABLED` | `DISABLED`, `CLOSED`, `OPEN`, `FORCED_OPEN`, `HALF_OPEN`, `METRICS_ONLY` |
/// | `METRICS_ONLY` | `METRICS_ONLY`, `CLOSED`, `FORCED_OPEN`, `DISABLED` |
///
/// So the only illegal edges are `CLOSED → HALF_OPEN`, `METRICS_ONLY → OPEN` and
/// `METRICS_ONLY → HALF_OPEN`. Self-edges are legal (they restart the state with fresh data) but
/// are not recorded in the transition history, as Resilience4j publishes no event for them.
pub const fn legal_edge(from: CircuitBreakerState, to: CircuitBreakerState) -> bool {
    use CircuitBreakerState::*;
    !matches!(
        (from, to),
        (Closed, HalfOpen) | (MetricsOnly, Open) | (MetricsOnly, HalfOpen)
    )
}

/// Kind of sliding window (Resilience4j `SlidingWindowType`), serialized `"COUNT_BASED"` /
/// `"TIME_BASED"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlidingWindowType {
    /// The last `slidingWindowSize` calls (Resilience4j `FixedSizeSlidingWindowMetrics`).
    #[default]
    CountBased,
    /// The calls of the last `slidingWindowSize` seconds, in buckets of one virtual epoch second
    /// (`now_us / 1_000_000`), as Resilience4j's `SlidingTimeWindowMetrics`.
    TimeBased,
}

/// Circuit breaker configuration; follows Resilience4j `CircuitBreakerConfig` (names, defaults,
/// semantics). JSON field names are Resilience4j's; durations are [`Micros`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CircuitBreakerConfig {
    /// Failure rate in percent at or above which the breaker opens. Default 50. Must be in
    /// `(0, 100]`.
    pub failure_rate_threshold: f32,
    /// Slow-call rate in percent at or above which the breaker opens. Default 100. Must be in
    /// `(0, 100]`.
    pub slow_call_rate_threshold: f32,
    /// A call whose duration is strictly greater than this is slow. Default 60 s. Must be at
    /// least 1 µs.
    pub slow_call_duration_threshold: Micros,
    /// Number of probe calls permitted in `HALF_OPEN`; also the size of the half-open window.
    /// Default 10. Must be in `1..=`[`MAX_WINDOW_SIZE`].
    pub permitted_number_of_calls_in_half_open_state: u32,
    /// Longest stay in `HALF_OPEN` before going back to `OPEN`; `0` means wait until the permitted
    /// calls decide. Default 0.
    pub max_wait_duration_in_half_open_state: Micros,
    /// `COUNT_BASED` (default) or `TIME_BASED`.
    pub sliding_window_type: SlidingWindowType,
    /// Window size: calls for `COUNT_BASED`, seconds for `TIME_BASED`. Default 100. Must be in
    /// `1..=`[`MAX_WINDOW_SIZE`].
    pub sliding_window_size: u32,
    /// Minimum number of recorded calls before rates are computed and a transition can happen.
    /// Default 100. For `COUNT_BASED` the effective minimum is
    /// `min(minimumNumberOfCalls, slidingWindowSize)`. Must be at least 1.
    pub minimum_number_of_calls: u32,
    /// Time in `OPEN` before `HALF_OPEN` is possible. Default 60 s. Must be at least 1 µs.
    pub wait_duration_in_open_state: Micros,
    /// If true, `OPEN → HALF_OPEN` happens by timer at exactly `openedAt + wait` (the host drives
    /// it via [`CircuitBreaker::next_timer`] / [`CircuitBreaker::on_timer`]); if false (default)
    /// it happens on the first call strictly after that time.
    pub automatic_transition_from_open_to_half_open_enabled: bool,
    /// Error kinds recorded as failures. Empty (default) = every error that is not ignored. An
    /// error not in a non-empty list is recorded as a success.
    pub record_exceptions: Vec<String>,
    /// Error kinds that are ignored: they release the permit and count as neither success nor
    /// failure. Takes precedence over `recordExceptions`. Default empty.
    pub ignore_exceptions: Vec<String>,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        CircuitBreakerConfig {
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_threshold: Micros::from_secs(60),
            permitted_number_of_calls_in_half_open_state: 10,
            max_wait_duration_in_half_open_state: Micros::ZERO,
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: 100,
            minimum_number_of_calls: 100,
            wait_duration_in_open_state: Micros::from_secs(60),
            automatic_transition_from_open_to_half_open_enabled: false,
            record_exceptions: Vec::new(),
            ignore_exceptions: Vec::new(),
        }
    }
}

/// How the breaker counts one call outcome (see [`CircuitBreakerConfig::classify`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// Counted as a success.
    Success,
    /// Counted as a failure.
    Failure,
    /// Not counted; the permit is released.
    Ignored,
}

impl CircuitBreakerConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for the first field out of range, naming it with its
    /// Resilience4j name (`circuitBreaker.<field>`) and the bad value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pct = |field, v: f32| {
            if v.is_finite() && v > 0.0 && v <= 100.0 {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    POLICY,
                    field,
                    v,
                    "must be > 0 and <= 100 (percent)",
                ))
            }
        };
        pct("failureRateThreshold", self.failure_rate_threshold)?;
        pct("slowCallRateThreshold", self.slow_call_rate_threshold)?;
        if self.slow_call_duration_threshold.0 == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "slowCallDurationThreshold",
                self.slow_call_duration_threshold,
                "must be at least 1us",
            ));
        }
        let size = |field, v: u32| {
            if (1..=MAX_WINDOW_SIZE).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    POLICY,
                    field,
                    v,
                    "must be between 1 and 1000000",
                ))
            }
        };
        size(
            "permittedNumberOfCallsInHalfOpenState",
            self.permitted_number_of_calls_in_half_open_state,
        )?;
        size("slidingWindowSize", self.sliding_window_size)?;
        if self.minimum_number_of_calls == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "minimumNumberOfCalls",
                0,
                "must be at least 1",
            ));
        }
        if self.wait_duration_in_open_state.0 == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "waitDurationInOpenState",
                self.wait_duration_in_open_state,
                "must be at least 1us",
            ));
        }
        Ok(())
    }

    /// Classifies a reported outcome as Resilience4j's `CircuitBreakerStateMachine.onError` does:
    /// `Ignored`, or a failure whose kind is in `ignoreExceptions`, is ignored; a failure whose
    /// kind is in `recordExceptions` (or any failure when that list is empty) is a failure; any
    /// other failure, and `Success`, is a success.
    pub fn classify(&self, outcome: &Outcome) -> CallClass {
        match outcome {
            Outcome::Success => CallClass::Success,
            Outcome::Ignored => CallClass::Ignored,
            Outcome::Failure(kind) => {
                if kind_listed(&self.ignore_exceptions, kind) {
                    CallClass::Ignored
                } else if self.record_exceptions.is_empty()
                    || kind_listed(&self.record_exceptions, kind)
                {
                    CallClass::Failure
                } else {
                    CallClass::Success
                }
            }
        }
    }
}

/// Permission for one call, from [`CircuitBreaker::try_acquire_permission`].
///
/// It must be given back exactly once, to [`CircuitBreaker::on_result`] or
/// [`CircuitBreaker::release_permission`]. It is `Clone` only so that a host can snapshot its
/// whole state (msgsim's time-travel checkpoints clone the running simulation, permits of calls
/// in flight included); a copy stands in for the original in the cloned host, never beside it.
#[must_use = "a permit must be passed to on_result or release_permission"]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Permit {
    epoch: u64,
}

impl Permit {
    /// The state instance the permit was taken in (see [`CircuitBreaker::epoch`]).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

/// A call rejected by the breaker (Resilience4j `CallNotPermittedException`, whose message this
/// mirrors). Host error kind: [`CALL_NOT_PERMITTED_ERROR_KIND`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CircuitBreaker is {state} and does not permit further calls")]
pub struct CallNotPermitted {
    /// `OPEN`, `HALF_OPEN` (all probes taken) or `FORCED_OPEN`.
    pub state: CircuitBreakerState,
    /// For `OPEN`: the earliest virtual time (µs) at which a call can be permitted
    /// (`openedAt + wait`, plus 1 µs in lazy mode). `None` otherwise.
    pub earliest_retry_us: Option<u64>,
}

/// A manual transition that is not an edge of the state machine (see [`legal_edge`]);
/// Resilience4j's `IllegalStateTransitionException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal CircuitBreaker state transition from {from} to {to}")]
pub struct IllegalStateTransition {
    /// Current state.
    pub from: CircuitBreakerState,
    /// Requested state.
    pub to: CircuitBreakerState,
}

/// One entry of the transition history, for a UI timeline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// Virtual time of the transition, µs.
    pub at_us: u64,
    /// State left.
    pub from: CircuitBreakerState,
    /// State entered.
    pub to: CircuitBreakerState,
    /// Failure rate (%) of the metrics of the state left, at the transition; -1 below minimum.
    pub failure_rate: f32,
    /// Slow-call rate (%) of the metrics of the state left, at the transition; -1 below minimum.
    pub slow_call_rate: f32,
}

/// A snapshot of the breaker's metrics (Resilience4j `CircuitBreaker.Metrics`) plus the
/// half-open permit counters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerMetrics {
    /// Failure rate in percent, or -1.0 below the minimum number of calls.
    pub failure_rate: f32,
    /// Slow-call rate in percent, or -1.0 below the minimum number of calls.
    pub slow_call_rate: f32,
    /// Calls in the current window.
    pub number_of_buffered_calls: u64,
    /// Failed calls in the window.
    pub number_of_failed_calls: u64,
    /// Successful calls in the window.
    pub number_of_successful_calls: u64,
    /// Slow calls (successful or failed) in the window.
    pub number_of_slow_calls: u64,
    /// Slow successful calls in the window.
    pub number_of_slow_successful_calls: u64,
    /// Slow failed calls in the window.
    pub number_of_slow_failed_calls: u64,
    /// Calls rejected since the current metrics were started (per state instance, as in
    /// Resilience4j: `OPEN` continues the count of the state it came from).
    pub number_of_not_permitted_calls: u64,
    /// Half-open permits still available (0 outside `HALF_OPEN`).
    pub half_open_permits_remaining: u32,
    /// Probe calls of the current `HALF_OPEN` instance taken and not yet completed.
    pub half_open_calls_in_flight: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Agg {
    calls: u64,
    failed: u64,
    slow: u64,
    slow_failed: u64,
}

impl Agg {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failed += u64::from(failed);
        self.slow += u64::from(slow);
        self.slow_failed += u64::from(slow && failed);
    }

    fn sub(&mut self, o: &Agg) {
        self.calls = self.calls.saturating_sub(o.calls);
        self.failed = self.failed.saturating_sub(o.failed);
        self.slow = self.slow.saturating_sub(o.slow);
        self.slow_failed = self.slow_failed.saturating_sub(o.slow_failed);
    }
}

#[derive(Clone, Debug)]
enum Window {
    /// Records nothing (`DISABLED`, `FORCED_OPEN`: Resilience4j uses a window of size 0).
    Off,
    /// The last `size` calls, as (failed, slow).
    Count {
        size: usize,
        calls: VecDeque<(bool, bool)>,
    },
    /// Buckets of epoch seconds, oldest first, only non-empty ones; covers the epochs
    /// `(now_epoch - size, now_epoch]`.
    Time {
        size_s: u64,
        buckets: VecDeque<(u64, Agg)>,
    },
}

#[derive(Clone, Debug)]
struct WindowMetrics {
    window: Window,
    total: Agg,
    minimum_calls: u64,
    not_permitted: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    BelowMinimum,
    Below,
    Exceeded,
}

impl WindowMetrics {
    fn off() -> Self {
        WindowMetrics {
            window: Window::Off,
            total: Agg::default(),
            minimum_calls: u64::MAX,
            not_permitted: 0,
        }
    }

    fn count(size: u32, minimum: u32) -> Self {
        WindowMetrics {
            window: Window::Count {
                size: size as usize,
                calls: VecDeque::new(),
            },
            total: Agg::default(),
            minimum_calls: u64::from(minimum.min(size)),
            not_permitted: 0,
        }
    }

    fn for_closed(c: &CircuitBreakerConfig) -> Self {
        match c.sliding_window_type {
            SlidingWindowType::CountBased => {
                Self::count(c.sliding_window_size, c.minimum_number_of_calls)
            }
            SlidingWindowType::TimeBased => WindowMetrics {
                window: Window::Time {
                    size_s: u64::from(c.sliding_window_size),
                    buckets: VecDeque::new(),
                },
                total: Agg::default(),
                minimum_calls: u64::from(c.minimum_number_of_calls),
                not_permitted: 0,
            },
        }
    }

    fn for_half_open(c: &CircuitBreakerConfig) -> Self {
        Self::count(
            c.permitted_number_of_calls_in_half_open_state,
            c.minimum_number_of_calls,
        )
    }

    /// Drops the buckets of a time window that are older than the window at `now_us`.
    fn evict(&mut self, now_us: u64) {
        if let Window::Time { size_s, buckets } = &mut self.window {
            let now_epoch = now_us / BUCKET_US;
            while let Some((epoch, agg)) = buckets.front() {
                if epoch.saturating_add(*size_s) <= now_epoch {
                    self.total.sub(agg);
                    buckets.pop_front();
                } else {
                    break;
                }
            }
        }
    }

    /// The totals as they would be at `now_us`, without mutating.
    fn total_at(&self, now_us: u64) -> Agg {
        let mut total = self.total;
        if let Window::Time { size_s, buckets } = &self.window {
            let now_epoch = now_us / BUCKET_US;
            for (epoch, agg) in buckets {
                if epoch.saturating_add(*size_s) <= now_epoch {
                    total.sub(agg);
                } else {
                    break;
                }
            }
        }
        total
    }

    fn record(&mut self, now_us: u64, failed: bool, slow: bool) {
        match &mut self.window {
            Window::Off => {}
            Window::Count { size, calls } => {
                if *size == 0 {
                    return;
                }
                calls.push_back((failed, slow));
                self.total.add(failed, slow);
                if calls.len() > *size {
                    if let Some((f, s)) = calls.pop_front() {
                        let mut old = Agg::default();
                        old.add(f, s);
                        self.total.sub(&old);
                    }
                }
            }
            Window::Time { .. } => {
                self.evict(now_us);
                if let Window::Time { buckets, .. } = &mut self.window {
                    let epoch = now_us / BUCKET_US;
                    match buckets.back_mut() {
                        Some((e, agg)) if *e >= epoch => agg.add(failed, slow),
                        _ => {
                            let mut agg = Agg::default();
                            agg.add(failed, slow);
                            buckets.push_back((epoch, agg));
                        }
                    }
                    self.total.add(failed, slow);
                }
            }
        }
    }

    fn rates(&self, total: &Agg) -> (f32, f32) {
        if total.calls == 0 || total.calls < self.minimum_calls {
            return (-1.0, -1.0);
        }
        let n = total.calls as f32;
        (
            total.failed as f32 * 100.0 / n,
            total.slow as f32 * 100.0 / n,
        )
    }

    fn check(&self, c: &CircuitBreakerConfig) -> Check {
        let (fr, sr) = self.rates(&self.total);
        if fr == -1.0 || sr == -1.0 {
            Check::BelowMinimum
        } else if fr >= c.failure_rate_threshold || sr >= c.slow_call_rate_threshold {
            Check::Exceeded
        } else {
            Check::Below
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Closed,
    Open {
        opened_at_us: u64,
        retry_after_us: u64,
    },
    HalfOpen {
        entered_at_us: u64,
        permits_left: u32,
        in_flight: u32,
    },
    Disabled,
    ForcedOpen,
    MetricsOnly,
}

impl Phase {
    fn state(&self) -> CircuitBreakerState {
        match self {
            Phase::Closed => CircuitBreakerState::Closed,
            Phase::Open { .. } => CircuitBreakerState::Open,
            Phase::HalfOpen { .. } => CircuitBreakerState::HalfOpen,
            Phase::Disabled => CircuitBreakerState::Disabled,
            Phase::ForcedOpen => CircuitBreakerState::ForcedOpen,
            Phase::MetricsOnly => CircuitBreakerState::MetricsOnly,
        }
    }
}

/// A Resilience4j circuit breaker in virtual time. See the module docs for the semantics.
///
/// All methods taking `now_us` expect non-decreasing virtual times; an earlier time is treated
/// as the latest time seen.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    config: CircuitBreakerConfig,
    phase: Phase,
    metrics: WindowMetrics,
    epoch: u64,
    last_now_us: u64,
    history: VecDeque<Transition>,
    transitions_total: u64,
}

impl CircuitBreaker {
    /// A breaker in `CLOSED` with empty metrics.
    ///
    /// # Errors
    /// The config's [`CircuitBreakerConfig::validate`] error.
    pub fn new(config: CircuitBreakerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let metrics = WindowMetrics::for_closed(&config);
        Ok(CircuitBreaker {
            config,
            phase: Phase::Closed,
            metrics,
            epoch: 0,
            last_now_us: 0,
            history: VecDeque::new(),
            transitions_total: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CircuitBreakerConfig {
        &self.config
    }

    /// Replaces the configuration at `now_us`, as Resilience4j's
    /// `CircuitBreakerRegistry.replace` with a breaker built from the new config: it goes
    /// `CLOSED` (a recorded transition when it was in another state) with an empty sliding
    /// window of the new shape (permits taken before belong to the old state instance). The
    /// transition history is kept.
    ///
    /// # Errors
    /// The config's [`CircuitBreakerConfig::validate`] error; nothing changes then.
    pub fn reconfigure(
        &mut self,
        config: CircuitBreakerConfig,
        now_us: u64,
    ) -> Result<(), ConfigError> {
        config.validate()?;
        self.config = config;
        self.transition_to_closed(now_us);
        Ok(())
    }

    /// The current state. Pure: a lazy `OPEN` stays `OPEN` however much time has passed until a
    /// call or (automatic mode) the timer moves it.
    pub fn state(&self) -> CircuitBreakerState {
        self.phase.state()
    }

    /// Id of the current state instance; it changes on every transition (self-transitions
    /// included). Permits carry the epoch they were taken in.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// For `OPEN`: the virtual time (µs) it was entered.
    pub fn opened_at_us(&self) -> Option<u64> {
        match self.phase {
            Phase::Open { opened_at_us, .. } => Some(opened_at_us),
            _ => None,
        }
    }

    fn observe(&mut self, now_us: u64) -> u64 {
        self.last_now_us = self.last_now_us.max(now_us);
        self.last_now_us
    }

    /// Asks permission for one call at `now_us` (Resilience4j `tryAcquirePermission`).
    ///
    /// `CLOSED`, `DISABLED`, `METRICS_ONLY`: always permitted. `OPEN`: rejected, unless the wait
    /// is over (see the module docs), in which case the breaker moves to `HALF_OPEN` and this call
    /// takes one of its permits. `HALF_OPEN`: permitted while permits remain. `FORCED_OPEN`:
    /// rejected. Rejections increment `numberOfNotPermittedCalls`.
    ///
    /// # Errors
    /// [`CallNotPermitted`] when the call must not be made.
    pub fn try_acquire_permission(&mut self, now_us: u64) -> Result<Permit, CallNotPermitted> {
        let now = self.observe(now_us);
        self.apply_due_timers(now);
        if let Phase::Open { retry_after_us, .. } = self.phase {
            if now > retry_after_us {
                self.enter(now, CircuitBreakerState::HalfOpen);
            }
        }
        let epoch = self.epoch;
        match &mut self.phase {
            Phase::Closed | Phase::Disabled | Phase::MetricsOnly => Ok(Permit { epoch }),
            Phase::HalfOpen {
                permits_left,
                in_flight,
                ..
            } => {
                if *permits_left > 0 {
                    *permits_left -= 1;
                    *in_flight += 1;
                    Ok(Permit { epoch })
                } else {
                    self.metrics.not_permitted += 1;
                    Err(CallNotPermitted {
                        state: CircuitBreakerState::HalfOpen,
                        earliest_retry_us: None,
                    })
                }
            }
            Phase::Open { retry_after_us, .. } => {
                let retry_after_us = *retry_after_us;
                self.metrics.not_permitted += 1;
                let earliest = if self
                    .config
                    .automatic_transition_from_open_to_half_open_enabled
                {
                    retry_after_us
                } else {
                    retry_after_us.saturating_add(1)
                };
                Err(CallNotPermitted {
                    state: CircuitBreakerState::Open,
                    earliest_retry_us: Some(earliest),
                })
            }
            Phase::ForcedOpen => {
                self.metrics.not_permitted += 1;
                Err(CallNotPermitted {
                    state: CircuitBreakerState::ForcedOpen,
                    earliest_retry_us: None,
                })
            }
        }
    }

    /// Reports the result of a permitted call that ended at `now_us` after `duration_us`
    /// (Resilience4j `onResult` / `onSuccess` / `onError`).
    ///
    /// The outcome is classified with [`CircuitBreakerConfig::classify`]; an ignored outcome is
    /// handled as [`CircuitBreaker::release_permission`]. Otherwise the call is recorded (slow if
    /// `duration_us > slowCallDurationThreshold`) in the current state's metrics, which may trip
    /// `CLOSED → OPEN` or decide `HALF_OPEN → OPEN | CLOSED`.
    pub fn on_result(&mut self, permit: Permit, now_us: u64, duration_us: u64, outcome: &Outcome) {
        let now = self.observe(now_us);
        self.apply_due_timers(now);
        let failed = match self.config.classify(outcome) {
            CallClass::Ignored => {
                self.release(permit);
                return;
            }
            CallClass::Failure => true,
            CallClass::Success => false,
        };
        if let Phase::HalfOpen { in_flight, .. } = &mut self.phase {
            if permit.epoch == self.epoch {
                *in_flight = in_flight.saturating_sub(1);
            }
        }
        let slow = duration_us > self.config.slow_call_duration_threshold.0;
        match self.phase {
            Phase::Disabled | Phase::ForcedOpen => {}
            Phase::Open { .. } | Phase::MetricsOnly => self.metrics.record(now, failed, slow),
            Phase::Closed => {
                self.metrics.record(now, failed, slow);
                if self.metrics.check(&self.config) == Check::Exceeded {
                    self.enter(now, CircuitBreakerState::Open);
                }
            }
            Phase::HalfOpen { .. } => {
                self.metrics.record(now, failed, slow);
                match self.metrics.check(&self.config) {
                    Check::Exceeded => self.enter(now, CircuitBreakerState::Open),
                    Check::Below => self.enter(now, CircuitBreakerState::Closed),
                    Check::BelowMinimum => {}
                }
            }
        }
    }

    /// Gives a permit back without recording anything (Resilience4j `releasePermission`, used
    /// for cancelled calls). In `HALF_OPEN`, a permit of the current state instance becomes
    /// available again; elsewhere this is a no-op.
    pub fn release_permission(&mut self, permit: Permit) {
        self.release(permit);
    }

    fn release(&mut self, permit: Permit) {
        let limit = self.config.permitted_number_of_calls_in_half_open_state;
        if let Phase::HalfOpen {
            permits_left,
            in_flight,
            ..
        } = &mut self.phase
        {
            if permit.epoch == self.epoch {
                *permits_left = (*permits_left + 1).min(limit);
                *in_flight = in_flight.saturating_sub(1);
            }
        }
    }

    /// When the host must call [`CircuitBreaker::on_timer`] next, in virtual µs: in `OPEN` with
    /// automatic transition, `openedAt + waitDurationInOpenState`; in `HALF_OPEN` with
    /// `maxWaitDurationInHalfOpenState > 0`, `enteredAt + maxWait`; otherwise `None`. Re-read it
    /// after every call into the breaker.
    pub fn next_timer(&self) -> Option<u64> {
        match self.phase {
            Phase::Open { retry_after_us, .. }
                if self
                    .config
                    .automatic_transition_from_open_to_half_open_enabled =>
            {
                Some(retry_after_us)
            }
            Phase::HalfOpen { entered_at_us, .. }
                if self.config.max_wait_duration_in_half_open_state.0 > 0 =>
            {
                Some(
                    entered_at_us
                        .saturating_add(self.config.max_wait_duration_in_half_open_state.0),
                )
            }
            _ => None,
        }
    }

    /// Applies the timers due at `now_us` (see [`CircuitBreaker::next_timer`]); a call before
    /// the timer's time, or a stale timer, does nothing.
    pub fn on_timer(&mut self, now_us: u64) {
        let now = self.observe(now_us);
        self.apply_due_timers(now);
    }

    fn apply_due_timers(&mut self, now: u64) {
        if let Phase::HalfOpen { entered_at_us, .. } = self.phase {
            let max_wait = self.config.max_wait_duration_in_half_open_state.0;
            if max_wait > 0 && now >= entered_at_us.saturating_add(max_wait) {
                self.enter(now, CircuitBreakerState::Open);
            }
        }
        if let Phase::Open { retry_after_us, .. } = self.phase {
            if self
                .config
                .automatic_transition_from_open_to_half_open_enabled
                && now >= retry_after_us
            {
                self.enter(now, CircuitBreakerState::HalfOpen);
            }
        }
    }

    /// Enters `to` at `now` (caller guarantees a legal edge): new state data, history entry.
    fn enter(&mut self, now: u64, to: CircuitBreakerState) {
        let from = self.phase.state();
        debug_assert!(legal_edge(from, to));
        let total = self.metrics.total_at(now);
        let (failure_rate, slow_call_rate) = self.metrics.rates(&total);
        self.phase = match to {
            CircuitBreakerState::Closed => Phase::Closed,
            CircuitBreakerState::Open => Phase::Open {
                opened_at_us: now,
                retry_after_us: now.saturating_add(self.config.wait_duration_in_open_state.0),
            },
            CircuitBreakerState::HalfOpen => Phase::HalfOpen {
                entered_at_us: now,
                permits_left: self.config.permitted_number_of_calls_in_half_open_state,
                in_flight: 0,
            },
            CircuitBreakerState::Disabled => Phase::Disabled,
            CircuitBreakerState::ForcedOpen => Phase::ForcedOpen,
            CircuitBreakerState::MetricsOnly => Phase::MetricsOnly,
        };
        match to {
            CircuitBreakerState::Closed | CircuitBreakerState::MetricsOnly => {
                self.metrics = WindowMetrics::for_closed(&self.config)
            }
            CircuitBreakerState::HalfOpen => {
                self.metrics = WindowMetrics::for_half_open(&self.config)
            }
            CircuitBreakerState::Disabled | CircuitBreakerState::ForcedOpen => {
                self.metrics = WindowMetrics::off()
            }
            // OPEN keeps the metrics of the state it came from.
            CircuitBreakerState::Open => {}
        }
        self.epoch += 1;
        if from != to {
            self.transitions_total += 1;
            if self.history.len() == TRANSITION_HISTORY_CAPACITY {
                self.history.pop_front();
            }
            self.history.push_back(Transition {
                at_us: now,
                from,
                to,
                failure_rate,
                slow_call_rate,
            });
        }
    }

    fn manual(
        &mut self,
        now_us: u64,
        to: CircuitBreakerState,
    ) -> Result<(), IllegalStateTransition> {
        let now = self.observe(now_us);
        let from = self.phase.state();
        if !legal_edge(from, to) {
            return Err(IllegalStateTransition { from, to });
        }
        self.enter(now, to);
        Ok(())
    }

    /// Moves to `CLOSED` with fresh metrics (Resilience4j `transitionToClosedState`). Always
    /// legal.
    pub fn transition_to_closed(&mut self, now_us: u64) {
        let _ = self.manual(now_us, CircuitBreakerState::Closed);
    }

    /// Moves to `OPEN`, keeping the current metrics (Resilience4j `transitionToOpenState`).
    ///
    /// # Errors
    /// [`IllegalStateTransition`] from `METRICS_ONLY`.
    pub fn transition_to_open(&mut self, now_us: u64) -> Result<(), IllegalStateTransition> {
        self.manual(now_us, CircuitBreakerState::Open)
    }

    /// Moves to `HALF_OPEN` with fresh permits (Resilience4j `transitionToHalfOpenState`).
    ///
    /// # Errors
    /// [`IllegalStateTransition`] from `CLOSED` or `METRICS_ONLY`.
    pub fn transition_to_half_open(&mut self, now_us: u64) -> Result<(), IllegalStateTransition> {
        self.manual(now_us, CircuitBreakerState::HalfOpen)
    }

    /// Moves to `FORCED_OPEN`: every call rejected until another manual transition. Always
    /// legal.
    pub fn transition_to_forced_open(&mut self, now_us: u64) {
        let _ = self.manual(now_us, CircuitBreakerState::ForcedOpen);
    }

    /// Moves to `DISABLED`: every call permitted, nothing recorded. Always legal.
    pub fn transition_to_disabled(&mut self, now_us: u64) {
        let _ = self.manual(now_us, CircuitBreakerState::Disabled);
    }

    /// Moves to `METRICS_ONLY`: every call permitted and recorded, no automatic transition.
    /// Always legal.
    pub fn transition_to_metrics_only(&mut self, now_us: u64) {
        let _ = self.manual(now_us, CircuitBreakerState::MetricsOnly);
    }

    /// Back to a fresh `CLOSED` state (Resilience4j `reset`): metrics and not-permitted count
    /// cleared. A transition is recorded if the state was not `CLOSED`; the history is kept.
    pub fn reset(&mut self, now_us: u64) {
        self.transition_to_closed(now_us);
    }

    /// Metrics as of the latest virtual time the breaker has seen.
    pub fn metrics(&self) -> CircuitBreakerMetrics {
        self.metrics_at(self.last_now_us)
    }

    /// Metrics as of `now_us` (for a `TIME_BASED` window, buckets older than the window at
    /// `now_us` are left out). Does not change the breaker.
    pub fn metrics_at(&self, now_us: u64) -> CircuitBreakerMetrics {
        let total = self.metrics.total_at(now_us.max(self.last_now_us));
        let (failure_rate, slow_call_rate) = self.metrics.rates(&total);
        let (remaining, in_flight) = match self.phase {
            Phase::HalfOpen {
                permits_left,
                in_flight,
                ..
            } => (permits_left, in_flight),
            _ => (0, 0),
        };
        CircuitBreakerMetrics {
            failure_rate,
            slow_call_rate,
            number_of_buffered_calls: total.calls,
            number_of_failed_calls: total.failed,
            number_of_successful_calls: total.calls - total.failed,
            number_of_slow_calls: total.slow,
            number_of_slow_successful_calls: total.slow - total.slow_failed,
            number_of_slow_failed_calls: total.slow_failed,
            number_of_not_permitted_calls: self.metrics.not_permitted,
            half_open_permits_remaining: remaining,
            half_open_calls_in_flight: in_flight,
        }
    }

    /// The last [`TRANSITION_HISTORY_CAPACITY`] transitions, oldest first (self-transitions are
    /// not recorded).
    pub fn transitions(&self) -> impl ExactSizeIterator<Item = &Transition> + '_ {
        self.history.iter()
    }

    /// Number of transitions ever recorded, including those dropped from the history.
    pub fn transitions_total(&self) -> u64 {
        self.transitions_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use CircuitBreakerState::*;

    const S: u64 = 1_000_000;

    fn ok() -> Outcome {
        Outcome::Success
    }
    fn fail() -> Outcome {
        Outcome::failure("io")
    }

    /// One complete call at `now` with duration `d`.
    fn call(
        cb: &mut CircuitBreaker,
        now: u64,
        d: u64,
        o: &Outcome,
    ) -> Result<(), CallNotPermitted> {
        let p = cb.try_acquire_permission(now)?;
        cb.on_result(p, now, d, o);
        Ok(())
    }

    fn count_cfg(size: u32, min: u32) -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            sliding_window_size: size,
            minimum_number_of_calls: min,
            ..CircuitBreakerConfig::default()
        }
    }

    /// Trips a `COUNT_BASED` breaker open at `t` with failures.
    fn trip(cb: &mut CircuitBreaker, t: u64) {
        while cb.state() == Closed {
            call(cb, t, 1, &fail()).unwrap();
        }
        assert_eq!(cb.state(), Open);
    }

    #[test]
    fn defaults_are_resilience4j_defaults() {
        let c = CircuitBreakerConfig::default();
        assert_eq!(c.failure_rate_threshold, 50.0);
        assert_eq!(c.slow_call_rate_threshold, 100.0);
        assert_eq!(c.slow_call_duration_threshold, Micros(60_000_000));
        assert_eq!(c.sliding_window_type, SlidingWindowType::CountBased);
        assert_eq!(c.sliding_window_size, 100);
        assert_eq!(c.minimum_number_of_calls, 100);
        assert_eq!(c.wait_duration_in_open_state, Micros(60_000_000));
        assert!(!c.automatic_transition_from_open_to_half_open_enabled);
        assert_eq!(c.permitted_number_of_calls_in_half_open_state, 10);
        assert_eq!(c.max_wait_duration_in_half_open_state, Micros(0));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn validation_names_field_and_value() {
        let mut c = CircuitBreakerConfig {
            failure_rate_threshold: 0.0,
            ..Default::default()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "circuitBreaker.failureRateThreshold: invalid value 0: must be > 0 and <= 100 (percent)"
        );
        c.failure_rate_threshold = f32::NAN;
        assert!(c.validate().is_err());
        c.failure_rate_threshold = 50.0;
        c.slow_call_rate_threshold = 100.5;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("slowCallRateThreshold"));
        c.slow_call_rate_threshold = 100.0;
        c.sliding_window_size = 0;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "circuitBreaker.slidingWindowSize: invalid value 0: must be between 1 and 1000000"
        );
        c.sliding_window_size = MAX_WINDOW_SIZE + 1;
        assert!(c.validate().is_err());
        c.sliding_window_size = 10;
        c.permitted_number_of_calls_in_half_open_state = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("permittedNumberOfCallsInHalfOpenState"));
        c.permitted_number_of_calls_in_half_open_state = 1;
        c.minimum_number_of_calls = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("minimumNumberOfCalls"));
        c.minimum_number_of_calls = 1;
        c.wait_duration_in_open_state = Micros(0);
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "circuitBreaker.waitDurationInOpenState: invalid value 0us: must be at least 1us"
        );
        c.wait_duration_in_open_state = Micros(1);
        c.slow_call_duration_threshold = Micros(0);
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("slowCallDurationThreshold"));
        assert!(CircuitBreaker::new(c).is_err());
    }

    #[test]
    fn legal_edges_match_resilience4j_state_transition_enum() {
        let illegal: Vec<(CircuitBreakerState, CircuitBreakerState)> = CircuitBreakerState::ALL
            .iter()
            .flat_map(|&f| CircuitBreakerState::ALL.iter().map(move |&t| (f, t)))
            .filter(|&(f, t)| !legal_edge(f, t))
            .collect();
        assert_eq!(
            illegal,
            vec![
                (Closed, HalfOpen),
                (MetricsOnly, Open),
                (MetricsOnly, HalfOpen)
            ]
        );
    }

    /// Test (1): 10 failures then 10 successes, window 20, minimum 20, threshold 50.
    #[test]
    fn count_based_trips_exactly_at_the_twentieth_call() {
        let mut cb = CircuitBreaker::new(count_cfg(20, 20)).unwrap();
        for i in 1..=20u64 {
            let o = if i <= 10 { fail() } else { ok() };
            call(&mut cb, i, 1, &o).unwrap();
            if i < 20 {
                assert_eq!(cb.state(), Closed, "after call {i}");
                assert_eq!(cb.metrics().failure_rate, -1.0);
            }
        }
        assert_eq!(cb.state(), Open);
        let m = cb.metrics();
        assert_eq!(m.failure_rate, 50.0);
        assert_eq!(m.slow_call_rate, 0.0);
        assert_eq!(m.number_of_buffered_calls, 20);
        assert_eq!(m.number_of_failed_calls, 10);
        assert_eq!(m.number_of_successful_calls, 10);
        let t: Vec<_> = cb.transitions().copied().collect();
        assert_eq!(
            t,
            vec![Transition {
                at_us: 20,
                from: Closed,
                to: Open,
                failure_rate: 50.0,
                slow_call_rate: 0.0
            }]
        );
        assert_eq!(cb.opened_at_us(), Some(20));
        // OPEN rejects and counts.
        let e = cb.try_acquire_permission(21).unwrap_err();
        assert_eq!(
            e,
            CallNotPermitted {
                state: Open,
                earliest_retry_us: Some(20 + 60 * S + 1)
            }
        );
        assert_eq!(
            e.to_string(),
            "CircuitBreaker is OPEN and does not permit further calls"
        );
        assert_eq!(cb.metrics().number_of_not_permitted_calls, 1);
    }

    #[test]
    fn count_based_minimum_is_capped_by_window_size() {
        // minimumNumberOfCalls 100 > slidingWindowSize 4: effective minimum 4.
        let mut cb = CircuitBreaker::new(count_cfg(4, 100)).unwrap();
        for i in 0..3 {
            call(&mut cb, i, 1, &fail()).unwrap();
            assert_eq!(cb.state(), Closed);
        }
        call(&mut cb, 3, 1, &fail()).unwrap();
        assert_eq!(cb.state(), Open);
    }

    #[test]
    fn count_window_slides() {
        let mut cb = CircuitBreaker::new(count_cfg(4, 4)).unwrap();
        // F S S S -> 25 %, then S pushes the F out -> 0 %.
        for o in [fail(), ok(), ok(), ok()] {
            call(&mut cb, 0, 1, &o).unwrap();
        }
        assert_eq!(cb.metrics().failure_rate, 25.0);
        call(&mut cb, 0, 1, &ok()).unwrap();
        assert_eq!(cb.metrics().failure_rate, 0.0);
        assert_eq!(cb.metrics().number_of_buffered_calls, 4);
        // F F: 50 % of the last 4 (S S F F) -> OPEN.
        call(&mut cb, 0, 1, &fail()).unwrap();
        assert_eq!(cb.state(), Closed);
        call(&mut cb, 0, 1, &fail()).unwrap();
        assert_eq!(cb.state(), Open);
    }

    fn half_open_cfg() -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            sliding_window_size: 4,
            minimum_number_of_calls: 4,
            permitted_number_of_calls_in_half_open_state: 4,
            wait_duration_in_open_state: Micros(1_000),
            ..Default::default()
        }
    }

    /// Runs the half-open probes `outcomes` (all acquired first, then completed in order) and
    /// returns the states after each completion.
    fn half_open_run(outcomes: &[Outcome]) -> (CircuitBreaker, Vec<CircuitBreakerState>) {
        let mut cb = CircuitBreaker::new(half_open_cfg()).unwrap();
        trip(&mut cb, 0);
        let t = 1_001;
        let permits: Vec<Permit> = outcomes
            .iter()
            .map(|_| cb.try_acquire_permission(t).unwrap())
            .collect();
        assert_eq!(cb.state(), HalfOpen);
        // A fifth call is rejected while the four are in flight.
        assert_eq!(cb.try_acquire_permission(t).unwrap_err().state, HalfOpen);
        let mut states = Vec::new();
        for (p, o) in permits.into_iter().zip(outcomes) {
            cb.on_result(p, t + 10, 5, o);
            states.push(cb.state());
        }
        (cb, states)
    }

    /// Test (2a): S S F F -> 50 % >= 50 -> OPEN after the fourth.
    #[test]
    fn half_open_ssff_reopens() {
        let (cb, states) = half_open_run(&[ok(), ok(), fail(), fail()]);
        assert_eq!(states, vec![HalfOpen, HalfOpen, HalfOpen, Open]);
        let last = *cb.transitions().last().unwrap();
        assert_eq!((last.from, last.to), (HalfOpen, Open));
        assert_eq!(last.failure_rate, 50.0);
        assert_eq!(last.at_us, 1_011);
        assert_eq!(cb.opened_at_us(), Some(1_011));
    }

    /// Test (2b): S S S F -> 25 % < 50 -> CLOSED after the fourth.
    #[test]
    fn half_open_sssf_closes() {
        let (cb, states) = half_open_run(&[ok(), ok(), ok(), fail()]);
        assert_eq!(states, vec![HalfOpen, HalfOpen, HalfOpen, Closed]);
        let last = *cb.transitions().last().unwrap();
        assert_eq!(
            (last.from, last.to, last.failure_rate),
            (HalfOpen, Closed, 25.0)
        );
        // CLOSED starts with fresh metrics.
        assert_eq!(cb.metrics().number_of_buffered_calls, 0);
        let edges: Vec<_> = cb.transitions().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            edges,
            vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]
        );
    }

    #[test]
    fn half_open_decides_at_min_of_minimum_calls_and_permitted() {
        // minimumNumberOfCalls 2 < permitted 4: Resilience4j decides after 2 probe results.
        let cfg = CircuitBreakerConfig {
            sliding_window_size: 2,
            minimum_number_of_calls: 2,
            ..half_open_cfg()
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 0);
        let p1 = cb.try_acquire_permission(2_000).unwrap();
        let p2 = cb.try_acquire_permission(2_000).unwrap();
        cb.on_result(p1, 2_001, 1, &ok());
        assert_eq!(cb.state(), HalfOpen);
        cb.on_result(p2, 2_002, 1, &ok());
        assert_eq!(cb.state(), Closed);
    }

    /// Test (3): lazy OPEN -> HALF_OPEN.
    #[test]
    fn lazy_open_stays_open_without_calls_and_first_call_after_wait_half_opens() {
        let cfg = CircuitBreakerConfig {
            wait_duration_in_open_state: Micros(10 * S),
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 5 * S);
        let opened = cb.opened_at_us().unwrap();
        assert_eq!(opened, 5 * S);
        assert_eq!(cb.next_timer(), None);
        // Exactly at openedAt + wait: still rejected (Resilience4j uses isAfter).
        assert_eq!(
            cb.try_acquire_permission(opened + 10 * S).unwrap_err(),
            CallNotPermitted {
                state: Open,
                earliest_retry_us: Some(opened + 10 * S + 1)
            }
        );
        assert_eq!(cb.state(), Open);
        // No call: still OPEN one hour after the wait, timers or not.
        cb.on_timer(opened + 10 * S + 3_600 * S);
        assert_eq!(cb.state(), Open);
        assert_eq!(
            cb.metrics_at(opened + 10 * S + 3_600 * S).failure_rate,
            100.0
        );
        // One hour later, the first call moves to HALF_OPEN and takes a permit.
        let t = opened + 10 * S + 3_600 * S;
        let p = cb.try_acquire_permission(t).unwrap();
        assert_eq!(cb.state(), HalfOpen);
        let m = cb.metrics();
        assert_eq!(m.half_open_permits_remaining, 9);
        assert_eq!(m.half_open_calls_in_flight, 1);
        assert_eq!(m.number_of_buffered_calls, 0);
        assert_eq!(m.number_of_not_permitted_calls, 0);
        assert_eq!(p.epoch(), cb.epoch());
        let last = *cb.transitions().last().unwrap();
        assert_eq!(
            last,
            Transition {
                at_us: t,
                from: Open,
                to: HalfOpen,
                failure_rate: 100.0,
                slow_call_rate: 0.0
            }
        );
        cb.on_result(p, t + 1, 1, &ok());
        let m = cb.metrics();
        assert_eq!(
            (m.half_open_permits_remaining, m.half_open_calls_in_flight),
            (9, 0)
        );
        assert_eq!(m.number_of_buffered_calls, 1);
    }

    #[test]
    fn automatic_transition_happens_at_exactly_opened_at_plus_wait() {
        let cfg = CircuitBreakerConfig {
            wait_duration_in_open_state: Micros(10 * S),
            automatic_transition_from_open_to_half_open_enabled: true,
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 7);
        assert_eq!(cb.next_timer(), Some(7 + 10 * S));
        cb.on_timer(7 + 10 * S - 1);
        assert_eq!(cb.state(), Open);
        assert_eq!(
            cb.try_acquire_permission(7 + 10 * S - 1).unwrap_err(),
            CallNotPermitted {
                state: Open,
                earliest_retry_us: Some(7 + 10 * S)
            }
        );
        cb.on_timer(7 + 10 * S);
        assert_eq!(cb.state(), HalfOpen);
        assert_eq!(cb.transitions().last().unwrap().at_us, 7 + 10 * S);
        assert_eq!(cb.next_timer(), None);
        assert_eq!(cb.metrics().half_open_permits_remaining, 10);
    }

    #[test]
    fn automatic_transition_applies_before_a_call_at_the_same_instant() {
        let cfg = CircuitBreakerConfig {
            wait_duration_in_open_state: Micros(100),
            automatic_transition_from_open_to_half_open_enabled: true,
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 0);
        let p = cb.try_acquire_permission(100).unwrap();
        assert_eq!(cb.state(), HalfOpen);
        assert_eq!(cb.transitions().last().unwrap().at_us, 100);
        cb.release_permission(p);
        assert_eq!(cb.metrics().half_open_permits_remaining, 10);
    }

    #[test]
    fn max_wait_in_half_open_reopens_by_timer() {
        let cfg = CircuitBreakerConfig {
            wait_duration_in_open_state: Micros(100),
            max_wait_duration_in_half_open_state: Micros(50),
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 0);
        let p = cb.try_acquire_permission(101).unwrap();
        assert_eq!(cb.next_timer(), Some(151));
        cb.on_timer(150);
        assert_eq!(cb.state(), HalfOpen);
        cb.on_timer(151);
        assert_eq!(cb.state(), Open);
        assert_eq!(cb.opened_at_us(), Some(151));
        // The late probe result is recorded in OPEN's (half-open) metrics, no transition.
        cb.on_result(p, 160, 1, &ok());
        assert_eq!(cb.state(), Open);
        assert_eq!(cb.metrics().number_of_buffered_calls, 1);
        assert_eq!(cb.next_timer(), None);
    }

    #[test]
    fn slow_calls_trip_the_breaker() {
        let cfg = CircuitBreakerConfig {
            slow_call_rate_threshold: 50.0,
            slow_call_duration_threshold: Micros(S),
            ..count_cfg(4, 4)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        // Exactly the threshold is not slow.
        call(&mut cb, 0, S, &ok()).unwrap();
        call(&mut cb, 0, S + 1, &ok()).unwrap();
        call(&mut cb, 0, 10, &ok()).unwrap();
        assert_eq!(cb.state(), Closed);
        call(&mut cb, 0, 2 * S, &fail()).unwrap();
        // 2 slow of 4 = 50 % >= 50; failure rate 25 % < 50.
        assert_eq!(cb.state(), Open);
        let m = cb.metrics();
        assert_eq!((m.failure_rate, m.slow_call_rate), (25.0, 50.0));
        assert_eq!(
            (
                m.number_of_slow_calls,
                m.number_of_slow_successful_calls,
                m.number_of_slow_failed_calls
            ),
            (2, 1, 1)
        );
        let last = *cb.transitions().last().unwrap();
        assert_eq!((last.failure_rate, last.slow_call_rate), (25.0, 50.0));
    }

    #[test]
    fn ignored_and_unrecorded_errors() {
        let cfg = CircuitBreakerConfig {
            ignore_exceptions: vec!["cancelled".into()],
            record_exceptions: vec!["timeout".into(), "io".into()],
            ..count_cfg(4, 4)
        };
        assert_eq!(
            cfg.classify(&Outcome::failure("cancelled")),
            CallClass::Ignored
        );
        assert_eq!(cfg.classify(&Outcome::Ignored), CallClass::Ignored);
        assert_eq!(
            cfg.classify(&Outcome::failure("timeout")),
            CallClass::Failure
        );
        assert_eq!(
            cfg.classify(&Outcome::failure("http_404")),
            CallClass::Success
        );
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        for _ in 0..10 {
            call(&mut cb, 0, 1, &Outcome::failure("cancelled")).unwrap();
            call(&mut cb, 0, 1, &Outcome::Ignored).unwrap();
        }
        assert_eq!(cb.metrics().number_of_buffered_calls, 0);
        for _ in 0..4 {
            call(&mut cb, 0, 1, &Outcome::failure("http_404")).unwrap();
        }
        let m = cb.metrics();
        assert_eq!(
            (m.number_of_buffered_calls, m.number_of_successful_calls),
            (4, 4)
        );
        assert_eq!(cb.state(), Closed);
        call(&mut cb, 0, 1, &Outcome::failure("timeout")).unwrap();
        call(&mut cb, 0, 1, &Outcome::failure("io")).unwrap();
        assert_eq!(cb.state(), Open);
    }

    #[test]
    fn ignored_error_in_half_open_gives_the_permit_back() {
        let cfg = CircuitBreakerConfig {
            ignore_exceptions: vec!["cancelled".into()],
            permitted_number_of_calls_in_half_open_state: 1,
            wait_duration_in_open_state: Micros(10),
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        trip(&mut cb, 0);
        let p = cb.try_acquire_permission(11).unwrap();
        assert!(cb.try_acquire_permission(11).is_err());
        cb.on_result(p, 12, 1, &Outcome::failure("cancelled"));
        assert_eq!(cb.state(), HalfOpen);
        let p = cb.try_acquire_permission(12).unwrap();
        cb.on_result(p, 13, 1, &ok());
        assert_eq!(cb.state(), Closed);
    }

    #[test]
    fn stale_permit_release_does_not_add_half_open_permits() {
        let cfg = CircuitBreakerConfig {
            permitted_number_of_calls_in_half_open_state: 1,
            wait_duration_in_open_state: Micros(10),
            ..count_cfg(2, 2)
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        let stale = cb.try_acquire_permission(0).unwrap();
        trip(&mut cb, 0);
        let probe = cb.try_acquire_permission(11).unwrap();
        cb.release_permission(stale);
        assert!(cb.try_acquire_permission(11).is_err());
        assert_eq!(cb.metrics().half_open_calls_in_flight, 1);
        cb.release_permission(probe);
        assert_eq!(cb.metrics().half_open_permits_remaining, 1);
    }

    #[test]
    fn forced_open_rejects_and_disabled_permits_everything() {
        let mut cb = CircuitBreaker::new(count_cfg(2, 2)).unwrap();
        cb.transition_to_forced_open(5);
        assert_eq!(cb.state(), ForcedOpen);
        for t in 0..3 {
            let e = cb.try_acquire_permission(10 + t).unwrap_err();
            assert_eq!(
                e,
                CallNotPermitted {
                    state: ForcedOpen,
                    earliest_retry_us: None
                }
            );
        }
        assert_eq!(cb.metrics().number_of_not_permitted_calls, 3);
        assert_eq!(cb.next_timer(), None);
        cb.transition_to_disabled(20);
        assert_eq!(cb.state(), Disabled);
        for _ in 0..100 {
            call(&mut cb, 30, 1, &fail()).unwrap();
        }
        assert_eq!(cb.state(), Disabled);
        let m = cb.metrics();
        assert_eq!((m.number_of_buffered_calls, m.failure_rate), (0, -1.0));
        let edges: Vec<_> = cb.transitions().map(|t| (t.at_us, t.from, t.to)).collect();
        assert_eq!(
            edges,
            vec![(5, Closed, ForcedOpen), (20, ForcedOpen, Disabled)]
        );
        cb.reset(40);
        assert_eq!(cb.state(), Closed);
        assert_eq!(cb.transitions().last().unwrap().to, Closed);
    }

    #[test]
    fn metrics_only_records_but_never_trips_and_illegal_edges_are_refused() {
        let mut cb = CircuitBreaker::new(count_cfg(2, 2)).unwrap();
        cb.transition_to_metrics_only(0);
        for _ in 0..5 {
            call(&mut cb, 1, 1, &fail()).unwrap();
        }
        assert_eq!(cb.state(), MetricsOnly);
        assert_eq!(cb.metrics().failure_rate, 100.0);
        assert_eq!(
            cb.transition_to_open(2).unwrap_err(),
            IllegalStateTransition {
                from: MetricsOnly,
                to: Open
            }
        );
        assert!(cb.transition_to_half_open(2).is_err());
        cb.transition_to_closed(3);
        assert_eq!(
            cb.transition_to_half_open(4).unwrap_err().to_string(),
            "illegal CircuitBreaker state transition from CLOSED to HALF_OPEN"
        );
        cb.transition_to_open(5).unwrap();
        cb.transition_to_half_open(6).unwrap();
        assert_eq!(cb.state(), HalfOpen);
        // A self transition restarts the state and is not recorded.
        let n = cb.transitions_total();
        let e = cb.epoch();
        cb.transition_to_half_open(7).unwrap();
        assert_eq!(cb.transitions_total(), n);
        assert_eq!(cb.epoch(), e + 1);
    }

    #[test]
    fn time_based_window_evicts_old_buckets() {
        let cfg = CircuitBreakerConfig {
            sliding_window_type: SlidingWindowType::TimeBased,
            sliding_window_size: 10,
            minimum_number_of_calls: 2,
            failure_rate_threshold: 100.0,
            ..Default::default()
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        call(&mut cb, 500_000, 1, &fail()).unwrap(); // epoch 0
        call(&mut cb, 1_200_000, 1, &ok()).unwrap(); // epoch 1
        call(&mut cb, 1_900_000, 1, &ok()).unwrap(); // epoch 1
        let m = cb.metrics_at(9_999_999);
        assert_eq!(
            (m.number_of_buffered_calls, m.number_of_failed_calls),
            (3, 1)
        );
        assert_eq!(m.failure_rate, 100.0 / 3.0);
        // At 10.0 s the window is epochs 1..=10: epoch 0 is evicted.
        let m = cb.metrics_at(10_000_000);
        assert_eq!(
            (m.number_of_buffered_calls, m.number_of_failed_calls),
            (2, 0)
        );
        assert_eq!(m.failure_rate, 0.0);
        let m = cb.metrics_at(11_000_000);
        assert_eq!((m.number_of_buffered_calls, m.failure_rate), (0, -1.0));
        // metrics_at does not mutate; recording at 10.5 s really evicts.
        assert_eq!(cb.metrics().number_of_buffered_calls, 3);
        call(&mut cb, 10_500_000, 1, &fail()).unwrap();
        let m = cb.metrics();
        assert_eq!(
            (m.number_of_buffered_calls, m.number_of_failed_calls),
            (3, 1)
        );
        assert_eq!(cb.state(), Closed);
        // Two failures in epoch 25: the window has only them -> 100 % -> OPEN.
        call(&mut cb, 25_000_000, 1, &fail()).unwrap();
        assert_eq!(cb.metrics().number_of_buffered_calls, 1);
        assert_eq!(cb.state(), Closed);
        call(&mut cb, 25_999_999, 1, &fail()).unwrap();
        assert_eq!(cb.state(), Open);
    }

    #[test]
    fn time_based_minimum_is_not_capped_by_window_size() {
        let cfg = CircuitBreakerConfig {
            sliding_window_type: SlidingWindowType::TimeBased,
            sliding_window_size: 2,
            minimum_number_of_calls: 5,
            ..Default::default()
        };
        let mut cb = CircuitBreaker::new(cfg).unwrap();
        for _ in 0..4 {
            call(&mut cb, 0, 1, &fail()).unwrap();
        }
        assert_eq!(cb.state(), Closed);
        call(&mut cb, 0, 1, &fail()).unwrap();
        assert_eq!(cb.state(), Open);
    }

    #[test]
    fn history_is_capped() {
        let mut cb = CircuitBreaker::new(count_cfg(2, 2)).unwrap();
        for t in 0..300u64 {
            cb.transition_to_forced_open(2 * t);
            cb.transition_to_closed(2 * t + 1);
        }
        assert_eq!(cb.transitions().len(), TRANSITION_HISTORY_CAPACITY);
        assert_eq!(cb.transitions_total(), 600);
        assert_eq!(cb.transitions().next().unwrap().at_us, 600 - 256);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Advance(u64),
        Acquire,
        Complete { idx: usize, kind: u8, dur: u64 },
        Release { idx: usize },
        Timer,
        Manual(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..3_000).prop_map(Op::Advance),
            4 => Just(Op::Acquire),
            4 => (any::<usize>(), 0u8..4, 0u64..2_000)
                .prop_map(|(idx, kind, dur)| Op::Complete { idx, kind, dur }),
            1 => any::<usize>().prop_map(|idx| Op::Release { idx }),
            2 => Just(Op::Timer),
            1 => (0u8..7).prop_map(Op::Manual),
        ]
    }

    fn config() -> impl Strategy<Value = CircuitBreakerConfig> {
        (
            (any::<bool>(), 1u32..8, 1u32..10),
            (
                prop_oneof![Just(25.0f32), Just(50.0), Just(100.0)],
                prop_oneof![Just(50.0f32), Just(100.0)],
            ),
            (1u64..1_000, 1u64..5_000, 1u32..5),
            (prop_oneof![Just(0u64), 1u64..5_000], any::<bool>()),
        )
            .prop_map(
                |((tb, size, min), (fr, sr), (slow, wait, permitted), (max_wait, auto))| {
                    CircuitBreakerConfig {
                        sliding_window_type: if tb {
                            SlidingWindowType::TimeBased
                        } else {
                            SlidingWindowType::CountBased
                        },
                        sliding_window_size: size,
                        minimum_number_of_calls: min,
                        failure_rate_threshold: fr,
                        slow_call_rate_threshold: sr,
                        slow_call_duration_threshold: Micros(slow),
                        wait_duration_in_open_state: Micros(wait),
                        permitted_number_of_calls_in_half_open_state: permitted,
                        max_wait_duration_in_half_open_state: Micros(max_wait),
                        automatic_transition_from_open_to_half_open_enabled: auto,
                        ignore_exceptions: vec!["ignored".into()],
                        ..Default::default()
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Every recorded transition is a legal edge at a non-decreasing time, and the probes of
        /// one HALF_OPEN instance in flight never exceed permittedNumberOfCallsInHalfOpenState.
        #[test]
        fn transitions_are_legal_and_half_open_permits_bounded(
            cfg in config(),
            ops in proptest::collection::vec(op(), 1..200),
        ) {
            let permitted = cfg.permitted_number_of_calls_in_half_open_state;
            let mut cb = CircuitBreaker::new(cfg).unwrap();
            let mut now = 0u64;
            let mut outstanding: Vec<Permit> = Vec::new();
            for op in ops {
                match op {
                    Op::Advance(dt) => now += dt,
                    Op::Acquire => {
                        if let Ok(p) = cb.try_acquire_permission(now) {
                            outstanding.push(p);
                        }
                    }
                    Op::Complete { idx, kind, dur } => {
                        if !outstanding.is_empty() {
                            let p = outstanding.swap_remove(idx % outstanding.len());
                            let o = match kind {
                                0 => Outcome::Success,
                                1 => Outcome::failure("io"),
                                2 => Outcome::failure("ignored"),
                                _ => Outcome::Ignored,
                            };
                            cb.on_result(p, now, dur, &o);
                        }
                    }
                    Op::Release { idx } => {
                        if !outstanding.is_empty() {
                            let p = outstanding.swap_remove(idx % outstanding.len());
                            cb.release_permission(p);
                        }
                    }
                    Op::Timer => {
                        if let Some(t) = cb.next_timer() {
                            let before = cb.state();
                            now = now.max(t);
                            cb.on_timer(now);
                            prop_assert_ne!(before, cb.state());
                        }
                    }
                    Op::Manual(m) => match m {
                        0 => cb.transition_to_closed(now),
                        1 => cb.transition_to_forced_open(now),
                        2 => cb.transition_to_disabled(now),
                        3 => cb.transition_to_metrics_only(now),
                        4 => {
                            let legal = legal_edge(cb.state(), Open);
                            prop_assert_eq!(cb.transition_to_open(now).is_ok(), legal);
                        }
                        5 => {
                            let legal = legal_edge(cb.state(), HalfOpen);
                            prop_assert_eq!(cb.transition_to_half_open(now).is_ok(), legal);
                        }
                        _ => cb.reset(now),
                    },
                }
                let mut last = 0u64;
                let mut prev_to: Option<CircuitBreakerState> = None;
                for t in cb.transitions() {
                    prop_assert!(legal_edge(t.from, t.to), "illegal {:?}", t);
                    prop_assert_ne!(t.from, t.to);
                    prop_assert!(t.at_us >= last);
                    if let Some(p) = prev_to {
                        prop_assert_eq!(p, t.from);
                    }
                    prev_to = Some(t.to);
                    last = t.at_us;
                }
                if let Some(p) = prev_to {
                    prop_assert_eq!(p, cb.state());
                }
                let m = cb.metrics();
                if cb.state() == HalfOpen {
                    let mine = outstanding.iter().filter(|p| p.epoch() == cb.epoch()).count() as u32;
                    prop_assert!(mine <= permitted);
                    prop_assert_eq!(m.half_open_calls_in_flight, mine);
                    prop_assert!(m.half_open_permits_remaining + mine <= permitted);
                }
                prop_assert!(m.number_of_failed_calls <= m.number_of_buffered_calls);
                prop_assert!(m.number_of_slow_calls <= m.number_of_buffered_calls);
                prop_assert!(m.failure_rate == -1.0 || (0.0..=100.0).contains(&m.failure_rate));
            }
        }
    }
}
