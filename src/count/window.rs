//! Rolling reports: a report per period (`--every`), each covering the last `--window`.
//!
//! Periods follow the stream's clock ([`crate::sink::rolling`] maps the MONITOR timestamps onto it)
//! and are aligned to multiples of the period since the epoch, so two nodes' reports line up
//! and a replayed capture gives the same reports as the live stream. A sliding window keeps one
//! bounded summary per period, never the records, and a report merges the summaries of the
//! periods it covers. A line whose time falls in a period already reported (a late or
//! reordered line) is counted in the current period. The last report is the last window
//! reported, extended to the end of the input: it never goes back to an earlier, shorter one.

use std::collections::VecDeque;

use crate::count::stats::{Settings, Stats};

/// What one report covers, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Where the window starts, aligned to a multiple of the period.
    pub start: u64,
    /// Where it ends: its nominal end, or for the last window at the end of the input, the end
    /// of the input.
    pub end: u64,
    /// Where the stream started, when it started inside the window (else `start`): the window
    /// covers `from..end`, and rates are taken over that.
    pub from: u64,
    /// Its nominal length.
    pub length: u64,
    /// The input ended inside it (or after it: the last window reported, extended).
    pub ended: bool,
}

impl Window {
    /// A whole window of `length` ending at `end`, for a stream that started at `first`.
    fn new(end: u64, length: u64, first: u64) -> Window {
        let start = end.saturating_sub(length);
        Window { start, end, from: first.clamp(start, end), length, ended: false }
    }

    /// The seconds the window covers, for rates.
    pub fn seconds(&self) -> f64 {
        self.end.saturating_sub(self.from) as f64 / 1e6
    }

    /// The window covers less than its length: the stream started, or the input ended, inside it.
    pub fn partial(&self) -> bool {
        self.end.saturating_sub(self.from) < self.length
    }

    /// The stream started inside the window.
    pub fn started_inside(&self) -> bool {
        self.from > self.start
    }
}

/// What a report shows besides its merged counts: its window, its periods (for each key's
/// trend) and the last full period (for each key's rate now).
pub struct WindowFrame<'a> {
    pub window: Window,
    /// The period's length, in microseconds.
    pub every: u64,
    /// The counts of each period of the window, oldest first, and the seconds each covered
    /// (the first and last may be partial); empty for a window of one period.
    pub periods: Vec<&'a Stats>,
    pub seconds: Vec<f64>,
    /// The last full period (the period under way while none is full), for the rate now.
    pub recent: Option<Recent<'a>>,
}

/// The latest period a rate now is taken over, and the one before it (for the direction).
#[derive(Clone, Copy)]
pub struct Recent<'a> {
    pub now: &'a Stats,
    /// The seconds it covered (less than a period for the first one, when the stream started
    /// inside it).
    pub seconds: f64,
    pub before: Option<(&'a Stats, f64)>,
}

/// The most periods one window may span (each keeps its own summary).
pub const MAX_PERIODS: u64 = 100;

/// The smallest key table a period gets, however many periods share the memory.
const MIN_PERIOD_KEYS: usize = 100;

