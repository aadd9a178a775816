//! Command-line arguments into one plain [`Config`]. Every flag is defined once, in
//! [`crate::flags`], which the parsing, `--help` and the man page all read.

use std::ffi::OsString;

pub use crate::config::{Action, Config, Format, UsageError, DEFAULT_MAX_KEYS};

/// What `--help` prints: the flags come from [`crate::flags::FLAGS`].
pub fn help() -> String {
    format!(
        "\
faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream

Usage: faina-filter [OPTIONS] [--connect TARGET...] [FILE...]

Connects to servers and reads their MONITOR stream (--connect), or reads raw MONITOR output
(redis-cli monitor, or telnet/nc with +OK and CRLF), packet captures (tcpdump -w: pcap, pcapng)
or its own --emit tsv records, from standard input or the FILEs ('-' is standard input; a FIFO or
pipe is read as a live stream too). Several FILEs are several nodes, read at once and labelled
NAME=PATH or by file name. Prints a hot-key report at the end (or every period), or passes
normalized tab-separated records through for sort, awk and friends.

{}\
Keys and arguments are always written escaped (\\\\ \\t \\n \\r, and \\xHH for other control bytes,
C1 and bidirectional controls included, and for bytes that are not valid UTF-8; other UTF-8 as
is), so no control byte reaches the terminal and every record is one line.

Exit status: 0 on success (also when the reader of the output went away, or Ctrl-C, SIGTERM
or SIGHUP ended the run and its report was written), 1 when an input cannot be read, no
--connect server could be read, or the output cannot be written (standard output closed
included), 2 on a usage error, 130 (143, 129) when a second Ctrl-C (SIGTERM, SIGHUP), or one
while the output was blocked, ended it.

Examples:
  faina-filter --connect redis://HOST:6379 --every 10s
  REDISCLI_AUTH=... faina-filter --connect redis://user@HOST:6379 --duration 60s
  redis-cli -h HOST monitor | faina-filter
  telnet HOST 6379 | faina-filter --every 10s --hot-qps 3000
  faina-filter --connect redis://n1:6379 --cluster --every 10s
  faina-filter --connect redis://PROXY:6379 --imonitor all --every 10s
  faina-filter capture.txt
  redis-cli monitor | faina-filter --emit keys | cut -f5 | sort | uniq -c | sort -rn | head

The manual (faina-filter --man; man faina-filter once installed as the README says) says more
about each option, the report and the records.
",
        crate::flags::help_text()
    )
}

/// The manual page, as `man/faina-filter.1` has it: `--man` shows it, so it is there wherever the
/// binary is, installed by `cargo install` or copied alone.
pub const MANUAL: &str = include_str!("../man/faina-filter.1");

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    use crate::flags::{self, Apply};
    use lexopt::prelude::*;

    let mut config = Config::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        let (flag, name) = match arg {
            Value(file) => {
                config.files.push(file);
                continue;
            }
            Long(name) => (flags::long(name), format!("--{name}")),
            Short(c) => (flags::short(c), format!("-{c}")),
        };
        let Some(flag) = flag else {
            let hint = match &arg {
                Long(name) => did_you_mean(name),
                _ => String::new(),
            };
            return Err(UsageError(format!("{}{hint}", usage(arg.unexpected()).0)));
        };
        let name = if flag.short.is_some() { format!("--{}", flag.long) } else { name };
        match flag.apply {
            Apply::Help => return Ok(Action::Help),
            Apply::Version => return Ok(Action::Version),
            Apply::Manual => return Ok(Action::Manual),
            Apply::Switch(set) => set(&mut config),
            Apply::Value(set) => set(&mut config, &name, parser.value().map_err(usage)?)?,
        }
    }
    check(&config)?;
    Ok(Action::Run(Box::new(config)))
}

/// The checks that involve more than one flag.
fn check(config: &Config) -> Result<(), UsageError> {
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
    if config.emit.is_some() && config.format == Format::Json {
        return Err(UsageError(
            "--format json shapes the report, and --emit writes records instead of it: use one or the other".into(),
        ));
    }
    if config.header && config.emit != Some(crate::records::Emit::Keys) {
        return Err(UsageError(
            "--header names the columns of --emit keys (tsv records have a varying number of columns)".into(),
        ));
    }
    if (config.cluster || config.imonitor.is_some()) && config.connect.is_empty() {
        return Err(UsageError("--cluster and --imonitor need a --connect target (a seed node, a proxy)".into()));
    }
    if config.cluster && config.imonitor.is_some() {
        return Err(UsageError(
            "--cluster connects to the nodes themselves, --imonitor goes through a proxy: use one or the other".into(),
        ));
    }
    if config.tls.is_set() && !cfg!(feature = "tls") {
        return Err(UsageError(format!(
            "--tls-ca, --tls-cert, --tls-key, --sni, --tls-insecure: {}",
            crate::connect::NO_TLS
        )));
    }
    if config.replicas && !config.cluster {
        return Err(UsageError("--replicas goes with --cluster".into()));
    }
    if config.every.is_some() && config.emit.is_some() {
        return Err(UsageError(
            "--every makes rolling reports, and --emit writes records as they come: use one or the other".into(),
        ));
    }
    Ok(())
}

/// `: did you mean --every?` for a misspelt long option, when one flag is close to it (at most
/// two edits, or a third of its length) or it starts exactly one flag's name; otherwise nothing.
fn did_you_mean(name: &str) -> String {
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    let mut near: Vec<(usize, &str)> = crate::flags::FLAGS
        .iter()
        .map(|f| (edit_distance(name, f.long), f.long))
        .filter(|&(d, long)| d <= 2.max(long.len() / 3) && d < long.len())
        .collect();
    near.sort();
    let prefixed: Vec<&str> =
        crate::flags::FLAGS.iter().map(|f| f.long).filter(|l| name.len() >= 2 && l.starts_with(name)).collect();
    match (prefixed.as_slice(), near.first()) {
        (&[long], _) | (_, Some(&(_, long))) => format!(" (did you mean --{long}?)"),
        _ => String::new(),
    }
}

/// Levenshtein distance between two short ASCII names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

fn usage(e: lexopt::Error) -> UsageError {
    UsageError(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Emit;
    use crate::stats::GapRule;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(OsString::from)) {
            Ok(Action::Run(c)) => Ok(*c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.0),
        }
    }

    #[test]
    fn a_misspelt_option_gets_a_suggestion() {
        let err = |args: &[&str]| run(args).unwrap_err();
        assert_eq!(err(&["--evry", "10s"]), "invalid option '--evry' (did you mean --every?)");
        assert_eq!(err(&["--windw=1m"]), "invalid option '--windw' (did you mean --window?)");
        assert_eq!(err(&["--max-key", "5"]), "invalid option '--max-key' (did you mean --max-keys?)");
        assert_eq!(err(&["--formt", "json"]), "invalid option '--formt' (did you mean --format?)");
        assert_eq!(err(&["--rej", "r.txt"]), "invalid option '--rej' (did you mean --rejects?)");
        assert_eq!(err(&["--xyzzy"]), "invalid option '--xyzzy'");
        assert_eq!(err(&["-q"]), "invalid option '-q'");
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
