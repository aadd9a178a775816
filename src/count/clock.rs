//! The stream's clock: the time a command's MONITOR timestamp stands for when periods are
//! chosen ([`crate::count::window`]).
//!
//! Periods follow the timestamps while they are plausible: within [`Clock::far`] of the latest
//! time placed (or, for a live stream, of that time plus the wall-clock time since the input
//! last paused). A line far from that is out of order: it is counted in the period under way
//! and does not move the window. When the same node's next line agrees with it (two lines, not
//! one wild one), that node's clock jumped: a saved capture follows a jump ahead to its
//! timestamps; a live stream, or a capture that went back, goes on from where it was (the wall
//! clock, for a live stream), that node's timestamps shifted by the jump. So several nodes
//! whose clocks disagree still share one set of periods.

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
    /// Per node: what is added to its timestamps since its last jump (none until one).
    offsets: Vec<i64>,
    /// The latest time placed.
    latest: Option<u64>,
    /// Per node: the timestamp of its last line found far out of order, while its next line
    /// may say that its clock jumped there.
    candidates: Vec<Option<u64>>,
    /// Some node has a candidate.
    pending: bool,
    /// How far a timestamp may be from the clock and still be plausible, in microseconds.
    far: u64,
    /// The input is live: the wall clock runs between its lines.
    live: bool,
    /// The latest time when the input last paused, and when that was.
    paused: Option<(u64, Instant)>,
}

/// The least distance that makes a timestamp implausible: a minute.
const MIN_FAR: u64 = 60_000_000;

/// The most nodes with a clock of their own (as many as inputs may be read at once); others
/// share the last one's.
const MAX_NODES: usize = 1024;

impl Clock {
    /// A clock for windows of `window` microseconds: a timestamp more than twice that (and more
    /// than a minute) away is implausible.
    pub fn new(window: u64) -> Clock {
        let far = window.saturating_mul(2).max(MIN_FAR);
        Clock {
            offsets: Vec::new(),
            latest: None,
            candidates: Vec::new(),
            pending: false,
            far,
            live: false,
            paused: None,
        }
    }

    /// The input is live: it went silent and was looked at (a pipe that never pauses, `cat
    /// capture |`, is read as the capture it is), so the wall clock counts.
    pub fn set_live(&mut self) {
        self.live = true;
    }

    /// Places the timestamp of a command of `node`.
    #[inline]
    pub fn place(&mut self, node: u32, micros: u64) -> Placed {
        let at = self.shift(node, micros);
        match self.latest {
            Some(latest) if at.abs_diff(latest) > self.far => self.far_off(node, micros, at, latest),
            Some(latest) => {
                self.latest = Some(latest.max(at));
                if self.pending {
                    // A candidate stands for its node's next line only.
                    self.drop_candidate(node);
                }
                Placed::At(at)
            }
            None => {
                self.latest = Some(at);
                Placed::At(at)
            }
        }
    }

    #[inline]
    fn shift(&self, node: u32, micros: u64) -> u64 {
        if self.offsets.is_empty() {
            return micros;
        }
        let offset = self.offsets.get((node as usize).min(MAX_NODES - 1)).copied().unwrap_or(0);
        (micros as i64).saturating_add(offset).max(0) as u64
    }

