//! Records for pipelines: one tab-separated line per command (`--emit tsv`) or per key access
//! (`--emit keys`), every key and argument in the printable form of [`crate::format::escape`].
//!
//! Columns, tsv:  timestamp, db, client, command, arg1, arg2, …
//! Columns, keys: timestamp, db, client, command, key, access (`read` or `write`), slot (the key's
//! cluster hash slot, of its whole bytes also when the record holds only a long key's head)
//!
//! Keys records of requests read from packets end with two more: the key's share of the reply's
//! bytes, and of the latency in microseconds (both empty when the capture did not show the
//! reply). Tsv records keep their columns, so they still read back as input.
//!
//! With several inputs (or a named one, `NAME=PATH`) every record starts with a node column.
//! `--header` starts keys records with a line of these names (`node` first when there is one):
//! column stores take it for their column names. It is written with the first record (with the
//! reply columns when that record has them), or at the end when there is none.
//!
//! The timestamp is written as the input had it; the command is the normalized name the report
//! uses (`get`, `object|encoding`); arguments start with the one after the command name.

use std::io::{self, Write};

use crate::cli::config::Emit;
use crate::commands::Access;
use crate::count::stats::{share_of, Tally};
use crate::error::Error;
use crate::format::escape::escape;
use crate::format::monitor::Header;
use crate::pipeline::decode::Command;
use crate::pipeline::redact::{Secrets, REDACTED};
use crate::sink::Sink;

/// Writes records through its own block buffer; [`RecordWriter::flush`] pushes them out.
pub struct RecordWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// The current command's leading columns, written once and copied into each of its records.
    lead: Vec<u8>,
    emit: Emit,
}

const BLOCK: usize = 64 * 1024;

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W, emit: Emit) -> RecordWriter<W> {
        RecordWriter { out, buf: Vec::with_capacity(BLOCK * 2), lead: Vec::with_capacity(256), emit }
    }

    /// Writes the record(s) of one command.
    pub fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> io::Result<()> {
        self.lead(cmd.node_label, &cmd.header, cmd.name);
        match self.emit {
            Emit::Tsv => {
                self.buf.extend_from_slice(&self.lead);
                for (i, arg) in cmd.args.iter().enumerate().skip(1) {
                    self.buf.push(b'\t');
                    if secrets.contains(i) {
                        self.buf.extend_from_slice(REDACTED);
                    } else {
                        escape(arg, &mut self.buf);
                    }
                }
                self.buf.push(b'\n');
            }
            Emit::Keys => {
                let n = cmd.keys.len() as u64;
                for (i, key) in cmd.keys.iter().enumerate() {
                    self.buf.extend_from_slice(&self.lead);
                    self.buf.push(b'\t');
                    let bytes = cmd.args.get(key.pos);
                    escape(bytes, &mut self.buf);
                    self.buf.extend_from_slice(match key.access {
                        Access::Read => b"\tread\t",
                        Access::Write => b"\twrite\t",
                    });
                    let slot =
                        cmd.args.long(key.pos).map_or_else(|| crate::count::cluster::slot(bytes), |long| long.slot);
                    self.buf.extend_from_slice(itoa::Buffer::new().format(slot).as_bytes());
                    if cmd.packet {
                        self.reply_columns(cmd, n, i);
                    }
                    self.buf.push(b'\n');
                }
            }
        }
        if self.buf.len() >= BLOCK {
            self.write_out()?;
        }
        Ok(())
    }

    /// A key's share of its request's reply: its bytes and latency (microseconds), or empty.
    fn reply_columns(&mut self, cmd: &Command<'_>, keys: u64, i: usize) {
        let mut number = itoa::Buffer::new();
        self.buf.push(b'\t');
        if let Some(reply) = cmd.reply {
            self.buf.extend_from_slice(number.format(share_of(reply.bytes, keys, i)).as_bytes());
            self.buf.push(b'\t');
            self.buf.extend_from_slice(number.format(share_of(reply.nanos / 1000, keys, i)).as_bytes());
        } else {
            self.buf.push(b'\t');
        }
    }

    /// Writes the leading columns of a command's records into `self.lead`.
    fn lead(&mut self, node: Option<&[u8]>, header: &Header<'_>, command: &[u8]) {
        let lead = &mut self.lead;
        lead.clear();
        if let Some(node) = node {
            escape(node, lead);
            lead.push(b'\t');
        }
        // The parser let through only digits and a dot in these: nothing to escape.
        debug_assert!(header.ts.iter().chain(header.db).all(|b| b.is_ascii_digit() || *b == b'.'));
        lead.extend_from_slice(header.ts);
        lead.push(b'\t');
        lead.extend_from_slice(header.db);
        lead.push(b'\t');
        escape(header.client, lead);
        lead.push(b'\t');
        escape(command, lead);
    }

    fn write_out(&mut self) -> io::Result<()> {
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        result
    }

    /// Writes out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.write_out()?;
        }
        self.out.flush()
    }
}

/// The records sink: every command's records, as they come; the lines that were not commands
/// only counted, and said on standard error at the end.
pub struct Records<W: Write> {
    writer: RecordWriter<W>,
    /// The column names still to be written (`--header`), and whether a node column leads.
    header: Option<bool>,
    tally: Tally,
    /// Arguments of lines over the reader's limit, written as their head only.
    long_args: u64,
}

impl<W: Write> Records<W> {
    /// Records of `emit` to `out`; with `header`, keys records start with a line of column names
    /// (`node` first when the inputs are `nodes`).
    pub fn new(out: W, emit: Emit, header: bool, nodes: bool) -> Result<Records<W>, Error> {
        let writer = RecordWriter::new(out, emit);
        let header = (header && emit == Emit::Keys).then_some(nodes);
        Ok(Records { writer, header, tally: Tally::default(), long_args: 0 })
    }

    /// The column names, before the first record: with the reply columns when it has them.
    #[cold]
    fn write_header(&mut self, packet: bool) {
        let Some(nodes) = self.header.take() else { return };
        let buf = &mut self.writer.buf;
        buf.extend_from_slice(if nodes { b"node\t" } else { b"" });
        buf.extend_from_slice(b"timestamp\tdb\tclient\tcommand\tkey\taccess\tslot");
        buf.extend_from_slice(if packet { b"\treply_bytes\tlatency_us\n" } else { b"\n" });
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
        self.writer.command(cmd, secrets).map_err(Error::Write)
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
            let _ = writeln!(
                warn,
                "faina-filter: {} arguments of lines over 1 MiB were written as their first {} bytes",
                self.long_args,
                crate::read::compact::HEAD
            );
        }
        if tally.cut_lines > 0 {
            let _ = writeln!(
                warn,
                "faina-filter: {} lines were cut short (over 1 MiB, or the input ended inside them): their records hold the arguments that were whole",
                tally.cut_lines
            );
        }
        Ok(())
    }
}
