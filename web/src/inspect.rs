//! Read-outs for the inspector's teaching views: the failure detector's timers (docs/protocol.md §Gossip), all
//! replicas of one key side by side (§Versions, §Sloppy quorum), and a Merkle exchange's two trees
//! (§Anti-entropy).
//!
//! Each function reads the simulation (or plain numbers) and returns a plain view struct; the
//! components only draw them. Nothing here panics on missing data: an unknown node, key or range
//! yields `None` or an empty list.

use crate::format::{fx, sim_time, value_text};
use kvlab_core::{
    ConflictMode, MemberStatus, MerkleHash, NodeEvent, NodeId, RangeId, Simulation, TraceKind,
    Version, VersionSet,
};
use serde::Serialize;

fn name_of(names: &[String], id: NodeId) -> String {
    names
        .get(id.index())
        .cloned()
        .unwrap_or_else(|| format!("S{}", id.0))
}

/// Seconds with one decimal: "1.2 s".
fn secs(ms: u64) -> String {
    format!("{} s", fx(ms as f64 / 1000.0, 1))
}

// ---------------------------------------------------------------------------------------------
// §Gossip: the failure detector's timers
// ---------------------------------------------------------------------------------------------

/// Where a member stands in the observer's failure detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// The observer's own entry: never judged, it counts up every round.
    Own,
    /// Alive, heard recently.
    Fresh,
    /// Alive, but its heartbeat has not increased for a while: the T_fail countdown matters.
    Stalled,
    /// Offline (silent for more than T_fail): the T_cleanup countdown runs.
    Offline,
}

/// A member's countdown on the observer's clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Countdown {
    /// Local ms since its heartbeat last increased.
    pub silent: u64,
    /// Its stage.
    pub stage: Stage,
    /// Ms left until the next verdict (offline while alive, forgotten once offline).
    pub left: u64,
    /// How far the running timer is, 0 to 1 (the bar's width).
    pub fraction: f64,
    /// In words: "offline in 1.2 s", "offline · forgotten in 4.8 s".
    pub text: String,
}

/// The countdown of a member last heard (its heartbeat last increased) at `last_increase` on the
/// observer's clock, now `now`. A member is marked offline at the first check after it has been
/// silent for *more* than `t_fail`, and forgotten after more than `t_cleanup` (`gossip.rs`).
/// `stall_after`: the silence from which an alive member counts as stalled.
pub fn countdown(
    now: u64,
    last_increase: u64,
    offline: bool,
    own: bool,
    t_fail: u64,
    t_cleanup: u64,
    stall_after: u64,
) -> Countdown {
    let silent = now.saturating_sub(last_increase);
    if own {
        return Countdown {
            silent,
            stage: Stage::Own,
            left: 0,
            fraction: 0.0,
            text: "itself: never judged".into(),
        };
    }
    let ratio = |part: u64, whole: u64| (part as f64 / whole.max(1) as f64).clamp(0.0, 1.0);
    if offline {
        let left = t_cleanup.saturating_sub(silent);
        let span = t_cleanup.saturating_sub(t_fail);
        Countdown {
            silent,
            stage: Stage::Offline,
            left,
            fraction: ratio(silent.saturating_sub(t_fail), span),
            text: if left == 0 {
                "offline · forgotten at the next check".into()
            } else {
                format!("offline · forgotten in {}", secs(left))
            },
        }
    } else {
        let left = t_fail.saturating_sub(silent);
        Countdown {
            silent,
            stage: if silent > stall_after {
                Stage::Stalled
            } else {
                Stage::Fresh
            },
            left,
            fraction: ratio(silent, t_fail),
            text: if left == 0 {
                "offline at the next check".into()
            } else {
                format!("offline in {}", secs(left))
            },
        }
    }
}

/// One member as the observer's failure detector sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberTimer {
    /// Member id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Highest heartbeat heard of.
    pub heartbeat: u64,
    /// Observer's local time of the last increase, ms.
    pub last_increase: u64,
    /// "heard 340 ms ago".
    pub heard: String,
    /// Its timer.
    pub timer: Countdown,
    /// Its heartbeat started at a (re)start time in ms, not at 0.
    pub jumped: bool,
}

