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
    /// The tenant (project ID) owning the app: the `tenantId` of its
    /// calls, what user throttling counts and excluded tenants name
    /// (§13.3, §27 C16).
    pub tenant: Option<String>,
}

/// `[group.api.auth]`: how callers of an API authenticate (§11.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// `"none"` (default), `"app"`, `"token"` (§11.6) or `"custom"` (a
    /// frontend `[[authorizer]]`, §11.9).
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
    /// The frontend `[[authorizer]]`: required with `type = "custom"`, and
    /// with `two_factor` (§11.7).
    pub authorizer: Option<String>,
    /// Two-factor authentication (§11.7): the API's app authentication
    /// and then `authorizer` must both pass.
    #[serde(default)]
    pub two_factor: bool,
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
            authorizer: None,
            two_factor: false,
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

/// `[[authorizer]]`: a custom authorizer, an HTTP endpoint standing in for
/// APIG's function (behaviour.md §11.9).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizerSpec {
    /// 3–64 characters: a letter, then letters, digits and `_` (§11.9.1).
    pub name: String,
    /// `"frontend"` (authenticates callers) or `"backend"` (authenticates
    /// the gateway's requests to a backend, §11.9.6).
    #[serde(rename = "type")]
    pub kind: String,
    /// `http://host[:port]/path` or `https://…`: where the event is POSTed.
    pub url: String,
    /// https: PEM CA bundle the endpoint's certificate must chain to
    /// (default: the system's roots).
    pub tls_ca: Option<String>,
    /// https: name sent as SNI and verified (default: the URL's host).
    pub tls_server_name: Option<String>,
    /// https: verify the endpoint's certificate (default true).
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Longest wait for the endpoint's answer, ms (default 5000, §11.9.1).
    #[serde(default = "default_authorizer_timeout")]
    pub timeout_ms: u64,
    /// Cache results this many seconds, 0–3600 (default 0: off, §11.9.4).
    #[serde(default)]
    pub cache_ttl_s: u64,
    /// Identity sources: request values the endpoint needs and the cache is
    /// keyed by. Required for a frontend authorizer with caching (§27 C8).
    #[serde(default)]
    pub identity: Vec<IdentitySourceSpec>,
    /// Send the request body in the event (frontend only).
    #[serde(default)]
    pub send_body: bool,
    /// With `send_body`: the largest body sent, bytes (default 1 MiB);
    /// larger → 413.
    #[serde(default = "default_authorizer_max_body")]
    pub max_body_bytes: u64,
    /// `user_data` of the event, 1–2048 characters.
    pub user_data: Option<String>,
    /// Relaxed mode (§11.9.5): let requests through, with an empty context,
    /// when the endpoint cannot be reached, times out or answers 5xx.
    #[serde(default)]
    pub relaxed: bool,
    /// Context values may be numbers and Booleans as well as strings
    /// (APIG's `authorizer_context_support_num_bool`; default on, §27 C5).
    #[serde(default = "default_true")]
    pub context_num_bool: bool,
    /// Treat `statusCode` 401 or 403 with `status: deny` as a deny rather
    /// than a function error (§27 C6; default off).
    #[serde(default)]
    pub deny_status_codes: bool,
}

fn default_authorizer_timeout() -> u64 {
    5000
}

fn default_authorizer_max_body() -> u64 {
    1024 * 1024
}

/// An identity source (§11.9.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySourceSpec {
    /// `"header"` or `"query"`.
    pub location: String,
    /// Header or query parameter name.
    pub name: String,
}
