//! The space-time diagram: one lane per node, recent messages as arrows from send to delivery.
//! The animation loop draws it on a canvas (hundreds of SVG lines re-diffed while playing cost
//! frames); a click moves the simulation to the clicked arrow's delivery, or to the time under
//! the pointer.

use super::Cmd;
use yew::prelude::*;

/// Props of the timeline.
pub struct Props {
    /// The canvas the loop draws on.
    pub canvas: NodeRef,
    /// Earliest time shown.
    pub t0: u64,
    /// Now.
    pub now: u64,
    /// Lanes (nodes).
    pub lanes: usize,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The timeline.
pub fn timeline(p: &Props) -> Html {
    let on = p.on.clone();
    let canvas = p.canvas.clone();
    let click = Callback::from(move |e: MouseEvent| {
        let Some(el) = canvas.cast::<web_sys::Element>() else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        let x = f64::from(e.client_x()) - rect.left();
        let y = f64::from(e.client_y()) - rect.top();
        on.emit(Cmd::TimelineClick(x, y));
    });
    html! {
        <section class="timeline" id="timeline">
            <div class="timeline-head">
                <h3>{ "Timeline" }</h3>
                <span class="muted small" id="timeline-span">{ format!("{} – {} ms · click an arrow or a time to move the simulation there", p.t0, p.now) }</span>
            </div>
            // Past 15 nodes every lane keeps 10 px and the lanes scroll, each one labelled.
            <div class="timeline-lanes">
                <canvas id="timeline-canvas" ref={p.canvas.clone()} onclick={click}
                    style={(p.lanes > 15).then(|| format!("height:{}px", p.lanes * 10))} />
            </div>
        </section>
    }
}
