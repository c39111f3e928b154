//! `Snapshot`: the compiled, immutable configuration a worker serves from.
//!
//! Built only by `control::compile`; workers hold it behind an `Rc` of an
//! `Arc` (style.md §1) and never mutate it.

use std::time::Duration;

use crate::backend::Api;
use crate::http::HeadLimits;
use crate::route::RouteTable;
use crate::upstream::Upstream;

/// Timeouts of the request path (behaviour.md §3, §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Receiving a whole request head once its first byte arrived.
    pub header: Duration,
    /// An idle keep-alive client connection.
    pub keepalive: Duration,
    /// The longest pause while reading a request body.
    pub body: Duration,
    /// The longest a write to the client may take.
    pub send: Duration,
    /// Opening a backend connection.
    pub connect: Duration,
}

/// Per-core upstream pool settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Idle connections kept per upstream per worker.
    pub max_idle: usize,
    /// Idle connection lifetime.
    pub idle_timeout: Duration,
}

/// Everything a worker needs to serve requests.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Head and body limits.
    pub limits: HeadLimits,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Upstream pool settings.
    pub pool: PoolSettings,
    /// Routing tables.
    pub routes: RouteTable,
    /// APIs by [`crate::route::ApiId`].
    pub apis: Vec<Api>,
    /// Upstream addresses by [`crate::upstream::UpstreamId`].
    pub upstreams: Vec<Upstream>,
}
