//! Body framing: a validating chunked scanner (bodies pass through raw once
//! their framing is proven valid) and the chunk encoder.
//!
//! HELPER-OWNED: implementation pending (see the type docs for the contract).

use bytes::BytesMut;

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

/// Streaming validator of a chunked body. O(1) memory.
#[derive(Debug, Clone, Default)]
pub struct ChunkedScanner {
    data_bytes: u64,
}

impl ChunkedScanner {
    /// A scanner at the start of a chunked body.
    pub fn new() -> Self {
        ChunkedScanner::default()
    }

    /// Scans the next bytes of the body.
    pub fn scan(&mut self, data: &[u8]) -> Result<Scan, FramingError> {
        let _ = data;
        Err(FramingError::BadChunkSize)
    }

    /// Payload bytes (chunk data, excluding framing) seen so far.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }
}

/// Appends a chunk-size line (`{len:x}\r\n`) for a chunk of `len` bytes.
pub fn encode_chunk_header(len: usize, out: &mut BytesMut) {
    let _ = (len, out);
}

/// The last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
