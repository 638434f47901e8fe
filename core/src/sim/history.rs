//! The history oracle: judges the store by what its clients saw, never by its own bookkeeping.
//!
//! Every put a client submits is a *write*, named by its request id. The oracle records, for each
//! write, the writes returned by the read its context came from (its *read-from* set). A write may
//! be absent from a replica at the end only if it was *legitimately superseded*: some later write
//! whose writer read it (directly, or through a chain of such writes) was acknowledged, or is
//! itself still there. Nothing here compares clocks or asks a node what covers what: a checker that
//! reads the store's clocks to decide can vouch for a loss its clocks caused (issue 8's two losses
//! were reported "fully replicated" by [`super::Simulation::check_acked_writes`]).
//!
//! The oracle recognises a version in a read by its key, its dot and its value: the coordinator
//! reports the dot it gave each write ([`crate::NodeEvent::Wrote`]), and the value is the client's.
//! The dot is only a name here; a version the oracle cannot name (a dot no write was given, or a
//! value that write did not carry) is itself a violation.
//!
//! What it checks:
//! - **durability** (at [`History::final_check`], after faults heal and replicas converge): every
//!   acknowledged write is on each of its key's N home replicas, or legitimately superseded;
//! - **no resurrection**: a read never returns a write next to a write that superseded it, and no
//!   replica ends holding both (skipped when clock pruning is on: pruning may keep false siblings);
//! - **reads see acknowledged writes**: with R + W > N and no fault injected so far, a read that
//!   starts after a write's acknowledgement returns it or a write that superseded it;
//! - **names are unique**: two writes are never given the same dot of a key.

use super::properties::Cluster;
use crate::message::{Reply, ReplyBody, Request};
use crate::types::Actor;
use crate::types::{Key, NodeId, RequestId, Time};
use crate::vclock::{Causality, Dot, VectorClock, Version};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};

/// Index of a write in the oracle's table: the order writes were submitted in.
type W = u64;

/// Reads remembered per key to name the read a hand-made put's context came from.
const RECENT_READS: usize = 16;
/// Violations kept with their details (all are counted).
const VIOLATIONS_KEPT: usize = 64;

#[derive(Clone, Debug)]
struct WriteRec {
    req: RequestId,
    key: Key,
    value: u64,
    /// The dot the coordinator reported.
    dot: Option<Dot>,
    /// Further dots, if a node misbehaved and reported several (kept apart: no allocation for
    /// the usual single dot).
    more_dots: Vec<Dot>,
    /// Writes returned by the read this write's context came from.
    read_from: Vec<W>,
    /// Writes whose context came from a read that returned this one (its would-be successors).
    read_by: Vec<W>,
    /// Whether its put failed (it may still have been stored).
    failed: bool,
    acked: Option<Time>,
    /// Superseded by an acknowledged (or surviving) write whose writer read it.
    superseded: bool,
}

impl WriteRec {
    fn has_dot(&self, d: Dot) -> bool {
        self.dot == Some(d) || self.more_dots.contains(&d)
    }
}

/// Something the clients saw that a correct store never shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Violation {
    /// An acknowledged write, not superseded by any write whose writer read it, is missing from
    /// these home replicas at the end (`everywhere`: no node holds it at all, hints included).
    Lost {
        /// The key.
        key: Key,
        /// The put's request id.
        write: RequestId,
        /// Home replicas without it.
        missing_on: Vec<NodeId>,
        /// Whether no node holds it anywhere.
        everywhere: bool,
    },
    /// A read (or a replica at the end) returned a version no client wrote.
    Phantom {
        /// The key.
        key: Key,
        /// The version's dot.
        dot: Dot,
    },
    /// A write came back next to a write that superseded it.
    Resurrected {
        /// The key.
        key: Key,
        /// The superseded write.
        write: RequestId,
        /// The write whose writer had read it.
        by: RequestId,
    },
    /// With R + W > N and no faults, a read missed an acknowledged write and all its successors.
    StaleRead {
        /// The key.
        key: Key,
        /// The get.
        read: RequestId,
        /// The acknowledged write it missed.
        missed: RequestId,
    },
    /// Two writes of one key were given the same dot.
    DuplicateDot {
        /// The key.
        key: Key,
        /// The dot.
        dot: Dot,
    },
    /// A read returned two siblings one of which covers the other (docs/protocol.md §Versions):
    /// the store's merge should have dropped the covered one.
    CoveredSibling {
        /// The key.
        key: Key,
        /// The covered version's dot.
        dot: Dot,
        /// The dot of the version that covers it.
        by: Dot,
    },
    /// A put was acknowledged with a version its coordinator never reported writing.
    AckedUnwritten {
        /// The key.
        key: Key,
        /// The put.
        write: RequestId,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Lost {
                key,
                write,
                missing_on,
                everywhere,
            } => {
                write!(f, "write {write} of {key:?} lost: missing on")?;
                for n in missing_on {
                    write!(f, " {n}")?;
                }
                if *everywhere {
                    f.write_str(" (and on every other node)")?;
                }
                Ok(())
            }
            Violation::Phantom { key, dot } => {
                write!(f, "{key:?} returned {dot}, which no client wrote")
            }
            Violation::Resurrected { key, write, by } => {
                write!(
                    f,
                    "write {write} of {key:?} came back next to {by}, whose writer read it"
                )
            }
            Violation::StaleRead { key, read, missed } => write!(
                f,
                "read {read} of {key:?} missed acknowledged write {missed} and all its successors"
            ),
            Violation::DuplicateDot { key, dot } => {
                write!(f, "two writes of {key:?} were given dot {dot}")
            }
            Violation::CoveredSibling { key, dot, by } => {
                write!(
                    f,
                    "a read of {key:?} returned {dot} next to {by}, which covers it"
                )
            }
            Violation::AckedUnwritten { key, write } => {
                write!(
                    f,
                    "write {write} of {key:?} was acknowledged but never written"
                )
            }
        }
    }
}

