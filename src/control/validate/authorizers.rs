//! `[[authorizer]]` entries and where APIs and backends use them
//! (behaviour.md §11.7, §11.9, §8.2, §9.3).

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, AuthorizerSpec, BackendSpec, GatewaySpec};

/// Longest authorizer cache age, seconds (§11.9.1).
pub const MAX_CACHE_TTL_S: u64 = 3600;
/// Longest `user_data`, characters (§11.9.1).
pub const MAX_USER_DATA: usize = 2048;
/// Longest authorizer call timeout, ms (the backend timeout cap, §27 C23).
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// Every authorizer: name rules, type, URL, limits.
pub(super) fn authorizers(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    for (i, a) in spec.authorizer.iter().enumerate() {
        let at = format!("authorizer[{i}]");
        let mut push = |key: &str, why: String, fix: &str| {
            errs.push(ConfigError::new(format!("{at}.{key}"), why, fix));
        };
        if !name_ok(&a.name) {
            push(
                "name",
                format!("authorizer name \"{}\" breaks the naming rule", a.name),
                "use 3-64 characters: a letter, then letters, digits and _ (behaviour.md §11.9.1)",
            );
        } else if !names.insert(a.name.as_str()) {
            push(
                "name",
                format!("authorizer \"{}\" is defined twice", a.name),
                "give every [[authorizer]] its own name",
            );
        }
        let frontend = match a.kind.as_str() {
            "frontend" => true,
            "backend" => false,
            other => {
                push(
                    "type",
                    format!("unknown authorizer type \"{other}\""),
                    "use \"frontend\" or \"backend\" (behaviour.md §11.9.1)",
                );
                true
            }
        };
        if let Err(why) = split_url(&a.url) {
            push(
                "url",
                format!("\"{}\" {why}", a.url),
                "write http://host[:port]/path or https://host[:port]/path",
            );
        }
        let https = a.url.starts_with("https://");
        for (key, set) in [
            ("tls_ca", a.tls_ca.is_some()),
            ("tls_server_name", a.tls_server_name.is_some()),
            ("tls_verify", !a.tls_verify),
        ] {
            if set && !https {
                push(
                    key,
                    "TLS settings apply only to https:// URLs".into(),
                    "use an https:// URL, or remove the key",
                );
            }
        }
        if a.timeout_ms == 0 || a.timeout_ms > MAX_TIMEOUT_MS {
            push(
                "timeout_ms",
                format!("{} ms is outside 1-{MAX_TIMEOUT_MS}", a.timeout_ms),
                "set timeout_ms to the longest the endpoint may take (default 5000)",
            );
        }
        if a.max_body_bytes == 0 {
            push(
                "max_body_bytes",
                "0 bytes".into(),
                "set the largest body the event may carry (default 1048576), or remove the key",
            );
        }
        if a.cache_ttl_s > MAX_CACHE_TTL_S {
            push(
                "cache_ttl_s",
                format!("{} s is more than {MAX_CACHE_TTL_S}", a.cache_ttl_s),
                "use 0 (no caching) to 3600 seconds (behaviour.md §11.9.1)",
            );
        }
        if frontend && a.cache_ttl_s > 0 && a.identity.is_empty() {
            push(
                "identity",
                "a frontend authorizer that caches results needs identity sources: they are the cache key".into(),
                "add identity = [{ location = \"header\", name = \"Authorization\" }], or set cache_ttl_s = 0 (behaviour.md §11.9.1, §27 C8)",
            );
        }
        if !frontend {
            for (key, set) in [
                ("identity", !a.identity.is_empty()),
                ("send_body", a.send_body),
                ("max_body_bytes", a.max_body_bytes != 1024 * 1024),
            ] {
                if set {
                    push(
                        key,
                        "a backend authorizer receives only user_data".into(),
                        "remove the key, or make the authorizer type = \"frontend\" (behaviour.md §11.9.6)",
                    );
                }
            }
        }
        for (s, source) in a.identity.iter().enumerate() {
            let bad_location = !matches!(
                source.location.to_ascii_lowercase().as_str(),
                "header" | "query"
            );
            if bad_location {
                push(
                    &format!("identity[{s}].location"),
                    format!("unknown location \"{}\"", source.location),
                    "use \"header\" or \"query\"",
                );
            }
            if source.name.is_empty() || !super::is_token(&source.name) {
                push(
                    &format!("identity[{s}].name"),
                    format!("\"{}\" is not a header or query name", source.name),
                    "name the header or query parameter that carries the credential",
                );
            }
        }
        if let Some(ud) = &a.user_data
            && (ud.is_empty() || ud.chars().count() > MAX_USER_DATA)
        {
            push(
                "user_data",
                format!("user_data has {} characters", ud.chars().count()),
                "use 1-2048 characters, or remove the key (behaviour.md §11.9.1)",
            );
        }
    }
}

/// §11.9.1: 3–64 characters, a letter first, then letters, digits and `_`.
fn name_ok(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An authorizer URL's parts: (https, authority, path-and-query).
pub fn split_url(url: &str) -> Result<(bool, &str, &str), &'static str> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("is not an http:// or https:// URL");
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty()
        || authority.contains(['@', '#'])
        || authority.bytes().any(|b| !(0x21..0x7f).contains(&b))
    {
        return Err("has no usable host");
    }
    if path.contains(['#', ' ']) || path.bytes().any(|b| b < 0x21 || b == 0x7f) {
        return Err("has a fragment, a space or a control character in its path");
    }
    Ok((https, authority, path))
}