    #[cold]
    #[inline(never)]
    fn far_off(&mut self, node: u32, micros: u64, at: u64, latest: u64) -> Placed {
        let expected = if self.live { self.now().unwrap_or(latest).max(latest) } else { latest };
        let node = (node as usize).min(MAX_NODES - 1);
        if self.candidates.len() <= node {
            self.candidates.resize(node + 1, None);
        }
        if at.abs_diff(expected) <= self.far {
            // A live stream after a silence: its wall clock ran on.
            self.latest = Some(latest.max(at));
            self.drop_candidate(node as u32);
            return Placed::At(at);
        }
        match self.candidates[node].take() {
            Some(candidate) if candidate.abs_diff(micros) <= self.far => {
                self.pending = self.candidates.iter().any(Option::is_some);
                // Two lines agree: the node's clock jumped.
                let at = if micros.abs_diff(expected) <= self.far {
                    // Back to where the stream's clock is.
                    self.set_offset(node, 0);
                    micros
                } else if !self.live && at > expected {
                    at
                } else {
                    self.set_offset(node, (expected as i64).saturating_sub(micros as i64));
                    expected
                };
                self.latest = Some(latest.max(at));
                Placed::At(at)
            }
            _ => {
                self.candidates[node] = Some(micros);
                self.pending = true;
                Placed::OutOfOrder
            }
        }
    }

    #[cold]
    fn drop_candidate(&mut self, node: u32) {
        if let Some(candidate) = self.candidates.get_mut((node as usize).min(MAX_NODES - 1)) {
            *candidate = None;
        }
        self.pending = self.candidates.iter().any(Option::is_some);
    }

    fn set_offset(&mut self, node: usize, offset: i64) {
        if self.offsets.len() <= node {
            self.offsets.resize(node + 1, 0);
        }
        self.offsets[node] = offset;
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
        assert_eq!(clock.place(0, T), Placed::At(T));
        assert_eq!(clock.place(0, T + 365 * 86_400 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(0, T + S), Placed::At(T + S));
        assert_eq!(clock.place(0, T - 3600 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(0, T + 2 * S), Placed::At(T + 2 * S));
    }

    #[test]
    fn a_capture_follows_a_jump_ahead_and_goes_on_after_a_step_back() {
        let mut clock = Clock::new(10 * S);
        clock.place(0, T);
        let later = T + 86_400 * S;
        assert_eq!(clock.place(0, later), Placed::OutOfOrder);
        assert_eq!(clock.place(0, later + S), Placed::At(later + S));
        // Back an hour, twice: the clock goes on from where it was.
        assert_eq!(clock.place(0, later - 3600 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(0, later - 3599 * S), Placed::At(later + S));
        assert_eq!(clock.place(0, later - 3598 * S), Placed::At(later + 2 * S));
    }

    #[test]
    fn each_node_has_a_clock_of_its_own() {
        let mut clock = Clock::new(10 * S);
        clock.place(0, T);
        // Node 1's clock is an hour behind: after two of its lines, its own shift.
        assert_eq!(clock.place(1, T - 3600 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(1, T - 3599 * S), Placed::At(T));
        assert_eq!(clock.place(0, T + 2 * S), Placed::At(T + 2 * S));
        assert_eq!(clock.place(1, T - 3597 * S), Placed::At(T + 2 * S));
        // A wild line, normal lines, another wild line near the first: no jump.
        assert_eq!(clock.place(0, T + 86_400 * S), Placed::OutOfOrder);
        assert_eq!(clock.place(0, T + 3 * S), Placed::At(T + 3 * S));
        assert_eq!(clock.place(0, T + 86_401 * S), Placed::OutOfOrder);
    }

    #[test]
    fn a_live_stream_follows_the_wall_clock_when_its_timestamps_jump() {
        let mut clock = Clock::new(S);
        clock.set_live();
        clock.place(0, T);
        clock.pause();
        assert_eq!(clock.place(0, T - 3600 * S), Placed::OutOfOrder);
        let Placed::At(at) = clock.place(0, T - 3600 * S + 1000) else { panic!("a jump") };
        assert!((T..T + 10 * S).contains(&at), "{at}");
        // Ahead a year, then on: the wall clock again.
        assert_eq!(clock.place(0, T + 365 * 86_400 * S), Placed::OutOfOrder);
        let Placed::At(at) = clock.place(0, T + 365 * 86_400 * S + 1) else { panic!("a jump") };
        assert!((T..T + 10 * S).contains(&at), "{at}");
    }
}
