//! Where each message in flight is drawn (pure, tested natively): messages are grouped by
//! lane (one directed link); a lane that holds no more messages than fit along it
//! ([`LANE_SPACING`] canvas units each) draws every message where it is; a denser lane becomes
//! a *stream*: one slot per [`LANE_SPACING`], the most telling message of each slot drawn at
//! the slot's middle, a band along the occupied part of the lane and a count badge. So a link
//! never piles its messages into a blob, and the work per frame is bounded by
//! [`MAX_CONSIDERED`] messages placed and [`MAX_DRAWN`] shapes drawn.

use crate::geometry::{right_normal, Curve, Layout, Point, LANE_OFFSET};
use msgsim::snapshot::TransitView;
use msgsim::{MessageId, SimTime};
use std::collections::BTreeMap;

/// Canvas units (of the 1000 × 600 view) one message needs along its lane: a shape is about
/// 17 units wide, plus room for its attempt badge.
pub const LANE_SPACING: f64 = 22.0;
/// Messages in flight placed per frame at most (the snapshot's first ones, in send order); the
/// rest are counted in their lane's badge only when their lane is known... and not at all beyond.
pub const MAX_CONSIDERED: usize = 20_000;
/// Message shapes drawn per frame at most (over all lanes).
pub const MAX_DRAWN: usize = 1_500;

/// One message drawn this frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// Index into the snapshot's `in_flight`.
    pub index: usize,
    /// Where its shape's centre is (canvas units).
    pub at: Point,
    /// Direction of travel (radians, screen coordinates: 0 = to the right, y down).
    pub heading: f64,
    /// Its lane is drawn as a stream and this message stands for its slot.
    pub in_stream: bool,
    /// Messages of its slot (1 unless it stands for a slot of a stream).
    pub slot_count: usize,
}

/// A lane drawn as a stream: more messages in flight on it than fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The lane's curve.
    pub curve: Curve,
    /// Occupied part of the lane: from, to (curve parameter, 0..=1).
    pub span: (f64, f64),
    /// Messages in flight on the lane.
    pub count: usize,
    /// Where the count badge goes (outside the lane, on its own side of the link).
    pub badge_at: Point,
    /// Names of the lane's ends: `(from, to)`.
    pub ends: (String, String),
}

/// What to draw this frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Shapes, in drawing order (a lane's interesting messages last, so they are on top).
    pub drawn: Vec<Placed>,
    /// Lanes drawn as streams.
    pub streams: Vec<Stream>,
    /// Every message placed (index into `in_flight`, where it really is), for the test hook.
    pub all: Vec<(usize, Point)>,
    /// Messages in flight the frame did not place (beyond [`MAX_CONSIDERED`] or off any lane).
    pub unplaced: usize,
}

/// How telling a message is when one of a slot's messages must stand for the others:
/// the selected one first, then a rejection, a failure status, a retry or redelivery, a
/// network duplicate, a held one.
pub fn interest(t: &TransitView, selected: Option<MessageId>) -> u32 {
    let mut s = 0;
    if selected == Some(t.msg) {
        s += 1_000;
    }
    if matches!(t.kind, "nack" | "reset") {
        s += 40;
    }
    if t.http
        .as_ref()
        .and_then(|h| h.status)
        .is_some_and(|st| st >= 400)
    {
        s += 30;
    }
    if t.attempt > 1 {
        s += 20;
    }
    if t.duplicate {
        s += 10;
    }
    if t.held {
        s += 5;
    }
    s
}

/// Approximate length of a lane (canvas units): its curve sampled in 8 pieces.
pub fn curve_length(c: &Curve) -> f64 {
    let mut len = 0.0;
    let mut prev = c.at(0.0);
    for k in 1..=8 {
        let p = c.at(k as f64 / 8.0);
        len += prev.dist(p);
        prev = p;
    }
    len
}

/// Messages that fit along a lane of this curve (at least 1).
pub fn capacity(c: &Curve) -> usize {
    ((curve_length(c) / LANE_SPACING).floor() as usize).max(1)
}

fn heading(c: &Curve, p: f64) -> f64 {
    let a = c.at((p - 0.02).max(0.0));
    let b = c.at((p + 0.02).min(1.0));
    (b.y - a.y).atan2(b.x - a.x)
}

/// Canvas units between a lane and its stream's count badge. The badge goes beside the lane's
/// middle, else beside its first or last fifth, else the same [`BADGE_OFFSET_FAR`] out: the
/// first place at least [`BADGE_CLEARANCE`] from every link's fault badge (an SVG label beside
/// the link's middle) and every count badge placed before it.
pub const BADGE_OFFSET: f64 = 20.0;
/// See [`BADGE_OFFSET`].
pub const BADGE_OFFSET_FAR: f64 = 46.0;
/// See [`BADGE_OFFSET`].
pub const BADGE_CLEARANCE: f64 = 34.0;

