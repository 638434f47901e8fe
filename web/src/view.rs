//! Plain data the components draw, read out of the simulation by the engine. Keeping the
//! components on these types means a re-render never touches the simulation itself, and
//! `window.kvlab.state()` is just their serialisation.

use crate::format::{dot_text, value_text, why_concurrent};
use kvlab_core::{
    Config, Key, MemberStatus, NodeId, ReplyBody, RequestId, Simulation, Tier, TraceKind, Version,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One physical node as the ring shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeBadge {
    /// Node id.
    pub id: u16,
    /// Display name (`S3`, `Sx`).
    pub name: String,
    /// Running (not crashed).
    pub up: bool,
    /// Partition group (0 when not cut off).
    pub group: u16,
    /// How many running nodes mark it offline.
    pub suspected_by: u16,
    /// Hints it holds for others.
    pub hints: usize,
}

/// A key as a dot on the ring.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyDot {
    /// The key.
    pub key: String,
    /// Hash position.
    pub pos: u64,
    /// Its preference list (first N distinct nodes clockwise).
    pub pref: Vec<u16>,
    /// Stand-ins holding a replica of it under a hint: (stand-in, the home it is held for).
    pub stand_ins: Vec<(u16, u16)>,
}

/// The ring: tokens, nodes and keys. Changes only when the cluster does.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RingView {
    /// Nodes by id.
    pub nodes: Vec<NodeBadge>,
    /// Every token: (position, owner), sorted by position.
    pub tokens: Vec<(u64, u16)>,
    /// Keys stored anywhere (capped for drawing).
    pub keys: Vec<KeyDot>,
    /// Replicas per key.
    pub n: u8,
}

/// A message in the network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Flight {
    /// Sender.
    pub from: u16,
    /// Receiver.
    pub to: u16,
    /// `MsgKind` index.
    pub kind: u8,
    /// Sent at, ms.
    pub sent: u64,
    /// Arrives (or dies) at, ms.
    pub deliver: u64,
    /// The network will drop it.
    pub doomed: bool,
}

/// A message that died recently (for the dying animation).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Death {
    /// Sender.
    pub from: u16,
    /// Receiver.
    pub to: u16,
    /// `MsgKind` index.
    pub kind: u8,
    /// When it died, ms.
    pub at: u64,
}

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiblingView {
    /// The value as text.
    pub value: String,
    /// Its vector clock, e.g. `[Sx,2][Sy,1]` (the context with the dot applied).
    pub clock: String,
    /// Its dot, the write itself: the coordinator and its counter, e.g. `(Sy,1)`.
    pub dot: String,
    /// The context its writer saw, e.g. `[Sx,2]`; `[]` for a blind write.
    pub context: String,
}

/// One key in a node's storage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StorageRow {
    /// The key.
    pub key: String,
    /// Its siblings.
    pub siblings: Vec<SiblingView>,
    /// "hot" or "cold".
    pub tier: String,
    /// Bytes stored (compressed).
    pub stored: u64,
    /// Bytes before compression.
    pub raw: u64,
}

/// A node's storage totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreTotals {
    /// Entries in memory.
    pub hot_entries: u64,
    /// Entries on disk.
    pub cold_entries: u64,
    /// Bytes in memory.
    pub hot_bytes: u64,
    /// Bytes on disk.
    pub cold_bytes: u64,
    /// Raw over stored bytes.
    pub ratio: f64,
}

/// One row of a membership list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberRow {
    /// Member id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Highest heartbeat seen.
    pub heartbeat: u64,
    /// When it last increased, ms.
    pub last_increase: u64,
    /// "alive" or "offline".
    pub status: String,
}

/// Hints held for one owner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HintRow {
    /// The intended owner.
    pub owner: String,
    /// Keys held for it.
    pub keys: Vec<String>,
}

