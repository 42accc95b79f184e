//! Retry with the semantics of Resilience4j `Retry` / `RetryConfig` (2.x) and the wait intervals
//! of its `IntervalFunction` family, in virtual time.
//!
//! One [`RetryState`] follows one logical call. After each attempt the host reports the attempt's
//! [`Outcome`] and gets a [`RetryDecision`]:
//!
//! * `Success` or `Ignored` → [`RetryDecision::Done`].
//! * `Failure(kind)` that is not retriable → `Done` (the failure propagates at once). A kind is
//!   retriable when it is not in `ignoreExceptions` and either `retryExceptions` is empty or
//!   contains it (exact match).
//! * retriable failure, fewer than `maxAttempts` attempts made → [`RetryDecision::RetryAfter`]
//!   with the wait before the next attempt, in µs.
//! * retriable failure of attempt number `maxAttempts` → [`RetryDecision::GiveUp`] (the last
//!   failure propagates).
//!
//! `maxAttempts` counts all attempts including the first, as in Resilience4j: 3 means at most 2
//! retries.
//!
//! # Wait intervals
//!
//! The wait before retry `k` (`k = 1` after the first attempt failed) is built from
//! `waitDuration` (`w`), as Resilience4j's Spring configuration selects an `IntervalFunction`:
//!
//! | `enableExponentialBackoff` | `enableRandomizedWait` | wait before retry `k` |
//! | --- | --- | --- |
//! | false | false | `w` (`IntervalFunction.of`) |
//! | false | true | `randomize(w)` (`ofRandomized`, no cap) |
//! | true | false | `min(b_k, cap)` (`ofExponentialBackoff`) |
//! | true | true | `min(randomize(min(b_k, cap)), cap)` (see below) |
//!
//! where `b_1 = w`, `b_{k+1} = floor(b_k × exponentialBackoffMultiplier)` (Resilience4j iterates
//! `(long) (x * multiplier)` in milliseconds; here the same iteration runs in µs), `cap` is
//! `exponentialMaxWaitDuration` (none = unbounded), and `randomize(v)` is uniform on
//! `[v·(1−f), v·(1+f))` with `f = randomizedWaitFactor`, truncated to whole µs, from one `u64`
//! draw of the host's RNG (no draw when `f == 0` or randomization is off).
//!
//! **Deliberate difference** from Resilience4j's `ofExponentialRandomBackoff(…, maxInterval)`,
//! which randomizes the *uncapped* exponential value and then takes `min(…, maxInterval)`: once
//! `b_k·(1−f)` exceeds the cap, every Resilience4j delay equals the cap exactly, and the jitter,
//! whose purpose is to de-synchronize clients, is gone. Here the jitter is applied around the
//! *capped* value and the result clamped to the cap again, so late delays stay spread over
//! `[cap·(1−f), cap]`. Also dropped: Resilience4j's `+1` ms in `randomize` and its 1 ms floor.

use super::{kind_listed, unit_f64, ConfigError, Micros, Outcome};
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const POLICY: &str = "retry";

/// Retry configuration; follows Resilience4j's `RetryConfig` and the Spring Boot property names
/// (`resilience4j.retry.instances.*`). Durations are [`Micros`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryConfig {
    /// Maximum number of attempts, the first one included. Default 3. Must be at least 1.
    pub max_attempts: u32,
    /// Base wait between attempts. Default 500 ms.
    pub wait_duration: Micros,
    /// Grow the wait exponentially. Default false.
    pub enable_exponential_backoff: bool,
    /// Factor between consecutive exponential waits. Default 1.5. Must be finite and > 0.
    pub exponential_backoff_multiplier: f64,
    /// Cap of the exponential wait; `None` (default) = no cap. Only used with exponential backoff.
    pub exponential_max_wait_duration: Option<Micros>,
    /// Randomize the wait (jitter). Default false.
    pub enable_randomized_wait: bool,
    /// Jitter half-width as a fraction of the wait. Default 0.5. Must be in `[0, 1)`.
    pub randomized_wait_factor: f64,
    /// Error kinds to retry; empty (default) = every kind not ignored.
    pub retry_exceptions: Vec<String>,
    /// Error kinds never retried; take precedence over `retryExceptions`. Default empty.
    pub ignore_exceptions: Vec<String>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            wait_duration: Micros::from_millis(500),
            enable_exponential_backoff: false,
            exponential_backoff_multiplier: 1.5,
            exponential_max_wait_duration: None,
            enable_randomized_wait: false,
            randomized_wait_factor: 0.5,
            retry_exceptions: Vec::new(),
            ignore_exceptions: Vec::new(),
        }
    }
}

