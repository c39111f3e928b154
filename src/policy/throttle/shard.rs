//! The per-core part of throttling: permits leased from the shared
//! [`Counter`]s, spent locally.
//!
//! A worker asks a counter for a lease of several permits at once and
//! spends them without touching shared memory; only an empty lease goes
//! back to the counter. When the counter refuses (the budget is spent),
//! the worker also remembers until when it cannot open again
//! ([`window::opens_at`]), so refused requests do not touch the counter
//! either. The common path is a hash lookup in this core's own table.
//!
//! **Lease size and the bound.** A lease is at most
//! `max(1, limit / (100 · workers))` permits. Permits leased but unspent
//! when their window ends are lost, at most one lease per worker, so with
//! demand above the limit the gateway admits at least
//! `limit − workers · lease ≥ 0.99 · limit` per window (with a lease of 1
//! a permit is only taken for a request that spends it at once). It admits
//! at most `limit` plus what workers whose clocks read slightly behind
//! still spend from the previous window's last leases: one request each
//! in practice, hence `limit + workers`.

use ahash::AHashMap;

use super::global::Counter;
use super::window::{self, Position};

/// Identifies a lease: the counter's address and the key it counts (a
/// slot of a bounded table may count another key later).
pub type LeaseKey = (usize, u64);

/// Most leases a core keeps; beyond it, leases of finished windows are
/// dropped (their permits are lost anyway), then any.
const MAX_LEASES: usize = 16 * 1024;

/// This core's leases.
#[derive(Debug, Default)]
pub struct Shard {
    leases: AHashMap<LeaseKey, Lease>,
}

/// Permits held for one key in one window, or the time until which its
/// counter is known to refuse.
#[derive(Debug, Clone, Copy)]
struct Lease {
    window: u64,
    left: u64,
    /// Unix ms before which asking the counter again is pointless.
    closed_until: u64,
}

/// What one permit was taken from, to give it back if another limit of
/// the same request refuses.
#[derive(Debug, Clone, Copy)]
pub struct Taken {
    key: LeaseKey,
    window: u64,
}

impl Shard {
    /// Takes one permit for `key` under `limit` at `now_ms`; `None` when
    /// the limit is reached.
    pub fn take(
        &mut self,
        key: LeaseKey,
        counter: &Counter,
        limit: u64,
        period: std::time::Duration,
        workers: u64,
        now_ms: u64,
    ) -> Option<Taken> {
        let window = Position::window_of(now_ms, period);
        self.take_in(key, counter, limit, period, window, workers, now_ms)
    }

    /// [`Shard::take`] with `now_ms`'s window number already known (a
    /// request checking several limits of one period divides once). The
    /// common path needs only the window; the fraction within it (another
    /// division) only when the counter is asked.
    #[allow(clippy::too_many_arguments)] // take's arguments plus the window
    pub fn take_in(
        &mut self,
        key: LeaseKey,
        counter: &Counter,
        limit: u64,
        period: std::time::Duration,
        window: u64,
        workers: u64,
        now_ms: u64,
    ) -> Option<Taken> {
        if self.leases.len() >= MAX_LEASES && !self.leases.contains_key(&key) {
            self.trim(window);
        }
        let lease = self.leases.entry(key).or_insert(Lease {
            window,
            left: 0,
            closed_until: 0,
        });
        if lease.window != window {
            // A new window: unspent permits of the old one are void.
            *lease = Lease {
                window,
                left: 0,
                closed_until: 0,
            };
        }
        if lease.left == 0 {
            if now_ms < lease.closed_until {
                return None;
            }
            let at = Position::of(now_ms, period);
            let size = (limit / (100 * workers.max(1))).max(1);
            let granted = counter.take(limit, at, size);
            if granted == 0 {
                lease.closed_until = closed_until(counter, limit, at, now_ms, period);
                return None;
            }
            lease.left = granted;
        }
        lease.left -= 1;
        Some(Taken { key, window })
    }

    /// Returns a permit taken for a request another limit refused.
    pub fn give_back(&mut self, taken: Taken) {
        if let Some(lease) = self.leases.get_mut(&taken.key)
            && lease.window == taken.window
        {
            lease.left += 1;
        }
    }

    /// Permits left for `key` under `limit` at `now_ms` (debug headers):
    /// the counter's sliding-window budget plus what this core still
    /// holds in its lease. Other cores' unspent leases count as spent, so
    /// this reads low by at most one lease per other worker.
    pub fn remain(
        &self,
        key: LeaseKey,
        counter: &Counter,
        limit: u64,
        period: std::time::Duration,
        now_ms: u64,
    ) -> u64 {
        let at = Position::of(now_ms, period);
        let previous = counter.count(at.window.wrapping_sub(1));
        let current = counter.count(at.window);
        let held = (self.leases.get(&key))
            .filter(|l| l.window == at.window)
            .map_or(0, |l| l.left);
        window::budget(limit, previous, current, at.elapsed_ppm) + held
    }

