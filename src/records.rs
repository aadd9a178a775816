//! Records for pipelines: one tab-separated line per command (`--emit tsv`) or per key access
//! (`--emit keys`), every key and argument in the printable form of [`crate::escape`].
//!
//! Columns, tsv:  timestamp, db, client, command, arg1, arg2, …
//! Columns, keys: timestamp, db, client, command, key, access (`read` or `write`), slot (the key's
//! cluster hash slot, of its whole bytes also when the record holds only a long key's head)
//!
//! With several inputs (or a named one, `NAME=PATH`) every record starts with a node column.
//! `--header` starts keys records with a line of these names (`node` first when there is one):
//! column stores take it for their column names.
//!
//! The timestamp is written as the input had it; the command is the normalized name the report
//! uses (`get`, `object|encoding`); arguments start with the one after the command name.

use std::io::{self, Write};

use crate::commands::Access;
use crate::decode::Command;
use crate::error::Error;
use crate::escape::escape;
use crate::monitor::Header;
use crate::redact::{Secrets, REDACTED};
use crate::sink::Sink;
use crate::stats::Tally;

/// Which records to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    Tsv,
    Keys,
}

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
                for key in cmd.keys {
                    self.buf.extend_from_slice(&self.lead);
                    self.buf.push(b'\t');
                    let bytes = cmd.args.get(key.pos);
                    escape(bytes, &mut self.buf);
                    self.buf.extend_from_slice(match key.access {
                        Access::Read => b"\tread\t",
                        Access::Write => b"\twrite\t",
                    });
                    let slot = cmd.args.long(key.pos).map_or_else(|| crate::cluster::slot(bytes), |long| long.slot);
                    self.buf.extend_from_slice(itoa::Buffer::new().format(slot).as_bytes());
                    self.buf.push(b'\n');
                }
            }
        }
        if self.buf.len() >= BLOCK {
            self.write_out()?;
        }
        Ok(())
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
    tally: Tally,
    /// Arguments of lines over the reader's limit, written as their head only.
    long_args: u64,
}

impl<W: Write> Records<W> {
    /// Records of `emit` to `out`; with `header`, keys records start with a line of column names
    /// (`node` first when the inputs are `nodes`).
    pub fn new(out: W, emit: Emit, header: bool, nodes: bool) -> Result<Records<W>, Error> {
        let mut writer = RecordWriter::new(out, emit);
        if header && emit == Emit::Keys {
            let names: &[u8] = b"timestamp\tdb\tclient\tcommand\tkey\taccess\tslot\n";
            writer.buf.extend_from_slice(if nodes { b"node\t" } else { b"" });
            writer.buf.extend_from_slice(names);
            writer.flush().map_err(Error::Write)?;
        }
        Ok(Records { writer, tally: Tally::default(), long_args: 0 })
    }
}

impl<W: Write> Sink for Records<W> {
    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        self.long_args += cmd.args.longs().len() as u64;
        self.writer.command(cmd, secrets).map_err(Error::Write)
    }

    fn pause(&mut self) -> Result<(), Error> {
        self.writer.flush().map_err(Error::Write)
    }

    fn finish(mut self, warn: &mut dyn Write) -> Result<(), Error> {
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
                crate::compact::HEAD
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
