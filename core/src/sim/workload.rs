//! A closed-loop client workload: each client picks a key (Zipf), reads it, and for a put writes
//! back a new value with the context it read (read-modify-write, as Dynamo's clients do), then
//! thinks and starts over.

use crate::config::{Config, MAX_VALUE_BYTES};
use crate::message::{Reply, ReplyBody, Request};
use crate::rng::{Ratio, Rng};
use crate::types::{Key, NodeId, Time, Value};
use crate::zipf::Zipf;
use serde::{Deserialize, Serialize};

/// What the clients do. A field past its limit ([`Workload::MAX_CLIENTS`], [`Workload::MAX_KEYS`],
/// [`MAX_VALUE_BYTES`]) runs as if it were at the limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    /// Concurrent clients (at most [`Workload::MAX_CLIENTS`]).
    pub clients: u32,
    /// Distinct keys (at least 1, at most [`Workload::MAX_KEYS`]).
    pub keys: u64,
    /// Zipf exponent in thousandths (990 is the classic 0.99).
    pub zipf_thousandths: u32,
    /// Share of operations that are (read-modify-)writes.
    pub put_ratio: Ratio,
    /// Bytes per value (at most [`MAX_VALUE_BYTES`], the largest value a node accepts).
    pub value_bytes: usize,
    /// Pause between a client's operations, ms.
    pub think_ms: u64,
    /// Share of puts written blind: without reading first, so with an empty context. Blind writes
    /// to one key from several clients make siblings (and are what loses data in stores that
    /// resolve by timestamp).
    #[serde(default)]
    pub blind_ratio: Ratio,
}

impl Default for Workload {
    /// The standard workload of the benchmarks: 50/50 put/get over 10k Zipf-0.99 keys, 100-byte values.
    fn default() -> Self {
        Workload {
            clients: 64,
            keys: 10_000,
            zipf_thousandths: 990,
            put_ratio: Ratio::percent(50),
            value_bytes: 100,
            think_ms: 1,
            blind_ratio: Ratio::ZERO,
        }
    }
}

impl Workload {
    /// Most clients a workload runs: each is a table entry and an event in flight, and the page
    /// stops at 2000.
    pub const MAX_CLIENTS: u32 = 1 << 16;
    /// Most distinct keys: every key is made up front, and so is the Zipf table over them.
    pub const MAX_KEYS: u64 = Zipf::MAX_RANKS;

    /// This workload with every field within its limits.
    fn clamped(mut self) -> Workload {
        self.clients = self.clients.min(Workload::MAX_CLIENTS);
        self.keys = self.keys.clamp(1, Workload::MAX_KEYS);
        self.value_bytes = self.value_bytes.min(MAX_VALUE_BYTES);
        self
    }
}

pub(crate) enum ClientState {
    Submit { via: NodeId, request: Request },
    Sleep(Time),
}

#[derive(Clone, Debug)]
enum Doing {
    Idle,
    Get,
    ReadForPut(Key),
    Put,
}

#[derive(Clone, Debug)]
pub(crate) struct WorkloadDriver {
    w: Workload,
    nodes: u16,
    rng: Rng,
    zipf: Zipf,
    keys: Vec<Key>,
    values: Vec<Value>,
    clients: Vec<Doing>,
}

impl WorkloadDriver {
    pub(crate) fn new(cfg: &Config, w: Workload) -> Self {
        let w = w.clamped();
        let mut rng = Rng::derive(cfg.seed, "workload", 0);
        let keys = (0..w.keys).map(|i| Key::from(format!("k{i}"))).collect();
        let values = (0..64)
            .map(|i| {
                let mut v = format!("{{\"v\":{i},\"pad\":\"");
                while v.len() + 2 < w.value_bytes {
                    v.push(char::from(b'a' + rng.below(26) as u8));
                }
                v.push_str("\"}");
                Value::from(v.as_bytes())
            })
            .collect();
        WorkloadDriver {
            zipf: Zipf::new(w.keys, w.zipf_thousandths),
            clients: vec![Doing::Idle; w.clients as usize],
            nodes: cfg.nodes,
            rng,
            keys,
            values,
            w,
        }
    }

    pub(crate) fn clients(&self) -> u32 {
        self.w.clients
    }

    fn via(&mut self) -> NodeId {
        NodeId(self.rng.below(u64::from(self.nodes)) as u16)
    }

    /// The next request of an idle client.
    pub(crate) fn next(&mut self, client: u32) -> (NodeId, Request) {
        let key = self.keys[self.zipf.sample(&mut self.rng) as usize].clone();
        let put = self.rng.chance(self.w.put_ratio);
        // Drawn only when blind writes are on, so other runs keep their random streams.
        if put && !self.w.blind_ratio.is_zero() && self.rng.chance(self.w.blind_ratio) {
            self.clients[client as usize] = Doing::Put;
            let value = self.values[self.rng.below(self.values.len() as u64) as usize].clone();
            return (
                self.via(),
                Request::Put {
                    key,
                    value,
                    context: crate::vclock::VectorClock::new(),
                },
            );
        }
        self.clients[client as usize] = if put {
            Doing::ReadForPut(key.clone())
        } else {
            Doing::Get
        };
        (self.via(), Request::Get { key })
    }

    pub(crate) fn on_reply(&mut self, client: u32, reply: &Reply, now: Time) -> ClientState {
        let doing = std::mem::replace(&mut self.clients[client as usize], Doing::Idle);
        if let (Doing::ReadForPut(key), ReplyBody::GetOk { context, .. }) = (doing, &reply.body) {
            // Resolve any siblings by writing one new value over the whole context.
            let value = self.values[self.rng.below(self.values.len() as u64) as usize].clone();
            self.clients[client as usize] = Doing::Put;
            return ClientState::Submit {
                via: self.via(),
                request: Request::Put {
                    key,
                    value,
                    context: context.clone(),
                },
            };
        }
        ClientState::Sleep(now.plus(self.w.think_ms))
    }
}
