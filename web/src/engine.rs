//! The page's model of a run: the simulation, composed with its history (snapshots, step back),
//! its playback clock, the guided tour and the console's requests. Every change of the run goes
//! through a method here; read-outs are the pure functions of `view.rs`.

use crate::format::parse_context;
use crate::history::{History, TourMark};
use crate::playback::Playback;
use crate::tour::Tour;
use crate::view::{self, *};
use kvlab_core::{
    Config, ConfigError, Fault, Key, NodeId, RangeId, Ratio, Request, Simulation, Time, Value,
    VectorClock, Workload,
};

/// Trace events kept in memory (the timeline shows the recent ones, export writes them all).
const TRACE_KEPT: usize = 4_000;
/// Settled writes the oracle remembers (open ones are always kept): about 2.5 MB in the live
/// engine and in each snapshot, however long the page plays.
const HISTORY_KEPT: usize = 4_096;
/// Ranges whose replicas one invariant check compares (see `check_convergence_slice`).
const CONVERGENCE_SLICE: usize = 512;
/// Sim ms per real ms while a console request runs.
const REQUEST_RATE: f64 = 0.06;

/// A fault as the page asks for it.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultReq {
    /// Crash a node.
    Crash(u16),
    /// Restart a crashed node.
    Restart(u16),
    /// Wipe a node's disk.
    Wipe(u16),
    /// Cut these nodes off from the rest.
    Partition(Vec<u16>),
    /// Remove every partition.
    Heal,
    /// Message loss, percent.
    Loss(u32),
}

/// The simulation and everything the page keeps about it.
pub struct Engine {
    sim: Simulation,
    names: Vec<String>,
    history: History,
    playback: Playback,
    tour: Option<Tour>,
    console: Vec<ConsoleRequest>,
    invariants: Invariants,
    workload: u32,
    /// The last convergence verdict of each range, and where the next slice starts.
    converged: Vec<bool>,
    conv_cursor: usize,
}

fn names_of(cfg: &Config) -> Vec<String> {
    (0..cfg.nodes)
        .map(|i| {
            cfg.node_names
                .get(usize::from(i))
                .cloned()
                .unwrap_or_else(|| format!("S{i}"))
        })
        .collect()
}

fn workload(clients: u32) -> Workload {
    Workload {
        clients,
        keys: 200,
        think_ms: 20,
        ..Workload::default()
    }
}

fn bounded(mut sim: Simulation) -> Simulation {
    sim.set_trace_capacity(TRACE_KEPT);
    sim.set_history_bound(Some(HISTORY_KEPT));
    sim
}

impl Engine {
    /// A fresh cluster; `clients` > 0 starts a background workload.
    pub fn new(cfg: Config, clients: u32) -> Result<Engine, ConfigError> {
        let mut sim = bounded(Simulation::new(cfg)?);
        if clients > 0 {
            sim.start_workload(workload(clients));
        }
        Ok(Engine::from_sim(sim, clients, None))
    }

    fn from_sim(sim: Simulation, clients: u32, tour: Option<Tour>) -> Engine {
        let mark = tour.as_ref().and_then(Tour::mark);
        let mut e = Engine {
            names: names_of(sim.config()),
            history: History::new(&sim, mark),
            playback: Playback::new(&sim),
            sim,
            tour,
            console: Vec::new(),
            invariants: Invariants::default(),
            workload: clients,
            converged: Vec::new(),
            conv_cursor: 0,
        };
        e.check_invariants();
        e
    }

    /// A guided scenario at its start (step 0 running), or at the end of `step` when `jump`.
    pub fn scenario(id: &str, step: usize, jump: bool) -> Option<Engine> {
        let (tour, sim) = Tour::open(id)?;
        let mut e = Engine::from_sim(bounded(sim), 0, Some(tour));
        let last = step.min(e.tour.as_ref().map_or(0, Tour::len).saturating_sub(1));
        for k in 0..=last {
            e.start_tour_step(k);
            if jump || k < last {
                e.finish_auto();
            }
        }
        e.check_invariants();
        Some(e)
    }

    fn mark(&self) -> TourMark {
        self.tour.as_ref().and_then(Tour::mark)
    }

    /// Something changed the simulation outside `step`: a new branch of history starts here.
    fn user_action(&mut self) {
        let mark = self.mark();
        self.history.user_action(&self.sim, mark);
    }

    /// Events the last step back or jump replayed (bounded by the history's replay limit).
    #[cfg(test)]
    pub fn last_replay(&self) -> u64 {
        self.history.last_replay()
    }

