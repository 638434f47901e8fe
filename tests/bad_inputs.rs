//! Bad inputs to the public API of kvlab-core (issue 8, "Also found"): every one is refused with an
//! error naming the field, ignored, or clamped, and none panics, overflows or hangs.

use kvlab_core::{
    Config, Fault, Membership, Node, NodeId, Ratio, ReplyBody, Request, RequestError, Ring, Rng,
    Simulation, Time, TraceKind, Workload, Zipf, MAX_DURATION_MS, MAX_HOT_BUDGET_BYTES,
    MAX_LATENCY_MS, MAX_RING_TOKENS, MAX_VALUE_BYTES,
};
use kvlab_support::{cfg, get, put};
use std::sync::Arc;

fn ids(n: u16) -> Vec<NodeId> {
    (0..n).map(NodeId).collect()
}

/// The field `validate` blames for `c`, or `None` if it passes.
fn blamed(c: &Config) -> Option<&'static str> {
    c.validate().err().map(|e| e.field)
}

// --- 1. Config values near u64::MAX ---------------------------------------------------------

#[test]
fn every_timing_field_near_u64_max_is_refused_naming_it() {
    type Set = fn(&mut Config, u64);
    let fields: [(&str, Set); 5] = [
        ("request_timeout_ms", |c, v| c.request_timeout_ms = v),
        ("gossip_interval_ms", |c, v| c.gossip_interval_ms = v),
        ("t_fail_ms", |c, v| c.t_fail_ms = v),
        ("t_cleanup_ms", |c, v| c.t_cleanup_ms = v),
        ("anti_entropy_interval_ms", |c, v| {
            c.anti_entropy_interval_ms = v
        }),
    ];
    for (field, set) in fields {
        for v in [u64::MAX, u64::MAX / 2, MAX_DURATION_MS + 1] {
            let mut c = Config::default();
            set(&mut c, v);
            let err = c.validate().expect_err(field);
            assert_eq!(err.field, field, "{field} = {v}: {err}");
            assert!(err.rule.contains(&MAX_DURATION_MS.to_string()), "{err}");
            assert!(Simulation::new(c).is_err());
        }
    }
    let c = Config {
        latency_max_ms: u64::MAX,
        request_timeout_ms: MAX_DURATION_MS,
        ..Config::default()
    };
    assert_eq!(blamed(&c), Some("latency_max_ms"));
    let c = Config {
        latency_min_ms: u64::MAX,
        latency_max_ms: u64::MAX,
        ..Config::default()
    };
    assert_eq!(blamed(&c), Some("latency_max_ms"));
    let c = Config {
        hot_budget_bytes: u64::MAX,
        ..Config::default()
    };
    assert_eq!(blamed(&c), Some("hot_budget_bytes"));
}

/// Every timing field at its largest allowed value: the cluster builds, serves and runs.
fn config_at_the_limits() -> Config {
    Config {
        nodes: 4,
        latency_min_ms: MAX_LATENCY_MS,
        latency_max_ms: MAX_LATENCY_MS,
        request_timeout_ms: MAX_DURATION_MS,
        gossip_interval_ms: MAX_DURATION_MS - 2,
        t_fail_ms: MAX_DURATION_MS - 1,
        t_cleanup_ms: MAX_DURATION_MS,
        anti_entropy_interval_ms: MAX_DURATION_MS,
        hot_budget_bytes: MAX_HOT_BUDGET_BYTES,
        ..Config::default()
    }
}

#[test]
fn a_config_at_every_limit_builds_serves_and_runs() {
    let c = config_at_the_limits();
    c.validate().unwrap();
    let mut sim = Simulation::new(c).unwrap();
    let reply = put(
        &mut sim,
        0,
        "k",
        "v",
        &Default::default(),
        4 * MAX_LATENCY_MS,
    );
    assert!(matches!(reply.body, ReplyBody::PutOk { .. }), "{reply:?}");
    let reply = get(&mut sim, 1, "k", 4 * MAX_LATENCY_MS);
    assert!(matches!(reply.body, ReplyBody::GetOk { .. }), "{reply:?}");
    // Three days: every timer (gossip, anti-entropy, failure detection) fires at its period.
    let timers = sim.stats().events;
    sim.run_until(Time(3 * MAX_DURATION_MS));
    assert_eq!(sim.now(), Time(3 * MAX_DURATION_MS));
    assert!(sim.stats().events > timers + 8);
}