/// What the inspector shows about one node.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeDetail {
    /// Node id.
    pub id: u16,
    /// Name.
    pub name: String,
    /// Running.
    pub up: bool,
    /// Its keys (capped).
    pub storage: Vec<StorageRow>,
    /// Keys it holds in total.
    pub keys_total: usize,
    /// Storage totals.
    pub totals: StoreTotals,
    /// Its membership list.
    pub membership: Vec<MemberRow>,
    /// Hints it holds.
    pub hints: Vec<HintRow>,
    /// Ranges it replicates (end tokens).
    pub ranges: Vec<u64>,
}

/// Counters for the status strip.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Simulated time, ms.
    pub now: u64,
    /// Events processed.
    pub events: u64,
    /// Messages sent by kind.
    pub sent_by_kind: Vec<u64>,
    /// Bytes put on the wire.
    pub bytes: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dropped.
    pub dropped: u64,
    /// Puts acknowledged.
    pub puts_ok: u64,
    /// Gets answered.
    pub gets_ok: u64,
    /// Requests failed.
    pub failed: u64,
    /// In flight now.
    pub in_flight: usize,
}

/// The invariant checks, run now and then.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Invariants {
    /// Acknowledged writes.
    pub acked: u64,
    /// Acknowledged writes a client read and wrote over (legitimately gone).
    pub superseded: u64,
    /// Acknowledged writes not yet on all N home replicas (a hint or anti-entropy will bring them).
    pub pending: u64,
    /// Acknowledged writes no node holds any more and no client wrote over: lost for good.
    pub lost: u64,
    /// Other things clients saw that a correct store never shows (phantom versions, a write
    /// returned next to its successor, a read missing an acknowledged write with R + W > N).
    pub anomalies: u64,
    /// The first anomalies, in words.
    pub anomaly_examples: Vec<String>,
    /// Ranges checked for convergence.
    pub ranges: u64,
    /// Ranges whose replicas agree.
    pub converged: u64,
    /// Simulated time of the check, ms.
    pub at: u64,
}

/// One message in the space-time diagram.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arrow {
    /// Sender lane.
    pub from: u16,
    /// Receiver lane.
    pub to: u16,
    /// `MsgKind` index.
    pub kind: u8,
    /// Sent at.
    pub sent: u64,
    /// Arrived or died at (or will).
    pub end: u64,
    /// Died.
    pub dropped: bool,
}

/// A client's reply, as the console shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplyView {
    /// Request id.
    pub req: u64,
    /// "put" or "get".
    pub op: String,
    /// The key.
    pub key: String,
    /// The coordinator.
    pub coordinator: String,
    /// The node the request was sent to.
    pub asked: String,
    /// How it travelled: "S7 → S0" for each forward, in order.
    pub forwards: Vec<String>,
    /// The replicas the coordinator asked besides itself, "S3 (hint for S2)" for a stand-in.
    pub replicas: Vec<String>,
    /// Why the siblings of a get are concurrent, in words.
    pub why: Option<String>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The siblings read (get) or the version written (put).
    pub siblings: Vec<SiblingView>,
    /// The context returned by a get.
    pub context: String,
    /// No reply yet.
    pub pending: bool,
}

/// Where a guided scenario stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioView {
    /// Id ("s2").
    pub id: String,
    /// Seed section.
    pub section: u8,
    /// Title.
    pub title: String,
    /// Current step.
    pub step: usize,
    /// Number of steps.
    pub steps: usize,
    /// The caption of the current step.
    pub caption: String,
    /// The panel it opens.
    pub panel: String,
    /// The node it selects.
    pub focus: Option<u16>,
    /// Whether the step has run to its end.
    pub settled: bool,
    /// The key the scenario is about.
    pub key: String,
}

// ---------------------------------------------------------------------------------------------
// View models: pure read-outs of a `Simulation` into the plain types above. The engine and the
// components call them; native tests can too.

/// Keys drawn on the ring at most.
const KEY_DOTS: usize = 300;
/// Keys listed in the inspector at most.
const STORAGE_ROWS: usize = 200;

/// A request sent from the client console.
#[derive(Clone, Debug)]
pub struct ConsoleRequest {
    /// The request.
    pub req: RequestId,
    /// A put (else a get).
    pub put: bool,
    /// The key.
    pub key: String,
    /// The node it was sent to.
    pub via: NodeId,
}

