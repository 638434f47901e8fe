//! The counterexample player: a model checker's report is opened (a file, a drop, or a bundled
//! example), and its path is played one action at a time over the ring, with the messages in
//! flight, every node's versions of the key, the clients, a caption per action and the
//! properties judged at every state; the state where a property breaks is marked.

use crate::format::dot_text;
use crate::geometry::{angle_of, polar};
use crate::replay::{Judgement, Replay, EXAMPLES};
use gloo::events::{EventListener, EventListenerOptions};
use gloo::file::callbacks::FileReader;
use gloo::timers::callback::Interval;
use kvlab_core::model::{describe, State, CONVERGES};
use kvlab_core::NodeId;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

/// Radius of the ring the nodes sit on, in view-box units (the view box is ±200).
const R: f64 = 140.0;
/// Real time between two actions while playing.
const PLAY_EVERY_MS: u32 = 1_400;

/// Props of the player.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Back to the cluster.
    pub on_close: Callback<()>,
    /// A bundled example to open first (its file name), if any.
    #[prop_or_default]
    pub example: Option<String>,
}

/// What the player shows.
#[derive(Clone, Default)]
struct Shown {
    replay: Option<Rc<Replay>>,
    at: usize,
    error: Option<String>,
    source: String,
}

/// The player.
#[function_component(ReplayView)]
pub fn replay_view(p: &Props) -> Html {
    let shown = use_state(Shown::default);
    let playing = use_state(|| false);
    let reader = use_mut_ref(|| None::<FileReader>);

    let load = {
        let shown = shown.clone();
        let playing = playing.clone();
        Callback::from(move |(source, text): (String, String)| {
            playing.set(false);
            shown.set(match Replay::from_json(&text) {
                Ok(r) => Shown {
                    replay: Some(Rc::new(r)),
                    at: 0,
                    error: None,
                    source,
                },
                Err(e) => Shown {
                    error: Some(format!("{source}: {e}")),
                    ..(*shown).clone()
                },
            });
        })
    };
    let read_file = {
        let load = load.clone();
        let reader = reader.clone();
        move |file: web_sys::File| {
            let name = file.name();
            let load = load.clone();
            let task = gloo::file::callbacks::read_as_text(&file.into(), move |res| match res {
                Ok(text) => load.emit((name, text)),
                Err(e) => load.emit((name, format!("(unreadable: {e})"))),
            });
            *reader.borrow_mut() = Some(task);
        }
    };
    let on_pick = {
        let read_file = read_file.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(f) = input.files().and_then(|l| l.get(0)) {
                read_file(f);
            }
            input.set_value("");
        })
    };
    let on_drop = {
        let read_file = read_file.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if let Some(f) = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|l| l.get(0))
            {
                read_file(f);
            }
        })
    };
    let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
    // A bundled example named in the URL opens at once.
    {
        let load = load.clone();
        use_effect_with(p.example.clone(), move |example| {
            if let Some(name) = example {
                match EXAMPLES.iter().find(|(file, _, _)| file == name) {
                    Some(&(file, _, json)) => load.emit((file.to_string(), json.to_string())),
                    None => load.emit((name.clone(), "no bundled example has this name".into())),
                }
            }
        });
    }

    let len = shown.replay.as_ref().map_or(0, |r| r.len());
    let go = {
        let shown = shown.clone();
        move |to: usize| {
            let mut s = (*shown).clone();
            s.at = to.min(len);
            shown.set(s);
        }
    };
    // Play: one action every PLAY_EVERY_MS, stopping at the end.
    {
        let shown = shown.clone();
        let playing = playing.clone();
        use_effect_with((*playing, shown.at, len), move |&(on, at, len)| {
            let timer = (on && at < len).then(|| {
                let shown = shown.clone();
                Interval::new(PLAY_EVERY_MS, move || {
                    let mut s = (*shown).clone();
                    s.at = (s.at + 1).min(len);
                    shown.set(s);
                })
            });
            if on && at >= len {
                playing.set(false);
            }
            move || drop(timer)
        });
    }
    // Keys: ← → step, Home / End jump, Space plays, Escape closes.
    {
        let go = go.clone();
        let at = shown.at;
        let playing = playing.clone();
        let close = p.on_close.clone();
        use_effect_with((at, len, *playing), move |_| {
            let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
                EventListener::new_with_options(
                    &doc,
                    "keydown",
                    EventListenerOptions::enable_prevent_default(),
                    move |e| {
                        let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                            return;
                        };
                        if !crate::app::is_playback_key(e) {
                            return;
                        }
                        let handled = match e.key().as_str() {
                            "ArrowRight" | "n" => {
                                go(at + 1);
                                true
                            }
                            "ArrowLeft" | "b" => {
                                go(at.saturating_sub(1));
                                true
                            }
                            "Home" => {
                                go(0);
                                true
                            }
                            "End" => {
                                go(len);
                                true
                            }
                            " " => {
                                playing.set(!*playing);
                                true
                            }
                            "Escape" => {
                                close.emit(());
                                true
                            }
                            _ => false,
                        };
                        if handled {
                            e.prevent_default();
                        }
                    },
                )
            });
            move || drop(listener)
        });
    }
    let step_to = |to: usize| {
        let go = go.clone();
        let playing = playing.clone();
        Callback::from(move |_: MouseEvent| {
            playing.set(false);
            go(to)
        })
    };
    let toggle_play = {
        let playing = playing.clone();
        let go = go.clone();
        let at = shown.at;
        Callback::from(move |_: MouseEvent| {
            if !*playing && at >= len {
                go(0);
            }
            playing.set(!*playing)
        })
    };
    let close = {
        let c = p.on_close.clone();
        Callback::from(move |_: MouseEvent| c.emit(()))
    };
    let choose = {
        let shown = shown.clone();
        let playing = playing.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            let (Ok(i), Some(r)) = (v.parse::<usize>(), shown.replay.as_ref()) else {
                return;
            };
            playing.set(false);
            let next = match Replay::of(r.report.clone(), i) {
                Ok(r) => Shown {
                    replay: Some(Rc::new(r)),
                    at: 0,
                    error: None,
                    source: shown.source.clone(),
                },
                Err(e) => Shown {
                    error: Some(e),
                    ..(*shown).clone()
                },
            };
            shown.set(next);
        })
    };

    let loader = html! {
        <div class="replay-load" id="replay-drop" ondrop={on_drop} ondragover={on_drag_over}>
            <div class="row">
                <label class="file-button">
                    <input type="file" id="replay-file" accept=".json,application/json" onchange={on_pick} />
                    <span>{ "Open a report…" }</span>
                </label>
                <span class="muted small">{ "or drop one here" }</span>
            </div>
            <div class="muted small">{ "Written by " }<code>{ "cargo xtask check NAME --json DIR" }</code>{ ". Bundled:" }</div>
            <div class="examples">
                { for EXAMPLES.iter().map(|&(file, label, json)| {
                    let load = load.clone();
                    let onclick = Callback::from(move |_: MouseEvent| load.emit((file.to_string(), json.to_string())));
                    html! { <button class="link" data-example={file} {onclick}>{ label }</button> }
                }) }
            </div>
            if let Some(e) = &shown.error {
                <div class="field-error" id="replay-error" role="alert">{ e }</div>
            }
        </div>
    };

    let Some(r) = shown.replay.clone() else {
        return html! {
            <section class="replay" id="replay">
                <header class="replay-head">
                    <h2>{ "Replay a model checker's counterexample" }</h2>
                    <span class="spacer" />
                    <button class="ghost" id="replay-close" onclick={close}>{ "Back to the cluster" }</button>
                </header>
                <div class="replay-intro">
                    <p>{ "kvlab's model checker explores every interleaving of messages, losses, crashes, partitions and client requests a small cluster allows, on the same node code this page runs. When a property breaks, it writes the path that breaks it. Open one to watch it happen, one action at a time." }</p>
                    { loader }
                </div>
            </section>
        };
    };
    let at = shown.at.min(r.len());
    let state = &r.states[at];
    let judged = &r.judged[at];
    let breaks = r.first_break().map(|(i, j)| (i, j.name));
    let spec = &r.report.spec;
    let cfg = &spec.config;
    let caption = if at == 0 {
        let nodes = match spec.down_at_start {
            Some(d) => format!("{d} is down and every other node has marked it offline"),
            None => "every node is up and has gossiped".to_string(),
        };
        format!(
            "The start: {nodes}; nothing is written. This path breaks “{}” in {} actions; step forward (→) to take the first. Values name their client and request: c0.2 is client 0's second request.",
            r.property(),
            r.len()
        )
    } else {
        format!("Action {at} of {}: {}", r.len(), r.captions[at - 1])
    };
    let broke_here = breaks.filter(|&(i, _)| i == at).map(|(_, n)| n);
    let verdict_options: Vec<(usize, String)> = r
        .report
        .verdicts
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let len = v.path.as_ref()?.len();
            let what = if v.kind == "always" {
                "counterexample"
            } else {
                "example"
            };
            Some((i, format!("{}: {what}, {len} actions", v.name)))
        })
        .collect();

    html! {
        <section class="replay" id="replay">
            <header class="replay-head">
                <h2>{ format!("{} · ", r.report.name) }<span class="muted">{ spec.about.clone() }</span></h2>
                <span class="spacer" />
                <button class="ghost" id="replay-close" onclick={close}>{ "Back to the cluster" }</button>
            </header>
            <div class="replay-body">
                <aside class="replay-side">
                    <div class="card">
                        <div class="muted small">{ format!("{} · {} nodes, N={} R={} W={}, {:?}{}", shown.source, cfg.nodes, cfg.n, cfg.r, cfg.w, cfg.conflict_mode,
                            if spec.bug.is_some() { " · a fixed bug put back (negative control)" } else { "" }) }</div>
                        <label class="field">
                            <span class="small">{ "Path" }</span>
                            <select id="replay-verdict" onchange={choose}>
                                { for verdict_options.iter().map(|(i, l)| html! {
                                    <option value={i.to_string()} selected={*i == r.chosen}>{ l.clone() }</option>
                                }) }
                            </select>
                        </label>
                    </div>
                    <div class="replay-steps" id="replay-steps">
                    <div class={classes!("start", (at == 0).then_some("current"))} onclick={step_to(0)}>{ "start: nothing written yet" }</div>
                    <ol>
                        { for r.captions.iter().enumerate().map(|(i, c)| {
                            let n = i + 1;
                            let breaking = breaks.is_some_and(|(b, _)| b == n);
                            html! {
                                <li class={classes!((n == at).then_some("current"), breaking.then_some("breaks"), (n > at).then_some("ahead"))}
                                    onclick={step_to(n)} data-step={n.to_string()}>
                                    { c.clone() }
                                    if breaking { <span class="chip bad">{ "✗ breaks here" }</span> }
                                </li>
                            }
                        }) }
                    </ol>
                    </div>
                    { loader }
                </aside>
                <div class="replay-center">
                    <div class={classes!("replay-caption", broke_here.is_some().then_some("bad"))} id="replay-caption">
                        <b>{ caption }</b>
                        { for state.notes.iter().map(|n| html! { <div class="note">{ format!("→ {n}") }</div> }) }
                        { for r.changes[at].iter().map(|c| html! { <div class="note change">{ format!("→ {c}") }</div> }) }
                        if let Some(name) = broke_here {
                            <div class="note bad" id="replay-broken">{ format!("✗ “{name}” breaks here: {}",
                                judged.iter().find(|j| j.name == name).and_then(|j| j.verdict.clone().err()).unwrap_or_default()) }</div>
                            <div class="note">{ why_here(name, state) }</div>
                        }
                    </div>
                    { ring(&r, state, at) }
                    <div class="transport replay-transport" role="group" aria-label="replay controls">
                        <button class="ghost" id="replay-first" title="the start (Home)" onclick={step_to(0)} disabled={at == 0}>{ "Start" }</button>
                        <button class="icon" id="replay-back" title="back one action (←)" onclick={step_to(at.saturating_sub(1))} disabled={at == 0}>{ "◀" }</button>
                        <button class="play" id="replay-play" title="play / pause (space)" onclick={toggle_play}>{ if *playing { "Pause" } else { "Play" } }</button>
                        <button class="icon" id="replay-next" title="next action (→)" onclick={step_to(at + 1)} disabled={at >= r.len()}>{ "▶" }</button>
                        <button class="ghost" id="replay-last" title="the last action (End)" onclick={step_to(r.len())} disabled={at >= r.len()}>{ "End" }</button>
                        <span class="muted small" id="replay-pos">{ format!("action {at} of {}", r.len()) }</span>
                    </div>
                </div>
                <aside class="replay-side right">
                    { nodes(&r, state) }
                    { clients(&r, state) }
                    { in_flight(state) }
                </aside>
            </div>
            { strip(judged, breaks, at) }
        </section>
    }
}

