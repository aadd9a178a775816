//! The layout of the batches the parsing thread hands the counting thread
//! ([`crate::count::offload`]): key accesses one after another, each a fixed head, the key's
//! bytes, and the tails its flags announce, little-endian. [`Queued::encode`] writes one,
//! [`Queued::decode`] reads it back; nothing else knows the layout.
//!
//! ```text
//! node u32 | flags u8 | share u64 | key length u32 | key bytes
//!   [flags & LONG:  whole length u64 | hash u64 | slot u16]
//!   [flags & REPLY: reply bytes u64 | latency u64]
//! ```

use crate::commands::Access;

/// The head's fields, by their widths.
const NODE: usize = 4;
const FLAGS: usize = 1;
const SHARE: usize = 8;
const KEY_LEN: usize = 4;
/// The head: every field but the key and the tails.
const HEAD: usize = NODE + FLAGS + SHARE + KEY_LEN;
/// Where each head field starts.
const NODE_AT: usize = 0;
const FLAGS_AT: usize = NODE_AT + NODE;
const SHARE_AT: usize = FLAGS_AT + FLAGS;
const KEY_LEN_AT: usize = SHARE_AT + SHARE;
/// A key known by its head: its whole length, hash and slot.
const LONG_TAIL: usize = 8 + 8 + 2;
/// An access with a share of a reply: the reply's bytes and its latency.
const REPLY_TAIL: usize = 8 + 8;
/// The most bytes an access takes besides its key's.
pub const MAX_OVERHEAD: usize = HEAD + LONG_TAIL + REPLY_TAIL;

/// The flags byte.
const WRITE: u8 = 1;
/// A key known by its head (see [`crate::read::compact`]): [`LONG_TAIL`] follows.
const LONG: u8 = 2;
/// A request read from packets, with a share of its reply: [`REPLY_TAIL`] follows.
const REPLY: u8 = 4;

/// A key known by its head: what stands for the rest of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongKey {
    /// The whole key's length, hash and cluster slot.
    pub len: u64,
    pub hash: u64,
    pub slot: u16,
}

/// One key access in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued<'a> {
    /// The node (input) the access came from.
    pub node: u32,
    pub access: Access,
    /// Its share of the request's bytes.
    pub share: u64,
    /// The key, or its head when `long` says how long it is.
    pub name: &'a [u8],
    pub long: Option<LongKey>,
    /// Its share of the reply's bytes and of the latency (microseconds).
    pub reply: Option<(u64, u64)>,
}

impl<'a> Queued<'a> {
    /// Where the key's bytes start in an encoded access.
    pub const KEY_AT: usize = HEAD;

    /// Appends the access to `batch`.
    #[inline]
    pub fn encode(&self, batch: &mut Vec<u8>) {
        let mut head = [0u8; HEAD];
        head[NODE_AT..FLAGS_AT].copy_from_slice(&self.node.to_le_bytes());
        head[FLAGS_AT] = u8::from(self.access == Access::Write)
            | if self.long.is_some() { LONG } else { 0 }
            | if self.reply.is_some() { REPLY } else { 0 };
        head[SHARE_AT..KEY_LEN_AT].copy_from_slice(&self.share.to_le_bytes());
        head[KEY_LEN_AT..HEAD].copy_from_slice(&(self.name.len() as u32).to_le_bytes());
        batch.reserve(MAX_OVERHEAD + self.name.len());
        batch.extend_from_slice(&head);
        batch.extend_from_slice(self.name);
        if let Some(long) = self.long {
            let mut tail = [0u8; LONG_TAIL];
            tail[..8].copy_from_slice(&long.len.to_le_bytes());
            tail[8..16].copy_from_slice(&long.hash.to_le_bytes());
            tail[16..].copy_from_slice(&long.slot.to_le_bytes());
            batch.extend_from_slice(&tail);
        }
        if let Some((bytes, micros)) = self.reply {
            let mut tail = [0u8; REPLY_TAIL];
            tail[..8].copy_from_slice(&bytes.to_le_bytes());
            tail[8..].copy_from_slice(&micros.to_le_bytes());
            batch.extend_from_slice(&tail);
        }
    }

