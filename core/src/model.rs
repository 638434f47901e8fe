//! The model of a small cluster that `kvlab-check` explores exhaustively and the page replays:
//! real [`Node`]s driven only through their sans-IO boundary, the messages in flight as a
//! multiset, closed-loop clients and the history oracle, with every action a configuration's
//! budgets allow. It holds no checker: `check/` (native only) wraps [`KvModel`] in a Stateright
//! model, and the page steps a found path through [`KvModel::replay`], so a counterexample plays
//! in the browser on exactly the transitions the checker explored.
//!
//! What the model abstracts is written in docs/protocol.md §Correctness, "Model checking".

use crate::config::Config;
use crate::gossip::MemberChangeKind;
use crate::message::{Msg, Reply, ReplyBody, Request, RequestError};
use crate::node::{Input, Node, NodeEvent, Output, Reintroduced, Timer};
use crate::ring::Ring;
use crate::sim::{Cluster, History, Property as CoreProperty, PropertyKind, PROPERTIES};
use crate::types::{Key, NodeId, RequestId, Time, Value};
use crate::vclock::{VectorClock, VersionSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// How many of each fault and client action a run may spend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Budget {
    /// Puts, over all clients.
    pub writes: u8,
    /// Gets, over all clients.
    pub gets: u8,
    /// Messages the network may lose.
    pub drops: u8,
    /// Crashes (a crashed node may always be restarted).
    pub crashes: u8,
    /// Wipes of a node's disk.
    pub wipes: u8,
    /// Partitions (each isolates one node until a heal).
    pub partitions: u8,
    /// Gossip rounds (a timer action that fires a node's gossip round).
    pub gossip: u8,
}

/// One model configuration. It travels with every report, so a found path can be replayed
/// without knowing the checker's list of configurations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Its name, for `cargo xtask check NAME`.
    pub name: String,
    /// What it explores, in a sentence.
    pub about: String,
    /// The nodes' configuration.
    pub config: Config,
    /// The one key clients use.
    pub key: String,
    /// For each client, the nodes it may send a request to.
    pub clients: Vec<Vec<NodeId>>,
    /// What the run may spend.
    pub budget: Budget,
    /// A node crashed from the start, marked offline by every other node before exploration.
    pub down_at_start: Option<NodeId>,
    /// Sometimes-properties this configuration must reach.
    pub sometimes: Vec<String>,
    /// Whether `cargo xtask test` runs it (a few seconds in release).
    pub small: bool,
    /// A fixed loss put back in every node (a negative control), or `None`.
    #[serde(default)]
    pub bug: Option<Reintroduced>,
    /// Whether any message in flight may be delivered next. Otherwise each (sender, receiver)
    /// channel delivers in send order (as TCP connections between nodes do), and only messages
    /// of different channels are reordered.
    pub reorder: bool,
}

/// A message in flight: sender, receiver, and the message with a digest of it that names it in
/// actions and orders the multiset.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// FNV-1a of the message's `Debug` form: stable across runs and builds of one version.
    pub digest: u64,
    /// The message.
    pub msg: Msg,
}

impl Envelope {
    fn new(from: NodeId, to: NodeId, msg: Msg) -> Self {
        Envelope {
            from,
            to,
            digest: fnv(format!("{msg:?}").as_bytes()),
            msg,
        }
    }

    fn order(&self) -> (NodeId, NodeId, u64) {
        (self.to, self.from, self.digest)
    }
}

impl Hash for Envelope {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.order().hash(h);
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A closed-loop client.
#[derive(Clone, Debug, Default, Hash)]
pub struct Client {
    /// Requests it made.
    pub sent: u32,
    /// The request it waits for, and the node it sent it to.
    pub waiting: Option<(RequestId, NodeId)>,
    /// The context of its last answered get.
    pub context: Option<VectorClock>,
}

/// One state of the model.
#[derive(Clone)]
pub struct State {
    /// The model's time: the latest deadline fired.
    pub now: Time,
    /// Every node, by id.
    pub nodes: Vec<Node>,
    /// Which nodes are running.
    pub up: Vec<bool>,
    /// The isolated side of the partition, if any.
    pub cut: Option<Vec<bool>>,
    /// Messages in flight, by (receiver, sender): in send order within a channel, by digest too
    /// when the configuration reorders every message.
    pub net: Vec<Envelope>,
    /// The clients.
    pub clients: Vec<Client>,
    /// The history oracle.
    pub history: History,
    /// What is left to spend.
    pub left: Budget,
    /// Hinted keys owners acknowledged (saturating at 1: only "ever" matters).
    pub hints_delivered: u8,
    /// The actions that led here. Not part of the state: left out of its hash.
    pub trail: Vec<Action>,
    /// What the last action caused, in words (replies, hints, suspicions), when the model
    /// narrates. Not part of the state: left out of its hash.
    pub notes: Vec<String>,
}

impl Hash for State {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.now.hash(h);
        self.nodes.hash(h);
        self.up.hash(h);
        self.cut.hash(h);
        self.net.hash(h);
        self.clients.hash(h);
        self.history.hash(h);
        self.left.hash(h);
        self.hints_delivered.hash(h);
    }
}

