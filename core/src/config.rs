//! Cluster configuration and its validation.

use crate::rng::Ratio;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How replicas decide between two versions of a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConflictMode {
    /// Vector clocks: concurrent versions are kept as siblings for the client to reconcile (docs/protocol.md §Versions).
    #[default]
    VectorClock,
    /// Last write wins by timestamp: clocks are ignored. Loses acknowledged writes under concurrent
    /// writers; it exists as the invariant checker's negative control.
    LastWriteWins,
}

/// Everything that defines a cluster run. The seed is part of it: the same config gives the same trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Seed of every random draw in the run.
    pub seed: u64,
    /// Number of physical nodes.
    pub nodes: u16,
    /// Virtual nodes (tokens) per physical node on the ring.
    pub vnodes: u16,
    /// Replicas per key.
    pub n: u8,
    /// Read quorum.
    pub r: u8,
    /// Write quorum.
    pub w: u8,
    /// Smallest one-way message latency, ms.
    pub latency_min_ms: u64,
    /// Largest one-way message latency, ms.
    pub latency_max_ms: u64,
    /// Probability that the network drops a message.
    pub loss: Ratio,
    /// A coordinator answers the client with a timeout error after this long without a quorum, ms.
    pub request_timeout_ms: u64,
    /// Gossip period, ms. One gossip period is one protocol round.
    pub gossip_interval_ms: u64,
    /// Peers each node gossips to per round.
    pub fanout: u8,
    /// A member whose heartbeat has not increased for this long is marked offline, ms.
    pub t_fail_ms: u64,
    /// An offline member is removed from the membership list after this long, ms.
    pub t_cleanup_ms: u64,
    /// Merkle buckets per range (a power of two).
    pub merkle_buckets: u32,
    /// Period of Merkle anti-entropy between replicas, ms (0 turns periodic exchanges off).
    pub anti_entropy_interval_ms: u64,
    /// Bytes of the hot (in-memory) storage tier per node.
    pub hot_budget_bytes: u64,
    /// Vector clocks longer than this are pruned (docs/protocol.md §Versions); 0 turns pruning off.
    pub clock_prune_threshold: u16,
    /// How versions are reconciled.
    pub conflict_mode: ConflictMode,
    /// Optional display names of the nodes (e.g. `Sx`, `Sy`, `Sz`); default `S0`, `S1`, ….
    pub node_names: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            nodes: 8,
            vnodes: 8,
            n: 3,
            r: 2,
            w: 2,
            latency_min_ms: 5,
            latency_max_ms: 30,
            loss: Ratio::ZERO,
            request_timeout_ms: 300,
            gossip_interval_ms: 100,
            fanout: 1,
            t_fail_ms: 2_000,
            t_cleanup_ms: 6_000,
            merkle_buckets: 64,
            anti_entropy_interval_ms: 2_000,
            hot_budget_bytes: 64 * 1024,
            clock_prune_threshold: 10,
            conflict_mode: ConflictMode::VectorClock,
            node_names: Vec::new(),
        }
    }
}

/// Limits that keep a run inside what the simulator and the page can hold.
pub const MAX_NODES: u16 = 1024;
/// Largest number of virtual nodes per physical node.
pub const MAX_VNODES: u16 = 1024;
/// Largest number of tokens on the ring, `nodes × vnodes`, so that a cluster builds in well under a
/// second. Measured natively (release build, a shared 2-core machine), `Simulation::new` at this
/// limit takes about 72 ms with 1024 nodes × 64 vnodes, 29 ms with 256 × 256 and 25 ms with
/// 64 × 1024 (the ring alone: 11 to 15 ms); 1024 × 1024 tokens would take 1.3 s. The page's own
/// form stops lower, at 128 × 64 = 8192 (4 ms).
pub const MAX_RING_TOKENS: u32 = 65_536;
/// Largest one-way message latency, ms (one minute: already far beyond any real network).
pub const MAX_LATENCY_MS: u64 = 60_000;
/// Largest duration any timing field may hold, ms: one day. Runs of the simulator span seconds to
/// hours of simulated time, so a longer period or timeout would never be reached anyway. The bound
/// keeps every sum the simulator makes of these values (a timer's random phase plus its period,
/// five gossip periods, a request timeout plus two latencies) below 2^29, far from `u64::MAX`.
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// Largest hot-tier budget per node, bytes: 4 GiB, the whole address space of the page's wasm32, so
/// no run of the page can tell a larger budget from this one (the store compares the budget and
/// never adds to it, so this bound is not about overflow: every numeric field simply has one).
pub const MAX_HOT_BUDGET_BYTES: u64 = 1 << 32;
/// Largest key, bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest value, bytes.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A configuration field broke a rule. `field` names the field as it is spelled in [`Config`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field.
    pub field: &'static str,
    /// The rule it broke, in words.
    pub rule: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for ConfigError {}

fn fail(field: &'static str, rule: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError {
        field,
        rule: rule.into(),
    })
}

