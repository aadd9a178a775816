//! RESP, Redis's protocol, the one home of its framing: [`RespReader`] reads RESP2 and RESP3 values
//! from a byte stream in whatever pieces it comes (a capture's segments, a socket's reads), and
//! [`command`] writes a command as the array of bulk strings servers take.
//!
//! The reader is a step function: fed bytes, it tells a [`Visit`] each value's head (its type
//! byte, and its length), its bytes, and its end, and stops after each whole top-level value. It
//! holds no value itself, only where it is: a length line (at most [`MAX_LENGTH_LINE`] bytes)
//! and one frame per open aggregate, at most [`MAX_DEPTH`] deep. What to keep of a value, and
//! how much, is the visitor's to say (and to refuse), so a 512 MiB string streams through in
//! bounded memory. The readers built on it: the capture's requests and replies
//! ([`crate::read::capture`]: a reader of requests may start inside an array it found, and pass
//! over bytes a capture lost inside a string) and `--connect`'s handshake replies.

use bstr::ByteSlice;

/// The deepest nesting of aggregates read (servers nest a few levels; their own limit is far
/// lower).
pub const MAX_DEPTH: usize = 128;

/// The longest length line (`*N`, `$N` with its CR LF) taken: a length needs at most 21 bytes.
pub const MAX_LENGTH_LINE: usize = 32;

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

/// A length line's number (`*N`, `$N`, after the type byte), with its CR LF: at most 18
/// digits, and a `-` before them.
pub fn parse_number(line: &[u8]) -> Option<i64> {
    let digits = line.strip_suffix(b"\r\n")?;
    let (neg, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    Some(if neg { -n } else { n })
}

/// What a value's first line says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A simple value (`+ - : _ # , (`): its text, the rest of its line, follows.
    Simple,
    /// A string (`$ ! =`) of this many bytes, which follow.
    String(u64),
    /// An aggregate (`* ~ > % |`) of this many values (a map's and an attribute's pairs count
    /// two each), which follow.
    Aggregate(u64),
    /// A null string or aggregate (`$-1`, `*-1`; the number is the negative length as
    /// written, which a reader of requests takes as the server does): nothing follows.
    Null(i64),
}

/// The head of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Its type byte.
    pub kind: u8,
    pub form: Form,
    /// The aggregates around it (0: a top-level value).
    pub depth: usize,
    /// Bytes the reader has read, up to the end of this head.
    pub read: u64,
}

/// What is told of the values read. A method returning false refuses the value: the reader
/// stops with [`RespError::Refused`].
pub trait Visit {
    /// A value of type `kind` begins at `depth`: before its length line, if it has one.
    fn begin(&mut self, _kind: u8, _depth: usize) -> bool {
        true
    }
    /// A value's head is read.
    fn head(&mut self, head: &Head) -> bool;
    /// Bytes of the value begun last: a simple value's text (without its line end), or a
    /// string's.
    fn data(&mut self, piece: &[u8]) -> bool;
    /// The value of type `kind` at `depth` ended: a simple value or a string after its bytes,
    /// an aggregate after its last value. An attribute (`|`) is not a value of what holds it.
    fn end(&mut self, kind: u8, depth: usize) -> bool;
}

/// Why the reader stopped: the stream is not RESP from there on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespError {
    /// A type byte that is none of RESP's.
    Type(u8),
    /// A length that is no number, or a length line past [`MAX_LENGTH_LINE`] bytes.
    Length,
    /// A string not followed by CR LF.
    LineEnd,
    /// Aggregates nested deeper than [`MAX_DEPTH`].
    Depth,
    /// The visitor refused a value.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before a value: its type byte.
    Type,
    /// A simple value's text, up to its line end; a CR at the end of the last piece held back.
    Text { cr: bool },
    /// A length line.
    Length,
    /// A string's bytes: this many left.
    Body(u64),
    /// The CR LF after a string: this many of its bytes left.
    End(u8),
}

/// An aggregate under way: its type byte, and the values left.
#[derive(Debug, Clone, Copy)]
struct OpenAggregate {
    kind: u8,
    left: u64,
}

/// What one step took: the bytes used, and whether a value ended; or the bytes used up to and
/// including what is not RESP, and why.
type Step = Result<(usize, bool), (usize, RespError)>;

/// Reads RESP values from one stream.
pub struct RespReader {
    part: Part,
    /// The type byte of the value whose line or bytes are under way.
    kind: u8,
    line: [u8; MAX_LENGTH_LINE],
    line_len: usize,
    stack: Vec<OpenAggregate>,
    read: u64,
}

