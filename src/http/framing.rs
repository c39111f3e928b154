//! Body framing: a validating chunked scanner (bodies pass through raw once
//! their framing is proven valid) and the chunk encoder.
//!
//! The scanner checks RFC 9112 §7.1 strictly (chunk-size, chunk-ext,
//! CRLF, trailer section) because the bytes are forwarded unchanged: what it
//! accepts must mean the same thing to every recipient behind the gateway.
//! It does not decode: payload bytes are counted and skipped, never copied.
//! Content-Length bodies need no scanner (the head carries the length).

use bytes::{BufMut, BytesMut};

/// Result of scanning bytes of a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Every byte given belongs to the body; the body continues.
    NeedMore,
    /// The body (last chunk and trailer section) ends after this many bytes
    /// of the input; the rest belongs to the next message.
    Done(usize),
}

/// Invalid chunked framing (RFC 9112 §7.1). Requests → 400 and close;
/// responses → the upstream connection is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// Chunk size missing, not hex, or longer than 16 hex digits.
    #[error("invalid chunk size")]
    BadChunkSize,
    /// Chunk extension that is not `;token[=token|quoted-string]`.
    #[error("invalid chunk extension")]
    BadChunkExtension,
    /// A chunk not followed by CRLF, or a bare CR/LF in a chunk line.
    #[error("invalid line ending in chunked body")]
    BadLineEnding,
    /// Malformed or oversized trailer section.
    #[error("invalid trailer section")]
    BadTrailer,
}

/// Longest chunk-size line, extensions included, CRLF excluded.
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;

/// Largest trailer section, final CRLF included (32 KiB).
pub const MAX_TRAILER_BYTES: usize = 32 * 1024;

/// Most hex digits in a chunk size: 16 fill a `u64`, so no overflow.
const MAX_SIZE_DIGITS: u8 = 16;

/// Where the scanner is inside the chunked grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Before the first hex digit of a chunk size.
    #[default]
    SizeStart,
    /// Inside the hex digits.
    Size,
    /// Inside chunk extensions.
    Ext(Ext),
    /// CR of the chunk-size line seen; LF next.
    SizeLf,
    /// Inside chunk data; `ChunkedScanner::size` bytes left.
    Data,
    /// After chunk data; CR next.
    DataCr,
    /// After chunk data and CR; LF next.
    DataLf,
    /// Inside the trailer section.
    Trailer(Trailer),
    /// The body ended.
    Done,
    /// The body was refused; every later call says why again.
    Failed(FramingError),
}

/// Position inside `*( BWS ";" BWS name [ BWS "=" BWS value ] )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    /// Whitespace before a `;`.
    Bws,
    /// After `;`, before the name.
    NameStart,
    /// Inside a name.
    Name,
    /// Whitespace after a name: `=` or `;` next.
    NameBws,
    /// After `=`, before the value.
    ValueStart,
    /// Inside a token value.
    Token,
    /// Inside a quoted-string value.
    Quoted,
    /// After a backslash inside a quoted-string.
    Escape,
    /// After the closing quote.
    QuotedEnd,
}

/// Position inside the trailer section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trailer {
    /// At the start of a field line or of the final CRLF.
    LineStart,
    /// Inside a field name.
    Name,
    /// Inside a field value.
    Value,
    /// CR of a field line seen; LF next.
    ValueLf,
    /// CR of the final line seen; LF next.
    EndLf,
}

/// Streaming validator of a chunked body. O(1) memory.
///
/// INVARIANT: in `State::Data`, `size` is the positive number of chunk
/// bytes still to skip.
#[derive(Debug, Clone, Default)]
pub struct ChunkedScanner {
    state: State,
    /// Chunk size being read, then the chunk bytes left to skip.
    size: u64,
    /// Hex digits of the current chunk size.
    digits: u8,
    /// Bytes of the current chunk-size line.
    line_bytes: usize,
    /// Bytes of the trailer section.
    trailer_bytes: usize,
    data_bytes: u64,
}

