//! Engine throughput: events per second on `order-events` scaled up.
//!
//! `cargo bench --bench engine`. Reported in README ("Benchmarks").

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use msgsim::{Command, Direction, LinkFaults, Scenario, Simulation, TraceConfig};

/// `order-events` with `ticks` workload ticks (2 messages each), with or without faults.
fn scaled(ticks: u64, faults: bool, trace: bool) -> Simulation {
    let mut s = Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
    s.workloads[0].count = ticks;
    let config = TraceConfig {
        enabled: trace,
        capacity: if trace { 10_000 } else { 0 },
    };
    let mut sim = Simulation::with_trace(s, 42, config).unwrap();
    if faults {
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

fn events_of(ticks: u64, faults: bool) -> u64 {
    let mut sim = scaled(ticks, faults, false);
    sim.run_to_idle(u64::MAX)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("order-events");
    g.sample_size(10);
    // 500 000 ticks = 1 000 000 messages.
    for (ticks, faults, trace) in [
        (500_000u64, false, false),
        (500_000, true, false),
        (50_000, true, true),
    ] {
        let events = events_of(ticks, faults);
        g.throughput(Throughput::Elements(events));
        let id = format!(
            "{}msgs{}{}",
            ticks * 2,
            if faults { "+faults" } else { "" },
            if trace { "+trace" } else { "" }
        );
        g.bench_with_input(BenchmarkId::from_parameter(id), &ticks, |b, &t| {
            b.iter(|| {
                let mut sim = scaled(t, faults, trace);
                sim.run_to_idle(u64::MAX)
            })
        });
    }
    g.finish();
}

/// Seeking in a 10-minute virtual run (`order-events` with 1 500 orders, faults, trace on):
/// from the end back to 5 min 3 s (restore a checkpoint + replay), and the same seek without
/// checkpoints (replay from zero) for comparison.
fn seek(c: &mut Criterion) {
    let ten_minutes = msgsim::SimTime::from_ms(600_000);
    let mut tl = msgsim::timeline::Timeline::new(
        scaled_with_trace(1_500),
        msgsim::timeline::DEFAULT_CHECKPOINT_INTERVAL,
    );
    tl.run_until(ten_minutes, u64::MAX);
    let target = msgsim::SimTime::from_ms(303_000);
    let mut g = c.benchmark_group("seek-10min-run");
    g.bench_function("checkpointed", |b| {
        b.iter_batched(
            || tl.clone(),
            |mut t| t.seek(target),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("replay-from-zero", |b| {
        b.iter(|| {
            let mut s = scaled_with_trace(1_500);
            s.run_with_log(tl.log(), target, u64::MAX)
        })
    });
    g.finish();
}

fn scaled_with_trace(ticks: u64) -> Simulation {
    scaled(ticks, true, true)
}

criterion_group!(benches, bench, seek);
criterion_main!(benches);
