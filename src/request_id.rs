//! `X-Request-Id` values: 32 lower-case hex characters, unique per request
//! (behaviour.md §19) and unpredictable (issue 13 item 7).
//!
//! Each id is one AES-128 block: the worker index and a per-worker counter,
//! encrypted under a key drawn from the operating system's generator once
//! per process. AES is a permutation, so distinct (worker, counter) pairs
//! never collide within a process; without the key an id reveals neither
//! the worker nor how many requests it served, nor the next id. One block
//! encryption per request (AES-NI), no syscall, no shared state.

use std::cell::Cell;
use std::sync::LazyLock;

use aws_lc_rs::cipher::{AES_128, EncryptingKey, UnboundCipherKey};

/// This process's id key: 16 bytes from the OS generator.
static PROCESS_KEY: LazyLock<[u8; 16]> = LazyLock::new(crate::secret::random::<16>);

/// Draws this process's id key now (the control plane, before workers
/// start), so no request waits on it.
pub fn draw_key() {
    LazyLock::force(&PROCESS_KEY);
}

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
pub struct RequestIdGen {
    index: u64,
    key: Option<EncryptingKey>,
    counter: Cell<u64>,
}

impl std::fmt::Debug for RequestIdGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestIdGen")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl RequestIdGen {
    /// A generator for worker `index`, keyed with this process's id key.
    pub fn new(index: usize) -> Self {
        RequestIdGen::with_key(index, &PROCESS_KEY)
    }

    /// A generator keyed with `key` (tests compare processes).
    pub fn with_key(index: usize, key: &[u8; 16]) -> Self {
        let key = UnboundCipherKey::new(&AES_128, key)
            .and_then(EncryptingKey::ecb)
            .ok();
        debug_assert!(key.is_some(), "AES-128 takes a 16-byte key");
        RequestIdGen {
            index: index as u64,
            key,
            counter: Cell::new(0),
        }
    }

    /// The next id.
    #[inline]
    pub fn next_id(&self) -> RequestId {
        let n = self.counter.get().wrapping_add(1);
        self.counter.set(n);
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(&self.index.to_be_bytes());
        block[8..].copy_from_slice(&n.to_be_bytes());
        let encrypted = self.key.as_ref().map(|k| k.encrypt(&mut block));
        if !matches!(encrypted, Some(Ok(_))) {
            // Never seen (AES-ECB on one whole block cannot fail); the
            // (worker, counter) pair is still unique, through a bijection.
            let lo = mix(n ^ mix(self.index));
            block[8..].copy_from_slice(&lo.to_be_bytes());
        }
        let mut out = [0u8; 32];
        for (pair, byte) in out.chunks_exact_mut(2).zip(block) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
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

    // regression: issue 13 item 7 — every process yielded the same low
    // half in the same order, and a worker's ids counted its requests.
    #[test]
    fn processes_with_different_keys_share_no_id_pattern() {
        let one = RequestIdGen::with_key(0, &[1; 16]);
        let two = RequestIdGen::with_key(0, &[2; 16]);
        let ids = |g: &RequestIdGen| {
            (0..1000)
                .map(|_| g.next_id().as_str().to_string())
                .collect::<Vec<_>>()
        };
        let (a, b) = (ids(&one), ids(&two));
        let halves = |v: &[String]| {
            v.iter()
                .map(|s| s[16..].to_string())
                .collect::<HashSet<_>>()
        };
        assert!(halves(&a).is_disjoint(&halves(&b)), "no shared low halves");
        // Nothing stays fixed from one id to the next: no prefix, no worker
        // index in the clear.
        for pair in a.windows(2) {
            assert_ne!(pair[0][..4], pair[1][..4]);
        }
        // The same key and worker give the same sequence (a bijection of
        // the counter), so ids are unique per process by construction.
        let again = RequestIdGen::with_key(0, &[1; 16]);
        assert_eq!(ids(&again), a);
    }
}
