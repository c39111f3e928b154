//! Query strings as `key[=value]` pairs, in place.
//!
//! Owns splitting the raw query (the bytes after `?`, without it) on `&`
//! and `=`, and matching a raw key against a parameter name the way
//! behaviour.md §6.5 asks (percent-decoded, not case-sensitive). Pairs are
//! slices of the query, still percent-encoded, with their byte range so a
//! later stage can drop or replace one without re-parsing.
//!
//! It does not decode values, treat `+` as space, or know which parameters
//! an API defines (that is the rewrite stage).

use std::iter::FusedIterator;
use std::ops::Range;

use super::percent;

/// One `key[=value]` pair of a query string, as raw (still percent-encoded)
/// bytes.
///
/// Not `Copy`, because `Range` is not; cloning it copies four words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The bytes before the first `=`, or the whole pair without one. May be
    /// empty (`=v`).
    pub key: &'a [u8],
    /// The bytes after the first `=` (further `=` included); empty when
    /// there is no `=`.
    pub value: &'a [u8],
    /// Whether the pair has an `=` (`a=` has an empty value, `a` has none).
    pub has_value: bool,
    /// Byte range of the whole pair inside the query.
    pub range: Range<usize>,
}

/// Iterator over the pairs of a query; see [`pairs`].
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    query: &'a [u8],
    /// Where the next piece starts; `query.len()` or beyond when done.
    at: usize,
}

/// Pairs split on `&` (empty pieces between `&&` skipped).
pub fn pairs(query: &[u8]) -> Pairs<'_> {
    Pairs { query, at: 0 }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        while self.at < self.query.len() {
            let start = self.at;
            let rest = self.query.get(start..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|&b| b == b'&')
                .map_or(self.query.len(), |n| start + n);
            debug_assert!(
                start <= end && end <= self.query.len(),
                "piece inside the query"
            );
            self.at = end + 1;
            if start < end {
                return Some(self.pair(start..end));
            }
        }
        None
    }
}

impl FusedIterator for Pairs<'_> {}

impl<'a> Pairs<'a> {
    /// Splits the non-empty piece at `range` on its first `=`.
    fn pair(&self, range: Range<usize>) -> Pair<'a> {
        let query: &'a [u8] = self.query;
        let piece = query.get(range.clone()).unwrap_or_default();
        debug_assert!(
            !piece.is_empty() && !piece.contains(&b'&'),
            "one non-empty piece"
        );
        let eq = piece.iter().position(|&b| b == b'=');
        let (key, rest) = piece.split_at(eq.unwrap_or(piece.len()));
        Pair {
            key,
            // Without `=`, the empty value still points into the query (at
            // the piece's end), so callers may turn it back into an offset.
            value: rest.get(1..).unwrap_or(rest),
            has_value: eq.is_some(),
            range,
        }
    }
}

/// Whether a raw key names `name`: the key percent-decoded, compared
/// ASCII-case-insensitively (behaviour.md §6.5: parameter names are not
/// case-sensitive). Never allocates: escapes are decoded while comparing.
pub fn key_is(raw_key: &[u8], name: &[u8]) -> bool {
    if !raw_key.contains(&b'%') {
        return raw_key.eq_ignore_ascii_case(name);
    }
    let mut rest = raw_key;
    for want in name {
        match percent::next_decoded(rest) {
            Some((got, after)) if got.eq_ignore_ascii_case(want) => {
                debug_assert!(after.len() < rest.len(), "decoding consumes input");
                rest = after;
            }
            _ => return false,
        }
    }
    rest.is_empty()
}

/// The raw value of the first pair whose key is `name` (per [`key_is`]).
/// A pair without `=` yields an empty value.
pub fn find<'a>(query: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    pairs(query).find(|p| key_is(p.key, name)).map(|p| p.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"a=1&b&&c=&d=4=5";

    #[test]
    fn a_key_without_value_points_into_the_query() {
        // regression: the empty value of `?b` was a slice outside the query,
        // and an offset computed from it panicked a worker.
        let q = b"x=1&b";
        let v = find(q, b"b").unwrap();
        assert!(v.is_empty());
        let off = v.as_ptr() as usize - q.as_ptr() as usize;
        assert_eq!(off, q.len());
    }

    #[test]
    fn pairs_split_on_ampersand_and_first_equals() {
        let got: Vec<_> = pairs(SAMPLE).collect();
        let want = [
            (&b"a"[..], &b"1"[..], true, 0..3),
            (b"b", b"", false, 4..5),
            (b"c", b"", true, 7..9),
            (b"d", b"4=5", true, 10..15),
        ];
        assert_eq!(got.len(), want.len());
        for (pair, (key, value, has_value, range)) in got.iter().zip(want) {
            assert_eq!(
                (pair.key, pair.value, pair.has_value),
                (key, value, has_value)
            );
            assert_eq!(pair.range, range);
        }
    }

    #[test]
    fn pairs_ranges_slice_back_to_the_pair() {
        for pair in pairs(SAMPLE) {
            let whole = &SAMPLE[pair.range.clone()];
            assert!(whole.starts_with(pair.key));
            assert!(whole.ends_with(pair.value));
            let sep = usize::from(pair.has_value);
            assert_eq!(whole.len(), pair.key.len() + sep + pair.value.len());
        }
    }

    #[test]
    fn pairs_skip_empty_pieces() {
        assert_eq!(pairs(b"").count(), 0);
        assert_eq!(pairs(b"&&&").count(), 0);
        let keys: Vec<_> = pairs(b"&x&").map(|p| p.key).collect();
        assert_eq!(keys, [b"x"]);
    }

    #[test]
    fn pairs_keep_empty_key() {
        let pair = pairs(b"=v").next().unwrap();
        assert_eq!(
            (pair.key, pair.value, pair.has_value),
            (&b""[..], &b"v"[..], true)
        );
    }

    #[test]
    fn pairs_is_fused() {
        let mut it = pairs(b"a");
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }

    #[test]
    fn key_is_ignores_ascii_case() {
        assert!(key_is(b"Page", b"page"));
        assert!(key_is(b"page", b"PAGE"));
        assert!(!key_is(b"pages", b"page"));
        assert!(!key_is(b"pag", b"page"));
    }

    #[test]
    fn key_is_decodes_escapes() {
        assert!(key_is(b"%61", b"a"));
        assert!(key_is(b"%41", b"a"));
        assert!(key_is(b"%61b%63", b"ABC"));
        assert!(key_is(b"f%5Bx%5d", b"f[x]"));
        assert!(!key_is(b"%61", b"%61"));
        assert!(!key_is(b"%61x", b"a"));
    }

    #[test]
    fn key_is_keeps_invalid_escapes() {
        assert!(key_is(b"%zz", b"%zz"));
        assert!(key_is(b"a%", b"A%"));
        assert!(!key_is(b"a%", b"a"));
    }

    #[test]
    fn key_is_keeps_plus() {
        assert!(key_is(b"a+b", b"a+b"));
        assert!(!key_is(b"a+b", b"a b"));
    }

    #[test]
    fn find_returns_first_match() {
        assert_eq!(find(b"x=1&X=2&%78=3", b"x"), Some(&b"1"[..]));
        assert_eq!(find(b"y=0&%58=2&x=3", b"x"), Some(&b"2"[..]));
        assert_eq!(find(SAMPLE, b"D"), Some(&b"4=5"[..]));
        assert_eq!(find(SAMPLE, b"b"), Some(&b""[..]));
        assert_eq!(find(SAMPLE, b"e"), None);
    }
}
