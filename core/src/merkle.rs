//! Merkle trees for anti-entropy between replicas (docs/protocol.md §Anti-entropy), and the message-driven descent that
//! compares two of them.
//!
//! The tree is documented on [`MerkleTree`], the exchange on [`MerkleMsg`], the byte accounting on
//! [`MerkleMsg::wire_bytes`] (counted by `codec.rs`).

use crate::types::Key;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Bytes of every hash in a tree and on the wire: SHA-256 truncated to 128 bits.
pub const HASH_BYTES: usize = 16;

/// The largest number of buckets a tree has; larger requests are clamped to it.
pub const MAX_BUCKETS: u32 = 1 << 16;

/// One hash of a Merkle tree: SHA-256 truncated to [`HASH_BYTES`] bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct MerkleHash(pub [u8; HASH_BYTES]);

impl MerkleHash {
    /// The hash of an empty bucket.
    pub const EMPTY: MerkleHash = MerkleHash([0; HASH_BYTES]);

    /// The hash as lowercase hex (32 characters).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(2 * HASH_BYTES);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    /// The first 4 bytes as hex, enough to tell hashes apart on screen.
    pub fn short(&self) -> String {
        let mut s = self.to_hex();
        s.truncate(8);
        s
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for MerkleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

fn truncated(digest: &[u8]) -> MerkleHash {
    let mut h = [0; HASH_BYTES];
    h.copy_from_slice(&digest[..HASH_BYTES]);
    MerkleHash(h)
}

fn hash_pair(left: &MerkleHash, right: &MerkleHash) -> MerkleHash {
    let mut s = Sha256::new();
    s.update(left.0);
    s.update(right.0);
    truncated(&s.finalize())
}

/// SHA-256 of a stored record's bytes: the record digest that [`MerkleTree::update`] expects.
pub fn record_digest(record_bytes: &[u8]) -> [u8; 32] {
    let mut d = [0; 32];
    d.copy_from_slice(&Sha256::digest(record_bytes));
    d
}

/// The item hash of `key` stored with a record whose digest is `record_digest` (step 2).
pub fn item_hash(key: &Key, record_digest: &[u8; 32]) -> MerkleHash {
    let mut s = Sha256::new();
    s.update(key.as_str().as_bytes());
    s.update(record_digest);
    truncated(&s.finalize())
}

/// `buckets` as a tree uses it: clamped to `1..=MAX_BUCKETS` and rounded up to a power of two.
pub fn normalize_buckets(buckets: u32) -> u32 {
    buckets.clamp(1, MAX_BUCKETS).next_power_of_two()
}

/// The bucket of `key` in a tree of `buckets` buckets (normalized by [`normalize_buckets`]): the top
/// `log2(buckets)` bits of `SHA-256("kvlab/merkle/bucket" ‖ key)`.
pub fn bucket_of(buckets: u32, key: &Key) -> u32 {
    let depth = normalize_buckets(buckets).trailing_zeros();
    if depth == 0 {
        return 0;
    }
    // The low bits of the key's SHA-256 ring position: the ring orders keys by the high bits, so
    // the keys of one narrow range still spread evenly over the buckets.
    (key.position() & ((1u64 << depth) - 1)) as u32
}

fn bucket_hash(items: &BTreeMap<Key, MerkleHash>, scratch: &mut Vec<MerkleHash>) -> MerkleHash {
    if items.is_empty() {
        return MerkleHash::EMPTY;
    }
    scratch.clear();
    scratch.extend(items.values().copied());
    scratch.sort_unstable();
    let mut s = Sha256::new();
    for h in scratch.iter() {
        s.update(h.0);
    }
    truncated(&s.finalize())
}

/// Index of the first node of `level` in the heap-ordered node array.
#[inline]
fn level_start(level: u32) -> usize {
    (1usize << level) - 1
}

/// A Merkle tree over the keys of one range: `B` buckets of items, hashed upwards to one root.
///
/// # Construction
///
/// One [`MerkleTree`] covers the keys one node stores for one key range.
///
/// 1. **Buckets.** The range is divided into `B` buckets, `B` a power of two (config
///    `merkle_buckets`). A key's bucket is the low `log2(B)` bits of its ring position, the first
///    8 bytes of `SHA-256(key)` ([`bucket_of`]), computed once per key. Hashing (rather than
///    splitting the range's arc of the ring) spreads any range evenly over all buckets, whatever
///    its width. The low bits are used because the ring orders keys by the high bits: every key of
///    a narrow range shares its top bits, but not its bottom ones.
/// 2. **Items.** Each key is hashed with a digest of its stored record, supplied by the caller:
///    `item = SHA-256(key bytes ‖ record digest)` ([`item_hash`]). The digest has a fixed length
///    (32 bytes), so the concatenation is unambiguous.
/// 3. **Bucket hashes.** One hash per bucket: `SHA-256` over the bucket's item hashes sorted by
///    value, concatenated. An empty bucket hashes to the constant [`MerkleHash::EMPTY`] (all zeros).
///    Sorting makes the hash independent of the order keys were written in.
/// 4. **Upwards.** `parent = SHA-256(left ‖ right)` level by level up to the root. Level 0 is the
///    root, level `depth = log2(B)` the buckets.
///
/// Every hash is SHA-256 **truncated to 16 bytes** ([`HASH_BYTES`]): 128 bits keep an accidental
/// match (which would hide a difference until the data changes again) out of reach, while halving
/// what each exchange sends. The tree stores exactly the 16 bytes that travel, so the byte
/// accounting of [`MerkleMsg::wire_bytes`] is what a real wire would carry.
///
/// Replicas change constantly, so [`MerkleTree::update`] and [`MerkleTree::remove`] recompute only
/// the bucket of the key and the `depth` hashes on its path to the root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleTree {
    buckets: u32,
    depth: u32,
    /// Every node's hash in heap order: level `l` occupies `2^l - 1 .. 2^(l+1) - 1`.
    nodes: Vec<MerkleHash>,
    /// Per bucket, each key's item hash. BTreeMap: listings come out sorted by key.
    items: Vec<BTreeMap<Key, MerkleHash>>,
    keys: usize,
}

impl MerkleTree {
    /// The root of an empty tree of `buckets` buckets, without building the tree: `depth` hashes.
    pub fn empty_root(buckets: u32) -> MerkleHash {
        let depth = normalize_buckets(buckets).trailing_zeros();
        (0..depth).fold(MerkleHash::EMPTY, |h, _| hash_pair(&h, &h))
    }

