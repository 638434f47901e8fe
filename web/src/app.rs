//! The page: layout, the command handler, the animation loop, keyboard shortcuts and the URL.

use crate::components::help::{self, help};
use crate::components::inspector::{self, inspector};
use crate::components::narration::{self, narration};
use crate::components::replay_view::ReplayView;
use crate::components::ring::Ring;
use crate::components::settings::Settings;
use crate::components::status::{self, status};
use crate::components::timeline::{self, timeline as timeline_view};
use crate::components::toolbar::Toolbar;
use crate::components::{Cmd, Draft};
use crate::driver::{engine_for, Driver, SPEEDS};
use crate::engine::{Engine, FaultReq};
use crate::fragment::{self, Fragment};
use crate::state::{Action, Panel, Ui};
use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{request_animation_frame, AnimationFrame};
use kvlab_core::Scenario;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, KeyboardEvent};
use yew::prelude::*;

/// Re-render at most this often while playing (the canvas still animates every frame).
const RENDER_EVERY_MS: f64 = 250.0;
/// Run the invariant checks at most this often while playing.
const CHECK_EVERY_MS: f64 = 1_000.0;
/// Events a frame may process at least and at most, whatever the frame times say.
const MIN_EVENT_BUDGET: u64 = 500;
const MAX_EVENT_BUDGET: u64 = 400_000;

fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn write_hash(f: &Fragment) {
    let Some(w) = web_sys::window() else { return };
    if let Ok(h) = w.history() {
        let _ =
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&fragment::encode(f)));
    }
}

/// The driver for the page's URL; a bad fragment falls back to the defaults and says why.
fn initial_driver() -> Driver {
    let hash = location_hash();
    let (engine, frag, err) = match fragment::parse(&hash) {
        Ok(f) => match engine_for(&f) {
            Ok(e) => (e, f, None),
            Err((field, msg)) => (
                default_engine(),
                Fragment::default(),
                Some(format!(
                    "The link's settings were rejected ({field}: {msg}); showing the defaults."
                )),
            ),
        },
        Err(e) => (
            default_engine(),
            Fragment::default(),
            Some(format!(
                "The link could not be read ({e}); showing the defaults."
            )),
        ),
    };
    let mut d = Driver::new(engine, frag);
    d.errors.fragment = err;
    // `#replay` opens the counterexample player; `#replay=lww.json` with a bundled example.
    if let Some(rest) = hash.strip_prefix("#replay") {
        d.replay = Some(rest.strip_prefix('=').map(str::to_string));
        d.errors.fragment = None;
    }
    d
}

fn default_engine() -> Engine {
    // The defaults are valid (a core unit test says so); a failure here would be a core bug,
    // and a panic would kill the page, so fall back to the smallest cluster instead.
    engine_for(&Fragment::default())
        .or_else(|_| {
            Engine::new(
                kvlab_core::Config {
                    nodes: 1,
                    n: 1,
                    r: 1,
                    w: 1,
                    ..Default::default()
                },
                0,
            )
            .map_err(|e| (String::new(), e.rule))
        })
        .unwrap_or_else(|_| unreachable_engine())
}

#[allow(clippy::panic)]
fn unreachable_engine() -> Engine {
    panic!("kvlab-core rejects its own default configuration")
}

fn scenario_labels() -> Vec<(String, String)> {
    Scenario::all()
        .into_iter()
        .map(|s| (s.id.clone(), format!("{}. {}", s.section, s.title)))
        .collect()
}

