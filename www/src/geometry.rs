//! Pure geometry of the topology canvas: node layout, node box sizes, the two lanes of a link
//! (one per direction, bent to either side) and the point a message has reached on its lane.
//!
//! Everything here is plain arithmetic on `f64`, with no browser and no Yew, so it is unit-tested
//! natively (`cargo test -p msgsim-web`).

use msgsim::scenario::{ChannelKind, NodeKind, Scenario};

/// Width of the canvas coordinate box (the SVG `viewBox`), the same box as `NodeSpec::pos`.
pub const VIEW_W: f64 = 1000.0;
/// Height of the canvas coordinate box.
pub const VIEW_H: f64 = 600.0;
/// How far (at its middle) a lane bends away from the straight link, to the right-hand side of
/// the direction of travel. The two directions of one link therefore never overlap.
pub const LANE_OFFSET: f64 = 12.0;
/// Gap between a node's box and the start/end of a lane.
pub const LANE_MARGIN: f64 = 6.0;
/// Margin kept between an auto-placed box and the canvas border.
pub const EDGE_MARGIN: f64 = 8.0;

/// Service box: minimum width, and height.
pub const SERVICE_W_MIN: f64 = 188.0;
/// Width of one character of a node's name (15 px bold), to fit long names in their box.
pub const NAME_CHAR_W: f64 = 8.8;
/// Service box height.
pub const SERVICE_H: f64 = 98.0;
/// Space per instance dot in a service box.
pub const INSTANCE_PITCH: f64 = 24.0;
/// Broker box width.
pub const BROKER_W: f64 = 300.0;
/// Broker box height without queue rows.
pub const BROKER_H_BASE: f64 = 56.0;
/// Height of one queue row in a broker box.
pub const QUEUE_ROW_H: f64 = 17.0;

/// A point in canvas coordinates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    /// Left to right, 0..=1000.
    pub x: f64,
    /// Top to bottom, 0..=600.
    pub y: f64,
}

impl Point {
    /// A point.
    pub const fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    /// Euclidean distance.
    pub fn dist(self, o: Point) -> f64 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }
}

/// Linear interpolation between `a` and `b`, `t` in `[0, 1]`.
pub fn lerp(a: Point, b: Point, t: f64) -> Point {
    Point::new(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
}

/// The box of a node on the canvas: its centre and half sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeBox {
    /// Centre.
    pub center: Point,
    /// Half of the width.
    pub half_w: f64,
    /// Half of the height.
    pub half_h: f64,
}

impl NodeBox {
    /// Left edge.
    pub fn left(&self) -> f64 {
        self.center.x - self.half_w
    }
    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.center.y + self.half_h
    }
    /// Top edge.
    pub fn top(&self) -> f64 {
        self.center.y - self.half_h
    }
    /// Width.
    pub fn width(&self) -> f64 {
        2.0 * self.half_w
    }
    /// Height.
    pub fn height(&self) -> f64 {
        2.0 * self.half_h
    }
}

/// Size (width, height) of a node's box: a service grows with its instances and its name, a
/// broker with the number of queues and subscriptions it lists.
pub fn node_size(kind: NodeKind, instances: u32, queues: usize, name: &str) -> (f64, f64) {
    // A relay's state word shares the name's row.
    let extra = if kind == NodeKind::Relay { 64.0 } else { 0.0 };
    match kind {
        NodeKind::Service
        | NodeKind::Relay
        | NodeKind::Registry
        | NodeKind::Router
        | NodeKind::Registrar
        | NodeKind::SchemaRegistry => {
            let w = (52.0 + INSTANCE_PITCH * instances as f64)
                .max(SERVICE_W_MIN + extra / 4.0)
                .max(28.0 + extra + NAME_CHAR_W * name.chars().count() as f64);
            (w, SERVICE_H)
        }
        NodeKind::Broker => (BROKER_W, BROKER_H_BASE + QUEUE_ROW_H * queues as f64),
    }
}

