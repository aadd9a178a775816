//! The README's shell recipes, run as written: every line of its `sh` blocks is either run here
//! (in a scratch directory holding the capture files the recipes name, with the built binary as
//! `faina-filter` on PATH and a real server for `HOST`) and its result checked, or named with the
//! reason it cannot run here (a live stream for a minute, a remote host, a release build). A new
//! recipe that can run on one machine is run (and fails the test if it fails).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{Redis, TempDir, BIN};

const README: &str = include_str!("../../README.md");
const SAMPLE: &[u8] = include_bytes!("../../examples/sample-capture.txt");

/// Lines that cannot run here, by a piece of their text, and why.
const NOT_HERE: &[(&str, &str)] = &[
    ("cargo run --release", "a release build inside the test suite (the same run as `faina-filter FILE`)"),
    (".ci/run  ", "it is the test suite itself"),
    ("cargo test", "it is the test suite itself"),
    ("cargo install", "installing builds again; the test puts the built binary in ~/.cargo/bin instead"),
    ("timeout 60", "a minute of live traffic"),
    ("telnet HOST", "a live stream from a remote host, ended by hand"),
    ("nc -N", "a live stream from a remote host for a minute or more"),
    ("redis-cli monitor |", "a live stream that ends only by hand (tests/it/redis_e2e.rs captures one)"),
    ("redis-cli -h HOST monitor", "a live stream (tests/it/command_table.rs runs this recipe on a real server)"),
    ("monitor)", "live streams of three remote nodes"),
    ("ssh n1", "a remote node"),
    ("clickhouse local", "tests/it/column_stores.rs runs the ClickHouse recipes on chdb"),
    ("duckdb <", "tests/it/column_stores.rs runs the DuckDB recipes on DuckDB"),
    ("cargo-fuzz", "fuzzing takes minutes and a toolchain of its own"),
    ("fuzz", "fuzzing takes minutes and a toolchain of its own"),
    ("benches/bench.sh", "a benchmark of minutes on a 1.1 GB file"),
    ("cargo build --release", "a release build inside the test suite"),
    ("target/release/", "the release build's binaries (the suite runs its own build)"),
    ("valgrind --tool=callgrind", "instruction counts under valgrind, minutes on the release build"),
    ("benches/capture.sh", "a benchmark of minutes against a server of its own, as root"),
    ("tcpdump -i any", "a live capture of port 6379 that ends by hand (tests/it/capture.rs captures real traffic)"),
    ("capture.pcap", "a saved packet capture (tests/it/capture.rs reads real ones, in every format)"),
    ("benches/connect.sh", "a benchmark of minutes under redis-benchmark load"),
    (
        "--connect unix://",
        "a local server's live stream, ended by hand (tests/it/connect.rs reads one through a unix socket)",
    ),
    ("generate.py", "needs the Redis documentation repository's command data"),
    ("HOST", "a remote host"),
    ("PROXY", "a remote cluster proxy"),
    ("$PW", "a password of a remote server"),
    ("--redis REDIS_SOURCE", "the rest of the generate.py command"),
    ("--hand src/commands", "the rest of the generate.py command"),
];

/// Every line of the README's `sh` blocks, in order, continuation lines joined.
fn recipes() -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in README.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if in_sh && !line.trim().is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

fn not_here(line: &str) -> Option<&'static str> {
    NOT_HERE.iter().find(|(piece, _)| line.contains(piece)).map(|&(_, why)| why)
}

/// The scratch directory: the captures the recipes name, `faina-filter` on PATH, a home.
struct Scratch {
    dir: TempDir,
    path: String,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = TempDir::new("readme");
        let bin = dir.path("home/.cargo/bin");
        std::fs::create_dir_all(&bin).unwrap();
        // What `cargo install --path .` leaves: the binary in ~/.cargo/bin.
        std::fs::copy(BIN, bin.join("faina-filter")).unwrap();
        for name in ["capture.txt", "cap1.txt", "cap2.txt", "cap3.txt"] {
            std::fs::write(dir.path(name), SAMPLE).unwrap();
        }
        let gz = Command::new("gzip").arg("-c").arg(dir.path("capture.txt")).output().expect("run gzip");
        std::fs::write(dir.path("capture.txt.gz"), gz.stdout).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        Scratch { dir, path }
    }

    /// Runs one line with bash in the scratch directory: (status, stdout, stderr).
    fn run(&self, line: &str) -> (bool, String, String) {
        let out = Command::new("bash")
            .args(["-c", line])
            .current_dir(&self.dir.0)
            .env("PATH", &self.path)
            .env("HOME", self.dir.path("home"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env_remove("MANPATH")
            .output()
            .expect("run bash");
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.success(), text(out.stdout), text(out.stderr))
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path(name)).unwrap_or_default()
    }
}

