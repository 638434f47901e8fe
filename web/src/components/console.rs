//! The client console: put and get through a chosen coordinator, see siblings with their clocks,
//! resolve them and write back with the context (docs/protocol.md §Versions, end to end).

use super::Cmd;
use crate::view::ReplyView;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Props of the console.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Node names by id.
    pub names: Vec<String>,
    /// Requests and replies, newest first.
    pub replies: Vec<ReplyView>,
    /// The last error.
    pub error: Option<String>,
    /// A key to start with.
    pub default_key: String,
    /// The selected node (the default coordinator).
    pub selected: Option<u16>,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The console.
#[function_component(Console)]
pub fn console(p: &Props) -> Html {
    let via = use_state(|| p.selected.unwrap_or(0));
    let key = use_state(|| p.default_key.clone());
    let value = use_state(String::new);
    let context = use_state(String::new);
    let merged = use_state(String::new);

    let text = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| {
            s.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let via_change = {
        let via = via.clone();
        Callback::from(move |e: Event| {
            if let Ok(v) = e
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
            {
                via.set(v);
            }
        })
    };
    let put = {
        let (on, via, key, value, context) = (
            p.on.clone(),
            via.clone(),
            key.clone(),
            value.clone(),
            context.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            on.emit(Cmd::Put {
                via: *via,
                key: (*key).clone(),
                value: (*value).clone(),
                context: (*context).clone(),
            })
        })
    };
    let get = {
        let (on, via, key) = (p.on.clone(), via.clone(), key.clone());
        Callback::from(move |_: MouseEvent| {
            on.emit(Cmd::Get {
                via: *via,
                key: (*key).clone(),
            })
        })
    };

    // The newest answered get with siblings invites a resolution.
    let conflict = p
        .replies
        .iter()
        .find(|r| r.op == "get" && !r.pending)
        .filter(|r| r.ok && r.siblings.len() > 1)
        .cloned();
    let resolve = conflict.map(|r| {
        let names = &p.names;
        let via_id = names.iter().position(|n| *n == r.coordinator).unwrap_or(0) as u16;
        let write = |v: String| {
            let (on, key, ctx) = (p.on.clone(), r.key.clone(), r.context.clone());
            Callback::from(move |_: MouseEvent| on.emit(Cmd::Put { via: via_id, key: key.clone(), value: v.clone(), context: ctx.clone() }))
        };
        let suggestion = r.siblings.iter().map(|s| s.value.clone()).collect::<Vec<_>>().join("+");
        let merged_value = if merged.is_empty() { suggestion.clone() } else { (*merged).clone() };
        html! {
            <div class="resolve card-inner" id="resolve">
                <h4>{ format!("{} siblings of “{}” — resolve them", r.siblings.len(), r.key) }</h4>
                <p class="muted small" id="why-concurrent">{ r.why.clone().unwrap_or_default() }</p>
                <p class="muted small">{ "Keep one, or write a merged value; either way the write carries the read's context " }<code>{ &r.context }</code>{ ", which holds every sibling's dot, so it supersedes them all." }</p>
                { for r.siblings.iter().enumerate().map(|(i, s)| html! {
                    <div class="pick-row">
                        { version(s) }
                        <button class="small" id={format!("keep-{i}")} onclick={write(s.value.clone())}>{ "keep this" }</button>
                    </div>
                }) }
                <div class="pick-row">
                    <input id="merged-value" placeholder={suggestion} value={(*merged).clone()} oninput={text(&merged)} />
                    <button class="small" id="write-merged" onclick={write(merged_value)}>{ "write merged" }</button>
                </div>
            </div>
        }
    });

    html! {
        <div class="console" id="console">
            <div class="form">
                <label class="field"><span>{ "coordinator" }</span>
                    <select id="console-via" onchange={via_change}>
                        { for p.names.iter().enumerate().map(|(i, n)| html! { <option value={i.to_string()} selected={i as u16 == *via}>{ n }</option> }) }
                    </select>
                </label>
                <label class="field"><span>{ "key" }</span><input id="console-key" value={(*key).clone()} oninput={text(&key)} spellcheck="false" /></label>
                <label class="field"><span>{ "value" }</span><input id="console-value" value={(*value).clone()} oninput={text(&value)} /></label>
                <label class="field wide"><span>{ "context" }</span><input id="console-context" class="mono" placeholder="blind write, or e.g. [S0,2][S1,1]" value={(*context).clone()} oninput={text(&context)} spellcheck="false" /></label>
                <div class="row">
                    <button id="console-put" onclick={put}>{ "Put" }</button>
                    <button id="console-get" class="ghost" onclick={get}>{ "Get" }</button>
                </div>
                if let Some(e) = &p.error { <p class="field-error" id="console-error">{ e }</p> }
            </div>
            { resolve.unwrap_or_default() }
            <ul class="replies" id="replies">
                { for p.replies.iter().take(12).map(|r| html! {
                    <li class={classes!("reply", if r.pending { "pending" } else if r.ok { "ok" } else { "bad" })} data-req={r.req.to_string()}>
                        <div class="reply-head">
                            <b>{ format!("{} {}", r.op, r.key) }</b>{ route_text(r) }
                            <span class="spacer" />
                            { if r.pending { "waiting…".to_string() } else if r.ok { "ok".to_string() } else { r.error.clone().unwrap_or_default() } }
                        </div>
                        if !r.forwards.is_empty() {
                            <div class="small muted route">{ format!("{} is not on the preference list of “{}”, so it passed the request on to the list's first node, which coordinates.", r.asked, r.key) }</div>
                        }
                        if !r.replicas.is_empty() || !r.pending {
                            <div class="small muted route">{ replicas_text(r) }</div>
                        }
                        { for r.siblings.iter().map(|s| html! { <div class="sibling">{ version(s) }</div> }) }
                        if r.op == "get" && r.ok && r.siblings.is_empty() { <div class="muted small">{ "not found" }</div> }
                        if !r.context.is_empty() { <div class="small">{ "context " }<code class="context">{ &r.context }</code></div> }
                    </li>
                }) }
            </ul>
        </div>
    }
}

/// A version as the store compares it: value, dot (who wrote it, with that node's counter) and
/// the context its writer saw; the two as one vector clock in the tooltip.
pub fn version(s: &crate::view::SiblingView) -> Html {
    html! {
        <span class="version" title={format!("as one vector clock: {}", s.clock)}>
            <span class="value">{ &s.value }</span>
            <code class="vdot" title="dot: the coordinator that wrote this version and its counter">{ &s.dot }</code>
            <span class="saw">{ "saw" }</span>
            <code class="clock context" title="context: the versions its writer had seen">{ &s.context }</code>
        </span>
    }
}

/// "asked S7 → forwarded to S0", or "via S0" when the node asked coordinated.
fn route_text(r: &ReplyView) -> String {
    if r.forwards.is_empty() {
        format!(" via {}", r.coordinator)
    } else {
        let hops: Vec<&str> = r.forwards.iter().map(String::as_str).collect();
        format!(" · asked {} → forwarded {}", r.asked, hops.join(", "))
    }
}

/// Which replicas the coordinator wrote to or asked.
fn replicas_text(r: &ReplyView) -> String {
    let mut all = vec![format!("{} (coordinator)", r.coordinator)];
    all.extend(r.replicas.iter().cloned());
    format!("replicas: {}", all.join(", "))
}
