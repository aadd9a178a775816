//! Lines too long to hold, made short enough to hold: every key of a line over the reader's
//! limit is still counted, in bounded memory.
//!
//! A [`Compactor`] is fed a long line in pieces as it is read. It copies the line as it goes,
//! but an argument whose decoded bytes pass [`HEAD`] is kept by its first `HEAD` bytes only
//! (cut between escapes, so the copy is still valid MONITOR syntax), while its whole length,
//! its [`crate::count::hash`] hash and its cluster slot are computed from every byte as it streams
//! past. The copy parses like any line, and a key kept so is told apart, counted and shown
//! exactly as the key tables keep a long key read from a short line: by its head, its length
//! and its hash. A copy that would outgrow its cap (a line of very many arguments) ends there
//! and is counted as cut.
//!
//! Both forms are understood: MONITOR's quoted arguments (`"a\x00b"`, escapes as the server's
//! `sdscatrepr` writes them), and this program's records read back (tab-separated, escaped as
//! [`crate::format::escape`] writes them).

use crate::count::cluster::SlotHasher;
use crate::count::hash::{run_key, KeyHasher};
use crate::format::long_arg::LongArg;
use crate::format::quoting::{self, Escape};
use crate::format::record;

/// The decoded bytes of an argument that are kept: as many as the key tables keep of a key.
pub const HEAD: u64 = crate::count::keys::MAX_STORED_KEY as u64;

/// The longest header (timestamp, db and client) a MONITOR line can have: a line that has
/// no argument by then is not one, and is kept only this far.
pub const MAX_HEADER: usize = 64 * 1024;

/// Where the compactor is in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the first argument (MONITOR form): timestamp, db, client.
    Header,
    /// Between arguments.
    Between,
    /// Inside an argument, plain bytes.
    Arg,
    /// Inside an argument, inside an escape (its bytes so far in `pending`).
    Escape,
    /// Past the end of the copy: the rest is only counted.
    Full,
}

/// Compacts one long line at a time.
pub struct Compactor {
    out: Vec<u8>,
    long: Vec<LongArg>,
    cap: usize,
    at: At,
    /// The line is a record read back: fields split by TAB, the first `fields_before` of them
    /// (timestamp, db, client, and a node when there is one) before the arguments.
    tsv: bool,
    field: usize,
    /// The argument under way: its index, decoded length, hash and slot so far.
    arg: usize,
    len: u64,
    hash: KeyHasher,
    slot: SlotHasher,
    /// The raw bytes of an escape under way, copied once it is whole.
    pending: Vec<u8>,
    /// Bytes fed, and of them the tails of long arguments (left out on purpose): the rest of
    /// what is not in the copy was dropped when it was full.
    fed: u64,
    skipped: u64,
}

impl Compactor {
    /// A compactor whose copies hold at most `cap` bytes.
    pub fn new(cap: usize) -> Compactor {
        Compactor {
            out: Vec::new(),
            long: Vec::new(),
            cap,
            at: At::Header,
            tsv: false,
            field: 0,
            arg: 0,
            len: 0,
            hash: KeyHasher::new(run_key()),
            slot: SlotHasher::default(),
            pending: Vec::new(),
            fed: 0,
            skipped: 0,
        }
    }

    /// Starts a new line; `tsv` when it is a record read back.
    pub fn start(&mut self, tsv: bool) {
        self.out.clear();
        self.long.clear();
        self.tsv = tsv;
        self.at = if tsv { At::Arg } else { At::Header };
        self.field = 0;
        self.arg = 0;
        self.begin_arg();
        self.pending.clear();
        self.fed = 0;
        self.skipped = 0;
    }

    /// The copy so far; whether it was cut (it reached its cap); the bytes not copied; the
    /// arguments kept by their head.
    pub fn result(&self) -> (&[u8], bool, u64, &[LongArg]) {
        let dropped = self.fed - self.out.len() as u64 - self.skipped;
        (&self.out, self.at == At::Full, dropped, &self.long)
    }

