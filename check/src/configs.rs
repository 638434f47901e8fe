//! The named configurations `cargo xtask check [NAME]` explores.

use kvlab_core::model::{Budget, Spec, CONVERGES, HINT_DELIVERED};
use kvlab_core::{Config, ConflictMode, NodeId, Reintroduced, Ring};

/// What a configuration's check must find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every property holds.
    Pass,
    /// The named always-property has a counterexample (a negative control).
    Counterexample(&'static str),
}

/// The nodes' configuration every model uses: one token per node, so each node owns one range;
/// no latency (delivery is an action); gossip rounds a million milliseconds apart with `t_fail`
/// at two and a half rounds, so no node suspects another while request deadlines (300 ms) pass;
/// digests to every peer, so one round tells everyone; no periodic anti-entropy (the completion
/// runs it); four Merkle buckets; no clock pruning.
pub fn base(nodes: u16, r: u8, w: u8) -> Config {
    Config {
        seed: 1,
        nodes,
        vnodes: 1,
        n: 3,
        r,
        w,
        latency_min_ms: 1,
        latency_max_ms: 1,
        request_timeout_ms: 300,
        gossip_interval_ms: 1_000_000,
        fanout: (nodes - 1) as u8,
        t_fail_ms: 2_500_000,
        t_cleanup_ms: 10_000_000,
        merkle_buckets: 4,
        anti_entropy_interval_ms: 0,
        clock_prune_threshold: 0,
        ..Config::default()
    }
}

fn three(name: &str, about: &str, r: u8, w: u8, small: bool) -> Spec {
    Spec {
        name: name.into(),
        about: about.into(),
        config: base(3, r, w),
        key: "k".into(),
        clients: vec![vec![NodeId(0)], vec![NodeId(1)]],
        budget: Budget {
            writes: 3,
            gets: 1,
            crashes: 1,
            partitions: 1,
            ..Budget::default()
        },
        down_at_start: None,
        sometimes: vec!["siblings".into()],
        small,
        reorder: false,
        bug: None,
    }
}

/// Every configuration, with what its check must find.
pub fn specs() -> Vec<(Spec, Expect)> {
    let mut out = Vec::new();
    // Negative control: last-write-wins loses one of two concurrent acknowledged writes.
    let mut lww = three(
        "lww",
        "negative control: 3 nodes, last-write-wins, R=W=1, 2 clients, 2 blind writes",
        1,
        1,
        true,
    );
    lww.config.conflict_mode = ConflictMode::LastWriteWins;
    lww.budget = Budget {
        writes: 2,
        ..Budget::default()
    };
    lww.sometimes = vec![];
    out.push((lww, Expect::Counterexample("no acknowledged write lost")));

    // A small one for `cargo test`: 2 writes, 1 get, no faults.
    let mut tiny = three(
        "tiny",
        "3 nodes, R=W=2, 2 clients, 2 writes, 1 get, no faults",
        2,
        2,
        true,
    );
    tiny.budget = Budget {
        writes: 2,
        gets: 1,
        ..Budget::default()
    };
    out.push((tiny, Expect::Pass));

    for (name, r, w) in [("n3-r1w1", 1, 1), ("n3-r2w2", 2, 2), ("n3-r1w3", 1, 3)] {
        let about = "3 nodes, N=3, 2 clients, 1 key, 3 writes, 1 get, 1 crash, 1 partition";
        out.push((three(name, about, r, w, false), Expect::Pass));
    }
    // The same with two writes: these finish in minutes.
    for (name, r, w) in [
        ("n3-r1w1-2w", 1, 1),
        ("n3-r2w2-2w", 2, 2),
        ("n3-r1w3-2w", 1, 3),
    ] {
        let about = "3 nodes, N=3, 2 clients, 1 key, 2 writes, 1 get, 1 crash, 1 partition";
        let mut s = three(name, about, r, w, false);
        s.budget.writes = 2;
        out.push((s, Expect::Pass));
    }
    out.push((sloppy(), Expect::Pass));
    out.push((non_replica(None), Expect::Pass));
    out.push((
        non_replica(Some(Reintroduced::NonReplicaCoordinates)),
        Expect::Counterexample(CONVERGES),
    ));
    out.push((stand_in(None), Expect::Pass));
    out.push((stand_in_small(None), Expect::Pass));
    out.push((
        stand_in_small(Some(Reintroduced::StandInKeepsActor)),
        Expect::Counterexample("no acknowledged write lost"),
    ));
    out.push((
        stand_in(Some(Reintroduced::StandInKeepsActor)),
        Expect::Counterexample("no acknowledged write lost"),
    ));
    out.push((pruning(), Expect::Pass));
    out
}

/// 4 nodes, N=3, R=W=2: the key's third home is down from the start and every other node knows
/// it, so puts go to the fourth node as a stand-in holding a hint; one gossip round lets the home,
/// once restarted, announce itself and receive the hint.
fn sloppy() -> Spec {
    let config = base(4, 2, 2);
    let key = "k";
    let walk = ring_walk(&config, key);
    let down = walk[2];
    // Client 0 talks to the first home, client 1 to the stand-in (which then coordinates as one).
    let contacts = [walk[0], walk[3]];
    Spec {
        name: "sloppy".into(),
        about: "4 nodes, N=3, R=W=2, a home down from the start, a stand-in takes the hint; \
                2 clients, 2 writes, 1 get, the home's restart, 1 gossip round"
            .into(),
        config,
        key: key.into(),
        clients: vec![vec![contacts[0]], vec![contacts[1]]],
        budget: Budget {
            writes: 2,
            gets: 1,
            gossip: 1,
            ..Budget::default()
        },
        down_at_start: Some(down),
        sometimes: vec![HINT_DELIVERED.into()],
        small: true,
        reorder: false,
        bug: None,
    }
}