/// The oracle's verdict on a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleReport {
    /// Writes clients submitted.
    pub writes: u64,
    /// Of those, acknowledged.
    pub acked: u64,
    /// Acknowledged writes legitimately superseded.
    pub superseded: u64,
    /// Acknowledged writes on all N home replicas at the end.
    pub on_all_homes: u64,
    /// Acknowledged writes missing from some home and not superseded.
    pub lost: u64,
    /// Violations found (live and at the end).
    pub violations: u64,
    /// The first violations, in the order found.
    pub examples: Vec<Violation>,
}

impl OracleReport {
    /// Whether the clients saw nothing a correct store never shows.
    pub fn ok(&self) -> bool {
        self.violations == 0
    }
}

impl fmt::Display for OracleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} acked of {} writes: {} on all homes, {} superseded, {} lost; {} violations",
            self.acked, self.writes, self.on_all_homes, self.superseded, self.lost, self.violations
        )?;
        for v in self.examples.iter().take(5) {
            write!(f, "\n  {v}")?;
        }
        Ok(())
    }
}

/// What the oracle has seen of a run so far. The simulator feeds it every client request, every
/// reply and every coordinator's `Wrote` event.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Every write remembered, by submission order (see [`History::set_window`]).
    writes: BTreeMap<W, WriteRec>,
    next: W,
    /// Acknowledged writes not superseded: the ones whose durability is still at stake.
    open: BTreeSet<W>,
    /// Writes by submission order, for retiring old ones (bounded mode only).
    queue: VecDeque<W>,
    /// Writes past the window kept because they were open; retired once superseded.
    pinned: BTreeSet<W>,
    /// How many of the latest writes are remembered when settled (`None`: all).
    window: Option<usize>,
    /// The highest dot counter of each actor among retired writes: an unnamed version at or below
    /// it may be a forgotten write rather than a phantom.
    retired_max: BTreeMap<Actor, u64>,
    /// Versions read that the oracle could not name because their write was retired.
    forgotten: u64,
    acked: u64,
    superseded: u64,
    by_req: BTreeMap<RequestId, W>,
    /// The write each (key, dot) names.
    by_dot: HashMap<(Key, Dot), W>,
    /// Further writes given an already used (key, dot): each is a violation.
    dup_dots: HashMap<(Key, Dot), Vec<W>>,
    /// The last read of each workload client: its key, its context and the writes it returned.
    client_reads: BTreeMap<u32, (Key, VectorClock, Vec<W>)>,
    /// Recent reads of each key (context and writes returned), for puts made by hand.
    recent_reads: HashMap<Key, VecDeque<(VectorClock, Vec<W>)>>,
    /// Gets in flight, with the acknowledged writes of their key when they started.
    gets: BTreeMap<RequestId, (Key, Vec<W>)>,
    /// Per key, the acknowledged writes no acknowledged write has superseded.
    frontier: HashMap<Key, Vec<W>>,
    /// Whether R + W > N (reads must then see acknowledged writes while there are no faults).
    strict: bool,
    /// Whether clock pruning is on (false siblings are then allowed).
    pruning: bool,
    /// Whether any fault was injected.
    faulted: bool,
    violations: u64,
    /// Of the violations, resurrections.
    resurrections: u64,
    /// Of the violations, reads that returned a sibling next to one that covers it.
    covered_siblings: u64,
    examples: Vec<Violation>,
    /// Gets answered with more than one sibling.
    sibling_reads: u64,
    /// Puts by hand whose context matched no remembered read (treated as blind).
    unmatched_contexts: u64,
}

/// FNV-1a: a value's fingerprint, the same on every platform.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The oracle's verdict while a run goes on: what the page's status strip shows. Its cost is
/// proportional to the acknowledged writes still open (not superseded), never to the run's length.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveVerdict {
    /// Writes clients submitted.
    pub writes: u64,
    /// Of those, acknowledged.
    pub acked: u64,
    /// Acknowledged writes legitimately superseded (a client read them and wrote over them).
    pub superseded: u64,
    /// Acknowledged writes not superseded and not yet on all N home replicas (replication, a
    /// hint or anti-entropy still has to bring them there).
    pub pending: u64,
    /// Acknowledged writes not superseded that no node holds at all, hints included: gone for
    /// good (a wipe of the only copies, or a bug).
    pub lost: u64,
    /// Violations seen in reads and acknowledgements (phantoms, resurrections, stale reads,
    /// duplicate dots).
    pub violations: u64,
    /// Versions read whose write the oracle had already forgotten (bounded mode only).
    pub forgotten: u64,
}

impl History {
    /// An oracle for a cluster with these quorum settings (`pruning`: clock pruning is on, so
    /// false siblings are allowed). [`crate::Simulation`] makes its own; a driver that runs
    /// [`crate::Node`]s itself (the model checker) makes one and feeds it what its clients see:
    /// [`History::on_submit`], the coordinators' [`crate::NodeEvent::Wrote`] through
    /// [`History::on_wrote`], [`History::on_reply`], and [`History::on_fault`].
    pub fn new(n: u8, r: u8, w: u8, pruning: bool) -> History {
        History {
            strict: u16::from(r) + u16::from(w) > u16::from(n),
            pruning,
            ..History::default()
        }
    }

