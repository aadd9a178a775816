//! What a run is asked to do: one plain [`Config`], filled in by [`crate::cli::parse()`] from the
//! flags of [`crate::cli::flags`]: the values as given, with nothing read yet (the files the flags
//! name are read by [`crate::cli::resolve()`]).

use std::ffi::OsString;

use crate::count::stats::GapRule;
use crate::pipeline::filters::Filters;

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs in order; `-` is standard input. Empty (and no `connect`) means standard input.
    pub files: Vec<OsString>,
    /// Servers to connect to and read MONITOR from.
    pub connect: Vec<crate::read::connect::Target>,
    /// Where the password for them is (`--password-file`).
    pub password_file: Option<OsString>,
    /// Ask for the password on the terminal.
    pub askpass: bool,
    /// End the run after this many microseconds.
    pub duration: Option<u64>,
    /// Monitor these node indexes through a cluster proxy (`IMONITOR n`).
    pub imonitor: Option<crate::read::connect::topology::Indexes>,
    /// The targets are seeds of a Redis Cluster: monitor its primaries (and `replicas`).
    pub cluster: bool,
    pub replicas: bool,
    /// How `rediss://` targets are reached (a build with the feature `tls`).
    pub tls: crate::read::connect::TlsOptions,
    pub format: ReportFormat,
    pub emit: Option<Emit>,
    /// Start `--emit keys` records with a line of column names.
    pub header: bool,
    pub top: usize,
    pub prefix_delimiter: Vec<u8>,
    pub prefix_depth: usize,
    pub gap_rule: GapRule,
    pub max_keys: usize,
    /// Write credentials as `(redacted)`.
    pub redact: bool,
    /// Where to write every skipped line (as read, credentials redacted).
    pub rejects: Option<OsString>,
    /// A report per period of this many microseconds.
    pub every: Option<u64>,
    /// Each rolling report covers this many microseconds (a multiple of `every`).
    pub window: Option<u64>,
    /// Mark keys at or above this rate.
    pub hot_qps: Option<f64>,
    /// Append rolling reports even on a terminal, instead of drawing them in place.
    pub no_screen: bool,
    /// A server's own command table (`--commands`), to read ahead of the built-in one; given
    /// more than once, the last.
    pub commands: Option<OsString>,
    /// The server's ports, in a packet capture (`--port`); empty means 6379.
    pub ports: Vec<u16>,
    pub filters: Filters,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Which records to write (`--emit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    Tsv,
    Keys,
}

/// What the command line asked for besides a run.
#[derive(Debug)]
pub enum Action {
    Run(Box<Config>),
    Help,
    Version,
    /// `--man`: show the manual.
    Manual,
}

pub const DEFAULT_MAX_KEYS: usize = 50_000;

/// The most rows per report section (`--top`): the report is built whole before it is written,
/// and its rows, each key's trend over a window, must stay inside the process's bound.
pub const MAX_TOP: usize = 5_000;

impl Default for Config {
    /// What a run does with no flags; `--help` and the man page say the same (a test checks).
    fn default() -> Config {
        Config {
            files: Vec::new(),
            connect: Vec::new(),
            password_file: None,
            askpass: false,
            duration: None,
            imonitor: None,
            cluster: false,
            replicas: false,
            tls: crate::read::connect::TlsOptions::default(),
            format: ReportFormat::Text,
            emit: None,
            header: false,
            top: 10,
            prefix_delimiter: b":".to_vec(),
            prefix_depth: 1,
            gap_rule: GapRule::Later,
            max_keys: DEFAULT_MAX_KEYS,
            redact: true,
            rejects: None,
            every: None,
            window: None,
            hot_qps: None,
            no_screen: false,
            commands: None,
            ports: Vec::new(),
            filters: Filters::default(),
        }
    }
}

/// Servers before 6.2.4 wrote a command's line before running it.
pub(crate) fn gap_rule_for(version: &str) -> Option<GapRule> {
    let mut parts = [0u32; 3];
    let mut n = 0;
    for part in version.split('.') {
        if n == 3 || part.is_empty() {
            return None;
        }
        parts[n] = part.parse().ok()?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Some(if parts < [6, 2, 4] { GapRule::Earlier } else { GapRule::Later })
}
