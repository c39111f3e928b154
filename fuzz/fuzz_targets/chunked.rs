//! The chunked scanner never panics and gives the same result however the
//! input is split: whole vs. two pieces cut at a byte-derived position.
//! The same holds for the payload it hands out and for the signature's
//! payload hash taken over it as the pieces arrive (as the pipeline hashes
//! a signed chunked body), which must be the hash of that payload, and for
//! the forwarding decoder: what it passes on (trailer section filtered) is
//! the same however the input is split, and is itself a complete chunked
//! body with the same payload.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tollgate::forward::body::Decoder;
use tollgate::http::BodyFraming;
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

/// What the forwarding decoder passes on for `pieces`, once done.
fn forwarded(pieces: &[&[u8]]) -> Option<Vec<u8>> {
    let mut dec = Decoder::for_request(BodyFraming::Chunked);
    let mut out = Vec::new();
    for piece in pieces {
        let mut buf = BytesMut::from(*piece);
        out.extend_from_slice(&dec.take(&mut buf, u64::MAX).ok()?);
        if dec.is_done() {
            return Some(out);
        }
    }
    None
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
    let passed = forwarded(&[data]);
    assert_eq!(passed, forwarded(&[a, b]));
    if let Some(passed) = passed {
        let again = scan(&[&passed]);
        assert_eq!(again.0, Ok(Some(passed.len())), "a complete body");
        assert_eq!(again.2, whole.2, "the same payload");
    }
});