/// What [`auto_layout`] needs to know about one node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutSlot {
    /// A broker (placed in the centre column) or a service (placed around it).
    pub broker: bool,
    /// The position the scenario gives, if any; kept as is.
    pub pos: Option<[f64; 2]>,
    /// Box size, to keep auto-placed boxes inside the canvas.
    pub size: (f64, f64),
}

/// Centres of the nodes. A node with a `pos` keeps it (moved only as far as needed to keep its
/// box inside the canvas). The others are placed automatically: brokers evenly down the centre
/// column, services evenly on an ellipse around the centre, starting at the left and going
/// clockwise; every box is kept inside the canvas.
pub fn auto_layout(slots: &[LayoutSlot]) -> Vec<Point> {
    let brokers = slots.iter().filter(|s| s.broker && s.pos.is_none()).count();
    let services = slots
        .iter()
        .filter(|s| !s.broker && s.pos.is_none())
        .count();
    let (cx, cy) = (VIEW_W / 2.0, VIEW_H / 2.0);
    let (rx, ry) = (VIEW_W * 0.39, VIEW_H * 0.36);
    let mut nb = 0usize;
    let mut ns = 0usize;
    slots
        .iter()
        .map(|s| {
            if let Some([x, y]) = s.pos {
                return clamp_into_canvas(Point::new(x, y), s.size);
            }
            let p = if s.broker {
                nb += 1;
                Point::new(cx, VIEW_H * nb as f64 / (brokers + 1) as f64)
            } else {
                let k = ns as f64;
                ns += 1;
                let angle = std::f64::consts::PI + std::f64::consts::TAU * k / services as f64;
                let (sin, cos) = sin_cos(angle);
                Point::new(cx + rx * cos, cy + ry * sin)
            };
            clamp_into_canvas(p, s.size)
        })
        .collect()
}

/// Gap kept between two boxes that [`separate`] pushes apart.
pub const BOX_GAP: f64 = 10.0;

/// Pushes overlapping boxes apart (each half of the way, along the axis where they overlap
/// least), keeping them inside the canvas; a few rounds, so that scenario positions drawn with
/// smaller boxes in mind, or automatic positions next to a large broker, still read clearly.
pub fn separate(centers: &mut [Point], sizes: &[(f64, f64)]) {
    for _ in 0..40 {
        let mut moved = false;
        for i in 0..centers.len() {
            for j in 0..i {
                let (a, b) = (centers[i], centers[j]);
                let (dx, dy) = (a.x - b.x, a.y - b.y);
                let ox = (sizes[i].0 + sizes[j].0) / 2.0 + BOX_GAP - dx.abs();
                let oy = (sizes[i].1 + sizes[j].1) / 2.0 + BOX_GAP - dy.abs();
                if ox <= 0.0 || oy <= 0.0 {
                    continue;
                }
                moved = true;
                let sign = |d: f64, tie: f64| {
                    if d > 0.0 || (d == 0.0 && tie > 0.0) {
                        1.0
                    } else {
                        -1.0
                    }
                };
                if ox < oy {
                    let k = sign(dx, 1.0) * ox / 2.0;
                    centers[i].x += k;
                    centers[j].x -= k;
                } else {
                    let k = sign(dy, 1.0) * oy / 2.0;
                    centers[i].y += k;
                    centers[j].y -= k;
                }
                centers[i] = clamp_into_canvas(centers[i], sizes[i]);
                centers[j] = clamp_into_canvas(centers[j], sizes[j]);
            }
        }
        if !moved {
            break;
        }
    }
}

/// The smallest horizontal gap [`spread_rows`] leaves between two boxes side by side, so that
/// the link between them is long enough to watch a message travel.
pub const MIN_ROW_GAP: f64 = 50.0;

