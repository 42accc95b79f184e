//! The message layer (issue 13): messages in flight drawn on one `<canvas>` 2D layer laid
//! exactly under the topology `<svg>`'s nodes and labels (same viewBox transform, including the
//! zoom and pan of [`crate::subsystems::story::zoom`]), instead of one virtual-DOM node per
//! message. Where
//! each message goes is planned by [`plan`] (dense lanes become streams with a count badge);
//! this module draws the plan with the page's own colours (its CSS variables, light or dark)
//! and the same markings as the SVG legend: shape and colour per kind and HTTP status class,
//! a dashed ghost ring and a faded body for a network duplicate, an attempt badge for a retry
//! or redelivery, faded when held on the link, an accent outline when selected, the schema and
//! status tags. Dropped messages keep falling in the SVG (a handful at a time).
//!
//! Clicks: a window listener in the capture phase (before the app's delegated handlers at its
//! root) hit-tests the drawn messages first (13 canvas units, as the SVG's hit circle was); a
//! hit selects the message ([`Selection::Message`]) and stops the click, anything else goes on
//! to the links and nodes underneath (the canvas itself takes no pointer events).
//!
//! Test hook: the canvas element has a function `msgsimMessages()` returning, for the last
//! frame, every message placed: `{ id, kind, attempt, duplicate, held, x, y, drawn }` (x, y in
//! canvas units of the 1000 × 600 view; `drawn` false when a stream's slot shows another one).

pub mod plan;

use crate::geometry::Point;
use crate::state::Selection;
use gloo::events::{EventListener, EventListenerOptions};
use msgsim::{MessageId, Snapshot};
use plan::Plan;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, Path2d, SvgGraphicsElement};
use yew::prelude::*;

/// Hit radius of a drawn message (canvas units), as the SVG's `msg-hit` circle had.
pub const HIT_RADIUS: f64 = 13.0;

/// Properties of [`MessageLayer`].
#[derive(Properties, PartialEq)]
pub struct MessageLayerProps {
    /// The frame to draw (its `in_flight`).
    pub snapshot: Rc<Snapshot>,
    /// Where the lanes are.
    pub layout: Rc<crate::geometry::Layout>,
    /// The selected message is outlined and stands for its slot on a stream.
    pub selection: Option<Selection>,
    /// A message was clicked.
    pub on_select: Callback<Selection>,
}

/// The page's colours, read from its CSS variables.
#[derive(Clone, Debug, Default)]
struct Palette {
    vars: BTreeMap<&'static str, String>,
    font: String,
}

const VARS: &[&str] = &[
    "--event",
    "--command",
    "--ack",
    "--reply",
    "--document",
    "--muted",
    "--dup",
    "--loss",
    "--retry",
    "--accent",
    "--msg-stroke",
    "--canvas",
];

impl Palette {
    fn read(el: &Element) -> Palette {
        let mut p = Palette::default();
        let Some(style) = web_sys::window().and_then(|w| w.get_computed_style(el).ok().flatten())
        else {
            return p;
        };
        for v in VARS {
            let val = style.get_property_value(v).unwrap_or_default();
            p.vars.insert(v, val.trim().to_string());
        }
        p.font = style
            .get_property_value("font-family")
            .unwrap_or_default()
            .trim()
            .to_string();
        p
    }
    fn get(&self, v: &str) -> &str {
        self.vars
            .get(v)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("#888")
    }
}

#[derive(Default)]
struct Inner {
    frame: Option<(Rc<Snapshot>, Rc<crate::geometry::Layout>)>,
    plan: Plan,
    shapes: BTreeMap<&'static str, Path2d>,
    palette: Option<Palette>,
    draws: u64,
    selected: Option<MessageId>,
}

/// The SVG path of a kind's shape (as [`crate::components::topology::kind_shape`]), `None`
/// for a circle.
fn shape_path(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "command" => "M-7.5 -7.5 H7.5 V7.5 H-7.5 Z",
        "ack" => "M0 -7 L7 0 L0 7 L-7 0 Z",
        "nack" | "reset" => "M-6 -6 L6 6 M6 -6 L-6 6",
        "reply" => "M-8.5 7 L0 -8.5 L8.5 7 Z",
        "document" => "M-6.5 -8.5 H3 L7 -4.5 V8.5 H-6.5 Z",
        "request" => "M-8 -6 H3 L8.5 0 L3 6 H-8 Z",
        "response" => "M-7 -6.5 H7 Q8.5 -6.5 8.5 -5 V5 Q8.5 6.5 7 6.5 H-7 Q-8.5 6.5 -8.5 5 V-5 Q-8.5 -6.5 -7 -6.5 Z",
        _ => return None,
    })
}

