//! One storage node as a sans-IO state machine: the quorum coordinator and replica (seed §1, §2),
//! gossip failure detection (§3), sloppy quorum with hinted handoff (§4) and Merkle anti-entropy (§5).
//!
//! `handle(now, input)` takes a message, a client request or a timer; `poll_output()` drains what the
//! node wants sent or said; `poll_timeout()` tells when it next wants a `Timer` input.

use crate::config::{Config, ConflictMode, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use crate::gossip::{MemberChange, MemberChangeKind, Membership};
use crate::merkle::{MerkleHash, MerkleStep, MerkleTree};
use crate::message::{MerkleWire, Msg, Reply, ReplyBody, Request, RequestError};
use crate::ring::{RangeId, Ring};
use crate::rng::Rng;
use crate::storage::{Policy, Record, Store};
use crate::types::{Actor, Key, NodeId, RequestId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// What a node is given.
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
    /// The time the node asked for through `poll_timeout` has come.
    Timer,
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
    /// Answer a client.
    Reply(Reply),
    /// Something worth showing happened inside the node.
    Event(NodeEvent),
}

/// State changes a node reports, for the trace and the page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeEvent {
    /// Its membership view changed (seed §3).
    Member(MemberChange),
    /// As coordinator of put `req` it wrote a new version of `key` named `dot`. The simulator's
    /// history oracle uses it only to recognise the write in later reads (with the value), never to
    /// decide what supersedes what.
    Wrote {
        /// The client request.
        req: RequestId,
        /// The key.
        key: Key,
        /// The new version's dot.
        dot: Dot,
    },
    /// It started a new clock epoch (see [`Actor`]): its disk was wiped, or it deleted hinted
    /// versions it had issued itself.
    NewEpoch {
        /// The actor it writes as from now on.
        actor: Actor,
    },
    /// It stored a replica for `owner` under a hint (seed §4).
    HintStored {
        /// The intended owner.
        owner: NodeId,
        /// The key.
        key: Key,
    },
    /// The owner acknowledged hinted replicas; the hints were deleted.
    HintDelivered {
        /// The owner.
        owner: NodeId,
        /// How many keys.
        keys: u64,
    },
    /// It sent merged versions to a stale replica after a read.
    ReadRepair {
        /// The key.
        key: Key,
        /// The stale replica.
        to: NodeId,
    },
    /// A Merkle comparison with `peer` found and merged these buckets of `range` (seed §5).
    MerkleSynced {
        /// The other replica.
        peer: NodeId,
        /// The range.
        range: RangeId,
        /// Differing buckets.
        buckets: Vec<u32>,
        /// Keys received and merged.
        keys: u64,
    },
    /// A Merkle comparison found the range in sync.
    MerkleInSync {
        /// The other replica.
        peer: NodeId,
        /// The range.
        range: RangeId,
    },
}

/// Counters of what a node did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Requests this node coordinated.
    pub coordinated: u64,
    /// Read repairs sent.
    pub read_repairs: u64,
    /// Hints stored.
    pub hints_stored: u64,
    /// Hinted keys handed off and acknowledged.
    pub hints_delivered: u64,
    /// Merkle exchanges started.
    pub merkle_exchanges: u64,
    /// Merkle hashes sent.
    pub merkle_hashes_sent: u64,
    /// Keys sent in Merkle bucket syncs.
    pub merkle_keys_sent: u64,
    /// Bytes of Merkle messages sent.
    pub merkle_bytes_sent: u64,
}

#[derive(Clone, Debug)]
enum Pending {
    Put {
        key: Key,
        version: Version,
        acks: u8,
        replied: bool,
    },
    Get {
        key: Key,
        /// (replica, its versions, held as a stand-in?)
        replies: Vec<(NodeId, VersionSet, bool)>,
        merged: VersionSet,
        replied: bool,
    },
}

#[derive(Clone, Debug)]
struct PendingReq {
    deadline: Time,
    targets: Vec<(NodeId, Option<NodeId>)>,
    op: Pending,
}

impl Record for VersionSet {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_version_set(self, out);
    }
    fn decode(bytes: &[u8]) -> Option<Self> {
        crate::codec::decode_version_set(bytes)
    }
}