    /// Bounds memory: a write that is settled (superseded, or never acknowledged) is forgotten
    /// once `keep` newer writes were submitted. Open writes (acknowledged, not superseded) are
    /// always kept. A read that returns a forgotten write is counted in
    /// [`LiveVerdict::forgotten`] instead of being checked. `None` (the default, and what the
    /// tests use) remembers everything. A remembered write costs about 300 bytes.
    pub(crate) fn set_window(&mut self, keep: Option<usize>) {
        self.window = keep;
    }

    fn violate(&mut self, v: Violation) {
        self.violations += 1;
        match v {
            Violation::Resurrected { .. } => self.resurrections += 1,
            Violation::CoveredSibling { .. } => self.covered_siblings += 1,
            _ => {}
        }
        if self.examples.len() < VIOLATIONS_KEPT {
            self.examples.push(v);
        }
    }

    /// Violations found while the run went on (reads, acknowledgements).
    pub fn live_violations(&self) -> u64 {
        self.violations
    }

    /// Of [`History::live_violations`], the resurrections: a write read back next to a write whose
    /// client had read it.
    pub fn resurrections(&self) -> u64 {
        self.resurrections
    }

    /// Of [`History::live_violations`], the reads that returned a sibling next to one whose
    /// context covers it ([`Violation::CoveredSibling`]).
    pub fn covered_siblings(&self) -> u64 {
        self.covered_siblings
    }

    /// Gets that returned more than one sibling: concurrent writes the store kept.
    pub fn sibling_reads(&self) -> u64 {
        self.sibling_reads
    }

    /// The first violations found while the run went on.
    pub fn examples(&self) -> &[Violation] {
        &self.examples
    }

    /// Writes submitted so far.
    pub fn writes(&self) -> u64 {
        self.next
    }

    /// Writes the oracle remembers now (bounded by [`History::set_window`] when set).
    pub fn remembered(&self) -> usize {
        self.writes.len()
    }

    /// Puts made by hand whose context matched no read the oracle remembers (judged as blind).
    pub fn unmatched_contexts(&self) -> u64 {
        self.unmatched_contexts
    }

    /// A fault was injected (crash, restart, wipe, partition, message loss, a false suspicion):
    /// from now on a read may miss an acknowledged write, so the stale-read check ends.
    pub fn on_fault(&mut self) {
        self.faulted = true;
        for (_, acked) in self.gets.values_mut() {
            acked.clear();
        }
    }

    /// A client submitted `request` as `req` (`client`: a workload client, `None`: by hand).
    pub fn on_submit(&mut self, req: RequestId, request: &Request, client: Option<u32>) {
        match request {
            Request::Get { key } => {
                let acked = if self.strict && !self.faulted {
                    self.frontier.get(key).cloned().unwrap_or_default()
                } else {
                    Vec::new()
                };
                self.gets.insert(req, (key.clone(), acked));
            }
            Request::Put {
                key,
                value,
                context,
            } => {
                let read_from = self.read_from(key, context, client);
                let w = self.next;
                self.next += 1;
                for r in &read_from {
                    if let Some(rec) = self.writes.get_mut(r) {
                        rec.read_by.push(w);
                    }
                }
                self.writes.insert(
                    w,
                    WriteRec {
                        req,
                        key: key.clone(),
                        value: fingerprint(value.as_bytes()),
                        dot: None,
                        more_dots: Vec::new(),
                        read_from,
                        read_by: Vec::new(),
                        failed: false,
                        acked: None,
                        superseded: false,
                    },
                );
                self.by_req.insert(req, w);
                if self.window.is_some() {
                    self.queue.push_back(w);
                }
            }
        }
    }

    /// The writes returned by the read a put's context came from.
    fn read_from(&mut self, key: &Key, context: &VectorClock, client: Option<u32>) -> Vec<W> {
        // A client's put read what its last get of the key returned only if it carries that
        // get's context: a blind put after a plain get of the same key read nothing.
        if let Some((k, ctx, ws)) = client.and_then(|c| self.client_reads.get(&c)) {
            if k == key && ctx == context {
                return ws.clone();
            }
        }
        if context.is_empty() {
            return Vec::new();
        }
        let found = self.recent_reads.get(key).and_then(|reads| {
            reads
                .iter()
                .rev()
                // Counters only: a context typed back by hand carries no entry times.
                .find(|(ctx, _)| ctx.compare(context) == Causality::Equal)
                .map(|(_, ws)| ws.clone())
        });
        found.unwrap_or_else(|| {
            self.unmatched_contexts += 1;
            Vec::new()
        })
    }

    /// The coordinator of put `req` wrote it as `dot`.
    pub fn on_wrote(&mut self, req: RequestId, key: &Key, dot: Dot) {
        let Some(&w) = self.by_req.get(&req) else {
            return;
        };
        let k = (key.clone(), dot);
        match self.by_dot.get(&k) {
            None => {
                self.by_dot.insert(k, w);
            }
            Some(&first) if first == w => {}
            Some(_) => {
                let more = self.dup_dots.entry(k).or_default();
                if !more.contains(&w) {
                    more.push(w);
                    self.violate(Violation::DuplicateDot {
                        key: key.clone(),
                        dot,
                    });
                }
            }
        }
        if let Some(rec) = self.writes.get_mut(&w) {
            if rec.dot.is_none() {
                rec.dot = Some(dot);
            } else if !rec.has_dot(dot) {
                rec.more_dots.push(dot);
            }
        }
    }

    /// The write a version is, or `None`.
    fn name(&self, key: &Key, v: &Version) -> Option<W> {
        let fp = fingerprint(v.value.as_bytes());
        let k = (key.clone(), v.dot);
        let first = self.by_dot.get(&k).copied();
        let more = self.dup_dots.get(&k).into_iter().flatten().copied();
        first
            .into_iter()
            .chain(more)
            .find(|w| self.writes.get(w).is_some_and(|rec| rec.value == fp))
    }

