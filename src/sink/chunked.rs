//! The records of one regular file (`--emit tsv`, `--emit keys`) made on every core: the file
//! cut into chunks at line starts ([`crate::read::ranges::chunks`]), each chunk read, parsed and
//! its records gathered in memory by a pipeline and records sink of its own on a worker thread,
//! and the chunks written out in file order by the calling thread (the one signals interrupt, so
//! a write blocked on a stalled reader ends at Ctrl-C as in one pass), their counts and
//! pipelines joined as they are written ([`Records::append`], [`Pipeline::join`]).
//!
//! Standard output and standard error are those of one pass, to the byte. A chunk that read what
//! only input order decides — a record read back that names a node (nodes are numbered as they
//! come), more distinct server errors than a later part counts apart, or the input's first line
//! still held when it begins — or a command of over [`MANY_KEYS`] keys, or more than
//! [`MAX_GATHERED`] bytes of records, or that could not be read, is read again when its turn
//! comes, before any of it is written, by the run's own pipeline and sink on the calling thread:
//! as one pass reads it. At Ctrl-C the chunks end where they are: the records written are those
//! of the chunks before the first one cut short, then that one's. Memory stays bounded whatever
//! the file's size: the workers read at most [`AHEAD_PER_WORKER`] chunks each ahead of the one
//! being written.

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::cli::config::Emit;
use crate::count::stats::Tally;
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::outcome::Outcome;
use crate::pipeline::redact::Secrets;
use crate::pipeline::Pipeline;
use crate::read::input::{piece_event, Event};
use crate::read::lines::{Failed, LineReader};
use crate::read::ranges::RangeReader;
use crate::sink::records::{Gathered, Records};
use crate::sink::Sink;
use crate::sys::signal::{self, Stop};

/// The bytes of a chunk: large enough that handing one over costs nothing next to reading it,
/// small enough that the chunks read ahead hold little memory. (On 200 000 lines, from 64 KiB
/// to 1 MiB the instructions of the whole run stay within 1%, while the peak grows from 5 to
/// 11 MiB at 1 MiB, 17 MiB at 2 MiB.)
pub const CHUNK: u64 = 256 << 10;

/// The most records a chunk gathers (bytes): a command whose records could take it past this
/// is not gathered, and its chunk is written as one pass writes it (a chunk of many-key
/// commands, each key a record, can outgrow its input tenfold). With the chunks read ahead,
/// the records held at once stay under [`AHEAD_PER_WORKER`] + 1 times this per worker.
const MAX_GATHERED: usize = 8 * CHUNK as usize;

/// The largest buffer kept to gather into again.
const MAX_BUFFER: usize = 8 * CHUNK as usize;

/// A command with more keys than this is written as one pass writes it: its keys records
/// would outgrow [`MAX_GATHERED`] at once.
const MANY_KEYS: usize = 1024;

/// Chunks read ahead of the one being written, per worker.
const AHEAD_PER_WORKER: usize = 2;

/// The most worker threads.
const MAX_WORKERS: usize = 4;

/// The chunks of one file and how their records are made.
pub struct Chunked<'a> {
    pub file: &'a Arc<File>,
    /// The whole file, in file order.
    pub chunks: &'a [Range<u64>],
    pub emit: Emit,
    /// The worker threads to read them on (at most [`MAX_WORKERS`]).
    pub cores: usize,
    pub stop: Stop,
}

