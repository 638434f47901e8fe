//! The run's trace: every send, delivery, drop, client reply and state change, with what a
//! space-time diagram needs; and a digest of it that is identical natively and in wasm.

use super::Fault;
use crate::message::MsgKind;
use crate::node::NodeEvent;
use crate::types::{Key, NodeId, RequestId, Time};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// Why a message died.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DropReason {
    /// The network lost it (the loss ratio).
    Loss,
    /// The receiver was down when it arrived.
    NodeDown,
    /// A partition separated sender and receiver.
    Partition,
}

/// One entry of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Simulated time.
    pub time: Time,
    /// What happened.
    pub kind: TraceKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TraceKind {
    /// A message left `from`.
    Send {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        kind: MsgKind,
        /// Bytes on the wire.
        bytes: u32,
        /// When it arrives.
        deliver_at: Time,
    },
    /// A message arrived.
    Deliver {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        kind: MsgKind,
    },
    /// A message died.
    Drop {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        kind: MsgKind,
        /// Why.
        reason: DropReason,
    },
    /// A client request reached node `via`.
    Submit {
        /// Request.
        req: RequestId,
        /// Node contacted.
        via: NodeId,
        /// Key.
        key: Key,
        /// A put (else a get).
        put: bool,
    },
    /// A client got its reply.
    Reply {
        /// Request.
        req: RequestId,
        /// Who answered.
        coordinator: NodeId,
        /// Success.
        ok: bool,
    },
    /// A node changed state.
    Node {
        /// The node.
        node: NodeId,
        /// What changed.
        event: NodeEvent,
    },
    /// A fault was injected.
    Fault(Fault),
}

/// FNV-1a, 64 bit, with `usize` always hashed as 8 bytes so wasm32 and 64-bit hosts agree.
#[derive(Clone, Debug)]
pub(crate) struct TraceHasher(u64);

impl TraceHasher {
    pub(crate) fn new() -> Self {
        TraceHasher(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn add(&mut self, ev: &TraceEvent) {
        ev.hash(self);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes());
    }

    fn write_isize(&mut self, i: isize) {
        self.write(&(i as i64).to_le_bytes());
    }

    fn write_u16(&mut self, i: u16) {
        self.write(&i.to_le_bytes());
    }

    fn write_u32(&mut self, i: u32) {
        self.write(&i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.write(&i.to_le_bytes());
    }
}
