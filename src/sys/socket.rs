//! TCP keepalive on a server's connection, so that a server that vanishes without closing it
//! (its host down, the network cut, a firewall that forgets the connection) is found: a MONITOR
//! stream that is merely quiet looks the same from this end, and a read would wait forever. The
//! kernel probes a connection silent for [`IDLE`], every [`INTERVAL`], and fails its next read
//! with `ETIMEDOUT` after [`PROBES`] unanswered; a live server's kernel answers every probe, so
//! a quiet stream costs a few empty segments a minute.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

/// Silence before the first probe.
pub const IDLE: Duration = Duration::from_secs(5);
/// Between probes.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// Probes unanswered before the connection is given up.
pub const PROBES: u32 = 3;

/// How long a vanished server goes unnoticed at most: its silence, then the probes.
pub const UNNOTICED: Duration = Duration::from_secs(IDLE.as_secs() + INTERVAL.as_secs() * PROBES as u64);

/// Turns keepalive on for `socket`, with the timings above where the system lets them be set.
pub fn keep_alive(socket: &TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    set(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, IDLE.as_secs() as libc::c_int)?;
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, INTERVAL.as_secs() as libc::c_int)?;
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, PROBES as libc::c_int)?;
    }
    Ok(())
}

/// True when a read failed because the probes went unanswered (or the kernel otherwise timed
/// the connection out): the server is gone, which a read's own timeout never means here.
pub fn timed_out(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ETIMEDOUT)
}

fn set(fd: libc::c_int, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from the pointer it is given, which
    // points at `value`, alive for the call; `fd` is an open socket borrowed from its owner.
    let done = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_gets_keepalive_with_its_timings() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        keep_alive(&socket).unwrap();
        let get = |level, name| {
            let mut value: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt writes at most `len` bytes to `value`, and `len` back.
            let done = unsafe {
                libc::getsockopt(socket.as_raw_fd(), level, name, (&mut value as *mut libc::c_int).cast(), &mut len)
            };
            assert_eq!(done, 0);
            value
        };
        assert_eq!(get(libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
        #[cfg(target_os = "linux")]
        assert_eq!((get(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), get(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL)), (5, 2));
        assert_eq!(UNNOTICED, Duration::from_secs(11));
        assert!(timed_out(&io::Error::from_raw_os_error(libc::ETIMEDOUT)));
        assert!(!timed_out(&io::ErrorKind::TimedOut.into()));
    }
}
