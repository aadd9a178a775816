//! The screen's layout: a report, and the notices that are true now, as the lines of a
//! terminal of a given size. A pure function of its inputs, so that tests pin it byte for byte.
//!
//! Top to bottom: a header (fields dropped whole when they do not fit), one line per notice,
//! Top Keys (as many rows as there is room for), the node section with several inputs, then
//! Top Commands, Top Clients and Top Prefixes as room allows. In Top Keys the rate now comes
//! first (the last full period, with its direction), then the window's; where the key would not
//! fit, the trend, writes, node and slot columns give way, in that order, before it.
//! A key that still does not fit is shortened in the middle, keeping its head and its tail,
//! with its length in bytes; two keys that would look the same get a short hash each.

use crate::report::{change_mark, write_share, Kind, Report, Row, TopSection};

/// What the screen says besides the report, each on a line of its own while it is true.
#[derive(Default)]
pub struct Notices<'a> {
    /// The input was silent: since when.
    pub silent: Option<String>,
    /// A server's refusal, quoted as standard error showed it.
    pub refusal: Option<&'a str>,
    /// The last frame: how the run ended.
    pub end: Option<String>,
}

/// Keys at least this wide before the other columns give way.
const KEY_ROOM: usize = 24;

/// The widest trend, in periods.
const TREND: usize = 24;

