//! Parallel workers per partition (`parallel-workers`): records complete out of order, and the
//! committed offset never passes a record that is not processed.

use msgsim::{SimTime, Simulation, TraceKind};
use std::collections::BTreeMap;

fn parallel_workers() -> Simulation {
    let json = msgsim::scenarios::get("parallel-workers").expect("built-in");
    Simulation::from_json(json, 5).expect("valid")
}

#[test]
fn out_of_order_completions_commit_only_the_contiguous_prefix() {
    let mut sim = parallel_workers();
    sim.run_until(SimTime::from_ms(3_390), u64::MAX);
    let snap = sim.snapshot();
    let g = &snap.partitioned_topics[0].groups[0];
    assert_eq!(g.group, "thumbnailer");
    let p0 = &g.instances[0].partitions[0];
    // 26 is done, 25 and 27 are in progress: everything below 25 is done, so 25 is committable.
    assert_eq!(
        (
            p0.partition,
            p0.position,
            p0.committable,
            p0.in_progress.clone()
        ),
        (0, Some(28), Some(25), vec![25, 27])
    );
    sim.run_until(SimTime::from_ms(3_420), u64::MAX);
    let lines: Vec<String> = sim
        .trace()
        .events()
        .filter(|e| e.time >= SimTime::from_ms(3_370))
        .filter(|e| match &e.what {
            TraceKind::Consume { tp, .. } | TraceKind::OffsetCommit { tp, .. } => {
                &**tp == "images-0"
            }
            _ => false,
        })
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "t=3381.163ms thumbnailer#0 process images-0@26 m54 effect applied",
            "t=3394.781ms thumbnailer#0 process images-0@25 m53 effect applied",
            "t=3410.000ms broker group thumbnailer commit images-0 offset=27 by thumbnailer#0 generation=1 accepted",
        ]
    );
}

#[test]
fn no_commit_ever_passes_an_unprocessed_record() {
    let mut sim = parallel_workers();
    sim.run_until(SimTime::from_ms(30_000), u64::MAX);
    // (group, partition) -> offset -> first time processed by that group.
    let mut done: BTreeMap<(String, String), BTreeMap<u64, SimTime>> = BTreeMap::new();
    let mut commits = 0;
    let mut out_of_order: BTreeMap<String, u32> = BTreeMap::new();
    let mut last_done: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in sim.trace().events() {
        match &e.what {
            TraceKind::Consume { at, tp, offset, .. } => {
                let key = (at.node.to_string(), tp.to_string());
                if last_done.get(&key).is_some_and(|&l| *offset < l) {
                    *out_of_order.entry(at.node.to_string()).or_default() += 1;
                }
                last_done.insert(key.clone(), *offset);
                done.entry(key)
                    .or_default()
                    .entry(*offset)
                    .or_insert(e.time);
            }
            TraceKind::OffsetCommit {
                group,
                tp,
                offset,
                verdict: msgsim::trace::CommitVerdict::Accepted,
                ..
            } => {
                commits += 1;
                let key = (group.to_string(), tp.to_string());
                let seen = done.get(&key).cloned().unwrap_or_default();
                for o in 0..*offset {
                    assert!(
                        seen.get(&o).is_some_and(|&t| t <= e.time),
                        "{e}: offset {o} was not processed yet"
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(commits, 282);
    // Completions below an earlier completion of the same partition: thumbnailer's workers
    // overtake each other (and a new owner starts again below after a rebalance); indexer's
    // single worker never does.
    assert_eq!(
        out_of_order.into_iter().collect::<Vec<_>>(),
        vec![("thumbnailer".to_string(), 63)]
    );
    let thumbnailer = sim.node_metrics("thumbnailer").unwrap();
    assert_eq!((thumbnailer.processed, thumbnailer.distinct), (202, 200));
    // indexer, one worker per partition, in order: far behind, never out of order.
    let indexer = sim.node_metrics("indexer").unwrap();
    assert_eq!((indexer.processed, indexer.distinct), (196, 196));
}

#[test]
fn one_worker_per_partition_falls_behind() {
    let mut sim = parallel_workers();
    sim.run_until(SimTime::from_ms(12_000), u64::MAX);
    let snap = sim.snapshot();
    let lag = |g: usize| -> Vec<u64> {
        snap.partitioned_topics[0].groups[g]
            .partitions
            .iter()
            .map(|p| p.lag)
            .collect()
    };
    // At the end of the workload: thumbnailer keeps up, indexer is 59 and 65 records behind.
    assert_eq!((lag(0), lag(1)), (vec![6, 6], vec![59, 65]));
}
