//! Rendering of the report, as text for a person or as one JSON object per line for a program.
//!
//! Every key, prefix, client and argument goes through [`crate::escape`] first, so the text
//! holds no control byte from the input and the JSON is valid UTF-8.

use std::fmt::Write as _;

use crate::counter::{Entry, TopK};
use crate::escape::escaped;
use crate::stats::{GapRule, KeyAccess, Stats};
use crate::window::Window;

/// What a report covers, besides its counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'a> {
    /// The window of a rolling report; `None` for a report of the whole input.
    pub window: Option<Window>,
    /// Keys at or above this many accesses per second are marked hot.
    pub hot_qps: Option<f64>,
    /// The node labels by node number, when the input names nodes (several inputs).
    pub nodes: Option<&'a [Vec<u8>]>,
}

impl View<'_> {
    /// The label of a node number, escaped.
    fn node(&self, number: u32) -> String {
        match self.nodes.and_then(|n| n.get(number as usize)) {
            Some(label) => escaped(label),
            None => number.to_string(),
        }
    }

    /// The node a key was seen on, as shown beside it.
    fn key_node(&self, access: &KeyAccess) -> String {
        match access.node {
            0 => "-".to_string(),
            n if access.many_nodes => format!("{}+", self.node(n - 1)),
            n => self.node(n - 1),
        }
    }

    /// The seconds that rates are taken over: the window, or the whole input's time span.
    fn seconds(&self, stats: &Stats) -> Option<f64> {
        let secs = match self.window {
            Some(w) => w.seconds(),
            None => span(stats) as f64 / 1e6,
        };
        (secs > 0.0).then_some(secs)
    }
}

fn rate_text(count: u64, secs: Option<f64>) -> String {
    match secs {
        Some(s) => format!("{:.1}", count as f64 / s),
        None => "-".to_string(),
    }
}

fn is_hot(count: u64, secs: Option<f64>, view: &View) -> bool {
    match (view.hot_qps, secs) {
        (Some(hot), Some(s)) => count as f64 / s >= hot,
        _ => false,
    }
}

/// How many of the counted keys reach the hot rate.
fn hot_keys(stats: &Stats, view: &View) -> u64 {
    let secs = view.seconds(stats);
    stats.per_key.keys.entries().iter().filter(|e| is_hot(e.count, secs, view)).count() as u64
}

/// One row of a top section.
struct Row {
    name: String,
    count: u64,
    error: u64,
    /// The whole key's length when only its head is shown.
    cut_from: Option<u64>,
}

fn rows<E>(table: &TopK<E>, n: usize) -> Vec<(Row, &Entry<E>)> {
    rows_named(table, n, escaped)
}

/// Rows whose names are made from their stored keys by `name`.
fn rows_named<E>(table: &TopK<E>, n: usize, name: impl Fn(&[u8]) -> String) -> Vec<(Row, &Entry<E>)> {
    table
        .top(n)
        .into_iter()
        .map(|e| {
            let row =
                Row { name: name(e.key()), count: e.count, error: e.error, cut_from: e.is_cut().then_some(e.full_len) };
            (row, e)
        })
        .collect()
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 * 100.0 / total as f64
    }
}

/// A slot number from its stored form (two bytes, big-endian).
fn slot_name(key: &[u8]) -> String {
    match key {
        [hi, lo] => (u16::from(*hi) << 8 | u16::from(*lo)).to_string(),
        _ => escaped(key),
    }
}

/// A node number from its stored form (four bytes, big-endian).
fn node_number(key: &[u8]) -> u32 {
    key.iter().fold(0, |n, &b| n << 8 | u32::from(b))
}

