//! An argument too long to keep whole: the readers (a long MONITOR line's compactor, a RESP
//! request in a capture) keep its head and describe the rest here, and the MONITOR parser's
//! arguments carry it to the key counting. It lives below both, so neither imports the other.

/// An argument kept by its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongArg {
    /// Its position among the command's arguments (0 is the command name).
    pub index: usize,
    /// Its whole length, decoded.
    pub len: u64,
    /// The hash and the cluster slot of its whole bytes.
    pub hash: u64,
    pub slot: u16,
}
