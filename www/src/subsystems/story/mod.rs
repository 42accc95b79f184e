//! The page layout that teaches (issue 11, "The story beside the canvas" and "Nothing the reader
//! made is lost"): the story column beside the canvas ([`column`]), the tabs under it
//! ([`Tab`]), zoom and pan on the canvas ([`zoom`]), the previous run kept restorable
//! ([`PreviousRun`]) and one browser-history entry per run the reader leaves ([`history`]).
//!
//! This file is plain Rust (tested natively): condensing a scenario description, the label of a
//! previous run, the tabs, and the canvas's view box arithmetic.

pub mod column;
pub mod history;
pub mod words;
pub mod zoom;

use crate::format::{format_secs, plural};
use crate::state::Playground;
use msgsim::share::SharedRun;
use msgsim::SimTime;

/// Characters the condensed description aims at (a sentence is never cut: the first one is kept
/// whole however long it is).
pub const SUMMARY_CHARS: usize = 330;
/// Sentences the condensed description keeps at most.
pub const SUMMARY_SENTENCES: usize = 3;

/// Splits `text` into sentences: a `.`, `!` or `?` followed by a space and an upper-case letter
/// or a digit ends one (so `e.g. m9` and `3.5 ms` do not). Whitespace around each is trimmed.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for k in 0..chars.len() {
        let (i, c) = chars[k];
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let next = chars.get(k + 1).map(|p| p.1);
        let after = chars.get(k + 2).map(|p| p.1);
        let ends =
            next == Some(' ') && after.is_some_and(|a| a.is_uppercase() || a.is_ascii_digit());
        if ends {
            let s = text[start..i + c.len_utf8()].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The first two or three sentences of a scenario description, in plain words: what the
/// scenario shows, before its "Watch…" and "Try:" parts. At most [`SUMMARY_SENTENCES`]
/// sentences and about [`SUMMARY_CHARS`] characters (the first sentence always whole). Returns
/// the summary and whether the description has more than it.
pub fn condense(description: &str) -> (String, bool) {
    let all = sentences(description);
    let mut out = String::new();
    let mut taken = 0;
    for s in &all {
        let stop_word = s.starts_with("Watch") || s.starts_with("Try");
        if taken > 0
            && (stop_word
                || taken >= SUMMARY_SENTENCES
                || out.chars().count() + 1 + s.chars().count() > SUMMARY_CHARS)
        {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s);
        taken += 1;
    }
    let more = taken < all.len();
    (out, more)
}

/// The tabs under the canvas. [`Tab::Story`] exists as a tab only on narrow pages (≤ 1100 px),
/// where the story column moves under the canvas; on wide pages it shows the controls' pane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// What the scenario shows, what to try, what just happened, the guarantees.
    Story,
    /// Fault forms and every command (the fault panel).
    Controls,
    /// Metrics, receivers and requests, databases, the broker, the subsystem views.
    Inside,
    /// The sequence diagram.
    Sequence,
    /// The event log.
    Log,
    /// The scenario's full description, its facts and the gallery of built-ins.
    About,
}

impl Tab {
    /// Every tab, in order.
    pub const ALL: [Tab; 6] = [
        Tab::Story,
        Tab::Controls,
        Tab::Inside,
        Tab::Sequence,
        Tab::Log,
        Tab::About,
    ];

    /// The key used in `data-tab` and `data-testid="tab-<key>"`.
    pub fn key(self) -> &'static str {
        match self {
            Tab::Story => "story",
            Tab::Controls => "controls",
            Tab::Inside => "inside",
            Tab::Sequence => "sequence",
            Tab::Log => "log",
            Tab::About => "about",
        }
    }

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Story => "Story",
            Tab::Controls => "Faults & commands",
            Tab::Inside => "Inside the system",
            Tab::Sequence => "Sequence diagram",
            Tab::Log => "Event log",
            Tab::About => "Scenario & gallery",
        }
    }
}

/// A run the reader left (another scenario, another seed, Reset, a loaded run) while it had
/// commands: kept so that one click restores it exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviousRun {
    /// The run: scenario, seed, commands with their places, the time it was at.
    pub run: SharedRun,
    /// The scenario's title (its name when it has none).
    pub title: String,
    /// Where the scenario came from: an uploaded file's name, or `None` for a built-in one.
    pub file: Option<String>,
}

impl PreviousRun {
    /// The run `p` shows now ([`crate::share::current_run`]), with its title.
    pub fn of(p: &Playground) -> PreviousRun {
        let title = p.scenario_title();
        PreviousRun {
            run: crate::share::current_run(p),
            title,
            file: match &p.source {
                crate::state::Source::Builtin(_) => None,
                crate::state::Source::Uploaded(f) => Some(f.clone()),
            },
        }
    }

