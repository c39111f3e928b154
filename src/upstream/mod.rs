//! STAGE upstream: where a backend request goes, and the per-core pool of
//! keep-alive connections to it.
//!
//! An [`Upstream`] is a backend address from config (`host:port`). Literal
//! IPs are resolved at compile time; host names are resolved by the control
//! plane's resolver thread and published to each worker's [`Resolved`]
//! table — a worker never performs a DNS lookup (architecture.md, "Lessons
//! from peers": Monolake's blocking resolve on the worker).

pub mod pool;
pub mod tls;

use std::net::SocketAddr;

use crate::error::GatewayError;

pub use crate::backend::UpstreamId;

/// A backend address.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Host as configured (IP literal or DNS name).
    pub host: Box<str>,
    /// Port.
    pub port: u16,
    /// The address, when `host` is an IP literal.
    pub literal: Option<SocketAddr>,
    /// TLS settings of an https backend (§7.2); `None` for http.
    pub tls: Option<tls::UpstreamTls>,
}

/// A worker's view of upstream addresses, by [`UpstreamId`].
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    addrs: Vec<Option<SocketAddr>>,
}

impl Resolved {
    /// Addresses known at start: literals, plus whatever the control plane
    /// resolved before the workers started.
    pub fn new(addrs: Vec<Option<SocketAddr>>) -> Self {
        Resolved { addrs }
    }

    /// Records a fresh resolution published by the control plane.
    pub fn update(&mut self, id: UpstreamId, addr: Option<SocketAddr>) {
        if let Some(slot) = self.addrs.get_mut(id as usize) {
            *slot = addr;
        }
    }

    /// The address to connect to (behaviour.md §7.6: unresolvable → APIG.0605).
    #[inline]
    pub fn pick(&self, id: UpstreamId) -> Result<SocketAddr, GatewayError> {
        self.addrs
            .get(id as usize)
            .copied()
            .flatten()
            .ok_or(GatewayError::UpstreamUnresolved)
    }
}