impl Chunked<'_> {
    /// Writes the records of the chunks to `records`, with `pipeline` the run's (fresh) and
    /// `fresh` making more; leaves in `pipeline` what one pass's would hold at the end of the
    /// file (or where Ctrl-C ended it).
    pub fn write<W: Write>(
        &self,
        mut fresh: impl FnMut() -> Pipeline,
        records: &mut Records<W>,
        pipeline: &mut Pipeline,
        warn: &mut dyn Write,
    ) -> Result<(), Failed<Error>> {
        let Chunked { file, chunks, emit, cores, stop } = *self;
        let workers = cores.clamp(1, MAX_WORKERS);
        let spare = (0..workers * AHEAD_PER_WORKER).map(|_| fresh().continuing(0)).collect();
        let shared = Arc::new(Shared::new(chunks.len(), workers, fresh(), spare));
        let threads: Vec<_> = (0..workers)
            .map(|_| {
                let (shared, file, chunks) = (shared.clone(), file.clone(), chunks.to_vec());
                signal::spawn(move || work(&shared, &file, &chunks, emit, stop))
            })
            .collect();
        let order = InOrder { file, chunks, shared: &shared, stop, reader: None };
        let written = order.write(&mut fresh, records, pipeline, warn);
        shared.end();
        for thread in threads {
            let _ = thread.join();
        }
        written
    }
}

/// A chunk read by a worker.
struct ChunkRead {
    pipeline: Pipeline,
    part: Gathered,
    /// What its pipeline said on standard error (said only for the first chunk: the servers'
    /// errors of the others are said as they are joined).
    warned: Vec<u8>,
    /// It was read to its end (Ctrl-C did not cut it short).
    whole: bool,
    /// It is to be read again in order (see the module's comment).
    again: bool,
}

/// What the workers and the writing thread share.
struct Shared {
    state: Mutex<Turns>,
    changed: Condvar,
}

struct Turns {
    chunks: usize,
    /// The next chunk a worker takes, and the next to be written.
    next: usize,
    written: usize,
    ahead: usize,
    /// Chunks read, waiting for their turn.
    gathered: Vec<(usize, ChunkRead)>,
    /// The pipeline of the first chunk (the input's start), then those of the others.
    first: Option<Pipeline>,
    spare: Vec<Pipeline>,
    /// Buffers written out, to gather into again: as many as there can be chunks read and not
    /// yet written, so that each buffer is made (and grown) once for the whole run, not again
    /// every few chunks.
    buffers: Vec<Vec<u8>>,
    keep: usize,
    /// Workers still running, and whether one ended by a panic (the chunk it held is never
    /// given: the chunks not given are read in order).
    workers: usize,
    broken: bool,
    /// Nothing more is to be read: the run is over.
    over: bool,
}

