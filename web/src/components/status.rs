//! The status strip: time, messages by kind, bytes, acknowledged writes and the invariants.

use crate::format::{bytes, kind_colour, kind_name, sim_time};
use crate::view::{Invariants, Metrics};
use yew::prelude::*;

/// Props of the strip.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Counters.
    pub metrics: Metrics,
    /// The last invariant check.
    pub invariants: Invariants,
    /// Trace digest.
    pub trace_hash: u64,
}

/// The strip.
#[function_component(Status)]
pub fn status(p: &Props) -> Html {
    let m = &p.metrics;
    let inv = &p.invariants;
    let lost_ok = inv.lost == 0;
    let conv_ok = inv.converged == inv.ranges;
    html! {
        <footer class="status" id="status">
            <span class="stat" title="simulated time"><b id="now">{ sim_time(m.now) }</b></span>
            <span class="stat" title="events processed">{ format!("{} events", m.events) }</span>
            <span class="stat" title="messages in the network now"><b id="in-flight">{ m.in_flight }</b>{ " in flight" }</span>
            <span class="kinds">
                { for m.sent_by_kind.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| html! {
                    <span class="kind" title={format!("{} messages sent", kind_name(i))}>
                        <i style={format!("background:{}", kind_colour(i))} />{ format!("{} {c}", kind_name(i)) }
                    </span>
                }) }
            </span>
            <span class="stat">{ bytes(m.bytes) }{ " sent" }</span>
            <span class="stat">{ format!("{} dropped", m.dropped) }</span>
            <span class="spacer" />
            <span class="stat" id="acked" title="writes acknowledged to a client">{ format!("acked writes {}", inv.acked) }</span>
            <span class={classes!("check", if lost_ok { "ok" } else { "bad" })} id="lost" title="acknowledged writes missing from a replica that should hold them (checked about once a second)">
                { format!("lost writes {} {}", inv.lost, if lost_ok { "✓" } else { "✗" }) }
            </span>
            <span class={classes!("check", if conv_ok { "ok" } else { "wait" })} id="converged" title="ranges whose replicas hold identical data">
                { format!("converged {}/{} {}", inv.converged, inv.ranges, if conv_ok { "✓" } else { "…" }) }
            </span>
            <span class="stat hash" title="digest of the trace: equal digests, equal runs">{ format!("#{:08x}", p.trace_hash as u32) }</span>
        </footer>
    }
}