/// What [`Windows`] asks of its owner as periods end.
pub trait Period<E> {
    /// Brings in the counts of the period under way that are kept elsewhere (the key tables
    /// counted on the second core), before it is reported.
    fn complete(&mut self, current: &mut Stats);
    /// Writes the report of a window: `stats` its counts, `frame` what else it shows.
    fn report(&mut self, stats: &Stats, frame: &WindowFrame<'_>) -> Result<(), E>;
}

/// The periods of the current window and the counters of the one under way.
pub struct Windows {
    every: u64,
    /// Periods per window.
    periods: usize,
    /// The finished periods of the last window reported, oldest first: the next window needs
    /// one fewer, the last report (which extends the last window reported) all of them, and a
    /// key's direction of change the one before the last.
    history: VecDeque<Stats>,
    current: Stats,
    /// The index (time / period) of the current period; `None` before the first command.
    index: Option<u64>,
    /// The first time of the stream: windows it started inside cover less than their length.
    first: u64,
    /// The last window reported, while `history` holds its periods.
    drawn: Option<Window>,
    /// The settings of a report's merged tables.
    report_settings: Settings,
}

impl Windows {
    /// `every` and `window` in microseconds; `window` is a multiple of `every`.
    pub fn new(every: u64, window: u64, settings: Settings) -> Windows {
        let every = every.max(1);
        let periods = (window / every).max(1) as usize;
        // The periods kept (a window's and the one under way) share half the memory, and a
        // report merges them into tables of the other half, which always hold their union
        // (nothing is evicted in a merge, and a merge is one pass).
        let kept = periods + 1;
        let period_keys = (settings.max_keys / (2 * kept)).max(MIN_PERIOD_KEYS);
        let report_keys = (settings.max_keys / 2).max(period_keys * kept);
        let current = Stats::new(Settings { max_keys: period_keys, ..settings.clone() });
        let report_settings = Settings { max_keys: report_keys, ..settings };
        Windows {
            every,
            periods,
            history: VecDeque::new(),
            current,
            index: None,
            first: 0,
            drawn: None,
            report_settings,
        }
    }

    /// The counters of the period under way.
    pub fn current(&mut self) -> &mut Stats {
        &mut self.current
    }

    /// The settings of each period's tables.
    pub fn period_settings(&self) -> &Settings {
        &self.current.settings
    }

    /// The end of the period under way, if one has begun.
    pub fn period_end(&self) -> Option<u64> {
        self.index.map(|i| (i + 1).saturating_mul(self.every))
    }

    /// A window's nominal length.
    pub fn window_len(&self) -> u64 {
        self.every.saturating_mul(self.periods as u64)
    }

    /// Moves to the period holding `micros`, reporting every period that ends before it;
    /// `complete` brings a period's counts in before it is reported (see [`Period`]).
    pub fn advance_to<E>(&mut self, micros: u64, period: &mut dyn Period<E>) -> Result<(), E> {
        let target = micros / self.every;
        let Some(index) = self.index else {
            self.index = Some(target);
            self.first = micros;
            return Ok(());
        };
        if target <= index {
            return Ok(());
        }
        while let Some(index) = self.index.filter(|&i| i < target) {
            // The next window's periods: the one under way and the history's latest but one.
            let skip = self.history.len().saturating_sub(self.periods - 1);
            let all_empty = self.current.tally.lines == 0 && self.history.range(skip..).all(|s| s.tally.lines == 0);
            if all_empty {
                return self.silence(index, target, period);
            }
            self.close(period)?;
        }
        Ok(())
    }

    /// A run of empty windows (the stream's clock jumped ahead) is reported as one window
    /// spanning it, then on to the `target` period.
    fn silence<E>(&mut self, index: u64, target: u64, period: &mut dyn Period<E>) -> Result<(), E> {
        let start = (index + 1).saturating_mul(self.every).saturating_sub(self.window_len());
        let end = target.saturating_mul(self.every);
        let window = Window { start, end, from: start, length: end - start, ended: false };
        period.complete(&mut self.current);
        let recent = Recent { now: &self.current, seconds: window.seconds(), before: None };
        let frame =
            WindowFrame { window, every: self.every, periods: Vec::new(), seconds: Vec::new(), recent: Some(recent) };
        period.report(&self.current, &frame)?;
        self.history.clear();
        self.drawn = None;
        self.current = self.current.next_period();
        self.index = Some(target);
        Ok(())
    }

    /// Reports the period under way and starts the next (also when an idle live stream's clock
    /// ran past its end).
    pub fn close<E>(&mut self, period: &mut dyn Period<E>) -> Result<(), E> {
        let Some(index) = self.index else { return Ok(()) };
        period.complete(&mut self.current);
        let end = (index + 1).saturating_mul(self.every);
        let window = Window::new(end, self.window_len(), self.first);
        let skip = self.history.len().saturating_sub(self.periods - 1);
        let periods: Vec<&Stats> = self.history.range(skip..).chain([&self.current]).collect();
        let before = self.history.back().map(|s| (s, self.covered(index.wrapping_sub(1), end)));
        let recent = Recent { now: &self.current, seconds: self.covered(index, end), before };
        self.report(window, periods, index, end, Some(recent), period)?;
        self.drawn = Some(window);
        let next = self.current.next_period();
        self.history.push_back(std::mem::replace(&mut self.current, next));
        while self.history.len() > self.periods {
            self.history.pop_front();
        }
        self.index = Some(index + 1);
        Ok(())
    }

