//! Zipf(1.1)-distributed key ranks, the same every run, for tests that need a realistic skew
//! and its exact ground truth (a splitmix64 generator seeded with 7).

/// Draws ranks `0..keys`, rank 0 the commonest.
pub struct Zipf {
    /// The cumulative weights of the ranks (unnormalised).
    cdf: Vec<f64>,
    state: u64,
}

impl Zipf {
    pub fn new(keys: u64) -> Zipf {
        let mut sum = 0.0;
        let cdf = (1..=keys)
            .map(|rank| {
                sum += 1.0 / (rank as f64).powf(1.1);
                sum
            })
            .collect();
        Zipf { cdf, state: 7 }
    }

    /// The next rank.
    pub fn draw(&mut self) -> usize {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let total = self.cdf[self.cdf.len() - 1];
        let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}
