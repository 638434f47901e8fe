//! One storage node as a sans-IO state machine, made of sub-machines that each own their state:
//! the [`coordinator`] of client requests (quorums, read repair, sloppy targets, forwarding),
//! [`handoff`] of hinted replicas, [`anti_entropy`] over Merkle trees, gossip's [`Membership`], and
//! the [`replica`]'s own store.
//!
//! Every change enters through [`Node::handle`]; [`Node::poll_output`] then drains what the node
//! wants sent, replied or reported, and [`Node::poll_timeout`] names the next deadline of its
//! [`Timer`]s. Everything else only reads.

mod anti_entropy;
mod coordinator;
mod events;
mod fingerprint;
mod gossip;
mod handoff;
mod replica;
mod timers;

pub use coordinator::{Target, MAX_FORWARD_HOPS};
pub use events::{NodeEvent, NodeStats};
pub use timers::Timer;

use crate::config::{Config, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use crate::gossip::Membership;
use crate::merkle::{MerkleHash, MerkleTree};
use crate::message::{Msg, Reply, ReplyBody, Request, RequestError};
use crate::ring::{RangeId, Ring};
use crate::rng::Rng;
use crate::storage::Store;
use crate::types::{Actor, Key, NodeId, RequestId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet};
use anti_entropy::AntiEntropy;
use coordinator::{Coordinator, SelfRepair};
use handoff::Handoff;
use replica::Replica;
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use timers::TimerTable;

/// A fixed loss, put back on purpose: the model checker's negative controls (`check/`) must find
/// it. Only [`Node::reintroduce`] sets one; no configuration, and so not the page, can.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Reintroduced {
    /// A node outside a key's targets (by its own view) coordinates a client's put instead of
    /// forwarding it: the write lands in its main store, where no replica of the key looks
    /// (docs/protocol.md §Ring, "Forwarding").
    NonReplicaCoordinates,
    /// A stand-in whose owner acknowledged a handoff of versions its own actor issued, and which
    /// deleted them, keeps writing as that actor instead of starting a new epoch: its next dot
    /// counts past the versions it no longer holds, so a client who reads only that dot
    /// supersedes a write it never saw (docs/protocol.md §Versions, "Actor epochs").
    StandInKeepsActor,
}

/// What a node is given: the only way its state changes.
#[derive(Clone, Debug)]
pub enum Input {
    /// A message from another node.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Msg,
    },
    /// A client request arriving at this node.
    Client {
        /// The request id, unique in the run.
        req: RequestId,
        /// The request.
        request: Request,
    },
    /// The deadline [`Node::poll_timeout`] named has come: every timer due fires.
    Timeout,
    /// The process stops. Requests it coordinated die with it; its disk stays.
    Crash,
    /// The process starts again after a crash, with the disk it had and a fresh membership view.
    Restart,
    /// The disk is replaced by an empty one: stored versions and hints are lost
    /// (docs/protocol.md §Storage).
    Wipe,
    /// Compare `range` with a random live replica of it now, rather than at its anti-entropy turn.
    StartMerkle {
        /// The range; ignored unless the node replicates it.
        range: RangeId,
    },
}

/// What a node wants done.
#[derive(Clone, Debug)]
pub enum Output {
    /// Send `msg` to `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: Msg,
    },
    /// Answer a client (boxed: a reply carries versions, and every queued send would otherwise
    /// be as large as the largest reply).
    Reply(Box<Reply>),
    /// Something worth showing happened inside the node.
    Event(NodeEvent),
}

/// The queue of outputs every sub-machine writes to, and the counters they keep.
#[derive(Clone, Debug)]
struct Outbox {
    me: NodeId,
    queue: VecDeque<Output>,
    stats: NodeStats,
}

impl Outbox {
    fn new(me: NodeId) -> Self {
        Outbox {
            me,
            queue: VecDeque::new(),
            stats: NodeStats::default(),
        }
    }

    fn send(&mut self, to: NodeId, msg: Msg) {
        self.queue.push_back(Output::Send { to, msg });
    }

    fn event(&mut self, e: NodeEvent) {
        self.queue.push_back(Output::Event(e));
    }

    fn reply(&mut self, req: RequestId, key: Key, body: ReplyBody) {
        let coordinator = self.me;
        self.queue.push_back(Output::Reply(Box::new(Reply {
            req,
            key,
            coordinator,
            body,
        })));
    }

    fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }
}

