//! The playground's one reducer: it owns the simulation, turns actions (frames, buttons, fault
//! inputs) into engine calls, and derives what the components draw (snapshot, log tail, falling
//! sprites, explanations).
//!
//! No browser calls here: real time comes in with the actions (`real_ms`), so the whole state
//! machine also runs natively in tests.

#[cfg(feature = "full")]
use crate::explain::Explainer;
use crate::explain::{tone_of, Sentence, Tone};
use crate::format::{self, LinkField};
use crate::geometry::{Layout, Point};
use msgsim::network::{Direction, DropReason};
use msgsim::replay::{Progress, ReplayError, Target};
use msgsim::scenario::Scenario;
use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
use msgsim::trace::{PacketKind, TraceKind};
use msgsim::{Command, MessageId, SimTime, Simulation, Snapshot};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use yew::Reducible;

/// Engine events handled per animation frame at most (the engine falls behind real time rather
/// than freezing the page).
pub const MAX_EVENTS_PER_FRAME: u64 = 20_000;
/// Lines kept in the event log.
pub const LOG_LINES: usize = 200;
/// How long a dropped message's "falling" sprite stays, in real ms.
pub const FALL_MS: f64 = 700.0;
/// Falling sprites shown at once at most.
pub const MAX_FALLING: usize = 60;
/// A real-time gap between two frames longer than this (a background tab) counts as this much.
pub const MAX_FRAME_GAP_MS: f64 = 250.0;
/// Virtual time the "advance" button runs.
pub const ADVANCE_MS: u64 = 1_000;

/// Where the scenario came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A built-in scenario (`msgsim::scenarios::BUILTIN`).
    Builtin(&'static str),
    /// An uploaded file (its file name).
    Uploaded(String),
}

/// What the page starts with.
#[derive(Clone, Debug, PartialEq)]
pub struct AppInit {
    /// Built-in scenario name.
    pub scenario: &'static str,
    /// Seed.
    pub seed: u64,
    /// Embed mode: canvas and transport only.
    pub embed: bool,
    /// Problems found in the URL, one sentence each.
    pub errors: Vec<String>,
    /// A shared run from the URL (`?run=`), opened at its place (see [`crate::share`]).
    pub run: Option<Box<msgsim::share::SharedRun>>,
}

impl AppInit {
    /// The defaults: first built-in scenario, its seed.
    pub fn builtin(scenario: &'static str, seed: u64) -> AppInit {
        AppInit {
            scenario,
            seed,
            embed: false,
            errors: Vec::new(),
            run: None,
        }
    }
}

impl From<format::StartChoice> for AppInit {
    fn from(c: format::StartChoice) -> AppInit {
        AppInit {
            scenario: c.scenario,
            seed: c.seed,
            embed: c.embed,
            errors: c.errors,
            run: None,
        }
    }
}

/// A line of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Trace position (key).
    pub seq: u64,
    /// `Display` of the event.
    pub text: String,
    /// Colour.
    pub tone: Tone,
}

/// A dropped message falling off its lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Falling {
    /// Transit id (key).
    pub transit: u64,
    /// Where it was dropped.
    pub at: Point,
    /// `event`, `command`, `ack`... as in [`msgsim::snapshot::TransitView::kind`], when known.
    pub kind: &'static str,
    /// Why.
    pub reason: DropReason,
    /// Real time it started falling.
    pub born_ms: f64,
}

/// What is highlighted on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A link, by index.
    Link(usize),
    /// A node, by index.
    Node(usize),
    /// A message, by id (a click on an arrow of the sequence diagram): its arrows are
    /// highlighted and the message inspector picks it.
    Message(MessageId),
}

/// Link commands of the fault panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkOp {
    /// Partition both ways.
    Partition,
    /// Partition in the selected direction (a → b for "both").
    PartitionOneway,
    /// Repair.
    Repair,
    /// Repair in the selected direction only (a → b for "both"; turmoil `repair_oneway`).
    RepairOneway,
    /// Hold.
    Hold,
    /// Release.
    Release,
}

/// Instance commands of the fault panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeOp {
    /// Crash.
    Crash,
    /// Restart.
    Restart,
    /// Pause.
    Pause,
    /// Resume.
    Resume,
}

/// Everything the UI can ask.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// An animation frame at real time `real_ms` (ms, `performance.now()` clock).
    Frame {
        /// Real time.
        real_ms: f64,
    },
    /// Start the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// Handle exactly one engine event.
    Step {
        /// Real time (for falling sprites).
        real_ms: f64,
    },
    /// Run `virtual_ms` of virtual time at once.
    Advance {
        /// Virtual ms.
        virtual_ms: u64,
        /// Real time.
        real_ms: f64,
    },
    /// Rebuild from the scenario and the seed, without commands.
    Reset,
    /// Set the speed factor.
    SetSpeed(f64),
    /// The seed input changed.
    SetSeedText(String),
    /// Pick a built-in scenario (by name).
    LoadBuiltin(String),
    /// Switch back to the uploaded scenario.
    LoadUploaded,
    /// An uploaded file's text (or the error reading it).
    Upload {
        /// File name.
        file: String,
        /// Its text, or why it could not be read.
        text: Result<String, String>,
    },
    /// Highlight something (a click on the canvas).
    Select(Selection),
    /// The link picked in the fault panel.
    SelectLink(usize),
    /// Direction for link edits.
    SelectDirection(Direction),
    /// The node picked in the fault panel.
    SelectNode(usize),
    /// The instance picked in the fault panel.
    SelectInstance(u32),
    /// A fault input changed.
    SetLinkField {
        /// Which.
        field: LinkField,
        /// What was typed.
        raw: String,
    },
    /// A link button.
    Link(LinkOp),
    /// An instance button.
    Node(NodeOp),
    /// Any engine command from the fault panel (relay stop, rejected publishes, failpoints),
    /// applied at the current virtual time.
    Apply(Command),
    /// Move the run to virtual time `to_us` (µs), earlier or later, keeping the user's commands:
    /// the run is replayed from the seed and the command log (commands after the target are
    /// forgotten once the user changes the past), starting from the timeline's latest checkpoint
    /// at or before the target. Pauses the clock.
    Seek {
        /// Target virtual time, µs.
        to_us: u64,
    },
    /// Go back exactly one engine event (replayed from the seed and the command log). Pauses.
    StepBack,
    /// Open a shared run (a link, a run file, a host page's `load`): its scenario and seed, its
    /// commands at their places, at its time. Pauses. Nothing changes if it does not build.
    LoadRun {
        /// The run.
        run: Box<msgsim::share::SharedRun>,
        /// Where it came from (where its errors are shown).
        origin: RunOrigin,
    },
    /// Stop the long work in progress (a seek or the replay of a shared run spread over
    /// animation frames, [`Work`]): the run stays where the work got to, and says so.
    CancelWork,
    /// Bookmark the current virtual time (at most [`MAX_UI_BOOKMARKS`]; the oldest goes).
    AddBookmark,
    /// Seek to a bookmark, by name.
    JumpBookmark(String),
    /// Remove a bookmark, by name.
    RemoveBookmark(String),
    /// Reopen the run kept in [`Playground::previous`] exactly (scenario, seed, commands, time);
    /// the run shown now is kept in its place if it has commands.
    RestorePrevious,
    /// Forget [`Playground::previous`].
    ForgetPrevious,
}

/// Where a shared run came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOrigin {
    /// The page URL (`?run=`): problems go to the URL banner.
    Url,
    /// An uploaded file (its name): problems go to the upload error.
    File(String),
    /// A host page (`postMessage`, embed mode): problems go to the upload error, which the
    /// widget reports to the host.
    Host,
    /// The previous run, restored (its scenario's file name, or `previous run`): problems go to
    /// the upload error.
    Restored(String),
}

/// What a long piece of work is for.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkKind {
    /// A seek (the scrubber, a bookmark, a host's `seek`).
    Seek,
    /// Opening a shared run at its place: where its problems go, and its handled-event count
    /// when the place is between two events of one virtual time.
    Load {
        /// Where the run came from.
        origin: RunOrigin,
        /// `SharedRun::events`.
        place_events: Option<u64>,
    },
}

/// Long work spread over animation frames: running the engine towards `target` at most
/// [`WORK_SLICE_MS`] of real time (and [`WORK_SLICE_MAX_EVENTS`] events) per frame, so the page
/// stays responsive however far the target; [`Action::CancelWork`] stops it where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Work {
    /// What for.
    pub kind: WorkKind,
    /// Virtual time where it started (µs).
    pub from: SimTime,
    /// Virtual time it goes to (µs).
    pub target: SimTime,
    /// Virtual time reached so far (µs).
    pub now: SimTime,
    /// Engine events handled so far.
    pub events: u64,
    /// Most engine events it may handle (it stops short beyond, and says so).
    pub max_events: u64,
    /// Real time it started at (ms, `performance.now()`; 0 natively).
    pub started_ms: f64,
}

impl Work {
    /// Done so far, 0.0 to 1.0: the larger of the virtual-time and the event-budget fractions.
    pub fn progress(&self) -> f64 {
        let span = self.target.0.saturating_sub(self.from.0).max(1) as f64;
        let by_time = self.now.0.saturating_sub(self.from.0) as f64 / span;
        let by_events = self.events as f64 / self.max_events.max(1) as f64;
        by_time.max(by_events).clamp(0.0, 1.0)
    }
}

