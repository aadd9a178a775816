//! The records sink (`--emit tsv`, `--emit keys`): each command that passed becomes its records,
//! in the columns [`crate::format::record`] defines and writes.

use std::io::Write;

use crate::cli::config::Emit;
use crate::commands::Access;
use crate::count::stats::{share_of, Tally};
use crate::error::Error;
use crate::format::record::{self, Lead, Writer};
use crate::pipeline::decode::Command;
use crate::pipeline::redact::{Secrets, REDACTED};
use crate::sink::Sink;

/// Writes the record(s) of one command.
#[inline]
fn write<W: Write>(out: &mut Writer<W>, emit: Emit, cmd: &Command<'_>, secrets: &Secrets) -> std::io::Result<()> {
    let h = &cmd.header;
    out.lead(&Lead { node: cmd.node_label, ts: h.ts, db: h.db, client: h.client }, cmd.name);
    match emit {
        Emit::Tsv => {
            // The arguments after the name, the secrets among them redacted.
            let args = (1..cmd.args.len()).map(|i| if secrets.contains(i) { REDACTED } else { cmd.args.get(i) });
            out.command(args, reply(cmd, 1, 0));
        }
        Emit::Keys => {
            let n = cmd.keys.len() as u64;
            for (i, key) in cmd.keys.iter().enumerate() {
                let bytes = cmd.args.get(key.pos);
                let slot = cmd.args.long(key.pos).map_or_else(|| crate::count::cluster::slot(bytes), |long| long.slot);
                out.key(bytes, key.access == Access::Write, slot, reply(cmd, n, i));
            }
        }
    }
    out.end_command()
}

/// The reply columns of record `i` of `n` of a command (a tsv record: the one of one).
#[inline]
fn reply(cmd: &Command<'_>, n: u64, i: usize) -> record::ReplyColumns {
    match cmd.packet {
        false => record::ReplyColumns::Absent,
        true => packet_reply(cmd, n, i),
    }
}

/// [`reply`] of a request read from packets; apart, so that what it needs is not made ready
/// for every record (most are not from packets).
#[inline(never)]
fn packet_reply(cmd: &Command<'_>, n: u64, i: usize) -> record::ReplyColumns {
    match cmd.reply {
        None => record::ReplyColumns::Unseen,
        Some(r) => {
            record::ReplyColumns::Share { bytes: share_of(r.bytes, n, i), micros: share_of(r.nanos / 1000, n, i) }
        }
    }
}

/// The records sink: every command's records, as they come; the lines that were not commands
/// only counted, and said on standard error at the end.
pub struct Records<W: Write> {
    writer: Writer<W>,
    emit: Emit,
    /// The column names still to be written (`--header`), and whether a node column leads.
    header: Option<bool>,
    tally: Tally,
    /// Arguments of lines over the reader's limit, written as their head only.
    long_args: u64,
    /// Gathering a part of the records ([`Records::gathering`]): whether the first command came
    /// from packets (the header's reply columns), told rather than written.
    first_packet: Option<Option<bool>>,
}

/// The records of a part of the input, gathered in memory apart from the others, and what
/// the records sink counts of them: [`Records::append`]ed in input order, they are what one
/// sink given all the commands writes and says.
pub struct Gathered {
    records: Vec<u8>,
    /// Whether its first command came from packets; `None` when it had none.
    first_packet: Option<bool>,
    tally: Tally,
    long_args: u64,
}

impl Gathered {
    /// No records, in `buffer` emptied (or a new one, when it is over `keep` bytes).
    pub fn spent(mut buffer: Vec<u8>, keep: usize) -> Gathered {
        buffer.clear();
        if buffer.capacity() > keep {
            buffer = Vec::new();
        }
        Gathered { records: buffer, first_packet: None, tally: Tally::default(), long_args: 0 }
    }

