//! # kvlab-check
//!
//! Exhaustive model checking of kvlab's nodes with [Stateright](https://docs.rs/stateright). The
//! model itself lives in kvlab-core (`kvlab_core::model`), so the page can replay what this crate
//! finds on the same transitions; this crate makes it a Stateright model and runs the checker. It
//! explores the real `Node` state machines of kvlab-core, driven only through their sans-IO boundary
//! (`Node::handle`, `Node::poll_output`, `Node::poll_timeout`), with every interleaving of message
//! deliveries, losses, timers, faults and client requests a small configuration allows. Each
//! state is judged by the properties the randomized sweep uses ([`kvlab_core::PROPERTIES`], read
//! through a `Cluster` over the model's state), fed by the same history oracle
//! ([`kvlab_core::History`]). Native only: the page never depends on this crate.
//!
//! What the model abstracts (docs/protocol.md §Correctness, "Model checking"):
//!
//! - **Network.** The messages in flight are a multiset (a sorted vector); any one may be
//!   delivered next (reordering), or dropped while the loss budget lasts. A message to a crashed
//!   node, or across a partition, is dropped when it is delivered, as in the simulator. Delivery
//!   takes no time.
//! - **Time** advances only when a node's timer fires: the model's time jumps to that deadline.
//!   Gossip rounds are a million milliseconds apart and `t_fail` is 2.5 rounds, so within the
//!   explored horizon (request deadlines, 300 ms each) no node suspects another; a gossip round
//!   can fire only while the gossip budget lasts. Membership is therefore fixed during
//!   exploration except where a configuration spends gossip rounds (the sloppy-quorum and
//!   stand-in ones; the stand-in ones set `t_fail` just over one round, so that a node's round
//!   suspects every node it has not heard from for more than a round); a node down from the
//!   start is marked offline by every other node during a deterministic warm-up, before
//!   exploration.
//! - **Clients** are closed-loop: one request at a time, to a node of their contact list; a put is
//!   blind, or carries the context of the client's last get. A client gives up on a request (a
//!   failed reply, as the simulator's client deadline) only when nothing can answer it any more:
//!   no message in flight and no node with a request pending.
//! - **Names.** Request ids and values are numbered per client, and the oracle hashes writes by
//!   request id, so two interleavings of independent client actions that reach the same cluster
//!   are one state.
//! - **Eventually** is checked as bounded liveness: from every quiescent state (no message in
//!   flight, no client waiting) a deterministic fault-free completion (heal, restart every node,
//!   four gossip rounds with every message delivered, then anti-entropy rounds, repeated up to
//!   four times while a property fails, so that the dead-node probe of every tenth gossip round
//!   can reunite nodes that each believe the other dead) must reach a cluster where the sweep's
//!   eventually-properties hold.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod checker;
mod configs;

pub use checker::{explore, run, Checked};
pub use configs::{spec, specs, Expect};
pub use kvlab_core::model::{
    Action, Budget, CheckReport, Client, Envelope, KvModel, Spec, State, Verdict,
};