/// Real time one slice of long work may take per animation frame, ms (a task of about this
/// much keeps the page responsive).
pub const WORK_SLICE_MS: f64 = 25.0;
/// Engine events one slice of long work handles at most (bounds a slice where there is no real
/// clock, natively).
pub const WORK_SLICE_MAX_EVENTS: u64 = 25_000;
/// Engine events between two looks at the real clock within a slice (a few ms of work in a
/// browser even for a busy scenario).
const WORK_CHUNK_EVENTS: u64 = 200;

/// Bookmarks kept at most; adding one more removes the oldest.
pub const MAX_UI_BOOKMARKS: usize = 20;
/// Command markers kept for the scrubber (the latest ones of the command log).
pub const MAX_COMMAND_MARKERS: usize = 200;
/// Trace events re-read into the event log and the explanations after a seek (the newest ones).
pub const RESYNC_EVENTS: u64 = 2_000;

/// A bookmark on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bookmark {
    /// Its name (`B1`, `B2`...: the order they were made in).
    pub name: String,
    /// Virtual time, µs.
    pub at: SimTime,
}

/// A user command on the timeline, for its marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandMark {
    /// Virtual time it was applied at, µs.
    pub at: SimTime,
    /// One-line description.
    pub text: String,
}

/// What the scrubber draws besides the current time: the recorded history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineMarks {
    /// Virtual times of the checkpoints kept (a seek restores the latest one before its target).
    pub checkpoints: Vec<SimTime>,
    /// The latest [`MAX_COMMAND_MARKERS`] commands of the whole log, also those after the current
    /// time after a seek back (they apply again when the run passes them).
    pub commands: Vec<CommandMark>,
    /// Bookmarks, by time.
    pub bookmarks: Vec<Bookmark>,
    /// Checkpoint interval now (it doubles when checkpoints are thinned), µs.
    pub interval_hint: SimTime,
}

/// Whether the story panes are fed: the explanations and the event log's text lines. The lean
/// widget (built without the `full` feature) shows neither, so it leaves out the explainers and
/// the trace's text formatting.
const STORY: bool = cfg!(feature = "full");

/// The story's explainer: `Explainer` in the full build. The lean widget has [`NoStory`], a
/// type with no values, so neither the explainers nor their drop code are linked.
#[cfg(feature = "full")]
type StoryExplainer = Explainer;
#[cfg(not(feature = "full"))]
type StoryExplainer = NoStory;

/// The story explainer of the lean widget: no value of it exists ([`STORY`] is false there).
#[cfg(not(feature = "full"))]
#[derive(Debug)]
pub enum NoStory {}

#[cfg(not(feature = "full"))]
impl NoStory {
    fn feed(&mut self, _ev: &msgsim::TraceEvent) {
        match *self {}
    }
    fn sentences(&self) -> std::iter::Empty<&Sentence> {
        match *self {}
    }
    fn older_folded(&self) -> u64 {
        match *self {}
    }
}

/// A fresh story explainer for `scenario` (`None` in the lean widget).
fn story_explainer(scenario: &Scenario) -> Option<StoryExplainer> {
    #[cfg(feature = "full")]
    {
        Some(Explainer::new(scenario))
    }
    #[cfg(not(feature = "full"))]
    {
        let _ = scenario;
        None
    }
}

/// The engine and the bookkeeping that must not be cloned per frame.
#[derive(Debug)]
pub struct Engine {
    /// The simulation with its history: checkpoints every 5 s of virtual time (thinned beyond
    /// 64) and the whole command log (also commands after the current time once the user seeked
    /// back; a new command applied in the past replaces the ones after it).
    pub timeline: Timeline,
    /// The story's explainer (`None` in the lean widget, see [`STORY`]).
    explainer: Option<StoryExplainer>,
    log_seq: u64,
    /// The last-seen copy of recent messages, for the inspector after they are processed.
    memo: crate::subsystems::message::MessageMemo,
    /// Bookmarks, by time; at most [`MAX_UI_BOOKMARKS`].
    bookmarks: Vec<Bookmark>,
    /// Bookmarks made so far (names them).
    bookmarks_made: u64,
}

impl Engine {
    fn new(sim: Simulation, scenario: &Scenario) -> Engine {
        Engine {
            explainer: story_explainer(scenario),
            timeline: Timeline::new(sim, DEFAULT_CHECKPOINT_INTERVAL),
            log_seq: 0,
            memo: Default::default(),
            bookmarks: Vec::new(),
            bookmarks_made: 0,
        }
    }

    /// The simulation at the current position.
    pub fn sim(&self) -> &Simulation {
        self.timeline.current()
    }
}

/// A read-only handle on the running simulation for views that read more than the snapshot
/// (the trace, for the sequence diagram and the exports). Equal while the run is the same one
/// (it changes on a reset, a new seed or scenario).
#[derive(Clone, Debug)]
pub struct SimRef(Rc<RefCell<Engine>>);

impl SimRef {
    /// Borrow the simulation at the current position.
    pub fn with<R>(&self, f: impl FnOnce(&Simulation) -> R) -> R {
        f(self.0.borrow().sim())
    }

    /// The last-seen copy of message `id` ([`crate::subsystems::message::MessageMemo`]): the
    /// run's own while it holds the message, else the copy kept after it was processed.
    pub fn message(&self, id: msgsim::MessageId) -> Option<std::sync::Arc<msgsim::Message>> {
        let e = self.0.borrow();
        e.sim().message(id).or_else(|| e.memo.get(id))
    }
}

impl PartialEq for SimRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What the last seek (or step back) cost: shown under the scrubber.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeekInfo {
    /// Where the replay started: the checkpoint restored (µs), or the previous position for a
    /// seek forward.
    pub from: SimTime,
    /// Engine events replayed (not counted for a step back).
    pub events: Option<u64>,
    /// Real time it took, ms (`performance.now()`; 0 natively).
    pub real_ms: f64,
}

/// The playground state.
#[derive(Clone, Debug)]
pub struct Playground {
    engine: Rc<RefCell<Engine>>,
    /// The scenario being run.
    pub scenario: Rc<Scenario>,
    /// Where it came from.
    pub source: Source,
    /// An uploaded scenario kept for the picker.
    pub uploaded: Option<(String, Rc<Scenario>)>,
    /// Seed of the run.
    pub seed: u64,
    /// Embed mode.
    pub embed: bool,
    /// URL problems found at start.
    pub url_errors: Rc<Vec<String>>,
    /// Canvas layout of the scenario.
    pub layout: Rc<Layout>,
    /// State at the current virtual time.
    pub snapshot: Rc<Snapshot>,
    /// Commands applied so far, with their times (`sim.command_log()`).
    pub commands: Rc<Vec<msgsim::RecordedCommand>>,
    /// The furthest virtual time reached since the run started or history last branched (the
    /// scrubber's end), µs.
    pub horizon: SimTime,
    /// Checkpoints, command markers and bookmarks of the timeline.
    pub marks: Rc<TimelineMarks>,
    /// The cost of the last seek or step back (until the run is rebuilt).
    pub last_seek: Option<SeekInfo>,
    /// The tail of the trace.
    pub log: Rc<VecDeque<LogLine>>,
    /// Sentences of the explain box, newest first.
    pub explanations: Rc<Vec<Sentence>>,
    /// Lines of the story dropped past [`crate::explain::MAX_SENTENCES`].
    pub explanations_older: u64,
    /// Dropped messages falling.
    pub falling: Rc<Vec<Falling>>,
    /// Whether the clock runs.
    pub playing: bool,
    /// Virtual seconds per real second.
    pub speed: f64,
    last_real_ms: Option<f64>,
    carry_us: f64,
    /// The last frame hit [`MAX_EVENTS_PER_FRAME`].
    pub capped: bool,
    /// Incremented by every action: the animation loop re-arms on it.
    pub version: u64,
    /// Highlighted on the canvas.
    pub selection: Option<Selection>,
    /// Fault panel: link.
    pub link: usize,
    /// Fault panel: direction.
    pub direction: Direction,
    /// Fault panel: node.
    pub node: usize,
    /// Fault panel: instance.
    pub instance: u32,
    /// A fault panel note (a value was clamped).
    pub fault_note: Option<String>,
    /// A fault panel error (not a number, or the engine refused the command).
    pub fault_error: Option<String>,
    /// The seed input's error.
    pub seed_error: Option<String>,
    /// The upload's error.
    pub upload_error: Option<String>,
    /// The last step found nothing scheduled.
    pub idle_note: bool,
    /// The last run the reader left while it had commands (another scenario or seed, Reset, a
    /// loaded run): one click restores it ([`Action::RestorePrevious`]).
    pub previous: Option<Rc<crate::subsystems::story::PreviousRun>>,
    /// Counts the runs built (each scenario or seed change, Reset, loaded run): a new value means
    /// the reader left a run (the address bar then adds a history entry).
    pub run_epoch: u64,
    /// Long work in progress (a seek or a replay spread over frames), if any.
    pub work: Option<Work>,
    /// What the last long work ended with when it did not reach its target (stopped at its
    /// bound or cancelled): one sentence; `None` once a new one starts.
    pub work_note: Option<String>,
}