    /// Names every version of a read or a replica; a version no remembered write is must be a
    /// forgotten one (bounded mode, at or below what was retired) or it is a phantom.
    fn names(&mut self, key: &Key, versions: &[Version]) -> Vec<W> {
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            match self.name(key, v) {
                Some(w) => out.push(w),
                None if self
                    .retired_max
                    .get(&v.dot.actor)
                    .is_some_and(|&c| v.dot.counter <= c) =>
                {
                    self.forgotten += 1;
                }
                None => self.violate(Violation::Phantom {
                    key: key.clone(),
                    dot: v.dot,
                }),
            }
        }
        out
    }

    /// A reply reached the client (`client` as given to [`History::on_submit`]) at `now`.
    pub fn on_reply(&mut self, reply: &Reply, client: Option<u32>, now: Time) {
        match &reply.body {
            ReplyBody::PutOk {
                version,
                siblings,
                context,
            } => {
                let Some(&w) = self.by_req.get(&reply.req) else {
                    return;
                };
                let Some(rec) = self.writes.get_mut(&w) else {
                    return;
                };
                let written = rec.has_dot(version.dot);
                rec.acked = Some(now);
                let superseded = rec.superseded;
                self.acked += 1;
                if !written {
                    self.violate(Violation::AckedUnwritten {
                        key: reply.key.clone(),
                        write: reply.req,
                    });
                }
                if superseded {
                    // A client read it and wrote over it before its own ack arrived.
                    self.superseded += 1;
                } else {
                    self.open.insert(w);
                }
                self.supersede_read_from(w);
                if client.is_none() {
                    // A put's reply shows the coordinator's versions after the write and their
                    // merged context: someone typing puts by hand may pass that context back,
                    // having seen exactly those versions (the §2 tour writes D2 over D1 so).
                    let shown = self.names(&reply.key, siblings);
                    self.remember_read(&reply.key, context.clone(), shown);
                }
                let key = reply.key.clone();
                let mut frontier = self.frontier.remove(&key).unwrap_or_default();
                frontier.retain(|&f| self.writes.contains_key(&f) && !self.is_ancestor(f, w));
                frontier.push(w);
                self.frontier.insert(key, frontier);
            }
            ReplyBody::GetOk { siblings, context } => {
                let key = &reply.key;
                if siblings.len() > 1 {
                    self.sibling_reads += 1;
                }
                for (i, a) in siblings.iter().enumerate() {
                    for (j, b) in siblings.iter().enumerate() {
                        if i != j && b.covers(a) {
                            self.violate(Violation::CoveredSibling {
                                key: key.clone(),
                                dot: a.dot,
                                by: b.dot,
                            });
                        }
                    }
                }
                let read = self.names(key, siblings);
                self.check_no_ancestor_pairs(key, &read);
                if let Some((_, acked)) = self.gets.remove(&reply.req) {
                    for f in acked {
                        if !read.iter().any(|&r| r == f || self.is_ancestor(f, r)) {
                            if let Some(missed) = self.writes.get(&f).map(|rec| rec.req) {
                                self.violate(Violation::StaleRead {
                                    key: key.clone(),
                                    read: reply.req,
                                    missed,
                                });
                            }
                        }
                    }
                }
                self.remember_read(key, context.clone(), read.clone());
                if let Some(c) = client {
                    self.client_reads
                        .insert(c, (key.clone(), context.clone(), read));
                }
            }
            ReplyBody::Failed(_) => {
                self.gets.remove(&reply.req);
                if let Some(w) = self.by_req.get(&reply.req).copied() {
                    if let Some(rec) = self.writes.get_mut(&w) {
                        rec.failed = true;
                    }
                    self.release(w);
                }
            }
        }
        self.retire();
    }

    /// Remembers that a reply showed `writes` under `context`, for puts made by hand.
    fn remember_read(&mut self, key: &Key, context: VectorClock, writes: Vec<W>) {
        let reads = self.recent_reads.entry(key.clone()).or_default();
        if reads.len() >= RECENT_READS {
            reads.pop_front();
        }
        reads.push_back((context, writes));
    }

    /// Marks every write `w`'s writer read (and, transitively, theirs) as superseded.
    fn supersede_read_from(&mut self, w: W) {
        let mut stack = self
            .writes
            .get(&w)
            .map(|rec| rec.read_from.clone())
            .unwrap_or_default();
        while let Some(x) = stack.pop() {
            let Some(rec) = self.writes.get_mut(&x) else {
                continue;
            };
            if rec.superseded {
                continue;
            }
            rec.superseded = true;
            let acked = rec.acked.is_some();
            stack.extend(rec.read_from.iter().copied());
            if acked {
                self.superseded += 1;
            }
            self.open.remove(&x);
            self.release(x);
        }
    }

    /// Forgets settled writes beyond the newest `window` (bounded mode).
    fn retire(&mut self) {
        let Some(window) = self.window else {
            return;
        };
        while self.queue.len() > window {
            let Some(w) = self.queue.pop_front() else {
                break;
            };
            if self.forgettable(w) {
                self.forget(w);
            } else {
                self.pinned.insert(w);
            }
        }
    }

    /// Settled: superseded, or failed. An open write (acknowledged, not superseded) and one still
    /// waiting for its reply are kept: a read may yet return them, and they must be named.
    fn forgettable(&self, w: W) -> bool {
        self.writes
            .get(&w)
            .is_none_or(|rec| rec.superseded || (rec.failed && rec.acked.is_none()))
    }

    /// Forgets a write kept past the window once it settles.
    fn release(&mut self, w: W) {
        if self.pinned.contains(&w) && self.forgettable(w) {
            self.pinned.remove(&w);
            self.forget(w);
        }
    }

    fn forget(&mut self, w: W) {
        let Some(rec) = self.writes.remove(&w) else {
            return;
        };
        self.by_req.remove(&rec.req);
        for dot in rec.dot.into_iter().chain(rec.more_dots) {
            let top = self.retired_max.entry(dot.actor).or_default();
            *top = (*top).max(dot.counter);
            let k = (rec.key.clone(), dot);
            if self.by_dot.get(&k) == Some(&w) {
                self.by_dot.remove(&k);
            }
            if let Some(more) = self.dup_dots.get_mut(&k) {
                more.retain(|&x| x != w);
                if more.is_empty() {
                    self.dup_dots.remove(&k);
                }
            }
        }
    }

    /// Whether `a` is in the read-from closure of `d` (`d`'s writer read `a`, or read a write whose
    /// writer read `a`, …). Read-from edges point to earlier writes, so the search stops below `a`.
    fn is_ancestor(&self, a: W, d: W) -> bool {
        let mut stack = vec![d];
        let mut seen = BTreeSet::new();
        while let Some(x) = stack.pop() {
            let Some(rec) = self.writes.get(&x) else {
                continue;
            };
            for &p in &rec.read_from {
                if p == a {
                    return true;
                }
                if p > a && seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }

    /// A set of versions seen together must not hold a write and one that superseded it.
    fn check_no_ancestor_pairs(&mut self, key: &Key, ws: &[W]) {
        if self.pruning || ws.len() < 2 {
            return;
        }
        for &a in ws {
            for &d in ws {
                if a != d && self.is_ancestor(a, d) {
                    let (Some(x), Some(y)) = (self.writes.get(&a), self.writes.get(&d)) else {
                        continue;
                    };
                    let (write, by) = (x.req, y.req);
                    self.violate(Violation::Resurrected {
                        key: key.clone(),
                        write,
                        by,
                    });
                }
            }
        }
    }

    /// Whether some node holds write `rec` (its store or a hint), crashed nodes included: their
    /// disks keep what they had.
    fn held_anywhere(sim: &Cluster<'_>, rec: &WriteRec) -> bool {
        sim.nodes.iter().any(|node| {
            let held = node.versions(rec.key.as_str()).into_iter().chain(
                node.hints()
                    .values()
                    .filter_map(|h| h.get(rec.key.as_str()).cloned()),
            );
            held.into_iter()
                .any(|set| set.versions().iter().any(|v| rec.has_dot(v.dot)))
        })
    }

    /// Whether a write whose writer read `w` (directly or through a chain) is still on its way
    /// (no reply yet) or held by some node: then `w`'s absence is a supersede whose
    /// acknowledgement has not arrived, not a loss.
    fn being_superseded(&self, sim: &Cluster<'_>, w: W) -> bool {
        let mut stack: Vec<W> = self
            .writes
            .get(&w)
            .map(|r| r.read_by.clone())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            let Some(rec) = self.writes.get(&x) else {
                continue;
            };
            let in_flight = rec.acked.is_none() && !rec.failed;
            if in_flight || Self::held_anywhere(sim, rec) {
                return true;
            }
            stack.extend(rec.read_by.iter().copied());
        }
        false
    }

    /// The verdict now, for a run still going on: open writes that are not yet on all homes are
    /// pending, those no node holds are lost. Costs O(open writes), not O(run length).
    pub fn live(&self, sim: &super::Simulation) -> LiveVerdict {
        self.live_in(&Cluster::from(sim))
    }

    /// [`History::live`] of any cluster (a model checker's state as well as a simulation).
    pub fn live_in(&self, sim: &Cluster<'_>) -> LiveVerdict {
        let n = usize::from(sim.config.n);
        let mut v = LiveVerdict {
            writes: self.next,
            acked: self.acked,
            superseded: self.superseded,
            violations: self.violations,
            forgotten: self.forgotten,
            ..LiveVerdict::default()
        };
        for w in &self.open {
            let Some(rec) = self.writes.get(w) else {
                continue;
            };
            let on_all = sim
                .ring
                .preference_list(rec.key.position(), n)
                .into_iter()
                .all(|h| {
                    sim.node(h)
                        .and_then(|node| node.versions(rec.key.as_str()))
                        .is_some_and(|set| set.versions().iter().any(|x| rec.has_dot(x.dot)))
                });
            if on_all {
                continue;
            }
            if Self::held_anywhere(sim, rec) || self.being_superseded(sim, *w) {
                v.pending += 1;
            } else {
                v.lost += 1;
            }
        }
        v
    }

    /// The verdict at the end of a run: call once faults are healed and replicas had time to
    /// converge. Reads each home replica's stored versions as a client reading it alone would.
    pub fn final_check(&self, sim: &super::Simulation) -> OracleReport {
        self.final_check_in(&Cluster::from(sim))
    }

    /// [`History::final_check`] of any cluster (a model checker's state as well as a simulation).
    pub fn final_check_in(&self, sim: &Cluster<'_>) -> OracleReport {
        let mut oracle = self.clone();
        let n = usize::from(sim.config.n);
        let keys: BTreeSet<Key> = oracle.writes.values().map(|w| w.key.clone()).collect();
        // What each home replica holds, by write; anything surviving supersedes what it read.
        let mut on_home: HashMap<(Key, NodeId), Vec<W>> = HashMap::new();
        for key in &keys {
            for h in sim.ring.preference_list(key.position(), n) {
                let versions = sim
                    .node(h)
                    .and_then(|node| node.versions(key.as_str()))
                    .map(|set| set.versions().to_vec())
                    .unwrap_or_default();
                let ws = oracle.names(key, &versions);
                oracle.check_no_ancestor_pairs(key, &ws);
                for &w in &ws {
                    oracle.supersede_read_from(w);
                }
                on_home.insert((key.clone(), h), ws);
            }
        }
        let mut report = OracleReport {
            writes: oracle.next,
            acked: oracle.acked,
            superseded: oracle.superseded,
            ..OracleReport::default()
        };
        let mut lost = Vec::new();
        for &w in &oracle.open {
            let Some(rec) = oracle.writes.get(&w) else {
                continue;
            };
            let homes = sim.ring.preference_list(rec.key.position(), n);
            let missing_on: Vec<NodeId> = homes
                .into_iter()
                .filter(|&h| {
                    !on_home
                        .get(&(rec.key.clone(), h))
                        .is_some_and(|ws| ws.contains(&w))
                })
                .collect();
            if missing_on.is_empty() {
                report.on_all_homes += 1;
                continue;
            }
            report.lost += 1;
            lost.push(Violation::Lost {
                key: rec.key.clone(),
                write: rec.req,
                missing_on,
                everywhere: !Self::held_anywhere(sim, rec),
            });
        }
        for v in lost {
            oracle.violate(v);
        }
        report.violations = oracle.violations;
        report.examples = oracle.examples;
        report
    }
}

