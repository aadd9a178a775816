//! The report: built once from the counters as a [`Report`] (sections of rows, and the command
//! time), then written as text for a person ([`text()`]) or as one JSON object per line for a
//! program ([`json()`]).
//!
//! Every key, prefix, client and argument is escaped ([`crate::format::escape`]) when the model is
//! built, so no renderer can let a control byte from the input through, and the JSON is valid
//! UTF-8. A new section is a new [`TopSection`] here; both renderers show it.

mod json;
pub mod screen;
mod text;

use crate::count::name::Name;
use crate::count::nodes::{NodeState, Nodes};
use crate::count::stats::{GapRule, KeyAccess, SlowCall, Stats, Tally};
use crate::count::topk::{Entry, TopK};
use crate::count::window::{Recent, Window};
use crate::format::escape::escaped;

pub use json::json;
pub use text::{change_mark, name_text, summary, text, write_share};

/// What a report covers, besides its counts.
#[derive(Clone, Copy, Default)]
pub struct View<'a> {
    /// The window of a rolling report; `None` for a report of the whole input.
    pub window: Option<Window>,
    /// Keys at or above this many accesses per second are marked hot.
    pub hot_qps: Option<f64>,
    /// The node labels by node number, when the input names nodes (several inputs).
    pub nodes: Option<&'a [Name]>,
    /// The counts of each period of a window, oldest first (none for a report of one period),
    /// and the seconds each covered.
    pub periods: &'a [&'a Stats],
    pub seconds: &'a [f64],
    /// The last full period of a rolling report, for each key's rate now.
    pub recent: Option<Recent<'a>>,
    /// The period of a rolling report, in microseconds.
    pub every: Option<u64>,
    /// Top Keys rows wanted, when more than `--top` (a screen with room).
    pub key_rows: Option<usize>,
    /// Each input's state and last command, shown with several inputs.
    pub inputs: Option<&'a Nodes>,
}

/// Everything a report shows, ready to be written.
pub struct Report {
    pub window: Option<Window>,
    /// The seconds rates are taken over: the window's, or the input's time span.
    pub seconds: Option<f64>,
    pub tally: Tally,
    /// The first and last timestamps, in microseconds; `None` before the first command.
    pub span: Option<(u64, u64)>,
    pub key_accesses: u64,
    pub unprefixed: u64,
    pub key_bytes: u64,
    pub prefix_delimiter: String,
    pub prefix_depth: usize,
    /// The `--hot-qps` rate, and how many keys reach it (now, in a rolling report).
    pub hot: Option<(f64, u64)>,
    /// The period of a rolling report, in microseconds.
    pub every: Option<u64>,
    /// The seconds the rate now is taken over (the last full period); `None` without one.
    pub now_seconds: Option<f64>,
    /// The seconds each period of the trends covered, oldest first.
    pub trend_seconds: Vec<f64>,
    /// With several inputs: each one's rate, last command and state.
    pub inputs: Vec<InputRow>,
    pub sections: Vec<TopSection>,
    pub time: CommandTimeSection,
    /// The commonest commands no table knew (their first argument was taken as the key), escaped,
    /// with their calls and the most those may over-count: what `--commands` would answer for.
    pub unknown_names: Vec<(String, u64, u64)>,
}

/// One input of several, as the screen's node section shows it.
pub struct InputRow {
    /// Its label, escaped.
    pub name: String,
    pub rate: Option<f64>,
    /// The timestamp of its latest command.
    pub last: Option<u64>,
    pub state: NodeState,
}

/// How a key's rate now compares with the period before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateChange {
    Up,
    Down,
    Steady,
}

impl RateChange {
    /// From the rate of the period before to the rate now: steady within a tenth (and half a
    /// command per second).
    fn between(before: f64, now: f64) -> RateChange {
        let margin = (0.1 * before.max(now)).max(0.5);
        if now > before + margin {
            RateChange::Up
        } else if now < before - margin {
            RateChange::Down
        } else {
            RateChange::Steady
        }
    }

    /// `up`, `down`, `steady`.
    pub fn word(self) -> &'static str {
        match self {
            RateChange::Up => "up",
            RateChange::Down => "down",
            RateChange::Steady => "steady",
        }
    }
}

