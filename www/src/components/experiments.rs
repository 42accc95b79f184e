//! "What to try": the scenario's experiments (`msgsim::experiment`) as buttons in the story
//! column.
//!
//! Each experiment is a button with its title: a click applies its commands at the current
//! virtual time (one `Action::Apply` each, so they land in the command log, share links and run
//! files like any fault), and its follow-ups (`then`, e.g. a restart after a crash) when the
//! clock passes `after_ms` later. "▶ at t = …" first moves the run to the experiment's documented
//! place (`at_ms`, where `tests/experiments.rs` applies it), so the page reproduces the tested
//! numbers. Under the button: what to look for, then, once applied, expected vs actual, live
//! (✓ once the expectation is met, with the time and the number).
//!
//! The bookkeeping ([`Tracker`]) is pure and tested natively.

use crate::state::Action;
use msgsim::experiment::{Baseline, Evaluation, Experiment};
use msgsim::{Command, Scenario, SimTime, Snapshot};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`Experiments`].
#[derive(Properties, PartialEq)]
pub struct ExperimentsProps {
    /// The scenario whose experiments are listed.
    pub scenario: Rc<Scenario>,
    /// State at the current virtual time (experiments apply their commands at `snapshot.time`).
    pub snapshot: Rc<Snapshot>,
    /// Where the buttons send their actions (`Action::Apply` per command, `Action::Seek` for
    /// "▶ at t = …").
    pub dispatch: Callback<Action>,
}

/// One experiment the reader applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// Index in the scenario's `experiments`.
    pub index: usize,
    /// Time of the click and the counter's value then.
    pub baseline: Baseline,
    /// Follow-up commands not applied yet, with the virtual time they are due.
    pub pending: Vec<(SimTime, Command)>,
    /// When the expectation was first seen met (the page checks at every snapshot).
    pub met_at: Option<SimTime>,
    /// The baseline's counter is read from the first snapshot at its time (after a "⇥" move,
    /// the click's snapshot is from before the move).
    pub measure_later: bool,
}

/// The experiments applied in this run of one scenario (at most one entry per experiment: a
/// second click starts it again).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tracker {
    /// The scenario these belong to (a new scenario clears them).
    pub scenario: String,
    /// Applied experiments, in click order.
    pub applied: Vec<Applied>,
}

impl Tracker {
    /// Forgets what does not belong to `scenario` at `snapshot`: another scenario, or clicks
    /// after the current time (the run was reset or moved back before them).
    pub fn sync(&mut self, scenario: &Scenario, snapshot: &Snapshot) {
        if self.scenario != scenario.name {
            self.scenario = scenario.name.clone();
            self.applied.clear();
        }
        self.applied
            .retain(|a| a.measure_later || a.baseline.at <= snapshot.time);
    }

    /// The reader clicked experiment `index` at `snapshot`: returns the commands to apply now
    /// (empty for an index out of range).
    pub fn start(
        &mut self,
        scenario: &Scenario,
        index: usize,
        snapshot: &Snapshot,
    ) -> Vec<Command> {
        self.start_at(scenario, index, snapshot, None)
    }

    /// As [`Tracker::start`], for commands that land at `at` (after a move there: later than
    /// `snapshot`, or earlier when the run was over): the baseline counter is read when a
    /// snapshot at `at` is observed.
    pub fn start_at(
        &mut self,
        scenario: &Scenario,
        index: usize,
        snapshot: &Snapshot,
        at: Option<SimTime>,
    ) -> Vec<Command> {
        self.sync(scenario, snapshot);
        let Some(e) = scenario.experiments.get(index) else {
            return Vec::new();
        };
        self.applied.retain(|a| a.index != index);
        let mut baseline = e.baseline(snapshot);
        // A move forward, or back (the run was over): the counter is read at `at`.
        let measure_later = at.is_some_and(|t| t != snapshot.time);
        if let Some(t) = at.filter(|_| measure_later) {
            baseline.at = t;
        }
        self.applied.push(Applied {
            index,
            baseline,
            pending: e
                .then
                .iter()
                .map(|f| (baseline.at.plus_ms(f.after_ms), f.command.clone()))
                .collect(),
            met_at: None,
            measure_later,
        });
        e.commands.clone()
    }

