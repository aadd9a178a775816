//! The reader threads: anything but a single regular file (several inputs, standard input, a
//! FIFO, a server) is read on a thread per input, each running a
//! [`LineReader`] and handing over batches of lines with their
//! boundaries over one bounded channel, so one stalled stream never holds up the others and a
//! silent live stream still gets [`Event::Idle`] ticks.
//!
//! A `--connect` input is a [`connect::Node`] whose thread keeps its MONITOR stream coming (see
//! [`crate::read::connect`]); its batches are offered, never forced, to the consumer: when the
//! channel is full the batch is dropped and counted ([`connect::ConnectState::Dropped`]), so the socket
//! is drained whatever the output does, and the server never buffers for the filter. The nodes'
//! state changes come out as [`Event::Node`].
//!
//! The threads are owned ([`Readers`]): joined once their input is done with, except a thread
//! blocked on a live stream that nothing can wake (see [`Readers::join`]).

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::{self, RecvTimeoutError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::format::long_arg::LongArg;
use crate::read::capture;
use crate::read::connect::{self, Change, ConnectState};
use crate::read::event::{Event, LineIn, TICK};
use crate::read::lines::{Failed, LinePiece, LineReader, MAX_COMPACTED, MAX_LINE};
use crate::read::sources::{sniff, Content, Input};
use crate::sys::signal::{self, Stop};

/// The memory the readers of all inputs share: each input's line limit, read block and
/// compacted copy shrink as inputs are added, so reading 500 inputs costs what reading one does.
const READ_MEMORY: usize = 6 << 20;

/// An input's share of [`READ_MEMORY`]: (the longest line kept whole, the most a compacted
/// line holds).
fn limits(inputs: usize) -> (usize, usize) {
    let share = READ_MEMORY / inputs.max(1);
    ((share / 2).clamp(16 << 10, MAX_LINE), share.clamp(64 << 10, MAX_COMPACTED))
}

/// The lines each server's reader dropped, told at most once a second while they grow, and
/// in all at the end.
struct Drops {
    said: Vec<u64>,
    looked: Instant,
    /// The run is over: each count is told in all.
    at_end: bool,
}

impl Drops {
    fn new(inputs: &[Input]) -> Drops {
        Drops { said: vec![0; inputs.len()], looked: Instant::now(), at_end: false }
    }

    fn news(&mut self, inputs: &[Input]) -> Vec<Change> {
        let mut news = Vec::new();
        if self.looked.elapsed() < Duration::from_secs(1) && !self.at_end {
            return news;
        }
        self.looked = Instant::now();
        for (node, input) in inputs.iter().enumerate() {
            let Some(server) = &input.server else { continue };
            let lines = server.dropped.load(std::sync::atomic::Ordering::Relaxed);
            if lines > self.said[node] {
                self.said[node] = lines;
                let at = std::time::SystemTime::now();
                news.push(Change {
                    node: node as u32,
                    name: server.name(),
                    at,
                    state: ConnectState::Dropped { lines, in_all: self.at_end },
                });
            }
        }
        news
    }
}

/// Handover buffers handed back once their lines are read, so they are allocated once: the memory
/// of reading stays that of the batches in flight, whatever the number of inputs.
#[derive(Default)]
struct Pool(std::sync::Mutex<Vec<(Vec<u8>, Vec<u32>)>>);

impl Pool {
    fn take(&self, block: usize) -> (Vec<u8>, Vec<u32>) {
        let spent = self.0.lock().ok().and_then(|mut p| p.pop());
        spent.unwrap_or_else(|| (Vec::with_capacity(block), Vec::new()))
    }

    fn give_back(&self, mut data: Vec<u8>, mut ends: Vec<u32>) {
        data.clear();
        ends.clear();
        if let Ok(mut pool) = self.0.lock() {
            pool.push((data, ends));
        }
    }
}

/// What an input's thread hands over.
enum Handover {
    /// Whole lines: `data` holds them one after the other, `ends` where each ends; `plain` when
    /// none has a TAB.
    Lines { node: u32, data: Vec<u8>, ends: Vec<u32>, plain: bool },
    /// A line handed out on its own: compacted, or cut short.
    Long { node: u32, line: Vec<u8>, cut: bool, dropped: u64, long: Vec<LongArg> },
    /// Requests of a packet capture.
    Calls { node: u32, calls: capture::Batch },
    /// What a packet capture held besides requests.
    Notice { text: String },
    /// The input ended (or failed to open or read).
    Done { node: u32, result: io::Result<()> },
}

/// An input, as its reading thread knows it.
struct ThreadInput {
    node: u32,
    name: String,
    ports: Vec<u16>,
    stop: Stop,
}

/// Opens an input, on the thread that reads it.
type Opener = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>;

/// Reads one input into batches of lines and sends them; the bounded channel keeps memory
/// bounded when the consumer falls behind.
fn read_in_batches(
    source: ThreadInput,
    open: Opener,
    mut reader: LineReader,
    pool: &Pool,
    tx: &mpsc::SyncSender<Handover>,
) {
    let node = source.node;
    let input = match open().and_then(sniff) {
        Ok((Content::Lines, input)) => input,
        Ok((Content::Capture, input)) => return capture_in_batches(source, input, tx),
        Err(e) => {
            let _ = tx.send(Handover::Done { node, result: Err(e) });
            return;
        }
    };
    if let Ok(result) = read_batches(node, input, &mut reader, pool, tx, None) {
        let _ = tx.send(Handover::Done { node, result });
    }
}

/// Hands a batch to the consumer: waiting for room; or, for a server's stream, never waiting:
/// when there is no room the batch comes back to be added to (`keep`, while it is smaller than
/// a block), or is dropped and counted in the server's `dropped`. `Err` when the consumer is
/// gone.
fn deliver(
    tx: &mpsc::SyncSender<Handover>,
    batch: Handover,
    pool: &Pool,
    server: Option<&connect::Node>,
    keep: bool,
) -> Result<Option<Handover>, ()> {
    let Some(server) = server else { return tx.send(batch).map(|()| None).map_err(drop) };
    match tx.try_send(batch) {
        Ok(()) => Ok(None),
        Err(TrySendError::Disconnected(_)) => Err(()),
        Err(TrySendError::Full(batch)) if keep => Ok(Some(batch)),
        Err(TrySendError::Full(batch)) => {
            let lines = match batch {
                Handover::Lines { data, ends, .. } => {
                    let n = ends.len();
                    pool.give_back(data, ends);
                    n
                }
                _ => 1,
            };
            server.dropped.fetch_add(lines as u64, std::sync::atomic::Ordering::Relaxed);
            // A breath before the next read: the consumer gets the core this thread would spend
            // reading only to drop, and the socket is still drained far faster than a server
            // writes MONITOR lines (a block a millisecond is over 200 MB/s).
            std::thread::sleep(Duration::from_millis(1));
            Ok(None)
        }
    }
}

/// Reads one stream to its end into batches: how it ended, or `Err` when the consumer is gone.
fn read_batches(
    node: u32,
    input: Box<dyn Read + Send>,
    reader: &mut LineReader,
    pool: &Pool,
    tx: &mpsc::SyncSender<Handover>,
    server: Option<&connect::Node>,
) -> Result<io::Result<()>, ()> {
    let block = reader.block();
    let (mut data, mut ends) = pool.take(block);
    let mut plain = true;
    // `last`: the stream has ended, so lines that find no room are dropped, not kept.
    let send = |data: &mut Vec<u8>, ends: &mut Vec<u32>, plain: &mut bool, last: bool| -> Result<(), ()> {
        if ends.is_empty() {
            return Ok(());
        }
        let keep = !last && data.len() < block;
        let (next_data, next_ends) = pool.take(block);
        let full = std::mem::replace(data, next_data);
        let lines = std::mem::replace(ends, next_ends);
        let batch = Handover::Lines { node, data: full, ends: lines, plain: *plain };
        match deliver(tx, batch, pool, server, keep)? {
            Some(Handover::Lines { data: kept, ends: kept_ends, .. }) => {
                // No room yet: the lines stay, and more are added to them.
                let fresh = (std::mem::replace(data, kept), std::mem::replace(ends, kept_ends));
                pool.give_back(fresh.0, fresh.1);
            }
            _ => *plain = true,
        }
        Ok(())
    };
    let result = reader.read_all(input, |piece| -> Result<(), ()> {
        match piece {
            LinePiece::Line { line, cut: false, plain: line_plain, long: [], .. } => {
                data.extend_from_slice(line);
                ends.push(data.len() as u32);
                plain &= line_plain;
                if data.len() >= block {
                    send(&mut data, &mut ends, &mut plain, false)?;
                }
            }
            LinePiece::Line { line, cut, dropped, long, .. } => {
                send(&mut data, &mut ends, &mut plain, true)?;
                let batch = Handover::Long { node, line: line.to_vec(), cut, dropped, long: long.to_vec() };
                deliver(tx, batch, pool, server, false)?;
            }
            LinePiece::Pause => send(&mut data, &mut ends, &mut plain, false)?,
        }
        Ok(())
    });
    let result = match result {
        Ok(()) => Ok(()),
        Err(Failed::Read(_, e)) => Err(e),
        Err(Failed::Consumer(())) => return Err(()),
    };
    // What was read before the end (or the error) is handed over too.
    send(&mut data, &mut ends, &mut plain, true)?;
    pool.give_back(data, ends);
    Ok(result)
}

/// Reads a packet capture on its thread, sending its requests a batch at a time.
fn capture_in_batches(source: ThreadInput, input: impl Read, tx: &mpsc::SyncSender<Handover>) {
    let ThreadInput { node, name, ports, stop } = source;
    let counts = capture::read_all(input, &ports, stop, |batch| {
        tx.send(Handover::Calls { node, calls: std::mem::take(batch) }).map_err(drop)
    });
    let result = match counts {
        Ok(counts) => {
            let text = format!("{name}: {}", counts.summary(&ports));
            if tx.send(Handover::Notice { text }).is_err() {
                return;
            }
            Ok(())
        }
        Err(capture::Stopped::Read(e)) => Err(e),
        Err(capture::Stopped::Consumer(())) => return,
    };
    let _ = tx.send(Handover::Done { node, result });
}

/// What the reader threads read: the inputs, and how.
pub struct Reading<'a> {
    pub list: &'a [Input],
    /// The server's ports, in packet captures.
    pub ports: &'a [u16],
    /// What the servers' threads tell.
    pub watch: &'a Arc<connect::Watch>,
    /// Look at the clock while waiting even for files (`--duration`).
    pub ticking: bool,
    pub stop: Stop,
}

