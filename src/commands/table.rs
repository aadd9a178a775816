//! The table of every known command: built in (`table.tsv`), or a server's own ahead of it; a
//! call's name resolved ([`Table::lookup`]) and its keys found ([`Table::keys`]), by the key
//! specs ([`crate::commands::spec`]) or the server's own key functions
//! ([`crate::commands::keys`]).

use std::sync::Arc;

use crate::commands::index::{lowercase, Lookup, NameIndex};
use crate::commands::keys::special_keys;
use crate::commands::model::{flag, Access, Begin, CommandDef, Find, KeyRef};
use crate::commands::row::parse_row;
use crate::commands::spec::{access_of, keys_from_specs};
use crate::commands::CommandId;
use crate::format::monitor::Args;

const BUILTIN: &str = include_str!("table.tsv");

/// The table of every known command.
pub struct Table {
    commands: Vec<CommandDef>,
    by_name: NameIndex,
    /// By command id: the keys its specs give when they depend on the argument count alone.
    quick: Vec<Quick>,
}

/// A command's keys when its key specs name them by position only (`GET key`, `RENAME a b`,
/// `MGET k…`): worked out once from the specs, so that a call's keys cost a compare and a copy
/// instead of a walk of the specs. Any call it does not cover goes the whole way, so the keys
/// found are the same.
#[derive(Debug, Clone)]
enum Quick {
    /// The specs are walked for every call.
    Walk,
    /// One key, for a call that reaches it (`GET key`, `SET key value`): most calls, found
    /// without looking through a list.
    One(KeyRef),
    /// These keys, for a call of more than `argc_over` arguments.
    Fixed { keys: Box<[KeyRef]>, argc_over: usize },
    /// One spec: every `step`-th argument from `first` to the `back`-th from the end.
    Rest { first: usize, back: usize, step: usize, access: Access },
}

impl Quick {
    fn of(cmd: &CommandDef) -> Quick {
        if !cmd.by_specs {
            return Quick::Walk;
        }
        let specs: Vec<_> = cmd.specs.iter().filter(|s| s.flags & flag::NOT_KEY == 0).collect();
        let mut keys = Vec::new();
        let mut argc_over = 0;
        for spec in &specs {
            let access = access_of(spec.flags, cmd);
            match (&spec.begin, spec.find) {
                _ if spec.flags & flag::INCOMPLETE != 0 => return Quick::Walk,
                (&Begin::Index(first), Find::Range { last, step, .. }) if last >= 0 => {
                    let end = first + last as usize;
                    keys.extend((first..=end).step_by(step.max(1)).map(|pos| KeyRef { pos, access }));
                    argc_over = argc_over.max(end);
                }
                (&Begin::Index(first), Find::Range { last, step, limit: 0 }) if specs.len() == 1 => {
                    return Quick::Rest { first, back: last.unsigned_abs() as usize, step: step.max(1), access };
                }
                _ => return Quick::Walk,
            }
        }
        match keys[..] {
            [one] if one.pos == argc_over => Quick::One(one),
            _ => Quick::Fixed { keys: keys.into(), argc_over },
        }
    }

    /// Appends the keys of a call of `argc` arguments; false when this call needs the walk.
    #[inline(always)]
    fn keys(&self, argc: usize, out: &mut Vec<KeyRef>) -> bool {
        match self {
            Quick::Walk => false,
            &Quick::One(key) => {
                if argc <= key.pos {
                    return false;
                }
                out.push(key);
                true
            }
            Quick::Fixed { keys, argc_over } => {
                if argc <= *argc_over {
                    return false;
                }
                out.extend_from_slice(keys);
                true
            }
            &Quick::Rest { first, back, step, access } => {
                // The last key's position, `argc - back`, must be a key after `first`.
                if first >= argc || argc < back || argc - back < first {
                    return false;
                }
                out.extend((first..=argc - back).step_by(step).map(|pos| KeyRef { pos, access }));
                true
            }
        }
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} commands)", self.commands.len())
    }
}

impl Table {
    /// The built-in table, built once per process and shared.
    pub fn shared() -> Arc<Table> {
        static TABLE: std::sync::OnceLock<Arc<Table>> = std::sync::OnceLock::new();
        Arc::clone(TABLE.get_or_init(|| Arc::new(Table::builtin())))
    }

    /// The built-in table: Redis's and Valkey's commands and the modules Redis ships.
    pub fn builtin() -> Table {
        let rows = BUILTIN.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        Table::from_commands(
            rows.map(|line| parse_row(line).unwrap_or_else(|| panic!("bad command table row: {line}"))),
        )
    }

