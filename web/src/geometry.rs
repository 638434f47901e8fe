//! Pure layout: where things sit on the ring, where a message is at a given time, and the
//! space-time diagram's coordinates. No DOM here, so native tests reach all of it.

use crate::format::fx;
use std::f64::consts::TAU;

/// Radius of the ring in SVG user units (the view box is centred on 0,0).
pub const RING_R: f64 = 200.0;
/// Radius of the circle the node badges sit on.
pub const BADGE_R: f64 = 255.0;
/// Half the side of the SVG view box.
pub const VIEW_HALF: f64 = 300.0;

/// The angle (radians, clockwise from 12 o'clock) of a position on the 64-bit hash ring.
pub fn angle_of(pos: u64) -> f64 {
    // The top 53 bits convert exactly, so the angle stays below a full turn.
    ((pos >> 11) as f64 / 9_007_199_254_740_992.0) * TAU
}

/// A point at `angle` (clockwise from 12 o'clock) on a circle of radius `r` around the origin.
pub fn polar(angle: f64, r: f64) -> (f64, f64) {
    (r * angle.sin(), -r * angle.cos())
}

/// A point of the ring at hash position `pos`.
pub fn ring_point(pos: u64, r: f64) -> (f64, f64) {
    polar(angle_of(pos), r)
}

/// Badge angles: evenly spaced slots (so 32 badges never overlap), assigned in the order of each
/// node's first token and rotated so the badges sit as close to their tokens as they can.
/// `first` holds each node's first-token angle; the result is indexed like `first`.
pub fn badge_angles(first: &[f64]) -> Vec<f64> {
    let n = first.len();
    if n == 0 {
        return Vec::new();
    }
    let slot = TAU / n as f64;
    let order = order_by_angle(first);
    // The rotation that minimises the displacement: the circular mean of (angle - slot index).
    let (mut s, mut c) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        let d = first[i] - k as f64 * slot;
        s += d.sin();
        c += d.cos();
    }
    let offset = if s == 0.0 && c == 0.0 {
        0.0
    } else {
        s.atan2(c)
    };
    let mut out = vec![0.0; n];
    for (k, &i) in order.iter().enumerate() {
        out[i] = (offset + k as f64 * slot).rem_euclid(TAU);
    }
    out
}

/// Most badges one orbit holds at full size; past it badges alternate between two orbits.
pub const ONE_ORBIT: usize = 32;
/// How far inside `BADGE_R` the second orbit runs.
pub const ORBIT_GAP: f64 = 26.0;

/// Badge centres for badges at `angles` (from `badge_angles`): one orbit up to `ONE_ORBIT`
/// badges, then every other slot on an inner orbit so neighbours stay apart.
pub fn badge_positions(angles: &[f64]) -> Vec<(f64, f64)> {
    let two = angles.len() > ONE_ORBIT;
    let mut out = vec![(0.0, 0.0); angles.len()];
    for (k, i) in order_by_angle(angles).into_iter().enumerate() {
        let r = if two && k % 2 == 1 {
            BADGE_R - ORBIT_GAP
        } else {
            BADGE_R
        };
        out[i] = polar(angles[i], r);
    }
    out
}

/// The scale of a badge (disc radius 17 at 1) when `n` badges share the orbits, so that
/// neighbouring discs never overlap: 1 up to 33 nodes, about 0.95 at 64.
pub fn badge_scale(n: usize) -> f64 {
    if n <= ONE_ORBIT {
        return 1.0;
    }
    let tangential = TAU * (BADGE_R - ORBIT_GAP / 2.0) / n as f64;
    let d = tangential.hypot(ORBIT_GAP);
    ((d - 3.0) / 34.0).clamp(0.5, 1.0)
}

/// Indices of `angles` from the smallest angle to the largest (ties by index).
pub fn order_by_angle(angles: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..angles.len()).collect();
    order.sort_by(|&a, &b| angles[a].total_cmp(&angles[b]).then(a.cmp(&b)));
    order
}

