//! `[[token_issuer]]` and an API's `token_issuer` (behaviour.md §11.6).
//! What needs files (PEM keys, the JWKS) is checked when compiling reads
//! them; everything else is here.

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{AuthSpec, GatewaySpec, TokenIssuerSpec, TokenKeySpec};
use crate::policy::auth::token::{Alg, MAX_LEEWAY_S, MIN_HS256_SECRET_BYTES};

/// Claims the verifier reads itself; an identity claim cannot be one.
const REGISTERED: [&str; 4] = ["exp", "nbf", "iss", "aud"];

/// Every issuer: unique names, a leeway in range, usable claim names and
/// at least one well-formed key.
pub(super) fn issuers(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    for (i, issuer) in spec.token_issuer.iter().enumerate() {
        let at = format!("token_issuer[{i}]");
        if issuer.name.trim().is_empty() || !names.insert(issuer.name.as_str()) {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!(
                    "token issuer name \"{}\" is empty or used twice",
                    issuer.name
                ),
                "give every [[token_issuer]] its own name",
            ));
        }
        settings(issuer, &at, errs);
        if issuer.key.is_empty() && issuer.jwks.is_none() {
            errs.push(ConfigError::new(
                at.clone(),
                "the issuer has no keys: no token could ever verify",
                "add a [[token_issuer.key]] (alg + secret or pem) or jwks = \"file.json\"",
            ));
        }
        let mut ids = HashSet::new();
        for (k, key) in issuer.key.iter().enumerate() {
            let kp = format!("{at}.key[{k}]");
            if let Some(id) = &key.id
                && (id.is_empty() || !ids.insert(id.as_str()))
            {
                errs.push(ConfigError::new(
                    format!("{kp}.id"),
                    format!("key id \"{id}\" is empty or used twice in this issuer"),
                    "give every key its own id (the `kid` tokens name), or leave id out",
                ));
            }
            self::key(key, &kp, errs);
        }
    }
}

/// `issuer`, `audience`, `leeway_s`, the claim names and `jwks`.
fn settings(issuer: &TokenIssuerSpec, at: &str, errs: &mut Vec<ConfigError>) {
    let mut push = |key: String, why: String, fix: &str| {
        errs.push(ConfigError::new(format!("{at}.{key}"), why, fix));
    };
    if issuer.issuer.as_deref().is_some_and(str::is_empty) {
        push(
            "issuer".into(),
            "the issuer is empty".into(),
            "write the `iss` your tokens carry, e.g. \"https://id.example.com\", or remove the key",
        );
    }
    for (a, aud) in issuer.audience.iter().enumerate() {
        if aud.is_empty() {
            push(
                format!("audience[{a}]"),
                "an audience is empty".into(),
                "list the `aud` values this gateway accepts, e.g. [\"tollgate\"]",
            );
        }
    }
    if !(0..=i64::from(MAX_LEEWAY_S)).contains(&issuer.leeway_s) {
        push(
            "leeway_s".into(),
            format!("{} s is out of range", issuer.leeway_s),
            &format!("use 0 to {MAX_LEEWAY_S} seconds (default 60)"),
        );
    }
    let claims = [
        ("tenant_claim", &issuer.tenant_claim),
        ("user_claim", &issuer.user_claim),
        ("account_claim", &issuer.account_claim),
    ];
    for (key, name) in claims {
        if name.is_empty() || REGISTERED.contains(&name.as_str()) {
            push(
                key.into(),
                format!("\"{name}\" cannot name the caller"),
                "name a claim other than exp, nbf, iss and aud (defaults: tenant_id, sub, account_name)",
            );
        }
    }
    if issuer.jwks.as_deref().is_some_and(str::is_empty) {
        push(
            "jwks".into(),
            "the JWKS path is empty".into(),
            "point jwks at a JSON Web Key Set file, or remove the key",
        );
    }
}

/// One `[[token_issuer.key]]`: a known algorithm with the material it needs
/// and nothing else.
fn key(key: &TokenKeySpec, kp: &str, errs: &mut Vec<ConfigError>) {
    let mut push = |field: &str, why: String, fix: &str| {
        errs.push(ConfigError::new(format!("{kp}.{field}"), why, fix));
    };
    let Some(alg) = Alg::parse(&key.alg) else {
        push(
            "alg",
            format!("unknown algorithm \"{}\"", key.alg),
            "use \"HS256\", \"RS256\" or \"ES256\" (exact case)",
        );
        return;
    };
    match (alg, &key.secret, &key.pem) {
        (Alg::Hs256, None, _) => push(
            "secret",
            "an HS256 key needs its secret".into(),
            "set secret = \"...\" (at least 32 random bytes, e.g. `openssl rand -hex 32`)",
        ),
        (Alg::Hs256, Some(secret), _) if secret.len() < MIN_HS256_SECRET_BYTES => push(
            "secret",
            format!(
                "the secret has {} bytes; HS256 needs at least {MIN_HS256_SECRET_BYTES} (RFC 7518 §3.2)",
                secret.len()
            ),
            "use at least 32 random bytes, e.g. `openssl rand -hex 32`",
        ),
        (Alg::Rs256 | Alg::Es256, Some(_), _) => push(
            "secret",
            format!("{} verifies with a public key, not a secret", alg.name()),
            "remove secret and set pem = \"public-key.pem\"",
        ),
        (Alg::Rs256 | Alg::Es256, None, None) => push(
            "pem",
            format!("an {} key needs its public key", alg.name()),
            "set pem = \"file.pem\" (a PUBLIC KEY or CERTIFICATE PEM)",
        ),
        _ => {}
    }
    if alg == Alg::Hs256 && key.pem.is_some() {
        push(
            "pem",
            "HS256 verifies with a shared secret, not a PEM key".into(),
            "remove pem, or use alg = \"RS256\" / \"ES256\" for a public key",
        );
    }
}

/// An API's `token_issuer` (with `type = "token"`, or without it: then an
/// error, since nothing would use it).
pub(super) fn api_auth(spec: &GatewaySpec, auth: &AuthSpec, ap: &str, errs: &mut Vec<ConfigError>) {
    let at = format!("{ap}.auth.token_issuer");
    match (auth.kind == "token", &auth.token_issuer) {
        (true, None) => errs.push(ConfigError::new(
            at,
            "token authentication needs the issuer whose tokens it accepts",
            "set token_issuer = \"name\" of a [[token_issuer]]",
        )),
        (true, Some(name)) if !spec.token_issuer.iter().any(|t| &t.name == name) => {
            errs.push(ConfigError::new(
                at,
                format!("no [[token_issuer]] is named \"{name}\""),
                "add the [[token_issuer]] or fix the name",
            ));
        }
        (false, Some(_)) => errs.push(ConfigError::new(
            at,
            "only token authentication uses this",
            "set type = \"token\", or remove the key",
        )),
        _ => {}
    }
}
