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
//! - `ACL SETUSER` and `ACL DELUSER`: every argument from the user name on; `ACL GETUSER`: the name;
//! - `SENTINEL SET`: the value of `auth-pass`; `SENTINEL CONFIG SET`: the value of `sentinel-pass`
//!   (and of `auth-pass`, should a server take it there).
//!
//! A command the table does not know whose name is one typo from `AUTH`, `HELLO` or `MIGRATE`
//! (`AUHT`, `HELO`, `MIGRTE`: a letter added, dropped, changed or two swapped) is redacted as
//! that command: the server refuses it, but a capture or a reply may still show it. Server
//! errors that quote a call ([`redact_reply`]) are redacted by the same rules.

use crate::commands::CommandId;
use crate::format::monitor::{Args, ArgsStore};

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
            b"sentinel" => {
                // SENTINEL SET master option value …, SENTINEL CONFIG SET param value …
                let (from, names): (usize, &[&[u8]]) = if is(1, b"set") {
                    (3, &[b"auth-pass"])
                } else if is(1, b"config") && is(2, b"set") {
                    (3, &[b"sentinel-pass", b"auth-pass"])
                } else {
                    (argc, &[])
                };
                let mut i = from;
                while i < argc {
                    if names.iter().any(|name| is(i, name)) {
                        self.positions.extend((i + 1 < argc).then_some(i + 1));
                    }
                    i += 2;
                }
            }
            _ => {}
        }
        self
    }

    /// [`Secrets::find`] for a command the table does not know: a name one typo from a command
    /// that carries credentials is read as that command.
    pub fn find_unknown(&mut self, name: &[u8], args: &Args<'_>) -> &Secrets {
        self.find(misspelt(name).unwrap_or(name), args)
    }

    /// True when no argument is a secret.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// True when argument `i` is a secret.
    pub fn contains(&self, i: usize) -> bool {
        self.positions.contains(&i)
    }
}

/// Which commands of the table carry credentials (by their normalized names, those
/// [`Secrets::find`] looks into), learnt once per command: the lines of every other command
/// need no look for secrets.
#[derive(Default)]
pub struct CredentialIds {
    /// By command id: 0 not learnt yet, 1 carries none, 2 carries some.
    known: Vec<u8>,
}

impl CredentialIds {
    /// True when the command `id`, whose normalized name is `name`, may carry credentials.
    #[inline]
    pub fn carries(&mut self, id: CommandId, name: &[u8]) -> bool {
        match self.known.get(usize::from(id)) {
            Some(1) => false,
            Some(2) => true,
            _ => self.learn(usize::from(id), name),
        }
    }

    #[cold]
    fn learn(&mut self, id: usize, name: &[u8]) -> bool {
        if self.known.len() <= id {
            self.known.resize(id + 1, 0);
        }
        let carries = CREDENTIAL_COMMANDS.iter().any(|c| c.2 == name);
        self.known[id] = 1 + u8::from(carries);
        carries
    }
}

/// A command that carries credentials: its name, the subcommand that does (if any), and the
/// normalized name [`Secrets::find`] knows it by.
type CredentialCommand = (&'static [u8], Option<&'static [u8]>, &'static [u8]);

const CREDENTIAL_COMMANDS: [CredentialCommand; 8] = [
    (b"auth", None, b"auth"),
    (b"hello", None, b"hello"),
    (b"migrate", None, b"migrate"),
    (b"sentinel", None, b"sentinel"),
    (b"config", Some(b"set"), b"config|set"),
    (b"acl", Some(b"setuser"), b"acl|setuser"),
    (b"acl", Some(b"deluser"), b"acl|deluser"),
    (b"acl", Some(b"getuser"), b"acl|getuser"),
];

/// The commands a misspelt name is taken for.
const MISSPELT: [&[u8]; 3] = [b"auth", b"hello", b"migrate"];

/// The credential command `name` is one typo from (either case), if any; not `name` itself.
pub fn misspelt(name: &[u8]) -> Option<&'static [u8]> {
    if name.len() > 8 {
        return None;
    }
    let mut buf = [0u8; 8];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    MISSPELT.into_iter().find(|&real| real != &lower[..] && one_typo(lower, real))
}

