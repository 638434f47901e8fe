//! # kvlab-core
//!
//! A deterministic, I/O-free implementation of a Dynamo-style key-value store and a discrete-event
//! simulator of a cluster of its nodes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod ring;
mod rng;
mod storage;
mod types;
mod zipf;

pub use config::{
    Config, ConfigError, ConflictMode, MAX_KEY_BYTES, MAX_NODES, MAX_VALUE_BYTES, MAX_VNODES,
};
pub use ring::{key_position, RangeId, Ring, Walk};
pub use rng::{Ratio, Rng};
pub use storage::{
    Disk, DiskStats, EntryInfo, MemDisk, Policy, Queue, Record, Store, StoreStats, Tier,
    COMPRESS_MIN_BYTES, ENTRY_OVERHEAD_BYTES,
};
pub use types::{Key, NodeId, RequestId, Time, Value};
pub use zipf::Zipf;
