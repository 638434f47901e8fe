//! The discrete-event simulator: nodes, a network of in-flight messages, faults, clients and a trace.
//!
//! One seed drives everything. Events are ordered by `(time, seq)`, where `seq` only grows, so ties
//! break the same way every run, natively and in wasm.

mod history;
mod invariants;
mod properties;
mod queue;
mod trace;
mod workload;

pub use history::{History, LiveVerdict, OracleReport, Violation};
pub use invariants::{AckReport, ConvergenceReport, LostWrite};
pub use properties::{Cluster, Kind as PropertyKind, Property, PROPERTIES};
pub use trace::{DropReason, TraceEvent, TraceKind};
pub use workload::Workload;

use crate::config::{Config, ConfigError, MAX_LATENCY_MS};
use crate::message::{InFlight, Msg, MsgKind, Reply, ReplyBody, Request, RequestError};
use crate::node::{Input, Node, NodeEvent, Output};
use crate::ring::Ring;
use crate::rng::{Ratio, Rng};
use crate::types::{Actor, Key, NodeId, RequestId, Time};
use crate::vclock::Dot;
use queue::EventQueue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hasher;
use std::sync::Arc;
use trace::TraceHasher;
use workload::{ClientState, WorkloadDriver};

/// A fault the simulator can inject, deterministically. A node id the cluster does not have is
/// ignored.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// The node stops; its state is kept.
    Crash(NodeId),
    /// A crashed node starts again with the state it had.
    Restart(NodeId),
    /// The node's storage and hints are lost (a permanent failure replaced by an empty disk).
    Wipe(NodeId),
    /// These nodes can no longer exchange messages with the rest (a symmetric cut).
    Partition(Vec<NodeId>),
    /// Every partition is removed.
    Heal,
    /// The network drops each message with this probability (ignored unless it is a valid
    /// probability, as `Config::loss` must be).
    Loss(Ratio),
    /// Message latency is drawn from this range, ms (ignored unless `1 <= min_ms <= max_ms <=`
    /// [`MAX_LATENCY_MS`], as in `Config`).
    Latency {
        /// Smallest latency.
        min_ms: u64,
        /// Largest latency.
        max_ms: u64,
    },
}

/// Something scheduled in a scripted run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Inject a fault.
    Fault(Fault),
    /// A client sends `request` to node `via`.
    Submit {
        /// The node contacted.
        via: NodeId,
        /// The request.
        request: Request,
    },
    /// Start a Merkle comparison of every range `node` replicates.
    AntiEntropy(NodeId),
}

/// What one `step` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// A message arrived.
    Deliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        kind: MsgKind,
    },
    /// A message died.
    Drop {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        kind: MsgKind,
    },
    /// A node's timer fired (gossip round, anti-entropy, request deadline).
    Timer(NodeId),
    /// A client request reached its first node.
    Submit(RequestId),
    /// A client gave up waiting.
    ClientTimeout(RequestId),
    /// A scripted action ran.
    Action,
    /// A workload client woke up.
    ClientWake,
}

/// The result of one `step`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Simulated time of the event.
    pub time: Time,
    /// What happened.
    pub kind: StepKind,
}

/// Counters of the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Events processed.
    pub events: u64,
    /// Messages sent, by `MsgKind::index`.
    pub sent_by_kind: [u64; 10],
    /// Messages delivered.
    pub delivered: u64,
    /// Messages dropped (loss, partition, receiver down).
    pub dropped: u64,
    /// Bytes put on the wire.
    pub bytes_sent: u64,
    /// Requests submitted.
    pub requests: u64,
    /// Puts acknowledged to the client.
    pub puts_ok: u64,
    /// Gets answered.
    pub gets_ok: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Times a node marked a member offline that was never crashed or cut off.
    pub false_suspicions: u64,
}

/// An acknowledged write: the client was told `dot` of `key` reached W replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckedWrite {
    /// The key.
    pub key: Key,
    /// The version's dot.
    pub dot: Dot,
    /// When the client got the ack.
    pub at: Time,
}

