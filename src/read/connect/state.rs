//! What becomes of each server connected to, as told to the operator: a [`Change`] of its
//! [`ConnectState`] (connected, lost, retrying, given up, lines dropped, and a closing summary), said
//! in one line, and the [`Watch`] through which the nodes' threads tell it without ever waiting
//! for the consumer.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A node's state, as told to the operator.
#[derive(Debug, Clone)]
pub enum ConnectState {
    /// MONITOR is on; `lost_for` is how long the node had been lost, if it was.
    Connected { lost_for: Option<Duration> },
    /// The stream broke; it is retried after `retry_in`.
    Lost { why: String, retry_in: Duration },
    /// Still lost since `since`: attempt `attempts` failed.
    Retrying { since: SystemTime, attempts: u32, why: String, retry_in: Duration },
    /// Not tried again.
    GivenUp { why: String },
    /// The consumer could not keep up: `lines` read from the socket were dropped so far (or
    /// `in_all`, at the end of the run).
    Dropped { lines: u64, in_all: bool },
    /// At the end of the run: the node was lost `losses` times, `unseen` in all, and still at
    /// the end since `lost_at_end`.
    Summary { losses: u32, unseen: Duration, lost_at_end: Option<SystemTime> },
}

/// A node's state change.
#[derive(Debug, Clone)]
pub struct Change {
    pub node: u32,
    /// How messages name the node.
    pub name: String,
    pub at: SystemTime,
    pub state: ConnectState,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.state {
            ConnectState::Connected { lost_for: None } => write!(f, "{name}: connected, MONITOR on"),
            ConnectState::Connected { lost_for: Some(gap) } => write!(
                f,
                "{name}: connected again at {} after {} lost (what it ran meanwhile was not seen)",
                clock(self.at),
                seconds(*gap)
            ),
            ConnectState::Lost { why, retry_in } => {
                write!(f, "{name}: lost at {} ({why}); retrying in {}", clock(self.at), seconds(*retry_in))
            }
            ConnectState::Retrying { since, attempts, why, retry_in } => write!(
                f,
                "{name}: still lost since {}, attempt {attempts} failed: {why}; retrying in {}",
                clock(*since),
                seconds(*retry_in)
            ),
            ConnectState::GivenUp { why } => write!(f, "{name}: given up: {why}"),
            ConnectState::Dropped { lines, in_all: false } => write!(
                f,
                "{name}: {lines} lines dropped so far: the output could not keep up (the server is never made to buffer them)"
            ),
            ConnectState::Summary { losses, unseen, lost_at_end } => {
                let times = if *losses == 1 { "once".to_string() } else { format!("{losses} times") };
                write!(f, "{name}: lost {times}, {} in all not seen (not in the counts)", seconds(*unseen))?;
                match lost_at_end {
                    Some(at) => write!(f, "; still lost at the end, since {}", clock(*at)),
                    None => Ok(()),
                }
            }
            ConnectState::Dropped { lines, in_all: true } => {
                write!(f, "{name}: {lines} lines dropped in all: the output could not keep up; the reports count them as dropped")
            }
        }
    }
}

impl Change {
    /// The state the screen's node section shows for this change, if it is one.
    pub fn node_state(&self) -> Option<crate::count::nodes::NodeState> {
        use crate::count::nodes::NodeState;
        let micros = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
        match &self.state {
            ConnectState::Connected { .. } => Some(NodeState::Connected),
            ConnectState::Lost { .. } => Some(NodeState::Lost { since: micros(self.at) }),
            ConnectState::Retrying { since, .. } => Some(NodeState::Lost { since: micros(*since) }),
            ConnectState::GivenUp { .. } => Some(NodeState::GivenUp),
            ConnectState::Dropped { .. } | ConnectState::Summary { .. } => None,
        }
    }

    /// The node's lines stop coming (lost, given up), or some were dropped.
    pub fn stops(&self) -> bool {
        !matches!(
            self.state,
            ConnectState::Connected { .. } | ConnectState::Retrying { .. } | ConnectState::Summary { .. }
        )
    }
}

/// `HH:MM:SS` UTC.
fn clock(at: SystemTime) -> String {
    let micros = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    format!("{} UTC", crate::format::timestamp::time_of_day(micros))
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The most changes kept waiting for the consumer; past it the oldest are forgotten (the
/// backoff makes that take a flood of nodes).
const MAX_WAITING: usize = 1000;

/// What the nodes tell the consumer, without ever waiting for it.
#[derive(Default)]
pub struct Watch {
    changes: Mutex<VecDeque<Change>>,
    pending: AtomicBool,
    /// Some node was connected at some time.
    pub read_any: AtomicBool,
}

impl Watch {
    pub fn tell(&self, change: Change) {
        if let Ok(mut changes) = self.changes.lock() {
            if changes.len() == MAX_WAITING {
                changes.pop_front();
            }
            changes.push_back(change);
            self.pending.store(true, Ordering::Release);
        }
    }

    /// The changes told since the last call (cheap when there are none).
    pub fn take(&self) -> Vec<Change> {
        if !self.pending.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        self.changes.lock().map(|mut c| c.drain(..).collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_said_in_a_line() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(3600 + 61);
        let change = |state| Change { node: 0, name: "n1 (h:1)".into(), at, state }.to_string();
        assert_eq!(change(ConnectState::Connected { lost_for: None }), "n1 (h:1): connected, MONITOR on");
        assert_eq!(
            change(ConnectState::Lost { why: "the connection ended".into(), retry_in: Duration::from_millis(500) }),
            "n1 (h:1): lost at 01:01:01 UTC (the connection ended); retrying in 0.5s"
        );
        assert!(change(ConnectState::Connected { lost_for: Some(Duration::from_secs(3)) }).contains("after 3.0s lost"));
    }
}
