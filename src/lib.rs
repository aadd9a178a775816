//! faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream.
//!
//! Data flows one way: bytes ([`input`]) → lines → a parsed command borrowing the line
//! ([`monitor`]) → its keys ([`commands`]) → the filters ([`filters`]) → one sink: the report's
//! counters ([`stats`], per period in [`window`], shown by [`report`]) or the record writer
//! ([`records`]).

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod counter;
pub mod escape;
pub mod filters;
pub mod flags;
pub mod glob;
pub mod input;
pub mod monitor;
pub mod notices;
pub mod offload;
pub mod output;
pub mod records;
pub mod redact;
pub mod report;
pub mod scan;
pub mod signal;
pub mod stats;
pub mod window;

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use bstr::ByteSlice;

use cli::{Config, Format};
use commands::{KeyRef, Lookup, NameCache, Table};
use filters::Filters;
use input::{Event, Failed, Feed, LineReader};
use monitor::{Line, Parser};
use records::RecordWriter;
use redact::Secrets;
use report::View;
use stats::{Seen, Settings, Stats};
use window::{Window, Windows};

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// An input could not be opened or read.
    Read { name: String, err: io::Error },
    /// The output could not be written.
    Write(io::Error),
    /// The rejects file could not be created or written.
    Rejects { name: String, err: io::Error },
    /// The command line asks for something that cannot be done safely (exit status 2).
    Usage(String),
}

impl Error {
    /// True when the reader of the output went away (`| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// True when Ctrl-C or SIGTERM ended a write the output could not take.
    pub fn is_stopped(&self) -> bool {
        matches!(self, Error::Write(e) if output::is_stopped(e))
    }

    /// The exit status for this error: 2 for a usage error, 1 otherwise.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { name, err } => write!(f, "reading {name}: {err}"),
            Error::Write(err) => write!(f, "writing output: {err}"),
            Error::Rejects { name, err } => write!(f, "writing rejects to {name}: {err}"),
            Error::Usage(message) => f.write_str(message),
        }
    }
}

/// The most node labels kept (records read back can name any number).
const MAX_NODES: usize = 1024;

/// How often a live input that is silent is looked at (idle windows, Ctrl-C).
const TICK: Duration = Duration::from_millis(250);

/// One input: a file (or `-`), and the node it is labelled with (`NAME=PATH`).
struct Input {
    path: OsString,
    label: Option<String>,
}

impl Input {
    /// `NAME=PATH` labels an input, unless a file of that whole name exists.
    fn parse(arg: &OsString) -> Input {
        if let Some((name, path)) = arg.to_str().and_then(|a| a.split_once('=')) {
            let plausible = !name.is_empty() && !name.contains('/') && !path.is_empty();
            if plausible && !std::path::Path::new(arg).exists() {
                return Input { path: path.into(), label: Some(name.to_string()) };
            }
        }
        Input { path: arg.clone(), label: None }
    }

    /// The node label: the given name, or the file's name.
    fn node(&self) -> String {
        match &self.label {
            Some(label) => label.clone(),
            None if self.path == "-" => "stdin".to_string(),
            None => std::path::Path::new(&self.path)
                .file_name()
                .map_or_else(|| self.path.to_string_lossy(), |n| n.to_string_lossy())
                .into_owned(),
        }
    }

    fn name(&self) -> String {
        if self.path == "-" {
            "standard input".to_string()
        } else {
            self.path.to_string_lossy().into_owned()
        }
    }
}

