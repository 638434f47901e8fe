//! One component per file. Components draw view data and send `Cmd`s up to the app, which
//! owns the engine.

pub mod console;
pub mod help;
pub mod icons;
pub mod inspector;
pub mod membership;
pub mod merkle_pair;
pub mod narration;
pub mod replay_view;
pub mod replicas;
pub mod ring;
pub mod settings;
pub mod status;
pub mod timeline;
pub mod toolbar;

use crate::engine::FaultReq;
use crate::state::Action;

/// The settings form as typed (numbers are parsed, and judged, by the app).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Draft {
    /// (field name as in `Config`, text) pairs.
    pub fields: Vec<(&'static str, String)>,
}

/// Everything a component can ask the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// Play or pause.
    TogglePlay,
    /// One event.
    Step,
    /// One protocol round.
    Round,
    /// Step back.
    Back,
    /// Start the current cluster over.
    Reset,
    /// Speed index.
    Speed(usize),
    /// A typed seed.
    Seed(String),
    /// A random seed.
    NewSeed,
    /// The settings form.
    ApplyConfig(Draft),
    /// A fault.
    Fault(FaultReq),
    /// A put from the console.
    Put {
        /// Coordinator.
        via: u16,
        /// Key.
        key: String,
        /// Value.
        value: String,
        /// Context, as typed.
        context: String,
    },
    /// A get from the console.
    Get {
        /// Coordinator.
        via: u16,
        /// Key.
        key: String,
    },
    /// Open a guided scenario (or free play).
    Scenario(Option<String>),
    /// Show or hide one kind of message (its index in the legend).
    ToggleKind(u8),
    /// Next scenario step.
    Next,
    /// Previous scenario step.
    Prev,
    /// Finish the running step (or request) at once.
    Finish,
    /// A click on the timeline at (x, y) CSS pixels from its top left.
    TimelineClick(f64, f64),
    /// Download the trace.
    Export,
    /// Put the current view in the URL.
    Share,
    /// Open the counterexample player (with a bundled example, by file name), or close it.
    Replay(Option<Option<String>>),
    /// A UI-only change.
    Ui(Action),
}
