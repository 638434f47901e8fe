//! The page's driver of the simulation: display time, step back by replay from snapshots,
//! guided scenarios, client requests, and read-outs into the plain view types of `view.rs`.
//!
//! Step back works because the core is deterministic: the engine keeps a clone of the
//! `Simulation` after every user action and every `CHECKPOINT_EVERY` events, and reaches an
//! earlier position by cloning the nearest snapshot before it and stepping forward.

use crate::format::{parse_context, value_text};
use crate::view::*;
use kvlab_core::{
    Config, ConfigError, Fault, Key, MemberStatus, MerkleHash, NodeId, RangeId, Ratio, ReplyBody,
    Request, RequestId, Scenario, Simulation, Tier, Time, TraceKind, Value, VectorClock, Workload,
};
use std::collections::{BTreeMap, BTreeSet};

/// Events between two snapshots. Cloning a 32-node cluster costs milliseconds (its stores and
/// Merkle trees), replaying costs microseconds an event: a step back replays at most this many
/// (tens of ms) and a snapshot costs one late frame every few seconds of play.
const CHECKPOINT_EVERY: u64 = 20_000;
/// Snapshots kept besides the start of the run (about 7 MB each at 32 nodes with a heavy
/// workload): they reach back 24 × CHECKPOINT_EVERY events. A step back or a jump further than
/// that lands on the oldest one kept, and says so; the start stays reachable through Reset.
const CHECKPOINTS_KEPT: usize = 24;
/// The longest replay a step back or a jump may run within one frame.
const MAX_REPLAY: u64 = 2 * CHECKPOINT_EVERY;
/// Events one animation frame may process at first; the driver adapts it to the frame time.
pub const EVENT_BUDGET: u64 = 20_000;
/// Trace events kept in memory (the timeline shows the recent ones, export writes them all).
const TRACE_KEPT: usize = 4_000;
/// Settled writes the oracle remembers (open ones are always kept): about 2.5 MB in the live
/// engine and in each snapshot, however long the page plays.
const HISTORY_KEPT: usize = 4_096;
/// Ranges whose replicas one invariant check compares (see `check_convergence_slice`).
const CONVERGENCE_SLICE: usize = 512;
/// Keys drawn on the ring at most.
const KEY_DOTS: usize = 300;
/// Keys listed in the inspector at most.
const STORAGE_ROWS: usize = 200;

/// A position in the run: user actions so far, events processed, simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    actions: u64,
    events: u64,
    now: u64,
}

#[derive(Clone)]
struct Checkpoint {
    pos: Pos,
    sim: Simulation,
    scenario_step: Option<usize>,
}

/// A guided scenario in progress.
struct ScenarioRun {
    scenario: Scenario,
    step: usize,
}

/// A request sent from the client console.
#[derive(Clone, Debug)]
struct ConsoleRequest {
    req: RequestId,
    put: bool,
    key: String,
    via: NodeId,
}

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
    actions: u64,
    disp: f64,
    checkpoints: Vec<Checkpoint>,
    undo: Vec<Pos>,
    scenario: Option<ScenarioRun>,
    /// Run (animated) until this time, whatever the play button says.
    auto_until: Option<u64>,
    /// Sim ms per real ms while running `auto_until`.
    auto_rate: f64,
    /// Run until this request is answered.
    waiting: Option<RequestId>,
    console: Vec<ConsoleRequest>,
    invariants: Invariants,
    workload: u32,
    /// Events one `tick` may process; past it the simulation falls behind the requested speed
    /// rather than freezing the page.
    event_budget: u64,
    /// Whether the last `tick` ran out of its event budget.
    lagging: bool,
    /// Something the page should tell the user about the last step back or jump.
    notice: Option<String>,
    /// The last convergence verdict of each range, and where the next slice starts.
    converged: Vec<bool>,
    conv_cursor: usize,
    /// Events the last step back or jump replayed.
    last_replay: u64,
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

