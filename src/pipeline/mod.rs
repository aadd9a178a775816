//! The per-line path: decode → account → filter → redact → the sink.
//!
//! Every line read reaches the sink once, finished ([`crate::pipeline::outcome`]: a command,
//! filtered, noise or skipped); a skipped line goes to `--rejects` too, a server error to standard
//! error ([`crate::pipeline::notices`]); a command that passes the filters carries its secrets found.

pub mod decode;
pub mod filters;
pub mod glob;
pub mod notices;
pub mod outcome;
pub mod redact;

use std::fs::File;
use std::io::{BufWriter, Write};

use crate::commands::KeyRef;
use crate::error::Error;
use crate::format::long_arg::LongArg;
use crate::format::monitor::looks_like_a_reply;
use crate::pipeline::decode::{Command, Decoded, Decoder};
use crate::pipeline::filters::{Filters, Verdict};
use crate::pipeline::notices::ServerErrors;
use crate::pipeline::outcome::{Is, Outcome};
use crate::pipeline::redact::{redact_loose, CredentialIds, Secrets};
use crate::read::capture::CallIn;
use crate::read::input::LineIn;
use crate::sink::Sink;

/// How far an input's first command may be from its next before the first is taken for a
/// fragment: a capture that starts inside a line (`tail -c`, `split -b`, a file rotated
/// mid-write) can start inside a timestamp, and `1795787786.377009` cut to `5787786.377009`
/// would make the capture start in 1970. A cut timestamp has lost leading digits: only a first
/// timestamp with fewer digits of seconds than the next is suspect.
const IMPLAUSIBLE_GAP: u64 = 86_400 * 1_000_000;

/// Where an input is in its first lines.
enum Start {
    /// Nothing read yet: the first line may be a fragment.
    Fresh,
    /// The first line was a command: held until the next command says whether its timestamp
    /// is plausible.
    Holding(Held),
    Settled,
}

/// A held first line, and its timestamp.
struct Held {
    line: Vec<u8>,
    cut: bool,
    dropped: u64,
    long: Vec<LongArg>,
    micros: u64,
    /// Digits of seconds in its timestamp.
    digits: usize,
}

/// Whether a line is the cut start of an input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fragment {
    No,
    /// It is: counted as cut and skipped.
    Yes,
    /// An input's first line, not a command: a fragment when it is skipped.
    IfSkipped,
}

