//! `--commands FILE` with hand-made COMMAND replies: a module command with range, keyword and
//! keynum key specs, the RESP2 and pre-7.0 shapes, and files that are not command tables.

use crate::common;

use common::{run, stdout_of, TempDir};

/// A COMMAND reply as `redis-cli --json COMMAND` writes it, for a server with a module whose
/// `mod.copy src TO dest [KEYS n key…]` has three key specs, an older module command given in
/// RESP2's flat form, and one from a server before 7.0 (no key specs: first/last/step).
const TABLE: &str = r#"[
 ["mod.copy",-4,["write","module","movablekeys"],1,1,1,["@write"],[],[
   {"flags":["RO","access"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}},
   {"flags":["OW","update"],"begin_search":{"type":"keyword","spec":{"keyword":"TO","startfrom":2}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}},
   {"flags":["RO","access"],"begin_search":{"type":"keyword","spec":{"keyword":"KEYS","startfrom":-1}},"find_keys":{"type":"keynum","spec":{"keynumidx":0,"firstkey":1,"keystep":1}}}
 ],[]],
 ["mod.pair",-3,["readonly","module"],1,-1,2,[],[],[
   ["flags",["RO"],"begin_search",["type","index","spec",["index",1]],"find_keys",["type","range","spec",["lastkey",-1,"keystep",2,"limit",0]]]
 ],[]],
 ["old.touch",-2,["write"],1,-1,1],
 ["json.mget",-3,["readonly","module"],1,1,1,[],[],[
   {"flags":["RO"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}
 ],[]],
 ["get",2,["readonly","fast"],1,1,1,["@read"],[],[
   {"flags":["RO","access"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}
 ],[]]
]"#;

const CAPTURE: &str = "\
1795636306.000001 [0 10.0.0.1:1] \"MOD.COPY\" \"src\" \"TO\" \"dst\" \"KEYS\" \"2\" \"k1\" \"k2\"
1795636306.000002 [0 10.0.0.1:1] \"mod.copy\" \"src\" \"to\" \"dst\"
1795636306.000003 [0 10.0.0.1:1] \"mod.pair\" \"p1\" \"v1\" \"p2\" \"v2\"
1795636306.000004 [0 10.0.0.1:1] \"old.touch\" \"t1\" \"t2\"
1795636306.000005 [0 10.0.0.1:1] \"get\" \"g\"
1795636306.000006 [0 10.0.0.1:1] \"other.thing\" \"o\" \"x\"
1795636306.000007 [0 10.0.0.1:1] \"sort\" \"l\" \"store\" \"sorted\"
1795636306.000008 [0 10.0.0.1:1] \"JSON.MGET\" \"j1\" \"j2\" \"$.a\"
";

fn saved(dir: &TempDir, text: &str) -> String {
    let path = dir.path("commands.json");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// (command, key, access) of each key record.
fn keys(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{} {} {}", f[3], f[4], f[5])
        })
        .collect()
}

#[test]
fn a_module_commands_range_keyword_and_keynum_specs() {
    let dir = TempDir::new("commands");
    let file = saved(&dir, TABLE);
    let out = stdout_of(&["--commands", &file, "--emit", "keys"], CAPTURE.as_bytes());
    assert_eq!(
        keys(&out),
        [
            "mod.copy src read",
            "mod.copy dst write",
            "mod.copy k1 read",
            "mod.copy k2 read",
            "mod.copy src read",
            "mod.copy dst write",
            "mod.pair p1 read",
            "mod.pair p2 read",
            "old.touch t1 write",
            "old.touch t2 write",
            "get g read",
            // Not in the file: guessed, as without it.
            "other.thing o read",
            // In neither the file nor the way of its specs: the built-in table and key function.
            "sort l read",
            "sort sorted write",
            // RedisJSON registers it with its first key only, as this table says: the built-in
            // row counts every key it reads.
            "json.mget j1 read",
            "json.mget j2 read",
        ]
    );
}