/// How many unknown command names a report names.
const UNKNOWN_NAMES: usize = 3;

/// One top section.
pub struct TopSection {
    pub kind: Kind,
    /// What the shares are of.
    pub total: u64,
    pub rows: Vec<Row>,
}

/// Which section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keys,
    KeyBytes,
    /// Of requests read from packets: reply bytes, and total latency, per key.
    KeyReplyBytes,
    KeyLatency,
    Prefixes,
    Commands,
    Clients,
    Slots,
    Nodes,
}

/// One row of a section.
pub struct Row {
    /// Escaped.
    pub name: String,
    pub count: u64,
    /// How much of `count` may belong to other names (an upper bound when above 0).
    pub error: u64,
    /// The whole name's length when only its head is kept.
    pub full_length: Option<u64>,
    /// The name's length in bytes (not escaped).
    pub bytes: u64,
    /// A hash of the whole name, to tell apart names that look alike when shortened.
    pub hash: u64,
    /// Percent of the section's total.
    pub share: f64,
    /// Per second over the window or the input's time span; `None` when the span is unknown.
    pub rate: Option<f64>,
    pub key: Option<KeyColumns>,
    /// The slot number of a Top Slots row.
    pub slot: Option<u16>,
}

/// What a Top Keys row shows besides its count.
pub struct KeyColumns {
    pub reads: u64,
    pub writes: u64,
    /// `None` for a key only partly stored whose hash tag is not whole.
    pub slot: Option<u16>,
    /// The node the key was seen on (`+` when on several), with several inputs.
    pub node: Option<String>,
    /// At or above `--hot-qps` (now, in a rolling report), when it is given.
    pub hot: Option<bool>,
    /// Its rate over the last full period, in a rolling report, and how that compares with the
    /// period before.
    pub now: Option<f64>,
    pub change: Option<RateChange>,
    /// Its count in each period of the window, oldest first (empty for one period).
    pub trend: Vec<u64>,
}

/// One of the Heaviest Commands.
pub struct Heavy {
    /// Escaped.
    pub name: String,
    /// The gaps charged to it, in all.
    pub total: u64,
    pub calls: u64,
    /// The calls that had a gap charged: what the mean is over.
    pub gaps: u64,
    /// Of requests read from packets: the median, 90th and 99th percentile of its latencies.
    pub percentiles: Option<[Option<u64>; 3]>,
}

impl Heavy {
    /// The mean gap of the calls that had one.
    pub fn mean(&self) -> u64 {
        self.total / self.gaps.max(1)
    }
}

/// The gaps between timestamps, standing in for each command's time; or, of requests read
/// from packets, their latencies.
pub struct CommandTimeSection {
    pub rule: GapRule,
    /// The times are latencies measured from packets.
    pub latencies: bool,
    pub gaps: u64,
    /// (text label, JSON name, value) of the median, 75th, 90th and 99th percentiles.
    pub quantiles: Vec<(&'static str, &'static str, Option<u64>)>,
    pub max: u64,
    /// The commands with the largest total gaps.
    pub heaviest: Vec<Heavy>,
    /// Of all gaps, for the heaviest commands' shares.
    pub total: u64,
    pub slowest: Vec<SlowCall>,
}

