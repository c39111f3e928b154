//! Time for the request path: one clock abstraction so tests can control it
//! (design/style.md §4.9).
//!
//! Hot-path code reads time only through a [`Clock`]. Workers use
//! [`MonotonicClock`]; tests use [`ManualClock`] and move time by hand
//! (governor's `FakeRelativeClock`). monoio's own timers (timeouts) run on the
//! runtime's clock and are not affected by a manual clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of monotonic time, and of wall-clock time where a protocol
/// needs it (the app-signature window, behaviour.md §11.4).
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;

    /// Seconds since the Unix epoch.
    fn unix_now(&self) -> i64;

    /// Milliseconds since the Unix epoch on a monotonic timebase shared by
    /// every worker (throttling windows, behaviour.md §13.4): it never
    /// steps back when the wall clock is set.
    fn unix_ms(&self) -> u64;
}

/// The wall clock read once, at the first [`MonotonicClock::unix_ms`],
/// with the monotonic instant it was read at: every worker derives its
/// Unix milliseconds from this one origin.
static ORIGIN: std::sync::LazyLock<(Instant, u64)> = std::sync::LazyLock::new(|| {
    #[allow(clippy::disallowed_methods)] // the origin of the shared timebase
    let now = Instant::now();
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    (now, unix_ms)
});

/// The operating system's wall clock, in Unix seconds.
fn system_unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The operating system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct MonotonicClock;

impl Clock for MonotonicClock {
    #[inline]
    #[allow(clippy::disallowed_methods)] // the one place that reads the OS clock
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_now(&self) -> i64 {
        system_unix_now()
    }

    #[inline]
    fn unix_ms(&self) -> u64 {
        let (origin, origin_ms) = *ORIGIN;
        let since = self.now().saturating_duration_since(origin);
        origin_ms + u64::try_from(since.as_millis()).unwrap_or(u64::MAX / 2)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    base_unix: i64,
    offset_nanos: AtomicU64,
}

impl ManualClock {
    /// A manual clock starting at the current real instant.
    pub fn new() -> Self {
        ManualClock::at_unix(system_unix_now())
    }

    /// A manual clock whose wall time starts at `unix` seconds.
    pub fn at_unix(unix: i64) -> Self {
        ManualClock {
            base: MonotonicClock.now(),
            base_unix: unix,
            offset_nanos: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + Duration::from_nanos(self.offset_nanos.load(Ordering::Relaxed))
    }

    fn unix_now(&self) -> i64 {
        let secs = self.offset_nanos.load(Ordering::Relaxed) / 1_000_000_000;
        self.base_unix
            .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    fn unix_ms(&self) -> u64 {
        let base = u64::try_from(self.base_unix).unwrap_or(0) * 1_000;
        base + self.offset_nanos.load(Ordering::Relaxed) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1500));
        let wall = ManualClock::at_unix(1_710_491_400);
        wall.advance(Duration::from_secs(901));
        assert_eq!(wall.unix_now(), 1_710_492_301);
        assert_eq!(wall.unix_ms(), 1_710_492_301_000);
        wall.advance(Duration::from_millis(250));
        assert_eq!(wall.unix_ms(), 1_710_492_301_250);
    }
}
