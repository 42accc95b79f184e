//! Time limiter with the semantics of Resilience4j `TimeLimiter`, in virtual time.
//!
//! An attempt started at `start` must complete by `start + timeoutDuration`
//! ([`TimeLimiter::deadline_us`]); the host schedules a timeout event there. If the timeout
//! fires first the attempt fails with [`TIMEOUT_ERROR_KIND`] (Resilience4j throws
//! `java.util.concurrent.TimeoutException`), and when `cancelRunningFuture` is on the host
//! cancels the upstream request (frees its resources, drops its late response); when off, the
//! request runs on and its late response is discarded.
//!
//! Ties: a completion at exactly the deadline counts as completed ([`TimeLimiter::on_complete`]),
//! so the result does not depend on the order of same-instant events.

use super::{ConfigError, Micros};
use serde::{Deserialize, Serialize};

/// Error kind of a timed-out attempt (Resilience4j throws `TimeoutException`).
pub const TIMEOUT_ERROR_KIND: &str = "TimeoutException";

/// Time limiter configuration; follows Resilience4j `TimeLimiterConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeLimiterConfig {
    /// Longest an attempt may take. Default 1 s. 0 means only instantaneous attempts complete.
    pub timeout_duration: Micros,
    /// Cancel the upstream request on timeout. Default true.
    pub cancel_running_future: bool,
}

impl Default for TimeLimiterConfig {
    fn default() -> Self {
        TimeLimiterConfig {
            timeout_duration: Micros::from_secs(1),
            cancel_running_future: true,
        }
    }
}

impl TimeLimiterConfig {
    /// Every value of the fields is valid; kept for uniformity with the other policies.
    ///
    /// # Errors
    /// None at present.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Whether an attempt beat its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeLimit {
    /// Completed at or before the deadline.
    Completed,
    /// Not completed by the deadline (virtual µs): fail with [`TIMEOUT_ERROR_KIND`].
    TimedOut {
        /// When the attempt failed.
        deadline_us: u64,
    },
}

/// A Resilience4j time limiter in virtual time. See the module docs.
#[derive(Clone, Debug)]
pub struct TimeLimiter {
    config: TimeLimiterConfig,
}

impl TimeLimiter {
    /// A time limiter.
    ///
    /// # Errors
    /// The config's [`TimeLimiterConfig::validate`] error.
    pub fn new(config: TimeLimiterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(TimeLimiter { config })
    }

    /// The configuration.
    pub fn config(&self) -> &TimeLimiterConfig {
        &self.config
    }

    /// The virtual time (µs) by which an attempt started at `started_at_us` must complete
    /// (saturating).
    pub fn deadline_us(&self, started_at_us: u64) -> u64 {
        started_at_us.saturating_add(self.config.timeout_duration.0)
    }

    /// Classifies an attempt started at `started_at_us` that completed at `completed_at_us`.
    pub fn on_complete(&self, started_at_us: u64, completed_at_us: u64) -> TimeLimit {
        let deadline_us = self.deadline_us(started_at_us);
        if completed_at_us <= deadline_us {
            TimeLimit::Completed
        } else {
            TimeLimit::TimedOut { deadline_us }
        }
    }

    /// Whether the host cancels the upstream request on timeout (`cancelRunningFuture`).
    pub fn cancel_running_future(&self) -> bool {
        self.config.cancel_running_future
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_deadline_and_ties() {
        let c = TimeLimiterConfig::default();
        assert_eq!(c.timeout_duration, Micros(1_000_000));
        assert!(c.cancel_running_future);
        let tl = TimeLimiter::new(c).unwrap();
        assert_eq!(tl.deadline_us(250), 1_000_250);
        assert_eq!(tl.on_complete(250, 1_000_250), TimeLimit::Completed);
        assert_eq!(
            tl.on_complete(250, 1_000_251),
            TimeLimit::TimedOut {
                deadline_us: 1_000_250
            }
        );
        assert!(tl.cancel_running_future());
        assert_eq!(tl.deadline_us(u64::MAX), u64::MAX);
        let tl = TimeLimiter::new(TimeLimiterConfig {
            timeout_duration: Micros(0),
            cancel_running_future: false,
        })
        .unwrap();
        assert_eq!(tl.on_complete(5, 5), TimeLimit::Completed);
        assert_eq!(tl.on_complete(5, 6), TimeLimit::TimedOut { deadline_us: 5 });
        assert!(!tl.cancel_running_future());
    }
}
