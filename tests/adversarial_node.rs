//! Adversarial schedules against the node's split into sub-machines (timers, crash/restart/wipe as
//! inputs, StartMerkle, Merkle trees read through `&self`, forwarding) and against put replies
//! that show the coordinator's versions and their context (docs/protocol.md §Sloppy quorum, Put).
//!
//! Node-level tests drive one `Node` by hand; cluster tests run a `Simulation` and judge by the
//! history oracle and by client gets through every home.

use kvlab_core::bench_support::record_digest;
use kvlab_core::{
    Config, ConflictMode, Fault, Input, Key, MerkleTree, Msg, Node, NodeId, Output, RangeId,
    Record, Reply, ReplyBody, Request, RequestError, RequestId, Ring, Rng, Simulation, Time, Timer,
    Value, VectorClock, Version, Workload, MAX_FORWARD_HOPS,
};
use kvlab_support::{
    acked, get, put, ring_walk, settle_and_check, siblings, sparse_config, values,
};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The root of a tree built from scratch from what `node` stores of `range`.
fn fresh_root(node: &Node, ring: &Ring, buckets: u32, range: RangeId) -> kvlab_core::MerkleHash {
    let items: Vec<(Key, [u8; 32])> = node
        .store()
        .iter_sorted()
        .filter(|(k, _)| ring.range_of_key(k.position()) == Some(range))
        .map(|(k, set)| {
            let mut buf = Vec::new();
            set.encode(&mut buf);
            (k, record_digest(&buf))
        })
        .collect();
    MerkleTree::build(buckets, items.iter().map(|(k, d)| (k, *d))).root()
}

/// Every node's Merkle root of every range it replicates, read through `&self`, equals a tree
/// built from its store; so does the tree `merkle_tree` returns, and so does the root after the
/// node absorbed its pending changes (a StartMerkle on a clone).
fn assert_merkle_fresh(sim: &Simulation, when: &str) {
    let buckets = sim.config().merkle_buckets;
    let ring = sim.ring();
    for node in sim.nodes() {
        let ranges: Vec<RangeId> = node.ranges().collect();
        let mut absorbed = node.clone();
        if let Some(&r) = ranges.first() {
            absorbed.handle(sim.now(), Input::StartMerkle { range: r });
            while absorbed.poll_output().is_some() {}
        }
        for range in ranges {
            let fresh = fresh_root(node, ring, buckets, range);
            let id = node.id();
            assert_eq!(
                node.merkle_root(range),
                Some(fresh),
                "{when}: {id}'s root of {range:?} read through &self"
            );
            let tree = node
                .merkle_tree(range)
                .expect("a replicated range has a tree");
            assert_eq!(tree.root(), fresh, "{when}: {id}'s tree of {range:?}");
            assert_eq!(
                absorbed.merkle_root(range),
                Some(fresh),
                "{when}: {id}'s root of {range:?} after absorbing"
            );
        }
    }
}

fn put_ok(reply: &Reply) -> (Version, Vec<Version>, VectorClock) {
    match &reply.body {
        ReplyBody::PutOk {
            version,
            siblings,
            context,
        } => (version.clone(), siblings.clone(), context.clone()),
        other => panic!("expected PutOk, got {other:?}"),
    }
}

fn texts(vs: &[Version]) -> Vec<String> {
    let mut v: Vec<String> = vs.iter().map(|v| v.value.to_text()).collect();
    v.sort();
    v
}

/// A node of a cluster of `nodes` built by hand, with its config and ring.
fn lone_node(id: u16, nodes: u16, cfg: Config) -> (Node, Arc<Config>, Arc<Ring>) {
    let cfg = Arc::new(Config { nodes, ..cfg });
    let ids: Vec<NodeId> = (0..nodes).map(NodeId).collect();
    let ring = Arc::new(Ring::new(&ids, cfg.vnodes));
    let node = Node::new(NodeId(id), cfg.clone(), ring.clone(), Time::ZERO);
    (node, cfg, ring)
}

fn drain(node: &mut Node) -> Vec<Output> {
    let mut v = Vec::new();
    while let Some(o) = node.poll_output() {
        v.push(o);
    }
    v
}

