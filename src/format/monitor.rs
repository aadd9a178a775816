//! The MONITOR line parser: one captured line in, one classified [`Line`] out.
//!
//! It never fails: a line is a command, noise, a server error, or skipped. It decodes the
//! server's quoting to the exact bytes, decoding only where a backslash is.
//!
//! # The line format
//!
//! Redis 2.6 to 8.x, Valkey and KeyDB write each command (`replicationFeedMonitors`) as
//!
//! ```text
//! '+' SECONDS '.' MICROS ' ' '[' DB ' ' SOURCE ']' ' ' "ARG" (' ' "ARG")* CRLF
//! ```
//!
//! - MICROS has six digits (Redis 2.0 did not zero-pad them: fewer digits are an unpadded
//!   microsecond count; Dragonfly appends a stray digit: only the first six count).
//! - SOURCE is `ip:port`, `[ipv6]:port`, `unix:/path` (which may hold spaces), `lua` (a script's
//!   own calls), `?:0` (up to 7.0) or nothing (7.2 on) for a module's calls; Dragonfly writes
//!   IPv6 unbracketed (`::1:6379`) and `unix-domain-socket`. The source ends at the first `] "`.
//! - Redis 2.2 to 2.4 write no brackets: `(db N) ` only when N is not 0, then the arguments.
//! - Every argument, the command name included, is quoted. `sdscatrepr` escapes `\` and `"`
//!   with a backslash, LF CR TAB BEL BS as `\n \r \t \a \b`, and every other byte that is not
//!   printable ASCII as `\xHH` (lower case). redis-cli's reader also takes upper-case hex and an
//!   unknown `\c` as `c`; so does this parser (the escapes are read in [`crate::format::quoting`]).
//!   A bare CR or TAB therefore never appears inside a line: the reader ([`crate::read::input`])
//!   takes a bare CR for a line end, and a line with a TAB is taken for one of this program's own
//!   records read back.
//!
//! Through a raw socket (telnet, nc) each line is a RESP simple string: `+` before it, CRLF
//! after, `+OK` first; telnet adds `Trying …`, `Connected to …`, `Escape character is …` and
//! `Connection closed by foreign host.`, all noise. redis-cli strips the `+` and the CRLF and
//! prints `OK` first. A server error comes as `-NOAUTH …` or `-ERR …` (redis-cli prints its own
//! `Error: …`, and `NOAUTH …` without the `-`).
//!
//! Commands rejected before they run (unknown, wrong arity, NOAUTH) never appear. Redis 6.2.4
//! and later write a line after running its command, older servers before: see
//! [`crate::count::stats::GapRule`].

use bstr::ByteSlice;

use crate::format::long_arg::LongArg;
use crate::format::quoting::decode_quoted;
use crate::format::record;
use crate::format::scan;
use crate::format::timestamp::{parse_timestamp, Stamps};

/// What one captured line turned out to be.
#[derive(Debug)]
pub enum Line<'a> {
    /// A command.
    Command(Call<'a>),
    /// Expected chatter: `OK`, telnet's banners, blank lines.
    Noise,
    /// A RESP error from the server (`-NOAUTH …`), without its `-`.
    ServerError(&'a [u8]),
    /// Anything else: not a MONITOR line.
    Skipped,
}

/// The part of a command line before its arguments, borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The timestamp exactly as written (`1795636306.848848`).
    pub ts: &'a [u8],
    /// The timestamp in microseconds since the epoch.
    pub micros: u64,
    /// The db number as written (`0` when the line has none).
    pub db: &'a [u8],
    /// The client as written between the brackets: `127.0.0.1:44698`, `[::1]:33802`, `lua`,
    /// `unix:/path`, `?:0`, or empty (module calls, and servers before 2.6 that show no client).
    pub client: &'a [u8],
    /// The node a record read back from `--emit tsv` names (escaped), if it has a node column.
    pub node: Option<&'a [u8]>,
}

/// A command as the line wrote it: its header and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub header: Header<'a>,
    pub args: Args<'a>,
    /// When the line was cut inside an argument: the raw (still escaped) bytes of that argument
    /// in the line's head, after its opening quote; 0 otherwise. Later arguments are unknown.
    pub lost: usize,
    /// The bytes of the arguments after the name.
    pub bytes: u64,
    /// The reply columns of a record read back, when it has them (a capture's requests carry
    /// their replies beside the call).
    pub reply: Option<&'a record::ReplyColumns>,
}

/// Where an argument's bytes are: in the line as written, or decoded from its escapes.
#[derive(Debug, Clone, Copy)]
pub enum Span {
    Line(usize, usize),
    Decoded(usize, usize),
}

impl Span {
    fn len(&self) -> usize {
        match *self {
            Span::Line(a, b) | Span::Decoded(a, b) => b - a,
        }
    }
}

/// The arguments of one command (0 is its name), as exact bytes: borrowed from the line where
/// they needed no decoding, from the parser's buffer where they did.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    line: &'a [u8],
    spans: &'a [Span],
    decoded: &'a [u8],
    /// The arguments of a compacted line that are only their head, in order.
    long: &'a [LongArg],
}

