//! What a node reports besides messages and replies: events for the trace and the page, and counters.

use crate::gossip::MemberChange;
use crate::ring::RangeId;
use crate::types::{Actor, Key, NodeId, RequestId};
use crate::vclock::Dot;
use serde::{Deserialize, Serialize};

/// State changes a node reports, for the trace and the page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeEvent {
    /// Its membership view changed (docs/protocol.md §Gossip).
    Member(MemberChange),
    /// As coordinator of put `req` it wrote a new version of `key` named `dot`. The simulator's
    /// history oracle uses it only to recognise the write in later reads (with the value), never to
    /// decide what supersedes what.
    Wrote {
        /// The client request.
        req: RequestId,
        /// The key.
        key: Key,
        /// The new version's dot.
        dot: Dot,
    },
    /// It started a new clock epoch (see [`Actor`]): its disk was wiped, or it deleted hinted
    /// versions it had issued itself.
    NewEpoch {
        /// The actor it writes as from now on.
        actor: Actor,
    },
    /// It stored a replica for `owner` under a hint (docs/protocol.md §Sloppy quorum).
    HintStored {
        /// The intended owner.
        owner: NodeId,
        /// The key.
        key: Key,
    },
    /// The owner acknowledged hinted replicas; the hints were deleted.
    HintDelivered {
        /// The owner.
        owner: NodeId,
        /// How many keys.
        keys: u64,
    },
    /// It sent merged versions to a stale replica after a read.
    ReadRepair {
        /// The key.
        key: Key,
        /// The stale replica.
        to: NodeId,
    },
    /// A Merkle comparison with `peer` found and merged these buckets of `range`
    /// (docs/protocol.md §Anti-entropy).
    MerkleSynced {
        /// The other replica.
        peer: NodeId,
        /// The range.
        range: RangeId,
        /// Differing buckets.
        buckets: Vec<u32>,
        /// Keys received and merged.
        keys: u64,
    },
    /// A Merkle comparison found the range in sync.
    MerkleInSync {
        /// The other replica.
        peer: NodeId,
        /// The range.
        range: RangeId,
    },
}

/// Counters of what a node did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Requests this node coordinated.
    pub coordinated: u64,
    /// Read repairs sent.
    pub read_repairs: u64,
    /// Hints stored.
    pub hints_stored: u64,
    /// Hinted keys handed off and acknowledged.
    pub hints_delivered: u64,
    /// Merkle exchanges started.
    pub merkle_exchanges: u64,
    /// Merkle tree-node hashes sent.
    pub merkle_hashes_sent: u64,
    /// Keys sent in Merkle bucket syncs.
    pub merkle_keys_sent: u64,
    /// Bytes of Merkle messages sent.
    pub merkle_bytes_sent: u64,
}
