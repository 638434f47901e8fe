//! Gossip failure detection (docs/protocol.md §Gossip), measured through the real simulator: rounds until every live
//! node marks a crashed node offline, and false positives under message loss. Prints tables; it
//! counts rounds, not seconds, so the figures are the same on every machine.
//!
//! `cargo bench -p kvlab-core --bench gossip` (or `cargo xtask bench`).

use kvlab_core::{Config, Fault, NodeId, Ratio, Simulation, Time};

fn cfg(nodes: u16, seed: u64, loss: Ratio) -> Config {
    Config {
        seed,
        nodes,
        n: 3,
        r: 1,
        w: 1,
        loss,
        anti_entropy_interval_ms: 0,
        ..Config::default()
    }
}

/// Rounds from the crash until every live node has marked the crashed node offline.
fn detection_rounds(nodes: u16, seed: u64) -> u64 {
    let mut sim = Simulation::new(cfg(nodes, seed, Ratio::ZERO)).expect("valid");
    sim.set_trace_capacity(0);
    let round = sim.config().gossip_interval_ms;
    sim.run_until(Time(20 * round));
    let victim = NodeId((seed % u64::from(nodes)) as u16);
    sim.apply(Fault::Crash(victim));
    let start = sim.round();
    loop {
        sim.step_round();
        let all = sim
            .nodes()
            .iter()
            .filter(|n| n.id() != victim)
            .all(|n| !n.membership().is_alive(victim));
        if all || sim.round() - start > 10_000 {
            return sim.round() - start;
        }
    }
}

fn false_positives(nodes: u16, loss_pct: u32, rounds: u64) -> u64 {
    let mut sim = Simulation::new(cfg(nodes, 99, Ratio::new(loss_pct * 10, 1000))).expect("valid");
    sim.set_trace_capacity(0);
    let round = sim.config().gossip_interval_ms;
    sim.run_until(Time(rounds * round));
    sim.stats().false_suspicions
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let seeds: u64 = if quick { 3 } else { 100 };
    let fp_rounds: u64 = if quick { 100 } else { 10_000 };
    let d = Config::default();
    let t_fail_rounds = d.t_fail_ms / d.gossip_interval_ms;
    println!(
        "gossip detection, fanout {}, t_fail = {} rounds, {} seeds each",
        d.fanout, t_fail_rounds, seeds
    );
    println!(
        "{:>5} {:>10} {:>8} {:>8} {:>24}",
        "N", "mean", "p99", "max", "t_fail + log2 N + ln N"
    );
    for n in [8u16, 16, 32, 64, 128, 256] {
        let mut r: Vec<u64> = (1..=seeds).map(|s| detection_rounds(n, s)).collect();
        r.sort_unstable();
        let mean = r.iter().sum::<u64>() as f64 / r.len() as f64;
        let p99 = r[((r.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)];
        let bound = t_fail_rounds as f64 + f64::from(n).log2() + f64::from(n).ln();
        println!(
            "{:>5} {:>10.1} {:>8} {:>8} {:>24.1}",
            n,
            mean,
            p99,
            r[r.len() - 1],
            bound
        );
    }
    println!("\nfalse positives (a live node marked offline) per {fp_rounds} rounds");
    println!("{:>5} {:>8} {:>8} {:>8}", "N", "0%", "1%", "5%");
    for n in [8u16, 16, 32, 64] {
        let f: Vec<u64> = [0, 1, 5]
            .iter()
            .map(|&l| false_positives(n, l, fp_rounds))
            .collect();
        println!("{:>5} {:>8} {:>8} {:>8}", n, f[0], f[1], f[2]);
    }
}
