//! The command table against real servers (the system's, Redis 8.6.3 and Valkey 9.1.2): every
//! line of a capture of every key-taking command the server documents, every call of the corpus,
//! and every command's spec must give the server's own keys and access, apart from the cases
//! named in `RIGHT_AS_IT_IS` and `CHANGED`.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::servers::{self, Kind, Server};
use common::{variants, Capture, Redis, Resp};
use faina_filter::commands::{Access, Begin, Find, Lookup, Table};
use faina_filter::monitor::{Args, ArgsStore, Line, Parser};

const CORPUS: &str = include_str!("../data/keys-corpus.txt");

/// The corpus lines, decoded to argument lists with the MONITOR parser.
fn corpus() -> Vec<Vec<Vec<u8>>> {
    let mut parser = Parser::new();
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let line = format!("1795636306.000001 [0 127.0.0.1:1] {l}");
            match parser.parse(line.as_bytes(), false) {
                Line::Command(call) => call.args.iter().map(<[u8]>::to_vec).collect(),
                other => panic!("corpus line does not parse: {l} ({other:?})"),
            }
        })
        .collect()
}

/// (key, "read" | "write") pairs as faina-filter finds them.
fn ours(table: &Table, args: &[Vec<u8>]) -> Vec<(Vec<u8>, &'static str)> {
    let found = table.lookup(&args[0], args.get(1).map(Vec::as_slice));
    assert_ne!(found, Lookup::Unknown, "{:?} is not in the table", String::from_utf8_lossy(&args[0]));
    let mut keys = Vec::new();
    let words: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let mut store = ArgsStore::default();
    table.keys(found, &Args::from_words(&words, &mut store), &mut keys);
    keys.iter().map(|k| (args[k.pos].clone(), if k.access == Access::Read { "read" } else { "write" })).collect()
}

/// The server's answer, from COMMAND GETKEYSANDFLAGS.
fn servers(client: &mut common::Client, args: &[Vec<u8>]) -> Vec<(Vec<u8>, &'static str)> {
    if args.len() == 1 {
        // A call of its name alone has no keys; COMMAND GETKEYS (arity -4 on 7.0) cannot be asked.
        return Vec::new();
    }
    let mut call: Vec<&[u8]> = vec![b"COMMAND", b"GETKEYSANDFLAGS"];
    call.extend(args.iter().map(Vec::as_slice));
    match client.call_resp(&call) {
        Resp::Array(items) => items
            .iter()
            .map(|item| {
                let pair = item.array();
                let flags: Vec<String> = pair[1].array().iter().map(|f| f.text().to_uppercase()).collect();
                let write = flags.iter().any(|f| f == "RW" || f == "OW" || f == "RM");
                let key = match &pair[0] {
                    Resp::Bulk(b) => b.clone(),
                    other => panic!("{other:?}"),
                };
                (key, if write { "write" } else { "read" })
            })
            .collect(),
        // "The command has no key arguments" and "Invalid arguments specified for command".
        Resp::Error(e) if !String::from_utf8_lossy(&e).contains("wrong number") => Vec::new(),
        other => panic!("{:?}: {other:?}", args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>()),
    }
}

#[test]
fn keys_of_every_corpus_call_equal_the_servers() {
    for server in servers::all() {
        corpus_on(&server);
    }
}

fn corpus_on(server: &Server) {
    let corpus = corpus();
    assert!(corpus.len() >= 150, "the corpus has {} calls", corpus.len());
    let redis = Redis::start_server(server, &[]);
    let mut client = redis.client();
    let table = Table::builtin();
    let mut wrong = Vec::new();
    for args in &corpus {
        let call = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" ");
        let (want, got) = (servers(&mut client, args), ours(&table, args));
        if want != got && right_as_it_is(server.kind, args).is_none() {
            let show = |v: &[(Vec<u8>, &str)]| {
                v.iter().map(|(k, a)| format!("{}:{a}", String::from_utf8_lossy(k))).collect::<Vec<_>>().join(" ")
            };
            wrong.push(format!("{call}\n    server: {}\n    ours:   {}", show(&want), show(&got)));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}: {} of {} calls differ:\n{}",
        server.name,
        wrong.len(),
        corpus.len(),
        wrong.join("\n")
    );
}

