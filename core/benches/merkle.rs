//! Bytes a Merkle anti-entropy exchange sends, against a full sync. It measures bytes, not time, so
//! it prints a table instead of timing anything: `cargo bench -p kvlab-core --bench merkle`.
//!
//! Two replicas hold the same 100 000 keys (`key-000000` …), each record a 100-byte value and a
//! three-entry vector clock, except for `d` keys:
//! - `stale`: one of the two replicas (chosen at random per key) missed the key's last update;
//! - `missing`: one of the two replicas (chosen at random per key) lacks the key altogether.
//!
//! The exchange runs exactly as the module docs of `kvlab_core::merkle` describe it (tree descent,
//! items listing, then two record messages), every byte counted under the same wire model. A full
//! sync sends every key and record once, one way. After each exchange both replicas must hold the
//! same data and the same root, or the bench panics.
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it only smoke-tests 2 000 keys.

use kvlab_core::bench_support::{
    item_hash, key_len as key_wire_bytes, record_digest, varint_len as varint_bytes,
};
use kvlab_core::{Key, MerkleStep, MerkleTree, Rng};
use std::collections::BTreeMap;

const VALUE_BYTES: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    value: Vec<u8>,
    /// (node, counter) entries.
    clock: Vec<(u16, u64)>,
}

impl Record {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.value.len() + 32);
        put_varint(&mut out, self.value.len() as u64);
        out.extend_from_slice(&self.value);
        put_varint(&mut out, self.clock.len() as u64);
        for (node, counter) in &self.clock {
            out.extend_from_slice(&node.to_le_bytes());
            put_varint(&mut out, *counter);
        }
        out
    }

    fn digest(&self) -> [u8; 32] {
        record_digest(&self.encode())
    }

    fn dominates(&self, other: &Record) -> bool {
        other
            .clock
            .iter()
            .all(|(n, c)| self.clock.iter().any(|(m, d)| m == n && d >= c))
    }
}

fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// A key and its record as sent: the key, then the encoded record.
fn record_wire_bytes(key: &Key, r: &Record) -> usize {
    key_wire_bytes(key) + r.encode().len()
}

#[derive(Clone)]
struct Replica {
    data: BTreeMap<Key, Record>,
    tree: MerkleTree,
}

impl Replica {
    fn merge(&mut self, key: &Key, theirs: Record) {
        let merged = match self.data.get(key) {
            Some(mine) if mine.dominates(&theirs) => return,
            _ => theirs,
        };
        self.tree.update(key, merged.digest());
        self.data.insert(key.clone(), merged);
    }

    fn remove(&mut self, key: &Key) {
        self.data.remove(key);
        self.tree.remove(key);
    }
}

#[derive(Default)]
struct Bytes {
    messages: u64,
    node_hashes: u64,
    item_hashes: u64,
    tree_bytes: u64,
    record_bytes: u64,
}

/// One exchange initiated by `r[0]`, bytes of every message counted.
fn exchange(r: &mut [Replica; 2]) -> Bytes {
    let mut bytes = Bytes::default();
    let mut msg = r[0].tree.open();
    let mut to = 1;
    loop {
        bytes.messages += 1;
        bytes.node_hashes += msg.node_hashes() as u64;
        bytes.item_hashes += msg.item_hashes() as u64;
        bytes.tree_bytes += msg.wire_bytes() as u64;
        let step = r[to].tree.answer(&msg);
        match step {
            MerkleStep::Reply(next) => {
                msg = next;
                to = 1 - to;
            }
            MerkleStep::Repair(rep) => {
                let (y, x) = (to, 1 - to);
                // Y → X: Y's records of `push`, and the keys of `pull`.
                let pushed: Vec<(Key, Record)> = rep
                    .push
                    .iter()
                    .map(|k| (k.clone(), r[y].data[k].clone()))
                    .collect();
                bytes.messages += 1;
                bytes.record_bytes += 1
                    + varint_bytes(pushed.len() as u64) as u64
                    + pushed
                        .iter()
                        .map(|(k, v)| record_wire_bytes(k, v) as u64)
                        .sum::<u64>()
                    + varint_bytes(rep.pull.len() as u64) as u64
                    + rep
                        .pull
                        .iter()
                        .map(|k| key_wire_bytes(k) as u64)
                        .sum::<u64>();
                // X merges; sends back what Y still lacks, and the pulled keys.
                let mut back = Vec::new();
                for (k, v) in pushed {
                    let sent = item_hash(&k, &v.digest());
                    r[x].merge(&k, v);
                    if r[x].tree.item(&k) != Some(sent) {
                        back.push((k.clone(), r[x].data[&k].clone()));
                    }
                }
                for k in rep.pull {
                    if let Some(v) = r[x].data.get(&k) {
                        back.push((k, v.clone()));
                    }
                }
                bytes.messages += 1;
                bytes.record_bytes += 1
                    + varint_bytes(back.len() as u64) as u64
                    + back
                        .iter()
                        .map(|(k, v)| record_wire_bytes(k, v) as u64)
                        .sum::<u64>();
                for (k, v) in back {
                    r[y].merge(&k, v);
                }
                break;
            }
            MerkleStep::InSync | MerkleStep::Incompatible => break,
        }
    }
    bytes
}

