//! A hint to the CPU to start loading memory that will be read soon: the counting tables are
//! larger than the caches, and a lookup that waits on memory one access at a time is slow.

/// Asks the CPU to start loading the cache line of `value`; no effect where that cannot be said.
#[inline]
pub fn prefetch<T>(value: &T) {
    prefetch_at((value as *const T).cast::<u8>());
}

/// [`prefetch`] of every cache line `value` spans: a value need not start a line, and one
/// larger than a line, or straddling two, is read in each.
#[inline]
pub fn prefetch_all<T>(value: &T) {
    const LINE: usize = 64;
    let start = (value as *const T).cast::<u8>();
    prefetch_at(start);
    // The next line's start, then each line up to the value's last byte.
    let mut at = LINE - start as usize % LINE;
    while at < std::mem::size_of::<T>() {
        prefetch_at(start.wrapping_add(at));
        at += LINE;
    }
}

#[inline(always)]
fn prefetch_at(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults (whatever the address) and changes no
    // state the program sees.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
