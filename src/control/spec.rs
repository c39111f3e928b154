//! The serde mirror of the TOML configuration: what the operator wrote.
//!
//! Every table denies unknown fields, so a typo is an error with its key path.
//! Defaults are the documented values of behaviour.md §3 and §7.2; each
//! `DEFAULT_*` says its unit and source. Nothing here is used on the request
//! path: `compile` turns a validated spec into a `Snapshot`.

use std::collections::BTreeMap;

use serde::Deserialize;

mod security;
mod settings;
mod throttle;
pub use security::*;
pub use settings::*;
pub use throttle::*;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    /// `[server]`: threads, driver, shutdown.
    #[serde(default)]
    pub server: ServerSpec,
    /// `[[listener]]`: addresses to accept on.
    #[serde(default)]
    pub listener: Vec<ListenerSpec>,
    /// `[settings]`: limits and timeouts (behaviour.md §3).
    #[serde(default)]
    pub settings: SettingsSpec,
    /// `[[stage]]`: environments besides RELEASE (§5.1).
    #[serde(default)]
    pub stage: Vec<StageSpec>,
    /// `[[group]]`: API groups (§4.1).
    #[serde(default)]
    pub group: Vec<GroupSpec>,
    /// `[[certificate]]`: PEM certificates bound to domains (§4.3).
    #[serde(default)]
    pub certificate: Vec<CertificateSpec>,
    /// `[[app]]`: apps (credentials) for app authentication (§11.2).
    #[serde(default)]
    pub app: Vec<AppSpec>,
    /// `[[acl]]`: access-control policies (§15).
    #[serde(default)]
    pub acl: Vec<AclSpec>,
    /// `[[signature_key]]`: keys that sign backend requests (§12).
    #[serde(default)]
    pub signature_key: Vec<SignatureKeySpec>,
    /// `[[authorizer]]`: custom authorizers (§11.9).
    #[serde(default)]
    pub authorizer: Vec<AuthorizerSpec>,
    /// `[[token_issuer]]`: issuers of tokens for token authentication (§11.6).
    #[serde(default)]
    pub token_issuer: Vec<TokenIssuerSpec>,
    /// `[[throttle]]`: classic request-throttling policies (§13).
    #[serde(default)]
    pub throttle: Vec<ThrottleSpec>,
    /// `[[throttle2]]`: throttling 2.0 policies (§14).
    #[serde(default)]
    pub throttle2: Vec<Throttle2Spec>,
}

/// Name of the default environment (behaviour.md §5.1).
pub const RELEASE: &str = "RELEASE";

/// `[[stage]]`: an environment, selected by `X-Stage` (behaviour.md §5.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Name sent in `X-Stage`, matched exactly (case-sensitive).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `[[group]]`: an API group (behaviour.md §4.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Group name; `DEFAULT` is the catch-all group for unmatched hosts.
    pub name: String,
    /// Independent domains bound to this group (§4.2), lower-case host
    /// names, without TLS settings.
    #[serde(default)]
    pub domains: Vec<String>,
    /// `[[group.domain]]`: independent domains with TLS settings (§4.2).
    #[serde(default)]
    pub domain: Vec<DomainSpec>,
    /// `[group.variables.<STAGE>]`: `#name#` values per stage (§5.2).
    #[serde(default)]
    pub variables: BTreeMap<String, BTreeMap<String, String>>,
    /// `[group.responses.<set>.<TYPE>]`: gateway-response sets (§18). The
    /// set `default` always exists; entries given here replace its
    /// built-in ones.
    #[serde(default)]
    pub responses: BTreeMap<String, BTreeMap<String, ResponseEntrySpec>>,
    /// `[[group.api]]`: the group's APIs.
    #[serde(default)]
    pub api: Vec<ApiSpec>,
}

/// One entry of a gateway-response set (behaviour.md §18.1): only the
/// status and the content can change.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseEntrySpec {
    /// Status code (default: the type's status, §18.2).
    pub status: Option<u16>,
    /// JSON content with `$context.*` variables (default: §18.1 content).
    pub body: Option<String>,
}