#[test]
fn a_node_built_from_an_unchecked_config_does_not_overflow() {
    // `Node::new` takes any config; the random phase plus the period used to overflow.
    let c = Arc::new(Config {
        anti_entropy_interval_ms: u64::MAX,
        gossip_interval_ms: u64::MAX,
        ..cfg(3, 1)
    });
    let ring = Arc::new(Ring::new(&ids(3), c.vnodes));
    let node = Node::new(NodeId(0), c, ring, Time(5));
    assert!(node.poll_timeout().is_some_and(|t| t > Time(5)));
}

#[test]
fn a_latency_fault_beyond_the_config_limit_is_ignored() {
    let mut sim = Simulation::new(cfg(4, 3)).unwrap();
    for (min_ms, max_ms) in [(1, u64::MAX), (1, MAX_LATENCY_MS + 1), (0, 10), (20, 10)] {
        sim.apply(Fault::Latency { min_ms, max_ms });
        // The client's patience used to add 2 × max_ms to the request timeout.
        let reply = put(&mut sim, 0, "k", "v", &Default::default(), 500);
        assert!(matches!(reply.body, ReplyBody::PutOk { .. }), "{reply:?}");
        let slowest = sim.config().latency_max_ms;
        assert!(
            sim.in_flight()
                .all(|m| m.deliver_at.since(m.sent_at) <= slowest),
            "latency {min_ms}..={max_ms} was applied"
        );
    }
    // At the limit it applies.
    sim.apply(Fault::Latency {
        min_ms: MAX_LATENCY_MS,
        max_ms: MAX_LATENCY_MS,
    });
    let _ = sim.submit(NodeId(0), Request::Get { key: "k".into() });
    sim.run_until(sim.now().plus(1));
    assert!(sim.in_flight().count() > 0);
    assert!(sim
        .in_flight()
        .all(|m| m.deliver_at.since(m.sent_at) <= MAX_LATENCY_MS));
    assert!(sim
        .in_flight()
        .any(|m| m.deliver_at.since(m.sent_at) == MAX_LATENCY_MS));
}

// --- 2. The partition group counter ---------------------------------------------------------

#[test]
fn seventy_thousand_partitions_keep_every_cut() {
    let mut sim = Simulation::new(cfg(4, 5)).unwrap();
    sim.set_trace_capacity(10_000);
    // Alternately cut S0 and S1 off: each gets a fresh group every time, S2 and S3 never move.
    sim.apply(Fault::Partition(vec![NodeId(1)]));
    for i in 0..70_000u32 {
        sim.apply(Fault::Partition(vec![NodeId((i % 2) as u16)]));
        let g = sim.partition_groups();
        assert!(
            g[0] != g[1] && g[0] != g[2] && g[1] != g[2] && g[2] == g[3],
            "after partition {}: groups {g:?}",
            i + 1
        );
    }
    // The cut still holds on the wire: gossip between the sides is dropped, never delivered.
    let from = sim.now();
    sim.run_until(from.plus(2_000));
    let g = sim.partition_groups().to_vec();
    let mut dropped = 0;
    for ev in sim.trace().iter().filter(|e| e.time > from) {
        match &ev.kind {
            TraceKind::Deliver { from, to, .. } => {
                assert_eq!(
                    g[from.index()],
                    g[to.index()],
                    "{from} → {to} crossed the cut"
                );
            }
            TraceKind::Drop { from, to, .. } if g[from.index()] != g[to.index()] => dropped += 1,
            _ => {}
        }
    }
    assert!(dropped > 0, "no message between the sides was dropped");
    sim.apply(Fault::Heal);
    assert!(sim.partition_groups().iter().all(|&x| x == 0));
}