    /// Reports the last window at the end of the input (at `end`): the last window reported,
    /// extended to `end`, or the first window when none was reported.
    pub fn finish<E>(&mut self, end: u64, period: &mut dyn Period<E>) -> Result<(), E> {
        period.complete(&mut self.current);
        let Some(index) = self.index else {
            // Nothing with a timestamp was read: one report of what there was.
            let window = Window { start: 0, end: 0, from: 0, length: 0, ended: true };
            let frame =
                WindowFrame { window, every: self.every, periods: Vec::new(), seconds: Vec::new(), recent: None };
            return period.report(&self.current, &frame);
        };
        let window = match self.drawn {
            Some(drawn) => Window { end: end.max(drawn.end), ended: true, ..drawn },
            None => {
                let mut window = Window::new((index + 1).saturating_mul(self.every), self.window_len(), self.first);
                window.end = end.max(window.from);
                Window { ended: true, ..window }
            }
        };
        let end = window.end;
        let periods: Vec<&Stats> = self.history.iter().chain([&self.current]).collect();
        let n = self.history.len();
        let recent = match n {
            0 => Recent { now: &self.current, seconds: self.covered(index, end), before: None },
            _ => Recent {
                now: &self.history[n - 1],
                seconds: self.covered(index - 1, end),
                before: (n >= 2).then(|| (&self.history[n - 2], self.covered(index - 2, end))),
            },
        };
        self.report(window, periods, index, end, Some(recent), period)
    }

    /// The seconds period `index` covered of the stream (from its first time, to `end`).
    fn covered(&self, index: u64, end: u64) -> f64 {
        let start = index.saturating_mul(self.every).max(self.first);
        let stop = index.saturating_add(1).saturating_mul(self.every).min(end);
        stop.saturating_sub(start) as f64 / 1e6
    }

