//! Virtual time. The engine never reads a clock: time only moves when the event loop advances it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Microseconds in `ms` milliseconds, saturating at `u64::MAX` (never overflows). The one place a
/// spec's duration in ms becomes engine µs: every `*_ms` setting goes through it (or through
/// [`crate::rng::SimRng::jittered_ms`]), so no value a scenario or command gives can overflow
/// virtual time, whatever its range check.
pub const fn ms_to_us(ms: u64) -> u64 {
    ms.saturating_mul(1_000)
}

/// A point in virtual time, in microseconds (µs) since the start of the run.
///
/// Serialized as a plain integer of µs. `Display` prints milliseconds with three decimals
/// (`12.500ms`), the unit people read in traces.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    /// Time zero, the start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// A time `ms` milliseconds after zero (saturating).
    pub const fn from_ms(ms: u64) -> SimTime {
        SimTime(ms_to_us(ms))
    }

    /// This time in whole microseconds.
    pub const fn as_us(self) -> u64 {
        self.0
    }

    /// This time in milliseconds, as a float (for display and animation only).
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }

    /// `self + us` microseconds, saturating at [`SimTime::MAX`].
    pub const fn plus_us(self, us: u64) -> SimTime {
        SimTime(self.0.saturating_add(us))
    }

    /// `self + ms` milliseconds, saturating at [`SimTime::MAX`].
    pub const fn plus_ms(self, ms: u64) -> SimTime {
        self.plus_us(ms_to_us(ms))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}ms", self.0 / 1_000, self.0 % 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_milliseconds_with_three_decimals() {
        assert_eq!(SimTime(12_500).to_string(), "12.500ms");
        assert_eq!(SimTime::from_ms(3).to_string(), "3.000ms");
        assert_eq!(SimTime(7).to_string(), "0.007ms");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::MAX.plus_ms(5), SimTime::MAX);
        assert_eq!(SimTime::from_ms(u64::MAX), SimTime::MAX);
        assert_eq!(SimTime::from_ms(2).plus_us(250).as_us(), 2_250);
    }
}