/// What a learner needs to read the break right.
fn why_here(name: &str, s: &State) -> String {
    if name == CONVERGES {
        "Judged on what would follow: from here, with faults over (partition healed, every node \
         restarted, gossip, anti-entropy on every range), the write never reaches its homes."
            .to_string()
    } else if s.net.is_empty() {
        "Judged on what the nodes hold now.".to_string()
    } else {
        "Judged on what the nodes hold now: copies still in flight do not count, since the network \
         may lose them."
            .to_string()
    }
}

/// The ring: nodes at their tokens, the key and its homes, the messages in flight, and the one
/// the last action delivered or lost flying.
fn ring(r: &Replay, s: &State, at: usize) -> Html {
    let ring = r.model.ring();
    let at_of = |id: NodeId| {
        let pos = ring
            .tokens()
            .iter()
            .find(|(_, n)| *n == id)
            .map_or(0, |(p, _)| *p);
        polar(angle_of(pos), R)
    };
    let key_pos = ring.position_of_key(r.model.key().as_str());
    let homes: Vec<NodeId> = ring
        .walk(key_pos)
        .take(usize::from(r.report.spec.config.n))
        .collect();
    // The key sits just inside the orbit at its position, clear of any badge there.
    let (kx, ky) = polar(angle_of(key_pos), R - 36.0);
    let (ox, oy) = polar(angle_of(key_pos), R);
    let cut = |i: usize| s.cut.as_ref().is_some_and(|c| c[i]);
    // A message's path: bowed toward the centre, from the sender's badge edge to the
    // receiver's, so the arrowhead shows.
    let curve = |a: (f64, f64), b: (f64, f64)| {
        let mid = ((a.0 + b.0) / 2.0 * 0.55, (a.1 + b.1) / 2.0 * 0.55);
        let toward = |p: (f64, f64), by: f64| {
            let (dx, dy) = (mid.0 - p.0, mid.1 - p.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            (p.0 + dx / len * by, p.1 + dy / len * by)
        };
        let (a, b) = (toward(a, 24.0), toward(b, 26.0));
        format!(
            "M {:.1} {:.1} Q {:.1} {:.1} {:.1} {:.1}",
            a.0, a.1, mid.0, mid.1, b.0, b.1
        )
    };
    // The message the last action took: delivered or lost.
    let flying = match r.action(at) {
        Some(kvlab_core::model::Action::Deliver(from, to, _)) => Some((*from, *to, false)),
        Some(kvlab_core::model::Action::Drop(from, to, _)) => Some((*from, *to, true)),
        _ => None,
    };
    html! {
        <svg class="replay-ring" id="replay-ring" viewBox="-200 -200 400 400" role="img" aria-label="the ring">
            <circle cx="0" cy="0" r={R.to_string()} class="orbit" />
            <line x1={format!("{kx:.1}")} y1={format!("{ky:.1}")} x2={format!("{ox:.1}")} y2={format!("{oy:.1}")} class="key-tick" />
            { for homes.iter().map(|&h| {
                let (x, y) = at_of(h);
                html! { <line x1={format!("{kx:.1}")} y1={format!("{ky:.1}")} x2={format!("{x:.1}")} y2={format!("{y:.1}")} class="pref" /> }
            }) }
            { for s.net.iter().map(|e| {
                let d = curve(at_of(e.from), at_of(e.to));
                html! { <path d={d} class="wire" marker-end="url(#arrow)"><title>{ format!("{} → {}: {}", e.from, e.to, describe(&e.msg)) }</title></path> }
            }) }
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                </marker>
            </defs>
            { for (0..s.nodes.len()).map(|i| {
                let id = NodeId(i as u16);
                let (x, y) = at_of(id);
                let home = homes.iter().position(|&h| h == id);
                let class = classes!("node", (!s.up[i]).then_some("down"), cut(i).then_some("cut"), home.map(|_| "home"));
                html! {
                    <g class={class} data-node={id.to_string()}>
                        <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="22" />
                        <text x={format!("{x:.1}")} y={format!("{:.1}", y + 5.0)} class="name">{ id.to_string() }</text>
                        <text x={format!("{x:.1}")} y={format!("{:.1}", y + 37.0)} class="role">
                            { match (home, s.up[i]) {
                                (_, false) => "down".to_string(),
                                (Some(k), _) => format!("home {}", k + 1),
                                (None, _) => "not a home".to_string(),
                            } }
                        </text>
                    </g>
                }
            }) }
            <circle cx={format!("{kx:.1}")} cy={format!("{ky:.1}")} r="6" class="key-dot"><title>{ format!("key {} and its homes {}", r.model.key(), homes.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ")) }</title></circle>
            <text x={format!("{:.1}", kx * 0.78)} y={format!("{:.1}", ky * 0.78 + 4.0)} class="key-label">{ format!("key {}", r.model.key()) }</text>
            if let Some((from, to, lost)) = flying {
                { {
                    let a = at_of(from);
                    let b = at_of(to);
                    let style = format!("--x0: {:.1}px; --y0: {:.1}px; --x1: {:.1}px; --y1: {:.1}px", a.0, a.1, b.0, b.1);
                    html! { <circle key={format!("fly-{at}")} r="7" cx="0" cy="0" class={classes!("flying", lost.then_some("lost"))} style={style} /> }
                } }
            }
        </svg>
    }
}

/// Each node: up or down, its versions of the key, its hints.
fn nodes(r: &Replay, s: &State) -> Html {
    let key = r.model.key().clone();
    html! {
        <div class="card" id="replay-nodes">
            <h3>{ "Nodes" }</h3>
            { for s.nodes.iter().enumerate().map(|(i, n)| {
                let mut versions = Vec::new();
                n.store().for_each_sorted(|k, set| {
                    if *k == key {
                        versions.extend(set.versions().iter().map(|v| format!("{} {} saw {}", v.value.to_text(), dot_text(v.dot, &[]), v.context)));
                    }
                });
                let hints: Vec<String> = n.hints().iter().flat_map(|(owner, keys)| {
                    keys.values().flat_map(move |set| set.versions().iter().map(move |v| format!("{} {} for {owner}", v.value.to_text(), dot_text(v.dot, &[]))))
                }).collect();
                let status = match (s.up[i], s.cut.as_ref().is_some_and(|c| c[i])) {
                    (false, _) => "down",
                    (true, true) => "cut off",
                    (true, false) => "up",
                };
                html! {
                    <div class={classes!("node-row", (!s.up[i]).then_some("down"))} data-node={n.id().to_string()}>
                        <b>{ n.id().to_string() }</b>
                        <span class="muted small">{ format!(" {status} · actor {}", n.actor()) }</span>
                        <div class="mono versions">
                            if versions.is_empty() { <span class="muted">{ "holds nothing" }</span> }
                            { for versions.iter().map(|v| html! { <div>{ v.clone() }</div> }) }
                            { for hints.iter().map(|h| html! { <div class="hint">{ format!("hint: {h}") }</div> }) }
                        </div>
                    </div>
                }
            }) }
        </div>
    }
}

/// The clients: whom they talk to, what they wait for, the context they hold.
fn clients(r: &Replay, s: &State) -> Html {
    html! {
        <div class="card" id="replay-clients">
            <h3>{ "Clients" }</h3>
            { for s.clients.iter().enumerate().map(|(i, c)| {
                let via: Vec<String> = r.report.spec.clients.get(i).map(|v| v.iter().map(|n| n.to_string()).collect()).unwrap_or_default();
                let doing = match c.waiting {
                    Some((req, node)) => format!("waits for request {} at {node}", req.0),
                    None => "idle".to_string(),
                };
                let context = c.context.as_ref().map_or_else(|| "no read yet".to_string(), |ctx| format!("last read's context {ctx}"));
                html! {
                    <div class="client-row">
                        <b>{ format!("client {i}") }</b>
                        <span class="muted small">{ format!(" talks to {} · {} requests", via.join(", "), c.sent) }</span>
                        <div class="small">{ doing }{ " · " }{ context }</div>
                    </div>
                }
            }) }
        </div>
    }
}

/// The messages in flight.
fn in_flight(s: &State) -> Html {
    html! {
        <div class="card" id="replay-net">
            <h3>{ format!("In flight ({})", s.net.len()) }</h3>
            if s.net.is_empty() { <div class="muted small">{ "nothing" }</div> }
            <ul class="small">
                { for s.net.iter().map(|e| html! { <li>{ format!("{} → {}: {}", e.from, e.to, describe(&e.msg)) }</li> }) }
            </ul>
        </div>
    }
}

/// The properties at this state, with where the first break is.
fn strip(judged: &[Judgement], breaks: Option<(usize, &'static str)>, at: usize) -> Html {
    html! {
        <footer class="status replay-status" id="replay-status">
            { for judged.iter().map(|j| {
                let ok = j.verdict.is_ok();
                let here = breaks.is_some_and(|(i, n)| i == at && n == j.name);
                let title = match &j.verdict {
                    Ok(()) => format!("{}: {}", j.name, j.meaning),
                    Err(e) => format!("{}: {}\n\nbroken: {e}", j.name, j.meaning),
                };
                let (class, mark) = match (j.reached, ok) {
                    (Some(true), _) => ("ok", " · reached"),
                    (Some(false), _) => ("wait", " · not yet"),
                    (None, true) => ("ok", " ✓"),
                    (None, false) => ("bad", " ✗"),
                };
                html! {
                    <span class={classes!("check", class, here.then_some("here"))} title={title} data-property={j.name}>
                        { format!("{}{mark}", j.name) }
                    </span>
                }
            }) }
            <span class="spacer" />
            <span class="stat" id="replay-break">
                { match breaks {
                    Some((i, n)) => format!("“{n}” breaks at action {i}"),
                    None => "no property breaks on this path".to_string(),
                } }
            </span>
        </footer>
    }
}