/// The slot shown beside a key: unknown for a key only partly stored, unless its tag is whole.
fn key_slot(entry: &Entry<KeyAccess>) -> Option<u16> {
    let key = entry.key();
    let tag = crate::cluster::hash_tag(key);
    (!entry.is_cut() || tag.len() < key.len()).then(|| crate::cluster::slot(key))
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
fn seconds(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// A byte count in the unit that reads best.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
}

/// A duration in microseconds, in the unit that reads best.
pub fn duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

fn span(stats: &Stats) -> u64 {
    match (stats.first, stats.last) {
        (Some(a), Some(b)) => b.micros - a.micros,
        _ => 0,
    }
}

fn rate(stats: &Stats) -> f64 {
    let span = span(stats);
    if span == 0 {
        0.0
    } else {
        stats.tally.commands as f64 * 1e6 / span as f64
    }
}

/// The report as text.
pub fn text(stats: &Stats, view: &View) -> String {
    let top = stats.settings.top;
    let secs = view.seconds(stats);
    let mut out = String::new();
    let o = &mut out;
    if let Some(w) = view.window {
        let title = format!(
            "Window {} .. {} ({:.3}s{})",
            iso8601(w.start),
            iso8601(w.end),
            w.seconds(),
            if w.partial { ", partial: the input ended" } else { "" }
        );
        let _ = writeln!(o, "\n{title}\n{}", "#".repeat(title.chars().count()));
    }
    heading(o, "Overall");
    let _ = writeln!(o, "  lines read        {}", stats.tally.lines);
    let _ = writeln!(o, "  commands          {}", stats.tally.commands);
    let _ = writeln!(
        o,
        "  noise             {}   (OK, telnet banners, blank lines, server errors: {})",
        stats.tally.noise, stats.tally.server_errors
    );
    let _ = writeln!(o, "  skipped           {}   (not MONITOR lines)", stats.tally.skipped);
    if stats.tally.filtered > 0 {
        let _ = writeln!(
            o,
            "  filtered out      {}   (commands left out by --db, --command, --client, --key)",
            stats.tally.filtered
        );
    }
    if stats.tally.cut_lines > 0 {
        let _ = writeln!(o, "  cut lines         {}   (over 1 MiB: counted from their head)", stats.tally.cut_lines);
    }
    match (stats.first, stats.last) {
        (Some(first), Some(last)) => {
            let _ = writeln!(o, "  first timestamp   {}  {}", iso8601(first.micros), seconds(first.micros));
            let _ = writeln!(o, "  last timestamp    {}  {}", iso8601(last.micros), seconds(last.micros));
            let _ = writeln!(o, "  time span         {:.6} s", span(stats) as f64 / 1e6);
            let _ = writeln!(o, "  commands/sec      {:.1}", rate(stats));
        }
        _ => {
            let _ = writeln!(o, "  first timestamp   -");
            let _ = writeln!(o, "  last timestamp    -");
        }
    }
    let _ = writeln!(o, "  key accesses      {}", stats.per_key.keys.total());
    if stats.tally.unknown_commands > 0 {
        let _ = writeln!(
            o,
            "  unknown commands  {}   (not in the command table: first argument taken as the key)",
            stats.tally.unknown_commands
        );
    }
    if stats.tally.commands == 0 {
        let what = if view.window.is_some() { "in this window" } else { "" };
        let _ = writeln!(o, "\nNo commands were read {what}.");
        if stats.tally.server_errors > 0 {
            let _ = writeln!(o, "The server answered with an error (shown above): check AUTH and the MONITOR command.");
        }
        return out;
    }

    let keys_total = stats.per_key.keys.total();
    let key_rows = rows(&stats.per_key.keys, top);
    heading(o, &format!("Top Keys (of {keys_total} key accesses)"));
    if key_rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
    } else {
        let hot_column = if view.hot_qps.is_some() { "hot  " } else { "" };
        let node_column = if view.nodes.is_some() { format!("{:<12}  ", "node") } else { String::new() };
        let _ = writeln!(
            o,
            "  {:>10}  {:>7}  {:>10}  {:>10}  {:>10}  {:>5}  {node_column}{hot_column}key",
            "count", "share", "rate/s", "reads", "writes", "slot"
        );
        for (row, entry) in &key_rows {
            let hot = match view.hot_qps {
                Some(_) if is_hot(row.count, secs, view) => "HOT  ",
                Some(_) => "     ",
                None => "",
            };
            let slot = key_slot(entry).map_or("-".to_string(), |s| s.to_string());
            let node =
                if view.nodes.is_some() { format!("{:<12}  ", view.key_node(&entry.extra)) } else { String::new() };
            let _ = writeln!(
                o,
                "  {:>10}  {:>6.2}%  {:>10}  {:>10}  {:>10}  {slot:>5}  {node}{hot}{}",
                count_text(row),
                share(row.count, keys_total),
                rate_text(row.count, secs),
                entry.extra.reads,
                entry.extra.writes,
                name_text(row)
            );
        }
        error_note(o, key_rows.iter().map(|(r, _)| r));
        if let Some(hot) = view.hot_qps {
            let _ = writeln!(o, "  {} keys at or above {hot}/s (--hot-qps)", hot_keys(stats, view));
        }
    }

    let byte_total = stats.per_key.key_bytes.total();
    heading(o, &format!("Top Keys by Bytes (request bytes shared among each command's keys, of {})", size(byte_total)));
    let byte_rows = rows(&stats.per_key.key_bytes, top);
    if byte_rows.is_empty() {
        let _ = writeln!(o, "  (no keys)");
    } else {
        let _ = writeln!(o, "  {:>10}  {:>7}  key", "bytes", "share");
        for (row, _) in &byte_rows {
            let bound = if row.error > 0 { "<=" } else { "" };
            let _ = writeln!(
                o,
                "  {:>10}  {:>6.2}%  {}",
                format!("{bound}{}", size(row.count)),
                share(row.count, byte_total),
                name_text(row)
            );
        }
        error_note(o, byte_rows.iter().map(|(r, _)| r));
    }

    let prefix_rows = rows(&stats.per_key.prefixes, top);
    let delim = escaped(&stats.settings.prefix_delimiter);
    heading(
        o,
        &format!("Top Prefixes (up to '{delim}' x{}, of {keys_total} key accesses)", stats.settings.prefix_depth),
    );
    simple_rows(o, &prefix_rows, keys_total, secs, "prefix");
    if stats.per_key.unprefixed > 0 {
        let _ = writeln!(o, "  ({} key accesses had no such prefix)", stats.per_key.unprefixed);
    }

    let commands = stats.command_counts.table(stats.settings.commands);
    let command_rows = rows(&commands, top);
    heading(o, &format!("Top Commands (of {} commands)", stats.tally.commands));
    simple_rows(o, &command_rows, stats.tally.commands, secs, "command");

    let client_rows = rows(&stats.clients, top);
    heading(o, &format!("Top Clients (address without port, of {} commands)", stats.tally.commands));
    simple_rows(o, &client_rows, stats.tally.commands, secs, "client");

    let slots = stats.per_key.slots.table();
    let slot_rows = rows_named(&slots, top, slot_name);
    heading(o, &format!("Top Slots (cluster hash slots, of {keys_total} key accesses)"));
    simple_rows(o, &slot_rows, keys_total, secs, "slot");

    if view.nodes.is_some() {
        let nodes = stats.nodes();
        let node_rows = rows_named(&nodes, top, |k| view.node(node_number(k)));
        heading(o, &format!("Top Nodes (of {} commands)", stats.tally.commands));
        simple_rows(o, &node_rows, stats.tally.commands, secs, "node");
    }

    command_time(o, stats);
    out
}

