//! A hint to the CPU to start loading memory that will be read soon: the counting tables are
//! larger than the caches, and a lookup that waits on memory one access at a time is slow.

/// Asks the CPU to start loading the cache line of `value`; no effect where that cannot be said.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults and changes no state the program sees.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
