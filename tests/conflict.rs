//! Versions and conflicts (docs/protocol.md §Versions) end to end through the simulated cluster: the D1–D5 example with its exact clocks.

use kvlab_core::{NodeId, Scenario, VectorClock};
use kvlab_support::{get, put, siblings};

fn names(n: NodeId) -> String {
    ["Sx", "Sy", "Sz"][n.index()].to_string()
}

#[test]
fn d1_to_d5_with_the_seeds_exact_clocks_on_every_replica() {
    let sc = Scenario::conflict();
    let mut sim = sc.simulation();
    let empty = VectorClock::new();

    let d1 = put(&mut sim, 0, "cart", "D1", &empty, 300);
    let r = get(&mut sim, 0, "cart", 300);
    let (v, ctx1) = siblings(&r);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].clock().display_with(names), "[Sx,1]", "{d1:?}");

    put(&mut sim, 0, "cart", "D2", &ctx1, 300);
    let (v, ctx2) = siblings(&get(&mut sim, 0, "cart", 300));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].clock().display_with(names), "[Sx,2]");

    // Concurrent writes through Sy and Sz, both with the context of D2.
    let now = sim.now();
    let a = sim.submit(
        NodeId(1),
        kvlab_core::Request::Put {
            key: "cart".into(),
            value: "D3".into(),
            context: ctx2.clone(),
        },
    );
    let b = sim.submit(
        NodeId(2),
        kvlab_core::Request::Put {
            key: "cart".into(),
            value: "D4".into(),
            context: ctx2.clone(),
        },
    );
    sim.run_until(now.plus(400));
    assert!(matches!(
        sim.reply(a).unwrap().body,
        kvlab_core::ReplyBody::PutOk { .. }
    ));
    assert!(matches!(
        sim.reply(b).unwrap().body,
        kvlab_core::ReplyBody::PutOk { .. }
    ));

    let (v, ctx) = siblings(&get(&mut sim, 0, "cart", 300));
    let mut clocks: Vec<String> = v.iter().map(|x| x.clock().display_with(names)).collect();
    clocks.sort();
    assert_eq!(clocks, vec!["[Sx,2][Sy,1]", "[Sx,2][Sz,1]"]);
    assert_eq!(ctx.display_with(names), "[Sx,2][Sy,1][Sz,1]");

    // The client reconciles and writes back through Sx.
    put(&mut sim, 0, "cart", "D5", &ctx, 400);
    for node in sim.nodes() {
        let set = node.versions("cart").expect("every replica holds cart");
        let clocks: Vec<String> = set
            .versions()
            .iter()
            .map(|x| x.clock().display_with(names))
            .collect();
        assert_eq!(clocks, vec!["[Sx,3][Sy,1][Sz,1]"], "on {}", node.id());
    }
}

#[test]
fn the_scenario_data_reaches_d5_too() {
    let sc = Scenario::conflict();
    let sim = sc.simulation_at(sc.steps.len() - 1);
    for node in sim.nodes() {
        let set = node.versions("cart").unwrap();
        let clocks: Vec<String> = set
            .versions()
            .iter()
            .map(|x| x.clock().display_with(names))
            .collect();
        assert_eq!(clocks, vec!["[Sx,3][Sy,1][Sz,1]"]);
    }
    let at3 = sc.simulation_at(2);
    let mut clocks: Vec<String> = at3.nodes()[0]
        .versions("cart")
        .unwrap()
        .versions()
        .iter()
        .map(|x| x.clock().display_with(names))
        .collect();
    clocks.sort();
    assert_eq!(clocks, vec!["[Sx,2][Sy,1]", "[Sx,2][Sz,1]"]);
}
