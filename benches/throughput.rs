//! Engine throughput against a bare event loop, measured side by side in one run.
//!
//! `cargo bench --bench throughput` (a few minutes on 2 cores; `-- quick` runs each row once and
//! skips the 1 M rows). Every row runs the engine and the reference loop alternately, `ROUNDS`
//! times, and reports the median engine throughput and the median of the per-round ratios
//! engine / loop (on a noisy shared machine the ratio is steadier than either number).
//!
//! The reference loop ([`reference_loop`]) is the least an event-driven simulator of these hops
//! can do: a `BinaryHeap` of `(time, sequence, message, hop)` entries, a seeded SplitMix64 PRNG for
//! the jittered latencies, and no other state. It handles exactly as many events as the engine
//! did for the same row, `hops` events per message.
//!
//! Allocations are counted by a counting global allocator (this binary only): per event over a
//! whole run, and in the steady state (second half of the run).
//!
//! Reported in README ("Benchmarks").

use msgsim::{Command, Direction, LinkFaults, Scenario, Simulation, TraceConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(l.size() as u64, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(n as u64, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Rounds per row (engine and loop alternately).
const ROUNDS: usize = 3;

/// The workload of a row.
#[derive(Clone, Copy)]
struct Row {
    /// Messages (2 per workload tick).
    messages: u64,
    /// 5 % loss and 5 % duplication on order <-> broker and broker <-> accounting.
    faults: bool,
    trace: bool,
    /// Subscribers of `order-events` (3 in the built-in scenario; more are added as extra
    /// one-instance services, each with its own link).
    subscribers: usize,
}

/// `order-events` scaled to a row. Without faults the policies' `prefetch` is 4 (1 in the
/// built-in): with prefetch 1 accounting's ~260 ms round trip per delivery is longer than the
/// 250 ms between orders and its queue overflows at 1 M messages, which is not what a "no faults"
/// row means to measure.
fn scenario(row: Row) -> Scenario {
    let mut s = Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
    s.workloads[0].count = row.messages / 2;
    s.policies.prefetch = 4;
    if row.subscribers > 3 {
        let mut v = serde_json::to_value(&s).unwrap();
        for k in 3..row.subscribers {
            let name = format!("sub{k}");
            v["nodes"].as_array_mut().unwrap().push(serde_json::json!({
                "name": name, "kind": "service", "instances": 1, "processing_ms": 40
            }));
            v["links"].as_array_mut().unwrap().push(serde_json::json!({
                "a": "broker", "b": name, "latency_ms": 100, "jitter_ms": 25
            }));
            v["channels"][0]["consumers"]
                .as_array_mut()
                .unwrap()
                .push(name.into());
        }
        s = Scenario::from_json(&v.to_string()).unwrap();
    }
    s
}

fn build(row: Row) -> Simulation {
    let config = TraceConfig {
        enabled: row.trace,
        capacity: if row.trace { 10_000 } else { 0 },
    };
    let mut sim = Simulation::with_trace(scenario(row), 42, config).unwrap();
    if row.faults {
        for (a, b) in [("order", "broker"), ("broker", "accounting")] {
            sim.apply(Command::SetLink {
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
            .unwrap();
        }
    }
    sim
}

/// SplitMix64 (Steele, Lea, Flood 2014).
struct SplitMix(u64);
impl SplitMix {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The reference: `messages` messages, one every 125 ms (two per 250 ms tick, as the workload),
/// each a chain of `hops` events 100 ms ± 25 ms apart (uniform jitter from a seeded SplitMix64),
/// on a binary heap ordered by (time µs, sequence). Returns the events handled and a checksum.
fn reference_loop(messages: u64, hops: u32, seed: u64) -> (u64, u64) {
    let mut rng = SplitMix(seed);
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut next_msg = 0u64;
    // Arrivals are scheduled lazily, one ahead, as a workload tick is.
    heap.push(Reverse((0, seq, 0, 0)));
    seq += 1;
    let (mut events, mut sum) = (0u64, 0u64);
    while let Some(Reverse((t, _, m, hop))) = heap.pop() {
        events += 1;
        sum = sum.wrapping_add(t ^ u64::from(m));
        if hop == 0 && u64::from(m) == next_msg {
            next_msg += 1;
            if next_msg < messages {
                heap.push(Reverse((t + 125_000, seq, next_msg as u32, 0)));
                seq += 1;
            }
        }
        if hop + 1 < hops {
            let latency = 75_000 + rng.next() % 50_001;
            heap.push(Reverse((t + latency, seq, m, hop + 1)));
            seq += 1;
        }
    }
    (events, sum)
}

struct Measured {
    events: u64,
    secs: f64,
    loop_secs: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs a row `rounds` times with the loop alternately; returns (events, median events/s,
/// median engine/loop ratio of times, median seconds).
fn measure(row: Row, rounds: usize) -> (u64, f64, f64, f64) {
    let mut runs = Vec::new();
    for _ in 0..rounds {
        let mut sim = build(row);
        let t0 = Instant::now();
        let events = sim.run_to_idle(u64::MAX);
        let secs = t0.elapsed().as_secs_f64();
        black_box(sim.trace_hash());
        drop(sim);
        let hops = (events as f64 / row.messages as f64).round().max(1.0) as u32;
        let t1 = Instant::now();
        let (le, sum) = reference_loop(row.messages, hops, 42);
        let loop_secs = t1.elapsed().as_secs_f64() * events as f64 / le as f64;
        black_box(sum);
        runs.push(Measured {
            events,
            secs,
            loop_secs,
        });
    }
    let events = runs[0].events;
    let mut rate: Vec<f64> = runs.iter().map(|m| m.events as f64 / m.secs).collect();
    let mut ratio: Vec<f64> = runs.iter().map(|m| m.secs / m.loop_secs).collect();
    let mut secs: Vec<f64> = runs.iter().map(|m| m.secs).collect();
    (
        events,
        median(&mut rate),
        median(&mut ratio),
        median(&mut secs),
    )
}

fn label(row: Row) -> String {
    format!(
        "order-events {} msgs, {} subscribers, {}, trace {}",
        row.messages,
        row.subscribers,
        if row.faults {
            "5% loss + 5% dup"
        } else {
            "no faults"
        },
        if row.trace { "on" } else { "off" }
    )
}

fn print_row(row: Row, rounds: usize) -> f64 {
    let (events, rate, ratio, secs) = measure(row, rounds);
    println!(
        "| {} | {:.2} M | {:.2} M events/s ({:.2} s) | {:.1}× |",
        label(row),
        events as f64 / 1e6,
        rate / 1e6,
        secs,
        ratio
    );
    rate
}

/// Allocations per event over a whole run and in its second half.
fn allocations(row: Row) {
    let mut sim = build(row);
    let total_events = {
        let mut probe = build(row);
        probe.run_to_idle(u64::MAX)
    };
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    sim.run_to_idle(total_events / 2);
    let (a1, b1) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let rest = sim.run_to_idle(u64::MAX);
    let (a2, b2) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    println!(
        "| {} | {:.3} allocations/event, {:.0} B/event (whole run); {:.3} allocations/event, {:.0} B/event (second half) |",
        label(row),
        (a2 - a0) as f64 / total_events as f64,
        (b2 - b0) as f64 / total_events as f64,
        (a2 - a1) as f64 / rest as f64,
        (b2 - b1) as f64 / rest as f64,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    let only: Option<&str> = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-') && *a != "quick")
        .map(|s| s.as_str());
    let rounds = if quick { 1 } else { ROUNDS };
    let big = if quick { 100_000 } else { 1_000_000 };
    let base = Row {
        messages: big,
        faults: false,
        trace: false,
        subscribers: 3,
    };
    let want = |name: &str| only.is_none_or(|o| o == name);

    if want("drops") || want("main") {
        // The no-faults row must really have no faults: nothing dropped, nothing overflowed.
        let mut sim = build(base);
        sim.run_to_idle(u64::MAX);
        let m = sim.metrics();
        println!(
            "no-faults check ({} msgs): dropped {}, redelivered {}, processed {}",
            base.messages, m.dropped, m.redelivered, m.processed
        );
    }
    println!("| row | events | engine | engine time / loop time |");
    println!("|---|---|---|---|");
    if want("main") {
        print_row(base, rounds);
        print_row(
            Row {
                faults: true,
                ..base
            },
            rounds,
        );
    }
    if want("trace") {
        let row = Row {
            messages: 100_000,
            faults: true,
            ..base
        };
        let mut ratios = Vec::new();
        for _ in 0..rounds {
            let (_, off, _, _) = measure(row, 1);
            let (_, on, _, _) = measure(Row { trace: true, ..row }, 1);
            ratios.push(off / on);
        }
        print_row(row, rounds);
        print_row(Row { trace: true, ..row }, rounds);
        println!(
            "trace on / trace off time (median of {} paired runs): {:.2}×",
            rounds,
            median(&mut ratios)
        );
    }
    if want("scale") {
        for messages in [10_000u64, 100_000, big] {
            print_row(Row { messages, ..base }, rounds);
        }
    }
    if want("subscribers") {
        for subscribers in [3usize, 10, 30, 60] {
            print_row(
                Row {
                    messages: 20_000,
                    subscribers,
                    ..base
                },
                rounds,
            );
        }
    }
    if want("alloc") {
        allocations(Row {
            messages: 100_000,
            ..base
        });
        allocations(Row {
            messages: 100_000,
            faults: true,
            trace: true,
            ..base
        });
    }
}
