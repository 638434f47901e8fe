//! Guided scenarios as data, one per seed section: timed actions with a caption per step saying what
//! happens and why. The tests and the page run the same data.

use crate::config::Config;
use crate::message::Request;
use crate::ring::Ring;
use crate::sim::{Action, Fault, Simulation};
use crate::types::{Key, NodeId, Time, Value};
use crate::vclock::VectorClock;
use serde::{Deserialize, Serialize};

/// One step: run `actions` at the step's start, then let the cluster run until `until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioStep {
    /// Done when the step starts.
    pub actions: Vec<Action>,
    /// The simulation runs to this time before the step is shown.
    pub until: Time,
    /// What happens and why, in one or two sentences.
    pub caption: String,
    /// The panel the page opens for this step: "storage", "client", "membership", "hints", "merkle".
    pub panel: String,
    /// The node the page selects for this step.
    pub focus: Option<NodeId>,
}

/// A guided walk through one mechanism.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Short id used in URLs: "s1" … "s5".
    pub id: String,
    /// Seed section it shows.
    pub section: u8,
    /// Title.
    pub title: String,
    /// The cluster it runs on.
    pub config: Config,
    /// The key the scenario is about.
    pub key: Key,
    /// Its steps.
    pub steps: Vec<ScenarioStep>,
}

fn step(
    actions: Vec<Action>,
    until: u64,
    caption: &str,
    panel: &str,
    focus: Option<u16>,
) -> ScenarioStep {
    ScenarioStep {
        actions,
        until: Time(until),
        caption: caption.to_string(),
        panel: panel.to_string(),
        focus: focus.map(NodeId),
    }
}

fn put(via: u16, key: &Key, value: &str, ctx: &[(u16, u64)]) -> Action {
    let mut context = VectorClock::new();
    for &(n, c) in ctx {
        context.set(NodeId(n), c, Time::ZERO);
    }
    Action::Submit {
        via: NodeId(via),
        request: Request::Put {
            key: key.clone(),
            value: Value::from(value),
            context,
        },
    }
}

fn get(via: u16, key: &Key) -> Action {
    Action::Submit {
        via: NodeId(via),
        request: Request::Get { key: key.clone() },
    }
}

impl Scenario {
    /// All five, in seed order.
    pub fn all() -> Vec<Scenario> {
        vec![
            Scenario::storage_tiers(),
            Scenario::conflict(),
            Scenario::gossip(),
            Scenario::sloppy_quorum(),
            Scenario::merkle_repair(),
        ]
    }

    /// The scenario with this id.
    pub fn by_id(id: &str) -> Option<Scenario> {
        Scenario::all().into_iter().find(|s| s.id == id)
    }

    /// A fresh simulation at the start of the scenario.
    pub fn simulation(&self) -> Simulation {
        Simulation::new(self.config.clone()).expect("scenario configs are valid")
    }

    /// Starts step `i` on `sim` (which must be at the end of step `i - 1`): schedules its actions
    /// now and returns the time the step runs to, or `None` past the last step. The page starts
    /// a step this way and animates the run up to that time.
    pub fn start_step(&self, sim: &mut Simulation, i: usize) -> Option<Time> {
        let s = self.steps.get(i)?;
        let now = sim.now();
        for a in &s.actions {
            sim.schedule(now, a.clone());
        }
        Some(s.until.max(now))
    }

    /// Runs step `i` on `sim` (which must be at the end of step `i - 1`).
    pub fn run_step(&self, sim: &mut Simulation, i: usize) {
        if let Some(until) = self.start_step(sim, i) {
            sim.run_until(until);
        }
    }

    /// A simulation at the end of step `i`, replayed from the start.
    pub fn simulation_at(&self, i: usize) -> Simulation {
        let mut sim = self.simulation();
        for k in 0..=i.min(self.steps.len().saturating_sub(1)) {
            self.run_step(&mut sim, k);
        }
        sim
    }