/// One storage node.
#[derive(Clone, Debug)]
pub struct Node {
    id: NodeId,
    cfg: Arc<Config>,
    ring: Arc<Ring>,
    replica: Replica,
    coordinator: Coordinator,
    handoff: Handoff,
    anti_entropy: AntiEntropy,
    membership: Membership,
    rng: Rng,
    timers: TimerTable,
    gossip_rounds: u64,
    out: Outbox,
    /// A fixed loss put back for a negative control; `None` in every real run.
    bug: Option<Reintroduced>,
}

impl Node {
    /// A node of the cluster described by `cfg`, with its own random stream.
    pub fn new(id: NodeId, cfg: Arc<Config>, ring: Arc<Ring>, now: Time) -> Node {
        let mut rng = Rng::derive(cfg.seed, "node", u64::from(id.0));
        let all: Vec<NodeId> = (0..cfg.nodes).map(NodeId).collect();
        // Random phases keep the nodes' rounds from firing in lockstep.
        let gossip_phase = rng.below(cfg.gossip_interval_ms.max(1));
        let mut timers = TimerTable::default();
        timers.set(Timer::Gossip, Some(now.plus(gossip_phase + 1)));
        if cfg.anti_entropy_interval_ms > 0 {
            let phase = rng.below(cfg.anti_entropy_interval_ms);
            let first = now.plus(phase).plus(cfg.anti_entropy_interval_ms);
            timers.set(Timer::AntiEntropy, Some(first));
        }
        let ranges = ring.ranges_replicated_by(id, usize::from(cfg.n));
        Node {
            id,
            replica: Replica::new(
                id,
                cfg.conflict_mode,
                cfg.clock_prune_threshold,
                cfg.hot_budget_bytes,
            ),
            coordinator: Coordinator::new(id, cfg.r, cfg.w, cfg.request_timeout_ms),
            // Retry an unacknowledged handoff at most every five gossip rounds.
            handoff: Handoff::new(cfg.conflict_mode, cfg.gossip_interval_ms.saturating_mul(5)),
            anti_entropy: AntiEntropy::new(ring.clone(), ranges, cfg.merkle_buckets),
            membership: Membership::new(id, &all, now),
            rng,
            timers,
            gossip_rounds: 0,
            out: Outbox::new(id),
            bug: None,
            cfg,
            ring,
        }
    }

    /// The node with a fixed loss put back: for the model checker's negative controls only.
    #[doc(hidden)]
    #[must_use]
    pub fn reintroduce(mut self, bug: Reintroduced) -> Node {
        self.bug = Some(bug);
        self
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The actor its new versions' dots name: the node in its current epoch.
    pub fn actor(&self) -> Actor {
        self.replica.actor()
    }

    /// The highest counter its current actor has issued.
    pub fn issued(&self) -> u64 {
        self.replica.issued()
    }

    /// Its storage engine.
    pub fn store(&self) -> &Store<VersionSet> {
        self.replica.store()
    }

    /// Replicas it holds for other nodes, by intended owner.
    pub fn hints(&self) -> &BTreeMap<NodeId, BTreeMap<Key, VersionSet>> {
        self.handoff.hints()
    }

    /// Its membership list as it sees it.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// Counters.
    pub fn stats(&self) -> &NodeStats {
        &self.out.stats
    }

    /// The versions it stores for `key` (not counting hints), without touching recency.
    pub fn versions(&self, key: &str) -> Option<VersionSet> {
        self.replica.peek(key)
    }

    /// Whether it holds `dot` of `key` (not counting hints), directly or covered by a later version.
    pub fn covers(&self, key: &str, dot: Dot) -> bool {
        self.replica.covers(key, dot)
    }

    /// The ranges it replicates, by end token.
    pub fn ranges(&self) -> impl Iterator<Item = RangeId> + '_ {
        self.anti_entropy.ranges()
    }