/// The membership tab: the detector's parameters and every member's timer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MembershipView {
    /// The observer.
    pub observer: String,
    /// Whether the observer runs (a crashed node's list is frozen).
    pub up: bool,
    /// The observer's clock, ms.
    pub now: u64,
    /// T_fail, ms.
    pub t_fail: u64,
    /// T_cleanup, ms.
    pub t_cleanup: u64,
    /// The gossip round, ms.
    pub round: u64,
    /// Members by id.
    pub rows: Vec<MemberTimer>,
}

/// Whether `heartbeat` can only have started at a (re)start time: a node started at time 0 counts
/// one per round, so by `now` it is near `now / round`; a restart at `t` starts at `t` ms.
pub fn heartbeat_jumped(heartbeat: u64, now: u64, round: u64) -> bool {
    let counted = now / round.max(1) + 1;
    heartbeat > 2 * counted + 20
}

/// Node `id`'s membership list with each member's countdown, on its own clock.
pub fn membership(sim: &Simulation, names: &[String], id: NodeId) -> Option<MembershipView> {
    let node = sim.node(id)?;
    let cfg = sim.config();
    let now = sim.now().ms();
    let round = cfg.gossip_interval_ms;
    // Heartbeats of live members reach the observer in jumps, a few rounds apart: only a silence
    // of a quarter of T_fail (at least three rounds) says the counter stopped.
    let stall_after = (cfg.t_fail_ms / 4).max(3 * round);
    let rows = node
        .membership()
        .members()
        .iter()
        .map(|m| {
            let timer = countdown(
                now,
                m.last_increase.ms(),
                m.status == MemberStatus::Offline,
                m.id == id,
                cfg.t_fail_ms,
                cfg.t_cleanup_ms,
                stall_after,
            );
            MemberTimer {
                id: m.id.0,
                name: name_of(names, m.id),
                heartbeat: m.heartbeat,
                last_increase: m.last_increase.ms(),
                heard: format!("heard {} ago", sim_time(timer.silent)),
                timer,
                jumped: heartbeat_jumped(m.heartbeat, now, round),
            }
        })
        .collect();
    Some(MembershipView {
        observer: name_of(names, id),
        up: sim.is_up(id),
        now,
        t_fail: cfg.t_fail_ms,
        t_cleanup: cfg.t_cleanup_ms,
        round,
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// §Versions and §Sloppy quorum: every replica of one key
// ---------------------------------------------------------------------------------------------

/// One version as a replica holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionCell {
    /// The value as text.
    pub value: String,
    /// The write's name, `(Sy,1)`.
    pub dot: String,
    /// The context its client read, `[Sx,2]`.
    pub context: String,
    /// A delete.
    pub tombstone: bool,
}

/// One replica's column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaColumn {
    /// Node id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Its place in the key's preference list (1 = first), `None` for a stand-in.
    pub rank: Option<usize>,
    /// The homes it holds a hint of this key for.
    pub hint_for: Vec<String>,
    /// Running.
    pub up: bool,
    /// Cut off by a partition.
    pub partitioned: bool,
    /// Versions in its store.
    pub versions: Vec<VersionCell>,
    /// Versions it holds as hints (for `hint_for`).
    pub hinted: Vec<VersionCell>,
    /// Its versions (store and hints) are exactly the merge of all columns.
    pub agrees: bool,
    /// Dots of the merge it lacks.
    pub lacks: Vec<String>,
    /// Dots it holds that the merge superseded.
    pub stale: Vec<String>,
}

/// Every replica of one key, side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicasView {
    /// The key.
    pub key: String,
    /// N.
    pub n: u8,
    /// The preference list's nodes in ring order, then stand-ins holding a hint for the key.
    pub columns: Vec<ReplicaColumn>,
    /// All columns hold the same versions.
    pub agree: bool,
}

/// The name of a write as the whole page writes it: `(Sy,1)`, `(S3#1,4)` after a wipe.
fn dot_text(v: &Version, names: &[String]) -> String {
    crate::format::dot_text(v.dot, names)
}

