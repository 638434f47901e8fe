//! Hand-built schedules that try to lose an acknowledged write, in the style of lost_writes.rs:
//! long partitions, blind writers on one key, stand-ins that hand off and coordinate again, a
//! stand-in for two owners, a wipe with hints pending, N = 5 with every home down. Each is judged
//! by the history oracle and by client gets through every home.
//!
//! The last test reproduced a loss the store allowed (a context carried over from another key);
//! the seal now binds a context to its key, and the test requires the put to be refused.

use kvlab_core::{Config, Fault, MsgKind, NodeId, ReplyBody, Simulation, Time, VectorClock};
use kvlab_support::{
    acked, get, put, ring_walk, settle_and_check, siblings, sparse_config, values,
};

/// Blind writers on both sides of a partition longer than t_cleanup (each side removes the other
/// from its membership), through homes and stand-ins alike; then a read-modify-write on one side
/// that saw only its own side's writes.
#[test]
fn blind_writers_on_both_sides_of_a_long_partition() {
    let cfg = sparse_config(2, 6, 3, 1, 1);
    let long = cfg.t_cleanup_ms + 3_000;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    sim.run_until(Time(500));
    // Side A: the first home and the stand-ins; side B: the other two homes.
    sim.apply(Fault::Partition(vec![walk[1], walk[2]]));
    sim.run_until(sim.now().plus(long));
    let mut held = Vec::new();
    for (i, via) in [walk[0], walk[3], walk[1], walk[2], walk[4], walk[5]]
        .into_iter()
        .enumerate()
    {
        let v = format!("b{i}");
        let r = put(&mut sim, via.0, "k", &v, &VectorClock::new(), 400);
        if acked(&r) {
            held.push(v);
        }
    }
    assert!(
        held.len() >= 4,
        "most blind puts are acknowledged: {held:?}"
    );
    // A read on side B (through a home of that side) and a write over what it read.
    let read = get(&mut sim, walk[2].0, "k", 400);
    let (seen, ctx) = siblings(&read);
    assert!(!seen.is_empty());
    let c = put(&mut sim, walk[2].0, "k", "c", &ctx, 400);
    assert!(acked(&c), "c: {c:?}");
    let seen: Vec<String> = seen.iter().map(|v| v.value.to_text()).collect();
    let must: Vec<&str> = held
        .iter()
        .map(String::as_str)
        .filter(|v| !seen.iter().any(|s| s == v))
        .chain(["c"])
        .collect();
    settle_and_check(&mut sim, "k", &must);
}

/// One stand-in holds hints for two different owners of one key at once: H1 is back in its view
/// but H1's handoff died with H1, and H2 is down. It coordinates between the two handoffs, and a
/// client then reads through a home with R = 1 and writes over the partial view it got.
#[test]
fn a_stand_in_for_two_owners_hands_off_and_coordinates_again() {
    let cfg = sparse_config(7, 5, 3, 1, 1);
    let wait = cfg.t_fail_ms + 1_500;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let (h1, h2, h3, s) = (walk[0], walk[1], walk[2], walk[3]);
    sim.run_until(Time(500));

    // H1 and H2 down: A is held by S (for H1), by walk[4] (for H2) and by H3.
    sim.apply(Fault::Crash(h1));
    sim.apply(Fault::Crash(h2));
    sim.run_until(sim.now().plus(wait));
    let a = put(&mut sim, s.0, "k", "A", &VectorClock::new(), 400);
    assert!(acked(&a), "A: {a:?}");
    assert!(sim.nodes()[s.index()].hints().contains_key(&h1));

    // H1 comes back; S's handoff to it dies with it, but S now believes H1 alive.
    sim.apply(Fault::Restart(h1));
    let mut steps = 0;
    while !sim
        .in_flight()
        .any(|m| m.kind == MsgKind::Handoff && m.from == s && m.to == h1)
    {
        assert!(
            sim.step().is_some() && steps < 200_000,
            "S never handed off"
        );
        steps += 1;
    }
    sim.apply(Fault::Crash(h1));
    // Within t_fail S still counts H1 alive and H2 dead: it stands in for H2 and holds B (with A).
    let b = put(&mut sim, s.0, "k", "B", &VectorClock::new(), 400);
    assert!(acked(&b), "B: {b:?}");
    let hints = sim.nodes()[s.index()].hints();
    assert!(
        hints.contains_key(&h1) && hints.contains_key(&h2),
        "S holds hints for two owners: {:?}",
        hints.keys().collect::<Vec<_>>()
    );

    // H1 back for good: S hands A off to it and drops that hint (a new epoch); H2 is still down,
    // so S coordinates C as H2's stand-in again.
    sim.apply(Fault::Restart(h1));
    sim.run_until(sim.now().plus(wait));
    assert!(!sim.nodes()[s.index()].hints().contains_key(&h1));
    let c = put(&mut sim, s.0, "k", "C", &VectorClock::new(), 400);
    assert!(acked(&c), "C: {c:?}");

    // A read through H3 alone, and a write over what it returned.
    let read = get(&mut sim, h3.0, "k", 400);
    let (seen, ctx) = siblings(&read);
    let d = put(&mut sim, h3.0, "k", "D", &ctx, 400);
    assert!(acked(&d), "D: {d:?}");
    let seen: Vec<String> = seen.iter().map(|v| v.value.to_text()).collect();
    let must: Vec<&str> = ["A", "B", "C", "D"]
        .into_iter()
        .filter(|v| !seen.iter().any(|s| s == v))
        .collect();
    settle_and_check(&mut sim, "k", &must);
}

