//! What the command table holds: a command ([`CommandDef`]) with its flags and key specs as the
//! server describes them, and what a call's key is ([`KeyRef`]: where, read or written).

/// Key-spec flags, as the server names them.
pub(super) mod flag {
    pub const RO: u16 = 1;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const NOT_KEY: u16 = 1 << 4;
    pub const INCOMPLETE: u16 = 1 << 5;
    pub const VARIABLE_FLAGS: u16 = 1 << 6;
    pub const ACCESS: u16 = 1 << 7;
    pub const UPDATE: u16 = 1 << 8;
    pub const INSERT: u16 = 1 << 9;
    pub const DELETE: u16 = 1 << 10;

    pub const NAMES: [(u16, &str); 11] = [
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (NOT_KEY, "NOT_KEY"),
        (INCOMPLETE, "INCOMPLETE"),
        (VARIABLE_FLAGS, "VARIABLE_FLAGS"),
        (ACCESS, "ACCESS"),
        (UPDATE, "UPDATE"),
        (INSERT, "INSERT"),
        (DELETE, "DELETE"),
    ];

    pub fn parse(name: &str) -> Option<u16> {
        NAMES.iter().find(|(_, n)| *n == name).map(|&(bit, _)| bit)
    }
}

/// How a key is used: read only, or written (modified, overwritten or removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One key of one command: its argument position and access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub access: Access,
}

/// Where a key spec's search starts: at an index, or after a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    Index(usize),
    /// The keyword, and where to start looking (negative: from the end, backwards).
    Keyword(Vec<u8>, i64),
    Unknown,
}

/// How a key spec's keys are found from where the search began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// `last` relative to the start (negative: from the end); `limit` > 1 keeps 1/limit of the rest.
    Range {
        last: i64,
        step: usize,
        limit: i64,
    },
    /// The count is at `index` from the start; keys begin `first` after the start.
    Keynum {
        index: usize,
        first: usize,
        step: usize,
    },
    Unknown,
}

/// Where one group of a command's keys is, as in the server's `key_specs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub(super) flags: u16,
    pub begin: Begin,
    pub find: Find,
}

impl KeySpec {
    /// The spec's flags as the server names them (`RW`, `ACCESS`, …).
    pub fn flag_names(&self) -> Vec<&'static str> {
        flag::NAMES.iter().filter(|(bit, _)| self.flags & bit != 0).map(|&(_, name)| name).collect()
    }
}

/// The server's special key functions, used where the specs are incomplete or their flags vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Special {
    None,
    /// genericGetKeys(store, count, first): `[dest] numkeys key…`.
    Numkeys {
        store: usize,
        count: usize,
        first: usize,
    },
    Sort,
    SortRo,
    Migrate,
    Georadius,
    Xread,
    Set,
    /// DELEX: the key is removed, or written under IFEQ/IFNE/IFDEQ/IFDNE.
    Delex,
    Bitfield,
    /// Redis 6's `STRALGO LCS … KEYS a b`.
    Lcs,
}

/// One command or subcommand.
#[derive(Debug, Clone)]
pub struct CommandDef {
    /// Lower case; a subcommand is `container|sub`.
    pub name: String,
    pub arity: i32,
    /// The command's flags (`readonly`, `write`, …) as the server names them, lower case.
    pub flags: Vec<String>,
    /// Where its keys are, as the server's key specs say.
    pub specs: Vec<KeySpec>,
    /// Where the row comes from: `redis 8.2.0`, `redis/bf 2.4.0`, `valkey 9.0.0`, `hand: why`,
    /// or `FILE` for a server's own table.
    pub origin: String,
    pub(super) special: Special,
    pub(super) has_subcommands: bool,
    /// Read off the flags and specs once, not per call: it has the `write` flag; its keys can
    /// come from the specs alone (some spec names keys, none has variable flags).
    pub(super) write: bool,
    /// A module command with the `readonly` flag: it writes no key, whatever its specs say
    /// (Redis 8's vector set commands mark every key spec RW, VCARD's included). Built-in
    /// commands are taken at their word: PFCOUNT is `readonly` and its spec RW, as it may cache.
    pub(super) readonly_module: bool,
    pub(super) by_specs: bool,
}

impl CommandDef {
    pub(super) fn new(
        name: String,
        arity: i32,
        flags: Vec<String>,
        specs: Vec<KeySpec>,
        special: Special,
        origin: String,
    ) -> CommandDef {
        let write = flags.iter().any(|f| f == "write");
        let readonly_module = flags.iter().any(|f| f == "readonly") && flags.iter().any(|f| f == "module");
        let mut cmd = CommandDef {
            name,
            arity,
            flags,
            specs,
            origin,
            special,
            has_subcommands: false,
            write,
            readonly_module,
            by_specs: false,
        };
        cmd.decide_by_specs();
        cmd
    }

    /// Its keys come from the specs alone when some spec names keys, unless their flags vary and
    /// the server has a function that decides them.
    pub(super) fn decide_by_specs(&mut self) {
        let names_keys = self.specs.iter().any(|s| s.flags & flag::NOT_KEY == 0);
        let varies = self.specs.iter().any(|s| s.flags & flag::VARIABLE_FLAGS != 0);
        self.by_specs = names_keys && !(varies && self.special != Special::None);
    }

    pub(super) fn writes(&self) -> bool {
        self.write
    }

    /// This is a hand-kept row for a module command whose registration names only its first key
    /// (see hand.tsv), and `server` is that registration.
    pub(super) fn corrects(&self, server: &CommandDef) -> bool {
        let first_only = matches!(
            server.specs.as_slice(),
            [KeySpec { begin: Begin::Index(1), find: Find::Range { last: 0, .. }, .. }]
        );
        self.origin.starts_with("hand: ") && !self.specs.is_empty() && first_only
    }
}