impl Engine {
    /// A fresh cluster; `clients` > 0 starts a background workload.
    pub fn new(cfg: Config, clients: u32) -> Result<Engine, ConfigError> {
        let mut sim = Simulation::new(cfg)?;
        sim.set_trace_capacity(TRACE_KEPT);
        sim.set_history_bound(Some(HISTORY_KEPT));
        if clients > 0 {
            sim.start_workload(workload(clients));
        }
        Ok(Engine::from_sim(sim, clients, None))
    }

    fn from_sim(sim: Simulation, clients: u32, scenario: Option<ScenarioRun>) -> Engine {
        let names = names_of(sim.config());
        let mut e = Engine {
            disp: sim.now().ms() as f64,
            sim,
            names,
            actions: 0,
            checkpoints: Vec::new(),
            undo: Vec::new(),
            scenario,
            auto_until: None,
            auto_rate: 0.1,
            waiting: None,
            console: Vec::new(),
            invariants: Invariants::default(),
            workload: clients,
            event_budget: EVENT_BUDGET,
            lagging: false,
            notice: None,
            converged: Vec::new(),
            conv_cursor: 0,
            last_replay: 0,
        };
        e.checkpoint();
        e.check_invariants();
        e
    }

    /// A guided scenario at its start (step 0 running), or at the end of `step` when `jump`.
    pub fn scenario(id: &str, step: usize, jump: bool) -> Option<Engine> {
        let scenario = Scenario::by_id(id)?;
        let mut sim = Simulation::new(scenario.config.clone()).ok()?;
        sim.set_trace_capacity(TRACE_KEPT);
        sim.set_history_bound(Some(HISTORY_KEPT));
        let mut e = Engine::from_sim(sim, 0, Some(ScenarioRun { scenario, step: 0 }));
        let last = step.min(e.scenario_len().saturating_sub(1));
        for k in 0..=last {
            e.start_scenario_step(k);
            if jump || k < last {
                e.finish_auto();
            }
        }
        e.check_invariants();
        Some(e)
    }

    fn scenario_len(&self) -> usize {
        self.scenario.as_ref().map_or(0, |s| s.scenario.steps.len())
    }

    fn pos(&self) -> Pos {
        Pos {
            actions: self.actions,
            events: self.sim.stats().events,
            now: self.sim.now().ms(),
        }
    }

    fn checkpoint(&mut self) {
        let cp = Checkpoint {
            pos: self.pos(),
            sim: self.sim.clone(),
            scenario_step: self.scenario.as_ref().map(|s| s.step),
        };
        self.checkpoints.push(cp);
        if self.checkpoints.len() > self.checkpoints_kept() {
            // Keep the very first (the start of the run); thin out the oldest after it.
            self.checkpoints.remove(1);
        }
    }

    /// Snapshots kept: CHECKPOINTS_KEPT for clusters up to the size of 32 nodes × 8 vnodes × N = 3,
    /// fewer (down to 4) for larger ones, whose snapshots are bigger (a replica's ranges and the
    /// messages in flight dominate), so that snapshots stay near 200 MB whatever the settings.
    fn checkpoints_kept(&self) -> usize {
        let c = self.sim.config();
        let size = usize::from(c.nodes) * usize::from(c.vnodes) * usize::from(c.n);
        (CHECKPOINTS_KEPT * (32 * 8 * 3) / size.max(1)).clamp(4, CHECKPOINTS_KEPT)
    }

    /// Something changed the simulation outside `step`: a new branch of history starts here.
    fn user_action(&mut self) {
        self.actions += 1;
        self.undo.clear();
        self.checkpoint();
    }

    fn maybe_checkpoint(&mut self) {
        let last = self.checkpoints.last().map_or(0, |c| c.pos.events);
        if self.sim.stats().events >= last + CHECKPOINT_EVERY {
            self.checkpoint();
        }
    }

    /// Events the last step back or jump replayed (bounded by `MAX_REPLAY`).
    #[cfg(test)]
    pub fn last_replay(&self) -> u64 {
        self.last_replay
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
        self.disp
    }

