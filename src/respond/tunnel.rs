//! WebSocket relay after `101 Switching Protocols` (behaviour.md §7.3).
//!
//! Bytes flow both ways unchanged (frames are the endpoints' business)
//! until either side closes, or until no byte has moved in either
//! direction for the API's backend timeout: "if the WebSocket connection's
//! idle time exceeds the configured timeout and there is no ping/pong
//! keep-alive, the connection is automatically closed". A ping or pong is
//! traffic like any other frame, so heartbeats keep the tunnel open.
//!
//! Each direction is its own loop over split halves (a read waits while
//! the other direction writes); a watchdog compares the time of the last
//! byte with the clock. A side that ends its stream (a half-close) has the
//! end passed on, and the other direction goes on until it ends too, so a
//! reply in flight is not lost; an error or the idle timeout ends both. At
//! the end both write sides are shut down (TLS sends close_notify).

use std::cell::Cell;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use crate::clock::Clock;
use crate::io::{ReadHalf, Stream, Tunnel, WriteHalf};

/// Bytes moved per read.
const TUNNEL_READ_BYTES: usize = 16 * 1024;

/// Longest the closing shutdowns may take.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Relays between the client and the upstream of `tunnel`. `client_early`
/// holds client bytes read past the handshake request.
pub async fn relay(
    client: Stream<rustls::ServerConnection>,
    client_early: BytesMut,
    tunnel: Tunnel,
    clock: &dyn Clock,
) {
    let (mut client_r, mut client_w) = client.into_split();
    let (mut up_r, mut up_w) = tunnel.upstream.into_split();
    let last = Cell::new(clock.now());
    {
        let to_upstream = pump(&mut client_r, &mut up_w, client_early, &last, clock);
        let to_client = pump(&mut up_r, &mut client_w, tunnel.early, &last, clock);
        let idle = watchdog(&last, tunnel.idle, clock);
        let mut to_upstream = std::pin::pin!(to_upstream);
        let mut to_client = std::pin::pin!(to_client);
        let mut idle = std::pin::pin!(idle);
        let first = monoio::select! {
            ended = &mut to_upstream => Some((true, ended)),
            ended = &mut to_client => Some((false, ended)),
            _ = &mut idle => None,
        };
        match first {
            // The client half-closed: the upstream may still answer.
            Some((true, Ended::Cleanly)) => monoio::select! {
                _ = &mut to_client => {}
                _ = &mut idle => {}
            },
            // The upstream half-closed: the client may still send.
            Some((false, Ended::Cleanly)) => monoio::select! {
                _ = &mut to_upstream => {}
                _ = &mut idle => {}
            },
            Some((_, Ended::Failed)) | None => {}
        }
    }
    let close = async {
        let _ = client_w.shutdown().await;
        let _ = up_w.shutdown().await;
    };
    let _ = monoio::time::timeout(SHUTDOWN_GRACE, close).await;
}

/// How one direction ended.
enum Ended {
    /// End of stream, passed on to the other side (its write half shut).
    Cleanly,
    /// A read or write failed.
    Failed,
}

/// Copies `from` → `to`, `early` first, until end of stream (then shuts
/// `to` down) or an error.
async fn pump<CR, SR, CW, SW>(
    from: &mut ReadHalf<CR>,
    to: &mut WriteHalf<CW>,
    early: BytesMut,
    last: &Cell<Instant>,
    clock: &dyn Clock,
) -> Ended
where
    CR: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SR>>,
    SR: rustls::SideData,
    CW: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<SW>>,
    SW: rustls::SideData,
{
    if !early.is_empty() {
        let (res, _) = to.write_all(early).await;
        if res.is_err() {
            return Ended::Failed;
        }
        last.set(clock.now());
    }
    let mut buf = Vec::with_capacity(TUNNEL_READ_BYTES);
    loop {
        buf.clear();
        let (res, back) = from.read(buf).await;
        buf = back;
        match res {
            Ok(0) => {
                return match to.shutdown().await {
                    Ok(()) => Ended::Cleanly,
                    Err(_) => Ended::Failed,
                };
            }
            Ok(_) => {}
            Err(_) => return Ended::Failed,
        }
        last.set(clock.now());
        let (res, back) = to.write_all(buf).await;
        buf = back;
        if res.is_err() {
            return Ended::Failed;
        }
        last.set(clock.now());
    }
}

/// Returns once nothing has moved for `idle`.
async fn watchdog(last: &Cell<Instant>, idle: Duration, clock: &dyn Clock) {
    loop {
        let quiet = clock.now().saturating_duration_since(last.get());
        if quiet >= idle {
            return;
        }
        monoio::time::sleep(idle - quiet).await;
    }
}
