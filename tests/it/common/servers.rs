//! The servers the end-to-end tests run on: the system's `redis-server` (Debian's 7.0.15 here),
//! and Redis 8.6 and Valkey 9.1 as `.ci/servers.sh` builds them, found in its cache
//! (`$FAINA_SERVERS`, default `/var/cache/faina-filter/servers`).
//!
//! A built server that is missing is SKIPPED loudly (the tests then run on the others), and under
//! CI=true fails the test: CI builds them first.

use std::path::{Path, PathBuf};

/// One server build: its name as the tests report it, and its programs.
#[derive(Debug, Clone)]
pub struct Server {
    /// `redis 7.0.15 (system)`, `redis 8.6.3`, `valkey 9.1.2`.
    pub name: String,
    /// The server program (`redis-server`, `valkey-server`).
    pub program: PathBuf,
    /// Its command-line client (`redis-cli`, `valkey-cli`).
    pub cli: PathBuf,
    /// Which line of servers it is: Redis or Valkey.
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The system's redis-server, whatever its version.
    System,
    Redis86,
    Valkey91,
}

/// What `.ci/servers.sh` builds: (kind, folder in the cache, server program, client program).
const BUILT: [(Kind, &str, &str, &str); 2] = [
    (Kind::Redis86, "redis-8.6.3", "redis-server", "redis-cli"),
    (Kind::Valkey91, "valkey-9.1.2", "valkey-server", "valkey-cli"),
];

/// Where `.ci/servers.sh` puts its builds.
pub fn cache() -> PathBuf {
    std::env::var_os("FAINA_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/faina-filter/servers"))
}

/// The system's redis-server, when it is installed (`require` has said so loudly when not).
pub fn system() -> Option<Server> {
    if !super::require("redis-server") {
        return None;
    }
    let program = super::which("redis-server")?;
    Some(Server {
        name: format!("redis {} (system)", version(&program)),
        program,
        cli: super::which("redis-cli").unwrap_or_else(|| PathBuf::from("redis-cli")),
        kind: Kind::System,
    })
}

/// One of the builds of `.ci/servers.sh`, or `None` after saying loudly that it is missing
/// (panicking under CI=true).
pub fn built(kind: Kind) -> Option<Server> {
    let &(_, folder, program, cli) = BUILT.iter().find(|(k, ..)| *k == kind)?;
    let home = cache().join(folder);
    let (program, cli) = (home.join(program), home.join(cli));
    if is_executable(&program) && is_executable(&cli) {
        return Some(Server { name: folder.replacen('-', " ", 1), program, cli, kind });
    }
    super::skip(&format!(
        "on {folder}: {} not found; this test also runs on {folder}, which .ci/servers.sh builds \
         (set FAINA_SERVERS to where it built them)",
        program.display()
    ));
    None
}

/// Every server the end-to-end tests run on: the system's, then each build that is there.
pub fn all() -> Vec<Server> {
    let mut out: Vec<Server> = system().into_iter().collect();
    out.extend(BUILT.iter().filter_map(|&(kind, ..)| built(kind)));
    out
}

/// The version a server program says it is (`Redis server v=7.0.15 sha=…`).
fn version(program: &Path) -> String {
    let out = std::process::Command::new(program).arg("--version").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    text.split_whitespace().find_map(|w| w.strip_prefix("v=")).unwrap_or("?").to_string()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