// --- 3. Empty rings -----------------------------------------------------------------------------

fn assert_empty(ring: &Ring) {
    assert!(ring.tokens().is_empty());
    for pos in [0, 42, u64::MAX] {
        for n in [0, 1, 3, 100] {
            assert_eq!(ring.preference_list(pos, n), vec![]);
            let mut buf = vec![NodeId(7)];
            ring.preference_list_into(pos, n, &mut buf);
            assert_eq!(buf, vec![]);
        }
        assert_eq!(ring.walk(pos).count(), 0);
        assert_eq!(ring.primary(pos), None);
        assert_eq!(ring.range_of_key(pos), None);
        assert_eq!(ring.range_bounds(kvlab_core::RangeId(pos)), None);
    }
    assert_eq!(ring.ranges().count(), 0);
    for &node in ring.node_ids().iter().chain(&[NodeId(0), NodeId(999)]) {
        assert_eq!(ring.ranges_of(node), vec![]);
        assert_eq!(ring.ranges_replicated_by(node, 3), vec![]);
    }
}

#[test]
fn a_ring_with_zero_vnodes_is_empty_and_answers_nothing() {
    let ring = Ring::new(&ids(5), 0);
    assert_empty(&ring);
    let mut ring = ring;
    assert!(ring.add_node(NodeId(9)));
    assert_empty(&ring);
    assert!(ring.remove_node(NodeId(0)));
    assert_empty(&ring);
}

#[test]
fn a_ring_with_no_ids_is_empty_and_answers_nothing() {
    assert_empty(&Ring::new(&[], 8));
    assert_empty(&Ring::new(&[], 0));
    let mut ring = Ring::new(&ids(1), 4);
    assert!(ring.remove_node(NodeId(0)));
    assert_empty(&ring);
}

// --- 4. Ring size ---------------------------------------------------------------------------------

#[test]
fn nodes_times_vnodes_is_bounded_naming_vnodes_and_the_limit() {
    for (nodes, vnodes) in [(1024, 1024), (1024, 65), (65, 1024), (257, 256)] {
        let c = Config {
            nodes,
            vnodes,
            ..Config::default()
        };
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "vnodes", "{nodes} × {vnodes}: {err}");
        assert!(err.rule.contains(&MAX_RING_TOKENS.to_string()), "{err}");
    }
    // The largest rings allowed build (about 70 ms natively in a release build).
    for (nodes, vnodes) in [(1024, 64), (64, 1024)] {
        let sim = Simulation::new(Config {
            nodes,
            vnodes,
            ..Config::default()
        })
        .unwrap();
        assert_eq!(sim.ring().tokens().len(), MAX_RING_TOKENS as usize);
    }
}

// --- 5. Error messages ------------------------------------------------------------------------------

