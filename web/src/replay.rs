//! A model checker's finding, replayed: a report written by `cargo xtask check NAME --json DIR`
//! (or one of the two bundled examples) is read, its configuration rebuilt as kvlab-core's
//! [`KvModel`], and its path stepped action by action on the very transitions the checker
//! explored. Every state is judged again here, by the same properties; nothing the report says
//! about a violation is taken on trust.

use crate::format::dot_text;
use kvlab_core::model::{
    Action, CheckReport, KvModel, State, ALWAYS, CONVERGES, HINT_DELIVERED, REPORT_FORMAT,
};
use kvlab_core::{ConflictMode, NodeId, Property, Version};

/// The reports bundled with the page: (file name, label, JSON). `cargo xtask check lww
/// non-replica-bug stand-in-n2-bug --threads 1 --json web/examples` writes them; a test in `check/` fails when
/// they differ from what the checker finds now, and one here replays each to its violation.
pub const EXAMPLES: [(&str, &str, &str); 3] = [
    (
        "lww.json",
        "Last-write-wins loses an acknowledged write",
        include_str!("../examples/lww.json"),
    ),
    (
        "non-replica-bug.json",
        "A non-replica coordinates a put (a fixed bug, put back)",
        include_str!("../examples/non-replica-bug.json"),
    ),
    (
        "stand-in-n2-bug.json",
        "A stand-in's next clock claims the write it handed off (a fixed bug, put back)",
        include_str!("../examples/stand-in-n2-bug.json"),
    ),
];

/// The most nodes a replayed configuration may have (the checker's have 3 or 4; every state is
/// kept, for stepping back).
pub const MAX_NODES: u16 = 16;

/// The longest path the page replays (the checker's paths are a few dozen actions). Every state
/// is kept and judged up front: a 16-node path of 10,000 actions took 13 s and 6.7 GB natively,
/// more than a wasm page has.
pub const MAX_PATH: usize = 1_000;

/// The most ring tokens (nodes × vnodes) a replayed configuration may have (the checker's have
/// one token a node): judging a state runs anti-entropy over every range of every node.
pub const MAX_TOKENS: u32 = 64;

/// The most Merkle buckets a replayed configuration may have (the checker's have 4, the page's
/// default 64): every node keeps a tree a range, in every state.
pub const MAX_BUCKETS: u32 = 64;

/// One property's verdict at one state.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The property's name.
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// `Err(why)` when the state breaks it.
    pub verdict: Result<(), String>,
    /// For a sometimes-property (never broken): whether the path has reached it by this state.
    pub reached: Option<bool>,
}

/// A path found for one property, ready to step through.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The report it came from.
    pub report: CheckReport,
    /// Which of the report's verdicts is replayed (its index).
    pub chosen: usize,
    /// The model, narrating.
    pub model: KvModel,
    /// The initial state, then the state after each action.
    pub states: Vec<State>,
    /// Each action in words, taken from the state before it.
    pub captions: Vec<String>,
    /// The properties' verdicts at each state.
    pub judged: Vec<Vec<Judgement>>,
    /// What each action changed in the nodes' versions of the key and their hints, in words
    /// (empty for the initial state).
    pub changes: Vec<Vec<String>>,
}

impl Replay {
    /// Reads a report from its JSON text and replays the path of its first broken
    /// always-property (else its first path). A clear error, never a panic, for anything else.
    pub fn from_json(text: &str) -> Result<Replay, String> {
        let report: CheckReport = serde_json::from_str(text)
            .map_err(|e| format!("this is not a kvlab check report ({e})"))?;
        if report.format != REPORT_FORMAT {
            return Err(format!(
                "format “{}” is not one this page reads (“{REPORT_FORMAT}”)",
                crate::format::clip(&report.format)
            ));
        }
        let chosen = report
            .verdicts
            .iter()
            .position(|v| v.kind == "always" && !v.holds && v.path.is_some())
            .or_else(|| report.verdicts.iter().position(|v| v.path.is_some()))
            .ok_or_else(|| {
                format!(
                    "the report for {} holds no path: every property passed and no example was kept",
                    report.name
                )
            })?;
        Replay::of(report, chosen)
    }

