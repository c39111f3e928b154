//! Per-core keep-alive pool of upstream connections (architecture.md:
//! connection reuse is most of a proxy's win).
//!
//! Owned by one worker, never shared. Idle connections are kept per
//! upstream, at most `max_idle` each, for at most `idle_timeout`; a
//! checkout takes the warmest one done resting (see [`Pool::put`]), so a
//! quiet pool shrinks as its coldest connections age out.
//!
//! A client must never receive a response that is not its own, and a
//! request must never fail because the upstream closed a pooled connection:
//! * every checkout probes its connection with a non-blocking `MSG_PEEK`
//!   (one syscall): an idle connection on which the upstream sent anything
//!   — an unsolicited response, bytes past a response's declared end, a
//!   TLS record, or EOF — is closed, never reused, as nginx closes a cached
//!   upstream connection on any read event while it is idle. Without this,
//!   those bytes would answer the next request, whoever sent it, and every
//!   later response on the connection would be one behind (issue 13);
//! * a close racing the probe (microseconds wide) is covered by the forward
//!   stage: a request that can be replayed safely (idempotent method, body
//!   fully in memory) is sent again once on a fresh connection; any other
//!   answers 502, as nginx does.
//!
//! Bytes an upstream writes while a request is in flight on the connection
//! cannot be told from its answer (HTTP/1.1 has no request ids); they reach
//! that request's client, and the answer they displace then finds the
//! connection idle and closes it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use monoio::net::TcpStream;
use rustls::ClientConnection;

use crate::io::Stream;

use super::UpstreamId;

/// Bytes reserved for an upstream connection's read buffer.
pub const UPSTREAM_BUF_BYTES: usize = 16 * 1024;

/// A connection to an upstream with its read buffer.
#[derive(Debug)]
pub struct UpstreamConn {
    /// The socket, plain or TLS.
    pub stream: Stream<ClientConnection>,
    /// Bytes read but not yet consumed.
    pub buf: BytesMut,
    /// Where it is connected.
    pub addr: SocketAddr,
    /// Whether it came out of the pool (it served an earlier request).
    pub reused: bool,
    /// How long the last answer on it took: the request's last byte
    /// written to the response head read.
    pub answered_in: Duration,
}

impl UpstreamConn {
    /// A freshly connected upstream.
    pub fn new(stream: Stream<ClientConnection>, addr: SocketAddr) -> Self {
        UpstreamConn {
            stream,
            buf: BytesMut::with_capacity(UPSTREAM_BUF_BYTES),
            addr,
            reused: false,
            answered_in: Duration::ZERO,
        }
    }
}

/// Longest rest a connection takes after an answer before it carries
/// another request (see [`Pool::put`]): the default largest backend
/// timeout, which bounds any answer's time anyway.
pub const MAX_REST: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Idle {
    conn: UpstreamConn,
    /// When it came back.
    since: Instant,
    /// When it may carry the next request.
    ready_at: Instant,
}

/// How long a backend that sent bytes nobody asked for gets no connection
/// reuse from a worker (see [`Pool::distrust`]).
pub const DISTRUST_FOR: Duration = Duration::from_secs(60);

/// The pool of one worker.
#[derive(Debug)]
pub struct Pool {
    idle: Vec<VecDeque<Idle>>,
    /// Per upstream: until when its connections are not reused.
    distrusted_until: Vec<Option<Instant>>,
    /// Per upstream: how long its answers take, the slowest recent one
    /// (decaying by an eighth per answer); a connection rests a quarter
    /// longer than that.
    latency: Vec<Duration>,
    max_idle: usize,
    idle_timeout: Duration,
}

impl Pool {
    /// An empty pool for `upstreams` upstreams.
    pub fn new(upstreams: usize, max_idle: usize, idle_timeout: Duration) -> Self {
        Pool {
            idle: (0..upstreams).map(|_| VecDeque::new()).collect(),
            distrusted_until: vec![None; upstreams],
            latency: vec![Duration::ZERO; upstreams],
            max_idle,
            idle_timeout,
        }
    }

