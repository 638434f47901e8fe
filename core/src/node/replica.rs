//! The node's own copy of its keys: the store, the clock actor it writes as, and the keys changed
//! since its Merkle trees last absorbed them.

use super::{NodeEvent, Outbox};
use crate::config::ConflictMode;
use crate::storage::{Policy, Store};
use crate::types::{Actor, Key, NodeId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet, WriteStamp};
use std::collections::BTreeSet;

#[derive(Clone, Debug)]
pub(super) struct Replica {
    id: NodeId,
    mode: ConflictMode,
    prune_threshold: usize,
    store: Store<VersionSet>,
    /// Its clock epoch: its dots name `Actor { node: id, epoch }` (see [`Actor`]).
    epoch: u32,
    /// The highest dot counter its current actor has issued, for any key: counters never go back.
    issued: u64,
    /// Keys whose stored versions changed since anti-entropy last took them. Every change of the
    /// store passes through this type, so none can be missed.
    changed: BTreeSet<Key>,
}

impl Replica {
    pub(super) fn new(
        id: NodeId,
        mode: ConflictMode,
        prune_threshold: u16,
        hot_budget: u64,
    ) -> Self {
        Replica {
            id,
            mode,
            prune_threshold: usize::from(prune_threshold),
            store: Store::new(hot_budget, Policy::default()),
            epoch: 0,
            issued: 0,
            changed: BTreeSet::new(),
        }
    }

    pub(super) fn mode(&self) -> ConflictMode {
        self.mode
    }

    pub(super) fn store(&self) -> &Store<VersionSet> {
        &self.store
    }

    pub(super) fn actor(&self) -> Actor {
        Actor::new(self.id, self.epoch)
    }

    pub(super) fn issued(&self) -> u64 {
        self.issued
    }

    /// Starts a new clock epoch: from now on its dots name a fresh actor whose counters start at 1.
    /// Called whenever the node drops versions its current actor issued, so that no later dot of
    /// that actor claims (by counting past it) a version the node no longer holds. 2^32 epochs are
    /// out of reach (one per wipe or per handoff of self-written hints), so saturating is safe.
    pub(super) fn new_epoch(&mut self, out: &mut Outbox) {
        self.epoch = self.epoch.saturating_add(1);
        self.issued = 0;
        let actor = self.actor();
        out.event(NodeEvent::NewEpoch { actor });
    }

    /// Loses every stored version (a new, empty disk) and starts a new epoch: the old actor's
    /// counters name versions this disk no longer holds, and a clock that claimed them would
    /// supersede versions no client read.
    pub(super) fn wipe(&mut self, out: &mut Outbox) {
        self.new_epoch(out);
        self.store.wipe();
        self.changed.clear();
    }

    /// The stored versions of `key` (empty if none), counted as a use by the store's eviction.
    pub(super) fn get(&mut self, key: &Key) -> VersionSet {
        self.store.get(key.as_str()).unwrap_or_default()
    }

    /// The stored versions of `key`, without touching recency.
    pub(super) fn peek(&self, key: &str) -> Option<VersionSet> {
        self.store.peek(key)
    }

    pub(super) fn put(&mut self, key: &Key, set: VersionSet) {
        self.store.put(key.clone(), set);
        self.changed.insert(key.clone());
    }

    /// Merges `incoming` into the stored versions of `key`; returns whether anything changed.
    pub(super) fn merge(&mut self, key: &Key, incoming: &VersionSet) -> bool {
        let mut set = self.get(key);
        let changed = set.merge_in(self.mode, incoming);
        if changed {
            self.put(key, set);
        }
        changed
    }

    /// The coordinator's write of `value` into `set` (the key's versions as it read them): a new
    /// version whose dot is its actor's next counter, above any counter it issued before.
    pub(super) fn write(
        &mut self,
        set: &mut VersionSet,
        context: &VectorClock,
        value: Value,
        now: Time,
    ) -> Version {
        let version = set.write_in(
            self.mode,
            WriteStamp {
                prune_threshold: self.prune_threshold,
                floor: self.issued,
                ..WriteStamp::new(self.actor(), context, value, now)
            },
        );
        self.issued = self.issued.max(version.dot.counter);
        version
    }

    /// Whether it holds `dot` of `key`, directly or covered by a later version.
    pub(super) fn covers(&self, key: &str, dot: Dot) -> bool {
        self.store.peek(key).is_some_and(|set| {
            set.versions()
                .iter()
                .any(|v| v.dot == dot || v.context.counter(dot.actor) >= dot.counter)
        })
    }

    pub(super) fn changed(&self) -> &BTreeSet<Key> {
        &self.changed
    }

    pub(super) fn take_changed(&mut self) -> BTreeSet<Key> {
        std::mem::take(&mut self.changed)
    }
}
