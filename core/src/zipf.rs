//! A deterministic Zipf sampler for workloads and cache experiments.
//!
//! Rank `i` (0-based) is drawn with probability proportional to `1 / (i + 1)^s`. The table of cumulative
//! probabilities is built once with nothing but IEEE-754 `+ - * /` (our own `ln` and `exp`, no libm), so
//! it is bit-identical natively and in wasm; sampling itself is integer-only: one `u64` draw and a binary
//! search.

use crate::rng::Rng;

/// Zipf distribution over ranks `0..n`; rank 0 is the most popular.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zipf {
    /// `cdf[i]` = P(rank <= i) scaled to `0..=u64::MAX`; non-decreasing, last entry `u64::MAX`.
    cdf: Vec<u64>,
}

impl Zipf {
    /// Most ranks a distribution has: its table takes 8 bytes a rank (8 MiB here) and builds in
    /// time linear in them.
    pub const MAX_RANKS: u64 = 1 << 20;

    /// A distribution over `n` ranks with exponent `s = s_thousandths / 1000` (e.g. `990` for the classic
    /// 0.99 of YCSB; `0` is uniform). `n` is clamped to `1..=`[`Zipf::MAX_RANKS`].
    pub fn new(n: u64, s_thousandths: u32) -> Zipf {
        let n = n.clamp(1, Zipf::MAX_RANKS);
        let s = f64::from(s_thousandths) / 1000.0;
        let mut weights = Vec::with_capacity(n as usize);
        let mut total = 0.0f64;
        for i in 0..n {
            // (i + 1)^-s; exact for s == 0.
            let w = if s_thousandths == 0 {
                1.0
            } else {
                exp_det(-s * ln_det((i + 1) as f64))
            };
            total += w;
            weights.push(total);
        }
        let scale = 18_446_744_073_709_551_616.0f64; // 2^64
        let mut cdf: Vec<u64> = weights
            .into_iter()
            // `as` saturates: 1.0 * 2^64 becomes u64::MAX.
            .map(|cum| (cum / total * scale) as u64)
            .collect();
        if let Some(last) = cdf.last_mut() {
            *last = u64::MAX;
        }
        Zipf { cdf }
    }

    /// Number of ranks.
    pub fn len(&self) -> u64 {
        self.cdf.len() as u64
    }

    /// Always false: a distribution has at least one rank.
    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }

    /// A rank in `0..len()`.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.next_u64();
        let i = self.cdf.partition_point(|&c| c <= u);
        i.min(self.cdf.len() - 1) as u64
    }

    /// Probability of rank `i` in parts per million (for display and tests).
    pub fn ppm(&self, i: u64) -> u64 {
        let Ok(i) = usize::try_from(i) else { return 0 };
        let Some(&hi) = self.cdf.get(i) else { return 0 };
        let lo = if i == 0 { 0 } else { self.cdf[i - 1] };
        ((u128::from(hi - lo) * 1_000_000) >> 64) as u64
    }
}

/// Natural logarithm of `x > 0` using only `+ - * /`, so every platform gets the same bits.
fn ln_det(x: f64) -> f64 {
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)): ln x = e ln 2 + 2 atanh((m - 1) / (m + 1)).
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    // |z| < 0.172, so z^2 < 0.03 and 14 terms are far past f64 precision.
    let mut term = z;
    let mut sum = 0.0;
    for k in 0..14 {
        sum += term / f64::from(2 * k + 1);
        term *= z2;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

/// `e^y` for `y <= 0` (down to the smallest normal float) using only `+ - * /`.
fn exp_det(y: f64) -> f64 {
    // y = k ln 2 + r with |r| <= ln 2 / 2: e^y = 2^k e^r.
    let q = y / std::f64::consts::LN_2;
    let k = if q < 0.0 {
        (q - 0.5) as i64
    } else {
        (q + 0.5) as i64
    };
    if k < -1020 {
        return 0.0;
    }
    let r = y - k as f64 * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..24 {
        term = term * r / f64::from(i);
        sum += term;
    }
    sum * f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_std_closely() {
        for &x in &[1.0, 1.5, 2.0, 3.0, 10.0, 1234.5, 1e6, 1e9] {
            let ours = ln_det(x);
            let std = x.ln();
            assert!(
                (ours - std).abs() <= 1e-12 * std.abs().max(1.0),
                "ln {x}: {ours} vs {std}"
            );
        }
        for &y in &[0.0, -0.3, -1.0, -5.5, -20.0, -300.0] {
            let ours = exp_det(y);
            let std = y.exp();
            assert!(
                (ours - std).abs() <= 1e-12 * std,
                "exp {y}: {ours} vs {std}"
            );
        }
    }

    #[test]
    fn uniform_when_s_is_zero() {
        let z = Zipf::new(4, 0);
        for i in 0..4 {
            assert!((249_999..=250_001).contains(&z.ppm(i)), "{}", z.ppm(i));
        }
    }

    #[test]
    fn frequencies_follow_the_law() {
        let z = Zipf::new(1000, 990);
        let mut rng = Rng::new(7);
        let mut counts = vec![0u32; 1000];
        let draws = 400_000;
        for _ in 0..draws {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        // Rank 0 vs rank 1: expected ratio 2^0.99 = 1.986.
        let r01 = f64::from(counts[0]) / f64::from(counts[1]);
        assert!((1.85..2.15).contains(&r01), "rank0/rank1 = {r01}");
        // Observed share of rank 0 within 3% of the table's.
        let expect = z.ppm(0) as f64 / 1e6;
        let got = f64::from(counts[0]) / f64::from(draws);
        assert!((got / expect - 1.0).abs() < 0.03, "{got} vs {expect}");
        // Monotone in expectation: the top decile gets most draws.
        let top: u32 = counts[..100].iter().sum();
        assert!(top > draws / 2, "top 10% got {top}");
    }

    #[test]
    fn samples_stay_in_range_and_degenerate_sizes_work() {
        let mut rng = Rng::new(1);
        let z = Zipf::new(0, 990);
        assert_eq!(z.len(), 1);
        assert_eq!(z.sample(&mut rng), 0);
        let z = Zipf::new(3, 2000);
        for _ in 0..1000 {
            assert!(z.sample(&mut rng) < 3);
        }
    }
}