/// Hashes what decides the oracle's later verdicts, for a model checker that must tell two states
/// apart (docs/protocol.md §Correctness). It does not depend on the order clients submitted their
/// writes in: a write is named by its request id, not its submission index, and hash tables are
/// hashed in key order. Left out: the times writes were acknowledged (only whether they were),
/// counters that can be derived from the writes, and the examples kept for display; counters
/// that feed only reports or "none so far" verdicts (violations, sibling reads, unmatched
/// contexts) count as zero or not.
impl Hash for History {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let req = |w: &W| self.writes.get(w).map(|r| r.req);
        let reqs = |ws: &mut dyn Iterator<Item = &W>| {
            let mut v: Vec<Option<RequestId>> = ws.map(req).collect();
            v.sort_unstable();
            v
        };
        let mut writes: Vec<_> = self.writes.values().collect();
        writes.sort_unstable_by_key(|r| r.req);
        h.write_usize(writes.len());
        for r in writes {
            (r.req, &r.key, r.value, r.dot, &r.more_dots).hash(h);
            reqs(&mut r.read_from.iter()).hash(h);
            reqs(&mut r.read_by.iter()).hash(h);
            (r.failed, r.acked.is_some(), r.superseded).hash(h);
        }
        self.next.hash(h);
        reqs(&mut self.open.iter()).hash(h);
        (self.window, &self.retired_max, self.forgotten).hash(h);
        reqs(&mut self.pinned.iter()).hash(h);
        for w in &self.queue {
            req(w).hash(h);
        }
        let mut dups: Vec<_> = self.dup_dots.iter().collect();
        dups.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for ((key, dot), ws) in dups {
            (key, dot, reqs(&mut ws.iter())).hash(h);
        }
        for (c, (key, ctx, ws)) in &self.client_reads {
            (c, key, ctx, reqs(&mut ws.iter())).hash(h);
        }
        let mut recent: Vec<_> = self.recent_reads.iter().collect();
        recent.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, reads) in recent {
            key.hash(h);
            for (ctx, ws) in reads {
                (ctx, reqs(&mut ws.iter())).hash(h);
            }
        }
        for (r, (key, ws)) in &self.gets {
            (r, key, reqs(&mut ws.iter())).hash(h);
        }
        let mut frontier: Vec<_> = self.frontier.iter().collect();
        frontier.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, ws) in frontier {
            (key, reqs(&mut ws.iter())).hash(h);
        }
        (self.strict, self.pruning, self.faulted).hash(h);
        let nonzero = [
            self.violations,
            self.resurrections,
            self.covered_siblings,
            self.sibling_reads,
            self.unmatched_contexts,
        ]
        .map(|c| c > 0);
        nonzero.hash(h);
    }
}

