//! STAGE forward: send the request and its body upstream over this core's
//! pooled connection and read the response head (behaviour.md §7.2, §7.6).
//!
//! Failures come back as a [`Failure`] for the respond stage (502/504 per
//! §7.6). The response body is streamed back by `respond::relay`.

pub mod body;
pub mod call;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use bytes::BytesMut;
use monoio::net::TcpStream;
use rustls::ClientConfig;
use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::clock::Clock;
use crate::error::GatewayError;
use crate::http::{BodyFraming, Method, RequestHead, ResponseHead, parse_response, write};
use crate::io::tls::TlsStream;
use crate::io::{self, ClientConn, Stream};
use crate::record::Metrics;
use crate::upstream::UpstreamId;
use crate::upstream::pool::{Pool, UPSTREAM_BUF_BYTES, UpstreamConn, log_distrust};

use body::{BodyFailure, BodyPace, Decoder};

/// Capacity of a client's head buffer kept between requests.
const OUT_KEEP: usize = 16 * 1024;

/// The per-worker resources and settings forwarding uses.
pub struct Forwarder<'a> {
    /// This worker's upstream pool.
    pub pool: &'a RefCell<Pool>,
    /// This worker's clock.
    pub clock: &'a dyn Clock,
    /// This worker's counters.
    pub metrics: &'a Metrics,
    /// Backend connect timeout.
    pub connect_timeout: Duration,
    /// How fast the client's body must come.
    pub body_pace: BodyPace,
    /// Bodies up to this size are read whole before the backend is
    /// contacted.
    pub request_buffer: u64,
    /// Largest request body (§3).
    pub max_body: u64,
    /// Largest upstream response head.
    pub max_response_head: usize,
}

/// Where this request goes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Pool key.
    pub upstream: UpstreamId,
    /// Resolved address.
    pub addr: SocketAddr,
    /// Backend timeout (§7.2): response head, and each read or write.
    pub timeout: Duration,
    /// The method sent upstream (it frames the response, RFC 9112 §6.3).
    pub method: Method,
    /// For an https backend: this worker's client configuration and the
    /// server name (§7.2).
    pub tls: Option<(&'a Arc<ClientConfig>, &'a ServerName<'static>)>,
    /// A WebSocket opening handshake: `101 Switching Protocols` is the
    /// final answer (§7.3).
    pub websocket: bool,
}

/// An exchange that ended without a complete response to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The error to answer with; `None` when no answer is possible (the
    /// client went away, or the response had already started).
    pub error: Option<GatewayError>,
    /// Whether the client connection is still in step (its request body
    /// fully consumed) and may carry another request.
    pub client_reusable: bool,
}

impl Failure {
    fn answer(error: GatewayError, client_reusable: bool) -> Self {
        Failure {
            error: Some(error),
            client_reusable,
        }
    }

    const SILENT: Failure = Failure {
        error: None,
        client_reusable: false,
    };
}

/// Sends `req` (its upstream head is in `client.out`) and its body to
/// `target` and reads the final response head. The body of the response is
/// still to be read from the returned connection (see `respond::relay`).
pub async fn forward(
    fw: &Forwarder<'_>,
    client: &mut ClientConn,
    req: &RequestHead,
    target: &Target<'_>,
) -> Result<(UpstreamConn, ResponseHead), Failure> {
    let mut out = std::mem::take(&mut client.out);
    let result = exchange(fw, client, req, target, &mut out).await;
    out.clear();
    // A buffered body grew the head buffer: a connection between requests
    // keeps only a head-sized one.
    if out.capacity() > OUT_KEEP {
        out = BytesMut::with_capacity(OUT_KEEP);
    }
    client.out = out;
    result
}