impl State {
    /// The state's fingerprint: its [`Hash`] through a fixed-key hasher.
    pub fn fingerprint(&self) -> u64 {
        BuildHasherDefault::<DefaultHasher>::default().hash_one(self)
    }
}

/// Two states are equal when their fingerprints are (Stateright needs `PartialEq` to rebuild a
/// path from fingerprints; it identifies states by them anyway).
impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint() == other.fingerprint()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "t={} up={:?} cut={:?} left={:?}",
            self.now, self.up, self.cut, self.left
        )?;
        for n in &self.nodes {
            write!(f, "  {} {}:", n.id(), n.actor())?;
            n.store().for_each_sorted(|k, set| {
                let _ = write!(f, " {k}=");
                for v in set.versions() {
                    let _ = write!(f, "{}@{}({}) ", v.value.to_text(), v.dot, v.context);
                }
            });
            for (owner, keys) in n.hints() {
                let _ = write!(f, " hints for {owner}: {}", keys.len());
            }
            writeln!(f)?;
        }
        for e in &self.net {
            writeln!(f, "  {} -> {}: {:?}", e.from, e.to, e.msg.kind())?;
        }
        write!(f, "  clients {:?}", self.clients)
    }
}

/// Something the model may do next.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Deliver the message in flight named by (sender, receiver, digest).
    Deliver(NodeId, NodeId, u64),
    /// Lose it.
    Drop(NodeId, NodeId, u64),
    /// Fire the node's earliest timer, moving time to its deadline.
    Timer(NodeId),
    /// Crash the node (it keeps its disk).
    Crash(NodeId),
    /// Restart a crashed node.
    Restart(NodeId),
    /// Replace the node's disk by an empty one.
    Wipe(NodeId),
    /// Cut the node off from the rest.
    Partition(NodeId),
    /// Remove the partition.
    Heal,
    /// A client puts through a node: blind, or with the context of its last get (`read`).
    Put {
        /// The client.
        client: u8,
        /// The node it contacts.
        via: NodeId,
        /// Whether it sends the context of its last get.
        read: bool,
    },
    /// A client gets through a node.
    Get {
        /// The client.
        client: u8,
        /// The node it contacts.
        via: NodeId,
    },
    /// A client gives up waiting: nothing can answer its request any more.
    GiveUp(u8),
}

/// The model: a configuration and its ring.
#[derive(Clone, Debug)]
pub struct KvModel {
    /// The configuration explored.
    pub spec: Spec,
    cfg: Arc<Config>,
    ring: Arc<Ring>,
    key: Key,
    /// Whether steps write what happened into [`State::notes`] (the page's replay); off while
    /// checking, where it would only cost.
    narrate: bool,
}

impl KvModel {
    /// The model of `spec`. Fails when its node configuration is invalid.
    pub fn new(spec: Spec) -> Result<KvModel, String> {
        spec.config.validate().map_err(|e| e.to_string())?;
        let nodes = spec.config.nodes;
        let bad_node = |n: NodeId| n.0 >= nodes;
        if spec.down_at_start.is_some_and(bad_node) {
            return Err(format!(
                "down_at_start: no node {:?} in a cluster of {nodes}",
                spec.down_at_start
            ));
        }
        if spec.clients.len() > usize::from(u8::MAX) {
            return Err(format!(
                "clients: {} clients; at most {}",
                spec.clients.len(),
                u8::MAX
            ));
        }
        if let Some(n) = spec
            .clients
            .iter()
            .flatten()
            .copied()
            .find(|&n| bad_node(n))
        {
            return Err(format!(
                "clients: a client talks to {n}, not in a cluster of {nodes}"
            ));
        }
        if spec.key.is_empty() || spec.key.len() > crate::config::MAX_KEY_BYTES {
            return Err(format!(
                "key: must be 1 to {} bytes, not {}",
                crate::config::MAX_KEY_BYTES,
                spec.key.len()
            ));
        }
        let ids: Vec<NodeId> = (0..spec.config.nodes).map(NodeId).collect();
        let ring = Arc::new(Ring::new(&ids, spec.config.vnodes));
        let model = KvModel {
            cfg: Arc::new(spec.config.clone()),
            key: Key::from(spec.key.as_str()),
            spec,
            ring,
            narrate: false,
        };
        // A report's configuration may time its rounds so that the warm-up never finds its long
        // gap (anti-entropy rounds closer than it) or needs millions of rounds (`t_fail_ms` a day
        // of 1 ms gossip rounds): refuse it rather than loop.
        if !model.warm_up().1 {
            let c = &model.cfg;
            return Err(format!(
                "the warm-up before the first action does not settle within {MAX_WARM_UP_FIRINGS} \
                 timer firings (gossip_interval_ms {}, t_fail_ms {}, anti_entropy_interval_ms {})",
                c.gossip_interval_ms, c.t_fail_ms, c.anti_entropy_interval_ms
            ));
        }
        Ok(model)
    }

