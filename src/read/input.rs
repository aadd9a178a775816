//! Bytes to lines: the one place that says where a line ends, and the one way inputs are read.
//!
//! [`LineReader`] reads a capture in large blocks and hands out one line at a time, in bounded
//! memory whatever the line lengths: a line ends at LF, CRLF or a bare CR, and a line longer
//! than [`MAX_LINE`] is handed out as its first `MAX_LINE` bytes, marked cut, with the number of
//! bytes past them that were read and dropped (a `SET` of a 512 MiB value still counts its
//! command, its key and its size, but is never held whole).
//!
//! [`Inputs::read`] turns the inputs of a run into one stream of [`Event`]s: a single regular
//! file is read on the calling thread; anything else (several inputs, standard input, a FIFO)
//! is read on a thread per input, each running a `LineReader` and handing over batches of lines
//! with their boundaries, so one stalled stream never holds up the others and a silent live
//! stream still gets [`Event::Idle`] ticks.
//!
//! A `--connect` input is a [`connect::Node`] whose thread keeps its MONITOR stream coming (see
//! [`crate::read::connect`]); its batches are offered, never forced, to the consumer: when the
//! channel is full the batch is dropped and counted ([`connect::State::Dropped`]), so the socket
//! is drained whatever the output does, and the server never buffers for the filter. The nodes'
//! state changes come out as [`Event::Node`].

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::{self, RecvTimeoutError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bstr::ByteSlice;

use crate::format::long_arg::LongArg;
use crate::read::capture::{self, CallIn};
use crate::read::compact::Compactor;
use crate::read::connect::{self, Change, State};
use crate::sys::signal;

/// The longest line handed out whole; a longer one is compacted (see [`crate::read::compact`]).
pub const MAX_LINE: usize = 1 << 20;

/// The most a compacted line may hold: its header, its short arguments, and the heads of its
/// long ones. Past it the line is cut.
pub const MAX_COMPACTED: usize = 4 << 20;

/// The memory the readers of all inputs share: each input's line limit, read block and
/// compacted copy shrink as inputs are added, so reading 500 inputs costs what reading one does.
const READ_MEMORY: usize = 6 << 20;

/// An input's share of [`READ_MEMORY`]: (the longest line kept whole, the most a compacted
/// line holds).
fn limits(inputs: usize) -> (usize, usize) {
    let share = READ_MEMORY / inputs.max(1);
    ((share / 2).clamp(16 << 10, MAX_LINE), share.clamp(64 << 10, MAX_COMPACTED))
}
const BLOCK: usize = 256 * 1024;

/// How often a live input that is silent is looked at (idle windows, Ctrl-C).
pub const TICK: Duration = Duration::from_millis(250);

/// One line of one input.
#[derive(Debug, Clone, Copy)]
pub struct LineIn<'a> {
    /// The input (node) it was read from.
    pub node: u32,
    /// The line, with its line ending if it had one. A line longer than the reader's limit is
    /// its compacted copy (see [`crate::read::compact`]): `long` says which arguments are kept by their
    /// head.
    pub line: &'a [u8],
    /// The line was cut short: the input ended inside it, or its compacted copy outgrew its
    /// cap; `dropped` more bytes followed that were not kept.
    pub cut: bool,
    pub dropped: u64,
    /// The line has no CR and no TAB (false when unknown): the parser skips looking.
    pub plain: bool,
    pub long: &'a [LongArg],
}

