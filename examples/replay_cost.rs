//! What opening a shared run costs, and what time travel keeps in memory.
//!
//! ```text
//! cargo run --release --example replay_cost               # events/s of every built-in scenario
//! cargo run --release --example replay_cost -- timeline 10000000 [scenario]
//! ```
//!
//! The first form replays each built-in scenario (as a link without an event count, 24 h away)
//! up to `msgsim::share::MAX_REPLAY_EVENTS` events and prints events/s and the time it took: the
//! basis of that bound. The second runs the playground's `Timeline` (default checkpoint interval)
//! to that many events of a scenario (default `order-events`) and prints the peak RSS
//! (`VmHWM` of /proc/self/status, Linux), the checkpoints kept and the median time of 200 seeks
//! to random earlier times.

use msgsim::share::{ScenarioRef, SharedRun, MAX_REPLAY_EVENTS};
use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
use msgsim::{SimTime, Simulation};
use std::time::Instant;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn cost() {
    println!("scenario,events,ms,events_per_s");
    for name in msgsim::scenarios::names() {
        let run = SharedRun {
            scenario: ScenarioRef::Builtin(name.into()),
            seed: 1,
            commands: vec![],
            at: msgsim::share::MAX_RUN_AT,
            events: None,
        };
        let started = Instant::now();
        let mut r = run.start_replay(MAX_REPLAY_EVENTS).expect("builds");
        let _ = r.advance(u64::MAX);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let n = r.simulation().events_processed();
        println!("{name},{n},{ms:.1},{:.0}", n as f64 / (ms / 1e3));
    }
}

fn timeline(events: u64, scenario: &str) {
    let json = msgsim::scenarios::get(scenario).expect("a built-in scenario");
    let mut tl = Timeline::new(
        Simulation::from_json(json, 42).expect("valid"),
        DEFAULT_CHECKPOINT_INTERVAL,
    );
    let started = Instant::now();
    while tl.current().events_processed() < events {
        let t = tl.current().now().plus_ms(60_000);
        if tl
            .run_until(t, events - tl.current().events_processed())
            .events
            == 0
            && tl.current().next_event_time().is_none()
        {
            break;
        }
    }
    let run_s = started.elapsed().as_secs_f64();
    let end = tl.current().now();
    let mut seeks = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = SimTime(x % end.as_us().max(1));
        let s = Instant::now();
        tl.seek(t);
        seeks.push(s.elapsed().as_secs_f64() * 1e3);
    }
    seeks.sort_by(f64::total_cmp);
    println!(
        "{scenario}: {} events to {} in {run_s:.1} s; {} checkpoints (interval now {}); peak RSS {} MB; seek median {:.2} ms, p90 {:.2} ms",
        tl.current().events_processed().max(events.min(tl.current().events_processed())),
        end,
        tl.checkpoint_times().len(),
        tl.checkpoint_times()
            .windows(2)
            .last()
            .map(|w| SimTime(w[1].0 - w[0].0))
            .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL),
        vm_hwm_kb() / 1024,
        seeks[seeks.len() / 2],
        seeks[seeks.len() * 9 / 10],
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("timeline") => {
            let n = args
                .get(1)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1_000_000);
            timeline(n, args.get(2).map(String::as_str).unwrap_or("order-events"));
        }
        _ => cost(),
    }
}
