//! STAGE backend: which backend serves a routed request (behaviour.md §7, §8).
//!
//! Owns the compiled API model the later stages read: each [`Api`] with
//! its input parameters, CORS switch, gateway-response set, backend
//! policies, and per stage a [`Deployment`] (the default backend and one
//! backend per policy, with that stage's `#variables#` substituted, §5.2).
//! [`select`] evaluates the policies in declared order; the first match
//! wins, otherwise the default backend answers (§8.2, §27 C35).

pub mod mapping;
pub mod select;

use std::time::Duration;

use bytes::Bytes;

use crate::http::Method;
use crate::policy::params::InputParam;
use crate::route::{GroupId, StageId};

pub use mapping::{Mapping, Source, SystemParam, Target};
pub use select::{Condition, Effective, PolicyRule, Test, select};

/// A signature key for backend requests (behaviour.md §12).
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// Key: the `Access` of the signature.
    pub key: Box<[u8]>,
    /// Secret: the HMAC key.
    pub secret: Box<[u8]>,
    /// The HMAC keyed with `secret` once, cloned per request (as apps do).
    pub mac: Option<crate::policy::auth::signature::MacKey>,
}

impl SigningKey {
    /// The key pair `key` / `secret`, its HMAC keyed now.
    pub fn new(key: &[u8], secret: &[u8]) -> SigningKey {
        SigningKey {
            key: key.into(),
            secret: secret.into(),
            mac: crate::policy::auth::signature::MacKey::try_new(secret),
        }
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.secret == other.secret
    }
}

impl Eq for SigningKey {}

/// Index of an upstream address in the snapshot: chosen here, resolved and
/// pooled by the upstream stage.
pub type UpstreamId = u32;

/// Index of a gateway-response set in the snapshot (§18).
pub type ResponseSetId = u32;

/// One part of a compiled backend path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Literal bytes.
    Literal(Box<[u8]>),
    /// The frontend path parameter at this capture position, copied as
    /// received (a `{name}` with no backend parameter of that name, §6.3).
    Param(u8),
    /// The backend PATH parameter at this index of [`Mapping::paths`] (§9).
    Mapped(u8),
}

/// The `Host` header sent to an HTTP backend (behaviour.md §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostHeader {
    /// The backend address, `host[:port]` (the §7.2 Suggestion).
    Address,
    /// A fixed name (`host_header`).
    Fixed(Box<str>),
    /// The client's own `Host` (`preserve_host`); the backend address when
    /// the client sent none.
    Preserve,
}

/// An HTTP backend (behaviour.md §7.2).
#[derive(Debug, Clone)]
pub struct HttpBackend {
    /// The upstream address it talks to.
    pub upstream: UpstreamId,
    /// The backend address as configured, stage variables substituted.
    pub address: Box<str>,
    /// `Host` header sent upstream.
    pub host_header: HostHeader,
    /// Backend path template.
    pub path: Vec<PathPart>,
    /// Method sent upstream; `None` forwards the request's method (`ANY`).
    pub method: Option<Method>,
    /// Time the backend has to send its response head (§7.2, default 5000 ms).
    pub timeout: Duration,
    /// Parameter mapping, constants and system parameters (§9).
    pub mapping: Mapping,
    /// The backend authorizer called before each request (§11.9.6).
    pub authorizer: Option<crate::policy::auth::authorizer::AuthorizerId>,
}

/// A mock backend: a fixed response (behaviour.md §7.5).
#[derive(Debug, Clone)]
pub struct MockBackend {
    /// Status code.
    pub status: u16,
    /// Header lines, pre-rendered as `Name: value\r\n`.
    pub header_block: Bytes,
    /// Lower-case names of those headers.
    pub header_names: Vec<Box<[u8]>>,
    /// Body.
    pub body: Bytes,
}

impl MockBackend {
    /// Whether the mock's configured headers include `name` (any case).
    pub fn sets_header(&self, name: &[u8]) -> bool {
        self.header_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// A compiled backend.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Forward to an HTTP service.
    Http(HttpBackend),
    /// Answer from config.
    Mock(MockBackend),
}

/// An API's backends in one stage.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The default backend (§7.1).
    pub default: Backend,
    /// One backend per [`Api::policies`] entry, same order (§8.1).
    pub policies: Vec<Backend>,
}

/// A compiled API: what the route stage's [`crate::route::ApiId`] refers to.
#[derive(Debug, Clone)]
pub struct Api {
    /// API name (for logs).
    pub name: Box<str>,
    /// API ID: `$context.apiId` and the `apiId` system parameter.
    pub id: Box<str>,
    /// Its group.
    pub group: GroupId,
    /// Schemes it accepts (§6.2).
    pub protocols: crate::policy::protocol::Protocols,
    /// App authentication (§11.2–§11.5); `None`: no authentication.
    pub app_auth: Option<crate::policy::auth::app::AppAuth>,
    /// The frontend custom authorizer (§11.9): custom authentication, or
    /// the second factor after app authentication (§11.7).
    pub authorizer: Option<crate::policy::auth::authorizer::AuthorizerId>,
    /// Token authentication (§11.6): the issuer whose tokens it accepts;
    /// `None`: no token authentication.
    pub token_auth: Option<std::sync::Arc<crate::policy::auth::token::TokenIssuer>>,
    /// Backend signature key by [`StageId`] (§12).
    pub signing: Vec<Option<std::sync::Arc<SigningKey>>>,
    /// Access control (IP or account) by [`StageId`] (§15).
    pub acl: Vec<Option<std::sync::Arc<crate::policy::acl::AccessPolicy>>>,
    /// Throttling policy by [`StageId`] (§13–§14).
    pub throttle: Vec<Option<crate::policy::throttle::policy::Binding>>,
    /// The counter of the default limit, all stages together (§13.2).
    pub rate_all: std::sync::Arc<crate::policy::throttle::global::PaddedCounter>,
    /// CORS on (§17).
    pub cors: bool,
    /// Gateway-response set rendering its errors (§18).
    pub responses: ResponseSetId,
    /// Input parameters (§6.5).
    pub params: Vec<InputParam>,
    /// Backend policy conditions, evaluated in order (§8).
    pub policies: Vec<PolicyRule>,
    /// Backends by [`StageId`]; `None` where the API is not published.
    pub deployed: Vec<Option<Deployment>>,
}

impl Api {
    /// The API's backends in `stage`.
    #[inline]
    pub fn deployment(&self, stage: StageId) -> Option<&Deployment> {
        self.deployed.get(stage as usize)?.as_ref()
    }
}