    /// Follow-ups whose time has come at `snapshot` (removed from the pending lists), in due
    /// order.
    pub fn due(&mut self, snapshot: &Snapshot) -> Vec<Command> {
        let mut out: Vec<(SimTime, Command)> = Vec::new();
        for a in &mut self.applied {
            let (now, later): (Vec<_>, Vec<_>) =
                a.pending.drain(..).partition(|(t, _)| *t <= snapshot.time);
            a.pending = later;
            out.extend(now);
        }
        out.sort_by_key(|(t, _)| *t);
        out.into_iter().map(|(_, c)| c).collect()
    }

    /// Expected vs actual of experiment `index` at `snapshot` (None when not applied), and
    /// latches the first time it is met.
    pub fn observe(
        &mut self,
        scenario: &Scenario,
        index: usize,
        snapshot: &Snapshot,
    ) -> Option<(Evaluation, Option<SimTime>)> {
        let e = scenario.experiments.get(index)?;
        let a = self.applied.iter_mut().find(|a| a.index == index)?;
        if a.measure_later {
            if snapshot.time < a.baseline.at {
                return None;
            }
            a.baseline = Baseline {
                at: a.baseline.at,
                ..e.baseline(snapshot)
            };
            a.measure_later = false;
        }
        let eval = e.expect.evaluate(snapshot, &a.baseline);
        if eval.met && a.met_at.is_none() {
            a.met_at = Some(snapshot.time);
        }
        Some((eval, a.met_at))
    }
}

/// "t = 2.5 s" for a time in ms.
pub fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn experiment_row(
    i: usize,
    e: &Experiment,
    status: Option<(Evaluation, Option<SimTime>)>,
    now: SimTime,
    over: bool,
    on_apply: Callback<usize>,
    on_place: Callback<usize>,
) -> Html {
    let apply = {
        // After the run is over, "now" would apply to a run with nothing left to happen (grade3
        // finding 5): the button goes back to the experiment's own time and applies it there.
        let f = if over {
            on_place.clone()
        } else {
            on_apply.clone()
        };
        Callback::from(move |_: MouseEvent| f.emit(i))
    };
    let place = Callback::from(move |_: MouseEvent| on_place.emit(i));
    let before = now < SimTime::from_ms(e.at_ms);
    let follow = if e.then.is_empty() {
        Html::default()
    } else {
        let parts: Vec<String> = e
            .then
            .iter()
            .map(|f| format!("+{}: {}", seconds(f.after_ms), f.command.describe()))
            .collect();
        html! { <span class="exp-then">{ format!("then {}", parts.join("; ")) }</span> }
    };
    let result = match status {
        None => Html::default(),
        Some((eval, met_at)) => {
            let (class, mark) = match (eval.met, met_at) {
                (true, Some(t)) => (
                    "exp-result met",
                    format!("✓ met (first seen at t={})", crate::format::format_secs(t)),
                ),
                (true, None) => ("exp-result met", "✓".to_string()),
                (false, Some(t)) => (
                    "exp-result lapsed",
                    format!(
                        "was met (first seen at t={}), not now",
                        crate::format::format_secs(t)
                    ),
                ),
                (false, None) => ("exp-result waiting", "… not yet".to_string()),
            };
            html! {
                <p class={class} aria-live="polite">
                    <span class="exp-expected">{ format!("Expected: {}", eval.expected) }</span>
                    <span class="exp-actual">{ format!("Actual: {}", eval.actual) }</span>
                    <span class="exp-mark">{ mark }</span>
                </p>
            }
        }
    };
    html! {
        <li class="experiment">
            <div class="exp-buttons">
                <button class="exp-apply" onclick={apply}
                    title={e.commands.iter().map(|c| c.describe()).collect::<Vec<_>>().join("; ")}>
                    if over {
                        { format!("↺ {} (from t = {})", e.title, seconds(e.at_ms)) }
                    } else {
                        { format!("▶ {}", e.title) }
                    }
                </button>
                if before && e.at_ms > 0 && !over {
                    <button class="exp-place" onclick={place}
                        title="run to the place the experiment is tested at, then apply it">
                        { format!("▶ at t = {}", seconds(e.at_ms)) }
                    </button>
                }
            </div>
            <p class="exp-look">{ format!("Look for: {}", e.look_for) }</p>
            { follow }
            { result }
        </li>
    }
}

