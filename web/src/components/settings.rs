//! The cluster settings form, validated by `Config::validate` with errors next to the field.

use super::{Cmd, Draft};
use crate::fragment::Fragment;
use crate::state::Action;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of the form.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The settings in use.
    pub frag: Fragment,
    /// (field, message) of the last rejected settings.
    pub error: Option<(String, String)>,
    /// Commands.
    pub on: Callback<Cmd>,
}

const FIELDS: [(&str, &str, &str); 9] = [
    ("nodes", "nodes", "physical nodes (1–64 draw well)"),
    ("n", "N", "replicas per key"),
    ("r", "R", "read quorum"),
    ("w", "W", "write quorum"),
    ("vnodes", "vnodes", "tokens per node"),
    ("latency_min_ms", "latency min", "ms"),
    ("latency_max_ms", "latency max", "ms"),
    ("loss", "loss %", "messages dropped"),
    ("workload", "clients", "background workload (0 = none)"),
];

fn value_of(f: &Fragment, field: &str) -> String {
    match field {
        "nodes" => f.nodes.to_string(),
        "n" => f.n.to_string(),
        "r" => f.r.to_string(),
        "w" => f.w.to_string(),
        "vnodes" => f.vnodes.to_string(),
        "latency_min_ms" => f.lmin.to_string(),
        "latency_max_ms" => f.lmax.to_string(),
        "loss" => f.loss.to_string(),
        "workload" => f.wl.to_string(),
        _ => String::new(),
    }
}

/// The form.
#[function_component(Settings)]
pub fn settings(p: &Props) -> Html {
    let refs: Vec<NodeRef> = use_memo((), |_| {
        (0..FIELDS.len())
            .map(|_| NodeRef::default())
            .collect::<Vec<_>>()
    })
    .to_vec();
    let on = p.on.clone();
    let rs = refs.clone();
    let submit = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        let fields = FIELDS
            .iter()
            .zip(&rs)
            .map(|((name, _, _), r)| {
                (
                    *name,
                    r.cast::<HtmlInputElement>()
                        .map(|i| i.value())
                        .unwrap_or_default(),
                )
            })
            .collect();
        on.emit(Cmd::ApplyConfig(Draft { fields }));
    });
    let on = p.on.clone();
    let close = Callback::from(move |_| on.emit(Cmd::Ui(Action::ToggleConfig)));
    html! {
        <form class="settings" id="settings" onsubmit={submit}>
            <div class="grid">
                { for FIELDS.iter().zip(refs.iter()).map(|((name, label, hint), r)| {
                    let err = p.error.as_ref().filter(|(f, _)| f == name).map(|(_, m)| m.clone());
                    html! {
                        <label class={classes!("field", err.is_some().then_some("has-error"))}>
                            <span>{ *label }</span>
                            <input id={format!("cfg-{name}")} ref={r.clone()} value={value_of(&p.frag, name)}
                                inputmode="numeric" title={*hint} aria-invalid={err.is_some().to_string()} />
                            if let Some(m) = err { <span class="field-error" data-field={*name}>{ m }</span> }
                        </label>
                    }
                }) }
            </div>
            if let Some((f, m)) = p.error.as_ref().filter(|(f, _)| !FIELDS.iter().any(|x| x.0 == f)) {
                <p class="field-error" data-field={f.clone()}>{ format!("{f}: {m}") }</p>
            }
            <div class="row">
                <button type="submit" id="cfg-apply">{ "Apply — new cluster" }</button>
                <button type="button" class="ghost" onclick={close}>{ "Close" }</button>
            </div>
        </form>
    }
}
