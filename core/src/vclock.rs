//! Vector clocks (seed §2) and the versions of a key they order.
//!
//! A [`VectorClock`] is a list of `[node, counter]` pairs, sorted by node. Clock `a` happened before
//! clock `b` when every counter of `a` is at most the same node's counter in `b` and the clocks differ.
//!
//! Versions are *dotted* ([`Version`]): each carries the context the client read (a clock) and one
//! dot, the `(coordinator, counter)` pair that names this very write. A write supersedes exactly the
//! versions whose dots its context covers. Plain Dynamo clocks cannot do that: a blind write through
//! `Sx` next to a stored `[Sx,2]` would become either `[Sx,1]` (dominated, silently dropped) or
//! `[Sx,3]` (silently overwriting a version its client never saw). With a dot it becomes the version
//! `(context [], dot [Sx,3])`, which covers nothing, so both are kept as siblings.
//!
//! Two rules keep a [`VersionSet`] exact; both are about how sets travel between replicas:
//!
//! - **Replicate sets, not single versions.** A version's [`Version::clock`] claims every dot of its
//!   coordinator up to its own, including concurrent siblings written through the same coordinator
//!   that it does not descend. That claim is true of the coordinator's *set*, which holds those
//!   siblings (or versions that supersede them), so a replica that merges whole sets
//!   ([`VersionSet::merge`]) never hands out a context that covers a version it has not seen. A
//!   replica that receives only the newest version can, and a later write through it then supersedes
//!   a sibling its client never read. The unit test `single_version_replication_can_lose_a_sibling`
//!   shows the difference.
//! - **Counters never go back.** The next dot of a coordinator is one more than the highest counter
//!   of that coordinator its set (or the client's context) knows. A node whose storage is wiped and
//!   that keeps its id can hand out a dot again; two different versions with one dot are then kept
//!   as siblings (they are not identical), never merged into one.
//!
//! Pruning (seed §2b) trades exactness for size: once a context loses the entry of an ancestor's
//! coordinator it no longer covers that ancestor, and a replica that still holds the ancestor keeps
//! it as a false sibling next to its descendant. Siblings are never lost that way, only kept too long.

use crate::config::ConflictMode;
use crate::types::{Actor, NodeId, Time, Value};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};

/// One `[node, counter]` pair of a vector clock, with the time it last advanced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockEntry {
    /// The actor (a node in one of its epochs) whose writes this entry counts.
    pub actor: Actor,
    /// The node's counter. A clock never stores a zero counter: absent means zero.
    pub counter: u64,
    /// When the entry last advanced; pruning (seed §2b) drops the entries that advanced longest ago.
    pub updated: Time,
}

impl ClockEntry {
    /// Folds another entry of the same node into this one: the higher counter wins with its time,
    /// equal counters keep the later time. Idempotent, so a partly merged clock can merge again.
    #[inline]
    fn absorb(&mut self, counter: u64, updated: Time) {
        // Selects rather than branches: merges run on every read and write of the simulator.
        self.updated = if counter > self.counter {
            updated
        } else if counter == self.counter {
            self.updated.max(updated)
        } else {
            self.updated
        };
        self.counter = self.counter.max(counter);
    }
}

/// Entries a clock holds without a heap allocation. Clocks rarely outgrow the replicas of a key
/// (n = 3) plus one fallback coordinator, and a clone of an inline clock is a plain copy.
const INLINE: usize = 4;

const VACANT: ClockEntry = ClockEntry {
    actor: Actor::new(NodeId(0), 0),
    counter: 0,
    updated: Time::ZERO,
};

/// Sorted clock entries, inline up to [`INLINE`], on the heap beyond.
#[derive(Clone)]
enum Entries {
    Inline { len: u8, buf: [ClockEntry; INLINE] },
    Heap(Vec<ClockEntry>),
}

impl Entries {
    const fn new() -> Self {
        Entries::Inline {
            len: 0,
            buf: [VACANT; INLINE],
        }
    }

