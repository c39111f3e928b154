//! `Snapshot`: the compiled, immutable configuration a worker serves from.
//!
//! Built only by `control::compile`; workers hold it behind an `Rc` of an
//! `Arc` (style.md §1) and never mutate it.

use std::time::Duration;

use crate::backend::{Api, ResponseSetId};
use crate::http::HeadLimits;
use crate::respond::ResponseSet;
use crate::route::{GroupId, RouteTable};
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
    /// The slowest average rate a request body may arrive at, bytes per
    /// second, after a grace of `body` (0: only pauses are bounded).
    pub body_min_rate: u64,
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
    /// Request bodies up to this size are read whole before the backend is
    /// contacted; larger ones stream (issue 13).
    pub request_buffer: u64,
    /// How request paths are normalised before routing (issue 13).
    pub path_rules: crate::http::normalize::PathRules,
    /// What happens to request headers whose name contains `_`.
    pub underscores: crate::http::parse::Underscores,
    /// APIs by [`crate::route::ApiId`].
    pub apis: Vec<Api>,
    /// Upstream addresses by [`crate::upstream::UpstreamId`].
    pub upstreams: Vec<Upstream>,
    /// Gateway-response sets by [`ResponseSetId`]; 0 is the built-in set
    /// for requests no group claims (§18).
    pub response_sets: Vec<ResponseSet>,
    /// Each group's `default` set, by [`GroupId`].
    pub group_sets: Vec<ResponseSetId>,
    /// How the client IP is found (§16).
    pub real_ip: crate::policy::acl::RealIp,
    /// Apps (credentials) for app authentication (§11.2).
    pub apps: crate::policy::auth::app::Apps,
    /// Custom authorizers (§11.9), by `AuthorizerId`.
    pub authorizers: Vec<crate::policy::auth::authorizer::Authorizer>,
    /// Most cached authorizer results per worker (§11.9.4).
    pub authorizer_cache_entries: usize,
    /// The default limit of every API, all stages together (§13.2);
    /// `None` when turned off.
    pub default_rate: Option<crate::policy::throttle::policy::Limit>,
    /// TLS configurations by domain and listener (§4.3–§4.5).
    pub tls: crate::tls::SniTable,
    /// Domains that redirect plain-HTTP GET/HEAD to HTTPS (§4.6) or refuse
    /// plain HTTP (client certificates required, §4.5).
    pub domain_rules: crate::policy::protocol::DomainRules,
}

impl Snapshot {
    /// The pace a request body starting `now` must keep.
    pub fn body_pace(&self, now: std::time::Instant) -> crate::forward::body::BodyPace {
        crate::forward::body::BodyPace::new(now, self.timeouts.body, self.timeouts.body_min_rate)
    }

    /// The built-in response set (errors before a group is known).
    #[inline]
    pub fn builtin_responses(&self) -> &ResponseSet {
        self.responses(0)
    }

    /// A group's `default` response set.
    #[inline]
    pub fn group_responses(&self, group: GroupId) -> &ResponseSet {
        self.responses(self.group_sets.get(group as usize).copied().unwrap_or(0))
    }

    /// A response set by id (the built-in one for an unknown id).
    #[inline]
    pub fn responses(&self, id: ResponseSetId) -> &ResponseSet {
        match self.response_sets.get(id as usize) {
            Some(set) => set,
            None => &BUILTIN,
        }
    }
}

/// Fallback for an id the compiler never hands out.
static BUILTIN: std::sync::LazyLock<ResponseSet> =
    std::sync::LazyLock::new(|| ResponseSet::builtin("default"));