fn command_time(o: &mut String, stats: &Stats) {
    let rule = match stats.settings.gap_rule {
        GapRule::Later => "charged to the later line, as Redis >= 6.2.4 writes a line after running it",
        GapRule::Earlier => "charged to the earlier line, as Redis < 6.2.4 wrote a line before running it",
    };
    heading(o, "Command Time");
    let _ = writeln!(o, "  the gap between consecutive timestamps, {rule}");
    let gaps = &stats.gaps;
    if gaps.count() == 0 {
        let _ = writeln!(o, "  (fewer than two timestamps: no gaps)");
        return;
    }
    let _ = writeln!(o, "  gaps      {}", gaps.count());
    for (label, q) in [("median", 0.5), ("75%", 0.75), ("90%", 0.9), ("99%", 0.99)] {
        let _ = writeln!(o, "  {label:<8}  {}", duration(gaps.quantile(q).unwrap_or(0)));
    }
    let _ = writeln!(o, "  max       {}", duration(gaps.max()));

    heading(o, "Heaviest Commands (total gap)");
    let _ = writeln!(o, "  {:>10}  {:>7}  {:>10}  {:>10}  command", "total", "share", "calls", "mean");
    for (name, total, calls) in heaviest(stats) {
        let _ = writeln!(
            o,
            "  {:>10}  {:>6.2}%  {:>10}  {:>10}  {}",
            duration(total),
            share(total, gaps.sum()),
            calls,
            duration(total / calls.max(1)),
            name
        );
    }

    heading(o, "Slowest Calls");
    let _ = writeln!(o, "  {:>10}  {:<17}  {:<21}  call", "gap", "timestamp", "client");
    for call in stats.slowest() {
        let _ = writeln!(o, "  {:>10}  {:<17}  {:<21}  {}", duration(call.gap), call.timestamp, call.client, call.call);
    }
}

