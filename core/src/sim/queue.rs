//! The simulator's event queue: a binary heap of small `(time, seq, slot)` entries over a slab of
//! events. Events never move while queued (a message can be hundreds of bytes), only the 24-byte
//! entries do; ties in time break on the ever-increasing `seq`.

use crate::types::Time;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    at: Time,
    seq: u64,
    slot: u32,
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// A deterministic priority queue of events ordered by `(time, insertion order)`.
#[derive(Clone, Debug)]
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Reverse<Entry>>,
    slots: Vec<Option<T>>,
    free: Vec<u32>,
    seq: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }

    pub(crate) fn push(&mut self, at: Time, ev: T) {
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(ev);
                s
            }
            None => {
                self.slots.push(Some(ev));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            slot,
        }));
    }

    pub(crate) fn pop(&mut self) -> Option<(Time, T)> {
        let Reverse(e) = self.heap.pop()?;
        let ev = self.slots[e.slot as usize].take()?;
        self.free.push(e.slot);
        Some((e.at, ev))
    }

    pub(crate) fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Every queued event, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Time(5), "c");
        q.push(Time(1), "a");
        q.push(Time(5), "d");
        q.push(Time(1), "b");
        let got: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            got,
            vec![
                (Time(1), "a"),
                (Time(1), "b"),
                (Time(5), "c"),
                (Time(5), "d")
            ]
        );
        q.push(Time(2), "e");
        assert_eq!(q.iter().count(), 1, "slots are reused");
    }
}
