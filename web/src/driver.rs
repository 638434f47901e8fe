//! What the animation loop and the page share: the engine, play state, the message layer's
//! buffers and the errors shown next to inputs. It lives in one `use_mut_ref`, so a frame
//! advances the simulation in place and never clones it.

use crate::engine::Engine;
use crate::format::{kind_colour, node_colour};
use crate::fragment::Fragment;
use crate::geometry::{self, angle_of, VIEW_HALF};
use crate::state::Ui;
use crate::view::{Arrow, Death, Flight};
use kvlab_core::{Config, Ratio};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Speeds: simulated ms per real ms, and their labels.
pub const SPEEDS: [(f64, &str); 9] = [
    (0.01, "0.01×"),
    (0.02, "0.02×"),
    (0.05, "0.05×"),
    (0.1, "0.1×"),
    (0.25, "0.25×"),
    (0.5, "0.5×"),
    (1.0, "1×"),
    (2.0, "2×"),
    (5.0, "5×"),
];
/// The default speed, 0.5×: a crash is noticed (T_fail = 2 s) within about 5 s on screen, and a
/// 30 ms message still crosses in 60 ms. Slower speeds show single messages better.
pub const DEFAULT_SPEED: usize = 5;

/// Errors shown in place, next to what caused them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Errors {
    /// The seed field.
    pub seed: Option<String>,
    /// A settings field: (field name as in `Config`, message).
    pub config: Option<(String, String)>,
    /// The URL fragment the page was opened with.
    pub fragment: Option<String>,
    /// The client console.
    pub console: Option<String>,
}

/// The shared state.
pub struct Driver {
    /// The simulation and its history.
    pub engine: Engine,
    /// Playing.
    pub playing: bool,
    /// Index into `SPEEDS`.
    pub speed: usize,
    /// The settings the engine was made from.
    pub frag: Fragment,
    /// Errors in place.
    pub errors: Errors,
    /// A copy of the UI state, for `window.kvlab`.
    pub ui: Ui,
    /// Badge centres by node id, in ring coordinates.
    pub badges: Vec<(f64, f64)>,
    /// Last frame's timestamp.
    pub last_ts: Option<f64>,
    /// When the page last re-rendered while playing.
    pub last_render: f64,
    /// When the invariants were last checked while playing.
    pub last_check: f64,
    /// When the timeline was last drawn.
    pub last_timeline: f64,
    /// Positions of the dots drawn last frame (for tests).
    pub dots: Vec<(f32, f32)>,
    /// The message layer must be drawn again.
    pub dirty: bool,
    /// The slowest recent (tick, draw, check, render) times, ms, for `kvlab.perf()`.
    pub perf: [f64; 4],
    /// Message kinds not drawn, one bit per kind (`MsgKind::ALL` order): the legend toggles them.
    /// Tours hide gossip unless it is their lesson.
    pub hidden: u16,
    flights: Vec<Flight>,
    deaths: Vec<Death>,
    /// The timeline as last drawn: its layout and arrows, for clicks.
    timeline: Option<(geometry::Lanes, Vec<Arrow>)>,
}

/// Simulated time the timeline shows: enough for a few round trips and gossip rounds.
pub fn timeline_span(cfg: &Config) -> u64 {
    (cfg.latency_max_ms * 8)
        .max(cfg.gossip_interval_ms * 3)
        .max(100)
}

/// The message kinds a page showing `engine` hides at first: gossip during a tour whose lesson
/// is not gossip, so the tour's own messages stand out (the legend shows it again).
pub fn quiet_kinds(engine: &Engine) -> u16 {
    match engine.scenario_id() {
        Some(id) if id != "s3" => 1 << GOSSIP,
        _ => 0,
    }
}

/// The index of gossip in `MsgKind::ALL`.
const GOSSIP: u8 = 0;

impl Driver {
    /// The earliest time the timeline shows at `now`: one span back, and in a tour back to the
    /// start of the step (up to 8 s), so the step's own messages stay in view until Next.
    pub fn timeline_start(&self, now: u64) -> u64 {
        let t0 = now.saturating_sub(timeline_span(self.engine.config()));
        match self.engine.step_started() {
            Some(started) if now.saturating_sub(started) <= 8_000 => {
                t0.min(started.saturating_sub(20))
            }
            _ => t0,
        }
    }
}