impl RetryConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for the first field out of range, naming it with its
    /// Resilience4j name (`retry.<field>`) and the bad value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::invalid(
                POLICY,
                "maxAttempts",
                0,
                "must be at least 1",
            ));
        }
        let m = self.exponential_backoff_multiplier;
        if !(m.is_finite() && m > 0.0) {
            return Err(ConfigError::invalid(
                POLICY,
                "exponentialBackoffMultiplier",
                m,
                "must be finite and > 0",
            ));
        }
        let f = self.randomized_wait_factor;
        if !(f.is_finite() && (0.0..1.0).contains(&f)) {
            return Err(ConfigError::invalid(
                POLICY,
                "randomizedWaitFactor",
                f,
                "must be >= 0 and < 1",
            ));
        }
        Ok(())
    }

    /// Whether a failure of this outcome is retried (see the module docs). `Success` and
    /// `Ignored` are not.
    pub fn is_retriable(&self, outcome: &Outcome) -> bool {
        match outcome {
            Outcome::Failure(kind) => {
                !kind_listed(&self.ignore_exceptions, kind)
                    && (self.retry_exceptions.is_empty()
                        || kind_listed(&self.retry_exceptions, kind))
            }
            Outcome::Success | Outcome::Ignored => false,
        }
    }

    fn cap_us(&self) -> u64 {
        match self.exponential_max_wait_duration {
            Some(c) if self.enable_exponential_backoff => c.0,
            _ => u64::MAX,
        }
    }
}

/// What the host does after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RetryDecision {
    /// Stop and propagate this attempt's outcome (success, ignored, or a non-retriable failure).
    Done,
    /// Make another attempt after this many µs of virtual time.
    RetryAfter(u64),
    /// `maxAttempts` reached with a retriable failure: stop and propagate that failure.
    GiveUp,
}

/// A validated retry policy; cheap to clone (the config is shared). Hands out one
/// [`RetryState`] per logical call.
#[derive(Clone, Debug)]
pub struct Retry {
    config: Arc<RetryConfig>,
}

impl Retry {
    /// A retry policy.
    ///
    /// # Errors
    /// The config's [`RetryConfig::validate`] error.
    pub fn new(config: RetryConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Retry {
            config: Arc::new(config),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The state of a new logical call (no attempt made yet).
    pub fn start(&self) -> RetryState {
        RetryState {
            next_base_us: self.config.wait_duration.0,
            config: Arc::clone(&self.config),
            attempts: 0,
            total_wait_us: 0,
            finished: None,
        }
    }
}

/// The retry state of one logical call.
#[derive(Clone, Debug)]
pub struct RetryState {
    config: Arc<RetryConfig>,
    attempts: u32,
    /// Uncapped exponential base for the next wait, µs.
    next_base_us: u64,
    total_wait_us: u64,
    finished: Option<RetryDecision>,
}

impl RetryState {
    /// Reports the outcome of the attempt just made and returns what to do next (see the module
    /// docs). Draws one `u64` from `rng` only when a randomized wait is returned.
    ///
    /// Once `Done` or `GiveUp` has been returned, further calls return the same decision and
    /// change nothing.
    pub fn on_attempt_result(
        &mut self,
        outcome: &Outcome,
        rng: &mut impl RngCore,
    ) -> RetryDecision {
        if let Some(d) = self.finished {
            return d;
        }
        self.attempts = self.attempts.saturating_add(1);
        let decision = if !self.config.is_retriable(outcome) {
            RetryDecision::Done
        } else if self.attempts >= self.config.max_attempts {
            RetryDecision::GiveUp
        } else {
            let wait = self.next_wait(rng);
            self.total_wait_us = self.total_wait_us.saturating_add(wait);
            return RetryDecision::RetryAfter(wait);
        };
        self.finished = Some(decision);
        decision
    }

    fn next_wait(&mut self, rng: &mut impl RngCore) -> u64 {
        let c = &*self.config;
        let base = self.next_base_us;
        if c.enable_exponential_backoff {
            // `as` saturates; NaN cannot occur (finite multiplier > 0, finite base).
            self.next_base_us = (base as f64 * c.exponential_backoff_multiplier) as u64;
        }
        let cap = c.cap_us();
        let capped = base.min(cap);
        if c.enable_randomized_wait && c.randomized_wait_factor > 0.0 {
            let v = capped as f64;
            let f = c.randomized_wait_factor;
            let lo = v * (1.0 - f);
            let hi = v * (1.0 + f);
            let d = lo + unit_f64(rng) * (hi - lo);
            (d as u64).min(cap)
        } else {
            capped
        }
    }

    /// Attempts reported so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Sum of the waits returned so far, µs.
    pub fn total_wait_us(&self) -> u64 {
        self.total_wait_us
    }

    /// Whether `Done` or `GiveUp` has been returned.
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const MS: u64 = 1_000;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(42)
    }

    /// An RNG that must not be used.
    struct NoDraw;
    impl RngCore for NoDraw {
        fn next_u32(&mut self) -> u32 {
            panic!("drew from the rng")
        }
        fn next_u64(&mut self) -> u64 {
            panic!("drew from the rng")
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            panic!("drew from the rng")
        }
    }

    #[test]
    fn defaults_and_validation() {
        let c = RetryConfig::default();
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.wait_duration, Micros(500_000));
        assert_eq!(c.exponential_backoff_multiplier, 1.5);
        assert_eq!(c.randomized_wait_factor, 0.5);
        assert_eq!(c.exponential_max_wait_duration, None);
        assert!(c.validate().is_ok());
        let bad = RetryConfig {
            randomized_wait_factor: 1.0,
            ..Default::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "retry.randomizedWaitFactor: invalid value 1: must be >= 0 and < 1"
        );
        let bad = RetryConfig {
            exponential_backoff_multiplier: f64::INFINITY,
            ..Default::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("exponentialBackoffMultiplier: invalid value inf"));
        assert!(Retry::new(RetryConfig {
            max_attempts: 0,
            ..Default::default()
        })
        .is_err());
    }