fn builtin_scenario(name: &str) -> Option<(&'static str, Scenario)> {
    msgsim::scenarios::BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(n, j)| Scenario::from_json(j).ok().map(|s| (*n, s)))
}

/// A built-in scenario in the gallery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GalleryEntry {
    /// Scenario name (`order-events`).
    pub name: &'static str,
    /// Its title (the name when it has none).
    pub title: String,
}

/// The built-in scenarios grouped by the reference's sections, in gallery order: sections in
/// the order they first appear, scenarios in gallery order within each. A scenario without a
/// section goes under "Other".
pub fn builtin_gallery() -> Vec<(String, Vec<GalleryEntry>)> {
    let mut out: Vec<(String, Vec<GalleryEntry>)> = Vec::new();
    for (name, json) in msgsim::scenarios::BUILTIN {
        let s = Scenario::from_json(json).ok();
        let title = s
            .as_ref()
            .map(|s| s.title.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| name.to_string());
        let section = s
            .map(|s| s.section)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Other".into());
        let entry = GalleryEntry { name, title };
        match out.iter_mut().find(|(sec, _)| *sec == section) {
            Some((_, v)) => v.push(entry),
            None => out.push((section, vec![entry])),
        }
    }
    out
}

impl Playground {
    /// The state a page starts with. Never panics: if the requested built-in scenario does not
    /// build, the first one that does is used and the problem is reported.
    pub fn new(init: &AppInit) -> Playground {
        let mut errors = init.errors.clone();
        let mut chosen = builtin_scenario(init.scenario)
            .and_then(|(n, s)| Simulation::new(s.clone(), init.seed).ok().map(|_| (n, s)));
        if chosen.is_none() {
            errors.push(format!(
                "The built-in scenario `{}` could not be loaded; showing another one.",
                init.scenario
            ));
            chosen = msgsim::scenarios::names().find_map(builtin_scenario);
        }
        let (name, scenario) = chosen.unwrap_or_else(|| (init.scenario, minimal_scenario()));
        let sim = Simulation::new(scenario.clone(), init.seed)
            .or_else(|_| Simulation::new(minimal_scenario(), init.seed))
            .expect("the minimal scenario is valid");
        let scenario = Rc::new(sim.scenario().clone());
        let snapshot = Rc::new(sim.snapshot());
        let mut p = Playground {
            engine: Rc::new(RefCell::new(Engine::new(sim, &scenario))),
            horizon: SimTime::ZERO,
            marks: Rc::new(TimelineMarks::default()),
            last_seek: None,
            layout: Rc::new(Layout::new(&scenario)),
            scenario,
            source: Source::Builtin(name),
            uploaded: None,
            seed: init.seed,
            embed: init.embed,
            url_errors: Rc::new(errors),
            snapshot,
            commands: Rc::new(Vec::new()),
            log: Rc::new(VecDeque::new()),
            explanations: Rc::new(Vec::new()),
            explanations_older: 0,
            falling: Rc::new(Vec::new()),
            playing: false,
            speed: format::SPEED_DEFAULT,
            last_real_ms: None,
            carry_us: 0.0,
            capped: false,
            version: 0,
            selection: None,
            link: 0,
            direction: Direction::Both,
            node: 0,
            instance: 0,
            fault_note: None,
            fault_error: None,
            seed_error: None,
            upload_error: None,
            idle_note: false,
            previous: None,
            run_epoch: 0,
            work: None,
            work_note: None,
        };
        p.sync_marks();
        p.refresh(0.0);
        if let Some(run) = &init.run {
            p.load_run((**run).clone(), RunOrigin::Url);
        }
        p
    }

    /// Borrow the simulation (read only), e.g. for tests and the command log.
    pub fn with_sim<R>(&self, f: impl FnOnce(&Simulation) -> R) -> R {
        f(self.engine.borrow().sim())
    }

    /// A handle on the simulation for views that read its trace.
    pub fn sim_ref(&self) -> SimRef {
        SimRef(Rc::clone(&self.engine))
    }

    /// Borrow the timeline (read only): checkpoints, the whole command log.
    pub fn with_timeline<R>(&self, f: impl FnOnce(&Timeline) -> R) -> R {
        f(&self.engine.borrow().timeline)
    }

    /// The scenario's title, or its name when it has none (captions, snippets, history).
    pub fn scenario_title(&self) -> String {
        if self.scenario.title.is_empty() {
            self.scenario.name.clone()
        } else {
            self.scenario.title.clone()
        }
    }

