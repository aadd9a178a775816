//! Bytes to lines: reads a capture in large blocks and hands out one line at a time, in bounded
//! memory whatever the line lengths.
//!
//! A line longer than [`MAX_LINE`] is handed out as its first `MAX_LINE` bytes, marked cut, with
//! the number of bytes past them that were read and dropped: a `SET` of a 512 MiB value still
//! counts its command, its key and its size, but is never held whole. The reader also says when
//! the input pauses (a read returned less than it asked for), so output can be flushed while a
//! live stream is idle.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use bstr::ByteSlice;

use crate::signal;

/// The longest line kept whole.
pub const MAX_LINE: usize = 1 << 20;
const BLOCK: usize = 256 * 1024;

/// What the reader hands out.
pub enum Event<'a> {
    /// One line, with its line ending if it had one. When `cut`, `line` is only its first
    /// [`MAX_LINE`] bytes and `dropped` more bytes followed (its CRLF or LF excluded). `plain`
    /// promises the line has no CR and no TAB (false when unknown): the parser skips looking.
    Line { line: &'a [u8], cut: bool, dropped: u64, plain: bool },
    /// The input has nothing more for now.
    Pause,
    /// Nothing arrived for a while (a [`Feed`] with a tick): time to look at the clock.
    Idle,
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum Failed<E> {
    /// The input could not be read.
    Read(io::Error),
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
        mut on: impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let mut emit = |e: Event<'_>| on(e).map_err(Failed::Consumer);
        let (mut start, mut end) = (0, 0);
        // The bytes dropped so far from a cut line whose head is buf[start..start + MAX_LINE]:
        // while cutting, every read goes to the space after the head.
        let mut cutting: Option<u64> = None;
        // The last line (a cut one) ended with a CR that was the last byte read: an LF read
        // next belongs to it.
        let mut skip_lf = false;
        // The line under way ends with a CR that was the last byte read, and the next read tells
        // whether an LF belongs to it.
        let mut pending_cr = false;
        // One past the last CR or TAB in the buffer (0 if none): a line starting at or after it
        // is plain. One backwards search per block instead of two searches per line.
        let mut special_end: usize = 0;
        loop {
            if cutting.is_none() && self.buf.len() - end < BLOCK {
                self.buf.copy_within(start..end, 0);
                end -= start;
                special_end = special_end.saturating_sub(start);
                start = 0;
            }
            let want = self.buf.len() - end;
            if signal::stopped() {
                // Ctrl-C: the input ends here, as if it had run out.
                return Ok(());
            }
            let n = match input.read(&mut self.buf[end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    emit(Event::Idle)?;
                    continue;
                }
                Err(e) => return Err(Failed::Read(e)),
            };
            if n == 0 {
                match cutting {
                    Some(dropped) => {
                        emit(Event::Line { line: &self.buf[start..end], cut: true, dropped, plain: false })?
                    }
                    None if start < end => {
                        let (line, cut, dropped) = cut_to_size(&self.buf[start..end]);
                        emit(Event::Line { line, cut, dropped, plain: false })?
                    }
                    None => {}
                }
                return Ok(());
            }
            let mut scan = end;
            end += n;
            if pending_cr {
                // The line before ended with the CR just before this read.
                pending_cr = false;
                let stop = if self.buf[scan] == b'\n' { scan + 1 } else { scan };
                let (line, cut, dropped) = cut_to_size(&self.buf[start..stop]);
                emit(Event::Line { line, cut, dropped, plain: false })?;
                start = stop;
                scan = stop;
            }
            if skip_lf {
                skip_lf = false;
                if self.buf[scan] == b'\n' {
                    scan += 1;
                    if cutting.is_none() {
                        start = scan;
                    }
                }
            }
            if let Some(at) = self.buf[scan..end].rfind_byteset(b"\r\t") {
                special_end = scan + at + 1;
            }
            if let Some(dropped) = cutting {
                // Only the end of the cut line is looked for; what comes before it is dropped.
                match line_end(&self.buf[scan..end], true) {
                    None => {
                        cutting = Some(dropped + (end - scan) as u64);
                        end = start + MAX_LINE;
                    }
                    Some((at, len)) => {
                        let head_end = start + MAX_LINE;
                        emit(Event::Line {
                            line: &self.buf[start..head_end],
                            cut: true,
                            dropped: dropped + at as u64,
                            plain: false,
                        })?;
                        cutting = None;
                        skip_lf = scan + at + len == end && self.buf[end - 1] == b'\r';
                        start = scan + at + len;
                        scan = start;
                    }
                }
            }
            if cutting.is_none() {
                let maybe_cr = special_end > start;
                while let Some((at, len)) = line_end(&self.buf[scan..end], maybe_cr) {
                    let stop = scan + at + len;
                    if stop == end && self.buf[end - 1] == b'\r' {
                        // A CR that is the last byte read: an LF may follow in the next read.
                        pending_cr = true;
                        break;
                    }
                    let (line, cut, dropped) = cut_to_size(&self.buf[start..stop]);
                    emit(Event::Line { line, cut, dropped, plain: special_end <= start })?;
                    start = stop;
                    scan = start;
                }
                if end - start > MAX_LINE {
                    if self.buf[end - 1] == b'\r' {
                        // The line ends at that CR; the LF that may follow is skipped.
                        let (line, cut, dropped) = cut_to_size(&self.buf[start..end]);
                        emit(Event::Line { line, cut, dropped, plain: false })?;
                        skip_lf = true;
                        pending_cr = false;
                        start = end;
                    } else {
                        // Keep the head where it is; what follows it is counted and dropped.
                        cutting = Some((end - start - MAX_LINE) as u64);
                        end = start + MAX_LINE;
                    }
                }
            }
            if n < want {
                emit(Event::Pause)?;
            }
        }
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

/// An input read on a thread of its own and handed over in blocks, so the main thread can wake
/// up while a live stream is idle (reads time out with [`io::ErrorKind::TimedOut`] after `tick`),
/// stop at Ctrl-C, and parse while the next block is being read.
pub struct Feed {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Blocks go back to the reading thread once read, so they are allocated (and zeroed) once.
    spent: mpsc::Sender<Vec<u8>>,
    block: Vec<u8>,
    pos: usize,
    tick: Option<Duration>,
}

impl Feed {
    /// Starts reading `input`; `tick` is how long a read may wait before it reports idleness.
    pub fn spawn<R: Read + Send + 'static>(input: R, tick: Option<Duration>) -> Feed {
        Feed::start(move || Ok(input), tick)
    }

    /// Opens the file at `path` and reads it, both on the reading thread (opening a FIFO waits
    /// until something opens it for writing); an error opening it comes back from the first read.
    pub fn open(path: std::path::PathBuf, tick: Option<Duration>) -> Feed {
        Feed::start(move || std::fs::File::open(path), tick)
    }

    fn start<R: Read>(open: impl FnOnce() -> io::Result<R> + Send + 'static, tick: Option<Duration>) -> Feed {
        // Four blocks in flight at most: memory stays bounded if parsing falls behind.
        let (tx, blocks) = mpsc::sync_channel(4);
        let (spent, reuse) = mpsc::channel::<Vec<u8>>();
        signal::spawn(move || {
            let mut input = match open() {
                Ok(input) => input,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            loop {
                let mut block = reuse.try_recv().unwrap_or_default();
                block.resize(BLOCK, 0);
                match input.read(&mut block) {
                    Ok(0) => break,
                    Ok(n) => {
                        block.truncate(n);
                        if tx.send(Ok(block)).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Feed { blocks, spent, block: Vec::new(), pos: 0, tick }
    }
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if signal::stopped() {
            return Ok(0);
        }
        if self.pos == self.block.len() {
            let next = match self.tick {
                Some(tick) => match self.blocks.recv_timeout(tick) {
                    Ok(block) => block,
                    Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::TimedOut.into()),
                    Err(RecvTimeoutError::Disconnected) => return Ok(0),
                },
                None => match self.blocks.recv() {
                    Ok(block) => block,
                    Err(_) => return Ok(0),
                },
            };
            let used = std::mem::replace(&mut self.block, next?);
            if used.capacity() > 0 {
                let _ = self.spent.send(used);
            }
            self.pos = 0;
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What an input's thread hands over when several inputs are read at once.
pub enum Batch {
    /// Whole lines, each with its line ending (the last may lack one at the end of the input).
    Lines { node: usize, data: Vec<u8> },
    /// The head of a line over [`MAX_LINE`] bytes, and how many more bytes it had.
    Cut { node: usize, head: Vec<u8>, dropped: u64 },
    /// The input ended (or failed to read).
    Done { node: usize, result: io::Result<()> },
}

/// Reads `input` on a thread of its own, splitting it into lines and sending them in batches;
/// the bounded channel keeps memory bounded when the consumer falls behind.
pub fn spawn_lines(node: usize, input: Box<dyn Read + Send>, tx: mpsc::SyncSender<Batch>) {
    signal::spawn(move || {
        let mut reader = LineReader::new();
        let mut data = Vec::with_capacity(BLOCK);
        let result = reader.read_all(input, |event| -> Result<(), ()> {
            let send = |data: &mut Vec<u8>| {
                if data.is_empty() {
                    return Ok(());
                }
                let full = std::mem::replace(data, Vec::with_capacity(BLOCK));
                tx.send(Batch::Lines { node, data: full }).map_err(drop)
            };
            match event {
                Event::Line { line, cut: false, .. } => {
                    data.extend_from_slice(line);
                    if !line.ends_with(b"\n") {
                        // A line ended by a bare CR, or the input's last line without its line
                        // end: an LF keeps it a line of its own when the batch is split again.
                        data.push(b'\n');
                    }
                    if data.len() >= BLOCK {
                        send(&mut data)?;
                    }
                }
                Event::Line { line, cut: true, dropped, .. } => {
                    send(&mut data)?;
                    tx.send(Batch::Cut { node, head: line.to_vec(), dropped }).map_err(drop)?;
                }
                Event::Pause | Event::Idle => send(&mut data)?,
            }
            Ok(())
        });
        let result = match result {
            Ok(()) if !data.is_empty() => tx.send(Batch::Lines { node, data }).map(|_| Ok(())).unwrap_or(Ok(())),
            Ok(()) => Ok(()),
            Err(Failed::Read(e)) => Err(e),
            Err(Failed::Consumer(())) => return,
        };
        let _ = tx.send(Batch::Done { node, result });
    });
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
                if let Event::Line { line, cut, dropped, plain } = e {
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
                (b"last".to_vec(), false, 0),
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
                (b"e".to_vec(), false, 0),
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
