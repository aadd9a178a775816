//! Redis Cluster hash slots: which of the 16384 slots (and so which node) a key lives in.
//!
//! `slot = crc16(key) & 16383`, CRC16 being the XMODEM variant (polynomial 0x1021, initial 0).
//! When the key has a `{` and a later `}` with at least one byte between them, only the bytes
//! between the first `{` and the first `}` after it are hashed, so `{user1}:a` and `{user1}:b`
//! share a slot.

/// The number of hash slots.
pub const SLOTS: u16 = 16384;

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// `TABLES[k][i]`: the CRC of byte `i` followed by `k` zero bytes, so eight bytes can be folded
/// in at once with eight independent lookups (slicing-by-8).
const fn crc16_tables() -> [[u16; 256]; 8] {
    let base = crc16_table();
    let mut tables = [base; 8];
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev << 8) ^ base[(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
}

static CRC16: [[u16; 256]; 8] = crc16_tables();

/// CRC16/XMODEM.
#[inline]
pub fn crc16(bytes: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("pclmulqdq") {
        // SAFETY: the processor has the instruction `carryless::crc16` is compiled for.
        return unsafe { carryless::crc16(bytes) };
    }
    crc16_on(0, bytes)
}

/// CRC16/XMODEM by carry-less multiplication (PCLMULQDQ), eight bytes a step: two
/// multiplications instead of eight table lookups, for a key of 20 bytes about a third of the
/// instructions of the tables. A step takes the CRC so far and the next eight bytes, `v` =
/// crc·x⁶⁴ + bytes, and gives (v·x¹⁶) mod P by Barrett reduction: the quotient q =
/// ⌊v·μ / x⁶⁴⌋ with μ = ⌊x⁸⁰ / P⌋ (exact over GF(2)), the remainder the low 16 bits of q·P.
#[cfg(target_arch = "x86_64")]
mod carryless {
    use std::arch::x86_64::{
        __m128i, _mm_clmulepi64_si128, _mm_cvtsi128_si32, _mm_cvtsi64_si128, _mm_srli_si128, _mm_xor_si128,
    };

    use super::open;

    /// The polynomial, x¹⁶ + x¹² + x⁵ + 1.
    const P: u64 = 0x1_1021;

    /// ⌊x⁸⁰ / P⌋ without its x⁶⁴ term (added back as `v` itself).
    const MU: u64 = {
        let (mut rest, mut quotient, mut i) = (1u128 << 80, 0u128, 64);
        loop {
            if rest & (1 << (i + 16)) != 0 {
                rest ^= (P as u128) << i;
                quotient |= 1 << i;
            }
            if i == 0 {
                break quotient as u64;
            }
            i -= 1;
        }
    };

    /// (v·x¹⁶) mod P.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    unsafe fn reduce(v: u64) -> u16 {
        reduce_wide(wide(v))
    }

    /// [`reduce`] of the low word of `v` (its high word is not looked at), kept in a vector
    /// register throughout: a move between the two kinds of register takes as long as a
    /// multiplication, and they are all on the slot's critical path.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    unsafe fn reduce_wide(v: __m128i) -> u16 {
        let q = _mm_xor_si128(v, _mm_srli_si128(_mm_clmulepi64_si128(v, wide(MU), 0), 8));
        _mm_cvtsi128_si32(_mm_clmulepi64_si128(q, wide(P & 0xffff), 0)) as u16
    }

    /// The bytes of `head` (fewer than eight) as a big-endian number.
    #[inline]
    fn big_endian(head: &[u8]) -> u64 {
        let n = head.len();
        let half = |at: usize| u64::from(u32::from_be_bytes(head[at..at + 4].try_into().expect("four bytes")));
        match n {
            0 => 0,
            // Bytes read twice land on the same place.
            1..=3 => {
                u64::from(head[0]) << (8 * (n - 1))
                    | u64::from(head[n / 2]) << (8 * (n - 1 - n / 2))
                    | u64::from(head[n - 1])
            }
            _ => half(0) << (8 * (n - 4)) | half(n - 4),
        }
    }

    /// CRC16/XMODEM of `bytes`.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    pub unsafe fn crc16(bytes: &[u8]) -> u16 {
        crc16_open(bytes).0
    }

    /// CRC16/XMODEM of `bytes`, and whether they hold a `{` (their slot is then their hash
    /// tag's, when they have one), from the same words.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    pub unsafe fn crc16_open(bytes: &[u8]) -> (u16, bool) {
        let n = bytes.len();
        if n > 8 * FOLDS.len() {
            return in_steps(bytes);
        }
        let word = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
        if n <= 8 {
            let word = if n == 8 { word(0) } else { big_endian(bytes) };
            return (if n == 0 { 0 } else { reduce(word) }, open(word) != 0);
        }
        // The words of the key, the first `n % 8` bytes (or eight) first, zeros in front of
        // them (they do not move a CRC from 0): each multiplied by x^(64·j) mod P for the j words
        // after it, all at once, their sum ≡ the key (mod P).
        let head = n % 8;
        let (first, mut at) = match head {
            0 => (word(0), 8),
            _ => (word(0) >> (64 - 8 * head), head),
        };
        let words = n.div_ceil(8);
        let (mut opens, mut sum) = (open(first), _mm_clmulepi64_si128(wide(first), wide(FOLDS[words - 2]), 0));
        for j in (1..words - 1).rev() {
            let w = word(at);
            opens |= open(w);
            sum = _mm_xor_si128(sum, _mm_clmulepi64_si128(wide(w), wide(FOLDS[j - 1]), 0));
            at += 8;
        }
        let last = word(n - 8);
        opens |= open(last);
        // The sum's high part (below x^79 / x^64) folded into its low part: a word, reduced.
        let high = _mm_clmulepi64_si128(_mm_srli_si128(sum, 8), wide(FOLDS[0]), 0);
        (reduce_wide(_mm_xor_si128(_mm_xor_si128(sum, high), wide(last))), opens != 0)
    }

    /// x^(64·j) mod P, for j = 1, 2, 3: a word moved j words up, in 16 bits.
    const FOLDS: [u64; 3] = [power(64), power(128), power(192)];

    /// x^e mod P.
    const fn power(e: u32) -> u64 {
        let (mut r, mut i) = (1u64, 0);
        while i < e {
            r <<= 1;
            if r & (1 << 16) != 0 {
                r ^= P;
            }
            i += 1;
        }
        r
    }

    #[inline(always)]
    fn wide(word: u64) -> __m128i {
        // SAFETY: SSE2 is part of every x86_64 processor.
        unsafe { _mm_cvtsi64_si128(word as i64) }
    }

    /// [`crc16_open`] of a longer key: the first `len % 8` bytes first, then a step per eight.
    #[target_feature(enable = "pclmulqdq")]
    unsafe fn in_steps(bytes: &[u8]) -> (u16, bool) {
        let (head, rest) = bytes.split_at(bytes.len() % 8);
        let first = big_endian(head);
        let mut opens = open(first);
        let mut crc = if head.is_empty() { 0 } else { reduce(first) };
        for word in rest.chunks_exact(8) {
            let word = u64::from_be_bytes(word.try_into().expect("eight bytes"));
            opens |= open(word);
            crc = reduce(u64::from(crc) << 48 ^ word);
        }
        (crc, opens != 0)
    }
}

