//! The counts of consecutive ranges of one input joined into the counts of the whole, equal to
//! counting it in one pass (the key tables within their bounds: see [`crate::count::topk`]).
//!
//! Counting a range is counting lines with nothing before them, so three things wait for the
//! join: the gap between the last command of a range and the first of the next (recorded,
//! charged by the gap rule, and a slowest call when it is one), the slowest calls' positions in
//! the input (a later range's counted from its own start), and the chain of the previous
//! command, which goes on from the later range.

use std::cmp::Reverse;

use crate::commands::CommandId;
use crate::count::name::Name;
use crate::count::stats::{GapRule, SlowCall, Stats};
use crate::pipeline::decode::Command;
use crate::pipeline::redact::Secrets;

/// The first command of a range on one node, kept for the join: its gap is known only then.
pub struct Opening {
    node: u32,
    micros: u64,
    id: Option<CommandId>,
    /// The command's name, when the table does not know it.
    name: Name,
    /// The call as a slowest call shows it (under [`GapRule::Later`], which charges the gap to
    /// it), its position that of the range.
    call: Option<SlowCall>,
}

impl Stats {
    /// What the join needs of `cmd`, a range's first command on its node: to be called before
    /// [`Stats::command`] counts it.
    pub fn opening(&self, cmd: &Command<'_>, secrets: &Secrets) -> Opening {
        let later = self.settings.gap_rule == GapRule::Later;
        let call = (later && self.slow_rows() > 0).then(|| {
            let mut call = self.render(cmd, secrets, 0);
            call.seq = Reverse(self.chains.get(cmd.node as usize).map_or(0, |chain| chain.seq) + 1);
            call
        });
        let name = if cmd.id.is_none() { Name::new(cmd.name) } else { Name::default() };
        Opening { node: cmd.node, micros: cmd.header.micros, id: cmd.id, name, call }
    }

    /// Adds the counts of the range that follows this one in the input; `openings` are its
    /// first commands, one per node ([`Stats::opening`]).
    pub fn join(&mut self, mut later: Stats, openings: &[Opening]) {
        // A later call's position on its node follows this range's calls there.
        let offsets: Vec<u64> = self.chains.iter().map(|chain| chain.seq).collect();
        let offset = |node: u32| offsets.get(node as usize).copied().unwrap_or(0);
        let shift = |mut call: SlowCall| {
            call.seq = Reverse(call.seq.0 + offset(call.node.0));
            call
        };
        let mut calls: Vec<SlowCall> = std::mem::take(&mut self.slowest).into_iter().map(|r| r.0).collect();
        calls.extend(std::mem::take(&mut later.slowest).into_iter().map(|r| shift(r.0)));
        for opening in openings {
            calls.extend(self.bridge(opening, offset(opening.node)));
        }
        // The slowest calls merged one by one would drop a tie that input order keeps.
        self.merge(&later);
        for (node, mut chain) in later.chains.into_iter().enumerate() {
            if self.chains.len() <= node {
                self.chains.resize(node + 1, Default::default());
            }
            chain.seq += offset(node as u32);
            if chain.prev.is_none() {
                self.chains[node].seq = chain.seq;
                continue;
            }
            chain.prev_call = chain.prev_call.map(shift);
            self.chains[node] = chain;
        }
        // One pass keeps the heaviest by (gap, earliest position): the same order, taken whole.
        calls.sort_unstable_by(|a, b| b.cmp(a));
        calls.truncate(self.slow_rows());
        self.slowest = calls.into_iter().map(Reverse).collect();
    }

    /// Counts the gap from this range's last command on the opening's node to the opening, as
    /// one pass would have; returns the call it makes a slowest-call candidate, if any (at its
    /// place in the whole input: the later range's positions follow `offset`).
    fn bridge(&mut self, opening: &Opening, offset: u64) -> Option<SlowCall> {
        let node = opening.node as usize;
        let prev = self.chains.get(node).and_then(|chain| chain.prev)?;
        // Timestamps going backwards give no gap.
        let gap = opening.micros.checked_sub(prev)?;
        self.gaps.record(gap);
        match self.settings.gap_rule {
            GapRule::Later => {
                self.command_counts.add_named(opening.id, &opening.name, 0).charge(gap);
                opening.call.clone().map(|call| SlowCall { gap, seq: Reverse(call.seq.0 + offset), ..call })
            }
            GapRule::Earlier => {
                let chain = &mut self.chains[node];
                let call = chain.prev_call.take().map(|call| SlowCall { gap, ..call });
                self.command_counts.add_named(chain.prev_id, &chain.prev_command, 0).charge(gap);
                call
            }
        }
    }
}
