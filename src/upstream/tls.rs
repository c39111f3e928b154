//! Client-side TLS towards https backends (behaviour.md §7.2). The control
//! plane compiles an [`UpstreamTls`] per https upstream; each worker
//! takes its own copy of the compiled client configurations, so the
//! session-resumption cache rustls keeps behind a lock is touched by one
//! core only.

use std::sync::Arc;

use ahash::AHashMap;
use rustls::ClientConfig;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;

use crate::upstream::Upstream;

/// Sessions each per-worker client cache remembers.
const SESSIONS_PER_WORKER: usize = 256;

/// The TLS settings of an https backend (§7.2).
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    /// Client configuration (roots, ALPN).
    pub config: Arc<ClientConfig>,
    /// SNI and the name checked against the certificate.
    pub server_name: ServerName<'static>,
}

/// Per-upstream client settings for one worker (`None` for http backends).
pub fn for_worker(upstreams: &[Upstream]) -> Vec<Option<UpstreamTls>> {
    let mut own: AHashMap<*const ClientConfig, Arc<ClientConfig>> = AHashMap::new();
    upstreams
        .iter()
        .map(|u| {
            let tls = u.tls.as_ref()?;
            let config = own
                .entry(Arc::as_ptr(&tls.config))
                .or_insert_with(|| {
                    let mut copy = ClientConfig::clone(&tls.config);
                    copy.resumption = Resumption::in_memory_sessions(SESSIONS_PER_WORKER);
                    Arc::new(copy)
                })
                .clone();
            Some(UpstreamTls {
                config,
                server_name: tls.server_name.clone(),
            })
        })
        .collect()
}
