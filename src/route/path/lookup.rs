//! The matching algorithm: one depth-first walk over the request's
//! segments that applies the precedence table of the parent module. It
//! returns at the first exact route that accepts the method (rules 1, 2,
//! 4); on the way it notes the deepest prefix route that does (rule 3),
//! which wins only if no exact route does.
//!
//! Recursion follows tree edges only, so its depth is bounded by the
//! deepest template (`MAX_SEGMENTS`), whatever the request. Nothing here
//! allocates.

use super::node::{MethodTable, Node, Slot, finish, fold};
use super::{Params, PathLookup};
use crate::http::{Method, Span};
use crate::route::template::MAX_SEGMENTS;

/// Where the next request segment starts; `None` once the path is used up.
///
/// `/a` is one segment `a` then `None`; `/a/` is `a`, then an empty segment
/// at offset 3, then `None`.
type Cursor = Option<usize>;

/// Best prefix candidate so far. Its captures are not copied on the way:
/// `params` has bit `d` set when segment `d` went through a `{param}`, and
/// [`Search::replay`] turns that into spans once the walk is over.
#[derive(Clone, Copy)]
struct Best {
    slot: Slot,
    depth: usize,
    remainder: Span,
    params: u128,
}

/// One lookup's inputs and what it has seen.
pub(super) struct Search<'a> {
    path: &'a [u8],
    method: Method,
    /// Some route matched the path (whatever its method).
    path_matched: bool,
    /// Deepest prefix route so far that accepts the method.
    best: Option<Best>,
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
            best: None,
        }
    }

    /// Walks the tree from `root` and turns what it found into a result.
    pub(super) fn run(&mut self, root: &Node, params: &mut Params) -> PathLookup {
        if let Some(slot) = self.walk(root, Some(1), 0, 0, params) {
            return PathLookup::Found {
                id: slot.id,
                remainder: None,
            };
        }
        debug_assert!(params.as_slice().is_empty(), "failed branches pop");
        if let Some(best) = self.best {
            self.replay(&best, params);
            return PathLookup::Found {
                id: best.slot.id,
                remainder: Some(best.remainder),
            };
        }
        if self.path_matched {
            PathLookup::MethodMismatch
        } else {
            PathLookup::NotFound
        }
    }

    /// The segment starting at `start`: its end, the next cursor and the
    /// segment's fingerprint (for [`Statics::get`](super::node::Statics::get)).
    #[inline]
    fn segment(&self, start: usize) -> (usize, Cursor, u32) {
        debug_assert!(start <= self.path.len());
        let mut hash = 0;
        let mut end = start;
        while let Some(&byte) = self.path.get(end) {
            if byte == b'/' {
                return (end, Some(end + 1), finish(hash));
            }
            hash = fold(hash, byte);
            end += 1;
        }
        debug_assert!(end == self.path.len());
        (end, None, finish(hash))
    }

    /// The route for this method in `table`, noting any path match.
    #[inline]
    fn accept(&mut self, table: Option<&MethodTable>) -> Option<Slot> {
        let table = table?;
        self.path_matched = true;
        table.pick(self.method)
    }

    /// Visits `node`, reached after `depth` segments, with the next segment
    /// at `cursor`. Tries static, then `{param}`, then `{param+}`,
    /// backtracking when a branch yields no exact route for the method
    /// (rule 2). `choices` has bit `d` set when segment `d` was taken by a
    /// `{param}` (for [`Search::replay`]); `params` holds the same spans.
    ///
    /// Recurses only where a later alternative exists; a branch with
    /// nothing to fall back to continues in the loop.
    fn walk(
        &mut self,
        mut node: &Node,
        mut cursor: Cursor,
        mut depth: usize,
        mut choices: u128,
        params: &mut Params,
    ) -> Option<Slot> {
        let base = params.as_slice().len();
        let hit = loop {
            debug_assert!(
                depth <= MAX_SEGMENTS,
                "the tree is no deeper than a template"
            );
            if node.prefix.is_some() {
                self.note_prefix(node, cursor, depth, choices);
            }
            let Some(start) = cursor else {
                break self.accept(node.exact.as_deref());
            };
            let (end, next, tag) = self.segment(start);
            let segment = self.path.get(start..end).unwrap_or_default();
            let param = node.param.as_deref().filter(|_| !segment.is_empty());
            if let Some(child) = node.statics.get(tag, segment) {
                if param.is_none() && node.greedy.is_none() {
                    (node, cursor, depth) = (child, next, depth + 1);
                    continue;
                }
                if let Some(hit) = self.walk(child, next, depth + 1, choices, params) {
                    return Some(hit);
                }
            }
            if let Some(child) = param {
                if !params.push(Span::new(start, end)) {
                    break None;
                }
                choices |= bit(depth);
                if node.greedy.is_none() {
                    (node, cursor, depth) = (child, next, depth + 1);
                    continue;
                }
                if let Some(hit) = self.walk(child, next, depth + 1, choices, params) {
                    return Some(hit);
                }
                params.pop();
            }
            break self.greedy(node, start, params);
        };
        if hit.is_none() {
            params.truncate(base);
        }
        hit
    }

    /// `{param+}` at `node`: the whole non-empty rest from `start`.
    #[inline]
    fn greedy(&mut self, node: &Node, start: usize, params: &mut Params) -> Option<Slot> {
        let len = self.path.len();
        if node.greedy.is_none() || start >= len || !params.push(Span::new(start, len)) {
            return None;
        }
        let hit = self.accept(node.greedy.as_deref());
        if hit.is_none() {
            params.pop();
        }
        hit
    }

    /// Records `node`'s prefix route if it accepts the method and is deeper
    /// than the best so far; at equal depth the first in static-before-param
    /// order stays (rule 3).
    fn note_prefix(&mut self, node: &Node, cursor: Cursor, depth: usize, choices: u128) {
        self.path_matched = true;
        if self.best.is_some_and(|b| b.depth >= depth) {
            return;
        }
        let Some(slot) = node.prefix.as_deref().and_then(|t| t.pick(self.method)) else {
            return;
        };
        let len = self.path.len();
        self.best = Some(Best {
            slot,
            depth,
            remainder: Span::new(cursor.unwrap_or(len), len),
            params: choices,
        });
    }

    /// Fills `params` with the spans of the segments `best` took as
    /// `{param}`s.
    fn replay(&self, best: &Best, params: &mut Params) {
        debug_assert!(params.as_slice().is_empty());
        let mut cursor = Some(1);
        for depth in 0..best.depth {
            let Some(start) = cursor else { break };
            let (end, next, _) = self.segment(start);
            if best.params & bit(depth) != 0 {
                params.push(Span::new(start, end));
            }
            cursor = next;
        }
        debug_assert!(params.as_slice().len() == best.params.count_ones() as usize);
    }
}

/// The `choices` bit for segment `depth`.
#[inline]
fn bit(depth: usize) -> u128 {
    1u128.checked_shl(depth as u32).unwrap_or(0)
}
