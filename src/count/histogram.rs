//! Percentiles of microsecond values (gaps between lines, measured latencies) in fixed memory.
//!
//! [`Histogram`] is log-linear: values below 128 have a bucket each, larger ones 64 buckets per
//! power of two, so a quantile is within 1/64 relative error of the truth, in a few kilobytes
//! for values up to a second; histograms merge by adding buckets.

/// Percentiles of microsecond values within 1/64 relative error, in fixed memory.
#[derive(Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
}

const EXACT: u64 = 128;
const SUB_BITS: u32 = 6;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram { buckets: Vec::new(), count: 0, sum: 0, min: u64::MAX, max: 0 }
    }

    pub fn record(&mut self, value: u64) {
        let b = bucket_of(value);
        if b >= self.buckets.len() {
            // Grown to the largest value seen (a few kilobytes for gaps up to a second).
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
        self.count += 1;
        self.sum = self.sum.saturating_add(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Histogram) {
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
        self.sum
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0 < q ≤ 1): the smallest recorded value with at least `q` of
    /// all values at or below it, within 1/64. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
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
}
