//! The model checker's own checks: its negative control must fail, a small configuration must
//! pass, and a path found replays (also from JSON) to the very state it named.

use kvlab_check::{run, spec, Action, KvModel};
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
/// `cargo xtask check lww non-replica-bug --threads 1 --json web/examples`.
#[test]
fn the_reports_bundled_with_the_page_are_what_the_checker_finds_now() {
    for name in ["lww", "non-replica-bug"] {
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
