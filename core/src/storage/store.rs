//! The store: a hash table whose records live compressed in a hot tier within a byte budget, the rest
//! on a cold [`Disk`].
//!
//! Layout. A hash table of slot numbers (hashbrown's `HashTable<u32>`, foldhash with a fixed seed, so
//! 4 bytes a bucket) indexes a slab of 64-byte-aligned slots. A slot holds the key, the record, and the
//! links of an intrusive doubly linked list: the LRU list, or S3-FIFO's small or main queue. Every
//! operation is O(1) (eviction amortised). Nothing ever depends on the table's iteration order:
//! whatever is listed is sorted by key first.
//!
//! Forms. A hot record is either *packed* (its lz4 stored form, decoded on every read) or *plain*
//! (the record itself: a read is a clone, for [`crate::Value`] an `Arc` increment). Compression buys
//! room at the price of lz4 on every read and write, so it is spent where it pays. A record is packed
//! when it enters the hot tier (a new key, a write to a cold record, a read from the disk) if its
//! encoding is at least [`super::record::COMPRESS_MIN_BYTES`] long and lz4 saves 1/8. Once it proves
//! hot (used again since it entered: a second read, or a write after any use) it is kept plain, and it
//! is packed again when it is evicted to the disk. One-hit wonders and everything on disk stay
//! compressed; the working set is served at hash-table speed. Memory is charged for the form held:
//! `key + stored form + ENTRY_OVERHEAD_BYTES`, a plain form counting its encoding and a flag byte.
//!
//! Tiers. The key index stays in memory for every key, hot or cold (like Bitcask's keydir), so a miss
//! never touches the disk and `len`, `contains` and `keys_sorted` are exact. Only records count against
//! the hot budget. A record read from the disk becomes hot and keeps its disk copy while it is
//! unchanged and packed, so evicting it again costs no write; a put or an unpacking drops the copy.
//!
//! Eviction. `Policy::Lru`, or `Policy::S3Fifo` (Yang et al., "FIFO queues are all you need for cache
//! eviction", SOSP'23): new records enter a small FIFO of 10% of the budget; one read there earns a
//! move to the main FIFO, where records with reads left are reinserted (one read spent each time)
//! instead of evicted. Records evicted from the small queue unread leave a ghost (the key index entry
//! remembers it); a ghost that is read again enters main directly.

use super::disk::{Disk, MemDisk};
use super::record::{self, Record, FLAG_PLAIN};
use crate::types::Key;
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::hash::BuildHasher;

/// Bytes charged per hot record on top of its key and stored form: its 64-byte slot, its share of
/// the index (about 6 bytes at hashbrown's load factor) and the allocation headers of key and record.
pub const ENTRY_OVERHEAD_BYTES: u64 = 96;

/// Largest read count remembered per record (two bits, as in S3-FIFO).
const MAX_FREQ: u8 = 3;
/// Share of the hot budget for S3-FIFO's small queue, in tenths.
const S3_SMALL_TENTHS: u64 = 1;

/// The hot tier's eviction policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Policy {
    /// Least recently used.
    Lru,
    /// S3-FIFO: small + main FIFO queues and a ghost queue. Beats LRU on skewed workloads.
    #[default]
    S3Fifo,
}

/// Where a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// In memory.
    Hot,
    /// On the disk only.
    Cold,
}

/// The queue of a hot record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Queue {
    /// The LRU list.
    Lru,
    /// S3-FIFO's small (probationary) queue.
    Small,
    /// S3-FIFO's main queue.
    Main,
}

/// One key as the inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryInfo {
    /// The key.
    pub key: Key,
    /// Hot or cold.
    pub tier: Tier,
    /// Size of the stored form (after compression, with its flag byte).
    pub stored_bytes: u32,
    /// Size of the record's encoding.
    pub raw_bytes: u32,
    /// Whether the stored form is lz4.
    pub compressed: bool,
    /// Queue of a hot record.
    pub queue: Option<Queue>,
    /// Recent reads (0..=3) of a hot record: S3-FIFO's frequency, and what makes a record plain.
    pub freq: u8,
    /// A cold key that S3-FIFO remembers as recently evicted from its small queue.
    pub ghost: bool,
}

/// Counters and sizes of a store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Records in memory.
    pub hot_entries: u64,
    /// Records on the disk only.
    pub cold_entries: u64,
    /// Bytes charged to the hot budget (key + stored form + overhead per record).
    pub hot_bytes: u64,
    /// The hot budget.
    pub hot_budget_bytes: u64,
    /// Stored bytes of cold records.
    pub cold_bytes: u64,
    /// Encoded size of all records.
    pub raw_bytes: u64,
    /// Stored size of all records.
    pub stored_bytes: u64,
    /// `stored_bytes / raw_bytes` (1.0 when empty). For display only.
    pub compression_ratio: f64,
    /// Reads served from memory.
    pub hits_hot: u64,
    /// Reads served from the disk (the record then becomes hot).
    pub hits_cold: u64,
    /// Reads of absent keys.
    pub misses: u64,
    /// Hot records moved to the cold tier to respect the budget.
    pub evictions: u64,
    /// Reads whose stored bytes did not decode, or whose disk blob was gone.
    pub decode_errors: u64,
    /// Disk reads.
    pub disk_reads: u64,
    /// Disk writes.
    pub disk_writes: u64,
}

impl StoreStats {
    /// Share of reads of present keys served from memory (for display).
    pub fn hot_hit_ratio(&self) -> f64 {
        let hits = self.hits_hot + self.hits_cold;
        if hits == 0 {
            0.0
        } else {
            self.hits_hot as f64 / hits as f64
        }
    }
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
enum Body<R> {
    /// Hot, kept decoded (stored form would be `[FLAG_PLAIN] encoding`).
    Plain(R),
    /// Hot, kept as its compressed stored form.
    Packed(Box<[u8]>),
    /// On the disk only.
    Cold,
    /// A free slot.
    Free,
}

/// Which list a slot is linked in; `None` for cold and free slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Lru = 0,
    Small = 1,
    Main = 2,
    None = 3,
}