/// True when `a` becomes `b` by one letter added, dropped, changed, or two neighbours swapped.
fn one_typo(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let head = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        0 => {
            let rest = |from: usize| short[from..] == long[from..];
            rest(head + 1)
                || (head + 1 < short.len()
                    && short[head] == long[head + 1]
                    && short[head + 1] == long[head]
                    && rest(head + 2))
        }
        1 => short[head..] == long[head + 1..],
        _ => false,
    }
}

/// How the server words a call it refused, quoting the call: the name, then its arguments.
const UNKNOWN_COMMAND: &[u8] = b"unknown command '";
const WITH_ARGS: &[u8] = b"', with args beginning with: ";
const ACL_MODIFIER: &[u8] = b"Error in ACL SETUSER modifier '";

/// Server errors that quote nothing of the call, though they name a credential command: kept.
const PLAIN_REPLIES: [&[u8]; 1] =
    [b"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"];

/// Writes a server error (without its `-`) with the credentials it quotes redacted: the
/// arguments of an unknown command that carries credentials or is one typo from one
/// (`unknown command 'AUHT', with args beginning with: 'hunter2'`), the modifier an
/// `ACL SETUSER` refused, and otherwise whatever [`redact_loose`] recognises.
pub fn redact_reply(message: &[u8], out: &mut Vec<u8>) {
    use bstr::ByteSlice;
    if PLAIN_REPLIES.contains(&message) {
        out.extend_from_slice(message);
        return;
    }
    if let Some(at) = message.find(UNKNOWN_COMMAND) {
        let name_at = at + UNKNOWN_COMMAND.len();
        if let Some(len) = message[name_at..].find(WITH_ARGS) {
            let name = message[name_at..name_at + len].to_ascii_lowercase();
            let credentials = CREDENTIAL_COMMANDS.iter().any(|c| c.0 == &name[..]) || misspelt(&name).is_some();
            if credentials {
                // The arguments are quoted without escapes: no telling where one ends, so all go.
                out.extend_from_slice(&message[..name_at + len + WITH_ARGS.len()]);
                out.extend_from_slice(REDACTED);
                return;
            }
        }
    }
    if let Some(at) = message.find(ACL_MODIFIER) {
        let from = at + ACL_MODIFIER.len();
        out.extend_from_slice(&message[..from]);
        out.extend_from_slice(REDACTED);
        match message[from..].find(b"': ") {
            Some(end) => out.extend_from_slice(&message[from + end..]),
            None => out.push(b'\''),
        }
        return;
    }
    redact_loose(message, out);
}

