//! Request and response heads: httparse into offsets, framing decided,
//! limits of behaviour.md §3 and the RFC 9112 rejections applied.
//!
//! Owns the head only: body bytes stay in the read buffer, and chunked
//! bodies are validated by [`super::framing`]. Header meaning is decided
//! once here ([`HeaderKind`]) so later stages never compare names.
//!
//! Limits are checked before syntax, so an oversized head gets its 414/494
//! even when it is also malformed, and a head that arrives in pieces is
//! refused no later than the same head arriving whole would be.

mod headers;
mod kind;
mod limits;
mod response;
mod target;
pub use kind::{HeaderKind, Underscores};
pub(crate) use target::has_dot_segment;
#[cfg(test)]
mod tests;

use bytes::{Bytes, BytesMut};
use httparse::Status;

use self::headers::{Coding, Facts, Length, offset};
use self::limits::{check_complete_limits, check_partial_limits};
pub use self::response::parse_response;
use super::{Method, Span};

/// HTTP version of a head. httparse only accepts HTTP/1.0 and HTTP/1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

/// One header line: offsets into the head's `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Field name as received.
    pub name: Span,
    /// Field value with surrounding whitespace trimmed.
    pub value: Span,
    /// Classification.
    pub kind: HeaderKind,
}

/// How a request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body: 1xx, 204, 304, a response to HEAD, or `Content-Length: 0`.
    Empty,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No length: the body ends when the upstream closes.
    UntilClose,
}

/// Limits of behaviour.md §3, each a `[settings]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request-target; longer → 414 (§3: 32 KiB).
    pub max_uri_bytes: usize,
    /// Longest single header line (name + value); longer → 494 (§3: 32 KiB).
    pub max_header_bytes: usize,
    /// All header lines together; more → 494 (§3: 128 KiB).
    pub max_headers_total_bytes: usize,
    /// Largest request body; larger → 413 (§3: 12 MiB).
    pub max_body_bytes: u64,
}

impl HeadLimits {
    /// The most bytes an incomplete head may hold before the parser
    /// refuses it (414 or 494): request line with its room, header
    /// section with its CRLFs. A read buffer never needs to be larger.
    pub fn max_partial_head_bytes(&self) -> usize {
        self.max_uri_bytes
            .saturating_add(limits::REQUEST_LINE_ROOM + 1)
            .saturating_add(self.max_headers_total_bytes)
            .saturating_add(limits::HEADER_SECTION_SLACK)
    }
}

/// A parsed request head. All spans index into `buf`.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Exactly the head bytes: request line, header lines, blank line.
    pub buf: Bytes,
    /// Classified method.
    pub method: Method,
    /// The method token as received.
    pub method_span: Span,
    /// The request-target as received.
    pub target: Span,
    /// Path component of the target as received (origin-form, or the path
    /// of an absolute-form target): what an app signature covers. Empty
    /// only for asterisk-form (`OPTIONS *`) or an absolute-form target with
    /// an empty path; consumers treat empty as `/`. Everything else reads
    /// [`RequestHead::routed_path`].
    pub path: Span,
    /// The normal form of the path when it differs from [`Self::path`]
    /// (see [`RequestHead::normalize_path`]).
    pub normalized: Option<Bytes>,
    /// Query component without the `?`, if a `?` was present.
    pub query: Option<Span>,
    /// HTTP version.
    pub version: Version,
    /// Header lines in the order received.
    pub headers: Vec<Header>,
    /// The authority the request is for: the `Host` value, or the authority
    /// of an absolute-form target (which then wins over `Host`, RFC 9112 §3.2.2).
    pub host: Option<Span>,
    /// Body framing.
    pub framing: BodyFraming,
    /// Whether the client wants the connection kept open after this exchange
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `keep-alive`).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// A WebSocket opening handshake (behaviour.md §7.3): an HTTP/1.1 GET
    /// with `Connection: upgrade` and `Upgrade: websocket` (RFC 6455 §4.1).
    pub websocket: bool,
}

impl RequestHead {
    /// Whether the client waits for `100 Continue` before sending its body:
    /// `Expect: 100-continue` on HTTP/1.1 (an HTTP/1.0 server ignores
    /// `Expect`, RFC 9110 §10.1.1).
    #[inline]
    pub fn wants_continue(&self) -> bool {
        self.expect_continue && self.version == Version::Http11
    }

    /// Bytes of a span of this head.
    #[inline]
    pub fn slice(&self, span: Span) -> &[u8] {
        span.of(&self.buf)
    }