fn shape(shapes: &mut BTreeMap<&'static str, Path2d>, kind: &'static str) -> Option<Path2d> {
    if let Some(p) = shapes.get(kind) {
        return Some(p.clone());
    }
    let p = match shape_path(kind) {
        Some(d) => Path2d::new_with_path_string(d).ok()?,
        None => {
            let p = Path2d::new().ok()?;
            let r = if kind == "event" { 8.0 } else { 6.0 };
            p.arc(0.0, 0.0, r, 0.0, std::f64::consts::TAU).ok()?;
            p
        }
    };
    shapes.insert(kind, p.clone());
    Some(p)
}

fn fill_of<'a>(t: &msgsim::snapshot::TransitView, pal: &'a Palette) -> &'a str {
    if let Some(st) = t.http.as_ref().and_then(|h| h.status) {
        match crate::components::topology::http_status_class(st) {
            "http-5xx" => return pal.get("--loss"),
            "http-4xx" => return pal.get("--retry"),
            "http-3xx" => return pal.get("--reply"),
            _ => {}
        }
    }
    match t.kind {
        "event" => pal.get("--event"),
        "command" => pal.get("--command"),
        "ack" | "response" => pal.get("--ack"),
        "reply" => pal.get("--reply"),
        "document" => pal.get("--document"),
        "request" => "#5b6fd6",
        _ => pal.get("--muted"),
    }
}

/// An affine transform `[a, b, c, d, e, f]` (as canvas `setTransform`).
type Affine = [f64; 6];

fn at(m: &Affine, p: Point, rot: f64) -> Affine {
    let (s, c) = if rot == 0.0 {
        (0.0, 1.0)
    } else {
        crate::geometry::sin_cos(rot)
    };
    let (a, b, cc, d) = (
        m[0] * c + m[2] * s,
        m[1] * c + m[3] * s,
        -m[0] * s + m[2] * c,
        -m[1] * s + m[3] * c,
    );
    [
        a,
        b,
        cc,
        d,
        m[0] * p.x + m[2] * p.y + m[4],
        m[1] * p.x + m[3] * p.y + m[5],
    ]
}

fn set(ctx: &CanvasRenderingContext2d, m: &Affine) {
    let _ = ctx.set_transform(m[0], m[1], m[2], m[3], m[4], m[5]);
}

fn dashes(ctx: &CanvasRenderingContext2d, d: &[f64]) {
    let arr = js_sys::Array::new();
    for v in d {
        arr.push(&JsValue::from_f64(*v));
    }
    let _ = ctx.set_line_dash(&arr);
}

fn svg_of(canvas: &HtmlCanvasElement) -> Option<SvgGraphicsElement> {
    canvas
        .parent_element()?
        .query_selector("svg.topology")
        .ok()??
        .dyn_into()
        .ok()
}

