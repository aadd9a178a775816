//! Searches for a byte in the short strings a MONITOR line is made of (timestamps, clients,
//! keys, arguments): eight bytes at a time in plain code, where a call into a vectorized search
//! costs more than the search itself. Long strings go to `memchr` (through bstr). [`Marks`]
//! walks every position of up to three bytes in one pass, sixteen bytes at a time (SSE2 on x86_64, a
//! plain loop elsewhere): a line's quotes and backslashes; [`Every`] every position of a byte at
//! or below a bound, 64 bytes at a time: a block's line feeds, CRs and TABs.

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

/// The high bit of each byte of the word `x` (eight bytes, the first the lowest) that is `a` or
/// `b`; exact up to the lowest one set: its trailing zeros over 8 are the first one's place
/// (8: none).
#[inline]
pub fn matches2(x: u64, a: u8, b: u8) -> u64 {
    matches(x, a) | matches(x, b)
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

/// [`find2`] for a byte that is mostly within the first 16 bytes of a longer string (the next
/// quote or backslash of an argument with escapes, searched in the rest of its line): those
/// are searched eight at a time first, not handed to `memchr` with the whole rest.
#[inline]
pub fn find2_early(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const EARLY: usize = 16;
    if hay.len() <= EARLY {
        return find2(hay, a, b);
    }
    find2(&hay[..EARLY], a, b).or_else(|| find2(&hay[EARLY..], a, b).map(|at| EARLY + at))
}

/// One bit per byte of `block` that is one of `bytes` (bit `i` for byte `i`).
#[cfg(target_arch = "x86_64")]
#[inline]
fn marks16(block: &[u8; 16], bytes: [u8; 3]) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SAFETY: SSE2 is part of every x86_64 processor (the target's baseline, nothing to detect),
    // and the unaligned load reads exactly the 16 bytes `block` refers to.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(eq(bytes[0]), eq(bytes[1])), eq(bytes[2]))) as u32
    }
}

/// One bit per byte of `block` that is one of `bytes` (bit `i` for byte `i`).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn marks16(block: &[u8; 16], bytes: [u8; 3]) -> u32 {
    (0..16).fold(0, |m, i| m | u32::from(bytes.contains(&block[i])) << i)
}

/// The marks of the 16 bytes at `at` (fewer at the end).
#[inline]
fn block_marks(hay: &[u8], at: usize, bytes: [u8; 3]) -> u32 {
    if let Some(block) = hay.get(at..at + 16).and_then(|b| <&[u8; 16]>::try_from(b).ok()) {
        return marks16(block, bytes);
    }
    let rest = hay.len().saturating_sub(at);
    if let Some(last) = hay.len().checked_sub(16).and_then(|from| <&[u8; 16]>::try_from(&hay[from..]).ok()) {
        // The last 16 bytes, which end with the `rest` wanted: no copy into a padded block.
        return marks16(last, bytes) >> (16 - rest);
    }
    hay[hay.len() - rest..].iter().enumerate().fold(0, |m, (i, x)| m | u32::from(bytes.contains(x)) << i)
}

/// The positions of up to three bytes in a string, in order, found sixteen bytes at a time in
/// one pass: a MONITOR line's client end, quotes and backslashes, each found once however short
/// the arguments between them (a search per argument pays its start-up cost per argument).
pub struct Marks<'h> {
    hay: &'h [u8],
    bytes: [u8; 3],
    /// The start of the block under way, and its marks not yet handed out.
    at: usize,
    mask: u32,
}