/// Boxes side by side (overlapping vertically) closer than [`MIN_ROW_GAP`] are spread evenly
/// over their row, widened (within the canvas) as far as needed.
pub fn spread_rows(centers: &mut [Point], sizes: &[(f64, f64)]) {
    let n = centers.len();
    let mut row = vec![usize::MAX; n];
    for i in 0..n {
        if row[i] != usize::MAX {
            continue;
        }
        row[i] = i;
        // Grow the row from i: every box overlapping a member vertically joins it.
        let mut k = 0;
        let mut members = vec![i];
        while k < members.len() {
            let a = members[k];
            for (j, r) in row.iter_mut().enumerate() {
                let overlap = (centers[a].y - centers[j].y).abs() < (sizes[a].1 + sizes[j].1) / 2.0;
                if *r == usize::MAX && overlap {
                    *r = i;
                    members.push(j);
                }
            }
            k += 1;
        }
        if members.len() < 2 {
            continue;
        }
        // By x (insertion sort: rows are short, and a generic sort costs kilobytes of wasm).
        for k in 1..members.len() {
            let mut j = k;
            while j > 0 && centers[members[j - 1]].x > centers[members[j]].x {
                members.swap(j - 1, j);
                j -= 1;
            }
        }
        let left = |k: usize| centers[k].x - sizes[k].0 / 2.0;
        let right = |k: usize| centers[k].x + sizes[k].0 / 2.0;
        let tight = members
            .windows(2)
            .any(|w| left(w[1]) - right(w[0]) < MIN_ROW_GAP);
        if !tight {
            continue;
        }
        let widths: f64 = members.iter().map(|&k| sizes[k].0).sum();
        let gaps = (members.len() - 1) as f64;
        let (l0, r0) = (left(members[0]), right(*members.last().unwrap_or(&i)));
        let span = (r0 - l0)
            .max(widths + gaps * MIN_ROW_GAP)
            .min(VIEW_W - 2.0 * EDGE_MARGIN);
        let start = ((l0 + r0) / 2.0 - span / 2.0).clamp(EDGE_MARGIN, VIEW_W - EDGE_MARGIN - span);
        let gap = ((span - widths) / gaps).max(0.0);
        let mut x = start;
        for &k in &members {
            centers[k].x = x + sizes[k].0 / 2.0;
            x += sizes[k].0 + gap;
        }
    }
}

/// `(sin a, cos a)` by Taylor series after reducing `a` to `[-π, π)`: accurate to ~1e-11, which
/// is plenty for a layout, and far smaller in wasm than libm's argument reduction.
pub fn sin_cos(a: f64) -> (f64, f64) {
    use std::f64::consts::{PI, TAU};
    if !a.is_finite() {
        return (0.0, 1.0);
    }
    let x = a - TAU * ((a + PI) / TAU).floor();
    let x2 = x * x;
    let (mut sin, mut cos) = (x, 1.0);
    let (mut ts, mut tc) = (x, 1.0);
    for k in 1..=11 {
        let k = k as f64;
        ts *= -x2 / ((2.0 * k) * (2.0 * k + 1.0));
        tc *= -x2 / ((2.0 * k - 1.0) * (2.0 * k));
        sin += ts;
        cos += tc;
    }
    (sin, cos)
}

/// Moves a box centre so that the whole box (of `size`) lies inside the canvas, when it fits.
pub fn clamp_into_canvas(p: Point, size: (f64, f64)) -> Point {
    let clamp = |v: f64, half: f64, max: f64| {
        let lo = half + EDGE_MARGIN;
        let hi = max - half - EDGE_MARGIN;
        if lo > hi {
            max / 2.0
        } else {
            v.clamp(lo, hi)
        }
    };
    Point::new(
        clamp(p.x, size.0 / 2.0, VIEW_W),
        clamp(p.y, size.1 / 2.0, VIEW_H),
    )
}

