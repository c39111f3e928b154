//! What one worker lets hostile or merely numerous clients hold (issue 13
//! item 4): a cap on open client connections, and a byte budget for
//! request heads still being read.
//!
//! Owned by the worker thread (plain `Cell`s, no sharing). The process's
//! limits are split evenly between workers; each worker enforces its share.
//!
//! * **Connections.** Past `max_connections`, a newly accepted connection
//!   is closed at once (nginx `worker_connections`, HAProxy `maxconn`), so
//!   the worker never runs out of file descriptors for its upstream
//!   connections; the refusals are counted and logged at most once a
//!   second. Before refusing, the worker closes its longest-idle
//!   keep-alive connection, if it has one, to make room (nginx does the
//!   same), so idle connections alone cannot lock new clients out.
//! * **Head budget.** Every head starts in the connection's 8 KiB read
//!   buffer. Growing it (a head above 8 KiB, up to the size limits) takes
//!   bytes from the worker's budget, given back when the head is complete
//!   or the connection ends. A connection whose head cannot grow within the
//!   budget is closed: 6,000 never-finished 150 KiB heads held 1.7 GB
//!   before; now fat heads hold at most the budget, and small heads never
//!   wait on it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Open-connection cap and head budget of one worker.
#[derive(Debug)]
pub struct Admission {
    max_connections: usize,
    open: Cell<usize>,
    head_budget: usize,
    head_used: Cell<usize>,
    /// When a refusal was last logged, and refusals since.
    last_warning: Cell<Option<Instant>>,
    unlogged: Cell<u64>,
    /// Connections waiting for their next request, longest-idle first
    /// (entries of connections that moved on are skipped).
    idle: RefCell<VecDeque<Weak<IdleMark>>>,
}

/// How often refusals and accept errors are logged at most.
pub const WARN_EVERY: Duration = Duration::from_secs(1);

impl Admission {
    /// A worker's share: at most `max_connections` open client connections
    /// and `head_budget` bytes of growing heads.
    pub fn new(max_connections: usize, head_budget: usize) -> Self {
        Admission {
            max_connections: max_connections.max(1),
            open: Cell::new(0),
            head_budget,
            head_used: Cell::new(0),
            last_warning: Cell::new(None),
            unlogged: Cell::new(0),
            idle: RefCell::new(VecDeque::new()),
        }
    }

    /// A slot at the cap, made by closing the longest-idle keep-alive
    /// connection; `None` when no connection is idle.
    pub fn admit_by_reclaiming(self: &Rc<Self>) -> Option<ConnSlot> {
        loop {
            let oldest = self.idle.borrow_mut().pop_front()?;
            if let Some(mark) = oldest.upgrade() {
                mark.reclaim();
                // Counted at once; the reclaimed connection gives its slot
                // back as it closes.
                self.open.set(self.open.get() + 1);
                return Some(ConnSlot(Rc::clone(self)));
            }
        }
    }

    /// Marks a connection idle between requests until the mark is dropped;
    /// [`IdleMark::reclaimed`] resolves if the worker needs its slot.
    pub fn idle_mark(&self) -> Rc<IdleMark> {
        let mark = Rc::new(IdleMark::default());
        let mut idle = self.idle.borrow_mut();
        // Entries of connections that moved on are dropped as they pile up
        // (at most about two per open connection are kept).
        if idle.len() >= 2 * self.open.get() + 64 {
            idle.retain(|w| w.strong_count() > 0);
        }
        idle.push_back(Rc::downgrade(&mark));
        mark
    }

    /// A slot for a newly accepted connection, or `None` at the cap.
    pub fn admit(self: &Rc<Self>) -> Option<ConnSlot> {
        let open = self.open.get();
        if open >= self.max_connections {
            return None;
        }
        self.open.set(open + 1);
        Some(ConnSlot(Rc::clone(self)))
    }

    /// Client connections open now.
    pub fn open(&self) -> usize {
        self.open.get()
    }

    /// Head bytes lent out now.
    pub fn head_used(&self) -> usize {
        self.head_used.get()
    }

    /// Whether a rate-limited warning may be logged now; when it may, the
    /// number of events since the last one (this one included).
    pub fn should_warn(&self, now: Instant) -> Option<u64> {
        let count = self.unlogged.get() + 1;
        let due = self
            .last_warning
            .get()
            .is_none_or(|t| now.saturating_duration_since(t) >= WARN_EVERY);
        if due {
            self.last_warning.set(Some(now));
            self.unlogged.set(0);
            Some(count)
        } else {
            self.unlogged.set(count);
            None
        }
    }