    /// The path of verdict `chosen` of `report`, replayed.
    pub fn of(report: CheckReport, chosen: usize) -> Result<Replay, String> {
        let path = report
            .verdicts
            .get(chosen)
            .and_then(|v| v.path.clone())
            .ok_or_else(|| format!("verdict {chosen} of the report holds no path"))?;
        if path.len() > MAX_PATH {
            return Err(format!(
                "the path has {} actions; the page replays at most {MAX_PATH}",
                path.len()
            ));
        }
        if report.spec.config.nodes > MAX_NODES {
            return Err(format!(
                "the configuration has {} nodes; the page replays at most {MAX_NODES}",
                report.spec.config.nodes
            ));
        }
        let c = &report.spec.config;
        let tokens = u32::from(c.nodes) * u32::from(c.vnodes);
        if tokens > MAX_TOKENS {
            return Err(format!(
                "the configuration has {} nodes × {} vnodes = {tokens} ring tokens; the page replays \
                 at most {MAX_TOKENS}",
                c.nodes, c.vnodes
            ));
        }
        if c.merkle_buckets > MAX_BUCKETS {
            return Err(format!(
                "the configuration has {} Merkle buckets; the page replays at most {MAX_BUCKETS}",
                c.merkle_buckets
            ));
        }
        let model = KvModel::new(report.spec.clone())
            .map_err(|e| format!("the report's configuration is invalid: {e}"))?
            .narrating();
        let mut states = vec![model.initial()];
        let mut captions = Vec::with_capacity(path.len());
        for (i, action) in path.iter().enumerate() {
            let Some(before) = states.last() else { break };
            let caption = model.caption(before, action);
            let mut next = model.step(before, action).ok_or_else(|| {
                format!(
                    "action {} of {} cannot be taken here ({caption}): the report was written by a \
                     different version of kvlab",
                    i + 1,
                    path.len()
                )
            })?;
            // Each state keeps only the action that led to it ([`Replay::action`]): whole trails
            // would grow as the square of the path.
            let keep = next.trail.len().saturating_sub(1);
            next.trail.drain(..keep);
            captions.push(caption);
            states.push(next);
        }
        let judged = states.iter().map(|s| judge(&model, s)).collect();
        let mut changes = vec![Vec::new()];
        changes.extend(states.windows(2).map(|w| changed(&model, &w[0], &w[1])));
        Ok(Replay {
            report,
            chosen,
            model,
            states,
            captions,
            judged,
            changes,
        })
    }

    /// The actions replayed.
    pub fn len(&self) -> usize {
        self.captions.len()
    }

    /// The first state (0 is the initial one) at which a property breaks, and which.
    pub fn first_break(&self) -> Option<(usize, &Judgement)> {
        self.judged
            .iter()
            .enumerate()
            .find_map(|(i, js)| js.iter().find(|j| j.verdict.is_err()).map(|j| (i, j)))
    }

    /// The name of the property whose path this is.
    pub fn property(&self) -> &str {
        self.report
            .verdicts
            .get(self.chosen)
            .map_or("", |v| v.name.as_str())
    }

    /// The action that led to state `at` (none for the initial state).
    pub fn action(&self, at: usize) -> Option<&Action> {
        self.states.get(at).and_then(|s| s.trail.last())
    }
}

/// One node's versions of the model's key: in its store, and held as hints (with their owner).
fn held(model: &KvModel, s: &State, node: usize) -> (Vec<Version>, Vec<(NodeId, Version)>) {
    let key = model.key();
    let mut stored = Vec::new();
    let Some(n) = s.nodes.get(node) else {
        return (stored, Vec::new());
    };
    n.store().for_each_sorted(|k, set| {
        if k == key {
            stored.extend(set.versions().iter().cloned());
        }
    });
    let hints = n
        .hints()
        .iter()
        .filter_map(|(owner, keys)| Some((*owner, keys.get(key)?)))
        .flat_map(|(owner, set)| set.versions().iter().map(move |v| (owner, v.clone())))
        .collect();
    (stored, hints)
}

