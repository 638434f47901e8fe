//! The properties a run of kvlab is judged by, as one named list ([`PROPERTIES`]) that the sweep,
//! the tests and the page all read. Each is judged from what clients saw (the [`History`] oracle)
//! or from the replicas themselves, never from the store's own bookkeeping of acknowledgements.
//!
//! - A [`Kind::Always`] property must hold at every moment of every run.
//! - An [`Kind::Eventually`] property must hold once faults are healed, clients have stopped, and
//!   gossip, handoff and anti-entropy have had time to finish.
//! - A [`Kind::Sometimes`] property must hold in some runs: a run set that never reaches it does
//!   not exercise what it claims to test.
//!
//! A check reads a [`Cluster`]: the configuration, the ring, the nodes and the history. A
//! [`Simulation`] is one (`Cluster::from(&sim)`); the model checker (`check/`, kvlab-check), which
//! drives [`Node`]s itself, builds one over each state it explores, so the sweep and the model
//! checker judge runs by the very same functions.
//!
//! [`History`]: super::History

use super::invariants::ConvergenceReport;
use super::{History, Simulation};
use crate::config::Config;
use crate::node::Node;
use crate::ring::{RangeId, Ring};
use crate::types::NodeId;
use serde::{Deserialize, Serialize};

/// What the properties and the history oracle's verdicts read of a cluster.
#[derive(Clone, Copy, Debug)]
pub struct Cluster<'a> {
    /// The configuration every node runs.
    pub config: &'a Config,
    /// The ring every node routes by.
    pub ring: &'a Ring,
    /// Every node, by id (crashed ones included: their disks keep what they had).
    pub nodes: &'a [Node],
    /// What the clients saw.
    pub history: &'a History,
}

impl<'a> From<&'a Simulation> for Cluster<'a> {
    fn from(sim: &'a Simulation) -> Self {
        Cluster {
            config: sim.config(),
            ring: sim.ring(),
            nodes: sim.nodes(),
            history: sim.history(),
        }
    }
}

impl Cluster<'_> {
    /// One node; `None` for an unknown id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// Convergence: all home replicas of each range have equal Merkle roots.
    pub fn check_convergence(&self) -> ConvergenceReport {
        let mut report = ConvergenceReport::default();
        for (range, _, _) in self.ring.ranges() {
            report.ranges += 1;
            if self.range_converged(range) {
                report.converged += 1;
            } else {
                report.diverged.push(range);
            }
        }
        report
    }

    /// Whether all home replicas of `range` have equal Merkle roots.
    pub fn range_converged(&self, range: RangeId) -> bool {
        let replicas = self
            .ring
            .preference_list(range.0, usize::from(self.config.n));
        let mut roots = replicas.iter().map(|r| {
            self.node(*r)
                .and_then(|n| n.merkle_root(range))
                .unwrap_or_default()
        });
        let first = roots.next();
        roots.all(|h| Some(h) == first)
    }
}

/// When a property must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// At every moment.
    Always,
    /// Once the run is healed and quiet.
    Eventually,
    /// In some runs.
    Sometimes,
}

/// One property: its name, when it must hold, and how to check it now. The check returns why it
/// does not hold.
#[derive(Clone, Copy, Debug)]
pub struct Property {
    /// A short name, for reports and the page.
    pub name: &'static str,
    /// When it must hold.
    pub kind: Kind,
    /// What it means, in a sentence.
    pub meaning: &'static str,
    /// Whether it holds of the cluster now (`(p.check)(&Cluster::from(&sim))` for a simulation).
    pub check: fn(&Cluster<'_>) -> Result<(), String>,
}

impl Property {
    /// The property named `name`, if there is one.
    pub fn named(name: &str) -> Option<&'static Property> {
        PROPERTIES.iter().find(|p| p.name == name)
    }
}

