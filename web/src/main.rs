//! kvlab's page: a virtual Dynamo-style cluster running in the browser.
// Tests count allocations with a small allocator (soak.rs); the page itself has no unsafe code.
#![cfg_attr(not(test), forbid(unsafe_code))]
#![cfg_attr(test, deny(unsafe_code))]

mod app;
mod components;
mod driver;
mod engine;
#[cfg(test)]
mod engine_tests;
mod format;
mod fragment;
mod geometry;
mod history;
mod inspect;
mod jsapi;
mod paint;
mod playback;
mod replay;
#[cfg(test)]
mod soak;
mod state;
mod tour;
mod view;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