fn authorizer<'s>(spec: &'s GatewaySpec, name: &str) -> Option<&'s AuthorizerSpec> {
    spec.authorizer.iter().find(|a| a.name == name)
}

/// The API's frontend authorizer binding (custom or two-factor
/// authentication), and every use of authorizer context in its policies
/// and backend parameters.
pub(super) fn api(spec: &GatewaySpec, api: &ApiSpec, ap: &str, errs: &mut Vec<ConfigError>) {
    let auth = &api.auth;
    let at = |key: &str| format!("{ap}.auth.{key}");
    let mut frontend = false;
    match (auth.kind.as_str(), auth.two_factor, &auth.authorizer) {
        ("custom", false, Some(_)) | ("app" | "token", true, Some(_)) => frontend = true,
        ("custom", false, None) => errs.push(ConfigError::new(
            at("authorizer"),
            "custom authentication needs a frontend authorizer",
            "set authorizer = \"<name of a frontend [[authorizer]]>\" (behaviour.md §11.9)",
        )),
        (_, true, None) => errs.push(ConfigError::new(
            at("authorizer"),
            "two-factor authentication needs a frontend authorizer",
            "set authorizer = \"<name of a frontend [[authorizer]]>\" (behaviour.md §11.7)",
        )),
        (kind, true, Some(_)) => errs.push(ConfigError::new(
            at("two_factor"),
            format!("two-factor authentication adds an authorizer to app or token authentication, not to \"{kind}\""),
            "set type = \"app\" or \"token\", or remove two_factor (behaviour.md §11.7)",
        )),
        (_, false, Some(_)) => errs.push(ConfigError::new(
            at("authorizer"),
            "an authorizer is used only with type = \"custom\" or two_factor = true",
            "set type = \"custom\", or two_factor = true with type = \"app\" or \"token\", or remove the key",
        )),
        _ => {}
    }
    if let Some(name) = &auth.authorizer {
        match authorizer(spec, name) {
            None => errs.push(ConfigError::new(
                at("authorizer"),
                format!("no [[authorizer]] is named \"{name}\""),
                "add the [[authorizer]] or fix the name",
            )),
            Some(a) if a.kind != "frontend" => errs.push(ConfigError::new(
                at("authorizer"),
                format!("authorizer \"{name}\" is a {} authorizer", a.kind),
                "API authentication uses a type = \"frontend\" authorizer (behaviour.md §11.9.1)",
            )),
            Some(_) => {}
        }
    }
    for (p, pol) in api.policy.iter().enumerate() {
        for (c, cond) in pol.condition.iter().enumerate() {
            if cond.source == "authorizer" && !frontend {
                errs.push(ConfigError::new(
                    format!("{ap}.policy[{p}].condition[{c}].source"),
                    "authorizer conditions need a frontend custom authorizer on the API",
                    "configure custom or two-factor authentication for this API (behaviour.md §8.2, §11.9), or use source = \"param\"",
                ));
            }
        }
    }
    backend(spec, &api.backend, frontend, &format!("{ap}.backend"), errs);
    for (p, pol) in api.policy.iter().enumerate() {
        let bp = format!("{ap}.policy[{p}].backend");
        backend(spec, &pol.backend, frontend, &bp, errs);
    }
}

/// A backend's authorizer, and its `authorizer.*` system parameters.
fn backend(
    spec: &GatewaySpec,
    b: &BackendSpec,
    frontend: bool,
    bp: &str,
    errs: &mut Vec<ConfigError>,
) {
    let BackendSpec::Http(h) = b else {
        return;
    };
    if let Some(name) = &h.authorizer {
        match authorizer(spec, name) {
            None => errs.push(ConfigError::new(
                format!("{bp}.authorizer"),
                format!("no [[authorizer]] is named \"{name}\""),
                "add the [[authorizer]] or fix the name",
            )),
            Some(a) if a.kind != "backend" => errs.push(ConfigError::new(
                format!("{bp}.authorizer"),
                format!("authorizer \"{name}\" is a {} authorizer", a.kind),
                "backend authentication uses a type = \"backend\" authorizer (behaviour.md §11.9.6)",
            )),
            Some(_) => {}
        }
    }
    for (i, s) in h.system.iter().enumerate() {
        let (needs, ok, fix) = if s.from.starts_with("authorizer.frontend.") {
            (
                "a frontend custom authorizer on the API",
                frontend,
                "configure custom or two-factor authentication for this API (behaviour.md §11.9), or use a gateway parameter",
            )
        } else if s.from.starts_with("authorizer.backend.") {
            (
                "a backend authorizer on this backend",
                h.authorizer.is_some(),
                "set authorizer = \"<name of a backend [[authorizer]]>\" on this backend (behaviour.md §11.9.6)",
            )
        } else {
            continue;
        };
        if !ok {
            errs.push(ConfigError::new(
                format!("{bp}.system[{i}].from"),
                format!("{} needs {needs}", s.from),
                fix,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:9000/auth?x=1"),
            Ok((false, "127.0.0.1:9000", "/auth?x=1"))
        );
        assert_eq!(
            split_url("https://auth.local"),
            Ok((true, "auth.local", ""))
        );
        for bad in [
            "ftp://x/",
            "http:///x",
            "http://u@h/",
            "http://h\r\nX: y/",
            "http://h/a b",
            "http://h/#f",
        ] {
            assert!(split_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_follow_the_documented_rule() {
        assert!(name_ok("basic_auth"));
        assert!(!name_ok("ab"));
        assert!(!name_ok("1abc"));
        assert!(!name_ok("a-bc"));
        assert!(!name_ok(&"a".repeat(65)));
    }
}
