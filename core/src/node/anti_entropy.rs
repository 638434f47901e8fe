//! Merkle anti-entropy (docs/protocol.md §Anti-entropy): one tree per range the node replicates,
//! kept up to date with the keys its replica changed, and both phases of a comparison with another
//! replica: the tree descent ([`MerkleTree::answer`]) and the record phase that follows it.
//!
//! The record phase, stateless like the descent (a lost message ends the exchange; the next
//! periodic one starts over):
//!
//! 1. The side that found the differences (Y) sends its records of the keys the other side (X)
//!    lacks or holds in another version, and names the keys it lacks itself
//!    ([`MerkleWire::Records`] with `reply` set).
//! 2. X merges each record, then answers with its own record of every such key whose merged
//!    versions differ from what it received (Y's were older or concurrent), and of the keys Y
//!    asked for (`reply` unset).
//! 3. Y merges. Both trees now agree on those buckets.

use super::replica::Replica;
use super::{NodeEvent, Outbox};
use crate::merkle::{MerkleStep, MerkleTree};
use crate::message::{MerkleWire, Msg};
use crate::ring::{RangeId, Ring};
use crate::types::{Key, NodeId};
use crate::vclock::VersionSet;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A key's new record digest for its Merkle leaf; `None` when the key is no longer stored.
#[derive(Clone, Debug)]
struct LeafChange {
    key: Key,
    digest: Option<[u8; 32]>,
}

#[derive(Clone, Debug)]
pub(super) struct AntiEntropy {
    ring: Arc<Ring>,
    buckets: u32,
    /// Ranges (by end token) this node replicates, and their Merkle trees. A tree is built on first
    /// use: most of a large ring's ranges may never hold a key here, and an empty tree still costs
    /// 2·B hashes.
    trees: BTreeMap<RangeId, Option<MerkleTree>>,
    /// Which range the next periodic comparison takes.
    cursor: usize,
    /// Exchanges this node started, naming the latest.
    exchange: u64,
}

impl AntiEntropy {
    pub(super) fn new(ring: Arc<Ring>, ranges: Vec<RangeId>, buckets: u32) -> Self {
        AntiEntropy {
            ring,
            buckets,
            trees: ranges.into_iter().map(|r| (r, None)).collect(),
            cursor: 0,
            exchange: 0,
        }
    }

