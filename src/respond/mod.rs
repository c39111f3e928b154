//! STAGE respond: the heads the client receives, and the ONLY code that
//! writes error responses (style.md §4.5).
//!
//! Every response carries `Server: api-gateway` and `X-Request-Id`
//! (behaviour.md §19). Error bodies are the default gateway response of §18.1,
//! byte for byte: `{"error_code": "…", "error_msg": "…", "request_id": "…"}`.

pub mod error_map;
pub mod relay;

use bytes::{BufMut, BytesMut};

use crate::backend::MockBackend;
use crate::error::GatewayError;
use crate::http::parse::{HeaderKind, ResponseFraming};
use crate::http::{ResponseHead, Version, write};
use crate::request_id::RequestId;

pub use error_map::{ErrorResponse, ResponseType};

/// How the body of a proxied response is framed towards the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFraming {
    /// No body follows.
    Empty,
    /// HEAD: no body, but the upstream's length header is passed on.
    HeadOnly,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (upstream chunks passed through, or an
    /// until-close body re-chunked for an HTTP/1.1 client).
    Chunked,
    /// No framing header: the body ends when the gateway closes (HTTP/1.0).
    UntilClose,
}

impl ClientFraming {
    /// The client framing for an upstream framing (not for HEAD requests,
    /// which are always [`ClientFraming::HeadOnly`]).
    pub fn for_response(framing: ResponseFraming, client: Version) -> Self {
        match framing {
            ResponseFraming::Empty => ClientFraming::Empty,
            ResponseFraming::Length(n) => ClientFraming::Length(n),
            ResponseFraming::Chunked => ClientFraming::Chunked,
            ResponseFraming::UntilClose if client == Version::Http11 => ClientFraming::Chunked,
            ResponseFraming::UntilClose => ClientFraming::UntilClose,
        }
    }
}

/// Writes the gateway's own headers and the connection decision.
fn gateway_headers(out: &mut BytesMut, rid: &RequestId, version: Version, keep_alive: bool) {
    write::header(out, b"Server", b"api-gateway");
    write::header(out, b"X-Request-Id", rid.as_bytes());
    match (version, keep_alive) {
        (_, false) => write::header(out, b"Connection", b"close"),
        (Version::Http10, true) => write::header(out, b"Connection", b"keep-alive"),
        (Version::Http11, true) => {}
    }
}

/// Renders an error response into `out`; returns whether the connection
/// must close afterwards (`keep_alive` false or the error demands it). A
/// response to HEAD keeps its `Content-Length` but carries no body.
pub fn error(
    out: &mut BytesMut,
    err: &GatewayError,
    rid: &RequestId,
    version: Version,
    keep_alive: bool,
    head_request: bool,
) -> bool {
    let r = error_map::map(err);
    let keep_alive = keep_alive && !r.close;
    let body_len = DEFAULT_BODY_FIXED_LEN + r.code.len() + r.message.len() + 32;
    write::status_line(out, version, r.status);
    write::header(out, b"Content-Type", b"application/json");
    write::header_number(out, b"Content-Length", body_len as u64);
    gateway_headers(out, rid, version, keep_alive);
    out.put_slice(b"\r\n");
    if head_request {
        return !keep_alive;
    }
    let start = out.len();
    // §18.1 default content, with the documented spacing.
    out.put_slice(b"{\"error_code\": \"");
    out.put_slice(r.code.as_bytes());
    out.put_slice(b"\", \"error_msg\": \"");
    out.put_slice(r.message.as_bytes());
    out.put_slice(b"\", \"request_id\": \"");
    out.put_slice(rid.as_bytes());
    out.put_slice(b"\"}");
    debug_assert_eq!(out.len() - start, body_len, "error body length drifted");
    !keep_alive
}

/// Bytes of the default error body besides code, message and request id.
const DEFAULT_BODY_FIXED_LEN: usize =
    "{\"error_code\": \"\", \"error_msg\": \"\", \"request_id\": \"\"}".len();

/// Renders a mock backend's response (behaviour.md §7.5) into `out`, body
/// included unless the request was HEAD.
pub fn mock(
    out: &mut BytesMut,
    mock: &MockBackend,
    rid: &RequestId,
    version: Version,
    keep_alive: bool,
    head_request: bool,
) {
    write::status_line(out, version, mock.status);
    out.put_slice(&mock.header_block);
    let bodyless = matches!(mock.status, 100..=199 | 204 | 304);
    if !bodyless {
        write::header_number(out, b"Content-Length", mock.body.len() as u64);
    }
    gateway_headers(out, rid, version, keep_alive);
    out.put_slice(b"\r\n");
    if !head_request && !bodyless {
        out.put_slice(&mock.body);
    }
}

/// Renders the head of a proxied response: the upstream's end-to-end
/// headers, then framing and gateway headers.
pub fn proxied_head(
    out: &mut BytesMut,
    resp: &ResponseHead,
    rid: &RequestId,
    version: Version,
    keep_alive: bool,
    framing: ClientFraming,
) {
    write::status_line(out, version, resp.status);
    for h in &resp.headers {
        let pass = match h.kind {
            HeaderKind::Other | HeaderKind::Host | HeaderKind::Expect => true,
            HeaderKind::XForwardedFor
            | HeaderKind::XForwardedProto
            | HeaderKind::XForwardedHost => true,
            // A HEAD response keeps the upstream's length (RFC 9110 §9.3.2).
            HeaderKind::ContentLength => framing == ClientFraming::HeadOnly,
            HeaderKind::HopByHop
            | HeaderKind::TransferEncoding
            | HeaderKind::XRequestId
            | HeaderKind::Server => false,
        };
        if pass {
            write::header(out, h.name.of(&resp.buf), h.value.of(&resp.buf));
        }
    }
    match framing {
        ClientFraming::Length(n) => write::header_number(out, b"Content-Length", n),
        ClientFraming::Chunked => write::header(out, b"Transfer-Encoding", b"chunked"),
        ClientFraming::Empty if !matches!(resp.status, 100..=199 | 204 | 304) => {
            write::header_number(out, b"Content-Length", 0)
        }
        ClientFraming::Empty | ClientFraming::HeadOnly | ClientFraming::UntilClose => {}
    }
    gateway_headers(out, rid, version, keep_alive);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_id::RequestIdGen;

    #[test]
    fn error_body_is_the_documented_default_byte_for_byte() {
        // behaviour.md §18.1 default content.
        let rid = RequestIdGen::new(0).next_id();
        let mut out = BytesMut::new();
        let close = error(
            &mut out,
            &GatewayError::RouteNotFound,
            &rid,
            Version::Http11,
            true,
            false,
        );
        assert!(!close);
        let text = std::str::from_utf8(&out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(head.contains("Server: api-gateway"));
        assert!(head.contains(&format!("X-Request-Id: {}", rid.as_str())));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(
            body,
            format!(
                "{{\"error_code\": \"APIG.0101\", \"error_msg\": \"The API does not exist or has not been published in the environment.\", \"request_id\": \"{}\"}}",
                rid.as_str()
            )
        );
    }
}