/// A version as the page shows it: value, dot, the context its writer saw, and the two as one
/// vector clock.
pub fn sibling(v: &Version, names: &[String]) -> SiblingView {
    let name = |n: NodeId| names.get(n.index()).cloned().unwrap_or_default();
    SiblingView {
        value: value_text(v.value.as_bytes()),
        clock: v.clock().display_with(name),
        dot: dot_text(v.dot, names),
        context: v.context.display_with(name),
    }
}

/// The console's requests (`sent`, and a tour's own when `tour`), newest first, with their
/// replies when they came.
pub fn console_view(
    sim: &Simulation,
    names: &[String],
    sent: &[ConsoleRequest],
    tour: bool,
) -> Vec<ReplyView> {
    let name = |n: NodeId| names.get(n.index()).cloned().unwrap_or_default();
    let mut requests: BTreeMap<RequestId, ConsoleRequest> =
        sent.iter().map(|c| (c.req, c.clone())).collect();
    // A guided scenario's own requests show too: they are what its captions talk about.
    if tour {
        for ev in sim.trace() {
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
                asked: name(c.via),
                forwards: Vec::new(),
                replicas: Vec::new(),
                why: None,
                ok: false,
                error: None,
                siblings: Vec::new(),
                context: String::new(),
                pending: true,
            };
            if let Some(route) = sim.route(c.req) {
                v.forwards = (route.forwards.iter())
                    .map(|&(a, b)| format!("{} → {}", name(a), name(b)))
                    .collect();
                v.replicas = (route.replicas.iter())
                    .map(|&(to, hint)| match hint {
                        Some(home) => format!("{} (hint for {})", name(to), name(home)),
                        None => name(to),
                    })
                    .collect();
            }
            if let Some(r) = sim.reply(c.req) {
                v.pending = false;
                v.coordinator = name(r.coordinator);
                match &r.body {
                    ReplyBody::PutOk {
                        version,
                        siblings,
                        context,
                    } => {
                        // The version written first, then any concurrent ones the coordinator
                        // still holds: the context covers them all.
                        v.ok = true;
                        v.siblings = std::iter::once(version)
                            .chain(siblings.iter().filter(|s| *s != version))
                            .map(|s| sibling(s, names))
                            .collect();
                        v.context = context.display_with(name);
                    }
                    ReplyBody::GetOk { siblings, context } => {
                        v.ok = true;
                        v.siblings = siblings.iter().map(|s| sibling(s, names)).collect();
                        v.context = context.display_with(name);
                        if siblings.len() > 1 {
                            v.why = Some(why_concurrent(siblings, names));
                        }
                    }
                    ReplyBody::Failed(e) => v.error = Some(e.to_string()),
                }
            }
            v
        })
        .collect()
}

/// Counters.
pub fn metrics(sim: &Simulation) -> Metrics {
    let s = sim.stats();
    Metrics {
        now: sim.now().ms(),
        events: s.events,
        sent_by_kind: s.sent_by_kind.to_vec(),
        bytes: s.bytes_sent,
        delivered: s.delivered,
        dropped: s.dropped,
        puts_ok: s.puts_ok,
        gets_ok: s.gets_ok,
        failed: s.failed,
        in_flight: sim.in_flight().count(),
    }
}

/// Messages in the network, into `out` (cleared first; reused across frames).
pub fn flights(sim: &Simulation, out: &mut Vec<Flight>) {
    out.clear();
    out.extend(sim.in_flight().map(|m| Flight {
        from: m.from.0,
        to: m.to.0,
        kind: m.kind.index() as u8,
        sent: m.sent_at.ms(),
        deliver: m.deliver_at.ms(),
        doomed: m.doomed,
    }));
}