fn cells(set: &VersionSet, names: &[String]) -> Vec<VersionCell> {
    set.versions()
        .iter()
        .map(|v| VersionCell {
            value: if v.tombstone {
                "(deleted)".into()
            } else {
                value_text(v.value.as_bytes())
            },
            dot: dot_text(v, names),
            context: v.context.display_with(|n| name_of(names, n)),
            tombstone: v.tombstone,
        })
        .collect()
}

fn merge(into: &mut VersionSet, from: &VersionSet, lww: bool) {
    if lww {
        for v in from.versions() {
            into.insert_lww(v.clone());
        }
    } else {
        into.merge(from);
    }
}

fn dots(set: &VersionSet, names: &[String]) -> Vec<String> {
    let mut d: Vec<String> = set.versions().iter().map(|v| dot_text(v, names)).collect();
    d.sort();
    d
}

/// Every replica of `key`: the first N distinct nodes of its ring walk, then any other node
/// holding a hint for it, each with the versions it holds and how they differ from the merge of
/// all of them (what the replicas converge to once hints, read repair and anti-entropy ran).
pub fn replicas(sim: &Simulation, names: &[String], key: &str) -> ReplicasView {
    let cfg = sim.config();
    let n = usize::from(cfg.n);
    let lww = cfg.conflict_mode == ConflictMode::LastWriteWins;
    let ring = sim.ring();
    let pref = ring.preference_list(ring.position_of_key(key), n);
    let groups = sim.partition_groups();
    let mut ids: Vec<NodeId> = pref.clone();
    for (i, node) in sim.nodes().iter().enumerate() {
        let id = NodeId(i as u16);
        if !ids.contains(&id) && node.hints().values().any(|keys| keys.contains_key(key)) {
            ids.push(id);
        }
    }
    let mut sets = Vec::with_capacity(ids.len());
    let mut columns = Vec::with_capacity(ids.len());
    for &id in &ids {
        let Some(node) = sim.node(id) else { continue };
        let stored = node.versions(key).unwrap_or_default();
        let mut hinted = VersionSet::new();
        let mut hint_for = Vec::new();
        for (owner, keys) in node.hints() {
            if let Some(set) = keys.get(key) {
                merge(&mut hinted, set, lww);
                hint_for.push(name_of(names, *owner));
            }
        }
        let mut all = stored.clone();
        merge(&mut all, &hinted, lww);
        columns.push(ReplicaColumn {
            id: id.0,
            name: name_of(names, id),
            rank: pref.iter().position(|&p| p == id).map(|r| r + 1),
            hint_for,
            up: sim.is_up(id),
            partitioned: groups.get(id.index()).is_some_and(|&g| g != 0),
            versions: cells(&stored, names),
            hinted: cells(&hinted, names),
            agrees: true,
            lacks: Vec::new(),
            stale: Vec::new(),
        });
        sets.push(all);
    }
    let mut merged = VersionSet::new();
    for s in &sets {
        merge(&mut merged, s, lww);
    }
    let want = dots(&merged, names);
    for (col, set) in columns.iter_mut().zip(&sets) {
        let have = dots(set, names);
        col.lacks = want.iter().filter(|d| !have.contains(d)).cloned().collect();
        col.stale = have.iter().filter(|d| !want.contains(d)).cloned().collect();
        col.agrees = col.lacks.is_empty() && col.stale.is_empty();
    }
    ReplicasView {
        key: key.to_string(),
        n: cfg.n,
        agree: columns.iter().all(|c| c.agrees),
        columns,
    }
}

// ---------------------------------------------------------------------------------------------
// §Anti-entropy: both trees of a Merkle exchange
// ---------------------------------------------------------------------------------------------

/// The last Merkle exchange of a range a node took part in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    /// When it ended, ms.
    pub at: u64,
    /// The other replica.
    pub peer: NodeId,
    /// The buckets whose keys were exchanged (empty: the roots were equal).
    pub buckets: Vec<u32>,
    /// Keys received and merged.
    pub keys: u64,
}

