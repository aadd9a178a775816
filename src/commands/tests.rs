//! The built-in table's key rules, call by call.

use crate::commands::*;
use crate::format::monitor::Args;
use crate::format::monitor::ArgsStore;

/// The keys of a call written as words, as (key, 'r' or 'w').
fn keys(call: &str) -> Vec<(String, char)> {
    let table = Table::builtin();
    let words: Vec<&[u8]> = call.split(' ').map(str::as_bytes).collect();
    let found = table.lookup(words[0], words.get(1).copied());
    let mut out = Vec::new();
    let mut store = ArgsStore::default();
    table.keys(found, &Args::from_words(&words, &mut store), &mut out);
    out.iter()
        .map(|k| {
            let access = if k.access == Access::Read { 'r' } else { 'w' };
            (String::from_utf8(words[k.pos].to_vec()).unwrap(), access)
        })
        .collect()
}

fn names(call: &str) -> Vec<String> {
    keys(call).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn the_table_loads() {
    let table = Table::builtin();
    assert!(table.commands().len() > 350);
    assert!(matches!(table.lookup(b"GET", None), Lookup::Known(_, 1)));
    assert_eq!(table.lookup(b"nosuchcommand", None), Lookup::Unknown);
    let Lookup::Known(id, 2) = table.lookup(b"OBJECT", Some(b"Encoding")) else { panic!() };
    assert_eq!(table.get(id).name, "object|encoding");
}

#[test]
fn common_commands() {
    assert_eq!(keys("get user:1"), [("user:1".into(), 'r')]);
    assert_eq!(keys("set k v"), [("k".into(), 'w')]);
    assert_eq!(names("mget a b c"), ["a", "b", "c"]);
    assert_eq!(names("del a b"), ["a", "b"]);
    assert_eq!(keys("mset a 1 b 2"), [("a".into(), 'w'), ("b".into(), 'w')]);
    assert_eq!(names("blpop q1 q2 0"), ["q1", "q2"]);
    assert_eq!(keys("bitop and dest s1 s2"), [("dest".into(), 'w'), ("s1".into(), 'r'), ("s2".into(), 'r')]);
    assert_eq!(names("hset h f v"), ["h"]);
    assert_eq!(names("lcs a b"), ["a", "b"]);
    assert_eq!(keys("hgetex h ex 10 fields 1 f"), [("h".into(), 'w')]);
    assert_eq!(keys("hsetex h fields 1 f v"), [("h".into(), 'w')]);
    assert_eq!(keys("hgetdel h fields 1 f"), [("h".into(), 'w')]);
    assert_eq!(keys("hexpire h 10 fields 1 f"), [("h".into(), 'w')]);
}

#[test]
fn keyless_commands() {
    for call in [
        "ping",
        "select 3",
        "auth secret",
        "auth user secret",
        "hello 3 auth user secret",
        "client setname x",
        "script load x",
        "publish ch msg",
        "info",
        "multi",
        "exec",
        "ft.search idx q",
        // Valkey 9.1: the cursor is no key (its spec is NOT_KEY).
        "clusterscan 0",
        "clusterscan 0-abc match user:* count 10",
        "client import-source on",
    ] {
        assert!(keys(call).is_empty(), "{call}");
    }
}

#[test]
fn numkeys_commands() {
    assert_eq!(names("eval s 2 a b x"), ["a", "b"]);
    assert!(names("eval s 0 x").is_empty());
    assert!(names("eval s x a").is_empty());
    assert!(names("eval s 5 a").is_empty());
    assert_eq!(names("evalsha 0123 1 k"), ["k"]);
    assert_eq!(names("fcall f 1 k a"), ["k"]);
    assert_eq!(names("zunionstore d 2 a b weights 1 2"), ["d", "a", "b"]);
    assert_eq!(names("zunion 2 a b"), ["a", "b"]);
    assert_eq!(names("lmpop 2 a b left"), ["a", "b"]);
    assert_eq!(names("blmpop 0 2 a b left"), ["a", "b"]);
}

#[test]
fn keyword_commands() {
    assert_eq!(names("xread count 2 streams s1 s2 0 0"), ["s1", "s2"]);
    assert_eq!(names("xreadgroup group g c streams s 0"), ["s"]);
    // CLAIM is Redis 8.4's: the streams after it are still keys.
    assert_eq!(names("xreadgroup group g c count 1 claim 10 streams st9 >"), ["st9"]);
    assert_eq!(names("xreadgroup group g c claim 10 noack streams a b > >"), ["a", "b"]);
    assert_eq!(names("sort l limit 0 1 store dst"), ["l", "dst"]);
    assert_eq!(names("sort l by w_* get o_*"), ["l"]);
    assert_eq!(names("migrate h 6379 k 0 100"), ["k"]);
    // Two spaces: an empty key argument, as MIGRATE's KEYS form requires.
    assert_eq!(names("migrate h 6379  0 100 auth2 u p keys a b"), ["a", "b"]);
    assert!(names("migrate h 6379 k 0 100 keys a b").is_empty());
    // KEYS with no key after it: the empty key argument is no key (the server replies NOKEY).
    assert!(names("migrate h 6379  0 100 keys").is_empty());
    assert!(names("migrate h 6379  0 100 copy keys").is_empty());
    assert_eq!(names("migrate h 6379  0 100"), [""]);
    assert_eq!(names("georadius g 0 0 1 km store dst"), ["g", "dst"]);
    // Both stores: the command writes only the last (the servers' key specs name both).
    assert_eq!(keys("georadius g 15 37 200 km store d1 storedist d2"), [("g".into(), 'r'), ("d2".into(), 'w')]);
    // An odd number of arguments after STREAMS: refused, so nothing is read.
    assert!(names("xread streams s1 s2 0").is_empty());
    assert_eq!(names("object encoding k"), ["k"]);
    assert_eq!(names("memory usage k"), ["k"]);
}

#[test]
fn valkey_9_1_and_redis_8_6_commands() {
    let table = Table::builtin();
    let Lookup::Known(id, 2) = table.lookup(b"CLIENT", Some(b"IMPORT-SOURCE")) else { panic!() };
    assert_eq!(table.get(id).name, "client|import-source");
    assert!(matches!(table.lookup(b"CLUSTERSCAN", Some(b"0")), Lookup::Known(_, 1)));
    assert_eq!(keys("delex k"), [("k".into(), 'w')]);
    assert_eq!(keys("delex k ifeq v"), [("k".into(), 'w')]);
    assert_eq!(keys("delifeq k v"), [("k".into(), 'w')]);
    assert_eq!(keys("xcfgset s idmp-duration 10"), [("s".into(), 'w')]);
}

#[test]
fn unknown_commands_fall_back_to_the_first_argument() {
    assert_eq!(names("frobnicate k x"), ["k"]);
    assert!(names("frobnicate").is_empty());
}

#[test]
fn every_command_takes_any_argument_count() {
    // Lines cut short (a key over 1 MiB) can hold any command with too few arguments; words
    // that steer the special functions make them read as far as they can.
    let table = Table::builtin();
    let words: [&[u8]; 8] = [b"1", b"2", b"", b"store", b"keys", b"streams", b"limit", b"auth2"];
    let mut out = Vec::new();
    let mut store = ArgsStore::default();
    for cmd in table.commands() {
        let name: Vec<&[u8]> = cmd.name.split('|').map(str::as_bytes).collect();
        for extra in 0..=3usize {
            for pick in 0..words.len().pow(extra as u32) {
                let mut call = name.clone();
                let mut p = pick;
                for _ in 0..extra {
                    call.push(words[p % words.len()]);
                    p /= words.len();
                }
                let found = table.lookup(call[0], call.get(1).copied());
                out.clear();
                table.keys(found, &Args::from_words(&call, &mut store), &mut out);
                assert!(out.iter().all(|k| k.pos > 0 && k.pos < call.len()), "{} {extra}: {out:?}", cmd.name);
            }
        }
    }
}

fn origin(name: &str) -> String {
    let table = Table::builtin();
    table.commands().iter().find(|c| c.name == name).map(|c| c.origin.clone()).unwrap_or_default()
}

#[test]
fn module_commands_with_several_keys() {
    let (r, w) = ('r', 'w');
    let k = |pairs: &[(&str, char)]| -> Vec<(String, char)> { pairs.iter().map(|&(k, a)| (k.into(), a)).collect() };
    assert_eq!(keys("json.get doc $.a"), k(&[("doc", r)]));
    assert_eq!(keys("JSON.MGET a b $"), k(&[("a", r), ("b", r)]));
    assert_eq!(keys("JSON.MSET a $ 1 b $.x 2"), k(&[("a", w), ("b", w)]));
    assert_eq!(keys("TS.MADD t1 1 10 t2 2 20"), k(&[("t1", w), ("t2", w)]));
    assert_eq!(keys("TS.CREATERULE src dst AGGREGATION avg 60000"), k(&[("src", r), ("dst", w)]));
    assert_eq!(keys("TS.DELETERULE src dst"), k(&[("src", r), ("dst", w)]));
    assert_eq!(keys("CMS.MERGE d 2 a b WEIGHTS 1 2"), k(&[("d", w), ("a", r), ("b", r)]));
    assert_eq!(keys("TDIGEST.MERGE d 2 a b COMPRESSION 100 OVERRIDE"), k(&[("d", w), ("a", r), ("b", r)]));
    assert_eq!(keys("TOPK.ADD tk x y z"), k(&[("tk", w)]));
    assert_eq!(keys("TOPK.QUERY tk x y"), k(&[("tk", r)]));
    assert_eq!(keys("BF.MADD f a b"), k(&[("f", w)]));
    assert_eq!(keys("FT.SUGADD ac hello 1"), k(&[("ac", w)]));
    for call in [
        "FT.SEARCH idx @title:hello",
        "FT.AGGREGATE idx * GROUPBY 1 @a",
        "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA title TEXT",
        "TS.MGET FILTER area=eu",
        "TS.MRANGE - + FILTER area=eu",
        "TS.MREVRANGE - + FILTER area=eu",
        "TS.QUERYINDEX area=eu",
    ] {
        assert_eq!(keys(call), [], "{call}");
        assert!(matches!(Table::builtin().lookup(call.split(' ').next().unwrap().as_bytes(), None), Lookup::Known(..)));
    }
    assert_eq!(origin("tdigest.merge"), "redis/bf 2.4.0");
    assert!(origin("json.mget").starts_with("hand: "));
}

#[test]
fn redis_8_and_valkey_commands() {
    let (r, w) = ('r', 'w');
    let k = |pairs: &[(&str, char)]| -> Vec<(String, char)> { pairs.iter().map(|&(k, a)| (k.into(), a)).collect() };
    assert_eq!(keys("XDELEX s IDS 1 0-1"), k(&[("s", w)]));
    assert_eq!(keys("XACKDEL s g IDS 1 0-1"), k(&[("s", w)]));
    assert_eq!(keys("BITOP DIFF d a b"), k(&[("d", w), ("a", r), ("b", r)]));
    assert_eq!(keys("VADD v VALUES 2 0.5 0.5 e"), k(&[("v", w)]));
    assert_eq!(keys("VCARD v"), k(&[("v", r)]));
    assert_eq!(keys("VSIM v ELE e"), k(&[("v", r)]));
    assert_eq!(keys("VREM v e"), k(&[("v", w)]));
    assert_eq!(keys("MSETEX 2 a 1 b 2 EX 10"), k(&[("a", w), ("b", w)]));
    // Flags that vary, and no key function: the spec's own flags.
    assert_eq!(keys("DELEX k IFEQ v"), k(&[("k", w)]));
    assert_eq!(keys("SET k v GET"), k(&[("k", w)]));
    assert_eq!(keys("HOTKEYS START METRICS 1 CPU"), []);
    assert_eq!(keys("DELIFEQ k v"), k(&[("k", w)]));
    assert_eq!(keys("COMMANDLOG GET 10 slow"), []);
    assert_eq!(origin("xdelex"), "redis 8.2.0");
    assert_eq!(origin("delifeq"), "valkey 9.0.0");
}

#[test]
fn stralgo_of_redis_6() {
    assert_eq!(keys("STRALGO LCS KEYS a b"), [("a".into(), 'r'), ("b".into(), 'r')]);
    assert_eq!(names("stralgo lcs idx keys a b withmatchlen"), ["a", "b"]);
    assert!(names("STRALGO LCS STRINGS x y").is_empty());
    assert!(names("STRALGO LCS STRINGS x KEYS a b").is_empty());
    assert!(names("STRALGO LCS KEYS a").is_empty());
}