/// Messages in flight drawn at most on the ring.
const MAX_DOTS: usize = 3_000;

/// Most tokens per node the page draws.
pub const MAX_PAGE_VNODES: u16 = 32;
/// Most nodes the page draws. These limits were measured: at 128 nodes × 64 vnodes × N = 7 ×
/// 2,000 clients frames took 100 ms (p95) and memory reached 333 MB; the page must stay near one
/// frame and under 256 MB at whatever the form accepts.
pub const MAX_PAGE_NODES: u16 = 64;
/// Largest replication factor the page runs: with N = 128 every write sends 127 messages and
/// every snapshot copies them, which took the page past wasm's 4 GiB. Dynamo runs N = 3.
pub const MAX_PAGE_N: u8 = 5;
/// Largest message latency the form accepts, ms.
pub const MAX_PAGE_LATENCY_MS: u64 = 10_000;
/// Most background clients.
pub const MAX_PAGE_CLIENTS: u32 = 1_000;

/// The cluster settings a fragment describes.
pub fn config_of(f: &Fragment) -> Config {
    Config {
        seed: f.seed,
        nodes: f.nodes,
        vnodes: f.vnodes,
        n: f.n,
        r: f.r,
        w: f.w,
        latency_min_ms: f.lmin,
        latency_max_ms: f.lmax,
        loss: Ratio::percent(f.loss),
        // The form shows no timeout: it follows the latency, so any latency the form accepts runs.
        request_timeout_ms: Config::default().request_timeout_ms.max(2 * f.lmax + 100),
        ..Config::default()
    }
}

/// An engine for a fragment, or the field at fault and why.
pub fn engine_for(f: &Fragment) -> Result<Engine, (String, String)> {
    if let Some(id) = &f.scenario {
        return Engine::scenario(id, f.step, true)
            .ok_or_else(|| ("scenario".to_string(), format!("no scenario “{id}”")));
    }
    // What the page can draw, animate and keep snapshots of; the core itself allows more. Each
    // error names a field of the settings form and says why.
    if f.nodes == 0 || f.nodes > MAX_PAGE_NODES {
        return Err((
            "nodes".into(),
            format!("between 1 and {MAX_PAGE_NODES} (what the ring can draw)"),
        ));
    }
    if f.vnodes == 0 || f.vnodes > MAX_PAGE_VNODES {
        return Err((
            "vnodes".into(),
            format!("between 1 and {MAX_PAGE_VNODES} per node (every token is drawn)"),
        ));
    }
    if f.n == 0 || f.n > MAX_PAGE_N || u16::from(f.n) > f.nodes {
        return Err((
            "n".into(),
            format!(
                "between 1 and {} (every write goes to N replicas; the page keeps up to {MAX_PAGE_N})",
                f.nodes.min(u16::from(MAX_PAGE_N))
            ),
        ));
    }
    if f.r == 0 || f.r > f.n {
        return Err(("r".into(), format!("between 1 and N = {}", f.n)));
    }
    if f.w == 0 || f.w > f.n {
        return Err(("w".into(), format!("between 1 and N = {}", f.n)));
    }
    if f.lmin == 0 || f.lmin > f.lmax {
        return Err((
            "latency_min_ms".into(),
            "at least 1 ms and at most the max".into(),
        ));
    }
    if f.lmax > MAX_PAGE_LATENCY_MS {
        return Err((
            "latency_max_ms".into(),
            format!("at most {MAX_PAGE_LATENCY_MS} ms"),
        ));
    }
    if f.wl > MAX_PAGE_CLIENTS {
        return Err((
            "workload".into(),
            format!("at most {MAX_PAGE_CLIENTS} clients"),
        ));
    }
    Engine::new(config_of(f), f.wl).map_err(|e| (e.field.to_string(), e.rule))
}

