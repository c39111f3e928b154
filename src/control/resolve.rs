//! Backend host-name resolution, off the workers (architecture.md: never a
//! blocking lookup on a worker). The control plane resolves every name once
//! before workers start, then a resolver thread refreshes them every
//! `settings.dns_refresh_ms` and publishes changes to each worker's channel.
//! The system resolver gives no TTLs, so the refresh interval stands in for
//! them; a failed refresh keeps the last good address.

use std::net::{SocketAddr, ToSocketAddrs};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::upstream::Upstream;
use crate::worker::ControlMsg;

/// Resolves one upstream (blocking; control plane only). IPv4 first.
pub fn resolve(u: &Upstream) -> Option<SocketAddr> {
    if let Some(addr) = u.literal {
        return Some(addr);
    }
    let addrs: Vec<SocketAddr> = (&*u.host, u.port).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

/// Resolves every upstream.
pub fn resolve_all(upstreams: &[Upstream]) -> Vec<Option<SocketAddr>> {
    upstreams
        .iter()
        .map(|u| {
            let addr = resolve(u);
            if addr.is_none() {
                log::warn!(
                    "backend host {}:{} does not resolve (yet); requests get APIG.0605",
                    u.host,
                    u.port
                );
            }
            addr
        })
        .collect()
}

/// Starts the refresh thread when some upstream is a host name. It stops
/// when `stop` is dropped or sent to.
pub fn spawn(
    upstreams: Vec<Upstream>,
    mut known: Vec<Option<SocketAddr>>,
    workers: Vec<Sender<ControlMsg>>,
    every: Duration,
    stop: Receiver<()>,
) -> std::io::Result<Option<JoinHandle<()>>> {
    if upstreams.iter().all(|u| u.literal.is_some()) {
        return Ok(None);
    }
    let handle = std::thread::Builder::new()
        .name("tollgate-dns".into())
        .spawn(move || {
            loop {
                match stop.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                for (id, u) in upstreams.iter().enumerate() {
                    if u.literal.is_some() {
                        continue;
                    }
                    let Some(addr) = resolve(u) else {
                        log::warn!(
                            "backend host {} failed to resolve; keeping {:?}",
                            u.host,
                            known[id]
                        );
                        continue;
                    };
                    if known[id] != Some(addr) {
                        known[id] = Some(addr);
                        for w in &workers {
                            let _ = w.send(ControlMsg::Resolved(id as u32, Some(addr)));
                        }
                    }
                }
            }
        })?;
    Ok(Some(handle))
}
