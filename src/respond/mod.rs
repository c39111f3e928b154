//! STAGE respond: the heads the client receives, and the ONLY code that
//! writes error responses (style.md §4.5).
//!
//! Every response carries `Server: api-gateway` and `X-Request-Id`
//! (behaviour.md §19), the CORS headers of a CORS-enabled API (§17; a
//! backend's own header of the same name wins) and, in debug mode, the
//! latency headers (§19). Error bodies come from the API's gateway-response
//! set (§18): the built-in one reproduces the §18.1 default byte for byte,
//! `{"error_code": "…", "error_msg": "…", "request_id": "…"}`.

pub mod error_map;
pub mod relay;
pub mod responses;
pub mod template;
pub mod tunnel;

use bytes::{BufMut, BytesMut};

use crate::backend::MockBackend;
use crate::error::Rejection;
use crate::http::parse::{HeaderKind, ResponseFraming};
use crate::http::{ResponseHead, Version, write};
use crate::policy::Identity;
use crate::policy::cors::CorsPlan;
use crate::request_id::RequestId;

pub use error_map::{ErrorResponse, ResponseType};
pub use responses::{ResponseEntry, ResponseSet};
use template::ErrorContext;

/// Debug-mode latencies (§19), milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// `X-Apig-Latency`: request received → response head ready.
    pub total_ms: u64,
    /// `X-Apig-Upstream-Latency`: request sent → backend response head
    /// (not for mock backends or gateway errors).
    pub upstream_ms: Option<u64>,
}

/// Headers added to a response besides the gateway's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decor {
    /// CORS headers (§17).
    pub cors: Option<CorsPlan>,
    /// Debug latencies (§19).
    pub latency: Option<Latency>,
    /// Debug throttling headers (§13.5).
    pub rate: Option<crate::policy::throttle::check::RateHeaders>,
}

impl Decor {
    /// Writes the headers, skipping CORS names `taken` says the backend
    /// already sent (§17.3: the backend's header wins).
    fn write(&self, out: &mut BytesMut, taken: impl Fn(&[u8]) -> bool) {
        if let Some(plan) = self.cors {
            for (name, value) in plan.headers().filter(|(n, _)| !taken(n)) {
                write::header(out, name, value);
            }
        }
        if let Some(l) = self.latency {
            write::header_number(out, b"X-Apig-Latency", l.total_ms);
            if let Some(up) = l.upstream_ms {
                write::header_number(out, b"X-Apig-Upstream-Latency", up);
            }
        }
        for (name, v) in self.rate.iter().flat_map(|r| r.each()) {
            // `remain:9,limit:10,time:10 second` (§13.5), on the stack:
            // at most 4 numbers of 20 digits and the words.
            let mut buf = [0u8; 128];
            let mut w = &mut buf[..];
            let unit = v.period.unit.word();
            let fits = std::io::Write::write_fmt(
                &mut w,
                format_args!(
                    "remain:{},limit:{},time:{} {unit}",
                    v.remain, v.limit, v.period.n
                ),
            );
            let len = 128 - w.len();
            if fits.is_ok() {
                write::header(out, name, buf.get(..len).unwrap_or_default());
            }
        }
    }
}

/// What an error response is rendered with (§18).
pub struct ErrorScene<'a> {
    /// The API's (or the group's default, or the built-in) response set.
    pub set: &'a ResponseSet,
    /// `$context.apiId` (empty before routing).
    pub api_id: &'a str,
    /// `$context.stage`.
    pub stage: &'a str,
    /// `$context.sourceIp`.
    pub source_ip: &'a [u8],
    /// `$context.appId` and the authorizer contexts.
    pub identity: &'a Identity,
    /// CORS and debug headers.
    pub decor: Decor,
}

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

