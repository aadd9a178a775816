//! Numbers in a call's arguments, read as the server reads them.

/// C's atoi on a Redis argument: optional sign, leading digits, anything after ignored.
pub(super) fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// The server's string2ll: a whole, canonical decimal integer.
pub(super) fn parse_i64(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with('+') || (text.len() > 1 && text.starts_with('0')) || text.starts_with("-0") {
        return None;
    }
    text.parse().ok()
}