    /// What the properties read of `state`.
    pub fn cluster<'a>(&'a self, state: &'a State) -> Cluster<'a> {
        Cluster {
            config: &self.cfg,
            ring: &self.ring,
            nodes: &state.nodes,
            history: &state.history,
        }
    }

    /// The state exploration starts from: every node started at time 0, the node down from the
    /// start crashed, then gossip run (every message delivered at once) until every other node has
    /// marked it offline and a long gap separates now from the next gossip round.
    pub fn initial(&self) -> State {
        self.warm_up().0
    }

    /// The initial state, and whether the warm-up settled within [`MAX_WARM_UP_FIRINGS`] timer
    /// firings ([`KvModel::new`] refuses a configuration whose warm-up does not).
    fn warm_up(&self) -> (State, bool) {
        let nodes: Vec<Node> = (0..self.cfg.nodes)
            .map(|i| {
                let node = Node::new(NodeId(i), self.cfg.clone(), self.ring.clone(), Time::ZERO);
                match self.spec.bug {
                    Some(bug) => node.reintroduce(bug),
                    None => node,
                }
            })
            .collect();
        let n = nodes.len();
        let c = &self.cfg;
        let mut s = State {
            now: Time::ZERO,
            nodes,
            up: vec![true; n],
            cut: None,
            net: Vec::new(),
            clients: vec![Client::default(); self.spec.clients.len()],
            history: History::new(c.n, c.r, c.w, c.clock_prune_threshold > 0),
            left: self.spec.budget,
            hints_delivered: 0,
            trail: Vec::new(),
            notes: Vec::new(),
        };
        let mut warm = 2 * c.gossip_interval_ms;
        if let Some(d) = self.spec.down_at_start {
            s.up[d.index()] = false;
            self.drive(&mut s, d, Input::Crash);
            warm = c.t_fail_ms + 2 * c.gossip_interval_ms;
        }
        let gap = c.gossip_interval_ms / u64::from(c.nodes) / 2;
        let mut settled = true;
        let mut fired = 0;
        while let Some((i, t)) = self.earliest_timer(&s) {
            let next_gap = t.since(s.now);
            if s.now.ms() >= warm && next_gap >= gap {
                break;
            }
            if fired == MAX_WARM_UP_FIRINGS {
                settled = false;
                break;
            }
            fired += 1;
            s.now = s.now.max(t);
            self.drive(&mut s, i, Input::Timeout);
            self.drain(&mut s);
        }
        // The warm-up is not part of the run: its gossip is no fault.
        s.history = History::new(c.n, c.r, c.w, c.clock_prune_threshold > 0);
        (s, settled)
    }

    fn earliest_timer(&self, s: &State) -> Option<(NodeId, Time)> {
        (0..s.nodes.len())
            .filter(|&i| s.up[i])
            .filter_map(|i| s.nodes[i].poll_timeout().map(|t| (NodeId(i as u16), t)))
            .min_by_key(|&(i, t)| (t, i))
    }

    /// Feeds `input` to node `id` at the state's time and routes what it outputs. Gossip digests
    /// are delivered at once (to running nodes on the sender's side of any partition), so
    /// membership never waits in the network: only data messages are reordered and lost.
    fn drive(&self, s: &mut State, id: NodeId, input: Input) {
        let mut inputs = std::collections::VecDeque::from([(id, input)]);
        let mut sent = false;
        while let Some((id, input)) = inputs.pop_front() {
            let i = id.index();
            s.nodes[i].handle(s.now, input);
            while let Some(out) = s.nodes[i].poll_output() {
                match out {
                    Output::Send {
                        to,
                        msg: msg @ Msg::Gossip { .. },
                    } => {
                        if Self::reachable(s, id, to) {
                            inputs.push_back((to, Input::Message { from: id, msg }));
                        }
                    }
                    Output::Send { to, msg } => {
                        s.net.push(Envelope::new(id, to, msg));
                        sent = true;
                    }
                    Output::Reply(r) => self.on_reply(s, *r),
                    Output::Event(e) => self.on_event(s, id, e),
                }
            }
        }
        if sent {
            if self.spec.reorder {
                s.net.sort_by_key(Envelope::order);
            } else {
                // Stable: each channel keeps its send order.
                s.net.sort_by_key(|e| (e.to, e.from));
            }
        }
    }