impl ChunkedScanner {
    /// A scanner at the start of a chunked body.
    pub fn new() -> Self {
        ChunkedScanner::default()
    }

    /// Scans the next bytes of the body.
    ///
    /// The result does not depend on how the body is split across calls.
    /// After `Done` or an error, later calls repeat the outcome (`Done(0)`).
    pub fn scan(&mut self, data: &[u8]) -> Result<Scan, FramingError> {
        self.scan_payload(data, |_| {})
    }

    /// Scans like [`ChunkedScanner::scan`] and hands each run of payload
    /// bytes (chunk data, framing left out) to `payload`, in order. The runs
    /// are slices of `data`, never copies; together they are the de-chunked
    /// body (what a signature hashes, app-signing.md §2.6).
    pub fn scan_payload(
        &mut self,
        data: &[u8],
        mut payload: impl FnMut(&[u8]),
    ) -> Result<Scan, FramingError> {
        let mut at = 0;
        loop {
            debug_assert!(at <= data.len(), "scanned past the input");
            match self.state {
                State::Done => return Ok(Scan::Done(at)),
                State::Failed(e) => return Err(e),
                _ => {}
            }
            let rest = data.get(at..).unwrap_or_default();
            let Some(&byte) = rest.first() else {
                return Ok(Scan::NeedMore);
            };
            if self.state == State::Data {
                let n = self.skip_data(rest.len());
                payload(rest.get(..n).unwrap_or_default());
                at += n;
            } else {
                self.state = self.step(byte).unwrap_or_else(State::Failed);
                at += 1;
            }
        }
    }

    /// Payload bytes announced so far: the data seen plus what the current
    /// chunk-size line promises. Lets a body limit refuse a chunk as soon
    /// as its size is read, before any of it is passed on.
    pub fn declared_bytes(&self) -> u64 {
        self.data_bytes.saturating_add(self.size)
    }

    /// Payload bytes (chunk data, excluding framing) seen so far.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Bytes of the trailer section seen so far (its final CRLF included
    /// once the body is done): the last ones of what was scanned.
    pub fn trailer_bytes(&self) -> usize {
        self.trailer_bytes
    }

    /// Skips up to `available` chunk bytes in O(1); returns how many.
    fn skip_data(&mut self, available: usize) -> usize {
        debug_assert!(self.size > 0, "Data state with nothing left");
        debug_assert!(available > 0, "skip called without input");
        let n = self.size.min(available as u64);
        self.size -= n;
        self.data_bytes += n;
        if self.size == 0 {
            self.state = State::DataCr;
        }
        // n <= available, so it fits in usize.
        n as usize
    }

    /// One framing byte: the next state, or why the body is refused.
    fn step(&mut self, b: u8) -> Result<State, FramingError> {
        debug_assert!(self.state != State::Data, "data is skipped, not stepped");
        match self.state {
            State::SizeStart | State::Size | State::Ext(_) => {
                self.line_bytes += 1;
                if self.line_bytes > MAX_CHUNK_LINE_BYTES && b != b'\r' {
                    return Err(FramingError::BadChunkExtension);
                }
                match self.state {
                    State::Ext(ext) => ext_byte(ext, b),
                    _ => self.size_byte(b),
                }
            }
            State::SizeLf => self.size_line_end(b),
            State::DataCr => expect(b, b'\r', State::DataLf),
            State::DataLf => expect(b, b'\n', State::SizeStart),
            State::Trailer(t) => {
                self.trailer_bytes += 1;
                if self.trailer_bytes > MAX_TRAILER_BYTES {
                    return Err(FramingError::BadTrailer);
                }
                trailer_byte(t, b)
            }
            State::Data | State::Done | State::Failed(_) => Ok(self.state),
        }
    }

