//! Gossip-style failure detection (docs/protocol.md §Gossip, after van Renesse, Minsky and Hayden, "A Gossip-Style
//! Failure Detection Service", 1998).
//!
//! Each node owns a [`Membership`]: every member it knows with a heartbeat counter and the local
//! time that counter last increased. The node increments its own heartbeat every round
//! ([`Membership::tick`]), sends its [`Membership::digest`] to a few random peers
//! ([`Membership::pick_targets`]), and merges the digests it receives, keeping the higher
//! heartbeat of each member ([`Membership::merge`]). A member whose heartbeat has not
//! increased for more than `t_fail` is considered offline ([`Membership::check`]), and
//! removed after `t_cleanup`.
//!
//! Choices worth knowing:
//!
//! - **Only live members are gossiped.** As in the paper, a member past `t_fail` is left out of
//!   digests, so its stale heartbeat stops spreading. It stays in the list, offline, until
//!   `t_cleanup`; a heartbeat above the one stored revives it.
//! - **Removed members leave a tombstone.** After removal a peer that has not yet removed the
//!   member may still gossip the last heartbeat, which would re-add the member as if it had just
//!   been heard from (the paper's reason for `t_cleanup`). So a removed id is remembered with its
//!   last heartbeat for another `t_cleanup`, and a digest entry that does not exceed that heartbeat
//!   is ignored.
//! - **A restart never goes backwards.** A membership starts its own heartbeat at the current time
//!   in milliseconds and then counts one per tick. Ticks are at least a millisecond apart (a
//!   gossip round lasts at least 1 ms), so a node restarted at time `t` starts above any heartbeat
//!   its previous life reached and is revived by its first gossip, even where it was tombstoned.
//!   Belt and braces: an entry about oneself above one's own heartbeat is adopted.
//! - **Comparisons are strict:** a member is offline when it has been silent for *more* than
//!   `t_fail`, removed when silent for more than `t_cleanup`.
//!
//! The list is a vector sorted by id: a digest (also sorted by id) merges in one pass, with no
//! allocation unless a member changes state.

use crate::rng::Rng;
use crate::types::{NodeId, Time};
use serde::{Deserialize, Serialize};

/// Whether a member is considered up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberStatus {
    /// Its heartbeat increased within `t_fail`.
    Alive,
    /// Its heartbeat has not increased for more than `t_fail`.
    Offline,
}

/// One entry of a membership list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    /// The member.
    pub id: NodeId,
    /// The highest heartbeat counter heard of.
    pub heartbeat: u64,
    /// Local time at which `heartbeat` last increased.
    pub last_increase: Time,
    /// Whether the member is considered up.
    pub status: MemberStatus,
}

/// A removed member, remembered so that stale gossip cannot re-add it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tombstone {
    /// The removed member.
    pub id: NodeId,
    /// Its heartbeat when removed; only a higher one re-adds it.
    pub heartbeat: u64,
    /// When it was removed.
    pub removed_at: Time,
}

/// What happened to a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberChangeKind {
    /// An unknown (or removed) member was heard of and added, alive.
    Joined,
    /// Silent for more than `t_fail`.
    BecameOffline,
    /// An offline member's heartbeat increased again.
    BecameAlive,
    /// Silent for more than `t_cleanup`: dropped from the list.
    Removed,
}

/// A change of one member's state, for the node's logic and the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberChange {
    /// The member that changed.
    pub node: NodeId,
    /// What happened.
    pub kind: MemberChangeKind,
    /// When it was noticed (local time).
    pub at: Time,
}

/// One node's membership list and failure detector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    me: NodeId,
    /// Sorted by id; always contains `me`.
    members: Vec<Member>,
    /// Sorted by id.
    tombstones: Vec<Tombstone>,
}