    fn on_reply(&self, s: &mut State, r: Reply) {
        let c = client_of(r.req);
        let Some(client) = s.clients.get_mut(c) else {
            return;
        };
        if client.waiting.map(|(req, _)| req) != Some(r.req) {
            return; // the client gave up
        }
        client.waiting = None;
        if let ReplyBody::GetOk { context, .. } = &r.body {
            client.context = Some(context.clone());
        }
        if self.narrate {
            s.notes.push(reply_note(c, &r));
        }
        s.history.on_reply(&r, Some(c as u32), s.now);
    }

    fn on_event(&self, s: &mut State, at: NodeId, e: NodeEvent) {
        match e {
            NodeEvent::Wrote { req, key, dot } => s.history.on_wrote(req, &key, dot),
            NodeEvent::HintDelivered { owner, .. } => {
                s.hints_delivered = 1;
                if self.narrate {
                    s.notes.push(format!("{at} has handed its hint to {owner}"));
                }
            }
            NodeEvent::Member(c) if c.kind == MemberChangeKind::BecameAlive && self.narrate => {
                s.notes.push(format!("{at} marks {} alive again", c.node));
            }
            NodeEvent::NewEpoch { actor } if self.narrate => {
                s.notes.push(format!(
                    "{at} now writes as {actor}, a new clock epoch: its next dots claim nothing it \
                     wrote before"
                ));
            }
            NodeEvent::Member(c) if c.kind == MemberChangeKind::BecameOffline => {
                // A suspicion sends writes to stand-ins: reads may then miss them.
                s.history.on_fault();
                if self.narrate {
                    s.notes.push(format!("{at} now marks {} offline", c.node));
                }
            }
            _ => {}
        }
    }

    /// Whether a message from `from` to `to` gets through now.
    fn reachable(s: &State, from: NodeId, to: NodeId) -> bool {
        let side = |n: NodeId| s.cut.as_ref().is_some_and(|c| c[n.index()]);
        s.up.get(to.index()).copied().unwrap_or(false) && side(from) == side(to)
    }

    /// Delivers the message at `at` (or drops it if its receiver is down or cut off).
    fn deliver(&self, s: &mut State, at: usize) {
        let e = s.net.remove(at);
        if Self::reachable(s, e.from, e.to) {
            let input = Input::Message {
                from: e.from,
                msg: e.msg,
            };
            self.drive(s, e.to, input);
        } else if self.narrate {
            let why = if s.up.get(e.to.index()).copied().unwrap_or(false) {
                "the partition separates them"
            } else {
                "the receiver is down"
            };
            s.notes.push(format!("it is lost: {why}"));
        }
    }

    /// Delivers every message in flight, oldest order first, until none is left.
    fn drain(&self, s: &mut State) {
        let mut guard = 0;
        while !s.net.is_empty() && guard < 100_000 {
            self.deliver(s, 0);
            guard += 1;
        }
    }

    /// Where the message named by (sender, receiver, digest) is, if it may be taken now.
    fn find(&self, s: &State, from: NodeId, to: NodeId, digest: u64) -> Option<usize> {
        let at = s.net.iter().position(|e| e.from == from && e.to == to)?;
        if !self.spec.reorder {
            return (s.net[at].digest == digest).then_some(at);
        }
        s.net
            .iter()
            .position(|e| e.from == from && e.to == to && e.digest == digest)
    }

    /// Whether the node's gossip timer would fire with its earliest deadline.
    fn gossip_due(s: &State, i: usize) -> Option<Time> {
        let node = &s.nodes[i];
        let t = node.poll_timeout()?.max(s.now);
        Some(t).filter(|&t| node.timer(Timer::Gossip).is_some_and(|g| g <= t))
    }

    fn request(&self, client: usize, s: &State, read: Option<bool>) -> (RequestId, Request) {
        let c = &s.clients[client];
        let req = RequestId((client as u64 + 1) * 1_000 + u64::from(c.sent) + 1);
        let key = self.key.clone();
        let request = match read {
            None => Request::Get { key },
            Some(read) => Request::Put {
                key,
                value: Value::from(format!("c{client}.{}", c.sent + 1).as_str()),
                context: match (read, &c.context) {
                    (true, Some(ctx)) => ctx.clone(),
                    _ => VectorClock::new(),
                },
            },
        };
        (req, request)
    }

    fn submit(&self, s: &mut State, client: usize, via: NodeId, read: Option<bool>) {
        let (req, request) = self.request(client, s, read);
        s.history.on_submit(req, &request, Some(client as u32));
        let c = &mut s.clients[client];
        c.sent += 1;
        c.waiting = Some((req, via));
        self.drive(s, via, Input::Client { req, request });
    }

