//! Where the password comes from, never the command line: `--password-file FILE`, then
//! `REDISCLI_AUTH` (as redis-cli reads it), then a prompt on the terminal with echo off
//! (`--askpass`, or a user named in a URL with no password from elsewhere).
//!
//! A [`Secret`] never shows itself: its `Debug` is a placeholder and it has no `Display`, so no
//! message, report or record can carry it by mistake.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, IsTerminal, Write};

use crate::sys::signal::Stop;
use crate::sys::terminal::EchoOff;

/// A password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn from_bytes(bytes: &[u8]) -> Secret {
        Secret(bytes.to_vec())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

/// Where the password came from, for the message when the server refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    File,
    Env,
    Prompt,
}

impl PasswordSource {
    pub fn name(self) -> &'static str {
        match self {
            PasswordSource::File => "--password-file",
            PasswordSource::Env => "REDISCLI_AUTH",
            PasswordSource::Prompt => "the prompt",
        }
    }
}

/// The most a password file may hold: a password, not a capture named by mistake.
const MAX_FILE: u64 = 64 << 10;

/// The password of a run, from the first source that has one. `prompt_for` names the server
/// in the prompt when one is to be shown: asked for (`askpass`), or a user is named and no
/// other source has a password.
pub fn find(
    file: Option<&OsString>,
    askpass: bool,
    user_named: bool,
    prompt_for: &str,
    stop: Stop,
) -> Result<Option<(Secret, PasswordSource)>, String> {
    if let Some(path) = file {
        return read_file(path).map(|s| Some((s, PasswordSource::File)));
    }
    if let Some(value) = std::env::var_os("REDISCLI_AUTH").filter(|v| !v.is_empty()) {
        return Ok(Some((Secret(value.into_encoded_bytes()), PasswordSource::Env)));
    }
    if askpass || user_named {
        if !io::stdin().is_terminal() {
            if askpass {
                return Err(
                    "--askpass needs a terminal on standard input: give REDISCLI_AUTH or --password-file FILE".into()
                );
            }
            return Ok(None);
        }
        return prompt(prompt_for, stop).map(|s| Some((s, PasswordSource::Prompt)));
    }
    Ok(None)
}

/// The file's first line (without its line end), refusing an empty or oversized file.
fn read_file(path: &OsString) -> Result<Secret, String> {
    use std::io::Read;
    let shown = crate::format::escape::escaped(path.as_encoded_bytes());
    let file = std::fs::File::open(path).map_err(|e| format!("--password-file: '{shown}': {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(|e| format!("--password-file: '{shown}': {e}"))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!("--password-file: '{shown}' is larger than a password file (64 KiB)"));
    }
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(format!("--password-file: '{shown}' has no password on its first line"));
    }
    Ok(Secret(line.to_vec()))
}

/// Asks on standard error, reads a line from the terminal on standard input with echo off.
fn prompt(server: &str, stop: Stop) -> Result<Secret, String> {
    let mut err = io::stderr();
    let _ = write!(err, "Password for {server}: ");
    let _ = err.flush();
    let line = {
        let _quiet = EchoOff::new().map_err(|e| {
            format!("cannot turn the terminal's echo off ({e}): give REDISCLI_AUTH or --password-file FILE")
        })?;
        read_line(stop)
    };
    let _ = writeln!(err);
    let line = line?;
    if line.is_empty() {
        return Err("no password was typed".into());
    }
    Ok(Secret(line))
}

/// A line from standard input, a byte at a time so that Ctrl-C ends the wait (the echo is
/// then restored before the run ends).
fn read_line(stop: Stop) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut line = Vec::new();
    let mut stdin = io::stdin().lock();
    let mut byte = [0u8; 1];
    loop {
        match stdin.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() < MAX_FILE as usize => line.push(byte[0]),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted && !stop.requested() => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err("stopped at the password prompt".into()),
            Err(e) => return Err(format!("reading the password: {e}")),
        }
    }
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_itself() {
        let s = Secret(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "Secret(hidden)");
        assert_eq!(format!("{:?}", Some((s, PasswordSource::Env))), "Some((Secret(hidden), Env))");
    }
}
