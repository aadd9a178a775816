//! How a top-k table stores its keys: short ones inside their entry, long ones on the heap
//! within a byte budget, the longest by their head.
//!
//! A key of up to [`INLINE`] bytes costs no allocation. Longer keys share a budget of
//! [`LONG_KEY_BYTES_PER_ENTRY`] bytes per entry ([`KeyStore`]); past it a key is kept by its
//! head (its entry keeps its whole length and hash, which still tell it apart), so memory stays
//! bounded however long the keys are. No key is stored longer than [`MAX_STORED_KEY`].

/// Keys longer than this are stored by their head, their length and a hash of the whole.
pub const MAX_STORED_KEY: usize = 512;

/// Keys up to this long are stored inside their entry: no allocation, and the bytes sit in the
/// same cache lines as the counts.
pub const INLINE: usize = 30;

/// Bytes per entry a table may spend on keys longer than [`INLINE`]. Past that budget a long key
/// is kept by its head (and its length and hash, which still tell it apart), until evictions
/// free room: memory stays bounded however long the keys are, and a key still counted when
/// room comes back gets its whole name again at its next access.
const LONG_KEY_BYTES_PER_ENTRY: usize = 32;

/// A stored key.
#[derive(Debug, Clone)]
pub enum KeyBuf {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl KeyBuf {
    #[inline]
    fn new(key: &[u8]) -> KeyBuf {
        if key.len() <= INLINE {
            let mut bytes = [0; INLINE];
            copy_short(&mut bytes, key);
            KeyBuf::Inline { len: key.len() as u8, bytes }
        } else {
            KeyBuf::Heap(key.into())
        }
    }

    /// Heap bytes it holds (with the allocator's overhead, roughly).
    #[inline]
    fn heap_size(&self) -> usize {
        match self {
            KeyBuf::Inline { .. } => 0,
            KeyBuf::Heap(b) => b.len() + 16,
        }
    }

    /// True when `stored` starts with this key (is it, for a key stored whole). Inlined into
    /// the probe loop: a call there costs the loop its registers.
    #[inline(always)]
    pub fn is_head_of(&self, stored: &[u8]) -> bool {
        match self {
            KeyBuf::Inline { len, bytes } => {
                let n = usize::from(*len);
                n <= stored.len() && same_short(&bytes[..n], &stored[..n])
            }
            KeyBuf::Heap(b) => stored.starts_with(b),
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            KeyBuf::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBuf::Heap(b) => b,
        }
    }
}

/// Copies `src` (at most [`INLINE`] bytes) to the start of `dst` in at most two fixed-size
/// moves, overlapping in the middle (a call to `memcpy` costs more than the copy at this size).
#[inline]
pub fn copy_short(dst: &mut [u8; INLINE], src: &[u8]) {
    let n = src.len();
    assert!(n <= INLINE);
    if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        // The first, middle and last bytes: all of them when there are at most three.
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/// `a == b` for two slices of the same length, at most [`INLINE`]: at most two pairs of
/// fixed-size words, overlapping in the middle (a call to `memcmp` costs more at this size).
#[inline(always)]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    assert!(n == b.len() && n <= INLINE);
    fn word<const N: usize>(s: &[u8]) -> [u8; N] {
        s[..N].try_into().expect("N bytes")
    }
    if n >= 16 {
        let (a0, a1) = (u128::from_ne_bytes(word(a)), u128::from_ne_bytes(word(&a[n - 16..])));
        let (b0, b1) = (u128::from_ne_bytes(word(b)), u128::from_ne_bytes(word(&b[n - 16..])));
        (a0 ^ b0) | (a1 ^ b1) == 0
    } else if n >= 8 {
        let (a0, a1) = (u64::from_ne_bytes(word(a)), u64::from_ne_bytes(word(&a[n - 8..])));
        let (b0, b1) = (u64::from_ne_bytes(word(b)), u64::from_ne_bytes(word(&b[n - 8..])));
        (a0 ^ b0) | (a1 ^ b1) == 0
    } else if n >= 4 {
        let (a0, a1) = (u32::from_ne_bytes(word(a)), u32::from_ne_bytes(word(&a[n - 4..])));
        let (b0, b1) = (u32::from_ne_bytes(word(b)), u32::from_ne_bytes(word(&b[n - 4..])));
        (a0 ^ b0) | (a1 ^ b1) == 0
    } else {
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    }
}

/// The long-key budget of one table: heap bytes held by long keys, and the most they may take.
#[derive(Debug, Clone)]
pub struct KeyStore {
    long_keys: usize,
    budget: usize,
}

impl KeyStore {
    /// The budget of a table of `capacity` entries (room for one longest key at least).
    pub fn new(capacity: usize) -> KeyStore {
        KeyStore { long_keys: 0, budget: (capacity.max(1) * LONG_KEY_BYTES_PER_ENTRY).max(MAX_STORED_KEY + 16) }
    }

