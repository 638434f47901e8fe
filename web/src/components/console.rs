//! The client console: put and get through a chosen coordinator, see siblings with their clocks,
//! resolve them and write back with the context (seed §2a end to end).

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
                <p class="muted small">{ "They are concurrent: neither clock descends from the other. Keep one, or write a merged value; either way the write carries the context " }<code>{ &r.context }</code>{ " so it supersedes both." }</p>
                { for r.siblings.iter().enumerate().map(|(i, s)| html! {
                    <div class="pick-row">
                        <span class="value">{ &s.value }</span><code>{ &s.clock }</code>
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
                            <b>{ format!("{} {}", r.op, r.key) }</b>{ format!(" via {}", r.coordinator) }
                            <span class="spacer" />
                            { if r.pending { "waiting…".to_string() } else if r.ok { "ok".to_string() } else { r.error.clone().unwrap_or_default() } }
                        </div>
                        { for r.siblings.iter().map(|s| html! { <div class="sibling"><span class="value">{ &s.value }</span><code class="clock">{ &s.clock }</code></div> }) }
                        if r.op == "get" && r.ok && r.siblings.is_empty() { <div class="muted small">{ "not found" }</div> }
                        if !r.context.is_empty() { <div class="small">{ "context " }<code class="context">{ &r.context }</code></div> }
                    </li>
                }) }
            </ul>
        </div>
    }
}
