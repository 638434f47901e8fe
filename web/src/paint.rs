//! Painting the two canvases: messages in flight over the ring, and the space-time diagram.
//! Everything drawn comes from the engine's read-outs; nothing here changes the run.

use crate::driver::timeline_span;
use crate::engine::Engine;
use crate::format::{kind_colour, node_colour};
use crate::geometry::{self, VIEW_HALF};
use crate::view::{Arrow, Death, Flight};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Messages in flight drawn at most on the ring.
const MAX_DOTS: usize = 3_000;

/// The painter, with buffers reused across frames.
#[derive(Default)]
pub struct Painter {
    flights: Vec<Flight>,
    deaths: Vec<Death>,
    /// Positions of the dots drawn last frame (for tests).
    pub dots: Vec<(f32, f32)>,
    /// The timeline as last drawn: its layout and arrows, for clicks.
    timeline: Option<(geometry::Lanes, Vec<Arrow>)>,
}

impl Painter {
    /// Draws the messages in flight and the recently dead onto the canvas overlaying the ring.
    pub fn ring(
        &mut self,
        engine: &Engine,
        badges: &[(f64, f64)],
        hidden: u16,
        canvas: &HtmlCanvasElement,
    ) {
        let Some(ctx) = context_2d(canvas) else {
            return;
        };
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let css_w = f64::from(canvas.client_width());
        let css_h = f64::from(canvas.client_height());
        let (pw, ph) = ((css_w * dpr) as u32, (css_h * dpr) as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        ctx.clear_rect(0.0, 0.0, f64::from(pw), f64::from(ph));
        // The SVG's view box is a square centred on the origin, fitted into the element.
        let scale = (css_w.min(css_h) / (2.0 * VIEW_HALF)) * dpr;
        let _ = ctx.set_transform(
            scale,
            0.0,
            0.0,
            scale,
            f64::from(pw) / 2.0,
            f64::from(ph) / 2.0,
        );

        let now = engine.display_now();
        engine.flights(&mut self.flights);
        let window = 60u64;
        engine.deaths(window, &mut self.deaths);
        self.dots.clear();
        // Past MAX_DOTS messages in flight, draw an even sample: 14,000 dots cost 100 ms a frame
        // and look the same as 3,000.
        let every = self.flights.len().div_ceil(MAX_DOTS).max(1);
        for kind in 0..10u8 {
            ctx.set_fill_style_str(kind_colour(usize::from(kind)));
            ctx.begin_path();
            for f in self
                .flights
                .iter()
                .step_by(every)
                .filter(|f| f.kind == kind && hidden & (1 << kind) == 0)
            {
                let t = geometry::progress(f.sent, f.deliver, now);
                let (x, y) = badge_point(badges, f.from, f.to, t);
                self.dots.push((x as f32, y as f32));
                shape(&ctx, kind, x, y);
            }
            ctx.fill();
        }
        // A doomed message fades and is struck through near its end.
        ctx.set_stroke_style_str("#d92d20");
        ctx.set_line_width(2.0);
        ctx.begin_path();
        for f in (self.flights.iter()).filter(|f| f.doomed && hidden & (1 << f.kind) == 0) {
            let t = geometry::progress(f.sent, f.deliver, now);
            if t > 0.6 {
                let (x, y) = badge_point(badges, f.from, f.to, t);
                cross(&ctx, x, y, 6.0);
            }
        }
        ctx.stroke();
        for d in self.deaths.iter().filter(|d| hidden & (1 << d.kind) == 0) {
            let age = ((now - d.at as f64) / window as f64).clamp(0.0, 1.0);
            let (x, y) = badge_point(badges, d.from, d.to, 0.9);
            ctx.set_global_alpha(1.0 - age);
            ctx.begin_path();
            cross(&ctx, x, y, 6.0 + 10.0 * age);
            ctx.stroke();
            ctx.begin_path();
            let _ = ctx.arc(x, y, 4.0 + 14.0 * age, 0.0, std::f64::consts::TAU);
            ctx.stroke();
        }
        ctx.set_global_alpha(1.0);
    }
    /// Draws the space-time diagram from `t0`: lanes, and recent messages from send to delivery
    /// (cut at the current time while in flight).
    pub fn timeline(&mut self, engine: &Engine, hidden: u16, t0: u64, canvas: &HtmlCanvasElement) {
        let Some(ctx) = context_2d(canvas) else {
            return;
        };
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let (w, h) = (
            f64::from(canvas.client_width()),
            f64::from(canvas.client_height()),
        );
        let (pw, ph) = ((w * dpr) as u32, (h * dpr) as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
        ctx.clear_rect(0.0, 0.0, w, h);
        let now = engine.display_now();
        let span = timeline_span(engine.config());
        let mut t0 = t0;
        const MAX_ARROWS: usize = 700;
        let arrows = engine.arrows(t0, MAX_ARROWS, hidden);
        // Early in a run the window is not full yet: keep its scale, with now moving right.
        let mut t1 = now.max((t0 + span) as f64);
        // A busy cluster fills the budget early: show the window the arrows cover.
        if arrows.len() >= MAX_ARROWS {
            if let Some(first) = arrows.first() {
                t0 = t0.max(first.sent);
                t1 = now;
            }
        }
        let names = engine.names();
        let lanes = geometry::Lanes {
            t0: t0 as f64,
            t1: t1.max(t0 as f64 + 1.0),
            width: w,
            height: h,
            left: 40.0,
            lanes: names.len(),
        };
        let every = ((names.len() as f64 * 9.5) / h.max(1.0)).ceil().max(1.0) as usize;
        ctx.set_font("10px ui-monospace, Menlo, Consolas, monospace");
        ctx.set_line_width(1.0);
        for (i, name) in names.iter().enumerate() {
            let y = lanes.y(i);
            ctx.set_global_alpha(0.3);
            ctx.set_stroke_style_str(&node_colour(i as u16));
            ctx.begin_path();
            ctx.move_to(lanes.left, y);
            ctx.line_to(w - 4.0, y);
            ctx.stroke();
            ctx.set_global_alpha(1.0);
            if i % every == 0 {
                ctx.set_fill_style_str("#667085");
                let _ = ctx.fill_text(name, 4.0, y + 3.5);
            }
        }
        ctx.set_line_width(1.6);
        // One path per colour: hundreds of separate strokes cost frames in software rendering.
        for group in 0..=10u8 {
            let colour = if group == 10 {
                "#d92d20"
            } else {
                kind_colour(usize::from(group))
            };
            ctx.set_stroke_style_str(colour);
            ctx.begin_path();
            for a in &arrows {
                let end = (a.end as f64).min(now);
                let done = end >= a.end as f64;
                let g = if a.dropped && done { 10 } else { a.kind };
                if g != group {
                    continue;
                }
                let x1 = lanes.x(a.sent as f64);
                let y1 = lanes.y(usize::from(a.from));
                let frac = if a.end > a.sent {
                    ((end - a.sent as f64) / (a.end - a.sent) as f64).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                let x2 = lanes.x(end);
                let y2 = y1 + (lanes.y(usize::from(a.to)) - y1) * frac;
                ctx.move_to(x1, y1);
                ctx.line_to(x2, y2);
                if done {
                    ctx.move_to(x2 + 2.2, y2);
                    let _ = ctx.arc(x2, y2, 2.2, 0.0, std::f64::consts::TAU);
                }
            }
            ctx.stroke();
        }
        ctx.set_stroke_style_str("#101828");
        ctx.set_global_alpha(0.5);
        ctx.begin_path();
        let nx = lanes.x(now);
        ctx.move_to(nx, 0.0);
        ctx.line_to(nx, h);
        ctx.stroke();
        ctx.set_global_alpha(1.0);
        self.timeline = Some((lanes, arrows));
    }

    /// The time a click on the timeline means: the delivery of the arrow end nearest the
    /// pointer (within 8 px), else the time under it.
    pub fn time_at(&self, now: f64, x: f64, y: f64) -> Option<u64> {
        let (lanes, arrows) = self.timeline.as_ref()?;
        let mut best: Option<(f64, u64)> = None;
        for a in arrows.iter().filter(|a| (a.end as f64) <= now) {
            let (ex, ey) = (lanes.x(a.end as f64), lanes.y(usize::from(a.to)));
            let d = (ex - x).hypot(ey - y);
            if d <= 8.0 && best.is_none_or(|b| d < b.0) {
                best = Some((d, a.end));
            }
        }
        Some(best.map_or_else(|| lanes.time_at(x).round() as u64, |b| b.1))
    }
}

/// Requests are circles, replies squares, repairs triangles, gossip small dots.
fn shape(ctx: &CanvasRenderingContext2d, kind: u8, x: f64, y: f64) {
    match kind {
        0 => {
            ctx.move_to(x + 3.0, y);
            let _ = ctx.arc(x, y, 3.0, 0.0, std::f64::consts::TAU);
        }
        3 | 5 | 8 => ctx.rect(x - 4.0, y - 4.0, 8.0, 8.0),
        6 => {
            ctx.move_to(x, y - 5.5);
            ctx.line_to(x + 5.0, y + 4.0);
            ctx.line_to(x - 5.0, y + 4.0);
            ctx.close_path();
        }
        _ => {
            ctx.move_to(x + 4.5, y);
            let _ = ctx.arc(x, y, 4.5, 0.0, std::f64::consts::TAU);
        }
    }
}

fn cross(ctx: &CanvasRenderingContext2d, x: f64, y: f64, r: f64) {
    ctx.move_to(x - r, y - r);
    ctx.line_to(x + r, y + r);
    ctx.move_to(x + r, y - r);
    ctx.line_to(x - r, y + r);
}

/// Where a message from badge `from` to badge `to` is at progress `t` (unknown badges sit at the
/// centre).
fn badge_point(badges: &[(f64, f64)], from: u16, to: u16, t: f64) -> (f64, f64) {
    let at = |i: u16| badges.get(usize::from(i)).copied().unwrap_or((0.0, 0.0));
    geometry::message_point(at(from), at(to), t)
}

/// The canvas's 2D context, if the browser gives one.
fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
}