impl Default for RespReader {
    fn default() -> Self {
        RespReader::new()
    }
}

impl RespReader {
    pub fn new() -> RespReader {
        RespReader { part: Part::Type, kind: 0, line: [0; MAX_LENGTH_LINE], line_len: 0, stack: Vec::new(), read: 0 }
    }

    /// Bytes read so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// A reader that has read `*N` and the `$` of its first value, as a reader of requests
    /// that found where one starts (`*N\r\n$`) does; the array's head is not told.
    pub fn in_array(n: u64) -> RespReader {
        let mut r = RespReader::new();
        r.stack.push(OpenAggregate { kind: b'*', left: n });
        r.kind = b'$';
        r.part = Part::Length;
        r
    }

    /// Takes the next bytes of the stream, up to the end of the first top-level value they
    /// complete: the bytes used, and whether a top-level value ended, or an error (with the bytes
    /// used up to and including what is not RESP). After an error the reader is not to be fed
    /// again.
    pub fn feed(&mut self, data: &[u8], v: &mut impl Visit) -> (usize, Result<bool, RespError>) {
        let mut at = 0;
        while at < data.len() {
            let rest = &data[at..];
            let step = match self.part {
                Part::Type => self.type_byte(rest[0], v),
                Part::Text { cr } => self.text(rest, cr, v),
                Part::Length => self.length(rest, v),
                Part::Body(left) => self.body(rest, left, v),
                Part::End(left) => self.line_end(rest[0], left),
            };
            let (used, ended) = match step {
                Ok(step) => step,
                Err((used, e)) => {
                    self.read += used as u64;
                    return (at + used, Err(e));
                }
            };
            at += used;
            self.read += used as u64;
            if ended {
                match self.end_value(v) {
                    Ok(true) => return (at, Ok(true)),
                    Ok(false) => {}
                    Err(e) => return (at, Err(e)),
                }
            }
        }
        (at, Ok(false))
    }

    /// Passes over `n` bytes of the stream that are not there, inside a string's bytes or the
    /// CR LF after them (a string's bytes need not be seen): whether that ends a top-level
    /// value; `None` when the reader is not inside a string that long.
    pub fn skip(&mut self, n: u64, v: &mut impl Visit) -> Option<Result<bool, RespError>> {
        let (text, end) = match self.part {
            Part::Body(left) => (left, 2),
            Part::End(left) => (0, left),
            _ => return None,
        };
        if n > text + u64::from(end) {
            return None;
        }
        self.read += n;
        let within = n.min(text);
        let crlf = (n - within) as u8;
        self.part = if within < text { Part::Body(text - within) } else { Part::End(end - crlf) };
        if self.part == Part::End(0) {
            return Some(self.end_value(v));
        }
        Some(Ok(false))
    }

    fn type_byte(&mut self, kind: u8, v: &mut impl Visit) -> Step {
        let depth = self.stack.len();
        if !v.begin(kind, depth) {
            return Err((1, RespError::Refused));
        }
        self.kind = kind;
        self.part = match kind {
            b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => {
                if !v.head(&Head { kind, form: Form::Simple, depth, read: self.read + 1 }) {
                    return Err((1, RespError::Refused));
                }
                Part::Text { cr: false }
            }
            b'$' | b'!' | b'=' | b'*' | b'~' | b'>' | b'%' | b'|' => {
                self.line_len = 0;
                Part::Length
            }
            _ => return Err((1, RespError::Type(kind))),
        };
        Ok((1, false))
    }

    /// A simple value's text up to its LF (a CR before it is the line end's).
    fn text(&mut self, rest: &[u8], cr: bool, v: &mut impl Visit) -> Step {
        let (line, used, ended) = match rest.find_byte(b'\n') {
            Some(at) => (&rest[..at], at + 1, true),
            None => (rest, rest.len(), false),
        };
        // The CR held back was the text's.
        let cr_was_text = cr && !(ended && line.is_empty());
        let (text, held) = match line.strip_suffix(b"\r") {
            Some(text) => (text, !ended),
            None => (line, false),
        };
        if (cr_was_text && !v.data(b"\r")) || (!text.is_empty() && !v.data(text)) {
            return Err((used, RespError::Refused));
        }
        self.part = Part::Text { cr: held };
        Ok((used, ended))
    }

