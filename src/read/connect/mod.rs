//! Live capture built in: `--connect TARGET` opens the MONITOR stream itself.
//!
//! The contract: a [`Node`] is one server (or one node index behind a cluster proxy). Its
//! [`Node::run`] connects, authenticates (`AUTH [user] password`), sends `MONITOR` (or
//! `IMONITOR n`), checks the `+OK`, and hands the stream — the `+OK` line first, as telnet
//! would show it, so a connection reads exactly like `redis-cli monitor | …` — to the reader
//! it is given, until the stream ends. A stream that breaks after it was read is retried with
//! backoff; a refusal (NOAUTH, WRONGPASS, no MONITOR command) or a server that cannot be reached
//! at the first attempt gives the node up at once. Every change is told through the shared
//! [`Watch`] as a [`Change`], never blocking the reader, so the socket is drained however the
//! consumer fares. [`Node::close`] shuts the connection down (and stops any retry) from any
//! thread: every exit of a run calls it, so no MONITOR client is left on a server.
//!
//! No password reaches any message: server replies quoted in one are cut, escaped, and have the
//! password's bytes replaced.
//!
//! Around it: [`target`] parses what `--connect` names, [`password`] finds the password,
//! [`resp`] speaks the handshake's RESP, [`topology`] asks a cluster or a proxy which nodes to
//! monitor, `tls` (the feature `tls`) wraps a socket for `rediss://`, and [`state`] says what
//! becomes of each node.

mod password;
mod resp;
mod state;
pub mod target;
#[cfg(feature = "tls")]
mod tls;
pub mod topology;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::sys::signal::Stop;

pub use password::{PasswordSource, Secret};
pub use state::{Change, ConnectState, Watch};
pub use target::{Addr, Target};

use resp::{Reply, Wire};

/// What `rediss://` says in a build without TLS.
pub const NO_TLS: &str = "rediss:// (TLS) is not in this build (build with --features tls); \
     meanwhile: redis-cli --tls … monitor | faina-filter";

/// How long a connection and each handshake reply may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read of the stream waits before it says the stream paused: lines held back while
/// the consumer had no room are offered again then.
const PAUSE: Duration = Duration::from_millis(100);

/// The first wait before a lost node is tried again, and the longest.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// The TLS options of the command line (`--tls-ca`, `--tls-cert`, `--tls-key`,
/// `--tls-insecure`, `--sni`), in every build; only a build with the feature `tls` takes them.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca: Option<std::ffi::OsString>,
    pub cert: Option<std::ffi::OsString>,
    pub key: Option<std::ffi::OsString>,
    pub insecure: bool,
    pub sni: Option<String>,
}

impl TlsOptions {
    pub fn is_set(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some() || self.insecure || self.sni.is_some()
    }
}

/// How a run reaches its servers: the password and where it came from, and the TLS settings.
#[derive(Debug, Default)]
pub struct NodeAccess {
    pub password: Option<(Secret, PasswordSource)>,
    /// The run is to stop: every node's connection ends, as when it is closed.
    stop: Stop,
    #[cfg(feature = "tls")]
    tls: Option<tls::Tls>,
}

impl NodeAccess {
    /// Finds the password (see [`password::find`]) for these targets, and builds the TLS
    /// settings if a target is `rediss://`.
    pub fn find(
        targets: &[Target],
        file: Option<&std::ffi::OsString>,
        askpass: bool,
        tls: &TlsOptions,
        stop: Stop,
    ) -> Result<NodeAccess, String> {
        let wants_tls = targets.iter().any(|t| t.tls);
        if tls.is_set() && !wants_tls {
            return Err("the --tls options are for rediss:// targets".into());
        }
        #[cfg(feature = "tls")]
        let tls = wants_tls.then(|| tls::Tls::new(tls)).transpose()?;
        let user_named = targets.iter().any(|t| t.user.is_some());
        let server = match targets {
            [one] => one.user.as_ref().map_or(one.addr.to_string(), |u| format!("{u}@{}", one.addr)),
            _ => format!("{} servers", targets.len()),
        };
        let password = password::find(file, askpass, user_named, &server, stop)?;
        Ok(NodeAccess {
            password,
            stop,
            #[cfg(feature = "tls")]
            tls,
        })
    }
}

/// What a connection asks the server for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Monitor {
    /// `MONITOR`.
    All,
    /// `IMONITOR n`: node `n` behind a cluster proxy.
    Index(u32),
    /// `RIMONITOR n r`: replica `r` of node `n` behind a cluster proxy.
    Replica(u32, u32),
}

