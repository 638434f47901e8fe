//! Small inline SVG icons (headless and minimal systems lack the media-control glyphs).

use yew::prelude::*;

/// An icon by name: play, pause, step, back, round, reset, dice.
pub fn icon(name: &str) -> Html {
    let path = match name {
        "play" => "M4 2.5v11l9-5.5z",
        "pause" => "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z",
        "step" => "M3 2.5v11l7.5-5.5zM11 2.5h2.5v11H11z",
        "back" => "M13 2.5v11L5.5 8zM2.5 2.5H5v11H2.5z",
        "round" => "M1.5 2.5v11L7.5 8zM7.5 2.5v11l6-5.5zM13.5 2.5H15v11h-1.5z",
        "reset" => "M2.5 2.5H5v11H2.5zM14 2.5v11L6 8z",
        "dice" => "M3 2h10a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm1.8 2a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6zm6.4 0a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6zM8 6.7a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6zM4.8 9.4a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6zm6.4 0a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6z",
        _ => "",
    };
    html! {
        <svg class="i" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d={path} fill="currentColor" fill-rule="evenodd" /></svg>
    }
}
