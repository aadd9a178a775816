//! No credential reaches any output: server errors that quote a call, records read back in every
//! layout, rejected records, a `--commands` table that makes a password a key, SENTINEL's
//! passwords, and keys that use bidirectional controls to pass for other keys.

use crate::common;

use common::{contains, every_output, run, stdout_of, Capture, Redis, TempDir};

/// Calls typed into the stream's own connection before MONITOR, as an operator does in telnet
/// (a mistyped AUTH, a password removed that is not there, commands one typo from HELLO and
/// MIGRATE, a SENTINEL command sent to a server): the server answers each with an error that
/// quotes it.
const TYPED: &[u8] = b"AUHT pw-auht\r\nAUHT pw-auht\r\nACL SETUSER bob <pw-acl\r\nHELO 3 AUTH default pw-helo\r\n\
MIGRTE h 1 k 0 100 AUTH pw-migrte\r\nSENTINEL SET m auth-pass pw-sentinel\r\nAUTHH u pw-authh\r\n";

const SECRETS: [&str; 7] = ["pw-auht", "pw-acl", "pw-helo", "pw-migrte", "pw-sentinel", "pw-authh", "pw-err-auth"];

#[test]
fn server_errors_typed_into_the_stream_are_shown_redacted() {
    for server in common::servers::all() {
        server_errors_on(&server);
    }
}

fn server_errors_on(server: &common::servers::Server) {
    let redis = Redis::start_server(server, &[]);
    let monitor = Capture::raw_socket_after(redis.port, TYPED);
    monitor.wait_for(b"+OK\r\n");
    redis.client().call(&["GET", "the-end"]);
    monitor.wait_for(b"the-end");
    let mut capture = monitor.bytes();
    // The server's own words, so the test means something.
    for reply in [
        &b"-ERR unknown command 'AUHT', with args beginning with: 'pw-auht' \r\n"[..],
        b"-ERR Error in ACL SETUSER modifier '<pw-acl': The password you are trying to remove from the user does not exist\r\n",
        b"-ERR unknown command 'SENTINEL', with args beginning with: 'SET' 'm' 'auth-pass' 'pw-sentinel' \r\n",
    ] {
        assert!(contains(&capture, reply), "{}: {}", server.name, String::from_utf8_lossy(&capture));
    }
    // A reply of the form the issue quotes, from a server that words it so.
    capture.extend_from_slice(b"-ERR AUTH pw-err-auth\r\n");
    let all = every_output(&capture);
    for secret in SECRETS {
        assert!(!contains(&all, secret.as_bytes()), "{secret} leaked: {}", String::from_utf8_lossy(&all));
    }
    // The errors are still said, redacted, and counted at the end (AUHT came twice).
    let out = run(&[], &capture);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("the server said: ERR unknown command 'AUHT', with args beginning with: (redacted)"), "{err}");
    assert!(err.contains("modifier '(redacted)': The password you are trying to remove"), "{err}");
    assert!(err.contains("the server said: ERR AUTH (redacted)"), "{err}");
    assert!(err.contains("server errors in all:") && err.contains("         2  ERR unknown command 'AUHT'"), "{err}");
    // --no-redact shows them as the server said them.
    let out = run(&["--no-redact"], &capture);
    assert!(contains(&out.stderr, b"'pw-auht'"));
}

/// A table as `redis-cli --json COMMAND` writes it, that gives AUTH a key spec (its first
/// argument, then every one), and HELLO too.
const AUTH_WITH_KEYS: &str = r#"[
 ["auth", -2, ["noscript"], 1, -1, 1, [], [], [{"flags": ["RO"], "begin_search": {"type": "index", "spec": {"index": 1}}, "find_keys": {"type": "range", "spec": {"lastkey": -1, "keystep": 1, "limit": 0}}}], []],
 ["hello", -1, ["noscript"], 1, -1, 1, [], [], [{"flags": ["RO"], "begin_search": {"type": "index", "spec": {"index": 1}}, "find_keys": {"type": "range", "spec": {"lastkey": -1, "keystep": 1, "limit": 0}}}], []]
]"#;

#[test]
fn a_secret_is_never_a_key_whatever_the_table_says() {
    let dir = TempDir::new("auth-keys");
    let table = dir.path("commands.json");
    std::fs::write(&table, AUTH_WITH_KEYS).unwrap();
    let table = table.to_str().unwrap();
    // Lines as servers before 6.2.4 write them (AUTH in clear), and HELLO without a version as
    // 7.0.15 still does.
    let input = b"1.000001 [0 1.2.3.4:5] \"auth\" \"pw-auth-key\"\n\
1.000002 [0 1.2.3.4:5] \"auth\" \"admin\" \"pw-auth-key2\"\n\
1.000003 [0 1.2.3.4:5] \"hello\" \"auth\" \"default\" \"pw-hello-key\"\n\
1.000004 [0 1.2.3.4:5] \"get\" \"k\"\n";
    let all = common::every_output_with(input, &["--commands", table]);
    for secret in ["pw-auth-key", "pw-auth-key2", "pw-hello-key", "admin"] {
        assert!(!contains(&all, secret.as_bytes()), "{secret} leaked: {}", String::from_utf8_lossy(&all));
    }
    // The table's other keys are still keys: HELLO's "auth" option word is its first argument.
    let keys = stdout_of(&["--emit", "keys", "--commands", table], input);
    assert_eq!(keys.lines().map(|l| l.split('\t').nth(4).unwrap()).collect::<Vec<_>>(), ["auth", "k"], "{keys}");
}

