//! Plain data the components draw, read out of the simulation by the engine. Keeping the
//! components on these types means a re-render never touches the simulation itself, and
//! `window.kvlab.state()` is just their serialisation.

use serde::Serialize;

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
