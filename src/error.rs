//! Why a run failed, as a value: [`crate::run`] returns it, `main` prints it once and turns it
//! into an exit status.

use std::fmt;
use std::io;

use crate::read::lines::Compressed;
use crate::sys::output;

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// An input could not be opened or read.
    Read { name: String, err: io::Error },
    /// The output could not be written.
    Write(io::Error),
    /// The rejects file could not be created or written.
    Rejects { name: String, err: io::Error },
    /// The command line is wrong: a flag or value, or flags that do not go together (exit
    /// status 2; `main` points to `--help`).
    Usage(UsageError),
    /// What a flag names cannot be used (exit status 2): a file missing, unreadable or not what
    /// it should be (`--commands`, `--password-file`), a `--rejects` file that would destroy
    /// data, `--askpass` without a terminal. The message names the flag and the file.
    Refused(String),
    /// Every input was a server, and none could be read (each was named when given up).
    NothingRead,
    /// What to connect to could not be found out (`--cluster`, `--imonitor all`).
    Connect(String),
}

impl Error {
    /// True when the reader of the output went away (`| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// True when Ctrl-C or SIGTERM ended a write the output could not take.
    pub fn is_stopped(&self) -> bool {
        matches!(self, Error::Write(e) if output::is_stopped(e))
    }

    /// True for a mistake on the command line (`main` then points to `--help`).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_))
    }

    /// The exit status for this error: 2 for a usage error, 1 otherwise.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Refused(_) => 2,
            _ => 1,
        }
    }
}

/// A mistake on the command line, the one kind there is: the message names the flag or value.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Error {
        Error::Usage(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { name, err } => match err.get_ref().and_then(|e| e.downcast_ref::<Compressed>()) {
                Some(c) if name == "standard input" => write!(
                    f,
                    "standard input is {}-compressed: decompress it first, as in {} capture.{} | faina-filter",
                    c.format,
                    c.reader,
                    c.extension()
                ),
                Some(c) => {
                    write!(f, "{name} is {}-compressed: read it with {} {name} | faina-filter", c.format, c.reader)
                }
                None => write!(f, "reading {name}: {err}"),
            },
            Error::Write(err) => write!(f, "writing output: {err}"),
            Error::Rejects { name, err } => write!(f, "writing rejects to {name}: {err}"),
            Error::Usage(UsageError(message)) | Error::Refused(message) => f.write_str(message),
            Error::NothingRead => f.write_str("no server could be read"),
            Error::Connect(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    /// The I/O error underneath, for a caller that walks the chain; [`Display`](fmt::Display)
    /// already names it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { err, .. } | Error::Write(err) | Error::Rejects { err, .. } => Some(err),
            Error::Usage(_) | Error::Refused(_) | Error::NothingRead | Error::Connect(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_io_error_underneath_is_its_source() {
        let err = Error::Write(io::Error::from(io::ErrorKind::BrokenPipe));
        let source = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::BrokenPipe));
        assert!(std::error::Error::source(&Error::NothingRead).is_none());
    }
}