async fn exchange(
    fw: &Forwarder<'_>,
    client: &mut ClientConn,
    req: &RequestHead,
    target: &Target<'_>,
    out: &mut BytesMut,
) -> Result<(UpstreamConn, ResponseHead), Failure> {
    let mut dec = Decoder::for_request(req.framing);
    let mut body = BodyRead {
        pace: fw.body_pace,
        continued: false,
    };
    // Body bytes already read go out with the head; if that is the whole
    // body the request can be replayed on a fresh connection.
    let head_len = out.len();
    let piece = dec
        .take(&mut client.rbuf, fw.max_body)
        .map_err(|e| Failure::answer(e, false))?;
    out.extend_from_slice(&piece);
    if buffers(req.framing, fw.request_buffer) {
        // Request buffering (nginx `proxy_request_buffering`): a client
        // that trickles a small body holds no backend connection while it
        // does (issue 13 item 4).
        while !dec.is_done() && ((out.len() - head_len) as u64) < fw.request_buffer {
            let piece = next_piece(fw, client, req, &mut dec, &mut body).await?;
            out.extend_from_slice(&piece);
        }
    }
    let in_memory = dec.is_done();
    send(fw, client, req, target, out, dec, in_memory, body).await
}

/// Whether a body with `framing` is read (its first `limit` bytes, the
/// whole of a smaller one) before the backend is contacted.
fn buffers(framing: BodyFraming, limit: u64) -> bool {
    framing != BodyFraming::None && limit > 0
}

/// Where reading the client's body stands.
struct BodyRead {
    pace: BodyPace,
    /// `100 Continue` was sent.
    continued: bool,
}

/// The next piece of the client's body, answering `100 Continue` first
/// when the client waits for it.
async fn next_piece(
    fw: &Forwarder<'_>,
    client: &mut ClientConn,
    req: &RequestHead,
    dec: &mut Decoder,
    body: &mut BodyRead,
) -> Result<BytesMut, Failure> {
    if req.wants_continue() && client.rbuf.is_empty() && !body.continued {
        let sent =
            io::write_owned_within(&mut client.stream, write::CONTINUE_100, client.send_timeout);
        sent.await.map_err(|_| Failure::SILENT)?;
        body.continued = true;
    }
    let (stream, rbuf) = (&mut client.stream, &mut client.rbuf);
    let piece = body::next_request_piece(dec, stream, rbuf, &mut body.pace, fw.clock, fw.max_body);
    piece.await.map_err(|f| match f {
        BodyFailure::ClientGone => Failure::SILENT,
        BodyFailure::TooSlow => {
            Metrics::bump(&fw.metrics.slow_bodies);
            Failure::SILENT
        }
        BodyFailure::Client(e) | BodyFailure::Upstream(e) => Failure::answer(e, false),
    })
}

