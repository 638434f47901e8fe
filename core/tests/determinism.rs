//! The same seed gives the same trace, natively and under wasm32. `cargo xtask test` runs this file
//! twice: with `cargo test` and with `--target wasm32-unknown-unknown` (wasm-bindgen-test in Node).
//! Both runs compare against the same golden hashes, so a difference between them fails one of them.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use kvlab_core::Rng;

/// FNV-1a over a stream of words: a stable digest that needs no dependency.
fn digest(words: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

#[test]
fn rng_streams_match_golden() {
    let mut r = Rng::derive(42, "network", 0);
    let got = digest((0..10_000).map(|_| r.next_u64() ^ r.below(1000)));
    assert_eq!(
        got, 0x0c69_05ae_a566_2fc2,
        "rng digest for seed 42: {got:#x}"
    );
}

/// A run with a workload, loss and faults; returns the trace digest and a few counters.
fn scripted_run(seed: u64) -> (u64, u64, u64) {
    use kvlab_core::{Config, Fault, NodeId, Ratio, Simulation, Time, Workload};
    let mut sim = Simulation::new(Config {
        seed,
        nodes: 8,
        loss: Ratio::percent(2),
        anti_entropy_interval_ms: 300,
        ..Config::default()
    })
    .expect("valid config");
    sim.set_trace_capacity(0);
    sim.start_workload(Workload {
        clients: 8,
        keys: 100,
        ..Workload::default()
    });
    sim.run_until(Time(500));
    sim.apply(Fault::Crash(NodeId(2)));
    sim.apply(Fault::Partition(vec![NodeId(5), NodeId(6)]));
    sim.run_until(Time(1_500));
    sim.apply(Fault::Heal);
    sim.apply(Fault::Restart(NodeId(2)));
    sim.apply(Fault::Wipe(NodeId(7)));
    sim.run_until(Time(3_000));
    (sim.trace_hash(), sim.stats().delivered, sim.stats().puts_ok)
}

#[test]
fn simulation_traces_match_golden() {
    // The digests changed (delivered and puts did not) when a wipe became an `Input` whose output
    // the simulator drains at once (the wiped node's `NewEpoch` event is traced at the wipe, not
    // with its next input), then when every message size came from counting codec.rs's encoding
    // (the trace records each message's bytes).
    let golden: [(u64, (u64, u64, u64)); 2] = [
        (1, (0xa64c_222f_adc5_1feb, 2027, 124)),
        (2, (0x1ce5_39b6_5592_fe58, 1886, 111)),
    ];
    for (seed, want) in golden {
        let got = scripted_run(seed);
        assert_eq!(got, scripted_run(seed), "seed {seed}: two runs differ");
        assert_eq!(
            got, want,
            "seed {seed}: trace digest {:#x}, delivered {}, puts {}",
            got.0, got.1, got.2
        );
    }
}

#[test]
fn zipf_ring_and_store_match_golden() {
    use kvlab_core::{key_position, Key, NodeId, Policy, Ring, Store, Tier, Value, Zipf};

    // Zipf: the CDF table is built with floats; it must be the same table on every platform.
    let zipf = Zipf::new(10_000, 990);
    let mut r = Rng::derive(42, "workload", 0);
    let zipf_digest = digest((0..10_000).map(|_| zipf.sample(&mut r)));

    // Ring: SHA-256 token positions and preference lists.
    let nodes: Vec<NodeId> = (0..16).map(NodeId).collect();
    let ring = Ring::new(&nodes, 8);
    let tokens = ring.tokens().iter().map(|&(p, n)| p ^ u64::from(n.0));
    let prefs = (0..1000).flat_map(|i| {
        let list = ring.preference_list(key_position(&format!("k{i}")), 3);
        list.into_iter().map(|n| u64::from(n.0))
    });
    let ring_digest = digest(tokens.chain(prefs));

    // Store: eviction decisions and lz4 sizes.
    let mut st: Store<Value> = Store::new(8 * 1024, Policy::S3Fifo);
    for i in 0..5_000u64 {
        let k = zipf.sample(&mut r) % 400;
        if i % 3 == 0 {
            let text = format!(
                "{{\"id\":{k},\"note\":\"{}\"}}",
                "ab".repeat((k % 90) as usize)
            );
            st.put(Key::from(format!("key{k}")), Value::from(text.as_str()));
        } else {
            st.get(&format!("key{k}"));
        }
    }
    let entries = st.entries_for_ui().into_iter().map(|e| {
        (u64::from(e.stored_bytes) << 32)
            | (u64::from(e.tier == Tier::Hot) << 8)
            | u64::from(e.freq)
    });
    let s = st.stats();
    let store_digest = digest(entries.chain([s.hits_hot, s.hits_cold, s.misses, s.disk_writes]));

    let got = (zipf_digest, ring_digest, store_digest);
    let golden = (
        0x9113_21e3_6751_25e9,
        0x41d2_8a7a_fb7a_c6c7,
        0xc045_2be9_bddc_e6b9,
    );
    assert_eq!(got, golden, "digests: {got:#x?}");
}

/// A model checker's counterexample (the report the page bundles) replays to the same states,
/// with the same captions, natively and under wasm32: the page plays a found path on exactly the
/// transitions the checker explored.
#[test]
fn a_counterexample_replays_identically() {
    use kvlab_core::model::{CheckReport, KvModel};
    let mut words = Vec::new();
    for file in [
        include_str!("../../web/examples/lww.json"),
        include_str!("../../web/examples/non-replica-bug.json"),
    ] {
        let report: CheckReport = serde_json::from_str(file).unwrap();
        let model = KvModel::new(report.spec.clone()).unwrap().narrating();
        for path in report.verdicts.iter().filter_map(|v| v.path.as_ref()) {
            let states = model.replay(path).unwrap();
            for (i, a) in path.iter().enumerate() {
                let s = &states[i + 1];
                let text = format!("{s:?} {:?} {}", s.notes, model.caption(&states[i], a));
                words.extend(text.bytes().map(u64::from));
            }
        }
    }
    let got = digest(words.into_iter());
    assert_eq!(got, 0x2ead_647a_5785_b400, "replay digest: {got:#x}");
}
