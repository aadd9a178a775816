//! A server's own command table, as a user saves it with `redis-cli -h HOST --json COMMAND >
//! commands.json` (Redis and Valkey 7 and later; module commands included).
//!
//! The reply is an array with one entry per command:
//!
//! ```text
//! [name, arity, [flag…], first, last, step, [acl category…], [tip…], [key spec…], [subcommand…]]
//! ```
//!
//! Subcommands are entries of the same shape, named `container|sub`. A key spec is a map (a JSON
//! object; a flat `[name, value, …]` array when the reply was read over RESP2) of `flags`
//! (`RO`, `RW`, `OW`, `RM`, `access`, `incomplete`…), `begin_search` (`{type: index, spec:
//! {index}}` or `{type: keyword, spec: {keyword, startfrom}}` or `unknown`) and `find_keys`
//! (`{type: range, spec: {lastkey, keystep, limit}}` or `{type: keynum, spec: {keynumidx,
//! firstkey, keystep}}` or `unknown`). An entry without key specs (Redis before 7.0 gives only the
//! first six fields) has its keys from first/last/step, as those servers do.
//!
//! Anything else is refused with the place it was found: a saved error message, another
//! command's output, a hand edit gone wrong. Numbers in key specs are bounded, so no spec can
//! make the key finder reach outside a call; the file's size, its commands, their names, flags
//! and key specs are bounded too (at several times what the largest real table holds), so no
//! table can take more than a few MiB while it is read, nor keep more than a few after.

use std::path::Path;

use super::json::{self, JsonKind, Place, Value};
use super::model::{flag, Special};
use super::{Begin, CommandDef, Find, KeySpec};

/// The largest file read: a COMMAND reply of Redis 8 with every built-in module is about 400 KiB
/// (Redis 7.0's, 68 KiB). Reading takes about 15 times the file's size for a moment.
pub const MAX_SIZE: u64 = 1 << 20;
/// The most commands (subcommands included) a table may hold: Redis 8 with its modules has
/// about 600.
pub const MAX_COMMANDS: usize = 4_096;
/// The longest command name (`container|sub`) or key-spec keyword: real ones are under 40 bytes.
pub const MAX_NAME: usize = 128;
/// The most flags and key specs one command may have: real ones have at most a dozen flags and
/// four specs.
pub const MAX_FLAGS: usize = 64;
pub const MAX_KEY_SPECS: usize = 32;
/// The bound on every number of a key spec (positions, steps, counts).
const MAX_NUMBER: i64 = 1 << 16;

/// Reads a saved COMMAND reply; the error names the file, the place and what is wrong there.
pub fn load(path: &Path) -> Result<Vec<CommandDef>, String> {
    let shown = crate::format::escape::escaped(path.as_os_str().as_encoded_bytes());
    let fail = |what: String| format!("--commands '{shown}': {what}");
    let text = read_at_most(path, MAX_SIZE).map_err(|e| fail(e.to_string()))?;
    // Every command names where it comes from: the path, cut (it is kept once per command).
    let origin = crate::count::name::shown(path.as_os_str().as_encoded_bytes(), 64);
    parse(&text, &origin).map_err(|m| fail(format!("{}: {}", Place::of(&text, m.at), m.what)))
}

/// The file's bytes, refused past `limit` without reading further (a device, a capture named by
/// mistake).
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "more than {limit} bytes, more than a command table holds (Redis 8's with every module: about 400 KiB)"
        )));
    }
    Ok(text)
}

/// What is wrong with a reply, and the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    pub at: usize,
    pub what: String,
}

impl Mistake {
    fn new(at: usize, what: impl Into<String>) -> Mistake {
        Mistake { at, what: what.into() }
    }
}