/// Messages that died in the last `window` ms, into `out`.
pub fn deaths(sim: &Simulation, window: u64, out: &mut Vec<Death>) {
    out.clear();
    let since = sim.now().ms().saturating_sub(window);
    for ev in sim.trace().iter().rev() {
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

/// Recent messages for the space-time diagram: sent since `since`, newest `max`, none of the
/// kinds in the `hidden` bit set.
pub fn arrows(sim: &Simulation, since: u64, max: usize, hidden: u16) -> Vec<Arrow> {
    let mut dropped = BTreeSet::new();
    let mut out = Vec::new();
    for ev in sim.trace().iter().rev() {
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
                if hidden & (1 << kind.index()) != 0 {
                    continue;
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

/// The ring: tokens, node badges and stored keys (and the tour's key, stored or not).
pub fn ring_view(sim: &Simulation, names: &[String], tour_key: Option<&Key>) -> RingView {
    let ring = sim.ring();
    let n = sim.config().n;
    let ids: Vec<NodeId> = (0..names.len() as u16).map(NodeId).collect();
    let mut suspected = vec![0u16; ids.len()];
    for (i, node) in sim.nodes().iter().enumerate() {
        if !sim.is_up(NodeId(i as u16)) {
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
    let groups = sim.partition_groups();
    let nodes = ids
        .iter()
        .map(|&id| NodeBadge {
            id: id.0,
            name: names[id.index()].clone(),
            up: sim.is_up(id),
            group: groups.get(id.index()).copied().unwrap_or(0),
            suspected_by: suspected[id.index()],
            hints: sim
                .node(id)
                .map_or(0, |nd| nd.hints().values().map(BTreeMap::len).sum()),
        })
        .collect();
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    if let Some(k) = tour_key.filter(|k| k.as_str() != "-") {
        keys.insert(k.clone());
    }
    'outer: for node in sim.nodes() {
        for k in node.store().keys_sorted() {
            if keys.len() >= KEY_DOTS {
                break 'outer;
            }
            keys.insert(k.clone());
        }
    }
    let mut stand_ins: BTreeMap<&str, Vec<(u16, u16)>> = BTreeMap::new();
    for (i, node) in sim.nodes().iter().enumerate() {
        for (owner, held) in node.hints() {
            for k in held.keys() {
                if keys.contains(k) {
                    stand_ins
                        .entry(k.as_str())
                        .or_default()
                        .push((i as u16, owner.0));
                }
            }
        }
    }
    let keys = keys
        .iter()
        .map(|k| {
            let pos = ring.position_of_key(k.as_str());
            KeyDot {
                stand_ins: stand_ins.remove(k.as_str()).unwrap_or_default(),
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
pub fn node_detail(sim: &Simulation, names: &[String], id: u16) -> Option<NodeDetail> {
    let nid = NodeId(id);
    let node = sim.node(nid)?;
    let name = |n: NodeId| names.get(n.index()).cloned().unwrap_or_default();
    let store = node.store();
    let entries = store.entries_for_ui();
    let keys_total = entries.len();
    let storage = entries
        .into_iter()
        .take(STORAGE_ROWS)
        .map(|e| {
            let siblings = store
                .peek(e.key.as_str())
                .map(|vs| vs.versions().iter().map(|v| sibling(v, names)).collect())
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
        up: sim.is_up(nid),
        storage,
        keys_total,
        totals,
        membership,
        hints,
        ranges: node.ranges().map(|r| r.0).collect(),
    })
}

/// Recent Merkle bucket syncs: (node, peer, buckets, keys merged), oldest first.
pub fn merkle_syncs(sim: &Simulation, names: &[String]) -> Vec<(String, String, Vec<u32>, u64)> {
    let name = |n: NodeId| names.get(n.index()).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for ev in sim.trace() {
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
pub fn trace_json(sim: &Simulation) -> String {
    #[derive(serde::Serialize)]
    struct Export<'a> {
        config: &'a Config,
        now: u64,
        trace_hash: String,
        events: Vec<&'a kvlab_core::TraceEvent>,
    }
    let e = Export {
        config: sim.config(),
        now: sim.now().ms(),
        trace_hash: format!("{:016x}", sim.trace_hash()),
        events: sim.trace().iter().collect(),
    };
    serde_json::to_string(&e).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
}
