//! The README's column-store recipes, run as written on real engines: ClickHouse's own engine
//! (chdb) and DuckDB, from the Python package index (`.ci/run` installs them into
//! `target/column-stores`; `FAINA_COLUMN_STORES_PYTHON` names another interpreter that has them).
//!
//! The capture has three nodes whose keys hold NUL, 0xFF, tabs, newlines, quotes, backslashes and
//! UTF-8. Each engine's answer must equal what was sent and the filter's own report: ClickHouse's
//! keys byte for byte, DuckDB's in the filter's escaped form.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{json_report, TempDir};
use faina_filter::escape::{escaped, unescape};

/// Runs the statements of one SQL file on an engine and writes the last one's rows as TSV
/// (ClickHouse's own TSV; DuckDB's values joined by tabs).
const RUNNER: &str = r#"
import sys
engine, sql_path, state = sys.argv[1:4]
text = open(sql_path).read()
statements = [s for s in text.split(";")
              if any(l.strip() and not l.strip().startswith("--") for l in s.splitlines())]
out = sys.stdout.buffer
if engine == "clickhouse":
    from chdb import session
    s = session.Session(state)
    for statement in statements:
        result = s.query(statement, "TSV")
    out.write(result.bytes())
else:
    import duckdb
    con = duckdb.connect()
    for statement in statements:
        rel = con.sql(statement)
    for row in rel.fetchall():
        out.write(("\t".join(str(v) for v in row) + "\n").encode())
"#;

/// The interpreter that has chdb and duckdb, or `None` after saying so (a failure under CI=true).
fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("FAINA_COLUMN_STORES_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/column-stores/bin/python"));
    let ok = Command::new(&python).args(["-c", "import chdb, duckdb"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let msg = format!(
        "{} cannot import chdb and duckdb: these tests need them (.ci/run installs them: \
         python3 -m venv target/column-stores && target/column-stores/bin/pip install -r .ci/column-stores.txt)",
        python.display()
    );
    common::skip(&msg);
    None
}

/// The README's SQL blocks, each with the engine its first line names.
fn recipes() -> Vec<(&'static str, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```sql\n") {
        let body = &rest[start + 7..];
        let end = body.find("```").unwrap();
        let sql = &body[..end];
        let engine = if sql.starts_with("-- ClickHouse") {
            "clickhouse"
        } else if sql.starts_with("-- DuckDB") {
            "duckdb"
        } else {
            panic!("a README SQL block that names no engine:\n{sql}")
        };
        out.push((engine, sql.to_string()));
        rest = &body[end..];
    }
    out
}