/// CRC16/XMODEM of what `crc` was computed over, followed by `bytes`.
fn crc16_on(mut crc: u16, bytes: &[u8]) -> u16 {
    let t = &CRC16;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        crc = t[7][usize::from((crc >> 8) as u8 ^ c[0])]
            ^ t[6][usize::from(crc as u8 ^ c[1])]
            ^ t[5][usize::from(c[2])]
            ^ t[4][usize::from(c[3])]
            ^ t[3][usize::from(c[4])]
            ^ t[2][usize::from(c[5])]
            ^ t[1][usize::from(c[6])]
            ^ t[0][usize::from(c[7])];
    }
    chunks.remainder().iter().fold(crc, |crc, &b| (crc << 8) ^ t[0][usize::from((crc >> 8) as u8 ^ b)])
}

/// The part of a key that is hashed: its hash tag, or the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = crate::format::scan::find(key, b'{') {
        if let Some(len) = crate::format::scan::find(&key[open + 1..], b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The cluster hash slot of `key`.
///
/// ```
/// assert_eq!(faina_filter::cluster::slot(b"foo"), 12182);
/// assert_eq!(faina_filter::cluster::slot(b"{user1}:x"), 8106);
/// ```
// Always inlined (a record per key calls it): the processor's test and the call of the
// carry-less CRC where it is called; the rarer ways are out of line.
#[inline(always)]
pub fn slot(key: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("pclmulqdq") {
        // SAFETY: the processor has the instruction `carryless::crc16_open` is compiled for.
        return match unsafe { carryless::crc16_open(key) } {
            (crc, false) => crc & (SLOTS - 1),
            (_, true) => slot_of_tag(key),
        };
    }
    slot_by_tables(key)
}

/// [`slot`] of a key with a `{`.
#[inline(never)]
fn slot_of_tag(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS - 1)
}