impl Shared {
    /// The state of `chunks` read by `workers`, ahead of the one written by as many chunks as
    /// there are `spare` pipelines.
    fn new(chunks: usize, workers: usize, first: Pipeline, spare: Vec<Pipeline>) -> Shared {
        // A chunk read ahead, and one each worker holds (given, its turn not yet come).
        let keep = spare.len() + workers;
        let state = Turns {
            chunks,
            next: 0,
            written: 0,
            ahead: spare.len(),
            gathered: Vec::new(),
            first: Some(first),
            spare,
            buffers: Vec::new(),
            keep,
            workers,
            broken: false,
            over: false,
        };
        Shared { state: Mutex::new(state), changed: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Turns> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(&self, state: MutexGuard<'a, Turns>) -> MutexGuard<'a, Turns> {
        self.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next chunk for a worker, with its pipeline and a buffer, once it is within reach of
    /// the one being written; `None` when there is nothing more to read.
    fn take(&self, stop: Stop) -> Option<(usize, Pipeline, Vec<u8>)> {
        let mut state = self.lock();
        loop {
            // After a worker's panic the chunks left are read in order: none are taken.
            if state.over || state.broken || stop.requested() || state.next >= state.chunks {
                return None;
            }
            if state.next < state.written + state.ahead {
                let n = state.next;
                let pipeline = if n == 0 { state.first.take() } else { state.spare.pop() };
                if let Some(pipeline) = pipeline {
                    state.next += 1;
                    let buffer = state.buffers.pop().unwrap_or_default();
                    return Some((n, pipeline, buffer));
                }
            }
            state = self.wait(state);
        }
    }

    fn give(&self, n: usize, gathered: ChunkRead) {
        self.lock().gathered.push((n, gathered));
        self.changed.notify_all();
    }

    /// Waits for chunk `n`; `None` when no worker is left to give it.
    fn gathered(&self, n: usize) -> Option<ChunkRead> {
        let mut state = self.lock();
        loop {
            if let Some(i) = state.gathered.iter().position(|(m, _)| *m == n) {
                return Some(state.gathered.swap_remove(i).1);
            }
            if state.workers == 0 || state.broken {
                return None;
            }
            state = self.wait(state);
        }
    }

    /// Chunk `n` is written: the workers may read one more, with `spare`, gathering into
    /// `buffer` if it is one to keep.
    fn written(&self, n: usize, spare: Pipeline, buffer: Option<Vec<u8>>) {
        let mut state = self.lock();
        state.written = n + 1;
        // A chunk read again in order after a panic may still come from a worker: not kept.
        state.gathered.retain(|(m, _)| *m > n);
        state.spare.push(spare);
        if let Some(buffer) = buffer.filter(|b| b.capacity() <= MAX_BUFFER) {
            if state.buffers.len() < state.keep {
                state.buffers.push(buffer);
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    fn end(&self) {
        self.lock().over = true;
        self.changed.notify_all();
    }
}

/// Counts a worker out however it ends (a panic included: the chunks it left are read in order).
struct Running<'a>(&'a Shared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.workers -= 1;
        state.broken |= std::thread::panicking();
        drop(state);
        self.0.changed.notify_all();
    }
}

/// A worker: reads the chunks it is given, until there are none.
fn work(shared: &Shared, file: &Arc<File>, chunks: &[Range<u64>], emit: Emit, stop: Stop) {
    let _running = Running(shared);
    let mut reader = LineReader::new().stopping(stop);
    while let Some((n, pipeline, buffer)) = shared.take(stop) {
        let records = Records::gathering(emit, buffer);
        let gathered = gather(&mut reader, file, chunks[n].clone(), n > 0, pipeline, records, stop);
        if gathered.again {
            // It may have stopped inside a line: the next chunk starts afresh.
            reader = LineReader::new().stopping(stop);
        }
        shared.give(n, gathered);
    }
}

/// The records sink of a chunk: its records gathered, and whether it is to be read again in
/// order: it read a record that names a node (whose number depends on the records before it),
/// or a command of [`MANY_KEYS`].
struct Gathering {
    records: Records<std::io::Sink>,
    again: bool,
}

impl Sink for Gathering {
    fn tally(&mut self) -> &mut Tally {
        self.records.tally()
    }

    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        self.records.command(cmd, secrets)
    }

    #[inline]
    fn line(&mut self, line: Outcome<'_>) -> Result<(), Error> {
        let room = MAX_GATHERED - self.records.gathered().min(MAX_GATHERED);
        if line.command().is_some_and(|cmd| cmd.header.node.is_some() || cmd.keys.len() > MANY_KEYS || most(cmd) > room)
        {
            self.again = true;
            return Ok(());
        }
        self.records.line(line)
    }

    fn finish(self, _warn: &mut dyn Write) -> Result<(), Error> {
        Ok(())
    }
}

/// The most bytes the records of `cmd` take: a record per key (one for tsv), each its lead and
/// a key (or, for tsv, the arguments), every byte escaped at worst as `\xHH`.
#[inline]
fn most(cmd: &Command<'_>) -> usize {
    let h = &cmd.header;
    let lead = h.ts.len() + h.db.len() + h.client.len() + cmd.name.len() + h.node.map_or(0, <[u8]>::len);
    (4 * lead + 16) * cmd.keys.len().max(1) + 4 * cmd.bytes as usize
}

/// Why a worker stopped reading a chunk before its end.
enum Halt {
    /// It is to be read again in order.
    Again,
    Failed,
}

/// Reads one chunk into `records`; `later` when it is not the first.
fn gather(
    reader: &mut LineReader,
    file: &Arc<File>,
    range: Range<u64>,
    later: bool,
    mut pipeline: Pipeline,
    records: Records<std::io::Sink>,
    stop: Stop,
) -> ChunkRead {
    let mut sink = Gathering { records, again: false };
    let mut warned = Vec::new();
    let read = reader.read_all(RangeReader::new(file.clone(), range), |piece| match piece_event(0, piece) {
        Event::Line(line) => {
            pipeline.line(&line, &mut sink, &mut warned).map_err(|_| Halt::Failed)?;
            match sink.again || sink.records.gathered() > MAX_GATHERED {
                true => Err(Halt::Again),
                false => Ok(()),
            }
        }
        _ => Ok(()),
    });
    // A read that failed is read again in order, to fail as one pass fails.
    let again = match read {
        Ok(()) => later && !pipeline.joinable(),
        Err(Failed::Read(..) | Failed::Consumer(Halt::Again | Halt::Failed)) => true,
    };
    let whole = !stop.requested();
    let mut part = sink.records.into_gathered();
    if again {
        // Its records are never written (it is read again in order): let them go now, not when
        // its turn comes.
        part = Gathered::spent(part.into_buffer(), MAX_BUFFER);
    }
    ChunkRead { pipeline, part, warned, whole, again }
}

/// The writing of the chunks in file order, on the calling thread.
struct InOrder<'a> {
    file: &'a Arc<File>,
    chunks: &'a [Range<u64>],
    shared: &'a Shared,
    stop: Stop,
    /// The reader of the chunks read again in order.
    reader: Option<LineReader>,
}

impl InOrder<'_> {
    fn write<W: Write>(
        mut self,
        fresh: &mut impl FnMut() -> Pipeline,
        records: &mut Records<W>,
        pipeline: &mut Pipeline,
        warn: &mut dyn Write,
    ) -> Result<(), Failed<Error>> {
        for n in 0..self.chunks.len() {
            let gathered = self.shared.gathered(n);
            // The input's first line still held: the next line says what it is.
            let in_order = gathered.as_ref().map_or(true, |g| g.again || n > 0 && pipeline.holding(0));
            let (whole, buffer) = match gathered {
                Some(g) if !in_order => {
                    let ChunkRead { pipeline: read, part, warned, whole, .. } = g;
                    // What the chunk's lines said on standard error comes before its records:
                    // where a write fails, one pass has said what the lines before the block it
                    // could not write said (the chunk's notices past that block are said here
                    // too, one pass would not reach them).
                    if n == 0 {
                        *pipeline = read;
                        let _ = warn.write_all(&warned);
                    } else {
                        pipeline.join(read, warn);
                    }
                    records.append(&part).map_err(Failed::Consumer)?;
                    (whole, Some(part.into_buffer()))
                }
                g => {
                    // What the worker read is let go of first: a chunk read again may be one
                    // that costs memory (a command of many keys).
                    let buffer = g.map(|g| g.part.into_buffer()).filter(|b| b.capacity() <= MAX_BUFFER);
                    self.read_again(n, records, pipeline, warn)?;
                    (!self.stop.requested(), buffer)
                }
            };
            if !whole {
                // Ctrl-C: nothing after the chunk it cut short.
                return Ok(());
            }
            self.shared.written(n, fresh().continuing(0), buffer);
        }
        Ok(())
    }

    /// Reads chunk `n` with the run's own pipeline and sink, as one pass reads it.
    fn read_again<W: Write>(
        &mut self,
        n: usize,
        records: &mut Records<W>,
        pipeline: &mut Pipeline,
        warn: &mut dyn Write,
    ) -> Result<(), Failed<Error>> {
        let stop = self.stop;
        let reader = self.reader.get_or_insert_with(|| LineReader::new().stopping(stop));
        let input = RangeReader::new(self.file.clone(), self.chunks[n].clone());
        reader.read_all(input, |piece| match piece_event(0, piece) {
            Event::Line(line) => pipeline.line(&line, records, warn),
            Event::Pause => records.pause(),
            _ => Ok(()),
        })
    }
}