#[cfg(test)]
mod tests {
    //! Negative controls: each check of the oracle, fed a history that breaks it, must say so.
    use super::*;
    use crate::types::Value;

    fn key() -> Key {
        Key::from("k")
    }

    fn dot(node: u16, counter: u64) -> Dot {
        Dot {
            actor: NodeId(node).into(),
            counter,
        }
    }

    fn version(d: Dot, value: &str) -> Version {
        Version {
            context: VectorClock::new(),
            dot: d,
            value: Value::from(value),
            tombstone: false,
            written_at: Time(1),
        }
    }

    fn put(h: &mut History, req: u64, value: &str, context: VectorClock, d: Dot, ack: bool) {
        let request = Request::Put {
            key: key(),
            value: Value::from(value),
            context,
        };
        h.on_submit(RequestId(req), &request, None);
        h.on_wrote(RequestId(req), &key(), d);
        if ack {
            let body = put_ok(version(d, value));
            h.on_reply(&reply(req, body), None, Time(req));
        }
    }

    /// A put's reply as a coordinator sends it when the write left one version.
    fn put_ok(v: Version) -> ReplyBody {
        ReplyBody::PutOk {
            siblings: vec![v.clone()],
            context: v.clock(),
            version: v,
        }
    }

    fn reply(req: u64, body: ReplyBody) -> Reply {
        Reply {
            req: RequestId(req),
            key: key(),
            coordinator: NodeId(0),
            body,
        }
    }

