//! The report's counters: everything the report shows, gathered one line at a time.
//!
//! [`Stats`] sees every line (to account for it: lines = commands + noise + skipped) and every
//! parsed command with its keys, and keeps only bounded summaries: top-k tables, a histogram
//! of the gaps between timestamps, and the few slowest calls.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::commands::{Access, CommandId, Table};
use crate::count::histogram::Histogram;
use crate::count::name::Name;
use crate::count::topk::TopK;
use crate::format::escape::escape_truncated;
use crate::format::long_arg::LongArg;
use crate::format::monitor::client_address;
use crate::pipeline::decode::Command;
use crate::pipeline::outcome::{Is, Outcome};
use crate::pipeline::redact::{Secrets, REDACTED};

mod join;
pub use join::Opening;

/// Which line a gap between two consecutive timestamps is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapRule {
    /// Redis ≥ 6.2.4 writes a line after running the command: the gap is the later line's time.
    Later,
    /// Older servers wrote the line before running it: the gap is the earlier line's time.
    Earlier,
}

/// What the counters are asked to keep.
#[derive(Clone)]
pub struct Settings {
    /// The command table command ids refer to.
    pub commands: Arc<Table>,
    /// Rows per section.
    pub top: usize,
    pub prefix_delimiter: Vec<u8>,
    pub prefix_depth: usize,
    pub gap_rule: GapRule,
    /// Distinct keys counted exactly before the key table turns to Space-Saving; the bytes
    /// table keeps half as many, the prefix, client and command tables a quarter.
    pub max_keys: usize,
}

#[cfg(test)]
impl Settings {
    /// What the unit tests count with: the shared command table, 10 rows, prefixes split at
    /// `:` to `depth`.
    pub fn for_tests(max_keys: usize, depth: usize, gap_rule: GapRule) -> Settings {
        Settings {
            commands: Table::shared(),
            top: 10,
            prefix_delimiter: b":".to_vec(),
            prefix_depth: depth,
            gap_rule,
            max_keys,
        }
    }
}

/// Reads and writes of one key, and the node it was seen on.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyAccess {
    pub reads: u64,
    pub writes: u64,
    /// The first node (in input order) the key was seen on, + 1; 0 before any. The first by
    /// number, not by time: inputs read at once interleave their lines differently each run.
    pub node: u32,
    /// The key was seen on more than one node.
    pub many_nodes: bool,
    /// The key's cluster hash slot + 1; 0 until known. Computed once when the key enters, not
    /// at every access (it sits in the struct's padding: the entry grows by nothing).
    slot: u16,
}

impl KeyAccess {
    fn seen_on(&mut self, node: u32) {
        self.seen_on_label(node + 1);
    }

    /// Notes node `label` (a node + 1) for this key: the lowest kept, and whether there were more.
    fn seen_on_label(&mut self, label: u32) {
        if self.node == 0 {
            self.node = label;
        } else if self.node != label {
            self.many_nodes = true;
            self.node = self.node.min(label);
        }
    }

    /// The hash slot of the key these counts are of, named `name`: computed at its first access.
    fn slot_of(&mut self, name: &[u8]) -> u16 {
        if self.slot == 0 {
            self.slot = crate::count::cluster::slot(name) + 1;
        }
        self.slot - 1
    }

    fn add(&mut self, other: &KeyAccess) {
        if self.slot == 0 {
            self.slot = other.slot;
        }
        self.reads += other.reads;
        self.writes += other.writes;
        if other.node != 0 {
            self.many_nodes |= other.many_nodes;
            self.seen_on_label(other.node);
        }
    }
}

/// The line before, on one node: where the gap to the next line starts.
#[derive(Debug, Default, Clone)]
struct Chain {
    prev: Option<u64>,
    /// The node's commands so far: the next one's position among them.
    seq: u64,
    /// Under [`GapRule::Earlier`]: the previous command, which the next gap is charged to (its
    /// name kept only when the table does not know it, and then by its head).
    prev_command: Name,
    prev_id: Option<CommandId>,
    prev_call: Option<SlowCall>,
}

/// Per-command totals of the gaps charged to it.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandTime {
    pub gap_total: u64,
    /// The calls that had a gap charged (a node's first line has none): what the mean is over.
    pub gaps: u64,
}

impl CommandTime {
    /// Charges one gap.
    fn charge(&mut self, gap: u64) {
        // Saturating: timestamps that jump between 1970 and 2286 sum past 2^64 µs.
        self.gap_total = self.gap_total.saturating_add(gap);
        self.gaps += 1;
    }

    fn add(&mut self, other: &CommandTime) {
        self.gap_total = self.gap_total.saturating_add(other.gap_total);
        self.gaps += other.gaps;
    }
}

/// Calls and gap totals per command: by command id for the commands the table knows (an index
/// per line, not a lookup), in a bounded table for names it does not know.
pub struct CommandCounts {
    /// (calls, time) by [`CommandId`]; grown to the largest id seen.
    known: Vec<(u64, CommandTime)>,
    unknown: TopK<CommandTime>,
}

impl CommandCounts {
    /// Counts that keep at most `keep` unknown names.
    pub fn new(keep: usize) -> CommandCounts {
        CommandCounts { known: Vec::new(), unknown: TopK::new(keep) }
    }

    /// Adds `calls` to a command (`name` is used when `id` is `None`) and returns its time.
    pub fn add(&mut self, id: Option<CommandId>, name: &[u8], calls: u64) -> &mut CommandTime {
        match id {
            Some(id) => {
                let i = usize::from(id);
                if self.known.len() <= i {
                    self.known.resize(i + 1, (0, CommandTime::default()));
                }
                let (n, time) = &mut self.known[i];
                *n += calls;
                time
            }
            None => self.unknown.add(name, calls),
        }
    }

