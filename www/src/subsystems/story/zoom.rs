//! Zoom and pan on the canvas: Ctrl/⌘ + wheel or a trackpad pinch, a two-finger pinch, the
//! `+ − ⤢` buttons; drag to pan once zoomed. The canvas starts fitted to its box (the whole
//! topology visible at any width: no sideways scrolling).
//!
//! The view lives here, not in the reducer: [`CanvasZoom`] writes the canvas `<svg>`'s
//! `viewBox` and two things the stylesheet reads on its own element: `--zs` (CSS px per canvas
//! unit, so canvas text can keep at least 11 CSS px) and the classes `far` (the canvas is drawn
//! so small that only node names stay, at 11 CSS px) and `zoomed`.

use super::ViewBox;
use gloo::events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

/// Below this many CSS px per canvas unit the canvas shows node names only (at 11 CSS px); the
/// other lines would need more room than their boxes have.
pub const FAR_SCALE: f64 = 0.7;
/// Pointer travel (CSS px) before a press becomes a drag (and its click is swallowed).
pub const DRAG_SLOP: f64 = 5.0;
/// Zoom factor of one button press.
pub const STEP: f64 = 1.5;

/// Properties of [`CanvasZoom`].
#[derive(Properties, PartialEq)]
pub struct CanvasZoomProps {
    /// The canvas (a [`crate::components::topology::Topology`]).
    pub children: Html,
    /// A change of this (the scenario's name) fits the view again.
    pub reset_key: AttrValue,
}

#[derive(Default)]
struct Gesture {
    /// Pointers down: id → last (x, y), CSS px.
    pointers: BTreeMap<i32, (f64, f64)>,
    /// Where the single pointer went down.
    start: Option<(f64, f64)>,
    dragging: bool,
    /// Distance between two pointers at the last move.
    pinch: Option<f64>,
    /// A drag just ended: swallow its click.
    swallow_click: bool,
}

/// The canvas's box on the screen: (left, top, CSS px per canvas unit, x offset, y offset) of
/// the drawn area (`preserveAspectRatio="xMidYMid meet"`).
fn geometry(svg: &Element, v: &ViewBox) -> (f64, f64, f64, f64, f64) {
    let r = svg.get_bounding_client_rect();
    let s = (r.width() / v.w).min(r.height() / v.h());
    let s = if s.is_finite() && s > 0.0 { s } else { 1.0 };
    let ox = (r.width() - v.w * s) / 2.0;
    let oy = (r.height() - v.h() * s) / 2.0;
    (r.left(), r.top(), s, ox, oy)
}

/// CSS px per canvas unit as the canvas's lines see it ([`TextScale`]): at most 1 (text never
/// shrinks below its own size), rounded down to 0.05 so the canvas re-renders only when the text
/// would grow noticeably more or less.
fn text_scale(s: f64) -> f64 {
    ((s.min(1.0) * 20.0).floor() / 20.0).max(0.05)
}

/// CSS px per canvas unit (at most 1, in steps of 0.05), for the canvas's lines: the stylesheet
/// grows canvas text to at least 11 CSS px (`--zs`), so a line drawn on a small canvas is wider
/// than its design size, and a line fitted to its box (`textLength`) must know by how much.
/// Provided by [`CanvasZoom`] to its child; 1 outside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextScale(pub f64);

/// Writes the view on the canvas: `viewBox`, `--zs`, `far`, `zoomed`. Returns the CSS px per
/// canvas unit (1 when the canvas is not drawn yet).
fn apply(host: &Element, v: &ViewBox) -> f64 {
    let Ok(Some(svg)) = host.query_selector("svg.topology") else {
        return 1.0;
    };
    let attr = v.attr();
    if svg.get_attribute("viewBox").as_deref() != Some(attr.as_str()) {
        let _ = svg.set_attribute("viewBox", &attr);
    }
    let (_, _, s, _, _) = geometry(&svg, v);
    let zs = format!("--zs: {s:.4}");
    if host.get_attribute("style").as_deref() != Some(zs.as_str()) {
        let _ = host.set_attribute("style", &zs);
    }
    let class = crate::components::cls(
        "zoom-host",
        &[(s < FAR_SCALE, "far"), (!v.is_fit(), "zoomed")],
    );
    if host.class_name() != class {
        host.set_class_name(&class);
    }
    s
}

/// The canvas point under the screen point (`cx`, `cy`).
fn to_canvas(host: &Element, v: &ViewBox, cx: f64, cy: f64) -> (f64, f64) {
    match host.query_selector("svg.topology") {
        Ok(Some(svg)) => {
            let (l, t, s, ox, oy) = geometry(&svg, v);
            (v.x + (cx - l - ox) / s, v.y + (cy - t - oy) / s)
        }
        _ => (v.x + v.w / 2.0, v.y + v.h() / 2.0),
    }
}

