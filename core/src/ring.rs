//! Consistent hashing: the ring of virtual-node tokens that places keys on replicas.
//!
//! Positions are the first 8 bytes (big endian) of a SHA-256: of `node-{n}-vnode-{i}` for the tokens of
//! node `n`, of the key's bytes for a key. A key belongs to the first token clockwise at or after its
//! position (wrapping past `u64::MAX` to 0). The token's *range* is `(previous token, token]`; its
//! replicas are the first `N` distinct physical nodes clockwise from the token: its preference list.
//!
//! Two tokens at the same position (a 64-bit collision) are ordered by node id, so the lower id owns
//! the range and the other token's range is empty; either way the outcome is the same on every run.

use crate::types::NodeId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A key range, named by the position of the token that ends (and owns) it. The replicas of a range
/// are `ring.preference_list(id.0, n)`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct RangeId(pub u64);

impl fmt::Display for RangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{:016x}", self.0)
    }
}

/// Position of a key on the ring: the first 8 bytes of the SHA-256 of its bytes, big endian.
#[inline]
pub fn key_position(key: &str) -> u64 {
    position(key.as_bytes())
}

/// Ring position of arbitrary bytes: the first 8 bytes of their SHA-256, big endian.
fn position(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The consistent-hash ring: every physical node owns `vnodes` tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    vnodes: u16,
    /// Physical nodes, sorted and distinct.
    nodes: Vec<NodeId>,
    /// Tokens sorted by (position, node).
    tokens: Vec<(u64, NodeId)>,
    /// `tokens[i].0`: a dense copy for the binary search.
    positions: Vec<u64>,
    /// For `tokens[i]`, the index of its node in `nodes`: walks mark seen nodes in a bitset by it.
    dense: Vec<u16>,
}

impl Ring {
    /// A ring of `nodes` (duplicates ignored) with `vnodes` tokens each. With no nodes or no vnodes
    /// it holds no token: it is empty, and every walk, preference list and range list on it is too.
    pub fn new(nodes: &[NodeId], vnodes: u16) -> Ring {
        let mut ring = Ring {
            vnodes,
            nodes: Vec::new(),
            tokens: Vec::new(),
            positions: Vec::new(),
            dense: Vec::new(),
        };
        let mut sorted = nodes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for &node in &sorted {
            ring.push_tokens(node);
        }
        ring.nodes = sorted;
        ring.reindex();
        ring
    }

    /// Position of token `vnode` of `node`.
    pub fn token_position(node: NodeId, vnode: u16) -> u64 {
        position(format!("node-{}-vnode-{}", node.0, vnode).as_bytes())
    }

    /// Position of a key on the ring (the same on every ring: [`key_position`]).
    #[inline]
    pub fn position_of_key(&self, key: &str) -> u64 {
        key_position(key)
    }

    /// Adds `node` with its tokens; false if it was already on the ring.
    pub fn add_node(&mut self, node: NodeId) -> bool {
        let Err(at) = self.nodes.binary_search(&node) else {
            return false;
        };
        self.nodes.insert(at, node);
        self.push_tokens(node);
        self.reindex();
        true
    }

    /// Removes `node` and its tokens; false if it was not on the ring.
    pub fn remove_node(&mut self, node: NodeId) -> bool {
        let Ok(at) = self.nodes.binary_search(&node) else {
            return false;
        };
        self.nodes.remove(at);
        self.tokens.retain(|&(_, n)| n != node);
        self.reindex();
        true
    }

    fn push_tokens(&mut self, node: NodeId) {
        self.tokens
            .extend((0..self.vnodes).map(|i| (Ring::token_position(node, i), node)));
    }

    /// Sorts the tokens and rebuilds the search and bitset indexes.
    fn reindex(&mut self) {
        self.tokens.sort_unstable();
        self.tokens.dedup();
        self.positions = self.tokens.iter().map(|&(p, _)| p).collect();
        let nodes = &self.nodes;
        self.dense = self
            .tokens
            .iter()
            .map(|(_, n)| nodes.binary_search(n).unwrap_or(0) as u16)
            .collect();
    }

