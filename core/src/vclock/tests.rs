use super::*;
use crate::types::{NodeId, Time};

const SX: NodeId = NodeId(0);
const SY: NodeId = NodeId(1);
const SZ: NodeId = NodeId(2);

fn name(n: NodeId) -> String {
    ["Sx", "Sy", "Sz"]
        .get(n.index())
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

fn show(c: &VectorClock) -> String {
    c.display_with(name)
}

fn clock(entries: &[(u16, u64, u64)]) -> VectorClock {
    entries
        .iter()
        .map(|&(n, c, t)| ClockEntry {
            actor: NodeId(n).into(),
            counter: c,
            updated: Time(t),
        })
        .collect()
}

fn values(set: &VersionSet) -> Vec<String> {
    set.versions().iter().map(|v| v.value.to_text()).collect()
}

#[test]
fn counters_increment_set_and_display() {
    let mut c = VectorClock::new();
    assert_eq!(c.to_string(), "[]");
    assert_eq!(show(&c), "[]");
    assert_eq!(c.increment(SY, Time(5)), 1);
    assert_eq!(c.increment(SX, Time(6)), 1);
    assert_eq!(c.increment(SX, Time(7)), 2);
    assert_eq!(c.to_string(), "[S0,2][S1,1]");
    assert_eq!(show(&c), "[Sx,2][Sy,1]");
    assert_eq!(c.counter(SX), 2);
    assert_eq!(c.counter(SZ), 0);
    assert_eq!(c.entries()[0].updated, Time(7));
    c.set(SZ, 4, Time(9));
    assert_eq!(show(&c), "[Sx,2][Sy,1][Sz,4]");
    c.set(SY, 0, Time(9));
    assert_eq!(show(&c), "[Sx,2][Sz,4]");
    assert_eq!(c.len(), 2);
}

#[test]
fn clocks_spill_to_the_heap_and_stay_sorted() {
    let mut c = VectorClock::new();
    for n in (0..20u16).rev() {
        c.increment(NodeId(n), Time(u64::from(n)));
    }
    assert_eq!(c.len(), 20);
    assert!(c.entries().windows(2).all(|w| w[0].actor < w[1].actor));
    let small = clock(&[(3, 1, 0), (7, 1, 0)]);
    let mut m = small.clone();
    m.merge(&c);
    assert_eq!(m, c);
    assert_eq!(c.prune(4), 16);
    assert_eq!(c.to_string(), "[S16,1][S17,1][S18,1][S19,1]");
}

#[test]
fn compare_and_descends() {
    let a = clock(&[(0, 2, 0)]);
    let b = clock(&[(0, 2, 0), (1, 1, 0)]);
    let c = clock(&[(0, 2, 0), (2, 1, 0)]);
    assert_eq!(a.compare(&a), Causality::Equal);
    assert_eq!(a.compare(&b), Causality::Before);
    assert_eq!(b.compare(&a), Causality::After);
    assert_eq!(b.compare(&c), Causality::Concurrent);
    assert_eq!(VectorClock::new().compare(&a), Causality::Before);
    assert!(b.descends(&a) && !a.descends(&b) && !b.descends(&c));
    assert!(a.descends(&VectorClock::new()));
    // Times do not take part in causality.
    assert_eq!(a.compare(&clock(&[(0, 2, 99)])), Causality::Equal);
}

#[test]
fn merge_takes_max_counters_and_the_winners_times() {
    let mut a = clock(&[(0, 2, 10), (1, 1, 30)]);
    let b = clock(&[(0, 3, 20), (1, 1, 40), (2, 5, 1)]);
    a.merge(&b);
    assert_eq!(a, clock(&[(0, 3, 20), (1, 1, 40), (2, 5, 1)]));
    let mut c = clock(&[(0, 9, 5), (1, 1, 50)]);
    c.merge(&b);
    assert_eq!(c, clock(&[(0, 9, 5), (1, 1, 50), (2, 5, 1)]));
    assert_eq!(c.compare(&b), Causality::After);
}

#[test]
fn prune_drops_oldest_and_breaks_ties_by_lower_node() {
    let mut c = clock(&[(0, 1, 5), (1, 1, 5), (2, 1, 5)]);
    assert_eq!(c.prune(2), 1);
    assert_eq!(c.to_string(), "[S1,1][S2,1]");
    let mut c = clock(&[(0, 1, 9), (1, 1, 5), (2, 1, 5), (3, 1, 7)]);
    assert_eq!(c.prune(0), 0, "threshold 0 turns pruning off");
    assert_eq!(c.prune(4), 0);
    assert_eq!(c.prune(1), 3);
    assert_eq!(c.to_string(), "[S0,1]");
}

/// The textbook example (Dynamo paper, figure 3), step by step.
#[test]
fn dynamo_example_d1_to_d5() {
    let mut at_x = VersionSet::new();
    let d1 = at_x.write(SX, &VectorClock::new(), "D1".into(), Time(1), 0);
    assert_eq!(show(&d1.clock()), "[Sx,1]");
    assert_eq!(show(&at_x.context()), "[Sx,1]");

    let d2 = at_x.write(SX, &at_x.context(), "D2".into(), Time(2), 0);
    assert_eq!(show(&d2.clock()), "[Sx,2]");
    assert_eq!(values(&at_x), ["D2"], "D2 replaced D1");

    let mut at_y = at_x.clone();
    let mut at_z = at_x.clone();
    let ctx = at_x.context();
    let d3 = at_y.write(SY, &ctx, "D3".into(), Time(3), 0);
    let d4 = at_z.write(SZ, &ctx, "D4".into(), Time(3), 0);
    assert_eq!(show(&d3.clock()), "[Sx,2][Sy,1]");
    assert_eq!(show(&d4.clock()), "[Sx,2][Sz,1]");
    assert_eq!(d3.clock().compare(&d4.clock()), Causality::Concurrent);

    // A replica that receives both keeps both: the conflict a read discovers.
    assert!(at_x.insert(d3.clone()));
    assert!(at_x.insert(d4.clone()));
    assert_eq!(values(&at_x), ["D3", "D4"]);
    let ctx = at_x.context();
    assert_eq!(show(&ctx), "[Sx,2][Sy,1][Sz,1]");

    // The client reconciles and writes through Sx.
    let mut holds_d3_d4 = at_x.clone();
    let d5 = at_x.write(SX, &ctx, "D5".into(), Time(4), 0);
    assert_eq!(show(&d5.clock()), "[Sx,3][Sy,1][Sz,1]");
    assert_eq!(values(&at_x), ["D5"]);

    assert!(holds_d3_d4.insert(d5.clone()));
    assert_eq!(values(&holds_d3_d4), ["D5"]);
    // Late copies of the ancestors change nothing.
    assert!(!holds_d3_d4.insert(d3));
    assert!(!holds_d3_d4.insert(d4));
    assert!(!holds_d3_d4.insert(d5));
    assert_eq!(holds_d3_d4, at_x);
}

#[test]
fn blind_write_becomes_a_sibling_not_an_overwrite() {
    let mut set = VersionSet::new();
    set.write(SX, &VectorClock::new(), "old1".into(), Time(1), 0);
    let ctx = set.context();
    set.write(SX, &ctx, "old2".into(), Time(2), 0);
    assert_eq!(show(&set.context()), "[Sx,2]");

    let blind = set.write(SX, &VectorClock::new(), "blind".into(), Time(3), 0);
    assert_eq!(
        blind.dot,
        Dot {
            actor: SX.into(),
            counter: 3
        }
    );
    assert_eq!(values(&set), ["old2", "blind"]);
    // Its clock reads [Sx,3], but its context covered nothing.
    assert_eq!(show(&blind.clock()), "[Sx,3]");

    // A replica that has old2 keeps both too.
    let mut replica = VersionSet::new();
    replica.insert(set.versions()[0].clone());
    assert!(replica.insert(blind));
    assert_eq!(values(&replica), ["old2", "blind"]);

    // A client that read both supersedes both.
    let ctx = set.context();
    set.write(SY, &ctx, "merged".into(), Time(4), 0);
    assert_eq!(values(&set), ["merged"]);
}

#[test]
fn a_context_cannot_move_the_coordinators_counter() {
    // The context claims [S0,5] (and [S0,u64::MAX] below) but S0 issued nothing: the dot is
    // S0's own next counter, and the claim on S0's future dots is clamped away, so the new
    // version does not cover itself or S0's next write.
    let mut set = VersionSet::new();
    let v = set.write(SX, &clock(&[(0, 5, 1), (1, 2, 1)]), "v".into(), Time(2), 0);
    assert_eq!(v.dot.counter, 1);
    assert_eq!(v.context.to_string(), "[S1,2]");
    assert_eq!(set.next_counter(SX), 2);
    let wedge = clock(&[(0, u64::MAX, 1)]);
    let w = set.write(SX, &wedge, "w".into(), Time(3), 0);
    assert_eq!(w.dot.counter, 2);
    assert_eq!(w.context.counter(SX), 1, "it covers what S0 did issue");
    let next = set.write(SX, &VectorClock::new(), "x".into(), Time(4), 0);
    assert_eq!(next.dot.counter, 3);
    assert_eq!(
        values(&set),
        ["w", "x"],
        "the write after the wedge is kept"
    );
    // With the node's floor (the highest counter it issued for any key) the dot goes above it.
    let mut other = VersionSet::new();
    let v = other.write_after(SX, &VectorClock::new(), "y".into(), Time(5), 0, 41);
    assert_eq!(v.dot.counter, 42);
    assert_eq!(other.next_counter(SY), 1);
}

/// Pruning makes the descendant relationship undecidable; the cost is a false sibling.
#[test]
fn pruned_context_leaves_a_false_sibling() {
    let chain = |threshold: usize| {
        let mut at_x = VersionSet::new();
        let v1 = at_x.write(SX, &VectorClock::new(), "v1".into(), Time(10), threshold);
        let mut at_y = at_x.clone();
        let v2 = at_y.write(SY, &v1.clock(), "v2".into(), Time(20), threshold);
        let mut at_z = at_y.clone();
        let v3 = at_z.write(SZ, &v2.clock(), "v3".into(), Time(30), threshold);
        (v1, v2, v3)
    };

    let (v1, _, v3) = chain(0);
    assert_eq!(show(&v3.clock()), "[Sx,1][Sy,1][Sz,1]");
    let mut replica = VersionSet::new();
    replica.insert(v1);
    assert!(replica.insert(v3));
    assert_eq!(
        values(&replica),
        ["v3"],
        "unpruned: v3 supersedes its ancestor"
    );

    let (v1, v2, v3) = chain(2);
    assert_eq!(show(&v2.clock()), "[Sx,1][Sy,1]");
    assert_eq!(show(&v3.context), "[Sy,1]", "Sx advanced longest ago");
    assert_eq!(show(&v3.clock()), "[Sy,1][Sz,1]");
    assert!(v3.covers(&v2));
    assert!(!v3.covers(&v1));
    let mut replica = VersionSet::new();
    replica.insert(v1.clone());
    assert!(replica.insert(v3.clone()));
    assert_eq!(
        values(&replica),
        ["v1", "v3"],
        "pruned: v1 stays as a false sibling"
    );
    // The next read's context covers both again, so the next write cleans up.
    let ctx = replica.context();
    replica.write(SX, &ctx, "v4".into(), Time(40), 2);
    assert_eq!(values(&replica), ["v4"]);
}

#[test]
fn pruning_keeps_the_writers_own_entry_on_ties() {
    // Every entry has the same time: the tie rule would pick S0 first, but S0 is the writer.
    let ctx = clock(&[(0, 1, 7), (1, 1, 7), (2, 1, 7)]);
    let mut set = VersionSet::new();
    let v = set.write_after(SX, &ctx, "v".into(), Time(7), 2, 1);
    assert_eq!(v.clock().to_string(), "[S0,2][S2,1]");
    let v = VersionSet::new().write(NodeId(3), &ctx, "w".into(), Time(7), 2);
    assert_eq!(v.clock().to_string(), "[S2,1][S3,1]");
}

#[test]
fn single_version_replication_can_lose_a_sibling() {
    let (n, m, r) = (SX, SY, SZ);
    let mut at_m = VersionSet::new();
    let a = at_m.write(m, &VectorClock::new(), "a".into(), Time(1), 0);
    let mut at_n = VersionSet::new();
    at_n.insert(a.clone());
    let b = at_n.write(n, &at_n.context(), "b".into(), Time(2), 0);
    let b2 = at_n.write(n, &VectorClock::new(), "b2".into(), Time(3), 0);
    assert_eq!(values(&at_n), ["b", "b2"]);

    // Replica r receives b2 alone (b's message was lost); a client reads r and writes.
    let mut at_r = VersionSet::new();
    at_r.insert(b2.clone());
    let c = at_r
        .clone()
        .write(r, &at_r.context(), "c".into(), Time(4), 0);
    assert!(c.covers(&b), "c supersedes b, which its client never read");
    // ...and covers b but not b's ancestor a, so the outcome depends on arrival order.
    let mut one = VersionSet::new();
    let mut two = VersionSet::new();
    for v in [&a, &b, &b2, &c] {
        one.insert(v.clone());
    }
    for v in [&c, &a, &b, &b2] {
        two.insert(v.clone());
    }
    assert_ne!(one, two);

    // Whole-set replication: r's context names a and b, so the client's write is exact.
    let mut at_r = VersionSet::new();
    at_r.merge(&at_n);
    assert_eq!(show(&at_r.context()), "[Sx,2][Sy,1]");
    let c = at_r.write(r, &at_r.context(), "c".into(), Time(4), 0);
    assert!(c.covers(&a) && c.covers(&b) && c.covers(&b2));
}

#[test]
fn reused_dot_is_a_sibling_not_a_duplicate() {
    let mut before_wipe = VersionSet::new();
    let old = before_wipe.write(SX, &VectorClock::new(), "old".into(), Time(1), 0);
    let mut wiped = VersionSet::new();
    let new = wiped.write(SX, &VectorClock::new(), "new".into(), Time(9), 0);
    assert_eq!(old.dot, new.dot);
    assert!(!old.covers(&new) && !new.covers(&old));
    assert!(old.covers(&old.clone()));
    let mut one = before_wipe.clone();
    let mut two = wiped.clone();
    assert!(one.merge(&wiped));
    assert!(two.merge(&before_wipe));
    assert_eq!(one, two);
    assert_eq!(values(&one), ["old", "new"]);
}

#[test]
fn delete_writes_a_tombstone() {
    let mut set = VersionSet::new();
    set.write(SX, &VectorClock::new(), "v".into(), Time(1), 0);
    let t = set.delete(SY, &set.context(), Time(2), 0);
    assert!(t.tombstone && t.value.is_empty());
    assert_eq!(set.versions(), [t]);
}

#[test]
fn last_write_wins_keeps_one_version() {
    let mut set = VersionSet::new();
    let a = set.write_lww(SY, "a".into(), Time(5));
    assert_eq!(
        a.dot,
        Dot {
            actor: SY.into(),
            counter: 1
        }
    );
    let b = set.write_lww(SX, "b".into(), Time(5));
    assert_eq!(values(&set), ["a"], "equal times: the higher node id wins");
    assert!(!set.insert_lww(b.clone()));
    let c = set.write_lww(SX, "c".into(), Time(6));
    assert_eq!(c.dot.counter, 1, "b lost, so this set never stored its dot");
    assert_eq!(values(&set), ["c"]);
    assert!(!set.insert_lww(a.clone()));
    assert!(!set.insert_lww(c.clone()));
    // Order of arrival does not matter.
    let mut other = VersionSet::new();
    for v in [c, b, a] {
        other.insert_lww(v);
    }
    assert_eq!(other, set);
    // A set holding siblings (e.g. after a mode change) collapses to one.
    let mut siblings = VersionSet::new();
    siblings.write(SX, &VectorClock::new(), "x".into(), Time(1), 0);
    siblings.write(SY, &VectorClock::new(), "y".into(), Time(2), 0);
    assert_eq!(siblings.len(), 2);
    assert!(!siblings.insert_lww(siblings.versions()[0].clone()));
    assert_eq!(values(&siblings), ["y"]);
}

#[test]
fn encoded_len_counts_the_encoding() {
    let len = |set: &VersionSet| {
        let mut buf = Vec::new();
        crate::codec::encode_version_set(set, &mut buf);
        assert_eq!(set.encoded_len(), buf.len());
        buf.len()
    };
    let mut set = VersionSet::new();
    assert_eq!(len(&set), 1, "a count of zero");
    set.write(SX, &VectorClock::new(), "abc".into(), Time(1), 0);
    // count, actor, counter, time and tombstone, empty context, value length, value.
    assert_eq!(len(&set), 1 + 1 + 1 + 1 + 1 + 1 + 3);
    set.write(SY, &clock(&[(0, 1, 1)]), "de".into(), Time(2), 0);
    // One version again (it covers the first), with a one-entry context of three varints.
    assert_eq!(len(&set), 1 + 1 + 1 + 1 + (1 + 3) + 1 + 2);
}

#[test]
fn serde_round_trip_and_normalisation() {
    let mut set = VersionSet::new();
    set.write(SX, &VectorClock::new(), "a".into(), Time(1), 0);
    set.write(SY, &clock(&[(2, 3, 1)]), "b".into(), Time(2), 0);
    let json = serde_json::to_string(&set).unwrap();
    let back: VersionSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, set);

    // Unsorted, duplicated and zero entries are normalised.
    let json = r#"[{"actor":{"node":2,"epoch":0},"counter":1,"updated":4},
                   {"actor":{"node":0,"epoch":0},"counter":0,"updated":1},
                   {"actor":{"node":2,"epoch":0},"counter":3,"updated":2}]"#;
    let c: VectorClock = serde_json::from_str(json).unwrap();
    assert_eq!(c, clock(&[(2, 3, 2)]));
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"[{"actor":{"node":2,"epoch":0},"counter":3,"updated":2}]"#
    );
}

#[test]
fn versions_stay_small() {
    // A replication message carries a version; an inline clock keeps its clone allocation-free.
    assert!(std::mem::size_of::<VectorClock>() <= 104);
    assert!(std::mem::size_of::<Version>() <= 160);
    assert!(std::mem::size_of::<VersionSet>() <= 168);
}
