//! The per-worker authorizer result cache (behaviour.md §11.9.4).
//!
//! Keyed by authorizer and identity-source values
//! ([`super::Authorizer::cache_key`]); allow and deny results are cached
//! for the authorizer's `cache_ttl_s`, errors never (§11.9.4 suggestion).
//! Each worker owns its cache, so a result is cached once per core that
//! sees the caller: no cross-core traffic on the request path, at the price
//! of up to one endpoint call per worker per key and TTL.
//!
//! Memory is bounded: at most `capacity` entries, each a 32-byte key
//! digest and a context of at most [`super::MAX_CONTEXT_BYTES`]. When full,
//! the oldest insertion is evicted first (expired or not). An evicted entry
//! only costs another endpoint call; it never lets a request through.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant;

use ahash::AHashMap;

use super::{CacheKey, Outcome};

/// One cached decision.
#[derive(Debug)]
struct Entry {
    outcome: Rc<Outcome>,
    expires: Instant,
    /// Insertion number, to recognise this entry's slot in the FIFO.
    seq: u64,
}

/// A bounded, TTL-expiring map from cache key to decision.
#[derive(Debug)]
pub struct ResultCache {
    map: AHashMap<CacheKey, Entry>,
    /// Insertion order: (seq, key). Slots whose entry was replaced or
    /// removed are stale and skipped.
    order: VecDeque<(u64, CacheKey)>,
    capacity: usize,
    next_seq: u64,
}

impl ResultCache {
    /// An empty cache holding at most `capacity` decisions (zero: caches
    /// nothing).
    pub fn new(capacity: usize) -> Self {
        ResultCache {
            map: AHashMap::new(),
            order: VecDeque::new(),
            capacity,
            next_seq: 0,
        }
    }

    /// The unexpired decision for `key`.
    pub fn get(&mut self, key: &CacheKey, now: Instant) -> Option<Rc<Outcome>> {
        let entry = self.map.get(key)?;
        if now < entry.expires {
            return Some(Rc::clone(&entry.outcome));
        }
        self.map.remove(key);
        None
    }

    /// Caches `outcome` for `key` until `expires`.
    pub fn put(&mut self, key: &CacheKey, outcome: Rc<Outcome>, expires: Instant) {
        if self.capacity == 0 {
            return;
        }
        while self.map.len() >= self.capacity && !self.map.contains_key(key) {
            if !self.evict_oldest() {
                break;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.map.insert(
            *key,
            Entry {
                outcome,
                expires,
                seq,
            },
        );
        self.order.push_back((seq, *key));
        // Replaced keys leave stale slots behind; drop them before the
        // queue outgrows the map by much.
        if self.order.len() > 2 * self.capacity.max(16) {
            let map = &self.map;
            self.order
                .retain(|(seq, key)| map.get(key).is_some_and(|e| e.seq == *seq));
        }
    }

    /// Removes the oldest live entry; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|e| e.seq == seq) {
                self.map.remove(&key);
                return true;
            }
        }
        false
    }

    /// Number of cached decisions (expired ones included until looked up
    /// or evicted).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn start() -> Instant {
        ManualClock::new().now()
    }

    fn allow() -> Rc<Outcome> {
        Rc::new(Outcome {
            allow: true,
            context: vec![("user".into(), "abc".into())].into(),
        })
    }

    fn k(n: u32) -> CacheKey {
        let mut key = [0; 32];
        key[..4].copy_from_slice(&n.to_le_bytes());
        key
    }

    #[test]
    fn a_decision_is_served_until_it_expires() {
        let t0 = start();
        let mut c = ResultCache::new(4);
        c.put(&k(1), allow(), t0 + Duration::from_secs(30));
        assert!(c.get(&k(1), t0 + Duration::from_secs(29)).is_some());
        assert!(c.get(&k(1), t0 + Duration::from_secs(30)).is_none());
        assert!(c.is_empty(), "an expired entry is dropped when looked up");
    }

    #[test]
    fn the_oldest_entry_makes_room_and_memory_stays_bounded() {
        let t0 = start();
        let later = t0 + Duration::from_secs(60);
        let mut c = ResultCache::new(3);
        for i in 0u32..1000 {
            c.put(&k(i), allow(), later);
            assert!(c.len() <= 3);
            assert!(c.order.len() <= 2 * 16 + 1);
        }
        assert!(c.get(&k(999), t0).is_some());
        assert!(c.get(&k(996), t0).is_none());
    }

    #[test]
    fn replacing_a_key_keeps_one_entry() {
        let t0 = start();
        let mut c = ResultCache::new(2);
        for _ in 0..100 {
            c.put(&k(10), allow(), t0 + Duration::from_secs(5));
        }
        c.put(&k(11), allow(), t0 + Duration::from_secs(5));
        assert_eq!(c.len(), 2);
        assert!(c.get(&k(10), t0).is_some() && c.get(&k(11), t0).is_some());
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let t0 = start();
        let mut c = ResultCache::new(0);
        c.put(&k(10), allow(), t0 + Duration::from_secs(5));
        assert!(c.get(&k(10), t0).is_none());
    }
}
