//! The coordinator of client requests (docs/protocol.md §Sloppy quorum): which nodes a request goes
//! to, forwarding to a node of the key's preference list, counting acks and replies against W and R,
//! deadlines, and read repair.

use super::Outbox;
use crate::config::ConflictMode;
use crate::message::{Msg, ReplyBody, Request, RequestError};
use crate::ring::Ring;
use crate::types::{Key, NodeId, RequestId, Time};
use crate::vclock::{Version, VersionSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// How many times a client request may be passed between nodes whose views of the key's
/// preference list disagree before it fails with [`RequestError::NoCoordinator`].
pub const MAX_FORWARD_HOPS: u8 = 2;

/// One node a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// The node.
    pub node: NodeId,
    /// The owner it stands in for, when it is past the key's first N nodes (a hinted replica).
    pub hint: Option<NodeId>,
}

/// Sloppy quorum: the first `n` healthy nodes walking the ring from `key_pos`. A node past the
/// key's first `n` stands in for the earliest skipped owner not yet stood in for.
pub(super) fn sloppy_targets(
    ring: &Ring,
    key_pos: u64,
    n: usize,
    healthy: impl Fn(NodeId) -> bool,
) -> Vec<Target> {
    let mut out = Vec::with_capacity(n);
    let mut skipped: VecDeque<NodeId> = VecDeque::new();
    for (i, node) in ring.walk(key_pos).enumerate() {
        if out.len() == n {
            break;
        }
        if healthy(node) {
            let hint = if i < n { None } else { skipped.pop_front() };
            out.push(Target { node, hint });
        } else if i < n {
            skipped.push_back(node);
        }
    }
    out
}

/// Where a request for a key whose preference list (by this node's view) does not include this node
/// goes next: the first target that is not `from`, or none once it was passed on
/// [`MAX_FORWARD_HOPS`] times. A node that is not on the list never coordinates: it would store the
/// write where no replica of the key looks, and acknowledge it.
pub(super) fn next_hop(targets: &[Target], from: Option<NodeId>, hops: u8) -> Option<NodeId> {
    targets
        .iter()
        .map(|t| t.node)
        .find(|&t| Some(t) != from)
        .filter(|_| hops <= MAX_FORWARD_HOPS)
}

/// Passes `request` on (see [`next_hop`]), or fails it with [`RequestError::NoCoordinator`].
pub(super) fn forward(
    out: &mut Outbox,
    req: RequestId,
    request: Request,
    targets: &[Target],
    from: Option<NodeId>,
    hops: u8,
) {
    match next_hop(targets, from, hops) {
        Some(to) => out.send(
            to,
            Msg::Forward {
                req,
                request: Box::new(request),
                hops,
            },
        ),
        None => {
            let key = request.key().clone();
            out.reply(req, key, ReplyBody::Failed(RequestError::NoCoordinator));
        }
    }
}

/// One replica's answer to a get.
#[derive(Clone, Debug)]
struct GetAnswer {
    from: NodeId,
    versions: VersionSet,
    /// Whether `from` holds the key as a stand-in, under a hint.
    stand_in: bool,
}

#[derive(Clone, Debug)]
enum Op {
    Put {
        key: Key,
        version: Version,
        /// The coordinator's set of the key after the write (what the reply shows).
        versions: Arc<VersionSet>,
        acks: u8,
        replied: bool,
    },
    Get {
        key: Key,
        answers: Vec<GetAnswer>,
        merged: VersionSet,
        replied: bool,
    },
}

#[derive(Clone, Debug)]
struct Pending {
    deadline: Time,
    targets: Vec<Target>,
    op: Op,
}

/// Merged versions the coordinator must store itself: its own answer to a get was stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SelfRepair {
    pub(super) key: Key,
    pub(super) versions: Arc<VersionSet>,
}

/// The requests a node coordinates, from its first message until its quorum and its repairs are
/// done or its deadline passes.
#[derive(Clone, Debug)]
pub(super) struct Coordinator {
    me: NodeId,
    r: u8,
    w: u8,
    timeout_ms: u64,
    pending: BTreeMap<RequestId, Pending>,
    deadlines: BTreeSet<(Time, RequestId)>,
}