/// N = 5 on seven nodes with every home down: the two stand-ins take W = 2 writes for the first
/// two owners only; homes come back one at a time, with blind writes and handoffs in between, and
/// a stand-in is wiped while it still holds hints.
#[test]
fn n5_every_home_down_then_back_one_by_one_with_a_wipe() {
    let cfg = sparse_config(5, 7, 5, 2, 2);
    let wait = cfg.t_fail_ms + 1_500;
    let mut sim = Simulation::new(cfg).unwrap();
    let walk = ring_walk(&sim, "k");
    let homes = walk[..5].to_vec();
    let (s6, s7) = (walk[5], walk[6]);
    sim.run_until(Time(500));
    for &h in &homes {
        sim.apply(Fault::Crash(h));
    }
    sim.run_until(sim.now().plus(wait));
    let mut held = Vec::new();
    for (i, via) in [s6, s7, s6].into_iter().enumerate() {
        let v = format!("x{i}");
        let r = put(&mut sim, via.0, "k", &v, &VectorClock::new(), 400);
        assert!(acked(&r), "{v}: {r:?}");
        held.push(v);
    }
    for (i, &h) in homes.iter().enumerate() {
        sim.apply(Fault::Restart(h));
        sim.run_until(sim.now().plus(wait));
        let v = format!("y{i}");
        let r = put(&mut sim, s7.0, "k", &v, &VectorClock::new(), 400);
        if acked(&r) {
            held.push(v);
        }
        if i == 1 {
            // S6 may still hold hints for owners not yet back; W = 2 put a copy elsewhere.
            sim.apply(Fault::Wipe(s6));
        }
    }
    let must: Vec<&str> = held.iter().map(String::as_str).collect();
    settle_and_check(&mut sim, "k", &must);
}

/// A loss the store allowed until the seal was bound to the key: the context seal (`InvalidContext`) checks each counter against what
/// its actor issued for *any* key, and since a node's counters are node-wide (the `issued` floor)
/// a context read from another key routinely names counters above this key's versions. A put
/// with it is accepted and supersedes versions of this key that nobody read.
///
/// Here A is written to "a" through H (dot [H,1]), then X to "b" through H (dot [H,2]); a client
/// reads "b" (context [H,2]) and writes "a" with that context: the write is acknowledged and A,
/// acknowledged and never read, is gone from every replica. Riak binds a context to its object;
/// here the seal would have to record the highest counter per (actor, key), or the context carry
/// its key.
#[test]
fn a_context_from_another_key_is_refused() {
    let mut sim = Simulation::new(sparse_config(9, 3, 3, 1, 1)).unwrap();
    let h = NodeId(0);
    sim.run_until(Time(500));
    let a = put(&mut sim, h.0, "a", "A", &VectorClock::new(), 400);
    assert!(acked(&a), "A: {a:?}");
    let x = put(&mut sim, h.0, "b", "X", &VectorClock::new(), 400);
    assert!(acked(&x), "X: {x:?}");
    let (_, ctx_b) = siblings(&get(&mut sim, h.0, "b", 400));
    let c = put(&mut sim, h.0, "a", "C", &ctx_b, 400);
    assert_eq!(
        c.body,
        ReplyBody::Failed(kvlab_core::RequestError::InvalidContext),
        "a context read from another key must not supersede this key's versions"
    );
    settle_and_check(&mut sim, "a", &["A"]);
}

/// The version a put reply shows, and its clock.
fn written(reply: &kvlab_core::Reply) -> kvlab_core::Version {
    match &reply.body {
        ReplyBody::PutOk { version, .. } => version.clone(),
        other => panic!("expected PutOk, got {other:?}"),
    }
}

