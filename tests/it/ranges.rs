//! A regular file large enough is read in ranges, one per core (`src/sink/split.rs`): its report
//! must be the one the same bytes give through a pipe, read in one pass. While every key is
//! counted exactly the two are the same to the byte (standard error included); past
//! `--max-keys` only the key tables may differ, within their bounds. (On a machine of one core a
//! file is read in one pass, and both runs are one pass.)

use crate::common;

use std::collections::HashMap;

use common::zipf::Zipf;
use common::TempDir;

/// Files below this are read in one pass (`read/ranges.rs`'s MIN_SPLIT is 8 MiB).
const LARGE: usize = 9 << 20;

/// A MONITOR capture of at least [`LARGE`] bytes over `keys` Zipf-distributed keys, and the true
/// count of each key. Besides commands it holds a banner,
/// blank lines, a line that is not MONITOR's, server errors (more than are shown, some in each
/// half), unknown commands, credentials, and equal gaps (slowest calls that tie). The line that
/// starts the second range (the first to start past the middle) comes `boundary` microseconds
/// after the one before it.
fn capture(keys: u64, boundary: i64) -> (Vec<u8>, HashMap<String, u64>) {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let mut truth: HashMap<String, u64> = HashMap::new();
    let mut zipf = Zipf::new(keys);
    let mut key = |_: u64, truth: &mut HashMap<String, u64>| {
        let k = format!("user:{}", zipf.draw());
        *truth.entry(k.clone()).or_default() += 1;
        k
    };
    let mut t: i64 = 0;
    let mut i = 0u64;
    let mut size = 0;
    while size < LARGE {
        // Gaps of 3 to 40 µs, and now and then one of exactly 2 s: ties among the slowest.
        t += if i % 9_973 == 5 { 2_000_000 } else { 3 + (i * 7 % 38) as i64 };
        let client = format!("10.0.{}.{}:{}", i % 3, i % 37, 40_000 + i % 37);
        let rest = match i % 50 {
            0 => format!("\"MGET\" \"{}\" \"{}\"", key(i, &mut truth), key(i + 1, &mut truth)),
            1 => format!("\"SET\" \"{}\" \"v{i}\"", key(i, &mut truth)),
            2 => format!("\"FROB\" \"{}\"", key(i, &mut truth)),
            3 => "\"AUTH\" \"hunter2\"".to_string(),
            4 => format!("\"DEL\" \"{}\"", key(i, &mut truth)),
            _ => format!("\"GET\" \"{}\"", key(i, &mut truth)),
        };
        lines.push((t, format!("[0 {client}] {rest}")));
        size += 18 + lines.last().map_or(0, |l| l.1.len());
        if i % 20_011 == 7 {
            lines.push((-1, format!("-ERR unknown command 'x{}', with args beginning with:", i % 13)));
            lines.push((-1, "-NOAUTH Authentication required.".to_string()));
        }
        if i % 30_001 == 11 {
            lines.push((-1, String::new()));
            lines.push((-1, "not a monitor line".to_string()));
        }
        i += 1;
    }
    let render = |(t, rest): &(i64, String)| -> String {
        if *t < 0 {
            return format!("{rest}\n");
        }
        let micros = 1_795_636_306_000_000 + t;
        format!("{}.{:06} {rest}\n", micros / 1_000_000, micros % 1_000_000)
    };
    // Lengths do not depend on the times (ten digits of seconds throughout): find the boundary
    // line, then move it (and every line after it) by `boundary`.
    let total: usize = lines.iter().map(|l| render(l).len()).sum::<usize>() + 3;
    let (mut at, mut first_after) = (3, None);
    for (n, line) in lines.iter().enumerate() {
        if at > total / 2 {
            first_after = Some(n);
            break;
        }
        at += render(line).len();
    }
    let cut = first_after.expect("a line past the middle");
    let prev = lines[..cut].iter().rev().find(|l| l.0 >= 0).map_or(0, |l| l.0);
    let shift = prev + boundary - lines[cut..].iter().find(|l| l.0 >= 0).map_or(0, |l| l.0);
    for line in &mut lines[cut..] {
        if line.0 >= 0 {
            line.0 += shift;
        }
    }
    let mut out = b"OK\n".to_vec();
    for line in &lines {
        out.extend_from_slice(render(line).as_bytes());
    }
    assert_eq!(out.len(), total);
    (out, truth)
}

