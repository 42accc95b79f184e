//! The range checks every scenario spec and every [`crate::Command`] goes through, in one place,
//! so that every refusal reads the same way:
//!
//! `workloads[0].every_ms: 18446744073709552 is out of range 1..=86400000 (ms)` —
//! the field's path, the value given, the allowed range and its unit.
//!
//! The bounds (documented in ARCHITECTURE.md, "Budgets"):
//!
//! * durations in ms: at most [`MAX_DURATION_MS`] (24 h) unless a field documents a smaller
//!   bound (link latency and jitter, timeouts, Kafka client settings: [`MAX_LATENCY_MS`], 1 h);
//!   a duration that is turned into µs goes through [`crate::time::ms_to_us`] or
//!   [`crate::rng::SimRng::jittered_ms`], which saturate, so no setting can overflow virtual time;
//! * percentages: finite, `0..=100`;
//! * names (nodes, channels, message types, endpoints, collections, tables...): see [`name`];
//! * free JSON (payloads, bodies, seed items): a scenario document nests at most
//!   [`MAX_JSON_DEPTH`] arrays and objects, so whatever validates can be wrapped in a share link
//!   or run file (serde_json's own recursion limit is 128).

use crate::error::ScenarioError;
use std::fmt::Display;

/// Largest duration, in ms, a scenario or command may give: 24 hours.
pub const MAX_DURATION_MS: u64 = 86_400_000;

/// Smaller bound of link latency and jitter, request and lookup timeouts and the Kafka client
/// settings: one hour, in ms (the bound these fields had before [`MAX_DURATION_MS`] existed).
pub const MAX_LATENCY_MS: u64 = 3_600_000;

/// Longest name (node names: [`MAX_NODE_NAME`]), in characters (ASCII, so also bytes).
pub const MAX_NAME: usize = 64;

/// Longest node name, in characters: they label the canvas and lifelines.
pub const MAX_NODE_NAME: usize = 32;

/// Deepest nesting of arrays and objects in a scenario document (the document itself is level
/// 1). A message payload starts at level 6 (`workloads[i].messages[j].payload`), so a payload may
/// nest about 40 levels. A share link wraps the scenario in two more levels and a run file in
/// two, far below serde_json's limit of 128.
pub const MAX_JSON_DEPTH: usize = 48;

/// The error of a value outside `lo..=hi`: `{field}: {value} is out of range {lo}..={hi} ({unit})`
/// (no unit suffix when `unit` is empty).
pub fn out_of_range(
    field: impl Into<String>,
    value: impl Display,
    lo: impl Display,
    hi: impl Display,
    unit: &str,
) -> ScenarioError {
    let suffix = if unit.is_empty() {
        String::new()
    } else {
        format!(" ({unit})")
    };
    ScenarioError::Invalid {
        field: field.into(),
        message: format!("{value} is out of range {lo}..={hi}{suffix}"),
    }
}

/// Checks an integer: `lo <= v <= hi`. `unit` is printed after the range (`ms`, `µs`, `records`;
/// empty for a plain count).
pub fn int(
    field: impl Into<String>,
    v: u64,
    lo: u64,
    hi: u64,
    unit: &str,
) -> Result<(), ScenarioError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(out_of_range(field, v, lo, hi, unit))
    }
}

/// Checks a duration in ms: `lo <= v <= MAX_DURATION_MS` (24 h).
pub fn ms(field: impl Into<String>, v: u64, lo: u64) -> Result<(), ScenarioError> {
    int(field, v, lo, MAX_DURATION_MS, "ms")
}

/// Checks a duration in ms with its own upper bound `hi`.
pub fn ms_max(field: impl Into<String>, v: u64, lo: u64, hi: u64) -> Result<(), ScenarioError> {
    int(field, v, lo, hi, "ms")
}

/// Checks a percentage: finite and `0 <= v <= 100`.
pub fn percent(field: impl Into<String>, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(())
    } else {
        Err(out_of_range(field, show_f64(v), 0, 100, "%"))
    }
}

