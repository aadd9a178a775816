//! The names of a capture's commands as clients wrote them, resolved once: a capture repeats a
//! few dozen names, each looked up once per line.

use crate::commands::index::Lookup;
use crate::commands::table::Table;

/// Command names as clients wrote them (`GET`, `get`), resolved before: a capture repeats a few
/// dozen names, and a hit costs two word compares instead of lower-casing, hashing and
/// comparing. Names of commands with subcommands are not kept: they resolve with their
/// second argument.
pub struct NameCache {
    /// (the name as two words and its length, see [`crate::count::hash::short_key`], what it resolved
    /// to).
    slots: Vec<(u64, u64, usize, Lookup)>,
}

impl Default for NameCache {
    fn default() -> Self {
        NameCache { slots: vec![(0, 0, usize::MAX, Lookup::Unknown); crate::count::hash::SHORT_CACHE] }
    }
}

impl NameCache {
    /// [`Table::lookup`], remembering the answer for `name`. A hit, the common case, is inlined
    /// where the line is resolved; a miss is not. The `second` word is asked for only when the
    /// answer is not remembered (a hit never needs it).
    #[inline(always)]
    pub fn lookup<'s>(&mut self, table: &Table, name: &[u8], second: impl FnOnce() -> Option<&'s [u8]>) -> Lookup {
        let Some((a, b, i)) = crate::count::hash::short_key(name) else {
            return table.lookup(name, second());
        };
        let (sa, sb, len, found) = self.slots[i];
        if (sa, sb, len) == (a, b, name.len()) {
            return found;
        }
        self.miss(table, name, second(), (a, b, i))
    }

    /// Resolves a name the cache does not have, and keeps it in slot `i` when the answer does
    /// not depend on the second argument.
    #[cold]
    #[inline(never)]
    fn miss(&mut self, table: &Table, name: &[u8], second: Option<&[u8]>, (a, b, i): (u64, u64, usize)) -> Lookup {
        let found = table.lookup(name, second);
        let depends_on_second = match found {
            Lookup::Known(id, n) => n > 1 || table.get(id).has_subcommands,
            Lookup::Unknown => false,
        };
        if !depends_on_second {
            self.slots[i] = (a, b, name.len(), found);
        }
        found
    }
}
