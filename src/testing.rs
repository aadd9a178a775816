//! What the unit tests share.

/// The next number of a xorshift64 sequence (Marsaglia's 13, 7, 17), stored back in `state`:
/// random-looking inputs that are the same on every run.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
