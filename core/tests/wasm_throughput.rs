//! The simulator's throughput under wasm32, for `cargo xtask bench` (not part of `cargo xtask test`):
//! the same standard workload as `benches/sim.rs`, timed with the JS clock. It prints
//! `KVLAB_RATE <nodes> <msgs/s>`; the xtask divides by the native figure. It asserts only that the
//! run delivered messages: timings are never asserted.
#![cfg(target_arch = "wasm32")]

use kvlab_core::{Simulation, Time};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

fn rate(nodes: u16, clients: u32, sim_ms: u64) -> (f64, u64) {
    let mut sim = Simulation::standard_benchmark(nodes, clients).expect("valid config");
    let d0 = sim.stats().delivered;
    let t0 = js_sys::Date::now();
    sim.run_until(Time(200 + sim_ms));
    let secs = (js_sys::Date::now() - t0) / 1000.0;
    let delivered = sim.stats().delivered - d0;
    (delivered as f64 / secs.max(1e-3), delivered)
}

#[wasm_bindgen_test]
fn standard_workload_throughput() {
    for (nodes, clients) in [(16u16, 256u32), (256, 2048)] {
        let (r, msgs) = rate(nodes, clients, 2_000);
        console_log!("KVLAB_RATE {nodes} {r:.0} ({msgs} messages)");
        assert!(msgs > 0);
    }
}
