//! Pure helpers of the UI: URL parameters and their fallbacks, seed parsing, the logarithmic
//! speed slider, clock and number formatting, and the clamping of fault inputs. No browser here:
//! all of it is unit-tested natively.

use msgsim::network::{LinkFaults, MAX_LATENCY_MS};
use msgsim::{Scenario, ScenarioError, SimTime, Simulation};

/// Slowest speed of the slider: 1/100 of real time.
pub const SPEED_MIN: f64 = 0.01;
/// Fastest speed of the slider: 10 × real time.
pub const SPEED_MAX: f64 = 10.0;
/// Default speed: half of real time: slow enough to follow a message over a 100 ms link (200 ms
/// on screen), fast enough that the built-ins' first faults (at 2–6 s of virtual time) come within
/// the first 4–12 s of watching.
pub const SPEED_DEFAULT: f64 = 0.5;
/// Slider positions (`0..=SLIDER_STEPS`), spread logarithmically from [`SPEED_MIN`] to
/// [`SPEED_MAX`].
pub const SLIDER_STEPS: u32 = 300;

/// The speed at a slider position: `SPEED_MIN × 1000^(pos/SLIDER_STEPS)`, rounded to two
/// significant digits so the label reads well (0.25×, 1.0×, 3.2×).
pub fn speed_from_slider(pos: u32) -> f64 {
    let pos = pos.min(SLIDER_STEPS) as f64;
    let decades = (SPEED_MAX / SPEED_MIN).log10();
    let raw = SPEED_MIN * pow10(decades * pos / SLIDER_STEPS as f64);
    round_sig2(raw).clamp(SPEED_MIN, SPEED_MAX)
}

/// `10^x`: whole powers with `powi`, the fraction by the exponential series (a few terms on
/// `[0, ln 10)`), instead of libm's `pow`, which is large in wasm.
pub fn pow10(x: f64) -> f64 {
    if !x.is_finite() {
        return if x > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let whole = x.floor();
    let r = (x - whole) * std::f64::consts::LN_10;
    let (mut sum, mut term) = (1.0, 1.0);
    for k in 1..=24 {
        term *= r / k as f64;
        sum += term;
    }
    sum * 10f64.powi(whole.clamp(-300.0, 300.0) as i32)
}

/// The slider position closest to `speed`.
pub fn slider_from_speed(speed: f64) -> u32 {
    if !speed.is_finite() || speed <= SPEED_MIN {
        return 0;
    }
    let decades = (SPEED_MAX / SPEED_MIN).log10();
    let pos = (speed / SPEED_MIN).log10() / decades * SLIDER_STEPS as f64;
    (pos.round() as u32).min(SLIDER_STEPS)
}

fn round_sig2(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return v;
    }
    let mag = pow10(v.log10().floor() - 1.0);
    (v / mag).round() * mag
}

/// `v` with exactly `decimals` decimals (at most 6), rounded half away from zero; NaN and
/// infinities print as `0`. Integer arithmetic only: this keeps the float-precision formatting
/// code of `core` out of the wasm binary.
pub fn fixed(v: f64, decimals: u32) -> String {
    let decimals = decimals.min(6);
    if !v.is_finite() {
        return "0".to_string();
    }
    let scale = 10u64.pow(decimals);
    let n = (v.abs() * scale as f64).round();
    if n >= u64::MAX as f64 {
        return "0".to_string();
    }
    let n = n as u64;
    let sign = if v < 0.0 && n != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{n}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            n / scale,
            n % scale,
            width = decimals as usize
        )
    }
}

