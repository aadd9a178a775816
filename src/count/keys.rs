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
            bytes[..key.len()].copy_from_slice(key);
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

    pub fn as_slice(&self) -> &[u8] {
        match self {
            KeyBuf::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBuf::Heap(b) => b,
        }
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