#[derive(Clone, Debug)]
enum Ev {
    Deliver {
        info: InFlight,
        msg: Msg,
    },
    Timer(NodeId),
    Submit {
        req: RequestId,
        via: NodeId,
        request: Request,
    },
    ClientDeadline(RequestId),
    Action(Action),
    ClientWake(u32),
}

#[derive(Clone, Debug)]
struct Outstanding {
    via: NodeId,
    key: Key,
    client: Option<u32>,
}

/// A simulated cluster.
#[derive(Clone, Debug)]
pub struct Simulation {
    cfg: Arc<Config>,
    ring: Arc<Ring>,
    nodes: Vec<Node>,
    up: Vec<bool>,
    /// Partition group of each node; nodes talk only within a group.
    group: Vec<u16>,
    /// Nodes that were ever crashed or cut off (so suspecting them is not a false positive).
    faulted: Vec<bool>,
    loss: Ratio,
    latency: (u64, u64),
    now: Time,
    next_msg: u64,
    next_req: u64,
    queue: EventQueue<Ev>,
    timer_at: Vec<Option<Time>>,
    net_rng: Rng,
    trace: VecDeque<TraceEvent>,
    trace_capacity: usize,
    hasher: TraceHasher,
    stats: SimStats,
    outstanding: BTreeMap<RequestId, Outstanding>,
    replies: BTreeMap<RequestId, (Time, Reply)>,
    acked: Vec<AckedWrite>,
    workload: Option<WorkloadDriver>,
    history: History,
    /// Whether the history is bounded (see [`Simulation::set_history_bound`]).
    bounded: bool,
    /// The counters each actor was seen to issue for each key (see [`Issued`]).
    issued: HashMap<Key, BTreeMap<Actor, Issued>>,
    /// Where each request made through [`Simulation::submit`] went (see [`Route`]).
    routes: BTreeMap<RequestId, Route>,
    /// The newest request whose route was dropped to keep [`ROUTES_KEPT`].
    routes_dropped: Option<RequestId>,
}

/// Where a request made through [`Simulation::submit`] travelled: the nodes that passed it on
/// towards its key's preference list, and the replicas its coordinator asked (a stand-in with the
/// home it holds a hint for). Read off the messages sent, so it shows what the nodes did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// Each forward: (from, to), in order.
    pub forwards: Vec<(NodeId, NodeId)>,
    /// Each replica the coordinator sent the request to, and the home it stands in for.
    pub replicas: Vec<(NodeId, Option<NodeId>)>,
}

/// Routes of requests made through [`Simulation::submit`] the simulator remembers.
const ROUTES_KEPT: usize = 256;

/// Counters remembered per key and actor besides the highest (see [`Issued`]).
const ISSUED_KEPT: usize = 16;

/// The counters one actor issued for one key: the highest, and the `ISSUED_KEPT` most recent.
/// A context entry above the highest claims a write nobody made; one within the span of the
/// recent counters but not among them names another key's write (a node's counters run across
/// all its keys) and would claim this key's versions that lie below it. Only an entry older
/// than every counter remembered is taken on trust.
#[derive(Clone, Debug, Default)]
struct Issued {
    max: u64,
    recent: VecDeque<u64>,
}

impl Issued {
    fn note(&mut self, counter: u64) {
        self.max = self.max.max(counter);
        if let Err(i) = self.recent.binary_search(&counter) {
            self.recent.insert(i, counter);
            if self.recent.len() > ISSUED_KEPT {
                self.recent.pop_front();
            }
        }
    }

    /// Whether a context may name `counter` of this actor for this key.
    fn vouches(&self, counter: u64) -> bool {
        if counter > self.max {
            return false;
        }
        match self.recent.front() {
            Some(&oldest) if self.recent.len() == ISSUED_KEPT && counter < oldest => true,
            _ => self.recent.binary_search(&counter).is_ok(),
        }
    }
}

