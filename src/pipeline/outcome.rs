//! What one line turned out to be once every step has had it: the one value the pipeline hands
//! the sink per line ([`crate::sink::Sink::line`]), and the one place the line counters are
//! written ([`crate::count::stats::Tally::count`]), so that every line read is exactly one of a
//! command, a command filtered out, noise, or skipped.

use crate::pipeline::decode::Command;
use crate::pipeline::redact::Secrets;

/// A line, finished.
#[derive(Clone, Copy)]
pub struct Outcome<'a> {
    pub is: Is<'a>,
    /// The line was longer than the reader keeps whole, or it is the cut start of an input.
    pub cut: bool,
}

/// What a finished line is.
#[derive(Clone, Copy)]
pub enum Is<'a> {
    /// A command that passed the filters; `secrets` are the arguments to show redacted.
    Command { cmd: &'a Command<'a>, secrets: &'a Secrets },
    /// A command the filters left out.
    Filtered(&'a Command<'a>),
    /// Expected chatter (`OK`, banners, blank lines), or a server's error line when `error`.
    Noise { error: bool },
    /// Not a MONITOR line.
    Skipped,
}

impl<'a> Outcome<'a> {
    /// The command of the line, passed or filtered out: its time places the line.
    #[inline]
    pub fn command(&self) -> Option<&'a Command<'a>> {
        match self.is {
            Is::Command { cmd, .. } | Is::Filtered(cmd) => Some(cmd),
            Is::Noise { .. } | Is::Skipped => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::Table;
    use crate::count::stats::Tally;
    use crate::error::Error;
    use crate::pipeline::decode::{Command, Decoder, NodeNumbers};
    use crate::pipeline::filters::Filters;
    use crate::pipeline::redact::Secrets;
    use crate::pipeline::Pipeline;
    use crate::read::input::LineIn;
    use crate::sink::Sink;

    /// A sink that keeps only its tally and what it was handed.
    #[derive(Default)]
    struct Counting {
        tally: Tally,
        commands: u64,
        /// The tally after each time placed: a line is placed before it is counted.
        placed_before: Vec<u64>,
    }

    impl Sink for Counting {
        fn tally(&mut self) -> &mut Tally {
            &mut self.tally
        }

        fn at(&mut self, _node: u32, _micros: u64) -> Result<(), Error> {
            self.placed_before.push(self.tally.lines);
            Ok(())
        }

        fn command(&mut self, _cmd: &Command<'_>, _secrets: &Secrets) -> Result<(), Error> {
            self.commands += 1;
            Ok(())
        }

        fn finish(self, _warn: &mut dyn std::io::Write) -> Result<(), Error> {
            Ok(())
        }
    }

    /// Lines of every kind: commands known and unknown, in two dbs, with a secret, from two
    /// clients; noise; server errors; broken lines; a timestamp far from the others (an input's
    /// cut start); and any bytes.
    fn line() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(b"1795636306.848848 [0 127.0.0.1:1] \"get\" \"user:1\"\n".to_vec()),
            Just(b"1795636306.848849 [3 lua] \"MSET\" \"a\" \"\\x00\" \"b\" \"v\"\r\n".to_vec()),
            Just(b"1795636306.848850 [0 10.0.0.5:7] \"auth\" \"hunter2\"\n".to_vec()),
            Just(b"1795636306.848851 [0 10.0.0.5:7] \"frobnicate\" \"k\"\n".to_vec()),
            Just(b"5636306.848851 [0 10.0.0.5:7] \"get\" \"k\"\n".to_vec()),
            Just(b"1795636306.848852 [0 1.1.1.1:1] \"set\" \"k\" \"cut".to_vec()),
            Just(b"1795636306.848853\t0\tlua\tget\tk\n".to_vec()),
            Just(b"OK\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-ERR x\n".to_vec()),
            Just(b"NOAUTH Authentication required.\n".to_vec()),
            Just(b"# Server\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Every line read is counted once, as exactly one of a command, a command filtered
        /// out, noise, or skipped, whatever the filters, the inputs and the cut lines; a command
        /// is placed in time before it is counted.
        #[test]
        fn every_line_is_one_thing(
            lines in proptest::collection::vec((line(), 0u32..3, proptest::prelude::any::<bool>()), 0..40),
            filter in 0usize..4,
            redact in proptest::prelude::any::<bool>(),
        ) {
            let filters = match filter {
                0 => Filters::default(),
                1 => Filters { dbs: vec![3], ..Filters::default() },
                2 => Filters { commands: vec![b"get".to_vec()], ..Filters::default() },
                _ => Filters { keys: vec![b"user:*".to_vec()], ..Filters::default() },
            };
            let decoder = Decoder::new(std::sync::Arc::new(Table::builtin()), NodeNumbers::new(None));
            let mut pipeline = Pipeline::new(decoder, true, filters, redact, None);
            let mut sink = Counting::default();
            let mut warn = Vec::new();
            for (bytes, node, cut) in &lines {
                let line = LineIn { node: *node, line: bytes, cut: *cut, dropped: 0, plain: false, long: &[] };
                pipeline.line(&line, &mut sink, &mut warn).unwrap();
                let t = sink.tally;
                proptest::prop_assert_eq!(t.lines, t.commands + t.filtered + t.noise + t.skipped);
            }
            pipeline.settle_all(&mut sink, &mut warn).unwrap();
            let t = sink.tally;
            proptest::prop_assert_eq!(t.lines, lines.len() as u64);
            proptest::prop_assert_eq!(t.lines, t.commands + t.filtered + t.noise + t.skipped);
            proptest::prop_assert_eq!(t.commands, sink.commands);
            proptest::prop_assert!(t.cut_lines <= t.lines && t.server_errors <= t.noise);
            proptest::prop_assert!(t.unknown_commands <= t.commands);
            let cut = lines.iter().filter(|(_, _, cut)| *cut).count() as u64;
            proptest::prop_assert!(t.cut_lines >= cut);
            // Each placing came before its line was counted, and every command was placed.
            proptest::prop_assert!(sink.placed_before.windows(2).all(|w| w[0] < w[1]));
            proptest::prop_assert_eq!(sink.placed_before.len() as u64, t.commands + t.filtered);
            pipeline.finish(&mut warn).unwrap();
        }
    }
}
