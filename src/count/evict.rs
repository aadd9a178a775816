//! Which entry a full top-k table evicts: always one with the smallest count.
//!
//! [`Candidates`] is a small min-heap of (count when pushed, entry index) holding every entry
//! whose count is below a horizon. Counts only grow, so an increment leaves it alone; a stale
//! top is pushed again with its real count (or dropped, once at the horizon) before anything is
//! evicted, so the evicted entry always has the true minimum. When it runs dry, one scan of the
//! table refills it with the smallest counts: the scan's cost is shared by the many evictions
//! that follow.

/// An entry of a table: what it counts.
pub trait Counted {
    fn count(&self) -> u64;
}

pub struct Candidates {
    heap: Vec<(u64, u32)>,
    horizon: u64,
    /// Scratch space for the scan.
    scan: Vec<(u64, u32)>,
    /// Scratch space for the sample of counts (at most 511).
    sample: Vec<u64>,
}

impl Candidates {
    pub fn new() -> Candidates {
        Candidates { heap: Vec::new(), horizon: 0, scan: Vec::new(), sample: Vec::new() }
    }

    /// Forgets every candidate (the entries were moved around).
    pub fn clear(&mut self) {
        self.heap.clear();
        self.horizon = 0;
    }

    /// Brings an entry of `entries` with the smallest count to the top and returns its index.
    #[inline]
    pub fn true_minimum<T: Counted>(&mut self, entries: &[T]) -> usize {
        loop {
            if self.heap.is_empty() {
                self.refill(entries);
            }
            let (pushed, idx) = self.heap[0];
            let real = entries[idx as usize].count();
            if real == pushed {
                return idx as usize;
            }
            if real < self.horizon {
                self.heap[0].0 = real;
                self.sift_down(0);
            } else {
                self.pop();
            }
        }
    }

    /// The top candidate (from [`Candidates::true_minimum`]) now counts `count`: it stays a
    /// candidate, or goes once at the horizon.
    #[inline]
    pub fn top_counts(&mut self, count: u64) {
        if count < self.horizon {
            self.heap[0].0 = count;
            self.sift_down(0);
        } else {
            self.pop();
        }
    }

    /// The entry most likely evicted next.
    pub fn next(&self) -> Option<usize> {
        self.heap.first().map(|&(_, idx)| idx as usize)
    }

    /// Removes the top candidate.
    #[inline]
    fn pop(&mut self) {
        let last = self.heap.pop().expect("a candidate");
        if !self.heap.is_empty() {
            self.heap[0] = last;
            self.sift_down(0);
        }
    }

    /// Makes the smallest counts (about a sixteenth of the table) the candidates: a sample of
    /// the counts sets the horizon, one pass over the table takes every entry below it. Cheap
    /// enough to run often: the weighted tables (bytes) go through their candidates quickly.
    fn refill<T: Counted>(&mut self, entries: &[T]) {
        const SAMPLES: usize = 256;
        let n = entries.len();
        let stride = (n / SAMPLES).max(1);
        self.sample.clear();
        self.sample.extend(entries.iter().step_by(stride).map(Counted::count));
        let at = self.sample.len() / 16;
        let (_, &mut sampled, _) = self.sample.select_nth_unstable(at);
        self.scan.clear();
        for (i, e) in (0..).zip(entries) {
            let count = e.count();
            if count < sampled {
                self.scan.push((count, i));
            }
        }
        self.horizon = sampled;
        if self.scan.is_empty() {
            // No count is below the sample's, which is the smallest: every entry at it is a
            // candidate.
            self.scan.extend((0..).zip(entries).filter(|(_, e)| e.count() == sampled).map(|(i, e)| (e.count(), i)));
            self.horizon = sampled + 1;
        }
        std::mem::swap(&mut self.heap, &mut self.scan);
        for pos in (0..self.heap.len() / 2).rev() {
            self.sift_down(pos);
        }
    }

    /// Moves the candidate at `pos` down to where it belongs (the smaller child comes up while
    /// it is smaller).
    #[inline]
    fn sift_down(&mut self, mut pos: usize) {
        let heap = &mut self.heap[..];
        let len = heap.len();
        let moving = heap[pos];
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && heap[right].0 < heap[left].0 { right } else { left };
            let up = heap[child];
            if up.0 >= moving.0 {
                break;
            }
            heap[pos] = up;
            pos = child;
        }
        heap[pos] = moving;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(u64);

    impl Counted for Count {
        fn count(&self) -> u64 {
            self.0
        }
    }

    fn next(x: &mut u64) -> u64 {
        *x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *x >> 33
    }

    #[test]
    fn the_victim_always_has_the_smallest_count() {
        // Unit weights over equal counts (every key distinct), skewed counts, byte-like weights;
        // between evictions some entries are counted up, as hits do.
        type Weight = fn(u64) -> u64;
        let cases: [(Vec<u64>, Weight); 4] = [
            (vec![1; 500], |_| 1),
            ((0..500).map(|i| 1 + 1000 / (i + 1)).collect(), |_| 1),
            ((0..300).map(|i| i * 37 % 1000).collect(), |r| 20 + r % 800),
            (vec![5; 50], |r| r % 2),
        ];
        let mut x = 7;
        for (counts, weight) in cases {
            let mut entries: Vec<Count> = counts.into_iter().map(Count).collect();
            let mut c = Candidates::new();
            for round in 0..20_000 {
                for _ in 0..next(&mut x) % 3 {
                    let i = next(&mut x) as usize % entries.len();
                    entries[i].0 += weight(next(&mut x));
                }
                let least = entries.iter().map(|e| e.0).min().unwrap();
                let idx = c.true_minimum(&entries);
                assert_eq!(entries[idx].0, least, "round {round}");
                entries[idx].0 = least + weight(next(&mut x));
                c.top_counts(entries[idx].0);
            }
        }
    }
}