fn replies(outs: &[Output]) -> Vec<Reply> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Reply(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

fn sends(outs: &[Output]) -> Vec<(NodeId, Msg)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn put_req(key: &str, value: &str) -> Request {
    Request::Put {
        key: key.into(),
        value: Value::from(value),
        context: VectorClock::new(),
    }
}

/// A key whose first home (by the ring) is `home` and that `not_home` does not replicate.
fn key_homed_at(ring: &Ring, n: usize, home: NodeId, not_home: NodeId) -> String {
    (0..10_000)
        .map(|i| format!("k{i}"))
        .find(|k| {
            let pl = ring.preference_list(ring.position_of_key(k), n);
            pl[0] == home && !pl.contains(&not_home)
        })
        .expect("some key")
}

// ---------------------------------------------------------------------------------------------
// Timers, driven by hand
// ---------------------------------------------------------------------------------------------

/// A request deadline is a timer: set by the put, reported by `poll_timeout`, fired once.
#[test]
fn a_request_deadline_is_set_reported_and_fires_once() {
    let (mut node, cfg, ring) = lone_node(0, 5, sparse_config(1, 5, 3, 2, 3));
    let key = key_homed_at(&ring, 3, NodeId(0), NodeId(4));
    let t0 = Time(10);
    node.handle(
        t0,
        Input::Client {
            req: RequestId(1),
            request: put_req(&key, "v"),
        },
    );
    let outs = drain(&mut node);
    assert_eq!(sends(&outs).len(), 2, "the set goes to the two other homes");
    assert!(replies(&outs).is_empty(), "W = 3: no ack yet");
    let deadline = t0.plus(cfg.request_timeout_ms);
    assert_eq!(node.timer(Timer::RequestTimeout), Some(deadline));
    assert!(node.poll_timeout().is_some_and(|t| t <= deadline && t > t0));
    // Fire every timer up to just before the deadline: nothing about the request yet.
    let mut now = t0;
    while let Some(t) = node.poll_timeout().filter(|&t| t < deadline) {
        assert!(t > now, "poll_timeout went back: {t:?} after {now:?}");
        now = t;
        node.handle(now, Input::Timeout);
        assert!(replies(&drain(&mut node)).is_empty());
    }
    node.handle(deadline, Input::Timeout);
    let r = replies(&drain(&mut node));
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].body,
        ReplyBody::Failed(RequestError::Timeout { got: 1, needed: 3 })
    );
    assert_eq!(node.timer(Timer::RequestTimeout), None);
    // A second Timeout at the same instant fires nothing again.
    node.handle(deadline, Input::Timeout);
    assert!(replies(&drain(&mut node)).is_empty());
    assert!(node.poll_timeout().is_some_and(|t| t > deadline));
}

/// A crash, or a restart without a crash, drops pending requests and their deadline; gossip and
/// anti-entropy timers survive and are never in the past after a restart.
#[test]
fn crash_restart_and_wipe_keep_the_right_timers() {
    for crash_first in [true, false] {
        let (mut node, cfg, ring) = lone_node(0, 5, sparse_config(2, 5, 3, 2, 3));
        let key = key_homed_at(&ring, 3, NodeId(0), NodeId(4));
        node.handle(
            Time(5),
            Input::Client {
                req: RequestId(1),
                request: put_req(&key, "v"),
            },
        );
        drain(&mut node);
        assert!(node.timer(Timer::RequestTimeout).is_some());
        if crash_first {
            node.handle(Time(6), Input::Crash);
            assert_eq!(
                node.timer(Timer::RequestTimeout),
                None,
                "died with the process"
            );
            assert!(node.timer(Timer::Gossip).is_some());
            // A wipe while down: the store, hints and trees go, the timers stay.
            node.handle(Time(7), Input::Wipe);
            drain(&mut node);
            assert!(node.store().is_empty() && node.hints().is_empty());
            assert_eq!(node.actor().epoch, 1, "a wipe starts a new epoch");
            assert!(node.timer(Timer::Gossip).is_some());
            assert!(node.timer(Timer::AntiEntropy).is_some());
        }
        // Down for a long time: every timer is overdue when it restarts.
        let back = Time(50_000);
        node.handle(back, Input::Restart);
        assert!(
            drain(&mut node).is_empty(),
            "a restart says nothing by itself"
        );
        assert_eq!(
            node.timer(Timer::RequestTimeout),
            None,
            "crash first: {crash_first}"
        );
        for t in [Timer::Gossip, Timer::AntiEntropy] {
            let at = node.timer(t).expect("still set");
            assert!(
                at > back,
                "{t:?} at {at:?} is not after the restart at {back:?}"
            );
        }
        let hb = node.membership().heartbeat();
        // No reply for the request that died, at its deadline or ever.
        let mut now = back;
        for _ in 0..50 {
            now = node.poll_timeout().expect("a live node always has a timer");
            assert!(now > back);
            node.handle(now, Input::Timeout);
            let outs = drain(&mut node);
            assert!(
                replies(&outs).is_empty(),
                "a request that died replied: {outs:?}"
            );
        }
        // Fifty timeouts: each gossip round ticks the heartbeat once (none lost, none doubled).
        let rounds = node.membership().heartbeat() - hb;
        let span = now.since(back);
        let expect = span / cfg.gossip_interval_ms;
        assert!(
            rounds.abs_diff(expect) <= 1,
            "{rounds} gossip rounds in {span} ms (interval {})",
            cfg.gossip_interval_ms
        );
    }
}

