//! The crate's own small seeded PRNG and integer probabilities.
//!
//! All randomness of a run flows from one seed. Each consumer (a node, the network, the workload) gets
//! its own stream derived from the seed and a label, so adding a consumer never shifts another's draws.
//! No floating point is used in any decision, so native and wasm runs agree bit for bit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// xoshiro256** seeded through SplitMix64: small, fast, and good enough for simulation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng { s }
    }

    /// An independent stream for `label` (e.g. `("node", 3)`), derived from `seed` alone.
    pub fn derive(seed: u64, label: &str, index: u64) -> Self {
        // FNV-1a over the label, then mixed with the seed and index.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        let mut x = seed ^ h.rotate_left(17) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Rng::new(splitmix64(&mut x))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; `n == 0` gives 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi` (`hi < lo` gives `lo`).
    #[inline]
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            // `0..=u64::MAX`: every value.
            None => self.next_u64(),
        }
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: Ratio) -> bool {
        if p.num == 0 {
            return false;
        }
        self.below(u64::from(p.den)) < u64::from(p.num)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A probability as an integer fraction `num / den`, so decisions never involve floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratio {
    /// Numerator.
    pub num: u32,
    /// Denominator (never 0 once validated).
    pub den: u32,
}

impl Ratio {
    /// Probability zero.
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// `num / den`.
    pub const fn new(num: u32, den: u32) -> Ratio {
        Ratio { num, den }
    }

    /// `pct` percent.
    pub const fn percent(pct: u32) -> Ratio {
        Ratio { num: pct, den: 100 }
    }

    /// Whether this is a probability in `[0, 1]` with a non-zero denominator.
    pub fn is_valid(self) -> bool {
        self.den > 0 && self.num <= self.den
    }

    /// Whether this is probability zero (`0/d` for any `d`).
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// For display only: the ratio as a float.
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            f64::from(self.num) / f64::from(self.den)
        }
    }
}

impl Default for Ratio {
    fn default() -> Self {
        Ratio::ZERO
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_labels_are_independent() {
        let mut a = Rng::derive(7, "node", 1);
        let mut b = Rng::derive(7, "node", 1);
        let mut c = Rng::derive(7, "node", 2);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn below_stays_in_range_and_chance_tracks_ratio() {
        let mut r = Rng::new(42);
        let mut hits = 0;
        for _ in 0..100_000 {
            assert!(r.below(10) < 10);
            if r.chance(Ratio::percent(5)) {
                hits += 1;
            }
        }
        // 5% of 100k = 5000; binomial sd ~ 69, so ±400 is > 5 sd.
        assert!((4600..5400).contains(&hits), "hits = {hits}");
        assert!(!r.chance(Ratio::ZERO));
        assert!(r.chance(Ratio::new(1, 1)));
    }
}