    /// What the restore button says the run had: `Order events · seed 42 · 3 commands · at
    /// 4.200 s`.
    pub fn label(&self) -> String {
        format!(
            "{} · seed {} · {} · at {}",
            crate::format::shorten(&self.title, 60),
            self.run.seed,
            plural(self.run.commands.len() as u64, "command"),
            format_secs(self.run.at)
        )
    }

    /// The virtual time the run was at.
    pub fn at(&self) -> SimTime {
        self.run.at
    }
}

/// Width of the canvas's coordinate box ([`crate::geometry::VIEW_W`]).
pub const FULL_W: f64 = crate::geometry::VIEW_W;
/// Height of the canvas's coordinate box ([`crate::geometry::VIEW_H`]).
pub const FULL_H: f64 = crate::geometry::VIEW_H;
/// The deepest zoom: a quarter of the width.
pub const MAX_ZOOM: f64 = 4.0;

/// The part of the canvas shown (`viewBox`), in canvas units: always the canvas's aspect, never
/// larger than the whole canvas, never outside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width (the height follows the aspect).
    pub w: f64,
}

impl ViewBox {
    /// The whole canvas.
    pub const FIT: ViewBox = ViewBox {
        x: 0.0,
        y: 0.0,
        w: FULL_W,
    };

    /// Height, from the width and the canvas's aspect.
    pub fn h(&self) -> f64 {
        self.w * FULL_H / FULL_W
    }

    /// Whether it shows the whole canvas.
    pub fn is_fit(&self) -> bool {
        self.w >= FULL_W - 0.5
    }

    /// How much it is magnified (1 = the whole canvas).
    pub fn zoom(&self) -> f64 {
        FULL_W / self.w
    }

    fn clamped(x: f64, y: f64, w: f64) -> ViewBox {
        let w = if w.is_finite() {
            w.clamp(FULL_W / MAX_ZOOM, FULL_W)
        } else {
            FULL_W
        };
        let h = w * FULL_H / FULL_W;
        let fix = |v: f64, max: f64| {
            if v.is_finite() {
                v.clamp(0.0, max)
            } else {
                0.0
            }
        };
        ViewBox {
            x: fix(x, FULL_W - w),
            y: fix(y, FULL_H - h),
            w,
        }
    }

    /// Zoomed by `factor` (> 1 magnifies) keeping the canvas point (`ux`, `uy`) where it is on
    /// the screen; clamped to [1, [`MAX_ZOOM`]] and to the canvas.
    pub fn zoom_at(&self, factor: f64, ux: f64, uy: f64) -> ViewBox {
        if !(factor.is_finite() && factor > 0.0) {
            return *self;
        }
        let w = (self.w / factor).clamp(FULL_W / MAX_ZOOM, FULL_W);
        let k = w / self.w;
        ViewBox::clamped(ux - (ux - self.x) * k, uy - (uy - self.y) * k, w)
    }

    /// Moved by (`dx`, `dy`) canvas units (the content moves the other way), clamped.
    pub fn pan(&self, dx: f64, dy: f64) -> ViewBox {
        ViewBox::clamped(self.x + dx, self.y + dy, self.w)
    }