/// An overdue Timeout delivered late fires each periodic timer once, not once per missed period,
/// and leaves every timer after `now`.
#[test]
fn a_late_timeout_fires_each_timer_once_and_reschedules_after_now() {
    let (mut node, cfg, _) = lone_node(1, 4, sparse_config(3, 4, 3, 2, 2));
    let hb = node.membership().heartbeat();
    let late = Time(10 * cfg.anti_entropy_interval_ms);
    node.handle(late, Input::Timeout);
    let outs = drain(&mut node);
    assert_eq!(
        node.membership().heartbeat(),
        hb + 1,
        "one round, not one per missed period"
    );
    let merkle = sends(&outs)
        .iter()
        .filter(|(_, m)| matches!(m, Msg::Merkle { .. }))
        .count();
    assert!(merkle <= 1, "one anti-entropy comparison at most: {merkle}");
    for t in Timer::ALL {
        if let Some(at) = node.timer(t) {
            assert!(at > late, "{t:?} at {at:?}");
        }
    }
    assert_eq!(node.poll_timeout(), Some(late.plus(cfg.gossip_interval_ms)));
}

/// StartMerkle on a range the node does not replicate does nothing; on one it replicates it opens
/// one exchange with a home of that range.
#[test]
fn start_merkle_only_for_replicated_ranges_and_only_with_a_home() {
    let (mut node, cfg, ring) = lone_node(2, 6, sparse_config(4, 6, 3, 2, 2));
    let mine: Vec<RangeId> = node.ranges().collect();
    let foreign: Vec<RangeId> = ring
        .ranges()
        .map(|(r, _, _)| r)
        .filter(|r| !mine.contains(r))
        .collect();
    assert!(!foreign.is_empty());
    for r in foreign {
        node.handle(Time(1), Input::StartMerkle { range: r });
        assert!(drain(&mut node).is_empty(), "{r:?} is not replicated here");
        assert_eq!(node.merkle_root(r), None);
    }
    for r in mine {
        node.handle(Time(1), Input::StartMerkle { range: r });
        let s = sends(&drain(&mut node));
        assert_eq!(s.len(), 1, "{r:?}: {s:?}");
        let homes = ring.preference_list(r.0, usize::from(cfg.n));
        assert!(
            homes.contains(&s[0].0) && s[0].0 != node.id(),
            "{r:?} to {}",
            s[0].0
        );
    }
}