    #[inline]
    fn as_slice(&self) -> &[ClockEntry] {
        match self {
            Entries::Inline { len, buf } => &buf[..usize::from(*len)],
            Entries::Heap(v) => v,
        }
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [ClockEntry] {
        match self {
            Entries::Inline { len, buf } => &mut buf[..usize::from(*len)],
            Entries::Heap(v) => v,
        }
    }

    fn insert(&mut self, index: usize, entry: ClockEntry) {
        match self {
            Entries::Inline { len, buf } => {
                let n = usize::from(*len);
                if n < INLINE {
                    buf.copy_within(index..n, index + 1);
                    buf[index] = entry;
                    *len += 1;
                } else {
                    let mut v = Vec::with_capacity(INLINE * 2);
                    v.extend_from_slice(&buf[..index]);
                    v.push(entry);
                    v.extend_from_slice(&buf[index..n]);
                    *self = Entries::Heap(v);
                }
            }
            Entries::Heap(v) => v.insert(index, entry),
        }
    }

    /// Grows to `new_len` entries, spilling to the heap if need be. The new slots hold stale
    /// entries that the caller overwrites.
    fn grow_to(&mut self, new_len: usize) {
        match self {
            Entries::Inline { len, .. } if new_len <= INLINE => *len = new_len as u8,
            Entries::Inline { len, buf } => {
                let mut v = Vec::with_capacity(new_len.max(INLINE * 2));
                v.extend_from_slice(&buf[..usize::from(*len)]);
                v.resize(new_len, VACANT);
                *self = Entries::Heap(v);
            }
            Entries::Heap(v) => v.resize(new_len, VACANT),
        }
    }

    fn remove(&mut self, index: usize) {
        match self {
            Entries::Inline { len, buf } => {
                let n = usize::from(*len);
                buf.copy_within(index + 1..n, index);
                *len -= 1;
            }
            Entries::Heap(v) => {
                v.remove(index);
            }
        }
    }
}

/// A vector clock: `[node, counter]` pairs sorted by node id, each with the time it last advanced.
///
/// `==` compares entries including their times; [`VectorClock::compare`] is the causal order, which
/// looks at counters only.
#[derive(Clone)]
pub struct VectorClock {
    entries: Entries,
}

/// How two clocks are ordered in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Causality {
    /// The first clock happened before the second: the second descends from it.
    Before,
    /// The first clock happened after the second: it descends from the second.
    After,
    /// Same counters.
    Equal,
    /// Neither descends from the other: the writes conflict.
    Concurrent,
}

impl Causality {
    /// The answer with the operands swapped.
    #[inline]
    pub fn reverse(self) -> Causality {
        match self {
            Causality::Before => Causality::After,
            Causality::After => Causality::Before,
            other => other,
        }
    }
}

impl VectorClock {
    /// The empty clock.
    #[inline]
    pub const fn new() -> Self {
        VectorClock {
            entries: Entries::new(),
        }
    }