    /// Storage: a hash table whose values are compressed, with only frequently used entries in memory.
    pub fn storage_tiers() -> Scenario {
        let config = Config {
            seed: 11,
            nodes: 3,
            n: 3,
            r: 2,
            w: 2,
            hot_budget_bytes: 4_096,
            anti_entropy_interval_ms: 0,
            ..Config::default()
        };
        let key = Key::from("user:0");
        // A shopping cart as JSON: field names and items repeat, as in real documents.
        let doc = |i: u32| {
            let items: Vec<String> = (0..6)
                .map(|k| {
                    format!(
                        "{{\"sku\":\"item-{:04}\",\"name\":\"product {k}\",\"qty\":{},\"price_cents\":{}}}",
                        (i * 7 + k) % 50,
                        1 + k % 3,
                        199 + k * 100
                    )
                })
                .collect();
            format!(
                "{{\"user\":\"user:{i}\",\"status\":\"active\",\"currency\":\"EUR\",\"items\":[{}]}}",
                items.join(",")
            )
        };
        let mut writes = Vec::new();
        let mut more = Vec::new();
        for i in 0..6u32 {
            writes.push(put(0, &Key::from(format!("user:{i}")), &doc(i), &[]));
        }
        for i in 6..30u32 {
            more.push(put(
                (i % 3) as u16,
                &Key::from(format!("user:{i}")),
                &doc(i),
                &[],
            ));
        }
        let steps = vec![
            step(vec![], 0, "Three nodes, each a hash table of keys to versions. Select a node to see its storage.", "storage", Some(0)),
            step(writes, 400, "Six JSON documents are written. Each node compresses what it stores with LZ4: the inspector shows each entry's stored and raw size, and what share of the raw bytes the node stores.", "storage", Some(0)),
            step(more, 900, "24 more documents do not fit the 4 KiB memory budget, so some move to the cold tier on disk. The store picks them with S3-FIFO: a new entry waits in a small queue, and one not used again while there goes to disk first; one used again moves to a main queue and stays in memory longer.", "storage", Some(0)),
            step(vec![get(0, &key)], 1_300, "Reading user:0, which went cold, reads it from disk and brings it back to memory: its tier shows hot again.", "storage", Some(0)),
        ];
        Scenario {
            id: "s1".into(),
            section: 1,
            title: "Storage: compression and hot/cold tiers".into(),
            config,
            key,
            steps,
        }
    }

    /// Versions: the D1–D5 conflict of the Dynamo paper, with its exact clocks.
    pub fn conflict() -> Scenario {
        let config = Config {
            seed: 2,
            nodes: 3,
            n: 3,
            r: 3,
            w: 3,
            anti_entropy_interval_ms: 0,
            node_names: vec!["Sx".into(), "Sy".into(), "Sz".into()],
            ..Config::default()
        };
        let key = Key::from("cart");
        let steps = vec![
            step(vec![put(0, &key, "D1", &[])], 300, "A client writes D1 through Sx, with no context (a blind write). Sx coordinates it and names the write with a dot, its own next counter: D1 is dot (Sx,1), having seen nothing; as one vector clock, [Sx,1].", "client", Some(0)),
            step(vec![put(0, &key, "D2", &[(0, 1)])], 600, "The client updates the item through Sx again, passing back the context D1's put reply returned, [Sx,1] (the reply shows the versions Sx holds after the write: only D1). D2 is dot (Sx,2) having seen [Sx,1]: D1's dot is in D2's context, so D1 is superseded and dropped.", "client", Some(0)),
            step(vec![put(1, &key, "D3", &[(0, 2)]), put(2, &key, "D4", &[(0, 2)])], 900, "Two clients update D2 at the same time, one through Sy and one through Sz, both with D2's clock [Sx,2] as context: D3 is dot (Sy,1), D4 is dot (Sz,1). Neither context holds the other's dot, so neither supersedes the other: Sx keeps both, as siblings.", "storage", Some(0)),
            step(vec![get(0, &key)], 1_200, "A read finds both versions. They are concurrent, so the store returns both, with one context that merges theirs: [Sx,2][Sy,1][Sz,1].", "client", Some(0)),
            step(vec![put(0, &key, "D5", &[(0, 2), (1, 1), (2, 1)])], 1_500, "The client reconciles D3 and D4 and writes D5 through Sx with that merged context. D5 is dot (Sx,3); its context holds both (Sy,1) and (Sz,1), so it supersedes D3 and D4 on every replica. As one vector clock: [Sx,3][Sy,1][Sz,1].", "storage", Some(0)),
        ];
        Scenario {
            id: "s2".into(),
            section: 2,
            title: "Vector clocks: the D1–D5 conflict".into(),
            config,
            key,
            steps,
        }
    }

    /// Gossip: heartbeats detect a crashed node.
    pub fn gossip() -> Scenario {
        let config = Config {
            seed: 3,
            nodes: 8,
            anti_entropy_interval_ms: 0,
            ..Config::default()
        };
        let t_fail = config.t_fail_ms;
        let steps = vec![
            step(vec![], 1_000, "Every 100 ms each node increments its own heartbeat counter and gossips the members it believes alive, with their heartbeats, to one random peer. Each node notes, on its own clock, when it last saw each member's heartbeat go up.", "membership", Some(0)),
            step(vec![Action::Fault(Fault::Crash(NodeId(3)))], 1_100, "S3 crashes. Its heartbeat stops increasing, but nobody can tell yet: the others still see the last counter they heard.", "membership", Some(0)),
            step(vec![], 1_000 + t_fail + 1_500, &format!("After T_fail = {} s without an increase of S3's heartbeat, by its own clock, each node marks S3 offline on its own: every live node's table shows it.", t_fail / 1000), "membership", Some(0)),
            step(vec![Action::Fault(Fault::Restart(NodeId(3)))], 1_000 + t_fail + 3_000, "S3 restarts. Its heartbeat starts again from the time in ms, above anything gossiped before the crash; it spreads and every node marks S3 alive again.", "membership", Some(0)),
        ];
        Scenario {
            id: "s3".into(),
            section: 3,
            title: "Gossip: detecting a crash".into(),
            config,
            key: Key::from("-"),
            steps,
        }
    }

