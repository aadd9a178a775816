//! The inputs of a run, read as one stream of [`Event`]s: a single regular file on the calling
//! thread, anything else on a thread per input ([`crate::read::threads`]). Where a line ends is
//! [`crate::read::lines`]'s to say, what an input is [`crate::read::sources`]'.

use std::ffi::OsString;
use std::sync::Arc;

use crate::read::connect;
use crate::read::lines::{Failed, LineReader};
use crate::read::sources::{sniff, Content, Input};
use crate::read::threads::{Readers, Reading};
use crate::sys::signal::Stop;

pub use crate::read::event::{piece_event, read_capture, Event, LineIn, TICK};

/// The inputs of a run, in order: the servers connected to, then the files. Dropping it closes
/// every connection.
pub struct Inputs {
    pub list: Vec<Input>,
    /// The server's ports, in packet captures (empty: the default).
    pub ports: Vec<u16>,
    /// What the servers' threads tell.
    pub watch: Arc<connect::Watch>,
    /// Look at the clock while waiting even for files (`--duration`).
    pub ticking: bool,
    /// Whether the run is to stop: reading ends as if every input had ended.
    pub stop: Stop,
    /// The threads reading the inputs, once started.
    readers: Readers,
}

impl Drop for Inputs {
    /// Closes every connection, then joins the reader threads.
    fn drop(&mut self) {
        self.close();
        self.readers.join();
    }
}

impl Inputs {
    /// The servers and the inputs named on the command line (none of either: standard input).
    pub fn new(servers: Vec<connect::Node>, files: &[OsString]) -> Inputs {
        let stdin = [OsString::from("-")];
        let files = if files.is_empty() && servers.is_empty() { &stdin[..] } else { files };
        let servers =
            servers.into_iter().map(|s| Input { path: OsString::new(), label: None, server: Some(Arc::new(s)) });
        let list = servers.chain(files.iter().map(Input::parse)).collect();
        Inputs {
            list,
            ports: Vec::new(),
            watch: Arc::default(),
            ticking: false,
            stop: Stop::never(),
            readers: Readers::default(),
        }
    }

    /// Shuts every connection down (no MONITOR client is left on a server).
    pub fn close(&self) {
        self.list.iter().for_each(Input::close);
    }

    /// True when there were servers and none was ever read, nor any file.
    pub fn none_read(&self) -> bool {
        self.list.iter().all(|i| i.server.is_some()) && !self.watch.read_any.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The node labels, when the inputs name nodes: several inputs, or one named `NAME=PATH`.
    pub fn labels(&self) -> Option<Vec<Vec<u8>>> {
        let named = self.list.len() > 1 || self.list.iter().any(|i| i.label.is_some());
        named.then(|| self.list.iter().map(Input::node).collect())
    }

    /// Reads every input to its end (or to Ctrl-C), calling `on` for each event. With
    /// `in_place`, a single regular file is read on this thread (the caller has no use for a
    /// second core); otherwise every input is read on a thread of its own.
    pub fn read<E>(&mut self, in_place: bool, mut on: impl FnMut(Event<'_>) -> Result<(), E>) -> Result<(), Failed<E>> {
        if let [input] = &self.list[..] {
            if in_place && !input.is_live() {
                let file = input.open().map_err(|e| Failed::Read(0, e))?;
                let (kind, file) = sniff(file).map_err(|e| Failed::Read(0, e))?;
                let result = match kind {
                    Content::Lines => {
                        LineReader::new().stopping(self.stop).read_all(file, |piece| on(piece_event(0, piece)))
                    }
                    Content::Capture => read_capture(0, file, &input.name(), self.ports(), self.stop, &mut on),
                };
                on(Event::End(0)).map_err(Failed::Consumer)?;
                return result;
            }
        }
        let ports = self.ports().to_vec();
        let reading =
            Reading { list: &self.list, ports: &ports, watch: &self.watch, ticking: self.ticking, stop: self.stop };
        self.readers.read(&reading, on)
    }

    /// The server's ports in a packet capture, as `--port` named them (none: 6379, and the
    /// servers told by their replies).
    fn ports(&self) -> &[u16] {
        &self.ports
    }
}
