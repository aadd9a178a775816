//! MONITOR's quoting of an argument, decoded: the one reader of the escapes the server's
//! `sdscatrepr` writes (`\\ \" \n \r \t \a \b \xHH`), read as redis-cli's `sdssplitargs` reads
//! them (`\xHH` in either case, any other escaped byte as itself, `\x` without two hex digits
//! as `x`).
//!
//! [`escape`] is the step both readers take: the line parser's [`decode_quoted`] on a whole
//! argument, and the long-line compactor ([`crate::read::compact`]) on bytes as they stream past,
//! one escape at a time.

use crate::format::escape::HEX_DIGIT;
use crate::format::scan;

/// One escape, read from its backslash on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// The escape's first `used` bytes stand for `byte`; what follows them is read as it is.
    Byte { byte: u8, used: usize },
    /// The bytes so far are the start of an escape: it needs more to say what it is.
    Partial,
}

/// The escape at the start of `raw` (which starts with a backslash).
#[inline]
pub fn escape(raw: &[u8]) -> Escape {
    let Some(&next) = raw.get(1) else { return Escape::Partial };
    let byte = match next {
        b'x' => {
            return match (raw.get(2), raw.get(3)) {
                (None, _) | (Some(b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F'), None) => Escape::Partial,
                (Some(&h), Some(&l)) => match (HEX_DIGIT[h as usize], HEX_DIGIT[l as usize]) {
                    // Both are hex digits (a value under 16 each).
                    (h, l) if h | l < 16 => Escape::Byte { byte: h << 4 | l, used: 4 },
                    _ => Escape::Byte { byte: b'x', used: 2 },
                },
                _ => Escape::Byte { byte: b'x', used: 2 },
            };
        }
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'a' => 0x07,
        b'b' => 0x08,
        other => other,
    };
    Escape::Byte { byte, used: 2 }
}

/// Decodes one quoted argument whose opening quote is already consumed, appending its bytes to
/// `out`. Returns the number of input bytes used up to (not including) the closing quote, or
/// `None` when `text` ends before it.
pub fn decode_quoted(text: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    // Most arguments with escapes are short keys (`bin:\x00\xff0`): they are decoded into a
    // buffer on the stack and copied once; a longer one goes on by runs. A plain byte is moved
    // with the seven after it (a word stored whole, counted up to its first quote or
    // backslash), the buffer's last eight bytes room for the last word's store.
    let mut short = [0u8; SHORT + 8];
    let mut n = 0;
    let mut i = 0;
    while n < SHORT {
        let byte = match *text.get(i)? {
            b'"' => {
                copy_decoded(&short, n, out);
                return Some(i);
            }
            b'\\' => match escape(&text[i..]) {
                Escape::Byte { byte, used } => {
                    i += used;
                    byte
                }
                // The text ends inside an escape: before the closing quote.
                Escape::Partial => return None,
            },
            byte => {
                if let Some(w) = text.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
                    // A plain byte, and maybe more after it: moved as a word (its first byte
                    // is plain, so the run is at least one).
                    let special = scan::matches2(u64::from_le_bytes(w), b'"', b'\\');
                    short[n..n + 8].copy_from_slice(&w);
                    let run = (special.trailing_zeros() / 8) as usize;
                    n += run;
                    i += run;
                    continue;
                }
                i += 1;
                byte
            }
        };
        short[n] = byte;
        n += 1;
    }
    copy_decoded(&short, n, out);
    decode_runs(text, i, out)
}

/// Appends the first `n` bytes of `short` to `out` by a copy of fixed size (moves, not a call),
/// then drops what is past them.
#[inline(always)]
fn copy_decoded(short: &[u8; SHORT + 8], n: usize, out: &mut Vec<u8>) {
    let keep = out.len() + n;
    if n <= 16 {
        out.extend_from_slice(&short[..16]);
    } else {
        out.extend_from_slice(short);
    }
    out.truncate(keep);
}

/// An argument is decoded on the stack while fewer bytes than this are decoded (a word's move
/// may take it up to seven past), the rest by runs.
const SHORT: usize = 64;

/// [`decode_quoted`] from `text[i]` on, a run of plain bytes at a time.
fn decode_runs(text: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    loop {
        let n = scan::find2_early(&text[i..], b'"', b'\\')?;
        out.extend_from_slice(&text[i..i + n]);
        i += n;
        if text[i] == b'"' {
            return Some(i);
        }
        match escape(&text[i..]) {
            Escape::Byte { byte, used } => {
                out.push(byte);
                i += used;
            }
            // The text ends inside an escape: before the closing quote.
            Escape::Partial => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escapes as the server writes them and as redis-cli reads them, in full.
    #[test]
    fn every_escape() {
        let cases: [(&[u8], Escape); 12] = [
            (br"\\", Escape::Byte { byte: b'\\', used: 2 }),
            (br#"\""#, Escape::Byte { byte: b'"', used: 2 }),
            (br"\n", Escape::Byte { byte: b'\n', used: 2 }),
            (br"\r", Escape::Byte { byte: b'\r', used: 2 }),
            (br"\t", Escape::Byte { byte: b'\t', used: 2 }),
            (br"\a", Escape::Byte { byte: 0x07, used: 2 }),
            (br"\b", Escape::Byte { byte: 0x08, used: 2 }),
            (br"\q", Escape::Byte { byte: b'q', used: 2 }),
            (br"\xC3", Escape::Byte { byte: 0xc3, used: 4 }),
            (br"\x0az", Escape::Byte { byte: 0x0a, used: 4 }),
            (br"\xzz", Escape::Byte { byte: b'x', used: 2 }),
            (br#"\x4""#, Escape::Byte { byte: b'x', used: 2 }),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), want, "{}", String::from_utf8_lossy(raw));
        }
        for raw in [&br"\"[..], br"\x", br"\x4", br"\xF"] {
            assert_eq!(escape(raw), Escape::Partial, "{}", String::from_utf8_lossy(raw));
        }
    }

    /// Bytes fed one at a time decode as the whole argument does: the step is all a streaming
    /// reader needs.
    #[test]
    fn one_escape_at_a_time_agrees_with_the_whole() {
        let text = br#"a\x00\xC3\n\"\\\a\xzz\x4\q\x"b" tail"#;
        let mut whole = Vec::new();
        let used = decode_quoted(text, &mut whole).unwrap();
        assert_eq!(&text[used..used + 1], b"\"");
        let mut streamed = Vec::new();
        let mut pending = Vec::new();
        // Through the closing quote: the streaming reader learns only there that `\x"` is `x`.
        for &b in &text[..=used] {
            if pending.is_empty() && b != b'\\' {
                streamed.push(b);
                continue;
            }
            pending.push(b);
            while !pending.is_empty() {
                match escape(&pending) {
                    Escape::Partial => break,
                    Escape::Byte { byte, used } => {
                        streamed.push(byte);
                        let rest = pending.split_off(used);
                        pending.clear();
                        // What follows an escape is read again: a plain byte or a new escape.
                        for r in rest {
                            if pending.is_empty() && r != b'\\' {
                                streamed.push(r);
                            } else {
                                pending.push(r);
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(streamed, [&whole[..], b"\""].concat());
        assert_eq!(whole, b"a\x00\xc3\n\"\\\x07xzzx4qx");
    }

    #[test]
    fn an_argument_cut_short_has_no_end() {
        for text in [&b"abc"[..], br"ab\", br"ab\x", br"ab\x4", br#"ab\""#] {
            assert_eq!(decode_quoted(text, &mut Vec::new()), None, "{}", String::from_utf8_lossy(text));
        }
    }

    /// Arguments of every length around the stack buffer's (decoded on the stack, by runs, or
    /// both), escapes at every place and cut anywhere: decoded as the plain version decodes
    /// them, and a text without its closing quote has no end.
    #[test]
    fn arguments_short_and_long_agree_with_the_plain_version() {
        let pieces: [&[u8]; 8] = [b"a", br"\x00", br"\xff", br#"\""#, br"\\", br"\n", b"bcdefgh", br"\q"];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..4_000 {
            crate::testing::xorshift(&mut seed);
            let count = (seed % 60) as usize;
            let mut text = Vec::new();
            for k in 0..count {
                text.extend_from_slice(pieces[((seed >> (k % 58)) as usize + k) % pieces.len()]);
            }
            let want = plain(&text);
            let mut quoted = text.clone();
            quoted.extend_from_slice(b"\" \"next\"");
            let mut got = b"kept".to_vec();
            assert_eq!(decode_quoted(&quoted, &mut got), Some(text.len()), "round {round}");
            assert_eq!(&got[..4], b"kept");
            assert_eq!(&got[4..], &want[..], "round {round}: {}", String::from_utf8_lossy(&text));
            // Cut anywhere before its closing quote (between escapes: not inside one, which
            // may read as another escape): no end.
            for cut in (0..=text.len()).step_by(7) {
                if decode_quoted(&text[..cut], &mut Vec::new()).is_some() {
                    panic!("round {round} cut {cut}: {}", String::from_utf8_lossy(&text[..cut]));
                }
            }
        }
    }

    /// Plain runs of every length around the eight bytes moved at once, between and around
    /// escapes, with every number of bytes after the closing quote (fewer than eight: the
    /// word is not read, a byte is): decoded as the plain version decodes them.
    #[test]
    fn plain_runs_of_every_length_agree_with_the_plain_version() {
        for before in 0..=20 {
            for after in 0..=20 {
                for escape in [&br"\x00"[..], br#"\""#, br"\\", b""] {
                    let text =
                        [&b"abcdefghijklmnopqrstu"[..before], escape, &b"ABCDEFGHIJKLMNOPQRSTU"[..after]].concat();
                    let want = plain(&text);
                    for tail in 0..=9 {
                        let quoted = [&text[..], b"\"", &b" \"next\" \"more\""[..tail]].concat();
                        let mut got = Vec::new();
                        assert_eq!(decode_quoted(&quoted, &mut got), Some(text.len()), "{before} {after} {tail}");
                        assert_eq!(got, want, "{}", String::from_utf8_lossy(&quoted));
                    }
                }
            }
        }
    }

    /// The escapes as redis-cli's `sdssplitargs` reads them, one byte at a time: the plain
    /// version the step is checked against.
    fn plain(text: &[u8]) -> Vec<u8> {
        let hex = |b: u8| (b as char).to_digit(16);
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if text[i] != b'\\' || i + 1 == text.len() {
                out.push(text[i]);
                i += 1;
                continue;
            }
            let next = text[i + 1];
            match (next, text.get(i + 2).copied().and_then(hex), text.get(i + 3).copied().and_then(hex)) {
                (b'x', Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 4;
                    continue;
                }
                (b'n', ..) => out.push(b'\n'),
                (b'r', ..) => out.push(b'\r'),
                (b't', ..) => out.push(b'\t'),
                (b'a', ..) => out.push(0x07),
                (b'b', ..) => out.push(0x08),
                (other, ..) => out.push(other),
            }
            i += 2;
        }
        out
    }

    /// Any text (ending in a plain byte, as a quoted argument ends in its closing quote): the
    /// step, taken at each backslash, and fed one byte at a time as a streaming reader feeds
    /// it, decodes it as the plain version does.
    #[test]
    fn the_step_agrees_with_the_plain_version_whole_and_streamed() {
        let alphabet = [b'\\', b'x', b'a', b'0', b'F', b'n', b'"', b'q', b'b'];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..20_000 {
            crate::testing::xorshift(&mut seed);
            let len = (seed % 12) as usize;
            let mut text: Vec<u8> = (0..len).map(|i| alphabet[((seed >> (8 + 4 * i)) % 9) as usize]).collect();
            text.push(b'.');
            let want = plain(&text);
            // Whole: plain runs copied, each escape stepped over.
            let mut whole = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if text[i] != b'\\' {
                    whole.push(text[i]);
                    i += 1;
                    continue;
                }
                match escape(&text[i..]) {
                    Escape::Byte { byte, used } => {
                        whole.push(byte);
                        i += used;
                    }
                    Escape::Partial => unreachable!("the text ends in a plain byte"),
                }
            }
            assert_eq!(whole, want, "round {round}: {}", String::from_utf8_lossy(&text));
            // And the parser's reader of a whole argument, up to its closing quote.
            let mut quoted = text.clone();
            quoted.push(b'"');
            let mut decoded = Vec::new();
            let closed = decode_quoted(&quoted, &mut decoded);
            if !text.contains(&b'"') {
                assert_eq!((closed, &decoded), (Some(quoted.len() - 1), &want), "round {round}");
            }
            // Streamed: bytes held while the escape under way needs more.
            let mut streamed = Vec::new();
            let mut pending: Vec<u8> = Vec::new();
            let mut queue: std::collections::VecDeque<u8> = text.iter().copied().collect();
            while let Some(b) = queue.pop_front() {
                if pending.is_empty() && b != b'\\' {
                    streamed.push(b);
                    continue;
                }
                pending.push(b);
                if let Escape::Byte { byte, used } = escape(&pending) {
                    streamed.push(byte);
                    // What follows the escape is read again.
                    for &r in pending[used..].iter().rev() {
                        queue.push_front(r);
                    }
                    pending.clear();
                }
            }
            assert_eq!(streamed, want, "round {round}: {}", String::from_utf8_lossy(&text));
        }
    }
}
