//! Bytes to lines: reads a capture in large blocks and hands out one line at a time, in bounded
//! memory whatever the line lengths.
//!
//! A line longer than [`MAX_LINE`] is handed out as its first `MAX_LINE` bytes, marked cut, and
//! the rest of it is read past and dropped (a `SET` of a 512 MiB value still counts its command
//! and key). The reader also says when the input pauses (a read returned less than it asked for),
//! so output can be flushed while a live stream is idle.

use std::io::{self, Read};

use bstr::ByteSlice;

/// The longest line kept whole.
pub const MAX_LINE: usize = 1 << 20;
const BLOCK: usize = 256 * 1024;

/// What the reader hands out.
pub enum Event<'a> {
    /// One line, with its line ending if it had one; `cut` when only its head is here.
    Line { line: &'a [u8], cut: bool },
    /// The input has nothing more for now.
    Pause,
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum Failed {
    /// The input could not be read.
    Read(io::Error),
    /// The consumer of the lines failed (its output could not be written).
    Consumer(io::Error),
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
    pub fn read_all<R: Read>(
        &mut self,
        mut input: R,
        mut on: impl FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), Failed> {
        let (mut start, mut end) = (0, 0);
        // While set, bytes up to the next newline belong to a cut line and are dropped.
        let mut dropping = false;
        loop {
            if self.buf.len() - end < BLOCK {
                self.buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            let want = self.buf.len() - end;
            let n = match input.read(&mut self.buf[end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failed::Read(e)),
            };
            if n == 0 {
                if start < end && !dropping {
                    on(Event::Line { line: &self.buf[start..end], cut: false }).map_err(Failed::Consumer)?;
                }
                return Ok(());
            }
            let mut scan = end;
            end += n;
            while let Some(at) = self.buf[scan..end].find_byte(b'\n') {
                let nl = scan + at;
                if dropping {
                    dropping = false;
                } else {
                    on(Event::Line { line: &self.buf[start..=nl], cut: false }).map_err(Failed::Consumer)?;
                }
                start = nl + 1;
                scan = start;
            }
            if dropping {
                start = end;
            } else if end - start >= MAX_LINE {
                on(Event::Line { line: &self.buf[start..start + MAX_LINE], cut: true }).map_err(Failed::Consumer)?;
                dropping = true;
                start = end;
            }
            if n < want {
                on(Event::Pause).map_err(Failed::Consumer)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects (line, cut) pairs, reading through a reader that returns `chunk` bytes at a time.
    fn lines(data: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool)> {
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
            .read_all(Chunky(data, chunk), |e| {
                if let Event::Line { line, cut } = e {
                    out.push((line.to_vec(), cut));
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
            let want: Vec<(Vec<u8>, bool)> = vec![
                (b"a\r\n".to_vec(), false),
                (b"bb\n".to_vec(), false),
                (b"\n".to_vec(), false),
                (b"last".to_vec(), false),
            ];
            assert_eq!(got, want, "chunk {chunk}");
        }
        assert!(lines(b"", 10).is_empty());
    }

    #[test]
    fn a_huge_line_is_cut_and_its_tail_dropped() {
        let mut data = b"first\n".to_vec();
        data.extend(std::iter::repeat(b'x').take(3 * MAX_LINE + 17));
        data.extend_from_slice(b"\nafter\n");
        for chunk in [4096, BLOCK, usize::MAX] {
            let got = lines(&data, chunk);
            assert_eq!(got.len(), 3, "chunk {chunk}");
            assert_eq!(got[0], (b"first\n".to_vec(), false));
            assert_eq!(got[1].0.len(), MAX_LINE);
            assert!(got[1].1);
            assert_eq!(got[2], (b"after\n".to_vec(), false));
        }
    }
}