impl<'h> Marks<'h> {
    /// The marks (any of `bytes`; give one twice for two) in `hay` from `from` on.
    #[inline]
    pub fn new(hay: &'h [u8], from: usize, bytes: [u8; 3]) -> Marks<'h> {
        Marks { hay, bytes, at: from, mask: block_marks(hay, from, bytes) }
    }

    /// The position of the next mark.
    #[inline]
    pub fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let at = self.at + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(at);
            }
            self.at += 16;
            if self.at >= self.hay.len() {
                return None;
            }
            self.mask = block_marks(self.hay, self.at, self.bytes);
        }
    }

    /// Forgets the marks before `pos` (a part read by other means).
    #[inline]
    pub fn skip_to(&mut self, pos: usize) {
        if pos >= self.at + 16 {
            *self = Marks::new(self.hay, pos, self.bytes);
        } else if pos > self.at {
            self.mask &= !0u32 << (pos - self.at);
        }
    }
}

/// One bit per byte of the 64 bytes of `block` that is at most `top` (bit `i` for byte `i`).
#[cfg(target_arch = "x86_64")]
#[inline]
fn at_most64(block: &[u8; 64], top: u8) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of every x86_64 processor (the target's baseline, nothing to detect),
    // and each unaligned load reads 16 of the 64 bytes `block` refers to (at 0, 16, 32, 48).
    unsafe {
        let top = _mm_set1_epi8(top as i8);
        let part = |i: usize| {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            // A byte is at most `top` when the smaller of the two is the byte itself.
            u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, top), v)) as u16) << (16 * i)
        };
        part(0) | part(1) | part(2) | part(3)
    }
}

/// One bit per byte of the 64 bytes of `block` that is at most `top` (bit `i` for byte `i`).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn at_most64(block: &[u8; 64], top: u8) -> u64 {
    block.iter().enumerate().fold(0, |m, (i, &x)| m | u64::from(x <= top) << i)
}

/// The bits of the (up to) 64 bytes of `hay` at `at` that are at most `top`.
#[inline]
fn block_at_most(hay: &[u8], at: usize, top: u8) -> u64 {
    match hay.get(at..at + 64).and_then(|block| <&[u8; 64]>::try_from(block).ok()) {
        Some(block) => at_most64(block, top),
        None => tail_at_most(hay, at, top),
    }
}

/// [`block_at_most`] of the last (fewer than 64) bytes of a block read: once per read, not per
/// line, and out of line, so that the loop over lines does not make ready for it at each one.
#[cold]
#[inline(never)]
fn tail_at_most(hay: &[u8], at: usize, top: u8) -> u64 {
    hay[at.min(hay.len())..].iter().enumerate().fold(0, |m, (i, &x)| m | u64::from(x <= top) << i)
}

/// Every position of a byte at or below `TOP` in a long string, in order, found 64 bytes at a
/// time: with `TOP` = CR, a block read's line feeds, CRs and TABs (and the rarer control bytes
/// below CR, which the caller passes over), each found once (a search per line pays its
/// start-up cost per line, more than the search itself for lines of a hundred bytes). It holds
/// no borrow: each call is given the same `hay`, so the caller may hand out what it finds as
/// it goes. `TOP` is a constant of the type, so the compare's operand is one too, not a value
/// made again after each line handed out (whose call may clobber every vector register).
pub struct Every<const TOP: u8> {
    /// The start of the 64 bytes under way, and their matches not yet handed out.
    at: usize,
    mask: u64,
}

impl<const TOP: u8> Every<TOP> {
    /// The positions of the bytes at most `TOP` in `hay` from `from` on.
    #[inline]
    pub fn new(hay: &[u8], from: usize) -> Every<TOP> {
        Every { at: from, mask: block_at_most(hay, from, TOP) }
    }

