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

/// A word-at-a-time digest (FxHash's multiply-rotate step, finished with a SplitMix avalanche):
/// cheap enough to run on every event. Integers are hashed as little-endian words and `usize` as
/// 8 bytes, so wasm32 and 64-bit hosts agree.
#[derive(Clone, Debug)]
pub(crate) struct TraceHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl TraceHasher {
    pub(crate) fn new() -> Self {
        TraceHasher(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn add(&mut self, ev: &TraceEvent) {
        ev.hash(self);
    }

    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.word(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.word(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }

    fn write_isize(&mut self, i: isize) {
        self.word(i as i64 as u64);
    }
}