    /// An empty tree of `buckets` buckets (normalized by [`normalize_buckets`]).
    pub fn new(buckets: u32) -> MerkleTree {
        let buckets = normalize_buckets(buckets);
        let depth = buckets.trailing_zeros();
        let mut nodes = vec![MerkleHash::EMPTY; 2 * buckets as usize - 1];
        // Every node of one level of an empty tree has the same hash: depth hashes in all.
        let mut level_hash = MerkleHash::EMPTY;
        for level in (0..depth).rev() {
            level_hash = hash_pair(&level_hash, &level_hash);
            let start = level_start(level);
            nodes[start..start + (1usize << level)].fill(level_hash);
        }
        MerkleTree {
            buckets,
            depth,
            nodes,
            items: vec![BTreeMap::new(); buckets as usize],
            keys: 0,
        }
    }

    /// A tree of `buckets` buckets over `items`: each key with the digest of its stored record
    /// (see [`record_digest`]). A key given twice keeps its last digest.
    pub fn build<'a>(buckets: u32, items: impl IntoIterator<Item = (&'a Key, [u8; 32])>) -> Self {
        let mut tree = MerkleTree::new(buckets);
        for (key, digest) in items {
            let b = bucket_of(tree.buckets, key) as usize;
            if tree.items[b]
                .insert(key.clone(), item_hash(key, &digest))
                .is_none()
            {
                tree.keys += 1;
            }
        }
        let leaves = level_start(tree.depth);
        let mut scratch = Vec::new();
        for (b, items) in tree.items.iter().enumerate() {
            tree.nodes[leaves + b] = bucket_hash(items, &mut scratch);
        }
        tree.rebuild_inner();
        tree
    }

    fn rebuild_inner(&mut self) {
        for p in (0..level_start(self.depth)).rev() {
            self.nodes[p] = hash_pair(&self.nodes[2 * p + 1], &self.nodes[2 * p + 2]);
        }
    }

    /// Sets `key`'s record digest (insert or overwrite) and recomputes the path to the root.
    pub fn update(&mut self, key: &Key, record_digest: [u8; 32]) {
        let b = bucket_of(self.buckets, key);
        let item = item_hash(key, &record_digest);
        match self.items[b as usize].insert(key.clone(), item) {
            Some(old) if old == item => return,
            Some(_) => {}
            None => self.keys += 1,
        }
        self.rehash_bucket(b);
    }

    /// Removes `key`; recomputes the path to the root. Returns whether the key was present.
    pub fn remove(&mut self, key: &Key) -> bool {
        let b = bucket_of(self.buckets, key);
        if self.items[b as usize].remove(key).is_none() {
            return false;
        }
        self.keys -= 1;
        self.rehash_bucket(b);
        true
    }

    /// Applies many changes at once: `Some(digest)` sets a key's record digest, `None` removes the
    /// key. Each touched bucket and each of their ancestors is hashed once, however many keys
    /// changed under it.
    pub fn apply<'a>(&mut self, changes: impl IntoIterator<Item = (&'a Key, Option<[u8; 32]>)>) {
        let mut dirty: Vec<usize> = Vec::new();
        for (key, digest) in changes {
            let b = bucket_of(self.buckets, key);
            let items = &mut self.items[b as usize];
            let changed = match digest {
                Some(d) => {
                    let item = item_hash(key, &d);
                    match items.insert(key.clone(), item) {
                        Some(old) => old != item,
                        None => {
                            self.keys += 1;
                            true
                        }
                    }
                }
                None => {
                    let had = items.remove(key).is_some();
                    if had {
                        self.keys -= 1;
                    }
                    had
                }
            };
            if changed {
                dirty.push(level_start(self.depth) + b as usize);
            }
        }
        if dirty.is_empty() {
            return;
        }
        dirty.sort_unstable();
        dirty.dedup();
        let mut scratch = Vec::new();
        let leaves = level_start(self.depth);
        for &i in &dirty {
            self.nodes[i] = bucket_hash(&self.items[i - leaves], &mut scratch);
        }
        // Walk up level by level; sorted indices map to sorted parents, so dedup stays cheap.
        while dirty.first().is_some_and(|&i| i > 0) {
            for i in dirty.iter_mut() {
                *i = (*i - 1) / 2;
            }
            dirty.dedup();
            for &p in &dirty {
                self.nodes[p] = hash_pair(&self.nodes[2 * p + 1], &self.nodes[2 * p + 2]);
            }
        }
    }

    fn rehash_bucket(&mut self, bucket: u32) {
        let mut scratch = Vec::new();
        let mut i = level_start(self.depth) + bucket as usize;
        self.nodes[i] = bucket_hash(&self.items[bucket as usize], &mut scratch);
        while i > 0 {
            let parent = (i - 1) / 2;
            self.nodes[parent] =
                hash_pair(&self.nodes[2 * parent + 1], &self.nodes[2 * parent + 2]);
            i = parent;
        }
    }

    /// Number of buckets (a power of two).
    pub fn buckets(&self) -> u32 {
        self.buckets
    }

    /// `log2(buckets)`: the level of the buckets. The root is level 0.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Number of keys in the tree.
    pub fn len(&self) -> usize {
        self.keys
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// The root hash. Two replicas with equal roots hold the same data for this range.
    pub fn root(&self) -> MerkleHash {
        self.nodes[0]
    }

    /// The hash of node `index` of `level`; `None` outside the tree.
    pub fn node(&self, level: u32, index: u32) -> Option<MerkleHash> {
        self.level_hashes(level).get(index as usize).copied()
    }

    /// The hashes of the two children of node `index` of `level`; `None` at the buckets or outside.
    pub fn children(&self, level: u32, index: u32) -> Option<(MerkleHash, MerkleHash)> {
        if level >= self.depth || index >= 1 << level {
            return None;
        }
        let l = 2 * (level_start(level) + index as usize) + 1;
        Some((self.nodes[l], self.nodes[l + 1]))
    }

    /// All hashes of `level` (2^level of them), left to right; empty past the buckets.
    pub fn level_hashes(&self, level: u32) -> &[MerkleHash] {
        if level > self.depth {
            return &[];
        }
        &self.nodes[level_start(level)..level_start(level + 1)]
    }

    /// The bucket of `key` in this tree.
    pub fn bucket_of(&self, key: &Key) -> u32 {
        bucket_of(self.buckets, key)
    }

    /// The item hash stored for `key`, if the tree holds it.
    pub fn item(&self, key: &Key) -> Option<MerkleHash> {
        let b = bucket_of(self.buckets, key) as usize;
        self.items[b].get(key).copied()
    }

    /// The keys of `bucket` with their item hashes, sorted by key (empty outside the tree).
    pub fn bucket_items(&self, bucket: u32) -> impl Iterator<Item = (&Key, MerkleHash)> + '_ {
        self.items
            .get(bucket as usize)
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, h)| (k, *h)))
    }

    /// Of the nodes `indices` of `level`, those whose hash differs from the peer's `remote_hashes`
    /// (same order). This is one step of the descent; indices outside the tree count as differing.
    pub fn differing(&self, level: u32, indices: &[u32], remote_hashes: &[MerkleHash]) -> Vec<u32> {
        let mine = self.level_hashes(level);
        indices
            .iter()
            .zip(remote_hashes)
            .filter(|(i, h)| mine.get(**i as usize) != Some(*h))
            .map(|(i, _)| *i)
            .collect()
    }

    /// The message that opens an exchange: this tree's root.
    pub fn open(&self) -> MerkleMsg {
        MerkleMsg::Root {
            buckets: self.buckets,
            hash: self.root(),
        }
    }

    fn nodes_msg(&self, level: u32, parents: Vec<u32>) -> MerkleMsg {
        let mut hashes = Vec::with_capacity(2 * parents.len());
        for &p in &parents {
            if let Some((l, r)) = self.children(level - 1, p) {
                hashes.push(l);
                hashes.push(r);
            }
        }
        MerkleMsg::Nodes {
            level,
            parents,
            hashes,
        }
    }

    fn items_msg(&self, buckets: Vec<u32>) -> MerkleMsg {
        MerkleMsg::Items {
            buckets: buckets
                .into_iter()
                .map(|bucket| BucketItems {
                    bucket,
                    items: self
                        .bucket_items(bucket)
                        .map(|(k, h)| (k.clone(), h))
                        .collect(),
                })
                .collect(),
        }
    }

    /// This replica's next step on receiving `msg` from a peer: a message to send back, the repair
    /// of the differing buckets, or the end of the exchange.
    pub fn answer(&self, msg: &MerkleMsg) -> MerkleStep {
        match msg {
            MerkleMsg::Root { buckets, hash } => {
                if *buckets != self.buckets {
                    MerkleStep::Incompatible
                } else if *hash == self.root() {
                    MerkleStep::InSync
                } else if self.depth == 0 {
                    MerkleStep::Reply(self.items_msg(vec![0]))
                } else {
                    MerkleStep::Reply(self.nodes_msg(1, vec![0]))
                }
            }
            MerkleMsg::Nodes {
                level,
                parents,
                hashes,
            } => {
                let level = *level;
                if level == 0
                    || level > self.depth
                    || hashes.len() != 2 * parents.len()
                    || !strictly_increasing(parents)
                    || parents.last().is_some_and(|&p| p >= 1 << (level - 1))
                {
                    return MerkleStep::Incompatible;
                }
                let children: Vec<u32> = parents.iter().flat_map(|&p| [2 * p, 2 * p + 1]).collect();
                let differ = self.differing(level, &children, hashes);
                if differ.is_empty() {
                    MerkleStep::InSync
                } else if level == self.depth {
                    MerkleStep::Reply(self.items_msg(differ))
                } else {
                    MerkleStep::Reply(self.nodes_msg(level + 1, differ))
                }
            }
            MerkleMsg::Items { buckets } => self.repair(buckets),
        }
    }

    fn repair(&self, remote: &[BucketItems]) -> MerkleStep {
        let well_formed = strictly_increasing_by(remote, |a, b| a.bucket < b.bucket)
            && remote.iter().all(|b| {
                b.bucket < self.buckets && strictly_increasing_by(&b.items, |x, y| x.0 < y.0)
            });
        if !well_formed {
            return MerkleStep::Incompatible;
        }
        let mut repair = Repair::default();
        for b in remote {
            repair.buckets.push(b.bucket);
            let mut mine = self.items[b.bucket as usize].iter().peekable();
            let mut theirs = b.items.iter().peekable();
            loop {
                match (mine.peek(), theirs.peek()) {
                    (Some((mk, mh)), Some((tk, th))) => match (*mk).cmp(tk) {
                        std::cmp::Ordering::Less => {
                            repair.push.push((*mk).clone());
                            mine.next();
                        }
                        std::cmp::Ordering::Greater => {
                            repair.pull.push(tk.clone());
                            theirs.next();
                        }
                        std::cmp::Ordering::Equal => {
                            if *mh != th {
                                repair.push.push((*mk).clone());
                            }
                            mine.next();
                            theirs.next();
                        }
                    },
                    (Some((mk, _)), None) => {
                        repair.push.push((*mk).clone());
                        mine.next();
                    }
                    (None, Some((tk, _))) => {
                        repair.pull.push(tk.clone());
                        theirs.next();
                    }
                    (None, None) => break,
                }
            }
        }
        if repair.push.is_empty() && repair.pull.is_empty() {
            MerkleStep::InSync
        } else {
            MerkleStep::Repair(repair)
        }
    }
}

