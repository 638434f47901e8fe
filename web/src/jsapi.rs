//! `window.kvlab`: read-only state for browser tests and the curious.
//!
//! `kvlab.state()` returns a plain object (see `Dump`); `kvlab.dots()` the positions of the
//! message dots drawn in the last frame; `kvlab.trace()` the kept trace as JSON text;
//! `kvlab.perf()` the slowest (advance, draw, invariant check, render read-out) times in ms since
//! the last call.

use crate::driver::Driver;
use crate::view::{HintRow, Invariants, MemberRow, Metrics, ReplyView, ScenarioView, StorageRow};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[derive(Serialize)]
struct NodeDump {
    id: u16,
    name: String,
    up: bool,
    group: u16,
    suspected_by: u16,
    store: Vec<StorageRow>,
    keys_total: usize,
    membership: Vec<MemberRow>,
    hints: Vec<HintRow>,
}

#[derive(Serialize)]
struct Errors {
    seed: Option<String>,
    config: Option<String>,
    config_field: Option<String>,
    fragment: Option<String>,
    console: Option<String>,
}

#[derive(Serialize)]
struct Dump {
    now: u64,
    display_now: f64,
    events: u64,
    trace_hash: String,
    playing: bool,
    speed: f64,
    seed: String,
    fragment: String,
    in_flight: usize,
    nodes: Vec<NodeDump>,
    metrics: Metrics,
    invariants: Invariants,
    scenario: Option<ScenarioView>,
    caption: Option<String>,
    console: Vec<ReplyView>,
    selected: Option<u16>,
    panel: String,
    help: bool,
    errors: Errors,
    merkle_syncs: Vec<SyncDump>,
}

#[derive(Serialize)]
struct SyncDump {
    node: String,
    peer: String,
    buckets: Vec<u32>,
    keys: u64,
}

fn dump(d: &Driver) -> Dump {
    let e = &d.engine;
    let ring = e.ring_view();
    let nodes = ring
        .nodes
        .iter()
        .map(|b| {
            let det = e.node_detail(b.id).unwrap_or_default();
            NodeDump {
                id: b.id,
                name: b.name.clone(),
                up: b.up,
                group: b.group,
                suspected_by: b.suspected_by,
                store: det.storage,
                keys_total: det.keys_total,
                membership: det.membership,
                hints: det.hints,
            }
        })
        .collect();
    let metrics = e.metrics();
    let scenario = e.scenario_view();
    Dump {
        now: e.now(),
        display_now: e.display_now(),
        events: e.events(),
        trace_hash: format!("{:016x}", e.trace_hash()),
        playing: d.playing,
        speed: d.speed_value(),
        seed: e.config().seed.to_string(),
        fragment: crate::fragment::encode(&d.frag),
        in_flight: metrics.in_flight,
        nodes,
        metrics,
        invariants: e.invariants().clone(),
        caption: scenario.as_ref().map(|s| s.caption.clone()),
        scenario,
        console: e.console(),
        selected: d.ui.selected,
        panel: d.ui.panel.name().to_string(),
        help: d.ui.help,
        errors: Errors {
            seed: d.errors.seed.clone(),
            config: d.errors.config.as_ref().map(|c| c.1.clone()),
            config_field: d.errors.config.as_ref().map(|c| c.0.clone()),
            fragment: d.errors.fragment.clone(),
            console: d.errors.console.clone(),
        },
        merkle_syncs: e
            .merkle_syncs()
            .into_iter()
            .map(|(node, peer, buckets, keys)| SyncDump {
                node,
                peer,
                buckets,
                keys,
            })
            .collect(),
    }
}

/// Installs `window.kvlab`.
pub fn install(driver: Rc<RefCell<Driver>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let api = js_sys::Object::new();
    let d = driver.clone();
    let state = Closure::<dyn Fn() -> JsValue>::new(move || {
        let Ok(d) = d.try_borrow() else {
            return JsValue::NULL;
        };
        let ser = serde_wasm_bindgen::Serializer::json_compatible();
        dump(&d).serialize(&ser).unwrap_or(JsValue::NULL)
    });
    let d = driver.clone();
    let dots = Closure::<dyn Fn() -> JsValue>::new(move || {
        let Ok(d) = d.try_borrow() else {
            return JsValue::NULL;
        };
        let ser = serde_wasm_bindgen::Serializer::json_compatible();
        d.painter.dots.serialize(&ser).unwrap_or(JsValue::NULL)
    });
    let d = driver.clone();
    let perf = Closure::<dyn Fn() -> JsValue>::new(move || {
        let Ok(mut d) = d.try_borrow_mut() else {
            return JsValue::NULL;
        };
        let out = js_sys::Array::new();
        for v in d.perf {
            out.push(&JsValue::from_f64(v));
        }
        d.perf = [0.0; 4];
        out.into()
    });
    let d = driver;
    let trace = Closure::<dyn Fn() -> JsValue>::new(move || {
        d.try_borrow()
            .map(|d| JsValue::from_str(&d.engine.trace_json()))
            .unwrap_or(JsValue::NULL)
    });
    // Bytes of wasm linear memory: it only grows, so a flat value means nothing grows inside.
    let memory = Closure::<dyn Fn() -> JsValue>::new(move || {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .ok()
            .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
            .map_or(JsValue::NULL, |b| {
                JsValue::from_f64(f64::from(b.byte_length()))
            })
    });
    let _ = js_sys::Reflect::set(&api, &"memory".into(), memory.as_ref());
    let _ = js_sys::Reflect::set(&api, &"state".into(), state.as_ref());
    let _ = js_sys::Reflect::set(&api, &"dots".into(), dots.as_ref());
    let _ = js_sys::Reflect::set(&api, &"trace".into(), trace.as_ref());
    let _ = js_sys::Reflect::set(&api, &"perf".into(), perf.as_ref());
    let _ = js_sys::Reflect::set(&api, &"ready".into(), &JsValue::TRUE);
    // Called from the first render's effect: time from navigation start to a drawn page.
    if let Some(p) = window.performance() {
        let _ = js_sys::Reflect::set(&api, &"firstRender".into(), &JsValue::from_f64(p.now()));
    }
    let _ = js_sys::Reflect::set(&window, &"kvlab".into(), &api);
    // The page lives as long as the window: these closures are meant to stay.
    state.forget();
    memory.forget();
    dots.forget();
    trace.forget();
    perf.forget();
}
