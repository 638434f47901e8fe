//! Native soak tests of the page's engine: memory that stays flat while playing for a long time,
//! and bounded work per frame. Allocation is counted per thread by a counting allocator (the
//! engine runs on one thread), so parallel tests do not disturb each other. The counts are
//! deterministic: the same seed allocates the same bytes.

use crate::driver::engine_for;
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

/// A cluster of `nodes` × `vnodes` with `wl` background clients.
fn cluster(nodes: u16, vnodes: u16, wl: u32) -> Fragment {
    Fragment {
        nodes,
        vnodes,
        wl,
        ..Fragment::default()
    }
}

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Plays `frag` at `speed` for `seconds` of wall time in 16 ms frames, checking invariants once
/// a second as the page does; returns live bytes after each simulated-wall second.
fn play(frag: &Fragment, speed: f64, seconds: usize) -> Vec<i64> {
    let mut e = engine_for(frag).expect("valid");
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
    let frag = cluster(32, 8, 260);
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
    let frag = cluster(32, 8, 260);
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

/// Plays until the run has processed `events` more events.
fn play_events(e: &mut crate::engine::Engine, events: u64) {
    let until = e.events() + events;
    while e.events() < until {
        e.tick(16.0, 5.0, true);
    }
}

#[test]
fn step_back_after_a_long_run_replays_a_bounded_number_of_events() {
    let frag = cluster(16, 4, 100);
    let mut e = engine_for(&frag).expect("valid");
    play_events(&mut e, 50_000);
    e.step();
    let stepped_at = e.events();
    // Far past the snapshots' reach: the step's start is older than every snapshot kept but
    // the first.
    play_events(&mut e, 600_000);
    assert!(e.step_back());
    assert!(
        e.last_replay() <= 2 * 20_000,
        "replayed {} events",
        e.last_replay()
    );
    assert!(
        e.notice().is_some(),
        "the page says why it did not go all the way"
    );
    assert!(
        e.events() > stepped_at,
        "it landed on the oldest snapshot kept"
    );
    // Near positions are exact: a step and a step back return to the same event.
    let here = e.events();
    e.step();
    assert!(e.step_back());
    assert_eq!(e.events(), here);
    assert!(e.notice().is_none());
    // A jump back to the start of the run is bounded too.
    e.jump_to(0);
    assert!(
        e.last_replay() <= 2 * 20_000,
        "replayed {}",
        e.last_replay()
    );
}

#[test]
fn memory_stays_flat_while_playing() {
    // 16 nodes, 100 clients, fastest speed: after warm-up (snapshots filling) live bytes stay
    // within 10 % + 4 MB, and the whole engine stays far below the page's 256 MB ceiling.
    let frag = cluster(16, 4, 100);
    let base = live();
    let mut e = engine_for(&frag).expect("valid");
    let mut samples = Vec::new();
    for _ in 0..16 {
        play_events(&mut e, 50_000);
        e.check_invariants();
        samples.push(live() - base);
    }
    // Snapshots reach back 24 × 20,000 events: full by the tenth sample.
    let warm = samples[10];
    let end = *samples.last().unwrap_or(&0);
    let mb = |b: i64| b as f64 / 1e6;
    assert!(
        end as f64 <= warm as f64 * 1.1 + 4e6,
        "live MB per 50k events: {:?}",
        samples.iter().map(|&b| mb(b)).collect::<Vec<_>>()
    );
    assert!(end < 128_000_000, "{} MB", mb(end));
    assert_eq!(e.invariants().lost + e.invariants().anomalies, 0);
}