impl Coordinator {
    pub(super) fn new(me: NodeId, r: u8, w: u8, timeout_ms: u64) -> Self {
        Coordinator {
            me,
            r,
            w,
            timeout_ms,
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Forgets every request: they died with the process.
    pub(super) fn clear(&mut self) {
        self.pending.clear();
        self.deadlines.clear();
    }

    /// The earliest deadline of a request still pending.
    pub(super) fn next_deadline(&self) -> Option<Time> {
        self.deadlines.first().map(|&(t, _)| t)
    }

    /// Starts put `req`: this node already wrote `version` (`versions` is its whole set of the key
    /// after the write, counted as the first ack); the set goes to every other target.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_put(
        &mut self,
        out: &mut Outbox,
        now: Time,
        req: RequestId,
        key: Key,
        version: Version,
        versions: VersionSet,
        targets: Vec<Target>,
    ) {
        out.stats.coordinated += 1;
        let versions = Arc::new(versions);
        for t in targets.iter().filter(|t| t.node != self.me) {
            let msg = Msg::Put {
                req,
                key: key.clone(),
                versions: versions.clone(),
                hint: t.hint,
            };
            out.send(t.node, msg);
        }
        let op = Op::Put {
            key,
            version,
            versions,
            acks: 1,
            replied: false,
        };
        self.track(now, req, targets, op);
        self.check_put(out, req);
    }

    /// Starts get `req` with this node's own versions of the key (`stand_in`: read under a hint)
    /// as the first answer; every other target is asked.
    pub(super) fn start_get(
        &mut self,
        out: &mut Outbox,
        now: Time,
        req: RequestId,
        key: Key,
        mine: VersionSet,
        targets: Vec<Target>,
    ) -> Option<SelfRepair> {
        out.stats.coordinated += 1;
        let stand_in = targets
            .iter()
            .any(|t| t.node == self.me && t.hint.is_some());
        for t in targets.iter().filter(|t| t.node != self.me) {
            let msg = Msg::Get {
                req,
                key: key.clone(),
            };
            out.send(t.node, msg);
        }
        let op = Op::Get {
            key,
            merged: mine.clone(),
            answers: vec![GetAnswer {
                from: self.me,
                versions: mine,
                stand_in,
            }],
            replied: false,
        };
        self.track(now, req, targets, op);
        self.check_get(out, req)
    }

    fn track(&mut self, now: Time, req: RequestId, targets: Vec<Target>, op: Op) {
        let deadline = now.plus(self.timeout_ms);
        let p = Pending {
            deadline,
            targets,
            op,
        };
        self.pending.insert(req, p);
        self.deadlines.insert((deadline, req));
    }

    pub(super) fn on_put_ack(&mut self, out: &mut Outbox, req: RequestId) {
        if let Some(Pending {
            op: Op::Put { acks, .. },
            ..
        }) = self.pending.get_mut(&req)
        {
            *acks += 1;
            self.check_put(out, req);
        }
    }

    /// A replica's versions for get `req`. A second answer from the same replica is ignored.
    pub(super) fn on_get_reply(
        &mut self,
        out: &mut Outbox,
        req: RequestId,
        from: NodeId,
        versions: Arc<VersionSet>,
        mode: ConflictMode,
    ) -> Option<SelfRepair> {
        let p = self.pending.get_mut(&req)?;
        let stand_in = p.targets.iter().any(|t| t.node == from && t.hint.is_some());
        let Op::Get {
            answers, merged, ..
        } = &mut p.op
        else {
            return None;
        };
        if answers.iter().any(|a| a.from == from) {
            return None;
        }
        merged.merge_in(mode, &versions);
        answers.push(GetAnswer {
            from,
            versions: Arc::unwrap_or_clone(versions),
            stand_in,
        });
        self.check_get(out, req)
    }

    /// Ends every request whose deadline is at or before `now`.
    pub(super) fn on_timeout(&mut self, out: &mut Outbox, now: Time) -> Vec<SelfRepair> {
        let mut repairs = Vec::new();
        while let Some(&(d, req)) = self.deadlines.first() {
            if d > now {
                break;
            }
            repairs.extend(self.expire(out, req));
        }
        repairs
    }

    fn expire(&mut self, out: &mut Outbox, req: RequestId) -> Option<SelfRepair> {
        let Some(p) = self.pending.get(&req) else {
            self.deadlines.retain(|&(_, r)| r != req);
            return None;
        };
        match &p.op {
            Op::Put {
                key, acks, replied, ..
            } => {
                let (key, got, replied) = (key.clone(), *acks, *replied);
                self.finish(req);
                if !replied {
                    let needed = self.w;
                    out.reply(req, key, timed_out(got, needed));
                }
                None
            }
            Op::Get {
                key,
                answers,
                replied,
                ..
            } => {
                let (key, got, replied) = (key.clone(), answers.len() as u8, *replied);
                if replied {
                    // Repair the replicas that answered; the silent ones are anti-entropy's job.
                    self.read_repair(out, req)
                } else {
                    self.finish(req);
                    out.reply(req, key, timed_out(got, self.r));
                    None
                }
            }
        }
    }

    fn check_put(&mut self, out: &mut Outbox, req: RequestId) {
        let w = self.w;
        let Some(p) = self.pending.get_mut(&req) else {
            return;
        };
        let Op::Put {
            key,
            version,
            versions,
            acks,
            replied,
        } = &mut p.op
        else {
            return;
        };
        let all = usize::from(*acks) >= p.targets.len();
        if !*replied && *acks >= w {
            *replied = true;
            let body = ReplyBody::PutOk {
                version: version.clone(),
                siblings: versions.versions().to_vec(),
                context: versions.context(),
            };
            let key = key.clone();
            if all {
                self.finish(req);
            }
            out.reply(req, key, body);
        } else if *replied && all {
            self.finish(req);
        }
    }

    fn check_get(&mut self, out: &mut Outbox, req: RequestId) -> Option<SelfRepair> {
        let r = usize::from(self.r);
        let p = self.pending.get_mut(&req)?;
        let Op::Get {
            key,
            answers,
            merged,
            replied,
        } = &mut p.op
        else {
            return None;
        };
        let all = answers.len() >= p.targets.len();
        if !*replied && answers.len() >= r {
            *replied = true;
            let body = ReplyBody::GetOk {
                siblings: merged.versions().to_vec(),
                context: merged.context(),
            };
            out.reply(req, key.clone(), body);
        }
        if all {
            return self.read_repair(out, req);
        }
        None
    }

    /// Ends get `req`, sending the merged versions to every replica whose answer lacked some of
    /// them; returns them for this node itself if its own answer did.
    fn read_repair(&mut self, out: &mut Outbox, req: RequestId) -> Option<SelfRepair> {
        let Op::Get {
            key,
            answers,
            merged,
            ..
        } = self.finish(req)?.op
        else {
            return None;
        };
        let merged = Arc::new(merged);
        let mut own = None;
        for a in answers {
            // A stand-in's copy is under a hint; handoff, not read repair, takes care of it.
            if a.stand_in || a.versions == *merged {
                continue;
            }
            out.stats.read_repairs += 1;
            out.event(super::NodeEvent::ReadRepair {
                key: key.clone(),
                to: a.from,
            });
            if a.from == self.me {
                own = Some(SelfRepair {
                    key: key.clone(),
                    versions: Arc::clone(&merged),
                });
            } else {
                let msg = Msg::ReadRepair {
                    key: key.clone(),
                    versions: Arc::clone(&merged),
                };
                out.send(a.from, msg);
            }
        }
        own
    }

    fn finish(&mut self, req: RequestId) -> Option<Pending> {
        let p = self.pending.remove(&req)?;
        self.deadlines.remove(&(p.deadline, req));
        Some(p)
    }
}

fn timed_out(got: u8, needed: u8) -> ReplyBody {
    ReplyBody::Failed(RequestError::Timeout { got, needed })
}

#[cfg(test)]
mod tests;
