//! The TSV record, the one home of its columns: which there are, in which order, under which
//! `--header` names ([`Column`]), written by [`Writer`] and read back by [`read`] (the MONITOR
//! parser takes a line with a TAB for one) and [`lead_len`] (the compactor's streaming split of
//! a long one, which [`looks_like_one`] tells from a long MONITOR line). Every field is in the
//! printable form of [`crate::format::escape`], so a field never holds a TAB or a line end.
//!
//! Columns, tsv:  timestamp, db, client, command, arg1, arg2, …
//! Columns, keys: timestamp, db, client, command, key, access (`read` or `write`), slot (the key's
//! cluster hash slot, of its whole bytes also when the record holds only a long key's head)
//!
//! Records of requests read from packets end with their reply ([`REPLY`]): a keys record with
//! two more columns, the key's share of the reply's bytes and of the latency in microseconds; a
//! tsv record, after its arguments, with the mark [`REPLY_MARK`] and the reply's bytes and
//! latency. The mark is a field no argument is ever written as (a backslash before a byte that
//! is no escape), so [`read`] tells the reply columns from arguments, and a record read back
//! gives its request's reply again. Both columns are empty when the capture did not show the
//! reply.
//!
//! With several inputs (or a named one, `NAME=PATH`) every record starts with a node column.
//! The header line (keys records only: column stores take it for their column names) names the
//! columns, `node` first when there is one.
//!
//! The timestamp is written as the input had it; the command is the normalized name the report
//! uses (`get`, `object|encoding`); arguments start with the one after the command name, so a
//! subcommand's word is written twice (`config|set  set  …`), and put back when a record made by
//! hand leaves it out.

use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::ops::Range;

use bstr::ByteSlice;

use crate::format::escape::{block_is_plain, escape, escape_mixed, is_plain, not_plain, words_are_plain};
use crate::format::timestamp::parse_timestamp;

/// What separates the fields of a record.
pub const SEPARATOR: u8 = b'\t';

/// A column of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The input's name, with several inputs or a named one.
    Node,
    Timestamp,
    Db,
    Client,
    Command,
    /// Keys: one key, whether the command reads or writes it, and its cluster slot.
    Key,
    Access,
    Slot,
    /// Keys read from packets: the key's share of the reply's bytes and of the latency.
    ReplyBytes,
    LatencyUs,
}

impl Column {
    /// The column's name on the header line.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Node => "node",
            Column::Timestamp => "timestamp",
            Column::Db => "db",
            Column::Client => "client",
            Column::Command => "command",
            Column::Key => "key",
            Column::Access => "access",
            Column::Slot => "slot",
            Column::ReplyBytes => "reply_bytes",
            Column::LatencyUs => "latency_us",
        }
    }
}

/// The columns every record starts with (after the node, when there is one), as
/// [`Writer::lead`] writes them and [`read`] reads them. A tsv record follows them with the
/// command's arguments after its name, one column each.
pub const LEAD: [Column; 4] = [Column::Timestamp, Column::Db, Column::Client, Column::Command];
/// What a keys record has after the lead ([`Writer::key`]).
pub const KEY: [Column; 3] = [Column::Key, Column::Access, Column::Slot];
/// What a record of a request read from packets adds ([`ReplyColumns`]).
pub const REPLY: [Column; 2] = [Column::ReplyBytes, Column::LatencyUs];
/// What comes before the reply columns in a tsv record: `\|`, which [`escape`] never writes.
pub const REPLY_MARK: &[u8] = b"\\|";

/// The columns before a record's command, borrowed from the line read or the command written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lead<'a> {
    /// The node, escaped as the record has it.
    pub node: Option<&'a [u8]>,
    /// The timestamp as written (`1795636306.848848`); only digits and a dot.
    pub ts: &'a [u8],
    /// The db number: only digits.
    pub db: &'a [u8],
    /// The client, escaped as the record has it when read; as the input had it when written.
    pub client: &'a [u8],
}

/// The reply columns of a record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ReplyColumns {
    /// Not read from packets: no reply columns.
    #[default]
    Absent,
    /// Read from packets, but the capture did not show the reply: both empty.
    Unseen,
    /// The record's share of the reply's bytes and of the latency, in microseconds: all of it
    /// in a tsv record, a key's share in a keys record.
    Share { bytes: u64, micros: u64 },
}

const BLOCK: usize = 64 * 1024;