/// Where the ray from the centre of `b` towards `toward` leaves the box, pushed out by `margin`.
/// When `toward` is the centre itself, the centre.
pub fn clip_to_box(b: &NodeBox, toward: Point, margin: f64) -> Point {
    let (dx, dy) = (toward.x - b.center.x, toward.y - b.center.y);
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        return b.center;
    }
    let hw = b.half_w + margin;
    let hh = b.half_h + margin;
    // Scale at which the ray meets a vertical or a horizontal side; the first one met wins.
    let sx = if dx == 0.0 {
        f64::INFINITY
    } else {
        hw / dx.abs()
    };
    let sy = if dy == 0.0 {
        f64::INFINITY
    } else {
        hh / dy.abs()
    };
    let s = sx.min(sy).min(1.0);
    Point::new(b.center.x + dx * s, b.center.y + dy * s)
}

/// A quadratic Bézier curve: start, control point, end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    /// Start.
    pub p0: Point,
    /// Control point.
    pub c: Point,
    /// End.
    pub p1: Point,
}

impl Curve {
    /// The point at parameter `t` (clamped to `[0, 1]`).
    pub fn at(&self, t: f64) -> Point {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let u = 1.0 - t;
        Point::new(
            u * u * self.p0.x + 2.0 * u * t * self.c.x + t * t * self.p1.x,
            u * u * self.p0.y + 2.0 * u * t * self.c.y + t * t * self.p1.y,
        )
    }

    /// SVG path data (`M x y Q cx cy x y`).
    pub fn path(&self) -> String {
        let f = |v: f64| crate::format::fixed(v, 1);
        format!(
            "M{} {} Q{} {} {} {}",
            f(self.p0.x),
            f(self.p0.y),
            f(self.c.x),
            f(self.c.y),
            f(self.p1.x),
            f(self.p1.y)
        )
    }
}

/// Unit normal to the right-hand side of travel from `a` to `b` (screen coordinates, y down).
/// Reversing the direction flips it, which is what puts the two lanes of a link on opposite sides.
pub fn right_normal(a: Point, b: Point) -> Point {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        return Point::new(0.0, 0.0);
    }
    Point::new(-dy / len, dx / len)
}

/// The lane a message travels from box `from` to box `to`: it starts and ends just outside the
/// boxes and bends `offset` to the right of the direction of travel (at its middle), so the lane
/// of the opposite direction (same offset, reversed) lies on the other side of the link.
pub fn lane(from: &NodeBox, to: &NodeBox, offset: f64) -> Curve {
    let n = right_normal(from.center, to.center);
    let shift = |p: Point, k: f64| Point::new(p.x + n.x * k, p.y + n.y * k);
    let p0 = shift(clip_to_box(from, to.center, LANE_MARGIN), offset * 0.5);
    let p1 = shift(clip_to_box(to, from.center, LANE_MARGIN), offset * 0.5);
    let mid = lerp(p0, p1, 0.5);
    // A quadratic Bézier reaches half of its control point's extra offset at t = 0.5.
    let c = shift(mid, offset);
    Curve { p0, c, p1 }
}

/// The straight segment drawn for a link: between the two boxes' edges.
pub fn link_segment(a: &NodeBox, b: &NodeBox) -> (Point, Point) {
    (
        clip_to_box(a, b.center, LANE_MARGIN),
        clip_to_box(b, a.center, LANE_MARGIN),
    )
}

/// The canvas layout of a scenario: one box per node, in scenario order.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Node names, in scenario order.
    pub names: Vec<String>,
    /// Node boxes, in scenario order.
    pub boxes: Vec<NodeBox>,
    /// Links as node indices `(a, b)`, in scenario order.
    pub links: Vec<(usize, usize)>,
    /// Whether each node consumes a channel (a receiver), in scenario order.
    pub consumer: Vec<bool>,
    /// Per link: the brokerless (`direct`) channel it carries, if any (one end consumes it and
    /// the other is not a broker).
    pub direct: Vec<Option<String>>,
    /// Message relays and the service whose database they read: `(relay, service, log tailing)`
    /// as node indices (not a network link: drawn as a dotted line).
    pub relays: Vec<(usize, usize, bool)>,
    /// Per node: the worker count of its REST API (requests handled at once per instance), if
    /// it serves one.
    pub api_workers: Vec<Option<u32>>,
    /// Per node: whether it makes synchronous calls (a `calls[]` workload, a declared
    /// dependency, or an endpoint with downstream calls): a client of RPI proxies.
    pub rpc_client: Vec<bool>,
    /// Per node: when every tick of its workloads sends the same number (2 or more) of
    /// messages, that number and their channels: its box then counts orders (ticks), not
    /// messages ("orders placed 50 · ×2 messages").
    pub per_tick: Vec<Option<(u64, Vec<String>)>>,
}

