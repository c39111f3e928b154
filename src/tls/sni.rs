//! Domain → TLS configuration (behaviour.md §4.2–§4.5).
//!
//! Each domain with a certificate gets its own rustls `ServerConfig`: its
//! certificate chain, its minimum version (§4.4) and, with client
//! authentication on, a verifier that requires a client certificate signed
//! by its CA (§4.5). The ClientHello's SNI picks the domain; a listener's
//! default certificate answers clients without SNI or with an unknown name.
//!
//! Built by the control plane; each worker takes its own copy
//! ([`SniTable::for_worker`]) so the session-resumption cache rustls keeps
//! behind a lock is only ever touched by one core.

use std::sync::Arc;

use ahash::AHashMap;
use rustls::ServerConfig;
use rustls::server::ServerSessionMemoryCache;

use crate::http::host::{MAX_HOST, name_key};

/// Sessions each domain's per-worker resumption cache remembers.
const SESSIONS_PER_WORKER: usize = 1024;

/// The compiled TLS configurations of every domain and listener.
#[derive(Debug, Clone, Default)]
pub struct SniTable {
    /// Lower-case domain name → its configuration.
    by_name: AHashMap<Box<str>, Arc<ServerConfig>>,
    /// Default configuration per listener index (`None`: plain listener, or
    /// TLS without a default certificate).
    defaults: Vec<Option<Arc<ServerConfig>>>,
    /// Whether each listener terminates TLS.
    tls: Vec<bool>,
}

impl SniTable {
    /// An empty table for `listeners` listeners, all plain.
    pub fn new(listeners: usize) -> Self {
        SniTable {
            by_name: AHashMap::new(),
            defaults: vec![None; listeners],
            tls: vec![false; listeners],
        }
    }

    /// Binds a domain (any case) to its configuration.
    pub fn insert_domain(&mut self, name: &str, config: Arc<ServerConfig>) {
        self.by_name
            .insert(name.to_ascii_lowercase().into(), config);
    }

    /// Marks listener `index` as TLS, with an optional default configuration.
    pub fn set_listener(&mut self, index: usize, default: Option<Arc<ServerConfig>>) {
        if let Some(slot) = self.tls.get_mut(index) {
            *slot = true;
        }
        if let Some(slot) = self.defaults.get_mut(index) {
            *slot = default;
        }
    }

    /// Whether listener `index` terminates TLS.
    pub fn is_tls(&self, index: usize) -> bool {
        self.tls.get(index).copied().unwrap_or(false)
    }

    /// The configuration for a ClientHello on listener `index`: the SNI
    /// name's, else the listener's default.
    pub fn pick(&self, index: usize, sni: Option<&str>) -> Option<Arc<ServerConfig>> {
        sni.and_then(|name| self.domain(name.as_bytes()))
            .or_else(|| self.defaults.get(index).and_then(Option::as_ref))
            .cloned()
    }

    /// The configuration of the TLS domain `host` names (a `Host` value or
    /// an SNI name, compared as routing compares them).
    fn domain(&self, host: &[u8]) -> Option<&Arc<ServerConfig>> {
        if self.by_name.is_empty() {
            return None;
        }
        let mut buf = [0u8; MAX_HOST];
        let name = name_key(host, &mut buf)?;
        let name = std::str::from_utf8(name).ok()?;
        self.by_name.get(name)
    }

    /// Whether a request for `host` (a `Host` value) must be refused on a
    /// connection whose handshake used `negotiated`: the host is a TLS
    /// domain with other settings (certificate, minimum version, client
    /// authentication). Without this, a client could pass b's client
    /// certificate check by naming a in SNI and b in `Host`. Hosts that
    /// are no TLS domain pass: they are served by the DEFAULT group.
    ///
    /// Domains with equal settings share one configuration (the compiler
    /// builds one per certificate, minimum version and client CA), so a
    /// client is never refused for a domain its handshake already fits.
    pub fn misdirected(&self, host: &[u8], negotiated: &Arc<ServerConfig>) -> bool {
        self.domain(host)
            .is_some_and(|c| !Arc::ptr_eq(c, negotiated))
    }

    /// A copy whose configurations each have their own session cache (one
    /// per worker: no cache is shared across cores).
    pub fn for_worker(&self) -> SniTable {
        let mut fresh: AHashMap<*const ServerConfig, Arc<ServerConfig>> = AHashMap::new();
        let mut own = |config: &Arc<ServerConfig>| {
            fresh
                .entry(Arc::as_ptr(config))
                .or_insert_with(|| {
                    let mut copy = ServerConfig::clone(config);
                    copy.session_storage = ServerSessionMemoryCache::new(SESSIONS_PER_WORKER);
                    Arc::new(copy)
                })
                .clone()
        };
        SniTable {
            by_name: self
                .by_name
                .iter()
                .map(|(k, v)| (k.clone(), own(v)))
                .collect(),
            defaults: self
                .defaults
                .iter()
                .map(|d| d.as_ref().map(&mut own))
                .collect(),
            tls: self.tls.clone(),
        }
    }
}
