//! Standard output, written straight to its file descriptor.
//!
//! The program buffers its own output (records in blocks, a report as one string), so nothing is
//! gained from std's line buffer, and one thing is lost: std retries a write that a signal
//! interrupted. Here a write interrupted after Ctrl-C (the [`Stop`] it is given) fails with
//! [`WriteStopped`], so a run whose reader stalled (`| less`, a full FIFO) ends at the first Ctrl-C.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::mem::ManuallyDrop;

use crate::sys::signal::Stop;

/// Why a write gave up: Ctrl-C or SIGTERM arrived while the output could not take more.
#[derive(Debug)]
pub struct WriteStopped;

impl fmt::Display for WriteStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped while the output was blocked: it is incomplete")
    }
}

impl std::error::Error for WriteStopped {}

/// True when `err` is a write given up at Ctrl-C.
pub fn is_stopped(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<WriteStopped>())
}

/// File descriptor 1, unbuffered, never closed.
pub struct Stdout {
    file: ManuallyDrop<File>,
    /// A write the output cannot take gives up once the run is to stop.
    stop: Stop,
}

impl Stdout {
    /// Standard output, giving up a blocked write when `stop` says so.
    #[cfg(unix)]
    pub fn new(stop: Stop) -> Stdout {
        use std::os::fd::FromRawFd;
        // SAFETY: descriptor 1 is open for the life of the process; ManuallyDrop keeps this
        // File from closing it.
        Stdout { file: ManuallyDrop::new(unsafe { File::from_raw_fd(1) }), stop }
    }
}

/// True when standard output was closed when the process started (`faina-filter cap.txt >&-`):
/// the Rust runtime then opens `/dev/null` in its place (read and write, as no shell
/// redirection does), and a report written there would be lost without a word.
#[cfg(unix)]
pub fn was_closed() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    // SAFETY: F_GETFL only reads the flags of descriptor 1; an unopened one gives -1.
    let flags = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFL) };
    if flags < 0 {
        return true;
    }
    if flags & libc::O_ACCMODE != libc::O_RDWR {
        return false;
    }
    let stdout = std::io::stdout();
    let Ok(out) = stdout.as_fd().try_clone_to_owned().map(File::from) else { return true };
    match (out.metadata(), std::fs::metadata("/dev/null")) {
        (Ok(out), Ok(null)) => out.file_type().is_char_device() && out.rdev() == null.rdev(),
        _ => false,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.file.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted && self.stop.requested() => {
                    return Err(io::Error::other(WriteStopped));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Writes all of `buf`, unless Ctrl-C comes while it cannot: a signal interrupts a blocked
    /// write to a pipe after part of it went through (no error then), so the write that was
    /// under way gives up at the first signal, and one begun after it goes on.
    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        let stop = self.stop;
        let stopped_before = stop.requested();
        let give_up = || !stopped_before && stop.requested();
        while !buf.is_empty() {
            match self.file.write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            if give_up() && !buf.is_empty() {
                return Err(io::Error::other(WriteStopped));
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
