//! Checks that the tests and the page both run: no acknowledged write lost, replicas converged.

use super::properties::Cluster;
use super::Simulation;
use crate::ring::RangeId;
use crate::types::{Key, NodeId};
use crate::vclock::Dot;
use serde::{Deserialize, Serialize};

/// An acknowledged write missing from a replica that should hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostWrite {
    /// The key.
    pub key: Key,
    /// The acknowledged version.
    pub dot: Dot,
    /// The replica lacking it (neither the version nor a later one that covers it).
    pub replica: NodeId,
}

/// Where the acknowledged writes are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckReport {
    /// Writes acknowledged to clients.
    pub acked: u64,
    /// Of those, on all N home replicas (itself or causally superseded).
    pub fully_replicated: u64,
    /// Of those, on no node at all, counting hints: really lost.
    pub lost: u64,
    /// Up to 20 (write, replica) pairs that are missing, for display and replay.
    pub missing: Vec<LostWrite>,
}

/// Whether replicas of each range agree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvergenceReport {
    /// Ranges checked.
    pub ranges: u64,
    /// Ranges whose replicas all have equal Merkle roots.
    pub converged: u64,
    /// Ranges whose replicas differ.
    pub diverged: Vec<RangeId>,
}

impl ConvergenceReport {
    /// Whether every range converged.
    pub fn ok(&self) -> bool {
        self.diverged.is_empty()
    }
}

impl Simulation {
    /// No acknowledged write lost (Jepsen's set-full idea adapted to siblings): every acked version
    /// must be on each of its key's N home replicas, itself or causally superseded by a version
    /// whose context covers it.
    pub fn check_acked_writes(&self) -> AckReport {
        let n = usize::from(self.cfg.n);
        let mut report = AckReport::default();
        for w in &self.acked {
            report.acked += 1;
            let pos = w.key.position();
            let home = self.ring.preference_list(pos, n);
            let mut all = true;
            let mut anywhere = false;
            for &r in &home {
                if self.nodes[r.index()].covers(w.key.as_str(), w.dot) {
                    anywhere = true;
                } else {
                    all = false;
                    if report.missing.len() < 20 {
                        report.missing.push(LostWrite {
                            key: w.key.clone(),
                            dot: w.dot,
                            replica: r,
                        });
                    }
                }
            }
            if all {
                report.fully_replicated += 1;
                continue;
            }
            if !anywhere {
                anywhere = self.nodes.iter().any(|node| {
                    node.covers(w.key.as_str(), w.dot)
                        || node.hints().values().any(|held| {
                            held.get(w.key.as_str()).is_some_and(|vs| {
                                vs.versions().iter().any(|v| {
                                    v.dot == w.dot
                                        || v.context.counter(w.dot.actor) >= w.dot.counter
                                })
                            })
                        })
                });
            }
            if !anywhere {
                report.lost += 1;
            }
        }
        report
    }

    /// Convergence: all home replicas of each range have equal Merkle roots.
    pub fn check_convergence(&self) -> ConvergenceReport {
        Cluster::from(self).check_convergence()
    }

    /// Whether all home replicas of `range` have equal Merkle roots: one range of
    /// [`Simulation::check_convergence`], for callers that spread the check over time (the page
    /// checks a slice of a large ring each second).
    pub fn range_converged(&self, range: RangeId) -> bool {
        Cluster::from(self).range_converged(range)
    }
}
