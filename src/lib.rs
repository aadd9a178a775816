//! faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream.
//!
//! Data flows one way: bytes ([`input`]) → lines → a parsed command borrowing the line
//! ([`monitor`]) → its keys ([`commands`]) → one sink: the report's counters ([`stats`], shown
//! by [`report`]) or the record writer ([`records`]).

pub mod cli;
pub mod commands;
pub mod counter;
pub mod escape;
pub mod input;
pub mod monitor;
pub mod records;
pub mod redact;
pub mod report;
pub mod stats;

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};

use bstr::ByteSlice;

use cli::{Config, Format};
use commands::{KeyRef, Lookup, Table};
use input::{Event, Failed, LineReader};
use monitor::{Line, Parser};
use records::RecordWriter;
use redact::Secrets;
use stats::{Seen, Settings, Stats};

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// An input could not be opened or read.
    Read { name: String, err: io::Error },
    /// The output could not be written.
    Write(io::Error),
    /// The rejects file could not be created or written.
    Rejects { name: String, err: io::Error },
}

impl Error {
    /// True when the reader of the output went away (`| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { name, err } => write!(f, "reading {name}: {err}"),
            Error::Write(err) => write!(f, "writing output: {err}"),
            Error::Rejects { name, err } => write!(f, "writing rejects to {name}: {err}"),
        }
    }
}

/// Where parsed commands go.
enum Sink<W: Write> {
    Report(W),
    Records(RecordWriter<W>),
}

/// Runs the whole filter over the configured inputs, writing to `out` and warnings to `warn`.
pub fn run<W: Write>(config: &Config, out: W, warn: &mut dyn Write) -> Result<(), Error> {
    let mut session = Session::new(config, out)?;
    let stdin_only = [OsString::from("-")];
    let files = if config.files.is_empty() { &stdin_only[..] } else { &config.files[..] };
    for file in files {
        if file == "-" {
            session.feed("standard input", io::stdin().lock(), warn)?;
        } else {
            let name = file.to_string_lossy();
            let input = File::open(file).map_err(|err| Error::Read { name: name.to_string(), err })?;
            session.feed(&name, input, warn)?;
        }
    }
    session.finish(warn)
}

/// One run: inputs are fed in order, then [`Session::finish`] writes the report.
pub struct Session<'c, W: Write> {
    config: &'c Config,
    sink: Sink<W>,
    stats: Stats,
    filter: Filter,
    reader: LineReader,
}

impl<'c, W: Write> Session<'c, W> {
    /// Prepares a run writing to `out` (and creates the rejects file, if asked for).
    pub fn new(config: &'c Config, out: W) -> Result<Self, Error> {
        let rejects = match &config.rejects {
            Some(path) => {
                let name = path.to_string_lossy().into_owned();
                let file = File::create(path).map_err(|err| Error::Rejects { name: name.clone(), err })?;
                Some((BufWriter::new(file), name))
            }
            None => None,
        };
        let sink = match config.emit {
            Some(emit) => Sink::Records(RecordWriter::new(out, emit)),
            None => Sink::Report(out),
        };
        let stats = Stats::new(Settings {
            top: config.top,
            prefix_delimiter: config.prefix_delimiter.clone(),
            prefix_depth: config.prefix_depth,
            gap_rule: config.gap_rule,
            max_keys: config.max_keys,
        });
        let filter = Filter {
            parser: Parser::new(),
            table: Table::builtin(),
            keys: Vec::new(),
            name: Vec::new(),
            redact: config.redact,
            secrets: Secrets::default(),
            rejects,
            pasted: 0,
        };
        Ok(Session { config, sink, stats, filter, reader: LineReader::new() })
    }

    /// Reads one input to its end; `name` names it in errors.
    pub fn feed<R: io::Read>(&mut self, name: &str, input: R, warn: &mut dyn Write) -> Result<(), Error> {
        let Session { sink, stats, filter, reader, .. } = self;
        let result = reader.read_all(input, |event| filter.event(event, stats, sink, warn));
        stats.end_of_input();
        match result {
            Ok(()) => Ok(()),
            Err(Failed::Read(err)) => Err(Error::Read { name: name.to_string(), err }),
            Err(Failed::Consumer(err)) => Err(err),
        }
    }

