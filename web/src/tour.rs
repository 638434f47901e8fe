//! A guided tour: core's scenario data, one step at a time. Each step is started with
//! `Scenario::start_step` (the same code `Scenario::run_step` uses) and then animated up to its
//! end, so the page runs exactly what the scenario tests check.

use crate::history::TourMark;
use crate::view::ScenarioView;
use kvlab_core::{Key, Scenario, Simulation};

/// Every step plays in about this many real milliseconds, however long it is in simulated time.
const STEP_REAL_MS: f64 = 3_000.0;

/// A guided tour in progress.
pub struct Tour {
    scenario: Scenario,
    step: usize,
    /// Simulated time at which the current step started.
    started: u64,
}

impl Tour {
    /// The tour with this id and a fresh simulation of its cluster, before its first step.
    pub fn open(id: &str) -> Option<(Tour, Simulation)> {
        let scenario = Scenario::by_id(id)?;
        let sim = Simulation::new(scenario.config.clone()).ok()?;
        Some((
            Tour {
                scenario,
                step: 0,
                started: 0,
            },
            sim,
        ))
    }

    /// Its id ("s2").
    pub fn id(&self) -> &str {
        &self.scenario.id
    }

    /// The key it is about (`-` for none).
    pub fn key(&self) -> &Key {
        &self.scenario.key
    }

    /// Its number of steps.
    pub fn len(&self) -> usize {
        self.scenario.steps.len()
    }

    /// The current step.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Simulated time at which the current step started.
    pub fn started(&self) -> u64 {
        self.started
    }

    /// Where it stands, for snapshots.
    pub fn mark(&self) -> TourMark {
        Some((self.step, self.started))
    }

    /// Back to where a snapshot says it stood.
    pub fn restore(&mut self, mark: TourMark) {
        if let Some((step, started)) = mark {
            self.step = step;
            self.started = started;
        }
    }

    /// Starts step `i` on `sim`: returns the time it runs to and the rate (sim ms per real ms)
    /// that plays it in about three seconds; `None` past the last step.
    pub fn start(&mut self, sim: &mut Simulation, i: usize) -> Option<(u64, f64)> {
        let now = sim.now().ms();
        let until = self.scenario.start_step(sim, i)?.ms();
        self.step = i;
        self.started = now;
        let rate = ((until - now) as f64 / STEP_REAL_MS).max(0.02);
        Some((until, rate))
    }

    /// What the narration shows; `settled` once the step's run ended.
    pub fn view(&self, settled: bool) -> Option<ScenarioView> {
        let s = &self.scenario;
        let step = s.steps.get(self.step)?;
        Some(ScenarioView {
            id: s.id.clone(),
            section: s.section,
            title: s.title.clone(),
            step: self.step,
            steps: s.steps.len(),
            caption: step.caption.clone(),
            panel: step.panel.clone(),
            focus: step.focus.map(|n| n.0),
            settled,
            key: s.key.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_starts_where_the_last_ended_and_paces_to_three_seconds() {
        let (mut tour, mut sim) = Tour::open("s3").unwrap();
        for i in 0..tour.len() {
            let (until, rate) = tour.start(&mut sim, i).unwrap();
            assert_eq!(tour.started(), sim.now().ms());
            assert!(rate >= 0.02);
            sim.run_until(kvlab_core::Time(until));
            assert_eq!(tour.view(true).unwrap().step, i);
        }
        assert!(tour.start(&mut sim, tour.len()).is_none());
        assert_eq!(
            sim.trace_hash(),
            Scenario::gossip().simulation_at(3).trace_hash()
        );
    }
}
