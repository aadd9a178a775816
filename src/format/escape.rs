//! The one printable form of a key or argument, used everywhere one is written.
//!
//! Keys are arbitrary bytes chosen by strangers; the terminal they are printed on must never see a raw
//! control byte, nor a bidirectional control that reorders what follows it (one key made to look
//! like another). [`escape`] writes valid UTF-8 as is and everything else as a short escape, so a
//! field is always one line, never contains a tab, and [`unescape`] gives back the exact bytes.
//!
//! | input                                   | written as       |
//! |-----------------------------------------|------------------|
//! | `\`                                     | `\\`             |
//! | TAB, LF, CR                             | `\t`, `\n`, `\r` |
//! | other bytes < 0x20, 0x7f                | `\xHH`           |
//! | C1 controls U+0080–U+009F (as UTF-8)    | `\xc2\xHH`       |
//! | bidi controls U+061C, U+200E, U+200F,   | `\xHH` per byte  |
//! | U+202A–U+202E, U+2066–U+2069            |                  |
//! | bytes that are not part of valid UTF-8  | `\xHH`           |
//! | anything else                           | itself           |

use bstr::ByteSlice;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the printable form of `bytes` to `out`.
///
/// ```
/// let mut out = Vec::new();
/// faina_filter::escape::escape(b"a\tb\x1b[31m\xff", &mut out);
/// assert_eq!(out, b"a\\tb\\x1b[31m\\xff");
/// ```
// Always inlined where it is called (three times a record): most values are plain.
#[inline(always)]
pub fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escape_mixed(bytes, out);
    }
}

/// [`escape`] of a value that is not plain.
#[inline(never)]
pub(crate) fn escape_mixed(bytes: &[u8], out: &mut Vec<u8>) {
    // Room for the most it can write (four bytes for each read, `\xHH`, and a word's slack),
    // reserved once: every write goes into it without a check of the capacity or a call, and
    // runs of printable ASCII are moved eight bytes at a time, up to the first byte that is not
    // (the tests check this against the plain walk over every character).
    let most = 4 * bytes.len() + 8;
    out.reserve(most);
    let len = out.len();
    let mut to = Spare { room: &mut out.spare_capacity_mut()[..most], at: 0 };
    let mut at = 0;
    while at < bytes.len() {
        if let Some(word) = bytes.get(at..at + 8) {
            let word: [u8; 8] = word.try_into().expect("eight bytes");
            // The word's plain bytes before the first that is not (all eight when all are):
            // not_plain is exact up to its lowest bit set.
            let run = (not_plain(u64::from_le_bytes(word)).trailing_zeros() / 8) as usize;
            to.put(&word, run);
            at += run;
            if run == 8 {
                continue;
            }
        } else if is_plain_byte(bytes[at]) {
            to.put(&[bytes[at]], 1);
            at += 1;
            continue;
        }
        at += match bytes[at] {
            b'\\' => to.escape(b'\\'),
            b'\t' => to.escape(b't'),
            b'\n' => to.escape(b'n'),
            b'\r' => to.escape(b'r'),
            b if b < 0x80 => to.hex(&bytes[at..at + 1]),
            _ => match bstr::decode_utf8(&bytes[at..]) {
                // An invalid sequence (its longest invalid prefix), or a control character.
                (None, n) => to.hex(&bytes[at..at + n]),
                (Some(c), n) if is_escaped(c) => to.hex(&bytes[at..at + n]),
                (Some(_), n) => to.put(&bytes[at..at + n], n),
            },
        };
    }
    let written = to.at;
    // SAFETY: every byte of the room up to `at` was written (each write puts the bytes from
    // `at` on that it then counts), and the room is `out`'s spare capacity.
    unsafe { out.set_len(len + written) };
}

/// The spare capacity of a buffer, written from its start.
struct Spare<'a> {
    room: &'a mut [std::mem::MaybeUninit<u8>],
    at: usize,
}

