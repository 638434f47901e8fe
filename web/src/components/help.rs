//! The keyboard help overlay.

use super::Cmd;
use crate::state::Action;
use yew::prelude::*;

/// Props of the overlay.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Commands.
    pub on: Callback<Cmd>,
}

/// The overlay.
#[function_component(Help)]
pub fn help(p: &Props) -> Html {
    let on = p.on.clone();
    let close = Callback::from(move |_| on.emit(Cmd::Ui(Action::ToggleHelp)));
    let keys = [
        ("Space", "play / pause"),
        ("→", "one event"),
        ("⇧ →", "one protocol round (a gossip period)"),
        (
            "←",
            "step back (replayed from a snapshot: the same state as before)",
        ),
        ("N / B", "next / previous scenario step"),
        ("Esc", "close menus and overlays"),
        ("?", "this help"),
    ];
    html! {
        <div class="overlay" id="help-overlay" onclick={close.clone()}>
            <div class="dialog" onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
                <h2>{ "Keyboard" }</h2>
                <table class="keys">
                    { for keys.iter().map(|(k, what)| html! { <tr><td><kbd>{ *k }</kbd></td><td>{ *what }</td></tr> }) }
                </table>
                <h2>{ "Reading the page" }</h2>
                <p>{ "The ring is the 64-bit hash space, 0 at the top, clockwise. Ticks are tokens (virtual nodes) in their node's colour; a key is stored on the first N distinct nodes clockwise from its dot — hover a dot to see them. Click a node to inspect it, crash it or wipe it." }</p>
                <p>{ "Dots moving between nodes are messages, at the place they would be at the current simulated time. Red crosses are messages the network drops." }</p>
                <button onclick={close}>{ "Close" }</button>
            </div>
        </div>
    }
}
