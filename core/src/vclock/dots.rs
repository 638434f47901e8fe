//! The dot that names one write, and the version it names.

use super::clock::{ClockEntry, VectorClock};
use crate::types::{Actor, Time, Value};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

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
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version {
    /// The clock the client sent with its put (pruned by the coordinator).
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
    pub(super) fn clock_counter(&self, node: Actor) -> u64 {
        if self.dot.actor == node {
            self.dot.counter
        } else {
            self.context.counter(node)
        }
    }
}

/// The order of siblings in a set: by dot, then by every other field, so that it is total and every
/// replica lists the same siblings in the same order.
pub(super) fn sibling_order(a: &Version, b: &Version) -> Ordering {
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
pub(super) fn lww_order(a: &Version, b: &Version) -> Ordering {
    (a.written_at, a.dot.actor, a.dot.counter)
        .cmp(&(b.written_at, b.dot.actor, b.dot.counter))
        .then_with(|| sibling_order(a, b))
}