    /// A lease of head bytes, empty until it grows.
    pub fn head_lease(&self) -> HeadLease<'_> {
        HeadLease {
            admission: self,
            held: 0,
        }
    }
}

/// An idle keep-alive connection's mark (see [`Admission::idle_mark`]).
#[derive(Default)]
pub struct IdleMark {
    reclaimed: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl std::fmt::Debug for IdleMark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdleMark")
            .field("reclaimed", &self.reclaimed.get())
            .finish_non_exhaustive()
    }
}

impl IdleMark {
    fn reclaim(&self) {
        self.reclaimed.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Resolves once the worker has taken this connection's slot back.
    pub fn reclaimed(&self) -> Reclaimed<'_> {
        Reclaimed(self)
    }
}

/// See [`IdleMark::reclaimed`].
#[derive(Debug)]
pub struct Reclaimed<'a>(&'a IdleMark);

impl Future for Reclaimed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.reclaimed.get() {
            return Poll::Ready(());
        }
        self.0.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

/// One open connection; closing it (dropping this) frees the slot.
#[derive(Debug)]
pub struct ConnSlot(Rc<Admission>);

impl ConnSlot {
    /// The worker's admission state.
    pub fn admission(&self) -> &Admission {
        &self.0
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let open = &self.0.open;
        debug_assert!(open.get() > 0, "a slot was counted");
        open.set(open.get().saturating_sub(1));
    }
}

/// Head bytes one connection holds beyond its initial buffer; given back
/// when dropped.
#[derive(Debug)]
pub struct HeadLease<'a> {
    admission: &'a Admission,
    held: usize,
}

impl HeadLease<'_> {
    /// The worker's admission state.
    pub fn admission(&self) -> &Admission {
        self.admission
    }

    /// Holds `total` bytes in all (more or fewer than now); false, holding
    /// what it held, when the budget cannot give the difference.
    pub fn hold(&mut self, total: usize) -> bool {
        let used = self.admission.head_used.get();
        debug_assert!(used >= self.held, "the lease is part of what is used");
        let others = used - self.held;
        if total > self.held && others.saturating_add(total) > self.admission.head_budget {
            return false;
        }
        self.admission.head_used.set(others + total);
        self.held = total;
        true
    }
}

impl Drop for HeadLease<'_> {
    fn drop(&mut self) {
        self.hold(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_past_the_cap_are_refused_until_one_closes() {
        let a = Rc::new(Admission::new(2, 0));
        let one = a.admit().expect("first");
        let _two = a.admit().expect("second");
        assert!(a.admit().is_none());
        drop(one);
        assert!(a.admit().is_some());
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let a = Rc::new(Admission::new(2, 0));
        let first = a.admit().unwrap();
        let second = a.admit().unwrap();
        let busy_then_idle = a.idle_mark();
        drop(busy_then_idle); // moved on to a request: not idle any more
        let idle = a.idle_mark();
        let third = a.admit_by_reclaiming().expect("the idle one makes room");
        assert!(idle.reclaimed.get());
        assert_eq!(a.open(), 3, "until the reclaimed one closes");
        drop(first);
        assert_eq!(a.open(), 2);
        assert!(a.admit_by_reclaiming().is_none(), "nobody idle");
        drop((second, third));
    }

    #[test]
    fn heads_share_the_budget_and_give_it_back() {
        let a = Admission::new(10, 100);
        let mut x = a.head_lease();
        let mut y = a.head_lease();
        assert!(x.hold(60));
        assert!(!y.hold(50), "60 + 50 > 100");
        assert!(y.hold(40));
        assert_eq!(a.head_used(), 100);
        assert!(x.hold(10), "shrinking always works");
        assert!(y.hold(90));
        drop(x);
        drop(y);
        assert_eq!(a.head_used(), 0);
    }

    #[test]
    fn warnings_come_at_most_once_a_second_with_a_count() {
        use crate::clock::{Clock, ManualClock};
        let a = Admission::new(1, 0);
        let t0 = ManualClock::new().now();
        assert_eq!(a.should_warn(t0), Some(1));
        assert_eq!(a.should_warn(t0 + Duration::from_millis(10)), None);
        assert_eq!(a.should_warn(t0 + Duration::from_millis(20)), None);
        assert_eq!(a.should_warn(t0 + WARN_EVERY), Some(3));
    }
}