    /// Simulated time, ms.
    pub fn now(&self) -> u64 {
        self.sim.now().ms()
    }

    /// Whether the engine is running on its own (a scenario step or a console request).
    pub fn auto_running(&self) -> bool {
        self.auto_until.is_some() || self.waiting.is_some()
    }

    /// Advances the display by `real_ms` of wall time at `speed` (sim ms per real ms) when
    /// `playing`, or at the auto rate when a scenario step or a request is running.
    /// Returns whether anything moved.
    pub fn tick(&mut self, real_ms: f64, speed: f64, playing: bool) -> bool {
        let real_ms = real_ms.clamp(0.0, 100.0);
        let rate = if self.auto_running() {
            self.auto_rate.max(speed)
        } else if playing {
            speed
        } else {
            return false;
        };
        let mut target = self.disp + real_ms * rate;
        if let Some(until) = self.auto_until {
            target = target.min(until as f64);
        }
        self.advance_to(target);
        if let Some(until) = self.auto_until {
            if self.sim.now().ms() >= until {
                self.auto_until = None;
                self.check_invariants();
            }
        }
        if let Some(req) = self.waiting {
            if self.sim.reply(req).is_some() || self.sim.next_event_time().is_none() {
                self.waiting = None;
                self.check_invariants();
            }
        }
        true
    }

    fn advance_to(&mut self, t: f64) {
        let t = t.max(self.disp);
        // Run event by event so a snapshot lands every CHECKPOINT_EVERY events, and at most
        // `event_budget` of them: a cluster that cannot keep up runs slower, never freezes.
        let whole = Time(t as u64);
        let mut left = self.event_budget;
        self.lagging = false;
        while self.sim.next_event_time().is_some_and(|at| at <= whole) {
            if left == 0 {
                self.lagging = true;
                self.disp = self.sim.now().ms() as f64;
                return;
            }
            left -= 1;
            if self.sim.step().is_none() {
                break;
            }
            self.maybe_checkpoint();
        }
        self.sim.run_until(whole);
        self.disp = t;
    }

    /// Sets how many events one frame may process (the driver adapts it to the frame time).
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

    /// What the page should tell about the last step back or jump, if anything.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Runs the current scenario step (or request) to its end at once.
    pub fn finish_auto(&mut self) {
        if let Some(until) = self.auto_until.take() {
            self.advance_to(until as f64);
        }
        if let Some(req) = self.waiting.take() {
            let limit = self.sim.now().plus(60_000);
            while self.sim.reply(req).is_none() && self.sim.now() < limit {
                if self.sim.step().is_none() {
                    break;
                }
                self.maybe_checkpoint();
            }
            self.disp = self.sim.now().ms() as f64;
        }
    }

    /// Processes one event.
    pub fn step(&mut self) {
        self.finish_auto();
        self.undo.push(self.pos());
        if self.sim.step().is_some() {
            self.maybe_checkpoint();
        }
        self.disp = self.sim.now().ms() as f64;
    }

    /// Runs to the next protocol round boundary.
    pub fn step_round(&mut self) {
        self.finish_auto();
        self.undo.push(self.pos());
        let boundary = {
            let round = self.sim.config().gossip_interval_ms.max(1);
            (self.sim.now().ms() / round + 1) * round
        };
        // Event by event (as step_round does) so snapshots keep landing.
        while self
            .sim
            .next_event_time()
            .is_some_and(|at| at.ms() < boundary)
        {
            if self.sim.step().is_none() {
                break;
            }
            self.maybe_checkpoint();
        }
        self.sim.step_round();
        self.disp = self.sim.now().ms() as f64;
    }