    /// Drops leases of finished windows; if none is finished, all of them.
    fn trim(&mut self, window: u64) {
        self.leases.retain(|_, l| l.window >= window);
        if self.leases.len() >= MAX_LEASES {
            self.leases.clear();
        }
    }

    /// Leases held (tests).
    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// Whether no lease is held.
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }
}

/// When the counter's budget can next open: the point in this window where
/// the previous window has slid out far enough, else the next window.
fn closed_until(
    counter: &Counter,
    limit: u64,
    at: Position,
    now_ms: u64,
    period: std::time::Duration,
) -> u64 {
    let previous = counter.count(at.window.wrapping_sub(1));
    let current = counter.count(at.window);
    let next_window = now_ms + Position::ms_to_next(now_ms, period);
    match window::opens_at(limit, previous, current) {
        Some(ppm) if ppm > at.elapsed_ppm => {
            let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
            let start = next_window.saturating_sub(period_ms);
            let offset = (u128::from(period_ms) * u128::from(ppm)).div_ceil(1_000_000);
            start + u64::try_from(offset).unwrap_or(period_ms)
        }
        Some(_) => now_ms,
        None => next_window,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const PERIOD: Duration = Duration::from_secs(10);

    #[test]
    fn permits_come_in_leases_and_refusals_are_remembered() {
        let counter = Counter::default();
        let mut shard = Shard::default();
        let key = (1, 1);
        // limit 1000, 2 workers: leases of 5.
        let t0 = 1_000_000;
        assert!(shard.take(key, &counter, 1000, PERIOD, 2, t0).is_some());
        assert_eq!(counter.count(t0 / 10_000), 5, "one lease taken");
        for _ in 0..4 {
            assert!(shard.take(key, &counter, 1000, PERIOD, 2, t0).is_some());
        }
        assert_eq!(counter.count(t0 / 10_000), 5, "spent locally");
        assert!(shard.take(key, &counter, 1000, PERIOD, 2, t0).is_some());
        assert_eq!(counter.count(t0 / 10_000), 10);
    }

    #[test]
    fn a_refused_core_waits_until_the_window_slides() {
        let counter = Counter::default();
        let mut shard = Shard::default();
        let key = (1, 1);
        let w0 = 100_000; // window 10 of 10 s
        for _ in 0..10 {
            assert!(shard.take(key, &counter, 10, PERIOD, 1, w0).is_some());
        }
        assert!(
            shard
                .take(key, &counter, 10, PERIOD, 1, w0 + 5_000)
                .is_none()
        );
        // Next window: the previous 10 weigh fully; 1 permit opens at 10 %.
        let w1 = 110_000;
        assert!(shard.take(key, &counter, 10, PERIOD, 1, w1).is_none());
        assert!(shard.take(key, &counter, 10, PERIOD, 1, w1 + 999).is_none());
        assert!(
            shard
                .take(key, &counter, 10, PERIOD, 1, w1 + 1_000)
                .is_some()
        );
        assert!(
            shard
                .take(key, &counter, 10, PERIOD, 1, w1 + 1_000)
                .is_none()
        );
    }

    #[test]
    fn a_permit_given_back_is_spent_again_locally() {
        let counter = Counter::default();
        let mut shard = Shard::default();
        let taken = shard.take((1, 1), &counter, 1, PERIOD, 1, 0).unwrap();
        assert!(shard.take((1, 1), &counter, 1, PERIOD, 1, 0).is_none());
        shard.give_back(taken);
        assert!(shard.take((1, 1), &counter, 1, PERIOD, 1, 0).is_some());
        assert_eq!(counter.count(0), 1);
    }

    #[test]
    fn two_cores_at_the_limit_admit_within_the_bound() {
        // Two shards alternate requests far above the limit over many
        // windows; each window admits between 0.99·L and L + W.
        let counter = Counter::default();
        let mut shards = [Shard::default(), Shard::default()];
        let limit = 1000;
        let period_ms = 10_000;
        for w in 0..5u64 {
            let mut admitted = 0;
            for step in 0..40_000u64 {
                let now = w * period_ms + step * period_ms / 40_000;
                let shard = &mut shards[(step % 2) as usize];
                if shard
                    .take((9, 9), &counter, limit, PERIOD, 2, now)
                    .is_some()
                {
                    admitted += 1;
                }
            }
            if w > 0 {
                assert!((990..=1002).contains(&admitted), "window {w}: {admitted}");
            }
        }
    }
}
