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

use super::Simulation;
use crate::message::{Reply, ReplyBody, Request};
use crate::types::{Key, NodeId, RequestId, Time};
use crate::vclock::{Dot, VectorClock, Version};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

/// Index of a write in the oracle's table.
type W = u32;

/// Reads remembered per key to name the read a hand-made put's context came from.
const RECENT_READS: usize = 16;
/// Violations kept with their details (all are counted).
const VIOLATIONS_KEPT: usize = 64;

#[derive(Clone, Debug)]
struct WriteRec {
    req: RequestId,
    key: Key,
    value: u64,
    /// The dots the coordinator reported (one, unless a node misbehaves).
    dots: Vec<Dot>,
    /// Writes returned by the read this write's context came from.
    read_from: Vec<W>,
    acked: Option<Time>,
    /// Superseded by an acknowledged (or surviving) write whose writer read it.
    superseded: bool,
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
    writes: Vec<WriteRec>,
    by_req: BTreeMap<RequestId, W>,
    by_dot: HashMap<(Key, Dot), Vec<W>>,
    /// The last read of each workload client: its key and the writes it returned.
    client_reads: BTreeMap<u32, (Key, Vec<W>)>,
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
    examples: Vec<Violation>,
    /// Puts by hand whose context matched no remembered read (treated as blind).
    unmatched_contexts: u64,
}