impl<'a> Args<'a> {
    /// The number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        match self.spans[i] {
            Span::Line(a, b) => &self.line[a..b],
            Span::Decoded(a, b) => &self.decoded[a..b],
        }
    }

    /// When argument `i` is kept by its head only (a line over the reader's limit): its whole
    /// length, hash and slot.
    #[inline]
    pub fn long(&self, i: usize) -> Option<&'a LongArg> {
        if self.long.is_empty() {
            return None;
        }
        self.long.iter().find(|l| l.index == i)
    }

    /// The arguments kept by their head.
    pub fn longs(&self) -> &'a [LongArg] {
        self.long
    }

    /// These arguments, with `long` saying which are only their head.
    pub fn with_long(self, long: &'a [LongArg]) -> Args<'a> {
        Args { long, ..self }
    }

    /// All arguments, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let args = *self;
        (0..self.spans.len()).map(move |i| args.get(i))
    }

    /// Arguments whose bytes are `bytes[a..b]` for each `(a, b)` of `spans`, made by another
    /// input's decoder (a packet capture's requests); `spans` come from [`Args::span`].
    pub fn new(bytes: &'a [u8], spans: &'a [Span], long: &'a [LongArg]) -> Args<'a> {
        Args { line: bytes, spans, decoded: &[], long }
    }

    /// Where an argument is in the bytes given to [`Args::new`].
    pub fn span(a: usize, b: usize) -> Span {
        Span::Line(a, b)
    }

    /// Arguments from a list of words (tests, and the loose reading of rejected lines).
    pub fn from_words<'w>(words: &'w [&'w [u8]], store: &'w mut ArgsStore) -> Args<'w> {
        store.line.clear();
        store.spans.clear();
        for w in words {
            let at = store.line.len();
            store.line.extend_from_slice(w);
            store.spans.push(Span::Line(at, store.line.len()));
        }
        Args { line: &store.line, spans: &store.spans, decoded: &[], long: &[] }
    }
}

/// The storage behind [`Args::from_words`].
#[derive(Default)]
pub struct ArgsStore {
    line: Vec<u8>,
    spans: Vec<Span>,
}

/// Parses lines, keeping one reusable buffer for the arguments that need unescaping.
#[derive(Default)]
pub struct Parser {
    spans: Vec<Span>,
    decoded: Vec<u8>,
    line_start: usize,
    /// Raw bytes at the end of a cut line that belong to an argument cut short.
    lost: usize,
    /// The bytes of all the arguments (the name's too), added up as they are found.
    arg_bytes: u64,
    /// The reply columns of the record read back.
    reply: record::ReplyColumns,
    /// The common timestamps' first digits, read once for the lines that share them.
    stamps: Stamps,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Classifies and parses one line (with or without its line ending).
    ///
    /// `cut` says the line was longer than the reader keeps and `line` is only its head: the
    /// arguments that end within it are parsed, and a last one cut short is dropped (see
    /// [`Call::lost`]).
    pub fn parse<'a>(&'a mut self, line: &'a [u8], cut: bool) -> Line<'a> {
        self.parse_line(line, cut, true)
    }

    /// [`Parser::parse`] for a line known to have no TAB when `maybe_tab` is false (the reader
    /// looked for one in the whole block).
    // Always inlined where a line is decoded: its call (a few hundred bytes) is then built where
    // the command is, not built here and copied out (47 instructions a line fewer).
    #[inline(always)]
    pub fn parse_line<'a>(&'a mut self, line: &'a [u8], cut: bool, maybe_tab: bool) -> Line<'a> {
        let whole = line;
        match self.classify(line, cut, maybe_tab) {
            Classified::Command(header, record) => {
                let this: &'a Parser = self;
                let args = Args { line: whole, spans: &this.spans, decoded: &this.decoded, long: &[] };
                let bytes = this.arg_bytes - this.spans[0].len() as u64;
                let reply = (record && this.reply != record::ReplyColumns::Absent).then_some(&this.reply);
                Line::Command(Call { header, args, lost: this.lost, bytes, reply })
            }
            Classified::Noise => Line::Noise,
            Classified::ServerError(text) => Line::ServerError(text),
            Classified::Skipped => Line::Skipped,
        }
    }