/// The reader threads of a run, one per input, owned until [`Readers::join`].
#[derive(Default)]
pub struct Readers {
    /// In the order of the inputs.
    threads: Vec<ReaderThread>,
}

struct ReaderThread {
    handle: JoinHandle<()>,
    /// It reads a live stream that is not a server (standard input, a pipe, a FIFO): it may be
    /// blocked in a read, or opening a FIFO, until more input comes.
    may_block: bool,
    /// Its input ended (the thread has sent its last batch).
    ended: bool,
}

impl Readers {
    /// Joins every thread, once the consumer is gone and the connections are closed: the threads
    /// of files end at their next batch, and those of servers once their connection is closed
    /// (within its connect timeout). A thread reading standard input, a pipe or a FIFO that has
    /// not ended may be blocked in a read that nothing can interrupt but more input: it is
    /// joined if it has finished, and otherwise left to end with the process, which is ending.
    /// Returns how many were joined, and how many left so.
    pub fn join(&mut self) -> (usize, usize) {
        let (mut joined, mut left) = (0, 0);
        for reader in self.threads.drain(..) {
            if !reader.may_block || reader.ended || reader.handle.is_finished() {
                let _ = reader.handle.join();
                joined += 1;
            } else {
                left += 1;
            }
        }
        (joined, left)
    }