    /// [`CommandCounts::add`] for a command whose name is kept as a [`Name`].
    pub fn add_named(&mut self, id: Option<CommandId>, name: &Name, calls: u64) -> &mut CommandTime {
        match id {
            Some(_) => self.add(id, b"", calls),
            None => self.unknown.add_whole(name.head(), name.len(), name.hash(), calls),
        }
    }

    pub fn merge(&mut self, other: &CommandCounts) {
        if self.known.len() < other.known.len() {
            self.known.resize(other.known.len(), (0, CommandTime::default()));
        }
        for (mine, theirs) in self.known.iter_mut().zip(&other.known) {
            mine.0 += theirs.0;
            mine.1.add(&theirs.1);
        }
        self.unknown.merge(&other.unknown, CommandTime::add);
    }

    /// The `n` commonest names of commands the table does not know, with their calls and the
    /// most those calls may over-count (past the table's size, a name takes over the count of
    /// the one it evicted).
    pub fn unknown_names(&self, n: usize) -> Vec<(&[u8], u64, u64)> {
        self.unknown.top(n).into_iter().map(|e| (e.key(), e.count, e.error)).collect()
    }

    /// The number of commands counted.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.known.iter().filter(|(n, t)| *n > 0 || t.gap_total > 0).count() + self.unknown.len()
    }

    /// Every command, as one table keyed by its name (`names` is the table the ids are from).
    pub fn table(&self, names: &Table) -> TopK<CommandTime> {
        let mut table: TopK<CommandTime> = TopK::new(self.known.len() + self.unknown.len());
        for (id, (n, time)) in (0..).zip(&self.known) {
            if *n > 0 || time.gap_total > 0 {
                table.add(names.get(id).name.as_bytes(), *n).add(time);
            }
        }
        table.merge(&self.unknown, CommandTime::add);
        table
    }
}

/// One of the slowest calls, rendered when it made the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SlowCall {
    pub gap: u64,
    /// Its node, and its position among that node's calls: ties keep each node's input order,
    /// the lower node first, however several inputs' lines interleaved as they were read.
    pub node: Reverse<u32>,
    pub seq: Reverse<u64>,
    pub timestamp: String,
    pub client: String,
    /// The command name and arguments, escaped and cut short.
    pub call: String,
}

/// A timestamp, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub micros: u64,
}

/// The tables counted per key access.
pub struct KeyTables {
    pub keys: TopK<KeyAccess>,
    /// Request bytes per key: each command's size shared among its keys.
    pub key_bytes: TopK,
    /// Of requests read from packets: reply bytes and latency (microseconds) per key, each
    /// command's shared among its keys as its request bytes are.
    pub reply_bytes: TopK,
    pub latency: TopK,
    pub prefixes: TopK,
    /// Key accesses whose key has fewer delimiters than the prefix depth.
    pub unprefixed: u64,
    /// Key accesses per cluster hash slot.
    pub slots: SlotCounts,
    prefix_delimiter: Vec<u8>,
    prefix_depth: usize,
}

impl KeyTables {
    pub fn new(settings: &Settings) -> KeyTables {
        let max_keys = settings.max_keys;
        KeyTables {
            keys: TopK::new(max_keys),
            key_bytes: TopK::new(max_keys / 2),
            reply_bytes: TopK::new(max_keys / 4),
            latency: TopK::new(max_keys / 4),
            prefixes: TopK::new(max_keys / 4),
            unprefixed: 0,
            slots: SlotCounts::new(max_keys / 4),
            prefix_delimiter: settings.prefix_delimiter.clone(),
            prefix_depth: settings.prefix_depth,
        }
    }

    /// Counts one access of `key`, its share of the request's bytes (and of a reply, of a
    /// request read from packets), and the node it came from.
    pub fn add_with_reply(&mut self, key: Key<'_>, access: Access, share: u64, reply: Option<(u64, u64)>, node: u32) {
        let (full_len, hash, slot) = match key.long {
            Some(long) => (long.len, long.hash, Some(long.slot)),
            None => (key.name.len() as u64, self.keys.hash(key.name), None),
        };
        self.add_hashed(&Hit { name: key.name, full_len, hash, slot, access, share, node, reply });
    }

    /// Counts one access of a key, whose hash (from [`KeyTables::hash`]) is at hand; its slot
    /// too when the key is known by its head, else the key's entry knows it.
    pub fn add_hashed(&mut self, hit: &Hit<'_>) {
        let Hit { name, full_len, hash, slot, access, share, node, reply } = *hit;
        self.key_bytes.add_whole(name, full_len, hash, share);
        if let Some((bytes, micros)) = reply {
            self.reply_bytes.add_whole(name, full_len, hash, bytes);
            self.latency.add_whole(name, full_len, hash, micros);
        }
        let counts = self.keys.add_whole(name, full_len, hash, 1);
        match access {
            Access::Read => counts.reads += 1,
            Access::Write => counts.writes += 1,
        }
        counts.seen_on(node);
        let slot = match slot {
            Some(slot) => slot,
            None => counts.slot_of(name),
        };
        match prefix_of(name, &self.prefix_delimiter, self.prefix_depth) {
            Some(prefix) => {
                self.prefixes.add_short(prefix, 1);
            }
            None => self.unprefixed += 1,
        }
        self.slots.add(slot);
    }

    /// The hash the tables find `name` by.
    pub fn hash(&self, name: &[u8]) -> u64 {
        self.keys.hash(name)
    }

    /// Starts loading the index slots (and slot counter) that counting a key with this hash
    /// reads first: the tables are larger than the caches, and a lookup is two dependent loads.
    #[inline]
    pub fn prefetch_slots(&self, hash: u64, slot: Option<u16>) {
        self.keys.prefetch_slot(hash);
        self.key_bytes.prefetch_slot(hash);
        if let Some(slot) = slot {
            self.slots.prefetch(slot);
        }
    }