/// [`fixed`] without trailing zeros (and without a trailing `.`).
pub fn trimmed(v: f64, decimals: u32) -> String {
    let s = fixed(v, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The label of a speed factor: `0.25×`, `0.01×`, `1×`, `3.2×`, `10×`.
pub fn format_speed(speed: f64) -> String {
    let decimals = if speed >= 10.0 {
        0
    } else if speed >= 1.0 {
        1
    } else if speed >= 0.1 {
        2
    } else {
        3
    };
    format!("{}×", trimmed(speed, decimals))
}

/// The virtual clock: `t = 3.250 s` (millisecond precision).
pub fn format_clock(t: SimTime) -> String {
    let ms = t.as_us() / 1_000;
    format!("t = {}.{:03} s", ms / 1_000, ms % 1_000)
}

/// A time for logs: `3.250 s`.
pub fn format_secs(t: SimTime) -> String {
    let ms = t.as_us() / 1_000;
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

/// A queue name shortened to `max` characters keeping what tells subscriptions apart: the
/// subscriber after the `/` (`delivery-quotes/courier-a` → `delivery-q…/courier-a`).
pub fn short_queue(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    match name.rsplit_once('/') {
        Some((topic, sub)) if sub.chars().count() + 5 <= max => {
            let keep = max - sub.chars().count() - 2;
            format!("{}…/{sub}", topic.chars().take(keep).collect::<String>())
        }
        _ => shorten(name, max),
    }
}

/// A duration in µs, short: `840 µs`, `3.5 ms`, `1.25 s`.
pub fn format_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{} ms", trimmed(us as f64 / 1e3, 1))
    } else {
        format!("{} s", trimmed(us as f64 / 1e6, 2))
    }
}

/// Why a seed text is not a seed, for messages: `is not a whole number 0..18446744073709551615`.
pub const SEED_RANGE_TEXT: &str = "is not a whole number 0..18446744073709551615";

/// Parses a seed: a whole number `0..=u64::MAX` (surrounding spaces ignored). The error is the
/// sentence to show.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse::<u64>()
        .map_err(|_| format!("Seed `{}` {SEED_RANGE_TEXT}.", shorten(t, 40)))
}

/// Cuts text to `max` characters for messages (adds `…`).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// The parameters of the page URL that the playground reads, already percent-decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlParams {
    /// `?scenario=`.
    pub scenario: Option<String>,
    /// `?seed=`.
    pub seed: Option<String>,
    /// `?embed=1` (also `true`).
    pub embed: bool,
}

/// What the page starts with, after the URL has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartChoice {
    /// A built-in scenario name.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// Embed mode.
    pub embed: bool,
    /// One sentence per URL problem: what was wrong, where, and what is used instead.
    pub errors: Vec<String>,
}

/// Whether an `embed` value turns embed mode on.
pub fn embed_flag(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("1" | "true" | "yes"))
}

/// Checks the URL parameters against the built-in scenarios: an unknown scenario falls back to
/// the first built-in one, a bad seed to the scenario's own seed; each fallback is explained.
pub fn resolve_start(params: &UrlParams) -> StartChoice {
    let builtin = msgsim::scenarios::BUILTIN;
    let default_name = builtin.first().map(|(n, _)| *n).unwrap_or("order-events");
    let mut errors = Vec::new();
    let scenario = match params.scenario.as_deref().map(str::trim) {
        None | Some("") => default_name,
        Some(name) => match builtin.iter().find(|(n, _)| *n == name) {
            Some((n, _)) => n,
            None => {
                errors.push(format!(
                    "Unknown scenario `{}` in the URL (?scenario=). Showing `{default_name}` instead.",
                    shorten(name, 60)
                ));
                default_name
            }
        },
    };
    let scenario_seed = msgsim::scenarios::get(scenario)
        .and_then(|j| Scenario::from_json(j).ok())
        .map(|s| s.seed)
        .unwrap_or(1);
    let seed = match params.seed.as_deref().map(str::trim) {
        None | Some("") => scenario_seed,
        Some(text) => match text.parse::<u64>() {
            Ok(s) => s,
            Err(_) => {
                errors.push(format!(
                    "Seed `{}` in the URL (?seed=) {SEED_RANGE_TEXT}; using the scenario's seed {scenario_seed}.",
                    shorten(text, 40)
                ));
                scenario_seed
            }
        },
    };
    StartChoice {
        scenario,
        seed,
        embed: params.embed,
        errors,
    }
}

