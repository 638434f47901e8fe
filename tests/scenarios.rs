//! Each guided tour (one per section of docs/protocol.md) runs to its end and does what its captions promise. The page
//! runs the same data, so these tests also guard the narration.

use kvlab_core::{MemberStatus, NodeEvent, NodeId, Scenario, Tier, TraceKind};
use kvlab_support::{all_see_alive, ring_walk};

#[test]
fn every_scenario_has_captions_and_valid_steps() {
    for sc in Scenario::all() {
        assert!(!sc.steps.is_empty(), "{}", sc.id);
        let mut last = 0;
        for s in &sc.steps {
            assert!(!s.caption.is_empty());
            assert!(s.until.ms() >= last, "{}: steps go forward in time", sc.id);
            last = s.until.ms();
        }
        sc.config.validate().unwrap();
    }
}

#[test]
fn s1_compresses_and_moves_cold_entries_to_disk_then_promotes_on_read() {
    let sc = Scenario::storage_tiers();
    let at1 = sc.simulation_at(1);
    let stats = at1.nodes()[0].store().stats();
    assert!(
        stats.compression_ratio < 0.8,
        "JSON documents compress: {stats:?}"
    );
    assert_eq!(stats.cold_entries, 0, "six documents fit in memory");

    let at2 = sc.simulation_at(2);
    let store = at2.nodes()[0].store();
    assert!(
        store.stats().cold_entries > 0,
        "the budget pushed entries to disk"
    );
    assert!(store.stats().hot_bytes <= 4_096);
    let tier = |sim: &kvlab_core::Simulation| {
        sim.nodes()[0]
            .store()
            .entries_for_ui()
            .into_iter()
            .find(|e| e.key.as_str() == "user:0")
            .map(|e| e.tier)
    };
    assert_eq!(tier(&at2), Some(Tier::Cold), "user:0 went cold");
    let at3 = sc.simulation_at(3);
    assert_eq!(tier(&at3), Some(Tier::Hot), "reading user:0 promoted it");
}

#[test]
fn s3_every_live_node_marks_the_crashed_node_offline_then_alive() {
    let sc = Scenario::gossip();
    let sim = sc.simulation_at(2);
    for n in sim.nodes().iter().filter(|n| n.id() != NodeId(3)) {
        let s3 = n.membership().get(NodeId(3)).map(|m| m.status);
        assert!(
            matches!(s3, Some(MemberStatus::Offline) | None),
            "{} sees S3 as {s3:?}",
            n.id()
        );
        assert!(!n.membership().is_alive(NodeId(3)));
    }
    let sim = sc.simulation_at(3);
    assert!(all_see_alive(&sim, NodeId(3)));
    assert_eq!(sim.stats().false_suspicions, 0);
}

#[test]
fn s4_hint_created_then_delivered() {
    let sc = Scenario::sloppy_quorum();
    let walk = ring_walk(&sc.simulation(), "cart");
    let (owner, stand_in) = (walk[2], walk[3]);
    let sim = sc.simulation_at(2);
    assert!(sim.nodes()[stand_in.index()]
        .hints()
        .get(&owner)
        .is_some_and(|h| h.contains_key("cart")));
    let sim = sc.simulation_at(3);
    assert!(sim.nodes()[stand_in.index()].hints().is_empty());
    assert!(sim.nodes()[owner.index()].versions("cart").is_some());
    assert!(sim.trace().iter().any(|e| matches!(
        &e.kind,
        TraceKind::Node {
            event: NodeEvent::HintDelivered { .. },
            ..
        }
    )));
}

#[test]
fn s5_syncs_few_buckets_then_restores_the_wiped_node() {
    let sc = Scenario::merkle_repair();
    let sim = sc.simulation_at(4);
    assert!(!sim.nodes()[1].store().is_empty());
    let conv = sim.check_convergence();
    assert!(conv.ok(), "{conv:?}");
    let report = sim.check_acked_writes();
    assert_eq!(report.fully_replicated, report.acked);
}

#[test]
fn no_false_suspicion_without_faults_or_loss() {
    let mut sim = kvlab_core::Simulation::new(kvlab_core::Config {
        nodes: 16,
        ..kvlab_core::Config::default()
    })
    .unwrap();
    sim.set_trace_capacity(0);
    sim.run_until(kvlab_core::Time(60_000));
    assert_eq!(sim.stats().false_suspicions, 0);
    for n in sim.nodes() {
        assert!(n
            .membership()
            .members()
            .iter()
            .all(|m| m.status == MemberStatus::Alive));
        assert_eq!(n.membership().members().len(), 16);
    }
}

/// The tours are the page's lessons: the oracle, judging by what their clients saw, must find
/// nothing wrong at the end of any step (a tour that shows "lost writes" teaches a broken store).
#[test]
fn every_tour_step_passes_the_oracle() {
    for sc in Scenario::all() {
        let mut sim = sc.simulation();
        for i in 0..sc.steps.len() {
            sc.run_step(&mut sim, i);
            let live = sim.history().live(&sim);
            assert_eq!(
                (live.lost, live.violations),
                (0, 0),
                "{} step {}: {:?}; examples {:?}",
                sc.id,
                i + 1,
                live,
                sim.history().examples()
            );
        }
        kvlab_support::assert_oracle_ok(&sim);
    }
}