impl Spare<'_> {
    /// Writes `bytes` and counts the first `keep` of them as written; returns `keep`.
    #[inline(always)]
    fn put(&mut self, bytes: &[u8], keep: usize) -> usize {
        for (to, &b) in self.room[self.at..self.at + bytes.len()].iter_mut().zip(bytes) {
            *to = std::mem::MaybeUninit::new(b);
        }
        self.at += keep;
        keep
    }

    /// Writes a backslash and `c`, for one byte read; returns 1.
    #[inline(always)]
    fn escape(&mut self, c: u8) -> usize {
        self.put(&[b'\\', c], 2);
        1
    }

    /// Writes each byte of `raw` as `\xHH`; returns the bytes written so.
    #[inline(always)]
    fn hex(&mut self, raw: &[u8]) -> usize {
        for &b in raw {
            self.put(&hex_escape(b), 4);
        }
        raw.len()
    }
}

/// True for a byte written as itself when alone: printable ASCII other than `\`.
#[inline]
fn is_plain_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'\\'
}

/// True for the characters written as `\xHH` bytes: controls (C0, DEL, C1) and the
/// bidirectional controls (marks, embeddings, overrides, isolates).
fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// True when every byte is printable ASCII other than `\\`: [`escape`] writes it as it is.
/// This runs on every key and argument written, most of them a few words long: up to 16 bytes
/// are looked at as two (overlapping) words, longer ones sixteen bytes at a time.
#[inline(always)]
pub fn is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let mask = match n {
        0 => 0,
        // The bytes that are not looked at twice stand in for the missing ones.
        1..=3 => not_plain(u64::from_le_bytes([bytes[0], bytes[n / 2], bytes[n - 1], b' ', b' ', b' ', b' ', b' '])),
        4..=7 => not_plain(u64::from(half(bytes, 0)) | u64::from(half(bytes, n - 4)) << 32),
        8..=16 => return words_are_plain(word(bytes, 0), word(bytes, n - 8)),
        _ => return blocks_are_plain(bytes),
    };
    mask == 0
}

#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[inline(always)]
fn half(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// [`is_plain`] of more than 16 bytes: sixteen at a time, the last sixteen overlapping the
/// others.
#[inline]
fn blocks_are_plain(bytes: &[u8]) -> bool {
    let block = |b: &[u8]| block_is_plain(b.try_into().expect("sixteen bytes"));
    let mut blocks = bytes.chunks_exact(16);
    let all = blocks.all(block);
    all && (blocks.remainder().is_empty() || block(&bytes[bytes.len() - 16..]))
}

/// [`is_plain`] of sixteen bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn block_is_plain(b: &[u8; 16]) -> bool {
    // SAFETY: SSE2 is part of x86_64; the load reads the sixteen bytes of `b`.
    vector_is_plain(unsafe { std::arch::x86_64::_mm_loadu_si128(b.as_ptr().cast()) })
}

/// [`is_plain`] of the sixteen bytes of two words (eight each, the first word's first): a
/// field of 8 to 16 bytes as a writer moved it, its first and last eight. One look at the
/// sixteen in a vector register costs half the instructions of [`not_plain`] on each word.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn words_are_plain(first: u64, second: u64) -> bool {
    // SAFETY: SSE2 is part of x86_64.
    vector_is_plain(unsafe { std::arch::x86_64::_mm_set_epi64x(second as i64, first as i64) })
}

/// [`words_are_plain`] where there is no SSE2.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn words_are_plain(first: u64, second: u64) -> bool {
    not_plain(first) | not_plain(second) == 0
}

/// [`is_plain`] of the sixteen bytes of `v`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn vector_is_plain(v: std::arch::x86_64::__m128i) -> bool {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_movemask_epi8,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86_64.
    unsafe {
        // Signed: 0x20..=0x7e are the bytes above 0x1f and below 0x7f (0x80 and over are
        // negative).
        let printable = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)), _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)));
        let plain = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)), printable);
        _mm_movemask_epi8(plain) == 0xffff
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn block_is_plain(b: &[u8; 16]) -> bool {
    not_plain(word(b, 0)) | not_plain(word(b, 8)) == 0
}