impl Config {
    /// Checks every field; the first broken rule is returned, naming the field.
    ///
    /// Every numeric field has an upper bound, so a config that passes never makes the simulator
    /// overflow or take unbounded time to build.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return fail("nodes", format!("must be between 1 and {MAX_NODES}"));
        }
        if self.vnodes == 0 || self.vnodes > MAX_VNODES {
            return fail("vnodes", format!("must be between 1 and {MAX_VNODES}"));
        }
        if u32::from(self.nodes) * u32::from(self.vnodes) > MAX_RING_TOKENS {
            return fail(
                "vnodes",
                format!(
                    "must keep nodes × vnodes at most {MAX_RING_TOKENS} ({} × {} = {})",
                    self.nodes,
                    self.vnodes,
                    u32::from(self.nodes) * u32::from(self.vnodes)
                ),
            );
        }
        if self.n == 0 {
            return fail("n", "must be at least 1");
        }
        if u16::from(self.n) > self.nodes {
            return fail(
                "n",
                format!("must not exceed nodes ({} > {})", self.n, self.nodes),
            );
        }
        if self.r == 0 {
            return fail("r", "must be at least 1");
        }
        if self.r > self.n {
            return fail("r", format!("must not exceed n ({} > {})", self.r, self.n));
        }
        if self.w == 0 {
            return fail("w", "must be at least 1");
        }
        if self.w > self.n {
            return fail("w", format!("must not exceed n ({} > {})", self.w, self.n));
        }
        if self.latency_min_ms == 0 {
            return fail("latency_min_ms", "must be at least 1 ms");
        }
        if self.latency_max_ms > MAX_LATENCY_MS {
            return fail(
                "latency_max_ms",
                format!("must be at most {MAX_LATENCY_MS} ms"),
            );
        }
        if self.latency_max_ms < self.latency_min_ms {
            return fail("latency_max_ms", "must be at least latency_min_ms");
        }
        if !self.loss.is_valid() {
            return fail("loss", "must be a probability between 0 and 1");
        }
        // Upper bounds first: the rules below compare and add these fields.
        for (field, value) in [
            ("request_timeout_ms", self.request_timeout_ms),
            ("gossip_interval_ms", self.gossip_interval_ms),
            ("t_fail_ms", self.t_fail_ms),
            ("t_cleanup_ms", self.t_cleanup_ms),
            ("anti_entropy_interval_ms", self.anti_entropy_interval_ms),
        ] {
            if value > MAX_DURATION_MS {
                return fail(
                    field,
                    format!("must be at most {MAX_DURATION_MS} ms (one day)"),
                );
            }
        }
        if self.request_timeout_ms <= self.latency_max_ms * 2 {
            return fail(
                "request_timeout_ms",
                "must exceed a round trip (2 × latency_max_ms)",
            );
        }
        if self.gossip_interval_ms == 0 {
            return fail("gossip_interval_ms", "must be at least 1 ms");
        }
        if self.fanout == 0 {
            return fail("fanout", "must be at least 1");
        }
        if self.t_fail_ms <= self.gossip_interval_ms {
            return fail("t_fail_ms", "must exceed gossip_interval_ms");
        }
        if self.t_cleanup_ms <= self.t_fail_ms {
            return fail("t_cleanup_ms", "must exceed t_fail_ms");
        }
        if !self.merkle_buckets.is_power_of_two() || self.merkle_buckets > 1 << 16 {
            return fail("merkle_buckets", "must be a power of two up to 65536");
        }
        if self.hot_budget_bytes > MAX_HOT_BUDGET_BYTES {
            return fail(
                "hot_budget_bytes",
                format!("must be at most {MAX_HOT_BUDGET_BYTES} bytes (4 GiB)"),
            );
        }
        if self.clock_prune_threshold == 1 {
            return fail(
                "clock_prune_threshold",
                "must be 0 (off) or at least 2 (the writer's entry and one more)",
            );
        }
        if !self.node_names.is_empty() && self.node_names.len() != usize::from(self.nodes) {
            return fail("node_names", "must be empty or name every node");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    nodes: 0,
                    ..Config::default()
                },
                "nodes",
            ),
            (
                Config {
                    n: 0,
                    ..Config::default()
                },
                "n",
            ),
            (
                Config {
                    r: 4,
                    ..Config::default()
                },
                "r",
            ),
            (
                Config {
                    w: 4,
                    ..Config::default()
                },
                "w",
            ),
            (
                Config {
                    n: 9,
                    ..Config::default()
                },
                "n",
            ),
            (
                Config {
                    vnodes: 0,
                    ..Config::default()
                },
                "vnodes",
            ),
            (
                Config {
                    loss: Ratio::new(3, 2),
                    ..Config::default()
                },
                "loss",
            ),
            (
                Config {
                    merkle_buckets: 3,
                    ..Config::default()
                },
                "merkle_buckets",
            ),
            (
                Config {
                    latency_max_ms: 1,
                    latency_min_ms: 2,
                    ..Config::default()
                },
                "latency_max_ms",
            ),
        ];
        for (cfg, field) in cases {
            let err = cfg.validate().unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.to_string().starts_with(field));
        }
    }
}