/// Draws the current plan on the canvas.
fn draw(canvas: &HtmlCanvasElement, inner: &mut Inner) {
    let Some(svg) = svg_of(canvas) else { return };
    let Some((snap, _)) = inner.frame.clone() else {
        return;
    };
    let dpr = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .clamp(1.0, 3.0);
    let r = svg.get_bounding_client_rect();
    let (w, h) = (r.width().max(1.0), r.height().max(1.0));
    let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
        let _ = canvas.style().set_property("width", &format!("{w}px"));
        let _ = canvas.style().set_property("height", &format!("{h}px"));
    }
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, pw as f64, ph as f64);
    let Some(ctm) = svg.get_screen_ctm() else {
        return;
    };
    let cr = canvas.get_bounding_client_rect();
    let base: Affine = [
        dpr * ctm.a() as f64,
        dpr * ctm.b() as f64,
        dpr * ctm.c() as f64,
        dpr * ctm.d() as f64,
        dpr * (ctm.e() as f64 - cr.left()),
        dpr * (ctm.f() as f64 - cr.top()),
    ];
    // CSS px per canvas unit: text keeps at least 11 CSS px (as the SVG's zoom rules).
    let zs = ((ctm.a() * ctm.d() - ctm.b() * ctm.c()) as f64)
        .abs()
        .sqrt()
        .max(0.01);
    if inner.palette.is_none() || inner.draws.is_multiple_of(30) {
        inner.palette = Some(Palette::read(&svg));
    }
    inner.draws += 1;
    let pal = inner.palette.clone().unwrap_or_default();
    let tag_px = (11.0 / zs).max(10.0);

    // Streams: a band along the occupied part of the lane, under the shapes.
    set(&ctx, &base);
    ctx.set_line_cap("round");
    for s in &inner.plan.streams {
        ctx.begin_path();
        let (lo, hi) = s.span;
        for k in 0..=16 {
            let p = s.curve.at(lo + (hi - lo) * k as f64 / 16.0);
            if k == 0 {
                ctx.move_to(p.x, p.y);
            } else {
                ctx.line_to(p.x, p.y);
            }
        }
        ctx.set_global_alpha(0.22);
        ctx.set_stroke_style_str(pal.get("--muted"));
        ctx.set_line_width(14.0);
        ctx.stroke();
        ctx.set_global_alpha(1.0);
    }

    for d in &inner.plan.drawn {
        let Some(t) = snap.in_flight.get(d.index) else {
            continue;
        };
        let m = at(&base, d.at, 0.0);
        ctx.set_global_alpha(if t.held { 0.45 } else { 1.0 });
        if t.duplicate {
            set(&ctx, &m);
            ctx.begin_path();
            let _ = ctx.arc(0.0, 0.0, 12.5, 0.0, std::f64::consts::TAU);
            dashes(&ctx, &[3.0, 2.5]);
            ctx.set_line_width(1.6);
            ctx.set_stroke_style_str(pal.get("--dup"));
            ctx.stroke();
        }
        let body_m = if t.http.is_some() {
            at(&base, d.at, d.heading)
        } else {
            m
        };
        set(&ctx, &body_m);
        let Some(path) = shape(&mut inner.shapes, t.kind) else {
            continue;
        };
        let cross = matches!(t.kind, "nack" | "reset");
        let is_sel = inner.selected == Some(t.msg);
        if cross {
            dashes(&ctx, &[]);
            ctx.set_line_width(3.2);
            ctx.set_stroke_style_str(pal.get("--loss"));
            ctx.stroke_with_path(&path);
        } else {
            ctx.set_fill_style_str(fill_of(t, &pal));
            if t.duplicate {
                let a = ctx.global_alpha();
                ctx.set_global_alpha(a * 0.45);
                ctx.fill_with_path_2d(&path);
                ctx.set_global_alpha(a);
            } else {
                ctx.fill_with_path_2d(&path);
            }
        }
        if is_sel {
            dashes(&ctx, &[]);
            ctx.set_line_width(3.0);
            ctx.set_stroke_style_str(pal.get("--accent"));
            ctx.stroke_with_path(&path);
        } else if t.duplicate {
            dashes(&ctx, &[2.5, 1.5]);
            ctx.set_line_width(1.8);
            ctx.set_stroke_style_str(pal.get("--dup"));
            ctx.stroke_with_path(&path);
        } else if !cross {
            dashes(&ctx, &[]);
            ctx.set_line_width(1.2);
            ctx.set_stroke_style_str(pal.get("--msg-stroke"));
            ctx.stroke_with_path(&path);
        }
        dashes(&ctx, &[]);
        set(&ctx, &m);
        // Tags above the shape: a schema the consumer cannot read, an HTTP failure status.
        let tag = crate::components::topology::schema_tag(&snap, t)
            .map(|s| (s, pal.get("--loss"), -11.0))
            .or_else(|| {
                let st = t.http.as_ref()?.status.filter(|s| *s >= 400)?;
                let c = if st >= 500 {
                    pal.get("--loss")
                } else {
                    pal.get("--retry")
                };
                Some((st.to_string(), c, -10.0))
            });
        if let Some((text, colour, y)) = tag {
            ctx.set_font(&format!("800 {tag_px:.1}px {}", pal.font));
            ctx.set_text_align("center");
            ctx.set_line_width(3.0);
            ctx.set_stroke_style_str(pal.get("--canvas"));
            let _ = ctx.stroke_text(&text, 0.0, y);
            ctx.set_fill_style_str(colour);
            let _ = ctx.fill_text(&text, 0.0, y);
        }
        if t.attempt > 1 {
            ctx.begin_path();
            let _ = ctx.arc(10.0, -10.0, 6.5, 0.0, std::f64::consts::TAU);
            ctx.set_fill_style_str(pal.get("--retry"));
            ctx.fill();
            ctx.set_line_width(1.2);
            ctx.set_stroke_style_str(pal.get("--canvas"));
            ctx.stroke();
            ctx.set_font(&format!("800 9.5px {}", pal.font));
            ctx.set_text_align("center");
            ctx.set_fill_style_str("#fff");
            let _ = ctx.fill_text(&t.attempt.to_string(), 10.0, -6.8);
        }
    }
    ctx.set_global_alpha(1.0);

    // Count badges of the streams, on top; not when the canvas is drawn so small that the SVG
    // shows node names only (their text would cover the links).
    if zs < crate::subsystems::story::zoom::FAR_SCALE {
        return;
    }
    set(&ctx, &base);
    let badge_px = (11.0 / zs).max(11.0);
    ctx.set_font(&format!("700 {badge_px:.1}px {}", pal.font));
    ctx.set_text_align("center");
    for s in &inner.plan.streams {
        let text = format!("×{}", s.count);
        let tw = ctx.measure_text(&text).map(|m| m.width()).unwrap_or(30.0);
        let (bw, bh) = (tw + badge_px, badge_px * 1.6);
        let (x, y) = (s.badge_at.x, s.badge_at.y);
        ctx.begin_path();
        let _ = ctx.round_rect_with_f64(x - bw / 2.0, y - bh / 2.0, bw, bh, bh / 2.0);
        ctx.set_fill_style_str(pal.get("--canvas"));
        ctx.fill();
        ctx.set_line_width(1.2);
        ctx.set_stroke_style_str(pal.get("--muted"));
        ctx.stroke();
        ctx.set_fill_style_str(pal.get("--muted"));
        let _ = ctx.fill_text(&text, x, y + badge_px * 0.36);
    }
}

