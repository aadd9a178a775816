//! `--connect`: the filter reads MONITOR from a real redis-server itself. The same report as
//! `redis-cli monitor |`, passwords from every source and never shown, refusals that say what
//! to do, a node lost and found again, the socket drained while the output is stalled, and no
//! MONITOR client left on the server after any kind of exit.

use crate::common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::filter::{collect, Filter};
use common::{contains, Capture, Client, Redis, TempDir, BIN};

/// The server's MONITOR clients.
fn monitors(redis: &Redis) -> Vec<String> {
    common::monitor_clients(redis, redis_password(redis).as_deref())
}

/// The password a test set on the server (its requirepass), if any.
fn redis_password(redis: &Redis) -> Option<String> {
    let raw = redis.client().call(&["PING"]);
    contains(&raw, b"NOAUTH").then(|| PASSWORD.to_string())
}

fn assert_no_monitor_left(redis: &Redis, after: &str) {
    common::assert_no_monitor_left(redis, redis_password(redis).as_deref(), after);
}

/// The same traffic for both captures: reads and writes over a few keys, a hash, a pipeline.
fn traffic(client: &mut Client) {
    for i in 0..300 {
        let key = format!("user:{}", i % 7);
        client.call(&["SET", &key, "v"]);
        client.call(&["GET", &key]);
        if i % 3 == 0 {
            client.call(&["HSET", "h:1", &format!("f{i}"), "x"]);
            client.call(&["MGET", "user:1", "user:2", "other"]);
        }
    }
}

/// A run's arguments and environment.
type Run<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);

/// The requirepass of the test that sets one.
const PASSWORD: &str = "s3cr3t-Passw0rd";

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn url(redis: &Redis) -> String {
    format!("redis://127.0.0.1:{}", redis.port)
}

#[test]
fn the_same_report_as_redis_cli_monitor_over_the_same_traffic() {
    let Some(redis) = Redis::start(&[]) else { return };
    let mut filter = Filter::start(&["--connect", &url(&redis), "--format", "json"], &[]);
    filter.wait_for("connected, MONITOR on");
    let capture = Capture::redis_cli(redis.port);
    capture.wait_started();
    let mut client = redis.client();
    traffic(&mut client);
    client.call(&["GET", "the-end"]);
    capture.wait_for(b"the-end");
    // Loopback delivers in well under this; the comparison below is of counts.
    thread::sleep(Duration::from_millis(500));
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let connected = json(&filter.stdout());
    let piped = common::json_report(&[], &capture.bytes());
    for field in ["lines", "commands", "noise", "skipped", "key_accesses", "top_keys", "top_commands", "top_prefixes"] {
        assert_eq!(connected[field], piped[field], "{field}");
    }
    assert!(connected["commands"].as_u64().unwrap() >= 800, "{connected}");
    drop(capture);
    assert_no_monitor_left(&redis, "Ctrl-C");
}