    /// The simulation, for the native soak tests.
    #[cfg(test)]
    pub fn sim_for_tests(&self) -> &Simulation {
        &self.sim
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.sim.config()
    }

    /// Node names by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Background workload clients.
    pub fn workload_clients(&self) -> u32 {
        self.workload
    }

    /// The time messages are drawn at (fractional between events), ms.
    pub fn display_now(&self) -> f64 {
        self.playback.display_now()
    }

    /// Simulated time, ms.
    pub fn now(&self) -> u64 {
        self.sim.now().ms()
    }

    /// Whether the engine is running on its own (a scenario step or a console request).
    pub fn auto_running(&self) -> bool {
        self.playback.auto_running()
    }

    /// Advances the display by `real_ms` of wall time at `speed` (sim ms per real ms) when
    /// `playing`, or at the auto rate when a scenario step or a request is running.
    /// Returns whether anything moved.
    pub fn tick(&mut self, real_ms: f64, speed: f64, playing: bool) -> bool {
        let mark = self.mark();
        let t = self.playback.tick(
            &mut self.sim,
            &mut self.history,
            mark,
            real_ms,
            speed,
            playing,
        );
        if t.settled {
            self.check_invariants();
        }
        t.moved
    }

    /// Sets how many events one frame may process (the driver adapts it to the frame time).
    pub fn set_event_budget(&mut self, events: u64) {
        self.playback.set_event_budget(events);
    }

    /// Events one frame may process.
    pub fn event_budget(&self) -> u64 {
        self.playback.event_budget()
    }

    /// Whether the last frame ran out of its event budget (the run is slower than asked).
    pub fn lagging(&self) -> bool {
        self.playback.lagging()
    }

    /// What the page should tell about the last step back or jump, if anything.
    pub fn notice(&self) -> Option<&str> {
        self.history.notice()
    }

    /// Runs the current scenario step (or request) to its end at once.
    pub fn finish_auto(&mut self) {
        let mark = self.mark();
        self.playback.finish(&mut self.sim, &mut self.history, mark);
    }

    /// Processes one event.
    pub fn step(&mut self) {
        self.finish_auto();
        self.history.push_undo(&self.sim);
        if self.sim.step().is_some() {
            let mark = self.mark();
            self.history.maybe_checkpoint(&self.sim, mark);
        }
        self.playback.sync(&self.sim);
    }

    /// Runs to the next protocol round boundary.
    pub fn step_round(&mut self) {
        self.finish_auto();
        self.history.push_undo(&self.sim);
        let boundary = {
            let round = self.sim.config().gossip_interval_ms.max(1);
            (self.sim.now().ms() / round + 1) * round
        };
        // Event by event (as step_round does) so snapshots keep landing.
        let mark = self.mark();
        while self
            .sim
            .next_event_time()
            .is_some_and(|at| at.ms() < boundary)
        {
            if self.sim.step().is_none() {
                break;
            }
            self.history.maybe_checkpoint(&self.sim, mark);
        }
        self.sim.step_round();
        self.playback.sync(&self.sim);
    }

    /// Goes back to where the last step started (or one event back). False when no snapshot
    /// reaches that far.
    pub fn step_back(&mut self) -> bool {
        self.playback.stop();
        let Some(r) = self.history.back(&self.sim) else {
            return false;
        };
        self.sim = r.sim;
        if let Some(tour) = self.tour.as_mut() {
            tour.restore(r.tour);
        }
        self.playback.sync(&self.sim);
        self.check_invariants();
        true
    }

    /// Moves the simulation to time `t`: forward by running, backward by replay.
    pub fn jump_to(&mut self, t: u64) {
        self.playback.stop();
        self.history.clear_notice();
        if t >= self.sim.now().ms() {
            self.history.push_undo(&self.sim);
            let mark = self.mark();
            self.playback
                .advance_to(&mut self.sim, &mut self.history, mark, t as f64);
        } else if let Some(sim) = self.history.jump_back(t) {
            // The replay ran to `t` (or to the oldest snapshot kept, after it): show that.
            self.sim = sim;
            self.playback.sync(&self.sim);
        }
        self.check_invariants();
    }

