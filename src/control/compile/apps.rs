//! Apps (behaviour.md §11.2) and each API's app authentication (§11.3–§11.5).

use std::collections::BTreeMap;

use super::super::error::ConfigError;
use super::super::spec::{AppSpec, AuthSpec};
use crate::policy::auth::app::{App, AppAuth, AppId, Apps};
use crate::route::StageTable;

/// Every `[[app]]`, and their ids by name. Validation has checked them.
pub(super) fn apps(specs: &[AppSpec]) -> (Apps, BTreeMap<String, AppId>) {
    let mut apps = Apps::default();
    let mut names = BTreeMap::new();
    for spec in specs {
        let app = App {
            id: spec.id.as_deref().unwrap_or(&spec.name).into(),
            key: spec.key.as_bytes().into(),
            secret: spec.secret.as_bytes().into(),
            enabled: spec.enabled,
        };
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