fn strictly_increasing(xs: &[u32]) -> bool {
    xs.windows(2).all(|w| w[0] < w[1])
}

fn strictly_increasing_by<T>(xs: &[T], less: impl Fn(&T, &T) -> bool) -> bool {
    xs.windows(2).all(|w| less(&w[0], &w[1]))
}

/// The items of one bucket as listed in [`MerkleMsg::Items`]: keys sorted, each with its item hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketItems {
    /// The bucket.
    pub bucket: u32,
    /// The sender's keys of the bucket, sorted, with their item hashes.
    pub items: Vec<(Key, MerkleHash)>,
}

/// One message of a Merkle exchange. The node wraps it with the range it is about.
///
/// Two replicas A (initiator) and B compare their trees with messages that alternate direction;
/// each side answers a message with [`MerkleTree::answer`] and keeps no session state, so a lost
/// message just ends the exchange (the next periodic exchange starts over):
///
/// ```text
/// A → B  Root   { buckets, A's root }                    equal → InSync, nothing more is sent
/// B → A  Nodes  { level 1, parents [0], B's 2 children }
/// A → B  Nodes  { level 2, parents = level-1 nodes that differ, A's children of them }
///  …     one level per message, only below nodes that differ …
/// X → Y  Items  { differing buckets, X's (key, item hash) of each }   after the leaf level
/// Y      Repair { push: keys X lacks or holds in another version, pull: keys Y lacks }
/// ```
///
/// From the [`MerkleStep::Repair`] on, records travel, and records belong to the node, not to this
/// module: the node's anti-entropy runs the record phase (two more messages, still stateless; see
/// `node/anti_entropy.rs`). Y sends X its records of `push` and asks for the keys of `pull`; X
/// merges them and answers with its own record of every such key whose merged versions differ from
/// the received ones, plus the pulled keys; Y merges, and both trees agree on those buckets.
///
/// With `d` differing keys the exchange takes `depth + 2` messages before records travel and sends
/// exactly `1 + 2·depth` node hashes for `d = 1`: only subtrees that differ are expanded.
/// [`sync_cost`] runs the same descent locally, for reports and tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MerkleMsg {
    /// Opens an exchange with the sender's root. `buckets` lets the receiver refuse a tree of
    /// another shape.
    Root {
        /// The sender's number of buckets.
        buckets: u32,
        /// The sender's root hash.
        hash: MerkleHash,
    },
    /// The sender's hashes at `level` of both children of each node of `parents` (at `level - 1`),
    /// the nodes whose hashes differed when the sender compared the previous message.
    Nodes {
        /// The level of the hashes (1 ..= depth).
        level: u32,
        /// Indices at `level - 1` of the nodes that differ, strictly increasing.
        parents: Vec<u32>,
        /// `hashes[2i]` and `hashes[2i + 1]` are the children of `parents[i]`.
        hashes: Vec<MerkleHash>,
    },
    /// The sender's items of every bucket found to differ, buckets strictly increasing.
    Items {
        /// One listing per differing bucket.
        buckets: Vec<BucketItems>,
    },
}

