//! Rolling reports: aligned windows that add up, sliding windows that agree with a recount,
//! reports that keep coming while a live stream is idle, Ctrl-C, rates, and the filters.

use crate::common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{json_report, json_reports, stdout_of, Capture, Redis};
use serde_json::Value;

const SAMPLE: &[u8] = include_bytes!("../../examples/sample-capture.txt");

fn counts(rows: &Value) -> BTreeMap<String, u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect()
}

#[test]
fn periods_are_aligned_and_add_up_to_the_whole() {
    let whole = json_report(&["--top", "100000"], SAMPLE);
    let windows = json_reports(&["--every", "500ms", "--top", "100000"], SAMPLE);
    let first = whole["start"].as_f64().unwrap();
    let last = whole["end"].as_f64().unwrap();
    let expected = ((last * 2.0).floor() - (first * 2.0).floor()) as usize + 1;
    assert_eq!(windows.len(), expected);
    let mut previous: Option<(f64, f64)> = None;
    let (mut commands, mut lines) = (0i64, 0i64);
    let mut keys = BTreeMap::<String, i64>::new();
    for (i, w) in windows.iter().enumerate() {
        let start = w["window"]["start"].as_f64().unwrap();
        let end = w["window"]["end"].as_f64().unwrap();
        assert_eq!((start * 2.0).fract(), 0.0, "aligned to the period: {start}");
        let last_window = i + 1 == windows.len();
        assert_eq!(w["window"]["ended"], last_window);
        // The stream started inside the first window; the last is the one before it, extended
        // to the end of the input: it counts that one's lines again.
        if let Some((prev_start, prev_end)) = previous {
            if last_window {
                assert_eq!(start, prev_start, "the last window reported, extended");
                assert!(end > prev_end);
            } else {
                assert_eq!(start, prev_end, "consecutive");
            }
        }
        if last_window {
            let before = &windows[i - 1];
            commands -= before["commands"].as_i64().unwrap();
            lines -= before["lines"].as_i64().unwrap();
            for (k, c) in counts(&before["top_keys"]) {
                *keys.entry(k).or_default() -= c as i64;
            }
        } else {
            assert_eq!(w["window"]["partial"], i == 0);
            assert_eq!(end - start, 0.5);
        }
        previous = Some((start, end));
        commands += w["commands"].as_i64().unwrap();
        lines += w["lines"].as_i64().unwrap();
        for (k, c) in counts(&w["top_keys"]) {
            *keys.entry(k).or_default() += c as i64;
        }
    }
    keys.retain(|_, c| *c != 0);
    let whole_keys: BTreeMap<String, i64> =
        counts(&whole["top_keys"]).into_iter().map(|(k, c)| (k, c as i64)).collect();
    assert_eq!(commands, whole["commands"].as_i64().unwrap());
    assert_eq!(lines, whole["lines"].as_i64().unwrap());
    assert_eq!(keys, whole_keys);
}

#[test]
fn sliding_windows_agree_with_a_recount() {
    let windows = json_reports(&["--every", "500ms", "--window", "2s", "--top", "100000"], SAMPLE);
    // The brute force: every key access with its time, from the records.
    let records: Vec<(f64, String)> = stdout_of(&["--emit", "keys"], SAMPLE)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[4].to_string())
        })
        .collect();
    assert!(windows.len() > 4);
    for w in &windows {
        let start = w["window"]["start"].as_f64().unwrap();
        let end = w["window"]["end"].as_f64().unwrap();
        let covers = w["window"]["partial"] == true || w["window"]["ended"] == true;
        assert!(covers || (end - start - 2.0).abs() < 1e-9);
        let mut want = BTreeMap::<String, u64>::new();
        for (t, k) in &records {
            if *t >= start - 1e-7 && *t < end - 1e-7 {
                *want.entry(k.clone()).or_default() += 1;
            }
        }
        assert_eq!(counts(&w["top_keys"]), want, "window {start}..{end}");
        let secs = w["window"]["seconds"].as_f64().unwrap();
        if let Some(top) = w["top_keys"].as_array().unwrap().first() {
            let rate = top["rate"].as_f64().unwrap();
            assert!((rate - top["count"].as_f64().unwrap() / secs).abs() < 0.01);
        }
    }
}

