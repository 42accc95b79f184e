//! The partitions of a broker's partitioned topics, drawn under its box on the canvas, in Kafka's
//! terms: per partition its log-end offset (the next offset to be written), each consumer group's
//! committed offset (where a restarted member resumes), the lag (log-end − committed) and the
//! member that owns it now (`kafka-consumer-groups --describe`).

use crate::geometry::NodeBox;
use msgsim::Snapshot;
use yew::prelude::*;

/// Partitions shown per topic and group; the rest are counted.
pub const MAX_ROWS: usize = 8;

/// One table row: `(partition, log-end offset, committed, lag, owner)`.
pub type Row = (u32, u64, Option<u64>, u64, Option<String>);

/// The rows of `topic`'s group `group` (index) now.
pub fn rows(snap: &Snapshot, topic: usize, group: usize) -> Vec<Row> {
    let Some(t) = snap.partitioned_topics.get(topic) else {
        return Vec::new();
    };
    let Some(g) = t.groups.get(group) else {
        return Vec::new();
    };
    t.partitions
        .iter()
        .map(|p| {
            let gp = g.partitions.iter().find(|x| x.partition == p.partition);
            let owner = gp.and_then(|x| {
                x.owner_instance
                    .map(|i| format!("{}#{i}", g.consumer))
                    .or_else(|| x.owner.clone())
            });
            (
                p.partition,
                p.log_end_offset,
                gp.and_then(|x| x.committed),
                gp.map_or(0, |x| x.lag),
                owner,
            )
        })
        .collect()
}

fn f1(v: f64) -> String {
    crate::format::fixed(v, 1)
}

/// The tables of every partitioned topic hosted by broker `node`, under its box `b`; nothing
/// for a broker without one.
pub fn partition_tables(snap: &Snapshot, node: &str, b: &NodeBox) -> Html {
    let topics: Vec<usize> = snap
        .partitioned_topics
        .iter()
        .enumerate()
        .filter(|(_, t)| t.broker == node)
        .map(|(i, _)| i)
        .collect();
    if topics.is_empty() {
        return Html::default();
    }
    let x = b.left();

    let mut y = b.bottom() + 20.0;
    let mut out: Vec<Html> = Vec::new();
    for ti in topics {
        let t = &snap.partitioned_topics[ti];
        // The first column holds `<topic>-<p>`: as wide as the topic's longest partition name at
        // 13 units (main.css caps the table's text there when the canvas is drawn small), then
        // room for `committed` and 4-digit lags.
        let digits = t.partitions.len().saturating_sub(1).to_string().len();
        let first = (7.5 * (t.name.chars().count() + 1 + digits) as f64 + 10.0).max(72.0);
        let cols = [0.0, first, first + 64.0, first + 142.0, first + 180.0];
        let groups = if t.groups.is_empty() {
            1
        } else {
            t.groups.len()
        };
        for gi in 0..groups.min(2) {
            let g = t.groups.get(gi);
            let title = match g {
                Some(g) => format!(
                    "{} · group {} · generation {}",
                    t.name, g.group, g.generation
                ),
                None => t.name.clone(),
            };
            out.push(html! {
                <text class="part-title" x={f1(x)} y={f1(y)}>{ title }</text>
            });
            y += 16.0;
            let heads = ["part.", "log-end", "committed", "lag", "owner"];
            out.push(html! {
                <g class="part-head">
                    { for heads.iter().zip(cols).map(|(h, c)| html! {
                        <text x={f1(x + c)} y={f1(y)}>{ *h }</text>
                    }) }
                </g>
            });
            y += 15.0;
            let all = rows(snap, ti, gi);
            for (p, leo, committed, lag, owner) in all.iter().take(MAX_ROWS) {
                let committed = committed.map_or("–".to_string(), |c| c.to_string());
                let owner = owner.clone().unwrap_or_else(|| "none".into());
                let cells = [
                    format!("{}-{p}", t.name),
                    leo.to_string(),
                    committed,
                    lag.to_string(),
                    owner,
                ];
                let label = format!(
                    "partition {}-{p}: log-end offset {leo}, committed {}, lag {lag}, owner {}",
                    t.name, cells[2], cells[4]
                );
                out.push(html! {
                    <g class={if *lag > 0 { "part-row lagging" } else { "part-row" }}
                       data-testid="partition-row" role="img" aria-label={label.clone()}>
                        <title>{ label }</title>
                        { for cells.iter().zip(cols).map(|(v, c)| html! {
                            <text x={f1(x + c)} y={f1(y)}>{ v.clone() }</text>
                        }) }
                    </g>
                });
                y += 15.0;
            }
            if all.len() > MAX_ROWS {
                out.push(html! {
                    <text class="part-head" x={f1(x)} y={f1(y)}>
                        { format!("+{} more partitions", all.len() - MAX_ROWS) }
                    </text>
                });
                y += 15.0;
            }
            y += 8.0;
        }
    }
    html! {
        <g key={format!("partitions-{node}")} class="partition-table"
           data-testid={format!("partitions-{node}")}>{ for out }</g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::{Scenario, SimTime, Simulation};

    /// partitioned-orders at 5 s: three partitions, their log-end offsets, billing's committed
    /// offsets and lag, and which billing instance owns each.
    #[test]
    fn rows_give_offsets_lag_and_owner() {
        let s = Scenario::from_json(msgsim::scenarios::get("partitioned-orders").unwrap()).unwrap();
        let mut sim = Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(5_000), u64::MAX);
        let r = rows(&sim.snapshot(), 0, 0);
        assert_eq!(
            format!("{r:?}"),
            "[(0, 17, Some(13), 4, Some(\"billing#0\")), (1, 18, Some(16), 2, Some(\"billing#1\")), \
             (2, 15, Some(11), 4, Some(\"billing#2\"))]"
        );
    }
}