/// The oracle counts a put's reply as a read for puts by hand (the §2 tour writes D2 with the
/// context D1's reply showed). A blind write through the coordinator of an earlier blind sibling
/// gets the next counter, so its clock, `[H,2]`, also claims the sibling `[H,1]`: the reply must
/// show that sibling too (the coordinator's whole set, as Riak's `return_body`), so a client who
/// passes the reply's context back has seen everything it covers. Before the reply carried the
/// set, this schedule lost D1, which no reply had shown.
#[test]
fn a_put_reply_shows_every_version_its_context_covers() {
    let mut sim = Simulation::new(sparse_config(12, 3, 3, 2, 2)).unwrap();
    let h = ring_walk(&sim, "k")[0];
    sim.run_until(Time(500));
    let d1 = put(&mut sim, h.0, "k", "D1", &VectorClock::new(), 400);
    let d1b = put(&mut sim, h.0, "k", "D1b", &VectorClock::new(), 400);
    let ReplyBody::PutOk {
        version,
        siblings,
        context,
    } = &d1b.body
    else {
        panic!("D1b: {d1b:?}")
    };
    assert_eq!(
        version.clock().counter(h),
        written(&d1).dot.counter + 1,
        "D1b's clock claims D1's dot"
    );
    let mut shown: Vec<&str> = siblings
        .iter()
        .map(|v| std::str::from_utf8(v.value.as_bytes()).unwrap())
        .collect();
    shown.sort();
    assert_eq!(shown, vec!["D1", "D1b"], "the reply shows D1 next to D1b");
    let d2 = put(&mut sim, h.0, "k", "D2", context, 400);
    assert!(acked(&d2), "D2: {d2:?}");
    sim.run_until(sim.now().plus(3_000));
    assert_eq!(values(&get(&mut sim, h.0, "k", 400)), vec!["D2"]);
    let oracle = sim.history().final_check(&sim);
    assert_eq!((oracle.lost, oracle.superseded), (0, 2), "{oracle}");
}

/// The seal binds a context to its key by the highest counter each actor issued for the key; a
/// context from another key whose counter lies *below* that highest one passes it all the same, and
/// claims this key's older versions that nobody read. Here A1 is `[H,1]` on "a", X is `[H,2]` on
/// "b", A3 is `[H,3]` on "a" (a blind sibling of A1); X's clock `[H,2]` passed to "a" would drop A1.
#[test]
fn a_context_from_another_key_below_the_keys_counter_is_refused() {
    let mut sim = Simulation::new(sparse_config(9, 3, 3, 1, 1)).unwrap();
    let h = NodeId(0);
    sim.run_until(Time(500));
    let a1 = put(&mut sim, h.0, "a", "A1", &VectorClock::new(), 400);
    let x = put(&mut sim, h.0, "b", "X", &VectorClock::new(), 400);
    let a3 = put(&mut sim, h.0, "a", "A3", &VectorClock::new(), 400);
    assert!(acked(&a1) && acked(&x) && acked(&a3));
    let ctx_b = written(&x).clock();
    assert_eq!(ctx_b.counter(h), 2);
    let c = put(&mut sim, h.0, "a", "C", &ctx_b, 400);
    assert_eq!(
        c.body,
        ReplyBody::Failed(kvlab_core::RequestError::InvalidContext),
        "a context read from another key must not supersede this key's versions"
    );
    settle_and_check(&mut sim, "a", &["A1", "A3"]);
}

/// `Simulation::route` keeps the routes of the latest requests by hand. Many requests in flight at
/// once (each forwarded by a node off the key's list) must not leave a route that lost its
/// forward: an evicted request's later messages start no new, partial route.
#[test]
fn routes_of_many_requests_in_flight_stay_bounded_and_whole() {
    let mut sim = Simulation::new(sparse_config(3, 6, 3, 2, 2)).unwrap();
    let walk = ring_walk(&sim, "k");
    sim.run_until(Time(300));
    let reqs: Vec<_> = (0..400)
        .map(|i| {
            sim.submit(
                walk[3],
                kvlab_core::Request::Put {
                    key: "k".into(),
                    value: kvlab_core::Value::from(format!("v{i}").as_str()),
                    context: VectorClock::new(),
                },
            )
        })
        .collect();
    sim.run_until(sim.now().plus(2_000));
    let kept: Vec<_> = reqs.iter().filter_map(|&r| sim.route(r)).collect();
    assert_eq!(kept.len(), 256, "the newest 256 routes are kept");
    for route in kept {
        assert_eq!(route.forwards, vec![(walk[3], walk[0])], "{route:?}");
        assert_eq!(route.replicas.len(), 2, "{route:?}");
    }
    assert!(sim.route(*reqs.last().unwrap()).is_some());
}