#[derive(Clone, Debug)]
#[repr(align(64))]
struct Slot<R> {
    key: Key,
    body: Body<R>,
    raw_len: u32,
    stored_len: u32,
    prev: u32,
    next: u32,
    /// Cold: the stamp of this key's ghost entry in `Store::ghosts` (0: none). Hot: the length of the
    /// clean disk copy when it differs from `stored_len` (a packed copy of a record now kept plain;
    /// 0 otherwise). One field for both keeps the slot at 64 bytes.
    aux: u32,
    link: Link,
    freq: u8,
    /// The disk holds this record's current stored form (a clean copy, for a hot record).
    on_disk: bool,
    /// Known not to be worth packing (too short, or lz4 saved too little).
    no_pack: bool,
}

impl<R> Slot<R> {
    #[inline]
    fn cost(&self) -> u64 {
        self.key.len() as u64 + u64::from(self.stored_len) + ENTRY_OVERHEAD_BYTES
    }
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    len: u32,
    bytes: u64,
}

const EMPTY_LIST: List = List {
    head: NIL,
    tail: NIL,
    len: 0,
    bytes: 0,
};

#[inline]
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A node's key-value storage: hash table, compression, hot tier within a byte budget, cold tier on
/// a [`Disk`]. Generic over the record so the replication layer can store its version sets.
#[derive(Clone)]
pub struct Store<R, D = MemDisk> {
    policy: Policy,
    budget: u64,
    /// Slot of each key. The table holds only slot numbers (4 bytes a bucket, so it stays in cache);
    /// the key is compared in the slot, which a lookup reads anyway.
    index: HashTable<u32>,
    hasher: FixedState,
    slots: Vec<Slot<R>>,
    free: Vec<u32>,
    lists: [List; 3],
    hot_bytes: u64,
    /// S3-FIFO ghost queue: (slot, stamp), oldest first; an entry is live while its slot's `ghost`
    /// still equals the stamp.
    ghosts: VecDeque<(u32, u32)>,
    ghosts_live: usize,
    ghost_stamp: u32,
    disk: D,
    stats: StoreStats,
    /// Scratch: a record's encoding.
    enc: Vec<u8>,
    /// Scratch: a compressed stored form, or a decompressed encoding.
    buf: Vec<u8>,
    /// The key of free slots, so they do not keep a removed key alive.
    vacant: Key,
}

impl<R, D> fmt::Debug for Store<R, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("policy", &self.policy)
            .field("hot_budget_bytes", &self.budget)
            .field("hot_bytes", &self.hot_bytes)
            .field("len", &self.index.len())
            .finish_non_exhaustive()
    }
}

impl<R: Record> Store<R, MemDisk> {
    /// An empty store over an in-memory disk.
    pub fn new(hot_budget_bytes: u64, policy: Policy) -> Self {
        Store::with_disk(hot_budget_bytes, policy, MemDisk::new())
    }
}

impl<R: Record, D: Disk> Store<R, D> {
    /// An empty store over `disk`. The disk should be empty: the store knows only keys it wrote.
    pub fn with_disk(hot_budget_bytes: u64, policy: Policy, disk: D) -> Self {
        Store {
            policy,
            budget: hot_budget_bytes,
            index: HashTable::new(),
            hasher: FixedState::with_seed(0x006b_766c_6162),
            slots: Vec::new(),
            free: Vec::new(),
            lists: [EMPTY_LIST; 3],
            hot_bytes: 0,
            ghosts: VecDeque::new(),
            ghosts_live: 0,
            ghost_stamp: 0,
            disk,
            stats: StoreStats::default(),
            enc: Vec::new(),
            buf: Vec::new(),
            vacant: Key::from(""),
        }
    }

    /// The eviction policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The hot tier's budget in bytes.
    pub fn hot_budget_bytes(&self) -> u64 {
        self.budget
    }

    /// Changes the hot budget, evicting at once if the tier no longer fits.
    pub fn set_hot_budget_bytes(&mut self, bytes: u64) {
        self.budget = bytes;
        self.shrink();
    }

    /// The disk of the cold tier.
    pub fn disk(&self) -> &D {
        &self.disk
    }