/// `[[group.api]]`: one API (behaviour.md §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// API name, unique in the group.
    pub name: String,
    /// `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD`, `OPTIONS` or `ANY` (§6.2).
    pub method: String,
    /// Frontend path template (§6.3).
    pub path: String,
    /// `"exact"` (default) or `"prefix"` (§6.4).
    #[serde(default = "default_match", rename = "match")]
    pub match_mode: String,
    /// API ID for `$context.apiId` and the `apiId` system parameter
    /// (default: the name).
    pub id: Option<String>,
    /// Stages the API is published in (§5.3; default `["RELEASE"]`).
    #[serde(default = "default_stages")]
    pub stages: Vec<String>,
    /// `"HTTP"`, `"HTTPS"` or `"HTTP&HTTPS"` (default): the schemes the API
    /// accepts (§6.2).
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// CORS on (§17; default off).
    #[serde(default)]
    pub cors: bool,
    /// The group's gateway-response set used for errors (§6.1, §18).
    #[serde(default = "default_response_set")]
    pub gateway_response: String,
    /// `[group.api.auth]`: authentication (§11; default none).
    #[serde(default)]
    pub auth: AuthSpec,
    /// Access-control policy by stage (§15): `{ RELEASE = "office" }`.
    #[serde(default)]
    pub acl: BTreeMap<String, String>,
    /// Backend signature key by stage (§12): `{ RELEASE = "backend" }`.
    #[serde(default)]
    pub signature_key: BTreeMap<String, String>,
    /// Classic throttling policy by stage (§13.2): `{ RELEASE = "basic" }`.
    #[serde(default)]
    pub throttle: BTreeMap<String, String>,
    /// Throttling 2.0 policy by stage (§14.1); where both are bound, it
    /// replaces the classic one.
    #[serde(default)]
    pub throttle2: BTreeMap<String, String>,
    /// `[[group.api.param]]`: input parameters (§6.5).
    #[serde(default)]
    pub param: Vec<ParamSpec>,
    /// The default backend (§7.1).
    pub backend: BackendSpec,
    /// `[[group.api.policy]]`: backend policies, first match wins (§8).
    #[serde(default)]
    pub policy: Vec<PolicySpec>,
}

fn default_protocol() -> String {
    "HTTP&HTTPS".into()
}
fn default_stages() -> Vec<String> {
    vec![RELEASE.into()]
}
fn default_response_set() -> String {
    "default".into()
}

/// `[[group.api.param]]`: an input parameter (behaviour.md §6.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Name; not case-sensitive. PATH parameters name a `{name}` of the path.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// `"STRING"` (default) or `"NUMBER"`.
    #[serde(rename = "type", default = "default_param_type")]
    pub kind: String,
    /// Requests without it are rejected (400 APIG.0201).
    #[serde(default)]
    pub required: bool,
    /// Sent to the backend when the request omits the parameter.
    pub default: Option<String>,
    /// Shortest value, characters.
    pub min_length: Option<u32>,
    /// Longest value, characters.
    pub max_length: Option<u32>,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

fn default_param_type() -> String {
    "STRING".into()
}

/// `[[group.api.policy]]`: a backend policy (behaviour.md §8.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Policy name.
    pub name: String,
    /// `"any"` (default): one condition suffices; `"all"`: every one must hold.
    #[serde(default = "default_effective")]
    pub effective: String,
    /// `[[group.api.policy.condition]]`: at least one.
    #[serde(default)]
    pub condition: Vec<ConditionSpec>,
    /// The backend used when the policy matches.
    pub backend: BackendSpec,
}

fn default_effective() -> String {
    "any".into()
}

/// A policy condition (behaviour.md §8.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// `"source_ip"`, `"param"` (an input parameter) or `"authorizer"` (a
    /// frontend custom authorizer's context key).
    pub source: String,
    /// The input parameter or context key (not for `source_ip`).
    pub param: Option<String>,
    /// `"equal"` (default), `"enum"` or `"match"` (not for `source_ip`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Equal: one value. Enum: values (a list, or text separated by commas).
    /// Match: a regular expression (full match). Source IP: addresses and
    /// CIDRs (a list, or text separated by commas).
    pub value: ValueSpec,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ValueSpec {
    /// `value = "a"` (or `"a,b"` where a list is expected).
    One(String),
    /// `value = ["a", "b"]`.
    List(Vec<String>),
}

