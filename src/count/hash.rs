//! Hashing of keys chosen by strangers, and the short-key words two caches compare by.
//!
//! [`hash_bytes`] is keyed by a key drawn at random once per run ([`run_key`]): its output
//! cannot be predicted without the key, so keys sent to the server cannot be aimed at one slot
//! of a table. Keys of up to [`SHORT_HASH`] bytes (most keys) are hashed by two or three
//! 64×64→128-bit multiplications of their words mixed with the key, folded; longer ones by
//! SipHash-1-3 (Aumasson and Bernstein), the hash std's `HashMap` uses against hash flooding.
//! [`KeyHasher`] gives the same hash for a key that arrives in pieces.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The key of the tables' hash, one per process so that tables counting the same keys can share
/// a hash. Keys come from whoever talks to the server; hashed under a random key, they cannot
/// be chosen to collide (see [`hash_bytes`]).
pub fn run_key() -> HashKey {
    static KEY: OnceLock<HashKey> = OnceLock::new();
    *KEY.get_or_init(|| {
        let random = RandomState::new();
        HashKey { k0: random.hash_one(0x5eed_u64), k1: random.hash_one(0xfa1a_u64) }
    })
}

/// The 128-bit key of [`hash_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashKey {
    pub k0: u64,
    pub k1: u64,
}

/// The hash of `bytes` under `key`: [`short_hash`] up to [`SHORT_HASH`] bytes, SipHash-1-3 past
/// it. Its output cannot be predicted without the key, so keys chosen by strangers spread over
/// the tables' slots like random ones, and a lookup probes a few slots whatever the keys
/// (`keys_built_to_collide_under_a_known_key_do_not_collide_under_the_runs` in `topk.rs`
/// measures it). [`KeyHasher`] computes the same hash from pieces.
#[inline]
pub fn hash_bytes(key: HashKey, bytes: &[u8]) -> u64 {
    if bytes.len() <= SHORT_HASH {
        short_hash(key, bytes)
    } else {
        sip::<1, 3>(key, bytes)
    }
}

/// Keys up to this long are hashed by [`short_hash`]: four words at most.
pub const SHORT_HASH: usize = 32;

/// Odd constants with bits spread evenly (from the digits of π and e), so that a word that is
/// zero after the key is mixed in still moves the product.
const MIX0: u64 = 0x243f_6a88_85a3_08d3;
const MIX1: u64 = 0xb7e1_5162_8aed_2a6b;

/// A 64×64-bit product folded to 64 bits: every bit of the result depends on every bit of both
/// factors.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

/// The hash of a key of up to [`SHORT_HASH`] bytes: its zero-padded words, each pair mixed with
/// two words of the run's key and multiplied, the length mixed in (so `a` and `a\0` differ),
/// folded once more. Without the run's key the products cannot be steered, which is what keeps
/// crafted keys from sharing a slot.
#[inline]
fn short_hash(key: HashKey, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let (a, b, c, d) = if len <= 16 {
        let (a, b) = words16(bytes);
        (a, b, 0, 0)
    } else {
        // The first sixteen bytes and the last sixteen, overlapping when fewer than 32.
        (word8(&bytes[..8]), word8(&bytes[8..16]), word8(&bytes[len - 16..len - 8]), word8(&bytes[len - 8..]))
    };
    let mut h = fold(a ^ key.k0, b ^ key.k1 ^ (len as u64).wrapping_mul(MIX0));
    if len > 16 {
        h ^= fold(c ^ key.k1.rotate_left(32) ^ MIX1, d ^ key.k0.rotate_left(32) ^ MIX0);
    }
    fold(h ^ key.k1, MIX1 ^ key.k0)
}

