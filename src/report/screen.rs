//! The live screen: with `--every` and a terminal for standard output, each report is drawn in
//! place on one screen, like `top`, laid out for the terminal's size ([`layout`]), instead of
//! being appended.
//!
//! The screen says what is true now and keeps saying it: before the first command, that it is
//! waiting and what it has read; after a silence, since when; a server's refusal, until a
//! command comes; at the end, how the run ended. It is redrawn whole at least once a second
//! (each line rewritten and cleared to its end; the terminal is cleared only the first time),
//! and the cursor is left on the last line, which no frame uses: text another program writes
//! to the same terminal lands there, and the next redraw puts the frame back. The last frame
//! leaves a line free below it for the shell's prompt. Only a few escape sequences are used:
//! home, cursor position, clear to the end of the line and of the screen.

mod layout;

use std::io::{self, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::count::stats::Tally;
use crate::format::timestamp::iso8601;
use crate::report::Report;
use crate::sys::signal::Stop;

pub use layout::{render, Notices};

/// A screen redrawn in place.
pub struct Screen {
    /// Nothing was drawn yet: the first draw clears the terminal.
    fresh: bool,
    unicode: bool,
    /// The last report, redrawn when only the notices change.
    last: Option<Report>,
    /// When the run started (the wall clock, in microseconds), for the waiting line.
    started: u64,
    /// When the screen was last drawn.
    drawn: Option<Instant>,
    /// When the input last paused (something came just before it).
    quiet: Option<Instant>,
    /// A server's refusal, shown until a command comes.
    refusal: Option<String>,
    /// What was read before the first command, for the waiting screen.
    tally: Tally,
    /// The input is standard input, a terminal: the waiting screen says so.
    stdin: bool,
    /// The last frame says the run was stopped, rather than that its input ended, once this
    /// says so.
    stop: Stop,
}

/// A silence this long is said.
const SILENCE_SECONDS: u64 = 2;

impl Default for Screen {
    fn default() -> Self {
        Screen::new()
    }
}

impl Screen {
    pub fn new() -> Screen {
        Screen {
            fresh: true,
            unicode: unicode_locale(),
            last: None,
            started: now_micros(),
            drawn: None,
            quiet: None,
            refusal: None,
            tally: Tally::default(),
            stdin: false,
            stop: Stop::never(),
        }
    }

    /// The screen of a run that `stop` ends.
    pub fn stopping(self, stop: Stop) -> Screen {
        Screen { stop, ..self }
    }

    /// The input is a terminal's standard input: the waiting screen says so.
    pub fn reading_a_terminal(self) -> Screen {
        Screen { stdin: true, ..self }
    }

    /// Draws a report (the last one, at the end of the input, leaves a line for the prompt).
    pub fn report(&mut self, out: &mut dyn Write, report: Report) -> io::Result<()> {
        self.last = Some(report);
        self.redraw(out)
    }

    /// A server's refusal, quoted as standard error said it.
    pub fn notice(&mut self, text: &str) {
        self.refusal = Some(text.to_string());
    }

    /// A command came: the refusal is no longer true.
    pub fn clear_notice(&mut self) {
        self.refusal = None;
    }

    /// The input paused just now (`tally`: what the period under way has read); redraws when a
    /// second has passed since the last draw.
    pub fn paused(&mut self, out: &mut dyn Write, tally: &Tally) -> io::Result<()> {
        self.quiet = Some(Instant::now());
        self.tally = *tally;
        self.tick(out)
    }

    /// A live input is silent: `tally` is what has been read in the period under way.
    pub fn idle(&mut self, out: &mut dyn Write, tally: &Tally, quiet: Option<Instant>) -> io::Result<()> {
        self.quiet = quiet.or(self.quiet);
        self.tally = *tally;
        self.tick(out)
    }

    /// Redraws when a second has passed since the last draw.
    fn tick(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.drawn.is_some_and(|d| d.elapsed().as_millis() < 1000) {
            return Ok(());
        }
        self.redraw(out)
    }

    fn redraw(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let (width, height) = terminal_size();
        let silent = self.quiet.filter(|q| q.elapsed().as_secs() >= SILENCE_SECONDS).map(|q| {
            let since = now_micros().saturating_sub(q.elapsed().as_micros() as u64);
            format!("no input since {} ({}s)", clock(since), q.elapsed().as_secs())
        });
        let Some(report) = &self.last else {
            let mut lines = waiting(self.started, &self.tally, self.refusal.as_deref(), width);
            if self.stdin {
                lines.push(layout::fit(
                    "reading standard input (a terminal): pipe a MONITOR stream in; Ctrl-D ends it",
                    width,
                ));
            }
            return self.draw(out, &lines, height, false);
        };
        let last = report.window.is_some_and(|w| w.ended);
        let end = last.then(|| ending(report, self.stop.requested()));
        let notices = Notices { silent: if last { None } else { silent }, refusal: self.refusal.as_deref(), end };
        // The last line is left for the cursor; the last frame leaves one more for the prompt.
        let rows = height.saturating_sub(if last { 2 } else { 1 });
        let lines = render(report, width, rows, &notices, self.unicode);
        self.draw(out, &lines, height, last)
    }

    fn draw(&mut self, out: &mut dyn Write, lines: &[String], height: usize, last: bool) -> io::Result<()> {
        let mut text = String::new();
        // Home, each line then the rest of it cleared, then the rest of the screen.
        text.push_str(if self.fresh { "\x1b[H\x1b[2J" } else { "\x1b[H" });
        for line in lines {
            text.push_str(line);
            text.push_str("\x1b[K\r\n");
        }
        text.push_str("\x1b[J");
        if !last {
            // The cursor waits on the last line, which no frame uses.
            text.push_str(&format!("\x1b[{height};1H"));
        }
        self.fresh = false;
        self.drawn = Some(Instant::now());
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

/// How the run ended, for the last frame.
fn ending(report: &Report, stopped: bool) -> String {
    let at = report.window.map_or(0, |w| w.end);
    let when = if at > 0 { format!(" at {}", clock(at)) } else { String::new() };
    let how = if stopped { "stopped" } else { "input ended" };
    format!("{how}{when}")
}

/// The screen before the first command.
fn waiting(started: u64, tally: &Tally, refusal: Option<&str>, width: usize) -> Vec<String> {
    let waited = now_micros().saturating_sub(started) / 1_000_000;
    let mut lines = vec![
        format!("faina-filter: waiting for the first command since {} ({waited}s)", clock(started)),
        format!(
            "lines read {}: noise {}, skipped {}, server errors {}",
            tally.lines, tally.noise, tally.skipped, tally.server_errors
        ),
    ];
    if let Some(refusal) = refusal {
        lines.push(format!("the server said: {refusal}"));
    }
    lines.into_iter().map(|l| layout::fit(&l, width)).collect()
}

/// The terminal's size: from the terminal, else `COLUMNS` and `LINES`, else 80×24.
pub fn terminal_size() -> (usize, usize) {
    if let Some((columns, rows)) = crate::sys::terminal::window_size() {
        return (usize::from(columns).max(20), usize::from(rows).max(5));
    }
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    (env("COLUMNS", 80).max(20), env("LINES", 24).max(5))
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
