//! What `--connect` names: a server as redis-cli and the client libraries write it.
//!
//! `redis://[user@]host[:port][/db]`, `host:port`, `host`, `[ipv6]:port`, `unix:///path/to/sock`
//! (or a bare `/path/to/sock`), each optionally labelled `NAME=TARGET`. A password in the URL
//! (`redis://user:secret@host`) is refused: it would show in `ps` and the shell's history. The
//! refusal never repeats the URL. `rediss://` (TLS) is recognised so that it can be refused with
//! what to do instead.

use std::fmt;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Tcp { host: String, port: u16 },
    Unix(std::path::PathBuf),
}

impl fmt::Display for Addr {
    /// `host:port` (`[::1]:6379`), or the socket's path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(path) => f.write_str(&crate::format::escape::escaped(path.as_os_str().as_encoded_bytes())),
        }
    }
}

/// One `--connect` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: Addr,
    /// The ACL user to authenticate as (`redis://user@host`).
    pub user: Option<String>,
    /// The label given with `NAME=TARGET`.
    pub label: Option<Vec<u8>>,
    /// The db of the URL, if it named one: MONITOR shows every db, so it is only said.
    pub db: Option<u32>,
    /// `rediss://`: TLS.
    pub tls: bool,
}

pub const DEFAULT_PORT: u16 = 6379;

impl Target {
    /// Parses a `--connect` value; the error says what is wrong without repeating the value
    /// (it may hold a password).
    pub fn parse(arg: &str) -> Result<Target, String> {
        let (label, rest) = match arg.split_once('=') {
            Some((name, rest)) if !name.is_empty() && !name.contains(['/', ':', '@']) => {
                (Some(name.as_bytes().to_vec()), rest)
            }
            _ => (None, arg),
        };
        let mut target = parse_target(rest)?;
        target.label = label;
        Ok(target)
    }

    /// The node's label in reports: the given name, or the address.
    pub fn node(&self) -> Vec<u8> {
        self.label.clone().unwrap_or_else(|| self.addr.to_string().into_bytes())
    }

    /// How messages name it: `NAME (ADDR)`, or the address.
    pub fn name(&self) -> String {
        match &self.label {
            Some(label) => format!("{} ({})", crate::format::escape::escaped(label), self.addr),
            None => self.addr.to_string(),
        }
    }
}

fn parse_target(text: &str) -> Result<Target, String> {
    if text.is_empty() {
        return Err("an empty target: give redis://HOST:PORT, HOST:PORT or unix:///PATH".into());
    }
    if let Some(path) = text.strip_prefix("unix://") {
        return unix(path);
    }
    if text.starts_with('/') {
        return unix(text);
    }
    if let Some(rest) = text.strip_prefix("rediss://") {
        if !cfg!(feature = "tls") {
            return Err(crate::read::connect::NO_TLS.into());
        }
        let mut target = url(rest)?;
        target.tls = true;
        return Ok(target);
    }
    if let Some(rest) = text.strip_prefix("redis://") {
        return url(rest);
    }
    if text.contains("://") {
        return Err("the scheme is none of redis://, rediss://, unix://: give redis://HOST:PORT".into());
    }
    let addr = host_port(text)?;
    Ok(Target { addr, user: None, label: None, db: None, tls: false })
}

fn unix(path: &str) -> Result<Target, String> {
    // unix:///path, or unix:///path?db=N as some libraries write it.
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if !path.starts_with('/') {
        return Err("a unix socket is named by its absolute path: unix:///path/to/redis.sock".into());
    }
    Ok(Target { addr: Addr::Unix(path.into()), user: None, label: None, db: None, tls: false })
}