/// Linear interpolation between two points.
pub fn lerp(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// How far a message sent at `sent` and arriving at `deliver` has travelled at time `now`, 0 to 1.
pub fn progress(sent: u64, deliver: u64, now: f64) -> f64 {
    if deliver <= sent {
        return if now >= deliver as f64 { 1.0 } else { 0.0 };
    }
    ((now - sent as f64) / (deliver - sent) as f64).clamp(0.0, 1.0)
}

/// A message's position: on the chord from sender to receiver, bowed slightly to the right of
/// its direction so the two directions of a request/reply pair do not overlap.
pub fn message_point(from: (f64, f64), to: (f64, f64), t: f64) -> (f64, f64) {
    let (x, y) = lerp(from, to, t);
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-9 {
        return (x, y);
    }
    let bow = 0.12 * len * 4.0 * t * (1.0 - t) / 1.0;
    (x - dy / len * bow * 0.25, y + dx / len * bow * 0.25)
}

/// An SVG path of the ring arc from `start` (exclusive) clockwise to `end`, radius `r`.
/// `start == end` draws the full circle (a ring of one token).
pub fn arc_path(start: u64, end: u64, r: f64) -> String {
    let a0 = angle_of(start);
    let mut a1 = angle_of(end);
    if a1 <= a0 {
        a1 += TAU;
    }
    if (a1 - a0) >= TAU - 1e-9 {
        let (x0, y0) = polar(0.0, r);
        let (x1, y1) = polar(TAU / 2.0, r);
        let (x0, y0, x1, y1, r) = (fx(x0, 2), fx(y0, 2), fx(x1, 2), fx(y1, 2), fx(r, 0));
        return format!("M{x0},{y0} A{r},{r} 0 1 1 {x1},{y1} A{r},{r} 0 1 1 {x0},{y0}");
    }
    let (x0, y0) = polar(a0, r);
    let (x1, y1) = polar(a1, r);
    let large = if a1 - a0 > TAU / 2.0 { 1 } else { 0 };
    let (x0, y0, x1, y1, r) = (fx(x0, 2), fx(y0, 2), fx(x1, 2), fx(y1, 2), fx(r, 0));
    format!("M{x0},{y0} A{r},{r} 0 {large} 1 {x1},{y1}")
}

/// The start (exclusive) of the range that ends at `token`: the previous token on the ring.
/// `tokens` is sorted by position.
pub fn range_start(tokens: &[u64], token: u64) -> u64 {
    match tokens.binary_search(&token) {
        Ok(0) | Err(0) => tokens.last().copied().unwrap_or(token),
        Ok(i) | Err(i) => tokens[i - 1],
    }
}

/// The space-time diagram: time runs left to right over `[t0, t1]`, one lane per node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lanes {
    /// Earliest time shown.
    pub t0: f64,
    /// Latest time shown.
    pub t1: f64,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// Left margin for the lane labels.
    pub left: f64,
    /// Number of lanes.
    pub lanes: usize,
}

impl Lanes {
    /// X of time `t` (clamped into the drawing).
    pub fn x(&self, t: f64) -> f64 {
        let span = (self.t1 - self.t0).max(1e-9);
        let f = ((t - self.t0) / span).clamp(0.0, 1.0);
        self.left + f * (self.width - self.left - 4.0)
    }

    /// Y of lane `i`.
    pub fn y(&self, i: usize) -> f64 {
        let pitch = self.height / self.lanes.max(1) as f64;
        pitch * (i as f64 + 0.5)
    }

