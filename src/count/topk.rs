//! A bounded table of the heaviest byte strings, with counts that bracket the truth.
//!
//! [`TopK`] counts exactly while its distinct keys fit its capacity; past that it becomes a
//! Space-Saving summary (Metwally et al.): a new key takes the place of the smallest count and
//! inherits it as its error. Every key whose true count exceeds total/capacity is kept, and each
//! kept count brackets the truth: `count - error <= true <= count`; a key not kept counted at most
//! the table's floor, which is what lets merged tables (periods, threads) keep the same bounds.
//! Its parts: the keys' storage ([`crate::count::keys`]), the hash index
//! ([`crate::count::index`]) and the eviction candidates ([`crate::count::evict`]).

use crate::count::evict::{Candidates, Counted};
use crate::count::hash::{hash_bytes, run_key, short_key, HashKey};
use crate::count::index::SlotIndex;
use crate::count::keys::{KeyBuf, KeyStore, MAX_STORED_KEY};
use crate::count::prefetch::prefetch_all;

/// One counted key.
#[derive(Debug, Clone)]
pub struct Entry<E> {
    key: KeyBuf,
    /// The whole key's length (longer than `key` when the key was too long to keep whole).
    pub full_len: u64,
    hash: u64,
    /// The count (an upper bound when `error > 0`).
    pub count: u64,
    /// How much of `count` may belong to keys that were evicted before this one came in.
    pub error: u64,
    /// Extra per-key tallies kept by the caller; they start at their default when a key enters.
    pub extra: E,
}

impl<E> Counted for Entry<E> {
    #[inline]
    fn count(&self) -> u64 {
        self.count
    }

    #[inline]
    fn hint(&self) -> u32 {
        (self.hash >> 32) as u32
    }
}

impl<E> Entry<E> {
    /// The stored key: the whole key, or its first [`MAX_STORED_KEY`] bytes.
    pub fn key(&self) -> &[u8] {
        self.key.as_slice()
    }

    /// The hash the table keeps the key by (of the whole key, for a key only partly stored).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// True when only the head of a longer key is stored.
    pub fn is_cut(&self) -> bool {
        self.full_len > self.key().len() as u64
    }
}

/// A bounded table of the heaviest byte strings.
pub struct TopK<E = ()> {
    entries: Vec<Entry<E>>,
    /// Where each key's entry is.
    index: SlotIndex,
    capacity: usize,
    /// Once the table is full, the entries to evict first.
    candidates: Candidates,
    /// Where recently added short keys are (see [`TopK::add_short`]): (the key's bytes as two
    /// words, its length, entry index); empty until first used.
    recent: Vec<(u64, u64, u32, u32)>,
    /// The long keys' budget.
    store: KeyStore,
    total: u64,
    /// The most any key that is not kept may have counted: the largest count evicted or left
    /// out (0 while every key is kept).
    floor: u64,
    key: HashKey,
}