/// Renders an error response into `out` with the scene's response set;
/// returns whether the connection must close afterwards (`keep_alive`
/// false or the error demands it). A response to HEAD keeps its
/// `Content-Length` but carries no body. The rejection's detail, if any,
/// follows the mapped message in `$context.error.message`.
#[allow(clippy::too_many_arguments)] // the response's parts, passed explicitly
pub fn error(
    out: &mut BytesMut,
    err: &Rejection,
    rid: &RequestId,
    scene: &ErrorScene<'_>,
    version: Version,
    keep_alive: bool,
    head_request: bool,
) -> bool {
    let r = error_map::map(&err.error);
    let keep_alive = keep_alive && !r.close;
    let entry = scene.set.entry(r.kind);
    let detailed;
    let message = match &err.detail {
        Some(detail) => {
            detailed = [r.message, detail].concat();
            &detailed
        }
        None => r.message,
    };
    let ctx = ErrorContext {
        request_id: rid.as_bytes(),
        api_id: scene.api_id.as_bytes(),
        app_id: scene.identity.app_id().as_bytes(),
        stage: scene.stage.as_bytes(),
        source_ip: scene.source_ip,
        error_code: r.code,
        error_message: message,
        error_type: r.kind.key(),
        frontend: scene.identity.frontend.as_deref().unwrap_or_default(),
        backend: scene.identity.backend.as_deref().unwrap_or_default(),
    };
    let status = entry.and_then(|e| e.status).unwrap_or(r.status);
    let body_len = entry.map_or(0, |e| e.template.rendered_len(&ctx));
    write::status_line(out, version, status);
    write::header(out, b"Content-Type", b"application/json");
    write::header_number(out, b"Content-Length", body_len as u64);
    gateway_headers(out, rid, version, keep_alive);
    scene.decor.write(out, |_| false);
    out.put_slice(b"\r\n");
    if head_request {
        return !keep_alive;
    }
    let start = out.len();
    if let Some(e) = entry {
        e.template.render(&ctx, out);
    }
    debug_assert_eq!(out.len() - start, body_len, "error body length drifted");
    !keep_alive
}

/// Renders a mock backend's response (behaviour.md §7.5) into `out`, body
/// included unless the request was HEAD.
#[allow(clippy::too_many_arguments)] // the response's parts, passed explicitly
pub fn mock(
    out: &mut BytesMut,
    mock: &MockBackend,
    rid: &RequestId,
    decor: &Decor,
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
    decor.write(out, |name| mock.sets_header(name));
    out.put_slice(b"\r\n");
    if !head_request && !bodyless {
        out.put_slice(&mock.body);
    }
}

/// Renders the §4.6 redirect: `301` with `Location:
/// https://{host}[:{port}]{path}[?{query}]` (the request's host without
/// its port, the HTTPS port unless 443, path and query as received) and an
/// empty body.
#[allow(clippy::too_many_arguments)] // the response's parts, passed explicitly
pub fn redirect(
    out: &mut BytesMut,
    host: &[u8],
    https_port: u16,
    path: &[u8],
    query: Option<&[u8]>,
    rid: &RequestId,
    decor: &Decor,
    version: Version,
    keep_alive: bool,
) {
    write::status_line(out, version, 301);
    out.put_slice(b"Location: https://");
    out.put_slice(crate::http::host::strip_port(host));
    if https_port != 443 {
        out.put_u8(b':');
        write::number(out, u64::from(https_port));
    }
    out.put_slice(if path.is_empty() { b"/" } else { path });
    if let Some(q) = query {
        out.put_u8(b'?');
        out.put_slice(q);
    }
    out.put_slice(b"\r\n");
    write::header_number(out, b"Content-Length", 0);
    gateway_headers(out, rid, version, keep_alive);
    decor.write(out, |_| false);
    out.put_slice(b"\r\n");
}

/// Renders the head of a proxied response: the upstream's end-to-end
/// headers, then framing and gateway headers.
#[allow(clippy::too_many_arguments)] // the response's parts, passed explicitly
pub fn proxied_head(
    out: &mut BytesMut,
    resp: &ResponseHead,
    rid: &RequestId,
    decor: &Decor,
    version: Version,
    keep_alive: bool,
    framing: ClientFraming,
) {
    write::status_line(out, version, resp.status);
    pass_headers(out, resp, decor, framing == ClientFraming::HeadOnly);
    match framing {
        ClientFraming::Length(n) => write::header_number(out, b"Content-Length", n),
        ClientFraming::Chunked => write::header(out, b"Transfer-Encoding", b"chunked"),
        ClientFraming::Empty if !matches!(resp.status, 100..=199 | 204 | 304) => {
            write::header_number(out, b"Content-Length", 0)
        }
        ClientFraming::Empty | ClientFraming::HeadOnly | ClientFraming::UntilClose => {}
    }
    gateway_headers(out, rid, version, keep_alive);
    decor.write(out, |name| backend_sent(resp, name));
    out.put_slice(b"\r\n");
}