    /// Number of keys, hot and cold.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether `key` is stored (in either tier). Touches nothing.
    pub fn contains(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// The record of `key`: from memory, or from the disk (the record then becomes hot, which may
    /// evict others). Counts a hot hit, a cold hit or a miss, and refreshes the record for eviction.
    pub fn get(&mut self, key: &str) -> Option<R> {
        let Some(i) = self.find(key) else {
            self.stats.misses += 1;
            return None;
        };
        let slot = &self.slots[i as usize];
        match &slot.body {
            Body::Plain(r) => {
                let r = r.clone();
                self.stats.hits_hot += 1;
                self.touch(i);
                Some(r)
            }
            Body::Packed(stored) => {
                let Some(r) = record::decode_stored::<R>(stored, &mut self.buf) else {
                    self.stats.decode_errors += 1;
                    self.stats.misses += 1;
                    return None;
                };
                self.stats.hits_hot += 1;
                let proven = slot.freq > 0;
                self.touch(i);
                if proven {
                    self.unpack_in_place(i, r.clone());
                }
                Some(r)
            }
            Body::Cold => self.promote(i),
            Body::Free => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// The record of `key` without counting or refreshing anything, and without promoting a cold
    /// record: for the inspector.
    pub fn peek(&self, key: &str) -> Option<R> {
        let i = self.find(key)?;
        self.decode_slot(i, &mut Vec::new(), |r| r.clone())
    }

    /// Stores `record` under `key`, in memory if it fits the hot budget (evicting others as needed),
    /// on the disk otherwise.
    pub fn put(&mut self, key: Key, record: R) {
        let existing = self.find(key.as_str());
        // A write to a hot record that was used since it entered the hot tier keeps it plain.
        let proven = existing.is_some_and(|i| {
            let s = &self.slots[i as usize];
            s.link != Link::None && s.freq > 0
        });
        let (body, raw_len, stored_len, no_pack) = if proven {
            let raw_len = len32(match record.encoded_len() {
                Some(n) => n,
                None => {
                    self.enc.clear();
                    record.encode(&mut self.enc);
                    self.enc.len()
                }
            });
            (
                Body::Plain(record),
                raw_len,
                raw_len.saturating_add(1),
                false,
            )
        } else {
            self.enc.clear();
            record.encode(&mut self.enc);
            let raw_len = len32(self.enc.len());
            if record::pack(&self.enc, &mut self.buf) {
                let packed = Body::Packed(self.buf.as_slice().into());
                (packed, raw_len, len32(self.buf.len()), false)
            } else {
                (
                    Body::Plain(record),
                    raw_len,
                    raw_len.saturating_add(1),
                    true,
                )
            }
        };
        self.stats.raw_bytes += u64::from(raw_len);
        self.stats.stored_bytes += u64::from(stored_len);

        let Some(i) = existing else {
            let i = self.alloc(key, body, raw_len, stored_len);
            self.slots[i as usize].no_pack = no_pack;
            self.admit(i);
            return;
        };
        let slot = &mut self.slots[i as usize];
        slot.no_pack = no_pack;
        self.stats.raw_bytes -= u64::from(slot.raw_len);
        self.stats.stored_bytes -= u64::from(slot.stored_len);
        if slot.on_disk {
            slot.on_disk = false;
            self.disk.remove(&slot.key);
        }
        if slot.link == Link::None {
            // Cold: the new record enters the hot tier like a new key.
            self.stats.cold_entries -= 1;
            self.stats.cold_bytes -= u64::from(slot.stored_len);
            slot.body = body;
            slot.raw_len = raw_len;
            slot.stored_len = stored_len;
            self.admit(i);
            return;
        }
        // Hot: replace in place; an overwrite counts as a use of the key.
        slot.aux = 0;
        let old_cost = slot.cost();
        slot.body = body;
        slot.raw_len = raw_len;
        slot.stored_len = stored_len;
        let new_cost = slot.cost();
        let list = &mut self.lists[slot.link as usize];
        list.bytes = list.bytes - old_cost + new_cost;
        self.hot_bytes = self.hot_bytes - old_cost + new_cost;
        if new_cost > self.budget {
            self.demote(i);
        } else {
            self.touch(i);
        }
        self.shrink();
    }

    /// Deletes `key` from both tiers; false if it was absent.
    pub fn remove(&mut self, key: &str) -> bool {
        let slots = &self.slots;
        let hash = self.hasher.hash_one(key);
        let Ok(entry) = self
            .index
            .find_entry(hash, |&i| slots[i as usize].key.as_str() == key)
        else {
            return false;
        };
        let (i, _) = entry.remove();
        if self.slots[i as usize].link == Link::None {
            self.clear_ghost(i);
        } else {
            self.unlink(i);
            self.hot_bytes -= self.slots[i as usize].cost();
        }
        let slot = &mut self.slots[i as usize];
        slot.aux = 0;
        if matches!(slot.body, Body::Cold) {
            self.stats.cold_entries -= 1;
            self.stats.cold_bytes -= u64::from(slot.stored_len);
        }
        if slot.on_disk {
            self.disk.remove(&slot.key);
        }
        self.stats.raw_bytes -= u64::from(slot.raw_len);
        self.stats.stored_bytes -= u64::from(slot.stored_len);
        slot.body = Body::Free;
        slot.key = self.vacant.clone();
        slot.raw_len = 0;
        slot.stored_len = 0;
        slot.on_disk = false;
        self.free.push(i);
        true
    }

    /// Loses every record, in memory and on the disk (a permanent failure). Counters survive.
    pub fn wipe(&mut self) {
        for slot in &self.slots {
            if slot.on_disk {
                self.disk.remove(&slot.key);
            }
        }
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.lists = [EMPTY_LIST; 3];
        self.hot_bytes = 0;
        self.ghosts.clear();
        self.ghosts_live = 0;
        let s = &mut self.stats;
        s.cold_entries = 0;
        s.cold_bytes = 0;
        s.raw_bytes = 0;
        s.stored_bytes = 0;
    }

    /// Every key, sorted.
    pub fn keys_sorted(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .index
            .iter()
            .map(|&i| self.slots[i as usize].key.clone())
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Slot indexes of every key, in key order.
    fn slots_sorted(&self) -> Vec<u32> {
        let mut order: Vec<u32> = self.index.iter().copied().collect();
        order
            .sort_unstable_by(|&a, &b| self.slots[a as usize].key.cmp(&self.slots[b as usize].key));
        order
    }

    /// Calls `f` with every (key, record) in key order, reading cold records without promoting or
    /// counting them: for Merkle trees and snapshots. Records that do not decode are skipped.
    pub fn for_each_sorted(&self, mut f: impl FnMut(&Key, &R)) {
        let mut scratch = Vec::new();
        for i in self.slots_sorted() {
            let key = &self.slots[i as usize].key;
            self.decode_slot(i, &mut scratch, |r| f(key, r));
        }
    }

    /// Every (key, record) in key order, like [`Store::for_each_sorted`].
    pub fn iter_sorted(&self) -> impl Iterator<Item = (Key, R)> + '_ {
        let mut scratch = Vec::new();
        self.slots_sorted().into_iter().filter_map(move |i| {
            let r = self.decode_slot(i, &mut scratch, |r| r.clone())?;
            Some((self.slots[i as usize].key.clone(), r))
        })
    }

    /// Every key with its tier, sizes and queue, in key order.
    pub fn entries_for_ui(&self) -> Vec<EntryInfo> {
        self.slots_sorted()
            .into_iter()
            .map(|i| {
                let s = &self.slots[i as usize];
                let hot = s.link != Link::None;
                EntryInfo {
                    key: s.key.clone(),
                    tier: if hot { Tier::Hot } else { Tier::Cold },
                    stored_bytes: s.stored_len,
                    raw_bytes: s.raw_len,
                    compressed: match &s.body {
                        Body::Packed(_) => true,
                        Body::Plain(_) => false,
                        // Eviction packs every record worth packing.
                        Body::Cold | Body::Free => !s.no_pack,
                    },
                    queue: match s.link {
                        Link::Lru => Some(Queue::Lru),
                        Link::Small => Some(Queue::Small),
                        Link::Main => Some(Queue::Main),
                        Link::None => None,
                    },
                    freq: if hot { s.freq } else { 0 },
                    ghost: !hot && s.aux != 0,
                }
            })
            .collect()
    }

    /// Counters and sizes.
    pub fn stats(&self) -> StoreStats {
        let disk = self.disk.stats();
        let mut s = self.stats;
        s.hot_entries = u64::from(self.lists.iter().map(|l| l.len).sum::<u32>());
        s.hot_bytes = self.hot_bytes;
        s.hot_budget_bytes = self.budget;
        s.compression_ratio = if s.raw_bytes == 0 {
            1.0
        } else {
            s.stored_bytes as f64 / s.raw_bytes as f64
        };
        s.disk_reads = disk.reads;
        s.disk_writes = disk.writes;
        s
    }

    // ---- internals ------------------------------------------------------------------------------

    /// Runs `f` on the record of slot `i`, decoding it (cold: from the disk, uncounted) if needed.
    fn decode_slot<T>(&self, i: u32, scratch: &mut Vec<u8>, f: impl FnOnce(&R) -> T) -> Option<T> {
        let slot = &self.slots[i as usize];
        let decoded: R = match &slot.body {
            Body::Plain(r) => return Some(f(r)),
            Body::Packed(stored) => record::decode_stored(stored, scratch)?,
            Body::Cold => record::decode_stored(&self.disk.peek(&slot.key)?, scratch)?,
            Body::Free => return None,
        };
        Some(f(&decoded))
    }

    /// A new cold-and-unlinked slot for `key`, indexed.
    fn alloc(&mut self, key: Key, body: Body<R>, raw_len: u32, stored_len: u32) -> u32 {
        let hash = self.hasher.hash_one(key.as_str());
        let slot = Slot {
            key,
            body,
            raw_len,
            stored_len,
            prev: NIL,
            next: NIL,
            aux: 0,
            link: Link::None,
            freq: 0,
            on_disk: false,
            no_pack: false,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                len32(self.slots.len() - 1)
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            hasher.hash_one(slots[j as usize].key.as_str())
        });
        i
    }

    /// The slot of `key`.
    #[inline]
    fn find(&self, key: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&i| self.slots[i as usize].key.as_str() == key)
            .copied()
    }

    /// Reads cold slot `i` from the disk and makes it hot.
    fn promote(&mut self, i: u32) -> Option<R> {
        let slot = &mut self.slots[i as usize];
        let decoded = self.disk.read(&slot.key).and_then(|stored| {
            let r: R = record::decode_stored(&stored, &mut self.buf)?;
            Some((r, stored))
        });
        let Some((r, stored)) = decoded else {
            self.stats.decode_errors += 1;
            self.stats.misses += 1;
            return None;
        };
        self.stats.hits_cold += 1;
        self.stats.cold_entries -= 1;
        self.stats.cold_bytes -= u64::from(slot.stored_len);
        slot.no_pack = stored.first() == Some(&FLAG_PLAIN);
        slot.body = if slot.no_pack {
            Body::Plain(r.clone())
        } else {
            Body::Packed(stored.into_boxed_slice())
        };
        slot.on_disk = true;
        self.admit(i);
        Some(r)
    }

    /// Puts unlinked slot `i` (holding a hot body) into the hot tier, or on the disk if it alone
    /// exceeds the budget; then evicts until the tier fits.
    fn admit(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        slot.freq = 0;
        let cost = slot.cost();
        if cost > self.budget {
            self.clear_ghost(i);
            self.make_cold(i);
            return;
        }
        let link = match self.policy {
            Policy::Lru => Link::Lru,
            Policy::S3Fifo if slot.aux != 0 => Link::Main,
            Policy::S3Fifo => Link::Small,
        };
        self.clear_ghost(i);
        self.push_front(link, i);
        self.hot_bytes += cost;
        self.shrink();
    }

    /// Records a use of hot slot `i`.
    #[inline]
    fn touch(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        if slot.freq < MAX_FREQ {
            // Skipping the write when saturated keeps the hottest slots' cache lines clean.
            slot.freq += 1;
        }
        if self.policy == Policy::Lru && self.lists[Link::Lru as usize].head != i {
            self.unlink(i);
            self.push_front(Link::Lru, i);
        }
    }

    /// Keeps hot packed slot `i` as the plain `record` from now on, unless that alone would not fit.
    fn unpack_in_place(&mut self, i: u32, record: R) {
        let slot = &mut self.slots[i as usize];
        let old_cost = slot.cost();
        let plain_len = slot.raw_len.saturating_add(1);
        let new_cost = old_cost - u64::from(slot.stored_len) + u64::from(plain_len);
        if new_cost > self.budget {
            return;
        }
        self.stats.stored_bytes =
            self.stats.stored_bytes - u64::from(slot.stored_len) + u64::from(plain_len);
        slot.body = Body::Plain(record);
        if slot.on_disk && slot.aux == 0 {
            // The clean disk copy stays valid: remember its (packed) length for eviction.
            slot.aux = slot.stored_len;
        }
        slot.stored_len = plain_len;
        let list = &mut self.lists[slot.link as usize];
        list.bytes = list.bytes - old_cost + new_cost;
        self.hot_bytes = self.hot_bytes - old_cost + new_cost;
        self.shrink();
    }

    /// Evicts until the hot tier fits its budget.
    fn shrink(&mut self) {
        while self.hot_bytes > self.budget {
            let evicted = match self.policy {
                Policy::Lru => self.evict_lru(),
                Policy::S3Fifo => self.evict_s3fifo(),
            };
            if !evicted {
                break;
            }
        }
    }

    fn evict_lru(&mut self) -> bool {
        let tail = self.lists[Link::Lru as usize].tail;
        if tail == NIL {
            return false;
        }
        self.demote(tail);
        true
    }

    fn evict_s3fifo(&mut self) -> bool {
        loop {
            let small = self.lists[Link::Small as usize];
            let main = self.lists[Link::Main as usize];
            let small_target = self.budget / 10 * S3_SMALL_TENTHS;
            if small.len > 0 && (small.bytes >= small_target || main.len == 0) {
                let t = small.tail;
                self.unlink(t);
                if self.slots[t as usize].freq > 0 {
                    // Read while on probation: worth keeping.
                    self.slots[t as usize].freq = 0;
                    self.push_front(Link::Main, t);
                    continue;
                }
                self.hot_bytes -= self.slots[t as usize].cost();
                self.stats.evictions += 1;
                self.make_cold(t);
                self.add_ghost(t);
                return true;
            }
            if main.len == 0 {
                return false;
            }
            let t = main.tail;
            let slot = &mut self.slots[t as usize];
            if slot.freq > 0 {
                slot.freq -= 1;
                self.unlink(t);
                self.push_front(Link::Main, t);
                continue;
            }
            self.demote(t);
            return true;
        }
    }

    /// Moves hot slot `i` to the cold tier.
    fn demote(&mut self, i: u32) {
        self.unlink(i);
        self.hot_bytes -= self.slots[i as usize].cost();
        self.stats.evictions += 1;
        self.make_cold(i);
    }

    /// Makes unlinked slot `i` cold, writing it (packed if worth it) unless the disk already has it.
    fn make_cold(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        let body = std::mem::replace(&mut slot.body, Body::Cold);
        // Hot meaning of `aux`: the length of a clean copy that differs from the form held.
        let clean_len = std::mem::take(&mut slot.aux);
        if slot.on_disk && clean_len != 0 {
            self.stats.stored_bytes =
                self.stats.stored_bytes - u64::from(slot.stored_len) + u64::from(clean_len);
            slot.stored_len = clean_len;
        }
        if !slot.on_disk {
            let stored_len = match &body {
                Body::Plain(r) => {
                    self.enc.clear();
                    self.enc.push(FLAG_PLAIN);
                    r.encode(&mut self.enc);
                    let form = if !slot.no_pack && record::pack(&self.enc[1..], &mut self.buf) {
                        &self.buf
                    } else {
                        slot.no_pack = true;
                        &self.enc
                    };
                    self.disk.write(&slot.key, form);
                    len32(form.len())
                }
                Body::Packed(stored) => {
                    self.disk.write(&slot.key, stored);
                    slot.stored_len
                }
                Body::Cold | Body::Free => slot.stored_len,
            };
            self.stats.stored_bytes =
                self.stats.stored_bytes - u64::from(slot.stored_len) + u64::from(stored_len);
            slot.stored_len = stored_len;
            slot.on_disk = true;
        }
        self.stats.cold_entries += 1;
        self.stats.cold_bytes += u64::from(slot.stored_len);
    }

    fn add_ghost(&mut self, i: u32) {
        self.ghost_stamp = self.ghost_stamp.wrapping_add(1).max(1);
        self.slots[i as usize].aux = self.ghost_stamp;
        self.ghosts.push_back((i, self.ghost_stamp));
        self.ghosts_live += 1;
        // The ghost queue remembers as many keys as the main queue holds (as in the paper); stale
        // entries (ghosts since read or removed) are dropped as they reach the front.
        let cap = self.lists[Link::Main as usize].len as usize;
        while self.ghosts_live > cap || self.ghosts.len() > 2 * cap + 64 {
            let Some((j, stamp)) = self.ghosts.pop_front() else {
                break;
            };
            let slot = &mut self.slots[j as usize];
            if slot.link == Link::None && slot.aux == stamp {
                slot.aux = 0;
                self.ghosts_live -= 1;
            }
        }
    }

    fn clear_ghost(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        if slot.link == Link::None && slot.aux != 0 {
            slot.aux = 0;
            self.ghosts_live -= 1;
        }
    }

    fn push_front(&mut self, link: Link, i: u32) {
        let cost = self.slots[i as usize].cost();
        let list = &mut self.lists[link as usize];
        let old_head = list.head;
        list.head = i;
        if old_head == NIL {
            list.tail = i;
        }
        list.len += 1;
        list.bytes += cost;
        if old_head != NIL {
            self.slots[old_head as usize].prev = i;
        }
        let slot = &mut self.slots[i as usize];
        slot.prev = NIL;
        slot.next = old_head;
        slot.link = link;
    }

    /// Takes slot `i` out of its list, if it is in one.
    fn unlink(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        if slot.link == Link::None {
            return;
        }
        let (prev, next, link) = (slot.prev, slot.next, slot.link);
        let cost = slot.cost();
        slot.prev = NIL;
        slot.next = NIL;
        slot.link = Link::None;
        if prev != NIL {
            self.slots[prev as usize].next = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        }
        let list = &mut self.lists[link as usize];
        if list.head == i {
            list.head = next;
        }
        if list.tail == i {
            list.tail = prev;
        }
        list.len -= 1;
        list.bytes -= cost;
    }
}

#[cfg(test)]
impl<R: Record, D: Disk> Store<R, D> {
    /// Recomputes every derived number from scratch and checks the links.
    fn check(&self) {
        let mut hot = 0u64;
        for (l, list) in self.lists.iter().enumerate() {
            let (mut n, mut bytes, mut prev, mut i) = (0u32, 0u64, NIL, list.head);
            while i != NIL {
                let s = &self.slots[i as usize];
                assert_eq!(s.link as usize, l);
                assert_eq!(s.prev, prev);
                assert!(matches!(s.body, Body::Plain(_) | Body::Packed(_)));
                assert!(
                    s.aux == 0 || s.on_disk,
                    "a hot record's aux is a clean copy's length"
                );
                n += 1;
                bytes += s.cost();
                prev = i;
                i = s.next;
            }
            assert_eq!(list.tail, prev);
            assert_eq!((list.len, list.bytes), (n, bytes));
            hot += bytes;
        }
        assert_eq!(hot, self.hot_bytes);
        assert!(
            self.hot_bytes <= self.budget,
            "{} > {}",
            self.hot_bytes,
            self.budget
        );
        let (mut raw, mut stored, mut cold, mut cold_bytes, mut ghosts) = (0, 0, 0, 0, 0);
        for &i in &self.index {
            let s = &self.slots[i as usize];
            let key = &s.key;
            assert_eq!(self.find(key.as_str()), Some(i));
            raw += u64::from(s.raw_len);
            stored += u64::from(s.stored_len);
            if matches!(s.body, Body::Cold) {
                assert_eq!(s.link, Link::None);
                assert!(s.on_disk);
                cold += 1;
                cold_bytes += u64::from(s.stored_len);
            }
            ghosts += usize::from(s.link == Link::None && s.aux != 0);
            let blob = self.disk.peek(key);
            assert_eq!(blob.is_some(), s.on_disk, "disk copy of {key}");
            if let Some(blob) = blob {
                let clean_len = if s.link != Link::None && s.aux != 0 {
                    s.aux
                } else {
                    s.stored_len
                };
                assert_eq!(blob.len() as u64, u64::from(clean_len));
                assert_eq!(blob[0] == FLAG_PLAIN, s.no_pack);
            }
            match &s.body {
                Body::Plain(r) => {
                    let mut enc = Vec::new();
                    r.encode(&mut enc);
                    assert_eq!(enc.len() as u64 + 1, u64::from(s.stored_len));
                }
                Body::Packed(b) => assert_eq!(b.len() as u64, u64::from(s.stored_len)),
                Body::Cold => assert!(s.on_disk),
                Body::Free => panic!("index points to a free slot"),
            }
        }
        assert_eq!(self.index.len() + self.free.len(), self.slots.len());
        assert_eq!(ghosts, self.ghosts_live);
        let st = self.stats();
        assert_eq!((st.raw_bytes, st.stored_bytes), (raw, stored));
        assert_eq!((st.cold_entries, st.cold_bytes), (cold, cold_bytes));
        assert_eq!(st.hot_entries + st.cold_entries, self.index.len() as u64);
        assert_eq!(
            self.disk.stats().entries,
            self.slots.iter().filter(|s| s.on_disk).count() as u64
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::types::Value;
    use crate::zipf::Zipf;
    use std::collections::BTreeMap;

    const POLICIES: [Policy; 2] = [Policy::Lru, Policy::S3Fifo];

    /// A JSON-ish shopping cart of `items` lines: compresses well, as real documents do.
    fn cart(rng: &mut Rng, items: u64) -> Value {
        let mut s = String::from("{\"cart\":[");
        for i in 0..items {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                "{{\"sku\":\"SKU-{:05}\",\"name\":\"item {}\",\"qty\":{},\"price_cents\":{}}}",
                rng.below(100_000),
                rng.below(1000),
                1 + rng.below(5),
                rng.below(100_000)
            ));
        }
        s.push_str("]}");
        Value::from(s.as_str())
    }

