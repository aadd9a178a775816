//! Hostile and broken input: each case has a defined, tested answer, nothing is lost, and no
//! control byte from the input reaches stdout or stderr.

use crate::common;

use std::fs::File;
use std::process::{Command, Stdio};

use common::{contains, every_output, json_report, run, stdout_of, TempDir, BIN};

/// No byte below 0x20 but tab and newline, and no DEL.
fn assert_printable(what: &str, bytes: &[u8]) {
    if let Some(pos) = bytes.iter().position(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f) {
        panic!("{what}: control byte {:#04x} at {pos}: {:?}", bytes[pos], String::from_utf8_lossy(bytes));
    }
}

/// Runs every output mode over `input`, checking the accounting and that nothing unprintable
/// comes out; returns the JSON report.
fn every_mode(input: &[u8]) -> serde_json::Value {
    for args in [&[][..], &["--format", "json"], &["--emit", "tsv"], &["--emit", "keys"], &["--redis-version", "2.8"]] {
        let out = run(args, input);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_printable(&format!("stdout of {args:?}"), &out.stdout);
        assert_printable(&format!("stderr of {args:?}"), &out.stderr);
    }
    let report = json_report(&[], input);
    let n = |k: &str| report[k].as_u64().unwrap();
    assert_eq!(n("lines"), n("commands") + n("noise") + n("skipped"), "every line is accounted for");
    report
}

fn random_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn random_binary() {
    let input = random_bytes(1 << 20, 0x1234_5678);
    let report = every_mode(&input);
    assert_eq!(report["commands"], 0);
    assert_eq!(report["lines"], input.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1);
}

#[test]
fn random_binary_inside_real_lines() {
    let mut input = Vec::new();
    for i in 0..2000u64 {
        input.extend_from_slice(format!("1795636306.{i:06} [0 127.0.0.1:1] \"set\" \"").as_bytes());
        // Raw bytes inside the quotes (no quote, backslash or line break): taken as they are.
        input.extend(random_bytes(20, i + 1).into_iter().filter(|b| !matches!(b, b'"' | b'\\' | b'\n' | b'\r')));
        input.extend_from_slice(b"\" \"v\"\n");
    }
    let report = every_mode(&input);
    assert_eq!(report["commands"], 2000);
    assert_eq!(report["skipped"], 0);
}

#[test]
fn nul_and_invalid_utf8_are_bytes_like_any_other() {
    let input = b"1.000001 [0 1.1.1.1:1] \"set\" \"a\x00b\xff\" \"\\x00\"\n";
    let report = every_mode(input);
    assert_eq!(report["commands"], 1);
    assert_eq!(report["top_keys"][0]["name"], "a\\x00b\\xff");
    let tsv = stdout_of(&["--emit", "tsv"], input);
    assert_eq!(tsv, "1.000001\t0\t1.1.1.1:1\tset\ta\\x00b\\xff\t\\x00\n");
}

#[test]
fn a_last_line_without_newline_counts() {
    let report = every_mode(b"OK\n1.000001 [0 1.1.1.1:1] \"get\" \"last\"");
    assert_eq!(report["commands"], 1);
    assert_eq!(report["top_keys"][0]["name"], "last");
}

#[test]
fn a_100_mib_line_counts_its_command_key_and_size() {
    let mut input = b"1.000001 [0 1.1.1.1:1] \"get\" \"before\"\n1.000002 [0 1.1.1.1:1] \"set\" \"huge\" \"".to_vec();
    input.resize(input.len() + (100 << 20), b'x');
    input.extend_from_slice(b"\"\n1.000003 [0 1.1.1.1:1] \"get\" \"after\"\n");
    let report = every_mode(&input);
    assert_eq!(report["commands"], 3);
    assert_eq!(report["cut_lines"], 0, "compacted, not cut: every key and byte is counted");
    assert_eq!(report["top_keys_by_bytes"][0]["name"], "huge");
    assert_eq!(report["top_keys_by_bytes"][0]["count"], 4 + (100 << 20));
    let keys = stdout_of(&["--emit", "keys"], &input);
    let names: Vec<&str> = keys.lines().map(|l| l.split('\t').nth(4).unwrap()).collect();
    assert_eq!(names, ["before", "huge", "after"]);
}