    /// A length line, up to its LF: the head of a string or an aggregate.
    fn length(&mut self, rest: &[u8], v: &mut impl Visit) -> Step {
        let (used, whole) = match rest.find_byte(b'\n') {
            Some(at) => (at + 1, true),
            None => (rest.len(), false),
        };
        if self.line_len + used > MAX_LENGTH_LINE {
            // Up to the first byte past the bound, wherever the pieces were cut.
            return Err((MAX_LENGTH_LINE - self.line_len + 1, RespError::Length));
        }
        self.line[self.line_len..self.line_len + used].copy_from_slice(&rest[..used]);
        self.line_len += used;
        if !whole {
            return Ok((used, false));
        }
        let Some(n) = parse_number(&self.line[..self.line_len]) else { return Err((used, RespError::Length)) };
        let kind = self.kind;
        let depth = self.stack.len();
        let form = match n {
            n if n < 0 => Form::Null(n),
            n if matches!(kind, b'$' | b'!' | b'=') => Form::String(n as u64),
            n if n > 0 && depth >= MAX_DEPTH => return Err((used, RespError::Depth)),
            n if matches!(kind, b'%' | b'|') => Form::Aggregate(2 * n as u64),
            n => Form::Aggregate(n as u64),
        };
        if !v.head(&Head { kind, form, depth, read: self.read + used as u64 }) {
            return Err((used, RespError::Refused));
        }
        match form {
            Form::String(0) => self.part = Part::End(2),
            Form::String(n) => self.part = Part::Body(n),
            Form::Aggregate(left) if left > 0 => {
                self.stack.push(OpenAggregate { kind, left });
                self.part = Part::Type;
            }
            _ => return Ok((used, true)),
        }
        Ok((used, false))
    }

    /// A string's bytes.
    fn body(&mut self, rest: &[u8], left: u64, v: &mut impl Visit) -> Step {
        let take = (rest.len() as u64).min(left) as usize;
        if !v.data(&rest[..take]) {
            return Err((take, RespError::Refused));
        }
        self.part = if take as u64 == left { Part::End(2) } else { Part::Body(left - take as u64) };
        Ok((take, false))
    }

    /// A byte of the CR LF after a string.
    fn line_end(&mut self, b: u8, left: u8) -> Step {
        if b != if left == 2 { b'\r' } else { b'\n' } {
            return Err((1, RespError::LineEnd));
        }
        self.part = Part::End(left - 1);
        Ok((1, left == 1))
    }

    /// The value under way ended: it ends the aggregates it was the last value of. True when
    /// that ends a top-level value.
    fn end_value(&mut self, v: &mut impl Visit) -> Result<bool, RespError> {
        self.part = Part::Type;
        let mut kind = self.kind;
        loop {
            self.visit(v.end(kind, self.stack.len()))?;
            if kind == b'|' {
                // An attribute is not a value of what holds it.
                return Ok(self.stack.is_empty());
            }
            let Some(frame) = self.stack.last_mut() else { return Ok(true) };
            frame.left -= 1;
            if frame.left > 0 {
                return Ok(false);
            }
            kind = frame.kind;
            self.stack.pop();
        }
    }