impl Monitor {
    /// The command's name.
    fn command(self) -> &'static str {
        match self {
            Monitor::All => "MONITOR",
            Monitor::Index(_) => "IMONITOR",
            Monitor::Replica(..) => "RIMONITOR",
        }
    }
}

/// A stream to a server.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    #[cfg(feature = "tls")]
    Tls(Box<tls::TlsStream>),
}

impl Stream {
    /// A handle on the socket underneath, to shut it down from another thread.
    fn handle(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Stream::Tcp(s.sock.try_clone()?),
        })
    }

    fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.sock.shutdown(Shutdown::Both),
        };
    }

    fn set_timeouts(&self, limit: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(limit).and_then(|()| s.set_write_timeout(limit)),
            Stream::Unix(s) => s.set_read_timeout(limit).and_then(|()| s.set_write_timeout(limit)),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.sock.set_read_timeout(limit).and_then(|()| s.sock.set_write_timeout(limit)),
        }
    }
}

impl Read for Stream {
    /// A read that waited its timeout out fails as `TimedOut` (std says `WouldBlock`): the
    /// line reader takes that for a pause.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
        };
        match read {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::ErrorKind::TimedOut.into()),
            // The kernel's own timeout, not the read's: the server went away without a close.
            Err(e) if crate::sys::socket::timed_out(&e) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!(
                    "the server stopped answering: no reply to TCP keepalive probes after {}s of silence",
                    crate::sys::socket::UNNOTICED.as_secs()
                ),
            )),
            other => other,
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf).and_then(|n| s.flush().map(|()| n)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a connection attempt failed.
#[derive(Debug)]
enum Failure {
    /// The server answered, and said no: retrying would not help.
    Refused(String),
    /// No server could be talked to (refused, unresolved, silent, closed).
    Unreachable(String),
}

/// One server to monitor.
pub struct Node {
    pub target: Target,
    pub monitor: Monitor,
    /// The node's label in reports.
    pub label: Vec<u8>,
    access: Arc<NodeAccess>,
    /// A handle on the connection under way, so that [`Node::close`] can shut it down.
    current: Mutex<Option<Stream>>,
    closed: AtomicBool,
    /// Lines read but dropped because the consumer could not keep up.
    pub dropped: AtomicU64,
    /// The node's losses, for the closing summary.
    history: Mutex<History>,
}

/// How often, and for how long, a node was lost.
#[derive(Debug, Default)]
struct History {
    losses: u32,
    /// The time lost in gaps that have ended.
    unseen: Duration,
    /// Lost now: since when.
    since: Option<(SystemTime, Instant)>,
}

impl Node {
    pub fn new(target: Target, monitor: Monitor, access: Arc<NodeAccess>) -> Node {
        let label = match (monitor, &target.label) {
            (Monitor::All, _) => target.node(),
            (Monitor::Index(n), Some(name)) => [&name[..], b"/", n.to_string().as_bytes()].concat(),
            (Monitor::Index(n), None) => n.to_string().into_bytes(),
            (Monitor::Replica(n, r), Some(name)) => [&name[..], b"/", format!("{n}:{r}").as_bytes()].concat(),
            (Monitor::Replica(n, r), None) => format!("{n}:{r}").into_bytes(),
        };
        Node {
            target,
            monitor,
            label,
            access,
            current: Mutex::new(None),
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            history: Mutex::default(),
        }
    }

    /// How messages name the node.
    pub fn name(&self) -> String {
        match self.monitor {
            Monitor::All => self.target.name(),
            Monitor::Index(n) => format!("{} node {n}", self.target.name()),
            Monitor::Replica(n, r) => format!("{} node {n} replica {r}", self.target.name()),
        }
    }

    /// Shuts the connection down and stops any retry; the reader sees the stream end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut current) = self.current.lock() {
            if let Some(stream) = current.take() {
                stream.shutdown();
            }
        }
    }

    /// Drops the handle on the connection that was under way (it closes with its stream).
    fn forget_connection(&self) {
        if let Ok(mut current) = self.current.lock() {
            current.take();
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst) || self.access.stop.requested()
    }

    /// Keeps the node's stream coming until it is closed, given up, or `read` says its
    /// consumer is gone (`Err(())`). `read` reads one connection's stream to its end, and says
    /// how it ended.
    pub fn run(
        &self,
        index: u32,
        watch: &Watch,
        read: &mut dyn FnMut(Box<dyn Read + Send>) -> Result<io::Result<()>, ()>,
    ) {
        let tell =
            |state: ConnectState| watch.tell(Change { node: index, name: self.name(), at: SystemTime::now(), state });
        let mut lost: Option<(SystemTime, Instant)> = None;
        let mut wait = FIRST_RETRY;
        let mut attempts = 0u32;
        while !self.is_closed() {
            let opened = self.open();
            if opened.is_err() {
                // The handle on a connection refused would keep it open on the server.
                self.forget_connection();
            }
            match opened {
                Ok(stream) => {
                    watch.read_any.store(true, Ordering::SeqCst);
                    let lost_for = lost.take().map(|(_, began)| began.elapsed());
                    if let (Some(gap), Ok(mut history)) = (lost_for, self.history.lock()) {
                        history.unseen += gap;
                        history.since = None;
                    }
                    tell(ConnectState::Connected { lost_for });
                    (wait, attempts) = (FIRST_RETRY, 0);
                    let Ok(ended) = read(stream) else { return };
                    self.forget_connection();
                    if self.is_closed() {
                        return;
                    }
                    lost = Some((SystemTime::now(), Instant::now()));
                    if let Ok(mut history) = self.history.lock() {
                        history.losses += 1;
                        history.since = lost;
                    }
                    let why = ended.map_or_else(|e| plain(&e), |()| "the server closed the connection".into());
                    tell(ConnectState::Lost { why, retry_in: wait });
                }
                Err(Failure::Refused(why)) => return tell(ConnectState::GivenUp { why }),
                Err(Failure::Unreachable(why)) if lost.is_none() => return tell(ConnectState::GivenUp { why }),
                Err(Failure::Unreachable(why)) => {
                    attempts += 1;
                    // Said at the first failures and then ever more rarely: a long outage costs
                    // a few lines, not one a second.
                    if attempts.is_power_of_two() {
                        let since = lost.map_or(SystemTime::now(), |(at, _)| at);
                        tell(ConnectState::Retrying { since, attempts, why, retry_in: wait });
                    }
                }
            }
            self.pause(wait);
            wait = (wait * 2).min(LAST_RETRY);
        }
    }

    /// What the run lost of this node, at its end: `None` when it was never lost.
    pub fn summary(&self, index: u32) -> Option<Change> {
        let history = self.history.lock().ok()?;
        if history.losses == 0 {
            return None;
        }
        let ongoing = history.since.map(|(_, began)| began.elapsed()).unwrap_or_default();
        let state = ConnectState::Summary {
            losses: history.losses,
            unseen: history.unseen + ongoing,
            lost_at_end: history.since.map(|(at, _)| at),
        };
        Some(Change { node: index, name: self.name(), at: SystemTime::now(), state })
    }

    /// Sleeps `wait`, waking early when the node is closed.
    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.is_closed() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(until.saturating_duration_since(Instant::now())));
        }
    }

    /// Sends one command on a connection of its own (authenticated) and returns the reply:
    /// what the topology is asked. The error says why, without the password.
    pub fn ask(&self, args: &[&[u8]]) -> Result<Reply, String> {
        let why = |f: Failure| match f {
            Failure::Refused(why) | Failure::Unreachable(why) => why,
        };
        let wire = self.authenticated();
        self.forget_connection();
        let mut wire = wire.map_err(why)?;
        let reply = wire.call(args).map_err(|e| format!("no answer: {}", plain(&e)));
        wire.into_parts().0.shutdown();
        reply
    }

    /// One connection, through the handshake: the stream, with the `+OK` and whatever came
    /// after it first.
    fn open(&self) -> Result<Box<dyn Read + Send>, Failure> {
        let lost = handshake_failed;
        let mut wire = self.authenticated()?;
        self.monitor_on(&mut wire)?;
        let (stream, rest) = wire.into_parts();
        stream.set_timeouts(Some(PAUSE)).map_err(lost)?;
        let mut first = b"+OK\r\n".to_vec();
        first.extend_from_slice(&rest);
        Ok(Box::new(io::Cursor::new(first).chain(stream)))
    }

    /// A connection, authenticated if there is a password, with the handshake's timeouts; a
    /// handle on it kept for [`Node::close`].
    fn authenticated(&self) -> Result<Wire<Stream>, Failure> {
        let stream = self.dial()?;
        let lost = handshake_failed;
        stream.set_timeouts(Some(HANDSHAKE_TIMEOUT)).map_err(lost)?;
        if let Ok(mut current) = self.current.lock() {
            *current = Some(stream.handle().map_err(lost)?);
        }
        if self.is_closed() {
            stream.shutdown();
            return Err(Failure::Unreachable("closed".into()));
        }
        let mut wire = Wire::new(stream);
        if let Some((secret, source)) = &self.access.password {
            let reply = match &self.target.user {
                Some(user) => wire.call(&[b"AUTH", user.as_bytes(), secret.bytes()]),
                None => wire.call(&[b"AUTH", secret.bytes()]),
            };
            match reply.map_err(lost)? {
                Reply::Simple(ok) if ok == b"OK" => {}
                // A password the server does not need (REDISCLI_AUTH set for other servers): as
                // redis-cli does, go on without it.
                Reply::Error(e) if self.target.user.is_none() && no_password_set(&e) => {}
                Reply::Error(e) => return Err(Failure::Refused(self.auth_refused(&e, *source))),
                other => return Err(Failure::Refused(format!("AUTH got an unexpected reply: {}", self.shown(&other)))),
            }
        }
        Ok(wire)
    }

    fn monitor_on(&self, wire: &mut Wire<Stream>) -> Result<(), Failure> {
        let lost = handshake_failed;
        let reply = match self.monitor {
            Monitor::All => wire.call(&[b"MONITOR"]),
            Monitor::Index(n) => wire.call(&[b"IMONITOR", n.to_string().as_bytes()]),
            Monitor::Replica(n, r) => wire.call(&[b"RIMONITOR", n.to_string().as_bytes(), r.to_string().as_bytes()]),
        };
        match reply.map_err(lost)? {
            Reply::Simple(ok) if ok == b"OK" => {}
            Reply::Error(e) => return Err(Failure::Refused(self.monitor_refused(&e))),
            other => return Err(Failure::Refused(format!("MONITOR got an unexpected reply: {}", self.shown(&other)))),
        }
        Ok(())
    }

    /// A connected socket, or why there is none.
    fn dial(&self) -> Result<Stream, Failure> {
        let unreachable = |what: String| Failure::Unreachable(what);
        match &self.target.addr {
            Addr::Unix(path) => UnixStream::connect(path).map(Stream::Unix).map_err(|e| {
                unreachable(format!(
                    "{}{}",
                    plain(&e),
                    match e.kind() {
                        io::ErrorKind::NotFound => " (is the server's unixsocket set to this path?)",
                        io::ErrorKind::PermissionDenied => " (see the server's unixsocketperm)",
                        io::ErrorKind::ConnectionRefused => " (no server is listening on it)",
                        _ => "",
                    }
                ))
            }),
            Addr::Tcp { host, port } => {
                let addrs = (host.as_str(), *port).to_socket_addrs().map_err(|e| {
                    unreachable(format!(
                        "cannot resolve '{}': {} (is the name right?)",
                        crate::format::escape::escaped(host.as_bytes()),
                        plain(&e)
                    ))
                })?;
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect_timeout(&addr, HANDSHAKE_TIMEOUT) {
                        Ok(s) => {
                            crate::sys::socket::keep_alive(&s).map_err(handshake_failed)?;
                            return if self.target.tls { self.secure(host, s) } else { Ok(Stream::Tcp(s)) };
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let why = last.map_or("the name has no address".into(), |e| match e.kind() {
                    io::ErrorKind::ConnectionRefused => {
                        "connection refused (is the server running, on this port?)".into()
                    }
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        format!("no answer within {}s (a firewall, or the wrong address?)", HANDSHAKE_TIMEOUT.as_secs())
                    }
                    _ => plain(&e),
                });
                Err(unreachable(why))
            }
        }
    }

    /// TLS over a connected socket (`rediss://`), through the handshake.
    #[cfg(feature = "tls")]
    fn secure(&self, host: &str, socket: TcpStream) -> Result<Stream, Failure> {
        let tls = self.access.tls.as_ref().ok_or_else(|| Failure::Refused("TLS was not set up".into()))?;
        socket.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(handshake_failed)?;
        socket.set_write_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(handshake_failed)?;
        tls.connect(host, socket).map(|s| Stream::Tls(Box::new(s))).map_err(Failure::Refused)
    }

    #[cfg(not(feature = "tls"))]
    fn secure(&self, _host: &str, _socket: TcpStream) -> Result<Stream, Failure> {
        Err(Failure::Refused(NO_TLS.into()))
    }

    fn auth_refused(&self, error: &[u8], source: PasswordSource) -> String {
        let user = self
            .target
            .user
            .as_deref()
            .map_or(String::new(), |u| format!(" for user '{}'", crate::format::escape::escaped(u.as_bytes())));
        let from = source.name();
        if error.starts_with(b"WRONGPASS") || error.starts_with(b"ERR invalid password") {
            format!(
                "the password (from {from}) was wrong{user}, or the user does not exist: the server said {}",
                self.quoted(error)
            )
        } else if no_password_set(error) {
            format!("the server has no password for user{user} (a password came from {from})")
        } else if error.starts_with(b"ERR wrong number of arguments") {
            "the server is older than Redis 6 and has no ACL users: leave the user out of the URL".into()
        } else {
            format!("AUTH was refused: {}", self.quoted(error))
        }
    }

    fn monitor_refused(&self, error: &[u8]) -> String {
        let command = self.monitor.command();
        let unknown = error.starts_with(b"ERR unknown command");
        if error.starts_with(b"NOAUTH") {
            "the server wants a password: give it in REDISCLI_AUTH, --password-file FILE or --askpass".into()
        } else if error.starts_with(b"NOPERM") {
            format!("the user may not run {command}: its ACL needs +monitor (the server said {})", self.quoted(error))
        } else if unknown && self.monitor == Monitor::All {
            format!(
                "the server has no MONITOR command ({}): renamed away with rename-command, or a cluster proxy \
                 that wants --imonitor N",
                self.quoted(error)
            )
        } else if unknown && matches!(self.monitor, Monitor::Replica(..)) {
            format!(
                "the server has no RIMONITOR command ({}): this proxy streams no replica; --imonitor N \
                 monitors the node's primary",
                self.quoted(error)
            )
        } else if unknown {
            format!(
                "the server has no IMONITOR command ({}): it is no cluster proxy that has it; \
                 connect to the nodes themselves (--connect each, or --cluster)",
                self.quoted(error)
            )
        } else {
            format!("{command} was refused: {}", self.quoted(error))
        }
    }

    /// A server's reply as a message may quote it: cut, escaped, the password replaced.
    fn quoted(&self, text: &[u8]) -> String {
        let mut text = text.to_vec();
        if let Some((secret, _)) = &self.access.password {
            text = replace_all(&text, secret.bytes(), b"(redacted)");
        }
        let mut out = Vec::new();
        crate::format::escape::escape_truncated(&text, 200, &mut out);
        format!("'{}'", String::from_utf8_lossy(&out))
    }

    fn shown(&self, reply: &Reply) -> String {
        match reply {
            Reply::Simple(t) | Reply::Bulk(t) | Reply::Error(t) => self.quoted(t),
            Reply::Int(n) => n.to_string(),
            Reply::Nil => "nil".into(),
            Reply::Array(items) => format!("an array of {}", items.len()),
        }
    }
}

