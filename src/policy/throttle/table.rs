//! Bounded tables of counters for keys of unbounded cardinality (a client
//! IP, a user, a parameter value): behaviour.md §13–§14 limit "per IP" and
//! "per user", and an attacker chooses how many of those there are.
//!
//! A table is a fixed array of slots allocated at load, each a key tag and
//! a [`Counter`]; lookups probe a few slots from the key's hash, lock-free
//! (a tag is claimed with one compare-exchange). Memory never grows.
//!
//! **Eviction policy.** A slot is taken over by another key only when its
//! counter is idle: nothing granted in the current window or the one
//! before. A key that is being counted — one under attack, or over its
//! limit — therefore keeps its slot and its count, whatever other keys
//! arrive; rotating source addresses cannot reset it. When every probed
//! slot is busy, the table has no place for the new key: the caller
//! counts it in an **overflow counter** shared by all such keys of one
//! scope (an API in a stage, or a stage of an API-shared policy) under
//! the same limit: an attacker flooding
//! the table with fresh keys ends up limited as one key, and so may a
//! legitimate newcomer to the same API during such a flood (the price of
//! bounded memory; the table size is the knob).
//!
//! Two keys whose 64-bit hashes collide share a counter, which can only
//! make limits stricter. A worker about to grant from a slot that another
//! key has just taken over may charge one lease to the new key (same
//! direction).

use std::sync::atomic::{AtomicU64, Ordering};

use super::global::Counter;

/// Slots probed from a key's home slot.
const PROBES: usize = 8;

/// One slot: the key's tag (0: free) and its counter.
#[derive(Debug, Default)]
struct Slot {
    tag: AtomicU64,
    counter: Counter,
}

/// A fixed-size table of per-key counters.
#[derive(Debug)]
pub struct KeyTable {
    slots: Box<[Slot]>,
}

impl KeyTable {
    /// A table of `capacity` slots, rounded up to a power of two (at
    /// least [`PROBES`]): probing masks instead of dividing.
    pub fn new(capacity: usize) -> KeyTable {
        let len = capacity.max(PROBES).next_power_of_two();
        let slots = (0..len).map(|_| Slot::default()).collect();
        KeyTable { slots }
    }

    /// The counter for the key with 64-bit hash `hash`, in `window`;
    /// `None` when every probed slot is busy with another key.
    pub fn place(&self, hash: u64, window: u64) -> Option<&Counter> {
        let tag = hash.max(1);
        let mask = self.slots.len() - 1;
        let home = hash as usize & mask;
        let mut idle = None;
        for i in 0..PROBES {
            let Some(slot) = self.slots.get((home + i) & mask) else {
                break;
            };
            let seen = slot.tag.load(Ordering::Acquire);
            if seen == tag {
                return Some(&slot.counter);
            }
            if seen == 0 {
                match slot
                    .tag
                    .compare_exchange(0, tag, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return Some(&slot.counter),
                    Err(now) if now == tag => return Some(&slot.counter),
                    Err(_) => continue,
                }
            }
            if idle.is_none() && slot.counter.is_idle(window) {
                idle = Some((slot, seen));
            }
        }
        if let Some((slot, old)) = idle
            && slot
                .tag
                .compare_exchange(old, tag, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Some(&slot.counter);
        }
        None
    }

    /// The counter the key with `hash` is counted in now, claiming
    /// nothing: its slot, if it has one.
    pub fn peek(&self, hash: u64) -> Option<&Counter> {
        let tag = hash.max(1);
        let mask = self.slots.len() - 1;
        let home = hash as usize & mask;
        (0..PROBES)
            .filter_map(|i| self.slots.get((home + i) & mask))
            .find(|slot| slot.tag.load(Ordering::Acquire) == tag)
            .map(|slot| &slot.counter)
    }

    /// Slots (memory is this many counters, whatever the traffic).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::throttle::window::Position;

    fn at(window: u64) -> Position {
        Position {
            window,
            elapsed_ppm: 0,
        }
    }

    #[test]
    fn a_key_finds_its_own_counter_again() {
        let t = KeyTable::new(64);
        let a = t.place(42, 1).unwrap();
        assert_eq!(a.take(10, at(1), 3), 3);
        assert_eq!(t.place(42, 1).unwrap().count(1), 3);
        assert_eq!(t.peek(42).unwrap().count(1), 3);
        assert_eq!(
            t.place(43, 1).unwrap().count(1),
            0,
            "another key, another counter"
        );
        assert!(t.peek(44).is_none(), "peeking claims nothing");
    }

    #[test]
    fn rotating_keys_cannot_reset_a_busy_key_or_grow_memory() {
        let t = KeyTable::new(64);
        let victim = 7;
        let limit = 5;
        // The attacked key spends its limit in window 10.
        assert_eq!(
            t.place(victim, 10).unwrap().take(limit, at(10), limit),
            limit
        );
        // A flood of fresh keys in the same window: each takes a slot or,
        // once the probed slots are busy, finds none (the caller's
        // overflow counter).
        let mut overflowed = 0;
        for k in 1_000..101_000u64 {
            match t.place(k, 10) {
                Some(c) => _ = c.take(1_000_000, at(10), 1),
                None => overflowed += 1,
            }
        }
        assert!(overflowed > 90_000, "{overflowed}");
        assert_eq!(t.capacity(), 64, "memory is fixed");
        // The attacked key is still at its limit.
        let place = t.place(victim, 10).expect("kept its slot");
        assert_eq!(place.take(limit, at(10), 1), 0);
    }

    #[test]
    fn an_idle_slot_is_reused_by_a_new_key() {
        let t = KeyTable::new(8);
        for k in 1..=8u64 {
            assert_eq!(t.place(k * 8, 1).unwrap().take(10, at(1), 1), 1);
        }
        // All eight slots busy in window 1: a ninth key finds none.
        assert!(t.place(9 * 8, 1).is_none());
        // Two windows later they are idle; the newcomer gets a slot with
        // no count carried over.
        let place = t.place(9 * 8, 3).expect("an idle slot");
        assert_eq!(place.count(3), 0);
        assert_eq!(place.take(10, at(3), 10), 10);
    }
}