/// The "What to try" list of the story column.
#[function_component(Experiments)]
pub fn experiments(props: &ExperimentsProps) -> Html {
    let tracker = use_mut_ref(Tracker::default);
    let redraw = use_force_update();
    let scenario = Rc::clone(&props.scenario);
    let snapshot = Rc::clone(&props.snapshot);
    tracker.borrow_mut().sync(&scenario, &snapshot);
    // Follow-ups fall due as the clock passes them.
    {
        let tracker = Rc::clone(&tracker);
        let dispatch = props.dispatch.clone();
        let snapshot = Rc::clone(&snapshot);
        use_effect_with(snapshot.time, move |_| {
            let due = tracker.borrow_mut().due(&snapshot);
            for c in due {
                dispatch.emit(Action::Apply(c));
            }
        });
    }
    if scenario.experiments.is_empty() {
        return html! {
            <section class="experiments" aria-label="Experiments">
                <p class="exp-none">{ "This scenario has no experiments: use the fault controls." }</p>
            </section>
        };
    }
    let on_apply = apply_callback(
        &tracker,
        &scenario,
        &snapshot,
        &props.dispatch,
        &redraw,
        false,
    );
    let on_place = apply_callback(
        &tracker,
        &scenario,
        &snapshot,
        &props.dispatch,
        &redraw,
        true,
    );
    // The run is over (nothing scheduled; not a run that has not started).
    let over = snapshot.idle && snapshot.time > SimTime::ZERO;
    let rows: Html = scenario
        .experiments
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let status = tracker.borrow_mut().observe(&scenario, i, &snapshot);
            experiment_row(
                i,
                e,
                status,
                snapshot.time,
                over,
                on_apply.clone(),
                on_place.clone(),
            )
        })
        .collect();
    html! {
        <section class="experiments" aria-label="Experiments">
            if over {
                <p class="exp-hint over" data-testid="exp-over">
                    { "The run is over, so an experiment applied now would show nothing. Each ↺ goes back to the time its experiment is tested at, applies it there and plays on (what came after is replaced)." }
                </p>
            } else {
                <p class="exp-hint">
                    { "Each ▶ applies the experiment's commands once: ▶ title now, ▶ at t = … after running to the time it is tested at. They join the command log and the share link." }
                </p>
            }
            <ol>{ rows }</ol>
        </section>
    }
}

