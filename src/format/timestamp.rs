//! Timestamps, the one home of their text forms: `SECONDS.MICROS` as MONITOR lines and records
//! carry them (read by [`parse_timestamp`], written by [`seconds`] and [`push_seconds`]), and the
//! ISO 8601 and time-of-day forms the reports and notices show ([`iso8601`], [`time_of_day`]).
//! A time is microseconds since the Unix epoch, UTC.

use std::io::Write as _;

use crate::format::scan;

/// The first second of the year 10000: later timestamps are refused (no capture is from then,
/// and dates could not be written in ISO 8601).
const YEAR_10000: u64 = 253_402_300_800;

/// Parses `SECONDS.FRACTION` into microseconds.
///
/// Servers write six fraction digits; proxies, tools and hand edits may write fewer, read as
/// written (`.1` is 100 000 µs). Redis 2.0 did not zero-pad its microseconds: with `unpadded`
/// (a line in the form without brackets, as 2.0 to 2.4 wrote), fewer digits are a microsecond
/// count. Dragonfly appends stray digits: only the first six of a longer fraction count.
// Always inlined: the common form is a few instructions, fewer than a call (left to the
// compiler, a large caller stops inlining it); the others are read out of line.
#[inline(always)]
pub fn parse_timestamp(ts: &[u8], unpadded: bool) -> Option<u64> {
    if let Some(micros) = <&[u8; 17]>::try_from(ts).ok().and_then(common) {
        return Some(micros);
    }
    parse_written(ts, unpadded)
}

/// The common case, ten digits of seconds and six of microseconds, read eight at a time.
#[inline(always)]
fn common(t: &[u8; 17]) -> Option<u64> {
    if t[10] != b'.' {
        return None;
    }
    let (head, tail) = words(t);
    if not_digits(head) | not_digits(tail) != 0 {
        return None;
    }
    // The first eight digits of seconds, and the eight digits after them: exactly microseconds
    // since the epoch once the first are shifted by eight places.
    Some(digits_value(head) * 100_000_000 + digits_value(tail))
}

/// [`parse_timestamp`] for a stream of lines: the common form's first eight digits (which
/// change every hundred seconds) are read once for all the lines that share them.
#[derive(Debug)]
pub struct Stamps {
    /// The first eight digits last read, as loaded, and their value in microseconds: before
    /// any, `00000000` and 0, which are each other's (so a fresh one needs no test of its own).
    head: u64,
    value: u64,
}

impl Default for Stamps {
    fn default() -> Stamps {
        Stamps { head: u64::from_le_bytes(*b"00000000"), value: 0 }
    }
}

impl Stamps {
    /// [`parse_timestamp`] of `ts` (padded), the same answer.
    // Always inlined, as parse_timestamp is.
    #[inline(always)]
    pub fn parse(&mut self, ts: &[u8]) -> Option<u64> {
        if let Ok(t) = <&[u8; 17]>::try_from(ts) {
            if t[10] == b'.' {
                let (head, tail) = words(t);
                if head == self.head && not_digits(tail) == 0 {
                    return Some(self.value + digits_value(tail));
                }
                if let Some(micros) = common(t) {
                    self.head = head;
                    self.value = digits_value(head) * 100_000_000;
                    return Some(micros);
                }
                return parse_written(ts, false);
            }
        }
        parse_timestamp(ts, false)
    }
}

/// The two words [`common`] reads of a timestamp whose dot is at 10.
#[inline(always)]
fn words(t: &[u8; 17]) -> (u64, u64) {
    let word = |at: usize| {
        u64::from_le_bytes([t[at], t[at + 1], t[at + 2], t[at + 3], t[at + 4], t[at + 5], t[at + 6], t[at + 7]])
    };
    // The last two digits of seconds, then the six of microseconds (the dot masked out of the
    // eight bytes from the ninth, the digits after it from the tenth).
    (word(0), (word(8) & 0xffff) | (word(9) & !0xffff))
}

/// [`parse_timestamp`] of any other form, as written.
#[inline(never)]
fn parse_written(ts: &[u8], unpadded: bool) -> Option<u64> {
    let dot = scan::find(ts, b'.')?;
    let (secs, frac) = (&ts[..dot], &ts[dot + 1..]);
    if secs.is_empty() || secs.len() > 12 || frac.is_empty() || frac.len() > 12 {
        return None;
    }
    let secs = parse_digits(secs).filter(|&s| s < YEAR_10000)?;
    let digits = &frac[..frac.len().min(6)];
    let mut micros = parse_digits(digits)?;
    if !unpadded {
        micros *= 10u64.pow(6 - digits.len() as u32);
    }
    if frac.len() > 6 {
        parse_digits(&frac[6..])?;
    }
    Some(secs * 1_000_000 + micros)
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Zero exactly when the eight bytes of `x` are ASCII digits.
#[inline(always)]
fn not_digits(x: u64) -> u64 {
    // Each byte is 0x30..=0x39: high nibble 3, and adding 6 does not carry into it. (A carry
    // out of a byte comes only from one whose high nibble is not 3: the result is not zero.)
    let high = ONES * 0xf0;
    ((x & high) ^ (ONES * 0x30)) | ((x.wrapping_add(ONES * 6) & high) ^ (ONES * 0x30))
}

/// The value of eight ASCII digits loaded little-endian (first digit in the lowest byte).
#[inline(always)]
fn digits_value(x: u64) -> u64 {
    // Digit pairs, then fours, then all eight, each step one multiplication.
    let v = x & (ONES * 0x0f);
    let v = v.wrapping_mul(10 << 8 | 1) >> 8;
    let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(100 << 16 | 1) >> 16;
    (v & 0x0000_ffff_0000_ffff).wrapping_mul(10_000 << 32 | 1) >> 32
}

fn parse_digits(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| if b.is_ascii_digit() { Some(acc * 10 + u64::from(b - b'0')) } else { None })
}

