//! A name the filter keeps (a node label, a client, a command name) in bounded memory, the way
//! the key tables keep a key: its first [`HEAD`] bytes, its whole length and a hash of the whole,
//! so that two long names are still told apart and one shown is cut with its true length.
//!
//! Names come from the input, and a line can be a mebibyte long: kept whole, a thousand of them
//! would take a gigabyte.

use crate::count::hash::{hash_bytes, run_key};
use crate::format::escape::escaped;

/// The bytes of a name that are kept: as many as the key tables keep of a key.
pub const HEAD: usize = crate::count::keys::MAX_STORED_KEY;

/// A name, by its head, its length and its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Name {
    head: Box<[u8]>,
    len: u64,
    /// The whole name's hash ([`crate::count::hash::hash_bytes`] under the run's key, as the key
    /// tables hash); 0 for a name kept whole.
    hash: u64,
}

impl Name {
    pub fn new(bytes: &[u8]) -> Name {
        let cut = bytes.len() > HEAD;
        Name {
            head: bytes[..bytes.len().min(HEAD)].into(),
            len: bytes.len() as u64,
            hash: if cut { hash_bytes(run_key(), bytes) } else { 0 },
        }
    }

    /// The kept bytes: the whole name, or its first [`HEAD`] bytes.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The whole name's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when only the head is kept.
    pub fn is_cut(&self) -> bool {
        self.len > self.head.len() as u64
    }

    /// The whole name's hash under the run's key (what [`crate::count::topk::TopK::hash`] gives).
    pub fn hash(&self) -> u64 {
        if self.is_cut() {
            self.hash
        } else {
            hash_bytes(run_key(), &self.head)
        }
    }

    /// The name as shown: escaped, and when only its head is kept, cut with its whole length.
    pub fn shown(&self) -> String {
        cut_form(&self.head, self.len)
    }
}

/// `bytes` as shown within about `max` bytes of input: escaped, and when longer, its first `max`
/// bytes cut with the whole length (`10.0.0.1…  (1000000 bytes)`), as a report shows a cut key.
pub fn shown(bytes: &[u8], max: usize) -> String {
    cut_form(&bytes[..bytes.len().min(max)], bytes.len() as u64)
}

fn cut_form(head: &[u8], len: u64) -> String {
    let mut text = escaped(head);
    if len > head.len() as u64 {
        text.push_str(&format!("… ({len} bytes)"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_kept_by_its_head_its_length_and_its_hash() {
        let long = vec![b'N'; 1_000_000];
        let name = Name::new(&long);
        assert_eq!((name.head().len(), name.len(), name.is_cut()), (HEAD, 1_000_000, true));
        assert_eq!(name.hash(), hash_bytes(run_key(), &long));
        let mut other = long.clone();
        other[999_999] = b'M';
        assert_ne!(Name::new(&other), name, "the same head, another name");
        assert_eq!(name.shown(), format!("{}… (1000000 bytes)", "N".repeat(HEAD)));
        let short = Name::new(b"n1\x1b");
        assert_eq!((short.shown(), short.is_cut()), ("n1\\x1b".to_string(), false));
        assert_eq!(short.hash(), hash_bytes(run_key(), b"n1\x1b"));
        assert_eq!(shown(b"10.0.0.1:5000", 8), "10.0.0.1… (13 bytes)");
        assert_eq!(shown(b"10.0.0.1:5000", 64), "10.0.0.1:5000");
    }
}