/// Forwarding: a node outside the key's targets forwards with hops 1; a forward that reaches a
/// node that is not a target either goes on until it was passed MAX_FORWARD_HOPS times, then fails
/// with NoCoordinator, never bouncing back to its sender.
#[test]
fn forwarding_stops_after_max_hops() {
    let cfg = sparse_config(5, 6, 3, 2, 2);
    let ids: Vec<NodeId> = (0..6).map(NodeId).collect();
    let ring = Ring::new(&ids, cfg.vnodes);
    let outsider = NodeId(5);
    let key = key_homed_at(&ring, 3, NodeId(0), outsider);
    let homes = ring.preference_list(ring.position_of_key(&key), 3);
    let (mut node, _, _) = lone_node(outsider.0, 6, cfg);
    node.handle(
        Time(1),
        Input::Client {
            req: RequestId(1),
            request: put_req(&key, "v"),
        },
    );
    let s = sends(&drain(&mut node));
    assert!(
        matches!(&s[..], [(to, Msg::Forward { hops: 1, .. })] if *to == homes[0]),
        "{s:?}"
    );
    for hops in 1..=MAX_FORWARD_HOPS + 1 {
        let msg = Msg::Forward {
            req: RequestId(10 + u64::from(hops)),
            request: Box::new(put_req(&key, "v")),
            hops,
        };
        node.handle(
            Time(2),
            Input::Message {
                from: homes[0],
                msg,
            },
        );
        let outs = drain(&mut node);
        let s = sends(&outs);
        let r = replies(&outs);
        if hops < MAX_FORWARD_HOPS {
            assert!(
                matches!(&s[..], [(to, Msg::Forward { hops: h, .. })] if *to == homes[1] && *h == hops + 1),
                "hops {hops}: {s:?}"
            );
            assert!(r.is_empty());
        } else {
            assert!(s.is_empty(), "hops {hops}: forwarded again: {s:?}");
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].body, ReplyBody::Failed(RequestError::NoCoordinator));
        }
        assert!(
            node.store().is_empty(),
            "a non-replica never stores a client write"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Timers and Merkle trees across a faulty cluster run
// ---------------------------------------------------------------------------------------------

/// A workload with crashes, restarts without crashes, wipes while down, partitions and scripted
/// anti-entropy: after every event every up node's next timer is not in the past, its gossip and
/// anti-entropy timers are set, and every node's Merkle roots (read through `&self`, with changes
/// pending) equal trees built from its store. Gossip runs once per interval on each node.
#[test]
fn timers_and_lazy_merkle_trees_survive_a_faulty_run() {
    for seed in 1..=4u64 {
        let cfg = Config {
            anti_entropy_interval_ms: 300,
            ..sparse_config(seed, 6, 3, 2, 2)
        };
        let nodes = cfg.nodes;
        let mut sim = Simulation::new(cfg.clone()).unwrap();
        sim.start_workload(Workload {
            clients: 6,
            keys: 40,
            think_ms: 20,
            blind_ratio: kvlab_core::Ratio::new(1, 3),
            ..Workload::default()
        });
        let mut rng = Rng::derive(seed, "adversarial-node", 0);
        let mut next_fault = Time(700);
        let end = Time(25_000);
        let mut checks = 0;
        while sim.now() < end {
            if sim.step().is_none() {
                break;
            }
            let now = sim.now();
            for node in sim.nodes() {
                if !sim.is_up(node.id()) {
                    continue;
                }
                let t = node.poll_timeout().expect("an up node always has a timer");
                assert!(
                    t >= now,
                    "seed {seed}: {} wants {t:?} at {now:?}",
                    node.id()
                );
                assert!(node.timer(Timer::Gossip).is_some());
                assert!(node.timer(Timer::AntiEntropy).is_some());
                if let Some(d) = node.timer(Timer::RequestTimeout) {
                    assert!(d.0 <= now.0 + cfg.request_timeout_ms);
                }
            }
            if now >= next_fault {
                next_fault = now.plus(300 + rng.below(900));
                let n = NodeId(rng.below(u64::from(nodes)) as u16);
                let f = match rng.below(8) {
                    0 | 1 => Fault::Crash(n),
                    2 | 3 => Fault::Restart(n),
                    4 if !sim.is_up(n) => Fault::Wipe(n),
                    5 => Fault::Partition(vec![n]),
                    6 => Fault::Heal,
                    _ => {
                        sim.schedule(now, kvlab_core::Action::AntiEntropy(n));
                        Fault::Heal
                    }
                };
                sim.apply(f);
                assert_merkle_fresh(&sim, &format!("seed {seed} at {now:?}"));
                checks += 1;
            }
        }
        assert!(checks > 10);
        // Everything up and quiet: each node gossips once per interval.
        sim.stop_workload();
        sim.apply(Fault::Heal);
        for i in 0..nodes {
            sim.apply(Fault::Restart(NodeId(i)));
        }
        sim.run_until(sim.now().plus(2_000));
        let before: Vec<u64> = sim
            .nodes()
            .iter()
            .map(|n| n.membership().heartbeat())
            .collect();
        sim.run_until(sim.now().plus(3_000));
        for (node, b) in sim.nodes().iter().zip(before) {
            let rounds = node.membership().heartbeat() - b;
            assert!(
                (29..=31).contains(&rounds),
                "seed {seed}: {} ran {rounds} rounds in 3 s",
                node.id()
            );
        }
        sim.run_until(sim.now().plus(cfg.t_cleanup_ms + 20_000));
        assert_merkle_fresh(&sim, "end");
        let oracle = sim.history().final_check(&sim);
        assert!(oracle.ok(), "seed {seed}: {oracle}");
        let conv = sim.check_convergence();
        assert!(conv.ok(), "seed {seed}: {conv:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hinted handoff across repeated crashes of owner and stand-in
// ---------------------------------------------------------------------------------------------

/// The owner and its stand-in crash and restart over and over, out of step, with blind puts in
/// between (each held under a hint by whichever stand-in is up); the stand-in is crashed right
/// after its handoff leaves and restarted before the ack returns. Nothing acknowledged is lost.
#[test]
fn handoff_survives_repeated_crashes_of_owner_and_stand_in() {
    for seed in [1u64, 2, 3] {
        let cfg = sparse_config(seed, 6, 3, 2, 2);
        let wait = cfg.t_fail_ms + 1_500;
        let mut sim = Simulation::new(cfg).unwrap();
        let walk = ring_walk(&sim, "k");
        let (h1, h2, s, s2) = (walk[0], walk[1], walk[3], walk[4]);
        sim.run_until(Time(500));
        let mut held = Vec::new();
        for round in 0..5 {
            sim.apply(Fault::Crash(h1));
            sim.run_until(sim.now().plus(wait));
            let v = format!("a{round}");
            let via = if round % 2 == 0 { s } else { h2 };
            let r = put(&mut sim, via.0, "k", &v, &VectorClock::new(), 400);
            assert!(acked(&r), "seed {seed} {v}: {r:?}");
            held.push(v);
            // The stand-in goes down with the hint, the owner comes back, the stand-in returns:
            // its handoff leaves; crash it again before the ack can come back.
            sim.apply(Fault::Crash(s));
            sim.apply(Fault::Restart(h1));
            sim.run_until(sim.now().plus(300));
            sim.apply(Fault::Restart(s));
            let until = sim.now().plus(3_000);
            while sim.now() < until
                && !sim
                    .in_flight()
                    .any(|m| m.kind == kvlab_core::MsgKind::Handoff && m.from == s)
            {
                sim.step();
            }
            sim.apply(Fault::Crash(s));
            let v = format!("b{round}");
            let r = put(&mut sim, h2.0, "k", &v, &VectorClock::new(), 400);
            if acked(&r) {
                held.push(v);
            }
            sim.run_until(sim.now().plus(200));
            sim.apply(Fault::Restart(s));
            if round % 2 == 1 {
                sim.apply(Fault::Crash(s2));
            }
        }
        let must: Vec<&str> = held.iter().map(String::as_str).collect();
        settle_and_check(&mut sim, "k", &must);
        assert!(
            sim.nodes().iter().all(|n| n.hints().is_empty()),
            "seed {seed}: every hint was handed off"
        );
    }
}

/// Blind writers through every node (forwarded from non-replicas too) on both sides of a
/// partition longer than t_cleanup, with a stand-in crashed and its peer wiped while down
/// mid-way; then read-modify-writes on each side with what that side saw.
#[test]
fn long_partition_blind_writes_with_crashes_and_a_wipe_while_down() {
    for seed in [11u64, 12, 13, 14] {
        let cfg = sparse_config(seed, 7, 3, 1, 2);
        let long = cfg.t_cleanup_ms + 3_000;
        let mut sim = Simulation::new(cfg).unwrap();
        let walk = ring_walk(&sim, "k");
        sim.run_until(Time(500));
        let side_b = vec![walk[1], walk[2], walk[5]];
        sim.apply(Fault::Partition(side_b.clone()));
        sim.run_until(sim.now().plus(long));
        let mut held = Vec::new();
        for (i, via) in walk.iter().copied().enumerate() {
            let v = format!("x{i}");
            if acked(&put(&mut sim, via.0, "k", &v, &VectorClock::new(), 400)) {
                held.push(v);
            }
        }
        // A stand-in on side A crashes; side B's stand-in is wiped while down (W = 2: the
        // blind writes it coordinated are on a home of its side too).
        sim.apply(Fault::Crash(walk[3]));
        sim.apply(Fault::Crash(walk[5]));
        sim.apply(Fault::Wipe(walk[5]));
        sim.run_until(sim.now().plus(500));
        for (i, via) in walk.iter().copied().enumerate() {
            let v = format!("y{i}");
            if acked(&put(&mut sim, via.0, "k", &v, &VectorClock::new(), 400)) {
                held.push(v);
            }
        }
        let mut must: Vec<String> = held.clone();
        for via in [walk[0], walk[2]] {
            let read = get(&mut sim, via.0, "k", 400);
            if let ReplyBody::GetOk { .. } = read.body {
                let (seen, ctx) = siblings(&read);
                let v = format!("rmw{}", via.0);
                if acked(&put(&mut sim, via.0, "k", &v, &ctx, 400)) {
                    let seen = texts(&seen);
                    must.retain(|m| !seen.contains(m));
                    must.push(v);
                }
            }
        }
        // The wiped stand-in held only hints and its own coordinated copies: with W = 2 each
        // acknowledged write is elsewhere too.
        let must: Vec<&str> = must.iter().map(String::as_str).collect();
        settle_and_check(&mut sim, "k", &must);
    }
}

// ---------------------------------------------------------------------------------------------
// Put replies: the context passed back supersedes only what the reply showed
// ---------------------------------------------------------------------------------------------

/// A stand-in coordinator whose set is stale: it holds A (its own write, under a hint) but not B,
/// which the homes took while it was cut off. Its reply for C shows A and C; passing that context
/// back through a home supersedes A and C, never B.
#[test]
fn a_stand_in_reply_context_never_covers_what_the_homes_added() {
    let cfg = sparse_config(21, 5, 3, 2, 2);
    let wait = cfg.t_fail_ms + 1_500;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2, h3, s) = (walk[0], walk[1], walk[2], walk[3]);
    sim.run_until(Time(500));
    sim.apply(Fault::Crash(h1));
    sim.run_until(sim.now().plus(wait));
    let a = put(&mut sim, s.0, "k", "A", &VectorClock::new(), 400);
    assert!(acked(&a), "A: {a:?}");
    assert!(sim.nodes()[s.index()].hints().contains_key(&h1));
    // S cut off, briefly (not yet suspected by the homes): B reaches H2 and H3 only.
    sim.apply(Fault::Partition(vec![s]));
    let b = put(&mut sim, h2.0, "k", "B", &VectorClock::new(), 400);
    assert!(acked(&b), "B: {b:?}");
    sim.apply(Fault::Heal);
    // S coordinates C (a stand-in for H1 again) from its stale hinted set.
    let c = put(&mut sim, s.0, "k", "C", &VectorClock::new(), 400);
    let (cv, shown, ctx) = put_ok(&c);
    assert!(shown.iter().any(|v| v.dot == cv.dot));
    let shown = texts(&shown);
    assert!(shown.contains(&"C".to_string()));
    let d = put(&mut sim, h3.0, "k", "D", &ctx, 400);
    assert!(acked(&d), "D: {d:?}");
    let mut must = vec!["D"];
    for v in ["A", "B", "C"] {
        if !shown.contains(&v.to_string()) {
            must.push(v);
        }
    }
    assert!(must.contains(&"B"), "the reply never showed B: {shown:?}");
    settle_and_check(&mut sim, "k", &must);
}

/// W < N: the reply shows the coordinator's set at the write; the coordinator then merges a
/// concurrent blind write. The reply's context, passed back through the same coordinator,
/// supersedes what it showed and keeps the later sibling.
#[test]
fn a_reply_context_passed_back_after_the_coordinator_merged_more() {
    let cfg = sparse_config(22, 5, 3, 1, 1);
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2) = (walk[0], walk[1]);
    sim.run_until(Time(500));
    let a = put(&mut sim, h1.0, "k", "A", &VectorClock::new(), 5);
    let (_, shown, ctx) = put_ok(&a);
    assert_eq!(texts(&shown), vec!["A"]);
    let b = put(&mut sim, h2.0, "k", "B", &VectorClock::new(), 400);
    assert!(acked(&b));
    sim.run_until(sim.now().plus(500));
    let c = put(&mut sim, h1.0, "k", "C", &ctx, 400);
    let (_, shown_c, _) = put_ok(&c);
    assert_eq!(texts(&shown_c), vec!["B", "C"], "C covers A only");
    settle_and_check(&mut sim, "k", &["B", "C"]);
    let oracle = sim.history().final_check(&sim);
    assert_eq!((oracle.lost, oracle.superseded), (0, 1), "{oracle}");
}

/// A wiped coordinator writes under a new epoch: its reply's context names only the new actor,
/// so passed back it cannot cover the old epoch's versions, which live on the other homes.
#[test]
fn a_wiped_coordinators_reply_context_spares_its_old_epoch() {
    let cfg = sparse_config(23, 5, 3, 1, 3);
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2) = (walk[0], walk[1]);
    sim.run_until(Time(500));
    for v in ["A", "B"] {
        assert!(acked(&put(
            &mut sim,
            h1.0,
            "k",
            v,
            &VectorClock::new(),
            400
        )));
    }
    sim.apply(Fault::Wipe(h1));
    let c = put(&mut sim, h1.0, "k", "C", &VectorClock::new(), 400);
    let (cv, shown, ctx) = put_ok(&c);
    assert_eq!(cv.dot.actor.epoch, 1);
    let shown = texts(&shown);
    let d = put(&mut sim, h2.0, "k", "D", &ctx, 400);
    assert!(acked(&d), "D: {d:?}");
    let mut must = vec!["D"];
    for v in ["A", "B"] {
        if !shown.contains(&v.to_string()) {
            must.push(v);
        }
    }
    settle_and_check(&mut sim, "k", &must);
}

/// A put reply's context of another key, passed to this key: refused by the seal, or if the seal
/// lets it through and it drops a version of this key nobody read, the oracle must say it was
/// lost (the oracle's verdict is checked against what a client reads).
#[test]
fn a_put_reply_context_of_another_key_is_refused_or_judged_lost() {
    for (seed, order) in [(31u64, 0), (32, 1)] {
        let mut sim = Simulation::new(sparse_config(seed, 3, 3, 1, 1)).unwrap();
        let h = NodeId(0);
        sim.run_until(Time(500));
        let mut ctx_b = VectorClock::new();
        // order 0: b's counter above a's (the seal refuses); order 1: between a's two counters.
        let steps: &[(&str, &str)] = if order == 0 {
            &[("a", "A1"), ("a", "A2"), ("b", "X")]
        } else {
            &[("a", "A1"), ("b", "X"), ("a", "A2")]
        };
        for &(k, v) in steps {
            let r = put(&mut sim, h.0, k, v, &VectorClock::new(), 400);
            let (_, _, ctx) = put_ok(&r);
            if k == "b" {
                ctx_b = ctx;
            }
        }
        let c = put(&mut sim, h.0, "a", "C", &ctx_b, 400);
        sim.run_until(sim.now().plus(2_000));
        let now_held = values(&get(&mut sim, h.0, "a", 400));
        let oracle = sim.history().final_check(&sim);
        let dropped = ["A1", "A2"]
            .iter()
            .filter(|v| !now_held.contains(&v.to_string()))
            .count() as u64;
        if order == 0 {
            assert_eq!(
                c.body,
                ReplyBody::Failed(RequestError::InvalidContext),
                "seed {seed}"
            );
        }
        assert_eq!(
            oracle.lost, dropped,
            "seed {seed}: store holds {now_held:?}; the oracle says {oracle}"
        );
        assert_eq!(oracle.ok(), dropped == 0, "seed {seed}: {oracle}");
    }
}

/// The store's negative control by hand: last-write-wins drops a concurrent blind write nobody
/// read, even when the later writer passed back a put reply's context; the oracle reports it lost
/// and credits only what the reply showed.
#[test]
fn lww_by_hand_the_oracle_reports_exactly_the_unshown_write_lost() {
    let cfg = Config {
        conflict_mode: ConflictMode::LastWriteWins,
        ..sparse_config(41, 4, 3, 1, 1)
    };
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2, h3) = (walk[0], walk[1], walk[2]);
    sim.run_until(Time(500));
    // H3 cut off: A (through H1) never reaches it.
    sim.apply(Fault::Partition(vec![h3]));
    let a = put(&mut sim, h1.0, "k", "A", &VectorClock::new(), 400);
    let (_, shown_a, ctx_a) = put_ok(&a);
    assert_eq!(texts(&shown_a), vec!["A"]);
    // B, blind, through H3, later: under LWW it wins everywhere once healed; nobody read A.
    let b = put(&mut sim, h3.0, "k", "B", &VectorClock::new(), 400);
    assert!(acked(&b));
    sim.apply(Fault::Heal);
    // C through H2 with A's reply context: a read of A, not of B.
    let c = put(&mut sim, h2.0, "k", "C", &ctx_a, 400);
    assert!(acked(&c));
    sim.run_until(sim.now().plus(20_000));
    let held = values(&get(&mut sim, h1.0, "k", 400));
    assert_eq!(held, vec!["C"], "LWW keeps one version");
    let oracle = sim.history().final_check(&sim);
    // A was read (through the reply) by C's writer; B nobody saw.
    assert_eq!((oracle.superseded, oracle.lost), (1, 1), "{oracle}");
    assert!(!oracle.ok());
}

