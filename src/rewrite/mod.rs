//! STAGE rewrite: the request the backend receives (behaviour.md §6.4, §7.2, §9).
//!
//! Builds the upstream request head into a reused buffer: method, backend
//! path (template parameters substituted, prefix remainder appended), the
//! query (passed through, or rebuilt when parameters are mapped), `Host`,
//! the client's end-to-end headers, mapped / constant / system parameters,
//! `X-Forwarded-*`, `X-Request-Id` and the body framing. Hop-by-hop headers
//! are dropped (RFC 9110 §7.6.1).

mod params;
pub mod sign;

use bytes::{BufMut, BytesMut};

use crate::backend::{Api, HostHeader, HttpBackend, PathPart};
use crate::error::GatewayError;
use crate::http::parse::HeaderKind;
use crate::http::{BodyFraming, Method, RequestHead, Version, write};
use crate::policy::params::Inputs;
use crate::policy::{Identity, hops};
use crate::request_id::RequestId;
use crate::route::RouteMatch;

/// Everything known about the request when its backend head is built.
pub struct Request<'a> {
    /// The client's head.
    pub head: &'a RequestHead,
    /// Where routing sent it.
    pub route: &'a RouteMatch,
    /// The API.
    pub api: &'a Api,
    /// Its validated input parameters.
    pub inputs: &'a Inputs,
    /// Who is calling.
    pub identity: &'a Identity,
    /// The stage name.
    pub stage: &'a str,
    /// The request ID.
    pub rid: &'a RequestId,
    /// The caller's IP address, as text (the real IP, §16).
    pub source_ip: &'a [u8],
    /// The TCP peer's address, as text (appended to `X-Forwarded-For`).
    pub peer_ip: &'a [u8],
    /// Whether the client connected over TLS (`X-Forwarded-Proto`).
    pub tls: bool,
    /// The signature key bound to the API in this stage (§12).
    pub signer: Option<sign::Signer<'a>>,
    /// Drop every client header whose name contains `_`
    /// (`underscore_headers = "drop"`).
    pub drop_underscored: bool,
}

/// Appends the upstream request head for `req` to `backend`; returns the
/// method sent upstream (it decides how the response is framed, RFC 9112
/// §6.3).
pub fn request_head(
    out: &mut BytesMut,
    req: &Request<'_>,
    backend: &HttpBackend,
) -> Result<Method, GatewayError> {
    let head = req.head;
    let start = out.len();
    // A WebSocket handshake stays a GET whatever the backend's method
    // (RFC 6455 §4.1).
    let fixed = backend.method.filter(|_| !head.websocket);
    let method = match fixed.and_then(|m| m.token().map(|t| (m, t))) {
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
    backend_path(out, req, backend);
    params::query(out, req, &backend.mapping);
    // An HTTP/1.0 client's request goes upstream as HTTP/1.0, so the answer
    // comes back framed in a way that client can read (no chunked coding).
    match head.version {
        Version::Http11 => out.put_slice(b" HTTP/1.1\r\n"),
        // Ask to keep the upstream connection for the pool all the same.
        Version::Http10 => out.put_slice(b" HTTP/1.0\r\nConnection: keep-alive\r\n"),
    }
    if head.websocket {
        // §7.3: the opening handshake goes upstream as an upgrade; the
        // Sec-WebSocket-* headers are end-to-end and pass below.
        out.put_slice(b"Connection: upgrade\r\nUpgrade: websocket\r\n");
    }
    write::header(out, b"Host", host(head, backend));
    params::client_headers(out, req, &backend.mapping);
    params::headers(out, req, &backend.mapping);
    forwarded_for(out, head, req.peer_ip);
    let proto: &[u8] = if req.tls { b"https" } else { b"http" };
    write::header(out, b"X-Forwarded-Proto", proto);
    if let Some(host) = head.host {
        write::header(out, b"X-Forwarded-Host", head.slice(host));
    }
    write::header(out, b"X-Request-Id", req.rid.as_bytes());
    hops::write(out, head, hops::count(head));
    match head.framing {
        BodyFraming::None => {}
        BodyFraming::Length(n) => write::header_number(out, b"Content-Length", n),
        BodyFraming::Chunked => write::header(out, b"Transfer-Encoding", b"chunked"),
    }
    if let Some(signer) = &req.signer {
        sign::append(out, start, host(head, backend), signer)?;
    }
    out.put_slice(b"\r\n");
    debug_assert!(out.len() > start, "empty upstream head");
    Ok(method)
}

/// The `Host` value (§7.2).
fn host<'a>(head: &'a RequestHead, backend: &'a HttpBackend) -> &'a [u8] {
    match &backend.host_header {
        HostHeader::Address => backend.address.as_bytes(),
        HostHeader::Fixed(name) => name.as_bytes(),
        HostHeader::Preserve => head
            .host
            .map_or(backend.address.as_bytes(), |h| head.slice(h)),
    }
}

/// The backend path: the template with `{name}` substituted, then the
/// prefix remainder (§6.4: `/test/` + `AA/CC` → `/test2/AA/CC`, §27 C12).
fn backend_path(out: &mut BytesMut, req: &Request<'_>, backend: &HttpBackend) {
    let head = req.head;
    let path = head.routed_path();
    let captures = req.route.params.as_slice();
    let start = out.len();
    for part in &backend.path {
        match part {
            PathPart::Literal(b) => out.put_slice(b),
            PathPart::Param(i) => {
                if let Some(span) = captures.get(*i as usize) {
                    out.put_slice(span.of(path));
                }
            }
            PathPart::Mapped(i) => {
                if let Some(source) = backend.mapping.paths.get(*i as usize) {
                    params::path_value(out, req, source);
                }
            }
        }
    }
    if let Some(rest) = req.route.remainder.filter(|r| !r.is_empty()) {
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