    /// Sloppy quorum and hinted handoff.
    pub fn sloppy_quorum() -> Scenario {
        let config = Config {
            seed: 4,
            nodes: 6,
            n: 3,
            r: 2,
            w: 2,
            anti_entropy_interval_ms: 0,
            ..Config::default()
        };
        let key = Key::from("cart");
        let ids: Vec<NodeId> = (0..config.nodes).map(NodeId).collect();
        let ring = Ring::new(&ids, config.vnodes);
        let walk: Vec<NodeId> = ring.walk(ring.position_of_key(key.as_str())).collect();
        let (coord, owner, stand_in) = (walk[0], walk[2], walk[3]);
        let t = config.t_fail_ms + 1_500;
        let caption3 = format!(
            "A client writes cart through {coord}. {owner} is offline, so the coordinator skips it and sends its replica to {stand_in}, the next healthy node on the ring, with a hint naming {owner}. W=2 acks arrive: the write succeeds. The pink badge on {stand_in} counts the hints it holds."
        );
        let caption4 = format!(
            "{owner} restarts. When gossip shows it alive, {stand_in} hands the hinted replica to {owner} and deletes the hint once {owner} acknowledges."
        );
        let steps = vec![
            step(vec![], 500, &format!("The preference list of cart is {}, {}, {}: its first three distinct nodes clockwise on the ring.", walk[0], walk[1], walk[2]), "hints", Some(stand_in.0)),
            step(vec![Action::Fault(Fault::Crash(owner))], 500 + t, &format!("{owner} crashes; after T_fail ({} s) without a heartbeat from it, the others mark it offline.", config.t_fail_ms / 1000), "membership", Some(coord.0)),
            step(vec![put(coord.0, &key, "hinted", &[])], 500 + t + 400, &caption3, "hints", Some(stand_in.0)),
            step(vec![Action::Fault(Fault::Restart(owner))], 500 + t + 3_500, &caption4, "hints", Some(stand_in.0)),
        ];
        Scenario {
            id: "s4".into(),
            section: 4,
            title: "Sloppy quorum and hinted handoff".into(),
            config,
            key,
            steps,
        }
    }

    /// Anti-entropy: Merkle trees find and repair only what differs; a wiped replica is restored.
    pub fn merkle_repair() -> Scenario {
        let config = Config {
            seed: 5,
            nodes: 4,
            vnodes: 1,
            n: 3,
            r: 1,
            w: 1,
            merkle_buckets: 16,
            anti_entropy_interval_ms: 0,
            ..Config::default()
        };
        let key = Key::from("k0");
        let writes: Vec<Action> = (0..40)
            .map(|i| {
                put(
                    (i % 4) as u16,
                    &Key::from(format!("k{i}")),
                    &format!("v{i}"),
                    &[],
                )
            })
            .collect();
        // Three keys S1 replicates, each written through another of its replicas while S1 is cut off.
        let ids: Vec<NodeId> = (0..config.nodes).map(NodeId).collect();
        let ring = Ring::new(&ids, config.vnodes);
        let late: Vec<Action> = (40..)
            .map(|i| Key::from(format!("k{i}")))
            .filter_map(|k| {
                let list = ring.preference_list(ring.position_of_key(k.as_str()), 3);
                let via = list.iter().find(|&&n| n != NodeId(1))?.0;
                list.contains(&NodeId(1)).then(|| put(via, &k, "late", &[]))
            })
            .take(3)
            .collect();
        let mut cut = vec![Action::Fault(Fault::Partition(vec![NodeId(1)]))];
        cut.extend(late);
        let steps = vec![
            step(writes, 600, "40 keys are written with N=3. Each node keeps, per key range, a Merkle tree: keys hashed into 16 buckets, one hash per bucket, hashed upwards to a root.", "merkle", Some(1)),
            step(cut, 1_000, "S1 is cut off while three more keys are written (W=1), so S1's trees now differ from its peers' in a few buckets.", "merkle", Some(1)),
            step(vec![Action::Fault(Fault::Heal), Action::AntiEntropy(NodeId(1))], 1_600, "The partition heals and S1 compares roots with its peers. Where roots differ they walk down only the differing subtrees and exchange the keys of the differing buckets only.", "merkle", Some(1)),
            step(vec![Action::Fault(Fault::Wipe(NodeId(1)))], 1_700, "S1's disk is replaced: all its data is gone (a permanent failure). Its trees are now empty, so every bucket in which its peers hold keys differs.", "merkle", Some(1)),
            step(vec![Action::AntiEntropy(NodeId(1))], 2_600, "Anti-entropy restores S1 from its peers, range by range, until every root matches again.", "merkle", Some(1)),
        ];
        Scenario {
            id: "s5".into(),
            section: 5,
            title: "Merkle anti-entropy after a wipe".into(),
            config,
            key,
            steps,
        }
    }
}
