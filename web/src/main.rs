//! kvlab's page: a virtual Dynamo-style cluster running in the browser.
#![forbid(unsafe_code)]

use yew::prelude::*;

#[function_component(App)]
fn app() -> Html {
    html! {
        <main id="kvlab-app">
            <h1>{ "kvlab" }</h1>
            <svg id="ring" viewBox="-110 -110 220 220" width="440" height="440">
                <circle cx="0" cy="0" r="100" fill="none" stroke="#888" stroke-width="2" />
            </svg>
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