/// (name, total gap, calls) of the commands with the largest total gaps.
fn heaviest(stats: &Stats) -> Vec<(String, u64, u64)> {
    let mut all: Vec<(String, u64, u64)> = stats
        .command_counts
        .table(stats.settings.commands)
        .entries()
        .iter()
        .filter(|e| e.extra.gap_total > 0)
        .map(|e| (escaped(e.key()), e.extra.gap_total, e.count))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(stats.settings.top);
    all
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

fn name_text(row: &Row) -> String {
    match row.cut_from {
        Some(len) => format!("{}… ({len} bytes)", row.name),
        None if row.name.is_empty() => "(empty)".to_string(),
        None => row.name.clone(),
    }
}

fn simple_rows<E>(o: &mut String, rows: &[(Row, &Entry<E>)], total: u64, secs: Option<f64>, what: &str) {
    if rows.is_empty() {
        let _ = writeln!(o, "  (none)");
        return;
    }
    let _ = writeln!(o, "  {:>10}  {:>7}  {:>10}  {what}", "count", "share", "rate/s");
    for (row, _) in rows {
        let _ = writeln!(
            o,
            "  {:>10}  {:>6.2}%  {:>10}  {}",
            count_text(row),
            share(row.count, total),
            rate_text(row.count, secs),
            name_text(row)
        );
    }
    error_note(o, rows.iter().map(|(r, _)| r));
}

fn error_note<'r>(o: &mut String, rows: impl Iterator<Item = &'r Row>) {
    let worst = rows.map(|r| r.error).max().unwrap_or(0);
    if worst > 0 {
        let _ = writeln!(
            o,
            "  (<=: more distinct names than --max-keys; such counts are upper bounds, each at most {worst} too high)"
        );
    }
}

/// The report as one JSON object on one line (no trailing newline).
pub fn json(stats: &Stats, view: &View) -> String {
    let top = stats.settings.top;
    let secs = view.seconds(stats);
    let mut o = String::with_capacity(4096);
    o.push('{');
    if let Some(w) = view.window {
        let _ = write!(
            o,
            "\"window\":{{\"start\":{},\"end\":{},\"start_iso\":\"{}\",\"end_iso\":\"{}\",\"seconds\":{:.6},\"partial\":{}}},",
            seconds(w.start),
            seconds(w.end),
            iso8601(w.start),
            iso8601(w.end),
            w.seconds(),
            w.partial
        );
    }
    let _ = write!(
        o,
        "\"lines\":{},\"commands\":{},\"filtered\":{},\"noise\":{},\"server_errors\":{},\"skipped\":{},\"cut_lines\":{},\"unknown_commands\":{},",
        stats.tally.lines,
        stats.tally.commands,
        stats.tally.filtered,
        stats.tally.noise,
        stats.tally.server_errors,
        stats.tally.skipped,
        stats.tally.cut_lines,
        stats.tally.unknown_commands
    );
    match (stats.first, stats.last) {
        (Some(first), Some(last)) => {
            let _ = write!(
                o,
                "\"start\":{},\"end\":{},\"start_iso\":\"{}\",\"end_iso\":\"{}\",\"span_seconds\":{:.6},\"commands_per_second\":{:.3},",
                seconds(first.micros),
                seconds(last.micros),
                iso8601(first.micros),
                iso8601(last.micros),
                span(stats) as f64 / 1e6,
                rate(stats)
            );
        }
        _ => o.push_str("\"start\":null,\"end\":null,\"start_iso\":null,\"end_iso\":null,\"span_seconds\":0,\"commands_per_second\":0,"),
    }
    let keys_total = stats.per_key.keys.total();
    let _ = write!(o, "\"key_accesses\":{keys_total},\"unprefixed_key_accesses\":{},", stats.per_key.unprefixed);

    if let Some(hot) = view.hot_qps {
        let _ = write!(o, "\"hot_qps\":{hot},\"hot_keys\":{},", hot_keys(stats, view));
    }
    o.push_str("\"top_keys\":[");
    for (i, (row, entry)) in rows(&stats.per_key.keys, top).iter().enumerate() {
        comma(&mut o, i);
        json_row(&mut o, row, keys_total, secs);
        let _ = write!(o, ",\"reads\":{},\"writes\":{}", entry.extra.reads, entry.extra.writes);
        match key_slot(entry) {
            Some(slot) => {
                let _ = write!(o, ",\"slot\":{slot}");
            }
            None => o.push_str(",\"slot\":null"),
        }
        if view.nodes.is_some() {
            let _ = write!(o, ",\"node\":{}", json_string(&view.key_node(&entry.extra)));
        }
        if view.hot_qps.is_some() {
            let _ = write!(o, ",\"hot\":{}", is_hot(row.count, secs, view));
        }
        o.push('}');
    }
    let _ = write!(o, "],\"key_bytes\":{},\"top_keys_by_bytes\":", stats.per_key.key_bytes.total());
    json_rows(&mut o, &stats.per_key.key_bytes, top, stats.per_key.key_bytes.total(), secs);
    o.push_str(",\"top_prefixes\":");
    json_rows(&mut o, &stats.per_key.prefixes, top, keys_total, secs);
    o.push_str(",\"top_commands\":");
    json_rows(&mut o, &stats.command_counts.table(stats.settings.commands), top, stats.tally.commands, secs);
    o.push_str(",\"top_clients\":");
    json_rows(&mut o, &stats.clients, top, stats.tally.commands, secs);
    o.push_str(",\"top_slots\":[");
    for (i, (row, _)) in rows_named(&stats.per_key.slots.table(), top, slot_name).iter().enumerate() {
        comma(&mut o, i);
        json_row(&mut o, row, keys_total, secs);
        let _ = write!(o, ",\"slot\":{}}}", row.name);
    }
    o.push_str("],\"top_nodes\":[");
    if view.nodes.is_some() {
        let nodes = stats.nodes();
        for (i, (row, _)) in rows_named(&nodes, top, |k| view.node(node_number(k))).iter().enumerate() {
            comma(&mut o, i);
            json_row(&mut o, row, stats.tally.commands, secs);
            o.push('}');
        }
    }
    o.push(']');

    let gaps = &stats.gaps;
    let _ = write!(
        o,
        ",\"command_time\":{{\"rule\":\"{}\",\"gaps\":{}",
        match stats.settings.gap_rule {
            GapRule::Later => "later",
            GapRule::Earlier => "earlier",
        },
        gaps.count()
    );
    for (label, q) in [("p50_us", 0.5), ("p75_us", 0.75), ("p90_us", 0.9), ("p99_us", 0.99)] {
        match gaps.quantile(q) {
            Some(v) => {
                let _ = write!(o, ",\"{label}\":{v}");
            }
            None => {
                let _ = write!(o, ",\"{label}\":null");
            }
        }
    }
    let _ = write!(o, ",\"max_us\":{}}}", gaps.max());
    o.push_str(",\"heaviest_commands\":[");
    for (i, (name, total, calls)) in heaviest(stats).iter().enumerate() {
        comma(&mut o, i);
        let _ = write!(o, "{{\"name\":{},\"total_us\":{total},\"count\":{calls}}}", json_string(name));
    }
    o.push_str("],\"slowest_calls\":[");
    for (i, call) in stats.slowest().iter().enumerate() {
        comma(&mut o, i);
        let _ = write!(
            o,
            "{{\"gap_us\":{},\"timestamp\":{},\"client\":{},\"call\":{}}}",
            call.gap,
            json_string(&call.timestamp),
            json_string(&call.client),
            json_string(&call.call)
        );
    }
    o.push_str("]}");
    o
}

