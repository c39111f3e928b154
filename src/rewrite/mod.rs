//! STAGE rewrite: the request the backend receives (behaviour.md §6.4, §7.2, §9).
//!
//! Builds the upstream request head into a reused buffer: method, backend
//! path (template parameters substituted, prefix remainder appended), the
//! query passed through, `Host` = the backend address, the client's
//! end-to-end headers, `X-Forwarded-*`, `X-Request-Id` and the body framing.
//! Hop-by-hop headers are dropped (RFC 9110 §7.6.1).

use bytes::{BufMut, BytesMut};

use crate::backend::{HttpBackend, PathPart};
use crate::http::parse::HeaderKind;
use crate::http::{BodyFraming, Method, RequestHead, Version, write};
use crate::request_id::RequestId;
use crate::route::RouteMatch;

/// Appends the upstream request head for `head` routed by `route` to
/// `backend`; returns the method sent upstream (it decides how the response
/// is framed, RFC 9112 §6.3).
pub fn request_head(
    out: &mut BytesMut,
    head: &RequestHead,
    route: &RouteMatch,
    backend: &HttpBackend,
    rid: &RequestId,
    peer_ip: &[u8],
) -> Method {
    let start = out.len();
    let method = match backend.method.and_then(|m| m.token().map(|t| (m, t))) {
        Some((m, token)) => {
            out.put_slice(token);
            m
        }
        None => {
            out.put_slice(head.slice(head.method_span));
            head.method
        }
    };
    out.put_u8(b' ');
    backend_path(out, head, route, backend);
    if let Some(q) = head.query {
        out.put_u8(b'?');
        out.put_slice(head.slice(q));
    }
    // An HTTP/1.0 client's request goes upstream as HTTP/1.0, so the answer
    // comes back framed in a way that client can read (no chunked coding).
    match head.version {
        Version::Http11 => out.put_slice(b" HTTP/1.1\r\n"),
        // Ask to keep the upstream connection for the pool all the same.
        Version::Http10 => out.put_slice(b" HTTP/1.0\r\nConnection: keep-alive\r\n"),
    }
    write::header(out, b"Host", backend.host_header.as_bytes());
    for h in head.headers.iter().filter(|h| h.kind == HeaderKind::Other) {
        write::header(out, head.slice(h.name), head.slice(h.value));
    }
    forwarded_for(out, head, peer_ip);
    write::header(out, b"X-Forwarded-Proto", b"http");
    if let Some(host) = head.host {
        write::header(out, b"X-Forwarded-Host", head.slice(host));
    }
    write::header(out, b"X-Request-Id", rid.as_bytes());
    match head.framing {
        BodyFraming::None => {}
        BodyFraming::Length(n) => write::header_number(out, b"Content-Length", n),
        BodyFraming::Chunked => write::header(out, b"Transfer-Encoding", b"chunked"),
    }
    out.put_slice(b"\r\n");
    debug_assert!(out.len() > start, "empty upstream head");
    method
}

/// The backend path: the template with `{name}` substituted, then the
/// prefix remainder (§6.4: `/test/` + `AA/CC` → `/test2/AA/CC`, §27 C12).
fn backend_path(out: &mut BytesMut, head: &RequestHead, route: &RouteMatch, backend: &HttpBackend) {
    let path = head.slice(head.path);
    let captures = route.params.as_slice();
    let start = out.len();
    for part in &backend.path {
        match part {
            PathPart::Literal(b) => out.put_slice(b),
            PathPart::Param(i) => {
                if let Some(span) = captures.get(*i as usize) {
                    out.put_slice(span.of(path));
                }
            }
        }
    }
    if let Some(rest) = route.remainder.filter(|r| !r.is_empty()) {
        if out.len() == start || out.last() != Some(&b'/') {
            out.put_u8(b'/');
        }
        out.put_slice(rest.of(path));
    }
    if out.len() == start {
        out.put_u8(b'/');
    }
}

/// `X-Forwarded-For`: the client's chain, every line in order, joined on one
/// line, with this hop's peer last (§16).
fn forwarded_for(out: &mut BytesMut, head: &RequestHead, peer_ip: &[u8]) {
    out.put_slice(b"X-Forwarded-For: ");
    for h in head
        .headers
        .iter()
        .filter(|h| h.kind == HeaderKind::XForwardedFor)
    {
        out.put_slice(head.slice(h.value));
        out.put_slice(b", ");
    }
    out.put_slice(peer_ip);
    out.put_slice(b"\r\n");
}
