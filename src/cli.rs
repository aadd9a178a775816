//! Command-line arguments into one plain [`Config`]; every flag is documented once, in [`HELP`],
//! which `--help` prints and the man page follows.

use std::ffi::OsString;
use std::fmt;

use crate::filters::Filters;
use crate::records::Emit;
use crate::stats::GapRule;
use crate::window::parse_duration;

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs in order; `-` is standard input. Empty means standard input.
    pub files: Vec<OsString>,
    pub format: Format,
    pub emit: Option<Emit>,
    pub top: usize,
    pub prefix_delimiter: Vec<u8>,
    pub prefix_depth: usize,
    pub gap_rule: GapRule,
    pub max_keys: usize,
    /// Write credentials as `(redacted)`.
    pub redact: bool,
    /// Where to write every skipped line, exactly as read.
    pub rejects: Option<OsString>,
    /// A report per period of this many microseconds.
    pub every: Option<u64>,
    /// Each rolling report covers this many microseconds (a multiple of `every`).
    pub window: Option<u64>,
    /// Mark keys at or above this rate.
    pub hot_qps: Option<f64>,
    pub filters: Filters,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// What the command line asked for besides a run.
#[derive(Debug)]
pub enum Action {
    Run(Box<Config>),
    Help,
    Version,
}

/// A mistake on the command line; the message names the flag or value.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const DEFAULT_MAX_KEYS: usize = 50_000;

pub const HELP: &str = "\
faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream

Usage: faina-filter [OPTIONS] [FILE...]

Reads raw MONITOR output (redis-cli monitor, or telnet/nc with +OK and CRLF), or its own --emit
tsv records, from standard input or the FILEs ('-' is standard input). Several FILEs are several
nodes, read at once and labelled NAME=PATH or by file name. Prints a hot-key report at the end
(or every period), or passes normalized tab-separated records through for sort, awk and friends.

Report:
      --top N                  rows per section [default: 10]
      --prefix-delimiter STR   what separates key prefixes [default: :]
      --prefix-depth N         delimiters a prefix spans [default: 1]
      --redis-version VER      the server's version: before 6.2.4 a command's line was written
                               before it ran, so each gap is charged to the earlier line
                               [default: 6.2.4 or later: the gap is charged to the later line]
      --format text|json       the report as text, or as one JSON object on one line [default: text]
      --max-keys N             distinct keys counted exactly (half as many for bytes per key, a
                               quarter for prefixes, clients, slots, unknown commands); past it
                               the heaviest are kept with error bounds [default: 50000: under
                               32 MiB in all, however long the keys]

Records (instead of the report):
      --emit tsv               one line per command: timestamp, db, client, command, arg1, arg2...
      --emit keys              one line per key access: timestamp, db, client, command, key,
                               read|write
                               (with several inputs, a node column comes first)

Rolling reports (for live streams):
      --every DURATION         a report per period (500ms, 10s, 1m, 1h), aligned to multiples of
                               the period since the epoch, by the MONITOR timestamps
      --window DURATION        each report covers the last DURATION, a multiple of --every of
                               at most 100 periods [default: the period]
      --hot-qps N              mark keys at or above N accesses per second, and count them

Filters (before anything is counted or written; each may be repeated):
      --db N                   only commands in db N
      --command NAME           only this command (lower or upper case; 'client' takes in its
                               subcommands, 'client|setname' or 'client setname' one of them)
      --client ADDR            only this client: ip:port, ip (any port), [ipv6], lua, or unix
      --key GLOB               only keys matching this Redis glob pattern (user:*, h?llo, [a-c]*)

Input:
      --rejects FILE           write every skipped line (not a MONITOR line) to FILE, as read
                               but for the credentials still recognisable in it; FILE is made
                               for its owner only, and must be new or empty and not an input
      --no-redact              show credentials (AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, CONFIG SET
                               of sensitive configs, ACL SETUSER/DELUSER/GETUSER) instead of
                               writing (redacted), following the server's own rules

  -h, --help                   print this help
  -V, --version                print the version

Keys and arguments are always written escaped (\\\\ \\t \\n \\r \\xHH; valid UTF-8 as is), so no
control byte reaches the terminal and every record is one line.

Exit status: 0 on success (also when the reader of the output went away, or Ctrl-C ended the
run and its report was written), 1 when an input cannot be read or the output cannot be
written, 2 on a usage error, 130 when a second Ctrl-C (or one while the output was blocked)
ended it.

