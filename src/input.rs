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

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use bstr::ByteSlice;

use crate::signal;

/// The longest line kept whole.
pub const MAX_LINE: usize = 1 << 20;
const BLOCK: usize = 256 * 1024;

/// How often a live input that is silent is looked at (idle windows, Ctrl-C).
pub const TICK: Duration = Duration::from_millis(250);

/// One line of one input.
#[derive(Debug, Clone, Copy)]
pub struct LineIn<'a> {
    /// The input (node) it was read from.
    pub node: u32,
    /// The line, with its line ending if it had one; when `cut`, only its first [`MAX_LINE`]
    /// bytes, and `dropped` more bytes followed (its line ending excluded).
    pub line: &'a [u8],
    pub cut: bool,
    pub dropped: u64,
    /// The line has no CR and no TAB (false when unknown): the parser skips looking.
    pub plain: bool,
}

/// What reading the inputs hands out.
pub enum Event<'a> {
    Line(LineIn<'a>),
    /// The input has nothing more for now: time to flush what was written.
    Pause,
    /// A live input has been silent for a [`TICK`]: time to look at the clock.
    Idle,
    /// Input `node` has ended.
    End(u32),
}

/// What [`LineReader::read_all`] hands out.
pub enum Piece<'a> {
    Line {
        line: &'a [u8],
        cut: bool,
        dropped: u64,
        plain: bool,
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
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader::new()
    }
}

impl LineReader {
    pub fn new() -> LineReader {
        LineReader { buf: vec![0; MAX_LINE + BLOCK] }
    }

    /// Reads `input` to its end, calling `on` for every line and pause. An error from `on` (the
    /// output failing) stops the reading and comes back as [`Failed::Consumer`].
    ///
    /// A line ends at LF, CRLF or a bare CR (the server escapes CR inside arguments, so a bare
    /// one can only be a line break: old Mac line ends, a mangled paste), wherever it falls in
    /// the blocks read, and while the tail of a cut line is being skipped too. A line is cut when
    /// it is longer than [`MAX_LINE`], whatever the size of the reads that brought it.
    pub fn read_all<R: Read, E>(
        &mut self,
        mut input: R,
        mut on: impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let mut emit = |e: Piece<'_>| on(e).map_err(Failed::Consumer);
        let mut at = Cursor::default();
        loop {
            if at.cutting.is_none() && self.buf.len() - at.end < BLOCK {
                self.buf.copy_within(at.start..at.end, 0);
                at.shift(at.start);
            }
            let want = self.buf.len() - at.end;
            if signal::stopped() {
                // Ctrl-C: the input ends here, as if it had run out.
                return Ok(());
            }
            let n = match input.read(&mut self.buf[at.end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failed::Read(0, e)),
            };
            if n == 0 {
                return self.last_line(&at, &mut emit);
            }
            let mut scan = self.received(&mut at, n, &mut emit)?;
            if let Some(dropped) = at.cutting {
                scan = self.cut_tail(&mut at, scan, dropped, &mut emit)?;
            }
            if at.cutting.is_none() {
                self.whole_lines(&mut at, scan, &mut emit)?;
            }
            if n < want {
                emit(Piece::Pause)?;
            }
        }
    }

    /// Takes in `n` bytes just read after `at.end`: ends a line left waiting on a CR, skips the
    /// LF of a cut line's CRLF, notes where the last CR or TAB is. Returns where to look next.
    fn received<E, F: Emit<E>>(&self, at: &mut Cursor, n: usize, emit: &mut F) -> Result<usize, Failed<E>> {
        let mut scan = at.end;
        at.end += n;
        if at.pending_cr {
            // The line before ended with the CR just before this read.
            at.pending_cr = false;
            let stop = if self.buf[scan] == b'\n' { scan + 1 } else { scan };
            let (line, cut, dropped) = cut_to_size(&self.buf[at.start..stop]);
            emit(Piece::Line { line, cut, dropped, plain: false })?;
            at.start = stop;
            scan = stop;
        }
        if at.skip_lf {
            at.skip_lf = false;
            if self.buf[scan] == b'\n' {
                scan += 1;
                if at.cutting.is_none() {
                    at.start = scan;
                }
            }
        }
        if let Some(pos) = self.buf[scan..at.end].rfind_byteset(b"\r\t") {
            at.special_end = scan + pos + 1;
        }
        Ok(scan)
    }

