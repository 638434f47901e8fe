//! The node's timers: one named deadline each, kept in a table (as quinn-proto's `TimerTable`).

use crate::types::Time;
use serde::{Deserialize, Serialize};

/// Something a node does at a time of its choosing. When several are due at once they fire in
/// this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    /// The earliest deadline of a request the node coordinates: a request short of its quorum
    /// fails, an answered get repairs the replicas that replied.
    RequestTimeout,
    /// The next gossip round, which also retries pending handoffs (docs/protocol.md §Gossip).
    Gossip,
    /// The next Merkle comparison of one of its ranges (docs/protocol.md §Anti-entropy).
    AntiEntropy,
}

impl Timer {
    /// Every timer, in firing order.
    pub const ALL: [Timer; 3] = [Timer::RequestTimeout, Timer::Gossip, Timer::AntiEntropy];
}

/// When each timer next fires; `None` when it is stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimerTable {
    at: [Option<Time>; Timer::ALL.len()],
}

impl TimerTable {
    pub(super) fn get(&self, timer: Timer) -> Option<Time> {
        self.at[timer as usize]
    }

    pub(super) fn set(&mut self, timer: Timer, at: Option<Time>) {
        self.at[timer as usize] = at;
    }

    /// Whether `timer` is set and its time has come.
    pub(super) fn is_due(&self, timer: Timer, now: Time) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }

    /// The earliest deadline of any timer.
    pub(super) fn next(&self) -> Option<Time> {
        self.at.iter().flatten().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reports_the_earliest_set_timer() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::AntiEntropy, Some(Time(50)));
        t.set(Timer::Gossip, Some(Time(20)));
        assert_eq!(t.next(), Some(Time(20)));
        assert!(t.is_due(Timer::Gossip, Time(20)) && !t.is_due(Timer::Gossip, Time(19)));
        assert!(!t.is_due(Timer::RequestTimeout, Time(1_000)));
        t.set(Timer::Gossip, None);
        assert_eq!(t.next(), Some(Time(50)));
        assert_eq!(t.get(Timer::Gossip), None);
    }
}
