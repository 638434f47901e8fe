//! The membership tab (docs/protocol.md §Gossip): the failure detector's parameters, and each member's heartbeat,
//! how long ago the observer saw it grow, and the countdown to "offline" and then "forgotten".

use crate::format::{fx, node_colour, sim_time};
use crate::inspect::{MembershipView, Stage};
use yew::prelude::*;

fn secs(ms: u64) -> String {
    format!("{} s", fx(ms as f64 / 1000.0, 1))
}

/// The membership tab's body.
pub fn membership(v: &MembershipView) -> Html {
    let me = &v.observer;
    let jumped: Vec<&str> = v
        .rows
        .iter()
        .filter(|r| r.jumped)
        .map(|r| r.name.as_str())
        .collect();
    html! {
        <>
            <div class="fd-params" id="fd-params">
                <span title="a member whose heartbeat has not increased for longer is marked offline">{ "T_fail " }<b id="t-fail">{ secs(v.t_fail) }</b></span>
                <span title="an offline member is removed from the list once silent for longer">{ "T_cleanup " }<b id="t-cleanup">{ secs(v.t_cleanup) }</b></span>
                <span>{ "gossip every " }<b>{ sim_time(v.round) }</b></span>
                <span>{ format!("{me}'s clock ") }<b>{ sim_time(v.now) }</b></span>
            </div>
            <p class="muted small">
                { format!("{me}'s membership list, as {me} sees it. “Heard … ago” is measured on {me}'s own clock, from the moment {me} saw that member's heartbeat grow: each node judges every member by itself, with no global clock and no vote.") }
            </p>
            if !v.up {
                <p class="banner-lite" id="fd-frozen">{ format!("{me} is down: its list is frozen as it was at the crash, and it judges nobody.") }</p>
            }
            <table class="grid-table" id="membership-table">
                <thead><tr><th>{ "member" }</th><th title="the highest heartbeat heard, and when it last increased">{ "heartbeat · last increase" }</th><th>{ "countdown" }</th></tr></thead>
                <tbody>
                    { for v.rows.iter().map(|m| {
                        let stage = match m.timer.stage {
                            Stage::Own => "own",
                            Stage::Fresh => "fresh",
                            Stage::Stalled => "stalled",
                            Stage::Offline => "offline",
                        };
                        let width = format!("width:{}%", fx(m.timer.fraction * 100.0, 1));
                        html! {
                            <tr data-member={m.name.clone()} data-stage={stage}
                                class={classes!((m.timer.stage == Stage::Offline).then_some("offline"))}>
                                <td><span class="dot" style={format!("background:{}", node_colour(m.id))} />{ &m.name }</td>
                                <td>
                                    <span class="hb">{ m.heartbeat }</span>
                                    if m.jumped { <span class="hb-jump" title="this counter started at a restart time in ms">{ "↑" }</span> }
                                    <div class="heard" title={format!("at {} on {me}'s clock", sim_time(m.last_increase))}>
                                        { if m.timer.stage == Stage::Own { m.heard.replacen("heard", "ticked", 1) } else { m.heard.clone() } }
                                    </div>
                                </td>
                                <td class={classes!("timer", stage)}>
                                    if m.timer.stage == Stage::Own {
                                        <span class="muted">{ format!("itself: +1 every {}", sim_time(v.round)) }</span>
                                    } else if !v.up {
                                        <span class="muted">{ "frozen" }</span>
                                    } else {
                                        <span class="fd-text">{ &m.timer.text }</span>
                                        <span class="fd-bar" title={if m.timer.stage == Stage::Offline { "from T_fail to T_cleanup of silence" } else { "from 0 to T_fail of silence" }}><i style={width} /></span>
                                    }
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            <p class="muted small" id="hb-numbering">
                { format!("Heartbeats: every {} a node adds 1 to its own counter; the others keep the highest value they hear. A node starts its counter at its start time in ms: 0 for the nodes started with the cluster, 4500 for one restarted at 4.5 s (then +1 a round: 4514 fourteen rounds later). The jump is needed: peers ignore a counter that is not above what they already heard (and remember a removed member's last one), so a restarted node counting from 0 again would stay offline.", sim_time(v.round)) }
                if !jumped.is_empty() {
                    <b>{ format!(" ↑ {} restarted: {} counter started at its restart time.", jumped.join(", "), if jumped.len() == 1 { "its" } else { "each" }) }</b>
                }
            </p>
        </>
    }
}