#[test]
fn every_mode_works_on_a_connection_mixed_with_a_file() {
    let Some(redis) = Redis::start(&[]) else { return };
    let dir = TempDir::new("connect-mixed");
    let file = dir.path("capture.txt");
    std::fs::write(&file, "1795636306.000001 [0 10.0.0.1:5000] \"get\" \"from-file\"\n").unwrap();
    let file = format!("old={}", file.display());
    let mut filter = Filter::start(&["--connect", &format!("live={}", url(&redis)), &file, "--emit", "keys"], &[]);
    filter.wait_for("connected, MONITOR on");
    redis.client().call(&["SET", "from-server", "1"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !filter.stdout().contains("from-server") && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    filter.signal("TERM");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let out = filter.stdout();
    assert!(out.lines().any(|l| l.starts_with("live\t") && l.contains("\tset\tfrom-server\twrite\t")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("old\t") && l.contains("\tfrom-file\t")), "{out}");
    assert_no_monitor_left(&redis, "SIGTERM");
}

#[test]
fn requirepass_and_an_acl_user_from_every_password_source_never_shown() {
    const PASS: &str = PASSWORD;
    let Some(redis) = Redis::start(&[]) else { return };
    let mut admin = redis.client();
    assert_eq!(admin.call(&["CONFIG", "SET", "requirepass", PASS]), b"+OK\r\n");
    assert_eq!(admin.call(&["AUTH", PASS]), b"+OK\r\n");
    // MONITOR is all the user needs (as the README says).
    let acl = ["ACL", "SETUSER", "watcher", "on", ">w4tch-Pass", "+monitor"];
    assert_eq!(admin.call(&acl), b"+OK\r\n");
    assert_eq!(admin.call(&["ACL", "SETUSER", "nomon", "on", ">n0mon-Pass", "+get"]), b"+OK\r\n");
    let dir = TempDir::new("connect-auth");
    let file = dir.path("pass");
    std::fs::write(&file, "w4tch-Pass\n").unwrap();
    let rejects = dir.path("rejects");
    let file = file.to_str().unwrap();
    let user_url = format!("redis://watcher@127.0.0.1:{}", redis.port);
    let plain = format!("127.0.0.1:{}", redis.port);
    let runs: Vec<Run> = vec![
        (vec!["--connect", &plain], vec![("REDISCLI_AUTH", PASS)]),
        (vec!["--connect", &user_url, "--password-file", file], vec![]),
        (vec!["--connect", &user_url, "--rejects", rejects.to_str().unwrap()], vec![("REDISCLI_AUTH", "w4tch-Pass")]),
    ];
    for (mut args, env) in runs {
        args.extend(["--format", "json", "--duration", "3s"]);
        let mut filter = Filter::start(&args, &env);
        filter.wait_for("connected, MONITOR on");
        // Another client's AUTH shows in the stream (the server redacts it; the filter too).
        let mut other = redis.client();
        other.call(&["AUTH", PASS]);
        other.call(&["SET", "seen", "1"]);
        assert_eq!(filter.exit(), Some(0), "{args:?}: {}", filter.stderr());
        let report = json(&filter.stdout());
        assert!(report["top_keys"].to_string().contains("seen"), "{args:?}: {report}");
        let rejected = std::fs::read(&rejects).unwrap_or_default();
        let all = format!("{}{}{}", filter.stdout(), filter.stderr(), String::from_utf8_lossy(&rejected));
        assert!(!all.contains(PASS) && !all.contains("w4tch-Pass"), "{args:?}: {all}");
        let _ = std::fs::remove_file(&rejects);
    }
    // Refusals: the password was wrong, none was given, the user may not MONITOR.
    let nomon = format!("redis://nomon@127.0.0.1:{}", redis.port);
    let port = format!("127.0.0.1:{}", redis.port);
    for (args, env, needle) in [
        (
            vec!["--connect", &port],
            vec![("REDISCLI_AUTH", "Wr0ng-Pass")],
            "the password (from REDISCLI_AUTH) was wrong",
        ),
        (vec!["--connect", &port], vec![], "the server wants a password: give it in REDISCLI_AUTH"),
        (vec!["--connect", &nomon], vec![("REDISCLI_AUTH", "n0mon-Pass")], "its ACL needs +monitor"),
    ] {
        let mut filter = Filter::start(&args, &env);
        assert_eq!(filter.exit(), Some(1), "{args:?}: {}", filter.stderr());
        let err = filter.stderr();
        assert!(err.contains(needle) && err.contains("no server could be read"), "{args:?}: {err}");
        assert!(!err.contains("Wr0ng-Pass") && !err.contains("n0mon-Pass"), "{err}");
        assert!(filter.stdout().is_empty(), "{}", filter.stdout());
    }
    // A password in the URL is refused before anything is sent, and not repeated.
    let mut filter =
        Filter::start(&["--connect", &format!("redis://watcher:w4tch-Pass@127.0.0.1:{}", redis.port)], &[]);
    assert_eq!(filter.exit(), Some(2));
    assert!(filter.stderr().contains("password in the URL is refused") && !filter.stderr().contains("w4tch-Pass"));
    assert_no_monitor_left(&redis, "refusals");
}

#[test]
fn a_unix_socket() {
    let Some(redis) = Redis::start(&[]) else { return };
    let target = format!("unix://{}", redis.socket().display());
    // A password the server does not need (REDISCLI_AUTH left set for other servers) is no refusal.
    let env = [("REDISCLI_AUTH", "for-another-server")];
    let mut filter = Filter::start(&["--connect", &target, "--format", "json", "--duration", "2s"], &env);
    filter.wait_for("connected, MONITOR on");
    redis.client().call(&["GET", "through-the-socket"]);
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    assert_eq!(json(&filter.stdout())["top_keys"][0]["name"], "through-the-socket");
    assert_no_monitor_left(&redis, "--duration");
}

#[test]
fn refusals_name_the_node_and_what_to_do() {
    let Some(redis) = Redis::start(&["--rename-command", "MONITOR", ""]) else { return };
    let closed = common::free_port();
    let no_monitor = format!("n1=127.0.0.1:{}", redis.port);
    let refused = format!("127.0.0.1:{closed}");
    for (args, needle) in [
        (vec!["--connect", &no_monitor], "n1 (127.0.0.1:"),
        (vec!["--connect", &no_monitor], "has no MONITOR command"),
        (vec!["--connect", &refused], "connection refused (is the server running, on this port?)"),
        (vec!["--connect", "no-such-host.invalid:6379"], "cannot resolve 'no-such-host.invalid'"),
        (vec!["--connect", "unix:///nonexistent/redis.sock"], "is the server's unixsocket set to this path?"),
    ] {
        let mut filter = Filter::start(&args, &[]);
        assert_eq!(filter.exit(), Some(1), "{args:?}: {}", filter.stderr());
        let err = filter.stderr();
        assert!(err.contains(needle) && err.contains("given up"), "{args:?}: {err}");
        assert!(err.lines().count() <= 2, "one line for the node, one for the run: {err}");
    }
    // A server that takes the connection and never answers is named, not waited for forever.
    let silent = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let target = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let mut filter = Filter::start(&["--connect", &target], &[]);
    assert_eq!(filter.exit(), Some(1), "{}", filter.stderr());
    assert!(filter.stderr().contains("given up: no answer within 5s to the handshake"), "{}", filter.stderr());
    drop(silent);
    // One node refused, another read: the run goes on, exit 0.
    let Some(good) = Redis::start(&[]) else { return };
    let mut filter = Filter::start(&["--connect", &no_monitor, "--connect", &url(&good), "--duration", "2s"], &[]);
    filter.wait_for("has no MONITOR command");
    // The refused connection is closed at once, not at the end of the run.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = redis.client().call(&["CLIENT", "LIST"]);
        let clients = String::from_utf8_lossy(&common::parse_bulks(&list).concat()).lines().count();
        if clients == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the refused connection is left open: {clients} clients");
        thread::sleep(Duration::from_millis(20));
    }
    assert!(filter.child.try_wait().unwrap().is_none(), "the run goes on");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    assert_no_monitor_left(&good, "--duration");
}

#[test]
fn a_node_killed_and_restarted_is_lost_then_connected_and_counted_after() {
    let Some(mut redis) = Redis::start(&[]) else { return };
    let mut filter = Filter::start(&["--connect", &url(&redis), "--format", "json"], &[]);
    filter.wait_for("connected, MONITOR on");
    redis.client().call(&["GET", "before"]);
    thread::sleep(Duration::from_millis(200));
    redis.restart();
    filter.wait_for("lost at");
    filter.wait_for("connected again at");
    let mut client = redis.client();
    for _ in 0..25 {
        client.call(&["GET", "after"]);
    }
    thread::sleep(Duration::from_millis(500));
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let report = json(&filter.stdout());
    let keys = report["top_keys"].as_array().unwrap();
    let count = |name: &str| keys.iter().find(|k| k["name"] == name).map(|k| k["count"].as_u64().unwrap());
    assert_eq!((count("after"), count("before")), (Some(25), Some(1)), "{report}");
    let err = filter.stderr();
    assert!(
        err.contains("was not seen") && err.contains(": lost once, ") && err.contains("s in all not seen"),
        "{err}"
    );
    assert_no_monitor_left(&redis, "Ctrl-C after a restart");
}

/// Writes `n` SETs of 1 KiB values to 100 keys, pipelined, on a client of its own.
fn flood(port: u16, n: usize) -> thread::JoinHandle<()> {
    flood_keys(port, n, 100)
}

/// Writes `n` SETs of 1 KiB values to `keys` keys, pipelined, on a client of its own.
fn flood_keys(port: u16, n: usize, keys: usize) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let value = "x".repeat(1024);
        let mut batch = Vec::new();
        let mut reader = stream.try_clone().unwrap();
        let drain = thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
        });
        for i in 0..n {
            batch.extend_from_slice(format!("SET k{} {value}\r\n", i % keys).as_bytes());
            if i % 100 == 99 {
                stream.write_all(&batch).unwrap();
                batch.clear();
            }
        }
        stream.write_all(&batch).unwrap();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        drain.join().unwrap();
    })
}

