//! The node's gossip rounds (docs/protocol.md §Gossip): heartbeats, failure detection, digests to
//! random live members, and what membership changes set off (handoff to a revived owner).

use super::{Node, NodeEvent};
use crate::gossip::{MemberChange, MemberChangeKind};
use crate::message::Msg;
use crate::types::{NodeId, Time};

impl Node {
    /// One round of gossip (docs/protocol.md §Gossip): heartbeat, failure detection, digests to
    /// `fanout` live members, and the retry of pending handoffs.
    pub(super) fn gossip_round(&mut self, now: Time) {
        self.membership.tick(now);
        let changes = self
            .membership
            .check(now, self.cfg.t_fail_ms, self.cfg.t_cleanup_ms);
        self.on_member_changes(now, changes);
        let mut peers = self
            .membership
            .pick_targets(&mut self.rng, self.cfg.fanout, true);
        // Every tenth round, also gossip to one cluster node this node does not believe alive.
        // Without it, two sides that removed each other during a long partition would never talk
        // again (a logical partition); Dynamo uses seed nodes for the same purpose.
        self.gossip_rounds += 1;
        if self.gossip_rounds.is_multiple_of(10) {
            let dead: Vec<NodeId> = (0..self.cfg.nodes)
                .map(NodeId)
                .filter(|&n| n != self.id && !self.membership.is_alive(n))
                .collect();
            if !dead.is_empty() {
                peers.push(dead[self.rng.below(dead.len() as u64) as usize]);
            }
        }
        if !peers.is_empty() {
            let digest = self.membership.digest();
            for p in peers {
                let digest = digest.clone();
                self.out.send(p, Msg::Gossip { digest });
            }
        }
        for owner in self.handoff.owners() {
            let alive = self.membership.is_alive(owner);
            self.handoff.offer(&mut self.out, now, owner, alive, false);
        }
    }

    pub(super) fn on_member_changes(&mut self, now: Time, changes: Vec<MemberChange>) {
        for c in changes {
            let revived = matches!(c.kind, MemberChangeKind::BecameAlive);
            let node = c.node;
            self.out.event(NodeEvent::Member(c));
            if revived {
                let alive = self.membership.is_alive(node);
                self.handoff.offer(&mut self.out, now, node, alive, true);
            }
        }
    }
}