/// What reading the inputs hands out.
pub enum Event<'a> {
    Line(LineIn<'a>),
    /// A request read from a packet capture.
    Call(CallIn<'a>),
    /// Words for standard error: what a packet capture held besides requests.
    Notice(&'a str),
    /// The input has nothing more for now: time to flush what was written.
    Pause,
    /// A live input has been silent for a [`TICK`]: time to look at the clock.
    Idle,
    /// Input `node` has ended.
    End(u32),
    /// A `--connect` node's state changed (connected, lost, given up, dropping lines).
    Node(&'a Change),
}

/// What [`LineReader::read_all`] hands out.
pub enum Piece<'a> {
    Line {
        line: &'a [u8],
        cut: bool,
        dropped: u64,
        plain: bool,
        long: &'a [LongArg],
    },
    /// A read returned less than it asked for.
    Pause,
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum Failed<E> {
    /// An input could not be read: its index, and why.
    Read(usize, io::Error),
    /// The consumer of the lines failed (its output could not be written).
    Consumer(E),
}

/// Splits a byte stream into lines with one reusable buffer.
pub struct LineReader {
    buf: Vec<u8>,
    /// The longest line handed out whole; longer lines are compacted.
    limit: usize,
    compactor: Compactor,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader::new()
    }
}

impl LineReader {
    pub fn new() -> LineReader {
        LineReader::with_limit(MAX_LINE, MAX_COMPACTED)
    }

    /// A reader that hands out lines of up to `limit` bytes whole, and compacts longer ones into
    /// copies of at most `cap` bytes.
    pub fn with_limit(limit: usize, cap: usize) -> LineReader {
        let block = (limit / 4).clamp(4096, BLOCK);
        LineReader { buf: vec![0; limit + block], limit, compactor: Compactor::new(cap) }
    }

    /// The bytes read at once.
    fn block(&self) -> usize {
        self.buf.len() - self.limit
    }

    /// Reads `input` to its end, calling `on` for every line and pause. An error from `on` (the
    /// output failing) stops the reading and comes back as [`Failed::Consumer`].
    ///
    /// A line ends at LF, CRLF or a bare CR (the server escapes CR inside arguments, so a bare
    /// one can only be a line break: old Mac line ends, a mangled paste), wherever it falls in
    /// the blocks read. A line is compacted when it is longer than the limit, whatever the size
    /// of the reads that brought it.
    pub fn read_all<R: Read, E>(
        &mut self,
        mut input: R,
        mut on: impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let mut emit = |e: Piece<'_>| on(e).map_err(Failed::Consumer);
        let mut at = Cursor::default();
        let mut first = true;
        loop {
            if self.buf.len() - at.end < self.block() {
                self.buf.copy_within(at.start..at.end, 0);
                at.shift(at.start);
            }
            // A block at a time: the buffer's pages past it are touched only by long lines.
            let want = (self.buf.len() - at.end).min(self.block());
            if signal::stopped() {
                // Ctrl-C: the input ends here, as if it had run out.
                return Ok(());
            }
            let n = match input.read(&mut self.buf[at.end..at.end + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A server's stream that was silent for a moment (see `connect`): a pause.
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    emit(Piece::Pause)?;
                    continue;
                }
                Err(e) => return Err(Failed::Read(0, e)),
            };
            if n == 0 {
                return self.last_line(&at, &mut emit);
            }
            if std::mem::take(&mut first) {
                if let Some(format) = compressed(&self.buf[at.end..at.end + n]) {
                    return Err(Failed::Read(0, io::Error::new(io::ErrorKind::InvalidData, format)));
                }
            }
            let mut scan = self.received(&mut at, n, &mut emit)?;
            if at.compacting {
                scan = self.long_tail(&mut at, scan, &mut emit)?;
            }
            if !at.compacting {
                self.whole_lines(&mut at, scan, &mut emit)?;
            }
            if n < want {
                emit(Piece::Pause)?;
            }
        }
    }

    /// Takes in `n` bytes just read after `at.end`: ends a line left waiting on a CR, skips the
    /// LF of a CRLF split by the read, notes where the last CR or TAB is. Returns where to look
    /// next.
    fn received<E, F: Emit<E>>(&mut self, at: &mut Cursor, n: usize, emit: &mut F) -> Result<usize, Failed<E>> {
        let mut scan = at.end;
        at.end += n;
        if at.pending_cr {
            // The line before ended with the CR just before this read.
            at.pending_cr = false;
            let stop = if self.buf[scan] == b'\n' { scan + 1 } else { scan };
            self.hand_out(at.start, stop, false, emit)?;
            at.start = stop;
            scan = stop;
        }
        if at.long_cr {
            // The compacted line before ended with the CR just before this read.
            at.long_cr = false;
            let lf = self.buf[scan] == b'\n';
            self.compactor.end_line(if lf { b"\r\n" } else { b"\r" });
            self.emit_compacted(false, emit)?;
            scan += usize::from(lf);
            at.start = scan;
        }
        if let Some(pos) = self.buf[scan..at.end].rfind_byteset(b"\r\t") {
            at.special_end = scan + pos + 1;
        }
        Ok(scan)
    }

    /// Feeds the compactor what was just read of a long line, up to its end if that came;
    /// then hands out the compacted copy. Returns where to look next.
    fn long_tail<E, F: Emit<E>>(&mut self, at: &mut Cursor, scan: usize, emit: &mut F) -> Result<usize, Failed<E>> {
        match line_end(&self.buf[scan..at.end], true) {
            None => {
                self.compactor.feed(&self.buf[scan..at.end]);
                // Nothing is kept in the buffer: the copy holds what matters.
                at.start = at.end;
                Ok(at.end)
            }
            Some((pos, len)) => {
                self.compactor.feed(&self.buf[scan..scan + pos]);
                at.compacting = false;
                at.start = scan + pos + len;
                if at.start == at.end && self.buf[at.end - 1] == b'\r' {
                    // An LF may follow in the next read: the line is handed out then.
                    at.long_cr = true;
                    return Ok(at.start);
                }
                self.compactor.end_line(&self.buf[scan + pos..at.start]);
                self.emit_compacted(false, emit)?;
                Ok(at.start)
            }
        }
    }

    /// Hands out every whole line from `scan` on; a line that outgrows the limit before its end
    /// is read starts being compacted.
    fn whole_lines<E, F: Emit<E>>(&mut self, at: &mut Cursor, mut scan: usize, emit: &mut F) -> Result<(), Failed<E>> {
        let maybe_cr = at.special_end > at.start;
        while let Some((pos, len)) = line_end(&self.buf[scan..at.end], maybe_cr) {
            let stop = scan + pos + len;
            if stop == at.end && self.buf[at.end - 1] == b'\r' {
                // A CR that is the last byte read: an LF may follow in the next read.
                at.pending_cr = true;
                break;
            }
            if stop - at.start <= self.limit {
                let plain = at.special_end <= at.start;
                emit(Piece::Line { line: &self.buf[at.start..stop], cut: false, dropped: 0, plain, long: &[] })?;
            } else {
                self.hand_out(at.start, stop, false, emit)?;
            }
            at.start = stop;
            scan = stop;
        }
        if at.end - at.start > self.limit && !at.pending_cr {
            // Too long to hold: compact what there is, and the rest as it comes.
            self.start_compacting(at.start, at.end);
            at.compacting = true;
            at.start = at.end;
        }
        Ok(())
    }

    fn start_compacting(&mut self, start: usize, end: usize) {
        let line = &self.buf[start..end];
        // A record read back has a TAB before any quote.
        let tsv = match (line.find_byte(b'\t'), line.find_byte(b'"')) {
            (Some(tab), Some(quote)) => tab < quote,
            (Some(_), None) => true,
            _ => false,
        };
        self.compactor.start(tsv);
        self.compactor.feed(line);
    }

    /// Hands out `buf[start..stop]` (a line with its line end): whole, or compacted when it is
    /// longer than the limit; `cut` when the input ended inside it.
    fn hand_out<E, F: Emit<E>>(&mut self, start: usize, stop: usize, cut: bool, emit: &mut F) -> Result<(), Failed<E>> {
        let line = &self.buf[start..stop];
        let body = line.len() - line_ending(line);
        if body <= self.limit {
            return emit(Piece::Line { line, cut, dropped: 0, plain: false, long: &[] });
        }
        self.start_compacting(start, start + body);
        self.compactor.end_line(&self.buf[start + body..stop]);
        self.emit_compacted(cut, emit)
    }

    fn emit_compacted<E, F: Emit<E>>(&self, cut: bool, emit: &mut F) -> Result<(), Failed<E>> {
        let (line, full, dropped, long) = self.compactor.result();
        emit(Piece::Line { line, cut: cut || full, dropped, plain: false, long })
    }

    /// The input ended: what is left is its last line. Without its line end it may have been
    /// cut short (a dropped connection, a file rotated mid-write): it is handed out as cut.
    fn last_line<E, F: Emit<E>>(&mut self, at: &Cursor, emit: &mut F) -> Result<(), Failed<E>> {
        if at.long_cr {
            self.compactor.end_line(b"\r");
            return self.emit_compacted(false, emit);
        }
        if at.compacting {
            return self.emit_compacted(true, emit);
        }
        if at.start < at.end {
            return self.hand_out(at.start, at.end, !at.pending_cr, emit);
        }
        Ok(())
    }
}

/// What [`LineReader::read_all`] hands its pieces to.
trait Emit<E>: FnMut(Piece<'_>) -> Result<(), Failed<E>> {}

impl<E, F: FnMut(Piece<'_>) -> Result<(), Failed<E>>> Emit<E> for F {}

/// Where the reader is in its buffer.
#[derive(Default)]
struct Cursor {
    /// The line under way starts here; the bytes read end here.
    start: usize,
    end: usize,
    /// The line under way is too long to hold: it is being compacted as it is read.
    compacting: bool,
    /// The line being compacted ended with a CR that was the last byte read: it is handed out
    /// at the next read, which tells whether an LF belongs to its line end.
    long_cr: bool,
    /// The line under way ends with a CR that was the last byte read, and the next read tells
    /// whether an LF belongs to it.
    pending_cr: bool,
    /// One past the last CR or TAB in the buffer (0 if none): a line starting at or after it is
    /// plain. One backwards search per block instead of two searches per line.
    special_end: usize,
}

impl Cursor {
    /// The buffer's bytes moved `by` to the front.
    fn shift(&mut self, by: usize) {
        self.start -= by;
        self.end -= by;
        self.special_end = self.special_end.saturating_sub(by);
    }
}

/// Where the first line in `bytes` ends: (the offset of its line end, the line end's length).
/// A CR that is the last byte ends a line (an LF after it, read later, is skipped by the caller).
/// With `maybe_cr` false, the caller knows there is no CR: only LF is looked for.
fn line_end(bytes: &[u8], maybe_cr: bool) -> Option<(usize, usize)> {
    if !maybe_cr {
        return bytes.find_byte(b'\n').map(|at| (at, 1));
    }
    let at = bytes.find_byteset(b"\r\n")?;
    let len = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { 2 } else { 1 };
    Some((at, len))
}

/// The length of a line's line end: 2 for CRLF, 1 for LF or CR, 0 for none.
pub fn line_ending(line: &[u8]) -> usize {
    match line {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n' | b'\r'] => 1,
        _ => 0,
    }
}

/// A compressed capture, told by the first bytes of an input: which compressor made it, and the
/// program that reads it back. A MONITOR capture, cut anywhere, starts with none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    pub format: &'static str,
    pub reader: &'static str,
}

impl std::fmt::Display for Compressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-compressed data (decompress it first: {} FILE | faina-filter)", self.format, self.reader)
    }
}

impl std::error::Error for Compressed {}

impl Compressed {
    /// The file name extension its files usually have.
    pub fn extension(&self) -> &'static str {
        match self.format {
            "gzip" => "gz",
            "zstd" => "zst",
            "bzip2" => "bz2",
            other => other,
        }
    }
}