    /// The entries, sorted by node id, none with a zero counter.
    #[inline]
    pub fn entries(&self) -> &[ClockEntry] {
        self.entries.as_slice()
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether the clock has no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    #[inline]
    fn find(&self, node: Actor) -> Result<usize, usize> {
        self.entries().binary_search_by(|e| e.actor.cmp(&node))
    }

    /// The counter of `node`, 0 if the clock has no entry for it.
    #[inline]
    pub fn counter(&self, node: impl Into<Actor>) -> u64 {
        match self.find(node.into()) {
            Ok(i) => self.entries()[i].counter,
            Err(_) => 0,
        }
    }

    /// Advances `node`'s counter by one, stamps the entry with `now` and returns the new counter.
    pub fn increment(&mut self, node: impl Into<Actor>, now: Time) -> u64 {
        let node = node.into();
        match self.find(node) {
            Ok(i) => {
                let e = &mut self.entries.as_mut_slice()[i];
                e.counter = e.counter.saturating_add(1);
                e.updated = now;
                e.counter
            }
            Err(i) => {
                self.entries.insert(
                    i,
                    ClockEntry {
                        actor: node,
                        counter: 1,
                        updated: now,
                    },
                );
                1
            }
        }
    }

    /// Sets `node`'s counter (applying a dot) and stamps the entry with `now`. A zero counter removes
    /// the entry, since absent means zero.
    pub fn set(&mut self, node: impl Into<Actor>, counter: u64, now: Time) {
        let node = node.into();
        match self.find(node) {
            Ok(i) if counter == 0 => self.entries.remove(i),
            Ok(i) => {
                let e = &mut self.entries.as_mut_slice()[i];
                e.counter = counter;
                e.updated = now;
            }
            Err(_) if counter == 0 => {}
            Err(i) => self.entries.insert(
                i,
                ClockEntry {
                    actor: node,
                    counter,
                    updated: now,
                },
            ),
        }
    }

    /// Pointwise maximum of the counters. Each entry keeps the time of the side with the higher
    /// counter, or the later of both times when the counters are equal.
    pub fn merge(&mut self, other: &VectorClock) {
        let theirs = other.entries();
        if theirs.is_empty() {
            return;
        }
        if self.is_empty() {
            self.entries = other.entries.clone();
            return;
        }
        // Absorb the entries of nodes both clocks name, in place, and count the others: usually
        // none, since a key's clocks name the same few coordinators.
        let mine = self.entries.as_mut_slice();
        let m = mine.len();
        if m == theirs.len() && mine.iter().zip(theirs).all(|(x, t)| x.actor == t.actor) {
            for (x, t) in mine.iter_mut().zip(theirs) {
                x.absorb(t.counter, t.updated);
            }
            return;
        }
        let (mut i, mut missing) = (0, 0);
        for t in theirs {
            while i < m && mine[i].actor < t.actor {
                i += 1;
            }
            if i < m && mine[i].actor == t.actor {
                mine[i].absorb(t.counter, t.updated);
                i += 1;
            } else {
                missing += 1;
            }
        }
        if missing == 0 {
            return;
        }
        // Make room, then merge from the back, where the write position never passes the read one.
        self.entries.grow_to(m + missing);
        let out = self.entries.as_mut_slice();
        let (mut i, mut j, mut k) = (m, theirs.len(), m + missing);
        while j > 0 {
            let t = theirs[j - 1];
            k -= 1;
            if i > 0 && out[i - 1].actor >= t.actor {
                // Absorbed above if the nodes are equal.
                if out[i - 1].actor == t.actor {
                    j -= 1;
                }
                out[k] = out[i - 1];
                i -= 1;
            } else {
                out[k] = t;
                j -= 1;
            }
        }
    }

    /// The causal order of `self` relative to `other`: `Before` means `other` descends from `self`.
    pub fn compare(&self, other: &VectorClock) -> Causality {
        let (a, b) = (self.entries(), other.entries());
        if a.len() == b.len() {
            // Usually both clocks name the same nodes: one branch-free pass decides.
            let (mut same, mut a_ahead, mut b_ahead) = (true, false, false);
            for (x, y) in a.iter().zip(b) {
                same &= x.actor == y.actor;
                a_ahead |= x.counter > y.counter;
                b_ahead |= x.counter < y.counter;
            }
            if same {
                return match (a_ahead, b_ahead) {
                    (false, false) => Causality::Equal,
                    (true, false) => Causality::After,
                    (false, true) => Causality::Before,
                    (true, true) => Causality::Concurrent,
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let (mut a_ahead, mut b_ahead) = (false, false);
        // Counters are never zero, so an entry the other side lacks puts its side ahead.
        while i < a.len() && j < b.len() {
            let (x, y) = (&a[i], &b[j]);
            match x.actor.cmp(&y.actor) {
                Ordering::Less => {
                    a_ahead = true;
                    i += 1;
                }
                Ordering::Greater => {
                    b_ahead = true;
                    j += 1;
                }
                Ordering::Equal => {
                    a_ahead |= x.counter > y.counter;
                    b_ahead |= x.counter < y.counter;
                    i += 1;
                    j += 1;
                }
            }
            if a_ahead && b_ahead {
                return Causality::Concurrent;
            }
        }
        a_ahead |= i < a.len();
        b_ahead |= j < b.len();
        match (a_ahead, b_ahead) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::After,
            (false, true) => Causality::Before,
            (true, true) => Causality::Concurrent,
        }
    }

    /// Whether `self` is at least `other` on every node (`other` happened before or equals `self`).
    pub fn descends(&self, other: &VectorClock) -> bool {
        let (a, b) = (self.entries(), other.entries());
        if b.len() > a.len() {
            return false;
        }
        if a.len() == b.len() {
            let (mut same, mut ge) = (true, true);
            for (x, y) in a.iter().zip(b) {
                same &= x.actor == y.actor;
                ge &= x.counter >= y.counter;
            }
            if same {
                return ge;
            }
        }
        let mut i = 0;
        for y in b {
            while i < a.len() && a[i].actor < y.actor {
                i += 1;
            }
            if i == a.len() || a[i].actor != y.actor || a[i].counter < y.counter {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Seed §2b: while the clock is longer than `threshold`, drops the entry that advanced longest ago
    /// (ties: the lower node id first). Returns how many entries were dropped. 0 turns pruning off.
    pub fn prune(&mut self, threshold: usize) -> usize {
        self.prune_keeping(threshold, None)
    }

    /// Prunes as [`VectorClock::prune`] would prune this clock with `keep`'s entry applied, without
    /// ever dropping that entry: a write's own dot is its newest entry and must survive.
    fn prune_keeping(&mut self, threshold: usize, keep: Option<Actor>) -> usize {
        if threshold == 0 {
            return 0;
        }
        let extra = usize::from(keep.is_some_and(|k| self.find(k).is_err()));
        let mut dropped = 0;
        while self.len() + extra > threshold {
            let oldest = self
                .entries()
                .iter()
                .enumerate()
                .filter(|(_, e)| Some(e.actor) != keep)
                // Entries are sorted by node, so the first minimum is the lower node id.
                .min_by_key(|(_, e)| e.updated)
                .map(|(i, _)| i);
            let Some(i) = oldest else { break };
            self.entries.remove(i);
            dropped += 1;
        }
        dropped
    }

    /// Folds one entry into the clock as [`VectorClock::merge`] would.
    fn absorb(&mut self, node: Actor, counter: u64, updated: Time) {
        if counter == 0 {
            return;
        }
        match self.find(node) {
            Ok(i) => self.entries.as_mut_slice()[i].absorb(counter, updated),
            Err(i) => self.entries.insert(
                i,
                ClockEntry {
                    actor: node,
                    counter,
                    updated,
                },
            ),
        }
    }

    /// The clock as `[name,counter]` pairs with the given node names, e.g. `[Sx,2][Sy,1]`; `[]` when
    /// empty.
    pub fn display_with(&self, name: impl Fn(NodeId) -> String) -> String {
        if self.is_empty() {
            return "[]".to_owned();
        }
        let mut s = String::with_capacity(8 * self.len());
        for e in self.entries() {
            // Writing to a String cannot fail.
            let _ = match e.actor.epoch {
                0 => write!(s, "[{},{}]", name(e.actor.node), e.counter),
                n => write!(s, "[{}#{n},{}]", name(e.actor.node), e.counter),
            };
        }
        s
    }
}

impl Default for VectorClock {
    fn default() -> Self {
        VectorClock::new()
    }
}

impl PartialEq for VectorClock {
    fn eq(&self, other: &Self) -> bool {
        self.entries() == other.entries()
    }
}

impl Eq for VectorClock {}

impl Hash for VectorClock {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.entries().hash(state);
    }
}

/// Builds a clock from entries in any order; entries of one node merge, zero counters vanish.
impl FromIterator<ClockEntry> for VectorClock {
    fn from_iter<I: IntoIterator<Item = ClockEntry>>(iter: I) -> Self {
        let mut clock = VectorClock::new();
        for e in iter {
            clock.absorb(e.actor, e.counter, e.updated);
        }
        clock
    }
}

impl fmt::Display for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("[]");
        }
        for e in self.entries() {
            write!(f, "[{},{}]", e.actor, e.counter)?;
        }
        Ok(())
    }
}

impl fmt::Debug for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VectorClock(")?;
        for e in self.entries() {
            write!(f, "[{},{}@{}]", e.actor, e.counter, e.updated)?;
        }
        f.write_str(")")
    }
}

impl Serialize for VectorClock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for VectorClock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<ClockEntry>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The name of one write: the coordinator that accepted it and that coordinator's counter for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dot {
    /// The coordinator of the write (a node in one of its epochs).
    pub actor: Actor,
    /// The coordinator's counter for this write (at least 1).
    pub counter: u64,
}

