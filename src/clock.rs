//! The stream's clock: the time a command's MONITOR timestamp stands for when periods are
//! chosen ([`crate::window`]).
//!
//! Periods follow the timestamps while they are plausible: within [`Clock::far`] of the latest
//! time placed (or, for a live stream, of that time plus the wall-clock time since the input
//! last paused). A line far from that is out of order: it is counted in the period under way
//! and does not move the window. When the next line agrees with it (two lines, not one wild
//! one), the stream's clock jumped: a saved capture follows a jump ahead to its timestamps; a
//! live stream, or a capture that went back, goes on from where it was (the wall clock, for a
//! live stream), its timestamps shifted by the jump.

use std::time::Instant;

/// Where a command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// At this time of the stream's clock.
    At(u64),
    /// Far out of order: counted in the period under way, the window not moved.
    OutOfOrder,
}

/// Maps timestamps onto the stream's clock.
pub struct Clock {
    /// What is added to a timestamp since the last jump (0 until one).
    offset: i64,
    /// The latest time placed.
    latest: Option<u64>,
    /// The timestamp of the last line found far out of order, while the next line may say the
    /// stream's clock jumped there.
    candidate: Option<u64>,
    /// How far a timestamp may be from the clock and still be plausible, in microseconds.
    far: u64,
    /// The input is live: the wall clock runs between its lines.
    live: bool,
    /// The latest time when the input last paused, and when that was.
    paused: Option<(u64, Instant)>,
}

/// The least distance that makes a timestamp implausible: a minute.
const MIN_FAR: u64 = 60_000_000;

impl Clock {
    /// A clock for windows of `window` microseconds: a timestamp more than twice that (and more
    /// than a minute) away is implausible.
    pub fn new(window: u64) -> Clock {
        let far = window.saturating_mul(2).max(MIN_FAR);
        Clock { offset: 0, latest: None, candidate: None, far, live: false, paused: None }
    }

    /// The input is live (a silent one was looked at): the wall clock counts.
    pub fn set_live(&mut self) {
        self.live = true;
    }

    /// Places a command's timestamp.
    #[inline]
    pub fn place(&mut self, micros: u64) -> Placed {
        let at = self.shift(micros);
        match self.latest {
            Some(latest) if at.abs_diff(latest) > self.far => self.far_off(micros, at, latest),
            Some(latest) => {
                self.latest = Some(latest.max(at));
                self.candidate = None;
                Placed::At(at)
            }
            None => {
                self.latest = Some(at);
                Placed::At(at)
            }
        }
    }

    #[inline]
    fn shift(&self, micros: u64) -> u64 {
        if self.offset == 0 {
            micros
        } else {
            (micros as i64).saturating_add(self.offset).max(0) as u64
        }
    }

    #[cold]
    #[inline(never)]
    fn far_off(&mut self, micros: u64, at: u64, latest: u64) -> Placed {
        let expected = if self.live { self.now().unwrap_or(latest).max(latest) } else { latest };
        if at.abs_diff(expected) <= self.far {
            // A live stream after a silence: its wall clock ran on.
            self.latest = Some(latest.max(at));
            self.candidate = None;
            return Placed::At(at);
        }
        match self.candidate.take() {
            Some(candidate) if candidate.abs_diff(micros) <= self.far => {
                // Two lines agree: the stream's clock jumped.
                let at = if !self.live && at > expected {
                    at
                } else {
                    self.offset = (expected as i64).saturating_sub(micros as i64);
                    expected
                };
                self.latest = Some(latest.max(at));
                Placed::At(at)
            }
            _ => {
                self.candidate = Some(micros);
                Placed::OutOfOrder
            }
        }
    }

    /// The input paused: from now on the wall clock runs (for a live input).
    pub fn pause(&mut self) {
        self.paused = self.latest.map(|latest| (latest, Instant::now()));
    }

    /// The stream's time now: for a live input, the latest time plus the wall-clock time since
    /// the input last paused; `None` before the first command.
    pub fn now(&mut self) -> Option<u64> {
        let latest = self.latest?;
        let (at, since) = match self.paused {
            Some((at, since)) if at >= latest => (at, since),
            // A command came (held back as an input's first line) after the input last paused.
            _ => *self.paused.insert((latest, Instant::now())),
        };
        Some(at.saturating_add(since.elapsed().as_micros() as u64))
    }

    /// Where the input ended: for a live one, now; for a saved capture, just after its latest
    /// time.
    pub fn end(&mut self) -> Option<u64> {
        if self.live {
            self.now()
        } else {
            self.latest.map(|l| l + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;
    const T: u64 = 1_795_636_306 * S;

    #[test]
    fn one_wild_line_is_out_of_order_and_moves_nothing() {
        let mut clock = Clock::new(10 * S);
        assert_eq!(clock.place(T), Placed::At(T));
        assert_eq!(clock.place(T + 365 * 86_400 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(T + S), Placed::At(T + S));
        assert_eq!(clock.place(T - 3600 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(T + 2 * S), Placed::At(T + 2 * S));
    }

    #[test]
    fn a_capture_follows_a_jump_ahead_and_goes_on_after_a_step_back() {
        let mut clock = Clock::new(10 * S);
        clock.place(T);
        let later = T + 86_400 * S;
        assert_eq!(clock.place(later), Placed::OutOfOrder);
        assert_eq!(clock.place(later + S), Placed::At(later + S));
        // Back an hour, twice: the clock goes on from where it was.
        assert_eq!(clock.place(later - 3600 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(later - 3599 * S), Placed::At(later + S));
        assert_eq!(clock.place(later - 3598 * S), Placed::At(later + 2 * S));
    }

    #[test]
    fn a_live_stream_follows_the_wall_clock_when_its_timestamps_jump() {
        let mut clock = Clock::new(S);
        clock.set_live();
        clock.place(T);
        clock.pause();
        assert_eq!(clock.place(T - 3600 * S), Placed::OutOfOrder);
        let Placed::At(at) = clock.place(T - 3600 * S + 1000) else { panic!("a jump") };
        assert!((T..T + 10 * S).contains(&at), "{at}");
        // Ahead a year, then on: the wall clock again.
        assert_eq!(clock.place(T + 365 * 86_400 * S), Placed::OutOfOrder);
        let Placed::At(at) = clock.place(T + 365 * 86_400 * S + 1) else { panic!("a jump") };
        assert!((T..T + 10 * S).contains(&at), "{at}");
    }
}
