//! Which arguments carry credentials, so records and reports can write `(redacted)` instead.
//!
//! Redis ≥ 6.2.4 redacts these in MONITOR itself, but servers up to 5.0 show `AUTH <password>`
//! in plain text, and a capture piped to a file or a chat must not spread it. The rules follow
//! the server's: every AUTH argument, the two after HELLO's `AUTH`, MIGRATE's `AUTH password`
//! and `AUTH2 username password`, the values of the password settings in CONFIG SET, and the
//! password rules of ACL SETUSER.

/// The text written in place of a secret, as the server itself writes it.
pub const REDACTED: &[u8] = b"(redacted)";

/// Positions of the secret arguments of one command, found once per command.
#[derive(Default)]
pub struct Secrets {
    positions: Vec<usize>,
}

impl Secrets {
    /// Finds the secrets of a command given its normalized name (`auth`, `config|set`).
    pub fn find<'a>(&mut self, command: &[u8], argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> &Secrets {
        self.positions.clear();
        let is = |i: usize, word: &[u8]| arg(i).eq_ignore_ascii_case(word);
        match command {
            b"auth" => self.positions.extend(1..argc),
            b"hello" => {
                if let Some(at) = (2..argc).find(|&i| is(i, b"auth")) {
                    self.positions.extend((at + 1..at + 3).filter(|&i| i < argc));
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
                while i + 1 < argc {
                    if is(i, b"requirepass") || is(i, b"masterauth") {
                        self.positions.push(i + 1);
                    }
                    i += 2;
                }
            }
            b"acl|setuser" => {
                self.positions.extend((3..argc).filter(|&i| matches!(arg(i).first(), Some(b'>' | b'<' | b'#' | b'!'))));
            }
            _ => {}
        }
        self
    }

    /// True when argument `i` is a secret.
    pub fn contains(&self, i: usize) -> bool {
        self.positions.contains(&i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(command: &str, call: &str) -> Vec<usize> {
        let words: Vec<&[u8]> = call.split(' ').map(str::as_bytes).collect();
        let mut s = Secrets::default();
        s.find(command.as_bytes(), words.len(), |i| words[i]);
        (0..words.len()).filter(|&i| s.contains(i)).collect()
    }

    #[test]
    fn credentials_are_found() {
        assert_eq!(secrets("auth", "AUTH hunter2"), [1]);
        assert_eq!(secrets("auth", "AUTH admin hunter2"), [1, 2]);
        assert_eq!(secrets("hello", "HELLO 3 AUTH admin hunter2 SETNAME app"), [3, 4]);
        assert_eq!(secrets("hello", "HELLO 3"), Vec::<usize>::new());
        assert_eq!(secrets("migrate", "MIGRATE h 6379  0 100 AUTH pw KEYS a b"), [7]);
        assert_eq!(secrets("migrate", "MIGRATE h 6379  0 100 COPY AUTH2 u pw KEYS auth x"), [8, 9]);
        assert_eq!(secrets("config|set", "CONFIG SET maxmemory 1gb requirepass s3cret"), [5]);
        assert_eq!(secrets("acl|setuser", "ACL SETUSER bob on >pw #abc ~* +@all"), [4, 5]);
        assert_eq!(secrets("get", "GET auth"), Vec::<usize>::new());
    }
}
