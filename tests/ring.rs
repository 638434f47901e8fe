//! Consistent hashing at scale: balance, minimal movement when a node joins, preference lists.

use kvlab_core::{key_position, NodeId, Ring};
use proptest::prelude::*;

fn ids(n: u16) -> Vec<NodeId> {
    (0..n).map(NodeId).collect()
}

fn key_positions(count: usize) -> Vec<u64> {
    (0..count)
        .map(|i| key_position(&format!("user:{i}")))
        .collect()
}

#[test]
fn load_is_balanced_with_128_vnodes() {
    let ring = Ring::new(&ids(10), 128);
    let mut load = [0u32; 10];
    for pos in key_positions(100_000) {
        load[ring.primary(pos).unwrap().index()] += 1;
    }
    let max = *load.iter().max().unwrap();
    let mean = 100_000.0 / 10.0;
    let ratio = f64::from(max) / mean;
    eprintln!("10 nodes x 128 vnodes, 100k keys: loads {load:?}, max/mean {ratio:.3}");
    assert!(ratio <= 1.2, "max/mean = {ratio:.3}");
}

#[test]
fn a_joining_node_takes_keys_only_for_itself() {
    let keys = key_positions(100_000);
    let mut ring = Ring::new(&ids(10), 128);
    let before: Vec<NodeId> = keys.iter().map(|&p| ring.primary(p).unwrap()).collect();
    assert!(ring.add_node(NodeId(10)));
    let mut moved = 0usize;
    for (&pos, &old) in keys.iter().zip(&before) {
        let new = ring.primary(pos).unwrap();
        if new != old {
            assert_eq!(new, NodeId(10), "a key moved between old nodes");
            moved += 1;
        }
    }
    let bound = 1.3 * keys.len() as f64 / 11.0;
    eprintln!(
        "adding an 11th node moved {moved} of {} keys (bound {bound:.0})",
        keys.len()
    );
    assert!(moved > 0);
    assert!((moved as f64) <= bound, "moved {moved} > {bound:.0}");
    // Removing it again restores every owner.
    assert!(ring.remove_node(NodeId(10)));
    assert!(keys
        .iter()
        .zip(&before)
        .all(|(&p, &o)| ring.primary(p) == Some(o)));
}

#[test]
fn preference_list_with_n_equal_to_nodes_returns_all() {
    let ring = Ring::new(&ids(7), 16);
    for pos in key_positions(200) {
        let mut all = ring.preference_list(pos, 7);
        assert_eq!(all[0], ring.primary(pos).unwrap());
        all.sort_unstable();
        assert_eq!(all, ids(7));
        assert_eq!(ring.preference_list(pos, 50).len(), 7);
    }
}

#[test]
fn replicas_of_a_range_are_the_preference_list_of_its_token() {
    let ring = Ring::new(&ids(8), 8);
    for pos in key_positions(500) {
        let range = ring.range_of_key(pos).unwrap();
        assert_eq!(
            ring.preference_list(range.0, 3),
            ring.preference_list(pos, 3)
        );
        let bounds = ring.range_bounds(range).unwrap();
        assert!(Ring::range_contains(bounds, pos));
    }
}

proptest! {
    #[test]
    fn preference_lists_are_distinct_and_start_with_the_primary(
        nodes in 1u16..40,
        vnodes in 1u16..16,
        n in 1usize..20,
        pos in any::<u64>(),
    ) {
        let ring = Ring::new(&ids(nodes), vnodes);
        let list = ring.preference_list(pos, n);
        prop_assert_eq!(list.len(), n.min(usize::from(nodes)));
        prop_assert_eq!(list[0], ring.primary(pos).unwrap());
        let mut dedup = list.clone();
        dedup.sort_unstable();
        dedup.dedup();
        prop_assert_eq!(dedup.len(), list.len());
        // The walk extends the preference list: the first n of it are the list.
        let walked: Vec<NodeId> = ring.walk(pos).collect();
        prop_assert_eq!(&walked[..list.len()], &list[..]);
        prop_assert_eq!(walked.len(), usize::from(nodes));
        let mut buf = Vec::new();
        ring.preference_list_into(pos, n, &mut buf);
        prop_assert_eq!(buf, list);
    }

    #[test]
    fn the_walk_follows_tokens_clockwise(nodes in 2u16..20, vnodes in 1u16..8, pos in any::<u64>()) {
        let ring = Ring::new(&ids(nodes), vnodes);
        // Reference: scan every token from the owner, wrapping, keeping first sightings.
        let tokens = ring.tokens();
        let start = tokens.iter().position(|&(p, _)| p >= pos).unwrap_or(0);
        let mut expect = Vec::new();
        for k in 0..tokens.len() {
            let node = tokens[(start + k) % tokens.len()].1;
            if !expect.contains(&node) {
                expect.push(node);
            }
        }
        prop_assert_eq!(ring.walk(pos).collect::<Vec<_>>(), expect);
    }
}
