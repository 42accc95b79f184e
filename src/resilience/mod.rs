//! Client resilience policies in virtual time: circuit breaker, retry, bulkhead, rate limiter and
//! time limiter, with the semantics of [Resilience4j](https://resilience4j.readme.io/) 2.x.
//!
//! Every policy here is a plain state machine driven by the host (the msgsim event loop). None of
//! them reads a clock, sleeps, spawns or schedules anything: the host passes the current virtual
//! time (`u64` microseconds, see [`Micros`]) into every call, and a policy that needs to be woken
//! up later tells the host when (`next_timer` / `next_deadline`), so the host can put an event on
//! its queue. Randomness (retry jitter only) is drawn from a `&mut impl rand_core::RngCore` the
//! host passes in, and only `u64` draws are used, so a native and a wasm32 run with the same seed
//! produce the same numbers. Nothing iterates a hash map.
//!
//! # Modules
//!
//! | module | Resilience4j counterpart | driver API |
//! | --- | --- | --- |
//! | [`circuit_breaker`] | `CircuitBreaker` (`CircuitBreakerStateMachine`) | `try_acquire_permission` → `on_result` / `release_permission`, `next_timer` → `on_timer` |
//! | [`retry`] | `Retry` with an `IntervalBiFunction` | one [`retry::RetryState`] per logical call, `on_attempt_result` |
//! | [`bulkhead`] | `SemaphoreBulkhead` (fair) | `try_enter` → `on_exit`, `next_deadline` → `on_wait_timeout` |
//! | [`rate_limiter`] | `AtomicRateLimiter` | `acquire` |
//! | [`time_limiter`] | `TimeLimiter` | `deadline_us` / `on_complete` |
//!
//! # Decorator order
//!
//! msgsim stacks the policies of one client→service edge in the **default aspect order of
//! Resilience4j's Spring Boot integration**, which its documentation states as
//!
//! ```text
//! Retry ( CircuitBreaker ( RateLimiter ( TimeLimiter ( Bulkhead ( Function ) ) ) ) )
//! ```
//!
//! "so Retry is applied at the end (if needed)". (The Spring properties behind it are
//! `retryAspectOrder`, `circuitBreakerAspectOrder`, `rateLimiterAspectOrder`,
//! `timeLimiterAspectOrder`, `bulkheadAspectOrder`; a higher value means a higher priority, i.e.
//! further out.) [`DECORATOR_ORDER`] lists the layers outermost first. For one logical call the
//! host therefore does, per attempt:
//!
//! 1. **Retry** (outermost): one [`retry::RetryState`] for the whole logical call; every attempt
//!    below goes through all inner layers again, and the attempt's final outcome (including
//!    "not permitted" / "bulkhead full" / "timeout" rejections from inner layers, as error kinds)
//!    is fed to `on_attempt_result`.
//! 2. **CircuitBreaker**: `try_acquire_permission(now)`; a rejection ends the attempt with the
//!    error kind [`circuit_breaker::CALL_NOT_PERMITTED_ERROR_KIND`]. Otherwise the attempt's result
//!    and duration (as seen from this layer, so including rate-limiter waiting and bulkhead
//!    queueing, and a timeout as a failure) go to `on_result`.
//! 3. **RateLimiter**: `acquire(now)`; `WaitUntil(t)` delays the attempt to `t`, `Rejected` ends it
//!    with [`rate_limiter::REQUEST_NOT_PERMITTED_ERROR_KIND`].
//! 4. **TimeLimiter**: the attempt (bulkhead wait + upstream call) must complete by
//!    `deadline_us(start)`, else it fails with [`time_limiter::TIMEOUT_ERROR_KIND`] (and the
//!    upstream request is cancelled when `cancelRunningFuture` is on).
//! 5. **Bulkhead** (innermost): `try_enter(now, call_id)`; `Rejected` or a wait timeout ends the
//!    attempt with [`bulkhead::BULKHEAD_FULL_ERROR_KIND`]; the slot is returned with `on_exit`.
//!
//! Nested retries multiply: an application-level retry of 4 attempts wrapping a client retry of 3
//! sends up to 12 requests upstream (tested in [`retry`]).
//!
//! (Resilience4j's functional `Decorators` builder instead applies decorators in the order the
//! `with*` calls are written, the last one outermost; msgsim uses the fixed aspect order above.)
//!
//! # Configuration
//!
//! Every config struct derives serde with `#[serde(default, deny_unknown_fields, rename_all =
//! "camelCase")]`, so scenario JSON uses Resilience4j's property names (`failureRateThreshold`,
//! `waitDurationInOpenState`, `maxAttempts`, ...). Omitted fields take Resilience4j's defaults
//! (documented per field). Durations are [`Micros`]: a JSON integer is **microseconds**, a JSON
//! string carries a unit (`"500ms"`, `"60s"`, `"1.5s"`, `"250us"`). Each config has `validate()`
//! returning a [`ConfigError`] that names the field and the bad value; every constructor validates,
//! so no config value can make a policy panic.
//!
//! Errors are classified by an *error kind* string (msgsim's analogue of a Java exception class),
//! matched exactly against the `recordExceptions` / `ignoreExceptions` / `retryExceptions` lists
//! (no class hierarchy).