/// The output of a run over `file` named, and of one over its bytes piped in.
fn both(dir: &TempDir, bytes: &[u8], args: &[&str]) -> (std::process::Output, std::process::Output) {
    let path = dir.path("capture.txt");
    std::fs::write(&path, bytes).expect("write the capture");
    let mut named: Vec<&str> = args.to_vec();
    let name = path.to_str().expect("a UTF-8 path");
    named.push(name);
    (common::run(&named, b""), common::run(args, bytes))
}

#[test]
fn a_file_read_in_ranges_gives_the_report_of_one_pass() {
    let dir = TempDir::new("ranges");
    let every: [&[&str]; 4] =
        [&[], &["--format", "json"], &["--redis-version", "6.0.0", "--top", "100"], &["--no-redact"]];
    for (boundary, variants) in [(3_000_000, &every[..]), (0, &every[..2]), (-1_000_000, &every[..3])] {
        let (bytes, _) = capture(5_000, boundary);
        for &args in variants {
            let (file, piped) = both(&dir, &bytes, args);
            let context = format!("{args:?}, {boundary} µs at the boundary");
            assert!(file.status.success(), "{context}: {}", String::from_utf8_lossy(&file.stderr));
            assert_eq!(file.status.code(), piped.status.code(), "{context}");
            assert_eq!(String::from_utf8_lossy(&file.stderr), String::from_utf8_lossy(&piped.stderr), "{context}");
            assert_eq!(String::from_utf8_lossy(&file.stdout), String::from_utf8_lossy(&piped.stdout), "{context}");
        }
    }
    // The gap across the boundary is there, and ties among the slowest calls.
    let (bytes, _) = capture(5_000, 3_000_000);
    let (file, _) = both(&dir, &bytes, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&file.stdout).expect("JSON");
    let slowest = report["slowest_calls"].as_array().expect("slowest calls");
    assert!(slowest.len() >= 3, "{slowest:?}");
    let gaps: Vec<u64> = slowest.iter().map(|call| call["gap_us"].as_u64().expect("a gap")).collect();
    assert_eq!(gaps[..3], [3_000_000, 2_000_000, 2_000_000], "the boundary's gap is the slowest, then ties");
}

#[test]
fn past_max_keys_only_the_key_tables_differ_within_their_bounds() {
    let dir = TempDir::new("ranges-bounded");
    let (bytes, truth) = capture(40_000, 17);
    assert!(truth.len() > 4_000, "more keys than the tables hold: {}", truth.len());
    let args = ["--format", "json", "--max-keys", "1000", "--top", "20"];
    let (file, piped) = both(&dir, &bytes, &args);
    assert!(file.status.success() && piped.status.success());
    assert_eq!(file.stderr, piped.stderr);
    let parse = |out: &[u8]| -> serde_json::Value { serde_json::from_slice(out).expect("JSON") };
    let (mut file, mut piped) = (parse(&file.stdout), parse(&piped.stdout));
    let mut want: Vec<(&String, &u64)> = truth.iter().collect();
    want.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let expected: Vec<&str> = want.iter().take(20).map(|(k, _)| k.as_str()).collect();
    for report in [&file, &piped] {
        let top = report["top_keys"].as_array().expect("top keys");
        let got: Vec<&str> = top.iter().map(|k| k["name"].as_str().expect("a name")).collect();
        assert_eq!(got, expected, "the true top 20, in order");
        for k in top {
            let (count, error) = (k["count"].as_u64().expect("count"), k["error"].as_u64().expect("error"));
            let real = truth[k["name"].as_str().expect("a name")];
            assert!(count - error <= real && real <= count, "{k}: true {real}");
        }
    }
    // Everything but the key tables is the same.
    for table in ["top_keys", "top_keys_by_bytes", "top_prefixes", "top_slots"] {
        file[table].take();
        piped[table].take();
    }
    assert_eq!(file, piped);
}