/// The output buffer the server holds for its MONITOR clients, in bytes (the largest).
fn monitor_omem(redis: &Redis) -> u64 {
    monitors(redis)
        .iter()
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("omem=")).and_then(|v| v.parse().ok()))
        .max()
        .unwrap_or(0)
}

#[test]
fn the_socket_is_drained_while_the_output_is_stalled_and_ctrl_c_closes_it() {
    let Some(redis) = Redis::start(&[]) else { return };
    // Records into a pipe nobody reads: the filter blocks on its output at once.
    let (mut filter, out) = Filter::stalled(&["--connect", &url(&redis), "--emit", "tsv"]);
    filter.wait_for("connected, MONITOR on");
    let writer = flood(redis.port, 100_000);
    let mut most = 0;
    while !writer.is_finished() {
        most = most.max(monitor_omem(&redis));
        thread::sleep(Duration::from_millis(5));
    }
    writer.join().unwrap();
    most = most.max(monitor_omem(&redis));
    eprintln!("the server's output buffer for the filter: at most {most} bytes");
    // 100 MB of MONITOR lines went by; the server never held more than a little of them.
    assert!(most < 4 << 20, "the server buffered {most} bytes for the filter");
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(130), "{}", filter.stderr());
    let err = filter.stderr();
    assert!(err.contains("lines dropped in all: the output could not keep up"), "{err}");
    assert!(err.contains("stopped while the output was blocked"), "{err}");
    drop(out);
    assert_no_monitor_left(&redis, "Ctrl-C while the output was blocked");
}

