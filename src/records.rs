//! Records for pipelines: one tab-separated line per command (`--emit tsv`) or per key access
//! (`--emit keys`), every key and argument in the printable form of [`crate::escape`].
//!
//! Columns, tsv:  timestamp, db, client, command, arg1, arg2, …
//! Columns, keys: timestamp, db, client, command, key, access (`read` or `write`)
//!
//! With several inputs (or a named one, `NAME=PATH`) every record starts with a node column.
//!
//! The timestamp is written as the input had it; the command is the normalized name the report
//! uses (`get`, `object|encoding`); arguments start with the one after the command name.

use std::io::{self, Write};

use crate::commands::{Access, KeyRef};
use crate::escape::escape;
use crate::monitor::Header;
use crate::redact::{Secrets, REDACTED};

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

    /// Which records this writer writes.
    pub fn emit(&self) -> Emit {
        self.emit
    }

    /// Writes the record(s) of one command.
    #[allow(clippy::too_many_arguments)]
    pub fn command<'a>(
        &mut self,
        node: Option<&[u8]>,
        header: &Header<'_>,
        command: &[u8],
        argc: usize,
        arg: impl Fn(usize) -> &'a [u8],
        keys: &[KeyRef],
        secrets: &Secrets,
    ) -> io::Result<()> {
        self.lead(node, header, command);
        match self.emit {
            Emit::Tsv => {
                self.buf.extend_from_slice(&self.lead);
                for i in 1..argc {
                    self.buf.push(b'\t');
                    if secrets.contains(i) {
                        self.buf.extend_from_slice(REDACTED);
                    } else {
                        escape(arg(i), &mut self.buf);
                    }
                }
                self.buf.push(b'\n');
            }
            Emit::Keys => {
                for key in keys {
                    self.buf.extend_from_slice(&self.lead);
                    self.buf.push(b'\t');
                    escape(arg(key.pos), &mut self.buf);
                    self.buf.extend_from_slice(match key.access {
                        Access::Read => b"\tread\n",
                        Access::Write => b"\twrite\n",
                    });
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
