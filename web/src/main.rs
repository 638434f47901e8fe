//! kvlab's page: a virtual Dynamo-style cluster running in the browser.
#![forbid(unsafe_code)]

mod app;
mod components;
mod driver;
mod engine;
mod format;
mod fragment;
mod geometry;
mod jsapi;
mod state;
mod view;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
