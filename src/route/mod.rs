//! STAGE route: host → group, `X-Stage` → environment, path → API
//! (behaviour.md §4.1, §5.1, §6.3–§6.7).
//!
//! Owns the compiled routing tables of a snapshot and the per-request
//! [`RouteMatch`]. There is one path tree per (group, stage), holding only
//! the APIs published in that stage (§5.3), so an API that is not published
//! in the requested stage is simply not found there: 404 APIG.0101.

pub mod host;
pub mod path;
pub mod stage;
mod template;

use std::borrow::Cow;

use crate::error::GatewayError;
use crate::http::parse::HeaderKind;
use crate::http::{Method, RequestHead, Span};

pub use stage::{StageId, StageTable};

pub use host::HostTable;
pub use path::{MatchMode, MethodSpec, Params, PathLookup, PathTree};

/// Index of a group in the snapshot.
pub type GroupId = u32;
/// Index of an API in the snapshot.
pub type ApiId = u32;

/// Compiled routing: hosts to groups, stage names, and one path tree per
/// (group, stage).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Host → group.
    pub hosts: HostTable,
    /// Stage names.
    pub stages: StageTable,
    /// Path trees by `group * stages.len() + stage`.
    pub trees: Vec<PathTree>,
    /// Match paths case-insensitively: the trees hold lower-cased
    /// templates ([`fold_template_case`]) and lookups lower-case the path
    /// (`[settings] path_case_sensitive = false`, issue 13).
    pub fold_case: bool,
}

/// An API path template with its literal parts lower-cased (parameter
/// names inside `{}` keep their case), for case-insensitive routing.
pub fn fold_template_case(template: &str) -> String {
    let mut depth = 0u32;
    template
        .chars()
        .map(|c| {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth == 0 {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect()
}

/// The path a tree is searched with: the routed path, lower-cased when
/// routing folds case. Lower-casing keeps every byte offset, so captures
/// and remainders index the routed path all the same.
fn match_path<'h>(head: &'h RequestHead, fold_case: bool) -> Cow<'h, [u8]> {
    let path = head.routed_path();
    if fold_case && path.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(path.to_ascii_lowercase())
    } else {
        Cow::Borrowed(path)
    }
}

/// What routing found for a request.
#[derive(Debug, Clone, Copy)]
pub struct RouteMatch {
    /// The group the host resolved to.
    pub group: GroupId,
    /// The stage `X-Stage` selected (RELEASE without the header).
    pub stage: StageId,
    /// The API.
    pub api: ApiId,
    /// Path parameter captures, spans into the request path
    /// (`head.routed_path()`).
    pub params: Params,
    /// Prefix APIs: the path after the prefix, a span into the request path.
    pub remainder: Option<Span>,
}

impl RouteTable {
    /// Whether another stage of `group` has an API for the request (the
    /// error path only).
    fn published_elsewhere(&self, group: GroupId, stage: StageId, head: &RequestHead) -> bool {
        let n = self.stages.len();
        let path = match_path(head, self.fold_case);
        let path = &path[..];
        (0..n).filter(|s| *s != stage as usize).any(|s| {
            let mut params = Params::default();
            self.trees.get(group as usize * n + s).is_some_and(|t| {
                matches!(
                    t.lookup(head.method, path, &mut params),
                    PathLookup::Found { .. }
                )
            })
        })
    }
}

/// Whether an API other than a CORS preflight (`OPTIONS`, §17.2) serves
/// `path`: an `OPTIONS /` prefix API covers every path, and must not turn
/// every unknown path into "The API does not exist." (§6.7). Error path only.
fn served(tree: &PathTree, path: &[u8]) -> bool {
    use crate::http::Method;
    let methods = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Head,
    ];
    methods.into_iter().any(|m| {
        let mut params = Params::default();
        matches!(tree.lookup(m, path, &mut params), PathLookup::Found { .. })
    })
}

/// A request no API answers: the error, and the group when the host
/// resolved to one (its gateway responses render the error, §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteError {
    /// The group of the request's host, if any.
    pub group: Option<GroupId>,
    /// The stage, when `X-Stage` named a known one.
    pub stage: Option<StageId>,
    /// `RouteNotFound`, `MethodNotAllowed` or `MethodUnsupported`.
    pub error: GatewayError,
}

impl RouteTable {
    /// Looks up the API for a request (behaviour.md §2 steps 4–6).
    pub fn lookup(&self, head: &RequestHead) -> Result<RouteMatch, RouteError> {
        let host = head.host.map(|s| head.slice(s)).unwrap_or_default();
        let miss = |group, stage, error| RouteError {
            group,
            stage,
            error,
        };
        let Some(group) = self.hosts.lookup(host) else {
            return Err(miss(None, None, GatewayError::RouteNotFound));
        };
        // §5.1: no header → RELEASE; an unknown name publishes nothing.
        let stage = match head.first(HeaderKind::XStage) {
            None => stage::RELEASE_ID,
            Some(name) => match self.stages.lookup(name) {
                Some(id) => id,
                None => return Err(miss(Some(group), None, GatewayError::RouteNotFound)),
            },
        };
        // Methods are case-sensitive tokens (RFC 9110 §9.1): `get` or
        // `PROPFIND` is none of the methods an API can name, so not even
        // `ANY` takes it (issue 13).
        if head.method == Method::Other {
            return Err(miss(
                Some(group),
                Some(stage),
                GatewayError::MethodUnsupported,
            ));
        }
        let slot = group as usize * self.stages.len() + stage as usize;
        let Some(tree) = self.trees.get(slot) else {
            return Err(miss(Some(group), Some(stage), GatewayError::RouteNotFound));
        };
        let path = match_path(head, self.fold_case);
        let path = &path[..];
        let mut params = Params::default();
        match tree.lookup(head.method, path, &mut params) {
            PathLookup::Found { id, remainder } => Ok(RouteMatch {
                group,
                stage,
                api: id,
                params,
                remainder,
            }),
            // "The API does not exist." only when no stage has it either:
            // published elsewhere, it is "not published in the environment".
            PathLookup::MethodMismatch
                if !self.published_elsewhere(group, stage, head) && served(tree, path) =>
            {
                Err(miss(
                    Some(group),
                    Some(stage),
                    GatewayError::MethodNotAllowed,
                ))
            }
            PathLookup::MethodMismatch => {
                Err(miss(Some(group), Some(stage), GatewayError::RouteNotFound))
            }
            PathLookup::NotFound => {
                Err(miss(Some(group), Some(stage), GatewayError::RouteNotFound))
            }
        }
    }
}
