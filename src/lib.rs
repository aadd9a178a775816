//! faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream.
//!
//! Data flows one way, and the folders are its stages: the inputs' bytes are split into lines
//! ([`read`]) — or, for a packet capture, into the requests its packets carry — each line is
//! parsed by its wire format ([`format`](mod@format)) and decoded into a command with its keys
//! by the command table ([`commands`]), then accounted for, filtered and redacted
//! ([`pipeline`](mod@pipeline)), and handed to one sink ([`sink`]): the report of the whole
//! input, a report per period, or the records. Report sinks count keys ([`count`]) and write the
//! report ([`report`]); the report of one large regular file is read in ranges, one per core,
//! and their counts joined ([`sink::split`]), and its records are made on every core a chunk at
//! a time and written in file order ([`sink::chunked`]). [`sys`] holds the process's edges (signals,
//! standard output), [`cli`] turns arguments into a [`cli::Plan`]
//! (parsed, checked, what the flags name read), which [`run`] runs: a [`Session`] takes the
//! inputs' events to the pipeline and the sink, and writes what is left at the end.
//!
//! ```text
//! Inputs::read ──lines──▶ Pipeline::line ──Command──▶ Sink (report │ rolling report │ records)
//! ```

// The crate documents its private modules for the people who work on it
// (`cargo doc --document-private-items`): links into them are meant.
#![allow(rustdoc::private_intra_doc_links)]

// The stages a line passes through, in order; each imports only from the ones below it.
pub mod cli;
pub mod commands;
mod count;
mod error;
mod format;
mod pipeline;
mod read;
mod report;
mod runner;
mod sink;
mod sys;
#[cfg(test)]
mod testing;

// The public surface: what main.rs, the tests (tests/it) and the fuzz targets (fuzz/) use, and
// nothing else.
// - main.rs: `cli` (parse, Action, resolve, help, MANUAL), `run`, `Error`, `signal` (install, Stop,
//   exit_status), `output` (Stdout, was_closed), `escape::controls_escaped`.
// - tests: `cli` (parse, Action, resolve, Config, doc::man_options, MANUAL), `flags` (FLAGS,
//   long), `run`, `Error`, `signal::Stop`, `escape` (escaped, unescape), `monitor` (Parser, Line,
//   Args, ArgsStore), `commands` (Table, KeySpec, Begin, Find, Access, Lookup, server::load),
//   `cluster::slot`.
// - fuzz: `cli` (parse, Action, resolve), `Session` (new, feed, feed_small_lines, finish), `Error`,
//   `signal::Stop`, `escape`, `monitor`, `commands` (Table, server).
pub use cli::flags;
pub use count::cluster;
pub use error::Error;
pub use format::{escape, monitor};
pub use runner::Session;
pub use sys::{output, signal};

use std::io::Write;

use cli::Plan;
use read::lines::Failed;

/// Runs the whole filter over the planned inputs, writing to `out` and warnings to `warn`.
pub fn run<W: Write>(mut plan: Plan, out: W, warn: &mut dyn Write) -> Result<(), Error> {
    if let Some(limit) = plan.config.duration {
        signal::end_after(std::time::Duration::from_micros(limit));
    }
    if plan.reads_a_terminal {
        // Nothing else would say why nothing happens.
        let _ = writeln!(
            warn,
            "faina-filter: reading standard input (a terminal): pipe a MONITOR stream in, or name a capture; Ctrl-D ends it"
        );
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut session = Session::on_terminal(&plan, out, plan.inputs.labels(), terminal)?;
    // A report of one large regular file reads it on every core, a range each, and its records
    // are made on every core, a chunk each; reports of anything else count keys on the second
    // core, and a single file is read on this one.
    let split = session.read_ranges(&plan, warn).or_else(|| session.emit_in_chunks(&plan, warn));
    let in_place = plan.config.emit.is_none();
    let read = match split {
        Some(read) => read,
        None => plan.inputs.read(in_place, |event| session.event(event, warn)),
    };
    let inputs = &plan.inputs;
    match read {
        Ok(()) if inputs.none_read() && !inputs.stop.requested() => Err(Error::NothingRead),
        Ok(()) => session.finish(warn),
        Err(Failed::Read(i, err)) => Err(Error::Read { name: inputs.list[i].name(), err }),
        Err(Failed::Consumer(err)) => Err(err),
    }
}
