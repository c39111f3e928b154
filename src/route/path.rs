//! Our radix tree over path segments, compiled once per group from the API
//! definitions (behaviour.md §6.3–§6.4), with method dispatch at the leaves.
//!
//! HELPER-OWNED: implementation pending (see the type docs for the contract).

use crate::http::{Method, Span};

/// Most path parameters one template may declare.
pub const MAX_PARAMS: usize = 16;

/// Matching mode of an API's frontend path (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchMode {
    /// Callable only with the path itself (after template expansion).
    Exact,
    /// Callable with any path that starts with the path at a segment boundary.
    Prefix,
}

/// Method an API is defined for (§6.2): one method, or `ANY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodSpec {
    /// Exactly this method.
    One(Method),
    /// Any method; a specific-method API on the same path wins.
    Any,
}

/// One segment of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, compared byte for byte (paths are case-sensitive, §6.3).
    Static(Box<str>),
    /// `{name}`: exactly one non-empty segment.
    Param(Box<str>),
    /// `{name+}`: one or more segments, last position only.
    Greedy(Box<str>),
}

/// A frontend path template, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Segments after the leading `/`.
    pub segments: Vec<Segment>,
}

impl Template {
    /// Parameter names in the order they appear (the order of
    /// [`Params`] captures).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Static(_) => None,
            Segment::Param(n) | Segment::Greedy(n) => Some(&**n),
        })
    }
}

/// Why a template is invalid; `Display` says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Placeholder; the helper replaces this enum's variants.
    #[error("invalid path template")]
    Invalid,
}

/// Parses and validates a template for a match mode.
pub fn parse_template(path: &str, mode: MatchMode) -> Result<Template, TemplateError> {
    let _ = (path, mode);
    Err(TemplateError::Invalid)
}

/// One API's route, as the compiler hands it to [`PathTree::build`].
#[derive(Debug, Clone)]
pub struct RouteDef<'a> {
    /// Method.
    pub method: MethodSpec,
    /// Frontend path template.
    pub path: &'a str,
    /// Match mode.
    pub mode: MatchMode,
    /// Opaque value returned by lookups (the API's index in the snapshot).
    pub id: u32,
}

/// Why a route set cannot be compiled; `index` is the offending route's
/// position in the slice given to [`PathTree::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// Offending route.
    pub index: usize,
    /// What is wrong.
    pub kind: BuildErrorKind,
}

/// What is wrong with a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildErrorKind {
    /// Its template is invalid.
    Template(TemplateError),
    /// Same method, match mode and path shape as the route at `with`.
    Conflict {
        /// Index of the earlier route it conflicts with.
        with: usize,
    },
}

/// Positional captures of a lookup, spans into the looked-up path.
#[derive(Debug, Clone, Copy, Default)]
pub struct Params {
    spans: [Span; MAX_PARAMS],
    len: u8,
}

impl Params {
    /// Captured spans in template order.
    pub fn as_slice(&self) -> &[Span] {
        &self.spans[..self.len as usize]
    }
}

/// Result of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathLookup {
    /// An API matched path and method.
    Found {
        /// The route's `id`.
        id: u32,
        /// Prefix match only: the rest of the path after the prefix and its
        /// separating `/` (may be empty). `None` for exact matches.
        remainder: Option<Span>,
    },
    /// Some API matched the path but none accepts the method (§6.7).
    MethodMismatch,
    /// No API matched the path (§6.7).
    NotFound,
}

/// The compiled tree.
#[derive(Debug, Clone, Default)]
pub struct PathTree {}

impl PathTree {
    /// Compiles routes; reports every invalid template and conflict.
    pub fn build(routes: &[RouteDef<'_>]) -> Result<PathTree, Vec<BuildError>> {
        let _ = routes;
        Ok(PathTree {})
    }

    /// Finds the API for `method` and `path` (no query; empty = `/`).
    /// `params` receives the winning route's captures.
    pub fn lookup(&self, method: Method, path: &[u8], params: &mut Params) -> PathLookup {
        let _ = (method, path, params);
        PathLookup::NotFound
    }
}
