//! Size limits of behaviour.md §3 / §20, complete and unfinished heads.

use super::*;

// --- Limits (behaviour.md §3, §20) ---

fn uri_of(len: usize) -> String {
    format!("/{}", "a".repeat(len - 1))
}

#[test]
fn parse_accepts_uri_at_limit() {
    let uri = uri_of(limits().max_uri_bytes);
    let head = ok(format!("OPTIONS {uri} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    assert_eq!(head.target.len(), limits().max_uri_bytes);
    // Partial (no LF yet) at the limit is still just incomplete.
    let partial = format!("OPTIONS {uri} HTTP/1.1\r");
    assert_eq!(parse(partial.as_bytes()).map(|h| h.is_some()), Ok(false));
}

#[test]
fn parse_rejects_uri_over_limit() {
    let uri = uri_of(limits().max_uri_bytes + 1);
    let raw = format!("GET {uri} HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

#[test]
fn parse_rejects_uri_over_limit_while_partial() {
    let uri = uri_of(limits().max_uri_bytes + REQUEST_LINE_ROOM);
    let raw = format!("GET {uri}");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

#[test]
fn parse_rejects_long_malformed_uri_as_too_long() {
    // Limits come before syntax: an oversized URI is a 414, not a 400.
    let uri = uri_of(limits().max_uri_bytes + REQUEST_LINE_ROOM);
    let raw = format!("GET {uri}\x01 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        parse(raw.as_bytes()).map(|h| h.is_some()),
        Err(ParseError::UriTooLong)
    );
}

/// A header line of exactly `len` bytes (`name + ": " + value`).
fn header_line(name: &str, len: usize) -> String {
    format!("{name}: {}\r\n", "v".repeat(len - name.len() - 2))
}

#[test]
fn parse_accepts_header_at_limit() {
    let max = limits().max_header_bytes;
    let head = ok(&get_with(&header_line("X-Long", max)));
    assert_eq!(
        header_value(&head, "x-long").map(<[u8]>::len),
        Some(max - 8)
    );
}

#[test]
fn parse_rejects_header_over_limit() {
    let max = limits().max_header_bytes;
    let raw = get_with(&header_line("X-Long", max + 1));
    assert_eq!(
        parse(&raw).map(|h| h.is_some()),
        Err(ParseError::HeaderTooLarge)
    );
    // Unterminated: refused before the line ends.
    let partial = &raw[..raw.len() - 3];
    assert_eq!(
        parse(partial).map(|h| h.is_some()),
        Err(ParseError::HeaderTooLarge)
    );
    // At the limit and still unterminated: incomplete.
    let at = get_with(&header_line("X-Long", max));
    assert_eq!(parse(&at[..at.len() - 3]).map(|h| h.is_some()), Ok(false));
}

/// Host (7 bytes) plus lines summing to exactly `total` bytes.
fn headers_totalling(total: usize) -> Vec<u8> {
    let max = limits().max_header_bytes;
    let mut left = total - "Host: a".len();
    let mut extra = String::new();
    let mut i = 0;
    while left > 0 {
        let len = left.min(max);
        extra.push_str(&header_line(&format!("X-{i}"), len));
        left -= len;
        i += 1;
    }
    get_with(&extra)
}

#[test]
fn parse_accepts_headers_at_total_limit() {
    let head = ok(&headers_totalling(limits().max_headers_total_bytes));
    assert_eq!(head.headers.len(), 5);
}

#[test]
fn parse_rejects_headers_over_total_limit() {
    let raw = headers_totalling(limits().max_headers_total_bytes + 1);
    assert_eq!(
        parse(&raw).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
}

#[test]
fn parse_rejects_headers_over_total_limit_while_partial() {
    let raw = headers_totalling(limits().max_headers_total_bytes + HEADER_SECTION_SLACK + 64);
    let partial = &raw[..raw.len() - 2];
    assert_eq!(
        parse(partial).map(|h| h.is_some()),
        Err(ParseError::HeadersTooLarge)
    );
}

#[test]
fn parse_rejects_at_most_as_early_as_a_whole_head() {
    // Feeding a head in growing pieces never refuses what the whole head passes.
    let raw = headers_totalling(limits().max_headers_total_bytes);
    for len in (0..raw.len()).step_by(997) {
        assert_eq!(
            parse(&raw[..len]).map(|h| h.is_some()),
            Ok(false),
            "prefix {len}"
        );
    }
}
