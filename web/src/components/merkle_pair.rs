//! The merkle tab (docs/protocol.md §Anti-entropy): the selected node's tree of a range next to its exchange peer's,
//! differing nodes marked on both, and the descent from the roots to the differing buckets
//! animated level by level on a timer of its own (it runs while the simulation is paused).

use super::Cmd;
use crate::format::sim_time;
use crate::inspect::{MerklePair, PeerSource, TreeView};
use crate::state::Action;
use gloo::timers::callback::Timeout;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Time one level of the walk stays the newest, ms.
const LEVEL_MS: u32 = 550;

/// Props of the merkle tab.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The two trees.
    pub pair: MerklePair,
    /// Ranges the selected node replicates (end tokens).
    pub ranges: Vec<u64>,
    /// Commands.
    pub on: Callback<Cmd>,
}

fn tree(t: &TreeView, id: &str, role: &str, p: &MerklePair, reached: usize) -> Html {
    let synced: &[u32] = p.last.as_ref().map_or(&[], |x| x.buckets.as_slice());
    let depth = t.levels.len().saturating_sub(1);
    let buckets = t.levels.last().map_or(0, Vec::len);
    // Four bucket numbers under the leaves: 0, 4, 8, 12 of 16; 0, 16, 32, 48 of 64.
    let label_every = (buckets / 4).max(1);
    html! {
        <div class="mtree">
            <div class="mtree-head"><b>{ &t.name }</b>{ format!(" · {role}") }
                if !t.up { <span class="chip bad">{ "down" }</span> }
            </div>
            <div class="merkle" id={id.to_string()}>
                { for t.levels.iter().enumerate().map(|(l, level)| {
                    let on_walk = p.walk.get(l).map_or(&[][..], Vec::as_slice);
                    html! {
                        <div class="level" data-level={l.to_string()}>
                            { for level.iter().enumerate().map(|(i, c)| {
                                let i32_ = i as u32;
                                let walked = l < reached && on_walk.contains(&i32_);
                                let now = walked && l + 1 == reached;
                                let leaf = l == depth;
                                let title = if leaf {
                                    format!("bucket {i}: {} · {} key(s)", c.hash, t.bucket_keys.get(i).copied().unwrap_or(0))
                                } else {
                                    format!("level {l} node {i}: {}", c.hash)
                                };
                                html! { <span class={classes!("mnode", c.differs.then_some("differs"),
                                        (leaf && synced.contains(&i32_)).then_some("synced"),
                                        walked.then_some("walk"), now.then_some("walk-now"))}
                                    title={title}>{ if level.len() <= 2 { c.hash.clone() } else { String::new() } }</span> }
                            }) }
                        </div>
                    }
                }) }
                <div class="level bucket-numbers" title="bucket numbers">
                    { for (0..buckets).map(|i| html! { <span class="bnum">{ if i % label_every == 0 { i.to_string() } else { String::new() } }</span> }) }
                </div>
            </div>
        </div>
    }
}

/// The merkle tab's body.
#[function_component(MerklePanel)]
pub fn merkle_panel(p: &Props) -> Html {
    let m = &p.pair;
    let steps = m.words.len();
    // How many phrases of the walk are shown (the first `reached` levels are lit).
    let reached = use_state(|| steps);
    let replay = use_state(|| 0u32);
    // A new range, peer or exchange (or a click on "walk") plays the walk from the roots down.
    let ident = (
        m.range,
        m.theirs.as_ref().map(|t| t.name.clone()),
        m.last.as_ref().map(|x| x.at),
        *replay,
    );
    {
        let reached = reached.clone();
        use_effect_with(ident, move |_| {
            reached.set(0);
            let timers: Vec<Timeout> = (1..=steps)
                .map(|k| {
                    let r = reached.clone();
                    Timeout::new(LEVEL_MS * k as u32, move || r.set(k))
                })
                .collect();
            move || drop(timers)
        });
    }
    let reached = (*reached).min(steps);
    let on = p.on.clone();
    let change = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        on.emit(Cmd::Ui(Action::MerkleRange(v.parse::<u64>().ok())));
    });
    let again = {
        let replay = replay.clone();
        Callback::from(move |_: MouseEvent| replay.set(replay.wrapping_add(1)))
    };
    let peer_line = match (&m.theirs, m.source, &m.last) {
        (None, _, _) => "No other replica of this range.".to_string(),
        (Some(t), PeerSource::LastExchange, Some(x)) => format!(
            "Compared with {}, the peer of {}'s last exchange of this range (at {}: {}).",
            t.name,
            m.mine.name,
            sim_time(x.at),
            if x.buckets.is_empty() {
                "roots were equal".to_string()
            } else {
                format!(
                    "bucket(s) {} exchanged, {} key(s) received",
                    x.buckets
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    x.keys
                )
            }
        ),
        (Some(t), _, _) => format!(
            "Compared with {}, the next replica of this range ({} has not exchanged it yet).",
            t.name, m.mine.name
        ),
    };
    let done = reached >= steps;
    html! {
        <>
            <label class="field inline">
                <span>{ "range ending at" }</span>
                <select id="merkle-range" onchange={change}>
                    { for p.ranges.iter().map(|r| html! {
                        <option value={r.to_string()} selected={*r == m.range}>{ format!("{:016x}", r) }</option>
                    }) }
                </select>
            </label>
            <p class="muted small" id="merkle-peer">{ peer_line }</p>
            <p class="small">
                <b id="merkle-differing">{ format!("{} differing bucket(s) now", m.differing.len()) }</b>
                { if m.walk_past { " — the trees agree; below, the walk of the last exchange." } else { "" } }
            </p>
            <div class="mpair" id="merkle-pair">
                { tree(&m.mine, "merkle-tree", "selected", m, reached) }
                if let Some(t) = &m.theirs {
                    { tree(t, "merkle-peer-tree", "peer", m, reached) }
                }
            </div>
            if steps > 0 {
                <div class="mwalk">
                    <ol class={classes!("walk-words", done.then_some("walk-done"))} id="merkle-walk">
                        { for m.words.iter().enumerate().map(|(i, w)| html! {
                            <li class={classes!((i < reached).then_some("on"), (i + 1 == reached).then_some("now"))}>{ w }</li>
                        }) }
                    </ol>
                    <button class="ghost small" id="merkle-walk-again" onclick={again}>{ "▶ walk" }</button>
                </div>
            }
            <p class="legend-line small">
                <span class="mnode differs" />{ " differs now" }
                <span class="mnode walk" />{ if m.walk_past { " on the last exchange's walk" } else { " on the walk" } }
                <span class="mnode synced" />{ " synced by the last exchange" }
            </p>
        </>
    }
}