/// A lane while planning: its curve, its ends (node indices), its messages (index into
/// `in_flight`, progress).
type Lane = (Curve, (usize, usize), Vec<(usize, f64)>);

/// Plans a frame: `in_flight` at virtual time `now` on `layout`, `selected` drawn on top;
/// count badges keep clear of the points in `avoid` (the links' fault badges).
pub fn plan(
    in_flight: &[TransitView],
    now: SimTime,
    layout: &Layout,
    selected: Option<MessageId>,
    avoid: &[Point],
) -> Plan {
    // Lanes by (from, to) node index, in order of first appearance: stable frame to frame.
    let mut lane_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut lanes: Vec<Lane> = Vec::new();
    let mut out = Plan::default();
    for (i, t) in in_flight.iter().enumerate().take(MAX_CONSIDERED) {
        let (Some(f), Some(to)) = (layout.index(&t.from), layout.index(&t.to)) else {
            out.unplaced += 1;
            continue;
        };
        let id = *lane_of.entry((f, to)).or_insert_with(|| {
            let curve = crate::geometry::lane(&layout.boxes[f], &layout.boxes[to], LANE_OFFSET);
            lanes.push((curve, (f, to), Vec::new()));
            lanes.len() - 1
        });
        let p = t.progress(now);
        out.all.push((i, lanes[id].0.at(p)));
        lanes[id].2.push((i, p));
    }
    out.unplaced += in_flight.len().saturating_sub(MAX_CONSIDERED);
    let mut budget = MAX_DRAWN;
    for (curve, (f, to), members) in &lanes {
        let cap = capacity(curve).min(budget.max(1));
        if members.len() <= cap {
            // Plain messages first, telling ones on top.
            let mut order: Vec<&(usize, f64)> = members.iter().collect();
            order.sort_by_key(|(i, _)| interest(&in_flight[*i], selected));
            for &&(i, p) in &order {
                out.drawn.push(Placed {
                    index: i,
                    at: curve.at(p),
                    heading: heading(curve, p),
                    in_stream: false,
                    slot_count: 1,
                });
            }
            budget = budget.saturating_sub(members.len());
            continue;
        }
        // A stream: one representative per slot, at the slot's middle.
        let mut slots: Vec<Option<(usize, u32)>> = vec![None; cap];
        let mut counts = vec![0usize; cap];
        let (mut lo, mut hi) = (1.0f64, 0.0f64);
        for &(i, p) in members {
            lo = lo.min(p);
            hi = hi.max(p);
            let k = ((p * cap as f64) as usize).min(cap - 1);
            counts[k] += 1;
            let s = interest(&in_flight[i], selected);
            // Ties keep the first in send order (the oldest on the wire).
            if slots[k].is_none_or(|(_, best)| s > best) {
                slots[k] = Some((i, s));
            }
        }
        for (k, slot) in slots.iter().enumerate() {
            if let Some((i, _)) = slot {
                let p = (k as f64 + 0.5) / cap as f64;
                out.drawn.push(Placed {
                    index: *i,
                    at: curve.at(p),
                    heading: heading(curve, p),
                    in_stream: true,
                    slot_count: counts[k],
                });
            }
        }
        budget = budget.saturating_sub(cap);
        let (a, b) = (&layout.boxes[*f], &layout.boxes[*to]);
        let n = right_normal(a.center, b.center);
        let out_by = |t: f64, k: f64| {
            let m = curve.at(t);
            Point::new(m.x + n.x * k, m.y + n.y * k)
        };
        let clear = |p: Point| {
            avoid
                .iter()
                .chain(out.streams.iter().map(|s| &s.badge_at))
                .all(|q| q.dist(p) >= BADGE_CLEARANCE)
        };
        let badge_at = [BADGE_OFFSET, BADGE_OFFSET_FAR]
            .into_iter()
            .flat_map(|k| [(0.5, k), (0.2, k), (0.8, k)])
            .map(|(t, k)| out_by(t, k))
            .find(|p| clear(*p))
            .unwrap_or_else(|| out_by(0.5, BADGE_OFFSET_FAR));
        out.streams.push(Stream {
            curve: *curve,
            span: (lo, hi),
            count: members.len(),
            badge_at,
            ends: (layout.names[*f].clone(), layout.names[*to].clone()),
        });
    }
    out
}