    /// The stored form of a new entry's key: whole while the budget lasts, else its head. A key
    /// taking an evicted one's place (the light end of a table that churns) may use only half
    /// the budget: the rest is kept for keys that turn out heavy (see [`KeyStore::restore`]).
    #[inline]
    pub fn keep(&mut self, stored: &[u8], evicting: bool) -> KeyBuf {
        let budget = if evicting { self.budget / 2 } else { self.budget };
        if stored.len() > INLINE && self.long_keys + stored.len() + 16 > budget {
            return KeyBuf::new(&stored[..INLINE]);
        }
        let key = KeyBuf::new(stored);
        self.long_keys += key.heap_size();
        key
    }

    /// Heap bytes held by long keys, and the most they may take.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        (self.long_keys, self.budget)
    }

    /// Stores `stored` in place of `key` (see [`KeyStore::keep`]).
    #[inline]
    pub fn rename(&mut self, key: &mut KeyBuf, stored: &[u8], evicting: bool) {
        if let KeyBuf::Inline { len, bytes } = key {
            // Short for short (most evictions): the bytes are overwritten where they are. The
            // old key's bytes past the new length stay; nothing reads past `len`.
            if stored.len() <= INLINE {
                copy_short(bytes, stored);
                *len = stored.len() as u8;
                return;
            }
        }
        self.long_keys -= key.heap_size();
        *key = self.keep(stored, evicting);
    }

    /// Gives a key kept by its head its whole bytes `stored` again, if the budget has room now.
    #[cold]
    pub fn restore(&mut self, key: &mut KeyBuf, stored: &[u8]) {
        if self.long_keys + stored.len() + 16 <= self.budget {
            self.rename(key, stored, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_copies_are_plain_copies() {
        let src: Vec<u8> = (1..=INLINE as u8).collect();
        for n in 0..=INLINE {
            let mut fast = [0xee; INLINE];
            copy_short(&mut fast, &src[..n]);
            let mut plain = [0xee; INLINE];
            plain[..n].copy_from_slice(&src[..n]);
            assert_eq!(fast, plain, "{n} bytes");
        }
    }

    #[test]
    fn short_compares_are_plain_compares() {
        // Every length, equal and differing in each one byte.
        let a: Vec<u8> = (1..=INLINE as u8).collect();
        for n in 0..=INLINE {
            assert!(same_short(&a[..n], &a[..n]));
            for at in 0..n {
                let mut b = a[..n].to_vec();
                b[at] ^= 0x20;
                assert!(!same_short(&a[..n], &b), "{n} bytes, differing at {at}");
            }
        }
        let key = KeyBuf::new(b"user:1");
        assert!(key.is_head_of(b"user:1") && key.is_head_of(b"user:12"));
        assert!(!key.is_head_of(b"user:") && !key.is_head_of(b"user:2"));
        let long = KeyBuf::new(&[b'l'; 40]);
        assert!(long.is_head_of(&[b'l'; 41]) && !long.is_head_of(&[b'l'; 39]));
    }

    #[test]
    fn renamed_keys_hold_exactly_the_new_bytes() {
        // Shorter, longer, long and back: what is stored is the new key, and the budget is kept.
        let mut store = KeyStore::new(10);
        let mut key = store.keep(b"a-key-of-twenty-bytes", true);
        for next in [&b"short"[..], b"", b"exactly-thirty-bytes-long-key!", &[b'x'; 31], b"k:1", &[b'y'; 200], b"z"] {
            store.rename(&mut key, next, false);
            assert_eq!(key.as_slice(), next);
            assert_eq!(store.held().0, key.heap_size());
        }
    }
}