/// The commands of a COMMAND reply, each with `origin` as where it comes from.
pub fn parse(text: &[u8], origin: &str) -> Result<Vec<CommandDef>, Mistake> {
    let doc = json::parse(text).map_err(|e| Mistake::new(e.at, e.what))?;
    let JsonKind::Array(entries) = &doc.kind else {
        return Err(Mistake::new(
            doc.at,
            format!("expected the array that 'redis-cli --json COMMAND' writes, found {}", doc.kind.describe()),
        ));
    };
    if entries.is_empty() {
        return Err(Mistake::new(doc.at, "the table lists no commands"));
    }
    let mut commands = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let place = format!("command {}", i + 1);
        entry_commands(entry, &place, None, origin, &mut commands)?;
        if commands.len() > MAX_COMMANDS {
            return Err(Mistake::new(entry.at, format!("more than {MAX_COMMANDS} commands")));
        }
    }
    let mut names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(Mistake::new(
            doc.at,
            format!("'{}' is listed twice", crate::format::escape::escaped(twice[0].as_bytes())),
        ));
    }
    Ok(commands)
}

/// One entry and its subcommands, appended to `out`.
fn entry_commands(
    entry: &Value,
    place: &str,
    container: Option<&str>,
    origin: &str,
    out: &mut Vec<CommandDef>,
) -> Result<(), Mistake> {
    let JsonKind::Array(fields) = &entry.kind else {
        return Err(expected(entry, place, "an array [name, arity, flags, …]"));
    };
    let field = |i: usize, place: &str, what: &str| {
        fields.get(i).ok_or_else(|| Mistake::new(entry.at, format!("{place}: has no {what} (field {})", i + 1)))
    };
    let name = field(0, place, "name")?;
    let JsonKind::String(bytes) = &name.kind else { return Err(expected(name, place, "its name, a string")) };
    if bytes.len() > MAX_NAME {
        return Err(Mistake::new(
            name.at,
            format!("{place}: a name of {} bytes, longer than a command name can be ({MAX_NAME})", bytes.len()),
        ));
    }
    let lower = bytes.to_ascii_lowercase();
    let ok_name = !lower.is_empty()
        && lower.iter().all(|b| b.is_ascii_graphic())
        && match container {
            Some(c) => lower.strip_prefix(c.as_bytes()).is_some_and(|rest| rest.len() > 1 && rest[0] == b'|'),
            None => !lower.contains(&b'|'),
        };
    if !ok_name {
        let what = match container {
            Some(c) => format!("a subcommand of {c} named {c}|NAME"),
            None => "a command name (printable, no '|')".to_string(),
        };
        return Err(Mistake::new(
            name.at,
            format!("{place}: expected {what}, found '{}'", crate::format::escape::escaped(bytes)),
        ));
    }
    // Only printable ASCII was accepted.
    let name = String::from_utf8_lossy(&lower).into_owned();
    let place = format!("{place} ('{name}')");
    let arity = int(field(1, &place, "arity")?, &place, "its arity", i64::from(i32::MIN), i64::from(i32::MAX))? as i32;
    let flags = strings(field(2, &place, "flags")?, &place, "its flags")?;
    if flags.len() > MAX_FLAGS {
        return Err(Mistake::new(entry.at, format!("{place}: more than {MAX_FLAGS} flags")));
    }
    let specs = match fields.get(8) {
        Some(list) => key_specs(list, &place)?,
        None => Vec::new(),
    };
    let specs = if specs.is_empty() && fields.len() >= 6 { legacy_spec(fields, &place, &flags)? } else { specs };
    out.push(CommandDef::new(name.clone(), arity, flags, specs, Special::None, origin.to_string()));
    if let Some(subs) = fields.get(9) {
        let JsonKind::Array(subs) = &subs.kind else { return Err(expected(subs, &place, "its subcommands, an array")) };
        if container.is_some() && !subs.is_empty() {
            return Err(Mistake::new(entry.at, format!("{place}: a subcommand with subcommands of its own")));
        }
        for (i, sub) in subs.iter().enumerate() {
            entry_commands(sub, &format!("{place}, subcommand {}", i + 1), Some(&name), origin, out)?;
        }
    }
    Ok(())
}

/// Keys from first/last/step, as a server before 7.0 finds them.
fn legacy_spec(fields: &[Value], place: &str, flags: &[String]) -> Result<Vec<KeySpec>, Mistake> {
    let first = int(&fields[3], place, "its first key", 0, MAX_NUMBER)?;
    let last = int(&fields[4], place, "its last key", -MAX_NUMBER, MAX_NUMBER)?;
    let step = int(&fields[5], place, "its key step", 0, MAX_NUMBER)?;
    if first == 0 {
        return Ok(Vec::new());
    }
    let access = if flags.iter().any(|f| f == "write") { flag::RW } else { flag::RO };
    let last = if last < 0 { last } else { (last - first).max(0) };
    Ok(vec![KeySpec {
        flags: access,
        begin: Begin::Index(first as usize),
        find: Find::Range { last, step: step.max(1) as usize, limit: 0 },
    }])
}

