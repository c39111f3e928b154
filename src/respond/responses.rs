//! Gateway-response sets (behaviour.md §18): per response type, an
//! optional status override and a compiled JSON template. Built at load by
//! the control plane; rendering is a walk over the template's pieces.

use super::error_map::ResponseType;
use super::template::Template;

/// One response type's entry (§18.1: only status and content change).
#[derive(Debug, Clone)]
pub struct ResponseEntry {
    /// Status replacing the error's own (§18.2 Suggestion); `None` keeps it.
    pub status: Option<u16>,
    /// The body.
    pub template: Template,
}

/// A named set of entries, one per [`ResponseType`].
#[derive(Debug, Clone)]
pub struct ResponseSet {
    /// Set name (`default` or the operator's).
    pub name: Box<str>,
    entries: Vec<ResponseEntry>,
}

impl ResponseSet {
    /// The built-in set: every type renders the §18.1 default content with
    /// the error's own status.
    pub fn builtin(name: &str) -> Self {
        let entry = ResponseEntry {
            status: None,
            template: Template::builtin(),
        };
        ResponseSet {
            name: name.into(),
            entries: vec![entry; ResponseType::COUNT],
        }
    }

    /// Replaces the entry of one type.
    pub fn set(&mut self, kind: ResponseType, entry: ResponseEntry) {
        if let Some(e) = self.entries.get_mut(kind.index()) {
            *e = entry;
        }
    }

    /// The entry of a type.
    #[inline]
    pub fn entry(&self, kind: ResponseType) -> Option<&ResponseEntry> {
        self.entries.get(kind.index())
    }
}