#[test]
fn lines_dropped_while_the_output_is_stalled_are_in_the_reports() {
    let Some(redis) = Redis::start(&[]) else { return };
    // Each period's report lists 5 000 keys: far more than a pipe holds, so the first one
    // written blocks the filter while the server goes on.
    let args = ["--connect", &url(&redis), "--every", "1s", "--format", "json", "--top", "5000"];
    let (mut filter, mut out) = Filter::stalled(&args);
    filter.wait_for("connected, MONITOR on");
    flood_keys(redis.port, 5000, 5000).join().unwrap();
    // The period's report is due within two seconds; then the output is blocked.
    thread::sleep(Duration::from_millis(2500));
    flood_keys(redis.port, 95_000, 5000).join().unwrap();
    let sets = 100_000;
    // The socket was drained meanwhile; the output is read from now on, and the drops told.
    let reader = thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        text
    });
    filter.wait_for("lines dropped so far");
    thread::sleep(Duration::from_millis(1500));
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let text = reader.join().unwrap();
    // One report a period; the last, at Ctrl-C, is the latest period's window run on to the end.
    let mut periods = std::collections::BTreeMap::new();
    for line in text.lines() {
        let report: serde_json::Value = serde_json::from_str(line).unwrap();
        let counts = (report["commands"].as_u64().unwrap(), report["dropped"].as_u64().unwrap());
        periods.insert(report["window"]["start"].to_string(), counts);
    }
    let (commands, dropped) = periods.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let err = filter.stderr();
    let said = err
        .lines()
        .find_map(|l| l.split(": ").nth(2)?.strip_suffix(" lines dropped in all"))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(dropped > 0, "{err}");
    assert_eq!(said, Some(dropped), "the reports' drops are the ones said: {err}");
    assert_eq!(commands + dropped, sets as u64, "every line counted or dropped: {err}");
    assert_no_monitor_left(&redis, "Ctrl-C after drops");
}

