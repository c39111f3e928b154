//! The cross-core part of throttling: one [`Counter`] per throttled key,
//! atomics only (architecture.md: cross-core facts use atomics built for
//! the purpose; no `Mutex`, no `RwLock`).
//!
//! A counter holds the counts of two fixed windows in two slots chosen by
//! window parity, each slot one `AtomicU64` packing the window number (low
//! 32 bits) and the count of permits granted in it (high 32 bits). The
//! current window's slot is reset by the first grant that finds an older
//! number in it; the previous window's slot is never written once its
//! window has ended, so reading it needs no coordination with the reset.
//!
//! Workers do not come here per request: they take permits in leases
//! ([`super::shard`]), so a counter sees one atomic read-modify-write per
//! lease, not per request.

use std::sync::atomic::{AtomicU64, Ordering};

use super::window;

/// A [`Counter`] alone on its cache line(s): counters of different keys
/// allocated side by side (an API's, a special tenant's) must not share
/// a line that several cores write.
pub type PaddedCounter = crossbeam_utils::CachePadded<Counter>;

/// The shared counts of one key.
#[derive(Debug, Default)]
pub struct Counter {
    slots: [AtomicU64; 2],
}

/// A slot's value: window number (low 32 bits) and count (high 32 bits).
fn pack(window: u64, count: u64) -> u64 {
    (count.min(u64::from(u32::MAX)) << 32) | (window & 0xffff_ffff)
}

fn unpack(v: u64) -> (u32, u64) {
    ((v & 0xffff_ffff) as u32, v >> 32)
}

impl Counter {
    /// The count granted in `window`, 0 when the slot holds another one.
    /// Window numbers are compared modulo 2³²: a key idle for 2³²
    /// periods (136 years of seconds) could alias.
    pub fn count(&self, window: u64) -> u64 {
        let (w, count) = unpack(self.slot(window).load(Ordering::Acquire));
        if w == window as u32 { count } else { 0 }
    }

    fn slot(&self, window: u64) -> &AtomicU64 {
        &self.slots[(window & 1) as usize]
    }

    /// Grants up to `want` permits in the window at `at` under `limit`
    /// (the sliding-window budget, [`window::budget`]); returns how many
    /// were granted (0 when the budget is spent).
    pub fn take(&self, limit: u64, at: window::Position, want: u64) -> u64 {
        let previous = self.count(at.window.wrapping_sub(1));
        let slot = self.slot(at.window);
        let mut seen = slot.load(Ordering::Acquire);
        loop {
            let (w, count) = unpack(seen);
            // A worker that stalled past two boundaries must not reset a
            // newer window's count back to its own (numbers mod 2³²).
            // (A slot never written holds window 0 and count 0: not newer.)
            if count > 0 && w != at.window as u32 && (w.wrapping_sub(at.window as u32) as i32) > 0 {
                return 0;
            }
            let current = if w == at.window as u32 { count } else { 0 };
            let granted = window::budget(limit, previous, current, at.elapsed_ppm).min(want);
            if granted == 0 {
                return 0;
            }
            let next = pack(at.window, current + granted);
            match slot.compare_exchange_weak(seen, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return granted,
                Err(now) => seen = now,
            }
        }
    }

    /// The sliding-window estimate at `at` (for `remain` in debug headers).
    pub fn estimate(&self, at: window::Position) -> u64 {
        let previous = self.count(at.window.wrapping_sub(1));
        window::carried(previous, at.elapsed_ppm) + self.count(at.window)
    }

    /// Whether nothing was granted in `window` or the one before: the key
    /// is idle, and its slot may be given to another key.
    pub fn is_idle(&self, window: u64) -> bool {
        self.count(window) == 0 && self.count(window.wrapping_sub(1)) == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::throttle::window::Position;

    fn at(window: u64, elapsed_ppm: u32) -> Position {
        Position {
            window,
            elapsed_ppm,
        }
    }

    #[test]
    fn grants_stop_at_the_limit_and_resume_as_the_window_slides() {
        let c = Counter::default();
        assert_eq!(c.take(10, at(5, 0), 4), 4);
        assert_eq!(c.take(10, at(5, 100), 10), 6);
        assert_eq!(c.take(10, at(5, 999_999), 1), 0);
        // Next window: the previous 10 weigh fully at its start.
        assert_eq!(c.take(10, at(6, 0), 1), 0);
        assert_eq!(c.take(10, at(6, 300_000), 10), 3);
        assert_eq!(c.count(6), 3);
        assert_eq!(c.estimate(at(6, 300_000)), 10);
        // Two windows later, everything has slid out.
        assert_eq!(c.take(10, at(8, 0), 10), 10);
        assert!(!c.is_idle(8));
        assert!(c.is_idle(10));
    }

    #[test]
    fn a_stalled_worker_cannot_reset_a_newer_window() {
        let c = Counter::default();
        assert_eq!(c.take(10, at(9, 0), 10), 10);
        // Window 9 is current; a worker still judging window 7 (its slot
        // parity) gets nothing and leaves window 9's count alone.
        assert_eq!(c.take(10, at(7, 500_000), 5), 0);
        assert_eq!(c.count(9), 10);
        // A new counter is never "newer": window numbers past 2³¹ (Unix
        // seconds after 2038) grant as any other.
        let fresh = Counter::default();
        assert_eq!(fresh.take(10, at((1 << 31) | 5, 0), 3), 3);
        assert_eq!(fresh.take(10, at((1 << 32) | 6, 0), 3), 3);
    }

    #[test]
    fn threads_racing_on_one_key_never_exceed_the_limit() {
        let c = Arc::new(Counter::default());
        let granted: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let c = Arc::clone(&c);
                    s.spawn(move || (0..10_000).map(|_| c.take(1000, at(7, 0), 3)).sum::<u64>())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 1000);
        assert_eq!(c.count(7), 1000);
    }
}
