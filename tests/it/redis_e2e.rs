//! End to end against a real redis-server: a known workload from IPv4, IPv6 and unix-socket
//! clients, captured through redis-cli and through a raw socket, must give exactly the records,
//! keys and report the workload implies. Each test runs on every server of `common::servers`: the
//! system's redis-server, and Redis 8.6 and Valkey 9.1 as `.ci/servers.sh` builds them.

use crate::common;

use common::servers::{self, Server};
use common::{json_report, stdout_of, Capture, Client, Redis};
use faina_filter::escape::escaped;

/// One command the workload sends, and the keys it touches.
struct Step {
    via: Via,
    args: Vec<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    V4,
    V6,
    Unix,
}

fn step(via: Via, args: &[&[u8]]) -> Step {
    Step { via, args: args.iter().map(|a| a.to_vec()).collect() }
}

const SCRIPT: &[u8] = b"redis.call('GET', KEYS[1]); return redis.call('SET', KEYS[2], ARGV[1])";

fn workload(ipv6: bool) -> Vec<Step> {
    use Via::*;
    let v6 = if ipv6 { V6 } else { V4 };
    vec![
        step(V4, &[b"SET", b"user:1000", b"alice"]),
        step(V4, &[b"GET", b"user:1000"]),
        step(V4, &[b"get", b"user:1000"]),
        step(V4, &[b"SET", b"key with spaces", b"it's \"quoted\""]),
        step(V4, &[b"SET", b"a\tb\"c\n\x01", b"\x80\xff\x7f\r\x07\x08\\"]),
        step(V4, &["SET".as_bytes(), "clé:日本".as_bytes(), b"utf8"]),
        step(V4, &[b"SET", b"\x1b[31mred\x1b[0m", b""]),
        step(V4, &[b"MSET", b"k1", b"v1", b"k2", b"v2"]),
        step(V4, &[b"MGET", b"k1", b"k2", b"user:1000"]),
        step(V4, &[b"EVAL", SCRIPT, b"2", b"user:1000", b"evalkey", b"val"]),
        step(V4, &[b"MULTI"]),
        step(V4, &[b"INCR", b"counter"]),
        step(V4, &[b"INCR", b"counter"]),
        step(V4, &[b"EXEC"]),
        step(V4, &[b"SELECT", b"3"]),
        step(V4, &[b"SET", b"db3key", b"x"]),
        step(V4, &[b"SELECT", b"0"]),
        step(V4, &[b"PING"]),
        step(v6, &[b"SET", b"ipv6key", b"1"]),
        step(v6, &[b"GET", b"user:1000"]),
        step(Unix, &[b"SET", b"unixkey", b"1"]),
        step(Unix, &[b"GET", b"user:1000"]),
        step(V4, &[b"DEL", b"k1", b"k2"]),
        step(V4, &[b"GET", b"__end__"]),
    ]
}

/// The records the workload must produce, as (db, client kind, command, args) in order. The
/// script's own calls appear after its EVAL line, and queued commands at EXEC.
fn expected_tsv(ipv6: bool) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut db = "0".to_string();
    for s in workload(ipv6) {
        let kind = match s.via {
            Via::V4 => "127.0.0.1:",
            Via::V6 => "[::1]:",
            Via::Unix => "unix:",
        };
        let command = String::from_utf8(s.args[0].to_ascii_lowercase()).unwrap();
        let mut fields = vec![command.clone()];
        fields.extend(s.args[1..].iter().map(|a| escaped(a)));
        if command == "select" {
            // The db shown is the client's db when the line is written: after SELECT runs.
            db = String::from_utf8(s.args[1].clone()).unwrap();
        }
        out.push((db.clone(), kind.to_string(), fields));
        if command == "eval" {
            out.push((db.clone(), "lua".into(), vec!["get".into(), "user:1000".into()]));
            out.push((db.clone(), "lua".into(), vec!["set".into(), "evalkey".into(), "val".into()]));
        }
    }
    out
}