    /// Tokens per physical node.
    pub fn vnodes(&self) -> u16 {
        self.vnodes
    }

    /// The physical nodes on the ring, sorted.
    pub fn node_ids(&self) -> &[NodeId] {
        &self.nodes
    }

    /// Whether `node` is on the ring.
    pub fn contains_node(&self, node: NodeId) -> bool {
        self.nodes.binary_search(&node).is_ok()
    }

    /// All tokens as (position, node), sorted by position (then node).
    pub fn tokens(&self) -> &[(u64, NodeId)] {
        &self.tokens
    }

    /// Index of the token owning `pos`: the first at or after it, wrapping. The ring must not be empty.
    #[inline]
    fn owner_index(&self, pos: u64) -> usize {
        let i = self.positions.partition_point(|&p| p < pos);
        if i == self.positions.len() {
            0
        } else {
            i
        }
    }

    /// The node whose token owns `key_pos` (the first replica); `None` on an empty ring.
    #[inline]
    pub fn primary(&self, key_pos: u64) -> Option<NodeId> {
        if self.tokens.is_empty() {
            return None;
        }
        Some(self.tokens[self.owner_index(key_pos)].1)
    }

    /// Distinct physical nodes clockwise from `key_pos`, primary first; every node once. Allocates
    /// nothing for rings of up to 1024 nodes. The coordinator takes the first N healthy ones from it
    /// (sloppy quorum).
    #[inline]
    pub fn walk(&self, key_pos: u64) -> Walk<'_> {
        let (next, left) = if self.tokens.is_empty() {
            (0, 0)
        } else {
            (self.owner_index(key_pos), self.tokens.len())
        };
        let seen = if self.nodes.len() <= INLINE_NODES {
            Seen::Inline([0; INLINE_NODES / 64])
        } else {
            Seen::Heap(vec![0; self.nodes.len().div_ceil(64)])
        };
        Walk {
            ring: self,
            next,
            left,
            found: 0,
            seen,
        }
    }

    /// The first `n` distinct physical nodes clockwise from `key_pos` (all nodes if `n` exceeds them).
    pub fn preference_list(&self, key_pos: u64, n: usize) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(n.min(self.nodes.len()));
        self.preference_list_into(key_pos, n, &mut out);
        out
    }

    /// [`Ring::preference_list`] into a caller's buffer (cleared first), to reuse its allocation.
    pub fn preference_list_into(&self, key_pos: u64, n: usize, out: &mut Vec<NodeId>) {
        out.clear();
        let want = n.min(self.nodes.len());
        if want == 0 || self.tokens.is_empty() {
            return;
        }
        if want > SHORT_LIST {
            out.extend(self.walk(key_pos).take(want));
            return;
        }
        // Short lists (the usual N of 3 to 5): a scan of the list itself beats clearing a bitset.
        let start = self.owner_index(key_pos);
        let mut i = start;
        loop {
            let node = self.tokens[i].1;
            if !out.contains(&node) {
                out.push(node);
                if out.len() == want {
                    return;
                }
            }
            i = if i + 1 == self.tokens.len() { 0 } else { i + 1 };
            if i == start {
                return;
            }
        }
    }

    /// The range that holds `pos`, named by its owning token; `None` on an empty ring.
    #[inline]
    pub fn range_of_key(&self, pos: u64) -> Option<RangeId> {
        if self.positions.is_empty() {
            return None;
        }
        Some(RangeId(self.positions[self.owner_index(pos)]))
    }

    /// Bounds `(start, end]` of a range; `None` if no token sits at `id`. A range with `start >= end`
    /// wraps past `u64::MAX`; `start == end` is the whole ring (a ring with one token position).
    pub fn range_bounds(&self, id: RangeId) -> Option<(u64, u64)> {
        let i = self.positions.binary_search(&id.0).ok()?;
        // binary_search may land on any of several colliding tokens: the range belongs to the first.
        let i = self.positions.partition_point(|&p| p < self.positions[i]);
        Some((self.prev_position(i), id.0))
    }

    fn prev_position(&self, i: usize) -> u64 {
        if i == 0 {
            self.positions[self.positions.len() - 1]
        } else {
            self.positions[i - 1]
        }
    }

    /// Whether the range `(start, end]` (as returned by [`Ring::ranges_of`]) holds `pos`.
    #[inline]
    pub fn range_contains((start, end): (u64, u64), pos: u64) -> bool {
        if start < end {
            start < pos && pos <= end
        } else {
            pos > start || pos <= end
        }
    }

    /// Every non-empty range with its owning token's node, in ring order.
    pub fn ranges(&self) -> impl Iterator<Item = (RangeId, (u64, u64), NodeId)> + '_ {
        (0..self.tokens.len()).filter_map(move |i| {
            let (pos, node) = self.tokens[i];
            // A token that collides with the one before it owns nothing.
            if i > 0 && self.positions[i - 1] == pos {
                return None;
            }
            Some((RangeId(pos), (self.prev_position(i), pos), node))
        })
    }

    /// The key ranges `(start, end]` that `node`'s tokens own as primary, in ring order.
    pub fn ranges_of(&self, node: NodeId) -> Vec<(u64, u64)> {
        self.ranges()
            .filter(|&(_, _, owner)| owner == node)
            .map(|(_, bounds, _)| bounds)
            .collect()
    }

    /// The ranges `node` replicates with `n` replicas per key (it is in their preference list), in ring
    /// order.
    ///
    /// Every node of a cluster asks this once, so it must not walk every range: it walks
    /// counterclockwise from each of `node`'s own tokens instead. A range replicates on `node` while
    /// fewer than `n` other distinct nodes stand between its token and `node`'s; the walk stops at
    /// the `n`-th, or at another token of `node` (whose own walk covers the ranges before it). That
    /// is one scan of the token table for `node`'s tokens and about `vnodes × n` steps, not one walk
    /// per token of the ring.
    pub fn ranges_replicated_by(&self, node: NodeId, n: usize) -> Vec<RangeId> {
        let Ok(me) = self.nodes.binary_search(&node) else {
            return Vec::new();
        };
        let me = me as u16;
        if n == 0 {
            return Vec::new();
        }
        let len = self.tokens.len();
        let mut seen = vec![0u64; self.nodes.len().div_ceil(64)];
        let mut others: Vec<u16> = Vec::new();
        let mut found: Vec<usize> = Vec::new();
        for j in (0..len).filter(|&j| self.dense[j] == me) {
            found.push(j);
            let mut i = j;
            loop {
                i = if i == 0 { len - 1 } else { i - 1 };
                let d = self.dense[i];
                if d == me {
                    break;
                }
                let (word, bit) = (usize::from(d) / 64, 1u64 << (d % 64));
                if seen[word] & bit == 0 {
                    seen[word] |= bit;
                    others.push(d);
                    if others.len() >= n {
                        break;
                    }
                }
                found.push(i);
            }
            for d in others.drain(..) {
                seen[usize::from(d) / 64] &= !(1u64 << (d % 64));
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            // A token that collides with the one before it owns no range (see `ranges`).
            .filter(|&i| i == 0 || self.positions[i - 1] != self.positions[i])
            .map(|i| RangeId(self.positions[i]))
            .collect()
    }
}

/// Preference lists up to this long check distinctness by scanning themselves.
const SHORT_LIST: usize = 8;

/// Nodes a walk tracks without allocating: [`crate::MAX_NODES`].
const INLINE_NODES: usize = 1024;

#[derive(Clone, Debug)]
enum Seen {
    Inline([u64; INLINE_NODES / 64]),
    Heap(Vec<u64>),
}

impl Seen {
    /// Marks `i`; true if it was already marked.
    #[inline]
    fn test_and_set(&mut self, i: u16) -> bool {
        let words = match self {
            Seen::Inline(w) => &mut w[..],
            Seen::Heap(w) => &mut w[..],
        };
        let (word, bit) = (usize::from(i) / 64, 1u64 << (i % 64));
        let was = words[word] & bit != 0;
        words[word] |= bit;
        was
    }
}

/// Iterator over distinct physical nodes clockwise from a position; see [`Ring::walk`].
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    ring: &'a Ring,
    next: usize,
    left: usize,
    found: usize,
    seen: Seen,
}