    /// Reports a window of `periods` (the last one is period `last`), merged when several.
    fn report<E>(
        &self,
        window: Window,
        periods: Vec<&Stats>,
        last: u64,
        end: u64,
        recent: Option<Recent<'_>>,
        period: &mut dyn Period<E>,
    ) -> Result<(), E> {
        if let [only] = periods[..] {
            let frame = WindowFrame { window, every: self.every, periods: Vec::new(), seconds: Vec::new(), recent };
            return period.report(only, &frame);
        }
        let n = periods.len() as u64;
        let seconds = (0..n).map(|i| self.covered((last + 1 + i).saturating_sub(n), end)).collect();
        let mut merged = Stats::new(self.report_settings.clone());
        for counts in &periods {
            merged.merge(counts);
        }
        let frame = WindowFrame { window, every: self.every, periods, seconds, recent };
        period.report(&merged, &frame)
    }
}

/// Parses a duration: a number with `ms`, `s`, `m` or `h` (`500ms`, `10s`, `1.5s`, `1m`, `1h`);
/// returns microseconds. A fraction must come to whole microseconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let whole_len = digits(text);
    let (whole, rest) = text.split_at(whole_len);
    // A fraction of the unit (1.5s, 0.25m), as long as it comes to whole microseconds.
    let (fraction, unit) = match rest.strip_prefix('.') {
        Some(after) => after.split_at(digits(after)),
        None => ("", rest),
    };
    if fraction.is_empty() && (whole.is_empty() || rest.starts_with('.')) {
        return None;
    }
    let scale: u64 = match unit {
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        _ => return None,
    };
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut us = whole.checked_mul(scale)?;
    if !fraction.is_empty() {
        // At most 9 digits: a finer fraction of an hour than a microsecond means nothing here.
        let fraction = fraction.trim_end_matches('0');
        let tenths = 10u64.checked_pow(u32::try_from(fraction.len()).ok().filter(|&n| n <= 9)?)?;
        let part = if fraction.is_empty() { 0 } else { fraction.parse::<u64>().ok()? } * scale;
        if part % tenths != 0 {
            return None;
        }
        us = us.checked_add(part / tenths)?;
    }
    Some(us).filter(|&us| us > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::stats::GapRule;

    /// The windows reported, with the lines each counted and its rate now's seconds.
    #[derive(Default)]
    struct Reported(Vec<(Window, u64, Option<f64>)>);

    impl Period<()> for Reported {
        fn complete(&mut self, _current: &mut Stats) {}
        fn report(&mut self, stats: &Stats, frame: &WindowFrame<'_>) -> Result<(), ()> {
            self.0.push((frame.window, stats.tally.lines, frame.recent.map(|r| r.seconds)));
            Ok(())
        }
    }

    fn windows(every: u64, window: u64) -> Windows {
        let settings = Settings {
            commands: crate::commands::Table::shared(),
            top: 10,
            prefix_delimiter: b":".to_vec(),
            prefix_depth: 1,
            gap_rule: GapRule::Later,
            max_keys: 1000,
        };
        Windows::new(every, window, settings)
    }

    /// A line at `micros`.
    fn line(w: &mut Windows, at: u64, reported: &mut Reported) {
        w.advance_to(at, reported).unwrap();
        w.current().tally.lines += 1;
    }

    const S: u64 = 1_000_000;

    #[test]
    fn the_last_window_is_the_last_reported_extended_to_the_end() {
        let (mut w, mut r) = (windows(S, 3 * S), Reported::default());
        // The stream starts half-way into period 10; a line in each period to 14.5.
        for at in [10 * S + S / 2, 11 * S, 12 * S, 13 * S, 14 * S + S / 2] {
            line(&mut w, at, &mut r);
        }
        w.finish(14 * S + S / 2 + 1, &mut r).unwrap();
        let starts: Vec<u64> = r.0.iter().map(|(w, _, _)| w.start / S).collect();
        assert_eq!(starts, [8, 9, 10, 11, 11], "the last starts where the one before it did");
        let (last, lines, now) = r.0[4];
        assert_eq!((last.end, last.ended, lines), (14 * S + S / 2 + 1, true, 4));
        assert_eq!(now, Some(1.0), "the rate now over the last full period");
        // The first period covered half of itself: its rate now is over that half.
        assert_eq!(r.0[0].2, Some(0.5));
        assert_eq!(r.0[0].0.from, 10 * S + S / 2);
    }

    #[test]
    fn a_window_of_one_period_ends_as_that_period_and_the_rest() {
        let (mut w, mut r) = (windows(S, S), Reported::default());
        for at in [10 * S, 11 * S, 11 * S + S / 4] {
            line(&mut w, at, &mut r);
        }
        w.finish(11 * S + S / 4 + 1, &mut r).unwrap();
        let (last, lines, _) = r.0[1];
        assert_eq!((last.start, last.end, lines), (10 * S, 11 * S + S / 4 + 1, 3));
        assert_eq!(r.0.len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(500_000));
        assert_eq!(parse_duration("10s"), Some(10_000_000));
        assert_eq!(parse_duration("1m"), Some(60_000_000));
        assert_eq!(parse_duration("1h"), Some(3_600_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000));
        assert_eq!(parse_duration("0.25m"), Some(15_000_000));
        assert_eq!(parse_duration(".5s"), Some(500_000));
        assert_eq!(parse_duration("2.500ms"), Some(2_500));
        assert_eq!(parse_duration("1.0h"), Some(3_600_000_000));
        for bad in [
            "",
            "10",
            "s",
            ".s",
            "1.s",
            "1..5s",
            "1.5.5s",
            "0.0001ms",
            "0.0s",
            "-1s",
            "0s",
            "10 s",
            "1d",
            "99999999999999999999h",
            "1.0000000001h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