/// The key accesses the workload must produce, as (command, key, access) in order.
fn expected_keys() -> Vec<(String, String, String)> {
    let k = |c: &str, key: &[u8], a: &str| (c.to_string(), escaped(key), a.to_string());
    vec![
        k("set", b"user:1000", "write"),
        k("get", b"user:1000", "read"),
        k("get", b"user:1000", "read"),
        k("set", b"key with spaces", "write"),
        k("set", b"a\tb\"c\n\x01", "write"),
        k("set", "clé:日本".as_bytes(), "write"),
        k("set", b"\x1b[31mred\x1b[0m", "write"),
        k("mset", b"k1", "write"),
        k("mset", b"k2", "write"),
        k("mget", b"k1", "read"),
        k("mget", b"k2", "read"),
        k("mget", b"user:1000", "read"),
        k("eval", b"user:1000", "write"),
        k("eval", b"evalkey", "write"),
        k("get", b"user:1000", "read"),
        k("set", b"evalkey", "write"),
        k("incr", b"counter", "write"),
        k("incr", b"counter", "write"),
        k("set", b"db3key", "write"),
        k("set", b"ipv6key", "write"),
        k("get", b"user:1000", "read"),
        k("set", b"unixkey", "write"),
        k("get", b"user:1000", "read"),
        k("del", b"k1", "write"),
        k("del", b"k2", "write"),
        k("get", b"__end__", "read"),
    ]
}

/// Runs the workload with both captures attached; returns (redis-cli capture, raw capture).
fn capture_workload(server: &Server, redis: &Redis) -> (Vec<u8>, Vec<u8>) {
    let cli = Capture::cli(&server.cli, redis.port);
    cli.wait_started();
    let raw = Capture::raw_socket(redis.port);
    raw.wait_started();
    let mut v4 = redis.client();
    let mut v6 = if redis.ipv6 { Some(Client::tcp6(redis.port).expect("connect over IPv6")) } else { None };
    let mut unix = Client::unix(&redis.socket()).expect("connect over the unix socket");
    for s in workload(redis.ipv6) {
        let args: Vec<&[u8]> = s.args.iter().map(Vec::as_slice).collect();
        let client = match s.via {
            Via::V4 => &mut v4,
            Via::V6 => v6.as_mut().unwrap(),
            Via::Unix => &mut unix,
        };
        let reply = client.call_bytes(&args);
        assert!(!reply.starts_with(b"-"), "{:?}: {}", s.args[0], String::from_utf8_lossy(&reply));
    }
    cli.wait_for(b"__end__");
    raw.wait_for(b"__end__");
    (cli.bytes(), raw.bytes())
}

