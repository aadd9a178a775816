//! The report of one regular file read on every core: the file cut into ranges at line starts
//! ([`crate::read::ranges`]), each range read, parsed and counted (keys included, on the same
//! core: nothing is handed between threads) by a pipeline and counts of its own, and the counts
//! joined in file order at the end ([`Stats::join`]).
//!
//! The joined report is the one a single pass gives: the tallies, commands, clients, gaps and
//! their histogram, the slowest calls and the first and last timestamps are the same to the
//! byte, the gap across each range boundary included. The ranges share the memory of one pass
//! as the periods of a window do: each counts into tables of its share of `--max-keys`, joined
//! into tables of the whole that always hold their union, so the key, bytes, prefix, client and
//! unknown-command tables are the same while they count every name exactly, and past that
//! bracket the truth with the bounds the manual states for a file read in ranges. Server errors are said once each, in input
//! order, when the ranges are joined. A range that names nodes (records read back with a node
//! column), that saw more distinct server errors than it counts apart, or that cannot be read,
//! leaves the ranges unjoined: the caller reads the file in one pass instead, so nothing
//! order-bound is ever counted apart.

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::sync::Arc;

use crate::count::ahead::Ahead;
use crate::count::stats::{key_shares, Opening, Settings, Stats, Tally};
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::redact::Secrets;
use crate::pipeline::Pipeline;
use crate::read::input::{piece_event, Event};
use crate::read::lines::{Failed, LineReader};
use crate::read::ranges::RangeReader;
use crate::sink::Sink;
use crate::sys::signal::{self, Stop};

/// The counts of one range.
pub struct RangeCounts {
    stats: Stats,
    /// The range follows another: its first command opens a gap that the join closes.
    continues: bool,
    opening: Option<Opening>,
    /// A command named a node: lines of one input are numbered as they come, so the ranges
    /// cannot be counted apart.
    tangled: bool,
    /// Key accesses not counted yet (see [`Ahead`]): counted into `stats` once read.
    ahead: Ahead,
}

impl Sink for RangeCounts {
    fn tally(&mut self) -> &mut Tally {
        &mut self.stats.tally
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        if cmd.node != 0 || cmd.node_label.is_some() {
            self.tangled = true;
        }
        if self.continues && self.opening.is_none() {
            self.opening = Some(self.stats.opening(cmd, secrets));
        }
        self.stats.command(cmd, secrets);
        let (ahead, tables) = (&mut self.ahead, &mut self.stats.per_key);
        // The access held and the one counted inlined into the pipeline's step, both the closure
        // and the push (either one out of line costs a call per access: 3.7M instructions of a
        // 200k-line half's 239M).
        key_shares(
            cmd,
            #[inline(always)]
            |key, access, share, reply| ahead.push(tables, key, access, share, reply, cmd.node),
        );
        Ok(())
    }

    fn finish(self, _warn: &mut dyn Write) -> Result<(), Error> {
        Ok(())
    }
}

/// One range read: its pipeline, its counts, and what it said on standard error.
struct RangeResult {
    pipeline: Pipeline,
    counts: RangeCounts,
    warned: Vec<u8>,
    /// It could not be read to its end.
    failed: bool,
}

/// Reads `ranges` of `file` (in file order), each on a thread of its own with a pipeline from
/// `pipeline`, and joins what they counted: the pipeline and counts of the whole file, its
/// warnings written to `warn`. The ranges share the memory `settings` give one pass: each
/// counts into tables of its share of `--max-keys`, and the joined tables are of the whole,
/// so they always hold the union. `None` when the ranges cannot be joined (nothing was
/// written: read the file in one pass).
pub fn count(
    file: &Arc<File>,
    ranges: &[Range<u64>],
    pipeline: impl Fn() -> Pipeline,
    settings: &Settings,
    stop: Stop,
    warn: &mut dyn Write,
) -> Option<(Pipeline, Stats)> {
    let whole = settings;
    let settings = &Settings { max_keys: (whole.max_keys / ranges.len()).max(1), ..whole.clone() };
    let threads: Vec<_> = (1..ranges.len())
        .map(|i| {
            let (file, range, pipeline, settings) = (file.clone(), ranges[i].clone(), pipeline(), settings.clone());
            signal::spawn(move || read_range(&file, range, pipeline.continuing(0), settings, stop, true))
        })
        .collect();
    // The first range on this thread, while the others run.
    let first = read_range(file, ranges[0].clone(), pipeline(), settings.clone(), stop, false);
    let later: Vec<Option<RangeResult>> = threads.into_iter().map(|t| t.join().ok()).collect();
    let mut all = [Some(first)].into_iter().chain(later).collect::<Option<Vec<RangeResult>>>()?;
    let apart = |(i, c): (usize, &RangeResult)| i > 0 && !c.pipeline.joinable();
    if all.iter().any(|c| c.failed || c.counts.tangled) || all.iter().enumerate().any(apart) {
        return None;
    }
    let first = all.remove(0);
    let _ = warn.write_all(&first.warned);
    let (mut pipeline, mut stats) = (first.pipeline, Stats::new(whole.clone()));
    stats.join(first.counts.stats, &[]);
    // Ctrl-C: each range stopped where it was, and no gap spans the lines none of them read.
    let bridged = !stop.requested();
    for next in all {
        pipeline.join(next.pipeline, warn);
        let openings: Vec<Opening> = next.counts.opening.into_iter().filter(|_| bridged).collect();
        stats.join(next.counts.stats, &openings);
    }
    Some((pipeline, stats))
}

/// Reads one range to its end (or to Ctrl-C) into counts of its own.
fn read_range(
    file: &Arc<File>,
    range: Range<u64>,
    mut pipeline: Pipeline,
    settings: Settings,
    stop: Stop,
    continues: bool,
) -> RangeResult {
    let mut counts =
        RangeCounts { stats: Stats::new(settings), continues, opening: None, tangled: false, ahead: Ahead::default() };
    let mut warned = Vec::new();
    let input = RangeReader::new(file.clone(), range);
    let read = LineReader::new().stopping(stop).read_all(input, |piece| match piece_event(0, piece) {
        Event::Line(line) => pipeline.line(&line, &mut counts, &mut warned),
        _ => Ok(()),
    });
    // Counting writes nothing, so only a read can fail (and sends the file to one pass); so
    // does a first line still held, its only one (whether it is a fragment is the next
    // range's first line's to say).
    let failed = matches!(read, Err(Failed::Read(..)) | Err(Failed::Consumer(_))) || pipeline.holding(0);
    counts.ahead.flush(&mut counts.stats.per_key);
    RangeResult { pipeline, counts, warned, failed }
}
