//! The status strip: time, messages by kind, bytes, acknowledged writes and the invariants.

use crate::format::{bytes, kind_colour, kind_name, sim_time};
use crate::view::{Invariants, Metrics};
use yew::prelude::*;

/// Props of the strip.
pub struct Props {
    /// Counters.
    pub metrics: Metrics,
    /// The last invariant check.
    pub invariants: Invariants,
    /// Trace digest.
    pub trace_hash: u64,
    /// What the last step back or jump could not do, if anything.
    pub notice: Option<String>,
    /// Whether the cluster cannot keep up with the chosen speed.
    pub lagging: bool,
}

/// The strip.
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
            <span class="stat" title="messages the network dropped (loss, partitions, crashed receivers)">{ format!("{} dropped", m.dropped) }</span>
            <span class={classes!("stat", (m.failed > 0).then_some("failed"))} id="failed" title="client requests that failed: too few replicas answered in time, or no node could coordinate">{ format!("{} requests failed", m.failed) }</span>
            <span class="spacer" />
            if p.lagging {
                <span class="check wait" id="lagging" title="the cluster takes more than a frame's time to simulate at this speed: it runs as fast as it can instead, and the page stays responsive">{ "CPU-bound: slower than the chosen speed" }</span>
            }
            if let Some(n) = &p.notice {
                <span class="check wait" id="notice">{ n.clone() }</span>
            }
            <span class="stat" id="acked" title="writes acknowledged to a client; of those, superseded: a client read them and wrote over them; pending: not yet on all N home replicas">
                { format!("acked writes {} · superseded {} · pending {}", inv.acked, inv.superseded, inv.pending) }
            </span>
            <span class={classes!("check", if lost_ok { "ok" } else { "bad" })} id="lost" title={property_title("no acknowledged write lost", "judged by the history oracle from what clients wrote and read, never from the store's clocks (checked about once a second)")}>
                { format!("lost writes {} {}", inv.lost, if lost_ok { "✓" } else { "✗" }) }
            </span>
            if inv.anomalies > 0 {
                <span class="check bad" id="anomalies" title={format!("{}\n\n{}", property_title("no resurrection", ""), property_title("reads show only real writes", ""))}>
                    { format!("anomalies {} ✗", inv.anomalies) }
                </span>
            }
            <span class={classes!("check", if conv_ok { "ok" } else { "wait" })} id="converged" title={property_title("converged", "counted per range, a slice of ranges a second; while clients write it is rarely all")}>
                { format!("converged {}/{} {}", inv.converged, inv.ranges, if conv_ok { "✓" } else { "…" }) }
            </span>
            <span class="stat hash" title="digest of the trace: equal digests, equal runs">{ format!("#{:08x}", p.trace_hash as u32) }</span>
        </footer>
    }
}

/// A status chip's tooltip: the property it shows, from the core's one list of properties (the
/// sweep and the tests judge runs by the same list), and how the page checks it.
fn property_title(name: &str, how: &str) -> String {
    let p = kvlab_core::Property::named(name);
    let kind = p.map_or("", |p| match p.kind {
        kvlab_core::PropertyKind::Always => "always",
        kvlab_core::PropertyKind::Eventually => "eventually",
        kvlab_core::PropertyKind::Sometimes => "sometimes",
    });
    let meaning = p.map_or("", |p| p.meaning);
    if how.is_empty() {
        format!("{kind} “{name}”: {meaning}")
    } else {
        format!("{kind} “{name}”: {meaning}. The page: {how}.")
    }
}

#[cfg(test)]
mod tests {
    use super::property_title;

    #[test]
    fn chips_name_the_cores_properties() {
        let t = property_title("no acknowledged write lost", "once a second");
        assert!(
            t.starts_with("always “no acknowledged write lost”: every write"),
            "{t}"
        );
        assert!(t.ends_with("The page: once a second."), "{t}");
        assert!(property_title("converged", "").starts_with("eventually"));
    }
}