/// [`slot`] by the tables alone, where the processor has no carry-less multiplication.
#[inline(never)]
fn slot_by_tables(key: &[u8]) -> u16 {
    match crc16_without_tag(key) {
        Some(crc) => crc & (SLOTS - 1),
        None => crc16_on(0, hash_tag(key)) & (SLOTS - 1),
    }
}

/// CRC16/XMODEM of a key with no `{` (its own hash tag, then); `None` when it has one. A CRC
/// that starts at 0 is not moved by zero bytes in front, so the key is read as whole chunks of
/// eight, the first padded in front: its bytes are folded in by their tables alone,
/// independently (no byte-at-a-time tail).
#[inline]
fn crc16_without_tag(key: &[u8]) -> Option<u16> {
    if has_open(key) {
        return None;
    }
    let t = &CRC16;
    let (first, rest) = key.split_at(key.len() % 8);
    let mut crc = 0u16;
    for (k, &b) in (0..first.len()).rev().zip(first) {
        crc ^= t[k][usize::from(b)];
    }
    Some(crc16_on(crc, rest))
}

/// Nonzero when a byte of `word` is `{` (that byte of `v` is 0), whatever the bytes' order.
#[inline(always)]
fn open(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let v = word ^ (ONES * u64::from(b'{'));
    v.wrapping_sub(ONES) & !v & (ONES << 7)
}

/// True when `key` has a `{`: eight bytes at a time, the last eight overlapping the others.
#[inline]
fn has_open(key: &[u8]) -> bool {
    let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().expect("eight bytes"));
    if key.len() < 8 {
        return key.contains(&b'{');
    }
    let mut found = open(word(&key[key.len() - 8..]));
    for bytes in key.chunks_exact(8) {
        found |= open(word(bytes));
    }
    found != 0
}

/// [`slot`] of a key that arrives in pieces (an argument too long to hold whole).
#[derive(Debug, Clone, Default)]
pub struct SlotHasher {
    whole: u16,
    tag: u16,
    /// Where the hash tag is: not opened yet, opened (and its length so far), or closed.
    state: Tag,
}

#[derive(Debug, Clone, Copy, Default)]
enum Tag {
    #[default]
    NotOpened,
    Open(usize),
    Closed(usize),
}

impl SlotHasher {
    /// Adds the next piece of the key.
    pub fn write(&mut self, bytes: &[u8]) {
        self.whole = crc16_on(self.whole, bytes);
        let mut rest = bytes;
        if let Tag::NotOpened = self.state {
            match crate::format::scan::find(rest, b'{') {
                Some(at) => {
                    self.state = Tag::Open(0);
                    rest = &rest[at + 1..];
                }
                None => return,
            }
        }
        if let Tag::Open(len) = self.state {
            match crate::format::scan::find(rest, b'}') {
                Some(at) => {
                    self.tag = crc16_on(self.tag, &rest[..at]);
                    self.state = Tag::Closed(len + at);
                }
                None => {
                    self.tag = crc16_on(self.tag, rest);
                    self.state = Tag::Open(len + rest.len());
                }
            }
        }
    }