impl<E: Default> TopK<E> {
    /// A table that keeps at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> TopK<E> {
        TopK::with_key(capacity, run_key())
    }

    /// A table hashing with `key` (tests: a key an attacker would know).
    fn with_key(capacity: usize, key: HashKey) -> TopK<E> {
        TopK {
            entries: Vec::new(),
            index: SlotIndex::new(),
            capacity: capacity.max(1),
            candidates: Candidates::new(),
            recent: Vec::new(),
            store: KeyStore::new(capacity),
            total: 0,
            floor: 0,
            key,
        }
    }

    /// Adds `weight` to `key` and returns its extra tallies.
    pub fn add(&mut self, key: &[u8], weight: u64) -> &mut E {
        let hash = self.hash(key);
        self.add_hashed(key, hash, weight)
    }

    /// [`TopK::add`] for tables of few, short, often repeated keys (prefixes, clients): a key
    /// of up to 16 bytes added before is found by its bytes in a small cache, without hashing
    /// or probing.
    #[inline]
    pub fn add_short(&mut self, key: &[u8], weight: u64) {
        if let Some((a, b, at)) = short_key(key) {
            if let Some(&(ra, rb, len, idx)) = self.recent.get(at) {
                if (ra, rb, len) == (a, b, key.len() as u32) {
                    self.total += weight;
                    self.entries[idx as usize].count += weight;
                    return;
                }
            }
        }
        self.add_short_missed(key, weight);
    }

    /// [`TopK::add_short`] of a key the cache does not have: counted by its hash, and its place
    /// cached (kept out of line: the hit above is what runs for most lines).
    #[inline(never)]
    fn add_short_missed(&mut self, key: &[u8], weight: u64) {
        let Some((a, b, at)) = short_key(key) else {
            self.add(key, weight);
            return;
        };
        if self.recent.is_empty() {
            self.recent = vec![(0, 0, u32::MAX, 0); crate::count::hash::SHORT_CACHE];
            // Its hits above count without telling the candidates.
            self.candidates.inexact();
        }
        let hash = self.hash(key);
        self.total += weight;
        let idx = self.add_stored_at(key, key.len() as u64, hash, weight, 0);
        self.recent[at] = (a, b, key.len() as u32, idx as u32);
    }

    /// Forgets the cached place of the key in entry `idx` (it is about to hold another).
    fn forget_recent(&mut self, idx: usize) {
        if self.recent.is_empty() {
            return;
        }
        if let Some((_, _, at)) = short_key(self.entries[idx].key()) {
            if self.recent[at].3 as usize == idx {
                self.recent[at].2 = u32::MAX;
            }
        }
    }

    /// The hash [`TopK::add_hashed`] takes: the same for every table of the process.
    pub fn hash(&self, key: &[u8]) -> u64 {
        hash_bytes(self.key, key)
    }

    /// [`TopK::add`] with the key's hash already at hand (from [`TopK::hash`] of any table).
    pub fn add_hashed(&mut self, key: &[u8], hash: u64, weight: u64) -> &mut E {
        self.add_whole(key, key.len() as u64, hash, weight)
    }

    /// [`TopK::add_hashed`] for a key of `full_len` bytes of which `key` is the first (at least
    /// [`MAX_STORED_KEY`] when it is not all); `hash` is the whole key's.
    pub fn add_whole(&mut self, key: &[u8], full_len: u64, hash: u64, weight: u64) -> &mut E {
        self.total += weight;
        let stored = &key[..key.len().min(MAX_STORED_KEY)];
        self.add_stored(stored, full_len, hash, weight, 0)
    }

    /// Adds every entry of `other` (another table of the same kind, such as the same counts for
    /// another period) to this one; `combine` adds the extra tallies.
    ///
    /// The bounds hold for the sum: a key one table lacks may have had up to that table's
    /// [`TopK::floor`] there, which goes into its count and error. When the union does not fit,
    /// the heaviest keys stay and the floor rises to the heaviest one left out.
    pub fn merge(&mut self, other: &TopK<E>, combine: impl Fn(&mut E, &E)) {
        let (mine, theirs) = (self.floor, other.floor);
        if theirs > 0 {
            // Until found in `other`, every key here may have had up to its floor there.
            for e in &mut self.entries {
                e.count += theirs;
                e.error += theirs;
            }
        }
        // Room at once for as many entries as the union may have (within the capacity), rather
        // than growing the entries and the index step by step as they come.
        let room = (self.entries.len() + other.entries.len()).min(self.capacity);
        if room > self.entries.capacity() {
            // Doubling at least (many small merges, a window's periods, grow as pushes do).
            let target = room.max(2 * self.entries.capacity()).min(self.capacity);
            self.entries.reserve_exact(target - self.entries.len());
        }
        self.index.make_room(room, self.entries.iter().map(|e| e.hash));
        // Keys of `other` with no room here: (index in `other`, count, error), kept small so a
        // merge of two full tables needs little more memory than the tables.
        let mut overflow: Vec<(u32, u64, u64)> = Vec::new();
        for (at, e) in other.entries.iter().enumerate() {
            let hash = self.hash_of(other, e);
            match self.find_or_vacant(e.key(), e.full_len, hash) {
                Ok(idx) => {
                    let x = &mut self.entries[idx];
                    x.count = x.count - theirs + e.count;
                    x.error = x.error - theirs + e.error;
                    combine(&mut x.extra, &e.extra);
                    if x.key().len() < e.key().len() {
                        self.store.restore(&mut self.entries[idx].key, e.key());
                    }
                }
                Err(vacant) if self.entries.len() < self.capacity => {
                    let idx = self.push_entry(e.key(), e.full_len, hash, mine + e.count, mine + e.error, vacant);
                    combine(&mut self.entries[idx].extra, &e.extra);
                }
                Err(_) => overflow.push((at as u32, mine + e.count, mine + e.error)),
            }
        }
        self.floor = mine + theirs;
        self.total += other.total;
        self.candidates.recount();
        if !overflow.is_empty() {
            self.keep_heaviest(other, overflow, combine);
        }
    }

    /// The table is full and `more` keys of `other` (index, count, error) did not fit: the
    /// heaviest `capacity` of both stay, and the floor rises to the heaviest count left out.
    fn keep_heaviest(&mut self, other: &TopK<E>, mut more: Vec<(u32, u64, u64)>, combine: impl Fn(&mut E, &E)) {
        // The smallest count that can stay: the capacity-th largest of all. Only entries at or
        // below it may make room, lightest first, for newcomers heavier than them, heaviest first.
        let mut counts: Vec<u64> = self.entries.iter().map(|e| e.count).chain(more.iter().map(|m| m.1)).collect();
        let cut = counts.len() - self.capacity;
        let (_, &mut least, _) = counts.select_nth_unstable(cut);
        drop(counts);
        let mut light: Vec<(u64, u32)> =
            (0..).zip(&self.entries).filter(|(_, e)| e.count <= least).map(|(i, e)| (e.count, i)).collect();
        light.sort_unstable();
        more.sort_unstable_by_key(|m| std::cmp::Reverse(m.1));
        let mut dropped = 0;
        let mut placed = 0;
        for (&(at, count, error), &(light_count, idx)) in more.iter().zip(&light) {
            if count <= light_count {
                break;
            }
            dropped = dropped.max(light_count);
            let e = &other.entries[at as usize];
            let idx = idx as usize;
            self.store.rename(&mut self.entries[idx].key, e.key(), false);
            let hash = self.hash_of(other, e);
            let entry = &mut self.entries[idx];
            entry.full_len = e.full_len;
            entry.hash = hash;
            entry.count = count;
            entry.error = error;
            entry.extra = E::default();
            combine(&mut entry.extra, &e.extra);
            placed += 1;
        }
        if let Some(&(_, count, _)) = more.get(placed) {
            dropped = dropped.max(count);
        }
        self.floor = self.floor.max(dropped);
        self.recent.clear();
        self.index.rebuild(self.entries.iter().map(|e| e.hash));
        self.candidates.clear();
    }

    /// Adds a new entry (the table has room) and returns its index; `vacant` is the index slot
    /// [`TopK::find_or_vacant`] of its key gave, where it goes unless the index grows first.
    fn push_entry(&mut self, stored: &[u8], full_len: u64, hash: u64, count: u64, error: u64, vacant: usize) -> usize {
        let key = self.store.keep(stored, false);
        self.reserve_one();
        self.entries.push(Entry { key, full_len, hash, count, error, extra: E::default() });
        let idx = self.entries.len() - 1;
        // Keeps the slots at most half full.
        if self.index.is_too_full_for(self.entries.len()) {
            self.index.grow(self.entries.iter().map(|e| e.hash));
        } else {
            self.index.insert_at(vacant, hash, idx);
        }
        idx
    }

    /// Accounts for `count` more of a key that is not kept (a summary that drops its tail).
    pub fn leave_out(&mut self, count: u64) {
        self.total += count;
        self.floor = self.floor.max(count);
    }

    /// This table's hash of an entry of `other`.
    fn hash_of(&self, other: &TopK<E>, e: &Entry<E>) -> u64 {
        if self.key == other.key {
            e.hash
        } else if e.is_cut() {
            // Only the head is stored: the whole key's hash cannot be recomputed.
            e.hash ^ self.key.k0
        } else {
            hash_bytes(self.key, e.key())
        }
    }

    fn add_stored(&mut self, stored: &[u8], full_len: u64, hash: u64, weight: u64, error: u64) -> &mut E {
        let idx = self.add_stored_at(stored, full_len, hash, weight, error);
        &mut self.entries[idx].extra
    }

    /// [`TopK::add_stored`], returning the entry's index.
    fn add_stored_at(&mut self, stored: &[u8], full_len: u64, hash: u64, weight: u64, error: u64) -> usize {
        match self.find_or_vacant(stored, full_len, hash) {
            Ok(idx) => {
                self.entries[idx].count += weight;
                self.candidates.counted(idx, self.entries[idx].count);
                self.entries[idx].error += error;
                if self.entries[idx].key().len() < stored.len() {
                    self.store.restore(&mut self.entries[idx].key, stored);
                }
                idx
            }
            Err(vacant) if self.entries.len() < self.capacity => {
                // A key that is not here had at most the floor (0 unless counts were merged in).
                self.push_entry(stored, full_len, hash, self.floor + weight, self.floor + error, vacant)
            }
            Err(vacant) => {
                // Space-Saving: the smallest count makes way and becomes the newcomer's error.
                let idx = self.candidates.true_minimum(&self.entries);
                self.forget_recent(idx);
                // The newcomer's slot first, where the search ended: the removal may move it.
                self.index.insert_at(vacant, hash, idx);
                self.index.remove(self.entries[idx].hash, idx);
                let min = self.entries[idx].count;
                self.floor = self.floor.max(min);
                self.store.rename(&mut self.entries[idx].key, stored, true);
                let entry = &mut self.entries[idx];
                entry.full_len = full_len;
                entry.hash = hash;
                entry.count = min + weight;
                entry.error = min + error;
                entry.extra = E::default();
                // The victim is the candidates' top: it goes, or stays with its new count.
                self.candidates.top_counts(min + weight, (hash >> 32) as u32);
                // Most likely the next victim: its entry and its index slot are read first at
                // the next eviction.
                if let Some((next, hint)) = self.candidates.next() {
                    if let Some(e) = self.entries.get(next) {
                        prefetch_all(e);
                    }
                    if let Some(hint) = hint {
                        self.index.prefetch(u64::from(hint) << 32);
                    }
                }
                idx
            }
        }
    }
}

