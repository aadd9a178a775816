//! A call's keys by its command's key specs, as the server's `getKeysUsingKeySpecs` finds them.

use crate::commands::model::{flag, Access, Begin, CommandDef, Find, KeyRef, Special};
use crate::commands::number::parse_i64;
use crate::format::monitor::Args;

/// `COMMAND GETKEYS` by key specs (the server's `getKeysUsingKeySpecs`). False means a spec could
/// not say, and the command's special function decides.
pub(super) fn keys_from_specs(cmd: &CommandDef, args: &Args<'_>, out: &mut Vec<KeyRef>) -> bool {
    let argc_i = args.len() as i64;
    let args = |i: usize| args.get(i);
    for spec in &cmd.specs {
        if spec.flags & flag::NOT_KEY != 0 {
            continue;
        }
        let first: i64 = match &spec.begin {
            Begin::Index(pos) => *pos as i64,
            Begin::Keyword(word, from) => {
                let found = if *from > 0 {
                    (*from..argc_i - 1).find(|&i| args(i as usize).eq_ignore_ascii_case(word))
                } else {
                    let start = argc_i + from;
                    (2..=start).rev().find(|&i| i < argc_i && args(i as usize).eq_ignore_ascii_case(word))
                };
                match found {
                    Some(i) => i + 1,
                    // An incomplete spec whose keyword is not where the server looks (MIGRATE's
                    // KEYS as the last argument) cannot say there are no keys after it: the key
                    // function decides, as it does when the keyword is found.
                    None if spec.flags & flag::INCOMPLETE != 0 && !matches!(cmd.special, Special::None) => {
                        return false
                    }
                    None => continue,
                }
            }
            Begin::Unknown => return false,
        };
        let (first, last, step) = match spec.find {
            Find::Range { last, step, limit } => {
                let end = if last >= 0 {
                    first + last
                } else if limit == 0 {
                    argc_i + last
                } else {
                    first + ((argc_i - first) / limit + last)
                };
                (first, end, step as i64)
            }
            Find::Keynum { index, first: skip, step } => {
                let at = first + index as i64;
                if at >= argc_i {
                    return false;
                }
                let Some(n) = parse_i64(args(at as usize)).filter(|&n| n >= 0) else { return false };
                let first = first + skip as i64;
                // n keys `step` apart (MSETEX's key-value pairs: step 2). Servers before the
                // fix of redis/redis#15408 stop after n arguments, half of MSETEX's keys.
                let step = step.max(1) as i64;
                (first, first.saturating_add(n.saturating_sub(1).saturating_mul(step)), step)
            }
            Find::Unknown => return false,
        };
        if last >= argc_i || last < first || first >= argc_i {
            return false;
        }
        let access = access_of(spec.flags, cmd);
        let mut i = first;
        while i <= last {
            out.push(KeyRef { pos: i as usize, access });
            i += step.max(1);
        }
        if spec.flags & flag::INCOMPLETE != 0 {
            return false;
        }
    }
    true
}

pub(super) fn access_of(spec_flags: u16, cmd: &CommandDef) -> Access {
    if cmd.readonly_module {
        Access::Read
    } else if spec_flags & (flag::RW | flag::OW | flag::RM) != 0 {
        Access::Write
    } else if spec_flags & flag::RO != 0 || !cmd.writes() {
        Access::Read
    } else {
        Access::Write
    }
}
