//! The versions of one key a replica keeps: siblings none of which covers another.

use super::clock::VectorClock;
use super::dots::{lww_order, sibling_order, Dot, Version};
use crate::config::ConflictMode;
use crate::types::{Actor, Time, Value};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// Storage of a set's siblings. Almost every key has one version, and cloning it (every read reply
/// does) should not allocate.
#[derive(Clone, Default)]
enum Siblings {
    #[default]
    Empty,
    One(Version),
    Many(Vec<Version>),
}

impl Siblings {
    #[inline]
    fn as_slice(&self) -> &[Version] {
        match self {
            Siblings::Empty => &[],
            Siblings::One(v) => std::slice::from_ref(v),
            Siblings::Many(vs) => vs,
        }
    }

    fn from_vec(mut vs: Vec<Version>) -> Self {
        match vs.len() {
            0 => Siblings::Empty,
            1 => vs.pop().map_or(Siblings::Empty, Siblings::One),
            _ => Siblings::Many(vs),
        }
    }

    /// Removes every sibling `v` covers and inserts `v` in sibling order.
    fn supersede(&mut self, v: Version) {
        *self = match std::mem::take(self) {
            Siblings::Empty => Siblings::One(v),
            Siblings::One(s) if v.covers(&s) => Siblings::One(v),
            Siblings::One(s) => {
                if sibling_order(&s, &v) == Ordering::Less {
                    Siblings::Many(vec![s, v])
                } else {
                    Siblings::Many(vec![v, s])
                }
            }
            Siblings::Many(mut vs) => {
                vs.retain(|s| !v.covers(s));
                let at = vs
                    .binary_search_by(|s| sibling_order(s, &v))
                    .unwrap_or_else(|i| i);
                vs.insert(at, v);
                Siblings::from_vec(vs)
            }
        };
    }
}

/// Everything a coordinator's write needs: who writes, what the client read, and the new value.
#[derive(Clone, Debug)]
pub struct WriteStamp<'a> {
    /// The coordinator, whose next dot names the write.
    pub coordinator: Actor,
    /// The context the client sent (what it read; empty for a blind write).
    pub context: &'a VectorClock,
    /// The value (empty for a tombstone).
    pub value: Value,
    /// Whether the write is a delete.
    pub tombstone: bool,
    /// The coordinator's time: the new clock entry's stamp and the version's `written_at`.
    pub now: Time,
    /// Clock entries kept, counting the dot; 0 turns pruning off.
    pub prune_threshold: usize,
    /// The highest counter the coordinator ever issued, for any key: the dot goes above it.
    pub floor: u64,
}

impl<'a> WriteStamp<'a> {
    /// A plain write: not a tombstone, no pruning, no floor.
    pub fn new(coordinator: Actor, context: &'a VectorClock, value: Value, now: Time) -> Self {
        WriteStamp {
            coordinator,
            context,
            value,
            tombstone: false,
            now,
            prune_threshold: 0,
            floor: 0,
        }
    }
}

/// The versions of one key that a replica keeps: siblings none of which covers another, in a
/// deterministic order.
///
/// ```
/// use kvlab_core::{NodeId, Time, VectorClock, VersionSet};
/// let sx = NodeId(0);
/// let mut set = VersionSet::new();
/// set.write(sx, &VectorClock::new(), "a".into(), Time(1), 0);
/// // A client that read `a` replaces it...
/// let ctx = set.context();
/// set.write(sx, &ctx, "b".into(), Time(2), 0);
/// assert_eq!(set.len(), 1);
/// // ...a blind write (empty context) does not: it becomes a sibling.
/// set.write(sx, &VectorClock::new(), "c".into(), Time(3), 0);
/// assert_eq!(set.len(), 2);
/// assert_eq!(set.context().to_string(), "[S0,3]");
/// ```
#[derive(Clone, Default)]
pub struct VersionSet {
    siblings: Siblings,
}

impl VersionSet {
    /// The empty set.
    pub fn new() -> Self {
        VersionSet::default()
    }

    /// The siblings, in dot order.
    #[inline]
    pub fn versions(&self) -> &[Version] {
        self.siblings.as_slice()
    }

