//! Properties of vector clocks and version sets (docs/protocol.md §Versions).
//!
//! Clocks: `compare` is the pointwise partial order, `merge` is its least upper bound, `prune` keeps
//! the newest entries. Version sets: replicas that write with contexts from earlier reads and
//! exchange whole sets (replication, read repair, anti-entropy) hold exactly the causal frontier of
//! the writes they know, never a version next to one that covers it, and converge to the same set
//! whatever the order of arrival.

use kvlab_core::{
    Causality, ClockEntry, NodeId, Rng, Time, Value, VectorClock, Version, VersionSet,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Clocks

/// Small node and counter ranges, so that equal, ordered and concurrent pairs all come up often.
fn arb_clock() -> impl Strategy<Value = VectorClock> {
    prop::collection::vec((0u16..6, 0u64..4, 0u64..50), 0..8).prop_map(|es| {
        es.into_iter()
            .map(|(n, c, t)| ClockEntry {
                actor: NodeId(n).into(),
                counter: c,
                updated: Time(t),
            })
            .collect()
    })
}

fn counters(c: &VectorClock) -> BTreeMap<kvlab_core::Actor, u64> {
    c.entries().iter().map(|e| (e.actor, e.counter)).collect()
}

/// The definition: `a <= b` when every counter of `a` is at most `b`'s.
fn model_compare(a: &VectorClock, b: &VectorClock) -> Causality {
    let (ma, mb) = (counters(a), counters(b));
    let get = |m: &BTreeMap<kvlab_core::Actor, u64>, n: &kvlab_core::Actor| {
        m.get(n).copied().unwrap_or(0)
    };
    let nodes: BTreeSet<kvlab_core::Actor> = ma.keys().chain(mb.keys()).copied().collect();
    let le = nodes.iter().all(|n| get(&ma, n) <= get(&mb, n));
    let ge = nodes.iter().all(|n| get(&ma, n) >= get(&mb, n));
    match (le, ge) {
        (true, true) => Causality::Equal,
        (true, false) => Causality::Before,
        (false, true) => Causality::After,
        (false, false) => Causality::Concurrent,
    }
}

fn merged(a: &VectorClock, b: &VectorClock) -> VectorClock {
    let mut m = a.clone();
    m.merge(b);
    m
}

proptest! {
    #[test]
    fn compare_matches_the_pointwise_order(a in arb_clock(), b in arb_clock()) {
        prop_assert_eq!(a.compare(&b), model_compare(&a, &b));
        prop_assert_eq!(a.compare(&a), Causality::Equal);
        prop_assert_eq!(b.compare(&a), a.compare(&b).reverse());
        prop_assert_eq!(
            a.descends(&b),
            matches!(a.compare(&b), Causality::After | Causality::Equal)
        );
        prop_assert!(a.entries().windows(2).all(|w| w[0].actor < w[1].actor));
        prop_assert!(a.entries().iter().all(|e| e.counter > 0));
    }

    #[test]
    fn compare_is_a_partial_order(
        a in arb_clock(), x in arb_clock(), y in arb_clock(), c in arb_clock(),
    ) {
        // Antisymmetry: mutual descent means equal counters.
        if a.descends(&x) && x.descends(&a) {
            prop_assert_eq!(a.compare(&x), Causality::Equal);
            prop_assert_eq!(counters(&a), counters(&x));
        }
        // Transitivity on a chain built to be ordered, and on arbitrary triples.
        let b = merged(&a, &x);
        let d = merged(&b, &y);
        for (lo, hi) in [(&a, &b), (&b, &d), (&a, &d)] {
            prop_assert!(matches!(lo.compare(hi), Causality::Before | Causality::Equal));
        }
        if a.compare(&b) == Causality::Before && b.compare(&d) == Causality::Before {
            prop_assert_eq!(a.compare(&d), Causality::Before);
        }
        if a.compare(&x) == Causality::Before && x.compare(&c) == Causality::Before {
            prop_assert_eq!(a.compare(&c), Causality::Before);
        }
    }

    #[test]
    fn merge_is_commutative_associative_idempotent(
        a in arb_clock(), b in arb_clock(), c in arb_clock(),
    ) {
        // Structural equality: counters and entry times alike.
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        prop_assert_eq!(merged(&a, &a), a.clone());
        let ab = merged(&a, &b);
        prop_assert_eq!(merged(&ab, &b), ab);
    }

    #[test]
    fn merge_is_the_least_upper_bound(a in arb_clock(), b in arb_clock(), c in arb_clock()) {
        let m = merged(&a, &b);
        prop_assert!(m.descends(&a) && m.descends(&b));
        for e in m.entries() {
            prop_assert_eq!(e.counter, a.counter(e.actor).max(b.counter(e.actor)));
            // The entry's time comes from the side with the higher counter (the later on a tie).
            let side = |x: &VectorClock| x.entries().iter().find(|f| f.actor == e.actor).copied();
            let want = match (side(&a), side(&b)) {
                (Some(p), Some(q)) if p.counter == q.counter => p.updated.max(q.updated),
                (Some(p), Some(q)) => if p.counter > q.counter { p.updated } else { q.updated },
                (Some(p), None) | (None, Some(p)) => p.updated,
                (None, None) => unreachable!("an entry of the merge comes from a side"),
            };
            prop_assert_eq!(e.updated, want);
        }
        // Least: anything above both is above the merge.
        if c.descends(&a) && c.descends(&b) {
            prop_assert!(c.descends(&m));
        }
        let above = merged(&merged(&c, &a), &b);
        prop_assert!(above.descends(&m));
    }

    #[test]
    fn prune_keeps_the_newest_entries(c in arb_clock(), threshold in 0usize..6) {
        let mut p = c.clone();
        let dropped = p.prune(threshold);
        prop_assert_eq!(dropped + p.len(), c.len());
        if threshold == 0 {
            prop_assert_eq!(&p, &c);
        } else {
            prop_assert_eq!(p.len(), c.len().min(threshold));
        }
        prop_assert!(c.descends(&p));
        let key = |e: &ClockEntry| (e.updated, e.actor);
        let kept: BTreeSet<_> = p.entries().iter().map(key).collect();
        for e in c.entries().iter().filter(|e| !kept.contains(&key(e))) {
            prop_assert!(kept.iter().all(|k| *k > key(e)), "dropped {e:?} is not the oldest");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Version sets across replicas

#[derive(Clone, Debug)]
enum Op {
    /// A client reads a replica: its context (and what it saw) becomes available to later writes.
    Read { replica: usize },
    /// A put through `via` with the context of an earlier read (`read` modulo reads + 1, 0 = blind).
    /// The coordinator then sends its set to every other replica.
    Write { via: usize, read: usize },
    /// Read repair or anti-entropy: `from` sends its current set to `to`.
    Send { from: usize, to: usize },
    /// An in-flight set arrives (any message, in any order).
    Deliver { msg: usize },
    /// An in-flight set is lost.
    Lose { msg: usize },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0usize..8).prop_map(|replica| Op::Read { replica }),
        3 => (0usize..8, 0usize..64).prop_map(|(via, read)| Op::Write { via, read }),
        1 => (0usize..8, 0usize..8).prop_map(|(from, to)| Op::Send { from, to }),
        4 => (0usize..256).prop_map(|msg| Op::Deliver { msg }),
        1 => (0usize..256).prop_map(|msg| Op::Lose { msg }),
    ]
}

struct Replica {
    set: VersionSet,
    /// Ids of every write that has reached this replica, directly or through other sets.
    known: BTreeSet<usize>,
    /// The highest dot counter this replica has issued as a coordinator.
    issued: u64,
}

struct Message {
    to: usize,
    set: VersionSet,
    known: BTreeSet<usize>,
}

/// The cluster and a model of causality: each write's causal past is what its client had read.
struct World {
    replicas: Vec<Replica>,
    in_flight: Vec<Message>,
    /// Every version ever written, by id (its value holds the id).
    versions: Vec<Version>,
    /// past[id]: the writes the client of write `id` had seen, directly or transitively.
    past: Vec<BTreeSet<usize>>,
    /// Contexts handed to clients, with the writes each one saw.
    reads: Vec<(VectorClock, BTreeSet<usize>)>,
    threshold: usize,
    now: u64,
}

fn id_of(v: &Version) -> usize {
    let mut b = [0u8; 8];
    b.copy_from_slice(v.value.as_bytes());
    u64::from_le_bytes(b) as usize
}

impl World {
    fn new(replicas: usize, threshold: usize) -> Self {
        World {
            replicas: (0..replicas)
                .map(|_| Replica {
                    set: VersionSet::new(),
                    known: BTreeSet::new(),
                    issued: 0,
                })
                .collect(),
            in_flight: Vec::new(),
            versions: Vec::new(),
            past: Vec::new(),
            reads: Vec::new(),
            threshold,
            now: 0,
        }
    }

    fn seen(&self, set: &VersionSet) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        for v in set.versions() {
            let id = id_of(v);
            seen.insert(id);
            seen.extend(self.past[id].iter().copied());
        }
        seen
    }

    /// The writes of `ids` that no other write of `ids` has in its causal past.
    fn frontier(&self, ids: &BTreeSet<usize>) -> BTreeSet<usize> {
        ids.iter()
            .copied()
            .filter(|x| !ids.iter().any(|y| self.past[*y].contains(x)))
            .collect()
    }

    fn send(&mut self, from: usize, to: usize) {
        let r = &self.replicas[from];
        self.in_flight.push(Message {
            to,
            set: r.set.clone(),
            known: r.known.clone(),
        });
    }

    fn apply(&mut self, op: &Op) {
        self.now += 10;
        let n = self.replicas.len();
        match *op {
            Op::Read { replica } => {
                let set = &self.replicas[replica % n].set;
                self.reads.push((set.context(), self.seen(set)));
            }
            Op::Write { via, read } => {
                let via = via % n;
                let (ctx, seen) = match read % (self.reads.len() + 1) {
                    0 => (VectorClock::new(), BTreeSet::new()),
                    k => self.reads[k - 1].clone(),
                };
                let id = self.versions.len();
                let value = Value::from((id as u64).to_le_bytes().to_vec());
                let coordinator = NodeId(via as u16);
                let r = &mut self.replicas[via];
                // A node's counter never goes back, whatever pruning did to this key's clocks.
                let v = r.set.write_after(
                    coordinator,
                    &ctx,
                    value,
                    Time(self.now),
                    self.threshold,
                    r.issued,
                );
                r.issued = v.dot.counter;
                r.known.insert(id);
                self.versions.push(v);
                self.past.push(seen);
                for to in (0..n).filter(|&to| to != via) {
                    self.send(via, to);
                }
            }
            Op::Send { from, to } => self.send(from % n, to % n),
            Op::Deliver { msg } if !self.in_flight.is_empty() => {
                let m = self.in_flight.remove(msg % self.in_flight.len());
                let r = &mut self.replicas[m.to];
                r.set.merge(&m.set);
                r.known.extend(m.known);
            }
            Op::Lose { msg } if !self.in_flight.is_empty() => {
                self.in_flight.remove(msg % self.in_flight.len());
            }
            Op::Deliver { .. } | Op::Lose { .. } => {}
        }
    }

    fn ids(set: &VersionSet) -> BTreeSet<usize> {
        set.versions().iter().map(id_of).collect()
    }

    /// Every replica sends its set to every other until nothing changes (anti-entropy at rest).
    fn sync_all(&mut self) -> usize {
        let n = self.replicas.len();
        for rounds in 1..=10 {
            let mut changed = false;
            for from in 0..n {
                for to in 0..n {
                    if from != to {
                        let set = self.replicas[from].set.clone();
                        changed |= self.replicas[to].set.merge(&set);
                    }
                }
            }
            if !changed {
                return rounds;
            }
        }
        usize::MAX
    }
}

fn no_sibling_covers_another(set: &VersionSet) -> Result<(), TestCaseError> {
    let vs = set.versions();
    for (i, a) in vs.iter().enumerate() {
        for (j, b) in vs.iter().enumerate() {
            prop_assert!(i == j || !a.covers(b), "{:?} covers {:?}", a, b);
        }
    }
    Ok(())
}

fn insert_all<'a>(versions: impl IntoIterator<Item = &'a Version>) -> VersionSet {
    let mut set = VersionSet::new();
    for v in versions {
        set.insert(v.clone());
    }
    set
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Without pruning, every replica holds exactly the causal frontier of the writes it knows: a
    /// put supersedes exactly what its client had read, and nothing else.
    #[test]
    fn replicas_hold_the_causal_frontier_and_converge(
        replicas in 3usize..=5,
        ops in prop::collection::vec(arb_op(), 1..80),
        seed in any::<u64>(),
    ) {
        let mut w = World::new(replicas, 0);
        for op in &ops {
            w.apply(op);
            for r in &w.replicas {
                no_sibling_covers_another(&r.set)?;
                prop_assert_eq!(World::ids(&r.set), w.frontier(&r.known), "after {:?}", op);
            }
        }
        // Every order of arrival of all writes gives the same set: the frontier of them all.
        let all: BTreeSet<usize> = (0..w.versions.len()).collect();
        let frontier = w.frontier(&all);
        let in_order = insert_all(&w.versions);
        let mut shuffled: Vec<&Version> = w.versions.iter().collect();
        Rng::new(seed).shuffle(&mut shuffled);
        prop_assert_eq!(&insert_all(shuffled.iter().copied()), &in_order);
        shuffled.reverse();
        prop_assert_eq!(&insert_all(shuffled), &in_order);
        prop_assert_eq!(World::ids(&in_order), frontier.clone());

        // Replicas that exchange their sets converge on it.
        prop_assert!(w.sync_all() <= 3);
        for r in &w.replicas {
            prop_assert_eq!(&r.set, &in_order);
        }
    }

    /// With pruning (docs/protocol.md §Versions, Pruning) contexts cover less: false siblings may remain, but a set never
    /// holds a version next to one that covers it, and no causally latest write is lost.
    #[test]
    fn pruned_clocks_keep_sets_clean_and_lose_no_latest_write(
        replicas in 3usize..=5,
        threshold in 2usize..=3,
        ops in prop::collection::vec(arb_op(), 1..80),
    ) {
        let mut w = World::new(replicas, threshold);
        for op in &ops {
            w.apply(op);
            for r in &w.replicas {
                no_sibling_covers_another(&r.set)?;
                prop_assert!(r.set.versions().iter().all(|v| v.clock().len() <= threshold));
            }
        }
        w.sync_all();
        let all: BTreeSet<usize> = (0..w.versions.len()).collect();
        let frontier = w.frontier(&all);
        for r in &w.replicas {
            no_sibling_covers_another(&r.set)?;
            let held = World::ids(&r.set);
            prop_assert!(held.is_superset(&frontier), "held {:?}, latest {:?}", held, frontier);
        }
    }
}