/// Renders the upstream's `101 Switching Protocols` for a WebSocket
/// handshake (§7.3): its end-to-end headers (`Sec-WebSocket-*`), the
/// upgrade pair, then the gateway's headers.
pub fn switching_head(out: &mut BytesMut, resp: &ResponseHead, rid: &RequestId, decor: &Decor) {
    write::status_line(out, Version::Http11, 101);
    pass_headers(out, resp, decor, false);
    out.put_slice(b"Connection: upgrade\r\nUpgrade: websocket\r\n");
    write::header(out, b"Server", b"api-gateway");
    write::header(out, b"X-Request-Id", rid.as_bytes());
    decor.write(out, |name| backend_sent(resp, name));
    out.put_slice(b"\r\n");
}

/// Copies the upstream's end-to-end headers; `keep_length` for a HEAD
/// response (it keeps the upstream's length, RFC 9110 §9.3.2).
fn pass_headers(out: &mut BytesMut, resp: &ResponseHead, decor: &Decor, keep_length: bool) {
    for h in &resp.headers {
        let pass = match h.kind {
            HeaderKind::Other
            | HeaderKind::Host
            | HeaderKind::Expect
            | HeaderKind::XStage
            | HeaderKind::XApigMode
            | HeaderKind::Origin
            | HeaderKind::AccessControl => true,
            HeaderKind::XForwardedFor
            | HeaderKind::XForwardedProto
            | HeaderKind::XForwardedHost => true,
            HeaderKind::ContentLength => keep_length,
            HeaderKind::HopByHop
            | HeaderKind::TransferEncoding
            | HeaderKind::XRequestId
            | HeaderKind::LoopGuard
            | HeaderKind::Impostor
            | HeaderKind::Server => false,
        };
        // In debug mode the latency and rate-limit headers are the
        // gateway's (§13.5, §19).
        let name = h.name.of(&resp.buf);
        if pass && !(decor.latency.is_some() && is_debug_header(name)) {
            write::header(out, name, h.value.of(&resp.buf));
        }
    }
}

fn is_debug_header(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"x-apig-latency")
        || name.eq_ignore_ascii_case(b"x-apig-upstream-latency")
        || (name.get(..17)).is_some_and(|p| p.eq_ignore_ascii_case(b"x-apig-ratelimit-"))
}

/// Whether the backend's response has a CORS header named `name`.
fn backend_sent(resp: &ResponseHead, name: &[u8]) -> bool {
    resp.headers.iter().any(|h| {
        h.kind == HeaderKind::AccessControl && h.name.of(&resp.buf).eq_ignore_ascii_case(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;
    use crate::request_id::RequestIdGen;

    #[test]
    fn error_body_is_the_documented_default_byte_for_byte() {
        // behaviour.md §18.1 default content.
        let rid = RequestIdGen::new(0).next_id();
        let mut out = BytesMut::new();
        let set = ResponseSet::builtin("default");
        let scene = ErrorScene {
            set: &set,
            api_id: "",
            stage: "RELEASE",
            source_ip: b"127.0.0.1",
            identity: &Identity::ANONYMOUS,
            decor: Decor::default(),
        };
        let close = error(
            &mut out,
            &GatewayError::RouteNotFound.into(),
            &rid,
            &scene,
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

    #[test]
    fn a_detail_follows_the_message_json_escaped() {
        // app-signing.md §6: `…: verify signature fail, canonicalRequest:…`;
        // the detail echoes client bytes, so quotes and controls must stay
        // inside the JSON string.
        let rid = RequestIdGen::new(0).next_id();
        let set = ResponseSet::builtin("default");
        let scene = ErrorScene {
            set: &set,
            api_id: "",
            stage: "RELEASE",
            source_ip: b"127.0.0.1",
            identity: &Identity::ANONYMOUS,
            decor: Decor::default(),
        };
        let fault = GatewayError::AppAuth(crate::error::AuthFault::Mismatch);
        let detail = ", canonicalRequest:GET|/|q=\"1\"\\|x:\t\u{1}é";
        let err = Rejection::with_detail(fault, detail);
        let mut out = BytesMut::new();
        error(&mut out, &err, &rid, &scene, Version::Http11, true, false);
        let text = std::str::from_utf8(&out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(body.contains(r#"q=\"1\"\\|x:\u0009\u0001é"#), "{body}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            json["error_msg"],
            format!("Incorrect app authentication information: verify signature fail{detail}")
        );
        // Without a detail the fixed message is unchanged.
        out.clear();
        error(
            &mut out,
            &fault.into(),
            &rid,
            &scene,
            Version::Http11,
            true,
            false,
        );
        let body = std::str::from_utf8(&out)
            .unwrap()
            .split_once("\r\n\r\n")
            .unwrap()
            .1;
        assert!(body.contains(
            r#""error_msg": "Incorrect app authentication information: verify signature fail""#
        ));
    }
}
