//! Serialising heads into a reused output buffer: no formatting machinery,
//! no allocation beyond the buffer's own growth.

use bytes::{BufMut, BytesMut};

use super::Version;

/// The interim response sent before reading a body announced with
/// `Expect: 100-continue` (RFC 9110 §10.1.1).
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends `HTTP/1.x {status} {reason}\r\n`.
pub fn status_line(out: &mut BytesMut, version: Version, status: u16) {
    out.put_slice(match version {
        Version::Http10 => b"HTTP/1.0 ",
        Version::Http11 => b"HTTP/1.1 ",
    });
    number(out, u64::from(status));
    out.put_u8(b' ');
    out.put_slice(reason(status).as_bytes());
    out.put_slice(b"\r\n");
}

/// Appends `name: value\r\n`.
#[inline]
pub fn header(out: &mut BytesMut, name: &[u8], value: &[u8]) {
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

/// Appends `name: {n}\r\n`.
#[inline]
pub fn header_number(out: &mut BytesMut, name: &[u8], n: u64) {
    out.put_slice(name);
    out.put_slice(b": ");
    number(out, n);
    out.put_slice(b"\r\n");
}

/// Appends a decimal number.
#[inline]
pub fn number(out: &mut BytesMut, n: u64) {
    let mut b = itoa::Buffer::new();
    out.put_slice(b.format(n).as_bytes());
}

/// The reason phrase of a status code (RFC 9110 §15; 494 as nginx writes it).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        203 => "Non-Authoritative Information",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        402 => "Payment Required",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        494 => "Request Header Or Cookie Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        511 => "Network Authentication Required",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_and_headers_serialise_exactly() {
        let mut out = BytesMut::new();
        status_line(&mut out, Version::Http11, 494);
        header(&mut out, b"Server", b"api-gateway");
        header_number(&mut out, b"Content-Length", 1234);
        assert_eq!(
            &out[..],
            b"HTTP/1.1 494 Request Header Or Cookie Too Large\r\nServer: api-gateway\r\nContent-Length: 1234\r\n"
        );
    }
}