impl Membership {
    /// The membership of node `me` (re)started at `now`, knowing `known` (duplicates and `me` are
    /// fine). Every known member starts alive with heartbeat 0 and `last_increase = now`, so one that
    /// is never heard of goes offline after `t_fail`. The own heartbeat starts at `now` in ms (see
    /// the module docs).
    pub fn new(me: NodeId, known: &[NodeId], now: Time) -> Membership {
        let mut ids: Vec<NodeId> = known.iter().copied().chain([me]).collect();
        ids.sort_unstable();
        ids.dedup();
        let members = ids
            .into_iter()
            .map(|id| Member {
                id,
                heartbeat: if id == me { now.ms() } else { 0 },
                last_increase: now,
                status: MemberStatus::Alive,
            })
            .collect();
        Membership {
            me,
            members,
            tombstones: Vec::new(),
        }
    }

    /// The node that owns this list.
    pub fn me(&self) -> NodeId {
        self.me
    }

    fn my_index(&self) -> usize {
        // `me` is always present: inserted by `new`, never removed.
        self.members
            .binary_search_by_key(&self.me, |m| m.id)
            .unwrap_or(0)
    }

    /// The own heartbeat counter.
    pub fn heartbeat(&self) -> u64 {
        self.members[self.my_index()].heartbeat
    }

    /// Increments its own heartbeat: one round's beat.
    pub fn tick(&mut self, now: Time) {
        let i = self.my_index();
        let m = &mut self.members[i];
        m.heartbeat = m.heartbeat.saturating_add(1);
        m.last_increase = now;
        m.status = MemberStatus::Alive;
    }

    /// What is gossiped: id and heartbeat of every alive member (offline ones are left out), sorted
    /// by id.
    pub fn digest(&self) -> Vec<(NodeId, u64)> {
        let mut out = Vec::with_capacity(self.members.len());
        self.digest_into(&mut out);
        out
    }

    /// [`Membership::digest`] into a reused buffer (cleared first).
    pub fn digest_into(&self, out: &mut Vec<(NodeId, u64)>) {
        out.clear();
        out.extend(
            self.members
                .iter()
                .filter(|m| m.status == MemberStatus::Alive)
                .map(|m| (m.id, m.heartbeat)),
        );
    }

    /// Position of `id` in `members`, or where it would be inserted. Digests are sorted, so the
    /// search walks forward from the previous entry's position (`from`); an out-of-order entry
    /// falls back to a binary search.
    fn seek(&self, from: usize, id: NodeId) -> Result<usize, usize> {
        if from > 0 && self.members.get(from - 1).is_some_and(|m| m.id >= id) {
            return self.members.binary_search_by_key(&id, |m| m.id);
        }
        let mut i = from;
        while let Some(m) = self.members.get(i) {
            if m.id == id {
                return Ok(i);
            }
            if m.id > id {
                break;
            }
            i += 1;
        }
        Err(i)
    }

    /// Merges a digest received from `from` at `now`. Keeps each member's higher heartbeat and
    /// refreshes its `last_increase` when the heartbeat grows; an offline member whose heartbeat
    /// grows is alive again; an unknown member is added unless it is tombstoned with a heartbeat at
    /// least as high. A digest from oneself is ignored. Returns the changes, in digest order.
    pub fn merge(
        &mut self,
        now: Time,
        from: NodeId,
        digest: &[(NodeId, u64)],
    ) -> Vec<MemberChange> {
        let mut changes = Vec::new();
        if from == self.me {
            return changes;
        }
        let mut pos = 0;
        for &(id, heartbeat) in digest {
            match self.seek(pos, id) {
                Ok(i) => {
                    pos = i + 1;
                    let m = &mut self.members[i];
                    if heartbeat <= m.heartbeat {
                        continue;
                    }
                    m.heartbeat = heartbeat;
                    m.last_increase = now;
                    if m.status == MemberStatus::Offline {
                        m.status = MemberStatus::Alive;
                        changes.push(MemberChange {
                            node: id,
                            kind: MemberChangeKind::BecameAlive,
                            at: now,
                        });
                    }
                }
                Err(i) => {
                    pos = i;
                    if let Ok(t) = self.tombstones.binary_search_by_key(&id, |t| t.id) {
                        if heartbeat <= self.tombstones[t].heartbeat {
                            continue;
                        }
                        self.tombstones.remove(t);
                    }
                    self.members.insert(
                        i,
                        Member {
                            id,
                            heartbeat,
                            last_increase: now,
                            status: MemberStatus::Alive,
                        },
                    );
                    pos = i + 1;
                    changes.push(MemberChange {
                        node: id,
                        kind: MemberChangeKind::Joined,
                        at: now,
                    });
                }
            }
        }
        changes
    }