impl Iterator for Walk<'_> {
    type Item = NodeId;

    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        let ring = self.ring;
        if self.found == ring.nodes.len() {
            return None;
        }
        while self.left > 0 {
            let i = self.next;
            self.next = if i + 1 == ring.tokens.len() { 0 } else { i + 1 };
            self.left -= 1;
            if !self.seen.test_and_set(ring.dense[i]) {
                self.found += 1;
                return Some(ring.tokens[i].1);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u16) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    #[test]
    fn positions_are_sha256_prefixes() {
        // sha256("") = e3b0c44298fc1c14...
        assert_eq!(key_position(""), 0xe3b0_c442_98fc_1c14);
        assert_eq!(
            Ring::token_position(NodeId(3), 7),
            key_position("node-3-vnode-7")
        );
    }

    #[test]
    fn tokens_are_sorted_and_counted() {
        let ring = Ring::new(&ids(5), 16);
        assert_eq!(ring.tokens().len(), 80);
        assert!(ring.tokens().windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(ring.node_ids(), &ids(5)[..]);
    }

    #[test]
    fn empty_ring_answers_nothing() {
        let ring = Ring::new(&[], 8);
        assert_eq!(ring.preference_list(42, 3), vec![]);
        assert_eq!(ring.primary(42), None);
        assert_eq!(ring.range_of_key(42), None);
        assert_eq!(ring.walk(1).count(), 0);
    }

    #[test]
    fn key_at_a_token_belongs_to_that_token_and_wraps_past_the_end() {
        let ring = Ring::new(&ids(4), 4);
        for &(pos, node) in ring.tokens() {
            assert_eq!(ring.primary(pos), Some(node));
            assert_eq!(ring.range_of_key(pos), Some(RangeId(pos)));
        }
        let (last, _) = *ring.tokens().last().unwrap();
        let (first, first_node) = ring.tokens()[0];
        if last < u64::MAX {
            assert_eq!(ring.primary(last + 1), Some(first_node));
            assert_eq!(ring.range_of_key(u64::MAX), Some(RangeId(first)));
        }
    }

    #[test]
    fn ranges_partition_the_ring() {
        let ring = Ring::new(&ids(6), 8);
        let ranges: Vec<_> = ring.ranges().collect();
        assert_eq!(ranges.len(), 48);
        let total: u128 = ranges
            .iter()
            .map(|&(_, (s, e), _)| u128::from(e.wrapping_sub(s)))
            .sum();
        assert_eq!(total, 1u128 << 64);
        let mut rng = crate::Rng::new(3);
        for _ in 0..1000 {
            let pos = rng.next_u64();
            let id = ring.range_of_key(pos).unwrap();
            let bounds = ring.range_bounds(id).unwrap();
            assert!(Ring::range_contains(bounds, pos));
            let holders = ranges
                .iter()
                .filter(|&&(_, b, _)| Ring::range_contains(b, pos))
                .count();
            assert_eq!(holders, 1);
            let owner = ring.primary(pos).unwrap();
            assert!(ring.ranges_of(owner).contains(&bounds));
        }
    }

    #[test]
    fn colliding_tokens_are_ordered_by_node() {
        let (a, b, c) = (NodeId(1), NodeId(2), NodeId(3));
        let mut ring = Ring {
            vnodes: 1,
            nodes: vec![a, b, c],
            tokens: vec![(20, c), (10, b), (10, a)],
            positions: Vec::new(),
            dense: Vec::new(),
        };
        ring.reindex();
        assert_eq!(ring.tokens(), &[(10, a), (10, b), (20, c)]);
        assert_eq!(ring.primary(10), Some(a));
        assert_eq!(ring.primary(5), Some(a));
        assert_eq!(ring.walk(10).collect::<Vec<_>>(), vec![a, b, c]);
        assert_eq!(ring.ranges_of(a), vec![(20, 10)]);
        assert_eq!(
            ring.ranges_of(b),
            vec![],
            "the second token at 10 owns nothing"
        );
        assert_eq!(ring.ranges_of(c), vec![(10, 20)]);
        assert_eq!(ring.range_bounds(RangeId(10)), Some((20, 10)));
        assert_eq!(ring.range_of_key(u64::MAX), Some(RangeId(10)));
    }

    /// The definition `ranges_replicated_by` shortcuts: walk from every range.
    fn replicated_by_walking_every_range(ring: &Ring, node: NodeId, n: usize) -> Vec<RangeId> {
        ring.ranges()
            .filter(|&(id, _, _)| ring.walk(id.0).take(n).any(|m| m == node))
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn ranges_replicated_by_matches_walking_every_range() {
        let (a, b, c) = (NodeId(1), NodeId(2), NodeId(3));
        let mut colliding = Ring {
            vnodes: 3,
            nodes: vec![a, b, c],
            tokens: vec![
                (10, a),
                (10, b),
                (20, c),
                (20, a),
                (30, b),
                (30, c),
                (30, a),
                (40, b),
            ],
            positions: Vec::new(),
            dense: Vec::new(),
        };
        colliding.reindex();
        let mut rings = vec![colliding, Ring::new(&[], 4), Ring::new(&ids(3), 0)];
        for (nodes, vnodes) in [(1, 1), (1, 5), (2, 1), (3, 3), (5, 8), (12, 16), (40, 2)] {
            let sparse: Vec<NodeId> = (0..nodes).map(|i| NodeId(3 * i + 1)).collect();
            rings.push(Ring::new(&sparse, vnodes));
        }
        for ring in &rings {
            let max = ring.node_ids().last().map_or(4, |id| id.0 + 2);
            for node in (0..=max).map(NodeId) {
                for n in 0..=ring.node_ids().len() + 1 {
                    assert_eq!(
                        ring.ranges_replicated_by(node, n),
                        replicated_by_walking_every_range(ring, node, n),
                        "{node} with n = {n} on {:?}",
                        ring.tokens()
                    );
                }
            }
        }
    }

    #[test]
    fn single_token_owns_everything() {
        let ring = Ring::new(&ids(1), 1);
        let (p, _) = ring.tokens()[0];
        assert_eq!(ring.ranges_of(NodeId(0)), vec![(p, p)]);
        assert!(Ring::range_contains((p, p), p.wrapping_add(12345)));
    }

    #[test]
    fn add_and_remove_are_inverse() {
        let mut ring = Ring::new(&ids(4), 8);
        let before = ring.clone();
        assert!(ring.add_node(NodeId(9)));
        assert!(!ring.add_node(NodeId(9)));
        assert_eq!(ring.tokens().len(), 40);
        assert!(ring.contains_node(NodeId(9)));
        assert!(ring.remove_node(NodeId(9)));
        assert!(!ring.remove_node(NodeId(9)));
        assert_eq!(ring, before);
    }

    #[test]
    fn walks_large_rings_with_sparse_ids() {
        let nodes: Vec<NodeId> = (0..1500u16).map(|i| NodeId(i * 40)).collect();
        let ring = Ring::new(&nodes, 2);
        let mut all: Vec<NodeId> = ring.walk(7).collect();
        assert_eq!(all.len(), 1500);
        all.sort_unstable();
        assert_eq!(all, nodes);
    }

    #[test]
    fn replicas_of_ranges_include_the_owner() {
        let ring = Ring::new(&ids(5), 4);
        for node in ids(5) {
            let replicated = ring.ranges_replicated_by(node, 3);
            // Each node owns 4 ranges and replicates those of its 2 predecessors too (about 12).
            assert!(replicated.len() >= 4, "{node}: {}", replicated.len());
            for (id, _, owner) in ring.ranges() {
                let prefs = ring.preference_list(id.0, 3);
                assert_eq!(prefs[0], owner);
                assert_eq!(prefs.contains(&node), replicated.contains(&id));
            }
        }
    }
}