pub mod bulkhead;
pub mod circuit_breaker;
pub mod rate_limiter;
pub mod retry;
pub mod time_limiter;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use bulkhead::{Bulkhead, BulkheadConfig};
pub use circuit_breaker::{CircuitBreaker, CircuitBreakerConfig};
pub use rate_limiter::{RateLimiter, RateLimiterConfig};
pub use retry::{Retry, RetryConfig, RetryState};
pub use time_limiter::{TimeLimiter, TimeLimiterConfig};

/// A span of virtual time in whole microseconds (µs).
///
/// Serialized as a plain integer of µs. Deserialized from either an integer (µs) or a string with
/// a unit, as Resilience4j's Spring configuration writes durations: `"500ms"`, `"60s"`, `"1.5s"`,
/// `"2m"`, `"250us"` (also `"250µs"`), `"1h"`, `"1d"`, `"3000ns"` (nanoseconds only when a whole
/// number of µs). A string without a unit is rejected, because Spring would read it as
/// milliseconds while a bare JSON integer here means microseconds. Deserialization uses
/// `deserialize_any`, so it needs a self-describing format such as JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub u64);

impl Micros {
    /// Zero duration.
    pub const ZERO: Micros = Micros(0);

    /// `us` microseconds.
    pub const fn from_micros(us: u64) -> Micros {
        Micros(us)
    }

    /// `ms` milliseconds (saturating at `u64::MAX` µs).
    pub const fn from_millis(ms: u64) -> Micros {
        Micros(ms.saturating_mul(1_000))
    }

    /// `s` seconds (saturating at `u64::MAX` µs).
    pub const fn from_secs(s: u64) -> Micros {
        Micros(s.saturating_mul(1_000_000))
    }

    /// This duration in microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Micros {
    /// Prints the duration with the largest unit that divides it exactly: `60s`, `500ms`, `7us`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us != 0 && us.is_multiple_of(1_000_000) {
            write!(f, "{}s", us / 1_000_000)
        } else if us != 0 && us.is_multiple_of(1_000) {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{us}us")
        }
    }
}

/// Why a duration string could not be read as [`Micros`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationParseError {
    /// The string as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for Micros {
    type Err = DurationParseError;

    /// Parses `<number><unit>` with an optional decimal fraction and surrounding whitespace.
    /// Units: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`. The result must be a whole number of µs
    /// that fits in a `u64`.
    fn from_str(s: &str) -> Result<Micros, DurationParseError> {
        let err = |reason| DurationParseError {
            input: s.to_string(),
            reason,
        };
        let t = s.trim();
        let split = t
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map(|(i, _)| i)
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        // Nanoseconds per unit, so that "3000ns" and "1.5s" are both exact.
        let ns_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "" => return Err(err("missing unit (ns, us, ms, s, m, h, d)")),
            _ => return Err(err("unknown unit (expected ns, us, ms, s, m, h, d)")),
        };
        let (int_part, frac_part) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("missing number"));
        }
        if frac_part.contains('.') {
            return Err(err("more than one decimal point"));
        }
        if frac_part.len() > 18 {
            return Err(err("too many decimals"));
        }
        let int_val: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err("number out of range"))?
        };
        let frac_val: u128 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().map_err(|_| err("bad fraction"))?
        };
        let scale = 10u128.pow(frac_part.len() as u32);
        let total_ns = int_val
            .checked_mul(ns_per_unit)
            .and_then(|v| {
                let frac_ns = frac_val.checked_mul(ns_per_unit)?;
                if frac_ns % scale != 0 {
                    return None;
                }
                v.checked_add(frac_ns / scale)
            })
            .ok_or_else(|| err("not a whole number of nanoseconds, or out of range"))?;
        if total_ns % 1_000 != 0 {
            return Err(err("not a whole number of microseconds"));
        }
        u64::try_from(total_ns / 1_000)
            .map(Micros)
            .map_err(|_| err("out of range"))
    }
}

