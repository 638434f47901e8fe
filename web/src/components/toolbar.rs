//! The toolbar: scenario, seed, transport controls, speed, settings, share, export, help.

use super::icons::icon;
use super::Cmd;
use crate::driver::SPEEDS;
use crate::state::Action;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Props of the toolbar.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Playing.
    pub playing: bool,
    /// Speed index.
    pub speed: usize,
    /// The seed in use.
    pub seed: u64,
    /// The seed field's error.
    pub seed_error: Option<String>,
    /// The open scenario's id.
    pub scenario: Option<String>,
    /// (id, label) of every scenario.
    pub scenarios: Vec<(String, String)>,
    /// Whether the settings form is open.
    pub config_open: bool,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The toolbar.
#[function_component(Toolbar)]
pub fn toolbar(p: &Props) -> Html {
    let emit = |c: Cmd| {
        let on = p.on.clone();
        Callback::from(move |_: MouseEvent| on.emit(c.clone()))
    };
    // What the user is typing; replaced when a new seed is in use.
    let draft = use_state(|| p.seed.to_string());
    {
        let draft = draft.clone();
        use_effect_with(p.seed, move |seed| draft.set(seed.to_string()));
    }
    let on = p.on.clone();
    let d = draft.clone();
    let submit_seed = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        on.emit(Cmd::Seed((*d).clone()));
    });
    let d = draft.clone();
    let type_seed = Callback::from(move |e: InputEvent| {
        d.set(e.target_unchecked_into::<HtmlInputElement>().value());
    });
    let on = p.on.clone();
    let speed = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        if let Ok(i) = v.parse::<usize>() {
            on.emit(Cmd::Speed(i));
        }
    });
    let on = p.on.clone();
    let scenario = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        on.emit(Cmd::Scenario((!v.is_empty()).then_some(v)));
    });
    let current = p.scenario.clone().unwrap_or_default();
    html! {
        <header class="toolbar">
            <div class="brand">{ "kv" }<b>{ "lab" }</b></div>
            <label class="field inline">
                <span class="sr">{ "Scenario" }</span>
                <select id="scenario-select" onchange={scenario} title="a guided tour of one mechanism, or free play">
                    <option value="" selected={current.is_empty()}>{ "Free play" }</option>
                    { for p.scenarios.iter().map(|(id, label)| html! {
                        <option value={id.clone()} selected={&current == id}>{ label }</option>
                    }) }
                </select>
            </label>
            <form class="seed" onsubmit={submit_seed}>
                <label for="seed">{ "seed" }</label>
                <input id="seed" class={classes!(p.seed_error.is_some().then_some("invalid"))}
                    value={(*draft).clone()} oninput={type_seed} inputmode="numeric" spellcheck="false" title="press Enter to start this seed"
                    aria-invalid={p.seed_error.is_some().to_string()} />
                <button type="button" id="new-seed" class="icon" title="new random seed" onclick={emit(Cmd::NewSeed)}>{ icon("dice") }</button>
                if let Some(e) = &p.seed_error { <span class="field-error" id="seed-error">{ e }</span> }
            </form>
            <div class="transport" role="group" aria-label="simulation controls">
                <button id="reset" class="icon" title="reset (start this cluster over)" onclick={emit(Cmd::Reset)}>{ icon("reset") }</button>
                <button id="back" class="icon" title="step back (←)" onclick={emit(Cmd::Back)}>{ icon("back") }</button>
                <button id="play" class="play" title="play / pause (space)" onclick={emit(Cmd::TogglePlay)}>
                    if p.playing { { icon("pause") }{ " Pause" } } else { { icon("play") }{ " Play" } }
                </button>
                <button id="step" class="icon" title="one event (→)" onclick={emit(Cmd::Step)}>{ icon("step") }</button>
                <button id="round" class="icon wide" title="one protocol round (⇧→)" onclick={emit(Cmd::Round)}>{ icon("round") }{ " round" }</button>
                <select id="speed" onchange={speed} title="simulated time per real time">
                    { for SPEEDS.iter().enumerate().map(|(i, (_, l))| html! {
                        <option value={i.to_string()} selected={i == p.speed}>{ *l }</option>
                    }) }
                </select>
            </div>
            <div class="spacer" />
            <button id="cfg-toggle" class={classes!("ghost", p.config_open.then_some("on"))} onclick={emit(Cmd::Ui(Action::ToggleConfig))}>{ "Cluster ▾" }</button>
            <button id="replay-open" class="ghost" title="replay a model checker's counterexample, action by action" onclick={emit(Cmd::Replay(Some(None)))}>{ "Counterexamples" }</button>
            <button id="share" class="ghost" title="put this view in the address bar" onclick={emit(Cmd::Share)}>{ "Share" }</button>
            <button id="export" class="ghost" title="download the trace as JSON" onclick={emit(Cmd::Export)}>{ "Export" }</button>
            <button id="help" class="icon" title="keyboard shortcuts (?)" onclick={emit(Cmd::Ui(Action::ToggleHelp))}>{ "?" }</button>
        </header>
    }
}