Examples:
  redis-cli -h HOST monitor | faina-filter
  telnet HOST 6379 | faina-filter --every 10s --hot-qps 3000
  faina-filter --every 10s n1=<(redis-cli -h n1 monitor) n2=<(redis-cli -h n2 monitor)
  faina-filter capture.txt
  redis-cli monitor | faina-filter --emit keys | cut -f5 | sort | uniq -c | sort -rn | head
";

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    use lexopt::prelude::*;

    let mut config = Config {
        files: Vec::new(),
        format: Format::Text,
        emit: None,
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
        filters: Filters::default(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('h') | Long("help") => return Ok(Action::Help),
            Short('V') | Long("version") => return Ok(Action::Version),
            Long("top") => config.top = number(&mut parser, "--top", 0)?,
            Long("prefix-depth") => config.prefix_depth = number(&mut parser, "--prefix-depth", 1)?,
            Long("max-keys") => config.max_keys = number(&mut parser, "--max-keys", 1)?,
            Long("prefix-delimiter") => {
                let value = text(&mut parser, "--prefix-delimiter")?;
                if value.is_empty() {
                    return Err(UsageError("--prefix-delimiter: the delimiter cannot be empty".into()));
                }
                config.prefix_delimiter = value.into_bytes();
            }
            Long("redis-version") => {
                let value = text(&mut parser, "--redis-version")?;
                config.gap_rule = gap_rule_for(&value).ok_or_else(|| {
                    UsageError(format!("--redis-version: '{value}' is not a version such as 2.8, 6.2.3 or 7.0"))
                })?;
            }
            Long("format") => {
                config.format = match text(&mut parser, "--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => return Err(UsageError(format!("--format: '{other}' is not text or json"))),
                }
            }
            Long("emit") => {
                config.emit = Some(match text(&mut parser, "--emit")?.as_str() {
                    "tsv" => Emit::Tsv,
                    "keys" => Emit::Keys,
                    other => return Err(UsageError(format!("--emit: '{other}' is not tsv or keys"))),
                })
            }
            Long("no-redact") => config.redact = false,
            Long("every") => config.every = Some(duration(&mut parser, "--every")?),
            Long("window") => config.window = Some(duration(&mut parser, "--window")?),
            Long("hot-qps") => {
                let value = text(&mut parser, "--hot-qps")?;
                match value.parse::<f64>() {
                    Ok(q) if q > 0.0 && q.is_finite() => config.hot_qps = Some(q),
                    _ => return Err(UsageError(format!("--hot-qps: '{value}' is not a positive rate"))),
                }
            }
            Long("db") => config.filters.dbs.push(number(&mut parser, "--db", 0)? as u64),
            Long("command") => {
                let name = text(&mut parser, "--command")?.to_ascii_lowercase().replace(' ', "|");
                config.filters.commands.push(name.into_bytes());
            }
            Long("client") => config.filters.clients.push(raw(&mut parser)?),
            Long("key") => config.filters.keys.push(raw(&mut parser)?),
            Long("rejects") => config.rejects = Some(parser.value().map_err(usage)?),
            Value(file) => config.files.push(file),
            _ => return Err(usage(arg.unexpected())),
        }
    }
    match (config.every, config.window) {
        (None, Some(_)) => return Err(UsageError("--window needs --every".into())),
        (Some(every), Some(window)) if window < every || window % every != 0 => {
            return Err(UsageError("--window must be a whole multiple of --every".into()))
        }
        (Some(every), Some(window)) if window / every > crate::window::MAX_PERIODS => {
            return Err(UsageError(format!(
                "--window may span at most {} periods of --every (each keeps a summary)",
                crate::window::MAX_PERIODS
            )))
        }
        _ => {}
    }
    if config.every.is_some() && config.emit.is_some() {
        return Err(UsageError(
            "--every makes rolling reports, and --emit writes records as they come: use one or the other".into(),
        ));
    }
    Ok(Action::Run(Box::new(config)))
}

/// A value taken as bytes (a client address or a key pattern need not be UTF-8).
fn raw(parser: &mut lexopt::Parser) -> Result<Vec<u8>, UsageError> {
    use std::os::unix::ffi::OsStringExt;
    Ok(parser.value().map_err(usage)?.into_vec())
}