    /// Marks offline every member silent for more than `t_fail_ms`, removes (and tombstones)
    /// every member silent for more than `t_cleanup_ms`, and forgets tombstones older than
    /// `t_cleanup_ms`. Never touches the own entry. A member that skips straight to removal reports
    /// both changes.
    pub fn check(&mut self, now: Time, t_fail_ms: u64, t_cleanup_ms: u64) -> Vec<MemberChange> {
        let mut changes = Vec::new();
        let mut removed_any = false;
        for m in &mut self.members {
            if m.id == self.me {
                continue;
            }
            let silent = now.since(m.last_increase);
            if silent > t_fail_ms && m.status == MemberStatus::Alive {
                m.status = MemberStatus::Offline;
                changes.push(MemberChange {
                    node: m.id,
                    kind: MemberChangeKind::BecameOffline,
                    at: now,
                });
            }
            if silent > t_cleanup_ms {
                removed_any = true;
                changes.push(MemberChange {
                    node: m.id,
                    kind: MemberChangeKind::Removed,
                    at: now,
                });
            }
        }
        self.tombstones
            .retain(|t| now.since(t.removed_at) <= t_cleanup_ms);
        if removed_any {
            let me = self.me;
            let tombstones = &mut self.tombstones;
            self.members.retain(|m| {
                let keep = m.id == me || now.since(m.last_increase) <= t_cleanup_ms;
                if !keep {
                    let t = Tombstone {
                        id: m.id,
                        heartbeat: m.heartbeat,
                        removed_at: now,
                    };
                    match tombstones.binary_search_by_key(&m.id, |t| t.id) {
                        Ok(i) => tombstones[i] = t,
                        Err(i) => tombstones.insert(i, t),
                    }
                }
                keep
            });
        }
        changes
    }

    /// Up to `fanout` distinct peers drawn uniformly from the known members other than oneself
    /// (only alive ones when `exclude_offline`), in id order. Deterministic given `rng`.
    pub fn pick_targets(&self, rng: &mut Rng, fanout: u8, exclude_offline: bool) -> Vec<NodeId> {
        let eligible =
            |m: &&Member| m.id != self.me && (!exclude_offline || m.status == MemberStatus::Alive);
        // Selection sampling (Knuth's algorithm S): one pass, every subset equally likely.
        let mut remaining = self.members.iter().filter(eligible).count() as u64;
        let mut need = u64::from(fanout).min(remaining);
        let mut out = Vec::with_capacity(need as usize);
        for m in self.members.iter().filter(eligible) {
            if need == 0 {
                break;
            }
            if rng.below(remaining) < need {
                out.push(m.id);
                need -= 1;
            }
            remaining -= 1;
        }
        out
    }

    /// Whether `id` is a known member considered alive (always true for oneself).
    pub fn is_alive(&self, id: NodeId) -> bool {
        self.get(id)
            .is_some_and(|m| m.status == MemberStatus::Alive)
    }

