//! RESP requests and replies, read from a connection's byte streams in whatever pieces they
//! come, by [`crate::format::resp`]'s reader: a client's arrays of bulk strings (what every
//! client library sends) and inline commands (telnet, `nc`), and the server's replies.
//!
//! [`Requests`] is a step function: it is fed the stream's bytes and gaps in order and hands
//! out each whole request, its arguments kept up to [`HEAD`] bytes each (a longer one by its
//! head, its length, its hash and its slot, as [`crate::read::compact`] keeps a long argument of a
//! MONITOR line), so a 512 MiB value streams through in bounded memory. Where its place in the
//! stream is unknown (a connection picked up mid-way, a gap, bytes that are not RESP) it looks
//! for the next `*N\r\n$`, the start of an array request, and goes on from there.

use bstr::ByteSlice;

use crate::count::cluster::SlotHasher;
use crate::count::hash::{run_key, KeyHasher};
use crate::format::long_arg::LongArg;
use crate::format::resp;
use crate::read::compact::HEAD;

/// The most bytes of arguments kept per request (a request with very many arguments keeps its
/// first ones and is marked cut; its size still counts every byte).
pub const MAX_KEPT: usize = 4 << 20;
/// The most arguments kept per request.
const MAX_ARGS: usize = 1 << 16;
/// The longest inline command the server takes (its PROTO_INLINE_MAX_SIZE).
const MAX_INLINE: usize = 64 * 1024;
/// The longest bulk string taken for real (the server's own limit is configurable up to this).
const MAX_BULK: u64 = 1 << 40;

/// A whole request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The kept bytes of the arguments, one after the other; `spans` says where each is.
    pub data: &'a [u8],
    pub spans: &'a [(u32, u32)],
    /// The arguments kept by their head.
    pub longs: &'a [LongArg],
    /// The bytes of the arguments after the name, all of them.
    pub bytes: u64,
    /// Arguments past [`MAX_KEPT`] or [`MAX_ARGS`] were not kept.
    pub cut: bool,
}

/// What the reader counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Bytes passed over while looking for the start of a request.
    pub skipped_bytes: u64,
    /// Places where the stream was not RESP (a bad header, control bytes in an inline command).
    pub not_resp: u64,
    /// Requests lost in a gap of the stream (a hole that cut one).
    pub lost: u64,
    /// Requests the end of the capture cut short.
    pub unfinished: u64,
}

impl Counts {
    pub fn merge(&mut self, o: &Counts) {
        self.skipped_bytes += o.skipped_bytes;
        self.not_resp += o.not_resp;
        self.lost += o.lost;
        self.unfinished += o.unfinished;
    }
}

/// Where the reader of requests is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for `*`, then the digits, CR, LF and `$` that follow it.
    Seek(Seek),
    /// At the start of a request.
    Start,
    /// Inside an array request: RESP's reader has it.
    Array,
    /// An inline command's line.
    Inline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seek {
    Star,
    Digits(u64, u8),
    Lf(u64),
    Dollar(u64),
}

/// The argument under way.
#[derive(Default)]
struct Bulk {
    len: u64,
    left: u64,
    /// Whether its bytes are kept (the request has room).
    kept: bool,
    /// A long argument's running hash and slot.
    long: Option<Box<(KeyHasher, SlotHasher)>>,
}

/// The request under way, as RESP's reader tells it: an array of bulk strings, nothing else.
#[derive(Default)]
struct RequestSoFar {
    data: Vec<u8>,
    spans: Vec<(u32, u32)>,
    longs: Vec<LongArg>,
    /// The argument under way, if one is.
    bulk: Option<Bulk>,
    /// Arguments begun.
    args: usize,
    bytes: u64,
    cut: bool,
    /// An empty array (`*0`, or a negative length, which the server takes as none).
    empty: bool,
}

/// Reads requests from one client's stream.
pub struct Requests {
    state: State,
    reader: resp::RespReader,
    /// The inline line under way.
    line: Vec<u8>,
    request: RequestSoFar,
    pub counts: Counts,
}

