//! A large capture file is counted in parts, on as many cores, and the parts' counts joined: the
//! report must be exactly the one of reading the file in one piece (here: from a pipe).

mod common;

use std::process::{Command, Stdio};

use common::{TempDir, BIN};
use serde_json::Value;

/// About 3 MiB of MONITOR lines: several parts. The clock jumps by 7 s in the middle, where the
/// file is cut, so the gap across the cut is the slowest call.
fn capture() -> Vec<u8> {
    let mut out = Vec::new();
    let lines = 36_000u64;
    let mut micros = 1_795_636_306_000_000u64;
    for i in 0..lines {
        micros += 3 + i % 11;
        if i == lines / 2 {
            micros += 7_000_000;
        }
        let key = format!("user:{}:{}", (i * i) % 997, i % 7);
        let (cmd, args) = match i % 5 {
            0 => ("MGET", format!("\"{key}\" \"other:{}\"", i % 13)),
            1 => ("SET", format!("\"{key}\" \"{}\"", "v".repeat((i % 40) as usize))),
            2 => ("HGET", format!("\"{key}\" \"name\"")),
            3 => ("NOSUCHCMD", format!("\"{key}\"")),
            _ => ("GET", format!("\"{key}\"")),
        };
        let line = format!(
            "{}.{:06} [0 10.0.{}.{}:{}] \"{cmd}\" {args}\n",
            micros / 1_000_000,
            micros % 1_000_000,
            i % 3,
            i % 5,
            40_000 + i % 9
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn report_of_file(args: &[&str], path: &std::path::Path) -> Value {
    let out = Command::new(BIN).args(["--format", "json"]).args(args).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn report_of_pipe(args: &[&str], path: &std::path::Path) -> Value {
    let cat = Command::new("cat").arg(path).stdout(Stdio::piped()).spawn().unwrap();
    let out = Command::new(BIN).args(["--format", "json"]).args(args).stdin(cat.stdout.unwrap()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(args: &[&str], data: &[u8]) -> Value {
    let dir = TempDir::new("parts");
    let path = dir.path("capture.txt");
    std::fs::write(&path, data).unwrap();
    let parts = report_of_file(args, &path);
    let whole = report_of_pipe(args, &path);
    assert_eq!(parts, whole, "{args:?}");
    parts
}

#[test]
fn parts_join_into_the_report_of_the_whole() {
    if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        eprintln!("NOTE: one core: the file is read in one piece, the parts are not exercised");
    }
    let data = capture();
    assert!(data.len() > 2 << 20);
    for args in [&["--top", "50"][..], &["--redis-version", "6.0.9", "--top", "50"], &["--max-keys", "300"]] {
        let report = check(args, &data);
        assert_eq!(report["commands"], 36_000);
        assert_eq!(report["lines"], 36_000);
    }
    // The jump across the cut: charged to the line after it, or (old servers) the line before.
    let report = check(&["--top", "3"], &data);
    let slowest = &report["slowest_calls"][0];
    assert!(slowest["gap_us"].as_u64().unwrap() >= 7_000_000, "{slowest}");
}

#[test]
fn records_naming_nodes_keep_their_nodes_across_parts() {
    // Records of two named inputs, read back: node numbers are given per part and joined.
    let dir = TempDir::new("parts-nodes");
    let (a, b) = (dir.path("a.txt"), dir.path("b.txt"));
    let data = capture();
    let half = data.len() / 2;
    let cut = half + data[half..].iter().position(|&c| c == b'\n').unwrap() + 1;
    std::fs::write(&a, &data[..cut]).unwrap();
    std::fs::write(&b, &data[cut..]).unwrap();
    let tsv = Command::new(BIN)
        .args(["--emit", "tsv"])
        .arg(format!("east={}", a.display()))
        .arg(format!("west={}", b.display()))
        .output()
        .unwrap();
    assert!(tsv.status.success());
    let report = check(&["--top", "5"], &tsv.stdout);
    let nodes: Vec<&str> =
        report["top_nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(nodes.contains(&"east") && nodes.contains(&"west"));
}
