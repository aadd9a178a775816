//! A regular file cut into byte ranges at line starts, one per core, so that each range is read,
//! parsed and counted on a core of its own (the report of one file: see
//! [`crate::sink::split`]), or into many chunks, whose records are made on every core and
//! written in file order ([`chunks`], for [`crate::sink::chunked`]).
//!
//! A range starts just after a line feed and ends just after one (the last at the file's end),
//! so every line is read whole by exactly one range, and a CR LF is never parted. A cut that
//! finds no line feed within [`MAX_LINE`] of where it falls is dropped (it is inside a line the
//! reader compacts, which a range of its own would have to hold back whole): a file of few, huge
//! lines is read in fewer ranges (one, at worst). Only a file of at least [`MIN_SPLIT`] bytes is
//! cut at all.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::format::{record, scan};
use crate::read::lines::{compressed, MAX_LINE};
use crate::read::sources::{sniff, Content, Input};

/// The smallest file read in ranges: below it the threads' start and the join of their tables
/// would cost more than the second core saves.
pub const MIN_SPLIT: u64 = 8 << 20;

/// The most ranges a file is cut into, whatever the cores: each range counts into key tables
/// of the whole `--max-keys`, so that the bounds stay those of one pass, and memory grows with
/// the ranges.
pub const MAX_RANGES: usize = 2;

/// The bytes looked at at once for a line feed.
const LOOK: usize = 64 * 1024;

/// A named regular file of MONITOR lines, with its ranges for `parts` cores; `None` for
/// anything else, for a file too small to cut, and for a file of records (`--emit tsv` or
/// `keys` read back), whose header and node names are told once for the lines that follow.
pub fn of_file(input: &Input, parts: usize) -> io::Result<Option<Ranges>> {
    if input.is_stdin() || input.is_live() || input.server.is_some() {
        return Ok(None);
    }
    let file = File::open(&input.path)?;
    let len = file.metadata()?.len();
    if len < MIN_SPLIT || parts < 2 {
        return Ok(None);
    }
    let (kind, _) = sniff(Box::new(RangeReader::new(Arc::new(file.try_clone()?), 0..len)))?;
    if !matches!(kind, Content::Lines) {
        return Ok(None);
    }
    let ranges = cut(&file, len, parts)?;
    for range in &ranges {
        let mut head = vec![0; 4096.min((range.end - range.start) as usize)];
        let n = file.read_at(&mut head, range.start)?;
        let line = &head[..scan::find(&head[..n], b'\n').unwrap_or(n)];
        if record::looks_like_one(line) {
            return Ok(None);
        }
    }
    Ok((ranges.len() > 1).then(|| Ranges { file: Arc::new(file), ranges }))
}

/// A file and its ranges, in file order.
pub struct Ranges {
    pub file: Arc<File>,
    pub ranges: Vec<Range<u64>>,
}

/// `ranges` with the last read on to the file's end wherever it is when it is reached: a file
/// still being written (`redis-cli monitor > capture.txt`, read meanwhile) is read as one pass
/// reads it, its line in progress and all after it included, not cut at its length when the
/// run began.
pub fn read_on(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    if let Some(last) = ranges.last_mut() {
        last.end = u64::MAX;
    }
    ranges
}

/// The ranges of `file` (`len` bytes) for `parts` cores, in file order; one range when the file
/// is smaller than [`MIN_SPLIT`] or `parts` is 1.
pub fn cut(file: &File, len: u64, parts: usize) -> io::Result<Vec<Range<u64>>> {
    if len < MIN_SPLIT || parts < 2 {
        return Ok(std::iter::once(0..len).collect());
    }
    let mut starts = vec![0];
    for i in 1..parts as u64 {
        let at = len / parts as u64 * i;
        let from = (*starts.last().unwrap_or(&0)).max(at);
        let next = if i + 1 == parts as u64 { len } else { len / parts as u64 * (i + 1) };
        let limit = next.min(from.saturating_add(MAX_LINE as u64));
        if let Some(start) = line_start_after(file, from, limit)? {
            if start < len && start > *starts.last().unwrap_or(&0) {
                starts.push(start);
            }
        }
    }
    let ends = starts.iter().skip(1).copied().chain([len]);
    Ok(starts.iter().zip(ends).map(|(&s, e)| s..e).collect())
}

/// The chunks of `file` (`len` bytes, at least [`MIN_SPLIT`]), of about `size` bytes each, in
/// file order, for the records of a file written from every core ([`crate::sink::chunked`]):
/// cut at line starts as [`cut`] does, and never where the line that starts a chunk begins
/// with what the line reader takes for a compressor's magic number (it looks at the first
/// bytes of what it reads: a chunk read by itself must read as the same lines). `None` when
/// the file itself begins so (it is read in one pass, which says why it cannot be read).
pub fn chunks(file: &File, len: u64, size: u64) -> io::Result<Option<Vec<Range<u64>>>> {
    let parts = len.div_ceil(size.max(1)).max(2) as usize;
    let mut chunks: Vec<Range<u64>> = Vec::with_capacity(parts);
    for range in cut(file, len, parts)? {
        let mut head = [0; 4];
        let n = file.read_at(&mut head, range.start)?;
        match chunks.last_mut() {
            Some(last) if compressed(&head[..n]).is_some() => last.end = range.end,
            None if compressed(&head[..n]).is_some() => return Ok(None),
            _ => chunks.push(range),
        }
    }
    Ok(Some(chunks))
}