/// Acknowledged writes listed at most when the history is bounded.
pub const ACKED_KEPT: usize = 4_096;

/// How many replies to requests made through [`Simulation::submit`] the simulator remembers.
const REPLIES_KEPT: usize = 4096;

impl Simulation {
    /// A cluster as `cfg` describes it, all nodes up, at time zero.
    pub fn new(cfg: Config) -> Result<Simulation, ConfigError> {
        cfg.validate()?;
        let ids: Vec<NodeId> = (0..cfg.nodes).map(NodeId).collect();
        let ring = Arc::new(Ring::new(&ids, cfg.vnodes));
        let (n_, r_, w_, prune_) = (cfg.n, cfg.r, cfg.w, cfg.clock_prune_threshold > 0);
        let lossy = !cfg.loss.is_zero();
        let cfg = Arc::new(cfg);
        let nodes: Vec<Node> = ids
            .iter()
            .map(|&id| Node::new(id, cfg.clone(), ring.clone(), Time::ZERO))
            .collect();
        let n = nodes.len();
        let mut sim = Simulation {
            net_rng: Rng::derive(cfg.seed, "network", 0),
            loss: cfg.loss,
            latency: (cfg.latency_min_ms, cfg.latency_max_ms),
            cfg,
            ring,
            nodes,
            up: vec![true; n],
            group: vec![0; n],
            faulted: vec![false; n],
            now: Time::ZERO,
            next_msg: 0,
            next_req: 0,
            queue: EventQueue::new(),
            timer_at: vec![None; n],
            trace: VecDeque::new(),
            trace_capacity: 50_000,
            hasher: TraceHasher::new(),
            stats: SimStats::default(),
            outstanding: BTreeMap::new(),
            replies: BTreeMap::new(),
            acked: Vec::new(),
            workload: None,
            history: History::new(n_, r_, w_, prune_),
            bounded: false,
            issued: HashMap::new(),
            routes: BTreeMap::new(),
            routes_dropped: None,
        };
        if lossy {
            sim.history.on_fault();
        }
        for i in 0..n {
            sim.schedule_timer(NodeId(i as u16));
        }
        Ok(sim)
    }

    /// The benchmarks' standard run (N=3 R=2 W=2, 8 vnodes, the default [`Workload`]: 50/50
    /// put/get over 10k Zipf-0.99 keys, 100-byte values) with `clients` clients, no trace kept,
    /// warmed up for 200 ms. Native and wasm benchmarks measure the same run.
    pub fn standard_benchmark(nodes: u16, clients: u32) -> Result<Simulation, ConfigError> {
        let mut sim = Simulation::new(Config {
            seed: 7,
            nodes,
            vnodes: 8,
            n: 3,
            r: 2,
            w: 2,
            ..Config::default()
        })?;
        sim.set_trace_capacity(0);
        sim.start_workload(Workload {
            clients,
            ..Workload::default()
        });
        sim.run_until(Time(200));
        Ok(sim)
    }

    /// Keeps at most `cap` trace events in memory (0 keeps none; the trace hash covers all).
    pub fn set_trace_capacity(&mut self, cap: usize) {
        self.trace_capacity = cap;
        while self.trace.len() > cap {
            self.trace.pop_front();
        }
    }

    /// Starts a closed-loop client workload (see [`Workload`]).
    pub fn start_workload(&mut self, w: Workload) {
        let driver = WorkloadDriver::new(&self.cfg, w);
        let clients = driver.clients();
        self.workload = Some(driver);
        for c in 0..clients {
            self.push(self.now.plus(u64::from(c % 10)), Ev::ClientWake(c));
        }
    }

    /// Stops the workload: clients issue no new requests (outstanding ones still finish).
    pub fn stop_workload(&mut self) {
        self.workload = None;
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The ring.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Every node, by id.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node; `None` for an unknown id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// Whether the node is running.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.up.get(id.index()).copied().unwrap_or(false)
    }