fn key_specs(list: &Value, place: &str) -> Result<Vec<KeySpec>, Mistake> {
    let JsonKind::Array(items) = &list.kind else { return Err(expected(list, place, "its key specs, an array")) };
    if items.len() > MAX_KEY_SPECS {
        return Err(Mistake::new(list.at, format!("{place}: more than {MAX_KEY_SPECS} key specs")));
    }
    items.iter().enumerate().map(|(i, spec)| key_spec(spec, &format!("{place}, key spec {}", i + 1))).collect()
}

fn key_spec(spec: &Value, place: &str) -> Result<KeySpec, Mistake> {
    let members = members(spec, place)?;
    let mut flags = 0;
    if let Some(list) = member(&members, "flags") {
        for name in strings(list, place, "flags")? {
            // Flags newer than this reader do not bear on where keys are.
            flags |= flag::parse(&name.to_ascii_uppercase()).unwrap_or(0);
        }
    }
    let begin = match member(&members, "begin_search") {
        Some(b) => begin_search(b, &format!("{place}, begin_search"))?,
        None => return Err(Mistake::new(spec.at, format!("{place}: has no begin_search"))),
    };
    let find = match member(&members, "find_keys") {
        Some(f) => find_keys(f, &format!("{place}, find_keys"))?,
        None => return Err(Mistake::new(spec.at, format!("{place}: has no find_keys"))),
    };
    Ok(KeySpec { flags, begin, find })
}

fn begin_search(value: &Value, place: &str) -> Result<Begin, Mistake> {
    let (kind, spec) = typed(value, place)?;
    Ok(match kind.as_slice() {
        b"index" => Begin::Index(int(required(&spec, value, place, "index")?, place, "index", 1, MAX_NUMBER)? as usize),
        b"keyword" => {
            let word =
                member(&spec, "keyword").ok_or_else(|| Mistake::new(value.at, format!("{place}: has no keyword")))?;
            let JsonKind::String(word) = &word.kind else { return Err(expected(word, place, "a keyword, a string")) };
            if word.len() > MAX_NAME {
                return Err(Mistake::new(value.at, format!("{place}: a keyword longer than {MAX_NAME} bytes")));
            }
            let from = int(required(&spec, value, place, "startfrom")?, place, "startfrom", -MAX_NUMBER, MAX_NUMBER)?;
            Begin::Keyword(word.clone(), from)
        }
        _ => Begin::Unknown,
    })
}

fn find_keys(value: &Value, place: &str) -> Result<Find, Mistake> {
    let (kind, spec) = typed(value, place)?;
    let get = |name: &str, min: i64| -> Result<i64, Mistake> {
        int(required(&spec, value, place, name)?, place, name, min, MAX_NUMBER)
    };
    Ok(match kind.as_slice() {
        b"range" => Find::Range {
            last: get("lastkey", -MAX_NUMBER)?,
            step: get("keystep", 1)? as usize,
            limit: get("limit", 0)?,
        },
        b"keynum" => Find::Keynum {
            index: get("keynumidx", 0)? as usize,
            first: get("firstkey", 0)? as usize,
            step: get("keystep", 1)? as usize,
        },
        _ => Find::Unknown,
    })
}

/// A `{type, spec}` map: its type, and its spec's members (none for `unknown`).
fn typed<'v>(value: &'v Value, place: &str) -> Result<(Vec<u8>, Members<'v>), Mistake> {
    let map = members(value, place)?;
    let kind = member(&map, "type").ok_or_else(|| Mistake::new(value.at, format!("{place}: has no type")))?;
    let JsonKind::String(kind) = &kind.kind else { return Err(expected(kind, place, "a type, a string")) };
    let spec = match member(&map, "spec") {
        Some(spec) => members(spec, place)?,
        None => Vec::new(),
    };
    Ok((kind.clone(), spec))
}