    /// Injects a fault now.
    pub fn fault(&mut self, f: FaultReq) {
        self.finish_auto();
        let n = self.names.len() as u16;
        let fault = match f {
            FaultReq::Crash(i) if i < n => Fault::Crash(NodeId(i)),
            FaultReq::Restart(i) if i < n => Fault::Restart(NodeId(i)),
            FaultReq::Wipe(i) if i < n => Fault::Wipe(NodeId(i)),
            FaultReq::Partition(side) => {
                Fault::Partition(side.into_iter().filter(|&i| i < n).map(NodeId).collect())
            }
            FaultReq::Heal => Fault::Heal,
            FaultReq::Loss(p) => Fault::Loss(Ratio::percent(p.min(100))),
            _ => return,
        };
        self.sim.apply(fault);
        self.user_action();
        self.check_invariants();
    }

    /// Sends a put from the console; it then runs (animated) until answered.
    pub fn put(&mut self, via: u16, key: &str, value: &str, context: &str) -> Result<u64, String> {
        let ctx = parse_context(context, &self.names)?;
        if key.is_empty() {
            return Err("the key must not be empty".into());
        }
        let mut clock = VectorClock::new();
        for (actor, c) in ctx {
            clock.set(actor, c, Time::ZERO);
        }
        let request = Request::Put {
            key: Key::from(key),
            value: Value::from(value),
            context: clock,
        };
        Ok(self.submit(via, key, true, request))
    }

    /// Sends a get from the console.
    pub fn get(&mut self, via: u16, key: &str) -> Result<u64, String> {
        if key.is_empty() {
            return Err("the key must not be empty".into());
        }
        let request = Request::Get {
            key: Key::from(key),
        };
        Ok(self.submit(via, key, false, request))
    }

    fn submit(&mut self, via: u16, key: &str, put: bool, request: Request) -> u64 {
        self.finish_auto();
        let via = NodeId(via.min(self.names.len().saturating_sub(1) as u16));
        let req = self.sim.submit(via, request);
        self.console.push(ConsoleRequest {
            req,
            put,
            key: key.to_string(),
            via,
        });
        if self.console.len() > 50 {
            self.console.remove(0);
        }
        self.playback.wait_for(req, REQUEST_RATE);
        self.user_action();
        req.0
    }

    /// The console's requests, newest first, with their replies when they came.
    pub fn console(&self) -> Vec<ReplyView> {
        view::console_view(&self.sim, &self.names, &self.console, self.tour.is_some())
    }

    /// Opens the next step of the guided scenario (animated). False at the end.
    pub fn scenario_next(&mut self) -> bool {
        self.finish_auto();
        let Some(tour) = self.tour.as_ref() else {
            return false;
        };
        let next = tour.step() + 1;
        if next >= tour.len() {
            return false;
        }
        self.start_tour_step(next);
        true
    }

    fn start_tour_step(&mut self, i: usize) {
        let Some(tour) = self.tour.as_mut() else {
            return;
        };
        let Some((until, rate)) = tour.start(&mut self.sim, i) else {
            return;
        };
        self.user_action();
        self.playback.run_until(until, rate);
    }

    /// The scenario at the end of its previous step (replayed).
    pub fn scenario_back(&mut self) -> bool {
        let Some(tour) = self.tour.as_ref() else {
            return false;
        };
        if tour.step() == 0 {
            return false;
        }
        match Engine::scenario(tour.id(), tour.step() - 1, true) {
            Some(e) => {
                *self = e;
                true
            }
            None => false,
        }
    }

    /// The guided scenario's id, if one runs.
    pub fn scenario_id(&self) -> Option<&str> {
        self.tour.as_ref().map(Tour::id)
    }

    /// Simulated time at which the guided scenario's current step started.
    pub fn step_started(&self) -> Option<u64> {
        self.tour.as_ref().map(Tour::started)
    }

    /// Where the guided scenario stands.
    pub fn scenario_view(&self) -> Option<ScenarioView> {
        let settled = !self.playback.running_step();
        self.tour.as_ref()?.view(settled)
    }

    /// Runs the invariant checks (about once a second, not every frame). The verdict on writes is
    /// the history oracle's, judged by what clients saw; its cost follows the open writes and the
    /// ranges, not the length of the run.
    pub fn check_invariants(&mut self) {
        let v = self.sim.history().live(&self.sim);
        let (ranges, converged) = self.check_convergence_slice();
        self.invariants = Invariants {
            acked: v.acked,
            superseded: v.superseded,
            pending: v.pending,
            lost: v.lost,
            anomalies: v.violations,
            anomaly_examples: (self.sim.history().examples().iter().take(3))
                .map(ToString::to_string)
                .collect(),
            ranges,
            converged,
            at: self.sim.now().ms(),
        };
    }