/// Runs the whole filter over the configured inputs, writing to `out` and warnings to `warn`.
pub fn run<W: Write>(config: &Config, out: W, warn: &mut dyn Write) -> Result<(), Error> {
    let stdin_only = [OsString::from("-")];
    let args = if config.files.is_empty() { &stdin_only[..] } else { &config.files[..] };
    let inputs: Vec<Input> = args.iter().map(Input::parse).collect();
    if inputs.iter().filter(|i| i.path == "-").count() > 1 {
        return Err(Error::Usage("standard input ('-') can be read only once".into()));
    }
    if let Some(rejects) = &config.rejects {
        check_rejects(rejects, &inputs)?;
    }
    let mut session = Session::new(config, out)?;
    // Several inputs, or a named one: every record and report says which node it is from.
    if inputs.len() > 1 || inputs.iter().any(|i| i.label.is_some()) {
        session.pipeline.node_columns = Some(true);
        for input in &inputs {
            // Inputs keep their numbers even when two share a label.
            let label = input.node().into_bytes();
            session.pipeline.label_index.entry(label.clone()).or_insert(session.pipeline.labels.len() as u32);
            session.pipeline.labels.push(label);
        }
        session.feed_all(&inputs, warn)?;
        return session.finish(warn);
    }
    for file in args {
        if signal::stopped() {
            break;
        }
        if file == "-" {
            // A live stream (not a file redirected to stdin) gets a clock of its own.
            let live = !stdin_is_a_file();
            session.live = live;
            session.feed("standard input", Feed::spawn(io::stdin(), live.then_some(TICK)), warn)?;
        } else if is_live(file) {
            // A FIFO or a pipe (`<(redis-cli monitor)`): live, exactly as standard input is. It
            // is opened on the reading thread: opening a FIFO waits for its writer.
            let name = file.to_string_lossy();
            session.live = true;
            session.feed(&name, Feed::open(file.into(), Some(TICK)), warn)?;
        } else {
            let name = file.to_string_lossy();
            let input = File::open(file).map_err(|err| Error::Read { name: name.to_string(), err })?;
            session.live = false;
            if config.emit.is_some() {
                // Records: reading ahead on another core keeps the one busy core parsing.
                session.feed(&name, Feed::spawn(input, None), warn)?;
            } else {
                // Reports: the second core counts keys; a reader thread would only compete.
                session.feed(&name, input, warn)?;
            }
        }
    }
    session.finish(warn)
}

fn stdin_is_a_file() -> bool {
    stdin_metadata().is_some_and(|m| m.is_file())
}

fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::fd::AsFd;
    io::stdin().as_fd().try_clone_to_owned().ok().and_then(|fd| File::from(fd).metadata().ok())
}

/// What the counts of a run are kept in.
enum Counts {
    /// One report for the whole input (also the line accounting of a records run).
    Whole(Stats),
    /// A report per period.
    Rolling(Windows),
}

impl Counts {
    fn current(&mut self) -> &mut Stats {
        match self {
            Counts::Whole(stats) => stats,
            Counts::Rolling(windows) => windows.current(),
        }
    }
}

/// Refuses a rejects file that would destroy data: one that is also an input, or an existing
/// file with something in it (a capture named by mistake: `--rejects capture.txt`).
fn check_rejects(path: &OsString, inputs: &[Input]) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let shown = escape::escaped(path.as_encoded_bytes());
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    let same = |m: &std::fs::Metadata| m.dev() == meta.dev() && m.ino() == meta.ino();
    let is_input = inputs.iter().any(|input| {
        if input.path == "-" {
            stdin_metadata().is_some_and(|m| same(&m))
        } else {
            std::fs::metadata(&input.path).is_ok_and(|m| same(&m))
        }
    });
    if is_input {
        return Err(Error::Usage(format!("--rejects: '{shown}' is also an input: name another file")));
    }
    if meta.is_file() && meta.len() > 0 {
        return Err(Error::Usage(format!(
            "--rejects: '{shown}' exists and is not empty: refusing to overwrite it (remove it, or name another file)"
        )));
    }
    Ok(())
}

