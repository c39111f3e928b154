//! The chunked scanner never panics and gives the same result however the
//! input is split: whole vs. two pieces cut at a byte-derived position.
//! The same holds for the payload it hands out and for the signature's
//! payload hash taken over it as the pieces arrive (as the pipeline hashes
//! a signed chunked body), which must be the hash of that payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::http::framing::{ChunkedScanner, FramingError, Scan};
use tollgate::policy::auth::signature::{BodyHash, sha256_hex};

/// Scans `pieces` in turn: `Ok(Some(n))` done after n bytes overall, the
/// payload bytes counted, the payload handed out.
fn scan(pieces: &[&[u8]]) -> (Result<Option<usize>, FramingError>, u64, Vec<u8>) {
    let mut scanner = ChunkedScanner::new();
    let mut payload = Vec::new();
    let mut start = 0;
    for piece in pieces {
        match scanner.scan_payload(piece, |p| payload.extend_from_slice(p)) {
            Ok(Scan::Done(n)) => return (Ok(Some(start + n)), scanner.data_bytes(), payload),
            Ok(Scan::NeedMore) => start += piece.len(),
            Err(e) => return (Err(e), scanner.data_bytes(), payload),
        }
    }
    (Ok(None), scanner.data_bytes(), payload)
}

/// The payload hash over `pieces`, with the outcome of the last scan.
fn hash(pieces: &[&[u8]]) -> (Result<bool, FramingError>, [u8; 64]) {
    let mut scanner = ChunkedScanner::new();
    let mut hash = BodyHash::default();
    for piece in pieces {
        match scanner.scan_payload(piece, |p| hash.update(p)) {
            Ok(Scan::Done(_)) => return (Ok(true), hash.finish()),
            Ok(Scan::NeedMore) => {}
            Err(e) => return (Err(e), hash.finish()),
        }
    }
    (Ok(false), hash.finish())
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| b as usize * data.len() / 256);
    let (a, b) = data.split_at(cut);
    let whole = scan(&[data]);
    assert_eq!(whole.1, whole.2.len() as u64);
    assert_eq!(whole, scan(&[a, b]));
    let hashed = hash(&[data]);
    assert_eq!(hashed, hash(&[a, b]));
    assert_eq!(hashed.1, sha256_hex(&whole.2));
});