/// The high bit of each byte of `x` that needs escaping (exact up to the lowest one set; zero
/// when none does): [`is_plain`] of eight bytes, for a writer that holds them in a word already.
#[inline(always)]
pub(crate) fn not_plain(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte below 0x20, a byte of 0x7f or more, or a backslash sets a high bit.
    let below = x.wrapping_sub(ONES * 0x20) & !x;
    let above = x.wrapping_add(ONES) | x;
    let b = x ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (below | above | backslash) & HIGHS
}

/// Appends each byte of `raw` as `\xHH`. Returns the bytes written so.
fn hex_bytes(raw: &[u8], out: &mut Vec<u8>) -> usize {
    for &b in raw {
        out.extend_from_slice(&hex_escape(b));
    }
    raw.len()
}

/// `b` as `\xHH`: the one writer of that escape.
#[inline(always)]
fn hex_escape(b: u8) -> [u8; 4] {
    [b'\\', b'x', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// `text` with its control characters (C0, DEL, C1, bidi) written `\xHH` and everything else as
/// it is: for messages that quote text already escaped in part.
pub fn controls_escaped(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let raw = &text.as_bytes()[at..at + c.len_utf8()];
        if is_escaped(c) && c != '\n' {
            hex_bytes(raw, &mut out);
        } else {
            out.extend_from_slice(raw);
        }
    }
    // Whole characters of valid UTF-8, and ASCII escapes in place of some.
    String::from_utf8(out).unwrap_or_default()
}

/// Returns the printable form of `bytes` as a `String` (always valid UTF-8).
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    escape(bytes, &mut out);
    // `escape` writes only valid UTF-8 runs and ASCII escapes.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the printable form of `bytes`, cut to about `max` bytes of output, to `out`.
///
/// A cut value ends in `…` and never splits an escape or a character.
pub fn escape_truncated(bytes: &[u8], max: usize, out: &mut Vec<u8>) {
    let start = out.len();
    // Each byte is written as one byte or more, so the first `max` bytes decide what is shown,
    // and a longer value is cut whatever follows (four more bytes, so that a character cut at
    // `max` is not taken for invalid bytes): a mebibyte argument costs what a short one does.
    let head = &bytes[..bytes.len().min(max.saturating_add(4))];
    escape(head, out);
    if out.len() - start <= max {
        return;
    }
    let mut cut = start + max;
    // Back up to a boundary: not inside a UTF-8 sequence, not inside a `\xHH` or `\\` escape.
    while cut > start && (out[cut] & 0xc0) == 0x80 {
        cut -= 1;
    }
    let window_start = cut.saturating_sub(3).max(start);
    if let Some(pos) = out[window_start..cut].iter().rposition(|&b| b == b'\\') {
        let slash = window_start + pos;
        // Count the run of backslashes ending at `slash`: an odd run means `slash` opens an escape.
        let run = out[start..=slash].iter().rev().take_while(|&&b| b == b'\\').count();
        if run % 2 == 1 {
            cut = slash;
        }
    }
    out.truncate(cut);
    out.extend_from_slice("…".as_bytes());
}

/// Decodes the printable form back to the exact bytes; `None` if `text` is not a valid escape.
///
/// ```
/// use faina_filter::escape::{escaped, unescape};
/// let key = b"\x00\xff\xc3\xa9\\\t";
/// assert_eq!(unescape(escaped(key).as_bytes()).unwrap(), key);
/// ```
pub fn unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    unescape_into(text, &mut out).then_some(out)
}

/// [`unescape`] appending to `out`; false (with `out` partly written) when `text` is not a valid
/// escape.
pub fn unescape_into(text: &[u8], out: &mut Vec<u8>) -> bool {
    unescape_onto(text, out).is_some()
}

fn unescape_onto(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut rest = text;
    while let Some(pos) = rest.find_byte(b'\\') {
        out.extend_from_slice(&rest[..pos]);
        let (byte, used) = match rest.get(pos + 1)? {
            b'\\' => (b'\\', 2),
            b't' => (b'\t', 2),
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b'x' => (hex_pair(rest.get(pos + 2..pos + 4)?)?, 4),
            _ => return None,
        };
        out.push(byte);
        rest = &rest[pos + used..];
    }
    out.extend_from_slice(rest);
    Some(())
}

