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

    /// The clock actor of this node's `incarnation`-th disk. A node whose storage was wiped writes
    /// under a new actor: it no longer holds the versions its old counters name, so reusing them
    /// would let a new clock claim versions it never saw (Riak changes its vnode id the same way).
    /// Incarnation 0 is the node itself.
    pub fn actor(self, incarnation: u16) -> NodeId {
        let inc = incarnation.min(u16::MAX / crate::MAX_NODES - 1);
        NodeId(self.0 % crate::MAX_NODES + inc * crate::MAX_NODES)
    }

    /// The physical node an actor belongs to (itself for incarnation 0).
    pub fn node(self) -> NodeId {
        NodeId(self.0 % crate::MAX_NODES)
    }

    /// Which incarnation of its node this actor is.
    pub fn incarnation(self) -> u16 {
        self.0 / crate::MAX_NODES
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.incarnation() {
            0 => write!(f, "S{}", self.0),
            i => write!(f, "S{}#{}", self.node().0, i),
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