fn key(i: u64) -> Key {
    Key::from(format!("key-{i:06}"))
}

fn base_data(rng: &mut Rng, keys: u64) -> BTreeMap<Key, Record> {
    (0..keys)
        .map(|i| {
            let value = (0..VALUE_BYTES).map(|_| rng.below(256) as u8).collect();
            let clock = (0..3).map(|n| (n, 1 + rng.below(1000))).collect();
            (key(i), Record { value, clock })
        })
        .collect()
}

/// `d` distinct keys, drawn uniformly.
fn pick(rng: &mut Rng, keys: u64, d: u64) -> Vec<Key> {
    let mut ids: Vec<u64> = (0..keys).collect();
    rng.shuffle(&mut ids);
    ids.truncate(d as usize);
    ids.into_iter().map(key).collect()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (keys, bucket_counts, ds): (u64, &[u32], &[u64]) = if full {
        (
            100_000,
            &[1024, 4096, 16384, 32768, 65536],
            &[1, 10, 100, 1000],
        )
    } else {
        (2_000, &[64], &[1, 10])
    };
    let mut rng = Rng::derive(1, "merkle-bench", 0);
    let data = base_data(&mut rng, keys);
    let full_sync: u64 = data
        .iter()
        .map(|(k, v)| record_wire_bytes(k, v) as u64)
        .sum();
    let record = full_sync as f64 / keys as f64;
    println!("Merkle anti-entropy vs full sync: {keys} keys, record (key + {VALUE_BYTES} B value + 3-entry clock) = {record:.1} B on average, full sync = {full_sync} B.");
    println!("Hashes are {} B. 'tree' = Root + Nodes + Items messages; 'records' = the two record messages.", kvlab_core::HASH_BYTES);
    println!();
    println!(
        "| {:>6} | {:>7} | {:>8} | {:>5} | {:>4} | {:>7} | {:>7} | {:>10} | {:>10} | {:>10} | {:>8} | {:>6} | {:>8} |",
        "B", "keys/B", "scenario", "d", "msgs", "hashes", "items", "tree B", "records B", "total B", "B/key", "×rec", "% full"
    );
    println!("|-------:|--------:|---------:|------:|-----:|--------:|--------:|-----------:|-----------:|-----------:|---------:|-------:|---------:|");
    for &buckets in bucket_counts {
        let tree = MerkleTree::build(buckets, data.iter().map(|(k, v)| (k, v.digest())));
        let base = Replica {
            data: data.clone(),
            tree,
        };
        for scenario in ["stale", "missing"] {
            for &d in ds {
                let mut rng = Rng::derive(u64::from(buckets), scenario, d);
                let mut r = [base.clone(), base.clone()];
                for k in pick(&mut rng, keys, d) {
                    let side = rng.below(2) as usize;
                    if scenario == "stale" {
                        let mut newer = r[side].data[&k].clone();
                        newer.clock[rng.below(3) as usize].1 += 1;
                        newer.value[0] ^= 0xff;
                        r[side].merge(&k, newer);
                    } else {
                        r[side].remove(&k);
                    }
                }
                let b = exchange(&mut r);
                assert!(r[0].data == r[1].data, "replicas did not converge");
                assert_eq!(r[0].tree.root(), r[1].tree.root());
                let total = b.tree_bytes + b.record_bytes;
                let per_key = total as f64 / d as f64;
                println!(
                    "| {:>6} | {:>7.1} | {:>8} | {:>5} | {:>4} | {:>7} | {:>7} | {:>10} | {:>10} | {:>10} | {:>8.0} | {:>6.2} | {:>7.3}% |",
                    buckets,
                    keys as f64 / f64::from(buckets),
                    scenario,
                    d,
                    b.messages,
                    b.node_hashes,
                    b.item_hashes,
                    b.tree_bytes,
                    b.record_bytes,
                    total,
                    per_key,
                    per_key / record,
                    100.0 * total as f64 / full_sync as f64,
                );
            }
        }
    }
}
