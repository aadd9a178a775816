//! The report of a whole input, written once at its end.

use std::io::Write;

use crate::count::nodes::NodeState;
use crate::count::offload::Offload;
use crate::count::stats::{key_shares, Settings, Stats, Tally};
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::redact::Secrets;
use crate::sink::reporter::Reporter;
use crate::sink::Sink;

/// One report at the end of the input.
pub struct WholeReport<W: Write> {
    stats: Stats,
    /// The key-counting thread; `None` once the counts come whole ([`WholeReport::counted`]).
    keys: Option<Offload>,
    reporter: Reporter<W>,
}

impl<W: Write> WholeReport<W> {
    pub fn new(settings: Settings, reporter: Reporter<W>) -> WholeReport<W> {
        WholeReport { keys: Some(Offload::spawn(settings.clone())), stats: Stats::new(settings), reporter }
    }
}

impl<W: Write> WholeReport<W> {
    /// Takes the counts of the whole input, keys included, counted elsewhere (a file read on
    /// every core: see [`crate::sink::split`]) in place of this sink's own.
    pub fn counted(&mut self, stats: Stats) {
        self.keys = None;
        if let Some(last) = stats.last {
            // A single input's latest command, as the reporter learns it command by command.
            self.reporter.seen(0, last.micros);
        }
        self.stats = stats;
    }
}

impl<W: Write> Sink for WholeReport<W> {
    fn tally(&mut self) -> &mut Tally {
        &mut self.stats.tally
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        self.reporter.learn(cmd);
        self.stats.command(cmd, secrets);
        if let Some(keys) = &mut self.keys {
            key_shares(cmd, |key, access, share, reply| keys.push(key, access, share, reply, cmd.node));
        }
        Ok(())
    }

    fn end_of_input(&mut self, node: u32) {
        self.stats.end_of_input(node);
    }

    fn node_state(&mut self, node: u32, state: NodeState) {
        self.reporter.node_state(node, state);
    }

    fn finish(mut self, _warn: &mut dyn Write) -> Result<(), Error> {
        if let Some(keys) = &mut self.keys {
            let settings = self.stats.settings.clone();
            self.stats.per_key = keys.take(&settings);
        }
        self.reporter.write(&self.stats, None)
    }
}
