//! Seek latency in the browser (a measurement, not a test: it asserts nothing about speed).
//!
//! A 10-minute virtual run of a busy `order-events` (an order every 100 ms instead of 250 ms,
//! 6 000 orders; 5 % loss and 5 % duplication on order <-> broker and broker <-> accounting, set by
//! commands at 0 s), then seeks to pseudo-random times, measured with `performance.now()`:
//!
//! - `timeline`: `Timeline::seek` (restore the latest checkpoint at or before the target, replay
//!   from it) + `snapshot()`;
//! - `naive`: a fresh `Simulation` replaying the seed and the command log from zero to the target
//!   (what the playground did before) + `snapshot()`;
//! - `playground`: `Action::Seek` through the reducer (timeline seek, snapshot, event log and
//!   explanations re-read from the newest 2 000 events) — what a drag costs before rendering.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
//!   cargo test -p msgsim-web --release --target wasm32-unknown-unknown --test seek_bench -- --nocapture
//! ```

#![cfg(target_arch = "wasm32")]

use msgsim::network::{Direction, LinkFaults};
use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
use msgsim::{Command, Scenario, SimTime, Simulation};
use msgsim_web::state::{Action, AppInit, Playground};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MINUTES_10: SimTime = SimTime::from_ms(600_000);

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn busy_json() -> String {
    msgsim::scenarios::get("order-events")
        .unwrap()
        .replace("\"every_ms\": 250", "\"every_ms\": 100")
        .replace("\"count\": 60", "\"count\": 6000")
}

fn busy() -> Scenario {
    let s = Scenario::from_json(&busy_json()).unwrap();
    assert_eq!(
        (s.workloads[0].every_ms, s.workloads[0].count),
        (100, 6_000)
    );
    s
}

fn faults() -> Vec<Command> {
    [("order", "broker"), ("broker", "accounting")]
        .into_iter()
        .map(|(a, b)| Command::SetLink {
            a: a.into(),
            b: b.into(),
            direction: Direction::Both,
            faults: LinkFaults {
                latency_ms: 40,
                jitter_ms: 10,
                loss_percent: 5.0,
                duplicate_percent: 5.0,
                ..LinkFaults::default()
            },
        })
        .collect()
}

/// Seek targets: a fixed pseudo-random sequence over (0, 10 min), µs.
fn targets(n: usize) -> Vec<SimTime> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            SimTime(1 + x % (MINUTES_10.0 - 1))
        })
        .collect()
}

fn stats(name: &str, mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "{name}: n={} median={:.1} p95={:.1} max={:.1}",
        v.len(),
        pick(0.5),
        pick(0.95),
        v[v.len() - 1]
    )
}

fn wasm_memory_mb() -> f64 {
    use wasm_bindgen::JsCast;
    let mem: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buf: js_sys::ArrayBuffer = mem.buffer().unchecked_into();
    buf.byte_length() as f64 / 1_048_576.0
}

#[wasm_bindgen_test]
fn seek_latency_in_a_ten_minute_run() {
    let mut sim = Simulation::new(busy(), 42).unwrap();
    for c in faults() {
        sim.apply(c).unwrap();
    }
    let mut tl = Timeline::new(sim, DEFAULT_CHECKPOINT_INTERVAL);
    let t0 = now_ms();
    tl.run_until(MINUTES_10, u64::MAX);
    let run_ms = now_ms() - t0;
    let events = tl.current().events_processed();
    let mut out = vec![format!(
        "10-minute run: {events} events in {run_ms:.0} ms; {} checkpoints, every {} ms; wasm memory {:.0} MB",
        tl.checkpoint_times().len(),
        (tl.checkpoint_times()[2].0 - tl.checkpoint_times()[1].0) / 1_000,
        wasm_memory_mb()
    )];

    let mut timeline = Vec::new();
    let mut replayed = Vec::new();
    for t in targets(40) {
        let s = now_ms();
        replayed.push(tl.seek(t) as f64);
        let snap = tl.current().snapshot();
        timeline.push(now_ms() - s);
        assert_eq!(snap.time, t);
    }
    out.push(stats("timeline (checkpoint + replay + snapshot)", timeline));
    out.push(stats("  events replayed per seek (count)", replayed));

    let mut naive = Vec::new();
    for t in targets(15) {
        let s = now_ms();
        let mut sim = Simulation::new(busy(), 42).unwrap();
        sim.run_with_log(tl.log(), t, u64::MAX);
        let snap = sim.snapshot();
        naive.push(now_ms() - s);
        assert_eq!(snap.time, t);
    }
    out.push(stats("naive (replay from zero + snapshot)", naive));

    // A drag: from the end back to 0 in 5 s steps, then forward to the end.
    let (mut back, mut forward) = (Vec::new(), Vec::new());
    tl.seek(MINUTES_10);
    for k in (0..120u64).rev() {
        let s = now_ms();
        tl.seek(SimTime::from_ms(k * 5_000 + 2_500));
        let _ = tl.current().snapshot();
        back.push(now_ms() - s);
    }
    for k in 0..120u64 {
        let s = now_ms();
        tl.seek(SimTime::from_ms(k * 5_000 + 2_500));
        let _ = tl.current().snapshot();
        forward.push(now_ms() - s);
    }
    // The sequence diagram's layout over the whole trace kept (10 000 events), as the panel
    // computes it at every throttled tick while playing.
    let mut lay = Vec::new();
    for _ in 0..20 {
        let s = now_ms();
        let snap = tl.current().snapshot();
        let l = msgsim_web::sequence::layout(
            tl.current().scenario(),
            tl.current().trace().events(),
            &snap.in_flight,
            snap.time,
            msgsim_web::sequence::DEFAULT_WINDOW,
        );
        lay.push(now_ms() - s);
        assert!(l.completed() > 0);
    }
    out.push(stats(
        "sequence layout (10 000 trace events) + snapshot",
        lay,
    ));
    out.push(stats("timeline drag back, 5 s steps", back));
    out.push(stats("timeline drag forward, 5 s steps", forward));
    drop(tl);

    // Through the playground's reducer.
    let mut p = Playground::new(&AppInit::builtin("order-events", 42));
    p.act(Action::Upload {
        file: "busy.json".into(),
        text: Ok(busy_json()),
    });
    assert_eq!(p.upload_error, None);
    for c in faults() {
        p.act(Action::Apply(c));
    }
    for _ in 0..600 {
        p.act(Action::Advance {
            virtual_ms: 1_000,
            real_ms: 0.0,
        });
    }
    assert_eq!(p.snapshot.time, MINUTES_10);
    let mut ui = Vec::new();
    for t in targets(40) {
        let s = now_ms();
        p.act(Action::Seek { to_us: t.0 });
        // A seek longer than one slice goes on over frames (none here: drive them).
        while p.work.is_some() {
            p.act(Action::Frame { real_ms: now_ms() });
        }
        ui.push(now_ms() - s);
        assert_eq!(p.snapshot.time, t);
    }
    out.push(stats("playground Action::Seek (no rendering)", ui));
    let mut back = Vec::new();
    for _ in 0..20 {
        let s = now_ms();
        p.act(Action::StepBack);
        back.push(now_ms() - s);
    }
    out.push(stats("playground Action::StepBack", back));
    out.push(format!("wasm memory at the end {:.0} MB", wasm_memory_mb()));
    out.push("(times in ms)".into());
    for line in &out {
        console_log!("{line}");
    }
}