fn parse_draft(d: &Draft, base: &Fragment) -> Result<Fragment, (String, String)> {
    let mut f = Fragment {
        scenario: None,
        step: 0,
        ..base.clone()
    };
    for (field, text) in &d.fields {
        let t = text.trim();
        let bad = || {
            (
                field.to_string(),
                format!("“{}” is not a whole number", crate::format::clip(t)),
            )
        };
        macro_rules! num {
            ($slot:expr) => {
                $slot = t.parse().map_err(|_| bad())?
            };
        }
        match *field {
            "nodes" => num!(f.nodes),
            "n" => num!(f.n),
            "r" => num!(f.r),
            "w" => num!(f.w),
            "vnodes" => num!(f.vnodes),
            "latency_min_ms" => num!(f.lmin),
            "latency_max_ms" => num!(f.lmax),
            "loss" => {
                num!(f.loss);
                if f.loss > 100 {
                    return Err(("loss".into(), "must be a percentage, 0 to 100".into()));
                }
            }
            "workload" => num!(f.wl),
            _ => {}
        }
    }
    Ok(f)
}

struct Page {
    driver: Rc<RefCell<Driver>>,
    ui: UseReducerDispatcher<Ui>,
    redraw: UseForceUpdateHandle,
}

impl Page {
    fn focus_scenario(&self) {
        let view = self.driver.borrow().engine.scenario_view();
        if let Some(s) = view {
            self.ui
                .dispatch(Action::Focus(Panel::from_name(&s.panel), s.focus));
        }
    }

    fn sync_hash(&self) {
        let mut d = self.driver.borrow_mut();
        if let Some(s) = d.engine.scenario_view() {
            d.frag.scenario = Some(s.id);
            d.frag.step = s.step;
        }
        write_hash(&d.frag);
    }

    /// Restarts the cluster with `seed` (leaving a guided scenario for free play).
    fn reseed(&self, seed: u64) {
        let mut frag = self.driver.borrow().frag.clone();
        if frag.scenario.is_some() {
            frag = Fragment::default();
        }
        frag.seed = seed;
        self.driver.borrow_mut().errors.seed = None;
        if let Err((f, m)) = self.new_engine(frag) {
            self.driver.borrow_mut().errors.config = Some((f, m));
        }
    }

    fn new_engine(&self, frag: Fragment) -> Result<(), (String, String)> {
        let engine = engine_for(&frag)?;
        self.driver.borrow_mut().replace(engine, frag);
        self.ui.dispatch(Action::NewCluster);
        self.focus_scenario();
        self.sync_hash();
        Ok(())
    }