    /// Its Merkle tree of `range` as of now; `None` if it does not replicate `range`. Trees absorb
    /// changed keys lazily: a tree with changes pending is returned as a patched copy.
    pub fn merkle_tree(&self, range: RangeId) -> Option<Cow<'_, MerkleTree>> {
        self.anti_entropy.tree(&self.replica, range)
    }

    /// Its Merkle root of `range` as of now; `None` if it does not replicate `range`.
    pub fn merkle_root(&self, range: RangeId) -> Option<MerkleHash> {
        self.anti_entropy.root(&self.replica, range)
    }

    /// When `timer` next fires; `None` when it is not set.
    pub fn timer(&self, timer: Timer) -> Option<Time> {
        self.timers.get(timer)
    }

    /// The nodes a request for `key` goes to by this node's view (docs/protocol.md §Sloppy quorum).
    pub fn targets_for(&self, key: &Key) -> Vec<Target> {
        let healthy = |n: NodeId| n == self.id || self.membership.is_alive(n);
        coordinator::sloppy_targets(&self.ring, key.position(), usize::from(self.cfg.n), healthy)
    }

    /// The next output, if any. Call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// The earliest deadline of its timers, when it next wants [`Input::Timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        self.timers.next()
    }

    /// Feeds one input at time `now`.
    pub fn handle(&mut self, now: Time, input: Input) {
        match input {
            Input::Message { from, msg } => self.on_message(now, from, msg),
            Input::Client { req, request } => self.on_client(now, req, request),
            Input::Timeout => self.on_timeout(now),
            Input::Crash => self.crash(),
            Input::Restart => self.restart(now),
            Input::Wipe => {
                self.replica.wipe(&mut self.out);
                self.handoff.wipe();
                self.anti_entropy.wipe();
            }
            Input::StartMerkle { range } => self.start_merkle(range),
        }
        let deadline = self.coordinator.next_deadline();
        self.timers.set(Timer::RequestTimeout, deadline);
    }

    fn crash(&mut self) {
        self.coordinator.clear();
        self.out.queue.clear();
    }

    fn restart(&mut self, now: Time) {
        self.crash();
        let soonest = now.plus(1);
        for t in [Timer::Gossip, Timer::AntiEntropy] {
            let at = self.timers.get(t).map(|at| at.max(soonest));
            self.timers.set(t, at);
        }
        let all: Vec<NodeId> = (0..self.cfg.nodes).map(NodeId).collect();
        self.membership = Membership::new(self.id, &all, now);
    }

    fn on_client(&mut self, now: Time, req: RequestId, request: Request) {
        let key = request.key().clone();
        let invalid = if key.is_empty() {
            Some(RequestError::EmptyKey)
        } else if key.len() > MAX_KEY_BYTES {
            Some(RequestError::KeyTooLong)
        } else if let Request::Put { value, .. } = &request {
            (value.len() > MAX_VALUE_BYTES).then_some(RequestError::ValueTooLarge)
        } else {
            None
        };
        if let Some(e) = invalid {
            self.out.reply(req, key, ReplyBody::Failed(e));
            return;
        }
        let targets = self.targets_for(&key);
        let coordinates_anyway = self.bug == Some(Reintroduced::NonReplicaCoordinates);
        if !targets.iter().any(|t| t.node == self.id) && !coordinates_anyway {
            coordinator::forward(&mut self.out, req, request, &targets, None, 1);
            return;
        }
        self.coordinate(now, req, request, targets);
    }

    fn coordinate(&mut self, now: Time, req: RequestId, request: Request, targets: Vec<Target>) {
        let my_hint = targets
            .iter()
            .find(|t| t.node == self.id)
            .and_then(|t| t.hint);
        match request {
            Request::Put {
                key,
                value,
                context,
            } => {
                let (version, versions) = self.write_local(now, &key, value, &context, my_hint);
                self.out.event(NodeEvent::Wrote {
                    req,
                    key: key.clone(),
                    dot: version.dot,
                });
                let c = &mut self.coordinator;
                c.start_put(&mut self.out, now, req, key, version, versions, targets);
            }
            Request::Get { key } => {
                let mine = self.read_local(&key, my_hint.is_some());
                let c = &mut self.coordinator;
                let repair = c.start_get(&mut self.out, now, req, key, mine, targets);
                self.self_repair(repair);
            }
        }
    }

    /// The coordinator's write: a new version whose dot is this node's next counter for the key.
    /// Returns it and the coordinator's whole set of the key, which is what replicas receive. A
    /// stand-in (`hint`) keeps the set under the hint, not in its store.
    fn write_local(
        &mut self,
        now: Time,
        key: &Key,
        value: Value,
        context: &VectorClock,
        hint: Option<NodeId>,
    ) -> (Version, VersionSet) {
        let mut set = self.read_local(key, hint.is_some());
        let version = self.replica.write(&mut set, context, value, now);
        match hint {
            Some(owner) => self.handoff.hold(&mut self.out, owner, key, &set),
            None => self.replica.put(key, set.clone()),
        }
        (version, set)
    }

    /// Its versions of `key`, with the copies it holds under hints when `include_hints`.
    fn read_local(&mut self, key: &Key, include_hints: bool) -> VersionSet {
        let mut set = self.replica.get(key);
        if include_hints {
            self.handoff.merge_held_into(key, &mut set);
        }
        set
    }

    fn self_repair(&mut self, repair: Option<SelfRepair>) {
        if let Some(r) = repair {
            self.replica.merge(&r.key, &r.versions);
        }
    }

    fn on_message(&mut self, now: Time, from: NodeId, msg: Msg) {
        match msg {
            Msg::Gossip { digest } => {
                let changes = self.membership.merge(now, from, &digest);
                self.on_member_changes(now, changes);
            }
            Msg::Forward { req, request, hops } => {
                let targets = self.targets_for(request.key());
                if targets.iter().any(|t| t.node == self.id) {
                    self.coordinate(now, req, *request, targets);
                } else {
                    // Views differ: the sender took this node for a replica, this node does not.
                    let hops = hops.saturating_add(1);
                    coordinator::forward(&mut self.out, req, *request, &targets, Some(from), hops);
                }
            }
            Msg::Put {
                req,
                key,
                versions,
                hint,
            } => {
                match hint {
                    Some(owner) if owner != self.id => {
                        self.handoff.hold(&mut self.out, owner, &key, &versions)
                    }
                    _ => {
                        self.replica.merge(&key, &versions);
                    }
                }
                self.out.send(from, Msg::PutAck { req });
            }
            Msg::PutAck { req } => self.coordinator.on_put_ack(&mut self.out, req),
            Msg::Get { req, key } => {
                let versions = Arc::new(self.read_local(&key, true));
                self.out.send(from, Msg::GetReply { req, versions });
            }
            Msg::GetReply { req, versions } => {
                let mode = self.replica.mode();
                let c = &mut self.coordinator;
                let repair = c.on_get_reply(&mut self.out, req, from, versions, mode);
                self.self_repair(repair);
            }
            Msg::ReadRepair { key, versions } => {
                self.replica.merge(&key, &versions);
            }
            Msg::Handoff { records } => {
                for (key, set) in &records {
                    self.replica.merge(key, set);
                }
                self.out.send(from, handoff::acknowledgement(&records));
            }
            Msg::HandoffAck { keys } => {
                let outcome = self.handoff.on_ack(from, keys, self.replica.actor());
                let keeps_actor = self.bug == Some(Reintroduced::StandInKeepsActor);
                if outcome.dropped_own && !keeps_actor {
                    // This node no longer holds versions its actor issued: a later dot of the same
                    // actor for one of these keys would count past them and claim them.
                    self.replica.new_epoch(&mut self.out);
                }
                handoff::report(&mut self.out, from, outcome);
            }
            Msg::Merkle {
                range,
                exchange,
                step,
            } => {
                let (ae, replica) = (&mut self.anti_entropy, &mut self.replica);
                ae.on_message(&mut self.out, replica, from, range, exchange, step);
            }
        }
    }

    fn on_timeout(&mut self, now: Time) {
        for repair in self.coordinator.on_timeout(&mut self.out, now) {
            self.self_repair(Some(repair));
        }
        if self.timers.is_due(Timer::Gossip, now) {
            self.timers
                .set(Timer::Gossip, Some(now.plus(self.cfg.gossip_interval_ms)));
            self.gossip_round(now);
        }
        if self.timers.is_due(Timer::AntiEntropy, now) {
            let next = now.plus(self.cfg.anti_entropy_interval_ms);
            self.timers.set(Timer::AntiEntropy, Some(next));
            if let Some(range) = self.anti_entropy.next_range() {
                self.start_merkle(range);
            }
        }
    }

    /// Starts a Merkle comparison of `range` with a random live replica of it, if it has one.
    fn start_merkle(&mut self, range: RangeId) {
        if !self.anti_entropy.replicates(range) {
            return;
        }
        let replicas = self.ring.preference_list(range.0, usize::from(self.cfg.n));
        let peers: Vec<NodeId> = replicas
            .into_iter()
            .filter(|&p| p != self.id && self.membership.is_alive(p))
            .collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[self.rng.below(peers.len() as u64) as usize];
        let (ae, replica) = (&mut self.anti_entropy, &mut self.replica);
        ae.start(&mut self.out, replica, range, peer);
    }
}
