//! The table of every known command: built in (`table.tsv`), or a server's own ahead of it; a
//! call's name resolved ([`Table::lookup`]) and its keys found ([`Table::keys`]), by the key
//! specs ([`crate::commands::spec`]) or the server's own key functions
//! ([`crate::commands::keys`]).

use std::sync::Arc;

use crate::commands::index::{lowercase, Lookup, NameIndex};
use crate::commands::keys::special_keys;
use crate::commands::model::{Access, CommandDef, KeyRef};
use crate::commands::row::parse_row;
use crate::commands::spec::keys_from_specs;
use crate::commands::CommandId;
use crate::format::monitor::Args;

const BUILTIN: &str = include_str!("table.tsv");

/// The table of every known command.
pub struct Table {
    commands: Vec<CommandDef>,
    by_name: NameIndex,
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
        let mut table = Table { by_name: NameIndex::new(commands.len()), commands: Vec::new() };
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
    pub fn keys(&self, found: Lookup, args: &Args<'_>, out: &mut Vec<KeyRef>) {
        match found {
            Lookup::Unknown => {
                if args.len() > 1 {
                    out.push(KeyRef { pos: 1, access: Access::Read });
                }
            }
            Lookup::Known(id, _) => {
                let cmd = self.get(id);
                let start = out.len();
                if cmd.by_specs && keys_from_specs(cmd, args, out) {
                    return;
                }
                out.truncate(start);
                special_keys(cmd, args, out);
            }
        }
    }
}
