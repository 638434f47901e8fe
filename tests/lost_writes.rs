//! The two reproduced losses of acknowledged writes (issue 8), judged by what clients see: each
//! test ends with a get through a home replica that must return the acknowledged value, and with
//! the history oracle, which must find nothing lost.
//!
//! Reproduction 1: a forwarded put was acknowledged by a node that was not a replica of the key
//! in its own view, and kept in its main store where nothing would ever move it.
//! Reproduction 2: a stand-in that had handed its hinted versions off issued its next dot for
//! the key under the same clock actor, so that dot's clock claimed the handed-off version, and a
//! client who read only the newer version superseded one it never saw.

use kvlab_core::{Config, Fault, Simulation, Time, VectorClock};
use kvlab_support::{acked, get, put, ring_walk, siblings, values};

/// Reproduction 1 for one seed; returns what a get through the first home returned at the end,
/// or `None` when the put was not acknowledged (which is allowed: nothing was promised).
fn forwarded_put_through_a_non_replica(seed: u64) -> Option<Vec<String>> {
    let cfg = Config {
        seed,
        nodes: 8,
        vnodes: 1,
        n: 3,
        r: 1,
        w: 1,
        anti_entropy_interval_ms: 200,
        ..Config::default()
    };
    let t_fail = cfg.t_fail_ms;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "t");
    let homes = &walk[..3];
    let (b, a) = (walk[3], walk[7]);
    sim.run_until(Time(500));
    for &h in homes {
        sim.apply(Fault::Crash(h));
    }
    sim.run_until(Time(500 + t_fail + 1_500));
    sim.apply(Fault::Crash(b));
    sim.apply(Fault::Restart(b));
    let reply = put(&mut sim, a.0, "t", "v", &VectorClock::new(), 1_000);
    let was_acked = acked(&reply);
    for &h in homes {
        sim.apply(Fault::Restart(h));
    }
    sim.run_until(sim.now().plus(60_000));
    let oracle = sim.history().final_check(&sim);
    assert!(oracle.ok(), "seed {seed}: the oracle finds {oracle}");
    if !was_acked {
        return None;
    }
    Some(values(&get(&mut sim, homes[0].0, "t", 1_000)))
}

#[test]
fn reproduction_1_a_forwarded_put_is_never_acknowledged_by_a_non_replica() {
    let mut acked = 0;
    for seed in 1..=40 {
        if let Some(values) = forwarded_put_through_a_non_replica(seed) {
            acked += 1;
            assert!(
                values.contains(&"v".to_string()),
                "seed {seed}: the acknowledged \"v\" is gone; a get through a home returned {values:?}"
            );
        }
    }
    // Whether the put is refused or coordinated by a real replica, no seed may lose it; the count
    // is reported so a reader sees which happened.
    eprintln!("{acked} of 40 forwarded puts acknowledged");
}

#[test]
fn reproduction_2_a_stand_in_does_not_claim_versions_it_handed_off() {
    let cfg = Config {
        seed: 5,
        nodes: 5,
        vnodes: 1,
        n: 3,
        r: 1,
        w: 1,
        anti_entropy_interval_ms: 0,
        ..Config::default()
    };
    let wait = cfg.t_fail_ms + 1_500;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2, h3, s) = (walk[0], walk[1], walk[2], walk[3]);
    sim.run_until(Time(500));

    // 1. H1 down; H3 cut off briefly; a blind put A through S is held by S as a hint for H1.
    sim.apply(Fault::Crash(h1));
    sim.run_until(sim.now().plus(wait));
    sim.apply(Fault::Partition(vec![h3]));
    let a = put(&mut sim, s.0, "k", "A", &VectorClock::new(), 400);
    assert!(acked(&a), "A: {a:?}");
    sim.apply(Fault::Heal);
    sim.apply(Fault::Restart(h1));
    sim.run_until(sim.now().plus(wait));
    assert!(
        sim.nodes()[s.index()].hints().is_empty(),
        "S handed A off to H1 and dropped the hint"
    );

    // 2. H1 down again; a blind put B through S.
    sim.apply(Fault::Crash(h1));
    sim.run_until(sim.now().plus(wait));
    let b = put(&mut sim, s.0, "k", "B", &VectorClock::new(), 400);
    assert!(acked(&b), "B: {b:?}");

    // 3. A client reads through H3 (R = 1), sees only B, and writes C over what it read.
    let read = get(&mut sim, h3.0, "k", 400);
    assert_eq!(values(&read), vec!["B".to_string()], "H3 never saw A");
    let (_, ctx) = siblings(&read);
    let c = put(&mut sim, h3.0, "k", "C", &ctx, 400);
    assert!(acked(&c), "C: {c:?}");

    // 4. Heal; let handoff and read repair run; A must still be there, next to C.
    sim.apply(Fault::Restart(h1));
    sim.run_until(sim.now().plus(10_000));
    let oracle = sim.history().final_check(&sim);
    let second = sim.check_acked_writes();
    if oracle.ok() != (second.fully_replicated == second.acked) {
        eprintln!(
            "the oracle and check_acked_writes disagree; the oracle wins: {oracle} / {second:?}"
        );
    }
    assert!(oracle.ok(), "the oracle finds {oracle}");
    for h in [h1, h2, h3] {
        // Reads through each home (R = 1 answers from the first reply, so read twice: the first
        // read's repair brings every replica the merged set).
        get(&mut sim, h.0, "k", 1_000);
    }
    for h in [h1, h2, h3] {
        let values = values(&get(&mut sim, h.0, "k", 1_000));
        assert!(
            values.contains(&"A".to_string()),
            "through {h}: A, acknowledged and never read, is gone: {values:?}"
        );
        assert!(values.contains(&"C".to_string()), "through {h}: {values:?}");
    }
}