    fn noise(rng: &mut Rng, len: u64) -> Value {
        Value::from((0..len).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>())
    }

    #[test]
    fn roundtrip_plain_and_compressed() {
        for policy in POLICIES {
            let mut rng = Rng::new(1);
            let mut st: Store<Value> = Store::new(1 << 20, policy);
            let small = Value::from("v1");
            let big = cart(&mut rng, 20);
            let rand = noise(&mut rng, 500);
            st.put(Key::from("a"), small.clone());
            st.put(Key::from("b"), big.clone());
            st.put(Key::from("c"), rand.clone());
            st.put(Key::from("e"), Value::from(""));
            assert_eq!(st.get("a"), Some(small));
            assert_eq!(st.get("b"), Some(big.clone()));
            assert_eq!(st.get("c"), Some(rand));
            assert_eq!(st.get("e"), Some(Value::from("")));
            assert_eq!(st.get("d"), None);
            assert_eq!(st.peek("b"), Some(big));
            let info = st.entries_for_ui();
            assert_eq!(
                info.iter().map(|e| e.compressed).collect::<Vec<_>>(),
                [false, true, false, false]
            );
            assert!(st.contains("a") && !st.contains("d"));
            assert_eq!(st.len(), 4);
            st.put(Key::from("a"), Value::from("v2"));
            assert_eq!(st.get("a"), Some(Value::from("v2")));
            assert!(st.remove("a"));
            assert!(!st.remove("a"));
            assert_eq!(st.get("a"), None);
            assert_eq!(st.len(), 3);
            st.check();
        }
    }

