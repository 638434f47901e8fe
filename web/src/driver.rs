//! What the animation loop and the page share: the engine, play state, the painter and the
//! errors shown next to inputs. It lives in one `use_mut_ref`, so a frame
//! advances the simulation in place and never clones it.

use crate::engine::Engine;
use crate::fragment::Fragment;
use crate::geometry::{self, angle_of};
use crate::paint::Painter;
use crate::state::Ui;
use kvlab_core::{Config, Ratio};
use web_sys::HtmlCanvasElement;

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
    /// The message layer must be drawn again.
    pub dirty: bool,
    /// The slowest recent (tick, draw, check, render) times, ms, for `kvlab.perf()`.
    pub perf: [f64; 4],
    /// Message kinds not drawn, one bit per kind (`MsgKind::ALL` order): the legend toggles them.
    /// Tours hide gossip unless it is their lesson.
    pub hidden: u16,
    /// The canvases' painter and what it drew last.
    pub painter: Painter,
    /// The counterexample player is open (`Some`), with the bundled example to open first, if
    /// any; the cluster is paused and its keys are the player's.
    pub replay: Option<Option<String>>,
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
            dirty: true,
            perf: [0.0; 4],
            hidden,
            painter: Painter::default(),
            replay: None,
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
        self.painter
            .ring(&self.engine, &self.badges, self.hidden, canvas);
    }

    /// Draws the space-time diagram.
    pub fn draw_timeline(&mut self, canvas: &HtmlCanvasElement) {
        let t0 = self.timeline_start(self.engine.display_now() as u64);
        self.painter.timeline(&self.engine, self.hidden, t0, canvas);
    }

    /// The time a click on the timeline means (see `Painter::time_at`).
    pub fn timeline_time_at(&self, x: f64, y: f64) -> Option<u64> {
        self.painter.time_at(self.engine.display_now(), x, y)
    }
}