    /// The built-in scenario name, if the scenario is a built-in one.
    pub fn builtin_name(&self) -> Option<&'static str> {
        match self.source {
            Source::Builtin(n) => Some(n),
            Source::Uploaded(_) => None,
        }
    }

    /// Whether the animation loop should run: while playing, and while sprites still fall.
    pub fn wants_frames(&self) -> bool {
        self.playing || !self.falling.is_empty() || self.work.is_some()
    }

    fn rebuild(&mut self, scenario: Rc<Scenario>, seed: u64) {
        match Simulation::new((*scenario).clone(), seed) {
            Ok(sim) => {
                self.work = None;
                self.engine = Rc::new(RefCell::new(Engine::new(sim, &scenario)));
                if !Rc::ptr_eq(&self.scenario, &scenario) {
                    self.layout = Rc::new(Layout::new(&scenario));
                    self.selection = None;
                    self.link = 0;
                    self.node = 0;
                    self.instance = 0;
                    self.direction = Direction::Both;
                }
                self.scenario = scenario;
                self.seed = seed;
                self.log = Rc::new(VecDeque::new());
                self.falling = Rc::new(Vec::new());
                self.explanations = Rc::new(Vec::new());
                self.explanations_older = 0;
                self.carry_us = 0.0;
                self.last_real_ms = None;
                self.fault_note = None;
                self.fault_error = None;
                self.idle_note = false;
                self.capped = false;
                self.horizon = SimTime::ZERO;
                self.last_seek = None;
                self.run_epoch = self.run_epoch.wrapping_add(1);
                self.sync_marks();
                self.refresh(0.0);
            }
            Err(e) => {
                // Only reachable for a scenario that validated before; say so, change nothing.
                self.upload_error = Some(format!("Could not rebuild the scenario: {e}"));
            }
        }
    }

    /// Reads what happened since the last call: log lines, falling sprites, explanations, and a
    /// fresh snapshot.
    fn refresh(&mut self, real_ms: f64) {
        let prev = Rc::clone(&self.snapshot);
        let mut engine = self.engine.borrow_mut();
        let Engine {
            timeline,
            explainer,
            log_seq,
            memo,
            ..
        } = &mut *engine;
        let sim = timeline.current();
        let total = sim.trace().len_total();
        let new = total.saturating_sub(*log_seq);
        if new > 0 {
            let log = Rc::make_mut(&mut self.log);
            let falling = Rc::make_mut(&mut self.falling);
            let skip_log = new.saturating_sub(LOG_LINES as u64);
            for (i, ev) in sim.trace().since(*log_seq).enumerate() {
                // (`STORY` first: a constant, so the lean build drops the explainers' code.)
                if let (true, Some(explainer)) = (STORY, explainer.as_mut()) {
                    explainer.feed(ev);
                }
                if let TraceKind::Drop {
                    transit,
                    from,
                    to,
                    reason,
                    packet,
                    ..
                } = &ev.what
                {
                    // Fated drops stop half way, a crashed receiver drops at its door, an
                    // overflow never leaves.
                    let progress = match reason {
                        DropReason::Loss | DropReason::Partition => 0.5,
                        DropReason::NodeDown => 1.0,
                        DropReason::Overflow => 0.0,
                    };
                    if let Some(at) = self.layout.position(&from.node, &to.node, progress) {
                        let kind = match packet {
                            PacketKind::Ack | PacketKind::PublishAck => "ack",
                            _ => prev
                                .in_flight
                                .binary_search_by_key(transit, |t| t.id)
                                .ok()
                                .map_or("message", |k| prev.in_flight[k].kind),
                        };
                        if falling.len() >= MAX_FALLING {
                            falling.remove(0);
                        }
                        falling.push(Falling {
                            transit: *transit,
                            at,
                            kind,
                            reason: *reason,
                            born_ms: real_ms,
                        });
                    }
                }
                if STORY && (i as u64) >= skip_log {
                    if log.len() >= LOG_LINES {
                        log.pop_front();
                    }
                    log.push_back(LogLine {
                        seq: ev.seq,
                        text: ev.to_string(),
                        tone: tone_of(&ev.what),
                    });
                }
            }
            *log_seq = total;
            memo.observe(sim);
            if let (true, Some(explainer)) = (STORY, explainer.as_ref()) {
                self.explanations = Rc::new(explainer.sentences().cloned().collect());
                self.explanations_older = explainer.older_folded();
            }
        }
        if sim.command_log().len() != self.commands.len() {
            self.commands = Rc::new(sim.command_log().to_vec());
        }
        self.snapshot = Rc::new(sim.snapshot());
        self.horizon = self.horizon.max(timeline.horizon());
        // A checkpoint is taken every few seconds of virtual time: compare the count and the last.
        let cps = &self.marks.checkpoints;
        let changed = timeline.checkpoint_times().len() != cps.len()
            || timeline.checkpoint_times().last() != cps.last();
        if changed {
            let marks = Rc::make_mut(&mut self.marks);
            marks.checkpoints = timeline.checkpoint_times();
            marks.interval_hint = interval_of(&marks.checkpoints);
        }
    }

    /// Recomputes the scrubber's marks (checkpoints, command markers, bookmarks) from the
    /// timeline: after a command, a bookmark change or a rebuild.
    fn sync_marks(&mut self) {
        let e = self.engine.borrow();
        let tl = &e.timeline;
        let log = tl.log();
        let from = log.len().saturating_sub(MAX_COMMAND_MARKERS);
        let bookmarks = e.bookmarks.clone();
        let checkpoints = tl.checkpoint_times();
        let interval_hint = interval_of(&checkpoints);
        self.marks = Rc::new(TimelineMarks {
            checkpoints,
            commands: log[from..]
                .iter()
                .map(|c| CommandMark {
                    at: c.at,
                    text: c.command.describe(),
                })
                .collect(),
            bookmarks,
            interval_hint,
        });
    }

    /// After the position jumped (seek, step back): the event log, the explanations and the
    /// falling sprites start again from the newest [`RESYNC_EVENTS`] trace events.
    fn resync(&mut self) {
        {
            let mut e = self.engine.borrow_mut();
            e.explainer = story_explainer(&self.scenario);
            let total = e.sim().trace().len_total();
            e.log_seq = total.saturating_sub(RESYNC_EVENTS);
        }
        self.log = Rc::new(VecDeque::new());
        self.explanations = Rc::new(Vec::new());
        self.explanations_older = 0;
        self.playing = false;
        self.last_real_ms = None;
        self.carry_us = 0.0;
        self.capped = false;
        self.idle_note = false;
        self.refresh(0.0);
        // Drops that happened before the jump do not fall again.
        self.falling = Rc::new(Vec::new());
    }

    fn expire_falling(&mut self, real_ms: f64) {
        // (A frame's timestamp may be a little older than the click that created a sprite.)
        if self.falling.iter().any(|f| real_ms - f.born_ms > FALL_MS) {
            Rc::make_mut(&mut self.falling).retain(|f| real_ms - f.born_ms <= FALL_MS);
        }
    }

    fn run_virtual_us(&mut self, us: u64, real_ms: f64) {
        {
            let mut e = self.engine.borrow_mut();
            let target = e.sim().now().plus_us(us);
            let out = e.timeline.run_until(target, MAX_EVENTS_PER_FRAME);
            self.capped = !out.reached;
        }
        self.refresh(real_ms);
    }

    fn frame(&mut self, real_ms: f64) {
        if self.work.is_some() {
            self.continue_work();
        }
        if self.playing {
            let dt = match self.last_real_ms {
                Some(last) if real_ms > last => (real_ms - last).min(MAX_FRAME_GAP_MS),
                _ => 0.0,
            };
            self.last_real_ms = Some(real_ms);
            self.carry_us += dt * 1_000.0 * self.speed;
            let whole = self.carry_us.floor();
            self.carry_us -= whole;
            self.run_virtual_us(whole as u64, real_ms);
            // The run is over (nothing scheduled): the clock stops instead of running on idle.
            if self.snapshot.idle && self.work.is_none() {
                self.playing = false;
                self.last_real_ms = None;
                self.carry_us = 0.0;
            }
        }
        self.expire_falling(real_ms);
    }

    fn apply(&mut self, cmd: Command) {
        let result = {
            let mut e = self.engine.borrow_mut();
            let at = e.sim().now();
            let r = e.timeline.apply(cmd);
            if r.is_ok() {
                e.memo.branch_at(at);
            }
            r
        };
        match result {
            Ok(()) => {
                // History branches here: what came after is gone.
                self.horizon = self.snapshot.time;
                self.fault_error = None;
            }
            Err(e) => self.fault_error = Some(format!("Not applied: {e}.")),
        }
        self.sync_marks();
        let now = self.last_real_ms.unwrap_or(0.0);
        self.refresh(now);
    }

    /// The selected link's names `(a, b)`.
    pub fn selected_link(&self) -> Option<(&str, &str)> {
        self.scenario
            .links
            .get(self.link)
            .map(|l| (l.a.as_str(), l.b.as_str()))
    }

    fn set_link_field(&mut self, field: LinkField, raw: &str) {
        self.fault_note = None;
        let clamped = match format::clamp_field(field, raw) {
            Ok(c) => c,
            Err(e) => {
                self.fault_error = Some(e);
                return;
            }
        };
        let Some(view) = self.snapshot.links.get(self.link).cloned() else {
            self.fault_error = Some("No link is selected.".into());
            return;
        };
        let (a, b) = (view.a.clone(), view.b.clone());
        let set = |f| field.set(f, clamped.value);
        let commands = match self.direction {
            Direction::AToB => vec![(Direction::AToB, set(&view.a_to_b))],
            Direction::BToA => vec![(Direction::BToA, set(&view.b_to_a))],
            Direction::Both if view.a_to_b == view.b_to_a => {
                vec![(Direction::Both, set(&view.a_to_b))]
            }
            // The directions differ (say one is partitioned): change only this field in each.
            Direction::Both => vec![
                (Direction::AToB, set(&view.a_to_b)),
                (Direction::BToA, set(&view.b_to_a)),
            ],
        };
        for (direction, faults) in commands {
            self.apply(Command::SetLink {
                a: a.clone(),
                b: b.clone(),
                direction,
                faults,
            });
        }
        self.fault_note = clamped.note;
    }

    fn link_op(&mut self, op: LinkOp) {
        let Some((a, b)) = self
            .selected_link()
            .map(|(a, b)| (a.to_string(), b.to_string()))
        else {
            self.fault_error = Some("No link is selected.".into());
            return;
        };
        self.fault_note = None;
        let cmd = match op {
            LinkOp::Partition => Command::Partition { a, b },
            LinkOp::PartitionOneway => match self.direction {
                Direction::BToA => Command::PartitionOneway { a: b, b: a },
                _ => Command::PartitionOneway { a, b },
            },
            LinkOp::Repair => Command::Repair { a, b },
            LinkOp::RepairOneway => match self.direction {
                Direction::BToA => Command::RepairOneway { a: b, b: a },
                _ => Command::RepairOneway { a, b },
            },
            LinkOp::Hold => Command::Hold { a, b },
            LinkOp::Release => Command::Release { a, b },
        };
        self.apply(cmd);
    }

    fn node_op(&mut self, op: NodeOp) {
        let Some(node) = self.scenario.nodes.get(self.node).map(|n| n.name.clone()) else {
            self.fault_error = Some("No node is selected.".into());
            return;
        };
        self.fault_note = None;
        let instance = self.instance;
        let cmd = match op {
            NodeOp::Crash => Command::Crash { node, instance },
            NodeOp::Restart => Command::Restart { node, instance },
            NodeOp::Pause => Command::Pause { node, instance },
            NodeOp::Resume => Command::Resume { node, instance },
        };
        self.apply(cmd);
    }

    /// Applies one action (the reducer, on a mutable copy).
    pub fn act(&mut self, action: Action) {
        self.version = self.version.wrapping_add(1);
        let touches_run = !matches!(
            action,
            Action::Frame { .. }
                | Action::SetSpeed(_)
                | Action::Select(_)
                | Action::SelectLink(_)
                | Action::SelectDirection(_)
                | Action::SelectNode(_)
                | Action::SelectInstance(_)
                | Action::SetLinkField { .. }
                | Action::RemoveBookmark(_)
        );
        if touches_run && self.work.is_some() {
            // Whatever touches the run first stops the work in progress where it is.
            self.finish_work(true, None);
        }
        // A run with commands that this action replaces stays restorable.
        let leaving = matches!(
            action,
            Action::Reset
                | Action::LoadBuiltin(_)
                | Action::LoadUploaded
                | Action::SetSeedText(_)
                | Action::Upload { .. }
                | Action::LoadRun { .. }
                | Action::RestorePrevious
        );
        let kept = (leaving && !self.commands.is_empty())
            .then(|| Rc::new(crate::subsystems::story::PreviousRun::of(self)));
        let epoch = self.run_epoch;
        self.act_inner(action);
        if self.run_epoch != epoch && kept.is_some() {
            self.previous = kept;
        }
    }

    fn act_inner(&mut self, action: Action) {
        match action {
            Action::CancelWork => {}
            Action::RestorePrevious => {
                if let Some(prev) = self.previous.take() {
                    let label = prev.file.clone().unwrap_or_else(|| "previous run".into());
                    let epoch = self.run_epoch;
                    self.load_run(prev.run.clone(), RunOrigin::Restored(label));
                    if self.run_epoch == epoch {
                        // It did not open (the error says why): keep it.
                        self.previous = Some(prev);
                    }
                }
            }
            Action::ForgetPrevious => self.previous = None,
            Action::Frame { real_ms } => self.frame(real_ms),
            Action::Play => {
                if !self.playing {
                    self.playing = true;
                    self.last_real_ms = None;
                    self.idle_note = false;
                }
            }
            Action::Pause => {
                self.playing = false;
                self.last_real_ms = None;
            }
            Action::Step { real_ms } => {
                self.playing = false;
                self.last_real_ms = None;
                let stepped = self.engine.borrow_mut().timeline.step();
                self.idle_note = stepped.is_none();
                self.refresh(real_ms);
            }
            Action::Advance {
                virtual_ms,
                real_ms,
            } => {
                self.run_virtual_us(virtual_ms.saturating_mul(1_000), real_ms);
            }
            Action::Reset => {
                let scenario = Rc::clone(&self.scenario);
                self.rebuild(scenario, self.seed);
            }
            Action::Seek { to_us } => self.seek(SimTime(to_us)),
            Action::StepBack => {
                let started = crate::web::real_now();
                let (back, info) = {
                    let mut e = self.engine.borrow_mut();
                    // The checkpoint it restores is at or before the current time.
                    let from = checkpoint_before(&e.timeline, e.sim().now());
                    let back = e.timeline.step_back();
                    let info = SeekInfo {
                        from,
                        events: None,
                        real_ms: 0.0,
                    };
                    (back, info)
                };
                if back {
                    self.last_seek = Some(SeekInfo {
                        real_ms: crate::web::real_now() - started,
                        ..info
                    });
                    self.resync();
                } else {
                    self.playing = false;
                    self.idle_note = false;
                }
            }
            Action::AddBookmark => self.add_bookmark(),
            Action::JumpBookmark(name) => {
                let at = self
                    .engine
                    .borrow()
                    .bookmarks
                    .iter()
                    .find(|b| b.name == name)
                    .map(|b| b.at);
                if let Some(at) = at {
                    self.seek(at);
                }
            }
            Action::RemoveBookmark(name) => {
                self.engine
                    .borrow_mut()
                    .bookmarks
                    .retain(|b| b.name != name);
                self.sync_marks();
            }
            Action::SetSpeed(s) => {
                if s.is_finite() {
                    self.speed = s.clamp(format::SPEED_MIN, format::SPEED_MAX);
                }
            }
            Action::SetSeedText(text) => match format::parse_seed(&text) {
                Ok(seed) => {
                    self.seed_error = None;
                    if seed != self.seed {
                        let scenario = Rc::clone(&self.scenario);
                        self.rebuild(scenario, seed);
                    }
                }
                Err(e) => {
                    self.seed_error = Some(format!("{e} Keeping seed {}.", self.seed));
                }
            },
            Action::LoadBuiltin(name) => match builtin_scenario(&name) {
                Some((n, s)) => {
                    let seed = s.seed;
                    self.source = Source::Builtin(n);
                    self.seed_error = None;
                    self.rebuild(Rc::new(s), seed);
                }
                None => {
                    self.upload_error = Some(format!("There is no built-in scenario `{name}`."));
                }
            },
            Action::LoadUploaded => {
                if let Some((file, s)) = self.uploaded.clone() {
                    let seed = s.seed;
                    self.source = Source::Uploaded(file);
                    self.rebuild(s, seed);
                }
            }
            Action::Upload { file, text } => {
                // A run file (scenario, seed, commands, time) or a plain scenario file.
                let result = text.and_then(|t| crate::share::load_file_text(&t));
                match result {
                    Ok(run) => self.load_run(run, RunOrigin::File(file)),
                    Err(e) => {
                        self.upload_error = Some(format!(
                            "`{}` was not loaded (nothing changed): {e}",
                            format::shorten(&file, 60)
                        ));
                    }
                }
            }
            Action::Select(sel) => {
                self.selection = Some(sel);
                match sel {
                    Selection::Link(i) if i < self.scenario.links.len() => self.link = i,
                    Selection::Node(i) if i < self.scenario.nodes.len() => {
                        if self.node != i {
                            self.instance = 0;
                        }
                        self.node = i;
                    }
                    _ => {}
                }
            }
            Action::SelectLink(i) => {
                if i < self.scenario.links.len() {
                    self.link = i;
                    self.selection = Some(Selection::Link(i));
                }
            }
            Action::SelectDirection(d) => self.direction = d,
            Action::SelectNode(i) => {
                if i < self.scenario.nodes.len() {
                    self.node = i;
                    self.instance = 0;
                    self.selection = Some(Selection::Node(i));
                }
            }
            Action::SelectInstance(k) => {
                let count = self
                    .scenario
                    .nodes
                    .get(self.node)
                    .map_or(0, |n| n.instances);
                if k < count {
                    self.instance = k;
                }
            }
            Action::SetLinkField { field, raw } => self.set_link_field(field, &raw),
            Action::Link(op) => self.link_op(op),
            Action::Node(op) => self.node_op(op),
            Action::Apply(cmd) => {
                self.fault_note = None;
                self.apply(cmd);
            }
            Action::LoadRun { run, origin } => self.load_run(*run, origin),
        }
    }
}