fn is_live(path: &OsString) -> bool {
    if path == "-" {
        return !stdin_is_a_file();
    }
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// Where parsed commands go.
enum Sink<W: Write> {
    Report(W),
    Records(RecordWriter<W>),
}

/// Writes reports in the configured format, flushing each, so rolling reports show at once.
struct Reporter {
    format: Format,
    hot_qps: Option<f64>,
}

impl Reporter {
    fn write(
        &self,
        out: &mut impl Write,
        stats: &Stats,
        window: Option<Window>,
        nodes: Option<&[Vec<u8>]>,
    ) -> Result<(), Error> {
        let view = View { window, hot_qps: self.hot_qps, nodes };
        let mut text = match self.format {
            Format::Text => report::text(stats, &view),
            Format::Json => report::json(stats, &view),
        };
        text.push('\n');
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Write)
    }
}

/// One run: inputs are fed in order, then [`Session::finish`] writes the last report.
pub struct Session<W: Write> {
    sink: Sink<W>,
    counts: Counts,
    pipeline: Pipeline,
    reporter: Reporter,
    reader: LineReader,
    /// The input being fed is a live stream: idle periods are closed by the clock.
    live: bool,
}

impl<W: Write> Session<W> {
    /// Prepares a run writing to `out` (and creates the rejects file, if asked for).
    pub fn new(config: &Config, out: W) -> Result<Self, Error> {
        let rejects = match &config.rejects {
            Some(path) => {
                let name = path.to_string_lossy().into_owned();
                // Rejected lines may hold what redaction cannot recognise: for the owner only.
                use std::os::unix::fs::OpenOptionsExt;
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|err| Error::Rejects { name: name.clone(), err })?;
                Some((BufWriter::new(file), name))
            }
            None => None,
        };
        let sink = match config.emit {
            Some(emit) => Sink::Records(RecordWriter::new(out, emit)),
            None => Sink::Report(out),
        };
        let settings = Settings {
            top: config.top,
            prefix_delimiter: config.prefix_delimiter.clone(),
            prefix_depth: config.prefix_depth,
            gap_rule: config.gap_rule,
            max_keys: config.max_keys,
        };
        let mut counts = match config.every {
            Some(every) if config.emit.is_none() => {
                Counts::Rolling(Windows::new(every, config.window.unwrap_or(every), settings))
            }
            _ => Counts::Whole(Stats::new(settings)),
        };
        if config.emit.is_none() {
            // Reports count keys on the second core.
            counts.current().offload();
        }
        let pipeline = Pipeline {
            parser: Parser::new(),
            table: Table::shared(),
            names: NameCache::default(),
            keys: Vec::new(),
            name: Vec::new(),
            redact: config.redact,
            secrets: Secrets::default(),
            filters: config.filters.clone(),
            rejects,
            scratch: Vec::new(),
            server_errors: notices::ServerErrors::default(),
            pasted: 0,
            clock: None,
            labels: Vec::new(),
            label_index: std::collections::HashMap::new(),
            node: 0,
            node_columns: None,
        };
        let reporter = Reporter { format: config.format, hot_qps: config.hot_qps };
        Ok(Session { sink, counts, pipeline, reporter, reader: LineReader::new(), live: false })
    }

    /// Reads one input to its end; `name` names it in errors.
    pub fn feed<R: io::Read>(&mut self, name: &str, input: R, warn: &mut dyn Write) -> Result<(), Error> {
        let Session { sink, counts, pipeline, reporter, reader, live } = self;
        let live = *live;
        let result = reader.read_all(input, |event| pipeline.event(event, live, counts, sink, reporter, warn));
        counts.current().end_of_input();
        match result {
            Ok(()) => Ok(()),
            Err(Failed::Read(err)) => Err(Error::Read { name: name.to_string(), err }),
            Err(Failed::Consumer(err)) => Err(err),
        }
    }

    /// Reads several inputs at once, each on a thread of its own, so that one stalled stream
    /// never holds up the others; lines are taken in the order they arrive.
    fn feed_all(&mut self, inputs: &[Input], warn: &mut dyn Write) -> Result<(), Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(2 * inputs.len() + 2);
        for (node, input) in inputs.iter().enumerate() {
            let reader: Box<dyn io::Read + Send> = if input.path == "-" {
                Box::new(io::stdin())
            } else {
                Box::new(File::open(&input.path).map_err(|err| Error::Read { name: input.name(), err })?)
            };
            input::spawn_lines(node, reader, tx.clone());
        }
        drop(tx);
        self.live = inputs.iter().any(|i| is_live(&i.path));
        let tick = if self.live { TICK } else { Duration::from_secs(3600) };
        let Session { sink, counts, pipeline, reporter, live, .. } = self;
        let live = *live;
        let mut open = inputs.len();
        while open > 0 && !signal::stopped() {
            let batch = match rx.recv_timeout(tick) {
                Ok(batch) => batch,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    pipeline.event(Event::Idle, live, counts, sink, reporter, warn)?;
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match batch {
                input::Batch::Lines { node, data } => {
                    pipeline.node = node as u32;
                    let plain = data.find_byteset(b"\r\t").is_none();
                    let mut rest = &data[..];
                    while !rest.is_empty() {
                        let end = rest.find_byte(b'\n').map_or(rest.len(), |at| at + 1);
                        let event = Event::Line { line: &rest[..end], cut: false, dropped: 0, plain };
                        pipeline.event(event, live, counts, sink, reporter, warn)?;
                        rest = &rest[end..];
                    }
                    pipeline.event(Event::Pause, live, counts, sink, reporter, warn)?;
                }
                input::Batch::Cut { node, head, dropped } => {
                    pipeline.node = node as u32;
                    let event = Event::Line { line: &head, cut: true, dropped, plain: false };
                    pipeline.event(event, live, counts, sink, reporter, warn)?;
                }
                input::Batch::Done { node, result } => {
                    open -= 1;
                    result.map_err(|err| Error::Read { name: inputs[node].name(), err })?;
                }
            }
        }
        Ok(())
    }

    /// Ends the run: writes the (last) report or flushes the records, and the closing warnings.
    pub fn finish(mut self, warn: &mut dyn Write) -> Result<(), Error> {
        if let Some((mut file, name)) = self.pipeline.rejects.take() {
            file.flush().map_err(|err| Error::Rejects { name, err })?;
        }
        self.pipeline.server_errors.finish(warn);
        let (commands, skipped) = match &self.counts {
            Counts::Whole(s) => (s.commands, s.skipped),
            // Only the last period is at hand: enough to tell "no command at all".
            Counts::Rolling(w) => (u64::from(w.period_end().is_some()), 0),
        };
        if commands == 0 && self.pipeline.pasted > 0 && self.pipeline.pasted * 2 >= skipped {
            let _ = writeln!(
                warn,
                "faina-filter: the input looks like the reply to another command (INFO, KEYS, …), not MONITOR output"
            );
        }
        let nodes = self.pipeline.nodes();
        match (self.sink, &mut self.counts) {
            (Sink::Report(mut out), Counts::Whole(stats)) => {
                stats.sync();
                self.reporter.write(&mut out, stats, None, nodes)?
            }
            (Sink::Report(mut out), Counts::Rolling(windows)) => {
                let reporter = &self.reporter;
                windows.finish(&mut |stats: &Stats, window: &Window| {
                    reporter.write(&mut out, stats, Some(*window), nodes)
                })?;
            }
            (Sink::Records(mut writer), counts) => {
                writer.flush().map_err(Error::Write)?;
                let stats = counts.current();
                // Records carry no counts of what was not a command: say it once, so nothing is
                // lost silently.
                if stats.skipped > 0 {
                    let _ = writeln!(
                        warn,
                        "faina-filter: {} of {} lines were not MONITOR lines and were skipped",
                        stats.skipped, stats.lines
                    );
                }
                if stats.cut_lines > 0 {
                    let _ = writeln!(
                        warn,
                        "faina-filter: {} lines were over 1 MiB: their records hold only the arguments that fit",
                        stats.cut_lines
                    );
                }
            }
        }
        Ok(())
    }
}