    /// The time at x (the inverse of `x`, for clicks).
    pub fn time_at(&self, x: f64) -> f64 {
        let w = (self.width - self.left - 4.0).max(1e-9);
        self.t0 + ((x - self.left) / w).clamp(0.0, 1.0) * (self.t1 - self.t0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn positions_map_clockwise_from_the_top() {
        assert!(close(angle_of(0), 0.0));
        assert!(close(angle_of(1 << 63), TAU / 2.0));
        let (x, y) = ring_point(0, 10.0);
        assert!(close(x, 0.0) && close(y, -10.0));
        let (x, y) = ring_point(1 << 62, 10.0); // a quarter: 3 o'clock
        assert!(close(x, 10.0) && close(y, 0.0));
        assert!(angle_of(u64::MAX) < TAU);
    }

    #[test]
    fn badges_are_evenly_spaced_and_keep_ring_order() {
        let first = [3.0, 0.1, 1.0, 5.0];
        let a = badge_angles(&first);
        let mut sorted = a.clone();
        sorted.sort_by(f64::total_cmp);
        for w in sorted.windows(2) {
            assert!(close(w[1] - w[0], TAU / 4.0), "{a:?}");
        }
        // Node 1 has the smallest first token, then 2, 0, 3 clockwise.
        let step = |i: usize, j: usize| (a[j] - a[i]).rem_euclid(TAU);
        assert!(close(step(1, 2), TAU / 4.0));
        assert!(close(step(2, 0), TAU / 4.0));
        assert!(close(step(0, 3), TAU / 4.0));
        assert!(badge_angles(&[]).is_empty());
        assert_eq!(badge_angles(&[2.0]).len(), 1);
    }

    #[test]
    fn badges_sit_near_their_tokens_when_tokens_are_even() {
        let first: Vec<f64> = (0..8).map(|i| 0.2 + i as f64 * TAU / 8.0).collect();
        for (got, want) in badge_angles(&first).iter().zip(&first) {
            assert!(close(*got, *want), "{got} vs {want}");
        }
    }

    #[test]
    fn progress_is_clamped_and_freezes_with_time() {
        assert_eq!(progress(10, 20, 5.0), 0.0);
        assert!(close(progress(10, 20, 15.0), 0.5));
        assert_eq!(progress(10, 20, 25.0), 1.0);
        assert_eq!(progress(10, 10, 10.0), 1.0);
        assert_eq!(progress(10, 10, 9.0), 0.0);
    }

    #[test]
    fn messages_start_at_the_sender_and_end_at_the_receiver() {
        let (a, b) = ((0.0, 0.0), (100.0, 0.0));
        assert_eq!(message_point(a, b, 0.0), a);
        let end = message_point(a, b, 1.0);
        assert!(close(end.0, 100.0) && close(end.1, 0.0));
        let mid = message_point(a, b, 0.5);
        assert!(close(mid.0, 50.0) && mid.1 > 0.0, "bowed: {mid:?}");
        let back = message_point(b, a, 0.5);
        assert!(back.1 < 0.0, "the reply bows the other way: {back:?}");
        assert_eq!(message_point(a, a, 0.5), a);
    }

    #[test]
    fn arcs_and_ranges() {
        let tokens = [10u64, 1 << 62, 1 << 63];
        assert_eq!(range_start(&tokens, 10), 1 << 63, "the first range wraps");
        assert_eq!(range_start(&tokens, 1 << 63), 1 << 62);
        assert_eq!(range_start(&[5], 5), 5);
        let p = arc_path(0, 1 << 62, 100.0);
        assert!(p.starts_with("M0.00,-100.00 A100,100 0 0 1 100.00,"), "{p}");
        let big = arc_path(1 << 62, 0, 100.0);
        assert!(
            big.contains(" 0 1 1 "),
            "three quarters is the large arc: {big}"
        );
        assert_eq!(arc_path(5, 5, 10.0).matches('A').count(), 2);
    }

    #[test]
    fn lanes_round_trip() {
        let l = Lanes {
            t0: 100.0,
            t1: 300.0,
            width: 504.0,
            height: 80.0,
            left: 100.0,
            lanes: 4,
        };
        assert!(close(l.x(100.0), 100.0));
        assert!(close(l.x(300.0), 500.0));
        assert!(close(l.x(1000.0), 500.0));
        assert!(close(l.time_at(l.x(250.0)), 250.0));
        assert!(close(l.y(0), 10.0) && close(l.y(3), 70.0));
    }

    #[test]
    fn badges_never_overlap_up_to_the_largest_cluster() {
        for n in [3usize, 8, 32, 33, 48, 64] {
            let angles = badge_angles(&vec![0.0; n]);
            let pos = badge_positions(&angles);
            let r = 17.0 * badge_scale(n);
            for a in 0..n {
                for b in a + 1..n {
                    let d = (pos[a].0 - pos[b].0).hypot(pos[a].1 - pos[b].1);
                    assert!(
                        d >= 2.0 * r,
                        "{n} nodes: badges {a} and {b} are {d:.1} apart"
                    );
                }
            }
        }
    }
}
