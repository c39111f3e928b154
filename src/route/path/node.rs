//! Storage of the path tree: nodes, their children and per-method leaf
//! tables. Insertion lives here; the matching algorithm lives in
//! `lookup.rs`.

use ahash::RandomState;
use std::collections::HashMap;

use super::{MatchMode, MethodSpec, Segment, Template};
use crate::http::Method;

/// Static children kept in a scanned `Vec` up to this many, then hashed.
const FEW_STATICS: usize = 8;

/// A route stored at a leaf: its position in the build input (for
/// conflict reports) and its opaque id (what lookups return).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    pub(super) index: u32,
    pub(super) id: u32,
}

/// Routes ending at one node, by method.
#[derive(Debug, Clone, Default)]
pub(super) struct MethodTable {
    by_method: [Option<Slot>; Method::COUNT],
    any: Option<Slot>,
}

impl MethodTable {
    /// The route for `method`: a specific one first, else `ANY`
    /// (precedence rule 4).
    #[inline]
    pub(super) fn pick(&self, method: Method) -> Option<Slot> {
        self.by_method
            .get(method.index())
            .copied()
            .flatten()
            .or(self.any)
    }

    /// Stores `slot`, or returns the route already in its place.
    fn insert(&mut self, method: MethodSpec, slot: Slot) -> Result<(), Slot> {
        let place = match method {
            MethodSpec::One(m) => self.by_method.get_mut(m.index()),
            MethodSpec::Any => Some(&mut self.any),
        };
        debug_assert!(place.is_some(), "Method::index() < Method::COUNT");
        match place {
            Some(Some(taken)) => Err(*taken),
            Some(empty) => {
                *empty = Some(slot);
                Ok(())
            }
            None => Err(slot),
        }
    }
}

/// Static children of a node, keyed by the whole segment's bytes.
#[derive(Debug, Clone)]
pub(super) enum Statics {
    /// Few children: scanned (length is compared before bytes).
    Few(Vec<(Box<[u8]>, Node)>),
    /// Many children: hashed.
    Many(HashMap<Box<[u8]>, Node, RandomState>),
}

impl Default for Statics {
    fn default() -> Self {
        Statics::Few(Vec::new())
    }
}

impl Statics {
    /// The child for exactly `segment`.
    #[inline]
    pub(super) fn get(&self, segment: &[u8]) -> Option<&Node> {
        match self {
            Statics::Few(list) => list.iter().find(|(k, _)| **k == *segment).map(|(_, n)| n),
            Statics::Many(map) => map.get(segment),
        }
    }

    /// The child for `segment`, created if missing.
    fn get_or_insert(&mut self, segment: &[u8]) -> &mut Node {
        if let Statics::Few(list) = self {
            if list.len() >= FEW_STATICS && !list.iter().any(|(k, _)| **k == *segment) {
                let map = std::mem::take(list).into_iter().collect();
                *self = Statics::Many(map);
            }
        }
        match self {
            Statics::Few(list) => {
                let at = match list.iter().position(|(k, _)| **k == *segment) {
                    Some(at) => at,
                    None => {
                        list.push((segment.into(), Node::default()));
                        list.len() - 1
                    }
                };
                debug_assert!(at < list.len());
                &mut list[at].1
            }
            Statics::Many(map) => map.entry(segment.into()).or_default(),
        }
    }
}

/// One position in the tree: what the next request segment may be, and the
/// routes that end here.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// Literal next segments.
    pub(super) statics: Statics,
    /// `{name}` as the next segment.
    pub(super) param: Option<Box<Node>>,
    /// `{name+}` as the rest of the path (exact routes only).
    pub(super) greedy: Option<Box<MethodTable>>,
    /// Exact routes whose template ends here.
    pub(super) exact: Option<Box<MethodTable>>,
    /// Prefix routes whose template ends here.
    pub(super) prefix: Option<Box<MethodTable>>,
    /// Whether this subtree holds any exact or greedy route.
    pub(super) has_exact: bool,
    /// Whether this subtree holds any prefix route.
    pub(super) has_prefix: bool,
}

impl Node {
    /// Inserts one route; on conflict returns the route already there.
    pub(super) fn insert(
        &mut self,
        template: &Template,
        mode: MatchMode,
        method: MethodSpec,
        slot: Slot,
    ) -> Result<(), Slot> {
        let mut node = self;
        for segment in &template.segments {
            node.mark(mode);
            node = match segment {
                Segment::Static(text) => node.statics.get_or_insert(text.as_bytes()),
                Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                Segment::Greedy(_) => {
                    debug_assert!(mode == MatchMode::Exact, "parse_template rejects this");
                    return node
                        .greedy
                        .get_or_insert_with(Box::default)
                        .insert(method, slot);
                }
            };
        }
        node.mark(mode);
        let table = match mode {
            MatchMode::Exact => &mut node.exact,
            MatchMode::Prefix => &mut node.prefix,
        };
        table.get_or_insert_with(Box::default).insert(method, slot)
    }

    /// Records that a route of `mode` lives in this subtree.
    fn mark(&mut self, mode: MatchMode) {
        match mode {
            MatchMode::Exact => self.has_exact = true,
            MatchMode::Prefix => self.has_prefix = true,
        }
    }
}