    /// The path routing, parameters, throttling, the authorizer and the
    /// backend see: its normal form once [`Self::normalize_path`] ran.
    #[inline]
    pub fn routed_path(&self) -> &[u8] {
        match &self.normalized {
            Some(path) => path,
            None => self.slice(self.path),
        }
    }

    /// Puts the path in its normal form under `rules` (issue 13: route on
    /// the path the backend will see), or says why it is refused.
    pub fn normalize_path(
        &mut self,
        rules: &crate::http::normalize::PathRules,
    ) -> Result<(), crate::http::normalize::PathFault> {
        let normal = crate::http::normalize::normalize(self.slice(self.path), rules)?;
        self.normalized = normal.map(Bytes::from);
        Ok(())
    }

    /// The value of the first header of `kind`.
    #[inline]
    pub fn first(&self, kind: HeaderKind) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.kind == kind)
            .map(|h| self.slice(h.value))
    }

    /// Values of every header named `name` (ASCII case-insensitive), in order.
    pub fn values<'s, 'n>(
        &'s self,
        name: &'n [u8],
    ) -> impl Iterator<Item = &'s [u8]> + use<'s, 'n> {
        self.headers
            .iter()
            .filter(move |h| {
                h.name.len() == name.len() && self.slice(h.name).eq_ignore_ascii_case(name)
            })
            .map(|h| self.slice(h.value))
    }

    /// Whether the client asked for debug headers (`X-Apig-Mode: debug`, §19).
    #[inline]
    pub fn debug_mode(&self) -> bool {
        self.first(HeaderKind::XApigMode)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"debug"))
    }
}

/// A parsed upstream response head. All spans index into `buf`.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// Exactly the head bytes.
    pub buf: Bytes,
    /// HTTP version.
    pub version: Version,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: Span,
    /// Header lines in the order received.
    pub headers: Vec<Header>,
    /// Body framing.
    pub framing: ResponseFraming,
    /// Whether the upstream connection may be reused after this response
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `keep-alive`;
    /// never for `UntilClose`).
    pub keep_alive: bool,
}

/// Why a head was rejected. The connection is closed after the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Request-target longer than `max_uri_bytes` → 414 (§3, §20).
    #[error("request URI too large")]
    UriTooLong,
    /// One header line longer than `max_header_bytes` → 494 (§3, §20).
    #[error("request header too large")]
    HeaderTooLarge,
    /// All headers longer than `max_headers_total_bytes` → 494 (§3, §20).
    #[error("request headers too large")]
    HeadersTooLarge,
    /// Declared body larger than `max_body_bytes` → 413 (§3, §20).
    #[error("request body too large")]
    BodyTooLarge,
    /// Anything else RFC 9112 says to reject → 400, connection closed.
    #[error("malformed head: {0:?}")]
    Malformed(Malformed),
}

/// Which rule a malformed head broke (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// httparse rejected the syntax (token, target, version, line endings).
    Syntax,
    /// More header lines than the parser accepts.
    TooManyHeaders,
    /// A header line starting with whitespace (obs-fold, RFC 9112 §5.2).
    ObsFold,
    /// Whitespace between a field name and the colon (RFC 9112 §5.1).
    SpaceBeforeColon,
    /// NUL, CR, LF or another control byte inside a field value.
    BadHeaderValue,
    /// HTTP/1.1 request without `Host` (RFC 9112 §3.2).
    MissingHost,
    /// More than one `Host` line (RFC 9112 §3.2).
    DuplicateHost,
    /// `Host` value that is not a valid authority.
    BadHost,
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.1).
    ContentLengthWithTransferEncoding,
    /// `Content-Length` that is not a decimal number.
    BadContentLength,
    /// `Content-Length` values that differ (RFC 9112 §6.3).
    ConflictingContentLength,
    /// `Transfer-Encoding` other than exactly one final `chunked`.
    UnsupportedTransferEncoding,
    /// `Transfer-Encoding` in an HTTP/1.0 message (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// A request-target form not allowed for the method (RFC 9112 §3.2).
    BadTarget,
    /// `CONNECT` (tunnels are not proxied).
    Connect,
    /// A `.` or `..` path segment, literal or percent-encoded: it could
    /// escape a prefix API's backend path (RFC 3986 §5.2.4).
    DotSegment,
    /// More `Connection` options than the parser compares with header names.
    TooManyConnectionOptions,
    /// A response status below 100.
    BadStatus,
}

