//! Host → group (behaviour.md §4.1–§4.2): exact domain, else the DEFAULT
//! group. Names compare case-insensitively; a port in `Host` is ignored.

use ahash::AHashMap;

use crate::http::host::{MAX_HOST, name_key};

use super::GroupId;

/// Compiled host table.
#[derive(Debug, Clone, Default)]
pub struct HostTable {
    exact: AHashMap<Box<[u8]>, GroupId>,
    default: Option<GroupId>,
}

impl HostTable {
    /// An empty table with an optional catch-all group.
    pub fn new(default: Option<GroupId>) -> Self {
        HostTable {
            exact: AHashMap::new(),
            default,
        }
    }

    /// Binds a domain (any case) to a group. Returns the group it was already
    /// bound to, if any.
    pub fn insert(&mut self, domain: &str, group: GroupId) -> Option<GroupId> {
        let key: Box<[u8]> = domain.to_ascii_lowercase().into_bytes().into();
        self.exact.insert(key, group)
    }

    /// The group for a `Host` value (`name[:port]` or `[v6][:port]`).
    pub fn lookup(&self, host: &[u8]) -> Option<GroupId> {
        if self.exact.is_empty() {
            return self.default;
        }
        let mut buf = [0u8; MAX_HOST];
        match name_key(host, &mut buf) {
            Some(name) => self.exact.get(name).copied().or(self.default),
            None => self.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_matches_domain_case_insensitively_and_ignores_port() {
        let mut t = HostTable::new(Some(0));
        t.insert("API.example.com", 1);
        assert_eq!(t.lookup(b"api.example.com"), Some(1));
        assert_eq!(t.lookup(b"Api.Example.COM:8443"), Some(1));
    }

    #[test]
    fn lookup_falls_back_to_default_group() {
        // behaviour.md §4.1: an IP literal or unknown host → DEFAULT group.
        let mut t = HostTable::new(Some(0));
        t.insert("a.test", 1);
        assert_eq!(t.lookup(b"127.0.0.1:8080"), Some(0));
        assert_eq!(t.lookup(b"[::1]:80"), Some(0));
        assert_eq!(t.lookup(b""), Some(0));
        let without_default = HostTable::new(None);
        assert_eq!(without_default.lookup(b"a.test"), None);
    }
}
