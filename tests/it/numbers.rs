//! Right numbers at the edges: rates in windows the stream started inside, timestamps of any
//! precision, captures cut at either end, runs of empty windows, unknown rates, odd clients.

use crate::common;

use common::{json_report, json_reports, run, stdout_of};
use serde_json::Value;

/// `n` GETs of `key`, one every `step` µs from `start` µs.
fn gets(key: &str, start: u64, n: u64, step: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let t = start + i * step;
        out.extend_from_slice(
            format!("{}.{:06} [0 10.0.0.1:5000] \"GET\" \"{key}\"\n", t / 1_000_000, t % 1_000_000).as_bytes(),
        );
    }
    out
}

#[test]
fn rates_in_the_first_windows_are_taken_over_the_time_they_cover() {
    // A key at 100/s for 20 s, starting 5 s before a minute boundary.
    let minute = 1_700_000_040_000_000u64; // a multiple of 60 s
    let input = gets("hot", minute - 5_000_000, 2000, 10_000);
    let windows = json_reports(&["--every", "1m", "--hot-qps", "90"], &input);
    let first = &windows[0];
    assert_eq!(first["window"]["partial"], true);
    let seconds = first["window"]["seconds"].as_f64().unwrap();
    assert!((seconds - 5.0).abs() < 0.01, "{seconds}");
    let rate = first["top_keys"][0]["rate"].as_f64().unwrap();
    assert!((rate - 100.0).abs() < 10.0, "first window: {rate}/s");
    assert_eq!(first["top_keys"][0]["hot"], true);
    assert_eq!(first["hot_keys"], 1);
    // A sliding window: every report from the first is within 10% of 100/s.
    let windows = json_reports(&["--every", "1s", "--window", "10s"], &input);
    assert!(windows.len() >= 20);
    for w in &windows[..windows.len() - 1] {
        let rate = w["top_keys"][0]["rate"].as_f64().unwrap();
        assert!((rate - 100.0).abs() <= 10.0, "{}: {rate}/s", w["window"]);
        assert_eq!(w["commands_per_second"].as_f64().unwrap(), rate, "one rate for commands and their key");
    }
    assert_eq!(windows[0]["window"]["partial"], true);
    assert_eq!(windows[12]["window"]["partial"], false);
}

#[test]
fn timestamps_with_fewer_digits_are_read_as_written() {
    let input = b"1700000000.1 [0 10.0.0.1:5000] \"GET\" \"a\"\n1700000000.2 [0 10.0.0.1:5000] \"GET\" \"a\"\n1700000000.25 [0 10.0.0.1:5000] \"GET\" \"a\"\n";
    let report = json_report(&[], input);
    assert_eq!(report["span_seconds"], 0.15);
    assert_eq!(report["commands_per_second"], 20.0);
    // Redis 2.0 (no brackets) did not zero-pad microseconds.
    let old = json_report(&[], b"1339518083.5 \"get\" \"x\"\n1339518083.7 \"get\" \"x\"\n");
    assert_eq!(old["span_seconds"], 0.000002);
}

#[test]
fn a_capture_cut_inside_its_first_line_does_not_start_in_1970() {
    let whole = gets("k", 1_795_787_786_377_009, 100, 1000);
    // Three digits into the timestamp, as `tail -c` or a rotated file leaves it.
    let report = json_report(&[], &whole[3..]);
    assert_eq!(report["start"], 1795787786.378009, "the capture starts at its second line");
    assert_eq!(report["commands"], 99);
    assert_eq!(report["cut_lines"], 1);
    assert_eq!(report["skipped"], 1);
    assert_eq!(report["lines"], 100);
    // Inside the arguments of the first line.
    let at = whole.iter().position(|&b| b == b'"').unwrap() + 3;
    let report = json_report(&[], &whole[at..]);
    assert_eq!((report["commands"].as_u64(), report["cut_lines"].as_u64()), (Some(99), Some(1)));
    // A whole first line is not held back, even alone.
    let report = json_report(&[], &gets("k", 1_795_787_786_000_000, 1, 1));
    assert_eq!((report["commands"].as_u64(), report["cut_lines"].as_u64()), (Some(1), Some(0)));
}

