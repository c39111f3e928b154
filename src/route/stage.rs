//! Stage (environment) names and the `X-Stage` lookup (behaviour.md §5.1).
//!
//! RELEASE is always stage 0. Names match exactly and case-sensitively
//! (§5.1 Suggestion); there are at most a handful (§23: 10), so a linear
//! scan beats hashing.

/// Index of a stage in the snapshot; RELEASE is 0.
pub type StageId = u16;

/// The id of RELEASE, the stage of requests without `X-Stage`.
pub const RELEASE_ID: StageId = 0;

/// The configured stages, RELEASE first.
#[derive(Debug, Clone)]
pub struct StageTable {
    names: Vec<Box<str>>,
}

impl Default for StageTable {
    fn default() -> Self {
        StageTable::new(Vec::new())
    }
}

impl StageTable {
    /// RELEASE followed by `others` (a RELEASE among them is skipped).
    pub fn new(others: Vec<String>) -> Self {
        let mut names: Vec<Box<str>> = vec!["RELEASE".into()];
        for n in others {
            if !names.iter().any(|m| **m == *n) {
                names.push(n.into());
            }
        }
        debug_assert!(names.len() <= usize::from(StageId::MAX));
        StageTable { names }
    }

    /// Number of stages (at least 1).
    #[inline]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Never true: RELEASE always exists.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The stage named exactly `name`.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<StageId> {
        self.names
            .iter()
            .position(|n| n.as_bytes() == name)
            .map(|i| i as StageId)
    }

    /// The id of a configured name.
    pub fn id(&self, name: &str) -> Option<StageId> {
        self.lookup(name.as_bytes())
    }

    /// The name of a stage (empty for an unknown id).
    #[inline]
    pub fn name(&self, id: StageId) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_is_stage_zero_and_names_are_case_sensitive() {
        // behaviour.md §5.1.
        let t = StageTable::new(vec!["DEV".into(), "RELEASE".into()]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup(b"RELEASE"), Some(RELEASE_ID));
        assert_eq!(t.lookup(b"DEV"), Some(1));
        assert_eq!(t.lookup(b"dev"), None);
        assert_eq!(t.name(1), "DEV");
        assert_eq!(t.name(9), "");
    }
}
