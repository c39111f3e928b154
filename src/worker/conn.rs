//! One client connection: read a head, run the pipeline, repeat while the
//! connection is kept alive. Pipelined requests are answered in order
//! because each is read from the same buffer only after the previous
//! response was written.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::BytesMut;
use monoio::io::AsyncWriteRent;
use monoio::net::TcpStream;

use crate::clock::Clock;
use crate::error::GatewayError;
use crate::http::{RequestHead, parse_request};
use crate::io::{self, ClientConn, Stream};
use crate::pipeline::{self, CoreState};
use crate::record::Metrics;
use crate::respond::tunnel;
use crate::snapshot::Snapshot;
use crate::tls;

use super::Slot;

/// Initial and refill size of a client read buffer.
const CLIENT_READ_BYTES: usize = 8 * 1024;

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a Cell<usize>);

impl<'a> InFlight<'a> {
    fn enter(c: &'a Cell<usize>) -> Self {
        c.set(c.get() + 1);
        InFlight(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Serves a connection accepted by listener `listener` until it closes.
pub async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    listener: usize,
    core: Rc<CoreState>,
    slot: Rc<Slot>,
) {
    // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d;
    // policies, sourceIp and X-Forwarded-For want a.b.c.d.
    let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
    let _ = tcp.set_nodelay(true);
    let (stream, tls_config) = if core.tls.is_tls(listener) {
        let limit = slot.current().timeouts.header;
        match tls::accept(tcp, &core.tls, listener, limit).await {
            Ok((tls, config)) => (Stream::Tls(Box::new(tls)), Some(config)),
            Err(e) => {
                Metrics::bump(&core.metrics.tls_handshake_failures);
                log::debug!("TLS handshake with {peer} failed: {e}");
                return;
            }
        }
    } else {
        (Stream::Plain(tcp), None)
    };
    let mut client = ClientConn {
        stream,
        listener,
        tunnel: None,
        tls_config,
        rbuf: BytesMut::with_capacity(CLIENT_READ_BYTES),
        out: BytesMut::with_capacity(CLIENT_READ_BYTES),
        peer,
        peer_ip: peer.ip().to_string().into_bytes().into(),
        send_timeout: slot.current().timeouts.send,
    };
    exchange(&mut client, &core, &slot).await;
    match client.tunnel.take() {
        Some(tunnel) => tunnel::relay(client.stream, client.rbuf, tunnel, &*core.clock).await,
        // A TLS client learns the close was deliberate (close_notify), so
        // a response delimited by the close is not taken for a truncation.
        None if client.is_tls() => {
            let _ = monoio::time::timeout(CLOSE_GRACE, client.stream.shutdown()).await;
        }
        None => {}
    }
}

/// Longest the TLS close_notify at the end of a connection may take.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Requests, one after the other, until the connection may not carry
/// another one.
async fn exchange(client: &mut ClientConn, core: &CoreState, slot: &Slot) {
    loop {
        let snap = slot.current();
        let head = match read_head(client, &snap, &*core.clock).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) => {
                pipeline::refuse(core, &snap, client, e).await;
                return;
            }
        };
        let _guard = InFlight::enter(&slot.in_flight);
        if !pipeline::handle(core, &snap, client, head).await {
            return;
        }
        // A body read whole (a signed body, an authorizer event) may have
        // grown the read buffer; an idle keep-alive connection gives it back.
        if client.rbuf.is_empty() && client.rbuf.capacity() > RBUF_KEEP {
            client.rbuf = BytesMut::with_capacity(CLIENT_READ_BYTES);
        }
    }
}

/// Read-buffer capacity a connection keeps between requests.
const RBUF_KEEP: usize = 4 * CLIENT_READ_BYTES;

/// Reads until a whole head is buffered. `Ok(None)`: the client closed, or
/// stayed idle past `keepalive`, or sent a partial head slower than
/// `header` allows (slowloris) — the connection just closes (nginx does the
/// same for `client_header_timeout`).
async fn read_head(
    client: &mut ClientConn,
    snap: &Snapshot,
    clock: &dyn Clock,
) -> Result<Option<RequestHead>, GatewayError> {
    let mut head_started: Option<Instant> = None;
    // The parser rescans the whole buffer, so it runs only when the new
    // bytes may end a head (a blank line), or when the buffer has doubled
    // since it last ran (so limits are still caught, within 2x): a head
    // trickled in a few bytes at a time costs linear time, not quadratic.
    let mut searched = 0;
    let mut parse_at = PARSE_AT_LEAST;
    loop {
        if !client.rbuf.is_empty() {
            if head_may_end(&client.rbuf, searched) || client.rbuf.len() >= parse_at {
                if let Some(head) = parse_request(&mut client.rbuf, &snap.limits)? {
                    return Ok(Some(head));
                }
                parse_at = client.rbuf.len().saturating_mul(2).max(PARSE_AT_LEAST);
            }
            searched = client.rbuf.len();
            head_started.get_or_insert_with(|| clock.now());
        }
        let limit = match head_started {
            None => snap.timeouts.keepalive,
            Some(t) => snap.timeouts.header.saturating_sub(clock.now() - t),
        };
        if limit.is_zero() {
            return Ok(None);
        }
        let read = io::read_into(&mut client.stream, &mut client.rbuf, CLIENT_READ_BYTES);
        match monoio::time::timeout(limit, read).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) | Err(_) => return Ok(None),
        }
    }
}

/// Buffered bytes at which a head without a blank line is parsed anyway.
const PARSE_AT_LEAST: usize = 16 * 1024;

/// Whether `buf[from..]` (with two bytes of overlap) holds the blank line
/// that ends a head: `\n\n` or `\n\r\n` (bare LF is accepted, RFC 9112 §2.2).
fn head_may_end(buf: &[u8], from: usize) -> bool {
    let start = from.saturating_sub(2);
    let tail = buf.get(start..).unwrap_or_default();
    tail.iter().enumerate().any(|(i, &b)| {
        b == b'\n'
            && match tail.get(i + 1) {
                Some(b'\n') => true,
                Some(b'\r') => tail.get(i + 2) == Some(&b'\n'),
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::head_may_end;

    #[test]
    fn head_end_is_found_across_read_boundaries() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert!(head_may_end(head, 0));
        // Every split point: what is new after `from` still reveals the end.
        for from in 0..head.len() {
            assert!(head_may_end(head, from), "missed at {from}");
        }
        assert!(!head_may_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0));
        assert!(head_may_end(b"GET / HTTP/1.1\nHost: a\n\n", 0));
    }
}