impl MerkleMsg {
    /// Tree-node hashes in the message (the root, or children); item hashes are not counted.
    pub fn node_hashes(&self) -> usize {
        match self {
            MerkleMsg::Root { .. } => 1,
            MerkleMsg::Nodes { hashes, .. } => hashes.len(),
            MerkleMsg::Items { .. } => 0,
        }
    }

    /// Item hashes listed in the message.
    pub fn item_hashes(&self) -> usize {
        match self {
            MerkleMsg::Items { buckets } => buckets.iter().map(|b| b.items.len()).sum(),
            _ => 0,
        }
    }

    /// Bytes of the message on the wire in kvlab's encoding (`codec.rs`): a one-byte tag,
    /// integers as LEB128 varints, sorted index lists delta-coded, a hash as its 16 bytes, a key as
    /// a varint length and its bytes.
    pub fn wire_bytes(&self) -> usize {
        crate::codec::counted(|c| crate::codec::put_merkle_msg(c, self))
    }
}

/// What a replica does after receiving a [`MerkleMsg`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MerkleStep {
    /// Send this message back to the peer.
    Reply(MerkleMsg),
    /// The leaf phase: exchange these keys' records (see the module docs).
    Repair(Repair),
    /// Nothing differs (any more): the exchange ends.
    InSync,
    /// The peer's tree has another number of buckets, or the message is malformed: the exchange ends.
    Incompatible,
}