#[test]
fn every_config_error_names_a_config_field_and_states_its_rule() {
    let fields: Vec<String> = match serde_json::to_value(Config::default()).unwrap() {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("{other}"),
    };
    let d = Config::default;
    let bad = [
        Config { nodes: 0, ..d() },
        Config { nodes: 2000, ..d() },
        Config { vnodes: 0, ..d() },
        Config {
            vnodes: 2000,
            ..d()
        },
        Config {
            nodes: 1024,
            vnodes: 1024,
            ..d()
        },
        Config { n: 0, ..d() },
        Config { n: 9, ..d() },
        Config { r: 0, ..d() },
        Config { r: 4, ..d() },
        Config { w: 0, ..d() },
        Config { w: 4, ..d() },
        Config {
            latency_min_ms: 0,
            ..d()
        },
        Config {
            latency_min_ms: 40,
            ..d()
        },
        Config {
            latency_max_ms: u64::MAX,
            ..d()
        },
        Config {
            loss: Ratio::new(1, 0),
            ..d()
        },
        Config {
            loss: Ratio::new(3, 2),
            ..d()
        },
        Config {
            request_timeout_ms: 60,
            ..d()
        },
        Config {
            request_timeout_ms: u64::MAX,
            ..d()
        },
        Config {
            gossip_interval_ms: 0,
            ..d()
        },
        Config {
            gossip_interval_ms: u64::MAX,
            ..d()
        },
        Config { fanout: 0, ..d() },
        Config {
            t_fail_ms: 100,
            ..d()
        },
        Config {
            t_fail_ms: u64::MAX,
            ..d()
        },
        Config {
            t_cleanup_ms: 2_000,
            ..d()
        },
        Config {
            t_cleanup_ms: u64::MAX,
            ..d()
        },
        Config {
            merkle_buckets: 3,
            ..d()
        },
        Config {
            merkle_buckets: 1 << 17,
            ..d()
        },
        Config {
            anti_entropy_interval_ms: u64::MAX,
            ..d()
        },
        Config {
            hot_budget_bytes: u64::MAX,
            ..d()
        },
        Config {
            clock_prune_threshold: 1,
            ..d()
        },
        Config {
            node_names: vec!["a".into()],
            ..d()
        },
    ];
    let mut blamed_fields = std::collections::BTreeSet::new();
    for c in bad {
        let err = c.validate().expect_err("a broken config passed");
        assert!(
            fields.iter().any(|f| f == err.field),
            "{:?} is not a Config field",
            err.field
        );
        assert!(err.rule.starts_with("must "), "{err}");
        assert!(err.rule.len() <= 80, "not short: {err}");
        assert!(!err.rule.ends_with('.'), "{err}");
        assert_eq!(err.to_string(), format!("{}: {}", err.field, err.rule));
        blamed_fields.insert(err.field);
    }
    // Every field with a rule is covered above (seed and conflict_mode accept any value).
    assert_eq!(blamed_fields.len(), fields.len() - 2, "{blamed_fields:?}");
}

// --- Other inputs of the public API -------------------------------------------------------------

#[test]
fn unknown_node_ids_are_refused_or_ignored() {
    let mut sim = Simulation::new(cfg(4, 9)).unwrap();
    let ghost = NodeId(999);
    let req = sim.submit(ghost, Request::Get { key: "k".into() });
    sim.run_until(Time(10));
    assert!(matches!(
        sim.reply(req).map(|r| &r.body),
        Some(ReplyBody::Failed(RequestError::UnknownNode))
    ));
    for f in [
        Fault::Crash(ghost),
        Fault::Restart(ghost),
        Fault::Wipe(ghost),
        Fault::Partition(vec![ghost, NodeId(u16::MAX)]),
    ] {
        sim.apply(f);
    }
    sim.schedule(Time(20), kvlab_core::Action::AntiEntropy(ghost));
    sim.run_until(Time(1_000));
    assert!(sim.partition_groups().iter().all(|&g| g == 0));
    assert!((0..4).all(|i| sim.is_up(NodeId(i))));
    assert!(!sim.is_up(ghost));
    assert!(sim.node(ghost).is_none());
    let reply = put(&mut sim, 2, "k", "v", &Default::default(), 500);
    assert!(matches!(reply.body, ReplyBody::PutOk { .. }), "{reply:?}");
}

#[test]
fn ratios_with_a_zero_denominator_are_refused_or_ignored() {
    let bad = Ratio::new(1, 0);
    assert!(!bad.is_valid());
    assert_eq!(bad.as_f64(), 0.0);
    let mut rng = Rng::new(1);
    let _ = rng.chance(bad);
    let _ = rng.chance(Ratio::new(0, 0));
    assert_eq!(
        blamed(&Config {
            loss: bad,
            ..Config::default()
        }),
        Some("loss")
    );
    let mut sim = Simulation::new(cfg(4, 2)).unwrap();
    sim.apply(Fault::Loss(bad));
    assert_eq!(sim.loss(), Ratio::ZERO);
    sim.start_workload(Workload {
        clients: 4,
        put_ratio: bad,
        ..Workload::default()
    });
    sim.run_until(Time(500));
    assert!(sim.stats().requests > 0);
}