/// One storage node.
#[derive(Clone, Debug)]
pub struct Node {
    id: NodeId,
    cfg: Arc<Config>,
    ring: Arc<Ring>,
    store: Store<VersionSet>,
    hints: BTreeMap<NodeId, BTreeMap<Key, VersionSet>>,
    membership: Membership,
    rng: Rng,
    pending: BTreeMap<RequestId, PendingReq>,
    deadlines: BTreeSet<(Time, RequestId)>,
    next_gossip: Time,
    next_anti_entropy: Time,
    /// Ranges (by end token) this node replicates, and their Merkle trees. A tree is built on
    /// first use: most of a large ring's ranges may never hold a key here, and an empty tree still
    /// costs 2·B hashes.
    trees: BTreeMap<RangeId, Option<MerkleTree>>,
    /// Keys changed since the trees were last brought up to date.
    dirty: BTreeSet<Key>,
    ae_cursor: usize,
    gossip_rounds: u64,
    /// Its clock epoch: its dots name `Actor { node: id, epoch }` (see [`Actor`]).
    epoch: u32,
    /// The highest dot counter its current actor has issued, for any key: counters never go back.
    issued: u64,
    exchange: u64,
    last_handoff: BTreeMap<NodeId, Time>,
    outputs: VecDeque<Output>,
    stats: NodeStats,
}

impl Node {
    /// A node of the cluster described by `cfg`, with its own random stream.
    pub fn new(id: NodeId, cfg: Arc<Config>, ring: Arc<Ring>, now: Time) -> Node {
        let mut rng = Rng::derive(cfg.seed, "node", u64::from(id.0));
        let all: Vec<NodeId> = (0..cfg.nodes).map(NodeId).collect();
        // Random phases keep the nodes' rounds from firing in lockstep.
        let gossip_phase = rng.below(cfg.gossip_interval_ms.max(1));
        let ae_phase = if cfg.anti_entropy_interval_ms > 0 {
            rng.below(cfg.anti_entropy_interval_ms)
        } else {
            0
        };
        let trees = ring
            .ranges_replicated_by(id, usize::from(cfg.n))
            .into_iter()
            .map(|r| (r, None))
            .collect();
        Node {
            id,
            store: Store::new(cfg.hot_budget_bytes, Policy::default()),
            hints: BTreeMap::new(),
            membership: Membership::new(id, &all, now),
            rng,
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            next_gossip: now.plus(gossip_phase + 1),
            next_anti_entropy: if cfg.anti_entropy_interval_ms > 0 {
                now.plus(ae_phase).plus(cfg.anti_entropy_interval_ms)
            } else {
                Time(u64::MAX)
            },
            trees,
            dirty: BTreeSet::new(),
            ae_cursor: 0,
            gossip_rounds: 0,
            epoch: 0,
            issued: 0,
            exchange: 0,
            last_handoff: BTreeMap::new(),
            outputs: VecDeque::new(),
            stats: NodeStats::default(),
            cfg,
            ring,
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The actor its new versions' dots name: the node in its current epoch.
    pub fn actor(&self) -> Actor {
        Actor::new(self.id, self.epoch)
    }

    /// The highest counter its current actor has issued.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Starts a new clock epoch: from now on its dots name a fresh actor whose counters start at 1.
    /// Called whenever the node drops versions its current actor issued, so that no later dot of
    /// that actor claims (by counting past it) a version the node no longer holds. 2^32 epochs are
    /// out of reach (one per wipe or per handoff of self-written hints), so saturating is safe.
    fn new_epoch(&mut self) {
        self.epoch = self.epoch.saturating_add(1);
        self.issued = 0;
        let actor = self.actor();
        self.event(NodeEvent::NewEpoch { actor });
    }

    /// Its storage engine (seed §1).
    pub fn store(&self) -> &Store<VersionSet> {
        &self.store
    }

    /// Replicas it holds for other nodes, by intended owner (seed §4).
    pub fn hints(&self) -> &BTreeMap<NodeId, BTreeMap<Key, VersionSet>> {
        &self.hints
    }

    /// Its membership list as it sees it (seed §3).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// Counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// The versions it stores for `key` (not counting hints), without touching recency.
    pub fn versions(&self, key: &str) -> Option<VersionSet> {
        self.store.peek(key)
    }

    /// The ranges it replicates, by end token.
    pub fn ranges(&self) -> impl Iterator<Item = RangeId> + '_ {
        self.trees.keys().copied()
    }

    /// Its Merkle tree of `range`, brought up to date; `None` if it does not replicate `range`.
    pub fn merkle_tree(&mut self, range: RangeId) -> Option<&MerkleTree> {
        self.flush_dirty();
        self.tree_mut(range).map(|t| &*t)
    }

    /// Its Merkle root of `range`, brought up to date, without building a tree for a range that
    /// never held a key; `None` if it does not replicate `range`.
    pub fn merkle_root(&mut self, range: RangeId) -> Option<MerkleHash> {
        self.flush_dirty();
        let buckets = self.cfg.merkle_buckets;
        let tree = self.trees.get(&range)?;
        Some(
            tree.as_ref()
                .map_or_else(|| MerkleTree::empty_root(buckets), MerkleTree::root),
        )
    }

    /// The tree of a range this node replicates, built empty on first use.
    fn tree_mut(&mut self, range: RangeId) -> Option<&mut MerkleTree> {
        let buckets = self.cfg.merkle_buckets;
        let tree = self.trees.get_mut(&range)?;
        Some(tree.get_or_insert_with(|| MerkleTree::new(buckets)))
    }

    /// Loses everything stored: a permanent failure with a new, empty disk. From now on its writes
    /// carry a new clock actor (`S3#1`): the old actor's counters name versions this disk no longer
    /// holds, and a clock that claimed them would supersede versions no client read.
    pub fn wipe(&mut self) {
        self.new_epoch();
        self.store.wipe();
        self.hints.clear();
        self.dirty.clear();
        for t in self.trees.values_mut() {
            *t = None;
        }
    }

    /// Called when the node comes back after a crash: pending requests died with the process.
    pub fn restart(&mut self, now: Time) {
        self.pending.clear();
        self.deadlines.clear();
        self.outputs.clear();
        self.next_gossip = self.next_gossip.max(now.plus(1));
        if self.cfg.anti_entropy_interval_ms > 0 {
            self.next_anti_entropy = self.next_anti_entropy.max(now.plus(1));
        }
        let all: Vec<NodeId> = (0..self.cfg.nodes).map(NodeId).collect();
        self.membership = Membership::new(self.id, &all, now);
    }

    /// The next output, if any. Call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the node next wants a `Timer` input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        let mut t = self.next_gossip.min(self.next_anti_entropy);
        if let Some(&(d, _)) = self.deadlines.first() {
            t = t.min(d);
        }
        Some(t)
    }

