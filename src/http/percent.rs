//! Percent-encoding of path and query bytes (behaviour.md §9.2) and the
//! matching percent-decoding.
//!
//! Owns the two escape sets of §9.2 as 256-entry lookup tables built at
//! compile time, so encoding is one table load per byte and runs of bytes
//! that need no escape are copied whole. Decoding turns each valid `%XX`
//! into its byte and keeps everything else literally, `+` included: this is
//! URI percent-decoding, not `application/x-www-form-urlencoded`.
//!
//! It does not know where a value goes (that is the rewrite stage) and does
//! not check that decoded bytes are UTF-8.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

/// Which bytes `encode` escapes (behaviour.md §9.2 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeSet {
    /// PATH: ASCII 0–31, space, 127–255, and `? < > / % # [ \ ] ^ { }`.
    Path,
    /// QUERY: ASCII 0–31, space, 127–255, and `> = < + & % # [ \ ] ^ { }`.
    Query,
    /// Everything but RFC 3986's unreserved `A–Z a–z 0–9 - _ . ~`: the
    /// canonical form of app signing (app-signing.md §2.2, Python
    /// `quote(s, safe='~')`).
    Unreserved,
}

impl EncodeSet {
    /// The set's lookup table: `true` for a byte that becomes `%XX`.
    #[inline]
    fn table(self) -> &'static [bool; 256] {
        match self {
            EncodeSet::Path => &PATH_TABLE,
            EncodeSet::Query => &QUERY_TABLE,
            EncodeSet::Unreserved => &UNRESERVED_TABLE,
        }
    }
}

/// The printable characters PATH escapes on top of controls, space and
/// non-ASCII, exactly as listed in §9.2.
const PATH_SPECIALS: &[u8] = b"?<>/%#[\\]^{}";

/// The printable characters QUERY escapes on top of controls, space and
/// non-ASCII, exactly as listed in §9.2.
const QUERY_SPECIALS: &[u8] = b">=<+&%#[\\]^{}";

static PATH_TABLE: [bool; 256] = escape_table(PATH_SPECIALS);
static QUERY_TABLE: [bool; 256] = escape_table(QUERY_SPECIALS);

static UNRESERVED_TABLE: [bool; 256] = reserved_table();

/// Escapes every byte but `A–Z a–z 0–9 - _ . ~`.
const fn reserved_table() -> [bool; 256] {
    let mut table = [true; 256];
    let mut b = 0;
    while b < table.len() {
        let c = b as u8;
        table[b] = !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.' || c == b'~');
        b += 1;
    }
    table
}

/// Escapes 0–31, space (32), 127–255 and every byte of `specials`.
const fn escape_table(specials: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < table.len() {
        table[b] = b <= 0x20 || b >= 0x7f;
        b += 1;
    }
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
}

/// Marks a byte that is not a hex digit in [`HEX_VALUE`].
const NOT_HEX: u8 = 0xff;

/// Hex digit value of each byte (either case), [`NOT_HEX`] otherwise.
static HEX_VALUE: [u8; 256] = hex_value_table();

const fn hex_value_table() -> [u8; 256] {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
}

/// Upper-case hex digits, as §9.2's example writes them (`%5B`).
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `src` to `out`, each byte of `set` as `%XX` (upper-case hex).
/// `[apig]` → `%5Bapig%5D` in both sets.
pub fn encode(src: &[u8], set: EncodeSet, out: &mut BytesMut) {
    let table = set.table();
    // Most parts need no escape: one pass finds that and copies them.
    if !src.iter().any(|&b| table[usize::from(b)]) {
        out.put_slice(src);
        return;
    }
    let start = out.len();
    let want = encoded_len(src, set);
    out.reserve(want);
    let mut rest = src;
    while let Some(at) = rest.iter().position(|&b| table[usize::from(b)]) {
        let (plain, tail) = rest.split_at(at);
        out.put_slice(plain);
        rest = tail;
        let Some((&b, after)) = rest.split_first() else {
            break;
        };
        put_escaped(b, out);
        rest = after;
    }
    out.put_slice(rest);
    debug_assert_eq!(out.len() - start, want, "encoded_len disagrees");
}

