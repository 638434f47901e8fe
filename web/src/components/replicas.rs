//! The replicas tab: every replica of one key side by side: the key's preference
//! list, stand-ins holding a hint for it, the versions each holds (value, dot, context) and where
//! they disagree.

use crate::format::node_colour;
use crate::inspect::{ReplicaColumn, ReplicasView, VersionCell};
use yew::prelude::*;

fn version(v: &VersionCell, hint: bool) -> Html {
    html! {
        <div class={classes!("rversion", hint.then_some("hinted"), v.tombstone.then_some("tombstone"))}>
            <span class="value" title={v.value.clone()}>{ &v.value }</span>
            <span class="rdot mono" title="dot: the coordinator that accepted this write and its counter">{ &v.dot }</span>
            <span class="saw">{ "saw" }</span>
            <span class="clock mono" title="context: the versions its client had read">{ &v.context }</span>
        </div>
    }
}

fn column(c: &ReplicaColumn) -> Html {
    let state = if !c.up {
        html! { <span class="chip bad">{ "crashed" }</span> }
    } else if c.partitioned {
        html! { <span class="chip warn">{ "partitioned" }</span> }
    } else {
        html! { <span class="chip ok">{ "up" }</span> }
    };
    let role = match c.rank {
        Some(r) => {
            html! { <span class="rrole" title="its place in the key's preference list">{ format!("home #{r}") }</span> }
        }
        None => html! { <span class="rrole stand">{ "stand-in" }</span> },
    };
    html! {
        <div class={classes!("rcol", c.rank.is_none().then_some("stand-in"), (!c.agrees).then_some("disagrees"))}
            data-node={c.name.clone()}>
            <div class="rhead">
                <span class="dot" style={format!("background:{}", node_colour(c.id))} />
                <b>{ &c.name }</b>
            </div>
            <div class="rmeta">{ role }{ state }</div>
            { for c.hint_for.iter().map(|o| html! { <span class="hint-badge">{ format!("hint for {o}") }</span> }) }
            <div class="rversions">
                if c.versions.is_empty() && c.hinted.is_empty() {
                    <div class="muted small">{ "nothing stored" }</div>
                }
                { for c.versions.iter().map(|v| version(v, false)) }
                { for c.hinted.iter().map(|v| version(v, true)) }
            </div>
            if !c.agrees {
                <div class="rdiff" title="compared with the merge of every replica's versions">
                    { "≠ " }
                    if !c.lacks.is_empty() { { format!("lacks {}", c.lacks.join(", ")) } }
                    if !c.lacks.is_empty() && !c.stale.is_empty() { { "; " } }
                    if !c.stale.is_empty() { { format!("stale {}", c.stale.join(", ")) } }
                </div>
            }
        </div>
    }
}

/// The replicas tab's body; `None`: no key chosen.
pub fn replicas(v: Option<&ReplicasView>) -> Html {
    let Some(v) = v else {
        return html! { <p class="empty" id="no-key">{ "Click a key dot on the ring, or a key in a node's storage table, to compare its replicas." }</p> };
    };
    let homes = v.columns.iter().filter(|c| c.rank.is_some()).count();
    let stand_ins = v.columns.len() - homes;
    html! {
        <>
            <p class="muted small">
                <b class="mono" id="replicas-key">{ &v.key }</b>
                { format!(" lives on the first N={} distinct nodes clockwise from its hash (its homes)", v.n) }
                { if stand_ins > 0 { ", and on stand-ins holding a hint for a home that was down." } else { "." } }
                { " Each version shows its value, its dot (the write's coordinator and counter) and its context (the clock its client had read)." }
            </p>
            <p class={classes!("rverdict", if v.agree { "ok" } else { "bad" })} id="replicas-verdict">
                { if v.agree { "All replicas hold the same versions.".to_string() }
                  else { "The replicas disagree (≠ marks one that differs from the merge of all): hinted handoff, read repair and anti-entropy exist to bring them back in step.".to_string() } }
            </p>
            <div class="rcols" id="replicas">{ for v.columns.iter().map(column) }</div>
            <p class="muted small">{ "Click another key dot on the ring, or a key in a node's storage table, to compare its replicas." }</p>
        </>
    }
}