/// The message layer: a `<canvas>` under the topology `<svg>` (its next sibling in the
/// canvas box, drawn below it by the stylesheet).
#[function_component(MessageLayer)]
pub fn message_layer(props: &MessageLayerProps) -> Html {
    let canvas = use_node_ref();
    let inner = use_mut_ref(Inner::default);
    let on_select = use_mut_ref(|| props.on_select.clone());
    *on_select.borrow_mut() = props.on_select.clone();
    let selected = match props.selection {
        Some(Selection::Message(m)) => Some(m),
        _ => None,
    };
    {
        let (canvas, inner) = (canvas.clone(), inner.clone());
        use_effect_with(
            (
                Rc::clone(&props.snapshot),
                Rc::clone(&props.layout),
                selected,
            ),
            move |(snap, layout, selected)| {
                {
                    let mut i = inner.borrow_mut();
                    // The links' fault badges (SVG), for the count badges to keep clear of.
                    let avoid: Vec<Point> = layout
                        .links
                        .iter()
                        .zip(&snap.links)
                        .flat_map(|(&(a, b), view)| {
                            crate::components::topology::badge_spots(
                                view,
                                &layout.boxes[a],
                                &layout.boxes[b],
                            )
                        })
                        .map(|(p, _)| p)
                        .collect();
                    i.plan = plan::plan(&snap.in_flight, snap.time, layout, *selected, &avoid);
                    i.frame = Some((Rc::clone(snap), Rc::clone(layout)));
                    i.selected = *selected;
                }
                redraw(&canvas, &inner);
            },
        );
    }
    {
        let (canvas, inner, on_select) = (canvas.clone(), inner.clone(), on_select.clone());
        use_effect_with((), move |_| {
            let mut keep: Vec<EventListener> = Vec::new();
            let mut observer = None;
            let mut hook_keep = None;
            if let (Some(c), Some(w)) = (canvas.cast::<HtmlCanvasElement>(), web_sys::window()) {
                // Clicks: messages are hit before the links and nodes underneath.
                let (c2, i2, cb) = (c.clone(), inner.clone(), on_select.clone());
                keep.push(EventListener::new_with_options(
                    &w,
                    "click",
                    EventListenerOptions::run_in_capture_phase(),
                    move |e| {
                        if e.cancel_bubble() || e.default_prevented() {
                            return;
                        }
                        let Some(svg) = svg_of(&c2) else { return };
                        let inside = e
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                            .is_some_and(|n| svg.contains(Some(&n)));
                        let Some(me) = e.dyn_ref::<web_sys::MouseEvent>() else {
                            return;
                        };
                        if !inside {
                            return;
                        }
                        let Some(msg) = hit_at(
                            &svg,
                            &i2.borrow(),
                            me.client_x() as f64,
                            me.client_y() as f64,
                        ) else {
                            return;
                        };
                        e.stop_propagation();
                        let cb = cb.borrow().clone();
                        cb.emit(Selection::Message(msg));
                    },
                ));
                // The zoom and pan rewrite the viewBox; a resize moves the box: draw again.
                let (c3, i3) = (canvas.clone(), inner.clone());
                let again = Closure::<dyn Fn()>::new(move || redraw(&c3, &i3));
                if let Some(svg) = svg_of(&c) {
                    if let Ok(obs) = web_sys::MutationObserver::new(again.as_ref().unchecked_ref())
                    {
                        let opts = web_sys::MutationObserverInit::new();
                        opts.set_attributes(true);
                        let filter = js_sys::Array::of1(&JsValue::from_str("viewBox"));
                        opts.set_attribute_filter(&filter);
                        let _ = obs.observe_with_options(&svg, &opts);
                        observer = Some((obs, again));
                    }
                }
                let (c4, i4) = (canvas.clone(), inner.clone());
                keep.push(EventListener::new(&w, "resize", move |_| redraw(&c4, &i4)));
                // The test hook.
                let i5 = inner.clone();
                let hook = Closure::<dyn Fn() -> JsValue>::new(move || hook_rows(&i5.borrow()));
                let _ =
                    js_sys::Reflect::set(&c, &JsValue::from_str("msgsimMessages"), hook.as_ref());
                hook_keep = Some(hook);
            }
            move || {
                drop(keep);
                drop(hook_keep);
                if let Some((obs, cl)) = observer {
                    obs.disconnect();
                    drop(cl);
                }
            }
        });
    }
    html! { <canvas ref={canvas} class="message-layer" data-testid="message-layer" aria-hidden="true"></canvas> }
}