/// FNV-1a: a value's fingerprint, the same on every platform.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl History {
    /// An oracle for a cluster with these quorum settings.
    pub(crate) fn new(n: u8, r: u8, w: u8, pruning: bool) -> History {
        History {
            strict: u16::from(r) + u16::from(w) > u16::from(n),
            pruning,
            ..History::default()
        }
    }

    fn violate(&mut self, v: Violation) {
        self.violations += 1;
        if self.examples.len() < VIOLATIONS_KEPT {
            self.examples.push(v);
        }
    }

    /// Violations found while the run went on (reads, acknowledgements).
    pub fn live_violations(&self) -> u64 {
        self.violations
    }

    /// The first violations found while the run went on.
    pub fn examples(&self) -> &[Violation] {
        &self.examples
    }

    /// Writes submitted so far.
    pub fn writes(&self) -> usize {
        self.writes.len()
    }

    /// Puts made by hand whose context matched no read the oracle remembers (judged as blind).
    pub fn unmatched_contexts(&self) -> u64 {
        self.unmatched_contexts
    }

    pub(crate) fn on_fault(&mut self) {
        self.faulted = true;
        for (_, acked) in self.gets.values_mut() {
            acked.clear();
        }
    }

    /// A client submitted `request` as `req` (`client`: a workload client, `None`: by hand).
    pub(crate) fn on_submit(&mut self, req: RequestId, request: &Request, client: Option<u32>) {
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
                let w = self.writes.len() as W;
                self.writes.push(WriteRec {
                    req,
                    key: key.clone(),
                    value: fingerprint(value.as_bytes()),
                    dots: Vec::new(),
                    read_from,
                    acked: None,
                    superseded: false,
                });
                self.by_req.insert(req, w);
            }
        }
    }

    /// The writes returned by the read a put's context came from.
    fn read_from(&mut self, key: &Key, context: &VectorClock, client: Option<u32>) -> Vec<W> {
        if let Some((k, ws)) = client.and_then(|c| self.client_reads.get(&c)) {
            if k == key {
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
                .find(|(ctx, _)| ctx == context)
                .map(|(_, ws)| ws.clone())
        });
        found.unwrap_or_else(|| {
            self.unmatched_contexts += 1;
            Vec::new()
        })
    }

    /// The coordinator of put `req` wrote it as `dot`.
    pub(crate) fn on_wrote(&mut self, req: RequestId, key: &Key, dot: Dot) {
        let Some(&w) = self.by_req.get(&req) else {
            return;
        };
        let named = self.by_dot.entry((key.clone(), dot)).or_default();
        if !named.contains(&w) {
            named.push(w);
        }
        if named.len() > 1 {
            self.violate(Violation::DuplicateDot {
                key: key.clone(),
                dot,
            });
        }
        self.writes[w as usize].dots.push(dot);
    }

    /// The write a version is, or `None` (a phantom).
    fn name(&self, key: &Key, v: &Version) -> Option<W> {
        let fp = fingerprint(v.value.as_bytes());
        self.by_dot
            .get(&(key.clone(), v.dot))?
            .iter()
            .copied()
            .find(|&w| self.writes[w as usize].value == fp)
    }

    /// Names every version of a read or a replica; phantoms are violations.
    fn names(&mut self, key: &Key, versions: &[Version]) -> Vec<W> {
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            match self.name(key, v) {
                Some(w) => out.push(w),
                None => self.violate(Violation::Phantom {
                    key: key.clone(),
                    dot: v.dot,
                }),
            }
        }
        out
    }

    /// A reply reached the client.
    pub(crate) fn on_reply(&mut self, reply: &Reply, client: Option<u32>, now: Time) {
        match &reply.body {
            ReplyBody::PutOk { version } => {
                let Some(&w) = self.by_req.get(&reply.req) else {
                    return;
                };
                if !self.writes[w as usize].dots.contains(&version.dot) {
                    self.violate(Violation::AckedUnwritten {
                        key: reply.key.clone(),
                        write: reply.req,
                    });
                }
                self.writes[w as usize].acked = Some(now);
                self.supersede_read_from(w);
                let key = reply.key.clone();
                let mut frontier = self.frontier.remove(&key).unwrap_or_default();
                frontier.retain(|&f| !self.is_ancestor(f, w));
                frontier.push(w);
                self.frontier.insert(key, frontier);
            }
            ReplyBody::GetOk { siblings, context } => {
                let key = &reply.key;
                let read = self.names(key, siblings);
                self.check_no_ancestor_pairs(key, &read, None);
                if let Some((_, acked)) = self.gets.remove(&reply.req) {
                    for f in acked {
                        if !read.iter().any(|&r| r == f || self.is_ancestor(f, r)) {
                            let missed = self.writes[f as usize].req;
                            self.violate(Violation::StaleRead {
                                key: key.clone(),
                                read: reply.req,
                                missed,
                            });
                        }
                    }
                }
                let reads = self.recent_reads.entry(key.clone()).or_default();
                if reads.len() >= RECENT_READS {
                    reads.pop_front();
                }
                reads.push_back((context.clone(), read.clone()));
                if let Some(c) = client {
                    self.client_reads.insert(c, (key.clone(), read));
                }
            }
            ReplyBody::Failed(_) => {
                self.gets.remove(&reply.req);
            }
        }
    }

    /// Marks every write `w`'s writer read (and, transitively, theirs) as superseded.
    fn supersede_read_from(&mut self, w: W) {
        let mut stack = self.writes[w as usize].read_from.clone();
        while let Some(x) = stack.pop() {
            let rec = &mut self.writes[x as usize];
            if !rec.superseded {
                rec.superseded = true;
                stack.extend(rec.read_from.iter().copied());
            }
        }
    }

    /// Whether `a` is in the read-from closure of `d` (`d`'s writer read `a`, or read a write whose
    /// writer read `a`, …). Read-from edges point to earlier writes, so the search stops below `a`.
    fn is_ancestor(&self, a: W, d: W) -> bool {
        let mut stack = vec![d];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(x) = stack.pop() {
            for &p in &self.writes[x as usize].read_from {
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
    fn check_no_ancestor_pairs(&mut self, key: &Key, ws: &[W], _replica: Option<NodeId>) {
        if self.pruning || ws.len() < 2 {
            return;
        }
        for &a in ws {
            for &d in ws {
                if a != d && self.is_ancestor(a, d) {
                    let (write, by) = (self.writes[a as usize].req, self.writes[d as usize].req);
                    self.violate(Violation::Resurrected {
                        key: key.clone(),
                        write,
                        by,
                    });
                }
            }
        }
    }

    /// The verdict at the end of a run: call once faults are healed and replicas had time to
    /// converge. Reads each home replica's stored versions as a client reading it alone would.
    pub fn final_check(&self, sim: &Simulation) -> OracleReport {
        let mut oracle = self.clone();
        let n = usize::from(sim.config().n);
        let mut keys: BTreeMap<Key, ()> = BTreeMap::new();
        for w in &oracle.writes {
            keys.insert(w.key.clone(), ());
        }
        // What each home replica holds, by write; anything surviving supersedes what it read.
        let mut on_home: HashMap<(Key, NodeId), Vec<W>> = HashMap::new();
        for key in keys.keys() {
            let homes = sim.ring().preference_list(key.position(), n);
            for h in homes {
                let versions = sim
                    .node(h)
                    .and_then(|node| node.versions(key.as_str()))
                    .map(|set| set.versions().to_vec())
                    .unwrap_or_default();
                let ws = oracle.names(key, &versions);
                oracle.check_no_ancestor_pairs(key, &ws, Some(h));
                for &w in &ws {
                    oracle.supersede_read_from(w);
                }
                on_home.insert((key.clone(), h), ws);
            }
        }
        let mut report = OracleReport {
            writes: oracle.writes.len() as u64,
            ..OracleReport::default()
        };
        let mut lost = Vec::new();
        for (w, rec) in oracle.writes.iter().enumerate() {
            if rec.acked.is_none() {
                continue;
            }
            report.acked += 1;
            if rec.superseded {
                report.superseded += 1;
                continue;
            }
            let homes = sim.ring().preference_list(rec.key.position(), n);
            let missing_on: Vec<NodeId> = homes
                .into_iter()
                .filter(|&h| {
                    !on_home
                        .get(&(rec.key.clone(), h))
                        .is_some_and(|ws| ws.contains(&(w as W)))
                })
                .collect();
            if missing_on.is_empty() {
                report.on_all_homes += 1;
                continue;
            }
            report.lost += 1;
            let everywhere = !sim.nodes().iter().any(|node| {
                let held = node.versions(rec.key.as_str()).into_iter().chain(
                    node.hints()
                        .values()
                        .filter_map(|h| h.get(rec.key.as_str()).cloned()),
                );
                held.into_iter()
                    .any(|set| set.versions().iter().any(|v| rec.dots.contains(&v.dot)))
            });
            lost.push(Violation::Lost {
                key: rec.key.clone(),
                write: rec.req,
                missing_on,
                everywhere,
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