/// The records to exchange for the buckets that differ, from the side that received the listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// The differing buckets, increasing.
    pub buckets: Vec<u32>,
    /// Keys whose record the peer lacks or holds in another version: send ours.
    pub push: Vec<Key>,
    /// Keys the peer holds and we lack: ask the peer for them.
    pub pull: Vec<Key>,
}

/// What comparing two trees costs, up to the point where records travel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCost {
    /// One-way messages of the tree phase (Root, each Nodes, Items). Messages alternate direction,
    /// so this is also the number of latency steps before records travel.
    pub rounds: u32,
    /// Tree-node hashes sent, both directions.
    pub hashes_exchanged: u64,
    /// `hashes_exchanged × HASH_BYTES`.
    pub hash_bytes: u64,
    /// Items (key and item hash) listed for the differing buckets.
    pub items_listed: u64,
    /// Wire bytes of all tree-phase messages, items listing included.
    pub wire_bytes: u64,
    /// The buckets that differ, increasing.
    pub differing_buckets: Vec<u32>,
    /// Keys whose records would then travel (pushed or pulled by the repairing side).
    pub differing_keys: u64,
}

/// Runs the exchange between `a` (initiator) and `b` locally and counts what it sends.
pub fn sync_cost(a: &MerkleTree, b: &MerkleTree) -> SyncCost {
    let mut cost = SyncCost::default();
    let mut msg = a.open();
    let mut receiver = b;
    let mut sender = a;
    loop {
        cost.rounds += 1;
        cost.hashes_exchanged += msg.node_hashes() as u64;
        cost.items_listed += msg.item_hashes() as u64;
        cost.wire_bytes += msg.wire_bytes() as u64;
        if let MerkleMsg::Items { buckets } = &msg {
            cost.differing_buckets = buckets.iter().map(|b| b.bucket).collect();
        }
        match receiver.answer(&msg) {
            MerkleStep::Reply(next) => {
                msg = next;
                std::mem::swap(&mut receiver, &mut sender);
            }
            MerkleStep::Repair(r) => {
                cost.differing_keys = (r.push.len() + r.pull.len()) as u64;
                break;
            }
            MerkleStep::InSync | MerkleStep::Incompatible => break,
        }
    }
    cost.hash_bytes = cost.hashes_exchanged * HASH_BYTES as u64;
    cost
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_matches_an_empty_tree_and_a_tree_emptied_again() {
        for b in [1, 2, 16, 64, 1024] {
            assert_eq!(
                MerkleTree::empty_root(b),
                MerkleTree::new(b).root(),
                "B = {b}"
            );
            let k = Key::from("k");
            let mut t = MerkleTree::new(b);
            t.update(&k, [7; 32]);
            assert_ne!(t.root(), MerkleTree::empty_root(b));
            t.remove(&k);
            assert_eq!(t.root(), MerkleTree::empty_root(b));
        }
    }
    use crate::rng::Rng;

    fn key(i: u64) -> Key {
        Key::from(format!("key-{i:05}"))
    }

    fn digest(version: u64) -> [u8; 32] {
        record_digest(&version.to_le_bytes())
    }

    /// A replica as the node would hold it: each key's record is just a version number; merging
    /// keeps the higher one.
    #[derive(Clone)]
    struct Replica {
        data: BTreeMap<Key, u64>,
        tree: MerkleTree,
    }

    impl Replica {
        fn new(buckets: u32, data: BTreeMap<Key, u64>) -> Replica {
            let tree = MerkleTree::build(buckets, data.iter().map(|(k, v)| (k, digest(*v))));
            Replica { data, tree }
        }

        fn merge(&mut self, k: &Key, v: u64) {
            let mine = self.data.entry(k.clone()).or_insert(v);
            *mine = (*mine).max(v);
            let merged = *mine;
            self.tree.update(k, digest(merged));
        }
    }

    /// Runs a whole exchange, records included, the way the module docs describe it. Returns the
    /// number of one-way messages.
    fn exchange(r: &mut [Replica; 2]) -> u32 {
        let mut msg = r[0].tree.open();
        let mut to = 1;
        let mut messages = 1;
        loop {
            match r[to].tree.answer(&msg) {
                MerkleStep::Reply(m) => {
                    msg = m;
                    to = 1 - to;
                    messages += 1;
                }
                MerkleStep::Repair(rep) => {
                    let (y, x) = (to, 1 - to);
                    let pushed: Vec<(Key, u64)> =
                        rep.push.iter().map(|k| (k.clone(), r[y].data[k])).collect();
                    let mut back = Vec::new();
                    for (k, v) in pushed {
                        r[x].merge(&k, v);
                        if r[x].tree.item(&k) != Some(item_hash(&k, &digest(v))) {
                            back.push((k.clone(), r[x].data[&k]));
                        }
                    }
                    for k in rep.pull {
                        if let Some(v) = r[x].data.get(&k) {
                            back.push((k, *v));
                        }
                    }
                    for (k, v) in back {
                        r[y].merge(&k, v);
                    }
                    return messages + 2;
                }
                MerkleStep::InSync | MerkleStep::Incompatible => return messages,
            }
        }
    }

    fn data(n: u64) -> BTreeMap<Key, u64> {
        (0..n).map(|i| (key(i), 1)).collect()
    }

    #[test]
    fn identical_trees_are_in_sync() {
        let a = Replica::new(256, data(2000)).tree;
        let mut items: Vec<(Key, u64)> = data(2000).into_iter().collect();
        items.reverse();
        let b = MerkleTree::build(256, items.iter().map(|(k, v)| (k, digest(*v))));
        assert_eq!(a.root(), b.root());
        let cost = sync_cost(&a, &b);
        assert_eq!(cost.rounds, 1);
        assert_eq!(cost.hashes_exchanged, 1);
        assert_eq!(cost.hash_bytes, HASH_BYTES as u64);
        assert!(cost.differing_buckets.is_empty());
        assert_eq!(cost.differing_keys, 0);
        assert_eq!(b.answer(&a.open()), MerkleStep::InSync);
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let mut items: Vec<(Key, [u8; 32])> = (0..3000).map(|i| (key(i), digest(i))).collect();
        let a = MerkleTree::build(512, items.iter().map(|(k, d)| (k, *d)));
        let mut rng = Rng::new(9);
        rng.shuffle(&mut items);
        let b = MerkleTree::build(512, items.iter().map(|(k, d)| (k, *d)));
        let mut c = MerkleTree::new(512);
        for (k, d) in items.iter().rev() {
            c.update(k, *d);
        }
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_ne!(a.root(), MerkleTree::new(512).root());
    }

    #[test]
    fn build_and_incremental_updates_agree() {
        let full = MerkleTree::build(
            128,
            (0..1000)
                .map(|i| (key(i), digest(i)))
                .collect::<Vec<_>>()
                .iter()
                .map(|(k, d)| (k, *d)),
        );
        let mut t = MerkleTree::new(128);
        for i in 0..1200 {
            t.update(&key(i), digest(i + 7));
        }
        for i in 0..1000 {
            t.update(&key(i), digest(i));
        }
        let before = t.root();
        t.update(&key(3), digest(3));
        assert_eq!(t.root(), before, "same digest again changes nothing");
        for i in 1000..1200 {
            assert!(t.remove(&key(i)));
        }
        assert!(!t.remove(&key(5000)));
        assert_eq!(t, full);
        assert_eq!(t.len(), 1000);

        t.update(&key(3), digest(99));
        assert_ne!(t.root(), full.root());
        assert_ne!(t.item(&key(3)), full.item(&key(3)));
        t.update(&key(3), digest(3));
        assert_eq!(t.root(), full.root());
        for i in 0..1000 {
            t.remove(&key(i));
        }
        assert!(t.is_empty());
        assert_eq!(t, MerkleTree::new(128));
    }

    #[test]
    fn one_differing_key_is_found_in_exactly_its_bucket() {
        for buckets in [1, 2, 64, 1024, 4096] {
            let a = Replica::new(buckets, data(3000));
            for (case, k) in [(0, key(1234)), (1, key(77)), (2, key(9999))] {
                let mut b = a.clone();
                match case {
                    0 => b.merge(&k, 2), // another version
                    1 => {
                        b.data.remove(&k); // missing on b
                        b.tree.remove(&k);
                    }
                    _ => b.merge(&k, 1), // only on b
                }
                let depth = u64::from(a.tree.depth());
                let cost = sync_cost(&a.tree, &b.tree);
                assert_eq!(
                    cost.differing_buckets,
                    vec![a.tree.bucket_of(&k)],
                    "B={buckets}"
                );
                assert_eq!(cost.hashes_exchanged, 2 * depth + 1, "B={buckets}");
                assert_eq!(u64::from(cost.rounds), depth + 2, "B={buckets}");
                assert_eq!(cost.differing_keys, 1);
                let mut pair = [a.clone(), b];
                assert_eq!(u64::from(exchange(&mut pair)), depth + 4);
                assert_eq!(pair[0].tree.root(), pair[1].tree.root());
                assert_eq!(pair[0].data, pair[1].data);
            }
        }
    }

    #[test]
    fn descent_expands_only_differing_subtrees() {
        let mut rng = Rng::new(3);
        let a = Replica::new(1024, data(20_000));
        for d in [2u64, 10, 50] {
            let mut b = a.clone();
            let mut want = std::collections::BTreeSet::new();
            for _ in 0..d {
                let k = key(rng.below(20_000));
                b.merge(&k, 2 + rng.below(5));
                want.insert(a.tree.bucket_of(&k));
            }
            let cost = sync_cost(&a.tree, &b.tree);
            assert_eq!(cost.differing_buckets, want.into_iter().collect::<Vec<_>>());
            let depth = u64::from(a.tree.depth());
            assert!(cost.hashes_exchanged <= 1 + 2 * d * depth, "{cost:?}");
            assert!(
                cost.hashes_exchanged < 2 * 1024,
                "no full expansion: {cost:?}"
            );
        }
    }

    #[test]
    fn repair_pushes_and_pulls_exactly_the_differences() {
        let mut a = data(500);
        let mut b = data(500);
        a.insert(key(900), 1); // only on a
        b.insert(key(901), 1); // only on b
        a.insert(key(7), 5); // newer on a
        b.insert(key(8), 5); // newer on b
        let mut r = [Replica::new(16, a), Replica::new(16, b)];
        // Four buckets of sixteen differ at most; find which side repairs and check its lists.
        let mut msg = r[0].tree.open();
        let mut to = 1;
        let rep = loop {
            match r[to].tree.answer(&msg) {
                MerkleStep::Reply(m) => {
                    msg = m;
                    to = 1 - to;
                }
                MerkleStep::Repair(rep) => break rep,
                other => panic!("unexpected {other:?}"),
            }
        };
        let (mine, theirs) = if to == 0 { (900, 901) } else { (901, 900) };
        let mut push = rep.push.clone();
        push.sort();
        let mut expect = vec![key(7), key(8), key(mine)];
        expect.sort();
        assert_eq!(push, expect);
        assert_eq!(rep.pull, vec![key(theirs)]);
        assert!(strictly_increasing(&rep.buckets));
        exchange(&mut r);
        assert_eq!(r[0].data, r[1].data);
        assert_eq!(r[0].tree.root(), r[1].tree.root());
        assert_eq!(r[0].data[&key(7)], 5);
        assert_eq!(r[1].data[&key(8)], 5);
    }

    #[test]
    fn malformed_or_foreign_messages_are_refused() {
        let t = Replica::new(64, data(300)).tree;
        let h = MerkleHash([1; HASH_BYTES]);
        let nodes = |level, parents: Vec<u32>, n| MerkleMsg::Nodes {
            level,
            parents,
            hashes: vec![h; n],
        };
        let bad = [
            MerkleMsg::Root {
                buckets: 32,
                hash: h,
            },
            nodes(0, vec![0], 2),
            nodes(7, vec![0], 2),
            nodes(2, vec![0], 3),
            nodes(3, vec![2, 1], 4),
            nodes(2, vec![2], 2),
            MerkleMsg::Items {
                buckets: vec![BucketItems {
                    bucket: 64,
                    items: vec![],
                }],
            },
            MerkleMsg::Items {
                buckets: vec![BucketItems {
                    bucket: 1,
                    items: vec![(key(2), h), (key(1), h)],
                }],
            },
        ];
        for msg in bad {
            assert_eq!(t.answer(&msg), MerkleStep::Incompatible, "{msg:?}");
        }
        assert!(matches!(
            t.answer(&nodes(2, vec![0, 1], 4)),
            MerkleStep::Reply(_)
        ));
    }

    #[test]
    fn buckets_are_normalized_and_evenly_filled() {
        assert_eq!(normalize_buckets(0), 1);
        assert_eq!(normalize_buckets(3), 4);
        assert_eq!(normalize_buckets(64), 64);
        assert_eq!(normalize_buckets(u32::MAX), MAX_BUCKETS);
        assert_eq!(MerkleTree::new(100).buckets(), 128);
        assert_eq!(bucket_of(1, &key(1)), 0);
        let mut counts = [0u32; 64];
        for i in 0..6400 {
            counts[bucket_of(64, &key(i)) as usize] += 1;
        }
        // 100 per bucket expected, standard deviation about 10.
        assert!(
            counts.iter().all(|&c| (50..=150).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn levels_and_children_are_consistent() {
        let t = Replica::new(32, data(200)).tree;
        assert_eq!(t.depth(), 5);
        for level in 0..=5 {
            assert_eq!(t.level_hashes(level).len(), 1 << level);
        }
        assert!(t.level_hashes(6).is_empty());
        assert_eq!(t.node(0, 0), Some(t.root()));
        assert_eq!(t.node(5, 32), None);
        assert_eq!(t.children(5, 0), None);
        for level in 0..5 {
            for i in 0..1u32 << level {
                let (l, r) = t.children(level, i).unwrap();
                assert_eq!(Some(l), t.node(level + 1, 2 * i));
                assert_eq!(Some(r), t.node(level + 1, 2 * i + 1));
                assert_eq!(t.node(level, i), Some(hash_pair(&l, &r)));
            }
        }
        let filled: usize = (0..32).map(|b| t.bucket_items(b).count()).sum();
        assert_eq!(filled, 200);
        assert_eq!(t.bucket_items(32).count(), 0);
        let empty = MerkleTree::new(32);
        assert!(empty
            .level_hashes(5)
            .iter()
            .all(|h| *h == MerkleHash::EMPTY));
        assert_eq!(empty.root().to_hex().len(), 2 * HASH_BYTES);
        assert_eq!(empty.root().short().len(), 8);
    }

    #[test]
    fn wire_bytes_follow_the_model() {
        use crate::codec::{key_len, varint_len};
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(u64::MAX), 10);
        let h = MerkleHash::EMPTY;
        assert_eq!(
            MerkleMsg::Root {
                buckets: 1024,
                hash: h
            }
            .wire_bytes(),
            1 + 2 + 16
        );
        let nodes = MerkleMsg::Nodes {
            level: 2,
            parents: vec![0, 1],
            hashes: vec![h; 4],
        };
        // tag, level, count, two deltas, four hashes
        assert_eq!(nodes.wire_bytes(), 1 + 1 + 1 + 2 + 64);
        assert_eq!(nodes.node_hashes(), 4);
        let items = MerkleMsg::Items {
            buckets: vec![BucketItems {
                bucket: 300,
                items: vec![(key(1), h)],
            }],
        };
        // tag, count, bucket 300 (2 bytes), item count, key (1 + 9), hash
        assert_eq!(items.wire_bytes(), 1 + 1 + 2 + 1 + 10 + 16);
        assert_eq!(items.item_hashes(), 1);
        assert_eq!(key_len(&key(1)), 10);
    }

    #[test]
    fn tree_and_messages_round_trip_through_serde() {
        let t = Replica::new(8, data(20)).tree;
        let json = serde_json::to_string(&t).unwrap();
        let back: MerkleTree = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let msg = t.open();
        let back: MerkleMsg = serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
        assert_eq!(back, msg);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Whatever the two replicas hold, the descent finds exactly the buckets whose items
            /// differ, and one exchange makes both hold the same data and the same root.
            #[test]
            fn one_exchange_converges(
                a in prop::collection::btree_map(0u64..400, 0u64..4, 0..300),
                b in prop::collection::btree_map(0u64..400, 0u64..4, 0..300),
                log_buckets in 0u32..8,
            ) {
                let buckets = 1 << log_buckets;
                let to_data = |m: &BTreeMap<u64, u64>| m.iter().map(|(k, v)| (key(*k), *v)).collect();
                let mut r = [Replica::new(buckets, to_data(&a)), Replica::new(buckets, to_data(&b))];
                let mut want = std::collections::BTreeSet::new();
                for k in a.keys().chain(b.keys()) {
                    if a.get(k) != b.get(k) {
                        want.insert(bucket_of(buckets, &key(*k)));
                    }
                }
                let cost = sync_cost(&r[0].tree, &r[1].tree);
                prop_assert_eq!(cost.differing_buckets, want.into_iter().collect::<Vec<_>>());
                exchange(&mut r);
                let mut merged = to_data(&a);
                for (k, v) in to_data(&b) {
                    let e = merged.entry(k).or_insert(v);
                    *e = (*e).max(v);
                }
                prop_assert_eq!(&r[0].data, &merged);
                prop_assert_eq!(&r[1].data, &merged);
                prop_assert_eq!(r[0].tree.root(), r[1].tree.root());
            }
        }
    }
}