impl fmt::Display for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{},{}]", self.actor, self.counter)
    }
}

/// One version of a key: a value, the context its writer had read, and the dot naming the write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The clock the client sent with its put (pruned by the coordinator, seed §2b).
    pub context: VectorClock,
    /// The write itself.
    pub dot: Dot,
    /// The value written (empty for a tombstone).
    pub value: Value,
    /// Whether this version records a delete.
    #[serde(default)]
    pub tombstone: bool,
    /// The coordinator's time when it accepted the write; last-write-wins mode orders by it.
    pub written_at: Time,
}

impl Version {
    /// The version's clock as users see it: the context with the dot applied (stamped `written_at`).
    pub fn clock(&self) -> VectorClock {
        let mut clock = self.context.clone();
        clock.set(self.dot.actor, self.dot.counter, self.written_at);
        clock
    }

    /// Whether this version supersedes `other`: its context covers `other`'s dot, or the two are the
    /// same version. Two versions sharing a dot but differing otherwise (a coordinator that reused a
    /// counter) are different writes, and neither covers the other.
    #[inline]
    pub fn covers(&self, other: &Version) -> bool {
        other.dot.counter <= self.context.counter(other.dot.actor)
            || (self.dot == other.dot && self == other)
    }

    /// `node`'s counter in [`Version::clock`], without building the clock.
    #[inline]
    fn clock_counter(&self, node: Actor) -> u64 {
        if self.dot.actor == node {
            self.dot.counter
        } else {
            self.context.counter(node)
        }
    }
}

/// The order of siblings in a set: by dot, then by every other field, so that it is total and every
/// replica lists the same siblings in the same order.
fn sibling_order(a: &Version, b: &Version) -> Ordering {
    a.dot
        .cmp(&b.dot)
        .then(a.written_at.cmp(&b.written_at))
        .then(a.tombstone.cmp(&b.tombstone))
        .then_with(|| a.value.as_bytes().cmp(b.value.as_bytes()))
        .then_with(|| {
            let key = |e: &ClockEntry| (e.actor, e.counter, e.updated);
            let (x, y) = (a.context.entries(), b.context.entries());
            x.iter().map(key).cmp(y.iter().map(key))
        })
}