impl Driver {
    /// A driver around `engine`.
    pub fn new(engine: Engine, frag: Fragment) -> Driver {
        let hidden = quiet_kinds(&engine);
        let mut d = Driver {
            engine,
            playing: false,
            speed: DEFAULT_SPEED,
            frag,
            errors: Errors::default(),
            ui: Ui::default(),
            badges: Vec::new(),
            last_ts: None,
            last_render: 0.0,
            last_check: 0.0,
            last_timeline: 0.0,
            dots: Vec::new(),
            dirty: true,
            perf: [0.0; 4],
            hidden,
            flights: Vec::new(),
            deaths: Vec::new(),
            timeline: None,
        };
        d.layout();
        d
    }

    /// Swaps in a new engine (new settings, seed or scenario).
    pub fn replace(&mut self, engine: Engine, frag: Fragment) {
        self.engine = engine;
        self.frag = frag;
        self.playing = false;
        self.hidden = quiet_kinds(&self.engine);
        self.layout();
    }

    /// Recomputes the badge layout (after the engine was rebuilt in place).
    pub fn layout_again(&mut self) {
        self.layout();
        self.dirty = true;
    }

    fn layout(&mut self) {
        let ring = self.engine.ring_view();
        let n = ring.nodes.len();
        let mut first = vec![None::<u64>; n];
        for &(pos, node) in &ring.tokens {
            if let Some(slot) = first.get_mut(usize::from(node)) {
                if slot.is_none() {
                    *slot = Some(pos);
                }
            }
        }
        let angles: Vec<f64> = first.iter().map(|p| angle_of(p.unwrap_or(0))).collect();
        self.badges = geometry::badge_positions(&geometry::badge_angles(&angles));
    }

    /// Sim ms per real ms.
    pub fn speed_value(&self) -> f64 {
        SPEEDS.get(self.speed).map_or(0.1, |s| s.0)
    }

    /// Draws the messages in flight and the recently dead onto the canvas overlaying the ring.
    pub fn draw(&mut self, canvas: &HtmlCanvasElement) {
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

        let now = self.engine.display_now();
        self.engine.flights(&mut self.flights);
        let window = 60u64;
        self.engine.deaths(window, &mut self.deaths);
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
                .filter(|f| f.kind == kind && self.hidden & (1 << kind) == 0)
            {
                let t = geometry::progress(f.sent, f.deliver, now);
                let (x, y) = badge_point(&self.badges, f.from, f.to, t);
                self.dots.push((x as f32, y as f32));
                shape(&ctx, kind, x, y);
            }
            ctx.fill();
        }
        // A doomed message fades and is struck through near its end.
        ctx.set_stroke_style_str("#d92d20");
        ctx.set_line_width(2.0);
        ctx.begin_path();
        for f in (self.flights.iter()).filter(|f| f.doomed && self.hidden & (1 << f.kind) == 0) {
            let t = geometry::progress(f.sent, f.deliver, now);
            if t > 0.6 {
                let (x, y) = badge_point(&self.badges, f.from, f.to, t);
                cross(&ctx, x, y, 6.0);
            }
        }
        ctx.stroke();
        for d in self
            .deaths
            .iter()
            .filter(|d| self.hidden & (1 << d.kind) == 0)
        {
            let age = ((now - d.at as f64) / window as f64).clamp(0.0, 1.0);
            let (x, y) = badge_point(&self.badges, d.from, d.to, 0.9);
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
}

impl Driver {
    /// Draws the space-time diagram: lanes, and recent messages from send to delivery (cut at
    /// the current time while in flight).
    pub fn draw_timeline(&mut self, canvas: &HtmlCanvasElement) {
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
        let now = self.engine.display_now();
        let span = timeline_span(self.engine.config());
        let mut t0 = self.timeline_start(now as u64);
        const MAX_ARROWS: usize = 700;
        let arrows = self.engine.arrows(t0, MAX_ARROWS, self.hidden);
        // Early in a run the window is not full yet: keep its scale, with now moving right.
        let mut t1 = now.max((t0 + span) as f64);
        // A busy cluster fills the budget early: show the window the arrows cover.
        if arrows.len() >= MAX_ARROWS {
            if let Some(first) = arrows.first() {
                t0 = t0.max(first.sent);
                t1 = now;
            }
        }
        let names = self.engine.names();
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
    pub fn timeline_time_at(&self, x: f64, y: f64) -> Option<u64> {
        let (lanes, arrows) = self.timeline.as_ref()?;
        let now = self.engine.display_now();
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