#[test]
fn rng_ranges_cover_all_of_u64() {
    let mut rng = Rng::new(3);
    let draws: Vec<u64> = (0..64).map(|_| rng.range_inclusive(0, u64::MAX)).collect();
    assert!(draws.iter().any(|&x| x > u64::MAX / 2));
    assert_eq!(rng.range_inclusive(u64::MAX, u64::MAX), u64::MAX);
    assert_eq!(rng.range_inclusive(5, 1), 5);
}

#[test]
fn a_heartbeat_at_u64_max_saturates() {
    let mut m = Membership::new(NodeId(0), &ids(3), Time(0));
    m.merge(Time(1), NodeId(1), &[(NodeId(0), u64::MAX)]);
    m.tick(Time(2));
    assert_eq!(m.heartbeat(), u64::MAX);
}

#[test]
fn the_end_of_time_is_reached_without_overflow_or_hang() {
    // With every node down nothing is left to do, so the clock jumps straight to the end.
    let mut sim = Simulation::new(cfg(3, 4)).unwrap();
    for i in 0..3 {
        sim.apply(Fault::Crash(NodeId(i)));
    }
    sim.run_until(Time(u64::MAX));
    assert_eq!(sim.now(), Time(u64::MAX));
    sim.apply(Fault::Restart(NodeId(0)));
    sim.step_round();
    assert_eq!(sim.round(), u64::MAX / sim.config().gossip_interval_ms);
    let _ = sim.submit(NodeId(0), Request::Get { key: "k".into() });
    sim.start_workload(Workload {
        clients: 2,
        ..Workload::default()
    });
    sim.run_until(Time(u64::MAX));
    sim.run_steps(1_000);
    assert_eq!(sim.now(), Time(u64::MAX));
}

#[test]
fn workload_sizes_past_their_limits_are_clamped() {
    assert_eq!(Zipf::new(u64::MAX, 990).len(), Zipf::MAX_RANKS);
    let mut sim = Simulation::new(cfg(4, 6)).unwrap();
    sim.set_trace_capacity(0);
    sim.start_workload(Workload {
        clients: u32::MAX,
        keys: u64::MAX,
        ..Workload::default()
    });
    sim.run_until(Time(1));
    let requests = sim.stats().requests;
    assert!(
        requests > 0 && requests <= u64::from(Workload::MAX_CLIENTS),
        "{requests}"
    );
}

#[test]
fn workload_values_past_the_limit_are_clamped_and_accepted() {
    let mut sim = Simulation::new(cfg(4, 7)).unwrap();
    sim.set_trace_capacity(0);
    sim.start_workload(Workload {
        clients: 1,
        keys: 1,
        put_ratio: Ratio::new(1, 1),
        value_bytes: usize::MAX,
        ..Workload::default()
    });
    while sim.stats().puts_ok == 0 && sim.now() < Time(2_000) {
        sim.step();
    }
    sim.stop_workload();
    assert_eq!(sim.stats().puts_ok, 1, "{:?}", sim.stats());
    assert_eq!(sim.stats().failed, 0, "{:?}", sim.stats());
    // The value went to the replicas: at least one copy of it crossed the wire.
    assert!(sim.stats().bytes_sent > MAX_VALUE_BYTES as u64);
}

#[test]
fn a_partition_with_every_node_on_one_side_cuts_nothing() {
    let mut sim = kvlab_core::Simulation::new(kvlab_core::Config::default()).unwrap();
    let all: Vec<kvlab_core::NodeId> = (0..sim.config().nodes).map(kvlab_core::NodeId).collect();
    sim.apply(kvlab_core::Fault::Partition(all));
    assert!(sim.partition_groups().iter().all(|&g| g == 0));
    sim.run_until(kvlab_core::Time(3_000));
    assert_eq!(sim.stats().false_suspicions, 0);
    assert!(sim.stats().dropped == 0, "nothing was cut");
}
