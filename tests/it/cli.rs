//! The binary as a shell runs it: exit statuses, inputs, pipes, and tiny or odd captures.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{json_report, run, stdout_of, TempDir, BIN};

const CAPTURE: &[u8] = b"OK\n\
1795636306.848848 [0 127.0.0.1:44698] \"set\" \"user:1\" \"v\"\n\
1795636306.854714 [0 127.0.0.1:44704] \"GET\" \"user:1\"\n\
1795636306.885042 [0 10.0.0.7:5000] \"get\" \"user:2\"\n";

fn no_control_bytes(bytes: &[u8]) -> bool {
    !bytes.iter().any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
}

#[test]
fn tiny_inputs_give_a_valid_report() {
    for input in [&b""[..], b"OK\n", b"+OK\r\n", b"1795636306.848848 [0 127.0.0.1:1] \"get\" \"k\"\n"] {
        let out = run(&[], input);
        assert!(out.status.success(), "{:?}", String::from_utf8_lossy(input));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Overall"), "{text}");
        let report = json_report(&[], input);
        assert_eq!(report["lines"], input.iter().filter(|&&b| b == b'\n').count());
    }
    let report = json_report(&[], b"");
    assert_eq!(report["commands"], 0);
    assert!(report["start"].is_null());
    let one = json_report(&[], b"1795636306.848848 [0 127.0.0.1:1] \"get\" \"k\"\n");
    assert_eq!(one["commands"], 1);
    assert_eq!(one["top_keys"][0]["name"], "k");
    assert_eq!(one["command_time"]["gaps"], 0);
    assert!(one["command_time"]["p50_us"].is_null());
}

#[test]
fn both_capture_forms_and_mixed_files() {
    let raw = b"+OK\r\n+1795636306.848848 [0 127.0.0.1:44698] \"set\" \"user:1\" \"v\"\r\n+1795636306.854714 [0 127.0.0.1:44704] \"GET\" \"user:1\"\r\n";
    let mut mixed = CAPTURE.to_vec();
    mixed.extend_from_slice(raw);
    let report = json_report(&[], &mixed);
    assert_eq!(report["lines"], 7);
    assert_eq!(report["commands"], 5);
    assert_eq!(report["noise"], 2);
    assert_eq!(report["skipped"], 0);
    assert_eq!(report["top_keys"][0]["name"], "user:1");
    assert_eq!(report["top_keys"][0]["count"], 4);
    assert_eq!(report["top_commands"][0]["name"], "get", "GET and get are one command");
    assert_eq!(report["top_commands"][0]["count"], 3);
}

#[test]
fn telnet_session_with_banners_and_a_forgotten_auth() {
    let session = b"Trying 127.0.0.1...\r\nConnected to localhost.\r\nEscape character is '^]'.\r\n-NOAUTH Authentication required.\r\nConnection closed by foreign host.\r\n";
    let out = run(&[], session);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("NOAUTH Authentication required") && err.contains("AUTH"), "{err}");
    let report = json_report(&[], session);
    assert_eq!(report["noise"], 5);
    assert_eq!(report["server_errors"], 1);
    assert_eq!(report["skipped"], 0);
}

#[test]
fn server_errors_are_shown_escaped() {
    let out = run(&[], b"-ERR unknown command 'imonitor\x1b[2J'\r\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("imonitor\\x1b[2J"), "{err}");
    assert!(no_control_bytes(err.as_bytes()));
}

#[test]
fn several_inputs_are_nodes_and_dash_is_stdin() {
    let dir = TempDir::new("cli");
    let a = dir.path("a.txt");
    std::fs::write(
        &a,
        b"1795636306.000001 [0 1.1.1.1:1] \"get\" \"a1\"\n1795636306.000003 [0 1.1.1.1:1] \"get\" \"a2\"\n",
    )
    .unwrap();
    let a = a.to_str().unwrap();
    let named = format!("n2={a}");
    let tsv =
        stdout_of(&["--emit", "tsv", a, "-", &named], b"1795636306.000002 [0 1.1.1.1:1] \"get\" \"from-stdin\"\n");
    // Each input is a node: records start with its label (the file name, stdin, or NAME=), and
    // each node's records keep their order.
    let mut rows: Vec<(String, String)> = tsv
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[5].to_string())
        })
        .collect();
    rows.sort_by(|x, y| x.0.cmp(&y.0));
    let want: Vec<(String, String)> =
        [("a.txt", "a1"), ("a.txt", "a2"), ("n2", "a1"), ("n2", "a2"), ("stdin", "from-stdin")]
            .iter()
            .map(|(n, k)| (n.to_string(), k.to_string()))
            .collect();
    assert_eq!(rows, want);
    // One input: no node column, as before.
    let one = stdout_of(&["--emit", "tsv", a], b"");
    assert!(one.starts_with("1795636306.000001\t0\t"), "{one}");
}