/// Appends `%XX` for `b`.
#[inline]
fn put_escaped(b: u8, out: &mut BytesMut) {
    let hi = HEX_UPPER[usize::from(b >> 4)];
    let lo = HEX_UPPER[usize::from(b & 0x0f)];
    out.put_slice(&[b'%', hi, lo]);
}

/// Bytes `encode` would append.
pub fn encoded_len(src: &[u8], set: EncodeSet) -> usize {
    let table = set.table();
    let escaped = src.iter().filter(|&&b| table[usize::from(b)]).count();
    debug_assert!(escaped <= src.len());
    src.len() + 2 * escaped
}

/// Appends `src` with every valid `%XX` decoded; an invalid `%` sequence is
/// kept literally; `+` is kept (this is path/query percent-decoding, not
/// form decoding).
pub fn decode_into(src: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(src.len());
    let mut rest = src;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        let (plain, tail) = rest.split_at(at);
        out.extend_from_slice(plain);
        rest = tail;
        let Some((b, after)) = next_decoded(rest) else {
            break;
        };
        out.push(b);
        rest = after;
    }
    out.extend_from_slice(rest);
    debug_assert!(out.len() - start <= src.len(), "decoding never grows");
}

/// `src` decoded, borrowed when it holds no `%`.
pub fn decode(src: &[u8]) -> Cow<'_, [u8]> {
    if !src.contains(&b'%') {
        return Cow::Borrowed(src);
    }
    let mut out = Vec::with_capacity(src.len());
    decode_into(src, &mut out);
    Cow::Owned(out)
}