fn scale_of(host: &Element, v: &ViewBox) -> f64 {
    match host.query_selector("svg.topology") {
        Ok(Some(svg)) => geometry(&svg, v).2,
        _ => 1.0,
    }
}

/// The canvas with zoom and pan.
#[function_component(CanvasZoom)]
pub fn canvas_zoom(p: &CanvasZoomProps) -> Html {
    let host = use_node_ref();
    let view = use_mut_ref(|| ViewBox::FIT);
    let zoomed = use_state(|| false);
    let scale = use_state(|| TextScale(1.0));
    // The child re-renders with the new text scale only when it changes (a resize, a zoom).
    let keep_scale = {
        let scale = scale.clone();
        Rc::new(move |s: f64| {
            let t = TextScale(text_scale(s));
            if *scale != t {
                scale.set(t);
            }
        })
    };
    // Every render (the canvas re-renders per frame): keep the view written on the canvas.
    {
        let (host, view, keep_scale) = (host.clone(), view.clone(), keep_scale.clone());
        use_effect(move || {
            if let Some(el) = host.cast::<Element>() {
                keep_scale(apply(&el, &view.borrow()));
            }
        });
    }
    // A resize of the window (a host growing the widget's frame, a rotated phone) changes the CSS
    // px per canvas unit while nothing re-renders (paused): write the view again.
    {
        let (host, view, keep_scale) = (host.clone(), view.clone(), keep_scale.clone());
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|w| {
                EventListener::new(&w, "resize", move |_| {
                    if let Some(el) = host.cast::<Element>() {
                        keep_scale(apply(&el, &view.borrow()));
                    }
                })
            });
            move || drop(listener)
        });
    }
    {
        let (host, view, zoomed, keep_scale) = (
            host.clone(),
            view.clone(),
            zoomed.clone(),
            keep_scale.clone(),
        );
        use_effect_with(p.reset_key.clone(), move |_| {
            *view.borrow_mut() = ViewBox::FIT;
            zoomed.set(false);
            if let Some(el) = host.cast::<Element>() {
                keep_scale(apply(&el, &ViewBox::FIT));
            }
        });
    }
    let set = {
        let (host, view, zoomed, keep_scale) = (
            host.clone(),
            view.clone(),
            zoomed.clone(),
            keep_scale.clone(),
        );
        Rc::new(move |v: ViewBox| {
            *view.borrow_mut() = v;
            if let Some(el) = host.cast::<Element>() {
                keep_scale(apply(&el, &v));
            }
            let on = !v.is_fit();
            if *zoomed != on {
                zoomed.set(on);
            }
        })
    };
    // Native listeners: wheel must be non-passive to keep the page still while zooming.
    {
        let (host, view, set) = (host.clone(), view.clone(), set.clone());
        use_effect_with((), move |_| {
            let mut listeners = Vec::new();
            let gesture = Rc::new(RefCell::new(Gesture::default()));
            if let Some(el) = host.cast::<Element>() {
                let opts = EventListenerOptions::enable_prevent_default();
                {
                    let (el2, view, set) = (el.clone(), view.clone(), set.clone());
                    listeners.push(EventListener::new_with_options(
                        &el,
                        "wheel",
                        opts,
                        move |e| {
                            let Some(e) = e.dyn_ref::<web_sys::WheelEvent>() else {
                                return;
                            };
                            // Plain wheel scrolls the page; Ctrl/⌘ + wheel (and a trackpad
                            // pinch, which the browser sends as Ctrl + wheel) zooms.
                            if !(e.ctrl_key() || e.meta_key()) {
                                return;
                            }
                            e.prevent_default();
                            let v = *view.borrow();
                            let (ux, uy) =
                                to_canvas(&el2, &v, e.client_x() as f64, e.client_y() as f64);
                            let factor = (-e.delta_y() * 0.01).clamp(-1.0, 1.0).exp();
                            set(v.zoom_at(factor, ux, uy));
                        },
                    ));
                }
                {
                    let (el2, g) = (el.clone(), gesture.clone());
                    listeners.push(EventListener::new(&el, "pointerdown", move |e| {
                        let Some(e) = e.dyn_ref::<web_sys::PointerEvent>() else {
                            return;
                        };
                        let mut g = g.borrow_mut();
                        let at = (e.client_x() as f64, e.client_y() as f64);
                        g.pointers.insert(e.pointer_id(), at);
                        g.swallow_click = false;
                        if g.pointers.len() == 1 {
                            g.start = Some(at);
                            g.dragging = false;
                            g.pinch = None;
                        } else {
                            let _ = el2.set_pointer_capture(e.pointer_id());
                        }
                    }));
                }
                {
                    let (el2, g, view, set) =
                        (el.clone(), gesture.clone(), view.clone(), set.clone());
                    listeners.push(EventListener::new_with_options(
                        &el,
                        "pointermove",
                        opts,
                        move |e| {
                            let Some(e) = e.dyn_ref::<web_sys::PointerEvent>() else {
                                return;
                            };
                            let mut g = g.borrow_mut();
                            let id = e.pointer_id();
                            let Some(&before) = g.pointers.get(&id) else {
                                return;
                            };
                            let at = (e.client_x() as f64, e.client_y() as f64);
                            g.pointers.insert(id, at);
                            let v = *view.borrow();
                            if g.pointers.len() >= 2 {
                                let pts: Vec<(f64, f64)> =
                                    g.pointers.values().take(2).copied().collect();
                                let d = ((pts[0].0 - pts[1].0).powi(2)
                                    + (pts[0].1 - pts[1].1).powi(2))
                                .sqrt();
                                let mid =
                                    ((pts[0].0 + pts[1].0) / 2.0, (pts[0].1 + pts[1].1) / 2.0);
                                if let Some(d0) = g.pinch.filter(|d0| *d0 > 1.0) {
                                    let (ux, uy) = to_canvas(&el2, &v, mid.0, mid.1);
                                    e.prevent_default();
                                    set(v.zoom_at(d / d0, ux, uy));
                                }
                                g.pinch = Some(d);
                                g.dragging = true;
                                return;
                            }
                            let Some(start) = g.start else {
                                return;
                            };
                            if !g.dragging {
                                let moved =
                                    ((at.0 - start.0).powi(2) + (at.1 - start.1).powi(2)).sqrt();
                                if moved < DRAG_SLOP || v.is_fit() {
                                    return;
                                }
                                g.dragging = true;
                                let _ = el2.set_pointer_capture(id);
                            }
                            let s = scale_of(&el2, &v);
                            e.prevent_default();
                            set(v.pan(-(at.0 - before.0) / s, -(at.1 - before.1) / s));
                        },
                    ));
                }
                for name in ["pointerup", "pointercancel"] {
                    let g = gesture.clone();
                    listeners.push(EventListener::new(&el, name, move |e| {
                        let Some(e) = e.dyn_ref::<web_sys::PointerEvent>() else {
                            return;
                        };
                        let mut g = g.borrow_mut();
                        g.pointers.remove(&e.pointer_id());
                        if g.pointers.len() < 2 {
                            g.pinch = None;
                        }
                        if g.pointers.is_empty() {
                            g.swallow_click = g.dragging;
                            g.dragging = false;
                            g.start = None;
                        }
                    }));
                }
                // A drag ends with a click on whatever is under the pointer: swallow it before
                // the app's delegated handlers (at its root, capture phase) see it.
                if let Some(w) = web_sys::window() {
                    let (el2, g) = (el.clone(), gesture.clone());
                    listeners.push(EventListener::new_with_options(
                        &w,
                        "click",
                        EventListenerOptions::run_in_capture_phase(),
                        move |e| {
                            let inside = e
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                                .is_some_and(|n| el2.contains(Some(&n)));
                            let mut g = g.borrow_mut();
                            if inside && std::mem::take(&mut g.swallow_click) {
                                e.stop_propagation();
                                e.prevent_default();
                            }
                        },
                    ));
                }
            }
            move || drop(listeners)
        });
    }
    let button = |label: &'static str,
                  testid: &'static str,
                  title: &'static str,
                  f: fn(ViewBox) -> ViewBox| {
        let (view, set) = (view.clone(), set.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            let v = *view.borrow();
            set(f(v));
        });
        html! { <button class="btn small" data-testid={testid} title={title} aria-label={title} {onclick}>{ label }</button> }
    };
    html! {
        <div class="zoom-host" ref={host}>
            <ContextProvider<TextScale> context={*scale}>{ p.children.clone() }</ContextProvider<TextScale>>
            <div class="zoom-tools" role="group" aria-label="Zoom">
                { button("+", "zoom-in", "Zoom in (or Ctrl + wheel, or pinch)", |v| v.zoom_at(STEP, v.x + v.w / 2.0, v.y + v.h() / 2.0)) }
                { button("−", "zoom-out", "Zoom out", |v| v.zoom_at(1.0 / STEP, v.x + v.w / 2.0, v.y + v.h() / 2.0)) }
                if *zoomed {
                    { button("⤢", "zoom-fit", "Show the whole canvas (drag to pan while zoomed)", |_| ViewBox::FIT) }
                }
            </div>
        </div>
    }
}