/// What changed between `before` and `after` in every node's versions of the key and its hints:
/// "S1 now holds c0.4 (S2,3)", "S1 drops c0.1 (S2,1): c0.4's context [S2,2] covers it".
fn changed(model: &KvModel, before: &State, after: &State) -> Vec<String> {
    let v = |x: &Version| format!("{} {}", x.value.to_text(), dot_text(x.dot, &[]));
    let lww = model.spec.config.conflict_mode == ConflictMode::LastWriteWins;
    let mut out = Vec::new();
    for i in 0..after.nodes.len() {
        let node = NodeId(i as u16);
        let (was, was_hints) = held(model, before, i);
        let (now, now_hints) = held(model, after, i);
        let has = |set: &[Version], x: &Version| set.iter().any(|y| y.dot == x.dot);
        for x in now.iter().filter(|x| !has(&was, x)) {
            out.push(format!("{node} now holds {}", v(x)));
        }
        for x in was.iter().filter(|x| !has(&now, x)) {
            let why = match now.iter().find(|y| y.covers(x)) {
                Some(y) => format!(": {}'s context {} covers it", v(y), y.context),
                None if lww && !now.is_empty() => ": replaced, the last write wins".to_string(),
                None if now.is_empty() && after.nodes[i].store().is_empty() => {
                    ": its disk was wiped".to_string()
                }
                None => String::new(),
            };
            out.push(format!("{node} drops {}{why}", v(x)));
        }
        let has_hint = |set: &[(NodeId, Version)], x: &(NodeId, Version)| {
            set.iter().any(|y| y.0 == x.0 && y.1.dot == x.1.dot)
        };
        for x in now_hints.iter().filter(|x| !has_hint(&was_hints, x)) {
            out.push(format!("{node} holds {} as a hint for {}", v(&x.1), x.0));
        }
        for x in was_hints.iter().filter(|x| !has_hint(&now_hints, x)) {
            out.push(format!("{node} deletes its hint {} for {}", v(&x.1), x.0));
        }
    }
    out
}