    /// The `viewBox` attribute.
    pub fn attr(&self) -> String {
        format!("{:.1} {:.1} {:.1} {:.1}", self.x, self.y, self.w, self.h())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_at_a_full_stop_before_a_capital() {
        assert_eq!(
            sentences("A needs 3.5 ms, e.g. m9 first. Then B! Watch it? 2 more.  "),
            [
                "A needs 3.5 ms, e.g. m9 first.",
                "Then B!",
                "Watch it?",
                "2 more."
            ]
        );
        assert_eq!(sentences(""), Vec::<&str>::new());
    }

    #[test]
    fn a_summary_keeps_what_the_scenario_shows_and_stops_before_watch() {
        let json = msgsim::scenarios::get("order-events").unwrap();
        let s = msgsim::Scenario::from_json(json).unwrap();
        let (text, more) = condense(&s.description);
        assert_eq!(
            text,
            "Order publishes an OrderCreated event (keyed by order id) to the order-events topic; \
             Kitchen, Accounting and Notification each have a subscription and get every event \
             (one-to-many). Order also sends a CreateTicket command to the point-to-point \
             kitchen-tickets queue, where Kitchen's two instances compete (one-to-one)."
        );
        assert!(more);
        // Stops at "Watch" even when there is room.
        assert_eq!(
            condense("One. Watch two. Three."),
            ("One.".to_string(), true)
        );
        // The first sentence is kept whole, however long.
        let long = "x".repeat(500) + ".";
        assert_eq!(condense(&long), (long.clone(), false));
    }

    #[test]
    fn every_builtin_has_a_short_summary() {
        for name in msgsim::scenarios::names() {
            let s = msgsim::Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
            let (text, _) = condense(&s.description);
            assert!(!text.is_empty(), "{name}");
            assert!(
                !text.starts_with("Watch") && !text.starts_with("Try"),
                "{name}"
            );
            let n = sentences(&text).len();
            assert!(
                (1..=SUMMARY_SENTENCES).contains(&n),
                "{name}: {n} sentences"
            );
        }
    }

    #[test]
    fn the_view_box_zooms_around_a_point_and_stays_on_the_canvas() {
        let v = ViewBox::FIT.zoom_at(2.0, 500.0, 300.0);
        assert_eq!(
            v,
            ViewBox {
                x: 250.0,
                y: 150.0,
                w: 500.0
            }
        );
        assert_eq!(v.attr(), "250.0 150.0 500.0 300.0");
        assert!(!v.is_fit());
        // A corner stays put.
        assert_eq!(
            ViewBox::FIT.zoom_at(2.0, 0.0, 0.0),
            ViewBox {
                x: 0.0,
                y: 0.0,
                w: 500.0
            }
        );
        // Never deeper than MAX_ZOOM, never wider than the canvas.
        assert_eq!(ViewBox::FIT.zoom_at(100.0, 0.0, 0.0).w, 250.0);
        assert_eq!(v.zoom_at(0.01, 10.0, 10.0), ViewBox::FIT);
        assert_eq!(v.zoom_at(f64::NAN, 10.0, 10.0), v);
        // Panning stops at the edges.
        assert_eq!(
            v.pan(-1_000.0, 40.0),
            ViewBox {
                x: 0.0,
                y: 190.0,
                w: 500.0
            }
        );
        assert_eq!(
            v.pan(1_000.0, 1_000.0),
            ViewBox {
                x: 500.0,
                y: 300.0,
                w: 500.0
            }
        );
        assert_eq!(ViewBox::FIT.pan(30.0, 30.0), ViewBox::FIT);
    }

    fn fingerprint(p: &Playground) -> (Option<&'static str>, u64, u64, u64, usize) {
        let (hash, events) = p.with_sim(|s| (s.trace_hash(), s.events_processed()));
        (
            p.builtin_name(),
            hash,
            p.snapshot.time.as_us(),
            events,
            p.commands.len(),
        )
    }

    #[test]
    fn a_run_left_with_commands_is_restored_exactly() {
        use crate::state::{Action, AppInit, NodeOp};
        let mut p = Playground::new(&AppInit::builtin("order-events", 42));
        let advance = |p: &mut Playground, ms| {
            p.act(Action::Advance {
                virtual_ms: ms,
                real_ms: 0.0,
            })
        };
        // Leaving a run without commands keeps nothing.
        advance(&mut p, 300);
        p.act(Action::Reset);
        assert_eq!(p.previous, None);
        let epoch = p.run_epoch;
        advance(&mut p, 1_000);
        p.act(Action::SelectNode(2));
        p.act(Action::SelectInstance(1));
        p.act(Action::Node(NodeOp::Crash));
        advance(&mut p, 500);
        let made = fingerprint(&p);
        assert_eq!(made.0, Some("order-events"));
        assert_eq!((made.2, made.4), (1_500_000, 1));

        p.act(Action::LoadBuiltin("circuit-breaker".into()));
        assert_eq!(p.run_epoch, epoch + 1);
        let kept = p.previous.clone().expect("the run is kept");
        assert_eq!(
            kept.label(),
            "Order events: publish/subscribe and competing consumers · seed 42 · 1 command · at 1.500 s"
        );
        // A run without commands left later does not replace it.
        advance(&mut p, 200);
        p.act(Action::Reset);
        assert_eq!(p.previous.as_deref(), Some(&*kept));

        p.act(Action::RestorePrevious);
        assert_eq!(fingerprint(&p), made);
        assert_eq!(p.previous, None, "circuit-breaker had no commands");
        assert!(!p.playing);

        // Reset of the restored run keeps it again; restoring gives the same run.
        p.act(Action::Reset);
        assert_eq!(fingerprint(&p).4, 0);
        assert!(p.previous.is_some());
        p.act(Action::RestorePrevious);
        assert_eq!(fingerprint(&p), made);

        // A new seed leaves the run too; Forget drops what is kept.
        p.act(Action::SetSeedText("7".into()));
        assert_eq!(p.seed, 7);
        assert!(p.previous.is_some());
        p.act(Action::ForgetPrevious);
        assert_eq!(p.previous, None);
        p.act(Action::RestorePrevious);
        assert_eq!(p.seed, 7);
    }

    #[test]
    fn tabs_have_keys_and_labels() {
        let keys: Vec<&str> = Tab::ALL.iter().map(|t| t.key()).collect();
        assert_eq!(
            keys,
            ["story", "controls", "inside", "sequence", "log", "about"]
        );
        assert_eq!(Tab::Controls.label(), "Faults & commands");
    }
}
