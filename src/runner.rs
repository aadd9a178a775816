//! One run of the filter, as events come: the pipeline of the run's per-line steps and the sink
//! its commands go to (the report of the whole input, a report per period, or the records),
//! made from a [`Plan`]; a large regular file read on every core (its report in ranges, its
//! records in chunks); and the run's end, the last report written.

use std::io::{Read, Write};

use crate::cli::config::{Emit, ReportFormat};
use crate::cli::Plan;
use crate::count::nodes::NodeState;
use crate::count::stats::Settings;
use crate::error::Error;
use crate::pipeline::decode::{Decoder, NodeNumbers};
use crate::pipeline::{Pipeline, Rejects};
use crate::read::connect::{Change, ConnectState};
use crate::read::input::{self, Event};
use crate::read::lines::{Failed, LineReader};
use crate::read::sources::{sniff, Content};
use crate::sink::any::AnySink;
use crate::sink::labels::Labels;
use crate::sink::records::Records;
use crate::sink::reporter::Reporter;
use crate::sink::rolling::RollingReport;
use crate::sink::whole::WholeReport;
use crate::sink::Sink;

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
    /// large enough and the run writes its report once ([`crate::sink::split`]); `None` when it is read
    /// in one pass instead (nothing was read, or the ranges could not be joined).
    pub(crate) fn read_ranges(&mut self, plan: &Plan, warn: &mut dyn Write) -> Option<Result<(), Failed<Error>>> {
        let config = &plan.config;
        // --rejects writes skipped lines in input order, --duration ends a run by the clock.
        let once = config.emit.is_none() && config.every.is_none() && config.rejects.is_none();
        let AnySink::Whole(_) = &self.sink else { return None };
        let ([input], true, None) = (&plan.inputs.list[..], once, config.duration) else { return None };
        let cores = std::thread::available_parallelism().map_or(1, usize::from).min(crate::read::ranges::MAX_RANGES);
        let crate::read::ranges::Ranges { file, ranges } = crate::read::ranges::of_file(input, cores).ok()??;
        let ranges = crate::read::ranges::read_on(ranges);
        let nodes = plan.inputs.labels();
        let make = || pipeline(plan, nodes.clone(), None);
        let (pipeline, stats) = crate::sink::split::count(&file, &ranges, make, &settings(plan), plan.stop, warn)?;
        self.pipeline = pipeline;
        if let AnySink::Whole(whole) = &mut self.sink {
            whole.counted(stats);
        }
        Some(self.event(Event::End(0), warn).map_err(Failed::Consumer))
    }

    /// Writes the records of the run's one input from every core, a chunk at a time, when it
    /// is a regular file large enough ([`crate::sink::chunked`]); `None` when it is read in one pass.
    pub(crate) fn emit_in_chunks(&mut self, plan: &Plan, warn: &mut dyn Write) -> Option<Result<(), Failed<Error>>> {
        let config = &plan.config;
        // --rejects writes skipped lines in input order, --duration ends a run by the clock.
        let (Some(emit), [input], None, None) = (config.emit, &plan.inputs.list[..], &config.rejects, config.duration)
        else {
            return None;
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let Session { pipeline, sink: AnySink::Records(records), .. } = self else { return None };
        let crate::read::ranges::Ranges { file, ranges } = crate::read::ranges::of_file(input, cores).ok()??;
        let len = ranges.last()?.end;
        let chunks =
            crate::read::ranges::read_on(crate::read::ranges::chunks(&file, len, crate::sink::chunked::CHUNK).ok()??);
        let nodes = plan.inputs.labels();
        let fresh = || self::pipeline(plan, nodes.clone(), None);
        let chunked = crate::sink::chunked::Chunked { file: &file, chunks: &chunks, emit, cores, stop: plan.stop };
        let written = chunked.write(fresh, records, pipeline, warn);
        Some(written.and_then(|()| self.event(Event::End(0), warn).map_err(Failed::Consumer)))
    }

    /// One event of the inputs.
    // Always inlined into the reading loop: a line's event is then not a call of its own (its
    // frame and dispatch cost more than the pipeline's test of it); the others are out of line.
    #[inline(always)]
    pub fn event(&mut self, event: Event<'_>, warn: &mut dyn Write) -> Result<(), Error> {
        match event {
            Event::Line(line) => self.pipeline.line(&line, &mut self.sink, warn),
            other => self.other_event(other, warn),
        }
    }

    /// [`Session::event`] for everything but a line.
    #[inline(never)]
    fn other_event(&mut self, event: Event<'_>, warn: &mut dyn Write) -> Result<(), Error> {
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
                let stop = crate::sys::signal::Stop::never();
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
