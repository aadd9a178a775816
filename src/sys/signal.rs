//! Ctrl-C, SIGTERM and SIGHUP: the first ends a run the way end of input does (the report of
//! what was read so far is printed, if the output takes it); the second ends the process at
//! once, whatever it is blocked on. `telnet … | faina-filter` gets SIGINT too when the operator
//! stops telnet; SIGHUP comes when the terminal or the ssh connection closes, and the report
//! still goes where the output is redirected to. `--duration` ends a run the same way, by SIGALRM ([`end_after`]), except that a
//! signal after it is needed to end the process at once.
//!
//! The handler is installed so that a blocked system call is interrupted rather than restarted
//! (`sigaction` without `SA_RESTART`), and helper threads block these signals ([`quiet_thread`]), so the main
//! thread is the one interrupted: a write stuck on a stalled pipe returns, and the run ends.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
/// [`install`] ran: SIGALRM is caught (uncaught, it would end the process).
static INSTALLED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

use libc::{SIGALRM, SIGHUP, SIGINT, SIGTERM};

/// The signals that end a run.
const ENDING: [i32; 4] = [SIGHUP, SIGINT, SIGALRM, SIGTERM];

/// Whether a run is to stop, as the edges hand it down: what reads the inputs and what writes
/// the output is given one when it is made, and never asks the process's signal state itself.
/// [`Stop::signals`] is the process's (the first ending signal); [`Stop::never`] is for a run
/// that no signal ends (a test feeding a session, a fuzz target).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stop(Option<&'static AtomicBool>);

impl Stop {
    /// Stops at the first SIGINT, SIGTERM or SIGHUP, or at `--duration`'s SIGALRM (once
    /// [`install`] has run).
    pub fn signals() -> Stop {
        Stop(Some(&STOP))
    }

    pub fn never() -> Stop {
        Stop(None)
    }

    /// True once the run is to stop.
    #[inline]
    pub fn requested(self) -> bool {
        self.0.is_some_and(|flag| flag.load(Ordering::Relaxed))
    }
}

/// The exit status of a run ended by a signal: 128 + its number (130 for Ctrl-C, and for a
/// write `--duration` cut short).
pub fn exit_status() -> u8 {
    match SIGNAL.load(Ordering::Relaxed) {
        0 | SIGALRM => 130,
        n => 128u8.saturating_add(n as u8),
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signum: i32) {
    // Only atomics and _exit: async-signal-safe.
    if signum == SIGALRM {
        // --duration is up: the run ends, unless it is already ending.
        if !STOP.swap(true, Ordering::Relaxed) {
            SIGNAL.store(signum, Ordering::Relaxed);
        }
        return;
    }
    if STOP.swap(true, Ordering::Relaxed) {
        // SAFETY: _exit is async-signal-safe and ends the process without running anything else.
        unsafe { libc::_exit(128 + signum) }
    }
    SIGNAL.store(signum, Ordering::Relaxed);
}

/// Catches SIGINT, SIGTERM, SIGHUP (and SIGALRM, for [`end_after`]).
#[cfg(unix)]
pub fn install() {
    INSTALLED.store(true, Ordering::Relaxed);
    for signum in ENDING {
        // SAFETY: a zeroed sigaction is a valid one (no flags, nothing else set); its mask is
        // then emptied by the C library.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(i32) as libc::sighandler_t;
        // No SA_RESTART: a system call the signal interrupts returns EINTR rather than resuming.
        action.sa_flags = 0;
        // SAFETY: `action.sa_mask` is a sigset_t owned here; `on_signal` is async-signal-safe
        // and lives for the whole program; sigaction only changes how this process handles
        // the signal.
        unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signum, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(not(unix))]
pub fn install() {}

/// Ends the run after `limit` (`--duration`), as Ctrl-C would: SIGALRM. Does nothing before
/// [`install`], since an uncaught SIGALRM would end the process.
#[cfg(unix)]
pub fn end_after(limit: std::time::Duration) {
    if !INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    let micros = limit.as_micros().max(1);
    let timer = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval {
            tv_sec: (micros / 1_000_000) as libc::time_t,
            tv_usec: (micros % 1_000_000) as libc::suseconds_t,
        },
    };
    // SAFETY: `timer` is a valid itimerval; setitimer only arms this process's real-time timer.
    unsafe {
        libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut());
    }
}

#[cfg(not(unix))]
pub fn end_after(_limit: std::time::Duration) {}

/// Blocks the ending signals in the calling thread (a helper thread: reading an input, counting
/// keys), so that they interrupt the main thread, which decides what to do.
pub fn quiet_thread() {
    #[cfg(unix)]
    // SAFETY: the set is a sigset_t owned here, emptied by the C library before use;
    // pthread_sigmask only changes this thread's signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signum in ENDING {
            libc::sigaddset(&mut set, signum);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Spawns a helper thread that leaves the ending signals to the main thread.
pub fn spawn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        quiet_thread();
        work()
    })
}