    /// The upstream `id` sent bytes nobody asked for (seen on an idle
    /// connection, past a response's end, or as a response whose framing
    /// was refused): for [`DISTRUST_FOR`], its connections carry one
    /// request each and are never pooled, and those pooled now are closed
    /// (they may hold answers displaced by the stray bytes). Only requests
    /// already in flight can meet the rest of what it sent. Returns true
    /// when this starts a period (the caller logs it once).
    pub fn distrust(&mut self, id: UpstreamId, now: Instant) -> bool {
        let Some(until) = self.distrusted_until.get_mut(id as usize) else {
            return false;
        };
        let starts = until.is_none_or(|t| t <= now);
        *until = Some(now + DISTRUST_FOR);
        if let Some(list) = self.idle.get_mut(id as usize) {
            list.clear();
        }
        starts
    }

    /// Whether connections to `id` are not reused now.
    pub fn is_distrusted(&self, id: UpstreamId, now: Instant) -> bool {
        self.distrusted_until
            .get(id as usize)
            .copied()
            .flatten()
            .is_some_and(|t| t > now)
    }

    /// The most recently returned idle connection to `addr` among those
    /// done resting, if one is pooled (the warmest; the coldest age out).
    /// The candidate is first checked with a non-blocking `MSG_PEEK` (one
    /// syscall) and closed if the upstream closed it or sent anything while
    /// it idled; expired or mismatched ones met on the way are closed too.
    pub fn take(&mut self, id: UpstreamId, addr: SocketAddr, now: Instant) -> Option<UpstreamConn> {
        let timeout = self.idle_timeout;
        let list = self.idle.get_mut(id as usize)?;
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            let Some(idle) = list.get_mut(i) else { break };
            let fresh = now.saturating_duration_since(idle.since) < timeout;
            let usable = fresh
                && idle.conn.addr == addr
                && idle.conn.buf.is_empty()
                && !idle.conn.stream.has_pending_input();
            if usable && idle.ready_at > now {
                // Still resting: leave it for a later request.
                continue;
            }
            let Some(idle) = list.remove(i) else { break };
            if !usable {
                continue;
            }
            match probe(idle.conn.stream.tcp()) {
                Probe::Quiet => {
                    let mut conn = idle.conn;
                    conn.reused = true;
                    return Some(conn);
                }
                Probe::Closed => {}
                // A TLS backend may send records of its own (a session
                // ticket) after an answer: closed, not held against it.
                Probe::Spoke if idle.conn.stream.is_tls() => {}
                Probe::Spoke => {
                    if self.distrust(id, now) {
                        log_distrust(addr, "on an idle connection");
                    }
                    return None;
                }
            }
        }
        None
    }

    /// Returns a connection whose last exchange completed cleanly (closes it
    /// when `max_idle` are pooled already). It rests before its next
    /// request a quarter longer than this upstream's slowest recent answer
    /// (decaying by an eighth per answer; at most [`MAX_REST`]): a backend that wrote a stray
    /// response while a request was in flight (that request got the stray
    /// one) answers the displaced request within about its usual time, so
    /// the answer lands while the connection rests and the checkout probe
    /// closes it (and distrusts the backend), instead of answering the next
    /// request, whoever sent it (issue 13). Answers displaced one by one
    /// all look as quick as usual, so the rest must cover the slow end of
    /// the usual time (an average let one through), not the last answer's. The price: a busy upstream needs about
    /// twice as many connections as requests in flight.
    pub fn put(&mut self, id: UpstreamId, conn: UpstreamConn, now: Instant) {
        debug_assert!(conn.buf.is_empty(), "pooled connection has unread bytes");
        if self.is_distrusted(id, now) {
            return;
        }
        let Some(list) = self.idle.get_mut(id as usize) else {
            return;
        };
        if list.len() >= self.max_idle {
            // Full: this one, just back, would rest longest before it could
            // serve again; closing it keeps the rested ones (closing those
            // instead made a busy pool open and close connections in turn).
            return;
        }
        let Some(latency) = self.latency.get_mut(id as usize) else {
            return;
        };
        // A new connection's first answer also waited for the backend to
        // take the connection on (a thread or process to start): it says
        // little about the answers that follow, and does not count.
        if conn.reused {
            *latency = conn.answered_in.max(*latency - *latency / 8);
        }
        let rest = (*latency + *latency / 4).min(MAX_REST);
        let ready_at = now + rest;
        list.push_back(Idle {
            conn,
            since: now,
            ready_at,
        });
    }

    /// Closes connections idle for longer than the idle timeout.
    pub fn evict_expired(&mut self, now: Instant) {
        let timeout = self.idle_timeout;
        for list in &mut self.idle {
            list.retain(|i| now.saturating_duration_since(i.since) < timeout);
        }
    }

    /// Idle connections held for `id`.
    pub fn idle_count(&self, id: UpstreamId) -> usize {
        self.idle.get(id as usize).map_or(0, VecDeque::len)
    }
}

