//! What time travel keeps in memory, and what a seek costs, on long runs.
//!
//! ```text
//! cargo run --release --example timeline_memory                       # both scenarios, 1/5/10 M
//! cargo run --release --example timeline_memory -- order-events 10000000
//! cargo run --release --example timeline_memory -- order-events 1000000 parts
//! cargo run --release --example timeline_memory -- order-events held 2000000 5000000 500000
//! ```
//!
//! Drives the playground's [`Timeline`] (default checkpoint interval, as `www/src/state.rs`) over
//! a built-in scenario (seed 42; every workload's `count` raised to the maximum, 10 M) in frames of 60 s of virtual time, and at each of 1, 5 and 10 M
//! events prints the resident memory (`VmRSS`, and the peak `VmHWM`, from /proc/self/status;
//! Linux only; each scenario runs in its own process so the peaks do not mix), the checkpoints
//! kept (and their estimated memory, `Timeline::checkpoint_bytes`), and the median and 95th
//! percentile wall time of 200 seeks to random earlier times (xorshift, fixed seed) with the
//! median number of events a seek replayed (independent of the machine's load), and for
//! scrubbing (20 random places, 10 seeks within 30 s of virtual time before each) the median
//! events a nearby seek replayed. With `parts`, it also prints what one more checkpoint costs, part by
//! part: the bytes a deep copy of each big part of the state allocates (a counting allocator;
//! structure shared between checkpoints is not counted). After the last mark it prints what the
//! checkpoints really hold beyond the current state (the bytes freed by dropping them) next to
//! the estimate.
//!
//! With `held MARK… SPAN` it measures what an old state holds per event handled since (the
//! quantity `STATE_BYTES_PER_EVENT` estimates): a plain run to each mark, a clone kept, SPAN
//! more events, then the bytes freed by dropping the clone, with and without the trace ring's
//! share.

use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
use msgsim::{SimTime, Simulation};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::live;

/// Median events replayed by the last `seeks` call's nearby (scrubbing) seeks.
static SCRUB_MEDIAN: AtomicU64 = AtomicU64::new(0);

/// A field of /proc/self/status in kB (0 where there is none).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn parts(sim: &Simulation) {
    let mut rows = Vec::new();
    sim.profile_parts(&mut |name, clone| {
        let before = counting_alloc::allocated();
        clone();
        rows.push((name.to_string(), counting_alloc::allocated() - before));
    });
    for (name, bytes) in rows {
        println!("    {name:<22} {:>10.2} MB", bytes as f64 / 1e6);
    }
}

fn seeks(tl: &mut Timeline) -> (f64, f64, u64) {
    let end = tl.current().now();
    let (at, events) = (end, tl.current().events_processed());
    let mut ms = Vec::new();
    let mut replayed = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = SimTime(x % end.as_us().max(1));
        let s = Instant::now();
        replayed.push(tl.seek(t));
        ms.push(s.elapsed().as_secs_f64() * 1e3);
    }
    // Scrubbing: 20 places, each a seek to a random time and then 10 seeks within 30 s of
    // virtual time before it; the median events those nearby seeks replayed.
    let mut nearby = Vec::new();
    for _ in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = x % end.as_us().max(1);
        tl.seek(SimTime(t));
        for _ in 0..10 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            nearby.push(tl.seek(SimTime(t.saturating_sub(x % 30_000_000))));
        }
    }
    nearby.sort_unstable();
    SCRUB_MEDIAN.store(nearby[nearby.len() / 2], Ordering::Relaxed);
    // Back to the end of the run (not timed) to go on from there.
    tl.run_to_place(at, Some(events), u64::MAX)
        .expect("the end of the run is reachable again");
    ms.sort_by(f64::total_cmp);
    replayed.sort_unstable();
    (
        ms[ms.len() / 2],
        ms[ms.len() * 95 / 100],
        replayed[replayed.len() / 2],
    )
}

/// The built-in `scenario` at seed 42 with every workload's `count` raised to the maximum (long
/// runs: `order-events` alone goes idle after 1 380 events).
fn long_run(scenario: &str) -> Simulation {
    let json = msgsim::scenarios::get(scenario).expect("a built-in scenario");
    let mut doc: serde_json::Value = serde_json::from_str(json).expect("JSON");
    if let Some(ws) = doc["workloads"].as_array_mut() {
        for w in ws {
            w["count"] = msgsim::scenario::limits::MAX_WORKLOAD_COUNT.into();
        }
    }
    Simulation::from_json(&doc.to_string(), 42).expect("valid")
}

/// Runs `sim` until it handled `n` events in all (false: it went idle first).
fn run_to(sim: &mut Simulation, n: u64) -> bool {
    while sim.events_processed() < n {
        let t = sim.now().plus_ms(60_000);
        let left = n - sim.events_processed();
        if sim.run_until(t, left).events == 0 && sim.next_event_time().is_none() {
            return false;
        }
    }
    true
}