/// The per-line work: parse, find the command and its keys, filter, hand them to the sink.
struct Pipeline {
    parser: Parser,
    table: &'static Table,
    names: NameCache,
    keys: Vec<KeyRef>,
    /// The lower-cased name of an unknown command.
    name: Vec<u8>,
    redact: bool,
    secrets: Secrets,
    filters: Filters,
    rejects: Option<(BufWriter<File>, String)>,
    /// A rejected line with its credentials redacted.
    scratch: Vec<u8>,
    server_errors: notices::ServerErrors,
    /// Skipped lines that look like another command's reply (INFO, KEYS *) pasted by mistake.
    pasted: u64,
    /// The last command's timestamp and when it arrived, to tell the time of a live stream.
    clock: Option<(u64, Instant)>,
    /// Node labels, by node number: the inputs', then those records read back name.
    labels: Vec<Vec<u8>>,
    label_index: std::collections::HashMap<Vec<u8>, u32>,
    /// The node of the input being read.
    node: u32,
    /// Whether records carry a node column; decided by the first command when not set.
    node_columns: Option<bool>,
}

impl Pipeline {
    /// The node labels to show, when records name nodes.
    fn nodes(&self) -> Option<&[Vec<u8>]> {
        (self.node_columns == Some(true)).then_some(&self.labels[..])
    }