/// Routes are for requests by hand: a workload's requests keep none. Read repair and hinted
/// handoff carry no request and are never shown as a request's replicas; a coordinator that
/// crashes before the forward arrives leaves the forward only.
#[test]
fn routes_skip_workloads_repairs_and_handoffs() {
    let mut sim = Simulation::new(Config {
        anti_entropy_interval_ms: 0,
        ..sparse_config(4, 6, 3, 3, 2)
    })
    .unwrap();
    let walk = ring_walk(&sim, "k");
    sim.start_workload(kvlab_core::Workload {
        clients: 4,
        keys: 8,
        think_ms: 5,
        ..kvlab_core::Workload::default()
    });
    sim.run_until(Time(1_000));
    let workload_reqs = sim.stats().requests;
    assert!(workload_reqs > 10, "{workload_reqs} requests");
    assert!((1..=workload_reqs).all(|i| sim.route(kvlab_core::RequestId(i)).is_none()));
    sim.stop_workload();
    sim.run_until(sim.now().plus(2_000));

    // A write that misses the third home (cut off, not yet suspected), then a read after the heal:
    // the read repairs the third home. The repair is not one of the read's replicas.
    sim.apply(Fault::Partition(vec![walk[2]]));
    let w = put(&mut sim, walk[0].0, "k", "v", &VectorClock::new(), 500);
    assert!(acked(&w), "{w:?}");
    sim.apply(Fault::Heal);
    let repairs = sim.stats().sent_by_kind[MsgKind::ReadRepair.index()];
    let r = get(&mut sim, walk[0].0, "k", 1_000);
    assert!(sim.stats().sent_by_kind[MsgKind::ReadRepair.index()] > repairs);
    let mut asked = sim.route(r.req).unwrap().replicas.clone();
    asked.sort();
    let mut homes = vec![(walk[1], None), (walk[2], None)];
    homes.sort();
    assert_eq!(asked, homes);

    // A write while the third home is down and known to be: a stand-in holds its hint and hands it
    // off after the restart; the handoff adds nothing to the write's route.
    sim.apply(Fault::Crash(walk[2]));
    sim.run_until(sim.now().plus(sim.config().t_fail_ms + 1_500));
    let handoffs = sim.stats().sent_by_kind[MsgKind::Handoff.index()];
    let w = put(&mut sim, walk[0].0, "k", "w", &VectorClock::new(), 500);
    assert!(acked(&w), "{w:?}");
    let route = sim.route(w.req).unwrap().clone();
    assert!(route.forwards.is_empty(), "{route:?}");
    assert!(
        route.replicas.contains(&(walk[3], Some(walk[2]))),
        "{route:?}"
    );
    sim.apply(Fault::Restart(walk[2]));
    sim.run_until(sim.now().plus(sim.config().t_fail_ms + 3_000));
    assert!(sim.stats().sent_by_kind[MsgKind::Handoff.index()] > handoffs);
    assert_eq!(sim.route(w.req), Some(&route), "the handoff added nothing");

    // The coordinator crashes while the forward is on its way.
    let req = sim.submit(walk[3], kvlab_core::Request::Get { key: "k".into() });
    sim.apply(Fault::Crash(walk[0]));
    sim.run_until(sim.now().plus(5_000));
    assert!(matches!(
        sim.reply(req).map(|r| &r.body),
        Some(ReplyBody::Failed(_))
    ));
    let route = sim.route(req).unwrap();
    assert_eq!(route.forwards, vec![(walk[3], walk[0])]);
    assert!(route.replicas.is_empty(), "{route:?}");
}

/// A context naming a node that never wrote this key claims writes nobody made to it: refused.
#[test]
fn a_context_naming_a_node_that_never_wrote_the_key_is_refused() {
    let mut sim = Simulation::new(sparse_config(4, 5, 3, 1, 1)).unwrap();
    sim.run_until(Time(500));
    let walk = ring_walk(&sim, "k");
    let a = put(&mut sim, walk[0].0, "k", "A", &VectorClock::new(), 400);
    assert!(acked(&a));
    let stranger = walk[4];
    let mut ctx = VectorClock::new();
    ctx.set(stranger, 1, Time::ZERO);
    let b = put(&mut sim, walk[0].0, "k", "B", &ctx, 400);
    assert_eq!(
        b.body,
        ReplyBody::Failed(kvlab_core::RequestError::InvalidContext),
        "{stranger} wrote nothing to k"
    );
}