/// 4 nodes, N=3, R=W=1: a client puts through the node outside the key's preference list, and the
/// network may lose three messages. The node must forward the put, never coordinate it; with the
/// fixed loss put back (`bug`), it coordinates, keeps the write in its main store where no replica
/// looks, acknowledges it, and the replicas' copies are lost.
fn non_replica(bug: Option<Reintroduced>) -> Spec {
    let config = base(4, 1, 1);
    let key = "k";
    let walk = ring_walk(&config, key);
    Spec {
        name: if bug.is_some() {
            "non-replica-bug"
        } else {
            "non-replica"
        }
        .into(),
        about: if bug.is_some() {
            "negative control: the non-replica coordinating a put, put back (4 nodes, W=1, 3 losses)"
        } else {
            "4 nodes, N=3, R=W=1, a put through the non-replica, 3 losses"
        }
        .into(),
        config,
        key: key.into(),
        clients: vec![vec![walk[3]]],
        budget: Budget {
            writes: 1,
            gets: 1,
            drops: 3,
            ..Budget::default()
        },
        down_at_start: None,
        sometimes: vec![],
        small: true,
        reorder: false,
        bug,
    }
}

/// 4 nodes, N=3, R=W=1, one client talking only to the key's stand-in (the fourth node of its ring
/// walk). The first home is down from the start; `t_fail` is just over one gossip round (the least
/// the configuration allows), so one round of the stand-in's own suspects the other homes, silent
/// since the warm-up, and it coordinates puts as a stand-in, holding them as hints. The first
/// home's restart and one gossip round of it let the stand-in hand its hint off and delete it on
/// the acknowledgement. Its next dot must not count past the version it handed off (a new actor
/// epoch); with the fixed loss put back (`bug`), it does: a get through it (R = 1) shows only the
/// newer version, with a context that claims the handed-off one, and the put written over that
/// context supersedes a version no client read (issue 8, reproduction 2).
fn stand_in(bug: Option<Reintroduced>) -> Spec {
    let mut config = base(4, 1, 1);
    config.t_fail_ms = config.gossip_interval_ms + 1;
    let key = "k";
    let walk = ring_walk(&config, key);
    Spec {
        name: if bug.is_some() {
            "stand-in-bug"
        } else {
            "stand-in"
        }
        .into(),
        about: if bug.is_some() {
            "negative control: a stand-in that keeps its clock actor after a handoff, put back \
             (4 nodes, R=W=1, a home down, 3 writes, 1 get, 2 gossip rounds)"
        } else {
            "4 nodes, N=3, R=W=1, a home down from the start, its stand-in hands off and \
             coordinates again; 1 client, 3 writes, 1 get, the home's restart, 2 gossip rounds"
        }
        .into(),
        config,
        key: key.into(),
        clients: vec![vec![walk[3]]],
        budget: Budget {
            writes: 3,
            gets: 1,
            gossip: 2,
            ..Budget::default()
        },
        down_at_start: Some(walk[0]),
        sometimes: vec![HINT_DELIVERED.into()],
        small: false,
        reorder: false,
        bug,
    }
}

/// The stand-in pair made small enough for `cargo xtask test`: 3 nodes, N = 2, so the stand-in is
/// the third node; the same loss, on a shorter path (three gossip rounds).
fn stand_in_small(bug: Option<Reintroduced>) -> Spec {
    let mut s = stand_in(bug);
    s.config = base(3, 1, 1);
    s.config.n = 2;
    s.config.t_fail_ms = s.config.gossip_interval_ms + 1;
    let walk = ring_walk(&s.config, &s.key);
    s.clients = vec![vec![walk[2]]];
    s.down_at_start = Some(walk[0]);
    s.budget.gossip = 3;
    s.small = true;
    s.name = format!("{}-n2", s.name).replace("-bug-n2", "-n2-bug");
    s.about = if bug.is_some() {
        "negative control: the stand-in keeping its actor, put back (3 nodes, N=2, R=W=1, a home \
         down, 3 writes, 1 get, 3 gossip rounds)"
            .into()
    } else {
        "3 nodes, N=2, R=W=1, a home down from the start, its stand-in hands off and coordinates \
         again; 1 client, 3 writes, 1 get, the home's restart, 3 gossip rounds"
            .into()
    };
    s
}

/// Clock pruning at threshold 2: contexts keep one entry besides the dot, so a descendant may sit
/// next to its ancestor as a false sibling; no acknowledged write may be lost for it.
fn pruning() -> Spec {
    let mut s = three(
        "pruning",
        "3 nodes, R=W=2, clock pruning at 2, 2 clients, 3 writes, 2 gets, no faults",
        2,
        2,
        false,
    );
    s.config.clock_prune_threshold = 2;
    s.budget = Budget {
        writes: 3,
        gets: 2,
        ..Budget::default()
    };
    s.sometimes = vec![];
    s
}

/// Every node, walking the ring clockwise from `key`: its homes first (N of them), then the
/// stand-ins in the order a coordinator tries them.
fn ring_walk(config: &Config, key: &str) -> Vec<NodeId> {
    let ids: Vec<NodeId> = (0..config.nodes).map(NodeId).collect();
    Ring::new(&ids, config.vnodes)
        .walk(kvlab_core::key_position(key))
        .collect()
}

/// The configuration named `name`.
pub fn spec(name: &str) -> Option<(Spec, Expect)> {
    specs().into_iter().find(|(s, _)| s.name == name)
}
