//! The history oracle on whole simulations: its live verdict (what the page shows), its bounded
//! mode (what a page left open for hours uses), and its disagreement with the store's own
//! counter-based checker, which it overrules.

use kvlab_core::{Config, ConflictMode, Ratio, Simulation, Time, Workload};

fn workload(clients: u32, keys: u64) -> Workload {
    Workload {
        clients,
        keys,
        think_ms: 5,
        ..Workload::default()
    }
}

#[test]
fn a_bounded_history_stays_bounded_and_keeps_judging() {
    let mut sim = Simulation::new(Config {
        seed: 3,
        nodes: 8,
        ..Config::default()
    })
    .unwrap();
    sim.set_trace_capacity(0);
    sim.set_history_bound(Some(5_000));
    sim.start_workload(workload(32, 200));
    sim.run_until(Time(30_000));
    let (writes_30, kept_30) = (sim.history().writes(), sim.history().remembered());
    sim.run_until(Time(120_000));
    let (writes_120, kept_120) = (sim.history().writes(), sim.history().remembered());
    assert!(
        writes_120 > 3 * writes_30,
        "{writes_30} → {writes_120} writes"
    );
    assert!(
        kept_30 > 0 && kept_120 > 0,
        "it remembers the open writes at least"
    );
    assert!(
        kept_120 as f64 <= 1.3 * kept_30 as f64 + 500.0,
        "remembered {kept_30} at 30 s and {kept_120} at 120 s: the window does not bound it"
    );
    assert!(sim.acked_writes().len() <= kvlab_core::ACKED_KEPT);
    let v = sim.history().live(&sim);
    assert_eq!((v.lost, v.violations), (0, 0), "{v:?}");
    assert!(v.acked > 10_000 && v.superseded > 0, "{v:?}");
}

#[test]
fn the_live_verdict_sees_last_write_wins_drop_acknowledged_writes() {
    // Negative control of the page's check: concurrent read-modify-writes on a few keys under
    // last-write-wins overwrite acknowledged writes nobody read; no node holds them any more.
    for bounded in [false, true] {
        let mut sim = Simulation::new(Config {
            seed: 11,
            nodes: 5,
            conflict_mode: ConflictMode::LastWriteWins,
            ..Config::default()
        })
        .unwrap();
        if bounded {
            sim.set_history_bound(Some(500));
        }
        sim.start_workload(Workload {
            blind_ratio: Ratio::percent(50),
            ..workload(8, 2)
        });
        sim.run_until(Time(10_000));
        let v = sim.history().live(&sim);
        assert!(v.lost > 0, "bounded {bounded}: {v:?}");
    }
}

#[test]
fn with_pruning_the_oracle_overrules_the_counter_checker() {
    // Pruning drops clock entries, so a version whose pruned context no longer names a write it
    // superseded looks "not covered" to the counter-based checker, though its writer read it.
    let (mut flagged_by_counters, mut flagged_by_oracle) = (0, 0);
    for seed in 1..=20 {
        let mut sim = Simulation::new(Config {
            seed,
            nodes: 6,
            vnodes: 2,
            r: 1,
            w: 1,
            clock_prune_threshold: 2,
            anti_entropy_interval_ms: 200,
            ..Config::default()
        })
        .unwrap();
        sim.start_workload(workload(6, 3));
        sim.run_until(Time(4_000));
        sim.stop_workload();
        sim.run_until(Time(12_000));
        let second = sim.check_acked_writes();
        flagged_by_counters += u32::from(second.fully_replicated != second.acked);
        flagged_by_oracle += u32::from(!sim.history().final_check(&sim).ok());
    }
    assert_eq!(flagged_by_oracle, 0);
    eprintln!("the counter-based checker flagged {flagged_by_counters} of 20 pruning runs");
    assert!(
        flagged_by_counters > 0,
        "the counter checker's known false alarm is shown"
    );
}