    /// The partition group of each node: nodes exchange messages only within a group (all 0 when
    /// there is no partition). Only equality means anything: groups may be renumbered.
    pub fn partition_groups(&self) -> &[u16] {
        &self.group
    }

    /// The current loss ratio.
    pub fn loss(&self) -> Ratio {
        self.loss
    }

    /// Counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// The most recent trace events (up to the trace capacity).
    pub fn trace(&self) -> &VecDeque<TraceEvent> {
        &self.trace
    }

    /// A digest of every trace event so far: equal digests mean equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// The history oracle: what clients wrote, read and were told (see [`History`]).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Bounds the memory of the history oracle and of [`Simulation::acked_writes`] for runs that
    /// go on for hours (the page): a settled write (superseded, or never acknowledged) is forgotten
    /// once `keep` newer writes were submitted (open ones are always kept; about 300 bytes each),
    /// and at most [`ACKED_KEPT`] acknowledged writes are listed. `None` (the default) keeps
    /// everything, as the tests and the sweep need.
    pub fn set_history_bound(&mut self, keep: Option<usize>) {
        self.history.set_window(keep);
        self.bounded = keep.is_some();
    }

    /// Acknowledged writes so far.
    pub fn acked_writes(&self) -> &[AckedWrite] {
        &self.acked
    }

    /// The reply to `req`, once it came (recent requests only).
    pub fn reply(&self, req: RequestId) -> Option<&Reply> {
        self.replies.get(&req).map(|(_, r)| r)
    }

    /// Where request `req` (made through [`Simulation::submit`]) went so far.
    pub fn route(&self, req: RequestId) -> Option<&Route> {
        self.routes.get(&req)
    }

    fn note_route(&mut self, from: NodeId, to: NodeId, msg: &Msg) {
        let (req, replica) = match msg {
            Msg::Forward { req, .. } => (*req, None),
            Msg::Put { req, hint, .. } => (*req, Some((to, *hint))),
            Msg::Get { req, .. } => (*req, Some((to, None))),
            _ => return,
        };
        if self
            .outstanding
            .get(&req)
            .is_none_or(|o| o.client.is_some())
        {
            return;
        }
        if !self.routes.contains_key(&req) {
            // A request whose route was dropped (or older than one that was) starts no new one:
            // it would show the rest of its way without its start.
            if self.routes_dropped.is_some_and(|d| req <= d) {
                return;
            }
            if self.routes.len() >= ROUTES_KEPT {
                self.routes_dropped = self.routes.pop_first().map(|(r, _)| r);
            }
        }
        let route = self.routes.entry(req).or_default();
        match replica {
            None => route.forwards.push((from, to)),
            Some(r) => route.replicas.push(r),
        }
    }