/// Writes records through its own block buffer; [`Writer::flush`] pushes them out.
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// The buffer is written out once it holds this much ([`BLOCK`]; never, when gathering).
    block: usize,
    /// Where the current command's leading columns are in `buf`: written once, in place for its
    /// first record, and copied for each further one.
    lead: Range<usize>,
    /// Its first record was written (the lead in place is taken).
    led: bool,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer { out, buf: Vec::with_capacity(BLOCK * 2), block: BLOCK, lead: 0..0, led: true }
    }

    /// The header line: the keys records' column names, `node` first with `node`, the reply
    /// columns with `reply`.
    #[cold]
    pub fn header(&mut self, node: bool, reply: bool) {
        let node = node.then_some(Column::Node);
        let names = node.into_iter().chain(LEAD).chain(KEY).chain(reply.then_some(REPLY).into_iter().flatten());
        for (i, column) in names.enumerate() {
            if i > 0 {
                self.buf.push(SEPARATOR);
            }
            self.buf.extend_from_slice(column.name().as_bytes());
        }
        self.buf.push(b'\n');
    }

    /// Starts a command's records: its lead columns, with `command` its normalized name.
    #[inline]
    pub fn lead(&mut self, lead: &Lead<'_>, command: &[u8]) {
        let out = &mut self.buf;
        let start = out.len();
        // The parser let through only digits and a dot in these: nothing to escape.
        debug_assert!(lead.ts.iter().chain(lead.db).all(|b| b.is_ascii_digit() || *b == b'.'));
        let most = lead.ts.len() + lead.db.len() + lead.client.len() + command.len() + 3;
        let plain = lead.node.is_none()
            && Room::fill(out, most, |room| {
                match (<&[u8; 17]>::try_from(lead.ts), lead.db) {
                    // Today's timestamp and a db under 10, as most lines have them.
                    (Ok(ts), &[db]) => room.ts_db(ts, db),
                    _ => {
                        room.put(lead.ts);
                        room.byte(SEPARATOR);
                        room.put(lead.db);
                        room.byte(SEPARATOR);
                    }
                }
                let client = room.put_plain(lead.client);
                room.byte(SEPARATOR);
                client & room.put_plain(command)
            });
        if !plain {
            if let Some(node) = lead.node {
                escape(node, out);
                out.push(SEPARATOR);
            }
            out.extend_from_slice(lead.ts);
            out.push(SEPARATOR);
            out.extend_from_slice(lead.db);
            out.push(SEPARATOR);
            escape(lead.client, out);
            out.push(SEPARATOR);
            escape(command, out);
        }
        self.lead = start..out.len();
        self.led = false;
    }

    /// Starts a record of the current command with its lead.
    #[inline]
    fn record_lead(&mut self) {
        if std::mem::replace(&mut self.led, true) {
            self.buf.extend_from_within(self.lead.clone());
        }
    }

    /// A tsv record: the lead, then `args` (those after the command name), then the reply
    /// columns after their mark.
    #[inline]
    pub fn command<'a>(&mut self, args: impl Iterator<Item = &'a [u8]>, reply: ReplyColumns) {
        self.record_lead();
        for arg in args {
            let plain = Room::fill(&mut self.buf, arg.len() + 1, |room| {
                room.byte(SEPARATOR);
                room.put_plain(arg)
            });
            if !plain {
                self.buf.push(SEPARATOR);
                escape_mixed(arg, &mut self.buf);
            }
        }
        if reply != ReplyColumns::Absent {
            self.buf.push(SEPARATOR);
            self.buf.extend_from_slice(REPLY_MARK);
            self.reply(reply);
        }
        self.buf.push(b'\n');
    }

    /// The reply columns, each after its separator.
    fn reply(&mut self, reply: ReplyColumns) {
        match reply {
            ReplyColumns::Absent => {}
            ReplyColumns::Unseen => self.buf.extend_from_slice(b"\t\t"),
            ReplyColumns::Share { bytes, micros } => {
                let mut number = itoa::Buffer::new();
                self.buf.push(SEPARATOR);
                self.buf.extend_from_slice(number.format(bytes).as_bytes());
                self.buf.push(SEPARATOR);
                self.buf.extend_from_slice(number.format(micros).as_bytes());
            }
        }
    }

    /// A keys record: the lead, then `key`, its access (`write`, or `read`), its slot and the
    /// reply columns.
    #[inline]
    pub fn key(&mut self, key: &[u8], write: bool, slot: u16, reply: ReplyColumns) {
        self.record_lead();
        if reply == ReplyColumns::Absent {
            // The access's word with the separators around it, and the slot's digits (at most
            // five: slots are below 16384) with the line end.
            let (access, len) = if write {
                (u64::from_le_bytes(*b"\twrite\t\0"), 7)
            } else {
                (u64::from_le_bytes(*b"\tread\t\0\0"), 6)
            };
            let (digits, digits_len) = digits_then(slot, b'\n');
            let rest = |room: &mut Room<'_>| {
                room.word(access, len);
                room.word(digits, digits_len);
            };
            let plain = Room::fill(&mut self.buf, key.len() + 1 + 7 + 6, |room| {
                room.byte(SEPARATOR);
                let plain = room.put_plain(key);
                rest(room);
                plain
            });
            if !plain {
                // The room found the key not plain: escaped, then the rest after it.
                self.buf.push(SEPARATOR);
                escape_mixed(key, &mut self.buf);
                Room::fill(&mut self.buf, 7 + 6, |room| {
                    rest(room);
                    true
                });
            }
            return;
        }
        self.buf.push(SEPARATOR);
        escape(key, &mut self.buf);
        self.buf.extend_from_slice(if write { b"\twrite\t" } else { b"\tread\t" });
        self.buf.extend_from_slice(itoa::Buffer::new().format(slot).as_bytes());
        self.reply(reply);
        self.buf.push(b'\n');
    }

    /// Ends a command's records: writes the buffer out once it holds a block.
    #[inline]
    pub fn end_command(&mut self) -> io::Result<()> {
        if !std::mem::replace(&mut self.led, true) {
            // A command without records (no keys): its lead goes.
            self.buf.truncate(self.lead.start);
        }
        if self.buf.len() >= self.block {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> io::Result<()> {
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        result
    }

    /// Writes out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.write_out()?;
        }
        self.out.flush()
    }

    /// Writes out `records` (gathered by a [`Writer::gathering`]) after those buffered.
    pub fn records(&mut self, records: &[u8]) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.write_out()?;
        }
        self.out.write_all(records)
    }
}

