//! The model checker's own checks: its negative control must fail, a small configuration must
//! pass, and a path found replays (also from JSON) to the very state it named.

use kvlab_check::{run, spec, Action, KvModel, State};
use kvlab_core::NodeId;

#[test]
fn last_write_wins_loses_an_acknowledged_write_in_two_actions() {
    let (spec, _) = spec("lww").unwrap();
    let model = KvModel::new(spec.clone()).unwrap();
    let report = run(spec, 1, None, true).unwrap();
    let v = report.verdict("no acknowledged write lost").unwrap();
    assert!(!v.holds, "{report}");
    let path = v.path.clone().unwrap();
    // Shortest: a client's two blind puts through one node; the later one wins and the first,
    // acknowledged at once (W = 1), is dropped before any replica received it.
    assert_eq!(path.len(), 2, "{path:?}");
    let last = model.replay(&path).unwrap().pop().unwrap();
    assert!(model
        .core_check(&last, "no acknowledged write lost")
        .is_err());
}

#[test]
fn vector_clocks_pass_the_same_small_configuration() {
    let (mut spec, _) = spec("lww").unwrap();
    spec.config.conflict_mode = kvlab_core::ConflictMode::VectorClock;
    spec.name = "lww-as-vclock".into();
    let report = run(spec, 1, None, false).unwrap();
    assert!(report.ok(), "{report}");
    assert!(report.unique > 50, "{report}");
}

#[test]
fn the_tiny_configuration_passes_and_shows_siblings() {
    let (spec, _) = spec("tiny").unwrap();
    let report = run(spec, 2, None, false).unwrap();
    assert!(report.ok(), "{report}");
    assert!(report.verdict("siblings").is_some_and(|v| v.holds));
}

#[test]
fn independent_client_actions_in_either_order_reach_one_state() {
    let (spec, _) = spec("tiny").unwrap();
    let model = KvModel::new(spec).unwrap();
    let a = Action::Put {
        client: 0,
        via: NodeId(0),
        read: false,
    };
    let b = Action::Get {
        client: 1,
        via: NodeId(1),
    };
    let ab = model
        .replay(&[a.clone(), b.clone()])
        .unwrap()
        .pop()
        .unwrap();
    let ba = model.replay(&[b, a]).unwrap().pop().unwrap();
    assert_eq!(ab.fingerprint(), ba.fingerprint());
    let fresh = model.initial();
    assert_ne!(ab.fingerprint(), fresh.fingerprint());
}

#[test]
fn a_found_path_round_trips_through_json_and_replays_to_its_state() {
    let (spec, _) = spec("lww").unwrap();
    let model = KvModel::new(spec.clone()).unwrap();
    let report = run(spec, 1, None, true).unwrap();
    let path = report
        .verdict("converges once faults stop")
        .unwrap()
        .path
        .clone();
    let path = path.or_else(|| report.verdict("no acknowledged write lost")?.path.clone());
    let path = path.unwrap();
    let json = serde_json::to_string(&path).unwrap();
    let back: Vec<Action> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, path);
    let a = model.replay(&path).unwrap().pop().unwrap();
    let b = model.replay(&back).unwrap().pop().unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    // A path with an action that is not enabled names it.
    let mut bad = back.clone();
    bad.insert(0, Action::Heal);
    assert_eq!(model.replay(&bad).err(), Some(0));
}

#[test]
fn a_non_replica_coordinating_a_put_is_found_once_put_back_and_not_before() {
    let (fixed, _) = spec("non-replica").unwrap();
    let report = run(fixed, 1, None, false).unwrap();
    assert!(report.ok(), "{report}");
    let (bug, _) = spec("non-replica-bug").unwrap();
    let report = run(bug, 1, None, true).unwrap();
    let v = report.verdict("converges once faults stop").unwrap();
    assert!(!v.holds, "{report}");
    // The put through the non-replica, acknowledged by it alone, and its three Put messages lost.
    assert_eq!(v.path.as_ref().map(Vec::len), Some(4), "{report}");
    assert!(
        v.reason.as_deref().unwrap_or("").contains("lost"),
        "{report}"
    );
}