impl Report {
    /// The report of `stats` as `view` says.
    pub fn new(stats: &Stats, view: &View) -> Report {
        let top = stats.settings.top;
        let span = stats.first.zip(stats.last).map(|(a, b)| (a.micros, b.micros));
        let seconds = match view.window {
            Some(w) => w.seconds(),
            None => span.map_or(0.0, |(a, b)| (b - a) as f64 / 1e6),
        };
        let now_seconds = view.recent.map(|r| r.seconds).filter(|&s| s > 0.0);
        let rates = Rates { seconds: (seconds > 0.0).then_some(seconds), hot: view.hot_qps, now: now_seconds };
        let keys = &stats.per_key;
        let names = |table: &TopK, total: u64| rows(table, top, total, &rates, escaped);
        let section = |kind: Kind, total: u64, rows: Vec<Row>| TopSection { kind, total, rows };
        let commands = stats.command_counts.table(&stats.settings.commands);
        let mut sections = vec![
            section(Kind::Keys, keys.keys.total(), key_rows(stats, view, &rates)),
            section(Kind::KeyBytes, keys.key_bytes.total(), names(&keys.key_bytes, keys.key_bytes.total())),
            section(Kind::Prefixes, keys.keys.total(), names(&keys.prefixes, keys.keys.total())),
            section(Kind::Commands, stats.tally.commands, rows(&commands, top, stats.tally.commands, &rates, escaped)),
            section(Kind::Clients, stats.tally.commands, names(&stats.clients, stats.tally.commands)),
            section(Kind::Slots, keys.keys.total(), slot_rows(stats, &rates)),
        ];
        // Only requests read from packets have replies: these sections are theirs.
        let mut at = 2;
        for (kind, table) in [(Kind::KeyReplyBytes, &keys.reply_bytes), (Kind::KeyLatency, &keys.latency)] {
            if table.total() > 0 {
                sections.insert(at, section(kind, table.total(), names(table, table.total())));
                at += 1;
            }
        }
        if view.nodes.is_some() {
            let rows = node_rows(stats, view, &rates);
            sections.push(section(Kind::Nodes, stats.tally.commands, rows));
        }
        let hot_keys = match view.recent {
            Some(recent) => {
                let now = recent.now.per_key.keys.entries();
                now.iter().filter(|e| rates.is_hot_now(Some(e.count))).count() as u64
            }
            None => keys.keys.entries().iter().filter(|e| rates.is_hot(e.count)).count() as u64,
        };
        Report {
            window: view.window,
            seconds: rates.seconds,
            tally: stats.tally,
            span,
            key_accesses: keys.keys.total(),
            unprefixed: keys.unprefixed,
            key_bytes: keys.key_bytes.total(),
            prefix_delimiter: escaped(&stats.settings.prefix_delimiter),
            prefix_depth: stats.settings.prefix_depth,
            hot: view.hot_qps.map(|q| (q, hot_keys)),
            every: view.every,
            now_seconds,
            trend_seconds: view.seconds.to_vec(),
            inputs: input_rows(stats, view, &rates),
            sections,
            time: command_time(stats),
            unknown_names: stats
                .command_counts
                .unknown_names(UNKNOWN_NAMES)
                .into_iter()
                .map(|(name, n, error)| (escaped(name), n, error))
                .collect(),
        }
    }

    /// The section of a kind.
    pub fn section(&self, kind: Kind) -> Option<&TopSection> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// The input's time span in microseconds (0 before two timestamps).
    pub fn span_micros(&self) -> u64 {
        self.span.map_or(0, |(a, b)| b - a)
    }

    /// Commands per second over the window, or the input's time span; `None` when that is 0
    /// (unknown, as every row's rate is then).
    pub fn commands_per_second(&self) -> Option<f64> {
        self.seconds.map(|s| self.tally.commands as f64 / s)
    }
}

/// How rows' rates are taken.
struct Rates {
    seconds: Option<f64>,
    hot: Option<f64>,
    /// The seconds of the last full period, for rates now.
    now: Option<f64>,
}

impl Rates {
    fn of(&self, count: u64) -> Option<f64> {
        self.seconds.map(|s| count as f64 / s)
    }

    fn now(&self, count: Option<u64>) -> Option<f64> {
        self.now.zip(count).map(|(s, n)| n as f64 / s)
    }

    fn is_hot(&self, count: u64) -> bool {
        matches!((self.hot, self.of(count)), (Some(hot), Some(rate)) if rate >= hot)
    }

    fn is_hot_now(&self, count: Option<u64>) -> bool {
        matches!((self.hot, self.now(count)), (Some(hot), Some(rate)) if rate >= hot)
    }
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 * 100.0 / total as f64
    }
}

fn row<E>(entry: &Entry<E>, name: String, total: u64, rates: &Rates) -> Row {
    Row {
        name,
        count: entry.count,
        error: entry.error,
        full_length: entry.is_cut().then_some(entry.full_len),
        bytes: entry.full_len,
        hash: name_hash(entry),
        share: share(entry.count, total),
        rate: rates.of(entry.count),
        key: None,
        slot: None,
    }
}

