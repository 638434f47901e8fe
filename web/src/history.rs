//! Step back and jumps into the past. The core is deterministic, so the page keeps a clone of
//! the `Simulation` after every user action and every `CHECKPOINT_EVERY` events, and reaches an
//! earlier position by cloning the nearest snapshot before it and stepping forward.

use kvlab_core::{Simulation, Time};

/// Events between two snapshots. Cloning a 32-node cluster costs milliseconds (its stores and
/// Merkle trees), replaying costs microseconds an event: a step back replays at most this many
/// (tens of ms) and a snapshot costs one late frame every few seconds of play.
pub const CHECKPOINT_EVERY: u64 = 20_000;
/// Snapshots kept besides the start of the run (about 7 MB each at 32 nodes with a heavy
/// workload): they reach back 24 × CHECKPOINT_EVERY events. A step back or a jump further than
/// that lands on the oldest one kept, and says so; the start stays reachable through Reset.
const CHECKPOINTS_KEPT: usize = 24;
/// The longest replay a step back or a jump may run within one frame.
const MAX_REPLAY: u64 = 2 * CHECKPOINT_EVERY;

/// Where a guided tour stood at a snapshot: its step and the time that step started.
pub type TourMark = Option<(usize, u64)>;

/// A position in the run: user actions so far, events processed, simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    actions: u64,
    events: u64,
    now: u64,
}

#[derive(Clone)]
struct Checkpoint {
    pos: Pos,
    sim: Simulation,
    tour: TourMark,
}

/// A simulation brought back from a snapshot, and where the tour stood then.
pub struct Restored {
    /// The simulation at the position asked for (or at the oldest snapshot kept).
    pub sim: Simulation,
    /// The tour's step at that snapshot.
    pub tour: TourMark,
}

/// Snapshots and the undo stack of one run.
pub struct History {
    actions: u64,
    checkpoints: Vec<Checkpoint>,
    undo: Vec<Pos>,
    /// What the page should tell about the last step back or jump.
    notice: Option<String>,
    /// Events the last step back or jump replayed.
    last_replay: u64,
}

impl History {
    /// A history whose first snapshot is `sim` now.
    pub fn new(sim: &Simulation, tour: TourMark) -> History {
        let mut h = History {
            actions: 0,
            checkpoints: Vec::new(),
            undo: Vec::new(),
            notice: None,
            last_replay: 0,
        };
        h.checkpoint(sim, tour);
        h
    }

    fn pos(&self, sim: &Simulation) -> Pos {
        Pos {
            actions: self.actions,
            events: sim.stats().events,
            now: sim.now().ms(),
        }
    }

    fn checkpoint(&mut self, sim: &Simulation, tour: TourMark) {
        self.checkpoints.push(Checkpoint {
            pos: self.pos(sim),
            sim: sim.clone(),
            tour,
        });
        if self.checkpoints.len() > kept(sim) {
            // Keep the very first (the start of the run); thin out the oldest after it.
            self.checkpoints.remove(1);
        }
    }

    /// Takes a snapshot when `CHECKPOINT_EVERY` events ran since the last one.
    pub fn maybe_checkpoint(&mut self, sim: &Simulation, tour: TourMark) {
        let last = self.checkpoints.last().map_or(0, |c| c.pos.events);
        if sim.stats().events >= last + CHECKPOINT_EVERY {
            self.checkpoint(sim, tour);
        }
    }

    /// Something changed the simulation outside `step`: a new branch of history starts here.
    pub fn user_action(&mut self, sim: &Simulation, tour: TourMark) {
        self.actions += 1;
        self.undo.clear();
        self.checkpoint(sim, tour);
    }

    /// Remembers where a step starts, for step back.
    pub fn push_undo(&mut self, sim: &Simulation) {
        let p = self.pos(sim);
        self.undo.push(p);
    }

    /// Forgets the last notice.
    pub fn clear_notice(&mut self) {
        self.notice = None;
    }