/// Random hand-made schedules: puts through any node, each passing back the context of a random
/// earlier reply of its key (a get's or a put's) or none, with crashes, restarts, wipes while
/// down and short partitions in between. The oracle (which credits a put reply with exactly the
/// versions it showed) must find nothing lost, and the replicas must converge.
/// `HAND_SEED=n` replays one seed and prints its schedule.
#[test]
fn random_hand_puts_passing_back_reply_contexts() {
    let only: Option<u64> = std::env::var("HAND_SEED").ok().map(|s| s.parse().unwrap());
    for seed in 1..=200u64 {
        if only.is_some_and(|o| o != seed) {
            continue;
        }
        let (oracle, converged) = hand_run(seed, ConflictMode::VectorClock, only.is_some());
        assert!(oracle.ok(), "seed {seed}: {oracle}");
        assert!(converged, "seed {seed}");
    }
}

/// The same schedules under last-write-wins: the oracle must catch lost writes (the check above
/// can fail).
#[test]
fn random_hand_puts_under_lww_lose_writes_and_the_oracle_says_so() {
    let caught = (1..=40u64)
        .filter(|&seed| hand_run(seed, ConflictMode::LastWriteWins, false).0.lost > 0)
        .count();
    assert!(
        caught >= 10,
        "the oracle caught LWW losses in {caught} of 40 runs"
    );
}