/// Where the first line starting after offset `from` starts (just past its line feed), looking
/// no further than `limit`; `None` when no line feed comes before it.
fn line_start_after(file: &File, from: u64, limit: u64) -> io::Result<Option<u64>> {
    // Lines are short: a small look first, whole blocks after it.
    let mut buf = vec![0; 4096];
    let mut at = from;
    while at < limit {
        let want = buf.len().min((limit - at) as usize);
        let n = match file.read_at(&mut buf[..want], at) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(i) = scan::find(&buf[..n], b'\n') {
            return Ok(Some(at + i as u64 + 1));
        }
        at += n as u64;
        buf.resize(LOOK, 0);
    }
    Ok(None)
}

/// One range of a file, read as a stream of its own (positioned reads: the ranges share the
/// file, not a file offset).
pub struct RangeReader {
    file: Arc<File>,
    at: u64,
    end: u64,
}

impl RangeReader {
    pub fn new(file: Arc<File>, range: Range<u64>) -> RangeReader {
        RangeReader { file, at: range.start, end: range.end }
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.at.min(self.end)) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!("faina-ranges-{}-{}", std::process::id(), bytes.len()));
        File::create(&path).and_then(|mut f| f.write_all(bytes)).expect("temporary file");
        let file = File::open(&path).expect("temporary file");
        let _ = std::fs::remove_file(&path);
        file
    }

    fn read(file: &Arc<File>, range: Range<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        RangeReader::new(file.clone(), range).read_to_end(&mut out).expect("read");
        out
    }

    #[test]
    fn ranges_start_at_line_starts_and_cover_the_file_once() {
        let mut bytes = Vec::new();
        let mut i = 0u64;
        while (bytes.len() as u64) < MIN_SPLIT + 12345 {
            // Lines of varied lengths, some ending CR LF.
            let end: &[u8] = if i % 3 == 0 { b"\r\n" } else { b"\n" };
            bytes.extend_from_slice(format!("{i} {}", "x".repeat((i % 97) as usize)).as_bytes());
            bytes.extend_from_slice(end);
            i += 1;
        }
        bytes.extend_from_slice(b"last line without its end");
        let len = bytes.len() as u64;
        let file = Arc::new(file_of(&bytes));
        for parts in [2, 3, 7] {
            let ranges = cut(&file, len, parts).expect("cut");
            assert_eq!(ranges.len(), parts);
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges.last().map(|r| r.end), Some(len));
            let mut joined = Vec::new();
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(bytes[pair[1].start as usize - 1], b'\n', "a range starts after a line feed");
            }
            for r in &ranges {
                joined.extend(read(&file, r.clone()));
            }
            assert_eq!(joined, bytes);
        }
    }

    #[test]
    fn chunks_start_at_line_starts_and_never_at_a_compressors_magic() {
        let mut bytes = Vec::new();
        let mut i = 0u64;
        while (bytes.len() as u64) < MIN_SPLIT + 4321 {
            // Every line after a thousand starts with gzip's magic number.
            if i % 1000 == 999 {
                bytes.extend_from_slice(&[0x1f, 0x8b]);
            }
            bytes.extend_from_slice(format!("{i} {}\r\n", "y".repeat((i % 89) as usize)).as_bytes());
            i += 1;
        }
        let len = bytes.len() as u64;
        let file = Arc::new(file_of(&bytes));
        let chunks = chunks(&file, len, 64 << 10).expect("read").expect("chunks");
        assert!(chunks.len() > 100, "{}", chunks.len());
        assert_eq!((chunks[0].start, chunks.last().map(|c| c.end)), (0, Some(len)));
        for pair in chunks.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            let start = pair[1].start as usize;
            assert_eq!(bytes[start - 1], b'\n');
            assert!(compressed(&bytes[start..]).is_none(), "a chunk at {start} starts with the magic");
        }
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&bytes);
        let file = file_of(&gz);
        assert!(super::chunks(&file, gz.len() as u64, 64 << 10).expect("read").is_none(), "a compressed file");
    }

    #[test]
    fn small_files_and_files_without_line_feeds_are_one_range() {
        let small = file_of(b"1 a\n2 b\n");
        assert_eq!(cut(&small, 8, 2).expect("cut"), Vec::from_iter(std::iter::once(0..8)));
        let one_line = vec![b'x'; MIN_SPLIT as usize + 10];
        let file = file_of(&one_line);
        assert_eq!(
            cut(&file, one_line.len() as u64, 2).expect("cut"),
            Vec::from_iter(std::iter::once(0..one_line.len() as u64))
        );
        // One huge line across the middle: the cut is dropped (a range of that line alone would
        // hold it back, and the file be read again in one pass).
        let mut bytes = b"1 short\n".to_vec();
        bytes.extend(vec![b'y'; MIN_SPLIT as usize]);
        bytes.extend_from_slice(b"\n2 after\n");
        let file = file_of(&bytes);
        let ranges = cut(&file, bytes.len() as u64, 2).expect("cut");
        assert_eq!(ranges, vec![0..bytes.len() as u64]);
        // A line under MAX_LINE across the middle: the cut moves past it.
        let mut bytes = vec![b'a'; MIN_SPLIT as usize / 2 - 100];
        bytes.push(b'\n');
        bytes.extend(vec![b'b'; MAX_LINE / 2]);
        bytes.push(b'\n');
        bytes.extend(vec![b'c'; MIN_SPLIT as usize / 2]);
        bytes.push(b'\n');
        let file = file_of(&bytes);
        let second = (MIN_SPLIT as usize / 2 - 100 + 1 + MAX_LINE / 2 + 1) as u64;
        assert_eq!(cut(&file, bytes.len() as u64, 2).expect("cut"), vec![0..second, second..bytes.len() as u64]);
    }
}