/// The member `name`, which must be there.
fn required<'v>(spec: &[(&[u8], &'v Value)], parent: &Value, place: &str, name: &str) -> Result<&'v Value, Mistake> {
    member(spec, name).ok_or_else(|| Mistake::new(parent.at, format!("{place}: has no {name}")))
}

/// A map's members: (name, value) in document order.
type Members<'v> = Vec<(&'v [u8], &'v Value)>;

/// The members of a map: a JSON object, or a flat `[name, value, …]` array (RESP2).
fn members<'v>(value: &'v Value, place: &str) -> Result<Members<'v>, Mistake> {
    match &value.kind {
        JsonKind::Object(members) => Ok(members.iter().map(|(n, v)| (n.as_slice(), v)).collect()),
        JsonKind::Array(items) if items.len() % 2 == 0 => items
            .chunks(2)
            .map(|pair| match &pair[0].kind {
                JsonKind::String(name) => Ok((name.as_slice(), &pair[1])),
                _ => Err(expected(&pair[0], place, "a member name, a string")),
            })
            .collect(),
        _ => Err(expected(value, place, "a map (an object, or a [name, value, …] array)")),
    }
}

fn member<'v>(members: &[(&[u8], &'v Value)], name: &str) -> Option<&'v Value> {
    members.iter().find(|(n, _)| *n == name.as_bytes()).map(|&(_, v)| v)
}

fn int(value: &Value, place: &str, what: &str, min: i64, max: i64) -> Result<i64, Mistake> {
    match value.kind {
        JsonKind::Int(n) if (min..=max).contains(&n) => Ok(n),
        JsonKind::Int(n) => Err(Mistake::new(value.at, format!("{place}: {what} {n} is outside {min}..{max}"))),
        _ => Err(expected(value, place, &format!("{what}, a whole number"))),
    }
}

fn strings(value: &Value, place: &str, what: &str) -> Result<Vec<String>, Mistake> {
    let JsonKind::Array(items) = &value.kind else { return Err(expected(value, place, &format!("{what}, an array"))) };
    items
        .iter()
        .map(|item| match &item.kind {
            JsonKind::String(s) => Ok(String::from_utf8_lossy(&s.to_ascii_lowercase()).into_owned()),
            _ => Err(expected(item, place, &format!("{what}: a string"))),
        })
        .collect()
}

