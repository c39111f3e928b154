//! STAGE route: host → group, path → API (behaviour.md §4.1, §6.3–§6.7).
//!
//! Owns the compiled routing tables of a snapshot and the per-request
//! [`RouteMatch`]. Stages (`X-Stage`, §5) arrive with the API model; the table
//! is keyed so they slot in per group.

pub mod host;
pub mod path;
mod template;

use crate::error::GatewayError;
use crate::http::{RequestHead, Span};

pub use host::HostTable;
pub use path::{MatchMode, MethodSpec, Params, PathLookup, PathTree};

/// Index of a group in the snapshot.
pub type GroupId = u32;
/// Index of an API in the snapshot.
pub type ApiId = u32;

/// Compiled routing: hosts to groups, and one path tree per group.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Host → group.
    pub hosts: HostTable,
    /// Path tree of each group, by [`GroupId`].
    pub trees: Vec<PathTree>,
}

/// What routing found for a request.
#[derive(Debug, Clone, Copy)]
pub struct RouteMatch {
    /// The group the host resolved to.
    pub group: GroupId,
    /// The API.
    pub api: ApiId,
    /// Path parameter captures, spans into the request path
    /// (`head.slice(head.path)`).
    pub params: Params,
    /// Prefix APIs: the path after the prefix, a span into the request path.
    pub remainder: Option<Span>,
}

impl RouteTable {
    /// Looks up the API for a request (behaviour.md §2 steps 4–6).
    pub fn lookup(&self, head: &RequestHead) -> Result<RouteMatch, GatewayError> {
        let host = head.host.map(|s| head.slice(s)).unwrap_or_default();
        let group = self.hosts.lookup(host).ok_or(GatewayError::RouteNotFound)?;
        let tree = self
            .trees
            .get(group as usize)
            .ok_or(GatewayError::RouteNotFound)?;
        let path = head.slice(head.path);
        let mut params = Params::default();
        match tree.lookup(head.method, path, &mut params) {
            PathLookup::Found { id, remainder } => Ok(RouteMatch {
                group,
                api: id,
                params,
                remainder,
            }),
            PathLookup::MethodMismatch => Err(GatewayError::MethodNotAllowed),
            PathLookup::NotFound => Err(GatewayError::RouteNotFound),
        }
    }
}
