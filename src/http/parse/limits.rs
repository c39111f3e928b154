//! Size limits of behaviour.md §3 on request heads: the URI (414), one
//! header line and all header lines (494). The body limit (413) is a
//! framing decision and lives with it in the parent module.
//!
//! Both checks are cheap (searches bounded by the limits) and agree:
//! a partial head is refused only if the completed head would be.

use super::headers::offset;
use super::{HeadLimits, MAX_HEADERS, ParseError};

/// Request-line bytes allowed besides the target: method, two spaces,
/// `HTTP/1.1` and CR, with room for methods longer than `OPTIONS`.
pub(super) const REQUEST_LINE_ROOM: usize = 32;

/// Bytes the header section may hold besides its header lines: a CRLF per
/// line and the blank line.
pub(super) const HEADER_SECTION_SLACK: usize = 2 * MAX_HEADERS + 2;

/// Limits on an incomplete head, so a client cannot make the gateway buffer
/// more than a complete head could hold. Each check fires only when the
/// completed head would fail [`check_complete_limits`] too.
pub(super) fn check_partial_limits(bytes: &[u8], limits: &HeadLimits) -> Result<(), ParseError> {
    let Some(line_end) = bytes.iter().position(|&b| b == b'\n') else {
        if bytes.len() > limits.max_uri_bytes.saturating_add(REQUEST_LINE_ROOM) {
            return Err(ParseError::UriTooLong);
        }
        return Ok(());
    };
    let line_len = line_end + 1;
    if line_end > limits.max_uri_bytes.saturating_add(REQUEST_LINE_ROOM) {
        return Err(ParseError::UriTooLong);
    }
    // The unterminated last line (a trailing CR may still become CRLF).
    let window = bytes
        .len()
        .saturating_sub(limits.max_header_bytes.saturating_add(2))
        .max(line_len);
    let tail = bytes.get(window..).unwrap_or_default();
    let last_line = tail
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(window, |i| window + i + 1);
    debug_assert!(last_line >= line_len && last_line <= bytes.len());
    if bytes.len() - last_line > limits.max_header_bytes.saturating_add(1) {
        return Err(ParseError::HeaderTooLarge);
    }
    let section = bytes.len() - line_len;
    if section
        > limits
            .max_headers_total_bytes
            .saturating_add(HEADER_SECTION_SLACK)
    {
        return Err(ParseError::HeadersTooLarge);
    }
    Ok(())
}

/// Limits on a complete head (behaviour.md §3). A header line is measured
/// from the first byte of its name to the last byte of its value, so
/// `Name: value` counts `name + 2 + value`.
pub(super) fn check_complete_limits(
    head: &[u8],
    target: &str,
    raw: &[httparse::Header<'_>],
    limits: &HeadLimits,
) -> Result<(), ParseError> {
    let line_len = head
        .iter()
        .position(|&b| b == b'\n')
        .map_or(head.len(), |i| i + 1);
    debug_assert!(line_len <= head.len(), "request line inside the head");
    let uri_room = limits.max_uri_bytes.saturating_add(REQUEST_LINE_ROOM);
    if target.len() > limits.max_uri_bytes || line_len.saturating_sub(1) > uri_room {
        return Err(ParseError::UriTooLong);
    }
    let mut total = 0usize;
    for h in raw {
        let start = offset(head, h.name.as_bytes());
        let end = offset(head, h.value) + h.value.len();
        debug_assert!(start < end, "a header line holds at least `name:`");
        let len = end.saturating_sub(start);
        if len > limits.max_header_bytes {
            return Err(ParseError::HeaderTooLarge);
        }
        total = total.saturating_add(len);
    }
    let section = head.len().saturating_sub(line_len);
    if total > limits.max_headers_total_bytes
        || section
            > limits
                .max_headers_total_bytes
                .saturating_add(HEADER_SECTION_SLACK)
    {
        return Err(ParseError::HeadersTooLarge);
    }
    Ok(())
}