/// The page bundles two reports (web/examples); they must be what the checker finds now, or the
/// page would replay a path this version of the store no longer takes. Regenerate with
/// `cargo xtask check lww non-replica-bug stand-in-n2-bug --threads 1 --json web/examples`.
#[test]
fn the_reports_bundled_with_the_page_are_what_the_checker_finds_now() {
    for name in ["lww", "non-replica-bug", "stand-in-n2-bug"] {
        let file = format!("{}/../web/examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&file).unwrap();
        let bundled: kvlab_check::CheckReport = serde_json::from_str(&text).unwrap();
        let (spec, _) = spec(name).unwrap();
        let fresh = run(spec.clone(), 1, None, true).unwrap();
        assert_eq!(bundled.spec, spec, "{file} is stale: regenerate it");
        let paths = |r: &kvlab_check::CheckReport| {
            r.verdicts
                .iter()
                .map(|v| (v.name.clone(), v.holds, v.path.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            paths(&bundled),
            paths(&fresh),
            "{file} is stale: regenerate it"
        );
    }
}

/// Steps `s` by `a`, which must be enabled.
fn go(model: &KvModel, s: &State, a: Action) -> State {
    model
        .step(s, &a)
        .unwrap_or_else(|| panic!("{a:?} is not enabled in\n{s:?}"))
}

/// Delivers the first message in flight from `from` to `to`.
fn deliver(model: &KvModel, s: &State, from: NodeId, to: NodeId) -> State {
    let e = s
        .net
        .iter()
        .find(|e| e.from == from && e.to == to)
        .unwrap_or_else(|| panic!("nothing in flight from {from} to {to}:\n{s:?}"));
    go(model, s, Action::Deliver(from, to, e.digest))
}

/// Issue 8's reproduction 2 by hand, in the `stand-in` configurations (their budgets allow it):
/// the stand-in S suspects the two live homes after one gossip round of its own, takes a blind
/// put A as a hint for the first home H1 (down from the start), hands it off once H1 is back and
/// deletes it on the acknowledgement; then it takes a blind put B as H2's stand-in, a get through
/// it shows only B, and a put C written over that get's context reaches H1.
fn stand_in_schedule(name: &str) -> (KvModel, State) {
    let (spec, _) = spec(name).unwrap();
    let ids: Vec<NodeId> = (0..spec.config.nodes).map(NodeId).collect();
    let walk: Vec<NodeId> = kvlab_core::Ring::new(&ids, spec.config.vnodes)
        .walk(kvlab_core::key_position(&spec.key))
        .collect();
    let (h1, h2, h3, st) = (walk[0], walk[1], walk[2], walk[3]);
    let model = KvModel::new(spec).unwrap();
    let put = |read| Action::Put {
        client: 0,
        via: st,
        read,
    };
    let mut s = go(&model, &model.initial(), Action::Timer(st));
    let view = s.nodes[st.index()].membership();
    assert!(!view.is_alive(h1) && !view.is_alive(h2) && !view.is_alive(h3));
    s = go(&model, &s, put(false)); // A, held by S for H1 alone
    s = go(&model, &s, Action::Restart(h1));
    s = go(&model, &s, Action::Timer(h1)); // H1's gossip: S hands A off
    s = deliver(&model, &s, st, h1);
    s = deliver(&model, &s, h1, st); // the acknowledgement: S deletes its hint
    assert!(s.nodes[st.index()].hints().is_empty());
    s = go(&model, &s, put(false)); // B, for H2, also sent to H1
    s = deliver(&model, &s, st, h1);
    s = go(&model, &s, Action::Get { client: 0, via: st }); // R = 1: S's own copy, B alone
    s = deliver(&model, &s, st, h1);
    s = go(&model, &s, put(true)); // C, over the get's context
    s = deliver(&model, &s, st, h1);
    (model, s)
}

#[test]
fn a_stand_in_that_keeps_its_actor_after_a_handoff_loses_the_handed_off_write() {
    let values = |s: &State, node: usize| -> Vec<String> {
        let mut v: Vec<String> = s.nodes[node]
            .versions("k")
            .map(|set| set.versions().iter().map(|v| v.value.to_text()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    // The replies left in flight, delivered: the state is then quiescent.
    let settle = |model: &KvModel, mut s: State| {
        while let Some(e) = s.net.first() {
            let (from, to) = (e.from, e.to);
            s = deliver(model, &s, from, to);
        }
        s
    };
    let lost = "no acknowledged write lost";
    // A is c0.1, B c0.2 and C c0.4 (the get took the third number). Fixed: S wrote B under a new
    // epoch, so the get's context claims nothing of A, and H1 keeps A next to C.
    let (model, s) = stand_in_schedule("stand-in");
    let (h1, st) = (model.spec.down_at_start.unwrap(), model.spec.clients[0][0]);
    assert_eq!(s.nodes[st.index()].actor().epoch, 1);
    assert_eq!(values(&s, h1.index()), ["c0.1", "c0.4"], "{s:?}");
    assert!(model.core_check(&s, lost).is_ok(), "{s:?}");
    let s = settle(&model, s);
    assert!(model.eventually_check(&s).is_ok(), "{s:?}");
    // Put back: B's dot is [S,2], whose clock claims A's [S,1]; C, over it, drops A on H1, the
    // only node that held it, and nothing brings it back.
    let (model, s) = stand_in_schedule("stand-in-bug");
    assert_eq!(s.nodes[st.index()].actor().epoch, 0);
    assert_eq!(values(&s, h1.index()), ["c0.4"], "{s:?}");
    let err = model.core_check(&s, lost).unwrap_err();
    assert!(err.contains("held by no node"), "{err}");
    let s = settle(&model, s);
    let err = model.eventually_check(&s).unwrap_err();
    assert!(err.contains("r1001"), "{err}");
}

/// The home down from the start restarts and stays silent while another node's gossip rounds move
/// time on past `t_fail`: at its first round it marks every other node offline, which have it
/// offline already, and only the dead-node probe of every tenth round reunites them. The first
/// four rounds of the completion leave the stand-in's hint undelivered; bounded liveness runs the
/// completion again until the probe has done its work.
#[test]
fn bounded_liveness_waits_for_the_dead_node_probe() {
    let (spec, _) = spec("stand-in").unwrap();
    let ids: Vec<NodeId> = (0..spec.config.nodes).map(NodeId).collect();
    let walk: Vec<NodeId> = kvlab_core::Ring::new(&ids, spec.config.vnodes)
        .walk(kvlab_core::key_position(&spec.key))
        .collect();
    let (h1, h3, st) = (walk[0], walk[2], walk[3]);
    let model = KvModel::new(spec).unwrap();
    let put = Action::Put {
        client: 0,
        via: st,
        read: false,
    };
    let mut s = go(&model, &model.initial(), put);
    while let Some(e) = s.net.first() {
        let (from, to) = (e.from, e.to);
        s = deliver(&model, &s, from, to);
    }
    assert!(s.nodes[st.index()].hints().contains_key(&h1));
    s = go(&model, &s, Action::Restart(h1));
    s = go(&model, &s, Action::Timer(h3));
    s = go(&model, &s, Action::Timer(h3));
    let once = model.complete(&s);
    assert!(once.nodes[st.index()].hints().contains_key(&h1), "{once:?}");
    assert!(model.eventually_check(&s).is_ok());
}

/// Every action a state could be handed, enabled or not: each message in flight delivered or
/// lost, every node's timer, crash, restart, wipe and partition, a heal, and every client's put
/// (blind or not) and get through every node, and its giving up.
fn candidates(model: &KvModel, s: &State) -> Vec<Action> {
    let mut out: Vec<Action> = s
        .net
        .iter()
        .flat_map(|e| {
            [
                Action::Deliver(e.from, e.to, e.digest),
                Action::Drop(e.from, e.to, e.digest),
            ]
        })
        .collect();
    for i in 0..model.spec.config.nodes {
        let id = NodeId(i);
        out.extend([
            Action::Timer(id),
            Action::Crash(id),
            Action::Restart(id),
            Action::Wipe(id),
            Action::Partition(id),
        ]);
        for client in 0..model.spec.clients.len() as u8 {
            out.push(Action::Get { client, via: id });
            for read in [false, true] {
                out.push(Action::Put {
                    client,
                    via: id,
                    read,
                });
            }
        }
    }
    out.push(Action::Heal);
    out.extend((0..model.spec.clients.len() as u8).map(Action::GiveUp));
    out
}

/// `step` takes exactly the actions `enabled` offers, so a report's path replays only on
/// transitions the checker could explore: a put through a node the configuration does not let
/// the client contact, or "with the context of its last read" before any read, is refused (the
/// page replayed both). And a narrating model (the page's) explores the same states, with the
/// same fingerprints, as the checker's: its notes are not part of a state.
#[test]
fn step_takes_exactly_the_enabled_actions_and_narrating_changes_no_state() {
    for name in ["tiny", "non-replica", "stand-in-n2", "lww"] {
        let (spec, _) = spec(name).unwrap();
        let quiet = KvModel::new(spec.clone()).unwrap();
        let loud = KvModel::new(spec).unwrap().narrating();
        let mut frontier = vec![(quiet.initial(), loud.initial())];
        let mut seen = 0;
        let mut noted = 0;
        while let Some((q, l)) = frontier.pop() {
            assert_eq!(q.fingerprint(), l.fingerprint(), "{name}");
            assert_eq!(q, l, "{name}");
            seen += 1;
            if seen > 3_000 {
                break;
            }
            let mut enabled = Vec::new();
            quiet.enabled(&q, &mut enabled);
            let mut loud_enabled = Vec::new();
            loud.enabled(&l, &mut loud_enabled);
            assert_eq!(enabled, loud_enabled, "{name}");
            for a in candidates(&quiet, &q) {
                let next = quiet.step(&q, &a);
                assert_eq!(
                    next.is_some(),
                    enabled.contains(&a),
                    "{name}: {a:?} enabled {} but step takes it {}\n{q:?}",
                    enabled.contains(&a),
                    next.is_some()
                );
                let (Some(nq), Some(nl)) = (next, loud.step(&l, &a)) else {
                    continue;
                };
                assert!(nq.notes.is_empty(), "{name}: the checker's model narrates");
                noted += usize::from(!nl.notes.is_empty());
                frontier.push((nq, nl));
            }
        }
        assert!(noted > 0, "{name}: the page's model narrated nothing");
    }
}

/// A configuration whose warm-up never finds its quiet gap (anti-entropy rounds closer together
/// than it) or would take millions of gossip rounds is refused, where it looped for ever or for
/// minutes (a replayed report froze the page).
#[test]
fn a_configuration_whose_warm_up_does_not_settle_is_refused() {
    let (spec, _) = spec("lww").unwrap();
    let mut ae = spec.clone();
    ae.config.anti_entropy_interval_ms = 1;
    let e = KvModel::new(ae).unwrap_err();
    assert!(e.contains("warm-up"), "{e}");
    let mut slow = spec.clone();
    slow.config.gossip_interval_ms = 1;
    slow.config.t_fail_ms = 86_399_999;
    slow.config.t_cleanup_ms = 86_400_000;
    slow.down_at_start = Some(NodeId(2));
    let e = KvModel::new(slow).unwrap_err();
    assert!(e.contains("warm-up"), "{e}");
    // Every configuration the checker runs settles.
    for (s, _) in kvlab_check::specs() {
        KvModel::new(s.clone()).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    }
}

/// With every message reorderable, any message in flight is delivered by its name, and only it;
/// a name that matches nothing is refused.
#[test]
fn reordering_delivers_exactly_the_named_message() {
    let (mut spec, _) = spec("tiny").unwrap();
    spec.reorder = true;
    let model = KvModel::new(spec).unwrap();
    let put = Action::Put {
        client: 0,
        via: NodeId(0),
        read: false,
    };
    let s = model.step(&model.initial(), &put).unwrap();
    assert!(s.net.len() >= 2, "{s:?}");
    for e in &s.net {
        let after = model
            .step(&s, &Action::Deliver(e.from, e.to, e.digest))
            .unwrap_or_else(|| panic!("{:?} could not be delivered", e.digest));
        let count = |st: &State| {
            st.net
                .iter()
                .filter(|x| x.from == e.from && x.to == e.to && x.digest == e.digest)
                .count()
        };
        assert_eq!(count(&after) + 1, count(&s), "delivered another message");
    }
    let e = &s.net[0];
    for wrong in [
        Action::Deliver(e.from, e.to, e.digest ^ 1),
        Action::Deliver(e.to, e.from, e.digest),
        Action::Deliver(e.from, NodeId(2), e.digest),
    ] {
        if !s
            .net
            .iter()
            .any(|x| Action::Deliver(x.from, x.to, x.digest) == wrong)
        {
            assert!(model.step(&s, &wrong).is_none(), "{wrong:?} was taken");
        }
    }
}

/// Faults are taken only where they make sense: no crash of a crashed node, no restart of a
/// running one, one partition at a time, none of a node the cluster lacks.
#[test]
fn faults_are_refused_where_enabled_never_offers_them() {
    let (mut spec, _) = spec("tiny").unwrap();
    spec.budget.crashes = 2;
    spec.budget.partitions = 2;
    let model = KvModel::new(spec).unwrap();
    let s0 = model.initial();
    assert!(model.step(&s0, &Action::Restart(NodeId(0))).is_none());
    let crashed = model.step(&s0, &Action::Crash(NodeId(0))).unwrap();
    assert!(model.step(&crashed, &Action::Crash(NodeId(0))).is_none());
    assert!(model.step(&crashed, &Action::Restart(NodeId(0))).is_some());
    assert!(model.step(&s0, &Action::Partition(NodeId(9))).is_none());
    let cut = model.step(&s0, &Action::Partition(NodeId(1))).unwrap();
    assert!(model.step(&cut, &Action::Partition(NodeId(2))).is_none());
    assert!(model.step(&s0, &Action::Heal).is_none());
    assert!(model.step(&cut, &Action::Heal).is_some());
}
