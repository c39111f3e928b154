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
//! at most `limit` per window by the counter's count; a request that read
//! the time just before a boundary is judged in the old window while its
//! neighbours are already in the new one, one request per worker at
//! most, hence `limit + workers`.
//!
//! **Reopening.** A refused worker asks again only when enough of the
//! previous window has slid out for a whole lease to open (or, if that
//! never happens in this window, a single permit): under sustained
//! overload the counter sees about one write per lease, not one per
//! permit that trickles open.

use ahash::AHashMap;

use super::global::Counter;
use super::window::{self, Position};

/// Identifies a lease: the address of what it draws from (a counter, or a
/// per-key table) and the key it counts there (0 for a counter of one
/// key).
pub type LeaseKey = (usize, u64);

/// Most leases a core keeps; beyond it, leases of finished windows are
/// dropped (their permits are lost anyway), then leases of per-key tables
/// (the keys of unbounded cardinality), then any.
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
    /// Unix ms at which `window` ends.
    end_ms: u64,
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

/// One limit as a request meets it: `limit` per `period`, at `now_ms`
/// (in window `window` of that period), shared by `workers`.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    /// Requests per period.
    pub limit: u64,
    /// The period.
    pub period: std::time::Duration,
    /// `now_ms`'s window number in `period`.
    pub window: u64,
    /// Milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// Workers sharing the counter (sizes leases).
    pub workers: u64,
}

impl Ask {
    /// `limit` per `period` at `now_ms`.
    pub fn at(limit: u64, period: std::time::Duration, workers: u64, now_ms: u64) -> Ask {
        Ask {
            limit,
            period,
            window: Position::window_of(now_ms, period),
            now_ms,
            workers,
        }
    }

