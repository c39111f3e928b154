//! The security parts of the configuration: certificates and domains'
//! TLS settings (behaviour.md §4), apps, token issuers and API
//! authentication (§11), access control (§15) and backend signature keys
//! (§12).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::default_true;

/// `[[signature_key]]`: a key pair the gateway signs backend requests with
/// (behaviour.md §12).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureKeySpec {
    /// Unique name; APIs bind it per stage.
    pub name: String,
    /// Key (`Access=` of the signature).
    pub key: String,
    /// Secret (the HMAC key).
    pub secret: String,
}

/// `[[acl]]`: an access-control policy (behaviour.md §15).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclSpec {
    /// Unique name; APIs bind it per stage.
    pub name: String,
    /// `"ip"` or `"account"` (token-authenticated APIs only).
    #[serde(rename = "type", default = "default_acl_type")]
    pub kind: String,
    /// `"allow"` (only these) or `"deny"` (all but these).
    pub effect: String,
    /// At most 100: addresses, CIDRs and `first-last` ranges (`ip`), or
    /// account names (`account`).
    pub values: Vec<String>,
}

fn default_acl_type() -> String {
    "ip".into()
}

/// `[[app]]`: an app, the credentials of app authentication (behaviour.md
/// §11.2, app-signing.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// Unique name; APIs grant access by it.
    pub name: String,
    /// App ID: `$context.appId` and the `appId` system parameter (default:
    /// the name).
    pub id: Option<String>,
    /// AppKey, the `Access` of signatures.
    pub key: String,
    /// AppSecret, the HMAC key.
    pub secret: String,
    /// AppCodes for simple authentication (§11.5), at most 5.
    #[serde(default)]
    pub app_codes: Vec<String>,
    /// `false` freezes the app: 405 APIG.0502 (§11.2).
    #[serde(default = "default_true")]
    pub enabled: bool,
}

/// `[group.api.auth]`: how callers of an API authenticate (§11.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// `"none"` (default), `"app"` or `"token"`.
    #[serde(rename = "type", default = "default_auth")]
    pub kind: String,
    /// With `"token"`: the `[[token_issuer]]` whose tokens are accepted.
    pub token_issuer: Option<String>,
    /// App authentication also accepts `X-Apig-AppCode` (§11.5).
    #[serde(default)]
    pub simple: bool,
    /// Accept AppCodes over plain HTTP too (§11.5 allows HTTPS only).
    #[serde(default)]
    pub app_code_over_http: bool,
    /// `x-sdk-date` and `host` must both be signed (app-signing.md §7;
    /// `false` requires only `x-sdk-date`).
    #[serde(default = "default_true")]
    pub require_signed_host: bool,
    /// Apps granted access, by stage (§11.3): `{ RELEASE = ["demo"] }`.
    #[serde(default)]
    pub grants: BTreeMap<String, Vec<String>>,
}

fn default_auth() -> String {
    "none".into()
}

impl Default for AuthSpec {
    /// No `[group.api.auth]`: no authentication, with the field defaults.
    fn default() -> Self {
        AuthSpec {
            kind: default_auth(),
            token_issuer: None,
            simple: false,
            app_code_over_http: false,
            require_signed_host: true,
            grants: BTreeMap::new(),
        }
    }
}

/// `[[token_issuer]]`: who issues the tokens of token authentication
/// (behaviour.md §11.6), and how to verify them. Paths are relative to the
/// configuration file's directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIssuerSpec {
    /// Unique name; APIs refer to it.
    pub name: String,
    /// Required `iss` claim (exact match); unset: not checked.
    pub issuer: Option<String>,
    /// Accepted audiences: `aud` must hold one; empty: not checked.
    #[serde(default)]
    pub audience: Vec<String>,
    /// Leeway on `exp` and `nbf`, seconds (default 60, at most 600).
    #[serde(default = "default_leeway_s")]
    pub leeway_s: i64,
    /// Claim holding the tenant (account ID).
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
    /// Claim holding the user.
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// Claim holding the account name (else the tenant ID is used).
    #[serde(default = "default_account_claim")]
    pub account_claim: String,
    /// A JWKS file (RFC 7517) with more keys.
    pub jwks: Option<String>,
    /// Inline keys, `[[token_issuer.key]]`.
    #[serde(default)]
    pub key: Vec<TokenKeySpec>,
}

fn default_leeway_s() -> i64 {
    crate::policy::auth::token::DEFAULT_LEEWAY_S.into()
}
fn default_tenant_claim() -> String {
    "tenant_id".into()
}
fn default_user_claim() -> String {
    "sub".into()
}
fn default_account_claim() -> String {
    "account_name".into()
}

/// `[[token_issuer.key]]`: one verification key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenKeySpec {
    /// Key id: a token with a `kid` uses only the keys with that id.
    pub id: Option<String>,
    /// `"HS256"`, `"RS256"` or `"ES256"`.
    pub alg: String,
    /// HS256: the shared secret (its UTF-8 bytes), at least 32 bytes.
    pub secret: Option<String>,
    /// RS256 / ES256: PEM file with the public key (`PUBLIC KEY`) or a
    /// certificate (`CERTIFICATE`) holding it.
    pub pem: Option<String>,
}

/// `[[certificate]]`: an SSL certificate (behaviour.md §4.3). Paths are
/// relative to the configuration file's directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    /// Name domains and listeners refer to it by.
    pub name: String,
    /// PEM certificate chain, leaf first (RSA or ECDSA).
    pub cert: String,
    /// PEM private key of the leaf (PKCS#8, PKCS#1 or SEC1).
    pub key: String,
    /// PEM CA bundle that signs client certificates (§4.5); needed for
    /// `client_auth` on a domain using this certificate.
    pub ca: Option<String>,
}

/// `[[group.domain]]`: an independent domain (behaviour.md §4.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    /// Host name.
    pub name: String,
    /// `[[certificate]]` served for this name on TLS listeners (§4.3).
    pub certificate: Option<String>,
    /// `"1.2"` (default) or `"1.3"` (§4.4; rustls has no TLS 1.1).
    #[serde(default = "default_min_tls")]
    pub min_tls_version: String,
    /// Require a client certificate signed by the certificate's `ca` (§4.5).
    #[serde(default)]
    pub client_auth: bool,
    /// Answer plain-HTTP GET and HEAD with 301 to HTTPS (§4.6; default off).
    #[serde(default)]
    pub https_redirect: bool,
    /// Port in the redirect's `Location` (default 443, then omitted).
    #[serde(default = "default_https_port")]
    pub https_port: u16,
}

fn default_min_tls() -> String {
    "1.2".into()
}
fn default_https_port() -> u16 {
    443
}
