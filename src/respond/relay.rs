//! Streams a proxied response back to the client: the head with the
//! gateway's headers, then the body with bounded memory, then the upstream
//! connection back to this core's pool when the exchange ended cleanly.

use std::cell::RefCell;
use std::time::Duration;

use bytes::{BufMut, BytesMut};

use crate::clock::Clock;
use crate::forward::body::{self, Decoder, ReadFailure};
use crate::http::framing::{LAST_CHUNK, encode_chunk_header};
use crate::http::{Method, RequestHead, ResponseFraming, ResponseHead, Version};
use crate::io::{self, ClientConn};
use crate::request_id::RequestId;
use crate::upstream::UpstreamId;
use crate::upstream::pool::{Pool, UpstreamConn, log_distrust};

use super::{ClientFraming, Decor};

/// Largest first body piece copied behind the response head so both go out
/// in one write.
const COALESCE_BYTES: usize = 16 * 1024;

/// How long each side may stall while the response streams.
#[derive(Debug, Clone, Copy)]
pub struct RelayTimeouts {
    /// Each read from the upstream (the API's backend timeout, §7.2).
    pub upstream: Duration,
    /// Each write to the client (`settings.send_timeout_ms`).
    pub client: Duration,
}

/// Where a finished exchange hands its upstream connection back.
pub struct PoolReturn<'a> {
    /// This worker's pool.
    pub pool: &'a RefCell<Pool>,
    /// The connection's pool key.
    pub upstream: UpstreamId,
    /// The worker's clock, for the idle timer.
    pub clock: &'a dyn Clock,
}

/// Why a response cannot be relayed at all (nothing was written yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrelayable;

/// Relays `resp` (read from `conn`) to the client. Returns whether the
/// client connection may carry another request; `Err` when the response is
/// unusable for this client before anything was written.
#[allow(clippy::too_many_arguments)] // the exchange's parts, passed explicitly
pub async fn relay(
    client: &mut ClientConn,
    req: &RequestHead,
    mut conn: UpstreamConn,
    resp: &ResponseHead,
    rid: &RequestId,
    decor: &Decor,
    keep_alive: bool,
    timeouts: RelayTimeouts,
    back: PoolReturn<'_>,
) -> Result<bool, Unrelayable> {
    if resp.framing == ResponseFraming::Chunked && req.version == Version::Http10 {
        // We asked in HTTP/1.0; a chunked answer cannot reach this client.
        return Err(Unrelayable);
    }
    // A HEAD client gets no body whatever the upstream was asked (a backend
    // method of GET answers with one, RFC 9110 §9.3.2).
    let client_head = req.method == Method::Head;
    let (framing, relayed) = if client_head {
        (ClientFraming::HeadOnly, ResponseFraming::Empty)
    } else {
        (
            ClientFraming::for_response(resp.framing, req.version),
            resp.framing,
        )
    };
    let keep_client = keep_alive && framing != ClientFraming::UntilClose;
    let mut out = std::mem::take(&mut client.out);
    super::proxied_head(
        &mut out,
        resp,
        rid,
        decor,
        req.version,
        keep_client,
        framing,
    );
    let complete = stream(&mut conn, client, &mut out, relayed, framing, timeouts).await;
    out.clear();
    client.out = out;
    if !complete {
        return Ok(false);
    }
    // A body left unread on the connection would become the next
    // request's response: such a connection is closed, never pooled.
    let drained =
        relayed == resp.framing && conn.buf.is_empty() && !conn.stream.has_pending_input();
    let mut pool = back.pool.borrow_mut();
    if relayed == resp.framing && !conn.buf.is_empty() {
        // Bytes past the response's declared end (a body after 204, 304 or
        // HEAD, more than Content-Length): the backend says more than it
        // is asked.
        if pool.distrust(back.upstream, back.clock.now()) {
            log_distrust(conn.addr, "past the end of a response");
        }
    } else if resp.keep_alive && drained {
        pool.put(back.upstream, conn, back.clock.now());
    }
    Ok(keep_client)
}

/// Writes `out` (the head) and the body; true when all of it arrived.
async fn stream(
    conn: &mut UpstreamConn,
    client: &mut ClientConn,
    out: &mut BytesMut,
    upstream: ResponseFraming,
    framing: ClientFraming,
    timeouts: RelayTimeouts,
) -> bool {
    let mut dec = Decoder::for_response(upstream);
    let rechunk = upstream == ResponseFraming::UntilClose && framing == ClientFraming::Chunked;
    let mut first = true;
    loop {
        if conn.buf.is_empty() && !dec.is_done() {
            match body::fill(&mut conn.stream, &mut conn.buf, timeouts.upstream).await {
                Ok(0) if dec.on_eof() => {}
                Ok(0) | Err(ReadFailure::TimedOut | ReadFailure::Broken) => return false,
                Ok(_) => {}
            }
        }
        let Ok(piece) = dec.take(&mut conn.buf, u64::MAX) else {
            return false;
        };
        let last = dec.is_done();
        if rechunk && !piece.is_empty() {
            encode_chunk_header(piece.len(), out);
            out.extend_from_slice(&piece);
            out.put_slice(b"\r\n");
        } else if first && out.len() + piece.len() <= COALESCE_BYTES {
            out.extend_from_slice(&piece);
        } else {
            if !flush(client, out, timeouts.client).await {
                return false;
            }
            if !piece.is_empty() {
                let sent = io::write_owned_within(&mut client.stream, piece, timeouts.client);
                if sent.await.is_err() {
                    return false;
                }
            }
        }
        first = false;
        if last && rechunk {
            out.put_slice(LAST_CHUNK);
        }
        if !flush(client, out, timeouts.client).await {
            return false;
        }
        if last {
            return true;
        }
    }
}

/// Writes and clears `out`; false when the client is gone or stopped
/// reading for `limit`.
async fn flush(client: &mut ClientConn, out: &mut BytesMut, limit: Duration) -> bool {
    if out.is_empty() {
        return true;
    }
    let buf = std::mem::take(out);
    let (res, mut buf) = io::write_all_within(&mut client.stream, buf, limit).await;
    buf.clear();
    *out = buf;
    res.is_ok()
}