    /// Ends the line with its line end (LF, CRLF or CR), kept in the copy as a line read whole
    /// keeps it: the parser takes it off, `--rejects` writes it.
    pub fn end_line(&mut self, ending: &[u8]) {
        self.fed += ending.len() as u64;
        self.out.extend_from_slice(ending);
    }

    /// Feeds the next piece of the line (no line end).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.fed += bytes.len() as u64;
        self.take(bytes);
    }

    fn take(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let used = match self.at {
                At::Full => bytes.len(),
                At::Header => self.header(bytes),
                At::Between => self.between(bytes),
                At::Arg => self.plain(bytes),
                At::Escape => {
                    self.escape(bytes[0]);
                    1
                }
            };
            bytes = &bytes[used..];
        }
    }

    /// Copies the header up to the first quote (MONITOR form). A header longer than
    /// [`MAX_HEADER`] is no MONITOR line's, whether its quote came in the same piece or not: it
    /// is kept that far, and the rest only counted.
    fn header(&mut self, bytes: &[u8]) -> usize {
        let quote = bytes.iter().position(|&b| b == b'"');
        let room = MAX_HEADER - self.out.len();
        if quote.unwrap_or(bytes.len()) > room {
            self.copy(&bytes[..room]);
            self.at = At::Full;
            return room;
        }
        match quote {
            Some(at) => {
                self.copy(&bytes[..=at]);
                self.go(At::Arg);
                at + 1
            }
            None => {
                self.copy(bytes);
                bytes.len()
            }
        }
    }

    /// Between two quoted arguments: a space, then the next opening quote.
    fn between(&mut self, bytes: &[u8]) -> usize {
        self.copy(&bytes[..1]);
        if bytes[0] == b'"' {
            self.go(At::Arg);
        }
        1
    }

    /// A run of the argument under way up to its next special byte.
    fn plain(&mut self, bytes: &[u8]) -> usize {
        let special = if self.tsv {
            crate::format::scan::find2(bytes, record::SEPARATOR, b'\\')
        } else {
            crate::format::scan::find2(bytes, b'"', b'\\')
        };
        let run = special.unwrap_or(bytes.len());
        self.data(&bytes[..run], &bytes[..run]);
        let Some(at) = special else { return bytes.len() };
        match bytes[at] {
            b'\\' => {
                self.pending.clear();
                self.pending.push(b'\\');
                self.go(At::Escape);
            }
            // The end of the argument: a closing quote, or the separator before the next field.
            end => {
                self.end_arg();
                self.copy(&[end]);
                self.go(if self.tsv { At::Arg } else { At::Between });
            }
        }
        at + 1
    }

    /// One byte of an escape, read by MONITOR's one decoder ([`quoting::escape`]); a record's
    /// escapes are the same but for `\a` and `\b`, which it never writes (they stand for
    /// themselves there).
    fn escape(&mut self, b: u8) {
        self.pending.push(b);
        let Escape::Byte { byte, used } = quoting::escape(&self.pending) else { return };
        let byte = match self.pending[1] {
            plain @ (b'a' | b'b') if self.tsv => plain,
            _ => byte,
        };
        // The bytes after the escape (after a `\x` that was not one) are read again as they are.
        let rest = self.pending.split_off(used);
        let raw = std::mem::take(&mut self.pending);
        self.data(&raw, &[byte]);
        self.pending = raw;
        self.go(At::Arg);
        self.take(&rest);
    }

    /// Decoded bytes of the argument under way, written as `raw`: counted and hashed, and copied
    /// while the head has room.
    fn data(&mut self, raw: &[u8], decoded: &[u8]) {
        self.hash.write(decoded);
        self.slot.write(decoded);
        let room = HEAD.saturating_sub(self.len) as usize;
        let copied = if decoded.len() <= room {
            raw.len()
        } else if raw.len() == decoded.len() {
            // A plain run: its part that fits.
            room
        } else {
            0
        };
        if self.at != At::Full {
            self.skipped += (raw.len() - copied) as u64;
        }
        self.copy(&raw[..copied]);
        self.len += decoded.len() as u64;
    }

    /// Moves on to `at`, unless the copy is full: then the rest is only counted.
    fn go(&mut self, at: At) {
        if self.at != At::Full {
            self.at = at;
        }
    }

    /// Appends to the copy up to its cap (to the byte, however the line was split into
    /// pieces); what does not fit is counted.
    fn copy(&mut self, bytes: &[u8]) {
        if self.at == At::Full {
            return;
        }
        let room = self.cap - self.out.len();
        if bytes.len() > room {
            self.out.extend_from_slice(&bytes[..room]);
            self.at = At::Full;
        } else {
            self.out.extend_from_slice(bytes);
        }
    }

    fn begin_arg(&mut self) {
        self.len = 0;
        self.hash = KeyHasher::new(run_key());
        self.slot = SlotHasher::default();
    }

    /// An argument ended: kept by its head if it was longer.
    fn end_arg(&mut self) {
        if self.len > HEAD {
            if let Some(index) = self.argument_index() {
                self.long.push(LongArg { index, len: self.len, hash: self.hash.finish(), slot: self.slot.finish() });
            }
        }
        if self.tsv {
            self.field += 1;
        } else {
            self.arg += 1;
        }
        self.begin_arg();
    }

    /// The argument index of the field or quoted argument under way: in a record, the fields
    /// before the command ([`record::lead_len`] of them) are not arguments.
    fn argument_index(&self) -> Option<usize> {
        if !self.tsv {
            return Some(self.arg);
        }
        let mut fields = self.out.split(|&b| b == record::SEPARATOR);
        let (first, second) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
        self.field.checked_sub(record::lead_len(first, second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::hash::hash_bytes;

    /// Compacts `line` fed in pieces of `piece` bytes.
    fn compact(line: &[u8], piece: usize, tsv: bool) -> (Vec<u8>, bool, Vec<LongArg>) {
        let mut c = Compactor::new(1 << 20);
        c.start(tsv);
        for chunk in line.chunks(piece) {
            c.feed(chunk);
        }
        let (out, cut, _, long) = c.result();
        (out.to_vec(), cut, long.to_vec())
    }

    fn long_of(key: &[u8], index: usize) -> LongArg {
        LongArg {
            index,
            len: key.len() as u64,
            hash: hash_bytes(run_key(), key),
            slot: crate::count::cluster::slot(key),
        }
    }

    #[test]
    fn long_arguments_keep_their_head_length_hash_and_slot() {
        let key: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let value = vec![b'v'; 5000];
        let mut line = b"1.000001 [0 1.1.1.1:1] \"MSET\" \"".to_vec();
        line.extend_from_slice(&key);
        line.extend_from_slice(b"\" \"");
        line.extend_from_slice(&value);
        line.extend_from_slice(b"\" \"small\" \"v\"");
        for piece in [1, 7, 100, 4096, usize::MAX] {
            let (out, cut, long) = compact(&line, piece, false);
            assert!(!cut);
            let mut want = b"1.000001 [0 1.1.1.1:1] \"MSET\" \"".to_vec();
            want.extend_from_slice(&key[..HEAD as usize]);
            want.extend_from_slice(b"\" \"");
            want.extend_from_slice(&value[..HEAD as usize]);
            want.extend_from_slice(b"\" \"small\" \"v\"");
            assert_eq!(out, want, "pieces of {piece}");
            assert_eq!(long, [long_of(&key, 1), long_of(&value, 2)], "pieces of {piece}");
        }
    }

    #[test]
    fn escapes_are_decoded_as_the_parser_decodes_them_and_never_split() {
        // Every escape the server writes, and the odd ones redis-cli reads.
        let mut raw = Vec::new();
        let mut decoded = Vec::new();
        for i in 0..700u32 {
            let (r, d): (&[u8], &[u8]) = match i % 9 {
                0 => (br"\x00", b"\x00"),
                1 => (br"\xC3", b"\xc3"),
                2 => (br"\n", b"\n"),
                3 => (br#"\""#, b"\""),
                4 => (br"\\", b"\\"),
                5 => (br"\a", b"\x07"),
                6 => (br"\xzz", b"xzz"),
                7 => (br"\x4", b"x4"),
                _ => (b"p", b"p"),
            };
            raw.extend_from_slice(r);
            decoded.extend_from_slice(d);
        }
        let mut line = b"1.000001 [0 lua] \"GET\" \"".to_vec();
        line.extend_from_slice(&raw);
        line.push(b'"');
        for piece in [1, 2, 3, 5, 64, usize::MAX] {
            let (out, _, long) = compact(&line, piece, false);
            assert_eq!(long, [long_of(&decoded, 1)], "pieces of {piece}");
            // The copy parses, to the argument's first HEAD bytes.
            let mut parser = crate::format::monitor::Parser::new();
            let crate::format::monitor::Line::Command(call) = parser.parse(&out, false) else {
                panic!("pieces of {piece}")
            };
            assert_eq!(call.args.get(1), &decoded[..HEAD as usize], "pieces of {piece}");
        }
    }

    #[test]
    fn records_read_back_are_compacted_by_field() {
        let key = vec![b'k'; 2000];
        let mut line = b"n1\t1.000001\t0\tlua\tset\t".to_vec();
        line.extend_from_slice(&key);
        line.extend_from_slice(b"\tv");
        let (out, _, long) = compact(&line, 333, true);
        assert_eq!(long, [long_of(&key, 1)]);
        assert!(out.starts_with(b"n1\t1.000001\t0\tlua\tset\tkkk") && out.ends_with(b"\tv"));
        assert_eq!(out.len(), b"n1\t1.000001\t0\tlua\tset\t\tv".len() + HEAD as usize);
    }

    #[test]
    fn a_record_is_split_where_the_parser_splits_it() {
        // A node named like a timestamp: the parser reads it as a node (the db follows the
        // timestamp), and so does the compactor.
        let key = vec![b'k'; 2000];
        let mut line = b"1.5\t1.000001\t0\tlua\tset\t".to_vec();
        line.extend_from_slice(&key);
        line.extend_from_slice(b"\tv");
        let (out, _, long) = compact(&line, 100, true);
        assert_eq!(long, [long_of(&key, 1)]);
        let mut parser = crate::format::monitor::Parser::new();
        let crate::format::monitor::Line::Command(call) = parser.parse(&out, false) else { panic!() };
        assert_eq!((call.header.node, call.args.get(0)), (Some(&b"1.5"[..]), &b"set"[..]));
    }

    #[test]
    fn a_copy_past_its_cap_is_cut() {
        let mut line = b"1.000001 [0 lua] \"MSET\"".to_vec();
        for i in 0..10_000 {
            line.extend_from_slice(format!(" \"k{i}\" \"v\"").as_bytes());
        }
        let mut c = Compactor::new(4096);
        c.start(false);
        c.feed(&line);
        let (out, cut, dropped, _) = c.result();
        assert!(cut);
        assert!(out.len() <= 4096);
        assert_eq!(out.len() as u64 + dropped, line.len() as u64);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Any bytes, in any pieces: the same copy as in one piece, never over its cap, and a
        /// copy the parser takes without panicking.
        #[test]
        fn any_bytes_in_any_pieces(
            body in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'"'), proptest::strategy::Just(b'\\'), proptest::strategy::Just(b' '),
                proptest::strategy::Just(b'x'), proptest::strategy::Just(b'\t'), proptest::prelude::any::<u8>()
            ], 0..3000),
            cut in 1usize..64,
            tsv in proptest::prelude::any::<bool>(),
        ) {
            let mut line = if tsv { b"1.000001\t0\tlua\t".to_vec() } else { b"1.000001 [0 lua] \"".to_vec() };
            line.extend_from_slice(&body);
            let whole = {
                let mut c = Compactor::new(2048);
                c.start(tsv);
                c.feed(&line);
                let (out, full, dropped, long) = c.result();
                (out.to_vec(), full, dropped, long.to_vec())
            };
            let mut c = Compactor::new(2048);
            c.start(tsv);
            for piece in line.chunks(cut) {
                c.feed(piece);
            }
            let (out, full, dropped, long) = c.result();
            proptest::prop_assert_eq!(&whole, &(out.to_vec(), full, dropped, long.to_vec()));
            proptest::prop_assert!(out.len() <= 2048);
            let mut parser = crate::format::monitor::Parser::new();
            let _ = parser.parse(out, full);
        }
    }
}