impl Serialize for Micros {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Micros;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration: an integer of microseconds or a string like \"500ms\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Micros, E> {
                Ok(Micros(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Micros, E> {
                u64::try_from(v)
                    .map(Micros)
                    .map_err(|_| E::custom(format!("negative duration {v}")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Micros, E> {
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
                    Ok(Micros(v as u64))
                } else {
                    Err(E::custom(format!(
                        "duration {v} is not a whole non-negative number of microseconds"
                    )))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Micros, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The outcome of one call as the host reports it to a policy.
///
/// `Failure` carries the error kind (msgsim's analogue of the Java exception class). Each policy
/// classifies it with its own lists (`recordExceptions` / `ignoreExceptions` for the circuit
/// breaker, `retryExceptions` / `ignoreExceptions` for retry). `Ignored` means the host wants the
/// call to count as nothing (for example a call cancelled by the caller); Resilience4j reaches the
/// same through `ignoreExceptions` or `releasePermission()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed with this error kind.
    Failure(String),
    /// The call is not to be counted at all.
    Ignored,
}

impl Outcome {
    /// A failure of kind `kind`.
    pub fn failure(kind: impl Into<String>) -> Outcome {
        Outcome::Failure(kind.into())
    }
}

/// `true` when `kind` is in `list`: equal (case-sensitive), or a subclass of a listed kind —
/// `HttpClientErrorException.NotFound` is listed by `HttpClientErrorException`, as Java's
/// `instanceof` matches Spring's nested status exceptions against their parent class in
/// Resilience4j's `recordExceptions` / `ignoreExceptions` / `retryExceptions`.
fn kind_listed(list: &[String], kind: &str) -> bool {
    list.iter().any(|k| {
        kind == k
            || kind
                .strip_prefix(k.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// A uniform float in `[0, 1)` from the top 53 bits of one `u64` draw (portable across targets).
fn unit_f64(rng: &mut impl rand_core::RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A configuration value that is out of range.
///
/// `policy` and `field` use the scenario JSON names (`circuitBreaker.failureRateThreshold`);
/// `value` is the offending value as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field has a value outside its allowed range.
    #[error("{policy}.{field}: invalid value {value}: {expected}")]
    Invalid {
        /// The policy, as named in scenario JSON (`circuitBreaker`, `retry`, ...).
        policy: &'static str,
        /// The field, as named in scenario JSON (Resilience4j's property name).
        field: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What the value must be.
        expected: &'static str,
    },
}

impl ConfigError {
    fn invalid(
        policy: &'static str,
        field: &'static str,
        value: impl fmt::Display,
        expected: &'static str,
    ) -> ConfigError {
        ConfigError::Invalid {
            policy,
            field,
            value: value.to_string(),
            expected,
        }
    }
}

/// Upper bound for sizes that size an in-memory buffer (`slidingWindowSize`,
/// `permittedNumberOfCallsInHalfOpenState`), so that no config value can exhaust memory.
pub const MAX_WINDOW_SIZE: u32 = 1_000_000;

/// One layer of the decorator stack, see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DecoratorLayer {
    /// [`retry`].
    Retry,
    /// [`circuit_breaker`].
    CircuitBreaker,
    /// [`rate_limiter`].
    RateLimiter,
    /// [`time_limiter`].
    TimeLimiter,
    /// [`bulkhead`].
    Bulkhead,
}

/// The layers in the order msgsim applies them, **outermost first**: Resilience4j's default
/// aspect order `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call)))))`.
pub const DECORATOR_ORDER: [DecoratorLayer; 5] = [
    DecoratorLayer::Retry,
    DecoratorLayer::CircuitBreaker,
    DecoratorLayer::RateLimiter,
    DecoratorLayer::TimeLimiter,
    DecoratorLayer::Bulkhead,
];

/// The resilience policies of one client (for example one caller→callee edge of a scenario).
///
/// Every field is optional; an absent policy is not applied. JSON names: `circuitBreaker`,
/// `retry`, `bulkhead`, `rateLimiter`, `timeLimiter`; an empty object `{}` inside one of them
/// means "this policy with Resilience4j's defaults". The layers stack in [`DECORATOR_ORDER`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Policies {
    /// Circuit breaker config, or none.
    pub circuit_breaker: Option<CircuitBreakerConfig>,
    /// Retry config, or none.
    pub retry: Option<RetryConfig>,
    /// Bulkhead config, or none.
    pub bulkhead: Option<BulkheadConfig>,
    /// Rate limiter config, or none.
    pub rate_limiter: Option<RateLimiterConfig>,
    /// Time limiter config, or none.
    pub time_limiter: Option<TimeLimiterConfig>,
}

impl Policies {
    /// Validates every present config; the first error found is returned (in the order
    /// circuitBreaker, retry, bulkhead, rateLimiter, timeLimiter).
    ///
    /// # Errors
    /// The first present config's `validate` error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(c) = &self.circuit_breaker {
            c.validate()?;
        }
        if let Some(c) = &self.retry {
            c.validate()?;
        }
        if let Some(c) = &self.bulkhead {
            c.validate()?;
        }
        if let Some(c) = &self.rate_limiter {
            c.validate()?;
        }
        if let Some(c) = &self.time_limiter {
            c.validate()?;
        }
        Ok(())
    }

    /// The layers that are configured, outermost first (a sub-sequence of [`DECORATOR_ORDER`]).
    pub fn layers(&self) -> Vec<DecoratorLayer> {
        DECORATOR_ORDER
            .iter()
            .copied()
            .filter(|l| match l {
                DecoratorLayer::Retry => self.retry.is_some(),
                DecoratorLayer::CircuitBreaker => self.circuit_breaker.is_some(),
                DecoratorLayer::RateLimiter => self.rate_limiter.is_some(),
                DecoratorLayer::TimeLimiter => self.time_limiter.is_some(),
                DecoratorLayer::Bulkhead => self.bulkhead.is_some(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, MapDeserializer, StrDeserializer, U64Deserializer};
    use serde::de::IntoDeserializer;

    fn micros_from_str(s: &str) -> Result<Micros, DeError> {
        let d: StrDeserializer<DeError> = s.into_deserializer();
        Micros::deserialize(d)
    }

    #[test]
    fn micros_parses_units_exactly() {
        assert_eq!("500ms".parse::<Micros>().unwrap(), Micros(500_000));
        assert_eq!("60s".parse::<Micros>().unwrap(), Micros(60_000_000));
        assert_eq!("1.5s".parse::<Micros>().unwrap(), Micros(1_500_000));
        assert_eq!(" 250us ".parse::<Micros>().unwrap(), Micros(250));
        assert_eq!("250µs".parse::<Micros>().unwrap(), Micros(250));
        assert_eq!("2m".parse::<Micros>().unwrap(), Micros(120_000_000));
        assert_eq!("1h".parse::<Micros>().unwrap(), Micros(3_600_000_000));
        assert_eq!("1d".parse::<Micros>().unwrap(), Micros(86_400_000_000));
        assert_eq!("3000ns".parse::<Micros>().unwrap(), Micros(3));
        assert_eq!(".5ms".parse::<Micros>().unwrap(), Micros(500));
        assert!("500".parse::<Micros>().is_err());
        assert!("500ns".parse::<Micros>().is_err());
        assert!("1.0000001ms".parse::<Micros>().is_err());
        assert!("ms".parse::<Micros>().is_err());
        assert!("1..5s".parse::<Micros>().is_err());
        assert!("5 parsecs".parse::<Micros>().is_err());
        assert!("99999999999999999999999999999999999999999d"
            .parse::<Micros>()
            .is_err());
        assert!("18446744073709551616us".parse::<Micros>().is_err());
        assert_eq!(
            "18446744073709551615us".parse::<Micros>().unwrap(),
            Micros(u64::MAX)
        );
    }

    #[test]
    fn micros_deserializes_integers_as_microseconds_and_strings_with_units() {
        let d: U64Deserializer<DeError> = 1234u64.into_deserializer();
        assert_eq!(Micros::deserialize(d).unwrap(), Micros(1234));
        assert_eq!(micros_from_str("2s").unwrap(), Micros(2_000_000));
        let e = micros_from_str("2").unwrap_err().to_string();
        assert!(e.contains("missing unit"), "{e}");
    }

    #[test]
    fn micros_display() {
        assert_eq!(Micros(60_000_000).to_string(), "60s");
        assert_eq!(Micros(1_500_000).to_string(), "1500ms");
        assert_eq!(Micros(7).to_string(), "7us");
        assert_eq!(Micros(0).to_string(), "0us");
    }

    #[test]
    fn policies_use_resilience4j_names_and_reject_unknown_fields() {
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("slidingWindowSize", 20u64)].into_iter());
        let cb = CircuitBreakerConfig::deserialize(d).unwrap();
        assert_eq!(cb.sliding_window_size, 20);
        assert_eq!(cb.minimum_number_of_calls, 100);
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("waitDurationInOpenState", 5u64)].into_iter());
        let cb = CircuitBreakerConfig::deserialize(d).unwrap();
        assert_eq!(cb.wait_duration_in_open_state, Micros(5));
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("slidingWindowSizeUs", 20u64)].into_iter());
        let e = CircuitBreakerConfig::deserialize(d)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("maxAttempts", 4u64)].into_iter());
        assert_eq!(RetryConfig::deserialize(d).unwrap().max_attempts, 4);
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("maxConcurrentCalls", 2u64)].into_iter());
        assert_eq!(
            BulkheadConfig::deserialize(d).unwrap().max_concurrent_calls,
            2
        );
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("limitForPeriod", 7u64)].into_iter());
        assert_eq!(
            RateLimiterConfig::deserialize(d).unwrap().limit_for_period,
            7
        );
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("timeoutDuration", 9u64)].into_iter());
        assert_eq!(
            TimeLimiterConfig::deserialize(d).unwrap().timeout_duration,
            Micros(9)
        );
        let d: MapDeserializer<_, DeError> =
            MapDeserializer::new(vec![("breaker", 1u64)].into_iter());
        assert!(Policies::deserialize(d).is_err());
    }

    #[test]
    fn policies_validate_and_layers() {
        let mut p = Policies::default();
        assert!(p.validate().is_ok());
        assert!(p.layers().is_empty());
        p.bulkhead = Some(BulkheadConfig::default());
        p.retry = Some(RetryConfig::default());
        p.circuit_breaker = Some(CircuitBreakerConfig::default());
        assert_eq!(
            p.layers(),
            vec![
                DecoratorLayer::Retry,
                DecoratorLayer::CircuitBreaker,
                DecoratorLayer::Bulkhead
            ]
        );
        p.retry.as_mut().unwrap().max_attempts = 0;
        let e = p.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "retry.maxAttempts: invalid value 0: must be at least 1"
        );
    }

    #[test]
    fn unit_f64_is_in_range() {
        struct Max;
        impl rand_core::RngCore for Max {
            fn next_u32(&mut self) -> u32 {
                u32::MAX
            }
            fn next_u64(&mut self) -> u64 {
                u64::MAX
            }
            fn fill_bytes(&mut self, dst: &mut [u8]) {
                dst.fill(0xff)
            }
        }
        let u = unit_f64(&mut Max);
        assert!(u < 1.0 && u > 0.999_999);
    }
}