/// Looks at the first bytes of an input (at most 4 are needed) for a compressor's magic number.
pub fn compressed(first: &[u8]) -> Option<Compressed> {
    let (format, reader) = match first {
        [0x1f, 0x8b, ..] => ("gzip", "zcat"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => ("zstd", "zstdcat"),
        [0xfd, b'7', b'z', b'X', ..] => ("xz", "xzcat"),
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => ("bzip2", "bzcat"),
        _ => return None,
    };
    Some(Compressed { format, reader })
}

/// One input: a file (or `-`), and the node it is labelled with (`NAME=PATH`); or a server to
/// connect to.
pub struct Input {
    pub path: OsString,
    pub label: Option<Vec<u8>>,
    pub server: Option<Arc<connect::Node>>,
}

impl Input {
    /// `NAME=PATH` labels an input, unless a file of that whole name exists.
    pub fn parse(arg: &OsString) -> Input {
        use std::os::unix::ffi::OsStrExt;
        let bytes = arg.as_encoded_bytes();
        if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
            let (name, path) = (&bytes[..eq], &bytes[eq + 1..]);
            let plausible = !name.is_empty() && !name.contains(&b'/') && !path.is_empty();
            if plausible && !std::path::Path::new(arg).exists() {
                let path = std::ffi::OsStr::from_bytes(path).to_os_string();
                return Input { path, label: Some(name.to_vec()), server: None };
            }
        }
        Input { path: arg.clone(), label: None, server: None }
    }

    pub fn is_stdin(&self) -> bool {
        self.server.is_none() && self.path == "-"
    }

    /// The node label: the given name, or the file's name.
    fn node(&self) -> Vec<u8> {
        if let Some(server) = &self.server {
            return server.label.clone();
        }
        match &self.label {
            Some(label) => label.clone(),
            None if self.is_stdin() => b"stdin".to_vec(),
            None => std::path::Path::new(&self.path)
                .file_name()
                .map_or_else(|| self.path.as_encoded_bytes(), |n| n.as_encoded_bytes())
                .to_vec(),
        }
    }

    /// How messages name it.
    pub fn name(&self) -> String {
        if let Some(server) = &self.server {
            server.name()
        } else if self.is_stdin() {
            "standard input".to_string()
        } else {
            crate::format::escape::escaped(self.path.as_encoded_bytes())
        }
    }

    /// What the file system says of it (standard input's, for `-`).
    pub fn metadata(&self) -> Option<std::fs::Metadata> {
        if self.server.is_some() {
            None
        } else if self.is_stdin() {
            use std::os::fd::AsFd;
            io::stdin().as_fd().try_clone_to_owned().ok().and_then(|fd| File::from(fd).metadata().ok())
        } else {
            std::fs::metadata(&self.path).ok()
        }
    }

    /// A live stream: anything but a regular file (a terminal, a pipe, a FIFO, a socket).
    fn is_live(&self) -> bool {
        self.server.is_some() || self.metadata().is_some_and(|m| !m.is_file())
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        if self.is_stdin() {
            Ok(Box::new(io::stdin()))
        } else {
            Ok(Box::new(File::open(&self.path)?))
        }
    }
}

