//! Percentiles of microsecond values (gaps between lines, measured latencies) in fixed memory.
//!
//! [`Histogram`] is log-linear: values below 128 have a bucket each, larger ones 64 buckets per
//! power of two, so a quantile is within 1/64 relative error of the truth, in a few kilobytes
//! for values up to a second; histograms merge by adding buckets. A value recorded is first
//! only stored; every [`PENDING`] values go into the buckets together, so the per-line cost of a
//! gap is a store, and the buckets' work is one tight loop.

/// Percentiles of microsecond values within 1/64 relative error, in fixed memory.
#[derive(Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    /// Of the values in the buckets.
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
    /// Values recorded and not yet in the buckets: the first `waiting`.
    pending: [u64; PENDING],
    waiting: usize,
}

/// Values recorded before they go into the buckets.
const PENDING: usize = 16;

const EXACT: u64 = 128;
const SUB_BITS: u32 = 6;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram { buckets: Vec::new(), count: 0, sum: 0, min: u64::MAX, max: 0, pending: [0; PENDING], waiting: 0 }
    }

    #[inline]
    pub fn record(&mut self, value: u64) {
        if let Some(slot) = self.pending.get_mut(self.waiting) {
            *slot = value;
            self.waiting += 1;
        }
        if self.waiting == PENDING {
            self.settle();
        }
    }

    /// Moves the pending values into the buckets.
    fn settle(&mut self) {
        let pending = &self.pending[..self.waiting];
        // Their least, largest and sum first, in one pass (a sum of non-negative values
        // saturates to the same whether added here or one at a time).
        let (mut least, mut top, mut sum) = (u64::MAX, 0, 0u64);
        for &v in pending {
            least = least.min(v);
            top = top.max(v);
            sum = sum.saturating_add(v);
        }
        // Buckets are in the order of their values: the largest value's is the last one needed.
        let last = bucket_of(top);
        if last >= self.buckets.len() {
            // Grown to the largest value seen (a few kilobytes for gaps up to a second).
            self.buckets.resize(last + 1, 0);
        }
        for &v in pending {
            self.buckets[bucket_of(v)] += 1;
        }
        self.count += pending.len() as u64;
        self.sum = self.sum.saturating_add(sum);
        self.min = self.min.min(least);
        self.max = self.max.max(top);
        self.waiting = 0;
    }

    /// The values still pending.
    fn waiting(&self) -> &[u64] {
        &self.pending[..self.waiting]
    }

    pub fn count(&self) -> u64 {
        self.count + self.waiting as u64
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for &v in other.waiting() {
            self.record(v);
        }
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum = self.sum.saturating_add(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn sum(&self) -> u64 {
        self.waiting().iter().fold(self.sum, |sum, &v| sum.saturating_add(v))
    }

    pub fn max(&self) -> u64 {
        self.waiting().iter().fold(self.max, |max, &v| max.max(v))
    }

    /// The value at quantile `q` (0 < q ≤ 1): the smallest recorded value with at least `q` of
    /// all values at or below it, within 1/64. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.waiting > 0 {
            let mut settled = self.clone();
            settled.settle();
            return settled.quantile(q);
        }
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(value_of(bucket).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

fn bucket_of(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // ≥ 7
    let sub = (v >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (EXACT + u64::from(exp - 7) * (1 << SUB_BITS) + sub) as usize
}

/// The midpoint of a bucket's range.
fn value_of(bucket: usize) -> u64 {
    let b = bucket as u64;
    if b < EXACT {
        return b;
    }
    let exp = (b - EXACT) / (1 << SUB_BITS) + 7;
    let sub = (b - EXACT) % (1 << SUB_BITS);
    let low = (1u64 << exp) | (sub << (exp - u64::from(SUB_BITS)));
    let width = 1u64 << (exp - u64::from(SUB_BITS));
    low + width / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_within_bounds() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        for v in 1..=10_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 5000.0), (0.9, 9000.0), (0.99, 9900.0)] {
            let got = h.quantile(q).unwrap() as f64;
            assert!((got - want).abs() / want <= 1.0 / 64.0, "q{q}: {got}");
        }
        assert_eq!(h.quantile(1.0), Some(10_000));
        let mut small = Histogram::new();
        small.record(3);
        assert_eq!(small.quantile(0.5), Some(3));
        assert_eq!(small.quantile(0.99), Some(3));
        let mut big = Histogram::new();
        big.record(u64::MAX);
        assert_eq!(big.quantile(0.5), Some(u64::MAX));
    }

    #[test]
    fn values_pending_count_as_values_in_the_buckets() {
        // Every count of values, so that some are pending at the end: the same answers as one
        // histogram whose values all went into the buckets, merged either way round.
        let values: Vec<u64> = (0..100u64).map(|i| i * i * 37 % 5_000 + i % 3).collect();
        for n in [0, 1, 15, 16, 17, 40, 100] {
            let mut h = Histogram::new();
            for &v in &values[..n] {
                h.record(v);
            }
            let mut settled = h.clone();
            settled.settle();
            assert_eq!(settled.waiting, 0);
            let answers = |h: &Histogram| (h.count(), h.sum(), h.max(), [0.01, 0.5, 0.9, 1.0].map(|q| h.quantile(q)));
            assert_eq!(answers(&h), answers(&settled), "{n} values");
            assert_eq!(h.count(), n as u64);
            assert_eq!(h.sum(), values[..n].iter().sum::<u64>());
            let mut merged = Histogram::new();
            merged.record(7);
            merged.merge(&h);
            let mut want = Histogram::new();
            want.record(7);
            for &v in &values[..n] {
                want.record(v);
            }
            assert_eq!(answers(&merged), answers(&want), "merged, {n} values");
        }
    }

    #[test]
    fn a_sum_past_the_largest_value_saturates_however_it_is_settled() {
        let mut h = Histogram::new();
        for v in [u64::MAX - 1, 5, 7] {
            h.record(v);
        }
        assert_eq!(h.sum(), u64::MAX, "pending");
        for _ in 0..PENDING {
            h.record(u64::MAX / 8);
        }
        assert_eq!(h.waiting, 3, "sixteen settled");
        assert_eq!((h.sum(), h.min, h.max()), (u64::MAX, 5, u64::MAX - 1));
        assert_eq!(h.count(), 3 + PENDING as u64);
    }
}
