//! What the filter tells the operator on standard error while it runs, in bounded size whatever
//! the input.
//!
//! A server error line (`-NOAUTH …`) is shown at once, since an empty report must not be the
//! only clue, with a hint when the cause is a common mistake. Each distinct message is shown
//! once, cut to [`MESSAGE_WIDTH`] bytes; repeats and messages past [`MAX_DISTINCT`] are only
//! counted, and the counts are said once at the end. Input full of `-` lines (random bytes, a
//! flood of errors) so costs a few dozen lines of stderr, not megabytes. A message that quotes
//! a call (`unknown command 'AUHT', with args beginning with: 'hunter2'`, typed into the
//! stream's own connection) is shown with its credentials redacted ([`redact_reply`]), as
//! `--rejects` writes them, unless `--no-redact`.

use std::io::Write;

use crate::format::escape::escape_truncated;
use crate::pipeline::redact::redact_reply;

/// The most distinct server errors shown.
pub const MAX_DISTINCT: usize = 10;

/// The most distinct server errors counted apart by the reader of a later part of an input
/// ([`ServerErrors::apart`]): past them the parts cannot be joined exactly.
pub const MAX_APART: usize = 64;

/// How much of a server error is shown (escaped bytes).
pub const MESSAGE_WIDTH: usize = 200;

/// The server errors seen so far: each distinct message shown, with its count.
#[derive(Default)]
pub struct ServerErrors {
    /// (message as shown, times seen).
    shown: Vec<(String, u64)>,
    /// Errors whose message was not shown (past [`MAX_DISTINCT`] distinct ones).
    others: u64,
    /// Write credentials the messages quote as `(redacted)`.
    redact: bool,
    /// The most distinct messages kept ([`MAX_DISTINCT`], or [`MAX_APART`] for a later part).
    keep: usize,
    scratch: Vec<u8>,
}

impl ServerErrors {
    /// Server errors shown with their credentials redacted when `redact`.
    pub fn new(redact: bool) -> ServerErrors {
        ServerErrors { redact, keep: MAX_DISTINCT, ..ServerErrors::default() }
    }

    /// The errors of a later part of an input, counted apart to be [`ServerErrors::absorb`]ed:
    /// each distinct message counted, up to [`MAX_APART`] of them (what it writes is for no one).
    pub fn apart(self) -> ServerErrors {
        ServerErrors { keep: MAX_APART, ..self }
    }

    /// Whether every message seen was counted by itself (a later part can be absorbed exactly).
    pub fn each_counted(&self) -> bool {
        self.others == 0
    }

    /// Counts a server error (`message` without its `-`), showing it when it is new; returns
    /// what was shown (for the live screen).
    pub fn seen(&mut self, message: &[u8], warn: &mut dyn Write) -> Option<String> {
        let message = if self.redact {
            self.scratch.clear();
            redact_reply(message, &mut self.scratch);
            &self.scratch[..]
        } else {
            message
        };
        let mut text = Vec::with_capacity(MESSAGE_WIDTH + 8);
        escape_truncated(message, MESSAGE_WIDTH, &mut text);
        let text = String::from_utf8(text).unwrap_or_default();
        if let Some(entry) = self.shown.iter_mut().find(|(shown, _)| *shown == text) {
            entry.1 += 1;
            return None;
        }
        if self.shown.len() < self.keep {
            let shown = format!("{text}{}", hint(&text));
            let _ = writeln!(warn, "faina-filter: the server said: {shown}");
            self.shown.push((text, 1));
            return Some(shown);
        }
        if self.others == 0 {
            let _ = writeln!(warn, "faina-filter: more server errors follow: counted, not shown");
        }
        self.others += 1;
        None
    }