/// The lines of a report, at most `height` of at most `width - 1` columns.
pub fn render(report: &Report, width: usize, height: usize, notices: &Notices, unicode: bool) -> Vec<String> {
    let mut lines = header(report, width);
    lines.extend([&notices.end, &notices.silent].into_iter().flatten().cloned());
    if let Some(refusal) = notices.refusal {
        lines.push(format!("the server said: {refusal}"));
    }
    let nodes = node_lines(report, width);
    let room = height.saturating_sub(lines.len() + 2);
    let keys = report.section(Kind::Keys);
    let key_rows = keys.map_or(0, |s| s.rows.len());
    let node_room = if nodes.is_empty() { 0 } else { (nodes.len() + 1).min(room / 3) };
    // Top Keys first, then the nodes; what is left goes to the other sections.
    let for_keys = room.saturating_sub(node_room);
    let others = [Kind::Commands, Kind::Clients, Kind::Prefixes].iter().any(|k| report.section(*k).is_some());
    // With other sections to show, keys get six tenths of the room (at least five rows).
    let most = if others { (for_keys * 6 / 10).max(for_keys.min(5)) } else { for_keys.saturating_sub(1) };
    let shown = key_rows.min(most);
    if let Some(section) = keys {
        lines.push(String::new());
        lines.extend(key_table(report, section, shown, width, unicode));
    }
    if node_room > 1 {
        lines.push(String::new());
        lines.extend(nodes.into_iter().take(node_room - 1));
    }
    let left = height.saturating_sub(lines.len() + 2);
    if left > 2 {
        lines.push(String::new());
        let others: Vec<&TopSection> =
            [Kind::Commands, Kind::Clients, Kind::Prefixes].into_iter().filter_map(|k| report.section(k)).collect();
        lines.extend(other_tables(&others, width, left));
    }
    lines.truncate(height);
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// Two lines of fields, each shown whole or not at all.
fn header(report: &Report, width: usize) -> Vec<String> {
    let per_second = |n: u64| report.seconds.map_or("-".to_string(), |s| format!("{:.1}", n as f64 / s));
    // (priority, field): the window first, then how many keys are hot now.
    let mut first = Vec::new();
    if let Some(w) = report.window {
        first.push((0, window_field(&w)));
    }
    first.push((2, format!("{} cmd/s", per_second(report.tally.commands))));
    if let Some((qps, n)) = report.hot {
        first.push((1, format!("hot now {n} (>={qps}/s)")));
    }
    first.push((3, format!("{} keys/s", per_second(report.key_accesses))));
    let t = &report.tally;
    let mut second = vec![
        (0, format!("lines {}", t.lines)),
        (2, format!("noise {}", t.noise)),
        (2, format!("skipped {}", t.skipped)),
        (1, format!("server errors {}", t.server_errors)),
    ];
    if t.filtered > 0 {
        second.push((3, format!("filtered {}", t.filtered)));
    }
    if t.out_of_order > 0 {
        second.push((1, format!("out of order {}", t.out_of_order)));
    }
    if let Some((name, ..)) = report.unknown_names.first() {
        // Keys guessed from the first argument: --commands would know them.
        let more = if report.unknown_names.len() > 1 { ", …" } else { "" };
        second.push((3, format!("unknown commands {} ({}{more})", t.unknown_commands, name)));
    }
    if report.window.is_some_and(|w| w.started_inside()) && report.trend_seconds.len() > 1 {
        second.push((1, "first period partial".to_string()));
    }
    vec![fields(&first, width), fields(&second, width)]
}

/// `16:07:48Z..16:07:53Z (4.3s of 5s)`.
fn window_field(w: &crate::count::window::Window) -> String {
    if w.end == 0 {
        return "no command read".to_string();
    }
    let covered = w.end.saturating_sub(w.from);
    let length = w.length / 1_000_000;
    let covers = match covered.cmp(&w.length) {
        std::cmp::Ordering::Equal => format!("{length}s"),
        _ => format!("{:.1}s of {length}s", covered as f64 / 1e6),
    };
    format!("{}..{} ({covers})", super::clock(w.start), super::clock(w.end))
}

/// As many of `fields` as fit in `width - 1` columns, two spaces apart, in order: each whole or
/// not at all, those of a lower priority number first.
fn fields(fields: &[(u8, String)], width: usize) -> String {
    let mut kept = vec![false; fields.len()];
    let mut used = 0;
    for priority in 0..=3 {
        for (i, (p, field)) in fields.iter().enumerate() {
            let gap = if used == 0 { 0 } else { 2 };
            if *p == priority && used + gap + field.chars().count() < width {
                kept[i] = true;
                used += gap + field.chars().count();
            }
        }
    }
    let shown: Vec<&str> = fields.iter().zip(kept).filter(|(_, k)| *k).map(|((_, f), _)| f.as_str()).collect();
    shown.join("  ")
}

/// The optional columns of Top Keys, in the order they give way.
#[derive(Clone, Copy)]
struct Columns {
    trend: usize,
    /// The share of writes.
    counts: bool,
    node: Option<usize>,
    slot: bool,
}

impl Columns {
    fn width(&self) -> usize {
        let trend = if self.trend > 0 { self.trend.max(5) + 1 } else { 0 };
        trend + if self.counts { 6 } else { 0 } + self.node.map_or(0, |n| n + 1) + if self.slot { 6 } else { 0 }
    }

    /// One fewer column: the first that is still shown, in the order they give way.
    fn give_way(&mut self) -> bool {
        if self.trend > 0 {
            self.trend = 0;
        } else if self.counts {
            self.counts = false;
        } else if self.node.is_some() {
            self.node = None;
        } else if self.slot {
            self.slot = false;
        } else {
            return false;
        }
        true
    }
}

/// The columns every row has: the hot mark, the rate now and its direction, the window's rate
/// and the share.
const FIXED: usize = 1 + 7 + 1 + 1 + 7 + 1 + 4 + 1;

/// Top Keys: the rates first, the key last.
fn key_table(report: &Report, section: &TopSection, rows: usize, width: usize, unicode: bool) -> Vec<String> {
    let shown = &section.rows[..rows.min(section.rows.len())];
    let keys = || shown.iter().filter_map(|r| r.key.as_ref());
    let node = keys().filter_map(|k| k.node.as_ref()).map(|n| n.chars().count().clamp(4, 16)).max();
    // As wide as the window has periods, from the first report on: the key column never moves.
    let periods = match (report.window, report.every) {
        (Some(w), Some(every)) => (w.length / every.max(1)) as usize,
        _ => 0,
    };
    // A window of one period has no trend (its last frame, two periods, gets none either).
    let trend = if periods > 1 { periods.min(TREND) } else { 0 };
    let mut columns = Columns { trend, counts: true, node, slot: true };
    let widest = shown.iter().map(|r| crate::report::name_text(r).chars().count()).max().unwrap_or(0);
    let want = widest.min(KEY_ROOM);
    while width.saturating_sub(FIXED + columns.width() + 1) < want && columns.give_way() {}
    let room = width.saturating_sub(FIXED + columns.width() + 1);
    let names = distinct_names(shown, room);
    let scale = Trend::new(report, shown, columns.trend);
    let mut head = format!(" {:>7}  {:>7} {:>4} ", "now/s", "win/s", "shr");
    if columns.counts {
        head.push_str(&format!("{:>5} ", "write"));
    }
    if let Some(n) = columns.node {
        head.push_str(&format!("{:<n$} ", "node"));
    }
    if columns.slot {
        head.push_str(&format!("{:>5} ", "slot"));
    }
    if columns.trend > 0 {
        head.push_str(&format!("{:<w$} ", "trend", w = columns.trend.max(5)));
    }
    let mut out = vec![format!("{head}key")];
    for (row, name) in shown.iter().zip(names) {
        let Some(key) = &row.key else { continue };
        let hot = if key.hot == Some(true) { '*' } else { ' ' };
        let now = key.now.map_or("-".to_string(), |r| format!("{r:.1}"));
        let rate = row.rate.map_or("-".to_string(), |r| format!("{r:.1}"));
        let arrow = change_mark(key.change, unicode);
        let share = format!("{:.0}%", row.share);
        let mut line = format!("{hot}{now:>7}{arrow} {rate:>7} {share:>4} ");
        if columns.counts {
            line.push_str(&format!("{:>5} ", write_share(key.reads, key.writes)));
        }
        if let Some(n) = columns.node {
            line.push_str(&format!("{:<n$} ", cut_middle(key.node.as_deref().unwrap_or("-"), None, true, n)));
        }
        if columns.slot {
            line.push_str(&format!("{:>5} ", key.slot.map_or("-".to_string(), |s| s.to_string())));
        }
        if columns.trend > 0 {
            line.push_str(&format!("{:<w$} ", scale.line(&key.trend, unicode), w = columns.trend.max(5)));
        }
        line.push_str(&name);
        out.push(line);
    }
    out
}

/// The names of `rows` in `room` columns each, no two alike: where two would look the same
/// shortened, each gets a short hash of its whole name.
fn distinct_names(rows: &[Row], room: usize) -> Vec<String> {
    let plain: Vec<String> = rows.iter().map(|r| shorten(r, room)).collect();
    let mut names = plain.clone();
    for (i, row) in rows.iter().enumerate() {
        if plain.iter().enumerate().any(|(j, other)| j != i && *other == plain[i]) {
            let tag = format!("#{:06x}", row.hash >> 40);
            names[i] = format!("{}{tag}", shorten(row, room.saturating_sub(tag.len())));
        }
    }
    names
}

/// A row's name in at most `room` columns: whole, or shortened in the middle with its length in
/// bytes.
fn shorten(row: &Row, room: usize) -> String {
    let name = crate::report::name_text(row);
    if name.chars().count() <= room {
        return name;
    }
    // Of a name only partly kept, the head is all there is.
    cut_middle(&row.name, Some(row.bytes), row.full_length.is_none(), room)
}

/// `text` in at most `room` columns: whole, or its head, `…`, its tail (when `tail`: the whole
/// text is at hand) and its length in bytes (`(93 B)`, when `size` is given).
fn cut_middle(text: &str, size: Option<u64>, tail: bool, room: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= room && tail {
        return text.to_string();
    }
    let size = size.map_or(String::new(), |b| format!("({b} B)"));
    let keep = room.saturating_sub(size.chars().count() + 1);
    if keep == 0 {
        let mut short: String = chars.iter().take(room.saturating_sub(1)).collect();
        short.push('…');
        return short;
    }
    let head_len = if tail { keep - keep * 2 / 5 } else { keep }.min(chars.len());
    let tail_len = if tail { (keep - head_len).min(chars.len() - head_len) } else { 0 };
    let head: String = chars[..head_len].iter().collect();
    let end: String = chars[chars.len() - tail_len..].iter().collect();
    format!("{head}…{end}{size}")
}

/// Trends as sparklines on one scale for every row shown: each period's rate (its count over
/// the seconds it covered, so a partial first or last period is not a fake ramp), against the
/// highest of them all. A period that covered less than half its length does not set the
/// scale, and counts as a tenth of a period at least (a few lines in its first microseconds are
/// no peak).
struct Trend<'a> {
    seconds: &'a [f64],
    /// The period, in seconds.
    every: f64,
    /// The periods shown (the latest).
    periods: usize,
    max: f64,
}

