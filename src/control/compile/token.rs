//! `[[token_issuer]]` → [`TokenIssuer`] (behaviour.md §11.6): every key is
//! read and decoded here, once, at load: PEM public keys and certificates
//! and JWKS files (RFC 7517). A request then verifies against ready keys,
//! with no file I/O and no key parsing. Unreadable or unusable files are
//! `ConfigError`s naming the TOML key and the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use serde::Deserialize;

use super::super::certs::resolve;
use super::super::error::ConfigError;
use super::super::spec::{AuthSpec, TokenIssuerSpec, TokenKeySpec};
use crate::policy::auth::token::{
    Alg, ClaimNames, DEFAULT_LEEWAY_S, MAX_LEEWAY_S, MIN_HS256_SECRET_BYTES, TokenIssuer, TokenKey,
};

/// Every `[[token_issuer]]` by name. Keys validation already refused (an
/// unknown `alg`, a missing secret) are left out silently; file problems
/// are reported.
pub(super) fn issuers(
    specs: &[TokenIssuerSpec],
    base: &Path,
    errs: &mut Vec<ConfigError>,
) -> BTreeMap<String, Arc<TokenIssuer>> {
    let mut out = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("token_issuer[{i}]");
        let mut keys: Vec<TokenKey> = (spec.key.iter().enumerate())
            .filter_map(|(k, key)| inline_key(key, base, &format!("{at}.key[{k}]"), errs))
            .collect();
        if let Some(file) = &spec.jwks {
            match jwks_keys(&resolve(base, file)) {
                Ok(more) => keys.extend(more),
                Err(why) => errs.push(ConfigError::new(
                    format!("{at}.jwks"),
                    why,
                    "point jwks at a readable JSON Web Key Set ({\"keys\": [...]}) with RS256, ES256 (P-256) or HS256 keys",
                )),
            }
        }
        // A token without `kid` is tried against every key of its `alg`:
        // the key count bounds what one bad token costs.
        if keys.len() > MAX_ISSUER_KEYS {
            errs.push(ConfigError::new(
                format!("{at}.jwks"),
                format!("{} keys; at most {MAX_ISSUER_KEYS} per issuer", keys.len()),
                "keep only the keys in use (a rotation needs two or three)",
            ));
        }
        let leeway_s =
            u32::try_from(spec.leeway_s).map_or(DEFAULT_LEEWAY_S, |l| l.min(MAX_LEEWAY_S));
        let issuer = TokenIssuer {
            name: spec.name.as_str().into(),
            issuer: spec.issuer.as_deref().map(Into::into),
            audience: spec.audience.iter().map(|a| a.as_str().into()).collect(),
            leeway_s,
            claims: ClaimNames {
                tenant: spec.tenant_claim.as_str().into(),
                user: spec.user_claim.as_str().into(),
                account: spec.account_claim.as_str().into(),
            },
            keys,
        };
        out.insert(spec.name.clone(), Arc::new(issuer));
    }
    out
}

/// Most keys (inline and JWKS together) one issuer may have.
const MAX_ISSUER_KEYS: usize = 32;