    #[test]
    fn eviction_goes_to_disk_and_reads_promote() {
        for policy in POLICIES {
            let value = Value::from(vec![7u8; 100]);
            let cost = 3 + 101 + ENTRY_OVERHEAD_BYTES; // "kNN" + plain form + overhead
            let mut st: Store<Value> = Store::new(cost * 5, policy);
            for k in 10..30 {
                st.put(Key::from(format!("k{k}")), value.clone());
                st.check();
            }
            let s = st.stats();
            assert_eq!((s.hot_entries, s.cold_entries), (5, 15));
            assert_eq!(s.disk_writes, 15);
            assert_eq!(s.evictions, 15);
            // The last five are hot, the first is cold.
            let hot = st
                .entries_for_ui()
                .iter()
                .filter(|e| e.tier == Tier::Hot)
                .count();
            assert_eq!(hot, 5);
            assert_eq!(st.entries_for_ui()[0].tier, Tier::Cold);
            assert_eq!(st.peek("k10"), Some(value.clone()));
            assert_eq!(st.stats().disk_reads, 0, "peek does not count");
            assert_eq!(st.get("k10"), Some(value.clone()));
            let s = st.stats();
            assert_eq!((s.hits_cold, s.disk_reads, s.hot_entries), (1, 1, 5));
            assert_eq!(st.entries_for_ui()[0].tier, Tier::Hot);
            assert_eq!(st.get("k10"), Some(value.clone()));
            assert_eq!(st.stats().hits_hot, 1);
            st.check();
        }
    }

