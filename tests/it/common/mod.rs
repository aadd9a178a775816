//! Test helpers: run the built binary, and run a real redis-server on loopback.
//!
//! The server listens on a free port of 127.0.0.1 and ::1 and on a unix socket in a fresh
//! directory, and is killed when the handle drops. Where redis-server is missing the tests that
//! need it say so loudly and pass; under CI=true they fail.
#![allow(dead_code)]

pub mod filter;
pub mod servers;
pub mod variants;
pub mod zipf;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_faina-filter");

/// The one way a test starts faina-filter: the built binary, without the settings of the
/// shell that runs the tests that would change what it does (a test that wants one sets it).
pub fn faina() -> Command {
    let mut command = Command::new(BIN);
    command.env_remove("REDISCLI_AUTH").env_remove("COLUMNS").env_remove("LINES");
    command
}

/// Runs faina-filter with `args` and `stdin`, returning its output.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = faina();
    command.args(args);
    output_of(command, stdin)
}

/// Runs `command` with `stdin` written to it (from a thread, so a full pipe never blocks it)
/// and its output captured.
pub fn output_of(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {:?}: {e}", command.get_program()));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for the command");
    writer.join().unwrap();
    out
}

/// Runs faina-filter and returns its stdout, requiring exit status 0.
pub fn stdout_of(args: &[&str], stdin: &[u8]) -> String {
    let out = run(args, stdin);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

/// The JSON reports (one per line: `--every`) for `stdin`.
pub fn json_reports(args: &[&str], stdin: &[u8]) -> Vec<serde_json::Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    stdout_of(&all, stdin).lines().map(|l| serde_json::from_str(l).expect("one JSON report per line")).collect()
}

/// The JSON report for `stdin`.
pub fn json_report(args: &[&str], stdin: &[u8]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let text = stdout_of(&all, stdin);
    assert_eq!(text.matches('\n').count(), 1, "one line: {text}");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "faina-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// Returns false (after saying so loudly) when `program` is missing; panics under CI=true.
pub fn require(program: &str) -> bool {
    if which(program).is_some() {
        return true;
    }
    skip(&format!("{program} not found: this test needs it (.ci/run installs what the tests need)"));
    false
}

/// Says loudly that a test (or part of one) is skipped, and why; under CI=true, fails instead.
/// The words go to standard error directly, not through the test harness's capture, so a plain
/// `cargo test` shows them (the harness shows what `eprintln!` writes only for a failed test).
pub fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***\n");
}

/// A redis-server on loopback, killed on drop.
pub struct Redis {
    child: Child,
    pub port: u16,
    pub ipv6: bool,
    pub dir: TempDir,
    /// The program and arguments it was started with, for [`Redis::restart`].
    args: Vec<String>,
    program: PathBuf,
}

impl Redis {
    /// Starts a server, or returns `None` (having said why) when redis-server is missing.
    pub fn start(extra: &[&str]) -> Option<Redis> {
        let server = servers::system()?;
        Some(Redis::start_on(&server.program, extra, free_port))
    }

    /// Starts one of [`servers::all`] (the system's redis-server, Redis 8.6, Valkey 9.1).
    pub fn start_server(server: &servers::Server, extra: &[&str]) -> Redis {
        Redis::start_on(&server.program, extra, free_port)
    }

    /// Starts a cluster-enabled server (its config in its own directory), on a port whose
    /// cluster bus port (+10000) is free too.
    pub fn start_cluster_node() -> Option<Redis> {
        Some(Redis::start_cluster_node_of(&servers::system()?))
    }

    /// [`Redis::start_cluster_node`] of one of [`servers::all`].
    pub fn start_cluster_node_of(server: &servers::Server) -> Redis {
        let cluster = ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"];
        Redis::start_on(&server.program, &cluster, free_cluster_port)
    }

    fn start_on(program: &Path, extra: &[&str], port_for: fn() -> u16) -> Redis {
        let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
        for _attempt in 0..5 {
            let dir = TempDir::new("redis");
            let port = port_for();
            let bind = if ipv6 { "127.0.0.1 ::1" } else { "127.0.0.1" };
            let mut args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                bind,
                "--unixsocket",
                dir.path("redis.sock").to_str().unwrap(),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.0.to_str().unwrap(),
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            let child = spawn_server(program, &args);
            let mut redis = Redis { child, port, ipv6, dir, args, program: program.to_path_buf() };
            if redis.wait_ready() {
                return redis;
            }
            // Most likely the port was taken between choosing it and binding it: try another.
        }
        panic!("{} did not start", program.display());
    }

