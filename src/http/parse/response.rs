//! Upstream response heads: httparse into spans, framing by RFC 9112
//! §6.3 (strict: anything ambiguous is refused and becomes a 502), and
//! whether the upstream connection may be reused.

use bytes::BytesMut;
use httparse::Status;

use super::headers::Facts;
use super::{
    Delimit, Header, MAX_HEADERS, Malformed, ParseError, ResponseFraming, ResponseHead, Version,
    delimit, headers, map_error, skip_empty_lines, span_of, version_of,
};
use crate::http::{Method, Span};

/// Parses an upstream response head from the front of `buf`.
///
/// `request_method` decides framing for HEAD. `max_head_bytes` bounds the
/// whole head (more → `HeadersTooLarge`).
pub fn parse_response(
    buf: &mut BytesMut,
    max_head_bytes: usize,
    request_method: Method,
) -> Result<Option<ResponseHead>, ParseError> {
    skip_empty_lines(buf);
    let mut headers = Vec::new();
    let Some(parts) = response_parts(buf, max_head_bytes, request_method, &mut headers)? else {
        return Ok(None);
    };
    debug_assert!(parts.head_len <= buf.len(), "head inside the buffer");
    let head = buf.split_to(parts.head_len).freeze();
    debug_assert!(
        parts.reason.end as usize <= head.len(),
        "reason inside the head"
    );
    Ok(Some(ResponseHead {
        buf: head,
        version: parts.version,
        status: parts.status,
        reason: parts.reason,
        headers,
        framing: parts.framing,
        keep_alive: parts.keep_alive,
    }))
}

/// Everything of a [`ResponseHead`] but its bytes and headers.
struct ResponseParts {
    head_len: usize,
    version: Version,
    status: u16,
    reason: Span,
    framing: ResponseFraming,
    keep_alive: bool,
}

fn response_parts(
    bytes: &[u8],
    max_head_bytes: usize,
    request_method: Method,
    out: &mut Vec<Header>,
) -> Result<Option<ResponseParts>, ParseError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut slots);
    let head_len = match res.parse(bytes) {
        Ok(Status::Complete(len)) if len > max_head_bytes => {
            return Err(ParseError::HeadersTooLarge);
        }
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) if bytes.len() > max_head_bytes => {
            return Err(ParseError::HeadersTooLarge);
        }
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(map_error(e, bytes).into()),
    };
    let (Some(minor), Some(status), Some(reason)) = (res.version, res.code, res.reason) else {
        return Err(Malformed::Syntax.into());
    };
    if status < 100 {
        return Err(Malformed::BadStatus.into());
    }
    let head = bytes.get(..head_len).unwrap_or_default();
    debug_assert_eq!(head.len(), head_len, "httparse reports a length inside buf");
    debug_assert!(
        res.headers.len() <= MAX_HEADERS,
        "httparse fills at most the slots"
    );
    let version = version_of(minor);
    out.reserve_exact(res.headers.len());
    let facts = headers::collect(head, res.headers, out)?;
    let framing = response_framing(status, request_method, version, &facts)?;
    Ok(Some(ResponseParts {
        head_len,
        version,
        status,
        reason: reason_span(head, reason),
        framing,
        keep_alive: facts.keeps_alive(version) && framing != ResponseFraming::UntilClose,
    }))
}

/// The reason phrase; httparse hands out a static `""` when it is missing,
/// so that becomes the empty span after `HTTP/1.x NNN`.
fn reason_span(head: &[u8], reason: &str) -> Span {
    const STATUS_LINE_PREFIX: usize = "HTTP/1.1 200".len();
    debug_assert!(
        head.len() >= STATUS_LINE_PREFIX,
        "a head holds its status line"
    );
    if reason.is_empty() {
        Span::new(STATUS_LINE_PREFIX, STATUS_LINE_PREFIX)
    } else {
        span_of(head, reason.as_bytes())
    }
}

/// Response framing (RFC 9112 §6.3), strict: anything ambiguous is refused
/// (the gateway answers 502).
fn response_framing(
    status: u16,
    request_method: Method,
    version: Version,
    facts: &Facts,
) -> Result<ResponseFraming, Malformed> {
    if (100..200).contains(&status)
        || status == 204
        || status == 304
        || request_method == Method::Head
    {
        return Ok(ResponseFraming::Empty);
    }
    match delimit(version, facts)? {
        Delimit::Absent => Ok(ResponseFraming::UntilClose),
        Delimit::Length(0) => Ok(ResponseFraming::Empty),
        Delimit::Length(n) => Ok(ResponseFraming::Length(n)),
        Delimit::Chunked => Ok(ResponseFraming::Chunked),
    }
}