    /// Looks for the end of a cut line in what was just read (the rest is dropped), and hands
    /// the line's head out when it is found. Returns where to look next.
    fn cut_tail<E, F: Emit<E>>(
        &self,
        at: &mut Cursor,
        scan: usize,
        dropped: u64,
        emit: &mut F,
    ) -> Result<usize, Failed<E>> {
        match line_end(&self.buf[scan..at.end], true) {
            None => {
                at.cutting = Some(dropped + (at.end - scan) as u64);
                // Read over the dropped bytes again.
                at.end = at.start + MAX_LINE;
                Ok(scan)
            }
            Some((pos, len)) => {
                let head = &self.buf[at.start..at.start + MAX_LINE];
                emit(Piece::Line { line: head, cut: true, dropped: dropped + pos as u64, plain: false })?;
                at.cutting = None;
                at.skip_lf = scan + pos + len == at.end && self.buf[at.end - 1] == b'\r';
                at.start = scan + pos + len;
                Ok(at.start)
            }
        }
    }

    /// Hands out every whole line from `scan` on; a line that outgrows [`MAX_LINE`] before its
    /// end is read starts being cut.
    fn whole_lines<E, F: Emit<E>>(&self, at: &mut Cursor, mut scan: usize, emit: &mut F) -> Result<(), Failed<E>> {
        let maybe_cr = at.special_end > at.start;
        while let Some((pos, len)) = line_end(&self.buf[scan..at.end], maybe_cr) {
            let stop = scan + pos + len;
            if stop == at.end && self.buf[at.end - 1] == b'\r' {
                // A CR that is the last byte read: an LF may follow in the next read.
                at.pending_cr = true;
                break;
            }
            let (line, cut, dropped) = cut_to_size(&self.buf[at.start..stop]);
            emit(Piece::Line { line, cut, dropped, plain: at.special_end <= at.start })?;
            at.start = stop;
            scan = stop;
        }
        if at.end - at.start > MAX_LINE {
            if self.buf[at.end - 1] == b'\r' {
                // The line ends at that CR; the LF that may follow is skipped.
                let (line, cut, dropped) = cut_to_size(&self.buf[at.start..at.end]);
                emit(Piece::Line { line, cut, dropped, plain: false })?;
                at.skip_lf = true;
                at.pending_cr = false;
                at.start = at.end;
            } else {
                // Keep the head where it is; what follows it is counted and dropped.
                at.cutting = Some((at.end - at.start - MAX_LINE) as u64);
                at.end = at.start + MAX_LINE;
            }
        }
        Ok(())
    }

