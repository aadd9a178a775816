//! The report as text, for a person and for a terminal of 80 columns: a heading per section,
//! the numbers first (within 40 columns) and the name last, so a long key never pushes the
//! numbers off the screen.

use std::fmt::Write as _;

use super::{duration, size, Kind, Report, Row, TopSection};
use crate::count::stats::GapRule;
use crate::format::timestamp::{iso8601, seconds};

/// The report as text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let o = &mut out;
    if let Some(w) = report.window {
        let title = window_title(&w);
        let _ = writeln!(o, "\n{title}\n{}", "#".repeat(title.chars().count()));
    }
    overall(o, report);
    if report.tally.commands == 0 {
        let what = if report.window.is_some() { " in this window" } else { "" };
        let _ = writeln!(o, "\nNo commands were read{what}.");
        if report.tally.server_errors > 0 {
            let _ = writeln!(o, "The server answered with an error (shown above): check AUTH and the MONITOR command.");
        }
        return out;
    }
    for section in &report.sections {
        match section.kind {
            Kind::Keys => keys(o, report, section),
            Kind::KeyBytes => key_bytes(o, section),
            Kind::KeyReplyBytes | Kind::KeyLatency => key_replies(o, section),
            _ => simple(o, report, section),
        }
    }
    command_time(o, report);
    out
}

/// `Window 2026-11-25T20:46:44Z .. 20:46:45Z (1s)`, with what it covers when that is not its
/// length: less (the stream started, or the input ended, inside it) or more (the last window
/// reported, extended to the end of the input).
fn window_title(w: &crate::count::window::Window) -> String {
    let end = if w.end / 86_400_000_000 == w.start / 86_400_000_000 { clock(w.end) } else { iso_short(w.end) };
    let length = seconds_text(w.length);
    let covered = w.end.saturating_sub(w.from);
    let mut covers = match covered.cmp(&w.length) {
        std::cmp::Ordering::Equal => length,
        std::cmp::Ordering::Less => format!("{} of {length}", seconds_text(covered)),
        std::cmp::Ordering::Greater => format!("{}, a window of {length}", seconds_text(covered)),
    };
    let mut notes = Vec::new();
    if w.started_inside() && !w.ended {
        notes.push(format!("from {}", clock(w.from)));
    }
    if w.ended {
        notes.push("input ended".to_string());
    }
    if !notes.is_empty() {
        covers = format!("{covers}: {}", notes.join(", "));
    }
    format!("Window {} .. {end} ({covers})", iso_short(w.start))
}

/// An ISO 8601 time, its fraction only when it has one: `2026-11-25T20:46:44Z`.
fn iso_short(micros: u64) -> String {
    let full = iso8601(micros);
    if micros % 1_000_000 == 0 {
        format!("{}Z", &full[..19])
    } else {
        full
    }
}

/// The time of day of `iso_short`: `20:46:44Z`, `20:46:44.000100Z`.
fn clock(micros: u64) -> String {
    iso_short(micros)[11..].to_string()
}