    /// Feeds one input at time `now`.
    pub fn handle(&mut self, now: Time, input: Input) {
        match input {
            Input::Message { from, msg } => self.on_message(now, from, msg),
            Input::Client { req, request } => self.on_client(now, req, request),
            Input::Timer => self.on_timer(now),
        }
    }

    fn send(&mut self, to: NodeId, msg: Msg) {
        self.outputs.push_back(Output::Send { to, msg });
    }

    fn event(&mut self, e: NodeEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn reply(&mut self, req: RequestId, key: Key, body: ReplyBody) {
        self.outputs.push_back(Output::Reply(Reply {
            req,
            key,
            coordinator: self.id,
            body,
        }));
    }

    fn healthy(&self, n: NodeId) -> bool {
        n == self.id || self.membership.is_alive(n)
    }

    /// Sloppy quorum (seed §4): the first N healthy nodes walking the ring from the key. A node
    /// past the key's first N stands in for a skipped owner, named in the pair's hint.
    pub fn targets_for(&self, key: &Key) -> Vec<(NodeId, Option<NodeId>)> {
        let n = usize::from(self.cfg.n);
        let pos = key.position();
        let mut out = Vec::with_capacity(n);
        let mut skipped: VecDeque<NodeId> = VecDeque::new();
        for (i, node) in self.ring.walk(pos).enumerate() {
            if out.len() == n {
                break;
            }
            if self.healthy(node) {
                let hint = if i < n { None } else { skipped.pop_front() };
                out.push((node, hint));
            } else if i < n {
                skipped.push_back(node);
            }
        }
        out
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
            self.reply(req, key, ReplyBody::Failed(e));
            return;
        }
        let targets = self.targets_for(&key);
        if !targets.iter().any(|&(t, _)| t == self.id) {
            // Not in the key's list: pass the request to the first healthy node of it.
            self.forward(req, request, &targets, None, 1);
            return;
        }
        self.coordinate(now, req, request, targets);
    }

