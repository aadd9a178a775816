//! Live inputs and signals: a FIFO named as a file is read as it comes, the first Ctrl-C ends a
//! run whose output is stalled, and a second one ends the process at once.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TempDir;

/// Waits up to `limit` for the child to exit.
fn exit_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn lines(n: usize, distinct: bool) -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..n {
        let key = if distinct { format!("key:{i}") } else { "k".to_string() };
        input.extend_from_slice(
            format!("1795636306.{:06} [0 10.0.0.1:5000] \"get\" \"{key}\"\n", i % 1_000_000).as_bytes(),
        );
    }
    input
}

fn now_stamp() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:06}", t.as_secs(), t.subsec_micros())
}

#[test]
fn the_first_ctrl_c_ends_a_run_whose_output_is_stalled() {
    // Records into a pipe nobody reads (a stalled `| less`): the filter blocks on its write.
    let mut filter = common::faina()
        .args(["--emit", "tsv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = filter.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&lines(100_000, false));
    });
    assert!(common::filter::until_blocked(filter.id(), filter.stdout.as_ref().unwrap()), "the records fill the pipe");
    assert!(filter.try_wait().unwrap().is_none(), "blocked on its output");
    common::signal(&filter, "INT");
    let status = exit_within(&mut filter, Duration::from_secs(5));
    let Some(status) = status else {
        let _ = filter.kill();
        panic!("Ctrl-C did not end a run blocked on its output");
    };
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut filter.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("stopped while the output was blocked"), "{err}");
    drop(filter);
    feeder.join().unwrap();
}

#[test]
fn a_second_ctrl_c_ends_the_process_at_once() {
    // The first Ctrl-C asks for the report; the report (over 64 KiB) does not fit the pipe
    // nobody reads, so writing it blocks; the second Ctrl-C must end the process there.
    let mut filter = common::faina()
        .args(["--top", "20000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = filter.stdin.take().unwrap();
    stdin.write_all(&lines(20_000, true)).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    common::signal(&filter, "INT");
    std::thread::sleep(Duration::from_millis(700));
    assert!(filter.try_wait().unwrap().is_none(), "still writing its report");
    common::signal(&filter, "INT");
    let status = exit_within(&mut filter, Duration::from_secs(2));
    if status.is_none() {
        let _ = filter.kill();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(130), "the second Ctrl-C ends it");
    drop(stdin);
}

#[test]
fn a_fifo_named_as_a_file_is_a_live_stream() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path("monitor.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut filter = common::faina()
        .args(["--every", "1s", "--format", "json", fifo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = filter.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(format!("OK\n{} [0 10.0.0.1:5000] \"get\" \"live\"\n", now_stamp()).as_bytes()).unwrap();
    writer.flush().unwrap();
    // The writer stays open: a report must come from the clock, not from the end of the input.
    let report = rx.recv_timeout(Duration::from_secs(5)).expect("a report while the FIFO is open");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["top_keys"][0]["name"], "live");
    common::signal(&filter, "INT");
    let status = exit_within(&mut filter, Duration::from_secs(5));
    if status.is_none() {
        let _ = filter.kill();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(0), "Ctrl-C ends a run reading a FIFO whose writer is still there");
    drop(writer);
}

#[test]
fn ctrl_c_while_a_fifo_waits_for_its_writer() {
    let dir = TempDir::new("fifo-nowriter");
    let fifo = dir.path("monitor.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut filter = common::faina()
        .args(["--format", "json", fifo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    common::signal(&filter, "INT");
    let status = exit_within(&mut filter, Duration::from_secs(5));
    if status.is_none() {
        let _ = filter.kill();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    let out = filter.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the (empty) report");
    assert_eq!(report["commands"], 0);
}