#[test]
fn hot_keys_are_marked_by_rate() {
    let report = json_report(&["--hot-qps", "500"], SAMPLE);
    let secs = report["span_seconds"].as_f64().unwrap();
    let top = &report["top_keys"][0];
    assert_eq!(top["name"], "config:feature-flags");
    assert!(top["count"].as_f64().unwrap() / secs >= 500.0);
    assert_eq!(top["hot"], true);
    assert_eq!(report["top_keys"][1]["hot"], false);
    assert_eq!(report["hot_keys"], 1);
    let text = stdout_of(&["--hot-qps", "500"], SAMPLE);
    let hot: Vec<&str> = text.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(hot.len(), 1, "{text}");
    assert!(hot[0].ends_with("  config:feature-flags"), "{text}");
    assert!(text.contains("(*: 1 keys at or above 500/s, --hot-qps)"), "{text}");
}

#[test]
fn filters_apply_to_reports_and_records() {
    let input = b"1.000001 [0 10.0.0.1:5000] \"get\" \"user:1\"\n\
1.000002 [3 10.0.0.2:5000] \"set\" \"user:2\" \"x\"\n\
1.000003 [0 lua] \"get\" \"session:1\"\n\
1.000004 [0 unix:/tmp/r.sock] \"mget\" \"user:3\" \"session:2\"\n\
1.000005 [0 10.0.0.1:5001] \"client\" \"setname\" \"app\"\n";
    let check = |args: &[&str], want_keys: &[&str], want_commands: u64| {
        let report = json_report(args, input);
        assert_eq!(report["commands"], want_commands, "{args:?}");
        assert_eq!(report["filtered"], 5 - want_commands, "{args:?}");
        let n = |k: &str| report[k].as_u64().unwrap();
        assert_eq!(n("lines"), n("commands") + n("filtered") + n("noise") + n("skipped"));
        let mut keys: Vec<String> = counts(&report["top_keys"]).into_keys().collect();
        keys.sort();
        assert_eq!(keys, want_keys, "{args:?}");
        let mut all = vec!["--emit", "keys"];
        all.extend_from_slice(args);
        let mut recorded: Vec<String> =
            stdout_of(&all, input).lines().map(|l| l.split('\t').nth(4).unwrap().to_string()).collect();
        recorded.sort();
        assert_eq!(recorded, want_keys, "records of {args:?}");
    };
    check(&["--db", "3"], &["user:2"], 1);
    check(&["--command", "GET"], &["session:1", "user:1"], 2);
    check(&["--command", "client"], &[], 1);
    check(&["--client", "10.0.0.1"], &["user:1"], 2);
    check(&["--client", "lua", "--client", "unix"], &["session:1", "session:2", "user:3"], 2);
    check(&["--key", "user:*"], &["user:1", "user:2", "user:3"], 3);
    check(&["--key", "user:*", "--db", "0"], &["user:1", "user:3"], 2);
    let tsv = stdout_of(&["--emit", "tsv", "--key", "session:*"], input);
    assert_eq!(tsv.lines().count(), 2);
}

#[test]
fn an_idle_live_stream_still_gets_its_reports() {
    let Some(redis) = Redis::start(&[]) else { return };
    let monitor = Capture::raw_socket(redis.port);
    monitor.wait_started();
    let mut filter = common::faina()
        .args(["--every", "1s", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = filter.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = filter.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            tx.send((Instant::now(), line)).unwrap();
        }
    });
    // Stream what the monitor sees into faina-filter, as nc would.
    let mut client = redis.client();
    let mut sent = 0;
    let forward = |stdin: &mut std::process::ChildStdin, sent: &mut usize| {
        let bytes = monitor.bytes();
        stdin.write_all(&bytes[*sent..]).unwrap();
        stdin.flush().unwrap();
        *sent = bytes.len();
    };
    let busy_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < busy_until {
        client.call(&["GET", "busy"]);
        forward(&mut stdin, &mut sent);
        std::thread::sleep(Duration::from_millis(20));
    }
    // The workload pauses: the stream is silent, but reports must keep coming.
    let pause = Instant::now();
    std::thread::sleep(Duration::from_millis(4000));
    let during: Vec<(Instant, String)> = rx.try_iter().collect();
    let idle: Vec<&(Instant, String)> =
        during.iter().filter(|(t, _)| *t > pause + Duration::from_millis(1500)).collect();
    assert!(idle.len() >= 2, "reports while idle: {}", idle.len());
    for (_, line) in &idle {
        let report: Value = serde_json::from_str(line).unwrap();
        assert_eq!(report["commands"], 0, "an idle period has no commands");
        assert_eq!(report["window"]["partial"], false);
    }
    let busy: u64 =
        during.iter().map(|(_, l)| serde_json::from_str::<Value>(l).unwrap()["commands"].as_u64().unwrap()).sum();
    assert!(busy > 10, "the busy periods were reported: {busy}");
    // The workload resumes, then the stream ends: the last partial window comes out.
    client.call(&["GET", "again"]);
    monitor.wait_for(b"again");
    forward(&mut stdin, &mut sent);
    drop(stdin);
    assert!(filter.wait().unwrap().success());
    let rest: Vec<(Instant, String)> = rx.iter().collect();
    let last: Value = serde_json::from_str(&rest.last().unwrap().1).unwrap();
    assert_eq!(last["window"]["ended"], true);
    assert_eq!(last["top_keys"][0]["name"], "again");
}