/// The latest exchange of `range` that `node` reported, if the kept trace still has it.
pub fn last_exchange(sim: &Simulation, node: NodeId, range: u64) -> Option<Exchange> {
    sim.trace().iter().rev().find_map(|ev| match &ev.kind {
        TraceKind::Node { node: n, event } if *n == node => match event {
            NodeEvent::MerkleSynced {
                peer,
                range: r,
                buckets,
                keys,
            } if r.0 == range => Some(Exchange {
                at: ev.time.ms(),
                peer: *peer,
                buckets: buckets.clone(),
                keys: *keys,
            }),
            NodeEvent::MerkleInSync { peer, range: r } if r.0 == range => Some(Exchange {
                at: ev.time.ms(),
                peer: *peer,
                buckets: Vec::new(),
                keys: 0,
            }),
            _ => None,
        },
        _ => None,
    })
}

/// The range `node` last repaired by an exchange (keys of some buckets sent), else the range it
/// last exchanged at all, if the kept trace has one.
fn last_exchanged_range(sim: &Simulation, node: NodeId) -> Option<u64> {
    let mine = || {
        sim.trace().iter().rev().filter_map(|ev| match &ev.kind {
            TraceKind::Node { node: n, event } if *n == node => Some(event),
            _ => None,
        })
    };
    mine()
        .find_map(|e| match e {
            NodeEvent::MerkleSynced { range, buckets, .. } if !buckets.is_empty() => Some(range.0),
            _ => None,
        })
        .or_else(|| {
            mine().find_map(|e| match e {
                NodeEvent::MerkleSynced { range, .. } | NodeEvent::MerkleInSync { range, .. } => {
                    Some(range.0)
                }
                _ => None,
            })
        })
}

/// The tree walk that finds `buckets` in a tree of `depth` levels below the root: at each level,
/// the nodes above a differing bucket (exactly the nodes whose hashes differ, which the descent
/// compares children of).
pub fn walk_of(depth: u32, buckets: &[u32]) -> Vec<Vec<u32>> {
    (0..=depth)
        .map(|l| {
            let shift = depth - l;
            let mut at: Vec<u32> = buckets
                .iter()
                .map(|&b| b.checked_shr(shift).unwrap_or(0))
                .collect();
            at.sort_unstable();
            at.dedup();
            at
        })
        .collect()
}

/// Per level, the indices whose hashes differ between two trees' levels.
pub fn differing_levels(mine: &[Vec<MerkleHash>], theirs: &[Vec<MerkleHash>]) -> Vec<Vec<u32>> {
    mine.iter()
        .enumerate()
        .map(|(l, hs)| {
            let other = theirs.get(l);
            hs.iter()
                .enumerate()
                .filter(|(i, h)| other.and_then(|o| o.get(*i)) != Some(*h))
                .map(|(i, _)| i as u32)
                .collect()
        })
        .collect()
}

/// The descent in words, one phrase per level: "roots differ", "compare 2 children: 1 differs",
/// …, "buckets 3, 9 differ", then what is sent. `past` for an exchange that already ran.
pub fn walk_words(walk: &[Vec<u32>], past: bool) -> Vec<String> {
    let (differ, differs, equal) = if past {
        ("differed", "differed", "were equal")
    } else {
        ("differ", "differs", "are equal")
    };
    let mut out = Vec::new();
    let Some(root) = walk.first() else {
        return out;
    };
    if root.is_empty() {
        out.push(format!("roots {equal}: nothing to exchange"));
        return out;
    }
    out.push(format!("roots {differ}"));
    let last = walk.len() - 1;
    for l in 1..walk.len() {
        let compared = 2 * walk.get(l - 1).map_or(0, Vec::len);
        let found = walk.get(l).map_or(&[][..], Vec::as_slice);
        let verb = if found.len() == 1 { differs } else { differ };
        if l == last {
            let list = found
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let noun = if found.len() == 1 {
                "bucket"
            } else {
                "buckets"
            };
            out.push(format!("compare {compared} buckets: {noun} {list} {verb}"));
        } else {
            out.push(format!(
                "compare {compared} children: {} {verb}",
                found.len()
            ));
        }
    }
    let these = if walk.last().map_or(0, Vec::len) == 1 {
        "that bucket"
    } else {
        "those buckets"
    };
    out.push(if past {
        format!("exchanged the keys of {these} only")
    } else {
        format!("exchange the keys of {these} only")
    });
    out
}

/// One node of a tree as drawn.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MerkleCell {
    /// Short hash.
    pub hash: String,
    /// Differs from the other tree's node.
    pub differs: bool,
}

