//! Gossip, sloppy quorum and anti-entropy (docs/protocol.md) under faults: gossip detects a crash, sloppy quorum with hinted handoff, Merkle
//! anti-entropy restores a wiped replica.

use kvlab_core::{
    Config, Fault, NodeEvent, NodeId, ReplyBody, Scenario, Simulation, Time, TraceKind, VectorClock,
};
use kvlab_support::{all_see_alive, cfg, put, ring_walk};

#[test]
fn gossip_marks_a_crashed_node_offline_in_every_live_view_then_alive_again() {
    let mut sim = Simulation::new(cfg(8, 21)).unwrap();
    sim.run_until(Time(1_000));
    for n in sim.nodes() {
        assert!(n
            .membership()
            .members()
            .iter()
            .all(|m| m.status == kvlab_core::MemberStatus::Alive));
    }
    sim.apply(Fault::Crash(NodeId(3)));
    let crashed_at = sim.now();
    let bound = crashed_at.plus(sim.config().t_fail_ms + 2_000);
    let mut detected_at = None;
    while sim.now() < bound {
        sim.step_round();
        let all = sim
            .nodes()
            .iter()
            .filter(|n| n.id() != NodeId(3))
            .all(|n| !n.membership().is_alive(NodeId(3)));
        if all {
            detected_at = Some(sim.now());
            break;
        }
    }
    let t = detected_at.expect("every live node marks S3 offline within t_fail + 2 s");
    assert!(
        t.since(crashed_at) >= sim.config().t_fail_ms,
        "not before t_fail"
    );
    sim.apply(Fault::Restart(NodeId(3)));
    sim.run_until(sim.now().plus(2_000));
    assert!(all_see_alive(&sim, NodeId(3)));
    assert_eq!(sim.stats().false_suspicions, 0);
}

#[test]
fn hinted_handoff_delivers_to_the_recovered_owner_and_drops_the_hint() {
    let sc = Scenario::sloppy_quorum();
    let mut sim = sc.simulation();
    let walk = ring_walk(&sim, "cart");
    let (coord, owner, stand_in) = (walk[0], walk[2], walk[3]);

    sim.run_until(Time(500));
    sim.apply(Fault::Crash(owner));
    sim.run_until(Time(500 + sim.config().t_fail_ms + 1_500));
    assert!(!sim.nodes()[coord.index()].membership().is_alive(owner));

    let r = put(
        &mut sim,
        coord.0,
        "cart",
        "hinted",
        &VectorClock::new(),
        400,
    );
    let ReplyBody::PutOk { version, .. } = r.body else {
        panic!("sloppy quorum write failed: {r:?}")
    };
    let held = &sim.nodes()[stand_in.index()].hints()[&owner];
    assert!(
        held.contains_key("cart"),
        "the stand-in holds the replica under a hint for {owner}"
    );
    assert!(
        sim.nodes()[stand_in.index()].versions("cart").is_none(),
        "kept apart from its own data"
    );

    sim.apply(Fault::Restart(owner));
    let deadline = sim.now().plus(40 * sim.config().gossip_interval_ms);
    while sim.now() < deadline && !sim.nodes()[stand_in.index()].hints().is_empty() {
        sim.step_round();
    }
    let owner_set = sim.nodes()[owner.index()]
        .versions("cart")
        .expect("owner received the handoff");
    assert_eq!(owner_set.versions().len(), 1);
    assert_eq!(
        owner_set.versions()[0].dot,
        version.dot,
        "same version, same clock"
    );
    assert_eq!(owner_set.versions()[0].clock(), version.clock());
    assert!(
        sim.nodes()[stand_in.index()].hints().is_empty(),
        "hint deleted after the ack"
    );
    assert!(
        sim.nodes()[stand_in.index()].versions("cart").is_none(),
        "and no copy left behind"
    );
    let delivered = sim.trace().iter().any(|e| matches!(&e.kind, TraceKind::Node { event: NodeEvent::HintDelivered { owner: o, .. }, .. } if *o == owner));
    assert!(delivered);
}

#[test]
fn merkle_anti_entropy_restores_a_wiped_replica_completely() {
    let mut sim = Simulation::new(Config {
        nodes: 5,
        r: 1,
        w: 1,
        anti_entropy_interval_ms: 200,
        ..cfg(5, 33)
    })
    .unwrap();
    for i in 0..200u16 {
        sim.submit(
            NodeId(i % 5),
            kvlab_core::Request::Put {
                key: format!("key{i}").into(),
                value: format!("value {i}").as_str().into(),
                context: VectorClock::new(),
            },
        );
        sim.run_until(sim.now().plus(5));
    }
    sim.run_until(sim.now().plus(3_000));
    let before = sim.nodes()[2].store().len();
    assert!(before > 50, "S2 holds a share of the keys ({before})");
    sim.apply(Fault::Wipe(NodeId(2)));
    assert_eq!(sim.nodes()[2].store().len(), 0);
    assert!(!sim.check_convergence().ok());
    // Every range S2 replicates gets compared within ranges × interval.
    let ranges = sim.nodes()[2].ranges().count() as u64;
    sim.run_until(sim.now().plus(ranges * 200 * 3 + 2_000));
    assert_eq!(sim.nodes()[2].store().len(), before, "every key restored");
    let conv = sim.check_convergence();
    assert!(conv.ok(), "diverged ranges: {:?}", conv.diverged);
    let report = sim.check_acked_writes();
    assert_eq!(report.acked, 200);
    assert_eq!(report.fully_replicated, 200, "{report:?}");
}

#[test]
fn merkle_syncs_only_the_differing_buckets() {
    let sc = Scenario::merkle_repair();
    let mut sim = sc.simulation_at(1);
    sc.run_step(&mut sim, 2);
    let synced: Vec<(u32, u64)> = sim
        .trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Node {
                event: NodeEvent::MerkleSynced { buckets, keys, .. },
                ..
            } => Some((buckets.len() as u32, *keys)),
            _ => None,
        })
        .collect();
    assert!(!synced.is_empty(), "some bucket differed");
    let buckets: u32 = synced.iter().map(|s| s.0).sum();
    assert!(
        buckets <= 2 * 3 * 2,
        "only the buckets of the 3 missed keys (per peer, both ways): {synced:?}"
    );
    let conv = sim.check_convergence();
    assert!(conv.ok(), "{conv:?}");
}