    /// The input ended: what is left is its last line. Without its line end it may have been
    /// cut short (a dropped connection, a file rotated mid-write): it is handed out as cut.
    fn last_line<E, F: Emit<E>>(&self, at: &Cursor, emit: &mut F) -> Result<(), Failed<E>> {
        match at.cutting {
            Some(dropped) => emit(Piece::Line { line: &self.buf[at.start..at.end], cut: true, dropped, plain: false }),
            None if at.pending_cr => {
                let (line, cut, dropped) = cut_to_size(&self.buf[at.start..at.end]);
                emit(Piece::Line { line, cut, dropped, plain: false })
            }
            None if at.start < at.end => {
                let (line, _, dropped) = cut_to_size(&self.buf[at.start..at.end]);
                emit(Piece::Line { line, cut: true, dropped, plain: false })
            }
            None => Ok(()),
        }
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
    /// The bytes dropped so far from a cut line whose head is `buf[start..start + MAX_LINE]`:
    /// while cutting, every read goes to the space after the head.
    cutting: Option<u64>,
    /// The last line (a cut one) ended with a CR that was the last byte read: an LF read next
    /// belongs to it.
    skip_lf: bool,
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

/// A whole line, or its first [`MAX_LINE`] bytes when it is longer (its line end not counted):
/// (the line, whether it was cut, the bytes dropped).
fn cut_to_size(line: &[u8]) -> (&[u8], bool, u64) {
    if line.len() <= MAX_LINE {
        return (line, false, 0);
    }
    let body = line.len() - line_ending(line);
    if body > MAX_LINE {
        (&line[..MAX_LINE], true, (body - MAX_LINE) as u64)
    } else {
        (line, false, 0)
    }
}

/// The length of a line's line end: 2 for CRLF, 1 for LF or CR, 0 for none.
pub fn line_ending(line: &[u8]) -> usize {
    match line {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n' | b'\r'] => 1,
        _ => 0,
    }
}

/// One input: a file (or `-`), and the node it is labelled with (`NAME=PATH`).
pub struct Input {
    pub path: OsString,
    pub label: Option<String>,
}

impl Input {
    /// `NAME=PATH` labels an input, unless a file of that whole name exists.
    pub fn parse(arg: &OsString) -> Input {
        if let Some((name, path)) = arg.to_str().and_then(|a| a.split_once('=')) {
            let plausible = !name.is_empty() && !name.contains('/') && !path.is_empty();
            if plausible && !std::path::Path::new(arg).exists() {
                return Input { path: path.into(), label: Some(name.to_string()) };
            }
        }
        Input { path: arg.clone(), label: None }
    }

    pub fn is_stdin(&self) -> bool {
        self.path == "-"
    }

    /// The node label: the given name, or the file's name.
    fn node(&self) -> Vec<u8> {
        match &self.label {
            Some(label) => label.clone().into_bytes(),
            None if self.is_stdin() => b"stdin".to_vec(),
            None => std::path::Path::new(&self.path)
                .file_name()
                .map_or_else(|| self.path.as_encoded_bytes(), |n| n.as_encoded_bytes())
                .to_vec(),
        }
    }

    /// How messages name it.
    pub fn name(&self) -> String {
        if self.is_stdin() {
            "standard input".to_string()
        } else {
            crate::escape::escaped(self.path.as_encoded_bytes())
        }
    }

    /// What the file system says of it (standard input's, for `-`).
    pub fn metadata(&self) -> Option<std::fs::Metadata> {
        if self.is_stdin() {
            use std::os::fd::AsFd;
            io::stdin().as_fd().try_clone_to_owned().ok().and_then(|fd| File::from(fd).metadata().ok())
        } else {
            std::fs::metadata(&self.path).ok()
        }
    }

    /// A live stream: anything but a regular file (a terminal, a pipe, a FIFO, a socket).
    fn is_live(&self) -> bool {
        self.metadata().is_some_and(|m| !m.is_file())
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        if self.is_stdin() {
            Ok(Box::new(io::stdin()))
        } else {
            Ok(Box::new(File::open(&self.path)?))
        }
    }
}

/// The inputs of a run, in order.
pub struct Inputs {
    pub list: Vec<Input>,
}

impl Inputs {
    /// The inputs named on the command line (none: standard input).
    pub fn new(files: &[OsString]) -> Inputs {
        let stdin = [OsString::from("-")];
        let files = if files.is_empty() { &stdin[..] } else { files };
        Inputs { list: files.iter().map(Input::parse).collect() }
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
                let result = LineReader::new().read_all(file, |piece| on(piece_event(0, piece)));
                on(Event::End(0)).map_err(Failed::Consumer)?;
                return result;
            }
        }
        self.read_on_threads(on)
    }