/// A float as an error shows it: plain decimals below 10^15 (`100.5`, `92.37001069304557`),
/// exponent form beyond (`1e300`), `NaN`, `inf`.
pub fn show_f64(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e15 {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

/// Checks that a float is finite (not NaN, not ±infinity), and within `-limit..=limit`.
pub fn finite(field: impl Into<String>, v: f64, limit: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && (-limit..=limit).contains(&v) {
        Ok(())
    } else {
        Err(out_of_range(field, show_f64(v), -limit, limit, ""))
    }
}

/// Checks a name: 1 to `max` characters from ASCII letters, digits, `-`, `_` and `.`, starting
/// with a letter or a digit. Every built-in scenario's names fit; the set keeps names safe in
/// URLs, file names and the exported formats (Mermaid, SVG, AsyncAPI/OpenAPI, JSONL) and stops a
/// name from carrying a newline or markup into them. Errors name the offending character and its
/// position (1-based), e.g. ``nodes[0].name: character 2 of `x\n%%` is `\n` (U+000A); a name
/// uses ASCII letters, digits, `-`, `_`, `.`, starting with a letter or digit``.
pub fn name(field: impl Into<String>, s: &str, max: usize) -> Result<(), ScenarioError> {
    let field = field.into();
    let count = s.chars().count();
    if count == 0 || count > max {
        return Err(ScenarioError::Invalid {
            field,
            message: format!(
                "`{}` has {count} characters; a name has 1 to {max}",
                shown(s)
            ),
        });
    }
    for (i, c) in s.chars().enumerate() {
        let ok = c.is_ascii_alphanumeric() || (i > 0 && matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ScenarioError::Invalid {
                field,
                message: format!(
                    "character {} of `{}` is `{}` (U+{:04X}); a name uses ASCII letters, \
                     digits, `-`, `_`, `.`, starting with a letter or digit",
                    i + 1,
                    shown(s),
                    c.escape_debug(),
                    c as u32
                ),
            });
        }
    }
    Ok(())
}

/// A name as shown in an error: control characters escaped, at most 64 characters.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(64).flat_map(char::escape_debug).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Checks the nesting depth of a JSON document: at most `max` levels of arrays and objects (a
/// scalar is level 0, `[]` and `{}` level 1). The error names the path (its first 8 steps) at
/// which the limit is passed: `workloads[0].messages[0].payload.a.a…: JSON nests deeper than 48
/// levels of arrays and objects`.
pub fn json_depth(root: &serde_json::Value, max: usize) -> Result<(), ScenarioError> {
    use serde_json::Value;
    // Iterative walk (no recursion on hostile input): (value, depth of value, path to it).
    let mut stack: Vec<(&Value, usize, Vec<String>)> = vec![(root, 1, Vec::new())];
    while let Some((v, depth, path)) = stack.pop() {
        let children: Vec<(String, &Value)> = match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("[{i}]"), x))
                .collect(),
            Value::Object(o) => o.iter().map(|(k, x)| (format!(".{k}"), x)).collect(),
            _ => continue,
        };
        if depth > max {
            let mut field: String = path.iter().take(8).cloned().collect();
            if path.len() > 8 {
                field.push('…');
            }
            let field = field.trim_start_matches('.').to_string();
            return Err(ScenarioError::Invalid {
                field: if field.is_empty() {
                    "(document)".into()
                } else {
                    field
                },
                message: format!("JSON nests deeper than {max} levels of arrays and objects"),
            });
        }
        for (step, child) in children.into_iter().rev() {
            if matches!(child, Value::Array(_) | Value::Object(_)) {
                let mut p = path.clone();
                p.push(step);
                stack.push((child, depth + 1, p));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_field_value_range_and_unit() {
        assert_eq!(
            ms("workloads[0].every_ms", 18_446_744_073_709_552, 1)
                .unwrap_err()
                .to_string(),
            "workloads[0].every_ms: 18446744073709552 is out of range 1..=86400000 (ms)"
        );
        assert_eq!(
            percent("x.loss_percent", f64::NAN).unwrap_err().to_string(),
            "x.loss_percent: NaN is out of range 0..=100 (%)"
        );
        assert_eq!(
            int("n", 0, 1, 16, "").unwrap_err().to_string(),
            "n: 0 is out of range 1..=16"
        );
        assert!(ms("a", MAX_DURATION_MS, 0).is_ok());
    }

    #[test]
    fn names_are_a_documented_character_set() {
        for ok in ["order", "shop-b", "OrderCreated", "v1.2", "a_b", "0day"] {
            assert!(name("n", ok, 64).is_ok(), "{ok}");
        }
        assert_eq!(
            name("nodes[0].name", "x\n%%{init}%%", 32)
                .unwrap_err()
                .to_string(),
            "nodes[0].name: character 2 of `x\\n%%{init}%%` is `\\n` (U+000A); a name uses \
             ASCII letters, digits, `-`, `_`, `.`, starting with a letter or digit"
        );
        assert!(name("n", "-a", 64).is_err());
        assert!(name("n", "", 64).is_err());
        assert!(name("n", &"a".repeat(65), 64).is_err());
        assert!(name("n", "é", 64).is_err());
    }

    #[test]
    fn depth_counts_arrays_and_objects() {
        let v: serde_json::Value = serde_json::from_str(r#"{"a":[{"b":[1]}]}"#).unwrap();
        assert!(json_depth(&v, 4).is_ok());
        assert_eq!(
            json_depth(&v, 3).unwrap_err().to_string(),
            "a[0].b: JSON nests deeper than 3 levels of arrays and objects"
        );
    }
}