impl Reducible for Playground {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.act(action);
        Rc::new(next)
    }
}

impl Playground {
    /// Moves the run to virtual time `t`: backward by restoring the timeline's latest checkpoint
    /// at or before `t` and replaying the recorded commands from there (at most one checkpoint
    /// interval of events), forward by running (at most [`SEEK_MAX_EVENTS`] events; the time
    /// shown says where it stopped). Pauses the clock.
    fn seek(&mut self, t: SimTime) {
        if t == self.snapshot.time {
            // Already there (the scrubber's release after a drag): keep the last seek's cost.
            self.playing = false;
            self.last_real_ms = None;
            return;
        }
        let started = crate::web::real_now();
        let from = {
            let mut e = self.engine.borrow_mut();
            let now = e.sim().now();
            let cp = checkpoint_before(&e.timeline, t);
            // Backward: restore the checkpoint (no event replayed to reach its own time); forward:
            // a checkpoint ahead (after a seek back) saves replaying up to it.
            if t < now || cp > now {
                e.timeline.seek(cp);
                cp
            } else {
                now
            }
        };
        self.playing = false;
        self.last_real_ms = None;
        self.work_note = None;
        self.work = Some(Work {
            kind: WorkKind::Seek,
            from,
            target: t,
            now: from,
            events: 0,
            max_events: SEEK_MAX_EVENTS,
            started_ms: started,
        });
        // The first slice now: a short seek ends in this action, as before.
        self.continue_work();
    }

    /// Runs one slice of the work in progress: engine events towards its target (through the
    /// engine's one replay path, `Timeline::seek_to` / `Timeline::advance`) until
    /// [`WORK_SLICE_MS`] of real time or [`WORK_SLICE_MAX_EVENTS`] events have passed; ends it
    /// when it reached its target or its bound, or the replay failed (the run does not fit a
    /// logged command or the shared place).
    fn continue_work(&mut self) {
        let Some(mut w) = self.work.take() else {
            return;
        };
        let slice_start = crate::web::real_now();
        let mut slice_events = 0u64;
        let mut failed = None;
        let reached = {
            let mut e = self.engine.borrow_mut();
            let target = match &w.kind {
                WorkKind::Seek => Target::Time(w.target),
                WorkKind::Load { place_events, .. } => Target::from_place(w.target, *place_events),
            };
            loop {
                let budget = WORK_CHUNK_EVENTS
                    .min(w.max_events.saturating_sub(w.events))
                    .min(WORK_SLICE_MAX_EVENTS - slice_events);
                if budget == 0 {
                    break false;
                }
                let before = e.sim().events_processed();
                let out = match w.kind {
                    WorkKind::Seek => e.timeline.seek_to(target, budget),
                    WorkKind::Load { .. } => e.timeline.advance(target, budget),
                };
                // (The seek was placed at its starting checkpoint before: no restore here.)
                let n = e.sim().events_processed().saturating_sub(before);
                w.events += n;
                slice_events += n;
                w.now = e.sim().now();
                match out {
                    Ok(Progress::Done) => break true,
                    Ok(Progress::Running { .. }) if n == 0 => break false,
                    Ok(Progress::Running { .. }) => {}
                    Err(why) => {
                        failed = Some(why);
                        break false;
                    }
                }
                if crate::web::real_now() - slice_start >= WORK_SLICE_MS {
                    break false;
                }
            }
        };
        let done = reached || failed.is_some() || w.events >= w.max_events;
        self.work = Some(w);
        if done {
            self.finish_work(false, failed);
        }
    }

