//! Storage of the path tree: nodes, their children and per-method leaf
//! tables. Insertion lives here; the matching algorithm lives in
//! `lookup.rs`.

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
    /// (precedence rule 4). `HEAD` without a route of its own takes the
    /// `GET` route (RFC 9110 §9.3.2: HEAD is GET without the content), so
    /// a HEAD request meets a GET API's policies rather than falling
    /// through to a catch-all, which most backends would answer with their
    /// GET handler (issue 13).
    #[inline]
    pub(super) fn pick(&self, method: Method) -> Option<Slot> {
        let own = |m: Method| self.by_method.get(m.index()).copied().flatten();
        own(method)
            .or_else(|| (method == Method::Head).then(|| own(Method::Get)).flatten())
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
///
/// Each child has a 32-bit [`fingerprint`]. With few children the
/// fingerprints are scanned (one contiguous array); with many, an
/// open-addressing table maps fingerprints to children. Only a fingerprint
/// hit compares bytes. The table is not keyed: its contents come from the
/// configuration, so requests cannot grow its probe chains.
#[derive(Debug, Clone, Default)]
pub(super) struct Statics {
    /// `fingerprint(key)` of each child, same order as `children`.
    tags: Vec<u32>,
    /// Key and node of each child.
    children: Vec<(Box<[u8]>, Node)>,
    /// Empty while few; else a power-of-two table of `child index + 1`
    /// (0 = free), at most half full.
    table: Box<[u32]>,
}

/// One byte of a segment's running fingerprint; lookups fold it while
/// they scan for the segment's end, so hashing costs no second pass.
#[inline]
pub(super) fn fold(hash: u64, byte: u8) -> u64 {
    hash.rotate_left(5) ^ byte as u64
}

/// Mixes a folded hash into a 32-bit fingerprint.
#[inline]
pub(super) fn finish(hash: u64) -> u32 {
    (hash.wrapping_mul(0x517c_c1b7_2722_0a95) >> 32) as u32
}

/// Fingerprint of a whole segment (what [`fold`] + [`finish`] compute).
fn fingerprint(segment: &[u8]) -> u32 {
    finish(segment.iter().fold(0, |h, &b| fold(h, b)))
}

/// Byte equality without a `memcmp` call (segments are short).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl Statics {
    /// The child for exactly `segment`, whose [`fingerprint`] is `tag`.
    #[inline]
    pub(super) fn get(&self, tag: u32, segment: &[u8]) -> Option<&Node> {
        debug_assert_eq!(tag, fingerprint(segment));
        if self.children.is_empty() {
            return None;
        }
        let at = if self.table.is_empty() {
            self.scan(tag, segment)?
        } else {
            self.probe(tag, segment)?
        };
        self.children.get(at).map(|(_, node)| node)
    }

    /// Linear search of the fingerprints.
    #[inline]
    fn scan(&self, tag: u32, segment: &[u8]) -> Option<usize> {
        debug_assert_eq!(self.tags.len(), self.children.len());
        let hit = |at: &usize| {
            self.children
                .get(*at)
                .is_some_and(|(k, _)| same(k, segment))
        };
        (0..self.tags.len())
            .filter(|&at| self.tags.get(at) == Some(&tag))
            .find(hit)
    }

    /// Open-addressing search of the table.
    #[inline]
    fn probe(&self, tag: u32, segment: &[u8]) -> Option<usize> {
        let mask = self.table.len() - 1;
        debug_assert!(self.table.len().is_power_of_two());
        debug_assert!(self.table.len() >= 2 * self.children.len());
        let mut slot = tag as usize & mask;
        loop {
            let at = (*self.table.get(slot)? as usize).checked_sub(1)?;
            if self.tags.get(at) == Some(&tag)
                && self.children.get(at).is_some_and(|(k, _)| same(k, segment))
            {
                return Some(at);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The child for `segment`, created if missing.
    fn get_or_insert(&mut self, segment: &[u8]) -> &mut Node {
        let tag = fingerprint(segment);
        let found = if self.table.is_empty() {
            self.scan(tag, segment)
        } else {
            self.probe(tag, segment)
        };
        let at = match found {
            Some(at) => at,
            None => {
                self.tags.push(tag);
                self.children.push((segment.into(), Node::default()));
                self.reindex();
                self.children.len() - 1
            }
        };
        debug_assert!(at < self.children.len() && self.tags.len() == self.children.len());
        &mut self.children[at].1
    }

    /// Indexes the newest child; rebuilds the table, twice as large, when
    /// it would pass half full. Only many children get a table.
    fn reindex(&mut self) {
        let count = self.children.len();
        if count <= FEW_STATICS {
            return;
        }
        if self.table.len() < 2 * count {
            self.table = vec![0; (2 * count).next_power_of_two()].into_boxed_slice();
            for at in 0..count {
                self.place(at);
            }
        } else {
            self.place(count - 1);
        }
        debug_assert!(self.table.len() >= 2 * count);
    }

    /// Puts child `at` in the first free slot of its probe chain.
    fn place(&mut self, at: usize) {
        let mask = self.table.len() - 1;
        let tag = self.tags.get(at).copied().unwrap_or_default();
        let mut slot = tag as usize & mask;
        while self.table.get(slot).is_some_and(|&taken| taken != 0) {
            slot = (slot + 1) & mask;
        }
        debug_assert!(slot < self.table.len());
        if let Some(free) = self.table.get_mut(slot) {
            // Children are bounded by the route count, which fits in u32.
            *free = u32::try_from(at + 1).unwrap_or(u32::MAX);
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
        let table = match mode {
            MatchMode::Exact => &mut node.exact,
            MatchMode::Prefix => &mut node.prefix,
        };
        table.get_or_insert_with(Box::default).insert(method, slot)
    }
}