/// The decimal digits of `n` followed by the byte `end`, in the low bytes of a word, first
/// digit lowest (as they are written), and how many bytes that is: two digits at a time,
/// without a loop; the leading zeros counted from the word itself (its low bytes that are
/// zero), not by comparing `n` with each power of ten, and moved out with one shift that
/// brings `end` after the last digit.
#[inline]
fn digits_then(n: u16, end: u8) -> (u64, usize) {
    let n = u32::from(n);
    let pair = |x: u32| u64::from(PAIRS[x as usize]);
    let (high, low) = (n / 10_000, n % 10_000);
    let five = u64::from(high) | pair(low / 100) << 8 | pair(low % 100) << 24;
    // At most four: the last digit is written even when it is 0.
    let zeros = ((five | 1 << 32).trailing_zeros() / 8) as usize;
    (((five + 0x30_3030_3030) | (u64::from(end) << 40)) >> (8 * zeros), 6 - zeros)
}

/// The two decimal digits of each number below 100, tens in the low byte, as digit values.
const PAIRS: [u16; 100] = {
    let mut pairs = [0; 100];
    let mut x = 0;
    while x < 100 {
        pairs[x] = (x / 10) as u16 | ((x % 10) as u16) << 8;
        x += 1;
    }
    pairs
};

/// Room reserved once at the end of a buffer for the fields of a record, which go into it by
/// moves of fixed size: a field of up to 64 bytes is two (overlapping) moves, with no call,
/// no capacity check of its own and one test of the room left (not one per move). Records are
/// mostly short fields, for which a call to copy each (and a check of the room for each move)
/// cost more than the copy.
struct Room<'a> {
    /// The buffer's spare capacity, written through its pointer: every write is first tested
    /// against its length ([`Room::test`]).
    spare: &'a mut [MaybeUninit<u8>],
    /// The bytes written, from the start of `spare`; never past its end.
    at: usize,
}

