//! Per-core keep-alive pool of upstream connections (architecture.md:
//! connection reuse is most of a proxy's win).
//!
//! Owned by one worker, never shared. Idle connections are kept LIFO per
//! upstream (the warmest first), at most `max_idle` each, for at most
//! `idle_timeout`.
//!
//! A request must never fail because the upstream closed a pooled
//! connection. Two mechanisms, chosen per request by the forward stage:
//! * a request that can be replayed safely (idempotent method, body fully in
//!   memory) takes a connection without probing; if it fails before any
//!   response byte, it is sent again once on a fresh connection;
//! * any other request probes its connection first with a non-blocking
//!   `MSG_PEEK`: an upstream that closed it (EOF) or sent unsolicited bytes
//!   is dropped before anything is written. Such a request is never sent
//!   twice (the upstream may have acted on it), so a close racing the probe
//!   — microseconds wide — still answers 502, as nginx does.

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
}

impl UpstreamConn {
    /// A freshly connected upstream.
    pub fn new(stream: Stream<ClientConnection>, addr: SocketAddr) -> Self {
        UpstreamConn {
            stream,
            buf: BytesMut::with_capacity(UPSTREAM_BUF_BYTES),
            addr,
            reused: false,
        }
    }
}

#[derive(Debug)]
struct Idle {
    conn: UpstreamConn,
    since: Instant,
}

/// The pool of one worker.
#[derive(Debug)]
pub struct Pool {
    idle: Vec<VecDeque<Idle>>,
    max_idle: usize,
    idle_timeout: Duration,
}

impl Pool {
    /// An empty pool for `upstreams` upstreams.
    pub fn new(upstreams: usize, max_idle: usize, idle_timeout: Duration) -> Self {
        Pool {
            idle: (0..upstreams).map(|_| VecDeque::new()).collect(),
            max_idle,
            idle_timeout,
        }
    }

    /// An idle connection to `addr`, if one is pooled. With `probe`, each
    /// candidate is first checked with a non-blocking `MSG_PEEK` (one
    /// syscall) and dropped if the upstream closed it.
    pub fn take(
        &mut self,
        id: UpstreamId,
        addr: SocketAddr,
        now: Instant,
        probe: bool,
    ) -> Option<UpstreamConn> {
        let list = self.idle.get_mut(id as usize)?;
        while let Some(mut idle) = list.pop_back() {
            let fresh = now.saturating_duration_since(idle.since) < self.idle_timeout;
            let usable = fresh
                && idle.conn.addr == addr
                && idle.conn.buf.is_empty()
                && !idle.conn.stream.has_pending_input();
            if usable && (!probe || is_open(idle.conn.stream.tcp())) {
                let mut conn = idle.conn;
                conn.reused = true;
                return Some(conn);
            }
        }
        None
    }

    /// Returns a connection whose last exchange completed cleanly.
    pub fn put(&mut self, id: UpstreamId, conn: UpstreamConn, now: Instant) {
        debug_assert!(conn.buf.is_empty(), "pooled connection has unread bytes");
        let Some(list) = self.idle.get_mut(id as usize) else {
            return;
        };
        if list.len() >= self.max_idle {
            // Drop the coldest; keep the most recently used.
            list.pop_front();
        }
        list.push_back(Idle { conn, since: now });
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

/// Whether the peer has neither closed the connection nor sent unsolicited
/// bytes: a non-blocking one-byte `MSG_PEEK`.
fn is_open(stream: &TcpStream) -> bool {
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
    if n < 0 {
        let err = std::io::Error::last_os_error();
        return err.kind() == std::io::ErrorKind::WouldBlock;
    }
    // 0: orderly shutdown by the upstream; >0: bytes nobody asked for.
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    /// A connected pair on loopback: (our side as an `UpstreamConn`, peer).
    async fn pair() -> (UpstreamConn, monoio::net::TcpStream) {
        let listener = monoio::net::TcpListener::bind("127.0.0.1:0").unwrap();
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
        let conn = pool.take(0, addr, clock.now(), true).expect("fresh enough");
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
            if !is_open(conn.stream.tcp()) {
                break;
            }
            monoio::time::sleep(Duration::from_millis(1)).await;
        }
        pool.put(0, conn, clock.now());
        assert!(pool.take(0, addr, clock.now(), true).is_none());
    }

    #[monoio::test_all(timer_enabled = true)]
    async fn full_pool_drops_the_coldest() {
        let clock = ManualClock::new();
        let mut pool = Pool::new(1, 2, Duration::from_secs(60));
        let mut peers = Vec::new();
        let mut ports = Vec::new();
        let mut addr = None;
        for _ in 0..3 {
            let (conn, peer) = pair().await;
            ports.push(conn.stream.tcp().local_addr().unwrap().port());
            addr = Some(conn.addr);
            peers.push(peer);
            pool.put(0, conn, clock.now());
        }
        assert_eq!(pool.idle_count(0), 2);
        let warmest = pool.take(0, addr.unwrap(), clock.now(), false).unwrap();
        assert_eq!(warmest.stream.tcp().local_addr().unwrap().port(), ports[2]);
    }
}
