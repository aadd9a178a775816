//! The terminal on standard output, as the system describes it: its size in columns and rows,
//! for the live screen. The system call (`ioctl(TIOCGWINSZ)`, with the C library's own request
//! number and structure for each platform) lives here with the process's other edges, so the
//! screen's renderer holds no `unsafe` code.

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
