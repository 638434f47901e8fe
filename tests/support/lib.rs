//! Helpers shared by kvlab's cross-module suites in tests/.

use kvlab_core::{
    Config, Fault, NodeId, Reply, ReplyBody, Request, RequestId, Simulation, Time, Value,
};
use kvlab_core::{VectorClock, Version};

/// Submits a put and runs `ms` milliseconds; returns the reply.
pub fn put(
    sim: &mut Simulation,
    via: u16,
    key: &str,
    value: &str,
    ctx: &VectorClock,
    ms: u64,
) -> Reply {
    let req = sim.submit(
        NodeId(via),
        Request::Put {
            key: key.into(),
            value: Value::from(value),
            context: ctx.clone(),
        },
    );
    settle(sim, req, ms)
}

/// Submits a get and runs `ms` milliseconds; returns the reply.
pub fn get(sim: &mut Simulation, via: u16, key: &str, ms: u64) -> Reply {
    let req = sim.submit(NodeId(via), Request::Get { key: key.into() });
    settle(sim, req, ms)
}

fn settle(sim: &mut Simulation, req: RequestId, ms: u64) -> Reply {
    let until = sim.now().plus(ms);
    sim.run_until(until);
    sim.reply(req)
        .cloned()
        .unwrap_or_else(|| panic!("no reply to {req} within {ms} ms"))
}

/// The siblings and context of a successful get.
pub fn siblings(reply: &Reply) -> (Vec<Version>, VectorClock) {
    match &reply.body {
        ReplyBody::GetOk { siblings, context } => (siblings.clone(), context.clone()),
        other => panic!("expected GetOk, got {other:?}"),
    }
}

/// A cluster config for tests.
pub fn cfg(nodes: u16, seed: u64) -> Config {
    Config {
        nodes,
        seed,
        ..Config::default()
    }
}

/// Runs until `t`.
pub fn run_to(sim: &mut Simulation, t: u64) {
    sim.run_until(Time(t));
}

/// Whether every node's membership view has `node` alive.
pub fn all_see_alive(sim: &Simulation, node: kvlab_core::NodeId) -> bool {
    sim.nodes().iter().all(|n| n.membership().is_alive(node))
}

/// The nodes clockwise from `key` on the ring: the first N are its preference list, the next ones
/// its stand-ins.
pub fn ring_walk(sim: &Simulation, key: &str) -> Vec<kvlab_core::NodeId> {
    let ring = sim.ring();
    ring.walk(ring.position_of_key(key)).collect()
}

/// The values of a successful get's siblings, as text, sorted.
pub fn values(reply: &Reply) -> Vec<String> {
    let (s, _) = siblings(reply);
    let mut v: Vec<String> = s.iter().map(|v| v.value.to_text()).collect();
    v.sort();
    v
}

/// Whether a put was acknowledged.
pub fn acked(reply: &Reply) -> bool {
    matches!(reply.body, ReplyBody::PutOk { .. })
}

/// Asserts the history oracle's final verdict finds nothing wrong.
pub fn assert_oracle_ok(sim: &Simulation) {
    let oracle = sim.history().final_check(sim);
    assert!(oracle.ok(), "the oracle finds {oracle}");
}

/// A one-token-per-node cluster (so rings are easy to reason about) with frequent anti-entropy.
pub fn sparse_config(seed: u64, nodes: u16, n: u8, r: u8, w: u8) -> Config {
    Config {
        seed,
        nodes,
        vnodes: 1,
        n,
        r,
        w,
        anti_entropy_interval_ms: 500,
        ..Config::default()
    }
}

/// Heals everything, restarts every node, lets gossip, handoff and anti-entropy finish, then asks
/// the oracle and reads `key` through every home (twice: the first read's repair reaches every
/// replica) expecting every value of `must_hold`.
pub fn settle_and_check(sim: &mut Simulation, key: &str, must_hold: &[&str]) {
    sim.apply(Fault::Heal);
    for i in 0..sim.config().nodes {
        sim.apply(Fault::Restart(NodeId(i)));
    }
    let wait = sim.config().t_cleanup_ms + 20_000;
    sim.run_until(sim.now().plus(wait));
    assert_oracle_ok(sim);
    let n = usize::from(sim.config().n);
    let homes: Vec<NodeId> = ring_walk(sim, key).into_iter().take(n).collect();
    for &h in &homes {
        get(sim, h.0, key, 1_000);
    }
    for &h in &homes {
        let values = values(&get(sim, h.0, key, 1_000));
        for v in must_hold {
            assert!(
                values.contains(&v.to_string()),
                "through {h}: {v} is gone: {values:?}"
            );
        }
    }
}