impl Room<'_> {
    /// Bytes past the room a [`Room::word`] may write (and a record not keep).
    const SLACK: usize = 8;

    /// Appends to `buf` what `fill` writes, at most `most` bytes, when `fill` says so (true);
    /// otherwise nothing (a field put turned out to need escaping: the caller writes it
    /// another way). Returns what `fill` said.
    #[inline(always)]
    fn fill(buf: &mut Vec<u8>, most: usize, fill: impl FnOnce(&mut Room<'_>) -> bool) -> bool {
        buf.reserve(most + Room::SLACK);
        let len = buf.len();
        let spare = buf.spare_capacity_mut();
        // The unit tests give each field exactly the room it asked for: a room reckoned short
        // panics there, instead of hiding in a large buffer's spare capacity.
        #[cfg(test)]
        let spare = &mut spare[..most + Room::SLACK];
        let mut room = Room { spare, at: 0 };
        let keep = fill(&mut room);
        let written = room.at;
        if keep {
            // SAFETY: every write is into `spare` (each is tested against its length first: a
            // field past the room panics, it writes nothing past the capacity), and every byte
            // of spare[..at] was written: each write writes the bytes from `at` on that it
            // then counts in `at` (a `word` counts at most the eight it writes: its callers
            // pass a constant of at most 8 or `digits_then`'s count, at most 6).
            unsafe { buf.set_len(len + written) };
        }
        keep
    }

    /// Panics unless `n` more bytes from `at` are within the room: the one test before a
    /// field's writes, which are then unchecked.
    #[inline(always)]
    fn test(&self, n: usize) {
        if n > self.spare.len().saturating_sub(self.at) {
            past_the_room();
        }
    }

    /// `bytes` at `at` bytes past the room's `at`, unchecked: the caller tested that the room
    /// holds them.
    #[inline(always)]
    fn store<const N: usize>(&mut self, at: usize, bytes: [u8; N]) {
        debug_assert!(self.at + at + N <= self.spare.len());
        // SAFETY: the caller tested (Room::test) that the room holds these N bytes.
        unsafe { self.spare.as_mut_ptr().add(self.at + at).cast::<[u8; N]>().write_unaligned(bytes) }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.test(1);
        self.store(0, [b]);
        self.at += 1;
    }

    /// The first `len` bytes of `word` (its low bytes first); writes eight.
    #[inline(always)]
    fn word(&mut self, word: u64, len: usize) {
        // What `fill` relies on: no more bytes counted than written (folds away for the
        // callers' constants).
        assert!(len <= 8);
        self.test(8);
        self.store(0, word.to_le_bytes());
        self.at += len;
    }

    /// A timestamp of today's width (17 bytes) and a db of one digit, each with the separator
    /// after it: two moves of fixed size (16 bytes and a word), not two fields' lengths tested.
    #[inline(always)]
    fn ts_db(&mut self, ts: &[u8; 17], db: u8) {
        self.test(24);
        let (head, last) = ts.split_at(16);
        self.store(0, <[u8; 16]>::try_from(head).expect("16 bytes"));
        self.store(16, [last[0], SEPARATOR, db, SEPARATOR, 0, 0, 0, 0]);
        self.at += 20;
    }

    /// `N` bytes of `src` from `from`, at `from` bytes past the room's `at`, unchecked (the
    /// caller tested the room for `src`), and the bytes moved.
    #[inline(always)]
    fn part<const N: usize>(&mut self, src: &[u8], from: usize) -> [u8; N] {
        let bytes: [u8; N] = src[from..from + N].try_into().expect("N bytes");
        self.store(from, bytes);
        bytes
    }

    /// All of `src`, of `N` to `2N` bytes: its first `N` and its last `N` (overlapping), and
    /// the bytes moved.
    #[inline(always)]
    fn ends<const N: usize>(&mut self, src: &[u8]) -> ([u8; N], [u8; N]) {
        let n = src.len();
        (self.part::<N>(src, 0), self.part::<N>(src, n - N))
    }

    /// The first, middle and last byte of `src`, of 1 to 3 bytes (all of them), moved.
    #[inline(always)]
    fn three(&mut self, src: &[u8]) -> (u8, u8, u8) {
        let n = src.len();
        let (first, middle, last) = (src[0], src[n / 2], src[n - 1]);
        self.store(0, [first]);
        self.store(n / 2, [middle]);
        self.store(n - 1, [last]);
        (first, middle, last)
    }

    /// [`Room::put`] of a field that may need escaping: whether it is plain ([`is_plain`]),
    /// told from the bytes the copy moves, as they are moved (a look of its own, before the
    /// copy, would load them again and choose again among the lengths).
    #[inline(always)]
    fn put_plain(&mut self, src: &[u8]) -> bool {
        let n = src.len();
        self.test(n);
        let plain = match n {
            0 => true,
            1..=3 => {
                let (first, middle, last) = self.three(src);
                // The bytes not looked at twice stand in for the missing ones.
                not_plain(u64::from_le_bytes([first, middle, last, b' ', b' ', b' ', b' ', b' '])) == 0
            }
            4..=7 => {
                let (head, tail) = self.ends::<4>(src);
                not_plain(u64::from(u32::from_le_bytes(head)) | u64::from(u32::from_le_bytes(tail)) << 32) == 0
            }
            8..=16 => {
                let (head, tail) = self.ends::<8>(src);
                words_are_plain(u64::from_le_bytes(head), u64::from_le_bytes(tail))
            }
            17..=32 => {
                let (head, tail) = self.ends::<16>(src);
                block_is_plain(&head) & block_is_plain(&tail)
            }
            _ => {
                let plain = is_plain(src);
                self.put(src);
                return plain;
            }
        };
        self.at += n;
        plain
    }

    #[inline(always)]
    fn put(&mut self, src: &[u8]) {
        let n = src.len();
        self.test(n);
        match n {
            0 => {}
            1..=3 => {
                self.three(src);
            }
            4..=7 => {
                self.ends::<4>(src);
            }
            8..=16 => {
                self.ends::<8>(src);
            }
            17..=32 => {
                self.ends::<16>(src);
            }
            33..=64 => {
                self.ends::<32>(src);
            }
            _ => {
                let mut from = 0;
                while from + 32 < n {
                    self.part::<32>(src, from);
                    from += 32;
                }
                self.part::<32>(src, n - 32);
            }
        }
        self.at += n;
    }
}

