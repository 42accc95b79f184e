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

criterion_group!(benches, bench);
criterion_main!(benches);