#[test]
fn a_million_lines_with_one_timestamp() {
    let line = b"1795636306.000001 [0 10.0.0.1:5000] \"incr\" \"c\"\n";
    let input: Vec<u8> = line.iter().copied().cycle().take(line.len() * 1_000_000).collect();
    let report = json_report(&[], &input);
    assert_eq!(report["commands"], 1_000_000);
    assert_eq!(report["span_seconds"], 0.0);
    assert_eq!(report["commands_per_second"], serde_json::Value::Null, "unknown: no time passed");
    assert_eq!(report["command_time"]["gaps"], 999_999);
    assert_eq!(report["command_time"]["p99_us"], 0);
    assert_eq!(report["top_keys"][0]["count"], 1_000_000);
}

#[test]
fn timestamps_jumping_between_1970_and_2286_sum_without_wrapping() {
    // Each forward jump is a gap of ~10^16 µs: 2000 of them pass 2^64, and the totals saturate.
    let pair = b"0000000001.000000 [0 1.1.1.1:1] \"get\" \"a\"\n9999999999.000000 [0 1.1.1.1:1] \"get\" \"a\"\n";
    let input: Vec<u8> = pair.iter().copied().cycle().take(pair.len() * 2000).collect();
    let report = every_mode(&input);
    assert_eq!(report["commands"], 4000);
    assert_eq!(report["heaviest_commands"][0]["total_us"], u64::MAX);
}

#[test]
fn timestamps_going_backwards_give_no_negative_gap() {
    let input = b"10.000500 [0 1.1.1.1:1] \"get\" \"a\"\n10.000100 [0 1.1.1.1:1] \"get\" \"b\"\n10.000300 [0 1.1.1.1:1] \"get\" \"c\"\n";
    let report = every_mode(input);
    assert_eq!(report["start"], 10.0001);
    assert_eq!(report["end"], 10.0005);
    assert_eq!(report["command_time"]["gaps"], 1, "only the forward step is a gap");
    assert_eq!(report["command_time"]["max_us"], 200);
}

#[test]
fn odd_db_numbers_brackets_quotes_and_escapes() {
    let cases: [(&[u8], &str); 12] = [
        (b"1.000001 [99999999999999999999999 1.1.1.1:1] \"get\" \"k\"", "command"),
        (b"1.000001 [0 1.1.1.1:1] \"get\" \"unterminated", "skipped"),
        (b"1.000001 [0 1.1.1.1:1 \"get\" \"k\"", "skipped"),
        (b"1.000001 0 1.1.1.1:1] \"get\" \"k\"", "skipped"),
        (b"1.000001 [[0 1.1.1.1:1]] \"get\" \"k\"", "skipped"),
        (b"1.000001 [0 1.1.1.1:1]] \"get\" \"k\"", "command"),
        (b"1.000001 [0 1.1.1.1:1] \"get\" \"abc\\x\"", "command"),
        (b"1.000001 [0 1.1.1.1:1] \"get\" \"abc\\\"", "skipped"),
        (b"1.000001 [0 1.1.1.1:1] \"get\" \"k\" trailing", "skipped"),
        (b"1.000001 [-1 1.1.1.1:1] \"get\" \"k\"", "skipped"),
        (b"99999999999999999999.000001 [0 1.1.1.1:1] \"get\" \"k\"", "skipped"),
        (b"1.000001 (db 7) \"get\" \"k\"", "command"),
    ];
    for (line, want) in cases {
        let mut input = line.to_vec();
        input.push(b'\n');
        let report = every_mode(&input);
        let got = if report["commands"] == 1 { "command" } else { "skipped" };
        assert_eq!(got, want, "{}", String::from_utf8_lossy(line));
    }
    let tsv = stdout_of(&["--emit", "tsv"], b"1.000001 [99999999999999999999999 1.1.1.1:1] \"get\" \"abc\\x\"\n");
    assert_eq!(tsv, "1.000001\t99999999999999999999999\t1.1.1.1:1\tget\tabcx\n");
    let tsv = stdout_of(&["--emit", "tsv"], b"1.000001 [0 1.1.1.1:1]] \"get\" \"k\"\n");
    assert_eq!(tsv, "1.000001\t0\t1.1.1.1:1]\tget\tk\n", "the client ends at the first `] \"`");
}

