//! The packet-capture decoder on arbitrary bytes, as a pcap and as a pcapng file, in every
//! output mode: no panic, no control byte out, and its closing words always said.
#![no_main]

use std::ffi::OsString;

use faina_filter::cli::{self, Action};
use faina_filter::Session;
use libfuzzer_sys::fuzz_target;

const MODES: [&[&str]; 4] =
    [&["--format", "json"], &["--emit", "tsv"], &["--emit", "keys", "--header"], &["--every", "1s", "--window", "3s"]];

/// A pcap file header (Ethernet, or the link type the input's first byte picks), then the input
/// as its records; or a pcapng section header, then the input as its blocks.
fn capture(data: &[u8]) -> Vec<u8> {
    let (first, rest) = data.split_first().unwrap_or((&0, &[]));
    if first & 1 == 0 {
        let link: u32 = [1, 113, 276, 0, 101, 108][usize::from(first >> 1) % 6];
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0];
        file.extend(link.to_le_bytes());
        file.extend_from_slice(rest);
        file
    } else {
        let mut file = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
        file.extend([0xff; 8]);
        file.extend([28, 0, 0, 0]);
        file.extend_from_slice(rest);
        file
    }
}

fuzz_target!(|data: &[u8]| {
    let file = capture(data);
    for mode in MODES {
        let Ok(Action::Run(config)) = cli::parse(mode.iter().map(OsString::from)) else { unreachable!() };
        let mut out = Vec::new();
        let mut warn = Vec::new();
        let plan = cli::resolve(*config, faina_filter::signal::Stop::never(), &mut warn).unwrap();
        let mut session = Session::new(&plan, &mut out, None).unwrap();
        session.feed(&file[..], &mut warn).unwrap();
        session.finish(&mut warn).unwrap();
        assert!(!out.iter().chain(&warn).any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f));
        assert!(std::str::from_utf8(&warn).unwrap().contains("packets,"));
    }
});