/// A server whose network vanishes without a close (its host down, a cable cut): nothing comes
/// on the MONITOR stream, as when it is merely quiet, until the filter's keepalive finds it gone.
/// The server and the filter run in a network namespace of their own (`unshare -n`, as root),
/// whose loopback is then taken down: no reset, no close, just silence. So the filter is started
/// by the namespace's script, with the environment `common::faina` gives it.
#[test]
fn a_server_gone_without_a_close_is_found_lost() {
    let Some(server) = common::servers::system() else { return };
    if !common::require("unshare") || !common::require("ip") {
        return;
    }
    if !Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success()) {
        return common::skip("unshare -n failed: this test needs root, for a network namespace of its own");
    }
    let dir = TempDir::new("vanish");
    let script = r#"
        ip link set lo up
        "$SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" > "$DIR/log" 2>&1 &
        server=$!
        wait_for() { i=0; until grep -q "$2" "$DIR/$1"; do i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.05; done; }
        wait_for log 'Ready to accept connections'
        "$BIN" --connect "redis://127.0.0.1:$PORT" --every 1s > "$DIR/out" 2> "$DIR/err" &
        filter=$!
        wait_for err 'connected, MONITOR on'
        ip link set lo down
        wait_for err 'lost at'
        kill -INT $filter
        wait $filter
        echo "exit $?" >> "$DIR/err"
        kill $server
        wait $server
    "#;
    let port = common::free_port().to_string();
    let faina = common::faina();
    let mut command = Command::new("unshare");
    command.args(["-n", "sh", "-c", script]);
    for (name, value) in faina.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let status = command
        .env("BIN", faina.get_program())
        .env("SERVER", &server.program)
        .env("PORT", &port)
        .env("DIR", &dir.0)
        .status()
        .unwrap();
    assert!(status.success());
    let err = std::fs::read_to_string(dir.path("err")).unwrap();
    assert!(err.contains(": connected, MONITOR on"), "{err}");
    assert!(
        err.contains(": lost at ")
            && err.contains("(the server stopped answering: no reply to TCP keepalive probes after 11s of silence)"),
        "{err}"
    );
    assert!(err.contains("lost once") && err.ends_with("exit 0\n"), "{err}");
}