/// Last-write-wins order: `(written_at, dot.node, dot.counter)`, then [`sibling_order`] so that it is
/// total.
fn lww_order(a: &Version, b: &Version) -> Ordering {
    (a.written_at, a.dot.actor, a.dot.counter)
        .cmp(&(b.written_at, b.dot.actor, b.dot.counter))
        .then_with(|| sibling_order(a, b))
}

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

    /// Approximate stored size for accounting: the values' bytes plus 16 bytes per clock entry (the
    /// context's entries and the dot).
    pub fn encoded_len(&self) -> usize {
        self.versions()
            .iter()
            .map(|v| v.value.len() + 16 * (v.context.len() + 1))
            .sum()
    }
}

/// A version set is what a node's store holds, in the encoding of [`crate::codec`].
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

#[cfg(test)]
mod tests {
    use super::*;

    const SX: NodeId = NodeId(0);
    const SY: NodeId = NodeId(1);
    const SZ: NodeId = NodeId(2);

    fn name(n: NodeId) -> String {
        ["Sx", "Sy", "Sz"]
            .get(n.index())
            .map_or_else(|| n.to_string(), |s| (*s).to_owned())
    }

    fn show(c: &VectorClock) -> String {
        c.display_with(name)
    }

    fn clock(entries: &[(u16, u64, u64)]) -> VectorClock {
        entries
            .iter()
            .map(|&(n, c, t)| ClockEntry {
                actor: NodeId(n).into(),
                counter: c,
                updated: Time(t),
            })
            .collect()
    }

    fn values(set: &VersionSet) -> Vec<String> {
        set.versions().iter().map(|v| v.value.to_text()).collect()
    }

