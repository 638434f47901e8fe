//! # kvlab-core
//!
//! A deterministic, I/O-free implementation of a Dynamo-style key-value store and a discrete-event
//! simulator of a cluster of its nodes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod rng;
mod types;
mod vclock;

pub use config::{
    Config, ConfigError, ConflictMode, MAX_KEY_BYTES, MAX_NODES, MAX_VALUE_BYTES, MAX_VNODES,
};
pub use rng::{Ratio, Rng};
pub use types::{Key, NodeId, RequestId, Time, Value};
pub use vclock::{Causality, ClockEntry, Dot, VectorClock, Version, VersionSet};