#[test]
fn a_bare_cr_ends_a_line() {
    let input = b"OK\r1.000001 [0 1.1.1.1:1] \"get\" \"a\"\r1.000002 [0 1.1.1.1:1] \"get\" \"b\"\r";
    let report = every_mode(input);
    assert_eq!(report["lines"], 3);
    assert_eq!(report["commands"], 2);
    assert_eq!(report["noise"], 1);
}

#[test]
fn pasted_info_or_keys_output_is_called_out() {
    for input in [
        &b"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n"[..],
        b"1) \"user:1\"\n2) \"user:2\"\n3) \"session:9\"\n",
    ] {
        let out = run(&[], input);
        assert!(out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("looks like the reply to another command"), "{err}");
    }
}

#[test]
fn rejects_are_written_exactly_as_read() {
    let dir = TempDir::new("rejects");
    let path = dir.path("rejects.bin");
    let input = b"OK\r\ngarbage \x1b[2J\xff\r\n1.000001 [0 1.1.1.1:1] \"get\" \"k\"\n\"broken\nlast";
    let out = run(&["--rejects", path.to_str().unwrap()], input);
    assert!(out.status.success());
    assert_eq!(std::fs::read(&path).unwrap(), b"garbage \x1b[2J\xff\r\n\"broken\nlast");
    let report = json_report(&[], input);
    assert_eq!(report["skipped"], 3);
}

#[test]
fn keys_with_escape_sequences_never_reach_the_terminal() {
    let evil =
        b"1.000001 [0 1.1.1.1:1] \"set\" \"\\x1b]0;pwned\\x07\\x1b[2J\\xc2\\x9b31m\\x7f\\r\\x00\" \"\\x1b[5m\"\n\
1.000002 [0 \x1b[31m:1] \"get\" \"\\x1b[31m\"\n-ERR \x1b[2J\x07bad\r\n";
    let report = every_mode(evil);
    assert_eq!(report["commands"], 2);
    let name = report["top_keys"].as_array().unwrap().iter().find(|k| k["name"].as_str().unwrap().contains("pwned"));
    assert_eq!(name.unwrap()["name"], "\\x1b]0;pwned\\x07\\x1b[2J\\xc2\\x9b31m\\x7f\\r\\x00");
}

#[test]
fn an_unknown_command_named_with_control_bytes() {
    // Found by the pipeline fuzzer: the slowest calls showed an unknown command's name raw.
    let input = b"1.000001 [0 lua] \"a\\x00\x1b[2J\" \"k\"\n1.000300 [0 lua] \"a\\x00\x1b[2J\" \"k\"\n";
    for rule in ["6.2.4", "5.0"] {
        let text = stdout_of(&["--redis-version", rule], input);
        assert!(text.contains("a\\x00\\x1b[2j k"), "{text}");
    }
    every_mode(input);
}