    #[test]
    fn counters_increment_set_and_display() {
        let mut c = VectorClock::new();
        assert_eq!(c.to_string(), "[]");
        assert_eq!(show(&c), "[]");
        assert_eq!(c.increment(SY, Time(5)), 1);
        assert_eq!(c.increment(SX, Time(6)), 1);
        assert_eq!(c.increment(SX, Time(7)), 2);
        assert_eq!(c.to_string(), "[S0,2][S1,1]");
        assert_eq!(show(&c), "[Sx,2][Sy,1]");
        assert_eq!(c.counter(SX), 2);
        assert_eq!(c.counter(SZ), 0);
        assert_eq!(c.entries()[0].updated, Time(7));
        c.set(SZ, 4, Time(9));
        assert_eq!(show(&c), "[Sx,2][Sy,1][Sz,4]");
        c.set(SY, 0, Time(9));
        assert_eq!(show(&c), "[Sx,2][Sz,4]");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn clocks_spill_to_the_heap_and_stay_sorted() {
        let mut c = VectorClock::new();
        for n in (0..20u16).rev() {
            c.increment(NodeId(n), Time(u64::from(n)));
        }
        assert_eq!(c.len(), 20);
        assert!(c.entries().windows(2).all(|w| w[0].actor < w[1].actor));
        let small = clock(&[(3, 1, 0), (7, 1, 0)]);
        let mut m = small.clone();
        m.merge(&c);
        assert_eq!(m, c);
        assert_eq!(c.prune(4), 16);
        assert_eq!(c.to_string(), "[S16,1][S17,1][S18,1][S19,1]");
    }

    #[test]
    fn compare_and_descends() {
        let a = clock(&[(0, 2, 0)]);
        let b = clock(&[(0, 2, 0), (1, 1, 0)]);
        let c = clock(&[(0, 2, 0), (2, 1, 0)]);
        assert_eq!(a.compare(&a), Causality::Equal);
        assert_eq!(a.compare(&b), Causality::Before);
        assert_eq!(b.compare(&a), Causality::After);
        assert_eq!(b.compare(&c), Causality::Concurrent);
        assert_eq!(VectorClock::new().compare(&a), Causality::Before);
        assert!(b.descends(&a) && !a.descends(&b) && !b.descends(&c));
        assert!(a.descends(&VectorClock::new()));
        // Times do not take part in causality.
        assert_eq!(a.compare(&clock(&[(0, 2, 99)])), Causality::Equal);
    }

    #[test]
    fn merge_takes_max_counters_and_the_winners_times() {
        let mut a = clock(&[(0, 2, 10), (1, 1, 30)]);
        let b = clock(&[(0, 3, 20), (1, 1, 40), (2, 5, 1)]);
        a.merge(&b);
        assert_eq!(a, clock(&[(0, 3, 20), (1, 1, 40), (2, 5, 1)]));
        let mut c = clock(&[(0, 9, 5), (1, 1, 50)]);
        c.merge(&b);
        assert_eq!(c, clock(&[(0, 9, 5), (1, 1, 50), (2, 5, 1)]));
        assert_eq!(c.compare(&b), Causality::After);
    }

    #[test]
    fn prune_drops_oldest_and_breaks_ties_by_lower_node() {
        let mut c = clock(&[(0, 1, 5), (1, 1, 5), (2, 1, 5)]);
        assert_eq!(c.prune(2), 1);
        assert_eq!(c.to_string(), "[S1,1][S2,1]");
        let mut c = clock(&[(0, 1, 9), (1, 1, 5), (2, 1, 5), (3, 1, 7)]);
        assert_eq!(c.prune(0), 0, "threshold 0 turns pruning off");
        assert_eq!(c.prune(4), 0);
        assert_eq!(c.prune(1), 3);
        assert_eq!(c.to_string(), "[S0,1]");
    }

    /// Seed §2a, step by step.
    #[test]
    fn seed_example_d1_to_d5() {
        let mut at_x = VersionSet::new();
        let d1 = at_x.write(SX, &VectorClock::new(), "D1".into(), Time(1), 0);
        assert_eq!(show(&d1.clock()), "[Sx,1]");
        assert_eq!(show(&at_x.context()), "[Sx,1]");

        let d2 = at_x.write(SX, &at_x.context(), "D2".into(), Time(2), 0);
        assert_eq!(show(&d2.clock()), "[Sx,2]");
        assert_eq!(values(&at_x), ["D2"], "D2 replaced D1");

        let mut at_y = at_x.clone();
        let mut at_z = at_x.clone();
        let ctx = at_x.context();
        let d3 = at_y.write(SY, &ctx, "D3".into(), Time(3), 0);
        let d4 = at_z.write(SZ, &ctx, "D4".into(), Time(3), 0);
        assert_eq!(show(&d3.clock()), "[Sx,2][Sy,1]");
        assert_eq!(show(&d4.clock()), "[Sx,2][Sz,1]");
        assert_eq!(d3.clock().compare(&d4.clock()), Causality::Concurrent);

        // A replica that receives both keeps both: the conflict a read discovers.
        assert!(at_x.insert(d3.clone()));
        assert!(at_x.insert(d4.clone()));
        assert_eq!(values(&at_x), ["D3", "D4"]);
        let ctx = at_x.context();
        assert_eq!(show(&ctx), "[Sx,2][Sy,1][Sz,1]");

        // The client reconciles and writes through Sx.
        let mut holds_d3_d4 = at_x.clone();
        let d5 = at_x.write(SX, &ctx, "D5".into(), Time(4), 0);
        assert_eq!(show(&d5.clock()), "[Sx,3][Sy,1][Sz,1]");
        assert_eq!(values(&at_x), ["D5"]);

        assert!(holds_d3_d4.insert(d5.clone()));
        assert_eq!(values(&holds_d3_d4), ["D5"]);
        // Late copies of the ancestors change nothing.
        assert!(!holds_d3_d4.insert(d3));
        assert!(!holds_d3_d4.insert(d4));
        assert!(!holds_d3_d4.insert(d5));
        assert_eq!(holds_d3_d4, at_x);
    }

    #[test]
    fn blind_write_becomes_a_sibling_not_an_overwrite() {
        let mut set = VersionSet::new();
        set.write(SX, &VectorClock::new(), "old1".into(), Time(1), 0);
        let ctx = set.context();
        set.write(SX, &ctx, "old2".into(), Time(2), 0);
        assert_eq!(show(&set.context()), "[Sx,2]");

        let blind = set.write(SX, &VectorClock::new(), "blind".into(), Time(3), 0);
        assert_eq!(
            blind.dot,
            Dot {
                actor: SX.into(),
                counter: 3
            }
        );
        assert_eq!(values(&set), ["old2", "blind"]);
        // Its clock reads [Sx,3], but its context covered nothing.
        assert_eq!(show(&blind.clock()), "[Sx,3]");

        // A replica that has old2 keeps both too.
        let mut replica = VersionSet::new();
        replica.insert(set.versions()[0].clone());
        assert!(replica.insert(blind));
        assert_eq!(values(&replica), ["old2", "blind"]);

        // A client that read both supersedes both.
        let ctx = set.context();
        set.write(SY, &ctx, "merged".into(), Time(4), 0);
        assert_eq!(values(&set), ["merged"]);
    }

    #[test]
    fn a_context_cannot_move_the_coordinators_counter() {
        // The context claims [S0,5] (and [S0,u64::MAX] below) but S0 issued nothing: the dot is
        // S0's own next counter, and the claim on S0's future dots is clamped away, so the new
        // version does not cover itself or S0's next write.
        let mut set = VersionSet::new();
        let v = set.write(SX, &clock(&[(0, 5, 1), (1, 2, 1)]), "v".into(), Time(2), 0);
        assert_eq!(v.dot.counter, 1);
        assert_eq!(v.context.to_string(), "[S1,2]");
        assert_eq!(set.next_counter(SX), 2);
        let wedge = clock(&[(0, u64::MAX, 1)]);
        let w = set.write(SX, &wedge, "w".into(), Time(3), 0);
        assert_eq!(w.dot.counter, 2);
        assert_eq!(w.context.counter(SX), 1, "it covers what S0 did issue");
        let next = set.write(SX, &VectorClock::new(), "x".into(), Time(4), 0);
        assert_eq!(next.dot.counter, 3);
        assert_eq!(
            values(&set),
            ["w", "x"],
            "the write after the wedge is kept"
        );
        // With the node's floor (the highest counter it issued for any key) the dot goes above it.
        let mut other = VersionSet::new();
        let v = other.write_after(SX, &VectorClock::new(), "y".into(), Time(5), 0, 41);
        assert_eq!(v.dot.counter, 42);
        assert_eq!(other.next_counter(SY), 1);
    }

    /// Seed §2b: pruning makes the descendant relationship undecidable; the cost is a false sibling.
    #[test]
    fn pruned_context_leaves_a_false_sibling() {
        let chain = |threshold: usize| {
            let mut at_x = VersionSet::new();
            let v1 = at_x.write(SX, &VectorClock::new(), "v1".into(), Time(10), threshold);
            let mut at_y = at_x.clone();
            let v2 = at_y.write(SY, &v1.clock(), "v2".into(), Time(20), threshold);
            let mut at_z = at_y.clone();
            let v3 = at_z.write(SZ, &v2.clock(), "v3".into(), Time(30), threshold);
            (v1, v2, v3)
        };

        let (v1, _, v3) = chain(0);
        assert_eq!(show(&v3.clock()), "[Sx,1][Sy,1][Sz,1]");
        let mut replica = VersionSet::new();
        replica.insert(v1);
        assert!(replica.insert(v3));
        assert_eq!(
            values(&replica),
            ["v3"],
            "unpruned: v3 supersedes its ancestor"
        );

        let (v1, v2, v3) = chain(2);
        assert_eq!(show(&v2.clock()), "[Sx,1][Sy,1]");
        assert_eq!(show(&v3.context), "[Sy,1]", "Sx advanced longest ago");
        assert_eq!(show(&v3.clock()), "[Sy,1][Sz,1]");
        assert!(v3.covers(&v2));
        assert!(!v3.covers(&v1));
        let mut replica = VersionSet::new();
        replica.insert(v1.clone());
        assert!(replica.insert(v3.clone()));
        assert_eq!(
            values(&replica),
            ["v1", "v3"],
            "pruned: v1 stays as a false sibling"
        );
        // The next read's context covers both again, so the next write cleans up.
        let ctx = replica.context();
        replica.write(SX, &ctx, "v4".into(), Time(40), 2);
        assert_eq!(values(&replica), ["v4"]);
    }

    #[test]
    fn pruning_keeps_the_writers_own_entry_on_ties() {
        // Every entry has the same time: the tie rule would pick S0 first, but S0 is the writer.
        let ctx = clock(&[(0, 1, 7), (1, 1, 7), (2, 1, 7)]);
        let mut set = VersionSet::new();
        let v = set.write_after(SX, &ctx, "v".into(), Time(7), 2, 1);
        assert_eq!(v.clock().to_string(), "[S0,2][S2,1]");
        let v = VersionSet::new().write(NodeId(3), &ctx, "w".into(), Time(7), 2);
        assert_eq!(v.clock().to_string(), "[S2,1][S3,1]");
    }

    #[test]
    fn single_version_replication_can_lose_a_sibling() {
        let (n, m, r) = (SX, SY, SZ);
        let mut at_m = VersionSet::new();
        let a = at_m.write(m, &VectorClock::new(), "a".into(), Time(1), 0);
        let mut at_n = VersionSet::new();
        at_n.insert(a.clone());
        let b = at_n.write(n, &at_n.context(), "b".into(), Time(2), 0);
        let b2 = at_n.write(n, &VectorClock::new(), "b2".into(), Time(3), 0);
        assert_eq!(values(&at_n), ["b", "b2"]);

        // Replica r receives b2 alone (b's message was lost); a client reads r and writes.
        let mut at_r = VersionSet::new();
        at_r.insert(b2.clone());
        let c = at_r
            .clone()
            .write(r, &at_r.context(), "c".into(), Time(4), 0);
        assert!(c.covers(&b), "c supersedes b, which its client never read");
        // ...and covers b but not b's ancestor a, so the outcome depends on arrival order.
        let mut one = VersionSet::new();
        let mut two = VersionSet::new();
        for v in [&a, &b, &b2, &c] {
            one.insert(v.clone());
        }
        for v in [&c, &a, &b, &b2] {
            two.insert(v.clone());
        }
        assert_ne!(one, two);

        // Whole-set replication: r's context names a and b, so the client's write is exact.
        let mut at_r = VersionSet::new();
        at_r.merge(&at_n);
        assert_eq!(show(&at_r.context()), "[Sx,2][Sy,1]");
        let c = at_r.write(r, &at_r.context(), "c".into(), Time(4), 0);
        assert!(c.covers(&a) && c.covers(&b) && c.covers(&b2));
    }

    #[test]
    fn reused_dot_is_a_sibling_not_a_duplicate() {
        let mut before_wipe = VersionSet::new();
        let old = before_wipe.write(SX, &VectorClock::new(), "old".into(), Time(1), 0);
        let mut wiped = VersionSet::new();
        let new = wiped.write(SX, &VectorClock::new(), "new".into(), Time(9), 0);
        assert_eq!(old.dot, new.dot);
        assert!(!old.covers(&new) && !new.covers(&old));
        assert!(old.covers(&old.clone()));
        let mut one = before_wipe.clone();
        let mut two = wiped.clone();
        assert!(one.merge(&wiped));
        assert!(two.merge(&before_wipe));
        assert_eq!(one, two);
        assert_eq!(values(&one), ["old", "new"]);
    }

    #[test]
    fn delete_writes_a_tombstone() {
        let mut set = VersionSet::new();
        set.write(SX, &VectorClock::new(), "v".into(), Time(1), 0);
        let t = set.delete(SY, &set.context(), Time(2), 0);
        assert!(t.tombstone && t.value.is_empty());
        assert_eq!(set.versions(), [t]);
    }

    #[test]
    fn last_write_wins_keeps_one_version() {
        let mut set = VersionSet::new();
        let a = set.write_lww(SY, "a".into(), Time(5));
        assert_eq!(
            a.dot,
            Dot {
                actor: SY.into(),
                counter: 1
            }
        );
        let b = set.write_lww(SX, "b".into(), Time(5));
        assert_eq!(values(&set), ["a"], "equal times: the higher node id wins");
        assert!(!set.insert_lww(b.clone()));
        let c = set.write_lww(SX, "c".into(), Time(6));
        assert_eq!(c.dot.counter, 1, "b lost, so this set never stored its dot");
        assert_eq!(values(&set), ["c"]);
        assert!(!set.insert_lww(a.clone()));
        assert!(!set.insert_lww(c.clone()));
        // Order of arrival does not matter.
        let mut other = VersionSet::new();
        for v in [c, b, a] {
            other.insert_lww(v);
        }
        assert_eq!(other, set);
        // A set holding siblings (e.g. after a mode change) collapses to one.
        let mut siblings = VersionSet::new();
        siblings.write(SX, &VectorClock::new(), "x".into(), Time(1), 0);
        siblings.write(SY, &VectorClock::new(), "y".into(), Time(2), 0);
        assert_eq!(siblings.len(), 2);
        assert!(!siblings.insert_lww(siblings.versions()[0].clone()));
        assert_eq!(values(&siblings), ["y"]);
    }

    #[test]
    fn encoded_len_counts_values_and_entries() {
        let mut set = VersionSet::new();
        assert_eq!(set.encoded_len(), 0);
        set.write(SX, &VectorClock::new(), "abc".into(), Time(1), 0);
        assert_eq!(set.encoded_len(), 3 + 16);
        set.write(SY, &clock(&[(0, 1, 1)]), "de".into(), Time(2), 0);
        assert_eq!(set.encoded_len(), 2 + 32);
    }

    #[test]
    fn serde_round_trip_and_normalisation() {
        let mut set = VersionSet::new();
        set.write(SX, &VectorClock::new(), "a".into(), Time(1), 0);
        set.write(SY, &clock(&[(2, 3, 1)]), "b".into(), Time(2), 0);
        let json = serde_json::to_string(&set).unwrap();
        let back: VersionSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);

        // Unsorted, duplicated and zero entries are normalised.
        let json = r#"[{"actor":{"node":2,"epoch":0},"counter":1,"updated":4},
                       {"actor":{"node":0,"epoch":0},"counter":0,"updated":1},
                       {"actor":{"node":2,"epoch":0},"counter":3,"updated":2}]"#;
        let c: VectorClock = serde_json::from_str(json).unwrap();
        assert_eq!(c, clock(&[(2, 3, 2)]));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"[{"actor":{"node":2,"epoch":0},"counter":3,"updated":2}]"#
        );
    }

    #[test]
    fn versions_stay_small() {
        // A replication message carries a version; an inline clock keeps its clone allocation-free.
        assert!(std::mem::size_of::<VectorClock>() <= 104);
        assert!(std::mem::size_of::<Version>() <= 160);
        assert!(std::mem::size_of::<VersionSet>() <= 168);
    }
}
