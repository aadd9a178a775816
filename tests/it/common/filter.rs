//! The filter run in the background, as a person would run it against a live server: its
//! standard error and output collected as they come, signals sent, its exit waited for.

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::contains;

/// A filter running in the background, its stderr (and stdout, unless left unread) collected.
pub struct Filter {
    pub child: Child,
    err: Arc<Mutex<Vec<u8>>>,
    out: Arc<Mutex<Vec<u8>>>,
    /// The threads reading its pipes: joined once it has exited, so all it wrote has been read.
    readers: Vec<thread::JoinHandle<()>>,
}

/// Waits (at most 10 s) until the filter `pid`, whose output is the pipe read at `out`, is
/// blocked writing to it: the pipe full and the main thread (the one signals reach) asleep in a
/// pipe write. False if that never comes. A fixed sleep instead races a slow start: a Ctrl-C
/// that lands before the write that blocks is not one that meets a blocked output (that write,
/// begun after it, goes on, as the report after a Ctrl-C must).
pub fn until_blocked(pid: u32, out: &impl std::os::fd::AsRawFd) -> bool {
    let fd = out.as_raw_fd();
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: F_GETPIPE_SZ and FIONREAD only read the state of an open pipe into an int.
    let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    assert!(size > 0, "the filter's output is a pipe");
    while Instant::now() < deadline {
        let mut held: libc::c_int = 0;
        // SAFETY: as above.
        let full = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut held) } == 0 && held >= size - 4096;
        // The kernel's name of where the thread sleeps: `pipe_write` (`anon_pipe_write` since 6.x).
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/wchan")).unwrap_or_default();
        if full && wchan.contains("pipe_write") {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

pub fn collect(from: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    read_in_background(from).0
}

fn read_in_background(mut from: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, thread::JoinHandle<()>) {
    let data = Arc::new(Mutex::new(Vec::new()));
    let sink = data.clone();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (data, reader)
}

impl Filter {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Filter {
        Filter::spawn(args, env, true)
    }

    /// With standard output a pipe nobody reads: a stalled `| less`.
    pub fn stalled(args: &[&str]) -> (Filter, std::process::ChildStdout) {
        let mut filter = Filter::spawn(args, &[], false);
        let out = filter.child.stdout.take().unwrap();
        (filter, out)
    }

    fn spawn(args: &[&str], env: &[(&str, &str)], read_out: bool) -> Filter {
        let mut command = super::faina();
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start faina-filter");
        let (err, err_reader) = read_in_background(child.stderr.take().unwrap());
        let mut readers = vec![err_reader];
        let mut out = Arc::default();
        if read_out {
            let (data, reader) = read_in_background(child.stdout.take().unwrap());
            out = data;
            readers.push(reader);
        }
        Filter { child, err, out, readers }
    }

    /// Waits until stderr holds `needle`, or panics after 10 s.
    pub fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if contains(&self.err.lock().unwrap(), needle.as_bytes()) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("stderr never said {needle:?}: {}", self.stderr());
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub fn signal(&self, signal: &str) {
        super::signal(&self.child, signal);
    }

    /// Waits for the exit (10 s at most), then for its pipes to be read to their end.
    pub fn exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                for reader in self.readers.drain(..) {
                    reader.join().unwrap();
                }
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("the filter did not exit: {}", self.stderr());
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
