//! faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream.
//!
//! Data flows one way, and the folders are its stages: the inputs' bytes are split into lines
//! ([`read`]) — or, for a packet capture, into the requests its packets carry — each line is
//! parsed by its wire format ([`format`](mod@format)) and decoded into a command with its keys
//! by the command table ([`commands`]), then accounted for, filtered and redacted
//! ([`pipeline`](mod@pipeline)), and handed to one sink ([`sink`]): the report of the whole
//! input, a report per period, or the records. Report sinks count keys ([`count`]) and write the
//! report ([`report`]); the report of one large regular file is read in ranges, one per core,
//! and their counts joined ([`sink::split`]), and its records are made on every core a chunk at
//! a time and written in file order ([`sink::chunked`]). [`sys`] holds the process's edges (signals,
//! standard output), [`cli`] turns arguments into a [`cli::Plan`]
//! (parsed, checked, what the flags name read), which [`run`] runs.
//!
//! ```text
//! Inputs::read ──lines──▶ Pipeline::line ──Command──▶ Sink (report │ rolling report │ records)
//! ```

// The crate documents its private modules for the people who work on it
// (`cargo doc --document-private-items`): links into them are meant.
#![allow(rustdoc::private_intra_doc_links)]

// The stages a line passes through, in order; each imports only from the ones below it.
pub mod cli;
pub mod commands;
mod count;
mod error;
mod format;
mod pipeline;
mod read;
mod report;
mod sink;
mod sys;

// The public surface: what main.rs, the tests (tests/it) and the fuzz targets (fuzz/) use, and
// nothing else.
// - main.rs: `cli` (parse, Action, resolve, help, MANUAL), `run`, `Error`, `signal` (install, Stop,
//   exit_status), `output` (Stdout, was_closed), `escape::controls_escaped`.
// - tests: `cli` (parse, Action, resolve, Config, doc::man_options, MANUAL), `flags` (FLAGS,
//   long), `run`, `Error`, `signal::Stop`, `escape` (escaped, unescape), `monitor` (Parser, Line,
//   Args, ArgsStore), `commands` (Table, KeySpec, Begin, Find, Access, Lookup, server::load),
//   `cluster::slot`.
// - fuzz: `cli` (parse, Action, resolve), `Session` (new, feed, feed_small_lines, finish), `Error`,
//   `signal::Stop`, `escape`, `monitor`, `commands` (Table, server).
pub use cli::flags;
pub use count::cluster;
pub use error::Error;
pub use format::{escape, monitor};
pub use sys::{output, signal};

use std::io::{Read, Write};

use cli::config::{Emit, ReportFormat};
use cli::Plan;
use count::nodes::NodeState;
use count::stats::Settings;
use pipeline::decode::{Decoder, NodeNumbers};
use pipeline::{Pipeline, Rejects};
use read::connect::{Change, ConnectState};
use read::input::{self, Event};
use read::lines::{Failed, LineReader};
use read::sources::{sniff, Content};
use sink::any::AnySink;
use sink::labels::Labels;
use sink::records::Records;
use sink::reporter::Reporter;
use sink::rolling::RollingReport;
use sink::whole::WholeReport;
use sink::Sink;