/// The issuer of an API with `type = "token"`; `None` for other types. A
/// token API whose issuer is unknown is an error (validation reports it
/// too): it must never compile into an API without authentication.
pub(super) fn api_issuer(
    auth: &AuthSpec,
    issuers: &BTreeMap<String, Arc<TokenIssuer>>,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<Arc<TokenIssuer>> {
    if auth.kind != "token" {
        return None;
    }
    let found = auth.token_issuer.as_ref().and_then(|n| issuers.get(n));
    if found.is_none() {
        errs.push(ConfigError::new(
            format!("{ap}.auth.token_issuer"),
            "no such [[token_issuer]]",
            "set token_issuer to the name of a [[token_issuer]]",
        ));
    }
    found.cloned()
}

/// One `[[token_issuer.key]]`, reading its PEM file.
fn inline_key(
    key: &TokenKeySpec,
    base: &Path,
    kp: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<TokenKey> {
    let alg = Alg::parse(&key.alg)?;
    let id = key.id.as_deref();
    if alg == Alg::Hs256 {
        let secret = key.secret.as_deref()?;
        return Some(TokenKey::hs256(id, secret.as_bytes()));
    }
    let path = resolve(base, key.pem.as_deref()?);
    let file = path.display();
    let loaded = std::fs::read(&path)
        .map_err(|e| format!("cannot read {file}: {e}"))
        .and_then(|pem| public_key_der(&pem).map_err(|why| format!("{file}: {why}")))
        .and_then(|der| {
            TokenKey::public(id, alg, &der)
                .map_err(|e| format!("{file}: not an {} public key ({e})", alg.name()))
        });
    match loaded {
        Ok(key) => Some(key),
        Err(why) => {
            errs.push(ConfigError::new(
                format!("{kp}.pem"),
                why,
                "give the issuer's public key as PEM: `openssl pkey -in private.pem -pubout` (RS256: RSA 2048-8192 bits; ES256: P-256), or its certificate",
            ));
            None
        }
    }
}

/// The SubjectPublicKeyInfo DER of a PEM file: its `PUBLIC KEY`, else the
/// public key of its first `CERTIFICATE`.
fn public_key_der(pem_bytes: &[u8]) -> Result<Vec<u8>, String> {
    match SubjectPublicKeyInfoDer::from_pem_slice(pem_bytes) {
        Ok(spki) => return Ok(spki.to_vec()),
        Err(pem::Error::NoItemsFound) => {}
        Err(e) => return Err(format!("not valid PEM ({e})")),
    }
    match CertificateDer::from_pem_slice(pem_bytes) {
        Ok(cert) => x509_parser::parse_x509_certificate(&cert)
            .map(|(_, c)| c.public_key().raw.to_vec())
            .map_err(|e| format!("the certificate does not parse ({e})")),
        Err(pem::Error::NoItemsFound) if contains(pem_bytes, b"PRIVATE KEY-----") => {
            Err("holds a private key; the gateway needs only the public key".into())
        }
        Err(pem::Error::NoItemsFound) => Err("holds no PUBLIC KEY or CERTIFICATE section".into()),
        Err(e) => Err(format!("not valid PEM ({e})")),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

/// The members of a JWK the gateway reads (RFC 7517 §4, RFC 7518 §6);
/// others (`x5c`, `key_ops`, …) are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    k: Option<String>,
}

/// Every usable key of a JWKS file. Keys for encryption (`use = "enc"`)
/// and of other algorithms (RS384, EdDSA, P-384, …) are skipped, so a
/// provider's set can be used as published; a set with no usable key, or
/// a usable-looking key that does not decode, is an error.
fn jwks_keys(path: &Path) -> Result<Vec<TokenKey>, String> {
    let file = path.display();
    let text = std::fs::read(path).map_err(|e| format!("cannot read {file}: {e}"))?;
    let set: JwkSet = serde_json::from_slice(&text)
        .map_err(|e| format!("{file} is not a JSON Web Key Set ({e})"))?;
    let mut keys = Vec::new();
    for (j, jwk) in set.keys.iter().enumerate() {
        let name = jwk.kid.as_deref().map_or_else(
            || format!("key {j}"),
            |kid| format!("key {j} (kid \"{kid}\")"),
        );
        if let Some(key) = jwk_key(jwk).map_err(|why| format!("{file}: {name}: {why}"))? {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "{file} holds no RS256, ES256 (P-256) or HS256 signing key"
        ));
    }
    Ok(keys)
}

/// One JWK as a key; `None` when it is not for verifying a supported
/// algorithm.
fn jwk_key(jwk: &Jwk) -> Result<Option<TokenKey>, String> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let implied = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => Some(Alg::Rs256),
        ("EC", Some("P-256")) => Some(Alg::Es256),
        ("oct", _) => Some(Alg::Hs256),
        _ => None,
    };
    let alg = match jwk.alg.as_deref() {
        None => implied,
        Some(named) => Alg::parse(named),
    };
    let Some(alg) = alg else {
        return Ok(None);
    };
    if implied != Some(alg) {
        return Err(format!(
            "alg {} does not fit kty \"{}\"{}",
            alg.name(),
            jwk.kty,
            jwk.crv
                .as_deref()
                .map_or(String::new(), |c| format!(" crv \"{c}\""))
        ));
    }
    let id = jwk.kid.as_deref();
    let key = match alg {
        Alg::Rs256 => {
            let (n, e) = (b64(&jwk.n, "n")?, b64(&jwk.e, "e")?);
            TokenKey::rsa(id, &n, &e).map_err(|e| format!("not a usable RSA key ({e})"))?
        }
        Alg::Es256 => {
            let (x, y) = (b64(&jwk.x, "x")?, b64(&jwk.y, "y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err("x and y must be 32 bytes each for P-256".into());
            }
            let point = [&[0x04][..], &x, &y].concat();
            TokenKey::public(id, alg, &point).map_err(|e| format!("not a P-256 point ({e})"))?
        }
        Alg::Hs256 => {
            let k = b64(&jwk.k, "k")?;
            if k.len() < MIN_HS256_SECRET_BYTES {
                return Err(format!(
                    "k has {} bytes; HS256 needs at least {MIN_HS256_SECRET_BYTES}",
                    k.len()
                ));
            }
            TokenKey::hs256(id, &k)
        }
    };
    Ok(Some(key))
}

/// A base64url member (padding tolerated).
fn b64(value: &Option<String>, member: &str) -> Result<Vec<u8>, String> {
    let value = value
        .as_deref()
        .ok_or_else(|| format!("member \"{member}\" is missing"))?;
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|e| format!("member \"{member}\" is not base64url ({e})"))
}
