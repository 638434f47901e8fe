//! The playback clock: the display time (fractional between events), play speed, the animated
//! runs of a tour step or a console request, and the per-frame event budget.

use crate::history::{History, TourMark};
use kvlab_core::{RequestId, Simulation, Time};

/// Events one animation frame may process at first; the driver adapts it to the frame time.
pub const EVENT_BUDGET: u64 = 20_000;

/// How the display advances over the simulation.
pub struct Playback {
    /// The time messages are drawn at, ms.
    disp: f64,
    /// Run (animated) until this time, whatever the play button says.
    auto_until: Option<u64>,
    /// Sim ms per real ms while running `auto_until` or `waiting`.
    auto_rate: f64,
    /// Run until this request is answered.
    waiting: Option<RequestId>,
    /// Events one `tick` may process; past it the simulation falls behind the requested speed
    /// rather than freezing the page.
    event_budget: u64,
    /// Whether the last `tick` ran out of its event budget.
    lagging: bool,
}

/// What a `tick` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticked {
    /// The display moved.
    pub moved: bool,
    /// An animated run (tour step or request) ended in this tick.
    pub settled: bool,
}

impl Playback {
    /// A clock showing `sim` as it is now.
    pub fn new(sim: &Simulation) -> Playback {
        Playback {
            disp: sim.now().ms() as f64,
            auto_until: None,
            auto_rate: 0.1,
            waiting: None,
            event_budget: EVENT_BUDGET,
            lagging: false,
        }
    }

    /// The time messages are drawn at (fractional between events), ms.
    pub fn display_now(&self) -> f64 {
        self.disp
    }

    /// Shows `sim` as it is now (after a step, a replay or a jump).
    pub fn sync(&mut self, sim: &Simulation) {
        self.disp = sim.now().ms() as f64;
    }

    /// Whether an animated run is under way (a tour step or a console request).
    pub fn auto_running(&self) -> bool {
        self.auto_until.is_some() || self.waiting.is_some()
    }

    /// Whether a tour step's animated run is under way.
    pub fn running_step(&self) -> bool {
        self.auto_until.is_some()
    }

    /// Runs, animated, until `until` at `rate` sim ms per real ms.
    pub fn run_until(&mut self, until: u64, rate: f64) {
        self.auto_until = Some(until);
        self.auto_rate = rate;
    }

    /// Runs, animated, until request `req` is answered.
    pub fn wait_for(&mut self, req: RequestId, rate: f64) {
        self.waiting = Some(req);
        self.auto_rate = rate;
    }

    /// Stops any animated run.
    pub fn stop(&mut self) {
        self.auto_until = None;
        self.waiting = None;
    }

    /// Sets how many events one frame may process.
    pub fn set_event_budget(&mut self, events: u64) {
        self.event_budget = events.max(1);
    }

    /// Events one frame may process.
    pub fn event_budget(&self) -> u64 {
        self.event_budget
    }

    /// Whether the last frame ran out of its event budget (the run is slower than asked).
    pub fn lagging(&self) -> bool {
        self.lagging
    }

    /// Advances the display by `real_ms` of wall time at `speed` (sim ms per real ms) when
    /// `playing`, or at the auto rate when an animated run is under way.
    pub fn tick(
        &mut self,
        sim: &mut Simulation,
        hist: &mut History,
        tour: TourMark,
        real_ms: f64,
        speed: f64,
        playing: bool,
    ) -> Ticked {
        let real_ms = real_ms.clamp(0.0, 100.0);
        let rate = if self.auto_running() {
            self.auto_rate.max(speed)
        } else if playing {
            speed
        } else {
            return Ticked {
                moved: false,
                settled: false,
            };
        };
        let mut target = self.disp + real_ms * rate;
        if let Some(until) = self.auto_until {
            target = target.min(until as f64);
        }
        self.advance_to(sim, hist, tour, target);
        let mut settled = false;
        if let Some(until) = self.auto_until {
            if sim.now().ms() >= until {
                self.auto_until = None;
                settled = true;
            }
        }
        if let Some(req) = self.waiting {
            if sim.reply(req).is_some() || sim.next_event_time().is_none() {
                self.waiting = None;
                settled = true;
            }
        }
        Ticked {
            moved: true,
            settled,
        }
    }

    /// Runs `sim` to display time `t`, event by event so a snapshot lands every
    /// `CHECKPOINT_EVERY` events, and at most `event_budget` of them: a cluster that cannot keep
    /// up runs slower, never freezes.
    pub fn advance_to(&mut self, sim: &mut Simulation, hist: &mut History, tour: TourMark, t: f64) {
        let t = t.max(self.disp);
        let whole = Time(t as u64);
        let mut left = self.event_budget;
        self.lagging = false;
        while sim.next_event_time().is_some_and(|at| at <= whole) {
            if left == 0 {
                self.lagging = true;
                self.disp = sim.now().ms() as f64;
                return;
            }
            left -= 1;
            if sim.step().is_none() {
                break;
            }
            hist.maybe_checkpoint(sim, tour);
        }
        sim.run_until(whole);
        self.disp = t;
    }

    /// Runs the animated run (tour step or request) to its end at once.
    pub fn finish(&mut self, sim: &mut Simulation, hist: &mut History, tour: TourMark) {
        if let Some(until) = self.auto_until.take() {
            self.advance_to(sim, hist, tour, until as f64);
        }
        if let Some(req) = self.waiting.take() {
            let limit = sim.now().plus(60_000);
            while sim.reply(req).is_none() && sim.now() < limit {
                if sim.step().is_none() {
                    break;
                }
                hist.maybe_checkpoint(sim, tour);
            }
            self.disp = sim.now().ms() as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvlab_core::Config;

    #[test]
    fn an_animated_run_stops_at_its_end_and_says_so_once() {
        let mut sim = Simulation::new(Config::default()).unwrap();
        let mut hist = History::new(&sim, None);
        let mut pb = Playback::new(&sim);
        pb.run_until(300, 0.1);
        let mut settled = 0;
        for _ in 0..40 {
            let t = pb.tick(&mut sim, &mut hist, None, 100.0, 0.0, false);
            settled += u32::from(t.settled);
        }
        assert_eq!(settled, 1);
        assert_eq!(sim.now().ms(), 300, "the run ends exactly at its end");
        assert!(!pb.auto_running());
        // Paused and nothing animated: a tick moves nothing.
        let t = pb.tick(&mut sim, &mut hist, None, 100.0, 1.0, false);
        assert!(!t.moved);
    }

    #[test]
    fn a_small_budget_runs_behind_but_runs_the_same_events() {
        let cfg = Config {
            seed: 4,
            ..Config::default()
        };
        let (mut a, mut b) = (
            Simulation::new(cfg.clone()).unwrap(),
            Simulation::new(cfg).unwrap(),
        );
        let (mut ha, mut hb) = (History::new(&a, None), History::new(&b, None));
        let (mut pa, mut pb) = (Playback::new(&a), Playback::new(&b));
        pb.set_event_budget(3);
        pa.advance_to(&mut a, &mut ha, None, 2_000.0);
        let mut lagged = false;
        while b.now().ms() < 2_000 || pb.display_now() < 2_000.0 {
            pb.advance_to(&mut b, &mut hb, None, 2_000.0);
            lagged |= pb.lagging();
        }
        assert!(lagged, "three events a frame cannot keep up");
        assert_eq!(a.trace_hash(), b.trace_hash());
    }
}