    /// Whether any reply can still come: a message in flight or a request some running node
    /// coordinates.
    fn can_answer(s: &State) -> bool {
        !s.net.is_empty()
            || (0..s.nodes.len())
                .any(|i| s.up[i] && s.nodes[i].timer(Timer::RequestTimeout).is_some())
    }

    /// The deterministic fault-free completion of `s`: heal, restart every node, run four gossip
    /// rounds' worth of timers with every message delivered at once, then anti-entropy on every
    /// range of every node until the replicas agree (at most six rounds).
    pub fn complete(&self, s: &State) -> State {
        let mut s = s.clone();
        s.cut = None;
        for i in 0..s.nodes.len() {
            if !s.up[i] {
                s.up[i] = true;
                self.drive(&mut s, NodeId(i as u16), Input::Restart);
            }
        }
        self.drain(&mut s);
        let end = s.now.plus(4 * self.cfg.gossip_interval_ms);
        let mut guard = 0;
        while let Some((i, t)) = self.earliest_timer(&s) {
            if t > end || guard > 10_000 {
                break;
            }
            guard += 1;
            s.now = s.now.max(t);
            self.drive(&mut s, i, Input::Timeout);
            self.drain(&mut s);
        }
        for _ in 0..6 {
            if self.cluster(&s).check_convergence().ok() {
                break;
            }
            for i in 0..s.nodes.len() {
                let ranges: Vec<_> = s.nodes[i].ranges().collect();
                for range in ranges {
                    self.drive(&mut s, NodeId(i as u16), Input::StartMerkle { range });
                    self.drain(&mut s);
                }
            }
        }
        s
    }

    /// The first property of the sweep's list named `name` that fails on `s`, with its reason.
    pub fn core_check(&self, s: &State, name: &str) -> Result<(), String> {
        match CoreProperty::named(name) {
            Some(p) => (p.check)(&self.cluster(s)),
            None => Err(format!("no property named {name:?}")),
        }
    }

    /// Bounded liveness: `Ok` unless `s` is quiescent and its completion breaks an
    /// eventually-property of the sweep's list. While one fails, the completion is run again from
    /// where it stopped, [`COMPLETIONS`] times in all (sixteen gossip rounds): a schedule that
    /// spends gossip rounds can leave nodes that each believe the other dead (a home restarted
    /// and silent for longer than `t_fail` while the others had marked it offline), and only the
    /// dead-node probe of every tenth round brings them back together.
    pub fn eventually_check(&self, s: &State) -> Result<(), String> {
        let quiescent = s.net.is_empty() && s.clients.iter().all(|c| c.waiting.is_none());
        if !quiescent {
            return Ok(());
        }
        let mut done = self.complete(s);
        for _ in 1..COMPLETIONS {
            if self.eventually_holds(&done).is_ok() {
                break;
            }
            done = self.complete(&done);
        }
        self.eventually_holds(&done)
    }

    fn eventually_holds(&self, done: &State) -> Result<(), String> {
        for p in PROPERTIES
            .iter()
            .filter(|p| p.kind == PropertyKind::Eventually)
        {
            (p.check)(&self.cluster(done)).map_err(|e| format!("{}: {e}", p.name))?;
        }
        Ok(())
    }