    fn visit(&self, taken: bool) -> Result<(), RespError> {
        if taken {
            Ok(())
        } else {
            Err(RespError::Refused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes what it is told, as text.
    #[derive(Default)]
    struct Trace(String);

    impl Visit for Trace {
        fn head(&mut self, h: &Head) -> bool {
            self.0 += &format!("<{}{:?}@{}", h.kind as char, h.form, h.depth);
            true
        }
        fn data(&mut self, piece: &[u8]) -> bool {
            self.0 += &String::from_utf8_lossy(piece);
            true
        }
        fn end(&mut self, kind: u8, depth: usize) -> bool {
            self.0 += &format!("{}{depth}>", kind as char);
            true
        }
    }

    /// The trace of `stream` fed `chunk` bytes at a time, one line per top-level value.
    fn trace(stream: &[u8], chunk: usize) -> Result<String, RespError> {
        let mut r = RespReader::new();
        let mut t = Trace::default();
        for mut piece in stream.chunks(chunk) {
            while !piece.is_empty() {
                let (used, ended) = r.feed(piece, &mut t);
                piece = &piece[used..];
                if ended? {
                    t.0.push('\n');
                }
            }
        }
        assert!(r.part == Part::Type && r.stack.is_empty());
        assert_eq!(r.read(), stream.len() as u64);
        Ok(t.0)
    }

    #[test]
    fn values_of_resp2_and_resp3_in_any_pieces() {
        let stream =
            b"+OK\r\n-ERR no\r\n:12\r\n$5\r\nhe\rlo\r\n$-1\r\n*0\r\n*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n~1\r\n,1.5\r\n\
                       |1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n+a\rb\r\n";
        let want = "<+Simple@0OK+0>\n<-Simple@0ERR no-0>\n<:Simple@012:0>\n<$String(5)@0he\rlo$0>\n<$Null(-1)@0$0>\n\
                    <*Aggregate(0)@0*0>\n<*Aggregate(2)@0<*Aggregate(1)@1<:Simple@21:2>*1><%Aggregate(2)@1<+Simple@2a+2>\
                    <~Aggregate(1)@2<,Simple@31.5,3>~2>%1>*0>\n<|Aggregate(2)@0<+Simple@1ttl+1><:Simple@13:1>|0>\n\
                    <$String(1)@0v$0>\n<>Aggregate(2)@0<$String(10)@1invalidate$1><_Simple@1_1>>0>\n<+Simple@0a\rb+0>\n";
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(trace(stream, chunk).unwrap(), want, "chunk {chunk}");
        }
    }

    #[test]
    fn what_is_not_resp_stops_the_reader() {
        assert_eq!(trace(b"?what\r\n", 3), Err(RespError::Type(b'?')));
        assert_eq!(trace(b"$x\r\n", 3), Err(RespError::Length));
        assert_eq!(trace(b"$5\n", 3), Err(RespError::Length));
        assert_eq!(trace(b"$1\r\nvX\n", 3), Err(RespError::LineEnd));
        assert_eq!(trace(&[&b"*"[..], &[b'0'; 40], b"\r\n"].concat(), 3), Err(RespError::Length));
        assert_eq!(trace(b"*99999999999999999999\r\n", 3), Err(RespError::Length));
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert_eq!(trace(&deep, 1000), Err(RespError::Depth));
        // A visitor's refusal stops it too.
        struct No;
        impl Visit for No {
            fn head(&mut self, h: &Head) -> bool {
                h.kind != b'%'
            }
            fn data(&mut self, _: &[u8]) -> bool {
                true
            }
            fn end(&mut self, _: u8, _: usize) -> bool {
                true
            }
        }
        assert_eq!(RespReader::new().feed(b"+OK\r\n", &mut No), (5, Ok(true)));
        assert_eq!(RespReader::new().feed(b"%1\r\n+a", &mut No), (4, Err(RespError::Refused)));
        // Where the error is: after the byte that is not RESP.
        assert_eq!(RespReader::new().feed(b"*1\r\n$1\r\nab", &mut Trace::default()), (10, Err(RespError::LineEnd)));
        // Negative lengths are told as they are, for the visitor to judge.
        assert_eq!(trace(b"*-2\r\n", 3).unwrap(), "<*Null(-2)@0*0>\n");
    }

    #[test]
    fn a_string_may_have_bytes_missing() {
        let mut r = RespReader::in_array(2);
        let mut t = Trace::default();
        assert_eq!(r.feed(b"5\r\nab", &mut t), (5, Ok(false)));
        assert_eq!(r.skip(6, &mut t), None);
        assert_eq!(r.skip(4, &mut t), Some(Ok(false)));
        assert_eq!(r.feed(b"\n$1\r\nc\r\n+x", &mut t), (8, Ok(true)));
        assert_eq!(t.0, "<$String(5)@1ab$1><$String(1)@1c$1>*0>");
        assert_eq!(r.skip(1, &mut t), None);
    }

    /// What the reader tells of `stream` fed in pieces of `chunk` bytes, up to its first error.
    fn told(stream: &[u8], chunk: usize) -> (String, Option<RespError>, u64) {
        let mut r = RespReader::new();
        let mut t = Trace::default();
        for mut piece in stream.chunks(chunk) {
            while !piece.is_empty() {
                let (used, ended) = r.feed(piece, &mut t);
                assert!(used <= piece.len());
                piece = &piece[used..];
                match ended {
                    Ok(true) => t.0.push('\n'),
                    Ok(false) => assert!(piece.is_empty()),
                    Err(e) => return (t.0, Some(e), r.read()),
                }
            }
        }
        (t.0, None, r.read())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes, in any pieces: what is told is what is told of them whole, up to the same
        /// error at the same byte.
        #[test]
        fn any_bytes_in_any_pieces(
            stream in proptest::collection::vec(proptest::sample::select(b"*$+-:%|>~_,#!=(\r\n0123-1a".to_vec()), 0..400),
            chunk in 1usize..24,
        ) {
            proptest::prop_assert_eq!(told(&stream, chunk), told(&stream, stream.len().max(1)));
        }
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(command(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(command(&[]), b"*0\r\n");
    }
}