/// A record's field would go past the room reserved for it: the room's size was reckoned
/// wrong, a bug.
#[cold]
#[inline(never)]
fn past_the_room() -> ! {
    panic!("a record's field past the room reserved for it")
}

impl Writer<io::Sink> {
    /// A writer that writes nothing out: it gathers its records in `buf` (cleared first), to
    /// be taken whole ([`Writer::into_gathered`]) and written by another ([`Writer::records`]).
    pub fn gathering(mut buf: Vec<u8>) -> Writer<io::Sink> {
        buf.clear();
        Writer { out: io::sink(), buf, block: usize::MAX, lead: 0..0, led: true }
    }

    /// The bytes gathered so far.
    pub fn gathered(&self) -> usize {
        self.buf.len()
    }

    pub fn into_gathered(self) -> Vec<u8> {
        self.buf
    }
}

/// True for a db column: digits, at least one.
fn is_db(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(u8::is_ascii_digit)
}

/// How many fields come before the command in a record whose first two fields are `first` and
/// `second`: three (timestamp, db, client), or four when a node comes first.
pub fn lead_len(first: &[u8], second: &[u8]) -> usize {
    if parse_timestamp(first, false).is_some() && is_db(second) {
        3
    } else {
        4
    }
}

/// Whether a line, from its first bytes, is a record rather than a MONITOR line: it has a
/// separator before any quote (MONITOR quotes every argument, and escapes a TAB in one).
pub fn looks_like_one(head: &[u8]) -> bool {
    match (head.find_byte(SEPARATOR), head.find_byte(b'"')) {
        (Some(tab), Some(quote)) => tab < quote,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Reads a tsv record (with or without its line end): its lead, its timestamp in microseconds,
/// its command and arguments still escaped, and its reply columns; `None` when the line is not
/// one.
#[inline]
pub fn read(line: &[u8]) -> Option<(Lead<'_>, u64, Fields<'_>, ReplyColumns)> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (line, reply) = reply_columns(line);
    let mut fields = Fields { line, at: 0, done: false };
    let first = fields.next()?.1;
    let second = fields.next()?.1;
    let (node, ts, db) = match lead_len(first, second) {
        3 => (None, first, second),
        _ => {
            let db = fields.next()?.1;
            if !is_db(db) {
                return None;
            }
            (Some(first), second, db)
        }
    };
    let micros = parse_timestamp(ts, false)?;
    let client = fields.next()?.1;
    Some((Lead { node, ts, db, client }, micros, fields, reply))
}

/// A tsv record's reply columns, when it ends with them: the record without them, and what they
/// say. A mark followed by anything but two numbers (or two empty columns) is left in place,
/// where it is no argument: the record is not one.
fn reply_columns(line: &[u8]) -> (&[u8], ReplyColumns) {
    let mut back = line.rsplitn(4, |&b| b == SEPARATOR);
    let (Some(micros), Some(bytes), Some(mark), Some(rest)) = (back.next(), back.next(), back.next(), back.next())
    else {
        return (line, ReplyColumns::Absent);
    };
    if mark != REPLY_MARK {
        return (line, ReplyColumns::Absent);
    }
    let number = |f: &[u8]| -> Option<u64> {
        if f.is_empty() || f.len() > 19 || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(f).ok()?.parse().ok()
    };
    let reply = match (number(bytes), number(micros)) {
        (Some(bytes), Some(micros)) => ReplyColumns::Share { bytes, micros },
        _ if bytes.is_empty() && micros.is_empty() => ReplyColumns::Unseen,
        _ => return (line, ReplyColumns::Absent),
    };
    (rest, reply)
}

/// The fields of a record after its lead (the command, then its arguments), each with where it
/// starts in the line, still escaped ([`crate::format::escape::unescape_into`] decodes one).
pub struct Fields<'a> {
    line: &'a [u8],
    /// Where the next field starts.
    at: usize,
    done: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.done {
            return None;
        }
        let at = self.at;
        let rest = &self.line[at..];
        let len = match rest.find_byte(SEPARATOR) {
            Some(len) => len,
            None => {
                self.done = true;
                rest.len()
            }
        };
        self.at += len + 1;
        Some((at, &rest[..len]))
    }
}