/// The legacy first/last/step the server derives from the key specs for COMMAND's reply.
fn legacy_range(specs: &[faina_filter::commands::KeySpec]) -> (i64, i64, i64) {
    if specs.is_empty() {
        return (0, 0, 0);
    }
    let plain = |s: &faina_filter::commands::KeySpec| match (&s.begin, s.find) {
        (Begin::Index(pos), Find::Range { last, step, .. }) => Some((*pos as i64, last, step as i64)),
        _ => None,
    };
    if specs.len() == 1 {
        if let Some((pos, last, step)) = plain(&specs[0]) {
            return (pos, if last < 0 { last } else { pos + last }, step);
        }
    }
    let (mut first, mut last_abs, mut prev_last) = (i64::MAX, 0i64, 0i64);
    for spec in specs {
        let Some((pos, last, step)) = plain(spec) else { continue };
        if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            continue;
        }
        first = first.min(pos);
        let abs = if last >= 0 { last + pos } else { last };
        // The server compares these as unsigned: a negative (from the end) wins.
        last_abs = if (abs as u32) > (last_abs as u32) { abs } else { last_abs };
        prev_last = last_abs;
    }
    if first == i64::MAX {
        return (0, 0, 0);
    }
    (first, last_abs, 1)
}

/// Where a server's COMMAND differs from the table, by name: (the servers, command, what differs,
/// why). The table follows the newest data (Redis 8.10's documentation, then Redis 8.6's and
/// Valkey 9.1's sources); the test servers are Debian's 7.0.15, Redis 8.6.3 and Valkey 9.1.2.
const CHANGED: &[(&[Kind], &str, &str, &str)] = &[
    (&[Kind::System], "command|getkeys", "arity", "7.2 lets it take a command alone"),
    (&[Kind::System], "command|getkeysandflags", "arity", "7.2 lets it take a command alone"),
    (&[Kind::System], "zrank", "arity", "7.2 added WITHSCORE"),
    (&[Kind::System], "zrevrank", "arity", "7.2 added WITHSCORE"),
    (&[Kind::System], "sinterstore", "spec", "7.2 marks the destination OW instead of RW (a write either way)"),
    (ALL, "georadius", "spec", "8.10 marks STORE and STOREDIST incomplete: the key function decides"),
    (ALL, "georadiusbymember", "spec", "8.10 marks STORE and STOREDIST incomplete: the key function decides"),
    (ALL, "xread", "spec", "8.10 marks STREAMS incomplete: the key function decides"),
    (ALL, "xreadgroup", "spec", "8.10 marks STREAMS incomplete: the key function decides"),
    (&[Kind::Valkey91], "cluster|replicate", "arity", "Valkey 9.0 added CLUSTER REPLICATE NO ONE (no key)"),
    (&[Kind::Valkey91], "script|debug", "arity", "Valkey 9.1 added an engine argument (no key)"),
    (&[Kind::Valkey91], "hsetex", "spec", "Valkey marks the hash INSERT where Redis says UPDATE (a write either way)"),
];

const ALL: &[Kind] = &[Kind::System, Kind::Redis86, Kind::Valkey91];

fn changed(kind: Kind, name: &str, what: &str) -> bool {
    CHANGED.iter().any(|&(kinds, n, w, _)| kinds.contains(&kind) && n == name && w == what)
}

/// The command flags that decide whether a key is read or written.
const ACCESS_FLAGS: [&str; 2] = ["readonly", "write"];

#[test]
fn every_command_the_server_knows_is_in_the_table_with_its_specs() {
    for server in servers::all() {
        specs_on(&server);
    }
}