#[test]
fn no_monitor_client_is_left_after_any_kind_of_exit() {
    let Some(redis) = Redis::start(&[]) else { return };
    let target = url(&redis);
    for signal in ["INT", "TERM", "HUP"] {
        let mut filter = Filter::start(&["--connect", &target, "--every", "1s"], &[]);
        filter.wait_for("connected, MONITOR on");
        assert_eq!(monitors(&redis).len(), 1);
        filter.signal(signal);
        assert_eq!(filter.exit(), Some(0), "SIG{signal}: {}", filter.stderr());
        assert_no_monitor_left(&redis, &format!("SIG{signal}"));
    }
    // --duration, on a connection and on standard input alike.
    let mut filter = Filter::start(&["--connect", &target, "--duration", "1s"], &[]);
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    assert!(filter.stdout().contains("Overall"));
    assert_no_monitor_left(&redis, "--duration");
    let mut stdin_run =
        common::faina().args(["--duration", "1s"]).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    assert!(stdin_run.wait().unwrap().success());
    assert!(started.elapsed() < Duration::from_secs(8), "--duration ends a run on a silent pipe");
    // A write error: the reader of the output goes away (`| head`).
    let (mut filter, out) = Filter::stalled(&["--connect", &target, "--emit", "tsv"]);
    filter.wait_for("connected, MONITOR on");
    drop(out);
    redis.client().call(&["SET", "k", "v"]);
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    assert_no_monitor_left(&redis, "a broken pipe");
    // A fatal error: the output cannot be written (a full disk).
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let mut child = common::faina()
            .args(["--connect", &target, "--emit", "tsv"])
            .stdout(full)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = collect(child.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        while monitors(&redis).is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        redis.client().call(&["SET", "k", "v"]);
        assert_eq!(child.wait().unwrap().code(), Some(1));
        thread::sleep(Duration::from_millis(100));
        assert!(
            contains(&err.lock().unwrap(), b"writing output"),
            "{:?}",
            String::from_utf8_lossy(&err.lock().unwrap())
        );
        assert_no_monitor_left(&redis, "a write error");
    }
}

#[test]
fn askpass_prompts_on_the_terminal_without_echo() {
    if !common::require("script") {
        return;
    }
    let Some(redis) = Redis::start(&[]) else { return };
    redis.client().call(&["CONFIG", "SET", "requirepass", PASSWORD]);
    // The filter on a pseudo-terminal (util-linux script), the password typed at its prompt.
    let command = format!("exec {BIN} --connect 127.0.0.1:{} --askpass --duration 3s --format json", redis.port);
    let mut script = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start script");
    let terminal = collect(script.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !contains(&terminal.lock().unwrap(), b"Password for 127.0.0.1:") {
        assert!(Instant::now() < deadline, "no prompt: {:?}", String::from_utf8_lossy(&terminal.lock().unwrap()));
        thread::sleep(Duration::from_millis(20));
    }
    let mut typing = script.stdin.take().unwrap();
    std::io::Write::write_all(&mut typing, format!("{PASSWORD}\r").as_bytes()).unwrap();
    assert!(script.wait().unwrap().success());
    drop(typing);
    thread::sleep(Duration::from_millis(100));
    let shown = String::from_utf8_lossy(&terminal.lock().unwrap()).into_owned();
    assert!(shown.contains("connected, MONITOR on") && shown.contains("\"commands\":"), "{shown}");
    assert!(!shown.contains(PASSWORD), "the password was echoed: {shown}");
    assert_no_monitor_left(&redis, "--duration after a prompt");
}

/// A cluster proxy with IMONITOR, as Alibaba Cloud's answers it: `INFO` says `nodecount`, and
/// `IMONITOR n` replays node n's MONITOR stream, captured from a real redis-server. It counts the
/// IMONITOR connections still open.
struct FakeProxy {
    port: u16,
    open: Arc<Mutex<usize>>,
}

impl FakeProxy {
    fn start(streams: Vec<Vec<u8>>, password: &'static str) -> FakeProxy {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(Mutex::new(0));
        let (streams, counter) = (Arc::new(streams), open.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let (streams, counter) = (streams.clone(), counter.clone());
                thread::spawn(move || serve_proxy(conn, &streams, password, &counter));
            }
        });
        FakeProxy { port, open }
    }
}

