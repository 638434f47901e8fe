//! The cold tier's device. The core does no I/O: `MemDisk` keeps the bytes in memory and counts what a
//! disk would have done, so the simulator and the page can show disk traffic.

use crate::types::Key;
use foldhash::fast::FixedState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Counters of a disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskStats {
    /// Reads that found the key.
    pub reads: u64,
    /// Writes (each replaces the key's bytes).
    pub writes: u64,
    /// Removals of a key that was present.
    pub removes: u64,
    /// Bytes returned by reads.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Keys on the disk now.
    pub entries: u64,
    /// Bytes on the disk now (values only).
    pub bytes: u64,
}

/// Where the cold tier keeps stored forms, one blob per key.
pub trait Disk {
    /// Stores `bytes` as the blob of `key`, replacing any previous one.
    fn write(&mut self, key: &Key, bytes: &[u8]);
    /// The blob of `key`, counted as a read.
    fn read(&mut self, key: &Key) -> Option<Vec<u8>>;
    /// The blob of `key` without counting a read: for inspection (the UI, Merkle builds), so looking
    /// never changes what the simulation reports.
    fn peek(&self, key: &Key) -> Option<Vec<u8>>;
    /// Drops the blob of `key`, if any.
    fn remove(&mut self, key: &Key);
    /// The disk's counters.
    fn stats(&self) -> DiskStats;
}

/// An in-memory [`Disk`] that counts reads, writes and bytes.
#[derive(Clone, Debug, Default)]
pub struct MemDisk {
    blobs: HashMap<Key, Box<[u8]>, FixedState>,
    stats: DiskStats,
}

impl MemDisk {
    /// An empty disk.
    pub fn new() -> MemDisk {
        MemDisk::default()
    }
}

impl Disk for MemDisk {
    fn write(&mut self, key: &Key, bytes: &[u8]) {
        self.stats.writes += 1;
        self.stats.bytes_written += bytes.len() as u64;
        self.stats.bytes += bytes.len() as u64;
        if let Some(old) = self.blobs.insert(key.clone(), bytes.into()) {
            self.stats.bytes -= old.len() as u64;
        } else {
            self.stats.entries += 1;
        }
    }

    fn read(&mut self, key: &Key) -> Option<Vec<u8>> {
        let blob = self.blobs.get(key)?;
        self.stats.reads += 1;
        self.stats.bytes_read += blob.len() as u64;
        Some(blob.to_vec())
    }

    fn peek(&self, key: &Key) -> Option<Vec<u8>> {
        self.blobs.get(key).map(|b| b.to_vec())
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.blobs.remove(key) {
            self.stats.removes += 1;
            self.stats.entries -= 1;
            self.stats.bytes -= old.len() as u64;
        }
    }

    fn stats(&self) -> DiskStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memdisk_counts() {
        let mut d = MemDisk::new();
        let k = Key::from("a");
        d.write(&k, b"hello");
        d.write(&k, b"hi");
        assert_eq!(d.peek(&k).as_deref(), Some(&b"hi"[..]));
        assert_eq!(d.read(&k).as_deref(), Some(&b"hi"[..]));
        assert_eq!(d.read(&Key::from("b")), None);
        d.remove(&k);
        d.remove(&k);
        let s = d.stats();
        assert_eq!(
            s,
            DiskStats {
                reads: 1,
                writes: 2,
                removes: 1,
                bytes_read: 2,
                bytes_written: 7,
                entries: 0,
                bytes: 0
            }
        );
    }
}