    /// A byte of `chunk-size`, or the byte that ends it.
    fn size_byte(&mut self, b: u8) -> Result<State, FramingError> {
        debug_assert!(self.digits <= MAX_SIZE_DIGITS, "digit count bounded");
        if let Some(value) = hex_value(b) {
            if self.digits == MAX_SIZE_DIGITS {
                return Err(FramingError::BadChunkSize);
            }
            self.digits += 1;
            self.size = (self.size << 4) | u64::from(value);
            return Ok(State::Size);
        }
        if self.state == State::SizeStart {
            return Err(FramingError::BadChunkSize);
        }
        match b {
            b';' => Ok(State::Ext(Ext::NameStart)),
            b' ' | b'\t' => Ok(State::Ext(Ext::Bws)),
            b'\r' => Ok(State::SizeLf),
            b'\n' => Err(FramingError::BadLineEnding),
            _ => Err(FramingError::BadChunkSize),
        }
    }

    /// The LF of a chunk-size line: data next, or the trailer section.
    fn size_line_end(&mut self, b: u8) -> Result<State, FramingError> {
        debug_assert!(self.digits > 0, "a size line holds at least one digit");
        if b != b'\n' {
            return Err(FramingError::BadLineEnding);
        }
        self.digits = 0;
        self.line_bytes = 0;
        if self.size == 0 {
            Ok(State::Trailer(Trailer::LineStart))
        } else {
            Ok(State::Data)
        }
    }
}

/// `want` → `next`; anything else is a bad line ending.
fn expect(b: u8, want: u8, next: State) -> Result<State, FramingError> {
    if b == want {
        Ok(next)
    } else {
        Err(FramingError::BadLineEnding)
    }
}

/// One byte of chunk extensions (RFC 9112 §7.1.1).
fn ext_byte(ext: Ext, b: u8) -> Result<State, FramingError> {
    let ws = b == b' ' || b == b'\t';
    let next = match ext {
        Ext::Bws if ws => Ext::Bws,
        Ext::NameStart if ws => Ext::NameStart,
        Ext::NameStart if is_tchar(b) => Ext::Name,
        Ext::Name | Ext::Token if is_tchar(b) => ext,
        Ext::Name | Ext::NameBws if ws => Ext::NameBws,
        Ext::Name | Ext::NameBws if b == b'=' => Ext::ValueStart,
        Ext::ValueStart if ws => Ext::ValueStart,
        Ext::ValueStart if b == b'"' => Ext::Quoted,
        Ext::ValueStart if is_tchar(b) => Ext::Token,
        Ext::Token | Ext::QuotedEnd if ws => Ext::Bws,
        Ext::Quoted if b == b'"' => Ext::QuotedEnd,
        Ext::Quoted if b == b'\\' => Ext::Escape,
        Ext::Quoted if is_qdtext(b) => Ext::Quoted,
        Ext::Escape if is_field_vchar(b) || ws => Ext::Quoted,
        _ => return ext_separator(ext, b),
    };
    Ok(State::Ext(next))
}

/// `;` (another extension) or CR (end of line) where the grammar allows.
fn ext_separator(ext: Ext, b: u8) -> Result<State, FramingError> {
    let after_element = matches!(ext, Ext::Name | Ext::Token | Ext::QuotedEnd);
    match b {
        b';' if after_element || ext == Ext::Bws || ext == Ext::NameBws => {
            Ok(State::Ext(Ext::NameStart))
        }
        b'\r' if after_element => Ok(State::SizeLf),
        b'\n' if after_element => Err(FramingError::BadLineEnding),
        _ => Err(FramingError::BadChunkExtension),
    }
}