    /// The access `bytes` starts with, and how many bytes it takes; `None` when they hold no
    /// whole access (the end of a batch).
    #[inline]
    pub fn decode(bytes: &'a [u8]) -> Option<(Queued<'a>, usize)> {
        let mut r = BatchReader { bytes, at: 0 };
        let node = u32::from_le_bytes(r.take()?);
        let [flags] = r.take::<FLAGS>()?;
        let share = u64::from_le_bytes(r.take()?);
        let len = u32::from_le_bytes(r.take()?) as usize;
        let name = r.slice(len)?;
        let long = if flags & LONG != 0 {
            let len = u64::from_le_bytes(r.take()?);
            let hash = u64::from_le_bytes(r.take()?);
            Some(LongKey { len, hash, slot: u16::from_le_bytes(r.take()?) })
        } else {
            None
        };
        let reply = if flags & REPLY != 0 {
            let bytes = u64::from_le_bytes(r.take()?);
            Some((bytes, u64::from_le_bytes(r.take()?)))
        } else {
            None
        };
        let access = if flags & WRITE != 0 { Access::Write } else { Access::Read };
        Some((Queued { node, access, share, name, long, reply }, r.at))
    }
}

/// Reads fields one after another.
struct BatchReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> BatchReader<'a> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let field = self.bytes.get(self.at..self.at + N)?;
        self.at += N;
        field.try_into().ok()
    }

    #[inline(always)]
    fn slice(&mut self, len: usize) -> Option<&'a [u8]> {
        let field = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An access's fields, as the strategy draws them.
    type AccessFields = (u32, bool, u64, Vec<u8>, Option<LongKey>, Option<(u64, u64)>);

    fn access() -> impl proptest::strategy::Strategy<Value = AccessFields> {
        use proptest::prelude::*;
        let long = proptest::option::of((any::<u64>(), any::<u64>(), any::<u16>()))
            .prop_map(|l| l.map(|(len, hash, slot)| LongKey { len, hash, slot }));
        (
            any::<u32>(),
            any::<bool>(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..80),
            long,
            proptest::option::of((any::<u64>(), any::<u64>())),
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any accesses, encoded one after another, decode to the same accesses, each taking
        /// the bytes it was written in; a batch cut short decodes the whole accesses before the cut.
        #[test]
        fn accesses_round_trip(accesses in proptest::collection::vec(access(), 0..20), cut in 0usize..64) {
            let queued: Vec<Queued<'_>> = accesses
                .iter()
                .map(|(node, write, share, name, long, reply)| Queued {
                    node: *node,
                    access: if *write { Access::Write } else { Access::Read },
                    share: *share,
                    name,
                    long: *long,
                    reply: *reply,
                })
                .collect();
            let mut batch = Vec::new();
            let mut ends = Vec::new();
            for q in &queued {
                let before = batch.len();
                q.encode(&mut batch);
                proptest::prop_assert!(batch.len() - before <= MAX_OVERHEAD + q.name.len());
                ends.push(batch.len());
            }
            let mut at = 0;
            for (q, &end) in queued.iter().zip(&ends) {
                let (back, size) = Queued::decode(&batch[at..]).expect("a whole access");
                proptest::prop_assert_eq!(&back, q);
                proptest::prop_assert_eq!(&batch[at + Queued::KEY_AT..at + Queued::KEY_AT + q.name.len()], q.name);
                at += size;
                proptest::prop_assert_eq!(at, end);
            }
            proptest::prop_assert_eq!(Queued::decode(&batch[at..]), None);
            let short = &batch[..batch.len().saturating_sub(cut + 1)];
            let whole = ends.iter().filter(|&&end| end <= short.len()).count();
            let mut at = 0;
            let mut decoded = 0;
            while let Some((_, size)) = Queued::decode(&short[at..]) {
                at += size;
                decoded += 1;
            }
            proptest::prop_assert_eq!(decoded, whole);
        }
    }

    #[test]
    fn a_head_is_its_fields_widths() {
        assert_eq!(HEAD, 17);
        assert_eq!(KEY_LEN_AT + KEY_LEN, HEAD);
        let mut batch = Vec::new();
        let q = Queued {
            node: 0x0102_0304,
            access: Access::Write,
            share: 5,
            name: b"k",
            long: Some(LongKey { len: 600, hash: 7, slot: 8 }),
            reply: None,
        };
        q.encode(&mut batch);
        assert_eq!(&batch[..HEAD], &[4, 3, 2, 1, WRITE | LONG, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(batch.len(), HEAD + 1 + LONG_TAIL);
    }
}
