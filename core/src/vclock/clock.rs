//! A vector clock: `[actor, counter]` pairs sorted by actor, each stamped with when it advanced.

use super::entries::Entries;
use crate::types::{Actor, NodeId, Time};
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
    /// When the entry last advanced; pruning drops the entries that advanced longest ago.
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

    /// Pruning: while the clock is longer than `threshold`, drops the entry that advanced longest ago
    /// (ties: the lower node id first). Returns how many entries were dropped. 0 turns pruning off.
    pub fn prune(&mut self, threshold: usize) -> usize {
        self.prune_keeping(threshold, None)
    }

    /// Prunes as [`VectorClock::prune`] would prune this clock with `keep`'s entry applied, without
    /// ever dropping that entry: a write's own dot is its newest entry and must survive.
    pub(super) fn prune_keeping(&mut self, threshold: usize, keep: Option<Actor>) -> usize {
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