    #[test]
    fn clean_copies_are_not_rewritten_and_overwrites_drop_them() {
        let value = Value::from(vec![1u8; 50]);
        let mut st: Store<Value> = Store::new(200, Policy::Lru);
        st.put(Key::from("a"), value.clone());
        st.put(Key::from("b"), value.clone()); // evicts a
        assert_eq!(st.stats().disk_writes, 1);
        st.get("a"); // promotes a (clean), evicts b
        assert_eq!(st.stats().disk_writes, 2);
        st.get("b"); // promotes b, evicts a: a is clean, no write
        assert_eq!(st.stats().disk_writes, 2);
        st.check();
        st.put(Key::from("b"), Value::from("new")); // b's disk copy is stale now
        assert_eq!(st.disk().stats().entries, 1);
        st.check();
        assert_eq!(st.get("b"), Some(Value::from("new")));
    }

    #[test]
    fn records_are_packed_until_proven_hot_and_packed_again_on_eviction() {
        let mut rng = Rng::new(8);
        let doc = cart(&mut rng, 30);
        let mut st: Store<Value> = Store::new(1 << 20, Policy::S3Fifo);
        let form = |st: &Store<Value>| {
            let e = &st.entries_for_ui()[0];
            (e.tier, e.compressed)
        };
        st.put(Key::from("cart"), doc.clone());
        assert_eq!(form(&st), (Tier::Hot, true));
        let packed = st.stats().stored_bytes;
        assert!(packed * 2 < doc.len() as u64);
        assert_eq!(st.get("cart"), Some(doc.clone()));
        assert_eq!(form(&st), (Tier::Hot, true), "one read is not yet hot");
        assert_eq!(st.get("cart"), Some(doc.clone()));
        assert_eq!(form(&st), (Tier::Hot, false), "the second read unpacks");
        assert_eq!(st.stats().stored_bytes, doc.len() as u64 + 1);
        st.check();
        // A write to a hot record stays plain.
        let doc2 = cart(&mut rng, 31);
        st.put(Key::from("cart"), doc2.clone());
        assert_eq!(form(&st), (Tier::Hot, false));
        st.check();
        // Evicted: packed on the disk.
        st.set_hot_budget_bytes(0);
        assert_eq!(form(&st), (Tier::Cold, true));
        assert!(st.stats().stored_bytes * 2 < doc2.len() as u64);
        st.check();
        // Read back: hot and packed again.
        st.set_hot_budget_bytes(1 << 20);
        assert_eq!(st.get("cart"), Some(doc2.clone()));
        assert_eq!(form(&st), (Tier::Hot, true));
        st.check();
        // Proven hot again: plain in memory, while the packed disk copy stays clean...
        let cold_size = st.stats().stored_bytes;
        let writes = st.stats().disk_writes;
        assert_eq!(st.get("cart"), Some(doc2.clone()));
        assert_eq!(
            form(&st),
            (Tier::Hot, true),
            "the read from disk was its entry"
        );
        assert_eq!(st.get("cart"), Some(doc2.clone()));
        assert_eq!(form(&st), (Tier::Hot, false));
        assert_eq!(st.disk().stats().entries, 1);
        st.check();
        // ...so evicting it again writes nothing.
        st.set_hot_budget_bytes(0);
        assert_eq!(form(&st), (Tier::Cold, true));
        assert_eq!(st.stats().disk_writes, writes);
        assert_eq!(st.stats().stored_bytes, cold_size);
        st.check();
        assert_eq!(st.peek("cart"), Some(doc2));
    }