/// The relative link that opens the full playground on this run: `?scenario=order-events&seed=42`
/// (an uploaded scenario cannot be named in a URL, so only the seed is kept).
pub fn playground_query(builtin: Option<&str>, seed: u64) -> String {
    match builtin {
        Some(name) => format!("?scenario={}&seed={seed}", url_encode(name)),
        None => format!("?seed={seed}"),
    }
}

/// Percent-encodes everything but ASCII letters, digits and `-_.~`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses an uploaded scenario: JSON syntax and shape, references, limits and the fault schedule
/// (by building a simulation of it once). Nothing is changed on error.
pub fn load_scenario_text(text: &str) -> Result<Scenario, ScenarioError> {
    let scenario = Scenario::from_json(text)?;
    Simulation::new(scenario.clone(), scenario.seed)?;
    Ok(scenario)
}

/// A numeric field of a link direction that the fault panel edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkField {
    /// `latency_ms`.
    Latency,
    /// `jitter_ms`.
    Jitter,
    /// `loss_percent`.
    Loss,
    /// `duplicate_percent`.
    Duplicate,
}

impl LinkField {
    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            LinkField::Latency => "Latency",
            LinkField::Jitter => "Jitter",
            LinkField::Loss => "Loss",
            LinkField::Duplicate => "Duplicate",
        }
    }

    /// Unit shown after values.
    pub fn unit(self) -> &'static str {
        match self {
            LinkField::Latency | LinkField::Jitter => "ms",
            LinkField::Loss | LinkField::Duplicate => "%",
        }
    }

    /// Valid range.
    pub fn range(self) -> (f64, f64) {
        match self {
            LinkField::Latency | LinkField::Jitter => (0.0, MAX_LATENCY_MS as f64),
            LinkField::Loss | LinkField::Duplicate => (0.0, 100.0),
        }
    }

    /// The field's value in `f`.
    pub fn get(self, f: &LinkFaults) -> f64 {
        match self {
            LinkField::Latency => f.latency_ms as f64,
            LinkField::Jitter => f.jitter_ms as f64,
            LinkField::Loss => f.loss_percent,
            LinkField::Duplicate => f.duplicate_percent,
        }
    }

    /// `f` with this field set to `v` (already in range; delays are rounded to whole ms).
    pub fn set(self, f: &LinkFaults, v: f64) -> LinkFaults {
        let mut f = f.clone();
        match self {
            LinkField::Latency => f.latency_ms = v.round() as u64,
            LinkField::Jitter => f.jitter_ms = v.round() as u64,
            LinkField::Loss => f.loss_percent = v,
            LinkField::Duplicate => f.duplicate_percent = v,
        }
        f
    }
}

/// A fault input, parsed and brought into range.
#[derive(Clone, Debug, PartialEq)]
pub struct Clamped {
    /// The value to apply.
    pub value: f64,
    /// Set when the typed value was changed to fit: the sentence to show.
    pub note: Option<String>,
}

/// Formats a field value for an input box: whole numbers without decimals.
pub fn format_field(v: f64) -> String {
    trimmed(v, 3)
}

/// Parses what was typed into a fault input and clamps it to the field's range (rounding delays
/// to whole milliseconds). Not a number: an error sentence, and nothing is applied.
pub fn clamp_field(field: LinkField, raw: &str) -> Result<Clamped, String> {
    let t = raw.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        // A number input gives "" for text that is not a number, too.
        return Err(format!(
            "{}: the field is empty or not a number; nothing changed.",
            field.label()
        ));
    }
    let v: f64 = t.parse().map_err(|_| {
        format!(
            "{}: `{}` is not a number; nothing changed.",
            field.label(),
            shorten(raw.trim(), 30)
        )
    })?;
    if !v.is_finite() {
        return Err(format!(
            "{}: `{}` is not a finite number; nothing changed.",
            field.label(),
            shorten(raw.trim(), 30)
        ));
    }
    let (lo, hi) = field.range();
    let mut value = v.clamp(lo, hi);
    if matches!(field, LinkField::Latency | LinkField::Jitter) {
        value = value.round();
    }
    let note = (value != v).then(|| {
        format!(
            "{} {} {} was clamped to {} {} (allowed {}–{} {}{}).",
            field.label(),
            format_field(v),
            field.unit(),
            format_field(value),
            field.unit(),
            format_field(lo),
            format_field(hi),
            field.unit(),
            if matches!(field, LinkField::Latency | LinkField::Jitter) {
                ", whole ms"
            } else {
                ""
            }
        )
    });
    Ok(Clamped { value, note })
}

