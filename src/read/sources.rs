//! One input as the command line names it: a file, `-` for standard input, `NAME=PATH` to label
//! it as a node (unless a file of that whole name exists), or a server to connect to; and what
//! an input holds, told by its first bytes ([`sniff`]): a packet capture, or lines.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use crate::read::capture;
use crate::read::connect;

/// One input: a file (or `-`), and the node it is labelled with (`NAME=PATH`); or a server to
/// connect to.
pub struct Input {
    pub path: OsString,
    pub label: Option<Vec<u8>>,
    pub server: Option<Arc<connect::Node>>,
}

impl Input {
    /// `NAME=PATH` labels an input, unless a file of that whole name exists.
    pub fn parse(arg: &OsString) -> Input {
        use std::os::unix::ffi::OsStrExt;
        let bytes = arg.as_encoded_bytes();
        if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
            let (name, path) = (&bytes[..eq], &bytes[eq + 1..]);
            let plausible = !name.is_empty() && !name.contains(&b'/') && !path.is_empty();
            if plausible && !std::path::Path::new(arg).exists() {
                let path = std::ffi::OsStr::from_bytes(path).to_os_string();
                return Input { path, label: Some(name.to_vec()), server: None };
            }
        }
        Input { path: arg.clone(), label: None, server: None }
    }

    /// Shuts its connection down, if it is a server (no MONITOR client is left on it).
    pub fn close(&self) {
        if let Some(server) = &self.server {
            server.close();
        }
    }

    pub fn is_stdin(&self) -> bool {
        self.server.is_none() && self.path == "-"
    }

    /// The node label: the given name, or the file's name.
    pub(crate) fn node(&self) -> Vec<u8> {
        if let Some(server) = &self.server {
            return server.label.clone();
        }
        match &self.label {
            Some(label) => label.clone(),
            None if self.is_stdin() => b"stdin".to_vec(),
            None => std::path::Path::new(&self.path)
                .file_name()
                .map_or_else(|| self.path.as_encoded_bytes(), |n| n.as_encoded_bytes())
                .to_vec(),
        }
    }

    /// How messages name it.
    pub fn name(&self) -> String {
        if let Some(server) = &self.server {
            server.name()
        } else if self.is_stdin() {
            "standard input".to_string()
        } else {
            crate::format::escape::escaped(self.path.as_encoded_bytes())
        }
    }

    /// What the file system says of it (standard input's, for `-`).
    pub fn metadata(&self) -> Option<std::fs::Metadata> {
        if self.server.is_some() {
            None
        } else if self.is_stdin() {
            use std::os::fd::AsFd;
            io::stdin().as_fd().try_clone_to_owned().ok().and_then(|fd| File::from(fd).metadata().ok())
        } else {
            std::fs::metadata(&self.path).ok()
        }
    }

    /// A live stream: anything but a regular file (a terminal, a pipe, a FIFO, a socket).
    pub(crate) fn is_live(&self) -> bool {
        self.server.is_some() || self.metadata().is_some_and(|m| !m.is_file())
    }

    pub(crate) fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        if self.is_stdin() {
            Ok(Box::new(io::stdin()))
        } else {
            Ok(Box::new(File::open(&self.path)?))
        }
    }
}

/// What an input holds, told by its first bytes.
pub enum Content {
    Lines,
    Capture,
}

/// Looks at the first bytes of `input` without losing them: a packet capture starts with its
/// format's magic number; anything else is read as lines. Only these bytes are looked at, so
/// reading lines costs nothing more.
pub fn sniff<'r>(mut input: Box<dyn Read + Send + 'r>) -> io::Result<(Content, Box<dyn Read + Send + 'r>)> {
    let mut first = [0u8; 4];
    let mut n = 0;
    let mut ended = false;
    while n < first.len() && !ended {
        match input.read(&mut first[n..]) {
            Ok(0) => ended = true,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kind = if capture::is_capture(&first[..n]) { Content::Capture } else { Content::Lines };
    let head = io::Cursor::new(first[..n].to_vec());
    // An end already read is not read again: a terminal's Ctrl-D is said once.
    Ok((kind, if ended { Box::new(head) } else { Box::new(head.chain(input)) }))
}