fn redraw(canvas: &NodeRef, inner: &Rc<RefCell<Inner>>) {
    let Some(c) = canvas.cast::<HtmlCanvasElement>() else {
        return;
    };
    draw(&c, &mut inner.borrow_mut());
}

/// The message drawn under a point of the screen (client CSS px), if any.
fn hit_at(svg: &SvgGraphicsElement, inner: &Inner, x: f64, y: f64) -> Option<MessageId> {
    let inv = svg.get_screen_ctm()?.inverse().ok()?;
    let (a, b, c, d, e, f) = (
        inv.a() as f64,
        inv.b() as f64,
        inv.c() as f64,
        inv.d() as f64,
        inv.e() as f64,
        inv.f() as f64,
    );
    let p = Point::new(a * x + c * y + e, b * x + d * y + f);
    let placed = plan::hit(&inner.plan, p, HIT_RADIUS)?;
    let (snap, _) = inner.frame.as_ref()?;
    snap.in_flight.get(placed.index).map(|t| t.msg)
}

fn hook_rows(inner: &Inner) -> JsValue {
    let out = js_sys::Array::new();
    let Some((snap, _)) = &inner.frame else {
        return out.into();
    };
    let drawn: std::collections::BTreeSet<usize> =
        inner.plan.drawn.iter().map(|d| d.index).collect();
    for (i, p) in &inner.plan.all {
        let Some(t) = snap.in_flight.get(*i) else {
            continue;
        };
        let o = js_sys::Object::new();
        let put = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
        };
        put("id", JsValue::from_str(&t.msg.to_string()));
        put("kind", JsValue::from_str(t.kind));
        put("attempt", JsValue::from_str(&t.attempt.to_string()));
        put("duplicate", JsValue::from_str(&t.duplicate.to_string()));
        put("held", JsValue::from_str(&t.held.to_string()));
        put("x", JsValue::from_f64((p.x * 10.0).round() / 10.0));
        put("y", JsValue::from_f64((p.y * 10.0).round() / 10.0));
        put("drawn", JsValue::from_bool(drawn.contains(i)));
        out.push(&o);
    }
    out.into()
}