/// Messages per workload tick of node `name` and their channels, when all its workloads (at
/// least one) send the same number, 2 or more, per tick.
fn per_tick_of(scenario: &Scenario, name: &str) -> Option<(u64, Vec<String>)> {
    let mut ws = scenario.workloads.iter().filter(|w| w.from == name);
    let first = ws.next()?;
    let k = first.messages.len();
    if k < 2 || ws.any(|w| w.messages.len() != k) {
        return None;
    }
    let mut channels: Vec<String> = first.messages.iter().map(|m| m.channel.clone()).collect();
    channels.dedup();
    Some((k as u64, channels))
}

impl Layout {
    /// Lays a scenario out: `pos` when given, [`auto_layout`] otherwise.
    pub fn new(scenario: &Scenario) -> Layout {
        // A broker lists its queues, plus a backlog row when it has a service time.
        let queues_on = |broker: &str| {
            scenario
                .channels
                .iter()
                .filter(|c| c.broker == broker)
                .map(|c| c.consumers.len())
                .sum::<usize>()
                + usize::from(scenario.policies.broker_service_time_us > 0)
        };
        let sizes: Vec<(f64, f64)> = scenario
            .nodes
            .iter()
            .map(|n| node_size(n.kind, n.instances, queues_on(&n.name), &n.name))
            .collect();
        let slots: Vec<LayoutSlot> = scenario
            .nodes
            .iter()
            .zip(&sizes)
            .map(|(n, &size)| LayoutSlot {
                broker: n.kind == NodeKind::Broker,
                pos: n.pos,
                size,
            })
            .collect();
        let mut centers = auto_layout(&slots);
        separate(&mut centers, &sizes);
        spread_rows(&mut centers, &sizes);
        let boxes = centers
            .into_iter()
            .zip(&sizes)
            .map(|(center, &(w, h))| NodeBox {
                center,
                half_w: w / 2.0,
                half_h: h / 2.0,
            })
            .collect();
        let names: Vec<String> = scenario.nodes.iter().map(|n| n.name.clone()).collect();
        let index = |name: &str| names.iter().position(|n| n == name);
        let links = scenario
            .links
            .iter()
            .filter_map(|l| Some((index(&l.a)?, index(&l.b)?)))
            .collect();
        let is_broker = |name: &str| {
            scenario
                .nodes
                .iter()
                .any(|n| n.name == name && n.kind == NodeKind::Broker)
        };
        let direct = scenario
            .links
            .iter()
            .map(|l| {
                if is_broker(&l.a) || is_broker(&l.b) {
                    return None;
                }
                scenario
                    .channels
                    .iter()
                    .find(|c| {
                        c.kind == ChannelKind::Direct
                            && (c.consumers.contains(&l.a) || c.consumers.contains(&l.b))
                    })
                    .map(|c| c.name.clone())
            })
            .collect();
        let consumer = scenario
            .nodes
            .iter()
            .map(|n| {
                scenario
                    .channels
                    .iter()
                    .any(|c| c.consumers.contains(&n.name))
            })
            .collect();
        let relays = scenario
            .transactional
            .relays
            .iter()
            .filter_map(|r| {
                Some((
                    index(&r.node)?,
                    index(&r.service)?,
                    r.mode == msgsim::outbox::RelayMode::LogTailing,
                ))
            })
            .collect();
        let api_workers = scenario
            .nodes
            .iter()
            .map(|n| {
                scenario
                    .apis
                    .iter()
                    .find(|a| a.service == n.name)
                    .map(|a| a.workers)
            })
            .collect();
        let rpc_client = scenario
            .nodes
            .iter()
            .map(|n| {
                scenario.calls.iter().any(|c| c.from == n.name)
                    || scenario.dependencies.iter().any(|d| d.from == n.name)
                    || scenario.apis.iter().any(|a| {
                        a.service == n.name && a.endpoints.iter().any(|e| !e.downstream.is_empty())
                    })
            })
            .collect();
        let per_tick = scenario
            .nodes
            .iter()
            .map(|n| per_tick_of(scenario, &n.name))
            .collect();
        Layout {
            names,
            boxes,
            links,
            consumer,
            direct,
            relays,
            api_workers,
            rpc_client,
            per_tick,
        }
    }