    /// Messages in the network now, in no particular order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.queue.iter().filter_map(|ev| match ev {
            Ev::Deliver { info, .. } => Some(info),
            _ => None,
        })
    }

    /// Time of the next event, if any.
    pub fn next_event_time(&self) -> Option<Time> {
        self.queue.peek_time()
    }

    /// Queues `ev` at `at`. `Time(u64::MAX)`, where saturated times end up, means never: an event
    /// there is dropped, or a timer that keeps firing at the end of time would keep `run_until`
    /// from returning. (Only a run whose every node is down reaches it: `run_until` then jumps.)
    fn push(&mut self, at: Time, ev: Ev) {
        if at.0 == u64::MAX {
            return;
        }
        self.queue.push(at, ev);
    }

    fn record(&mut self, kind: TraceKind) {
        let ev = TraceEvent {
            time: self.now,
            kind,
        };
        self.hasher.add(&ev);
        if self.trace_capacity > 0 {
            if self.trace.len() >= self.trace_capacity {
                self.trace.pop_front();
            }
            self.trace.push_back(ev);
        }
    }

    /// A client sends `request` to node `via` now. The reply comes later (see [`Simulation::reply`]).
    pub fn submit(&mut self, via: NodeId, request: Request) -> RequestId {
        self.submit_at(self.now, via, request, None)
    }

    fn submit_at(
        &mut self,
        at: Time,
        via: NodeId,
        request: Request,
        client: Option<u32>,
    ) -> RequestId {
        self.next_req += 1;
        let req = RequestId(self.next_req);
        self.stats.requests += 1;
        self.history.on_submit(req, &request, client);
        self.outstanding.insert(
            req,
            Outstanding {
                via,
                key: request.key().clone(),
                client,
            },
        );
        self.push(at, Ev::Submit { req, via, request });
        // The client's own timeout: a reply lost with a crashed coordinator still ends the request.
        // Both terms are bounded (by `Config::validate` and `apply`); saturating all the same.
        let patience = self
            .cfg
            .request_timeout_ms
            .saturating_add(self.latency.1.saturating_mul(2))
            .saturating_add(1);
        self.push(at.plus(patience), Ev::ClientDeadline(req));
        req
    }

    /// Schedules `action` at time `at` (not before now). `Time(u64::MAX)` is never: such an action
    /// does not run.
    pub fn schedule(&mut self, at: Time, action: Action) {
        self.push(at.max(self.now), Ev::Action(action));
    }

    /// Injects a fault now.
    pub fn apply(&mut self, fault: Fault) {
        self.record(TraceKind::Fault(fault.clone()));
        if fault != Fault::Heal {
            self.history.on_fault();
        }
        match fault {
            Fault::Crash(n) if n.index() < self.nodes.len() => {
                self.up[n.index()] = false;
                self.faulted[n.index()] = true;
                self.timer_at[n.index()] = None;
                self.drive(n, Input::Crash);
            }
            Fault::Restart(n) if n.index() < self.nodes.len() && !self.up[n.index()] => {
                self.up[n.index()] = true;
                self.drive(n, Input::Restart);
            }
            Fault::Wipe(n) if n.index() < self.nodes.len() => {
                self.faulted[n.index()] = true;
                self.drive(n, Input::Wipe);
            }
            // A side with every node (or none) cuts nothing: it changes nothing either.
            Fault::Partition(side)
                if side.iter().any(|n| n.index() < self.nodes.len())
                    && (0..self.nodes.len()).any(|i| !side.contains(&NodeId(i as u16))) =>
            {
                let g = self.fresh_group();
                for n in side {
                    if let Some(slot) = self.group.get_mut(n.index()) {
                        *slot = g;
                        self.faulted[n.index()] = true;
                    }
                }
                // The rest lose contact with them too.
                if self.group.iter().any(|&x| x != g) {
                    for (i, &x) in self.group.iter().enumerate() {
                        if x != g {
                            self.faulted[i] = true;
                        }
                    }
                }
            }
            Fault::Heal => self.group.iter_mut().for_each(|g| *g = 0),
            Fault::Loss(r) if r.is_valid() => self.loss = r,
            // The same rule as `Config::latency_min_ms` and `latency_max_ms`.
            Fault::Latency { min_ms, max_ms }
                if min_ms >= 1 && max_ms >= min_ms && max_ms <= MAX_LATENCY_MS =>
            {
                self.latency = (min_ms, max_ms)
            }
            _ => {}
        }
    }

    /// A partition group no node is in. Numbers only grow, so the 65 536th partition since a heal
    /// would run out of them: then the groups are first renumbered `0, 1, …` in node order (there
    /// are at most as many groups as nodes), which keeps every cut as it was.
    fn fresh_group(&mut self) -> u16 {
        let top = self.group.iter().copied().max().unwrap_or(0);
        if let Some(g) = top.checked_add(1) {
            return g;
        }
        let mut renamed: Vec<(u16, u16)> = Vec::new();
        for g in &mut self.group {
            let new = match renamed.iter().find(|&&(old, _)| old == *g) {
                Some(&(_, new)) => new,
                None => {
                    let new = renamed.len() as u16;
                    renamed.push((*g, new));
                    new
                }
            };
            *g = new;
        }
        renamed.len() as u16
    }

    fn schedule_timer(&mut self, id: NodeId) {
        let i = id.index();
        if !self.up[i] {
            return;
        }
        if let Some(t) = self.nodes[i].poll_timeout() {
            let t = t.max(self.now);
            if self.timer_at[i].is_none_or(|cur| t < cur || cur < self.now) {
                self.timer_at[i] = Some(t);
                self.push(t, Ev::Timer(id));
            }
        }
    }

    /// Feeds one input to a node, then routes everything it outputs.
    fn drive(&mut self, id: NodeId, input: Input) {
        let now = self.now;
        self.nodes[id.index()].handle(now, input);
        while let Some(out) = self.nodes[id.index()].poll_output() {
            match out {
                Output::Send { to, msg } => self.send(id, to, msg),
                Output::Reply(reply) => self.on_reply(*reply),
                Output::Event(e) => self.on_node_event(id, e),
            }
        }
        self.schedule_timer(id);
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        self.note_route(from, to, &msg);
        let kind = msg.kind();
        let bytes = msg.wire_bytes() as u32;
        let latency = self.net_rng.range_inclusive(self.latency.0, self.latency.1);
        let doomed = self.net_rng.chance(self.loss);
        self.next_msg += 1;
        let info = InFlight {
            id: self.next_msg,
            from,
            to,
            kind,
            sent_at: self.now,
            deliver_at: self.now.plus(latency),
            doomed,
            bytes,
        };
        self.stats.sent_by_kind[kind.index()] += 1;
        self.stats.bytes_sent += u64::from(bytes);
        self.record(TraceKind::Send {
            id: info.id,
            from,
            to,
            kind,
            bytes,
            deliver_at: info.deliver_at,
        });
        self.push(info.deliver_at, Ev::Deliver { info, msg });
    }

    fn on_reply(&mut self, reply: Reply) {
        let Some(o) = self.outstanding.remove(&reply.req) else {
            return; // the client already gave up
        };
        let ok = !matches!(reply.body, ReplyBody::Failed(_));
        self.history.on_reply(&reply, o.client, self.now);
        match &reply.body {
            ReplyBody::PutOk { version, .. } => {
                self.stats.puts_ok += 1;
                if self.bounded && self.acked.len() >= ACKED_KEPT {
                    // Halve rather than shift one at a time: amortised O(1) per write.
                    self.acked.drain(..ACKED_KEPT / 2);
                }
                self.acked.push(AckedWrite {
                    key: reply.key.clone(),
                    dot: version.dot,
                    at: self.now,
                });
            }
            ReplyBody::GetOk { .. } => self.stats.gets_ok += 1,
            ReplyBody::Failed(_) => self.stats.failed += 1,
        }
        self.record(TraceKind::Reply {
            req: reply.req,
            coordinator: reply.coordinator,
            ok,
        });
        if let Some(c) = o.client {
            // Workload replies go to their clients only: keeping them would fill `replies` with
            // thousands of version sets nobody asks for.
            self.workload_reply(c, &reply);
            return;
        }
        if self.replies.len() >= REPLIES_KEPT {
            self.replies.pop_first();
        }
        self.replies.insert(reply.req, (self.now, reply));
    }

    fn on_node_event(&mut self, id: NodeId, e: NodeEvent) {
        match &e {
            NodeEvent::Member(c)
                if matches!(c.kind, crate::gossip::MemberChangeKind::BecameOffline)
                    && !self.faulted[c.node.index()] =>
            {
                self.stats.false_suspicions += 1;
                // A false suspicion sends writes to stand-ins: reads may then miss them.
                self.history.on_fault();
            }
            NodeEvent::Wrote { req, key, dot } => {
                self.history.on_wrote(*req, key, *dot);
                self.issued
                    .entry(key.clone())
                    .or_default()
                    .entry(dot.actor)
                    .or_default()
                    .note(dot.counter);
            }
            _ => {}
        }
        self.record(TraceKind::Node { node: id, event: e });
    }

    fn workload_reply(&mut self, client: u32, reply: &Reply) {
        let Some(w) = self.workload.as_mut() else {
            return;
        };
        let now = self.now;
        match w.on_reply(client, reply, now) {
            ClientState::Submit { via, request } => {
                self.submit_at(now, via, request, Some(client));
            }
            ClientState::Sleep(until) => self.push(until, Ev::ClientWake(client)),
        }
    }

    /// Processes the earliest event; `None` when nothing is left to do.
    pub fn step(&mut self) -> Option<StepInfo> {
        loop {
            let (at, ev) = self.queue.pop()?;
            self.now = self.now.max(at);
            let kind = match ev {
                Ev::Timer(id) => {
                    // A timer superseded by an earlier one, or of a crashed node, is stale.
                    if !self.up[id.index()] || self.timer_at[id.index()] != Some(at) {
                        continue;
                    }
                    self.timer_at[id.index()] = None;
                    self.drive(id, Input::Timeout);
                    StepKind::Timer(id)
                }
                Ev::Deliver { info, msg } => self.deliver(info, msg),
                Ev::Submit { req, via, request } => {
                    self.record(TraceKind::Submit {
                        req,
                        via,
                        key: request.key().clone(),
                        put: matches!(request, Request::Put { .. }),
                    });
                    if via.index() >= self.nodes.len() {
                        self.fail_request(req, via, RequestError::UnknownNode);
                    } else if !self.up[via.index()] {
                        self.fail_request(req, via, RequestError::NodeDown);
                    } else if !self.context_is_sealed(&request) {
                        self.fail_request(req, via, RequestError::InvalidContext);
                    } else {
                        self.drive(via, Input::Client { req, request });
                    }
                    StepKind::Submit(req)
                }
                Ev::ClientDeadline(req) => {
                    let Some(o) = self.outstanding.get(&req) else {
                        continue;
                    };
                    let via = o.via;
                    let needed = self.cfg.w.max(self.cfg.r);
                    self.fail_request(req, via, RequestError::Timeout { got: 0, needed });
                    StepKind::ClientTimeout(req)
                }
                Ev::Action(a) => {
                    self.run_action(a);
                    StepKind::Action
                }
                Ev::ClientWake(c) => {
                    let now = self.now;
                    if let Some((via, request)) = self.workload.as_mut().map(|w| w.next(c)) {
                        self.submit_at(now, via, request, Some(c));
                    }
                    StepKind::ClientWake
                }
            };
            self.stats.events += 1;
            return Some(StepInfo {
                time: self.now,
                kind,
            });
        }
    }

    /// Whether a put's context names only writes that were made *to its key*. Real stores hand
    /// clients an opaque (often signed) context; here the simulator stands for that seal, so a
    /// context typed by hand cannot claim dots no coordinator issued for the key (and so supersede
    /// future writes), nor be carried over from another key: a node's counters are node-wide, so
    /// another key's context would claim this key's older versions. Every entry must be a counter
    /// its actor issued for this key (see [`Issued`] for the one approximation: entries older than
    /// the last `ISSUED_KEPT` counters are taken on trust).
    fn context_is_sealed(&self, request: &Request) -> bool {
        let Request::Put { key, context, .. } = request else {
            return true;
        };
        let issued = self.issued.get(key);
        context
            .entries()
            .iter()
            .all(|e| match issued.and_then(|m| m.get(&e.actor)) {
                Some(i) => i.vouches(e.counter),
                None => e.counter == 0,
            })
    }

    fn fail_request(&mut self, req: RequestId, via: NodeId, e: RequestError) {
        let key = self
            .outstanding
            .get(&req)
            .map(|o| o.key.clone())
            .unwrap_or_else(|| Key::from(""));
        self.on_reply(Reply {
            req,
            key,
            coordinator: via,
            body: ReplyBody::Failed(e),
        });
    }

    fn run_action(&mut self, a: Action) {
        match a {
            Action::Fault(f) => self.apply(f),
            Action::Submit { via, request } => {
                self.submit(via, request);
            }
            Action::AntiEntropy(n) => {
                if self.is_up(n) {
                    let ranges: Vec<_> = self.nodes[n.index()].ranges().collect();
                    for range in ranges {
                        self.drive(n, Input::StartMerkle { range });
                    }
                }
            }
        }
    }

    fn deliver(&mut self, info: InFlight, msg: Msg) -> StepKind {
        let (from, to, kind) = (info.from, info.to, info.kind);
        let reason = if info.doomed {
            Some(DropReason::Loss)
        } else if to.index() >= self.nodes.len() || !self.up[to.index()] {
            Some(DropReason::NodeDown)
        } else if self.group[from.index()] != self.group[to.index()] {
            Some(DropReason::Partition)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.stats.dropped += 1;
            self.record(TraceKind::Drop {
                id: info.id,
                from,
                to,
                kind,
                reason,
            });
            return StepKind::Drop { from, to, kind };
        }
        self.stats.delivered += 1;
        self.record(TraceKind::Deliver {
            id: info.id,
            from,
            to,
            kind,
        });
        self.drive(to, Input::Message { from, msg });
        StepKind::Deliver { from, to, kind }
    }

    /// Runs every event up to and including time `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Time) -> u64 {
        let mut n = 0;
        while self.next_event_time().is_some_and(|at| at <= t) {
            if self.step().is_some() {
                n += 1;
            }
        }
        self.now = self.now.max(t);
        n
    }

    /// Runs to the next protocol round boundary (a multiple of the gossip interval).
    pub fn step_round(&mut self) -> u64 {
        let round = self.cfg.gossip_interval_ms;
        let boundary = Time((self.now.0 / round).saturating_add(1).saturating_mul(round));
        let mut n = 0;
        while self.next_event_time().is_some_and(|at| at < boundary) {
            if self.step().is_some() {
                n += 1;
            }
        }
        self.now = self.now.max(boundary);
        n
    }

    /// The current protocol round (time divided by the gossip interval).
    pub fn round(&self) -> u64 {
        self.now.0 / self.cfg.gossip_interval_ms
    }

    /// Runs `n` events (fewer if the queue empties); returns how many ran.
    pub fn run_steps(&mut self, n: u64) -> u64 {
        let mut done = 0;
        while done < n && self.step().is_some() {
            done += 1;
        }
        done
    }
}

