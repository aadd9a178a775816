//! `--db`, `--command`, `--client` and `--key`: which commands and keys count, decided before
//! anything is counted or written. Each flag may be given more than once (any of its values
//! matches); different flags must all match.

use crate::commands::KeyRef;
use crate::format::monitor::client_address;
use crate::pipeline::decode::Command;
use crate::pipeline::glob;

/// What the filters say of a command.
pub enum Verdict<'k> {
    Fails,
    Passes,
    /// It passes with only these of its keys.
    PassesWithKeys(&'k [KeyRef]),
}

/// The filters of one run; empty lists match everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub dbs: Vec<u64>,
    /// Normalized command names; `client` also matches its subcommands (`client|setname`).
    pub commands: Vec<Vec<u8>>,
    /// `10.0.0.5:41000`, `10.0.0.5` (any port), `[::1]`, `lua`, or `unix` (any unix socket).
    pub clients: Vec<Vec<u8>>,
    /// Redis glob patterns a key must match.
    pub keys: Vec<Vec<u8>>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty() && self.commands.is_empty() && self.clients.is_empty() && self.keys.is_empty()
    }

    /// True when a command from this db and client, with this normalized name, passes.
    pub fn command_passes(&self, db: &[u8], client: &[u8], command: &[u8]) -> bool {
        let db_ok = self.dbs.is_empty() || parse_db(db).is_some_and(|n| self.dbs.contains(&n));
        let command_ok = self.commands.is_empty()
            || self.commands.iter().any(|c| {
                c.as_slice() == command || command.strip_prefix(c.as_slice()).is_some_and(|rest| rest.starts_with(b"|"))
            });
        let client_ok = self.clients.is_empty()
            || self.clients.iter().any(|c| {
                c.as_slice() == client
                    || c.as_slice() == client_address(client)
                    || (c.as_slice() == b"unix" && client.starts_with(b"unix"))
            });
        db_ok && command_ok && client_ok
    }

    /// Whether the command passes; with `--key`, only its keys that match do (`kept` holds
    /// them).
    pub fn apply<'k>(&self, cmd: &Command<'_>, kept: &'k mut Vec<KeyRef>) -> Verdict<'k> {
        if !self.command_passes(cmd.header.db, cmd.header.client, cmd.name) {
            return Verdict::Fails;
        }
        if self.keys.is_empty() {
            return Verdict::Passes;
        }
        kept.clear();
        kept.extend(cmd.keys.iter().filter(|k| self.keys.iter().any(|p| glob::matches(p, cmd.args.get(k.pos)))));
        if kept.is_empty() {
            return Verdict::Fails;
        }
        Verdict::PassesWithKeys(kept)
    }
}

fn parse_db(db: &[u8]) -> Option<u64> {
    std::str::from_utf8(db).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Access;
    use crate::format::monitor::{Args, ArgsStore, Header};

    fn filters(dbs: &[u64], commands: &[&str], clients: &[&str], keys: &[&str]) -> Filters {
        let bytes = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
        Filters { dbs: dbs.to_vec(), commands: bytes(commands), clients: bytes(clients), keys: bytes(keys) }
    }

    #[test]
    fn commands_by_db_name_and_client() {
        let f = filters(&[3], &[], &[], &[]);
        assert!(f.command_passes(b"3", b"1.1.1.1:5", b"get"));
        assert!(!f.command_passes(b"0", b"1.1.1.1:5", b"get"));
        let f = filters(&[], &["get", "client"], &[], &[]);
        assert!(f.command_passes(b"0", b"x", b"get"));
        assert!(f.command_passes(b"0", b"x", b"client|setname"));
        assert!(!f.command_passes(b"0", b"x", b"getset"));
        let f = filters(&[], &[], &["10.0.0.5", "lua", "unix"], &[]);
        assert!(f.command_passes(b"0", b"10.0.0.5:41000", b"get"));
        assert!(f.command_passes(b"0", b"lua", b"get"));
        assert!(f.command_passes(b"0", b"unix:/tmp/redis.sock", b"get"));
        assert!(!f.command_passes(b"0", b"10.0.0.6:41000", b"get"));
        let f = filters(&[], &[], &["10.0.0.5:41000", "[::1]"], &[]);
        assert!(f.command_passes(b"0", b"10.0.0.5:41000", b"get"));
        assert!(!f.command_passes(b"0", b"10.0.0.5:41001", b"get"));
        assert!(f.command_passes(b"0", b"[::1]:6000", b"get"));
    }

    #[test]
    fn keys_by_glob() {
        let f = filters(&[], &[], &[], &["user:*"]);
        let words: Vec<&[u8]> = vec![b"mget", b"user:1", b"session:1", b"user:2"];
        let mut store = ArgsStore::default();
        let args = Args::from_words(&words, &mut store);
        let keys: Vec<KeyRef> = (1..4).map(|pos| KeyRef { pos, access: Access::Read }).collect();
        let header = Header { ts: b"1.000001", micros: 1_000_001, db: b"0", client: b"lua", node: None };
        let cmd = Command {
            header,
            args,
            name: b"mget",
            id: None,
            keys: &keys,
            node: 0,
            node_label: None,
            bytes: 0,
            reply: None,
            packet: false,
        };
        let mut kept = Vec::new();
        let Verdict::PassesWithKeys(passed) = f.apply(&cmd, &mut kept) else { panic!("two keys match") };
        assert_eq!(passed.iter().map(|k| k.pos).collect::<Vec<_>>(), [1, 3]);
        let none = [KeyRef { pos: 2, access: Access::Read }];
        let mut kept = Vec::new();
        assert!(matches!(f.apply(&Command { keys: &none, ..cmd }, &mut kept), Verdict::Fails));
    }
}