    /// Reads every input on a thread of its own, to its end (or to the stop), calling `on` for
    /// each event; then closes every connection and says what the servers' readers went through.
    pub fn read<E>(
        &mut self,
        inputs: &Reading<'_>,
        mut on: impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let (rx, pool) = self.start(inputs)?;
        let mut drops = Drops::new(inputs.list);
        let result = self.pump(inputs, &rx, &pool, &mut drops, &mut on);
        // The threads of files see the channel closed at their next batch, and end.
        drop(rx);
        inputs.list.iter().for_each(Input::close);
        // What the servers' readers went through is said however the run ended (a notice
        // goes to the warnings, which a failed output does not stop).
        drops.said.iter_mut().for_each(|n| *n = 0);
        drops.at_end = true;
        let summaries =
            inputs.list.iter().enumerate().filter_map(|(i, input)| input.server.as_ref()?.summary(i as u32));
        let closing: Vec<Change> =
            inputs.watch.take().into_iter().chain(drops.news(inputs.list)).chain(summaries).collect();
        for change in &closing {
            let told = on(Event::Node(change)).map_err(Failed::Consumer);
            if result.is_ok() {
                told?;
            }
        }
        result
    }

    /// A thread per input, reading it into batches sent over a bounded channel.
    fn start<E>(&mut self, inputs: &Reading<'_>) -> Result<(mpsc::Receiver<Handover>, Arc<Pool>), Failed<E>> {
        // A server's batches are dropped rather than waited for: a little more slack for them.
        let servers = inputs.list.iter().filter(|i| i.server.is_some()).count();
        let (tx, rx) = mpsc::sync_channel(inputs.list.len() + 2 + servers.min(6));
        let (limit, cap) = limits(inputs.list.len());
        let pool = std::sync::Arc::new(Pool::default());
        for (node, input) in inputs.list.iter().enumerate() {
            if let Some(server) = &input.server {
                let (tx, pool, watch, server) = (tx.clone(), pool.clone(), inputs.watch.clone(), server.clone());
                let mut reader = LineReader::with_limit(limit, cap).stopping(inputs.stop);
                let handle = signal::spawn(move || {
                    let node = node as u32;
                    let mut read = |stream| read_batches(node, stream, &mut reader, &pool, &tx, Some(&server));
                    server.run(node, &watch, &mut read);
                    let _ = tx.send(Handover::Done { node, result: Ok(()) });
                });
                self.threads.push(ReaderThread { handle, may_block: false, ended: false });
                continue;
            }
            // Regular files are opened here, so a missing one is reported before anything is
            // read; anything else on its thread (opening a FIFO waits for its writer).
            let open: Opener = if input.is_live() {
                let (stdin, path) = (input.is_stdin(), input.path.clone());
                Box::new(move || if stdin { Ok(Box::new(io::stdin())) } else { Ok(Box::new(File::open(path)?)) })
            } else {
                let reader = input.open().map_err(|e| Failed::Read(node, e))?;
                Box::new(move || Ok(reader))
            };
            let (tx, pool) = (tx.clone(), pool.clone());
            let reader = LineReader::with_limit(limit, cap).stopping(inputs.stop);
            let source =
                ThreadInput { node: node as u32, name: input.name(), ports: inputs.ports.to_vec(), stop: inputs.stop };
            let handle = signal::spawn(move || read_in_batches(source, open, reader, &pool, &tx));
            self.threads.push(ReaderThread { handle, may_block: input.is_live(), ended: false });
        }
        Ok((rx, pool))
    }