fn comma(o: &mut String, i: usize) {
    if i > 0 {
        o.push(',');
    }
}

fn json_row(o: &mut String, row: &Row, total: u64, secs: Option<f64>) {
    let mut n = itoa::Buffer::new();
    o.push_str("{\"name\":");
    o.push_str(&json_string(&row.name));
    o.push_str(",\"count\":");
    o.push_str(n.format(row.count));
    let _ = write!(o, ",\"share\":{:.6},\"error\":", share(row.count, total) / 100.0);
    o.push_str(n.format(row.error));
    match secs {
        Some(s) => {
            let _ = write!(o, ",\"rate\":{:.3}", row.count as f64 / s);
        }
        None => o.push_str(",\"rate\":null"),
    }
    if let Some(len) = row.cut_from {
        let _ = write!(o, ",\"full_length\":{len}");
    }
}

fn json_rows<E>(o: &mut String, table: &TopK<E>, top: usize, total: u64, secs: Option<f64>) {
    o.push('[');
    for (i, (row, _)) in rows(table, top).iter().enumerate() {
        comma(o, i);
        json_row(o, row, total, secs);
        o.push('}');
    }
    o.push(']');
}

/// A JSON string literal. Its input is already escaped text, so only `"` and `\` need care.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso8601(1_795_636_306_848_848), "2026-11-25T19:51:46.848848Z");
        assert_eq!(iso8601(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(iso8601(4_107_542_400_000_000), "2100-03-01T00:00:00.000000Z");
    }

    #[test]
    fn sizes() {
        assert_eq!(size(17), "17B");
        assert_eq!(size(1536), "1.5KiB");
        assert_eq!(size(512 << 20), "512.0MiB");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12), "12µs");
        assert_eq!(duration(1_500), "1.50ms");
        assert_eq!(duration(2_500_000), "2.50s");
    }

    #[test]
    fn json_strings() {
        assert_eq!(json_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(json_string("é"), "\"é\"");
    }
}