    /// Applies `action` to `s`; `None` when it is not enabled.
    pub fn step(&self, s: &State, action: &Action) -> Option<State> {
        let mut s = s.clone();
        s.trail.push(action.clone());
        s.notes.clear();
        match *action {
            Action::Deliver(from, to, d) => {
                let at = self.find(&s, from, to, d)?;
                self.deliver(&mut s, at);
            }
            Action::Drop(from, to, d) => {
                let at = self.find(&s, from, to, d)?;
                s.left.drops = s.left.drops.checked_sub(1)?;
                s.net.remove(at);
                s.history.on_fault();
            }
            Action::Timer(id) => {
                let i = id.index();
                if !*s.up.get(i)? || s.net.iter().any(|e| e.from == id || e.to == id) {
                    return None;
                }
                let t = s.nodes[i].poll_timeout()?;
                if Self::gossip_due(&s, i).is_some() {
                    s.left.gossip = s.left.gossip.checked_sub(1)?;
                }
                s.now = s.now.max(t);
                self.drive(&mut s, id, Input::Timeout);
            }
            Action::Crash(id) => {
                if !*s.up.get(id.index())? {
                    return None;
                }
                s.left.crashes = s.left.crashes.checked_sub(1)?;
                s.up[id.index()] = false;
                s.history.on_fault();
                self.drive(&mut s, id, Input::Crash);
            }
            Action::Restart(id) => {
                if *s.up.get(id.index())? {
                    return None;
                }
                s.up[id.index()] = true;
                s.history.on_fault();
                self.drive(&mut s, id, Input::Restart);
            }
            Action::Wipe(id) => {
                s.up.get(id.index())?;
                s.left.wipes = s.left.wipes.checked_sub(1)?;
                s.history.on_fault();
                self.drive(&mut s, id, Input::Wipe);
            }
            Action::Partition(id) => {
                if s.cut.is_some() || id.index() >= s.nodes.len() {
                    return None;
                }
                s.left.partitions = s.left.partitions.checked_sub(1)?;
                let mut side = vec![false; s.nodes.len()];
                side[id.index()] = true;
                s.cut = Some(side);
                s.history.on_fault();
            }
            Action::Heal => {
                s.cut.take()?;
            }
            Action::Put { client, via, read } => {
                let c = usize::from(client);
                if !self.may_contact(&s, c, via) {
                    return None;
                }
                // As `enabled`: a put with the context of a read only once a read gave one.
                if read
                    && s.clients[c]
                        .context
                        .as_ref()
                        .is_none_or(VectorClock::is_empty)
                {
                    return None;
                }
                s.left.writes = s.left.writes.checked_sub(1)?;
                self.submit(&mut s, c, via, Some(read));
            }
            Action::Get { client, via } => {
                let c = usize::from(client);
                if !self.may_contact(&s, c, via) {
                    return None;
                }
                s.left.gets = s.left.gets.checked_sub(1)?;
                self.submit(&mut s, c, via, None);
            }
            Action::GiveUp(client) => {
                let c = usize::from(client);
                let (req, via) = s.clients.get(c)?.waiting?;
                if Self::can_answer(&s) {
                    return None;
                }
                let needed = self.cfg.w.max(self.cfg.r);
                let reply = Reply {
                    req,
                    key: self.key.clone(),
                    coordinator: via,
                    body: ReplyBody::Failed(RequestError::Timeout { got: 0, needed }),
                };
                self.on_reply(&mut s, reply);
            }
        }
        Some(s)
    }

    /// Whether client `c` may send a request to `via` now, as [`KvModel::enabled`] offers it: it
    /// waits for nothing, `via` is one of the nodes its configuration lets it contact, and runs.
    fn may_contact(&self, s: &State, c: usize, via: NodeId) -> bool {
        s.clients.get(c).is_some_and(|c| c.waiting.is_none())
            && self
                .spec
                .clients
                .get(c)
                .is_some_and(|vias| vias.contains(&via))
            && s.up.get(via.index()).copied().unwrap_or(false)
    }

    /// Every action enabled in `s`, in a deterministic order.
    pub fn enabled(&self, s: &State, out: &mut Vec<Action>) {
        let mut last = None;
        let mut channel = None;
        for e in &s.net {
            let name = (e.from, e.to, e.digest);
            if last == Some(name) {
                continue; // an identical copy: delivering either is the same step
            }
            last = Some(name);
            if !self.spec.reorder {
                if channel == Some((e.from, e.to)) {
                    continue; // not the head of its channel
                }
                channel = Some((e.from, e.to));
            }
            out.push(Action::Deliver(e.from, e.to, e.digest));
            if s.left.drops > 0 {
                out.push(Action::Drop(e.from, e.to, e.digest));
            }
        }
        for i in 0..s.nodes.len() {
            let id = NodeId(i as u16);
            // A deadline fires only once nothing in flight to or from the node can still answer
            // its requests: a reply slower than the deadline is modelled as a lost one.
            let quiet = !s.net.iter().any(|e| e.from == id || e.to == id);
            let timer = s.nodes[i].poll_timeout().is_some();
            if s.up[i] && quiet && timer && (Self::gossip_due(s, i).is_none() || s.left.gossip > 0)
            {
                out.push(Action::Timer(id));
            }
        }
        for (c, spec) in self.spec.clients.iter().enumerate() {
            let client = &s.clients[c];
            let cl = c as u8;
            if client.waiting.is_some() {
                if !Self::can_answer(s) {
                    out.push(Action::GiveUp(cl));
                }
                continue;
            }
            for &via in spec.iter().filter(|v| s.up[v.index()]) {
                if s.left.writes > 0 {
                    out.push(Action::Put {
                        client: cl,
                        via,
                        read: false,
                    });
                    if client.context.as_ref().is_some_and(|c| !c.is_empty()) {
                        out.push(Action::Put {
                            client: cl,
                            via,
                            read: true,
                        });
                    }
                }
                if s.left.gets > 0 {
                    out.push(Action::Get { client: cl, via });
                }
            }
        }
        for i in 0..s.nodes.len() {
            let id = NodeId(i as u16);
            if s.up[i] && s.left.crashes > 0 {
                out.push(Action::Crash(id));
            }
            if !s.up[i] {
                out.push(Action::Restart(id));
            }
            if s.left.wipes > 0 {
                out.push(Action::Wipe(id));
            }
            if s.cut.is_none() && s.left.partitions > 0 {
                out.push(Action::Partition(id));
            }
        }
        if s.cut.is_some() {
            out.push(Action::Heal);
        }
    }

