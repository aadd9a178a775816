//! Command names to table ids: the index a table is built with, over lower-case names, and what
//! a name resolved to ([`Lookup`]).

use crate::commands::CommandId;

/// Command names to ids: open addressing over lower-case names, looked up once per line.
pub(super) struct NameIndex {
    /// Command id + 1; 0 when empty.
    slots: Vec<u16>,
    names: Vec<Box<[u8]>>,
}

impl NameIndex {
    /// An index for `n` names, at most half full.
    pub(super) fn new(n: usize) -> NameIndex {
        NameIndex { slots: vec![0; (2 * n).next_power_of_two().max(64)], names: Vec::new() }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn slot(&self, name: &[u8]) -> usize {
        // A fixed key: the index holds the table's own names, and a name it lacks costs at most
        // the longest run of those (a stranger's names cannot lengthen it).
        crate::count::hash::hash_bytes(crate::count::hash::HashKey { k0: 0, k1: 0 }, name) as usize & self.mask()
    }

    pub(super) fn insert(&mut self, name: &[u8], id: CommandId) {
        assert!(self.names.len() < self.slots.len() / 2, "the command index is too small");
        let mut i = self.slot(name);
        while self.slots[i] != 0 {
            i = (i + 1) & self.mask();
        }
        self.slots[i] = id + 1;
        if self.names.len() <= usize::from(id) {
            self.names.resize(usize::from(id) + 1, Box::default());
        }
        self.names[usize::from(id)] = name.into();
    }

    pub(super) fn get(&self, name: &[u8]) -> Option<CommandId> {
        let mut i = self.slot(name);
        loop {
            let id = self.slots[i].checked_sub(1)?;
            if *self.names[usize::from(id)] == *name {
                return Some(id);
            }
            i = (i + 1) & self.mask();
        }
    }
}

/// What a command name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A known command, and how many leading arguments name it (2 for a subcommand).
    Known(CommandId, usize),
    /// Not in the table: the first argument is taken as the key.
    Unknown,
}

/// Lower-cases an ASCII command name into `buf`; `None` when it does not fit.
pub(super) fn lowercase<'b>(name: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..name.len())?;
    for (o, b) in out.iter_mut().zip(name) {
        *o = b.to_ascii_lowercase();
    }
    Some(out)
}