#[test]
fn without_the_table_the_report_names_the_guessed_commands() {
    let out = stdout_of(&[], CAPTURE.as_bytes());
    assert!(out.contains("  unknown commands  5   (first argument taken as the key)\n"), "{out}");
    assert!(out.contains("                    mod.copy 2, mod.pair 1, old.touch 1; see --commands\n"), "{out}");
    let json = common::json_report(&["--format", "json"], CAPTURE.as_bytes());
    assert_eq!(json["unknown_commands"], 5);
    assert_eq!(json["unknown_command_names"][0]["name"], "mod.copy");
    assert_eq!(json["unknown_command_names"][0]["count"], 2);
    assert_eq!(json["unknown_command_names"].as_array().unwrap().len(), 3);

    let dir = TempDir::new("commands");
    let file = saved(&dir, TABLE);
    let json = common::json_report(&["--commands", &file, "--format", "json"], CAPTURE.as_bytes());
    assert_eq!(json["unknown_commands"], 1);
    assert_eq!(json["unknown_command_names"][0]["name"], "other.thing");
}

#[test]
fn guessed_command_names_past_their_table_say_their_bound() {
    // More distinct unknown names than the table keeps (a quarter of --max-keys): the names
    // shown may carry counts of names evicted before them, and say so as key rows do.
    let mut capture = String::new();
    for i in 0..400 {
        capture.push_str(&format!("1795636306.{i:06} [0 10.0.0.1:5000] \"once.{i}\" \"k\"\n"));
    }
    let out = stdout_of(&["--max-keys", "40"], capture.as_bytes());
    let names = out.lines().find(|l| l.ends_with("; see --commands")).expect("the names' line");
    assert!(names.contains(" <="), "an over-count is shown as a bound: {names}");
    let json = common::json_report(&["--max-keys", "40"], capture.as_bytes());
    for row in json["unknown_command_names"].as_array().unwrap() {
        let (count, error) = (row["count"].as_u64().unwrap(), row["error"].as_u64().unwrap());
        assert!(count - error <= 1 && 1 <= count, "each was seen once: {row}");
    }
    // Within the table, counts are exact and said plainly.
    let json = common::json_report(&[], CAPTURE.as_bytes());
    assert_eq!(json["unknown_command_names"][0]["error"], 0);
}

#[test]
fn a_file_that_is_no_command_table_is_refused_with_its_place() {
    let dir = TempDir::new("commands");
    for (text, message) in [
        ("{\"get\": 1}\n", "line 1, column 1: expected the array that 'redis-cli --json COMMAND' writes, found an object"),
        ("(error) NOAUTH Authentication required.\n", "line 1, column 1: expected a value"),
        ("[[\"get\",2,[\"readonly\"],1,1,1,[],[],[\n{\"flags\":[\"RO\"],\"begin_search\":{\"type\":\"index\",\"spec\":{\"index\":-1}},\"find_keys\":{\"type\":\"unknown\"}}]]]", "line 2, column 64: command 1 ('get'), key spec 1, begin_search: index -1 is outside 1..65536"),
        ("[[\"get\",2,[\"readonly\"],1,1,1,[],[],[\n", "line 2, column 1: the document ends where a value should be"),
        ("", "line 1, column 1: the document ends where a value should be"),
    ] {
        let file = saved(&dir, text);
        let out = run(&["--commands", &file], b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.starts_with(&format!("faina-filter: --commands '{file}': {message}\n")), "{text}: {stderr}");
    }
    let out = run(&["--commands", &dir.path("missing.json").to_string_lossy()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
    // A name with a terminal escape in it is shown escaped.
    let file = saved(&dir, r#"[["\u001b[31m",1,[]]]"#);
    let out = run(&["--commands", &file], b"");
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("command 1: expected a command name (printable, no '|'), found '\\x1b[31m'"));
}

#[test]
fn a_missing_table_names_the_file_and_is_no_usage_error() {
    let dir = TempDir::new("commands");
    let missing = dir.path("missing.json").to_string_lossy().to_string();
    let out = run(&["--commands", &missing], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [format!("faina-filter: --commands '{missing}': No such file or directory (os error 2)")]
    );
    // The flags are checked before anything is read: a usage error says so, and points to --help.
    let out = run(&["--commands", &missing, "--window", "10s"], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr, "faina-filter: --window needs --every\nTry 'faina-filter --help' for more information.\n");
}

#[test]
fn given_twice_the_last_table_is_the_one_read() {
    let dir = TempDir::new("commands");
    let file = saved(&dir, TABLE);
    let missing = dir.path("missing.json").to_string_lossy().to_string();
    let last = stdout_of(&["--commands", &missing, "--commands", &file, "--emit", "keys"], CAPTURE.as_bytes());
    assert_eq!(last, stdout_of(&["--commands", &file, "--emit", "keys"], CAPTURE.as_bytes()));
    let out = run(&["--commands", &file, "--commands", &missing], CAPTURE.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}