    /// The same model, writing what each step caused into [`State::notes`] (for the page).
    pub fn narrating(mut self) -> KvModel {
        self.narrate = true;
        self
    }

    /// The configuration's ring.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The one key the clients use.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// `action`, taken from `before`, in words: "deliver put k from S1 to S2", "crash S2",
    /// "client 1 writes c1.2 through S1 with the context of its last read [(S0,1)]".
    pub fn caption(&self, before: &State, action: &Action) -> String {
        match *action {
            Action::Deliver(from, to, d) | Action::Drop(from, to, d) => {
                let what = self
                    .find(before, from, to, d)
                    .and_then(|at| before.net.get(at))
                    .map_or_else(|| "a message".to_string(), |e| message_words(&e.msg));
                if matches!(action, Action::Deliver(..)) {
                    format!("deliver {what} from {from} to {to}")
                } else {
                    format!("the network loses {what} from {from} to {to}")
                }
            }
            Action::Timer(id) => {
                let node = before.nodes.get(id.index());
                let at = node.and_then(Node::poll_timeout);
                let which = node.and_then(|n| {
                    Timer::ALL
                        .into_iter()
                        .find(|&t| at.is_some() && n.timer(t) == at)
                });
                let what = match which {
                    Some(Timer::RequestTimeout) => "request deadline",
                    Some(Timer::Gossip) => "gossip round",
                    Some(Timer::AntiEntropy) => "anti-entropy round",
                    None => "timer",
                };
                match at {
                    Some(t) => format!("{id}'s {what} fires (time {} ms)", t.ms()),
                    None => format!("{id}'s {what} fires"),
                }
            }
            Action::Crash(id) => format!("crash {id} (it keeps its disk)"),
            Action::Restart(id) => format!("restart {id}"),
            Action::Wipe(id) => format!("wipe {id}'s disk"),
            Action::Partition(id) => format!("cut {id} off from the others"),
            Action::Heal => "heal the partition".to_string(),
            Action::Put { client, via, read } => {
                let c = usize::from(client);
                let sent = before.clients.get(c).map_or(0, |c| c.sent);
                let value = format!("c{client}.{}", sent + 1);
                let context = before.clients.get(c).and_then(|c| c.context.as_ref());
                match (read, context) {
                    (true, Some(ctx)) => format!(
                        "client {client} writes {value} through {via} with the context of its last read {ctx}"
                    ),
                    _ => format!("client {client} writes {value} through {via}, blind (empty context)"),
                }
            }
            Action::Get { client, via } => {
                format!("client {client} reads {} through {via}", self.key)
            }
            Action::GiveUp(client) => {
                format!("client {client} gives up: nothing can answer its request any more")
            }
        }
    }

    /// Replays `actions` from the initial state; the states visited, or the index of the first
    /// action that is not enabled.
    pub fn replay(&self, actions: &[Action]) -> Result<Vec<State>, usize> {
        let mut states = vec![self.initial()];
        for (i, a) in actions.iter().enumerate() {
            let last = states.last().ok_or(i)?;
            let next = self.step(last, a).ok_or(i)?;
            states.push(next);
        }
        Ok(states)
    }
}

/// The client a request id belongs to (ids are numbered per client).
fn client_of(req: RequestId) -> usize {
    (req.0 / 1_000).saturating_sub(1) as usize
}

/// The sweep's always-properties the model checks at every state, by name.
pub const ALWAYS: [&str; 4] = [
    "no acknowledged write lost",
    "no resurrection",
    "no covered sibling",
    "reads show only real writes",
];

/// How many times bounded liveness runs the fault-free completion (four gossip rounds each) while
/// an eventually-property fails: enough rounds for every node's dead-node probe (every tenth).
pub const COMPLETIONS: usize = 4;
/// The most timers [`KvModel::initial`]'s warm-up may fire (the checker's configurations fire a
/// few dozen).
pub const MAX_WARM_UP_FIRINGS: usize = 10_000;
/// The name of the bounded-liveness property.
pub const CONVERGES: &str = "converges once faults stop";
/// The name of the sometimes-property that a hinted replica reached its owner.
pub const HINT_DELIVERED: &str = "a hint delivered";