impl From<Malformed> for ParseError {
    fn from(rule: Malformed) -> Self {
        ParseError::Malformed(rule)
    }
}

/// Header slots handed to httparse; a head with more lines is refused
/// ([`Malformed::TooManyHeaders`]). 128 × 32 bytes of stack.
const MAX_HEADERS: usize = 128;

/// Parses a request head from the front of `buf`.
///
/// `Ok(None)`: the head is incomplete and within limits; read more.
/// `Ok(Some(head))`: the head bytes were split off the front of `buf`
/// (body bytes that followed stay in `buf`).
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &HeadLimits,
) -> Result<Option<RequestHead>, ParseError> {
    skip_empty_lines(buf);
    let mut headers = Vec::new();
    let Some(parts) = request_parts(buf, limits, &mut headers)? else {
        return Ok(None);
    };
    debug_assert!(parts.head_len <= buf.len(), "head inside the buffer");
    let head = buf.split_to(parts.head_len).freeze();
    debug_assert!(headers.iter().all(|h| h.value.end as usize <= head.len()));
    Ok(Some(RequestHead {
        buf: head,
        method: parts.method,
        method_span: parts.method_span,
        target: parts.target,
        path: parts.path,
        normalized: None,
        query: parts.query,
        version: parts.version,
        headers,
        host: parts.host,
        framing: parts.framing,
        keep_alive: parts.keep_alive,
        expect_continue: parts.expect_continue,
        websocket: parts.websocket,
    }))
}

/// Everything of a [`RequestHead`] but its bytes and headers.
struct RequestParts {
    head_len: usize,
    method: Method,
    method_span: Span,
    target: Span,
    path: Span,
    query: Option<Span>,
    version: Version,
    host: Option<Span>,
    framing: BodyFraming,
    keep_alive: bool,
    expect_continue: bool,
    websocket: bool,
}

fn request_parts(
    bytes: &[u8],
    limits: &HeadLimits,
    out: &mut Vec<Header>,
) -> Result<Option<RequestParts>, ParseError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let head_len = match req.parse(bytes) {
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) => return check_partial_limits(bytes, limits).map(|()| None),
        Err(e) => {
            check_partial_limits(bytes, limits)?;
            return Err(map_error(e, bytes).into());
        }
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(Malformed::Syntax.into());
    };
    let head = bytes.get(..head_len).unwrap_or_default();
    debug_assert_eq!(head.len(), head_len, "httparse reports a length inside buf");
    check_complete_limits(head, target, req.headers, limits)?;
    if method == "CONNECT" {
        return Err(Malformed::Connect.into());
    }
    let version = version_of(minor);
    let method_span = span_of(head, method.as_bytes());
    let method = Method::from_bytes(method.as_bytes());
    let target_span = span_of(head, target.as_bytes());
    let target = target::parse_target(head, target_span, method)?;
    debug_assert!(
        req.headers.len() <= MAX_HEADERS,
        "httparse fills at most the slots"
    );
    out.reserve_exact(req.headers.len());
    let facts = headers::collect(head, req.headers, out)?;
    let host = request_host(head, version, &facts)?;
    let framing = request_framing(version, &facts, limits.max_body_bytes)?;
    Ok(Some(RequestParts {
        head_len,
        method,
        method_span,
        target: target_span,
        path: target.path,
        query: target.query,
        version,
        host: target.authority.or(host),
        framing,
        keep_alive: facts.keeps_alive(version),
        expect_continue: facts.expect_continue,
        websocket: facts.upgrade
            && facts.websocket
            && version == Version::Http11
            && method == Method::Get,
    }))
}

/// Drops empty lines before a start line (RFC 9112 §2.2: at least one
/// CRLF before a request-line is ignored).
fn skip_empty_lines(buf: &mut BytesMut) {
    let mut skip = 0;
    loop {
        match buf.get(skip..skip + 2) {
            Some(b"\r\n") => skip += 2,
            _ if buf.get(skip) == Some(&b'\n') => skip += 1,
            _ => break,
        }
    }
    debug_assert!(skip <= buf.len(), "skipped bytes are in the buffer");
    let _ = buf.split_to(skip);
}