    /// Starts loading the entries those index slots point to (once the slots have arrived).
    #[inline]
    pub fn prefetch_entries(&self, hash: u64) {
        self.keys.prefetch_entry(hash);
        self.key_bytes.prefetch_entry(hash);
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.keys.total() == 0
            && self.key_bytes.total() == 0
            && self.prefixes.total() == 0
            && self.unprefixed == 0
            && self.reply_bytes.total() == 0
            && self.latency.total() == 0
    }

    /// Adds `other`'s counts; when nothing was counted here, takes its tables as they are.
    pub fn absorb(&mut self, other: KeyTables) {
        if self.is_empty() {
            *self = other;
        } else {
            self.merge(&other);
        }
    }

    pub fn merge(&mut self, other: &KeyTables) {
        self.keys.merge(&other.keys, KeyAccess::add);
        self.key_bytes.merge(&other.key_bytes, |_, _| {});
        self.reply_bytes.merge(&other.reply_bytes, |_, _| {});
        self.latency.merge(&other.latency, |_, _| {});
        self.prefixes.merge(&other.prefixes, |_, _| {});
        self.unprefixed += other.unprefixed;
        self.slots.merge(&other.slots);
    }
}

/// Key accesses per cluster hash slot.
///
/// The period being counted keeps a plain array, one counter per slot (128 KiB: an increment
/// instead of a table lookup per key). A closed period keeps a bounded summary instead, so that a
/// window of many periods costs no more than one table: [`SlotCounts::seal`] keeps its heaviest
/// slots and a floor for the rest, so merged counts still bracket the truth
/// (`count - error <= true <= count`).
pub struct SlotCounts {
    /// Counts by slot number; empty until the first access, and once sealed.
    live: Vec<u64>,
    /// The slot of the last access, not in `live` yet: it is counted at the next access, its
    /// counter having loaded meanwhile (the slot is known only once the key's entry has
    /// arrived, too late to load the counter before it is needed). Some only while `live` is
    /// allocated; every reader counts it.
    held: Option<u16>,
    /// Sealed counts, and counts merged from other periods.
    kept: TopK,
}

impl SlotCounts {
    /// Empty counts whose summary keeps at most `keep` slots.
    pub fn new(keep: usize) -> SlotCounts {
        SlotCounts {
            live: Vec::new(),
            held: None,
            kept: TopK::new(keep.min(usize::from(crate::count::cluster::SLOTS))),
        }
    }

    /// The array, allocated at its first use.
    fn live_mut(&mut self) -> &mut [u64] {
        if self.live.is_empty() {
            self.live = vec![0; usize::from(crate::count::cluster::SLOTS)];
        }
        &mut self.live
    }

    /// Counts one access of a key in `slot`: the access before it now, this one at the next.
    #[inline]
    pub fn add(&mut self, slot: u16) {
        let slot = slot & (crate::count::cluster::SLOTS - 1);
        match self.held.replace(slot) {
            Some(held) => self.live[usize::from(held)] += 1,
            None => _ = self.live_mut(),
        }
        self.prefetch(slot);
    }

    /// Counts the access held into its counter.
    fn settle(&mut self) {
        if let Some(held) = self.held.take() {
            self.live[usize::from(held)] += 1;
        }
    }

    /// The counts by slot number, the access held included.
    fn live_counts(&self) -> impl Iterator<Item = u64> + '_ {
        (0u16..).zip(&self.live).map(|(slot, &n)| n + u64::from(self.held == Some(slot)))
    }

    /// Starts loading the counter of `slot`.
    #[inline]
    pub fn prefetch(&self, slot: u16) {
        if let Some(n) = self.live.get(usize::from(slot)) {
            crate::count::prefetch::prefetch(n);
        }
    }

    /// Trades the array for the bounded summary (the period is over): the heaviest slots the
    /// summary has room for, exactly; the rest only in its total and floor.
    pub fn seal(&mut self) {
        self.settle();
        let mut live: Vec<(u64, u16)> =
            std::mem::take(&mut self.live).into_iter().zip(0..).filter(|&(n, _)| n > 0).collect();
        live.sort_unstable_by(|a, b| b.cmp(a));
        let mut sealed = TopK::new(self.kept.capacity());
        let room = sealed.capacity();
        for &(n, slot) in &live[..room.min(live.len())] {
            sealed.add(&slot.to_be_bytes(), n);
        }
        for &(n, _) in live.iter().skip(room) {
            sealed.leave_out(n);
        }
        sealed.merge(&self.kept, |_, _| {});
        self.kept = sealed;
    }

    /// Adds every count of `other`, errors included.
    pub fn merge(&mut self, other: &SlotCounts) {
        if !other.live.is_empty() {
            for (mine, theirs) in self.live_mut().iter_mut().zip(other.live_counts()) {
                *mine += theirs;
            }
        }
        self.kept.merge(&other.kept, |_, _| {});
    }

    /// Every count, as one table keyed by the slot number (two bytes, big-endian).
    pub fn table(&self) -> TopK {
        // Room for every slot: nothing is evicted, so counts and errors stay as they are.
        let mut table = TopK::new(usize::from(crate::count::cluster::SLOTS));
        table.merge(&self.kept, |_, _| {});
        for (slot, n) in (0u16..).zip(self.live_counts()) {
            if n > 0 {
                table.add(&slot.to_be_bytes(), n);
            }
        }
        table
    }
}