    /// The next position, in the `hay` given to [`Every::new`].
    #[inline]
    pub fn next(&mut self, hay: &[u8]) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let at = self.at + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(at);
            }
            self.at += 64;
            if self.at >= hay.len() {
                return None;
            }
            self.mask = block_at_most(hay, self.at, TOP);
        }
    }
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
    fn marks_are_every_position_of_either_byte() {
        // Every length past a few words, every pair of positions, and bytes next to the ones
        // marked; then skips from every position.
        let fill = [b'x', b'"' - 1, b'"' + 1, b'\\' + 1, 0x80, 0xff, 1, b'#'];
        for len in 0..40 {
            for p in (0..=len).step_by(3) {
                for q in p..=len {
                    let mut hay: Vec<u8> = (0..len).map(|i| fill[i % fill.len()]).collect();
                    if p < len {
                        hay[p] = b'"';
                    }
                    if q < len && q > p {
                        hay[q] = b'\\';
                    }
                    let want: Vec<usize> = (0..len).filter(|&i| hay[i] == b'"' || hay[i] == b'\\').collect();
                    let want3: Vec<usize> = (0..len).filter(|&i| b"\"\\#".contains(&hay[i])).collect();
                    for from in 0..=len {
                        let mut m = Marks::new(&hay, from, [b'"', b'\\', b'\\']);
                        let got: Vec<usize> = std::iter::from_fn(|| m.next()).collect();
                        let from_on: Vec<usize> = want.iter().copied().filter(|&i| i >= from).collect();
                        assert_eq!(got, from_on, "{len} {p} {q} from {from}");
                        let mut m = Marks::new(&hay, from, [b'"', b'\\', b'#']);
                        let got: Vec<usize> = std::iter::from_fn(|| m.next()).collect();
                        let from_on3: Vec<usize> = want3.iter().copied().filter(|&i| i >= from).collect();
                        assert_eq!(got, from_on3, "{len} {p} {q} from {from}, three bytes");
                        let mut m = Marks::new(&hay, 0, [b'"', b'\\', b'\\']);
                        m.skip_to(from);
                        let got: Vec<usize> = std::iter::from_fn(|| m.next()).collect();
                        assert_eq!(got, from_on, "{len} {p} {q} skip to {from}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_is_each_position_at_or_below_its_top() {
        // Lengths around and past the 64-byte blocks, from every start, the line feed at every
        // place and next to bytes just above and below CR, 0 and the high bytes (which an
        // unsigned compare must not take for small ones).
        let fill = [b'x', b'\n' - 1, b'\n' + 1, 0x80, 0xff, 0, b'\r', b'\t', b'\r' + 1, b'\r' - 1, 0x8d];
        for len in 0..200 {
            let base: Vec<u8> = (0..len).map(|i| fill[i % fill.len()]).collect();
            for p in (0..len).step_by(7) {
                let mut hay = base.clone();
                hay[p] = b'\n';
                for q in (p..len).step_by(5) {
                    hay[q] = b'\n';
                }
                for from in (0..=len).step_by(3) {
                    let want: Vec<usize> = (from..len).filter(|&i| hay[i] <= b'\n').collect();
                    let mut every = Every::<b'\n'>::new(&hay, from);
                    let got: Vec<usize> = std::iter::from_fn(|| every.next(&hay)).collect();
                    assert_eq!(got, want, "len {len} p {p} from {from} top LF");
                    let want: Vec<usize> = (from..len).filter(|&i| hay[i] <= b'\r').collect();
                    let mut every = Every::<b'\r'>::new(&hay, from);
                    let got: Vec<usize> = std::iter::from_fn(|| every.next(&hay)).collect();
                    assert_eq!(got, want, "len {len} p {p} from {from} top CR");
                }
            }
        }
        let mut none = Every::<b'\r'>::new(&[], 0);
        assert_eq!(none.next(&[]), None);
    }

    #[test]
    fn find2_early_agrees_with_a_plain_search() {
        // Both bytes at every place of strings around and past the first 16 bytes.
        for len in 0..90 {
            for pos in 0..=len {
                for byte in [b'"', b'\\'] {
                    let mut hay = vec![b'x'; len];
                    if pos < len {
                        hay[pos] = byte;
                    }
                    let want = hay.iter().position(|&c| c == b'"' || c == b'\\');
                    assert_eq!(find2_early(&hay, b'"', b'\\'), want, "{len} {pos}");
                }
            }
        }
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