fn duration(parser: &mut lexopt::Parser, flag: &str) -> Result<u64, UsageError> {
    let value = text(parser, flag)?;
    parse_duration(&value)
        .ok_or_else(|| UsageError(format!("{flag}: '{value}' is not a duration such as 500ms, 10s, 1m or 1h")))
}

fn usage(e: lexopt::Error) -> UsageError {
    UsageError(e.to_string())
}

fn text(parser: &mut lexopt::Parser, flag: &str) -> Result<String, UsageError> {
    let value = parser.value().map_err(usage)?;
    value.into_string().map_err(|v| UsageError(format!("{flag}: '{}' is not valid UTF-8", v.to_string_lossy())))
}

fn number(parser: &mut lexopt::Parser, flag: &str, min: usize) -> Result<usize, UsageError> {
    let value = text(parser, flag)?;
    match value.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(UsageError(format!("{flag}: '{value}' is not a whole number of at least {min}"))),
    }
}

/// Servers before 6.2.4 wrote a command's line before running it.
fn gap_rule_for(version: &str) -> Option<GapRule> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(OsString::from)) {
            Ok(Action::Run(c)) => Ok(*c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.0),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[]).unwrap();
        assert_eq!((c.top, c.prefix_depth, c.max_keys), (10, 1, DEFAULT_MAX_KEYS));
        assert_eq!(c.prefix_delimiter, b":");
        assert_eq!(c.gap_rule, GapRule::Later);
        assert_eq!(c.format, Format::Text);
        assert!(c.emit.is_none() && c.files.is_empty());
        assert!(c.redact && c.rejects.is_none());
        let c = run(&["--no-redact", "--rejects", "r.txt"]).unwrap();
        assert!(!c.redact);
        assert_eq!(c.rejects.unwrap(), "r.txt");
    }

    #[test]
    fn flags_and_files() {
        let c = run(&["--top", "3", "--prefix-delimiter=/", "a.txt", "-", "--emit", "keys", "--redis-version", "2.8"])
            .unwrap();
        assert_eq!(c.top, 3);
        assert_eq!(c.prefix_delimiter, b"/");
        assert_eq!(c.files, ["a.txt", "-"]);
        assert_eq!(c.emit, Some(Emit::Keys));
        assert_eq!(c.gap_rule, GapRule::Earlier);
        assert_eq!(run(&["--redis-version", "6.2.4"]).unwrap().gap_rule, GapRule::Later);
        assert_eq!(run(&["--redis-version", "6.2.3"]).unwrap().gap_rule, GapRule::Earlier);
        assert_eq!(run(&["--redis-version", "7"]).unwrap().gap_rule, GapRule::Later);
    }

    #[test]
    fn rolling_reports_and_filters() {
        let c =
            run(&["--every", "10s", "--window", "1m", "--hot-qps", "3000", "--db", "3", "--command", "GET"]).unwrap();
        assert_eq!((c.every, c.window, c.hot_qps), (Some(10_000_000), Some(60_000_000), Some(3000.0)));
        assert_eq!(c.filters.dbs, [3]);
        assert_eq!(c.filters.commands, [b"get".to_vec()]);
        let c = run(&["--command", "CLIENT SETNAME", "--client", "lua", "--key", "user:*"]).unwrap();
        assert_eq!(c.filters.commands, [b"client|setname".to_vec()]);
        assert_eq!(c.filters.clients, [b"lua".to_vec()]);
        assert_eq!(c.filters.keys, [b"user:*".to_vec()]);
    }

    #[test]
    fn usage_errors_name_the_flag() {
        for (args, needle) in [
            (&["--top", "x"][..], "--top"),
            (&["--format", "xml"], "--format"),
            (&["--emit", "csv"], "--emit"),
            (&["--redis-version", "new"], "--redis-version"),
            (&["--bogus"], "--bogus"),
            (&["--prefix-depth", "0"], "--prefix-depth"),
            (&["--top"], "--top"),
            (&["--every", "10"], "--every"),
            (&["--every", "1s", "--window", "1500ms"], "--window"),
            (&["--every", "1s", "--window", "101s"], "--window"),
            (&["--window", "10s"], "--window"),
            (&["--every", "1s", "--emit", "tsv"], "--every"),
            (&["--hot-qps", "-3"], "--hot-qps"),
            (&["--db", "x"], "--db"),
        ] {
            let err = run(args).unwrap_err();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
}