fn apply_callback(
    tracker: &Rc<RefCell<Tracker>>,
    scenario: &Rc<Scenario>,
    snapshot: &Rc<Snapshot>,
    dispatch: &Callback<Action>,
    redraw: &UseForceUpdateHandle,
    to_place: bool,
) -> Callback<usize> {
    let tracker = Rc::clone(tracker);
    let scenario = Rc::clone(scenario);
    let snapshot = Rc::clone(snapshot);
    let dispatch = dispatch.clone();
    let redraw = redraw.clone();
    Callback::from(move |i: usize| {
        let Some(e) = scenario.experiments.get(i) else {
            return;
        };
        let mut place = None;
        let at = SimTime::from_ms(e.at_ms);
        // Forward to the experiment's time; or back to it when the run is over (nothing left
        // to happen at the end), then play on from there.
        let over = snapshot.idle && snapshot.time > SimTime::ZERO;
        let back = over && snapshot.time > at;
        if to_place && (snapshot.time < at || back) {
            dispatch.emit(Action::Seek {
                to_us: e.at_ms * 1_000,
            });
            place = Some(at);
        }
        let cmds = tracker
            .borrow_mut()
            .start_at(&scenario, i, &snapshot, place);
        for c in cmds {
            dispatch.emit(Action::Apply(c));
        }
        if to_place && back {
            dispatch.emit(Action::Play);
        }
        redraw.force_update();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, to_ms: u64) -> (Rc<Scenario>, msgsim::Simulation) {
        let s = Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
        let mut sim = msgsim::Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(to_ms), u64::MAX);
        (Rc::new(s), sim)
    }

    #[test]
    fn an_applied_experiment_is_evaluated_and_its_follow_ups_fall_due() {
        // outbox-polling's first experiment: arm the failpoint at 5 s, restart the relay 600 ms
        // later; the relay republishes.
        let (s, mut sim) = run("outbox-polling", 5_000);
        let mut t = Tracker::default();
        let cmds = t.start(&s, 0, &sim.snapshot());
        assert_eq!(
            cmds.iter().map(Command::describe).collect::<Vec<_>>(),
            ["arm_crash order-relay#0 at after_publish"]
        );
        for c in cmds {
            sim.apply(c).unwrap();
        }
        let (eval, met) = t.observe(&s, 0, &sim.snapshot()).unwrap();
        assert_eq!(
            (eval.met, eval.actual.as_str(), met),
            (false, "+0 (1 → 1)", None)
        );
        sim.run_until(SimTime::from_ms(5_500), u64::MAX);
        assert!(t.due(&sim.snapshot()).is_empty(), "not due before 5.6 s");
        sim.run_until(SimTime::from_ms(5_600), u64::MAX);
        let due = t.due(&sim.snapshot());
        assert_eq!(
            due.iter().map(Command::describe).collect::<Vec<_>>(),
            ["restart order-relay#0"]
        );
        assert!(t.due(&sim.snapshot()).is_empty(), "handed out once");
        for c in due {
            sim.apply(c).unwrap();
        }
        sim.run_until(SimTime::from_ms(7_000), u64::MAX);
        let (eval, met) = t.observe(&s, 0, &sim.snapshot()).unwrap();
        assert_eq!(
            (eval.met, eval.expected.as_str(), eval.actual.as_str()),
            (
                true,
                "republished of relay order-relay rises by ≥ 1",
                "+1 (1 → 2)"
            )
        );
        assert_eq!(met, Some(SimTime::from_ms(7_000)));
        // Not applied: nothing to show.
        assert!(t.observe(&s, 1, &sim.snapshot()).is_none());
    }

    #[test]
    fn moving_back_before_the_click_or_switching_scenario_forgets_it() {
        let (s, sim) = run("order-events", 2_000);
        let mut t = Tracker::default();
        t.start(&s, 1, &sim.snapshot());
        assert_eq!(t.applied.len(), 1);
        let (_, early) = run("order-events", 1_000);
        t.sync(&s, &early.snapshot());
        assert!(t.applied.is_empty());
        t.start(&s, 1, &sim.snapshot());
        let (other, o) = run("one-way-notification", 2_000);
        t.sync(&other, &o.snapshot());
        assert!(t.applied.is_empty());
        assert_eq!(t.scenario, "one-way-notification");
        assert!(t.start(&other, 99, &o.snapshot()).is_empty());
    }

    #[test]
    fn after_the_run_is_over_an_experiment_goes_back_to_its_time() {
        // grade3 finding 5: order-events is over at 16.6 s; its first experiment is tested at
        // its own time, not at the end where nothing is left to happen.
        let (s, end) = run("order-events", 60_000);
        let end = end.snapshot();
        assert!(end.idle, "order-events is over by 60 s");
        let e = &s.experiments[0];
        let at = SimTime::from_ms(e.at_ms);
        assert!(end.time > at, "{} vs {}", end.time, at);
        let mut t = Tracker::default();
        let cmds = t.start_at(&s, 0, &end, Some(at));
        assert_eq!(cmds.len(), e.commands.len());
        assert!(t.applied[0].measure_later && t.applied[0].baseline.at == at);
        // Back at `at` (the page's seek), the applied experiment is kept and measured there.
        let (_, mut back) = run("order-events", e.at_ms);
        t.sync(&s, &back.snapshot());
        assert_eq!(t.applied.len(), 1, "kept after the move back");
        for c in cmds {
            back.apply(c).unwrap();
        }
        let (eval, _) = t.observe(&s, 0, &back.snapshot()).unwrap();
        assert!(
            !eval.met,
            "nothing happened yet at the click: {}",
            eval.actual
        );
        back.run_until(SimTime::from_ms(60_000), u64::MAX);
        let (eval, met) = t.observe(&s, 0, &back.snapshot()).unwrap();
        assert_eq!((eval.met, eval.actual.as_str()), (true, "✗ at t=3.328 s"));
        assert!(met.is_some());
    }

    #[test]
    fn seconds_are_short() {
        assert_eq!(seconds(5_000), "5 s");
        assert_eq!(seconds(2_500), "2.5 s");
    }
}
