//! Bytes to lines: the one place that says where a line ends.
//!
//! [`LineReader`] reads a capture in large blocks and hands out one line at a time, in bounded
//! memory whatever the line lengths: a line ends at LF, CRLF or a bare CR, and a line longer
//! than [`MAX_LINE`] is handed out as its first `MAX_LINE` bytes, marked cut, with the number of
//! bytes past them that were read and dropped (a `SET` of a 512 MiB value still counts its
//! command, its key and its size, but is never held whole). A compressed input is refused at
//! its first bytes ([`Compressed`]).

use std::io::{self, Read};

use bstr::ByteSlice;

use crate::format::long_arg::LongArg;
use crate::format::scan;
use crate::read::compact::Compactor;
use crate::sys::signal::Stop;

/// The longest line handed out whole; a longer one is compacted (see [`crate::read::compact`]).
pub const MAX_LINE: usize = 1 << 20;

/// The most a compacted line may hold: its header, its short arguments, and the heads of its
/// long ones. Past it the line is cut.
pub const MAX_COMPACTED: usize = 4 << 20;

/// The bytes read at once, at most.
pub(crate) const BLOCK: usize = 256 * 1024;

/// What [`LineReader::read_all`] hands out.
pub enum LinePiece<'a> {
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
    /// Reading ends here, as if the input had, once the run is to stop.
    stop: Stop,
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
        LineReader { buf: vec![0; limit + block], limit, compactor: Compactor::new(cap), stop: Stop::never() }
    }

    /// The same reader, ending its input early when `stop` says the run is to stop.
    pub fn stopping(self, stop: Stop) -> LineReader {
        LineReader { stop, ..self }
    }

    /// The bytes read at once.
    pub(crate) fn block(&self) -> usize {
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
        mut on: impl FnMut(LinePiece<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let mut emit = |e: LinePiece<'_>| on(e).map_err(Failed::Consumer);
        let mut at = Cursor::default();
        let mut first = true;
        loop {
            if self.buf.len() - at.end < self.block() {
                self.buf.copy_within(at.start..at.end, 0);
                at.shift(at.start);
            }
            // A block at a time: the buffer's pages past it are touched only by long lines.
            let want = (self.buf.len() - at.end).min(self.block());
            if self.stop.requested() {
                // Ctrl-C: the input ends here, as if it had run out.
                return Ok(());
            }
            let n = match input.read(&mut self.buf[at.end..at.end + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A server's stream that was silent for a moment (see `connect`): a pause.
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    emit(LinePiece::Pause)?;
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
                emit(LinePiece::Pause)?;
            }
        }
    }

    /// Takes in `n` bytes just read after `at.end`: ends a line left waiting on a CR, skips the
    /// LF of a CRLF split by the read. Returns where to look next.
    fn received<E, F: PieceOut<E>>(&mut self, at: &mut Cursor, n: usize, emit: &mut F) -> Result<usize, Failed<E>> {
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
        Ok(scan)
    }

    /// Feeds the compactor what was just read of a long line, up to its end if that came;
    /// then hands out the compacted copy. Returns where to look next.
    fn long_tail<E, F: PieceOut<E>>(&mut self, at: &mut Cursor, scan: usize, emit: &mut F) -> Result<usize, Failed<E>> {
        match line_end(&self.buf[scan..at.end]) {
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
    fn whole_lines<E, F: PieceOut<E>>(&mut self, at: &mut Cursor, scan: usize, emit: &mut F) -> Result<(), Failed<E>> {
        // The block's LFs, CRs and TABs, found in one pass with the rarer control bytes below
        // CR, which are passed over.
        let mut found = scan::Every::<b'\r'>::new(&self.buf[..at.end], scan);
        while let Some(pos) = found.next(&self.buf[..at.end]) {
            let stop = if self.buf[pos] == b'\n' {
                pos + 1
            } else {
                match self.not_a_feed(at, pos) {
                    Some((stop, crlf)) => {
                        if crlf {
                            // The LF of this CRLF is the next one found.
                            found.next(&self.buf[..at.end]);
                        } else if stop == at.end {
                            // A CR that is the last byte read: an LF may follow in the next read.
                            at.pending_cr = true;
                            break;
                        }
                        stop
                    }
                    None => continue,
                }
            };
            if stop - at.start <= self.limit {
                let plain = at.tab_end <= at.start;
                emit(LinePiece::Line { line: &self.buf[at.start..stop], cut: false, dropped: 0, plain, long: &[] })?;
            } else {
                self.hand_out(at.start, stop, false, emit)?;
            }
            at.start = stop;
        }
        if at.end - at.start > self.limit && !at.pending_cr {
            // Too long to hold: compact what there is, and the rest as it comes.
            self.start_compacting(at.start, at.end);
            at.compacting = true;
            at.start = at.end;
        }
        Ok(())
    }

    /// What the byte at `pos`, found with the line feeds but not one, means: a CR ends a line
    /// (where it ends, and whether an LF follows it); a TAB is noted; any other is passed over.
    #[cold]
    fn not_a_feed(&self, at: &mut Cursor, pos: usize) -> Option<(usize, bool)> {
        match self.buf[pos] {
            b'\r' if pos + 1 < at.end && self.buf[pos + 1] == b'\n' => Some((pos + 2, true)),
            b'\r' => Some((pos + 1, false)),
            b'\t' => {
                at.tab_end = pos + 1;
                None
            }
            _ => None,
        }
    }

    /// Whether the line is a record is told from its first `limit` bytes, not from however many
    /// the reads had brought: a file and a pipe of the same bytes are compacted alike.
    fn start_compacting(&mut self, start: usize, end: usize) {
        let line = &self.buf[start..end];
        self.compactor.start(crate::format::record::looks_like_one(&line[..self.limit.min(line.len())]));
        self.compactor.feed(line);
    }

    /// Hands out `buf[start..stop]` (a line with its line end): whole, or compacted when it is
    /// longer than the limit; `cut` when the input ended inside it.
    fn hand_out<E, F: PieceOut<E>>(
        &mut self,
        start: usize,
        stop: usize,
        cut: bool,
        emit: &mut F,
    ) -> Result<(), Failed<E>> {
        let line = &self.buf[start..stop];
        let body = line.len() - line_ending(line);
        if body <= self.limit {
            return emit(LinePiece::Line { line, cut, dropped: 0, plain: false, long: &[] });
        }
        self.start_compacting(start, start + body);
        self.compactor.end_line(&self.buf[start + body..stop]);
        self.emit_compacted(cut, emit)
    }

    fn emit_compacted<E, F: PieceOut<E>>(&self, cut: bool, emit: &mut F) -> Result<(), Failed<E>> {
        let (line, full, dropped, long) = self.compactor.result();
        emit(LinePiece::Line { line, cut: cut || full, dropped, plain: false, long })
    }

    /// The input ended: what is left is its last line. Without its line end it may have been
    /// cut short (a dropped connection, a file rotated mid-write): it is handed out as cut.
    fn last_line<E, F: PieceOut<E>>(&mut self, at: &Cursor, emit: &mut F) -> Result<(), Failed<E>> {
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
trait PieceOut<E>: FnMut(LinePiece<'_>) -> Result<(), Failed<E>> {}

impl<E, F: FnMut(LinePiece<'_>) -> Result<(), Failed<E>>> PieceOut<E> for F {}

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
    /// One past the last TAB found in the buffer (0 if none): a line starting at or after it is
    /// plain. Found in the same pass as the line ends instead of a search per line.
    tab_end: usize,
}

impl Cursor {
    /// The buffer's bytes moved `by` to the front.
    fn shift(&mut self, by: usize) {
        self.start -= by;
        self.end -= by;
        self.tab_end = self.tab_end.saturating_sub(by);
    }
}

/// Where the first line in `bytes` ends: (the offset of its line end, the line end's length).
/// A CR that is the last byte ends a line (an LF after it, read later, is skipped by the caller).
/// (The end of a long line being compacted; whole lines' ends are found with [`scan::Every`].)
fn line_end(bytes: &[u8]) -> Option<(usize, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::compact::{HEAD, MAX_HEADER};

    /// A reader that returns (at most) the given number of bytes at a time.
    struct Chunky<'a>(&'a [u8], usize);

    impl Read for Chunky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// (line, cut, dropped, arguments kept by their head), reading through a reader that returns
    /// `chunk` bytes at a time.
    fn lines(data: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool, u64, usize)> {
        let mut out = Vec::new();
        LineReader::new()
            .read_all(Chunky(data, chunk), |e| -> io::Result<()> {
                if let LinePiece::Line { line, cut, dropped, plain, long } = e {
                    assert!(!plain || !line.contains(&b'\t'));
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

    #[test]
    fn tabs_and_other_control_bytes_are_found_with_the_line_ends() {
        // Lines of every length around the 64-byte blocks, holding a TAB, the control bytes
        // below CR (passed over) or none, ended by LF, CRLF or CR: split as a plain search
        // splits them, and plain exactly when the line has no TAB.
        let mut data = Vec::new();
        let mut want = Vec::new();
        for len in 0..150 {
            let mut line: Vec<u8> = (0..len).map(|i| b"ab\x00\x0b\x0c\x01xyz"[i % 9]).collect();
            if len % 3 == 1 {
                line[len / 2] = b'\t';
            }
            line.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][len % 3]);
            data.extend_from_slice(&line);
            want.push((line.contains(&b'\t'), line));
        }
        // Not a CR last: that line would wait for the next read.
        data.extend_from_slice(b"end\n");
        want.push((false, b"end\n".to_vec()));
        for chunk in [1, 7, 64, 100, 4096, usize::MAX] {
            let mut got = Vec::new();
            LineReader::new()
                .read_all(Chunky(&data, chunk), |e| -> io::Result<()> {
                    if let LinePiece::Line { line, plain, .. } = e {
                        got.push((line.to_vec(), plain));
                    }
                    Ok(())
                })
                .unwrap();
            assert_eq!(got.len(), want.len(), "chunk {chunk}");
            for ((line, plain), (tab, want_line)) in got.iter().zip(&want) {
                assert_eq!(line, want_line, "chunk {chunk}");
                // A line handed out by the block pass knows whether it has a TAB; one ended
                // across reads (a CR at a read's end) may say it does not know.
                assert!(!plain || !tab, "chunk {chunk} {line:?}");
                if chunk == usize::MAX {
                    assert_eq!(*plain, !tab, "{line:?}");
                }
            }
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
    fn a_long_line_is_compacted_alike_whatever_the_reads_brought_when_it_began() {
        // No TAB nor quote in the first MAX_LINE bytes, then a TAB and a quote. Read 4096 bytes at
        // a time, compacting begins before the TAB is read; read a block at a time, the whole
        // line is there at once. Both ways: no MONITOR line (its header is over MAX_HEADER), nor
        // a record (no TAB in its first MAX_LINE bytes), kept by its first MAX_HEADER bytes.
        let mut data = vec![b'x'; MAX_LINE + 50_000];
        data.extend_from_slice(b"\t\"y\"\n");
        let mut kept = vec![b'x'; MAX_HEADER];
        kept.push(b'\n');
        let want = vec![(kept, true, (data.len() - 1 - MAX_HEADER) as u64, 0)];
        // A record whose TAB-separated head came first: a record (its long field kept by its head)
        // however it is read.
        let mut record = b"1.5\t0\t".to_vec();
        record.extend_from_slice(&data);
        let as_record = lines(&record, usize::MAX);
        assert!(as_record.len() == 1 && as_record[0].0.starts_with(b"1.5\t0\txxx") && !as_record[0].1);
        for chunk in [4096, 100_000, BLOCK, usize::MAX] {
            assert!(lines(&data, chunk) == want, "chunk {chunk}");
            assert!(lines(&record, chunk) == as_record, "record, chunk {chunk}");
        }
    }

    #[test]
    fn a_long_line_whose_header_is_at_most_max_header_bytes_is_a_monitor_line() {
        // A client of a line over MAX_LINE making its header (the bytes before the first quote)
        // MAX_HEADER bytes long, then one more: kept as a MONITOR line, then not, however read.
        for (header, monitor) in [(MAX_HEADER, true), (MAX_HEADER + 1, false)] {
            let mut line = b"1700000000.000002 [0 unix:/".to_vec();
            line.resize(header - 2, b'u');
            line.extend_from_slice(b"] \"set\" \"k\" \"");
            line.resize(line.len() + MAX_LINE, b'v');
            line.extend_from_slice(b"\"\n");
            for chunk in [4096, 100_000, BLOCK, usize::MAX] {
                let got = lines(&line, chunk);
                assert_eq!(got.len(), 1);
                let (copy, cut, _, long) = &got[0];
                if monitor {
                    assert!(copy.starts_with(&line[..header + 11]) && !cut && *long == 1, "chunk {chunk}");
                } else {
                    assert!(
                        copy[..MAX_HEADER] == line[..MAX_HEADER] && copy.len() == MAX_HEADER + 1 && *cut,
                        "chunk {chunk}"
                    );
                }
            }
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