    /// Hands on what the threads read, until every input has ended or the run is stopped.
    fn pump<E>(
        &mut self,
        inputs: &Reading<'_>,
        rx: &mpsc::Receiver<Handover>,
        pool: &Pool,
        drops: &mut Drops,
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let live = inputs.ticking || inputs.list.iter().any(Input::is_live);
        let mut open = inputs.list.len();
        while open > 0 && !inputs.stop.requested() {
            for change in inputs.watch.take().iter().chain(drops.news(inputs.list).iter()) {
                on(Event::Node(change)).map_err(Failed::Consumer)?;
            }
            let batch = match rx.recv_timeout(if live { TICK } else { Duration::from_secs(3600) }) {
                Ok(batch) => batch,
                Err(RecvTimeoutError::Timeout) => {
                    on(Event::Idle).map_err(Failed::Consumer)?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match batch {
                Handover::Lines { node, data, ends, plain } => {
                    let mut start = 0;
                    for &end in &ends {
                        let line = &data[start..end as usize];
                        on(Event::Line(LineIn { node, line, cut: false, dropped: 0, plain, long: &[] }))
                            .map_err(Failed::Consumer)?;
                        start = end as usize;
                    }
                    pool.give_back(data, ends);
                    on(Event::Pause).map_err(Failed::Consumer)?;
                }
                Handover::Long { node, line, cut, dropped, long } => {
                    let line = LineIn { node, line: &line, cut, dropped, plain: false, long: &long };
                    on(Event::Line(line)).map_err(Failed::Consumer)?;
                }
                Handover::Calls { node, calls } => {
                    for call in calls.calls(node) {
                        on(Event::Call(call)).map_err(Failed::Consumer)?;
                    }
                    on(Event::Pause).map_err(Failed::Consumer)?;
                }
                Handover::Notice { text } => on(Event::Notice(&text)).map_err(Failed::Consumer)?,
                Handover::Done { node, result } => {
                    open -= 1;
                    if let Some(reader) = self.threads.get_mut(node as usize) {
                        reader.ended = true;
                    }
                    result.map_err(|e| Failed::Read(node as usize, e))?;
                    on(Event::End(node)).map_err(Failed::Consumer)?;
                }
            }
        }
        Ok(())
    }
}
