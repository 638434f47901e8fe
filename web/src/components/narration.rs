//! The left column: the guided scenario's caption with Next/Back, or an introduction and the list
//! of tours; then the fault controls and the legend.

use super::Cmd;
use crate::engine::FaultReq;
use crate::format::{kind_colour, KINDS};
use crate::state::Action;
use crate::view::ScenarioView;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of the column.
pub struct Props {
    /// The scenario in progress.
    pub scenario: Option<ScenarioView>,
    /// (id, label) of every scenario.
    pub scenarios: Vec<(String, String)>,
    /// Loss, percent.
    pub loss: u32,
    /// Picking a partition side.
    pub picking: bool,
    /// Picked nodes' names.
    pub pick: Vec<(u16, String)>,
    /// A partition is in place.
    pub partitioned: bool,
    /// Message kinds not drawn (bit per kind).
    pub hidden: u16,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The column.
pub fn narration(p: &Props) -> Html {
    let emit = |c: Cmd| {
        let on = p.on.clone();
        Callback::from(move |_: MouseEvent| on.emit(c.clone()))
    };
    let story = match &p.scenario {
        Some(s) => html! {
            <section class="card narration" id="narration">
                <div class="eyebrow">{ format!("Tour {} · step {} of {}", s.section, s.step + 1, s.steps) }</div>
                <h2>{ &s.title }</h2>
                <div class="progress"><i style={format!("width:{}%", (s.step + 1) * 100 / s.steps.max(1))} /></div>
                <p class="caption" id="caption">{ &s.caption }</p>
                <div class="row">
                    <button id="sc-back" class="ghost" disabled={s.step == 0} onclick={emit(Cmd::Prev)}>{ "← Back" }</button>
                    if !s.settled {
                        <button id="sc-finish" class="ghost" onclick={emit(Cmd::Finish)} title="run this step to its end now">{ "Skip to end" }</button>
                    }
                    <button id="sc-next" disabled={s.step + 1 >= s.steps} onclick={emit(Cmd::Next)}>{ "Next →" }</button>
                </div>
                <div class={classes!("running", s.settled.then_some("done"))} id="sc-state">
                    { if s.settled { "step done" } else { "running…" } }
                </div>
            </section>
        },
        None => html! {
            <section class="card narration" id="narration">
                <h2>{ "A Dynamo-style store you can watch" }</h2>
                <p>{ "Every node here is the real protocol code, compiled to WebAssembly and driven by one seed. Press " }<kbd>{ "Space" }</kbd>{ " to play, " }<kbd>{ "→" }</kbd>{ " to step one event." }</p>
                <p class="muted">{ "Take a guided tour of one mechanism:" }</p>
                <ul class="tours">
                    { for p.scenarios.iter().map(|(id, label)| html! {
                        <li><button class="link" data-scenario={id.clone()} onclick={emit(Cmd::Scenario(Some(id.clone())))}>{ label }</button></li>
                    }) }
                </ul>
                <p class="muted small">{ "Or watch a bug a model checker found, one action at a time: " }
                    <button class="link" id="open-counterexamples" onclick={emit(Cmd::Replay(Some(None)))}>{ "Counterexamples" }</button></p>
            </section>
        },
    };
    let on = p.on.clone();
    let loss = Callback::from(move |e: InputEvent| {
        let v = e.target_unchecked_into::<HtmlInputElement>().value();
        if let Ok(pct) = v.parse::<u32>() {
            on.emit(Cmd::Fault(FaultReq::Loss(pct)));
        }
    });
    let pick_ids: Vec<u16> = p.pick.iter().map(|x| x.0).collect();
    html! {
        <aside class="left">
            { story }
            <section class="card faults" id="faults">
                <h3>{ "Faults" }</h3>
                <p class="muted small">{ "Crash, restart or wipe a node from its badge on the ring." }</p>
                <label class="slider">
                    <span>{ "message loss" }</span>
                    <input id="loss" type="range" min="0" max="50" step="1" value={p.loss.to_string()} oninput={loss} />
                    <b>{ format!("{}%", p.loss) }</b>
                </label>
                <div class="row">
                    if p.picking {
                        <button id="cut" disabled={p.pick.is_empty()}
                            onclick={{
                                let on = p.on.clone();
                                let ids = pick_ids.clone();
                                Callback::from(move |_: MouseEvent| {
                                    on.emit(Cmd::Fault(FaultReq::Partition(ids.clone())));
                                    on.emit(Cmd::Ui(Action::ClearPick));
                                })
                            }}>
                            { if p.pick.is_empty() { "Cut (pick nodes)".to_string() } else { format!("Cut {} off", p.pick.iter().map(|x| x.1.as_str()).collect::<Vec<_>>().join(", ")) } }
                        </button>
                        <button class="ghost" onclick={emit(Cmd::Ui(Action::ClearPick))}>{ "Cancel" }</button>
                    } else {
                        <button id="partition" class="ghost" onclick={emit(Cmd::Ui(Action::TogglePicking))}>{ "✂ Partition…" }</button>
                    }
                    <button id="heal" class="ghost" disabled={!p.partitioned} onclick={emit(Cmd::Fault(FaultReq::Heal))}>{ "Heal" }</button>
                </div>
            </section>
            <section class="card legend" id="legend">
                <h3>{ "Messages" }</h3>
                <ul>
                    { for KINDS.iter().enumerate().map(|(i, (name, _))| {
                        let off = p.hidden & (1 << i) != 0;
                        html! {
                            <li class={classes!("toggle", off.then_some("off"))} data-kind={*name} onclick={emit(Cmd::ToggleKind(i as u8))}
                                title={if off { "hidden: click to show" } else { "click to hide" }}>
                                <i class={classes!("shape", shape_class(i))} style={format!("background:{}", kind_colour(i))} />{ *name }
                            </li>
                        }
                    }) }
                    <li><i class="shape dead">{ "✕" }</i>{ "dropped" }</li>
                </ul>
                if p.hidden != 0 {
                    <p class="note" id="hidden-note">{ format!("Hidden: {} (click to show).",
                        KINDS.iter().enumerate().filter(|(i, _)| p.hidden & (1 << i) != 0).map(|(_, k)| k.0).collect::<Vec<_>>().join(", ")) }</p>
                }
            </section>
        </aside>
    }
}

fn shape_class(kind: usize) -> &'static str {
    match kind {
        0 => "small",
        3 | 5 | 8 => "square",
        6 => "triangle",
        _ => "round",
    }
}