/// What an old state (a checkpoint) holds that the live one does not, per event handled since:
/// a plain run to each mark, a clone kept, `span` more events, then the bytes freed by dropping
/// the clone. Printed whole and without the trace ring's share (trace events pushed since, plus
/// one open chunk, [`TraceEvent`](msgsim::trace::TraceEvent) size each, as the timeline's
/// estimate counts it): the latter is what `STATE_BYTES_PER_EVENT` estimates.
fn held_per_event(scenario: &str, marks: &[u64], span: u64) {
    let mut sim = long_run(scenario);
    let event = std::mem::size_of::<msgsim::trace::TraceEvent>() as u64;
    for &mark in marks {
        if !run_to(&mut sim, mark) {
            println!("{scenario}: idle at {} events", sim.events_processed());
            return;
        }
        let old = sim.clone();
        if !run_to(&mut sim, mark + span) {
            println!("{scenario}: idle at {} events", sim.events_processed());
            return;
        }
        let pushed = (sim.trace().len_total() - old.trace().len_total() + 64)
            .min(sim.trace().capacity() as u64);
        let before = live();
        drop(old);
        let held = before.saturating_sub(live());
        let state = held.saturating_sub(pushed * event);
        println!(
            "{scenario} from {mark} events, {span} more: the old state holds {:.2} MB = {:.1} bytes/event; without the trace ring's {pushed} events: {:.1} bytes/event",
            held as f64 / 1e6,
            held as f64 / span as f64,
            state as f64 / span as f64,
        );
    }
}

fn run(scenario: &str, marks: &[u64], show_parts: bool) {
    let mut tl = Timeline::new(long_run(scenario), DEFAULT_CHECKPOINT_INTERVAL);
    let started = Instant::now();
    for &mark in marks {
        while tl.current().events_processed() < mark {
            let t = tl.current().now().plus_ms(60_000);
            let left = mark - tl.current().events_processed();
            if tl.run_until(t, left).events == 0 && tl.current().next_event_time().is_none() {
                println!(
                    "{scenario}: idle at {} events",
                    tl.current().events_processed()
                );
                return;
            }
        }
        let run_s = started.elapsed().as_secs_f64();
        let (median, p95, replayed) = seeks(&mut tl);
        println!(
            "{scenario} {:>9} events (t = {}, {run_s:.1} s): RSS {} MB, peak {} MB; {} checkpoints (estimate {:.1} MB); seek median {median:.2} ms, p95 {p95:.2} ms, median {replayed} events replayed; scrubbing: median {} events replayed",
            tl.current().events_processed(),
            tl.current().now(),
            status_kb("VmRSS:") / 1024,
            status_kb("VmHWM:") / 1024,
            tl.checkpoint_times().len(),
            tl.checkpoint_bytes() as f64 / 1e6,
            SCRUB_MEDIAN.load(Ordering::Relaxed),
        );
        if show_parts {
            parts(tl.current());
        }
    }
    // What the checkpoints really hold beyond the current state, against the estimate.
    let (count, estimate) = (tl.checkpoint_times().len(), tl.checkpoint_bytes());
    let before = live();
    let current = tl.current().clone();
    drop(tl);
    let held = before.saturating_sub(live());
    println!(
        "{scenario}: the {count} checkpoints hold {:.1} MB beyond the current state (estimate {:.1} MB)",
        held as f64 / 1e6,
        estimate as f64 / 1e6
    );
    drop(current);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let marks = [1_000_000, 5_000_000, 10_000_000];
    match args.first() {
        Some(name) => {
            let n: Option<u64> = args.get(1).and_then(|a| a.parse().ok());
            let marks: Vec<u64> = match n {
                Some(n) => marks
                    .iter()
                    .copied()
                    .filter(|&m| m < n)
                    .chain([n])
                    .collect(),
                None => marks.to_vec(),
            };
            if args.get(1).is_some_and(|a| a == "held") {
                let marks: Vec<u64> = args[2..].iter().filter_map(|a| a.parse().ok()).collect();
                let (span, marks) = marks.split_last().expect("marks and a span");
                held_per_event(name, marks, *span);
            } else {
                run(name, &marks, args.iter().any(|a| a == "parts"));
            }
        }
        None => {
            // One process per scenario: the peak RSS of each stands alone.
            let me = std::env::current_exe().expect("own path");
            for name in ["order-events", "partitioned-orders"] {
                let status = std::process::Command::new(&me)
                    .arg(name)
                    .status()
                    .expect("runs");
                assert!(status.success(), "{name} failed");
            }
        }
    }
}