fn serve_proxy(conn: std::net::TcpStream, streams: &[Vec<u8>], password: &str, open: &Mutex<usize>) {
    use std::io::{BufRead, BufReader, Write};
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    let mut authed = false;
    loop {
        // One command: *N, then N bulk strings.
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let n: usize = line.trim_start_matches('*').trim().parse().unwrap();
        let mut args = Vec::new();
        for _ in 0..n {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let len: usize = line.trim_start_matches('$').trim().parse().unwrap();
            let mut arg = vec![0; len + 2];
            reader.read_exact(&mut arg).unwrap();
            arg.truncate(len);
            args.push(String::from_utf8(arg).unwrap());
        }
        let reply: Vec<u8> = match (args[0].to_uppercase().as_str(), authed) {
            ("AUTH", _) if args.last().map(String::as_str) == Some(password) => {
                authed = true;
                b"+OK\r\n".to_vec()
            }
            ("AUTH", _) => b"-WRONGPASS invalid username-password pair or user is disabled.\r\n".to_vec(),
            (_, false) => b"-NOAUTH Authentication required.\r\n".to_vec(),
            ("INFO", true) => {
                let body = format!("# Server\r\nredis_version:5.0.13\r\n# Cluster\r\nnodecount:{}\r\n", streams.len());
                format!("${}\r\n{body}\r\n", body.len()).into_bytes()
            }
            // A replica's stream (RIMONITOR n r) is replayed from its node's capture.
            ("IMONITOR" | "RIMONITOR", true) => {
                let Some(stream) = args.get(1).and_then(|n| n.parse::<usize>().ok()).and_then(|n| streams.get(n))
                else {
                    let _ = writer.write_all(b"-ERR invalid db index\r\n");
                    continue;
                };
                *open.lock().unwrap() += 1;
                // The stream as the node wrote it (+OK first), then silence until the client leaves.
                let _ = writer.write_all(stream);
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                *open.lock().unwrap() -= 1;
                return;
            }
            (other, true) => format!("-ERR unknown command '{other}'\r\n").into_bytes(),
        };
        if writer.write_all(&reply).is_err() {
            return;
        }
    }
}