    #[test]
    fn oversized_records_go_straight_to_disk() {
        for policy in POLICIES {
            let mut st: Store<Value> = Store::new(300, policy);
            let mut rng = Rng::new(4);
            let big = noise(&mut rng, 1000);
            st.put(Key::from("big"), big.clone());
            st.check();
            assert_eq!(st.stats().hot_entries, 0);
            assert_eq!(st.get("big"), Some(big.clone()));
            assert_eq!(st.stats().hot_entries, 0);
            st.put(Key::from("s"), Value::from("x"));
            st.put(Key::from("s"), big.clone());
            st.check();
            assert_eq!(st.get("s"), Some(big));
            st.set_hot_budget_bytes(0);
            st.check();
            assert_eq!(st.stats().hot_entries, 0);
        }
    }

    #[test]
    fn wipe_loses_everything() {
        let mut st: Store<Value> = Store::new(1000, Policy::S3Fifo);
        for k in 0..50 {
            st.put(Key::from(format!("k{k}")), Value::from("some value"));
        }
        st.get("k3");
        st.wipe();
        st.check();
        assert!(st.is_empty());
        assert_eq!(st.get("k3"), None);
        assert_eq!(st.get("k49"), None);
        let s = st.stats();
        assert_eq!(
            (s.hot_entries, s.cold_entries, s.hot_bytes, s.raw_bytes),
            (0, 0, 0, 0)
        );
        assert_eq!(st.disk().stats().entries, 0);
        st.put(Key::from("again"), Value::from("1"));
        assert_eq!(st.get("again"), Some(Value::from("1")));
        st.check();
    }