/// `2s`, `1.5s`, `0.156s` (to the millisecond).
fn seconds_text(micros: u64) -> String {
    let text = format!("{:.3}", micros as f64 / 1e6);
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

fn overall(o: &mut String, report: &Report) {
    let t = &report.tally;
    heading(o, "Overall");
    let _ = writeln!(o, "  lines read        {}", t.lines);
    let _ = writeln!(o, "  commands          {}", t.commands);
    let _ =
        writeln!(o, "  noise             {}   (OK, banners, blank lines; server errors: {})", t.noise, t.server_errors);
    let _ = writeln!(o, "  skipped           {}   (not MONITOR lines)", t.skipped);
    if t.filtered > 0 {
        let _ = writeln!(o, "  filtered out      {}   (by --db, --command, --client, --key)", t.filtered);
    }
    if t.out_of_order > 0 {
        let _ = writeln!(
            o,
            "  out of order      {}   (far from the stream's clock: counted in this period)",
            t.out_of_order
        );
    }
    if t.cut_lines > 0 {
        let _ = writeln!(o, "  cut lines         {}   (cut short: see the manual)", t.cut_lines);
    }
    if t.dropped > 0 {
        let _ = writeln!(
            o,
            "  DROPPED           {}   (sent by the server, not counted: the output could not keep up)",
            t.dropped
        );
    }
    match report.span {
        Some((first, last)) => {
            let _ = writeln!(o, "  first timestamp   {}  {}", iso8601(first), seconds(first));
            let _ = writeln!(o, "  last timestamp    {}  {}", iso8601(last), seconds(last));
            let _ = writeln!(o, "  time span         {:.6} s", report.span_micros() as f64 / 1e6);
            let rate = report.commands_per_second().map_or("-".to_string(), |r| format!("{r:.1}"));
            let _ = writeln!(o, "  commands/sec      {rate}");
        }
        None => {
            let _ = writeln!(o, "  first timestamp   -");
            let _ = writeln!(o, "  last timestamp    -");
        }
    }
    let _ = writeln!(o, "  key accesses      {}", report.key_accesses);
    if t.unknown_commands > 0 {
        let _ = writeln!(o, "  unknown commands  {}   (first argument taken as the key)", t.unknown_commands);
        // As many of the commonest names as fit 80 columns.
        let mut line = String::from("                    ");
        for (i, (name, n, error)) in report.unknown_names.iter().enumerate() {
            let bound = if *error > 0 { "<=" } else { "" };
            let item = format!("{}{} {bound}{n}", if i > 0 { ", " } else { "" }, cut_name(name, 24));
            if i > 0 && line.chars().count() + item.chars().count() > 80 - "; see --commands".len() {
                break;
            }
            line.push_str(&item);
        }
        let _ = writeln!(o, "{line}; see --commands");
    }
}

fn keys(o: &mut String, report: &Report, section: &TopSection) {
    heading(o, &format!("Top Keys (of {} key accesses)", section.total));
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
        return;
    }
    let rolling = report.every.is_some();
    if rolling {
        // The rate over the window and the rate now (the last full period), and its direction.
        let _ = writeln!(o, " {:>6} {:>8} {:>8}  {:>5} {:>5}  key", "share", "rate/s", "now/s", "write", "slot");
    } else {
        let _ = writeln!(o, " {:>8} {:>7} {:>8} {:>5} {:>5}  key", "count", "share", "rate/s", "write", "slot");
    }
    for row in &section.rows {
        let Some(key) = &row.key else { continue };
        let hot = if key.hot == Some(true) { '*' } else { ' ' };
        let slot = key.slot.map_or("-".to_string(), |s| s.to_string());
        let node = key.node.as_ref().map_or(String::new(), |n| format!("  ({n})"));
        let writes = write_share(key.reads, key.writes);
        let name = name_text(row);
        if rolling {
            let now = key.now.map_or("-".to_string(), |r| format!("{r:.1}"));
            let arrow = change_mark(key.change, true);
            let _ = writeln!(
                o,
                "{hot}{:>5.1}% {:>8} {now:>8}{arrow} {writes:>5} {slot:>5}  {name}{node}",
                row.share,
                rate_text(row)
            );
        } else {
            let _ = writeln!(
                o,
                "{hot}{:>8} {:>6.2}% {:>8} {writes:>5} {slot:>5}  {name}{node}",
                count_text(row),
                row.share,
                rate_text(row)
            );
        }
    }
    error_note(o, &section.rows);
    if let Some((qps, n)) = report.hot {
        let now = if rolling { " now" } else { "" };
        let _ = writeln!(o, "  (*: {n} keys at or above {qps}/s{now}, --hot-qps)");
    }
}

/// The direction of a rate now: up, down, steady (a space when unknown).
pub fn change_mark(change: Option<crate::report::RateChange>, unicode: bool) -> char {
    use crate::report::RateChange;
    match (change, unicode) {
        (None, _) => ' ',
        (Some(RateChange::Up), true) => '↑',
        (Some(RateChange::Down), true) => '↓',
        (Some(RateChange::Steady), true) => '→',
        (Some(RateChange::Up), false) => '+',
        (Some(RateChange::Down), false) => '-',
        (Some(RateChange::Steady), false) => '=',
    }
}