/// SipHash-c-d (Aumasson and Bernstein) of a whole message.
fn sip<const C: usize, const D: usize>(key: HashKey, bytes: &[u8]) -> u64 {
    let mut state = SipState::new(key);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        state.compress::<C>(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    state.finish::<C, D>(chunks.remainder(), bytes.len() as u64)
}

#[derive(Clone)]
struct SipState([u64; 4]);

impl SipState {
    fn new(key: HashKey) -> SipState {
        SipState([
            key.k0 ^ 0x736f_6d65_7073_6575,
            key.k1 ^ 0x646f_7261_6e64_6f6d,
            key.k0 ^ 0x6c79_6765_6e65_7261,
            key.k1 ^ 0x7465_6462_7974_6573,
        ])
    }

    #[inline(always)]
    fn round(&mut self) {
        let [v0, v1, v2, v3] = &mut self.0;
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }

    #[inline(always)]
    fn compress<const C: usize>(&mut self, m: u64) {
        self.0[3] ^= m;
        for _ in 0..C {
            self.round();
        }
        self.0[0] ^= m;
    }

    /// The last block (`tail`: fewer than eight bytes, and the message length) and finalization.
    #[inline(always)]
    fn finish<const C: usize, const D: usize>(mut self, tail: &[u8], len: u64) -> u64 {
        let mut last = len << 56;
        for (i, &b) in tail.iter().enumerate() {
            last |= u64::from(b) << (8 * i);
        }
        self.compress::<C>(last);
        self.0[2] ^= 0xff;
        for _ in 0..D {
            self.round();
        }
        self.0[0] ^ self.0[1] ^ self.0[2] ^ self.0[3]
    }
}

/// [`hash_bytes`] of a key that arrives in pieces (an argument too long to hold whole).
#[derive(Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct KeyHasher {
    key: HashKey,
    state: SipState,
    tail: [u8; 8],
    tail_len: usize,
    len: u64,
    /// The first [`SHORT_HASH`] bytes: a key no longer than that is hashed by [`short_hash`].
    head: [u8; SHORT_HASH],
}

#[cfg_attr(not(test), allow(dead_code))]
impl KeyHasher {
    pub fn new(key: HashKey) -> KeyHasher {
        KeyHasher { key, state: SipState::new(key), tail: [0; 8], tail_len: 0, len: 0, head: [0; SHORT_HASH] }
    }