#[test]
fn imonitor_through_a_cluster_proxy_one_connection_per_node_index() {
    // Two real servers' MONITOR streams, captured raw (as a proxy passes them on).
    let (Some(a), Some(b)) = (Redis::start(&[]), Redis::start(&[])) else { return };
    let mut streams = Vec::new();
    for (redis, prefix, n) in [(&a, "a", 40), (&b, "b", 25)] {
        let capture = Capture::raw_socket(redis.port);
        capture.wait_started();
        let mut client = redis.client();
        for i in 0..n {
            client.call(&["SET", &format!("{prefix}:{}", i % 4), "v"]);
        }
        let end = format!("__end_{prefix}__");
        client.call(&["GET", &end]);
        capture.wait_for(end.as_bytes());
        streams.push(capture.bytes());
    }
    let proxy = FakeProxy::start(streams.clone(), "pr0xy-Pass");
    let target = format!("127.0.0.1:{}", proxy.port);
    let env = [("REDISCLI_AUTH", "pr0xy-Pass")];
    let mut filter =
        Filter::start(&["--connect", &target, "--imonitor", "all", "--format", "json", "--duration", "2s"], &env);
    filter.wait_for("node 1: connected, MONITOR on");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let live = json(&filter.stdout());
    // The same streams as files labelled by index give the same report.
    let dir = TempDir::new("imonitor");
    let mut files = Vec::new();
    for (i, stream) in streams.iter().enumerate() {
        let path = dir.path(&format!("node{i}.txt"));
        std::fs::write(&path, stream).unwrap();
        files.push(format!("{i}={}", path.display()));
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let from_files = common::json_report(&files, b"");
    for field in ["commands", "top_nodes", "top_keys", "top_commands"] {
        assert_eq!(live[field], from_files[field], "{field}");
    }
    let nodes = live["top_nodes"].as_array().unwrap();
    assert_eq!((nodes[0]["name"].as_str(), nodes[0]["count"].as_u64()), (Some("0"), Some(41)), "{live}");
    assert_eq!((nodes[1]["name"].as_str(), nodes[1]["count"].as_u64()), (Some("1"), Some(26)), "{live}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while *proxy.open.lock().unwrap() > 0 {
        assert!(Instant::now() < deadline, "an IMONITOR connection is left open on the proxy");
        thread::sleep(Duration::from_millis(20));
    }
    // A replica of node 1 (RIMONITOR 1 0) beside node 0: labelled 1:0, its lines counted.
    let mut filter =
        Filter::start(&["--connect", &target, "--imonitor", "1:0,0", "--format", "json", "--duration", "2s"], &env);
    filter.wait_for("node 1 replica 0: connected, MONITOR on");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
    let nodes = json(&filter.stdout())["top_nodes"].clone();
    assert_eq!((nodes[1]["name"].as_str(), nodes[1]["count"].as_u64()), (Some("1:0"), Some(26)), "{nodes}");
    // An index the proxy does not have, and a server that is no proxy.
    let mut filter = Filter::start(&["--connect", &target, "--imonitor", "7"], &env);
    assert_eq!(filter.exit(), Some(1));
    assert!(
        filter.stderr().contains("node 7: given up: IMONITOR was refused: 'ERR invalid db index'"),
        "{}",
        filter.stderr()
    );
    for (index, needle) in
        [("0", "has no IMONITOR command"), ("0:1", "has no RIMONITOR command"), ("all", "says no nodecount")]
    {
        let mut filter = Filter::start(&["--connect", &url(&a), "--imonitor", index], &[]);
        assert_eq!(filter.exit(), Some(1), "{}", filter.stderr());
        assert!(filter.stderr().contains(needle), "{}", filter.stderr());
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn rediss_without_the_tls_feature_says_how_to_get_it() {
    for args in [&["--connect", "rediss://localhost:6380"][..], &["--connect", "localhost:6380", "--tls-ca", "ca.crt"]]
    {
        let mut filter = Filter::start(args, &[]);
        assert_eq!(filter.exit(), Some(2), "{args:?}");
        let err = filter.stderr();
        assert!(err.contains("--features tls") && err.contains("redis-cli --tls … monitor | faina-filter"), "{err}");
    }
}

#[test]
fn json_reports_say_each_servers_state() {
    let (Some(steady), Some(mut lost)) = (Redis::start(&[]), Redis::start(&[])) else { return };
    let (n1, n2) = (format!("n1={}", url(&steady)), format!("n2={}", url(&lost)));
    let mut filter = Filter::start(&["--connect", &n1, "--connect", &n2, "--every", "1s", "--format", "json"], &[]);
    filter.wait_for("n2 (127.0.0.1:");
    let state_of = |filter: &Filter, node: &str| -> Option<serde_json::Value> {
        let out = filter.stdout();
        let last = out.lines().last()?;
        let report = json(last);
        report["connections"].as_array()?.iter().find(|c| c["node"] == node).cloned()
    };
    let wait = |filter: &Filter, node: &str, state: &str, client: &mut Client| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while state_of(filter, node).map_or(true, |c| c["state"] != state) {
            assert!(Instant::now() < deadline, "{node} never {state}: {}", filter.stdout());
            client.call(&["GET", "tick"]);
            thread::sleep(Duration::from_millis(50));
        }
        state_of(filter, node).unwrap()
    };
    let mut client = steady.client();
    wait(&filter, "n2", "connected", &mut client);
    lost.kill();
    let gone = wait(&filter, "n2", "lost", &mut client);
    assert!(gone["since"].as_f64().unwrap() > 1.7e9 && gone["since_iso"].as_str().unwrap().ends_with('Z'), "{gone}");
    assert_eq!(state_of(&filter, "n1").unwrap()["state"], "connected");
    lost.restart();
    wait(&filter, "n2", "connected", &mut client);
    filter.signal("INT");
    assert_eq!(filter.exit(), Some(0), "{}", filter.stderr());
}