/// The drawn message under a point (canvas units) within `radius`: the nearest one, the last
/// drawn (topmost) on a tie. `None` when no shape is that close.
pub fn hit(plan: &Plan, at: Point, radius: f64) -> Option<&Placed> {
    let mut best: Option<(&Placed, f64)> = None;
    for p in plan.drawn.iter().rev() {
        let d = p.at.dist(at);
        if d <= radius && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((p, d));
        }
    }
    best.map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::Simulation;

    fn run(name: &str, seed: u64, ms: u64) -> (msgsim::Snapshot, Layout) {
        let mut sim = Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed).unwrap();
        sim.run_until(SimTime::from_ms(ms), u64::MAX);
        (sim.snapshot(), Layout::new(sim.scenario()))
    }

    #[test]
    fn a_sparse_run_draws_every_message_where_it_is() {
        let (snap, layout) = run("order-events", 42, 2_000);
        let plan = plan(&snap.in_flight, snap.time, &layout, None, &[]);
        assert!(plan.streams.is_empty());
        assert_eq!(plan.drawn.len(), snap.in_flight.len());
        assert_eq!(plan.all.len(), snap.in_flight.len());
        for d in &plan.drawn {
            let t = &snap.in_flight[d.index];
            let at = layout
                .position(&t.from, &t.to, t.progress(snap.time))
                .unwrap();
            assert!(at.dist(d.at) < 1e-9);
            assert!(!d.in_stream);
        }
    }

    fn flood(every_ms: u64) -> (msgsim::Snapshot, Layout) {
        let json = format!(
            r#"{{"name":"flood","nodes":[{{"name":"a","kind":"service","pos":[100,300]}},{{"name":"b","kind":"service","processing_ms":1,"pos":[500,300]}}],
            "links":[{{"a":"a","b":"b","latency_ms":1000}}],
            "channels":[{{"name":"c","kind":"direct","consumers":["b"]}}],
            "workloads":[{{"from":"a","every_ms":{every_ms},"count":100000,"messages":[{{"channel":"c","kind":"event","type":"E"}}]}}]}}"#
        );
        let mut sim = Simulation::from_json(&json, 1).unwrap();
        sim.run_until(SimTime::from_ms(3_000), u64::MAX);
        (sim.snapshot(), Layout::new(sim.scenario()))
    }

    #[test]
    fn a_dense_lane_becomes_a_stream_with_a_count_and_evenly_spaced_slots() {
        let (snap, layout) = flood(2);
        let lane = crate::geometry::lane(&layout.boxes[0], &layout.boxes[1], LANE_OFFSET);
        let cap = capacity(&lane);
        let on_lane = snap.in_flight.iter().filter(|t| t.from == "a").count();
        assert!(on_lane > cap, "{on_lane} <= {cap}");
        let plan = plan(&snap.in_flight, snap.time, &layout, None, &[]);
        let s = plan.streams.iter().find(|s| s.ends.0 == "a").unwrap();
        assert_eq!(s.count, on_lane);
        let drawn: Vec<&Placed> = plan.drawn.iter().filter(|d| d.in_stream).collect();
        assert!(drawn.len() <= cap);
        assert_eq!(drawn.iter().map(|d| d.slot_count).sum::<usize>(), on_lane);
        // Never a blob: shapes on the stream are at least one spacing apart (along a gentle curve).
        for w in drawn.windows(2) {
            assert!(
                w[0].at.dist(w[1].at) > LANE_SPACING * 0.9,
                "{:?}",
                (w[0].at, w[1].at)
            );
        }
        assert!(plan.drawn.len() <= MAX_DRAWN);
    }

    #[test]
    fn a_count_badge_keeps_clear_of_a_fault_badge() {
        let (snap, layout) = flood(2);
        let near = plan(&snap.in_flight, snap.time, &layout, None, &[]);
        let s = near.streams.iter().find(|s| s.ends.0 == "a").unwrap();
        let moved = plan(&snap.in_flight, snap.time, &layout, None, &[s.badge_at]);
        let m = moved.streams.iter().find(|s| s.ends.0 == "a").unwrap();
        assert!(
            m.badge_at.dist(s.badge_at) >= BADGE_CLEARANCE,
            "{:?} {:?} {:?}",
            m.badge_at,
            s.badge_at,
            s.curve
        );
        // Beside the lane's first fifth, as far from the lane as before.
        let lane = crate::geometry::lane(&layout.boxes[0], &layout.boxes[1], LANE_OFFSET);
        assert!((m.badge_at.dist(lane.at(0.2)) - BADGE_OFFSET).abs() < 1e-9);
    }

    #[test]
    fn the_selected_message_stands_for_its_slot_and_is_hit_first() {
        let (snap, layout) = flood(2);
        let pick = snap
            .in_flight
            .iter()
            .filter(|t| t.from == "a")
            .nth(40)
            .unwrap()
            .msg;
        let plan = plan(&snap.in_flight, snap.time, &layout, Some(pick), &[]);
        let d = plan
            .drawn
            .iter()
            .find(|d| snap.in_flight[d.index].msg == pick)
            .expect("the selected message is drawn");
        assert_eq!(hit(&plan, d.at, 13.0).map(|h| h.index), Some(d.index));
        assert!(hit(&plan, Point::new(-50.0, -50.0), 13.0).is_none());
    }
}
