//! Wire sizes of the channels with schemas, drawn under the broker that carries them: per
//! channel its encoding and the average encoded size of its messages, with the same messages'
//! size in the other encoding (JSON spells every field name and value as text; binary Avro writes
//! values only, in schema order), so a JSON-vs-Avro comparison reads off the canvas.

use crate::geometry::NodeBox;
use msgsim::contract::Encoding;
use msgsim::Snapshot;
use yew::prelude::*;

/// One line per channel with schemas on broker `node` that carried messages:
/// `orders-avro · Avro · 31 B per message (as JSON 117 B: 26 %)`.
pub fn size_lines(snap: &Snapshot, node: &str) -> Vec<String> {
    let Some(sc) = snap.schemas.as_ref() else {
        return Vec::new();
    };
    sc.channels
        .iter()
        .filter(|c| c.messages > 0)
        .filter(|c| {
            snap.channels
                .iter()
                .any(|ch| ch.name == c.channel && ch.broker == node)
        })
        .map(|c| {
            let per = |b: u64| (b + c.messages / 2) / c.messages;
            let (json, avro) = (per(c.json_bytes), per(c.avro_bytes));
            match c.encoding {
                Encoding::Json => format!(
                    "{} · JSON · {json} B per message (as Avro {avro} B: {} %)",
                    c.channel,
                    (avro * 100 + json / 2) / json.max(1)
                ),
                Encoding::Avro => format!(
                    "{} · Avro · {avro} B per message (as JSON {json} B: {} %)",
                    c.channel,
                    (avro * 100 + json / 2) / json.max(1)
                ),
            }
        })
        .collect()
}

/// The lines above the broker's box `b` (under it when the box is near the top).
pub fn wire_sizes(snap: &Snapshot, node: &str, b: &NodeBox) -> Html {
    let lines = size_lines(snap, node);
    if lines.is_empty() {
        return Html::default();
    }
    let f1 = |v: f64| crate::format::fixed(v, 1);
    let n = lines.len() as f64;
    let below = b.top() < 30.0 + 16.0 * n;
    let y0 = if below {
        b.bottom() + 18.0
    } else {
        b.top() - 10.0 - 16.0 * (n - 1.0)
    };
    html! {
        <g key={format!("sizes-{node}")} class="wire-sizes" data-testid={format!("wire-sizes-{node}")}>
            <title>{ "Encoded size on the wire, average per message; the same values in the other encoding" }</title>
            { for lines.into_iter().enumerate().map(|(k, l)| html! {
                <text x={f1(b.center.x)} y={f1(y0 + 16.0 * k as f64)}>{ l }</text>
            }) }
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::{Scenario, SimTime, Simulation};

    #[test]
    fn encoding_comparison_shows_json_and_avro_sizes() {
        let s =
            Scenario::from_json(msgsim::scenarios::get("encoding-comparison").unwrap()).unwrap();
        let mut sim = Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(3_000), u64::MAX);
        assert_eq!(
            size_lines(&sim.snapshot(), "broker"),
            [
                "orders-json · JSON · 175 B per message (as Avro 57 B: 33 %)",
                "orders-avro · Avro · 57 B per message (as JSON 175 B: 33 %)"
            ]
        );
    }
}