#[test]
fn ctrl_c_prints_the_report_so_far() {
    for signal in ["INT", "TERM"] {
        let mut filter = common::faina()
            .args(["--format", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = filter.stdin.take().unwrap();
        stdin.write_all(b"OK\n1.000001 [0 1.1.1.1:1] \"get\" \"before-ctrl-c\"\n").unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        common::signal(&filter, signal);
        let out = filter.wait_with_output().unwrap();
        assert!(out.status.success(), "SIG{signal}: {:?}", out.status);
        let report: Value = serde_json::from_slice(&out.stdout).expect("a report after the signal");
        assert_eq!(report["commands"], 1);
        assert_eq!(report["top_keys"][0]["name"], "before-ctrl-c");
        drop(stdin);
    }
}

/// A live filter (`--every 1s --format json` reading a pipe) and its reports as they come.
struct LiveFilter {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    reports: mpsc::Receiver<(Instant, Value)>,
}

impl LiveFilter {
    fn start(args: &[&str]) -> LiveFilter {
        let mut child = common::faina()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, reports) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send((Instant::now(), serde_json::from_str(&line).expect("a JSON report")));
            }
        });
        LiveFilter { child, stdin, reports }
    }

    fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Ends the input; every report, with when it came.
    fn finish(mut self) -> Vec<(Instant, Value)> {
        self.stdin = None;
        assert!(self.child.wait().unwrap().success());
        self.reports.iter().collect()
    }
}

