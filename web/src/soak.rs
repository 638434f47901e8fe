//! Native soak tests of the page's engine: memory that stays flat while playing for a long time,
//! and bounded work per frame. Allocation is counted per thread by a counting allocator (the
//! engine runs on one thread), so parallel tests do not disturb each other. The counts are
//! deterministic: the same seed allocates the same bytes.

use crate::driver::{config_of, engine_for};
use crate::fragment::Fragment;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|c| c.set(c.get() + l.size() as i64));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        let _ = LIVE.try_with(|c| c.set(c.get() - l.size() as i64));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = LIVE.try_with(|c| c.set(c.get() + new as i64 - l.size() as i64));
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Plays `frag` at `speed` for `seconds` of wall time in 16 ms frames, checking invariants once
/// a second as the page does; returns live bytes after each simulated-wall second.
fn play(frag: &Fragment, speed: f64, seconds: usize) -> Vec<i64> {
    let mut e = engine_for(frag).expect("valid");
    let _ = config_of(frag);
    let mut out = Vec::new();
    for _ in 0..seconds {
        for _ in 0..62 {
            e.tick(16.0, speed, true);
        }
        e.check_invariants();
        out.push(live());
    }
    out
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn measure_memory_32_nodes_heavy_fastest() {
    let frag = Fragment {
        nodes: 32,
        vnodes: 8,
        wl: 260,
        ..Fragment::default()
    };
    let base = live();
    let mb: Vec<String> = play(&frag, 5.0, 120)
        .iter()
        .map(|b| format!("{:.1}", (b - base) as f64 / 1e6))
        .collect();
    eprintln!("live MB per second of play: {}", mb.join(" "));
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn measure_snapshot_parts() {
    let frag = Fragment {
        nodes: 32,
        vnodes: 8,
        wl: 260,
        ..Fragment::default()
    };
    let mut e = engine_for(&frag).expect("valid");
    for _ in 0..(62 * 20) {
        e.tick(16.0, 5.0, true);
    }
    let sim = e.sim_for_tests();
    let b = live();
    let s2 = sim.clone();
    let whole = live() - b;
    let b = live();
    let h2 = sim.history().clone();
    let hist = live() - b;
    let b = live();
    let n2: Vec<_> = sim.nodes().to_vec();
    let nodes = live() - b;
    eprintln!(
        "snapshot {:.1} MB: history {:.1} MB ({} writes remembered of {}), nodes {:.1} MB, in flight {}",
        whole as f64 / 1e6,
        hist as f64 / 1e6,
        sim.history().remembered(),
        sim.history().writes(),
        nodes as f64 / 1e6,
        sim.in_flight().count()
    );
    drop((s2, h2, n2));
}