    /// Passes a request for a key whose preference list (by this node's view) does not include this
    /// node to the first node of that list, or fails it once it has been passed on
    /// [`MAX_FORWARD_HOPS`] times. A node that is not on the list never coordinates: it would
    /// store the write where no replica of the key looks, and acknowledge it.
    fn forward(
        &mut self,
        req: RequestId,
        request: Request,
        targets: &[(NodeId, Option<NodeId>)],
        from: Option<NodeId>,
        hops: u8,
    ) {
        let next = targets
            .iter()
            .map(|&(t, _)| t)
            .find(|&t| Some(t) != from)
            .filter(|_| hops <= MAX_FORWARD_HOPS);
        match next {
            Some(to) => self.send(
                to,
                Msg::Forward {
                    req,
                    request: Box::new(request),
                    hops,
                },
            ),
            None => {
                let key = request.key().clone();
                self.reply(req, key, ReplyBody::Failed(RequestError::NoCoordinator));
            }
        }
    }

    fn coordinate(
        &mut self,
        now: Time,
        req: RequestId,
        request: Request,
        targets: Vec<(NodeId, Option<NodeId>)>,
    ) {
        self.stats.coordinated += 1;
        let deadline = now.plus(self.cfg.request_timeout_ms);
        let my_hint = targets
            .iter()
            .find(|(t, _)| *t == self.id)
            .and_then(|(_, h)| *h);
        match request {
            Request::Put {
                key,
                value,
                context,
            } => {
                let (version, versions) = self.write_local(now, &key, value, &context, my_hint);
                self.event(NodeEvent::Wrote {
                    req,
                    key: key.clone(),
                    dot: version.dot,
                });
                let versions = Arc::new(versions);
                let me = self.id;
                for &(t, hint) in targets.iter().filter(|(t, _)| *t != me) {
                    let versions = versions.clone();
                    let key = key.clone();
                    self.send(
                        t,
                        Msg::Put {
                            req,
                            key,
                            versions,
                            hint,
                        },
                    );
                }
                let op = Pending::Put {
                    key,
                    version,
                    acks: 1,
                    replied: false,
                };
                self.track(req, deadline, targets, op);
                self.check_put(req);
            }
            Request::Get { key } => {
                let mine = self.read_local(&key, my_hint.is_some());
                let me = self.id;
                for &(t, _) in targets.iter().filter(|(t, _)| *t != me) {
                    let key = key.clone();
                    self.send(t, Msg::Get { req, key });
                }
                let op = Pending::Get {
                    key,
                    merged: mine.clone(),
                    replies: vec![(self.id, mine, my_hint.is_some())],
                    replied: false,
                };
                self.track(req, deadline, targets, op);
                self.check_get(req);
            }
        }
    }

    /// Remembers a request this node coordinates until its quorum or its deadline.
    fn track(
        &mut self,
        req: RequestId,
        deadline: Time,
        targets: Vec<(NodeId, Option<NodeId>)>,
        op: Pending,
    ) {
        let p = PendingReq {
            deadline,
            targets,
            op,
        };
        self.pending.insert(req, p);
        self.deadlines.insert((deadline, req));
    }

    /// The coordinator's write: a new version whose dot is this node's next counter for the key.
    /// Returns it and the coordinator's whole set of the key, which is what replicas receive.
    fn write_local(
        &mut self,
        now: Time,
        key: &Key,
        value: Value,
        context: &VectorClock,
        hint: Option<NodeId>,
    ) -> (Version, VersionSet) {
        let prune = usize::from(self.cfg.clock_prune_threshold);
        let mut set = self.read_local(key, hint.is_some());
        let version = match self.cfg.conflict_mode {
            ConflictMode::VectorClock => {
                set.write_after(self.actor(), context, value, now, prune, self.issued)
            }
            ConflictMode::LastWriteWins => set.write_lww(self.actor(), value, now),
        };
        self.issued = self.issued.max(version.dot.counter);
        match hint {
            Some(owner) => self.store_hint(owner, key, &set),
            None => self.put_set(key, set.clone()),
        }
        (version, set)
    }

    fn read_local(&mut self, key: &Key, include_hints: bool) -> VersionSet {
        let mut set = self.store.get(key.as_str()).unwrap_or_default();
        if include_hints {
            for held in self.hints.values() {
                if let Some(vs) = held.get(key.as_str()) {
                    self.merge_sets(&mut set, vs);
                }
            }
        }
        set
    }

