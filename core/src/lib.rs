//! # kvlab-core
//!
//! A deterministic, I/O-free implementation of a Dynamo-style key-value store and a discrete-event
//! simulator of a cluster of its nodes: consistent hashing with N/R/W quorums ([`Ring`]), a hash-table
//! store with compression and hot/cold tiers ([`Store`]), vector clocks with siblings
//! ([`VectorClock`], [`VersionSet`]), gossip failure detection ([`Membership`]), sloppy quorum
//! with hinted handoff, and Merkle anti-entropy ([`MerkleTree`]). docs/protocol.md describes each
//! protocol, one section apiece: §Storage, §Versions, §Gossip, §Sloppy quorum, §Anti-entropy.
//!
//! ## The sans-IO contract
//!
//! A [`Node`] never reads a clock, touches a socket or spawns a thread. Time and randomness are
//! inputs; messages and replies are outputs:
//!
//! - `node.handle(now, input)` feeds one [`Input`]: a message, a client request, or a timer;
//! - `node.poll_output()` is then drained until `None`: [`Output::Send`], [`Output::Reply`], events;
//! - `node.poll_timeout()` says when the node next wants `Input::Timeout` (`None`: never).
//!
//! All randomness flows from the seed in [`Config`] through the crate's own [`Rng`], with a
//! separate stream per node, the network and the workload. Ties in the event queue break on a
//! sequence number. So the same config gives the same trace, natively and in wasm.
//!
//! [`Simulation`] is one such driver: it owns the nodes and a network of in-flight messages.
//!
//! ```
//! use kvlab_core::{Config, NodeId, ReplyBody, Request, Simulation, Time, Value, VectorClock};
//!
//! let mut sim = Simulation::new(Config { nodes: 5, ..Config::default() }).unwrap();
//! let put = sim.submit(NodeId(0), Request::Put {
//!     key: "cart".into(),
//!     value: Value::from("apple"),
//!     context: VectorClock::new(),
//! });
//! sim.run_until(Time(500));
//! assert!(matches!(sim.reply(put).unwrap().body, ReplyBody::PutOk { .. }));
//!
//! let get = sim.submit(NodeId(3), Request::Get { key: "cart".into() });
//! sim.run_until(Time(1_000));
//! let ReplyBody::GetOk { siblings, .. } = &sim.reply(get).unwrap().body else { panic!() };
//! assert_eq!(siblings.len(), 1);
//! assert_eq!(siblings[0].value, Value::from("apple"));
//! ```
//!
//! Driving a [`Node`] by hand follows the same loop the simulator runs:
//!
//! ```
//! use kvlab_core::{Config, Input, Node, NodeId, Output, Ring, Time};
//! use std::sync::Arc;
//!
//! let cfg = Arc::new(Config { nodes: 3, ..Config::default() });
//! let ids: Vec<NodeId> = (0..3).map(NodeId).collect();
//! let ring = Arc::new(Ring::new(&ids, cfg.vnodes));
//! let mut node = Node::new(NodeId(0), cfg, ring, Time::ZERO);
//! let wake = node.poll_timeout().unwrap();
//! node.handle(wake, Input::Timeout); // its first gossip round
//! let mut gossip = 0;
//! while let Some(out) = node.poll_output() {
//!     if let Output::Send { .. } = out { gossip += 1; }
//! }
//! assert_eq!(gossip, 1); // fanout 1
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codec;
mod config;
mod gossip;
mod merkle;
mod message;
pub mod model;
mod node;
mod ring;
mod rng;
mod scenario;
mod sim;
mod storage;
mod types;
mod vclock;
mod zipf;

pub use config::{
    Config, ConfigError, ConflictMode, MAX_DURATION_MS, MAX_HOT_BUDGET_BYTES, MAX_KEY_BYTES,
    MAX_LATENCY_MS, MAX_NODES, MAX_RING_TOKENS, MAX_VALUE_BYTES, MAX_VNODES,
};
pub use gossip::{Member, MemberChange, MemberChangeKind, MemberStatus, Membership, Tombstone};
pub use merkle::{
    bucket_of, normalize_buckets, BucketItems, MerkleHash, MerkleMsg, MerkleStep, MerkleTree,
    Repair, HASH_BYTES, MAX_BUCKETS,
};
pub use message::{InFlight, MerkleWire, Msg, MsgKind, Reply, ReplyBody, Request, RequestError};
pub use node::{
    Input, Node, NodeEvent, NodeStats, Output, Reintroduced, Target, Timer, MAX_FORWARD_HOPS,
};
pub use ring::{key_position, RangeId, Ring, Walk};
pub use rng::{Ratio, Rng};
pub use scenario::{Scenario, ScenarioStep};
pub use sim::{
    AckReport, AckedWrite, Action, Cluster, ConvergenceReport, DropReason, Fault, History,
    LiveVerdict, LostWrite, OracleReport, Property, PropertyKind, Route, SimStats, Simulation,
    StepInfo, StepKind, TraceEvent, TraceKind, Violation, Workload, ACKED_KEPT, PROPERTIES,
};
pub use storage::{
    Disk, DiskStats, EntryInfo, MemDisk, Policy, Queue, Record, Store, StoreStats, Tier,
    COMPRESS_MIN_BYTES, ENTRY_OVERHEAD_BYTES,
};
pub use types::{Actor, Key, NodeId, RequestId, Time, Value};
pub use vclock::{Causality, ClockEntry, Dot, VectorClock, Version, VersionSet, WriteStamp};
pub use zipf::Zipf;

/// Helpers for the benchmarks in `core/benches`, which are separate crates and so can reach only
/// public items. Not part of the API: hidden from the docs, and free to change.
#[doc(hidden)]
pub mod bench_support {
    pub use crate::codec::{key_len, varint_len};
    pub use crate::merkle::{item_hash, record_digest, sync_cost, SyncCost};
    pub use crate::sim::bare_kernel;
}
