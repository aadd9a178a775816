//! Key accesses counted a few accesses after they come, so that their table lines are loading
//! meanwhile: the tables are larger than the caches, and a lookup is two dependent loads.
//!
//! [`Ahead`] holds the last few accesses (their keys copied): when one comes, the index slots it
//! will read are asked for; one access later, the entries those slots point to; and the access
//! that came [`DEPTH`] before it is counted. Accesses are counted in the order they came, so the
//! counts are exactly those of counting each at once; until [`Ahead::flush`], the tables lack the
//! ones held. For the thread that parses and counts a range itself (see `sink/split.rs`); the
//! one-pass counting thread, whose batches are hashed before they are counted, asks for slots
//! 8 and entries 4 accesses ahead instead (see [`crate::count::offload`]).

use crate::commands::Access;
use crate::count::keys::{copy_short, INLINE, MAX_STORED_KEY};
use crate::count::stats::{Hit, Key, KeyTables};

/// How many accesses are held: one counted is the one this many accesses back.
const DEPTH: usize = 2;

/// One access held: its key's bytes and what counting it takes.
#[derive(Default)]
struct Pending {
    /// The key's bytes: the first `len` of `short` when they fit, else `long`.
    short: [u8; INLINE],
    long: Vec<u8>,
    len: usize,
    full_len: u64,
    hash: u64,
    slot: Option<u16>,
    write: bool,
    share: u64,
    node: u32,
    reply: Option<(u64, u64)>,
}

/// The accesses of one thread's tables not counted yet.
#[derive(Default)]
pub struct Ahead {
    held: [Pending; DEPTH],
    /// Accesses held (at most [`DEPTH`]), and the next one's place; the oldest is at
    /// `(next + DEPTH - len) % DEPTH`.
    len: usize,
    next: usize,
}

impl Ahead {
    /// Holds one access of `key` (its share of the request's bytes and of a reply, the node it
    /// came from) to count it into `tables` a few accesses later, and counts the one that came
    /// [`DEPTH`] accesses before it.
    // Always inlined (see `sink/split.rs`).
    #[inline(always)]
    pub fn push(
        &mut self,
        tables: &mut KeyTables,
        key: Key<'_>,
        access: Access,
        share: u64,
        reply: Option<(u64, u64)>,
        node: u32,
    ) {
        if key.long.is_none() && key.name.len() > MAX_STORED_KEY {
            // Its slot is of the whole name, which is not copied: counted now, in turn.
            self.flush(tables);
            tables.add_with_reply(key, access, share, reply, node);
            return;
        }
        let (full_len, hash, slot) = match key.long {
            Some(long) => (long.len, long.hash, Some(long.slot)),
            None => (key.name.len() as u64, tables.hash(key.name), None),
        };
        tables.prefetch_slots(hash, slot);
        let at = self.next;
        // The one before has had an access's time to bring its slots: their entries next.
        let before = self.held[(at + DEPTH - 1) % DEPTH].hash;
        if self.len == DEPTH {
            // The oldest is in this place.
            tables.prefetch_entries(before);
            Self::count(tables, &self.held[at]);
        } else {
            if self.len > 0 {
                tables.prefetch_entries(before);
            }
            self.len += 1;
        }
        let held = &mut self.held[at];
        held.len = key.name.len();
        if key.name.len() <= INLINE {
            copy_short(&mut held.short, key.name);
        } else {
            held.long.clear();
            held.long.extend_from_slice(key.name);
        }
        held.full_len = full_len;
        held.hash = hash;
        held.slot = slot;
        held.write = access == Access::Write;
        held.share = share;
        held.node = node;
        held.reply = reply;
        self.next = (at + 1) % DEPTH;
    }

    /// Counts every access held.
    pub fn flush(&mut self, tables: &mut KeyTables) {
        for k in (1..=self.len).rev() {
            Self::count(tables, &self.held[(self.next + DEPTH - k) % DEPTH]);
        }
        self.len = 0;
    }

    #[inline]
    fn count(tables: &mut KeyTables, p: &Pending) {
        let hit = Hit {
            name: if p.len <= INLINE { &p.short[..p.len] } else { &p.long },
            full_len: p.full_len,
            hash: p.hash,
            slot: p.slot,
            access: if p.write { Access::Write } else { Access::Read },
            share: p.share,
            node: p.node,
            reply: p.reply,
        };
        tables.add_hashed(&hit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::stats::{GapRule, Settings};
    use crate::format::long_arg::LongArg;

    /// Every entry of every table of `tables`, in entry order.
    fn view(tables: &KeyTables) -> Vec<String> {
        let mut all: Vec<String> = tables
            .keys
            .entries()
            .iter()
            .map(|e| format!("{:?} {} {} {:?}", e.key(), e.count, e.error, e.extra))
            .collect();
        for t in [&tables.key_bytes, &tables.reply_bytes, &tables.latency, &tables.prefixes, &tables.slots.table()] {
            all.extend(t.entries().iter().map(|e| format!("{:?} {} {}", e.key(), e.count, e.error)));
            all.push(format!("total {}", t.total()));
        }
        all.push(format!("unprefixed {}", tables.unprefixed));
        all
    }

    #[test]
    fn held_accesses_count_as_accesses_counted_at_once() {
        let settings = Settings::for_tests(64, 1, GapRule::Later);
        let (mut plain, mut held) = (KeyTables::new(&settings), KeyTables::new(&settings));
        let mut ahead = Ahead::default();
        let mut x: u64 = 11;
        let long = LongArg { index: 1, len: 70_000, hash: 0x1234_5678_9abc_def0, slot: 77 };
        for i in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (x >> 33) % 100;
            // Short keys hot and cold, names longer than a stored key (counted at once, in
            // turn) and longer than an entry holds, keys known by their head, and requests with
            // replies.
            let name = match r {
                0..=59 => format!("user:{}", r % 7).into_bytes(),
                60..=89 => format!("item:{}", x >> 40).into_bytes(),
                90..=92 => format!("{}:{}", "l".repeat(600), r % 2).into_bytes(),
                93..=94 => format!("{}:{}", "m".repeat(40), x >> 60).into_bytes(),
                _ => b"head:of-a-long-key".to_vec(),
            };
            let key = Key { name: &name, long: (r >= 95).then_some(&long) };
            let access = if i % 3 == 0 { Access::Write } else { Access::Read };
            let reply = (i % 5 == 0).then_some((i % 7, i % 11));
            plain.add_with_reply(key, access, i % 13, reply, (i % 2) as u32);
            ahead.push(&mut held, key, access, i % 13, reply, (i % 2) as u32);
            if i % 4_999 == 0 {
                ahead.flush(&mut held);
                assert_eq!(view(&plain), view(&held), "at access {i}");
            }
        }
        ahead.flush(&mut held);
        assert_eq!(view(&plain), view(&held));
        assert!(plain.keys.len() == 64 && plain.keys.total() == 20_000);
    }
}