/// Why a handshake that the server did not finish failed.
fn handshake_failed(e: io::Error) -> Failure {
    // TLS 1.3 says a client certificate was refused only after the handshake, at the first read.
    #[cfg(feature = "tls")]
    if let Some(why) = tls::refusal(&e, "") {
        return Failure::Refused(why);
    }
    Failure::Unreachable(match e.kind() {
        io::ErrorKind::TimedOut => {
            format!(
                "no answer within {}s to the handshake (is it a Redis server? is it hung?)",
                HANDSHAKE_TIMEOUT.as_secs()
            )
        }
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
            format!("the server closed the connection before answering ({}; a TLS port wants rediss://)", plain(&e))
        }
        _ => format!("the handshake failed: {}", plain(&e)),
    })
}

/// The server's reply to AUTH when it has no password: `ERR AUTH <password> called without any
/// password configured…` (6.0 on), `ERR Client sent AUTH, but no password is set` (before).
fn no_password_set(error: &[u8]) -> bool {
    error.starts_with(b"ERR AUTH") || error.starts_with(b"ERR Client sent AUTH")
}

/// `haystack` with every `needle` replaced.
fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    use bstr::ByteSlice;
    if needle.is_empty() {
        return haystack.to_vec();
    }
    haystack.replace(needle, with)
}

/// An I/O error's text without the `(os error N)` tail.
fn plain(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_replies_never_carry_the_password() {
        // A build with TLS has a field more.
        #[allow(clippy::needless_update)]
        let access = NodeAccess {
            password: Some((Secret::from_bytes(b"hunter2"), PasswordSource::Env)),
            ..NodeAccess::default()
        };
        let node = Node::new(Target::parse("h:1").unwrap(), Monitor::All, Arc::new(access));
        let why = node.monitor_refused(b"ERR unknown command 'AUTH', with args beginning with: 'hunter2' \x1b[2J");
        assert!(!why.contains("hunter2") && !why.contains('\x1b'), "{why}");
        assert!(why.contains("(redacted)"), "{why}");
        let why =
            node.auth_refused(b"WRONGPASS invalid username-password pair or user is disabled.", PasswordSource::Env);
        assert!(why.starts_with("the password (from REDISCLI_AUTH) was wrong"), "{why}");
    }
}