    /// Runs one logical call against an upstream that always fails; returns upstream requests
    /// and total virtual wait.
    fn always_failing(retry: &Retry, upstream: &mut u32) -> (RetryDecision, u64) {
        let mut st = retry.start();
        loop {
            *upstream += 1;
            match st.on_attempt_result(&Outcome::failure("io"), &mut NoDraw) {
                RetryDecision::RetryAfter(_) => continue,
                d => return (d, st.total_wait_us()),
            }
        }
    }

    #[test]
    fn nested_retries_multiply_upstream_requests() {
        let client = Retry::new(RetryConfig::default()).unwrap();
        let app = Retry::new(RetryConfig {
            max_attempts: 4,
            ..Default::default()
        })
        .unwrap();

        // One layer of 4 attempts: 4 requests, 3 waits of 500 ms.
        let mut upstream = 0;
        let (d, wait) = always_failing(&app, &mut upstream);
        assert_eq!((upstream, d, wait), (4, RetryDecision::GiveUp, 1_500 * MS));

        // App retry (4) around client retry (3): 12 requests.
        let mut upstream = 0;
        let mut waited = 0;
        let mut outer = app.start();
        loop {
            let (inner, inner_wait) = always_failing(&client, &mut upstream);
            waited += inner_wait;
            assert_eq!(inner, RetryDecision::GiveUp);
            match outer.on_attempt_result(&Outcome::failure("io"), &mut NoDraw) {
                RetryDecision::RetryAfter(w) => waited += w,
                d => {
                    assert_eq!(d, RetryDecision::GiveUp);
                    break;
                }
            }
        }
        assert_eq!(upstream, 12);
        assert_eq!(outer.attempts(), 4);
        // 4 × (2 × 500 ms) inside + 3 × 500 ms outside.
        assert_eq!(waited, 5_500 * MS);
    }

    #[test]
    fn success_ignored_and_non_retriable_stop_at_once() {
        let retry = Retry::new(RetryConfig {
            retry_exceptions: vec!["io".into(), "timeout".into()],
            ignore_exceptions: vec!["timeout".into()],
            ..Default::default()
        })
        .unwrap();
        for o in [
            Outcome::Success,
            Outcome::Ignored,
            Outcome::failure("timeout"),
            Outcome::failure("http_400"),
        ] {
            let mut st = retry.start();
            assert_eq!(st.on_attempt_result(&o, &mut NoDraw), RetryDecision::Done);
            assert_eq!(st.attempts(), 1);
            assert!(st.is_finished());
            // Further reports change nothing.
            assert_eq!(
                st.on_attempt_result(&Outcome::failure("io"), &mut NoDraw),
                RetryDecision::Done
            );
            assert_eq!(st.attempts(), 1);
        }
        let mut st = retry.start();
        assert_eq!(
            st.on_attempt_result(&Outcome::failure("io"), &mut NoDraw),
            RetryDecision::RetryAfter(500 * MS)
        );
        assert_eq!(
            st.on_attempt_result(&Outcome::Success, &mut NoDraw),
            RetryDecision::Done
        );
        assert_eq!(st.attempts(), 2);
    }