/// What an idle connection's socket holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// Nothing: it may carry a request.
    Quiet,
    /// EOF or an error: the upstream closed it (a keep-alive timeout).
    Closed,
    /// Bytes nobody asked for.
    Spoke,
}

/// A non-blocking one-byte `MSG_PEEK` of an idle connection. Works the
/// same under both drivers (nothing is in flight on a pooled socket) and
/// for TLS, whose records arrive on the same socket.
fn probe(stream: &TcpStream) -> Probe {
    let mut byte = 0u8;
    // SAFETY: the fd is a valid, open socket owned by `stream` for the whole
    // call; the buffer is one writable byte on our stack; MSG_DONTWAIT makes
    // the call non-blocking, so the worker never waits in it.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => Probe::Closed,
        n if n > 0 => Probe::Spoke,
        _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock => {
            Probe::Quiet
        }
        _ => Probe::Closed,
    }
}

/// Logs the start of a distrust period (once per period and worker).
pub fn log_distrust(addr: SocketAddr, how: &str) {
    log::warn!(
        "backend {addr} sent bytes nobody asked for ({how}): its connections are not reused \
         for {} s, so they cannot answer another client's request; check the backend's \
         response framing",
        DISTRUST_FOR.as_secs()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    /// A connected pair on loopback: (our side as an `UpstreamConn`, peer).
    async fn pair() -> (UpstreamConn, monoio::net::TcpStream) {
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
        pair_on(&listener).await
    }

    /// As [`pair`], connected to `listener`.
    async fn pair_on(
        listener: &monoio::net::TcpListener,
    ) -> (UpstreamConn, monoio::net::TcpStream) {
        let addr = listener.local_addr().unwrap();
        let ours = TcpStream::connect_addr(addr).await.unwrap();
        let (theirs, _) = listener.accept().await.unwrap();
        (UpstreamConn::new(Stream::Plain(ours), addr), theirs)
    }

    #[monoio::test_all(timer_enabled = true)]
    async fn idle_connections_expire_on_the_clock() {
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 4, Duration::from_secs(60));
        let (conn, _peer) = pair().await;
        let addr = conn.addr;
        pool.put(0, conn, clock.now());
        clock.advance(Duration::from_secs(59));
        let conn = pool.take(0, addr, clock.now()).expect("fresh enough");
        assert!(conn.reused);
        pool.put(0, conn, clock.now());
        clock.advance(Duration::from_secs(60));
        pool.evict_expired(clock.now());
        assert_eq!(pool.idle_count(0), 0);
    }

    #[monoio::test_all(timer_enabled = true)]
    async fn probe_drops_a_connection_the_upstream_closed() {
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 4, Duration::from_secs(60));
        let (conn, peer) = pair().await;
        let addr = conn.addr;
        drop(peer);
        // The FIN arrives asynchronously: poll for it, up to a deadline.
        for _ in 0..1000 {
            if probe(conn.stream.tcp()) != Probe::Quiet {
                break;
            }
            monoio::time::sleep(Duration::from_millis(1)).await;
        }
        pool.put(0, conn, clock.now());
        assert!(pool.take(0, addr, clock.now()).is_none());
    }

    // regression: issue 13 — after stray bytes, a backend's connections
    // must not carry another request at all.
    #[monoio::test_all(timer_enabled = true)]
    async fn a_backend_that_speaks_unasked_is_not_reused_for_a_while() {
        use monoio::io::AsyncWriteRentExt;
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 4, Duration::from_secs(600));
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (noisy, mut peer) = pair_on(&listener).await;
        let (quiet, _p2) = pair_on(&listener).await;
        let (res, _) = peer.write_all(b"POISON").await;
        res.unwrap();
        for _ in 0..1000 {
            if probe(noisy.stream.tcp()) != Probe::Quiet {
                break;
            }
            monoio::time::sleep(Duration::from_millis(1)).await;
        }
        pool.put(0, quiet, clock.now());
        pool.put(0, noisy, clock.now());
        // The noisy one (the warmest) is met first: the quiet one is closed
        // with it.
        assert!(pool.take(0, addr, clock.now()).is_none());
        assert_eq!(pool.idle_count(0), 0);
        assert!(pool.is_distrusted(0, clock.now()));
        let (again, _p3) = pair_on(&listener).await;
        pool.put(0, again, clock.now());
        assert_eq!(pool.idle_count(0), 0, "not pooled while distrusted");
        clock.advance(DISTRUST_FOR);
        assert!(!pool.is_distrusted(0, clock.now()));
        let (later, _p4) = pair_on(&listener).await;
        pool.put(0, later, clock.now());
        assert_eq!(pool.idle_count(0), 1);
        // A close is not held against a backend (a keep-alive timeout).
        drop(_p4);
    }

    #[monoio::test_all(timer_enabled = true)]
    async fn a_full_pool_closes_the_newcomer_and_takes_in_order() {
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 2, Duration::from_secs(60));
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut peers = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..3 {
            let (conn, peer) = pair_on(&listener).await;
            ports.push(conn.stream.tcp().local_addr().unwrap().port());
            peers.push(peer);
            pool.put(0, conn, clock.now());
        }
        assert_eq!(pool.idle_count(0), 2);
        let port = |c: UpstreamConn| c.stream.tcp().local_addr().unwrap().port();
        assert_eq!(pool.take(0, addr, clock.now()).map(port), Some(ports[1]));
        assert_eq!(pool.take(0, addr, clock.now()).map(port), Some(ports[0]));
    }

    // regression: issue 13 — a response displaced by a stray one arrived
    // just after the connection was handed to the next client.
    #[monoio::test_all(timer_enabled = true)]
    async fn a_connection_rests_as_long_as_its_upstreams_answers_take() {
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 4, Duration::from_secs(60));
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut slow, _p1) = pair_on(&listener).await;
        let (fast, _p2) = pair_on(&listener).await;
        let fast_port = fast.stream.tcp().local_addr().unwrap().port();
        slow.answered_in = Duration::from_millis(16);
        slow.reused = true;
        pool.put(0, fast, clock.now());
        pool.put(0, slow, clock.now());
        // The slow one is the warmest but not done resting (16 ms and a
        // quarter); the fast one came back before any answer (it rests 0).
        let taken = pool.take(0, addr, clock.now()).expect("the rested one");
        assert_eq!(taken.stream.tcp().local_addr().unwrap().port(), fast_port);
        assert!(pool.take(0, addr, clock.now()).is_none());
        assert_eq!(pool.idle_count(0), 1, "a resting connection is kept");
        clock.advance(Duration::from_millis(19));
        assert!(pool.take(0, addr, clock.now()).is_none());
        clock.advance(Duration::from_millis(1));
        assert!(pool.take(0, addr, clock.now()).is_some());
        // A quick answer lowers the estimate by an eighth only: 14 ms, so a
        // rest of 17.5 ms.
        pool.put(0, taken, clock.now());
        clock.advance(Duration::from_millis(17));
        assert!(pool.take(0, addr, clock.now()).is_none());
        clock.advance(Duration::from_millis(1));
        assert!(pool.take(0, addr, clock.now()).is_some());
        // A new connection's first answer, however slow, does not count.
        let (mut first, _p3) = pair_on(&listener).await;
        first.answered_in = Duration::from_secs(1);
        pool.put(0, first, clock.now());
        clock.advance(Duration::from_millis(18));
        assert!(pool.take(0, addr, clock.now()).is_some());
    }
}