#[test]
fn records_naming_endless_nodes_stay_bounded() {
    let mut input = Vec::new();
    for i in 0..5000 {
        input.extend_from_slice(format!("node{i}\t1.000001\t0\tc\tget\tk\n").as_bytes());
    }
    let report = json_report(&["--top", "2000"], &input);
    assert_eq!(report["commands"], 5000);
    let nodes = report["top_nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1024);
    assert_eq!(nodes[0]["name"], "(other nodes)");
    assert_eq!(nodes[0]["count"], 5000 - 1023);
}

#[test]
fn messages_quoting_the_user_are_escaped_too() {
    let out = run(&["--top", "\x1b[2J"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_printable("usage error", &out.stderr);
    let out = run(&["/nonexistent/\x1b[2Jcapture"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_printable("read error", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stderr).contains("\\x1b[2Jcapture"));
}

#[test]
fn credentials_are_redacted_unless_asked() {
    let input = b"1.000001 [0 1.1.1.1:1] \"auth\" \"hunter2\"\n\
1.000002 [0 1.1.1.1:1] \"hello\" \"3\" \"AUTH\" \"admin\" \"hunter2\"\n\
1.000003 [0 1.1.1.1:1] \"migrate\" \"h\" \"1\" \"\" \"0\" \"1\" \"auth2\" \"u\" \"hunter2\" \"keys\" \"a\"\n\
1.000004 [0 1.1.1.1:1] \"config\" \"set\" \"requirepass\" \"hunter2\"\n";
    let tsv = stdout_of(&["--emit", "tsv"], input);
    assert!(!tsv.contains("hunter2"), "{tsv}");
    assert_eq!(tsv.matches("(redacted)").count(), 6, "{tsv}");
    let report = stdout_of(&["--top", "100"], input);
    assert!(!report.contains("hunter2"), "{report}");
    let json = stdout_of(&["--format", "json", "--top", "100"], input);
    assert!(!json.contains("hunter2"));
    let shown = stdout_of(&["--emit", "tsv", "--no-redact"], input);
    assert_eq!(shown.matches("hunter2").count(), 4);
}

#[test]
fn a_full_disk_is_an_error_reported_once() {
    let Ok(full) = File::create("/dev/full") else { return };
    let line = b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\n";
    let mut child = common::faina()
        .args(["--emit", "tsv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data: Vec<u8> = line.iter().copied().cycle().take(line.len() * 100_000).collect();
    let feeder = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("writing output"), "{err}");
}

#[test]
fn credentials_a_real_server_leaves_in_clear_are_redacted() {
    for server in common::servers::all() {
        credentials_on(&server);
    }
}

fn credentials_on(server: &common::servers::Server) {
    let redis = common::Redis::start_server(server, &[]);
    let monitor = common::Capture::raw_socket(redis.port);
    monitor.wait_started();
    // Each HELLO on a connection of its own: one that succeeds switches it to RESP3.
    let calls: [&[&str]; 9] = [
        &["HELLO", "AUTH", "default", "pw-hello-no-version"],
        &["HELLO", "3", "AUTH", "default", "wrong", "AUTH", "default", "pw-second-pair"],
        &["HELLO", "3", "SETNAME", "auth", "AUTH", "default", "pw-client-named-auth"],
        &["CONFIG", "SET", "tls-key-file-pass", "pw-tls-key"],
        &["CONFIG", "SET", "tls-client-key-file-pass", "pw-tls-client-key"],
        &["CONFIG", "SET", "masteruser", "pw-masteruser"],
        &["AUTH", "pw-auth"],
        &["ACL", "SETUSER", "bob", "on", ">pw-acl"],
        &["MIGRATE", "127.0.0.1", "1", "", "0", "100", "AUTH2", "u", "pw-migrate", "KEYS", "k"],
    ];
    for call in calls {
        redis.client().call(call);
    }
    redis.client().call(&["GET", "the-end"]);
    monitor.wait_for(b"the-end");
    let capture = monitor.bytes();
    // The server itself writes this one in clear (a HELLO without a version), so the test
    // means something.
    assert!(contains(&capture, b"pw-hello-no-version"), "{}: the server redacted it itself", server.name);
    // Lines as servers have been seen to write them, or may: a second AUTH pair, a client named
    // `auth`.
    let mut input = capture.clone();
    input.extend_from_slice(b"1.000001 [0 1.1.1.1:1] \"hello\" \"3\" \"auth\" \"(redacted)\" \"(redacted)\" \"auth\" \"default\" \"pw-made-second\"\n");
    input.extend_from_slice(
        b"1.000002 [0 1.1.1.1:1] \"hello\" \"3\" \"setname\" \"auth\" \"auth\" \"default\" \"pw-made-named\"\n",
    );
    let all = every_output(&input);
    let secrets = calls.iter().filter_map(|call| call.iter().find(|w| w.starts_with("pw-")));
    for secret in secrets.chain(&["pw-made-second", "pw-made-named"]) {
        assert!(!contains(&all, secret.as_bytes()), "{secret} leaked: {}", String::from_utf8_lossy(&all));
    }
    let tsv = stdout_of(&["--emit", "tsv"], &input);
    assert!(tsv.contains("\thello\t3\tsetname\tauth\tauth\t(redacted)\t(redacted)\n"), "{tsv}");
}

#[test]
fn rejected_lines_keep_no_recognisable_credential_and_only_their_owner_may_read_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("rejects-auth");
    let path = dir.path("rejects.txt");
    // A mangled line (two spaces) that the parser skips, and a pasted redis-cli prompt.
    let input = b"1.000001 [0 1.1.1.1:1]  \"auth\" \"hunter2\"\n127.0.0.1:6379> AUTH admin hunter3\n";
    let out = run(&["--rejects", path.to_str().unwrap()], input);
    assert!(out.status.success());
    let rejects = std::fs::read(&path).unwrap();
    assert_eq!(
        String::from_utf8(rejects).unwrap(),
        "1.000001 [0 1.1.1.1:1]  \"auth\" \"(redacted)\"\n127.0.0.1:6379> AUTH (redacted) (redacted)\n"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let raw = dir.path("raw.txt");
    assert!(run(&["--no-redact", "--rejects", raw.to_str().unwrap()], input).status.success());
    assert_eq!(std::fs::read(&raw).unwrap(), input);
}

#[test]
fn calls_too_short_for_their_special_key_rules_do_not_panic() {
    let mut input = Vec::new();
    for (i, call) in [
        "\"sort\"",
        "\"sort_ro\"",
        "\"georadius\"",
        "\"georadiusbymember\"",
        "\"migrate\" \"h\"",
        "\"migrate\" \"h\" \"1\"",
    ]
    .iter()
    .enumerate()
    {
        input.extend_from_slice(format!("1.{i:06} [0 1.1.1.1:1] {call}\n").as_bytes());
    }
    let report = every_mode(&input);
    assert_eq!(report["commands"], 6);
    assert_eq!(report["key_accesses"], 0);
}

#[test]
fn a_real_servers_line_cut_inside_a_huge_key_does_not_panic() {
    for server in common::servers::all() {
        huge_key_on(&server);
    }
}

fn huge_key_on(server: &common::servers::Server) {
    let redis = common::Redis::start_server(server, &[]);
    let monitor = common::Capture::raw_socket(redis.port);
    monitor.wait_started();
    let huge = vec![b'k'; 1_500_000];
    let mut client = redis.client();
    client.call_bytes(&[b"SORT", &huge]);
    client.call_bytes(&[b"SORT_RO", &huge]);
    client.call_bytes(&[b"GEORADIUS", &huge, b"0", b"0", b"1", b"km"]);
    client.call(&["GET", "after"]);
    monitor.wait_for(b"after");
    let report = every_mode(&monitor.bytes());
    assert_eq!(report["commands"], 4, "{}", server.name);
}

#[test]
fn rejects_never_destroy_a_capture() {
    let dir = TempDir::new("rejects-safe");
    let capture = dir.path("cap.txt");
    let content = b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\ngarbage\n";
    std::fs::write(&capture, content).unwrap();
    let cap = capture.to_str().unwrap();
    for args in [&["--rejects", cap, cap][..], &["--rejects", cap], &["--rejects", cap, "-"]] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "one message: {err}");
        assert!(err.starts_with("faina-filter: --rejects:"), "{err}");
        assert_eq!(std::fs::read(&capture).unwrap(), content, "{args:?}");
    }
    // Standard input redirected from the very file.
    let out = common::faina()
        .args(["--rejects", dir.path("other.txt").to_str().unwrap()])
        .stdin(File::open(&capture).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(dir.path("empty.txt"), b"").unwrap();
    let empty = dir.path("empty.txt");
    assert!(run(&["--rejects", empty.to_str().unwrap(), cap], b"").status.success());
    assert_eq!(std::fs::read(&empty).unwrap(), b"garbage\n");
    let out = common::faina().args(["--rejects", cap]).stdin(File::open(&capture).unwrap()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "the rejects file is standard input");
    assert_eq!(std::fs::read(&capture).unwrap(), content);
}

#[test]
fn lines_after_a_long_one_count_whatever_their_line_ends() {
    let mut input = b"1.000001 [0 1.1.1.1:1] \"set\" \"big\" \"".to_vec();
    input.resize(input.len() + (1 << 20) + 1000, b'x');
    input.extend_from_slice(b"\"\r");
    for i in 0..1000 {
        input.extend_from_slice(format!("1.{:06} [0 1.1.1.1:1] \"get\" \"k\"\r", i + 2).as_bytes());
    }
    let report = every_mode(&input);
    assert_eq!(report["lines"], 1001);
    assert_eq!(report["commands"], 1001);
    let dir = TempDir::new("cr-file");
    let path = dir.path("cap.txt");
    std::fs::write(&path, &input).unwrap();
    let from_file = json_report(&[path.to_str().unwrap()], b"");
    assert_eq!(from_file, report, "a file and a pipe agree");
}

#[test]
fn standard_input_can_be_named_once() {
    for args in [&["-", "-"][..], &["a=-", "b=-"]] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));
    }
}

#[test]
fn a_flood_of_error_lines_gives_a_bounded_stderr() {
    let mut input = random_bytes(8 << 20, 42);
    let mut long = b"-ERR ".to_vec();
    long.resize(100_000, b'e');
    long.push(b'\n');
    input.extend_from_slice(&long);
    for i in 0..10_000 {
        input.extend_from_slice(format!("-ERR number {}\n", i % 30).as_bytes());
    }
    let out = run(&[], &input);
    assert!(out.status.success());
    assert_printable("stderr", &out.stderr);
    assert!(out.stderr.len() < 16 * 1024, "{} bytes of stderr", out.stderr.len());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.lines().all(|l| l.len() < 300), "{err}");
    assert!(err.contains(" server errors in all:"), "{err}");
}