    /// Gives back the buffer of the records (for the next part to gather into).
    pub fn into_buffer(self) -> Vec<u8> {
        self.records
    }
}

impl<W: Write> Records<W> {
    /// Records of `emit` to `out`; with `header`, keys records start with a line of column names
    /// (`node` first when the inputs are `nodes`).
    pub fn new(out: W, emit: Emit, header: bool, nodes: bool) -> Result<Records<W>, Error> {
        let writer = Writer::new(out);
        let header = (header && emit == Emit::Keys).then_some(nodes);
        Ok(Records { writer, emit, header, tally: Tally::default(), long_args: 0, first_packet: None })
    }

    /// The column names, before the first record: with the reply columns when it has them.
    #[cold]
    fn write_header(&mut self, packet: bool) {
        let Some(nodes) = self.header.take() else { return };
        match &mut self.first_packet {
            Some(first) => *first = Some(packet),
            None => self.writer.header(nodes, packet),
        }
    }

    /// Writes out the records of `part`, the part of the input that follows those written so
    /// far, and counts them as if they were written here (the header first, when it is due).
    pub fn append(&mut self, part: &Gathered) -> Result<(), Error> {
        if let Some(packet) = part.first_packet {
            self.write_header(packet);
        }
        self.tally.merge(&part.tally);
        self.long_args += part.long_args;
        self.writer.records(&part.records).map_err(Error::Write)
    }
}

impl Records<std::io::Sink> {
    /// Records of `emit` gathered in `buf` (cleared first), to be [`Records::append`]ed to
    /// the run's sink; they have no header, and their nodes are the commands' own.
    pub fn gathering(emit: Emit, buf: Vec<u8>) -> Records<std::io::Sink> {
        let writer = Writer::gathering(buf);
        Records { writer, emit, header: Some(false), tally: Tally::default(), long_args: 0, first_packet: Some(None) }
    }

    /// The bytes of the records gathered so far.
    pub fn gathered(&self) -> usize {
        self.writer.gathered()
    }

    pub fn into_gathered(self) -> Gathered {
        let first_packet = self.first_packet.flatten();
        Gathered { records: self.writer.into_gathered(), first_packet, tally: self.tally, long_args: self.long_args }
    }
}

impl<W: Write> Sink for Records<W> {
    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        if self.header.is_some() {
            self.write_header(cmd.packet);
        }
        self.long_args += cmd.args.longs().len() as u64;
        write(&mut self.writer, self.emit, cmd, secrets).map_err(Error::Write)
    }

    fn pause(&mut self) -> Result<(), Error> {
        self.writer.flush().map_err(Error::Write)
    }

    fn finish(mut self, warn: &mut dyn Write) -> Result<(), Error> {
        self.write_header(false);
        self.writer.flush().map_err(Error::Write)?;
        let tally = &self.tally;
        // Records carry no counts of what was not a command: say it once, so nothing is lost
        // silently.
        if tally.skipped > 0 {
            let _ = writeln!(
                warn,
                "faina-filter: {} of {} lines were not MONITOR lines and were skipped",
                tally.skipped, tally.lines
            );
        }
        if self.long_args > 0 {
            let n = self.long_args;
            let (arguments, were, their) =
                if n == 1 { ("argument", "was", "its") } else { ("arguments", "were", "their") };
            let _ = writeln!(
                warn,
                "faina-filter: {n} {arguments} (of lines over 1 MiB, or of requests read from packets) {were} written as {their} first {} bytes",
                crate::read::compact::HEAD
            );
        }
        if tally.cut_lines > 0 {
            let n = tally.cut_lines;
            let (lines_were, them, their) =
                if n == 1 { ("line was", "it", "its") } else { ("lines were", "them", "their") };
            let _ = writeln!(
                warn,
                "faina-filter: {n} {lines_were} cut short (over 1 MiB, or the input ended inside {them}): {their} records hold the arguments that were whole"
            );
        }
        Ok(())
    }
}
