//! The report as text, for a person: a heading per section, aligned columns, the name last.

use std::fmt::Write as _;

use super::{duration, iso8601, seconds, size, Kind, Report, Row, Section};
use crate::stats::GapRule;

/// The report as text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let o = &mut out;
    if let Some(w) = report.window {
        let title = if w.started_inside() {
            let ended = if w.ended { ", and the input ended" } else { "" };
            format!(
                "Window {} .. {} ({:.6}s of {:.3}s, partial: the stream started at {}{ended})",
                iso8601(w.start),
                iso8601(w.end),
                w.seconds(),
                w.length as f64 / 1e6,
                iso8601(w.from)
            )
        } else {
            let ended = if w.ended { ", partial: the input ended" } else { "" };
            format!("Window {} .. {} ({:.3}s{ended})", iso8601(w.start), iso8601(w.end), w.seconds())
        };
        let _ = writeln!(o, "\n{title}\n{}", "#".repeat(title.chars().count()));
    }
    overall(o, report);
    if report.tally.commands == 0 {
        let what = if report.window.is_some() { "in this window" } else { "" };
        let _ = writeln!(o, "\nNo commands were read {what}.");
        if report.tally.server_errors > 0 {
            let _ = writeln!(o, "The server answered with an error (shown above): check AUTH and the MONITOR command.");
        }
        return out;
    }
    for section in &report.sections {
        match section.kind {
            Kind::Keys => keys(o, report, section),
            Kind::KeyBytes => key_bytes(o, section),
            _ => simple(o, report, section),
        }
    }
    command_time(o, report);
    out
}

fn overall(o: &mut String, report: &Report) {
    let t = &report.tally;
    heading(o, "Overall");
    let _ = writeln!(o, "  lines read        {}", t.lines);
    let _ = writeln!(o, "  commands          {}", t.commands);
    let _ = writeln!(
        o,
        "  noise             {}   (OK, telnet banners, blank lines, server errors: {})",
        t.noise, t.server_errors
    );
    let _ = writeln!(o, "  skipped           {}   (not MONITOR lines)", t.skipped);
    if t.filtered > 0 {
        let _ =
            writeln!(o, "  filtered out      {}   (commands left out by --db, --command, --client, --key)", t.filtered);
    }
    if t.cut_lines > 0 {
        let _ = writeln!(
            o,
            "  cut lines         {}   (cut short: over 1 MiB, or the input ended inside them)",
            t.cut_lines
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
        let _ = writeln!(
            o,
            "  unknown commands  {}   (not in the command table: first argument taken as the key)",
            t.unknown_commands
        );
    }
}

fn keys(o: &mut String, report: &Report, section: &Section) {
    heading(o, &format!("Top Keys (of {} key accesses)", section.total));
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
        return;
    }
    let hot_column = if report.hot.is_some() { "hot  " } else { "" };
    let node_column = if report.nodes { format!("{:<12}  ", "node") } else { String::new() };
    let _ = writeln!(
        o,
        "  {:>10}  {:>7}  {:>10}  {:>10}  {:>10}  {:>5}  {node_column}{hot_column}key",
        "count", "share", "rate/s", "reads", "writes", "slot"
    );
    for row in &section.rows {
        let Some(key) = &row.key else { continue };
        let hot = match key.hot {
            Some(true) => "HOT  ",
            Some(false) => "     ",
            None => "",
        };
        let slot = key.slot.map_or("-".to_string(), |s| s.to_string());
        let node = key.node.as_ref().map_or(String::new(), |n| format!("{n:<12}  "));
        let _ = writeln!(
            o,
            "  {:>10}  {:>6.2}%  {:>10}  {:>10}  {:>10}  {slot:>5}  {node}{hot}{}",
            count_text(row),
            row.share,
            rate_text(row),
            key.reads,
            key.writes,
            name_text(row)
        );
    }
    error_note(o, &section.rows);
    if let Some((qps, n)) = report.hot {
        let _ = writeln!(o, "  {n} keys at or above {qps}/s (--hot-qps)");
    }
}

fn key_bytes(o: &mut String, section: &Section) {
    heading(
        o,
        &format!("Top Keys by Bytes (request bytes shared among each command's keys, of {})", size(section.total)),
    );
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
        return;
    }
    let _ = writeln!(o, "  {:>10}  {:>7}  key", "bytes", "share");
    for row in &section.rows {
        let bound = if row.error > 0 { "<=" } else { "" };
        let _ = writeln!(o, "  {:>10}  {:>6.2}%  {}", format!("{bound}{}", size(row.count)), row.share, name_text(row));
    }
    error_note(o, &section.rows);
}

/// A section of names with their counts: prefixes, commands, clients, slots, nodes.
fn simple(o: &mut String, report: &Report, section: &Section) {
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
        Kind::Keys | Kind::KeyBytes => unreachable!("keys have sections of their own"),
    };
    heading(o, &title);
    if section.rows.is_empty() {
        let _ = writeln!(o, "  (none)");
    } else {
        let _ = writeln!(o, "  {:>10}  {:>7}  {:>10}  {what}", "count", "share", "rate/s");
        for row in &section.rows {
            let _ = writeln!(
                o,
                "  {:>10}  {:>6.2}%  {:>10}  {}",
                count_text(row),
                row.share,
                rate_text(row),
                name_text(row)
            );
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
        GapRule::Later => "charged to the later line, as Redis >= 6.2.4 writes a line after running it",
        GapRule::Earlier => "charged to the earlier line, as Redis < 6.2.4 wrote a line before running it",
    };
    heading(o, "Command Time");
    let _ = writeln!(o, "  the gap between consecutive timestamps, {rule}");
    if time.gaps == 0 {
        let _ = writeln!(o, "  (fewer than two timestamps: no gaps)");
        return;
    }
    let _ = writeln!(o, "  gaps      {}", time.gaps);
    for (label, _, value) in &time.quantiles {
        let _ = writeln!(o, "  {label:<8}  {}", duration(value.unwrap_or(0)));
    }
    let _ = writeln!(o, "  max       {}", duration(time.max));

    heading(o, "Heaviest Commands (total gap)");
    let _ = writeln!(o, "  {:>10}  {:>7}  {:>10}  {:>10}  command", "total", "share", "calls", "mean");
    for (name, total, calls) in &time.heaviest {
        let _ = writeln!(
            o,
            "  {:>10}  {:>6.2}%  {:>10}  {:>10}  {}",
            duration(*total),
            super::share(*total, time.total),
            calls,
            duration(total / calls.max(&1)),
            name
        );
    }

    heading(o, "Slowest Calls");
    let _ = writeln!(o, "  {:>10}  {:<17}  {:<21}  call", "gap", "timestamp", "client");
    for call in &time.slowest {
        let _ = writeln!(o, "  {:>10}  {:<17}  {:<21}  {}", duration(call.gap), call.timestamp, call.client, call.call);
    }
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

fn name_text(row: &Row) -> String {
    match row.full_length {
        Some(len) => format!("{}… ({len} bytes)", row.name),
        None if row.name.is_empty() => "(empty)".to_string(),
        None => row.name.clone(),
    }
}

fn error_note(o: &mut String, rows: &[Row]) {
    let worst = rows.iter().map(|r| r.error).max().unwrap_or(0);
    if worst > 0 {
        let _ = writeln!(
            o,
            "  (<=: more distinct names than --max-keys; such counts are upper bounds, each at most {worst} too high)"
        );
    }
}
