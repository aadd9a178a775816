//! The server's own key functions, for the commands whose key specs cannot say it all (SORT,
//! MIGRATE, GEORADIUS, XREAD, the `numkeys` commands, …).

use crate::commands::model::{Access, CommandDef, KeyRef, Special};
use crate::commands::number::atoi;
use crate::commands::spec::access_of;
use crate::format::monitor::Args;

/// The server's own key functions, for the commands whose specs cannot say it all. Each
/// accepts any argument count: a line cut short can hold a call the server would refuse.
pub(super) fn special_keys(cmd: &CommandDef, args: &Args<'_>, out: &mut Vec<KeyRef>) {
    match cmd.special {
        Special::None => {}
        Special::Numkeys { store, count, first } => numkeys_keys(cmd, args, (store, count, first), out),
        Special::SortRo if args.len() > 1 => out.push(KeyRef { pos: 1, access: Access::Read }),
        Special::SortRo => {}
        Special::Sort => sort_keys(args, out),
        Special::Migrate => migrate_keys(args, out),
        Special::Georadius => georadius_keys(args, out),
        Special::Xread => xread_keys(cmd, args, out),
        // SET … GET reads the old value as well; the key is written either way.
        Special::Set if args.len() > 1 => out.push(KeyRef { pos: 1, access: Access::Write }),
        Special::Set => {}
        Special::Delex if args.len() > 1 => out.push(KeyRef { pos: 1, access: Access::Write }),
        Special::Delex => {}
        Special::Bitfield => bitfield_keys(args, out),
        Special::Lcs => lcs_keys(args, out),
    }
}

/// Argument `i` is `word`, in either case.
fn is(args: &Args<'_>, i: usize, word: &str) -> bool {
    args.get(i).eq_ignore_ascii_case(word.as_bytes())
}

/// `genericGetKeys(store, count, first)`: `[dest] numkeys key…` (EVAL, ZUNIONSTORE, LMPOP…).
fn numkeys_keys(
    cmd: &CommandDef,
    args: &Args<'_>,
    (store, count, first): (usize, usize, usize),
    out: &mut Vec<KeyRef>,
) {
    let argc = args.len();
    if count >= argc {
        return;
    }
    // The server reads the count with atoi(): a leading number, else 0.
    let n = atoi(args.get(count));
    if n < 1 || n > (argc - first) as i64 {
        return;
    }
    let access = cmd.specs.iter().rev().map(|s| access_of(s.flags, cmd)).next().unwrap_or(Access::Read);
    out.extend((0..n as usize).map(|i| KeyRef { pos: first + i, access }));
    if store > 0 {
        out.push(KeyRef { pos: store, access: Access::Write });
    }
}

/// `SORT key [BY p] [LIMIT o c] [GET p]… [STORE dest]`: the key, and the STORE destination.
fn sort_keys(args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    if argc < 2 {
        return;
    }
    out.push(KeyRef { pos: 1, access: Access::Read });
    let mut store = None;
    let mut i = 2;
    while i < argc {
        if is(args, i, "limit") {
            i += 2;
        } else if is(args, i, "get") || is(args, i, "by") {
            i += 1;
        } else if is(args, i, "store") && i + 1 < argc {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(pos) = store {
        out.push(KeyRef { pos, access: Access::Write });
    }
}

/// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key…]`.
fn migrate_keys(args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    let (mut first, mut num) = (3, 1);
    if argc > 6 {
        let mut i = 6;
        while i < argc {
            if is(args, i, "keys") {
                if args.get(3).is_empty() {
                    first = i + 1;
                    num = argc - first;
                } else {
                    num = 0;
                }
                break;
            }
            if is(args, i, "auth") {
                i += 1;
            } else if is(args, i, "auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    out.extend((first..(first + num).min(argc)).map(|pos| KeyRef { pos, access: Access::Write }));
}

/// `GEORADIUS key … [STORE dest | STOREDIST dest]`.
fn georadius_keys(args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    if argc < 2 {
        return;
    }
    let mut stored = None;
    let mut i = 5;
    while i < argc {
        if (is(args, i, "store") || is(args, i, "storedist")) && i + 1 < argc {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    out.push(KeyRef { pos: 1, access: Access::Read });
    if let Some(pos) = stored {
        out.push(KeyRef { pos, access: Access::Write });
    }
}

/// `XREAD [COUNT n] [BLOCK ms] STREAMS key… id…` (and XREADGROUP, with `GROUP g c`, `NOACK` and
/// Redis 8.4's `CLAIM min-idle-time`): the first half after STREAMS. The options are the newest
/// server's; an option an older server lacks makes it refuse the call, so it costs nothing there.
fn xread_keys(cmd: &CommandDef, args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    let mut streams = None;
    let mut i = 1;
    while i < argc {
        if is(args, i, "block") || is(args, i, "count") || is(args, i, "claim") {
            i += 1;
        } else if is(args, i, "group") {
            i += 2;
        } else if is(args, i, "noack") {
        } else if is(args, i, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(at) = streams else { return };
    let num = argc - at - 1;
    if num == 0 || num % 2 != 0 {
        return;
    }
    // The spec says how the streams are used (XREADGROUP: read, though the group is written).
    let access = cmd.specs.first().map_or(Access::Read, |s| access_of(s.flags, cmd));
    out.extend((at + 1..at + 1 + num / 2).map(|pos| KeyRef { pos, access }));
}

/// `BITFIELD key [GET …] [SET …] [INCRBY …] [OVERFLOW …]`: a read unless it sets, or is not
/// understood (the server then takes it for a write).
fn bitfield_keys(args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    if argc < 2 {
        return;
    }
    let mut readonly = true;
    let mut i = 2;
    while i < argc {
        let remaining = argc - i - 1;
        if is(args, i, "get") && remaining >= 2 {
            i += 3;
        } else if (is(args, i, "set") || is(args, i, "incrby")) && remaining >= 3 {
            readonly = false;
            i += 4;
        } else if is(args, i, "overflow") && remaining >= 1 {
            i += 2;
        } else {
            readonly = false;
            break;
        }
    }
    out.push(KeyRef { pos: 1, access: if readonly { Access::Read } else { Access::Write } });
}

/// `STRALGO LCS [KEYS a b] [STRINGS s1 s2] …` (Redis 6.x): the two arguments after a KEYS that
/// comes before any STRINGS.
fn lcs_keys(args: &Args<'_>, out: &mut Vec<KeyRef>) {
    let argc = args.len();
    for i in 1..argc {
        if is(args, i, "strings") {
            return;
        }
        if is(args, i, "keys") && argc - 1 - i >= 2 {
            out.extend([i + 1, i + 2].map(|pos| KeyRef { pos, access: Access::Read }));
            return;
        }
    }
}
