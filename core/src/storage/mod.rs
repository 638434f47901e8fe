//! One machine's storage (docs/protocol.md §Storage): a hash table, compression, and frequently used data in memory with the rest
//! on disk.

mod disk;
mod record;
mod store;

pub use disk::{Disk, DiskStats, MemDisk};
pub use record::{Record, COMPRESS_MIN_BYTES};
pub use store::{EntryInfo, Policy, Queue, Store, StoreStats, Tier, ENTRY_OVERHEAD_BYTES};
