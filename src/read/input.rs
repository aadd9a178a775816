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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::event::Event;

    /// Two files of `lines` lines each, in a fresh directory.
    fn two_files(name: &str, lines: usize) -> (std::path::PathBuf, Vec<OsString>) {
        let dir = std::env::temp_dir().join(format!("faina-inputs-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let line = "1795636306.000001 [0 10.0.0.1:1] \"get\" \"k\"\n";
        let files: Vec<OsString> = ["a.txt", "b.txt"]
            .iter()
            .map(|f| {
                let path = dir.join(f);
                std::fs::write(&path, line.repeat(lines)).unwrap();
                path.into_os_string()
            })
            .collect();
        (dir, files)
    }

    #[test]
    fn the_reader_threads_are_joined_when_the_inputs_end() {
        let (dir, files) = two_files("end", 1000);
        let mut inputs = Inputs::new(Vec::new(), &files);
        let mut lines = 0;
        let read = inputs.read(true, |event| {
            lines += usize::from(matches!(event, Event::Line(_)));
            Ok::<(), ()>(())
        });
        assert!(read.is_ok());
        assert_eq!(lines, 2000);
        assert_eq!(inputs.readers.join(), (2, 0), "both threads joined, none left");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_reader_threads_are_joined_when_the_consumer_fails() {
        // Far more than the channel holds: the threads are blocked handing batches over when
        // the consumer gives up at its first line, and end once it is gone.
        let (dir, files) = two_files("fail", 200_000);
        let mut inputs = Inputs::new(Vec::new(), &files);
        let read = inputs.read(true, |event| if matches!(event, Event::Line(_)) { Err("full") } else { Ok(()) });
        assert!(matches!(read, Err(Failed::Consumer("full"))));
        assert_eq!(inputs.readers.join(), (2, 0), "both threads joined, none left");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_thread_waiting_on_a_fifo_nothing_writes_is_left_to_the_process_not_waited_for() {
        let (dir, mut files) = two_files("fifo", 10);
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("*** SKIPPED: mkfifo did not make a FIFO ***");
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI: mkfifo is needed");
            return;
        }
        files[1] = fifo.into_os_string();
        let mut inputs = Inputs::new(Vec::new(), &files);
        // The FIFO is live: its silence gives Idle ticks, and the consumer ends the run at one.
        let read = inputs.read(true, |event| if matches!(event, Event::Idle) { Err("done") } else { Ok(()) });
        assert!(matches!(read, Err(Failed::Consumer("done"))));
        assert_eq!(inputs.readers.join(), (1, 1), "the file's thread joined; the FIFO's, blocked opening it, left");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
