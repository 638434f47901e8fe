//! The space-time diagram: one lane per node, recent messages as arrows from send to delivery.
//! Clicking moves the simulation to that time.

use super::Cmd;
use crate::format::{fx, kind_colour, kind_name, node_colour};
use crate::geometry::Lanes;
use crate::view::Arrow;
use yew::prelude::*;

/// Width of the drawing in SVG units.
pub const WIDTH: f64 = 1400.0;
/// Height of the drawing.
pub const HEIGHT: f64 = 150.0;

/// Props of the timeline.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Messages.
    pub arrows: Vec<Arrow>,
    /// Lane names.
    pub names: Vec<String>,
    /// Earliest time shown.
    pub t0: u64,
    /// Now.
    pub now: f64,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The timeline.
#[function_component(Timeline)]
pub fn timeline(p: &Props) -> Html {
    let lanes = Lanes {
        t0: p.t0 as f64,
        t1: p.now.max(p.t0 as f64 + 1.0),
        width: WIDTH,
        height: HEIGHT,
        left: 44.0,
        lanes: p.names.len(),
    };
    let every = ((p.names.len() as f64 * 11.0) / HEIGHT).ceil().max(1.0) as usize;
    let labels = p.names.iter().enumerate().map(|(i, n)| {
        let y = lanes.y(i);
        html! {
            <>
                <line class="lane" x1={fx(lanes.left, 0)} x2={fx(WIDTH - 4.0, 0)} y1={fx(y, 1)} y2={fx(y, 1)} stroke={node_colour(i as u16)} />
                if i % every == 0 { <text class="lane-name" x="4" y={fx(y + 3.5, 1)}>{ n }</text> }
            </>
        }
    });
    let arrows = p.arrows.iter().map(|a| {
        let x1 = lanes.x(a.sent as f64);
        let y1 = lanes.y(usize::from(a.from));
        let end = (a.end as f64).min(p.now);
        let frac = if a.end > a.sent { ((end - a.sent as f64) / (a.end - a.sent) as f64).clamp(0.0, 1.0) } else { 1.0 };
        let x2 = lanes.x(end);
        let y2 = y1 + (lanes.y(usize::from(a.to)) - y1) * frac;
        let on = p.on.clone();
        let at = a.end;
        let click = Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on.emit(Cmd::Jump(at));
        });
        html! {
            <line class={classes!("arrow", a.dropped.then_some("dropped"))} x1={fx(x1, 1)} y1={fx(y1, 1)}
                x2={fx(x2, 1)} y2={fx(y2, 1)} stroke={kind_colour(usize::from(a.kind))} onclick={click}>
                <title>{ format!("{} {} → {} at {} ms{}", kind_name(usize::from(a.kind)), p.names.get(usize::from(a.from)).cloned().unwrap_or_default(),
                    p.names.get(usize::from(a.to)).cloned().unwrap_or_default(), a.sent, if a.dropped { ", dropped" } else { "" }) }</title>
            </line>
        }
    });
    let on = p.on.clone();
    let click = Callback::from(move |e: MouseEvent| {
        let Some(target) = e.current_target() else {
            return;
        };
        let el: web_sys::Element = target.unchecked_into();
        let rect = el.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let x = (f64::from(e.client_x()) - rect.left()) / rect.width() * WIDTH;
        on.emit(Cmd::Jump(lanes.time_at(x).round() as u64));
    });
    let now_x = lanes.x(p.now);
    html! {
        <section class="timeline" id="timeline">
            <div class="timeline-head">
                <h3>{ "Timeline" }</h3>
                <span class="muted small">{ format!("{} – {} ms · click to move the simulation there", p.t0, p.now as u64) }</span>
            </div>
            <svg id="timeline-svg" viewBox={format!("0 0 {} {}", fx(WIDTH, 0), fx(HEIGHT, 0))} preserveAspectRatio="none" onclick={click}>
                { for labels }
                { for arrows }
                <line class="now" x1={fx(now_x, 1)} x2={fx(now_x, 1)} y1="0" y2={fx(HEIGHT, 0)} />
            </svg>
        </section>
    }
}

use wasm_bindgen::JsCast;