/// What became of the lines read: every line is a command, filtered out, noise or skipped
/// (`lines = commands + filtered + noise + skipped`), each counted by [`Tally::count`] alone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub lines: u64,
    pub commands: u64,
    pub noise: u64,
    /// Of the noise, the server's error lines.
    pub server_errors: u64,
    pub skipped: u64,
    /// Commands left out by the filters (`--db`, `--command`, `--client`, `--key`).
    pub filtered: u64,
    /// Lines longer than the reader keeps whole: counted from their head.
    pub cut_lines: u64,
    /// Commands the table does not know (their first argument was taken as the key).
    pub unknown_commands: u64,
    /// Of the commands of a rolling report, those whose timestamp was far from the stream's
    /// clock (see `clock.rs`): counted in the period under way.
    pub out_of_order: u64,
    /// Lines a server sent that were read and dropped, not counted, because the output could
    /// not keep up (`--connect`): counted in the period in which they were told.
    pub dropped: u64,
}

impl Tally {
    /// Counts one finished line: the only writer of the line counters.
    #[inline]
    pub fn count(&mut self, line: &Outcome<'_>) {
        self.lines += 1;
        self.cut_lines += u64::from(line.cut);
        match line.is {
            Is::Command { cmd, .. } => {
                self.commands += 1;
                self.unknown_commands += u64::from(cmd.id.is_none());
            }
            Is::Filtered(_) => self.filtered += 1,
            Is::Noise { error } => {
                self.noise += 1;
                self.server_errors += u64::from(error);
            }
            Is::Skipped => self.skipped += 1,
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.lines += other.lines;
        self.commands += other.commands;
        self.noise += other.noise;
        self.server_errors += other.server_errors;
        self.skipped += other.skipped;
        self.filtered += other.filtered;
        self.cut_lines += other.cut_lines;
        self.unknown_commands += other.unknown_commands;
        self.out_of_order += other.out_of_order;
        self.dropped += other.dropped;
    }
}

/// Everything the report shows. Plain data: it counts what it is given and merges with the
/// counts of other periods; where the key accesses are counted is the report sink's choice
/// (here, in tests, or on the second core: see [`crate::count::offload`]).
pub struct Stats {
    pub settings: Settings,
    pub tally: Tally,
    pub first: Option<Stamp>,
    pub last: Option<Stamp>,
    /// The tables counted per key access.
    pub per_key: KeyTables,
    pub command_counts: CommandCounts,
    pub clients: TopK,
    /// Commands per node (input), by node number (there are few: at most 1024).
    node_counts: Vec<u64>,
    pub gaps: Histogram,
    slowest: BinaryHeap<Reverse<SlowCall>>,
    /// Per node: the previous command's time, and (for [`GapRule::Earlier`]) its name and call.
    chains: Vec<Chain>,
    /// The times are latencies measured from packets (requests read from a capture), not
    /// gaps between arrivals.
    pub latencies: bool,
    /// Of requests read from packets: each command's latencies (by its name), for its
    /// percentiles; at most [`MAX_LATENCY_COMMANDS`] names, the rest under `(other)`.
    pub command_latencies: std::collections::BTreeMap<Vec<u8>, Histogram>,
}

/// The most commands whose latencies are kept apart.
const MAX_LATENCY_COMMANDS: usize = 512;

/// How many bytes of a slow call's arguments are shown.
const CALL_WIDTH: usize = 120;

/// How many bytes of a slow call's client (a unix socket path may be long) and timestamp (its
/// fraction may have any number of digits) are kept: past them, the head and the length.
const CLIENT_WIDTH: usize = 128;
const STAMP_WIDTH: usize = 40;

/// The most slowest calls kept (each period of a window keeps its own), whatever `--top` says.
pub const MAX_SLOWEST: usize = 100;

impl Stats {
    pub fn new(settings: Settings) -> Stats {
        let max_keys = settings.max_keys;
        Stats {
            tally: Tally::default(),
            first: None,
            last: None,
            per_key: KeyTables::new(&settings),
            command_counts: CommandCounts::new(max_keys / 4),
            clients: TopK::new(max_keys / 4),
            node_counts: Vec::new(),
            gaps: Histogram::new(),
            slowest: BinaryHeap::new(),
            chains: Vec::new(),
            latencies: false,
            command_latencies: std::collections::BTreeMap::new(),
            settings,
        }
    }

    /// Counts one command, all but its key accesses (see [`key_shares`]) and its line (the
    /// pipeline tallies lines); `secrets` are the arguments a slow call shows redacted.
    pub fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) {
        let t = cmd.header.micros;
        if self.first.map_or(true, |f| t < f.micros) {
            self.first = Some(Stamp { micros: t });
        }
        if self.last.map_or(true, |l| t > l.micros) {
            self.last = Some(Stamp { micros: t });
        }
        let node = cmd.node as usize;
        if self.chains.len() <= node {
            self.chains.resize(node + 1, Chain::default());
        }
        let chain = &mut self.chains[node];
        chain.seq += 1;
        let gap = match chain.prev.replace(t) {
            // Timestamps going backwards (merged or reordered captures) give no gap.
            Some(prev) if t >= prev => Some(t - prev),
            _ => None,
        };
        if self.node_counts.len() <= node {
            self.node_counts.resize(node + 1, 0);
        }
        self.node_counts[node] += 1;
        let time = self.command_counts.add(cmd.id, cmd.name, 1);
        if cmd.packet {
            // A request read from packets has its own time, measured: its latency.
            let latency = cmd.reply.map(|r| r.nanos / 1000);
            if let Some(latency) = latency {
                time.charge(latency);
            }
            self.clients.add_short(client_address(cmd.header.client), 1);
            self.latencies = true;
            return self.charge_latency(cmd, secrets, latency);
        }
        if let (GapRule::Later, Some(gap)) = (self.settings.gap_rule, gap) {
            time.charge(gap);
        }
        self.clients.add_short(client_address(cmd.header.client), 1);
        self.charge_gap(cmd, secrets, gap);
    }