    fn merge_sets(&self, into: &mut VersionSet, from: &VersionSet) -> bool {
        match self.cfg.conflict_mode {
            ConflictMode::VectorClock => into.merge(from),
            ConflictMode::LastWriteWins => {
                let mut changed = false;
                for v in from.versions() {
                    changed |= into.insert_lww(v.clone());
                }
                changed
            }
        }
    }

    fn put_set(&mut self, key: &Key, set: VersionSet) {
        self.store.put(key.clone(), set);
        self.dirty.insert(key.clone());
    }

    /// Merges `incoming` into the stored versions of `key`; returns whether anything changed.
    fn merge_into_store(&mut self, key: &Key, incoming: &VersionSet) -> bool {
        let mut set = self.store.get(key.as_str()).unwrap_or_default();
        let changed = self.merge_sets(&mut set, incoming);
        if changed {
            self.put_set(key, set);
        }
        changed
    }

    fn store_hint(&mut self, owner: NodeId, key: &Key, versions: &VersionSet) {
        let lww = self.cfg.conflict_mode == ConflictMode::LastWriteWins;
        let set = self
            .hints
            .entry(owner)
            .or_default()
            .entry(key.clone())
            .or_default();
        if lww {
            for v in versions.versions() {
                set.insert_lww(v.clone());
            }
        } else {
            set.merge(versions);
        }
        self.stats.hints_stored += 1;
        self.event(NodeEvent::HintStored {
            owner,
            key: key.clone(),
        });
    }

    fn check_put(&mut self, req: RequestId) {
        let w = self.cfg.w;
        let Some(p) = self.pending.get_mut(&req) else {
            return;
        };
        let Pending::Put {
            key,
            version,
            acks,
            replied,
        } = &mut p.op
        else {
            return;
        };
        if !*replied && *acks >= w {
            *replied = true;
            let (key, version) = (key.clone(), version.clone());
            let all = usize::from(*acks) >= p.targets.len();
            if all {
                self.finish(req);
            }
            self.reply(req, key, ReplyBody::PutOk { version });
        } else if *replied && usize::from(*acks) >= p.targets.len() {
            self.finish(req);
        }
    }

    fn check_get(&mut self, req: RequestId) {
        let r = usize::from(self.cfg.r);
        let Some(p) = self.pending.get_mut(&req) else {
            return;
        };
        let Pending::Get {
            key,
            replies,
            merged,
            replied,
        } = &mut p.op
        else {
            return;
        };
        let all = replies.len() >= p.targets.len();
        if !*replied && replies.len() >= r {
            *replied = true;
            let body = ReplyBody::GetOk {
                siblings: merged.versions().to_vec(),
                context: merged.context(),
            };
            let key = key.clone();
            self.reply(req, key, body);
        }
        if all {
            self.read_repair(req);
        }
    }

    /// Sends the merged versions to every replica whose reply lacked some of them.
    fn read_repair(&mut self, req: RequestId) {
        let Some(p) = self.finish(req) else {
            return;
        };
        let Pending::Get {
            key,
            replies,
            merged,
            ..
        } = p.op
        else {
            return;
        };
        let merged = Arc::new(merged);
        for (node, versions, stand_in) in replies {
            // A stand-in's copy is under a hint; handoff, not read repair, takes care of it.
            if stand_in || versions == *merged {
                continue;
            }
            self.stats.read_repairs += 1;
            self.event(NodeEvent::ReadRepair {
                key: key.clone(),
                to: node,
            });
            if node == self.id {
                self.merge_into_store(&key, &merged);
            } else {
                self.send(
                    node,
                    Msg::ReadRepair {
                        key: key.clone(),
                        versions: Arc::clone(&merged),
                    },
                );
            }
        }
    }

    fn finish(&mut self, req: RequestId) -> Option<PendingReq> {
        let p = self.pending.remove(&req)?;
        self.deadlines.remove(&(p.deadline, req));
        Some(p)
    }