/// The digits of seconds in a timestamp as written.
fn second_digits(ts: &[u8]) -> usize {
    ts.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The steps between the decoder and the sink, and what they keep.
pub struct Pipeline {
    starts: Vec<Start>,
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
    /// The keys of a command that are not secrets.
    unsecret: Vec<KeyRef>,
    redact: bool,
    /// The commands whose lines are looked into for secrets.
    credentials: CredentialIds,
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
            unsecret: Vec::new(),
            redact,
            credentials: CredentialIds::default(),
            secrets: Secrets::default(),
            none: Secrets::default(),
            rejects,
            server_errors: ServerErrors::new(redact),
            commands: false,
            skipped: 0,
            pasted: 0,
        };
        Pipeline { starts: Vec::new(), decoder, keys, steps }
    }

    /// This pipeline's lines continue an input another one began (a later range of a file read
    /// on every core): the first line of `node` is not the input's first, so no fragment.
    pub fn continuing(mut self, node: u32) -> Pipeline {
        let node = node as usize;
        self.starts.resize_with(self.starts.len().max(node + 1), || Start::Fresh);
        self.starts[node] = Start::Settled;
        self.steps.server_errors = std::mem::take(&mut self.steps.server_errors).apart();
        self
    }

    /// Whether a pipeline [`Pipeline::continuing`] an input can be [`Pipeline::join`]ed to
    /// the one before exactly (it counted each server error message by itself).
    pub fn joinable(&self) -> bool {
        self.steps.server_errors.each_counted()
    }

    /// Whether the first line of `node` is held still (nothing has followed it yet).
    pub fn holding(&self, node: u32) -> bool {
        matches!(self.starts.get(node as usize), Some(Start::Holding(_)))
    }

    /// Takes over what `later` (a pipeline [`Pipeline::continuing`] this one's input) kept for
    /// the closing words, saying on `warn` the server errors that are new here as they would
    /// have been said had one pipeline read both.
    pub fn join(&mut self, later: Pipeline, warn: &mut dyn Write) {
        self.decoder.join(&later.decoder);
        let (mine, theirs) = (&mut self.steps, later.steps);
        mine.server_errors.absorb(&theirs.server_errors, warn);
        mine.commands |= theirs.commands;
        mine.skipped += theirs.skipped;
        mine.pasted += theirs.pasted;
    }

    /// One line, from decoding to the sink; the first lines of an input are looked at first.
    #[inline]
    pub fn line<S: Sink>(&mut self, line: &LineIn<'_>, sink: &mut S, warn: &mut dyn Write) -> Result<(), Error> {
        match self.starts.get(line.node as usize) {
            Some(Start::Settled) => self.process(line, Fragment::No, sink, warn),
            _ => self.start_of_input(line, sink, warn),
        }
    }

    /// The first lines of an input: a first line that is skipped is a fragment (counted cut
    /// too); a first command waits for the next line, and is a fragment when that is a command
    /// whose timestamp is implausibly far from its own.
    #[cold]
    #[inline(never)]
    fn start_of_input<S: Sink>(&mut self, line: &LineIn<'_>, sink: &mut S, warn: &mut dyn Write) -> Result<(), Error> {
        let node = line.node as usize;
        if self.starts.len() <= node {
            self.starts.resize_with(node + 1, || Start::Fresh);
        }
        let stamp = crate::format::monitor::peek_timestamp(line.line).map(|(micros, ts)| (micros, second_digits(ts)));
        if stamp.is_none() && matches!(self.starts[node], Start::Fresh) {
            // A first line that is not a command: a fragment if it is skipped.
            self.starts[node] = Start::Settled;
            return self.process(line, Fragment::IfSkipped, sink, warn);
        }
        match (std::mem::replace(&mut self.starts[node], Start::Settled), stamp) {
            (Start::Fresh, Some((micros, digits))) => {
                let held = Held {
                    line: line.line.to_vec(),
                    cut: line.cut,
                    dropped: line.dropped,
                    long: line.long.to_vec(),
                    micros,
                    digits,
                };
                self.starts[node] = Start::Holding(held);
                Ok(())
            }
            (Start::Holding(held), Some((micros, digits))) => {
                let fragment = held.digits < digits && held.micros.abs_diff(micros) > IMPLAUSIBLE_GAP;
                let fragment = if fragment { Fragment::Yes } else { Fragment::No };
                self.release(line.node, held, fragment, sink, warn)?;
                self.process(line, Fragment::No, sink, warn)
            }
            (Start::Holding(held), None) => {
                // Not a command next: nothing to compare with, and lines stay in order.
                self.release(line.node, held, Fragment::No, sink, warn)?;
                self.process(line, Fragment::No, sink, warn)
            }
            (_, _) => self.process(line, Fragment::No, sink, warn),
        }
    }

    /// One request read whole by another input (a packet capture): tallied as a line, then
    /// filtered, redacted and handed on like a command parsed from one. Its time is the
    /// packet's, so nothing at the start of the input is suspect.
    pub fn call<S: Sink>(&mut self, call: &CallIn<'_>, sink: &mut S) -> Result<(), Error> {
        let cmd = self.decoder.decode_call(call, self.keys);
        self.steps.command(&cmd, call.cut, sink)
    }

    /// Processes the held first line of `node`, if any: its input ended, or went quiet.
    pub fn settle<S: Sink>(&mut self, node: u32, sink: &mut S, warn: &mut dyn Write) -> Result<(), Error> {
        let Some(start) = self.starts.get_mut(node as usize) else { return Ok(()) };
        match std::mem::replace(start, Start::Settled) {
            Start::Holding(held) => self.release(node, held, Fragment::No, sink, warn),
            _ => Ok(()),
        }
    }

    /// [`Pipeline::settle`] for every input (a live stream went quiet).
    pub fn settle_all<S: Sink>(&mut self, sink: &mut S, warn: &mut dyn Write) -> Result<(), Error> {
        for node in 0..self.starts.len() {
            if matches!(self.starts[node], Start::Holding(_)) {
                self.settle(node as u32, sink, warn)?;
            }
        }
        Ok(())
    }

    fn release<S: Sink>(
        &mut self,
        node: u32,
        held: Held,
        fragment: Fragment,
        sink: &mut S,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let line =
            LineIn { node, line: &held.line, cut: held.cut, dropped: held.dropped, plain: false, long: &held.long };
        self.process(&line, fragment, sink, warn)
    }

    /// Decodes, accounts for and hands on one line; a `fragment` (a cut start of an input) is
    /// counted as cut and skipped.
    #[inline]
    fn process<S: Sink>(
        &mut self,
        line: &LineIn<'_>,
        fragment: Fragment,
        sink: &mut S,
        warn: &mut dyn Write,
    ) -> Result<(), Error> {
        let decoded = match fragment {
            Fragment::Yes => Decoded::Skipped,
            Fragment::No | Fragment::IfSkipped => self.decoder.decode(line, self.keys),
        };
        let cut = line.cut;
        match &decoded {
            Decoded::Command(cmd) => self.steps.command(cmd, cut, sink),
            Decoded::Noise => sink.line(Outcome { is: Is::Noise { error: false }, cut }),
            Decoded::ServerError(text) => {
                sink.line(Outcome { is: Is::Noise { error: true }, cut })?;
                if let Some(shown) = self.steps.server_errors.seen(text, warn) {
                    sink.notice(&shown);
                }
                Ok(())
            }
            Decoded::Skipped => {
                sink.line(Outcome { is: Is::Skipped, cut: cut || fragment != Fragment::No })?;
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
    /// Redact, filter, hand over. A secret is never a key, whatever a `--commands` table says:
    /// its position is taken out of the keys before any filter or count sees them.
    // Always inlined: a call per line costs more than the two copies of its code.
    #[inline(always)]
    fn command<S: Sink>(&mut self, cmd: &Command<'_>, cut: bool, sink: &mut S) -> Result<(), Error> {
        self.commands = true;
        let secrets = match (self.redact, cmd.id) {
            (false, _) => &self.none,
            (true, Some(id)) if !self.credentials.carries(id, cmd.name) => &self.none,
            (true, Some(_)) => self.secrets.find(cmd.name, &cmd.args),
            (true, None) => self.secrets.find_unknown(cmd.name, &cmd.args),
        };
        let unsecret;
        let cmd = if !secrets.is_empty() && cmd.keys.iter().any(|k| secrets.contains(k.pos)) {
            self.unsecret.clear();
            self.unsecret.extend(cmd.keys.iter().filter(|k| !secrets.contains(k.pos)));
            unsecret = Command { keys: &self.unsecret, ..*cmd };
            &unsecret
        } else {
            cmd
        };
        let narrowed;
        let cmd = match self.filtering.then(|| self.filters.apply(cmd, &mut self.kept)) {
            None | Some(Verdict::Passes) => cmd,
            Some(Verdict::PassesWithKeys(keys)) => {
                narrowed = Command { keys, ..*cmd };
                &narrowed
            }
            Some(Verdict::Fails) => return sink.line(Outcome { is: Is::Filtered(cmd), cut }),
        };
        sink.line(Outcome { is: Is::Command { cmd, secrets }, cut })
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
        let name = crate::format::escape::escaped(path.as_encoded_bytes());
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