/// What a recipe's result must show, by a piece of its text.
fn check(scratch: &Scratch, line: &str, out: &str) {
    let has = |piece: &str| line.contains(piece);
    if has("man faina-filter") && !has("--man >") {
        assert!(out.contains("FAINA-FILTER(1)") && out.contains("OPTIONS"), "the installed manual: {out}");
    } else if has("--man >") {
        assert_eq!(scratch.file("home/.cargo/share/man/man1/faina-filter.1"), faina_filter::cli::MANUAL);
    } else if has("jq .top_keys") {
        let keys: serde_json::Value = serde_json::from_str(out).expect("jq printed JSON");
        assert_eq!(keys[0]["name"], "config:feature-flags");
    } else if has("--json COMMAND") {
        assert!(scratch.file("commands.json").starts_with('['), "commands.json: the server's table");
    } else if has("cut -f5 | sort | uniq -c") {
        assert_eq!(
            out.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(),
            ["2497", "config:feature-flags"]
        );
    } else if has("--emit tsv n1=cap1.txt > n1.tsv") {
        let tsv = scratch.file("n1.tsv");
        assert_eq!(tsv.lines().count(), 8511, "one record per command");
        assert!(tsv.lines().all(|l| l.starts_with("n1\t")));
    } else if has("ping") {
        all_but_pings(scratch, line, out);
    } else if has("--header") {
        assert!(scratch.file("keys.tsv").starts_with("node\ttimestamp\tdb\tclient\tcommand\tkey\taccess\tslot\n"));
    } else if has("--every 1m") {
        assert!(out.matches("Top Keys").count() >= 1, "{out}");
    } else if has("--emit") {
        assert!(!out.is_empty(), "{line}: no records");
    } else {
        assert!(out.contains("Top Keys") && out.contains("config:feature-flags"), "{line}: {out}");
    }
}

/// The records recipe that leaves out PINGs: the records it passes on hold none, and all the rest.
fn all_but_pings(scratch: &Scratch, line: &str, out: &str) {
    let filter = line.rsplit_once(" | faina-filter").unwrap().0;
    let (ok, kept, _) = scratch.run(filter);
    assert!(ok);
    let all = scratch.file("n1.tsv");
    let pings = all.lines().filter(|l| l.split('\t').nth(4) == Some("ping")).count();
    assert!(pings > 0, "the capture has PINGs, so the recipe is tried");
    assert!(!kept.lines().any(|l| l.split('\t').nth(4) == Some("ping")), "a PING got through");
    assert_eq!(kept.lines().count(), all.lines().count() - pings);
    assert!(out.contains("Top Keys"), "{out}");
}

#[test]
fn the_readmes_recipes_run_as_written() {
    if !common::require("man") || !common::require("jq") || !common::require("gzip") {
        return;
    }
    let Some(redis) = Redis::start(&[]) else { return };
    let scratch = Scratch::new();
    let mut ran = 0;
    for line in recipes() {
        // A redis-cli recipe's host is the test's own server; any other remote host cannot be.
        let here =
            line.replace("redis-cli -h HOST --json", &format!("redis-cli -h 127.0.0.1 -p {} --json", redis.port));
        if not_here(&here).is_some() {
            continue;
        }
        if line.starts_with(".ci/run --missing") {
            // Run from the clone; whether this machine lacks something is not the README's to say.
            let out = Command::new("bash").args([".ci/run", "--missing"]).output().unwrap();
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(said == "nothing missing\n" || (said.starts_with("missing: ") && !out.status.success()), "{said}");
            ran += 1;
            continue;
        }
        let (ok, out, err) = scratch.run(&here);
        assert!(ok && err.is_empty(), "{line}\nstderr: {err}");
        check(&scratch, &line, &out);
        ran += 1;
    }
    assert!(ran >= 14, "only {ran} recipes ran");
    // Nothing was written outside the scratch directory's home.
    assert!(Path::new(&scratch.dir.path("home/.cargo/share/man/man1/faina-filter.1")).exists());
}

/// The README's report of `examples/sample-capture.txt` (shortened: a section's rows left out,
/// `...` for the rest of a table) is what the filter prints for it: every line it shows is a
/// line of the real report, in the same order.
#[test]
fn the_readmes_sample_report_is_the_samples() {
    let start = README.find("A report (from `examples/sample-capture.txt`").expect("the sample report's block");
    let block = README[start..].split("```\n").nth(1).expect("its code block");
    let report = common::stdout_of(&["examples/sample-capture.txt"], b"");
    let mut rest = report.lines();
    for line in block.lines().filter(|l| l.trim() != "...") {
        assert!(rest.any(|r| r == line), "not in the sample's report, or out of order: {line:?}\n{report}");
    }
}
