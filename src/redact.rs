//! Which arguments carry credentials, so records and reports can write `(redacted)` instead.
//!
//! Redis ≥ 6.2.4 redacts these in MONITOR itself, but servers up to 6.2.3 show `AUTH <password>`
//! in plain text, and even current servers miss some (a `HELLO` without a protocol version, a
//! second `AUTH` pair in one `HELLO`): a capture piped to a file or a chat must not spread them.
//! The rules are the server's own calls to `redactClientCommandArgument` (Redis and Valkey
//! sources, 2024), widened where the server gives up early:
//!
//! - `AUTH`: every argument (the server skips a call with too many);
//! - `HELLO`: the two arguments after each `AUTH` option, options read one by one as the server
//!   reads them (`SETNAME` takes one value), also when the protocol version is missing;
//! - `MIGRATE`: the value of `AUTH`, the two values of `AUTH2`, up to `KEYS`;
//! - `CONFIG SET`: the value of every config the server flags `SENSITIVE_CONFIG`;
//! - `ACL SETUSER` and `ACL DELUSER`: every argument from the user name on; `ACL GETUSER`: the name.

use crate::monitor::{Args, ArgsStore};

/// The text written in place of a secret, as the server itself writes it.
pub const REDACTED: &[u8] = b"(redacted)";

/// Configs whose values the server redacts (`SENSITIVE_CONFIG` in Redis's and Valkey's
/// `config.c`; `primaryauth` and `primaryuser` are Valkey's names for the `master*` ones).
const SENSITIVE_CONFIGS: [&[u8]; 7] = [
    b"requirepass",
    b"masterauth",
    b"masteruser",
    b"primaryauth",
    b"primaryuser",
    b"tls-key-file-pass",
    b"tls-client-key-file-pass",
];

/// Positions of the secret arguments of one command, found once per command.
#[derive(Default)]
pub struct Secrets {
    positions: Vec<usize>,
}

impl Secrets {
    /// Finds the secrets of a command given its normalized name (`auth`, `config|set`).
    pub fn find(&mut self, command: &[u8], args: &Args<'_>) -> &Secrets {
        self.positions.clear();
        let argc = args.len();
        let arg = |i: usize| args.get(i);
        let is = |i: usize, word: &[u8]| arg(i).eq_ignore_ascii_case(word);
        match command {
            b"auth" => self.positions.extend(1..argc),
            b"hello" => {
                // HELLO [protover [AUTH user pass] [SETNAME name]]: a version that is not a
                // number makes the server fail before it redacts anything, so the options are
                // read from the first argument then.
                let mut i = if argc > 1 && arg(1).iter().all(u8::is_ascii_digit) { 2 } else { 1 };
                while i < argc {
                    let more = argc - 1 - i;
                    if is(i, b"auth") && more >= 2 {
                        self.positions.extend([i + 1, i + 2]);
                        i += 3;
                    } else if is(i, b"auth") {
                        // Cut short: whatever follows may be the credentials.
                        self.positions.extend(i + 1..argc);
                        break;
                    } else if is(i, b"setname") && more >= 1 {
                        i += 2;
                    } else {
                        // A syntax error for the server; read on, so a later AUTH is still found.
                        i += 1;
                    }
                }
            }
            b"migrate" => {
                let mut i = 6;
                while i < argc {
                    if is(i, b"keys") {
                        break;
                    }
                    let n = if is(i, b"auth") {
                        1
                    } else if is(i, b"auth2") {
                        2
                    } else {
                        0
                    };
                    self.positions.extend((i + 1..i + 1 + n).filter(|&p| p < argc));
                    i += 1 + n;
                }
            }
            b"config|set" => {
                let mut i = 2;
                while i < argc {
                    if SENSITIVE_CONFIGS.iter().any(|name| is(i, name)) {
                        // A value cut off the line's end is not there to redact.
                        self.positions.extend((i + 1 < argc).then_some(i + 1));
                    }
                    i += 2;
                }
            }
            b"acl|setuser" | b"acl|deluser" => self.positions.extend(2..argc),
            b"acl|getuser" => self.positions.extend((argc > 2).then_some(2)),
            _ => {}
        }
        self
    }

    /// True when argument `i` is a secret.
    pub fn contains(&self, i: usize) -> bool {
        self.positions.contains(&i)
    }
}