/// [`capture`] made awkward for records read from every core (`src/sink/chunked.rs`): every
/// other line ends CR LF (so chunks start after both line ends), at a quarter an MGET of many
/// one-byte keys writes far more records than its bytes, at a third a line over 1 MiB is
/// compacted, a record with a node column sits in the middle (its node is numbered as it comes:
/// its chunk is read in order), and a burst of more distinct server errors than a chunk counts
/// apart comes at three quarters.
fn awkward() -> Vec<u8> {
    let (bytes, _) = capture(5_000, 17);
    let mut out = Vec::with_capacity(bytes.len() + (2 << 20));
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let n = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if i == n / 4 {
            out.extend_from_slice(b"1795636306.500000 [0 10.0.9.9:1] \"MGET\"");
            out.extend_from_slice(" \"k\"".repeat(150_000).as_bytes());
            out.push(b'\n');
        }
        if i == n / 3 {
            // Over the 1 MiB the reader keeps whole: compacted, its value written as its head.
            out.extend_from_slice(b"1795636306.550000 [0 10.0.9.9:1] \"SET\" \"user:long\" \"");
            out.extend_from_slice(&vec![b'v'; 1_500_000]);
            out.extend_from_slice(b"\"\r\n");
        }
        if i == n / 2 {
            out.extend_from_slice(b"cache-7\t1795636306.600000\t0\t10.0.9.9:2\tget\tuser:node\n");
        }
        if i == n * 3 / 4 {
            for e in 0..100 {
                out.extend_from_slice(format!("-ERR burst number {e}\n").as_bytes());
            }
        }
        match (i % 2, line.strip_suffix(b"\n")) {
            (1, Some(body)) => {
                out.extend_from_slice(body);
                out.extend_from_slice(b"\r\n");
            }
            _ => out.extend_from_slice(line),
        }
    }
    out
}

#[test]
fn records_of_a_file_read_on_every_core_are_those_of_one_pass() {
    let dir = TempDir::new("ranges-records");
    let bytes = awkward();
    let variants: [&[&str]; 7] = [
        &["--emit", "tsv"],
        &["--emit", "keys"],
        &["--emit", "keys", "--header"],
        &["--emit", "tsv", "--no-redact"],
        &["--emit", "keys", "--command", "get"],
        &["--emit", "keys", "--key", "user:1*"],
        &["--emit", "tsv", "--client", "10.0.1.1"],
    ];
    for args in variants {
        let (file, piped) = both(&dir, &bytes, args);
        assert!(file.status.success(), "{args:?}: {}", String::from_utf8_lossy(&file.stderr));
        assert_eq!(file.status.code(), piped.status.code(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&file.stderr), String::from_utf8_lossy(&piped.stderr), "{args:?}");
        assert!(file.stdout == piped.stdout, "{args:?}: the records differ");
    }
    // What the awkward parts are there for was met: the records and the words about them.
    let (file, _) = both(&dir, &bytes, &["--emit", "keys", "--header"]);
    let text = String::from_utf8_lossy(&file.stdout);
    assert!(text.starts_with("timestamp\tdb\tclient\tcommand\tkey\taccess\tslot\n"), "the header first");
    assert!(text.contains("\tuser:node\tread\t"), "the record read back");
    assert!(text.matches("10.0.9.9:1\tmget\tk\tread\t").count() >= 150_000, "the large MGET");
    let err = String::from_utf8_lossy(&file.stderr);
    assert!(err.contains("server errors in all") && err.contains("(other messages, not shown)"), "{err}");
    assert!(err.contains("were not MONITOR lines and were skipped"), "{err}");
    assert!(err.contains(" argument (of lines over 1 MiB") || err.contains(" arguments (of lines over 1 MiB"), "{err}");
}

