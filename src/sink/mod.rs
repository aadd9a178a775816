//! Where decoded commands go: the one interface the pipeline writes to ([`Sink`]), and its three
//! kinds: the report of a whole input ([`whole`]), a report per period ([`rolling`]), and the
//! records ([`records`]). The two report sinks write through a [`reporter::Reporter`], which
//! names the nodes by their [`labels`]; [`any`] is the one of the three a run writes to.
//!
//! The pipeline hands over every line once, finished ([`Sink::line`]): it is placed in time
//! ([`Sink::at`]), counted in [`Sink::tally`], and a command that passed the filters goes to
//! [`Sink::command`]; a sink decides what to count and when to write. Report
//! sinks count key accesses on a second core ([`crate::count::offload`]): the key tables are the
//! costliest part of a report, and the parsing thread goes on meanwhile; the report of one large
//! regular file is instead counted on every core, a range each, and the counts joined
//! ([`split`]); its records are made on every core, a chunk each, and written in file order
//! ([`chunked`]).

pub mod any;
pub mod chunked;
pub mod labels;
pub mod records;
pub mod reporter;
pub mod rolling;
pub mod split;
pub mod whole;

use std::io::Write;

use crate::count::nodes::NodeState;
use crate::count::stats::Tally;
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::outcome::{Is, Outcome};
use crate::pipeline::redact::Secrets;

/// What the pipeline hands decoded lines to.
pub trait Sink {
    /// The counters every line read is tallied in (the current period's, for a rolling report).
    fn tally(&mut self) -> &mut Tally;

    /// The time of a command of `node`, told before its line is tallied: a rolling report
    /// closes (and writes) the periods that end before it.
    fn at(&mut self, _node: u32, _micros: u64) -> Result<(), Error> {
        Ok(())
    }

    /// A command that passed the filters; `secrets` are the arguments to show redacted.
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error>;

    /// One line read, finished: the one call the pipeline makes per line. Its command's time
    /// first (a period may close), then its count, then a command that passed.
    // Always inlined into the pipeline's step: a call per line costs more than the few tests.
    #[inline(always)]
    fn line(&mut self, line: Outcome<'_>) -> Result<(), Error> {
        if let Some(cmd) = line.command() {
            self.at(cmd.node, cmd.header.micros)?;
        }
        self.tally().count(&line);
        match line.is {
            Is::Command { cmd, secrets } => self.command(cmd, secrets),
            Is::Filtered(_) | Is::Noise { .. } | Is::Skipped => Ok(()),
        }
    }

    /// The input has nothing more for now.
    fn pause(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// A live input has been silent for a while.
    fn idle(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Input `node` has ended.
    fn end_of_input(&mut self, _node: u32) {}

    /// A notice for the operator that stays on a live screen until a command comes (a server's
    /// refusal, as standard error showed it).
    fn notice(&mut self, _text: &str) {}

    /// What the reading layer says of input `node` (its end; a connection's state), for the
    /// screen's node section.
    fn node_state(&mut self, _node: u32, _state: NodeState) {}

    /// The end of the run: the (last) report, or the records' closing words on `warn`.
    fn finish(self, warn: &mut dyn Write) -> Result<(), Error>;
}