    /// Permits per lease: `max(1, limit / (100 · workers))`.
    fn lease_size(&self) -> u64 {
        (self.limit / (100 * self.workers.max(1))).max(1)
    }
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
        self.take_from(
            key,
            || (counter, false),
            &Ask::at(limit, period, workers, now_ms),
        )
    }

    /// Takes one permit for `key`; `counter` finds what the lease draws
    /// from, called only when the lease is empty (a per-key table is
    /// probed once per lease, not per request), and says whether many
    /// keys share it (a table's overflow counter): then leases are of one
    /// permit, so no key strands a share of the others' budget. The common path needs the
    /// window number only; the fraction within it (another division) only
    /// when the counter is asked.
    pub fn take_from<'c>(
        &mut self,
        key: LeaseKey,
        counter: impl FnOnce() -> (&'c Counter, bool),
        ask: &Ask,
    ) -> Option<Taken> {
        let window = ask.window;
        if self.leases.len() >= MAX_LEASES && !self.leases.contains_key(&key) {
            self.trim(ask.now_ms);
        }
        let lease = self.leases.entry(key).or_insert(Lease {
            window: window.wrapping_sub(1),
            end_ms: 0,
            left: 0,
            closed_until: 0,
        });
        if lease.window != window {
            // A new window: unspent permits of the old one are void.
            let end_ms = ask.now_ms + Position::ms_to_next(ask.now_ms, ask.period);
            *lease = Lease {
                window,
                end_ms,
                left: 0,
                closed_until: 0,
            };
        }
        debug_assert!(lease.end_ms > ask.now_ms, "a lease of a finished window");
        if lease.left == 0 {
            if ask.now_ms < lease.closed_until {
                return None;
            }
            let (counter, shared) = counter();
            let at = Position::of(ask.now_ms, ask.period);
            let size = if shared { 1 } else { ask.lease_size() };
            let granted = counter.take(ask.limit, at, size);
            if granted == 0 {
                lease.closed_until = closed_until(counter, ask, at, size);
                return None;
            }
            debug_assert!(granted <= size);
            if granted < size {
                // The budget is trickling open: ask next when a whole
                // lease can have opened, not at the next permit.
                lease.closed_until = closed_until(counter, ask, at, size);
            }
            lease.left = granted;
        }
        lease.left -= 1;
        Some(Taken { key, window })
    }

    /// Returns a permit taken for a request another limit refused;
    /// false when its lease is gone (trimmed, or its window ended).
    pub fn give_back(&mut self, taken: Taken) -> bool {
        match self.leases.get_mut(&taken.key) {
            Some(lease) if lease.window == taken.window => {
                lease.left += 1;
                true
            }
            _ => false,
        }
    }

    /// Permits left for `key` under `limit` at `now_ms` (debug headers):
    /// the counter's sliding-window budget plus what this core still
    /// holds in its lease. Other cores' unspent leases count as spent, so
    /// this reads low by at most one lease per other worker.
    pub fn remain(&self, key: LeaseKey, counter: &Counter, ask: &Ask) -> u64 {
        let at = Position::of(ask.now_ms, ask.period);
        let held = (self.leases.get(&key))
            .filter(|l| l.window == at.window)
            .map_or(0, |l| l.left);
        ask.limit.saturating_sub(counter.estimate(at)) + held
    }

    /// Drops leases of finished windows; if that is not enough, leases of
    /// per-key tables; if still not, all of them.
    fn trim(&mut self, now_ms: u64) {
        self.leases.retain(|_, l| l.end_ms > now_ms);
        if self.leases.len() >= MAX_LEASES {
            self.leases.retain(|(_, k), _| *k == 0);
        }
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

/// When asking the counter again can succeed: the point in this window
/// where the previous window has slid out far enough for a whole lease
/// (else for one permit), else the next window.
fn closed_until(counter: &Counter, ask: &Ask, at: Position, size: u64) -> u64 {
    let previous = counter.count(at.window.wrapping_sub(1));
    let current = counter.count(at.window);
    let next_window = ask.now_ms + Position::ms_to_next(ask.now_ms, ask.period);
    let period_ms = window::period_ms(ask.period);
    let start = next_window.saturating_sub(period_ms);
    // The ms from which `need` permits are open: now, later in this
    // window, or (None) not in this window.
    let opening = |need: u64| match window::opens_at(ask.limit, previous, current, need) {
        Some(ppm) if ppm > at.elapsed_ppm => {
            let offset = (u128::from(period_ms) * u128::from(ppm)).div_ceil(1_000_000);
            let ms = start + u64::try_from(offset).unwrap_or(period_ms);
            (ms < next_window).then_some(ms)
        }
        Some(_) => Some(ask.now_ms),
        None => None,
    };
    // A whole lease if it opens in this window, else a single permit
    // (so no worker sleeps through budget it could still spend).
    opening(size).or_else(|| opening(1)).unwrap_or(next_window)
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
    fn a_full_lease_map_drops_finished_then_per_key_leases_first() {
        let counter = Counter::default();
        let mut shard = Shard::default();
        let day = Duration::from_secs(86_400);
        let t0 = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000;
        // A fixed key's lease (key 0) in a day window.
        assert!(
            shard
                .take((1, 0), &counter, 1_000_000, day, 1, t0)
                .is_some()
        );
        // Per-key leases of ten-second windows fill the map.
        let keys: Vec<Counter> = (0..MAX_LEASES).map(|_| Counter::default()).collect();
        for (k, c) in (1..MAX_LEASES as u64).zip(&keys) {
            assert!(shard.take((2, k), c, 1000, PERIOD, 1, t0).is_some());
        }
        assert_eq!(shard.len(), MAX_LEASES);
        // All still live: a newcomer evicts the per-key leases, never the
        // fixed one (whose window numbers are of another period).
        let newcomer = Counter::default();
        assert!(shard.take((3, 7), &newcomer, 1000, PERIOD, 1, t0).is_some());
        assert!(shard.len() <= 2, "{}", shard.len());
        assert!(shard.leases.contains_key(&(1, 0)), "the day lease survives");
        // Finished windows go first: refill, move past their end.
        for (k, c) in (1..MAX_LEASES as u64 - 1).zip(&keys) {
            shard.take((2, k), c, 1000, PERIOD, 1, t0);
        }
        assert_eq!(shard.len(), MAX_LEASES);
        assert!(
            shard
                .take((3, 8), &newcomer, 1000, PERIOD, 1, t0 + 11_000)
                .is_some()
        );
        assert!(shard.leases.contains_key(&(1, 0)));
        assert!(shard.len() <= 3);
    }

    #[test]
    fn under_overload_a_refused_core_asks_again_for_a_whole_lease() {
        // limit 10 000 on 1 worker: leases of 100. After a full window the
        // budget trickles open ten permits per ms; the core asks again
        // only once a lease's worth has opened, so the counter sees at
        // most about two writes per lease (a whole one, then the part
        // that opened while it was spent), not one per 10 permits (1000).
        let counter = Counter::default();
        let mut shard = Shard::default();
        let second = Duration::from_secs(1);
        let w0 = 1_700_000_000_000;
        let mut admitted = 0;
        for ms in 0..1000 {
            for _ in 0..20 {
                admitted += u64::from(
                    shard
                        .take((1, 0), &counter, 10_000, second, 1, w0 + ms)
                        .is_some(),
                );
            }
        }
        assert_eq!(admitted, 10_000);
        let mut writes = 0;
        let mut last = counter.count(w0 / 1000 + 1);
        for ms in 0..1000 {
            for _ in 0..20 {
                shard.take((1, 0), &counter, 10_000, second, 1, w0 + 1000 + ms);
            }
            let now = counter.count(w0 / 1000 + 1);
            writes += u64::from(now != last);
            last = now;
        }
        assert!(
            writes <= 150,
            "{writes} counter writes in the second window"
        );
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
