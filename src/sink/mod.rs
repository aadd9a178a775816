//! Where decoded commands go: the one interface the pipeline writes to, and the report sink for a
//! whole input. The rolling report ([`crate::sink::rolling`]) and the records ([`crate::sink::records`]) are
//! the other two.
//!
//! The pipeline hands over every line once, finished ([`Sink::line`]): it is placed in time
//! ([`Sink::at`]), counted in [`Sink::tally`], and a command that passed the filters goes to
//! [`Sink::command`]; a sink decides what to count and when to write. Report
//! sinks count key accesses on a second core ([`crate::count::offload`]): the key tables are the
//! costliest part of a report, and the parsing thread goes on meanwhile.

pub mod records;
pub mod rolling;

use std::io::Write;

use crate::cli::config::Format;
use crate::count::name::Name;
use crate::count::nodes::{NodeState, Nodes};
use crate::count::offload::Offload;
use crate::count::stats::{key_shares, Settings, Stats, Tally};
use crate::count::window::Frame;
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::outcome::{Is, Outcome};
use crate::pipeline::redact::Secrets;
use crate::report::screen::Screen;
use crate::report::{self, Report, View};

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
    #[inline]
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

/// Writes reports in the configured format, flushing each, so rolling reports show at once.
pub struct Reporter<W: Write> {
    out: W,
    format: Format,
    hot_qps: Option<f64>,
    labels: Labels,
    /// Each input's state and latest command.
    nodes: Nodes,
    /// Reports are drawn in place on a terminal (see [`crate::report::screen`]).
    screen: Option<Box<Screen>>,
    /// A notice is on the screen until the next command.
    noticed: bool,
    /// Text goes to a terminal: a report of the whole input ends with its hottest keys.
    terminal: bool,
}

impl<W: Write> Reporter<W> {
    pub fn new(out: W, format: Format, hot_qps: Option<f64>, labels: Labels) -> Reporter<W> {
        Reporter {
            out,
            format,
            hot_qps,
            labels,
            nodes: Nodes::default(),
            screen: None,
            noticed: false,
            terminal: false,
        }
    }

    /// This reporter draws its reports on a live screen (its input a terminal's standard input
    /// when `stdin`).
    pub fn on_screen(self, stdin: bool) -> Reporter<W> {
        let screen = if stdin { Screen::new().reading_a_terminal() } else { Screen::new() };
        Reporter { screen: Some(Box::new(screen)), ..self }
    }

    /// This reporter writes to a terminal.
    pub fn on_terminal(self) -> Reporter<W> {
        Reporter { terminal: true, ..self }
    }

    /// What the reading layer says of input `node`.
    pub fn node_state(&mut self, node: u32, state: NodeState) {
        self.nodes.set(node, state);
    }

    /// A notice that stays on the screen until the next command.
    pub fn notice(&mut self, text: &str) {
        if let Some(screen) = &mut self.screen {
            screen.notice(text);
            self.noticed = true;
        }
    }

    /// A live input is quiet: the screen says it is waiting, or since when nothing came.
    pub fn idle(&mut self, tally: &Tally, quiet: Option<std::time::Instant>) -> Result<(), Error> {
        match &mut self.screen {
            Some(screen) => screen.idle(&mut self.out, tally, quiet).map_err(Error::Write),
            None => Ok(()),
        }
    }

    /// The input paused: the screen is redrawn when it is a second old.
    pub fn paused(&mut self, tally: &Tally) -> Result<(), Error> {
        match &mut self.screen {
            Some(screen) => screen.paused(&mut self.out, tally).map_err(Error::Write),
            None => Ok(()),
        }
    }

    /// Learns the node label of a command, if it has one.
    #[inline]
    pub fn learn(&mut self, cmd: &Command<'_>) {
        if let Some(label) = cmd.node_label {
            self.labels.learn(cmd.node, label);
        }
        self.nodes.seen(cmd.node, cmd.header.micros);
        if self.noticed {
            self.noticed = false;
            if let Some(screen) = &mut self.screen {
                screen.clear_notice();
            }
        }
    }

    /// Writes the report of `stats`; a rolling report's `frame` says what else it shows.
    pub fn write(&mut self, stats: &Stats, frame: Option<&Frame<'_>>) -> Result<(), Error> {
        let view = View {
            window: frame.map(|f| f.window),
            hot_qps: self.hot_qps,
            nodes: self.labels.shown(),
            periods: frame.map_or(&[][..], |f| &f.periods[..]),
            seconds: frame.map_or(&[][..], |f| &f.seconds[..]),
            recent: frame.and_then(|f| f.recent),
            every: frame.map(|f| f.every),
            key_rows: self.screen.as_ref().map(|_| crate::report::screen::terminal_size().1),
            inputs: Some(&self.nodes),
        };
        let report = Report::new(stats, &view);
        if let Some(screen) = &mut self.screen {
            return screen.report(&mut self.out, report).map_err(Error::Write);
        }
        let mut text = match self.format {
            Format::Text => report::text(&report),
            Format::Json => report::json(&report),
        };
        if self.terminal && self.format == Format::Text && frame.is_none() {
            // The hot keys last, in view when the report has scrolled past.
            text.push_str(&report::summary(&report));
        }
        text.push('\n');
        self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush()).map_err(Error::Write)
    }
}

/// Node labels by node number, for the report; shown when the inputs name nodes or the records
/// read back do. Each is kept as a [`Name`]: a label of a mebibyte costs its head.
pub struct Labels {
    labels: Vec<Name>,
    /// Which numbers have their label.
    known: Vec<bool>,
    named: bool,
}

impl Labels {
    /// The inputs' labels, when they name nodes.
    pub fn new(inputs: Option<Vec<Vec<u8>>>) -> Labels {
        let labels: Vec<Name> = inputs.as_deref().unwrap_or_default().iter().map(|l| Name::new(l)).collect();
        Labels { named: inputs.is_some(), known: vec![true; labels.len()], labels }
    }

    /// A node's label: the first said is kept (the decoder gives each number one label).
    #[inline]
    fn learn(&mut self, node: u32, label: &[u8]) {
        let node = node as usize;
        self.named = true;
        if self.known.get(node) == Some(&true) {
            return;
        }
        if node >= self.labels.len() {
            self.labels.resize(node + 1, Name::default());
            self.known.resize(node + 1, false);
        }
        self.labels[node] = Name::new(label);
        self.known[node] = true;
    }

    fn shown(&self) -> Option<&[Name]> {
        self.named.then_some(&self.labels[..])
    }
}

/// One report at the end of the input.
pub struct WholeReport<W: Write> {
    stats: Stats,
    keys: Offload,
    reporter: Reporter<W>,
}

impl<W: Write> WholeReport<W> {
    pub fn new(settings: Settings, reporter: Reporter<W>) -> WholeReport<W> {
        WholeReport { keys: Offload::spawn(settings.clone()), stats: Stats::new(settings), reporter }
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
        let keys = &mut self.keys;
        key_shares(cmd, |key, access, share, reply| keys.push(key, access, share, reply, cmd.node));
        Ok(())
    }

    fn end_of_input(&mut self, node: u32) {
        self.stats.end_of_input(node);
    }

    fn node_state(&mut self, node: u32, state: NodeState) {
        self.reporter.node_state(node, state);
    }

    fn finish(mut self, _warn: &mut dyn Write) -> Result<(), Error> {
        let settings = self.stats.settings.clone();
        self.stats.per_key = self.keys.take(&settings);
        self.reporter.write(&self.stats, None)
    }
}
