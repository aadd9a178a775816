//! The low-level parse: arguments into a [`Config`] of plain values, flag by flag, through the
//! table of [`crate::cli::flags`]. It reads no file and looks at nothing outside the arguments
//! (as ripgrep's `lowargs`): what the flags name is read, and what involves more than one flag
//! is checked, afterwards by [`crate::cli::resolve()`].

use std::ffi::OsString;

use crate::cli::config::{Action, Config};
use crate::error::UsageError;

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    use crate::cli::flags::{self, Apply};
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
    Ok(Action::Run(Box::new(config)))
}

/// `: did you mean --every?` for a misspelt long option, when one flag is close to it (at most
/// two edits, or a third of its length) or it starts exactly one flag's name; otherwise nothing.
fn did_you_mean(name: &str) -> String {
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    let mut near: Vec<(usize, &str)> = crate::cli::flags::FLAGS
        .iter()
        .map(|f| (edit_distance(name, f.long), f.long))
        .filter(|&(d, long)| d <= 2.max(long.len() / 3) && d < long.len())
        .collect();
    near.sort();
    let prefixed: Vec<&str> =
        crate::cli::flags::FLAGS.iter().map(|f| f.long).filter(|l| name.len() >= 2 && l.starts_with(name)).collect();
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
    use crate::cli::config::{Emit, ReportFormat, DEFAULT_MAX_KEYS};
    use crate::count::stats::GapRule;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(OsString::from)) {
            Ok(Action::Run(c)) => Ok(*c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.0),
        }
    }

    /// The parse and the resolve step's checks of the flags against each other.
    fn checked(args: &[&str]) -> Result<Config, String> {
        let config = run(args)?;
        crate::cli::resolve::check(&config).map_err(|e| e.0)?;
        Ok(config)
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
        assert_eq!(c.format, ReportFormat::Text);
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
            let err = checked(args).unwrap_err();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
}