    /// The number of a node label, added when new. Records read back may name any number of
    /// nodes; past [`MAX_NODES`] they are all counted as one, `(other nodes)`.
    fn node_of(&mut self, label: &[u8]) -> u32 {
        if let Some(&n) = self.label_index.get(label) {
            return n;
        }
        let label: &[u8] = if self.labels.len() + 1 >= MAX_NODES { b"(other nodes)" } else { label };
        if let Some(&n) = self.label_index.get(label) {
            return n;
        }
        self.labels.push(label.to_vec());
        let n = (self.labels.len() - 1) as u32;
        self.label_index.insert(label.to_vec(), n);
        n
    }

    fn event<W: Write>(
        &mut self,
        event: Event<'_>,
        live: bool,
        counts: &mut Counts,
        sink: &mut Sink<W>,
        reporter: &Reporter,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let (line, cut, dropped, plain) = match event {
            Event::Line { line, cut, dropped, plain } => (line, cut, dropped, plain),
            Event::Pause => {
                return match sink {
                    Sink::Records(writer) => writer.flush().map_err(Error::Write),
                    Sink::Report(_) => Ok(()),
                }
            }
            Event::Idle => return self.idle(live, counts, sink, reporter),
        };
        self.line(line, cut, dropped, plain, live, counts, sink, reporter, warn)
    }

    /// A live stream went quiet: report the periods its clock has run past.
    fn idle<W: Write>(
        &mut self,
        live: bool,
        counts: &mut Counts,
        sink: &mut Sink<W>,
        reporter: &Reporter,
    ) -> Result<(), Error> {
        let (Counts::Rolling(windows), Sink::Report(out), true, Some((micros, at))) = (counts, sink, live, self.clock)
        else {
            return Ok(());
        };
        // The stream's time now, read off the last timestamp and the time since it came.
        let now = micros + at.elapsed().as_micros() as u64;
        let nodes = self.nodes();
        while windows.period_end().is_some_and(|end| now >= end + TICK.as_micros() as u64) {
            windows.close(&mut |stats: &Stats, window: &Window| reporter.write(out, stats, Some(*window), nodes))?;
        }
        Ok(())
    }

