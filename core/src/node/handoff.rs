//! Hinted handoff (docs/protocol.md §Sloppy quorum): replicas a node holds for an owner that was
//! down, handed to the owner once gossip says it is back, and deleted once it acknowledges them.

use super::{NodeEvent, Outbox};
use crate::config::ConflictMode;
use crate::message::Msg;
use crate::types::{Actor, Key, NodeId, Time};
use crate::vclock::{Dot, VersionSet};
use std::collections::BTreeMap;

/// What an owner's acknowledgement settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct AckOutcome {
    /// Hinted keys delivered and deleted.
    pub(super) delivered: u64,
    /// Whether a deleted hint held a version this node's current actor issued.
    pub(super) dropped_own: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Handoff {
    mode: ConflictMode,
    /// The shortest time between two handoffs to one owner that has not acknowledged.
    retry_ms: u64,
    hints: BTreeMap<NodeId, BTreeMap<Key, VersionSet>>,
    last_offer: BTreeMap<NodeId, Time>,
}

impl Handoff {
    pub(super) fn new(mode: ConflictMode, retry_ms: u64) -> Self {
        Handoff {
            mode,
            retry_ms,
            hints: BTreeMap::new(),
            last_offer: BTreeMap::new(),
        }
    }

    /// Replicas held, by intended owner.
    pub(super) fn hints(&self) -> &BTreeMap<NodeId, BTreeMap<Key, VersionSet>> {
        &self.hints
    }

    /// When it last offered each owner its hints (the retry interval counts from it).
    pub(super) fn last_offers(&self) -> &BTreeMap<NodeId, Time> {
        &self.last_offer
    }

    /// The owners it holds replicas for.
    pub(super) fn owners(&self) -> Vec<NodeId> {
        self.hints.keys().copied().collect()
    }

    /// Loses every hint with the disk.
    pub(super) fn wipe(&mut self) {
        self.hints.clear();
    }

    /// Stores `versions` of `key` for `owner`, merged into what it already holds for it.
    pub(super) fn hold(
        &mut self,
        out: &mut Outbox,
        owner: NodeId,
        key: &Key,
        versions: &VersionSet,
    ) {
        self.hints
            .entry(owner)
            .or_default()
            .entry(key.clone())
            .or_default()
            .merge_in(self.mode, versions);
        out.stats.hints_stored += 1;
        out.event(NodeEvent::HintStored {
            owner,
            key: key.clone(),
        });
    }

    /// Merges every hinted copy of `key`, whoever it is held for, into `set`.
    pub(super) fn merge_held_into(&self, key: &Key, set: &mut VersionSet) {
        for held in self.hints.values() {
            if let Some(vs) = held.get(key.as_str()) {
                set.merge_in(self.mode, vs);
            }
        }
    }

    /// Sends `owner` what it holds for it, if `owner_alive`; unless `force`, at most once per retry
    /// interval while the owner has not acknowledged.
    pub(super) fn offer(
        &mut self,
        out: &mut Outbox,
        now: Time,
        owner: NodeId,
        owner_alive: bool,
        force: bool,
    ) {
        if !owner_alive {
            return;
        }
        let Some(held) = self.hints.get(&owner) else {
            return;
        };
        let recent = self
            .last_offer
            .get(&owner)
            .is_some_and(|&t| now.since(t) < self.retry_ms);
        if recent && !force {
            return;
        }
        let records: Vec<(Key, VersionSet)> =
            held.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.last_offer.insert(owner, now);
        out.send(owner, Msg::Handoff { records });
    }

    /// The owner `from` stored `keys` with these dots: a hint is deleted when every version it
    /// holds was among them (a hint updated meanwhile stays). `actor` is this node's current one.
    pub(super) fn on_ack(
        &mut self,
        from: NodeId,
        keys: Vec<(Key, Vec<Dot>)>,
        actor: Actor,
    ) -> AckOutcome {
        let mut outcome = AckOutcome::default();
        let Some(held) = self.hints.get_mut(&from) else {
            return outcome;
        };
        for (key, dots) in keys {
            let done = held
                .get(key.as_str())
                .is_some_and(|vs| vs.versions().iter().all(|v| dots.contains(&v.dot)));
            if done {
                if let Some(vs) = held.remove(key.as_str()) {
                    outcome.dropped_own |= vs.versions().iter().any(|v| v.dot.actor == actor);
                }
                outcome.delivered += 1;
            }
        }
        if held.is_empty() {
            self.hints.remove(&from);
        }
        outcome
    }
}

/// The owner's acknowledgement of handed-off `records`: each key with the dots it received.
pub(super) fn acknowledgement(records: &[(Key, VersionSet)]) -> Msg {
    let keys = records
        .iter()
        .map(|(key, set)| (key.clone(), set.versions().iter().map(|v| v.dot).collect()))
        .collect();
    Msg::HandoffAck { keys }
}

