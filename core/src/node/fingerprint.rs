//! A node's state as a hash, for a model checker that must tell two states apart (`check/`,
//! kvlab-check): two nodes that hash alike behave alike on every later input.

use super::{Node, Timer};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

/// Hashes everything that decides how the node answers later inputs: its actor and counters, its
/// stored versions (by key, in key order, never in the hash table's internal order), its hints and
/// when it last offered them, its membership view, its timers, its random stream, its gossip round
/// count, the requests it coordinates, and where its anti-entropy schedule stands. Left out, since
/// no later output depends on them: counters ([`Node::stats`]), where each record sits in the
/// store's tiers and eviction queues, and the Merkle trees (computed from the stored versions). The
/// configuration and ring are shared by every node of a cluster and left out too.
impl Hash for Node {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self.id, self.actor(), self.issued()).hash(h);
        h.write_usize(self.store().len());
        self.store().for_each_sorted(|key, set| (key, set).hash(h));
        self.handoff.hints().hash(h);
        self.handoff.last_offers().hash(h);
        self.membership.hash(h);
        for t in Timer::ALL {
            self.timers.get(t).hash(h);
        }
        self.rng.hash(h);
        self.gossip_rounds.hash(h);
        self.anti_entropy.progress().hash(h);
        // The coordinator's pending requests, through their `Debug` form (ordered maps and sets
        // only, so deterministic): whatever fields a request gains are covered without change here.
        let mut pending = String::new();
        let _ = write!(pending, "{:?}", self.coordinator);
        pending.hash(h);
        self.out.queue.len().hash(h);
        self.bug.hash(h);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Input;
    use crate::config::Config;
    use crate::message::Msg;
    use crate::ring::Ring;
    use crate::types::{NodeId, RequestId, Time, Value};
    use crate::vclock::{VectorClock, VersionSet};
    use crate::Node;
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    use std::sync::Arc;

    fn fp(n: &Node) -> u64 {
        BuildHasherDefault::<DefaultHasher>::default().hash_one(n)
    }

    /// Node 1 replicates `value` under `key` to `n` (as a coordinator's put would).
    fn replicate(n: &mut Node, key: &str, value: &str) {
        let mut versions = VersionSet::new();
        versions.write(
            NodeId(1),
            &VectorClock::new(),
            Value::from(value),
            Time(1),
            0,
        );
        let msg = Msg::Put {
            req: RequestId(1),
            key: key.into(),
            versions: Arc::new(versions),
            hint: None,
        };
        n.handle(
            Time(1),
            Input::Message {
                from: NodeId(1),
                msg,
            },
        );
        while n.poll_output().is_some() {}
    }

    #[test]
    fn equal_states_hash_alike_whatever_the_order_of_writes() {
        let cfg = Arc::new(Config {
            nodes: 2,
            n: 2,
            r: 1,
            w: 1,
            ..Config::default()
        });
        let ring = Arc::new(Ring::new(&[NodeId(0), NodeId(1)], cfg.vnodes));
        let fresh = Node::new(NodeId(0), cfg, ring, Time::ZERO);
        let (mut a, mut b) = (fresh.clone(), fresh.clone());
        assert_eq!(fp(&a), fp(&b));
        let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
        for k in &keys {
            replicate(&mut a, k, k);
        }
        for k in keys.iter().rev() {
            replicate(&mut b, k, k);
        }
        assert_ne!(fp(&a), fp(&fresh));
        assert_eq!(
            fp(&a),
            fp(&b),
            "the hash table's order leaked into the hash"
        );
        replicate(&mut b, "k0", "other");
        assert_ne!(fp(&a), fp(&b), "a sibling more must change the hash");
    }
}