    /// A get through the oracle that returns `versions` with `context`.
    fn get(h: &mut History, req: u64, versions: Vec<Version>, context: VectorClock) {
        h.on_submit(RequestId(req), &Request::Get { key: key() }, None);
        let body = ReplyBody::GetOk {
            siblings: versions,
            context,
        };
        h.on_reply(&reply(req, body), None, Time(req));
    }

    fn ctx(d: Dot) -> VectorClock {
        let mut c = VectorClock::new();
        c.set(d.actor, d.counter, Time(1));
        c
    }

    #[test]
    fn a_version_nobody_wrote_is_a_phantom() {
        let mut h = History::new(3, 1, 1, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        get(&mut h, 2, vec![version(dot(0, 1), "a")], ctx(dot(0, 1)));
        assert_eq!(h.live_violations(), 0);
        // Same dot, another value: not the write that was given that dot.
        get(&mut h, 3, vec![version(dot(0, 1), "b")], ctx(dot(0, 1)));
        get(&mut h, 4, vec![version(dot(1, 9), "a")], ctx(dot(1, 9)));
        assert_eq!(h.live_violations(), 2, "{:?}", h.examples());
        assert!(matches!(h.examples()[0], Violation::Phantom { .. }));
    }

    #[test]
    fn a_write_returned_next_to_its_successor_is_a_resurrection() {
        let mut h = History::new(3, 2, 2, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        get(&mut h, 2, vec![version(dot(0, 1), "a")], ctx(dot(0, 1)));
        put(&mut h, 3, "b", ctx(dot(0, 1)), dot(0, 2), true);
        get(
            &mut h,
            4,
            vec![version(dot(0, 1), "a"), version(dot(0, 2), "b")],
            ctx(dot(0, 2)),
        );
        assert!(
            matches!(h.examples(), [Violation::Resurrected { .. }]),
            "{:?}",
            h.examples()
        );
        // With pruning on, false siblings are allowed.
        let mut p = History::new(3, 2, 2, true);
        put(&mut p, 1, "a", VectorClock::new(), dot(0, 1), true);
        get(&mut p, 2, vec![version(dot(0, 1), "a")], ctx(dot(0, 1)));
        put(&mut p, 3, "b", ctx(dot(0, 1)), dot(0, 2), true);
        get(
            &mut p,
            4,
            vec![version(dot(0, 1), "a"), version(dot(0, 2), "b")],
            ctx(dot(0, 2)),
        );
        assert_eq!(p.live_violations(), 0);
    }

    #[test]
    fn a_read_after_an_ack_that_misses_it_is_stale_unless_faults_happened() {
        let mut h = History::new(3, 2, 2, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        get(&mut h, 2, vec![], VectorClock::new());
        assert!(matches!(h.examples(), [Violation::StaleRead { .. }]));
        // R + W <= N promises nothing.
        let mut weak = History::new(3, 1, 1, false);
        put(&mut weak, 1, "a", VectorClock::new(), dot(0, 1), true);
        get(&mut weak, 2, vec![], VectorClock::new());
        assert_eq!(weak.live_violations(), 0);
        // Nor does a run with faults.
        let mut faulty = History::new(3, 2, 2, false);
        put(&mut faulty, 1, "a", VectorClock::new(), dot(0, 1), true);
        faulty.on_fault();
        get(&mut faulty, 2, vec![], VectorClock::new());
        assert_eq!(faulty.live_violations(), 0);
    }

    #[test]
    fn two_writes_with_one_dot_and_an_ack_of_an_unwritten_version_are_caught() {
        let mut h = History::new(3, 2, 2, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        put(&mut h, 2, "b", VectorClock::new(), dot(0, 1), false);
        assert!(matches!(h.examples(), [Violation::DuplicateDot { .. }]));
        let request = Request::Put {
            key: key(),
            value: Value::from("c"),
            context: VectorClock::new(),
        };
        h.on_submit(RequestId(3), &request, None);
        h.on_wrote(RequestId(3), &key(), dot(0, 3));
        let body = put_ok(version(dot(0, 4), "c"));
        h.on_reply(&reply(3, body), None, Time(3));
        assert!(h
            .examples()
            .iter()
            .any(|v| matches!(v, Violation::AckedUnwritten { .. })));
        // The reply also showed that version as the coordinator's: nobody wrote it.
        assert!(matches!(
            h.examples().last(),
            Some(Violation::Phantom { .. })
        ));
    }

    #[test]
    fn superseding_needs_a_read_and_follows_chains() {
        let mut h = History::new(3, 1, 1, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        assert_eq!(h.unmatched_contexts(), 0);
        // A blind write supersedes nothing, even with a context that covers `a` (typed by hand,
        // equal to no clock a reply showed).
        let mut typed = ctx(dot(0, 1));
        typed.set(NodeId(2), 1, Time(1));
        put(&mut h, 2, "b", typed, dot(0, 2), true);
        assert_eq!(h.unmatched_contexts(), 1);
        assert_eq!(h.open.len(), 2);
        // Read `a` and `b`, write `c` over both: both are superseded, `c` is open.
        let mut both = ctx(dot(0, 2));
        both.set(NodeId(0), 2, Time(1));
        get(
            &mut h,
            3,
            vec![version(dot(0, 1), "a"), version(dot(0, 2), "b")],
            both.clone(),
        );
        put(&mut h, 4, "c", both, dot(1, 1), false);
        assert_eq!(
            h.open.len(),
            2,
            "an unacknowledged write supersedes nothing yet"
        );
        get(&mut h, 5, vec![version(dot(1, 1), "c")], ctx(dot(1, 1)));
        put(&mut h, 6, "d", ctx(dot(1, 1)), dot(1, 2), true);
        // `d` read `c` (unacknowledged), whose writer read `a` and `b`: all three settle.
        assert_eq!(h.open.iter().copied().collect::<Vec<_>>(), vec![3]);
        assert_eq!(h.superseded, 2);
    }

    #[test]
    fn a_put_reply_is_a_read_for_puts_by_hand() {
        // The §2 tour writes D2 with the clock D1's put reply showed: D2 read D1.
        let mut h = History::new(3, 3, 3, false);
        put(&mut h, 1, "D1", VectorClock::new(), dot(0, 1), true);
        put(&mut h, 2, "D2", ctx(dot(0, 1)), dot(0, 2), true);
        assert_eq!(h.unmatched_contexts(), 0);
        assert_eq!(h.superseded, 1);
        assert_eq!(h.open.iter().copied().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn a_workload_clients_put_reply_is_no_read_for_puts_by_hand() {
        // Only puts by hand show their replies (the page keeps no workload reply): a put by hand
        // whose context equals the clock a workload client's put reply returned read nothing.
        let mut h = History::new(3, 3, 3, false);
        let request = Request::Put {
            key: key(),
            value: Value::from("a"),
            context: VectorClock::new(),
        };
        h.on_submit(RequestId(1), &request, Some(7));
        h.on_wrote(RequestId(1), &key(), dot(0, 1));
        let body = put_ok(version(dot(0, 1), "a"));
        h.on_reply(&reply(1, body), Some(7), Time(1));
        put(&mut h, 2, "b", ctx(dot(0, 1)), dot(0, 2), true);
        assert_eq!(h.unmatched_contexts(), 1);
        assert_eq!(h.superseded, 0);
        assert_eq!(h.open.len(), 2);
    }

    #[test]
    fn a_put_reply_is_a_read_of_its_own_key_only() {
        // Counters are node-wide: a put reply of another key can show the very clock a put of this
        // key carries. It read nothing of this key.
        let mut h = History::new(3, 3, 3, false);
        let other = Key::from("other");
        let request = Request::Put {
            key: other.clone(),
            value: Value::from("x"),
            context: VectorClock::new(),
        };
        h.on_submit(RequestId(1), &request, None);
        h.on_wrote(RequestId(1), &other, dot(0, 1));
        let body = put_ok(version(dot(0, 1), "x"));
        let mut r = reply(1, body);
        r.key = other;
        h.on_reply(&r, None, Time(1));
        put(&mut h, 2, "b", ctx(dot(0, 1)), dot(0, 2), true);
        assert_eq!(h.unmatched_contexts(), 1);
        assert_eq!((h.superseded, h.open.len()), (0, 2));
    }

    #[test]
    fn a_clients_blind_put_after_a_plain_get_supersedes_nothing() {
        // Found by an adversarial review: the oracle took a workload client's last read as the
        // read-from set of any later put of the key, blind ones included, and so excused a loss.
        let mut h = History::new(3, 1, 1, false);
        put(&mut h, 1, "a", VectorClock::new(), dot(0, 1), true);
        h.on_submit(RequestId(2), &Request::Get { key: key() }, Some(7));
        let body = ReplyBody::GetOk {
            siblings: vec![version(dot(0, 1), "a")],
            context: ctx(dot(0, 1)),
        };
        h.on_reply(&reply(2, body), Some(7), Time(2));
        let blind = Request::Put {
            key: key(),
            value: Value::from("b"),
            context: VectorClock::new(),
        };
        h.on_submit(RequestId(3), &blind, Some(7));
        h.on_wrote(RequestId(3), &key(), dot(0, 2));
        let ok = put_ok(version(dot(0, 2), "b"));
        h.on_reply(&reply(3, ok), Some(7), Time(3));
        assert_eq!(h.open.len(), 2, "the blind write did not supersede `a`");
        // The same client writing with the context it read does.
        let rmw = Request::Put {
            key: key(),
            value: Value::from("c"),
            context: ctx(dot(0, 1)),
        };
        h.on_submit(RequestId(4), &rmw, Some(7));
        h.on_wrote(RequestId(4), &key(), dot(0, 3));
        let ok = put_ok(version(dot(0, 3), "c"));
        h.on_reply(&reply(4, ok), Some(7), Time(4));
        assert_eq!(h.superseded, 1);
    }

    #[test]
    fn a_bounded_history_forgets_settled_writes_but_never_open_ones() {
        let mut last = dot(0, 1);
        let mut h = History::new(3, 1, 1, false);
        h.set_window(Some(10));
        let mut value = "v0".to_string();
        put(&mut h, 1, &value, VectorClock::new(), last, true);
        for i in 1..200u64 {
            let req = 2 * i;
            get(&mut h, req, vec![version(last, &value)], ctx(last));
            let next = dot(0, i + 1);
            value = format!("v{i}");
            put(&mut h, req + 1, &value, ctx(last), next, true);
            last = next;
        }
        assert_eq!(h.live_violations(), 0, "{:?}", h.examples());
        assert_eq!(h.open.len(), 1);
        assert!(h.remembered() < 20, "remembers {}", h.remembered());
        assert!(
            h.remembered() >= h.open.len(),
            "open writes are always remembered"
        );
        // A stale replica returning a forgotten write is counted, not called a phantom.
        get(
            &mut h,
            1_000,
            vec![version(dot(0, 3), "v2")],
            ctx(dot(0, 3)),
        );
        assert_eq!((h.live_violations(), h.forgotten), (0, 1));
        // One above anything retired is still a phantom.
        get(
            &mut h,
            1_001,
            vec![version(dot(0, 999), "x")],
            ctx(dot(0, 999)),
        );
        assert_eq!(h.live_violations(), 1);
    }
}