    fn on_message(&mut self, now: Time, from: NodeId, msg: Msg) {
        match msg {
            Msg::Gossip { digest } => {
                let changes = self.membership.merge(now, from, &digest);
                self.on_member_changes(now, changes);
            }
            Msg::Forward { req, request, hops } => {
                let targets = self.targets_for(request.key());
                if targets.iter().any(|&(t, _)| t == self.id) {
                    self.coordinate(now, req, *request, targets);
                } else {
                    // Views differ: the sender took this node for a replica, this node does not.
                    self.forward(req, *request, &targets, Some(from), hops.saturating_add(1));
                }
            }
            Msg::Put {
                req,
                key,
                versions,
                hint,
            } => {
                match hint {
                    Some(owner) if owner != self.id => self.store_hint(owner, &key, &versions),
                    _ => {
                        self.merge_into_store(&key, &versions);
                    }
                }
                self.send(from, Msg::PutAck { req });
            }
            Msg::PutAck { req } => {
                if let Some(PendingReq {
                    op: Pending::Put { acks, .. },
                    ..
                }) = self.pending.get_mut(&req)
                {
                    *acks += 1;
                    self.check_put(req);
                }
            }
            Msg::Get { req, key } => {
                let versions = Arc::new(self.read_local(&key, true));
                self.send(from, Msg::GetReply { req, versions });
            }
            Msg::GetReply { req, versions } => {
                let lww = self.cfg.conflict_mode == ConflictMode::LastWriteWins;
                if let Some(p) = self.pending.get_mut(&req) {
                    let stand_in = p.targets.iter().any(|&(t, h)| t == from && h.is_some());
                    if let Pending::Get {
                        replies, merged, ..
                    } = &mut p.op
                    {
                        if replies.iter().any(|(n, _, _)| *n == from) {
                            return;
                        }
                        if lww {
                            for v in versions.versions() {
                                merged.insert_lww(v.clone());
                            }
                        } else {
                            merged.merge(&versions);
                        }
                        replies.push((from, Arc::unwrap_or_clone(versions), stand_in));
                        self.check_get(req);
                    }
                }
            }
            Msg::ReadRepair { key, versions } => {
                self.merge_into_store(&key, &versions);
            }
            Msg::Handoff { records } => {
                let mut keys = Vec::with_capacity(records.len());
                for (key, set) in records {
                    let dots = set.versions().iter().map(|v| v.dot).collect();
                    self.merge_into_store(&key, &set);
                    keys.push((key, dots));
                }
                self.send(from, Msg::HandoffAck { keys });
            }
            Msg::HandoffAck { keys } => {
                let mut delivered = 0u64;
                let mut dropped_own = false;
                let actor = self.actor();
                if let Some(held) = self.hints.get_mut(&from) {
                    for (key, dots) in keys {
                        let done = held
                            .get(key.as_str())
                            .is_some_and(|vs| vs.versions().iter().all(|v| dots.contains(&v.dot)));
                        if done {
                            if let Some(vs) = held.remove(key.as_str()) {
                                dropped_own |= vs.versions().iter().any(|v| v.dot.actor == actor);
                            }
                            delivered += 1;
                        }
                    }
                    if held.is_empty() {
                        self.hints.remove(&from);
                    }
                }
                if dropped_own {
                    // This node no longer holds versions its actor issued: a later dot of the same
                    // actor for one of these keys would count past them and claim them.
                    self.new_epoch();
                }
                if delivered > 0 {
                    self.stats.hints_delivered += delivered;
                    self.event(NodeEvent::HintDelivered {
                        owner: from,
                        keys: delivered,
                    });
                }
            }
            Msg::Merkle {
                range,
                exchange,
                step,
            } => self.on_merkle(from, range, exchange, step),
        }
    }

    fn on_member_changes(&mut self, now: Time, changes: Vec<MemberChange>) {
        for c in changes {
            let revived = matches!(c.kind, MemberChangeKind::BecameAlive);
            let node = c.node;
            self.event(NodeEvent::Member(c));
            if revived {
                self.hand_off(now, node, true);
            }
        }
    }

    /// Sends the replicas held for `owner` if gossip says it is alive (seed §4 hinted handoff).
    fn hand_off(&mut self, now: Time, owner: NodeId, force: bool) {
        if !self.membership.is_alive(owner) {
            return;
        }
        let Some(held) = self.hints.get(&owner) else {
            return;
        };
        // Retry at most every five rounds until the owner acknowledges.
        let retry = self.cfg.gossip_interval_ms * 5;
        if !force
            && self
                .last_handoff
                .get(&owner)
                .is_some_and(|&t| now.since(t) < retry)
        {
            return;
        }
        let records: Vec<(Key, VersionSet)> =
            held.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.last_handoff.insert(owner, now);
        self.send(owner, Msg::Handoff { records });
    }