#[test]
fn sentinel_passwords_are_redacted() {
    let input = b"1.000001 [0 1.2.3.4:5] \"SENTINEL\" \"SET\" \"mymaster\" \"auth-pass\" \"pw-sentinel-set\"\n\
1.000002 [0 1.2.3.4:5] \"sentinel\" \"config\" \"set\" \"sentinel-pass\" \"pw-sentinel-config\"\n\
1.000003 [0 1.2.3.4:5] \"sentinel\" \"config\" \"set\" \"auth-pass\" \"pw-sentinel-config2\"\n\
1.5\t0\t1.2.3.4:5\tsentinel\tset\tm\tauth-pass\tpw-sentinel-record\n";
    let all = every_output(input);
    for secret in ["pw-sentinel-set", "pw-sentinel-config", "pw-sentinel-config2", "pw-sentinel-record"] {
        assert!(!contains(&all, secret.as_bytes()), "{secret} leaked: {}", String::from_utf8_lossy(&all));
    }
    let tsv = stdout_of(&["--emit", "tsv"], input);
    assert!(tsv.contains("\tsentinel\tSET\tmymaster\tauth-pass\t(redacted)\n"), "{tsv}");
}

#[test]
fn records_read_back_are_redacted_by_their_own_layout() {
    // Records that do not repeat the subcommand's word, as a hand-made or other tool's file may
    // have them, and records as faina-filter writes them.
    let input = b"1.5\t0\t1.2.3.4:5\tconfig|set\trequirepass\tpw-config-short\n\
1.6\t0\t1.2.3.4:5\tacl|setuser\tbob\t>pw-acl-short\n\
1.7\t0\t1.2.3.4:5\tconfig|set\tset\tmasterauth\tpw-config-long\n\
1.8\t0\t1.2.3.4:5\tauht\tpw-auht-record\n";
    let all = every_output(input);
    for secret in ["pw-config-short", "pw-acl-short", "bob", "pw-config-long", "pw-auht-record"] {
        assert!(!contains(&all, secret.as_bytes()), "{secret} leaked: {}", String::from_utf8_lossy(&all));
    }
    let tsv = stdout_of(&["--emit", "tsv"], input);
    assert!(tsv.contains("\tconfig|set\tset\trequirepass\t(redacted)\n"), "{tsv}");
}

#[test]
fn rejected_records_lose_their_credentials() {
    let dir = TempDir::new("rejects-records");
    let path = dir.path("rejects.txt");
    // Records the parser skips (a broken escape elsewhere in them), in both layouts.
    let input = b"1.5\t0\t1.2.3.4:5\tconfig|set\tset\trequirepass\tpw-rej-1\t\\q\n\
1.5\t0\t1.2.3.4:5\tconfig|set\trequirepass\tpw-rej-2\t\\q\n\
n1\t1.5\t0\t1.2.3.4:5\tacl|setuser\tsetuser\tbob\t>pw-rej-3\t\\q\n\
1.5\t0\t1.2.3.4:5\tacl|setuser\tbob\t>pw-rej-4\t\\q\n";
    let out = run(&["--rejects", path.to_str().unwrap()], input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rejects = std::fs::read_to_string(&path).unwrap();
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    for secret in ["pw-rej-1", "pw-rej-2", "pw-rej-3", "pw-rej-4", "bob"] {
        assert!(!rejects.contains(secret), "{secret} leaked: {rejects}");
    }
}

#[test]
fn bidi_controls_in_keys_are_escaped_everywhere() {
    // `user:1<RLO>nimda` would show as `user:1admin`; every bidi control, in a key, a client
    // (a unix socket path), a command name and a node label.
    let controls = [
        '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}',
        '\u{2067}', '\u{2068}', '\u{2069}',
    ];
    let mut input = Vec::new();
    for (i, c) in controls.iter().enumerate() {
        let hex: String = c.to_string().bytes().map(|b| format!("\\x{b:02x}")).collect();
        input.extend_from_slice(format!("1.{i:06} [0 unix:/tmp/s{c}] \"get\" \"user:1{hex}nimda\"\n").as_bytes());
        input.extend_from_slice(format!("1.{:06} [0 1.2.3.4:5] \"x{hex}\" \"k\"\n", i + 100).as_bytes());
        input.extend_from_slice(format!("n{c}\t1.{:06}\t0\t1.2.3.4:5\tget\tk{c}\n", i + 200).as_bytes());
    }
    let all = every_output(&input);
    let text = String::from_utf8(all).unwrap();
    for c in controls {
        assert!(!text.contains(c), "{c:?} passed through: {text}");
    }
    assert!(text.contains("user:1\\xe2\\x80\\xaenimda"), "{text}");
}