/// The `n` heaviest entries of a table as rows, named from their stored keys by `name`.
fn rows<E>(table: &TopK<E>, n: usize, total: u64, rates: &Rates, name: impl Fn(&[u8]) -> String) -> Vec<Row> {
    table.top(n).into_iter().map(|e| row(e, name(e.key()), total, rates)).collect()
}

/// A hash of an entry's whole name: its own for a name only partly stored (the run's hash of
/// the whole), else one of its bytes that is the same in every run.
fn name_hash<E>(entry: &Entry<E>) -> u64 {
    if entry.is_cut() {
        return entry.hash();
    }
    // FNV-1a, 64 bits.
    entry.key().iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn key_rows(stats: &Stats, view: &View, rates: &Rates) -> Vec<Row> {
    let keys = &stats.per_key.keys;
    let top = keys.top(view.key_rows.unwrap_or(0).max(stats.settings.top));
    top.into_iter()
        .map(|e| {
            let now = view.recent.map(|r| r.now.per_key.keys.count_of(e));
            let before = view.recent.and_then(|r| r.before).filter(|(_, s)| *s > 0.0);
            let change = before.zip(rates.now(now)).map(|((stats, seconds), now)| {
                RateChange::between(stats.per_key.keys.count_of(e) as f64 / seconds, now)
            });
            let hot = match view.recent {
                Some(_) => rates.is_hot_now(now),
                None => rates.is_hot(e.count),
            };
            Row {
                key: Some(KeyColumns {
                    reads: e.extra.reads,
                    writes: e.extra.writes,
                    slot: key_slot(e),
                    node: view.nodes.map(|_| key_node(view, &e.extra)),
                    hot: view.hot_qps.map(|_| hot),
                    now: rates.now(now),
                    change,
                    trend: view.periods.iter().map(|p| p.per_key.keys.count_of(e)).collect(),
                }),
                ..row(e, escaped(e.key()), keys.total(), rates)
            }
        })
        .collect()
}

/// Each input's rate, latest command and state, with several inputs.
fn input_rows(stats: &Stats, view: &View, rates: &Rates) -> Vec<InputRow> {
    let (Some(_), Some(inputs)) = (view.nodes, view.inputs) else { return Vec::new() };
    let counts = stats.nodes();
    let count = |node: u32| {
        let key = node.to_be_bytes();
        counts.entries().iter().find(|e| e.key() == key).map_or(0, |e| e.count)
    };
    let known = view.nodes.map_or(0, <[Name]>::len).max(inputs.len());
    let mut rows: Vec<InputRow> = (0..known as u32)
        .map(|node| InputRow {
            name: node_label(view, node),
            rate: rates.of(count(node)),
            last: None,
            state: NodeState::Reading,
        })
        .collect();
    for (node, state, last) in inputs.iter() {
        if let Some(row) = rows.get_mut(node as usize) {
            row.state = state;
            row.last = last;
        }
    }
    rows
}

fn slot_rows(stats: &Stats, rates: &Rates) -> Vec<Row> {
    let slots = stats.per_key.slots.table();
    let total = stats.per_key.keys.total();
    slots
        .top(stats.settings.top)
        .into_iter()
        .map(|e| {
            let slot = slot_number(e.key());
            Row { slot, ..row(e, slot.map_or_else(|| escaped(e.key()), |s| s.to_string()), total, rates) }
        })
        .collect()
}

/// A slot number from its stored form (two bytes, big-endian).
fn slot_number(key: &[u8]) -> Option<u16> {
    match key {
        [hi, lo] => Some(u16::from(*hi) << 8 | u16::from(*lo)),
        _ => None,
    }
}

/// A node number from its stored form (four bytes, big-endian).
fn node_number(key: &[u8]) -> u32 {
    key.iter().fold(0, |n, &b| n << 8 | u32::from(b))
}

/// The label of a node number, escaped (cut, with its length, when long).
fn node_label(view: &View, number: u32) -> String {
    match view.nodes.and_then(|n| n.get(number as usize)) {
        Some(label) => label.shown(),
        None => number.to_string(),
    }
}

/// Top Nodes: a long label is shown by its head, with its whole length, as a cut key is.
fn node_rows(stats: &Stats, view: &View, rates: &Rates) -> Vec<Row> {
    let nodes = stats.nodes();
    let total = stats.tally.commands;
    let label = |number: u32| view.nodes.and_then(|n| n.get(number as usize));
    nodes
        .top(stats.settings.top)
        .into_iter()
        .map(|e| {
            let number = node_number(e.key());
            let mut row = row(e, number.to_string(), total, rates);
            if let Some(name) = label(number) {
                row.name = escaped(name.head());
                row.full_length = name.is_cut().then_some(name.len());
            }
            row
        })
        .collect()
}

/// The node a key was seen on, as shown beside it.
fn key_node(view: &View, access: &KeyAccess) -> String {
    match access.node {
        0 => "-".to_string(),
        n if access.many_nodes => format!("{}+", node_label(view, n - 1)),
        n => node_label(view, n - 1),
    }
}

/// The slot shown beside a key: unknown for a key only partly stored, unless its tag is whole.
fn key_slot(entry: &Entry<KeyAccess>) -> Option<u16> {
    let key = entry.key();
    let tag = crate::count::cluster::hash_tag(key);
    (!entry.is_cut() || tag.len() < key.len()).then(|| crate::count::cluster::slot(key))
}

fn command_time(stats: &Stats) -> CommandTimeSection {
    let gaps = &stats.gaps;
    let quantiles =
        [("median", "p50_us", 0.5), ("75%", "p75_us", 0.75), ("90%", "p90_us", 0.9), ("99%", "p99_us", 0.99)]
            .into_iter()
            .map(|(label, name, q)| (label, name, gaps.quantile(q)))
            .collect();
    CommandTimeSection {
        rule: stats.settings.gap_rule,
        latencies: stats.latencies,
        gaps: gaps.count(),
        quantiles,
        max: gaps.max(),
        heaviest: heaviest(stats),
        total: gaps.sum(),
        slowest: stats.slowest(),
    }
}

/// An entry's name as shown outside a section's rows: escaped, and cut with its whole length
/// when only its head is kept.
fn cut_name<E>(entry: &Entry<E>) -> String {
    let mut name = escaped(entry.key());
    if entry.is_cut() {
        name.push_str(&format!("… ({} bytes)", entry.full_len));
    }
    name
}

/// The commands with the largest total gaps.
fn heaviest(stats: &Stats) -> Vec<Heavy> {
    let table = stats.command_counts.table(&stats.settings.commands);
    let mut all: Vec<Heavy> = table
        .entries()
        .iter()
        .filter(|e| e.extra.gap_total > 0)
        .map(|e| Heavy {
            name: cut_name(e),
            total: e.extra.gap_total,
            calls: e.count,
            gaps: e.extra.gaps,
            percentiles: stats.command_latencies.get(e.key()).map(|h| [0.5, 0.9, 0.99].map(|q| h.quantile(q))),
        })
        .collect();
    all.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
    all.truncate(stats.settings.top);
    all
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(17), "17B");
        assert_eq!(size(1536), "1.5KiB");
        assert_eq!(size(512 << 20), "512.0MiB");
    }

    #[test]
    fn lines_dropped_are_shown_only_when_there_were_some() {
        use crate::count::stats::{GapRule, Settings};
        let settings = Settings::for_tests(100, 1, GapRule::Later);
        let mut stats = Stats::new(settings);
        let view = View {
            window: None,
            hot_qps: None,
            nodes: None,
            periods: &[],
            seconds: &[],
            recent: None,
            every: None,
            key_rows: None,
            inputs: None,
        };
        assert!(!text(&Report::new(&stats, &view)).contains("DROPPED"));
        stats.tally.dropped = 120_000;
        let shown = text(&Report::new(&stats, &view));
        assert!(shown.contains("\n  DROPPED           120000   (sent by the server, not counted:"), "{shown}");
        assert!(json(&Report::new(&stats, &view)).contains(r#""dropped":120000,"#));
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12), "12µs");
        assert_eq!(duration(1_500), "1.50ms");
        assert_eq!(duration(2_500_000), "2.50s");
    }
}