#[test]
fn a_capture_cut_inside_its_last_line_counts_it_as_cut() {
    let input = b"OK\n1.000001 [0 1.1.1.1:1] \"GET\" \"a\"\n1.000002 [0 1.1.1.1:1] \"MSET\" \"a\" \"1\" \"b\"";
    let report = json_report(&[], input);
    assert_eq!(report["commands"], 2);
    assert_eq!(report["cut_lines"], 1);
    let keys = stdout_of(&["--emit", "keys"], input);
    assert_eq!(keys.lines().filter_map(|l| l.split('\t').nth(4)).collect::<Vec<_>>(), ["a", "a", "b"]);
    let out = run(&["--emit", "tsv"], input);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("1 line was cut short (over 1 MiB, or the input ended inside it): its records hold"));
}

#[test]
fn a_run_of_empty_windows_is_one_report() {
    // Lines a year apart (two after the silence: a capture follows its timestamps when the
    // next line agrees), a report every second.
    let input = b"1700000000.500000 [0 1.1.1.1:1] \"GET\" \"a\"\n1731536000.500000 [0 1.1.1.1:1] \"GET\" \"b\"\n\
1731536000.600000 [0 1.1.1.1:1] \"GET\" \"c\"\n";
    let windows = json_reports(&["--every", "1s"], input);
    assert_eq!(windows.len(), 3, "the first, the silence, the last");
    assert_eq!(windows[1]["commands"], 0);
    assert_eq!(windows[1]["window"]["start"], 1700000001.0);
    assert_eq!(windows[1]["window"]["end"], 1731536000.0);
    // A sliding window still shows the periods that hold data, then one for the silence.
    let windows = json_reports(&["--every", "1s", "--window", "3s"], input);
    assert_eq!(windows.len(), 5);
}

#[test]
fn an_unknown_rate_is_said_the_same_way_everywhere() {
    let line = b"1795636306.000001 [0 10.0.0.1:5000] \"incr\" \"c\"\n";
    let input: Vec<u8> = line.iter().copied().cycle().take(line.len() * 1000).collect();
    let report = json_report(&[], &input);
    assert_eq!(report["commands_per_second"], Value::Null);
    assert_eq!(report["top_keys"][0]["rate"], Value::Null);
    let text = stdout_of(&[], &input);
    assert!(text.contains("  commands/sec      -\n"), "{text}");
}