    /// Adds the errors `later` saw (in the part of the input that follows, counted
    /// [`ServerErrors::apart`], [`ServerErrors::each_counted`]), showing those new here as
    /// [`ServerErrors::seen`] would have.
    pub fn absorb(&mut self, later: &ServerErrors, warn: &mut dyn Write) {
        for (text, n) in &later.shown {
            if let Some(entry) = self.shown.iter_mut().find(|(shown, _)| shown == text) {
                entry.1 += n;
            } else if self.shown.len() < MAX_DISTINCT {
                let _ = writeln!(warn, "faina-filter: the server said: {text}{}", hint(text));
                self.shown.push((text.clone(), *n));
            } else {
                if self.others == 0 {
                    let _ = writeln!(warn, "faina-filter: more server errors follow: counted, not shown");
                }
                self.others += n;
            }
        }
        if later.others > 0 && self.others == 0 {
            let _ = writeln!(warn, "faina-filter: more server errors follow: counted, not shown");
        }
        self.others += later.others;
    }

    /// Says how often each error came, when any came more than once or was not shown.
    pub fn finish(&self, warn: &mut dyn Write) {
        let total: u64 = self.shown.iter().map(|(_, n)| n).sum::<u64>() + self.others;
        if total as usize == self.shown.len() {
            return;
        }
        let _ = writeln!(warn, "faina-filter: {total} server errors in all:");
        for (text, n) in &self.shown {
            let _ = writeln!(warn, "  {n:>10}  {text}");
        }
        if self.others > 0 {
            let _ = writeln!(warn, "  {:>10}  (other messages, not shown)", self.others);
        }
    }
}

/// A hint for the errors a common mistake causes.
fn hint(text: &str) -> &'static str {
    if text.starts_with("NOAUTH") {
        " (AUTH first, or --connect)"
    } else if text.starts_with("WRONGPASS") {
        " (the password sent with AUTH was wrong)"
    } else if text.contains("unknown command") {
        " (is this the right server, or a proxy that wants IMONITOR?)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_errors_is_said_in_bounded_size() {
        let mut errors = ServerErrors::new(true);
        let mut warn = Vec::new();
        let long = vec![b'E'; 100_000];
        errors.seen(&long, &mut warn);
        for i in 0..100_000 {
            errors.seen(format!("ERR number {}", i % 50).as_bytes(), &mut warn);
            errors.seen(b"NOAUTH Authentication required.", &mut warn);
        }
        errors.finish(&mut warn);
        let text = String::from_utf8(warn).unwrap();
        assert!(text.len() < 8 * 1024, "{} bytes", text.len());
        assert!(text.lines().all(|l| l.len() < MESSAGE_WIDTH + 80), "{text}");
        assert!(text.contains("faina-filter: 200001 server errors in all:"), "{text}");
        assert_eq!(text.matches("the server said: ERR number 3\n").count(), 1);
        assert!(text.contains("(other messages, not shown)"));
    }

    #[test]
    fn errors_counted_in_two_parts_are_said_as_in_one() {
        let messages: Vec<String> = (0..400)
            .map(|i| if i % 7 == 0 { "NOAUTH x".to_string() } else { format!("ERR {}", i * 31 % 23) })
            .collect();
        for cut in [0, 1, 50, 200, 399, 400] {
            let (mut whole, mut first, mut second) =
                (ServerErrors::new(true), ServerErrors::new(true), ServerErrors::new(true).apart());
            let (mut one, mut two) = (Vec::new(), Vec::new());
            for (i, m) in messages.iter().enumerate() {
                whole.seen(m.as_bytes(), &mut one);
                let (part, out) = if i < cut { (&mut first, &mut two) } else { (&mut second, &mut Vec::new()) };
                part.seen(m.as_bytes(), out);
            }
            assert!(second.each_counted());
            first.absorb(&second, &mut two);
            whole.finish(&mut one);
            first.finish(&mut two);
            assert_eq!(String::from_utf8(two).unwrap(), String::from_utf8(one).unwrap(), "cut at {cut}");
        }
    }

    #[test]
    fn a_single_error_is_said_once_with_its_hint() {
        let mut errors = ServerErrors::new(true);
        let mut warn = Vec::new();
        errors.seen(b"NOAUTH Authentication required.", &mut warn);
        errors.finish(&mut warn);
        assert_eq!(
            String::from_utf8(warn).unwrap(),
            "faina-filter: the server said: NOAUTH Authentication required. (AUTH first, or --connect)\n"
        );
    }
}