#[test]
fn records_of_a_large_file_go_to_a_closed_pipe_quietly_to_a_full_disk_loudly_and_in_bounded_memory() {
    use std::io::{BufRead, BufReader, Read};
    let dir = TempDir::new("ranges-records-pipe");
    let path = dir.path("capture.txt");
    std::fs::write(&path, awkward()).expect("write the capture");
    let name = path.to_str().expect("a UTF-8 path");
    let mut child = common::faina()
        .args(["--emit", "tsv", name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start faina-filter");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a record");
    assert!(first.contains("\tmget\t") || first.contains("\tget\t"), "{first}");
    // The reader is gone, like `| head -1`: the run ends at its next write, quietly.
    let start = std::time::Instant::now();
    let status = child.wait().expect("exit");
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
    // Nothing but the server errors said as they came.
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.lines().all(|l| l.starts_with("faina-filter: the server said: ")), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "ended promptly");
    // An output that cannot be written: said once, as one pass says it.
    let full = |args: &[&str], input: std::process::Stdio| {
        let out = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let run = common::faina().args(args).stdin(input).stdout(out).stderr(std::process::Stdio::piped()).output();
        let run = run.expect("run");
        (run.status.code(), String::from_utf8_lossy(&run.stderr).into_owned())
    };
    let piped = full(&["--emit", "keys", "-"], std::fs::File::open(&path).expect("the capture").into());
    assert_eq!(full(&["--emit", "keys", name], std::process::Stdio::null()), piped);
    assert_eq!(piped.0, Some(1), "{}", piped.1);
    assert!(piped.1.ends_with("faina-filter: writing output: No space left on device (os error 28)\n"), "{}", piped.1);
    for emit in ["keys", "tsv"] {
        let Some((out, kib)) = common::peak_memory(&["--emit", emit, name], b"") else { return };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(kib < 32 * 1024, "--emit {emit}: peak {kib} KiB");
    }
}

#[test]
fn the_first_ctrl_c_ends_records_of_a_large_file_whose_output_is_stalled() {
    let dir = TempDir::new("ranges-records-stalled");
    let path = dir.path("capture.txt");
    std::fs::write(&path, awkward()).expect("write the capture");
    let (mut filter, out) = common::filter::Filter::stalled(&["--emit", "tsv", path.to_str().expect("UTF-8")]);
    assert!(common::filter::until_blocked(filter.child.id(), &out), "the records fill the pipe");
    assert!(filter.child.try_wait().expect("wait").is_none(), "blocked on its output");
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(130));
    assert!(filter.stderr().contains("stopped while the output was blocked"), "{}", filter.stderr());
    drop(out);
}

#[test]
fn a_first_line_that_fills_the_first_chunk_is_placed_by_the_next_line_as_in_one_pass() {
    // `src/sink/chunked.rs` cuts 256 KiB chunks: a first line just longer than one is the first
    // chunk's only line, held until the next chunk's first line says whether it is a fragment
    // (its timestamp cut: `5636306.…` in a capture of `1795636306.…`) or not.
    let dir = TempDir::new("ranges-records-held");
    let (rest, _) = capture(5_000, 17);
    for stamp in ["5636306.000001", "1795636306.000001"] {
        let mut bytes = format!("{stamp} [0 10.0.9.9:1] \"SET\" \"first\" \"").into_bytes();
        bytes.extend_from_slice(&vec![b'v'; (256 << 10) + 10]);
        bytes.extend_from_slice(b"\"\n");
        bytes.extend_from_slice(&rest);
        for emit in ["tsv", "keys"] {
            let (file, piped) = both(&dir, &bytes, &["--emit", emit]);
            assert!(file.status.success(), "{}", String::from_utf8_lossy(&file.stderr));
            assert_eq!(String::from_utf8_lossy(&file.stderr), String::from_utf8_lossy(&piped.stderr), "{stamp}");
            assert!(file.stdout == piped.stdout, "{stamp} --emit {emit}: the records differ");
            let first = file.stdout.starts_with(b"1795636306.000001\t0\t10.0.9.9:1\tset\tfirst\t");
            assert_eq!(first, stamp.starts_with("1795"), "{stamp}: a fragment is skipped, a whole line kept");
        }
    }
}

