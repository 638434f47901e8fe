//! Simulator throughput: delivered messages per second on the standard workload, as a ratio to a
//! bare event kernel (the same queue with a no-op handler) measured in the same run.
//!
//! `cargo bench -p kvlab-core --bench sim` (or `cargo xtask bench`). Prints a table; times are wall
//! clock of this machine, so compare the ratio column across machines.

use kvlab_core::bench_support::bare_kernel;
use kvlab_core::{Simulation, Time};
use std::hint::black_box;
use std::time::Instant;

fn sim_rate(nodes: u16, clients: u32, sim_ms: u64) -> (f64, u64, f64) {
    let mut sim = Simulation::standard_benchmark(nodes, clients).expect("valid config");
    let d0 = sim.stats().delivered;
    let e0 = sim.stats().events;
    let t = Instant::now();
    sim.run_until(Time(200 + sim_ms));
    let secs = t.elapsed().as_secs_f64();
    let delivered = sim.stats().delivered - d0;
    let events = sim.stats().events - e0;
    (delivered as f64 / secs, delivered, events as f64 / secs)
}

fn kernel_rate(events: u64, in_flight: u64) -> f64 {
    let t = Instant::now();
    black_box(bare_kernel(events, in_flight, 7));
    events as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs this with --test: keep it short then.
    let quick = std::env::args().any(|a| a == "--test");
    let (sim_ms, kernel_events) = if quick {
        (50, 100_000)
    } else {
        (2_000, 20_000_000)
    };
    println!("simulator throughput (standard workload: N=3 R=2 W=2, 8 vnodes, 50/50 put/get, 10k Zipf-0.99 keys, 100-byte values)");
    println!(
        "{:>6} {:>8} {:>14} {:>14} {:>14} {:>8}",
        "nodes", "clients", "msgs", "msgs/s", "kernel ev/s", "ratio"
    );
    for (nodes, clients) in [(16u16, 256u32), (256, 2048)] {
        let (rate, msgs, _) = sim_rate(nodes, clients, sim_ms);
        let kernel = kernel_rate(kernel_events, u64::from(clients) * 2);
        println!(
            "{:>6} {:>8} {:>14} {:>14.0} {:>14.0} {:>8.3}",
            nodes,
            clients,
            msgs,
            rate,
            kernel,
            rate / kernel
        );
        println!("KVLAB_RATE {nodes} {rate:.0}");
    }
}