/// Maps an httparse error to the rule it broke, telling obs-fold and
/// whitespace before a colon apart (httparse reports both as `HeaderName`).
fn map_error(error: httparse::Error, bytes: &[u8]) -> Malformed {
    match error {
        httparse::Error::HeaderName => header_name_problem(bytes),
        httparse::Error::HeaderValue => Malformed::BadHeaderValue,
        httparse::Error::TooManyHeaders => Malformed::TooManyHeaders,
        _ => Malformed::Syntax,
    }
}

/// Finds the first header line whose name httparse refused and says why.
fn header_name_problem(bytes: &[u8]) -> Malformed {
    let start = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    let section = bytes.get(start..).unwrap_or_default();
    for line in section.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let name_len = line
            .iter()
            .position(|&b| !super::framing::is_tchar(b))
            .unwrap_or(line.len());
        debug_assert!(name_len <= line.len());
        match (line.first(), line.get(name_len)) {
            (None, _) => break,
            (Some(b' ' | b'\t'), _) => return Malformed::ObsFold,
            (_, Some(b':')) if name_len > 0 => continue,
            (_, Some(b' ' | b'\t')) => return Malformed::SpaceBeforeColon,
            _ => return Malformed::Syntax,
        }
    }
    Malformed::Syntax
}

fn version_of(minor: u8) -> Version {
    debug_assert!(minor <= 1, "httparse parses HTTP/1.0 and HTTP/1.1 only");
    if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    }
}

fn span_of(head: &[u8], part: &[u8]) -> Span {
    let start = offset(head, part);
    Span::new(start, start + part.len())
}

/// The `Host` rules of RFC 9112 §3.2: exactly one line on HTTP/1.1, a
/// valid authority when present. An empty HTTP/1.0 `Host` names no host.
fn request_host(head: &[u8], version: Version, facts: &Facts) -> Result<Option<Span>, Malformed> {
    if facts.host_lines > 1 {
        return Err(Malformed::DuplicateHost);
    }
    match facts.host {
        None if version == Version::Http11 => Err(Malformed::MissingHost),
        None => Ok(None),
        Some(span) if span.is_empty() && version == Version::Http10 => Ok(None),
        Some(span) if headers::is_valid_authority(span.of(head)) => Ok(Some(span)),
        Some(_) => Err(Malformed::BadHost),
    }
}

/// How a body is delimited before status and size rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delimit {
    /// Neither Content-Length nor Transfer-Encoding.
    Absent,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The framing rules requests and responses share (RFC 9112 §6.1, §6.3);
/// smuggling-shaped heads are refused.
fn delimit(version: Version, facts: &Facts) -> Result<Delimit, Malformed> {
    match (facts.coding, facts.length) {
        (Coding::Absent, Length::Absent) => Ok(Delimit::Absent),
        (Coding::Absent, Length::Value(n)) => Ok(Delimit::Length(n)),
        (Coding::Absent, Length::Bad) => Err(Malformed::BadContentLength),
        (Coding::Absent, Length::Conflicting) => Err(Malformed::ConflictingContentLength),
        _ if version == Version::Http10 => Err(Malformed::TransferEncodingInHttp10),
        (_, Length::Value(_) | Length::Bad | Length::Conflicting) => {
            Err(Malformed::ContentLengthWithTransferEncoding)
        }
        (Coding::Chunked, Length::Absent) => Ok(Delimit::Chunked),
        (Coding::Unsupported, Length::Absent) => Err(Malformed::UnsupportedTransferEncoding),
    }
}

/// Request framing: [`delimit`], then the body limit (behaviour.md §3).
fn request_framing(
    version: Version,
    facts: &Facts,
    max_body_bytes: u64,
) -> Result<BodyFraming, ParseError> {
    match delimit(version, facts)? {
        Delimit::Absent | Delimit::Length(0) => Ok(BodyFraming::None),
        Delimit::Length(n) if n > max_body_bytes => Err(ParseError::BodyTooLarge),
        Delimit::Length(n) => Ok(BodyFraming::Length(n)),
        Delimit::Chunked => Ok(BodyFraming::Chunked),
    }
}

/// Parses a complete request head from text, for unit tests of later stages.
#[cfg(test)]
pub(crate) fn head_for_tests(raw: &str) -> RequestHead {
    let mut buf = BytesMut::from(raw.as_bytes());
    let limits = HeadLimits {
        max_uri_bytes: 1024,
        max_header_bytes: 1024,
        max_headers_total_bytes: 4096,
        max_body_bytes: 1024,
    };
    match parse_request(&mut buf, &limits) {
        Ok(Some(h)) => h,
        other => panic!("test head does not parse: {other:?}"),
    }
}