fn specs_on(server: &Server) {
    let redis = Redis::start_server(server, &[]);
    let mut client = redis.client();
    let table = Table::builtin();
    let reply = client.call_resp(&[b"COMMAND"]);
    let mut entries: Vec<Resp> = Vec::new();
    for cmd in reply.array() {
        entries.push(cmd.clone());
        if let Some(Resp::Array(subs)) = cmd.array().get(9) {
            entries.extend(subs.iter().cloned());
        }
    }
    assert!(entries.len() > 300, "COMMAND listed {}", entries.len());
    let mut wrong = Vec::new();
    for entry in &entries {
        let e = entry.array();
        let name = e[0].text().to_lowercase();
        let Some(ours) = table.commands().iter().find(|c| c.name == name) else {
            wrong.push(format!("{name}: missing from the table"));
            continue;
        };
        if ours.arity as i64 != e[1].int() && !changed(server.kind, &name, "arity") {
            wrong.push(format!("{name}: arity {} != {}", ours.arity, e[1].int()));
        }
        // Other command flags (noscript, sentinel, may_replicate…) moved between versions and do
        // not bear on keys.
        let server_flags: BTreeSet<String> = e[2]
            .array()
            .iter()
            .map(|f| f.text().to_lowercase())
            .filter(|f| ACCESS_FLAGS.contains(&f.as_str()))
            .collect();
        let our_flags: BTreeSet<String> =
            ours.flags.iter().filter(|f| ACCESS_FLAGS.contains(&f.as_str())).cloned().collect();
        if server_flags != our_flags {
            wrong.push(format!("{name}: flags {our_flags:?} != {server_flags:?}"));
        }
        let range = (e[3].int(), e[4].int(), e[5].int());
        if legacy_range(&ours.specs) != range {
            wrong.push(format!("{name}: first/last/step {:?} != {range:?}", legacy_range(&ours.specs)));
        }
        let specs = e[8].array();
        if specs.len() != ours.specs.len() {
            wrong.push(format!("{name}: {} key specs != {}", ours.specs.len(), specs.len()));
            continue;
        }
        for (spec, mine) in specs.iter().zip(&ours.specs) {
            let flags: BTreeSet<String> =
                spec.get("flags").unwrap().array().iter().map(|f| f.text().to_uppercase()).collect();
            let my_flags: BTreeSet<String> = mine.flag_names().iter().map(|f| f.to_string()).collect();
            let begin = spec.get("begin_search").unwrap();
            let begin = match (begin.get("type").unwrap().text().as_str(), begin.get("spec").unwrap()) {
                ("index", s) => Begin::Index(s.get("index").unwrap().int() as usize),
                ("keyword", s) => {
                    Begin::Keyword(s.get("keyword").unwrap().text().into_bytes(), s.get("startfrom").unwrap().int())
                }
                _ => Begin::Unknown,
            };
            let find = spec.get("find_keys").unwrap();
            let find = match (find.get("type").unwrap().text().as_str(), find.get("spec").unwrap()) {
                ("range", s) => Find::Range {
                    last: s.get("lastkey").unwrap().int(),
                    step: s.get("keystep").unwrap().int() as usize,
                    limit: s.get("limit").unwrap().int(),
                },
                ("keynum", s) => Find::Keynum {
                    index: s.get("keynumidx").unwrap().int() as usize,
                    first: s.get("firstkey").unwrap().int() as usize,
                    step: s.get("keystep").unwrap().int() as usize,
                },
                _ => Find::Unknown,
            };
            if (flags != my_flags || begin != mine.begin || find != mine.find) && !changed(server.kind, &name, "spec") {
                wrong.push(format!(
                    "{name}: spec {my_flags:?} {:?} {:?} != {flags:?} {begin:?} {find:?}",
                    mine.begin, mine.find
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}: {} differences:\n{}", server.name, wrong.len(), wrong.join("\n"));
}

/// `redis-cli --json COMMAND`, saved as a user saves it for `--commands`.
fn saved_command_table(cli: &std::path::Path, redis: &Redis) -> std::path::PathBuf {
    let path = redis.dir.path("commands.json");
    let out = std::process::Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &redis.port.to_string(), "--json", "COMMAND"])
        .output()
        .expect("run redis-cli");
    assert!(out.status.success() && out.stdout.starts_with(b"["), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn with_the_servers_own_table_every_corpus_call_has_the_servers_keys() {
    if !common::require("redis-cli") {
        return;
    }
    for server in servers::all() {
        own_table_on(&server);
    }
}

fn own_table_on(server: &Server) {
    let corpus = corpus();
    let redis = Redis::start_server(server, &[]);
    let saved = saved_command_table(&server.cli, &redis);
    let commands = faina_filter::commands::server::load(&saved).unwrap();
    assert!(commands.len() > 300, "the saved table has {} commands", commands.len());
    let table = Table::with_server(commands);
    let mut client = redis.client();
    let mut wrong = Vec::new();
    for args in &corpus {
        let (want, got) = (servers(&mut client, args), ours(&table, args));
        if want != got {
            let call = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" ");
            wrong.push(format!("{call}\n    server: {want:?}\n    ours:   {got:?}"));
        }
    }
    // No exceptions: the server's table is the server's own, where the built-in one is Redis 8's.
    assert!(
        wrong.is_empty(),
        "{}: {} of {} calls differ:\n{}",
        server.name,
        wrong.len(),
        corpus.len(),
        wrong.join("\n")
    );
    let origin = &table.commands().iter().find(|c| c.name == "get").unwrap().origin;
    assert!(origin.ends_with("commands.json"), "{origin}");
}

#[test]
fn the_recipe_runs_on_a_real_server() {
    // redis-cli -h HOST --json COMMAND > commands.json
    // redis-cli -h HOST monitor | faina-filter --commands commands.json
    let Some(redis) = Redis::start(&[]) else { return };
    if !common::require("redis-cli") {
        return;
    }
    let saved = saved_command_table(std::path::Path::new("redis-cli"), &redis);
    let capture = common::Capture::redis_cli(redis.port);
    capture.wait_started();
    let mut client = redis.client();
    for call in [
        &["MSET", "a", "1", "b", "2"][..],
        &["GET", "a"],
        &["XADD", "s1", "*", "f", "v"],
        &["XREAD", "STREAMS", "s1", "0"],
    ] {
        client.call(call);
    }
    client.call(&["GET", "capture:end"]);
    capture.wait_for(b"capture:end");
    let out = common::stdout_of(&["--commands", saved.to_str().unwrap(), "--emit", "keys"], &capture.bytes());
    let keys: Vec<&str> = out.lines().map(|l| l.split('\t').nth(4).unwrap()).collect();
    assert_eq!(keys, ["a", "b", "a", "s1", "s1", "capture:end"]);
    let report = common::stdout_of(&["--commands", saved.to_str().unwrap()], &capture.bytes());
    assert!(!report.contains("unknown commands"), "{report}");
}

/// A case where a server's own answer differs from the table's and the table is right.
struct RightAsItIs {
    /// The servers it concerns.
    servers: &'static [Kind],
    commands: &'static [&'static str],
    /// Whether a call of those commands is one.
    when: fn(&[Vec<u8>]) -> bool,
    why: &'static str,
}

/// Every such case, by name.
const RIGHT_AS_IT_IS: &[RightAsItIs] = &[
    RightAsItIs {
        servers: &[Kind::System, Kind::Redis86],
        commands: &["georadius", "georadiusbymember"],
        when: |call| has(call, "STORE") && has(call, "STOREDIST"),
        why: "GEORADIUS with both STORE and STOREDIST writes only the last; the server's key specs \
              name both (Valkey 9.1 marks them VARIABLE_FLAGS and asks its key function, as the table does)",
    },
    RightAsItIs {
        servers: ALL,
        commands: &["xread", "xreadgroup"],
        when: |call| {
            call.iter().position(|a| a.eq_ignore_ascii_case(b"STREAMS")).is_some_and(|at| (call.len() - at) % 2 == 0)
        },
        why: "XREAD with an odd number of arguments after STREAMS is refused and reads nothing; the \
              server's key spec names the first half anyway (Redis 8.10 marks it incomplete, and its \
              key function, which the table follows, names none)",
    },
    RightAsItIs {
        servers: &[Kind::Redis86],
        commands: &[
            "vcard",
            "vdim",
            "vemb",
            "vgetattr",
            "vinfo",
            "vismember",
            "vlinks",
            "vrandmember",
            "vrange",
            "vsim",
        ],
        when: |_| true,
        why: "vector-set reads are reads: the module flags them readonly, though its key spec says RW",
    },
];

/// The call has `word` among its arguments, in either case.
fn has(call: &[Vec<u8>], word: &str) -> bool {
    call.iter().any(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

fn right_as_it_is(kind: Kind, call: &[Vec<u8>]) -> Option<&'static str> {
    let name = String::from_utf8_lossy(&call[0]).to_lowercase();
    RIGHT_AS_IT_IS
        .iter()
        .find(|c| c.servers.contains(&kind) && c.commands.contains(&name.as_str()) && (c.when)(call))
        .map(|c| c.why)
}

/// Calls written by hand besides the generated ones: the shapes the table once got wrong, and a
/// few a server's own documentation cannot give (both of GEORADIUS's stores). A server that does
/// not know one refuses it, and it is not in its capture.
const HAND_CALLS: &[&[&str]] = &[
    &["XGROUP", "CREATE", "st9", "g", "$", "MKSTREAM"],
    &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "CLAIM", "10", "STREAMS", "st9", ">"],
    &["XREADGROUP", "GROUP", "g", "c", "CLAIM", "10", "NOACK", "STREAMS", "st9", "st8", ">", ">"],
    &["XREAD", "STREAMS", "st9", "st8", "0"],
    &["CLUSTERSCAN", "0"],
    &["CLIENT", "IMPORT-SOURCE", "ON"],
    &["CLIENT", "IMPORT-SOURCE", "OFF"],
    &["GEOADD", "geo", "13.36", "38.11", "palermo"],
    &["GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "d1", "STOREDIST", "d2"],
    &["GEORADIUSBYMEMBER", "geo", "palermo", "200", "km", "STOREDIST", "d1", "STORE", "d2"],
    &["SET", "s", "v", "IFEQ", "v", "GET"],
    &["DELEX", "s", "IFNE", "w"],
    &["MSETEX", "2", "m1", "v", "m2", "v", "PX", "100"],
];

/// Sends every variant of every key-taking command of the server's COMMAND DOCS under MONITOR,
/// and returns the capture (through the server's own client, which a raw socket's capture must
/// equal), how many calls were sent, and the names of the commands documented.
fn capture_every_keyed_command(server: &Server, redis: &Redis) -> (Vec<u8>, usize, Vec<String>) {
    let mut client = redis.client();
    let docs = variants::keyed_docs(&client.call_resp(&[b"COMMAND", b"DOCS"]));
    let names = docs.iter().map(|d| d.name.clone()).collect();
    assert!(docs.len() > 150, "{}: COMMAND DOCS has {} key-taking commands", server.name, docs.len());
    let capture = Capture::cli(&server.cli, redis.port);
    capture.wait_started();
    let raw = Capture::raw_socket(redis.port);
    raw.wait_started();
    let mut sent = 0;
    for (i, doc) in docs.iter().enumerate() {
        for call in variants::calls(doc, &format!("c{i}")) {
            let words: Vec<&[u8]> = call.iter().map(|w| w.as_bytes()).collect();
            // Refusals are expected (wrong types, made-up values): the capture is what counts.
            client.call_bytes(&words);
            sent += 1;
        }
    }
    for call in HAND_CALLS {
        client.call(call);
        sent += 1;
    }
    client.call(&["GET", "__end__"]);
    capture.wait_for(b"__end__");
    raw.wait_for(b"__end__");
    // Through a raw socket (+ before each line, CRLF) the filter finds the same records.
    let records = |bytes: &[u8]| common::stdout_of(&["--emit", "tsv"], bytes);
    assert_eq!(records(&capture.bytes()), records(&raw.bytes()), "{}: the two captures differ", server.name);
    (capture.bytes(), sent, names)
}

/// What checking a capture line by line found.
#[derive(Default)]
struct Checked {
    lines: usize,
    keys: usize,
    commands: BTreeSet<String>,
    /// Lines where the server differs and the table is right, by the case's reason.
    named: BTreeMap<&'static str, usize>,
    wrong: Vec<String>,
}

/// Every command line of `capture`: `table`'s keys against the server's GETKEYSANDFLAGS.
fn check_capture(server: &Server, redis: &Redis, capture: &[u8], table: &Table) -> Checked {
    let mut asker = redis.client();
    let mut parser = Parser::new();
    let mut out = Checked::default();
    for line in capture.split(|&b| b == b'\n') {
        let args: Vec<Vec<u8>> = match parser.parse(line, false) {
            Line::Command(call) => call.args.iter().map(<[u8]>::to_vec).collect(),
            _ => continue,
        };
        out.lines += 1;
        if let Lookup::Known(id, _) = table.lookup(&args[0], args.get(1).map(Vec::as_slice)) {
            out.commands.insert(table.get(id).name.clone());
        }
        let (want, got) = (servers(&mut asker, &args), ours(table, &args));
        out.keys += got.len();
        if want == got {
            continue;
        }
        if let Some(why) = right_as_it_is(server.kind, &args) {
            *out.named.entry(why).or_default() += 1;
            continue;
        }
        let show = |v: &[(Vec<u8>, &str)]| {
            v.iter().map(|(k, a)| format!("{}:{a}", String::from_utf8_lossy(k))).collect::<Vec<_>>().join(" ")
        };
        let line = String::from_utf8_lossy(line);
        out.wrong.push(format!("{line}\n    server: {}\n    ours:   {}", show(&want), show(&got)));
    }
    out
}

#[test]
fn every_line_of_a_capture_of_every_keyed_command_has_the_servers_keys() {
    for server in servers::all() {
        let redis = Redis::start_server(&server, &[]);
        let (capture, sent, documented) = capture_every_keyed_command(&server, &redis);
        let found = check_capture(&server, &redis, &capture, &Table::builtin());
        let (lines, commands) = (found.lines, found.commands.len());
        // The server keeps its admin commands out of MONITOR (of the keyed ones, PFDEBUG); every
        // other documented command is in the capture.
        let unseen: Vec<&String> = documented.iter().filter(|d| !found.commands.contains(*d)).collect();
        assert!(unseen.iter().all(|d| *d == "pfdebug"), "{}: not in the capture: {unseen:?}", server.name);
        eprintln!(
            "{}: {sent} calls sent, {lines} lines captured of {commands} commands ({} of the {} documented \
             not shown by MONITOR: {unseen:?}), {} keys; right as it is: {:?}",
            server.name,
            unseen.len(),
            documented.len(),
            found.keys,
            found.named
        );
        assert!(lines > sent / 2 && commands > 120, "{}: only {lines} lines of {commands} commands", server.name);
        let wrong = &found.wrong;
        assert!(wrong.is_empty(), "{}: {} of {lines} lines differ:\n{}", server.name, wrong.len(), wrong.join("\n"));
        // The filter itself finds the same keys in the whole capture.
        let records = common::stdout_of(&["--emit", "keys"], &capture);
        assert_eq!(records.lines().count(), found.keys, "{}: every key", server.name);
        // And so does the server's own table, as --commands reads it.
        let saved = saved_command_table(&server.cli, &redis);
        let own = Table::with_server(faina_filter::commands::server::load(&saved).unwrap());
        let wrong = check_capture(&server, &redis, &capture, &own).wrong;
        assert!(
            wrong.is_empty(),
            "{} with its own table: {} lines differ:\n{}",
            server.name,
            wrong.len(),
            wrong.join("\n")
        );
    }
}