#[test]
fn years_past_9999_are_refused() {
    let report =
        json_report(&[], b"253402300800.000000 [0 1.1.1.1:1] \"GET\" \"k\"\n1.000001 [0 1.1.1.1:1] \"GET\" \"k\"\n");
    assert_eq!((report["commands"].as_u64(), report["skipped"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn a_unix_socket_whose_path_holds_the_end_of_the_client() {
    for server in common::servers::all() {
        odd_socket_on(&server);
    }
}

fn odd_socket_on(server: &common::servers::Server) {
    // A server on a socket whose path holds `] "`, as 7.0.15 writes it in MONITOR.
    let dir = common::TempDir::new("sock");
    let path = dir.path("a] \"b.sock");
    let odd = common::Redis::start_server(server, &["--unixsocket", path.to_str().unwrap()]);
    let monitor = common::Capture::raw_socket(odd.port);
    monitor.wait_started();
    let mut client = common::Client::unix(&path).expect("connect to the odd socket");
    for _ in 0..3 {
        client.call(&["GET", "through-the-odd-socket"]);
    }
    client.call(&["GET", "the-end"]);
    monitor.wait_for(b"the-end");
    let capture = monitor.bytes();
    assert!(common::contains(&capture, b"] \"b.sock] \"GET\""), "{}", String::from_utf8_lossy(&capture));
    let report = json_report(&[], &capture);
    assert_eq!(report["skipped"], 0);
    assert_eq!(report["top_keys"][0]["name"], "through-the-odd-socket");
    assert_eq!(report["top_keys"][0]["count"], 3);
}

/// `1.00000N [0 1.1.1.1:1] "ARG" "ARG" …`, arguments quoted as given (no escaping needed).
fn line(n: u64, args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("1.{n:06} [0 1.1.1.1:1]").into_bytes();
    for a in args {
        out.extend_from_slice(b" \"");
        out.extend_from_slice(a);
        out.push(b'"');
    }
    out.push(b'\n');
    out
}

fn key_names(input: &[u8]) -> Vec<String> {
    stdout_of(&["--emit", "keys"], input).lines().map(|l| l.split('\t').nth(4).unwrap().to_string()).collect()
}

#[test]
fn every_key_of_a_line_over_1_mib_is_counted() {
    let big = vec![b'x'; 1_500_000];
    let input = line(1, &[b"MSET", b"big:k1", &big, b"big:k2", b"v"]);
    assert_eq!(key_names(&input), ["big:k1", "big:k2"]);
    let report = json_report(&["--top", "5"], &input);
    assert_eq!(report["key_accesses"], 2);
    assert_eq!(report["key_bytes"], 6 + 1_500_000 + 6 + 1);
    assert_eq!(report["cut_lines"], 0);
}

#[test]
fn a_key_over_1_mib_is_one_key_whatever_line_it_comes_in() {
    // A 600 KB key, read in a short line and in a line over 1 MiB; a 1.5 MB key twice.
    let mut mid = b"{tag}".to_vec();
    mid.resize(600_000, b'm');
    let huge = vec![b'h'; 1_500_000];
    let value = vec![b'v'; 700_000];
    let mut input = line(1, &[b"GET", &mid]);
    input.extend(line(2, &[b"SET", &mid, &value]));
    input.extend(line(3, &[b"SET", &huge, b"v"]));
    input.extend(line(4, &[b"GET", &huge]));
    let report = json_report(&[], &input);
    let top = report["top_keys"].as_array().unwrap();
    assert_eq!(top.len(), 2, "{top:?}");
    for k in top {
        assert_eq!(k["count"], 2, "{k}");
        let length = k["full_length"].as_u64().unwrap();
        assert!(length == 600_000 || length == 1_500_000, "{k}");
        if length == 600_000 {
            assert_eq!(k["slot"], faina_filter::cluster::slot(b"tag"), "the slot of the whole key's tag");
            assert_eq!((k["reads"].as_u64(), k["writes"].as_u64()), (Some(1), Some(1)));
        }
    }
}

#[test]
fn all_keys_of_a_3_mib_mset() {
    // Large values between the keys.
    let value = vec![b'x'; 1 << 20];
    let input = line(1, &[b"MSET", b"a", &value, b"b", &value, b"c", &value, b"d", b"v"]);
    assert_eq!(key_names(&input), ["a", "b", "c", "d"]);
    // Or 150 000 small pairs.
    let pairs: Vec<Vec<u8>> = (0..150_000).map(|i| format!("key:{i:06}").into_bytes()).collect();
    let mut args: Vec<&[u8]> = vec![b"MSET"];
    for k in &pairs {
        args.push(k);
        args.push(b"value");
    }
    let input = line(1, &args);
    assert!(input.len() > 3 << 20);
    let names = key_names(&input);
    assert_eq!(names.len(), 150_000);
    assert_eq!(names[149_999], "key:149999");
    let report = json_report(&[], &input);
    assert_eq!((report["key_accesses"].as_u64(), report["cut_lines"].as_u64()), (Some(150_000), Some(0)));
}

#[test]
fn a_file_and_a_pipe_give_the_same_counts_for_lines_of_1_to_1_3_mib() {
    let mut input = Vec::new();
    for (i, size) in [900_000usize, 1_040_000, 1_048_576, 1_100_000, 1_200_000, 1_300_000].into_iter().enumerate() {
        for j in 0..50u64 {
            input.extend(line(i as u64 * 100 + j, &[b"GET", format!("small:{j}").as_bytes()]));
        }
        let key = format!("big:{i}");
        input.extend(line(i as u64 * 100 + 99, &[b"SET", key.as_bytes(), &vec![b'v'; size], b"EX", b"10"]));
    }
    // One more, unterminated.
    let mut last = line(999, &[b"SET", b"big:last", &vec![b'v'; 1_060_000]]);
    last.pop();
    input.extend(last);
    let dir = common::TempDir::new("file-pipe");
    let path = dir.path("capture.txt");
    std::fs::write(&path, &input).unwrap();
    for args in [&["--format", "json"][..], &["--emit", "keys"], &["--emit", "tsv"]] {
        let piped = run(args, &input);
        let mut with_file = args.to_vec();
        with_file.push(path.to_str().unwrap());
        let read = run(&with_file, b"");
        assert_eq!(piped.stdout, read.stdout, "{args:?}");
    }
    let report = json_report(&[], &input);
    assert_eq!(report["commands"], 307);
    assert_eq!(report["key_accesses"], 307);
    assert_eq!(report["cut_lines"], 1, "the unterminated one");
}

#[test]
fn a_real_servers_lines_over_1_mib() {
    for server in common::servers::all() {
        lines_over_1_mib_on(&server);
    }
}

fn lines_over_1_mib_on(server: &common::servers::Server) {
    let redis = common::Redis::start_server(server, &[]);
    let monitor = common::Capture::raw_socket(redis.port);
    monitor.wait_started();
    let big = vec![b'x'; 1_500_000];
    let mut client = redis.client();
    client.call_bytes(&[b"MSET", b"big:k1", &big, b"big:k2", b"v"]);
    client.call_bytes(&[b"SET", &big, b"v"]);
    client.call(&["GET", "the-end"]);
    monitor.wait_for(b"the-end");
    let capture = monitor.bytes();
    let names = key_names(&capture);
    assert_eq!(names.len(), 4, "{:?}", names.iter().map(|n| n.len()).collect::<Vec<_>>());
    assert_eq!(&names[..2], ["big:k1", "big:k2"]);
    assert_eq!(names[3], "the-end");
    let report = json_report(&[], &capture);
    let long = report["top_keys"].as_array().unwrap().iter().find(|k| k["full_length"] == 1_500_000);
    assert!(long.is_some(), "the 1.5 MB key, by its head and length: {}", report["top_keys"]);
}

#[test]
fn an_input_that_is_one_broken_line_is_one_cut_line() {
    for input in [b"garbage".to_vec(), vec![0u8; 2_000_000]] {
        let report = json_report(&[], &input);
        assert_eq!((report["lines"].as_u64(), report["skipped"].as_u64()), (Some(1), Some(1)));
        assert_eq!(report["cut_lines"], 1, "{} bytes", input.len());
        let text = stdout_of(&[], &input);
        assert!(text.contains("  cut lines         1   "), "{text}");
    }
}

#[test]
fn migrate_with_nothing_after_keys_has_no_key() {
    let Some(redis) = common::Redis::start(&[]) else { return };
    let monitor = common::Capture::raw_socket(redis.port);
    monitor.wait_started();
    // KEYS with no key after it: the server migrates nothing (NOKEY).
    let reply = redis.client().call(&["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS"]);
    assert_eq!(reply, b"+NOKEY\r\n");
    redis.client().call(&["MIGRATE", "127.0.0.1", "1", "", "0", "100", "COPY", "KEYS"]);
    redis.client().call(&["GET", "the-end"]);
    monitor.wait_for(b"the-end");
    let capture = monitor.bytes();
    assert!(common::contains(&capture, b"\"MIGRATE\" \"127.0.0.1\" \"1\" \"\" \"0\" \"100\" \"KEYS\""));
    let report = json_report(&[], &capture);
    assert_eq!(report["commands"], 3);
    assert_eq!(report["key_accesses"], 1, "only GET's key");
    let keys = stdout_of(&["--emit", "keys"], &capture);
    assert!(!keys.contains("\tmigrate\t"), "{keys}");
}

#[test]
fn the_mean_gap_is_over_the_calls_that_had_one() {
    // GET at 10.0 and 11.0: one gap of 1 s, and the first call had none.
    let input = gets("k", 10_000_000, 2, 1_000_000);
    let report = json_report(&[], &input);
    let heavy = &report["heaviest_commands"][0];
    assert_eq!((heavy["name"].as_str(), heavy["count"].as_u64()), (Some("get"), Some(2)));
    assert_eq!((heavy["total_us"].as_u64(), heavy["mean_us"].as_u64()), (Some(1_000_000), Some(1_000_000)));
    let text = stdout_of(&[], &input);
    assert!(text.contains("     1.00s 100.00%        2     1.00s  get\n"), "{text}");
    // Under the older servers' rule, the last call has none.
    let text = stdout_of(&["--redis-version", "6.0"], &gets("k", 10_000_000, 3, 1_000_000));
    assert!(text.contains("     2.00s 100.00%        3     1.00s  get\n"), "{text}");
}
