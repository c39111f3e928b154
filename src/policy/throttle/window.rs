//! The sliding-window algorithm (behaviour.md §13.4, §14), and nothing
//! else: no atomics, no clocks, no keys.
//!
//! Time is cut into fixed windows of one period, numbered from the Unix
//! epoch (so day windows start at 00:00 UTC, §14.5). The count of a sliding
//! window of one period ending now is estimated from the current fixed
//! window's count and the previous one's, weighted by how much of the
//! previous window the sliding window still covers:
//!
//! ```text
//!   estimate(t) = previous · (1 − f) + current      f = elapsed / period
//! ```
//!
//! A request is admitted while `estimate + 1 ≤ limit`, so the budget at
//! `t` is `limit − ⌈previous · (1 − f)⌉ − current`.
//!
//! Behaviour at the edges (tested below with exact fractions):
//! - **Start of a window** (`f = 0`): the previous window weighs fully, so
//!   a window that ended at its limit leaves no budget; the budget then
//!   grows as the previous window slides out, one request per
//!   `period / previous`. There is no burst at the boundary, the weakness
//!   of fixed windows (up to 2·limit across a boundary).
//! - **A quiet previous window**: the whole limit is available at once.
//! - **More than one period idle**: both windows are empty.
//! - **The estimate assumes the previous window's requests were spread
//!   evenly.** If they all came at its very end, a true sliding window
//!   just after the boundary holds them all plus what the budget admits:
//!   at most `limit · (1 + f)` in the worst case, falling back to `limit`
//!   as the previous window slides out. Under steady demand above the
//!   limit every fixed window admits exactly `limit`.

use std::time::Duration;

/// Where `t` (milliseconds since the Unix epoch) falls for a period:
/// the window number and the elapsed fraction in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Window number (`t / period`).
    pub window: u64,
    /// Elapsed part of the window, in millionths (0 ..= 999 999).
    pub elapsed_ppm: u32,
}

impl Position {
    /// The position of `unix_ms` in windows of `period` (at least 1 ms).
    pub fn of(unix_ms: u64, period: Duration) -> Position {
        let period_ms = period_ms(period);
        let window = unix_ms / period_ms;
        let into = unix_ms - window * period_ms;
        // u64 suffices for periods up to 584 years (`into` · 10⁶ < 2⁶⁴).
        let elapsed_ppm = match into.checked_mul(1_000_000) {
            Some(scaled) => scaled / period_ms,
            None => (u128::from(into) * 1_000_000 / u128::from(period_ms)) as u64,
        } as u32;
        Position {
            window,
            elapsed_ppm,
        }
    }

    /// Only the window number of `unix_ms` (one division: the request
    /// path's common case, where no fraction is needed).
    #[inline]
    pub fn window_of(unix_ms: u64, period: Duration) -> u64 {
        unix_ms / period_ms(period)
    }

    /// Milliseconds from `unix_ms` (in this window) to the next window.
    pub fn ms_to_next(unix_ms: u64, period: Duration) -> u64 {
        let period_ms = period_ms(period);
        period_ms - unix_ms % period_ms
    }
}

