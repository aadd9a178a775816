//! The rolling report sink (`--every`, `--window`): a report per period, written as the stream's
//! clock passes each period's end.
//!
//! The clock is the MONITOR timestamps while they are plausible ([`crate::count::clock`]); a live
//! stream that goes silent still gets its reports, its time read off the last timestamp and the
//! wall-clock time since the input last paused. The key accesses of the period under way are
//! counted on the second core and brought in when the period ends.

use std::io::Write;
use std::time::Instant;

use crate::count::clock::{Clock, Placed};
use crate::count::nodes::NodeState;
use crate::count::offload::Offload;
use crate::count::stats::{key_shares, Settings, Stats, Tally};
use crate::count::window::{Period, WindowFrame, Windows};
use crate::error::Error;
use crate::pipeline::decode::Command;
use crate::pipeline::redact::Secrets;
use crate::read::input::TICK;
use crate::sink::reporter::Reporter;
use crate::sink::Sink;

pub struct RollingReport<W: Write> {
    windows: Windows,
    periods: Periods<W>,
    clock: Clock,
    /// When the input last paused: something came just before.
    quiet: Option<Instant>,
}

/// What the windows ask for as periods end: the key tables of the second core, and the writer.
struct Periods<W: Write> {
    keys: Offload,
    reporter: Reporter<W>,
}

impl<W: Write> Period<Error> for Periods<W> {
    fn complete(&mut self, current: &mut Stats) {
        let tables = self.keys.take(&current.settings);
        current.per_key.absorb(tables);
    }

    fn report(&mut self, stats: &Stats, frame: &WindowFrame<'_>) -> Result<(), Error> {
        self.reporter.write(stats, Some(frame))
    }
}

impl<W: Write> RollingReport<W> {
    /// A report every `every` microseconds, each covering `window`.
    pub fn new(every: u64, window: u64, settings: Settings, reporter: Reporter<W>) -> RollingReport<W> {
        let windows = Windows::new(every, window, settings);
        let keys = Offload::spawn(windows.period_settings().clone());
        let clock = Clock::new(windows.window_len());
        RollingReport { windows, periods: Periods { keys, reporter }, clock, quiet: None }
    }
}

impl<W: Write> Sink for RollingReport<W> {
    fn tally(&mut self) -> &mut Tally {
        &mut self.windows.current().tally
    }

    #[inline]
    fn at(&mut self, node: u32, micros: u64) -> Result<(), Error> {
        match self.clock.place(node, micros) {
            Placed::At(at) => self.windows.advance_to(at, &mut self.periods),
            Placed::OutOfOrder => {
                self.windows.current().tally.out_of_order += 1;
                Ok(())
            }
        }
    }

    #[inline]
    fn command(&mut self, cmd: &Command<'_>, secrets: &Secrets) -> Result<(), Error> {
        self.periods.reporter.learn(cmd);
        self.windows.current().command(cmd, secrets);
        let keys = &mut self.periods.keys;
        key_shares(cmd, |key, access, share, reply| keys.push(key, access, share, reply, cmd.node));
        Ok(())
    }

    fn pause(&mut self) -> Result<(), Error> {
        self.clock.pause();
        self.quiet = Some(Instant::now());
        let tally = self.windows.current().tally;
        self.periods.reporter.paused(&tally)
    }

    /// Reports the periods the stream's clock has run past.
    fn idle(&mut self) -> Result<(), Error> {
        self.clock.set_live();
        let tally = self.windows.current().tally;
        self.periods.reporter.idle(&tally, self.quiet)?;
        let Some(now) = self.clock.now() else { return Ok(()) };
        while self.windows.period_end().is_some_and(|end| now >= end + TICK.as_micros() as u64) {
            self.windows.close(&mut self.periods)?;
        }
        Ok(())
    }

    fn end_of_input(&mut self, node: u32) {
        self.windows.current().end_of_input(node);
    }

    fn node_state(&mut self, node: u32, state: NodeState) {
        self.periods.reporter.node_state(node, state);
    }

    fn notice(&mut self, text: &str) {
        self.periods.reporter.notice(text);
    }

    fn finish(mut self, _warn: &mut dyn Write) -> Result<(), Error> {
        let end = self.clock.end().unwrap_or(0);
        self.windows.finish(end, &mut self.periods)
    }
}
