//! What is known of each input (node) while a run goes on, for the screen's node section: the
//! time of its last command and its state.
//!
//! The reading layer says what becomes of an input by an event (`Event::End`, and `Event::Node`
//! for a server connected to: connected, lost, given up); the sink turns each into one
//! [`NodeState`] with [`Nodes::set`], and the screen shows it by its [`NodeState::text`].

use crate::format::timestamp::time_of_day;

/// The state of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeState {
    /// Open: lines may still come (whether any came lately is the screen's to say).
    #[default]
    Reading,
    /// The input ended: its end of file, or its stream closed.
    Ended,
    /// A server connected to, MONITOR on (again, after being lost).
    Connected,
    /// A server's connection broke at `since` (microseconds since the epoch); it is retried.
    Lost { since: u64 },
    /// A server that refused, or could not be reached at first: not tried again.
    GivenUp,
}

impl NodeState {
    /// The state in a few words, as the screen shows it.
    pub fn text(self) -> std::borrow::Cow<'static, str> {
        match self {
            NodeState::Reading => "reading".into(),
            NodeState::Ended => "ended".into(),
            NodeState::Connected => "connected".into(),
            NodeState::Lost { since } => format!("LOST since {}Z, retrying", time_of_day(since)).into(),
            NodeState::GivenUp => "GIVEN UP".into(),
        }
    }

    /// Lines may still come: the screen says when it has been silent.
    pub fn open(self) -> bool {
        matches!(self, NodeState::Reading | NodeState::Connected)
    }
}

/// Each input's state and last command, by node number.
#[derive(Debug, Default, Clone)]
pub struct Nodes {
    states: Vec<NodeState>,
    /// The timestamp of each node's latest command.
    last: Vec<Option<u64>>,
}

/// The most nodes tracked (as many as inputs may be read at once).
const MAX_NODES: usize = 1024;

impl Nodes {
    /// A command of `node` at `micros`.
    #[inline]
    pub fn seen(&mut self, node: u32, micros: u64) {
        if let Some(last) = self.last.get_mut(node as usize) {
            *last = Some(last.map_or(micros, |l| l.max(micros)));
        } else if let Some((_, last)) = self.slot(node) {
            *last = Some(micros);
        }
    }

    /// What the reading layer said of `node`.
    pub fn set(&mut self, node: u32, state: NodeState) {
        if let Some(slot) = self.slot(node) {
            *slot.0 = state;
        }
    }

    /// (node number, state, latest command's timestamp) of each node known.
    pub fn iter(&self) -> impl Iterator<Item = (u32, NodeState, Option<u64>)> + '_ {
        self.states.iter().zip(&self.last).enumerate().map(|(i, (s, l))| (i as u32, *s, *l))
    }

    /// How many nodes are known.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    fn slot(&mut self, node: u32) -> Option<(&mut NodeState, &mut Option<u64>)> {
        if node as usize >= MAX_NODES {
            return None;
        }
        Some(self.grow(node))
    }

    #[cold]
    fn grow(&mut self, node: u32) -> (&mut NodeState, &mut Option<u64>) {
        let n = node as usize;
        if self.states.len() <= n {
            self.states.resize(n + 1, NodeState::Reading);
            self.last.resize(n + 1, None);
        }
        (&mut self.states[n], &mut self.last[n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_last_commands_by_node() {
        let mut nodes = Nodes::default();
        nodes.seen(1, 5);
        nodes.seen(1, 3);
        nodes.set(0, NodeState::Ended);
        let all: Vec<_> = nodes.iter().collect();
        assert_eq!(all, [(0, NodeState::Ended, None), (1, NodeState::Reading, Some(5))]);
        assert_eq!(NodeState::Ended.text(), "ended");
        assert_eq!(NodeState::Lost { since: 3_661_000_000 }.text(), "LOST since 01:01:01Z, retrying");
    }
}
