//! The key tables counted on the second core.
//!
//! Counting key accesses per key (keys, bytes per key, prefixes, slots) is the costliest part of
//! a report: each access is a lookup in tables larger than the caches. [`Offload`] hands the
//! accesses, in batches, to a thread that owns those tables, while the parsing thread goes on;
//! one thread in input order, so the counts are exactly those of counting in place. The thread
//! hashes a batch first and asks for each access's table lines a few accesses ahead.
//! [`Offload::take`] waits for the thread to catch up and takes its tables.

use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::commands::Access;
use crate::count::batch::{LongKey, Queued};
use crate::count::stats::{Hit, Key, KeyTables, Settings};

/// Bytes of encoded accesses per batch.
const BATCH: usize = 64 * 1024;

enum Message {
    /// Accesses, encoded (see [`crate::count::batch`]).
    Accesses(Vec<u8>),
    /// Hand back the tables and start new ones with these settings.
    Take(Settings, SyncSender<KeyTables>),
}

/// The parsing thread's end: collects accesses into batches and sends them.
pub struct Offload {
    /// `None` only while dropping: closing it ends the thread.
    tx: Option<SyncSender<Message>>,
    thread: Option<std::thread::JoinHandle<()>>,
    batch: Vec<u8>,
    /// Spent batches come back, so they are allocated once.
    spent: Receiver<Vec<u8>>,
}

impl Offload {
    /// Starts the counting thread with empty tables for `settings`.
    pub fn spawn(settings: Settings) -> Offload {
        // A few batches in flight: memory stays bounded if counting falls behind.
        let (tx, rx) = mpsc::sync_channel::<Message>(4);
        let (give_back, spent) = mpsc::channel();
        let thread = crate::sys::signal::spawn(move || {
            let mut tables = KeyTables::new(&settings);
            let mut scratch = Vec::new();
            for message in rx {
                match message {
                    Message::Accesses(batch) => {
                        count(&mut tables, &batch, &mut scratch);
                        let _ = give_back.send(batch);
                    }
                    Message::Take(settings, reply) => {
                        let full = std::mem::replace(&mut tables, KeyTables::new(&settings));
                        if reply.send(full).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Offload { tx: Some(tx), thread: Some(thread), batch: Vec::with_capacity(BATCH + 1024), spent }
    }

    /// Queues one key access.
    #[inline]
    pub fn push(&mut self, key: Key<'_>, access: Access, share: u64, reply: Option<(u64, u64)>, node: u32) {
        let long = key.long.map(|long| LongKey { len: long.len, hash: long.hash, slot: long.slot });
        Queued { node, access, share, name: key.name, long, reply }.encode(&mut self.batch);
        if self.batch.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.spent.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH + 1024));
        let full = std::mem::replace(&mut self.batch, next);
        self.batch.clear();
        // The thread only ends when this end is dropped.
        if let Some(tx) = &self.tx {
            let _ = tx.send(Message::Accesses(full));
        }
    }

    /// Waits for every access queued so far to be counted, and takes the tables; counting goes
    /// on into new tables made for `next`.
    pub fn take(&mut self, next: &Settings) -> KeyTables {
        if !self.batch.is_empty() {
            self.send();
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let tx = self.tx.as_ref().expect("the key counting thread is running");
        tx.send(Message::Take(next.clone(), reply)).expect("the key counting thread is gone");
        answer.recv().expect("the key counting thread is gone")
    }
}

impl Drop for Offload {
    /// Ends the counting thread and waits for it, so no thread outlives its tables.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn count(tables: &mut KeyTables, batch: &[u8], scratch: &mut Vec<DecodedAccess>) {
    // Decoded and hashed first, so each access's table lines can be asked for a few accesses
    // before they are needed (the lookups would otherwise wait on memory one at a time).
    scratch.clear();
    let mut at = 0;
    while let Some((q, size)) = Queued::decode(&batch[at..]) {
        let key = (at + Queued::KEY_AT, at + Queued::KEY_AT + q.name.len());
        let (full_len, hash, slot) = match q.long {
            Some(long) => (long.len, long.hash, Some(long.slot)),
            // The slot of a whole key: its entry in the tables computes it once.
            None => (q.name.len() as u64, tables.hash(q.name), None),
        };
        scratch.push(DecodedAccess {
            node: q.node,
            access: q.access,
            share: q.share,
            reply: q.reply,
            key,
            full_len,
            hash,
            slot,
        });
        at += size;
    }
    const SLOTS_AHEAD: usize = 8;
    const ENTRIES_AHEAD: usize = 4;
    for p in scratch.iter().take(SLOTS_AHEAD) {
        tables.prefetch_slots(p.hash, p.slot);
    }
    for i in 0..scratch.len() {
        if let Some(p) = scratch.get(i + SLOTS_AHEAD) {
            tables.prefetch_slots(p.hash, p.slot);
        }
        if let Some(p) = scratch.get(i + ENTRIES_AHEAD) {
            tables.prefetch_entries(p.hash);
        }
        let p = &scratch[i];
        let name = &batch[p.key.0..p.key.1];
        let hit = Hit {
            name,
            full_len: p.full_len,
            hash: p.hash,
            slot: p.slot,
            access: p.access,
            share: p.share,
            node: p.node,
            reply: p.reply,
        };
        tables.add_hashed(&hit);
    }
}

/// One access of a batch, decoded.
struct DecodedAccess {
    node: u32,
    access: Access,
    share: u64,
    reply: Option<(u64, u64)>,
    /// Where its key is in the batch, and its whole length.
    key: (usize, usize),
    full_len: u64,
    hash: u64,
    slot: Option<u16>,
}