    /// Ends the work in progress: `cancelled` by the user (or by another action), else because it
    /// reached its target or its bound, or the replay `failed`. Says where it stopped when that
    /// is short of the target.
    fn finish_work(&mut self, cancelled: bool, failed: Option<ReplayError>) {
        let Some(w) = self.work.take() else {
            return;
        };
        let now = crate::web::real_now();
        let (at, handled) = self.with_sim(|s| (s.now(), s.events_processed()));
        let shown = format::format_secs(at);
        let target = format::format_secs(w.target);
        let reached = match &w.kind {
            WorkKind::Seek => at >= w.target,
            WorkKind::Load { place_events, .. } => {
                at >= w.target && place_events.is_none_or(|n| handled == n)
            }
        };
        let short = !reached || cancelled || failed.is_some();
        match w.kind {
            WorkKind::Seek => {
                self.work_note = match (short, cancelled, &failed) {
                    (false, _, _) => None,
                    (true, true, _) => Some(format!(
                        "The seek to {target} was stopped at {shown} ({} engine events replayed).",
                        w.events
                    )),
                    (true, false, Some(why)) => {
                        Some(format!("The seek to {target} stopped at {shown}: {why}."))
                    }
                    (true, false, None) => Some(format!(
                        "The seek to {target} stopped at {shown}: it would take more than {} engine events.",
                        w.max_events
                    )),
                };
                self.last_seek = Some(SeekInfo {
                    from: w.from,
                    events: Some(w.events),
                    real_ms: now - w.started_ms,
                });
                self.resync();
            }
            WorkKind::Load { origin, .. } => {
                let problem = match (short, cancelled, failed) {
                    (false, _, _) => None,
                    (true, true, _) => Some(format!(
                        "The run was opened at {shown} only: replaying it to {target} was cancelled."
                    )),
                    (true, false, Some(why)) => {
                        Some(format!("The run was replayed up to {shown} only: {why}."))
                    }
                    (true, false, None) => Some(format!(
                        "The run was replayed up to {shown} only: reaching {target} takes more than {} engine events.",
                        w.max_events
                    )),
                };
                self.horizon = self.horizon.max(at);
                self.sync_marks();
                if let Some(text) = problem {
                    self.work_note = Some(text.clone());
                    match origin {
                        RunOrigin::Url => Rc::make_mut(&mut self.url_errors).push(text),
                        _ => self.upload_error = Some(text),
                    }
                }
                self.refresh(self.last_real_ms.unwrap_or(0.0));
            }
        }
    }

    fn add_bookmark(&mut self) {
        {
            let mut e = self.engine.borrow_mut();
            let now = e.sim().now();
            if e.bookmarks.iter().any(|b| b.at == now) {
                return;
            }
            if e.bookmarks.len() >= MAX_UI_BOOKMARKS {
                // The oldest: the smallest number in `B<n>`.
                let number = |b: &Bookmark| b.name.get(1..).and_then(|n| n.parse::<u64>().ok());
                if let Some(k) = (0..e.bookmarks.len()).min_by_key(|&k| number(&e.bookmarks[k])) {
                    e.bookmarks.remove(k);
                }
            }
            e.bookmarks_made += 1;
            let name = format!("B{}", e.bookmarks_made);
            let at = e.bookmarks.partition_point(|b| b.at <= now);
            e.bookmarks.insert(at, Bookmark { name, at: now });
        }
        self.sync_marks();
    }
}

impl Playground {
    /// Opens a shared run (see [`Action::LoadRun`]): checks that it builds first, so a bad one
    /// changes nothing but the error it leaves.
    fn load_run(&mut self, run: msgsim::share::SharedRun, origin: RunOrigin) {
        use msgsim::share::ScenarioRef;
        let label = match &origin {
            RunOrigin::Url => "shared link".to_string(),
            RunOrigin::File(f) => f.clone(),
            RunOrigin::Host => "host page".to_string(),
            RunOrigin::Restored(f) => f.clone(),
        };
        // Its fields and its declared cost first (`SharedRun::check`, `check_cost`): a run that
        // asks for more than the page replays is refused before anything changes.
        let resolved = run
            .check()
            .and_then(|_| run.check_cost(crate::share::LOAD_MAX_EVENTS))
            .map_err(|e| e.to_string())
            .and_then(|_| match &run.scenario {
                ScenarioRef::Builtin(name) => builtin_scenario(name)
                    .map(|(n, s)| (Source::Builtin(n), s))
                    .ok_or_else(|| {
                        format!(
                            "there is no built-in scenario `{}`",
                            format::shorten(name, 60)
                        )
                    }),
                ScenarioRef::Inline(s) => s
                    .validate()
                    .map(|_| (Source::Uploaded(label.clone()), (**s).clone()))
                    .map_err(|e| e.to_string()),
            })
            .and_then(|(source, s)| {
                Simulation::new(s.clone(), run.seed)
                    .map(|_| (source, s))
                    .map_err(|e| e.to_string())
            });
        let (source, scenario) = match resolved {
            Ok(ok) => ok,
            Err(e) => {
                let text = format!("The {label} was not opened (nothing changed): {e}");
                match origin {
                    RunOrigin::Url => Rc::make_mut(&mut self.url_errors).push(text),
                    _ => self.upload_error = Some(text),
                }
                return;
            }
        };
        let scenario = Rc::new(scenario);
        if matches!(source, Source::Uploaded(_)) {
            self.uploaded = Some((label.clone(), Rc::clone(&scenario)));
        }
        self.source = source;
        self.upload_error = None;
        self.seed_error = None;
        self.playing = false;
        self.rebuild(scenario, run.seed);
        let log = {
            let mut e = self.engine.borrow_mut();
            let fresh = e.sim().clone();
            Timeline::with_log(fresh, run.commands.clone(), DEFAULT_CHECKPOINT_INTERVAL)
                .map(|tl| e.timeline = tl)
        };
        if let Err(why) = log {
            // (Checked before anything changed too, by `SharedRun::check`.)
            let text = format!("The {label} was opened at its start only: {why}.");
            match origin {
                RunOrigin::Url => Rc::make_mut(&mut self.url_errors).push(text),
                _ => self.upload_error = Some(text),
            }
            self.refresh(self.last_real_ms.unwrap_or(0.0));
            return;
        }
        // The replay runs as long work: a slice now (a short run opens in this action), the
        // rest over the next animation frames, with a progress bar and a cancel.
        self.work_note = None;
        self.work = Some(Work {
            kind: WorkKind::Load {
                origin,
                place_events: run.events,
            },
            from: SimTime::ZERO,
            target: run.at,
            now: SimTime::ZERO,
            events: 0,
            max_events: crate::share::LOAD_MAX_EVENTS,
            started_ms: crate::web::real_now(),
        });
        self.continue_work();
    }
}

/// The checkpoint interval shown: between the last two checkpoints (it doubles when they are
/// thinned), the default before there are two.
fn interval_of(checkpoints: &[SimTime]) -> SimTime {
    match checkpoints {
        [.., a, b] => SimTime(b.0.saturating_sub(a.0)),
        _ => DEFAULT_CHECKPOINT_INTERVAL,
    }
}

/// The time of the latest checkpoint at or before `t` (the one `Timeline::seek` restores).
fn checkpoint_before(tl: &Timeline, t: SimTime) -> SimTime {
    tl.checkpoint_times()
        .into_iter()
        .rev()
        .find(|&c| c <= t)
        .unwrap_or(SimTime::ZERO)
}

/// Most events a seek replays (the run stops short beyond it; the time shown says where).
pub const SEEK_MAX_EVENTS: u64 = 20_000_000;