/// `[user[:password]@]host[:port][/db]`, after `redis://`.
fn url(rest: &str) -> Result<Target, String> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let user = match userinfo {
        Some(info) if info.contains(':') && !info.ends_with(':') => {
            return Err("a password in the URL is refused (it shows in ps and the shell's history): \
                 give it in REDISCLI_AUTH, --password-file FILE or --askpass"
                .into())
        }
        Some(info) => {
            let name = info.trim_end_matches(':');
            (!name.is_empty()).then(|| percent_decoded(name)).transpose()?
        }
        None => None,
    };
    let db = match path.split_once('?').map_or(path, |(p, _)| p) {
        "" => None,
        n => Some(
            n.parse().map_err(|_| format!("'/{}' is not a db number", crate::format::escape::escaped(n.as_bytes())))?,
        ),
    };
    let addr = if hostport.is_empty() {
        Addr::Tcp { host: "127.0.0.1".into(), port: DEFAULT_PORT }
    } else {
        host_port(hostport)?
    };
    Ok(Target { addr, user, label: None, db, tls: false })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn host_port(text: &str) -> Result<Addr, String> {
    let shown = || crate::format::escape::escaped(text.as_bytes());
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) =
            rest.split_once(']').ok_or_else(|| format!("'{}': an IPv6 address lacks its ']'", shown()))?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(|| format!("'{}': ':' expected after ']'", shown()))?)),
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => (text, None), // a bare IPv6 address
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("'{}': the port is no number from 1 to 65535", shown()))?,
    };
    if host.is_empty() || host.bytes().any(|b| b.is_ascii_control() || b == b' ' || b == b'/' || b == b'@') {
        return Err(format!("'{}' is no host name or address", shown()));
    }
    Ok(Addr::Tcp { host: host.to_string(), port })
}

/// A URL's `%XX` escapes decoded (a user name may hold `@` or `:` so written).
fn percent_decoded(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("a '%' in the user name is not %XX")?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user name is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Addr {
        Addr::Tcp { host: host.into(), port }
    }

    #[test]
    fn targets_as_redis_cli_writes_them() {
        let t = Target::parse("redis://alice@10.0.0.5:7000/3").unwrap();
        assert_eq!((t.addr, t.user.as_deref(), t.db), (tcp("10.0.0.5", 7000), Some("alice"), Some(3)));
        assert_eq!(Target::parse("redis://h").unwrap().addr, tcp("h", 6379));
        assert_eq!(Target::parse("redis://").unwrap().addr, tcp("127.0.0.1", 6379));
        assert_eq!(Target::parse("redis://:@h:1").unwrap().user, None);
        assert_eq!(Target::parse("redis://a%40b@h").unwrap().user.as_deref(), Some("a@b"));
        assert_eq!(Target::parse("h:6380").unwrap().addr, tcp("h", 6380));
        assert_eq!(Target::parse("[::1]:6380").unwrap().addr, tcp("::1", 6380));
        assert_eq!(Target::parse("::1").unwrap().addr, tcp("::1", 6379));
        assert_eq!(Target::parse("redis://[::1]").unwrap().addr.to_string(), "[::1]:6379");
        let t = Target::parse("n1=unix:///tmp/r.sock").unwrap();
        assert_eq!((t.addr, t.label), (Addr::Unix("/tmp/r.sock".into()), Some(b"n1".to_vec())));
        let t = Target::parse("n2=redis://h:1").unwrap();
        assert_eq!((t.node(), t.name()), (b"n2".to_vec(), "n2 (h:1)".to_string()));
        assert_eq!(Target::parse("h:1").unwrap().node(), b"h:1");
    }

    #[test]
    fn a_password_in_the_url_is_refused_and_never_repeated() {
        for arg in ["redis://u:hunter2@h", "redis://:hunter2@h:6379/0", "n=redis://:hunter2@h"] {
            let err = Target::parse(arg).unwrap_err();
            assert!(err.contains("password in the URL is refused"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn rediss_is_tls_or_says_how_to_get_it() {
        match Target::parse("rediss://h:6380") {
            Ok(t) => assert!(cfg!(feature = "tls") && t.tls && t.addr == tcp("h", 6380)),
            Err(e) => {
                assert!(!cfg!(feature = "tls") && e.contains("--features tls") && e.contains("redis-cli --tls"), "{e}")
            }
        }
        assert!(!Target::parse("redis://h").unwrap().tls);
    }

    #[test]
    fn mistakes_are_named() {
        for (arg, needle) in [
            ("h:0", "port"),
            ("h:x", "port"),
            ("redis://h/x", "db number"),
            ("http://h", "scheme"),
            ("unix://tmp/s", "absolute path"),
            ("", "empty"),
            ("[::1", "']'"),
        ] {
            let err = Target::parse(arg).unwrap_err();
            assert!(err.contains(needle), "{arg}: {err}");
        }
    }
}