/// One random hand-made schedule (see above); returns the oracle's verdict and whether the
/// replicas converged.
fn hand_run(seed: u64, mode: ConflictMode, verbose: bool) -> (kvlab_core::OracleReport, bool) {
    {
        let cfg = Config {
            clock_prune_threshold: 0,
            conflict_mode: mode,
            ..sparse_config(seed, 6, 3, 1 + (seed % 2) as u8, 1 + (seed % 3 % 2) as u8)
        };
        let nodes = cfg.nodes;
        let mut sim = Simulation::new(cfg).unwrap();
        let mut rng = Rng::derive(seed, "hand-puts", 0);
        let keys = ["k", "j"];
        let mut contexts: Vec<(usize, VectorClock)> = Vec::new();
        let mut wiped = false;
        sim.run_until(Time(500));
        for step in 0..60 {
            let via = NodeId(rng.below(u64::from(nodes)) as u16);
            let ki = rng.below(2) as usize;
            let desc: String = match rng.below(10) {
                0 => {
                    sim.apply(Fault::Crash(via));
                    format!("crash {via}")
                }
                1 => {
                    sim.apply(Fault::Restart(via));
                    format!("restart {via}")
                }
                // One wipe per run and only with W >= 2: two wiped disks may hold the only copies
                // of a write, which no store survives.
                2 if !sim.is_up(via) && !wiped && sim.config().w >= 2 => {
                    wiped = true;
                    sim.apply(Fault::Wipe(via));
                    format!("wipe {via}")
                }
                3 => {
                    sim.apply(Fault::Partition(vec![via]));
                    format!("partition {via}")
                }
                4 => {
                    sim.apply(Fault::Heal);
                    "heal".to_string()
                }
                5 | 6 => {
                    let r = get(&mut sim, via.0, keys[ki], 400);
                    let d = format!("get {} via {via}: {:?}", keys[ki], r.body);
                    if let ReplyBody::GetOk { context, .. } = r.body {
                        contexts.push((ki, context));
                    }
                    d
                }
                _ => {
                    let same: Vec<&VectorClock> = contexts
                        .iter()
                        .filter(|(k, _)| *k == ki)
                        .map(|(_, c)| c)
                        .collect();
                    let ctx = match rng.below(same.len() as u64 + 1) as usize {
                        0 => VectorClock::new(),
                        i => same[i - 1].clone(),
                    };
                    let v = format!("v{step}");
                    let r = put(&mut sim, via.0, keys[ki], &v, &ctx, 400);
                    let d = format!(
                        "put {}={v} via {via} ctx {ctx} req {}: {:?}",
                        keys[ki], r.req, r.body
                    );
                    if let ReplyBody::PutOk { context, .. } = r.body {
                        contexts.push((ki, context));
                    }
                    d
                }
            };
            if verbose {
                let up: Vec<bool> = (0..nodes).map(|i| sim.is_up(NodeId(i))).collect();
                eprintln!("{:?} step {step}: {desc}; up {up:?}", sim.now());
            }
            sim.run_until(sim.now().plus(rng.below(800)));
        }
        sim.apply(Fault::Heal);
        for i in 0..nodes {
            sim.apply(Fault::Restart(NodeId(i)));
        }
        sim.run_until(sim.now().plus(sim.config().t_cleanup_ms + 30_000));
        let oracle = sim.history().final_check(&sim);
        (oracle, sim.check_convergence().ok())
    }
}