    /// Kills the server (as a crash would) and starts it again on the same port and socket.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn_server(&self.program, &self.args);
        assert!(self.wait_ready(), "{} did not start again on port {}", self.program.display(), self.port);
    }

    /// Kills the server, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            // A server still starting may reset the connection; another test's server may hold the
            // port if ours could not bind it (so check the pid).
            if let Ok(info) = Client::tcp(self.port).and_then(|mut c| c.try_call(&[b"INFO", b"server"])) {
                let pid = format!("process_id:{}\r\n", self.child.id());
                if info.windows(pid.len()).any(|w| w == pid.as_bytes()) {
                    return true;
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path("redis.sock")
    }

    pub fn client(&self) -> Client {
        Client::tcp(self.port).expect("connect")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(program: &Path, args: &[String]) -> Child {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()))
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// Any stream a client can talk over.
pub trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// A minimal RESP client: sends commands as arrays of bulk strings, reads one reply each.
pub struct Client {
    reader: BufReader<Box<dyn Conn>>,
}

impl Client {
    pub fn tcp(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Client { reader: BufReader::new(Box::new(s)) })
    }

    pub fn tcp6(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("::1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Client { reader: BufReader::new(Box::new(s)) })
    }

    pub fn unix(path: &Path) -> std::io::Result<Client> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Client { reader: BufReader::new(Box::new(s)) })
    }

    /// Sends one command and returns its reply's raw bytes (nested replies read whole).
    pub fn call_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.try_call(args).expect("redis call")
    }

    pub fn try_call(&mut self, args: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&req)?;
        let mut out = Vec::new();
        self.read_reply(&mut out)?;
        Ok(out)
    }

    pub fn call(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call_bytes(&args)
    }

    /// Reads one reply, appending its raw bytes to `out`.
    pub fn read_reply(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&line);
        let n: i64 = std::str::from_utf8(&line[1..line.len().saturating_sub(2)]).unwrap_or("0").parse().unwrap_or(0);
        match line.first() {
            Some(b'$') if n >= 0 => {
                let mut body = vec![0; n as usize + 2];
                self.reader.read_exact(&mut body)?;
                out.extend_from_slice(&body);
            }
            Some(b'*') | Some(b'~') | Some(b'>') => {
                for _ in 0..n.max(0) {
                    self.read_reply(out)?;
                }
            }
            Some(b'%') => {
                for _ in 0..2 * n.max(0) {
                    self.read_reply(out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads a reply that is an array of bulk strings (or nested arrays, flattened).
    pub fn call_list(&mut self, args: &[&[u8]]) -> Vec<Vec<u8>> {
        let raw = self.call_bytes(args);
        parse_bulks(&raw)
    }

    pub fn into_reader(self) -> BufReader<Box<dyn Conn>> {
        self.reader
    }
}

/// The bulk strings of a raw reply, in order.
pub fn parse_bulks(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let end = i + raw[i..].windows(2).position(|w| w == b"\r\n").unwrap();
        let head = &raw[i..end];
        i = end + 2;
        if head.first() == Some(&b'$') {
            let n: i64 = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
            if n >= 0 {
                out.push(raw[i..i + n as usize].to_vec());
                i += n as usize + 2;
            }
        }
    }
    out
}

/// A MONITOR capture running in the background.
pub struct Capture {
    data: Arc<Mutex<Vec<u8>>>,
    child: Option<Child>,
}

impl Capture {
    /// MONITOR through a raw TCP socket, as telnet or nc would show it (`+OK`, `+` lines, CRLF).
    pub fn raw_socket(port: u16) -> Capture {
        Capture::raw_socket_after(port, b"")
    }

    /// [`Capture::raw_socket`] after `typed` (inline commands, CRLF each) on the same
    /// connection, as an operator types them into telnet before MONITOR: their replies are in
    /// the capture.
    pub fn raw_socket_after(port: u16, typed: &[u8]) -> Capture {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        stream.write_all(typed).unwrap();
        stream.write_all(b"MONITOR\r\n").unwrap();
        Capture::from_reader(stream, None)
    }

    /// MONITOR through `redis-cli monitor`.
    pub fn redis_cli(port: u16) -> Capture {
        Capture::cli(Path::new("redis-cli"), port)
    }

    /// MONITOR through a server's own client (`redis-cli`, `valkey-cli`) `monitor`.
    pub fn cli(program: &Path, port: u16) -> Capture {
        let mut child = Command::new(program)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "monitor"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let out = child.stdout.take().unwrap();
        Capture::from_reader(out, Some(child))
    }

    fn from_reader(mut reader: impl Read + Send + 'static, child: Option<Child>) -> Capture {
        let data = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&data);
        thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Capture { data, child }
    }

    /// Waits until the capture holds `needle`, or panics after 10 s.
    pub fn wait_for(&self, needle: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.data.lock().unwrap().windows(needle.len()).any(|w| w == needle) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("capture never showed {:?}", String::from_utf8_lossy(needle));
    }

    /// Waits until the capture has `OK` (MONITOR is on).
    pub fn wait_started(&self) {
        self.wait_for(b"OK");
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.data.lock().unwrap().clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A parsed RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Resp>),
}

impl Resp {
    /// Parses one reply from the front of `raw`, returning it and the bytes after it.
    pub fn parse(raw: &[u8]) -> (Resp, &[u8]) {
        let end = raw.windows(2).position(|w| w == b"\r\n").expect("a reply line");
        let (kind, head, rest) = (raw[0], &raw[1..end], &raw[end + 2..]);
        let int = || std::str::from_utf8(head).unwrap().parse::<i64>().unwrap();
        match kind {
            b'+' => (Resp::Simple(head.to_vec()), rest),
            b'-' => (Resp::Error(head.to_vec()), rest),
            b':' => (Resp::Int(int()), rest),
            b'$' if int() < 0 => (Resp::Nil, rest),
            b'$' => {
                let n = int() as usize;
                (Resp::Bulk(rest[..n].to_vec()), &rest[n + 2..])
            }
            b'*' if int() < 0 => (Resp::Nil, rest),
            b'*' => {
                let mut items = Vec::new();
                let mut rest = rest;
                for _ in 0..int() {
                    let (item, after) = Resp::parse(rest);
                    items.push(item);
                    rest = after;
                }
                (Resp::Array(items), rest)
            }
            other => panic!("unexpected reply type {:?}", other as char),
        }
    }

    pub fn array(&self) -> &[Resp] {
        match self {
            Resp::Array(items) => items,
            other => panic!("not an array: {other:?}"),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Resp::Simple(b) | Resp::Bulk(b) | Resp::Error(b) => String::from_utf8_lossy(b).into_owned(),
            Resp::Int(n) => n.to_string(),
            other => panic!("not text: {other:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    /// The value after `key` in a RESP2 flattened map.
    pub fn get(&self, key: &str) -> Option<&Resp> {
        let items = self.array();
        items.chunks(2).find(|kv| kv[0].text() == key).map(|kv| &kv[1])
    }
}

impl Client {
    /// Sends one command and parses its reply.
    pub fn call_resp(&mut self, args: &[&[u8]]) -> Resp {
        Resp::parse(&self.call_bytes(args)).0
    }
}

/// Runs every output mode over `input` (records, the report as text and JSON, rolling reports)
/// and returns everything written, stdout and stderr; each run must succeed.
pub fn every_output(input: &[u8]) -> Vec<u8> {
    every_output_with(input, &[])
}

/// [`every_output`] with `extra` arguments for every run.
pub fn every_output_with(input: &[u8], extra: &[&str]) -> Vec<u8> {
    let mut all = Vec::new();
    for args in [
        &["--emit", "tsv"][..],
        &["--emit", "keys"],
        &["--top", "1000"],
        &["--format", "json", "--top", "1000"],
        &["--every", "1s", "--window", "2s"],
    ] {
        let args: Vec<&str> = args.iter().chain(extra).copied().collect();
        let out = run(&args, input);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        all.extend_from_slice(&out.stdout);
        all.extend_from_slice(&out.stderr);
    }
    all
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// tcpdump writing the packets of one port to a file, stopped (and its file complete) by
/// [`Tcpdump::stop`] or on drop.
pub struct Tcpdump {
    child: Option<Child>,
    pub path: PathBuf,
    /// What tcpdump said on standard error (its counts of packets captured and dropped).
    said: Arc<Mutex<String>>,
}

impl Tcpdump {
    /// Starts `tcpdump -i IFACE -w PATH tcp port PORT` (whole packets, each written at once),
    /// returning once it is capturing; `None`, having said so loudly, when tcpdump is missing or
    /// may not capture (not root). Under CI=true that fails the test instead.
    pub fn start(iface: &str, port: u16, path: &Path) -> Option<Tcpdump> {
        Tcpdump::start_filtered(iface, &["tcp", "port", &port.to_string()], path)
    }

    /// [`Tcpdump::start`] with the capture filter `filter` (`tcp port 7000 or port 17000`).
    pub fn start_filtered(iface: &str, filter: &[&str], path: &Path) -> Option<Tcpdump> {
        let skip = |msg: String| {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            eprintln!("\n*** SKIPPED: {msg} ***\n");
            None
        };
        if which("tcpdump").is_none() {
            return skip("tcpdump not found: this test needs it (apt-get install tcpdump)".into());
        }
        // Without --immediate-mode libpcap hands packets over in blocks, up to a second late.
        let mut child = Command::new("tcpdump")
            // A large buffer: loopback packets are up to 64 KiB, and a full buffer drops them.
            .args(["--immediate-mode", "-U", "-B", "65536", "-s", "0", "-i", iface, "-w"])
            .arg(path)
            .args(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpdump");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                return skip(format!("tcpdump cannot capture here (it needs root or CAP_NET_RAW): {said}"));
            }
            said.push_str(&line);
            if line.contains("listening on") {
                break;
            }
        }
        let said = Arc::new(Mutex::new(said));
        let sink = Arc::clone(&said);
        thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Some(Tcpdump { child: Some(child), path: path.to_path_buf(), said })
    }

    /// Waits until the file holds `needle` (the last bytes of a workload), then stops tcpdump;
    /// returns the file and what tcpdump said.
    pub fn stop_after(mut self, needle: &[u8]) -> (Vec<u8>, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let data = std::fs::read(&self.path).unwrap_or_default();
            if contains(&data, needle) {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        // Its last words come as it exits.
        thread::sleep(Duration::from_millis(50));
        let said = self.said.lock().unwrap().clone();
        (std::fs::read(&self.path).expect("read the capture"), said)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `signal` (`HUP`, `INT`, `TERM`) to a child, by its process id.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Runs faina-filter under `/usr/bin/time` and returns its output and peak resident memory in
/// KiB; `None` (having said so loudly, or failed under CI=true) without it.
pub fn peak_memory(args: &[&str], stdin: &[u8]) -> Option<(Output, u64)> {
    if !Path::new("/usr/bin/time").is_file() {
        require("/usr/bin/time (Debian package time)");
        return None;
    }
    let dir = TempDir::new("rss");
    let report = dir.path("time.txt");
    let mut all = vec!["-f", "%M", "-o", report.to_str().unwrap(), BIN];
    all.extend_from_slice(args);
    let mut time = Command::new("/usr/bin/time");
    time.args(&all);
    let out = output_of(time, stdin);
    let text = std::fs::read_to_string(&report).unwrap();
    let kib = text.lines().last().and_then(|l| l.trim().parse().ok()).expect("a peak RSS");
    Some((out, kib))
}

/// The server's MONITOR clients, as CLIENT LIST shows them (the flag O; CLIENT LIST TYPE knows
/// no "monitor" type before Redis 7.4), authenticating with `password` if given.
pub fn monitor_clients(redis: &Redis, password: Option<&str>) -> Vec<String> {
    let mut client = redis.client();
    if let Some(password) = password {
        client.call(&["AUTH", password]);
    }
    let raw = client.call(&["CLIENT", "LIST"]);
    let text = String::from_utf8_lossy(&parse_bulks(&raw).concat()).into_owned();
    text.lines().filter(|l| l.contains("flags=O")).map(str::to_string).collect()
}

/// Waits (5 s at most) until no MONITOR client is left on the server; panics naming `after`.
pub fn assert_no_monitor_left(redis: &Redis, password: Option<&str>, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if monitor_clients(redis, password).is_empty() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("a MONITOR client is left after {after}: {:?}", monitor_clients(redis, password));
}
