//! Properties over arbitrary bytes: escaping round-trips, the server's quoting parses back to the
//! exact bytes, and neither the parser nor the whole pipeline panics or loses a line.

use crate::common;

use faina_filter::cli::{self, Action};
use faina_filter::escape::{escaped, unescape};
use faina_filter::monitor::{Line, Parser};
use proptest::prelude::*;

/// The server's quoting of one argument (`sdscatrepr`).
fn server_quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b if (0x20..0x7f).contains(&b) => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

fn config(args: &[&str]) -> cli::Config {
    match cli::parse(args.iter().map(std::ffi::OsString::from)) {
        Ok(Action::Run(c)) => *c,
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn escaping_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = escaped(&bytes);
        prop_assert!(!text.bytes().any(|b| b < 0x20 || b == 0x7f));
        prop_assert!(!text.contains('\t') && !text.contains('\n'));
        prop_assert_eq!(unescape(text.as_bytes()).unwrap(), bytes);
    }

    #[test]
    fn server_quoting_parses_to_the_same_bytes(
        args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8),
        crlf in any::<bool>(),
        plus in any::<bool>(),
    ) {
        let mut line = Vec::new();
        if plus {
            line.push(b'+');
        }
        line.extend_from_slice(b"1795636306.848848 [0 127.0.0.1:6000]");
        for a in &args {
            line.push(b' ');
            server_quote(a, &mut line);
        }
        line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let mut parser = Parser::new();
        let Line::Command(call) = parser.parse(&line, false) else { panic!("not a command") };
        let got: Vec<Vec<u8>> = call.args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(got, args);
    }

    #[test]
    fn the_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<bool>()) {
        let mut parser = Parser::new();
        if let Line::Command(call) = parser.parse(&bytes, cut) {
            prop_assert!(!call.args.is_empty());
            for a in call.args.iter() {
                let _ = a.len();
            }
        }
    }

    #[test]
    fn lines_that_look_like_monitor_lines_never_panic(
        head in "[0-9]{1,3}\\.[0-9]{1,7} (\\[[0-9]{0,3} [^\\]]{0,12}\\]|\\(db [0-9]\\)) ?",
        tail in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), Just(b'x'), any::<u8>()], 0..60),
    ) {
        let mut line = head.into_bytes();
        line.extend_from_slice(&tail);
        let mut parser = Parser::new();
        let _ = parser.parse(&line, false);
        let _ = parser.parse(&line, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The whole pipeline, every output mode: no panic, every line accounted for.
    #[test]
    fn the_pipeline_never_panics_and_loses_nothing(
        chunks in proptest::collection::vec(prop_oneof![
            Just(b"1795636306.848848 [0 127.0.0.1:1] \"get\" \"k\"\n".to_vec()),
            Just(b"+1795636306.848849 [3 lua] \"MSET\" \"a\" \"\\x00\" \"b\"\r\n".to_vec()),
            Just(b"OK\n".to_vec()),
            Just(b"-ERR x\n".to_vec()),
            Just(b"\r".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ], 0..30),
    ) {
        let input: Vec<u8> = chunks.concat();
        let dir = common::TempDir::new("prop");
        let path = dir.path("in.txt");
        std::fs::write(&path, &input).unwrap();
        let file = path.to_str().unwrap();
        for args in [&["--format", "json"][..], &["--emit", "tsv"], &["--emit", "keys"], &[], &["--redis-version", "5"]] {
            let mut all = args.to_vec();
            all.push(file);
            let mut out = Vec::new();
            let mut warn = Vec::new();
            let stop = faina_filter::signal::Stop::never();
            let ran = cli::resolve(config(&all), stop, &mut warn).and_then(|plan| faina_filter::run(plan, &mut out, &mut warn));
            if let Err(e @ faina_filter::Error::Read { .. }) = &ran {
                // Random bytes that start like a gzip, zstd, xz or bzip2 stream are refused.
                prop_assert!(e.to_string().contains("-compressed: read it with"), "{}", e);
                continue;
            }
            ran.unwrap();
            prop_assert!(!out.iter().chain(&warn).any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f));
            if args == ["--format", "json"] {
                let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
                let n = |k: &str| report[k].as_u64().unwrap();
                prop_assert_eq!(n("lines"), n("commands") + n("noise") + n("skipped"));
            }
        }
    }
}
