//! Our radix tree over path segments, compiled once per group from the API
//! definitions (behaviour.md §6.3–§6.4), with method dispatch at the leaves.
//!
//! Owns path → API matching only; host and stage selection live elsewhere
//! in `route`, and template syntax lives in `template.rs`. Each tree node
//! has static children (scanned when few, hashed when many), an optional
//! `{param}` child, an optional `{param+}` route table, and exact- and
//! prefix-route tables indexed by method with an `ANY` slot.
//!
//! # Matching
//!
//! The request path is raw bytes (no query, never percent-decoded,
//! case-sensitive; empty means `/`; anything not starting with `/` is not
//! found). It is split like a template: `/` is one empty segment, `/a/` is
//! `a` and an empty segment. `{name}` matches one non-empty segment;
//! `{name+}` matches the non-empty rest of the path (`a/b/c` as one span).
//! A prefix route of k segments matches when the first k request segments
//! match and the path ends there or continues with `/` (§6.4: `/test/AA`
//! matches `/test/AA`, `/test/AA/` and `/test/AA/CC`, never `/test/AACC`);
//! its remainder is the rest after that `/` (`/test/` on `/test/AA/CC` →
//! `AA/CC`; `/` on `/x/y` → `x/y`).
//!
//! # Precedence
//!
//! A candidate counts only if it accepts the request method (its own or
//! `ANY`).
//!
//! | Rule | When | Winner |
//! |------|------|--------|
//! | 1 | an exact and a prefix route both match | the exact route |
//! | 2 | several exact routes match | at each segment, static > `{param}` > `{param+}`; a branch with no route for the method is abandoned (backtracking) |
//! | 3 | several prefix routes match | the longest (most segments); at equal length, static > `{param}` as in rule 2 |
//! | 4 | one node has a route for the method and an `ANY` route | the method's own route; for `HEAD` without one, the `GET` route (RFC 9110 §9.3.2) |
//! | — | routes match the path, none accepts the method | [`PathLookup::MethodMismatch`] (§6.7) |
//! | — | nothing matches the path | [`PathLookup::NotFound`] (§6.7) |
//!
//! Captures are those of the winning route only, in template order.
//!
//! # Conflicts
//!
//! Two routes conflict when they have the same [`MethodSpec`], the same
//! [`MatchMode`] and the same shape: equal static segments and parameters
//! in the same positions, whatever their names (for prefix routes after
//! dropping a trailing `/`). `GET` and `ANY` on one path do not conflict.

mod lookup;
mod node;
#[cfg(test)]
mod tests;

pub use super::template::{Segment, Template, TemplateError, parse_template};
use crate::http::{Method, Span};
use node::{Node, Slot};

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
        self.spans.get(..self.len as usize).unwrap_or_default()
    }

    /// Forgets every capture.
    #[inline]
    fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends a capture; `false` when full (templates never need more
    /// than [`MAX_PARAMS`], so a full list means a bug, not bad input).
    #[inline]
    fn push(&mut self, span: Span) -> bool {
        debug_assert!(
            (self.len as usize) < MAX_PARAMS,
            "templates hold at most MAX_PARAMS"
        );
        match self.spans.get_mut(self.len as usize) {
            Some(place) => {
                *place = span;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Keeps the first `len` captures (a branch was abandoned).
    #[inline]
    fn truncate(&mut self, len: usize) {
        debug_assert!(len <= self.len as usize, "truncate only shrinks");
        self.len = self.len.min(len as u8);
    }

    /// Drops the last capture (a branch was abandoned).
    #[inline]
    fn pop(&mut self) {
        debug_assert!(self.len > 0, "pop without push");
        self.len = self.len.saturating_sub(1);
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
pub struct PathTree {
    root: Node,
    routes: usize,
}

impl PathTree {
    /// Compiles routes; reports every invalid template and conflict.
    pub fn build(routes: &[RouteDef<'_>]) -> Result<PathTree, Vec<BuildError>> {
        let mut tree = PathTree::default();
        let mut errors = Vec::new();
        for (index, route) in routes.iter().enumerate() {
            if let Err(kind) = tree.insert(index, route) {
                errors.push(BuildError { index, kind });
            }
        }
        debug_assert!(tree.routes + errors.len() == routes.len());
        if errors.is_empty() {
            Ok(tree)
        } else {
            Err(errors)
        }
    }

    /// Parses and inserts the route at `index` of the build input.
    fn insert(&mut self, index: usize, route: &RouteDef<'_>) -> Result<(), BuildErrorKind> {
        let template = parse_template(route.path, route.mode).map_err(BuildErrorKind::Template)?;
        // A slice of more than u32::MAX routes cannot fit in memory.
        let slot = Slot {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            id: route.id,
        };
        self.root
            .insert(&template, route.mode, route.method, slot)
            .map_err(|taken| BuildErrorKind::Conflict {
                with: taken.index as usize,
            })?;
        self.routes += 1;
        Ok(())
    }

    /// Number of routes in the tree.
    pub fn len(&self) -> usize {
        self.routes
    }

    /// Whether the tree holds no route.
    pub fn is_empty(&self) -> bool {
        self.routes == 0
    }

    /// Finds the API for `method` and `path` (no query; empty = `/`).
    /// `params` receives the winning route's captures (none unless
    /// [`PathLookup::Found`]).
    pub fn lookup(&self, method: Method, path: &[u8], params: &mut Params) -> PathLookup {
        params.clear();
        if path.is_empty() {
            return self.lookup(method, b"/", params).clamp_to(0);
        }
        if path.first() != Some(&b'/') || u32::try_from(path.len()).is_err() {
            return PathLookup::NotFound;
        }
        let found = lookup::Search::new(path, method).run(&self.root, params);
        debug_assert!(
            params
                .as_slice()
                .iter()
                .all(|s| s.end as usize <= path.len())
        );
        found
    }
}

impl PathLookup {
    /// Moves a remainder found on the stand-in `/` onto an empty path.
    fn clamp_to(self, len: usize) -> PathLookup {
        match self {
            PathLookup::Found {
                id,
                remainder: Some(_),
            } => PathLookup::Found {
                id,
                remainder: Some(Span::new(len, len)),
            },
            other => other,
        }
    }
}