#[test]
fn rejected_long_lines_keep_their_line_ends() {
    // The issue's case: a skipped line over 1 MiB, then a short one; and the same with CRLF,
    // with a long MONITOR-like line between, five skipped lines in all.
    let long = |tag: &str, end: &str| {
        let mut line = format!("{tag} ").into_bytes();
        line.resize(line.len() + 1_500_000, b'a');
        line.extend_from_slice(end.as_bytes());
        line
    };
    let mut input = long("JUNK1", "\n");
    input.extend_from_slice(b"JUNK2 short\n");
    input.extend_from_slice(&long("JUNK3", "\r\n"));
    input.extend_from_slice(b"JUNK4 short\r\n");
    input.extend_from_slice(b"1.000001 [0 1.1.1.1:1]  \"two spaces\" \"");
    input.resize(input.len() + 1_200_000, b'x');
    input.extend_from_slice(b"\"\r\nJUNK5 short\n1.000002 [0 1.1.1.1:1] \"get\" \"k\"\n");
    let dir = TempDir::new("rejects-long");
    let capture = dir.path("r.txt");
    std::fs::write(&capture, &input).unwrap();
    for (name, from_file) in [("file", true), ("pipe", false)] {
        let rejects = dir.path(&format!("rej-{name}.txt"));
        let mut args = vec!["--rejects", rejects.to_str().unwrap()];
        if from_file {
            args.push(capture.to_str().unwrap());
        }
        let out = run(&args, if from_file { b"" } else { &input });
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let written = std::fs::read(&rejects).unwrap();
        let lines: Vec<&[u8]> = written.split_inclusive(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 6, "{name}: one line each: {}", String::from_utf8_lossy(&written[..200]));
        assert!(lines[0].starts_with(b"JUNK1 aaa") && lines[0].ends_with(b"a\n"), "{name}");
        assert_eq!(lines[1], b"JUNK2 short\n");
        assert!(lines[2].starts_with(b"JUNK3 aaa") && lines[2].ends_with(b"a\r\n"), "{name}");
        assert_eq!(lines[3], b"JUNK4 short\r\n");
        assert!(lines[4].starts_with(b"1.000001 [0 1.1.1.1:1]  \"two") && lines[4].ends_with(b"\"\r\n"), "{name}");
        assert_eq!(lines[5], b"JUNK5 short\n");
        assert!(written.len() < 300_000, "long lines are written compacted");
    }
}

