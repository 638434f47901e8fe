use super::*;
use crate::config::ConflictMode;
use crate::node::Output;
use crate::types::{Time, Value};
use crate::vclock::VectorClock;

/// Two replicas of every range (three nodes, N = 3): a node's replica and its anti-entropy.
struct Side {
    replica: Replica,
    ae: AntiEntropy,
    out: Outbox,
}

fn side(ring: &Arc<Ring>, id: u16) -> Side {
    let id = NodeId(id);
    let ranges = ring.ranges_replicated_by(id, 3);
    Side {
        replica: Replica::new(id, ConflictMode::VectorClock, 0, 1 << 20),
        ae: AntiEntropy::new(ring.clone(), ranges, 16),
        out: Outbox::new(id),
    }
}

fn write(s: &mut Side, key: &str, value: &str, t: u64) {
    let key = Key::from(key);
    let mut set = s.replica.get(&key);
    s.replica
        .write(&mut set, &VectorClock::new(), Value::from(value), Time(t));
    s.replica.put(&key, set);
}

/// Delivers messages back and forth until both sides are quiet; returns how many travelled.
fn exchange(a: &mut Side, b: &mut Side, range: RangeId) -> usize {
    a.ae.start(&mut a.out, &mut a.replica, range, NodeId(1));
    let mut sent = 0;
    loop {
        let moved = deliver(a, b) + deliver(b, a);
        if moved == 0 {
            return sent;
        }
        sent += moved;
    }
}

/// Hands every Merkle message `from` queued to `to`; returns how many.
fn deliver(from: &mut Side, to: &mut Side) -> usize {
    let me = from.out.me;
    let mut n = 0;
    while let Some(o) = from.out.pop() {
        if let Output::Send {
            msg:
                Msg::Merkle {
                    range,
                    exchange,
                    step,
                },
            ..
        } = o
        {
            to.ae
                .on_message(&mut to.out, &mut to.replica, me, range, exchange, step);
            n += 1;
        }
    }
    n
}

#[test]
fn an_exchange_repairs_both_sides_and_reading_a_tree_changes_nothing() {
    let ring = Arc::new(Ring::new(&[NodeId(0), NodeId(1), NodeId(2)], 1));
    let (mut a, mut b) = (side(&ring, 0), side(&ring, 1));
    for i in 0..20 {
        write(&mut a, &format!("k{i}"), "a", 1);
    }
    write(&mut b, "only-b", "b", 2);
    write(&mut b, "k3", "b", 2);
    let range = ring.range_of_key(Key::from("k3").position()).unwrap();
    assert_ne!(a.ae.root(&a.replica, range), b.ae.root(&b.replica, range));

    // Reading a root or a tree absorbs nothing: the changed keys stay pending, the answer is the
    // same before and after, and the stored tree is still unbuilt.
    let pending = a.replica.changed().len();
    let root = a.ae.root(&a.replica, range);
    assert_eq!(a.ae.tree(&a.replica, range).unwrap().root(), root.unwrap());
    assert_eq!(a.replica.changed().len(), pending);
    assert!(a.ae.trees[&range].is_none());

    let ranges: Vec<RangeId> = a.ae.ranges().collect();
    assert_eq!(ranges.len(), 3, "every node replicates every range");
    for &r in &ranges {
        let sent = exchange(&mut a, &mut b, r);
        assert!(sent >= 3, "a descent, then records both ways: {sent}");
    }
    a.ae.absorb(&mut a.replica);
    b.ae.absorb(&mut b.replica);
    for &r in &ranges {
        assert_eq!(a.ae.root(&a.replica, r), b.ae.root(&b.replica, r));
    }
    assert_eq!(a.replica.peek("only-b"), b.replica.peek("only-b"));
    assert_eq!(
        a.replica.peek("k3").map(|s| s.len()),
        Some(2),
        "concurrent: siblings"
    );
    assert!(a.out.stats.merkle_exchanges == 3 && b.out.stats.merkle_keys_sent > 0);

    // In sync now: the roots match at once.
    let before = b.out.stats.merkle_hashes_sent;
    assert_eq!(exchange(&mut a, &mut b, range), 2, "root, then in-sync");
    assert_eq!(b.out.stats.merkle_hashes_sent, before);
}

#[test]
fn ranges_are_taken_round_robin_and_foreign_ranges_are_ignored() {
    let ring = Arc::new(Ring::new(&[NodeId(0), NodeId(1), NodeId(2), NodeId(3)], 2));
    let mut s = side(&ring, 0);
    let mine: Vec<RangeId> = s.ae.ranges().collect();
    let taken: Vec<RangeId> = (0..2 * mine.len())
        .filter_map(|_| s.ae.next_range())
        .collect();
    assert_eq!(taken[..mine.len()], mine[..]);
    assert_eq!(taken[mine.len()..], mine[..]);

    let foreign = ring
        .ranges()
        .map(|(r, _, _)| r)
        .find(|r| !s.ae.replicates(*r));
    if let Some(r) = foreign {
        assert!(s.ae.tree(&s.replica, r).is_none() && s.ae.root(&s.replica, r).is_none());
        let open = MerkleWire::Tree(MerkleTree::new(16).open());
        s.ae.on_message(&mut s.out, &mut s.replica, NodeId(1), r, 1, open);
        assert!(s.out.pop().is_none());
    }
    let mut empty = AntiEntropy::new(ring.clone(), Vec::new(), 16);
    assert_eq!(empty.next_range(), None);
}