/// Percent for badges: `20%`, `2.5%`.
pub fn format_percent(v: f64) -> String {
    format!("{}%", format_field((v * 10.0).round() / 10.0))
}

/// The badge text of a link direction's faults (`loss 20% · dup 30% · ✂ partition · ❚❚ hold`), or `None` when it
/// is healthy.
pub fn fault_badge(f: &LinkFaults) -> Option<String> {
    let mut parts = Vec::new();
    if f.loss_percent > 0.0 {
        parts.push(format!("loss {}", format_percent(f.loss_percent)));
    }
    if f.duplicate_percent > 0.0 {
        parts.push(format!("dup {}", format_percent(f.duplicate_percent)));
    }
    if f.partitioned {
        parts.push("✂ partition".to_string());
    }
    if f.held {
        parts.push("❚❚ hold".to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// Capitalises an ASCII first letter (`accounting` → `Accounting`); node names are ASCII-ish, and
/// the Unicode case tables are not worth their bytes here.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// English plural: `1 duplicate`, `3 duplicates`; a consonant + `y` becomes `ies` (`2 retries`,
/// never "retrys"); `s`, `x`, `ch`, `sh` take `es` (`2 boxes`).
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        return format!("{n} {word}");
    }
    let vowel_y = ["ay", "ey", "oy", "uy"].iter().any(|e| word.ends_with(e));
    if word.ends_with('y') && !vowel_y {
        format!("{n} {}ies", &word[..word.len() - 1])
    } else if ["s", "x", "ch", "sh"].iter().any(|e| word.ends_with(e)) {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_slider_is_logarithmic_from_a_hundredth_to_ten() {
        assert_eq!(speed_from_slider(0), 0.01);
        assert_eq!(speed_from_slider(SLIDER_STEPS), 10.0);
        assert_eq!(speed_from_slider(SLIDER_STEPS * 2), 10.0);
        assert_eq!(speed_from_slider(200), 1.0);
        assert_eq!(speed_from_slider(100), 0.1);
        // Equal slider steps multiply the speed by equal factors.
        let r1 = speed_from_slider(150) / speed_from_slider(100);
        let r2 = speed_from_slider(250) / speed_from_slider(200);
        assert!((r1 - r2).abs() < 0.1, "{r1} {r2}");
        // The default sits on the slider.
        let pos = slider_from_speed(SPEED_DEFAULT);
        assert_eq!(speed_from_slider(pos), 0.5);
        assert_eq!(slider_from_speed(0.0), 0);
        assert_eq!(slider_from_speed(f64::NAN), 0);
        assert_eq!(slider_from_speed(1e9), SLIDER_STEPS);
        for p in 0..=SLIDER_STEPS {
            let s = speed_from_slider(p);
            assert!((SPEED_MIN..=SPEED_MAX).contains(&s), "{p} {s}");
        }
    }

    #[test]
    fn pow10_matches_the_standard_library() {
        for i in -60..=60 {
            let x = i as f64 * 0.05;
            let rel = (pow10(x) - 10f64.powf(x)).abs() / 10f64.powf(x);
            assert!(rel < 1e-12, "{x}: {rel}");
        }
        assert_eq!(pow10(2.0), 100.0);
    }

    #[test]
    fn speed_labels() {
        assert_eq!(format_speed(0.25), "0.25×");
        assert_eq!(format_speed(0.01), "0.01×");
        assert_eq!(format_speed(0.063), "0.063×");
        assert_eq!(format_speed(1.0), "1×");
        assert_eq!(format_speed(3.2), "3.2×");
        assert_eq!(format_speed(10.0), "10×");
    }

    #[test]
    fn clock_shows_seconds_with_milliseconds() {
        assert_eq!(format_clock(SimTime(3_250_999)), "t = 3.250 s");
        assert_eq!(format_clock(SimTime::ZERO), "t = 0.000 s");
        assert_eq!(format_secs(SimTime::from_ms(61_005)), "61.005 s");
        assert_eq!(
            short_queue("delivery-quotes/courier-a", 23),
            "delivery-quo…/courier-a"
        );
        assert_eq!(
            short_queue("order-events/kitchen", 23),
            "order-events/kitchen"
        );
        assert_eq!(
            short_queue("a/very-long-subscriber-name-here", 23),
            shorten("a/very-long-subscriber-name-here", 23)
        );
        assert_eq!(format_us(840), "840 µs");
        assert_eq!(format_us(3_500), "3.5 ms");
        assert_eq!(format_us(130_000), "130 ms");
        assert_eq!(format_us(1_250_000), "1.25 s");
    }

    #[test]
    fn seeds_are_whole_numbers_in_u64() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed(" 7 "), Ok(7));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        for bad in ["abc", "-1", "1.5", "", "18446744073709551616"] {
            let e = parse_seed(bad).unwrap_err();
            assert!(e.contains(SEED_RANGE_TEXT), "{e}");
        }
    }

    #[test]
    fn url_fallbacks_are_explained() {
        let ok = resolve_start(&UrlParams {
            scenario: Some("order-events".into()),
            seed: Some("7".into()),
            embed: false,
        });
        assert_eq!(
            (ok.scenario, ok.seed, ok.errors.len()),
            ("order-events", 7, 0)
        );

        let none = resolve_start(&UrlParams::default());
        assert_eq!((none.scenario, none.seed), ("order-events", 42));
        assert!(none.errors.is_empty());

        let bad = resolve_start(&UrlParams {
            scenario: Some("does-not-exist".into()),
            seed: Some("abc".into()),
            embed: true,
        });
        assert_eq!(
            (bad.scenario, bad.seed, bad.embed),
            ("order-events", 42, true)
        );
        assert_eq!(
            bad.errors,
            vec![
                "Unknown scenario `does-not-exist` in the URL (?scenario=). Showing `order-events` instead."
                    .to_string(),
                "Seed `abc` in the URL (?seed=) is not a whole number 0..18446744073709551615; using the scenario's seed 42."
                    .to_string(),
            ]
        );
        let overflow = resolve_start(&UrlParams {
            seed: Some("99999999999999999999".into()),
            ..UrlParams::default()
        });
        assert_eq!(overflow.seed, 42);
        assert_eq!(overflow.errors.len(), 1);
    }

    #[test]
    fn playground_links() {
        assert_eq!(
            playground_query(Some("order-events"), 42),
            "?scenario=order-events&seed=42"
        );
        assert_eq!(playground_query(None, 7), "?seed=7");
        assert_eq!(url_encode("a b&c"), "a%20b%26c");
    }

    #[test]
    fn embed_flag_values() {
        assert!(embed_flag(Some("1")));
        assert!(embed_flag(Some("true")));
        assert!(!embed_flag(Some("0")));
        assert!(!embed_flag(None));
    }

    #[test]
    fn uploaded_scenarios_are_checked_fully() {
        let good = msgsim::scenarios::get("order-events").unwrap();
        assert_eq!(load_scenario_text(good).unwrap().name, "order-events");
        match load_scenario_text("{\n  \"name\": \"x\",\n  \"nodes\": [ }") {
            Err(ScenarioError::Parse { line, column, .. }) => assert_eq!((line, column), (3, 14)),
            other => panic!("{other:?}"),
        }
        let unknown_field = good.replacen("\"seed\": 42", "\"sede\": 42", 1);
        assert!(matches!(
            load_scenario_text(&unknown_field),
            Err(ScenarioError::Parse { .. })
        ));
        // A fault schedule that names a missing link is rejected too.
        let bad_fault = good.replacen(
            "\"faults\": []",
            "\"faults\": [{\"at_ms\": 5, \"command\": {\"op\": \"partition\", \"a\": \"order\", \"b\": \"kitchen\"}}]",
            1,
        );
        match load_scenario_text(&bad_fault) {
            Err(ScenarioError::Invalid { field, .. }) => assert_eq!(field, "faults[0].command"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fault_inputs_are_clamped_and_explained() {
        let c = clamp_field(LinkField::Loss, "150").unwrap();
        assert_eq!(c.value, 100.0);
        assert_eq!(
            c.note.as_deref(),
            Some("Loss 150 % was clamped to 100 % (allowed 0–100 %).")
        );
        let c = clamp_field(LinkField::Duplicate, "-5").unwrap();
        assert_eq!(c.value, 0.0);
        assert!(c.note.is_some());
        let c = clamp_field(LinkField::Loss, " 20 % ").unwrap();
        assert_eq!((c.value, c.note), (20.0, None));
        let c = clamp_field(LinkField::Latency, "12.6").unwrap();
        assert_eq!(c.value, 13.0);
        assert!(c.note.unwrap().contains("whole ms"));
        let c = clamp_field(LinkField::Jitter, "99999999").unwrap();
        assert_eq!(c.value, MAX_LATENCY_MS as f64);
        assert!(clamp_field(LinkField::Loss, "lots").is_err());
        assert_eq!(
            clamp_field(LinkField::Loss, "").err().as_deref(),
            Some("Loss: the field is empty or not a number; nothing changed.")
        );
        assert!(clamp_field(LinkField::Loss, "NaN").is_err());
        assert!(clamp_field(LinkField::Loss, "inf").is_err());
    }

    #[test]
    fn link_field_get_set_round_trip() {
        let f = LinkFaults::default();
        for field in [
            LinkField::Latency,
            LinkField::Jitter,
            LinkField::Loss,
            LinkField::Duplicate,
        ] {
            let g = field.set(&f, 42.0);
            assert_eq!(field.get(&g), 42.0);
            assert!(g.validate("x").is_ok());
        }
    }

    #[test]
    fn fault_badges() {
        assert_eq!(fault_badge(&LinkFaults::default()), None);
        let f = LinkFaults {
            loss_percent: 20.0,
            duplicate_percent: 2.5,
            partitioned: true,
            held: true,
            ..LinkFaults::default()
        };
        assert_eq!(
            fault_badge(&f).unwrap(),
            "loss 20% · dup 2.5% · ✂ partition · ❚❚ hold"
        );
    }

    #[test]
    fn fixed_point_formatting() {
        assert_eq!(fixed(1.25, 1), "1.3");
        assert_eq!(fixed(-1.25, 1), "-1.3");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(460.0, 1), "460.0");
        assert_eq!(fixed(1.23456, 3), "1.235");
        assert_eq!(fixed(7.6, 0), "8");
        assert_eq!(fixed(f64::NAN, 2), "0");
        assert_eq!(fixed(f64::INFINITY, 2), "0");
        assert_eq!(fixed(0.05, 2), "0.05");
        assert_eq!(trimmed(2.500, 3), "2.5");
        assert_eq!(trimmed(100.0, 3), "100");
    }

    #[test]
    fn words() {
        assert_eq!(capitalize("accounting"), "Accounting");
        assert_eq!(capitalize(""), "");
        assert_eq!(plural(1, "duplicate"), "1 duplicate");
        assert_eq!(plural(3, "duplicate"), "3 duplicates");
        assert_eq!(plural(67, "retry"), "67 retries");
        assert_eq!(plural(1, "retry"), "1 retry");
        assert_eq!(plural(2, "delay"), "2 delays");
        assert_eq!(plural(2, "box"), "2 boxes");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(format_field(20.0), "20");
        assert_eq!(format_field(2.5), "2.5");
    }
}