    fn on_timer(&mut self, now: Time) {
        while let Some(&(d, req)) = self.deadlines.first() {
            if d > now {
                break;
            }
            self.on_deadline(req);
        }
        if now >= self.next_gossip {
            self.next_gossip = now.plus(self.cfg.gossip_interval_ms);
            self.gossip_round(now);
        }
        if now >= self.next_anti_entropy {
            self.next_anti_entropy = now.plus(self.cfg.anti_entropy_interval_ms);
            self.start_anti_entropy();
        }
    }

    fn on_deadline(&mut self, req: RequestId) {
        let Some(p) = self.pending.get(&req) else {
            self.deadlines.retain(|&(_, r)| r != req);
            return;
        };
        match &p.op {
            Pending::Put {
                key, acks, replied, ..
            } => {
                let (key, acks, replied) = (key.clone(), *acks, *replied);
                self.finish(req);
                if !replied {
                    let needed = self.cfg.w;
                    self.reply(
                        req,
                        key,
                        ReplyBody::Failed(RequestError::Timeout { got: acks, needed }),
                    );
                }
            }
            Pending::Get {
                key,
                replies,
                replied,
                ..
            } => {
                let (key, got, replied) = (key.clone(), replies.len() as u8, *replied);
                if replied {
                    // Repair the replicas that answered; the silent ones are anti-entropy's job.
                    self.read_repair(req);
                } else {
                    self.finish(req);
                    let needed = self.cfg.r;
                    self.reply(
                        req,
                        key,
                        ReplyBody::Failed(RequestError::Timeout { got, needed }),
                    );
                }
            }
        }
    }

    fn gossip_round(&mut self, now: Time) {
        self.membership.tick(now);
        let changes = self
            .membership
            .check(now, self.cfg.t_fail_ms, self.cfg.t_cleanup_ms);
        self.on_member_changes(now, changes);
        let peers = self
            .membership
            .pick_targets(&mut self.rng, self.cfg.fanout, true);
        let mut peers = peers;
        // Every tenth round, also gossip to one cluster node this node does not believe alive.
        // Without it, two sides that removed each other during a long partition would never talk
        // again (a logical partition); Dynamo uses seed nodes for the same purpose.
        self.gossip_rounds += 1;
        if self.gossip_rounds.is_multiple_of(10) {
            let dead: Vec<NodeId> = (0..self.cfg.nodes)
                .map(NodeId)
                .filter(|&n| n != self.id && !self.membership.is_alive(n))
                .collect();
            if !dead.is_empty() {
                peers.push(dead[self.rng.below(dead.len() as u64) as usize]);
            }
        }
        if !peers.is_empty() {
            let digest = self.membership.digest();
            for p in peers {
                self.send(
                    p,
                    Msg::Gossip {
                        digest: digest.clone(),
                    },
                );
            }
        }
        let owners: Vec<NodeId> = self.hints.keys().copied().collect();
        for owner in owners {
            self.hand_off(now, owner, false);
        }
    }

    /// Brings every range's Merkle tree up to date with the keys changed since.
    fn flush_dirty(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        let mut by_range: BTreeMap<RangeId, Vec<RecordChange>> = BTreeMap::new();
        for key in dirty {
            let Some(range) = self.ring.range_of_key(key.position()) else {
                continue;
            };
            if !self.trees.contains_key(&range) {
                continue;
            }
            let digest = self.store.peek(key.as_str()).map(|set| record_digest(&set));
            by_range.entry(range).or_default().push((key, digest));
        }
        for (range, changes) in by_range {
            if let Some(t) = self.tree_mut(range) {
                t.apply(changes.iter().map(|(k, d)| (k, *d)));
            }
        }
    }

    /// Starts a Merkle comparison of the next range with another live replica of it (seed §5).
    fn start_anti_entropy(&mut self) {
        if self.trees.is_empty() {
            return;
        }
        let ranges: Vec<RangeId> = self.trees.keys().copied().collect();
        let range = ranges[self.ae_cursor % ranges.len()];
        self.ae_cursor += 1;
        self.start_merkle(range);
    }

