//! Rate limiter with the semantics of Resilience4j's `AtomicRateLimiter`, in virtual time.
//!
//! Time since the limiter's start is cut into cycles of `limitRefreshPeriod`. At the start of
//! each cycle the available permissions are refilled to `limitForPeriod` (unused permissions do
//! not accumulate beyond that; reserved ones are paid back first: permissions can be negative).
//! [`RateLimiter::acquire`] at `now`:
//!
//! 1. brings the state to the current cycle: `permissions = min(permissions + elapsedCycles ×
//!    limitForPeriod, limitForPeriod)`;
//! 2. computes the wait until enough permissions exist: 0 if `permissions >= n`, else the time to
//!    the next cycle boundary plus `ceil((n − permissions − limitForPeriod) / limitForPeriod)`
//!    further full cycles;
//! 3. if `wait <= timeoutDuration`, reserves (`permissions -= n`) and answers
//!    [`Acquisition::Permitted`] (wait 0) or [`Acquisition::WaitUntil`]`(now + wait)`: the call
//!    proceeds at that time, the host does not ask again; otherwise answers
//!    [`Acquisition::Rejected`] without reserving anything (Resilience4j `RequestNotPermitted`).
//!
//! # Default `limitRefreshPeriod`
//!
//! Resilience4j's default is 50 permits per **500 ns**, i.e. 10⁸ permits/s: no limit in
//! practice. Virtual time here has 1 µs resolution, so 500 ns cannot be represented; the default
//! is the nearest representable period, **1 µs** (5·10⁷ permits/s), which keeps Resilience4j's
//! "the defaults do not limit" behaviour. A scenario that wants limiting sets both
//! `limitForPeriod` and `limitRefreshPeriod` (for example 100 per `"1s"`).

use super::{ConfigError, Micros};
use serde::{Deserialize, Serialize};

const POLICY: &str = "rateLimiter";

/// Error kind a host should use for an attempt rejected by the limiter (Resilience4j's
/// `RequestNotPermitted`).
pub const REQUEST_NOT_PERMITTED_ERROR_KIND: &str = "RequestNotPermitted";

/// Rate limiter configuration; follows Resilience4j `RateLimiterConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimiterConfig {
    /// Permissions per refresh period. Default 50. Must be at least 1.
    pub limit_for_period: u32,
    /// Length of one cycle. Default 1 µs (Resilience4j: 500 ns, not representable; see the
    /// module docs). Must be at least 1 µs.
    pub limit_refresh_period: Micros,
    /// Longest a call may wait for a permission. Default 5 s. 0 = never wait.
    pub timeout_duration: Micros,
}

impl Default for RateLimiterConfig {
    fn default() -> Self {
        RateLimiterConfig {
            limit_for_period: 50,
            limit_refresh_period: Micros(1),
            timeout_duration: Micros::from_secs(5),
        }
    }
}

impl RateLimiterConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for the first field out of range, naming it with its
    /// Resilience4j name (`rateLimiter.<field>`) and the bad value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit_for_period == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "limitForPeriod",
                0,
                "must be at least 1",
            ));
        }
        if self.limit_refresh_period.0 == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "limitRefreshPeriod",
                self.limit_refresh_period,
                "must be at least 1us",
            ));
        }
        Ok(())
    }
}

/// The answer of [`RateLimiter::acquire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acquisition {
    /// Proceed now.
    Permitted,
    /// A permission is reserved; proceed at this virtual time (µs).
    WaitUntil(u64),
    /// No permission within `timeoutDuration`; nothing was reserved.
    Rejected,
}

/// A Resilience4j `AtomicRateLimiter` in virtual time. See the module docs.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    config: RateLimiterConfig,
    start_us: u64,
    active_cycle: u64,
    /// Available permissions; negative while reservations are outstanding. `i128` so that no
    /// sequence of reservations can overflow.
    permissions: i128,
}

