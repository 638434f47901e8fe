//! The storage of a clock's entries: inline up to a few, on the heap beyond.

use super::clock::ClockEntry;
use crate::types::{Actor, NodeId, Time};

/// Entries a clock holds without a heap allocation. Clocks rarely outgrow the replicas of a key
/// (n = 3) plus one fallback coordinator, and a clone of an inline clock is a plain copy.
pub(super) const INLINE: usize = 4;

const VACANT: ClockEntry = ClockEntry {
    actor: Actor::new(NodeId(0), 0),
    counter: 0,
    updated: Time::ZERO,
};

/// Sorted clock entries, inline up to [`INLINE`], on the heap beyond.
#[derive(Clone)]
pub(super) enum Entries {
    Inline { len: u8, buf: [ClockEntry; INLINE] },
    Heap(Vec<ClockEntry>),
}

impl Entries {
    pub(super) const fn new() -> Self {
        Entries::Inline {
            len: 0,
            buf: [VACANT; INLINE],
        }
    }

    #[inline]
    pub(super) fn as_slice(&self) -> &[ClockEntry] {
        match self {
            Entries::Inline { len, buf } => &buf[..usize::from(*len)],
            Entries::Heap(v) => v,
        }
    }

    #[inline]
    pub(super) fn as_mut_slice(&mut self) -> &mut [ClockEntry] {
        match self {
            Entries::Inline { len, buf } => &mut buf[..usize::from(*len)],
            Entries::Heap(v) => v,
        }
    }

    pub(super) fn insert(&mut self, index: usize, entry: ClockEntry) {
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
    pub(super) fn grow_to(&mut self, new_len: usize) {
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

    pub(super) fn remove(&mut self, index: usize) {
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
