//! Pure conversions between JS-shaped values and the engine's types (testable natively).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// `Number.MAX_SAFE_INTEGER` (2^53 - 1): the largest integer a JS `number` holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Serializes a JSON value so that serde-wasm-bindgen turns every integer a JS `number` cannot
/// hold exactly (beyond ±(2^53 - 1)) into a `BigInt`, and every other number into a `number`.
///
/// serde-wasm-bindgen alone either errors on such a `u64` (its default) or makes *every* `u64` a
/// `BigInt`; the engine's snapshots hold `u64::MAX` ("never": a held packet's arrival time), so
/// the first would throw and the second would make `metrics.sent` a `BigInt`.
pub struct JsSafe<'a>(pub &'a Value);

impl Serialize for JsSafe<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) => {
                if let Some(u) = n.as_u64().filter(|u| *u > MAX_SAFE_INTEGER) {
                    s.serialize_u128(u128::from(u))
                } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() > MAX_SAFE_INTEGER) {
                    s.serialize_i128(i128::from(i))
                } else {
                    n.serialize(s)
                }
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsSafe(item))?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, &JsSafe(v))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

/// A `u64` (a seed, or a time in µs) from a JS `number`: it must be a finite, non-negative
/// integer no larger than [`MAX_SAFE_INTEGER`]; `what` names it in the error.
pub fn u64_from_f64(what: &str, v: f64) -> Result<u64, String> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_SAFE_INTEGER as f64 {
        Ok(v as u64)
    } else {
        Err(format!(
            "{what} must be a non-negative integer no larger than Number.MAX_SAFE_INTEGER \
             (2^53 - 1), or a BigInt in 0..2^64-1; got {v}"
        ))
    }
}

/// A `u64` from a decimal string (`"42"`, `"18446744073709551615"`).
pub fn u64_from_str(what: &str, v: &str) -> Result<u64, String> {
    v.trim()
        .parse::<u64>()
        .map_err(|_| format!("{what} must be an integer in 0..2^64-1; got the string {v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_beyond_2_pow_53_become_128_bit_integers_others_stay() {
        let v = serde_json::json!({"a": 5, "b": u64::MAX, "c": [-3, i64::MIN, 1.5], "d": MAX_SAFE_INTEGER});
        // serde_json renders 128-bit integers as plain numbers, so the text is unchanged; the
        // point is which serializer method is called, checked by serde-wasm-bindgen in
        // tests/web.rs. Here: the wrapper is lossless.
        let text = serde_json::to_string(&JsSafe(&v)).unwrap();
        assert_eq!(
            text,
            r#"{"a":5,"b":18446744073709551615,"c":[-3,-9223372036854775808,1.5],"d":9007199254740991}"#
        );
    }

    #[test]
    fn u64_from_f64_accepts_safe_integers_only() {
        assert_eq!(u64_from_f64("seed", 42.0), Ok(42));
        assert_eq!(
            u64_from_f64("seed", 9_007_199_254_740_991.0),
            Ok(MAX_SAFE_INTEGER)
        );
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            assert!(u64_from_f64("seed", bad).is_err(), "{bad}");
        }
        assert_eq!(
            u64_from_f64("seed", -1.0).unwrap_err(),
            "seed must be a non-negative integer no larger than Number.MAX_SAFE_INTEGER \
             (2^53 - 1), or a BigInt in 0..2^64-1; got -1"
        );
    }

    #[test]
    fn u64_from_str_parses_decimal() {
        assert_eq!(u64_from_str("seed", " 7 "), Ok(7));
        assert_eq!(u64_from_str("seed", "18446744073709551615"), Ok(u64::MAX));
        assert!(u64_from_str("seed", "-1").is_err());
        assert!(u64_from_str("seed", "0x10").is_err());
    }
}
