//! The Stateright side: [`KvModel`] (kvlab-core's model of a small cluster) as a
//! [`stateright::Model`], explored breadth or depth first, and its findings as a [`CheckReport`].

use kvlab_core::model::{
    Action, CheckReport, KvModel, Spec, State, Verdict, ALWAYS, CONVERGES, HINT_DELIVERED,
    REPORT_FORMAT,
};
use stateright::{Checker, Model, Property};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The model under the checker, with the shortest path found to each property's discovery.
#[derive(Clone)]
pub struct Checked {
    /// The model.
    pub model: KvModel,
    /// Stateright keeps the *last* discovery found, which breadth first is the deepest; this
    /// keeps the first and shortest.
    found: Arc<Mutex<BTreeMap<&'static str, Vec<Action>>>>,
}

impl Checked {
    /// `model`, with nothing found yet.
    pub fn new(model: KvModel) -> Checked {
        Checked {
            model,
            found: Arc::default(),
        }
    }

    /// Records that `s` is a discovery of `name` (a counterexample or an example), keeping the
    /// shortest; returns `discovered`.
    fn note(&self, name: &'static str, s: &State, discovered: bool) -> bool {
        if discovered {
            if let Ok(mut found) = self.found.lock() {
                let slot = found.entry(name).or_insert_with(|| s.trail.clone());
                if s.trail.len() < slot.len() {
                    *slot = s.trail.clone();
                }
            }
        }
        discovered
    }
}

impl Model for Checked {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.model.initial()]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.model.enabled(state, actions);
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        self.model.step(last, &action)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut ps = vec![
            Property::always(ALWAYS[0], |m: &Checked, s: &State| {
                !m.note(ALWAYS[0], s, m.model.core_check(s, ALWAYS[0]).is_err())
            }),
            Property::always(ALWAYS[1], |m: &Checked, s: &State| {
                !m.note(ALWAYS[1], s, m.model.core_check(s, ALWAYS[1]).is_err())
            }),
            Property::always(ALWAYS[2], |m: &Checked, s: &State| {
                !m.note(ALWAYS[2], s, m.model.core_check(s, ALWAYS[2]).is_err())
            }),
            Property::always(ALWAYS[3], |m: &Checked, s: &State| {
                !m.note(ALWAYS[3], s, m.model.core_check(s, ALWAYS[3]).is_err())
            }),
            Property::always(CONVERGES, |m: &Checked, s: &State| {
                !m.note(CONVERGES, s, m.model.eventually_check(s).is_err())
            }),
        ];
        for name in &self.model.spec.sometimes {
            match name.as_str() {
                "siblings" => ps.push(Property::sometimes("siblings", |m: &Checked, s: &State| {
                    m.note("siblings", s, m.model.core_check(s, "siblings").is_ok())
                })),
                HINT_DELIVERED => ps.push(Property::sometimes(
                    HINT_DELIVERED,
                    |m: &Checked, s: &State| m.note(HINT_DELIVERED, s, s.hints_delivered > 0),
                )),
                _ => {}
            }
        }
        ps
    }
}

/// Explores `spec` exhaustively on `threads` threads, for at most `timeout`: breadth first when
/// `shortest` (a negative control: its counterexample is then a shortest one, and exploration
/// stops at the first), else depth first, whose memory is the fingerprints of the states seen
/// plus one path's worth of states.
pub fn run(
    spec: Spec,
    threads: usize,
    timeout: Option<Duration>,
    shortest: bool,
) -> Result<CheckReport, String> {
    let model = Checked::new(KvModel::new(spec)?);
    let name = model.model.spec.name.clone();
    let start = Instant::now();
    let mut builder = model.clone().checker().threads(threads.max(1));
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    let builder = builder.finish_when(stateright::HasDiscoveries::AnyFailures);
    let checker: Box<dyn Checker<Checked>> = if shortest {
        Box::new(builder.spawn_bfs().join())
    } else {
        Box::new(builder.spawn_dfs().join())
    };
    let found = model.found.lock().map(|f| f.clone()).unwrap_or_default();
    let seconds = start.elapsed().as_secs_f64();
    let complete = timeout.is_none_or(|t| start.elapsed() < t);
    let mut verdicts = Vec::new();
    for p in model.properties() {
        let path = found.get(p.name).cloned();
        let always = matches!(p.expectation, stateright::Expectation::Always);
        let kind = if always { "always" } else { "sometimes" };
        let holds = if always {
            path.is_none()
        } else {
            path.is_some()
        };
        let reason = match (&path, always) {
            (Some(path), true) => {
                let last = model.model.replay(path).ok().and_then(|mut s| s.pop());
                last.map(|last| {
                    if p.name == CONVERGES {
                        model
                            .model
                            .eventually_check(&last)
                            .err()
                            .unwrap_or_default()
                    } else {
                        model
                            .model
                            .core_check(&last, p.name)
                            .err()
                            .unwrap_or_default()
                    }
                })
            }
            _ => None,
        };
        verdicts.push(Verdict {
            name: p.name.to_owned(),
            kind: kind.to_owned(),
            holds,
            path,
            reason,
        });
    }
    Ok(CheckReport {
        format: REPORT_FORMAT.to_string(),
        name,
        spec: model.model.spec.clone(),
        states: checker.state_count(),
        unique: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        complete,
        verdicts,
    })
}

/// Serves Stateright's Explorer for `spec` on `addr` (e.g. `localhost:3000`): a web page that
/// walks the model's states by hand, action by action, and runs the checker on demand. Blocks
/// until the process is interrupted; fails at once, with a message, when `addr` is taken.
pub fn explore(spec: Spec, threads: usize, addr: &str) -> Result<std::convert::Infallible, String> {
    // The Explorer panics on an address it cannot bind: try it first, for a clear error.
    drop(std::net::TcpListener::bind(addr).map_err(|e| format!("cannot serve on {addr}: {e}"))?);
    let model = Checked::new(KvModel::new(spec)?);
    println!("Stateright Explorer on http://{addr}/ (Ctrl-C stops it)");
    let _checker = model.checker().threads(threads.max(1)).serve(addr);
    // The Explorer answers from its own thread; this one waits for the interrupt.
    loop {
        std::thread::park();
    }
}