    /// Compares the replicas of at most `CONVERGENCE_SLICE` ranges (the next ones, round robin)
    /// and returns (ranges, converged) from the verdicts kept for all of them: a 128 × 64 ring has
    /// 8,192 ranges, too many to compare every second, and a verdict is at most a few checks old.
    fn check_convergence_slice(&mut self) -> (u64, u64) {
        let ranges: Vec<RangeId> = self.sim.ring().ranges().map(|(id, _, _)| id).collect();
        if self.converged.len() != ranges.len() {
            self.converged = vec![false; ranges.len()];
            self.conv_cursor = 0;
        }
        let slice = ranges.len().min(CONVERGENCE_SLICE);
        for _ in 0..slice {
            let i = self.conv_cursor % ranges.len();
            self.converged[i] = self.sim.range_converged(ranges[i]);
            self.conv_cursor = (i + 1) % ranges.len();
        }
        let ok = self.converged.iter().filter(|&&c| c).count();
        (ranges.len() as u64, ok as u64)
    }

    /// The last invariant check.
    pub fn invariants(&self) -> &Invariants {
        &self.invariants
    }

    /// Counters.
    pub fn metrics(&self) -> Metrics {
        view::metrics(&self.sim)
    }

    /// Messages in the network, into `out` (cleared first; reused across frames).
    pub fn flights(&self, out: &mut Vec<Flight>) {
        view::flights(&self.sim, out);
    }

    /// Messages that died in the last `window` ms, into `out`.
    pub fn deaths(&self, window: u64, out: &mut Vec<Death>) {
        view::deaths(&self.sim, window, out);
    }

    /// Recent messages for the space-time diagram (see `view::arrows`).
    pub fn arrows(&self, since: u64, max: usize, hidden: u16) -> Vec<Arrow> {
        view::arrows(&self.sim, since, max, hidden)
    }

    /// The ring: tokens, node badges and stored keys.
    pub fn ring_view(&self) -> RingView {
        view::ring_view(&self.sim, &self.names, self.tour.as_ref().map(Tour::key))
    }

    /// What the inspector shows about node `id`.
    pub fn node_detail(&self, id: u16) -> Option<NodeDetail> {
        view::node_detail(&self.sim, &self.names, id)
    }

    /// Recent Merkle bucket syncs: (node, peer, buckets, keys merged), oldest first.
    pub fn merkle_syncs(&self) -> Vec<(String, String, Vec<u32>, u64)> {
        view::merkle_syncs(&self.sim, &self.names)
    }

    /// The kept trace as JSON.
    pub fn trace_json(&self) -> String {
        view::trace_json(&self.sim)
    }

    /// Digest of the run so far: equal digests mean equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.sim.trace_hash()
    }

    /// The events processed.
    pub fn events(&self) -> u64 {
        self.sim.stats().events
    }
}

/// Read-outs for the inspector's teaching views (see `inspect.rs`).
impl Engine {
    /// Node `id`'s membership list with each member's failure-detector countdown.
    pub fn membership_view(&self, id: u16) -> Option<crate::inspect::MembershipView> {
        crate::inspect::membership(&self.sim, &self.names, NodeId(id))
    }

    /// Every replica of `key` side by side.
    pub fn replicas_view(&self, key: &str) -> crate::inspect::ReplicasView {
        crate::inspect::replicas(&self.sim, &self.names, key)
    }

    /// Node `id`'s Merkle tree of `range` next to its exchange peer's.
    pub fn merkle_pair(&self, id: u16, range: Option<u64>) -> Option<crate::inspect::MerklePair> {
        crate::inspect::merkle_pair(&self.sim, &self.names, NodeId(id), range)
    }

    /// The open teaching panel's view: the selected node's timers or Merkle pair, or the
    /// replicas of the selected key (the guided scenario's key when none is selected).
    pub fn inspect_views(&self, ui: &crate::state::Ui) -> crate::inspect::Views {
        use crate::state::Panel;
        let mut v = crate::inspect::Views::default();
        match ui.panel {
            Panel::Membership => v.membership = ui.selected.and_then(|id| self.membership_view(id)),
            Panel::Merkle => {
                v.merkle = ui
                    .selected
                    .and_then(|id| self.merkle_pair(id, ui.merkle_range))
            }
            Panel::Replicas => {
                let key = ui.selected_key.clone().or_else(|| {
                    let tour = self.tour.as_ref()?;
                    Some(tour.key().to_string()).filter(|k| k != "-")
                });
                v.replicas = key.map(|k| self.replicas_view(&k));
            }
            _ => {}
        }
        v
    }
}
