use super::*;
use crate::node::Output;
use crate::types::Value;
use crate::vclock::VectorClock;

fn ring(nodes: u16) -> Ring {
    let ids: Vec<NodeId> = (0..nodes).map(NodeId).collect();
    Ring::new(&ids, 4)
}

/// Sloppy-quorum targets, as positions in the key's ring walk (0 = the primary): which nodes a
/// request goes to, and which owner each stand-in holds its copy for.
#[test]
fn sloppy_quorum_targets_follow_the_ring_walk() {
    struct Case {
        nodes: u16,
        n: usize,
        /// Walk positions of the nodes the coordinator believes down.
        down: &'static [usize],
        /// Walk positions of the targets, each with the walk position of the owner it stands in for.
        want: &'static [(usize, Option<usize>)],
    }
    let cases = [
        // Everyone up: the first N of the walk, no hints.
        Case {
            nodes: 5,
            n: 3,
            down: &[],
            want: &[(0, None), (1, None), (2, None)],
        },
        // An owner down: the next node stands in for it.
        Case {
            nodes: 5,
            n: 3,
            down: &[1],
            want: &[(0, None), (2, None), (3, Some(1))],
        },
        // Two owners down: stand-ins take them in walk order.
        Case {
            nodes: 6,
            n: 3,
            down: &[0, 2],
            want: &[(1, None), (3, Some(0)), (4, Some(2))],
        },
        // A stand-in that is down is skipped without owing anyone.
        Case {
            nodes: 6,
            n: 3,
            down: &[2, 3],
            want: &[(0, None), (1, None), (4, Some(2))],
        },
        // Every owner down: the next N nodes hold all three hints.
        Case {
            nodes: 6,
            n: 3,
            down: &[0, 1, 2],
            want: &[(3, Some(0)), (4, Some(1)), (5, Some(2))],
        },
        // Fewer healthy nodes than N: as many as there are.
        Case {
            nodes: 4,
            n: 3,
            down: &[1, 2],
            want: &[(0, None), (3, Some(1))],
        },
        // N = 1: the primary, or the first healthy node standing in for it.
        Case {
            nodes: 3,
            n: 1,
            down: &[],
            want: &[(0, None)],
        },
        Case {
            nodes: 3,
            n: 1,
            down: &[0],
            want: &[(1, Some(0))],
        },
        // N = 5 on five nodes, one down: four targets, no node past the walk to stand in.
        Case {
            nodes: 5,
            n: 5,
            down: &[4],
            want: &[(0, None), (1, None), (2, None), (3, None)],
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let ring = ring(c.nodes);
        for key in ["cart", "user:7", "x"] {
            let pos = Key::from(key).position();
            let walk: Vec<NodeId> = ring.walk(pos).collect();
            assert_eq!(walk.len(), usize::from(c.nodes));
            let down: Vec<NodeId> = c.down.iter().map(|&d| walk[d]).collect();
            let got = sloppy_targets(&ring, pos, c.n, |x| !down.contains(&x));
            let want: Vec<Target> = c
                .want
                .iter()
                .map(|&(t, h)| Target {
                    node: walk[t],
                    hint: h.map(|h| walk[h]),
                })
                .collect();
            assert_eq!(got, want, "case {i}, key {key}");
        }
    }
}

#[test]
fn forwarding_skips_the_sender_and_stops_after_the_hop_limit() {
    let t = |n: u16| Target {
        node: NodeId(n),
        hint: None,
    };
    let targets = [t(4), t(5)];
    assert_eq!(next_hop(&targets, None, 1), Some(NodeId(4)));
    assert_eq!(next_hop(&targets, Some(NodeId(4)), 2), Some(NodeId(5)));
    assert_eq!(next_hop(&targets, None, MAX_FORWARD_HOPS + 1), None);
    assert_eq!(next_hop(&[t(4)], Some(NodeId(4)), 1), None);
    let mut out = Outbox::new(NodeId(0));
    let get = Request::Get { key: "k".into() };
    forward(&mut out, RequestId(1), get, &[], None, 1);
    assert!(matches!(
        out.pop().as_ref().and_then(reply_body),
        Some(ReplyBody::Failed(RequestError::NoCoordinator))
    ));
}

/// The body of `o` when it is a reply.
fn reply_body(o: &Output) -> Option<&ReplyBody> {
    match o {
        Output::Reply(r) => Some(&r.body),
        _ => None,
    }
}

/// The bodies of the replies among `outs`, in order.
fn bodies(outs: &[Output]) -> Vec<&ReplyBody> {
    outs.iter().filter_map(reply_body).collect()
}

const ME: NodeId = NodeId(0);

fn targets(nodes: &[u16]) -> Vec<Target> {
    nodes
        .iter()
        .map(|&n| Target {
            node: NodeId(n),
            hint: None,
        })
        .collect()
}

fn drain(out: &mut Outbox) -> Vec<Output> {
    std::iter::from_fn(|| out.pop()).collect()
}

fn one(actor: u16, value: &str, t: u64) -> VersionSet {
    let mut s = VersionSet::new();
    s.write(
        NodeId(actor),
        &VectorClock::new(),
        Value::from(value),
        Time(t),
        0,
    );
    s
}

#[test]
fn a_put_is_acknowledged_at_w_acks_and_fails_at_its_deadline_short_of_them() {
    let mut c = Coordinator::new(ME, 2, 2, 300);
    let mut out = Outbox::new(ME);
    let set = one(0, "v", 1);
    let version = set.versions()[0].clone();
    let key = Key::from("k");
    c.start_put(
        &mut out,
        Time(0),
        RequestId(1),
        key.clone(),
        version.clone(),
        set.clone(),
        targets(&[0, 1, 2]),
    );
    let sent = drain(&mut out);
    assert_eq!(sent.len(), 2, "a Put to each other target");
    assert!(sent.iter().all(|o| matches!(
        o,
        Output::Send {
            msg: Msg::Put { .. },
            ..
        }
    )));
    assert_eq!(c.next_deadline(), Some(Time(300)));
    c.on_put_ack(&mut out, RequestId(1));
    assert!(matches!(
        bodies(&drain(&mut out)).as_slice(),
        [ReplyBody::PutOk { .. }]
    ));
    assert_eq!(
        c.next_deadline(),
        Some(Time(300)),
        "it waits for the last ack"
    );
    c.on_put_ack(&mut out, RequestId(1));
    assert_eq!(c.next_deadline(), None, "every target acknowledged");
    assert!(drain(&mut out).is_empty());

    c.start_put(
        &mut out,
        Time(10),
        RequestId(2),
        key,
        version,
        set,
        targets(&[0, 1, 2]),
    );
    drain(&mut out);
    assert!(c.on_timeout(&mut out, Time(309)).is_empty());
    assert!(drain(&mut out).is_empty(), "not yet");
    c.on_timeout(&mut out, Time(310));
    assert!(matches!(
        bodies(&drain(&mut out)).as_slice(),
        [ReplyBody::Failed(RequestError::Timeout {
            got: 1,
            needed: 2
        })]
    ));
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn a_get_merges_r_answers_then_repairs_every_stale_replica() {
    let mut c = Coordinator::new(ME, 2, 2, 300);
    let mut out = Outbox::new(ME);
    let mode = ConflictMode::VectorClock;
    let mut ts = targets(&[0, 1, 2]);
    ts[2].hint = Some(NodeId(3));
    let mine = one(0, "old", 1);
    let none = c.start_get(
        &mut out,
        Time(0),
        RequestId(7),
        "k".into(),
        mine.clone(),
        ts,
    );
    assert!(none.is_none());
    assert_eq!(drain(&mut out).len(), 2, "a Get to each other target");

    let newer = Arc::new(one(1, "new", 2));
    assert!(c
        .on_get_reply(&mut out, RequestId(7), NodeId(1), newer.clone(), mode)
        .is_none());
    let replied = drain(&mut out);
    let [ReplyBody::GetOk { siblings, .. }] = bodies(&replied).as_slice() else {
        panic!("R = 2 answers: {replied:?}")
    };
    assert_eq!(
        siblings.len(),
        2,
        "concurrent versions come back as siblings"
    );
    // A duplicate answer changes nothing.
    assert!(c
        .on_get_reply(&mut out, RequestId(7), NodeId(1), newer, mode)
        .is_none());
    assert!(drain(&mut out).is_empty());

    // The last answer (from a stand-in) ends the request: node 1 and this node lack "old" or
    // "new"; the stand-in is left to handoff.
    let repair = c.on_get_reply(&mut out, RequestId(7), NodeId(2), Arc::new(mine), mode);
    let repair = repair.expect("its own answer was stale");
    assert_eq!(repair.versions.len(), 2);
    let out = drain(&mut out);
    let repaired: Vec<NodeId> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                to,
                msg: Msg::ReadRepair { .. },
            } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(repaired, [NodeId(1)]);
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn a_get_short_of_r_fails_and_an_answered_one_repairs_at_its_deadline() {
    let mut c = Coordinator::new(ME, 2, 1, 100);
    let mut out = Outbox::new(ME);
    c.start_get(
        &mut out,
        Time(0),
        RequestId(1),
        "k".into(),
        VersionSet::new(),
        targets(&[0, 1, 2]),
    );
    c.on_timeout(&mut out, Time(100));
    assert!(bodies(&drain(&mut out)).iter().any(|b| matches!(
        b,
        ReplyBody::Failed(RequestError::Timeout { got: 1, needed: 2 })
    )));

    c.start_get(
        &mut out,
        Time(0),
        RequestId(2),
        "k".into(),
        VersionSet::new(),
        targets(&[0, 1, 2]),
    );
    let v = Arc::new(one(1, "v", 1));
    c.on_get_reply(
        &mut out,
        RequestId(2),
        NodeId(1),
        v,
        ConflictMode::VectorClock,
    );
    drain(&mut out);
    let repairs = c.on_timeout(&mut out, Time(100));
    assert_eq!(repairs.len(), 1, "this node's empty answer was stale");
    assert!(
        drain(&mut out)
            .iter()
            .all(|o| !matches!(o, Output::Reply(_))),
        "the client had its answer; only the repair remains"
    );
}