/// Connects (or reuses), sends head and body, reads the response head.
/// Retries once on a fresh connection when a pooled one fails before any
/// response byte and the request is idempotent and still in memory.
#[allow(clippy::too_many_arguments)] // the exchange's parts, passed explicitly
async fn send(
    fw: &Forwarder<'_>,
    client: &mut ClientConn,
    req: &RequestHead,
    target: &Target<'_>,
    out: &mut BytesMut,
    mut dec: Decoder,
    in_memory: bool,
    mut body: BodyRead,
) -> Result<(UpstreamConn, ResponseHead), Failure> {
    // Every pooled connection is probed at checkout (`Pool::take`); a close
    // racing the probe is covered by one replay for a request that may be
    // sent twice (idempotent, body in memory). Anything else is never
    // replayed once written: the upstream may have acted on it (RFC 9110
    // §9.2.2).
    let replayable = in_memory && target.method.is_idempotent();
    let mut retried = false;
    loop {
        let mut conn = acquire(fw, target)
            .await
            .map_err(|e| Failure::answer(e, in_memory))?;
        let buf = std::mem::take(out);
        let (res, buf) = timed(target.timeout, io::write_all(&mut conn.stream, buf)).await;
        *out = buf;
        if let Err(e) = res {
            if conn.reused && replayable && !retried && e == GatewayError::UpstreamReset {
                retried = true;
                Metrics::bump(&fw.metrics.upstream_retries);
                continue;
            }
            return Err(Failure::answer(e, in_memory));
        }
        if !dec.is_done() {
            stream_body(
                fw,
                client,
                req,
                &mut conn,
                &mut dec,
                &mut body,
                target.timeout,
            )
            .await?;
        }
        let asked = fw.clock.now();
        match read_head(
            &mut conn,
            target.method,
            fw.max_response_head,
            target.timeout,
            target.websocket,
        )
        .await
        {
            Ok(head) => {
                conn.answered_in = fw.clock.now().saturating_duration_since(asked);
                return Ok((conn, head));
            }
            Err(HeadFailure::ClosedEarly) if conn.reused && replayable && !retried => {
                retried = true;
                Metrics::bump(&fw.metrics.upstream_retries);
            }
            Err(HeadFailure::ClosedEarly) => {
                return Err(Failure::answer(GatewayError::UpstreamReset, true));
            }
            Err(HeadFailure::Error(e)) => {
                if e == GatewayError::UpstreamBadResponse {
                    let now = fw.clock.now();
                    if fw.pool.borrow_mut().distrust(target.upstream, now) {
                        log_distrust(target.addr, "a response whose framing was refused");
                    }
                }
                return Err(Failure::answer(e, true));
            }
        }
    }
}

/// A pooled connection, or a new one within the connect timeout.
async fn acquire(fw: &Forwarder<'_>, target: &Target<'_>) -> Result<UpstreamConn, GatewayError> {
    let pooled = fw
        .pool
        .borrow_mut()
        .take(target.upstream, target.addr, fw.clock.now());
    if let Some(conn) = pooled {
        Metrics::bump(&fw.metrics.upstream_reuses);
        return Ok(conn);
    }
    // One budget for the TCP connect and the TLS handshake together.
    let started = fw.clock.now();
    let connect = TcpStream::connect_addr(target.addr);
    match monoio::time::timeout(fw.connect_timeout, connect).await {
        Err(_) => Err(GatewayError::UpstreamConnectTimeout),
        Ok(Err(_)) => Err(GatewayError::UpstreamConnectFailed),
        Ok(Ok(stream)) => {
            // Heads and small bodies go out in one segment each.
            let _ = stream.set_nodelay(true);
            Metrics::bump(&fw.metrics.upstream_connects);
            let stream = match target.tls {
                None => Stream::Plain(stream),
                Some((config, name)) => {
                    let spent = fw.clock.now().saturating_duration_since(started);
                    let left = fw.connect_timeout.saturating_sub(spent);
                    match tls_connect(stream, config, name, left).await {
                        Ok(tls) => Stream::Tls(Box::new(tls)),
                        Err(e) => {
                            Metrics::bump(&fw.metrics.upstream_tls_failures);
                            return Err(e);
                        }
                    }
                }
            };
            Ok(UpstreamConn::new(stream, target.addr))
        }
    }
}

/// The client handshake with an https backend, within the connect timeout.
/// A certificate that does not verify is a failed connection (502).
async fn tls_connect(
    tcp: TcpStream,
    config: &Arc<ClientConfig>,
    name: &ServerName<'static>,
    limit: Duration,
) -> Result<TlsStream<ClientConnection>, GatewayError> {
    let conn = ClientConnection::new(config.clone(), name.clone())
        .map_err(|_| GatewayError::UpstreamConnectFailed)?;
    let mut stream = TlsStream::new(tcp, conn, Vec::new());
    match monoio::time::timeout(limit, stream.handshake()).await {
        Err(_) => Err(GatewayError::UpstreamConnectTimeout),
        Ok(Err(e)) => {
            // Counted by the caller; a log line per request could flood.
            log::debug!("TLS handshake with backend {name:?} failed: {e}");
            Err(GatewayError::UpstreamConnectFailed)
        }
        Ok(Ok(())) => Ok(stream),
    }
}