/// One byte of the trailer section (RFC 9112 §7.1.2); obs-fold refused.
fn trailer_byte(t: Trailer, b: u8) -> Result<State, FramingError> {
    let next = match (t, b) {
        (Trailer::LineStart, b'\r') => State::Trailer(Trailer::EndLf),
        (Trailer::LineStart | Trailer::Name, _) if is_tchar(b) => State::Trailer(Trailer::Name),
        (Trailer::Name, b':') => State::Trailer(Trailer::Value),
        (Trailer::Value, b'\r') => State::Trailer(Trailer::ValueLf),
        (Trailer::Value, _) if is_field_vchar(b) || b == b' ' || b == b'\t' => {
            State::Trailer(Trailer::Value)
        }
        (Trailer::ValueLf, b'\n') => State::Trailer(Trailer::LineStart),
        (Trailer::EndLf, b'\n') => State::Done,
        (Trailer::ValueLf | Trailer::EndLf, _) | (_, b'\n') => {
            return Err(FramingError::BadLineEnding);
        }
        _ => return Err(FramingError::BadTrailer),
    };
    Ok(next)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `VCHAR / obs-text`.
fn is_field_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// `qdtext` of RFC 9110 §5.6.4: HTAB, SP and visible bytes except `"` and `\`.
fn is_qdtext(b: u8) -> bool {
    b == b'\t' || b == b' ' || (is_field_vchar(b) && b != b'"' && b != b'\\')
}

/// Appends a chunk-size line (`{len:x}\r\n`) for a chunk of `len` bytes.
pub fn encode_chunk_header(len: usize, out: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1);
    debug_assert!(
        digits as usize <= 2 * size_of::<usize>(),
        "hex digits of a usize"
    );
    out.reserve(digits as usize + 2);
    for i in (0..digits).rev() {
        let nibble = (len >> (4 * i)) & 0xf;
        debug_assert!(nibble < 16);
        out.put_u8(HEX.get(nibble).copied().unwrap_or(b'0'));
    }
    out.put_slice(b"\r\n");
}

/// The last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests;

/// Writes the fields of a complete, validated trailer section (its final
/// CRLF included) that may be forwarded, then the final CRLF.
///
/// RFC 9110 §6.5.1: fields needed before the content is read (framing,
/// routing, authentication, request modifiers, response controls, content
/// format) are not processed from trailers; a recipient that merged them
/// into the header section anyway would let a client change `Host`,
/// `Content-Length` or `Authorization` after the gateway checked them.
/// Those are dropped, in any spelling with `_` for `-`, and so are the
/// gateway's own headers (issue 13 item 5).
pub fn filter_trailer(section: &[u8], out: &mut BytesMut) {
    debug_assert!(section.ends_with(b"\r\n"), "a complete trailer section");
    for line in section.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if trailer_allowed(line.get(..colon).unwrap_or_default()) {
            out.put_slice(line);
            out.put_slice(b"\r\n");
        }
    }
    out.put_slice(b"\r\n");
}

/// Field names never forwarded in a trailer section.
const TRAILER_DENIED: &[&[u8]] = &[
    b"authentication-info",
    b"authorization",
    b"age",
    b"cache-control",
    b"connection",
    b"cookie",
    b"date",
    b"expect",
    b"expires",
    b"forwarded",
    b"host",
    b"keep-alive",
    b"location",
    b"max-forwards",
    b"origin",
    b"pragma",
    b"range",
    b"retry-after",
    b"server",
    b"set-cookie",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"vary",
    b"via",
    b"www-authenticate",
    b"x-http-method-override",
    b"x-method-override",
    b"x-original-url",
    b"x-real-ip",
    b"x-request-id",
    b"x-rewrite-url",
    b"x-stage",
    b"x-tollgate-loop",
];

/// Prefixes of field names never forwarded in a trailer section.
const TRAILER_DENIED_PREFIXES: &[&[u8]] = &[
    b"access-control-",
    b"content-",
    b"if-",
    b"proxy-",
    b"sec-",
    b"x-apig-",
    b"x-forwarded-",
    b"x-sdk-",
];

/// Whether a trailer field named `name` may be forwarded.
fn trailer_allowed(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    let mut folded = [0u8; 64];
    for (f, &b) in folded.iter_mut().zip(name) {
        *f = if b == b'_' {
            b'-'
        } else {
            b.to_ascii_lowercase()
        };
    }
    let name = folded.get(..name.len()).unwrap_or_default();
    !TRAILER_DENIED.contains(&name) && !TRAILER_DENIED_PREFIXES.iter().any(|p| name.starts_with(p))
}
