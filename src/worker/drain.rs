//! Worker-local shutdown signal: set once by the tick task, awaited by the
//! accept loops and the worker's main future. Single-threaded (`Cell`,
//! `RefCell` borrowed only inside `poll`), never shared across cores.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// The signal.
#[derive(Debug, Default)]
pub struct Drain {
    started: Cell<bool>,
    waiters: RefCell<Vec<Option<Waker>>>,
}

impl Drain {
    /// Whether shutdown began.
    pub fn started(&self) -> bool {
        self.started.get()
    }

    /// Begins shutdown and wakes every waiter.
    pub fn start(&self) {
        self.started.set(true);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters.into_iter().flatten() {
            w.wake();
        }
    }

    /// Resolves once shutdown began.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            drain: self,
            slot: None,
        }
    }
}

/// Future of [`Drain::wait`]; keeps one waker slot however often polled.
#[derive(Debug)]
pub struct Wait<'a> {
    drain: &'a Drain,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.drain.started.get() {
            return Poll::Ready(());
        }
        let mut waiters = self.drain.waiters.borrow_mut();
        match self.slot {
            Some(i) if i < waiters.len() => waiters[i] = Some(cx.waker().clone()),
            _ => {
                waiters.push(Some(cx.waker().clone()));
                let i = waiters.len() - 1;
                drop(waiters);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}
