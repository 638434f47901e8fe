//! What crosses the network between nodes, what clients ask, and what they are told.

use crate::merkle::MerkleMsg;
use crate::ring::RangeId;
use crate::types::{Key, NodeId, RequestId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A client's request to the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Read every sibling of `key` and the context that covers them.
    Get {
        /// The key.
        key: Key,
    },
    /// Write `value` under `key`, superseding exactly the versions `context` covers (docs/protocol.md §Versions).
    Put {
        /// The key.
        key: Key,
        /// The new value.
        value: Value,
        /// The context of the versions the client read (empty for a blind write).
        context: VectorClock,
    },
}

impl Request {
    /// The key the request is about.
    pub fn key(&self) -> &Key {
        match self {
            Request::Get { key } | Request::Put { key, .. } => key,
        }
    }
}

/// Why a request failed. A failed quorum is a reply, never a panic or a Rust error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RequestError {
    /// The key is empty.
    EmptyKey,
    /// The key is longer than [`crate::MAX_KEY_BYTES`].
    KeyTooLong,
    /// The value is longer than [`crate::MAX_VALUE_BYTES`].
    ValueTooLarge,
    /// The request named a node that does not exist.
    UnknownNode,
    /// The node the client contacted is down.
    NodeDown,
    /// The request was forwarded [`crate::MAX_FORWARD_HOPS`] times and reached no node that is on
    /// the key's preference list by its own view (views differ while gossip catches up).
    NoCoordinator,
    /// The put's context names a write that no coordinator ever made (a counter above any its
    /// actor issued): it did not come from a read, and would supersede writes nobody read.
    InvalidContext,
    /// Fewer than W (or R) replicas answered before the request timeout.
    Timeout {
        /// Replies or acks received.
        got: u8,
        /// Replies or acks needed.
        needed: u8,
    },
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::EmptyKey => f.write_str("the key is empty"),
            RequestError::KeyTooLong => write!(f, "the key is over {} bytes", crate::MAX_KEY_BYTES),
            RequestError::ValueTooLarge => {
                write!(f, "the value is over {} bytes", crate::MAX_VALUE_BYTES)
            }
            RequestError::UnknownNode => f.write_str("no such node"),
            RequestError::NodeDown => f.write_str("the coordinator is down"),
            RequestError::NoCoordinator => {
                f.write_str("no node of the key's preference list took the request")
            }
            RequestError::InvalidContext => {
                f.write_str("the context names a write that was never made")
            }
            RequestError::Timeout { got, needed } => {
                write!(f, "timed out with {got} of {needed} replicas")
            }
        }
    }
}

/// What a client is told, once per request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyBody {
    /// The write reached W replicas. `version` is what was written (its dot identifies it);
    /// `siblings` is every version the coordinator held of the key right after the write (the
    /// new one and any concurrent ones it did not supersede), and `context` their merged clock.
    /// A version's own clock claims every earlier dot of its coordinator, siblings included, so
    /// the reply shows them all: a client that passes `context` back has seen what it covers
    /// (Riak's `return_body`).
    PutOk {
        /// The version written.
        version: Version,
        /// The coordinator's versions of the key after the write, `version` among them.
        siblings: Vec<Version>,
        /// The merged clock of `siblings`, to send back with the next put.
        context: VectorClock,
    },
    /// The read reached R replicas: every sibling and the context covering them.
    GetOk {
        /// Concurrent versions (one when there is no conflict, none when the key is absent).
        siblings: Vec<Version>,
        /// The merged clock of the siblings, to send back with the next put.
        context: VectorClock,
    },
    /// The request failed.
    Failed(RequestError),
}

/// A reply to a client request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The request answered.
    pub req: RequestId,
    /// The key of the request.
    pub key: Key,
    /// The node that coordinated it.
    pub coordinator: NodeId,
    /// The outcome.
    pub body: ReplyBody,
}

/// The kinds of message, for colours, legends and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MsgKind {
    /// A membership list (docs/protocol.md §Gossip).
    Gossip,
    /// A client request passed to a node of the key's preference list.
    Forward,
    /// Coordinator → replica: store this version.
    Put,
    /// Replica → coordinator: stored.
    PutAck,
    /// Coordinator → replica: send your versions.
    Get,
    /// Replica → coordinator: my versions.
    GetReply,
    /// Coordinator → stale replica: the merged versions.
    ReadRepair,
    /// Stand-in → recovered owner: the replicas held under a hint (docs/protocol.md §Sloppy quorum).
    Handoff,
    /// Owner → stand-in: hinted replicas received; the hint can go.
    HandoffAck,
    /// Anti-entropy: Merkle hashes or the keys of differing buckets (docs/protocol.md §Anti-entropy).
    Merkle,
}

impl MsgKind {
    /// Every kind, in legend order.
    pub const ALL: [MsgKind; 10] = [
        MsgKind::Gossip,
        MsgKind::Forward,
        MsgKind::Put,
        MsgKind::PutAck,
        MsgKind::Get,
        MsgKind::GetReply,
        MsgKind::ReadRepair,
        MsgKind::Handoff,
        MsgKind::HandoffAck,
        MsgKind::Merkle,
    ];