    /// The built-in table with a server's own commands ahead of it: each replaces the built-in
    /// command of its name (keeping the built-in key function for what its specs cannot say), and
    /// commands the built-in table lacks are added.
    pub fn with_server(server: Vec<CommandDef>) -> Table {
        let builtin = Table::shared();
        let mut commands = builtin.commands.clone();
        for mut cmd in server {
            match builtin.by_name.get(cmd.name.as_bytes()) {
                // JSON.MGET and CMS.MERGE as their modules register them: the first key only.
                Some(id) if builtin.get(id).corrects(&cmd) => {}
                Some(id) => {
                    cmd.special = builtin.get(id).special;
                    cmd.decide_by_specs();
                    commands[usize::from(id)] = cmd;
                }
                None => commands.push(cmd),
            }
        }
        Table::from_commands(commands)
    }

    fn from_commands(commands: impl IntoIterator<Item = CommandDef>) -> Table {
        let commands: Vec<CommandDef> = commands.into_iter().collect();
        let mut table = Table { by_name: NameIndex::new(commands.len()), commands: Vec::new(), quick: Vec::new() };
        for mut cmd in commands {
            cmd.has_subcommands = false;
            let id = CommandId::try_from(table.commands.len()).expect("command table fits u16");
            if table.by_name.get(cmd.name.as_bytes()).is_none() {
                table.by_name.insert(cmd.name.as_bytes(), id);
                table.commands.push(cmd);
            }
        }
        let containers: Vec<String> =
            table.commands.iter().filter_map(|c| c.name.split_once('|').map(|(c, _)| c.to_string())).collect();
        for name in containers {
            if let Some(id) = table.by_name.get(name.as_bytes()) {
                table.commands[usize::from(id)].has_subcommands = true;
            }
        }
        table.quick = table.commands.iter().map(Quick::of).collect();
        table
    }

    /// Every command in the table.
    pub fn commands(&self) -> &[CommandDef] {
        &self.commands
    }

    pub fn get(&self, id: CommandId) -> &CommandDef {
        &self.commands[usize::from(id)]
    }

    /// Resolves a command from its first two arguments, ignoring case.
    pub fn lookup(&self, name: &[u8], second: Option<&[u8]>) -> Lookup {
        let mut buf = [0u8; 64];
        let Some(lower) = lowercase(name, &mut buf) else { return Lookup::Unknown };
        let Some(id) = self.by_name.get(lower) else { return Lookup::Unknown };
        if self.get(id).has_subcommands {
            if let Some(sub) = second {
                let mut full = [0u8; 128];
                let n = lower.len();
                full[..n].copy_from_slice(lower);
                full[n] = b'|';
                if let Some(sub) = lowercase(sub, &mut buf) {
                    if n + 1 + sub.len() <= full.len() {
                        full[n + 1..n + 1 + sub.len()].copy_from_slice(sub);
                        if let Some(sid) = self.by_name.get(&full[..n + 1 + sub.len()]) {
                            return Lookup::Known(sid, 2);
                        }
                    }
                }
            }
        }
        Lookup::Known(id, 1)
    }

    /// Appends the keys of one call to `out`. An unknown command's first argument is its key.
    // Always inlined where a line is decoded: most calls' keys are a compare and a push.
    #[inline(always)]
    pub fn keys(&self, found: Lookup, args: &Args<'_>, out: &mut Vec<KeyRef>) {
        match found {
            Lookup::Unknown => {
                if args.len() > 1 {
                    out.push(KeyRef { pos: 1, access: Access::Read });
                }
            }
            Lookup::Known(id, _) => {
                if !self.quick[usize::from(id)].keys(args.len(), out) {
                    self.walk_keys(id, args, out);
                }
            }
        }
    }

    /// The keys of a call of a known command, by its specs or its key function.
    #[inline(never)]
    fn walk_keys(&self, id: CommandId, args: &Args<'_>, out: &mut Vec<KeyRef>) {
        let cmd = self.get(id);
        let start = out.len();
        if cmd.by_specs && keys_from_specs(cmd, args, out) {
            return;
        }
        out.truncate(start);
        special_keys(cmd, args, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::monitor::ArgsStore;

    /// The keys worked out ahead are the keys the walk of the specs finds, for every command of
    /// the built-in table and every argument count up to 12.
    #[test]
    fn quick_keys_are_the_walked_keys() {
        let table = Table::builtin();
        let mut quick_calls = 0;
        for (id, cmd) in (0..).zip(table.commands()) {
            for argc in 0..=12 {
                let mut words: Vec<Vec<u8>> = vec![cmd.name.clone().into_bytes()];
                words.extend((1..argc).map(|i| format!("k{i}").into_bytes()));
                let words: Vec<&[u8]> = words.iter().map(|w| &w[..]).collect();
                let words = &words[..argc.max(1)];
                let mut store = ArgsStore::default();
                let args = Args::from_words(words, &mut store);
                let (mut quick, mut walked) = (Vec::new(), Vec::new());
                table.walk_keys(id, &args, &mut walked);
                if table.quick[usize::from(id)].keys(args.len(), &mut quick) {
                    quick_calls += 1;
                    assert_eq!(quick, walked, "{} with {} arguments", cmd.name, args.len());
                } else {
                    assert!(quick.is_empty());
                }
            }
        }
        assert!(quick_calls > 1_000, "most commands' keys are worked out ahead: {quick_calls}");
    }
}