    fn read_on_threads<E>(&self, mut on: impl FnMut(Event<'_>) -> Result<(), E>) -> Result<(), Failed<E>> {
        let (tx, rx) = mpsc::sync_channel(2 * self.list.len() + 2);
        for (node, input) in self.list.iter().enumerate() {
            // Regular files are opened here, so a missing one is reported before anything is
            // read; anything else on its thread (opening a FIFO waits for its writer).
            let open: Opener = if input.is_live() {
                let (stdin, path) = (input.is_stdin(), input.path.clone());
                Box::new(move || if stdin { Ok(Box::new(io::stdin())) } else { Ok(Box::new(File::open(path)?)) })
            } else {
                let reader = input.open().map_err(|e| Failed::Read(node, e))?;
                Box::new(move || Ok(reader))
            };
            let tx = tx.clone();
            signal::spawn(move || read_in_batches(node as u32, open, &tx));
        }
        drop(tx);
        let live = self.list.iter().any(Input::is_live);
        let mut open = self.list.len();
        while open > 0 && !signal::stopped() {
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
                    for end in ends {
                        let line = &data[start..end as usize];
                        on(Event::Line(LineIn { node, line, cut: false, dropped: 0, plain }))
                            .map_err(Failed::Consumer)?;
                        start = end as usize;
                    }
                    on(Event::Pause).map_err(Failed::Consumer)?;
                }
                Batch::Cut { node, head, dropped } => {
                    let line = LineIn { node, line: &head, cut: true, dropped, plain: false };
                    on(Event::Line(line)).map_err(Failed::Consumer)?;
                }
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

pub fn piece_event(node: u32, piece: Piece<'_>) -> Event<'_> {
    match piece {
        Piece::Line { line, cut, dropped, plain } => Event::Line(LineIn { node, line, cut, dropped, plain }),
        Piece::Pause => Event::Pause,
    }
}

/// What an input's thread hands over.
enum Batch {
    /// Whole lines: `data` holds them one after the other, `ends` where each ends; `plain` when
    /// none has a CR or a TAB.
    Lines { node: u32, data: Vec<u8>, ends: Vec<u32>, plain: bool },
    /// The head of a line over [`MAX_LINE`] bytes, and how many more bytes it had.
    Cut { node: u32, head: Vec<u8>, dropped: u64 },
    /// The input ended (or failed to open or read).
    Done { node: u32, result: io::Result<()> },
}

/// Opens an input, on the thread that reads it.
type Opener = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>;

/// Reads one input into batches of lines and sends them; the bounded channel keeps memory
/// bounded when the consumer falls behind.
fn read_in_batches(node: u32, open: Opener, tx: &mpsc::SyncSender<Batch>) {
    let reader = match open() {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.send(Batch::Done { node, result: Err(e) });
            return;
        }
    };
    let mut data = Vec::with_capacity(BLOCK);
    let mut ends = Vec::new();
    let mut plain = true;
    let send = |data: &mut Vec<u8>, ends: &mut Vec<u32>, plain: &mut bool| -> Result<(), ()> {
        if ends.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(data, Vec::with_capacity(BLOCK));
        let lines = std::mem::take(ends);
        let batch = Batch::Lines { node, data: full, ends: lines, plain: *plain };
        *plain = true;
        tx.send(batch).map_err(drop)
    };
    let result = LineReader::new().read_all(reader, |piece| -> Result<(), ()> {
        match piece {
            Piece::Line { line, cut: false, plain: line_plain, .. } => {
                data.extend_from_slice(line);
                ends.push(data.len() as u32);
                plain &= line_plain;
                if data.len() >= BLOCK {
                    send(&mut data, &mut ends, &mut plain)?;
                }
            }
            Piece::Line { line, cut: true, dropped, .. } => {
                send(&mut data, &mut ends, &mut plain)?;
                tx.send(Batch::Cut { node, head: line.to_vec(), dropped }).map_err(drop)?;
            }
            Piece::Pause => send(&mut data, &mut ends, &mut plain)?,
        }
        Ok(())
    });
    let result = match result {
        Ok(()) => send(&mut data, &mut ends, &mut plain).map(|()| Ok(())).unwrap_or(Ok(())),
        Err(Failed::Read(_, e)) => Err(e),
        Err(Failed::Consumer(())) => return,
    };
    let _ = tx.send(Batch::Done { node, result });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects (line, cut, dropped), reading through a reader that returns `chunk` bytes at a time.
    fn lines(data: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool, u64)> {
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
                if let Piece::Line { line, cut, dropped, plain } = e {
                    assert!(!plain || !line.contains(&b'\r') && !line.contains(&b'\t'));
                    out.push((line.to_vec(), cut, dropped));
                }
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn splits_on_newlines_keeping_endings() {
        for chunk in [1, 3, 1000, usize::MAX] {
            let got = lines(b"a\r\nbb\n\nlast", chunk);
            let want: Vec<(Vec<u8>, bool, u64)> = vec![
                (b"a\r\n".to_vec(), false, 0),
                (b"bb\n".to_vec(), false, 0),
                (b"\n".to_vec(), false, 0),
                (b"last".to_vec(), true, 0),
            ];
            assert_eq!(got, want, "chunk {chunk}");
        }
        assert!(lines(b"", 10).is_empty());
    }

    #[test]
    fn bare_crs_end_lines_wherever_they_fall() {
        for chunk in [1, 2, 3, 1000, usize::MAX] {
            let got = lines(b"a\rb\r\nc\r\rd\n\re", chunk);
            let want: Vec<(Vec<u8>, bool, u64)> = vec![
                (b"a\r".to_vec(), false, 0),
                (b"b\r\n".to_vec(), false, 0),
                (b"c\r".to_vec(), false, 0),
                (b"\r".to_vec(), false, 0),
                (b"d\n".to_vec(), false, 0),
                (b"\r".to_vec(), false, 0),
                (b"e".to_vec(), true, 0),
            ];
            assert_eq!(got, want, "chunk {chunk}");
        }
    }

    #[test]
    fn lines_after_a_cut_line_end_at_any_line_end() {
        // A long line ended by a bare CR, then 1000 lines ended by bare CRs.
        let mut data: Vec<u8> = std::iter::repeat(b'x').take(MAX_LINE + 100).collect();
        data.push(b'\r');
        for _ in 0..1000 {
            data.extend_from_slice(b"ab\r");
        }
        for chunk in [7, 4096, 100_000, BLOCK, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 1001, "chunk {chunk}");
            assert_eq!((got[0].0.len(), got[0].1, got[0].2), (MAX_LINE, true, 100), "chunk {chunk}");
            assert!(got[1..].iter().all(|l| l == &(b"ab\r".to_vec(), false, 0)), "chunk {chunk}");
        }
        // The same with CRLF after the long line, split between two reads.
        let mut data: Vec<u8> = std::iter::repeat(b'x').take(MAX_LINE + 100).collect();
        data.extend_from_slice(b"\r\nab\n");
        for chunk in [MAX_LINE + 101, 4096, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 2, "chunk {chunk}");
            assert_eq!(got[1], (b"ab\n".to_vec(), false, 0), "chunk {chunk}");
        }
    }

    #[test]
    fn a_line_is_cut_by_its_length_not_by_where_it_falls() {
        // Lines a little over MAX_LINE, after lead-ins of different lengths, read in different
        // chunk sizes: cut the same way every time.
        for lead in [0, 1, 5000, BLOCK - 3, BLOCK + 10] {
            for body in [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + BLOCK / 4, MAX_LINE + BLOCK - 1] {
                let mut data: Vec<u8> = std::iter::repeat(b'a').take(lead).collect();
                data.push(b'\n');
                data.extend(std::iter::repeat(b'y').take(body));
                data.push(b'\n');
                for chunk in [65536, 1_000_000, usize::MAX] {
                    let got = lines(&data, chunk);
                    assert_eq!(got.len(), 2);
                    let (line, cut, dropped) = &got[1];
                    if body > MAX_LINE {
                        assert_eq!((line.len(), *cut, *dropped), (MAX_LINE, true, (body - MAX_LINE) as u64));
                    } else {
                        assert_eq!((line.len(), *cut), (body + 1, false), "lead {lead} body {body} chunk {chunk}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_huge_line_is_cut_and_its_tail_dropped() {
        let mut data = b"first\n".to_vec();
        data.extend(std::iter::repeat(b'x').take(3 * MAX_LINE + 17));
        data.extend_from_slice(b"\r\nafter\n");
        for chunk in [4096, 100_000, BLOCK, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 3, "chunk {chunk}");
            assert_eq!(got[0], (b"first\n".to_vec(), false, 0));
            assert_eq!(got[1].0.len(), MAX_LINE);
            assert!(got[1].1);
            assert_eq!(got[1].2, (2 * MAX_LINE + 17) as u64, "chunk {chunk}");
            assert_eq!(got[2], (b"after\n".to_vec(), false, 0));
        }
        // Cut at the end of the input, with no newline.
        let tail: Vec<u8> = std::iter::repeat(b'y').take(MAX_LINE + 5).collect();
        let got = lines(&tail, 65536);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].1, got[0].2), (true, 5));
    }
}
