//! The little of RESP2 the handshake needs: commands sent as arrays of bulk strings, and replies
//! read back in bounded memory (a reply past [`MAX_REPLY`] bytes is an error, never an
//! allocation the server decides). After `MONITOR`'s `+OK` the stream is no longer read here:
//! the bytes already buffered are handed back with the stream ([`Wire::into_parts`]).

use std::io::{self, Read, Write};

/// The most a handshake reply may take (CLUSTER SHARDS of a large cluster fits in far less).
pub const MAX_REPLY: usize = 16 << 20;

/// The longest reply line (a status, an error, a length).
const MAX_LINE: usize = 64 << 10;

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
}

impl Reply {
    /// The text of a simple or bulk string.
    pub fn text(&self) -> Option<&[u8]> {
        match self {
            Reply::Simple(b) | Reply::Bulk(b) => Some(b),
            _ => None,
        }
    }

    /// The value after `key` in a RESP2 map (an array of key, value, key, value…).
    pub fn get(&self, key: &[u8]) -> Option<&Reply> {
        match self {
            Reply::Array(items) => items.chunks(2).find(|kv| kv[0].text() == Some(key)).and_then(|kv| kv.get(1)),
            _ => None,
        }
    }
}

/// A command as RESP: an array of bulk strings.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A stream with its read buffer.
pub struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
}

impl<S: Read + Write> Wire<S> {
    pub fn new(stream: S) -> Wire<S> {
        Wire { stream, buf: Vec::with_capacity(4096), start: 0 }
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.stream.write_all(&command(args))?;
        let mut budget = MAX_REPLY;
        self.reply(&mut budget)
    }

    /// The stream, and what was read past the last reply.
    pub fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buf[self.start..].to_vec())
    }

    fn reply(&mut self, budget: &mut usize) -> io::Result<Reply> {
        let line = self.line(budget)?;
        let (kind, body) = line.split_first().ok_or_else(|| bad("an empty reply line"))?;
        let number = || -> io::Result<i64> {
            std::str::from_utf8(body).ok().and_then(|t| t.parse().ok()).ok_or_else(|| bad("a length that is no number"))
        };
        Ok(match kind {
            b'+' => Reply::Simple(body.to_vec()),
            b'-' => Reply::Error(body.to_vec()),
            b':' => Reply::Int(number()?),
            b'$' => match number()? {
                n if n < 0 => Reply::Nil,
                n => Reply::Bulk(self.bulk(n as usize, budget)?),
            },
            b'*' => match number()? {
                n if n < 0 => Reply::Nil,
                n => {
                    let n = n as usize;
                    // Every element takes at least 3 bytes: the count cannot outrun the budget.
                    if n > *budget / 3 {
                        return Err(bad("a reply larger than the handshake allows"));
                    }
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.reply(budget)?);
                    }
                    Reply::Array(items)
                }
            },
            _ => return Err(bad("not a RESP reply (is this a Redis server?)")),
        })
    }

    /// One line without its CRLF.
    fn line(&mut self, budget: &mut usize) -> io::Result<Vec<u8>> {
        // How far past `start` is known to hold no CRLF.
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.start..];
            if let Some(at) = pending[scanned..].windows(2).position(|w| w == b"\r\n") {
                let end = scanned + at;
                let line = pending[..end].to_vec();
                self.consume(end + 2, budget)?;
                return Ok(line);
            }
            scanned = pending.len().saturating_sub(1);
            if pending.len() > MAX_LINE {
                return Err(bad("a reply line longer than the handshake allows"));
            }
            self.fill()?;
        }
    }

    fn bulk(&mut self, n: usize, budget: &mut usize) -> io::Result<Vec<u8>> {
        if n + 2 > *budget {
            return Err(bad("a reply larger than the handshake allows"));
        }
        while self.buf.len() - self.start < n + 2 {
            self.fill()?;
        }
        let body = self.buf[self.start..self.start + n].to_vec();
        self.consume(n + 2, budget)?;
        Ok(body)
    }

    fn consume(&mut self, n: usize, budget: &mut usize) -> io::Result<()> {
        self.start += n;
        *budget = budget.checked_sub(n).ok_or_else(|| bad("a reply larger than the handshake allows"))?;
        Ok(())
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let mut chunk = [0u8; 16 << 10];
        let n = loop {
            match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that replays `input` in `chunk`-byte reads and swallows writes.
    struct Replay(Vec<u8>, usize);
    impl Read for Replay {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    impl Write for Replay {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn replies_are_read_whatever_the_reads_and_the_rest_is_handed_back() {
        let data = b"+OK\r\n*2\r\n$2\r\nid\r\n*1\r\n:7\r\n-ERR no\r\n$-1\r\n+1.0 [0 a:1] \"get\" \"k\"\r\n";
        for chunk in [1, 2, 5, 1000] {
            let mut wire = Wire::new(Replay(data.to_vec(), chunk));
            assert_eq!(wire.call(&[b"AUTH", b"x"]).unwrap(), Reply::Simple(b"OK".to_vec()));
            let map = wire.call(&[b"X"]).unwrap();
            let id = Reply::Bulk(b"id".to_vec());
            assert_eq!(map, Reply::Array(vec![id, Reply::Array(vec![Reply::Int(7)])]));
            assert_eq!(wire.call(&[b"X"]).unwrap(), Reply::Error(b"ERR no".to_vec()));
            assert_eq!(wire.call(&[b"X"]).unwrap(), Reply::Nil);
            let (_, rest) = wire.into_parts();
            // Whatever was read past the last reply comes back, the rest stays in the stream.
            assert!(b"+1.0 [0 a:1] \"get\" \"k\"\r\n".starts_with(&rest), "chunk {chunk}");
        }
    }

    #[test]
    fn hostile_replies_cost_bounded_memory() {
        for data in [&b"*99999999999\r\n"[..], b"$99999999999\r\n", b"?what\r\n", b"+no end"] {
            let mut wire = Wire::new(Replay(data.to_vec(), 7));
            assert!(wire.call(&[b"X"]).is_err());
        }
        let mut endless = b"+".to_vec();
        endless.resize(MAX_LINE + 100, b'a');
        assert!(Wire::new(Replay(endless, 4096)).call(&[b"X"]).is_err());
        assert_eq!(command(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