impl<'a> Trend<'a> {
    fn new(report: &'a Report, rows: &[Row], periods: usize) -> Trend<'a> {
        let seconds = &report.trend_seconds[..];
        let every = report.every.map_or(1.0, |e| e as f64 / 1e6);
        let mut trend = Trend { seconds, every, periods, max: 0.0 };
        let mut short = 0.0f64;
        for key in rows.iter().filter_map(|r| r.key.as_ref()) {
            for (n, s, covered) in trend.recent(&key.trend) {
                if covered >= every / 2.0 {
                    trend.max = trend.max.max(n as f64 / s);
                } else {
                    short = short.max(n as f64 / s);
                }
            }
        }
        if trend.max == 0.0 {
            trend.max = short;
        }
        trend
    }

    /// The last `periods` counts, with the seconds their rates are taken over and the seconds
    /// each covered.
    fn recent(&self, counts: &[u64]) -> Vec<(u64, f64, f64)> {
        let skip = counts.len().saturating_sub(self.periods);
        (skip..counts.len())
            .map(|i| {
                let covered = self.seconds.get(i).copied().unwrap_or(self.every);
                (counts[i], covered.max(self.every / 10.0), covered)
            })
            .collect()
    }

    fn line(&self, counts: &[u64], unicode: bool) -> String {
        let max = self.max.max(f64::MIN_POSITIVE);
        let levels: Vec<Option<usize>> = self
            .recent(counts)
            .into_iter()
            .map(|(n, s, _)| (n > 0).then(|| (n as f64 / s / max * 7.0).round() as usize))
            .collect();
        bars(&levels, unicode)
    }
}

/// Levels 0 to 7 as bars, `▁▂▃▄▅▆▇█` (or `_.:-=+*#` when the locale is not UTF-8); none is a
/// space.
pub fn bars(levels: &[Option<usize>], unicode: bool) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const ASCII: [char; 8] = ['_', '.', ':', '-', '=', '+', '*', '#'];
    let set = if unicode { BARS } else { ASCII };
    levels.iter().map(|l| l.map_or(' ', |l| set[l.min(7)])).collect()
}