#[test]
fn rejects_are_refused_where_standard_output_or_error_go() {
    let dir = TempDir::new("rejects-stdout");
    let capture = dir.path("cap.txt");
    std::fs::write(&capture, b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\nJUNK\n").unwrap();
    let cap = capture.to_str().unwrap();
    for (rejects, to_stdout) in [("/dev/stdout", true), ("/dev/stderr", false)] {
        let path = dir.path("o.txt");
        let file = File::create(&path).unwrap();
        let mut command = common::faina();
        command.args(["--rejects", rejects, cap]);
        if to_stdout {
            command.stdout(file).stderr(Stdio::piped());
        } else {
            command.stderr(file).stdout(Stdio::piped());
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{rejects}");
        let said = if to_stdout { out.stderr } else { std::fs::read(&path).unwrap() };
        assert!(contains(&said, b"--rejects: '"), "{}", String::from_utf8_lossy(&said));
    }
    // /dev/null is no file anything is kept in.
    let out = common::faina().args(["--rejects", "/dev/null", cap]).stdout(Stdio::null()).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn a_closed_standard_output_is_an_error() {
    let dir = TempDir::new("closed-stdout");
    let capture = dir.path("cap.txt");
    std::fs::write(&capture, b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\n").unwrap();
    for args in [&[][..], &["--emit", "tsv"], &["--every", "1s"], &["--help"]] {
        let out = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" >&-")
            .arg(BIN)
            .args(args)
            .arg(&capture)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(contains(&out.stderr, b"standard output is closed"), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_hangup_ends_the_run_with_its_report() {
    // The terminal or the ssh connection goes: the report of what was read still goes where the
    // output is redirected to, in every mode.
    let dir = TempDir::new("hangup");
    for args in [&[][..], &["--every", "1h"], &["--emit", "keys"], &["--format", "json"]] {
        let path = dir.path("out.txt");
        let mut filter = common::faina()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(File::create(&path).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = filter.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, b"1.000001 [0 1.1.1.1:1] \"get\" \"hup-key\"\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        common::signal(&filter, "HUP");
        let status = filter.wait().unwrap();
        drop(stdin);
        assert_eq!(status.code(), Some(0), "{args:?}");
        let out = std::fs::read_to_string(&path).unwrap();
        assert!(out.contains("hup-key"), "{args:?}: {out}");
    }
}