/// The word a record of a subcommand (`command` is `config|set`) leaves out when `first`, its
/// first argument, does not repeat it: put back, every position (the keys', the secrets') is
/// where the command's rules look for it.
pub fn missing_subcommand<'c>(command: &'c [u8], first: Option<&[u8]>) -> Option<&'c [u8]> {
    let sub = &command[command.find_byte(b'|')? + 1..];
    match first {
        _ if sub.is_empty() => None,
        Some(first) if first.eq_ignore_ascii_case(sub) => None,
        _ => Some(sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Writer<&mut Vec<u8>>)) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        f(&mut w);
        w.flush().unwrap();
        out
    }

    const LEAD_A: Lead<'static> = Lead { node: None, ts: b"1795636306.848848", db: b"0", client: b"1.2.3.4:5" };

    #[test]
    #[should_panic(expected = "past the room")]
    fn a_field_past_the_room_panics() {
        // `fill` gives what it is told and 8 bytes of slack (in tests, exactly that).
        let mut buf = Vec::new();
        Room::fill(&mut buf, 0, |room| {
            room.put(&[b'a'; 9]);
            true
        });
    }

    #[test]
    #[should_panic(expected = "past the room")]
    fn a_lead_past_the_room_panics() {
        let mut buf = Vec::new();
        Room::fill(&mut buf, 0, |room| {
            room.ts_db(b"1700000000.123456", b'0');
            true
        });
    }

    #[test]
    fn a_field_that_fills_the_room_exactly_is_kept() {
        let mut buf = Vec::new();
        assert!(Room::fill(&mut buf, 0, |room| {
            room.put(&[b'a'; 8]);
            true
        }));
        assert_eq!(buf, [b'a'; 8]);
    }

    #[test]
    fn fields_put_in_room_are_those_appended() {
        let field: Vec<u8> = (0..200u8).map(|b| b.wrapping_mul(37)).collect();
        for len in 0..field.len() {
            let mut buf = b"before".to_vec();
            let kept = Room::fill(&mut buf, len + 9, |room| {
                room.byte(b'<');
                room.put(&field[..len]);
                room.word(u64::from_le_bytes(*b">end\0\0\0\0"), 4);
                room.put(b"!");
                true
            });
            assert!(kept);
            assert_eq!(buf, [&b"before<"[..], &field[..len], b">end!"].concat(), "length {len}");
        }
    }

    #[test]
    fn a_field_put_is_told_plain_as_is_plain_tells_it_and_kept_only_then() {
        // Plain fields of every length to 100, and each with one byte that is not plain (or
        // that is, next to those that are not) at every position.
        let odd = [0u8, 0x1f, b'\\', 0x7f, 0x80, 0xff, b'\t', b' ', b'~', b'\n'];
        let mut fields = Vec::new();
        for len in 0..100usize {
            let plain: Vec<u8> = (0..len).map(|i| b' ' + (i * 7 % 95) as u8).filter(|&b| b != b'\\').collect();
            for (at, &b) in odd.iter().enumerate().flat_map(|(k, b)| (0..plain.len()).map(move |at| (at + k, b))) {
                let mut field = plain.clone();
                field[at % plain.len()] = b;
                fields.push(field);
            }
            fields.push(plain);
        }
        for field in &fields {
            let mut buf = b"before".to_vec();
            let kept = Room::fill(&mut buf, field.len() + 2, |room| {
                room.byte(b'<');
                let plain = room.put_plain(field);
                room.byte(b'>');
                plain
            });
            assert_eq!(kept, is_plain(field), "{:?}", field.as_bstr());
            let want = if kept { [&b"before<"[..], field, b">"].concat() } else { b"before".to_vec() };
            assert_eq!(buf, want, "{:?}", field.as_bstr());
        }
    }

    #[test]
    fn a_lead_of_any_widths_is_its_fields_and_separators() {
        // Today's timestamp and a one-digit db go in at once; every other width field by field.
        for ts in [&b"1795636306.848848"[..], b"1.000001", b"17956363060.848848", b"1795636306.84884"] {
            for db in [&b"0"[..], b"7", b"12", b"123456"] {
                for client in [&b"10.0.0.28:44368"[..], b"", b"lua", b"unix:/tmp/redis.sock"] {
                    let lead = Lead { node: None, ts, db, client };
                    let record = written(|w| {
                        w.lead(&lead, b"get");
                        w.key(b"k", false, 866, ReplyColumns::Absent);
                        w.key(b"k2", true, 16383, ReplyColumns::Absent);
                    });
                    let head = [ts, b"\t", db, b"\t", client, b"\tget\t"].concat();
                    let want = [&head[..], b"k\tread\t866\n", &head, b"k2\twrite\t16383\n"].concat();
                    assert_eq!(record.as_bstr(), want.as_bstr());
                }
            }
        }
    }

    #[test]
    fn a_key_that_needs_escaping_is_escaped_between_its_lead_and_the_rest() {
        for key in [&b"bin:\x00\xff0"[..], b"q:\"1\"\tx", b"\\", b"a\nb", &[b'k'; 40], &[0x80; 70]] {
            let record = written(|w| {
                w.lead(&LEAD_A, b"mget");
                w.key(key, false, 7, ReplyColumns::Absent);
                w.key(key, true, 12345, ReplyColumns::Absent);
            });
            let mut escaped = Vec::new();
            escape(key, &mut escaped);
            let head = b"1795636306.848848\t0\t1.2.3.4:5\tmget\t";
            let want = [&head[..], &escaped, b"\tread\t7\n", head, &escaped, b"\twrite\t12345\n"].concat();
            assert_eq!(record.as_bstr(), want.as_bstr());
        }
    }

    #[test]
    fn digits_are_those_itoa_writes() {
        for n in 0..=u16::MAX {
            for end in [b'\n', b'\t', 0xff] {
                let (word, len) = digits_then(n, end);
                let want = [itoa::Buffer::new().format(n).as_bytes(), &[end]].concat();
                assert_eq!(&word.to_le_bytes()[..len], want, "{n}");
                assert_eq!(word >> (8 * len), 0, "{n}");
            }
        }
    }

    #[test]
    fn the_header_names_the_columns_a_keys_record_has() {
        for (node, reply) in [(false, false), (true, false), (false, true), (true, true)] {
            let header = written(|w| w.header(node, reply));
            let lead = Lead { node: node.then_some(&b"n1"[..]), ..LEAD_A };
            let share = if reply { ReplyColumns::Share { bytes: 7, micros: 9 } } else { ReplyColumns::Absent };
            let record = written(|w| {
                w.lead(&lead, b"get");
                w.key(b"k", false, 866, share);
            });
            let names: Vec<&[u8]> = header.strip_suffix(b"\n").unwrap().split(|&b| b == SEPARATOR).collect();
            assert_eq!(
                names.len(),
                record.strip_suffix(b"\n").unwrap().split(|&b| b == SEPARATOR).count(),
                "{node} {reply}"
            );
            let keys: Vec<&[u8]> = LEAD.iter().chain(&KEY).map(|c| c.name().as_bytes()).collect();
            assert_eq!(names[usize::from(node)..][..keys.len()], keys);
        }
        assert_eq!(
            written(|w| w.header(true, true)),
            b"node\ttimestamp\tdb\tclient\tcommand\tkey\taccess\tslot\treply_bytes\tlatency_us\n"
        );
    }

    #[test]
    fn records_are_escaped_and_read_back_to_their_lead_and_fields() {
        let lead = Lead { node: Some(b"n\t1"), ..LEAD_A };
        let record = written(|w| {
            w.lead(&lead, b"set");
            w.command([&b"a\tb\"c\n\x01"[..], b"", b"v"].into_iter(), ReplyColumns::Absent);
            w.key(b"a\tb", true, 1, ReplyColumns::Unseen);
        });
        assert_eq!(
            record,
            b"n\\t1\t1795636306.848848\t0\t1.2.3.4:5\tset\ta\\tb\"c\\n\\x01\t\tv\n\
              n\\t1\t1795636306.848848\t0\t1.2.3.4:5\tset\ta\\tb\twrite\t1\t\t\n"
        );
        let first = record.lines_with_terminator().next().unwrap();
        let (read_lead, micros, fields, reply) = read(first).unwrap();
        assert_eq!(reply, ReplyColumns::Absent);
        assert_eq!(read_lead, Lead { node: Some(b"n\\t1"), ..LEAD_A });
        assert_eq!(micros, 1_795_636_306_848_848);
        let fields: Vec<_> = fields.collect();
        assert_eq!(fields.iter().map(|f| f.1).collect::<Vec<_>>(), [&b"set"[..], b"a\\tb\"c\\n\\x01", b"", b"v"]);
        for (at, field) in fields {
            assert_eq!(&first[at..at + field.len()], field);
        }
    }

    #[test]
    fn a_node_that_looks_like_a_timestamp_is_a_node() {
        assert_eq!(lead_len(b"1.000001", b"0"), 3);
        assert_eq!(lead_len(b"1.000001", b"1.000002"), 4);
        assert_eq!(lead_len(b"n1", b"1.000002"), 4);
        let (lead, _, _, _) = read(b"1.5\t1.000002\t3\tlua\tget\tk").unwrap();
        assert_eq!((lead.node, lead.ts, lead.db), (Some(&b"1.5"[..]), &b"1.000002"[..], &b"3"[..]));
        for bad in [&b"a\tb"[..], b"1.000001\tx\tc\tget", b"n\t1.5\tx\tc\tget", b"1.000001"] {
            assert!(read(bad).is_none(), "{}", bad.as_bstr());
        }
    }

    #[test]
    fn a_tsv_record_of_packets_ends_with_its_reply_after_the_mark() {
        let record = written(|w| {
            w.lead(&LEAD_A, b"del");
            w.command([&b"a"[..], b"\\|"].into_iter(), ReplyColumns::Share { bytes: 4, micros: 31 });
            w.command([&b"a"[..]].into_iter(), ReplyColumns::Unseen);
        });
        // An argument `\|` is written `\\|`: the mark is never an argument's.
        assert_eq!(
            record,
            b"1795636306.848848\t0\t1.2.3.4:5\tdel\ta\t\\\\|\t\\|\t4\t31\n\
              1795636306.848848\t0\t1.2.3.4:5\tdel\ta\t\\|\t\t\n"
        );
        let mut lines = record.lines_with_terminator();
        let fields_of = |line| {
            let (_, _, fields, reply) = read(line).unwrap();
            (fields.map(|f| f.1.to_vec()).collect::<Vec<_>>(), reply)
        };
        let (fields, reply) = fields_of(lines.next().unwrap());
        assert_eq!(fields, [&b"del"[..], b"a", b"\\\\|"]);
        assert_eq!(reply, ReplyColumns::Share { bytes: 4, micros: 31 });
        assert_eq!(fields_of(lines.next().unwrap()), (vec![b"del".to_vec(), b"a".to_vec()], ReplyColumns::Unseen));
        // A mark with anything else after it stays a field (which no argument decodes from).
        for odd in [&b"\\|\t1\t"[..], b"\\|\tx\t2", b"\\|\t1\t2\t3"] {
            let line = [&b"1.000001\t0\tc\tget\tk\t"[..], odd].concat();
            let (_, _, fields, reply) = read(&line).unwrap();
            assert_eq!(reply, ReplyColumns::Absent);
            assert!(fields.map(|f| f.1).any(|f| f == REPLY_MARK), "{}", line.as_bstr());
        }
    }

    #[test]
    fn a_subcommand_word_left_out_is_put_back() {
        assert_eq!(missing_subcommand(b"config|set", Some(b"requirepass")), Some(&b"set"[..]));
        assert_eq!(missing_subcommand(b"config|set", Some(b"SET")), None);
        assert_eq!(missing_subcommand(b"acl|whoami", None), Some(&b"whoami"[..]));
        assert_eq!(missing_subcommand(b"get", Some(b"k")), None);
        assert_eq!(missing_subcommand(b"odd|", None), None);
    }
}