    pub(super) fn ranges(&self) -> impl Iterator<Item = RangeId> + '_ {
        self.trees.keys().copied()
    }

    /// Which range the next periodic comparison takes, and the number of the last exchange started.
    pub(super) fn progress(&self) -> (usize, u64) {
        (self.cursor, self.exchange)
    }

    pub(super) fn replicates(&self, range: RangeId) -> bool {
        self.trees.contains_key(&range)
    }

    /// Drops every tree with the disk.
    pub(super) fn wipe(&mut self) {
        for t in self.trees.values_mut() {
            *t = None;
        }
    }

    /// The range the next periodic comparison takes, round robin.
    pub(super) fn next_range(&mut self) -> Option<RangeId> {
        let n = self.trees.len();
        let range = self.trees.keys().nth(self.cursor.checked_rem(n)?).copied();
        self.cursor += 1;
        range
    }

    /// The changes of `keys` to the trees they fall in: each key with its record digest, or `None`
    /// for a key no longer stored. Keys of ranges it does not replicate are skipped.
    fn changes_by_range<'a>(
        &self,
        replica: &Replica,
        keys: impl Iterator<Item = &'a Key>,
        only: Option<RangeId>,
    ) -> BTreeMap<RangeId, Vec<LeafChange>> {
        let mut by_range: BTreeMap<RangeId, Vec<_>> = BTreeMap::new();
        for key in keys {
            let Some(range) = self.ring.range_of_key(key.position()) else {
                continue;
            };
            if !self.trees.contains_key(&range) || only.is_some_and(|r| r != range) {
                continue;
            }
            let digest = replica.peek(key.as_str()).map(|set| record_digest(&set));
            let change = LeafChange {
                key: key.clone(),
                digest,
            };
            by_range.entry(range).or_default().push(change);
        }
        by_range
    }

    /// Brings every tree up to date with the keys the replica changed since the last call.
    pub(super) fn absorb(&mut self, replica: &mut Replica) {
        if replica.changed().is_empty() {
            return;
        }
        let changed = replica.take_changed();
        for (range, changes) in self.changes_by_range(replica, changed.iter(), None) {
            if let Some(t) = self.tree_mut(range) {
                t.apply(changes.iter().map(|c| (&c.key, c.digest)));
            }
        }
    }

    fn tree_mut(&mut self, range: RangeId) -> Option<&mut MerkleTree> {
        let buckets = self.buckets;
        let tree = self.trees.get_mut(&range)?;
        Some(tree.get_or_insert_with(|| MerkleTree::new(buckets)))
    }

    /// The tree of `range` as it is with the replica's pending changes applied, without absorbing
    /// them: borrowed when none falls in the range, else a patched copy.
    pub(super) fn tree(&self, replica: &Replica, range: RangeId) -> Option<Cow<'_, MerkleTree>> {
        let tree = self.trees.get(&range)?;
        let mut pending = self.changes_by_range(replica, replica.changed().iter(), Some(range));
        match (tree, pending.remove(&range)) {
            (Some(t), None) => Some(Cow::Borrowed(t)),
            (None, None) => Some(Cow::Owned(MerkleTree::new(self.buckets))),
            (t, Some(changes)) => {
                let mut t = t.clone().unwrap_or_else(|| MerkleTree::new(self.buckets));
                t.apply(changes.iter().map(|c| (&c.key, c.digest)));
                Some(Cow::Owned(t))
            }
        }
    }

    /// The root of [`AntiEntropy::tree`], without building a tree for a range that never held a key.
    pub(super) fn root(&self, replica: &Replica, range: RangeId) -> Option<crate::MerkleHash> {
        match self.trees.get(&range)? {
            None if !self.has_pending(replica, range) => Some(MerkleTree::empty_root(self.buckets)),
            _ => self.tree(replica, range).map(|t| t.root()),
        }
    }

    fn has_pending(&self, replica: &Replica, range: RangeId) -> bool {
        replica
            .changed()
            .iter()
            .any(|k| self.ring.range_of_key(k.position()) == Some(range))
    }

    /// Opens a comparison of `range` with `peer` by sending this tree's root.
    pub(super) fn start(
        &mut self,
        out: &mut Outbox,
        replica: &mut Replica,
        range: RangeId,
        peer: NodeId,
    ) {
        self.absorb(replica);
        let Some(open) = self.tree_mut(range).map(|t| t.open()) else {
            return;
        };
        self.exchange += 1;
        out.stats.merkle_exchanges += 1;
        send(out, peer, range, self.exchange, MerkleWire::Tree(open));
    }

    /// One step of a comparison that `from` sent about `range`.
    pub(super) fn on_message(
        &mut self,
        out: &mut Outbox,
        replica: &mut Replica,
        from: NodeId,
        range: RangeId,
        exchange: u64,
        step: MerkleWire,
    ) {
        self.absorb(replica);
        if !self.trees.contains_key(&range) {
            return;
        }
        match step {
            MerkleWire::Tree(m) => {
                if let Some(step) = self.tree_mut(range).map(|t| t.answer(&m)) {
                    self.answer(out, replica, from, range, exchange, step);
                }
            }
            MerkleWire::Records {
                buckets,
                records,
                pull,
                reply,
            } => {
                let keys = records.len() as u64;
                let mut answer = Vec::new();
                for (key, set) in &records {
                    replica.merge(key, set);
                    if reply {
                        // Send back what the sender lacks: our merge differs from its versions.
                        if let Some(mine) = replica.peek(key.as_str()) {
                            if mine != *set {
                                answer.push((key.clone(), mine));
                            }
                        }
                    }
                }
                if reply {
                    answer.extend(records_of(replica, &pull));
                    let step = MerkleWire::Records {
                        buckets: buckets.clone(),
                        records: answer,
                        pull: Vec::new(),
                        reply: false,
                    };
                    send(out, from, range, exchange, step);
                }
                out.event(NodeEvent::MerkleSynced {
                    peer: from,
                    range,
                    buckets,
                    keys,
                });
            }
            MerkleWire::InSync => out.event(NodeEvent::MerkleInSync { peer: from, range }),
        }
    }
}

impl AntiEntropy {
    /// Sends what the tree phase's `step` calls for; a repair starts the record phase.
    fn answer(
        &self,
        out: &mut Outbox,
        replica: &Replica,
        from: NodeId,
        range: RangeId,
        exchange: u64,
        step: MerkleStep,
    ) {
        match step {
            MerkleStep::Reply(next) => send(out, from, range, exchange, MerkleWire::Tree(next)),
            MerkleStep::InSync => {
                send(out, from, range, exchange, MerkleWire::InSync);
                out.event(NodeEvent::MerkleInSync { peer: from, range });
            }
            MerkleStep::Repair(repair) => {
                let step = MerkleWire::Records {
                    buckets: repair.buckets,
                    records: records_of(replica, &repair.push),
                    pull: repair.pull,
                    reply: true,
                };
                send(out, from, range, exchange, step);
            }
            MerkleStep::Incompatible => {}
        }
    }
}

fn send(out: &mut Outbox, to: NodeId, range: RangeId, exchange: u64, step: MerkleWire) {
    match &step {
        MerkleWire::Tree(m) => out.stats.merkle_hashes_sent += m.node_hashes() as u64,
        MerkleWire::Records { records, .. } => out.stats.merkle_keys_sent += records.len() as u64,
        MerkleWire::InSync => {}
    }
    let msg = Msg::Merkle {
        range,
        exchange,
        step,
    };
    out.stats.merkle_bytes_sent += msg.wire_bytes() as u64;
    out.send(to, msg);
}

fn records_of(replica: &Replica, keys: &[Key]) -> Vec<(Key, VersionSet)> {
    keys.iter()
        .filter_map(|k| replica.peek(k.as_str()).map(|set| (k.clone(), set)))
        .collect()
}

/// SHA-256 of a version set's encoding: what a Merkle leaf hashes for one key.
fn record_digest(set: &VersionSet) -> [u8; 32] {
    let mut buf = Vec::with_capacity(64);
    crate::codec::encode_version_set(set, &mut buf);
    crate::merkle::record_digest(&buf)
}

#[cfg(test)]
mod tests;