/// One replica's tree of the range.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TreeView {
    /// Whose.
    pub name: String,
    /// Running.
    pub up: bool,
    /// Levels from the root down.
    pub levels: Vec<Vec<MerkleCell>>,
    /// Keys in each bucket.
    pub bucket_keys: Vec<usize>,
}

/// Where the compared peer comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PeerSource {
    /// The other side of the node's last exchange of this range.
    LastExchange,
    /// No exchange of this range in the kept trace: the next replica on the ring.
    NextReplica,
}

/// A node's tree of one range next to its exchange peer's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MerklePair {
    /// The range (end token).
    pub range: u64,
    /// The selected node's tree.
    pub mine: TreeView,
    /// The peer's tree (`None`: no other replica).
    pub theirs: Option<TreeView>,
    /// Why this peer.
    pub source: PeerSource,
    /// Buckets that differ now, as the store's descent would find them.
    pub differing: Vec<u32>,
    /// The last exchange of this range by the selected node.
    pub last: Option<Exchange>,
    /// The walk to animate, per level: the current differences, or the last exchange's when the
    /// trees agree now.
    pub walk: Vec<Vec<u32>>,
    /// Whether `walk` is the last exchange's (past) rather than the current trees'.
    pub walk_past: bool,
    /// The walk in words, one phrase per level and a last one for the repair.
    pub words: Vec<String>,
}

fn levels(sim: &Simulation, who: NodeId, range: u64) -> Option<(Vec<Vec<MerkleHash>>, Vec<usize>)> {
    let tree = sim.node(who)?.merkle_tree(RangeId(range))?;
    let levels = (0..=tree.depth())
        .map(|l| tree.level_hashes(l).to_vec())
        .collect();
    let keys = (0..tree.buckets())
        .map(|b| tree.bucket_items(b).count())
        .collect();
    Some((levels, keys))
}

fn tree_view(
    name: String,
    up: bool,
    hashes: &[Vec<MerkleHash>],
    diff: &[Vec<u32>],
    bucket_keys: Vec<usize>,
) -> TreeView {
    TreeView {
        name,
        up,
        levels: hashes
            .iter()
            .enumerate()
            .map(|(l, hs)| {
                let d = diff.get(l);
                hs.iter()
                    .enumerate()
                    .map(|(i, h)| MerkleCell {
                        hash: h.short(),
                        differs: d.is_some_and(|d| d.contains(&(i as u32))),
                    })
                    .collect()
            })
            .collect(),
        bucket_keys,
    }
}

/// Node `id`'s tree of `range` next to its peer's: the peer of its last exchange of that range,
/// else the next replica. `range` `None`: the range it last exchanged, else its first.
pub fn merkle_pair(
    sim: &Simulation,
    names: &[String],
    id: NodeId,
    range: Option<u64>,
) -> Option<MerklePair> {
    let range = match range {
        Some(r) => r,
        None => match last_exchanged_range(sim, id) {
            Some(r) => r,
            None => sim.node(id)?.ranges().next()?.0,
        },
    };
    let last = last_exchange(sim, id, range);
    let (peer, source) = match &last {
        Some(x) => (Some(x.peer), PeerSource::LastExchange),
        None => {
            let n = usize::from(sim.config().n);
            let next = sim
                .ring()
                .preference_list(range, n)
                .into_iter()
                .find(|&p| p != id);
            (next, PeerSource::NextReplica)
        }
    };
    let (mine, mine_keys) = levels(sim, id, range)?;
    let theirs = peer.and_then(|p| levels(sim, p, range).map(|t| (p, t)));
    let diff = match &theirs {
        Some((_, (t, _))) => differing_levels(&mine, t),
        None => vec![Vec::new(); mine.len()],
    };
    let depth = mine.len().saturating_sub(1) as u32;
    let differing = diff.last().cloned().unwrap_or_default();
    let (walk, walk_past) = match &last {
        Some(x) if differing.is_empty() && theirs.is_some() => (walk_of(depth, &x.buckets), true),
        _ => (diff.clone(), false),
    };
    let words = if theirs.is_some() {
        walk_words(&walk, walk_past)
    } else {
        Vec::new()
    };
    Some(MerklePair {
        range,
        mine: tree_view(name_of(names, id), sim.is_up(id), &mine, &diff, mine_keys),
        theirs: theirs
            .map(|(p, (t, keys))| tree_view(name_of(names, p), sim.is_up(p), &t, &diff, keys)),
        source,
        differing,
        last,
        walk,
        walk_past,
        words,
    })
}

