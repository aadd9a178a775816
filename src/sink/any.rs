//! The sink a run writes to, chosen once: one of the three kinds, behind one value that the
//! pipeline calls without a virtual call per line.

use std::io::Write;

use crate::count::nodes::NodeState;
use crate::count::stats::Tally;
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::outcome::Outcome;
use crate::pipeline::redact::Secrets;
use crate::sink::records::Records;
use crate::sink::rolling::RollingReport;
use crate::sink::whole::WholeReport;
use crate::sink::Sink;

/// The sink of a run, one of the three, dispatched without a virtual call per line.
// One value per run, made once and never moved on the per-line path: the sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnySink<W: Write> {
    Whole(WholeReport<W>),
    Rolling(RollingReport<W>),
    Records(Records<W>),
}

macro_rules! each {
    ($self:expr, $sink:ident => $body:expr) => {
        match $self {
            AnySink::Whole($sink) => $body,
            AnySink::Rolling($sink) => $body,
            AnySink::Records($sink) => $body,
        }
    };
}

impl<W: Write> Sink for AnySink<W> {
    #[inline]
    fn tally(&mut self) -> &mut Tally {
        each!(self, s => s.tally())
    }

    #[inline]
    fn at(&mut self, node: u32, micros: u64) -> Result<(), Error> {
        each!(self, s => s.at(node, micros))
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        each!(self, s => s.command(cmd, secrets))
    }

    // Always inlined into the pipeline's step: a call per line costs more than the dispatch.
    #[inline(always)]
    fn line(&mut self, line: Outcome<'_>) -> Result<(), Error> {
        each!(self, s => s.line(line))
    }

    fn pause(&mut self) -> Result<(), Error> {
        each!(self, s => s.pause())
    }

    fn idle(&mut self) -> Result<(), Error> {
        each!(self, s => s.idle())
    }

    fn end_of_input(&mut self, node: u32) {
        each!(self, s => s.end_of_input(node))
    }

    fn notice(&mut self, text: &str) {
        each!(self, s => s.notice(text))
    }

    fn node_state(&mut self, node: u32, state: NodeState) {
        each!(self, s => s.node_state(node, state))
    }

    fn finish(self, warn: &mut dyn Write) -> Result<(), Error> {
        each!(self, s => s.finish(warn))
    }
}