/// `2026-11-25T20:33:34.123456Z` for microseconds since the epoch.
pub fn iso8601(micros: u64) -> String {
    let secs = micros / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar, in 400-year eras).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        micros % 1_000_000
    )
}

/// `SECONDS.MICROS` for microseconds since the epoch.
pub fn seconds(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Appends `SECONDS.MICROS` for `micros` to `out`, the form a MONITOR line starts with.
pub fn push_seconds(out: &mut Vec<u8>, micros: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(micros / 1_000_000).as_bytes());
    let frac = micros % 1_000_000;
    let _ = write!(out, ".{frac:06}");
}

/// `HH:MM:SS` (UTC) of a time in microseconds since the epoch: when a node was lost.
pub fn time_of_day(micros: u64) -> String {
    let secs = micros / 1_000_000 % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_eight_digits_at_a_time_agree_with_one_at_a_time() {
        let slow = |ts: &[u8]| {
            let dot = ts.iter().position(|&b| b == b'.')?;
            let secs = parse_digits(&ts[..dot])?;
            Some(secs * 1_000_000 + parse_digits(&ts[dot + 1..])?)
        };
        for ts in [&b"1795636306.848848"[..], b"0000000000.000000", b"9999999999.999999", b"1234567890.012345"] {
            assert_eq!(parse_timestamp(ts, false), slow(ts), "{}", String::from_utf8_lossy(ts));
        }
        // Each digit in each place (a digit's weight read from the wrong byte shows).
        for pos in (0..17).filter(|&p| p != 10) {
            for digit in b'0'..=b'9' {
                let mut ts = *b"1795636306.848848";
                ts[pos] = digit;
                assert_eq!(parse_timestamp(&ts, false), slow(&ts), "{}", String::from_utf8_lossy(&ts));
            }
        }
        // Every position holding each byte that is not a digit, or is next to the digits.
        for pos in 0..17 {
            for bad in [b'/', b':', b'a', b' ', 0x00, 0xb0, 0x39 + 0x80, 0xfa, 0xff] {
                let mut ts = *b"1795636306.848848";
                ts[pos] = bad;
                assert_eq!(parse_timestamp(&ts, false), None, "{pos} {bad}");
            }
        }
        assert_eq!(parse_timestamp(b"1.5", true), Some(1_000_005), "Redis 2.0's unpadded microseconds");
        assert_eq!(parse_timestamp(b"1.5", false), Some(1_500_000));
    }

    #[test]
    fn a_stream_of_timestamps_reads_as_each_alone() {
        // Runs that share their first eight digits, runs that do not, and lines between them
        // with a bad byte anywhere (in the shared digits too), other lengths and no dot: each
        // read as parse_timestamp reads it alone, whatever came before.
        let mut stamps = Stamps::default();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut ts = *b"1795636306.848848";
        for round in 0..50_000 {
            crate::testing::xorshift(&mut seed);
            let pos = (seed % 17) as usize;
            let digit = b'0' + (seed >> 8) as u8 % 10;
            match seed >> 16 & 7 {
                // A later time (the last digits), mostly.
                0..=3 => ts[11 + pos % 6] = digit,
                // A later second, or a jump far away.
                4 => ts[pos % 10] = digit,
                5 => {
                    let mut bad = ts;
                    bad[pos] = [b'/', b':', b'a', b' ', 0x00, 0xb0, 0xfa, 0xff][(seed >> 24) as usize % 8];
                    assert_eq!(stamps.parse(&bad), parse_timestamp(&bad, false), "round {round}");
                }
                6 => {
                    let short = &ts[..(seed >> 24) as usize % 17];
                    assert_eq!(stamps.parse(short), parse_timestamp(short, false), "round {round}");
                }
                _ => {
                    let long = [&ts[..], b"7"].concat();
                    assert_eq!(stamps.parse(&long), parse_timestamp(&long, false), "round {round}");
                }
            }
            assert_eq!(stamps.parse(&ts), parse_timestamp(&ts, false), "round {round}");
        }
        // Zero bytes, and the digits a fresh Stamps holds (`00000000`, read as 0): each as
        // parse_timestamp reads it.
        let zeros = b"\0\0\0\0\0\0\0\x0012.345678";
        assert_eq!(Stamps::default().parse(zeros), None);
        let fresh = b"0000000012.345678";
        assert_eq!(Stamps::default().parse(fresh), Some(12_345_678));
        assert_eq!(Stamps::default().parse(b"0000000012.34567x"), None);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso8601(1_795_636_306_848_848), "2026-11-25T19:51:46.848848Z");
        assert_eq!(iso8601(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(iso8601(4_107_542_400_000_000), "2100-03-01T00:00:00.000000Z");
    }
}
