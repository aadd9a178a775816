//! The per-line path: decode → account → filter → redact → the sink.
//!
//! Every line read is tallied once (command, filtered, noise or skipped); a skipped line goes to
//! `--rejects`, a server error to standard error ([`crate::notices`]); a command that passes the
//! filters reaches the sink with its secrets found.

use std::fs::File;
use std::io::{BufWriter, Write};

use crate::commands::KeyRef;
use crate::decode::{Command, Decoded, Decoder};
use crate::error::Error;
use crate::filters::{Filters, Verdict};
use crate::input::LineIn;
use crate::monitor::looks_like_a_reply;
use crate::notices::ServerErrors;
use crate::redact::{redact_loose, Secrets};
use crate::sink::Sink;

/// The steps between the decoder and the sink, and what they keep.
pub struct Pipeline {
    decoder: Decoder,
    /// Whether the sink needs commands' keys (records of whole commands do not, unless a key
    /// filter does).
    keys: bool,
    steps: Steps,
}

struct Steps {
    filters: Filters,
    /// Some filter is set.
    filtering: bool,
    /// The keys of a command that `--key` keeps.
    kept: Vec<KeyRef>,
    redact: bool,
    secrets: Secrets,
    /// No secrets: what commands are shown with under `--no-redact`.
    none: Secrets,
    rejects: Option<Rejects>,
    server_errors: ServerErrors,
    /// For the closing words: were there commands, and how many skipped lines looked like
    /// another command's reply (INFO, KEYS *) pasted by mistake.
    commands: bool,
    skipped: u64,
    pasted: u64,
}

impl Pipeline {
    pub fn new(decoder: Decoder, keys: bool, filters: Filters, redact: bool, rejects: Option<Rejects>) -> Pipeline {
        let keys = keys || !filters.keys.is_empty();
        let steps = Steps {
            filtering: !filters.is_empty(),
            filters,
            kept: Vec::new(),
            redact,
            secrets: Secrets::default(),
            none: Secrets::default(),
            rejects,
            server_errors: ServerErrors::default(),
            commands: false,
            skipped: 0,
            pasted: 0,
        };
        Pipeline { decoder, keys, steps }
    }

    /// One line, from decoding to the sink.
    #[inline]
    pub fn line<S: Sink>(&mut self, line: &LineIn<'_>, sink: &mut S, warn: &mut dyn Write) -> Result<(), Error> {
        let decoded = self.decoder.decode(line, self.keys);
        if let Decoded::Command(cmd) = &decoded {
            sink.at(cmd.header.micros)?;
        }
        let tally = sink.tally();
        tally.lines += 1;
        tally.cut_lines += u64::from(line.cut);
        match &decoded {
            Decoded::Command(cmd) => self.steps.command(cmd, sink),
            Decoded::Noise => {
                tally.noise += 1;
                Ok(())
            }
            Decoded::ServerError(text) => {
                tally.noise += 1;
                tally.server_errors += 1;
                self.steps.server_errors.seen(text, warn);
                Ok(())
            }
            Decoded::Skipped => {
                tally.skipped += 1;
                self.steps.skipped(line.line)
            }
        }
    }

    /// The end of the run: the rejects written out, the closing words said.
    pub fn finish(self, warn: &mut dyn Write) -> Result<(), Error> {
        let steps = self.steps;
        if let Some(rejects) = steps.rejects {
            rejects.finish()?;
        }
        steps.server_errors.finish(warn);
        if !steps.commands && steps.pasted > 0 && steps.pasted * 2 >= steps.skipped {
            let _ = writeln!(
                warn,
                "faina-filter: the input looks like the reply to another command (INFO, KEYS, …), not MONITOR output"
            );
        }
        Ok(())
    }
}

impl Steps {
    /// Filter, tally, redact, hand over.
    #[inline]
    fn command<S: Sink>(&mut self, cmd: &Command<'_>, sink: &mut S) -> Result<(), Error> {
        self.commands = true;
        let narrowed;
        let cmd = match self.filtering.then(|| self.filters.apply(cmd, &mut self.kept)) {
            None | Some(Verdict::Passes) => cmd,
            Some(Verdict::PassesWithKeys(keys)) => {
                narrowed = Command { keys, ..*cmd };
                &narrowed
            }
            Some(Verdict::Fails) => {
                sink.tally().filtered += 1;
                return Ok(());
            }
        };
        let tally = sink.tally();
        tally.commands += 1;
        tally.unknown_commands += u64::from(cmd.id.is_none());
        let secrets = if self.redact { self.secrets.find(cmd.name, &cmd.args) } else { &self.none };
        sink.command(cmd, secrets)
    }

    fn skipped(&mut self, line: &[u8]) -> Result<(), Error> {
        self.skipped += 1;
        self.pasted += u64::from(looks_like_a_reply(line));
        match &mut self.rejects {
            Some(rejects) => rejects.write(line, self.redact),
            None => Ok(()),
        }
    }
}

/// The `--rejects` file: every skipped line, the credentials still recognisable in it redacted.
pub struct Rejects {
    file: BufWriter<File>,
    name: String,
    scratch: Vec<u8>,
}

impl Rejects {
    /// Creates the file, for its owner only: rejected lines may hold what redaction cannot
    /// recognise. (Whether it may be created at all is checked before: see `lib.rs`.)
    pub fn create(path: &std::ffi::OsStr) -> Result<Rejects, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let name = crate::escape::escaped(path.as_encoded_bytes());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|err| Error::Rejects { name: name.clone(), err })?;
        Ok(Rejects { file: BufWriter::new(file), name, scratch: Vec::new() })
    }

    fn write(&mut self, line: &[u8], redact: bool) -> Result<(), Error> {
        let written = if redact {
            self.scratch.clear();
            redact_loose(line, &mut self.scratch);
            self.file.write_all(&self.scratch)
        } else {
            self.file.write_all(line)
        };
        written.map_err(|err| Error::Rejects { name: self.name.clone(), err })
    }

    fn finish(mut self) -> Result<(), Error> {
        self.file.flush().map_err(|err| Error::Rejects { name: self.name, err })
    }
}