    /// A short lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            MsgKind::Gossip => "gossip",
            MsgKind::Forward => "forward",
            MsgKind::Put => "put",
            MsgKind::PutAck => "put-ack",
            MsgKind::Get => "get",
            MsgKind::GetReply => "get-reply",
            MsgKind::ReadRepair => "read-repair",
            MsgKind::Handoff => "handoff",
            MsgKind::HandoffAck => "handoff-ack",
            MsgKind::Merkle => "merkle",
        }
    }

    /// Index into per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One message of a Merkle comparison between two replicas of a range (docs/protocol.md §Anti-entropy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MerkleWire {
    /// The tree phase: roots, then child hashes of differing nodes level by level, then the items
    /// of the differing buckets.
    Tree(MerkleMsg),
    /// The record phase: the sender's versions of keys in the differing buckets, and the keys it
    /// wants. With `reply` set, the receiver answers with its versions of `pull` and of every
    /// received key whose merged versions differ from what it received.
    Records {
        /// The differing buckets.
        buckets: Vec<u32>,
        /// The sender's versions of keys the receiver lacks or holds in another version.
        records: Vec<(Key, VersionSet)>,
        /// Keys the sender lacks.
        pull: Vec<Key>,
        /// Whether the receiver should answer.
        reply: bool,
    },
    /// The trees agree: nothing to repair.
    InSync,
}

/// A message between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A membership digest: (member, heartbeat) pairs (docs/protocol.md §Gossip).
    Gossip {
        /// What the sender knows.
        digest: Vec<(NodeId, u64)>,
    },
    /// A client request for a key whose preference list does not include the receiving node.
    Forward {
        /// The request id.
        req: RequestId,
        /// The request.
        request: Box<Request>,
        /// How many times it was forwarded, this time included.
        hops: u8,
    },
    /// Store these versions of `key` (the coordinator's set after its write: sets, not single
    /// versions, travel between replicas); `hint` names the intended owner when the receiver is a
    /// stand-in.
    Put {
        /// The request this write belongs to.
        req: RequestId,
        /// The key.
        key: Key,
        /// The coordinator's versions of the key, including the new one (shared by all targets).
        versions: Arc<VersionSet>,
        /// The owner this replica is held for (hinted handoff), if any.
        hint: Option<NodeId>,
    },
    /// The version was stored.
    PutAck {
        /// The request.
        req: RequestId,
    },
    /// Send me your versions of `key`.
    Get {
        /// The request.
        req: RequestId,
        /// The key.
        key: Key,
    },
    /// My versions of the requested key.
    GetReply {
        /// The request.
        req: RequestId,
        /// The replica's versions.
        versions: Arc<VersionSet>,
    },
    /// The merged versions of `key`, sent to a replica whose reply was stale.
    ReadRepair {
        /// The key.
        key: Key,
        /// The merged versions.
        versions: Arc<VersionSet>,
    },
    /// Replicas held for the receiver while it was down.
    Handoff {
        /// (key, versions) pairs held under a hint naming the receiver.
        records: Vec<(Key, VersionSet)>,
    },
    /// The owner stored the handed-off records; the stand-in may drop these hints.
    HandoffAck {
        /// The keys received, with the dots received for each, so a hint updated meanwhile stays.
        keys: Vec<(Key, Vec<Dot>)>,
    },
    /// A step of a Merkle comparison of one range.
    Merkle {
        /// The range compared.
        range: RangeId,
        /// Which exchange (the initiator's counter), so late steps of an old exchange are ignored.
        exchange: u64,
        /// The step.
        step: MerkleWire,
    },
}

impl Msg {
    /// The message's kind.
    pub fn kind(&self) -> MsgKind {
        match self {
            Msg::Gossip { .. } => MsgKind::Gossip,
            Msg::Forward { .. } => MsgKind::Forward,
            Msg::Put { .. } => MsgKind::Put,
            Msg::PutAck { .. } => MsgKind::PutAck,
            Msg::Get { .. } => MsgKind::Get,
            Msg::GetReply { .. } => MsgKind::GetReply,
            Msg::ReadRepair { .. } => MsgKind::ReadRepair,
            Msg::Handoff { .. } => MsgKind::Handoff,
            Msg::HandoffAck { .. } => MsgKind::HandoffAck,
            Msg::Merkle { .. } => MsgKind::Merkle,
        }
    }

    /// Bytes on the wire: the message's encoding (`codec.rs`) plus a fixed envelope
    /// (sender, receiver, length) of 16 bytes.
    pub fn wire_bytes(&self) -> usize {
        crate::codec::ENVELOPE_BYTES + crate::codec::counted(|c| crate::codec::put_msg(c, self))
    }
}

/// A message in the network, as the UI draws it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// Unique id of the message for the run.
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Kind.
    pub kind: MsgKind,
    /// When it left the sender.
    pub sent_at: Time,
    /// When it arrives (or dies, when `doomed`).
    pub deliver_at: Time,
    /// Whether the network will drop it (loss); it is drawn dying at `deliver_at`.
    pub doomed: bool,
    /// Size on the wire ([`Msg::wire_bytes`]).
    pub bytes: u32,
}