fn tsv_rows(tsv: &str) -> Vec<Vec<String>> {
    tsv.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// Runs `test` on every server there is, naming the server when it fails.
fn on_every_server(test: fn(&Server, &Redis)) {
    for server in servers::all() {
        eprintln!("on {}", server.name);
        let redis = Redis::start_server(&server, &[]);
        test(&server, &redis);
    }
}

#[test]
fn a_known_workload_gives_exact_records_keys_and_report() {
    on_every_server(known_workload);
}

fn known_workload(server: &Server, redis: &Redis) {
    let (cli, raw) = capture_workload(server, redis);
    assert!(raw.starts_with(b"+OK\r\n"), "raw capture is RESP");
    assert!(cli.starts_with(b"OK\n"), "redis-cli capture has no +");

    // Records: both captures give identical records, and they are what was sent.
    let tsv_cli = stdout_of(&["--emit", "tsv"], &cli);
    let tsv_raw = stdout_of(&["--emit", "tsv"], &raw);
    assert_eq!(tsv_cli, tsv_raw, "both captures give the same records");
    let rows = tsv_rows(&tsv_raw);
    let want = expected_tsv(redis.ipv6);
    assert_eq!(rows.len(), want.len(), "{tsv_raw}");
    for (row, (db, kind, fields)) in rows.iter().zip(&want) {
        assert!(row[0].len() == 17 && row[0].as_bytes()[10] == b'.', "timestamp as read: {row:?}");
        assert_eq!(&row[1], db, "{row:?}");
        assert!(row[2].starts_with(kind.as_str()), "client {row:?} is not {kind}");
        assert_eq!(&row[3..], &fields[..], "{row:?}");
    }
    let unix_row = rows.iter().find(|r| r[2].starts_with("unix:")).unwrap();
    assert_eq!(unix_row[2], format!("unix:{}", redis.socket().display()));

    // Every record decodes back to the exact bytes sent.
    let sent = workload(redis.ipv6);
    let tricky = rows.iter().find(|r| r[4].starts_with("a\\t")).unwrap();
    assert_eq!(faina_filter::escape::unescape(tricky[4].as_bytes()).unwrap(), sent[4].args[1]);
    assert_eq!(faina_filter::escape::unescape(tricky[5].as_bytes()).unwrap(), sent[4].args[2]);

    // Keys: the table's keys, in order, with their access.
    let keys_cli = stdout_of(&["--emit", "keys"], &cli);
    let keys_raw = stdout_of(&["--emit", "keys"], &raw);
    assert_eq!(keys_cli, keys_raw);
    let got: Vec<(String, String, String)> =
        tsv_rows(&keys_raw).into_iter().map(|r| (r[3].clone(), r[4].clone(), r[5].clone())).collect();
    assert_eq!(got, expected_keys());

    // Report: counts add up and the hot key is on top.
    for capture in [&cli, &raw] {
        let report = json_report(&["--top", "100"], capture);
        let lines = report["lines"].as_u64().unwrap();
        let commands = report["commands"].as_u64().unwrap();
        assert_eq!(commands, want.len() as u64);
        assert_eq!(report["skipped"], 0);
        assert_eq!(lines, commands + report["noise"].as_u64().unwrap() + report["skipped"].as_u64().unwrap());
        assert_eq!(report["key_accesses"], expected_keys().len());
        assert_eq!(report["top_keys"][0]["name"], "user:1000");
        assert_eq!(report["top_keys"][0]["count"], 8);
        assert_eq!(report["top_keys"][0]["reads"], 6);
        assert_eq!(report["top_keys"][0]["writes"], 2);
        assert_eq!(report["top_commands"][0]["name"], "set");
        assert_eq!(report["top_prefixes"][0]["name"], "user:");
        let clients: Vec<&str> =
            report["top_clients"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert!(clients.contains(&"127.0.0.1") && clients.contains(&"lua"), "{clients:?}");
        assert!(clients.iter().any(|c| c.starts_with("unix:")), "{clients:?}");
        if redis.ipv6 {
            assert!(clients.contains(&"[::1]"), "{clients:?}");
        }
        assert!(report["start"].as_f64().unwrap() <= report["end"].as_f64().unwrap());
    }

    // The text report names the hot key first and shows no raw control byte.
    let text = stdout_of(&[], &raw);
    assert!(!text.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f), "control byte in report");
    let top_keys = text.split("Top Keys").nth(1).unwrap();
    let first_row = top_keys.lines().nth(3).unwrap();
    assert!(first_row.ends_with(" user:1000"), "{first_row}");
    assert!(text.contains("\\x1b[31mred\\x1b[0m"));
}

#[test]
fn keys_records_agree_with_the_report() {
    on_every_server(keys_agree);
}

fn keys_agree(server: &Server, redis: &Redis) {
    let (_, raw) = capture_workload(server, redis);
    let keys = stdout_of(&["--emit", "keys"], &raw);
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for row in tsv_rows(&keys) {
        *counts.entry(row[4].clone()).or_default() += 1;
    }
    let report = json_report(&["--top", "1000"], &raw);
    let from_report: std::collections::BTreeMap<String, u64> = report["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap().to_string(), k["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, from_report);
}

#[test]
fn a_huge_value_is_counted_without_being_held() {
    on_every_server(huge_value);
}

fn huge_value(server: &Server, redis: &Redis) {
    let cli = Capture::cli(&server.cli, redis.port);
    cli.wait_started();
    let raw = Capture::raw_socket(redis.port);
    raw.wait_started();
    let mut client = redis.client();
    let value = vec![b'v'; 3 << 20];
    client.call_bytes(&[b"SET", b"bigkey", &value]);
    client.call_bytes(&[b"GET", b"bigkey"]);
    client.call_bytes(&[b"GET", b"__end__"]);
    cli.wait_for(b"__end__");
    raw.wait_for(b"__end__");
    for capture in [cli.bytes(), raw.bytes()] {
        let report = json_report(&[], &capture);
        assert_eq!(report["commands"], 3);
        assert_eq!(report["cut_lines"], 0, "compacted, not cut");
        assert_eq!(report["skipped"], 0);
        assert_eq!(report["top_keys"][0]["name"], "bigkey");
        assert_eq!(report["top_keys"][0]["count"], 2);
        assert_eq!(report["top_keys_by_bytes"][0]["name"], "bigkey");
        assert_eq!(report["top_keys_by_bytes"][0]["count"], 2 * 6 + (3 << 20));
        let tsv = stdout_of(&["--emit", "keys"], &capture);
        assert_eq!(tsv.lines().count(), 3);
        assert!(tsv.lines().next().unwrap().ends_with("\tset\tbigkey\twrite\t7676"));
    }
}