    /// Starts a Merkle comparison of `range` with a random live replica; false if there is none.
    pub fn start_merkle(&mut self, range: RangeId) -> bool {
        let replicas = self.ring.preference_list(range.0, usize::from(self.cfg.n));
        let peers: Vec<NodeId> = replicas
            .into_iter()
            .filter(|&p| p != self.id && self.membership.is_alive(p))
            .collect();
        if peers.is_empty() || !self.trees.contains_key(&range) {
            return false;
        }
        let peer = peers[self.rng.below(peers.len() as u64) as usize];
        self.flush_dirty();
        let Some(open) = self.tree_mut(range).map(|t| t.open()) else {
            return false;
        };
        self.exchange += 1;
        self.stats.merkle_exchanges += 1;
        self.send_merkle(peer, range, self.exchange, MerkleWire::Tree(open));
        true
    }

    fn send_merkle(&mut self, to: NodeId, range: RangeId, exchange: u64, step: MerkleWire) {
        match &step {
            MerkleWire::Tree(m) => self.stats.merkle_hashes_sent += m.node_hashes() as u64,
            MerkleWire::Records { records, .. } => {
                self.stats.merkle_keys_sent += records.len() as u64
            }
            MerkleWire::InSync => {}
        }
        let msg = Msg::Merkle {
            range,
            exchange,
            step,
        };
        self.stats.merkle_bytes_sent += msg.wire_bytes() as u64;
        self.send(to, msg);
    }

    fn on_merkle(&mut self, from: NodeId, range: RangeId, exchange: u64, step: MerkleWire) {
        self.flush_dirty();
        if !self.trees.contains_key(&range) {
            return;
        }
        match step {
            MerkleWire::Tree(m) => {
                let Some(answer) = self.tree_mut(range).map(|t| t.answer(&m)) else {
                    return;
                };
                match answer {
                    MerkleStep::Reply(next) => {
                        self.send_merkle(from, range, exchange, MerkleWire::Tree(next))
                    }
                    MerkleStep::InSync => {
                        self.send_merkle(from, range, exchange, MerkleWire::InSync);
                        self.event(NodeEvent::MerkleInSync { peer: from, range });
                    }
                    MerkleStep::Repair(repair) => {
                        let records = self.records_of(&repair.push);
                        let step = MerkleWire::Records {
                            buckets: repair.buckets,
                            records,
                            pull: repair.pull,
                            reply: true,
                        };
                        self.send_merkle(from, range, exchange, step);
                    }
                    MerkleStep::Incompatible => {}
                }
            }
            MerkleWire::Records {
                buckets,
                records,
                pull,
                reply,
            } => {
                let keys = records.len() as u64;
                let mut answer = Vec::new();
                for (key, set) in &records {
                    self.merge_into_store(key, set);
                    if reply {
                        // Send back what the sender lacks: our merge differs from its versions.
                        if let Some(mine) = self.store.peek(key.as_str()) {
                            if mine != *set {
                                answer.push((key.clone(), mine));
                            }
                        }
                    }
                }
                if reply {
                    answer.extend(self.records_of(&pull));
                    let step = MerkleWire::Records {
                        buckets: buckets.clone(),
                        records: answer,
                        pull: Vec::new(),
                        reply: false,
                    };
                    self.send_merkle(from, range, exchange, step);
                }
                self.event(NodeEvent::MerkleSynced {
                    peer: from,
                    range,
                    buckets,
                    keys,
                });
            }
            MerkleWire::InSync => {
                self.event(NodeEvent::MerkleInSync { peer: from, range });
            }
        }
    }

    fn records_of(&self, keys: &[Key]) -> Vec<(Key, VersionSet)> {
        keys.iter()
            .filter_map(|k| self.store.peek(k.as_str()).map(|set| (k.clone(), set)))
            .collect()
    }

    /// Every acknowledged dot of `key` this node holds, directly or covered by a later version.
    pub fn covers(&self, key: &str, dot: Dot) -> bool {
        self.store.peek(key).is_some_and(|set| {
            set.versions()
                .iter()
                .any(|v| v.dot == dot || v.context.counter(dot.actor) >= dot.counter)
        })
    }
}

/// How many times a client request may be passed between nodes whose views of the key's
/// preference list disagree before it fails with [`RequestError::NoCoordinator`].
pub const MAX_FORWARD_HOPS: u8 = 2;

/// A key and the digest of its new record (`None`: the key is gone).
type RecordChange = (Key, Option<[u8; 32]>);

/// SHA-256 of a version set's encoding: what a Merkle leaf hashes for one key.
fn record_digest(set: &VersionSet) -> [u8; 32] {
    let mut buf = Vec::with_capacity(64);
    set.encode(&mut buf);
    crate::merkle::record_digest(&buf)
}
