//! The terminals, as the system describes them: the size in columns and rows of the one on
//! standard output, for the live screen, and the echo of the one on standard input turned off
//! while a password is typed. The system calls (`ioctl(TIOCGWINSZ)`, `tcgetattr`/`tcsetattr`,
//! with the C library's own constants and structures for each platform) live here with the
//! process's other edges, so neither the screen nor the password prompt holds `unsafe` code.

use std::io;

/// Columns and rows of the terminal on standard output; `None` when standard output is not a
/// terminal, or the terminal gives no size.
#[cfg(unix)]
pub fn window_size() -> Option<(u16, u16)> {
    let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize structure to the pointer it is given, which points
    // at `size`.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size as *mut libc::winsize) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0).then_some((size.ws_col, size.ws_row))
}

#[cfg(not(unix))]
pub fn window_size() -> Option<(u16, u16)> {
    None
}

/// The terminal on standard input with its echo off (`--askpass`): the settings from before,
/// put back when it is dropped.
pub struct EchoOff {
    #[cfg(unix)]
    saved: libc::termios,
}

#[cfg(unix)]
impl EchoOff {
    pub fn new() -> io::Result<EchoOff> {
        // SAFETY: a zeroed termios is a valid value of it, filled in by tcgetattr below.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `saved` is a valid, writable termios for fd 0; tcgetattr only fills it in.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: `quiet` is the terminal's own settings with echo cleared; this changes
        // only fd 0's terminal, restored on drop.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(EchoOff { saved })
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings tcgetattr returned for the same terminal.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved) };
    }
}

#[cfg(not(unix))]
impl EchoOff {
    pub fn new() -> io::Result<EchoOff> {
        Err(io::Error::other("not on this system"))
    }
}