/// A stand-in starts a new clock epoch only when the handoff took versions its own actor issued:
/// holding and handing off a hint another node coordinated leaves its actor as it was (every
/// needless epoch adds an entry to the clocks of the keys it writes later).
#[test]
fn handing_off_another_coordinators_version_keeps_the_stand_ins_actor() {
    let cfg = sparse_config(11, 5, 3, 2, 2);
    let wait = cfg.t_fail_ms + 1_500;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2, s) = (walk[0], walk[1], walk[3]);
    sim.run_until(Time(500));
    sim.apply(Fault::Crash(h1));
    sim.run_until(sim.now().plus(wait));
    let a = put(&mut sim, h2.0, "k", "A", &VectorClock::new(), 400);
    assert!(acked(&a), "A: {a:?}");
    assert!(
        sim.nodes()[s.index()].hints().contains_key(&h1),
        "the stand-in holds no hint for H1"
    );
    let before = sim.nodes()[s.index()].actor();
    sim.apply(Fault::Restart(h1));
    sim.run_until(sim.now().plus(wait));
    let stand_in = &sim.nodes()[s.index()];
    assert!(stand_in.hints().is_empty(), "the hint was not handed off");
    assert_eq!(
        stand_in.actor(),
        before,
        "a new epoch for a version it never issued"
    );
    settle_and_check(&mut sim, "k", &["A"]);
}
