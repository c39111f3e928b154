//! Apps (behaviour.md §11.2) and each API's app authentication (§11.3–§11.5).

use std::collections::BTreeMap;

use super::super::error::ConfigError;
use std::sync::Arc;

use super::super::spec::{AclSpec, AppSpec, AuthSpec, SettingsSpec, SignatureKeySpec};
use crate::backend::SigningKey;
use crate::policy::acl::{AccessPolicy, AccountPolicy, Effect, IpEntry, IpPolicy, RealIp};
use crate::policy::auth::app::{App, AppAuth, AppId, Apps};
use crate::route::StageTable;

/// Every `[[app]]`, and their ids by name. Validation has checked them.
pub(super) fn apps(specs: &[AppSpec]) -> (Apps, BTreeMap<String, AppId>) {
    let mut apps = Apps::default();
    let mut names = BTreeMap::new();
    for spec in specs {
        let mut app = App::new(
            spec.id.as_deref().unwrap_or(&spec.name),
            spec.key.as_bytes(),
            spec.secret.as_bytes(),
            spec.enabled,
        );
        app.tenant = spec.tenant.as_deref().map(Box::from);
        let id = apps.insert(app, &spec.app_codes);
        names.insert(spec.name.clone(), id);
    }
    (apps, names)
}

/// An API's `[group.api.auth]`: `None` without authentication.
pub(super) fn auth(
    spec: &AuthSpec,
    names: &BTreeMap<String, AppId>,
    stages: &StageTable,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<AppAuth> {
    if spec.kind != "app" {
        return None;
    }
    let mut grants = vec![Vec::new(); stages.len()];
    for (stage, granted) in &spec.grants {
        let Some(s) = stages.id(stage) else {
            continue; // reported by validation
        };
        for name in granted {
            match names.get(name) {
                Some(&id) => grants[s as usize].push(id),
                None => errs.push(ConfigError::new(
                    format!("{ap}.auth.grants.{stage}"),
                    format!("no [[app]] is named \"{name}\""),
                    "add the [[app]] or fix the name",
                )),
            }
        }
    }
    for g in &mut grants {
        g.sort_unstable();
        g.dedup();
    }
    Some(AppAuth {
        simple: spec.simple,
        code_over_http: spec.app_code_over_http,
        require_signed_host: spec.require_signed_host,
        grants,
    })
}

/// Every `[[acl]]` by name (validated).
pub(super) fn acls(spec: &[AclSpec]) -> BTreeMap<String, Arc<AccessPolicy>> {
    spec.iter()
        .map(|a| {
            let effect = if a.effect == "allow" {
                Effect::Allow
            } else {
                Effect::Deny
            };
            let policy = if a.kind == "account" {
                AccessPolicy::Account(AccountPolicy::new(
                    effect,
                    a.values.iter().map(String::as_str),
                ))
            } else {
                AccessPolicy::Ip(IpPolicy {
                    effect,
                    entries: a.values.iter().filter_map(|v| IpEntry::parse(v)).collect(),
                })
            };
            (a.name.clone(), Arc::new(policy))
        })
        .collect()
}

/// `[settings]` real-IP keys (§16; validated).
pub(super) fn real_ip(s: &SettingsSpec) -> RealIp {
    if s.real_ip_from_xff && s.trusted_proxies.is_empty() {
        log::warn!(
            "settings.real_ip_from_xff is on with no settings.trusted_proxies: every peer's \
             X-Forwarded-For is believed, so a direct client chooses the IP that IP access \
             control sees; list the proxies in front of the gateway"
        );
    }
    RealIp {
        from_xff: s.real_ip_from_xff,
        index: s.real_ip_index,
        trusted: s
            .trusted_proxies
            .iter()
            .filter_map(|p| {
                p.parse::<ipnet::IpNet>()
                    .ok()
                    .or_else(|| p.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
            })
            .collect(),
        strict: s.real_ip_strict,
    }
}

/// Every `[[signature_key]]` by name (validated).
pub(super) fn signature_keys(spec: &[SignatureKeySpec]) -> BTreeMap<String, Arc<SigningKey>> {
    spec.iter()
        .map(|k| {
            let key = SigningKey::new(k.key.as_bytes(), k.secret.as_bytes());
            (k.name.clone(), Arc::new(key))
        })
        .collect()
}

/// A per-stage binding (`{ STAGE = "name" }`) resolved against `named`.
pub(super) fn by_stage<T>(
    bound: &BTreeMap<String, String>,
    named: &BTreeMap<String, Arc<T>>,
    stages: &StageTable,
) -> Vec<Option<Arc<T>>> {
    let mut out = vec![None; stages.len()];
    for (stage, name) in bound {
        if let (Some(s), Some(p)) = (stages.id(stage), named.get(name))
            && let Some(slot) = out.get_mut(s as usize)
        {
            *slot = Some(p.clone());
        }
    }
    out
}
