//! Ctrl-C and SIGTERM end a run the way end of input does: the report of what was read so far
//! is printed. `telnet … | faina-filter` gets SIGINT too when the operator stops telnet.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// True once SIGINT or SIGTERM arrived (after [`install`]).
pub fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
}

#[cfg(unix)]
extern "C" fn on_signal(_: i32) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::Relaxed);
}

/// Catches SIGINT and SIGTERM. Uses the C library's `signal()`, which std already links; the
/// handler only sets a flag that the reading loop checks several times a second.
#[cfg(unix)]
pub fn install() {
    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;
    extern "C" {
        fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    }
    // SAFETY: `on_signal` is async-signal-safe and lives for the whole program.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
}

#[cfg(not(unix))]
pub fn install() {}