    /// Number of siblings.
    #[inline]
    pub fn len(&self) -> usize {
        self.versions().len()
    }

    /// Whether the set holds no version.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.versions().is_empty()
    }

    /// The merge of every sibling's clock: what a `get` returns for the client to send back with its
    /// next put.
    pub fn context(&self) -> VectorClock {
        let mut versions = self.versions().iter();
        let Some(first) = versions.next() else {
            return VectorClock::new();
        };
        let mut ctx = first.clock();
        for v in versions {
            ctx.merge(&v.clock());
        }
        ctx
    }

    /// One more than the highest counter of `node` in any sibling's clock: the counter of the next
    /// dot `node` hands out as a coordinator.
    pub fn next_counter(&self, node: impl Into<Actor>) -> u64 {
        let node = node.into();
        self.versions()
            .iter()
            .map(|v| v.clock_counter(node))
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// Coordinator side of a put: stores a new version of `value` that supersedes exactly the
    /// siblings `context` covers, and returns it.
    ///
    /// Its dot is `(coordinator, next_counter(coordinator))`; its context is the client's (an entry
    /// of `coordinator` at or above the new counter, which no real read can have returned, clamped
    /// below it), pruned to `prune_threshold` entries counting the dot (0: no pruning).
    /// Replicate the resulting set ([`VersionSet::merge`] at the replicas), not this version alone:
    /// see the module documentation.
    pub fn write(
        &mut self,
        coordinator: impl Into<Actor>,
        context: &VectorClock,
        value: Value,
        now: Time,
        prune_threshold: usize,
    ) -> Version {
        self.put(WriteStamp {
            prune_threshold,
            ..WriteStamp::new(coordinator.into(), context, value, now)
        })
    }

    /// [`VersionSet::write`] with the dot's counter also above `floor`: the highest counter the
    /// coordinator has ever issued, for any key. A node passes it so its counters never go back,
    /// even when pruning has dropped its entry from every clock of this key; a reused dot could
    /// otherwise be covered by an old context and the new write lost.
    pub fn write_after(
        &mut self,
        coordinator: impl Into<Actor>,
        context: &VectorClock,
        value: Value,
        now: Time,
        prune_threshold: usize,
        floor: u64,
    ) -> Version {
        self.put(WriteStamp {
            prune_threshold,
            floor,
            ..WriteStamp::new(coordinator.into(), context, value, now)
        })
    }

    /// A delete: [`VersionSet::write`] of a tombstone with an empty value.
    pub fn delete(
        &mut self,
        coordinator: impl Into<Actor>,
        context: &VectorClock,
        now: Time,
        prune_threshold: usize,
    ) -> Version {
        self.put(WriteStamp {
            tombstone: true,
            prune_threshold,
            ..WriteStamp::new(coordinator.into(), context, Value::default(), now)
        })
    }

    /// The coordinator's write under `mode`: [`VersionSet::put`] with vector clocks,
    /// [`VersionSet::write_lww`] (the stamp's context, pruning and floor unused) with
    /// last-write-wins.
    pub fn write_in(&mut self, mode: ConflictMode, stamp: WriteStamp<'_>) -> Version {
        match mode {
            ConflictMode::VectorClock => self.put(stamp),
            ConflictMode::LastWriteWins => {
                self.write_lww(stamp.coordinator, stamp.value, stamp.now)
            }
        }
    }

    /// Stores the version `stamp` describes and returns it (see [`VersionSet::write`]).
    pub fn put(&mut self, stamp: WriteStamp<'_>) -> Version {
        let WriteStamp {
            coordinator,
            context,
            value,
            tombstone,
            now,
            prune_threshold,
            floor,
        } = stamp;
        // The counter comes from what this set and the coordinator know, never from the client's
        // context: a context is only a claim, and one naming `[Sx, u64::MAX]` must not be able to
        // push Sx's counters to their end (every later write would reuse the last dot).
        let counter = self.next_counter(coordinator).max(floor.saturating_add(1));
        let mut context = context.clone();
        // A context cannot have seen this write or a later one of the same actor: an entry that
        // claims so names dots that were never issued, and would make the version cover itself.
        if context.counter(coordinator) >= counter {
            context.set(coordinator, counter - 1, now);
        }
        // The dot is stamped `now`, the newest entry of the clock, and is never the one pruned.
        context.prune_keeping(prune_threshold, Some(coordinator));
        let v = Version {
            context,
            dot: Dot {
                actor: coordinator,
                counter,
            },
            value,
            tombstone,
            written_at: now,
        };
        // No sibling covers `v`: its counter is above every counter of `coordinator` here.
        self.insert(v.clone());
        v
    }

    /// Replica side: merges one version. Returns false (and changes nothing) when a sibling already
    /// covers it; otherwise drops the siblings it covers, stores it and returns true.
    pub fn insert(&mut self, v: Version) -> bool {
        if self.versions().iter().any(|s| s.covers(&v)) {
            return false;
        }
        self.siblings.supersede(v);
        true
    }

    /// Inserts every version of `other`; returns whether this set changed.
    pub fn merge(&mut self, other: &VersionSet) -> bool {
        let mut changed = false;
        for v in other.versions() {
            changed |= self.insert(v.clone());
        }
        changed
    }

    /// Merges `other` under `mode`: [`VersionSet::merge`] with vector clocks, one
    /// [`VersionSet::insert_lww`] per version with last-write-wins. Returns whether this set changed.
    pub fn merge_in(&mut self, mode: ConflictMode, other: &VersionSet) -> bool {
        match mode {
            ConflictMode::VectorClock => self.merge(other),
            ConflictMode::LastWriteWins => {
                let mut changed = false;
                for v in other.versions() {
                    changed |= self.insert_lww(v.clone());
                }
                changed
            }
        }
    }

    /// Last-write-wins mode: keeps the single version with the greatest
    /// `(written_at, dot.node, dot.counter)`. Returns whether `v` is now the stored version and was
    /// not already.
    pub fn insert_lww(&mut self, v: Version) -> bool {
        let best = self
            .versions()
            .iter()
            .max_by(|a, b| lww_order(a, b))
            .cloned();
        match best {
            Some(b) if lww_order(&v, &b) != Ordering::Greater => {
                if self.len() > 1 {
                    self.siblings = Siblings::One(b);
                }
                false
            }
            _ => {
                self.siblings = Siblings::One(v);
                true
            }
        }
    }

    /// Coordinator side of a put in last-write-wins mode: a version with an empty context and the
    /// coordinator's next dot, stored with [`VersionSet::insert_lww`] and returned.
    pub fn write_lww(&mut self, coordinator: impl Into<Actor>, value: Value, now: Time) -> Version {
        let coordinator = coordinator.into();
        let v = Version {
            context: VectorClock::new(),
            dot: Dot {
                actor: coordinator,
                counter: self.next_counter(coordinator),
            },
            value,
            tombstone: false,
            written_at: now,
        };
        self.insert_lww(v.clone());
        v
    }

    /// Bytes of the set's encoding (`codec.rs`), counted without encoding.
    pub fn encoded_len(&self) -> usize {
        crate::codec::counted(|c| crate::codec::put_version_set(c, self))
    }
}

/// A version set is what a node's store holds, in the encoding of `codec.rs`.
impl crate::storage::Record for VersionSet {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_version_set(self, out);
    }
    fn decode(bytes: &[u8]) -> Option<Self> {
        crate::codec::decode_version_set(bytes)
    }
}

impl PartialEq for VersionSet {
    fn eq(&self, other: &Self) -> bool {
        self.versions() == other.versions()
    }
}

impl Eq for VersionSet {}

impl std::hash::Hash for VersionSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.versions().hash(state);
    }
}

impl fmt::Debug for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.versions()).finish()
    }
}

impl Serialize for VersionSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.versions().serialize(serializer)
    }
}

/// Deserializing inserts each version, so the result keeps the set's invariants whatever the input.
impl<'de> Deserialize<'de> for VersionSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut set = VersionSet::new();
        for v in Vec::<Version>::deserialize(deserializer)? {
            set.insert(v);
        }
        Ok(set)
    }
}
