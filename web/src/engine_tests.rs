//! Native tests of the page's engine: step back is the exact inverse of stepping, a jump back
//! lands where a fresh run lands, tours run core's scenario data event for event, and the view
//! read-outs say what the store did. Chromium tests only what needs a browser.

use crate::engine::Engine;
use kvlab_core::{Config, Scenario};

fn small(seed: u64, clients: u32) -> Engine {
    let cfg = Config {
        seed,
        nodes: 6,
        ..Config::default()
    };
    Engine::new(cfg, clients).expect("a valid config")
}

#[test]
fn stepping_back_undoes_each_step_exactly() {
    let mut e = small(7, 4);
    let mut seen = vec![(e.events(), e.trace_hash())];
    for _ in 0..300 {
        e.step();
        seen.push((e.events(), e.trace_hash()));
    }
    assert!(
        seen.last().unwrap().0 >= 300,
        "every step processed an event"
    );
    while let Some(want) = seen.pop() {
        assert_eq!(
            (e.events(), e.trace_hash()),
            want,
            "back at {} events",
            want.0
        );
        if seen.is_empty() {
            break;
        }
        assert!(e.step_back(), "a snapshot reaches {} events", want.0);
    }
}

#[test]
fn a_jump_back_lands_where_a_fresh_run_lands() {
    let mut e = small(3, 8);
    e.jump_to(2_500);
    let at_2500 = (e.events(), e.trace_hash());
    e.jump_to(6_000);
    assert!(e.events() > at_2500.0);
    e.jump_to(2_500);
    assert_eq!((e.events(), e.trace_hash()), at_2500);
    let mut fresh = small(3, 8);
    fresh.jump_to(2_500);
    assert_eq!((fresh.events(), fresh.trace_hash()), at_2500);
}

#[test]
fn playing_at_any_frame_rate_runs_the_same_events() {
    // The display advances by wall time; the events run must not depend on how it is sliced.
    let mut a = small(11, 8);
    let mut b = small(11, 8);
    for _ in 0..200 {
        a.tick(16.0, 1.0, true);
    }
    for _ in 0..64 {
        b.tick(50.0, 1.0, true);
    }
    let t = a.now().max(b.now()) + 1;
    a.jump_to(t);
    b.jump_to(t);
    assert_eq!(a.trace_hash(), b.trace_hash());
}

#[test]
fn every_tour_runs_cores_scenario_event_for_event() {
    for sc in Scenario::all() {
        for step in 0..sc.steps.len() {
            let page = Engine::scenario(&sc.id, step, true).expect("a tour");
            let core = sc.simulation_at(step);
            assert_eq!(
                (page.events(), page.trace_hash()),
                (core.stats().events, core.trace_hash()),
                "{} step {}",
                sc.id,
                step + 1
            );
            assert_eq!(page.invariants().lost, 0, "{} step {}", sc.id, step + 1);
        }
    }
}

#[test]
fn next_then_back_returns_to_the_same_step() {
    let mut e = Engine::scenario("s2", 1, true).unwrap();
    let at1 = e.trace_hash();
    assert!(e.scenario_next());
    e.finish_auto();
    assert_ne!(e.trace_hash(), at1);
    assert!(e.scenario_back());
    assert_eq!(e.trace_hash(), at1);
    assert_eq!(e.scenario_view().unwrap().step, 1);
}

#[test]
fn the_console_reply_shows_the_forward_and_the_ring_shows_a_stand_ins_hint() {
    let mut e = Engine::new(
        Config {
            seed: 5,
            nodes: 8,
            ..Config::default()
        },
        0,
    )
    .unwrap();
    let mut forwarded = None;
    for via in 0..8 {
        e.put(via, "route-me", "v", "").unwrap();
        e.finish_auto();
        let r = e.console().into_iter().next().unwrap();
        assert!(r.ok, "{r:?}");
        if !r.forwards.is_empty() {
            forwarded = Some((via, r));
        }
    }
    let (via, r) = forwarded.expect("some node is off the key's list");
    let asked = e.names()[usize::from(via)].clone();
    assert_eq!(r.asked, asked);
    assert_eq!(r.forwards, vec![format!("{asked} → {}", r.coordinator)]);
    assert_eq!(r.replicas.len(), 2, "N = 3: the coordinator and two more");

    // The §4 tour: after its write, the ring draws the stand-in's line with the home it holds for.
    let e = Engine::scenario("s4", 2, true).unwrap();
    let ring = e.ring_view();
    let cart = ring.keys.iter().find(|k| k.key == "cart").unwrap();
    assert_eq!(cart.stand_ins.len(), 1, "{cart:?}");
    let (stand_in, home) = cart.stand_ins[0];
    assert!(!cart.pref.contains(&stand_in) && cart.pref.contains(&home));
}
