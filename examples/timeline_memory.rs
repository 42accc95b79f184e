//! What time travel keeps in memory, and what a seek costs, on long runs.
//!
//! ```text
//! cargo run --release --example timeline_memory                       # both scenarios, 1/5/10 M
//! cargo run --release --example timeline_memory -- order-events 10000000
//! cargo run --release --example timeline_memory -- order-events 1000000 parts
//! ```
//!
//! Drives the playground's [`Timeline`] (default checkpoint interval, as `www/src/state.rs`) over
//! a built-in scenario (seed 42; every workload's `count` raised to the maximum, 10 M) in frames of 60 s of virtual time, and at each of 1, 5 and 10 M
//! events prints the resident memory (`VmRSS`, and the peak `VmHWM`, from /proc/self/status;
//! Linux only; each scenario runs in its own process so the peaks do not mix), the checkpoints
//! kept (and their estimated memory, `Timeline::checkpoint_bytes`), and the median and 95th
//! percentile wall time of 200 seeks to random earlier times (xorshift, fixed seed) with the
//! median number of events a seek replayed (independent of the machine's load). With `parts`, it also prints what one more checkpoint costs, part by
//! part: the bytes a deep copy of each big part of the state allocates (a counting allocator;
//! structure shared between checkpoints is not counted).

use msgsim::timeline::{Timeline, DEFAULT_CHECKPOINT_INTERVAL};
use msgsim::{SimTime, Simulation};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counts the bytes allocated (not freed) since the start: deltas around a clone measure it.
struct Counting;
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(
            (new_size as u64).saturating_sub(layout.size() as u64),
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
        let before = ALLOCATED.load(Ordering::Relaxed);
        clone();
        rows.push((name.to_string(), ALLOCATED.load(Ordering::Relaxed) - before));
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

fn run(scenario: &str, marks: &[u64], show_parts: bool) {
    let json = msgsim::scenarios::get(scenario).expect("a built-in scenario");
    // Long runs: every workload sends as often as a scenario may (`order-events` alone goes
    // idle after 1 380 events).
    let mut doc: serde_json::Value = serde_json::from_str(json).expect("JSON");
    if let Some(ws) = doc["workloads"].as_array_mut() {
        for w in ws {
            w["count"] = msgsim::scenario::limits::MAX_WORKLOAD_COUNT.into();
        }
    }
    let mut tl = Timeline::new(
        Simulation::from_json(&doc.to_string(), 42).expect("valid"),
        DEFAULT_CHECKPOINT_INTERVAL,
    );
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
            "{scenario} {:>9} events (t = {}, {run_s:.1} s): RSS {} MB, peak {} MB; {} checkpoints (estimate {:.1} MB); seek median {median:.2} ms, p95 {p95:.2} ms, median {replayed} events replayed",
            tl.current().events_processed(),
            tl.current().now(),
            status_kb("VmRSS:") / 1024,
            status_kb("VmHWM:") / 1024,
            tl.checkpoint_times().len(),
            tl.checkpoint_bytes() as f64 / 1e6,
        );
        if show_parts {
            parts(tl.current());
        }
    }
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
            run(name, &marks, args.iter().any(|a| a == "parts"));
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