/// Streams the rest of the request body from the client to the upstream.
async fn stream_body(
    fw: &Forwarder<'_>,
    client: &mut ClientConn,
    req: &RequestHead,
    conn: &mut UpstreamConn,
    dec: &mut Decoder,
    body: &mut BodyRead,
    timeout: Duration,
) -> Result<(), Failure> {
    while !dec.is_done() {
        let piece = next_piece(fw, client, req, dec, body).await?;
        if piece.is_empty() {
            continue;
        }
        let (res, _) = timed(timeout, io::write_all(&mut conn.stream, piece)).await;
        res.map_err(|e| Failure::answer(e, false))?;
    }
    Ok(())
}

enum HeadFailure {
    /// EOF or reset before any response byte: a reused connection the
    /// upstream had closed.
    ClosedEarly,
    Error(GatewayError),
}

/// Interim (1xx) responses accepted before the final one; more is a flood
/// that ends the connection with a 502 (issue 13). Real servers send one
/// `100 Continue` and perhaps a `103 Early Hints` or two.
const MAX_INTERIM_RESPONSES: usize = 8;

/// Reads the final response head, skipping interim 1xx responses.
async fn read_head(
    conn: &mut UpstreamConn,
    method: Method,
    max_head: usize,
    timeout: Duration,
    websocket: bool,
) -> Result<ResponseHead, HeadFailure> {
    let read = async {
        let mut received = false;
        let mut interim = 0;
        loop {
            match parse_response(&mut conn.buf, max_head, method) {
                // 101 answers a WebSocket handshake (§7.3); unasked for,
                // it is an error. Other 1xx are interim.
                Ok(Some(h)) if h.status == 101 && websocket && upgrades_to_websocket(&h) => {
                    return Ok(h);
                }
                Ok(Some(h)) if h.status == 101 => {
                    return Err(HeadFailure::Error(GatewayError::UpstreamBadResponse));
                }
                Ok(Some(h)) if h.status < 200 => {
                    interim += 1;
                    if interim > MAX_INTERIM_RESPONSES {
                        return Err(HeadFailure::Error(GatewayError::UpstreamBadResponse));
                    }
                    continue;
                }
                Ok(Some(h)) => return Ok(h),
                Ok(None) => {}
                Err(_) => return Err(HeadFailure::Error(GatewayError::UpstreamBadResponse)),
            }
            match io::read_into(&mut conn.stream, &mut conn.buf, UPSTREAM_BUF_BYTES).await {
                Ok(n) if n > 0 => received = true,
                Ok(_) | Err(_) if !received => return Err(HeadFailure::ClosedEarly),
                Ok(_) | Err(_) => return Err(HeadFailure::Error(GatewayError::UpstreamReset)),
            }
        }
    };
    match monoio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(HeadFailure::Error(GatewayError::UpstreamTimeout)),
    }
}

/// Whether a `101` says `Upgrade: websocket` (RFC 6455 §4.2.2): anything
/// else is not the protocol the client asked for.
fn upgrades_to_websocket(head: &ResponseHead) -> bool {
    head.headers.iter().any(|h| {
        h.name.of(&head.buf).eq_ignore_ascii_case(b"upgrade")
            && h.value
                .of(&head.buf)
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"websocket"))
    })
}

/// Runs an upstream write with the backend timeout.
async fn timed<F>(timeout: Duration, op: F) -> (Result<(), GatewayError>, BytesMut)
where
    F: std::future::Future<Output = (std::io::Result<()>, BytesMut)>,
{
    match monoio::time::timeout(timeout, op).await {
        Ok((Ok(()), buf)) => (Ok(()), buf),
        Ok((Err(_), buf)) => (Err(GatewayError::UpstreamReset), buf),
        Err(_) => (Err(GatewayError::UpstreamTimeout), BytesMut::new()),
    }
}