/// What the inspector's teaching panels show; only the open panel's view is read out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Views {
    /// The membership tab.
    pub membership: Option<MembershipView>,
    /// The replicas tab.
    pub replicas: Option<ReplicasView>,
    /// The merkle tab.
    pub merkle: Option<MerklePair>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T_FAIL: u64 = 2_000;
    const T_CLEANUP: u64 = 6_000;

    #[test]
    fn countdown_runs_t_fail_then_t_cleanup() {
        // Alive, heard 340 ms ago: 1.66 s until offline.
        let c = countdown(1_340, 1_000, false, false, T_FAIL, T_CLEANUP, 500);
        assert_eq!((c.silent, c.left, c.stage), (340, 1_660, Stage::Fresh));
        assert_eq!(c.text, "offline in 1.7 s");
        assert!((c.fraction - 0.17).abs() < 1e-9);
        // Silent 800 ms: stalled, 1.2 s left.
        let c = countdown(1_800, 1_000, false, false, T_FAIL, T_CLEANUP, 500);
        assert_eq!((c.left, c.stage), (1_200, Stage::Stalled));
        assert_eq!(c.text, "offline in 1.2 s");
        // Past T_fail but not yet checked: no negative countdown.
        let c = countdown(3_050, 1_000, false, false, T_FAIL, T_CLEANUP, 500);
        assert_eq!((c.left, c.fraction), (0, 1.0));
        assert_eq!(c.text, "offline at the next check");
        // Offline: the T_cleanup countdown, its bar over the T_fail..T_cleanup span.
        let c = countdown(5_200, 2_000, true, false, T_FAIL, T_CLEANUP, 500);
        assert_eq!((c.silent, c.left, c.stage), (3_200, 2_800, Stage::Offline));
        assert_eq!(c.text, "offline · forgotten in 2.8 s");
        assert!((c.fraction - 0.3).abs() < 1e-9);
        // The own entry is never judged.
        let c = countdown(9_000, 100, false, true, T_FAIL, T_CLEANUP, 500);
        assert_eq!((c.stage, c.left), (Stage::Own, 0));
        // A clock behind the entry (never happens) reads as just heard.
        assert_eq!(
            countdown(5, 10, false, false, T_FAIL, T_CLEANUP, 500).silent,
            0
        );
    }

    #[test]
    fn a_restarted_heartbeat_is_recognised() {
        // Started at 0: about one per 100 ms round.
        assert!(!heartbeat_jumped(46, 4_600, 100));
        // Restarted at 4.514 s: the counter started at 4514.
        assert!(heartbeat_jumped(4_514, 4_600, 100));
        assert!(!heartbeat_jumped(0, 0, 0));
    }

    fn engine_at(id: &str, step: usize) -> crate::engine::Engine {
        crate::engine::Engine::scenario(id, step, true).expect("scenario")
    }

    #[test]
    fn membership_counts_down_for_the_crashed_node_only() {
        // Tour 3, step 1: S3 crashed 100 ms ago.
        let mut e = engine_at("s3", 1);
        let v = e.membership_view(0).expect("S0");
        assert_eq!(
            (v.t_fail, v.t_cleanup, v.observer.as_str()),
            (2_000, 6_000, "S0")
        );
        let s3 = v.rows.iter().find(|r| r.name == "S3").expect("S3 row");
        assert!(s3.timer.left > 0 && s3.timer.left < 2_000, "{s3:?}");
        assert_eq!(s3.timer.stage, Stage::Fresh);
        assert!(v
            .rows
            .iter()
            .any(|r| r.timer.stage == Stage::Own && r.name == "S0"));
        // Gossip may still bring S0 the last counters S3 sent before it crashed (each one resets
        // the countdown); once it stops growing the countdown goes down with the time that passes.
        let s3_row = |e: &crate::engine::Engine| {
            let v = e.membership_view(0).expect("S0");
            let r = v
                .rows
                .iter()
                .find(|r| r.name == "S3")
                .cloned()
                .expect("S3 row");
            (v.now, r)
        };
        for _ in 0..5 {
            e.step_round();
        }
        let (t1, a) = s3_row(&e);
        for _ in 0..3 {
            e.step_round();
        }
        let (t2, b) = s3_row(&e);
        assert_eq!(b.heartbeat, a.heartbeat, "the counter stopped");
        assert!(t2 > t1);
        assert_eq!(a.timer.left - b.timer.left, t2 - t1);
        assert!(b.timer.stage == Stage::Stalled && b.timer.left > 0, "{b:?}");
        // Tour 3, step 2: offline everywhere, the T_cleanup countdown runs.
        let e = engine_at("s3", 2);
        let v = e.membership_view(1).expect("S1");
        let s3 = v.rows.iter().find(|r| r.name == "S3").expect("S3 row");
        assert_eq!(s3.timer.stage, Stage::Offline);
        assert!(
            s3.timer.text.starts_with("offline · forgotten in "),
            "{}",
            s3.timer.text
        );
        assert!(v
            .rows
            .iter()
            .all(|r| r.name == "S3" || r.timer.stage != Stage::Offline));
        // Tour 3, step 3: S3 restarted; its heartbeat jumped to its restart time in ms.
        let e = engine_at("s3", 3);
        let v = e.membership_view(0).expect("S0");
        let s3 = v.rows.iter().find(|r| r.name == "S3").expect("S3 row");
        assert!(s3.jumped && s3.heartbeat > 4_000, "{s3:?}");
        assert!(v.rows.iter().filter(|r| r.name != "S3").all(|r| !r.jumped));
        assert!(e.membership_view(99).is_none());
    }

    #[test]
    fn replicas_show_the_homes_and_the_stand_in_with_its_hint() {
        // Tour 4, step 2: the write went to two homes and a stand-in for the crashed third home.
        let e = engine_at("s4", 2);
        let v = e.replicas_view("cart");
        assert_eq!(v.n, 3);
        let homes: Vec<&ReplicaColumn> = v.columns.iter().filter(|c| c.rank.is_some()).collect();
        assert_eq!(homes.len(), 3);
        let down: Vec<&&ReplicaColumn> = homes.iter().filter(|c| !c.up).collect();
        assert_eq!(down.len(), 1, "one home crashed");
        let owner = down[0];
        assert!(owner.versions.is_empty() && !owner.agrees);
        assert_eq!(owner.lacks.len(), 1);
        let stand_ins: Vec<&ReplicaColumn> =
            v.columns.iter().filter(|c| c.rank.is_none()).collect();
        assert_eq!(stand_ins.len(), 1);
        let s = stand_ins[0];
        assert_eq!(s.hint_for, vec![owner.name.clone()]);
        assert!(s.versions.is_empty(), "the hint is not in its store");
        assert_eq!(s.hinted.len(), 1);
        assert_eq!(s.hinted[0].value, "hinted");
        assert_eq!(s.hinted[0].context, "[]");
        assert!(s.agrees);
        for c in homes.iter().filter(|c| c.up) {
            assert_eq!(c.versions, s.hinted, "{} holds the same version", c.name);
        }
        assert!(!v.agree);
        // Tour 4, step 3: handed off; no stand-in left, every home agrees.
        let v = engine_at("s4", 3).replicas_view("cart");
        assert_eq!(v.columns.len(), 3);
        assert!(v.agree && v.columns.iter().all(|c| c.hint_for.is_empty()));
    }

    #[test]
    fn replicas_show_dots_and_contexts_of_siblings() {
        // Tour 2, step 2: D3 and D4 are siblings on every replica.
        let v = engine_at("s2", 2).replicas_view("cart");
        assert_eq!(v.columns.len(), 3);
        for c in &v.columns {
            let mut got: Vec<(String, String, String)> = c
                .versions
                .iter()
                .map(|x| (x.value.clone(), x.dot.clone(), x.context.clone()))
                .collect();
            got.sort();
            assert_eq!(
                got,
                vec![
                    ("D3".into(), "(Sy,1)".into(), "[Sx,2]".into()),
                    ("D4".into(), "(Sz,1)".into(), "[Sx,2]".into()),
                ],
                "{}",
                c.name
            );
        }
        assert!(v.agree);
        assert_eq!(
            v.columns.iter().map(|c| c.rank).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn walk_goes_from_the_root_to_the_buckets() {
        assert_eq!(
            walk_of(4, &[3, 9]),
            vec![vec![0], vec![0, 1], vec![0, 2], vec![1, 4], vec![3, 9]]
        );
        assert_eq!(walk_of(2, &[]), vec![Vec::<u32>::new(); 3]);
        let w = walk_words(&walk_of(4, &[3, 9]), false);
        assert_eq!(
            w,
            vec![
                "roots differ",
                "compare 2 children: 2 differ",
                "compare 4 children: 2 differ",
                "compare 4 children: 2 differ",
                "compare 4 buckets: buckets 3, 9 differ",
                "exchange the keys of those buckets only",
            ]
        );
        let w = walk_words(&walk_of(2, &[1]), true);
        assert_eq!(w.first().map(String::as_str), Some("roots differed"));
        assert_eq!(
            w.get(2).map(String::as_str),
            Some("compare 2 buckets: bucket 1 differed")
        );
        assert_eq!(
            walk_words(&walk_of(2, &[]), false),
            vec!["roots are equal: nothing to exchange"]
        );
        assert!(walk_words(&[], false).is_empty());
    }

    #[test]
    fn merkle_pair_compares_with_the_last_exchange_peer() {
        // Tour 5, step 1: S1 cut off, three keys written without it: its trees differ from its peers'.
        let e = engine_at("s5", 1);
        let p = e.merkle_pair(1, None).expect("S1 replicates ranges");
        assert_eq!(p.source, PeerSource::NextReplica);
        assert!(p.last.is_none());
        let theirs = p.theirs.as_ref().expect("a peer");
        assert_ne!(theirs.name, "S1");
        // The differing cells are exactly the levels whose hashes differ, on both trees.
        let marked = |t: &TreeView| -> Vec<Vec<u32>> {
            t.levels
                .iter()
                .map(|l| {
                    (0..l.len() as u32)
                        .filter(|&i| l[i as usize].differs)
                        .collect()
                })
                .collect()
        };
        assert_eq!(marked(&p.mine), marked(theirs));
        let depth = p.mine.levels.len() as u32 - 1;
        assert_eq!(depth, 4, "16 buckets");
        // In every range of S1, the marked nodes are exactly the walk down to the differing
        // buckets, and that walk is what is animated; some range differs now.
        let mut differing = 0;
        for r in e.node_detail(1).expect("S1").ranges {
            let p = e.merkle_pair(1, Some(r)).expect("pair");
            let theirs = p.theirs.as_ref().expect("a peer");
            assert_eq!(marked(&p.mine), walk_of(depth, &p.differing), "range {r:x}");
            assert_eq!(marked(theirs), marked(&p.mine));
            assert_eq!((p.walk.clone(), p.walk_past), (marked(&p.mine), false));
            differing += p.differing.len();
        }
        assert!(differing > 0);

        // Tour 5, step 2: S1 exchanged; the peer shown is the one of its last exchange of that range.
        let e = engine_at("s5", 2);
        let p = e.merkle_pair(1, None).expect("pair");
        let last = p.last.clone().expect("an exchange");
        assert_eq!(p.source, PeerSource::LastExchange);
        assert_eq!(
            p.theirs.as_ref().map(|t| t.name.clone()),
            Some(e.names()[last.peer.index()].clone())
        );
        // The trees agree now; the walk shown is the exchange's, down to the buckets it synced.
        assert!(p.differing.is_empty());
        assert!(p.walk_past && !last.buckets.is_empty());
        assert_eq!(p.walk.last(), Some(&last.buckets));
        assert_eq!(p.words.first().map(String::as_str), Some("roots differed"));
        // Every range S1 exchanged agrees with its peer, and a range it never had is none.
        for r in e.node_detail(1).expect("S1").ranges {
            let p = e.merkle_pair(1, Some(r)).expect("pair");
            assert!(p.differing.is_empty(), "range {r:x} converged");
        }
        assert!(e.merkle_pair(1, Some(12345)).is_none());
        assert!(e.merkle_pair(77, None).is_none());
    }
}