    // Always inlined into `parse_line` (its one caller): the header it finds is then not copied
    // out of a call.
    #[inline(always)]
    fn classify<'a>(&mut self, line: &'a [u8], cut: bool, maybe_tab: bool) -> Classified<'a> {
        self.spans.clear();
        self.decoded.clear();
        self.lost = 0;
        self.line_start = 0;

        // A line cut short keeps its line end too when it had one (a compacted copy of a long
        // line); the end of a line that never came has none.
        // (Its end moved back, then the line cut once: two tests of a byte, not two slices made.)
        let mut end = line.len();
        if end > 0 && line[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && line[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &line[..end];
        if !cut && maybe_tab && line.find_byte(b'\t').is_some() {
            // MONITOR escapes tabs: a line with one is most likely a record of ours, read back.
            if let Some(header) = self.record(line) {
                return Classified::Command(header, true);
            }
            self.spans.clear();
            self.decoded.clear();
        }
        let body = match line.split_first() {
            None => return Classified::Noise,
            Some((b'+', rest)) => rest,
            Some((b'-', rest)) => return Classified::ServerError(rest),
            Some(_) => line,
        };
        match body.first() {
            Some(b'0'..=b'9') => {}
            _ if is_noise(body) => return Classified::Noise,
            // redis-cli's own error lines (its stderr piped in too), and the errors it prints on
            // stdout without their `-` (`NOAUTH Authentication required.`).
            _ if [&b"Error: "[..], b"ERR ", b"NOAUTH ", b"WRONGPASS ", b"NOPERM "]
                .iter()
                .any(|p| body.starts_with(p)) =>
            {
                // redis-cli's own error lines, when its stderr is piped in too.
                return Classified::ServerError(body);
            }
            _ => return Classified::Skipped,
        }
        self.command(line, body, cut)
    }

    /// A line that reads as no command: what was found of its arguments is dropped.
    #[inline(always)]
    fn not_a_command<'a>(&mut self) -> Classified<'a> {
        self.spans.clear();
        Classified::Skipped
    }

    // Always inlined into `classify` (its one caller): the header it returns is then built
    // where the command is, not copied out of a call. It returns the `Classified` value itself:
    // an `Option<Header>` mapped into one afterwards was a copy of the header's nine words on
    // every line (20 to 30 instructions a line with what they kept in registers).
    #[inline(always)]
    fn command<'a>(&mut self, line: &'a [u8], body: &'a [u8], cut: bool) -> Classified<'a> {
        // Most lines have the common timestamp, ten digits, a dot and six, then ` [`, a db of one
        // digit and a space: those four bytes are tested first, and every other form is read
        // out of line, so that its code does not crowd the common path's registers (one pass
        // 25 instructions a line fewer; not marked cold: placed apart from the hot code, it made
        // `--emit tsv` 1.3% slower on a paired run, for the same instructions).
        if let Some(&[b' ', b'[', b'0'..=b'9', b' ']) = body.get(17..21) {
            if let Some(micros) = self.stamps.parse(&body[..17]) {
                let offset = body.as_ptr() as usize - line.as_ptr() as usize;
                let after_db = &body[21..];
                let Some(end) = self.client_and_arguments(after_db, offset + 21, cut) else {
                    return self.not_a_command();
                };
                let header =
                    Header { ts: &body[..17], micros, db: &body[19..20], client: &after_db[..end], node: None };
                return Classified::Command(header, false);
            }
        }
        match self.other_command(line, body, cut) {
            Some(header) => Classified::Command(header, false),
            None => self.not_a_command(),
        }
    }

    /// [`Parser::command`] of a line of any form.
    #[inline(never)]
    fn other_command<'a>(&mut self, line: &'a [u8], body: &'a [u8], cut: bool) -> Option<Header<'a>> {
        let offset = body.as_ptr() as usize - line.as_ptr() as usize;
        // The common timestamp, ten digits, a dot and six, is the first field whole when it
        // reads as one (no space inside): then the space after it needs no search.
        let common = match body.get(17) {
            Some(b' ') => self.stamps.parse(&body[..17]),
            _ => None,
        };
        let sp = if common.is_some() { 17 } else { scan::find_early(body, b' ')? };
        let ts = &body[..sp];
        let rest = &body[sp + 1..];
        let (db, client, args_at) = match rest.first()? {
            b'[' => {
                let inner = &rest[1..];
                let db_len = match inner {
                    // The common form is parsed before this; here too a db is most often under 10: its one
                    // digit and the space, read at once.
                    [b'0'..=b'9', b' ', ..] => 1,
                    _ => inner.iter().take_while(|b| b.is_ascii_digit()).count(),
                };
                if db_len == 0 || inner.get(db_len) != Some(&b' ') {
                    return None;
                }
                let micros = match common {
                    Some(micros) => micros,
                    None => parse_timestamp(ts, false)?,
                };
                let after_db = &inner[db_len + 1..];
                let start = offset + sp + 1 + 1 + db_len + 1;
                let end = self.client_and_arguments(after_db, start, cut)?;
                return Some(Header { ts, micros, db: &inner[..db_len], client: &after_db[..end], node: None });
            }
            b'(' => {
                let inner = rest.strip_prefix(b"(db ")?;
                let db_len = inner.iter().take_while(|b| b.is_ascii_digit()).count();
                if db_len == 0 || !inner[db_len..].starts_with(b") ") {
                    return None;
                }
                (&inner[..db_len], &b""[..], 4 + db_len + 2)
            }
            b'"' => (&b"0"[..], &b""[..], 0),
            _ => return None,
        };
        // The forms without brackets are Redis 2.0 to 2.4's; 2.0 did not zero-pad microseconds.
        let micros = parse_timestamp(ts, true)?;
        self.line_start = offset + sp + 1 + args_at;
        let text = &rest[args_at..];
        if text.first() != Some(&b'"') {
            return None;
        }
        self.arguments(text, 0, scan::Marks::new(text, 1, ARGUMENT_MARKS), cut)?;
        Some(Header { ts, micros, db, client, node: None })
    }

    /// Finds where the client in `text` (after `[DB `, at `start` in the line) ends and parses
    /// the arguments after it; returns the client's length. The client ends at a `] "` after
    /// which a whole argument list follows: the first such, as a unix socket's path may hold
    /// `] "` itself (then the arguments are tried again after the next one).
    fn client_and_arguments(&mut self, text: &[u8], start: usize, cut: bool) -> Option<usize> {
        self.line_start = start;
        // Most clients hold no quote nor backslash: then the first of the arguments' marks is
        // the opening quote after the first `] "`, and one pass over the marks reads the client
        // and the arguments. Any other line (or one whose arguments do not read so) is read
        // again from the start, looking for the end of the client first.
        let mut marks = scan::Marks::new(text, 0, ARGUMENT_MARKS);
        if let Some(open) = marks.next() {
            if open >= 2 && text[open] == b'"' && text[open - 2..open] == *b"] " {
                if self.arguments(text, open, marks, cut).is_some() {
                    return Some(open - 2);
                }
                self.clear_arguments();
            }
        }
        self.any_client_and_arguments(text, cut)
    }

    /// [`Parser::client_and_arguments`] of any client: the end of the client looked for first.
    #[cold]
    #[inline(never)]
    fn any_client_and_arguments(&mut self, text: &[u8], cut: bool) -> Option<usize> {
        let mut marks = scan::Marks::new(text, 0, [b']'; 3]);
        loop {
            let end = client_end(text, &mut marks)?;
            // `client_end` found the quote after the `] `.
            let open = end + 2;
            if self.arguments(text, open, scan::Marks::new(text, open + 1, ARGUMENT_MARKS), cut).is_some() {
                return Some(end);
            }
            self.clear_arguments();
        }
    }

    /// Forgets the arguments found, for another reading of the line.
    fn clear_arguments(&mut self) {
        self.spans.clear();
        self.decoded.clear();
        self.lost = 0;
    }

    /// A record of `--emit tsv` read back, as [`crate::format::record`] reads one: each field
    /// after the lead an argument, decoded where it has a backslash.
    fn record<'a>(&mut self, line: &'a [u8]) -> Option<Header<'a>> {
        let (lead, micros, fields, reply) = record::read(line)?;
        self.reply = reply;
        for (at, field) in fields {
            if field.find_byte(b'\\').is_some() {
                let from = self.decoded.len();
                if !crate::format::escape::unescape_into(field, &mut self.decoded) {
                    return None;
                }
                self.spans.push(Span::Decoded(from, self.decoded.len()));
            } else {
                self.spans.push(Span::Line(at, at + field.len()));
            }
        }
        if self.spans.is_empty() {
            return None;
        }
        self.repeat_subcommand(line);
        self.arg_bytes = self.spans.iter().map(|s| s.len() as u64).sum();
        Some(Header { ts: lead.ts, micros, db: lead.db, client: lead.client, node: lead.node })
    }

    /// Puts back the subcommand's word a record left out ([`record::missing_subcommand`]).
    fn repeat_subcommand(&mut self, line: &[u8]) {
        fn arg<'p>(p: &'p Parser, line: &'p [u8], i: usize) -> &'p [u8] {
            match p.spans[i] {
                Span::Line(a, b) => &line[a..b],
                Span::Decoded(a, b) => &p.decoded[a..b],
            }
        }
        let first = (self.spans.len() > 1).then(|| arg(self, line, 1));
        let Some(sub) = record::missing_subcommand(arg(self, line, 0), first) else { return };
        let sub = sub.to_vec();
        let from = self.decoded.len();
        self.decoded.extend_from_slice(&sub);
        self.spans.insert(1, Span::Decoded(from, self.decoded.len()));
    }

    /// Splits `"a" "b\x00" ""` into arguments, decoding escapes only where a backslash is: one
    /// pass over the quotes and backslashes of all the arguments ([`scan::Marks`]), each
    /// argument's span written as its closing quote is found.
    ///
    /// The arguments start at the quote `text[open]`, and `marks` ([`ARGUMENT_MARKS`]) are
    /// those after it; positions in `text` are `line_start` on in the line.
    // Always inlined, so that the marks stay in registers through the loop.
    #[inline(always)]
    fn arguments(&mut self, text: &[u8], open: usize, mut marks: scan::Marks<'_>, cut: bool) -> Option<()> {
        let base = self.line_start;
        debug_assert_eq!(text[open], b'"');
        let mut start = open + 1;
        let mut bytes = 0;
        let whole = loop {
            let close = match marks.next() {
                Some(at) if text[at] == b'"' => {
                    self.spans.push(Span::Line(base + start, base + at));
                    bytes += at - start;
                    at
                }
                // A backslash: this argument is decoded, and the marks go on after it.
                Some(_) => {
                    let from = self.decoded.len();
                    match decode_quoted(&text[start..], &mut self.decoded) {
                        Some(used) => {
                            self.spans.push(Span::Decoded(from, self.decoded.len()));
                            bytes += self.decoded.len() - from;
                            marks.skip_to(start + used + 1);
                            start + used
                        }
                        None if cut => {
                            self.decoded.truncate(from);
                            self.lost = text.len() - start;
                            break true;
                        }
                        None => break false,
                    }
                }
                None if cut => {
                    self.lost = text.len() - start;
                    break true;
                }
                None => break false,
            };
            // The next argument's space and opening quote, looked at together; the line may
            // also end here, or after one space.
            match text.get(close + 1..close + 3) {
                Some(b" \"") => {}
                Some(_) => break false,
                None if close + 1 == text.len() || text[close + 1] == b' ' => break true,
                None => break false,
            }
            // Only a space lies between: the next mark is this opening quote.
            let open = marks.next();
            debug_assert_eq!(open, Some(close + 2));
            start = close + 3;
        };
        // `whole`: the arguments end as a line of them does (or where the line was cut).
        if !whole || self.spans.is_empty() {
            return None;
        }
        self.arg_bytes = bytes as u64;
        Some(())
    }
}

