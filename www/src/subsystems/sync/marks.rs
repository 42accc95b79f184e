//! Remote procedure invocation drawn as the brief's figure: the RPI proxy inside the client's
//! box and the RPI server adapter inside the server's, each at the side facing the other, and,
//! when the scenario has one client–server pair, the steps of one call labelled along their link:
//! the business logic calls the proxy (the caller blocks), the proxy sends the HTTP request, the
//! adapter queues it for a worker and calls the service logic, the response goes back, the proxy
//! returns and the caller unblocks.

use crate::geometry::NodeBox;
use msgsim::Snapshot;
use yew::prelude::*;

/// The steps of one call, as labelled on the canvas.
pub const STEPS: [&str; 5] = [
    "① logic calls the proxy: the caller blocks",
    "② proxy sends the HTTP request",
    "③ adapter queues it for a worker, calls the logic",
    "④ the HTTP response comes back",
    "⑤ proxy returns the result: the caller unblocks",
];

fn f1(v: f64) -> String {
    crate::format::fixed(v, 1)
}

/// The (client, server) pairs of the run's proxies, once each, in snapshot order.
pub fn pairs(snap: &Snapshot) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for p in &snap.proxies {
        let pair = (p.client.clone(), p.service.clone());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

/// A small labelled box set into the top border of `b`, at the side facing `toward`.
fn port(b: &NodeBox, toward: &NodeBox, label: &'static str, class: &'static str) -> Html {
    let w = 10.0 + 7.2 * label.chars().count() as f64;
    let h = 18.0;
    let right = toward.center.x >= b.center.x;
    let x = if right {
        b.left() + b.width() - w - 4.0
    } else {
        b.left() + 4.0
    };
    // On the box's top border (half in), clear of the name and counters inside.
    let y = b.top() - h / 2.0;
    html! {
        <g class={classes!("rpi-port", class)} data-testid={class} role="img" aria-label={label}>
            <title>{ label }</title>
            <rect x={f1(x)} y={f1(y)} width={f1(w)} height={f1(h)} rx="4" />
            <text x={f1(x + w / 2.0)} y={f1(y + 12.5)}>{ label }</text>
        </g>
    }
}

/// The decorations of node `node` (its box `b`; `box_of` finds another node's box).
pub fn rpi_figure<'a>(
    snap: &Snapshot,
    node: &str,
    b: &NodeBox,
    box_of: impl Fn(&str) -> Option<&'a NodeBox>,
) -> Html {
    let pairs = pairs(snap);
    let mut out: Vec<Html> = Vec::new();
    // A service that is both (checkout between shop and payments): short labels, so the two
    // fit side by side on its top border.
    let both = pairs.iter().any(|(c, _)| c == node) && pairs.iter().any(|(_, s)| s == node);
    if let Some((_, server)) = pairs.iter().find(|(c, _)| c == node) {
        if let Some(sb) = box_of(server) {
            let label = if both { "proxy" } else { "RPI proxy" };
            out.push(port(b, sb, label, "rpi-proxy"));
        }
    }
    if let Some((client, _)) = pairs.iter().find(|(_, s)| s == node) {
        if let Some(cb) = box_of(client) {
            let label = if both { "adapter" } else { "server adapter" };
            out.push(port(b, cb, label, "rpi-adapter"));
            // One pair only: the call's steps under the link.
            if pairs.len() == 1 {
                let x = (cb.center.x + b.center.x) / 2.0;
                let y = cb.center.y.max(b.center.y) + 40.0;
                out.push(html! {
                    <g class="rpi-steps" data-testid="rpi-steps">
                        <text class="rpi-steps-title" x={f1(x)} y={f1(y)}>{ "One call, step by step (synchronous):" }</text>
                        { for STEPS.iter().enumerate().map(|(k, s)| html! {
                            <text x={f1(x)} y={f1(y + 17.0 * (k as f64 + 1.0))}>{ *s }</text>
                        }) }
                    </g>
                });
            }
        }
    }
    html! { for out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::{Scenario, SimTime, Simulation};

    #[test]
    fn rpi_rest_has_one_client_server_pair() {
        let s = Scenario::from_json(msgsim::scenarios::get("rpi-rest").unwrap()).unwrap();
        let mut sim = Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(1_000), u64::MAX);
        assert_eq!(
            pairs(&sim.snapshot()),
            [("checkout".to_string(), "orders".to_string())]
        );
    }
}