    /// Records a measured latency, charged to its own command (of packets only: out of line).
    #[inline(never)]
    fn charge_latency(&mut self, cmd: &Command<'_>, secrets: &Secrets, latency: Option<u64>) {
        if let Some(latency) = latency {
            self.gaps.record(latency);
            self.command_latency(cmd.name).record(latency);
            if self.would_keep(latency, cmd.node, || self.chains[cmd.node as usize].seq) {
                let call = self.render(cmd, secrets, latency);
                self.keep_slow(call);
            }
        }
    }

    /// Records the gap before this command, and charges it (under the later-line rule the
    /// command's own total already has it).
    fn charge_gap(&mut self, cmd: &Command<'_>, secrets: &Secrets, gap: Option<u64>) {
        match self.settings.gap_rule {
            GapRule::Later => {
                if let Some(gap) = gap {
                    self.gaps.record(gap);
                    if self.would_keep(gap, cmd.node, || self.chains[cmd.node as usize].seq) {
                        let call = self.render(cmd, secrets, gap);
                        self.keep_slow(call);
                    }
                }
            }
            GapRule::Earlier => self.charge_earlier(cmd, secrets, gap),
        }
    }

    /// [`Stats::charge_gap`] under [`GapRule::Earlier`]: the gap is the previous call's, and
    /// this one waits for its own (kept out of line: the default rule is the one that runs for
    /// most reports).
    #[inline(never)]
    fn charge_earlier(&mut self, cmd: &Command<'_>, secrets: &Secrets, gap: Option<u64>) {
        let node = cmd.node as usize;
        if let Some(gap) = gap {
            let chain = &self.chains[node];
            self.command_counts.add_named(chain.prev_id, &chain.prev_command, 0).charge(gap);
            self.gaps.record(gap);
            if let Some(mut call) = self.chains[node].prev_call.take() {
                if self.would_keep(gap, call.node.0, || call.seq.0) {
                    call.gap = gap;
                    self.keep_slow(call);
                }
            }
        }
        // Whether this call's gap makes the list is known only at the next line, so under
        // this rule every call is rendered (the default rule renders only the few that do).
        let call = if self.settings.top > 0 { Some(self.render(cmd, secrets, 0)) } else { None };
        let chain = &mut self.chains[node];
        chain.prev_command = if cmd.id.is_none() { Name::new(cmd.name) } else { Name::default() };
        chain.prev_id = cmd.id;
        chain.prev_call = call;
    }

    /// The latencies of command `name` (a new one, past the limit, goes under `(other)`).
    fn command_latency(&mut self, name: &[u8]) -> &mut Histogram {
        let name: &[u8] =
            if self.command_latencies.len() >= MAX_LATENCY_COMMANDS && !self.command_latencies.contains_key(name) {
                b"(other)"
            } else {
                name
            };
        self.command_latencies.entry(name.to_vec()).or_default()
    }

    /// How many slowest calls are kept: `--top`, at most [`MAX_SLOWEST`].
    fn slow_rows(&self) -> usize {
        self.settings.top.min(MAX_SLOWEST)
    }

    /// Whether a call of `gap` on `node`, its `seq()`-th there, would be among the slowest
    /// kept: ranked as [`SlowCall`] orders them, so which are kept does not depend on how the
    /// nodes' calls interleaved (the position is looked up only for a tie).
    #[inline]
    fn would_keep(&self, gap: u64, node: u32, seq: impl FnOnce() -> u64) -> bool {
        let rows = self.slow_rows();
        rows > 0
            && (self.slowest.len() < rows
                || self.slowest.peek().is_some_and(|m| {
                    gap > m.0.gap || gap == m.0.gap && (Reverse(node), Reverse(seq())) > (m.0.node, m.0.seq)
                }))
    }

    fn keep_slow(&mut self, call: SlowCall) {
        self.slowest.push(Reverse(call));
        if self.slowest.len() > self.slow_rows() {
            self.slowest.pop();
        }
    }

    fn render(&self, cmd: &Command<'_>, secrets: &Secrets, gap: u64) -> SlowCall {
        let mut text = Vec::with_capacity(CALL_WIDTH + 8);
        // An unknown command's name is the client's bytes: escaped like any argument.
        escape_truncated(cmd.name, CALL_WIDTH, &mut text);
        // A subcommand's name (`config|set`) holds its second word already.
        let named = if cmd.id.is_some() && cmd.name.contains(&b'|') { 2 } else { 1 };
        for (i, arg) in cmd.args.iter().enumerate().skip(named) {
            if text.len() >= CALL_WIDTH {
                break;
            }
            text.push(b' ');
            if secrets.contains(i) {
                text.extend_from_slice(REDACTED);
            } else {
                escape_truncated(arg, CALL_WIDTH.saturating_sub(text.len()).max(8), &mut text);
            }
        }
        if text.len() > CALL_WIDTH + 8 {
            let mut cut = Vec::new();
            escape_truncated(&text, CALL_WIDTH, &mut cut);
            text = cut;
        }
        SlowCall {
            gap,
            node: Reverse(cmd.node),
            seq: Reverse(self.chains.get(cmd.node as usize).map_or(0, |chain| chain.seq)),
            timestamp: crate::count::name::shown(cmd.header.ts, STAMP_WIDTH),
            client: crate::count::name::shown(cmd.header.client, CLIENT_WIDTH),
            call: String::from_utf8(text).unwrap_or_default(),
        }
    }