impl<E> TopK<E> {
    /// The sum of all weights added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The most keys it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of keys kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True once keys have been evicted: counts may be upper bounds.
    #[cfg(test)]
    pub fn is_approximate(&self) -> bool {
        self.floor > 0 || self.entries.iter().any(|e| e.error > 0)
    }

    /// The most any key that is not in the table may have counted.
    #[cfg(test)]
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// The `n` heaviest entries, heaviest first; ties by key, so reports are reproducible.
    pub fn top(&self, n: usize) -> Vec<&Entry<E>> {
        let mut all: Vec<&Entry<E>> = self.entries.iter().collect();
        let order = |a: &&Entry<E>, b: &&Entry<E>| b.count.cmp(&a.count).then_with(|| a.key().cmp(b.key()));
        if n < all.len() {
            all.select_nth_unstable_by(n, order);
            all.truncate(n);
        }
        all.sort_unstable_by(order);
        all
    }

    /// The count of the key of `entry` (an entry of a table of the same run) in this table; 0
    /// when this table does not keep it.
    pub fn count_of<F>(&self, entry: &Entry<F>) -> u64 {
        self.find(entry.key(), entry.full_len, entry.hash).map_or(0, |i| self.entries[i].count)
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> &[Entry<E>] {
        &self.entries
    }

    /// Room for one more entry: doubling, but never past the capacity (a full table holds no
    /// spare room).
    fn reserve_one(&mut self) {
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact(self.entries.len().max(16).min(self.capacity - self.entries.len()));
        }
    }

