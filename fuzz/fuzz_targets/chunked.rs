//! The chunked scanner never panics and gives the same result however the
//! input is split: whole vs. two pieces cut at a byte-derived position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::http::framing::{ChunkedScanner, Scan};

/// Scans `pieces` in turn: `Ok(Some(n))` done after n bytes overall.
fn scan(
    pieces: &[&[u8]],
) -> (
    Result<Option<usize>, tollgate::http::framing::FramingError>,
    u64,
) {
    let mut scanner = ChunkedScanner::new();
    let mut start = 0;
    for piece in pieces {
        match scanner.scan(piece) {
            Ok(Scan::Done(n)) => return (Ok(Some(start + n)), scanner.data_bytes()),
            Ok(Scan::NeedMore) => start += piece.len(),
            Err(e) => return (Err(e), scanner.data_bytes()),
        }
    }
    (Ok(None), scanner.data_bytes())
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| b as usize * data.len() / 256);
    let (a, b) = data.split_at(cut);
    assert_eq!(scan(&[data]), scan(&[a, b]));
});