    /// What the page should tell about the last step back or jump, if anything.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Events the last step back or jump replayed (bounded by `MAX_REPLAY`); the soak tests
    /// check the bound.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn last_replay(&self) -> u64 {
        self.last_replay
    }

    /// Where the last step (from `sim`) started, or one event back; `None` when no snapshot
    /// reaches that far.
    pub fn back(&mut self, sim: &Simulation) -> Option<Restored> {
        let cur = self.pos(sim);
        self.notice = None;
        let target = loop {
            match self.undo.pop() {
                Some(p) if p < cur => break p,
                Some(_) => continue,
                None => {
                    if cur.events == 0 {
                        return None;
                    }
                    break Pos {
                        actions: cur.actions,
                        events: cur.events - 1,
                        now: 0,
                    };
                }
            }
        };
        self.restore(target)
    }

    /// The snapshot to replay from for a position of branch `actions`: the latest one `before` it,
    /// or, when that would replay more than `MAX_REPLAY` events (only the start of the run is
    /// older), the oldest one `after` it, with a notice starting with `verb`. The replay runs to
    /// event `to` when the position's event count is known, else up to the later snapshot.
    /// Returns its index and whether it landed after the position. Cloning a snapshot costs
    /// milliseconds, so only the chosen one is cloned, by the caller.
    fn replay_start(
        &mut self,
        actions: u64,
        before: impl Fn(&Pos) -> bool,
        after: impl Fn(&Pos) -> bool,
        to: Option<u64>,
        verb: &str,
    ) -> Option<(usize, bool)> {
        let same = |c: &Checkpoint| c.pos.actions == actions;
        let i = self
            .checkpoints
            .iter()
            .rposition(|c| same(c) && before(&c.pos))?;
        let later = self
            .checkpoints
            .iter()
            .position(|c| same(c) && after(&c.pos));
        match later {
            Some(j)
                if to.unwrap_or(self.checkpoints[j].pos.events)
                    - self.checkpoints[i].pos.events
                    > MAX_REPLAY =>
            {
                self.notice = Some(format!(
                    "{verb} {} s, the oldest moment kept; earlier ones need Reset and a replay",
                    self.checkpoints[j].pos.now / 1000
                ));
                Some((j, true))
            }
            _ => Some((i, false)),
        }
    }

    /// Replays from the nearest snapshot to `target` (its `now` is only reached when it lies
    /// beyond the time of its last event).
    fn restore(&mut self, target: Pos) -> Option<Restored> {
        let (i, landed) = self.replay_start(
            target.actions,
            |p| p.events <= target.events,
            |p| p.events > target.events,
            Some(target.events),
            "went back to",
        )?;
        let target = if landed {
            self.checkpoints[i].pos
        } else {
            target
        };
        let cp = self.checkpoints[i].clone();
        let mut sim = cp.sim;
        self.last_replay = target.events.saturating_sub(cp.pos.events);
        while sim.stats().events < target.events {
            if sim.step().is_none() {
                break;
            }
        }
        if target.now > sim.now().ms() {
            sim.run_until(Time(target.now));
        }
        self.actions = target.actions;
        self.checkpoints.retain(|c| c.pos.actions <= target.actions);
        Some(Restored { sim, tour: cp.tour })
    }

    /// `sim` moved back to time `t` (earlier than its own) by replay: the simulation there, or at
    /// the oldest snapshot kept when `t` lies further back (with a notice).
    pub fn jump_back(&mut self, t: u64) -> Option<Simulation> {
        let (i, landed) = self.replay_start(
            self.actions,
            |p| p.now <= t,
            |p| p.now > t,
            None,
            "jumped to",
        )?;
        let cp = self.checkpoints[i].clone();
        let t = if landed { cp.pos.now } else { t };
        let mut sim = cp.sim;
        let before = sim.stats().events;
        sim.run_until(Time(t));
        self.last_replay = sim.stats().events - before;
        self.undo.clear();
        Some(sim)
    }
}

/// Snapshots kept: CHECKPOINTS_KEPT for clusters up to the size of 32 nodes × 8 vnodes × N = 3,
/// fewer (down to 4) for larger ones, whose snapshots are bigger (a replica's ranges and the
/// messages in flight dominate), so that snapshots stay near 200 MB whatever the settings.
fn kept(sim: &Simulation) -> usize {
    let c = sim.config();
    let size = usize::from(c.nodes) * usize::from(c.vnodes) * usize::from(c.n);
    (CHECKPOINTS_KEPT * (32 * 8 * 3) / size.max(1)).clamp(4, CHECKPOINTS_KEPT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvlab_core::Config;

    fn sim() -> Simulation {
        Simulation::new(Config {
            seed: 9,
            nodes: 5,
            ..Config::default()
        })
        .unwrap()
    }

    #[test]
    fn back_returns_to_where_each_step_started() {
        let mut s = sim();
        let mut h = History::new(&s, None);
        let mut at = Vec::new();
        for _ in 0..50 {
            h.push_undo(&s);
            at.push((s.stats().events, s.trace_hash()));
            s.step();
        }
        while let Some(want) = at.pop() {
            let r = h.back(&s).expect("the start is kept");
            s = r.sim;
            assert_eq!((s.stats().events, s.trace_hash()), want);
        }
        assert!(h.back(&s).is_none(), "nothing before the start");
    }

    #[test]
    fn a_jump_beyond_the_snapshots_kept_lands_on_the_oldest_and_says_so() {
        let mut s = sim();
        s.start_workload(kvlab_core::Workload {
            clients: 40,
            ..kvlab_core::Workload::default()
        });
        let mut h = History::new(&s, None);
        let start_now = s.now().ms();
        // Far more events than MAX_REPLAY, with snapshots along the way, and the oldest thinned.
        while s.stats().events < 40 * CHECKPOINT_EVERY {
            s.step();
            h.maybe_checkpoint(&s, None);
        }
        let back = h.jump_back(start_now + 1).expect("a snapshot");
        assert!(back.now().ms() > start_now + 1, "landed on the oldest kept");
        assert!(h.notice().is_some_and(|n| n.starts_with("jumped to")));
        assert!(h.last_replay() <= MAX_REPLAY);
    }
}