/// The inputs of a run, in order: the servers connected to, then the files. Dropping it closes
/// every connection.
pub struct Inputs {
    pub list: Vec<Input>,
    /// The server's ports, in packet captures (empty: the default).
    pub ports: Vec<u16>,
    /// What the servers' threads tell.
    pub watch: Arc<connect::Watch>,
    /// Look at the clock while waiting even for files (`--duration`).
    pub ticking: bool,
}

impl Drop for Inputs {
    fn drop(&mut self) {
        self.close();
    }
}

impl Inputs {
    /// The servers and the inputs named on the command line (none of either: standard input).
    pub fn new(servers: Vec<connect::Node>, files: &[OsString]) -> Inputs {
        let stdin = [OsString::from("-")];
        let files = if files.is_empty() && servers.is_empty() { &stdin[..] } else { files };
        let servers =
            servers.into_iter().map(|s| Input { path: OsString::new(), label: None, server: Some(Arc::new(s)) });
        let list = servers.chain(files.iter().map(Input::parse)).collect();
        Inputs { list, ports: Vec::new(), watch: Arc::default(), ticking: false }
    }

    /// Shuts every connection down (no MONITOR client is left on a server).
    pub fn close(&self) {
        self.list.iter().filter_map(|i| i.server.as_ref()).for_each(|s| s.close());
    }