#[test]
fn exit_statuses() {
    let usage = run(&["--top", "many"], b"");
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("--top"));
    let unknown = run(&["--frobnicate"], b"");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--frobnicate"));

    let missing = run(&["/nonexistent/capture.txt"], b"");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("reading /nonexistent/capture.txt"));

    let dir = TempDir::new("cli");
    let unreadable = run(&[dir.0.to_str().unwrap()], b"");
    assert_eq!(unreadable.status.code(), Some(1), "a directory cannot be read");

    let help = run(&["--help"], b"");
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in ["--top", "--prefix-delimiter", "--prefix-depth", "--redis-version", "--format", "--emit", "--max-keys"]
    {
        assert!(help.contains(flag), "{flag}");
    }
    let version = stdout_of(&["-V"], b"");
    assert!(version.starts_with("faina-filter "));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let line = b"1795636306.848848 [0 127.0.0.1:44698] \"get\" \"user:1\"\n";
    let data: Vec<u8> = line.iter().copied().cycle().take(line.len() * 200_000).collect();
    let mut child = common::faina()
        .args(["--emit", "tsv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains("user:1"));
    // The reader is dropped here, like `| head -1`.
    let status = child.wait().unwrap();
    feeder.join().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

#[test]
fn records_flow_while_the_input_pauses() {
    let mut child = common::faina()
        .args(["--emit", "tsv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"OK\n1795636306.848848 [0 127.0.0.1:44698] \"get\" \"live\"\n").unwrap();
    stdin.flush().unwrap();
    // The input stays open: the record must come out anyway.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("a record while the input is open");
    assert!(line.ends_with("\tget\tlive\n"), "{line}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn skipped_lines_are_counted_never_glued() {
    let input = b"1795636306.848848 [0 127.0.0.1:1] \"get\" \"a\"\n\
garbage\n\
1795636306.848849 [0 127.0.0.1:1] \"get\" \"unterminated\n\
1795636306.848850 [0 127.0.0.1:1] \"get\" \"b\"\n";
    let report = json_report(&[], input);
    assert_eq!(report["lines"], 4);
    assert_eq!(report["commands"], 2);
    assert_eq!(report["skipped"], 2);
    let out = run(&["--emit", "keys"], input);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    assert!(String::from_utf8(out.stderr).unwrap().contains("2 of 4 lines were not MONITOR lines"));
}

#[test]
fn prefixes_depth_and_delimiter() {
    let input = b"1.000001 [0 1.1.1.1:1] \"get\" \"app/user/1\"\n1.000002 [0 1.1.1.1:1] \"get\" \"app/user/2\"\n1.000003 [0 1.1.1.1:1] \"get\" \"app/cart/2\"\n";
    let report = json_report(&["--prefix-delimiter", "/", "--prefix-depth", "2"], input);
    assert_eq!(report["top_prefixes"][0]["name"], "app/user/");
    assert_eq!(report["top_prefixes"][0]["count"], 2);
    assert_eq!(report["top_prefixes"][1]["name"], "app/cart/");
    let report = json_report(&["--top", "1"], input);
    assert_eq!(report["top_keys"].as_array().unwrap().len(), 1);
    assert_eq!(report["unprefixed_key_accesses"], 3);
}

#[test]
fn gap_rules() {
    // Three commands 10 µs and then 1000 µs apart.
    let input = b"1.000000 [0 1.1.1.1:1] \"get\" \"a\"\n1.000010 [0 1.1.1.1:1] \"set\" \"b\" \"1\"\n1.001010 [0 1.1.1.1:1] \"del\" \"c\"\n";
    let later = json_report(&[], input);
    assert_eq!(later["command_time"]["rule"], "later");
    assert_eq!(later["heaviest_commands"][0]["name"], "del");
    assert_eq!(later["heaviest_commands"][0]["total_us"], 1000);
    assert_eq!(later["slowest_calls"][0]["call"], "del c");
    let earlier = json_report(&["--redis-version", "2.8"], input);
    assert_eq!(earlier["command_time"]["rule"], "earlier");
    assert_eq!(earlier["heaviest_commands"][0]["name"], "set");
    assert_eq!(earlier["heaviest_commands"][0]["total_us"], 1000);
    assert_eq!(earlier["heaviest_commands"][1]["name"], "get");
    assert_eq!(earlier["slowest_calls"][0]["call"], "set b 1");
    assert_eq!(earlier["command_time"]["max_us"], 1000);
}

#[test]
fn unknown_commands_are_counted_and_guessed() {
    let report = json_report(&[], b"1.000001 [0 1.1.1.1:1] \"MYMOD.DO\" \"thing\" \"x\"\n");
    assert_eq!(report["unknown_commands"], 1);
    assert_eq!(report["top_keys"][0]["name"], "thing");
    assert_eq!(report["top_commands"][0]["name"], "mymod.do");
}

#[test]
fn subcommands_are_commands_of_their_own() {
    let input = b"1.000001 [0 1.1.1.1:1] \"OBJECT\" \"ENCODING\" \"k\"\n1.000002 [0 1.1.1.1:1] \"client\" \"setname\" \"app\"\n";
    let tsv = stdout_of(&["--emit", "tsv"], input);
    assert_eq!(
        tsv,
        "1.000001\t0\t1.1.1.1:1\tobject|encoding\tENCODING\tk\n1.000002\t0\t1.1.1.1:1\tclient|setname\tsetname\tapp\n"
    );
    let keys = stdout_of(&["--emit", "keys"], input);
    assert_eq!(keys, "1.000001\t0\t1.1.1.1:1\tobject|encoding\tk\tread\t7629\n");
    let report = json_report(&[], input);
    let names: Vec<&str> =
        report["top_commands"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["client|setname", "object|encoding"]);
    assert_eq!(report["unknown_commands"], 0);
}

#[test]
fn key_records_name_their_columns_and_the_slot_of_the_whole_key() {
    let input = b"1.000001 [0 1.1.1.1:1] \"get\" \"user:{42}:x\"\n";
    assert_eq!(
        stdout_of(&["--emit", "keys", "--header"], input),
        "timestamp\tdb\tclient\tcommand\tkey\taccess\tslot\nuser:{42}:x\tread\t8000\n".replacen(
            "user",
            "1.000001\t0\t1.1.1.1:1\tget\tuser",
            1
        )
    );
    // An empty input still has its header: a column store loads no rows.
    assert_eq!(
        stdout_of(&["--emit", "keys", "--header", "n1=-"], b""),
        "node\ttimestamp\tdb\tclient\tcommand\tkey\taccess\tslot\n"
    );
    for args in [&["--emit", "tsv", "--header"][..], &["--header"]] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--header names the columns of --emit keys"));
    }
    // A key over 512 bytes in a line over 1 MiB is written by its head, with the slot of all of it.
    let key: Vec<u8> = (0..600_000).map(|i| b'a' + (i % 26) as u8).collect();
    let mut line = b"1.000001 [0 1.1.1.1:1] \"set\" \"".to_vec();
    line.extend_from_slice(&key);
    line.extend_from_slice(b"\" \"");
    line.extend(std::iter::repeat_n(b'v', 600_000));
    line.extend_from_slice(b"\"\n");
    let out = stdout_of(&["--emit", "keys"], &line);
    let slot: u16 = out.trim_end().rsplit('\t').next().unwrap().parse().unwrap();
    assert_eq!(slot, faina_filter::cluster::slot(&key));
    assert!(out.len() < 2000, "a head, not the whole key");
}

#[test]
fn a_misspelt_option_is_refused_with_the_flag_it_resembles() {
    let out = run(&["--evry", "10s"], CAPTURE);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid option '--evry' (did you mean --every?)"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_fraction_of_a_duration_is_a_period() {
    // Four commands 0.0 s, 1.0 s, 2.0 s and 3.2 s after a multiple of 1.5 s: three periods, the
    // last reported as the one before it extended to the end of the input.
    let capture = b"1795636305.000000 [0 1.1.1.1:1] \"get\" \"a\"\n\
1795636306.000000 [0 1.1.1.1:1] \"get\" \"a\"\n\
1795636307.000000 [0 1.1.1.1:1] \"get\" \"b\"\n\
1795636308.200000 [0 1.1.1.1:1] \"get\" \"c\"\n";
    assert_eq!(1_795_636_305u64 * 2 % 3, 0, "the first line starts a period");
    let out = stdout_of(&["--every", "1.5s", "--format", "json"], capture);
    let reports: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let commands: Vec<u64> = reports.iter().map(|r| r["commands"].as_u64().unwrap()).collect();
    assert_eq!(commands, [2, 1, 2], "{out}");
    for (report, start) in reports[..2].iter().zip([1_795_636_305.0, 1_795_636_306.5]) {
        assert_eq!(report["window"]["period"], 1.5, "{out}");
        assert_eq!(report["window"]["start"], start, "{out}");
        assert_eq!(report["window"]["end"], start + 1.5, "{out}");
    }
    assert_eq!(reports[2]["window"]["start"], reports[1]["window"]["start"], "{out}");
    let out = run(&["--every", "1.5.s"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a duration such as 500ms, 1.5s"));
}

#[test]
fn the_timing_sections_say_they_are_gaps_between_arrivals_not_latency() {
    let text = stdout_of(&[], CAPTURE);
    for heading in [
        "Command Time (gaps between arrivals, idle time included)",
        "Heaviest Commands (total gap between arrivals, idle time included)",
        "Slowest Calls (longest gaps between arrivals, idle time included)",
    ] {
        assert!(text.contains(&format!("\n{heading}\n{}\n", "=".repeat(heading.len()))), "{heading}: {text}");
    }
    assert!(text.contains("not latency: the server's SLOWLOG and LATENCY measure that, or the client"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

/// `program -c` on `data`, as a user's compressed capture is made.
fn compress(program: &str, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn a_compressed_capture_is_named_with_the_way_to_read_it() {
    let dir = TempDir::new("compressed");
    for (program, ext, reader) in [("gzip", "gz", "zcat"), ("zstd", "zst", "zstdcat"), ("xz", "xz", "xzcat")] {
        if !common::require(program) {
            continue;
        }
        let packed = compress(program, CAPTURE);
        let path = dir.path(&format!("cap.{ext}"));
        std::fs::write(&path, &packed).unwrap();
        let name = path.to_str().unwrap();
        let out = run(&[name], b"");
        assert_eq!(out.status.code(), Some(1), "{program}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err,
            format!("faina-filter: {name} is {program}-compressed: read it with {reader} {name} | faina-filter\n")
        );
        assert!(out.stdout.is_empty(), "no report of garbage");
        let out = run(&["--emit", "keys"], &packed);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(&format!("faina-filter: standard input is {program}-compressed: decompress it first, as in {reader} capture.{ext} | faina-filter")), "{err}");
        // As one of several inputs, read on a thread of its own.
        let out = run(&["-", name], CAPTURE);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{name} is {program}-compressed")));
    }
    // The way it says works.
    if common::which("zcat").is_some() {
        let path = dir.path("cap.gz");
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("zcat {} | {BIN} --format json", path.display()))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["commands"], 3);
    }
}

#[test]
fn the_manual_is_in_the_binary() {
    // Redirected: the page's source, to install it.
    let out = run(&["--man"], b"");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), faina_filter::cli::MANUAL);
    assert_eq!(faina_filter::cli::MANUAL, std::fs::read_to_string("man/faina-filter.1").unwrap());
    // On a terminal: the page as man shows it.
    if !common::require("script") || !common::require("man") {
        return;
    }
    let out = Command::new("script")
        .args(["-qec", &format!("{BIN} --man"), "/dev/null"])
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "80")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("FAINA-FILTER(1)") && !shown.contains(".TH FAINA-FILTER"), "{shown}");
    // --help says where it is.
    let help = stdout_of(&["--help"], b"");
    assert!(help.contains("The manual (faina-filter --man;"), "{help}");
}
