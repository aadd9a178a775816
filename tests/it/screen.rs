//! The live screen as an operator sees it: the filter's output through a pseudo-terminal of
//! 80×24 (util-linux `script`), read back by a terminal emulator (`vt100`), with a live MONITOR
//! stream of a real redis-server coming through a FIFO.

use crate::common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Capture, Redis, TempDir, BIN};

/// The filter running on a pseudo-terminal, and what it has written to it.
struct OnTerminal {
    script: Child,
    output: Arc<Mutex<Vec<u8>>>,
    size: (u16, u16),
}

impl OnTerminal {
    /// `faina-filter ARGS` on a terminal of 80×24.
    fn start(args: &str) -> Option<OnTerminal> {
        OnTerminal::shell(80, 24, &format!("exec {BIN} {args}"))
    }

    /// A shell command on a terminal of `cols`×`rows` (`$BIN` names the filter).
    fn shell(cols: u16, rows: u16, command: &str) -> Option<OnTerminal> {
        if !common::require("script") {
            return None;
        }
        let command = format!("stty cols {cols} rows {rows}; {command}");
        let mut script = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("LANG", "C.UTF-8")
            .env("BIN", BIN)
            .env_remove("LC_ALL")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
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
        Some(OnTerminal { script, output, size: (cols, rows) })
    }

    /// The screen as the terminal shows it now.
    fn screen(&self) -> String {
        let mut terminal = vt100::Parser::new(self.size.1, self.size.0, 0);
        terminal.process(&self.output.lock().unwrap());
        terminal.screen().contents()
    }