/// With several inputs: each one's rate over the window, the time of its last command, and
/// its state (silent when its last command is over two periods, or two seconds, old).
fn node_lines(report: &Report, width: usize) -> Vec<String> {
    if report.inputs.len() < 2 {
        return Vec::new();
    }
    let name_width = report.inputs.iter().map(|i| i.name.chars().count()).max().unwrap_or(4).clamp(4, 24);
    let name_width = name_width.min(width.saturating_sub(36).max(4));
    let end = report.window.map_or(0, |w| w.end);
    let quiet = report.every.unwrap_or(1_000_000).saturating_mul(2).max(2_000_000);
    let mut out = vec![format!(" {:<name_width$} {:>8}  {:<9}  state", "node", "rate/s", "last")];
    for input in &report.inputs {
        let rate = input.rate.map_or("-".to_string(), |r| format!("{r:.1}"));
        let last = input.last.map_or("-".to_string(), super::clock);
        let state = match (input.state, input.last) {
            (state, Some(l)) if state.open() && end.saturating_sub(l) > quiet => "silent".into(),
            (crate::count::nodes::NodeState::Reading, None) => "no command yet".into(),
            (crate::count::nodes::NodeState::Connected, None) => "connected, no command yet".into(),
            (state, _) => state.text(),
        };
        let name = cut_middle(&input.name, None, true, name_width);
        out.push(format!(" {name:<name_width$} {rate:>8}  {last:<9}  {state}"));
    }
    out
}

/// Other sections, side by side when the terminal is wide enough, else one after the other.
fn other_tables(sections: &[&TopSection], width: usize, height: usize) -> Vec<String> {
    let table = |section: &TopSection, w: usize, rows: usize| -> Vec<String> {
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
            out.push(format!("{line}{}", shorten(row, room)));
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

/// `line` in at most `width - 1` columns (the last column is left free: some terminals wrap when
/// it is written), its trailing spaces dropped.
pub fn fit(line: &str, width: usize) -> String {
    let fitted: String = line.chars().take(width.saturating_sub(1)).collect();
    fitted.trim_end().to_string()
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_of_levels() {
        assert_eq!(bars(&[None, Some(1), Some(4), Some(7)], true), " ▂▅█");
        assert_eq!(bars(&[None, Some(1), Some(4), Some(7)], false), " .=#");
        assert_eq!(bars(&[], true), "");
    }

    #[test]
    fn names_are_shortened_in_the_middle_with_their_bytes() {
        let name = "tenant:acme-corporation-international:region:eu-west-1:cache:0001";
        assert_eq!(cut_middle(name, Some(66), true, 30), "tenant:acme-co…ache:0001(66 B)");
        assert_eq!(cut_middle(name, Some(66), true, 30).chars().count(), 30);
        assert_eq!(cut_middle(name, Some(600), false, 20), "tenant:acme-…(600 B)");
        assert_eq!(cut_middle("short", Some(5), true, 30), "short");
        assert_eq!(cut_middle("abcdef", Some(6), true, 3), "ab…");
    }

    #[test]
    fn lines_never_reach_the_last_column() {
        assert_eq!(fit("abcdef", 4), "abc");
        assert_eq!(fit("é€x", 3), "é€");
    }
}
