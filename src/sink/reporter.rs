//! Writes reports: in the configured format, flushed one by one so rolling reports show at once,
//! or drawn in place on a live screen; it keeps what the reports say of the nodes (their labels,
//! states and latest commands).

use std::io::Write;

use crate::cli::config::ReportFormat;
use crate::count::nodes::{NodeState, Nodes};
use crate::count::stats::{Stats, Tally};
use crate::count::window::WindowFrame;
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::report::screen::Screen;
use crate::report::{self, Report, View};
use crate::sink::labels::Labels;
use crate::sys::signal::Stop;

/// Writes reports in the configured format, flushing each, so rolling reports show at once.
pub struct Reporter<W: Write> {
    out: W,
    format: ReportFormat,
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
    pub fn new(out: W, format: ReportFormat, hot_qps: Option<f64>, labels: Labels) -> Reporter<W> {
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
    pub fn on_screen(self, stdin: bool, stop: Stop) -> Reporter<W> {
        let screen = Screen::new().stopping(stop);
        let screen = if stdin { screen.reading_a_terminal() } else { screen };
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

    /// A command of `node` at `micros`, for a report whose commands it was not shown.
    pub fn seen(&mut self, node: u32, micros: u64) {
        self.nodes.seen(node, micros);
    }

    /// Writes the report of `stats`; a rolling report's `frame` says what else it shows.
    pub fn write(&mut self, stats: &Stats, frame: Option<&WindowFrame<'_>>) -> Result<(), Error> {
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
            ReportFormat::Text => report::text(&report),
            ReportFormat::Json => report::json(&report),
        };
        if self.terminal && self.format == ReportFormat::Text && frame.is_none() {
            // The hot keys last, in view when the report has scrolled past.
            text.push_str(&report::summary(&report));
        }
        text.push('\n');
        self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush()).map_err(Error::Write)
    }
}
