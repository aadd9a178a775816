//! A row of the built-in table (`table.tsv`, as `generate.py` writes it) into a [`CommandDef`].

use crate::commands::model::{flag, Begin, CommandDef, Find, KeySpec, Special};

pub(super) fn parse_row(line: &str) -> Option<CommandDef> {
    let mut cols = line.split('\t');
    let name = cols.next()?.to_string();
    let arity = cols.next()?.parse().ok()?;
    let flags = match cols.next()? {
        "-" => Vec::new(),
        list => list.split(',').map(str::to_string).collect(),
    };
    let special = match cols.next()? {
        "-" => Special::None,
        "sort" => Special::Sort,
        "sortRO" => Special::SortRo,
        "migrate" => Special::Migrate,
        "georadius" => Special::Georadius,
        "xread" => Special::Xread,
        "set" => Special::Set,
        "delex" => Special::Delex,
        "bitfield" => Special::Bitfield,
        "lcs" => Special::Lcs,
        "sintercard" | "zunionInterDiff" | "lmpop" | "zmpop" => Special::Numkeys { store: 0, count: 1, first: 2 },
        "zunionInterDiffStore" => Special::Numkeys { store: 1, count: 2, first: 3 },
        "eval" | "function" | "blmpop" | "bzmpop" => Special::Numkeys { store: 0, count: 2, first: 3 },
        _ => return None,
    };
    let specs = match cols.next()? {
        "-" => Vec::new(),
        list => list.split(';').map(parse_spec).collect::<Option<Vec<_>>>()?,
    };
    let origin = cols.next()?.to_string();
    if cols.next().is_some() {
        return None;
    }
    Some(CommandDef::new(name, arity, flags, specs, special, origin))
}

fn parse_spec(text: &str) -> Option<KeySpec> {
    let mut parts = text.split('/');
    let flags = parts.next()?.split(',').try_fold(0, |acc, f| Some(acc | flag::parse(f)?))?;
    let begin: Vec<&str> = parts.next()?.split(':').collect();
    let begin = match begin.as_slice() {
        ["index", pos] => Begin::Index(pos.parse().ok()?),
        ["keyword", word, from] => Begin::Keyword(word.as_bytes().to_vec(), from.parse().ok()?),
        ["unknown"] => Begin::Unknown,
        _ => return None,
    };
    let find: Vec<&str> = parts.next()?.split(':').collect();
    let find = match find.as_slice() {
        ["range", last, step, limit] => {
            Find::Range { last: last.parse().ok()?, step: step.parse().ok()?, limit: limit.parse().ok()? }
        }
        ["keynum", index, first, step] => {
            Find::Keynum { index: index.parse().ok()?, first: first.parse().ok()?, step: step.parse().ok()? }
        }
        ["unknown"] => Find::Unknown,
        _ => return None,
    };
    Some(KeySpec { flags, begin, find })
}