    /// An empty `Stats` for the period after this one: the gap chain goes on across the border.
    /// This one keeps its counts in bounded summaries from now on.
    pub fn next_period(&mut self) -> Stats {
        self.per_key.slots.seal();
        let mut next = Stats::new(self.settings.clone());
        next.chains.clone_from(&self.chains);
        next.latencies = self.latencies;
        next
    }

    /// Adds everything `other` counted (another period's counts) to this one.
    pub fn merge(&mut self, other: &Stats) {
        self.tally.merge(&other.tally);
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(if a.micros <= b.micros { a } else { b }),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(if a.micros >= b.micros { a } else { b }),
            (a, b) => a.or(b),
        };
        self.per_key.merge(&other.per_key);
        if self.node_counts.len() < other.node_counts.len() {
            self.node_counts.resize(other.node_counts.len(), 0);
        }
        for (mine, theirs) in self.node_counts.iter_mut().zip(&other.node_counts) {
            *mine += theirs;
        }
        self.command_counts.merge(&other.command_counts);
        self.clients.merge(&other.clients, |_, _| {});
        self.gaps.merge(&other.gaps);
        self.latencies |= other.latencies;
        for (name, latencies) in &other.command_latencies {
            self.command_latency(name).merge(latencies);
        }
        for call in &other.slowest {
            if self.would_keep(call.0.gap, call.0.node.0, || call.0.seq.0) {
                self.keep_slow(call.0.clone());
            }
        }
    }

    /// Ends one node's input: a line that follows on that node has no gap before it.
    pub fn end_of_input(&mut self, node: u32) {
        if let Some(chain) = self.chains.get_mut(node as usize) {
            // The node's positions go on: a call's place among its node's calls is kept.
            *chain = Chain { seq: chain.seq, ..Chain::default() };
        }
    }

    /// Commands per node, as a table keyed by the node number (four bytes, big-endian).
    pub fn nodes(&self) -> TopK {
        let mut table = TopK::new(self.node_counts.len());
        for (node, &count) in self.node_counts.iter().enumerate() {
            if count > 0 {
                table.add(&(node as u32).to_be_bytes(), count);
            }
        }
        table
    }

    /// The slowest calls, slowest first.
    pub fn slowest(&self) -> Vec<SlowCall> {
        let mut calls: Vec<SlowCall> = self.slowest.iter().map(|r| r.0.clone()).collect();
        calls.sort_by(|a, b| b.cmp(a));
        calls
    }
}

/// A key as the command has it: its bytes, or for a key of a line over the reader's limit, its
/// head and (in `long`) its whole length, hash and slot.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub name: &'a [u8],
    pub long: Option<&'a LongArg>,
}

/// One access of a key, ready for the tables.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// The key, or its head when `full_len` is longer.
    pub name: &'a [u8],
    pub full_len: u64,
    pub hash: u64,
    /// The key's hash slot when it is known by its head (the whole key is not at hand); `None`:
    /// the key's entry computes it once.
    pub slot: Option<u16>,
    pub access: Access,
    /// Its share of the request's bytes.
    pub share: u64,
    pub node: u32,
    /// Its share of the reply's bytes and of the latency, of a request read from packets.
    pub reply: Option<(u64, u64)>,
}

/// Calls `f(key, access, share, reply)` for each key of a command: its share of the request's
/// bytes is an even one, and the first key takes the remainder, so the shares add up; `reply`,
/// for a request read from packets with its reply, is its share of the reply's bytes and of the
/// latency (microseconds), shared the same way.
#[inline]
pub fn key_shares(cmd: &Command<'_>, mut f: impl FnMut(Key<'_>, Access, u64, Option<(u64, u64)>)) {
    let reply = || cmd.reply.map(|r| (r.bytes, r.nanos / 1000));
    let key = |key: &crate::commands::KeyRef| Key { name: cmd.args.get(key.pos), long: cmd.args.long(key.pos) };
    let n = match cmd.keys {
        [] => return,
        // Most commands have one key: it takes the whole, with no loop to set up.
        [one] => return f(key(one), one.access, cmd.bytes, reply()),
        keys => keys.len() as u64,
    };
    let split = |total: u64, i: usize| share_of(total, n, i);
    let reply = reply();
    for (i, one) in cmd.keys.iter().enumerate() {
        f(key(one), one.access, split(cmd.bytes, i), reply.map(|(b, l)| (split(b, i), split(l, i))));
    }
}

/// Key `i`'s share of `total` shared among `n` keys: an even one, the first taking the
/// remainder, so the shares add up.
#[inline]
pub fn share_of(total: u64, n: u64, i: usize) -> u64 {
    // Most calls have one key: no division then.
    if n <= 1 {
        total
    } else {
        total / n + if i == 0 { total % n } else { 0 }
    }
}

