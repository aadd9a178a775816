//! The live screen: with `--every` and a terminal for standard output, each report is drawn in
//! place on one screen, like `top`, laid out for the terminal's size, instead of being appended.
//!
//! What an operator needs first comes first: a header (the window, commands and key accesses
//! per second, how many keys are hot, what else was read), then Top Keys — rate, share, reads
//! and writes, slot, node, the key's trend over the window as a sparkline, and the key, cut
//! with an ellipsis and its length when it does not fit, never wrapped — then Top Commands, Top
//! Clients and Top Prefixes as room allows (side by side on a wide terminal). Before the first
//! command the screen says it is waiting and what it has read; after a silence, since when.
//! Only a few escape sequences are used: home, clear to the end of the line and of the screen.

use std::io::{self, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::report::{iso8601, Kind, Report, Row, Section};
use crate::stats::Tally;

/// A screen redrawn in place.
pub struct Screen {
    /// Nothing was drawn yet: the first draw clears the terminal.
    fresh: bool,
    unicode: bool,
    /// The last report, redrawn when only the status changes.
    last: Option<Report>,
    /// When the run started (the wall clock, in microseconds), for the waiting line.
    started: u64,
    /// When the status line was last redrawn.
    drawn: Option<Instant>,
}

impl Default for Screen {
    fn default() -> Self {
        Screen::new()
    }
}

impl Screen {
    pub fn new() -> Screen {
        Screen { fresh: true, unicode: unicode_locale(), last: None, started: now_micros(), drawn: None }
    }

    /// Draws a report.
    pub fn report(&mut self, out: &mut dyn Write, report: Report) -> io::Result<()> {
        let (width, height) = terminal_size();
        let lines = render(&report, width, height, "", self.unicode);
        self.last = Some(report);
        self.draw(out, &lines)
    }

    /// A live input went quiet: before the first command, says it is waiting and what it has
    /// read; after a silence of a second or more since `quiet`, says since when. At most once a
    /// second.
    pub fn idle(&mut self, out: &mut dyn Write, tally: &Tally, quiet: Option<Instant>) -> io::Result<()> {
        if self.drawn.is_some_and(|d| d.elapsed().as_millis() < 1000) {
            return Ok(());
        }
        let (width, height) = terminal_size();
        let lines = match &self.last {
            None => waiting(self.started, tally, width),
            Some(report) => {
                let Some(quiet) = quiet.filter(|q| q.elapsed().as_secs() >= 1) else { return Ok(()) };
                let since = now_micros().saturating_sub(quiet.elapsed().as_micros() as u64);
                let status = format!("no input since {} ({}s)", clock(since), quiet.elapsed().as_secs());
                render(report, width, height, &status, self.unicode)
            }
        };
        self.draw(out, &lines)
    }

    fn draw(&mut self, out: &mut dyn Write, lines: &[String]) -> io::Result<()> {
        let mut text = String::new();
        // Home, each line then the rest of it cleared, then the rest of the screen.
        text.push_str(if self.fresh { "\x1b[H\x1b[2J" } else { "\x1b[H" });
        for line in lines {
            text.push_str(line);
            text.push_str("\x1b[K\r\n");
        }
        text.push_str("\x1b[J");
        self.fresh = false;
        self.drawn = Some(Instant::now());
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

/// The screen before the first command.
fn waiting(started: u64, tally: &Tally, width: usize) -> Vec<String> {
    let waited = now_micros().saturating_sub(started) / 1_000_000;
    let lines = [
        format!("faina-filter: waiting for the first command since {} ({waited}s)", clock(started)),
        format!(
            "lines read {}: noise {}, skipped {}, server errors {}",
            tally.lines, tally.noise, tally.skipped, tally.server_errors
        ),
        if tally.server_errors > 0 {
            "the server answered with an error (see above the screen): check AUTH and MONITOR".to_string()
        } else {
            String::new()
        },
    ];
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// The screen of a report, `height` lines of at most `width - 1` columns.
pub fn render(report: &Report, width: usize, height: usize, status: &str, unicode: bool) -> Vec<String> {
    let mut lines = header(report, status);
    let room = height.saturating_sub(lines.len() + 2);
    let keys = report.section(Kind::Keys);
    let key_rows = keys.map_or(0, |s| s.rows.len());
    // Top Keys first; what is left goes to the other sections.
    let shown = key_rows.min(room.saturating_sub(1).max(room * 6 / 10).max(room.min(5)));
    if let Some(section) = keys {
        lines.push(String::new());
        lines.extend(key_table(section, shown, width, unicode));
    }
    let left = height.saturating_sub(lines.len() + 2);
    if left > 2 {
        lines.push(String::new());
        let others: Vec<&Section> =
            [Kind::Commands, Kind::Clients, Kind::Prefixes].into_iter().filter_map(|k| report.section(k)).collect();
        lines.extend(other_tables(&others, width, left));
    }
    lines.truncate(height.saturating_sub(1));
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

fn header(report: &Report, status: &str) -> Vec<String> {
    let window = report.window.map_or(String::new(), |w| {
        let covered = if w.partial() { format!("{:.1}s of ", w.seconds()) } else { String::new() };
        format!("{}..{} ({covered}{}s)", clock(w.start), clock(w.end), w.length / 1_000_000)
    });
    let per_second = |n: u64| report.seconds.map_or("-".to_string(), |s| format!("{:.1}", n as f64 / s));
    let hot = report.hot.map_or(String::new(), |(qps, n)| format!("  hot {n} (>={qps}/s)"));
    let t = &report.tally;
    let mut second =
        format!("lines {}  noise {}  skipped {}  server errors {}", t.lines, t.noise, t.skipped, t.server_errors);
    if t.filtered > 0 {
        second.push_str(&format!("  filtered {}", t.filtered));
    }
    if let Some((name, _)) = report.unknown_names.first() {
        // Keys guessed from the first argument: --commands would know them.
        let more = if report.unknown_names.len() > 1 { ", …" } else { "" };
        second.push_str(&format!("  unknown commands {} ({}{more})", t.unknown_commands, name));
    }
    if !status.is_empty() {
        second.push_str("   ");
        second.push_str(status);
    }
    vec![format!("{window}  {} cmd/s  {} keys/s{hot}", per_second(t.commands), per_second(report.key_accesses)), second]
}

/// Top Keys: the numbers first, then the node and the trend, the key last.
fn key_table(section: &Section, rows: usize, width: usize, unicode: bool) -> Vec<String> {
    let shown = &section.rows[..rows.min(section.rows.len())];
    let node_width = shown.iter().filter_map(|r| r.key.as_ref()?.node.as_ref()).map(|n| n.chars().count()).max();
    let trend_width = shown.iter().filter_map(|r| r.key.as_ref()).map(|k| k.trend.len()).max().unwrap_or(0).min(24);
    let mut head = format!(" {:>8} {:>5} {:>5} {:>5} {:>5} ", "rate/s", "share", "reads", "write", "slot");
    if let Some(n) = node_width {
        head.push_str(&format!("{:<n$} ", "node", n = n.max(4)));
    }
    if trend_width > 0 {
        head.push_str(&format!("{:<w$} ", "trend", w = trend_width.max(5)));
    }
    let mut out = vec![format!("{head}key")];
    for row in shown {
        let Some(key) = &row.key else { continue };
        let hot = if key.hot == Some(true) { '*' } else { ' ' };
        let rate = row.rate.map_or("-".to_string(), |r| format!("{r:.1}"));
        let slot = key.slot.map_or("-".to_string(), |s| s.to_string());
        let share = format!("{:.0}%", row.share);
        let (reads, writes) = (short_count(key.reads), short_count(key.writes));
        let mut line = format!("{hot}{rate:>8} {share:>5} {reads:>5} {writes:>5} {slot:>5} ");
        if let Some(n) = node_width {
            line.push_str(&format!("{:<n$} ", key.node.as_deref().unwrap_or("-"), n = n.max(4)));
        }
        if trend_width > 0 {
            let recent = &key.trend[key.trend.len().saturating_sub(trend_width)..];
            line.push_str(&format!("{:<w$} ", sparkline(recent, unicode), w = trend_width.max(5)));
        }
        let room = width.saturating_sub(line.chars().count() + 1);
        line.push_str(&cut_name(row, room));
        out.push(line);
    }
    out
}

/// Other sections, side by side when the terminal is wide enough, else one after the other.
fn other_tables(sections: &[&Section], width: usize, height: usize) -> Vec<String> {
    let table = |section: &Section, w: usize, rows: usize| -> Vec<String> {
        let (title, what) = match section.kind {
            Kind::Commands => ("Top Commands", "command"),
            Kind::Clients => ("Top Clients", "client"),
            _ => ("Top Prefixes", "prefix"),
        };
        let mut out = vec![format!(" {title}"), format!(" {:>8} {:>5}  {what}", "rate/s", "share")];
        for row in section.rows.iter().take(rows) {
            let rate = row.rate.map_or("-".to_string(), |r| format!("{r:.1}"));
            let line = format!(" {rate:>8} {:>5}  ", format!("{:.0}%", row.share));
            let room = w.saturating_sub(line.chars().count() + 1);
            out.push(format!("{line}{}", cut_name(row, room)));
        }
        out
    };
    if width >= 120 && !sections.is_empty() {
        let w = width / sections.len();
        let columns: Vec<Vec<String>> = sections.iter().map(|s| table(s, w, height.saturating_sub(2))).collect();
        let rows = columns.iter().map(Vec::len).max().unwrap_or(0).min(height);
        return (0..rows)
            .map(|i| columns.iter().map(|c| pad(&fit(c.get(i).map_or("", String::as_str), w), w)).collect())
            .collect();
    }
    let mut out = Vec::new();
    for section in sections {
        let left = height.saturating_sub(out.len());
        if left < 4 {
            break;
        }
        if !out.is_empty() {
            out.push(String::new());
        }
        out.extend(table(section, width, left.saturating_sub(3)));
    }
    out
}

/// A count in at most five columns: `7280`, `73.1k`, `1.2M`.
fn short_count(n: u64) -> String {
    match n {
        0..=99_999 => n.to_string(),
        100_000..=9_999_999 => format!("{:.0}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// A row's name in at most `room` columns: whole, or cut with an ellipsis and its length.
fn cut_name(row: &Row, room: usize) -> String {
    let name = crate::report::name_text(row);
    if name.chars().count() <= room {
        return name;
    }
    let length = row.full_length.unwrap_or(row.name.len() as u64);
    let tail = format!("…({length} B)");
    let keep = room.saturating_sub(tail.chars().count());
    let head: String = name.chars().take(keep).collect();
    format!("{head}{tail}")
}

/// Counts as bars: `▁▂▃▄▅▆▇█` (or ` .:-=+*#` when the locale is not UTF-8), scaled to the
/// largest; a period with none is a space.
pub fn sparkline(counts: &[u64], unicode: bool) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const ASCII: [char; 8] = ['_', '.', ':', '-', '=', '+', '*', '#'];
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    counts
        .iter()
        .map(|&n| match n {
            0 => ' ',
            n => {
                let level = ((n as f64 / max as f64) * 7.0).round() as usize;
                if unicode {
                    BARS[level.min(7)]
                } else {
                    ASCII[level.min(7)]
                }
            }
        })
        .collect()
}

/// `line` in at most `width - 1` columns (the last column is left free: some terminals wrap when
/// it is written).
fn fit(line: &str, width: usize) -> String {
    line.chars().take(width.saturating_sub(1)).collect()
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// The terminal's size: from the terminal, else `COLUMNS` and `LINES`, else 80×24.
pub fn terminal_size() -> (usize, usize) {
    if let Some(size) = window_size() {
        return size;
    }
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    (env("COLUMNS", 80).max(20), env("LINES", 24).max(5))
}

#[cfg(target_os = "linux")]
fn window_size() -> Option<(usize, usize)> {
    #[repr(C)]
    struct WinSize {
        rows: u16,
        cols: u16,
        x: u16,
        y: u16,
    }
    extern "C" {
        fn ioctl(fd: i32, request: u64, ...) -> i32;
    }
    const TIOCGWINSZ: u64 = 0x5413;
    let mut size = WinSize { rows: 0, cols: 0, x: 0, y: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize structure to the pointer it is given.
    let ok = unsafe { ioctl(1, TIOCGWINSZ, &mut size as *mut WinSize) } == 0;
    (ok && size.cols > 0 && size.rows > 0).then(|| (usize::from(size.cols).max(20), usize::from(size.rows).max(5)))
}

#[cfg(not(target_os = "linux"))]
fn window_size() -> Option<(usize, usize)> {
    None
}

/// True when the locale says UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`).
pub fn unicode_locale() -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    locale.is_some_and(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    })
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// `14:02:11Z` for microseconds since the epoch.
fn clock(micros: u64) -> String {
    iso8601(micros)[11..19].to_string() + "Z"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest() {
        assert_eq!(sparkline(&[0, 1, 4, 8], true), " ▂▅█");
        assert_eq!(sparkline(&[5, 5], true), "██");
        assert_eq!(sparkline(&[0, 1, 4, 8], false), " .=#");
        assert_eq!(sparkline(&[], true), "");
    }

    #[test]
    fn lines_never_reach_the_last_column() {
        assert_eq!(fit("abcdef", 4), "abc");
        assert_eq!(fit("é€x", 3), "é€");
    }
}