    /// Starts loading the index slot a lookup of `hash` reads first.
    #[inline]
    pub fn prefetch_slot(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Starts loading the entry the home slot of `hash` points to (when it is the key's, as it
    /// mostly is at this load).
    #[inline]
    pub fn prefetch_entry(&self, hash: u64) {
        if let Some(e) = self.index.likely_entry(hash).and_then(|idx| self.entries.get(idx)) {
            prefetch_all(e);
        }
    }

    /// The entry of the key whose stored bytes are `stored`.
    fn find(&self, stored: &[u8], full_len: u64, hash: u64) -> Option<usize> {
        self.find_or_vacant(stored, full_len, hash).ok()
    }

    /// The entry of the key whose stored bytes are `stored`, or the index slot where a new
    /// entry of it goes (kept out of line: one copy of the probe loop per table type, called
    /// from every kind of add).
    #[inline(never)]
    fn find_or_vacant(&self, stored: &[u8], full_len: u64, hash: u64) -> Result<usize, usize> {
        self.index.find(hash, |idx| {
            let e = &self.entries[idx];
            // A key kept by its head (see `KeyStore`) matches on its head, either way round: an
            // entry kept by its head matches the whole name, and (in a merge, where the other
            // table may have kept less of it) an entry kept whole matches the head.
            e.hash == hash && e.full_len == full_len && (e.key.is_head_of(stored) || Self::holds_head(e, stored))
        })
    }

    /// True when `stored` is the head of a longer key and `e` keeps the key past it.
    #[cold]
    #[inline(never)]
    fn holds_head(e: &Entry<E>, stored: &[u8]) -> bool {
        (stored.len() as u64) < e.full_len && e.key().starts_with(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::keys::INLINE;
    use bstr::ByteSlice;
    use std::collections::HashMap;

    #[test]
    fn keys_built_to_collide_under_a_known_key_do_not_collide_under_the_runs() {
        // An attacker who knew the hash key would send keys whose home slots all fall in a
        // sliver of the table: every lookup then walks one long run. Build 20 000 such keys for
        // a known key, and compare the slots looked at per lookup with those of ordinary keys.
        const N: usize = 20_000;
        let known = HashKey { k0: 1, k1: 2 };
        let table_bits = (2 * N).next_power_of_two().trailing_zeros() + 1;
        let mut crafted = Vec::with_capacity(N);
        let mut i: u64 = 0;
        while crafted.len() < N {
            let key = format!("user:{i}").into_bytes();
            i += 1;
            // Home slots in the first 1/64 of the table.
            if (hash_bytes(known, &key) >> 32) & ((1 << table_bits) - 1) < (1 << (table_bits - 6)) {
                crafted.push(key);
            }
        }
        let ordinary: Vec<Vec<u8>> = (0..N).map(|i| format!("user:{}", i * 7919 + 13).into_bytes()).collect();
        let probes_per_lookup = |keys: &[Vec<u8>], key: HashKey| {
            let mut t: TopK = TopK::with_key(2 * N, key);
            for _ in 0..3 {
                for k in keys {
                    t.add(k, 1);
                }
            }
            assert_eq!(t.len(), N);
            t.index.probes.get() as f64 / (3 * N) as f64
        };
        let attacked = probes_per_lookup(&crafted, known);
        let baseline = probes_per_lookup(&ordinary, known);
        assert!(attacked > 50.0 * baseline, "the attack works on a known key: {attacked} vs {baseline}");
        eprintln!("slots per lookup under a known key: crafted keys {attacked:.1}, ordinary keys {baseline:.2}");
        let defended = probes_per_lookup(&crafted, run_key());
        let baseline = probes_per_lookup(&ordinary, run_key());
        eprintln!("slots per lookup under the run's key: crafted keys {defended:.2}, ordinary keys {baseline:.2}");
        assert!(defended < 2.0 * baseline, "under the run's key: {defended} vs {baseline} slots per lookup");
    }

    #[test]
    fn exact_while_it_fits() {
        let mut t: TopK = TopK::new(100);
        for (k, n) in [(&b"a"[..], 5), (b"b", 3), (b"c", 9), (b"", 1)] {
            for _ in 0..n {
                t.add(k, 1);
            }
        }
        let top: Vec<(&[u8], u64, u64)> = t.top(10).iter().map(|e| (e.key(), e.count, e.error)).collect();
        assert_eq!(top, vec![(&b"c"[..], 9, 0), (b"a", 5, 0), (b"b", 3, 0), (b"", 1, 0)]);
        assert_eq!(t.total(), 18);
        assert!(!t.is_approximate());
        assert_eq!(t.top(2).len(), 2);
    }

    #[test]
    fn space_saving_brackets_every_count() {
        // A skewed stream over 5000 keys through 200 counters.
        let mut t: TopK = TopK::new(200);
        let mut truth: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut x: u64 = 12345;
        for _ in 0..200_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (x >> 33) % 1000;
            let k = if r < 500 { r % 10 } else { 10 + (x >> 20) % 5000 };
            let key = format!("key:{k}").into_bytes();
            *truth.entry(key.clone()).or_default() += 1;
            t.add(&key, 1);
        }
        assert_eq!(t.len(), 200);
        assert!(t.is_approximate());
        let n = t.total();
        for e in t.entries() {
            let real = truth[e.key()];
            assert!(e.count - e.error <= real && real <= e.count, "{:?}", String::from_utf8_lossy(e.key()));
        }
        // Every key heavier than N/m is kept.
        for (k, &c) in &truth {
            if c > n / 200 {
                assert!(t.entries().iter().any(|e| e.key() == k.as_slice()));
            }
        }
        let top: Vec<&[u8]> = t.top(10).iter().map(|e| e.key()).collect();
        let mut want: Vec<(&Vec<u8>, &u64)> = truth.iter().collect();
        want.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let want: Vec<&[u8]> = want.iter().take(10).map(|(k, _)| k.as_slice()).collect();
        let mut top_sorted = top.clone();
        top_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(top_sorted, want_sorted);
    }

    #[test]
    fn short_keys_from_the_cache_count_as_the_table_does() {
        // Two tables fed the same stream, one through the cache of short keys: same entries.
        let (mut plain, mut cached): (TopK, TopK) = (TopK::new(50), TopK::new(50));
        let mut x: u64 = 7;
        for _ in 0..100_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (x >> 33) % 1000;
            let key = match r {
                0..=599 => format!("p{}:", r % 20).into_bytes(),
                600..=899 => format!("k{}", (x >> 20) % 300).into_bytes(),
                // Up to 16 bytes, NUL padding that must not match the shorter key, longer keys.
                900..=949 => vec![b'a', 0, 0][..1 + (r % 3) as usize].to_vec(),
                _ => format!("longer-than-sixteen:{}", r % 7).into_bytes(),
            };
            plain.add(&key, 1);
            cached.add_short(&key, 1);
        }
        let view = |t: &TopK| {
            let mut all: Vec<(Vec<u8>, u64, u64)> =
                t.entries().iter().map(|e| (e.key().to_vec(), e.count, e.error)).collect();
            all.sort();
            all
        };
        assert_eq!(view(&plain), view(&cached));
        assert_eq!(plain.total(), cached.total());
        assert!(cached.is_approximate());
    }

    #[test]
    fn full_tables_keep_the_entries_the_reports_were_made_with() {
        // Which entry a full table evicts among those tied at the smallest count decides which
        // keys it keeps, with which counts and errors, in which entry: fed streams of distinct
        // keys, of byte-like weights and of a hot few over a long tail, each table's entries
        // in order are pinned (a fingerprint), as the goldens pin the reports made from them.
        /// A table's capacity, and the key and weight of each added line.
        type Stream = (usize, fn(u64) -> (u64, u64));
        let streams: [Stream; 4] = [
            (1000, |i| (i, 1)),
            (500, |i| (i, [30, 45, 60, 90][(i % 4) as usize])),
            (700, |i| if i % 3 == 0 { (i % 40, 1) } else { (i, 1 + i % 2) }),
            (300, |i| (i * 7 % 5000, i % 3)),
        ];
        let mut got = Vec::new();
        for (capacity, make) in streams {
            let mut t: TopK = TopK::with_key(capacity, HashKey { k0: 3, k1: 4 });
            for i in 0..30_000 {
                let (key, weight) = make(i);
                t.add(format!("key:{key}").as_bytes(), weight);
            }
            let fp = t.entries().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, e| {
                let h = e.key().iter().fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
                ((h ^ e.count).wrapping_mul(0x100_0000_01b3) ^ e.error).wrapping_mul(0x100_0000_01b3)
            });
            got.push(fp);
        }
        assert_eq!(got, [6418586600418690857, 18262025980643903167, 9573468638788507960, 16577837926740792501]);
    }

    #[test]
    fn slots_survive_many_evictions() {
        let mut t: TopK = TopK::new(8);
        for i in 0..10_000u32 {
            t.add(&i.to_le_bytes(), 1);
            t.add(b"hot", 1);
        }
        assert_eq!(t.top(1)[0].key(), b"hot");
        assert_eq!(t.top(1)[0].count, 10_000);
        for e in t.entries() {
            assert_eq!(t.find(e.key(), e.full_len, e.hash).map(|i| t.entries[i].key()), Some(e.key()));
        }
    }

    #[test]
    fn long_keys_are_kept_by_head_length_and_hash() {
        let mut t: TopK = TopK::new(10);
        let a = vec![b'a'; 10_000];
        let mut b = a.clone();
        b[9_999] = b'b';
        t.add(&a, 1);
        t.add(&a, 1);
        t.add(&b, 1);
        assert_eq!(t.len(), 2);
        let top = t.top(2);
        assert_eq!(top[0].count, 2);
        assert_eq!(top[0].key().len(), MAX_STORED_KEY);
        assert!(top[0].is_cut());
        assert_eq!(top[0].full_len, 10_000);
    }

    #[test]
    fn long_keys_stay_within_their_budget_and_hot_ones_keep_their_names() {
        let mut t: TopK = TopK::new(100);
        let long = |i: u64| format!("{}:{i}", "k".repeat(300)).into_bytes();
        let hot = format!("{}:hot", "h".repeat(300)).into_bytes();
        for i in 0..20_000 {
            t.add(&long(i), 1);
            if i >= 10_000 && i % 2 == 0 {
                // A hot key that first comes when every entry holds a long name.
                t.add(&hot, 1);
            }
            let (held, budget) = t.store.held();
            assert!(held <= budget);
        }
        assert!(t.store.held().1 < 100 * 300, "the budget is smaller than the table's long names");
        let top = t.top(1)[0];
        assert_eq!(top.key(), &hot[..], "the hot key has its whole name");
        assert!(top.count >= 5_000 && top.count - top.error <= 5_000);
        // Entries kept by their head are still told apart, and still counted.
        assert!(t.entries().iter().any(|e| e.is_cut()));
        for e in t.entries().iter().filter(|e| e.is_cut()) {
            assert_eq!(e.key().len(), INLINE);
        }
        let before = t.total();
        let cut = t.entries().iter().find(|e| e.is_cut() && e.key() != &hot[..INLINE]).unwrap();
        let (full_len, count) = (cut.full_len, cut.count);
        let i: u64 = (0..20_000)
            .find(|&i| {
                long(i).len() as u64 == full_len && long(i).starts_with(cut.key()) && {
                    let h = t.hash(&long(i));
                    t.entries().iter().any(|e| e.hash == h && e.count == count)
                }
            })
            .unwrap();
        t.add(&long(i), 1);
        assert_eq!(t.total(), before + 1);
        assert!(t.entries().iter().any(|e| e.count == count + 1 && long(i).starts_with(e.key())));
    }

    #[test]
    fn merged_tables_add_counts_and_errors() {
        let mut a: TopK<u64> = TopK::new(3);
        let mut b: TopK<u64> = TopK::new(4);
        for k in [&b"x"[..], b"x", b"y"] {
            *a.add(k, 1) += 1;
        }
        for k in [&b"x"[..], b"z", b"w", b"v"] {
            *b.add(k, 1) += 10;
        }
        let mut m: TopK<u64> = TopK::new(10);
        m.merge(&a, |e, o| *e += o);
        m.merge(&b, |e, o| *e += o);
        assert_eq!(m.total(), 7);
        let top = m.top(1);
        assert_eq!((top[0].key(), top[0].count, top[0].extra), (&b"x"[..], 3, 12));
        assert_eq!(m.entries().iter().map(|e| e.error).sum::<u64>(), 0);
        // A table that evicted a key carries an error, and the merge keeps it.
        let mut c: TopK<u64> = TopK::new(1);
        c.add(b"p", 1);
        c.add(b"q", 1);
        m.merge(&c, |e, o| *e += o);
        let q = m.entries().iter().find(|e| e.key() == b"q").unwrap();
        assert_eq!((q.count, q.error), (2, 1));
        assert_eq!(m.total(), 9);
    }

    #[test]
    fn a_merge_joins_a_key_kept_whole_in_one_table_and_by_its_head_in_the_other() {
        let long = |i: usize| format!("tenant:acme-corporation:cache:{i:040}").into_bytes();
        let target = long(99);
        // Seven long keys use up most of `a`'s long-key budget: it keeps the eighth by its head.
        let mut a: TopK<u64> = TopK::new(20);
        for i in 0..7 {
            a.add(&long(i), 1);
        }
        *a.add(&target, 3) += 3;
        let kept = |t: &TopK<u64>| {
            t.entries()
                .iter()
                .any(|e| e.full_len == target.len() as u64 && e.key() != &target[..] && target.starts_with(e.key()))
        };
        assert!(kept(&a), "the key is kept by its head");
        let mut b: TopK<u64> = TopK::new(20);
        *b.add(&target, 5) += 5;
        for (first, second) in [(&a, &b), (&b, &a)] {
            let mut m: TopK<u64> = TopK::new(40);
            m.merge(first, |e, o| *e += o);
            m.merge(second, |e, o| *e += o);
            let rows: Vec<_> = m
                .entries()
                .iter()
                .filter(|e| e.full_len == target.len() as u64 && target.starts_with(e.key()))
                .collect();
            assert_eq!(rows.len(), 1, "one entry for the key");
            assert_eq!((rows[0].count, rows[0].error, rows[0].extra), (8, 0, 8));
            assert_eq!(rows[0].key(), &target[..], "its whole name, which the merged table has room for");
            assert_eq!(m.total(), 15);
        }
    }

    #[test]
    fn a_merge_past_the_capacity_keeps_the_heaviest_when_the_cut_falls_on_a_tie() {
        // The union's third-heaviest count (2) is held by two keys here: one of them makes way
        // for the heavier newcomer, and the other stays, tied with a newcomer that goes.
        let mut kept: TopK = TopK::new(3);
        for (k, n) in [(&b"a"[..], 5), (b"b", 2), (b"c", 2)] {
            kept.add(k, n);
        }
        let mut other: TopK = TopK::new(3);
        for (k, n) in [(&b"d"[..], 4), (b"e", 2), (b"f", 1)] {
            other.add(k, n);
        }
        kept.merge(&other, |_, _| {});
        let top: Vec<(&[u8], u64)> = kept.top(3).iter().map(|e| (e.key(), e.count)).collect();
        assert_eq!(top[..2], [(&b"a"[..], 5), (&b"d"[..], 4)]);
        assert_eq!(top[2].1, 2, "one of the keys at the cut stays: {top:?}");
        assert_ne!(top[2].0, b"e", "a newcomer tied with a key kept does not take its place");
        assert_eq!(kept.floor(), 2, "the heaviest left out counted 2");
        assert_eq!(kept.total(), 16);
    }

    #[test]
    fn merged_summaries_bracket_every_count() {
        // Periods counted apart, each past its capacity, merged into tables large and small.
        let mut truth: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut periods: Vec<TopK> = Vec::new();
        let mut x: u64 = 99;
        for p in 0..6 {
            let mut t: TopK = TopK::new(50);
            for _ in 0..20_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = (x >> 33) % 1000;
                // Each period has hot keys of its own and a shared tail.
                let k = if r < 300 { format!("hot{}:{}", p, r % 5) } else { format!("tail:{}", (x >> 20) % 400) };
                *truth.entry(k.clone().into_bytes()).or_default() += 1;
                t.add(k.as_bytes(), 1);
            }
            assert!(t.floor() > 0);
            periods.push(t);
        }
        for capacity in [1000, 60, 10] {
            let mut merged: TopK = TopK::new(capacity);
            for t in &periods {
                merged.merge(t, |_, _| {});
            }
            assert_eq!(merged.total(), 120_000);
            assert!(merged.len() <= capacity);
            for e in merged.entries() {
                let real = truth[e.key()];
                assert!(e.count - e.error <= real && real <= e.count, "{capacity}: {:?}", e.key().as_bstr());
            }
            // A key left out of the table counted at most the floor.
            for (k, &real) in &truth {
                if !merged.entries().iter().any(|e| e.key() == k.as_slice()) {
                    assert!(real <= merged.floor(), "{capacity}: {:?} {real} > {}", k.as_bstr(), merged.floor());
                }
            }
        }
    }
}