    /// The entry of `id`, if known.
    pub fn get(&self, id: NodeId) -> Option<&Member> {
        self.members
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.members[i])
    }

    /// Every known member, oneself included, sorted by id.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The alive members, oneself included, in id order.
    pub fn alive(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members
            .iter()
            .filter(|m| m.status == MemberStatus::Alive)
            .map(|m| m.id)
    }

    /// Removed members still remembered, sorted by id.
    pub fn tombstones(&self) -> &[Tombstone] {
        &self.tombstones
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberChangeKind::*;

    const T_FAIL: u64 = 2_000;
    const T_CLEANUP: u64 = 6_000;

    fn ids(n: u16) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    fn kinds(changes: &[MemberChange]) -> Vec<(u16, MemberChangeKind)> {
        changes.iter().map(|c| (c.node.0, c.kind)).collect()
    }

    #[test]
    fn heartbeats_propagate_through_a_third_node() {
        let all = ids(3);
        let mut a = Membership::new(NodeId(0), &all, Time::ZERO);
        let mut b = Membership::new(NodeId(1), &all, Time::ZERO);
        let mut c = Membership::new(NodeId(2), &all, Time::ZERO);
        for _ in 0..5 {
            a.tick(Time(100));
        }
        assert_eq!(a.heartbeat(), 5);
        assert!(b.merge(Time(150), NodeId(0), &a.digest()).is_empty());
        assert_eq!(b.get(NodeId(0)).unwrap().heartbeat, 5);
        assert_eq!(b.get(NodeId(0)).unwrap().last_increase, Time(150));
        // c never hears from a directly.
        c.merge(Time(300), NodeId(1), &b.digest());
        let seen = c.get(NodeId(0)).unwrap();
        assert_eq!((seen.heartbeat, seen.last_increase), (5, Time(300)));
    }

    #[test]
    fn silent_member_goes_offline_after_t_fail_then_is_removed() {
        let mut m = Membership::new(NodeId(0), &ids(3), Time::ZERO);
        m.merge(Time(100), NodeId(1), &[(NodeId(1), 1), (NodeId(2), 1)]);
        // Node 2 keeps beating, node 1 falls silent at 100.
        m.merge(Time(2_100), NodeId(2), &[(NodeId(2), 2)]);
        assert!(
            m.check(Time(100 + T_FAIL), T_FAIL, T_CLEANUP).is_empty(),
            "not *more* than t_fail yet"
        );
        let changes = m.check(Time(101 + T_FAIL), T_FAIL, T_CLEANUP);
        assert_eq!(kinds(&changes), vec![(1, BecameOffline)]);
        assert_eq!(changes[0].at, Time(101 + T_FAIL));
        assert!(!m.is_alive(NodeId(1)));
        assert!(m.is_alive(NodeId(2)));
        assert!(
            m.check(Time(3_000), T_FAIL, T_CLEANUP).is_empty(),
            "reported once"
        );
        assert_eq!(
            m.digest(),
            vec![(NodeId(0), 0), (NodeId(2), 2)],
            "offline members are not gossiped"
        );
        let changes = m.check(Time(101 + T_CLEANUP), T_FAIL, T_CLEANUP);
        assert_eq!(kinds(&changes), vec![(1, Removed), (2, BecameOffline)]);
        assert!(m.get(NodeId(1)).is_none());
        assert_eq!(m.members().len(), 2);
        assert_eq!(
            m.tombstones(),
            &[Tombstone {
                id: NodeId(1),
                heartbeat: 1,
                removed_at: Time(101 + T_CLEANUP)
            }]
        );
    }

    #[test]
    fn a_member_skipping_straight_to_removal_reports_both() {
        let mut m = Membership::new(NodeId(0), &ids(2), Time::ZERO);
        let changes = m.check(Time(T_CLEANUP + 1), T_FAIL, T_CLEANUP);
        assert_eq!(kinds(&changes), vec![(1, BecameOffline), (1, Removed)]);
    }

    #[test]
    fn tombstone_ignores_stale_gossip_until_it_expires() {
        let mut m = Membership::new(NodeId(0), &ids(2), Time::ZERO);
        m.merge(Time(10), NodeId(1), &[(NodeId(1), 7)]);
        m.check(Time(10 + T_CLEANUP + 1), T_FAIL, T_CLEANUP);
        assert!(m.get(NodeId(1)).is_none());
        // A peer that has not removed node 1 yet still gossips heartbeat 7 (or older).
        let t = Time(10 + T_CLEANUP + 500);
        assert!(m.merge(t, NodeId(2), &[(NodeId(1), 7)]).is_empty());
        assert!(m.merge(t, NodeId(2), &[(NodeId(1), 3)]).is_empty());
        assert!(m.get(NodeId(1)).is_none());
        // The tombstone is forgotten t_cleanup after the removal.
        m.check(Time(10 + 2 * T_CLEANUP + 2), T_FAIL, T_CLEANUP);
        assert!(m.tombstones().is_empty());
        let changes = m.merge(Time(20_000), NodeId(2), &[(NodeId(1), 7)]);
        assert_eq!(kinds(&changes), vec![(1, Joined)]);
    }

    #[test]
    fn higher_heartbeat_revives_an_offline_or_removed_member() {
        let mut m = Membership::new(NodeId(0), &ids(3), Time::ZERO);
        m.merge(Time(10), NodeId(1), &[(NodeId(1), 4), (NodeId(2), 4)]);
        m.check(Time(3_000), T_FAIL, T_CLEANUP);
        assert!(!m.is_alive(NodeId(1)));
        let changes = m.merge(Time(3_100), NodeId(1), &[(NodeId(1), 5)]);
        assert_eq!(kinds(&changes), vec![(1, BecameAlive)]);
        assert_eq!(changes[0].at, Time(3_100));
        assert!(m.is_alive(NodeId(1)));
        assert!(m
            .check(Time(3_100 + T_FAIL), T_FAIL, T_CLEANUP)
            .iter()
            .all(|c| c.node != NodeId(1)));
        // Node 2 is removed, then comes back with a higher heartbeat despite its tombstone.
        m.check(Time(7_000), T_FAIL, T_CLEANUP);
        assert!(m.get(NodeId(2)).is_none());
        let changes = m.merge(Time(7_100), NodeId(2), &[(NodeId(2), 5)]);
        assert_eq!(kinds(&changes), vec![(2, Joined)]);
        assert!(m.is_alive(NodeId(2)));
        assert!(m.tombstones().is_empty());
    }

    #[test]
    fn never_marks_itself_offline() {
        let mut m = Membership::new(NodeId(3), &ids(4), Time::ZERO);
        let changes = m.check(Time(1_000_000), T_FAIL, T_CLEANUP);
        assert!(changes.iter().all(|c| c.node != NodeId(3)));
        assert!(m.is_alive(NodeId(3)));
        assert_eq!(m.members().len(), 1);
        assert_eq!(m.digest(), vec![(NodeId(3), 0)]);
    }

    #[test]
    fn stale_heartbeats_do_not_refresh() {
        let mut m = Membership::new(NodeId(0), &ids(2), Time::ZERO);
        m.merge(Time(100), NodeId(1), &[(NodeId(1), 9)]);
        m.merge(Time(1_500), NodeId(1), &[(NodeId(1), 9)]);
        m.merge(Time(1_900), NodeId(1), &[(NodeId(1), 8)]);
        let seen = m.get(NodeId(1)).unwrap();
        assert_eq!((seen.heartbeat, seen.last_increase), (9, Time(100)));
        let changes = m.check(Time(101 + T_FAIL), T_FAIL, T_CLEANUP);
        assert_eq!(kinds(&changes), vec![(1, BecameOffline)]);
    }

    #[test]
    fn unknown_members_join_and_self_digests_are_ignored() {
        let mut m = Membership::new(NodeId(5), &[NodeId(1)], Time::ZERO);
        let changes = m.merge(
            Time(10),
            NodeId(1),
            &[(NodeId(1), 1), (NodeId(3), 2), (NodeId(9), 1)],
        );
        assert_eq!(kinds(&changes), vec![(3, Joined), (9, Joined)]);
        let got: Vec<u16> = m.members().iter().map(|x| x.id.0).collect();
        assert_eq!(got, vec![1, 3, 5, 9]);
        assert!(m.merge(Time(20), NodeId(5), &[(NodeId(7), 1)]).is_empty());
        assert!(m.get(NodeId(7)).is_none());
    }

    #[test]
    fn unsorted_digest_merges_like_a_sorted_one() {
        let digest = vec![
            (NodeId(4), 3),
            (NodeId(1), 2),
            (NodeId(7), 5),
            (NodeId(2), 1),
            (NodeId(4), 9),
        ];
        let mut sorted = digest.clone();
        sorted.sort();
        let mut a = Membership::new(NodeId(0), &ids(5), Time::ZERO);
        let mut b = a.clone();
        a.merge(Time(1), NodeId(1), &digest);
        b.merge(Time(1), NodeId(1), &sorted);
        assert_eq!(a, b);
        assert_eq!(a.get(NodeId(4)).unwrap().heartbeat, 9);
    }

    #[test]
    fn restart_starts_above_the_previous_life() {
        let all = ids(2);
        let mut old = Membership::new(NodeId(1), &all, Time::ZERO);
        for round in 1..=50 {
            old.tick(Time(round * 100));
        }
        let mut peer = Membership::new(NodeId(0), &all, Time::ZERO);
        peer.merge(Time(5_000), NodeId(1), &old.digest());
        peer.check(Time(20_000), T_FAIL, T_CLEANUP);
        assert_eq!(peer.tombstones()[0].heartbeat, 50);
        // Node 1 restarts with a fresh list at 21 s.
        let mut new = Membership::new(NodeId(1), &all, Time(21_000));
        new.tick(Time(21_000));
        assert!(new.heartbeat() > 50);
        let changes = peer.merge(Time(21_010), NodeId(1), &new.digest());
        assert_eq!(kinds(&changes), vec![(1, Joined)]);
        // And a node that hears a higher heartbeat of itself adopts it.
        let mut fresh = Membership::new(NodeId(1), &all, Time::ZERO);
        fresh.merge(Time(10), NodeId(0), &[(NodeId(1), 40)]);
        fresh.tick(Time(20));
        assert_eq!(fresh.heartbeat(), 41);
    }

    #[test]
    fn targets_are_distinct_random_peers() {
        let mut m = Membership::new(NodeId(0), &ids(10), Time::ZERO);
        m.merge(
            Time(10),
            NodeId(1),
            &[
                (NodeId(1), 1),
                (NodeId(2), 1),
                (NodeId(3), 1),
                (NodeId(4), 1),
                (NodeId(5), 1),
                (NodeId(6), 1),
                (NodeId(7), 1),
            ],
        );
        m.check(Time(2_005), T_FAIL, T_CLEANUP); // 8 and 9 never heard of: offline
        let mut rng = Rng::new(11);
        let mut hits = [0u32; 10];
        for _ in 0..7_000 {
            let t = m.pick_targets(&mut rng, 3, true);
            assert_eq!(t.len(), 3);
            assert!(t.windows(2).all(|w| w[0] < w[1]), "distinct, in id order");
            for id in t {
                hits[id.index()] += 1;
            }
        }
        assert_eq!((hits[0], hits[8], hits[9]), (0, 0, 0));
        // Each of 7 peers is picked 3/7 of the time: 3000 expected, sd about 41.
        assert!(
            hits[1..8].iter().all(|&h| (2_800..3_200).contains(&h)),
            "{hits:?}"
        );
        assert_eq!(m.pick_targets(&mut rng, 20, false).len(), 9);
        assert_eq!(m.pick_targets(&mut rng, 20, true).len(), 7);
        let mut r1 = Rng::new(5);
        let mut r2 = Rng::new(5);
        assert_eq!(
            m.pick_targets(&mut r1, 2, false),
            m.pick_targets(&mut r2, 2, false)
        );
        assert!(Membership::new(NodeId(0), &[], Time::ZERO)
            .pick_targets(&mut r1, 3, true)
            .is_empty());
    }

    #[test]
    fn membership_round_trips_through_serde() {
        let mut m = Membership::new(NodeId(0), &ids(3), Time::ZERO);
        m.check(Time(T_CLEANUP + 1), T_FAIL, T_CLEANUP);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Membership>(&json).unwrap(), m);
    }
}