    /// Adds the next piece of the key.
    pub fn write(&mut self, mut bytes: &[u8]) {
        if self.len < SHORT_HASH as u64 {
            let at = self.len as usize;
            let take = (SHORT_HASH - at).min(bytes.len());
            self.head[at..at + take].copy_from_slice(&bytes[..take]);
        }
        self.len += bytes.len() as u64;
        if self.tail_len > 0 {
            let take = (8 - self.tail_len).min(bytes.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&bytes[..take]);
            self.tail_len += take;
            bytes = &bytes[take..];
            if self.tail_len < 8 {
                return;
            }
            self.state.compress::<1>(u64::from_le_bytes(self.tail));
            self.tail_len = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.state.compress::<1>(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// The bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The hash of everything written.
    pub fn finish(&self) -> u64 {
        if self.len <= SHORT_HASH as u64 {
            return short_hash(self.key, &self.head[..self.len as usize]);
        }
        self.state.clone().finish::<1, 3>(&self.tail[..self.tail_len], self.len)
    }
}

/// The places in a cache of short keys (a power of two). A cache is direct-mapped: a few dozen
/// hot keys (a capture's client addresses, its command names) in 64 places would have a
/// quarter of them share a place with another and miss every other time; in 256, a few.
pub const SHORT_CACHE: usize = 256;

/// A key of up to 16 bytes as two words (zero-padded; the length tells `a` from `a\0`) and its
/// place in a [`SHORT_CACHE`]-entry cache of short keys; `None` for a longer key. The words are read from
/// the key in place, overlapping, with no copy into a padded buffer: this runs for every
/// client, command name and prefix.
#[inline]
pub fn short_key(key: &[u8]) -> Option<(u64, u64, usize)> {
    let len = key.len();
    if len > 16 {
        return None;
    }
    let (a, b) = words16(key);
    let mix = (a ^ b.rotate_left(23) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    Some((a, b, (mix >> (64 - SHORT_CACHE.trailing_zeros())) as usize))
}

/// A key of up to 16 bytes as two zero-padded words, read in place.
#[inline(always)]
fn words16(key: &[u8]) -> (u64, u64) {
    let len = key.len();
    match len {
        // The second word: the last eight bytes, shifted down past those the first one has.
        8..=16 => (word8(&key[..8]), word8(&key[len - 8..]).checked_shr(8 * (16 - len) as u32).unwrap_or(0)),
        // The first and last four bytes; where they overlap, they hold the same bytes.
        4..=7 => (u64::from(word4(&key[..4])) | u64::from(word4(&key[len - 4..])) << (8 * (len - 4)), 0),
        _ => (key.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b)), 0),
    }
}

/// Eight bytes (`bytes` is eight long) as a word.
#[inline(always)]
fn word8(bytes: &[u8]) -> u64 {
    u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

/// Four bytes (`bytes` is four long) as a word.
#[inline(always)]
fn word4(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(deprecated)]
    fn siphash_agrees_with_std() {
        use std::hash::Hasher;
        let bytes: Vec<u8> = (0..100u8).map(|b| b.wrapping_mul(37)).collect();
        for len in 0..bytes.len() {
            let m = &bytes[..len];
            let key = HashKey { k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908 };
            let mut std24 = std::hash::SipHasher::new_with_keys(key.k0, key.k1);
            std24.write(m);
            assert_eq!(sip::<2, 4>(key, m), std24.finish(), "SipHash-2-4, {len} bytes");
            // std's DefaultHasher is SipHash-1-3 under a zero key.
            let mut std13 = std::collections::hash_map::DefaultHasher::new();
            std13.write(m);
            assert_eq!(sip::<1, 3>(HashKey { k0: 0, k1: 0 }, m), std13.finish(), "SipHash-1-3, {len} bytes");
            if len > SHORT_HASH {
                assert_eq!(hash_bytes(HashKey { k0: 0, k1: 0 }, m), std13.finish(), "past the short keys, SipHash");
            }
        }
        // The reference vector of the SipHash paper: 15 bytes 00..0e under the key 00..0f.
        let m: Vec<u8> = (0..15).collect();
        let key = HashKey { k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908 };
        assert_eq!(sip::<2, 4>(key, &m), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn short_keys_are_their_zero_padded_words() {
        // Every length, bytes that differ everywhere (zero and 0xff among them).
        for len in 0..=16 {
            for seed in 0..=255u8 {
                let key: Vec<u8> =
                    (0..len as u8).map(|i| seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(97))).collect();
                let mut padded = [0u8; 16];
                padded[..len].copy_from_slice(&key);
                let a = u64::from_le_bytes(padded[..8].try_into().unwrap());
                let b = u64::from_le_bytes(padded[8..].try_into().unwrap());
                let (ka, kb, at) = short_key(&key).expect("a short key");
                assert_eq!((ka, kb), (a, b), "{key:?}");
                assert!(at < SHORT_CACHE);
            }
        }
        assert_eq!(short_key(&[b'x'; 17]), None);
    }

    #[test]
    fn a_key_hashed_in_pieces_hashes_as_a_whole() {
        let key = run_key();
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 7, 8, 9, 16, 17, 31, 32, 33, 64, 299] {
            let whole = hash_bytes(key, &bytes[..len]);
            for piece in [1, 3, 8, 13, 100] {
                let mut h = KeyHasher::new(key);
                for chunk in bytes[..len].chunks(piece) {
                    h.write(chunk);
                }
                assert_eq!((h.finish(), h.len()), (whole, len as u64), "{len} bytes in pieces of {piece}");
            }
        }
    }

    #[test]
    fn short_keys_hash_apart_and_by_the_run_key() {
        // Keys a capture has (numbered keys of every short length, every key of up to two
        // bytes, the zero padding's look-alikes): no two share a 64-bit hash, and under another
        // run's key each has another hash.
        let key = HashKey { k0: 0x1234_5678_9abc_def1, k1: 0x0fed_cba9_8765_4321 };
        let other = HashKey { k0: key.k0 ^ 1, k1: key.k1 };
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for i in 0..60_000u32 {
            let k = format!("user:{i}:profile:{}", i % 7).into_bytes();
            keys.push(k[..k.len().min(SHORT_HASH)].to_vec());
            keys.push(format!("{i}").into_bytes());
            keys.push(format!("session:{i:08}").into_bytes());
        }
        for a in 0..=255u8 {
            keys.push(vec![a]);
            for b in 0..=255u8 {
                keys.push(vec![a, b]);
            }
        }
        for n in 0..=SHORT_HASH {
            keys.push(vec![0; n]);
            keys.push(vec![b'a'; n]);
        }
        keys.sort();
        keys.dedup();
        let mut hashes: Vec<u64> = keys.iter().map(|k| hash_bytes(key, k)).collect();
        let moved = keys.iter().zip(&hashes).filter(|(k, &h)| hash_bytes(other, k) != h).count();
        assert_eq!(moved, keys.len(), "another run's key moves every hash");
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len(), "no two short keys share a hash");
        // The upper half, which places a key in a table, takes its 16 low bits evenly.
        let mut buckets = vec![0u32; 1 << 16];
        for k in &keys {
            buckets[(hash_bytes(key, k) >> 32) as usize & 0xffff] += 1;
        }
        let mean = keys.len() as f64 / buckets.len() as f64;
        let worst = f64::from(*buckets.iter().max().unwrap_or(&0));
        assert!(worst < mean + 12.0 * mean.sqrt() + 4.0, "worst bucket {worst}, mean {mean:.1}");
    }
}