    /// True when there were servers and none was ever read, nor any file.
    pub fn none_read(&self) -> bool {
        self.list.iter().all(|i| i.server.is_some()) && !self.watch.read_any.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The node labels, when the inputs name nodes: several inputs, or one named `NAME=PATH`.
    pub fn labels(&self) -> Option<Vec<Vec<u8>>> {
        let named = self.list.len() > 1 || self.list.iter().any(|i| i.label.is_some());
        named.then(|| self.list.iter().map(Input::node).collect())
    }

    /// Reads every input to its end (or to Ctrl-C), calling `on` for each event. With
    /// `in_place`, a single regular file is read on this thread (the caller has no use for a
    /// second core); otherwise every input is read on a thread of its own.
    pub fn read<E>(&self, in_place: bool, mut on: impl FnMut(Event<'_>) -> Result<(), E>) -> Result<(), Failed<E>> {
        if let [input] = &self.list[..] {
            if in_place && !input.is_live() {
                let file = input.open().map_err(|e| Failed::Read(0, e))?;
                let (kind, file) = sniff(file).map_err(|e| Failed::Read(0, e))?;
                let result = match kind {
                    Kind::Lines => LineReader::new().read_all(file, |piece| on(piece_event(0, piece))),
                    Kind::Capture => read_capture(0, file, &input.name(), self.ports(), &mut on),
                };
                on(Event::End(0)).map_err(Failed::Consumer)?;
                return result;
            }
        }
        self.read_on_threads(on)
    }

    /// The server's ports in a packet capture, as `--port` named them (none: 6379, and the
    /// servers told by their replies).
    fn ports(&self) -> &[u16] {
        &self.ports
    }

    fn read_on_threads<E>(&self, mut on: impl FnMut(Event<'_>) -> Result<(), E>) -> Result<(), Failed<E>> {
        let (rx, pool) = self.start_threads()?;
        let mut drops = Drops::new(self);
        let result = self.pump(&rx, &pool, &mut drops, &mut on);
        self.close();
        // What the servers' readers went through is said however the run ended (a notice
        // goes to the warnings, which a failed output does not stop).
        drops.said.iter_mut().for_each(|n| *n = 0);
        drops.at_end = true;
        let summaries = self.list.iter().enumerate().filter_map(|(i, input)| input.server.as_ref()?.summary(i as u32));
        let closing: Vec<Change> = self.watch.take().into_iter().chain(drops.news(self)).chain(summaries).collect();
        for change in &closing {
            let told = on(Event::Node(change)).map_err(Failed::Consumer);
            if result.is_ok() {
                told?;
            }
        }
        result
    }

    /// A thread per input, reading it into batches sent over a bounded channel.
    fn start_threads<E>(&self) -> Result<(mpsc::Receiver<Batch>, Arc<Pool>), Failed<E>> {
        // A server's batches are dropped rather than waited for: a little more slack for them.
        let servers = self.list.iter().filter(|i| i.server.is_some()).count();
        let (tx, rx) = mpsc::sync_channel(self.list.len() + 2 + servers.min(6));
        let (limit, cap) = limits(self.list.len());
        let pool = std::sync::Arc::new(Pool::default());
        for (node, input) in self.list.iter().enumerate() {
            if let Some(server) = &input.server {
                let (tx, pool, watch, server) = (tx.clone(), pool.clone(), self.watch.clone(), server.clone());
                let mut reader = LineReader::with_limit(limit, cap);
                signal::spawn(move || {
                    let node = node as u32;
                    let mut read = |stream| read_batches(node, stream, &mut reader, &pool, &tx, Some(&server));
                    server.run(node, &watch, &mut read);
                    let _ = tx.send(Batch::Done { node, result: Ok(()) });
                });
                continue;
            }
            // Regular files are opened here, so a missing one is reported before anything is
            // read; anything else on its thread (opening a FIFO waits for its writer).
            let open: Opener = if input.is_live() {
                let (stdin, path) = (input.is_stdin(), input.path.clone());
                Box::new(move || if stdin { Ok(Box::new(io::stdin())) } else { Ok(Box::new(File::open(path)?)) })
            } else {
                let reader = input.open().map_err(|e| Failed::Read(node, e))?;
                Box::new(move || Ok(reader))
            };
            let (tx, pool) = (tx.clone(), pool.clone());
            let reader = LineReader::with_limit(limit, cap);
            let source = Source { node: node as u32, name: input.name(), ports: self.ports().to_vec() };
            signal::spawn(move || read_in_batches(source, open, reader, &pool, &tx));
        }
        Ok((rx, pool))
    }

    /// Hands on what the threads read, until every input has ended or the run is stopped.
    fn pump<E>(
        &self,
        rx: &mpsc::Receiver<Batch>,
        pool: &Pool,
        drops: &mut Drops,
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let live = self.ticking || self.list.iter().any(Input::is_live);
        let mut open = self.list.len();
        while open > 0 && !signal::stopped() {
            for change in self.watch.take().iter().chain(drops.news(self).iter()) {
                on(Event::Node(change)).map_err(Failed::Consumer)?;
            }
            let batch = match rx.recv_timeout(if live { TICK } else { Duration::from_secs(3600) }) {
                Ok(batch) => batch,
                Err(RecvTimeoutError::Timeout) => {
                    on(Event::Idle).map_err(Failed::Consumer)?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match batch {
                Batch::Lines { node, data, ends, plain } => {
                    let mut start = 0;
                    for &end in &ends {
                        let line = &data[start..end as usize];
                        on(Event::Line(LineIn { node, line, cut: false, dropped: 0, plain, long: &[] }))
                            .map_err(Failed::Consumer)?;
                        start = end as usize;
                    }
                    pool.give_back(data, ends);
                    on(Event::Pause).map_err(Failed::Consumer)?;
                }
                Batch::Long { node, line, cut, dropped, long } => {
                    let line = LineIn { node, line: &line, cut, dropped, plain: false, long: &long };
                    on(Event::Line(line)).map_err(Failed::Consumer)?;
                }
                Batch::Calls { node, calls } => {
                    for call in calls.calls(node) {
                        on(Event::Call(call)).map_err(Failed::Consumer)?;
                    }
                    on(Event::Pause).map_err(Failed::Consumer)?;
                }
                Batch::Notice { text } => on(Event::Notice(&text)).map_err(Failed::Consumer)?,
                Batch::Done { node, result } => {
                    open -= 1;
                    result.map_err(|e| Failed::Read(node as usize, e))?;
                    on(Event::End(node)).map_err(Failed::Consumer)?;
                }
            }
        }
        Ok(())
    }
}

/// What an input holds, told by its first bytes.
pub enum Kind {
    Lines,
    Capture,
}

/// Looks at the first bytes of `input` without losing them: a packet capture starts with its
/// format's magic number; anything else is read as lines. Only these bytes are looked at, so
/// reading lines costs nothing more.
pub fn sniff<'r>(mut input: Box<dyn Read + Send + 'r>) -> io::Result<(Kind, Box<dyn Read + Send + 'r>)> {
    let mut first = [0u8; 4];
    let mut n = 0;
    let mut ended = false;
    while n < first.len() && !ended {
        match input.read(&mut first[n..]) {
            Ok(0) => ended = true,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kind = if capture::is_capture(&first[..n]) { Kind::Capture } else { Kind::Lines };
    let head = io::Cursor::new(first[..n].to_vec());
    // An end already read is not read again: a terminal's Ctrl-D is said once.
    Ok((kind, if ended { Box::new(head) } else { Box::new(head.chain(input)) }))
}

/// Reads a packet capture as input `node`, handing out its requests, then what else it held.
pub fn read_capture<E>(
    node: u32,
    input: impl Read,
    name: &str,
    ports: &[u16],
    on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
) -> Result<(), Failed<E>> {
    let counts = capture::read_all(input, ports, |batch| {
        for call in batch.calls(node) {
            on(Event::Call(call))?;
        }
        on(Event::Pause)
    });
    let counts = counts.map_err(|stop| match stop {
        capture::Stopped::Read(e) => Failed::Read(node as usize, e),
        capture::Stopped::Consumer(e) => Failed::Consumer(e),
    })?;
    on(Event::Notice(&format!("{name}: {}", counts.summary(ports)))).map_err(Failed::Consumer)
}

/// The lines each server's reader dropped, told at most once a second while they grow, and
/// in all at the end.
struct Drops {
    said: Vec<u64>,
    looked: Instant,
    /// The run is over: each count is told in all.
    at_end: bool,
}

impl Drops {
    fn new(inputs: &Inputs) -> Drops {
        Drops { said: vec![0; inputs.list.len()], looked: Instant::now(), at_end: false }
    }

    fn news(&mut self, inputs: &Inputs) -> Vec<Change> {
        let mut news = Vec::new();
        if self.looked.elapsed() < Duration::from_secs(1) && !self.at_end {
            return news;
        }
        self.looked = Instant::now();
        for (node, input) in inputs.list.iter().enumerate() {
            let Some(server) = &input.server else { continue };
            let lines = server.dropped.load(std::sync::atomic::Ordering::Relaxed);
            if lines > self.said[node] {
                self.said[node] = lines;
                let at = std::time::SystemTime::now();
                news.push(Change {
                    node: node as u32,
                    name: server.name(),
                    at,
                    state: State::Dropped { lines, in_all: self.at_end },
                });
            }
        }
        news
    }
}

pub fn piece_event(node: u32, piece: Piece<'_>) -> Event<'_> {
    match piece {
        Piece::Line { line, cut, dropped, plain, long } => {
            Event::Line(LineIn { node, line, cut, dropped, plain, long })
        }
        Piece::Pause => Event::Pause,
    }
}

/// Batch buffers handed back once their lines are read, so they are allocated once: the memory
/// of reading stays that of the batches in flight, whatever the number of inputs.
#[derive(Default)]
struct Pool(std::sync::Mutex<Vec<(Vec<u8>, Vec<u32>)>>);

impl Pool {
    fn take(&self, block: usize) -> (Vec<u8>, Vec<u32>) {
        let spent = self.0.lock().ok().and_then(|mut p| p.pop());
        spent.unwrap_or_else(|| (Vec::with_capacity(block), Vec::new()))
    }

    fn give_back(&self, mut data: Vec<u8>, mut ends: Vec<u32>) {
        data.clear();
        ends.clear();
        if let Ok(mut pool) = self.0.lock() {
            pool.push((data, ends));
        }
    }
}

/// What an input's thread hands over.
enum Batch {
    /// Whole lines: `data` holds them one after the other, `ends` where each ends; `plain` when
    /// none has a CR or a TAB.
    Lines { node: u32, data: Vec<u8>, ends: Vec<u32>, plain: bool },
    /// A line handed out on its own: compacted, or cut short.
    Long { node: u32, line: Vec<u8>, cut: bool, dropped: u64, long: Vec<LongArg> },
    /// Requests of a packet capture.
    Calls { node: u32, calls: capture::Batch },
    /// What a packet capture held besides requests.
    Notice { text: String },
    /// The input ended (or failed to open or read).
    Done { node: u32, result: io::Result<()> },
}

/// An input, as its reading thread knows it.
struct Source {
    node: u32,
    name: String,
    ports: Vec<u16>,
}

/// Opens an input, on the thread that reads it.
type Opener = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>;

/// Reads one input into batches of lines and sends them; the bounded channel keeps memory
/// bounded when the consumer falls behind.
fn read_in_batches(source: Source, open: Opener, mut reader: LineReader, pool: &Pool, tx: &mpsc::SyncSender<Batch>) {
    let node = source.node;
    let input = match open().and_then(sniff) {
        Ok((Kind::Lines, input)) => input,
        Ok((Kind::Capture, input)) => return capture_in_batches(source, input, tx),
        Err(e) => {
            let _ = tx.send(Batch::Done { node, result: Err(e) });
            return;
        }
    };
    if let Ok(result) = read_batches(node, input, &mut reader, pool, tx, None) {
        let _ = tx.send(Batch::Done { node, result });
    }
}

/// Hands a batch to the consumer: waiting for room; or, for a server's stream, never waiting:
/// when there is no room the batch comes back to be added to (`keep`, while it is smaller than
/// a block), or is dropped and counted in the server's `dropped`. `Err` when the consumer is
/// gone.
fn deliver(
    tx: &mpsc::SyncSender<Batch>,
    batch: Batch,
    pool: &Pool,
    server: Option<&connect::Node>,
    keep: bool,
) -> Result<Option<Batch>, ()> {
    let Some(server) = server else { return tx.send(batch).map(|()| None).map_err(drop) };
    match tx.try_send(batch) {
        Ok(()) => Ok(None),
        Err(TrySendError::Disconnected(_)) => Err(()),
        Err(TrySendError::Full(batch)) if keep => Ok(Some(batch)),
        Err(TrySendError::Full(batch)) => {
            let lines = match batch {
                Batch::Lines { data, ends, .. } => {
                    let n = ends.len();
                    pool.give_back(data, ends);
                    n
                }
                _ => 1,
            };
            server.dropped.fetch_add(lines as u64, std::sync::atomic::Ordering::Relaxed);
            // A breath before the next read: the consumer gets the core this thread would spend
            // reading only to drop, and the socket is still drained far faster than a server
            // writes MONITOR lines (a block a millisecond is over 200 MB/s).
            std::thread::sleep(Duration::from_millis(1));
            Ok(None)
        }
    }
}

/// Reads one stream to its end into batches: how it ended, or `Err` when the consumer is gone.
fn read_batches(
    node: u32,
    input: Box<dyn Read + Send>,
    reader: &mut LineReader,
    pool: &Pool,
    tx: &mpsc::SyncSender<Batch>,
    server: Option<&connect::Node>,
) -> Result<io::Result<()>, ()> {
    let block = reader.block();
    let (mut data, mut ends) = pool.take(block);
    let mut plain = true;
    // `last`: the stream has ended, so lines that find no room are dropped, not kept.
    let send = |data: &mut Vec<u8>, ends: &mut Vec<u32>, plain: &mut bool, last: bool| -> Result<(), ()> {
        if ends.is_empty() {
            return Ok(());
        }
        let keep = !last && data.len() < block;
        let (next_data, next_ends) = pool.take(block);
        let full = std::mem::replace(data, next_data);
        let lines = std::mem::replace(ends, next_ends);
        let batch = Batch::Lines { node, data: full, ends: lines, plain: *plain };
        match deliver(tx, batch, pool, server, keep)? {
            Some(Batch::Lines { data: kept, ends: kept_ends, .. }) => {
                // No room yet: the lines stay, and more are added to them.
                let fresh = (std::mem::replace(data, kept), std::mem::replace(ends, kept_ends));
                pool.give_back(fresh.0, fresh.1);
            }
            _ => *plain = true,
        }
        Ok(())
    };
    let result = reader.read_all(input, |piece| -> Result<(), ()> {
        match piece {
            Piece::Line { line, cut: false, plain: line_plain, long: [], .. } => {
                data.extend_from_slice(line);
                ends.push(data.len() as u32);
                plain &= line_plain;
                if data.len() >= block {
                    send(&mut data, &mut ends, &mut plain, false)?;
                }
            }
            Piece::Line { line, cut, dropped, long, .. } => {
                send(&mut data, &mut ends, &mut plain, true)?;
                let batch = Batch::Long { node, line: line.to_vec(), cut, dropped, long: long.to_vec() };
                deliver(tx, batch, pool, server, false)?;
            }
            Piece::Pause => send(&mut data, &mut ends, &mut plain, false)?,
        }
        Ok(())
    });
    let result = match result {
        Ok(()) => Ok(()),
        Err(Failed::Read(_, e)) => Err(e),
        Err(Failed::Consumer(())) => return Err(()),
    };
    // What was read before the end (or the error) is handed over too.
    send(&mut data, &mut ends, &mut plain, true)?;
    pool.give_back(data, ends);
    Ok(result)
}

/// Reads a packet capture on its thread, sending its requests a batch at a time.
fn capture_in_batches(source: Source, input: impl Read, tx: &mpsc::SyncSender<Batch>) {
    let Source { node, name, ports } = source;
    let counts = capture::read_all(input, &ports, |batch| {
        tx.send(Batch::Calls { node, calls: std::mem::take(batch) }).map_err(drop)
    });
    let result = match counts {
        Ok(counts) => {
            let text = format!("{name}: {}", counts.summary(&ports));
            if tx.send(Batch::Notice { text }).is_err() {
                return;
            }
            Ok(())
        }
        Err(capture::Stopped::Read(e)) => Err(e),
        Err(capture::Stopped::Consumer(())) => return,
    };
    let _ = tx.send(Batch::Done { node, result });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::compact::{HEAD, MAX_HEADER};

    /// (line, cut, dropped, arguments kept by their head), reading through a reader that returns
    /// `chunk` bytes at a time.
    fn lines(data: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool, u64, usize)> {
        struct Chunky<'a>(&'a [u8], usize);
        impl Read for Chunky<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        LineReader::new()
            .read_all(Chunky(data, chunk), |e| -> io::Result<()> {
                if let Piece::Line { line, cut, dropped, plain, long } = e {
                    assert!(!plain || !line.contains(&b'\r') && !line.contains(&b'\t'));
                    out.push((line.to_vec(), cut, dropped, long.len()));
                }
                Ok(())
            })
            .unwrap();
        out
    }

    fn whole(line: &[u8]) -> (Vec<u8>, bool, u64, usize) {
        (line.to_vec(), false, 0, 0)
    }

    #[test]
    fn compressed_inputs_are_told_by_their_magic() {
        let format = |b: &[u8]| compressed(b).map(|c| c.format);
        assert_eq!(format(b"\x1f\x8b\x08\x00"), Some("gzip"));
        assert_eq!(format(b"\x28\xb5\x2f\xfd\x04"), Some("zstd"));
        assert_eq!(format(b"\xfd7zXZ\x00"), Some("xz"));
        assert_eq!(format(b"BZh91AY&SY"), Some("bzip2"));
        for plain in [&b""[..], b"\x1f", b"OK\r\n", b"1795636306.000001 [0", b"BZh", b"BZhx", b"+OK\r\n"] {
            assert_eq!(format(plain), None, "{plain:?}");
        }
        let mut reader = LineReader::new();
        let got = reader.read_all(&b"\x1f\x8b\x08\x00rest\n"[..], |_| Ok::<(), ()>(()));
        let Err(Failed::Read(0, e)) = got else { panic!("a gzip stream is refused") };
        assert_eq!(e.get_ref().and_then(|e| e.downcast_ref::<Compressed>()).map(|c| c.reader), Some("zcat"));
    }

    #[test]
    fn splits_on_newlines_keeping_endings() {
        for chunk in [1, 3, 1000, usize::MAX] {
            let got = lines(b"a\r\nbb\n\nlast", chunk);
            let want = vec![whole(b"a\r\n"), whole(b"bb\n"), whole(b"\n"), (b"last".to_vec(), true, 0, 0)];
            assert_eq!(got, want, "chunk {chunk}");
        }
        assert!(lines(b"", 10).is_empty());
    }

    #[test]
    fn bare_crs_end_lines_wherever_they_fall() {
        for chunk in [1, 2, 3, 1000, usize::MAX] {
            let got = lines(b"a\rb\r\nc\r\rd\n\re", chunk);
            let want = vec![
                whole(b"a\r"),
                whole(b"b\r\n"),
                whole(b"c\r"),
                whole(b"\r"),
                whole(b"d\n"),
                whole(b"\r"),
                (b"e".to_vec(), true, 0, 0),
            ];
            assert_eq!(got, want, "chunk {chunk}");
        }
    }

    /// A SET of a value of `len` bytes, without its line end.
    fn long_set(len: usize) -> Vec<u8> {
        let mut line = b"1.000001 [0 1.1.1.1:1] \"set\" \"key\" \"".to_vec();
        line.resize(line.len() + len, b'x');
        line.push(b'"');
        line
    }

    #[test]
    fn a_long_line_is_compacted_wherever_it_falls() {
        let mut data = b"first\n".to_vec();
        data.extend_from_slice(&long_set(3 * MAX_LINE + 17));
        data.extend_from_slice(b"\r\nafter\n");
        // The compacted copy keeps the line end, as a line read whole does.
        let mut compacted = long_set(HEAD as usize);
        compacted.extend_from_slice(b"\r\n");
        for chunk in [4096, 100_000, BLOCK, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 3, "chunk {chunk}");
            assert_eq!(got[0], whole(b"first\n"));
            assert_eq!(got[1], (compacted.clone(), false, 0, 1), "chunk {chunk}");
            assert_eq!(got[2], whole(b"after\n"));
        }
        // At the end of the input, with no line end: cut.
        let got = lines(&long_set(MAX_LINE + 5), 65536);
        assert_eq!(got, [(long_set(HEAD as usize), true, 0, 1)]);
    }

    #[test]
    fn lines_after_a_long_one_end_at_any_line_end() {
        // A long line that is no MONITOR line, ended by a bare CR, then 1000 lines ended so.
        let mut data: Vec<u8> = std::iter::repeat(b'x').take(MAX_LINE + 100).collect();
        data.push(b'\r');
        for _ in 0..1000 {
            data.extend_from_slice(b"ab\r");
        }
        for chunk in [7, 4096, 100_000, BLOCK, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 1001, "chunk {chunk}");
            let dropped = (MAX_LINE + 100 - MAX_HEADER) as u64;
            assert_eq!((got[0].0.len(), got[0].1, got[0].2), (MAX_HEADER + 1, true, dropped), "chunk {chunk}");
            assert!(got[0].0.ends_with(b"x\r"), "chunk {chunk}");
            assert!(got[1..].iter().all(|l| l == &whole(b"ab\r")), "chunk {chunk}");
        }
        // A MONITOR line, with CRLF after it split between two reads.
        let mut data = long_set(MAX_LINE + 100);
        let len = data.len();
        data.extend_from_slice(b"\r\nab\n");
        for chunk in [len + 1, 4096, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 2, "chunk {chunk}");
            assert!(got[0].0.ends_with(b"\"\r\n"), "chunk {chunk}");
            assert_eq!(got[1], whole(b"ab\n"), "chunk {chunk}");
        }
    }

    #[test]
    fn a_line_is_compacted_by_its_length_not_by_where_it_falls() {
        // Lines a little over MAX_LINE, after lead-ins of different lengths, read in different
        // chunk sizes: handed out the same way every time.
        for lead in [0, 1, 5000, BLOCK - 3, BLOCK + 10] {
            for body in [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + BLOCK / 4, MAX_LINE + BLOCK - 1] {
                let mut data: Vec<u8> = std::iter::repeat(b'a').take(lead).collect();
                data.push(b'\n');
                let line = long_set(body - long_set(0).len());
                data.extend_from_slice(&line);
                data.push(b'\n');
                for chunk in [65536, 1_000_000, usize::MAX] {
                    let got = lines(&data, chunk);
                    assert_eq!(got.len(), 2);
                    if body > MAX_LINE {
                        let mut want = long_set(HEAD as usize);
                        want.push(b'\n');
                        assert_eq!(got[1], (want, false, 0, 1), "lead {lead} body {body}");
                    } else {
                        let mut want = line.clone();
                        want.push(b'\n');
                        assert_eq!(got[1], whole(&want), "lead {lead} body {body} chunk {chunk}");
                    }
                }
            }
        }
    }
}
