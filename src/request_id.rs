//! `X-Request-Id` values: 32 lower-case hex characters, unique per request
//! (behaviour.md §19).
//!
//! Each worker owns a generator: the high 64 bits are a per-process random
//! prefix with the worker index in its low 16 bits (so workers never
//! collide), the low 64 bits a bijective mix of a per-worker counter (so a
//! worker never repeats itself and ids do not look sequential). No shared
//! state, no syscalls per request.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

/// One request id, ready to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 32]);

impl RequestId {
    /// The 32 hex characters.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// As a string slice.
    pub fn as_str(&self) -> &str {
        // All bytes come from HEX, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-worker generator.
#[derive(Debug)]
pub struct RequestIdGen {
    prefix: u64,
    counter: Cell<u64>,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl RequestIdGen {
    /// A generator for worker `index`, seeded from the process's random state.
    pub fn new(index: usize) -> Self {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(index);
        h.write_u32(std::process::id());
        let prefix = (mix(h.finish()) & !0xffff) | (index as u64 & 0xffff);
        RequestIdGen {
            prefix,
            counter: Cell::new(0),
        }
    }

    /// The next id.
    #[inline]
    pub fn next_id(&self) -> RequestId {
        let n = self.counter.get().wrapping_add(1);
        self.counter.set(n);
        let mut out = [0u8; 32];
        write_hex(self.prefix, &mut out[..16]);
        write_hex(mix(n), &mut out[16..]);
        RequestId(out)
    }
}

/// splitmix64's finaliser: a bijection on u64.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn write_hex(v: u64, out: &mut [u8]) {
    debug_assert_eq!(out.len(), 16);
    for (i, b) in out.iter_mut().enumerate() {
        *b = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_32_lowercase_hex_and_unique() {
        let a = RequestIdGen::new(0);
        let b = RequestIdGen::new(1);
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            for id in [a.next_id(), b.next_id()] {
                assert_eq!(id.as_bytes().len(), 32);
                assert!(id.as_bytes().iter().all(|c| HEX.contains(c)));
                assert!(seen.insert(id.as_bytes().to_vec()));
            }
        }
    }
}
