//! Searches for a byte in the short strings a MONITOR line is made of (timestamps, clients,
//! keys, arguments): eight bytes at a time in plain code, where a call into a vectorized search
//! costs more than the search itself. Long strings go to `memchr` (through bstr).

use bstr::ByteSlice;

/// Strings at least this long are searched with `memchr`.
const LONG: usize = 64;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that equals `b`; exact up to the lowest one set (enough to
/// find the first match).
#[inline]
fn matches(x: u64, b: u8) -> u64 {
    let t = x ^ (ONES * u64::from(b));
    t.wrapping_sub(ONES) & !t & HIGHS
}

#[inline]
fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

/// The position of the first `b` in `hay`.
#[inline]
pub fn find(hay: &[u8], b: u8) -> Option<usize> {
    if hay.len() >= LONG {
        return hay.find_byte(b);
    }
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let m = matches(word(c), b);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&x| x == b).map(|i| at + i)
}

/// [`find`] for a byte that is mostly within the first 32 bytes of a longer string (the end of
/// a timestamp or a client): those are searched eight at a time first.
#[inline]
pub fn find_early(hay: &[u8], b: u8) -> Option<usize> {
    const EARLY: usize = 32;
    if hay.len() <= EARLY {
        return find(hay, b);
    }
    find(&hay[..EARLY], b).or_else(|| hay[EARLY..].find_byte(b).map(|at| EARLY + at))
}

/// The position of the first `a` or `b` in `hay`.
#[inline]
pub fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    if hay.len() >= LONG {
        return hay.find_byteset([a, b]);
    }
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let x = word(c);
        let m = matches(x, a) | matches(x, b);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&x| x == a || x == b).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert_eq!(find(b"user:1000:name", b':'), Some(4));
        assert_eq!(find(b"plain", b':'), None);
        assert_eq!(find2(br#"key\"x" "#, b'"', b'\\'), Some(3));
    }

    #[test]
    fn early_agrees_with_a_plain_search() {
        for len in 0..100 {
            for pos in 0..=len {
                let mut hay = vec![b'x'; len];
                if pos < len {
                    hay[pos] = b']';
                }
                assert_eq!(find_early(&hay, b']'), hay.iter().position(|&c| c == b']'), "{len} {pos}");
            }
        }
    }

    #[test]
    fn agree_with_a_plain_search() {
        // Every length up to past the vectorized threshold, every position, and bytes next to
        // the ones searched for (a borrow across bytes must not make a false first match).
        let fill = [0u8, 1, 0x7f, 0x80, 0xff, b'"' - 1, b'"' + 1, b'\\' + 1];
        for len in 0..80 {
            for (f, &filler) in fill.iter().enumerate() {
                let mut hay: Vec<u8> = (0..len).map(|i| fill[(i + f) % fill.len()] ^ (filler & 1)).collect();
                let want = |h: &[u8]| h.iter().position(|&x| x == b'"' || x == b'\\');
                assert_eq!(find2(&hay, b'"', b'\\'), want(&hay));
                assert_eq!(find(&hay, b'"'), hay.iter().position(|&x| x == b'"'));
                for pos in 0..len {
                    let saved = hay[pos];
                    hay[pos] = if pos % 2 == 0 { b'"' } else { b'\\' };
                    assert_eq!(find2(&hay, b'"', b'\\'), want(&hay), "len {len} pos {pos}");
                    assert_eq!(find(&hay, hay[pos]), hay.iter().position(|&x| x == hay[pos]));
                    hay[pos] = saved;
                }
            }
        }
    }
}
