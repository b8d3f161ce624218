//! Native-stack safety for recursive algorithms over programs and values.
//!
//! Programs and values can nest arbitrarily deep (a generated program may hold
//! 1,000,000 nested handlers). Every recursive function in the workspace calls
//! [`grow`] at each level: when the remaining native stack is short it switches
//! to a fresh heap-allocated segment, so depth is bounded by memory, not by the
//! thread's stack.

/// Remaining stack below which a new segment is allocated.
const RED_ZONE: usize = 256 * 1024;
/// Size of each new segment.
const SEGMENT: usize = 8 * 1024 * 1024;

/// Run `f`, first moving to a new stack segment if this one is nearly full.
#[inline]
pub fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
