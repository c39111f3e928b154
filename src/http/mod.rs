//! STAGE http: the HTTP/1.x wire format, with no gateway semantics.
//!
//! Owns request and response heads (offsets into the bytes they were read
//! from, no copies), body framing (Content-Length, chunked) and the size
//! limits of behaviour.md §3. It knows nothing about groups, APIs or
//! upstreams; later stages read its output types.

pub mod framing;
pub mod host;
pub mod normalize;
pub mod parse;
pub mod percent;
pub mod query;
pub mod write;

pub use parse::{
    BodyFraming, HeadLimits, ParseError, RequestHead, ResponseFraming, ResponseHead, Version,
    parse_request, parse_response,
};

/// A byte range `[start, end)` into the buffer a head was parsed from.
///
/// `u32` offsets keep a header entry at 16 bytes; heads are bounded by
/// [`HeadLimits`] far below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// Builds a span from `usize` offsets.
    #[inline]
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "span start {start} after end {end}");
        debug_assert!(end <= u32::MAX as usize, "span end {end} over u32");
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes this span covers in `buf`.
    #[inline]
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let bytes = buf.get(self.start as usize..self.end as usize);
        debug_assert!(
            bytes.is_some(),
            "span {self:?} outside a buffer of {}",
            buf.len()
        );
        bytes.unwrap_or_default()
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Request methods the API model names (behaviour.md §6.2), plus `Other`
/// for every other valid token (those can only match an `ANY` API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// Any other method token (TRACE, PROPFIND, ...).
    Other,
}

impl Method {
    /// Number of variants, for per-method tables.
    pub const COUNT: usize = 8;

    /// Classifies a method token. Methods are case-sensitive (RFC 9110 §9.1).
    #[inline]
    pub fn from_bytes(token: &[u8]) -> Method {
        match token {
            b"GET" => Method::Get,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"PATCH" => Method::Patch,
            b"HEAD" => Method::Head,
            b"OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    /// Idempotent per RFC 9110 §9.2.2 (`Other` is treated as not).
    #[inline]
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Method::Get | Method::Head | Method::Options | Method::Put | Method::Delete
        )
    }

    /// The method's token; `None` for `Other` (its token is in the head).
    pub fn token(self) -> Option<&'static [u8]> {
        Some(match self {
            Method::Get => b"GET",
            Method::Post => b"POST",
            Method::Put => b"PUT",
            Method::Delete => b"DELETE",
            Method::Patch => b"PATCH",
            Method::Head => b"HEAD",
            Method::Options => b"OPTIONS",
            Method::Other => return None,
        })
    }

    /// Index into a `[_; Method::COUNT]` table.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}
