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
