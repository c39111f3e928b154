//! The matching algorithm: a depth-first walk over the request's segments
//! that applies the precedence table of the parent module.
//!
//! Recursion follows tree edges only, so its depth is bounded by the
//! deepest template (`MAX_SEGMENTS`), whatever the request. Nothing here
//! allocates.

use super::node::{MethodTable, Node, Slot};
use super::{Params, PathLookup};
use crate::http::{Method, Span};

/// Where the next request segment starts; `None` once the path is used up.
///
/// `/a` is one segment `a` then `None`; `/a/` is `a`, then an empty segment
/// at offset 3, then `None`.
type Cursor = Option<usize>;

/// Best prefix candidate so far.
#[derive(Clone, Copy)]
struct Best {
    slot: Slot,
    depth: usize,
    remainder: Span,
}

/// State of the prefix pass: captures on the current branch, and the best
/// candidate with its captures.
#[derive(Default)]
struct PrefixWalk {
    work: Params,
    best: Option<Best>,
    best_params: Params,
}

/// One lookup's inputs and what it has seen.
pub(super) struct Search<'a> {
    path: &'a [u8],
    method: Method,
    /// Some route matched the path (whatever its method).
    path_matched: bool,
}

impl<'a> Search<'a> {
    /// Prepares a search; `path` must start with `/`.
    pub(super) fn new(path: &'a [u8], method: Method) -> Self {
        debug_assert!(path.first() == Some(&b'/'), "caller normalises the path");
        debug_assert!(u32::try_from(path.len()).is_ok(), "caller bounds the path");
        Search {
            path,
            method,
            path_matched: false,
        }
    }

    /// Runs both passes: exact routes first, then prefix routes (rules 1–4).
    pub(super) fn run(&mut self, root: &Node, params: &mut Params) -> PathLookup {
        if root.has_exact {
            if let Some(slot) = self.exact(root, Some(1), params) {
                return PathLookup::Found {
                    id: slot.id,
                    remainder: None,
                };
            }
            debug_assert!(params.as_slice().is_empty(), "failed branches pop");
        }
        if root.has_prefix {
            let mut walk = PrefixWalk::default();
            self.prefix(root, Some(1), 0, &mut walk);
            if let Some(best) = walk.best {
                *params = walk.best_params;
                return PathLookup::Found {
                    id: best.slot.id,
                    remainder: Some(best.remainder),
                };
            }
        }
        if self.path_matched {
            PathLookup::MethodMismatch
        } else {
            PathLookup::NotFound
        }
    }

    /// The segment starting at `start`: its end and the next cursor.
    #[inline]
    fn segment(&self, start: usize) -> (usize, Cursor) {
        debug_assert!(start <= self.path.len());
        let rest = self.path.get(start..).unwrap_or_default();
        match rest.iter().position(|&b| b == b'/') {
            Some(at) => (start + at, Some(start + at + 1)),
            None => (self.path.len(), None),
        }
    }

    /// The route for this method in `table`, noting any path match.
    #[inline]
    fn accept(&mut self, table: Option<&MethodTable>) -> Option<Slot> {
        let table = table?;
        self.path_matched = true;
        table.pick(self.method)
    }

    /// Exact pass: static, then `{param}`, then `{param+}`, backtracking
    /// when a branch yields no route for the method (rule 2).
    fn exact(&mut self, node: &Node, cursor: Cursor, params: &mut Params) -> Option<Slot> {
        let Some(start) = cursor else {
            return self.accept(node.exact.as_deref());
        };
        let (end, next) = self.segment(start);
        let segment = self.path.get(start..end).unwrap_or_default();
        if let Some(child) = node.statics.get(segment) {
            if child.has_exact {
                if let Some(hit) = self.exact(child, next, params) {
                    return Some(hit);
                }
            }
        }
        if let Some(child) = node.param.as_deref() {
            if child.has_exact && !segment.is_empty() && params.push(Span::new(start, end)) {
                if let Some(hit) = self.exact(child, next, params) {
                    return Some(hit);
                }
                params.pop();
            }
        }
        let len = self.path.len();
        if node.greedy.is_some() && start < len && params.push(Span::new(start, len)) {
            if let Some(hit) = self.accept(node.greedy.as_deref()) {
                return Some(hit);
            }
            params.pop();
        }
        None
    }

    /// Prefix pass: visits every prefix route on the path, keeping the
    /// deepest one that accepts the method; at equal depth the first in
    /// static-before-param order wins (rule 3).
    fn prefix(&mut self, node: &Node, cursor: Cursor, depth: usize, walk: &mut PrefixWalk) {
        if walk.best.is_none_or(|b| depth > b.depth) {
            if let Some(slot) = self.accept(node.prefix.as_deref()) {
                let len = self.path.len();
                let remainder = Span::new(cursor.unwrap_or(len), len);
                walk.best = Some(Best {
                    slot,
                    depth,
                    remainder,
                });
                walk.best_params = walk.work;
            }
        } else if node.prefix.is_some() {
            self.path_matched = true;
        }
        let Some(start) = cursor else { return };
        let (end, next) = self.segment(start);
        let segment = self.path.get(start..end).unwrap_or_default();
        if let Some(child) = node.statics.get(segment) {
            if child.has_prefix {
                self.prefix(child, next, depth + 1, walk);
            }
        }
        if let Some(child) = node.param.as_deref() {
            if child.has_prefix && !segment.is_empty() && walk.work.push(Span::new(start, end)) {
                self.prefix(child, next, depth + 1, walk);
                walk.work.pop();
            }
        }
    }
}
