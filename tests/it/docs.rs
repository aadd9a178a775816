//! The documentation agrees with the code: the man page's OPTIONS section is the flag table's
//! (`FAINA_UPDATE_DOCS=1 cargo test --test it docs::` rewrites it), every default the docs give is the
//! default the parser sets, and every flag the README or the man page names exists.

use std::ffi::OsString;
use std::path::Path;

use faina_filter::cli::{self, Action, Config};
use faina_filter::flags::{self, FLAGS};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parsed(args: &[&str]) -> Config {
    match cli::parse(args.iter().map(OsString::from)) {
        Ok(Action::Run(config)) => *config,
        other => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn the_man_pages_options_come_from_the_flag_table() {
    let path = root().join("man/faina-filter.1");
    let page = std::fs::read_to_string(&path).unwrap();
    let start = page.find(".SH OPTIONS\n").expect("an OPTIONS section");
    let end = start + page[start + 1..].find("\n.SH ").expect("a section after OPTIONS") + 2;
    let want = cli::doc::man_options();
    if page[start..end] != want {
        if std::env::var_os("FAINA_UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &page[..start], &page[end..])).unwrap();
        } else {
            panic!("man/faina-filter.1's OPTIONS differ from src/cli/flags.rs (FAINA_UPDATE_DOCS=1 rewrites them)");
        }
    }
}

#[test]
fn every_documented_default_is_the_default() {
    let defaults = format!("{:?}", Config::default());
    assert_eq!(format!("{:?}", parsed(&[])), defaults);
    for flag in FLAGS {
        let (Some(value), Some(default)) = (flag.value, flag.default) else { continue };
        if default == "the period" {
            assert_eq!(parsed(&["--every", "10s"]).window, None, "--window defaults to the period");
            continue;
        }
        assert!(!value.contains('|') || value.split('|').any(|v| v == default), "--{}", flag.long);
        let given = format!("{:?}", parsed(&[&format!("--{}", flag.long), default]));
        assert_eq!(given, defaults, "--{} {default} is not the default", flag.long);
    }
}

/// Every `--word` in `text`.
fn flags_named(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("--") {
        let name: String = text[at + 2..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
        let before = text[..at].chars().next_back();
        if name.len() > 1 && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            out.push(name.trim_end_matches('-').to_string());
        }
    }
    out
}

#[test]
fn every_flag_the_docs_name_exists_and_the_man_page_names_every_flag() {
    // Flags of other programs that the README and the man page show in recipes.
    let others = [
        "release",
        "path",
        "json",
        "locked",
        "all-targets",
        "check",
        "nocapture",
        "query",
        "tool",
        "test",
        "document-private-items",
        "features",
        // redis-cli's
        "tls",
        // clickhouse's
        "queries-file",
        // src/commands/generate.py's
        "docs",
        "redis",
        "valkey",
        "hand",
        // tcpdump's
        "immediate-mode",
        // .ci/run's
        "missing",
        // cargo's, examples/gencapture.rs's and valgrind's, in the README's instruction counts
        "example",
        "lines",
        "keys",
        "zipf",
        "separate-threads",
        "callgrind-out-file",
        // examples/floor.rs's
        "scan",
        "threads",
        "fast-hash",
        "report",
        "tight",
        "top",
    ];
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let page = std::fs::read_to_string(root().join("man/faina-filter.1")).unwrap().replace("\\-", "-");
    for (name, text) in [("README.md", &readme), ("man page", &page)] {
        for flag in flags_named(text) {
            assert!(
                flags::long(&flag).is_some() || others.contains(&flag.as_str()),
                "{name} names --{flag}, which is not a flag"
            );
        }
    }
    for flag in FLAGS {
        assert!(page.contains(&format!("--{}", flag.long)), "the man page lacks --{}", flag.long);
    }
}