    #[test]
    fn max_attempts_one_never_retries() {
        let retry = Retry::new(RetryConfig {
            max_attempts: 1,
            ..Default::default()
        })
        .unwrap();
        let mut st = retry.start();
        assert_eq!(
            st.on_attempt_result(&Outcome::failure("io"), &mut NoDraw),
            RetryDecision::GiveUp
        );
    }

    fn waits(cfg: RetryConfig, rng: &mut impl RngCore) -> Vec<u64> {
        let retry = Retry::new(cfg).unwrap();
        let mut st = retry.start();
        let mut out = Vec::new();
        while let RetryDecision::RetryAfter(w) = st.on_attempt_result(&Outcome::failure("io"), rng)
        {
            out.push(w);
        }
        out
    }

    #[test]
    fn exponential_backoff_without_jitter() {
        let cfg = RetryConfig {
            max_attempts: 7,
            wait_duration: Micros::from_millis(100),
            enable_exponential_backoff: true,
            exponential_max_wait_duration: Some(Micros::from_millis(1_000)),
            ..Default::default()
        };
        // 100, 150, 225, 337.5, 506.25, 759.375 ms (µs-truncated), no cap reached.
        assert_eq!(
            waits(cfg.clone(), &mut NoDraw),
            vec![100_000, 150_000, 225_000, 337_500, 506_250, 759_375]
        );
        let cfg = RetryConfig {
            max_attempts: 8,
            exponential_backoff_multiplier: 2.0,
            ..cfg
        };
        assert_eq!(
            waits(cfg, &mut NoDraw),
            vec![100_000, 200_000, 400_000, 800_000, 1_000_000, 1_000_000, 1_000_000]
        );
    }

    #[test]
    fn exponential_random_backoff_fixed_seed() {
        let cap = 1_000 * MS;
        let cfg = RetryConfig {
            max_attempts: 10,
            wait_duration: Micros::from_millis(100),
            enable_exponential_backoff: true,
            exponential_backoff_multiplier: 2.0,
            exponential_max_wait_duration: Some(Micros(cap)),
            enable_randomized_wait: true,
            randomized_wait_factor: 0.5,
            ..Default::default()
        };
        let w = waits(cfg.clone(), &mut rng());
        assert_eq!(w, EXPECTED_RANDOM_WAITS.to_vec());
        // Each wait is within the jitter band of its capped base, and never above the cap.
        let bases = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000];
        for (w, b) in w.iter().zip(bases) {
            let b = b * MS;
            assert!(*w >= b / 2 && *w <= (b + b / 2).min(cap), "{w} vs {b}");
        }
        // Past the cap the waits stay random: not all equal to the cap, not all equal.
        let late = &w[4..];
        assert!(late.iter().any(|&x| x < cap));
        assert!(late.windows(2).any(|p| p[0] != p[1]));
        // Same seed, same waits.
        assert_eq!(waits(cfg, &mut rng()), w);
    }

    /// ChaCha8 seeded with 42; bases 100, 200, 400, 800, then capped 1000 ms.
    const EXPECTED_RANDOM_WAITS: [u64; 9] = [
        118_189, 290_055, 371_006, 901_888, 788_593, 649_958, 808_040, 1_000_000, 1_000_000,
    ];

    #[test]
    fn randomized_wait_without_backoff_is_uncapped_and_factor_zero_draws_nothing() {
        let cfg = RetryConfig {
            max_attempts: 4,
            wait_duration: Micros::from_millis(100),
            enable_randomized_wait: true,
            exponential_max_wait_duration: Some(Micros(1)),
            ..Default::default()
        };
        let w = waits(cfg.clone(), &mut rng());
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|&x| (50 * MS..150 * MS).contains(&x)), "{w:?}");
        let cfg = RetryConfig {
            randomized_wait_factor: 0.0,
            ..cfg
        };
        assert_eq!(waits(cfg, &mut NoDraw), vec![100 * MS; 3]);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let cfg = RetryConfig {
            max_attempts: 200,
            wait_duration: Micros(u64::MAX / 2),
            enable_exponential_backoff: true,
            exponential_backoff_multiplier: 1e300,
            enable_randomized_wait: true,
            randomized_wait_factor: 0.99,
            ..Default::default()
        };
        let w = waits(cfg, &mut rng());
        assert_eq!(w.len(), 199);
    }
}
