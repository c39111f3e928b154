//! STAGE backend: which backend serves a routed request (behaviour.md §7).
//!
//! Owns the compiled backend definitions. Backend policies (§8) will choose
//! among several per API; today every API has its default backend.

use std::time::Duration;

use bytes::Bytes;

use crate::http::Method;
use crate::route::ApiId;

/// Index of an upstream address in the snapshot: chosen here, resolved and
/// pooled by the upstream stage.
pub type UpstreamId = u32;

/// One part of a compiled backend path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Literal bytes.
    Literal(Box<[u8]>),
    /// The frontend path parameter at this capture position (§6.3, §7.2).
    Param(u8),
}

/// An HTTP backend (behaviour.md §7.2).
#[derive(Debug, Clone)]
pub struct HttpBackend {
    /// The upstream address it talks to.
    pub upstream: UpstreamId,
    /// `Host` header sent upstream: the backend address (§7.2 Suggestion).
    pub host_header: Box<str>,
    /// Backend path template.
    pub path: Vec<PathPart>,
    /// Method sent upstream; `None` forwards the request's method (`ANY`).
    pub method: Option<Method>,
    /// Time the backend has to send its response head (§7.2, default 5000 ms).
    pub timeout: Duration,
}

/// A mock backend: a fixed response (behaviour.md §7.5).
#[derive(Debug, Clone)]
pub struct MockBackend {
    /// Status code.
    pub status: u16,
    /// Header lines, pre-rendered as `Name: value\r\n`.
    pub header_block: Bytes,
    /// Body.
    pub body: Bytes,
}

/// A compiled backend.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Forward to an HTTP service.
    Http(HttpBackend),
    /// Answer from config.
    Mock(MockBackend),
}

/// A compiled API: what the route stage's [`ApiId`] refers to.
#[derive(Debug, Clone)]
pub struct Api {
    /// API name (for logs and `$context.apiId`).
    pub name: Box<str>,
    /// Its default backend.
    pub backend: Backend,
}

/// Picks the backend for an API (§7.1: the default backend).
#[inline]
pub fn select(apis: &[Api], api: ApiId) -> Option<&Backend> {
    apis.get(api as usize).map(|a| &a.backend)
}
