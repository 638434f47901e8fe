//! The ring: tokens as ticks in their node's colour, node badges, keys as dots, the selected
//! node's ranges, the hovered key's preference list, and partitions as cuts. Messages are drawn
//! by the animation loop on the canvas laid over it.

use super::Cmd;
use crate::engine::FaultReq;
use crate::format::node_colour;
use crate::geometry::{self, angle_of, arc_path, polar, range_start, ring_point, RING_R};
use crate::state::Action;
use crate::view::RingView;
use std::f64::consts::TAU;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Props of the ring.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// What to draw.
    pub ring: Rc<RingView>,
    /// Badge centres by node id.
    pub badges: Rc<Vec<(f64, f64)>>,
    /// The selected node.
    pub selected: Option<u16>,
    /// Ranges the selected node replicates (end tokens).
    pub ranges: Rc<Vec<u64>>,
    /// The hovered key.
    pub hover_key: Option<String>,
    /// Open badge menu.
    pub menu: Option<u16>,
    /// Picking a partition side.
    pub picking: bool,
    /// Picked nodes.
    pub pick: Vec<u16>,
    /// The canvas of the message layer.
    pub canvas: NodeRef,
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The ring view.
#[function_component(Ring)]
pub fn ring(p: &Props) -> Html {
    let ring = &p.ring;
    let tokens: Vec<u64> = ring.tokens.iter().map(|t| t.0).collect();
    let badge = |i: u16| p.badges.get(usize::from(i)).copied().unwrap_or((0.0, 0.0));

    let ranges = p.selected.map(|sel| {
        let colour = node_colour(sel);
        p.ranges
            .iter()
            .map(|&end| {
                let start = range_start(&tokens, end);
                let primary = ring.tokens.iter().any(|&(t, n)| t == end && n == sel);
                let d = arc_path(start, end, RING_R);
                let class = if primary { "range primary" } else { "range" };
                html! { <path class={class} d={d} stroke={colour.clone()} /> }
            })
            .collect::<Html>()
    });

    let ticks = ring
        .tokens
        .iter()
        .map(|&(pos, n)| {
            let (x1, y1) = ring_point(pos, RING_R - 9.0);
            let (x2, y2) = ring_point(pos, RING_R + 9.0);
            let dim = p.selected.is_some_and(|s| s != n);
            html! {
                <line class={classes!("tick", dim.then_some("dim"))}
                    x1={fmt(x1)} y1={fmt(y1)} x2={fmt(x2)} y2={fmt(y2)}
                    stroke={node_colour(n)} />
            }
        })
        .collect::<Html>();

    // A cut between angular neighbours in different partition groups.
    let cuts = if ring.nodes.iter().any(|n| n.group != 0) {
        let angles: Vec<f64> = ring
            .nodes
            .iter()
            .map(|n| {
                let (x, y) = badge(n.id);
                x.atan2(-y).rem_euclid(TAU)
            })
            .collect();
        let order: Vec<(f64, u16)> = geometry::order_by_angle(&angles)
            .into_iter()
            .map(|i| (angles[i], ring.nodes[i].group))
            .collect();
        let k = order.len();
        (0..k)
            .filter(|&i| order[i].1 != order[(i + 1) % k].1)
            .map(|i| {
                let (a, b) = (order[i].0, order[(i + 1) % k].0);
                let mut mid = (a + b) / 2.0;
                if b < a {
                    mid = (a + b + TAU) / 2.0;
                }
                let (x1, y1) = polar(mid, RING_R - 40.0);
                let (x2, y2) = polar(mid, 296.0);
                html! { <line class="cut" x1={fmt(x1)} y1={fmt(y1)} x2={fmt(x2)} y2={fmt(y2)} /> }
            })
            .collect::<Html>()
    } else {
        Html::default()
    };

    let hovered = p
        .hover_key
        .as_ref()
        .and_then(|k| ring.keys.iter().find(|d| &d.key == k));
    let pref_lines = hovered.map(|d| {
        let (kx, ky) = ring_point(d.pos, RING_R);
        d.pref
            .iter()
            .enumerate()
            .map(|(rank, &n)| {
                let (bx, by) = badge(n);
                let class = if rank == 0 { "pref first" } else { "pref" };
                html! { <line class={class} x1={fmt(kx)} y1={fmt(ky)} x2={fmt(bx)} y2={fmt(by)} /> }
            })
            .chain(d.stand_ins.iter().map(|&(s, home)| {
                // A stand-in holds a replica for a home that was down: its own line, labelled.
                let (bx, by) = badge(s);
                let (lx, ly) = ((kx + bx) / 2.0, (ky + by) / 2.0);
                html! {
                    <g class="stand-in">
                        <line class="pref hint" x1={fmt(kx)} y1={fmt(ky)} x2={fmt(bx)} y2={fmt(by)} />
                        <text class="hint-label" x={fmt(lx)} y={fmt(ly - 6.0)}>{ format!("hint for {}", name_of(ring, home)) }</text>
                    </g>
                }
            }))
            .collect::<Html>()
    });

    let keys = ring
        .keys
        .iter()
        .map(|d| {
            let (x, y) = ring_point(d.pos, RING_R);
            let hot = p.hover_key.as_deref() == Some(d.key.as_str());
            html! {
                <circle class={classes!("key", hot.then_some("hot"))} data-key={d.key.clone()}
                    cx={fmt(x)} cy={fmt(y)} r={if hot { "6" } else { "3.5" }}>
                    <title>{ format!("{} → {}", d.key, d.pref.iter().map(|&n| name_of(ring, n)).collect::<Vec<_>>().join(", ")) }</title>
                </circle>
            }
        })
        .collect::<Html>();

    let scale = geometry::badge_scale(ring.nodes.len());
    let badges = ring
        .nodes
        .iter()
        .map(|n| {
            let (x, y) = badge(n.id);
            let rank = hovered.and_then(|d| d.pref.iter().position(|&m| m == n.id));
            let picked = p.pick.contains(&n.id);
            let class = classes!(
                "badge",
                (!n.up).then_some("down"),
                (n.group != 0).then_some("cut-off"),
                (n.suspected_by > 0 && n.up).then_some("suspected"),
                (p.selected == Some(n.id)).then_some("selected"),
                rank.map(|_| "in-pref"),
                picked.then_some("picked"),
            );
            let on = p.on.clone();
            let id = n.id;
            let picking = p.picking;
            let click = Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                if picking {
                    on.emit(Cmd::Ui(Action::TogglePick(id)));
                } else {
                    on.emit(Cmd::Ui(Action::Select(Some(id))));
                    on.emit(Cmd::Ui(Action::Menu(Some(id))));
                }
            });
            let fill = if n.up { node_colour(n.id) } else { "#98a2b3".to_string() };
            let status = if !n.up {
                "crashed".to_string()
            } else if n.suspected_by > 0 {
                format!("suspected offline by {}", n.suspected_by)
            } else if n.group != 0 {
                "partitioned".to_string()
            } else {
                "alive".to_string()
            };
            html! {
                <g class={class} data-node={n.id.to_string()} transform={format!("translate({},{}) scale({})", fmt(x), fmt(y), fmt(scale))} onclick={click}>
                    <title>{ format!("{} — {status}{}", n.name, if n.hints > 0 { format!(", holds {} hint(s)", n.hints) } else { String::new() }) }</title>
                    <circle class="halo" r="24" />
                    <circle class="disc" r="17" fill={fill} />
                    <text class="label" y="4.5">{ &n.name }</text>
                    if !n.up { <text class="mark" y="-21">{ "✕ down" }</text> }
                    else if n.suspected_by > 0 { <text class="mark" y="-21">{ format!("? {}", n.suspected_by) }</text> }
                    if n.hints > 0 { <g class="hint-chip" transform="translate(15,-15)"><circle r="8" /><text y="3.5">{ n.hints }</text></g> }
                    if let Some(r) = rank { <g class="rank" transform="translate(-15,-15)"><circle r="8" /><text y="3.5">{ r + 1 }</text></g> }
                </g>
            }
        })
        .collect::<Html>();

    let menu = p.menu.filter(|_| !p.picking).and_then(|id| {
        let n = ring.nodes.iter().find(|n| n.id == id)?;
        let (x, y) = badge(id);
        let style = format!(
            "left:{}%;top:{}%",
            crate::format::fx((x + 300.0) / 6.0, 2),
            crate::format::fx((y + 300.0) / 6.0, 2)
        );
        let emit = |c: Cmd| {
            let on = p.on.clone();
            Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                on.emit(c.clone());
                on.emit(Cmd::Ui(Action::Menu(None)));
            })
        };
        Some(html! {
            <div class="badge-menu" id="badge-menu" style={style}>
                <div class="menu-title">{ &n.name }{ if n.up { " · alive" } else { " · down" } }</div>
                if n.up {
                    <button id="menu-crash" onclick={emit(Cmd::Fault(FaultReq::Crash(id)))}>{ "Crash" }</button>
                } else {
                    <button id="menu-restart" onclick={emit(Cmd::Fault(FaultReq::Restart(id)))}>{ "Restart" }</button>
                }
                <button id="menu-wipe" onclick={emit(Cmd::Fault(FaultReq::Wipe(id)))} title="lose its disk: a permanent failure">{ "Wipe disk" }</button>
                <button class="ghost" onclick={emit(Cmd::Ui(Action::Menu(None)))}>{ "Close" }</button>
            </div>
        })
    });

    let on = p.on.clone();
    let background = Callback::from(move |_| {
        on.emit(Cmd::Ui(Action::Menu(None)));
    });
    // One listener for every key dot (hundreds of per-dot closures would slow each render).
    let on = p.on.clone();
    let hovering = p.hover_key.is_some();
    let over = Callback::from(move |e: MouseEvent| {
        let key = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.get_attribute("data-key"));
        if key.is_some() || hovering {
            on.emit(Cmd::Ui(Action::HoverKey(key)));
        }
    });
    // A click on a key dot selects the key: its replicas open side by side in the inspector.
    let on = p.on.clone();
    let pick_key = Callback::from(move |e: MouseEvent| {
        let key = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.get_attribute("data-key"));
        if let Some(k) = key {
            on.emit(Cmd::Ui(Action::SelectKey(Some(k))));
        }
    });
    let hub = angle_of(0);
    let (zx, zy) = polar(hub, RING_R + 22.0);
    html! {
        <div class="ring-box" onclick={background}>
            <canvas id="messages" ref={p.canvas.clone()} />
            <svg id="ring" viewBox="-300 -300 600 600" role="img" aria-label="hash ring" onmouseover={over} onclick={pick_key}>
                <circle class="ring-line" r={fmt(RING_R)} />
                <text class="zero" x={fmt(zx)} y={fmt(zy)}>{ "0" }</text>
                { ranges.unwrap_or_default() }
                { ticks }
                { cuts }
                { pref_lines.unwrap_or_default() }
                { keys }
                { badges }
            </svg>
            { menu.unwrap_or_default() }
            if p.picking {
                <div class="pick-hint">{ "Click nodes to put them on one side of the cut, then Cut in the Faults panel." }</div>
            }
        </div>
    }
}

fn name_of(ring: &RingView, n: u16) -> String {
    ring.nodes
        .iter()
        .find(|b| b.id == n)
        .map_or_else(|| format!("S{n}"), |b| b.name.clone())
}

fn fmt(v: f64) -> String {
    crate::format::fx(v, 2)
}
