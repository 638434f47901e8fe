//! The domain's small value types: node ids, simulated time, keys and values.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

/// A physical node of the cluster. Ids are dense: `0..config.nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u16);

impl NodeId {
    /// The id as an index into per-node tables.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S{}", self.0)
    }
}

/// Who a vector-clock entry or a dot counts the writes of: a node in one of its *epochs*.
///
/// A node's counters must never name a version of a key that the node no longer holds: a clock
/// that counts up to `[Sx,2]` claims `[Sx,1]` too, and a client who read such a clock supersedes
/// `[Sx,1]` without having seen it. A node therefore starts a new epoch (a fresh actor whose
/// counters start at 1) whenever it drops versions it issued: after its disk is wiped, and after
/// a stand-in hands its hinted versions off and deletes them (see `node.rs`). Riak does the same
/// with per-key actor epochs. Epoch 0 is the node itself and prints as `S3`; later ones as `S3#2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The physical node.
    pub node: NodeId,
    /// Which of its epochs.
    pub epoch: u32,
}

impl Actor {
    /// `node` in `epoch`.
    #[inline]
    pub const fn new(node: NodeId, epoch: u32) -> Actor {
        Actor { node, epoch }
    }
}

impl From<NodeId> for Actor {
    #[inline]
    fn from(node: NodeId) -> Actor {
        Actor { node, epoch: 0 }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.epoch {
            0 => write!(f, "{}", self.node),
            e => write!(f, "{}#{e}", self.node),
        }
    }
}

/// Simulated time in milliseconds since the start of a run. Time is an input of the core, never read
/// from a clock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Time(pub u64);

impl Time {
    /// The start of a run.
    pub const ZERO: Time = Time(0);

    /// Milliseconds since the start of the run.
    #[inline]
    pub fn ms(self) -> u64 {
        self.0
    }

    /// This time plus `ms` milliseconds, saturating.
    #[inline]
    #[must_use]
    pub fn plus(self, ms: u64) -> Time {
        Time(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    #[inline]
    pub fn since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A key. Cheap to clone: messages and tables share one allocation. It carries its position on the
/// ring (the first 8 bytes of its SHA-256), computed once when the key is made, so routing a request
/// or filing a key in a Merkle bucket never hashes it again.
#[derive(Clone)]
pub struct Key {
    text: Arc<str>,
    pos: u64,
}

impl Key {
    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }
    /// Whether the key is the empty string (which requests reject).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    /// The key's position on the ring: `ring::key_position` of its text.
    #[inline]
    pub fn position(&self) -> u64 {
        self.pos
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}
// Hashes like `str`, as `Borrow<str>` requires.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", &*self.text)
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Key::from(String::deserialize(d)?))
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key {
            pos: crate::ring::key_position(s),
            text: Arc::from(s),
        }
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key {
            pos: crate::ring::key_position(&s),
            text: Arc::from(s),
        }
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A value: opaque bytes. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Value(Arc<[u8]>);

impl Value {
    /// The value's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the value has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The value as text, lossily (for display).
    pub fn to_text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value(Arc::from(b))
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value(Arc::from(b))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value(Arc::from(s.as_bytes()))
    }
}

/// Identifies one client request for the whole run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}