#[test]
fn records_of_a_file_still_being_written_go_on_to_its_end_as_in_one_pass() {
    use std::io::{Read, Write};
    let dir = TempDir::new("ranges-records-growing");
    let path = dir.path("capture.txt");
    let (mut bytes, _) = capture(5_000, 17);
    // The capture's writer is inside a line when the run starts.
    bytes.extend_from_slice(b"1795636399.000001 [0 10.0.9.9:1] \"SET\" \"partial");
    std::fs::write(&path, &bytes).expect("write the capture");
    // The output is not read at first: the run blocks on its first chunk's records, long before
    // the end of the file.
    let (mut filter, mut out) = common::filter::Filter::stalled(&["--emit", "tsv", path.to_str().expect("UTF-8")]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let more = b"key\" \"v\"\n1795636399.000002 [0 10.0.9.9:1] \"GET\" \"appended\"\n";
    std::fs::OpenOptions::new().append(true).open(&path).and_then(|mut f| f.write_all(more)).expect("append");
    let mut records = Vec::new();
    out.read_to_end(&mut records).expect("the records");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    bytes.extend_from_slice(more);
    let piped = common::run(&["--emit", "tsv"], &bytes);
    assert_eq!(filter.stderr(), String::from_utf8_lossy(&piped.stderr));
    assert!(records == piped.stdout, "the records differ from one pass's over the whole file");
    let text = String::from_utf8_lossy(&records);
    assert!(text.ends_with("\tset\tpartialkey\tv\n1795636399.000002\t0\t10.0.9.9:1\tget\tappended\n"), "the end");
}

#[test]
fn records_of_commands_of_many_keys_from_a_long_client_stay_in_bounded_memory() {
    // Each line a 1000-key MGET from a client of 200 bytes: its keys records are some 240 KB,
    // forty times the line, so a chunk's records would reach megabytes.
    let dir = TempDir::new("ranges-records-many");
    let client = format!("unix:/{}", "p".repeat(200));
    let keys: Vec<String> = (0..1000).map(|k| format!("\"{k}\"")).collect();
    let mut bytes = Vec::new();
    for i in 0..1500 {
        bytes.extend_from_slice(format!("1795636306.{i:06} [0 {client}] \"mget\" {}\n", keys.join(" ")).as_bytes());
    }
    let path = dir.path("capture.txt");
    std::fs::write(&path, &bytes).expect("write the capture");
    let name = path.to_str().expect("a UTF-8 path");
    let Some((named, named_kib)) = common::peak_memory(&["--emit", "keys", name], b"") else { return };
    let Some((piped, piped_kib)) = common::peak_memory(&["--emit", "keys"], &bytes) else { return };
    assert!(named.stdout == piped.stdout && named.stderr == piped.stderr, "the records differ");
    assert_eq!(named.stdout.iter().filter(|&&b| b == b'\n').count(), 1_500_000);
    // The records made ahead of the one written: at most 16 MiB over one pass's memory.
    assert!(named_kib < piped_kib + 16 * 1024, "peak {named_kib} KiB named, {piped_kib} KiB piped");
}

#[test]
fn long_keys_that_share_a_head_keep_their_bounds_when_the_halves_join() {
    // Past the long-key budget a table keeps a key by its first 30 bytes: one half may keep a
    // key whole where the other kept its head, and the join must still find them one key.
    let dir = TempDir::new("ranges-long");
    let (bytes, truth) = capture(20_000, 17);
    let long = &format!("\"tenant:acme-corporation:cache:{}:user:", "0".repeat(80));
    let bytes = String::from_utf8(bytes).expect("UTF-8").replace("\"user:", long);
    let truth: HashMap<String, u64> =
        truth.into_iter().map(|(k, n)| (format!("{}{k}", &long[1..long.len() - 5]), n)).collect();
    let path = dir.path("capture.txt");
    std::fs::write(&path, &bytes).expect("write the capture");
    let out = common::run(&["--format", "json", "--top", "5000", path.to_str().expect("a UTF-8 path")], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = report["top_keys"].as_array().expect("top keys");
    let (mut whole, mut cut) = (0, 0);
    for k in rows {
        let name = k["name"].as_str().expect("a name");
        let Some(&real) = truth.get(name) else {
            cut += 1;
            continue;
        };
        whole += 1;
        let (count, error) = (k["count"].as_u64().expect("count"), k["error"].as_u64().expect("error"));
        assert!(count - error <= real && real <= count, "{k}: true {real}");
    }
    assert!(whole > 1_000 && cut > 0, "keys kept whole ({whole}) and by their head ({cut}) both shown");
}