    /// The screen's rows, all of them (blank ones too).
    fn rows(&self) -> Vec<String> {
        let mut terminal = vt100::Parser::new(self.size.1, self.size.0, 0);
        terminal.process(&self.output.lock().unwrap());
        terminal.screen().rows(0, self.size.0).collect()
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

    /// Waits for the command to end (at most `limit`); true when it did.
    fn wait_end(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.script.try_wait() {
                // What it wrote last may still be in the pipe.
                std::thread::sleep(Duration::from_millis(200));
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Sends bytes to the terminal, as if typed.
    fn type_in(&mut self, bytes: &[u8]) {
        let stdin = self.script.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
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
    let now = line[1..].split_whitespace().next().unwrap().trim_end_matches(['↑', '↓', '→']);
    let rate: f64 = now.parse().unwrap();
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
    let screen = term.wait_for("lines read 1", Duration::from_secs(5));
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
        let out = common::faina().args(args).current_dir(root).output().unwrap();
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
    assert!(err.contains("the server said: NOAUTH Authentication required. (AUTH first, or --connect)"), "{err}");
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
    let out = common::faina().args(["--emit", "keys"]).arg(std::ffi::OsStr::from_bytes(&arg)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n1\t1.000001\t0\t1.1.1.1:1\tget\tk\tread\t7629\n");
    // Its name in a message, and as a node label.
    let missing = dir.0.join(std::ffi::OsStr::from_bytes(b"gone\xfe.txt"));
    let out = common::faina().arg(&missing).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("gone\\xfe.txt"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::faina().args(["--emit", "keys"]).arg(&path).arg(&path).output().unwrap();
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

/// A real server's MONITOR stream forwarded into a FIFO the filter reads, as `nc` would.
struct Feed {
    monitor: Capture,
    writer: Option<std::fs::File>,
    sent: usize,
}

impl Feed {
    /// Opens `fifo` for writing (the filter must be reading it) and starts MONITOR on `port`.
    fn new(port: u16, fifo: &std::path::Path) -> Feed {
        let monitor = Capture::raw_socket(port);
        monitor.wait_started();
        let writer = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
        Feed { monitor, writer: Some(writer), sent: 0 }
    }

    /// Passes on what the monitor has seen since the last time.
    fn forward(&mut self) {
        let bytes = self.monitor.bytes();
        if let Some(writer) = &mut self.writer {
            writer.write_all(&bytes[self.sent..]).unwrap();
        }
        self.sent = bytes.len();
    }

    /// Calls `command` on `client` at about `per_second`, forwarding, for `how_long`.
    fn load(&mut self, client: &mut common::Client, commands: &[&[&str]], per_second: u64, how_long: Duration) {
        let until = Instant::now() + how_long;
        let pause = Duration::from_micros(1_000_000 / per_second.max(1));
        let mut i = 0;
        while Instant::now() < until {
            for command in commands {
                client.call(command);
            }
            i += 1;
            if i % 10 == 0 {
                self.forward();
            }
            std::thread::sleep(pause);
        }
        self.forward();
    }

    /// Ends the stream.
    fn close(&mut self) {
        self.forward();
        self.writer = None;
    }
}

/// The Top Keys row of `key` (ending with it), if shown.
fn row_of<'s>(screen: &'s str, key: &str) -> Option<&'s str> {
    screen.lines().find(|l| l.trim_end().ends_with(key))
}

/// The two rates of a Top Keys row: now and over the window.
fn rates_of(row: &str) -> (f64, f64) {
    let mut fields = row[1..].split_whitespace();
    let now = fields.next().unwrap().trim_end_matches(['↑', '↓', '→']).parse().unwrap();
    let window = fields.next().unwrap().parse().unwrap();
    (now, window)
}

#[test]
fn a_key_that_stops_is_unmarked_within_one_period() {
    let Some(redis) = Redis::start(&[]) else { return };
    let dir = TempDir::new("screen-stop");
    let fifo = fifo(&dir);
    let Some(term) = OnTerminal::start(&format!("--every 1s --window 10s --hot-qps 50 {}", fifo.display())) else {
        return;
    };
    let mut feed = Feed::new(redis.port, &fifo);
    let mut client = redis.client();
    feed.load(&mut client, &[&["GET", "hot:key"], &["GET", "other:key"]], 150, Duration::from_millis(3500));
    let screen = term.wait_for("hot:key", Duration::from_secs(3));
    let row = row_of(&screen, "hot:key").unwrap_or_else(|| panic!("{screen}"));
    assert!(row.starts_with('*'), "hot while it is read: {row}\n{screen}");
    // The hot key stops; the rest goes on.
    let stopped = Instant::now();
    feed.load(&mut client, &[&["GET", "other:key"]], 20, Duration::from_millis(2600));
    let screen = term.screen();
    eprintln!("{:?} after the stop:\n{screen}", stopped.elapsed());
    let row = row_of(&screen, "hot:key").unwrap_or_else(|| panic!("{screen}"));
    let (now, window) = rates_of(row);
    assert!(row.starts_with(' '), "no longer hot: {row}\n{screen}");
    assert_eq!(now, 0.0, "{row}");
    assert!(window >= 50.0, "the window's rate still says it was hot: {row}");
    assert!(screen.contains("hot now 0 (>=50/s)"), "{screen}");
}

#[test]
fn the_last_frame_is_the_latest_window_extended_to_the_end() {
    let Some(redis) = Redis::start(&[]) else { return };
    let dir = TempDir::new("screen-last");
    let fifo = fifo(&dir);
    let Some(mut term) = OnTerminal::start(&format!("--every 1s --window 5s {}", fifo.display())) else { return };
    let mut feed = Feed::new(redis.port, &fifo);
    let mut client = redis.client();
    feed.load(&mut client, &[&["GET", "k:1"], &["SET", "k:2", "v"]], 100, Duration::from_millis(3300));
    term.wait_for("k:2", Duration::from_secs(3));
    feed.load(&mut client, &[&["GET", "k:3"]], 50, Duration::from_millis(300));
    feed.close();
    assert!(term.wait_end(Duration::from_secs(5)), "the filter ends with its input");
    let last = term.screen();
    // Each frame's first line: its window, and the seconds it covers.
    let output = term.output.lock().unwrap().clone();
    let windows: Vec<(String, f64)> = String::from_utf8_lossy(&output)
        .split("\x1b[H")
        .filter_map(|frame| {
            let header = frame.split("\x1b[K").next()?;
            let (window, rest) = header.split_once(" (")?;
            let start = window.split_once("..")?.0.to_string();
            Some((start, rest.split('s').next()?.parse().ok()?))
        })
        .collect();
    eprintln!("{windows:?}\nlast:\n{last}");
    // The frame before the last: a periodic one, which may already hold the last lines when the
    // input ends just after it is drawn (on a loaded machine); the last one is never behind it.
    let [.., (start, covers), (final_start, final_covers)] = &windows[..] else { panic!("two frames at least") };
    assert_eq!(final_start, start, "the latest window drawn, never an earlier one");
    assert!(final_covers >= covers, "extended to the end of the input: {final_covers}s, {covers}s before");
    assert!(row_of(&last, "k:1").is_some() && row_of(&last, "k:3").is_some(), "{last}");
    assert!(last.contains("input ended at "), "{last}");
}

/// The final screen of `faina-filter ARGS` on a terminal of `cols`×`rows`.
fn final_screen(cols: u16, rows: u16, args: &str) -> Option<String> {
    let mut term = OnTerminal::shell(cols, rows, &format!("exec \"$BIN\" {args}"))?;
    assert!(term.wait_end(Duration::from_secs(20)), "{args}: ends");
    Some(term.rows().join("\n"))
}

#[test]
fn keys_that_differ_in_their_last_byte_are_told_apart_at_50_and_80_columns() {
    let Some(redis) = Redis::start(&[]) else { return };
    let monitor = Capture::raw_socket(redis.port);
    monitor.wait_started();
    let mut client = redis.client();
    let long = "tenant:acme-corporation-international:region:eu-west-1:objects:000";
    let middle = |c: char| format!("tenant:acme-corporation-{c}nternational:region:eu-west-1:objects:0009");
    let escaped = format!("esc:{}", "\x1b[31m".repeat(40));
    for i in 0..30 {
        for key in [format!("{long}1"), format!("{long}2"), middle('i'), middle('j'), escaped.clone()] {
            if i < 20 || !key.starts_with("esc") {
                client.call(&["GET", &key]);
            }
        }
    }
    client.call(&["GET", "end"]);
    monitor.wait_for(b"\"end\"");
    let dir = TempDir::new("screen-apart");
    let capture = dir.path("capture.txt");
    std::fs::write(&capture, monitor.bytes()).unwrap();
    for cols in [50, 80] {
        let Some(screen) = final_screen(cols, 24, &format!("--every 1s {}", capture.display())) else { return };
        eprintln!("{cols} columns:\n{screen}");
        let head = screen.lines().find(|l| l.contains("now/s")).unwrap_or_else(|| panic!("{screen}"));
        let at = head.find("key").unwrap();
        let rows: Vec<&str> = screen.lines().skip_while(|l| !l.contains("now/s")).skip(1).take(5).collect();
        let keys: Vec<&str> = rows.iter().map(|r| r[at..].trim_end()).collect();
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5, "five keys, none alike: {keys:?}\n{screen}");
        assert!(keys.iter().all(|k| k.chars().count() >= 20), "the key gets the room: {keys:?}");
        let bytes = format!("({} B)", long.len() + 1);
        assert!(keys.iter().any(|k| k.ends_with(&format!("0001{bytes}"))), "{keys:?}");
        assert!(keys.iter().any(|k| k.ends_with(&format!("0002{bytes}"))), "{keys:?}");
        assert!(keys.iter().filter(|k| k.contains('#')).count() == 2, "the pair alike shortened gets hashes: {keys:?}");
        // Its length in bytes, not escaped: 4 + 40 × 5.
        assert!(keys.iter().any(|k| k.starts_with("esc:") && k.ends_with("(204 B)")), "{keys:?}");
        assert!(screen.lines().all(|l| l.chars().count() < cols as usize), "{screen}");
    }
}

#[test]
fn a_silence_is_said_and_stays_said() {
    let Some(redis) = Redis::start(&[]) else { return };
    let dir = TempDir::new("screen-silent");
    let fifo = fifo(&dir);
    let Some(term) = OnTerminal::start(&format!("--every 1s {}", fifo.display())) else { return };
    let mut feed = Feed::new(redis.port, &fifo);
    let mut client = redis.client();
    feed.load(&mut client, &[&["GET", "before:silence"]], 50, Duration::from_millis(1500));
    let screen = term.wait_for("no input since", Duration::from_secs(5));
    assert!(screen.contains("no input since"), "{screen}");
    // Reports keep coming in the silence; the notice stays on each of them.
    std::thread::sleep(Duration::from_millis(2200));
    let screen = term.screen();
    assert!(screen.contains("no input since") && screen.contains("cmd/s"), "{screen}");
    // Input again: the notice goes.
    feed.load(&mut client, &[&["GET", "after:silence"]], 50, Duration::from_millis(2500));
    let screen = term.screen();
    assert!(!screen.contains("no input since"), "{screen}");
    feed.close();
}

#[test]
fn a_servers_refusal_is_quoted_on_a_line_of_its_own_while_it_is_true() {
    let Some(redis) = Redis::start(&[]) else { return };
    redis.client().call(&["CONFIG", "SET", "requirepass", "s3cret-pw"]);
    let dir = TempDir::new("screen-refusal");
    let fifo = fifo(&dir);
    let Some(mut term) = OnTerminal::start(&format!("--every 1s {}", fifo.display())) else { return };
    // MONITOR without AUTH, as a forgotten AUTH in telnet sends it.
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    socket.write_all(b"MONITOR\r\n").unwrap();
    let mut reply = [0u8; 64];
    let n = socket.read(&mut reply).unwrap();
    assert!(reply[..n].starts_with(b"-NOAUTH"), "{:?}", String::from_utf8_lossy(&reply[..n]));
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&reply[..n]).unwrap();
    let quoted = "the server said: NOAUTH Authentication required. (AUTH first, or --connect)";
    let screen = term.wait_for(quoted, Duration::from_secs(5));
    assert!(screen.lines().any(|l| l.trim_end() == quoted), "{screen}");
    std::thread::sleep(Duration::from_millis(2500));
    let screen = term.screen();
    assert!(screen.lines().any(|l| l.trim_end() == quoted), "still there: {screen}");
    // Ctrl-C: the last frame says so, and no window of 1970.
    let _ = Command::new("pkill").args(["-INT", "-P", &term.script.id().to_string()]).status();
    assert!(term.wait_end(Duration::from_secs(5)));
    let screen = term.screen();
    assert!(screen.contains("no command read") && screen.contains("stopped"), "{screen}");
    assert!(screen.lines().any(|l| l.trim_end() == quoted) && !screen.contains("00:00:00Z"), "{screen}");
    drop(writer);
}

#[test]
fn each_node_shows_its_rate_last_line_and_state_and_one_that_ends_says_so() {
    let Some(redis) = Redis::start(&[]) else { return };
    let other = Redis::start(&[]).unwrap();
    let dir = TempDir::new("screen-nodes");
    let (one, two) = (dir.path("one.fifo"), dir.path("two.fifo"));
    for path in [&one, &two] {
        assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    }
    let args = format!("--every 1s n1={} n2={}", one.display(), two.display());
    let Some(term) = OnTerminal::start(&args) else { return };
    let mut first = Feed::new(redis.port, &one);
    let mut second = Feed::new(other.port, &two);
    let (mut a, mut b) = (redis.client(), other.client());
    for _ in 0..15 {
        first.load(&mut a, &[&["GET", "on:n1"]], 100, Duration::from_millis(100));
        second.load(&mut b, &[&["GET", "on:n2"]], 100, Duration::from_millis(100));
    }
    let screen = term.wait_for(" state", Duration::from_secs(3));
    let node =
        |screen: &str, name: &str| screen.lines().find(|l| l.starts_with(&format!(" {name} "))).map(str::to_string);
    assert!(node(&screen, "n1").is_some_and(|l| l.ends_with("reading")), "{screen}");
    assert!(node(&screen, "n2").is_some_and(|l| l.ends_with("reading")), "{screen}");
    first.close();
    second.load(&mut b, &[&["GET", "on:n2"]], 100, Duration::from_millis(2500));
    let screen = term.screen();
    eprintln!("{screen}");
    assert!(node(&screen, "n1").is_some_and(|l| l.ends_with("ended")), "{screen}");
    let n2 = node(&screen, "n2").unwrap();
    assert!(n2.ends_with("reading"), "{n2}");
    let rate: f64 = n2.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(rate > 10.0, "{n2}");
    second.close();
}

#[test]
fn the_last_frame_leaves_room_for_the_prompt() {
    let cmd = "\"$BIN\" --every 1s --window 3s examples/sample-capture.txt; echo 'PROMPT$'";
    let Some(mut term) = OnTerminal::shell(80, 24, cmd) else { return };
    assert!(term.wait_end(Duration::from_secs(20)));
    let rows = term.rows();
    eprintln!("{}", rows.join("\n"));
    assert!(rows[0].starts_with("20:46:44Z..20:46:47Z"), "the header is still on the first line: {}", rows[0]);
    assert!(rows.iter().any(|r| r.contains("input ended at 20:46:47Z")));
    assert!(rows.iter().any(|r| r.starts_with("PROMPT$")), "{rows:?}");
}

#[test]
fn text_another_program_writes_to_the_terminal_does_not_tear_the_frame() {
    let dir = TempDir::new("screen-foreign");
    let fifo = fifo(&dir);
    let cmd = format!(
        "(sleep 2; echo 'Could not connect to Redis at 127.0.0.1:1: Connection refused' >&2) & \"$BIN\" --every 1s {}",
        fifo.display()
    );
    let Some(term) = OnTerminal::shell(80, 24, &cmd) else { return };
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for i in 0..40u64 {
        let line = format!("{now}.{:06} [0 10.0.0.1:5000] \"GET\" \"key:{}\"\n", i * 1000, i % 30);
        writer.write_all(line.as_bytes()).unwrap();
    }
    std::thread::sleep(Duration::from_millis(4000));
    let rows = term.rows();
    eprintln!("{}", rows.join("\n"));
    assert!(rows[0].contains("cmd/s"), "the header on the first line again: {rows:?}");
    let at = rows.iter().position(|r| r.contains("Could not connect")).unwrap_or(rows.len() - 1);
    assert_eq!(at, rows.len() - 1, "the other program's text only on the last line, which no frame uses: {rows:?}");
    drop(writer);
}

#[test]
fn a_report_to_a_terminal_ends_with_its_hottest_keys_in_view() {
    let Some(screen) = final_screen(80, 24, "examples/sample-capture.txt") else { return };
    eprintln!("{screen}");
    let rows: Vec<&str> = screen.lines().collect();
    let at = rows.iter().position(|r| r.starts_with("Hottest Keys")).unwrap_or_else(|| panic!("{screen}"));
    assert!(rows[at..].iter().any(|r| r.ends_with("  config:feature-flags")), "{screen}");
}

#[test]
fn a_filter_reading_a_terminal_says_so_once() {
    let Some(mut term) = OnTerminal::shell(80, 24, "\"$BIN\"; echo EXIT=$?") else { return };
    let screen = term.wait_for("reading standard input", Duration::from_secs(5));
    assert_eq!(screen.matches("reading standard input").count(), 1, "{screen}");
    term.type_in(b"\x04");
    assert!(term.wait_end(Duration::from_secs(5)));
    assert!(term.screen().contains("EXIT=0"), "{}", term.screen());
}

#[test]
fn the_layout_at_50x15_80x24_and_120x40_is_as_pinned() {
    let update = std::env::var_os("FAINA_UPDATE_GOLDEN").is_some();
    let args = "--every 1s --window 3s --hot-qps 50 examples/sample-capture.txt";
    for (cols, rows) in [(50, 15), (80, 24), (120, 40)] {
        let Some(screen) = final_screen(cols, rows, args) else { return };
        let screen = screen.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n";
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/screen-{cols}x{rows}.out"));
        if update {
            std::fs::write(&path, &screen).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(screen, want, "{cols}×{rows} differs from {} (FAINA_UPDATE_GOLDEN=1 rewrites it)", path.display());
    }
}

#[test]
fn trends_share_one_scale_and_a_partial_first_period_is_no_ramp() {
    // Four periods: the stream starts half-way into the first; a hot key at 200/s throughout,
    // a cold one with two accesses a period.
    let dir = TempDir::new("screen-trend");
    let mut capture = String::new();
    for period in 0..4u64 {
        let from = if period == 0 { 500_000 } else { 0 };
        for i in (from..1_000_000).step_by(5_000) {
            capture.push_str(&format!("{}.{i:06} [0 10.0.0.1:5000] \"GET\" \"hot\"\n", 1_795_636_300 + period));
        }
        for i in [600_000, 700_000] {
            capture.push_str(&format!("{}.{i:06} [0 10.0.0.1:5000] \"GET\" \"cold\"\n", 1_795_636_300 + period));
        }
    }
    let path = dir.path("trend.txt");
    std::fs::write(&path, capture).unwrap();
    let Some(screen) = final_screen(80, 24, &format!("--every 1s --window 4s {}", path.display())) else { return };
    eprintln!("{screen}");
    assert!(screen.lines().nth(1).unwrap().contains("first period partial"), "{screen}");
    let trend = |key: &str| {
        let row = row_of(&screen, key).unwrap_or_else(|| panic!("{key}: {screen}"));
        row.split_whitespace().rev().nth(1).unwrap().to_string()
    };
    assert_eq!(trend("hot"), "████", "no ramp from the partial first period");
    assert_eq!(trend("cold"), "▁▁▁▁", "two accesses never look like the hot key");
}

#[test]
fn a_server_connected_to_is_shown_connected_lost_since_when_and_connected_again() {
    let Some(mut lost) = Redis::start(&[]) else { return };
    let steady = Redis::start(&[]).unwrap();
    let args = format!("--every 1s --connect n1=127.0.0.1:{} --connect n2=127.0.0.1:{}", steady.port, lost.port);
    let Some(term) = OnTerminal::start(&args) else { return };
    let node =
        |screen: &str, name: &str| screen.lines().find(|l| l.starts_with(&format!(" {name} "))).map(str::to_string);
    let (mut a, mut b) = (steady.client(), lost.client());
    let traffic = |a: &mut common::Client, b: Option<&mut common::Client>| {
        a.call(&["GET", "on:n1"]);
        if let Some(b) = b {
            b.call(&["GET", "on:n2"]);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node(&term.screen(), "n2")
        .is_some_and(|l| l.ends_with("connected, no command yet") || l.ends_with("connected"))
    {
        assert!(Instant::now() < deadline, "{}", term.screen());
        traffic(&mut a, None);
        std::thread::sleep(Duration::from_millis(50));
    }
    traffic(&mut a, Some(&mut b));
    lost.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node(&term.screen(), "n2").is_some_and(|l| l.contains("LOST since ") && l.ends_with(", retrying")) {
        assert!(Instant::now() < deadline, "{}", term.screen());
        traffic(&mut a, None);
        std::thread::sleep(Duration::from_millis(50));
    }
    lost.restart();
    let mut b = lost.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        traffic(&mut a, Some(&mut b));
        let screen = term.screen();
        if node(&screen, "n2").is_some_and(|l| l.ends_with("connected")) {
            break;
        }
        assert!(Instant::now() < deadline, "{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(node(&term.screen(), "n1").is_some_and(|l| l.ends_with("connected")), "{}", term.screen());
}