/// Every property the checker judges, at state `s`.
fn judge(model: &KvModel, s: &State) -> Vec<Judgement> {
    let mut out: Vec<Judgement> = ALWAYS
        .iter()
        .map(|&name| Judgement {
            name,
            meaning: Property::named(name).map_or("", |p| p.meaning),
            verdict: model.core_check(s, name),
            reached: None,
        })
        .collect();
    out.push(Judgement {
        name: CONVERGES,
        meaning:
            "from a state where nothing is in flight and no client waits, healing, restarting \
                  every node, gossip and anti-entropy bring every acknowledged write to its homes",
        verdict: model.eventually_check(s),
        reached: None,
    });
    if model.spec.sometimes.iter().any(|n| n == HINT_DELIVERED) {
        // A sometimes-property: reached or not yet, never broken.
        out.push(Judgement {
            name: HINT_DELIVERED,
            meaning: "a stand-in handed a hinted replica to its recovered home (the model must \
                      reach it: a sometimes-property, never broken)",
            verdict: Ok(()),
            reached: Some(s.hints_delivered > 0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_example_replays_to_the_violation_its_report_names() {
        for (file, _, json) in EXAMPLES {
            let r = Replay::from_json(json).unwrap_or_else(|e| panic!("{file}: {e}"));
            let (at, broken) = r
                .first_break()
                .unwrap_or_else(|| panic!("{file}: no break"));
            assert_eq!(at, r.len(), "{file}: breaks before the path's end");
            assert_eq!(broken.name, r.property(), "{file}");
            assert_eq!(r.captions.len(), r.states.len() - 1);
            assert!(r.judged[0].iter().all(|j| j.verdict.is_ok()), "{file}");
            assert_eq!(r.changes.len(), r.states.len(), "{file}");
        }
    }

    #[test]
    fn the_lww_example_reads_as_two_blind_writes() {
        let r = Replay::from_json(EXAMPLES[0].2).unwrap();
        assert_eq!(r.len(), 2);
        assert!(
            r.captions.iter().all(|c| c.contains("blind")),
            "{:?}",
            r.captions
        );
        assert!(r.states[1].notes.iter().any(|n| n.contains("acknowledged")));
    }

    #[test]
    fn the_stand_in_example_says_which_version_covered_the_lost_one() {
        let r = Replay::from_json(EXAMPLES[2].2).unwrap();
        let last = r.changes.last().unwrap().join("; ");
        assert!(
            last.contains("drops c0.1 (S") && last.contains("context [S"),
            "{last}"
        );
        // Handing off the hint: the stand-in deletes it (and, put back, keeps its actor).
        let all: Vec<String> = r.changes.iter().flatten().cloned().collect();
        assert!(
            all.iter().any(|c| c.contains("deletes its hint c0.1")),
            "{all:?}"
        );
    }

    #[test]
    fn bad_reports_get_a_clear_error() {
        assert!(Replay::from_json("{")
            .unwrap_err()
            .contains("not a kvlab check report"));
        let wrong = EXAMPLES[0].2.replace(REPORT_FORMAT, "something-else/9");
        assert!(Replay::from_json(&wrong)
            .unwrap_err()
            .contains("something-else/9"));
        // A path whose action cannot be taken: a crash with no crash budget.
        let mut report: CheckReport = serde_json::from_str(EXAMPLES[0].2).unwrap();
        let chosen = report
            .verdicts
            .iter()
            .position(|v| v.path.is_some())
            .unwrap();
        if let Some(p) = report.verdicts[chosen].path.as_mut() {
            p.insert(0, Action::Crash(kvlab_core::NodeId(0)));
        }
        let e = Replay::of(report.clone(), chosen).unwrap_err();
        assert!(e.contains("action 1 of 3 cannot be taken"), "{e}");
        let mut far = report.clone();
        far.spec.down_at_start = Some(kvlab_core::NodeId(7));
        let e = Replay::of(far, chosen).unwrap_err();
        assert!(e.contains("down_at_start"), "{e}");
        let mut far = report.clone();
        far.spec.clients[0].push(kvlab_core::NodeId(3));
        let e = Replay::of(far, chosen).unwrap_err();
        assert!(e.contains("clients: a client talks to S3"), "{e}");
        let mut big = report.clone();
        big.spec.config.nodes = 200;
        let e = Replay::of(big, chosen).unwrap_err();
        assert!(e.contains("at most 16"), "{e}");
        report.spec.config.nodes = 0;
        let e = Replay::of(report, chosen).unwrap_err();
        assert!(e.contains("configuration is invalid"), "{e}");
    }

    /// The lww report with its configuration and first path changed by `f`, as JSON.
    fn lww_with(f: impl FnOnce(&mut CheckReport)) -> String {
        let mut report: CheckReport = serde_json::from_str(EXAMPLES[0].2).unwrap();
        f(&mut report);
        serde_json::to_string(&report).unwrap()
    }

    #[test]
    fn reports_that_froze_the_page_or_ran_it_out_of_memory_are_refused() {
        // Anti-entropy rounds 1 ms apart: the warm-up never found its quiet gap (an endless loop).
        let ae = lww_with(|r| r.spec.config.anti_entropy_interval_ms = 1);
        let e = Replay::from_json(&ae).unwrap_err();
        assert!(e.contains("warm-up"), "{e}");
        // 1 ms gossip rounds until a day-long t_fail: 39 s natively before the first action.
        let slow = lww_with(|r| {
            let c = &mut r.spec.config;
            (c.gossip_interval_ms, c.t_fail_ms, c.t_cleanup_ms) = (1, 86_399_999, 86_400_000);
            r.spec.down_at_start = Some(NodeId(2));
        });
        let e = Replay::from_json(&slow).unwrap_err();
        assert!(e.contains("warm-up"), "{e}");
        // Judging a state runs anti-entropy over every range: 16 × 1024 tokens took minutes.
        let tokens = lww_with(|r| (r.spec.config.nodes, r.spec.config.vnodes) = (16, 1024));
        let e = Replay::from_json(&tokens).unwrap_err();
        assert!(
            e.contains("ring tokens; the page replays at most 64"),
            "{e}"
        );
        let buckets = lww_with(|r| r.spec.config.merkle_buckets = 65_536);
        let e = Replay::from_json(&buckets).unwrap_err();
        assert!(e.contains("65536 Merkle buckets"), "{e}");
        // 10,000 actions of 16 nodes took 6.7 GB: the page replays at most 1,000.
        let long = lww_with(|r| r.verdicts[0].path = Some(vec![Action::Heal; MAX_PATH + 1]));
        let e = Replay::from_json(&long).unwrap_err();
        assert!(e.contains("at most 1000"), "{e}");
    }

    #[test]
    fn actions_the_configuration_does_not_offer_are_refused() {
        // Client 0 may contact only S0; a put "with the context of its last read" needs a read.
        for a in [
            Action::Put {
                client: 0,
                via: NodeId(2),
                read: false,
            },
            Action::Put {
                client: 0,
                via: NodeId(0),
                read: true,
            },
            Action::Get {
                client: 0,
                via: NodeId(1),
            },
        ] {
            let text = lww_with(|r| {
                r.spec.budget.gets = 1;
                r.verdicts[0].path = Some(vec![a.clone()]);
            });
            let e = Replay::from_json(&text).unwrap_err();
            assert!(e.contains("action 1 of 1 cannot be taken"), "{a:?}: {e}");
        }
    }

    #[test]
    fn a_long_path_keeps_one_action_a_state() {
        // A deterministic walk of 600 enabled actions on 16 nodes, every budget at its most.
        let mut report: CheckReport = serde_json::from_str(EXAMPLES[0].2).unwrap();
        report.spec.config.nodes = 16;
        report.spec.config.conflict_mode = ConflictMode::VectorClock;
        report.spec.clients = vec![(0..16).map(NodeId).collect(); 4];
        report.spec.reorder = true;
        let b = &mut report.spec.budget;
        (
            b.writes,
            b.gets,
            b.drops,
            b.crashes,
            b.wipes,
            b.partitions,
            b.gossip,
        ) = (255, 255, 255, 255, 255, 255, 255);
        let model = KvModel::new(report.spec.clone()).unwrap();
        let mut s = model.initial();
        let mut path = Vec::new();
        let mut rng = 7u64;
        for _ in 0..600 {
            let mut enabled = Vec::new();
            model.enabled(&s, &mut enabled);
            let deliver: Vec<_> = enabled
                .iter()
                .filter(|a| matches!(a, Action::Deliver(..)))
                .cloned()
                .collect();
            let pool = if deliver.is_empty() { enabled } else { deliver };
            if pool.is_empty() {
                break;
            }
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let a = pool[(rng >> 33) as usize % pool.len()].clone();
            s = model.step(&s, &a).unwrap();
            path.push(a);
        }
        report.verdicts[0].path = Some(path.clone());
        let r = Replay::of(report, 0).unwrap();
        assert_eq!(r.len(), path.len());
        assert!(r.states.iter().all(|s| s.trail.len() <= 1));
        for (i, a) in path.iter().enumerate() {
            assert_eq!(r.action(i + 1), Some(a));
        }
        assert_eq!(r.states.last().unwrap().fingerprint(), s.fingerprint());
    }
}
