//! The right column: the selected node's storage, membership list, hints and Merkle tree, and
//! the client console.

use super::console::Console;
use super::Cmd;
use crate::engine::FaultReq;
use crate::format::{bytes, node_colour, sim_time};
use crate::state::{Action, Panel};
use crate::view::{NodeDetail, ReplyView};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Props of the inspector.
pub struct Props {
    /// The selected node.
    pub detail: Option<NodeDetail>,
    /// The teaching panels' views (membership timers, replicas of a key, Merkle pair).
    pub views: crate::inspect::Views,
    /// The open panel.
    pub panel: Panel,
    /// Console requests and replies, newest first.
    pub console: Vec<ReplyView>,
    /// Node names by id.
    pub names: Vec<String>,
    /// The console's error.
    pub console_error: Option<String>,
    /// A key to start the console with.
    pub default_key: String,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The inspector.
pub fn inspector(p: &Props) -> Html {
    let tabs = Panel::ALL.iter().map(|&t| {
        let on = p.on.clone();
        let click = Callback::from(move |_| on.emit(Cmd::Ui(Action::Panel(t))));
        html! {
            <button id={format!("tab-{}", t.name())} role="tab" aria-selected={(t == p.panel).to_string()}
                class={classes!("tab", (t == p.panel).then_some("on"))} onclick={click}>{ t.name() }</button>
        }
    });
    let body = if p.panel == Panel::Replicas {
        super::replicas::replicas(p.views.replicas.as_ref())
    } else if p.panel == Panel::Client {
        html! { <Console names={p.names.clone()} replies={p.console.clone()} error={p.console_error.clone()}
        default_key={p.default_key.clone()} selected={p.detail.as_ref().map(|d| d.id)} on={p.on.clone()} /> }
    } else if let Some(d) = &p.detail {
        match p.panel {
            Panel::Storage => storage(d),
            Panel::Membership => match &p.views.membership {
                Some(v) => super::membership::membership(v),
                None => membership(d),
            },
            Panel::Hints => hints(d),
            Panel::Merkle => match &p.views.merkle {
                Some(m) => {
                    html! { <super::merkle_pair::MerklePanel pair={m.clone()} ranges={d.ranges.clone()} on={p.on.clone()} /> }
                }
                None => html! { <p class="empty">{ "This node replicates no range." }</p> },
            },
            Panel::Replicas | Panel::Client => Html::default(),
        }
    } else {
        html! { <p class="empty">{ "Select a node on the ring to inspect it." }</p> }
    };
    let header = p.detail.as_ref().map(|d| {
        let emit = |c: Cmd| {
            let on = p.on.clone();
            Callback::from(move |_: MouseEvent| on.emit(c.clone()))
        };
        html! {
            <div class="node-head">
                <span class="dot" style={format!("background:{}", node_colour(d.id))} />
                <h2 id="inspected">{ &d.name }</h2>
                <span class={classes!("chip", if d.up { "ok" } else { "bad" })}>{ if d.up { "alive" } else { "crashed" } }</span>
                <span class="spacer" />
                if d.up {
                    <button class="ghost small" id="crash" onclick={emit(Cmd::Fault(FaultReq::Crash(d.id)))}>{ "Crash" }</button>
                } else {
                    <button class="ghost small" id="restart" onclick={emit(Cmd::Fault(FaultReq::Restart(d.id)))}>{ "Restart" }</button>
                }
                <button class="ghost small" id="wipe" onclick={emit(Cmd::Fault(FaultReq::Wipe(d.id)))}>{ "Wipe" }</button>
            </div>
        }
    });
    html! {
        <aside class="right" id="inspector">
            { header.unwrap_or_default() }
            <nav class="tabs" role="tablist">{ for tabs }</nav>
            <div class="panel" id={format!("panel-{}", p.panel.name())} onclick={key_click(&p.on)}>{ body }</div>
        </aside>
    }
}

fn storage(d: &NodeDetail) -> Html {
    let t = &d.totals;
    html! {
        <>
            <div class="totals">
                <span><b>{ t.hot_entries }</b>{ " hot · " }{ bytes(t.hot_bytes) }</span>
                <span><b>{ t.cold_entries }</b>{ " cold · " }{ bytes(t.cold_bytes) }</span>
                <span id="stored-ratio" title={format!("stored bytes ÷ raw bytes. Values of {} B or more are compressed with LZ4; smaller ones are stored as they are, so a tiny value's record header makes it grow (above 100 %).", kvlab_core::COMPRESS_MIN_BYTES)}>{ format!("stored {} % of raw", crate::format::fx(t.ratio * 100.0, 0)) }</span>
            </div>
            if d.storage.is_empty() {
                <p class="empty">{ "No keys stored." }</p>
            } else {
                <table class="grid-table storage" id="storage-table">
                    <thead><tr><th>{ "key" }</th><th title="A version is its dot, the coordinator that wrote it with that node's counter, plus the context its writer saw. It supersedes the versions whose dot is in its context; versions that do not are siblings.">{ "versions · dot · saw (context)" }</th><th>{ "tier" }</th><th title="stored (compressed) / raw">{ "size" }</th></tr></thead>
                    <tbody>
                        { for d.storage.iter().map(|r| html! {
                            <tr data-key={r.key.clone()}>
                                <td class="mono">{ &r.key }</td>
                                <td>{ for r.siblings.iter().map(|s| html! {
                                    <div class={classes!("sibling", (r.siblings.len() > 1).then_some("conflict"))}>
                                        { super::console::version(s) }
                                    </div>
                                }) }</td>
                                <td><span class={classes!("tier", r.tier.clone())}>{ &r.tier }</span></td>
                                <td class="num">{ format!("{} / {}", bytes(r.stored), bytes(r.raw)) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                <p class="muted small legend-line">{ "A version = its dot (who wrote it, with that node's write counter — counters count a node's writes to all keys, so a new key can start at (S1,6)) + the context its writer saw. A version supersedes those whose dot is in its context; the rest are siblings." }</p>
                if d.keys_total > d.storage.len() {
                    <p class="muted small">{ format!("and {} more keys", d.keys_total - d.storage.len()) }</p>
                }
            }
        </>
    }
}

fn membership(d: &NodeDetail) -> Html {
    html! {
        <>
            <p class="muted small">{ format!("{}'s membership list, as {} sees it.", d.name, d.name) }</p>
            <table class="grid-table" id="membership-table">
                <thead><tr><th>{ "member" }</th><th>{ "heartbeat" }</th><th>{ "last increase" }</th><th>{ "status" }</th></tr></thead>
                <tbody>
                    { for d.membership.iter().map(|m| html! {
                        <tr data-member={m.name.clone()} class={classes!((m.status != "alive").then_some("offline"))}>
                            <td><span class="dot" style={format!("background:{}", node_colour(m.id))} />{ &m.name }</td>
                            <td class="num">{ m.heartbeat }</td>
                            <td class="num">{ sim_time(m.last_increase) }</td>
                            <td><span class={classes!("chip", if m.status == "alive" { "ok" } else { "bad" })}>{ &m.status }</span></td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </>
    }
}

fn hints(d: &NodeDetail) -> Html {
    html! {
        <>
            <p class="muted small">{ "Replicas held for a node that was down when they were written; handed off when it comes back. A node holding hints shows a pink badge with their count on the ring." }</p>
            if d.hints.is_empty() {
                <p class="empty" id="no-hints">{ "No hints held." }</p>
            } else {
                <ul class="hints" id="hints-list">
                    { for d.hints.iter().map(|h| html! {
                        <li data-owner={h.owner.clone()}><b>{ format!("for {}", h.owner) }</b>{ ": " }<span class="mono">{ h.keys.join(", ") }</span></li>
                    }) }
                </ul>
            }
        </>
    }
}

/// A click on a key of the storage table selects that key (its replicas open side by side).
fn key_click(on: &Callback<Cmd>) -> Callback<MouseEvent> {
    let on = on.clone();
    Callback::from(move |e: MouseEvent| {
        let key = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| {
                el.closest("#storage-table tbody tr[data-key]")
                    .ok()
                    .flatten()
            })
            .and_then(|row| row.get_attribute("data-key"));
        if let Some(k) = key {
            on.emit(Cmd::Ui(Action::SelectKey(Some(k))));
        }
    })
}