    fn handle(&self, cmd: Cmd) {
        let mut rerender = true;
        match cmd {
            Cmd::Ui(a) => {
                rerender = false;
                self.ui.dispatch(a);
            }
            Cmd::Replay(open) => {
                let mut d = self.driver.borrow_mut();
                d.playing = false;
                // Closed, the player leaves the cluster's own fragment in the URL: `#replay…` kept
                // would reopen it on a reload.
                if open.is_none() && location_hash().starts_with("#replay") {
                    write_hash(&d.frag);
                }
                d.replay = open;
                d.dirty = true;
            }
            Cmd::TogglePlay => {
                let mut d = self.driver.borrow_mut();
                d.playing = !d.playing;
                if !d.playing {
                    d.engine.check_invariants();
                }
            }
            Cmd::Step => {
                let mut d = self.driver.borrow_mut();
                d.playing = false;
                d.engine.step();
                d.engine.check_invariants();
            }
            Cmd::Round => {
                let mut d = self.driver.borrow_mut();
                d.playing = false;
                d.engine.step_round();
                d.engine.check_invariants();
            }
            Cmd::Back => {
                let mut d = self.driver.borrow_mut();
                d.playing = false;
                d.engine.step_back();
            }
            Cmd::Reset => {
                let frag = {
                    let d = self.driver.borrow();
                    let mut f = d.frag.clone();
                    f.step = 0;
                    f
                };
                if let Some(id) = frag.scenario.clone() {
                    if let Some(e) = Engine::scenario(&id, 0, false) {
                        self.driver.borrow_mut().replace(e, frag);
                        self.ui.dispatch(Action::NewCluster);
                        self.focus_scenario();
                    }
                } else if let Err((f, m)) = self.new_engine(frag) {
                    self.driver.borrow_mut().errors.config = Some((f, m));
                }
            }
            Cmd::Speed(i) => {
                self.driver.borrow_mut().speed = i.min(SPEEDS.len() - 1);
            }
            Cmd::ToggleKind(k) => {
                let mut d = self.driver.borrow_mut();
                d.hidden ^= 1u16.checked_shl(u32::from(k)).unwrap_or(0);
                d.dirty = true;
            }
            Cmd::Seed(text) => {
                let t = text.trim();
                match t.parse::<u64>() {
                    Ok(seed) => self.reseed(seed),
                    Err(_) => {
                        self.driver.borrow_mut().errors.seed = Some(format!(
                            "“{}” is not a seed: use a whole number from 0 to {}",
                            t.chars().take(24).collect::<String>(),
                            u64::MAX
                        ));
                    }
                }
            }
            Cmd::NewSeed => {
                let seed = getrandom::u64()
                    .unwrap_or_else(|_| (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64);
                self.reseed(seed);
            }
            Cmd::ApplyConfig(draft) => {
                let base = self.driver.borrow().frag.clone();
                let result = parse_draft(&draft, &base).and_then(|f| self.new_engine(f));
                match result {
                    Ok(()) => {
                        self.driver.borrow_mut().errors.config = None;
                        self.ui.dispatch(Action::ToggleConfig);
                    }
                    Err(e) => self.driver.borrow_mut().errors.config = Some(e),
                }
            }
            Cmd::Fault(f) => {
                let mut d = self.driver.borrow_mut();
                if let FaultReq::Loss(p) = f {
                    d.frag.loss = p;
                }
                d.engine.fault(f);
            }
            Cmd::Put {
                via,
                key,
                value,
                context,
            } => {
                let mut d = self.driver.borrow_mut();
                let r = d.engine.put(via, &key, &value, &context);
                d.errors.console = r.err();
            }
            Cmd::Get { via, key } => {
                let mut d = self.driver.borrow_mut();
                let r = d.engine.get(via, &key);
                d.errors.console = r.err();
            }
            Cmd::Scenario(id) => {
                let frag = match id {
                    Some(id) => Fragment {
                        scenario: Some(id),
                        ..Fragment::default()
                    },
                    None => Fragment::default(),
                };
                match &frag.scenario {
                    Some(id) => {
                        if let Some(e) = Engine::scenario(id, 0, false) {
                            self.driver.borrow_mut().replace(e, frag);
                            self.ui.dispatch(Action::NewCluster);
                            self.focus_scenario();
                            self.sync_hash();
                        }
                    }
                    None => {
                        let _ = self.new_engine(frag);
                    }
                }
            }
            Cmd::Next => {
                let moved = self.driver.borrow_mut().engine.scenario_next();
                if moved {
                    self.focus_scenario();
                    self.sync_hash();
                }
            }
            Cmd::Prev => {
                let moved = self.driver.borrow_mut().engine.scenario_back();
                if moved {
                    self.driver.borrow_mut().layout_again();
                    self.focus_scenario();
                    self.sync_hash();
                }
            }
            Cmd::Finish => {
                let mut d = self.driver.borrow_mut();
                d.engine.finish_auto();
                d.engine.check_invariants();
            }
            Cmd::TimelineClick(x, y) => {
                let mut d = self.driver.borrow_mut();
                if let Some(t) = d.timeline_time_at(x, y) {
                    d.playing = false;
                    d.engine.jump_to(t);
                }
            }
            Cmd::Export => {
                rerender = false;
                let (json, seed) = {
                    let d = self.driver.borrow();
                    (d.engine.trace_json(), d.engine.config().seed)
                };
                download(&format!("kvlab-trace-seed{seed}.json"), &json);
            }
            Cmd::Share => self.sync_hash(),
        }
        self.driver.borrow_mut().dirty = true;
        if rerender {
            self.redraw.force_update();
        }
    }
}

fn download(name: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// One animation frame: advance the simulation by the wall time elapsed, draw the messages,
/// and now and then re-render the page and check the invariants.
fn frame(
    ts: f64,
    driver: &Rc<RefCell<Driver>>,
    canvas: &NodeRef,
    timeline: &NodeRef,
    redraw: &UseForceUpdateHandle,
) {
    let mut render = false;
    {
        let Ok(mut d) = driver.try_borrow_mut() else {
            return;
        };
        let dt = d.last_ts.map_or(0.0, |last| ts - last);
        d.last_ts = Some(ts);
        let was_auto = d.engine.auto_running();
        let speed = d.speed_value();
        let playing = d.playing;
        let t0 = now_ms();
        let moved = d.engine.tick(dt, speed, playing);
        let t1 = now_ms();
        d.perf[0] = d.perf[0].max(t1 - t0);
        // Keep a frame's simulation work near 10 ms: fewer events when frames run long, more
        // when the budget was the limit and there is time to spare.
        let budget = d.engine.event_budget();
        if t1 - t0 > 14.0 {
            d.engine
                .set_event_budget((budget * 3 / 4).max(MIN_EVENT_BUDGET));
        } else if t1 - t0 < 7.0 && d.engine.lagging() {
            d.engine
                .set_event_budget((budget * 5 / 4 + 1).min(MAX_EVENT_BUDGET));
        }
        if moved && ts - d.last_check > CHECK_EVERY_MS {
            d.last_check = ts;
            d.engine.check_invariants();
            d.perf[2] = d.perf[2].max(now_ms() - t1);
        }
        if moved && ts - d.last_render > RENDER_EVERY_MS {
            d.last_render = ts;
            render = true;
        }
        if was_auto && !d.engine.auto_running() {
            render = true;
        }
        if moved || d.dirty {
            let t = now_ms();
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                d.draw(&c);
            }
            // The diagram moves slowly: 20 frames a second are plenty.
            if d.dirty || ts - d.last_timeline > 50.0 {
                d.last_timeline = ts;
                if let Some(tl) = timeline.cast::<HtmlCanvasElement>() {
                    d.draw_timeline(&tl);
                }
            }
            d.dirty = false;
            d.perf[1] = d.perf[1].max(now_ms() - t);
        }
    }
    if render {
        redraw.force_update();
    }
}

/// The app.
#[function_component(App)]
pub fn app() -> Html {
    let driver = use_mut_ref(initial_driver);
    let ui = use_reducer(Ui::default);
    let redraw = use_force_update();
    let canvas = use_node_ref();
    let timeline = use_node_ref();

    let page = Rc::new(Page {
        driver: driver.clone(),
        ui: ui.dispatcher(),
        redraw: redraw.clone(),
    });
    let on = {
        let page = page.clone();
        Callback::from(move |c: Cmd| page.handle(c))
    };

    // The animation loop, window.kvlab, keyboard shortcuts and hash changes: set up once.
    {
        let driver = driver.clone();
        let canvas = canvas.clone();
        let timeline = timeline.clone();
        let redraw = redraw.clone();
        let on = on.clone();
        let page = page.clone();
        use_effect_with((), move |_| {
            crate::jsapi::install(driver.clone());
            page.focus_scenario();
            let handle: Rc<RefCell<Option<AnimationFrame>>> = Rc::new(RefCell::new(None));
            fn schedule(
                handle: Rc<RefCell<Option<AnimationFrame>>>,
                driver: Rc<RefCell<Driver>>,
                canvas: NodeRef,
                timeline: NodeRef,
                redraw: UseForceUpdateHandle,
            ) {
                let h = handle.clone();
                let af = request_animation_frame(move |ts| {
                    frame(ts, &driver, &canvas, &timeline, &redraw);
                    schedule(h, driver, canvas, timeline, redraw);
                });
                *handle.borrow_mut() = Some(af);
            }
            schedule(handle.clone(), driver.clone(), canvas, timeline, redraw);

            let doc = gloo::utils::document();
            let on_key = on.clone();
            let key_driver = driver.clone();
            let keys = EventListener::new_with_options(
                &doc,
                "keydown",
                EventListenerOptions::enable_prevent_default(),
                move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if !is_playback_key(e) {
                        return;
                    }
                    // The counterexample player has keys of its own.
                    if key_driver.try_borrow().is_ok_and(|d| d.replay.is_some()) {
                        return;
                    }
                    let cmd = match e.key().as_str() {
                        " " => Cmd::TogglePlay,
                        "ArrowRight" if e.shift_key() => Cmd::Round,
                        "ArrowRight" => Cmd::Step,
                        "ArrowLeft" => Cmd::Back,
                        "?" => Cmd::Ui(Action::ToggleHelp),
                        "Escape" => Cmd::Ui(Action::CloseOverlays),
                        "n" | "N" => Cmd::Next,
                        "b" | "B" => Cmd::Prev,
                        _ => return,
                    };
                    e.prevent_default();
                    on_key.emit(cmd);
                },
            );
            // Buttons and menus give focus back after a click or a choice, so the next Space
            // plays or pauses instead of pressing them again.
            let blur = |ev: &Event| {
                if let Some(el) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .filter(|el| !is_text_field(el))
                    .and_then(|el| el.closest("button, select, input").ok().flatten())
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.blur();
                }
            };
            let clicks = EventListener::new(&doc, "click", blur);
            let changes = EventListener::new(&doc, "change", blur);
            let win = gloo::utils::window();
            let page2 = page.clone();
            let hash = EventListener::new(&win, "hashchange", move |_| {
                match fragment::parse(&location_hash()) {
                    Ok(f) => {
                        if let Err((field, msg)) = page2.new_engine(f) {
                            page2.driver.borrow_mut().errors.fragment = Some(format!(
                                "The link's settings were rejected ({field}: {msg})."
                            ));
                        } else {
                            page2.driver.borrow_mut().errors.fragment = None;
                        }
                    }
                    Err(e) => {
                        page2.driver.borrow_mut().errors.fragment = Some(format!(
                            "The link could not be read ({e}); nothing changed."
                        ));
                    }
                }
                page2.redraw.force_update();
            });
            let d3 = driver.clone();
            let resize = EventListener::new(&win, "resize", move |_| {
                if let Ok(mut d) = d3.try_borrow_mut() {
                    d.dirty = true;
                }
            });
            move || {
                drop(resize);
                drop(handle.borrow_mut().take());
                drop(keys);
                drop(clicks);
                drop(changes);
                drop(hash);
            }
        });
    }

    // The counterexample player replaces the cluster's view while it is open.
    let replay = driver.borrow().replay.clone();
    if let Some(example) = replay {
        let on = on.clone();
        let close = Callback::from(move |()| on.emit(Cmd::Replay(None)));
        return html! {
            <main id="kvlab-app" class="replaying">
                <ReplayView on_close={close} example={example} />
            </main>
        };
    }

    // Read what this render shows. The simulation itself is never cloned here.
    let render_start = now_ms();
    let mut d = driver.borrow_mut();
    d.ui = (*ui).clone();
    let ring = Rc::new(d.engine.ring_view());
    let badges = Rc::new(d.badges.clone());
    let detail = ui.selected.and_then(|id| d.engine.node_detail(id));
    let ranges = Rc::new(
        detail
            .as_ref()
            .map(|x| x.ranges.clone())
            .unwrap_or_default(),
    );
    let views = d.engine.inspect_views(&ui);
    let scenario = d.engine.scenario_view();
    let metrics = d.engine.metrics();
    let invariants = d.engine.invariants().clone();
    let names = d.engine.names().to_vec();
    let now = d.engine.display_now();
    let t0 = d.timeline_start(now as u64);
    let console = d.engine.console();
    let errors = d.errors.clone();
    let frag = d.frag.clone();
    let playing = d.playing;
    let speed = d.speed;
    let seed = d.engine.config().seed;
    let trace_hash = d.engine.trace_hash();
    let notice = d.engine.notice().map(str::to_string);
    let lagging = d.playing && d.engine.lagging();
    let loss = d.frag.loss;
    let hidden = d.hidden;
    let caption = {
        let c = d.engine.config();
        format!(
            "N={} R={} W={} · {} nodes × {} vnodes · latency {}–{} ms · {} clients",
            c.n,
            c.r,
            c.w,
            c.nodes,
            c.vnodes,
            c.latency_min_ms,
            c.latency_max_ms,
            d.engine.workload_clients()
        )
    };
    d.perf[3] = d.perf[3].max(now_ms() - render_start);
    drop(d);

    let scenarios = scenario_labels();
    let partitioned = ring.nodes.iter().any(|n| n.group != 0);
    let pick: Vec<(u16, String)> = ui
        .pick
        .iter()
        .map(|&i| (i, names.get(usize::from(i)).cloned().unwrap_or_default()))
        .collect();
    let default_key = scenario
        .as_ref()
        .map(|s| s.key.clone())
        .filter(|k| k != "-")
        .unwrap_or_else(|| "cart".to_string());
    let dismiss = {
        let driver = driver.clone();
        let redraw = redraw.clone();
        Callback::from(move |_| {
            driver.borrow_mut().errors.fragment = None;
            redraw.force_update();
        })
    };

    html! {
        <main id="kvlab-app" class={classes!(playing.then_some("playing"))}>
            <Toolbar playing={playing} speed={speed} seed={seed} seed_error={errors.seed.clone()}
                scenario={scenario.as_ref().map(|s| s.id.clone())} scenarios={scenarios.clone()}
                config_open={ui.config_open} on={on.clone()} />
            if let Some(e) = &errors.fragment {
                <div class="banner error" id="fragment-error" role="alert">
                    <span>{ e }</span>
                    <button class="ghost small" onclick={dismiss}>{ "Dismiss" }</button>
                </div>
            }
            if ui.config_open {
                <Settings frag={frag.clone()} error={errors.config.clone()} on={on.clone()} />
            }
            <div class="body">
                { narration(&narration::Props { scenario: scenario.clone(), scenarios, loss,
                    picking: ui.picking, pick, partitioned, hidden, on: on.clone() }) }
                <section class="center">
                    <Ring ring={ring} badges={badges} selected={ui.selected} ranges={ranges}
                        hover_key={ui.hover_key.clone().or_else(|| ui.selected_key.clone()).or_else(|| scenario.as_ref().map(|s| s.key.clone()).filter(|k| k != "-"))} menu={ui.menu} picking={ui.picking}
                        pick={ui.pick.clone()} canvas={canvas.clone()} on={on.clone()} />
                    <div class="ring-caption muted small" id="ring-caption">{ caption }</div>
                </section>
                { inspector(&inspector::Props { detail, views, panel: ui.panel, console,
                    names: names.clone(), console_error: errors.console.clone(), default_key, on: on.clone() }) }
            </div>
            { timeline_view(&timeline::Props { canvas: timeline.clone(), t0, now: now as u64, lanes: names.len(), on: on.clone() }) }
            { status(&status::Props { metrics, invariants, trace_hash, notice, lagging }) }
            if ui.help { { help(&help::Props { on }) } }
        </main>
    }
}

/// Whether `e` is a key for playback (the cluster's, or the counterexample player's): not typed
/// into a text field, and without Ctrl, Meta or Alt (the browser's own shortcuts). A button or a
/// menu that kept focus after a click must not take Space (it would send the last request again).
pub fn is_playback_key(e: &KeyboardEvent) -> bool {
    let typing = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| is_text_field(&el));
    !(typing || e.ctrl_key() || e.meta_key() || e.alt_key())
}

/// Whether keys typed into `el` are text: an input that takes text, a text area, or an editable
/// element. Buttons, menus, sliders and check boxes are not.
fn is_text_field(el: &web_sys::Element) -> bool {
    match el.tag_name().as_str() {
        "TEXTAREA" => true,
        "INPUT" => !matches!(
            el.get_attribute("type").unwrap_or_default().as_str(),
            "range" | "checkbox" | "radio" | "button" | "submit" | "color"
        ),
        _ => el
            .get_attribute("contenteditable")
            .is_some_and(|v| v != "false"),
    }
}