/// The hottest keys again, in a few lines: what a report to a terminal ends with, so they are
/// in view when the rest has scrolled past.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let Some(section) = report.section(Kind::Keys).filter(|s| !s.rows.is_empty()) else { return out };
    let o = &mut out;
    heading(o, "Hottest Keys (the first rows of Top Keys)");
    for row in section.rows.iter().take(SUMMARY_ROWS) {
        let hot = if row.key.as_ref().and_then(|k| k.hot) == Some(true) { '*' } else { ' ' };
        let _ =
            writeln!(o, "{hot}{:>8} {:>6.2}% {:>8}/s  {}", count_text(row), row.share, rate_text(row), name_text(row));
    }
    out
}

/// How many keys [`summary`] shows.
const SUMMARY_ROWS: usize = 5;

/// The share of a key's accesses that are writes: `0`, `<1%`, `38%`, `>99%`, `all`.
pub fn write_share(reads: u64, writes: u64) -> String {
    let total = reads + writes;
    match writes {
        0 => "0".to_string(),
        w if w == total => "all".to_string(),
        w if w * 100 < total => "<1%".to_string(),
        w if w * 100 > total * 99 => ">99%".to_string(),
        w => format!("{}%", (w * 100 + total / 2) / total),
    }
}

fn key_bytes(o: &mut String, section: &TopSection) {
    heading(o, &format!("Top Keys by Bytes (request bytes, of {})", size(section.total)));
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
        return;
    }
    // Room for an upper bound: `<=439.5KiB`.
    let _ = writeln!(o, " {:>10} {:>7}  key", "bytes", "share");
    for row in &section.rows {
        let bound = if row.error > 0 { "<=" } else { "" };
        let _ = writeln!(o, " {:>10} {:>6.2}%  {}", format!("{bound}{}", size(row.count)), row.share, name_text(row));
    }
    error_note(o, &section.rows);
}

/// Top Keys by Reply Bytes, or by Latency: of requests read from packets, with their replies.
fn key_replies(o: &mut String, section: &TopSection) {
    let latency = section.kind == Kind::KeyLatency;
    let (title, unit) = if latency {
        (format!("Top Keys by Latency (request to reply, total {})", duration(section.total)), "latency")
    } else {
        (format!("Top Keys by Reply Bytes (bytes the server sent back, of {})", size(section.total)), "bytes")
    };
    heading(o, &title);
    let _ = writeln!(o, " {unit:>9} {:>7}  key", "share");
    for row in &section.rows {
        let bound = if row.error > 0 { "<=" } else { "" };
        let value = if latency { duration(row.count) } else { size(row.count) };
        let _ = writeln!(o, " {:>9} {:>6.2}%  {}", format!("{bound}{value}"), row.share, name_text(row));
    }
    error_note(o, &section.rows);
}

/// A section of names with their counts: prefixes, commands, clients, slots, nodes.
fn simple(o: &mut String, report: &Report, section: &TopSection) {
    let (title, what) = match section.kind {
        Kind::Prefixes => (
            format!(
                "Top Prefixes (up to '{}' x{}, of {} key accesses)",
                report.prefix_delimiter, report.prefix_depth, section.total
            ),
            "prefix",
        ),
        Kind::Commands => (format!("Top Commands (of {} commands)", section.total), "command"),
        Kind::Clients => (format!("Top Clients (address without port, of {} commands)", section.total), "client"),
        Kind::Slots => (format!("Top Slots (cluster hash slots, of {} key accesses)", section.total), "slot"),
        Kind::Nodes => (format!("Top Nodes (of {} commands)", section.total), "node"),
        Kind::Keys | Kind::KeyBytes | Kind::KeyReplyBytes | Kind::KeyLatency => {
            unreachable!("keys have sections of their own")
        }
    };
    heading(o, &title);
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (none)");
    } else {
        let _ = writeln!(o, " {:>8} {:>7} {:>8}  {what}", "count", "share", "rate/s");
        for row in &section.rows {
            let _ =
                writeln!(o, " {:>8} {:>6.2}% {:>8}  {}", count_text(row), row.share, rate_text(row), name_text(row));
        }
        error_note(o, &section.rows);
    }
    if section.kind == Kind::Prefixes && report.unprefixed > 0 {
        let _ = writeln!(o, "  ({} key accesses had no such prefix)", report.unprefixed);
    }
}