/// A one-node scenario, the last resort if no built-in scenario builds (never expected).
fn minimal_scenario() -> Scenario {
    Scenario::from_json(
        r#"{"name":"empty","title":"Empty","nodes":[{"name":"service","kind":"service"}]}"#,
    )
    .expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::network::LinkFaults;

    /// Order events with its workloads ×8, a message every 1 ms each, 10 000 000 times: the
    /// heavy inline scenario of the hostile links (issue 16).
    fn heavy_scenario() -> Scenario {
        let mut v: serde_json::Value =
            serde_json::from_str(msgsim::scenarios::get("order-events").unwrap()).unwrap();
        let mut all = Vec::new();
        for _ in 0..8 {
            for w in v["workloads"].as_array().unwrap() {
                let mut w = w.clone();
                w["every_ms"] = 1.into();
                w["count"] = 10_000_000.into();
                all.push(w);
            }
        }
        v["workloads"] = all.into();
        Scenario::from_json(&v.to_string()).unwrap()
    }

    fn heavy_run(at: SimTime, events: Option<u64>) -> Box<msgsim::share::SharedRun> {
        Box::new(msgsim::share::SharedRun {
            scenario: msgsim::share::ScenarioRef::Inline(Box::new(heavy_scenario())),
            seed: 1,
            commands: Vec::new(),
            at,
            events,
        })
    }

    #[test]
    fn a_far_seek_is_spread_over_frames_and_can_be_cancelled() {
        let mut p = fresh();
        p.act(Action::LoadRun {
            run: heavy_run(SimTime::ZERO, None),
            origin: RunOrigin::Host,
        });
        assert_eq!((p.work.clone(), p.upload_error.clone()), (None, None));
        // The 8 first sends at 0 s.
        let base = p.snapshot.events_processed;
        assert_eq!(base, 8);
        p.act(Action::Seek {
            to_us: 86_400_000_000,
        });
        // One slice in the action, one per frame; the page draws in between.
        let w = p.work.clone().expect("still seeking");
        assert_eq!((w.kind, w.events), (WorkKind::Seek, WORK_SLICE_MAX_EVENTS));
        assert!(p.wants_frames());
        p.act(Action::Frame { real_ms: 16.0 });
        let w = p.work.clone().expect("still seeking");
        assert_eq!(w.events, 2 * WORK_SLICE_MAX_EVENTS);
        assert_eq!(w.now, p.with_sim(|s| s.now()));
        assert!(
            w.progress() > 0.0 && w.progress() < 0.02,
            "{}",
            w.progress()
        );
        p.act(Action::CancelWork);
        assert_eq!(p.work, None);
        let at = p.with_sim(|s| s.now());
        assert_eq!(p.snapshot.time, at);
        assert_eq!(
            p.snapshot.events_processed,
            base + 2 * WORK_SLICE_MAX_EVENTS
        );
        assert_eq!(
            p.work_note.as_deref(),
            Some(
                format!(
                    "The seek to 86400.000 s was stopped at {} ({} engine events replayed).",
                    format::format_secs(at),
                    2 * WORK_SLICE_MAX_EVENTS
                )
                .as_str()
            )
        );
        // Another action on the run stops a seek in progress too.
        p.act(Action::Seek {
            to_us: 86_400_000_000,
        });
        assert!(p.work.is_some());
        p.act(Action::Play);
        assert_eq!((p.work.is_none(), p.playing), (true, true));
        assert_eq!(
            p.snapshot.events_processed,
            base + 3 * WORK_SLICE_MAX_EVENTS
        );
    }

    #[test]
    fn a_hostile_place_in_a_link_is_replayed_over_frames_within_its_bound() {
        let mut p = fresh();
        // A declared cost beyond the page's bound is refused before anything changes.
        for n in [1_000_000_000_000_000, 20_000_000] {
            p.act(Action::LoadRun {
                run: heavy_run(SimTime(1), Some(n)),
                origin: RunOrigin::Url,
            });
            assert_eq!(
                p.url_errors.last().cloned(),
                Some(format!("The shared link was not opened (nothing changed): the run's `events` is {n}, beyond the maximum 100000 events"))
            );
            assert_eq!(
                (p.work.clone(), p.scenario.name.as_str()),
                (None, "order-events")
            );
            assert_eq!(p.builtin_name(), Some("order-events"));
        }
        // Within the bound but a place the run does not have: the replay says so.
        p.act(Action::LoadRun {
            run: heavy_run(SimTime(1), Some(99_999)),
            origin: RunOrigin::Host,
        });
        assert_eq!(p.work, None);
        assert_eq!(
            p.upload_error.as_deref(),
            Some("The run was replayed up to 0.000 s only: the place 1 µs after 99999 events does not fit the run: event 9 comes at 1000 µs, later than the place.")
        );
        // Far in time: a slice now, the rest over frames, a cancel stops it.
        p.act(Action::LoadRun {
            run: heavy_run(SimTime::from_ms(20_000_000), None),
            origin: RunOrigin::File("heavy.msgsim.json".into()),
        });
        let w = p.work.clone().expect("still replaying");
        assert_eq!(w.events, WORK_SLICE_MAX_EVENTS);
        assert!(matches!(w.kind, WorkKind::Load { .. }));
        p.act(Action::Frame { real_ms: 16.0 });
        p.act(Action::CancelWork);
        let at = format::format_secs(p.snapshot.time);
        assert_eq!(
            p.upload_error,
            Some(format!(
                "The run was opened at {at} only: replaying it to 20000.000 s was cancelled."
            ))
        );
        assert_eq!(p.snapshot.events_processed, 2 * WORK_SLICE_MAX_EVENTS);
    }

    fn fresh() -> Playground {
        Playground::new(&AppInit::builtin("order-events", 42))
    }

    fn native(ms: u64) -> Simulation {
        let mut sim =
            Simulation::from_json(msgsim::scenarios::get("order-events").unwrap(), 42).unwrap();
        sim.run_until(SimTime::from_ms(ms), MAX_EVENTS_PER_FRAME);
        sim
    }

    #[test]
    fn advance_matches_a_direct_engine_run() {
        let mut p = fresh();
        p.act(Action::Advance {
            virtual_ms: 1_000,
            real_ms: 0.0,
        });
        p.act(Action::Advance {
            virtual_ms: 1_000,
            real_ms: 0.0,
        });
        let sim = native(2_000);
        assert_eq!(p.snapshot.time, SimTime::from_ms(2_000));
        assert_eq!(p.snapshot.metrics, *sim.metrics());
        assert_eq!(p.with_sim(|s| s.trace_hash()), sim.trace_hash());
        assert!(!p.log.is_empty() && p.log.len() <= LOG_LINES);
        assert_eq!(
            p.log.back().unwrap().text,
            sim.trace().events().last().unwrap().to_string()
        );
    }

    #[test]
    fn seek_back_and_forward_keeps_the_commands_and_step_back_undoes_one_event() {
        let mut p = fresh();
        p.act(Action::Advance {
            virtual_ms: 500,
            real_ms: 0.0,
        });
        p.act(Action::Node(NodeOp::Crash));
        p.act(Action::Advance {
            virtual_ms: 1_500,
            real_ms: 0.0,
        });
        let at_2s = (p.with_sim(|s| s.trace_hash()), p.snapshot.events_processed);
        p.act(Action::Seek { to_us: 300_000 });
        assert_eq!(p.snapshot.time, SimTime::from_ms(300));
        assert!(!p.playing);
        p.act(Action::Seek { to_us: 2_000_000 });
        assert_eq!(
            (p.with_sim(|s| s.trace_hash()), p.snapshot.events_processed),
            at_2s
        );
        p.act(Action::StepBack);
        assert_eq!(p.snapshot.events_processed, at_2s.1 - 1);
    }

    #[test]
    fn seeking_restores_checkpoints_and_the_scrubber_marks_follow() {
        let mut p = fresh();
        p.act(Action::Advance {
            virtual_ms: 3_000,
            real_ms: 0.0,
        });
        p.act(Action::SelectNode(2)); // kitchen#0
        p.act(Action::Node(NodeOp::Crash));
        for _ in 0..9 {
            p.act(Action::Advance {
                virtual_ms: 1_000,
                real_ms: 0.0,
            });
        }
        assert_eq!(p.horizon, SimTime::from_ms(12_000));
        assert_eq!(
            p.marks.checkpoints,
            [0, 5_000, 10_000].map(SimTime::from_ms).to_vec()
        );
        assert_eq!(
            p.marks.commands,
            vec![CommandMark {
                at: SimTime::from_ms(3_000),
                text: "crash kitchen#0".into()
            }]
        );
        p.act(Action::AddBookmark);
        p.act(Action::AddBookmark); // same time: no second bookmark
        assert_eq!(
            p.marks.bookmarks,
            vec![Bookmark {
                name: "B1".into(),
                at: SimTime::from_ms(12_000)
            }]
        );

        // Back to 7 s: the same state as a direct run with the crash at 3 s.
        p.act(Action::Seek { to_us: 7_000_000 });
        let mut sim = native(3_000);
        sim.apply(Command::Crash {
            node: "kitchen".into(),
            instance: 0,
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(7_000), MAX_EVENTS_PER_FRAME);
        assert_eq!(*p.snapshot, sim.snapshot());
        assert_eq!(p.with_sim(|s| s.trace_hash()), sim.trace_hash());
        // Restored the 5 s checkpoint and replayed two seconds of events (170 of the 585).
        assert_eq!(
            p.last_seek,
            Some(SeekInfo {
                from: SimTime::from_ms(5_000),
                events: Some(170),
                real_ms: 0.0
            })
        );
        assert_eq!(p.snapshot.events_processed, 585);
        assert_eq!(
            p.log.back().unwrap().text,
            sim.trace().events().last().unwrap().to_string()
        );
        assert!(p.falling.is_empty());
        // The history is still there: horizon, the crash marker, the bookmark.
        assert_eq!(p.horizon, SimTime::from_ms(12_000));
        assert_eq!(p.marks.commands.len(), 1);
        p.act(Action::JumpBookmark("B1".into()));
        assert_eq!(p.snapshot.time, SimTime::from_ms(12_000));
        // Forward too, the replay starts at the checkpoint ahead (10 s), not at 7 s.
        assert_eq!(p.last_seek.unwrap().from, SimTime::from_ms(10_000));
        p.act(Action::RemoveBookmark("B1".into()));
        assert!(p.marks.bookmarks.is_empty());

        // Back before the crash, where a new command branches history.
        p.act(Action::Seek { to_us: 1_000_000 });
        assert_eq!(p.commands.len(), 0);
        assert_eq!(p.marks.commands.len(), 1);
        p.act(Action::Link(LinkOp::Partition));
        assert_eq!(p.marks.commands.len(), 1);
        assert_eq!(p.marks.commands[0].at, SimTime::from_ms(1_000));
        assert_eq!(p.horizon, SimTime::from_ms(1_000));
        assert_eq!(p.marks.checkpoints, vec![SimTime::ZERO]);
    }

    #[test]
    fn bookmarks_are_bounded_and_step_back_at_the_start_does_nothing() {
        let mut p = fresh();
        p.act(Action::StepBack);
        assert_eq!(p.snapshot.events_processed, 0);
        for _ in 0..MAX_UI_BOOKMARKS + 3 {
            p.act(Action::Advance {
                virtual_ms: 100,
                real_ms: 0.0,
            });
            p.act(Action::AddBookmark);
        }
        assert_eq!(p.marks.bookmarks.len(), MAX_UI_BOOKMARKS);
        assert_eq!(p.marks.bookmarks[0].name, "B4");
        assert_eq!(p.marks.bookmarks[0].at, SimTime::from_ms(400));
        p.act(Action::JumpBookmark("nope".into()));
        assert_eq!(p.snapshot.time, SimTime::from_ms(2_300));
    }

    #[test]
    fn frames_advance_virtual_time_by_real_time_times_speed() {
        let mut p = fresh();
        p.act(Action::SetSpeed(0.5));
        p.act(Action::Play);
        p.act(Action::Frame { real_ms: 1_000.0 }); // baseline, no time passes
        assert_eq!(p.snapshot.time, SimTime::ZERO);
        for k in 1..=10 {
            p.act(Action::Frame {
                real_ms: 1_000.0 + 100.0 * k as f64,
            });
        }
        // 1 s of real time at 0.5× = 500 ms virtual.
        assert_eq!(p.snapshot.time, SimTime::from_ms(500));
        // A long gap (background tab) counts as MAX_FRAME_GAP_MS only.
        p.act(Action::Frame { real_ms: 60_000.0 });
        assert_eq!(
            p.snapshot.time,
            SimTime::from_ms(500 + (MAX_FRAME_GAP_MS * 0.5) as u64)
        );
        p.act(Action::Pause);
        p.act(Action::Frame { real_ms: 70_000.0 });
        assert_eq!(
            p.snapshot.time,
            SimTime::from_ms(500 + (MAX_FRAME_GAP_MS * 0.5) as u64)
        );
    }

    #[test]
    fn step_handles_one_event() {
        let mut p = fresh();
        p.act(Action::Step { real_ms: 0.0 });
        assert_eq!(p.snapshot.events_processed, 1);
        assert!(!p.log.is_empty());
        assert!(!p.playing);
    }

    #[test]
    fn repair_one_way_through_the_panel_heals_the_picked_direction() {
        let mut p = fresh();
        p.act(Action::SelectLink(0));
        p.act(Action::Link(LinkOp::Partition));
        p.act(Action::SelectDirection(Direction::BToA));
        p.act(Action::Link(LinkOp::RepairOneway));
        assert_eq!(
            p.commands.last().map(|c| &c.command),
            Some(&Command::RepairOneway {
                a: "broker".into(),
                b: "order".into()
            })
        );
        let link = &p.snapshot.links[0];
        assert_eq!((link.a.as_str(), link.b.as_str()), ("order", "broker"));
        assert!(link.a_to_b.partitioned);
        assert!(!link.b_to_a.partitioned);
        // "Both" heals a -> b.
        p.act(Action::SelectDirection(Direction::Both));
        p.act(Action::Link(LinkOp::RepairOneway));
        assert!(!p.snapshot.links[0].a_to_b.partitioned);
        assert_eq!(p.commands.len(), 3);
    }

    #[test]
    fn loss_through_the_panel_drops_and_falls() {
        let mut p = fresh();
        p.act(Action::Advance {
            virtual_ms: 1_000,
            real_ms: 0.0,
        });
        p.act(Action::SelectLink(0));
        p.act(Action::SetLinkField {
            field: LinkField::Loss,
            raw: "150".into(),
        });
        assert!(p.fault_note.as_deref().unwrap().contains("clamped to 100"));
        assert_eq!(p.snapshot.links[0].a_to_b.loss_percent, 100.0);
        assert_eq!(p.snapshot.links[0].b_to_a.loss_percent, 100.0);
        assert_eq!(p.commands.len(), 1);
        p.act(Action::Advance {
            virtual_ms: 1_000,
            real_ms: 10.0,
        });
        // The same commands at the same times on a direct engine run give the same counters.
        let mut sim = native(1_000);
        sim.apply(Command::SetLink {
            a: "order".into(),
            b: "broker".into(),
            direction: Direction::Both,
            faults: LinkFaults {
                latency_ms: 40,
                jitter_ms: 10,
                loss_percent: 100.0,
                ..LinkFaults::default()
            },
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(2_000), MAX_EVENTS_PER_FRAME);
        assert_eq!(p.snapshot.metrics, *sim.metrics());
        assert!(sim.metrics().dropped > 0);
        assert!(!p.falling.is_empty());
        assert!(p.falling.len() <= MAX_FALLING);
        // Sprites expire after FALL_MS of real time.
        p.act(Action::Frame {
            real_ms: 10.0 + FALL_MS + 1.0,
        });
        assert!(p.falling.is_empty());
    }

    #[test]
    fn bad_inputs_change_nothing_and_say_why() {
        let mut p = fresh();
        p.act(Action::SetSeedText("abc".into()));
        assert_eq!(p.seed, 42);
        assert!(p.seed_error.as_deref().unwrap().contains("Keeping seed 42"));
        p.act(Action::SetSeedText("7".into()));
        assert_eq!((p.seed, p.seed_error.clone()), (7, None));

        p.act(Action::SetLinkField {
            field: LinkField::Latency,
            raw: "fast".into(),
        });
        assert!(p.fault_error.is_some());
        assert!(p.commands.is_empty());

        p.act(Action::Upload {
            file: "broken.json".into(),
            text: Ok("{ \"name\": ".into()),
        });
        let e = p.upload_error.clone().unwrap();
        assert!(e.contains("broken.json") && e.contains("line 1"), "{e}");
        assert_eq!(p.source, Source::Builtin("order-events"));

        p.act(Action::SelectInstance(99));
        assert_eq!(p.instance, 0);
        p.act(Action::SelectLink(99));
        assert_eq!(p.link, 0);
    }

    #[test]
    fn node_commands_and_reset() {
        let mut p = fresh();
        p.act(Action::SelectNode(2)); // kitchen
        p.act(Action::SelectInstance(1));
        p.act(Action::Node(NodeOp::Crash));
        assert_eq!(
            p.snapshot.nodes[2].instances[1].status,
            msgsim::snapshot::InstanceStatus::Crashed
        );
        assert_eq!(p.commands.len(), 1);
        p.act(Action::Link(LinkOp::Partition));
        assert!(p.snapshot.links[0].a_to_b.partitioned);
        p.act(Action::Reset);
        assert!(p.commands.is_empty());
        assert_eq!(p.snapshot.time, SimTime::ZERO);
        assert!(!p.snapshot.links[0].a_to_b.partitioned);
    }

    #[test]
    fn upload_switches_scenario() {
        let mut p = fresh();
        let text = msgsim::scenarios::get("order-events")
            .unwrap()
            .replace("\"seed\": 42", "\"seed\": 5");
        p.act(Action::Upload {
            file: "mine.json".into(),
            text: Ok(text),
        });
        assert_eq!(p.upload_error, None);
        assert_eq!(p.seed, 5);
        assert_eq!(p.source, Source::Uploaded("mine.json".into()));
        p.act(Action::LoadBuiltin("order-events".into()));
        assert_eq!((p.seed, p.builtin_name()), (42, Some("order-events")));
        p.act(Action::LoadUploaded);
        assert_eq!(p.seed, 5);
    }

    #[test]
    fn unknown_builtin_at_start_falls_back() {
        let p = Playground::new(&AppInit::builtin("nope", 3));
        assert_eq!(p.builtin_name(), Some("order-events"));
        assert_eq!(p.url_errors.len(), 1);
    }

    #[test]
    fn the_gallery_groups_scenarios_by_section_in_gallery_order() {
        let g = builtin_gallery();
        let sections: Vec<&str> = g.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            sections,
            [
                "Asynchronous messaging",
                "Competing receivers and message ordering",
                "Message Broker",
                "Handling duplicate messages",
                "Transactional messaging",
                "Improving synchronous communication",
                "Synchronous Communication",
                "REST",
                "Fault Tolerance in REST",
                "Service Discovery",
                "API-first design",
            ]
        );
        // Every built-in scenario once, and within a section in gallery order.
        let names: Vec<&str> = g
            .iter()
            .flat_map(|(_, v)| v.iter().map(|e| e.name))
            .collect();
        assert_eq!(names, msgsim::scenarios::names().collect::<Vec<_>>());
        assert_eq!(g[0].1[0].name, "order-events");
        assert_eq!(
            g[0].1[0].title,
            "Order events: publish/subscribe and competing consumers"
        );
        assert_eq!(g[4].1.len(), 4);
    }

    #[test]
    fn relay_and_channel_commands_from_the_panel() {
        let mut p = Playground::new(&AppInit::builtin("outbox-polling", 7));
        p.act(Action::Apply(Command::RejectNextPublish {
            channel: "order-events".into(),
            count: 2,
        }));
        p.act(Action::Apply(Command::ArmCrash {
            node: "order-relay".into(),
            instance: 0,
            point: msgsim::outbox::CrashPoint::AfterPublish,
        }));
        assert_eq!(p.commands.len(), 2);
        assert_eq!(p.fault_error, None);
        let t = &p.snapshot.transactional;
        assert_eq!(t.channel_logs[0].rejections_armed, 2);
        // order-relay armed by the command (the scenario's own failpoint comes at 2 s).
        assert_eq!(t.armed.len(), 1);
        p.act(Action::Apply(Command::StopRelay {
            node: "order".into(),
        }));
        assert!(p.fault_error.as_deref().unwrap().starts_with("Not applied"));
        p.act(Action::Apply(Command::StopRelay {
            node: "order-relay".into(),
        }));
        assert_eq!(p.fault_error, None);
        assert_eq!(
            p.snapshot.transactional.relays[0].state,
            msgsim::outbox::view::RelayState::Stopped
        );
    }
}