    /// Ends the run: writes the report (or flushes the records) and the closing warnings.
    pub fn finish(mut self, warn: &mut dyn Write) -> Result<(), Error> {
        let stats = &self.stats;
        if let Some((mut file, name)) = self.filter.rejects.take() {
            file.flush().map_err(|err| Error::Rejects { name, err })?;
        }
        if stats.commands == 0 && self.filter.pasted > 0 && self.filter.pasted * 2 >= stats.skipped {
            let _ = writeln!(
                warn,
                "faina-filter: the input looks like the reply to another command (INFO, KEYS, …), not MONITOR output"
            );
        }
        match self.sink {
            Sink::Report(mut out) => {
                let mut text = match self.config.format {
                    Format::Text => report::text(stats),
                    Format::Json => report::json(stats),
                };
                text.push('\n');
                out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Write)?;
            }
            Sink::Records(mut writer) => {
                writer.flush().map_err(Error::Write)?;
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

/// The per-line work: parse, find the command and its keys, hand them to the sink.
struct Filter {
    parser: Parser,
    table: Table,
    keys: Vec<KeyRef>,
    /// The lower-cased name of an unknown command.
    name: Vec<u8>,
    redact: bool,
    secrets: Secrets,
    rejects: Option<(BufWriter<File>, String)>,
    /// Skipped lines that look like another command's reply (INFO, KEYS *) pasted by mistake.
    pasted: u64,
}

impl Filter {
    fn event<W: Write>(
        &mut self,
        event: Event<'_>,
        stats: &mut Stats,
        sink: &mut Sink<W>,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let (line, cut, dropped) = match event {
            Event::Line { line, cut, dropped } => (line, cut, dropped),
            Event::Pause => {
                return match sink {
                    Sink::Records(writer) => writer.flush().map_err(Error::Write),
                    Sink::Report(_) => Ok(()),
                }
            }
        };
        // The server escapes CR inside arguments, so a bare CR before the line's end can only be
        // a line break of its own (old Mac line endings, a mangled paste): split there.
        if !cut {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            if body.find_byte(b'\r').is_some() {
                let mut rest = line;
                while let Some(at) = rest.find_byte(b'\r') {
                    let (piece, after) = rest.split_at(at + 1);
                    // A CRLF ends the whole line: it stays with its piece.
                    let (piece, after) = match after.strip_prefix(b"\n") {
                        Some(tail) => (&rest[..at + 2], tail),
                        None => (piece, after),
                    };
                    self.line(piece, false, 0, stats, sink, warn)?;
                    rest = after;
                }
                if !rest.is_empty() {
                    self.line(rest, false, 0, stats, sink, warn)?;
                }
                return Ok(());
            }
        }
        self.line(line, cut, dropped, stats, sink, warn)
    }

    /// One line: accounted for, then parsed and handed on if it is a command.
    fn line<W: Write>(
        &mut self,
        line: &[u8],
        cut: bool,
        dropped: u64,
        stats: &mut Stats,
        sink: &mut Sink<W>,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        stats.lines += 1;
        stats.cut_lines += u64::from(cut);
        let header = match self.parser.parse(line, cut) {
            Line::Command(header) => header,
            Line::Noise => {
                stats.noise += 1;
                return Ok(());
            }
            Line::Skipped => {
                stats.skipped += 1;
                self.pasted += u64::from(monitor::looks_like_a_reply(line));
                if let Some((file, name)) = &mut self.rejects {
                    file.write_all(line).map_err(|err| Error::Rejects { name: name.clone(), err })?;
                }
                return Ok(());
            }
            Line::ServerError(message) => {
                stats.noise += 1;
                stats.server_errors += 1;
                server_error(message, warn);
                return Ok(());
            }
        };
        let parser = &self.parser;
        let argc = parser.len();
        let arg = |i: usize| parser.arg(line, i);
        let found = self.table.lookup(arg(0), (argc > 1).then(|| arg(1)));
        self.keys.clear();
        self.table.keys(found, argc, arg, &mut self.keys);
        let command: &[u8] = match found {
            Lookup::Known(id, _) => self.table.get(id).name.as_bytes(),
            Lookup::Unknown => {
                stats.unknown_commands += 1;
                self.name.clear();
                self.name.extend(arg(0).iter().map(u8::to_ascii_lowercase));
                &self.name
            }
        };
        let secrets = if self.redact { self.secrets.find(command, argc, arg) } else { &self.secrets };
        match sink {
            Sink::Records(writer) => {
                writer.command(&header, command, argc, arg, &self.keys, secrets).map_err(Error::Write)
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
                    keys: &self.keys,
                    arg: &arg,
                    argc,
                    bytes,
                    secrets,
                });
                Ok(())
            }
        }
    }
}

/// Shows a server's error line at once: an empty report must not be the only clue.
fn server_error(message: &[u8], warn: &mut dyn Write) {
    let text = escape::escaped(message);
    let hint = if text.starts_with("NOAUTH") || text.starts_with("WRONGPASS") {
        " (send AUTH before MONITOR)"
    } else if text.contains("unknown command") {
        " (is this the right server, or a proxy that wants IMONITOR?)"
    } else {
        ""
    };
    let _ = writeln!(warn, "faina-filter: the server said: {text}{hint}");
}
