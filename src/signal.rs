//! Ctrl-C, SIGTERM and SIGHUP: the first ends a run the way end of input does (the report of
//! what was read so far is printed, if the output takes it); the second ends the process at
//! once, whatever it is blocked on. `telnet … | faina-filter` gets SIGINT too when the operator
//! stops telnet; SIGHUP comes when the terminal or the ssh connection closes, and the report
//! still goes where the output is redirected to. `--duration` ends a run the same way, by SIGALRM ([`end_after`]), except that a
//! signal after it is needed to end the process at once.
//!
//! The handler is installed so that a blocked system call is interrupted rather than restarted
//! (`siginterrupt`), and helper threads block these signals ([`quiet_thread`]), so the main
//! thread is the one interrupted: a write stuck on a stalled pipe returns, and the run ends.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
/// [`install`] ran: SIGALRM is caught (uncaught, it would end the process).
static INSTALLED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGALRM: i32 = 14;
const SIGTERM: i32 = 15;

/// The signals that end a run.
const ENDING: [i32; 4] = [SIGHUP, SIGINT, SIGALRM, SIGTERM];

/// True once SIGINT, SIGTERM or SIGHUP arrived (or SIGALRM, for `--duration`) (after [`install`]).
pub fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
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
mod sys {
    extern "C" {
        pub fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
        pub fn siginterrupt(signum: i32, flag: i32) -> i32;
        pub fn _exit(status: i32) -> !;
        pub fn setitimer(which: i32, new: *const ITimerVal, old: *mut ITimerVal) -> i32;
        #[cfg(target_os = "linux")]
        pub fn sigemptyset(set: *mut SigSet) -> i32;
        #[cfg(target_os = "linux")]
        pub fn sigaddset(set: *mut SigSet, signum: i32) -> i32;
        #[cfg(target_os = "linux")]
        pub fn pthread_sigmask(how: i32, set: *const SigSet, old: *mut SigSet) -> i32;
    }

    /// `sigset_t`, treated as opaque: 128 bytes in glibc and musl alike, filled by the C library.
    #[cfg(target_os = "linux")]
    #[repr(C, align(8))]
    pub struct SigSet(pub [u8; 128]);

    #[cfg(target_os = "linux")]
    pub const SIG_BLOCK: i32 = 0;

    /// `struct itimerval`: two `struct timeval`s of C longs.
    #[repr(C)]
    pub struct ITimerVal {
        pub interval: [std::ffi::c_long; 2],
        pub value: [std::ffi::c_long; 2],
    }

    pub const ITIMER_REAL: i32 = 0;
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
        unsafe { sys::_exit(128 + signum) }
    }
    SIGNAL.store(signum, Ordering::Relaxed);
}

/// Catches SIGINT, SIGTERM, SIGHUP (and SIGALRM, for [`end_after`]).
#[cfg(unix)]
pub fn install() {
    INSTALLED.store(true, Ordering::Relaxed);
    for signum in ENDING {
        // SAFETY: `on_signal` is async-signal-safe and lives for the whole program; both calls
        // only change how this process handles the signal.
        unsafe {
            sys::signal(signum, on_signal);
            sys::siginterrupt(signum, 1);
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
    let value = [(micros / 1_000_000) as std::ffi::c_long, (micros % 1_000_000) as std::ffi::c_long];
    let timer = sys::ITimerVal { interval: [0, 0], value };
    // SAFETY: `timer` is a valid itimerval; setitimer only arms this process's real-time timer.
    unsafe {
        sys::setitimer(sys::ITIMER_REAL, &timer, std::ptr::null_mut());
    }
}

#[cfg(not(unix))]
pub fn end_after(_limit: std::time::Duration) {}

/// Blocks the ending signals in the calling thread (a helper thread: reading an input, counting
/// keys), so that they interrupt the main thread, which decides what to do.
pub fn quiet_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: the set is filled by the C library before use; pthread_sigmask only changes this
    // thread's signal mask.
    unsafe {
        let mut set = sys::SigSet([0; 128]);
        sys::sigemptyset(&mut set);
        for signum in ENDING {
            sys::sigaddset(&mut set, signum);
        }
        sys::pthread_sigmask(sys::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Spawns a helper thread that leaves the ending signals to the main thread.
pub fn spawn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        quiet_thread();
        work()
    })
}