/// Delivered events per second of a bare event kernel: the simulator's queue with a no-op handler
/// that keeps `in_flight` events circulating. The simulator's own rate is reported as a ratio to it.
pub fn bare_kernel(events: u64, in_flight: u64, seed: u64) -> u64 {
    let mut rng = Rng::derive(seed, "kernel", 0);
    let mut q: EventQueue<Ev> = EventQueue::new();
    for i in 0..in_flight {
        q.push(Time(rng.below(30)), Ev::Timer(NodeId((i % 16) as u16)));
    }
    let mut sum = 0u64;
    for _ in 0..events {
        let Some((at, ev)) = q.pop() else { break };
        sum = sum.wrapping_add(at.0);
        q.push(at.plus(rng.range_inclusive(5, 30)), ev);
    }
    sum
}

#[cfg(test)]
mod issued_tests {
    use super::{Issued, ISSUED_KEPT};

    #[test]
    fn a_key_vouches_for_its_own_counters_only() {
        let mut i = Issued::default();
        for c in [1, 3, 7] {
            i.note(c);
        }
        assert!(i.vouches(1) && i.vouches(3) && i.vouches(7));
        assert!(!i.vouches(2), "another key's counter between this key's");
        assert!(!i.vouches(8), "above the highest");
        // Past the window, only counters older than all remembered are taken on trust.
        for c in 0..ISSUED_KEPT as u64 {
            i.note(100 + 2 * c);
        }
        assert!(i.vouches(5), "older than every counter remembered");
        assert!(!i.vouches(101), "inside the window, never issued here");
        assert!(i.vouches(100 + 2 * (ISSUED_KEPT as u64 - 1)));
    }
}
