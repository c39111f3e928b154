//! Request and response heads: httparse into offsets, framing decided,
//! limits of behaviour.md §3 and the RFC 9112 rejections applied.
//!
//! HELPER-OWNED: implementation pending (see the type docs for the contract).

use bytes::{Bytes, BytesMut};

use super::{Method, Span};

/// HTTP version of a head. httparse only accepts HTTP/1.0 and HTTP/1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

/// What a header means to the gateway, decided once by the parser so later
/// stages never compare names again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// Any end-to-end header the gateway passes through unchanged.
    Other,
    /// Hop-by-hop (RFC 9110 §7.6.1): Connection, Keep-Alive, Proxy-Connection,
    /// TE, Trailer, Upgrade, Proxy-Authenticate, Proxy-Authorization, and any
    /// header named in `Connection`. Never forwarded.
    HopByHop,
    /// `Host`.
    Host,
    /// `Content-Length` (the gateway writes its own framing header).
    ContentLength,
    /// `Transfer-Encoding` (the gateway writes its own framing header).
    TransferEncoding,
    /// `Expect`.
    Expect,
    /// `X-Forwarded-For` (appended to, §16).
    XForwardedFor,
    /// `X-Forwarded-Proto` (replaced by the gateway).
    XForwardedProto,
    /// `X-Forwarded-Host` (replaced by the gateway).
    XForwardedHost,
    /// `X-Request-Id` (replaced by the gateway's own, §19).
    XRequestId,
    /// `Server` (responses: replaced by `Server: api-gateway`, §19).
    Server,
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
    /// Path component of the target (origin-form, or the path of an
    /// absolute-form target). Empty only for asterisk-form (`OPTIONS *`) or an
    /// absolute-form target with an empty path; consumers treat empty as `/`.
    pub path: Span,
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
}

impl RequestHead {
    /// Bytes of a span of this head.
    #[inline]
    pub fn slice(&self, span: Span) -> &[u8] {
        span.of(&self.buf)
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
}

/// Parses a request head from the front of `buf`.
///
/// `Ok(None)`: the head is incomplete and within limits; read more.
/// `Ok(Some(head))`: the head bytes were split off the front of `buf`
/// (body bytes that followed stay in `buf`).
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &HeadLimits,
) -> Result<Option<RequestHead>, ParseError> {
    let _ = (buf, limits);
    Err(ParseError::Malformed(Malformed::Syntax))
}

/// Parses an upstream response head from the front of `buf`.
///
/// `request_method` decides framing for HEAD. `max_head_bytes` bounds the
/// whole head (more → `HeadersTooLarge`).
pub fn parse_response(
    buf: &mut BytesMut,
    max_head_bytes: usize,
    request_method: Method,
) -> Result<Option<ResponseHead>, ParseError> {
    let _ = (buf, max_head_bytes, request_method);
    Err(ParseError::Malformed(Malformed::Syntax))
}