impl Requests {
    /// A reader at the start of a stream (`synced`: a connection seen from its SYN), or
    /// somewhere inside one.
    pub fn new(synced: bool) -> Requests {
        Requests {
            state: if synced { State::Start } else { State::Seek(Seek::Star) },
            reader: resp::RespReader::new(),
            line: Vec::new(),
            request: RequestSoFar::default(),
            counts: Counts::default(),
        }
    }

    /// Whether the reader is between requests (nothing of one read).
    pub fn between_requests(&self) -> bool {
        matches!(self.state, State::Start | State::Seek(Seek::Star))
    }

    /// Bytes of the stream that are not there: skipped inside a long argument, where the
    /// request's place stays known; anywhere else the request under way is lost.
    pub fn gap(&mut self, n: u64, out: &mut dyn FnMut(Request<'_>)) {
        let within_long = match &self.request.bulk {
            Some(bulk) => self.state == State::Array && bulk.left > 0 && !bulk.kept_part_left(),
            None => false,
        };
        if within_long {
            if let Some(ended) = self.reader.skip(n, &mut self.request) {
                if let Some(bulk) = &mut self.request.bulk {
                    bulk.left -= n.min(bulk.left);
                }
                match ended {
                    Ok(true) => self.emit(out),
                    Ok(false) => {}
                    Err(_) => self.not_resp(),
                }
                return;
            }
        }
        if !self.between_requests() {
            self.counts.lost += 1;
        }
        // An inline command cut by the gap is dropped whole, not put before the next one.
        self.line.clear();
        self.state = State::Seek(Seek::Star);
    }

    /// The stream ended: a request under way is counted as unfinished.
    pub fn end(&mut self) {
        if !self.between_requests() {
            self.counts.unfinished += 1;
        }
        self.state = State::Start;
    }

    /// Takes the next bytes of the stream, handing out every request they complete.
    pub fn feed(&mut self, mut data: &[u8], out: &mut dyn FnMut(Request<'_>)) {
        while !data.is_empty() {
            let used = match self.state {
                State::Seek(seek) => self.seek(seek, data),
                State::Start => {
                    self.request.start();
                    if data[0] == b'*' {
                        self.reader = resp::RespReader::new();
                        self.state = State::Array;
                    } else {
                        self.state = State::Inline;
                    }
                    0
                }
                State::Array => {
                    let (used, ended) = self.reader.feed(data, &mut self.request);
                    match ended {
                        Ok(true) => self.emit(out),
                        Ok(false) => {}
                        Err(_) => self.not_resp(),
                    }
                    used
                }
                State::Inline => self.inline(data, out),
            };
            data = &data[used..];
        }
    }

    /// Not RESP here: the request under way is dropped and the next one looked for.
    fn not_resp(&mut self) {
        self.counts.not_resp += 1;
        self.state = State::Seek(Seek::Star);
    }

    /// Looks for `*N\r\n$`; on finding it, the request goes on at its first length.
    fn seek(&mut self, seek: Seek, data: &[u8]) -> usize {
        let b = data[0];
        self.state = State::Seek(match seek {
            Seek::Star => match data.find_byte(b'*') {
                Some(at) => {
                    self.counts.skipped_bytes += at as u64;
                    self.state = State::Seek(Seek::Digits(0, 0));
                    return at + 1;
                }
                None => {
                    self.counts.skipped_bytes += data.len() as u64;
                    return data.len();
                }
            },
            Seek::Digits(n, k) if b.is_ascii_digit() && k < 7 => Seek::Digits(n * 10 + u64::from(b - b'0'), k + 1),
            Seek::Digits(n, k) if b == b'\r' && k > 0 && n > 0 => Seek::Lf(n),
            Seek::Lf(n) if b == b'\n' => Seek::Dollar(n),
            Seek::Dollar(n) if b == b'$' => {
                self.request.start();
                self.reader = resp::RespReader::in_array(n);
                self.state = State::Array;
                return 1;
            }
            // Not it: the bytes since the `*` were skipped; this one may start the pattern.
            _ => {
                self.counts.skipped_bytes += 1;
                Seek::Star
            }
        });
        if self.state == State::Seek(Seek::Star) && b == b'*' {
            // Looked at again as a possible start.
            return 0;
        }
        1
    }

    /// Adds `data` up to its first LF to the inline line being gathered, which may hold at most
    /// [`MAX_INLINE`] bytes (past it the line is not RESP and is dropped): the bytes used, and
    /// whether the line is whole in `self.line`.
    fn gather_line(&mut self, data: &[u8]) -> (usize, bool) {
        let (used, done) = match data.find_byte(b'\n') {
            Some(at) => (at + 1, true),
            None => (data.len(), false),
        };
        if self.line.len() + used > MAX_INLINE {
            self.line.clear();
            self.not_resp();
            return (used, false);
        }
        self.line.extend_from_slice(&data[..used]);
        (used, done)
    }

    /// A whole array request: handed out, unless it had no argument.
    fn emit(&mut self, out: &mut dyn FnMut(Request<'_>)) {
        self.state = State::Start;
        let r = &self.request;
        if r.empty {
            return;
        }
        if r.spans.is_empty() {
            // Not one argument kept: nothing to name the command by.
            self.counts.lost += 1;
            return;
        }
        out(Request { data: &r.data, spans: &r.spans, longs: &r.longs, bytes: r.bytes, cut: r.cut });
    }

    /// An inline command, up to its LF: its words, split as the server splits them.
    fn inline(&mut self, data: &[u8], out: &mut dyn FnMut(Request<'_>)) -> usize {
        let (used, whole) = self.gather_line(data);
        if !whole {
            return used;
        }
        let line = std::mem::take(&mut self.line);
        self.state = State::Start;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let r = &mut self.request;
        if body.iter().any(|&b| b < 0x20 && b != b'\t') || !split_inline(body, &mut r.data, &mut r.spans) {
            self.counts.not_resp += 1;
        } else if !r.spans.is_empty() {
            r.bytes = r.spans[1..].iter().map(|s| u64::from(s.1 - s.0)).sum();
            self.emit(out);
        }
        self.line = line;
        self.line.clear();
        used
    }
}

impl RequestSoFar {
    fn start(&mut self) {
        self.data.clear();
        self.spans.clear();
        self.longs.clear();
        self.bulk = None;
        self.args = 0;
        self.bytes = 0;
        self.cut = false;
        self.empty = false;
        if self.data.capacity() > 64 * 1024 {
            // One large request does not keep its memory for good.
            self.data = Vec::new();
            self.spans = Vec::new();
        }
    }

    fn begin_bulk(&mut self, len: u64) {
        let index = self.spans.len();
        let kept = !self.cut && index < MAX_ARGS && self.data.len() + (len.min(HEAD) as usize) <= MAX_KEPT;
        self.cut |= !kept;
        let long = (kept && len > HEAD).then(|| Box::new((KeyHasher::new(run_key()), SlotHasher::default())));
        if kept {
            let at = self.data.len() as u32;
            self.spans.push((at, at));
        }
        if self.args > 0 {
            self.bytes += len;
        }
        self.args += 1;
        self.bulk = Some(Bulk { len, left: len, kept, long });
    }
}

impl resp::Visit for RequestSoFar {
    /// An array at the top, bulk strings in it.
    fn begin(&mut self, kind: u8, depth: usize) -> bool {
        matches!((depth, kind), (0, b'*') | (1, b'$'))
    }

    fn head(&mut self, head: &resp::Head) -> bool {
        match (head.depth, head.form) {
            (0, resp::Form::Null(_) | resp::Form::Aggregate(0)) => self.empty = true,
            (0, resp::Form::Aggregate(n)) if n <= i32::MAX as u64 => {}
            (1, resp::Form::String(len)) if len <= MAX_BULK => self.begin_bulk(len),
            _ => return false,
        }
        true
    }

    fn data(&mut self, piece: &[u8]) -> bool {
        let Some(bulk) = &mut self.bulk else { return true };
        if bulk.kept {
            let done = bulk.len - bulk.left;
            let room = HEAD.saturating_sub(done) as usize;
            self.data.extend_from_slice(&piece[..room.min(piece.len())]);
            if let Some(span) = self.spans.last_mut() {
                span.1 = self.data.len() as u32;
            }
            if let Some(long) = &mut bulk.long {
                long.0.write(piece);
                long.1.write(piece);
            }
        }
        bulk.left -= piece.len() as u64;
        true
    }

    /// The argument under way has all its bytes: kept by its head if it is long.
    fn end(&mut self, _kind: u8, depth: usize) -> bool {
        if depth == 1 {
            if let Some(Bulk { len, long: Some(long), .. }) = self.bulk.take() {
                let index = self.spans.len() - 1;
                self.longs.push(LongArg { index, len, hash: long.0.finish(), slot: long.1.finish() });
            }
        }
        true
    }
}

impl Bulk {
    /// Whether bytes of the argument that are kept are still to come.
    fn kept_part_left(&self) -> bool {
        self.kept && self.len - self.left < HEAD
    }
}

/// Splits an inline command into words as the server does (`sdssplitargs`): spaces and tabs
/// between words, `"…"` with backslash escapes and `'…'` with `\'` only. False when a quote is
/// not closed (the server refuses the line).
fn split_inline(line: &[u8], data: &mut Vec<u8>, spans: &mut Vec<(u32, u32)>) -> bool {
    data.clear();
    spans.clear();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && matches!(line[i], b' ' | b'\t') {
            i += 1;
        }
        if i == line.len() {
            break;
        }
        let start = data.len() as u32;
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    match line.get(i..) {
                        None | Some([]) => return false,
                        Some([b'"', ..]) => break,
                        Some([b'\\', b'x', h, l, ..]) if crate::format::escape::hex_pair(&[*h, *l]).is_some() => {
                            data.push(crate::format::escape::hex_pair(&[*h, *l]).unwrap_or_default());
                            i += 4;
                        }
                        Some([b'\\', c, ..]) => {
                            data.push(match c {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                b'b' => 8,
                                b'a' => 7,
                                c => *c,
                            });
                            i += 2;
                        }
                        Some([c, ..]) => {
                            data.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            b'\'' => {
                i += 1;
                loop {
                    match line.get(i..) {
                        None | Some([]) => return false,
                        Some([b'\'', ..]) => break,
                        Some([b'\\', b'\'', ..]) => {
                            data.push(b'\'');
                            i += 2;
                        }
                        Some([c, ..]) => {
                            data.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            _ => {
                while i < line.len() && !matches!(line[i], b' ' | b'\t') {
                    data.push(line[i]);
                    i += 1;
                }
            }
        }
        spans.push((start, data.len() as u32));
    }
    true
}

/// A whole reply, as [`Replies`] hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyDone {
    /// Its first byte: `+`, `-`, `:`, `$`, `*`, `%`, `~`, `>` (a RESP3 push), …
    pub kind: u8,
    /// Its bytes on the wire, an attribute before it included.
    pub bytes: u64,
    /// When its first byte came (the packet's time).
    pub nanos: u64,
    /// Its first element, when it is an array or a push whose first element is a short string
    /// (`message`, `subscribe`, …): what tells pub/sub traffic from replies.
    pub first: [u8; 16],
    pub first_len: u8,
}

impl ReplyDone {
    /// Its first element, when it has a short one.
    pub fn first(&self) -> &[u8] {
        &self.first[..usize::from(self.first_len)]
    }
}

/// Reads replies from the server's stream to one client with [`crate::format::resp`]'s reader:
/// RESP2 and RESP3 (maps, sets, attributes, pushes, big numbers, verbatim strings), only their
/// sizes and the little that tells a reply from a push kept.
#[derive(Default)]
pub struct Replies {
    reader: resp::RespReader,
    /// The reply under way.
    top: Option<ReplyDone>,
    /// The string under way is the top aggregate's first element; an element of it is done.
    first_element: bool,
    top_first_done: bool,
    /// The stream's place is lost (a gap, bytes that are not RESP): nothing more is read.
    pub lost: bool,
}

/// What [`Replies`] notes of the values its reader reads.
struct Note<'r> {
    top: &'r mut ReplyDone,
    first_element: &'r mut bool,
    top_first_done: &'r mut bool,
    /// The top-level value that ended was an attribute: the reply itself is still to come.
    attribute: bool,
}

impl resp::Visit for Note<'_> {
    fn head(&mut self, head: &resp::Head) -> bool {
        if matches!(head.form, resp::Form::Null(n) if n != -1) {
            return false;
        }
        if head.depth == 0 {
            self.top.kind = head.kind;
        }
        *self.first_element = head.depth == 1
            && !*self.top_first_done
            && matches!(self.top.kind, b'*' | b'>')
            && matches!(head.form, resp::Form::String(_));
        true
    }

    fn data(&mut self, piece: &[u8]) -> bool {
        if *self.first_element {
            let have = usize::from(self.top.first_len);
            let piece = &piece[..piece.len().min(16 - have)];
            self.top.first[have..have + piece.len()].copy_from_slice(piece);
            self.top.first_len += piece.len() as u8;
        }
        true
    }

    fn end(&mut self, kind: u8, depth: usize) -> bool {
        *self.first_element = false;
        // An attribute is not an element of what holds it.
        if depth == 1 && kind != b'|' {
            *self.top_first_done = true;
        }
        self.attribute = depth == 0 && kind == b'|';
        true
    }
}

impl Replies {
    pub fn new() -> Replies {
        Replies::default()
    }

    /// Takes the next bytes of the server's stream, which came at `nanos`.
    pub fn feed(&mut self, mut data: &[u8], nanos: u64, out: &mut dyn FnMut(ReplyDone)) {
        while !data.is_empty() && !self.lost {
            let top = self.top.get_or_insert_with(|| {
                self.top_first_done = false;
                ReplyDone { kind: 0, bytes: 0, nanos, first: [0; 16], first_len: 0 }
            });
            let mut note = Note {
                top,
                first_element: &mut self.first_element,
                top_first_done: &mut self.top_first_done,
                attribute: false,
            };
            let (used, Ok(ended)) = self.reader.feed(data, &mut note) else {
                self.lose();
                return;
            };
            note.top.bytes += used as u64;
            data = &data[used..];
            if ended && !note.attribute {
                if let Some(top) = self.top.take() {
                    out(top);
                }
            }
        }
    }

    /// Whether the reader is between replies (nothing of one read).
    pub fn between_replies(&self) -> bool {
        self.top.is_none() && !self.lost
    }

    /// Bytes of the stream are missing, or not RESP: where replies start is no longer known.
    pub fn lose(&mut self) {
        self.lost = true;
        self.reader = resp::RespReader::new();
        self.top = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The requests in `pieces` (bytes, or a gap for `None(n)`), as lists of words.
    fn read(synced: bool, pieces: &[Result<&[u8], u64>]) -> (Vec<Vec<String>>, Counts) {
        let mut r = Requests::new(synced);
        let mut got = Vec::new();
        for p in pieces {
            match p {
                Ok(bytes) => r.feed(bytes, &mut |req: Request<'_>| {
                    let words =
                        req.spans.iter().map(|&(a, b)| String::from_utf8_lossy(&req.data[a as usize..b as usize]));
                    got.push(words.map(|w| w.into_owned()).collect());
                }),
                Err(n) => r.gap(*n, &mut |req: Request<'_>| got.push(vec![format!("{} args", req.spans.len())])),
            }
        }
        r.end();
        (got, r.counts)
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arrays_and_inline_commands_split_anywhere() {
        let stream = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nset a 'b c' \"\\x41\\n\"\r\n*0\r\n\r\n*1\r\n$4\r\nPING\r\n";
        for chunk in 1..stream.len() {
            let pieces: Vec<Result<&[u8], u64>> = stream.chunks(chunk).map(Ok).collect();
            let (got, counts) = read(true, &pieces);
            assert_eq!(got, [words(&["GET", "k"]), words(&["set", "a", "b c", "A\n"]), words(&["PING"])], "{chunk}");
            assert_eq!(counts, Counts::default());
        }
    }

    #[test]
    fn picked_up_mid_stream_at_the_next_array() {
        let (got, counts) = read(false, &[Ok(b"lue\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")]);
        assert_eq!(got, [words(&["GET", "k"])]);
        assert_eq!(counts.skipped_bytes, 5);
        // A `*` inside the skipped bytes that starts nothing.
        let (got, _) = read(false, &[Ok(b"a*b**3\r*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
    }

    #[test]
    fn a_gap_in_a_long_value_keeps_the_request_one_elsewhere_loses_it() {
        let value = vec![b'v'; HEAD as usize + 100];
        let mut set = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes();
        set.extend_from_slice(&value[..HEAD as usize + 10]);
        let (got, counts) = read(true, &[Ok(&set), Err(90), Ok(b"\r\n*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0][..2], words(&["SET", "k"]));
        assert_eq!(counts.lost, 0);
        let (got, counts) = read(true, &[Ok(b"*2\r\n$3\r\nGET\r\n$5\r\nab"), Err(3), Ok(b"\r\n*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!(counts.lost, 1);
    }

    #[test]
    fn long_arguments_keep_their_head_length_and_hash() {
        let key = vec![b'k'; HEAD as usize * 3];
        let mut req = format!("*2\r\n$3\r\nGET\r\n${}\r\n", key.len()).into_bytes();
        req.extend_from_slice(&key);
        req.extend_from_slice(b"\r\n");
        let mut r = Requests::new(true);
        let mut seen = 0;
        for chunk in req.chunks(1000) {
            r.feed(chunk, &mut |q: Request<'_>| {
                seen += 1;
                assert_eq!(q.spans[1].1 - q.spans[1].0, HEAD as u32);
                let want = LongArg {
                    index: 1,
                    len: key.len() as u64,
                    hash: crate::count::hash::hash_bytes(run_key(), &key),
                    slot: crate::count::cluster::slot(&key),
                };
                assert_eq!(q.longs, [want]);
                assert_eq!(q.bytes, key.len() as u64);
            });
        }
        assert_eq!(seen, 1);
    }

    #[test]
    fn bytes_that_are_not_resp_are_counted_and_passed_over() {
        let (got, counts) = read(true, &[Ok(b"*x\r\n\x00\x01\x02*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!(counts.not_resp, 1);
        let (got, counts) = read(true, &[Ok(b"\x16\x03\x01garbage\n*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nGE")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!((counts.not_resp, counts.unfinished), (1, 1));
    }

    #[test]
    fn a_gap_inside_a_header_or_an_inline_command_leaves_nothing_of_it() {
        // The `*1\r` before the gap is not read as the start of the length line after it.
        let (got, counts) = read(true, &[Ok(b"*1\r"), Err(1), Ok(b"\n*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!((counts.lost, counts.not_resp), (1, 0));
        // Nor the `PI` before it as the start of the next inline command.
        let (got, counts) = read(true, &[Ok(b"PI"), Err(1), Ok(b"x\r\n*1\r\n$4\r\nPING\r\nGET k\r\n")]);
        assert_eq!(got, [words(&["PING"]), words(&["GET", "k"])]);
        assert_eq!((counts.lost, counts.not_resp), (1, 0));
    }

    #[test]
    fn empty_arrays_are_no_request_as_the_server_takes_them() {
        let (got, counts) = read(true, &[Ok(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!(counts, Counts::default());
        // A length line past 32 bytes is not RESP; the request after it is found.
        let (got, counts) =
            read(true, &[Ok(b"*1\r\n$00000000000000000000000000000004\r\nPING\r\n*1\r\n$4\r\nPING\r\n")]);
        assert_eq!(got, [words(&["PING"])]);
        assert_eq!(counts.not_resp, 1);
    }

    /// The replies in `stream` fed `chunk` bytes at a time: (kind, bytes, first element).
    fn replies(stream: &[u8], chunk: usize) -> Vec<(char, u64, String)> {
        let mut r = Replies::new();
        let mut got = Vec::new();
        for (i, piece) in stream.chunks(chunk).enumerate() {
            r.feed(piece, i as u64, &mut |d: ReplyDone| {
                got.push((d.kind as char, d.bytes, String::from_utf8_lossy(d.first()).into_owned()))
            });
        }
        assert!(!r.lost);
        got
    }

    #[test]
    fn replies_of_resp2_and_resp3_split_anywhere() {
        let parts: [&[u8]; 12] = [
            b"+OK\r\n",
            b"-ERR no\r\n",
            b":12\r\n",
            b"$5\r\nhello\r\n",
            b"$-1\r\n",
            b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n",
            b"*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n~2\r\n,1.5\r\n(12345678901234567890\r\n",
            b"%2\r\n+k\r\n#t\r\n+n\r\n_\r\n",
            b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n",
            b">3\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n_\r\n",
            b"=15\r\ntxt:Some string\r\n",
            b"*0\r\n",
        ];
        let stream: Vec<u8> = parts.concat();
        let want: Vec<(char, u64, String)> = parts
            .iter()
            .zip(['+', '-', ':', '$', '$', '*', '*', '%', '$', '>', '=', '*'])
            .zip(["", "", "", "", "", "message", "", "", "", "invalidate", "", ""])
            .map(|((p, k), f)| (k, p.len() as u64, f.to_string()))
            .collect();
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(replies(&stream, chunk), want, "chunk {chunk}");
        }
    }

    #[test]
    fn a_reply_that_is_not_resp_loses_the_stream() {
        let mut r = Replies::new();
        r.feed(b"+OK\r\n?what\r\n", 0, &mut |_| {});
        assert!(r.lost);
    }

    /// The replies of `pieces`, whatever their times, and whether the stream was lost.
    fn replies_of(pieces: &[&[u8]]) -> (Vec<(u8, u64, Vec<u8>)>, bool) {
        let mut r = Replies::new();
        let mut got = Vec::new();
        for piece in pieces {
            r.feed(piece, 0, &mut |d: ReplyDone| got.push((d.kind, d.bytes, d.first().to_vec())));
        }
        (got, r.lost)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// RESP's pieces and bytes that are not, in any pieces, from a stream's start or from
        /// within it: the requests, counts and replies of the bytes whole.
        #[test]
        fn any_stream_in_any_pieces(
            tokens in proptest::collection::vec(proptest::sample::select(vec![
                &b"*1\r\n"[..], b"*2\r\n", b"*0\r\n", b"*-1\r\n", b"$3\r\n", b"GET\r\n", b"$1\r\n", b"k\r\n",
                b"$0\r\n\r\n", b"$-1\r\n", b"+OK\r\n", b":1\r\n", b"%1\r\n", b"|1\r\n", b">2\r\n", b"PING\r\n",
                b"set a 'b c'\r\n", b"\r\n", b"\n", b"\r", b"x", b"*", b"$", b"\"", b"\x00",
            ]), 0..60),
            chunk in 1usize..24,
            synced in proptest::prelude::any::<bool>(),
        ) {
            let stream = tokens.concat();
            let pieces: Vec<Result<&[u8], u64>> = stream.chunks(chunk).map(Ok).collect();
            proptest::prop_assert_eq!(read(synced, &pieces), read(synced, &[Ok(&stream[..])]));
            let pieces: Vec<&[u8]> = stream.chunks(chunk).collect();
            proptest::prop_assert_eq!(replies_of(&pieces), replies_of(&[&stream[..]]));
        }
    }
}