/// A period in milliseconds, at least 1.
#[inline]
pub(super) fn period_ms(period: Duration) -> u64 {
    u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The previous window's weight at `elapsed_ppm`: `⌈previous · (1 − f)⌉`.
pub fn carried(previous: u64, elapsed_ppm: u32) -> u64 {
    let remaining_ppm = u128::from(1_000_000 - elapsed_ppm.min(1_000_000));
    let scaled = u128::from(previous) * remaining_ppm;
    u64::try_from(scaled.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// Requests still admissible now: `limit − carried − current`, or 0.
pub fn budget(limit: u64, previous: u64, current: u64, elapsed_ppm: u32) -> u64 {
    limit
        .saturating_sub(carried(previous, elapsed_ppm))
        .saturating_sub(current)
}

/// The elapsed fraction (ppm) from which `budget` reaches `need` (≥ 1),
/// given `previous` and `current`; `None` when it never does in this
/// window (`current` is too close to the limit already).
pub fn opens_at(limit: u64, previous: u64, current: u64, need: u64) -> Option<u32> {
    // Need ⌈previous·(1 − f)⌉ ≤ limit − current − need.
    let room = limit.checked_sub(current)?.checked_sub(need.max(1))?;
    if previous <= room {
        return Some(0);
    }
    // previous·(1 − f) ≤ room  ⇔  f ≥ 1 − room/previous.
    let need = 1_000_000u128 - u128::from(room) * 1_000_000 / u128::from(previous);
    u32::try_from(need).ok().filter(|&ppm| ppm < 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn positions_are_aligned_to_the_epoch() {
        assert_eq!(
            Position::of(10_250, SECOND),
            Position {
                window: 10,
                elapsed_ppm: 250_000
            }
        );
        let day = Duration::from_secs(86_400);
        // 2026-11-22 06:00 UTC: a quarter into the day's window.
        let t = 1_795_327_200_000;
        assert_eq!(Position::of(t, day).elapsed_ppm, 250_000);
        assert_eq!(Position::ms_to_next(10_250, SECOND), 750);
    }

    #[test]
    fn a_full_previous_window_leaves_no_burst_at_the_boundary() {
        // limit 10, previous window used all 10.
        assert_eq!(budget(10, 10, 0, 0), 0);
        assert_eq!(budget(10, 10, 0, 99_999), 0);
        assert_eq!(budget(10, 10, 0, 100_000), 1);
        assert_eq!(budget(10, 10, 0, 500_000), 5);
        assert_eq!(budget(10, 10, 5, 500_000), 0);
        assert_eq!(budget(10, 10, 5, 999_999), 4);
    }

    #[test]
    fn a_quiet_previous_window_gives_the_whole_limit() {
        assert_eq!(budget(10, 0, 0, 0), 10);
        assert_eq!(budget(10, 0, 9, 0), 1);
        assert_eq!(budget(10, 0, 10, 0), 0);
        assert_eq!(budget(10, 0, 12, 0), 0, "over-admission saturates");
    }

    #[test]
    fn the_carry_rounds_up() {
        // 3 · (1 − 0.5) = 1.5 → 2: never more than the limit.
        assert_eq!(carried(3, 500_000), 2);
        assert_eq!(carried(3, 0), 3);
        assert_eq!(carried(3, 1_000_000), 0);
    }

    #[test]
    fn the_budget_opens_when_the_previous_window_has_slid_far_enough() {
        assert_eq!(opens_at(10, 10, 0, 1), Some(100_000));
        assert_eq!(opens_at(10, 0, 3, 1), Some(0));
        assert_eq!(opens_at(10, 10, 10, 1), None);
        assert_eq!(opens_at(10, 4, 6, 1), Some(250_000)); // 4·(1 − f) ≤ 3
        assert_eq!(
            opens_at(10, 10, 0, 4),
            Some(400_000),
            "room for a lease of 4"
        );
        assert_eq!(opens_at(10, 4, 6, 5), None, "a lease of 5 never fits");
        let cases = [
            (10, 10, 0),
            (10, 7, 2),
            (100, 95, 30),
            (1, 1, 0),
            (1000, 1000, 0),
        ];
        for (limit, previous, current) in cases {
            for need in [1, 3] {
                if let Some(ppm) = opens_at(limit, previous, current, need) {
                    assert!(budget(limit, previous, current, ppm) >= need);
                    if ppm > 0 {
                        assert!(budget(limit, previous, current, ppm - 1) < need);
                    }
                }
            }
        }
    }

    #[test]
    fn steady_overload_admits_exactly_the_limit_per_window() {
        // One request offered every 1/1000 of a window, limit 100.
        let (limit, steps) = (100u64, 1000u32);
        let mut previous = limit;
        for _ in 0..3 {
            let mut current = 0;
            for step in 0..steps {
                let ppm = step * (1_000_000 / steps);
                if budget(limit, previous, current, ppm) >= 1 {
                    current += 1;
                }
            }
            assert!((limit - 1..=limit).contains(&current), "{current}");
            previous = current;
        }
    }
}