impl ValueSpec {
    /// The values: a list as given, or one text split on commas and trimmed.
    pub fn items(&self) -> Vec<String> {
        match self {
            ValueSpec::One(s) => s.split(',').map(|v| v.trim().to_string()).collect(),
            ValueSpec::List(v) => v.clone(),
        }
    }
}

/// `[[...backend.param]]`: an input parameter mapped to the backend (§9.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendParamSpec {
    /// Backend parameter name (a PATH target names a `{name}` of the backend path).
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// The input parameter it takes its value from.
    pub from: String,
}

/// `[[...backend.constant]]`: a constant parameter (§9.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantSpec {
    /// Backend parameter name.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// Value; percent-encoded for PATH and QUERY (§9.2 tables).
    pub value: String,
}

/// `[[...backend.system]]`: a system parameter (§9.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemParamSpec {
    /// Backend parameter name.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// `sourceIp`, `stage`, `apiId`, `appId`, `requestId`, or
    /// `authorizer.frontend.<key>` / `authorizer.backend.<key>`.
    pub from: String,
}

fn default_match() -> String {
    "exact".into()
}

/// `[group.api.backend]` (behaviour.md §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendSpec {
    /// `type = "http"`: an HTTP service (§7.2).
    Http(Box<HttpBackendSpec>),
    /// `type = "mock"`: a fixed response (§7.5).
    Mock(MockBackendSpec),
}

/// `type = "http"` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBackendSpec {
    /// `"http"` (default) or `"https"` (§7.2).
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// `host:port`, host an IP literal or a DNS name; port defaults to 80,
    /// or 443 for https (§7.2).
    pub address: String,
    /// https: PEM CA bundle the backend's certificate must chain to
    /// (default: the system's roots). Relative to the configuration file.
    pub tls_ca: Option<String>,
    /// https: name sent as SNI and checked against the certificate
    /// (default: the address's host).
    pub tls_server_name: Option<String>,
    /// https: verify the backend's certificate (default true). `false` is
    /// logged as a warning at every load.
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Backend path template; `{name}` takes the frontend path parameter `name`.
    /// Default `/` plus, for prefix APIs, the request's remainder (§6.4).
    #[serde(default = "default_path")]
    pub path: String,
    /// Backend method; `ANY` (default) forwards the request's method (§7.2).
    #[serde(default = "default_any")]
    pub method: String,
    /// Backend timeout, ms (§7.2; default `settings.backend_timeout_ms`).
    pub timeout_ms: Option<u64>,
    /// Send the client's `Host` instead of the backend address (§7.2).
    #[serde(default)]
    pub preserve_host: bool,
    /// A fixed `Host` header for the backend.
    pub host_header: Option<String>,
    /// Input parameters mapped to backend parameters (§9.1).
    #[serde(default)]
    pub param: Vec<BackendParamSpec>,
    /// Constant parameters (§9.2).
    #[serde(default)]
    pub constant: Vec<ConstantSpec>,
    /// System parameters (§9.3).
    #[serde(default)]
    pub system: Vec<SystemParamSpec>,
    /// A backend-type `[[authorizer]]` called before every request to this
    /// backend (§11.9.6); its context feeds `authorizer.backend.*`.
    pub authorizer: Option<String>,
}

pub(crate) fn default_true() -> bool {
    true
}
fn default_scheme() -> String {
    "http".into()
}
fn default_path() -> String {
    "/".into()
}
fn default_any() -> String {
    "ANY".into()
}

/// `type = "mock"` backend (behaviour.md §7.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockBackendSpec {
    /// Status code, 200–599 (default 200).
    #[serde(default = "default_status")]
    pub status: u16,
    /// Response headers, `{ "Content-Type" = "text/plain" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body.
    #[serde(default)]
    pub body: String,
}

fn default_status() -> u16 {
    200
}