/// Reports delivered hints.
pub(super) fn report(out: &mut Outbox, owner: NodeId, outcome: AckOutcome) {
    if outcome.delivered > 0 {
        out.stats.hints_delivered += outcome.delivered;
        out.event(NodeEvent::HintDelivered {
            owner,
            keys: outcome.delivered,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;
    use crate::vclock::VectorClock;

    const STAND_IN: NodeId = NodeId(1);
    const OWNER: NodeId = NodeId(2);

    fn set(actor: Actor, value: &str, t: u64) -> VersionSet {
        let mut s = VersionSet::new();
        s.write(actor, &VectorClock::new(), Value::from(value), Time(t), 0);
        s
    }

    fn sent(out: &mut Outbox) -> Vec<(NodeId, Msg)> {
        let mut v = Vec::new();
        while let Some(o) = out.pop() {
            if let super::super::Output::Send { to, msg } = o {
                v.push((to, msg));
            }
        }
        v
    }

    #[test]
    fn hints_are_offered_to_a_live_owner_and_retried_no_sooner_than_the_interval() {
        let mut out = Outbox::new(STAND_IN);
        let mut h = Handoff::new(ConflictMode::VectorClock, 500);
        h.hold(
            &mut out,
            OWNER,
            &Key::from("k"),
            &set(Actor::new(NodeId(0), 0), "v", 1),
        );
        assert_eq!(out.stats.hints_stored, 1);
        sent(&mut out);

        h.offer(&mut out, Time(10), OWNER, false, true);
        assert!(sent(&mut out).is_empty(), "a dead owner gets nothing");
        h.offer(&mut out, Time(10), OWNER, true, false);
        let first = sent(&mut out);
        assert_eq!(first.len(), 1);
        assert!(matches!(&first[0], (OWNER, Msg::Handoff { records }) if records.len() == 1));
        h.offer(&mut out, Time(509), OWNER, true, false);
        assert!(sent(&mut out).is_empty(), "too soon to retry");
        h.offer(&mut out, Time(509), OWNER, true, true);
        assert_eq!(
            sent(&mut out).len(),
            1,
            "a revived owner is offered at once"
        );
        h.offer(&mut out, Time(1_009), OWNER, true, false);
        assert_eq!(sent(&mut out).len(), 1);
        h.offer(&mut out, Time(2_000), NodeId(3), true, true);
        assert!(sent(&mut out).is_empty(), "nothing held for that node");
    }

    #[test]
    fn an_ack_deletes_only_hints_whose_every_version_was_received() {
        let mut out = Outbox::new(STAND_IN);
        let me = Actor::new(STAND_IN, 0);
        let mut h = Handoff::new(ConflictMode::VectorClock, 500);
        let (a, b) = (Key::from("a"), Key::from("b"));
        h.hold(&mut out, OWNER, &a, &set(me, "mine", 1));
        h.hold(
            &mut out,
            OWNER,
            &b,
            &set(Actor::new(NodeId(0), 0), "theirs", 1),
        );
        let Msg::HandoffAck { keys } =
            acknowledgement(&[(a.clone(), h.hints()[&OWNER][&a].clone())])
        else {
            panic!("an acknowledgement is a HandoffAck")
        };
        // Meanwhile `b` gained a version the owner has not seen: the ack names it without it.
        h.hold(
            &mut out,
            OWNER,
            &b,
            &set(Actor::new(NodeId(3), 0), "newer", 2),
        );
        let stale_b = (b.clone(), vec![h.hints()[&OWNER][&b].versions()[0].dot]);
        let outcome = h.on_ack(OWNER, keys.into_iter().chain([stale_b]).collect(), me);
        assert_eq!(
            outcome,
            AckOutcome {
                delivered: 1,
                dropped_own: true
            }
        );
        assert!(!h.hints()[&OWNER].contains_key(&a));
        assert_eq!(
            h.hints()[&OWNER][&b].len(),
            2,
            "b stays until all of it is acknowledged"
        );
        assert_eq!(h.on_ack(NodeId(3), Vec::new(), me), AckOutcome::default());
    }

    #[test]
    fn held_copies_merge_into_a_read_under_the_conflict_mode() {
        let mut out = Outbox::new(STAND_IN);
        let k = Key::from("k");
        for (mode, expect) in [
            (ConflictMode::VectorClock, 2),
            (ConflictMode::LastWriteWins, 1),
        ] {
            let mut h = Handoff::new(mode, 500);
            h.hold(&mut out, OWNER, &k, &set(Actor::new(NodeId(0), 0), "x", 1));
            h.hold(
                &mut out,
                NodeId(3),
                &k,
                &set(Actor::new(NodeId(4), 0), "y", 2),
            );
            let mut read = VersionSet::new();
            h.merge_held_into(&k, &mut read);
            assert_eq!(read.len(), expect, "{mode:?}");
        }
    }
}