/// An argument as MONITOR quotes it (the server's sdscatrepr).
fn quoted(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// What one key got: calls, writes.
type Sent = BTreeMap<Vec<u8>, (u64, u64)>;

/// A node's capture: twelve keys per node, each with a count no other key has, one write in
/// five; the names carry every kind of byte a key can.
fn capture(node: usize) -> (String, Sent) {
    let odd: [&[u8]; 12] = [
        b"bin:\x00\xff",
        b"tab\tkey",
        b"nl\nkey\r",
        b"q\"uote\\d",
        "café:ü".as_bytes(),
        b"plain:1",
        b"sp ace",
        b"\x1b[31mred",
        b"{tag}a",
        b"back\\\\slash",
        b"\x7f\x80",
        b"user:1:profile",
    ];
    let mut lines = String::new();
    let mut sent = Sent::new();
    let mut ts = 1_795_636_306_000_000u64 + node as u64 * 7;
    for (j, name) in odd.iter().enumerate() {
        // A node's own hash tag: in a cluster a slot lives on one node.
        let key = if name.starts_with(b"{tag}") {
            [format!("{{n{node}}}").as_bytes(), &name[5..]].concat()
        } else {
            [format!("n{node}/").as_bytes(), name].concat()
        };
        let count = 300 - 20 * j as u64 - 3 * node as u64;
        for i in 0..count {
            ts += 13;
            let write = i % 5 == 0;
            let call =
                if write { format!("\"set\" {} \"v\"", quoted(&key)) } else { format!("\"get\" {}", quoted(&key)) };
            lines.push_str(&format!("{}.{:06} [0 10.0.{node}.1:5000] {call}\n", ts / 1_000_000, ts % 1_000_000));
            let e = sent.entry(key.clone()).or_default();
            e.0 += 1;
            e.1 += u64::from(write);
        }
    }
    (lines, sent)
}

/// A ClickHouse TSV field back to its bytes.
fn clickhouse_field(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 1 < field.len() {
            out.push(match field[i + 1] {
                b'b' => 8,
                b'f' => 12,
                b'r' => b'\r',
                b'n' => b'\n',
                b't' => b'\t',
                b'0' => 0,
                other => other,
            });
            i += 2;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    out
}

struct Run {
    dir: TempDir,
    python: PathBuf,
}

impl Run {
    /// Runs one recipe; its rows, split into fields.
    fn sql(&self, engine: &str, sql: &str) -> Vec<Vec<Vec<u8>>> {
        let file = self.dir.path("recipe.sql");
        std::fs::write(&file, sql).unwrap();
        let out = Command::new(&self.python)
            .arg(self.dir.path("runner.py"))
            .args([engine, file.to_str().unwrap(), self.dir.path("clickhouse").to_str().unwrap()])
            .current_dir(&self.dir.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{engine}:\n{sql}\n{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.split(|&b| b == b'\t').map(<[u8]>::to_vec).collect())
            .collect()
    }
}

fn number(field: &[u8]) -> u64 {
    std::str::from_utf8(field).unwrap().parse().unwrap()
}

/// (key bytes, count, writes, slot) of a report's top keys.
fn report_top(report: &serde_json::Value) -> Vec<(Vec<u8>, u64, u64, u64)> {
    report["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let name = unescape(k["name"].as_str().unwrap().as_bytes()).unwrap();
            (name, k["count"].as_u64().unwrap(), k["writes"].as_u64().unwrap(), k["slot"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn the_readme_recipes_give_each_engine_the_filters_top_keys() {
    let recipes = recipes();
    let engines: Vec<&str> = recipes.iter().map(|(e, _)| *e).collect();
    assert_eq!(engines, ["clickhouse", "duckdb", "clickhouse", "clickhouse", "clickhouse", "clickhouse"]);
    let Some(python) = python() else { return };
    let run = Run { dir: TempDir::new("column-stores"), python };
    std::fs::write(run.dir.path("runner.py"), RUNNER).unwrap();

    let mut args = vec!["--emit".to_string(), "keys".to_string(), "--header".to_string()];
    let mut sent = Vec::new();
    let mut reports = Vec::new();
    for node in 1..=3 {
        let (lines, keys) = capture(node);
        let path = run.dir.path(&format!("cap{node}.txt"));
        std::fs::write(&path, &lines).unwrap();
        let labelled = format!("n{node}={}", path.display());
        reports.push(json_report(&["--format", "json", &labelled], b""));
        args.push(labelled);
        sent.push(keys);
    }
    // faina-filter --emit keys --header n1=cap1.txt n2=cap2.txt n3=cap3.txt > keys.tsv
    let out = common::faina().args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"node\ttimestamp\tdb\tclient\tcommand\tkey\taccess\tslot\n"));
    std::fs::write(run.dir.path("keys.tsv"), &out.stdout).unwrap();

    // What was sent, the report, ClickHouse and DuckDB agree, node by node.
    let clickhouse = run.sql("clickhouse", &recipes[0].1);
    let duckdb = run.sql("duckdb", &recipes[1].1);
    assert_eq!(clickhouse.len(), 30);
    assert_eq!(duckdb.len(), 30);
    for (n, (keys, report)) in sent.iter().zip(&reports).enumerate() {
        let node = format!("n{}", n + 1);
        let mut want: Vec<(&Vec<u8>, &(u64, u64))> = keys.iter().collect();
        want.sort_by_key(|(_, (count, _))| std::cmp::Reverse(*count));
        want.truncate(10);
        let top = report_top(report);
        let from_report: Vec<(Vec<u8>, u64, u64)> = top.iter().map(|(k, c, w, _)| (k.clone(), *c, *w)).collect();
        let sent_top: Vec<(Vec<u8>, u64, u64)> = want.iter().map(|(k, (c, w))| ((*k).clone(), *c, *w)).collect();
        assert_eq!(from_report, sent_top, "{node}: the report");

        let ours: Vec<_> = clickhouse.iter().filter(|r| r[0] == node.as_bytes()).collect();
        let got: Vec<(Vec<u8>, u64, u64, u64)> =
            ours.iter().map(|r| (clickhouse_field(&r[1]), number(&r[2]), number(&r[3]), number(&r[4]))).collect();
        assert_eq!(got, top, "{node}: ClickHouse, byte for byte");

        let ours: Vec<_> = duckdb.iter().filter(|r| r[0] == node.as_bytes()).collect();
        let got: Vec<(String, u64, u64, u64)> = ours
            .iter()
            .map(|r| (String::from_utf8(r[1].clone()).unwrap(), number(&r[2]), number(&r[3]), number(&r[4])))
            .collect();
        let escaped_top: Vec<(String, u64, u64, u64)> =
            top.iter().map(|(k, c, w, s)| (escaped(k), *c, *w, *s)).collect();
        assert_eq!(got, escaped_top, "{node}: DuckDB, in the filter's escaped form");
    }

    // The fleet: one MergeTree table, loaded; the cluster's hottest keys and slots equal the
    // filter's report over all three nodes.
    assert!(run.sql("clickhouse", &recipes[2].1).is_empty());
    let mut report_args = vec!["--format", "json"];
    report_args.extend(args[3..].iter().map(String::as_str));
    let all = json_report(&report_args, b"");
    let hottest = run.sql("clickhouse", &recipes[3].1);
    let got: Vec<(Vec<u8>, u64, Vec<u8>, u64)> =
        hottest.iter().map(|r| (clickhouse_field(&r[0]), number(&r[1]), r[2].clone(), number(&r[3]))).collect();
    let want: Vec<(Vec<u8>, u64, Vec<u8>, u64)> = all["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                unescape(k["name"].as_str().unwrap().as_bytes()).unwrap(),
                k["slot"].as_u64().unwrap(),
                k["node"].as_str().unwrap().as_bytes().to_vec(),
                k["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want, "the cluster's hottest keys");
    let slots = run.sql("clickhouse", &recipes[4].1);
    let got: Vec<(u64, u64)> = slots.iter().map(|r| (number(&r[0]), number(&r[2]))).collect();
    let want: Vec<(u64, u64)> = all["top_slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["slot"].as_u64().unwrap(), s["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, want, "the cluster's hottest slots");
}

/// Keys records of a packet capture, loaded as the README's last recipe loads them (their reply
/// columns added to the schema): each key's reply bytes and latency are the filter's own report's.
#[test]
fn keys_records_of_a_capture_load_with_their_reply_columns() {
    use crate::capture::{pcap_header, record, resp, segment};
    let recipe = &recipes()[5].1;
    let Some(python) = python() else { return };
    let run = Run { dir: TempDir::new("column-stores-pcap"), python };
    std::fs::write(run.dir.path("runner.py"), RUNNER).unwrap();
    let mut pcap = pcap_header();
    let (mut t, mut seq) = (1_795_000_000_000_000u64, [1000u32, 5000u32]);
    let mut send = |to_server: bool, flags: u8, payload: &[u8], after: u64| {
        let s = &mut seq[usize::from(!to_server)];
        t += after;
        record(&mut pcap, t, &segment(7, to_server, *s, flags, payload));
        *s += payload.len() as u32 + u32::from(flags & 0x02 != 0);
    };
    send(true, 0x02, b"", 1);
    send(false, 0x12, b"", 1);
    // Reads of a large value, of a small one, a two-key read whose reply the keys share, and a
    // read whose reply the capture does not hold (the capture ends first).
    let big = format!("${}\r\n{}\r\n", 3000, "v".repeat(3000));
    for (i, (args, reply)) in [
        (&[&b"GET"[..], b"big"][..], big.as_str()),
        (&[b"GET", b"small"], "$1\r\nv\r\n"),
        (&[b"GET", b"big"], big.as_str()),
        (&[b"MGET", b"small", b"other"], "*2\r\n$1\r\nv\r\n$-1\r\n"),
    ]
    .into_iter()
    .enumerate()
    {
        send(true, 0x18, &resp(args), 1000);
        send(false, 0x18, reply.as_bytes(), 10 + i as u64 * 7);
    }
    send(true, 0x18, &resp(&[b"GET", b"unanswered"]), 1000);
    let path = run.dir.path("capture.pcap");
    std::fs::write(&path, &pcap).unwrap();
    let out = common::faina().args(["--emit", "keys", "--header", path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let header = b"timestamp\tdb\tclient\tcommand\tkey\taccess\tslot\treply_bytes\tlatency_us\n";
    assert!(out.stdout.starts_with(header), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::write(run.dir.path("keys.tsv"), &out.stdout).unwrap();
    let rows = run.sql("clickhouse", recipe);
    let got: Vec<(Vec<u8>, u64, u64, u64)> =
        rows.iter().map(|r| (r[0].clone(), number(&r[1]), number(&r[2]), number(&r[3]))).collect();
    let report = json_report(&["--format", "json", path.to_str().unwrap()], b"");
    let table = |name: &str| -> BTreeMap<Vec<u8>, u64> {
        let rows = report[name].as_array().unwrap_or_else(|| panic!("{name} in {report}"));
        rows.iter().map(|k| (k["name"].as_str().unwrap().as_bytes().to_vec(), k["count"].as_u64().unwrap())).collect()
    };
    let (bytes, latency, calls) =
        (table("top_keys_by_reply_bytes"), table("top_keys_by_latency_us"), table("top_keys"));
    // The key whose reply the capture does not hold counts none.
    let want: Vec<(Vec<u8>, u64, u64, u64)> = got
        .iter()
        .map(|(k, ..)| (k.clone(), bytes.get(k).copied().unwrap_or(0), latency.get(k).copied().unwrap_or(0), calls[k]))
        .collect();
    assert_eq!(got, want, "ClickHouse and the report");
    assert_eq!(
        got.iter().map(|r| r.0.as_slice()).collect::<Vec<_>>(),
        [&b"big"[..], b"small", b"other", b"unanswered"]
    );
    assert_eq!(got[0].1, 2 * big.len() as u64);
}
