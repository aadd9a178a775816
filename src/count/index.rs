//! The hash index of a top-k table: where each key's entry is, found by the key's hash.
//!
//! [`SlotIndex`] is open addressing with linear probing over slots of `hash_high32 << 32 |
//! (entry index + 1)` (0 when empty), kept at most half full. A slot holds the hash bits its
//! home is made of, so moving slots around (a removal's back shift, a growth) never loads an
//! entry; a lookup loads only the entries whose slot's 32 hash bits match. The hashes come from
//! [`crate::count::hash`], keyed per run, so keys sent by strangers cannot be aimed at one run.

use crate::count::prefetch::prefetch;

pub struct SlotIndex {
    slots: Vec<u64>,
    /// Slots looked at by lookups (tests measure probe lengths with it).
    #[cfg(test)]
    pub probes: std::cell::Cell<u64>,
}

impl SlotIndex {
    pub fn new() -> SlotIndex {
        SlotIndex {
            slots: vec![0; 16],
            #[cfg(test)]
            probes: std::cell::Cell::new(0),
        }
    }

    /// The entry of `hash` for which `is_it` says yes; else the empty slot the search ended at,
    /// where [`SlotIndex::insert_at`] puts a new entry of `hash` (while nothing else changed).
    #[inline(always)]
    pub fn find(&self, hash: u64, mut is_it: impl FnMut(usize) -> bool) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut i = home(hash, mask);
        loop {
            #[cfg(test)]
            self.probes.set(self.probes.get() + 1);
            let slot = self.slots[i];
            if slot == 0 {
                return Err(i);
            }
            if slot >> 32 == tag {
                let idx = (slot as u32 - 1) as usize;
                if is_it(idx) {
                    return Ok(idx);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Indexes entry `idx`, whose key has `hash`, in the empty slot `vacant` that
    /// [`SlotIndex::find`] of `hash` gave (no slot was filled or emptied since).
    #[inline]
    pub fn insert_at(&mut self, vacant: usize, hash: u64, idx: usize) {
        debug_assert_eq!(self.slots[vacant], 0);
        self.slots[vacant] = slot_of(hash, idx);
    }

    /// Indexes entry `idx`, whose key has `hash` (it is not indexed yet).
    #[inline]
    pub fn insert(&mut self, hash: u64, idx: usize) {
        let mask = self.slots.len() - 1;
        let mut i = home(hash, mask);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot_of(hash, idx);
    }

    /// Removes entry `idx` (its key's hash is `hash`), shifting later members of its probe run
    /// back. Another key's slot may point to the same entry (a newcomer indexed before the key
    /// it replaces is removed): the slot removed is one with this hash's bits, and two such
    /// slots share their home, so either may go.
    #[inline]
    pub fn remove(&mut self, hash: u64, idx: usize) {
        let mask = self.slots.len() - 1;
        let mut i = home(hash, mask);
        let this = slot_of(hash, idx);
        while self.slots[i] != this {
            i = (i + 1) & mask;
        }
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let slot = self.slots[j];
            if slot == 0 {
                break;
            }
            // The slot holds the hash bits its home is made of: no need to load the entry.
            // Whether it moves is as likely as not, and every eviction removes a slot: the
            // move is made without a branch (masks, which the compiler keeps as they are).
            let keep = usize::from(stays(hole, home(slot, mask), j, mask)).wrapping_neg();
            self.slots[hole] = self.slots[hole] & keep as u64 | slot & !keep as u64;
            hole = hole & keep | j & !keep;
        }
        self.slots[hole] = 0;
    }

    /// True when `entries` entries would fill the slots past half.
    #[inline]
    pub fn is_too_full_for(&self, entries: usize) -> bool {
        entries * 2 > self.slots.len()
    }

    /// Doubles the slots and indexes again the entries whose hashes `hashes` gives, in order.
    pub fn grow(&mut self, hashes: impl Iterator<Item = u64>) {
        self.grow_to(self.slots.len() * 2, hashes);
    }

    /// Grows the slots at once to hold `entries` entries at most half full (when they would
    /// not), indexing again the entries whose hashes `hashes` gives, in order.
    pub fn make_room(&mut self, entries: usize, hashes: impl Iterator<Item = u64>) {
        if self.is_too_full_for(entries) {
            self.grow_to((2 * entries).next_power_of_two(), hashes);
        }
    }

    fn grow_to(&mut self, size: usize, hashes: impl Iterator<Item = u64>) {
        self.slots = vec![0; size];
        for (idx, hash) in hashes.enumerate() {
            self.insert(hash, idx);
        }
    }

    /// Forgets every entry and indexes those whose hashes `hashes` gives, in order.
    pub fn rebuild(&mut self, hashes: impl Iterator<Item = u64>) {
        self.slots.iter_mut().for_each(|s| *s = 0);
        for (idx, hash) in hashes.enumerate() {
            self.insert(hash, idx);
        }
    }

    /// Starts loading the slot a lookup of `hash` reads first.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        prefetch(&self.slots[home(hash, self.slots.len() - 1)]);
    }

    /// The entry the home slot of `hash` points to when its hash bits are those of `hash` (as
    /// they mostly are at this load): what to prefetch before a lookup.
    #[inline]
    pub fn likely_entry(&self, hash: u64) -> Option<usize> {
        let slot = self.slots[home(hash, self.slots.len() - 1)];
        (slot != 0 && slot >> 32 == hash >> 32).then(|| (slot as u32 - 1) as usize)
    }
}

/// Whether the slot at `j`, whose home is `home`, stays where it is when slot `hole` (before
/// it in its probe run) empties: its home lies cyclically in (hole, j]. Told by distances from
/// the hole, without a branch.
#[inline(always)]
fn stays(hole: usize, home: usize, j: usize, mask: usize) -> bool {
    (home.wrapping_sub(hole).wrapping_sub(1) & mask) < (j.wrapping_sub(hole) & mask)
}

/// The slot of entry `idx`, whose key has `hash`.
#[inline]
fn slot_of(hash: u64, idx: usize) -> u64 {
    (hash >> 32) << 32 | (idx as u64 + 1)
}

/// The home slot of a hash: from its upper half, which each slot keeps (`hash >> 32 << 32 |
/// index + 1`), so moving slots around never loads the entries.
#[inline]
fn home(hash: u64, mask: usize) -> usize {
    (hash >> 32) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_stays_when_its_home_lies_between_the_hole_and_it() {
        let mask = 15;
        for hole in 0..16 {
            for j in (0..16).filter(|&j| j != hole) {
                for home in 0..16 {
                    let plain = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
                    assert_eq!(stays(hole, home, j, mask), plain, "hole {hole}, home {home}, at {j}");
                }
            }
        }
    }

    /// Replaces keys the way a full table evicts (the newcomer indexed where its search ended,
    /// then the old key removed), with homes crowded into a few slots and some newcomers whose
    /// hash bits equal the old key's; every live key is found at its entry, no removed one is.
    #[test]
    fn a_newcomer_indexed_before_the_old_key_goes_is_found() {
        const N: usize = 200;
        let mut index = SlotIndex::new();
        let mut x: u64 = 5;
        let mut draw = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Upper halves from 8 values only: long runs, shared homes, equal hash bits.
            (x >> 61) << 32 | (x >> 20 & 0xffff_ffff)
        };
        let mut live: Vec<u64> = Vec::new();
        for idx in 0..N {
            if index.is_too_full_for(idx + 1) {
                index.grow(live.iter().copied());
            }
            let hash = draw();
            index.insert(hash, idx);
            live.push(hash);
        }
        let find = |index: &SlotIndex, live: &[u64], hash: u64| index.find(hash, |idx| live[idx] == hash);
        for round in 0..5_000 {
            let idx = round * 7 % N;
            let old = live[idx];
            let hash = if round % 3 == 0 { old ^ 1 } else { draw() };
            if find(&index, &live, hash).is_ok() {
                continue;
            }
            let vacant = find(&index, &live, hash).unwrap_err();
            index.insert_at(vacant, hash, idx);
            index.remove(old, idx);
            live[idx] = hash;
            assert!(find(&index, &live, old).is_err(), "round {round}: the old key is gone");
            for (i, &h) in live.iter().enumerate() {
                assert_eq!(find(&index, &live, h), Ok(i), "round {round}: entry {i}");
            }
        }
    }
}