/// MONITOR lines as a raw socket shows them (`+1795636306.123456 [0 …] …`), their timestamps
/// moved by `seconds`.
fn shifted(lines: &[u8], seconds: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines.split_inclusive(|&b| b == b'\n') {
        let digits = line.iter().skip(1).take_while(|b| b.is_ascii_digit()).count();
        if line.first() == Some(&b'+') && digits >= 9 {
            let secs: i64 = std::str::from_utf8(&line[1..1 + digits]).unwrap().parse().unwrap();
            out.extend_from_slice(format!("+{}", secs + seconds).as_bytes());
            out.extend_from_slice(&line[1 + digits..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Reads `key` from `redis` for `how_long`, passing what MONITOR shows to `filter` with its
/// timestamps moved by `shift` seconds.
fn stream(
    redis: &Redis,
    monitor: &Capture,
    sent: &mut usize,
    filter: &mut LiveFilter,
    key: &str,
    how_long: Duration,
    shift: i64,
) {
    let mut client = redis.client();
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        for _ in 0..5 {
            client.call(&["GET", key]);
        }
        let bytes = monitor.bytes();
        filter.write(&shifted(&bytes[*sent..], shift));
        *sent = bytes.len();
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

#[test]
fn one_line_a_year_ahead_in_a_live_stream_stops_no_report() {
    let Some(redis) = Redis::start(&[]) else { return };
    let monitor = Capture::raw_socket(redis.port);
    monitor.wait_started();
    let mut filter = LiveFilter::start(&["--every", "1s", "--format", "json"]);
    let mut sent = 0;
    stream(&redis, &monitor, &mut sent, &mut filter, "before", Duration::from_millis(1500), 0);
    let wild = now_seconds() as u64 + 365 * 86_400;
    filter.write(format!("+{wild}.000000 [0 127.0.0.1:1] \"GET\" \"wild\"\r\n").as_bytes());
    let after = Instant::now();
    stream(&redis, &monitor, &mut sent, &mut filter, "after", Duration::from_millis(3500), 0);
    let reports = filter.finish();
    let (periods, last) = reports.split_at(reports.len() - 1);
    let later = periods.iter().filter(|(t, _)| *t > after).count();
    assert!(later >= 2, "a report every period after the wild line: {later}");
    let horizon = now_seconds() + 3600.0;
    for (_, r) in &reports {
        assert!(r["window"]["end"].as_f64().unwrap() < horizon, "no window a year ahead: {}", r["window"]);
        assert!(r["window"]["seconds"].as_f64().unwrap() < 10.0, "{}", r["window"]);
    }
    let out_of_order: u64 = periods.iter().map(|(_, r)| r["window"]["out_of_order"].as_u64().unwrap()).sum();
    let commands: u64 = periods.iter().map(|(_, r)| r["commands"].as_u64().unwrap()).sum();
    let in_last = last[0].1["commands"].as_u64().unwrap() - periods.last().unwrap().1["commands"].as_u64().unwrap();
    assert_eq!(out_of_order + last[0].1["window"]["out_of_order"].as_u64().unwrap(), 1, "counted as out of order");
    let wild_seen = reports.iter().any(|(_, r)| counts(&r["top_keys"]).contains_key("wild"));
    assert!(wild_seen, "the wild line's key is counted");
    let sent_commands = monitor.bytes()[..sent].split(|&b| b == b'\n').filter(|l| l.starts_with(b"+1")).count() as u64;
    assert_eq!(commands + in_last, sent_commands + 1, "every command counted, once");
}

#[test]
fn a_clock_step_back_of_an_hour_in_a_live_stream_keeps_the_reports_honest() {
    let Some(redis) = Redis::start(&[]) else { return };
    let monitor = Capture::raw_socket(redis.port);
    monitor.wait_started();
    let mut filter = LiveFilter::start(&["--every", "1s", "--format", "json"]);
    let mut sent = 0;
    let started = Instant::now();
    stream(&redis, &monitor, &mut sent, &mut filter, "before", Duration::from_millis(1500), 0);
    let step = Instant::now();
    stream(&redis, &monitor, &mut sent, &mut filter, "after", Duration::from_millis(3500), -3600);
    let elapsed = started.elapsed().as_secs_f64();
    let reports = filter.finish();
    let later = reports.iter().filter(|(t, _)| *t > step + Duration::from_millis(500)).count();
    assert!(later >= 3, "a report every period after the step: {later}");
    let commands = monitor.bytes().split(|&b| b == b'\n').filter(|l| l.starts_with(b"+1")).count() as f64;
    let mean = commands / elapsed;
    // The first window may cover a moment: the stream started inside it.
    for (_, r) in &reports[1..] {
        let seconds = r["window"]["seconds"].as_f64().unwrap();
        let rate = r["commands"].as_f64().unwrap() / seconds;
        assert!(seconds >= 0.2 || r["commands"] == 0, "no window of a moment: {}", r["window"]);
        assert!(rate < mean * 4.0, "{rate}/s against {mean}/s on average: {}", r["window"]);
    }
    let out_of_order: u64 =
        reports[..reports.len() - 1].iter().map(|(_, r)| r["window"]["out_of_order"].as_u64().unwrap()).sum();
    assert_eq!(out_of_order, 1, "the first line after the step, until the next agrees");
}

#[test]
fn a_single_wild_line_in_a_capture_moves_no_window() {
    let plain = json_reports(&["--every", "1s"], SAMPLE);
    let middle = SAMPLE.len() / 2 + SAMPLE[SAMPLE.len() / 2..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut wild = SAMPLE[..middle].to_vec();
    wild.extend_from_slice(b"1827175607.000000 [0 127.0.0.1:1] \"get\" \"wild\"\n");
    wild.extend_from_slice(&SAMPLE[middle..]);
    let with = json_reports(&["--every", "1s"], &wild);
    assert_eq!(with.len(), plain.len(), "the same windows");
    for (a, b) in plain.iter().zip(&with) {
        assert_eq!(a["window"]["start"], b["window"]["start"]);
        assert_eq!(a["window"]["end"], b["window"]["end"]);
        let extra = b["commands"].as_u64().unwrap() - a["commands"].as_u64().unwrap();
        assert_eq!(extra, b["window"]["out_of_order"].as_u64().unwrap(), "the wild line, counted as out of order");
    }
    assert_eq!(with.iter().map(|r| r["window"]["out_of_order"].as_u64().unwrap()).max(), Some(1));
}