    /// The slot of everything written.
    pub fn finish(&self) -> u16 {
        match self.state {
            Tag::Closed(len) if len > 0 => self.tag & (SLOTS - 1),
            _ => self.whole & (SLOTS - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bytes_at_a_time_agree_with_one() {
        let one =
            |bytes: &[u8]| bytes.iter().fold(0u16, |crc, &b| (crc << 8) ^ CRC16[0][usize::from((crc >> 8) as u8 ^ b)]);
        let data: Vec<u8> = (0..=255u8).chain(0..=255u8).map(|b| b.wrapping_mul(37)).collect();
        for len in 0..data.len() {
            assert_eq!(crc16(&data[..len]), one(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn the_crc_of_this_processor_agrees_with_the_tables() {
        // By carry-less multiplication where the processor has it.
        let data: Vec<u8> = (0..=255u8).chain(0..=255u8).map(|b| b.wrapping_mul(91) ^ 0x5a).collect();
        let mut samples: Vec<Vec<u8>> = (0..data.len()).map(|len| data[..len].to_vec()).collect();
        samples.extend((0..=255u8).flat_map(|b| (1..=17).map(move |len| vec![b; len])));
        for bytes in samples {
            assert_eq!(crc16(&bytes), crc16_on(0, &bytes), "{bytes:?}");
        }
    }

    /// CRC16/XMODEM a bit at a time, as the Redis Cluster specification defines it.
    fn bitwise(bytes: &[u8]) -> u16 {
        bytes.iter().fold(0u16, |mut crc, &b| {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            }
            crc
        })
    }

    #[test]
    fn both_ways_to_a_slot_agree_with_the_crc_a_bit_at_a_time() {
        // This processor's way (carry-less multiplication where it has it) and the tables' way,
        // which other processors take, on keys of every length to 300 with a tag's braces
        // anywhere, against the definition.
        let by_definition = |key: &[u8]| bitwise(hash_tag(key)) & (SLOTS - 1);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || crate::testing::xorshift(&mut state);
        for round in 0..20_000u64 {
            let len = (next() % 301) as usize;
            let mut key: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len > 0 && round % 2 == 0 {
                let open = (next() % len as u64) as usize;
                key[open] = b'{';
                let close = open + (next() % (len - open) as u64) as usize;
                key[close] = b'}';
            }
            assert_eq!(bitwise(&key), crc16(&key), "{key:?}");
            assert_eq!(bitwise(&key), crc16_on(0, &key), "{key:?}");
            assert_eq!(by_definition(&key), slot(&key), "{key:?}");
            assert_eq!(by_definition(&key), slot_by_tables(&key), "{key:?}");
        }
    }

    #[test]
    fn slots_in_one_pass_agree_with_the_tag_then_the_crc() {
        // Every length up to 40, with and without `{`, `}` and a tag, at every position.
        let plain = |key: &[u8]| crc16(hash_tag(key)) & (SLOTS - 1);
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..=base.len() {
            let key = &base[..len];
            assert_eq!(slot(key), plain(key), "length {len}");
            for at in 0..len {
                for b in [b'{', b'}', 0, 0xff, b'{' ^ 0x80] {
                    let mut k = key.to_vec();
                    k[at] = b;
                    assert_eq!(slot(&k), plain(&k), "length {len}, {b:#x} at {at}");
                    if at + 2 < len {
                        k[at + 2] = b'}';
                        assert_eq!(slot(&k), plain(&k), "length {len}, {b:#x} at {at}, then a close");
                    }
                }
            }
        }
    }

    #[test]
    fn a_key_in_pieces_has_the_slot_of_the_whole() {
        let keys: [&[u8]; 8] =
            [b"foo", b"{user1}:x", b"{}x", b"a{}{b}", b"{{a}}", b"no}tag{", b"x{abc", b"pre{tag}post{x}"];
        for key in keys {
            for piece in 1..=key.len() {
                let mut h = SlotHasher::default();
                for chunk in key.chunks(piece) {
                    h.write(chunk);
                }
                assert_eq!(h.finish(), slot(key), "{} in pieces of {piece}", String::from_utf8_lossy(key));
            }
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
        for (key, want) in [
            (&b"foo"[..], 12182),
            (b"{user1}:x", 8106),
            (b"{}x", 10595),
            (b"a{}{b}", 15033),
            (b"{{a}}", 10276),
            (b"123456789", 12739),
        ] {
            assert_eq!(slot(key), want, "{}", String::from_utf8_lossy(key));
        }
        assert_eq!(hash_tag(b"{user1}:x"), b"user1");
        assert_eq!(hash_tag(b"a{}{b}"), b"a{}{b}");
        assert_eq!(hash_tag(b"{{a}}"), b"{a");
        assert_eq!(hash_tag(b"no}tag{"), b"no}tag{");
    }
}
