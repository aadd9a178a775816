//! The MONITOR line parser and the command table on arbitrary bytes, whole and cut: they must
//! never panic, what the parser parses must be arguments it can hand back, and every key the
//! table finds must be one of those arguments.
#![no_main]

use faina_filter::commands::Table;
use faina_filter::escape::{escaped, unescape};
use faina_filter::monitor::{Line, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = Parser::new();
    let table = Table::shared();
    let mut keys = Vec::new();
    for cut in [false, true] {
        if let Line::Command(call) = parser.parse(data, cut) {
            assert!(!call.args.is_empty());
            assert!(!call.header.ts.is_empty());
            let args: Vec<&[u8]> = call.args.iter().collect();
            for arg in &args {
                let shown = escaped(arg);
                assert!(!shown.bytes().any(|b| b < 0x20 || b == 0x7f));
                assert_eq!(unescape(shown.as_bytes()).as_deref(), Some(*arg));
            }
            let found = table.lookup(args[0], args.get(1).copied());
            keys.clear();
            table.keys(found, &call.args, &mut keys);
            assert!(keys.iter().all(|k| k.pos > 0 && k.pos < args.len()));
        }
    }
});