/// A command that carries credentials: its name, the subcommand that does (if any), and the
/// normalized name [`Secrets::find`] knows it by.
type CredentialCommand = (&'static [u8], Option<&'static [u8]>, &'static [u8]);

const CREDENTIAL_COMMANDS: [CredentialCommand; 7] = [
    (b"auth", None, b"auth"),
    (b"hello", None, b"hello"),
    (b"migrate", None, b"migrate"),
    (b"config", Some(b"set"), b"config|set"),
    (b"acl", Some(b"setuser"), b"acl|setuser"),
    (b"acl", Some(b"deluser"), b"acl|deluser"),
    (b"acl", Some(b"getuser"), b"acl|getuser"),
];

/// Writes a line that is not a MONITOR line (for `--rejects`) with the credentials that can
/// still be recognised in it redacted: the line is split into words (quoted, as the server
/// writes arguments, or bare), and wherever a word names a credential command the words that
/// [`Secrets::find`] picks after it are written `(redacted)`. Everything else is written as read.
pub fn redact_loose(line: &[u8], out: &mut Vec<u8>) {
    let words = loose_words(line);
    let text = |w: &(usize, usize, bool)| &line[w.0..w.1];
    let texts: Vec<&[u8]> = words.iter().map(text).collect();
    let mut secret = vec![false; words.len()];
    let mut secrets = Secrets::default();
    let mut store = ArgsStore::default();
    for at in 0..words.len() {
        for (name, sub, normalized) in CREDENTIAL_COMMANDS {
            let sub_ok = sub.map_or(true, |s| texts.get(at + 1).is_some_and(|w| w.eq_ignore_ascii_case(s)));
            if texts[at].eq_ignore_ascii_case(name) && sub_ok {
                secrets.find(normalized, &Args::from_words(&texts[at..], &mut store));
                for (i, flag) in secret[at..].iter_mut().enumerate() {
                    *flag |= secrets.contains(i);
                }
            }
        }
    }
    let mut from = 0;
    for (w, _) in words.iter().zip(&secret).filter(|(_, &s)| s) {
        out.extend_from_slice(&line[from..w.0]);
        out.extend_from_slice(REDACTED);
        from = w.1;
    }
    out.extend_from_slice(&line[from..]);
}

/// The words of a line as (start, end, quoted): a quoted word is the text between its quotes
/// (a backslash escapes the next byte); a bare word runs to the next space or quote.
fn loose_words(line: &[u8]) -> Vec<(usize, usize, bool)> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < line.len() && line[j] != b'"' {
                    j += if line[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(line.len());
                words.push((start, end, true));
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r' | b'\n' | b'"') {
                    i += 1;
                }
                words.push((start, i, false));
            }
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(command: &str, call: &str) -> Vec<usize> {
        let words: Vec<&[u8]> = call.split(' ').map(str::as_bytes).collect();
        let mut s = Secrets::default();
        let mut store = ArgsStore::default();
        s.find(command.as_bytes(), &Args::from_words(&words, &mut store));
        (0..words.len()).filter(|&i| s.contains(i)).collect()
    }

    #[test]
    fn credentials_are_found() {
        assert_eq!(secrets("auth", "AUTH hunter2"), [1]);
        assert_eq!(secrets("auth", "AUTH admin hunter2"), [1, 2]);
        assert_eq!(secrets("auth", "AUTH a b c"), [1, 2, 3]);
        assert_eq!(secrets("hello", "HELLO 3 AUTH admin hunter2 SETNAME app"), [3, 4]);
        assert_eq!(secrets("hello", "HELLO 3"), Vec::<usize>::new());
        assert_eq!(secrets("migrate", "MIGRATE h 6379  0 100 AUTH pw KEYS a b"), [7]);
        assert_eq!(secrets("migrate", "MIGRATE h 6379  0 100 COPY AUTH2 u pw KEYS auth x"), [8, 9]);
        assert_eq!(secrets("config|set", "CONFIG SET maxmemory 1gb requirepass s3cret"), [5]);
        assert_eq!(secrets("acl|setuser", "ACL SETUSER bob on >pw #abc ~* +@all"), [2, 3, 4, 5, 6, 7]);
        assert_eq!(secrets("acl|deluser", "ACL DELUSER bob alice"), [2, 3]);
        assert_eq!(secrets("acl|getuser", "ACL GETUSER bob"), [2]);
        assert_eq!(secrets("get", "GET auth"), Vec::<usize>::new());
    }

    #[test]
    fn hello_is_read_option_by_option_as_the_server_reads_it() {
        // Lines as Redis 7.0.15 writes them: it redacts only the first AUTH pair, and only
        // after a protocol version.
        assert_eq!(secrets("hello", "hello auth default PW"), [2, 3]);
        assert_eq!(secrets("hello", "hello 3 auth (redacted) (redacted) auth default PW"), [3, 4, 6, 7]);
        assert_eq!(secrets("hello", "hello 3 setname auth auth default PW"), [5, 6]);
        assert_eq!(secrets("hello", "hello 3 AUTH default"), [3]);
        assert_eq!(secrets("hello", "hello 3 bogus AUTH u PW"), [4, 5]);
    }

    #[test]
    fn every_sensitive_config_is_redacted() {
        for name in SENSITIVE_CONFIGS {
            let name = std::str::from_utf8(name).unwrap();
            assert_eq!(secrets("config|set", &format!("CONFIG SET {name} PW")), [3], "{name}");
            assert_eq!(secrets("config|set", &format!("config set hz 10 {} PW", name.to_uppercase())), [5]);
        }
        assert_eq!(secrets("config|set", "CONFIG SET requirepass"), Vec::<usize>::new());
    }

    fn loose(line: &str) -> String {
        let mut out = Vec::new();
        redact_loose(line.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rejected_lines_lose_the_credentials_that_can_be_recognised() {
        assert_eq!(
            loose("1.000001 [0 1.2.3.4:5]  \"auth\" \"hunter2\"\n"),
            "1.000001 [0 1.2.3.4:5]  \"auth\" \"(redacted)\"\n"
        );
        assert_eq!(loose("127.0.0.1:6379> AUTH admin hunter2"), "127.0.0.1:6379> AUTH (redacted) (redacted)");
        assert_eq!(
            loose("1.0 [0 x] \"config\"  \"set\" \"requirepass\" \"p\\\"w\""),
            "1.0 [0 x] \"config\"  \"set\" \"requirepass\" \"(redacted)\""
        );
        assert_eq!(loose("1.0 [0 x] \"get\" \"k\" trailing"), "1.0 [0 x] \"get\" \"k\" trailing");
        assert_eq!(
            loose("\"hello\" \"3\" \"auth\" \"u\" \"unterminated"),
            "\"hello\" \"3\" \"auth\" \"(redacted)\" \"(redacted)"
        );
    }
}