impl RateLimiter {
    /// A limiter whose cycles start at virtual time `start_us`, with a full first cycle.
    ///
    /// # Errors
    /// The config's [`RateLimiterConfig::validate`] error.
    pub fn new(config: RateLimiterConfig, start_us: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(RateLimiter {
            permissions: i128::from(config.limit_for_period),
            config,
            start_us,
            active_cycle: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RateLimiterConfig {
        &self.config
    }

    /// (cycle, permissions) as of `now_us`, without mutating.
    fn at(&self, now_us: u64) -> (u64, i128) {
        let period = self.config.limit_refresh_period.0;
        let cycle = now_us.saturating_sub(self.start_us) / period;
        if cycle <= self.active_cycle {
            return (self.active_cycle, self.permissions);
        }
        let limit = i128::from(self.config.limit_for_period);
        let elapsed = i128::from(cycle - self.active_cycle);
        let refilled = (self.permissions + elapsed * limit).min(limit);
        (cycle, refilled)
    }

    /// Asks for one permission at `now_us`; see [`RateLimiter::acquire_permits`].
    pub fn acquire(&mut self, now_us: u64) -> Acquisition {
        self.acquire_permits(now_us, 1)
    }

    /// Asks for `permits` permissions at `now_us` (Resilience4j `reservePermission(permits)`);
    /// see the module docs.
    pub fn acquire_permits(&mut self, now_us: u64, permits: u32) -> Acquisition {
        let (cycle, permissions) = self.at(now_us);
        self.active_cycle = cycle;
        self.permissions = permissions;
        let n = i128::from(permits);
        let have = permissions;
        let wait: u128 = if have >= n {
            0
        } else {
            let period = u128::from(self.config.limit_refresh_period.0);
            let limit = i128::from(self.config.limit_for_period);
            let elapsed = u128::from(now_us.saturating_sub(self.start_us));
            let to_next_cycle = (u128::from(cycle) + 1) * period - elapsed;
            let missing_after_next = n - (have + limit);
            // Resilience4j's divCeil on a value that may be <= 0 (then 0 full cycles).
            let full_cycles = if missing_after_next > 0 {
                ((missing_after_next + limit - 1) / limit) as u128
            } else {
                0
            };
            full_cycles
                .saturating_mul(period)
                .saturating_add(to_next_cycle)
        };
        if wait > u128::from(self.config.timeout_duration.0) {
            return Acquisition::Rejected;
        }
        self.permissions = have - n;
        if wait == 0 {
            Acquisition::Permitted
        } else {
            // wait <= timeout <= u64::MAX
            Acquisition::WaitUntil(now_us.saturating_add(wait as u64))
        }
    }

    /// Permissions available at `now_us` (negative while reservations are outstanding);
    /// Resilience4j `getAvailablePermissions`. Saturates at the `i64` range.
    pub fn available_permissions(&self, now_us: u64) -> i64 {
        let p = self.at(now_us).1;
        p.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000;

    fn limiter(limit: u32, period_ms: u64, timeout_ms: u64) -> RateLimiter {
        RateLimiter::new(
            RateLimiterConfig {
                limit_for_period: limit,
                limit_refresh_period: Micros::from_millis(period_ms),
                timeout_duration: Micros::from_millis(timeout_ms),
            },
            0,
        )
        .unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let c = RateLimiterConfig::default();
        assert_eq!(c.limit_for_period, 50);
        assert_eq!(c.limit_refresh_period, Micros(1));
        assert_eq!(c.timeout_duration, Micros(5_000_000));
        let mut rl = RateLimiter::new(c, 0).unwrap();
        // 50 per µs: the 51st call at t=0 waits for the next µs.
        for _ in 0..50 {
            assert_eq!(rl.acquire(0), Acquisition::Permitted);
        }
        assert_eq!(rl.acquire(0), Acquisition::WaitUntil(1));
        let e = RateLimiter::new(
            RateLimiterConfig {
                limit_for_period: 0,
                ..Default::default()
            },
            0,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "rateLimiter.limitForPeriod: invalid value 0: must be at least 1"
        );
        assert!(RateLimiterConfig {
            limit_refresh_period: Micros(0),
            ..Default::default()
        }
        .validate()
        .is_err());
    }

    /// 2 permits per 1 s, timeout 1.5 s.
    #[test]
    fn reserves_waits_and_rejects_exactly() {
        let mut rl = limiter(2, 1_000, 1_500);
        assert_eq!(rl.acquire(0), Acquisition::Permitted);
        assert_eq!(rl.acquire(0), Acquisition::Permitted);
        assert_eq!(rl.available_permissions(0), 0);
        // Next permission at the start of cycle 1 (1000 ms): wait 900 ms.
        assert_eq!(rl.acquire(100 * MS), Acquisition::WaitUntil(1_000 * MS));
        assert_eq!(rl.acquire(100 * MS), Acquisition::WaitUntil(1_000 * MS));
        assert_eq!(rl.available_permissions(100 * MS), -2);
        // The next would be in cycle 2: wait 1900 ms > 1500 ms: rejected, nothing reserved.
        assert_eq!(rl.acquire(100 * MS), Acquisition::Rejected);
        assert_eq!(rl.available_permissions(100 * MS), -2);
        // Cycle 1 refills the two reserved permits: 0 left, next one at 2000 ms.
        assert_eq!(rl.available_permissions(1_000 * MS), 0);
        assert_eq!(rl.acquire(1_000 * MS), Acquisition::WaitUntil(2_000 * MS));
        assert_eq!(rl.available_permissions(1_000 * MS), -1);
        // Unused permissions do not accumulate beyond limitForPeriod.
        assert_eq!(rl.available_permissions(5_000 * MS), 2);
        assert_eq!(rl.acquire(5_000 * MS), Acquisition::Permitted);
        assert_eq!(rl.acquire(5_999 * MS), Acquisition::Permitted);
        assert_eq!(rl.acquire(5_999 * MS), Acquisition::WaitUntil(6_000 * MS));
    }

    #[test]
    fn zero_timeout_never_waits_and_multi_permit_waits_full_cycles() {
        let mut rl = limiter(1, 100, 0);
        assert_eq!(rl.acquire(50 * MS), Acquisition::Permitted);
        assert_eq!(rl.acquire(60 * MS), Acquisition::Rejected);
        assert_eq!(rl.acquire(100 * MS), Acquisition::Permitted);

        let mut rl = limiter(2, 100, 10_000);
        // 5 permits at 30 ms with 2 available: 2 after the boundary at 100 ms, then 1 more full
        // cycle -> 100 - 30 + 100 = 170 ms.
        assert_eq!(
            rl.acquire_permits(30 * MS, 5),
            Acquisition::WaitUntil(200 * MS)
        );
        assert_eq!(rl.available_permissions(30 * MS), -3);
    }

    #[test]
    fn start_offset_and_huge_values() {
        let mut rl = RateLimiter::new(
            RateLimiterConfig {
                limit_for_period: 1,
                limit_refresh_period: Micros::from_millis(10),
                timeout_duration: Micros::from_millis(100),
            },
            1_005 * MS,
        )
        .unwrap();
        assert_eq!(rl.acquire(1_006 * MS), Acquisition::Permitted);
        assert_eq!(rl.acquire(1_006 * MS), Acquisition::WaitUntil(1_015 * MS));
        let mut rl = RateLimiter::new(
            RateLimiterConfig {
                limit_for_period: u32::MAX,
                limit_refresh_period: Micros(u64::MAX),
                timeout_duration: Micros(u64::MAX),
            },
            0,
        )
        .unwrap();
        assert_eq!(
            rl.acquire_permits(u64::MAX, u32::MAX),
            Acquisition::Permitted
        );
        assert_eq!(
            rl.acquire_permits(u64::MAX, u32::MAX),
            Acquisition::WaitUntil(u64::MAX)
        );
        assert_eq!(
            rl.acquire_permits(u64::MAX, u32::MAX),
            Acquisition::Rejected
        );
    }
}
