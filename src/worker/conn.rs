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
use super::admission::{Admission, ConnSlot, HeadLease};

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
    seat: ConnSlot,
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
    exchange(&mut client, &core, &slot, seat.admission()).await;
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
async fn exchange(client: &mut ClientConn, core: &CoreState, slot: &Slot, admission: &Admission) {
    loop {
        let snap = slot.current();
        // The lease lives until the request is answered: a head grown past
        // 8 KiB is held by the request (split off the read buffer) as long.
        let mut lease = admission.head_lease();
        let head = match read_head(client, &snap, &*core.clock, &mut lease).await {
            Ok(HeadRead::Head(head)) => head,
            Ok(HeadRead::Closed) => return,
            Ok(HeadRead::OverBudget) => {
                Metrics::bump(&core.metrics.head_budget_refusals);
                return;
            }
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

/// How reading a head ended, short of an error to answer.
enum HeadRead {
    /// A whole head.
    Head(RequestHead),
    /// The client closed, or stayed idle past `keepalive`, or sent a
    /// partial head slower than `header` allows (slowloris): the connection
    /// just closes (nginx does the same for `client_header_timeout`).
    Closed,
    /// The head needs a bigger buffer than the worker's head budget has
    /// left (`worker::admission`): the connection closes.
    OverBudget,
}

/// Reads until a whole head is buffered. The read buffer grows past its
/// first 8 KiB only with bytes `lease` takes from the worker's head budget,
/// and never past what the head limits allow (so a never-finished head
/// costs at most that, not a doubled buffer); the caller gives the lease
/// back once the request is done.
async fn read_head(
    client: &mut ClientConn,
    snap: &Snapshot,
    clock: &dyn Clock,
    lease: &mut HeadLease<'_>,
) -> Result<HeadRead, GatewayError> {
    let most = snap.limits.max_partial_head_bytes().saturating_add(1);
    let mut head_started: Option<Instant> = None;
    // The parser rescans the whole buffer, so it runs only when the new
    // bytes may end a head (a blank line), or when the buffer has doubled
    // since it last ran (so limits are still caught, within 2x): a head
    // trickled in a few bytes at a time costs linear time, not quadratic.
    let mut searched = 0;
    let mut parse_at = PARSE_AT_LEAST;
    loop {
        if !client.rbuf.is_empty() {
            let full = client.rbuf.len() >= most;
            if head_may_end(&client.rbuf, searched) || client.rbuf.len() >= parse_at || full {
                if let Some(head) = parse_request(&mut client.rbuf, &snap.limits)? {
                    return Ok(HeadRead::Head(head));
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
            return Ok(HeadRead::Closed);
        }
        if !make_room(&mut client.rbuf, most, lease) {
            return Ok(HeadRead::OverBudget);
        }
        let room = client.rbuf.capacity() - client.rbuf.len();
        let read = io::read_into(&mut client.stream, &mut client.rbuf, room);
        let read = monoio::time::timeout(limit, read);
        let got = if head_started.is_none() {
            // Idle between requests: the worker may take the slot back for
            // a new client when it is at its connection cap.
            let mark = lease.admission().idle_mark();
            monoio::select! {
                got = read => got,
                _ = mark.reclaimed() => return Ok(HeadRead::Closed),
            }
        } else {
            read.await
        };
        match got {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) | Err(_) => return Ok(HeadRead::Closed),
        }
    }
}

/// Makes sure `buf` has room to read into, growing it (doubling, at most to
/// `most` bytes) with bytes from `lease` when it is full; false when the
/// budget cannot give them. The parser refuses a partial head before it
/// reaches `most`, so a full buffer at `most` never needs more.
fn make_room(buf: &mut BytesMut, most: usize, lease: &mut HeadLease<'_>) -> bool {
    let cap = buf.capacity();
    if cap - buf.len() >= CLIENT_READ_BYTES / 4 || cap >= most {
        return cap > buf.len();
    }
    let grown = cap.saturating_mul(2).max(CLIENT_READ_BYTES).min(most);
    if !lease.hold(grown.saturating_sub(CLIENT_READ_BYTES)) {
        return false;
    }
    let mut bigger = BytesMut::with_capacity(grown);
    bigger.extend_from_slice(buf);
    *buf = bigger;
    debug_assert!(buf.capacity() >= grown, "grown as asked");
    true
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

    // regression: issue 13 item 4 — a never-finished head of legal size
    // doubled its buffer past the limit (287 KiB for a ~160 KiB limit).
    #[test]
    fn a_head_buffer_grows_within_the_limit_and_the_budget() {
        use super::super::admission::Admission;
        use super::{BytesMut, CLIENT_READ_BYTES, make_room};
        let most = 100_000;
        let admission = Admission::new(8, 150_000);
        let mut lease = admission.head_lease();
        let mut buf = BytesMut::with_capacity(CLIENT_READ_BYTES);
        while buf.len() < most {
            assert!(make_room(&mut buf, most, &mut lease));
            let room = buf.capacity() - buf.len();
            buf.extend_from_slice(&vec![b'x'; room.min(3000)]);
        }
        assert_eq!(buf.capacity(), most, "never past the limit");
        assert!(
            !make_room(&mut buf, most, &mut lease),
            "full: the parser decides"
        );
        assert_eq!(admission.head_used(), most - CLIENT_READ_BYTES);
        // A second head finds only what is left of the budget.
        let mut other = admission.head_lease();
        let mut small = BytesMut::with_capacity(CLIENT_READ_BYTES);
        let mut grew = 0;
        while make_room(&mut small, most, &mut other) {
            grew += 1;
            let room = small.capacity() - small.len();
            small.extend_from_slice(&vec![b'y'; room]);
        }
        assert!(
            grew > 0 && small.capacity() < most,
            "refused once over budget"
        );
        assert!(admission.head_used() <= 150_000);
        drop(lease);
        drop(other);
        assert_eq!(admission.head_used(), 0);
    }
}
