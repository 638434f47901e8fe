//! The quorum path: N/R/W, forwarding, timeouts, read repair, and bad input.

use kvlab_core::{
    Config, Fault, NodeId, ReplyBody, Request, RequestError, Simulation, Time, Value, VectorClock,
};
use kvlab_support::{cfg, get, put, run_to, siblings};

#[test]
fn a_write_reaches_n_replicas_and_any_node_can_read_it() {
    let mut sim = Simulation::new(cfg(8, 7)).unwrap();
    let r = put(&mut sim, 5, "apple", "red", &VectorClock::new(), 500);
    assert!(matches!(r.body, ReplyBody::PutOk { .. }), "{r:?}");
    let holders = sim
        .nodes()
        .iter()
        .filter(|n| n.versions("apple").is_some())
        .count();
    assert_eq!(holders, 3, "N = 3 replicas hold the key");
    for via in 0..8 {
        let (v, _) = siblings(&get(&mut sim, via, "apple", 400));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].value, Value::from("red"));
    }
}

#[test]
fn write_times_out_without_w_replicas_and_says_how_many_answered() {
    let mut sim = Simulation::new(Config {
        nodes: 3,
        w: 3,
        ..cfg(3, 1)
    })
    .unwrap();
    sim.apply(Fault::Crash(NodeId(2)));
    let r = put(&mut sim, 0, "k", "v", &VectorClock::new(), 1_000);
    match r.body {
        ReplyBody::Failed(RequestError::Timeout { got, needed }) => {
            assert_eq!((got, needed), (2, 3));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn read_repair_fixes_a_stale_replica() {
    let mut sim = Simulation::new(Config {
        r: 1,
        w: 1,
        anti_entropy_interval_ms: 0,
        ..cfg(3, 3)
    })
    .unwrap();
    // Cut S2 off while writing so it misses the write, then heal before gossip suspects anyone.
    sim.apply(Fault::Partition(vec![NodeId(2)]));
    put(&mut sim, 0, "k", "v", &VectorClock::new(), 200);
    sim.apply(Fault::Heal);
    assert!(
        sim.nodes()[2].versions("k").is_none(),
        "S2 missed the write"
    );
    get(&mut sim, 0, "k", 400);
    assert!(
        sim.nodes()[2].versions("k").is_some(),
        "read repair brought S2 up to date"
    );
    assert!(
        sim.nodes()
            .iter()
            .map(|n| n.stats().read_repairs)
            .sum::<u64>()
            >= 1
    );
}

#[test]
fn bad_requests_get_an_error_reply_and_disturb_nothing() {
    let mut sim = Simulation::new(cfg(4, 9)).unwrap();
    put(&mut sim, 0, "ok", "1", &VectorClock::new(), 300);
    let before = sim.stats().puts_ok;
    let cases: Vec<(u16, Request, RequestError)> = vec![
        (0, Request::Get { key: "".into() }, RequestError::EmptyKey),
        (
            0,
            Request::Get {
                key: "x".repeat(1025).into(),
            },
            RequestError::KeyTooLong,
        ),
        (
            1,
            Request::Put {
                key: "big".into(),
                value: Value::from(vec![0u8; 1024 * 1024 + 1]),
                context: VectorClock::new(),
            },
            RequestError::ValueTooLarge,
        ),
        (
            99,
            Request::Get { key: "ok".into() },
            RequestError::UnknownNode,
        ),
    ];
    for (via, request, want) in cases {
        let req = sim.submit(NodeId(via), request);
        sim.run_until(sim.now().plus(50));
        match &sim.reply(req).expect("an immediate reply").body {
            ReplyBody::Failed(e) => assert_eq!(*e, want),
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }
    assert_eq!(sim.stats().puts_ok, before);
    let (v, _) = siblings(&get(&mut sim, 2, "ok", 300));
    assert_eq!(v[0].value, Value::from("1"));
}

#[test]
fn invalid_config_names_the_field() {
    let err = Simulation::new(Config {
        w: 4,
        ..Config::default()
    })
    .unwrap_err();
    assert_eq!(err.field, "w");
    let err = Simulation::new(Config {
        n: 9,
        nodes: 8,
        ..Config::default()
    })
    .unwrap_err();
    assert_eq!(err.field, "n");
}

#[test]
fn blind_writes_become_siblings_not_silent_overwrites() {
    let mut sim = Simulation::new(cfg(5, 4)).unwrap();
    put(&mut sim, 0, "k", "a", &VectorClock::new(), 300);
    put(&mut sim, 0, "k", "b", &VectorClock::new(), 300);
    let (v, ctx) = siblings(&get(&mut sim, 1, "k", 300));
    assert_eq!(
        v.len(),
        2,
        "a write that did not read 'a' must not erase it"
    );
    put(&mut sim, 3, "k", "merged", &ctx, 300);
    let (v, _) = siblings(&get(&mut sim, 2, "k", 300));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].value, Value::from("merged"));
    assert!(sim.now() > Time(0));
}

/// The page shows where a request went: the forward from a node off the key's preference list to
/// its first node, and the replicas that coordinator asked, stand-ins with the home they hold a
/// hint for.
#[test]
fn a_requests_route_shows_its_forward_and_its_replicas_with_hints() {
    let mut sim = Simulation::new(cfg(6, 3)).unwrap();
    let walk = kvlab_support::ring_walk(&sim, "k");
    run_to(&mut sim, 300);
    let r = put(&mut sim, walk[3].0, "k", "v", &VectorClock::new(), 500);
    assert_eq!(r.coordinator, walk[0], "{r:?}");
    let route = sim.route(r.req).expect("a request by hand keeps its route");
    assert_eq!(route.forwards, vec![(walk[3], walk[0])]);
    let mut asked = route.replicas.clone();
    asked.sort();
    let mut homes = vec![(walk[1], None), (walk[2], None)];
    homes.sort();
    assert_eq!(
        asked, homes,
        "the coordinator writes itself and asks the two other homes"
    );

    // With the second home down and known to be, its replica goes to the next node, with a hint.
    sim.apply(Fault::Crash(walk[1]));
    let t = sim.now().ms() + sim.config().t_fail_ms + 1_500;
    run_to(&mut sim, t);
    let r = put(&mut sim, walk[0].0, "k", "w", &VectorClock::new(), 500);
    let route = sim.route(r.req).unwrap();
    assert!(route.forwards.is_empty());
    assert!(
        route.replicas.contains(&(walk[3], Some(walk[1]))),
        "{route:?}"
    );
}