fn command_time(o: &mut String, report: &Report) {
    let time = &report.time;
    let rule = match time.rule {
        GapRule::Later => "charged to the later line (Redis >= 6.2.4)",
        GapRule::Earlier => "charged to the earlier line (Redis < 6.2.4)",
    };
    let count = if time.latencies {
        heading(o, "Command Time (latency: request's last packet to reply's first)");
        let _ = writeln!(o, "  measured from packets; a blocking command's includes the time it blocked");
        "calls"
    } else {
        heading(o, "Command Time (gaps between arrivals, idle time included)");
        let _ = writeln!(o, "  gaps between timestamps, {rule}");
        let _ = writeln!(o, "  not latency: the server's SLOWLOG and LATENCY measure that, or the client");
        "gaps"
    };
    if time.gaps == 0 {
        let none =
            if time.latencies { "(no replies seen: no latencies)" } else { "(fewer than two timestamps: no gaps)" };
        let _ = writeln!(o, "  {none}");
        return;
    }
    let _ = writeln!(o, "  {count:<8}  {}", time.gaps);
    for (label, _, value) in &time.quantiles {
        let _ = writeln!(o, "  {label:<8}  {}", duration(value.unwrap_or(0)));
    }
    let _ = writeln!(o, "  max       {}", duration(time.max));

    if time.latencies {
        heading(o, "Heaviest Commands (total latency)");
    } else {
        heading(o, "Heaviest Commands (total gap between arrivals, idle time included)");
    }
    if time.latencies {
        let _ = writeln!(
            o,
            " {:>9} {:>7} {:>8} {:>9} {:>9} {:>9}  command",
            "total", "share", "calls", "mean", "p50", "p99"
        );
    } else {
        let _ = writeln!(o, " {:>9} {:>7} {:>8} {:>9}  command", "total", "share", "calls", "mean");
    }
    for heavy in &time.heaviest {
        let share = super::share(heavy.total, time.total);
        let (calls, mean, name) = (heavy.calls, duration(heavy.mean()), &heavy.name);
        let total = duration(heavy.total);
        match heavy.percentiles {
            Some([p50, _, p99]) if time.latencies => {
                let (p50, p99) = (duration(p50.unwrap_or(0)), duration(p99.unwrap_or(0)));
                let _ = writeln!(o, " {total:>9} {share:>6.2}% {calls:>8} {mean:>9} {p50:>9} {p99:>9}  {name}");
            }
            _ => {
                let _ = writeln!(o, " {total:>9} {share:>6.2}% {calls:>8} {mean:>9}  {name}");
            }
        }
    }

    if time.latencies {
        heading(o, "Slowest Calls (longest latencies)");
    } else {
        heading(o, "Slowest Calls (longest gaps between arrivals, idle time included)");
    }
    let column = if time.latencies { "latency" } else { "gap" };
    let _ = writeln!(o, " {column:>9}  timestamp          client");
    for call in &time.slowest {
        let _ = writeln!(o, " {:>9}  {:<17}  {}", duration(call.gap), call.timestamp, call.client);
        let _ = writeln!(o, "            {}", call.call);
    }
}

/// `text` in at most `room` columns, cut with an ellipsis.
fn cut_name(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let head: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{head}…")
}

fn heading(o: &mut String, title: &str) {
    let _ = writeln!(o, "\n{title}\n{}", "=".repeat(title.chars().count()));
}

fn count_text(row: &Row) -> String {
    if row.error > 0 {
        format!("<={}", row.count)
    } else {
        row.count.to_string()
    }
}

fn rate_text(row: &Row) -> String {
    match row.rate {
        Some(rate) => format!("{rate:.1}"),
        None => "-".to_string(),
    }
}

/// A row's name as shown: cut with its whole length, `(empty)` for the empty name (and a name
/// that is `(empty)` itself with its first byte escaped, so the two never look alike).
pub fn name_text(row: &Row) -> String {
    match row.full_length {
        Some(len) => format!("{}… ({len} bytes)", row.name),
        None if row.name.is_empty() => "(empty)".to_string(),
        None if row.name == "(empty)" => "\\x28empty)".to_string(),
        None => row.name.clone(),
    }
}

fn error_note(o: &mut String, rows: &[Row]) {
    let worst = rows.iter().map(|r| r.error).max().unwrap_or(0);
    if worst > 0 {
        let _ = writeln!(o, "  (<=: past --max-keys, an upper bound, at most {worst} too high)");
    }
}