/// What the arguments are read by: their quotes and backslashes (a `]` among them is nothing to
/// them).
const ARGUMENT_MARKS: [u8; 3] = [b'"', b'\\', b'\\'];

/// What [`Parser::classify`] found, before the arguments are handed out.
enum Classified<'a> {
    /// A command, and whether it is a record read back.
    Command(Header<'a>, bool),
    Noise,
    ServerError(&'a [u8]),
    Skipped,
}

/// The timestamp a line starts with, if it starts with one (the first field of a record read
/// back, or the second after a node), with the timestamp as written. A look at the line, not a
/// parse: whether the rest is a command is for [`Parser::parse`] to say.
pub fn peek_timestamp(line: &[u8]) -> Option<(u64, &[u8])> {
    let body = line.strip_prefix(b"+").unwrap_or(line);
    let first = &body[..body.find_byteset(b" \t").unwrap_or(body.len())];
    if let Some(micros) = parse_timestamp(first, false) {
        return Some((micros, first));
    }
    // A record read back that names its node first.
    let rest = body.get(first.len() + 1..)?;
    if body.get(first.len()) != Some(&b'\t') {
        return None;
    }
    let second = &rest[..rest.find_byte(b'\t')?];
    parse_timestamp(second, false).map(|micros| (micros, second))
}

/// True for a line that looks like another command's reply pasted in place of MONITOR output:
/// INFO's `# Section` and `field:value` lines, redis-cli's `1) "key"` lists, RESP headers.
pub fn looks_like_a_reply(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"# ") || matches!(line.first(), Some(b'$' | b'*' | b':')) {
        return true;
    }
    let word = line.iter().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'_').count();
    if word > 0 && line.get(word) == Some(&b':') {
        return true;
    }
    let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && line[digits..].starts_with(b") ")
}

