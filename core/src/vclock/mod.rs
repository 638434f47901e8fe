//! Vector clocks and the versions of a key they order (docs/protocol.md §Versions).
//!
//! A [`VectorClock`] is a list of `[node, counter]` pairs, sorted by node. Clock `a` happened before
//! clock `b` when every counter of `a` is at most the same node's counter in `b` and the clocks differ.
//!
//! Versions are *dotted* ([`Version`]): each carries the context the client read (a clock) and one
//! dot, the `(coordinator, counter)` pair that names this very write. A write supersedes exactly the
//! versions whose dots its context covers. Plain Dynamo clocks cannot do that: a blind write through
//! `Sx` next to a stored `[Sx,2]` would become either `[Sx,1]` (dominated, silently dropped) or
//! `[Sx,3]` (silently overwriting a version its client never saw). With a dot it becomes the version
//! `(context [], dot [Sx,3])`, which covers nothing, so both are kept as siblings.
//!
//! Two rules keep a [`VersionSet`] exact; both are about how sets travel between replicas:
//!
//! - **Replicate sets, not single versions.** A version's [`Version::clock`] claims every dot of its
//!   coordinator up to its own, including concurrent siblings written through the same coordinator
//!   that it does not descend. That claim is true of the coordinator's *set*, which holds those
//!   siblings (or versions that supersede them), so a replica that merges whole sets
//!   ([`VersionSet::merge`]) never hands out a context that covers a version it has not seen. A
//!   replica that receives only the newest version can, and a later write through it then supersedes
//!   a sibling its client never read. The unit test `single_version_replication_can_lose_a_sibling`
//!   shows the difference.
//! - **Counters never go back.** The next dot of a coordinator is one more than the highest counter
//!   of that coordinator its set (or the client's context) knows. A node whose storage is wiped and
//!   that keeps its id can hand out a dot again; two different versions with one dot are then kept
//!   as siblings (they are not identical), never merged into one.
//!
//! Pruning trades exactness for size: once a context loses the entry of an ancestor's
//! coordinator it no longer covers that ancestor, and a replica that still holds the ancestor keeps
//! it as a false sibling next to its descendant. Siblings are never lost that way, only kept too long.
//!
//! [`clock`] holds the clocks (over the inline [`entries`] storage), [`dots`] the dot and version
//! of one write, [`versions`] the set of siblings a replica keeps and the two ways it can reconcile
//! them ([`crate::ConflictMode`]).

mod clock;
mod dots;
mod entries;
mod versions;

pub use clock::{Causality, ClockEntry, VectorClock};
pub use dots::{Dot, Version};
pub use versions::{VersionSet, WriteStamp};

#[cfg(test)]
mod tests;
