//! What reading the inputs hands out: one stream of [`Event`]s, whatever the inputs are (files,
//! pipes, servers, packet captures) and however many.

use std::io::Read;
use std::time::Duration;

use crate::format::long_arg::LongArg;
use crate::read::capture::{self, CallIn};
use crate::read::connect::Change;
use crate::read::lines::{Failed, LinePiece};
use crate::sys::signal::Stop;

/// How often a live input that is silent is looked at (idle windows, Ctrl-C).
pub const TICK: Duration = Duration::from_millis(250);

/// One line of one input.
#[derive(Debug, Clone, Copy)]
pub struct LineIn<'a> {
    /// The input (node) it was read from.
    pub node: u32,
    /// The line, with its line ending if it had one. A line longer than the reader's limit is
    /// its compacted copy (see [`crate::read::compact`]): `long` says which arguments are kept by their
    /// head.
    pub line: &'a [u8],
    /// The line was cut short: the input ended inside it, or its compacted copy outgrew its
    /// cap; `dropped` more bytes followed that were not kept.
    pub cut: bool,
    pub dropped: u64,
    /// The line has no TAB (false when unknown): the parser skips looking.
    pub plain: bool,
    pub long: &'a [LongArg],
}

/// What reading the inputs hands out.
pub enum Event<'a> {
    Line(LineIn<'a>),
    /// A request read from a packet capture.
    Call(CallIn<'a>),
    /// Words for standard error: what a packet capture held besides requests.
    Notice(&'a str),
    /// The input has nothing more for now: time to flush what was written.
    Pause,
    /// A live input has been silent for a [`TICK`]: time to look at the clock.
    Idle,
    /// Input `node` has ended.
    End(u32),
    /// A `--connect` node's state changed (connected, lost, given up, dropping lines).
    Node(&'a Change),
}

/// The event of a piece that input `node`'s [`crate::read::lines::LineReader`] handed out.
pub fn piece_event(node: u32, piece: LinePiece<'_>) -> Event<'_> {
    match piece {
        LinePiece::Line { line, cut, dropped, plain, long } => {
            Event::Line(LineIn { node, line, cut, dropped, plain, long })
        }
        LinePiece::Pause => Event::Pause,
    }
}

/// Reads a packet capture as input `node`, handing out its requests, then what else it held.
pub fn read_capture<E>(
    node: u32,
    input: impl Read,
    name: &str,
    ports: &[u16],
    stop: Stop,
    on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
) -> Result<(), Failed<E>> {
    let counts = capture::read_all(input, ports, stop, |batch| {
        for call in batch.calls(node) {
            on(Event::Call(call))?;
        }
        on(Event::Pause)
    });
    let counts = counts.map_err(|stop| match stop {
        capture::Stopped::Read(e) => Failed::Read(node as usize, e),
        capture::Stopped::Consumer(e) => Failed::Consumer(e),
    })?;
    on(Event::Notice(&format!("{name}: {}", counts.summary(ports)))).map_err(Failed::Consumer)
}