/// Runs the whole filter over the planned inputs, writing to `out` and warnings to `warn`.
pub fn run<W: Write>(mut plan: Plan, out: W, warn: &mut dyn Write) -> Result<(), Error> {
    if let Some(limit) = plan.config.duration {
        signal::end_after(std::time::Duration::from_micros(limit));
    }
    if plan.reads_a_terminal {
        // Nothing else would say why nothing happens.
        let _ = writeln!(
            warn,
            "faina-filter: reading standard input (a terminal): pipe a MONITOR stream in, or name a capture; Ctrl-D ends it"
        );
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut session = Session::on_terminal(&plan, out, plan.inputs.labels(), terminal)?;
    // A report of one large regular file reads it on every core, a range each, and its records
    // are made on every core, a chunk each; reports of anything else count keys on the second
    // core, and a single file is read on this one.
    let split = session.read_ranges(&plan, warn).or_else(|| session.emit_in_chunks(&plan, warn));
    let in_place = plan.config.emit.is_none();
    let read = match split {
        Some(read) => read,
        None => plan.inputs.read(in_place, |event| session.event(event, warn)),
    };
    let inputs = &plan.inputs;
    match read {
        Ok(()) if inputs.none_read() && !inputs.stop.requested() => Err(Error::NothingRead),
        Ok(()) => session.finish(warn),
        Err(Failed::Read(i, err)) => Err(Error::Read { name: inputs.list[i].name(), err }),
        Err(Failed::Consumer(err)) => Err(err),
    }
}

/// What the report's counters keep, as the flags say.
fn settings(plan: &Plan) -> Settings {
    let config = &plan.config;
    Settings {
        commands: plan.table.clone(),
        top: config.top,
        prefix_delimiter: config.prefix_delimiter.clone(),
        prefix_depth: config.prefix_depth,
        gap_rule: config.gap_rule,
        max_keys: config.max_keys,
    }
}

/// The per-line steps of a run whose inputs' labels are `nodes`.
fn pipeline(plan: &Plan, nodes: Option<Vec<Vec<u8>>>, rejects: Option<Rejects>) -> Pipeline {
    let config = &plan.config;
    // Records of whole commands (tsv) need no keys.
    let keys = config.emit != Some(Emit::Tsv);
    let decoder = Decoder::new(plan.table.clone(), NodeNumbers::new(nodes));
    Pipeline::new(decoder, keys, config.filters.clone(), config.redact, rejects)
}

/// One run: events in, [`Session::finish`] writes what is left.
pub struct Session<W: Write> {
    pipeline: Pipeline,
    sink: AnySink<W>,
    /// The lines each server's reader has said it dropped so far, by node.
    dropped: Vec<u64>,
}

impl<W: Write> Session<W> {
    /// Prepares a run writing to `out` (and creates the rejects file, if asked for); `nodes` are
    /// the inputs' labels, when they name nodes.
    pub fn new(plan: &Plan, out: W, nodes: Option<Vec<Vec<u8>>>) -> Result<Self, Error> {
        Session::on_terminal(plan, out, nodes, false)
    }

    /// [`Session::new`] for an output that is a `terminal` when so: rolling reports are drawn
    /// on a live screen (unless `--no-screen`), and a text report ends with its hottest keys.
    pub fn on_terminal(plan: &Plan, out: W, nodes: Option<Vec<Vec<u8>>>, terminal: bool) -> Result<Self, Error> {
        let config = &plan.config;
        let screen = terminal && config.every.is_some() && config.format == ReportFormat::Text && !config.no_screen;
        let rejects = config.rejects.as_deref().map(Rejects::create).transpose()?;
        let settings = settings(plan);
        let reporter = |out| {
            let reporter = Reporter::new(out, config.format, config.hot_qps, Labels::new(nodes.clone()));
            match (screen, terminal) {
                (true, _) => reporter.on_screen(plan.reads_a_terminal, plan.stop),
                (false, true) => reporter.on_terminal(),
                (false, false) => reporter,
            }
        };
        let sink = match (config.emit, config.every) {
            (Some(emit), _) => AnySink::Records(Records::new(out, emit, config.header, nodes.is_some())?),
            (None, Some(every)) => {
                let window = config.window.unwrap_or(every);
                AnySink::Rolling(RollingReport::new(every, window, settings, reporter(out)))
            }
            (None, None) => AnySink::Whole(WholeReport::new(settings, reporter(out))),
        };
        let pipeline = pipeline(plan, nodes, rejects);
        Ok(Session { pipeline, sink, dropped: Vec::new() })
    }

    /// Reads the run's one input in ranges, each on a core of its own, when it is a regular file
    /// large enough and the run writes its report once ([`sink::split`]); `None` when it is read
    /// in one pass instead (nothing was read, or the ranges could not be joined).
    fn read_ranges(&mut self, plan: &Plan, warn: &mut dyn Write) -> Option<Result<(), Failed<Error>>> {
        let config = &plan.config;
        // --rejects writes skipped lines in input order, --duration ends a run by the clock.
        let once = config.emit.is_none() && config.every.is_none() && config.rejects.is_none();
        let AnySink::Whole(_) = &self.sink else { return None };
        let ([input], true, None) = (&plan.inputs.list[..], once, config.duration) else { return None };
        let cores = std::thread::available_parallelism().map_or(1, usize::from).min(read::ranges::MAX_RANGES);
        let read::ranges::Ranges { file, ranges } = read::ranges::of_file(input, cores).ok()??;
        let ranges = read::ranges::read_on(ranges);
        let nodes = plan.inputs.labels();
        let make = || pipeline(plan, nodes.clone(), None);
        let (pipeline, stats) = sink::split::count(&file, &ranges, make, &settings(plan), plan.stop, warn)?;
        self.pipeline = pipeline;
        if let AnySink::Whole(whole) = &mut self.sink {
            whole.counted(stats);
        }
        Some(self.event(Event::End(0), warn).map_err(Failed::Consumer))
    }

    /// Writes the records of the run's one input from every core, a chunk at a time, when it
    /// is a regular file large enough ([`sink::chunked`]); `None` when it is read in one pass.
    fn emit_in_chunks(&mut self, plan: &Plan, warn: &mut dyn Write) -> Option<Result<(), Failed<Error>>> {
        let config = &plan.config;
        // --rejects writes skipped lines in input order, --duration ends a run by the clock.
        let (Some(emit), [input], None, None) = (config.emit, &plan.inputs.list[..], &config.rejects, config.duration)
        else {
            return None;
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let Session { pipeline, sink: AnySink::Records(records), .. } = self else { return None };
        let read::ranges::Ranges { file, ranges } = read::ranges::of_file(input, cores).ok()??;
        let len = ranges.last()?.end;
        let chunks = read::ranges::read_on(read::ranges::chunks(&file, len, sink::chunked::CHUNK).ok()??);
        let nodes = plan.inputs.labels();
        let fresh = || self::pipeline(plan, nodes.clone(), None);
        let chunked = sink::chunked::Chunked { file: &file, chunks: &chunks, emit, cores, stop: plan.stop };
        let written = chunked.write(fresh, records, pipeline, warn);
        Some(written.and_then(|()| self.event(Event::End(0), warn).map_err(Failed::Consumer)))
    }

    /// One event of the inputs.
    #[inline]
    pub fn event(&mut self, event: Event<'_>, warn: &mut dyn Write) -> Result<(), Error> {
        match event {
            Event::Line(line) => self.pipeline.line(&line, &mut self.sink, warn),
            Event::Call(call) => self.pipeline.call(&call, &mut self.sink),
            Event::Notice(text) => {
                let _ = writeln!(warn, "faina-filter: {text}");
                Ok(())
            }
            Event::Pause => self.sink.pause(),
            Event::Idle => {
                self.pipeline.settle_all(&mut self.sink, warn)?;
                self.sink.idle()
            }
            Event::End(node) => {
                self.pipeline.settle(node, &mut self.sink, warn)?;
                self.sink.end_of_input(node);
                self.sink.node_state(node, NodeState::Ended);
                Ok(())
            }
            Event::Node(change) => {
                self.count_dropped(change);
                let text = format!("faina-filter: {change}");
                let _ = writeln!(warn, "{text}");
                if let Some(state) = change.node_state() {
                    self.sink.node_state(change.node, state);
                }
                // What stops a node's lines stays on a live screen until a command comes.
                if change.stops() {
                    self.sink.notice(&text);
                }
                Ok(())
            }
        }
    }

    /// Lines a server's reader dropped are counted in the tally (of the period under way) as
    /// they are told: each telling gives the node's count so far.
    fn count_dropped(&mut self, change: &Change) {
        let ConnectState::Dropped { lines, .. } = change.state else { return };
        let node = change.node as usize;
        if self.dropped.len() <= node {
            self.dropped.resize(node + 1, 0);
        }
        let told = &mut self.dropped[node];
        if lines > *told {
            self.sink.tally().dropped += lines - *told;
            *told = lines;
        }
    }

    /// Reads `input` to its end as the run's only input, on this thread.
    pub fn feed(&mut self, input: impl Read + Send, warn: &mut dyn Write) -> Result<(), Error> {
        self.feed_with(LineReader::new(), input, warn)
    }

    /// [`Session::feed`] with lines over 256 bytes compacted into copies of at most 4 KiB, so
    /// that small inputs take the long-line paths: for the fuzz targets.
    pub fn feed_small_lines(&mut self, input: impl Read + Send, warn: &mut dyn Write) -> Result<(), Error> {
        self.feed_with(LineReader::with_limit(256, 4096), input, warn)
    }

    fn feed_with(
        &mut self,
        mut reader: LineReader,
        input: impl Read + Send,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let (kind, input) = sniff(Box::new(input)).map_err(|err| Error::Read { name: "input".into(), err })?;
        let result = match kind {
            Content::Lines => reader.read_all(input, |piece| self.event(input::piece_event(0, piece), warn)),
            Content::Capture => {
                let stop = signal::Stop::never();
                input::read_capture(0, input, "input", &[], stop, &mut |event| self.event(event, warn))
            }
        };
        self.event(Event::End(0), warn)?;
        match result {
            Ok(()) => Ok(()),
            Err(Failed::Read(_, err)) => Err(Error::Read { name: "input".into(), err }),
            Err(Failed::Consumer(err)) => Err(err),
        }
    }

    /// Ends the run: the rejects and the closing warnings, then the last report (or the
    /// records' flush).
    pub fn finish(self, warn: &mut dyn Write) -> Result<(), Error> {
        self.pipeline.finish(warn)?;
        self.sink.finish(warn)
    }
}