    /// Goes back to where the last step started (or one event back). False when no snapshot
    /// reaches that far.
    pub fn step_back(&mut self) -> bool {
        self.auto_until = None;
        self.waiting = None;
        let cur = self.pos();
        self.notice = None;
        let target = loop {
            match self.undo.pop() {
                Some(p) if p < cur => break p,
                Some(_) => continue,
                None => {
                    if cur.events == 0 {
                        return false;
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
    /// event `to` when the position's event count is known, else up to the later snapshot. Returns its index
    /// and whether it landed after the position. Cloning a snapshot costs milliseconds, so only
    /// the chosen one is cloned, by the caller.
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
    fn restore(&mut self, target: Pos) -> bool {
        let Some((i, landed)) = self.replay_start(
            target.actions,
            |p| p.events <= target.events,
            |p| p.events > target.events,
            Some(target.events),
            "went back to",
        ) else {
            return false;
        };
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
        self.sim = sim;
        self.actions = target.actions;
        if let (Some(run), Some(step)) = (self.scenario.as_mut(), cp.scenario_step) {
            run.step = step;
        }
        self.checkpoints.retain(|c| c.pos.actions <= target.actions);
        self.disp = self.sim.now().ms() as f64;
        self.check_invariants();
        true
    }

    /// Moves the simulation to time `t`: forward by running, backward by replay.
    pub fn jump_to(&mut self, t: u64) {
        self.auto_until = None;
        self.waiting = None;
        self.notice = None;
        if t >= self.sim.now().ms() {
            self.undo.push(self.pos());
            self.advance_to(t as f64);
        } else {
            let Some((i, landed)) = self.replay_start(
                self.actions,
                |p| p.now <= t,
                |p| p.now > t,
                None,
                "jumped to",
            ) else {
                return;
            };
            let cp = self.checkpoints[i].clone();
            let t = if landed { cp.pos.now } else { t };
            self.sim = cp.sim;
            let before = self.sim.stats().events;
            self.sim.run_until(Time(t));
            self.last_replay = self.sim.stats().events - before;
            self.undo.clear();
            self.disp = t as f64;
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
        self.waiting = Some(req);
        self.auto_rate = 0.06;
        self.user_action();
        req.0
    }

    /// The console's requests, newest first, with their replies when they came.
    pub fn console(&self) -> Vec<ReplyView> {
        let name = |n: NodeId| self.names.get(n.index()).cloned().unwrap_or_default();
        let mut requests: BTreeMap<RequestId, ConsoleRequest> =
            self.console.iter().map(|c| (c.req, c.clone())).collect();
        // A guided scenario's own requests show too: they are what its captions talk about.
        if self.scenario.is_some() {
            for ev in self.sim.trace() {
                if let TraceKind::Submit { req, via, key, put } = &ev.kind {
                    requests.entry(*req).or_insert_with(|| ConsoleRequest {
                        req: *req,
                        put: *put,
                        key: key.to_string(),
                        via: *via,
                    });
                }
            }
        }
        requests
            .values()
            .rev()
            .take(20)
            .map(|c| {
                let mut v = ReplyView {
                    req: c.req.0,
                    op: if c.put { "put" } else { "get" }.into(),
                    key: c.key.clone(),
                    coordinator: name(c.via),
                    ok: false,
                    error: None,
                    siblings: Vec::new(),
                    context: String::new(),
                    pending: true,
                };
                if let Some(r) = self.sim.reply(c.req) {
                    v.pending = false;
                    v.coordinator = name(r.coordinator);
                    match &r.body {
                        ReplyBody::PutOk { version } => {
                            v.ok = true;
                            v.siblings = vec![SiblingView {
                                value: value_text(version.value.as_bytes()),
                                clock: version.clock().display_with(name),
                            }];
                        }
                        ReplyBody::GetOk { siblings, context } => {
                            v.ok = true;
                            v.siblings = siblings
                                .iter()
                                .map(|s| SiblingView {
                                    value: value_text(s.value.as_bytes()),
                                    clock: s.clock().display_with(name),
                                })
                                .collect();
                            v.context = context.display_with(name);
                        }
                        ReplyBody::Failed(e) => v.error = Some(e.to_string()),
                    }
                }
                v
            })
            .collect()
    }

    /// Opens the next step of the guided scenario (animated). False at the end.
    pub fn scenario_next(&mut self) -> bool {
        self.finish_auto();
        let Some(run) = self.scenario.as_ref() else {
            return false;
        };
        let next = run.step + 1;
        if next >= run.scenario.steps.len() {
            return false;
        }
        self.start_scenario_step(next);
        true
    }

    fn start_scenario_step(&mut self, i: usize) {
        let Some(run) = self.scenario.as_mut() else {
            return;
        };
        let Some(step) = run.scenario.steps.get(i).cloned() else {
            return;
        };
        run.step = i;
        let now = self.sim.now();
        for a in step.actions {
            self.sim.schedule(now, a);
        }
        self.user_action();
        let until = step.until.ms().max(now.ms());
        // Every step plays in about three seconds, however long it is in simulated time.
        self.auto_rate = ((until - now.ms()) as f64 / 3_000.0).max(0.02);
        self.auto_until = Some(until);
    }

    /// The scenario at the end of its previous step (replayed).
    pub fn scenario_back(&mut self) -> bool {
        let Some(run) = self.scenario.as_ref() else {
            return false;
        };
        if run.step == 0 {
            return false;
        }
        let (id, step) = (run.scenario.id.clone(), run.step - 1);
        match Engine::scenario(&id, step, true) {
            Some(e) => {
                *self = e;
                true
            }
            None => false,
        }
    }

    /// Where the guided scenario stands.
    pub fn scenario_view(&self) -> Option<ScenarioView> {
        let run = self.scenario.as_ref()?;
        let s = &run.scenario;
        let step = s.steps.get(run.step)?;
        Some(ScenarioView {
            id: s.id.clone(),
            section: s.section,
            title: s.title.clone(),
            step: run.step,
            steps: s.steps.len(),
            caption: step.caption.clone(),
            panel: step.panel.clone(),
            focus: step.focus.map(|n| n.0),
            settled: self.auto_until.is_none(),
            key: s.key.to_string(),
        })
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
        let s = self.sim.stats();
        Metrics {
            now: self.sim.now().ms(),
            events: s.events,
            sent_by_kind: s.sent_by_kind.to_vec(),
            bytes: s.bytes_sent,
            delivered: s.delivered,
            dropped: s.dropped,
            puts_ok: s.puts_ok,
            gets_ok: s.gets_ok,
            failed: s.failed,
            in_flight: self.sim.in_flight().count(),
        }
    }

    /// Messages in the network, into `out` (cleared first; reused across frames).
    pub fn flights(&self, out: &mut Vec<Flight>) {
        out.clear();
        out.extend(self.sim.in_flight().map(|m| Flight {
            from: m.from.0,
            to: m.to.0,
            kind: m.kind.index() as u8,
            sent: m.sent_at.ms(),
            deliver: m.deliver_at.ms(),
            doomed: m.doomed,
        }));
    }

    /// Messages that died in the last `window` ms, into `out`.
    pub fn deaths(&self, window: u64, out: &mut Vec<Death>) {
        out.clear();
        let since = self.sim.now().ms().saturating_sub(window);
        for ev in self.sim.trace().iter().rev() {
            if ev.time.ms() < since {
                break;
            }
            if let TraceKind::Drop { from, to, kind, .. } = &ev.kind {
                out.push(Death {
                    from: from.0,
                    to: to.0,
                    kind: kind.index() as u8,
                    at: ev.time.ms(),
                });
            }
        }
    }

    /// Recent messages for the space-time diagram: sent since `since`, newest `max`.
    pub fn arrows(&self, since: u64, max: usize) -> Vec<Arrow> {
        let mut dropped = BTreeSet::new();
        let mut out = Vec::new();
        for ev in self.sim.trace().iter().rev() {
            match &ev.kind {
                TraceKind::Drop { id, .. } => {
                    dropped.insert(*id);
                }
                TraceKind::Send {
                    id,
                    from,
                    to,
                    kind,
                    deliver_at,
                    ..
                } => {
                    if ev.time.ms() < since || out.len() >= max {
                        break;
                    }
                    out.push(Arrow {
                        from: from.0,
                        to: to.0,
                        kind: kind.index() as u8,
                        sent: ev.time.ms(),
                        end: deliver_at.ms(),
                        dropped: dropped.contains(id),
                    });
                }
                _ => {}
            }
        }
        out.reverse();
        out
    }

    /// The ring: tokens, node badges and stored keys.
    pub fn ring_view(&self) -> RingView {
        let ring = self.sim.ring();
        let n = self.sim.config().n;
        let ids: Vec<NodeId> = (0..self.names.len() as u16).map(NodeId).collect();
        let mut suspected = vec![0u16; ids.len()];
        for (i, node) in self.sim.nodes().iter().enumerate() {
            if !self.sim.is_up(NodeId(i as u16)) {
                continue;
            }
            for m in node.membership().members() {
                if m.id.index() != i && m.status != MemberStatus::Alive {
                    if let Some(s) = suspected.get_mut(m.id.index()) {
                        *s += 1;
                    }
                }
            }
        }
        let groups = self.sim.partition_groups();
        let nodes = ids
            .iter()
            .map(|&id| NodeBadge {
                id: id.0,
                name: self.names[id.index()].clone(),
                up: self.sim.is_up(id),
                group: groups.get(id.index()).copied().unwrap_or(0),
                suspected_by: suspected[id.index()],
                hints: self
                    .sim
                    .node(id)
                    .map_or(0, |nd| nd.hints().values().map(BTreeMap::len).sum()),
            })
            .collect();
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        if let Some(run) = &self.scenario {
            if run.scenario.key.as_str() != "-" {
                keys.insert(run.scenario.key.clone());
            }
        }
        'outer: for node in self.sim.nodes() {
            for k in node.store().keys_sorted() {
                if keys.len() >= KEY_DOTS {
                    break 'outer;
                }
                keys.insert(k.clone());
            }
        }
        let keys = keys
            .into_iter()
            .map(|k| {
                let pos = ring.position_of_key(k.as_str());
                KeyDot {
                    pref: ring
                        .preference_list(pos, usize::from(n))
                        .into_iter()
                        .map(|n| n.0)
                        .collect(),
                    key: k.to_string(),
                    pos,
                }
            })
            .collect();
        RingView {
            nodes,
            tokens: ring.tokens().iter().map(|&(t, n)| (t, n.0)).collect(),
            keys,
            n,
        }
    }

    /// What the inspector shows about node `id`.
    pub fn node_detail(&self, id: u16) -> Option<NodeDetail> {
        let nid = NodeId(id);
        let node = self.sim.node(nid)?;
        let name = |n: NodeId| self.names.get(n.index()).cloned().unwrap_or_default();
        let store = node.store();
        let entries = store.entries_for_ui();
        let keys_total = entries.len();
        let storage = entries
            .into_iter()
            .take(STORAGE_ROWS)
            .map(|e| {
                let siblings = store
                    .peek(e.key.as_str())
                    .map(|vs| {
                        vs.versions()
                            .iter()
                            .map(|v| SiblingView {
                                value: value_text(v.value.as_bytes()),
                                clock: v.clock().display_with(name),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                StorageRow {
                    key: e.key.to_string(),
                    siblings,
                    tier: match e.tier {
                        Tier::Hot => "hot",
                        Tier::Cold => "cold",
                    }
                    .to_string(),
                    stored: e.stored_bytes as u64,
                    raw: e.raw_bytes as u64,
                }
            })
            .collect();
        let st = store.stats();
        let totals = StoreTotals {
            hot_entries: st.hot_entries,
            cold_entries: st.cold_entries,
            hot_bytes: st.hot_bytes,
            cold_bytes: st.cold_bytes,
            ratio: st.compression_ratio,
        };
        let membership = node
            .membership()
            .members()
            .iter()
            .map(|m| MemberRow {
                id: m.id.0,
                name: name(m.id),
                heartbeat: m.heartbeat,
                last_increase: m.last_increase.ms(),
                status: if m.status == MemberStatus::Alive {
                    "alive"
                } else {
                    "offline"
                }
                .into(),
            })
            .collect();
        let hints = node
            .hints()
            .iter()
            .map(|(owner, keys)| HintRow {
                owner: name(*owner),
                keys: keys.keys().map(|k| k.to_string()).collect(),
            })
            .collect();
        Some(NodeDetail {
            id,
            name: name(nid),
            up: self.sim.is_up(nid),
            storage,
            keys_total,
            totals,
            membership,
            hints,
            ranges: node.ranges().map(|r| r.0).collect(),
        })
    }

    /// Node `id`'s Merkle tree of `range` (its first range when `None`), compared level by
    /// level with the same range's tree on the next replica.
    pub fn merkle_view(&mut self, id: u16, range: Option<u64>) -> Option<MerkleView> {
        let nid = NodeId(id);
        let range = match range {
            Some(r) => r,
            None => self.sim.node(nid)?.ranges().next()?.0,
        };
        let n = usize::from(self.sim.config().n);
        let peer = self
            .sim
            .ring()
            .preference_list(range, n)
            .into_iter()
            .find(|&p| p != nid);
        let levels_of = |sim: &mut Simulation, who: NodeId| -> Option<Vec<Vec<MerkleHash>>> {
            let tree = sim.node(who)?.merkle_tree(RangeId(range))?;
            Some(
                (0..=tree.depth())
                    .map(|l| tree.level_hashes(l).to_vec())
                    .collect(),
            )
        };
        let mine = levels_of(&mut self.sim, nid)?;
        let theirs = peer.and_then(|p| levels_of(&mut self.sim, p));
        let levels = mine
            .iter()
            .enumerate()
            .map(|(l, hs)| {
                hs.iter()
                    .enumerate()
                    .map(|(i, h)| {
                        let differs = theirs
                            .as_ref()
                            .and_then(|t| t.get(l))
                            .and_then(|lv| lv.get(i))
                            .is_some_and(|o| o != h);
                        (h.short(), differs)
                    })
                    .collect()
            })
            .collect();
        let mut synced = Vec::new();
        for ev in self.sim.trace().iter().rev() {
            if let TraceKind::Node {
                node,
                event:
                    kvlab_core::NodeEvent::MerkleSynced {
                        range: r, buckets, ..
                    },
            } = &ev.kind
            {
                if *node == nid && r.0 == range {
                    synced = buckets.clone();
                    break;
                }
            }
        }
        Some(MerkleView {
            range,
            peer: peer.map(|p| self.names[p.index()].clone()),
            levels,
            bucket_keys: Vec::new(),
            synced,
        })
    }

    /// Recent Merkle bucket syncs: (node, peer, buckets, keys merged), oldest first.
    pub fn merkle_syncs(&self) -> Vec<(String, String, Vec<u32>, u64)> {
        let name = |n: NodeId| self.names.get(n.index()).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for ev in self.sim.trace() {
            if let TraceKind::Node {
                node,
                event:
                    kvlab_core::NodeEvent::MerkleSynced {
                        peer,
                        buckets,
                        keys,
                        ..
                    },
            } = &ev.kind
            {
                out.push((name(*node), name(*peer), buckets.clone(), *keys));
            }
        }
        let skip = out.len().saturating_sub(50);
        out.split_off(skip)
    }

    /// The kept trace as JSON.
    pub fn trace_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Export<'a> {
            config: &'a Config,
            now: u64,
            trace_hash: String,
            events: Vec<&'a kvlab_core::TraceEvent>,
        }
        let e = Export {
            config: self.sim.config(),
            now: self.sim.now().ms(),
            trace_hash: format!("{:016x}", self.sim.trace_hash()),
            events: self.sim.trace().iter().collect(),
        };
        serde_json::to_string(&e).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
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