fn expected(value: &Value, place: &str, what: &str) -> Mistake {
    Mistake::new(value.at, format!("{place}: expected {what}, found {}", value.kind.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> CommandDef {
        let mut commands = parse(text.as_bytes(), "test").unwrap();
        assert_eq!(commands.len(), 1);
        commands.remove(0)
    }

    fn mistake(text: &str) -> String {
        let m = parse(text.as_bytes(), "test").unwrap_err();
        format!("{}: {}", Place::of(text.as_bytes(), m.at), m.what)
    }

    #[test]
    fn a_resp3_entry() {
        let cmd = one(
            r#"[["GET",2,["readonly","fast"],1,1,1,["@read"],[],[{"flags":["RO","access"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}],[]]]"#,
        );
        assert_eq!((cmd.name.as_str(), cmd.arity, cmd.origin.as_str()), ("get", 2, "test"));
        assert_eq!(cmd.flags, ["readonly", "fast"]);
        assert_eq!(
            cmd.specs,
            [KeySpec {
                flags: flag::RO | flag::ACCESS,
                begin: Begin::Index(1),
                find: Find::Range { last: 0, step: 1, limit: 0 }
            }]
        );
    }

    #[test]
    fn a_resp2_entry_with_flat_maps_and_subcommands() {
        let text = r#"[["object",-2,[],0,0,0,[],[],[],[["object|freq",3,["readonly"],2,2,1,[],[],[["flags",["RO"],"begin_search",["type","index","spec",["index",2]],"find_keys",["type","range","spec",["lastkey",0,"keystep",1,"limit",0]]]],[]]]]]"#;
        let commands = parse(text.as_bytes(), "t").unwrap();
        assert_eq!(commands.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["object", "object|freq"]);
        assert_eq!(commands[1].specs[0].begin, Begin::Index(2));
    }

    #[test]
    fn before_7_0_keys_come_from_first_last_step() {
        let cmd = one(r#"[["mset",-3,["write","denyoom"],1,-1,2]]"#);
        assert_eq!(
            cmd.specs,
            [KeySpec { flags: flag::RW, begin: Begin::Index(1), find: Find::Range { last: -1, step: 2, limit: 0 } }]
        );
        let cmd = one(r#"[["rename",3,["write"],1,2,1]]"#);
        assert_eq!(cmd.specs[0].find, Find::Range { last: 1, step: 1, limit: 0 });
        assert!(one(r#"[["ping",-1,["stale"],0,0,0]]"#).specs.is_empty());
    }

    #[test]
    fn keyword_keynum_and_unknown_specs() {
        let cmd = one(r#"[["m.x",-2,["write","module","movablekeys"],0,0,0,[],[],[
              {"flags":["RW","update"],"begin_search":{"type":"keyword","spec":{"keyword":"TO","startfrom":-2}},"find_keys":{"type":"range","spec":{"lastkey":-1,"keystep":2,"limit":0}}},
              {"flags":["RO"],"begin_search":{"type":"index","spec":{"index":2}},"find_keys":{"type":"keynum","spec":{"keynumidx":0,"firstkey":1,"keystep":1}}},
              {"flags":["RO","incomplete","some_future_flag"],"begin_search":{"type":"unknown","spec":{}},"find_keys":{"type":"unknown","spec":{}}}],[]]]"#);
        assert_eq!(cmd.specs[0].begin, Begin::Keyword(b"TO".to_vec(), -2));
        assert_eq!(cmd.specs[0].find, Find::Range { last: -1, step: 2, limit: 0 });
        assert_eq!(cmd.specs[1].find, Find::Keynum { index: 0, first: 1, step: 1 });
        assert_eq!((cmd.specs[2].begin.clone(), cmd.specs[2].find), (Begin::Unknown, Find::Unknown));
        assert_eq!(cmd.specs[2].flag_names(), ["RO", "INCOMPLETE"]);
    }

    #[test]
    fn foreign_or_broken_files_are_refused_with_their_place() {
        assert_eq!(
            mistake(r#"{"GET": {}}"#),
            "line 1, column 1: expected the array that 'redis-cli --json COMMAND' writes, found an object"
        );
        assert_eq!(mistake("[]"), "line 1, column 1: the table lists no commands");
        assert_eq!(
            mistake(r#"["ERR unknown command"]"#),
            "line 1, column 2: command 1: expected an array [name, arity, flags, …], found a string"
        );
        assert_eq!(
            mistake("[[\"get\",\n\"2\"]]"),
            "line 2, column 1: command 1 ('get'): expected its arity, a whole number, found a string"
        );
        assert_eq!(mistake(r#"[["get",2]]"#), "line 1, column 2: command 1 ('get'): has no flags (field 3)");
        assert_eq!(
            mistake(r#"[["a|b",2,[]]]"#),
            "line 1, column 3: command 1: expected a command name (printable, no '|'), found 'a|b'"
        );
        assert_eq!(
            mistake(
                r#"[["x",2,[],0,0,0,[],[],[{"begin_search":{"type":"index","spec":{"index":0}},"find_keys":{"type":"unknown"}}]]]"#
            ),
            "line 1, column 73: command 1 ('x'), key spec 1, begin_search: index 0 is outside 1..65536"
        );
        assert_eq!(
            mistake(
                r#"[["x",2,[],0,0,0,[],[],[{"begin_search":{"type":"unknown"},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":0,"limit":0}}}]]]"#
            ),
            "line 1, column 118: command 1 ('x'), key spec 1, find_keys: keystep 0 is outside 1..65536"
        );
        assert_eq!(mistake(r#"[["x",2,[]],["X",1,[]]]"#), "line 1, column 1: 'x' is listed twice");
        assert_eq!(
            mistake(r#"[["x",2,[],0,0,0,[],[],[],[["y|z",2,[]]]]]"#),
            "line 1, column 29: command 1 ('x'), subcommand 1: expected a subcommand of x named x|NAME, found 'y|z'"
        );
        assert_eq!(mistake("[[\"get\""), "line 1, column 8: expected ',' or ']'");
    }
}