    #[test]
    fn stats_count_what_happened() {
        let mut st: Store<Vec<u8>> = Store::new(1 << 20, Policy::S3Fifo);
        st.put(Key::from("a"), b"12345".to_vec());
        st.put(Key::from("bb"), b"1".to_vec());
        st.get("a");
        st.get("a");
        st.get("zz");
        let s = st.stats();
        assert_eq!((s.hits_hot, s.hits_cold, s.misses), (2, 0, 1));
        assert_eq!((s.raw_bytes, s.stored_bytes), (6, 8));
        assert_eq!(s.hot_bytes, 1 + 6 + 2 + 2 + 2 * ENTRY_OVERHEAD_BYTES);
        assert_eq!(
            (s.hot_entries, s.cold_entries, s.disk_reads, s.disk_writes),
            (2, 0, 0, 0)
        );
        assert!((s.compression_ratio - 8.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn repetitive_json_compresses_below_half() {
        let mut rng = Rng::new(9);
        let mut st: Store<Value> = Store::new(u64::MAX, Policy::S3Fifo);
        for k in 0..200 {
            let items = 3 + rng.below(20);
            st.put(Key::from(format!("cart:{k}")), cart(&mut rng, items));
        }
        let ratio = st.stats().compression_ratio;
        assert!(ratio < 0.5, "compression ratio {ratio}");
    }

    #[test]
    fn sorted_walks_see_every_record_in_key_order_without_touching() {
        let mut st: Store<Value> = Store::new(400, Policy::Lru);
        for k in [5, 3, 9, 1, 7] {
            st.put(
                Key::from(format!("k{k}")),
                Value::from(format!("v{k}").as_str()),
            );
        }
        let before = st.stats();
        let order = st
            .entries_for_ui()
            .iter()
            .map(|e| e.tier)
            .collect::<Vec<_>>();
        let mut seen = Vec::new();
        st.for_each_sorted(|k, v| seen.push((k.to_string(), v.to_text())));
        assert_eq!(
            seen,
            [1, 3, 5, 7, 9]
                .map(|k| (format!("k{k}"), format!("v{k}")))
                .to_vec()
        );
        let iterated: Vec<(Key, Value)> = st.iter_sorted().collect();
        assert_eq!(iterated.len(), 5);
        assert_eq!(
            st.keys_sorted(),
            iterated.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
        );
        assert_eq!(st.stats(), before);
        assert_eq!(
            st.entries_for_ui()
                .iter()
                .map(|e| e.tier)
                .collect::<Vec<_>>(),
            order
        );
    }

    /// Random operations against a BTreeMap model, checking every invariant after each step.
    #[test]
    fn random_operations_match_a_model() {
        for policy in POLICIES {
            for seed in 0..4 {
                let mut rng = Rng::new(seed);
                let budget = 500 + rng.below(3000);
                let mut st: Store<Value> = Store::new(budget, policy);
                let mut model: BTreeMap<String, Value> = BTreeMap::new();
                for step in 0..3000 {
                    let key = format!("key{}", rng.below(60));
                    match rng.below(10) {
                        0..=3 => {
                            let n = rng.below(2000);
                            let v = match rng.below(3) {
                                0 => noise(&mut rng, n / 6),
                                1 => cart(&mut rng, n / 300),
                                _ => Value::from(vec![b'x'; n as usize]),
                            };
                            st.put(Key::from(key.as_str()), v.clone());
                            model.insert(key, v);
                        }
                        4..=7 => assert_eq!(st.get(&key), model.get(&key).cloned(), "step {step}"),
                        8 => assert_eq!(st.remove(&key), model.remove(&key).is_some()),
                        _ => assert_eq!(st.peek(&key), model.get(&key).cloned()),
                    }
                    st.check();
                }
                let all: Vec<(String, Value)> =
                    st.iter_sorted().map(|(k, v)| (k.to_string(), v)).collect();
                assert_eq!(all, model.into_iter().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn same_operations_same_state() {
        let run = || {
            let mut rng = Rng::new(77);
            let mut st: Store<Value> = Store::new(5000, Policy::S3Fifo);
            for _ in 0..5000 {
                let key = format!("k{}", rng.below(200));
                if rng.below(3) == 0 {
                    let items = rng.below(4);
                    st.put(Key::from(key), cart(&mut rng, items));
                } else {
                    st.get(&key);
                }
            }
            (st.entries_for_ui(), st.stats())
        };
        assert_eq!(run(), run());
    }

    /// Hot-tier hit ratio of `policy` on Zipf-0.99 reads over 10k keys with a budget of 10% of the
    /// data. Shared with the bench, which prints it.
    fn zipf_hit_ratio(policy: Policy, reads: u64) -> f64 {
        let keys = 10_000u64;
        let value = Value::from(vec![b'v'; 100]);
        let per_entry = 8 + 101 + ENTRY_OVERHEAD_BYTES;
        let mut st: Store<Value> = Store::new(keys * per_entry / 10, policy);
        let names: Vec<Key> = (0..keys).map(|k| Key::from(format!("key{k:05}"))).collect();
        for k in &names {
            st.put(k.clone(), value.clone());
        }
        let zipf = Zipf::new(keys, 990);
        let mut rng = Rng::new(2024);
        for _ in 0..reads {
            st.get(names[zipf.sample(&mut rng) as usize].as_str());
        }
        st.stats().hot_hit_ratio()
    }

    #[test]
    fn s3fifo_beats_lru_on_zipf() {
        let lru = zipf_hit_ratio(Policy::Lru, 200_000);
        let s3 = zipf_hit_ratio(Policy::S3Fifo, 200_000);
        assert!(s3 > lru + 0.01, "S3-FIFO {s3:.4} vs LRU {lru:.4}");
    }
}