/// Every property, always-properties first.
pub static PROPERTIES: [Property; 7] = [
    Property {
        name: "no acknowledged write lost",
        kind: Kind::Always,
        meaning: "every write a client was told succeeded, unless a client read it and wrote over \
                  it, is held by some node (its store or a hint)",
        check: no_acknowledged_write_lost,
    },
    Property {
        name: "no resurrection",
        kind: Kind::Always,
        meaning: "no read returns a version next to a later one whose writer had read it",
        check: no_resurrection,
    },
    Property {
        name: "no covered sibling",
        kind: Kind::Always,
        meaning: "no read returns two versions one of which covers the other",
        check: no_covered_sibling,
    },
    Property {
        name: "reads show only real writes",
        kind: Kind::Always,
        meaning: "no read returns a version no client wrote, no two writes share a dot, no put is \
                  acknowledged with a version never written, and with R + W > N and no fault no \
                  read misses an acknowledged write",
        check: reads_show_only_real_writes,
    },
    Property {
        name: "acknowledged writes on all homes",
        kind: Kind::Eventually,
        meaning: "every acknowledged write not written over is on each of its key's N home \
                  replicas, and nothing the oracle checks at the end is violated",
        check: acknowledged_writes_on_all_homes,
    },
    Property {
        name: "converged",
        kind: Kind::Eventually,
        meaning: "all home replicas of every range have equal Merkle roots",
        check: converged,
    },
    Property {
        name: "siblings",
        kind: Kind::Sometimes,
        meaning: "a read returned concurrent versions side by side",
        check: siblings,
    },
];

fn no_acknowledged_write_lost(c: &Cluster<'_>) -> Result<(), String> {
    match c.history.live_in(c).lost {
        0 => Ok(()),
        n => Err(format!("{n} acknowledged writes are held by no node")),
    }
}

fn no_resurrection(c: &Cluster<'_>) -> Result<(), String> {
    match c.history.resurrections() {
        0 => Ok(()),
        n => Err(format!(
            "{n} reads returned a version next to its successor"
        )),
    }
}

fn no_covered_sibling(c: &Cluster<'_>) -> Result<(), String> {
    match c.history.covered_siblings() {
        0 => Ok(()),
        n => Err(format!(
            "{n} reads returned a version next to one covering it"
        )),
    }
}

fn reads_show_only_real_writes(c: &Cluster<'_>) -> Result<(), String> {
    let h = c.history;
    match h.live_violations() - h.resurrections() - h.covered_siblings() {
        0 => Ok(()),
        n => {
            let first = h.examples().first().map(ToString::to_string);
            Err(format!(
                "{n} violations, first: {}",
                first.unwrap_or_default()
            ))
        }
    }
}

fn acknowledged_writes_on_all_homes(c: &Cluster<'_>) -> Result<(), String> {
    let report = c.history.final_check_in(c);
    if report.ok() {
        Ok(())
    } else {
        Err(format!("the oracle finds {report}"))
    }
}

fn converged(c: &Cluster<'_>) -> Result<(), String> {
    let conv = c.check_convergence();
    if conv.ok() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} ranges did not converge",
            conv.diverged.len(),
            conv.ranges
        ))
    }
}

fn siblings(c: &Cluster<'_>) -> Result<(), String> {
    match c.history.sibling_reads() {
        0 => Err("no read returned siblings".to_owned()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, ConflictMode};
    use crate::message::Request;
    use crate::types::{NodeId, Time, Value};
    use crate::vclock::VectorClock;

    fn blind_puts(mode: ConflictMode) -> Simulation {
        let mut sim = Simulation::new(Config {
            nodes: 3,
            conflict_mode: mode,
            ..Config::default()
        })
        .unwrap();
        sim.run_until(Time(300));
        for (via, v) in [(0, "a"), (1, "b"), (2, "c")] {
            let value = Value::from(v);
            let context = VectorClock::new();
            let key = "k".into();
            sim.submit(
                NodeId(via),
                Request::Put {
                    key,
                    value,
                    context,
                },
            );
        }
        sim.run_until(Time(1_000));
        sim.submit(NodeId(0), Request::Get { key: "k".into() });
        sim.run_until(Time(8_000));
        sim
    }

    #[test]
    fn names_are_unique_and_findable() {
        for p in &PROPERTIES {
            assert!(std::ptr::eq(Property::named(p.name).unwrap(), p));
        }
        assert!(Property::named("nonsense").is_none());
    }

    #[test]
    fn concurrent_blind_writes_keep_every_property_and_show_siblings() {
        let sim = blind_puts(ConflictMode::VectorClock);
        for p in &PROPERTIES {
            assert_eq!((p.check)(&Cluster::from(&sim)), Ok(()), "{}", p.name);
        }
    }

    #[test]
    fn last_write_wins_fails_the_oracle_and_shows_no_siblings() {
        // Negative control: two of three acknowledged blind writes are dropped.
        let sim = blind_puts(ConflictMode::LastWriteWins);
        let fails = |name| (Property::named(name).unwrap().check)(&Cluster::from(&sim)).is_err();
        assert!(fails("acknowledged writes on all homes"));
        assert!(fails("siblings"));
        assert!(!fails("converged"));
    }
}