/// Writes a line that is not a MONITOR line (for `--rejects`) with the credentials that can
/// still be recognised in it redacted: the line is split into words (quoted, as the server
/// writes arguments, or bare), and wherever a word names a credential command the words that
/// [`Secrets::find`] picks after it are written `(redacted)`. A word `config|set` names the
/// command and its subcommand, as records do, whether or not the subcommand's word follows; a
/// quoted word, or the first word of the line or of a pasted prompt (`…> `), is read as a
/// credential command also when it is one typo from one. Everything else is written as read.
pub fn redact_loose(line: &[u8], out: &mut Vec<u8>) {
    let words = loose_words(line);
    let texts: Vec<&[u8]> = words.iter().map(|w| &line[w.0..w.1]).collect();
    let mut secret = vec![false; words.len()];
    let mut secrets = Secrets::default();
    let mut store = ArgsStore::default();
    for at in 0..words.len() {
        let word = texts[at];
        let commandlike = words[at].2 || at == 0 || texts[at - 1].ends_with(b">");
        let (name, sub) = match word.iter().position(|&b| b == b'|') {
            Some(bar) => (&word[..bar], Some(&word[bar + 1..])),
            None => (word, None),
        };
        let name = match misspelt(name) {
            Some(real) if commandlike && sub.is_none() => real,
            _ => name,
        };
        for (command, want, normalized) in CREDENTIAL_COMMANDS {
            if !name.eq_ignore_ascii_case(command) {
                continue;
            }
            // The call as the rules read it, and where each of its words is in the line.
            let mut call: Vec<&[u8]> = vec![name];
            let mut place: Vec<Option<usize>> = vec![Some(at)];
            match (want, sub) {
                (Some(want), Some(sub)) if sub.eq_ignore_ascii_case(want) => {
                    if !texts.get(at + 1).is_some_and(|w| w.eq_ignore_ascii_case(want)) {
                        // The subcommand's word is not repeated after `name|sub`.
                        call.push(sub);
                        place.push(None);
                    }
                }
                (Some(want), None) if texts.get(at + 1).is_some_and(|w| w.eq_ignore_ascii_case(want)) => {}
                (None, None) => {}
                _ => continue,
            }
            call.extend_from_slice(&texts[at + 1..]);
            place.extend((at + 1..texts.len()).map(Some));
            secrets.find(normalized, &Args::from_words(&call, &mut store));
            for (i, p) in place.iter().enumerate() {
                if let (Some(p), true) = (p, secrets.contains(i)) {
                    secret[*p] = true;
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

    /// The commands said to carry no credentials are exactly those in which `find` finds none,
    /// whatever their arguments: skipping the look for them changes nothing.
    #[test]
    fn commands_said_to_carry_no_credentials_have_none() {
        let table = crate::commands::Table::builtin();
        let tricky = [
            "X auth u p setname n auth2 u p keys k",
            "X 3 AUTH default PW",
            "X set requirepass PW masterauth PW",
            "X SET mymaster auth-pass PW",
            "X config set sentinel-pass PW",
            "X setuser u >pw on",
            "X a b c d e f auth PW auth2 U PW",
        ];
        let mut ids = CredentialIds::default();
        let mut carrying = 0;
        for (i, command) in table.commands().iter().enumerate() {
            let id = CommandId::try_from(i).unwrap();
            let name = command.name.as_bytes();
            if ids.carries(id, name) {
                carrying += 1;
                continue;
            }
            for call in tricky {
                assert_eq!(secrets(&command.name, call), Vec::<usize>::new(), "{}: {call}", command.name);
            }
            // Learnt once: asked again, the same answer.
            assert!(!ids.carries(id, name));
        }
        let listed = table.commands().iter().filter(|c| CREDENTIAL_COMMANDS.iter().any(|l| l.2 == c.name.as_bytes()));
        assert_eq!(carrying, listed.count());
        assert!(carrying >= 4, "auth, hello, migrate, config|set at least");
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

    #[test]
    fn one_typo_from_a_credential_command() {
        for (typo, real) in
            [("AUHT", "auth"), ("aut", "auth"), ("authh", "auth"), ("HELO", "hello"), ("hellp", "hello")]
        {
            assert_eq!(misspelt(typo.as_bytes()), Some(real.as_bytes()), "{typo}");
        }
        assert_eq!(misspelt(b"MIGRTE"), Some(&b"migrate"[..]));
        assert_eq!(misspelt(b"imgrate"), Some(&b"migrate"[..]));
        for other in ["auth", "HELLO", "get", "ath2x", "uath2", "hallo2", "migrat3x", "thua", ""] {
            assert_eq!(misspelt(other.as_bytes()), None, "{other}");
        }
        assert_eq!(secrets_unknown("auht", "AUHT hunter2"), [1]);
        assert_eq!(secrets_unknown("helo", "HELO 3 AUTH default pw"), [3, 4]);
        assert_eq!(secrets_unknown("gett", "GETT k"), Vec::<usize>::new());
    }

    fn secrets_unknown(command: &str, call: &str) -> Vec<usize> {
        let words: Vec<&[u8]> = call.split(' ').map(str::as_bytes).collect();
        let mut s = Secrets::default();
        let mut store = ArgsStore::default();
        s.find_unknown(command.as_bytes(), &Args::from_words(&words, &mut store));
        (0..words.len()).filter(|&i| s.contains(i)).collect()
    }

    #[test]
    fn sentinel_passwords_are_redacted() {
        assert_eq!(secrets("sentinel", "SENTINEL SET mymaster auth-pass PW"), [4]);
        assert_eq!(secrets("sentinel", "SENTINEL SET mymaster quorum 2 AUTH-PASS PW"), [6]);
        assert_eq!(secrets("sentinel", "SENTINEL SET auth-pass auth-pass PW"), [4]);
        assert_eq!(secrets("sentinel", "SENTINEL CONFIG SET sentinel-pass PW"), [4]);
        assert_eq!(secrets("sentinel", "SENTINEL CONFIG SET loglevel verbose auth-pass PW"), [6]);
        assert_eq!(secrets("sentinel", "SENTINEL SET mymaster auth-pass"), Vec::<usize>::new());
        assert_eq!(secrets("sentinel", "SENTINEL MASTERS"), Vec::<usize>::new());
    }

    fn reply(message: &str) -> String {
        let mut out = Vec::new();
        redact_reply(message.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn server_errors_lose_the_credentials_they_quote() {
        // Replies of Redis 7.0.15 (tests/it/credentials.rs has them from a real server).
        assert_eq!(
            reply("ERR unknown command 'AUHT', with args beginning with: 'hunter2' "),
            "ERR unknown command 'AUHT', with args beginning with: (redacted)"
        );
        assert_eq!(
            reply("ERR unknown command 'SENTINEL', with args beginning with: 'SET' 'm' 'auth-pass' 'pw' "),
            "ERR unknown command 'SENTINEL', with args beginning with: (redacted)"
        );
        let gett = "ERR unknown command 'GETT', with args beginning with: 'k' ";
        assert_eq!(reply(gett), gett);
        assert_eq!(
            reply("ERR Error in ACL SETUSER modifier '<hunter3': The password you are trying to remove from the user does not exist"),
            "ERR Error in ACL SETUSER modifier '(redacted)': The password you are trying to remove from the user does not exist"
        );
        assert_eq!(reply("ERR AUTH hunter4"), "ERR AUTH (redacted)");
        let plain = std::str::from_utf8(PLAIN_REPLIES[0]).unwrap();
        assert_eq!(reply(plain), plain);
        assert_eq!(reply("NOAUTH Authentication required."), "NOAUTH Authentication required.");
    }

    #[test]
    fn records_among_rejected_lines_are_redacted_by_their_own_layout() {
        assert_eq!(
            loose("1.5\t0\t1.2.3.4:5\tconfig|set\tset\trequirepass\tHUNTER2\tjunk"),
            "1.5\t0\t1.2.3.4:5\tconfig|set\tset\trequirepass\t(redacted)\tjunk"
        );
        assert_eq!(
            loose("1.5\t0\t1.2.3.4:5\tconfig|set\trequirepass\tHUNTER2\tjunk"),
            "1.5\t0\t1.2.3.4:5\tconfig|set\trequirepass\t(redacted)\tjunk"
        );
        assert_eq!(
            loose("x\t1.5\t0\tc\tacl|setuser\tsetuser\tbob\t>PW"),
            "x\t1.5\t0\tc\tacl|setuser\tsetuser\t(redacted)\t(redacted)"
        );
        assert_eq!(loose("x\tacl|setuser\tbob\t>PW"), "x\tacl|setuser\t(redacted)\t(redacted)");
        assert_eq!(loose("x\tacl|whoami\tbob"), "x\tacl|whoami\tbob");
        assert_eq!(loose("127.0.0.1:6379> AUHT hunter2"), "127.0.0.1:6379> AUHT (redacted)");
        assert_eq!(
            loose("1.0 [0 x]  \"helo\" \"3\" \"auth\" \"u\" \"pw\""),
            "1.0 [0 x]  \"helo\" \"3\" \"auth\" \"(redacted)\" \"(redacted)\""
        );
        assert_eq!(loose("the auto mode"), "the auto mode");
    }
}
