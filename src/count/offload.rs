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
use crate::count::stats::{Hit, Key, KeyTables, Settings};

/// The access byte's flag for a key known by its head (see [`crate::read::compact`]).
const LONG: u8 = 2;
/// The access byte's flag for an access with a share of a reply (a request read from packets):
/// its reply bytes u64 and latency u64 follow.
const REPLY: u8 = 4;

/// Bytes of encoded accesses per batch.
const BATCH: usize = 64 * 1024;

enum Message {
    /// Encoded accesses: node u32, access u8, share u64, length u32, key bytes (and for a long
    /// key its whole length u64, hash u64 and slot u16).
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
    pub fn push(&mut self, key: Key<'_>, access: Access, share: u64, reply: Option<(u64, u64)>, node: u32) {
        let name = key.name;
        let mut head = [0u8; 17];
        head[0..4].copy_from_slice(&node.to_le_bytes());
        head[4] = u8::from(access == Access::Write)
            | if key.long.is_some() { LONG } else { 0 }
            | if reply.is_some() { REPLY } else { 0 };
        head[5..13].copy_from_slice(&share.to_le_bytes());
        head[13..17].copy_from_slice(&(name.len() as u32).to_le_bytes());
        self.batch.reserve(17 + name.len() + 18 + 16);
        self.batch.extend_from_slice(&head);
        self.batch.extend_from_slice(name);
        if let Some(long) = key.long {
            // A key known by its head: its whole length, hash and slot follow.
            self.batch.extend_from_slice(&long.len.to_le_bytes());
            self.batch.extend_from_slice(&long.hash.to_le_bytes());
            self.batch.extend_from_slice(&long.slot.to_le_bytes());
        }
        if let Some((bytes, micros)) = reply {
            self.batch.extend_from_slice(&bytes.to_le_bytes());
            self.batch.extend_from_slice(&micros.to_le_bytes());
        }
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

fn count(tables: &mut KeyTables, batch: &[u8], scratch: &mut Vec<Pending>) {
    // Decoded and hashed first, so each access's table lines can be asked for a few accesses
    // before they are needed (the lookups would otherwise wait on memory one at a time).
    scratch.clear();
    let mut at = 0;
    while batch.len() - at >= 17 {
        let head = &batch[at..at + 17];
        let len = u32::from_le_bytes(head[13..17].try_into().unwrap_or_default()) as usize;
        let key = (at + 17, at + 17 + len);
        let name = &batch[key.0..key.1];
        let (full_len, hash, slot, mut size) = if head[4] & LONG != 0 {
            let tail = &batch[key.1..key.1 + 18];
            let word = |i: usize| u64::from_le_bytes(tail[i..i + 8].try_into().unwrap_or_default());
            (word(0), word(8), Some(u16::from_le_bytes([tail[16], tail[17]])), 17 + len + 18)
        } else {
            // The slot of a whole key: its entry in the tables computes it once.
            (len as u64, tables.hash(name), None, 17 + len)
        };
        let reply = (head[4] & REPLY != 0).then(|| {
            let tail = &batch[at + size..at + size + 16];
            let word = |i: usize| u64::from_le_bytes(tail[i..i + 8].try_into().unwrap_or_default());
            size += 16;
            (word(0), word(8))
        });
        scratch.push(Pending {
            node: u32::from_le_bytes(head[0..4].try_into().unwrap_or_default()),
            access: if head[4] & 1 == 1 { Access::Write } else { Access::Read },
            share: u64::from_le_bytes(head[5..13].try_into().unwrap_or_default()),
            reply,
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
struct Pending {
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
