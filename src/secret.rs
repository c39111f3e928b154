//! Random bytes drawn once per process from the operating system's
//! generator, for what must be unpredictable to clients and backends: the
//! request-id key (`request_id`) and the loop token (`policy::hops`).
//!
//! Drawn by the control plane before the workers start (see
//! [`crate::request_id::draw_key`] and [`crate::policy::hops::draw_token`]),
//! so no request waits on the first draw.

/// `N` bytes from the OS generator (aws-lc-rs). Should it fail (it does
/// not on Linux ≥ 3.17), std's per-process random hash keys stand in:
/// still unknown outside the process.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if aws_lc_rs::rand::fill(&mut out).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for chunk in out.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            let bytes = h.finish().to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
        }
    }
    out
}
