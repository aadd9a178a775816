//! The MONITOR line parser on arbitrary bytes, whole and cut: it must never panic, and what it
//! parses must be arguments it can hand back.
#![no_main]

use faina_filter::escape::{escaped, unescape};
use faina_filter::monitor::{Line, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = Parser::new();
    for cut in [false, true] {
        if let Line::Command(header) = parser.parse(data, cut) {
            assert!(!parser.is_empty());
            assert!(!header.ts.is_empty());
            for arg in parser.args(data) {
                let shown = escaped(arg);
                assert!(!shown.bytes().any(|b| b < 0x20 || b == 0x7f));
                assert_eq!(unescape(shown.as_bytes()).as_deref(), Some(arg));
            }
        }
    }
});