/// A client's address without its port, so one application server is one row:
/// `10.0.0.5:41000` → `10.0.0.5`, `[::1]:33802` → `[::1]`; `lua` and `unix:/path` stay as they are.
#[inline]
pub fn client_address(client: &[u8]) -> &[u8] {
    // Back over the port's digits: they end on the last `:` exactly when all after that `:`
    // are digits.
    let digits = trailing_digits(client);
    let colon = client.len() - digits;
    match colon.checked_sub(1) {
        Some(colon) if colon > 0 && digits > 0 && client[colon] == b':' && !client.starts_with(b"unix") => {
            &client[..colon]
        }
        _ => client,
    }
}

/// How many of `text`'s last bytes are ASCII digits. This runs for every line, and a port has at
/// most five: the last eight bytes are tested at once, a byte at a time only past them.
#[inline]
fn trailing_digits(text: &[u8]) -> usize {
    const LOW: u64 = 0x0F0F_0F0F_0F0F_0F0F;
    if let Some(tail) = text.last_chunk::<8>() {
        // `0`..`9` become 0..9: a digit's high nibble is 0, and adding 6 to its low one stays
        // under 16 (no carry leaves a byte).
        let x = u64::from_le_bytes(*tail) ^ 0x3030_3030_3030_3030;
        let over_nine = ((x & LOW) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010;
        let not_digit = (x & !LOW) | over_nine;
        if not_digit != 0 {
            // The last byte is the most significant: the zero bytes above the first set bit are
            // the digits at the end.
            return (not_digit.leading_zeros() / 8) as usize;
        }
    }
    text.iter().rev().take_while(|b| b.is_ascii_digit()).count()
}

/// The position of the next `] "` of `text` the `marks` (of `]`) come to: where the source part
/// may end.
#[inline]
fn client_end(text: &[u8], marks: &mut scan::Marks<'_>) -> Option<usize> {
    loop {
        let at = marks.next()?;
        if text[at + 1..].starts_with(b" \"") {
            return Some(at);
        }
    }
}

fn is_noise(body: &[u8]) -> bool {
    const NOISE: [&[u8]; 5] = [
        b"Trying ",
        b"Connected to ",
        b"Escape character is ",
        b"Connection closed by foreign host",
        b"Connection to ",
    ];
    body == b"OK" || body.trim_ascii().is_empty() || NOISE.iter().any(|n| body.starts_with(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header fields and arguments of one parsed command, owned.
    type Parsed = (Vec<u8>, u64, Vec<u8>, Vec<u8>, Vec<Vec<u8>>);

    /// Parses `line` and returns its header fields and arguments as owned bytes.
    fn cmd(line: &[u8]) -> Parsed {
        let mut p = Parser::new();
        match p.parse(line, false) {
            Line::Command(Call { header: h, args, .. }) => {
                let args = args.iter().map(|a| a.to_vec()).collect();
                (h.ts.to_vec(), h.micros, h.db.to_vec(), h.client.to_vec(), args)
            }
            other => panic!("not a command: {other:?}"),
        }
    }

    fn kind(line: &[u8]) -> String {
        let mut p = Parser::new();
        match p.parse(line, false) {
            Line::Command(_) => "command".into(),
            Line::Noise => "noise".into(),
            Line::ServerError(e) => format!("error {}", String::from_utf8_lossy(e)),
            Line::Skipped => "skipped".into(),
        }
    }

    fn args(list: &[&[u8]]) -> Vec<Vec<u8>> {
        list.iter().map(|a| a.to_vec()).collect()
    }

    #[test]
    fn fractions_of_any_length_are_read_as_written() {
        for (ts, micros) in [
            (&b"1700000000.1"[..], 1_700_000_000_100_000),
            (b"1700000000.12", 1_700_000_000_120_000),
            (b"1700000000.123456", 1_700_000_000_123_456),
            (b"1700000000.1234567", 1_700_000_000_123_456),
        ] {
            let line = [ts, &b" [0 1.1.1.1:1] \"get\" \"k\""[..]].concat();
            assert_eq!(cmd(&line).1, micros, "{}", String::from_utf8_lossy(ts));
        }
        // Past the year 9999: refused.
        assert_eq!(kind(br#"253402300800.000000 [0 1.1.1.1:1] "get" "k""#), "skipped");
        assert_eq!(kind(br#"253402300799.999999 [0 1.1.1.1:1] "get" "k""#), "command");
    }

    #[test]
    fn a_unix_socket_path_may_hold_the_end_of_the_client() {
        // Redis 7.0.15 writes the socket's path as it is.
        let (_, _, _, client, a) = cmd(br#"1.000001 [0 unix:/tmp/a] "b/redis.sock] "get" "k""#);
        assert_eq!(client, br#"unix:/tmp/a] "b/redis.sock"#);
        assert_eq!(a, args(&[b"get", b"k"]));
        let (_, _, _, client, a) = cmd(br#"1.000001 [0 unix:/x] "y] "set" "k" "] \"v""#);
        assert_eq!(client, br#"unix:/x] "y"#);
        assert_eq!(a, args(&[b"set", b"k", b"] \"v"]));
    }

    #[test]
    fn redis_cli_form() {
        let (ts, us, db, client, a) = cmd(br#"1795636306.848848 [0 127.0.0.1:44698] "set" "a\tb\"c\n\x01" "v""#);
        assert_eq!(ts, b"1795636306.848848");
        assert_eq!(us, 1_795_636_306_848_848);
        assert_eq!(db, b"0");
        assert_eq!(client, b"127.0.0.1:44698");
        assert_eq!(a, args(&[b"set", b"a\tb\"c\n\x01", b"v"]));
    }

    #[test]
    fn raw_resp_form_with_plus_and_crlf() {
        let (ts, _, db, client, a) = cmd(b"+1795636306.848848 [12 10.0.0.5:6000] \"GET\" \"user:1\"\r\n");
        assert_eq!(ts, b"1795636306.848848");
        assert_eq!(db, b"12");
        assert_eq!(client, b"10.0.0.5:6000");
        assert_eq!(a, args(&[b"GET", b"user:1"]));
    }

    #[test]
    fn every_source_form() {
        let clients: [(&[u8], &[u8]); 7] = [
            (br#"1.000001 [0 [::1]:33802] "set" "k" "1""#, b"[::1]:33802"),
            (br#"1.000001 [0 unix:/var/run/redis/my sock] "set" "k" "1""#, b"unix:/var/run/redis/my sock"),
            (br#"1.000001 [0 lua] "set" "k" "1""#, b"lua"),
            (br#"1.000001 [0 ?:0] "set" "k" "1""#, b"?:0"),
            (br#"1.000001 [0 ] "set" "k" "1""#, b""),
            (br#"1.000001 [3 ::1:6379] "SET" "k" "1""#, b"::1:6379"),
            (br#"1.000001 [0 unix-domain-socket] "SET" "k" "1""#, b"unix-domain-socket"),
        ];
        for (line, want) in clients {
            let (_, _, _, client, a) = cmd(line);
            assert_eq!(client, want, "{}", String::from_utf8_lossy(line));
            assert_eq!(a[1], b"k");
        }
    }

    #[test]
    fn old_servers_without_brackets() {
        let (_, _, db, client, a) = cmd(br#"1339518083.107412 (db 1) "set" "x" "1""#);
        assert_eq!((db.as_slice(), client.as_slice()), (&b"1"[..], &b""[..]));
        assert_eq!(a, args(&[b"set", b"x", b"1"]));
        let (_, us, db, _, a) = cmd(br#"1339518083.5 "get" "x""#);
        assert_eq!(db, b"0");
        assert_eq!(us, 1_339_518_083_000_005, "2.0 wrote unpadded microseconds");
        assert_eq!(a, args(&[b"get", b"x"]));
    }

    #[test]
    fn dragonfly_fraction_is_not_six_digits() {
        let (ts, us, _, _, a) = cmd(br#"1700000000.1234566 [0 127.0.0.1:6000] "GET" "k""#);
        assert_eq!(ts, b"1700000000.1234566");
        assert_eq!(us, 1_700_000_000_123_456);
        assert_eq!(a, args(&[b"GET", b"k"]));
    }

    #[test]
    fn a_call_s_bytes_are_its_arguments_after_the_name() {
        // Every form: plain, escaped, a client retried past a `] "` in its path, no brackets, a
        // record read back (its subcommand's word put back), no argument after the name, an
        // empty one.
        for line in [
            &br#"1.000001 [0 1.2.3.4:5] "GET" "user:1""#[..],
            br#"1.000001 [0 1.2.3.4:5] "set" "bin" "\x80\xff" "\"q\"""#,
            br#"1.000001 [0 unix:/x] "y] "set" "k" "] \"v""#,
            br#"1339518083.107412 (db 1) "set" "x" "12""#,
            b"1.000001\t0\t1.2.3.4:5\tconfig|get\tmaxmemory",
            br#"1.000001 [0 1.2.3.4:5] "PING""#,
            br#"1.000001 [0 1.2.3.4:5] "set" "" "v""#,
        ] {
            let mut p = Parser::new();
            let Line::Command(call) = p.parse(line, false) else { panic!("{}", String::from_utf8_lossy(line)) };
            let want: usize = call.args.iter().skip(1).map(<[u8]>::len).sum();
            assert_eq!(call.bytes, want as u64, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn every_escape_decodes_to_raw_bytes() {
        let (_, _, _, _, a) = cmd(br#"1.000001 [0 1.2.3.4:5] "set" "bin" "\x80\xff\x7f\r\a\b\\" "\xC3\xA9" "\q" """#);
        assert_eq!(a, args(&[b"set", b"bin", b"\x80\xff\x7f\r\x07\x08\\", "é".as_bytes(), b"q", b""]));
        let (_, _, _, _, a) = cmd(br#"1.000001 [0 1.2.3.4:5] "set" "key with spaces" "it's \"quoted\"""#);
        assert_eq!(a, args(&[b"set", b"key with spaces", b"it's \"quoted\""]));
        // `\x` not followed by two hex digits is read as `x`, as redis-cli reads it.
        let (_, _, _, _, a) = cmd(br#"1.000001 [0 1.2.3.4:5] "get" "\xzz" "\x""#);
        assert_eq!(a, args(&[b"get", b"xzz", b"x"]));
    }

    #[test]
    fn module_and_subcommand_names() {
        let (_, _, _, _, a) = cmd(br#"1.000001 [0 1.2.3.4:5] "JSON.GET" "doc" "$.a""#);
        assert_eq!(a[0], b"JSON.GET");
        let (_, _, _, _, a) = cmd(br#"1.000001 [0 1.2.3.4:5] "client|setname" "x""#);
        assert_eq!(a[0], b"client|setname");
    }

    #[test]
    fn noise_and_errors() {
        for line in [
            &b"OK"[..],
            b"+OK\r\n",
            b"\r\n",
            b"",
            b"   ",
            b"Trying 127.0.0.1...",
            b"Connected to localhost.",
            b"Escape character is '^]'.",
            b"Connection closed by foreign host.",
        ] {
            assert_eq!(kind(line), "noise", "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(kind(b"-NOAUTH Authentication required.\r\n"), "error NOAUTH Authentication required.");
        assert_eq!(kind(b"-ERR unknown command 'imonitor'"), "error ERR unknown command 'imonitor'");
    }

    #[test]
    fn broken_lines_are_skipped_not_glued() {
        for line in [
            &b"hello world"[..],
            br#"1.000001 [0 1.2.3.4:5] "set" "unterminated"#,
            br#"1.000001 [0 1.2.3.4:5]"#,
            br#"1.000001 [0 1.2.3.4:5] "set""x""#,
            br#"1.000001 [0 1.2.3.4:5 "set" "x""#,
            br#"1.000001 [x 1.2.3.4:5] "set" "x""#,
            br#"1.000001 [0 1.2.3.4:5] set x"#,
            br#"1.000001 [0 1.2.3.4:5] "get" "a\"#,
            br#"abc.def [0 1.2.3.4:5] "get" "a""#,
            br#"1 [0 1.2.3.4:5] "get" "a""#,
            b"$5",
            b"*3",
            b":1",
            br#"1.000001 [-1 1.2.3.4:5] "set" "x""#,
            br#"1.000001 [[0 1.2.3.4:5] "set" "x""#,
            br#"1.000001 [  1.2.3.4:5] "set" "x""#,
        ] {
            assert_eq!(kind(line), "skipped", "{}", String::from_utf8_lossy(line));
            // The same with a timestamp of today's width: the common form's own way through.
            let today = line.replace(b"1.000001 [", b"1795636306.848848 [");
            assert_eq!(kind(&today), "skipped", "{}", String::from_utf8_lossy(&today));
        }
    }

    #[test]
    fn records_read_back() {
        let line = b"1795636306.848848\t0\t127.0.0.1:44698\tset\ta\\tb\"c\\n\\x01\tv\n";
        let mut p = Parser::new();
        let Line::Command(Call { header: h, args, .. }) = p.parse(line, false) else { panic!() };
        assert_eq!(
            (h.ts, h.db, h.client, h.node),
            (&b"1795636306.848848"[..], &b"0"[..], &b"127.0.0.1:44698"[..], None)
        );
        assert_eq!(h.micros, 1_795_636_306_848_848);
        assert_eq!(args.iter().collect::<Vec<_>>(), vec![&b"set"[..], b"a\tb\"c\n\x01", b"v"]);
        let line = b"n1\t1795636306.848848\t3\tlua\tobject|encoding\tencoding\tk\r\n";
        let Line::Command(Call { header: h, args, .. }) = p.parse(line, false) else { panic!() };
        assert_eq!((h.node, h.db, h.client), (Some(&b"n1"[..]), &b"3"[..], &b"lua"[..]));
        assert_eq!(args.iter().collect::<Vec<_>>(), vec![&b"object|encoding"[..], b"encoding", b"k"]);
        // A record that does not repeat its subcommand's word gets it back.
        let line = b"1.5\t0\t1.2.3.4:5\tconfig|set\trequirepass\tHUNTER3\n";
        let Line::Command(Call { args, .. }) = p.parse(line, false) else { panic!() };
        assert_eq!(args.iter().collect::<Vec<_>>(), vec![&b"config|set"[..], b"set", b"requirepass", b"HUNTER3"]);
        let line = b"1.5\t0\tc\tacl|whoami\n";
        let Line::Command(Call { args, .. }) = p.parse(line, false) else { panic!() };
        assert_eq!(args.iter().collect::<Vec<_>>(), vec![&b"acl|whoami"[..], b"whoami"]);
        // An empty argument, and broken records.
        let line = b"1.000001\t0\t\tget\t\n";
        let Line::Command(call) = p.parse(line, false) else { panic!() };
        assert_eq!(call.args.iter().collect::<Vec<_>>(), vec![&b"get"[..], b""]);
        for bad in [&b"a\tb\n"[..], b"1.000001\tx\tc\tget\n", b"1.000001\t0\tc\tget\\q\n", b"1.000001\t0\tc\n"] {
            assert!(matches!(p.parse(bad, false), Line::Skipped), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn client_addresses_are_what_the_last_colon_and_its_digits_say() {
        // The definition: cut at the last `:` when a port's digits (at least one) follow it.
        let by_definition = |client: &[u8]| -> Vec<u8> {
            match client.iter().rposition(|&b| b == b':') {
                Some(c) if c > 0 && c + 1 < client.len() && client[c + 1..].iter().all(u8::is_ascii_digit) => {
                    if client.starts_with(b"unix") {
                        client.to_vec()
                    } else {
                        client[..c].to_vec()
                    }
                }
                _ => client.to_vec(),
            }
        };
        let alphabet = [b':', b'1', b'a', b']'];
        let mut clients: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=6 {
            let longer: Vec<Vec<u8>> = clients
                .iter()
                .filter(|c| c.len() == len - 1)
                .flat_map(|c| alphabet.iter().map(move |&b| [c.as_slice(), &[b]].concat()))
                .collect();
            clients.extend(longer);
        }
        clients.extend([b"unix:12".to_vec(), b"unixx:1".to_vec(), b"unix".to_vec()]);
        for client in &clients {
            assert_eq!(client_address(client), by_definition(client), "{}", String::from_utf8_lossy(client));
        }
    }

    #[test]
    fn trailing_digits_eight_at_a_time_are_counted_one_at_a_time() {
        let one_at_a_time = |text: &[u8]| text.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        // Every byte value at every place of digit strings of 8 to 11 bytes, and alone.
        for len in 0..=11 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = b"31415926535"[..len].to_vec();
                    text[at] = b;
                    assert_eq!(trailing_digits(&text), one_at_a_time(&text), "{text:?}");
                }
            }
        }
        assert_eq!(client_address(b"10.0.0.28:44368"), b"10.0.0.28");
        assert_eq!(client_address(b"[2001:db8::1]:6379"), b"[2001:db8::1]");
    }

    #[test]
    fn client_addresses_lose_their_port() {
        let cases: [(&[u8], &[u8]); 8] = [
            (b"10.0.0.5:41000", b"10.0.0.5"),
            (b"[::1]:33802", b"[::1]"),
            (b"::1:6379", b"::1"),
            (b"lua", b"lua"),
            (b"unix:/var/run/redis.sock", b"unix:/var/run/redis.sock"),
            (b"?:0", b"?"),
            (b"", b""),
            (b"host:", b"host:"),
        ];
        for (client, want) in cases {
            assert_eq!(client_address(client), want);
        }
    }

    #[test]
    fn pasted_replies_are_recognised() {
        for line in [&b"# Server\r\n"[..], b"redis_version:7.0.15", b"1) \"user:1\"", b"$5", b"*3", b":1"] {
            assert!(looks_like_a_reply(line), "{}", String::from_utf8_lossy(line));
        }
        for line in [&b"hello world"[..], b"1795636306.848848 [0 1.1.1.1:1] \"get\" \"k\""] {
            assert!(!looks_like_a_reply(line));
        }
    }

    /// What reading the client and arguments of `line[3..]` with `read` found, owned.
    fn read_with(
        line: &[u8],
        read: impl Fn(&mut Parser) -> Option<usize>,
    ) -> (Option<usize>, Vec<Vec<u8>>, usize, u64) {
        let mut p = Parser::new();
        p.line_start = 3;
        let Some(end) = read(&mut p) else { return (None, Vec::new(), 0, 0) };
        let args = Args { line, spans: &p.spans, decoded: &p.decoded, long: &[] };
        (Some(end), args.iter().map(<[u8]>::to_vec).collect(), p.lost, p.arg_bytes)
    }

    #[test]
    fn one_pass_over_the_marks_reads_as_the_search_for_the_client_s_end() {
        // Lines of pieces that make and break clients and arguments, every way: read by the
        // common one pass, and by the search for the `] "` that ends the client first.
        let pieces: [&[u8]; 16] = [
            b"\"",
            b"\\",
            b"]",
            b" ",
            b"] \"",
            b"\" \"",
            b"\\x4",
            b"\\x41",
            b"\\\"",
            b"a",
            b"GET",
            b"10.0.0.1:5",
            b"unix:/a] \"b",
            b"\\\\",
            b"\" ",
            b"k",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut commands = 0;
        for _ in 0..20_000 {
            let mut line = b"[0 ".to_vec();
            for _ in 0..next(9) {
                line.extend_from_slice(pieces[next(pieces.len())]);
            }
            if next(2) == 0 {
                line.extend_from_slice(b"] \"set\" \"k\"");
            }
            for cut in [false, true] {
                let one = read_with(&line, |p| p.client_and_arguments(&line[3..], 3, cut));
                let search = read_with(&line, |p| p.any_client_and_arguments(&line[3..], cut));
                assert_eq!(one, search, "{}", String::from_utf8_lossy(&line));
                commands += usize::from(one.0.is_some());
            }
        }
        assert!((10_000..30_000).contains(&commands), "both ways through: {commands} of 40000 read");
    }

    #[test]
    fn a_cut_line_keeps_its_complete_arguments() {
        let line = br#"1.000001 [0 1.2.3.4:5] "set" "bigkey" "xxxxxxxx"#;
        let mut p = Parser::new();
        let Line::Command(call) = p.parse(line, true) else { panic!() };
        assert_eq!(call.lost, b"xxxxxxxx".len());
        assert_eq!(call.args.iter().collect::<Vec<_>>(), vec![&b"set"[..], b"bigkey"]);
        let line = br#"1.000001 [0 1.2.3.4:5] "set" "big\x00key" "xx\x01"#;
        let Line::Command(call) = p.parse(line, true) else { panic!() };
        assert_eq!(call.args.iter().collect::<Vec<_>>(), vec![&b"set"[..], b"big\x00key"]);
        // Cut right after a space.
        let line = br#"1.000001 [0 1.2.3.4:5] "set" "k" "#;
        let Line::Command(call) = p.parse(line, true) else { panic!() };
        assert_eq!(call.args.len(), 2);
        assert_eq!(call.lost, 0);
    }
}