/// The verdict on one property.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Verdict {
    /// The property.
    pub name: String,
    /// "always", "sometimes".
    pub kind: String,
    /// Whether it holds (an always-property with no counterexample, a sometimes-property with an
    /// example).
    pub holds: bool,
    /// The path found (a counterexample, or an example), as actions.
    pub path: Option<Vec<Action>>,
    /// Why the last state of a counterexample breaks the property.
    pub reason: Option<String>,
}

/// The `format` of a [`CheckReport`] written as JSON: what the page's replay accepts.
pub const REPORT_FORMAT: &str = "kvlab-check-report/1";

/// What one configuration's exhaustive check found. Written as JSON by
/// `cargo xtask check NAME --json DIR`; the page imports it and replays each path found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// The configuration.
    pub name: String,
    /// The configuration explored, whole: enough to rebuild the model and replay a path.
    pub spec: Spec,
    /// States generated, repeats included.
    pub states: usize,
    /// Distinct states.
    pub unique: usize,
    /// The deepest path explored.
    pub max_depth: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Whether the whole space was explored (no timeout).
    pub complete: bool,
    /// Each property's verdict.
    pub verdicts: Vec<Verdict>,
}

impl CheckReport {
    /// Whether every always-property held and every sometimes-property was reached.
    pub fn ok(&self) -> bool {
        self.complete && self.verdicts.iter().all(|v| v.holds)
    }

    /// The verdict on `name`.
    pub fn verdict(&self, name: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.name == name)
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} states, {} unique, max depth {}, {:.1}s{}",
            self.name,
            self.states,
            self.unique,
            self.max_depth,
            self.seconds,
            if self.complete { "" } else { " (TIMED OUT)" }
        )?;
        for v in &self.verdicts {
            let len = v.path.as_ref().map_or(0, Vec::len);
            match (v.kind.as_str(), v.holds) {
                ("always", true) => writeln!(f, "  ok    always    {}", v.name)?,
                ("always", false) => writeln!(
                    f,
                    "  FAIL  always    {}: counterexample of {len} actions: {}",
                    v.name,
                    v.reason.as_deref().unwrap_or("")
                )?,
                (_, true) => {
                    writeln!(f, "  ok    sometimes {} (example of {len} actions)", v.name)?
                }
                (_, false) => writeln!(f, "  FAIL  sometimes {}: never reached", v.name)?,
            }
        }
        Ok(())
    }
}

/// A message in words: its kind, and the values it carries.
fn message_words(msg: &Msg) -> String {
    let values = |set: &VersionSet| {
        let all: Vec<String> = set.versions().iter().map(|v| v.value.to_text()).collect();
        if all.is_empty() {
            "nothing".to_string()
        } else {
            all.join(" + ")
        }
    };
    match msg {
        Msg::Put { versions, hint, .. } => match hint {
            Some(owner) => format!("put {} (a hint for {owner})", values(versions)),
            None => format!("put {}", values(versions)),
        },
        Msg::GetReply { versions, .. } => format!("get reply ({})", values(versions)),
        Msg::ReadRepair { versions, .. } => format!("read repair ({})", values(versions)),
        Msg::Handoff { records } => {
            let all: Vec<String> = records.iter().map(|(_, set)| values(set)).collect();
            format!("handoff ({})", all.join("; "))
        }
        Msg::Get { .. } => "get".to_string(),
        Msg::PutAck { .. } => "put ack".to_string(),
        Msg::HandoffAck { .. } => "handoff ack".to_string(),
        Msg::Forward { request, .. } => match **request {
            Request::Put { .. } => "forwarded put".to_string(),
            Request::Get { .. } => "forwarded get".to_string(),
        },
        other => other.kind().name().to_string(),
    }
}

/// A message in words, for the page's list of messages in flight.
pub fn describe(msg: &Msg) -> String {
    message_words(msg)
}

/// A reply, as what its client learns.
fn reply_note(client: usize, r: &Reply) -> String {
    let versions = |vs: &[crate::vclock::Version]| {
        let all: Vec<String> = vs
            .iter()
            .map(|v| {
                let d = v.dot;
                format!(
                    "{} ({},{}) saw {}",
                    v.value.to_text(),
                    d.actor,
                    d.counter,
                    v.context
                )
            })
            .collect();
        if all.is_empty() {
            "nothing".to_string()
        } else {
            all.join(", ")
        }
    };
    match &r.body {
        ReplyBody::PutOk {
            version, siblings, ..
        } => format!(
            "client {client}'s write {} is acknowledged by {} (siblings after it: {})",
            version.value.to_text(),
            r.coordinator,
            versions(siblings)
        ),
        ReplyBody::GetOk { siblings, context } => format!(
            "client {client} reads {} from {}, context {context}",
            versions(siblings),
            r.coordinator
        ),
        ReplyBody::Failed(e) => format!("client {client}'s request fails: {e}"),
    }
}