    /// One line: parsed, accounted for, and handed on if it is a command that passes.
    #[allow(clippy::too_many_arguments)]
    fn line<W: Write>(
        &mut self,
        line: &[u8],
        cut: bool,
        dropped: u64,
        plain: bool,
        live: bool,
        counts: &mut Counts,
        sink: &mut Sink<W>,
        reporter: &Reporter,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let parsed = self.parser.parse_line(line, cut, !plain);
        if let Line::Command(header) = &parsed {
            if self.node_columns.is_none() {
                // A stream of records read back decides by its first one whether nodes are named.
                self.node_columns = Some(header.node.is_some());
            }
        }
        if let (Line::Command(header), Counts::Rolling(windows), Sink::Report(out)) =
            (&parsed, &mut *counts, &mut *sink)
        {
            let nodes = self.nodes();
            windows.advance_to(header.micros, &mut |stats: &Stats, window: &Window| {
                reporter.write(out, stats, Some(*window), nodes)
            })?;
            if live {
                self.clock = Some((header.micros, Instant::now()));
            }
        }
        let stats = counts.current();
        stats.lines += 1;
        stats.cut_lines += u64::from(cut);
        let header = match parsed {
            Line::Command(header) => header,
            Line::Noise => {
                stats.noise += 1;
                return Ok(());
            }
            Line::Skipped => {
                stats.skipped += 1;
                self.pasted += u64::from(monitor::looks_like_a_reply(line));
                if let Some((file, name)) = &mut self.rejects {
                    let written = if self.redact {
                        self.scratch.clear();
                        redact::redact_loose(line, &mut self.scratch);
                        file.write_all(&self.scratch)
                    } else {
                        file.write_all(line)
                    };
                    written.map_err(|err| Error::Rejects { name: name.clone(), err })?;
                }
                return Ok(());
            }
            Line::ServerError(message) => {
                stats.noise += 1;
                stats.server_errors += 1;
                self.server_errors.seen(message, warn);
                return Ok(());
            }
        };
        let node = match header.node {
            Some(label) => self.node_of(label),
            None => self.node,
        };
        let parser = &self.parser;
        let argc = parser.len();
        let arg = |i: usize| parser.arg(line, i);
        let found = self.names.lookup(self.table, arg(0), (argc > 1).then(|| arg(1)));
        let command: &[u8] = match found {
            Lookup::Known(id, _) => self.table.get(id).name.as_bytes(),
            Lookup::Unknown => {
                self.name.clear();
                self.name.extend(arg(0).iter().map(u8::to_ascii_lowercase));
                &self.name
            }
        };
        self.keys.clear();
        // Only tsv records without a key filter can do without the keys.
        let needs_keys =
            !matches!(sink, Sink::Records(w) if w.emit() == records::Emit::Tsv) || !self.filters.keys.is_empty();
        if needs_keys {
            self.table.keys(found, argc, arg, &mut self.keys);
        }
        let passes = self.filters.is_empty()
            || (self.filters.command_passes(header.db, header.client, command)
                && self.filters.retain_keys(&mut self.keys, arg));
        if !passes {
            stats.filtered += 1;
            return Ok(());
        }
        stats.unknown_commands += u64::from(found == Lookup::Unknown);
        let secrets = if self.redact { self.secrets.find(command, argc, arg) } else { &self.secrets };
        match sink {
            Sink::Records(writer) => {
                stats.commands += 1;
                let label = match self.node_columns {
                    Some(true) => self.labels.get(node as usize).map(Vec::as_slice),
                    _ => None,
                };
                writer.command(label, &header, command, argc, arg, &self.keys, secrets).map_err(Error::Write)
            }
            Sink::Report(_) => {
                // A cut line's size adds its last argument's head and the dropped tail, as written
                // (escaped, less the closing quote).
                let bytes = (1..argc).map(|i| arg(i).len() as u64).sum::<u64>()
                    + if cut { (parser.lost_bytes() as u64 + dropped).saturating_sub(1) } else { 0 };
                stats.command(&Seen {
                    timestamp: header.ts,
                    micros: header.micros,
                    client: header.client,
                    command,
                    command_id: match found {
                        Lookup::Known(id, _) => Some(id),
                        Lookup::Unknown => None,
                    },
                    keys: &self.keys,
                    arg: &arg,
                    argc,
                    bytes,
                    node,
                    secrets,
                });
                Ok(())
            }
        }
    }
}
