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
    (
        "nodes",
        "nodes",
        "physical nodes (1–128; up to 32 draw best)",
    ),
    ("n", "N", "replicas per key (1–5)"),
    ("r", "R", "read quorum"),
    ("w", "W", "write quorum"),
    ("vnodes", "vnodes", "tokens per node (1–32)"),
    ("latency_min_ms", "latency min", "ms"),
    ("latency_max_ms", "latency max", "ms (up to 10000)"),
    ("loss", "loss %", "messages dropped"),
    ("workload", "clients", "background workload (0–1000)"),
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
    // What the user typed, kept across re-renders (an error must not undo the typing) and
    // replaced when new settings are in use.
    let initial = |f: &Fragment| {
        FIELDS
            .iter()
            .map(|(n, _, _)| value_of(f, n))
            .collect::<Vec<_>>()
    };
    let draft = use_state(|| initial(&p.frag));
    {
        let draft = draft.clone();
        use_effect_with(p.frag.clone(), move |f| draft.set(initial(f)));
    }
    let on = p.on.clone();
    let d = draft.clone();
    let submit = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        let fields = FIELDS
            .iter()
            .zip(d.iter())
            .map(|((name, _, _), v)| (*name, v.clone()))
            .collect();
        on.emit(Cmd::ApplyConfig(Draft { fields }));
    });
    let on = p.on.clone();
    let close = Callback::from(move |_| on.emit(Cmd::Ui(Action::ToggleConfig)));
    html! {
        <form class="settings" id="settings" onsubmit={submit}>
            <div class="grid">
                { for FIELDS.iter().enumerate().map(|(i, (name, label, hint))| {
                    let err = p.error.as_ref().filter(|(f, _)| f == name).map(|(_, m)| m.clone());
                    let d = draft.clone();
                    let input = Callback::from(move |e: InputEvent| {
                        let mut v = (*d).clone();
                        if let Some(slot) = v.get_mut(i) {
                            *slot = e.target_unchecked_into::<HtmlInputElement>().value();
                        }
                        d.set(v);
                    });
                    html! {
                        <label class={classes!("field", err.is_some().then_some("has-error"))}>
                            <span>{ *label }</span>
                            <input id={format!("cfg-{name}")} value={draft.get(i).cloned().unwrap_or_default()} oninput={input}
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
