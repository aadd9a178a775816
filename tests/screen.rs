//! The live screen as an operator sees it: the filter's output through a pseudo-terminal of
//! 80×24 (util-linux `script`), read back by a terminal emulator (`vt100`), with a live MONITOR
//! stream of a real redis-server coming through a FIFO.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Capture, Redis, TempDir, BIN};

/// The filter running on a pseudo-terminal of 80×24, and what it has written to it.
struct OnTerminal {
    script: Child,
    output: Arc<Mutex<Vec<u8>>>,
}

impl OnTerminal {
    fn start(args: &str) -> Option<OnTerminal> {
        if !common::require("script") {
            return None;
        }
        let command = format!("stty cols 80 rows 24; exec {BIN} {args}");
        let mut script = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start script");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let mut stdout = script.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(OnTerminal { script, output })
    }

    /// The screen as a terminal of 80×24 shows it now.
    fn screen(&self) -> String {
        let mut terminal = vt100::Parser::new(24, 80, 0);
        terminal.process(&self.output.lock().unwrap());
        terminal.screen().contents()
    }

    /// Waits until the screen shows `needle`, or returns the screen as it is after `limit`.
    fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if screen.contains(needle) || Instant::now() > deadline {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for OnTerminal {
    fn drop(&mut self) {
        let _ = Command::new("pkill").args(["-INT", "-P", &self.script.id().to_string()]).status();
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}

fn fifo(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path("monitor.fifo");
    assert!(Command::new("mkfifo").arg(&path).status().unwrap().success());
    path
}

#[test]
fn the_top_key_whole_with_its_rate_and_trend_on_an_80_column_screen() {
    let Some(redis) = Redis::start(&[]) else { return };
    let dir = TempDir::new("screen");
    let fifo = fifo(&dir);
    let args = format!("--every 1s --window 5s --hot-qps 20 {}", fifo.display());
    let Some(term) = OnTerminal::start(&args) else { return };
    let monitor = Capture::raw_socket(redis.port);
    monitor.wait_started();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    // A key longer than the old layout left room for, read hard; and a few others.
    let hot = "user:1000:profile:settings:dark-mode";
    let mut client = redis.client();
    let mut sent = 0;
    let until = Instant::now() + Duration::from_millis(4500);
    let mut i = 0u64;
    while Instant::now() < until {
        client.call(&["GET", hot]);
        if i % 5 == 0 {
            client.call(&["SET", &format!("session:{}", i % 7), "v"]);
        }
        i += 1;
        if i % 20 == 0 {
            let bytes = monitor.bytes();
            writer.write_all(&bytes[sent..]).unwrap();
            sent = bytes.len();
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let screen = term.wait_for("trend", Duration::from_secs(3));
    eprintln!("the screen:\n{screen}");
    let line = screen.lines().find(|l| l.ends_with(hot)).unwrap_or_else(|| panic!("the key, whole:\n{screen}"));
    assert!(line.starts_with('*'), "marked hot: {line}");
    let rate: f64 = line[1..].split_whitespace().next().unwrap().parse().unwrap();
    assert!(rate > 20.0, "{line}");
    assert!(line.chars().any(|c| ('▁'..='█').contains(&c)), "a sparkline: {line}\n{screen}");
    assert!(screen.lines().count() <= 24);
    assert!(screen.lines().all(|l| l.chars().count() < 80), "{screen}");
    assert!(screen.contains("cmd/s"), "{screen}");
    drop(writer);
}

#[test]
fn an_idle_stream_shows_that_the_filter_is_waiting() {
    let dir = TempDir::new("screen-idle");
    let fifo = fifo(&dir);
    let Some(term) = OnTerminal::start(&format!("--every 1s {}", fifo.display())) else { return };
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(b"+OK\r\n").unwrap();
    let screen = term.wait_for("waiting for the first command", Duration::from_secs(5));
    assert!(screen.contains("waiting for the first command since"), "{screen}");
    assert!(screen.contains("lines read 1: noise 1"), "{screen}");
    drop(writer);
}

#[test]
fn no_screen_appends_reports_on_a_terminal() {
    let dir = TempDir::new("screen-off");
    let fifo = fifo(&dir);
    let Some(term) = OnTerminal::start(&format!("--every 1s --no-screen {}", fifo.display())) else { return };
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let line = format!("{}.{:06} [0 10.0.0.1:5000] \"GET\" \"appended\"\n", now.as_secs(), now.subsec_micros());
    writer.write_all(line.as_bytes()).unwrap();
    let screen = term.wait_for("Top Keys", Duration::from_secs(5));
    assert!(screen.contains("Overall") || screen.contains("Top Keys"), "{screen}");
    assert!(!term.output.lock().unwrap().windows(3).any(|w| w == b"\x1b[H"), "no redrawing in place");
    drop(writer);
}

#[test]
fn piped_text_reports_fit_80_columns_but_for_names() {
    let sample = "examples/sample-capture.txt";
    let root = env!("CARGO_MANIFEST_DIR");
    for args in [
        &["--every", "1s", "--window", "3s", "--hot-qps", "50", sample][..],
        &["--redis-version", "5", sample],
        &["n1=examples/sample-capture.txt", "n2=tests/data/generated.txt"],
    ] {
        let out = Command::new(BIN).args(args).current_dir(root).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines().filter(|l| l.chars().count() > 80) {
            // Only a row's name (a key, a call's arguments) may go past: it starts within 40.
            let name_at = line.find("  ").map(|at| at + line[at..].len() - line[at..].trim_start().len());
            let starts = line.char_indices().find(|(_, c)| !c.is_whitespace()).map(|(i, _)| i).unwrap_or(0);
            assert!(starts <= 40 || name_at.is_some_and(|at| at <= 40), "{args:?}: {line}");
            assert!(!line.starts_with("Window") && !line.starts_with("  gaps between"), "{args:?}: {line}");
        }
        for line in text.lines().filter(|l| l.starts_with(' ') && l.contains("config:feature-flags")) {
            assert!(line.find("config:feature-flags").unwrap() <= 40, "{args:?}: the key within 40 columns: {line}");
        }
    }
}

#[test]
fn operator_mistakes_get_a_word() {
    // redis-cli prints NOAUTH on stdout, without the `-`.
    let out = common::run(&[], b"NOAUTH Authentication required.\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("the server said: NOAUTH Authentication required. (send AUTH before MONITOR, or use --connect)"),
        "{err}"
    );
    // A command no table knows.
    let out = common::run(&["--command", "gett"], b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\n");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--command 'gett' is no command the table knows"));
    // Records with a report format.
    let out = common::run(&["--emit", "tsv", "--format", "json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format json"));
    // An IPv6 client without its brackets.
    let tsv = common::stdout_of(&["--client", "::1", "--emit", "tsv"], b"1.000001 [0 [::1]:33802] \"get\" \"k\"\n");
    assert_eq!(tsv.lines().count(), 1, "{tsv}");
    // An empty key and a key named `(empty)` do not look alike.
    let text =
        common::stdout_of(&[], b"1.000001 [0 1.1.1.1:1] \"get\" \"\"\n1.000002 [0 1.1.1.1:1] \"get\" \"(empty)\"\n");
    assert!(
        text.lines().any(|l| l.ends_with("  (empty)")) && text.lines().any(|l| l.ends_with("  \\x28empty)")),
        "{text}"
    );
    // A subcommand is named once in a call.
    let text = common::stdout_of(
        &[],
        b"1.000001 [0 1.1.1.1:1] \"config\" \"get\" \"maxmemory\"\n1.000100 [0 1.1.1.1:1] \"config\" \"set\" \"maxmemory\" \"1gb\"\n",
    );
    assert!(text.contains("config|set maxmemory 1gb"), "{text}");
    // No stray space.
    let text = common::stdout_of(&[], b"OK\n");
    assert!(text.contains("No commands were read.\n"), "{text}");
}

#[test]
fn file_names_that_are_not_utf8_are_shown_escaped_and_labelled() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("names");
    let name = std::ffi::OsStr::from_bytes(b"cap\xff.txt");
    let path = dir.0.join(name);
    std::fs::write(&path, b"1.000001 [0 1.1.1.1:1] \"get\" \"k\"\n").unwrap();
    // NAME=PATH with a path that is not UTF-8.
    let mut arg = b"n1=".to_vec();
    arg.extend_from_slice(path.as_os_str().as_bytes());
    let out = Command::new(BIN).args(["--emit", "keys"]).arg(std::ffi::OsStr::from_bytes(&arg)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n1\t1.000001\t0\t1.1.1.1:1\tget\tk\tread\t7629\n");
    // Its name in a message, and as a node label.
    let missing = dir.0.join(std::ffi::OsStr::from_bytes(b"gone\xfe.txt"));
    let out = Command::new(BIN).arg(&missing).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("gone\\xfe.txt"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN).args(["--emit", "keys"]).arg(&path).arg(&path).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("cap\\xff.txt\t"));
}

#[test]
fn commands_no_table_knows_are_named_on_the_screen() {
    let dir = TempDir::new("screen-unknown");
    let fifo = fifo(&dir);
    let Some(term) = OnTerminal::start(&format!("--every 1s {}", fifo.display())) else { return };
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer
        .write_all(
            b"1795636306.000001 [0 10.0.0.1:1] \"mod.copy\" \"a\" \"TO\" \"b\"\n\
              1795636306.000002 [0 10.0.0.1:1] \"mod.copy\" \"a\" \"TO\" \"b\"\n\
              1795636306.000003 [0 10.0.0.1:1] \"mod.other\" \"c\"\n\
              1795636306.000004 [0 10.0.0.1:1] \"get\" \"d\"\n\
              1795636307.000004 [0 10.0.0.1:1] \"get\" \"d\"\n",
        )
        .unwrap();
    let screen = term.wait_for("unknown commands", Duration::from_secs(5));
    assert!(screen.contains("unknown commands 3 (mod.copy, …)"), "{screen}");
    drop(writer);
}