/// The first decoded byte of `src` and the bytes after it: a valid `%XX`
/// gives its byte, any other byte (a lone `%` included) gives itself.
/// `None` when `src` is empty. Lets callers compare decoded bytes without
/// allocating.
#[inline]
pub(crate) fn next_decoded(src: &[u8]) -> Option<(u8, &[u8])> {
    if let [b'%', hi, lo, after @ ..] = src {
        let (hi, lo) = (HEX_VALUE[usize::from(*hi)], HEX_VALUE[usize::from(*lo)]);
        if hi != NOT_HEX && lo != NOT_HEX {
            debug_assert!(hi < 16 && lo < 16, "hex table holds nibbles");
            return Some(((hi << 4) | lo, after));
        }
    }
    src.split_first().map(|(&b, after)| (b, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(src: &[u8], set: EncodeSet) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(src, set, &mut out);
        assert_eq!(out.len(), encoded_len(src, set), "encoded_len of {src:?}");
        out.to_vec()
    }

    fn dec(src: &[u8]) -> Vec<u8> {
        decode(src).into_owned()
    }

    const BOTH: [EncodeSet; 2] = [EncodeSet::Path, EncodeSet::Query];

    #[test]
    fn encode_spec_example_in_both_sets() {
        for set in BOTH {
            assert_eq!(enc(b"[apig]", set), b"%5Bapig%5D");
        }
    }

    #[test]
    fn encode_path_escapes_each_listed_char() {
        for &c in b"?<>/%#[\\]^{} " {
            let want = format!("%{c:02X}");
            assert_eq!(enc(&[c], EncodeSet::Path), want.as_bytes(), "{}", c as char);
        }
    }

    #[test]
    fn encode_query_escapes_each_listed_char() {
        for &c in b">=<+&%#[\\]^{} " {
            let want = format!("%{c:02X}");
            assert_eq!(
                enc(&[c], EncodeSet::Query),
                want.as_bytes(),
                "{}",
                c as char
            );
        }
    }

    #[test]
    fn encode_path_keeps_query_separators() {
        assert_eq!(enc(b"a=b&c+d", EncodeSet::Path), b"a=b&c+d");
    }

    #[test]
    fn encode_query_keeps_slash_and_question_mark() {
        assert_eq!(enc(b"/a/b?c", EncodeSet::Query), b"/a/b?c");
    }

    #[test]
    fn encode_keeps_unreserved() {
        let plain = b"ABCXYZabcxyz0123456789-._~";
        for set in BOTH {
            assert_eq!(enc(plain, set), plain);
        }
    }

    #[test]
    fn encode_escapes_control_and_high_bytes() {
        for set in BOTH {
            assert_eq!(enc(&[0x00, 0x1f, 0x7f, 0xff], set), b"%00%1F%7F%FF");
            assert_eq!(enc(b"\t", set), b"%09");
        }
    }

    #[test]
    fn encode_utf8_bytewise() {
        for set in BOTH {
            assert_eq!(enc("é".as_bytes(), set), b"%C3%A9");
        }
    }

    #[test]
    fn encode_appends_to_existing_output() {
        let mut out = BytesMut::from(&b"/v1/"[..]);
        encode(b"a b", EncodeSet::Path, &mut out);
        assert_eq!(&out[..], b"/v1/a%20b");
    }

    #[test]
    fn encoded_len_counts_three_per_escape() {
        assert_eq!(encoded_len(b"", EncodeSet::Path), 0);
        assert_eq!(encoded_len(b"abc", EncodeSet::Path), 3);
        assert_eq!(encoded_len(b"a/b", EncodeSet::Path), 5);
        assert_eq!(encoded_len(b"a/b", EncodeSet::Query), 3);
        assert_eq!(encoded_len("é=".as_bytes(), EncodeSet::Query), 9);
    }

    #[test]
    fn encode_tables_match_spec_lists() {
        for b in 0..=255u8 {
            let base = b <= 0x20 || b >= 0x7f;
            assert_eq!(
                PATH_TABLE[usize::from(b)],
                base || PATH_SPECIALS.contains(&b)
            );
            assert_eq!(
                QUERY_TABLE[usize::from(b)],
                base || QUERY_SPECIALS.contains(&b)
            );
        }
    }

    #[test]
    fn decode_valid_escapes_either_case() {
        assert_eq!(dec(b"%41"), b"A");
        assert_eq!(dec(b"%4a"), b"J");
        assert_eq!(dec(b"%4A"), b"J");
        assert_eq!(dec(b"x%C3%A9y"), "xéy".as_bytes());
    }

    #[test]
    fn decode_keeps_invalid_escapes() {
        assert_eq!(dec(b"%zz"), b"%zz");
        assert_eq!(dec(b"a%"), b"a%");
        assert_eq!(dec(b"%4"), b"%4");
        assert_eq!(dec(b"%%41"), b"%A");
        assert_eq!(dec(b"%4%41"), b"%4A");
    }

    #[test]
    fn decode_keeps_plus() {
        assert_eq!(dec(b"a+b%2B"), b"a+b+");
    }

    #[test]
    fn decode_borrows_without_percent() {
        assert!(matches!(
            decode(b"plain+text"),
            Cow::Borrowed(b"plain+text")
        ));
        assert!(matches!(decode(b"%41"), Cow::Owned(_)));
    }

    #[test]
    fn decode_into_appends() {
        let mut out = b"k=".to_vec();
        decode_into(b"%5Bv%5D", &mut out);
        assert_eq!(out, b"k=[v]");
    }

    #[test]
    fn decode_inverts_encode() {
        let samples: [&[u8]; 5] = [
            b"[apig]",
            b"a b/c?d=e&f+g%h#i",
            "é ü 日本".as_bytes(),
            &[0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff],
            b"%41%zz%",
        ];
        for set in BOTH {
            for s in samples {
                assert_eq!(dec(&enc(s, set)), s, "{set:?} {s:?}");
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        for set in BOTH {
            assert_eq!(dec(&enc(&all, set)), all);
        }
    }
}