/// The key up to and including its `depth`-th delimiter; `None` when it has fewer.
pub fn prefix_of<'k>(key: &'k [u8], delimiter: &[u8], depth: usize) -> Option<&'k [u8]> {
    if delimiter.is_empty() || depth == 0 {
        return None;
    }
    let mut end = 0;
    for _ in 0..depth {
        let at = match delimiter {
            [one] => crate::format::scan::find(&key[end..], *one)?,
            _ => bstr::ByteSlice::find(&key[end..], delimiter)?,
        };
        end += at + delimiter.len();
    }
    Some(&key[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::KeyRef;
    use crate::format::monitor::{Args, ArgsStore, Header};

    #[test]
    fn a_key_on_several_nodes_shows_the_lowest_whatever_order_its_lines_came_in() {
        for order in [[2, 0, 1], [0, 2, 1], [1, 2, 0]] {
            let mut seen = KeyAccess::default();
            for node in order {
                seen.seen_on(node);
            }
            assert_eq!((seen.node, seen.many_nodes), (1, true), "{order:?}");
            let (mut a, mut b) = (KeyAccess::default(), KeyAccess::default());
            a.seen_on(order[0]);
            b.seen_on(order[1]);
            b.seen_on(order[2]);
            a.add(&b);
            assert_eq!((a.node, a.many_nodes), (1, true), "joined, {order:?}");
        }
        let mut one = KeyAccess::default();
        one.seen_on(3);
        one.seen_on(3);
        assert_eq!((one.node, one.many_nodes), (4, false));
    }

    /// Counts a call of an unknown command `words[0]` whose key is `words[1]`, keys included.
    fn count(stats: &mut Stats, words: &[&[u8]], client: &[u8], micros: u64, node: u32) {
        let mut store = ArgsStore::default();
        let args = Args::from_words(words, &mut store);
        let keys = [KeyRef { pos: 1, access: Access::Read }];
        let header = Header { ts: b"1.000001", micros, db: b"0", client, node: None };
        let bytes = words[1..].iter().map(|w| w.len() as u64).sum();
        let cmd = Command {
            header,
            args,
            name: words[0],
            id: None,
            keys: &keys,
            node,
            node_label: None,
            bytes,
            reply: None,
            packet: false,
        };
        stats.command(&cmd, &Secrets::default());
        let tables = &mut stats.per_key;
        key_shares(&cmd, |key, access, share, reply| tables.add_with_reply(key, access, share, reply, node));
    }

    #[test]
    fn key_shares_add_up_with_one_key_or_many() {
        let mut store = ArgsStore::default();
        let args = Args::from_words(&[b"mset", b"a", b"1", b"bb", b"2", b"ccc", b"3"], &mut store);
        let all = [
            KeyRef { pos: 1, access: Access::Write },
            KeyRef { pos: 3, access: Access::Read },
            KeyRef { pos: 5, access: Access::Write },
        ];
        let reply = crate::read::capture::PacketReply { bytes: 11, nanos: 7_999 };
        for n in 0..=3 {
            for reply in [None, Some(reply)] {
                let header = Header { ts: b"1.000001", micros: 1, db: b"0", client: b"c", node: None };
                let cmd = Command {
                    header,
                    args,
                    name: b"mset",
                    id: None,
                    keys: &all[..n],
                    node: 0,
                    node_label: None,
                    bytes: 10,
                    reply,
                    packet: reply.is_some(),
                };
                let mut got = Vec::new();
                key_shares(&cmd, |key, access, share, reply| got.push((key.name.to_vec(), access, share, reply)));
                let want: Vec<_> = (0..n)
                    .map(|i| {
                        let (name, access) = (args.get(all[i].pos).to_vec(), all[i].access);
                        let split = |total| share_of(total, n as u64, i);
                        (name, access, split(10), reply.map(|r| (split(r.bytes), split(r.nanos / 1000))))
                    })
                    .collect();
                assert_eq!(got, want, "{n} keys, reply {reply:?}");
                assert_eq!(got.iter().map(|g| g.2).sum::<u64>(), if n > 0 { 10 } else { 0 });
            }
        }
    }

    #[test]
    fn the_slowest_calls_of_several_nodes_do_not_hang_on_how_their_lines_interleaved() {
        // Three nodes, each its calls 5 µs apart (every gap a tie), under both gap rules and with
        // fewer rows than calls: the same slowest calls, in the same order, however the nodes'
        // lines came in (each node's in its own order).
        let calls = |node: u32| (0..8u64).map(move |i| (node, 1_000_000 + 5 * i + u64::from(node)));
        let interleavings: [Vec<(u32, u64)>; 3] = [
            (0..3).flat_map(calls).collect(),
            (0..3).rev().flat_map(calls).collect(),
            (0..8).flat_map(|i| (0..3).map(move |node| (node, 1_000_000 + 5 * i + u64::from(node)))).collect(),
        ];
        for rule in [GapRule::Later, GapRule::Earlier] {
            let slowest = |order: &Vec<(u32, u64)>| {
                let mut stats = Stats::new(Settings::for_tests(100, 1, rule));
                for &(node, micros) in order {
                    let key = format!("n{node}:{micros}");
                    count(&mut stats, &[b"get", key.as_bytes()], b"10.0.0.1:5000", micros, node);
                }
                stats.slowest().into_iter().map(|c| (c.node.0, c.call)).collect::<Vec<_>>()
            };
            let want = slowest(&interleavings[0]);
            assert_eq!(want.len(), 10);
            // The lowest node's calls first, each node's in input order.
            // (A gap is charged to the call after it, or under the earlier rule to the one before.)
            let first = if rule == GapRule::Later { "get n0:1000005" } else { "get n0:1000000" };
            assert_eq!(want[0], (0, first.to_string()), "{rule:?}");
            assert!(want.windows(2).all(|w| w[0].0 <= w[1].0), "{rule:?}: {want:?}");
            for order in &interleavings[1..] {
                assert_eq!(slowest(order), want, "{rule:?}");
            }
        }
    }

    #[test]
    fn no_table_outgrows_its_bound() {
        let mut stats = Stats::new(Settings { prefix_depth: 2, ..Settings::for_tests(1_000, 2, GapRule::Earlier) });
        for i in 0..200_000u64 {
            let key = format!("p{}:{i}:x", i % 5_000);
            let client = format!("10.{}.{}.{}:{}", i % 7, i % 251, i % 253, 1000 + i % 50_000);
            let command = format!("cmd{}", i % 3_000);
            count(
                &mut stats,
                &[command.as_bytes(), key.as_bytes()],
                client.as_bytes(),
                1_000_000 + i * 3 % 1_000,
                (i % 3) as u32,
            );
        }
        assert_eq!(stats.per_key.keys.len(), 1_000);
        assert_eq!(stats.per_key.key_bytes.len(), 500);
        assert_eq!(stats.per_key.prefixes.len(), 250);
        assert_eq!(stats.clients.len(), 250);
        assert_eq!(stats.command_counts.len(), 250);
        assert_eq!(stats.slowest().len(), 10);
        assert_eq!(stats.per_key.keys.total(), 200_000, "every access is counted, kept or not");
    }

    #[test]
    fn long_key_names_stay_within_their_budget() {
        // 20 000 distinct 400-byte keys, and one hot key of the same length that first comes
        // when every entry already holds a long name: the names kept whole take at most 32
        // bytes per entry (each plus its length), the rest are kept by their first 30 bytes,
        // and the hot key is shown whole.
        let mut stats = Stats::new(Settings::for_tests(1_000, 1, GapRule::Later));
        let hot = format!("hot:{}", "h".repeat(396));
        for i in 0..40_000u64 {
            let key = if i >= 20_000 && i % 2 == 0 { hot.clone() } else { format!("k:{i:06}:{}", "x".repeat(391)) };
            count(&mut stats, &[b"get", key.as_bytes()], b"10.0.0.1:5000", 1_000_000 + i, 0);
        }
        fn long_names<E>(entries: &[crate::count::topk::Entry<E>]) -> usize {
            entries.iter().filter(|e| e.key().len() > 30).map(|e| e.key().len() + 16).sum()
        }
        assert!(long_names(stats.per_key.key_bytes.entries()) <= 500 * 32);
        let keys = &stats.per_key.keys;
        assert!(long_names(keys.entries()) <= 1_000 * 32);
        assert!(keys.entries().iter().filter(|e| e.is_cut()).all(|e| e.key().len() == 30 && e.full_len == 400));
        let top = keys.top(1)[0];
        assert_eq!(top.key(), hot.as_bytes(), "the hot key has its whole name");
        assert_eq!(keys.total(), 40_000);
    }

    #[test]
    fn slot_counts_are_exact_live_and_bounded_when_sealed() {
        // 300 distinct slots, slot i counted i + 1 times.
        let keys: Vec<Vec<u8>> = (0..300).map(|i| format!("k{i}").into_bytes()).collect();
        let mut live = SlotCounts::new(100);
        for (i, key) in keys.iter().enumerate() {
            for _ in 0..=i {
                live.add(crate::count::cluster::slot(key));
            }
        }
        let truth = |slot: &[u8]| -> u64 {
            let slot = u16::from_be_bytes([slot[0], slot[1]]);
            keys.iter()
                .enumerate()
                .filter(|(_, k)| crate::count::cluster::slot(k) == slot)
                .map(|(i, _)| i as u64 + 1)
                .sum()
        };
        let exact = live.table();
        assert!(exact.entries().iter().all(|e| e.error == 0 && e.count == truth(e.key())));
        assert_eq!(exact.total(), (1..=300).sum::<u64>());
        let mut sealed = SlotCounts::new(100);
        sealed.merge(&live);
        sealed.seal();
        assert!(sealed.live.is_empty());
        let table = sealed.table();
        assert_eq!(table.len(), 100);
        assert_eq!(table.total(), exact.total());
        assert!(table.floor() > 0 && table.entries().iter().all(|e| e.count >= table.floor()));
        for e in table.entries() {
            assert!(e.count - e.error <= truth(e.key()) && truth(e.key()) <= e.count);
        }
        // The heaviest slots survive the seal with their exact counts.
        assert_eq!(
            table.top(10).iter().map(|e| e.count).collect::<Vec<_>>(),
            exact.top(10).iter().map(|e| e.count).collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_read_of_slot_counts_sees_the_access_held() {
        // The last access is held (its counter is loading) until the next: the table, a merge
        // (into counts empty or not) and a seal each count it all the same.
        let slots = [5u16, 5, 16383, 0, 5];
        for n in 1..=slots.len() {
            let counted = || {
                let mut counts = SlotCounts::new(10);
                slots[..n].iter().for_each(|&slot| counts.add(slot));
                counts
            };
            let check = |table: TopK, times: u64, how: &str| {
                let want = |slot: u16| times * slots[..n].iter().filter(|&&s| s == slot).count() as u64;
                assert_eq!(table.total(), times * n as u64, "{n} accesses, {how}");
                for &slot in &slots[..n] {
                    let at = table.entries().iter().find(|e| e.key() == slot.to_be_bytes());
                    assert_eq!(at.map(|e| e.count), Some(want(slot)), "{n} accesses, {how}");
                }
            };
            check(counted().table(), 1, "table");
            let mut merged = SlotCounts::new(10);
            merged.merge(&counted());
            check(merged.table(), 1, "merged into empty counts");
            merged.merge(&counted());
            check(merged.table(), 2, "merged twice");
            let mut sealed = counted();
            sealed.seal();
            check(sealed.table(), 1, "sealed");
            // Counting goes on after a seal, into a new array.
            slots[..n].iter().for_each(|&slot| sealed.add(slot));
            check(sealed.table(), 2, "sealed, then counted again");
        }
    }

    #[test]
    fn prefixes_by_delimiter_and_depth() {
        assert_eq!(prefix_of(b"user:1000:name", b":", 1), Some(&b"user:"[..]));
        assert_eq!(prefix_of(b"user:1000:name", b":", 2), Some(&b"user:1000:"[..]));
        assert_eq!(prefix_of(b"user:1000:name", b":", 3), None);
        assert_eq!(prefix_of(b"plain", b":", 1), None);
        assert_eq!(prefix_of(b"a::b", b"::", 1), Some(&b"a::"[..]));
        assert_eq!(prefix_of(b":x", b":", 1), Some(&b":"[..]));
    }
}
