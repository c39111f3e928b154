//! `[[app]]` and `[group.api.auth]` (behaviour.md §11.2–§11.5; the
//! token keys of `[group.api.auth]` are checked in `token`).

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, GatewaySpec};
use super::model::known_stage;

/// Most AppCodes per app (§11.2).
pub const MAX_APP_CODES: usize = 5;

/// Every app: unique names, keys and AppCodes; non-empty secrets; AppCodes
/// in the documented shape (app-signing.md §9).
pub(super) fn apps(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    let mut codes = HashSet::new();
    for (i, app) in spec.app.iter().enumerate() {
        let at = format!("app[{i}]");
        let mut push = |key: &str, why: String, fix: &str| {
            errs.push(ConfigError::new(format!("{at}.{key}"), why, fix));
        };
        if app.name.trim().is_empty() || !names.insert(app.name.as_str()) {
            push(
                "name",
                format!("app name \"{}\" is empty or used twice", app.name),
                "give every [[app]] its own name",
            );
        }
        if !is_key(&app.key) || !keys.insert(app.key.as_str()) {
            push(
                "key",
                "the AppKey is empty, not printable ASCII, or used by another app".into(),
                "give every app its own AppKey (letters and digits, e.g. 32 hex digits)",
            );
        }
        if app.secret.is_empty() {
            push(
                "secret",
                "the AppSecret is empty".into(),
                "set secret to a random string (e.g. 32 hex digits)",
            );
        }
        if let Some(t) = &app.tenant
            && (t.is_empty() || t.chars().any(char::is_control))
        {
            push(
                "tenant",
                "the tenant is empty or holds a control character".into(),
                "set the owning tenant's (project's) ID, e.g. \"tenant-a\"",
            );
        }
        if app.app_codes.len() > MAX_APP_CODES {
            push(
                "app_codes",
                format!(
                    "{} AppCodes; at most {MAX_APP_CODES} per app",
                    app.app_codes.len()
                ),
                "remove AppCodes (behaviour.md §11.2)",
            );
        }
        for (c, code) in app.app_codes.iter().enumerate() {
            if !is_app_code(code) {
                push(
                    &format!("app_codes[{c}]"),
                    "an AppCode has 64-180 characters, starts with a letter, digit, + or /, and holds only letters, digits and +_!@#$%-/=".into(),
                    "generate one, e.g. `openssl rand -base64 48`",
                );
            } else if !codes.insert(code.as_str()) {
                push(
                    &format!("app_codes[{c}]"),
                    "this AppCode is used twice".into(),
                    "give every AppCode to one app only",
                );
            }
        }
    }
}

fn is_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

/// app-signing.md §9: 64–180 characters, first a letter, digit, `+` or
/// `/`, then letters, digits and `+_!@#$%-/=`.
fn is_app_code(code: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"+_!@#$%-/=".contains(&b);
    (64..=180).contains(&code.len())
        && code
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        && code.bytes().all(ok)
}

/// An API's `[group.api.auth]`.
pub(super) fn api_auth(spec: &GatewaySpec, api: &ApiSpec, ap: &str, errs: &mut Vec<ConfigError>) {
    let auth = &api.auth;
    let at = |key: &str| format!("{ap}.auth.{key}");
    let app = match auth.kind.as_str() {
        "none" | "custom" | "token" => false,
        "app" => true,
        other => {
            errs.push(ConfigError::new(
                at("type"),
                format!("unknown authentication \"{other}\""),
                "use \"none\", \"app\", \"token\" or \"custom\" (behaviour.md §11.1)",
            ));
            return;
        }
    };
    if !app {
        let set = [
            ("simple", auth.simple),
            ("app_code_over_http", auth.app_code_over_http),
            ("grants", !auth.grants.is_empty()),
        ];
        for (key, _) in set.iter().filter(|(_, on)| *on) {
            errs.push(ConfigError::new(
                at(key),
                "only app authentication uses this",
                "set type = \"app\", or remove the key",
            ));
        }
        return;
    }
    if auth.app_code_over_http && !auth.simple {
        errs.push(ConfigError::new(
            at("app_code_over_http"),
            "AppCodes are accepted only with simple = true",
            "set simple = true, or remove app_code_over_http",
        ));
    }
    for (stage, granted) in &auth.grants {
        if !known_stage(spec, stage) {
            errs.push(ConfigError::new(
                format!("{}.{stage}", at("grants")),
                format!("stage \"{stage}\" is not defined"),
                "use RELEASE or a [[stage]] name (case-sensitive)",
            ));
        } else if !api.stages.contains(stage) {
            errs.push(ConfigError::new(
                format!("{}.{stage}", at("grants")),
                format!("the API is not published in stage \"{stage}\""),
                "grant apps in the stages listed in the API's stages",
            ));
        }
        for name in granted {
            if !spec.app.iter().any(|a| &a.name == name) {
                errs.push(ConfigError::new(
                    format!("{}.{stage}", at("grants")),
                    format!("no [[app]] is named \"{name}\""),
                    "add the [[app]] or fix the name",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_app_code;

    #[test]
    fn app_codes_follow_the_documented_shape() {
        let good = "TgrMzOoTpbPORwg4a2BlUgd0ziCaHzVW6bcoScNgISsTS5z1i1Mgsvb9fz2h6Ihd";
        assert_eq!(good.len(), 64);
        assert!(is_app_code(good));
        assert!(is_app_code(&format!("/{}", &good[1..])));
        assert!(!is_app_code(&good[1..]), "63 characters");
        assert!(!is_app_code(&format!("_{}", &good[1..])), "starts with _");
        assert!(!is_app_code(&format!("{good} ")), "a space");
        assert!(!is_app_code(&"a".repeat(181)));
    }
}
