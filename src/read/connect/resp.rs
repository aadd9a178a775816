//! The little of RESP2 the handshake needs: commands sent as arrays of bulk strings
//! ([`crate::format::resp::command`]), and replies read back by [`crate::format::resp`]'s
//! reader over the socket's buffer, in bounded memory (a reply past [`MAX_REPLY`] bytes, or
//! nested past [`crate::format::resp::MAX_DEPTH`], is an error, never an allocation the server
//! decides). After `MONITOR`'s `+OK` the stream is no longer read here: the bytes already
//! buffered are handed back with the stream ([`Wire::into_parts`]).

use std::io::{self, Read, Write};

use crate::format::resp::{self, command, Form, Head};

/// The most a handshake reply may take (CLUSTER SHARDS of a large cluster fits in far less).
pub const MAX_REPLY: usize = 16 << 20;

/// The longest reply line (a status, an error).
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

/// A stream with its read buffer.
pub struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
    reader: resp::RespReader,
}

impl<S: Read + Write> Wire<S> {
    pub fn new(stream: S) -> Wire<S> {
        Wire { stream, buf: Vec::with_capacity(4096), start: 0, reader: resp::RespReader::new() }
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.stream.write_all(&command(args))?;
        self.reply()
    }

    /// The stream, and what was read past the last reply.
    pub fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buf[self.start..].to_vec())
    }

    /// Reads one reply, what the buffer holds first.
    fn reply(&mut self) -> io::Result<Reply> {
        let mut build = Build { from: self.reader.read(), ..Build::default() };
        loop {
            if self.start == self.buf.len() {
                self.fill()?;
            }
            let (used, ended) = self.reader.feed(&self.buf[self.start..], &mut build);
            let ended = ended.map_err(|e| {
                bad(build.error.unwrap_or(match e {
                    resp::RespError::Type(b'\r' | b'\n') => "an empty reply line",
                    resp::RespError::Length => "a length that is no number",
                    resp::RespError::Depth => "a reply nested deeper than the handshake allows",
                    resp::RespError::Type(_) | resp::RespError::LineEnd | resp::RespError::Refused => {
                        "not a RESP reply (is this a Redis server?)"
                    }
                }))
            })?;
            self.start += used;
            if self.reader.read() - build.from > MAX_REPLY as u64 {
                return Err(bad("a reply larger than the handshake allows"));
            }
            if ended {
                return build.done.ok_or_else(|| bad("not a RESP reply (is this a Redis server?)"));
            }
        }
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

/// Builds a [`Reply`] from what the reader reads: RESP2's types only, within [`MAX_REPLY`].
#[derive(Default)]
struct Build {
    /// Where the reply starts in the stream.
    from: u64,
    /// The arrays under way, innermost last.
    arrays: Vec<Vec<Reply>>,
    /// The text of the simple value or string under way; whether it is a simple value's (a
    /// line), or a null.
    text: Vec<u8>,
    simple: bool,
    null: bool,
    done: Option<Reply>,
    /// Why a value was refused.
    error: Option<&'static str>,
}

impl Build {
    fn refuse(&mut self, why: &'static str) -> bool {
        self.error = Some(why);
        false
    }
}

impl resp::Visit for Build {
    fn head(&mut self, head: &Head) -> bool {
        // What the reply may still take, after this head.
        let budget = (MAX_REPLY as u64).saturating_sub(head.read - self.from);
        self.text.clear();
        self.simple = head.form == Form::Simple;
        self.null = matches!(head.form, Form::Null(_));
        match (head.kind, head.form) {
            (b'+' | b'-' | b':', Form::Simple) | (b'$' | b'*', Form::Null(_)) => true,
            (b'$', Form::String(n)) if n + 2 > budget => self.refuse("a reply larger than the handshake allows"),
            (b'$', Form::String(_)) => true,
            // Every element takes at least 3 bytes: the count cannot outrun the budget.
            (b'*', Form::Aggregate(n)) if n > budget / 3 => self.refuse("a reply larger than the handshake allows"),
            (b'*', Form::Aggregate(n)) => {
                self.arrays.push(Vec::with_capacity(n as usize));
                true
            }
            _ => self.refuse("not a RESP reply (is this a Redis server?)"),
        }
    }

    fn data(&mut self, piece: &[u8]) -> bool {
        self.text.extend_from_slice(piece);
        if self.simple && self.text.len() > MAX_LINE {
            return self.refuse("a reply line longer than the handshake allows");
        }
        true
    }

    fn end(&mut self, kind: u8, _depth: usize) -> bool {
        let text = std::mem::take(&mut self.text);
        let value = match kind {
            _ if self.null => Reply::Nil,
            b'+' => Reply::Simple(text),
            b'-' => Reply::Error(text),
            b':' => match std::str::from_utf8(&text).ok().and_then(|t| t.parse().ok()) {
                Some(n) => Reply::Int(n),
                None => return self.refuse("a length that is no number"),
            },
            b'$' => Reply::Bulk(text),
            _ => Reply::Array(self.arrays.pop().unwrap_or_default()),
        };
        self.null = false;
        match self.arrays.last_mut() {
            Some(array) => array.push(value),
            None => self.done = Some(value),
        }
        true
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
        // Nesting is bounded too: the reader keeps one frame per open array, never a deep stack.
        let deep = b"*1\r\n".repeat(100_000);
        let err = Wire::new(Replay(deep, 4096)).call(&[b"X"]).unwrap_err();
        assert_eq!(err.to_string(), "a reply nested deeper than the handshake allows");
        assert_eq!(command(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
