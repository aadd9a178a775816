//! Redis glob patterns, as `KEYS` and `SCAN MATCH` read them, for `--key`.
//!
//! `*` any run of bytes, `?` one byte, `[abc]` `[a-z]` `[^a]` a set, `\x` the byte x. Bytes are
//! compared as bytes: a pattern matches keys that are not UTF-8 just as well.

/// True when `key` matches `pattern`.
pub fn matches(pattern: &[u8], key: &[u8]) -> bool {
    // Iterative matching with one backtrack point for the last `*`: linear in practice, and
    // never exponential however many stars a pattern has.
    let (mut p, mut k) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while k < key.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, k));
                    continue;
                }
                b'?' => {
                    p += 1;
                    k += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class(pattern, p, key[k]) {
                        if hit {
                            p = next;
                            k += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if pattern[p + 1] == key[k] {
                        p += 2;
                        k += 1;
                        continue;
                    }
                }
                c => {
                    if c == key[k] {
                        p += 1;
                        k += 1;
                        continue;
                    }
                }
            }
        }
        // Mismatch: let the last star swallow one more byte, or fail.
        match star {
            Some((sp, sk)) => {
                star = Some((sp, sk + 1));
                p = sp;
                k = sk + 1;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches `byte` against the class opening at `pattern[open]`; returns (matched, index after
/// the class). An unclosed class runs to the end of the pattern, as in Redis.
fn class(pattern: &[u8], open: usize, byte: u8) -> Option<(bool, usize)> {
    let mut i = open + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    loop {
        match pattern.get(i) {
            None => break,
            Some(b']') => {
                i += 1;
                break;
            }
            Some(b'\\') if i + 1 < pattern.len() => {
                hit |= pattern[i + 1] == byte;
                i += 2;
            }
            Some(&lo) if pattern.get(i + 1) == Some(&b'-') && i + 2 < pattern.len() && pattern[i + 2] != b']' => {
                let hi = pattern[i + 2];
                let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                hit |= (lo..=hi).contains(&byte);
                i += 3;
            }
            Some(&c) => {
                hit |= c == byte;
                i += 1;
            }
        }
    }
    Some((hit != negate, i))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn examples() {
        assert!(matches(b"user:*", b"user:1000"));
        assert!(matches(b"h?llo", b"hello"));
        assert!(!matches(b"h[^e]llo", b"hello"));
    }

    #[test]
    fn stars_and_questions() {
        assert!(matches(b"*", b""));
        assert!(matches(b"*", b"anything"));
        assert!(matches(b"user:*", b"user:"));
        assert!(matches(b"*:profile", b"user:1:profile"));
        assert!(matches(b"a*b*c", b"aXXbYYc"));
        assert!(!matches(b"a*b*c", b"aXXbYY"));
        assert!(matches(b"?", b"x"));
        assert!(!matches(b"?", b""));
        assert!(!matches(b"user:?", b"user:10"));
        assert!(matches(b"**a**", b"bab"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(matches(b"h[ae]llo", b"hallo"));
        assert!(!matches(b"h[ae]llo", b"hillo"));
        assert!(matches(b"h[^e]llo", b"hallo"));
        assert!(!matches(b"h[^e]llo", b"hello"));
        assert!(matches(b"h[a-b]llo", b"hbllo"));
        assert!(matches(b"h[b-a]llo", b"hallo"));
        assert!(matches(b"a\\*b", b"a*b"));
        assert!(!matches(b"a\\*b", b"aXb"));
        assert!(matches(b"[\\]]", b"]"));
        assert!(matches(b"k\xff*", b"k\xff\x00"));
    }

    #[test]
    fn no_blowup_on_many_stars() {
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let key = vec![b'a'; 5000];
        assert!(!matches(pattern, &key));
    }
}
