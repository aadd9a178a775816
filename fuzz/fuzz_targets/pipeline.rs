//! The whole pipeline on arbitrary input, in every output mode: no panic, every line accounted
//! for, no control byte (nor bidirectional control) out.
#![no_main]

use std::ffi::OsString;

use faina_filter::cli::{self, Action};
use faina_filter::Session;
use libfuzzer_sys::fuzz_target;

const MODES: [&[&str]; 5] = [
    &["--format", "json", "--top", "3"],
    &["--emit", "tsv"],
    &["--emit", "keys", "--header"],
    &["--redis-version", "5", "--max-keys", "4"],
    // Periods merged into tables smaller than their union: floors, and the heaviest kept.
    &["--every", "1s", "--window", "3s", "--max-keys", "2"],
];

fuzz_target!(|data: &[u8]| {
    for mode in MODES {
        let Ok(Action::Run(config)) = cli::parse(mode.iter().map(OsString::from)) else { unreachable!() };
        let mut out = Vec::new();
        let mut warn = Vec::new();
        let plan = cli::resolve(*config, faina_filter::signal::Stop::never(), &mut warn).unwrap();
        let mut session = Session::new(&plan, &mut out, None).unwrap();
        // Records also with lines over 256 bytes compacted: the long-line paths.
        let fed = if mode[0] == "--emit" && mode[1] == "keys" {
            session.feed_small_lines(data, &mut warn)
        } else {
            session.feed(data, &mut warn)
        };
        if let Err(e @ faina_filter::Error::Read { .. }) = &fed {
            // A compressed input (gzip, zstd, xz, bzip2) is refused at its first bytes.
            assert!(e.to_string().contains("-compressed: read it with"), "{e}");
            continue;
        }
        fed.unwrap();
        session.finish(&mut warn).unwrap();
        assert!(!out.iter().chain(&warn).any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f));
        // Nor a bidirectional control, which would let one key pass for another.
        let bidi = |c: char| matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!String::from_utf8_lossy(&out).chars().chain(String::from_utf8_lossy(&warn).chars()).any(bidi));
        if mode[1] == "keys" {
            // The column names, then records of seven columns, the last a slot.
            let mut lines = out.split(|&b| b == b'\n');
            assert_eq!(lines.next(), Some(&b"timestamp\tdb\tclient\tcommand\tkey\taccess\tslot"[..]));
            for record in lines.filter(|l| !l.is_empty()) {
                let fields: Vec<&[u8]> = record.split(|&b| b == b'\t').collect();
                assert_eq!(fields.len(), 7, "{:?}", String::from_utf8_lossy(record));
                let slot: u16 = std::str::from_utf8(fields[6]).unwrap().parse().unwrap();
                assert!(slot < 16384);
            }
        }
        if mode[0] == "--format" {
            let text = std::str::from_utf8(&out).unwrap();
            assert!(text.starts_with("{\"lines\":") && text.ends_with("]}\n"));
        }
    }
});