    /// Index of the node `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The lane from node `from` to node `to` (by name), if both exist.
    pub fn lane_between(&self, from: &str, to: &str) -> Option<Curve> {
        let (f, t) = (self.index(from)?, self.index(to)?);
        Some(lane(&self.boxes[f], &self.boxes[t], LANE_OFFSET))
    }

    /// Where a message from `from` to `to` is at `progress` (0 = just left `from`, 1 = arrived).
    pub fn position(&self, from: &str, to: &str, progress: f64) -> Option<Point> {
        Some(self.lane_between(from, to)?.at(progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Point, b: Point) -> bool {
        a.dist(b) < 1e-9
    }

    fn boxed(x: f64, y: f64) -> NodeBox {
        NodeBox {
            center: Point::new(x, y),
            half_w: 50.0,
            half_h: 20.0,
        }
    }

    #[test]
    fn sin_cos_matches_the_standard_library() {
        for i in -200..=200 {
            let a = i as f64 * 0.1;
            let (s, c) = sin_cos(a);
            assert!((s - a.sin()).abs() < 1e-9, "{a}");
            assert!((c - a.cos()).abs() < 1e-9, "{a}");
        }
        assert_eq!(sin_cos(f64::NAN), (0.0, 1.0));
    }

    #[test]
    fn curve_endpoints_and_middle() {
        let c = Curve {
            p0: Point::new(0.0, 0.0),
            c: Point::new(50.0, 40.0),
            p1: Point::new(100.0, 0.0),
        };
        assert!(close(c.at(0.0), c.p0));
        assert!(close(c.at(1.0), c.p1));
        assert!(close(c.at(0.5), Point::new(50.0, 20.0)));
        // Out-of-range and NaN progress are clamped rather than extrapolated.
        assert!(close(c.at(-3.0), c.p0));
        assert!(close(c.at(7.0), c.p1));
        assert!(close(c.at(f64::NAN), c.p0));
        assert_eq!(c.path(), "M0.0 0.0 Q50.0 40.0 100.0 0.0");
    }

    #[test]
    fn clip_to_box_hits_the_nearest_side() {
        let b = boxed(100.0, 100.0);
        // Straight right: the right side, plus the margin.
        assert!(close(
            clip_to_box(&b, Point::new(400.0, 100.0), 5.0),
            Point::new(155.0, 100.0)
        ));
        // Straight down: the bottom side.
        assert!(close(
            clip_to_box(&b, Point::new(100.0, 400.0), 0.0),
            Point::new(100.0, 120.0)
        ));
        // Diagonal 45°: the half height (20) is reached first.
        assert!(close(
            clip_to_box(&b, Point::new(200.0, 200.0), 0.0),
            Point::new(120.0, 120.0)
        ));
        // Target inside the box: never beyond the target.
        assert!(close(
            clip_to_box(&b, Point::new(110.0, 100.0), 0.0),
            Point::new(110.0, 100.0)
        ));
        assert!(close(clip_to_box(&b, b.center, 3.0), b.center));
    }

    #[test]
    fn the_two_lanes_of_a_link_bend_to_opposite_sides() {
        let a = boxed(100.0, 300.0);
        let b = boxed(700.0, 300.0);
        let ab = lane(&a, &b, LANE_OFFSET);
        let ba = lane(&b, &a, LANE_OFFSET);
        // Travelling right (y down), the right-hand side is +y; travelling left it is -y.
        let mid_ab = ab.at(0.5);
        let mid_ba = ba.at(0.5);
        assert!(
            (mid_ab.y - (300.0 + LANE_OFFSET)).abs() < 1e-9,
            "{mid_ab:?}"
        );
        assert!(
            (mid_ba.y - (300.0 - LANE_OFFSET)).abs() < 1e-9,
            "{mid_ba:?}"
        );
        // Lanes start outside the sender's box and end outside the receiver's box.
        assert!(ab.p0.x > a.center.x + a.half_w);
        assert!(ab.p1.x < b.center.x - b.half_w);
        assert!(ba.p0.x < b.center.x - b.half_w);
        // Progress moves monotonically from sender to receiver.
        let xs: Vec<f64> = (0..=10).map(|i| ab.at(i as f64 / 10.0).x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    }

    #[test]
    fn right_normal_is_a_unit_vector_and_flips_with_direction() {
        let a = Point::new(10.0, 20.0);
        let b = Point::new(40.0, 60.0);
        let n = right_normal(a, b);
        let m = right_normal(b, a);
        assert!((n.x.hypot(n.y) - 1.0).abs() < 1e-12);
        assert!(close(n, Point::new(-m.x, -m.y)));
        assert!(close(right_normal(a, a), Point::new(0.0, 0.0)));
    }

    #[test]
    fn auto_layout_keeps_given_positions_and_fills_the_rest_inside_the_canvas() {
        let svc = |pos| LayoutSlot {
            broker: false,
            pos,
            size: node_size(NodeKind::Service, 2, 0, "svc"),
        };
        let brk = LayoutSlot {
            broker: true,
            pos: None,
            size: node_size(NodeKind::Broker, 1, 4, "broker"),
        };
        let slots = [
            svc(None),
            brk,
            svc(Some([123.0, 456.0])),
            svc(None),
            svc(None),
        ];
        let pts = auto_layout(&slots);
        assert_eq!(pts.len(), 5);
        assert!(close(pts[2], Point::new(123.0, 456.0)));
        // The one broker sits in the middle of the canvas.
        assert!(close(pts[1], Point::new(VIEW_W / 2.0, VIEW_H / 2.0)));
        // The first auto-placed service starts at the left.
        assert!(pts[0].x < VIEW_W / 4.0, "{:?}", pts[0]);
        for (p, s) in pts.iter().zip(&slots) {
            if s.pos.is_none() {
                assert!(p.x - s.size.0 / 2.0 >= EDGE_MARGIN - 1e-9, "{p:?}");
                assert!(p.x + s.size.0 / 2.0 <= VIEW_W - EDGE_MARGIN + 1e-9, "{p:?}");
                assert!(p.y - s.size.1 / 2.0 >= EDGE_MARGIN - 1e-9, "{p:?}");
                assert!(p.y + s.size.1 / 2.0 <= VIEW_H - EDGE_MARGIN + 1e-9, "{p:?}");
            }
        }
        // All distinct.
        for i in 0..pts.len() {
            for j in 0..i {
                assert!(pts[i].dist(pts[j]) > 50.0, "{i} {j} {pts:?}");
            }
        }
    }

    #[test]
    fn a_producer_sending_two_messages_per_order_counts_orders() {
        let load = |n: &str| {
            Layout::new(&Scenario::from_json(msgsim::scenarios::get(n).unwrap()).unwrap())
        };
        let l = load("brokerless-vs-broker");
        let order = l.index("order").unwrap();
        assert_eq!(
            l.per_tick[order],
            Some((2, vec!["tickets".to_string(), "tickets-direct".to_string()]))
        );
        assert_eq!(l.per_tick[l.index("broker").unwrap()], None);
        // One message per tick: messages are orders.
        let d = load("duplicate-handling");
        assert_eq!(d.per_tick[d.index("order").unwrap()], None);
    }

    #[test]
    fn node_sizes_grow_with_instances_and_queues() {
        assert_eq!(
            node_size(NodeKind::Service, 1, 0, "order"),
            (SERVICE_W_MIN, SERVICE_H)
        );
        assert!(node_size(NodeKind::Service, 16, 0, "order").0 > SERVICE_W_MIN);
        assert!(node_size(NodeKind::Relay, 1, 0, "order-publish-first").0 > SERVICE_W_MIN);
        assert_eq!(
            node_size(NodeKind::Broker, 1, 3, "broker").1,
            BROKER_H_BASE + 3.0 * QUEUE_ROW_H
        );
    }

    #[test]
    fn layout_of_the_builtin_scenario_uses_its_positions_and_has_lanes() {
        let json = msgsim::scenarios::get("order-events").unwrap();
        let s = Scenario::from_json(json).unwrap();
        let l = Layout::new(&s);
        assert_eq!(l.names.len(), s.nodes.len());
        assert_eq!(l.links.len(), s.links.len());
        assert_eq!(l.consumer, vec![false, false, true, true, true]);
        let order = l.index("order").unwrap();
        assert!(close(l.boxes[order].center, Point::new(130.0, 300.0)));
        let start = l.position("order", "broker", 0.0).unwrap();
        let end = l.position("order", "broker", 1.0).unwrap();
        assert!(start.x < end.x);
        assert!(l.position("order", "nowhere", 0.5).is_none());
    }

    fn assert_tidy(l: &Layout, what: &str) {
        for (i, a) in l.boxes.iter().enumerate() {
            assert!(
                a.left() >= 0.0 && a.top() >= 0.0,
                "{what}: {} leaves the canvas",
                l.names[i]
            );
            assert!(
                a.left() + a.width() <= VIEW_W && a.top() + a.height() <= VIEW_H,
                "{what}: {} leaves the canvas",
                l.names[i]
            );
            for (j, b) in l.boxes.iter().enumerate().take(i) {
                let apart_x = (a.center.x - b.center.x).abs() >= a.half_w + b.half_w;
                let apart_y = (a.center.y - b.center.y).abs() >= a.half_h + b.half_h;
                assert!(
                    apart_x || apart_y,
                    "{what}: {} overlaps {}",
                    l.names[i],
                    l.names[j]
                );
            }
        }
    }

    #[test]
    fn every_builtin_scenario_fits_the_canvas_without_overlaps_placed_or_laid_out() {
        for (name, json) in msgsim::scenarios::BUILTIN {
            let mut s = Scenario::from_json(json).unwrap();
            assert_tidy(&Layout::new(&s), name);
            for n in &mut s.nodes {
                n.pos = None;
            }
            assert_tidy(&Layout::new(&s), &format!("{name} (automatic layout)"));
        }
    }

    #[test]
    fn boxes_side_by_side_leave_room_for_their_link() {
        let s = Scenario::from_json(msgsim::scenarios::get("respond-before-processing").unwrap())
            .unwrap();
        let l = Layout::new(&s);
        let b = |n: &str| l.boxes[l.index(n).unwrap()];
        let (client, order) = (b("client"), b("order"));
        let gap = order.left() - (client.left() + client.width());
        assert!(gap >= 30.0, "client ↔ order link is {gap} px long");
    }

    #[test]
    fn direct_links_are_found() {
        let s =
            Scenario::from_json(msgsim::scenarios::get("brokerless-vs-broker").unwrap()).unwrap();
        let l = Layout::new(&s);
        assert_eq!(
            l.direct,
            vec![None, None, Some("tickets-direct".to_string())]
        );
    }
}
