//! Consumer groups of a partitioned topic in full simulation runs: a crash, the session timeout,
//! the rebalance that follows (exact time, exact new assignment), lag at exact times, and the
//! at-least-once reprocessing a crash causes.

use msgsim::{SimTime, Simulation, TraceKind};

fn partitioned_orders() -> Simulation {
    let json = msgsim::scenarios::get("partitioned-orders").expect("built-in");
    Simulation::from_json(json, 7).expect("valid")
}

/// `(partition, owner, committed, lag)` of the billing group, and the log-end offsets.
type Lag = (Vec<u64>, Vec<(u32, Option<String>, Option<u64>, u64)>);

fn lag(sim: &Simulation) -> Lag {
    let snap = sim.snapshot();
    let t = &snap.partitioned_topics[0];
    let ends = t.partitions.iter().map(|p| p.log_end_offset).collect();
    let g = &t.groups[0];
    let rows = g
        .partitions
        .iter()
        .map(|p| (p.partition, p.owner.clone(), p.committed, p.lag))
        .collect();
    (ends, rows)
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn crashed_member_is_removed_after_the_session_timeout_and_its_partition_moves() {
    let mut sim = partitioned_orders();
    sim.run_until(SimTime::from_ms(8_200), u64::MAX);
    let group_lines: Vec<String> = sim
        .trace()
        .events()
        .filter(|e| e.time >= SimTime::from_ms(5_000))
        .filter(|e| {
            matches!(
                e.what,
                TraceKind::Command { .. }
                    | TraceKind::MemberRemoved { .. }
                    | TraceKind::Revoke { .. }
                    | TraceKind::Join { .. }
                    | TraceKind::Rebalance { .. }
                    | TraceKind::Assign { .. }
            )
        })
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        group_lines,
        [
            "t=6000.000ms command crash billing#2",
            "t=7524.350ms broker group billing remove billing#2: session timeout (not heard from for 2000ms)",
            "t=8035.785ms billing#1 group billing revoke orders [1]",
            "t=8042.919ms billing#0 group billing revoke orders [0]",
            "t=8056.338ms broker group billing join billing#1",
            "t=8058.048ms broker group billing join billing#0",
            "t=8058.048ms broker group billing rebalance generation=2 orders: billing#0=[0,1] billing#1=[2]",
            "t=8120.061ms billing#0 group billing assign generation=2 orders [0@26 1@35]",
            "t=8126.505ms billing#1 group billing assign generation=2 orders [2@15]",
        ]
    );
    // The rebalance as the UI animates it.
    let snap = sim.snapshot();
    let g = &snap.partitioned_topics[0].groups[0];
    assert_eq!((g.generation, g.state, g.rebalance_count), (2, "Stable", 2));
    let r = g.rebalances.last().unwrap();
    assert_eq!((r.at, r.generation), (SimTime(8_058_048), 2));
    assert_eq!(
        r.departed
            .iter()
            .map(|d| (d.member_id.as_str(), d.reason, d.revoked.clone()))
            .collect::<Vec<_>>(),
        vec![("billing#2", "failed", vec![2])]
    );
    assert_eq!(
        r.moves
            .iter()
            .map(|m| (m.partition, m.from.as_deref(), m.to.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (1, Some("billing#1"), Some("billing#0")),
            (2, Some("billing#2"), Some("billing#1"))
        ]
    );
    let members: Vec<(&str, u32, Vec<u32>)> = g
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m.instance, m.partitions.clone()))
        .collect();
    assert_eq!(
        members,
        vec![("billing#0", 0, vec![0, 1]), ("billing#1", 1, vec![2])]
    );
}

#[test]
fn lag_grows_while_a_partition_has_no_live_owner_and_drains_after() {
    let mut sim = partitioned_orders();
    let mut at = |ms: u64| {
        sim.run_until(SimTime::from_ms(ms), u64::MAX);
        lag(&sim)
    };
    assert_eq!(
        at(6_000),
        (
            vec![20, 23, 17],
            vec![
                (0, some("billing#0"), Some(17), 3),
                (1, some("billing#1"), Some(18), 5),
                (2, some("billing#2"), Some(15), 2)
            ]
        )
    );
    // billing#2 is dead but still the owner until the coordinator notices.
    assert_eq!(
        at(7_000),
        (
            vec![22, 30, 18],
            vec![
                (0, some("billing#0"), Some(20), 2),
                (1, some("billing#1"), Some(23), 7),
                (2, some("billing#2"), Some(15), 3)
            ]
        )
    );
    // Rebalancing: partition 2 has no owner.
    assert_eq!(
        at(8_000),
        (
            vec![26, 35, 19],
            vec![
                (0, some("billing#0"), Some(22), 4),
                (1, some("billing#1"), Some(30), 5),
                (2, None, Some(15), 4)
            ]
        )
    );
    // Its new owner has not committed yet: the lag of partition 2 peaks.
    assert_eq!(
        at(9_000),
        (
            vec![27, 37, 26],
            vec![
                (0, some("billing#0"), Some(26), 1),
                (1, some("billing#0"), Some(35), 2),
                (2, some("billing#1"), Some(15), 11)
            ]
        )
    );
    // billing#2 restarted at 12 s and rejoined as billing#2.1 (generation 3).
    assert_eq!(
        at(12_600),
        (
            vec![39, 57, 30],
            vec![
                (0, some("billing#0"), Some(37), 2),
                (1, some("billing#1"), Some(54), 3),
                (2, some("billing#2.1"), Some(30), 0)
            ]
        )
    );
    // The workload is over (200 orders): everything is committed, no lag.
    assert_eq!(
        at(21_000),
        (
            vec![72, 75, 53],
            vec![
                (0, some("billing#0"), Some(72), 0),
                (1, some("billing#1"), Some(75), 0),
                (2, some("billing#2.1"), Some(53), 0)
            ]
        )
    );
}

#[test]
fn records_processed_after_the_last_commit_are_processed_again_by_the_next_owner() {
    let mut sim = partitioned_orders();
    sim.run_until(SimTime::from_ms(21_000), u64::MAX);
    let twice: Vec<String> = sim
        .trace()
        .events()
        .filter(|e| {
            matches!(&e.what, TraceKind::Consume { tp, offset, .. }
                if &**tp == "orders-2" && (15..=16).contains(offset))
        })
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        twice,
        [
            "t=5462.352ms billing#2 process orders-2@15 m55 effect applied",
            "t=5576.677ms billing#2 process orders-2@16 m56 effect applied",
            "t=8199.640ms billing#1 process orders-2@15 m55 effect applied",
            "t=8229.640ms billing#1 process orders-2@16 m56 effect applied",
        ]
    );
    let billing = sim.node_metrics("billing").unwrap();
    assert_eq!((billing.processed, billing.distinct), (202, 200));
    // One effect expected per distinct record: the naive receiver applied 2 too many.
    assert_eq!((billing.effects, billing.effects_expected), (202, 200));
    assert_eq!(sim.node_metrics("order").unwrap().confirmed, 200);
}