/// The value of two hex digits (either case).
pub(crate) fn hex_pair(pair: &[u8]) -> Option<u8> {
    let (high, low) = (HEX_DIGIT[usize::from(pair[0])], HEX_DIGIT[usize::from(pair[1])]);
    (high | low < 16).then_some(high << 4 | low)
}

/// The value of each byte as a hex digit (either case), 0xff for a byte that is not one: a
/// look-up, not a test of each range.
pub(crate) const HEX_DIGIT: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 0xff,
        };
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(b: &[u8]) -> String {
        escaped(b)
    }

    #[test]
    fn printable_ascii_and_utf8_pass_as_is() {
        assert_eq!(esc(b"user:1000"), "user:1000");
        assert_eq!(esc("héllo 世界 ✓".as_bytes()), "héllo 世界 ✓");
        assert_eq!(esc(b"it's \"quoted\""), "it's \"quoted\"");
    }

    #[test]
    fn controls_and_invalid_bytes_are_escaped() {
        assert_eq!(esc(b"a\tb\"c\n\x01"), "a\\tb\"c\\n\\x01");
        assert_eq!(esc(b"\x80\xff\x7f\r\x07\x08\\"), "\\x80\\xff\\x7f\\r\\x07\\x08\\\\");
        assert_eq!(esc(b"\x1b[2J\x1b]0;pwned\x07"), "\\x1b[2J\\x1b]0;pwned\\x07");
        // A C1 control (U+009B, CSI) is valid UTF-8 but still a control.
        assert_eq!(esc("\u{9b}31m".as_bytes()), "\\xc2\\x9b31m");
        // A truncated sequence and a lone continuation byte.
        assert_eq!(esc(b"\xe4\xb8"), "\\xe4\\xb8");
        assert_eq!(esc(b"a\xbfb"), "a\\xbfb");
        // A real U+FFFD passes.
        assert_eq!(esc("\u{fffd}".as_bytes()), "\u{fffd}");
    }

    #[test]
    fn bidi_controls_are_escaped_so_no_key_can_pass_for_another() {
        // `user:1\u{202e}nimda` shows as `user:1admin` on a terminal that honours the override.
        assert_eq!(esc("user:1\u{202e}nimda".as_bytes()), "user:1\\xe2\\x80\\xaenimda");
        for c in ['\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}']
            .into_iter()
            .chain('\u{2066}'..='\u{2069}')
        {
            let raw = c.to_string();
            let e = esc(raw.as_bytes());
            assert!(e.starts_with("\\x") && !e.contains(c), "{c:?}: {e}");
            assert_eq!(unescape(e.as_bytes()).unwrap(), raw.as_bytes());
            assert!(!controls_escaped(&raw).contains(c));
        }
        // Their neighbours pass: U+200D (joiner, in emoji), U+2065, U+202F (narrow space).
        for c in ['\u{200d}', '\u{2065}', '\u{202f}', '\u{061b}'] {
            assert_eq!(esc(c.to_string().as_bytes()), c.to_string());
        }
    }

    #[test]
    fn messages_keep_their_text_and_line_ends_and_lose_their_controls() {
        let text = "a\u{1b}[1m\u{9b}\tb\n\u{202e}é\\x41";
        assert_eq!(controls_escaped(text), "a\\x1b[1m\\xc2\\x9b\\x09b\n\\xe2\\x80\\xaeé\\x41");
    }

    #[test]
    fn the_plain_check_agrees_byte_by_byte() {
        // Every length around the word and block sizes, so the last word or block (whole or
        // overlapping) is checked.
        for len in 1..=40 {
            for b in 0..=255u8 {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = b;
                    let want = (0x20..0x7f).contains(&b) && b != b'\\';
                    assert_eq!(is_plain(&v), want, "byte {b:#04x} at {pos} of {len}");
                }
            }
        }
    }

    /// The printable form the plain way: every character looked at.
    fn escape_each_character(bytes: &[u8], out: &mut Vec<u8>) {
        for (start, end, ch) in bytes.char_indices() {
            let raw = &bytes[start..end];
            match ch {
                '\\' => out.extend_from_slice(b"\\\\"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                // U+FFFD with a raw length other than 3 is an invalid byte, not a real U+FFFD.
                '\u{fffd}' if raw != "\u{fffd}".as_bytes() => {
                    hex_bytes(raw, out);
                }
                c if is_escaped(c) => {
                    hex_bytes(raw, out);
                }
                _ => out.extend_from_slice(raw),
            }
        }
    }

    #[test]
    fn escape_agrees_with_the_walk_over_every_character() {
        let mut samples: Vec<Vec<u8>> = vec![
            b"bin:\x00\xff0".to_vec(),
            "q:\"46149511\"\tx é\u{9b}\u{202e}\u{fffd}ok\u{2069}".as_bytes().to_vec(),
            b"\xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \\".to_vec(),
        ];
        // Every byte in every place of short strings, and pseudo-random strings besides.
        for b in 0..=255u8 {
            for len in 1..=10 {
                for pos in 0..len {
                    let mut v = "aé".repeat(len).into_bytes();
                    v[pos] = b;
                    samples.push(v);
                }
            }
        }
        // Runs of printable ASCII of every length to 40 (moved a word at a time) with any
        // byte, or a character of two to four bytes, at every place.
        let odd: Vec<Vec<u8>> = (0..=255u8)
            .map(|b| vec![b])
            .chain(["é", "\u{9b}", "\u{202e}", "€", "😀"].map(|c| c.as_bytes().to_vec()))
            .collect();
        for len in 0..=40 {
            for pos in 0..=len {
                for c in &odd {
                    let run = (0..len).map(|i| b'!' + (i * 13 % 90) as u8).filter(|&b| b != b'\\');
                    let mut v: Vec<u8> = run.collect();
                    let pos = pos.min(v.len());
                    v.splice(pos..pos, c.iter().copied());
                    samples.push(v);
                }
            }
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (x % 24) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    crate::testing::xorshift(&mut x);
                    [b'a', b'\\', 0x1f, 0x7f, 0xc2, 0x9b, 0xe2, 0x80, 0xae, 0xef, 0xbf, 0xbd, 0xff, b'\t']
                        [(x % 14) as usize]
                })
                .collect();
            samples.push(v);
        }
        for sample in samples {
            let (mut fast, mut plain) = (b"x".to_vec(), b"x".to_vec());
            escape(&sample, &mut fast);
            escape_each_character(&sample, &mut plain);
            assert_eq!(fast, plain, "{sample:?}");
        }
    }

    #[test]
    fn round_trip() {
        let all: Vec<u8> = (0..=255u8).collect();
        for sample in [&all[..], b"", b"\\x41", "é\u{9b}".as_bytes(), b"\\\\\\"] {
            let e = esc(sample);
            assert!(!e.bytes().any(|b| b < 0x20 || b == 0x7f), "{e:?}");
            assert_eq!(unescape(e.as_bytes()).unwrap(), sample);
        }
    }

    #[test]
    fn unescape_rejects_broken_escapes() {
        assert_eq!(unescape(b"a\\"), None);
        assert_eq!(unescape(b"\\x4"), None);
        assert_eq!(unescape(b"\\xzz"), None);
        assert_eq!(unescape(b"\\q"), None);
        assert_eq!(unescape(b"\\X41"), None);
        assert_eq!(unescape(b"\\x4A").unwrap(), b"J");
    }

    #[test]
    fn truncation_keeps_escapes_whole() {
        let mut out = Vec::new();
        escape_truncated(b"abcdef", 10, &mut out);
        assert_eq!(out, b"abcdef");
        out.clear();
        escape_truncated(b"abc\x01def", 5, &mut out);
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "abc…");
        out.clear();
        escape_truncated("ééééé".as_bytes(), 5, &mut out);
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "éé…");
        out.clear();
        escape_truncated(b"a\\\\bcdef", 3, &mut out);
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "a\\\\…");
    }
}
