//! # kvlab-core
//!
//! A deterministic, I/O-free implementation of a Dynamo-style key-value store and a discrete-event
//! simulator of a cluster of its nodes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod gossip;
mod merkle;
mod rng;
mod types;

pub use config::{
    Config, ConfigError, ConflictMode, MAX_KEY_BYTES, MAX_NODES, MAX_VALUE_BYTES, MAX_VNODES,
};
pub use gossip::{Member, MemberChange, MemberChangeKind, MemberStatus, Membership, Tombstone};
pub use merkle::{
    bucket_of, item_hash, key_wire_bytes, normalize_buckets, record_digest, sync_cost,
    varint_bytes, BucketItems, MerkleHash, MerkleMsg, MerkleStep, MerkleTree, Repair, SyncCost,
    HASH_BYTES, MAX_BUCKETS,
};
pub use rng::{Ratio, Rng};
pub use types::{Key, NodeId, RequestId, Time, Value};
