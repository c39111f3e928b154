//! `[[authorizer]]` → [`Authorizer`] (behaviour.md §11.9): the endpoint's
//! URL becomes an interned upstream, so calls share the worker's pooled
//! connections like any backend.

use std::collections::BTreeMap;
use std::time::Duration;

use super::super::error::ConfigError;
use super::super::spec::AuthorizerSpec;
use super::super::validate::split_url;
use super::backends::{ClientTls, Upstreams, split_address};
use crate::policy::auth::authorizer::{Authorizer, AuthorizerId, IdentitySource, Kind};

/// Every authorizer, and their ids by name. Validation has checked them.
pub(super) fn compile(
    specs: &[AuthorizerSpec],
    upstreams: &mut Upstreams,
    errs: &mut Vec<ConfigError>,
) -> (Vec<Authorizer>, BTreeMap<String, AuthorizerId>) {
    let mut list = Vec::new();
    let mut names = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("authorizer[{i}]");
        let Ok((https, authority, path)) = split_url(&spec.url) else {
            continue; // reported by validation
        };
        let (host, port) = match split_address(authority, if https { 443 } else { 80 }) {
            Ok(hp) => hp,
            Err(why) => {
                errs.push(ConfigError::new(
                    format!("{at}.url"),
                    why,
                    "write http://host[:port]/path",
                ));
                continue;
            }
        };
        let tls = https.then(|| ClientTls {
            ca: spec.tls_ca.clone(),
            server_name: spec.tls_server_name.clone(),
            verify: spec.tls_verify,
        });
        let upstream = match upstreams.intern_address(&host, port, tls, &at) {
            Ok(id) => id,
            Err(e) => {
                errs.push(e);
                continue;
            }
        };
        let identity = spec
            .identity
            .iter()
            .map(|s| match s.location.to_ascii_lowercase().as_str() {
                "query" => IdentitySource::Query(s.name.as_str().into()),
                _ => IdentitySource::Header(s.name.to_ascii_lowercase().into()),
            })
            .collect();
        names.insert(spec.name.clone(), list.len() as AuthorizerId);
        list.push(Authorizer {
            name: spec.name.as_str().into(),
            kind: if spec.kind == "backend" {
                Kind::Backend
            } else {
                Kind::Frontend
            },
            upstream,
            host: authority.into(),
            path: if path.starts_with('/') {
                path.into()
            } else {
                format!("/{path}").into()
            },
            timeout: Duration::from_millis(spec.timeout_ms),
            cache_ttl: Duration::from_secs(spec.cache_ttl_s),
            identity,
            send_body: spec.send_body,
            max_body: spec.max_body_bytes,
            user_data: spec.user_data.as_deref().map(Into::into),
            relaxed: spec.relaxed,
            num_bool: spec.context_num_bool,
            deny_status: spec.deny_status_codes,
        });
    }
    (list, names)
}
